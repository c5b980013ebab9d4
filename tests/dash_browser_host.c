/* dash_browser_host.c - the program tests/dash_browser.sh watches in
 * Chromium: serves the dashboard, starts `node dash_browser.js` on its link,
 * waits for the page to be live, then runs computes of known size (a tree
 * of sums over 64 slow leaves, twice) and checks that what the page reports
 * (tasks done, per function, task bars, computes) equals them. Exit 0 when
 * it does; else a message naming the difference. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

static long inc(long x) {
  struct timespec ts = {0, 15 * 1000000L}; /* 15 ms: the page sees it fill */
  nanosleep(&ts, NULL);
  return x + 1;
}
WEFT_DELAYED(inc, long, long);
static long pair(long a, long b) { return a + b; }
WEFT_DELAYED(pair, long, long, long);

enum { LEAVES = 64, COMPUTES = 2 };

static int fail(const char *what) {
  fprintf(stderr, "dash_browser_host: %s\n", what);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return fail("usage: dash_browser_host DASH_BROWSER_JS OUTDIR");
  signal(SIGPIPE, SIG_IGN);
  weft_dash_opts o;
  weft_dash_opts_init(&o);
  o.port = 0;
  weft_dash *d;
  char err[256];
  if (weft_dash_start(&o, &d, err, sizeof err))
    return fail(err);
  int fds[2];
  if (pipe(fds))
    return fail("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    char n[16];
    snprintf(n, sizeof n, "%d", COMPUTES);
    execlp("node", "node", argv[1], weft_dash_link(d), argv[2], n,
           (char *)NULL);
    perror("dash_browser_host: node");
    _exit(127);
  }
  close(fds[1]);
  FILE *from = fdopen(fds[0], "r");
  char line[512];
  if (!fgets(line, sizeof line, from) || strcmp(line, "ready\n")) {
    waitpid(pid, NULL, 0);
    return fail("the browser never said ready (see its message above)");
  }
  int ntasks = 0, npair = 0;
  for (int c = 0; c < COMPUTES; c++) {
    weft_graph *g = weft_graph_new();
    weft_node *level[LEAVES];
    for (int k = 0; k < LEAVES; k++)
      level[k] = weft_call(g, inc, k);
    npair = 0;
    for (int n = LEAVES; n > 1; n /= 2)
      for (int k = 0; k < n / 2; k++, npair++)
        level[k] = weft_call(g, pair, level[2 * k], level[2 * k + 1]);
    ntasks = LEAVES + npair;
    weft_compute_opts co;
    weft_compute_opts_init(&co);
    co.scheduler = WEFT_SCHED_THREADS;
    co.workers = 4;
    co.listener = weft_dash_listener(d);
    weft_value v;
    if (weft_compute(g, 1, &level[0], (weft_value *[]){&v}, &co) ||
        v.as.i != LEAVES * (LEAVES + 1) / 2)
      return fail("the compute failed or gave a wrong sum");
    weft_graph_free(g);
  }
  int done = -1, nt = -1, failed = -1, bars = -1, computes = -1, workers = -1,
      graph = -1, ninc = -1, npr = -1, partial = -1;
  int got = 0;
  while (fgets(line, sizeof line, from)) {
    fputs(line, stdout);
    if (sscanf(line,
               "result done=%d ntasks=%d failed=%d bars=%d computes=%d "
               "workers=%d graph=%d inc=%d pair=%d partial=%d",
               &done, &nt, &failed, &bars, &computes, &workers, &graph, &ninc,
               &npr, &partial) == 10)
      got = 1;
  }
  int status;
  waitpid(pid, &status, 0);
  weft_dash_stop(d);
  if (!WIFEXITED(status) || WEXITSTATUS(status))
    return fail("the browser script failed (its message is above)");
  if (!got)
    return fail("the browser script printed no result");
  printf("computation: %d computes of %d tasks (inc %d, pair %d), 4 workers\n",
         COMPUTES, ntasks, LEAVES, npair);
  if (done != ntasks || nt != ntasks || failed != 0)
    return fail("the page's task counts differ from the computation's");
  if (ninc != LEAVES || npr != npair)
    return fail("the page's progress per function differs");
  if (bars != ntasks)
    return fail("the task stream has not one bar per task");
  if (computes != COMPUTES)
    return fail("the page does not list every compute");
  if (workers < 1 || workers > 4 || graph != 2)
    return fail("the workers or graph panel is wrong");
  if (partial < 1)
    return fail("the page never showed the progress part-way");
  printf("dash_browser_host: the page agrees with the computation\n");
  return 0;
}
