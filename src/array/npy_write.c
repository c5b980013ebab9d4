/* npy_write.c - writes numpy's .npy files block by block (weft/npy.h).
 *
 * The header is written and the file sized (ftruncate: a sparse file) when
 * it is created, so every block knows where its rows go: each run of
 * contiguous elements of a block is one pwrite at its place. Nothing but
 * one block is ever in memory, blocks may come in any order and from
 * several threads (pwrite has no shared file position), and the writer
 * counts the elements written so a forgotten block is reported at close. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy_impl.h"
#include "weft/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_ORDER '>'
#else
#define HOST_ORDER '<'
#endif

static const char *descr_of(weft_dtype dtype) {
  switch (dtype) {
  case WEFT_BOOL:
    return "|b1";
  case WEFT_I8:
    return "|i1";
  case WEFT_U8:
    return "|u1";
  case WEFT_I16:
    return "i2";
  case WEFT_I32:
    return "i4";
  case WEFT_I64:
    return "i8";
  case WEFT_U16:
    return "u2";
  case WEFT_U32:
    return "u4";
  case WEFT_U64:
    return "u8";
  case WEFT_F32:
    return "f4";
  case WEFT_F64:
    return "f8";
  default:
    return NULL;
  }
}

int weft__npy_format_header(weft_dtype dtype, int ndim, const int64_t *shape,
                            char **out, size_t *len) {
  const char *d = descr_of(dtype);
  char descr[8], s[WEFT_CHUNK_MAX_NDIM * 22 + 4];
  char dict[sizeof s + 128];
  if (d[0] == '|')
    snprintf(descr, sizeof descr, "%s", d);
  else
    snprintf(descr, sizeof descr, "%c%s", HOST_ORDER, d);
  weft__npy_shape_str(s, sizeof s, ndim, shape);
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   descr, s);
  /* version 1.0 unless the header is longer than its 16-bit length field */
  size_t pre = 10, body = (size_t)n + 1; /* + '\n' */
  if (pre + body > 65535)
    pre = 12;
  size_t total = (pre + body + 63) / 64 * 64;
  char *h = malloc(total);
  if (!h)
    return WEFT_ENOMEM;
  size_t hlen = total - pre;
  memcpy(h, "\x93NUMPY", 6);
  h[6] = pre == 10 ? 1 : 2;
  h[7] = 0;
  for (size_t k = 0; k < pre - 8; k++)
    h[8 + k] = (char)(hlen >> (8 * k) & 0xff);
  memcpy(h + pre, dict, (size_t)n);
  memset(h + pre + n, ' ', total - pre - (size_t)n - 1);
  h[total - 1] = '\n';
  *out = h;
  *len = total;
  return 0;
}

struct weft_npy_writer {
  int fd;
  weft_npy_info info;
  int64_t strides[WEFT_CHUNK_MAX_NDIM]; /* C order, in elements */
  _Atomic uint64_t written;             /* elements written so far */
  char path[];
};

static int pwrite_all(int fd, const void *buf, size_t n, off_t off) {
  const char *p = buf;
  while (n > 0) {
    ssize_t put = pwrite(fd, p, n, off);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0) {
      if (put == 0)
        errno = EIO;
      return -1;
    }
    p += put;
    n -= (size_t)put;
    off += put;
  }
  return 0;
}

int weft_npy_create(const char *path, weft_dtype dtype, int ndim,
                    const int64_t *shape, weft_npy_writer **out,
                    weft_errmsg *err) {
  if (!path || !out)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL path or out");
  *out = NULL;
  size_t nbytes;
  if (!descr_of(dtype))
    return weft__npy_fail(err, WEFT_EINVAL, "%s: dtype %d is not a weft dtype",
                          path, (int)dtype);
  if (ndim < 0 || ndim > WEFT_CHUNK_MAX_NDIM || (ndim > 0 && !shape))
    return weft__npy_fail(err, WEFT_EINVAL,
                          "%s: %d dimensions (0 to %d, with a shape)", path,
                          ndim, WEFT_CHUNK_MAX_NDIM);
  int rc = weft_chunk_nbytes(dtype, ndim, shape, &nbytes);
  if (rc || nbytes > (size_t)INT64_MAX / 2) {
    char s[WEFT_CHUNK_MAX_NDIM * 22 + 4] = "()";
    int bad = -1;
    for (int k = 0; k < ndim; k++)
      if (shape[k] < 0)
        bad = k;
    if (bad >= 0)
      return weft__npy_fail(err, WEFT_EINVAL,
                            "%s: negative extent %lld on axis %d", path,
                            (long long)shape[bad], bad);
    weft__npy_shape_str(s, sizeof s, ndim, shape);
    return weft__npy_fail(err, WEFT_EINVAL, "%s: shape %s is too big", path, s);
  }
  size_t plen = strlen(path) + 1;
  weft_npy_writer *w = calloc(1, sizeof *w + plen);
  char *head = NULL;
  size_t hlen;
  if (!w || weft__npy_format_header(dtype, ndim, shape, &head, &hlen)) {
    free(w);
    return weft__npy_fail(err, WEFT_ENOMEM, "%s: out of memory", path);
  }
  memcpy(w->path, path, plen);
  w->info.dtype = dtype;
  w->info.ndim = ndim;
  if (ndim)
    memcpy(w->info.shape, shape, (size_t)ndim * sizeof *shape);
  w->info.version = head[6];
  w->info.data_offset = hlen;
  w->info.nbytes = nbytes;
  w->info.count = nbytes / weft_dtype_size(dtype);
  int64_t s = 1;
  for (int k = ndim - 1; k >= 0; k--) {
    w->strides[k] = s;
    s *= shape[k] ? shape[k] : 1;
  }
  atomic_init(&w->written, 0);
  w->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    rc = weft__npy_fail(err, WEFT_ESYS, "%s: cannot create: %s", path,
                        strerror(errno));
  } else if (pwrite_all(w->fd, head, hlen, 0) != 0 ||
             ftruncate(w->fd, (off_t)(hlen + nbytes)) != 0) {
    rc = weft__npy_fail(err, WEFT_EIO, "%s: cannot write %zu bytes: %s", path,
                        hlen + nbytes, strerror(errno));
  }
  free(head);
  if (rc) {
    if (w->fd >= 0) {
      close(w->fd);
      unlink(path);
    }
    free(w);
    return rc;
  }
  *out = w;
  return 0;
}

