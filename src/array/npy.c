/* npy.c - reads numpy's .npy files (weft/npy.h): parses the header, maps the
 * file read-only and hands out rectangular blocks, as views of the mapping
 * when they are contiguous in it and as copies (reordered, byte-swapped)
 * otherwise.
 *
 * The header is a Python dict literal; only the three keys np.save writes
 * are accepted (as numpy does), and every value is checked before a byte of
 * data is touched: a corrupt or cut file gets a message, never a read past
 * the mapping. The copy works on "runs" (npy_impl.h): axes that the block
 * spans whole are merged, so a block of whole rows is one memcpy. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy_impl.h"
#include "weft/error.h"

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6
#define HEADER_MAX (1u << 24) /* a header longer than 16 MiB is corrupt */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BIG 1
#else
#define HOST_BIG 0
#endif

int weft__npy_fail(weft_errmsg *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
  }
  return code;
}

void weft__npy_shape_str(char *buf, size_t size, int ndim,
                         const int64_t *shape) {
  size_t n = 0;
  n += (size_t)snprintf(buf, size, "(");
  for (int k = 0; k < ndim && n < size; k++)
    n += (size_t)snprintf(buf + n, size - n, "%s%lld", k ? ", " : "",
                          (long long)shape[k]);
  if (n < size)
    snprintf(buf + n, size - n, ndim == 1 ? ",)" : ")");
}

/* ---- the header ---- */

typedef struct cursor {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end &&
         (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

/* A quoted Python string without escapes into buf (NUL-terminated). */
static bool parse_str(cursor *c, char *buf, size_t size) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= size)
      return false;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return false;
  c->p++;
  buf[n] = 0;
  return true;
}

static bool eat_word(cursor *c, const char *w) {
  skip_ws(c);
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return true;
  }
  return false;
}

/* The dtype of a descr string ("<f8", "|b1", "i4", ...). */
static int parse_descr(const char *d, weft_npy_info *info, const char *what,
                       weft_errmsg *err) {
  static const char supported[] =
      "weft reads bool, int8-int64, uint8-uint64, float32 and float64";
  const char *s = d;
  char order = '=';
  if (*s == '<' || *s == '>' || *s == '|' || *s == '=')
    order = *s++;
  char kind = *s ? *s++ : 0;
  char *endp;
  errno = 0;
  long size = kind && *s >= '0' && *s <= '9' ? strtol(s, &endp, 10) : -1;
  if (size > 0 && *endp)
    size = -1;
  static const struct {
    char kind;
    long size;
    weft_dtype dtype;
  } table[] = {
      {'b', 1, WEFT_BOOL}, {'?', 1, WEFT_BOOL}, {'i', 1, WEFT_I8},
      {'i', 2, WEFT_I16},  {'i', 4, WEFT_I32},  {'i', 8, WEFT_I64},
      {'u', 1, WEFT_U8},   {'u', 2, WEFT_U16},  {'u', 4, WEFT_U32},
      {'u', 8, WEFT_U64},  {'f', 4, WEFT_F32},  {'f', 8, WEFT_F64},
  };
  if (kind == '?' && !*s)
    size = 1;
  for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
    if (table[k].kind == kind && table[k].size == size) {
      info->dtype = table[k].dtype;
      bool big = order == '>' || (order == '=' && HOST_BIG);
      info->swapped = size > 1 && order != '|' && big != HOST_BIG;
      return 0;
    }
  const char *name = "an unknown dtype";
  switch (kind) {
  case 'c':
    name = "complex";
    break;
  case 'f':
    name = size == 2 ? "float16" : "a float size numpy has no name for";
    if (size > 8)
      name = "long double";
    break;
  case 'U':
  case 'S':
  case 'a':
    name = "strings";
    break;
  case 'O':
    name = "Python objects";
    break;
  case 'V':
    name = "void/structured";
    break;
  case 'M':
  case 'm':
    name = "datetime/timedelta";
    break;
  case 'b':
  case 'i':
  case 'u':
    name = "an integer size numpy has no name for";
    break;
  }
  return weft__npy_fail(err, WEFT_ENOTSUP,
                        "%s: dtype '%s' (%s) not supported: %s", what, d, name,
                        supported);
}

