/* test_wire_msg.c - the wire format's task and result messages and its
 * frames (weft/wire.h, docs/wire.md): messages round-trip, bad ones are
 * refused naming what is wrong, and frames cross real pipes and sockets -
 * in pieces, non-blocking, interrupted by signals, cut off, or with the
 * reader gone. Values alone: test_wire.c. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "weft/wire.h"
#include "wire_util.h"

/* ---- tasks and results ---- */

static void test_task_roundtrip(void **state) {
  (void)state;
  weft_value args[3] = {weft_int(-3), mk_str("x"),
                        mk_list(2, weft_double(0.5), mk_bytes("\0", 1))};
  weft_wire_task t = {
      .id = UINT64_MAX - 1, .fn = "my_fn", .nargs = 3, .args = args};
  weft_wire_task t0 = {.id = 0, .fn = "noargs", .nargs = 0, .args = NULL};
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_encode_task(&t, &b, NULL), 0);
  size_t first = b.len;
  assert_int_equal(weft_wire_encode_task(&t0, &b, NULL), 0);

  /* Two frames back to back: each decode takes one. */
  weft_wire_task d;
  size_t used;
  assert_int_equal(weft_wire_decode_task(b.data, b.len, &used, &d, NULL), 0);
  assert_int_equal(used, first);
  assert_int_equal(d.id, UINT64_MAX - 1);
  assert_string_equal(d.fn, "my_fn");
  assert_int_equal(d.nargs, 3);
  for (size_t i = 0; i < 3; i++)
    assert_true(same(&d.args[i], &args[i]));
  weft_wire_task_clear(&d);
  assert_null(d.args);
  weft_wire_task_clear(&d); /* twice is harmless */
  assert_int_equal(
      weft_wire_decode_task(b.data + first, b.len - first, &used, &d, NULL), 0);
  assert_int_equal(used, b.len - first);
  assert_string_equal(d.fn, "noargs");
  assert_int_equal(d.nargs, 0);
  weft_wire_task_clear(&d);

  /* The frame's size, from its header. */
  size_t total;
  assert_int_equal(weft_wire_frame_len(b.data, b.len, &total), 0);
  assert_int_equal(total, first);

  for (int i = 0; i < 3; i++)
    weft_value_release(&args[i]);
  weft_buf_free(&b);
}

static void test_result_roundtrip(void **state) {
  (void)state;
  weft_buf b = WEFT_BUF_INIT;
  weft_wire_result ok = {.id = 42,
                         .status = 0,
                         .msg = NULL,
                         .value = mk_list(2, mk_str("a"), weft_int(1))};
  weft_wire_result bad = {.id = 43,
                          .status = WEFT_ETASK,
                          .msg = "task 'inc-1' failed: x must be positive",
                          .value = weft_none()};
  weft_wire_result empty_msg = {.id = 44, .status = WEFT_EKILLED, .msg = ""};
  assert_int_equal(weft_wire_encode_result(&ok, &b, NULL), 0);
  assert_int_equal(weft_wire_encode_result(&bad, &b, NULL), 0);
  assert_int_equal(weft_wire_encode_result(&empty_msg, &b, NULL), 0);

  size_t at = 0, used;
  weft_wire_result d;
  assert_int_equal(
      weft_wire_decode_result(b.data + at, b.len - at, &used, &d, NULL), 0);
  at += used;
  assert_int_equal(d.id, 42);
  assert_int_equal(d.status, 0);
  assert_null(d.msg);
  assert_true(same(&d.value, &ok.value));
  weft_wire_result_clear(&d);

  assert_int_equal(
      weft_wire_decode_result(b.data + at, b.len - at, &used, &d, NULL), 0);
  at += used;
  assert_int_equal(d.id, 43);
  assert_int_equal(d.status, WEFT_ETASK);
  assert_string_equal(d.msg, bad.msg);
  assert_int_equal(d.value.type, WEFT_T_NONE);
  weft_wire_result_clear(&d);

  assert_int_equal(
      weft_wire_decode_result(b.data + at, b.len - at, &used, &d, NULL), 0);
  at += used;
  assert_int_equal(d.status, WEFT_EKILLED);
  assert_null(d.msg); /* empty message: none */
  weft_wire_result_clear(&d);
  assert_int_equal(at, b.len);

  weft_value_release(&ok.value);
  weft_buf_free(&b);
}

