/* mpi/replica_root.c - rank 0's side of the replicated mode
 * (WEFT_MPI_MODE=replicated): instead of deciding every task, rank 0 cuts
 * the compute's graph once by owner (mpi/replica_cut.c) and sends each
 * worker rank owning nodes its own part, straight (one GRAPH message per
 * such rank): its nodes and, for each, the ranks its result goes to. The
 * worker ranks run them, pushing results straight to the ranks that
 * consume them (mpi/replica_worker.c). Rank 0 then only receives the
 * outputs, task errors, beats and - only when a listener is attached -
 * batched per-task times, so its cost per task is a few hundred
 * nanoseconds of cutting and encoding the graph, whatever the number of
 * ranks; a worker rank's is O(its own nodes).
 *
 * Tasks that run in the program (weft_literal / weft_ref identities and
 * WEFT__NF_LOCAL ones: weft_map's unpacking, the array layer's delivery of
 * chunks) are rank 0's own nodes in the owner map: their inputs are pushed
 * here like to any owner, they run here as soon as they have them (as in
 * sched.c), and their results are pushed to the ranks that consume them.
 * What cannot run so runs with the central scheduler instead (nothing has
 * been sent then): unresolved weft_ref placeholders, an argument of a
 * worker's task that cannot travel (ptr values: the central scheduler
 * refuses them with its message), node indices out of build order, no
 * live worker rank, or no task for the worker ranks at all.
 *
 * Faults as in central mode: a task error fails the compute with the
 * task's message; a rank silent for WEFT_MPI_TIMEOUT seconds is dead: one
 * line naming it, its host and the tasks lost (its own nodes not known
 * finished); rank 0 then ends the compute (END to every live rank). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/keys.h"
#include "replica.h"
#include "sched/ready.h"
#include "sched/run.h"

/* Addresses -> their index in the GRAPH message, open addressing. */
typedef struct ptrmap {
  const void **p;
  uint32_t *i, n;
  size_t cap;
} ptrmap;

typedef struct rroot {
  weft__run *r;
  uint32_t epoch;
  bool *dead;
  weft__msends *sends;
  weft__mstats *st;
  uint32_t n;
  uint32_t *gid; /* position -> node index */
  int32_t *pos;  /* node index -> position, -1: not sent */
  uint32_t *inoff, *in;
  size_t nin, cin;
  int *ranks, m;
  weft__rcut cut; /* owners, slots, destinations */
  uint8_t *out;   /* position: an output */
  weft_buf *part; /* per rank: its GRAPH message */
  uint8_t *fin;   /* position: its output or time came */
  uint64_t *last;
  int stride;     /* the most threads of a rank */
  uint64_t *tend; /* per rank x stride + thread: its last slice's end */
  uint64_t t0;    /* when the compute began (no slice before it) */
  weft_buf in_msg;
  weft_task_ctx ctx;
  /* rank 0's own nodes (by position) */
  uint8_t *local;
  uint32_t *coff, *cons; /* consumers, one per argument slot */
  int32_t *pending;      /* its inputs not here yet */
  int32_t *slots;        /* argument slots of rank 0's nodes reading it */
  uint32_t *stack;       /* ready, next on top */
  size_t sp;
  weft_buf *batch, enc; /* per rank: PUSH records */
  weft__scratch sc;
  ptrmap lits; /* heap literals already in the message (one object, many
                 tasks: the array layer's plans) */
  ptrmap fns;  /* functions already named in it */
} rroot;

/* The index of key in m, or -1 when new (then it is recorded with the
 * next index). WEFT_ENOMEM. */
static int64_t ptrmap_find(ptrmap *m, const void *key) {
  if (2 * ((size_t)m->n + 1) > m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 256;
    const void **p = calloc(cap, sizeof *p);
    uint32_t *ix = malloc(cap * sizeof *ix);
    if (!p || !ix) {
      free(p);
      free(ix);
      return WEFT_ENOMEM;
    }
    for (size_t k = 0; k < m->cap; k++) {
      if (!m->p[k])
        continue;
      size_t h = ((uintptr_t)m->p[k] >> 4) * 0x9e3779b97f4a7c15ull;
      for (h &= cap - 1; p[h]; h = (h + 1) & (cap - 1)) {
      }
      p[h] = m->p[k];
      ix[h] = m->i[k];
    }
    free(m->p);
    free(m->i);
    m->p = p;
    m->i = ix;
    m->cap = cap;
  }
  size_t h = ((uintptr_t)key >> 4) * 0x9e3779b97f4a7c15ull;
  for (h &= m->cap - 1; m->p[h]; h = (h + 1) & (m->cap - 1))
    if (m->p[h] == key)
      return m->i[h];
  m->p[h] = key;
  m->i[h] = m->n++;
  return -1;
}

