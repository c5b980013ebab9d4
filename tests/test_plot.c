/* test_plot.c - line plots (weft/plot.h, src/diag/plot.c) through PLplot.
 *
 * A PNG is a real PNG of the requested size, with far more bytes than a
 * blank page; an SVG parses as XML, holds the title, and its data line is
 * vertex for vertex an affine image of the data (tests/plot_check.py,
 * Debian's python3 + numpy, the data passed as .npy), for y alone, for x and
 * y, and for a constant series (the seed's row means); plots from several
 * threads at once all come out; bad data, formats, sizes and paths fail
 * with their code and a message naming the fault; a missing PLplot
 * (WEFT_PLPLOT_LIB) and a PLplot without its cairo driver (PLPLOT_DRV_DIR
 * without it) fail with messages naming the library and the package, in a
 * child process each, since a library is loaded once per process. */
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "weft/npy.h"
#include "weft/plot.h"

#if defined(__SANITIZE_ADDRESS__)
/* cairo's text goes through pango and fontconfig, whose caches LeakSanitizer
 * reports as lost at exit; PLplot keeps its driver table until exit. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:libfontconfig.so\nleak:libpango\nleak:libcairo.so\n"
         "leak:libplplot.so\nleak:libglib\nleak:libharfbuzz\n"
         "leak:libltdl.so\n";
}
#endif

#define assert_plot(want, got, err)                                            \
  do {                                                                         \
    int got_ = (got), want_ = (want);                                          \
    if (got_ != want_) {                                                       \
      print_error("%s\n  returned %s, want %s; message: %s\n", #got,           \
                  weft_err_name(got_), weft_err_name(want_), (err).text);      \
      fail();                                                                  \
    }                                                                          \
  } while (0)

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Checks the PNG signature and the IHDR size; returns the file size. */
static long check_png(const char *path, uint32_t w, uint32_t h) {
  unsigned char b[24];
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fread(b, 1, 24, f), 24);
  fclose(f);
  assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
  assert_memory_equal(b + 12, "IHDR", 4);
  uint32_t gw = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 |
                (uint32_t)b[18] << 8 | b[19];
  uint32_t gh = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 |
                (uint32_t)b[22] << 8 | b[23];
  assert_int_equal(gw, w);
  assert_int_equal(gh, h);
  return file_size(path);
}

static void save_npy(const char *path, size_t n, const double *v) {
  weft_errmsg err;
  int64_t shape[1] = {(int64_t)n};
  assert_plot(0, weft_npy_save(path, WEFT_F64, 1, shape, v, &err), err);
}

/* Runs plot_check.py; its exit status. */
static int plot_check(const char *svg, const char *title, const char *ynpy,
                      const char *xnpy) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 %s/tests/plot_check.py '%s' '%s' %s %s",
           getenv("WEFT_SOURCE_DIR"), svg, title, ynpy, xnpy ? xnpy : "");
  return system(cmd);
}

static void test_png_and_svg(void **state) {
  (void)state;
  enum { N = 500 };
  double y[N], x[N];
  for (int i = 0; i < N; i++) {
    y[i] = sin(i / 30.0) * exp(-i / 300.0);
    x[i] = pow(i, 1.5) - 40;
  }
  weft_plot_opts o;
  weft_plot_opts_init(&o);
  o.title = "damped sine #1 <&>";
  o.xlabel = "index";
  o.ylabel = "value";
  weft_errmsg err = {{0}};
  assert_plot(0, weft_plot("sine.png", N, NULL, y, &o, &err), err);
  assert_true(check_png("sine.png", 800, 600) > 10000);
  assert_plot(0, weft_plot("sine.svg", N, NULL, y, &o, &err), err);
  save_npy("sine_y.npy", N, y);
  assert_int_equal(
      plot_check("sine.svg", "damped sine #1 <&>", "sine_y.npy", NULL), 0);
  /* x and y, a grid, another size, the format named instead of the path's */
  o.grid = true;
  o.width = 400;
  o.height = 300;
  o.format = "svg";
  o.title = "y against x";
  assert_plot(0, weft_plot("xy.picture", N, x, y, &o, &err), err);
  save_npy("xy_x.npy", N, x);
  assert_int_equal(
      plot_check("xy.picture", "y against x", "sine_y.npy", "xy_x.npy"), 0);
  o.format = "PNG";
  assert_plot(0, weft_plot("xy.out", N, x, y, &o, &err), err);
  assert_true(check_png("xy.out", 400, 300) > 5000);
  /* a plot that does not match its data fails the check: the check can
   * fail (y reversed) */
  double r[N];
  for (int i = 0; i < N; i++)
    r[i] = y[N - 1 - i];
  save_npy("rev_y.npy", N, r);
  assert_true(plot_check("sine.svg", "damped sine #1 <&>", "rev_y.npy", NULL) !=
              0);
  assert_true(plot_check("sine.svg", "another title", "sine_y.npy", NULL) != 0);
}

