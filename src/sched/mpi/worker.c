/* mpi/worker.c - a worker rank: the communication thread (the rank's main
 * thread, the only one calling MPI) and the compute threads.
 *
 * The communication thread receives batches of tasks from rank 0, resolves
 * each task's arguments (inline values; results held here; results of
 * other ranks, fetched from them directly with FETCH/DATA and kept here
 * until rank 0 frees them), queues the task for the compute threads, and
 * sends rank 0 the DONE records of finished tasks, batched: everything
 * finished since the last look goes in one message. Results stay here;
 * one goes back with its DONE when rank 0 asked for it (an output, or an
 * input of a task that runs in the program) or when it is small
 * (WEFT_MPI_INLINE). While a compute is open it sends a BEAT every 200 ms
 * when it has nothing else to say, so that rank 0 can tell a dead rank.
 * When idle it first yields the core for a while (300 us: the next task of a
 * chain is likely on its way), then sleeps on a condition variable that
 * the compute threads signal, waking at growing intervals (50 us to 1 ms)
 * to look at MPI.
 *
 * In groups mode (impl.h) a member rank does all this with its group's
 * leader in rank 0's place (DONE and BEAT go to it), and the leader also
 * runs the group's sub-scheduler (mpi/group.c) in this loop. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/task.h"
#include "impl.h"

typedef struct wref {
  uint32_t arg;  /* argument position */
  uint32_t task; /* producer */
  int rank;      /* where it lives */
} wref;

typedef struct wtask {
  uint32_t epoch, task;
  const weft_fn_info *fn;
  char *key;
  uint8_t flags;
  size_t nargs;
  weft_value *args;
  wref *refs;
  size_t nrefs;
  int missing; /* inputs still being fetched */
  int status;  /* set before running when it cannot run */
  char msg[512];
  weft_value out;
  uint32_t us;     /* run time */
  int thread;      /* the compute thread that ran it */
  uint64_t end_ns; /* when it ended (weft__mnow) */
  struct wtask *next;
  struct wtask *pprev, *pnext; /* the list of parked (fetching) tasks */
} wtask;

/* A result held (or being fetched) here, by (epoch, task). */
typedef struct went {
  uint64_t key;
  bool have;
  weft_value v;
  wtask **waiters;
  size_t nw, cw;
  struct went *next;
} went;

typedef struct worker {
  /* store: chained hash table */
  went **tab;
  size_t nb, n;
  wtask *parked;  /* tasks waiting for fetches */
  uint32_t ended; /* computes up to this epoch are over */
  uint32_t open;  /* epoch of the compute open here, if open_ */
  bool open_;
  /* between the communication thread and the compute threads */
  pthread_mutex_t mu;
  pthread_cond_t cv_work, cv_comm;
  wtask *rq_head, *rq_tail; /* ready */
  wtask *done;              /* finished, newest first */
  bool quit;
  int nthreads, next_thread;
  pthread_t *th;
  /* messages */
  weft__msends sends;
  weft__mpays pays; /* DATA payloads on their way */
  weft_buf in, out, scratch;
  uint64_t last_sent;
  int up;              /* where DONE goes: rank 0 or this rank's leader */
  weft__mgroup *group; /* this rank leads a group (groups mode) */
} worker;

static uint64_t ekey(uint32_t epoch, uint32_t task) {
  return (uint64_t)epoch << 32 | task;
}

static went *find(worker *w, uint64_t key) {
  for (went *e = w->tab[key % w->nb]; e; e = e->next)
    if (e->key == key)
      return e;
  return NULL;
}

static went *add(worker *w, uint64_t key) {
  if (w->n >= w->nb) { /* grow */
    size_t nb = w->nb * 2;
    went **t = calloc(nb, sizeof *t);
    if (!t)
      return NULL;
    for (size_t b = 0; b < w->nb; b++)
      for (went *e = w->tab[b], *nx; e; e = nx) {
        nx = e->next;
        e->next = t[e->key % nb];
        t[e->key % nb] = e;
      }
    free(w->tab);
    w->tab = t;
    w->nb = nb;
  }
  went *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->key = key;
  e->next = w->tab[key % w->nb];
  w->tab[key % w->nb] = e;
  w->n++;
  return e;
}

