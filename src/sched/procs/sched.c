/* procs/sched.c - the procs scheduler: one compute over a pool of worker
 * processes, driven from the calling thread.
 *
 * The loop: ready tasks sit on a stack (the roots first, then, as tasks
 * finish, their newly ready successors: depth-first like sync.c, so a
 * result is consumed and freed soon after it is made). Each is sent to a
 * ready worker with its inputs resolved to values (weft__run_gather),
 * idle workers first; a worker whose tasks come back fast gets more queued
 * behind its running one (up to 1 ms of work by the recent average, at
 * most WEFT__PROCS_DEPTH; one more behind a long one while many wait),
 * which hides the round trip and lets the worker answer many tiny tasks
 * with one write. poll() waits for results (and for room in a worker's
 * socket, as tasks are queued without blocking); each result completes its
 * task (weft__run_complete) and readies successors. Events are published
 * with the worker's id. Some tasks run right here, from a stack of their
 * own, once the workers have theirs: weft_literal / weft_ref nodes
 * (identity: they only pass a value along) and tasks marked
 * WEFT__NF_LOCAL (weft_map's unpacking of a batch into the caller's
 * outputs); their events say worker -1. Beyond a task's start, end and
 * failure, events tell when a task is queued behind a worker's running one,
 * (a task's times are as this thread sees them: from when it was sent to
 * an idle worker, or when the result before it came back, to when its own
 * result came back),
 * when a worker is ready or lost, when a task is retried, and which tasks a
 * failure cancelled on their workers (all from this thread).
 *
 * Faults: a worker whose socket ends has died. It is reaped and its slot
 * gets a fresh worker at once. Its tasks go back on the stack as suspects:
 * a suspect is only sent to an idle worker, with nothing queued behind it,
 * so that if it kills that worker too, there is no doubt which task did.
 * A death is charged to a task only then - when it was the worker's only
 * task (with several in flight, the worker may have finished some whose
 * results it held back, so the oldest is not necessarily the culprit). A
 * task charged `retries` + 1 times fails the compute with WEFT_EKILLED
 * naming task, function, count and the last signal or exit status.
 * Results that came back are never lost: they were read before the end of
 * the stream was; the others are computed again. When the compute fails (a task
 * failed, a worker could not start), workers still running tasks of it
 * are killed, like joblib does, rather than waited for; the pool restarts
 * them at its next compute. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "sched/config.h"
#include "impl.h"
#include "sched/ready.h"
#include "sched/run.h"

/* How much work (by recent task durations) to queue behind a worker's
 * running task: tasks of 1 ms or more are never queued (a long task queued
 * behind another could have run elsewhere), tiny ones up to
 * WEFT__PROCS_DEPTH deep. */
#define QUEUE_NS 1000000ull
#define RING(w, k) (((w)->head + (k)) % WEFT__PROCS_DEPTH)

typedef struct psched {
  weft__run *r;
  weft_procs *p;
  int retries;
  weft__ready rq; /* ready tasks, for the workers and for here */
  uint32_t *kills;   /* per task: workers it killed (allocated at the first */
  uint8_t *suspect;  /* death), and whether it was on a worker that died */
  bool *solo;        /* per worker: running a suspect, alone */
  uint64_t *started; /* per worker: when its running task started */
  uint64_t *avgdur;  /* per worker: moving average of task durations */
  weft_task_ctx ctx;
  weft__scratch sc;
  struct pollfd *pf;
  int *who;
} psched;

/* s->who: the worker of each pollfd, this bit set on a pidfd's. */
#define WHO_PIDFD 0x40000000
/* Without pidfds, how often (ms) the processes are asked whether they
 * exited. */
#define NO_PIDFD_MS 50

int weft__procs_available(void) { return 1; }

/* Referenced by procs/pool.c so that a static link that takes the pool
 * also takes this file, whose strong definitions replace the weak
 * fallbacks of config.c. */
int weft__procs_sched_linked(void) { return 1; }

static bool stopped(const psched *s) {
  return atomic_load_explicit(&s->r->stop, memory_order_relaxed) ||
         atomic_load_explicit(&s->r->done, memory_order_relaxed);
}

/* Task i is done: its newly ready successors go onto the ready stacks
 * (ready.h). */
static void ready_successors(psched *s, uint32_t i) {
  uint32_t q = weft__ready_successors(&s->rq, s->r, i);
  if (q != UINT32_MAX) {
    s->ctx.message = NULL;
    weft__run_fail(s->r, &s->ctx, q, WEFT_ENOMEM);
  }
}

