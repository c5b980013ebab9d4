/* map.c - weft_map: a parallel, ordered map over an array of values, the
 * C form of joblib's Parallel(n_jobs=-1) and multiprocessing's Pool.map.
 *
 * How a call runs: the options are resolved once (scheduler and worker
 * count, the same way weft_compute resolves them), the n items are cut into
 * batches of consecutive items, and one graph with one task per batch is
 * computed. On the threads and sync schedulers a batch is a "local" task:
 * its arguments are a pointer to the call's state and its range, so it
 * reads inputs and writes outputs in place and nothing is copied. On the
 * procs scheduler a batch is "portable": it carries the function's name and
 * its items, and its result (the batch's outputs) comes back and is moved
 * into place. Either way the scheduler's work stealing spreads the batches
 * over the workers, and a failing item stops the compute.
 *
 * Also here: the option handling shared with map-reduce (reduce.c), and
 * the lazy weft_map_nodes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/graph_impl.h"
#include "core/registry.h"
#include "dash/dash_env.h"
#include "map_impl.h"
#include "sched/config.h"
#include "watch.h"
#include "weft/procs.h"

void weft_map_opts_init(weft_map_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->retries = -1;
}

int weft__map_error(const weft_map_opts *opts, int rc, const char *what,
                    const char *msg) {
  if (opts && opts->errbuf && opts->errbuf_size)
    snprintf(opts->errbuf, opts->errbuf_size, "%s: %s", what, msg);
  return rc;
}

const char *weft__map_item_msg(const char *m, char *buf, size_t size) {
  /* weft_compute's message is "task '<key>' (<fn>) failed: <message>"; a
   * batch's own message starts with "item ". */
  const char *p = strstr(m, ") failed: item ");
  if (p)
    return p + strlen(") failed: ");
  /* procs: "task '<f>[s:e]' (weft.map.batch) killed its worker ..." */
  static const char *const batch_fns[] = {"' (weft.map.batch) killed ",
                                          "' (weft.map.reduce_batch) killed "};
  if (strncmp(m, "task '", 6) != 0)
    return m;
  for (size_t k = 0; k < 2; k++) {
    const char *end = strstr(m, batch_fns[k]);
    if (!end)
      continue;
    const char *open = NULL; /* the last '[' of the key */
    for (const char *q = m + 6; q < end; q++)
      if (*q == '[')
        open = q;
    unsigned long long s, e;
    int used = 0;
    if (!open || end[-1] != ']' ||
        sscanf(open, "[%llu:%llu]%n", &s, &e, &used) != 2 ||
        open + used != end || e <= s)
      return m;
    const char *rest = end + strlen(batch_fns[k]) - strlen("killed ");
    int fn_len = (int)(open - (m + 6));
    if (e == s + 1)
      snprintf(buf, size, "item %llu (%.*s) %s", s, fn_len, m + 6, rest);
    else
      snprintf(buf, size, "one of items %llu to %llu (%.*s) %s", s, e - 1,
               fn_len, m + 6, rest);
    return buf;
  }
  return m;
}

void weft__map_begin(const weft_map_opts *opts) {
  if (opts && opts->errbuf && opts->errbuf_size)
    opts->errbuf[0] = '\0';
  if (opts && opts->item_code)
    *opts->item_code = 0;
}

int weft__map_compute_error(const weft_map_opts *opts, int rc, const char *what,
                            const weft_graph *g) {
  char buf[1200];
  if (opts && opts->item_code && rc == WEFT_ETASK)
    *opts->item_code = weft_graph_task_code(g);
  return weft__map_error(
      opts, rc, what, weft__map_item_msg(weft_graph_error(g), buf, sizeof buf));
}

int weft__map_check_fn(const char *what, const char *role,
                       const weft_fn_info *fn, int arity, char *err,
                       size_t errsize) {
  if (!fn || !fn->fn || !fn->name) {
    snprintf(err, errsize, "%s: NULL %s", what, role);
    return WEFT_EINVAL;
  }
  if (fn->arity != -1 && arity != fn->arity &&
      (arity > fn->arity || arity < weft_fn_min_arity(fn))) {
    snprintf(err, errsize, "%s: the %s %s takes %d argument%s; it must take %d",
             what, role, fn->name, fn->arity, fn->arity == 1 ? "" : "s", arity);
    return WEFT_EARITY;
  }
  return 0;
}

