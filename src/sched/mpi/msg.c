/* mpi/msg.c - the messages' transport: non-blocking sends whose buffers
 * live until MPI has them, and receiving whatever has arrived. The records
 * inside the messages are laid out in mpi/impl.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "impl.h"

uint64_t weft__mnow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int post_on(weft__msends *s, MPI_Comm comm, int dest, int tag,
                   weft_buf *b);

int weft__msend_post(weft__msends *s, int dest, int tag, weft_buf *b) {
  return post_on(s, MPI_COMM_WORLD, dest, tag, b);
}

static int pay_tag(uint32_t epoch) { return 1 + (int)(epoch % 30000); }

int weft__msend_payload(weft__msends *s, int dest, uint32_t epoch,
                        weft_buf *b) {
  return post_on(s, weft__mpi_g.pcomm, dest, pay_tag(epoch), b);
}

static int post_on(weft__msends *s, MPI_Comm comm, int dest, int tag,
                   weft_buf *b) {
  if (b->len > INT_MAX)
    return WEFT_ENOTSUP; /* one MPI message counts its bytes in an int */
  if (s->n == s->cap) {
    size_t c = s->cap ? 2 * s->cap : 16;
    weft__msend *p = realloc(s->v, c * sizeof *p);
    if (!p)
      return WEFT_ENOMEM;
    s->v = p;
    s->cap = c;
  }
  weft__msend *m = &s->v[s->n];
  m->buf = *b;
  m->dest = dest;
  weft_buf_init(b);
  if (MPI_Isend(m->buf.data, (int)m->buf.len, MPI_BYTE, dest, tag, comm,
                &m->req) != MPI_SUCCESS) {
    weft_buf_free(&m->buf);
    return WEFT_EIO;
  }
  s->n++;
  return 0;
}

void weft__msend_reap(weft__msends *s) {
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++) {
    int done = 0;
    MPI_Test(&s->v[i].req, &done, MPI_STATUS_IGNORE);
    if (done)
      weft_buf_free(&s->v[i].buf);
    else
      s->v[k++] = s->v[i];
  }
  s->n = k;
}

void weft__msend_drop(weft__msends *s, int dest) {
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (s->v[i].dest == dest) {
      /* Open MPI cannot cancel a send: let it go, keep no buffer that MPI
       * may still read; the bytes are leaked on purpose (a dead rank). */
      MPI_Request_free(&s->v[i].req);
      s->v[i].buf.data = NULL;
    } else
      s->v[k++] = s->v[i];
  }
  s->n = k;
}

void weft__msend_finish(weft__msends *s, double timeout_s) {
  uint64_t end = weft__mnow() + (uint64_t)(timeout_s * 1e9);
  while (s->n && weft__mnow() < end) {
    weft__msend_reap(s);
    if (s->n) {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
  }
  for (size_t i = 0; i < s->n; i++)
    MPI_Request_free(&s->v[i].req); /* never answered: leave it to MPI */
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

weft__mpay *weft__mpay_post(weft__mpays *p, int src, uint32_t epoch,
                            uint64_t n, int *rc) {
  *rc = 0;
  if (n > INT_MAX) {
    *rc = WEFT_EWIRE;
    return NULL;
  }
  if (p->n == p->cap) {
    size_t c = p->cap ? 2 * p->cap : 8;
    weft__mpay *v = realloc(p->v, c * sizeof *v);
    if (!v) {
      *rc = WEFT_ENOMEM;
      return NULL;
    }
    p->v = v;
    p->cap = c;
  }
  weft__mpay *e = &p->v[p->n];
  memset(e, 0, sizeof *e);
  if (weft_buf_reserve(&e->buf, n ? (size_t)n : 1)) {
    *rc = WEFT_ENOMEM;
    return NULL;
  }
  e->buf.len = (size_t)n;
  e->src = src;
  e->epoch = epoch;
  if (MPI_Irecv(e->buf.data, (int)n, MPI_BYTE, src, pay_tag(epoch),
                weft__mpi_g.pcomm, &e->req) != MPI_SUCCESS) {
    weft_buf_free(&e->buf);
    *rc = WEFT_EIO;
    return NULL;
  }
  p->n++;
  return e;
}

long weft__mpay_done(weft__mpays *p) {
  for (size_t i = 0; i < p->n; i++) {
    int done = 0;
    MPI_Test(&p->v[i].req, &done, MPI_STATUS_IGNORE);
    if (done)
      return (long)i;
  }
  return -1;
}

void weft__mpay_remove(weft__mpays *p, size_t i) {
  weft_buf_free(&p->v[i].buf);
  free(p->v[i].rec);
  p->v[i] = p->v[--p->n];
}

void weft__mpay_cancel(weft__mpays *p, int src) {
  for (size_t i = 0; i < p->n;) {
    if (src >= 0 && p->v[i].src != src) {
      i++;
      continue;
    }
    /* Its sender is dead or its compute over; a payload that still comes
     * matches no later receive (the tag names the compute). */
    MPI_Cancel(&p->v[i].req);
    MPI_Request_free(&p->v[i].req);
    p->v[i].buf.data = NULL; /* MPI may still write it: leaked on purpose */
    weft__mpay_remove(p, i);
  }
  if (src < 0) {
    free(p->v);
    p->v = NULL;
    p->cap = 0;
  }
}

int weft__mrecv(weft_buf *b, int *src, int *tag) {
  int flag = 0;
  MPI_Status st;
  if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) !=
      MPI_SUCCESS)
    return WEFT_EIO;
  if (!flag)
    return 0;
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  weft_buf_clear(b);
  if (n > 0 && weft_buf_reserve(b, (size_t)n))
    return WEFT_ENOMEM;
  if (MPI_Recv(b->data, n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE) != MPI_SUCCESS)
    return WEFT_EIO;
  b->len = (size_t)n;
  *src = st.MPI_SOURCE;
  *tag = st.MPI_TAG;
  return 1;
}