/* The shape tuple: "(3, 4)", "(5,)", "()", python 2's "(5L,)". */
static int parse_shape(cursor *c, weft_npy_info *info, const char *what,
                       weft_errmsg *err) {
  if (!eat(c, '('))
    return weft__npy_fail(err, WEFT_EIO, "%s: header: 'shape' is not a tuple",
                          what);
  int ndim = 0;
  while (!eat(c, ')')) {
    skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
      return weft__npy_fail(err, WEFT_EIO,
                            "%s: header: 'shape' holds something other than "
                            "non-negative integers",
                            what);
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      if (v > ((uint64_t)INT64_MAX - 9) / 10)
        return weft__npy_fail(
            err, WEFT_EIO, "%s: header: an extent of 'shape' overflows", what);
      v = v * 10 + (uint64_t)(*c->p++ - '0');
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
      c->p++;
    if (ndim == WEFT_CHUNK_MAX_NDIM)
      return weft__npy_fail(err, WEFT_ENOTSUP,
                            "%s: more than %d dimensions not supported", what,
                            WEFT_CHUNK_MAX_NDIM);
    info->shape[ndim++] = (int64_t)v;
    if (!eat(c, ',')) {
      if (!eat(c, ')'))
        return weft__npy_fail(err, WEFT_EIO,
                              "%s: header: 'shape' tuple is malformed", what);
      break;
    }
  }
  info->ndim = ndim;
  return 0;
}

int weft_npy_parse_header(const void *buf, size_t len, weft_npy_info *info,
                          weft_errmsg *err) {
  return weft__npy_parse_named(buf, len, info, "npy", err);
}

int weft__npy_parse_named(const void *buf, size_t len, weft_npy_info *info,
                          const char *what, weft_errmsg *err) {
  if (!buf || !info)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL buffer or info");
  memset(info, 0, sizeof *info);
  const unsigned char *b = buf;
  if (len < MAGIC_LEN + 2 || memcmp(b, MAGIC, MAGIC_LEN) != 0)
    return weft__npy_fail(err, WEFT_EIO,
                          "%s: not a .npy file (no \\x93NUMPY magic)", what);
  int major = b[6], minor = b[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return weft__npy_fail(
        err, WEFT_ENOTSUP,
        "%s: .npy format version %d.%d not supported (1.0, 2.0, 3.0)", what,
        major, minor);
  size_t start = major == 1 ? 10 : 12, hlen;
  if (len < start)
    return weft__npy_fail(err, WEFT_EIO, "%s: header cut after %zu bytes", what,
                          len);
  if (major == 1)
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
  else
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
           (size_t)b[11] << 24;
  if (hlen > HEADER_MAX)
    return weft__npy_fail(err, WEFT_EIO,
                          "%s: header length %zu is beyond reason (corrupt)",
                          what, hlen);
  if (len - start < hlen)
    return weft__npy_fail(err, WEFT_EIO,
                          "%s: header cut: it declares %zu bytes, %zu present",
                          what, hlen, len - start);
  info->version = major;
  info->data_offset = start + hlen;

  cursor c = {(const char *)b + start, (const char *)b + start + hlen};
  bool have_descr = false, have_order = false, have_shape = false;
  if (!eat(&c, '{'))
    return weft__npy_fail(err, WEFT_EIO, "%s: header is not a dict", what);
  while (!eat(&c, '}')) {
    char key[32], descr[64];
    if (!parse_str(&c, key, sizeof key) || !eat(&c, ':'))
      return weft__npy_fail(err, WEFT_EIO,
                            "%s: header dict is malformed near offset %zu",
                            what, (size_t)(c.p - (const char *)b));
    int rc = 0;
    if (strcmp(key, "descr") == 0 && !have_descr) {
      have_descr = true;
      skip_ws(&c);
      if (c.p < c.end && *c.p == '[')
        return weft__npy_fail(err, WEFT_ENOTSUP,
                              "%s: structured dtype (a list of fields) not "
                              "supported",
                              what);
      if (!parse_str(&c, descr, sizeof descr))
        return weft__npy_fail(
            err, WEFT_EIO, "%s: header: 'descr' is not a dtype string", what);
      rc = parse_descr(descr, info, what, err);
    } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
      have_order = true;
      if (eat_word(&c, "True"))
        info->fortran_order = true;
      else if (!eat_word(&c, "False"))
        return weft__npy_fail(err, WEFT_EIO,
                              "%s: header: 'fortran_order' is not True or "
                              "False",
                              what);
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      have_shape = true;
      rc = parse_shape(&c, info, what, err);
    } else {
      return weft__npy_fail(err, WEFT_EIO,
                            "%s: header: unexpected or repeated key '%s'", what,
                            key);
    }
    if (rc)
      return rc;
    if (!eat(&c, ',')) {
      if (!eat(&c, '}'))
        return weft__npy_fail(err, WEFT_EIO,
                              "%s: header dict is malformed near offset %zu",
                              what, (size_t)(c.p - (const char *)b));
      break;
    }
  }
  skip_ws(&c);
  if (c.p != c.end)
    return weft__npy_fail(err, WEFT_EIO,
                          "%s: header has text after its dict at offset %zu",
                          what, (size_t)(c.p - (const char *)b));
  if (!have_descr || !have_order || !have_shape)
    return weft__npy_fail(err, WEFT_EIO, "%s: header lacks '%s'", what,
                          !have_descr   ? "descr"
                          : !have_order ? "fortran_order"
                                        : "shape");
  int rc =
      weft_chunk_nbytes(info->dtype, info->ndim, info->shape, &info->nbytes);
  if (rc || info->nbytes > (size_t)INT64_MAX - info->data_offset) {
    char s[WEFT_CHUNK_MAX_NDIM * 22 + 4];
    weft__npy_shape_str(s, sizeof s, info->ndim, info->shape);
    return weft__npy_fail(err, WEFT_EIO, "%s: shape %s is too big", what, s);
  }
  info->count = info->nbytes / weft_dtype_size(info->dtype);
  return 0;
}

