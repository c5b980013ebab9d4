/* eval.c - `weft eval "(3 + 7) * (2 + 8) * ((2 * 3) - 1)"`: the course's
 * first example as a command. The expression becomes a task graph, one task
 * per operator (weft_add, weft_mul, ... through weft_op_fn), which is drawn
 * if asked (--svg, --dot) and computed; the result and the wall time are
 * printed.
 *
 * With --delay SECONDS each task first sleeps that long, so the schedule
 * becomes visible: the tasks are grouped in levels (a task's level is one
 * more than its deepest operand's), all tasks of a level can run at once,
 * and with at least as many workers as the widest level the run takes
 * levels x delay instead of tasks x delay. Sleeping needs no core, so the
 * default worker count is then the widest level (or the core count, if
 * larger), whatever the machine. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "diag/dot.h"
#include "expr.h"
#include "weft.h"

#define MAX_DELAY_WORKERS 1024

/* ---- the sleeping operators of --delay ----
 *
 * Task functions of their own, registered like any user's, so a worker
 * process could find them: slow_<op>(operands..., delay) sleeps, then runs
 * the built-in operator on the operands. */

static void sleep_seconds(double s) {
  if (!(s > 0))
    return;
  struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static int slow_apply(weft_op op, weft_task_ctx *ctx, const weft_value *a,
                      size_t n, weft_value *out) {
  double delay;
  if (n < 2 || weft_value_to_double(&a[n - 1], &delay))
    return weft_fail(ctx, "slow %s: the last argument must be a delay",
                     weft_op_symbol(op));
  sleep_seconds(delay);
  return weft_op_fn(op)->fn(ctx, a, n - 1, out);
}

#define SLOW_OP(name, OP, arity)                                               \
  static int slow_##name(weft_task_ctx *ctx, const weft_value *a, size_t n,    \
                         weft_value *out) {                                    \
    return slow_apply(OP, ctx, a, n, out);                                     \
  }                                                                            \
  WEFT_REGISTER_AS(slow_##name, "slow_" #name, slow_##name, (arity) + 1)
SLOW_OP(add, WEFT_OP_ADD, 2);
SLOW_OP(sub, WEFT_OP_SUB, 2);
SLOW_OP(mul, WEFT_OP_MUL, 2);
SLOW_OP(div, WEFT_OP_DIV, 2);
SLOW_OP(floordiv, WEFT_OP_FLOORDIV, 2);
SLOW_OP(mod, WEFT_OP_MOD, 2);
SLOW_OP(pow, WEFT_OP_POW, 2);
SLOW_OP(neg, WEFT_OP_NEG, 1);

static const weft_fn_info *slow_fn(weft_op op) {
  static const weft_fn_info *const fns[WEFT_OP__COUNT] = {
      WEFT_FN(slow_add), WEFT_FN(slow_sub),      WEFT_FN(slow_mul),
      WEFT_FN(slow_div), WEFT_FN(slow_floordiv), WEFT_FN(slow_mod),
      WEFT_FN(slow_pow), WEFT_FN(slow_neg)};
  return fns[op];
}

/* ---- options ---- */

typedef struct eval_opts {
  char *expr; /* the positional arguments joined by spaces (malloc'd) */
  double delay;
  const char *svg, *dot, *rankdir;
  weft_scheduler scheduler;
  int workers; /* 0: default */
  int quiet;
  const char *npy;  /* arrays: store the result */
  const char *plot; /* arrays: draw a 1-d result */
} eval_opts;

void cli_eval_usage(FILE *out) {
  fprintf(out,
          "usage: weft eval EXPRESSION [options]\n"
          "\n"
          "Builds a task graph of an arithmetic expression (one task per "
          "operator),\ncomputes it and prints the result and the wall time. "
          "Python's rules:\n+ - * / // %% ** (right-associative, tighter "
          "than a unary minus on its\nleft), unary -, parentheses; ints "
          "(64-bit) and floats.\n"
          "\n"
          "  --delay SECONDS    every task sleeps this long first: shows what "
          "runs in\n"
          "                     parallel (levels, workers, sequential "
          "estimate)\n"
          "  --scheduler NAME   sync or threads (default), or procs / mpi "
          "when built in\n"
          "                     (mpi: under mpirun -n N, the default "
          "there)\n"
          "  --workers N        worker count (default: all cores; with "
          "--delay, at\n"
          "                     least the widest level of the graph)\n"
          "  --svg FILE         write the graph picture as SVG (needs "
          "Graphviz)\n"
          "  --dot FILE         write the graph as Graphviz DOT text\n"
          "  --rankdir DIR      picture direction: TB (default), LR, BT or "
          "RL\n"
          "  --npy FILE         arrays: store the result as a .npy file\n"
          "  --plot FILE        arrays: draw a 1-d result as a line (PNG or "
          "SVG by the\n"
          "                     extension; needs PLplot)\n"
          "  -q, --quiet        print only the result\n"
          "\n"
          "example: weft eval \"(3 + 7) * (2 + 8) * ((2 * 3) - 1)\" --delay "
          "0.2 --svg g.svg\n"
          "\n"
          "An expression with names is a numpy-style array expression (see "
          "weft_array_parse\nin weft/array.h): creation functions, operators, "
          "math functions, slices,\nreductions; its repr, result and wall "
          "time are printed:\n"
          "  weft eval \"(cos(random((20000, 4000), chunks=(1000, 1000), "
          "seed=0)) ** 2).mean(axis=1)\" --npy out.npy\n");
}

/* The value of option `name`: "--name=value" or "--name value". */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
                             int *bad) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0)
    return NULL;
  if (a[n] == '=')
    return a + n + 1;
  if (a[n] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "weft eval: %s needs a value\n", name);
    *bad = 1;
    return NULL;
  }
  return argv[++*i];
}