static void root_free(rroot *s) {
  free(s->gid);
  free(s->pos);
  free(s->inoff);
  free(s->in);
  free(s->ranks);
  weft__rep_cut_free(&s->cut);
  free(s->out);
  for (int k = 0; s->part && k < weft__mpi_g.size; k++)
    weft_buf_free(&s->part[k]);
  free(s->part);
  free(s->fin);
  free(s->last);
  free(s->tend);
  free(s->local);
  free(s->coff);
  free(s->cons);
  free(s->pending);
  free(s->slots);
  free(s->stack);
  for (int k = 0; s->batch && k < weft__mpi_g.size; k++)
    weft_buf_free(&s->batch[k]);
  free(s->batch);
  weft_buf_free(&s->enc);
  free(s->sc.args);
  free(s->lits.p);
  free(s->lits.i);
  free(s->fns.p);
  free(s->fns.i);
  weft_buf_free(&s->in_msg);
}

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A literal argument: kind, its encoded length, its bytes. */
static int put_lit(rroot *s, weft_buf *b, uint8_t kind, const weft_value *v) {
  weft_wire_error err = {0};
  weft_buf_clear(&s->enc);
  int rc = weft_wire_encode(v, &s->enc, &err);
  if (!rc)
    rc = weft__pput_u8(b, kind);
  if (!rc)
    rc = weft__pput_varint(b, s->enc.len);
  if (!rc)
    rc = weft_buf_append(b, s->enc.data, s->enc.len);
  return rc;
}

/* The graph's nodes by position, their inputs, which run here. 1: the
 * graph cannot run replicated. */
static int collect(rroot *s) {
  weft__run *r = s->r;
  uint32_t nn = r->g->nnodes;
  s->gid = malloc((nn ? nn : 1) * sizeof *s->gid);
  s->pos = malloc((nn ? nn : 1) * sizeof *s->pos);
  s->inoff = calloc((size_t)nn + 1, sizeof *s->inoff);
  s->cin = 64;
  s->in = malloc(s->cin * sizeof *s->in);
  s->local = calloc(nn ? nn : 1, 1);
  s->out = calloc(nn ? nn : 1, 1);
  if (!s->gid || !s->pos || !s->inoff || !s->in || !s->local || !s->out)
    return WEFT_ENOMEM;
  uint32_t n = 0;
  for (uint32_t i = 0; i < nn; i++) {
    s->pos[i] = -1;
    if (weft__run_needs(r, i))
      s->gid[n++] = i;
  }
  s->n = n;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t i = s->gid[j];
    const weft__node *d = &r->nodes[i];
    if (d->flags & WEFT__NF_REF)
      return 1; /* a placeholder */
    s->local[j] = weft__ready_runs_here(r, i);
    s->out[j] = (d->flags & WEFT__NF_OUTPUT) != 0;
    const weft_value *a = d->nargs ? &r->args[d->argoff] : NULL;
    for (uint32_t k = 0; k < d->nargs; k++) {
      if (a[k].type != WEFT__T_NODE)
        continue;
      uint32_t p = (uint32_t)a[k].as.i;
      if (p >= nn || s->pos[p] < 0)
        return 1; /* not in build order */
      if (s->nin == s->cin) {
        uint32_t *x = realloc(s->in, 2 * s->cin * sizeof *x);
        if (!x)
          return WEFT_ENOMEM;
        s->in = x;
        s->cin *= 2;
      }
      s->in[s->nin++] = (uint32_t)s->pos[p];
    }
    s->inoff[j + 1] = (uint32_t)s->nin;
    s->pos[i] = (int32_t)j;
  }
  return 0;
}