/* ---- blocks ---- */

int weft__npy_check_block(const char *what, int ndim, const int64_t *shape,
                          const int64_t *offset, const int64_t *extent,
                          size_t *count, weft_errmsg *err) {
  if (ndim > 0 && (!offset || !extent))
    return weft__npy_fail(err, WEFT_EINVAL, "%s: NULL offset or extent", what);
  size_t n = 1;
  for (int k = 0; k < ndim; k++) {
    if (offset[k] < 0 || extent[k] < 0 || offset[k] > shape[k] ||
        extent[k] > shape[k] - offset[k]) {
      char s[WEFT_CHUNK_MAX_NDIM * 22 + 4];
      weft__npy_shape_str(s, sizeof s, ndim, shape);
      return weft__npy_fail(err, WEFT_EINVAL,
                            "%s: block offset %lld + extent %lld on axis %d is "
                            "outside shape %s",
                            what, (long long)offset[k], (long long)extent[k], k,
                            s);
    }
    n *= (size_t)extent[k];
  }
  *count = n;
  return 0;
}

void weft__npy_runs_make(int ndim, const int64_t *strides,
                         const int64_t *offset, const int64_t *extent,
                         weft__npy_runs *r) {
  int64_t ext[WEFT_CHUNK_MAX_NDIM], str[WEFT_CHUNK_MAX_NDIM];
  int n = 0;
  r->base = 0;
  for (int k = 0; k < ndim; k++) {
    r->base += offset[k] * strides[k];
    if (extent[k] != 1) { /* axes of one element only move the base */
      ext[n] = extent[k];
      str[n++] = strides[k];
    }
  }
  r->run = 1;
  r->step = 1;
  if (n > 0) {
    r->run = ext[n - 1];
    r->step = str[n - 1];
    n--;
    while (n > 0 && str[n - 1] == r->step * r->run) /* next row follows on */
      r->run *= ext[--n];
  }
  /* outer loops: merge neighbours that follow on from each other too */
  int m = 0;
  for (int k = 0; k < n; k++) {
    if (m > 0 && str[k] * ext[k] == r->stride[m - 1]) {
      r->extent[m - 1] *= ext[k];
      r->stride[m - 1] = str[k];
    } else {
      r->extent[m] = ext[k];
      r->stride[m++] = str[k];
    }
  }
  r->ndim = m;
}

static void swap_bytes(void *p, size_t count, size_t size) {
  unsigned char *b = p;
  if (size == 2) {
    uint16_t *q = p;
    for (size_t i = 0; i < count; i++)
      q[i] = __builtin_bswap16(q[i]);
  } else if (size == 4) {
    uint32_t *q = p;
    for (size_t i = 0; i < count; i++)
      q[i] = __builtin_bswap32(q[i]);
  } else if (size == 8) {
    for (size_t i = 0; i < count; i++, b += 8) {
      uint64_t v;
      memcpy(&v, b, 8);
      v = __builtin_bswap64(v);
      memcpy(b, &v, 8);
    }
  }
}

/* ---- the mapped file ---- */