/* Events beyond weft__run_emit's: a task's end with its start time and
 * result size; a worker's start or loss (with how it ended). */
static void emit_end(psched *s, int worker, uint32_t i, uint64_t start,
                     uint64_t end, const weft_value *v) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = WEFT_EV_TASK_END;
  ev.worker = worker;
  ev.task = i;
  ev.fn = s->r->nodes[i].fn;
  ev.start_ns = start;
  ev.time_ns = end; /* the next queued task starts then: no overlap */
  ev.bytes = weft_value_nbytes(v);
  weft__run_publish(s->r, &ev);
}

static void emit_worker(psched *s, weft_event_kind kind, weft__pworker *w,
                        pid_t pid) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.worker = w->id;
  ev.pid = (int)pid;
  if (kind == WEFT_EV_WORKER_LOST) {
    ev.message = w->why;
    if (sscanf(w->why, "signal %d", &ev.signal) != 1)
      ev.signal = 0;
    if (!ev.signal && sscanf(w->why, "exit status %d", &ev.status) != 1)
      ev.status = 0;
  }
  weft__run_publish(s->r, &ev);
}

/* A result came from worker w. */
static int on_result(void *ud, weft__pworker *w, weft__presult *res) {
  psched *s = ud;
  weft__run *r = s->r;
  if (w->ninflight == 0 || res->id != w->inflight_id[w->head]) {
    weft_value_release(&res->value);
    snprintf(w->why, sizeof w->why,
             "protocol error: result of a task it was not running");
    return 1;
  }
  uint32_t i = w->inflight[w->head];
  uint64_t t_start = s->started[w->id];
  uint64_t now = weft__procs_now(), d = now - t_start;
  uint64_t *avg = &s->avgdur[w->id];
  *avg = *avg == UINT64_MAX ? d : *avg - *avg / 8 + d / 8;
  w->head = RING(w, 1);
  w->ninflight--;
  if (s->solo[w->id]) { /* a suspect survived: cleared */
    s->solo[w->id] = false;
    s->suspect[i] = 0;
  }
  if (w->ninflight) { /* the next queued task starts now */
    s->started[w->id] = now;
    if (r->listener)
      weft__run_emit(r, WEFT_EV_TASK_START, w->id, w->inflight[w->head], 0,
                     NULL);
  }
  if (stopped(s)) {
    weft_value_release(&res->value);
    return 0;
  }
  if (res->status) {
    s->ctx.worker = w->id;
    s->ctx.task = i;
    s->ctx.fn = r->nodes[i].fn;
    s->ctx.message = res->msg[0] ? strdup(res->msg) : NULL;
    weft__run_task_failed(r, &s->ctx, i, res->status, t_start);
    return 0;
  }
  if (r->listener)
    emit_end(s, w->id, i, t_start, now, &res->value);
  weft_value v = res->value;
  res->value = weft_none();
  if (weft__run_complete(r, i, v) == 0)
    ready_successors(s, i);
  return 0;
}

/* Sends task i to worker w. 0, or -1 when the compute failed. */
static int send_task(psched *s, weft__pworker *w, uint32_t i) {
  weft__run *r = s->r;
  weft_procs *p = s->p;
  weft__node *n = &r->nodes[i];
  uint32_t fn;
  const weft_value *args = NULL;
  char fnmsg[400] = "";
  int rc = weft__fntab_index(&p->fns, n->fn, &fn, fnmsg, sizeof fnmsg);
  if (!rc)
    rc = weft__procs_send_fns(p, w);
  if (!rc && !(args = weft__run_gather(r, &s->sc, i)) && n->nargs)
    rc = WEFT_ENOMEM; /* (a task without arguments may get NULL) */
  weft_wire_error err = {0};
  if (!rc) {
    const char *key =
        (n->flags & WEFT__NF_KEYED) ? weft__keys_name(&r->g->keys, i) : NULL;
    rc = weft__pmsg_put_task(&w->conn, p->next_id, i, fn, key, n->nargs, args,
                             p->shm_min, &err);
  }
  if (rc) {
    s->ctx.worker = w->id;
    s->ctx.message = NULL;
    if (fnmsg[0]) {
      s->ctx.message = strdup(fnmsg);
    } else if (rc == WEFT_ENOTSUP || rc == WEFT_EINVAL) {
      char m[300];
      snprintf(m, sizeof m, "cannot be sent to a worker process: %s", err.text);
      s->ctx.message = strdup(m);
    }
    weft__run_fail(r, &s->ctx, i, rc);
    return -1;
  }
  if (s->suspect && s->suspect[i])
    s->solo[w->id] = true;
  w->inflight[RING(w, w->ninflight)] = i;
  w->inflight_id[RING(w, w->ninflight)] = p->next_id++;
  if (w->ninflight++ == 0) {
    s->started[w->id] = weft__procs_now();
    if (r->listener)
      weft__run_emit(r, WEFT_EV_TASK_START, w->id, i, 0, NULL);
  } else if (r->listener) {
    weft__run_emit(r, WEFT_EV_TASK_QUEUED, w->id, i, 0, NULL);
  }
  return 0;
}

