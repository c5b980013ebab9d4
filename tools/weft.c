/* weft.c - the `weft` command: a front door to the library for people who
 * have not written any C yet.
 *
 *   weft info     what this build has: version, cores, schedulers, Graphviz
 *   weft eval     an arithmetic expression as a task graph (eval.c)
 *   weft demo     every example of the course (examples/), one by one,
 *                 with a progress bar on the longer computes
 *                 (WEFT_PROGRESS=1) and a trace and task-stream picture of
 *                 the slow-square example (WEFT_TRACE)
 *
 * The examples are compiled into this program as well as into their own
 * executables: the build lists them in the generated weft_examples.h
 * (WEFT_EXAMPLES(X) expands X(name) once per examples/<name>.c), and each
 * defines int weft_example_<name>(void). */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#ifdef WEFT_HAVE_MPI
#include "weft/mpi.h"
#endif
#include "dash/dash_env.h"
#include "diag/dot.h"
#include "weft.h"
#include "weft_examples.h"

#if defined(__SANITIZE_ADDRESS__)
/* Graphviz's text layout goes through pango and fontconfig, whose caches
 * LeakSanitizer reports as lost at exit; they are not weft's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:libfontconfig.so\n";
}
#endif

#define DECLARE_EXAMPLE(name) int weft_example_##name(void);
WEFT_EXAMPLES(DECLARE_EXAMPLE)

typedef struct example {
  const char *name;
  int (*run)(void);
} example;

#define LIST_EXAMPLE(name) {#name, weft_example_##name},
static const example examples[] = {WEFT_EXAMPLES(LIST_EXAMPLE){NULL, NULL}};
static const size_t nexamples = sizeof examples / sizeof examples[0] - 1;

static void usage(FILE *out) {
  fprintf(out,
          "usage: weft <command> [arguments]\n"
          "\n"
          "weft %s: lazy task graphs, parallel schedulers and diagnostics "
          "for C.\n"
          "\n"
          "commands:\n"
          "  info                 version, cores, schedulers and Graphviz of "
          "this build\n"
          "  eval EXPRESSION      compute an arithmetic expression as a task "
          "graph, e.g.\n"
          "                       weft eval \"(3 + 7) * (2 + 8) * ((2 * 3) - "
          "1)\" --delay 0.2\n"
          "                       (weft eval --help for its options)\n"
          "  demo [NAME...]       run the course's examples (all, or the "
          "named ones);\n"
          "                       weft demo --list lists them\n"
          "  help [COMMAND]       this text, or a command's\n"
          "\n"
          "options:\n"
          "  -h, --help           this text\n"
          "  -V, --version        the version\n",
          weft_version());
}

/* ---- info ---- */

static int cmd_info(int argc, char **argv) {
  if (argc > 1) {
    fprintf(stderr,
            "weft info: unexpected argument '%s' (it takes none)\n"
            "usage: weft info\n",
            argv[1]);
    return 2;
  }
  printf("weft %s (headers %s)\n", weft_version(), WEFT_VERSION_STRING);
  printf("cores: %d logical, %d physical\n", weft_cpu_count(),
         weft_physical_cpu_count());
  printf("schedulers:");
  for (int s = WEFT_SCHED_DEFAULT + 1; s < WEFT_SCHED__COUNT; s++)
    printf(" %s (%s%s)", weft_scheduler_name((weft_scheduler)s),
           weft_scheduler_available((weft_scheduler)s) ? "yes" : "no",
           s == WEFT_SCHED_THREADS ? ", default" : "");
  printf("\n");
  const char *gv = weft__graphviz_version();
  if (gv)
    printf("graphviz: yes (%s): pictures in dot, svg, png and pdf\n", gv);
  else
    printf("graphviz: no: pictures in dot only\n");
  printf("examples: %zu:", nexamples);
  for (size_t i = 0; i < nexamples; i++)
    printf(" %s", examples[i].name);
  printf("\n");
  return 0;
}