struct weft_npy {
  _Atomic size_t refs; /* the handle + every chunk viewing the mapping */
  weft_npy_info info;
  void *map;
  size_t maplen;
  int64_t strides[WEFT_CHUNK_MAX_NDIM]; /* in elements, of the file */
  char path[];
};

static void unref(void *ud) {
  weft_npy *f = ud;
  if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
    return;
  if (f->map)
    munmap(f->map, f->maplen);
  free(f);
}

void weft_npy_close(weft_npy *f) {
  if (f)
    unref(f);
}

const weft_npy_info *weft_npy_get_info(const weft_npy *f) {
  return f ? &f->info : NULL;
}

const void *weft_npy_data(const weft_npy *f) {
  return f && f->info.nbytes ? (const char *)f->map + f->info.data_offset
                             : NULL;
}

/* Reads exactly n bytes at off; 0, or -1 (errno set, 0 for end of file). */
static int pread_all(int fd, void *buf, size_t n, off_t off) {
  char *p = buf;
  while (n > 0) {
    ssize_t got = pread(fd, p, n, off);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      if (got == 0)
        errno = 0;
      return -1;
    }
    p += got;
    n -= (size_t)got;
    off += got;
  }
  return 0;
}

int weft_npy_open(const char *path, weft_npy **out, weft_errmsg *err) {
  if (!path || !out)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL path or out");
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return weft__npy_fail(err, WEFT_ESYS, "%s: cannot open: %s", path,
                          strerror(errno));
  int rc = 0;
  struct stat st;
  char *head = NULL;
  weft_npy *f = NULL;
  unsigned char first[12];
  if (fstat(fd, &st) != 0) {
    rc = weft__npy_fail(err, WEFT_ESYS, "%s: cannot stat: %s", path,
                        strerror(errno));
    goto done;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = weft__npy_fail(err, WEFT_EIO, "%s: not a regular file", path);
    goto done;
  }
  size_t fsize = (size_t)st.st_size;
  size_t want = fsize < sizeof first ? fsize : sizeof first;
  if (pread_all(fd, first, want, 0) != 0) {
    rc = weft__npy_fail(err, WEFT_EIO, "%s: cannot read: %s", path,
                        errno ? strerror(errno) : "end of file");
    goto done;
  }
  weft_npy_info info;
  /* a first parse on 12 bytes says how long the header is */
  size_t hlen = want;
  if (want >= 10 && memcmp(first, MAGIC, MAGIC_LEN) == 0) {
    if (first[6] == 1)
      hlen = 10 + ((size_t)first[8] | (size_t)first[9] << 8);
    else if (want >= 12)
      hlen = 12 + ((size_t)first[8] | (size_t)first[9] << 8 |
                   (size_t)first[10] << 16 | (size_t)first[11] << 24);
  }
  if (hlen > 12 + HEADER_MAX)
    hlen = want; /* the parse below says what is wrong */
  else if (hlen > fsize)
    hlen = fsize; /* a cut header: the parse says how much is there */
  head = malloc(hlen ? hlen : 1);
  if (!head) {
    rc = weft__npy_fail(err, WEFT_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  if (pread_all(fd, head, hlen, 0) != 0) {
    rc = weft__npy_fail(err, WEFT_EIO, "%s: cannot read: %s", path,
                        errno ? strerror(errno) : "end of file");
    goto done;
  }
  rc = weft__npy_parse_named(head, hlen, &info, path, err);
  if (rc)
    goto done;
  if (fsize - info.data_offset < info.nbytes) {
    char s[WEFT_CHUNK_MAX_NDIM * 22 + 4];
    weft__npy_shape_str(s, sizeof s, info.ndim, info.shape);
    rc = weft__npy_fail(err, WEFT_EIO,
                        "%s: truncated: %zu bytes of data, shape %s %s needs "
                        "%zu",
                        path, fsize - info.data_offset, s,
                        weft_dtype_name(info.dtype), info.nbytes);
    goto done;
  }
  size_t plen = strlen(path) + 1;
  f = calloc(1, sizeof *f + plen);
  if (!f) {
    rc = weft__npy_fail(err, WEFT_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  atomic_init(&f->refs, 1);
  f->info = info;
  memcpy(f->path, path, plen);
  int64_t s = 1;
  for (int k = 0; k < info.ndim; k++) {
    int a = info.fortran_order ? k : info.ndim - 1 - k;
    f->strides[a] = s;
    s *= info.shape[a] ? info.shape[a] : 1;
  }
  if (info.nbytes) {
    f->maplen = info.data_offset + info.nbytes;
    f->map = mmap(NULL, f->maplen, PROT_READ, MAP_SHARED, fd, 0);
    if (f->map == MAP_FAILED) {
      f->map = NULL;
      rc = weft__npy_fail(err, WEFT_ESYS, "%s: cannot map %zu bytes: %s", path,
                          f->maplen, strerror(errno));
      goto done;
    }
  }
  *out = f;
  f = NULL;
done:
  free(head);
  free(f);
  close(fd);
  return rc;
}

int weft_npy_read_into(weft_npy *f, const int64_t *offset,
                       const int64_t *extent, void *dst, weft_errmsg *err) {
  if (!f)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL npy file");
  const weft_npy_info *in = &f->info;
  size_t count;
  int rc = weft__npy_check_block(f->path, in->ndim, in->shape, offset, extent,
                                 &count, err);
  if (rc || count == 0)
    return rc;
  if (!dst)
    return weft__npy_fail(err, WEFT_EINVAL, "%s: NULL destination", f->path);
  size_t size = weft_dtype_size(in->dtype);
  weft__npy_runs r;
  weft__npy_runs_make(in->ndim, f->strides, offset, extent, &r);
  const char *src = (const char *)f->map + in->data_offset;
  char *d = dst;
  int64_t idx[WEFT_CHUNK_MAX_NDIM] = {0};
  for (;;) {
    int64_t at = r.base;
    for (int k = 0; k < r.ndim; k++)
      at += idx[k] * r.stride[k];
    const char *s = src + (size_t)at * size;
    if (r.step == 1) {
      memcpy(d, s, (size_t)r.run * size);
      d += (size_t)r.run * size;
    } else {
      size_t jump = (size_t)r.step * size;
      for (int64_t i = 0; i < r.run; i++, d += size, s += jump)
        memcpy(d, s, size);
    }
    int k = r.ndim - 1;
    while (k >= 0 && ++idx[k] == r.extent[k])
      idx[k--] = 0;
    if (k < 0)
      break;
  }
  if (in->swapped)
    swap_bytes(dst, count, size);
  return 0;
}

int weft_npy_block(weft_npy *f, const int64_t *offset, const int64_t *extent,
                   weft_value *out, weft_errmsg *err) {
  if (!f || !out)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL npy file or out");
  *out = weft_none();
  const weft_npy_info *in = &f->info;
  size_t count;
  int rc = weft__npy_check_block(f->path, in->ndim, in->shape, offset, extent,
                                 &count, err);
  if (rc)
    return rc;
  size_t size = weft_dtype_size(in->dtype);
  if (count > 0 && !in->swapped) {
    weft__npy_runs r;
    weft__npy_runs_make(in->ndim, f->strides, offset, extent, &r);
    const char *p =
        (const char *)f->map + in->data_offset + (size_t)r.base * size;
    if (r.ndim == 0 && r.step == 1 && (uintptr_t)p % size == 0) {
      atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
      rc = weft_chunk_wrap(out, in->dtype, in->ndim, extent, p, unref, f);
      return rc ? weft__npy_fail(err, rc, "%s: cannot make a chunk: %s",
                                 f->path, weft_strerror(rc))
                : 0;
    }
  }
  void *data;
  rc = weft_chunk_new(out, in->dtype, in->ndim, extent, &data);
  if (rc)
    return weft__npy_fail(err, rc, "%s: cannot make a chunk: %s", f->path,
                          weft_strerror(rc));
  rc = weft_npy_read_into(f, offset, extent, data, err);
  if (rc) {
    weft_value_release(out);
    *out = weft_none();
  }
  return rc;
}

int weft_npy_load(const char *path, weft_value *out, weft_errmsg *err) {
  if (!out)
    return weft__npy_fail(err, WEFT_EINVAL, "NULL out");
  *out = weft_none();
  weft_npy *f;
  int rc = weft_npy_open(path, &f, err);
  if (rc)
    return rc;
  int64_t zero[WEFT_CHUNK_MAX_NDIM] = {0};
  void *data;
  rc = weft_chunk_new(out, f->info.dtype, f->info.ndim, f->info.shape, &data);
  if (rc)
    rc = weft__npy_fail(err, rc, "%s: cannot make a chunk: %s", path,
                        weft_strerror(rc));
  else if ((rc = weft_npy_read_into(f, zero, f->info.shape, data, err)) != 0) {
    weft_value_release(out);
    *out = weft_none();
  }
  weft_npy_close(f);
  return rc;
}
