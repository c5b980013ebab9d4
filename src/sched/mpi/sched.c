/* mpi/sched.c - the mpi scheduler on rank 0: one compute over the worker
 * ranks, driven from the calling thread, which is rank 0's only MPI caller.
 *
 * Ready tasks sit on a stack (the roots first, then newly ready successors
 * on top: depth first, as in sync.c and procs). A task is placed where most
 * of its input bytes already are (owner computes: a result stays on the
 * rank that made it); a task with no input on a worker rank goes to the
 * least loaded rank. A rank takes tasks up to its capacity: about 1.1x
 * its threads (Dask's worker-saturation), more for tiny tasks so that its
 * queue holds about 1 ms of work (by the run times its DONE records
 * report); the tasks beyond that - root tasks included - wait here, so
 * they are released in priority order as slots free up. The records for a
 * rank (TASK, FREE, END) gather in one buffer per rank and leave as one
 * message per rank per round; a worker sends back what finished in one
 * message too: never one round trip per task.
 *
 * An argument that is another task's result travels as a reference (task,
 * rank) when it lives on a worker rank: the consumer's rank fetches it
 * from the owner directly, never through rank 0; as a value when rank 0
 * has it (literals, results sent back). Results come back to rank 0 only
 * when needed here (outputs, inputs of tasks that run here) or small. When
 * the last consumer of a result has finished, every rank holding a copy is
 * told to drop it (FREE).
 *
 * Tasks that run here, in the program: weft_literal / weft_ref nodes
 * (identity) and WEFT__NF_LOCAL ones (weft_map's unpacking), like procs.
 *
 * Faults: a task error fails the compute as everywhere; a worker rank that
 * sent nothing for WEFT_MPI_TIMEOUT seconds while a compute is open (it
 * beats every 200 ms, from its communication thread, even while its tasks
 * run) is dead: the compute fails with WEFT_EKILLED and one line naming
 * rank, host and the tasks lost (in flight there, or results there still
 * needed); later computes use the other ranks. */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/keys.h"
#include "impl.h"
#include "sched/config.h"
#include "sched/ready.h"
#include "sched/run.h"

/* Rank 0's state across computes. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static weft__msends g_sends;
static bool *g_dead;
static uint32_t g_epoch;
static weft__mstats g_stats;

void weft__mpi_stats(weft__mstats *out) {
  pthread_mutex_lock(&g_mu);
  *out = g_stats;
  pthread_mutex_unlock(&g_mu);
}

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct msched {
  weft__run *r;
  int size;
  uint32_t epoch;
  /* per node */
  int32_t *loc;      /* rank holding the result: 0 = here, -1 = none yet */
  uint64_t *nbytes;  /* its encoded size */
  uint64_t *holders; /* ranks with a copy, bit rank % 64 */
  int32_t *rcons;    /* needed consumers not finished */
  int32_t *on;       /* rank running it, or -1 */
  uint64_t *sent_ns; /* with a listener: when it was sent to its rank */
  uint8_t *back;     /* a worker must send the result back */
  uint8_t *hasval;   /* nodes[i].result holds it here */
  /* ready tasks */
  weft__ready rq; /* ready tasks, for the ranks and for here */
  /* per rank */
  int *inflight, *capk;
  double *avg_us;
  uint64_t *last;
  bool *sent;
  weft_buf *batch;
  uint64_t *bytes; /* placement scratch */
  int rr;          /* round robin among equally loaded ranks */
  weft_task_ctx ctx;
  weft__scratch sc;
  weft_buf in;
} msched;

static bool stopped(const msched *s) {
  return atomic_load_explicit(&s->r->stop, memory_order_relaxed) ||
         atomic_load_explicit(&s->r->done, memory_order_relaxed);
}

/* Task i is done: its newly ready successors go onto the ready stacks
 * (ready.h). */
static void ready_successors(msched *s, uint32_t i) {
  uint32_t q = weft__ready_successors(&s->rq, s->r, i);
  if (q != UINT32_MAX) {
    weft__run_failf(s->r, q, -1, WEFT_ENOMEM, "out of memory");
  }
}