/* Forgets a ptrmap's entries (one part's literals or functions). */
static void ptrmap_clear(ptrmap *m) {
  if (m->n)
    memset(m->p, 0, m->cap * sizeof *m->p);
  m->n = 0;
}

/* Rank k's GRAPH message: its nodes (slots 0 .. nown - 1) in graph order,
 * each with its destinations. 1: a literal that cannot travel. */
static int encode_part(rroot *s, int k, weft_buf *b) {
  weft__run *r = s->r;
  const weft__rcut *c = &s->cut;
  ptrmap_clear(&s->lits);
  ptrmap_clear(&s->fns);
  int rc = weft__pput_u8(b, WEFT__MR_GRAPH);
  if (!rc)
    rc = weft__pput_u32(b, s->epoch);
  if (!rc)
    rc = weft__pput_u8(b, r->listener ? 1 : 0);
  if (!rc)
    rc = weft__pput_varint(b, c->nown[k]);
  if (!rc)
    rc = weft__pput_varint(b, c->next[k]);
  for (uint32_t q = c->roff[k]; !rc && q < c->roff[k + 1]; q++) {
    uint32_t j = c->rnode[q], i = s->gid[j], e = s->inoff[j];
    const weft__node *d = &r->nodes[i];
    const char *key =
        (d->flags & WEFT__NF_KEYED) ? weft__keys_name(&r->g->keys, i) : NULL;
    int64_t f = ptrmap_find(&s->fns, d->fn);
    if (f < -1)
      return (int)f;
    rc = weft__pput_varint(b, j);
    if (!rc)
      rc = weft__pput_u32(b, i);
    if (!rc) /* a function's index, or the next one's name */
      rc = weft__pput_varint(b, f >= 0 ? (uint64_t)f : s->fns.n - 1);
    if (!rc && f < 0)
      rc = weft__pput_bytes(b, d->fn->name, strlen(d->fn->name));
    if (!rc)
      rc = weft__pput_bytes(b, key, key ? strlen(key) : 0);
    if (!rc)
      rc = weft__pput_varint(b, d->nargs);
    const weft_value *a = d->nargs ? &r->args[d->argoff] : NULL;
    for (uint32_t k2 = 0; !rc && k2 < d->nargs; k2++) {
      if (a[k2].type == WEFT__T_NODE) { /* its slot in this part */
        rc = weft__pput_u8(b, 1);
        if (!rc)
          rc = weft__pput_varint(b, c->eslot[e++]);
        continue;
      }
      if (weft_value_is_obj(&a[k2])) {
        int64_t x = ptrmap_find(&s->lits, a[k2].as.obj);
        if (x < -1)
          return (int)x;
        if (x >= 0) { /* in this part already: its index */
          rc = weft__pput_u8(b, 3);
          if (!rc)
            rc = weft__pput_varint(b, (uint64_t)x);
          continue;
        }
      }
      rc = put_lit(s, b, weft_value_is_obj(&a[k2]) ? 4 : 0, &a[k2]);
      if (rc == WEFT_ENOTSUP)
        return 1; /* the central scheduler says which and why */
    }
    if (!rc)
      rc = weft__pput_varint(b, c->doff[j + 1] - c->doff[j]);
    for (uint32_t t = c->doff[j]; !rc && t < c->doff[j + 1]; t++) {
      rc = weft__pput_varint(b, (uint64_t)c->drank[t]);
      if (!rc)
        rc = weft__pput_varint(b, c->dslot[t]);
    }
  }
  if (!rc && b->len > INT32_MAX)
    return 1; /* one MPI message counts its bytes in an int */
  return rc;
}

/* Every part, before anything is sent. 1: the graph cannot run so. */
static int encode(rroot *s) {
  int rc = collect(s);
  if (rc)
    return rc;
  s->cut = (weft__rcut){.n = s->n,
                        .inoff = s->inoff,
                        .in = s->in,
                        .local = s->local,
                        .out = s->out,
                        .ranks = s->ranks,
                        .m = s->m};
  if ((rc = weft__rep_cut(&s->cut)))
    return rc;
  if (!(s->part = calloc((size_t)weft__mpi_g.size, sizeof *s->part)))
    return WEFT_ENOMEM;
  for (int p = 1; !rc && p < s->m; p++)
    if (s->cut.nown[s->ranks[p]])
      rc = encode_part(s, s->ranks[p], &s->part[s->ranks[p]]);
  return rc;
}

