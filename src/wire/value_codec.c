/* value_codec.c - weft_values to bytes and back (docs/wire.md, "Values").
 *
 * A value is one tag byte and a payload: fixed 8 little-endian bytes for
 * int64 and double (the IEEE bits, so NaN payloads and -0.0 survive), one
 * byte for bool, a LEB128 length and the bytes for str and bytes, a LEB128
 * count and the items for lists, a dtype, the extents and the elements
 * (little-endian) for array chunks. The encoding is canonical - a value has
 * exactly one - which the decoder enforces (bools are 0 or 1, varints are
 * minimal), so decode-then-encode gives back the input bytes.
 *
 * The decoder treats its input as hostile. Before allocating it checks every
 * length and count against the bytes left (an item takes at least one byte,
 * so a list cannot claim more items than there are bytes), which bounds
 * memory by the input size; nesting is capped at WEFT_WIRE_MAX_DEPTH so a
 * "depth bomb" cannot exhaust the stack; on any failure what was partly
 * built is released and the output is none. The encoder applies the same
 * depth cap, which also stops it on a list that contains itself. */
#include <stdio.h>

#include "core/obj.h"
#include "weft/chunk.h"
#include "wire_internal.h"

/* ---- encoding ---- */

typedef struct enc {
  weft_buf *out;
  weft_wire_error *err;
  /* down to the value: the list or dict at each level and the index in it */
  const weft_value *in[WEFT_WIRE_MAX_DEPTH + 1];
  size_t path[WEFT_WIRE_MAX_DEPTH + 1];
} enc;

/* Level k of the path: "[2]" in a list, "['word']" in a dict (a key over
 * 16 bytes shows its first 13 and "..."). */
static void step_text(const enc *e, int k, char *buf, size_t size) {
  if (e->in[k]->type != WEFT_T_DICT) {
    snprintf(buf, size, "[%zu]", e->path[k]);
    return;
  }
  const char *key = weft_dict_key(e->in[k], e->path[k]);
  size_t n = strlen(key);
  snprintf(buf, size, "['%.*s%s']", n > 16 ? 13 : (int)n, key,
           n > 16 ? "..." : "");
}

/* "" for the top value, " at [2][0]" for an item. A path of more than
 * PATH_SHOWN levels shows its first and last PATH_SHOWN / 2 and says how
 * many are left out between: " at [0][0][0][0] ... (56 more) ...
 * [0][0][0][0]". */
#define PATH_SHOWN 8
static void path_text(const enc *e, int depth, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  if (depth == 0)
    return;
  n += (size_t)snprintf(buf, size, " at ");
  for (int k = 0; k < depth && n < size; k++) {
    char step[40];
    if (depth > PATH_SHOWN && k == PATH_SHOWN / 2) {
      n += (size_t)snprintf(buf + n, size - n, " ... (%d more) ... ",
                            depth - PATH_SHOWN);
      k = depth - PATH_SHOWN / 2 - 1;
      continue;
    }
    step_text(e, k, step, sizeof step);
    n += (size_t)snprintf(buf + n, size - n, "%s", step);
  }
}

/* WEFT_ENOTSUP, with the reason and where in the value it was met. */
static int enc_refuse(enc *e, int depth, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int enc_refuse(enc *e, int depth, const char *fmt, ...) {
  if (!e->err)
    return WEFT_ENOTSUP;
  char what[sizeof e->err->text], where[8 * 40 + 48];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  path_text(e, depth, where, sizeof where);
  return weft__wire_fail(e->err, 0, WEFT_ENOTSUP, "%s%s", what, where);
}

/* Appends count elements of `size` bytes in little-endian order. */
static int put_elems(weft_buf *b, const uint8_t *p, size_t count, size_t size) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  (void)size;
  return weft_buf_append(b, p, count * size);
#else
  int rc = weft_buf_reserve(b, count * size);
  if (rc)
    return rc;
  for (size_t i = 0; i < count; i++, p += size)
    for (size_t k = 0; k < size; k++)
      b->data[b->len++] = p[size - 1 - k];
  return 0;
#endif
}

/* tag, dtype, ndim, the extents as varints, then the elements */
static int enc_chunk(weft_buf *b, const weft_value *v) {
  weft_chunk_info c;
  int rc = weft_chunk_get(v, &c);
  if (rc)
    return rc;
  if ((rc = weft_buf_reserve(b, 3 + (size_t)c.ndim * WEFT__VARINT_MAX)))
    return rc;
  uint8_t *p = b->data + b->len;
  *p++ = WEFT_WIRE_TAG_CHUNK;
  *p++ = (uint8_t)c.dtype;
  *p++ = (uint8_t)c.ndim;
  for (int k = 0; k < c.ndim; k++)
    p = weft__put_varint(p, (uint64_t)c.shape[k]);
  b->len = (size_t)(p - b->data);
  return put_elems(b, c.data, c.count, weft_dtype_size(c.dtype));
}