static int setup(const weft_fn_info *fn, const weft_fn_info *rfn, size_t n,
                 const weft_map_opts *opts, weft__map_cfg *cfg, char *err,
                 size_t errsize) {
  memset(cfg, 0, sizeof *cfg);
  weft_map_opts def;
  if (!opts) {
    weft_map_opts_init(&def);
    opts = &def;
  }
  weft_compute_opts *c = &cfg->copts;
  weft_compute_opts_init(c);
  c->scheduler = opts->scheduler;
  if (c->scheduler == WEFT_SCHED_DEFAULT && opts->procs)
    c->scheduler = WEFT_SCHED_PROCS;
  else if (c->scheduler == WEFT_SCHED_DEFAULT && opts->executor)
    c->scheduler = WEFT_SCHED_THREADS;
  if ((unsigned)c->scheduler >= WEFT_SCHED__COUNT) {
    snprintf(err, errsize, "unknown scheduler %d", (int)opts->scheduler);
    return WEFT_EINVAL;
  }
  c->workers = opts->workers;
  if (c->workers <= 0 && opts->physical)
    c->workers = weft_physical_cpu_count();
  c->executor = opts->executor;
  c->procs = opts->procs;
  c->listener = opts->listener;
  c->retries = opts->retries;
  c->ignore_env = opts->ignore_env;
  c->progress = opts->progress;
  c->trace = opts->trace;
  c->profile = opts->profile;

  weft__config rc_cfg;
  int rc = weft__config_resolve(c, &rc_cfg, err, errsize);
  if (rc)
    return rc;
  c->scheduler = rc_cfg.scheduler;
  c->workers = rc_cfg.workers;
  c->progress = rc_cfg.progress; /* diagnostics: the call's (watch.c) */
  c->profile = rc_cfg.profile;
  c->trace = rc_cfg.trace;
  if (rc_cfg.dashboard) { /* the process's dashboard sees the map */
    const weft_listener *dl;
    rc = weft__dash_env(rc_cfg.dashboard, &dl, err, errsize);
    if (rc)
      return rc;
    cfg->dash = *dl;
    cfg->dash.next = c->listener;
    c->listener = &cfg->dash;
  }
  c->ignore_env = 1; /* resolved: the compute must not read them again */
  cfg->workers = rc_cfg.workers;
  if (c->scheduler == WEFT_SCHED_SYNC)
    cfg->workers = 1;
  else if (c->scheduler == WEFT_SCHED_THREADS && c->executor)
    cfg->workers = weft_executor_workers(c->executor);
  else if (c->scheduler == WEFT_SCHED_PROCS && c->procs)
    cfg->workers = weft_procs_workers(c->procs);
  /* procs and mpi: batches that can leave the process */
  cfg->local =
      c->scheduler != WEFT_SCHED_PROCS && c->scheduler != WEFT_SCHED_MPI;
  if (!cfg->local) {
    if (c->scheduler == WEFT_SCHED_PROCS &&
        !weft_scheduler_available(WEFT_SCHED_PROCS)) {
      snprintf(err, errsize, "the procs scheduler is not part of this build");
      return WEFT_ENOTSUP;
    }
    if ((rc = weft__fn_check_registered(fn, err, errsize)) ||
        (rfn && (rc = weft__fn_check_registered(rfn, err, errsize))))
      return rc;
  }
  size_t per = (size_t)8 * (size_t)(cfg->workers > 0 ? cfg->workers : 1);
  cfg->batch = opts->batch_size ? opts->batch_size : (n + per - 1) / per;
  if (cfg->batch == 0)
    cfg->batch = 1;
  cfg->nbatches = n ? (n - 1) / cfg->batch + 1 : 0;
  if (cfg->nbatches > WEFT__MAX_NODES / 2) {
    snprintf(err, errsize, "%zu batches of %zu items are too many tasks",
             cfg->nbatches, cfg->batch);
    return WEFT_EINVAL;
  }
  return 0;
}

int weft__map_setup(const char *what, const weft_fn_info *fn,
                    const weft_fn_info *rfn, size_t n,
                    const weft_map_opts *opts, weft__map_cfg *cfg, char *err,
                    size_t errsize) {
  char msg[900];
  int rc = setup(fn, rfn, n, opts, cfg, msg, sizeof msg);
  if (rc)
    snprintf(err, errsize, "%s: %s", what, msg);
  return rc;
}

/* ---- weft_map ---- */

/* Arrays of one compute over nb batch nodes. */
typedef struct batches {
  weft_graph *g;
  weft_node **nodes;
  weft_value *res;
  weft_value **resp;
  size_t nb;
} batches;