/* ---- what comes back ---- */

static bool stopped(const rroot *s) {
  return atomic_load_explicit(&s->r->stop, memory_order_relaxed) ||
         atomic_load_explicit(&s->r->done, memory_order_relaxed);
}

/* Node j's value is here: an output, or an input of rank 0's nodes. */
static void got_val(rroot *s, uint32_t j, weft_value v) {
  weft__run *r = s->r;
  uint32_t i = s->gid[j];
  weft__node *d = &r->nodes[i];
  bool out = (d->flags & WEFT__NF_OUTPUT) && !(d->flags & WEFT__NF_OUTPUT_DONE);
  if (s->fin[j] || s->local[j] || (!out && !s->slots[j]) || stopped(s)) {
    weft_value_release(&v);
    return;
  }
  s->fin[j] = 1;
  d->result = v;
  int32_t c = s->slots[j] + (out ? 1 : 0);
  atomic_store_explicit(&d->consumers, c, memory_order_relaxed);
  if (out) {
    d->flags |= WEFT__NF_OUTPUT_DONE;
    if (atomic_fetch_sub_explicit(&r->outputs_left, 1, memory_order_acq_rel) ==
        1)
      atomic_store_explicit(&r->done, 1, memory_order_release);
  }
  for (uint32_t e = s->coff[j + 1]; e-- > s->coff[j];) {
    uint32_t c2 = s->cons[e];
    if (s->local[c2] && --s->pending[c2] == 0)
      s->stack[s->sp++] = c2;
  }
}

/* A VAL record or BIG message's body (after the epoch). */
static int read_val(rroot *s, weft__prd *rd) {
  uint64_t j;
  if (weft__prd_varint(rd, &j) || j >= s->n)
    return WEFT_EWIRE;
  weft_value v = weft_none();
  size_t used = 0;
  weft_wire_error err = {0};
  int rc = weft_wire_decode(rd->p, (size_t)(rd->end - rd->p), &used, &v, &err);
  if (rc)
    return rc;
  rd->p += used;
  got_val(s, (uint32_t)j, v);
  return 0;
}

static int on_done(rroot *s, int k, const weft_buf *b) {
  weft__run *r = s->r;
  weft__prd rd = {b->data, b->data + b->len};
  while (rd.p < rd.end) {
    uint8_t op;
    uint32_t epoch;
    if (weft__prd_u8(&rd, &op))
      return WEFT_EWIRE;
    if (op == WEFT__MR_BEAT)
      continue;
    if (op == WEFT__MR_DONE)
      return 0; /* of an earlier central compute */
    if (weft__prd_u32(&rd, &epoch))
      return WEFT_EWIRE;
    if (epoch != s->epoch)
      return 0; /* the message is of an earlier compute */
    int rc = 0;
    if (op == WEFT__MR_VAL) {
      rc = read_val(s, &rd);
    } else if (op == WEFT__MR_ERR) {
      uint64_t j;
      uint32_t st;
      const uint8_t *msg;
      size_t nmsg;
      if (weft__prd_varint(&rd, &j) || j >= s->n || weft__prd_u32(&rd, &st) ||
          weft__prd_bytes(&rd, &msg, &nmsg))
        return WEFT_EWIRE;
      char m[600];
      snprintf(m, sizeof m, "%.*s", (int)nmsg, (const char *)msg);
      s->fin[j] = 1;
      s->ctx.worker = k;
      s->ctx.message = m[0] ? strdup(m) : NULL;
      weft__run_fail(r, &s->ctx, s->gid[j], (int32_t)st);
    } else if (op == WEFT__MR_TIME) {
      uint64_t j, bytes, thread, endw;
      uint32_t us;
      if (weft__prd_varint(&rd, &j) || j >= s->n || weft__prd_u32(&rd, &us) ||
          weft__prd_varint(&rd, &thread) || weft__prd_u64(&rd, &endw) ||
          weft__prd_u64(&rd, &bytes))
        return WEFT_EWIRE;
      s->fin[j] = 1;
      if (r->listener && !r->stop) { /* its slice, as mpi/sched.c does */
        int th = thread < (uint64_t)s->stride ? (int)thread : 0;
        uint64_t start, end;
        weft__mpi_slice(k, weft_now_ns(), endw, us, s->t0,
                        &s->tend[k * s->stride + th], &start, &end);
        weft_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = WEFT_EV_TASK_START;
        ev.worker = k;
        ev.thread = th;
        ev.task = s->gid[j];
        ev.fn = r->nodes[ev.task].fn;
        ev.time_ns = ev.start_ns = start;
        weft__run_publish(r, &ev);
        ev.kind = WEFT_EV_TASK_END;
        ev.time_ns = end;
        ev.bytes = bytes;
        weft__run_publish(r, &ev);
      }
    } else
      return WEFT_EWIRE;
    if (rc)
      return rc;
  }
  return 0;
}

