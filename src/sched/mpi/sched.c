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
 * Groups mode (WEFT_MPI_MODE=groups, impl.h): the same, over groups of
 * ranks instead of ranks. A group takes tasks up to the sum of its ranks'
 * capacities; a task goes to the group holding most of its input bytes,
 * in a GTASK record that tells the group's leader (mpi/group.c) where the
 * inputs live, so that it places the task on a member by the same rule
 * (mpi/place.c). The leader's DONE message carries its members' records
 * (GDONE), each naming the rank that holds the result: references stay
 * (task, rank). Everything for a group - tasks, FREE, END - leaves in one
 * message to its leader per round.
 *
 * Faults: a task error fails the compute as everywhere; a worker rank that
 * sent nothing for WEFT_MPI_TIMEOUT seconds while a compute is open (it
 * beats every 200 ms, from its communication thread, even while its tasks
 * run) is dead: the compute fails with WEFT_EKILLED and one line naming
 * rank, host and the tasks lost (in flight there, or results there still
 * needed); later computes use the other ranks. In groups mode rank 0
 * hears only from leaders: a leader reports a silent member (LOST, with
 * the tasks it had there), and a silent leader takes its whole group's
 * tasks with it. */
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
static int64_t *g_off; /* per rank: its clock's offset (weft__mpi_slice) */
static bool *g_off_set;
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
  uint64_t *holders; /* units with a copy, bit unit % 64 */
  int32_t *rcons;    /* needed consumers not finished */
  int32_t *on;       /* unit (rank or group) running it, or -1 */
  uint64_t *sent_ns; /* with a listener: when it was sent to its rank */
  uint8_t *back;     /* a worker must send the result back */
  uint8_t *hasval;   /* nodes[i].result holds it here */
  /* ready tasks */
  weft__ready rq; /* ready tasks, for the ranks and for here */
  /* per unit: ranks (central mode, unit = rank, 0 unused) or groups */
  bool groups;
  weft__mpool pool;
  int *gthreads, *gbase; /* groups: live threads, sum of 1.1x each */
  int stride;            /* the most threads of a rank */
  uint64_t *tend;        /* per rank x stride + thread: its last slice's end */
  /* per rank */
  uint64_t *last;
  bool *sent;
  weft_buf *batch;
  weft_task_ctx ctx;
  weft__scratch sc;
  weft_buf in;
  weft__mpays pays; /* values coming on their own, their DONE waiting */
} msched;

static bool stopped(const msched *s) {
  return atomic_load_explicit(&s->r->stop, memory_order_relaxed) ||
         atomic_load_explicit(&s->r->done, memory_order_relaxed);
}

/* The unit rank k belongs to, and the rank a unit's messages go to. */
static int unit_of(const msched *s, int k) {
  return s->groups ? weft__mpi_g.group_of[k] : k;
}
static int dest_of(const msched *s, int u) {
  return s->groups ? weft__mpi_leader(u) : u;
}

/* How many tasks unit u may hold: a rank's capacity, or the sum of its
 * live ranks' for a group. */
static void set_cap(msched *s, int u) {
  const weft__mpi *m = &weft__mpi_g;
  double us = s->pool.avg_us[u];
  if (!s->groups) {
    s->pool.cap[u] = u ? weft__mpi_capacity(m->ranks[u].threads, us) : 0;
    return;
  }
  int cap = weft__mpi_capacity_n(s->gthreads[u], s->gbase[u], us);
  s->pool.cap[u] = cap;
  if (!cap)
    s->pool.dead[u] = true;
}

/* Group u's live threads and sum of ceil(1.1 x threads), for set_cap. */
static void count_group(msched *s, int u) {
  const weft__mpi *m = &weft__mpi_g;
  s->gthreads[u] = s->gbase[u] = 0;
  for (int j = m->first[u]; j < m->first[u + 1]; j++)
    if (!g_dead[m->members[j]]) {
      int th = m->ranks[m->members[j]].threads;
      s->gthreads[u] += th;
      s->gbase[u] += (th * 11 + 9) / 10;
    }
}

