/* weft/wire.h - the wire format: values and task messages as bytes.
 *
 * Worker processes and MPI ranks do not share memory with the program that
 * builds the graph, so what a task needs and what it returns travels as
 * bytes: values by this format, functions by their registered name (the
 * other side runs the same program and finds them with weft_fn_find). The
 * format is documented byte by byte in docs/wire.md and is part of the API:
 * within a format version (the byte in every frame header) the bytes keep
 * their meaning, and a reader refuses other versions cleanly.
 *
 * Three layers, each usable alone:
 *   - values:   weft_wire_encode / weft_wire_decode (a tag byte, then the
 *               payload, little-endian, lists and dicts nested at most 64
 *               deep);
 *   - frames:   a 12-byte header ('WEFT', version, kind, length) so a reader
 *               can cut a byte stream (a pipe, a socket) into messages;
 *               tasks and results are the two kinds weft defines;
 *   - fd I/O:   write a whole buffer, read one whole frame, retrying on
 *               EINTR and waiting on non-blocking descriptors.
 *
 *   weft_buf b = WEFT_BUF_INIT;
 *   weft_wire_task t = {.id = 7, .fn = "inc", .nargs = 1, .args = &arg};
 *   if (weft_wire_encode_task(&t, &b, NULL) == 0)
 *     rc = weft_wire_write_all(fd, b.data, b.len);
 *   ...                                   // the worker:
 *   while (weft_wire_read_frame(fd, &b) == 0) {
 *     weft_wire_task t;
 *     if (weft_wire_decode_task(b.data, b.len, NULL, &t, &err) == 0) { ...
 *       weft_wire_task_clear(&t); }
 *   }
 *
 * Contracts kept by every function here:
 *   - encoders append to a weft_buf; on failure the buffer is left exactly
 *     as it was (its length restored), so a caller may try something else;
 *   - decoders never read outside [data, data+len), never trust a length or
 *     a count before checking it against the bytes that are there, and on
 *     failure leave their output none/zeroed with nothing to free;
 *   - an optional weft_wire_error (NULL to ignore) receives a one-line
 *     reason and, for decoding, the byte offset where the problem was seen.
 * No global state: every function is thread-safe on distinct arguments. */
#ifndef WEFT_WIRE_H
#define WEFT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growable byte buffer ---- */

/* A byte buffer that grows as it is appended to. data is NULL until the
 * first append; len bytes are in use out of cap allocated. The fields may be
 * read freely; change len only within [0, cap]. Not thread-safe. */
typedef struct weft_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} weft_buf;

#define WEFT_BUF_INIT                                                          \
  { NULL, 0, 0 }

/* An empty buffer (no allocation). Cannot fail. */
void weft_buf_init(weft_buf *b);
/* Frees the bytes and leaves b empty, ready for reuse. NULL: no-op. */
void weft_buf_free(weft_buf *b);
/* Makes room for at least `extra` more bytes beyond len (growing the
 * allocation geometrically). 0, or WEFT_ENOMEM with b unchanged. */
int weft_buf_reserve(weft_buf *b, size_t extra);
/* Appends n bytes (data may be NULL when n is 0). 0 or WEFT_ENOMEM. */
int weft_buf_append(weft_buf *b, const void *data, size_t n);
/* Forgets the contents, keeping the allocation. */
static inline void weft_buf_clear(weft_buf *b) { b->len = 0; }

/* ---- error detail ---- */

/* Why an encode or decode failed, for messages and logs. */
typedef struct weft_wire_error {
  size_t offset;  /* decoding: byte offset (from data) where it went wrong */
  char text[256]; /* one line, NUL-terminated, e.g. "bad value tag 0x2a" */
} weft_wire_error;

/* ---- values ---- */

/* Format version written in every frame header; see docs/wire.md. */
#define WEFT_WIRE_VERSION 1
/* Lists and dicts may nest this many levels (a list of lists of ... 64
 * lists); deeper values stay in their process (weft/value.h). */
#define WEFT_WIRE_MAX_DEPTH 64

/* The tag byte that starts every encoded value. These numbers are the
 * format: they never change meaning. Other tag bytes are invalid. */
