/* mpi/group.c - groups mode: the sub-scheduler a group's leader runs
 * beside its own compute threads (Parsl's manager under the interchange).
 *
 * Rank 0 treats the group as one big worker and sends its leader batches
 * of GTASK records (impl.h). The leader places each task on one of its
 * members - itself included - by the rule rank 0 uses (mpi/place.c:
 * owner computes by input bytes, else the least loaded, each member up to
 * its capacity), from the ranks and sizes of the inputs that rank 0 puts
 * in the GTASK, and forwards the TASK record unchanged: its references
 * (task, rank) stay valid, so inputs are fetched rank to rank. Members
 * send their DONE and BEAT messages here; the leader counts them and
 * passes the DONE records up in one message per round (GDONE wraps in its
 * own DONE message). FREE / END / QUIT from rank 0 go to every member. A
 * member silent for WEFT_MPI_TIMEOUT while it has work of the open
 * compute is reported up (LOST, with its tasks) and gets nothing more. */
#include <stdlib.h>
#include <string.h>

#include "impl.h"

typedef struct mfly { /* tasks in flight on one member */
  uint64_t *v;        /* epoch << 32 | task */
  size_t n, cap;
} mfly;

struct weft__mgroup {
  int nm;              /* members; index 0 is this leader */
  const int *members;  /* their ranks */
  int *mi;             /* per rank: member index, or -1 */
  weft__mpool pool;    /* over member indexes */
  weft_buf *batch;     /* per member: records to send this round */
  uint64_t *last;      /* per member: when last heard from */
  bool *active;        /* it has work of the open compute */
  mfly *fly;           /* per member */
  weft_buf wrap;       /* scratch: a member's DONE records going up */
};

weft__mgroup *weft__mgroup_new(int *err) {
  const weft__mpi *m = &weft__mpi_g;
  *err = 0;
  if (m->mode != WEFT__MM_GROUPS || m->rank < 1)
    return NULL;
  int gi = m->group_of[m->rank];
  if (weft__mpi_leader(gi) != m->rank)
    return NULL;
  weft__mgroup *g = calloc(1, sizeof *g);
  if (!g) {
    *err = WEFT_ENOMEM;
    return NULL;
  }
  g->nm = m->first[gi + 1] - m->first[gi];
  g->members = &m->members[m->first[gi]];
  g->mi = malloc((size_t)m->size * sizeof *g->mi);
  g->batch = calloc((size_t)g->nm, sizeof *g->batch);
  g->last = calloc((size_t)g->nm, sizeof *g->last);
  g->active = calloc((size_t)g->nm, sizeof *g->active);
  g->fly = calloc((size_t)g->nm, sizeof *g->fly);
  if (weft__mpool_init(&g->pool, g->nm) || !g->mi || !g->batch ||
      !g->last || !g->active || !g->fly) {
    weft__mgroup_free(g);
    *err = WEFT_ENOMEM;
    return NULL;
  }
  for (int k = 0; k < m->size; k++)
    g->mi[k] = -1;
  for (int j = 0; j < g->nm; j++) {
    g->mi[g->members[j]] = j;
    g->pool.cap[j] = weft__mpi_capacity(m->ranks[g->members[j]].threads, -1);
  }
  return g;
}

void weft__mgroup_free(weft__mgroup *g) {
  if (!g)
    return;
  for (int j = 0; g->batch && j < g->nm; j++)
    weft_buf_free(&g->batch[j]);
  for (int j = 0; g->fly && j < g->nm; j++)
    free(g->fly[j].v);
  weft__mpool_free(&g->pool);
  free(g->mi);
  free(g->batch);
  free(g->last);
  free(g->active);
  free(g->fly);
  weft_buf_free(&g->wrap);
  free(g);
}

static uint32_t rd_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Task (epoch, task) finished on member j, after `us`: 1 if it was one of
 * the tasks the leader placed there (and is no more), else 0. */
