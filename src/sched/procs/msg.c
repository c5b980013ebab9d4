/* procs/msg.c - the messages between the pool and its workers (HELLO,
 * TASK, RESULT; FNDEFS lives with the function table), laid out in
 * procs/impl.h. They are wire frames of scheduler-owned kinds whose values
 * are wire values (weft_wire_encode / weft_wire_decode), except that a big
 * bytes value or array chunk may travel as a "shared-memory slot": its
 * length (and a chunk's dtype and shape) in the frame and its contents in a
 * sealed memfd passed alongside; a list holding such values (a task's
 * tuple of chunks, a map batch of them) travels item by item as slots.
 *
 * The pool's own TASK frame rather than the wire format's task message:
 * functions are named by their index in the table the pool sent (exact
 * even when two functions share a name, and no name look-up per task), the
 * node index and key travel for weft_task_key(), and arguments may be
 * shared-memory slots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impl.h"

/* ---- primitives ---- */

int weft__pput_u8(weft_buf *b, uint8_t x) { return weft_buf_append(b, &x, 1); }

int weft__pput_u32(weft_buf *b, uint32_t x) {
  uint8_t p[4];
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(x >> (8 * i));
  return weft_buf_append(b, p, 4);
}

int weft__pput_u64(weft_buf *b, uint64_t x) {
  uint8_t p[8];
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(x >> (8 * i));
  return weft_buf_append(b, p, 8);
}

int weft__pput_varint(weft_buf *b, uint64_t x) {
  uint8_t p[10];
  size_t n = 0;
  while (x >= 0x80) {
    p[n++] = (uint8_t)(x | 0x80);
    x >>= 7;
  }
  p[n++] = (uint8_t)x;
  return weft_buf_append(b, p, n);
}

int weft__pput_bytes(weft_buf *b, const void *p, size_t n) {
  int rc = weft__pput_varint(b, n);
  return rc ? rc : weft_buf_append(b, p, n);
}

int weft__prd_u8(weft__prd *r, uint8_t *x) {
  if (r->end - r->p < 1)
    return WEFT_EWIRE;
  *x = *r->p++;
  return 0;
}

int weft__prd_u32(weft__prd *r, uint32_t *x) {
  if (r->end - r->p < 4)
    return WEFT_EWIRE;
  *x = 0;
  for (int i = 0; i < 4; i++)
    *x |= (uint32_t)r->p[i] << (8 * i);
  r->p += 4;
  return 0;
}

int weft__prd_u64(weft__prd *r, uint64_t *x) {
  if (r->end - r->p < 8)
    return WEFT_EWIRE;
  *x = 0;
  for (int i = 0; i < 8; i++)
    *x |= (uint64_t)r->p[i] << (8 * i);
  r->p += 8;
  return 0;
}

int weft__prd_varint(weft__prd *r, uint64_t *x) {
  *x = 0;
  for (int i = 0; i < 10 && r->p < r->end; i++) {
    uint8_t b = *r->p++;
    *x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80))
      return 0;
  }
  return WEFT_EWIRE;
}

int weft__prd_bytes(weft__prd *r, const uint8_t **p, size_t *n) {
  uint64_t len;
  if (weft__prd_varint(r, &len) || len > (uint64_t)(r->end - r->p))
    return WEFT_EWIRE;
  *p = r->p;
  *n = (size_t)len;
  r->p += len;
  return 0;
}

static int wire_err(weft_wire_error *err, int rc, const char *what) {
  if (err) {
    err->offset = 0;
    snprintf(err->text, sizeof err->text, "%s", what);
  }
  return rc;
}

/* ---- slots ---- */

/* A chunk's description in a shared-memory slot: dtype, ndim, extents. */
static int put_chunk_desc(weft_buf *b, const weft_chunk_info *ci) {
  int rc = weft__pput_u8(b, (uint8_t)ci->dtype);
  if (!rc)
    rc = weft__pput_u8(b, (uint8_t)ci->ndim);
  for (int k = 0; k < ci->ndim && !rc; k++)
    rc = weft__pput_varint(b, (uint64_t)ci->shape[k]);
  return rc;
}

/* Lists whose slots are written one by one nest at most this deep. */
#define SLOT_DEPTH 8

/* The bytes of v that could go through shared memory: a bytes value's, a
 * chunk's elements (*ci then describes it); 0 for other values. */
