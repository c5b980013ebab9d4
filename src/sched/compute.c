/* compute.c - weft_compute: validate the request, plan it, hand it to the
 * chosen scheduler, then deliver the outputs and leave the graph clean
 * (no result held, nothing leaked) whatever happened. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dash/dash_env.h"
#include "diag/session.h"
#include "mpi/hook.h"
#include "run.h"
#include "weft/client.h"
#include "weft/procs.h"

/* WEFT_TRACE_EXACT=1 (any value but empty or 0): the trace times every
 * task alone (docs/trace.md). */
static bool exact_wanted(void) {
  const char *e = getenv("WEFT_TRACE_EXACT");
  return e && *e && strcmp(e, "0") != 0;
}

/* After a failed run: releases every result still held (on success only
 * the outputs are, and deliver() takes care of them) and resets the pending
 * counts of the tasks that never ran. */
static void sweep_results(weft__run *r) {
  weft_graph *g = r->g;
  for (uint32_t i = 0; i < g->nnodes; i++) {
    weft__node *n = &g->nodes[i];
    if (weft_value_is_obj(&n->result))
      weft_value_release(&n->result);
    /* tasks that never ran were left part-way counted down */
    atomic_store_explicit(&n->pending, (int32_t)n->nrefs,
                          memory_order_relaxed);
  }
}

static void deliver(weft__run *r, size_t n, const uint32_t *idx,
                    weft_value *const outs[]) {
  for (size_t k = 0; k < n; k++) {
    weft__node *nd = &r->nodes[idx[k]];
    *outs[k] = (nd->flags & WEFT__NF_OUTPUT_DONE)
                   ? weft_value_retain(&nd->result)
                   : weft_none();
  }
  for (size_t k = 0; k < n; k++)
    weft_value_release(&r->nodes[idx[k]].result);
}

static int run_scheduler(weft__run *r, const weft__config *cfg,
                         const weft_compute_opts *opts) {
  switch (cfg->scheduler) {
  case WEFT_SCHED_SYNC:
    r->workers = 1;
    return weft__sched_sync(r);
  case WEFT_SCHED_THREADS: {
    if (opts && opts->executor)
      return weft__sched_threads(r, opts->executor);
    if (cfg->workers == 1) { /* no pool needed for one worker */
      r->workers = 1;
      return weft__sched_sync(r);
    }
    weft_executor *ex;
    int rc = weft_executor_new(cfg->workers, &ex);
    if (rc) {
      snprintf(r->msg, sizeof r->msg, "cannot start %d worker threads: %s",
               cfg->workers, weft_strerror(rc));
      return rc;
    }
    rc = weft__sched_threads(r, ex);
    weft_executor_free(ex);
    return rc;
  }
  case WEFT_SCHED_PROCS:
    if (weft__procs_available())
      return weft__sched_procs(r, cfg, opts);
    snprintf(r->msg, sizeof r->msg,
             "the procs scheduler is not part of this build");
    return WEFT_ENOTSUP;
  case WEFT_SCHED_MPI:
    return weft__sched_mpi(r, cfg, opts);
  default:
    break;
  }
  snprintf(r->msg, sizeof r->msg, "unknown scheduler %d", (int)cfg->scheduler);
  return WEFT_EINVAL;
}