enum {
  WEFT_WIRE_TAG_NONE = 0x00,   /* no payload */
  WEFT_WIRE_TAG_BOOL = 0x01,   /* 1 byte: 0 or 1 */
  WEFT_WIRE_TAG_INT = 0x02,    /* 8 bytes, int64 two's complement LE */
  WEFT_WIRE_TAG_DOUBLE = 0x03, /* 8 bytes, IEEE 754 binary64 bits LE */
  WEFT_WIRE_TAG_STR = 0x04,    /* varint length, then the bytes */
  WEFT_WIRE_TAG_BYTES = 0x05,  /* varint length, then the bytes */
  WEFT_WIRE_TAG_LIST = 0x06,   /* varint count, then count values */
  WEFT_WIRE_TAG_CHUNK = 0x07,  /* dtype, ndim, varint extents, then the
                                  elements little-endian in C order */
  WEFT_WIRE_TAG_DICT = 0x08    /* varint count, then count entries: key
                                  (varint length, bytes), value */
};

/* Appends the encoding of *v to out (every type but ptr: none, bool, int,
 * double, str, bytes, list, dict, array chunk). Returns 0, or
 *   WEFT_ENOTSUP  v (or an item of it) cannot leave the process: a user
 *                 pointer (WEFT_T_PTR), a graph node reference, or lists
 *                 and dicts nested deeper than WEFT_WIRE_MAX_DEPTH (which
 *                 also catches a list that contains itself); err names
 *                 where: "at [0][2]['word']", a long path shortened to
 *                 "at [0][0][0][0] ... (56 more) ... [0][0][0][0]";
 *   WEFT_EINVAL   NULL v or out;
 *   WEFT_ENOMEM.
 * On failure out is unchanged. */
int weft_wire_encode(const weft_value *v, weft_buf *out, weft_wire_error *err);

/* Decodes one value from the len bytes at data into *out (which then owns
 * its references). With consumed non-NULL, the value may be followed by
 * other bytes and *consumed receives the bytes it took; with consumed NULL,
 * the value must fill all len bytes exactly. Returns 0, or
 *   WEFT_EWIRE    malformed input: truncated, a length or count larger than
 *                 the bytes that follow, a bad tag, a bool other than 0/1, a
 *                 varint longer than 10 bytes, overflowing or not minimal,
 *                 lists and dicts nested deeper than WEFT_WIRE_MAX_DEPTH, a
 *                 chunk whose elements are not all there, a dict key that
 *                 repeats or holds a NUL byte, trailing bytes (consumed
 *                 NULL);
 *   WEFT_EINVAL   NULL out, or NULL data with len > 0;
 *   WEFT_ENOMEM.
 * On failure *out is none and *consumed is 0; nothing partly built leaks.
 * Decoding time is linear in len, and memory a small constant multiple of
 * len: no length or count is trusted beyond the bytes that follow it. */
int weft_wire_decode(const uint8_t *data, size_t len, size_t *consumed,
                     weft_value *out, weft_wire_error *err);

/* ---- frames ---- */

/* Every frame: 'W' 'E' 'F' 'T', version (1 byte), kind (1 byte), reserved
 * (2 bytes, zero), payload length (u32 LE), then the payload. */
#define WEFT_WIRE_HEADER_SIZE 12
#define WEFT_WIRE_MAX_PAYLOAD UINT32_MAX

/* Frame kinds. 0 is invalid; 1-127 are defined by this format (unknown ones
 * are framed but not decoded); 128-255 are free for a scheduler's own
 * control messages (hello, shutdown...), framed with frame_begin/_end. */
enum {
  WEFT_WIRE_KIND_TASK = 1,   /* weft_wire_task: run this function */
  WEFT_WIRE_KIND_RESULT = 2, /* weft_wire_result: what a task gave */
  WEFT_WIRE_KIND_USER = 128  /* first kind free for other protocols */
};

/* How many bytes the frame starting at data needs in all, judged from the n
 * bytes available (n may be 0). Returns 0 and sets *total: when n is less
 * than WEFT_WIRE_HEADER_SIZE, *total is WEFT_WIRE_HEADER_SIZE (read that
 * much, then ask again); otherwise it is the whole frame's size, header
 * included. So a reader loops "while (have < total) read more; ask again"
 * and holds a whole frame once have >= total after a call. Checks what
 * bytes it has at once: WEFT_EWIRE for a bad magic, kind 0 or non-zero
 * reserved bytes, WEFT_ENOTSUP for another format version, WEFT_EINVAL for
 * NULL total or NULL data with n > 0. */
int weft_wire_frame_len(const uint8_t *data, size_t n, size_t *total);

/* Checks the frame at data (whole: len >= its size) and points *payload
 * at its payload of *payload_len bytes, inside data. *kind gets its kind;
 * *consumed (may be NULL) its whole size. WEFT_EWIRE when len is short of
 * the frame or the header is bad, WEFT_ENOTSUP for another version. */