static void test_constant_rows(void **state) {
  (void)state;
  enum { N = 2000 };
  double *y = malloc(N * sizeof *y);
  for (int i = 0; i < N; i++)
    y[i] = 0.2919265817264288; /* (cos(big_ones) ** 2).mean(axis=1) */
  weft_plot_opts o;
  weft_plot_opts_init(&o);
  o.title = "(cos(big_ones) ** 2).mean(axis=1)";
  weft_errmsg err = {{0}};
  assert_plot(0, weft_plot("rows.png", N, NULL, y, &o, &err), err);
  assert_true(check_png("rows.png", 800, 600) > 10000);
  assert_plot(0, weft_plot("rows.svg", N, NULL, y, NULL, &err), err);
  save_npy("rows.npy", N, y);
  assert_int_equal(plot_check("rows.svg", "", "rows.npy", NULL), 0);
  /* one point, and zeros */
  double z[3] = {0, 0, 0};
  assert_plot(0, weft_plot("one.svg", 1, NULL, z, NULL, &err), err);
  assert_plot(0, weft_plot("zeros.png", 3, z, z, NULL, &err), err);
  free(y);
}

typedef struct job {
  int k;
  int rc;
} job;

static void *plot_thread(void *arg) {
  job *j = arg;
  double y[64];
  for (int i = 0; i < 64; i++)
    y[i] = (i % 7) * j->k;
  char path[32];
  snprintf(path, sizeof path, "t%d.%s", j->k, j->k % 2 ? "png" : "svg");
  weft_errmsg err;
  j->rc = weft_plot(path, 64, NULL, y, NULL, &err);
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  pthread_t t[4];
  job jobs[4];
  for (int k = 0; k < 4; k++) {
    jobs[k] = (job){k + 1, -100};
    assert_int_equal(pthread_create(&t[k], NULL, plot_thread, &jobs[k]), 0);
  }
  for (int k = 0; k < 4; k++) {
    pthread_join(t[k], NULL);
    assert_plot(0, jobs[k].rc, (weft_errmsg){{0}});
  }
  assert_true(check_png("t1.png", 800, 600) > 5000);
  assert_true(file_size("t2.svg") > 5000);
}