/* The next task to send. UINT32_MAX when none, or when it is a suspect
 * and the worker is not idle (it is left on the stack). */
static uint32_t next_task(psched *s, bool idle) {
  if (!s->rq.sp || stopped(s))
    return UINT32_MAX;
  uint32_t i = s->rq.stack[s->rq.sp - 1];
  if (s->suspect && s->suspect[i] && !idle)
    return UINT32_MAX;
  s->rq.sp--;
  return i;
}

/* Runs the tasks of the local stack here, in the program, after dispatch
 * has given the workers theirs; the ones they make ready too. */
static void run_local(psched *s) {
  s->sc.last_t = 0; /* (events) time since the last local task is not its */
  while (s->rq.lsp && !stopped(s)) {
    uint32_t i = s->rq.local[--s->rq.lsp];
    s->ctx.worker = -1; /* no worker of the pool */
    if (weft__run_task(s->r, &s->ctx, &s->sc, i) == 0)
      ready_successors(s, i);
  }
}

/* How many tasks worker k may have in flight. A long task gets one more
 * queued behind it while many are ready (more than two per worker): the
 * worker then starts it the moment it sends a result, instead of idling
 * while the parent reads that result and sends the next; with few tasks
 * left, long ones go only to idle workers, so none waits behind another
 * that could have run elsewhere. */
static int max_depth(const psched *s, int k) {
  uint64_t d = s->avgdur[k];
  if (d == UINT64_MAX || s->solo[k]) /* nothing came back yet in this */
    return 1;                        /* compute, or running a suspect */
  uint64_t n = 1 + QUEUE_NS / (d + 1);
  if (n < 2 && s->rq.sp > 2 * (size_t)s->p->n)
    n = 2;
  return n > WEFT__PROCS_DEPTH ? WEFT__PROCS_DEPTH : (int)n;
}

/* Hands out ready tasks, level by level: every idle worker gets one, then
 * each fast one a second, and so on. */
static void dispatch(psched *s) {
  weft_procs *p = s->p;
  int top = 1;
  for (int k = 0; k < p->n; k++) {
    int m = max_depth(s, k);
    top = m > top ? m : top;
  }
  for (int depth = 0; depth < top; depth++) {
    for (int k = 0; k < p->n; k++) {
      weft__pworker *w = &p->w[k];
      if (w->state != WEFT__W_READY || w->ninflight != depth ||
          depth >= max_depth(s, k))
        continue;
      uint32_t i = next_task(s, depth == 0);
      if (i == UINT32_MAX) /* none left, or a suspect waits for an idle one */
        return;
      if (send_task(s, w, i))
        return;
    }
  }
}

/* Worker w has died (or broke the protocol): reap it, give its tasks back
 * or fail the one it was running, start a new one in its slot. */
