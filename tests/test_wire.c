/* test_wire.c - the wire format's values (weft/wire.h, docs/wire.md): they
 * round-trip bit for bit, the bytes are the documented ones, every kind of
 * malformed input is refused with WEFT_EWIRE without leaking or
 * over-reading (run under ASan to see it), a fixed-seed fuzz loop never
 * crashes, and every allocation failure is reported, not crashed on. Task
 * messages and frames: test_wire_msg.c. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h> /* after stdarg.h, stddef.h and setjmp.h */

#include "weft.h"
#include "weft/wire.h"
#include "wire_util.h"

/* ---- allocation failure injection ----
 *
 * The test program replaces malloc/calloc/realloc (forwarding to glibc's) so
 * that a test can make the Nth allocation of its own thread fail, library
 * calls included. Not under ASan/TSan, whose allocators must stay in place:
 * test_alloc_failures is skipped there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WIRE_NO_FAULTS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||     \
    __has_feature(memory_sanitizer)
#define WIRE_NO_FAULTS 1
#endif
#endif
#if !defined(WIRE_NO_FAULTS) && defined(__GLIBC__)
#define WIRE_FAULTS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static _Thread_local long fault_countdown = -1; /* -1: off */
static _Thread_local bool fault_fired;
static _Thread_local long live_blocks; /* allocated minus freed, this thread */
static bool take_fault(void) {
  if (fault_countdown < 0)
    return false;
  if (fault_countdown-- == 0) {
    fault_fired = true;
    return true;
  }
  return false;
}
void *malloc(size_t n) {
  void *p = take_fault() ? NULL : __libc_malloc(n);
  live_blocks += p != NULL;
  return p;
}
void *calloc(size_t a, size_t b) {
  void *p = take_fault() ? NULL : __libc_calloc(a, b);
  live_blocks += p != NULL;
  return p;
}
void *realloc(void *p, size_t n) {
  if (p && n == 0) {
    live_blocks--;
    return __libc_realloc(p, 0);
  }
  void *q = take_fault() ? NULL : __libc_realloc(p, n);
  live_blocks += !p && q;
  return q;
}
void free(void *p) {
  live_blocks -= p != NULL;
  __libc_free(p);
}
/* Arms: the allocation after n successful ones fails (once). */
static void fail_after(long n) {
  fault_fired = false;
  fault_countdown = n;
}
static bool disarm(void) {
  fault_countdown = -1;
  return fault_fired;
}
static long heap_in_use(void) { return live_blocks; }
#endif


static double bits_to_double(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

/* Encodes v, decodes it both ways, checks it is the same value and that
 * re-encoding gives the same bytes. Releases v. */
static void roundtrip(weft_value v) {
  weft_buf b = WEFT_BUF_INIT;
  weft_wire_error err = {0};
  assert_int_equal(weft_wire_encode(&v, &b, &err), 0);
  weft_value back;
  assert_int_equal(weft_wire_decode(b.data, b.len, NULL, &back, &err), 0);
  assert_true(same(&v, &back));
  size_t used = 0;
  weft_value back2;
  assert_int_equal(weft_wire_decode(b.data, b.len, &used, &back2, &err), 0);
  assert_int_equal(used, b.len);
  weft_buf b2 = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_encode(&back2, &b2, NULL), 0);
  assert_int_equal(b2.len, b.len);
  assert_memory_equal(b2.data, b.data, b.len);
  weft_value_release(&back);
  weft_value_release(&back2);
  weft_value_release(&v);
  weft_buf_free(&b);
  weft_buf_free(&b2);
}

/* Expects decoding exactly these bytes to fail with `want`, output none. */
static void refuse(const uint8_t *p, size_t n, int want, int line) {
  weft_value out = weft_int(42);
  weft_wire_error err = {0};
  size_t used = 99;
  int rc = weft_wire_decode(p, n, &used, &out, &err);
  if (rc != want)
    fail_msg("line %d: decode gave %s, wanted %s (%s)", line, weft_err_name(rc),
             weft_err_name(want), err.text);
  assert_int_equal(out.type, WEFT_T_NONE);
  assert_int_equal(used, 0);
  assert_true(err.text[0] != '\0');
  assert_true(err.offset <= n);
  /* The same without consumed (the whole input must be one value). */
  out = weft_int(42);
  assert_int_equal(weft_wire_decode(p, n, NULL, &out, NULL), want);
  assert_int_equal(out.type, WEFT_T_NONE);
}
#define REFUSE(want, ...)                                                      \
  do {                                                                         \
    const uint8_t bytes_[] = {__VA_ARGS__};                                    \
    refuse(bytes_, sizeof bytes_, want, __LINE__);                             \
  } while (0)

/* ---- buffer ---- */