static int enc_value(enc *e, const weft_value *v, int depth) {
  weft_buf *b = e->out;
  int rc;
  switch (v->type) {
  case WEFT_T_NONE:
    return weft_buf_append(b, (const uint8_t[]){WEFT_WIRE_TAG_NONE}, 1);
  case WEFT_T_BOOL: {
    uint8_t two[2] = {WEFT_WIRE_TAG_BOOL, v->as.b ? 1 : 0};
    return weft_buf_append(b, two, 2);
  }
  case WEFT_T_INT:
  case WEFT_T_DOUBLE: {
    uint64_t bits;
    if (v->type == WEFT_T_INT)
      bits = (uint64_t)v->as.i;
    else
      memcpy(&bits, &v->as.d, sizeof bits);
    if ((rc = weft_buf_reserve(b, 9)))
      return rc;
    uint8_t *p = b->data + b->len;
    p[0] = v->type == WEFT_T_INT ? WEFT_WIRE_TAG_INT : WEFT_WIRE_TAG_DOUBLE;
    weft__put_u64(p + 1, bits);
    b->len += 9;
    return 0;
  }
  case WEFT_T_STR:
  case WEFT_T_BYTES: {
    const void *data = v->type == WEFT_T_STR ? (const void *)weft_value_str(v)
                                             : weft_value_bytes(v);
    uint8_t tag =
        v->type == WEFT_T_STR ? WEFT_WIRE_TAG_STR : WEFT_WIRE_TAG_BYTES;
    if ((rc = weft_buf_append(b, &tag, 1)))
      return rc;
    return weft__buf_put_lenbytes(b, data, weft_value_len(v));
  }
  case WEFT_T_LIST:
  case WEFT_T_DICT: {
    if (depth >= WEFT_WIRE_MAX_DEPTH)
      return enc_refuse(e, depth,
                        "lists and dicts nested deeper than %d levels (or "
                        "one that contains itself) cannot be serialised",
                        WEFT_WIRE_MAX_DEPTH);
    bool dict = v->type == WEFT_T_DICT;
    size_t n = weft_value_len(v);
    if ((rc = weft_buf_reserve(b, 1 + WEFT__VARINT_MAX)))
      return rc;
    b->data[b->len] = dict ? WEFT_WIRE_TAG_DICT : WEFT_WIRE_TAG_LIST;
    uint8_t *end = weft__put_varint(b->data + b->len + 1, (uint64_t)n);
    b->len = (size_t)(end - b->data);
    e->in[depth] = v;
    for (size_t i = 0; i < n; i++) {
      e->path[depth] = i;
      const weft_value *item =
          dict ? weft_dict_item(v, i) : weft_list_get(v, i);
      if (dict) {
        const char *key = weft_dict_key(v, i);
        if ((rc = weft__buf_put_lenbytes(b, key, strlen(key))))
          return rc;
      }
      weft_value none = weft_none();
      if ((rc = enc_value(e, item ? item : &none, depth + 1)))
        return rc;
    }
    return 0;
  }
  case WEFT_T_PTR:
    return enc_refuse(e, depth,
                      "a ptr value cannot be serialised: a user pointer "
                      "does not leave its process");
  case WEFT_T_CHUNK:
    return enc_chunk(b, v);
  default:
    return enc_refuse(e, depth,
                      "a value of internal type %u (e.g. a graph node "
                      "reference) cannot be serialised",
                      (unsigned)v->type);
  }
}

int weft_wire_encode(const weft_value *v, weft_buf *out, weft_wire_error *err) {
  if (!v || !out)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL value or buffer");
  size_t mark = out->len;
  enc e = {.out = out, .err = err};
  int rc = enc_value(&e, v, 0);
  if (rc) {
    out->len = mark;
    if (rc == WEFT_ENOMEM)
      weft__wire_fail(err, 0, rc, "out of memory while encoding");
  }
  return rc;
}

/* ---- decoding ---- */

/* A value constructor refused bytes that framed correctly. */
static int ctor_failed(weft__rd *r, size_t at, int rc, const char *what) {
  if (rc == WEFT_ENOMEM)
    return weft__wire_fail(r->err, at, rc, "out of memory decoding %s", what);
  return weft__wire_fail(r->err, at, WEFT_EWIRE, "%s rejected: %s", what,
                         weft_strerror(rc));
}