static size_t shm_len(const weft_value *v, weft_chunk_info *ci) {
  if (weft_chunk_get(v, ci) == 0)
    return ci->nbytes;
  return v->type == WEFT_T_BYTES ? weft_value_len(v) : 0;
}

/* Whether v is a bytes value or chunk of at least shm_min bytes, or a list
 * holding one within SLOT_DEPTH levels. */
static bool has_big(const weft_value *v, size_t shm_min, int depth) {
  weft_chunk_info ci;
  size_t len = shm_len(v, &ci);
  if (len)
    return len >= shm_min;
  if (v->type != WEFT_T_LIST || depth >= SLOT_DEPTH)
    return false;
  for (size_t i = 0; i < weft_value_len(v); i++)
    if (has_big(weft_list_get(v, i), shm_min, depth + 1))
      return true;
  return false;
}

static int put_slot_at(weft__conn *c, size_t mark, const weft_value *v,
                       size_t shm_min, int *nfds, weft_wire_error *err,
                       int depth);

/* A list holding big values: 03, its count, then each item as a slot, so
 * that the big ones go through shared memory too. */
static int put_list_slots(weft__conn *c, size_t mark, const weft_value *v,
                          size_t shm_min, int *nfds, weft_wire_error *err,
                          int depth) {
  size_t n = weft_value_len(v);
  int rc = weft__pput_u8(&c->out, 3);
  if (!rc)
    rc = weft__pput_varint(&c->out, n);
  if (rc)
    return wire_err(err, rc, "out of memory");
  for (size_t i = 0; i < n && !rc; i++)
    rc = put_slot_at(c, mark, weft_list_get(v, i), shm_min, nfds, err,
                     depth + 1);
  return rc;
}

static int put_slot_at(weft__conn *c, size_t mark, const weft_value *v,
                       size_t shm_min, int *nfds, weft_wire_error *err,
                       int depth) {
  weft_buf *b = &c->out;
  int rc;
  if (v->type == WEFT_T_LIST && depth < SLOT_DEPTH &&
      *nfds < WEFT__PROCS_MAX_FDS && has_big(v, shm_min, depth))
    return put_list_slots(c, mark, v, shm_min, nfds, err, depth);
  weft_chunk_info ci;
  size_t len = shm_len(v, &ci);
  bool chunk = v->type == WEFT_T_CHUNK;
  if (len && len >= shm_min && *nfds < WEFT__PROCS_MAX_FDS) {
    int fd = weft__shm_fd(v);
    if (fd >= 0) {
      if ((rc = weft__pput_u8(b, chunk ? 2 : 1)) ||
          (chunk && (rc = put_chunk_desc(b, &ci))) ||
          (rc = weft__pput_varint(b, len))) {
        close(fd);
        return wire_err(err, rc, "out of memory");
      }
      (*nfds)++;
      rc = weft__conn_attach(c, mark, fd);
      return rc ? wire_err(err, rc, "out of memory") : 0;
    }
    /* No memfd (descriptor limit?): send it inline, slower but right. */
  }
  if ((rc = weft__pput_u8(b, 0)))
    return wire_err(err, rc, "out of memory");
  return weft_wire_encode(v, b, err);
}

static int put_slot(weft__conn *c, size_t mark, const weft_value *v,
                    size_t shm_min, int *nfds, weft_wire_error *err) {
  return put_slot_at(c, mark, v, shm_min, nfds, err, 0);
}

static int get_slot_at(weft__prd *r, weft__conn *c, weft_value *out,
                       weft_wire_error *err, int depth);

/* 03: a list whose items are slots. */
static int get_list_slots(weft__prd *r, weft__conn *c, weft_value *out,
                          weft_wire_error *err, int depth) {
  uint64_t n;
  if (depth >= SLOT_DEPTH || weft__prd_varint(r, &n) ||
      n > (uint64_t)(r->end - r->p)) /* every slot takes a byte at least */
    return wire_err(err, WEFT_EWIRE, "bad list slot");
  weft_value list;
  int rc = weft_list_new(&list, (size_t)n);
  if (rc)
    return wire_err(err, rc, "out of memory");
  for (size_t i = 0; i < (size_t)n && !rc; i++) {
    weft_value item;
    rc = get_slot_at(r, c, &item, err, depth + 1);
    if (!rc)
      weft_list_set(&list, i, item);
  }
  if (rc)
    weft_value_release(&list);
  else
    *out = list;
  return rc;
}