/* Every rank holding a copy of p's result drops it. */
static void free_remote(msched *s, uint32_t p) {
  uint64_t h = s->holders[p];
  s->holders[p] = 0;
  for (int k = 1; h && k < s->size; k++) {
    if (!((h >> (k % 64)) & 1) || g_dead[k])
      continue;
    weft_buf *b = &s->batch[k];
    if (weft__pput_u8(b, WEFT__MR_FREE) || weft__pput_u32(b, s->epoch) ||
        weft__pput_u32(b, p))
      weft__run_failf(s->r, UINT32_MAX, k, WEFT_ENOMEM, "out of memory");
  }
}

/* Task i finished (here or there): its inputs' remote copies may go. */
static void consumed(msched *s, uint32_t i) {
  weft__run *r = s->r;
  weft__node *n = &r->nodes[i];
  const weft_value *a = &r->args[n->argoff];
  for (uint32_t k = 0; n->nrefs && k < n->nargs; k++) {
    if (a[k].type != WEFT__T_NODE)
      continue;
    uint32_t p = (uint32_t)a[k].as.i;
    if (--s->rcons[p] == 0 && s->loc[p] > 0)
      free_remote(s, p);
  }
}

static void run_local(msched *s) {
  s->sc.last_t = 0; /* (events) the wait since the last local task is not
                       this one's (as in procs) */
  while (s->rq.lsp && !stopped(s)) {
    uint32_t i = s->rq.local[--s->rq.lsp];
    s->ctx.worker = -1;
    int rc = weft__run_task(s->r, &s->ctx, &s->sc, i);
    if (rc < 0)
      return;
    s->loc[i] = 0;
    s->hasval[i] = 1;
    consumed(s, i);
    if (rc == 0)
      ready_successors(s, i);
  }
}

/* ---- placement and task records ---- */

/* How many tasks rank k may hold. */
static int capacity(const msched *s, int k) {
  int th = weft__mpi_g.ranks[k].threads;
  int cap = (th * 11 + 9) / 10; /* ceil(1.1 x threads) */
  double us = s->avg_us[k];
  if (us >= 0 && us < 1000) {
    double per = 1 + 1000 / (us + 1);
    int deep = th * (per > 64 ? 64 : (int)per);
    if (deep > cap)
      cap = deep;
  }
  return cap;
}

/* The rank for task i, or -1 when every rank is full. */
static int place(msched *s, uint32_t i) {
  weft__run *r = s->r;
  weft__node *n = &r->nodes[i];
  const weft_value *a = &r->args[n->argoff];
  int best = -1;
  uint64_t most = 0;
  for (uint32_t k = 0; n->nrefs && k < n->nargs; k++) {
    if (a[k].type != WEFT__T_NODE)
      continue;
    uint32_t p = (uint32_t)a[k].as.i;
    int at = s->loc[p];
    if (at <= 0 || s->hasval[p])
      continue; /* here: it travels inside the task record anyway */
    s->bytes[at] += s->nbytes[p] + 1;
  }
  for (uint32_t k = 0; n->nrefs && k < n->nargs; k++) {
    if (a[k].type != WEFT__T_NODE)
      continue;
    int at = s->loc[(uint32_t)a[k].as.i];
    if (at <= 0 || !s->bytes[at])
      continue;
    if (s->bytes[at] > most && !g_dead[at] && s->inflight[at] < s->capk[at]) {
      most = s->bytes[at];
      best = at;
    }
    s->bytes[at] = 0;
  }
  if (best > 0)
    return best;
  /* Earliest start: the least loaded rank with room. */
  double load = 2;
  for (int j = 0; j < s->size - 1; j++) {
    int k = 1 + (s->rr + j) % (s->size - 1);
    if (g_dead[k] || s->inflight[k] >= s->capk[k])
      continue;
    double l = (double)s->inflight[k] / s->capk[k];
    if (l < load) {
      load = l;
      best = k;
    }
  }
  if (best > 0)
    s->rr = best % (s->size - 1);
  return best;
}