/* The payload of a chunk: dtype, ndim, extents, elements. Checked against
 * the bytes left before anything is allocated. */
static int dec_chunk(weft__rd *r, size_t at, weft_value *out) {
  uint8_t dt, ndim;
  int rc;
  if ((rc = weft__rd_u8(r, &dt, "chunk dtype")) ||
      (rc = weft__rd_u8(r, &ndim, "chunk ndim")))
    return rc;
  size_t size = weft_dtype_size((weft_dtype)dt);
  if (!size)
    return weft__wire_fail(r->err, r->pos - 2, WEFT_EWIRE,
                           "chunk dtype %u is not a dtype", dt);
  if (ndim > WEFT_CHUNK_MAX_NDIM)
    return weft__wire_fail(r->err, r->pos - 1, WEFT_EWIRE,
                           "chunk of %u dimensions (at most %d)", ndim,
                           WEFT_CHUNK_MAX_NDIM);
  int64_t shape[WEFT_CHUNK_MAX_NDIM];
  for (int k = 0; k < ndim; k++) {
    uint64_t x;
    if ((rc = weft__rd_varint(r, &x, "chunk extent")))
      return rc;
    if (x > INT64_MAX)
      return weft__wire_fail(r->err, r->pos, WEFT_EWIRE,
                             "chunk extent %llu is too large",
                             (unsigned long long)x);
    shape[k] = (int64_t)x;
  }
  size_t nbytes;
  if (weft_chunk_nbytes((weft_dtype)dt, ndim, shape, &nbytes) ||
      nbytes > weft__rd_left(r))
    return weft__wire_fail(r->err, at, WEFT_EWIRE,
                           "chunk claims more elements than the %zu bytes "
                           "left",
                           weft__rd_left(r));
  const uint8_t *src = r->data + r->pos;
  if (dt == WEFT_BOOL)
    for (size_t i = 0; i < nbytes; i++)
      if (src[i] > 1)
        return weft__wire_fail(r->err, r->pos + i, WEFT_EWIRE,
                               "bool element byte is %u, not 0 or 1", src[i]);
  uint8_t *dst;
  if ((rc = weft_chunk_new(out, (weft_dtype)dt, ndim, shape, (void **)&dst)))
    return ctor_failed(r, at, rc, "chunk");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (nbytes)
    memcpy(dst, src, nbytes);
#else
  for (size_t i = 0; i < nbytes; i += size)
    for (size_t k = 0; k < size; k++)
      dst[i + k] = src[i + size - 1 - k];
#endif
  r->pos += nbytes;
  return 0;
}

static int dec_value(weft__rd *r, weft_value *out, int depth);

/* count, then count times: key (length, bytes: no NUL, not seen before in
 * this dict), value. */
static int dec_dict(weft__rd *r, size_t at, weft_value *out, int depth) {
  int rc;
  if (depth >= WEFT_WIRE_MAX_DEPTH)
    return weft__wire_fail(r->err, at, WEFT_EWIRE,
                           "lists and dicts nested deeper than %d levels",
                           WEFT_WIRE_MAX_DEPTH);
  uint64_t n;
  if ((rc = weft__rd_varint(r, &n, "dict count")))
    return rc;
  /* Every entry takes at least a key length byte and a value tag. */
  if (n > (uint64_t)weft__rd_left(r) / 2)
    return weft__wire_fail(r->err, at, WEFT_EWIRE,
                           "dict claims %llu entries, only %zu bytes left",
                           (unsigned long long)n, weft__rd_left(r));
  /* Room grows with the entries that actually arrive, not with the count
   * claimed (a claim costs nothing until its bytes are there). */
  weft_value dict;
  if ((rc = weft_dict_new(&dict, n < 16 ? (size_t)n : 16)))
    return ctor_failed(r, at, rc, "dict");
  for (size_t i = 0; i < (size_t)n; i++) {
    size_t kat = r->pos, klen;
    const uint8_t *key;
    weft_value item;
    if ((rc = weft__rd_lenbytes(r, &key, &klen, "dict key")))
      break;
    if (memchr(key, 0, klen)) {
      rc = weft__wire_fail(r->err, kat, WEFT_EWIRE, "dict key with a NUL byte");
      break;
    }
    bool dup = weft__dict_getn(&dict, (const char *)key, klen) != NULL;
    if (dup) {
      rc = weft__wire_fail(r->err, kat, WEFT_EWIRE,
                           "dict key '%.*s' appears twice",
                           klen > 40 ? 40 : (int)klen, (const char *)key);
      break;
    }
    if ((rc = dec_value(r, &item, depth + 1)))
      break;
    if ((rc = weft__dict_setn(&dict, (const char *)key, klen, item))) {
      rc = ctor_failed(r, at, rc, "dict");
      break;
    }
  }
  if (rc) {
    weft_value_release(&dict);
    return rc;
  }
  *out = dict;
  return 0;
}