static int get_slot_at(weft__prd *r, weft__conn *c, weft_value *out,
                       weft_wire_error *err, int depth) {
  uint8_t flag;
  *out = weft_none();
  if (weft__prd_u8(r, &flag))
    return wire_err(err, WEFT_EWIRE, "truncated slot");
  if (flag == 3)
    return get_list_slots(r, c, out, err, depth);
  if (flag == 0) {
    size_t used = 0;
    int rc = weft_wire_decode(r->p, (size_t)(r->end - r->p), &used, out, err);
    r->p += used;
    return rc;
  }
  uint8_t dtype = 0, ndim = 0;
  int64_t shape[WEFT_CHUNK_MAX_NDIM];
  if (flag == 2) { /* a chunk: its description, then its bytes' length */
    if (weft__prd_u8(r, &dtype) || weft__prd_u8(r, &ndim) ||
        ndim > WEFT_CHUNK_MAX_NDIM)
      return wire_err(err, WEFT_EWIRE, "bad chunk slot");
    for (int k = 0; k < ndim; k++) {
      uint64_t x;
      if (weft__prd_varint(r, &x) || x > INT64_MAX)
        return wire_err(err, WEFT_EWIRE, "bad chunk slot");
      shape[k] = (int64_t)x;
    }
  }
  uint64_t len;
  if ((flag != 1 && flag != 2) || weft__prd_varint(r, &len) || len > SIZE_MAX)
    return wire_err(err, WEFT_EWIRE, "bad slot");
  int fd = weft__conn_take_fd(c);
  if (fd < 0)
    return wire_err(err, WEFT_EWIRE, "shared-memory slot without descriptor");
  int rc = flag == 1 ? weft__shm_value(fd, (size_t)len, out)
                     : weft__shm_chunk(fd, (size_t)len, (weft_dtype)dtype,
                                       ndim, shape, out);
  if (rc)
    return wire_err(err, rc, "cannot map a shared-memory value");
  return 0;
}

static int get_slot(weft__prd *r, weft__conn *c, weft_value *out,
                    weft_wire_error *err) {
  return get_slot_at(r, c, out, err, 0);
}

/* Closes the frame begun at mark, or cuts it back (and its descriptors). */
static int finish(weft__conn *c, size_t mark, int rc, weft_wire_error *err) {
  if (!rc && (rc = weft_wire_frame_end(&c->out, mark)))
    wire_err(err, rc, "message larger than a frame holds");
  if (rc) {
    c->out.len = mark;
    weft__conn_detach_from(c, mark);
  }
  return rc;
}

/* ---- messages ---- */

int weft__pmsg_open(const uint8_t *frame, size_t len, unsigned *kind,
                    weft__prd *payload) {
  const uint8_t *p;
  size_t n;
  int rc = weft_wire_frame_open(frame, len, kind, &p, &n, NULL);
  if (rc)
    return rc;
  payload->p = p;
  payload->end = p + n;
  return 0;
}

int weft__pmsg_put_hello(weft__conn *c) {
  size_t mark;
  int rc = weft_wire_frame_begin(&c->out, WEFT__PK_HELLO, &mark);
  if (rc)
    return rc;
  if (!(rc = weft__pput_u32(&c->out, WEFT__PROCS_PROTO)))
    rc = weft__pput_u32(&c->out, (uint32_t)getpid());
  return finish(c, mark, rc, NULL);
}

int weft__pmsg_get_hello(weft__prd *r, uint32_t *proto, uint32_t *pid) {
  if (weft__prd_u32(r, proto) || weft__prd_u32(r, pid) || r->p != r->end)
    return WEFT_EWIRE;
  return 0;
}

int weft__pmsg_put_task(weft__conn *c, uint64_t id, uint32_t task, uint32_t fn,
                        const char *key, size_t nargs, const weft_value *args,
                        size_t shm_min, weft_wire_error *err) {
  size_t mark;
  int rc = weft_wire_frame_begin(&c->out, WEFT__PK_TASK, &mark);
  if (rc)
    return wire_err(err, rc, "out of memory");
  weft_buf *b = &c->out;
  if ((rc = weft__pput_u64(b, id)) || (rc = weft__pput_u32(b, task)) ||
      (rc = weft__pput_varint(b, fn)) ||
      (rc = weft__pput_bytes(b, key, key ? strlen(key) : 0)) ||
      (rc = weft__pput_varint(b, nargs)))
    wire_err(err, rc, "out of memory");
  int nfds = 0;
  for (size_t i = 0; !rc && i < nargs; i++) {
    rc = put_slot(c, mark, &args[i], shm_min, &nfds, err);
    if (rc == WEFT_ENOTSUP && err) {
      char text[2 * sizeof err->text];
      snprintf(text, sizeof text, "argument %zu: %s", i + 1, err->text);
      memcpy(err->text, text, sizeof err->text - 1);
      err->text[sizeof err->text - 1] = '\0';
    }
  }
  return finish(c, mark, rc, err);
}