/* Appends task i's record to rank k's batch. */
static int put_task(msched *s, int k, uint32_t i, char *why, size_t whysize) {
  weft__run *r = s->r;
  weft__node *n = &r->nodes[i];
  weft_buf *b = &s->batch[k];
  size_t mark = b->len;
  const char *key =
      (n->flags & WEFT__NF_KEYED) ? weft__keys_name(&r->g->keys, i) : NULL;
  int rc = weft__pput_u8(b, WEFT__MR_TASK);
  if (!rc)
    rc = weft__pput_u32(b, s->epoch);
  if (!rc)
    rc = weft__pput_u32(b, i);
  if (!rc)
    rc = weft__pput_bytes(b, n->fn->name, strlen(n->fn->name));
  if (!rc)
    rc = weft__pput_bytes(b, key, key ? strlen(key) : 0);
  if (!rc)
    rc = weft__pput_u8(b, s->back[i] ? WEFT__MF_BACK : 0);
  if (!rc)
    rc = weft__pput_varint(b, n->nargs);
  const weft_value *a = n->nargs ? &r->args[n->argoff] : NULL;
  for (uint32_t j = 0; !rc && j < n->nargs; j++) {
    weft_wire_error err = {0};
    const weft_value *v = &a[j];
    if (v->type == WEFT__T_NODE) {
      uint32_t p = (uint32_t)v->as.i;
      if (s->loc[p] > 0 && (s->loc[p] == k || !s->hasval[p])) {
        rc = weft__pput_u8(b, 1);
        if (!rc)
          rc = weft__pput_u32(b, p);
        if (!rc)
          rc = weft__pput_varint(b, (uint64_t)s->loc[p]);
        s->holders[p] |= 1ull << (k % 64);
        continue;
      }
      v = &r->nodes[p].result;
    }
    rc = weft__pput_u8(b, 0);
    if (!rc)
      rc = weft_wire_encode(v, b, &err);
    if (rc == WEFT_ENOTSUP)
      snprintf(why, whysize, "argument %u cannot be sent to rank %d: %.200s", j + 1,
               k, err.text);
  }
  if (rc)
    b->len = mark;
  return rc;
}

static void dispatch(msched *s) {
  weft__run *r = s->r;
  while (s->rq.sp && !stopped(s)) {
    uint32_t i = s->rq.stack[s->rq.sp - 1];
    int k = place(s, i);
    if (k < 0)
      return;
    s->rq.sp--;
    char why[300] = "";
    int rc = put_task(s, k, i, why, sizeof why);
    if (rc) {
      s->ctx.worker = k;
      s->ctx.message = why[0] ? strdup(why) : NULL;
      weft__run_fail(r, &s->ctx, i, rc);
      return;
    }
    s->inflight[k]++;
    g_stats.tasks++;
    s->on[i] = k;
    s->sent[k] = true;
    if (r->listener) {
      weft_event ev;
      memset(&ev, 0, sizeof ev);
      ev.kind = WEFT_EV_TASK_START;
      ev.worker = k;
      ev.task = i;
      ev.fn = r->nodes[i].fn;
      ev.time_ns = ev.start_ns = s->sent_ns[i] = weft_now_ns();
      weft__run_publish(r, &ev);
    }
  }
}

/* ---- what comes back ---- */

static int on_done(msched *s, int k, weft__prd *rd) {
  weft__run *r = s->r;
  uint32_t epoch, i, st, us;
  const uint8_t *msg;
  size_t nmsg;
  uint64_t nbytes;
  uint8_t has;
  if (weft__prd_u32(rd, &epoch) || weft__prd_u32(rd, &i) ||
      weft__prd_u32(rd, &st) || weft__prd_bytes(rd, &msg, &nmsg) ||
      weft__prd_u64(rd, &nbytes) || weft__prd_u32(rd, &us) ||
      weft__prd_u8(rd, &has))
    return WEFT_EWIRE;
  weft_value v = weft_none();
  if (has) {
    size_t used = 0;
    weft_wire_error err = {0};
    int rc =
        weft_wire_decode(rd->p, (size_t)(rd->end - rd->p), &used, &v, &err);
    if (rc)
      return rc;
    rd->p += used;
  }
  if (epoch != s->epoch || i >= r->g->nnodes || s->on[i] != k) {
    weft_value_release(&v); /* of an earlier compute */
    return 0;
  }
  s->on[i] = -1;
  s->inflight[k]--;
  s->avg_us[k] = s->avg_us[k] < 0 ? us : s->avg_us[k] * 0.875 + us * 0.125;
  s->capk[k] = capacity(s, k);
  if (stopped(s)) {
    weft_value_release(&v);
    return 0;
  }
  if (st) {
    char m[600];
    snprintf(m, sizeof m, "%.*s", (int)nmsg, (const char *)msg);
    s->ctx.worker = k;
    s->ctx.message = m[0] ? strdup(m) : NULL;
    weft__run_fail(r, &s->ctx, i, (int32_t)st);
    weft_value_release(&v);
    return 0;
  }
  s->loc[i] = k;
  s->nbytes[i] = nbytes;
  s->holders[i] |= 1ull << (k % 64);
  s->hasval[i] = has;
  if (r->listener) {
    /* the slice runs from the send to the answer (README: Diagnostics
       under MPI); the size is the value's (weft_value_nbytes) when it came
       back, else its encoded size on the rank */
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = WEFT_EV_TASK_END;
    ev.worker = k;
    ev.task = i;
    ev.fn = r->nodes[i].fn;
    ev.start_ns = s->sent_ns[i];
    ev.time_ns = weft_now_ns();
    ev.bytes = has ? weft_value_nbytes(&v) : nbytes;
    weft__run_publish(r, &ev);
  }
  consumed(s, i);
  if (s->rcons[i] == 0)
    free_remote(s, i); /* an output only: it came back */
  if (weft__run_complete(r, i, v) == 0)
    ready_successors(s, i);
  return 0;
}