static int batches_new(batches *bt, size_t nb) {
  memset(bt, 0, sizeof *bt);
  bt->nb = nb;
  bt->g = weft_graph_new();
  bt->nodes = malloc(nb * sizeof *bt->nodes);
  bt->res = malloc(nb * sizeof *bt->res);
  bt->resp = malloc(nb * sizeof *bt->resp);
  if (!bt->g || !bt->nodes || !bt->res || !bt->resp)
    return WEFT_ENOMEM;
  for (size_t b = 0; b < nb; b++) {
    bt->res[b] = weft_none();
    bt->resp[b] = &bt->res[b];
  }
  return 0;
}

static void batches_free(batches *bt) {
  if (bt->res)
    for (size_t b = 0; b < bt->nb; b++)
      weft_value_release(&bt->res[b]);
  weft_graph_free(bt->g);
  free(bt->nodes);
  free(bt->res);
  free(bt->resp);
}

static size_t batch_end(const weft__map_cfg *cfg, size_t n, size_t b) {
  size_t e = (b + 1) * cfg->batch;
  return e < n ? e : n;
}

/* Threads / sync: batches write outputs in place. */
static int map_local(const char *what, const weft_fn_info *fn, size_t n,
                     const weft_value *in, weft_value *out,
                     const weft__map_cfg *cfg, const weft_map_opts *opts) {
  size_t nb = cfg->nbatches;
  weft__map_job job = {fn, NULL, in, out, calloc(nb, 1), cfg->batch};
  batches bt;
  int rc = batches_new(&bt, nb);
  if (!rc && !job.done)
    rc = WEFT_ENOMEM;
  if (rc) {
    batches_free(&bt);
    free(job.done);
    for (size_t i = 0; i < n; i++)
      out[i] = weft_none();
    return weft__map_error(opts, rc, what, "out of memory");
  }
  int64_t pid = (int64_t)getpid();
  for (size_t b = 0; b < nb; b++) {
    weft_value a[4] = {weft_int((int64_t)(intptr_t)&job),
                       weft_int((int64_t)(b * cfg->batch)),
                       weft_int((int64_t)batch_end(cfg, n, b)), weft_int(pid)};
    bt.nodes[b] = weft_call_fn(bt.g, weft__map_local_fn, 4, a);
    if (bt.nodes[b] && nb <= 65536) { /* traces name the items, as procs */
      char key[256];
      snprintf(key, sizeof key, "%s[%zu:%zu]", fn->name, b * cfg->batch,
               batch_end(cfg, n, b));
      (void)weft_node_set_key(bt.g, bt.nodes[b], key);
    }
  }
  rc = weft_compute(bt.g, nb, bt.nodes, bt.resp, &cfg->copts);
  if (rc) {
    for (size_t b = 0; b < nb; b++) {
      size_t e = batch_end(cfg, n, b);
      for (size_t i = b * cfg->batch; i < e; i++) {
        if (job.done[b])
          weft_value_release(&out[i]);
        else
          out[i] = weft_none(); /* never written, or cleared on failure */
      }
    }
    weft__map_compute_error(opts, rc, what, bt.g);
  }
  batches_free(&bt);
  free(job.done);
  return rc;
}

