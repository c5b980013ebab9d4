/* watch.c - the events of a parallel map (watch.h): a listener put in
 * front of the caller's (and of the diagnostics' that the options or the
 * environment ask for) that passes every event on, and after the end of a
 * batch task adds a MAP_ITEMS event with the batch's number of items, read
 * from the batch's own arguments (begin and end, or its packed items). It
 * runs on the worker that ran the batch, like the event it follows. */
#include "watch.h"

#include <stdio.h>
#include <string.h>

#include "core/graph_impl.h"

static void pass(const weft__map_watch *w, const weft_event *ev) {
  for (const weft_listener *l = w->down; l; l = l->next)
    if (l->fn && (weft__diag_kinds(l->fn) & WEFT_EV_BIT(ev->kind)))
      l->fn(ev, l->ud);
}

/* The items of batch task ev->task, or 0 when it is no batch. */
static size_t batch_items(const weft_event *ev) {
  const weft_graph *g = ev->graph;
  if (!g || ev->task >= g->nnodes)
    return 0;
  const weft__node *n = &g->nodes[ev->task];
  const weft_value *a = &g->args[n->argoff];
  if ((ev->fn == weft__map_local_fn || ev->fn == weft__map_unpack_fn ||
       ev->fn == weft__map_reduce_local_fn) &&
      n->nargs >= 3 && a[1].type == WEFT_T_INT && a[2].type == WEFT_T_INT &&
      a[2].as.i >= a[1].as.i)
    return (size_t)(a[2].as.i - a[1].as.i);
  size_t c = 0;
  if (ev->fn == weft__map_reduce_batch_fn && n->nargs == 4 &&
      weft__map_payload_count(&a[3], &c) == 0)
    return c;
  return 0;
}

static void on_event(const weft_event *ev, void *ud) {
  const weft__map_watch *w = ud;
  pass(w, ev);
  size_t k;
  if (ev->kind == WEFT_EV_TASK_END && (k = batch_items(ev)) > 0) {
    weft_event m;
    memset(&m, 0, sizeof m);
    m.kind = WEFT_EV_MAP_ITEMS;
    m.worker = ev->worker;
    m.task = ev->task;
    m.fn = w->fn;
    m.time_ns = ev->time_ns;
    m.items = k;
    m.graph = ev->graph;
    m.workers = ev->workers;
    pass(w, &m);
  }
}

static void publish(const weft__map_watch *w, weft_event_kind kind,
                    int status) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.worker = -1;
  ev.fn = w->fn;
  ev.time_ns = weft_now_ns();
  ev.items = w->n;
  ev.workers = w->workers;
  ev.status = status;
  pass(w, &ev);
}

int weft__map_watch_begin(weft__map_watch *w, weft__map_cfg *cfg,
                          const weft_fn_info *fn, size_t n, char *err,
                          size_t errsize) {
  memset(w, 0, sizeof *w);
  weft_compute_opts *c = &cfg->copts;
  int rc = weft__diag_open(c->progress, c->trace, c->profile, c->listener,
                           &w->dg, err, errsize);
  if (rc)
    return rc;
  c->progress = c->profile = 0; /* the compute must not start its own */
  c->trace = NULL;
  w->down = w->dg ? weft__diag_chain(w->dg) : c->listener;
  if (!w->down)
    return 0; /* nobody listens: nothing to publish */
  w->fn = fn;
  w->n = n;
  w->workers = cfg->workers;
  w->l.fn = on_event;
  w->l.ud = w;
  c->listener = &w->l;
  publish(w, WEFT_EV_MAP_BEGIN, 0);
  return 0;
}

int weft__map_watch_end(weft__map_watch *w, int rc, char *err, size_t errsize) {
  if (w->down)
    publish(w, WEFT_EV_MAP_END, rc);
  char msg[512];
  int drc = weft__diag_close(w->dg, msg, sizeof msg);
  w->dg = NULL;
  if (drc && !rc) {
    if (err && errsize)
      snprintf(err, errsize, "%s", msg);
    return drc;
  }
  return rc;
}