static void test_message_encode_errors(void **state) {
  (void)state;
  weft_buf b = WEFT_BUF_INIT;
  weft_wire_error err = {0};
  weft_value p;
  assert_int_equal(weft_ptr_new(&p, NULL, NULL), 0);
  weft_value args[2] = {weft_int(1), p};
  weft_wire_task t = {.id = 1, .fn = "f", .nargs = 2, .args = args};
  assert_int_equal(weft_wire_encode_task(&t, &b, &err), WEFT_ENOTSUP);
  assert_int_equal(b.len, 0);
  assert_non_null(strstr(err.text, "argument 1"));
  assert_non_null(strstr(err.text, "ptr"));
  t.fn = NULL;
  assert_int_equal(weft_wire_encode_task(&t, &b, NULL), WEFT_EINVAL);
  t.fn = "";
  assert_int_equal(weft_wire_encode_task(&t, &b, NULL), WEFT_EINVAL);
  t.fn = "f";
  t.args = NULL;
  assert_int_equal(weft_wire_encode_task(&t, &b, NULL), WEFT_EINVAL);
  assert_int_equal(weft_wire_encode_task(NULL, &b, NULL), WEFT_EINVAL);

  weft_wire_result r = {.id = 1, .status = 3};
  assert_int_equal(weft_wire_encode_result(&r, &b, NULL), WEFT_EINVAL);
  r.status = WEFT_ETASK;
  r.value = weft_int(1);
  assert_int_equal(weft_wire_encode_result(&r, &b, NULL), WEFT_EINVAL);
  r.status = 0;
  r.value = p;
  assert_int_equal(weft_wire_encode_result(&r, &b, &err), WEFT_ENOTSUP);
  assert_int_equal(b.len, 0);
  weft_value_release(&p);
  weft_buf_free(&b);
}

/* Decodes a frame expected to be refused; checks *out is left zeroed. */
static void refuse_task(const uint8_t *p, size_t n, int want, int line) {
  weft_wire_task t = {.id = 9, .fn = "junk"};
  weft_wire_error err = {0};
  int rc = weft_wire_decode_task(p, n, NULL, &t, &err);
  if (rc != want)
    fail_msg("line %d: decode_task gave %s, wanted %s (%s)", line,
             weft_err_name(rc), weft_err_name(want), err.text);
  assert_null(t.fn);
  assert_null(t.args);
  assert_int_equal(t.nargs, 0);
}
static void refuse_result(const uint8_t *p, size_t n, int want, int line) {
  weft_wire_result r = {.id = 9, .msg = "junk"};
  weft_wire_error err = {0};
  int rc = weft_wire_decode_result(p, n, NULL, &r, &err);
  if (rc != want)
    fail_msg("line %d: decode_result gave %s, wanted %s (%s)", line,
             weft_err_name(rc), weft_err_name(want), err.text);
  assert_null(r.msg);
  assert_int_equal(r.value.type, WEFT_T_NONE);
}
#define FRAME(kind, plen) 'W', 'E', 'F', 'T', 1, kind, 0, 0, plen, 0, 0, 0
#define REFUSE_TASK(want, ...)                                                 \
  do {                                                                         \
    const uint8_t f_[] = {__VA_ARGS__};                                        \
    refuse_task(f_, sizeof f_, want, __LINE__);                                \
  } while (0)
#define REFUSE_RESULT(want, ...)                                               \
  do {                                                                         \
    const uint8_t f_[] = {__VA_ARGS__};                                        \
    refuse_result(f_, sizeof f_, want, __LINE__);                              \
  } while (0)
#define ID8 1, 0, 0, 0, 0, 0, 0, 0