static int landed(weft__mgroup *g, int j, uint32_t epoch, uint32_t task,
                  uint32_t us) {
  mfly *f = &g->fly[j];
  uint64_t key = (uint64_t)epoch << 32 | task;
  for (size_t k = 0; k < f->n; k++)
    if (f->v[k] == key) {
      f->v[k] = f->v[--f->n];
      g->pool.inflight[j]--;
      weft__mpool_ran(&g->pool, j, us);
      g->pool.cap[j] = weft__mpi_capacity(
          weft__mpi_g.ranks[g->members[j]].threads, g->pool.avg_us[j]);
      return 1;
    }
  return 0;
}

int weft__mgroup_task(weft__mgroup *g, weft__prd *rd, bool *self,
                      const uint8_t **rec, size_t *nrec) {
  uint32_t n;
  uint64_t nh;
  if (weft__prd_u32(rd, &n) || n > (uint64_t)(rd->end - rd->p))
    return WEFT_EWIRE;
  const uint8_t *end = rd->p + n;
  weft__prd h = {rd->p, end};
  if (weft__prd_varint(&h, &nh) || nh > n)
    return WEFT_EWIRE;
  for (uint64_t k = 0; k < nh; k++) {
    uint64_t rank, bytes;
    if (weft__prd_varint(&h, &rank) || weft__prd_u64(&h, &bytes))
      return WEFT_EWIRE;
    if (rank < (uint64_t)weft__mpi_g.size && g->mi[rank] >= 0)
      weft__mpool_want(&g->pool, g->mi[rank], bytes);
  }
  /* The TASK record: u8 op | u32 epoch | u32 task | ... */
  if (end - h.p < 9 || h.p[0] != WEFT__MR_TASK)
    return WEFT_EWIRE;
  uint32_t epoch = rd_u32(h.p + 1), task = rd_u32(h.p + 5);
  int j = weft__mpool_pick(&g->pool);
  if (j < 0) { /* rank 0's count ran ahead of ours: the least loaded */
    for (int k = 0; k < g->nm; k++)
      if (!g->pool.dead[k] &&
          (j < 0 || g->pool.inflight[k] < g->pool.inflight[j]))
        j = k;
  }
  mfly *f = &g->fly[j];
  if (f->n == f->cap) {
    size_t c = f->cap ? 2 * f->cap : 16;
    uint64_t *v = realloc(f->v, c * sizeof *v);
    if (!v)
      return WEFT_ENOMEM;
    f->v = v;
    f->cap = c;
  }
  f->v[f->n++] = (uint64_t)epoch << 32 | task;
  g->pool.inflight[j]++;
  if (!g->active[j]) {
    g->active[j] = true;
    g->last[j] = weft__mnow(); /* silence counts from its first task */
  }
  *self = j == 0;
  *rec = h.p;
  *nrec = (size_t)(end - h.p);
  rd->p = end;
  return j == 0 ? 0 : weft_buf_append(&g->batch[j], h.p, *nrec);
}

void weft__mgroup_self_done(weft__mgroup *g, uint32_t epoch, uint32_t task,
                            uint32_t us) {
  landed(g, 0, epoch, task, us);
}

bool weft__mgroup_busy(const weft__mgroup *g) {
  for (int j = 1; j < g->nm; j++)
    if (g->pool.inflight[j] > 0)
      return true;
  return false;
}

int weft__mgroup_forward(weft__mgroup *g, const uint8_t *rec, size_t n) {
  for (int j = 1; j < g->nm; j++)
    if (!g->pool.dead[j] && weft_buf_append(&g->batch[j], rec, n))
      return WEFT_ENOMEM;
  return 0;
}

void weft__mgroup_end(weft__mgroup *g, uint32_t epoch) {
  for (int j = 0; j < g->nm; j++) {
    mfly *f = &g->fly[j];
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
      if ((uint32_t)(f->v[i] >> 32) > epoch)
        f->v[k++] = f->v[i];
    g->pool.inflight[j] -= (int)(f->n - k);
    f->n = k;
    g->active[j] = k > 0;
  }
}

