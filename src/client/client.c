/* client.c - the client's life (new, close), its executor and procs pool
 * for whole-graph computes, and graphs turned into futures
 * (weft_client_compute, persist, weft_future_node).
 *
 * A graph computed through the client becomes one future per needed task:
 * all futures are made first, each wired to the futures of its inputs,
 * and only then started, so the graph may be freed as soon as the call
 * returns and results flow between tasks without any thread waiting. A node
 * made by weft_future_node is not a task there: it is the future itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/graph_impl.h"
#include "../opt/plan.h"
#include "../sched/config.h"
#include "impl.h"
#include "weft/dash.h"
#include "weft/procs.h"

void weft_client_opts_init(weft_client_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
}

static void set_err(char *buf, size_t size, const char *msg) {
  if (buf && size)
    snprintf(buf, size, "%s", msg);
}

int weft_client_new_msg(const weft_client_opts *opts, weft_client **out,
                        char *errbuf, size_t errbuf_size) {
  set_err(errbuf, errbuf_size, "");
  if (!out) {
    set_err(errbuf, errbuf_size, "weft_client_new: NULL out");
    return WEFT_EINVAL;
  }
  *out = NULL;
  weft_client_opts def;
  if (!opts) {
    weft_client_opts_init(&def);
    opts = &def;
  }
  char msg[256];
  if (opts->workers > 4096 || opts->io_workers > 4096) {
    snprintf(msg, sizeof msg,
             "weft_client_new: %d %s threads is more than 4096",
             opts->workers > 4096 ? opts->workers : opts->io_workers,
             opts->workers > 4096 ? "worker" : "I/O");
    set_err(errbuf, errbuf_size, msg);
    return WEFT_EINVAL;
  }
  if (opts->scheduler != WEFT_SCHED_DEFAULT &&
      opts->scheduler != WEFT_SCHED_THREADS &&
      opts->scheduler != WEFT_SCHED_PROCS) {
    set_err(errbuf, errbuf_size,
            "weft_client_new: the scheduler must be threads or procs");
    return WEFT_EINVAL;
  }
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.scheduler = opts->scheduler;
  co.workers = opts->workers;
  co.ignore_env = opts->ignore_env;
  weft__config cfg;
  msg[0] = '\0';
  int rc = weft__config_resolve(&co, &cfg, msg, sizeof msg);
  if (!rc && cfg.scheduler == WEFT_SCHED_SYNC)
    cfg.scheduler = WEFT_SCHED_THREADS; /* WEFT_SCHEDULER=sync: one thread */
  if (rc) {
    set_err(errbuf, errbuf_size, msg);
    return rc;
  }
  /* aligned: the client keeps hot counters on cache lines of their own */
  weft_client *c = aligned_alloc(64, (sizeof *c + 63) / 64 * 64);
  if (c)
    memset(c, 0, sizeof *c);
  if (!c) {
    set_err(errbuf, errbuf_size, "out of memory");
    return WEFT_ENOMEM;
  }
  atomic_init(&c->refs, 1);
  atomic_init(&c->closing, 0);
  atomic_init(&c->next_id, 1);
  c->workers = cfg.workers;
  c->scheduler = cfg.scheduler;
  c->io_max = opts->io_workers == 0 ? 64 : opts->io_workers < 0 ? 0
                                                              : opts->io_workers;
  c->has_io = c->io_max > 0;
  pthread_mutex_init(&c->wait_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&c->wait_cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&c->mu, NULL);
  rc = weft__pool_init(&c->cpu, c, "cpu", c->workers, false);
  if (!rc && c->has_io)
    rc = weft__pool_init(&c->io, c, "io", c->io_max, true);
  if (rc) {
    snprintf(msg, sizeof msg, "weft_client_new: cannot start %d threads: %s",
             c->workers, weft_strerror(rc));
    set_err(errbuf, errbuf_size, msg);
    weft__pool_destroy(&c->io);
    weft__pool_destroy(&c->cpu);
    pthread_mutex_destroy(&c->wait_mu);
    pthread_cond_destroy(&c->wait_cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return rc;
  }
  if (opts->dashboard) {
    weft_dash_opts dop;
    weft_dash_opts_init(&dop);
    dop.token = opts->dashboard_token;
    char dmsg[384];
    rc = weft_dash_parse(opts->dashboard, &dop, dmsg, sizeof dmsg);
    if (!rc)
      rc = weft_dash_start(&dop, &c->dash, dmsg, sizeof dmsg);
    if (rc) {
      char full[420];
      snprintf(full, sizeof full, "weft_client_new: %s", dmsg);
      set_err(errbuf, errbuf_size, full);
      weft_client_close(c);
      return rc;
    }
  }
  *out = c;
  return 0;
}