static void test_message_decode_errors(void **state) {
  (void)state;
  /* A good one first, so the cases below differ from it in one thing. */
  const uint8_t good[] = {FRAME(1, 12), ID8, 1, 'f', 1, 0x00};
  weft_wire_task t;
  assert_int_equal(weft_wire_decode_task(good, sizeof good, NULL, &t, NULL), 0);
  weft_wire_task_clear(&t);

  refuse_task(good, 0, WEFT_EWIRE, __LINE__);
  for (size_t n = 1; n < sizeof good; n++) /* every truncation */
    refuse_task(good, n, WEFT_EWIRE, __LINE__);
  /* clang-format off */
  REFUSE_TASK(WEFT_EWIRE, 'W', 'E', 'F', 'X', 1, 1, 0, 0, 12, 0, 0, 0, ID8, 1,
              'f', 1, 0x00);                                    /* magic */
  REFUSE_TASK(WEFT_ENOTSUP, 'W', 'E', 'F', 'T', 2, 1, 0, 0, 12, 0, 0, 0, ID8,
              1, 'f', 1, 0x00);                                 /* version */
  REFUSE_TASK(WEFT_EWIRE, 'W', 'E', 'F', 'T', 1, 1, 1, 0, 12, 0, 0, 0, ID8, 1,
              'f', 1, 0x00);                                    /* reserved */
  REFUSE_TASK(WEFT_EWIRE, FRAME(2, 12), ID8, 1, 'f', 1, 0x00);  /* kind */
  REFUSE_TASK(WEFT_EWIRE, FRAME(0, 12), ID8, 1, 'f', 1, 0x00);  /* kind 0 */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 13), ID8, 1, 'f', 1, 0x00);  /* len lies */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 11), ID8, 1, 'f', 1, 0x00);  /* len short */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 13), ID8, 1, 'f', 1, 0x00,
              0x00);                                            /* left over */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 11), ID8, 0, 1, 0x00);       /* no name */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 13), ID8, 2, 'f', 0, 1,
              0x00);                                            /* NUL */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 12), ID8, 9, 'f', 1, 0x00);  /* name len */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 12), ID8, 1, 'f', 2, 0x00);  /* nargs */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 20), ID8, 1, 'f', 0xff, 0xff, 0xff, 0xff,
              0xff, 0xff, 0xff, 0xff, 0x7f, 0x00);              /* 2^63 args */
  REFUSE_TASK(WEFT_EWIRE, FRAME(1, 15), ID8, 1, 'f', 2, 0x04, 1, 'x',
              0x09);                                            /* bad arg */
  /* clang-format on */

  const uint8_t rgood[] = {FRAME(2, 14), ID8, 0, 0, 0, 0, 0, 0x00};
  weft_wire_result r;
  assert_int_equal(weft_wire_decode_result(rgood, sizeof rgood, NULL, &r, NULL),
                   0);
  weft_wire_result_clear(&r);
  for (size_t n = 0; n < sizeof rgood; n++)
    refuse_result(rgood, n, WEFT_EWIRE, __LINE__);
  /* clang-format off */
  REFUSE_RESULT(WEFT_EWIRE, FRAME(1, 14), ID8, 0, 0, 0, 0, 0, 0x00); /* kind */
  REFUSE_RESULT(WEFT_EWIRE, FRAME(2, 14), ID8, 1, 0, 0, 0, 0,
                0x00);                                 /* status > 0 */
  REFUSE_RESULT(WEFT_EWIRE, FRAME(2, 15), ID8, 0xfd, 0xff, 0xff, 0xff, 0,
                0x01, 0x01);                           /* failed + value */
  REFUSE_RESULT(WEFT_EWIRE, FRAME(2, 16), ID8, 0xfd, 0xff, 0xff, 0xff, 2,
                'a', 0, 0x00);                         /* NUL in msg */
  REFUSE_RESULT(WEFT_EWIRE, FRAME(2, 17), ID8, 0, 0, 0, 0, 0, 0x04, 1, 'x',
                0x00);                                 /* left over */
  REFUSE_RESULT(WEFT_EWIRE, FRAME(2, 17), ID8, 0, 0, 0, 0, 0, 0x06, 2, 0x04,
                1);                                    /* value cut */
  /* clang-format on */

  assert_int_equal(weft_wire_decode_task(good, sizeof good, NULL, NULL, NULL),
                   WEFT_EINVAL);
  weft_wire_task_clear(NULL);
  weft_wire_result_clear(NULL);
}

