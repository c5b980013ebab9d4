/* test_procs_death.c - a worker's death is seen from the process itself,
 * and told truly, whatever the program around weft does (issue 12.2-3):
 *   - a task that starts a background child (`system("sleep 20 &")`) and
 *     then crashes is reported within a second, although the child lives
 *     on; and that child holds none of weft's sockets (close-on-exec);
 *   - with SIGCHLD ignored by the program (the system then discards the
 *     exit status of its children), the same crash still reads "signal 11,
 *     Segmentation fault", an exit() "exit status 3", and a SIGKILL, which
 *     no process can report, says that the program's SIGCHLD setting hid
 *     it and what to do. */
#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "procs_util.h"

/* (pidfile): starts `sleep 20` in the background, writes its pid to
 * pidfile, then crashes. */
static int t_bg_crash(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)ctx, (void)n, (void)out;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "sleep 20 & echo $! > %s", weft_value_str(&a[0]));
  if (system(cmd) != 0)
    return weft_fail(ctx, "system() failed");
  segfault();
  return 0;
}
WEFT_REGISTER_ARITY(t_bg_crash, 1);

static int t_exit3(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  exit(3);
}
WEFT_REGISTER_ARITY(t_exit3, 1);

static int t_sigkill(weft_task_ctx *ctx, const weft_value *a, size_t n,
                     weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  raise(SIGKILL);
  return 0;
}
WEFT_REGISTER_ARITY(t_sigkill, 1);

/* Computes fn(arg) keyed `key` on pool: must fail with WEFT_EKILLED and
 * exactly the message for `how`, within a second. */
static void check_death(weft_procs *pool, const weft_fn_info *fn,
                        weft_value arg, const char *how) {
  weft_graph *g = weft_graph_new();
  weft_node *bad = weft_call_fn(g, fn, 1, &arg);
  assert_ok(weft_node_set_key(g, bad, "dies"), g);
  weft_compute_opts o = procs_opts(pool, 0);
  weft_value v;
  double t0 = tu_now();
  int rc = weft_compute1(g, bad, &v, &o);
  double took = tu_now() - t0;
  print_message("%s: %.3f s: %s\n", fn->name, took, weft_graph_error(g));
  assert_rc(WEFT_EKILLED, rc, g);
  char want[512];
  snprintf(want, sizeof want,
           "task 'dies' (%s) killed its worker 1 time "
           "(last: %s)",
           fn->name, how);
  assert_string_equal(weft_graph_error(g), want);
  if (took >= 1.0)
    fail_msg("the death took %.3f s to be reported (at most 1 s)", took);
  weft_graph_free(g);
}

/* The pid the task wrote, and whether that process holds a socket. */
static pid_t read_pid(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int pid = 0;
  assert_int_equal(fscanf(f, "%d", &pid), 1);
  fclose(f);
  unlink(path);
  assert_true(pid > 0);
  return (pid_t)pid;
}

static int sockets_held(pid_t pid) {
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char path[320], target[256];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    ssize_t k = readlink(path, target, sizeof target - 1);
    if (k > 0) {
      target[k] = '\0';
      if (strncmp(target, "socket:", 7) == 0 || strstr(target, "weft-bytes")) {
        print_message("pid %d holds fd %s -> %s\n", (int)pid, e->d_name,
                      target);
        n++;
      }
    }
  }
  closedir(d);
  return n;
}

static void bg_crash(weft_procs *pool) {
  char pidfile[128];
  snprintf(pidfile, sizeof pidfile, "/tmp/weft-bg-%d", (int)getpid());
  weft_value name;
  assert_ok(weft_str_new(&name, pidfile), NULL);
  check_death(pool, WEFT_FN(t_bg_crash), name, "signal 11, Segmentation fault");
  pid_t bg = read_pid(pidfile);
  int held = sockets_held(bg);
  kill(bg, SIGKILL);
  assert_int_equal(held, 0);
}

static void test_background_child(void **state) {
  (void)state;
  weft_procs *pool;
  assert_ok(weft_procs_new(2, NULL, &pool), NULL);
  bg_crash(pool);
  /* the pool goes on, with the dead worker replaced */
  bg_crash(pool);
  weft_procs_free(pool);
}

static void test_sigchld_ignored(void **state) {
  (void)state;
  struct sigaction ign, old;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
  weft_procs *pool;
  assert_ok(weft_procs_new(2, NULL, &pool), NULL);
  bg_crash(pool);
  check_death(pool, WEFT_FN(t_exit3), weft_int(0), "exit status 3");
  check_death(pool, WEFT_FN(t_sigkill), weft_int(0),
              "killed without a word, e.g. by SIGKILL; its exit status was "
              "discarded because this program ignores SIGCHLD: keep "
              "SIGCHLD's default action to see it");
  weft_procs_free(pool);
  assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
}

int main(void) {
  procs_test_env();
  tu_watchdog(60);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_background_child),
      cmocka_unit_test(test_sigchld_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