static void drop_entry(worker *w, went *e) {
  went **pp = &w->tab[e->key % w->nb];
  while (*pp != e)
    pp = &(*pp)->next;
  *pp = e->next;
  weft_value_release(&e->v);
  free(e->waiters);
  free(e);
  w->n--;
}

static void task_free(wtask *t) {
  for (size_t i = 0; i < t->nargs; i++)
    weft_value_release(&t->args[i]);
  weft_value_release(&t->out);
  free(t->args);
  free(t->refs);
  free(t->key);
  free(t);
}

static void park(worker *w, wtask *t) {
  t->pprev = NULL;
  t->pnext = w->parked;
  if (w->parked)
    w->parked->pprev = t;
  w->parked = t;
}

static void unpark(worker *w, wtask *t) {
  if (t->pprev)
    t->pprev->pnext = t->pnext;
  else
    w->parked = t->pnext;
  if (t->pnext)
    t->pnext->pprev = t->pprev;
}

/* ---- compute threads ---- */

static void *compute_main(void *arg) {
  worker *w = arg;
  pthread_mutex_lock(&w->mu);
  int me = w->next_thread++; /* this thread's index, for the trace */
  for (;;) {
    while (!w->rq_head && !w->quit)
      pthread_cond_wait(&w->cv_work, &w->mu);
    if (!w->rq_head)
      break;
    wtask *t = w->rq_head;
    w->rq_head = t->next;
    if (!w->rq_head)
      w->rq_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    t->status = weft__mrun_task(t->fn, t->task, t->key, t->args, t->nargs,
                                &t->out, &t->us, &t->end_ns, t->msg,
                                sizeof t->msg);
    t->thread = me;
    pthread_mutex_lock(&w->mu);
    t->next = w->done;
    w->done = t;
    pthread_cond_signal(&w->cv_comm);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Task t has every input: resolve the references, queue it. */
static void ready(worker *w, wtask *t) {
  for (size_t k = 0; k < t->nrefs && !t->status; k++) {
    went *e = find(w, ekey(t->epoch, t->refs[k].task));
    if (!e || !e->have) {
      t->status = WEFT_EKILLED;
      snprintf(t->msg, sizeof t->msg, "input (task %u) is no longer on rank %d",
               (unsigned)t->refs[k].task, t->refs[k].rank);
    } else
      t->args[t->refs[k].arg] = weft_value_retain(&e->v);
  }
  pthread_mutex_lock(&w->mu);
  if (t->status) { /* straight to done, without running */
    t->next = w->done;
    w->done = t;
  } else {
    t->next = NULL;
    if (w->rq_tail)
      w->rq_tail->next = t;
    else
      w->rq_head = t;
    w->rq_tail = t;
    pthread_cond_signal(&w->cv_work);
  }
  pthread_mutex_unlock(&w->mu);
}

/* ---- messages from rank 0 ---- */

static int post(worker *w, int dest, int tag, weft_buf *b) {
  int rc = weft__msend_post(&w->sends, dest, tag, b);
  if (dest == w->up && !rc)
    w->last_sent = weft__mnow();
  return rc;
}

static int send_fetch(worker *w, uint32_t epoch, uint32_t task, int rank) {
  weft_buf b = WEFT_BUF_INIT;
  int rc = weft__pput_u32(&b, epoch);
  if (!rc)
    rc = weft__pput_u32(&b, task);
  if (!rc)
    rc = post(w, rank, WEFT__MT_FETCH, &b);
  weft_buf_free(&b);
  return rc;
}

static int get_task(worker *w, weft__prd *r) {
  uint32_t epoch, task;
  const uint8_t *name, *key;
  size_t nname, nkey;
  uint8_t flags;
  uint64_t nargs;
  if (weft__prd_u32(r, &epoch) || weft__prd_u32(r, &task) ||
      weft__prd_bytes(r, &name, &nname) || weft__prd_bytes(r, &key, &nkey) ||
      weft__prd_u8(r, &flags) || weft__prd_varint(r, &nargs) ||
      nargs > (uint64_t)(r->end - r->p))
    return WEFT_EWIRE;
  wtask *t = calloc(1, sizeof *t);
  if (!t)
    return WEFT_ENOMEM;
  t->epoch = epoch;
  t->task = task;
  t->flags = flags;
  t->nargs = (size_t)nargs;
  t->args = calloc(t->nargs ? t->nargs : 1, sizeof *t->args);
  t->refs = calloc(t->nargs ? t->nargs : 1, sizeof *t->refs);
  if (nkey)
    t->key = strndup((const char *)key, nkey);
  char fname[256];
  snprintf(fname, sizeof fname, "%.*s", (int)nname, (const char *)name);
  if (!t->args || !t->refs || (nkey && !t->key)) {
    task_free(t);
    return WEFT_ENOMEM;
  }
  for (size_t i = 0; i < t->nargs; i++) {
    uint8_t kind;
    if (weft__prd_u8(r, &kind)) {
      task_free(t);
      return WEFT_EWIRE;
    }
    if (kind == 0) {
      size_t used = 0;
      weft_wire_error err = {0};
      int rc = weft_wire_decode(r->p, (size_t)(r->end - r->p), &used,
                                &t->args[i], &err);
      if (rc) {
        task_free(t);
        return rc;
      }
      r->p += used;
      continue;
    }
    uint32_t ptask;
    uint64_t prank;
    if (kind != 1 || weft__prd_u32(r, &ptask) || weft__prd_varint(r, &prank) ||
        prank >= (uint64_t)weft__mpi_g.size) {
      task_free(t);
      return WEFT_EWIRE;
    }
    t->refs[t->nrefs++] = (wref){(uint32_t)i, ptask, (int)prank};
  }
  if (weft_fn_find(fname, &t->fn)) {
    t->status = WEFT_ENOTFOUND;
    snprintf(t->msg, sizeof t->msg,
             "function '%s' is not registered on rank %d (WEFT_REGISTER it: "
             "tasks travel by name)",
             fname, weft__mpi_g.rank);
  }
  if (epoch <= w->ended) { /* that compute is over already */
    task_free(t);
    return 0;
  }
  w->open = epoch;
  w->open_ = true;
  /* Inputs not here yet: fetch them from their owners. */
  for (size_t k = 0; k < t->nrefs && !t->status; k++) {
    uint64_t key = ekey(epoch, t->refs[k].task);
    went *e = find(w, key);
    if (e && e->have)
      continue;
    if (!e) {
      if (t->refs[k].rank == weft__mpi_g.rank) {
        t->status = WEFT_EKILLED;
        snprintf(t->msg, sizeof t->msg, "input (task %u) is not on rank %d",
                 (unsigned)t->refs[k].task, weft__mpi_g.rank);
        break;
      }
      if (!(e = add(w, key)) ||
          send_fetch(w, epoch, t->refs[k].task, t->refs[k].rank)) {
        task_free(t);
        return WEFT_ENOMEM;
      }
    }
    bool dup = false;
    for (size_t j = 0; j < e->nw; j++)
      dup |= e->waiters[j] == t;
    if (dup)
      continue;
    if (e->nw == e->cw) {
      size_t c = e->cw ? 2 * e->cw : 4;
      wtask **p = realloc(e->waiters, c * sizeof *p);
      if (!p) {
        task_free(t);
        return WEFT_ENOMEM;
      }
      e->waiters = p;
      e->cw = c;
    }
    e->waiters[e->nw++] = t;
    t->missing++;
  }
  if (t->missing && !t->status)
    park(w, t);
  else
    ready(w, t);
  return 0;
}

/* A compute is over: drop its results and its tasks not started. */
static void end_epoch(worker *w, uint32_t epoch) {
  if (epoch > w->ended)
    w->ended = epoch;
  if (w->open_ && w->open <= w->ended)
    w->open_ = false;
  for (wtask *t = w->parked, *nx; t; t = nx) {
    nx = t->pnext;
    if (t->epoch <= w->ended) {
      unpark(w, t);
      task_free(t);
    }
  }
  pthread_mutex_lock(&w->mu);
  wtask **pp = &w->rq_head, *last = NULL;
  while (*pp) {
    wtask *t = *pp;
    if (t->epoch <= w->ended) {
      *pp = t->next;
      task_free(t);
    } else {
      last = t;
      pp = &t->next;
    }
  }
  w->rq_tail = last;
  pthread_mutex_unlock(&w->mu);
  for (size_t b = 0; b < w->nb; b++)
    for (went *e = w->tab[b], *nx; e; e = nx) {
      nx = e->next;
      if ((uint32_t)(e->key >> 32) <= w->ended)
        drop_entry(w, e);
    }
}

/* A SCHED batch. 1 on QUIT. */
static int on_sched(worker *w, const uint8_t *p, size_t n) {
  weft__prd r = {p, p + n};
  while (r.p < r.end) {
    uint8_t op;
    uint32_t epoch, task;
    const uint8_t *at = r.p;
    int rc = weft__prd_u8(&r, &op);
    if (rc)
      return rc;
    if (w->group && op != WEFT__MR_TASK && op != WEFT__MR_GTASK) {
      /* FREE / END / QUIT: for the members too (their bytes: up to the
       * next record, which the switch below finds) */
      weft__prd peek = r;
      if (op == WEFT__MR_FREE)
        peek.p += 8;
      else if (op == WEFT__MR_END)
        peek.p += 4;
      else
        peek.p += 1;
      if (peek.p > r.end ||
          weft__mgroup_forward(w->group, at, (size_t)(peek.p - at)))
        return peek.p > r.end ? WEFT_EWIRE : WEFT_ENOMEM;
    }
    switch (op) {
    case WEFT__MR_TASK:
      if ((rc = get_task(w, &r)))
        return rc;
      break;
    case WEFT__MR_GTASK: {
      const uint8_t *rec;
      size_t nrec;
      bool self = false;
      if (!w->group)
        return WEFT_EWIRE; /* GTASK goes to leaders only */
      if ((rc = weft__mgroup_task(w->group, &r, &self, &rec, &nrec)))
        return rc;
      weft__prd t = {rec + 1, rec + nrec}; /* after the TASK op byte */
      if (self && (rc = get_task(w, &t)))
        return rc;
      epoch = (uint32_t)rec[1] | (uint32_t)rec[2] << 8 |
              (uint32_t)rec[3] << 16 | (uint32_t)rec[4] << 24;
      if (epoch > w->ended) { /* a compute is open: beat to rank 0 */
        w->open = epoch;
        w->open_ = true;
      }
      break;
    }
    case WEFT__MR_FREE: {
      if (weft__prd_u32(&r, &epoch) || weft__prd_u32(&r, &task))
        return WEFT_EWIRE;
      went *e = find(w, ekey(epoch, task));
      if (e && e->have)
        drop_entry(w, e);
      break;
    }
    case WEFT__MR_END:
      if (weft__prd_u32(&r, &epoch))
        return WEFT_EWIRE;
      end_epoch(w, epoch);
      if (w->group)
        weft__mgroup_end(w->group, epoch);
      weft__rep_end(epoch);
      break;
    case WEFT__MR_QUIT: {
      uint8_t skip = 0;
      weft__prd_u8(&r, &skip);
      weft__mpi_g.no_finalize = skip != 0;
      if (w->group) /* the members' QUIT leaves now */
        weft__mgroup_round(w->group, &w->sends, &w->out);
      return 1;
    }
    default:
      return WEFT_EWIRE;
    }
  }
  return 0;
}

/* ---- rank to rank ---- */

static int on_fetch(worker *w, int src, const uint8_t *p, size_t n) {
  weft__prd r = {p, p + n};
  uint32_t epoch, task;
  if (weft__prd_u32(&r, &epoch) || weft__prd_u32(&r, &task))
    return WEFT_EWIRE;
  went *e = find(w, ekey(epoch, task));
  weft_buf b = WEFT_BUF_INIT;
  weft_wire_error err = {0};
  int rc = weft__pput_u32(&b, epoch);
  if (!rc)
    rc = weft__pput_u32(&b, task);
  size_t mark = b.len;
  char why[300] = "";
  weft_buf pay = WEFT_BUF_INIT;
  if (!rc && e && e->have) {
    rc = weft__pput_u8(&b, 1);
    if (!rc && (rc = weft_wire_encode(&e->v, &b, &err)) == WEFT_ENOTSUP) {
      snprintf(why, sizeof why, "its result cannot leave rank %d: %s",
               weft__mpi_g.rank, err.text);
      rc = 0;
    } else if (!rc && b.len > INT_MAX) {
      snprintf(why, sizeof why,
               "its result (%zu bytes encoded) is larger than one MPI "
               "message holds (2 GiB)",
               b.len - mark - 1);
    }
  } else if (!rc) {
    snprintf(why, sizeof why, "rank %d no longer holds it", weft__mpi_g.rank);
  }
  if (!rc && why[0]) { /* a refusal: ok 0 and the reason */
    b.len = mark;
    weft_value m;
    rc = weft_str_new(&m, why);
    if (!rc)
      rc = weft__pput_u8(&b, 0);
    if (!rc)
      rc = weft_wire_encode(&m, &b, NULL);
    weft_value_release(&m);
  }
  if (!rc && !why[0] && b.len - mark - 1 > weft__mpi_g.apart) {
    /* envelope then payload: ok 2 and the size, the value on its own */
    rc = weft_buf_append(&pay, b.data + mark + 1, b.len - mark - 1);
    b.len = mark;
    if (!rc)
      rc = weft__pput_u8(&b, 2);
    if (!rc)
      rc = weft__pput_u64(&b, pay.len);
  }
  if (!rc)
    rc = post(w, src, WEFT__MT_DATA, &b);
  if (!rc && pay.len)
    rc = weft__msend_payload(&w->sends, src, epoch, &pay);
  weft_buf_free(&b);
  weft_buf_free(&pay);
  return rc;
}

static int got_data(worker *w, int src, uint32_t epoch, uint32_t task,
                    uint8_t ok, const uint8_t *p, size_t n);

static int on_data(worker *w, int src, const uint8_t *p, size_t n) {
  weft__prd r = {p, p + n};
  uint32_t epoch, task;
  uint8_t ok;
  uint64_t len;
  if (weft__prd_u32(&r, &epoch) || weft__prd_u32(&r, &task) ||
      weft__prd_u8(&r, &ok))
    return WEFT_EWIRE;
  if (ok != 2)
    return got_data(w, src, epoch, task, ok, r.p, (size_t)(r.end - r.p));
  /* an envelope: the value follows on its own */
  if (weft__prd_u64(&r, &len))
    return WEFT_EWIRE;
  int rc;
  weft__mpay *e = weft__mpay_post(&w->pays, src, epoch, len, &rc);
  if (e)
    e->task = task;
  return rc;
}

/* The value of (epoch, task) from src (ok 0: the reason it is not). */
static int got_data(worker *w, int src, uint32_t epoch, uint32_t task,
                    uint8_t ok, const uint8_t *p, size_t n) {
  went *e = find(w, ekey(epoch, task));
  if (!e || e->have)
    return 0; /* its compute ended meanwhile */
  weft_value v = weft_none();
  weft_wire_error err = {0};
  int rc = weft_wire_decode(p, n, NULL, &v, &err);
  if (rc)
    return rc;
  wtask **ws = e->waiters;
  size_t nw = e->nw;
  e->waiters = NULL;
  e->nw = e->cw = 0;
  if (ok) {
    e->have = true;
    e->v = v;
  }
  for (size_t k = 0; k < nw; k++) {
    wtask *t = ws[k];
    if (!ok && !t->status) {
      t->status = WEFT_EKILLED;
      snprintf(t->msg, sizeof t->msg, "input (task %u) from rank %d: %s",
               (unsigned)task, src,
               v.type == WEFT_T_STR ? weft_value_str(&v) : "lost");
    }
    if (--t->missing == 0) {
      unpark(w, t);
      ready(w, t);
    }
  }
  free(ws);
  if (!ok) {
    weft_value_release(&v);
    drop_entry(w, e);
  }
  return 0;
}

/* ---- finished tasks ---- */

/* Appends t's DONE record to out and keeps its result here. */
static int finish(worker *w, wtask *t) {
  weft_buf *b = &w->out, *s = &w->scratch;
  weft_wire_error err = {0};
  weft_buf_clear(s);
  bool back = false;
  uint64_t nbytes = 0;
  if (!t->status) {
    int rc = weft_wire_encode(&t->out, s, &err);
    if (rc == 0 && (t->flags & WEFT__MF_BACK) && s->len > INT_MAX - 4096) {
      t->status = WEFT_ENOTSUP;
      snprintf(t->msg, sizeof t->msg,
               "its result (%zu bytes encoded) is larger than one MPI "
               "message holds (2 GiB)",
               s->len);
    } else if (rc == 0) {
      nbytes = s->len;
      back = (t->flags & WEFT__MF_BACK) || s->len <= weft__mpi_g.inline_max;
    } else if (rc == WEFT_ENOTSUP && (t->flags & WEFT__MF_BACK)) {
      t->status = WEFT_ENOTSUP;
      snprintf(t->msg, sizeof t->msg, "its result cannot leave rank %d: %s",
               weft__mpi_g.rank, err.text);
    } else if (rc != WEFT_ENOTSUP)
      return rc;
  }
  int rc = weft__pput_u8(b, WEFT__MR_DONE);
  if (!rc)
    rc = weft__pput_u32(b, t->epoch);
  if (!rc)
    rc = weft__pput_u32(b, t->task);
  if (!rc)
    rc = weft__pput_u32(b, (uint32_t)(int32_t)t->status);
  if (!rc)
    rc = weft__pput_bytes(b, t->msg, t->status ? strlen(t->msg) : 0);
  if (!rc)
    rc = weft__pput_u64(b, nbytes);
  if (!rc)
    rc = weft__pput_u32(b, t->us);
  if (!rc)
    rc = weft__pput_varint(b, (uint64_t)t->thread);
  if (!rc) /* when it ended, by this rank's clock */
    rc = weft__pput_u64(b, t->end_ns ? t->end_ns : weft__mnow());
  bool sends = back && !t->status;
  bool apart = sends && s->len > weft__mpi_g.apart;
  if (!rc)
    rc = weft__pput_varint(b, sends ? s->len : 0);
  if (!rc && sends)
    rc = weft__pput_u8(b, apart);
  if (!rc && sends && !apart)
    rc = weft_buf_append(b, s->data, s->len);
  if (!rc && apart) /* its own message, straight to rank 0 */
    rc = weft__msend_payload(&w->sends, 0, t->epoch, s);
  if (rc)
    return rc;
  if (w->group)
    weft__mgroup_self_done(w->group, t->epoch, t->task, t->us);
  if (!t->status) {
    went *e = add(w, ekey(t->epoch, t->task));
    if (!e)
      return WEFT_ENOMEM;
    e->have = true;
    e->v = t->out;
    t->out = weft_none();
  }
  return 0;
}

static int drain_done(worker *w, bool *progressed) {
  pthread_mutex_lock(&w->mu);
  wtask *d = w->done;
  w->done = NULL;
  pthread_mutex_unlock(&w->mu);
  /* oldest first */
  wtask *rev = NULL;
  while (d) {
    wtask *nx = d->next;
    d->next = rev;
    rev = d;
    d = nx;
  }
  int rc = 0;
  for (wtask *t = rev, *nx; t; t = nx) {
    nx = t->next;
    *progressed = true;
    if (!rc && t->epoch > w->ended)
      rc = finish(w, t);
    task_free(t);
  }
  return rc;
}

/* Whether rank 0's process has ended, as far as this rank can see: only
 * when both run on the same host (Open MPI ends the whole job itself when
 * a rank dies, unless recovery is on; then this keeps a worker on rank 0's
 * host from waiting forever). */
static int loop(worker *w) {
  uint64_t idle_ns = 50000, last_progress = 0, last_check = 0;
  for (;;) {
    bool progressed = false;
    int src, tag, rc;
    while ((rc = weft__mrecv(&w->in, &src, &tag)) == 1) {
      progressed = true;
      if (tag == WEFT__MT_SCHED && w->in.len &&
          w->in.data[0] == WEFT__MR_GRAPH) /* mpi/replica_worker.c */
        rc = weft__rep_serve(&w->in, &w->sends);
      else if (tag == WEFT__MT_SCHED)
        rc = on_sched(w, w->in.data, w->in.len);
      else if (tag == WEFT__MT_PUSH || tag == WEFT__MT_BIG)
        rc = weft__rep_early(src, tag, &w->in);
      else if (tag == WEFT__MT_FETCH)
        rc = on_fetch(w, src, w->in.data, w->in.len);
      else if (tag == WEFT__MT_DATA)
        rc = on_data(w, src, w->in.data, w->in.len);
      else if (tag == WEFT__MT_DONE && w->group)
        rc = weft__mgroup_up(w->group, src, w->in.data, w->in.len, &w->out);
      else
        rc = WEFT_EWIRE;
      if (rc)
        break;
    }
    if (rc == 1)
      return 0; /* QUIT */
    long pi;
    while (rc == 0 && (pi = weft__mpay_done(&w->pays)) >= 0) {
      weft__mpay *e = &w->pays.v[pi];
      rc = got_data(w, e->src, e->epoch, e->task, 1, e->buf.data, e->buf.len);
      weft__mpay_remove(&w->pays, (size_t)pi);
      progressed = true;
    }
    if (rc == 0)
      rc = drain_done(w, &progressed);
    if (rc) {
      fprintf(stderr, "weft: worker rank %d: %s\n", weft__mpi_g.rank,
              weft_strerror(rc));
      return 2;
    }
    uint64_t now = weft__mnow();
    if (!w->out.len && w->open_ && now - w->last_sent >= WEFT__MPI_BEAT_NS)
      rc = weft__pput_u8(&w->out, WEFT__MR_BEAT);
    if (now - last_check >= WEFT__MPI_BEAT_NS) { /* is rank 0 still there? */
      last_check = now;
      if (weft__mrank0_gone())
        return 3;
    }
    if (!rc && w->group)
      rc = weft__mgroup_round(w->group, &w->sends, &w->out);
    if (!rc && w->out.len)
      rc = post(w, w->up, WEFT__MT_DONE, &w->out);
    if (rc) {
      fprintf(stderr, "weft: worker rank %d: %s\n", weft__mpi_g.rank,
              weft_strerror(rc));
      return 2;
    }
    weft__msend_reap(&w->sends);
    if (progressed) {
      last_progress = weft__mnow();
      idle_ns = 50000;
      continue;
    }
    /* Nothing happened. Shortly after some work, more is likely (the next
     * task of a chain): give the core away but look again at once. */
    if (weft__mnow() - last_progress < WEFT__MPI_SPIN_NS) {
      sched_yield();
      continue;
    }
    /* Then sleep until a task finishes or it is time to look at MPI. */
    struct timespec ts = weft__mdeadline(idle_ns);
    pthread_mutex_lock(&w->mu);
    if (!w->done)
      pthread_cond_timedwait(&w->cv_comm, &w->mu, &ts);
    pthread_mutex_unlock(&w->mu);
    /* a leader looks at MPI at least every 100 us while a compute is
     * open, as rank 0 does every 200 us: its members' DONE messages and
     * rank 0's tasks for them cannot wake it */
    uint64_t most =
        w->pays.n || (w->group && (w->open_ || weft__mgroup_busy(w->group)))
            ? 100000
            : 1000000;
    if (idle_ns < most)
      idle_ns *= 2;
    if (idle_ns > most)
      idle_ns = most;
  }
}

int weft__mpi_serve(void) {
  worker w;
  memset(&w, 0, sizeof w);
  w.nb = 256;
  w.tab = calloc(w.nb, sizeof *w.tab);
  w.nthreads = weft__mpi_g.threads;
  w.th = calloc((size_t)w.nthreads, sizeof *w.th);
  w.up = weft__mpi_g.up;
  int gerr = 0;
  w.group = weft__mgroup_new(&gerr);
  if (!w.tab || !w.th || gerr) {
    fprintf(stderr, "weft: worker rank %d: out of memory\n", weft__mpi_g.rank);
    return 2;
  }
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv_work, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w.cv_comm, &ca);
  pthread_condattr_destroy(&ca);
  int started = 0;
  for (; started < w.nthreads; started++)
    if (pthread_create(&w.th[started], NULL, compute_main, &w))
      break;
  int status = started ? loop(&w) : 2;
  if (!started)
    fprintf(stderr, "weft: worker rank %d: cannot start threads\n",
            weft__mpi_g.rank);
  pthread_mutex_lock(&w.mu);
  w.quit = true;
  for (wtask *t = w.rq_head, *nx; t; t = nx) { /* not started: dropped */
    nx = t->next;
    task_free(t);
  }
  w.rq_head = w.rq_tail = NULL;
  pthread_cond_broadcast(&w.cv_work);
  pthread_mutex_unlock(&w.mu);
  if (status == 0)
    for (int k = 0; k < started; k++)
      pthread_join(w.th[k], NULL);
  /* (on a failure, a task may still run: the process exits anyway) */
  if (status == 0) {
    end_epoch(&w, UINT32_MAX);
    for (wtask *t = w.done, *nx; t; t = nx) {
      nx = t->next;
      task_free(t);
    }
    weft__mpay_cancel(&w.pays, -1);
    weft__msend_finish(&w.sends, 5.0);
    weft_buf_free(&w.in);
    weft_buf_free(&w.out);
    weft_buf_free(&w.scratch);
    free(w.tab);
    free(w.th);
    weft__mgroup_free(w.group);
  }
  return status;
}