static void test_frames(void **state) {
  (void)state;
  const uint8_t hdr[] = {FRAME(1, 12)};
  size_t total;
  /* Partial headers ask for the header; the whole one gives the size. */
  for (size_t n = 0; n < WEFT_WIRE_HEADER_SIZE; n++) {
    assert_int_equal(weft_wire_frame_len(hdr, n, &total), 0);
    assert_int_equal(total, WEFT_WIRE_HEADER_SIZE);
  }
  assert_int_equal(weft_wire_frame_len(hdr, sizeof hdr, &total), 0);
  assert_int_equal(total, 24);
  /* Garbage is seen at its first byte. */
  const uint8_t junk[] = {'G', 'E', 'T', ' '};
  assert_int_equal(weft_wire_frame_len(junk, 1, &total), WEFT_EWIRE);
  const uint8_t v2[] = {'W', 'E', 'F', 'T', 2};
  assert_int_equal(weft_wire_frame_len(v2, 4, &total), 0);
  assert_int_equal(weft_wire_frame_len(v2, 5, &total), WEFT_ENOTSUP);
  const uint8_t big[] = {'W', 'E', 'F',  'T',  1,    200,
                         0,   0,   0xff, 0xff, 0xff, 0xff};
  assert_int_equal(weft_wire_frame_len(big, sizeof big, &total), 0);
  assert_int_equal(total, (size_t)WEFT_WIRE_HEADER_SIZE + UINT32_MAX);
  assert_int_equal(weft_wire_frame_len(hdr, 3, NULL), WEFT_EINVAL);
  assert_int_equal(weft_wire_frame_len(NULL, 3, &total), WEFT_EINVAL);

  /* A private kind built with begin/end, read back with frame_open. */
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_buf_append(&b, "xx", 2), 0);
  size_t mark;
  assert_int_equal(weft_wire_frame_begin(&b, WEFT_WIRE_KIND_USER + 1, &mark),
                   0);
  assert_int_equal(mark, 2);
  weft_value hello = mk_str("hello");
  assert_int_equal(weft_wire_encode(&hello, &b, NULL), 0);
  assert_int_equal(weft_wire_frame_end(&b, mark), 0);
  unsigned kind;
  const uint8_t *payload;
  size_t plen, used;
  assert_int_equal(weft_wire_frame_open(b.data + 2, b.len - 2, &kind, &payload,
                                        &plen, &used),
                   0);
  assert_int_equal(kind, WEFT_WIRE_KIND_USER + 1);
  assert_int_equal(used, b.len - 2);
  weft_value back;
  assert_int_equal(weft_wire_decode(payload, plen, NULL, &back, NULL), 0);
  assert_true(same(&back, &hello));
  assert_int_equal(weft_wire_frame_open(b.data + 2, b.len - 3, &kind, &payload,
                                        &plen, &used),
                   WEFT_EWIRE);
  /* A task decoder does not take a private kind. */
  weft_wire_task t;
  assert_int_equal(weft_wire_decode_task(b.data + 2, b.len - 2, NULL, &t, NULL),
                   WEFT_EWIRE);
  assert_int_equal(weft_wire_frame_begin(&b, 0, &mark), WEFT_EINVAL);
  assert_int_equal(weft_wire_frame_begin(&b, 256, &mark), WEFT_EINVAL);
  assert_int_equal(weft_wire_frame_end(&b, b.len), WEFT_EINVAL);
  weft_value_release(&hello);
  weft_value_release(&back);
  weft_buf_free(&b);
}


/* ---- file descriptors ---- */

typedef struct writer {
  int fd;
  const uint8_t *data;
  size_t len;
  size_t piece; /* write this many bytes per call (0: all at once) */
  int rc;
} writer;

