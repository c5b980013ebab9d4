/* procs/shm.c - big bytes values and array chunks through shared memory
 * instead of through the socket.
 *
 * The sender writes the bytes once into a memfd and seals it (no write,
 * shrink or grow from now on), then passes the descriptor with its message;
 * the receiver maps it read-only and wraps the mapping in a bytes value
 * whose destructor unmaps it (weft__bytes_external). So a big value costs
 * one copy instead of four (encode, socket in, socket out, decode), and the
 * seals mean that neither side can change or truncate what the other one
 * reads (no SIGBUS, no torn data).
 *
 * A received value keeps its descriptor while fewer than MAX_KEPT are kept
 * in the process, so sending it on (a result of one worker that is an
 * argument of a task on another) costs no copy at all: the same memfd is
 * passed again. Beyond that budget descriptors are closed after mapping
 * (the mapping stays valid) and a resend copies into a new memfd, so many
 * live values never exhaust the process's descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/obj.h"
#include "impl.h"

#define MAX_KEPT 128

static _Atomic int kept_fds; /* descriptors held by shared-memory values */

typedef struct shm_map {
  void *addr;
  size_t len;
  int fd; /* -1 when closed after mapping */
} shm_map;

static void shm_release(void *ud) {
  shm_map *m = ud;
  munmap(m->addr, m->len);
  if (m->fd >= 0) {
    close(m->fd);
    atomic_fetch_sub(&kept_fds, 1);
  }
  free(m);
}

int weft__shm_fd(const weft_value *v) {
  const shm_map *m;
  const uint8_t *p;
  size_t len;
  weft_chunk_info c;
  if (weft_chunk_get(v, &c) == 0) {
    m = weft__chunk_external_ud(v, shm_release);
    p = c.data;
    len = c.nbytes;
  } else {
    m = weft__bytes_external_ud(v, shm_release);
    p = weft_value_bytes(v);
    len = weft_value_len(v);
  }
  if (m && m->fd >= 0)
    return fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
  int fd = memfd_create("weft-bytes", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return -1;
  size_t done = 0;
  while (done < len) {
    ssize_t k = pwrite(fd, p + done, len - done, (off_t)done);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      goto fail;
    done += (size_t)k;
  }
  if (fcntl(fd, F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    goto fail;
  return fd;
fail:;
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}

/* Maps len bytes of sealed memfd fd (taken over, also on failure). */
static int map_fd(int fd, size_t len, shm_map **out) {
  struct stat st;
  int seals = fcntl(fd, F_GET_SEALS);
  if (len == 0 || fstat(fd, &st) < 0 || st.st_size < 0 ||
      (uint64_t)st.st_size < (uint64_t)len || seals < 0 ||
      !(seals & F_SEAL_SHRINK)) {
    close(fd);
    return WEFT_EWIRE;
  }
  shm_map *m = malloc(sizeof *m);
  if (!m) {
    close(fd);
    return WEFT_ENOMEM;
  }
  m->addr = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  if (m->addr == MAP_FAILED) {
    close(fd);
    free(m);
    return WEFT_ESYS;
  }
  m->len = len;
  m->fd = fd;
  if (atomic_fetch_add(&kept_fds, 1) >= MAX_KEPT) {
    atomic_fetch_sub(&kept_fds, 1);
    close(fd);
    m->fd = -1;
  }
  *out = m;
  return 0;
}

int weft__shm_value(int fd, size_t len, weft_value *out) {
  *out = weft_none();
  shm_map *m;
  int rc = map_fd(fd, len, &m);
  if (rc)
    return rc;
  /* On failure weft__bytes_external runs shm_release itself. */
  return weft__bytes_external(out, m->addr, len, shm_release, m);
}

int weft__shm_chunk(int fd, size_t nbytes, weft_dtype dtype, int ndim,
                    const int64_t *shape, weft_value *out) {
  *out = weft_none();
  size_t want;
  if (weft_chunk_nbytes(dtype, ndim, shape, &want) || want != nbytes) {
    close(fd);
    return WEFT_EWIRE;
  }
  shm_map *m;
  int rc = map_fd(fd, nbytes, &m);
  if (rc)
    return rc;
  /* On failure weft_chunk_wrap runs shm_release itself. */
  return weft_chunk_wrap(out, dtype, ndim, shape, m->addr, shm_release, m);
}