static void test_buf(void **state) {
  (void)state;
  weft_buf b;
  weft_buf_init(&b);
  assert_null(b.data);
  assert_int_equal(weft_buf_append(&b, NULL, 0), 0);
  for (int i = 0; i < 1000; i++) {
    uint8_t x = (uint8_t)i;
    assert_int_equal(weft_buf_append(&b, &x, 1), 0);
  }
  assert_int_equal(b.len, 1000);
  assert_true(b.cap >= 1000);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(b.data[i], (uint8_t)i);
  uint8_t *before = b.data;
  size_t cap = b.cap;
  assert_int_equal(weft_buf_reserve(&b, SIZE_MAX), WEFT_ENOMEM);
  assert_int_equal(weft_buf_reserve(&b, SIZE_MAX - 500), WEFT_ENOMEM);
  assert_ptr_equal(b.data, before);
  assert_int_equal(b.cap, cap);
  assert_int_equal(b.len, 1000);
  weft_buf_clear(&b);
  assert_int_equal(b.len, 0);
  weft_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.cap, 0);
  weft_buf_free(NULL);
}

/* ---- the documented bytes ---- */

static void expect_bytes(weft_value v, const uint8_t *want, size_t n) {
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_encode(&v, &b, NULL), 0);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, want, n);
  weft_buf_free(&b);
  weft_value_release(&v);
}
#define EXPECT_BYTES(v, ...)                                                   \
  do {                                                                         \
    const uint8_t w_[] = {__VA_ARGS__};                                        \
    expect_bytes(v, w_, sizeof w_);                                            \
  } while (0)

static void test_golden_bytes(void **state) {
  (void)state;
  EXPECT_BYTES(weft_none(), 0x00);
  EXPECT_BYTES(weft_bool(false), 0x01, 0x00);
  EXPECT_BYTES(weft_bool(true), 0x01, 0x01);
  EXPECT_BYTES(weft_int(1), 0x02, 1, 0, 0, 0, 0, 0, 0, 0);
  EXPECT_BYTES(weft_int(-2), 0x02, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
               0xff);
  EXPECT_BYTES(weft_double(1.0), 0x03, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f);
  EXPECT_BYTES(weft_double(-0.0), 0x03, 0, 0, 0, 0, 0, 0, 0, 0x80);
  EXPECT_BYTES(mk_str(""), 0x04, 0x00);
  EXPECT_BYTES(mk_str("hi"), 0x04, 0x02, 'h', 'i');
  EXPECT_BYTES(mk_bytes("\0\xff", 2), 0x05, 0x02, 0x00, 0xff);
  EXPECT_BYTES(mk_list(0), 0x06, 0x00);
  {
    int16_t v16[2] = {1, -2};
    EXPECT_BYTES(mk_chunk(WEFT_I16, 1, (int64_t[]){2}, v16), 0x07, 0x03, 0x01,
                 0x02, 0x01, 0x00, 0xfe, 0xff);
    double one = 1.0;
    EXPECT_BYTES(mk_chunk(WEFT_F64, 0, NULL, &one), 0x07, 0x0b, 0x00, 0, 0, 0,
                 0, 0, 0, 0xf0, 0x3f);
    EXPECT_BYTES(mk_chunk(WEFT_U8, 2, (int64_t[]){0, 300}, NULL), 0x07, 0x06,
                 0x02, 0x00, 0xac, 0x02);
  }
  EXPECT_BYTES(mk_list(2, weft_int(7), mk_list(1, weft_none())), 0x06, 0x02,
               0x02, 7, 0, 0, 0, 0, 0, 0, 0, 0x06, 0x01, 0x00);

  /* A 300-byte string: length 300 is the varint AC 02. */
  char s300[301];
  memset(s300, 'x', 300);
  s300[300] = '\0';
  weft_value v = mk_str(s300);
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_encode(&v, &b, NULL), 0);
  assert_int_equal(b.len, 303);
  assert_int_equal(b.data[0], 0x04);
  assert_int_equal(b.data[1], 0xac);
  assert_int_equal(b.data[2], 0x02);
  weft_value_release(&v);

  /* A task frame, byte for byte (the example of docs/wire.md). */
  weft_buf_clear(&b);
  weft_value arg = weft_int(5);
  weft_wire_task t = {.id = 7, .fn = "inc", .nargs = 1, .args = &arg};
  assert_int_equal(weft_wire_encode_task(&t, &b, NULL), 0);
  /* clang-format off */
  const uint8_t task[] = {
      'W', 'E', 'F', 'T', 1, 1, 0, 0, 22, 0, 0, 0, /* header: task, 22 bytes */
      7, 0, 0, 0, 0, 0, 0, 0,                      /* id 7 */
      3, 'i', 'n', 'c',                            /* fn "inc" */
      1,                                           /* 1 argument */
      0x02, 5, 0, 0, 0, 0, 0, 0, 0};               /* int 5 */
  /* clang-format on */
  assert_int_equal(b.len, sizeof task);
  assert_memory_equal(b.data, task, sizeof task);

  /* A failed result. */
  weft_buf_clear(&b);
  weft_wire_result r = {.id = 7, .status = WEFT_ETASK, .msg = "no"};
  assert_int_equal(weft_wire_encode_result(&r, &b, NULL), 0);
  /* clang-format off */
  const uint8_t res[] = {
      'W', 'E', 'F', 'T', 1, 2, 0, 0, 16, 0, 0, 0, /* header: result, 16 */
      7, 0, 0, 0, 0, 0, 0, 0,                      /* id 7 */
      0xfd, 0xff, 0xff, 0xff,                      /* status -3 (ETASK) */
      2, 'n', 'o',                                 /* message "no" */
      0x00};                                       /* value none */
  /* clang-format on */
  assert_int_equal(b.len, sizeof res);
  assert_memory_equal(b.data, res, sizeof res);
  weft_buf_free(&b);
}