int weft_npy_write_block(weft_npy_writer *w, const int64_t *offset,
                         const int64_t *extent, const void *data,
                         weft_errmsg *err) {
  if (!w)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL npy writer");
  const weft_npy_info *in = &w->info;
  size_t count;
  int rc = weft__npy_check_block(w->path, in->ndim, in->shape, offset, extent,
                                 &count, err);
  if (rc || count == 0)
    return rc;
  if (!data)
    return weft__npy_fail(err, WEFT_EINVAL, "%s: NULL block data", w->path);
  size_t size = weft_dtype_size(in->dtype);
  weft__npy_runs r;
  weft__npy_runs_make(in->ndim, w->strides, offset, extent, &r);
  if (r.step != 1) { /* a column: its elements one by one */
    r.extent[r.ndim] = r.run;
    r.stride[r.ndim++] = r.step;
    r.run = 1;
  }
  const char *src = data;
  size_t run = (size_t)r.run * size;
  int64_t idx[WEFT_CHUNK_MAX_NDIM] = {0};
  for (;;) {
    int64_t at = r.base;
    for (int k = 0; k < r.ndim; k++)
      at += idx[k] * r.stride[k];
    off_t pos = (off_t)(in->data_offset + (size_t)at * size);
    if (pwrite_all(w->fd, src, run, pos) != 0)
      return weft__npy_fail(err, WEFT_EIO, "%s: cannot write at byte %lld: %s",
                            w->path, (long long)pos, strerror(errno));
    src += run;
    int k = r.ndim - 1;
    while (k >= 0 && ++idx[k] == r.extent[k])
      idx[k--] = 0;
    if (k < 0)
      break;
  }
  atomic_fetch_add_explicit(&w->written, count, memory_order_relaxed);
  return 0;
}

int weft_npy_write_chunk(weft_npy_writer *w, const int64_t *offset,
                         const weft_value *chunk, weft_errmsg *err) {
  if (!w)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL npy writer");
  weft_chunk_info c;
  int rc = weft_chunk_get(chunk, &c);
  if (rc)
    return weft__npy_fail(err, rc, "%s: the block to write is not a chunk",
                          w->path);
  if (c.dtype != w->info.dtype || c.ndim != w->info.ndim)
    return weft__npy_fail(err, WEFT_EINVAL,
                          "%s: a %d-d %s chunk cannot go into a %d-d %s file",
                          w->path, c.ndim, weft_dtype_name(c.dtype),
                          w->info.ndim, weft_dtype_name(w->info.dtype));
  return weft_npy_write_block(w, offset, c.shape, c.data, err);
}

int weft_npy_writer_close(weft_npy_writer *w, weft_errmsg *err) {
  if (!w)
    return 0;
  int rc = 0;
  uint64_t got = atomic_load(&w->written);
  if (close(w->fd) != 0)
    rc = weft__npy_fail(err, WEFT_EIO, "%s: close failed: %s", w->path,
                        strerror(errno));
  else if (got < w->info.count)
    rc = weft__npy_fail(err, WEFT_EIO,
                        "%s: only %llu of %zu elements were written (a block "
                        "is missing)",
                        w->path, (unsigned long long)got, w->info.count);
  free(w);
  return rc;
}

int weft_npy_save(const char *path, weft_dtype dtype, int ndim,
                  const int64_t *shape, const void *data, weft_errmsg *err) {
  weft_npy_writer *w;
  int rc = weft_npy_create(path, dtype, ndim, shape, &w, err);
  if (rc)
    return rc;
  int64_t zero[WEFT_CHUNK_MAX_NDIM] = {0};
  rc = weft_npy_write_block(w, zero, shape, data, err);
  if (rc) {
    weft_npy_writer_close(w, NULL);
    unlink(path);
    return rc;
  }
  return weft_npy_writer_close(w, err);
}

int weft_npy_save_chunk(const char *path, const weft_value *v,
                        weft_errmsg *err) {
  weft_chunk_info c;
  int rc = weft_chunk_get(v, &c);
  if (rc)
    return weft__npy_fail(err, rc, "%s: the value to save is not a chunk",
                          path ? path : "npy");
  return weft_npy_save(path, c.dtype, c.ndim, c.shape, c.data, err);
}