/* ---- demo ---- */

/* The example whose computes the demo traces: two parallel maps of
 * one-second tasks, over threads and over processes. */
#define TRACED_EXAMPLE "seed001_slow_square"
#define TRACE_PATTERN "weft-demo-trace-%n.json"

/* Says where the trace files written since `since` are. */
static void say_traces(time_t since) {
  glob_t gl;
  if (glob("weft-demo-trace-*.json", 0, NULL, &gl) != 0)
    return;
  for (size_t i = 0; i < gl.gl_pathc; i++) {
    struct stat st;
    if (stat(gl.gl_pathv[i], &st) != 0 || st.st_mtime < since)
      continue;
    char svg[512];
    size_t len = strlen(gl.gl_pathv[i]);
    snprintf(svg, sizeof svg, "%.*s.svg", (int)(len - 5), gl.gl_pathv[i]);
    printf("trace: %s (open it in https://ui.perfetto.dev or "
           "chrome://tracing); task stream: %s\n",
           gl.gl_pathv[i], svg);
  }
  globfree(&gl);
}

static int cmd_demo(int argc, char **argv) {
  size_t nrun = 0, nfailed = 0;
  int bad = 0;
  const char *dash = NULL; /* --dashboard[=host:port] */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dashboard") == 0 ||
        strncmp(argv[i], "--dashboard=", 12) == 0) {
      dash = argv[i][11] == '=' ? argv[i] + 12 : "127.0.0.1:8787";
      for (int j = i; j < argc; j++) /* out of the list of names */
        argv[j] = argv[j + 1];
      argc--;
      i--;
      continue;
    }
    if (strcmp(argv[i], "--list") == 0) {
      for (size_t k = 0; k < nexamples; k++)
        printf("%s\n", examples[k].name);
      return 0;
    }
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      printf("usage: weft demo [--list] [--dashboard[=HOST:PORT]] "
             "[NAME...]\n\nRuns the course's "
             "examples (every one, or the named ones) and\nsays which "
             "passed. Pictures are written to the current directory.\n"
             "--dashboard serves the live web dashboard while they run "
             "(default\n127.0.0.1:8787; port 0: any free one), prints its "
             "link, and at the end\nwaits for Enter when stdin is a "
             "terminal.\n"
             "Computes longer than 0.2 s show a progress bar on stderr "
             "(WEFT_PROGRESS=0 turns\nit off); %s is traced: its Chrome "
             "trace (weft-demo-trace-N.json) and\ntask stream "
             "(weft-demo-trace-N.svg) are written here too.\n",
             TRACED_EXAMPLE);
      return 0;
    }
    int found = 0;
    for (size_t k = 0; k < nexamples; k++)
      found |= strcmp(argv[i], examples[k].name) == 0;
    if (!found) {
      fprintf(stderr, "weft demo: no example named '%s' (weft demo --list)\n",
              argv[i]);
      bad = 1;
    }
  }
  if (bad)
    return 2;
  const char *link = NULL;
  if (dash) { /* started now, so the link comes first */
    const weft_listener *l;
    char err[600];
    setenv("WEFT_DASHBOARD", dash, 1);
    if (weft__dash_env(dash, &l, err, sizeof err)) {
      fprintf(stderr, "weft demo: %s\n", err);
      return 1;
    }
    link = weft__dash_env_link();
    printf("dashboard: %s (open it in a browser)\n", link);
    fflush(stdout);
  }
  const char *failed[64];
  uint64_t t_all = weft_now_ns();
  setenv("WEFT_PROGRESS", "1", 0); /* unless the user said otherwise */
  const char *user_trace = getenv("WEFT_TRACE");
  for (size_t k = 0; k < nexamples; k++) {
    const example *ex = &examples[k];
    int chosen = argc <= 1;
    for (int i = 1; i < argc; i++)
      chosen |= strcmp(argv[i], ex->name) == 0;
    if (!chosen)
      continue;
    nrun++;
    printf("\n=== %s (%zu/%zu) ===\n", ex->name, k + 1, nexamples);
    fflush(stdout);
    uint64_t t0 = weft_now_ns();
    bool traced = !user_trace && strcmp(ex->name, TRACED_EXAMPLE) == 0;
    time_t since = time(NULL) - 1;
    if (traced)
      setenv("WEFT_TRACE", TRACE_PATTERN, 1);
    int rc = ex->run();
    if (traced) {
      unsetenv("WEFT_TRACE");
      fflush(stdout);
      say_traces(since);
    }
    fflush(stdout);
    fflush(stderr);
    double dt = (double)(weft_now_ns() - t0) / 1e9;
    printf("--- %s: %s (%.2f s)\n", ex->name, rc == 0 ? "ok" : "FAILED", dt);
    if (rc != 0 && nfailed < sizeof failed / sizeof failed[0])
      failed[nfailed] = ex->name;
    nfailed += rc != 0;
  }
  double dt = (double)(weft_now_ns() - t_all) / 1e9;
  printf("\ndemo: %zu example%s, %zu passed, %zu failed (%.2f s)\n", nrun,
         nrun == 1 ? "" : "s", nrun - nfailed, nfailed, dt);
  for (size_t k = 0; k < nfailed && k < sizeof failed / sizeof failed[0]; k++)
    printf("  failed: %s\n", failed[k]);
  if (link && isatty(STDIN_FILENO)) { /* a person is looking: let them */
    printf("dashboard: %s still serving; press Enter to stop\n", link);
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
      clearerr(stdin);
  }
  return nfailed ? 1 : 0;
}