int weft_wire_frame_open(const uint8_t *data, size_t len, unsigned *kind,
                         const uint8_t **payload, size_t *payload_len,
                         size_t *consumed);

/* Starts a frame of the given kind (1-255) at the end of out: writes a
 * header and sets *mark; append the payload (e.g. with weft_wire_encode),
 * then call weft_wire_frame_end(out, mark), which fills in the length:
 * WEFT_ENOTSUP if the payload exceeds WEFT_WIRE_MAX_PAYLOAD (out is then
 * cut back to where the frame began). */
int weft_wire_frame_begin(weft_buf *out, unsigned kind, size_t *mark);
int weft_wire_frame_end(weft_buf *out, size_t mark);

/* ---- tasks and results ---- */

/* "Run function fn on these arguments; call the answer id." */
typedef struct weft_wire_task {
  uint64_t id;    /* chosen by the sender, echoed by the result */
  const char *fn; /* registered function name: non-empty, no NUL bytes */
  size_t nargs;
  weft_value *args; /* nargs values */
} weft_wire_task;

/* "Task id finished with status; here is its value or why it failed." */
typedef struct weft_wire_result {
  uint64_t id;
  int status;       /* 0, or a negative WEFT_E* code (e.g. WEFT_ETASK) */
  const char *msg;  /* failure detail, or NULL for none; no NUL bytes */
  weft_value value; /* the result when status is 0, else none */
} weft_wire_result;

/* Append one whole frame (header and payload). The task/result is only
 * read: the caller keeps its references. Errors as weft_wire_encode, plus
 * WEFT_EINVAL for a NULL/empty fn, nargs > 0 with NULL args, a positive
 * status or a failed result carrying a value; WEFT_ENOTSUP for a payload
 * over WEFT_WIRE_MAX_PAYLOAD. On failure out is unchanged. */
int weft_wire_encode_task(const weft_wire_task *t, weft_buf *out,
                          weft_wire_error *err);
int weft_wire_encode_result(const weft_wire_result *r, weft_buf *out,
                            weft_wire_error *err);

/* Decode the frame at data (from its header) into *out, which then owns
 * its memory: release it with weft_wire_task_clear / _result_clear.
 * *consumed (may be NULL) gets the frame's size; bytes after the frame are
 * left alone. WEFT_EWIRE for a frame of another kind, a malformed header or
 * payload (a bad value tag included), or payload bytes left over;
 * WEFT_ENOTSUP for another version; WEFT_EINVAL, WEFT_ENOMEM. On failure *out
 * is zeroed (clearing it is harmless). */
int weft_wire_decode_task(const uint8_t *data, size_t len, size_t *consumed,
                          weft_wire_task *out, weft_wire_error *err);
int weft_wire_decode_result(const uint8_t *data, size_t len, size_t *consumed,
                            weft_wire_result *out, weft_wire_error *err);

/* Free what a decode put in t / r and zero it. For decoded structs only:
 * one the caller filled in for encoding is the caller's to free. NULL and
 * zeroed structs are no-ops. */
void weft_wire_task_clear(weft_wire_task *t);
void weft_wire_result_clear(weft_wire_result *r);

/* ---- file descriptors ---- */

/* Writes all n bytes to fd, retrying after EINTR and short writes, and
 * waiting (poll) when fd is non-blocking. A peer that closed its end gives
 * WEFT_EIO (errno EPIPE) without killing the process by SIGPIPE: sockets
 * are written with MSG_NOSIGNAL, other descriptors with SIGPIPE blocked in
 * the calling thread only. Returns 0 or WEFT_EIO (errno says why). */
int weft_wire_write_all(int fd, const void *data, size_t n);

/* Reads exactly one frame from fd into buf (replacing its contents: on 0,
 * buf->data holds the whole frame, buf->len bytes, header included). Reads
 * no byte past the frame, so frames sent back to back are read one per
 * call. Retries after EINTR; waits (poll) on a non-blocking fd. Memory grows
 * with the bytes that actually arrive, not with the length a header claims.
 * Returns
 *   0             a frame;
 *   1             end of file at a frame boundary (the peer closed cleanly);
 *   WEFT_EIO      end of file inside a frame, or a read error (errno);
 *   WEFT_EWIRE / WEFT_ENOTSUP   a bad header (as weft_wire_frame_len);
 *   WEFT_EINVAL, WEFT_ENOMEM. */
int weft_wire_read_frame(int fd, weft_buf *buf);

#ifdef __cplusplus
}
#endif
#endif