int weft__mgroup_up(weft__mgroup *g, int src, const uint8_t *p, size_t n,
                    weft_buf *out) {
  int j = src >= 0 && src < weft__mpi_g.size ? g->mi[src] : -1;
  if (j <= 0)
    return WEFT_EWIRE; /* DONE comes from members only */
  g->last[j] = weft__mnow();
  weft__prd rd = {p, p + n};
  weft_buf_clear(&g->wrap);
  while (rd.p < rd.end) {
    const uint8_t *at = rd.p;
    uint8_t op;
    uint32_t epoch, task, st, us;
    const uint8_t *msg;
    size_t nmsg;
    uint64_t nbytes, vlen, thread, endw;
    if (weft__prd_u8(&rd, &op))
      return WEFT_EWIRE;
    if (op == WEFT__MR_BEAT)
      continue;
    if (op != WEFT__MR_DONE || weft__prd_u32(&rd, &epoch) ||
        weft__prd_u32(&rd, &task) || weft__prd_u32(&rd, &st) ||
        weft__prd_bytes(&rd, &msg, &nmsg) || weft__prd_u64(&rd, &nbytes) ||
        weft__prd_u32(&rd, &us) || weft__prd_varint(&rd, &thread) ||
        weft__prd_u64(&rd, &endw) || weft__prd_varint(&rd, &vlen))
      return WEFT_EWIRE;
    uint8_t apart = 0; /* 1: the value goes to rank 0 on its own */
    if (vlen && (weft__prd_u8(&rd, &apart) ||
                 (!apart && vlen > (uint64_t)(rd.end - rd.p))))
      return WEFT_EWIRE;
    if (!apart)
      rd.p += vlen;
    landed(g, j, epoch, task, us);
    if (weft_buf_append(&g->wrap, at, (size_t)(rd.p - at)))
      return WEFT_ENOMEM;
  }
  if (!g->wrap.len)
    return 0;
  int rc = weft__pput_u8(out, WEFT__MR_GDONE);
  if (!rc)
    rc = weft__pput_varint(out, (uint64_t)src);
  if (!rc)
    rc = weft__pput_varint(out, g->wrap.len);
  if (!rc)
    rc = weft_buf_append(out, g->wrap.data, g->wrap.len);
  return rc;
}

int weft__mgroup_round(weft__mgroup *g, weft__msends *sends, weft_buf *out) {
  uint64_t now = weft__mnow(),
           timeout = (uint64_t)(weft__mpi_g.timeout_s * 1e9);
  for (int j = 1; j < g->nm; j++) {
    if (g->pool.dead[j]) {
      weft_buf_clear(&g->batch[j]);
      continue;
    }
    if (g->active[j] && now - g->last[j] > timeout) {
      /* silent: rank 0 names it and the tasks it had */
      g->pool.dead[j] = true;
      weft_buf_clear(&g->batch[j]);
      weft__msend_drop(sends, g->members[j]);
      mfly *f = &g->fly[j];
      int rc = weft__pput_u8(out, WEFT__MR_LOST);
      if (!rc)
        rc = weft__pput_varint(out, (uint64_t)g->members[j]);
      if (!rc)
        rc = weft__pput_u32(out, (uint32_t)((now - g->last[j]) / 1000000));
      if (!rc)
        rc = weft__pput_varint(out, f->n);
      for (size_t k = 0; !rc && k < f->n; k++)
        rc = weft__pput_u32(out, (uint32_t)f->v[k]);
      g->pool.inflight[j] = 0;
      f->n = 0;
      if (rc)
        return rc;
      continue;
    }
    if (g->batch[j].len) {
      int rc = weft__msend_post(sends, g->members[j], WEFT__MT_SCHED,
                                &g->batch[j]);
      if (rc)
        return rc;
    }
  }
  return 0;
}
