/* procs/conn.c - one end of the socket between the pool and a worker:
 * frames in, frames out, and descriptors (memfds of big bytes values)
 * travelling with them.
 *
 * Why not weft_wire_read_frame / weft_wire_write_all: those use read() and
 * write(), which drop SCM_RIGHTS descriptors, and they block, while the
 * pool must never block on one worker: a worker busy writing a big result
 * while the pool is busy writing it a big task would deadlock both. So the
 * pool side is non-blocking with an output queue; the worker side uses the
 * same code with a blocking socket.
 *
 * Descriptors: each is attached to the frame it belongs to (its offset in
 * the output queue) and sent with that frame's first byte, in one sendmsg
 * that stops before the next frame that has descriptors of its own. The
 * kernel hands them to the reader with the recvmsg that returns that byte
 * (AF_UNIX never merges two sendmsg calls carrying descriptors into one
 * read), so the reader queues descriptors in arrival order and each frame
 * takes, in order, as many as it has shared-memory slots. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "impl.h"

#define READ_STEP (64 * 1024)
#define SHRINK_ABOVE (4u << 20) /* free idle buffers bigger than this */
#define MAX_RECV_FDS 253        /* SCM_MAX_FD: what one recvmsg may carry */

void weft__conn_init(weft__conn *c, int fd, bool nonblock) {
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->nonblock = nonblock;
}

void weft__conn_close(weft__conn *c) {
  if (c->fd >= 0)
    close(c->fd);
  for (size_t i = c->roff; i < c->nr; i++)
    close(c->rfds[i]);
  for (size_t i = c->ooff; i < c->no; i++)
    close(c->ofds[i].fd);
  free(c->rfds);
  free(c->ofds);
  weft_buf_free(&c->in);
  weft_buf_free(&c->out);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

static int push_rfd(weft__conn *c, int fd) {
  if (c->roff == c->nr)
    c->roff = c->nr = 0;
  if (c->nr == c->rcap) {
    size_t cap = c->rcap ? 2 * c->rcap : 8;
    int *p = realloc(c->rfds, cap * sizeof *p);
    if (!p) {
      close(fd);
      return WEFT_ENOMEM;
    }
    c->rfds = p;
    c->rcap = cap;
  }
  c->rfds[c->nr++] = fd;
  return 0;
}

int weft__conn_take_fd(weft__conn *c) {
  return c->roff < c->nr ? c->rfds[c->roff++] : -1;
}

int weft__conn_fill(weft__conn *c) {
  weft_buf *b = &c->in;
  size_t have = b->len - c->in_off;
  if (have == 0) {
    b->len = c->in_off = 0;
    if (b->cap > SHRINK_ABOVE)
      weft_buf_free(b);
  } else if (c->in_off >= READ_STEP || c->in_off >= have) {
    memmove(b->data, b->data + c->in_off, have);
    b->len = have;
    c->in_off = 0;
  }
  /* Read up to the end of the frame being received when it is long, but
   * grow no faster than the bytes that actually arrived. */
  size_t want = READ_STEP, total;
  if (have >= WEFT_WIRE_HEADER_SIZE &&
      weft_wire_frame_len(b->data + c->in_off, have, &total) == 0 &&
      total > have) {
    size_t need = total - have, step = have > READ_STEP ? have : READ_STEP;
    want = need < step ? need : step;
    if (want < READ_STEP)
      want = READ_STEP;
  }
  int rc = weft_buf_reserve(b, want);
  if (rc)
    return rc;
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * MAX_RECV_FDS)];
  } ctl;
  struct iovec iov = {b->data + b->len, want};
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  ssize_t k;
  do
    k = recvmsg(c->fd, &mh,
                MSG_CMSG_CLOEXEC | (c->nonblock ? MSG_DONTWAIT : 0));
  while (k < 0 && errno == EINTR);
  if (k < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : WEFT_EIO;
  int bad = 0;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
      if (!bad)
        bad = push_rfd(c, fd);
      else
        close(fd);
    }
  }
  if (bad)
    return bad;
  if (mh.msg_flags & MSG_CTRUNC) { /* descriptors were lost */
    errno = EMSGSIZE;
    return WEFT_EIO;
  }
  if (k == 0)
    return 1;
  b->len += (size_t)k;
  return 0;
}

int weft__conn_next(weft__conn *c, const uint8_t **frame, size_t *len) {
  size_t have = c->in.len - c->in_off, total;
  if (have == 0)
    return 1;
  int rc = weft_wire_frame_len(c->in.data + c->in_off, have, &total);
  if (rc)
    return rc;
  if (have < total)
    return 1;
  *frame = c->in.data + c->in_off;
  *len = total;
  c->in_off += total;
  return 0;
}

int weft__conn_attach(weft__conn *c, size_t at, int fd) {
  if (c->no == c->ocap) {
    size_t cap = c->ocap ? 2 * c->ocap : 8;
    weft__fdat *p = realloc(c->ofds, cap * sizeof *p);
    if (!p) {
      close(fd);
      return WEFT_ENOMEM;
    }
    c->ofds = p;
    c->ocap = cap;
  }
  c->ofds[c->no++] = (weft__fdat){at, fd};
  return 0;
}

void weft__conn_detach_from(weft__conn *c, size_t at) {
  while (c->no > c->ooff && c->ofds[c->no - 1].at >= at)
    close(c->ofds[--c->no].fd);
}

int weft__conn_flush(weft__conn *c) {
  while (c->out_off < c->out.len) {
    /* Descriptors of the frame starting here go with this call, which
     * stops where the next frame with descriptors starts. */
    size_t first = c->ooff, last = c->ooff;
    while (last < c->no && c->ofds[last].at <= c->out_off &&
           last - first < MAX_RECV_FDS)
      last++;
    size_t end = last < c->no ? c->ofds[last].at : c->out.len;
    if (end <= c->out_off) /* more than MAX_RECV_FDS at one offset */
      end = c->out_off + 1;
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * MAX_RECV_FDS)];
    } ctl;
    struct iovec iov = {c->out.data + c->out_off, end - c->out_off};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    size_t nfds = last - first;
    if (nfds) {
      memset(&ctl, 0, sizeof ctl);
      mh.msg_control = ctl.buf;
      mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
      h->cmsg_level = SOL_SOCKET;
      h->cmsg_type = SCM_RIGHTS;
      h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      for (size_t i = 0; i < nfds; i++)
        memcpy(CMSG_DATA(h) + i * sizeof(int), &c->ofds[first + i].fd,
               sizeof(int));
    }
    ssize_t k =
        sendmsg(c->fd, &mh, MSG_NOSIGNAL | (c->nonblock ? MSG_DONTWAIT : 0));
    if (k < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 1;
      return WEFT_EIO;
    }
    if (k > 0 && nfds) { /* sent: the receiver has its own copies now */
      for (size_t i = first; i < last; i++)
        close(c->ofds[i].fd);
      c->ooff = last;
    }
    c->out_off += (size_t)k;
  }
  c->out.len = c->out_off = 0;
  c->no = c->ooff = 0;
  if (c->out.cap > SHRINK_ABOVE)
    weft_buf_free(&c->out);
  return 0;
}