static void *writer_main(void *arg) {
  writer *w = arg;
  w->rc = 0;
  size_t piece = w->piece ? w->piece : w->len;
  for (size_t at = 0; at < w->len && !w->rc; at += piece) {
    size_t n = w->len - at < piece ? w->len - at : piece;
    w->rc = weft_wire_write_all(w->fd, w->data + at, n);
  }
  close(w->fd);
  return NULL;
}

/* Several tasks (one of 1 MiB, more than a pipe holds) written in pieces. */
static void frames_through(int rfd, int wfd, size_t piece) {
  weft_buf all = WEFT_BUF_INIT;
  enum { N = 6 };
  size_t sizes[N] = {0, 1, 100, 1u << 20, 5, 70000};
  for (int i = 0; i < N; i++) {
    weft_value arg;
    void *p;
    assert_int_equal(weft_bytes_alloc(&arg, sizes[i], &p), 0);
    memset(p, 'a' + i, sizes[i]);
    weft_wire_task t = {.id = (uint64_t)i, .fn = "f", .nargs = 1, .args = &arg};
    assert_int_equal(weft_wire_encode_task(&t, &all, NULL), 0);
    weft_value_release(&arg);
  }
  writer w = {.fd = wfd, .data = all.data, .len = all.len, .piece = piece};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
  weft_buf b = WEFT_BUF_INIT;
  for (int i = 0; i < N; i++) {
    assert_int_equal(weft_wire_read_frame(rfd, &b), 0);
    weft_wire_task t;
    assert_int_equal(weft_wire_decode_task(b.data, b.len, NULL, &t, NULL), 0);
    assert_int_equal(t.id, (uint64_t)i);
    assert_int_equal(weft_value_len(&t.args[0]), sizes[i]);
    const uint8_t *q = weft_value_bytes(&t.args[0]);
    for (size_t j = 0; j < sizes[i]; j++)
      if (q[j] != 'a' + i)
        fail_msg("frame %d byte %zu differs", i, j);
    weft_wire_task_clear(&t);
  }
  assert_int_equal(weft_wire_read_frame(rfd, &b), 1); /* clean EOF */
  assert_int_equal(weft_wire_read_frame(rfd, &b), 1);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(w.rc, 0);
  close(rfd);
  weft_buf_free(&b);
  weft_buf_free(&all);
}

static void test_pipe_frames(void **state) {
  (void)state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  frames_through(fds[0], fds[1], 0);
  assert_int_equal(pipe(fds), 0);
  frames_through(fds[0], fds[1], 7); /* odd pieces split every header */
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  frames_through(fds[0], fds[1], 4093);
  /* Non-blocking on both ends: both sides must wait, not fail. */
  assert_int_equal(pipe(fds), 0);
  for (int i = 0; i < 2; i++)
    assert_int_equal(fcntl(fds[i], F_SETFL, O_NONBLOCK), 0);
  frames_through(fds[0], fds[1], 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  for (int i = 0; i < 2; i++)
    assert_int_equal(fcntl(fds[i], F_SETFL, O_NONBLOCK), 0);
  frames_through(fds[0], fds[1], 0);
}

/* Feeds bytes then EOF; read_frame must give `want`. */
static void read_after(const void *p, size_t n, int want) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(weft_wire_write_all(fds[1], p, n), 0);
  close(fds[1]);
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_read_frame(fds[0], &b), want);
  close(fds[0]);
  weft_buf_free(&b);
}

static void test_pipe_truncated(void **state) {
  (void)state;
  const uint8_t frame[] = {FRAME(1, 12), ID8, 1, 'f', 1, 0x00};
  /* clang-format off */
  read_after(frame, 0, 1);              /* clean EOF */
  read_after(frame, sizeof frame, 0);   /* whole */
  read_after(frame, 5, WEFT_EIO);       /* inside the header */
  read_after(frame, 20, WEFT_EIO);      /* inside the payload */
  /* clang-format on */
  read_after("GET / HTTP/1.1\r\n", 16, WEFT_EWIRE);
  const uint8_t v9[] = {'W', 'E', 'F', 'T', 9, 1, 0, 0, 0, 0, 0, 0};
  read_after(v9, sizeof v9, WEFT_ENOTSUP);
  /* A header claiming 4 GiB followed by EOF: EIO, no 4 GiB allocation. */
  const uint8_t huge[] = {'W',  'E',  'F',  'T',  1, 1, 0, 0,
                          0xff, 0xff, 0xff, 0xff, 1, 2, 3};
  read_after(huge, sizeof huge, WEFT_EIO);
  assert_int_equal(weft_wire_read_frame(0, NULL), WEFT_EINVAL);
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_read_frame(-1, &b), WEFT_EIO);
  assert_int_equal(errno, EBADF);
  weft_buf_free(&b);
}

