/* message.c - frames, and the two messages weft sends in them: a task ("run
 * this registered function on these values") and its result (docs/wire.md,
 * "Frames" and "Messages").
 *
 * A frame is a 12-byte header - magic 'WEFT', format version, kind, two
 * reserved zero bytes, u32 payload length - and the payload. The header lets
 * a reader cut a byte stream into messages without understanding them
 * (weft_wire_frame_len), and lets it refuse garbage or a peer built from
 * another format version at the first bytes.
 *
 * Task payload:   id u64 | fn: varint length + bytes | nargs varint | values
 * Result payload: id u64 | status i32 | msg: varint length + bytes | value
 *
 * Decoded tasks keep their arguments and function name in one allocation
 * (the args array, then the NUL-terminated name), so a task costs one malloc
 * plus its heap values. */
#include <stdlib.h>

#include "wire_internal.h"

static const uint8_t magic[4] = {'W', 'E', 'F', 'T'};

/* ---- frames ---- */

/* Checks the header bytes present in data[0 .. n), n <= header size. */
static int check_header(const uint8_t *data, size_t n, weft_wire_error *err) {
  for (size_t i = 0; i < n && i < 4; i++)
    if (data[i] != magic[i])
      return weft__wire_fail(err, i, WEFT_EWIRE,
                             "not a weft frame (bad magic byte 0x%02x)",
                             data[i]);
  if (n > 4 && data[4] != WEFT_WIRE_VERSION)
    return weft__wire_fail(err, 4, WEFT_ENOTSUP,
                           "frame of wire format version %u; this build "
                           "reads version %u",
                           data[4], WEFT_WIRE_VERSION);
  if (n > 5 && data[5] == 0)
    return weft__wire_fail(err, 5, WEFT_EWIRE, "frame kind 0 is invalid");
  for (size_t i = 6; i < n && i < 8; i++)
    if (data[i] != 0)
      return weft__wire_fail(err, i, WEFT_EWIRE,
                             "reserved header bytes are not zero");
  return 0;
}