static void test_bad_input(void **state) {
  (void)state;
  double y[10] = {0};
  weft_errmsg err = {{0}};
  weft_plot_opts o;
  weft_plot_opts_init(&o);
  assert_plot(WEFT_EINVAL, weft_plot(NULL, 10, NULL, y, NULL, &err), err);
  assert_plot(WEFT_EINVAL, weft_plot("a.png", 10, NULL, NULL, NULL, &err), err);
  assert_contains(err.text, "NULL y");
  assert_plot(WEFT_EINVAL, weft_plot("a.png", 0, NULL, y, NULL, &err), err);
  assert_contains(err.text, "a.png: no points to plot");
  y[7] = NAN;
  assert_plot(WEFT_EINVAL, weft_plot("a.png", 10, NULL, y, NULL, &err), err);
  assert_contains(err.text, "y[7] is NaN");
  y[7] = 0;
  double x[10] = {0, 1, 2, INFINITY};
  assert_plot(WEFT_EINVAL, weft_plot("a.png", 10, x, y, NULL, &err), err);
  assert_contains(err.text, "x[3] is infinite");
  assert_plot(WEFT_EINVAL, weft_plot("a.pdf", 10, NULL, y, NULL, &err), err);
  assert_contains(err.text, "format 'pdf' is not one weft_plot draws");
  assert_plot(WEFT_EINVAL, weft_plot("noext", 10, NULL, y, NULL, &err), err);
  assert_contains(err.text, "format ''");
  o.width = 5;
  assert_plot(WEFT_EINVAL, weft_plot("a.png", 10, NULL, y, &o, &err), err);
  assert_contains(err.text, "size 5 x 600");
  assert_plot(WEFT_EIO, weft_plot("no/such/dir/a.png", 10, NULL, y, NULL, &err),
              err);
  assert_contains(err.text, "no/such/dir/a.png: cannot write");
  assert_int_equal(file_size("a.png"), -1); /* nothing left behind */
}

/* Runs weft_plot(path) in a child process with the environment variable
 * name=value; returns its code, the message in msg. */
static int plot_in_child(const char *name, const char *value, const char *path,
                         char *msg, size_t size) {
  int fd[2];
  assert_int_equal(pipe(fd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fd[0]);
    setenv(name, value, 1);
    double y[3] = {1, 2, 3};
    weft_errmsg err = {{0}};
    int rc = weft_plot(path, 3, NULL, y, NULL, &err);
    char out[400];
    int n = snprintf(out, sizeof out, "%d %s", rc, err.text);
    if (write(fd[1], out, (size_t)n) != n)
      _exit(3);
    _exit(0);
  }
  close(fd[1]);
  char buf[400] = {0};
  size_t got = 0;
  ssize_t r;
  while ((r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)r;
  close(fd[0]);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  int rc = atoi(buf);
  const char *sp = strchr(buf, ' ');
  snprintf(msg, size, "%s", sp ? sp + 1 : "");
  return rc;
}

static void test_missing_library(void **state) {
  (void)state;
  char msg[400];
  assert_int_equal(plot_in_child("WEFT_PLPLOT_LIB", "/nonexistent/libplplot.so",
                                 "m.png", msg, sizeof msg),
                   WEFT_ENOTSUP);
  assert_contains(msg, "cannot load PLplot: /nonexistent/libplplot.so");
  assert_contains(msg, "libplplot17");
  assert_int_equal(file_size("m.png"), -1);

  /* PLplot's drivers without the cairo one: PNG says which package */
  const char *drv = "/usr/lib/x86_64-linux-gnu/plplot5.15.0/drivers";
  char src[512], dst[512];
  mkdir("drivers", 0755);
  const char *keep[] = {"svg.so", "svg.driver_info"};
  for (int k = 0; k < 2; k++) {
    snprintf(src, sizeof src, "%s/%s", drv, keep[k]);
    snprintf(dst, sizeof dst, "drivers/%s", keep[k]);
    unlink(dst);
    if (symlink(src, dst) != 0 || file_size(src) < 0) {
      print_message("no %s: the missing-driver case is not checked\n", src);
      return;
    }
  }
  char dir[4096];
  assert_non_null(getcwd(dir, sizeof dir - 16));
  strcat(dir, "/drivers");
  assert_int_equal(
      plot_in_child("PLPLOT_DRV_DIR", dir, "d.png", msg, sizeof msg),
      WEFT_ENOTSUP);
  assert_contains(msg, "d.png: PLplot has no 'pngcairo' device: install "
                       "plplot-driver-cairo");
  assert_int_equal(
      plot_in_child("PLPLOT_DRV_DIR", dir, "d.svg", msg, sizeof msg), 0);
  assert_true(file_size("d.svg") > 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      /* first: its children must not inherit a loaded PLplot */
      cmocka_unit_test(test_missing_library),
      cmocka_unit_test(test_png_and_svg),
      cmocka_unit_test(test_constant_rows),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