static int on_message(msched *s, int k, const uint8_t *p, size_t n) {
  weft__prd rd = {p, p + n};
  while (rd.p < rd.end) {
    uint8_t op;
    if (weft__prd_u8(&rd, &op))
      return WEFT_EWIRE;
    if (op == WEFT__MR_BEAT)
      continue;
    if (op != WEFT__MR_DONE)
      return WEFT_EWIRE;
    int rc = on_done(s, k, &rd);
    if (rc)
      return rc;
  }
  return 0;
}

/* Rank k is dead: fail the compute naming what was lost. */
static void on_dead(msched *s, int k, double silent) {
  weft__run *r = s->r;
  g_dead[k] = true;
  weft__msend_drop(&g_sends, k);
  char list[400] = "";
  size_t len = 0;
  int lost = 0;
  uint32_t first = UINT32_MAX; /* a task it was running: its TASK_FAIL */
  for (uint32_t i = 0; i < r->g->nnodes; i++) {
    if (!weft__run_needs(r, i))
      continue;
    bool gone =
        s->on[i] == k || (s->loc[i] == k && !s->hasval[i] && s->rcons[i] > 0);
    if (!gone)
      continue;
    if (first == UINT32_MAX && s->on[i] == k)
      first = i;
    if (lost++ < 4) {
      char key[128];
      weft__graph_key_of(r->g, i, key, sizeof key);
      int w = snprintf(list + len, sizeof list - len, "%s'%s'", len ? ", " : "",
                       key);
      if (w > 0 && (size_t)w < sizeof list - len)
        len += (size_t)w;
    }
  }
  const weft__mrank *rk = &weft__mpi_g.ranks[k];
  char line[700];
  snprintf(line, sizeof line,
           "rank %d (host %s, pid %d) died or stopped answering (silent for "
           "%.1f s); %d task%s lost%s%s%s",
           k, rk->host, rk->pid, silent, lost, lost == 1 ? "" : "s",
           lost ? ": " : "", list, lost > 4 ? ", ..." : "");
  if (r->listener) { /* as procs does for a worker process: the dashboard's
                        log and the trace show it */
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = WEFT_EV_WORKER_LOST;
    ev.worker = k;
    ev.pid = rk->pid;
    ev.message = line;
    weft__run_publish(r, &ev);
  }
  weft__run_failf(s->r, first, k, WEFT_EKILLED, "%s", line);
}

static void flush(msched *s) {
  for (int k = 1; k < s->size; k++) {
    if (!s->batch[k].len)
      continue;
    if (g_dead[k]) {
      weft_buf_clear(&s->batch[k]);
      continue;
    }
    if (weft__msend_post(&g_sends, k, WEFT__MT_SCHED, &s->batch[k]))
      on_dead(s, k, 0);
    g_stats.msgs_out++;
  }
  weft__msend_reap(&g_sends);
}