static uint32_t header_payload_len(const uint8_t *data) {
  return (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
         (uint32_t)data[11] << 24;
}

int weft_wire_frame_len(const uint8_t *data, size_t n, size_t *total) {
  if (!total || (!data && n))
    return WEFT_EINVAL;
  size_t hn = n < WEFT_WIRE_HEADER_SIZE ? n : WEFT_WIRE_HEADER_SIZE;
  int rc = check_header(data, hn, NULL);
  if (rc)
    return rc;
  if (n < WEFT_WIRE_HEADER_SIZE) {
    *total = WEFT_WIRE_HEADER_SIZE;
    return 0;
  }
  uint32_t plen = header_payload_len(data);
#if SIZE_MAX <= UINT32_MAX /* 32-bit size_t: the sum could wrap */
  if (plen > SIZE_MAX - WEFT_WIRE_HEADER_SIZE)
    return WEFT_EWIRE;
#endif
  *total = WEFT_WIRE_HEADER_SIZE + (size_t)plen;
  return 0;
}

/* frame_open with an error report. */
static int open_frame(const uint8_t *data, size_t len, unsigned *kind,
                      weft__rd *payload, size_t *size, weft_wire_error *err) {
  if (!data && len)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL data");
  if (len < WEFT_WIRE_HEADER_SIZE) {
    int rc = check_header(data, len, err);
    return rc ? rc
              : weft__wire_fail(err, len, WEFT_EWIRE,
                                "truncated frame header: %zu of %d bytes", len,
                                WEFT_WIRE_HEADER_SIZE);
  }
  int rc = check_header(data, WEFT_WIRE_HEADER_SIZE, err);
  if (rc)
    return rc;
  uint32_t plen = header_payload_len(data);
  if (plen > len - WEFT_WIRE_HEADER_SIZE)
    return weft__wire_fail(err, WEFT_WIRE_HEADER_SIZE, WEFT_EWIRE,
                           "truncated frame: payload of %u bytes, %zu there",
                           (unsigned)plen, len - WEFT_WIRE_HEADER_SIZE);
  *kind = data[5];
  /* Offsets in errors count from the frame's first byte. */
  *payload = (weft__rd){.data = data,
                        .end = WEFT_WIRE_HEADER_SIZE + (size_t)plen,
                        .pos = WEFT_WIRE_HEADER_SIZE,
                        .err = err};
  *size = WEFT_WIRE_HEADER_SIZE + (size_t)plen;
  return 0;
}

int weft_wire_frame_open(const uint8_t *data, size_t len, unsigned *kind,
                         const uint8_t **payload, size_t *payload_len,
                         size_t *consumed) {
  if (consumed)
    *consumed = 0;
  if (!kind || !payload || !payload_len)
    return WEFT_EINVAL;
  weft__rd r = {0};
  size_t size = 0;
  int rc = open_frame(data, len, kind, &r, &size, NULL);
  if (rc)
    return rc;
  *payload = data + r.pos;
  *payload_len = r.end - r.pos;
  if (consumed)
    *consumed = size;
  return 0;
}

int weft_wire_frame_begin(weft_buf *out, unsigned kind, size_t *mark) {
  if (!out || !mark || kind == 0 || kind > 255)
    return WEFT_EINVAL;
  int rc = weft_buf_reserve(out, WEFT_WIRE_HEADER_SIZE);
  if (rc)
    return rc;
  uint8_t *p = out->data + out->len;
  memcpy(p, magic, 4);
  p[4] = WEFT_WIRE_VERSION;
  p[5] = (uint8_t)kind;
  weft__put_u16(p + 6, 0);
  weft__put_u32(p + 8, 0); /* filled in by frame_end */
  *mark = out->len;
  out->len += WEFT_WIRE_HEADER_SIZE;
  return 0;
}

int weft_wire_frame_end(weft_buf *out, size_t mark) {
  if (!out || mark > out->len || out->len - mark < WEFT_WIRE_HEADER_SIZE)
    return WEFT_EINVAL;
  size_t plen = out->len - mark - WEFT_WIRE_HEADER_SIZE;
  if ((uint64_t)plen > WEFT_WIRE_MAX_PAYLOAD) {
    out->len = mark;
    return WEFT_ENOTSUP;
  }
  weft__put_u32(out->data + mark + 8, (uint32_t)plen);
  return 0;
}

/* Ends the frame begun at mark, or on error cuts out back to mark. */
static int finish(weft_buf *out, size_t mark, int rc, weft_wire_error *err) {
  if (!rc) {
    rc = weft_wire_frame_end(out, mark);
    if (rc)
      return weft__wire_fail(err, 0, rc,
                             "message larger than a frame holds (%llu bytes)",
                             (unsigned long long)WEFT_WIRE_MAX_PAYLOAD);
    return 0;
  }
  out->len = mark;
  if (rc == WEFT_ENOMEM)
    weft__wire_fail(err, 0, rc, "out of memory while encoding");
  return rc;
}

/* ---- tasks ---- */

int weft_wire_encode_task(const weft_wire_task *t, weft_buf *out,
                          weft_wire_error *err) {
  if (!t || !out)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL task or buffer");
  if (!t->fn || !t->fn[0])
    return weft__wire_fail(err, 0, WEFT_EINVAL, "task without function name");
  if (t->nargs && !t->args)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL args with nargs > 0");
  size_t mark;
  int rc = weft_wire_frame_begin(out, WEFT_WIRE_KIND_TASK, &mark);
  if (rc)
    return finish(out, out->len, rc, err);
  rc = weft_buf_reserve(out, 8 + WEFT__VARINT_MAX);
  if (!rc) {
    weft__put_u64(out->data + out->len, t->id);
    out->len += 8;
    rc = weft__buf_put_lenbytes(out, t->fn, strlen(t->fn));
  }
  if (!rc) {
    rc = weft_buf_reserve(out, WEFT__VARINT_MAX);
    if (!rc)
      out->len = (size_t)(weft__put_varint(out->data + out->len, t->nargs) -
                          out->data);
  }
  for (size_t i = 0; !rc && i < t->nargs; i++) {
    rc = weft_wire_encode(&t->args[i], out, err);
    if (rc == WEFT_ENOTSUP && err) {
      /* Say which argument: "argument 2: a ptr value cannot ..." */
      char text[sizeof err->text];
      memcpy(text, err->text, sizeof text);
      weft__wire_fail(err, 0, rc, "task %s argument %zu: %s", t->fn, i, text);
    }
  }
  return finish(out, mark, rc, err);
}

/* Reads a string field into a C string: no NUL bytes inside, and non-empty
 * when required. *p and *n point into the input. */
static int rd_name(weft__rd *r, const uint8_t **p, size_t *n, bool nonempty,
                   const char *what) {
  size_t at = r->pos;
  int rc = weft__rd_lenbytes(r, p, n, what);
  if (rc)
    return rc;
  if (nonempty && *n == 0)
    return weft__wire_fail(r->err, at, WEFT_EWIRE, "empty %s", what);
  if (memchr(*p, 0, *n))
    return weft__wire_fail(r->err, at, WEFT_EWIRE, "NUL byte inside %s", what);
  return 0;
}

static int open_kind(const uint8_t *data, size_t len, unsigned want,
                     weft__rd *r, size_t *size, weft_wire_error *err) {
  unsigned kind = 0;
  int rc = open_frame(data, len, &kind, r, size, err);
  if (rc)
    return rc;
  if (kind != want)
    return weft__wire_fail(
        err, 5, WEFT_EWIRE,
        "frame of kind %u where a %s (kind %u) was expected", kind,
        want == WEFT_WIRE_KIND_TASK ? "task" : "result", want);
  return 0;
}

static int check_end(weft__rd *r, const char *what) {
  if (r->pos == r->end)
    return 0;
  return weft__wire_fail(r->err, r->pos, WEFT_EWIRE,
                         "%zu bytes left over after the %s", r->end - r->pos,
                         what);
}

int weft_wire_decode_task(const uint8_t *data, size_t len, size_t *consumed,
                          weft_wire_task *out, weft_wire_error *err) {
  if (consumed)
    *consumed = 0;
  if (!out)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL output task");
  memset(out, 0, sizeof *out);
  weft__rd r = {0};
  size_t size = 0;
  uint64_t id, nargs;
  const uint8_t *name;
  size_t name_len;
  int rc = open_kind(data, len, WEFT_WIRE_KIND_TASK, &r, &size, err);
  if (rc || (rc = weft__rd_u64(&r, &id, "task id")) ||
      (rc = rd_name(&r, &name, &name_len, true, "function name")) ||
      (rc = weft__rd_varint(&r, &nargs, "argument count")))
    return rc;
  if (nargs > (uint64_t)weft__rd_left(&r))
    return weft__wire_fail(err, r.pos, WEFT_EWIRE,
                           "task claims %llu arguments, only %zu bytes left",
                           (unsigned long long)nargs, weft__rd_left(&r));
  if ((size_t)nargs > (SIZE_MAX - name_len - 1) / sizeof(weft_value))
    return weft__wire_fail(err, r.pos, WEFT_ENOMEM,
                           "task arguments do not fit in memory");
  size_t args_size = (size_t)nargs * sizeof(weft_value);
  uint8_t *block = malloc(args_size + name_len + 1);
  if (!block)
    return weft__wire_fail(err, r.pos, WEFT_ENOMEM,
                           "out of memory decoding a task");
  weft_value *args = (weft_value *)(void *)block;
  char *fn = (char *)block + args_size;
  memcpy(fn, name, name_len);
  fn[name_len] = '\0';
  size_t done = 0;
  for (; done < (size_t)nargs; done++)
    if ((rc = weft__wire_decode_at(&r, &args[done])))
      break;
  if (!rc)
    rc = check_end(&r, "task's arguments");
  if (rc) {
    for (size_t i = 0; i < done; i++)
      weft_value_release(&args[i]);
    free(block);
    return rc;
  }
  out->id = id;
  out->fn = fn;
  out->nargs = (size_t)nargs;
  out->args = args;
  if (consumed)
    *consumed = size;
  return 0;
}

void weft_wire_task_clear(weft_wire_task *t) {
  if (!t)
    return;
  for (size_t i = 0; t->args && i < t->nargs; i++)
    weft_value_release(&t->args[i]);
  free(t->args); /* the block holding args and the name */
  memset(t, 0, sizeof *t);
}

/* ---- results ---- */

int weft_wire_encode_result(const weft_wire_result *res, weft_buf *out,
                            weft_wire_error *err) {
  if (!res || !out)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL result or buffer");
  if (res->status > 0)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "result status %d is positive",
                           res->status);
  if (res->status != 0 && res->value.type != WEFT_T_NONE)
    return weft__wire_fail(err, 0, WEFT_EINVAL,
                           "failed result (status %d) carries a value",
                           res->status);
  size_t mark;
  int rc = weft_wire_frame_begin(out, WEFT_WIRE_KIND_RESULT, &mark);
  if (rc)
    return finish(out, out->len, rc, err);
  rc = weft_buf_reserve(out, 12);
  if (!rc) {
    uint8_t *p = weft__put_u64(out->data + out->len, res->id);
    weft__put_u32(p, (uint32_t)(int32_t)res->status);
    out->len += 12;
    const char *msg = res->msg ? res->msg : "";
    rc = weft__buf_put_lenbytes(out, msg, strlen(msg));
  }
  if (!rc)
    rc = weft_wire_encode(&res->value, out, err);
  return finish(out, mark, rc, err);
}