static int parse_opts(int argc, char **argv, eval_opts *o) {
  memset(o, 0, sizeof *o);
  size_t len = 0;
  int bad = 0, only_expr = 0;
  o->expr = calloc(1, 1);
  for (int i = 1; i < argc && !bad && o->expr; i++) {
    const char *a = argv[i], *v;
    /* -q, --delay, --: options; -3, -(1 + 2), --3: expression */
    int is_opt = !only_expr && a[0] == '-' &&
                 (isalpha((unsigned char)a[1]) ||
                  (a[1] == '-' && (!a[2] || isalpha((unsigned char)a[2]))));
    if (!is_opt) { /* a piece of the expression: weft eval 1 + 2 works */
      size_t add = strlen(a);
      char *e = realloc(o->expr, len + add + 2);
      if (!e) {
        free(o->expr);
        o->expr = NULL;
        break;
      }
      o->expr = e;
      if (len)
        o->expr[len++] = ' ';
      memcpy(o->expr + len, a, add + 1);
      len += add;
    } else if (strcmp(a, "--") == 0) {
      only_expr = 1;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      o->quiet = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      cli_eval_usage(stdout);
      free(o->expr);
      o->expr = NULL;
      return -1;
    } else if ((v = opt_value(argc, argv, &i, "--delay", &bad))) {
      char *end;
      o->delay = strtod(v, &end);
      if (*end || end == v || !(o->delay >= 0) || o->delay > 3600) {
        fprintf(stderr,
                "weft eval: --delay '%s' is not a number of "
                "seconds from 0 to 3600\n",
                v);
        bad = 1;
      }
    } else if ((v = opt_value(argc, argv, &i, "--workers", &bad))) {
      char *end;
      long n = strtol(v, &end, 10);
      if (*end || end == v || n < 1 || n > 4096) {
        fprintf(stderr,
                "weft eval: --workers '%s' is not a number from 1 "
                "to 4096\n",
                v);
        bad = 1;
      }
      o->workers = (int)n;
    } else if ((v = opt_value(argc, argv, &i, "--scheduler", &bad))) {
      if (weft_scheduler_parse(v, &o->scheduler)) {
        fprintf(stderr,
                "weft eval: unknown scheduler '%s' (sync, threads, "
                "procs, mpi)\n",
                v);
        bad = 1;
      } else if (!weft_scheduler_available(o->scheduler)) {
        fprintf(stderr,
                "weft eval: the %s scheduler is not part of this "
                "build\n",
                weft_scheduler_name(o->scheduler));
        bad = 1;
      }
    } else if ((v = opt_value(argc, argv, &i, "--svg", &bad))) {
      o->svg = v;
    } else if ((v = opt_value(argc, argv, &i, "--dot", &bad))) {
      o->dot = v;
    } else if ((v = opt_value(argc, argv, &i, "--rankdir", &bad))) {
      o->rankdir = v;
    } else if ((v = opt_value(argc, argv, &i, "--npy", &bad))) {
      o->npy = v;
    } else if ((v = opt_value(argc, argv, &i, "--plot", &bad))) {
      o->plot = v;
    } else if (!bad) {
      fprintf(stderr, "weft eval: unknown option '%s'%s\n", a,
              strpbrk(a, "( .*+/") ? " (an expression that starts with '-' "
                                     "goes after --: weft eval -- \"-a\")"
                                   : "");
      bad = 1;
    }
  }
  if (!o->expr) {
    fprintf(stderr, "weft eval: out of memory\n");
    return 1;
  }
  if (!bad && !o->expr[0]) {
    fprintf(stderr, "weft eval: no expression given\n");
    bad = 1;
  }
  if (bad) {
    fprintf(stderr, "usage: weft eval EXPRESSION [options] (weft eval "
                    "--help)\n");
    free(o->expr);
    o->expr = NULL;
    return 2;
  }
  return 0;
}