static int dec_value(weft__rd *r, weft_value *out, int depth) {
  size_t at = r->pos;
  uint8_t tag;
  int rc;
  *out = weft_none();
  if ((rc = weft__rd_u8(r, &tag, "value tag")))
    return rc;
  switch (tag) {
  case WEFT_WIRE_TAG_NONE:
    return 0;
  case WEFT_WIRE_TAG_BOOL: {
    uint8_t b;
    if ((rc = weft__rd_u8(r, &b, "bool")))
      return rc;
    if (b > 1)
      return weft__wire_fail(r->err, r->pos - 1, WEFT_EWIRE,
                             "bool byte is %u, not 0 or 1", b);
    *out = weft_bool(b != 0);
    return 0;
  }
  case WEFT_WIRE_TAG_INT: {
    uint64_t x;
    if ((rc = weft__rd_u64(r, &x, "int64")))
      return rc;
    *out = weft_int((int64_t)x);
    return 0;
  }
  case WEFT_WIRE_TAG_DOUBLE: {
    uint64_t x;
    double d;
    if ((rc = weft__rd_u64(r, &x, "double")))
      return rc;
    memcpy(&d, &x, sizeof d);
    *out = weft_double(d);
    return 0;
  }
  case WEFT_WIRE_TAG_STR:
  case WEFT_WIRE_TAG_BYTES: {
    const char *what = tag == WEFT_WIRE_TAG_STR ? "str" : "bytes";
    const uint8_t *p;
    size_t n;
    if ((rc = weft__rd_lenbytes(r, &p, &n, what)))
      return rc;
    rc = tag == WEFT_WIRE_TAG_STR ? weft_str_newn(out, (const char *)p, n)
                                  : weft_bytes_new(out, p, n);
    if (rc) {
      *out = weft_none();
      return ctor_failed(r, at, rc, what);
    }
    return 0;
  }
  case WEFT_WIRE_TAG_LIST: {
    if (depth >= WEFT_WIRE_MAX_DEPTH)
      return weft__wire_fail(r->err, at, WEFT_EWIRE,
                             "lists and dicts nested deeper than %d levels",
                             WEFT_WIRE_MAX_DEPTH);
    uint64_t n;
    if ((rc = weft__rd_varint(r, &n, "list count")))
      return rc;
    /* Every item takes at least its tag byte. */
    if (n > (uint64_t)weft__rd_left(r))
      return weft__wire_fail(r->err, at, WEFT_EWIRE,
                             "list claims %llu items, only %zu bytes left",
                             (unsigned long long)n, weft__rd_left(r));
    weft_value list;
    if ((rc = weft_list_new(&list, (size_t)n)))
      return ctor_failed(r, at, rc, "list");
    for (size_t i = 0; i < (size_t)n; i++) {
      weft_value item;
      if ((rc = dec_value(r, &item, depth + 1)) ||
          (rc = weft_list_set(&list, i, item))) {
        weft_value_release(&list);
        return rc;
      }
    }
    *out = list;
    return 0;
  }
  case WEFT_WIRE_TAG_DICT:
    return dec_dict(r, at, out, depth);
  case WEFT_WIRE_TAG_CHUNK:
    return dec_chunk(r, at, out);
  default:
    return weft__wire_fail(r->err, at, WEFT_EWIRE, "bad value tag 0x%02x", tag);
  }
}

int weft__wire_decode_at(weft__rd *r, weft_value *out) {
  return dec_value(r, out, 0);
}

int weft_wire_decode(const uint8_t *data, size_t len, size_t *consumed,
                     weft_value *out, weft_wire_error *err) {
  if (consumed)
    *consumed = 0;
  if (!out)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL output value");
  *out = weft_none();
  if (!data && len)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL data");
  weft__rd r = {.data = data, .end = len, .pos = 0, .err = err};
  int rc = dec_value(&r, out, 0);
  if (rc)
    return rc;
  if (!consumed && r.pos != len) {
    weft_value_release(out);
    return weft__wire_fail(err, r.pos, WEFT_EWIRE, "%zu bytes after the value",
                           len - r.pos);
  }
  if (consumed)
    *consumed = r.pos;
  return 0;
}
