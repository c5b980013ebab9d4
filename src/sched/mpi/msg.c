/* mpi/msg.c - the messages' transport: non-blocking sends whose buffers
 * live until MPI has them, and receiving whatever has arrived. The records
 * inside the messages are laid out in mpi/impl.h. */
#include <limits.h>
#include <stdlib.h>
#include <time.h>

#include "impl.h"

uint64_t weft__mnow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int weft__msend_post(weft__msends *s, int dest, int tag, weft_buf *b) {
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
  if (MPI_Isend(m->buf.data, (int)m->buf.len, MPI_BYTE, dest, tag,
                MPI_COMM_WORLD, &m->req) != MPI_SUCCESS) {
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
