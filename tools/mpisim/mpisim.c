/* mpisim.c - a discrete-event model of the mpi scheduler, to see where one
 * central scheduler on rank 0 stops keeping up (docs/scaling.md). Not part
 * of the library: the program `weft_mpisim`, and tests/test_mpisim.c, which
 * includes this file with MPISIM_NO_MAIN defined.
 *
 * The model, driven by rank 0's costs as bench/bench_mpi.c measures them:
 *   - R worker ranks of T threads; a layered random DAG (the benchmark's
 *     shape) of `layers` x `width` tasks of task_us each, each with 1 to 3
 *     inputs from the layer before, results of `bytes` bytes;
 *   - rank 0 is one server working in rounds: it handles the messages that
 *     have arrived (msg_us each, done_us per finished task in them), then
 *     hands out ready tasks newest first (task_us each), one message per
 *     rank per round (msg_us each) - what mpi/sched.c does;
 *   - a task goes to the rank of its first input when that rank has room
 *     (owner computes), else to the next rank with room; a rank holds up to
 *     ceil(1.1 T) tasks, more for tasks under 1 ms (about 1 ms of work);
 *     capacity frees when rank 0 has read the DONE;
 *   - a rank runs a task when it has arrived (latency lat_us), its inputs
 *     from other ranks have come (latency + bytes / bw_gbs, rank to rank,
 *     nothing for rank 0) and a thread is free; it reports what finished
 *     within wk_us in one message.
 * Modes: central (what is built); groups of G ranks (the design for graphs
 * other than arrays, built: WEFT_MPI_MODE=groups): rank 0 hands each group's
 * leader its tasks, one message per group per round, and the leader places
 * them on its ranks; every group is the central model on G ranks, and rank
 * 0 still decides every task (successors, group, encoding: fwd_us per task,
 * by default task_cost_us: bench_mpi measures the same cost per task in both
 * modes) but handles one message per group, not per rank; replicated (what
 * mpi/replica_*.c do, WEFT_MPI_MODE=replicated: rank 0 works out the
 * owner map and encodes each rank's part, enc_us per task, then sends the
 * parts one after the other, msg_cost_us each, their bytes (node_bytes per
 * task, n x node_bytes in all) one after the other on rank 0's link; each
 * rank reads only its part, parse_us per task it owns; then no scheduler
 * in the loop: each rank runs the tasks it owns, prune_us each, one
 * exchange of results per layer).
 * Output: makespan, efficiency (work / (R x T x makespan)), rank 0's busy
 * fraction and the task rate. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct simcfg {
  int ranks, threads, layers;
  long width;              /* tasks per layer; <= 0: 2 x ranks x threads */
  double task_us, bytes;   /* work and result size of a task */
  double task_cost_us;     /* rank 0: placing and encoding one task */
  double msg_cost_us;      /* rank 0: one message in or out */
  double done_cost_us;     /* rank 0: one finished task in a DONE */
  double wk_us;            /* a worker gathers finishes this long */
  double lat_us, bw_gbs;   /* network */
  double fwd_us, prune_us; /* groups / replicated modes */
  int group;               /* 0 central, G > 0 groups, -1 replicated */
  double enc_us, parse_us, node_bytes; /* replicated: the graph's cost */
  uint64_t seed;
} simcfg;

typedef struct simres {
  double makespan_s, efficiency, rank0_busy, tasks_per_s;
  long tasks, msgs;
} simres;

void mpisim_defaults(simcfg *c) {
  memset(c, 0, sizeof *c);
  c->ranks = 100;
  c->threads = 32;
  c->layers = 5;
  c->task_us = 10000;
  c->bytes = 1 << 20;
  c->task_cost_us = 0.7; /* bench_mpi (docs/scaling.md): per task, */
  c->msg_cost_us = 0.9;  /* per message, */
  c->done_cost_us = 0;   /* (in the per-task cost) */
  c->wk_us = 20;
  c->lat_us = 5;
  c->bw_gbs = 10;
  c->fwd_us = -1; /* groups: rank 0's cost per task = task_cost_us */
  c->prune_us = 0.05;
  c->enc_us = 0.25;    /* bench_mpi: rank 0's CPU per task, replicated */
  c->parse_us = 0.2;   /* a worker rank's reading of its part, per own task */
  c->node_bytes = 30;  /* a GRAPH part's bytes per task */
  c->seed = 1;
}