void weft__ptask_clear(weft__ptask *t) {
  for (size_t i = 0; i < t->nargs; i++)
    weft_value_release(&t->args[i]);
  t->nargs = 0;
  t->key = NULL;
}

void weft__ptask_free(weft__ptask *t) {
  weft__ptask_clear(t);
  free(t->args);
  free(t->keybuf);
  memset(t, 0, sizeof *t);
}

int weft__pmsg_get_task(weft__prd *r, weft__conn *c, weft__ptask *t,
                        weft_wire_error *err) {
  weft__ptask_clear(t);
  uint64_t fn, nargs;
  const uint8_t *key;
  size_t keylen;
  if (weft__prd_u64(r, &t->id) || weft__prd_u32(r, &t->task) ||
      weft__prd_varint(r, &fn) || fn > UINT32_MAX ||
      weft__prd_bytes(r, &key, &keylen) || weft__prd_varint(r, &nargs) ||
      nargs > (uint64_t)(r->end - r->p))
    return wire_err(err, WEFT_EWIRE, "malformed task message");
  t->fn = (uint32_t)fn;
  if (keylen) {
    if (keylen + 1 > t->keycap) {
      char *p = realloc(t->keybuf, keylen + 1);
      if (!p)
        return wire_err(err, WEFT_ENOMEM, "out of memory");
      t->keybuf = p;
      t->keycap = keylen + 1;
    }
    memcpy(t->keybuf, key, keylen);
    t->keybuf[keylen] = '\0';
    t->key = t->keybuf;
  }
  if (nargs > t->cap) {
    weft_value *p = realloc(t->args, (size_t)nargs * sizeof *p);
    if (!p)
      return wire_err(err, WEFT_ENOMEM, "out of memory");
    t->args = p;
    t->cap = (size_t)nargs;
  }
  for (size_t i = 0; i < (size_t)nargs; i++) {
    int rc = get_slot(r, c, &t->args[i], err);
    if (rc) {
      weft__ptask_clear(t);
      return rc;
    }
    t->nargs = i + 1;
  }
  if (r->p != r->end) {
    weft__ptask_clear(t);
    return wire_err(err, WEFT_EWIRE, "bytes left over after a task");
  }
  return 0;
}

int weft__pmsg_put_result(weft__conn *c, uint64_t id, int status,
                          const char *msg, const weft_value *v, size_t shm_min,
                          weft_wire_error *err) {
  size_t mark;
  int rc = weft_wire_frame_begin(&c->out, WEFT__PK_RESULT, &mark);
  if (rc)
    return wire_err(err, rc, "out of memory");
  weft_buf *b = &c->out;
  weft_value none = weft_none();
  if ((rc = weft__pput_u64(b, id)) ||
      (rc = weft__pput_u32(b, (uint32_t)(int32_t)status)) ||
      (rc = weft__pput_bytes(b, msg, msg ? strlen(msg) : 0)))
    wire_err(err, rc, "out of memory");
  int nfds = 0;
  if (!rc)
    rc = put_slot(c, mark, status ? &none : v, shm_min, &nfds, err);
  return finish(c, mark, rc, err);
}

int weft__pmsg_get_result(weft__prd *r, weft__conn *c, weft__presult *res,
                          weft_wire_error *err) {
  uint32_t st;
  const uint8_t *msg;
  size_t n;
  res->value = weft_none();
  res->msg[0] = '\0';
  if (weft__prd_u64(r, &res->id) || weft__prd_u32(r, &st) ||
      weft__prd_bytes(r, &msg, &n) || (int32_t)st > 0)
    return wire_err(err, WEFT_EWIRE, "malformed result message");
  res->status = (int32_t)st;
  if (n >= sizeof res->msg)
    n = sizeof res->msg - 1;
  memcpy(res->msg, msg, n);
  res->msg[n] = '\0';
  int rc = get_slot(r, c, &res->value, err);
  if (!rc && r->p != r->end)
    rc = wire_err(err, WEFT_EWIRE, "bytes left over after a result");
  if (rc)
    weft_value_release(&res->value);
  return rc;
}