int weft_wire_decode_result(const uint8_t *data, size_t len, size_t *consumed,
                            weft_wire_result *out, weft_wire_error *err) {
  if (consumed)
    *consumed = 0;
  if (!out)
    return weft__wire_fail(err, 0, WEFT_EINVAL, "NULL output result");
  memset(out, 0, sizeof *out);
  out->value = weft_none();
  weft__rd r = {0};
  size_t size = 0;
  uint64_t id;
  uint32_t ustatus;
  const uint8_t *msg;
  size_t msg_len;
  int rc = open_kind(data, len, WEFT_WIRE_KIND_RESULT, &r, &size, err);
  if (rc || (rc = weft__rd_u64(&r, &id, "result id")) ||
      (rc = weft__rd_u32(&r, &ustatus, "result status")))
    return rc;
  int32_t status = (int32_t)ustatus;
  if (status > 0)
    return weft__wire_fail(err, r.pos - 4, WEFT_EWIRE,
                           "result status %d is positive", (int)status);
  if ((rc = rd_name(&r, &msg, &msg_len, false, "result message")))
    return rc;
  size_t value_at = r.pos;
  weft_value value;
  if ((rc = weft__wire_decode_at(&r, &value)))
    return rc;
  if (status != 0 && value.type != WEFT_T_NONE) {
    weft_value_release(&value);
    return weft__wire_fail(err, value_at, WEFT_EWIRE,
                           "failed result (status %d) carries a value",
                           (int)status);
  }
  if ((rc = check_end(&r, "result's value"))) {
    weft_value_release(&value);
    return rc;
  }
  char *m = NULL;
  if (msg_len) {
    m = malloc(msg_len + 1);
    if (!m) {
      weft_value_release(&value);
      return weft__wire_fail(err, r.pos, WEFT_ENOMEM,
                             "out of memory decoding a result");
    }
    memcpy(m, msg, msg_len);
    m[msg_len] = '\0';
  }
  out->id = id;
  out->status = (int)status;
  out->msg = m;
  out->value = value;
  if (consumed)
    *consumed = size;
  return 0;
}

void weft_wire_result_clear(weft_wire_result *r) {
  if (!r)
    return;
  free((void *)r->msg);
  weft_value_release(&r->value);
  memset(r, 0, sizeof *r);
  r->value = weft_none();
}