/* Rank k is dead: fail the compute naming its nodes not known finished. */
static void on_dead(rroot *s, int k, double silent) {
  weft__run *r = s->r;
  s->dead[k] = true;
  weft__msend_drop(s->sends, k);
  weft__mlost lost = WEFT__MLOST_INIT;
  for (uint32_t j = 0; j < s->n; j++)
    if (s->cut.owner[j] == k && !s->fin[j])
      weft__mlost_add(&lost, r->g, s->gid[j], true);
  weft__mlost_report(r, k, silent, &lost, NULL);
}

/* ---- rank 0's own nodes ---- */

/* Node j ran here: push its result to the ranks that consume it. */
static int push_result(rroot *s, uint32_t j) {
  weft__run *r = s->r;
  uint32_t i = s->gid[j];
  weft__node *d = &r->nodes[i];
  const weft__rcut *c = &s->cut;
  if (c->doff[j + 1] > c->doff[j]) {
    weft_wire_error err = {0};
    weft_buf_clear(&s->enc);
    int rc = weft_wire_encode(&d->result, &s->enc, &err);
    if (rc) {
      weft__run_failf(r, i, -1, rc,
                      "the result of task '%s' cannot be sent to the ranks "
                      "that need it: %.300s",
                      d->fn->name, err.text);
      return rc;
    }
    for (uint32_t t = c->doff[j]; t < c->doff[j + 1]; t++) {
      int k = c->drank[t];
      if (s->dead[k])
        continue;
      weft_buf *b = &s->batch[k], one = WEFT_BUF_INIT;
      bool big = s->enc.len > weft__mpi_g.apart;
      if (big)
        b = &one;
      rc = big ? 0 : weft__pput_u8(b, WEFT__MR_VAL);
      if (!rc)
        rc = weft__pput_u32(b, s->epoch);
      if (!rc)
        rc = weft__pput_varint(b, c->dslot[t]);
      if (!rc)
        rc = weft_buf_append(b, s->enc.data, s->enc.len);
      if (!rc && big) {
        rc = weft__msend_post(s->sends, k, WEFT__MT_BIG, &one);
        s->st->msgs_out++;
      }
      weft_buf_free(&one);
      if (rc) {
        weft__run_failf(r, i, -1, rc, "out of memory");
        return rc;
      }
    }
  }
  /* only rank 0's consumers (and the caller, for an output) read it here */
  if (weft_value_is_obj(&d->result)) {
    int32_t c = s->slots[j] + ((d->flags & WEFT__NF_OUTPUT) ? 1 : 0);
    atomic_store_explicit(&d->consumers, c, memory_order_relaxed);
    if (c == 0)
      weft_value_release(&d->result);
  }
  return 0;
}

static void run_local(rroot *s) {
  s->sc.last_t = 0;
  while (s->sp && !stopped(s)) {
    uint32_t j = s->stack[--s->sp];
    s->ctx.worker = -1;
    int rc = weft__run_task(s->r, &s->ctx, &s->sc, s->gid[j]);
    s->fin[j] = 1;
    if (rc < 0 || push_result(s, j))
      return;
    for (uint32_t e = s->coff[j + 1]; e-- > s->coff[j];) {
      uint32_t c = s->cons[e];
      if (s->local[c] && --s->pending[c] == 0)
        s->stack[s->sp++] = c;
    }
  }
}