const char *weft_client_dashboard_link(const weft_client *c) {
  return c ? weft_dash_link(c->dash) : NULL;
}

const weft_listener *weft__client_dash_listener(weft_client *c) {
  return c ? weft_dash_listener(c->dash) : NULL;
}

int weft_client_new(const weft_client_opts *opts, weft_client **out) {
  return weft_client_new_msg(opts, out, NULL, 0);
}

void weft__client_unref(weft_client *c) {
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
    return;
  weft__pool_destroy(&c->cpu);
  if (c->has_io)
    weft__pool_destroy(&c->io);
  pthread_mutex_destroy(&c->wait_mu);
  pthread_cond_destroy(&c->wait_cv);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void weft_client_close(weft_client *c) {
  if (!c)
    return;
  /* From one of its own threads the close would wait for that very thread
   * to end: a hang. Refuse, saying so (the function returns nothing). */
  weft__pool *self = weft__pool_current();
  if (self == &c->cpu || (c->has_io && self == &c->io)) {
    fprintf(stderr, "weft_client_close: called from a task or callback of "
                    "that client, which would wait for itself; ignored "
                    "(close the client from another thread)\n");
    return;
  }
  atomic_store(&c->closing, 1);
  weft__streams_close(c); /* sources stop reading; steps still queued run */
  if (c->has_io)
    weft__pool_stop(&c->io);
  weft__pool_stop(&c->cpu);
  pthread_mutex_lock(&c->mu);
  weft__persisted *p = c->persisted;
  c->persisted = NULL;
  weft_executor *ex = c->ex;
  weft_procs *procs = c->procs;
  c->ex = NULL;
  c->procs = NULL;
  pthread_mutex_unlock(&c->mu);
  while (p) {
    weft__persisted *nx = p->next;
    weft_future_release(p->f);
    free(p->key);
    free(p);
    p = nx;
  }
  weft_executor_free(ex);
  weft_procs_free(procs);
  weft_dash_stop(c->dash); /* after the last compute that fed it */
  c->dash = NULL;
  weft__streams_free(c);
  weft__client_unref(c);
}

int weft_client_workers(const weft_client *c) { return c ? c->workers : 0; }
int weft_client_io_workers(const weft_client *c) { return c ? c->io_max : 0; }

weft_executor *weft_client_executor(weft_client *c) {
  if (!c || atomic_load(&c->closing))
    return NULL;
  pthread_mutex_lock(&c->mu);
  if (!c->ex && weft_executor_new(c->workers, &c->ex))
    c->ex = NULL;
  weft_executor *ex = c->ex;
  pthread_mutex_unlock(&c->mu);
  return ex;
}

weft_procs *weft_client_procs(weft_client *c) {
  if (!c || atomic_load(&c->closing) ||
      !weft_scheduler_available(WEFT_SCHED_PROCS))
    return NULL;
  pthread_mutex_lock(&c->mu);
  if (!c->procs && weft_procs_new(c->workers, NULL, &c->procs))
    c->procs = NULL;
  weft_procs *p = c->procs;
  pthread_mutex_unlock(&c->mu);
  return p;
}

int weft__client_compute_opts(weft_client *c, weft_compute_opts *o) {
  if (atomic_load(&c->closing))
    return WEFT_ECANCELED;
  weft_scheduler s =
      o->scheduler == WEFT_SCHED_DEFAULT ? c->scheduler : o->scheduler;
  o->scheduler = s;
  if (s == WEFT_SCHED_PROCS && !o->procs) {
    o->procs = weft_client_procs(c);
    if (!o->procs)
      return WEFT_ESYS;
  } else if (s == WEFT_SCHED_THREADS && !o->executor) {
    o->executor = weft_client_executor(c);
    if (!o->executor)
      return WEFT_ESYS;
  }
  return 0;
}

/* ---- futures as graph nodes ---- */

static int future_get(weft_task_ctx *ctx, const weft_value *args, size_t n,
                      weft_value *out) {
  weft_future *f = n == 1 ? weft_value_ptr(&args[0]) : NULL;
  if (!f)
    return weft_fail(ctx, "weft.future takes the future made by "
                          "weft_future_node");
  int rc = weft_future_result(f, out, -1);
  if (rc) {
    weft_fail(ctx, "%s", weft_future_error(f));
    return rc;
  }
  return 0;
}
WEFT_REGISTER_AS(future_get, "weft.future", future_get, 1);

static void release_future_ptr(void *p) { weft_future_release(p); }

weft_node *weft_future_node(weft_graph *g, weft_future *f) {
  if (!g)
    return NULL;
  if (!f)
    return weft__graph_fail(g, WEFT_EINVAL, "weft_future_node: NULL future");
  weft_value v;
  if (weft_ptr_new(&v, weft_future_retain(f), release_future_ptr)) {
    weft_future_release(f);
    return weft__graph_fail(g, WEFT_ENOMEM, "out of memory");
  }
  weft_node *n = weft_call_fn(g, WEFT_FN(future_get), 1, &v);
  if (n) {
    weft__node_set_local(g, n); /* a pointer: never to a worker process */
    char key[256];
    weft_future_key(f, key, sizeof key);
    (void)weft_node_set_key(g, n, key); /* a clash keeps the automatic key */
  }
  return n;
}

static weft_future *node_future(const weft_graph *g, uint32_t i) {
  const weft__node *nd = &g->nodes[i];
  if (nd->fn != WEFT_FN(future_get) || nd->nargs != 1)
    return NULL;
  return weft_value_ptr(&g->args[nd->argoff]);
}

static int compute_futures(weft_client *c, weft_graph *g, size_t n,
                           weft_node *const nodes[], weft_future *futs[],
                           bool persist) {
  if (!c || !g)
    return WEFT_EINVAL;
  if (n && !nodes)
    return weft__graph_msg(g, WEFT_EINVAL, "weft_client_compute: NULL nodes");
  if (n && !futs && !persist)
    return weft__graph_msg(g, WEFT_EINVAL,
                           "weft_client_compute: NULL futures array");
  for (size_t k = 0; futs && k < n; k++)
    futs[k] = NULL;
  if (g->status)
    return g->status;
  if (g->running)
    return weft__graph_msg(g, WEFT_EBUSY, "weft_client_compute: this graph "
                                          "is already being computed");
  /* A new compute, as in weft_compute: the previous message is gone, so
   * after a success weft_graph_error(g) says nothing. */
  g->err[0] = '\0';
  g->task_code = 0;
  if (n == 0)
    return 0;
  uint32_t *idx = malloc(n * sizeof *idx);
  if (!idx)
    return weft__graph_msg(g, WEFT_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++) {
    int rc = weft__node_index(g, nodes[k], &idx[k]);
    if (rc) {
      free(idx);
      return weft__graph_msg(g, rc, "weft_client_compute: node %zu is %s",
                             k + 1,
                             rc == WEFT_EINVAL
                                 ? "NULL (did an earlier call fail?)"
                                 : "a node of another graph");
    }
  }
  g->running = true;
  weft__plan plan;
  int rc = weft__plan_build(g, n, idx, &plan);
  weft_future **fs = rc ? NULL : calloc(g->nnodes, sizeof *fs);
  if (!rc && !fs)
    rc = weft__graph_msg(g, WEFT_ENOMEM, "out of memory");
  /* 1: a future for every needed task (a future node is its future) */
  for (uint32_t i = 0; !rc && i < g->nnodes; i++) {
    if (!weft__plan_needs(&plan, i))
      continue;
    weft_future *ext = node_future(g, i);
    if (ext) {
      fs[i] = weft_future_retain(ext);
      continue;
    }
    const weft__node *nd = &g->nodes[i];
    fs[i] = weft__future_alloc(c, nd->fn, nd->nargs, false);
    char key[512];
    weft__graph_key_of(g, i, key, sizeof key);
    if (!fs[i] || !(fs[i]->key = strdup(key)))
      rc = weft__graph_msg(g, WEFT_ENOMEM, "out of memory");
  }
  if (rc) {
    for (uint32_t i = 0; fs && i < g->nnodes; i++) {
      if (fs[i] && !node_future(g, i)) /* never started: nothing waits */
        atomic_store(&fs[i]->state, WEFT__FS_CANCELLED);
      weft_future_release(fs[i]);
    }
    free(fs);
    weft__plan_clear_outputs(g, n, idx);
    g->running = false;
    free(idx);
    return rc;
  }
  /* 2: arguments, each input wired to its producer's future */
  for (uint32_t i = 0; i < g->nnodes; i++) {
    if (!fs[i] || node_future(g, i))
      continue;
    const weft__node *nd = &g->nodes[i];
    weft_future *f = fs[i];
    const weft_value *a = &g->args[nd->argoff];
    weft_future *foreign = NULL;
    for (uint32_t k = 0; k < nd->nargs; k++) {
      if (a[k].type == WEFT__T_NODE) {
        weft_future *d = fs[(uint32_t)a[k].as.i];
        if (d->c != c) {
          foreign = d;
          continue;
        }
        f->args[k] = weft_future_arg(weft_future_retain(d));
      } else {
        f->args[k] = weft_value_retain(&a[k]);
      }
    }
    if (foreign) {
      char key[256];
      weft_future_key(foreign, key, sizeof key);
      weft__future_fail_setup(f, WEFT_EINVAL,
                              "task '%s' needs future '%s' of another client",
                              f->key, key);
      continue;
    }
    if (atomic_load(&c->closing)) {
      weft__future_fail_setup(f, WEFT_ECANCELED, "the client is closed");
      continue;
    }
    for (uint32_t k = 0; k < nd->nargs; k++)
      if (f->args[k].type == WEFT__T_FUTURE)
        weft__future_add_input(f, (weft_future *)(void *)f->args[k].as.obj);
  }
  /* 3: the outputs, then start everything */
  for (size_t k = 0; futs && k < n; k++)
    futs[k] = weft_future_retain(fs[idx[k]]);
  if (persist) {
    for (size_t k = 0; k < n; k++) {
      char key[512];
      weft__graph_key_of(g, idx[k], key, sizeof key);
      weft__persisted *p = malloc(sizeof *p);
      char *kc = strdup(key);
      if (!p || !kc) {
        free(p);
        free(kc);
        rc = weft__graph_msg(g, WEFT_ENOMEM, "out of memory persisting");
        break;
      }
      (void)weft_client_unpersist(c, key);
      p->key = kc;
      p->f = weft_future_retain(fs[idx[k]]);
      pthread_mutex_lock(&c->mu);
      p->next = c->persisted;
      c->persisted = p;
      pthread_mutex_unlock(&c->mu);
    }
  }
  for (uint32_t i = 0; i < g->nnodes; i++) {
    if (!fs[i])
      continue;
    if (!node_future(g, i))
      weft__future_start(fs[i]);
    weft_future_release(fs[i]);
  }
  free(fs);
  weft__plan_clear_outputs(g, n, idx);
  g->running = false;
  free(idx);
  return rc;
}

int weft_client_compute(weft_client *c, weft_graph *g, size_t n,
                        weft_node *const nodes[], weft_future *futs[]) {
  return compute_futures(c, g, n, nodes, futs, false);
}

int weft_client_persist(weft_client *c, weft_graph *g, size_t n,
                        weft_node *const nodes[], weft_future *futs[]) {
  return compute_futures(c, g, n, nodes, futs, true);
}

int weft_client_get(weft_client *c, const char *key, weft_future **out) {
  if (out)
    *out = NULL;
  if (!c || !key || !out)
    return WEFT_EINVAL;
  pthread_mutex_lock(&c->mu);
  for (weft__persisted *p = c->persisted; p; p = p->next)
    if (!strcmp(p->key, key)) {
      *out = weft_future_retain(p->f);
      break;
    }
  pthread_mutex_unlock(&c->mu);
  return *out ? 0 : WEFT_ENOTFOUND;
}

int weft_client_unpersist(weft_client *c, const char *key) {
  if (!c || !key)
    return WEFT_EINVAL;
  weft__persisted *found = NULL;
  pthread_mutex_lock(&c->mu);
  for (weft__persisted **pp = &c->persisted; *pp; pp = &(*pp)->next)
    if (!strcmp((*pp)->key, key)) {
      found = *pp;
      *pp = found->next;
      break;
    }
  pthread_mutex_unlock(&c->mu);
  if (!found)
    return WEFT_ENOTFOUND;
  weft_future_release(found->f);
  free(found->key);
  free(found);
  return 0;
}