static void on_death(psched *s, weft__pworker *w) {
  weft__run *r = s->r;
  weft_procs *p = s->p;
  bool was_ready = w->state == WEFT__W_READY;
  pid_t pid = w->pid;
  int n = w->ninflight;
  uint32_t tasks[WEFT__PROCS_DEPTH];
  for (int k = 0; k < n; k++)
    tasks[k] = w->inflight[RING(w, k)];
  if (w->why[0]) /* a protocol error: it may well be alive */
    weft__procs_kill(w);
  weft__procs_reap(p, w);
  if (r->listener)
    emit_worker(s, WEFT_EV_WORKER_LOST, w, pid);
  if (!was_ready) {
    weft__run_failf(s->r, UINT32_MAX, w->id, WEFT_ESYS,
             "worker %d (pid %d) died while starting (%s)", w->id, (int)pid,
             w->why);
    return;
  }
  s->solo[w->id] = false;
  if (n && !s->kills) {
    s->kills = calloc(r->g->nnodes, sizeof *s->kills);
    s->suspect = calloc(r->g->nnodes, 1);
    if (!s->kills || !s->suspect) {
      weft__run_failf(s->r, tasks[0], w->id, WEFT_ENOMEM, "out of memory");
      return;
    }
  }
  if (n == 1 && ++s->kills[tasks[0]] > (uint32_t)s->retries) {
    uint32_t i = tasks[0];
    char key[256];
    weft__graph_key_of(r->g, i, key, sizeof key);
    weft__run_failf(s->r, i, w->id, WEFT_EKILLED,
             "task '%s' (%s) killed its worker %u time%s (last: %s)", key,
             r->nodes[i].fn->name, s->kills[i], s->kills[i] == 1 ? "" : "s",
             w->why);
    return;
  }
  for (int k = n; k-- > 0;) { /* the oldest ends on top */
    if (r->listener)
      weft__run_emit(r, WEFT_EV_TASK_RETRY, w->id, tasks[k], 0, w->why);
    s->suspect[tasks[k]] = 1;
    if (weft__ready_push(&s->rq, s->r, tasks[k])) {
      weft__run_failf(s->r, tasks[k], w->id, WEFT_ENOMEM, "out of memory");
      return;
    }
  }
  char msg[256];
  if (weft__procs_spawn(p, w, msg, sizeof msg))
    weft__run_failf(s->r, UINT32_MAX, w->id, WEFT_ESYS, "%s", msg);
}

/* After a failure: kill the workers still busy with this compute. */
static void cancel(psched *s) {
  for (int k = 0; k < s->p->n; k++) {
    weft__pworker *w = &s->p->w[k];
    if (w->state == WEFT__W_READY && w->ninflight) {
      for (int j = 0; s->r->listener && j < w->ninflight; j++) {
        uint32_t i = w->inflight[RING(w, j)];
        if (!s->r->fin[i])
          weft__run_emit(s->r, WEFT_EV_TASK_CANCEL, w->id, i, WEFT_ECANCELED,
                         NULL);
      }
      weft__procs_kill(w);
      snprintf(w->why, sizeof w->why, "cancelled");
      weft__procs_reap(s->p, w);
    }
  }
}

static void loop(psched *s) {
  weft_procs *p = s->p;
  while (!stopped(s)) {
    dispatch(s);
    if (stopped(s))
      break;
    int k = 0, inflight = 0, starting = 0;
    bool no_pidfd = false;
    uint64_t now = weft__procs_now(), next = UINT64_MAX;
    for (int j = 0; j < p->n; j++) {
      weft__pworker *w = &p->w[j];
      if (w->state == WEFT__W_DEAD)
        continue;
      if (weft__conn_pending(&w->conn) && weft__conn_flush(&w->conn) < 0) {
        /* Its socket is broken: the read side tells why, below. */
      }
      if (w->state == WEFT__W_STARTING) {
        if (now >= w->deadline) {
          weft__procs_kill(w);
          snprintf(w->why, sizeof w->why, "did not start in time");
          weft__procs_reap(p, w);
          weft__run_failf(s->r, UINT32_MAX, j, WEFT_ESYS,
                   "worker %d did not start within %d ms", j, p->start_ms);
          return;
        }
        starting++;
        if (w->deadline < next)
          next = w->deadline;
      }
      inflight += w->ninflight;
      s->pf[k].fd = w->conn.fd;
      s->pf[k].events =
          (short)(POLLIN | (weft__conn_pending(&w->conn) ? POLLOUT : 0));
      s->pf[k].revents = 0;
      s->who[k++] = j;
      if (w->pidfd >= 0) { /* readable once the process has exited */
        s->pf[k].fd = w->pidfd;
        s->pf[k].events = POLLIN;
        s->pf[k].revents = 0;
        s->who[k++] = j | WHO_PIDFD;
      } else {
        no_pidfd = true;
      }
    }
    if (!inflight && !starting && !s->rq.sp && !s->rq.lsp)
      return; /* nothing left to wait for (compute.c reports it) */
    int ms = next == UINT64_MAX ? -1 : (int)((next - now) / 1000000ull) + 1;
    if (no_pidfd && (ms < 0 || ms > NO_PIDFD_MS))
      ms = NO_PIDFD_MS; /* look at the processes themselves now and then */
    if (s->rq.lsp) /* local work to do: only look whether results came */
      ms = 0;
    int n = poll(s->pf, (nfds_t)k, ms);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      weft__run_failf(s->r, UINT32_MAX, -1, WEFT_ESYS, "poll: %s", strerror(errno));
      return;
    }
    for (int j = 0; j < k && n >= 0; j++) {
      short ev = s->pf[j].revents;
      bool pidfd = s->who[j] & WHO_PIDFD;
      weft__pworker *w = &p->w[s->who[j] & ~WHO_PIDFD];
      if (w->state == WEFT__W_DEAD)
        continue;
      if (pidfd || (no_pidfd && w->pidfd < 0)) {
        /* The process itself: gone even if its socket lives on in a
         * background child. Asked again by pid, as the slot may hold a
         * new worker by now. Read what it sent first. */
        if ((pidfd && !ev) || !weft__procs_exited(w))
          continue;
        weft__procs_drain(p, w, on_result, s);
        if (w->state != WEFT__W_DEAD && !stopped(s))
          on_death(s, w);
        continue;
      }
      if (!ev)
        continue;
      int rc = 0;
      weft__wstate before = w->state;
      if ((ev & POLLOUT) && weft__conn_flush(&w->conn) < 0)
        ev |= POLLIN; /* read what it said before it went */
      if (ev & (POLLIN | POLLHUP | POLLERR))
        rc = weft__procs_pump(p, w, on_result, s);
      if (!rc && before == WEFT__W_STARTING && w->state == WEFT__W_READY &&
          s->r->listener)
        emit_worker(s, WEFT_EV_WORKER_START, w, w->pid);
      if (rc)
        on_death(s, w);
    }
    if (s->rq.lsp && !stopped(s))
      run_local(s);
  }
}