static void flush(rroot *s) {
  for (int k = 1; k < weft__mpi_g.size; k++) {
    if (!s->batch[k].len)
      continue;
    if (s->dead[k] ||
        weft__msend_post(s->sends, k, WEFT__MT_PUSH, &s->batch[k]) == 0)
      s->st->msgs_out += !s->dead[k];
    weft_buf_clear(&s->batch[k]);
  }
}

/* Consumers, and what rank 0's nodes wait for. */
static int setup_local(rroot *s) {
  uint32_t n = s->n, nn = n ? n : 1, ne = s->inoff[n];
  s->coff = calloc((size_t)nn + 1, sizeof *s->coff);
  s->cons = malloc((ne ? ne : 1) * sizeof *s->cons);
  s->pending = calloc(nn, sizeof *s->pending);
  s->slots = calloc(nn, sizeof *s->slots);
  s->stack = malloc(nn * sizeof *s->stack);
  s->batch = calloc((size_t)weft__mpi_g.size, sizeof *s->batch);
  uint32_t *fill = calloc(nn, sizeof *fill);
  if (!s->coff || !s->cons || !s->pending || !s->slots || !s->stack ||
      !s->batch || !fill) {
    free(fill);
    return WEFT_ENOMEM;
  }
  for (uint32_t e = 0; e < ne; e++)
    s->coff[s->in[e] + 1]++;
  for (uint32_t j = 0; j < n; j++)
    s->coff[j + 1] += s->coff[j];
  for (uint32_t j = 0; j < n; j++)
    for (uint32_t e = s->inoff[j]; e < s->inoff[j + 1]; e++) {
      uint32_t p = s->in[e];
      s->cons[s->coff[p] + fill[p]++] = j;
    }
  free(fill);
  for (uint32_t j = n; j-- > 0;) { /* the first one on top */
    if (!s->local[j])
      continue;
    s->pending[j] = (int32_t)(s->inoff[j + 1] - s->inoff[j]);
    for (uint32_t e = s->inoff[j]; e < s->inoff[j + 1]; e++)
      s->slots[s->in[e]]++;
    if (!s->pending[j])
      s->stack[s->sp++] = j;
  }
  return 0;
}

static void loop(rroot *s) {
  uint64_t idle_ns = 2000, last_progress = weft__mnow(),
           timeout = (uint64_t)(weft__mpi_g.timeout_s * 1e9);
  bool stats = weft__mpi_g.stats;
  int size = weft__mpi_g.size;
  while (!stopped(s)) {
    bool progressed = false;
    int src = -1, tag = 0, rc = 0;
    uint64_t cpu0 = stats ? thread_cpu_ns() : 0;
    while (!stopped(s) && (rc = weft__mrecv(&s->in_msg, &src, &tag)) == 1) {
      progressed = true;
      rc = 0;
      if (src <= 0 || src >= size) {
        rc = WEFT_EWIRE;
        break;
      }
      s->last[src] = weft__mnow();
      s->st->msgs_in++;
      if (tag == WEFT__MT_DONE)
        rc = on_done(s, src, &s->in_msg);
      else if (tag == WEFT__MT_BIG) {
        weft__prd rd = {s->in_msg.data, s->in_msg.data + s->in_msg.len};
        uint32_t epoch;
        if (weft__prd_u32(&rd, &epoch))
          rc = WEFT_EWIRE;
        else if (epoch == s->epoch)
          rc = read_val(s, &rd);
      }
      if (rc)
        break;
    }
    if (rc < 0) {
      weft__run_failf(s->r, UINT32_MAX, src, rc,
                      "mpi scheduler (replicated): a bad message from rank "
                      "%d (%s)",
                      src, weft_strerror(rc));
      break;
    }
    if (s->sp && !stopped(s)) {
      run_local(s);
      progressed = true;
    }
    flush(s);
    weft__msend_reap(s->sends);
    if (stopped(s)) {
      if (stats)
        s->st->cpu_ns += thread_cpu_ns() - cpu0;
      break;
    }
    uint64_t now = weft__mnow();
    for (int p = 1; p < s->m; p++) {
      int k = s->ranks[p];
      if (!s->dead[k] && s->cut.nown[k] && now - s->last[k] > timeout) {
        on_dead(s, k, (double)(now - s->last[k]) / 1e9);
        return;
      }
    }
    if (progressed) {
      if (stats)
        s->st->cpu_ns += thread_cpu_ns() - cpu0;
      last_progress = weft__mnow();
      idle_ns = 2000;
      continue;
    }
    if (weft__mnow() - last_progress < WEFT__MPI_SPIN_NS) {
      sched_yield();
      continue;
    }
    struct timespec ts = {0, (long)idle_ns};
    nanosleep(&ts, NULL);
    if (idle_ns < 200000)
      idle_ns *= 2;
  }
}