/* ---- round trips ---- */

static void test_roundtrip_scalars(void **state) {
  (void)state;
  roundtrip(weft_none());
  roundtrip(weft_bool(true));
  roundtrip(weft_bool(false));
  const int64_t ints[] = {0,         1,         -1,           127,
                          128,       -129,      INT32_MAX,    INT32_MIN,
                          INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    roundtrip(weft_int(ints[i]));
  const uint64_t doubles[] = {
      0x0000000000000000ull, /* 0.0 */
      0x8000000000000000ull, /* -0.0 */
      0x7ff0000000000000ull, /* inf */
      0xfff0000000000000ull, /* -inf */
      0x7ff8000000000000ull, /* quiet NaN */
      0x7ff0000000000001ull, /* signalling NaN, payload 1 */
      0xfff8dead0000beefull, /* negative NaN with a payload */
      0x0000000000000001ull, /* smallest subnormal */
      0x7fefffffffffffffull, /* DBL_MAX */
      0x3ff0000000000000ull, /* 1.0 */
  };
  for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
    roundtrip(weft_double(bits_to_double(doubles[i])));
}

static void test_roundtrip_str_bytes(void **state) {
  (void)state;
  roundtrip(mk_str(""));
  roundtrip(mk_str("hello, wire"));
  roundtrip(mk_str("\xc3\xa9t\xc3\xa9 \xe2\x82\xac")); /* UTF-8 */
  roundtrip(mk_bytes(NULL, 0));
  uint8_t all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (uint8_t)i;
  roundtrip(mk_bytes(all, sizeof all));
  roundtrip(mk_bytes("\0\0\0", 3));
  weft_value nul;
  assert_int_equal(weft_str_newn(&nul, "a\0b", 3), 0); /* str with a NUL */
  roundtrip(nul);
  for (size_t n = 126; n <= 130; n++) { /* around the 1/2-byte varint edge */
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    s[n] = '\0';
    roundtrip(mk_str(s));
    free(s);
  }
  size_t big = 3u << 20; /* 3 MiB: a 4-byte varint */
  uint8_t *p = malloc(big);
  for (size_t i = 0; i < big; i++)
    p[i] = (uint8_t)(i * 31u);
  roundtrip(mk_bytes(p, big));
  free(p);
}

/* A list nested `levels` deep: [[[...[1]...]]]. */
static weft_value nested(int levels) {
  weft_value v = weft_int(1);
  for (int i = 0; i < levels; i++)
    v = mk_list(1, v);
  return v;
}

static void test_roundtrip_lists(void **state) {
  (void)state;
  roundtrip(mk_list(0));
  roundtrip(mk_list(1, mk_list(0)));
  roundtrip(mk_list(7, weft_none(), weft_bool(true), weft_int(-5),
                    weft_double(2.5), mk_str("s"), mk_bytes("\0b", 2),
                    mk_list(2, mk_list(0), mk_str(""))));
  weft_value many;
  assert_int_equal(weft_list_new(&many, 1000), 0);
  for (size_t i = 0; i < 1000; i++)
    assert_int_equal(weft_list_set(&many, i, weft_int((int64_t)i)), 0);
  roundtrip(many);
  roundtrip(nested(WEFT_WIRE_MAX_DEPTH)); /* the deepest allowed */
}

/* ---- random values (round trips and the fuzz corpus) ---- */

static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64*, fixed seed per test */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

static weft_value random_value(int depth) {
  switch (rnd() % (depth < 4 ? 8 : 6)) {
  case 0:
    return weft_none();
  case 1:
    return weft_bool(rnd() & 1);
  case 2:
    return weft_int((int64_t)rnd() >> (rnd() % 64));
  case 3:
    return weft_double(bits_to_double(rnd()));
  case 4: {
    char s[40];
    size_t n = rnd() % sizeof s;
    for (size_t i = 0; i < n; i++)
      s[i] = (char)('a' + rnd() % 26);
    weft_value v;
    assert_int_equal(weft_str_newn(&v, s, n), 0);
    return v;
  }
  case 5: {
    uint8_t s[40];
    size_t n = rnd() % sizeof s;
    for (size_t i = 0; i < n; i++)
      s[i] = (uint8_t)rnd();
    return mk_bytes(s, n);
  }
  case 6: { /* a dict of up to 4 short keys (a repeat replaces) */
    size_t n = rnd() % 5;
    weft_value d;
    assert_int_equal(weft_dict_new(&d, 0), 0);
    for (size_t i = 0; i < n; i++) {
      char key[4] = {(char)('a' + rnd() % 4), (char)('a' + rnd() % 3), 0, 0};
      key[rnd() % 3] = '\0';
      assert_int_equal(weft_dict_set(&d, key, random_value(depth + 1)), 0);
    }
    return d;
  }
  default: {
    size_t n = rnd() % 5;
    weft_value l;
    assert_int_equal(weft_list_new(&l, n), 0);
    for (size_t i = 0; i < n; i++)
      assert_int_equal(weft_list_set(&l, i, random_value(depth + 1)), 0);
    return l;
  }
  }
}

static void test_roundtrip_chunks(void **state) {
  (void)state;
  /* every dtype, 3 x 4 elements of a pattern that fills every byte */
  for (int dt = WEFT_BOOL; dt < WEFT_DTYPE__END; dt++) {
    size_t size = weft_dtype_size((weft_dtype)dt);
    uint8_t data[12 * 8];
    for (size_t i = 0; i < 12 * size; i++)
      data[i] = dt == WEFT_BOOL ? (uint8_t)(i % 3 == 0) : (uint8_t)(i * 37 + 5);
    roundtrip(mk_chunk((weft_dtype)dt, 2, (int64_t[]){3, 4}, data));
  }
  /* doubles come back bit for bit: NaN payloads, -0.0, infinities */
  double odd[4] = {bits_to_double(0x7ff8000000000abcull), -0.0, 1.0 / 0.0,
                   -1e-310};
  roundtrip(mk_chunk(WEFT_F64, 1, (int64_t[]){4}, odd));
  /* no dimension (one element), empty ones, many dimensions */
  double x = 2.5;
  roundtrip(mk_chunk(WEFT_F64, 0, NULL, &x));
  roundtrip(mk_chunk(WEFT_F32, 2, (int64_t[]){0, 5}, NULL));
  roundtrip(mk_chunk(WEFT_I64, 2, (int64_t[]){(int64_t)1 << 62, 0}, NULL));
  int64_t ones[WEFT_CHUNK_MAX_NDIM];
  for (int k = 0; k < WEFT_CHUNK_MAX_NDIM; k++)
    ones[k] = k % 4 == 0 ? 2 : 1;
  int32_t sixteen[16];
  for (int i = 0; i < 16; i++)
    sixteen[i] = i * 1000 - 7;
  roundtrip(mk_chunk(WEFT_I32, WEFT_CHUNK_MAX_NDIM, ones, sixteen));
  /* a big one, and chunks inside a list */
  weft_value big;
  double *d;
  assert_int_equal(
      weft_chunk_new(&big, WEFT_F64, 2, (int64_t[]){300, 700}, (void **)&d), 0);
  for (size_t i = 0; i < 300 * 700; i++)
    d[i] = (double)i * 0.25 - 1000;
  roundtrip(mk_list(3, big, weft_int(5),
                    mk_chunk(WEFT_U16, 1, (int64_t[]){2}, (uint16_t[]){7, 9})));
}

static void test_roundtrip_random(void **state) {
  (void)state;
  rng_state = 0x5eed0001;
  for (int i = 0; i < 2000; i++)
    roundtrip(random_value(0));
}

/* ---- what cannot be encoded ---- */

static void dtor_count(void *p) { (*(int *)p)++; }

static void expect_refused(weft_value *v, const char *needle) {
  weft_buf b = WEFT_BUF_INIT;
  assert_int_equal(weft_buf_append(&b, "keep", 4), 0);
  weft_wire_error err = {0};
  assert_int_equal(weft_wire_encode(v, &b, &err), WEFT_ENOTSUP);
  assert_int_equal(b.len, 4); /* nothing half-written stays */
  assert_memory_equal(b.data, "keep", 4);
  if (!strstr(err.text, needle))
    fail_msg("'%s' not in the reason '%s'", needle, err.text);
  weft_buf_free(&b);
}

static void test_encode_refuses(void **state) {
  (void)state;
  int freed = 0;
  weft_value p;
  assert_int_equal(weft_ptr_new(&p, &freed, dtor_count), 0);
  expect_refused(&p, "ptr");
  weft_value l = mk_list(2, weft_int(1), mk_list(1, p));
  expect_refused(&l, "at [1][0]");
  weft_value_release(&l);
  assert_int_equal(freed, 1);

  weft_value internal = {64, 0, {.i = 3}}; /* e.g. a node reference */
  expect_refused(&internal, "internal type 64");

  weft_value deep = nested(WEFT_WIRE_MAX_DEPTH + 1);
  expect_refused(&deep, "deeper than 64");
  weft_value_release(&deep);

  /* A list that contains itself ends at the depth cap, not in a crash. */
  weft_value self;
  assert_int_equal(weft_list_new(&self, 1), 0);
  assert_int_equal(weft_list_set(&self, 0, weft_value_retain(&self)), 0);
  expect_refused(&self, "contains itself");
  assert_int_equal(weft_list_set(&self, 0, weft_none()), 0); /* break it */
  weft_value_release(&self);

  weft_buf b = WEFT_BUF_INIT;
  weft_value none = weft_none();
  assert_int_equal(weft_wire_encode(NULL, &b, NULL), WEFT_EINVAL);
  assert_int_equal(weft_wire_encode(&none, NULL, NULL), WEFT_EINVAL);
}

/* ---- malformed input ---- */

static void test_decode_malformed(void **state) {
  (void)state;
  /* clang-format off */
  refuse(NULL, 0, WEFT_EWIRE, __LINE__);                 /* nothing */
  REFUSE(WEFT_EWIRE, 0x08);                              /* bad tags */
  REFUSE(WEFT_EWIRE, 0x7f);
  REFUSE(WEFT_EWIRE, 0xff);
  REFUSE(WEFT_EWIRE, 0x07);                              /* chunk: no dtype */
  REFUSE(WEFT_EWIRE, 0x07, 0x00, 0x00);                  /* dtype 0 */
  REFUSE(WEFT_EWIRE, 0x07, 0x0c, 0x00);                  /* dtype 12 */
  REFUSE(WEFT_EWIRE, 0x07, 0x0b);                        /* no ndim */
  REFUSE(WEFT_EWIRE, 0x07, 0x0b, 0x11);                  /* 17 dimensions */
  REFUSE(WEFT_EWIRE, 0x07, 0x0b, 0x01);                  /* extent missing */
  REFUSE(WEFT_EWIRE, 0x07, 0x0b, 0x00, 1, 2, 3);         /* 3 of 8 bytes */
  REFUSE(WEFT_EWIRE, 0x07, 0x0b, 0x01, 0x02,             /* 8 of 16 bytes */
         0, 0, 0, 0, 0, 0, 0xf0, 0x3f);
  REFUSE(WEFT_EWIRE, 0x07, 0x01, 0x01, 0x02, 0x01, 0x02); /* bool byte 2 */
  REFUSE(WEFT_EWIRE, 0x07, 0x0b, 0x01, 0x80, 0x80, 0x80, /* extent 2^63 */
         0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
  REFUSE(WEFT_EWIRE, 0x07, 0x01, 0x02,                   /* 2^62 x 2^62: */
         0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, /* overflows */
         0x40, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00);
  REFUSE(WEFT_EWIRE, 0x07, 0x0b, 0x01, 0x80, 0x00);      /* not minimal */
  REFUSE(WEFT_EWIRE, 0x01);                              /* bool, no byte */
  REFUSE(WEFT_EWIRE, 0x01, 0x02);                        /* bool not 0/1 */
  REFUSE(WEFT_EWIRE, 0x02, 1, 2, 3, 4, 5, 6, 7);         /* int: 7 of 8 */
  REFUSE(WEFT_EWIRE, 0x03);                              /* double: none */
  REFUSE(WEFT_EWIRE, 0x04);                              /* str: no length */
  REFUSE(WEFT_EWIRE, 0x04, 0x05, 'a', 'b');              /* length lies */
  REFUSE(WEFT_EWIRE, 0x05, 0x80);                        /* varint cut */
  REFUSE(WEFT_EWIRE, 0x05, 0x81, 0x80, 0x80);            /* varint cut */
  REFUSE(WEFT_EWIRE, 0x04, 0x80, 0x00);                  /* not minimal */
  REFUSE(WEFT_EWIRE, 0x04, 0x81, 0x80, 0x00, 'x');       /* not minimal */
  REFUSE(WEFT_EWIRE, 0x05, 0x80, 0x80, 0x80, 0x80, 0x80, /* 11 bytes */
         0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
  REFUSE(WEFT_EWIRE, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, /* > 2^64 */
         0xff, 0xff, 0xff, 0xff, 0x02);
  REFUSE(WEFT_EWIRE, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, /* 2^64-1 bytes */
         0xff, 0xff, 0xff, 0xff, 0x01, 'x');
  REFUSE(WEFT_EWIRE, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, /* 2^63 items */
         0xff, 0xff, 0xff, 0x7f, 0x00, 0x00);
  REFUSE(WEFT_EWIRE, 0x06, 0x03, 0x00, 0x00);            /* 2 of 3 items */
  REFUSE(WEFT_EWIRE, 0x06, 0x02, 0x06, 0x01);            /* inner cut */
  /* Heap items built, then a bad one: what was built is released (ASan). */
  REFUSE(WEFT_EWIRE, 0x06, 0x03, 0x04, 0x01, 'x', 0x05, 0x01, 'y', 0x09);
  REFUSE(WEFT_EWIRE, 0x06, 0x02, 0x06, 0x01, 0x04, 0x01, 'x', 0x04, 0x09);
  /* clang-format on */

  /* Depth bombs: 65 levels, and 100,000 levels in 200 KB. */
  for (size_t levels = WEFT_WIRE_MAX_DEPTH + 1; levels <= 100000;
       levels = levels * 10) {
    size_t n = 2 * levels + 1;
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < levels; i++) {
      p[2 * i] = WEFT_WIRE_TAG_LIST;
      p[2 * i + 1] = 1;
    }
    p[n - 1] = 0x00;
    refuse(p, n, WEFT_EWIRE, __LINE__);
    /* One level less than the cap + 1 decodes. */
    size_t ok_from = 2 * (levels - WEFT_WIRE_MAX_DEPTH);
    weft_value v;
    assert_int_equal(weft_wire_decode(p + ok_from, n - ok_from, NULL, &v, NULL),
                     0);
    weft_value_release(&v);
    free(p);
  }

  /* Trailing bytes: refused without consumed, counted with it. */
  const uint8_t two[] = {0x01, 0x01, 0xee};
  weft_value v = weft_int(1);
  weft_wire_error err = {0};
  assert_int_equal(weft_wire_decode(two, 3, NULL, &v, &err), WEFT_EWIRE);
  assert_int_equal(v.type, WEFT_T_NONE);
  assert_int_equal(err.offset, 2);
  size_t used;
  assert_int_equal(weft_wire_decode(two, 3, &used, &v, NULL), 0);
  assert_int_equal(used, 2);
  assert_true(v.type == WEFT_T_BOOL && v.as.b);

  /* Bad arguments. */
  assert_int_equal(weft_wire_decode(two, 3, NULL, NULL, NULL), WEFT_EINVAL);
  assert_int_equal(weft_wire_decode(NULL, 3, NULL, &v, NULL), WEFT_EINVAL);

  /* The reason names the place. */
  const uint8_t bad[] = {0x06, 0x02, 0x00, 0x2a};
  assert_int_equal(weft_wire_decode(bad, 4, NULL, &v, &err), WEFT_EWIRE);
  assert_int_equal(err.offset, 3);
  assert_non_null(strstr(err.text, "0x2a"));
}

/* ---- fuzzing ---- */

#ifndef WIRE_FUZZ_ROUNDS /* -DWIRE_FUZZ_ROUNDS=1000000 for a long run */
#define WIRE_FUZZ_ROUNDS 10000
#endif

/* Decodes data as a value, task and result. Whatever is accepted must
 * re-encode to exactly the bytes it came from (the format is canonical);
 * whatever is refused must leave the output empty. */
static void decode_all_ways(const uint8_t *p, size_t n) {
  weft_buf b = WEFT_BUF_INIT;
  weft_value v = weft_int(1);
  size_t used = 0;
  int rc = weft_wire_decode(p, n, &used, &v, NULL);
  if (rc == 0) {
    assert_int_equal(weft_wire_encode(&v, &b, NULL), 0);
    assert_int_equal(b.len, used);
    assert_memory_equal(b.data, p, used);
    weft_value_release(&v);
  } else {
    assert_true(rc == WEFT_EWIRE || rc == WEFT_ENOTSUP);
    assert_int_equal(v.type, WEFT_T_NONE);
  }
  weft_wire_task t;
  rc = weft_wire_decode_task(p, n, &used, &t, NULL);
  if (rc == 0) {
    weft_buf_clear(&b);
    assert_int_equal(weft_wire_encode_task(&t, &b, NULL), 0);
    assert_int_equal(b.len, used);
    assert_memory_equal(b.data, p, used);
    weft_wire_task_clear(&t);
  } else {
    assert_true(rc == WEFT_EWIRE || rc == WEFT_ENOTSUP);
    assert_null(t.args);
  }
  weft_wire_result r;
  rc = weft_wire_decode_result(p, n, &used, &r, NULL);
  if (rc == 0) {
    weft_buf_clear(&b);
    assert_int_equal(weft_wire_encode_result(&r, &b, NULL), 0);
    assert_int_equal(b.len, used);
    assert_memory_equal(b.data, p, used);
    weft_wire_result_clear(&r);
  } else {
    assert_true(rc == WEFT_EWIRE || rc == WEFT_ENOTSUP);
    assert_null(r.msg);
    assert_int_equal(r.value.type, WEFT_T_NONE);
  }
  size_t total;
  (void)weft_wire_frame_len(p, n, &total);
  weft_buf_free(&b);
}

/* Builds the corpus: values, tasks and results, each encoded alone. */
static size_t make_corpus(weft_buf *corpus, size_t max) {
  size_t k = 0;
  for (; k < max; k++) {
    weft_buf_init(&corpus[k]);
    weft_value v = random_value(0);
    if (k % 3 == 0) {
      assert_int_equal(weft_wire_encode(&v, &corpus[k], NULL), 0);
    } else if (k % 3 == 1) {
      weft_value args[3] = {v, random_value(1), random_value(2)};
      weft_wire_task t = {
          .id = rnd(), .fn = "fn", .nargs = rnd() % 4, .args = args};
      assert_int_equal(weft_wire_encode_task(&t, &corpus[k], NULL), 0);
      weft_value_release(&args[1]);
      weft_value_release(&args[2]);
    } else {
      weft_wire_result r = {.id = rnd(), .status = 0, .value = v};
      if (rnd() & 1)
        r = (weft_wire_result){.id = 5, .status = WEFT_ETASK, .msg = "boom"};
      assert_int_equal(weft_wire_encode_result(&r, &corpus[k], NULL), 0);
    }
    weft_value_release(&v);
  }
  return k;
}

static void test_fuzz(void **state) {
  (void)state;
  rng_state = 0xf0220001;
  enum { CORPUS = 60, ROUNDS = WIRE_FUZZ_ROUNDS };
  weft_buf corpus[CORPUS];
  size_t nc = make_corpus(corpus, CORPUS);

  /* Every strict prefix of a valid encoding is refused (the format is
   * self-delimiting); the whole decodes. */
  for (size_t k = 0; k < nc; k++) {
    const uint8_t *p = corpus[k].data;
    for (size_t n = 0; n < corpus[k].len; n++) {
      weft_value v;
      weft_wire_task t;
      weft_wire_result r;
      size_t used;
      assert_int_not_equal(weft_wire_decode(p, n, &used, &v, NULL), 0);
      assert_int_not_equal(weft_wire_decode_task(p, n, &used, &t, NULL), 0);
      assert_int_not_equal(weft_wire_decode_result(p, n, &used, &r, NULL), 0);
      decode_all_ways(p, n);
    }
    decode_all_ways(p, corpus[k].len);
  }

  uint8_t *m = malloc(4096);
  for (int round = 0; round < ROUNDS; round++) {
    const weft_buf *src = &corpus[rnd() % nc];
    size_t n = src->len < 4000 ? src->len : 4000;
    memcpy(m, src->data, n);
    int edits = 1 + (int)(rnd() % 4);
    for (int e = 0; e < edits && n > 0; e++) {
      size_t at = rnd() % n;
      switch (rnd() % 8) {
      case 0: /* flip a bit */
        m[at] ^= (uint8_t)(1u << (rnd() % 8));
        break;
      case 1: /* random byte */
        m[at] = (uint8_t)rnd();
        break;
      case 2: /* interesting byte */
        m[at] =
            (const uint8_t[]){0x00, 0x01, 0x06, 0x7f, 0x80, 0xff}[rnd() % 6];
        break;
      case 3: /* truncate */
        n = at;
        break;
      case 4: /* insert a byte */
        if (n < 4000) {
          memmove(m + at + 1, m + at, n - at);
          m[at] = (uint8_t)rnd();
          n++;
        }
        break;
      case 5: /* delete a byte */
        memmove(m + at, m + at + 1, n - at - 1);
        n--;
        break;
      case 6: { /* duplicate a slice (nesting, repeated items) */
        size_t len = 1 + rnd() % 16;
        if (at + len <= n && n + len <= 4000) {
          memmove(m + at + len, m + at, n - at);
          n += len;
        }
        break;
      }
      default: /* a huge varint where a length may be */
        if (at + 10 <= n) {
          memset(m + at, 0xff, 9);
          m[at + 9] = 0x01;
        }
        break;
      }
    }
    decode_all_ways(m, n);
  }
  free(m);
  for (size_t k = 0; k < nc; k++)
    weft_buf_free(&corpus[k]);
}

/* ---- allocation failure ---- */

#ifdef WIRE_FAULTS
/* Runs op with the 1st, 2nd, ... allocation failing until it succeeds
 * untouched; every failure must be WEFT_ENOMEM (or refuse_ok) and leave the
 * heap as it found it when check_heap. */
#define EACH_FAILURE(check_heap, call, on_fail, on_ok)                         \
  for (long n_ = 0;; n_++) {                                                   \
    long before_ = heap_in_use();                                              \
    fail_after(n_);                                                            \
    int rc_ = (call);                                                          \
    bool fired_ = disarm();                                                    \
    if (!fired_) {                                                             \
      assert_int_equal(rc_, 0);                                                \
      assert_true(n_ > 0); /* the injection reached the library */             \
      on_ok;                                                                   \
      break;                                                                   \
    }                                                                          \
    if (rc_ != WEFT_ENOMEM)                                                    \
      fail_msg("allocation %ld failed: got %s, wanted WEFT_ENOMEM", n_,        \
               weft_err_name(rc_));                                            \
    on_fail;                                                                   \
    if ((check_heap) && heap_in_use() != before_)                              \
      fail_msg("allocation %ld failed: %ld blocks leaked", n_,                 \
               heap_in_use() - before_);                                       \
  }
#endif

static void test_alloc_failures(void **state) {
  (void)state;
#ifndef WIRE_FAULTS
  print_message("sanitizer build (or not glibc): allocation failures are "
                "tested in the plain build only: skipped\n");
  skip();
#else
  /* Does a failure reach the library? Not when a tool such as valgrind
   * replaces malloc itself: then there is nothing to test here. */
  weft_buf probe = WEFT_BUF_INIT;
  fail_after(0);
  int probe_rc = weft_buf_reserve(&probe, 1);
  bool probe_fired = disarm();
  weft_buf_free(&probe);
  if (probe_rc == 0 || !probe_fired) {
    print_message("malloc is replaced by a tool (valgrind?): a planted "
                  "allocation failure does not reach the library: skipped\n");
    skip();
  }
  char long_text[200]; /* makes every encode grow its buffer */
  memset(long_text, 'z', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  weft_value args[2] = {
      mk_list(3, mk_str(long_text), mk_bytes("\0\1", 2),
              mk_list(2, mk_str("deep"), mk_list(1, mk_str("deeper")))),
      mk_str("second")};
  weft_wire_task t = {.id = 3, .fn = "f", .nargs = 2, .args = args};
  weft_wire_result res = {.id = 4, .status = 0, .value = args[0]};
  weft_buf frame = WEFT_BUF_INIT, rframe = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_encode_task(&t, &frame, NULL), 0);
  assert_int_equal(weft_wire_encode_result(&res, &rframe, NULL), 0);

  /* Encoding: a failed growth leaves the buffer as it was. */
  weft_buf b = WEFT_BUF_INIT;
  EACH_FAILURE(false, weft_wire_encode_task(&t, &b, NULL),
               assert_int_equal(b.len, 0),
               assert_memory_equal(b.data, frame.data, frame.len));
  weft_buf_free(&b);
  assert_int_equal(weft_buf_append(&b, "keep", 4), 0);
  EACH_FAILURE(
      false, weft_wire_encode(&args[0], &b, NULL),
      (assert_int_equal(b.len, 4), assert_memory_equal(b.data, "keep", 4)),
      (void)0);
  weft_buf_free(&b);

  /* Decoding: nothing partly built survives a failure. */
  weft_value v;
  weft_buf enc = WEFT_BUF_INIT;
  assert_int_equal(weft_wire_encode(&args[0], &enc, NULL), 0);
  EACH_FAILURE(true, weft_wire_decode(enc.data, enc.len, NULL, &v, NULL),
               assert_int_equal(v.type, WEFT_T_NONE),
               (assert_true(same(&v, &args[0])), weft_value_release(&v)));
  weft_wire_task d;
  EACH_FAILURE(
      true, weft_wire_decode_task(frame.data, frame.len, NULL, &d, NULL),
      assert_null(d.args),
      (assert_true(same(&d.args[0], &args[0])), weft_wire_task_clear(&d)));
  weft_wire_result rd;
  res.status = WEFT_ETASK;
  res.msg = "why";
  res.value = weft_none();
  weft_buf_clear(&rframe);
  assert_int_equal(weft_wire_encode_result(&res, &rframe, NULL), 0);
  EACH_FAILURE(
      true, weft_wire_decode_result(rframe.data, rframe.len, NULL, &rd, NULL),
      assert_null(rd.msg),
      (assert_string_equal(rd.msg, "why"), weft_wire_result_clear(&rd)));

  /* Reading a frame: ENOMEM, not a crash (the pipe is refilled each time). */
  for (long n = 0;; n++) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(weft_wire_write_all(fds[1], frame.data, frame.len), 0);
    close(fds[1]);
    weft_buf rb = WEFT_BUF_INIT;
    fail_after(n);
    int rc = weft_wire_read_frame(fds[0], &rb);
    bool fired = disarm();
    close(fds[0]);
    if (!fired) {
      assert_int_equal(rc, 0);
      assert_true(n > 0);
      assert_int_equal(rb.len, frame.len);
      weft_buf_free(&rb);
      break;
    }
    assert_int_equal(rc, WEFT_ENOMEM);
    weft_buf_free(&rb);
  }

  weft_buf_free(&enc);
  weft_buf_free(&frame);
  weft_buf_free(&rframe);
  weft_value_release(&args[0]);
  weft_value_release(&args[1]);
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf),
      cmocka_unit_test(test_golden_bytes),
      cmocka_unit_test(test_roundtrip_scalars),
      cmocka_unit_test(test_roundtrip_str_bytes),
      cmocka_unit_test(test_roundtrip_lists),
      cmocka_unit_test(test_roundtrip_chunks),
      cmocka_unit_test(test_roundtrip_random),
      cmocka_unit_test(test_encode_refuses),
      cmocka_unit_test(test_decode_malformed),
      cmocka_unit_test(test_fuzz),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
