/* mpi/replica_worker.c - a worker rank in the replicated mode: it gets its
 * part of the compute once (a GRAPH message from rank 0 holding only its
 * own nodes, read by mpi/replica_graph.c), runs those nodes on its own
 * compute threads as their inputs arrive, and pushes each result, unasked,
 * to the ranks its part names for it (those owning a consumer: never
 * through rank 0; rank 0 itself for outputs and the inputs of tasks that
 * run in the program). Rank 0 hears only those values, task errors, beats
 * and, when it listens, per-task times (records laid out in mpi/impl.h).
 *
 * A rank holds its own results, and the inputs pushed to it, until its
 * last local consumer has taken them; it drops everything when rank 0
 * says the compute is over (END), or when the next GRAPH comes (rank 0
 * sends it only after END). Ready nodes run depth first (the first
 * successor next), at most threads + 1 queued, as the threads scheduler
 * would: few results alive at once. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/task.h"
#include "replica.h"

/* ---- PUSH / BIG messages that came before their GRAPH ---- */

typedef struct early {
  int src, tag;
  uint32_t epoch;
  weft_buf b;
  struct early *next;
} early;

static early *g_early;    /* oldest first (the comm thread's alone) */
static uint32_t g_rended; /* replicated computes up to this one are over */

static int msg_epoch(int tag, const weft_buf *b, uint32_t *epoch) {
  weft__prd r = {b->data, b->data + b->len};
  uint8_t op = 0;
  if (tag == WEFT__MT_PUSH && weft__prd_u8(&r, &op))
    return WEFT_EWIRE;
  return weft__prd_u32(&r, epoch) ? WEFT_EWIRE : 0;
}

int weft__rep_early(int src, int tag, weft_buf *msg) {
  uint32_t epoch;
  if (msg_epoch(tag, msg, &epoch) || epoch <= g_rended)
    return 0; /* of a compute over already */
  early *e = calloc(1, sizeof *e), **pp = &g_early;
  if (!e)
    return WEFT_ENOMEM;
  e->src = src;
  e->tag = tag;
  e->epoch = epoch;
  e->b = *msg;
  weft_buf_init(msg);
  while (*pp)
    pp = &(*pp)->next;
  *pp = e;
  return 0;
}

void weft__rep_end(uint32_t epoch) {
  if (epoch > g_rended)
    g_rended = epoch;
  for (early **pp = &g_early; *pp;) {
    early *e = *pp;
    if (e->epoch > g_rended) {
      pp = &e->next;
      continue;
    }
    *pp = e->next;
    weft_buf_free(&e->b);
    free(e);
  }
}

/* ---- one compute ---- */