/* ---- dispatch ---- */

#ifdef WEFT_HAVE_MPI
/* Whether the mpi scheduler is asked for: WEFT_SCHEDULER=mpi (in any case,
 * as the library reads it) or weft eval's --scheduler mpi (without
 * mpirun it then warns once and runs on threads, as WEFT_SCHEDULER=mpi
 * does, rather than failing for want of weft_mpi_init). */
static int wants_mpi(int argc, char **argv) {
  const char *sched = getenv("WEFT_SCHEDULER");
  if (sched && strcasecmp(sched, "mpi") == 0)
    return 1;
  if (argc < 2 || strcmp(argv[1], "eval") != 0)
    return 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      break;
    if (strcmp(a, "--scheduler") == 0 && i + 1 < argc)
      a = argv[++i];
    else if (strncmp(a, "--scheduler=", 12) == 0)
      a += 12;
    else
      continue;
    if (strcasecmp(a, "mpi") == 0)
      return 1;
  }
  return 0;
}
#endif

int main(int argc, char **argv) {
#ifdef WEFT_HAVE_MPI
  /* Under mpirun/srun every rank runs this: rank 0 goes on, the others
   * serve as workers inside weft_mpi_init until rank 0 is done. */
  if ((weft_mpi_launched() || wants_mpi(argc, argv)) &&
      weft_mpi_init(&argc, &argv))
    return 1;
#endif
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
    printf("weft %s\n", weft_version());
    return 0;
  }
  if (strcmp(cmd, "help") == 0) {
    if (argc > 2 && strcmp(argv[2], "eval") == 0)
      cli_eval_usage(stdout);
    else if (argc > 2 && strcmp(argv[2], "demo") == 0)
      return cmd_demo(2, (char *[]){"demo", "--help", NULL});
    else
      usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "info") == 0)
    return cmd_info(argc - 1, argv + 1);
  if (strcmp(cmd, "eval") == 0)
    return cli_eval(argc - 1, argv + 1);
  if (strcmp(cmd, "demo") == 0)
    return cmd_demo(argc - 1, argv + 1);
  fprintf(stderr, "weft: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return 2;
}