/* ---- levels ---- */

typedef struct shape {
  size_t tasks, levels, widest;
  size_t *width; /* tasks per level, level 1 first */
} shape;

/* A task's level: 1 + its deepest operand's (numbers are level 0). */
static int measure(const expr_tree *t, shape *s) {
  size_t *level = calloc(t->n, sizeof *level);
  s->width = calloc(t->n + 1, sizeof *s->width);
  if (!level || !s->width) {
    free(level);
    return -1;
  }
  for (size_t i = 0; i < t->n; i++) {
    const expr_node *e = &t->nodes[i];
    if (e->kind == EXPR_NUM)
      continue;
    size_t l = level[e->lhs];
    if (e->kind == EXPR_BINARY && level[e->rhs] > l)
      l = level[e->rhs];
    level[i] = l + 1;
    s->tasks++;
    if (++s->width[l + 1] > s->widest)
      s->widest = s->width[l + 1];
    if (l + 1 > s->levels)
      s->levels = l + 1;
  }
  if (s->tasks == 0) { /* a lone number: one literal task */
    s->tasks = s->levels = s->widest = s->width[1] = 1;
  }
  free(level);
  return 0;
}

/* ---- the graph ---- */

/* What the compute reported: its scheduler and workers (COMPUTE_BEGIN, on
 * the calling thread) and the first task that failed (on any worker), so
 * an error can point at the operator's column. */
typedef struct run_info {
  int workers;
  const char *scheduler;
  _Atomic long failed_task; /* node index, -1: none */
} run_info;

static void on_event(const weft_event *ev, void *ud) {
  run_info *ri = ud;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) {
    ri->workers = ev->workers;
    ri->scheduler = ev->scheduler;
  } else if (ev->kind == WEFT_EV_TASK_FAIL) {
    long none = -1;
    atomic_compare_exchange_strong(&ri->failed_task, &none, (long)ev->task);
  }
}