static void *rep_thread(void *arg) {
  weft__rep *s = arg;
  pthread_mutex_lock(&s->mu);
  int me = s->next_thread++; /* this thread's index, for the trace */
  for (;;) {
    while (!s->qh && !s->quit)
      pthread_cond_wait(&s->cv_work, &s->mu);
    if (!s->qh)
      break;
    weft__rtask *t = s->qh;
    s->qh = t->next;
    if (!s->qh)
      s->qt = NULL;
    pthread_mutex_unlock(&s->mu);
    weft__rnode *d = &s->nd[t->i];
    t->status =
        weft__mrun_task(d->fn, d->id, d->key, t->args, t->nargs, &t->out,
                        &t->us, &t->end_ns, t->msg, sizeof t->msg);
    t->thread = me;
    pthread_mutex_lock(&s->mu);
    t->next = s->done;
    s->done = t;
    pthread_cond_signal(&s->cv_comm);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static void task_free(weft__rtask *t) {
  for (uint32_t k = 0; t->args && k < t->nargs; k++)
    weft_value_release(&t->args[k]);
  weft_value_release(&t->out);
  free(t->args);
  free(t);
}

/* ---- the communication thread's work ---- */

static int put_val(weft_buf *b, uint8_t op, uint32_t epoch, uint32_t i,
                   const weft_buf *enc) {
  int rc = op ? weft__pput_u8(b, op) : 0;
  if (!rc)
    rc = weft__pput_u32(b, epoch);
  if (!rc)
    rc = weft__pput_varint(b, i);
  if (!rc)
    rc = weft_buf_append(b, enc->data, enc->len);
  return rc;
}

static int put_err(weft__rep *s, uint32_t i, int status, const char *msg) {
  weft_buf *b = &s->batch[0];
  int rc = weft__pput_u8(b, WEFT__MR_ERR);
  if (!rc)
    rc = weft__pput_u32(b, s->epoch);
  if (!rc)
    rc = weft__pput_varint(b, s->nd[i].pos);
  if (!rc)
    rc = weft__pput_u32(b, (uint32_t)(int32_t)status);
  if (!rc)
    rc = weft__pput_bytes(b, msg, strlen(msg));
  s->stopping = true;
  return rc;
}

/* Slot i's value v (taken over) is here: its consumers count down. */
static void arrived(weft__rep *s, uint32_t i, weft_value v) {
  s->have[i] = 1;
  if (s->uses[i] > 0)
    s->val[i] = v;
  else
    weft_value_release(&v);
  /* the first consumer on top of the stack: pushed last */
  for (uint32_t e = s->coff[i + 1]; e-- > s->coff[i];) {
    uint32_t c = s->cons[e];
    if (--s->pending[c] == 0)
      s->stack[s->sp++] = c;
  }
}

/* Task t finished here: tell whoever needs it (its part's destinations). */
static int finished(weft__rep *s, weft__rtask *t) {
  uint32_t i = t->i;
  const weft__rnode *d = &s->nd[i];
  if (t->status)
    return put_err(s, i, t->status, t->msg);
  uint64_t nbytes = 0;
  if (d->ndest || s->timing) {
    weft_wire_error err = {0};
    weft_buf_clear(&s->enc);
    int rc = weft_wire_encode(&t->out, &s->enc, &err);
    if (rc == WEFT_ENOTSUP && d->ndest) {
      char m[400];
      snprintf(m, sizeof m, "its result cannot leave rank %d: %.300s", s->me,
               err.text);
      return put_err(s, i, WEFT_ENOTSUP, m);
    }
    if (rc && rc != WEFT_ENOTSUP)
      return rc;
    nbytes = rc ? 0 : s->enc.len;
  }
  for (uint32_t q = d->doff; q < d->doff + d->ndest; q++) {
    int k = s->drank[q], rc;
    if (s->enc.len > weft__mpi_g.apart) { /* alone in its message */
      weft_buf b = WEFT_BUF_INIT;
      rc = put_val(&b, 0, s->epoch, s->dslot[q], &s->enc);
      if (!rc)
        rc = weft__msend_post(s->sends, k, WEFT__MT_BIG, &b);
      weft_buf_free(&b);
      if (k == 0)
        s->last0 = weft__mnow();
    } else
      rc = put_val(&s->batch[k], WEFT__MR_VAL, s->epoch, s->dslot[q], &s->enc);
    if (rc)
      return rc;
  }
  if (s->timing) {
    weft_buf *b = &s->batch[0];
    int rc = weft__pput_u8(b, WEFT__MR_TIME);
    if (!rc)
      rc = weft__pput_u32(b, s->epoch);
    if (!rc)
      rc = weft__pput_varint(b, d->pos);
    if (!rc)
      rc = weft__pput_u32(b, t->us);
    if (!rc)
      rc = weft__pput_varint(b, (uint64_t)t->thread);
    if (!rc) /* when it ended, by this rank's clock */
      rc = weft__pput_u64(b, t->end_ns);
    if (!rc)
      rc = weft__pput_u64(b, nbytes ? nbytes : 1);
    if (rc)
      return rc;
  }
  weft_value v = t->out;
  t->out = weft_none();
  arrived(s, i, v);
  return 0;
}

/* A VAL record or BIG message for this compute. */
static int on_val(weft__rep *s, weft__prd *r) {
  uint64_t i;
  if (weft__prd_varint(r, &i) || i < s->n || i >= s->ns)
    return WEFT_EWIRE; /* only the inputs from other ranks come so */
  weft_value v = weft_none();
  size_t used = 0;
  weft_wire_error err = {0};
  int rc = weft_wire_decode(r->p, (size_t)(r->end - r->p), &used, &v, &err);
  if (rc)
    return rc;
  r->p += used;
  if (s->have[i]) {
    weft_value_release(&v);
    return 0;
  }
  arrived(s, (uint32_t)i, v);
  return 0;
}

static int on_push(weft__rep *s, int tag, const weft_buf *b) {
  weft__prd r = {b->data, b->data + b->len};
  while (r.p < r.end) {
    uint8_t op = WEFT__MR_VAL;
    uint32_t epoch;
    if ((tag == WEFT__MT_PUSH && weft__prd_u8(&r, &op)) || op != WEFT__MR_VAL ||
        weft__prd_u32(&r, &epoch))
      return WEFT_EWIRE;
    if (epoch != s->epoch)
      return 0; /* a whole message is of one compute */
    int rc = on_val(s, &r);
    if (rc)
      return rc;
    if (tag == WEFT__MT_BIG)
      return r.p == r.end ? 0 : WEFT_EWIRE;
  }
  return 0;
}

/* Hands ready nodes to the compute threads, at most threads + 1 queued. */
static int dispatch(weft__rep *s) {
  while (s->sp && !s->stopping && s->inflight < s->nth + 1) {
    uint32_t i = s->stack[--s->sp];
    weft__rnode *d = &s->nd[i];
    weft__rtask *t = calloc(1, sizeof *t);
    if (!t || !(t->args = calloc(d->nargs ? d->nargs : 1, sizeof *t->args))) {
      free(t);
      return WEFT_ENOMEM;
    }
    t->i = i;
    t->nargs = d->nargs;
    for (uint32_t k = 0; k < d->nargs; k++)
      t->args[k] = weft_value_retain(&d->args[k]);
    for (uint32_t e = s->inoff[i]; e < s->inoff[i + 1]; e++) {
      uint32_t p = s->in[e];
      t->args[s->inpos[e]] = weft_value_retain(&s->val[p]);
      if (--s->uses[p] == 0)
        weft_value_release(&s->val[p]);
    }
    s->inflight++;
    pthread_mutex_lock(&s->mu);
    if (s->qt)
      s->qt->next = t;
    else
      s->qh = t;
    s->qt = t;
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
  }
  return 0;
}

static int drain(weft__rep *s, bool *progressed, bool ending) {
  pthread_mutex_lock(&s->mu);
  weft__rtask *d = s->done;
  s->done = NULL;
  pthread_mutex_unlock(&s->mu);
  weft__rtask *rev = NULL; /* oldest first */
  while (d) {
    weft__rtask *nx = d->next;
    d->next = rev;
    rev = d;
    d = nx;
  }
  int rc = 0;
  for (weft__rtask *t = rev, *nx; t; t = nx) {
    nx = t->next;
    *progressed = true;
    s->inflight--;
    if (!rc && !ending)
      rc = finished(s, t);
    task_free(t);
  }
  return rc;
}

static int flush(weft__rep *s) {
  for (int k = 0; k < weft__mpi_g.size; k++) {
    if (!s->batch[k].len)
      continue;
    int rc = weft__msend_post(s->sends, k, k ? WEFT__MT_PUSH : WEFT__MT_DONE,
                              &s->batch[k]);
    if (rc)
      return rc;
    if (k == 0)
      s->last0 = weft__mnow();
  }
  weft__msend_reap(s->sends);
  return 0;
}

/* A SCHED message during the compute: 1 when it ends it (END, QUIT, the
 * next GRAPH kept in *next), 2 on QUIT. */
static int on_sched(weft__rep *s, weft_buf *b, weft_buf *next) {
  weft__prd r = {b->data, b->data + b->len};
  while (r.p < r.end) {
    uint8_t op;
    uint32_t epoch;
    if (weft__prd_u8(&r, &op))
      return WEFT_EWIRE;
    if (op == WEFT__MR_GRAPH) {
      if (weft__prd_u32(&r, &epoch))
        return WEFT_EWIRE;
      if (epoch <= s->epoch)
        return 0;
      weft_buf_free(next);
      *next = *b; /* rank 0 sent it after ending this one */
      weft_buf_init(b);
      return 1;
    }
    if (op == WEFT__MR_END) {
      if (weft__prd_u32(&r, &epoch))
        return WEFT_EWIRE;
      if (epoch >= s->epoch)
        return 1;
      continue;
    }
    if (op == WEFT__MR_QUIT) {
      uint8_t skip = 0;
      weft__prd_u8(&r, &skip);
      weft__mpi_g.no_finalize = skip != 0;
      return 2;
    }
    return WEFT_EWIRE; /* rank 0 sends nothing else meanwhile */
  }
  return 0;
}

/* Serves one compute. 0 when it ended, 1 on QUIT, or an error. */
static int serve(weft__rep *s, weft_buf *next) {
  weft_buf in = WEFT_BUF_INIT;
  /* Inputs pushed by other ranks do not wake the condition variable: look
   * at MPI at least every 200 us while idle (worker.c's 1 ms would be paid
   * per layer of the graph). */
  uint64_t idle_ns = 20000, last_progress = weft__mnow(), last_check = 0;
  int ended = 0, rc = 0;
  /* what came before the GRAPH */
  for (early **pp = &g_early; *pp && !rc;) {
    early *e = *pp;
    if (e->epoch > s->epoch) {
      pp = &e->next;
      continue;
    }
    *pp = e->next;
    if (e->epoch == s->epoch)
      rc = on_push(s, e->tag, &e->b);
    weft_buf_free(&e->b);
    free(e);
  }
  while (!rc) {
    bool progressed = false;
    int src, tag;
    /* once ended, what comes next is worker.c's (a central compute) */
    while (!rc && !ended && (rc = weft__mrecv(&in, &src, &tag)) == 1) {
      progressed = true;
      rc = 0;
      if (tag == WEFT__MT_PUSH || tag == WEFT__MT_BIG) {
        uint32_t epoch;
        if (msg_epoch(tag, &in, &epoch))
          rc = WEFT_EWIRE;
        else if (epoch > s->epoch)
          rc = weft__rep_early(src, tag, &in);
        else if (epoch == s->epoch)
          rc = on_push(s, tag, &in);
      } else if (tag == WEFT__MT_SCHED) {
        int e = on_sched(s, &in, next);
        if (e < 0)
          rc = e;
        else if (e > ended)
          ended = e;
      } /* FETCH / DATA of an earlier central compute: nobody waits */
    }
    if (rc < 0)
      break;
    if (ended) { /* tasks queued but not started: dropped */
      pthread_mutex_lock(&s->mu);
      for (weft__rtask *t = s->qh, *nx; t; t = nx) {
        nx = t->next;
        task_free(t);
        s->inflight--;
      }
      s->qh = s->qt = NULL;
      pthread_mutex_unlock(&s->mu);
    }
    rc = drain(s, &progressed, ended != 0);
    if (!rc && !ended)
      rc = dispatch(s);
    if (rc)
      break;
    if (ended && !s->inflight)
      break;
    uint64_t now = weft__mnow();
    if (!s->batch[0].len && now - s->last0 >= WEFT__MPI_BEAT_NS)
      rc = weft__pput_u8(&s->batch[0], WEFT__MR_BEAT);
    if (!rc && !ended)
      rc = flush(s);
    else if (!rc && s->batch[0].len) { /* only the beat, while ending */
      for (int k = 1; k < weft__mpi_g.size; k++)
        weft_buf_clear(&s->batch[k]);
      rc = flush(s);
    }
    if (rc)
      break;
    if (now - last_check >= WEFT__MPI_BEAT_NS) {
      last_check = now;
      if (weft__mrank0_gone())
        _exit(3);
    }
    if (progressed) {
      last_progress = weft__mnow();
      idle_ns = 20000;
      continue;
    }
    if (weft__mnow() - last_progress < WEFT__MPI_SPIN_NS) {
      sched_yield();
      continue;
    }
    struct timespec ts = weft__mdeadline(idle_ns);
    pthread_mutex_lock(&s->mu);
    if (!s->done)
      pthread_cond_timedwait(&s->cv_comm, &s->mu, &ts);
    pthread_mutex_unlock(&s->mu);
    if (idle_ns < 200000)
      idle_ns *= 2;
  }
  weft_buf_free(&in);
  if (rc > 0)
    rc = 0;
  return rc ? rc : ended == 2;
}

/* This rank's GRAPH part: run its compute. 0, 1 on QUIT, error. */
static int serve_graph(weft_buf *msg, weft__msends *sends, weft_buf *next) {
  weft__rep s;
  memset(&s, 0, sizeof s);
  s.sends = sends;
  s.last0 = weft__mnow();
  weft__prd r = {msg->data, msg->data + msg->len};
  uint8_t op;
  int rc = weft__prd_u8(&r, &op) || op != WEFT__MR_GRAPH ||
                   weft__prd_u32(&r, &s.epoch)
               ? WEFT_EWIRE
               : 0;
  if (!rc && s.epoch <= g_rended) {
    weft__rep_free(&s); /* over before it got here */
    return 0;
  }
  if (!rc)
    rc = weft__rep_parse(&s, &r);
  if (!rc && s.unknown) {
    uint32_t i = s.unknown - 1;
    char m[400];
    snprintf(m, sizeof m,
             "function '%.200s' is not registered on rank %d "
             "(WEFT_REGISTER it: tasks travel by name)",
             s.fnames[s.nd[i].fi], s.me);
    rc = put_err(&s, i, WEFT_ENOTFOUND, m);
  }
  if (!rc) {
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv_work, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s.cv_comm, &ca);
    pthread_condattr_destroy(&ca);
    int want = weft__mpi_g.threads > 0 ? weft__mpi_g.threads : 1;
    if (!(s.th = calloc((size_t)want, sizeof *s.th)))
      rc = WEFT_ENOMEM;
    for (; !rc && s.nth < want; s.nth++)
      if (pthread_create(&s.th[s.nth], NULL, rep_thread, &s))
        break;
    if (!rc && !s.nth)
      rc = WEFT_ESYS;
    if (!rc)
      rc = serve(&s, next);
    pthread_mutex_lock(&s.mu);
    s.quit = true;
    for (weft__rtask *t = s.qh, *nx; t; t = nx) {
      nx = t->next;
      task_free(t);
    }
    s.qh = s.qt = NULL;
    pthread_cond_broadcast(&s.cv_work);
    pthread_mutex_unlock(&s.mu);
    for (int k = 0; k < s.nth; k++)
      pthread_join(s.th[k], NULL);
    for (weft__rtask *t = s.done, *nx; t; t = nx) {
      nx = t->next;
      task_free(t);
    }
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv_work);
    pthread_cond_destroy(&s.cv_comm);
  }
  if (s.epoch > g_rended)
    g_rended = s.epoch;
  weft__rep_free(&s);
  return rc;
}

int weft__rep_serve(weft_buf *msg, weft__msends *sends) {
  weft_buf cur = *msg, next = WEFT_BUF_INIT;
  weft_buf_init(msg);
  int rc;
  for (;;) {
    rc = serve_graph(&cur, sends, &next);
    weft_buf_free(&cur);
    if (rc || !next.len)
      break;
    cur = next; /* the next compute's GRAPH came first */
    weft_buf_init(&next);
  }
  weft_buf_free(&next);
  if (rc < 0)
    fprintf(stderr, "weft: worker rank %d: replicated compute: %s\n",
            weft__mpi_g.rank, weft_strerror(rc));
  return rc;
}