static void loop(msched *s) {
  uint64_t idle_ns = 2000, last_progress = weft__mnow(),
           timeout = (uint64_t)(weft__mpi_g.timeout_s * 1e9);
  bool stats = weft__mpi_g.stats;
  while (!stopped(s)) {
    bool progressed = false;
    int src = -1, tag = 0, rc = 0;
    uint64_t cpu0 = stats ? thread_cpu_ns() : 0;
    while (!stopped(s) && (rc = weft__mrecv(&s->in, &src, &tag)) == 1) {
      progressed = true;
      if (src <= 0 || src >= s->size || tag != WEFT__MT_DONE) {
        rc = WEFT_EWIRE;
        break;
      }
      s->last[src] = weft__mnow();
      g_stats.msgs_in++;
      if ((rc = on_message(s, src, s->in.data, s->in.len)))
        break;
    }
    if (rc < 0) {
      weft__run_failf(s->r, UINT32_MAX, src, rc,
               "mpi scheduler: a bad message from rank %d (%s)", src,
               weft_strerror(rc));
      break;
    }
    size_t before = s->rq.sp;
    dispatch(s);
    progressed |= s->rq.sp != before;
    flush(s);
    if (s->rq.lsp && !stopped(s)) {
      run_local(s);
      progressed = true;
    }
    if (stopped(s))
      break;
    int inflight = 0;
    uint64_t now = weft__mnow();
    for (int k = 1; k < s->size; k++) {
      inflight += s->inflight[k];
      if (!g_dead[k] && s->sent[k] && now - s->last[k] > timeout) {
        on_dead(s, k, (double)(now - s->last[k]) / 1e9);
        return;
      }
    }
    if (!inflight && !s->rq.sp && !s->rq.lsp)
      return; /* nothing left to wait for (compute.c reports it) */
    if (s->rq.sp && !inflight) {
      bool any = false;
      for (int k = 1; k < s->size; k++)
        any |= !g_dead[k];
      if (!any) {
        weft__run_failf(s->r, UINT32_MAX, -1, WEFT_EKILLED,
                 "no worker rank is left alive");
        return;
      }
    }
    if (progressed) {
      if (stats) /* the work, not the waiting */
        g_stats.cpu_ns += thread_cpu_ns() - cpu0;
      last_progress = weft__mnow();
      idle_ns = 2000;
      continue;
    }
    if (weft__mnow() - last_progress < WEFT__MPI_SPIN_NS) {
      sched_yield(); /* a DONE is likely on its way */
      continue;
    }
    struct timespec ts = {0, (long)idle_ns};
    nanosleep(&ts, NULL);
    if (idle_ns < 200000)
      idle_ns *= 2;
  }
}