/* Builds the graph of t; *root is the node to compute, col[node index] the
 * column of each task's operator. */
static int build(const expr_tree *t, double delay, weft_graph *g,
                 weft_node **root, int *col) {
  weft_node **node = calloc(t->n, sizeof *node);
  if (!node)
    return WEFT_ENOMEM;
  for (size_t i = 0; i < t->n; i++) {
    const expr_node *e = &t->nodes[i];
    if (e->kind == EXPR_NUM)
      continue;
    weft_value args[3];
    size_t nargs = 0;
    size_t operand[2] = {e->lhs, e->rhs};
    for (int k = 0; k < (e->kind == EXPR_BINARY ? 2 : 1); k++) {
      const expr_node *o = &t->nodes[operand[k]];
      args[nargs++] =
          o->kind == EXPR_NUM ? o->num : weft_node_ref(node[operand[k]]);
    }
    const weft_fn_info *fn = weft_op_fn(e->op);
    if (delay > 0) {
      fn = slow_fn(e->op);
      args[nargs++] = weft_double(delay);
    }
    node[i] = weft_call_fn(g, fn, nargs, args);
    long idx = weft_node_index(g, node[i]);
    if (idx >= 0)
      col[idx] = e->col;
  }
  const expr_node *last = &t->nodes[t->n - 1];
  *root = last->kind == EXPR_NUM ? weft_literal(g, last->num) : node[t->n - 1];
  if (last->kind == EXPR_NUM)
    col[0] = last->col;
  free(node);
  return weft_graph_status(g);
}

static void print_value(const weft_value *v) {
  char buf[128];
  if (v->type == WEFT_T_DOUBLE)
    weft__repr_double(v->as.d, buf, sizeof buf);
  else
    weft_value_format(v, buf, sizeof buf);
  printf("%s\n", buf);
}

/* Draws the expression's graph to path. The picture shows the plain
 * operators ("3 + 7"), so with --delay it is drawn from a graph of its own,
 * of the same shape, whose tasks do not sleep. */
static int picture(const expr_tree *t, const char *path, const char *format,
                   const char *rankdir, int quiet) {
  weft_graph *g = weft_graph_new();
  int *col = calloc(t->n + 1, sizeof *col);
  weft_node *root = NULL;
  int rc = !g || !col ? WEFT_ENOMEM : build(t, 0, g, &root, col);
  if (!rc) {
    weft_visualize_opts vo;
    weft_visualize_opts_init(&vo);
    vo.format = format;
    vo.rankdir = rankdir;
    rc = weft_visualize(g, 1, &root, path, &vo);
  }
  if (rc)
    fprintf(stderr, "weft eval: %s\n",
            g ? weft_graph_error(g) : weft_strerror(rc));
  else if (!quiet)
    printf("graph picture: %s\n", path);
  free(col);
  weft_graph_free(g);
  return rc;
}