static int run(weft_procs *p, weft__run *r, int retries) {
  psched s;
  memset(&s, 0, sizeof s);
  s.r = r;
  s.p = p;
  s.retries = retries;
  s.ctx.graph = r->g;
  s.pf = malloc(2 * (size_t)p->n * sizeof *s.pf);
  s.who = malloc(2 * (size_t)p->n * sizeof *s.who);
  s.started = calloc((size_t)p->n, sizeof *s.started);
  s.avgdur = malloc((size_t)p->n * sizeof *s.avgdur);
  s.solo = calloc((size_t)p->n, sizeof *s.solo);
  int rc = s.pf && s.who && s.started && s.avgdur && s.solo ? 0 : WEFT_ENOMEM;
  if (!rc)
    rc = weft__fntab_sync(&p->fns);
  for (size_t k = r->plan.nroots; !rc && k-- > 0;) /* first root on top */
    rc = weft__ready_push(&s.rq, r, r->plan.roots[k]);
  if (rc) {
    snprintf(r->msg, sizeof r->msg, "out of memory");
  } else {
    for (int k = 0; k < p->n; k++)
      s.avgdur[k] = UINT64_MAX; /* no queueing before a task came back */
    char msg[256];
    for (int k = 0; k < p->n && !stopped(&s); k++) {
      weft__pworker *w = &p->w[k];
      if (w->state == WEFT__W_DEAD && weft__procs_spawn(p, w, msg, sizeof msg))
        weft__run_failf(s.r, UINT32_MAX, k, WEFT_ESYS, "%s", msg);
      else if (w->state != WEFT__W_DEAD && weft__procs_send_fns(p, w))
        weft__run_failf(s.r, UINT32_MAX, k, WEFT_ENOMEM, "out of memory");
      else if (w->state == WEFT__W_READY && r->listener)
        emit_worker(&s, WEFT_EV_WORKER_START, w, w->pid); /* in this compute */
    }
    weft_task_ctx *outer = weft_task_current();
    weft__task_set_current(&s.ctx);
    loop(&s);
    weft__task_set_current(outer);
    if (atomic_load(&r->stop))
      cancel(&s);
  }
  weft__ready_free(&s.rq);
  free(s.kills);
  free(s.suspect);
  free(s.solo);
  free(s.sc.args);
  free(s.pf);
  free(s.who);
  free(s.started);
  free(s.avgdur);
  return rc;
}

int weft__sched_procs(weft__run *r, const weft__config *cfg,
                      const weft_compute_opts *opts) {
  weft_procs *pool = opts ? opts->procs : NULL;
  bool own = !pool;
  if (own) {
    weft_procs_opts po;
    weft_procs_opts_init(&po);
    po.retries = cfg->retries;
    int rc = weft__procs_new(cfg->workers, &po, &pool, r->msg, sizeof r->msg);
    if (rc)
      return rc;
  }
  int retries = opts && opts->retries >= 0 ? opts->retries : pool->retries;
  pthread_mutex_lock(&pool->mu);
  r->workers = pool->n;
  int rc = run(pool, r, retries);
  pthread_mutex_unlock(&pool->mu);
  if (own)
    weft_procs_free(pool);
  return rc;
}