int weft_compute(weft_graph *g, size_t n, weft_node *const nodes[],
                 weft_value *const outs[], const weft_compute_opts *opts) {
  if (!g)
    return WEFT_EINVAL;
  if (opts && opts->client) { /* the client's pool, started once and kept */
    weft_compute_opts o = *opts;
    o.client = NULL;
    int rc = weft__client_compute_opts(opts->client, &o);
    if (rc)
      return weft__graph_msg(g, rc, "weft_compute: %s",
                             rc == WEFT_ECANCELED
                                 ? "the client is closed"
                                 : "the client's pool could not start");
    weft_listener dash; /* the client's dashboard, before the caller's */
    const weft_listener *dl = weft__client_dash_listener(opts->client);
    if (dl) {
      dash = *dl;
      dash.next = o.listener;
      o.listener = &dash;
    }
    return weft_compute(g, n, nodes, outs, &o);
  }
  if (n && (!nodes || !outs))
    return weft__graph_msg(g, WEFT_EINVAL, "weft_compute: NULL %s array",
                           nodes ? "output" : "node");
  for (size_t k = 0; k < n; k++) {
    if (!outs[k])
      return weft__graph_msg(g, WEFT_EINVAL,
                             "weft_compute: output %zu has a NULL value "
                             "pointer",
                             k);
    *outs[k] = weft_none();
  }
  if (g->status)
    return g->status; /* the build error's message is already in g->err */
  if (g->running)
    return weft__graph_msg(g, WEFT_EBUSY,
                           "weft_compute: this graph is already being "
                           "computed");
  /* A new compute: the previous one's message and task code are gone, so
   * after a success weft_graph_error(g) says nothing. */
  g->err[0] = '\0';
  g->task_code = 0;
  if (n == 0)
    return 0;
  uint32_t small[16];
  uint32_t *idx = n <= 16 ? small : malloc(n * sizeof *idx);
  if (!idx)
    return weft__graph_msg(g, WEFT_ENOMEM, "out of memory");
  int rc = 0;
  for (size_t k = 0; k < n && !rc; k++) {
    rc = weft__node_index(g, nodes[k], &idx[k]);
    if (rc)
      weft__graph_msg(g, rc, "weft_compute: node %zu is %s", k,
                      rc == WEFT_EINVAL ? "NULL (did an earlier call fail?)"
                                        : "a node of another graph");
  }
  weft__config cfg;
  if (!rc)
    rc = weft__config_resolve(opts, &cfg, g->err, sizeof g->err);
  if (rc) {
    if (idx != small)
      free(idx);
    return rc;
  }

  const weft_listener *user = opts ? opts->listener : NULL;
  weft_listener dash; /* WEFT_DASHBOARD's, before the caller's */
  if (cfg.dashboard) {
    const weft_listener *dl;
    rc = weft__dash_env(cfg.dashboard, &dl, g->err, sizeof g->err);
    if (rc) {
      if (idx != small)
        free(idx);
      return rc;
    }
    dash = *dl;
    dash.next = user;
    user = &dash;
  }
  weft__diag *dg = NULL; /* listeners the options or WEFT_* ask for */
  if (cfg.progress || cfg.trace || cfg.profile) {
    rc = weft__diag_open(cfg.progress, cfg.trace, cfg.profile, user, &dg,
                         g->err, sizeof g->err);
    if (rc) {
      if (idx != small)
        free(idx);
      return rc;
    }
  }

  weft__run r;
  memset(&r, 0, sizeof r);
  r.g = g;
  r.listener = dg ? weft__diag_chain(dg) : user;
  r.want = weft__listener_kinds(r.listener);
  r.scheduler = weft_scheduler_name(cfg.scheduler);
  r.workers = cfg.scheduler == WEFT_SCHED_SYNC ? 1
              : cfg.scheduler == WEFT_SCHED_THREADS && opts && opts->executor
                  ? weft_executor_workers(opts->executor)
              : cfg.scheduler == WEFT_SCHED_PROCS && opts && opts->procs
                  ? weft_procs_workers(opts->procs)
              : cfg.scheduler == WEFT_SCHED_MPI ? weft__mpi_workers(cfg.workers)
                                                : cfg.workers;
  g->running = true;
  rc = weft__plan_build(g, n, idx, &r.plan);
  if (!rc && r.listener && !(r.fin = calloc(g->nnodes ? g->nnodes : 1, 1)))
    rc = weft__graph_msg(g, WEFT_ENOMEM, "out of memory");
  if (rc) {
    weft__plan_clear_outputs(g, n, idx);
    g->running = false;
    if (idx != small)
      free(idx);
    free(r.fin);
    weft__diag_close(dg, NULL, 0);
    return rc;
  }
  r.nodes = g->nodes;
  r.args = g->args;
  r.edges = g->edges;
  atomic_init(&r.outputs_left, (int32_t)r.plan.noutputs);
  if (r.listener) {
    weft__clock_get(&r.clk);
    weft__run_emit(&r, WEFT_EV_COMPUTE_BEGIN, -1, 0, 0, NULL);
    /* The trace records the tasks of the schedulers that run them here
     * straight into its lanes (procs and mpi publish their TASK_END). */
    if (cfg.scheduler == WEFT_SCHED_SYNC || cfg.scheduler == WEFT_SCHED_THREADS)
      r.sink = weft__trace_sink(r.listener, g, &r.clk, &r.nsink, &r.sink_l);
    for (const weft_listener *l = r.listener; l; l = l->next)
      if (l != r.sink_l && l->fn &&
          (weft__diag_kinds(l->fn) & WEFT_EV_BIT(WEFT_EV_TASK_END)))
        r.want_end = true;
    r.group = r.sink && !r.want_end &&
              !(r.want & WEFT_EV_BIT(WEFT_EV_TASK_START)) &&
              !exact_wanted();
    r.short_t = 1000; /* 1 us */
    if (r.clk.tsc) /* ticks per microsecond: 2^32 * 1000 / (ns per tick) */
      r.short_t = (uint64_t)(4294967296000.0 / (double)r.clk.mult);
  }

  rc = run_scheduler(&r, &cfg, opts);
  if (!rc && atomic_load(&r.failed))
    rc = r.status;
  if (!rc && atomic_load(&r.outputs_left) != 0) {
    rc = WEFT_ECANCELED; /* cannot happen on a correct scheduler */
    snprintf(r.msg, sizeof r.msg, "the %s scheduler stopped before every "
             "output was computed", r.scheduler);
  }
  deliver(&r, n, idx, outs);
  if (rc) {
    sweep_results(&r);
    snprintf(g->err, sizeof g->err, "%s", r.msg);
    g->task_code = rc == WEFT_ETASK ? r.task_code : 0;
  }
  if (r.listener && rc) /* the tasks it needed that never finished */
    for (uint32_t i = 0; i < g->nnodes; i++)
      if (weft__run_needs(&r, i) && !r.fin[i])
        weft__run_emit(&r, WEFT_EV_TASK_CANCEL, -1, i, WEFT_ECANCELED, NULL);
  if (r.listener)
    weft__run_emit(&r, WEFT_EV_COMPUTE_END, -1, 0, rc, rc ? r.msg : NULL);
  free(r.fin);
  weft__plan_clear_outputs(g, n, idx);
  g->running = false;
  if (dg) { /* stops the bar, writes the trace, prints the profile */
    char dmsg[512];
    int drc = weft__diag_close(dg, dmsg, sizeof dmsg);
    if (drc && !rc) {
      rc = drc;
      snprintf(g->err, sizeof g->err, "%s", dmsg);
    }
  }
  if (idx != small)
    free(idx);
  return rc;
}

/* Here rather than in config.c, which reads settings and knows no back end:
 * the dispatcher is the one file that knows them all. */
int weft_scheduler_available(weft_scheduler s) {
  return s == WEFT_SCHED_SYNC || s == WEFT_SCHED_THREADS ||
         (s == WEFT_SCHED_PROCS && weft__procs_available()) ||
         (s == WEFT_SCHED_MPI && weft__mpi_available());
}

int weft_graph_task_code(const weft_graph *g) { return g ? g->task_code : 0; }

int weft_compute1(weft_graph *g, weft_node *node, weft_value *out,
                  const weft_compute_opts *opts) {
  return weft_compute(g, 1, &node, &out, opts);
}