/* ---- events ---- */

enum { E_DONE, E_FLUSH, E_ARRIVE0, E_ROUND };
typedef struct ev {
  double t;
  int kind, rank;
  long x;
} ev;
typedef struct heap {
  ev *v;
  size_t n, cap;
} heap;

static int hpush(heap *h, ev e) {
  if (h->n == h->cap) {
    size_t c = h->cap ? 2 * h->cap : 4096;
    ev *p = realloc(h->v, c * sizeof *p);
    if (!p)
      return -1;
    h->v = p;
    h->cap = c;
  }
  size_t i = h->n++;
  while (i && h->v[(i - 1) / 2].t > e.t) {
    h->v[i] = h->v[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->v[i] = e;
  return 0;
}

static ev hpop(heap *h) {
  ev top = h->v[0], last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && h->v[c + 1].t < h->v[c].t)
      c++;
    if (h->v[c].t >= last.t)
      break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n)
    h->v[i] = last;
  return top;
}

static uint64_t rng(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

/* A list of task numbers (finished tasks a rank has not reported yet, and
 * the contents of messages on their way to rank 0). */
typedef struct lst {
  long *v;
  size_t n, cap;
} lst;
static int lpush(lst *l, long x) {
  if (l->n == l->cap) {
    size_t c = l->cap ? 2 * l->cap : 16;
    long *p = realloc(l->v, c * sizeof *p);
    if (!p)
      return -1;
    l->v = p;
    l->cap = c;
  }
  l->v[l->n++] = x;
  return 0;
}

typedef struct rankst {
  double *thread_free; /* when each thread is free */
  int inflight;        /* tasks given and not reported */
  lst fin;             /* finished, not reported */
  bool flush_due;
} rankst;

/* The central model on nr ranks and a DAG of layers x width tasks. */
static int central(const simcfg *c, int nr, long width, simres *out) {
  long n = width * c->layers;
  int *ndep = calloc((size_t)n, sizeof *ndep);
  long *dep = malloc((size_t)n * 3 * sizeof *dep);
  int *pending = calloc((size_t)n, sizeof *pending);
  long *soff = calloc((size_t)n + 1, sizeof *soff);
  long *succ = malloc((size_t)n * 3 * sizeof *succ + 8);
  int *loc = malloc((size_t)n * sizeof *loc);
  long *ready = malloc((size_t)n * sizeof *ready);
  rankst *rk = calloc((size_t)nr, sizeof *rk);
  int *room = malloc((size_t)nr * sizeof *room); /* ranks with room */
  int *pos = malloc((size_t)nr * sizeof *pos);   /* index in room, or -1 */
  int nroom = 0;
  int *batch = calloc((size_t)nr, sizeof *batch);
  lst *msgs = NULL; /* contents of DONE messages, by message number */
  size_t nmsgs = 0, capmsgs = 0;
  long *inbox = NULL; /* arrived message numbers, FIFO */
  size_t inhead = 0, nin = 0, capin = 0;
  heap h = {0};
  int rc = -1;
  if (!ndep || !dep || !pending || !soff || !succ || !loc || !ready || !rk ||
      !batch || !room || !pos)
    goto out;
  for (int k = 0; k < nr; k++) {
    pos[k] = nroom;
    room[nroom++] = k;
  }
  uint64_t s = c->seed;
  for (long i = 0; i < n; i++) {
    loc[i] = -1;
    if (i >= width)
      for (int k = 0, m = 1 + (int)(rng(&s) % 3); k < m; k++) {
        long d = (i / width - 1) * width + (long)(rng(&s) % (uint64_t)width);
        dep[i * 3 + ndep[i]++] = d;
        soff[d + 1]++;
      }
    pending[i] = ndep[i];
  }
  for (long i = 0; i < n; i++)
    soff[i + 1] += soff[i];
  {
    long *fill = calloc((size_t)n, sizeof *fill);
    if (!fill)
      goto out;
    for (long i = 0; i < n; i++)
      for (int k = 0; k < ndep[i]; k++) {
        long d = dep[i * 3 + k];
        succ[soff[d] + fill[d]++] = i;
      }
    free(fill);
  }
  for (int k = 0; k < nr; k++)
    if (!(rk[k].thread_free = calloc((size_t)c->threads, sizeof(double))))
      goto out;
  int cap = (c->threads * 11 + 9) / 10;
  if (c->task_us < 1000) {
    double per = 1 + 1000 / (c->task_us + 1);
    int deep = c->threads * (per > 64 ? 64 : (int)per);
    cap = deep > cap ? deep : cap;
  }
  long nready = 0, finished = 0, nmsg_total = 0;
  for (long i = width; i-- > 0;) /* the first root on top */
    ready[nready++] = i;
  double busy = 0, free_at = 0, now = 0;
  unsigned rr = 0;
  bool round_due = true;
  if (hpush(&h, (ev){0, E_ROUND, 0, 0}))
    goto out;
  while (h.n) {
    ev e = hpop(&h);
    now = e.t;
    if (e.kind == E_DONE) {
      rankst *r = &rk[e.rank];
      if (lpush(&r->fin, e.x))
        goto out;
      if (!r->flush_due) {
        r->flush_due = true;
        if (hpush(&h, (ev){now + c->wk_us, E_FLUSH, e.rank, 0}))
          goto out;
      }
      continue;
    }
    if (e.kind == E_FLUSH) { /* the rank's DONE message leaves */
      rankst *r = &rk[e.rank];
      r->flush_due = false;
      if (nmsgs == capmsgs) {
        size_t cc = capmsgs ? 2 * capmsgs : 1024;
        lst *p = realloc(msgs, cc * sizeof *p);
        if (!p)
          goto out;
        msgs = p;
        capmsgs = cc;
      }
      msgs[nmsgs] = r->fin;
      memset(&r->fin, 0, sizeof r->fin);
      nmsg_total++;
      if (hpush(&h, (ev){now + c->lat_us, E_ARRIVE0, e.rank, (long)nmsgs++}))
        goto out;
      continue;
    }
    if (e.kind == E_ARRIVE0) {
      if (nin == capin) {
        size_t cc = capin ? 2 * capin : 1024;
        long *p = realloc(inbox, cc * sizeof *p);
        if (!p)
          goto out;
        inbox = p;
        capin = cc;
      }
      inbox[nin++] = e.x * 65536 + e.rank; /* message, rank */
      if (!round_due) {
        round_due = true;
        if (hpush(&h, (ev){now > free_at ? now : free_at, E_ROUND, 0, 0}))
          goto out;
      }
      continue;
    }
    /* E_ROUND: rank 0 handles what arrived, then hands out work */
    round_due = false;
    double t = now;
    while (inhead < nin) {
      long m = inbox[inhead] / 65536;
      int k = (int)(inbox[inhead] % 65536);
      inhead++;
      t += c->msg_cost_us + c->done_cost_us * (double)msgs[m].n;
      for (size_t j = 0; j < msgs[m].n; j++) {
        long i = msgs[m].v[j];
        if (rk[k].inflight-- == cap) { /* room again */
          pos[k] = nroom;
          room[nroom++] = k;
        }
        finished++;
        for (long q = soff[i]; q < soff[i + 1]; q++)
          if (--pending[succ[q]] == 0)
            ready[nready++] = succ[q];
      }
      free(msgs[m].v);
      msgs[m].v = NULL;
    }
    memset(batch, 0, (size_t)nr * sizeof *batch);
    while (nready) {
      long i = ready[nready - 1];
      int k = ndep[i] ? loc[dep[i * 3]] : -1;
      if (k < 0 || rk[k].inflight >= cap) {
        if (!nroom)
          break; /* every rank is full: the rest waits here */
        k = room[rr++ % nroom];
      }
      nready--;
      t += c->task_cost_us;
      if (!batch[k]++)
        t += c->msg_cost_us;         /* this round's message to rank k */
      if (++rk[k].inflight == cap) { /* full: out of the room set */
        int last = room[--nroom];
        room[pos[k]] = last;
        pos[last] = pos[k];
        pos[k] = -1;
      }
      loc[i] = k;
      double start = t + c->lat_us, fetch = 0;
      for (int d = 0; d < ndep[i]; d++)
        if (loc[dep[i * 3 + d]] != k)
          fetch = c->lat_us + c->bytes / (c->bw_gbs * 1e3);
      start += fetch;
      double *tf = rk[k].thread_free;
      int best = 0;
      for (int th = 1; th < c->threads; th++)
        if (tf[th] < tf[best])
          best = th;
      if (tf[best] > start)
        start = tf[best];
      tf[best] = start + c->task_us;
      if (hpush(&h, (ev){start + c->task_us, E_DONE, k, i}))
        goto out;
    }
    for (int k = 0; k < nr; k++)
      nmsg_total += batch[k] > 0;
    busy += t - now;
    free_at = t;
    if (inhead < nin && !round_due) { /* arrived while it was busy */
      round_due = true;
      if (hpush(&h, (ev){t, E_ROUND, 0, 0}))
        goto out;
    }
  }
  out->tasks = finished;
  out->msgs = nmsg_total;
  if (free_at > now) /* rank 0's last round ended after the last task */
    now = free_at;
  out->makespan_s = now * 1e-6;
  out->rank0_busy = now > 0 ? busy / now : 0;
  rc = finished == n ? 0 : -2;
out:
  for (size_t m = 0; msgs && m < nmsgs; m++)
    free(msgs[m].v);
  free(msgs);
  free(inbox);
  if (rk)
    for (int k = 0; k < nr; k++) {
      free(rk[k].thread_free);
      free(rk[k].fin.v);
    }
  free(rk);
  free(room);
  free(pos);
  free(batch);
  free(ndep);
  free(dep);
  free(pending);
  free(soff);
  free(succ);
  free(loc);
  free(ready);
  free(h.v);
  return rc;
}

/* Runs the model c. 0, -1 (out of memory), -2 (the model stalled: a
 * bug), -3 (a bad configuration). */
int mpisim_run(const simcfg *c, simres *out) {
  memset(out, 0, sizeof *out);
  if (c->ranks < 1 || c->ranks > 65535 || c->threads < 1 || c->layers < 1 ||
      c->task_us < 0 || c->group < -1 || c->enc_us < 0 || c->parse_us < 0 ||
      c->node_bytes < 0)
    return -3;
  long width = c->width > 0 ? c->width : 2L * c->ranks * c->threads;
  long n = width * c->layers;
  double work = (double)n * c->task_us;
  int rc = 0;
  if (c->group == -1) { /* replicated: the graph once, then per layer,
                           own chunks + exchange */
    long own = (width + c->ranks - 1) / c->ranks;
    double per_layer = ceil((double)own / c->threads) * c->task_us +
                       (double)own * c->prune_us / c->threads + c->lat_us +
                       c->bytes / (c->bw_gbs * 1e3);
    /* rank 0 cuts and encodes every part, then sends them one by one (the
       last part leaves after all the bytes, one latency to arrive); each
       rank reads its own part */
    double enc = (double)n * c->enc_us + (double)c->ranks * c->msg_cost_us,
           send = c->lat_us + (double)n * c->node_bytes / (c->bw_gbs * 1e3),
           parse = (double)(own * c->layers) * c->parse_us;
    out->makespan_s = (enc + send + parse + c->layers * per_layer) * 1e-6;
    out->tasks = n;
    out->rank0_busy = out->makespan_s > 0 ? enc * 1e-6 / out->makespan_s : 0;
  } else if (c->group > 0 && c->group < c->ranks) {
    int ngroups = (c->ranks + c->group - 1) / c->group;
    int g = c->ranks / ngroups; /* equal groups, none larger than asked */
    long gw = (width + ngroups - 1) / ngroups;
    rc = central(c, g, gw, out);
    out->tasks = n;
    /* rank 0 forwards every task once, one message per group per layer */
    double fwd = c->fwd_us < 0 ? c->task_cost_us : c->fwd_us;
    double top = (double)n * fwd +
                 (double)ngroups * c->layers * 2 * c->msg_cost_us;
    double sub_busy = out->rank0_busy;
    if (top * 1e-6 > out->makespan_s)
      out->makespan_s = top * 1e-6;
    out->rank0_busy = out->makespan_s > 0 ? top * 1e-6 / out->makespan_s : 0;
    if (sub_busy > out->rank0_busy)
      out->rank0_busy = sub_busy; /* the busiest scheduler */
  } else {
    rc = central(c, c->ranks, width, out);
  }
  if (rc == 0 && out->makespan_s > 0) {
    out->efficiency =
        work * 1e-6 / ((double)c->ranks * c->threads * out->makespan_s);
    out->tasks_per_s = (double)n / out->makespan_s;
  }
  return rc;
}

#ifndef MPISIM_NO_MAIN
static void usage(FILE *f) {
  fprintf(f,
          "usage: weft_mpisim [--ranks R] [--threads T] [--layers L] "
          "[--width W]\n"
          "  [--task-us U] [--bytes B] [--task-cost-us C] [--msg-cost-us M]\n"
          "  [--done-cost-us D] [--lat-us L] [--bw-gbs G] [--group G | "
          "--replicated]\n"
          "  [--fwd-us F]   groups: rank 0's cost per task (default: "
          "--task-cost-us)\n"
          "  [--enc-us E] [--parse-us P] [--node-bytes N]   (replicated)\n"
          "  [--table]   the table of docs/scaling.md (100, 1000, 10000 "
          "ranks)\n");
}

static void print_row(const simcfg *c, const char *mode) {
  simres r;
  int rc = mpisim_run(c, &r);
  if (rc) {
    printf("%-12s %6d %8.3f  error %d\n", mode, c->ranks, c->task_us / 1000,
           rc);
    return;
  }
  printf("%-12s %6d %8.3f %10ld %10.3f %7.1f%% %7.1f%% %12.0f\n", mode,
         c->ranks, c->task_us / 1000, r.tasks, r.makespan_s, 100 * r.efficiency,
         100 * r.rank0_busy, r.tasks_per_s);
}

int main(int argc, char **argv) {
  simcfg c;
  mpisim_defaults(&c);
  bool table = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NUM(name, field, conv)                                                 \
  if (strcmp(a, name) == 0 && v) {                                             \
    char *end;                                                                 \
    c.field = conv;                                                            \
    if (*end) {                                                                \
      fprintf(stderr, "weft_mpisim: %s '%s' is not a number\n", name, v);      \
      return 2;                                                                \
    }                                                                          \
    i++;                                                                       \
    continue;                                                                  \
  }
    NUM("--ranks", ranks, (int)strtol(v, &end, 10))
    NUM("--threads", threads, (int)strtol(v, &end, 10))
    NUM("--layers", layers, (int)strtol(v, &end, 10))
    NUM("--width", width, strtol(v, &end, 10))
    NUM("--task-us", task_us, strtod(v, &end))
    NUM("--bytes", bytes, strtod(v, &end))
    NUM("--task-cost-us", task_cost_us, strtod(v, &end))
    NUM("--fwd-us", fwd_us, strtod(v, &end))
    NUM("--msg-cost-us", msg_cost_us, strtod(v, &end))
    NUM("--done-cost-us", done_cost_us, strtod(v, &end))
    NUM("--lat-us", lat_us, strtod(v, &end))
    NUM("--bw-gbs", bw_gbs, strtod(v, &end))
    NUM("--group", group, (int)strtol(v, &end, 10))
    NUM("--enc-us", enc_us, strtod(v, &end))
    NUM("--parse-us", parse_us, strtod(v, &end))
    NUM("--node-bytes", node_bytes, strtod(v, &end))
#undef NUM
    if (strcmp(a, "--replicated") == 0) {
      c.group = -1;
      continue;
    }
    if (strcmp(a, "--table") == 0) {
      table = true;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    fprintf(stderr, "weft_mpisim: unknown option '%s'\n", a);
    usage(stderr);
    return 2;
  }
  printf("%-12s %6s %8s %10s %10s %8s %8s %12s\n", "mode", "ranks", "task ms",
         "tasks", "makespan s", "effic.", "rank0", "tasks/s");
  if (!table) {
    print_row(&c, c.group == -1 ? "replicated"
                  : c.group > 0 ? "groups"
                                : "central");
    return 0;
  }
  static const int ranks[] = {100, 1000, 10000};
  static const double task_ms[] = {1, 10, 100};
  for (size_t t = 0; t < 3; t++)
    for (size_t r = 0; r < 3; r++) {
      simcfg x = c;
      x.ranks = ranks[r];
      x.task_us = task_ms[t] * 1000;
      x.group = 0;
      print_row(&x, "central");
      x.group = 32;
      print_row(&x, "groups:32");
      x.group = -1;
      print_row(&x, "replicated");
    }
  return 0;
}
#endif
