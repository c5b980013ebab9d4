/* test_client_download.c - seed 003's ten image downloads: runs the example
 * (its own HTTP server on 127.0.0.1, libcurl downloads on the client's I/O
 * pool) with the files kept, then checks every file byte for byte against
 * images generated here independently, and that the concurrent run was
 * faster. Skipped when the build has no libmicrohttpd/libcurl. */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

static unsigned char *expected_image(int i, size_t *n) {
  const char head[] = "P6\n400 200\n255\n";
  *n = sizeof head - 1 + 400 * 200 * 3;
  unsigned char *p = malloc(*n);
  assert_non_null(p);
  memcpy(p, head, sizeof head - 1);
  size_t k = sizeof head - 1;
  for (int y = 0; y < 200; y++)
    for (int x = 0; x < 400; x++) {
      p[k++] = (unsigned char)((x * 7 + i * 31) & 255);
      p[k++] = (unsigned char)((y * 5 + i * 17) & 255);
      p[k++] = (unsigned char)(((x ^ y) + i * 13) & 255);
    }
  return p;
}

static void test_downloads(void **state) {
  (void)state;
  const char *bdir = getenv("WEFT_BUILD_DIR");
  if (!bdir)
    skip();
  char exe[1024], cmd[8192], out[1100];
  snprintf(exe, sizeof exe, "%s/example_seed003_image_downloads", bdir);
  assert_int_equal(access(exe, X_OK), 0);
  char cwd[1024];
  assert_non_null(getcwd(cwd, sizeof cwd));
  snprintf(out, sizeof out, "%s/images", cwd);
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && SEED003_IMAGES_DIR='%s' '%s' "
           "> '%s/log.txt' 2>&1", out, out, exe, cwd);
  int st = system(cmd);
  char logpath[1200];
  snprintf(logpath, sizeof logpath, "%s/log.txt", cwd);
  FILE *lf = fopen(logpath, "r");
  assert_non_null(lf);
  static char log[65536];
  size_t ln = fread(log, 1, sizeof log - 1, lf);
  log[ln] = '\0';
  fclose(lf);
  if (strstr(log, "skipped: this build has no libmicrohttpd")) {
    print_message("%s", log);
    skip();
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    print_error("the example failed:\n%s\n", log);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_contains(log, "http://127.0.0.1:");
  assert_contains(log, "(sequential)");
  assert_contains(log, "(concurrent");
  double seq = 0, conc = 0;
  const char *a = strstr(log, "Execution time: ");
  const char *b = strstr(log, "Total Execution Time ");
  assert_non_null(a);
  assert_non_null(b);
  seq = atof(a + strlen("Execution time: "));
  conc = atof(b + strlen("Total Execution Time "));
  assert_true(seq >= 10 * 0.150);  /* ten 150 ms answers one after another */
  assert_true(conc < seq / 3);      /* all at once */
  for (int i = 0; i < 10; i++) {
    char path[1300];
    snprintf(path, sizeof path, "%s/image-%d.ppm", out, i);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n;
    unsigned char *want = expected_image(i, &n);
    unsigned char *got = malloc(n + 16);
    size_t r = fread(got, 1, n + 16, f);
    fclose(f);
    assert_i64(r, n);
    assert_memory_equal(got, want, n);
    free(got);
    free(want);
  }
}

int main(void) {
  tu_watchdog(120);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_downloads)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