int cli_eval(int argc, char **argv) {
  eval_opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc)
    return rc < 0 ? 0 : rc;

  /* a name (not an exponent like 1e5) makes it an array expression */
  for (const char *c = o.expr; *c; c++)
    if ((isalpha((unsigned char)*c) || *c == '_') &&
        !(c > o.expr && (isalnum((unsigned char)c[-1]) || c[-1] == '.') &&
          (*c == 'e' || *c == 'E'))) {
      if (o.delay > 0)
        fprintf(stderr, "weft eval: --delay is for arithmetic; ignored for "
                        "arrays\n");
      rc = cli_eval_array(o.expr, o.scheduler, o.workers, o.svg, o.dot,
                          o.rankdir, o.npy, o.plot, o.quiet);
      free(o.expr);
      return rc;
    }
  if (o.npy)
    fprintf(stderr, "weft eval: --npy is for arrays; ignored\n");
  if (o.plot)
    fprintf(stderr, "weft eval: --plot is for arrays; ignored\n");
  expr_tree t;
  char msg[160];
  int col = 0, status = 1;
  if (expr_parse(o.expr, &t, msg, sizeof msg, &col)) {
    fprintf(stderr, "error: %s at column %d\n  %s\n  %*s^\n", msg, col, o.expr,
            col - 1, "");
    free(o.expr);
    return 1;
  }
  shape s = {0};
  weft_graph *g = weft_graph_new();
  int *task_col = calloc(t.n + 1, sizeof *task_col);
  weft_node *root = NULL;
  if (!g || !task_col || measure(&t, &s)) {
    fprintf(stderr, "weft eval: out of memory\n");
    goto out;
  }
  if (build(&t, o.delay, g, &root, task_col)) {
    fprintf(stderr, "weft eval: %s\n", weft_graph_error(g));
    goto out;
  }
  if (o.dot && picture(&t, o.dot, "dot", o.rankdir, o.quiet))
    goto out;
  if (o.svg && picture(&t, o.svg, "svg", o.rankdir, o.quiet))
    goto out;

  run_info ri = {0, NULL, -1};
  weft_listener listener = {on_event, &ri, NULL};
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.scheduler = o.scheduler;
  co.workers = o.workers;
  co.listener = &listener;
  if (o.delay > 0 && !o.workers) {
    /* Sleeping tasks need no core: enough workers for the widest level. */
    size_t want = s.widest > (size_t)weft_cpu_count()
                      ? s.widest
                      : (size_t)weft_cpu_count();
    co.workers = want > MAX_DELAY_WORKERS ? MAX_DELAY_WORKERS : (int)want;
  }
  if (o.delay > 0 && !o.quiet) {
    printf("graph: %zu task%s in %zu level%s (tasks per level:", s.tasks,
           s.tasks == 1 ? "" : "s", s.levels, s.levels == 1 ? "" : "s");
    for (size_t l = 1; l <= s.levels && l <= 16; l++)
      printf("%s %zu", l > 1 ? "," : "", s.width[l]);
    printf("%s; the widest: %zu)\n", s.levels > 16 ? ", ..." : "", s.widest);
    printf("delay: %g s per task, so %.3f s one after another (sequential "
           "estimate), %.3f s along the longest path\n",
           o.delay, (double)s.tasks * o.delay, (double)s.levels * o.delay);
  }

  weft_value v;
  uint64_t t0 = weft_now_ns();
  rc = weft_compute1(g, root, &v, &co);
  double wall = (double)(weft_now_ns() - t0) / 1e9;
  if (ri.scheduler && strcmp(ri.scheduler, "sync") == 0)
    ri.workers = 1; /* the event gives the configured count */
  if (rc) {
    long task = atomic_load(&ri.failed_task);
    if (task >= 0 && (size_t)task < t.n + 1 && task_col[task] > 0)
      fprintf(stderr, "error: %s (the operator at column %d)\n",
              weft_graph_error(g), task_col[task]);
    else
      fprintf(stderr, "error: %s\n", weft_graph_error(g));
    goto out;
  }
  if (o.delay > 0 && !o.quiet)
    printf("workers: %d (%s scheduler)\n", ri.workers,
           ri.scheduler ? ri.scheduler : "?");
  print_value(&v);
  weft_value_release(&v);
  if (!o.quiet) {
    if (o.delay > 0)
      printf("wall time: %.3f s (sequential estimate %.3f s)\n", wall,
             (double)s.tasks * o.delay);
    else
      printf("wall time: %.6f s (%zu task%s, %s scheduler, %d worker%s)\n",
             wall, s.tasks, s.tasks == 1 ? "" : "s",
             ri.scheduler ? ri.scheduler : "?", ri.workers,
             ri.workers == 1 ? "" : "s");
  }
  status = 0;
out:
  free(s.width);
  free(task_col);
  weft_graph_free(g);
  expr_free(&t);
  free(o.expr);
  return status;
}