static void test_peer_gone(void **state) {
  (void)state;
  /* The reader closed: WEFT_EIO with EPIPE, and no SIGPIPE kills us. */
  uint8_t data[100000] = {0};
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  close(fds[0]);
  assert_int_equal(weft_wire_write_all(fds[1], data, sizeof data), WEFT_EIO);
  assert_int_equal(errno, EPIPE);
  close(fds[1]);
  sigset_t pending, mask;
  assert_int_equal(sigpending(&pending), 0);
  assert_false(sigismember(&pending, SIGPIPE)); /* consumed, not left */
  assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
  assert_false(sigismember(&mask, SIGPIPE)); /* mask restored */

  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  close(fds[0]);
  assert_int_equal(weft_wire_write_all(fds[1], data, sizeof data), WEFT_EIO);
  assert_int_equal(errno, EPIPE);
  close(fds[1]);

  assert_int_equal(weft_wire_write_all(-1, data, 1), WEFT_EIO);
  assert_int_equal(weft_wire_write_all(1, NULL, 1), WEFT_EINVAL);
  assert_int_equal(weft_wire_write_all(-1, NULL, 0), 0);
}

/* EINTR: a reader blocked in read_frame is interrupted by signals (handler
 * installed without SA_RESTART) many times before the frame arrives. */
static volatile sig_atomic_t signals_seen;
static void on_usr1(int sig) {
  (void)sig;
  signals_seen++;
}

typedef struct reader {
  int fd;
  weft_buf buf;
  int rc;
} reader;

static void *reader_main(void *arg) {
  reader *r = arg;
  r->rc = weft_wire_read_frame(r->fd, &r->buf);
  return NULL;
}

static void test_eintr(void **state) {
  (void)state;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: read() fails with EINTR */
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  signals_seen = 0;

  weft_buf frame = WEFT_BUF_INIT;
  weft_wire_result res = {.id = 77, .value = weft_int(5)};
  assert_int_equal(weft_wire_encode_result(&res, &frame, NULL), 0);

  int fds[2];
  assert_int_equal(pipe(fds), 0);
  reader r = {.fd = fds[0], .buf = WEFT_BUF_INIT, .rc = -999};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
  const struct timespec ms5 = {0, 5 * 1000 * 1000};
  for (int i = 0; i < 10; i++) { /* before any byte */
    nanosleep(&ms5, NULL);
    pthread_kill(th, SIGUSR1);
  }
  assert_int_equal(weft_wire_write_all(fds[1], frame.data, 7), 0);
  for (int i = 0; i < 10; i++) { /* inside the header */
    nanosleep(&ms5, NULL);
    pthread_kill(th, SIGUSR1);
  }
  assert_int_equal(weft_wire_write_all(fds[1], frame.data + 7, frame.len - 7),
                   0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(r.rc, 0);
  assert_true(signals_seen >= 10);
  assert_int_equal(r.buf.len, frame.len);
  assert_memory_equal(r.buf.data, frame.data, frame.len);

  close(fds[0]);
  close(fds[1]);
  weft_buf_free(&r.buf);
  weft_buf_free(&frame);
  assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_task_roundtrip),
      cmocka_unit_test(test_result_roundtrip),
      cmocka_unit_test(test_message_encode_errors),
      cmocka_unit_test(test_message_decode_errors),
      cmocka_unit_test(test_frames),
      cmocka_unit_test(test_pipe_frames),
      cmocka_unit_test(test_pipe_truncated),
      cmocka_unit_test(test_peer_gone),
      cmocka_unit_test(test_eintr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