int weft__rep_root(weft__run *r, uint32_t epoch, bool *dead,
                   weft__msends *sends, weft__mstats *st) {
  int size = weft__mpi_g.size;
  bool stats = weft__mpi_g.stats;
  uint64_t cpu0 = stats ? thread_cpu_ns() : 0;
  rroot s;
  memset(&s, 0, sizeof s);
  s.r = r;
  s.epoch = epoch;
  s.dead = dead;
  s.sends = sends;
  s.st = st;
  s.ctx.graph = r->g;
  s.ranks = malloc((size_t)size * sizeof *s.ranks);
  s.last = calloc((size_t)size, sizeof *s.last);
  s.stride = 1;
  for (int k = 1; k < size; k++)
    if (weft__mpi_g.ranks[k].threads > s.stride)
      s.stride = weft__mpi_g.ranks[k].threads;
  s.tend = calloc((size_t)size * (size_t)s.stride, sizeof *s.tend);
  s.t0 = weft_now_ns();
  if (!s.ranks || !s.last || !s.tend) {
    root_free(&s);
    snprintf(r->msg, sizeof r->msg, "out of memory");
    return WEFT_ENOMEM;
  }
  s.ranks[s.m++] = 0;
  for (int k = 1; k < size; k++)
    if (!dead[k])
      s.ranks[s.m++] = k;
  int rc = s.m < 2 ? 1 : encode(&s);
  uint32_t remote = 0;
  for (uint32_t j = 0; !rc && j < s.n; j++)
    remote += !s.local[j];
  if (!rc && !remote)
    rc = 1; /* every task runs in the program: nothing to send */
  if (!rc && !(s.fin = calloc(s.n ? s.n : 1, 1)))
    rc = WEFT_ENOMEM;
  if (!rc)
    rc = setup_local(&s);
  if (rc) {
    root_free(&s);
    if (rc < 0)
      snprintf(r->msg, sizeof r->msg, "mpi scheduler (replicated): %s",
               weft_strerror(rc));
    return rc;
  }
  r->workers = size;
  st->rep_computes++;
  st->tasks += remote;
  /* each rank owning nodes its part, straight (no relay: every part is
   * different, and one send per rank is what END costs anyway); a rank
   * owning none takes no part in the compute */
  uint64_t now = weft__mnow();
  for (int p = 1; p < s.m; p++) {
    int k = s.ranks[p];
    if (!s.cut.nown[k])
      continue;
    s.last[k] = now;
    if (weft__msend_post(sends, k, WEFT__MT_SCHED, &s.part[k]))
      on_dead(&s, k, 0);
    st->msgs_out++;
  }
  if (stats)
    st->cpu_ns += thread_cpu_ns() - cpu0;
  weft_task_ctx *outer = weft_task_current();
  weft__task_set_current(&s.ctx);
  loop(&s);
  weft__task_set_current(outer);
  /* every live rank that took part drops the compute */
  for (int p = 1; p < s.m; p++) {
    int k = s.ranks[p];
    if (dead[k] || !s.cut.nown[k])
      continue;
    weft_buf b = WEFT_BUF_INIT;
    if (!weft__pput_u8(&b, WEFT__MR_END) && !weft__pput_u32(&b, epoch) &&
        !weft__msend_post(sends, k, WEFT__MT_SCHED, &b))
      st->msgs_out++;
    weft_buf_free(&b);
  }
  weft__msend_reap(sends);
  root_free(&s);
  return 0;
}