/* Task i is done: its newly ready successors go onto the ready stacks
 * (ready.h). */
static void ready_successors(msched *s, uint32_t i) {
  uint32_t q = weft__ready_successors(&s->rq, s->r, i);
  if (q != UINT32_MAX) {
    weft__run_failf(s->r, q, -1, WEFT_ENOMEM, "out of memory");
  }
}

/* Every rank holding a copy of p's result drops it (a group: its leader
 * tells every member). */
static void free_remote(msched *s, uint32_t p) {
  uint64_t h = s->holders[p];
  s->holders[p] = 0;
  for (int u = 0; h && u < s->pool.n; u++) {
    int k = dest_of(s, u);
    if (!((h >> (u % 64)) & 1) || k < 1 || g_dead[k])
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

/* The unit for task i, or -1 when every unit is full (mpi/place.c). */
static int place(msched *s, uint32_t i) {
  weft__run *r = s->r;
  weft__node *n = &r->nodes[i];
  const weft_value *a = &r->args[n->argoff];
  for (uint32_t k = 0; n->nrefs && k < n->nargs; k++) {
    if (a[k].type != WEFT__T_NODE)
      continue;
    uint32_t p = (uint32_t)a[k].as.i;
    int at = s->loc[p];
    if (at <= 0 || s->hasval[p])
      continue; /* here: it travels inside the task record anyway */
    weft__mpool_want(&s->pool, unit_of(s, at), s->nbytes[p]);
  }
  return weft__mpool_pick(&s->pool);
}

/* Whether argument p of a task for unit u travels as a reference. */
static bool by_ref(const msched *s, uint32_t p, int u) {
  return s->loc[p] > 0 && (unit_of(s, s->loc[p]) == u || !s->hasval[p]);
}

/* Whether it is a reference to a member of group u (a GTASK hint: the
 * leader cannot use the others). */
static bool hint(const msched *s, uint32_t p, int u) {
  return by_ref(s, p, u) && unit_of(s, s->loc[p]) == u;
}

/* Groups mode: the GTASK header of task i (the ranks and sizes of its
 * inputs inside the group, for the leader's placement); the length is
 * patched by put_task. */
static int put_hints(msched *s, weft_buf *b, int u, uint32_t i) {
  weft__run *r = s->r;
  weft__node *n = &r->nodes[i];
  const weft_value *a = n->nargs ? &r->args[n->argoff] : NULL;
  uint64_t nh = 0;
  for (uint32_t j = 0; n->nrefs && j < n->nargs; j++)
    nh += a[j].type == WEFT__T_NODE && hint(s, (uint32_t)a[j].as.i, u);
  int rc = weft__pput_u8(b, WEFT__MR_GTASK);
  if (!rc)
    rc = weft__pput_u32(b, 0);
  if (!rc)
    rc = weft__pput_varint(b, nh);
  for (uint32_t j = 0; !rc && nh && j < n->nargs; j++) {
    uint32_t p = (uint32_t)a[j].as.i;
    if (a[j].type != WEFT__T_NODE || !hint(s, p, u))
      continue;
    rc = weft__pput_varint(b, (uint64_t)s->loc[p]);
    if (!rc)
      rc = weft__pput_u64(b, s->nbytes[p]);
  }
  return rc;
}

/* Appends task i's record to the batch of unit u (a rank, or a group's
 * leader). */
static int put_task(msched *s, int u, uint32_t i, char *why, size_t whysize) {
  weft__run *r = s->r;
  weft__node *n = &r->nodes[i];
  int k = dest_of(s, u);
  weft_buf *b = &s->batch[k];
  size_t mark = b->len;
  const char *key =
      (n->flags & WEFT__NF_KEYED) ? weft__keys_name(&r->g->keys, i) : NULL;
  int rc = s->groups ? put_hints(s, b, u, i) : 0;
  if (!rc)
    rc = weft__pput_u8(b, WEFT__MR_TASK);
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
      if (by_ref(s, p, u)) {
        rc = weft__pput_u8(b, 1);
        if (!rc)
          rc = weft__pput_u32(b, p);
        if (!rc)
          rc = weft__pput_varint(b, (uint64_t)s->loc[p]);
        s->holders[p] |= 1ull << (u % 64);
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
  if (!rc && s->groups) { /* the GTASK's length: after its u32 */
    uint32_t len = (uint32_t)(b->len - mark - 5);
    for (int j = 0; j < 4; j++)
      b->data[mark + 1 + j] = (uint8_t)(len >> (8 * j));
  }
  if (rc)
    b->len = mark;
  return rc;
}

static void dispatch(msched *s) {
  weft__run *r = s->r;
  while (s->rq.sp && !stopped(s)) {
    uint32_t i = s->rq.stack[s->rq.sp - 1];
    int u = place(s, i);
    if (u < 0)
      return;
    int k = dest_of(s, u);
    s->rq.sp--;
    char why[300];
    why[0] = 0; /* (not all 300 bytes: this runs per task) */
    int rc = put_task(s, u, i, why, sizeof why);
    if (rc) {
      s->ctx.worker = k;
      s->ctx.message = why[0] ? strdup(why) : NULL;
      weft__run_fail(r, &s->ctx, i, rc);
      return;
    }
    s->pool.inflight[u]++;
    g_stats.tasks++;
    s->on[i] = u;
    s->sent[k] = true;
    if (r->listener) {
      s->sent_ns[i] = weft_now_ns();
      if (s->groups)
        continue; /* which rank runs it is known at its DONE */
      weft_event ev;
      memset(&ev, 0, sizeof ev);
      ev.kind = WEFT_EV_TASK_START;
      ev.worker = k;
      ev.task = i;
      ev.fn = r->nodes[i].fn;
      ev.time_ns = ev.start_ns = s->sent_ns[i];
      weft__run_publish(r, &ev);
    }
  }
}

/* ---- what comes back ---- */

void weft__mpi_clock_sample(int k, uint64_t now, uint64_t w) {
  if (!g_off) { /* kept across computes: the estimate only improves */
    g_off = calloc((size_t)weft__mpi_g.size, sizeof *g_off);
    g_off_set = calloc((size_t)weft__mpi_g.size, sizeof *g_off_set);
    if (!g_off || !g_off_set) {
      free(g_off);
      free(g_off_set);
      g_off = NULL;
      g_off_set = NULL;
      return;
    }
  }
  int64_t d = (int64_t)(now - w);
  if (!g_off_set[k] || d < g_off[k]) {
    g_off[k] = d;
    g_off_set[k] = true;
  }
}

void weft__mpi_slice(int k, uint64_t now, uint64_t end_w, uint32_t run_us,
                     uint64_t not_before, uint64_t *last, uint64_t *start,
                     uint64_t *end) {
  /* rank k's clock - this one's: the least (now - end_w) seen, which is
     the offset plus the shortest delay between a task's end and its
     record's reading here; so an end is never placed after now */
  weft__mpi_clock_sample(k, now, end_w);
  uint64_t e = g_off && g_off_set[k] ? end_w + (uint64_t)g_off[k] : now;
  if (e > now)
    e = now;
  if (e < not_before)
    e = not_before;
  uint64_t b = e - (uint64_t)run_us * 1000 > not_before &&
                       e > (uint64_t)run_us * 1000
                   ? e - (uint64_t)run_us * 1000
                   : not_before;
  if (b < *last) { /* its thread's previous slice is later: after it */
    e += *last - b;
    b = *last;
  }
  if (e > now) /* never in the future: shorter instead */
    e = now;
  if (b > e)
    b = e;
  *last = e;
  *start = b;
  *end = e;
}

/* A DONE record from rank k (after its op byte). pay: the value's bytes
 * when they came on their own (envelope then payload); a record that
 * announces such a value waits here for it (s->pays) and is read again
 * when it has come. */
static int on_done(msched *s, int k, weft__prd *rd, const uint8_t *pay) {
  const uint8_t *rec = rd->p;
  weft__run *r = s->r;
  uint32_t epoch, i, st, us;
  const uint8_t *msg;
  size_t nmsg;
  uint64_t nbytes, vlen, thread, endw;
  if (weft__prd_u32(rd, &epoch) || weft__prd_u32(rd, &i) ||
      weft__prd_u32(rd, &st) || weft__prd_bytes(rd, &msg, &nmsg) ||
      weft__prd_u64(rd, &nbytes) || weft__prd_u32(rd, &us) ||
      weft__prd_varint(rd, &thread) || weft__prd_u64(rd, &endw) ||
      weft__prd_varint(rd, &vlen))
    return WEFT_EWIRE;
  uint8_t apart = 0;
  if (vlen && (weft__prd_u8(rd, &apart) ||
               (!apart && vlen > (uint64_t)(rd->end - rd->p))))
    return WEFT_EWIRE;
  if (apart && !pay) { /* the value is on its way: wait for it */
    int rc;
    weft__mpay *e = weft__mpay_post(&s->pays, k, epoch, vlen, &rc);
    if (!e)
      return rc;
    e->nrec = (size_t)(rd->p - rec);
    if (!(e->rec = malloc(e->nrec)))
      return WEFT_ENOMEM;
    memcpy(e->rec, rec, e->nrec);
    return 0;
  }
  bool has = vlen > 0;
  weft_value v = weft_none();
  if (has) {
    weft_wire_error err = {0};
    int rc = weft_wire_decode(apart ? pay : rd->p, (size_t)vlen, NULL, &v,
                              &err);
    if (rc)
      return rc;
    if (!apart)
      rd->p += vlen;
  }
  int u = unit_of(s, k);
  if (epoch != s->epoch || i >= r->g->nnodes || s->on[i] != u) {
    weft_value_release(&v); /* of an earlier compute */
    return 0;
  }
  s->on[i] = -1;
  s->pool.inflight[u]--;
  weft__mpool_ran(&s->pool, u, us);
  set_cap(s, u);
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
  s->holders[i] |= 1ull << (u % 64);
  s->hasval[i] = has;
  if (r->listener) {
    /* The slice, by this clock (weft__mpi_slice: rank k's clock mapped
     * here, never before it was sent, never after now, after its
     * thread's previous slice). The size is the value's
     * (weft_value_nbytes) when it came back, else its encoded size. */
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    int th = thread < (uint64_t)s->stride ? (int)thread : 0;
    uint64_t start, end;
    weft__mpi_slice(k, weft_now_ns(), endw, us, s->sent_ns[i],
                    &s->tend[k * s->stride + th], &start, &end);
    ev.worker = k;
    ev.thread = th;
    ev.task = i;
    ev.fn = r->nodes[i].fn;
    if (s->groups) { /* its start, now that its rank is known */
      ev.kind = WEFT_EV_TASK_START;
      ev.time_ns = ev.start_ns = start;
      weft__run_publish(r, &ev);
    }
    ev.kind = WEFT_EV_TASK_END;
    ev.start_ns = start;
    ev.time_ns = end;
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

static void on_dead(msched *s, int k, double silent, const uint8_t *tasks,
                    size_t ntasks);

/* A message from rank k (a worker rank, a leader, or a member's records
 * wrapped by its leader). */
static int on_message(msched *s, int k, const uint8_t *p, size_t n) {
  weft__prd rd = {p, p + n};
  const weft__mpi *m = &weft__mpi_g;
  while (rd.p < rd.end && !stopped(s)) {
    uint8_t op;
    if (weft__prd_u8(&rd, &op))
      return WEFT_EWIRE;
    if (op == WEFT__MR_BEAT)
      continue;
    if (op == WEFT__MR_DONE) {
      int rc = on_done(s, k, &rd, NULL);
      if (rc)
        return rc;
      continue;
    }
    uint64_t rank, len;
    if (!s->groups || (op != WEFT__MR_GDONE && op != WEFT__MR_LOST) ||
        weft__prd_varint(&rd, &rank) || rank < 1 ||
        rank >= (uint64_t)s->size ||
        m->group_of[rank] != m->group_of[k] || (int)rank == k)
      return WEFT_EWIRE; /* only a leader speaks for its members */
    if (op == WEFT__MR_GDONE) {
      if (weft__prd_varint(&rd, &len) || len > (uint64_t)(rd.end - rd.p))
        return WEFT_EWIRE;
      int rc = on_message(s, (int)rank, rd.p, (size_t)len);
      if (rc)
        return rc;
      rd.p += len;
      continue;
    }
    uint32_t ms;
    if (weft__prd_u32(&rd, &ms) || weft__prd_varint(&rd, &len) ||
        len > (uint64_t)(rd.end - rd.p) / 4)
      return WEFT_EWIRE;
    if (!g_dead[rank])
      on_dead(s, (int)rank, ms / 1e3, rd.p, (size_t)len);
    rd.p += 4 * len;
  }
  return 0;
}

static bool listed(uint32_t i, const uint8_t *tasks, size_t n) {
  for (size_t j = 0; j < n; j++) {
    const uint8_t *q = tasks + 4 * j;
    if (((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
         (uint32_t)q[3] << 24) == i)
      return true;
  }
  return false;
}

/* Rank k is dead: fail the compute naming what was lost. In groups mode,
 * a leader takes its group's tasks with it; a member (reported by its
 * leader) the tasks listed, as u32 each. */
static void on_dead(msched *s, int k, double silent, const uint8_t *tasks,
                    size_t ntasks) {
  weft__run *r = s->r;
  const weft__mpi *m = &weft__mpi_g;
  int u = unit_of(s, k);
  bool whole = !s->groups || weft__mpi_leader(u) == k;
  g_dead[k] = true;
  weft__mpay_cancel(&s->pays, k);
  if (whole)
    s->pool.dead[u] = true;
  else {
    count_group(s, u);
    set_cap(s, u);
  }
  weft__msend_drop(&g_sends, k);
  weft__mlost lost = WEFT__MLOST_INIT;
  for (uint32_t i = 0; i < r->g->nnodes; i++) {
    if (!weft__run_needs(r, i))
      continue;
    bool ran = s->on[i] == u && (whole || listed(i, tasks, ntasks));
    int at = s->loc[i];
    bool held = at > 0 && (whole ? unit_of(s, at) == u : at == k) &&
                !s->hasval[i] && s->rcons[i] > 0;
    if (ran || held)
      weft__mlost_add(&lost, r->g, i, ran);
  }
  char group[200] = "";
  if (s->groups && whole && m->first[u + 1] - m->first[u] > 1) {
    size_t gl = (size_t)snprintf(group, sizeof group,
                                 "; it led group %d, whose tasks are lost "
                                 "with it (ranks",
                                 u);
    for (int j = m->first[u]; j < m->first[u + 1] && gl < sizeof group - 16;
         j++)
      gl += (size_t)snprintf(group + gl, sizeof group - gl, " %d",
                             m->members[j]);
    snprintf(group + gl, sizeof group - gl, ")");
  } else if (s->groups && !whole)
    snprintf(group, sizeof group, "; its group's leader, rank %d, saw it",
             weft__mpi_leader(u));
  weft__mlost_report(r, k, silent, &lost, group);
}

static void flush(msched *s) {
  for (int k = 1; k < s->size; k++) {
    if (!s->batch[k].len)
      continue;
    if (g_dead[k]) {
      weft_buf_clear(&s->batch[k]);
      continue;
    }
    size_t len = s->batch[k].len;
    if (weft__msend_post(&g_sends, k, WEFT__MT_SCHED, &s->batch[k]))
      on_dead(s, k, 0, NULL, 0);
    /* the buffer left with the message: the next one starts the size of
       this one, not grown from nothing (a group's batches are big) */
    else if (weft_buf_reserve(&s->batch[k], len))
      weft__run_failf(s->r, UINT32_MAX, k, WEFT_ENOMEM, "out of memory");
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
    long pi;
    while (!stopped(s) && (pi = weft__mpay_done(&s->pays)) >= 0) {
      weft__mpay *e = &s->pays.v[pi];
      weft__prd rd = {e->rec, e->rec + e->nrec};
      rc = on_done(s, e->src, &rd, e->buf.data);
      src = e->src;
      weft__mpay_remove(&s->pays, (size_t)pi);
      progressed = true;
      if (rc < 0) {
        weft__run_failf(s->r, UINT32_MAX, src, rc,
                        "mpi scheduler: a bad result from rank %d (%s)", src,
                        weft_strerror(rc));
        return;
      }
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
      if (!g_dead[k] && s->sent[k] && now - s->last[k] > timeout) {
        on_dead(s, k, (double)(now - s->last[k]) / 1e9, NULL, 0);
        return;
      }
    }
    for (int u = 0; u < s->pool.n; u++)
      inflight += s->pool.inflight[u];
    if (!inflight && !s->rq.sp && !s->rq.lsp)
      return; /* nothing left to wait for (compute.c reports it) */
    if (s->rq.sp && !inflight) {
      bool any = false;
      for (int u = 0; u < s->pool.n; u++)
        any |= !s->pool.dead[u];
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
  s->last = calloc((size_t)size, sizeof *s->last);
  s->sent = calloc((size_t)size, sizeof *s->sent);
  s->batch = calloc((size_t)size, sizeof *s->batch);
  int units = s->groups ? weft__mpi_g.ngroups : size;
  s->stride = 1;
  for (int k = 1; k < size; k++)
    if (weft__mpi_g.ranks[k].threads > s->stride)
      s->stride = weft__mpi_g.ranks[k].threads;
  s->tend = calloc((size_t)size * s->stride, sizeof *s->tend);
  s->gthreads = calloc((size_t)units, sizeof *s->gthreads);
  s->gbase = calloc((size_t)units, sizeof *s->gbase);
  if (weft__mpool_init(&s->pool, units) || !s->gthreads || !s->gbase ||
      !s->tend ||
      !s->loc || !s->on ||
      !s->sent_ns || !s->nbytes || !s->holders || !s->rcons || !s->back ||
      !s->hasval || !s->last || !s->sent || !s->batch)
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
  weft__mpay_cancel(&s->pays, -1); /* (a failed compute's, if any) */
  weft__mpool_free(&s->pool);
  free(s->gthreads);
  free(s->tend);
  free(s->gbase);
  free(s->last);
  free(s->sent);
  if (s->batch)
    for (int k = 0; k < s->size; k++)
      weft_buf_free(&s->batch[k]);
  free(s->batch);
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
  if (m->mode == WEFT__MM_REPLICATED) { /* mpi/replica_root.c */
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
  s.groups = m->mode == WEFT__MM_GROUPS;
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
    for (int k = 1; k < s.size; k++)
      s.last[k] = now;
    for (int u = 0; u < s.pool.n; u++) {
      int k = dest_of(&s, u);
      s.pool.dead[u] = k < 1 || g_dead[k];
      if (s.groups)
        count_group(&s, u);
      set_cap(&s, u);
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
    if (m->mode == WEFT__MM_GROUPS) { /* a live leader tells its members */
      int lead = weft__mpi_leader(m->group_of[k]);
      if (lead != k && !(g_dead && g_dead[lead]))
        continue;
    }
    weft_buf b = WEFT_BUF_INIT;
    if (!weft__pput_u8(&b, WEFT__MR_QUIT) && !weft__pput_u8(&b, m->no_finalize))
      weft__msend_post(&g_sends, k, WEFT__MT_SCHED, &b);
    weft_buf_free(&b);
  }
  weft__msend_finish(&g_sends, 5.0);
  free(g_dead);
  free(g_off);
  free(g_off_set);
  g_off = NULL;
  g_off_set = NULL;
  g_dead = NULL;
  pthread_mutex_unlock(&g_mu);
}