/* Without worker ranks: the threads scheduler. */
static int run_threads(weft__run *r, const weft__config *cfg) {
  weft_executor *ex;
  r->workers = cfg->workers;
  if (cfg->workers == 1)
    return weft__sched_sync(r);
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

static int alloc_state(msched *s, uint32_t nn, int size) {
  s->loc = malloc(nn * sizeof *s->loc);
  s->on = malloc(nn * sizeof *s->on);
  s->sent_ns = calloc(nn, sizeof *s->sent_ns);
  s->nbytes = calloc(nn, sizeof *s->nbytes);
  s->holders = calloc(nn, sizeof *s->holders);
  s->rcons = calloc(nn, sizeof *s->rcons);
  s->back = calloc(nn, 1);
  s->hasval = calloc(nn, 1);
  s->inflight = calloc((size_t)size, sizeof *s->inflight);
  s->capk = calloc((size_t)size, sizeof *s->capk);
  s->avg_us = malloc((size_t)size * sizeof *s->avg_us);
  s->last = calloc((size_t)size, sizeof *s->last);
  s->sent = calloc((size_t)size, sizeof *s->sent);
  s->batch = calloc((size_t)size, sizeof *s->batch);
  s->bytes = calloc((size_t)size, sizeof *s->bytes);
  if (!s->loc || !s->on || !s->sent_ns || !s->nbytes || !s->holders || !s->rcons || !s->back ||
      !s->hasval || !s->inflight || !s->capk || !s->avg_us || !s->last ||
      !s->sent || !s->batch || !s->bytes)
    return WEFT_ENOMEM;
  for (uint32_t i = 0; i < nn; i++)
    s->loc[i] = s->on[i] = -1;
  return 0;
}

static void free_state(msched *s) {
  free(s->loc);
  free(s->on);
  free(s->sent_ns);
  free(s->nbytes);
  free(s->holders);
  free(s->rcons);
  free(s->back);
  free(s->hasval);
  free(s->inflight);
  free(s->capk);
  free(s->avg_us);
  free(s->last);
  free(s->sent);
  if (s->batch)
    for (int k = 0; k < s->size; k++)
      weft_buf_free(&s->batch[k]);
  free(s->batch);
  free(s->bytes);
  weft__ready_free(&s->rq);
  free(s->sc.args);
  weft_buf_free(&s->in);
}

/* Who needs what: consumers per result, results that must come back. */
static void prepare(msched *s) {
  weft__run *r = s->r;
  for (uint32_t i = 0; i < r->g->nnodes; i++) {
    if (!weft__run_needs(r, i))
      continue;
    weft__node *n = &r->nodes[i];
    if (n->flags & WEFT__NF_OUTPUT)
      s->back[i] = 1;
    WEFT__FOREACH_SUCC(r->nodes, r->edges, n, q, {
      if (weft__run_needs(r, q))
        s->rcons[i]++;
    });
    if (weft__ready_runs_here(s->r, i) && n->nrefs) {
      const weft_value *a = &r->args[n->argoff];
      for (uint32_t k = 0; k < n->nargs; k++)
        if (a[k].type == WEFT__T_NODE)
          s->back[(uint32_t)a[k].as.i] = 1;
    }
  }
}

int weft__mpi_sched(weft__run *r, const weft__config *cfg,
                    const weft_compute_opts *opts) {
  (void)opts;
  weft__mpi *m = &weft__mpi_g;
  if (!m->ranks) {
    snprintf(r->msg, sizeof r->msg,
             "the mpi scheduler needs weft_mpi_init(&argc, &argv) at the "
             "start of main (weft/mpi.h)");
    return WEFT_ENOTSUP;
  }
  pthread_mutex_lock(&g_mu);
  if (!m->active || m->size < 2) {
    pthread_mutex_unlock(&g_mu);
    return run_threads(r, cfg);
  }
  if (!g_dead && !(g_dead = calloc((size_t)m->size, sizeof *g_dead))) {
    pthread_mutex_unlock(&g_mu);
    snprintf(r->msg, sizeof r->msg, "out of memory");
    return WEFT_ENOMEM;
  }
  if (m->mode == WEFT__MPI_REPLICATED) { /* mpi/replica_root.c */
    int rrc = weft__rep_root(r, ++g_epoch, g_dead, &g_sends, &g_stats);
    if (rrc != 1) {
      pthread_mutex_unlock(&g_mu);
      return rrc;
    }
  }
  msched s;
  memset(&s, 0, sizeof s);
  s.r = r;
  s.size = m->size;
  s.epoch = ++g_epoch;
  s.ctx.graph = r->g;
  r->workers = m->size;
  int rc = alloc_state(&s, r->g->nnodes, m->size);
  for (size_t k = r->plan.nroots; !rc && k-- > 0;) /* first root on top */
    rc = weft__ready_push(&s.rq, r, r->plan.roots[k]);
  if (rc) {
    snprintf(r->msg, sizeof r->msg, "out of memory");
  } else {
    prepare(&s);
    uint64_t now = weft__mnow();
    for (int k = 1; k < s.size; k++) {
      s.avg_us[k] = -1;
      s.capk[k] = capacity(&s, k);
      s.last[k] = now;
    }
    weft_task_ctx *outer = weft_task_current();
    weft__task_set_current(&s.ctx);
    loop(&s);
    weft__task_set_current(outer);
    /* Every rank that took part drops what is left of this compute. */
    for (int k = 1; k < s.size; k++)
      if (s.sent[k] && !g_dead[k]) {
        weft_buf_clear(&s.batch[k]);
        if (weft__pput_u8(&s.batch[k], WEFT__MR_END) ||
            weft__pput_u32(&s.batch[k], s.epoch))
          weft_buf_clear(&s.batch[k]);
      } else
        weft_buf_clear(&s.batch[k]);
    flush(&s);
  }
  free_state(&s);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

void weft__mpi_sched_shutdown(void) {
  weft__mpi *m = &weft__mpi_g;
  pthread_mutex_lock(&g_mu);
  for (int k = 1; g_dead && k < m->size; k++)
    m->no_finalize |= g_dead[k];
  for (int k = 1; k < m->size; k++) {
    if (g_dead && g_dead[k])
      continue;
    weft_buf b = WEFT_BUF_INIT;
    if (!weft__pput_u8(&b, WEFT__MR_QUIT) && !weft__pput_u8(&b, m->no_finalize))
      weft__msend_post(&g_sends, k, WEFT__MT_SCHED, &b);
    weft_buf_free(&b);
  }
  weft__msend_finish(&g_sends, 5.0);
  free(g_dead);
  g_dead = NULL;
  pthread_mutex_unlock(&g_mu);
}