/* Procs: batches carry the function's name and their items. */
static int map_portable(const char *what, const weft_fn_info *fn, size_t n,
                        const weft_value *in, weft_value *out,
                        const weft__map_cfg *cfg, const weft_map_opts *opts) {
  size_t nb = cfg->nbatches;
  for (size_t i = 0; i < n; i++)
    out[i] = weft_none();
  weft__map_job job = {fn, NULL, in, out, NULL, cfg->batch};
  int64_t pid = (int64_t)getpid();
  batches bt;
  weft_value name = weft_none();
  char msg[1024] = "";
  int rc = batches_new(&bt, nb);
  if (!rc)
    rc = weft_str_new(&name, fn->name);
  if (rc) {
    snprintf(msg, sizeof msg, "out of memory");
    goto done;
  }
  for (size_t b = 0; b < nb && !rc; b++) {
    size_t s = b * cfg->batch, e = batch_end(cfg, n, b), bad = 0;
    weft_value a[3] = {weft_value_retain(&name), weft_int((int64_t)s),
                       weft_none()};
    rc = weft__map_pack(in + s, e - s, &a[2], &bad);
    if (rc) {
      weft_value_release(&a[0]);
      if (rc == WEFT_ENOTSUP)
        snprintf(msg, sizeof msg,
                 "item %zu is a %s, which cannot leave the process", s + bad,
                 weft_type_name(in[s + bad].type));
      else
        snprintf(msg, sizeof msg, "out of memory");
      goto done;
    }
    weft_node *batch = weft_call_fn(bt.g, weft__map_batch_fn, 3, a);
    if (batch && nb <= 65536) { /* keys name the items in messages */
      char key[256];
      snprintf(key, sizeof key, "%s[%zu:%zu]", fn->name, s, e);
      (void)weft_node_set_key(bt.g, batch, key);
    }
    weft_value u[5] = {weft_int((int64_t)(intptr_t)&job), weft_int((int64_t)s),
                       weft_int((int64_t)e), weft_int(pid),
                       weft_node_ref(batch)};
    bt.nodes[b] = weft_call_fn(bt.g, weft__map_unpack_fn, 5, u);
    if (bt.nodes[b])
      (void)weft__node_set_local(bt.g, bt.nodes[b]);
  }
  rc = weft_compute(bt.g, nb, bt.nodes, bt.resp, &cfg->copts);
  if (rc)
    weft__map_compute_error(opts, rc, what, bt.g);
done:
  if (rc) {
    for (size_t i = 0; i < n; i++)
      weft_value_release(&out[i]);
    if (msg[0]) /* failed before the compute */
      weft__map_error(opts, rc, what, msg);
  }
  weft_value_release(&name);
  batches_free(&bt);
  return rc;
}

int weft_map(const weft_fn_info *fn, size_t n, const weft_value *inputs,
             weft_value *outputs, const weft_map_opts *opts) {
  char what[160], err[1024];
  snprintf(what, sizeof what, "weft_map(%s)",
           fn && fn->name ? fn->name : "NULL");
  weft__map_begin(opts);
  if (n && (!inputs || !outputs))
    return weft__map_error(opts, WEFT_EINVAL, what,
                           inputs ? "NULL output array" : "NULL input array");
  if (n && (uintptr_t)outputs < (uintptr_t)(inputs + n) &&
      (uintptr_t)inputs < (uintptr_t)(outputs + n))
    return weft__map_error(opts, WEFT_EINVAL, what,
                           "the output array overlaps the input array");
  weft__map_cfg cfg;
  int rc = weft__map_check_fn(what, "function", fn, 1, err, sizeof err);
  if (!rc)
    rc = weft__map_setup(what, fn, NULL, n, opts, &cfg, err, sizeof err);
  if (rc) {
    for (size_t i = 0; i < n; i++)
      outputs[i] = weft_none();
    if (opts && opts->errbuf && opts->errbuf_size) /* err names `what` */
      snprintf(opts->errbuf, opts->errbuf_size, "%s", err);
    return rc;
  }
  if (n == 0)
    return 0;
  weft__map_watch watch;
  rc = weft__map_watch_begin(&watch, &cfg, fn, n, err, sizeof err);
  if (rc) {
    for (size_t i = 0; i < n; i++)
      outputs[i] = weft_none();
    return weft__map_error(opts, rc, what, err);
  }
  rc = cfg.local ? map_local(what, fn, n, inputs, outputs, &cfg, opts)
                 : map_portable(what, fn, n, inputs, outputs, &cfg, opts);
  int wrc = weft__map_watch_end(&watch, rc, err, sizeof err);
  if (wrc && !rc)
    return weft__map_error(opts, wrc, what, err);
  return rc;
}

/* ---- weft_map_nodes ---- */

int weft_map_nodes(weft_graph *g, const weft_fn_info *fn, size_t n,
                   weft_node *const nodes[], weft_node *out[]) {
  if (!g)
    return WEFT_EINVAL;
  char err[512];
  int rc =
      weft__map_check_fn("weft_map_nodes", "function", fn, 1, err, sizeof err);
  if (rc)
    weft__graph_fail(g, rc, "%s", err);
  else if (n && (!nodes || !out))
    weft__graph_fail(g, WEFT_EINVAL, "weft_map_nodes: NULL %s array",
                     nodes ? "output" : "node");
  for (size_t i = 0; i < n && !weft_graph_status(g); i++) {
    weft_value a = weft_node_ref(nodes[i]);
    out[i] = weft_call_fn(g, fn, 1, &a);
  }
  rc = weft_graph_status(g);
  if (rc && out)
    for (size_t i = 0; i < n; i++)
      out[i] = NULL;
  return rc;
}
