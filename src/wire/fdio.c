/* fdio.c - moving frames over file descriptors (pipes, sockets) between the
 * scheduler and its worker processes.
 *
 * Two helpers, written once so every scheduler gets the fiddly parts right:
 *   - weft_wire_write_all writes every byte despite short writes, EINTR and
 *     non-blocking descriptors, and turns a vanished peer into WEFT_EIO
 *     instead of a process-killing SIGPIPE - without touching process-wide
 *     signal settings (sockets get MSG_NOSIGNAL; for pipes SIGPIPE is
 *     blocked in the calling thread for the write, and a SIGPIPE it raised
 *     is consumed before the mask is restored);
 *   - weft_wire_read_frame reads exactly one frame, header first, so that
 *     no byte of the next frame is taken and no reader state is needed
 *     between calls; it tells a clean end of stream (1) from one cut inside a
 *     frame (WEFT_EIO), and grows its buffer with the bytes that actually
 *     arrive, so a lying length cannot make it allocate gigabytes. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* the build defines _GNU_SOURCE */
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire_internal.h"

/* Read at most this much beyond what has arrived before growing again. */
#define READ_STEP (64 * 1024)

/* Waits until fd is ready for `events`; 0 or WEFT_EIO. */
static int wait_fd(int fd, short events) {
  struct pollfd pfd = {.fd = fd, .events = events};
  for (;;) {
    int k = poll(&pfd, 1, -1);
    if (k > 0)
      return 0; /* ready, or POLLERR/POLLHUP: the next call reports it */
    if (k < 0 && errno != EINTR)
      return WEFT_EIO;
  }
}

static bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

/* The write loop; use_send: the fd is a socket (MSG_NOSIGNAL). On failure
 * errno says why. */
static int write_loop(int fd, const uint8_t *p, size_t n, bool use_send) {
  while (n > 0) {
    ssize_t k = use_send ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (k > 0) {
      p += k;
      n -= (size_t)k;
    } else if (k < 0 && errno == EINTR) {
      continue;
    } else if (k < 0 && would_block(errno)) {
      if (wait_fd(fd, POLLOUT))
        return WEFT_EIO;
    } else {
      if (k == 0)
        errno = EIO; /* write() returning 0 for n > 0: treat as an error */
      return WEFT_EIO;
    }
  }
  return 0;
}

/* Writes to a non-socket with SIGPIPE held off in this thread only. */
static int write_nosigpipe(int fd, const uint8_t *p, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigemptyset(&pending);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0)
    return write_loop(fd, p, n, false); /* cannot fail in practice */
  int rc = write_loop(fd, p, n, false);
  int saved = errno;
  if (rc && saved == EPIPE && !was_pending) {
    /* Swallow the SIGPIPE our write raised before it can be delivered. */
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
      ;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return rc;
}

int weft_wire_write_all(int fd, const void *data, size_t n) {
  if (!data && n)
    return WEFT_EINVAL;
  const uint8_t *p = data;
  if (n == 0)
    return 0;
  /* Try the socket path first: one system call tells which kind fd is. */
  for (;;) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k >= 0) {
      if ((size_t)k == n)
        return 0;
      return write_loop(fd, p + k, n - (size_t)k, true);
    }
    if (errno == ENOTSOCK)
      return write_nosigpipe(fd, p, n);
    if (errno == EINTR)
      continue;
    if (would_block(errno))
      return write_loop(fd, p, n, true);
    return WEFT_EIO;
  }
}

int weft_wire_read_frame(int fd, weft_buf *buf) {
  if (!buf)
    return WEFT_EINVAL;
  buf->len = 0;
  size_t total = WEFT_WIRE_HEADER_SIZE;
  while (buf->len < total) {
    size_t want = total - buf->len;
    size_t step = buf->len > READ_STEP ? buf->len : READ_STEP;
    if (want > step)
      want = step;
    int rc = weft_buf_reserve(buf, want);
    if (rc)
      return rc;
    ssize_t k = read(fd, buf->data + buf->len, want);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      if (would_block(errno)) {
        if (wait_fd(fd, POLLIN))
          return WEFT_EIO;
        continue;
      }
      return WEFT_EIO;
    }
    if (k == 0)
      return buf->len == 0 ? 1 : WEFT_EIO;
    buf->len += (size_t)k;
    if (buf->len <= WEFT_WIRE_HEADER_SIZE &&
        (rc = weft_wire_frame_len(buf->data, buf->len, &total)))
      return rc;
  }
  return 0;
}
