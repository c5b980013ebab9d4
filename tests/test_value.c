/* test_value.c - weft_value (weft/value.h): scalars, the life of heap values
 * (strings, bytes, lists, user pointers, array chunks) and their reference
 * counts, the lossless conversions, deep equality and the printed form.
 *
 * Destruction is observed through a user pointer whose destructor counts:
 * it must run exactly once, and only when the last owner lets go. */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <pthread.h>

/* ---- scalars ---- */

static void test_scalars(void **state) {
  (void)state;
  assert_int_equal(sizeof(weft_value), 16);
  weft_value n = weft_none(), b = weft_bool(true), i = weft_int(-42),
             d = weft_double(2.5);
  assert_type(n, WEFT_T_NONE);
  assert_type(b, WEFT_T_BOOL);
  assert_true(b.as.b);
  assert_int_value(i, -42);
  assert_double_value(d, 2.5);
  assert_int_value(weft_int(INT64_MIN), INT64_MIN);
  assert_int_value(weft_int(INT64_MAX), INT64_MAX);
  for (int k = 0; k < 4; k++) {
    weft_value v = k == 0 ? n : k == 1 ? b : k == 2 ? i : d;
    assert_false(weft_value_is_obj(&v));
    weft_value c = weft_value_retain(&v);
    assert_true(weft_value_equal(&c, &v));
    weft_value_release(&c);
    assert_type(c, WEFT_T_NONE); /* release leaves none behind */
  }
  weft_value_release(NULL); /* no-op */
  weft_value r = weft_value_retain(NULL);
  assert_type(r, WEFT_T_NONE);
  assert_string_equal(weft_type_name(WEFT_T_NONE), "none");
  assert_string_equal(weft_type_name(WEFT_T_BOOL), "bool");
  assert_string_equal(weft_type_name(WEFT_T_INT), "int");
  assert_string_equal(weft_type_name(WEFT_T_DOUBLE), "double");
  assert_string_equal(weft_type_name(WEFT_T_STR), "str");
  assert_string_equal(weft_type_name(WEFT_T_BYTES), "bytes");
  assert_string_equal(weft_type_name(WEFT_T_LIST), "list");
  assert_string_equal(weft_type_name(WEFT_T_PTR), "ptr");
  assert_non_null(weft_type_name(9999));
  /* accessors of the wrong type give NULL / 0 */
  assert_null(weft_value_str(&i));
  assert_null(weft_value_bytes(&d));
  assert_null(weft_list_get(&i, 0));
  assert_null(weft_value_ptr(&b));
  assert_int_equal(weft_value_len(&i), 0);
}

/* ---- strings and bytes ---- */

static void test_strings(void **state) {
  (void)state;
  char src[] = "hello";
  weft_value s;
  assert_ok(weft_str_new(&s, src), NULL);
  src[0] = 'J'; /* the value holds a copy */
  assert_type(s, WEFT_T_STR);
  assert_true(weft_value_is_obj(&s));
  assert_string_equal(weft_value_str(&s), "hello");
  assert_int_equal(weft_value_len(&s), 5);
  assert_memory_equal(weft_value_bytes(&s), "hello", 6); /* NUL-terminated */

  weft_value e;
  assert_ok(weft_str_newn(&e, "a\0b", 3), NULL); /* embedded NUL kept */
  assert_int_equal(weft_value_len(&e), 3);
  assert_memory_equal(weft_value_bytes(&e), "a\0b", 4);

  weft_value empty;
  assert_ok(weft_str_newn(&empty, NULL, 0), NULL);
  assert_string_equal(weft_value_str(&empty), "");
  assert_int_equal(weft_value_len(&empty), 0);

  weft_value p;
  assert_ok(weft_str_printf(&p, "%d-%s-%.1f", 42, "x", 2.5), NULL);
  assert_string_equal(weft_value_str(&p), "42-x-2.5");
  assert_int_equal(weft_value_len(&p), 8);

  /* bigger than any stack buffer an implementation might use */
  char *big = malloc(100001);
  assert_non_null(big);
  for (int k = 0; k < 100000; k++)
    big[k] = (char)('a' + k % 26);
  big[100000] = '\0';
  weft_value bp;
  assert_ok(weft_str_printf(&bp, "<%s>", big), NULL);
  assert_int_equal(weft_value_len(&bp), 100002);
  assert_memory_equal(weft_value_str(&bp) + 1, big, 100000);
  assert_int_equal(weft_value_str(&bp)[100001], '>');
  free(big);

  weft_value bad = weft_int(7);
  assert_rc(WEFT_EINVAL, weft_str_new(&bad, NULL), NULL);
  assert_type(bad, WEFT_T_NONE);
  bad = weft_int(7);
  assert_rc(WEFT_EINVAL, weft_str_newn(&bad, NULL, 3), NULL);
  assert_type(bad, WEFT_T_NONE);
  assert_rc(WEFT_EINVAL, weft_str_new(NULL, "x"), NULL);

  weft_value *all[] = {&s, &e, &empty, &p, &bp};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
    weft_value_release(all[k]);
    assert_type(*all[k], WEFT_T_NONE);
  }
}

static void test_bytes(void **state) {
  (void)state;
  unsigned char raw[4] = {0, 255, 7, 0};
  weft_value b;
  assert_ok(weft_bytes_new(&b, raw, sizeof raw), NULL);
  raw[1] = 1; /* copied */
  assert_type(b, WEFT_T_BYTES);
  assert_int_equal(weft_value_len(&b), 4);
  const unsigned char *got = weft_value_bytes(&b);
  assert_int_equal(got[0], 0);
  assert_int_equal(got[1], 255);
  assert_int_equal(got[2], 7);
  assert_null(weft_value_str(&b)); /* bytes are not text */

  void *data = NULL;
  weft_value z;
  assert_ok(weft_bytes_alloc(&z, 1000, &data), NULL);
  assert_non_null(data);
  assert_int_equal(weft_value_len(&z), 1000);
  for (int k = 0; k < 1000; k++)
    assert_int_equal(((unsigned char *)data)[k], 0); /* zero-filled */
  memset(data, 0xab, 1000);
  assert_int_equal(((const unsigned char *)weft_value_bytes(&z))[999], 0xab);

  weft_value e;
  assert_ok(weft_bytes_new(&e, NULL, 0), NULL);
  assert_int_equal(weft_value_len(&e), 0);
  weft_value bad;
  assert_rc(WEFT_EINVAL, weft_bytes_new(&bad, NULL, 5), NULL);
  assert_type(bad, WEFT_T_NONE);
  assert_rc(WEFT_EINVAL, weft_bytes_alloc(&bad, 5, NULL), NULL);

  weft_value_release(&b);
  weft_value_release(&z);
  weft_value_release(&e);
}

/* ---- user pointers: the destructor runs exactly once, after the last
 * release ---- */

static int dtor_calls;
static void *dtor_arg;
static void counting_dtor(void *p) {
  dtor_calls++;
  dtor_arg = p;
}

static void test_ptr_lifecycle(void **state) {
  (void)state;
  static int payload = 5;
  dtor_calls = 0;
  dtor_arg = NULL;
  weft_value a;
  assert_ok(weft_ptr_new(&a, &payload, counting_dtor), NULL);
  assert_type(a, WEFT_T_PTR);
  assert_ptr_equal(weft_value_ptr(&a), &payload);
  weft_value b = weft_value_retain(&a);
  weft_value c = weft_value_retain(&b);
  assert_ptr_equal(weft_value_ptr(&c), &payload);
  weft_value_release(&a);
  assert_int_equal(dtor_calls, 0);
  weft_value_release(&c);
  assert_int_equal(dtor_calls, 0);
  assert_ptr_equal(weft_value_ptr(&b), &payload); /* still alive */
  weft_value_release(&b);
  assert_int_equal(dtor_calls, 1);
  assert_ptr_equal(dtor_arg, &payload);
  weft_value_release(&b); /* b is none now: no second destruction */
  assert_int_equal(dtor_calls, 1);

  /* a NULL destructor is allowed */
  weft_value n;
  assert_ok(weft_ptr_new(&n, &payload, NULL), NULL);
  weft_value_release(&n);
  assert_rc(WEFT_EINVAL, weft_ptr_new(NULL, &payload, NULL), NULL);
}

/* ---- array chunks ---- */

static void test_chunks(void **state) {
  (void)state;
  assert_int_equal(weft_dtype_size(WEFT_F64), 8);
  assert_int_equal(weft_dtype_size(WEFT_BOOL), 1);
  assert_int_equal(weft_dtype_size(WEFT_I16), 2);
  assert_int_equal(weft_dtype_size((weft_dtype)0), 0);
  assert_int_equal(weft_dtype_size(WEFT_DTYPE__END), 0);
  assert_string_equal(weft_dtype_name(WEFT_U32), "uint32");
  assert_string_equal(weft_dtype_name((weft_dtype)99), "?");

  /* a 2 x 3 float64 chunk: zero-filled, aligned, C order */
  weft_value a;
  double *d;
  int64_t shape[2] = {2, 3};
  assert_ok(weft_chunk_new(&a, WEFT_F64, 2, shape, (void **)&d), NULL);
  assert_type(a, WEFT_T_CHUNK);
  assert_int_equal((uintptr_t)d % 64, 0);
  weft_chunk_info c;
  assert_ok(weft_chunk_get(&a, &c), NULL);
  assert_int_equal(c.dtype, WEFT_F64);
  assert_int_equal(c.ndim, 2);
  assert_int_equal(c.shape[0], 2);
  assert_int_equal(c.shape[1], 3);
  assert_int_equal(c.count, 6);
  assert_int_equal(c.nbytes, 48);
  assert_ptr_equal(c.data, d);
  for (int i = 0; i < 6; i++) {
    assert_true(d[i] == 0.0);
    d[i] = i * 1.5;
  }
  shape[0] = 99; /* the chunk kept its own copy of the shape */
  assert_ok(weft_chunk_get(&a, &c), NULL);
  assert_int_equal(c.shape[0], 2);
  char buf[64];
  weft_value_format(&a, buf, sizeof buf);
  assert_string_equal(buf, "<chunk float64 (2, 3)>");
  assert_int_equal(weft_value_len(&a), 0);

  /* equality: dtype, shape and elements; floats as numbers */
  weft_value b = weft_value_retain(&a);
  assert_true(weft_value_equal(&a, &b));
  weft_value_release(&b);
  double *e;
  assert_ok(weft_chunk_new(&b, WEFT_F64, 2, (int64_t[]){3, 2}, (void **)&e),
            NULL);
  memcpy(e, d, 48);
  assert_false(weft_value_equal(&a, &b)); /* same bytes, another shape */
  weft_value_release(&b);
  assert_ok(weft_chunk_new(&b, WEFT_F64, 2, (int64_t[]){2, 3}, (void **)&e),
            NULL);
  memcpy(e, d, 48);
  e[0] = -0.0; /* == 0.0 */
  assert_true(weft_value_equal(&a, &b));
  e[5] = 7.0;
  assert_false(weft_value_equal(&a, &b));
  e[5] = NAN;
  d[5] = NAN; /* NaN is not equal to itself, as in numpy */
  assert_false(weft_value_equal(&a, &b));
  weft_value_release(&b);
  int64_t *q;
  assert_ok(weft_chunk_new(&b, WEFT_I64, 2, (int64_t[]){2, 3}, (void **)&q),
            NULL);
  assert_false(weft_value_equal(&a, &b)); /* another dtype */
  weft_value c2;
  int64_t *q2;
  assert_ok(weft_chunk_new(&c2, WEFT_I64, 2, (int64_t[]){2, 3}, (void **)&q2),
            NULL);
  assert_true(weft_value_equal(&b, &c2));
  q2[4] = 1;
  assert_false(weft_value_equal(&b, &c2));
  weft_value_release(&b);
  weft_value_release(&c2);
  weft_value_release(&a);

  /* no dimension: one element; an empty dimension: none */
  assert_ok(weft_chunk_new(&a, WEFT_I32, 0, NULL, NULL), NULL);
  assert_ok(weft_chunk_get(&a, &c), NULL);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.nbytes, 4);
  weft_value_format(&a, buf, sizeof buf);
  assert_string_equal(buf, "<chunk int32 ()>");
  weft_value_release(&a);
  assert_ok(weft_chunk_new(&a, WEFT_U8, 1, (int64_t[]){0}, NULL), NULL);
  assert_ok(weft_chunk_get(&a, &c), NULL);
  assert_int_equal(c.count, 0);
  weft_value_format(&a, buf, sizeof buf);
  assert_string_equal(buf, "<chunk uint8 (0,)>");
  weft_value_release(&a);

  /* bad descriptions, each refused with *out none */
  const int64_t neg[1] = {-1}, huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
  a = weft_int(1);
  assert_rc(WEFT_EINVAL, weft_chunk_new(&a, (weft_dtype)0, 0, NULL, NULL),
            NULL);
  assert_type(a, WEFT_T_NONE);
  assert_rc(WEFT_EINVAL, weft_chunk_new(&a, WEFT_DTYPE__END, 0, NULL, NULL),
            NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_new(&a, WEFT_F64, -1, shape, NULL), NULL);
  assert_rc(WEFT_EINVAL,
            weft_chunk_new(&a, WEFT_F64, WEFT_CHUNK_MAX_NDIM + 1, shape, NULL),
            NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_new(&a, WEFT_F64, 1, NULL, NULL), NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_new(&a, WEFT_F64, 1, neg, NULL), NULL);
  assert_rc(WEFT_ENOMEM, weft_chunk_new(&a, WEFT_F64, 2, huge, NULL), NULL);
  assert_type(a, WEFT_T_NONE);
  assert_rc(WEFT_EINVAL, weft_chunk_new(NULL, WEFT_F64, 0, NULL, NULL), NULL);
  /* the size alone, checked the same way */
  size_t nb = 1;
  assert_ok(weft_chunk_nbytes(WEFT_I16, 2, (int64_t[]){3, 5}, &nb), NULL);
  assert_int_equal(nb, 30);
  assert_ok(weft_chunk_nbytes(WEFT_F64, 0, NULL, &nb), NULL);
  assert_int_equal(nb, 8);
  assert_ok(weft_chunk_nbytes(WEFT_F64, 2, (int64_t[]){0, (int64_t)1 << 62},
                              &nb),
            NULL);
  assert_int_equal(nb, 0);
  assert_rc(WEFT_ENOMEM, weft_chunk_nbytes(WEFT_F64, 2, huge, &nb), NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_nbytes(WEFT_F64, 1, neg, &nb), NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_nbytes((weft_dtype)0, 0, NULL, &nb), NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_nbytes(WEFT_F64, 0, NULL, NULL), NULL);
  weft_value i = weft_int(3);
  assert_rc(WEFT_ETYPE, weft_chunk_get(&i, &c), NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_get(NULL, &c), NULL);
  assert_rc(WEFT_EINVAL, weft_chunk_get(&i, NULL), NULL);
}

/* A wrapped chunk: no copy, and its release runs once, with the last
 * reference, or at once when the wrap is refused. */
static void test_chunk_wrap(void **state) {
  (void)state;
  static float mine[4] = {1, 2, 3, 4};
  dtor_calls = 0;
  dtor_arg = NULL;
  weft_value a;
  assert_ok(weft_chunk_wrap(&a, WEFT_F32, 2, (int64_t[]){2, 2}, mine,
                            counting_dtor, mine),
            NULL);
  weft_chunk_info c;
  assert_ok(weft_chunk_get(&a, &c), NULL);
  assert_ptr_equal(c.data, mine);
  assert_int_equal(c.nbytes, 16);
  weft_value b = weft_value_retain(&a);
  weft_value_release(&a);
  assert_int_equal(dtor_calls, 0);
  weft_value_release(&b);
  assert_int_equal(dtor_calls, 1);
  assert_ptr_equal(dtor_arg, mine);

  /* refused: the caller's release still runs, once */
  assert_rc(WEFT_EINVAL,
            weft_chunk_wrap(&a, (weft_dtype)42, 1, (int64_t[]){4}, mine,
                            counting_dtor, mine),
            NULL);
  assert_int_equal(dtor_calls, 2);
  assert_rc(WEFT_EINVAL,
            weft_chunk_wrap(&a, WEFT_F32, 1, (int64_t[]){4}, NULL,
                            counting_dtor, mine),
            NULL);
  assert_int_equal(dtor_calls, 3);
  assert_rc(WEFT_EINVAL, /* misaligned for float32 */
            weft_chunk_wrap(&a, WEFT_F32, 1, (int64_t[]){2},
                            (const char *)mine + 1, counting_dtor, mine),
            NULL);
  assert_int_equal(dtor_calls, 4);
  assert_type(a, WEFT_T_NONE);
  /* no release function, no elements: fine */
  assert_ok(weft_chunk_wrap(&a, WEFT_F32, 1, (int64_t[]){0}, NULL, NULL, NULL),
            NULL);
  weft_value_release(&a);
}

/* Many threads retain and release one value at once: the count never drops
 * to zero early, and the destructor runs once at the very end. */
#define RC_THREADS 4
#define RC_ROUNDS 200000
static weft_value shared_value;
static void *retain_release_loop(void *arg) {
  (void)arg;
  for (int k = 0; k < RC_ROUNDS; k++) {
    weft_value mine = weft_value_retain(&shared_value);
    if (tu_tracked_get(&mine) != 77)
      return (void *)1;
    weft_value_release(&mine);
  }
  return NULL;
}

static void test_refcount_threads(void **state) {
  (void)state;
  tu_track_reset();
  assert_ok(tu_tracked_new(&shared_value, 77), NULL);
  pthread_t t[RC_THREADS];
  for (int k = 0; k < RC_THREADS; k++)
    assert_int_equal(pthread_create(&t[k], NULL, retain_release_loop, NULL), 0);
  for (int k = 0; k < RC_THREADS; k++) {
    void *res;
    assert_int_equal(pthread_join(t[k], &res), 0);
    assert_null(res);
  }
  assert_i64(atomic_load(&tu_live), 1);
  assert_i64(tu_tracked_get(&shared_value), 77);
  weft_value_release(&shared_value);
  assert_i64(atomic_load(&tu_live), 0);
  assert_i64(atomic_load(&tu_freed), 1);
}

/* ---- lists ---- */

static void test_lists(void **state) {
  (void)state;
  tu_track_reset();
  weft_value l;
  assert_ok(weft_list_new(&l, 3), NULL);
  assert_type(l, WEFT_T_LIST);
  assert_int_equal(weft_value_len(&l), 3);
  for (size_t k = 0; k < 3; k++)
    assert_type(*weft_list_get(&l, k), WEFT_T_NONE);
  assert_null(weft_list_get(&l, 3));

  weft_value t1, t2, t3;
  assert_ok(tu_tracked_new(&t1, 1), NULL);
  assert_ok(tu_tracked_new(&t2, 2), NULL);
  assert_ok(tu_tracked_new(&t3, 3), NULL);
  assert_ok(weft_list_set(&l, 0, t1), NULL); /* taken over */
  assert_ok(weft_list_set(&l, 1, weft_int(10)), NULL);
  assert_i64(atomic_load(&tu_live), 3);
  /* replacing an item releases the old one */
  assert_ok(weft_list_set(&l, 0, t2), NULL);
  assert_i64(atomic_load(&tu_live), 2);
  assert_i64(tu_tracked_get(weft_list_get(&l, 0)), 2);
  assert_int_value(*weft_list_get(&l, 1), 10);
  /* out of range: the item is released, the list unchanged */
  assert_rc(WEFT_EINVAL, weft_list_set(&l, 3, t3), NULL);
  assert_i64(atomic_load(&tu_live), 1);
  /* not a list: the item is released too */
  weft_value t4;
  assert_ok(tu_tracked_new(&t4, 4), NULL);
  weft_value notlist = weft_int(1);
  assert_rc(WEFT_EINVAL, weft_list_set(&notlist, 0, t4), NULL);
  assert_i64(atomic_load(&tu_live), 1);

  /* a list shared by two owners keeps its items until both let go */
  weft_value l2 = weft_value_retain(&l);
  weft_value_release(&l);
  assert_i64(atomic_load(&tu_live), 1);
  assert_i64(tu_tracked_get(weft_list_get(&l2, 0)), 2);
  /* nested lists are released recursively */
  weft_value outer;
  assert_ok(weft_list_new(&outer, 2), NULL);
  assert_ok(weft_list_set(&outer, 0, l2), NULL);
  weft_value t5;
  assert_ok(tu_tracked_new(&t5, 5), NULL);
  assert_ok(weft_list_set(&outer, 1, t5), NULL);
  assert_i64(atomic_load(&tu_live), 2);
  weft_value_release(&outer);
  assert_i64(atomic_load(&tu_live), 0);
  assert_i64(atomic_load(&tu_freed), 5);

  weft_value e;
  assert_ok(weft_list_new(&e, 0), NULL);
  assert_int_equal(weft_value_len(&e), 0);
  assert_null(weft_list_get(&e, 0));
  weft_value_release(&e);
}

/* ---- conversions: lossless only ---- */

static void test_to_double(void **state) {
  (void)state;
  double d = -1;
  weft_value v = weft_int(3);
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, 3.0);
  const int64_t p53 = (int64_t)1 << 53;
  v = weft_int(p53); /* 2^53: exact */
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, 9007199254740992.0);
  v = weft_int(-p53);
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, -9007199254740992.0);
  /* 2^53 + 1 has no double: rejected, *out untouched or not, rc says so */
  v = weft_int(p53 + 1);
  assert_rc(WEFT_ETYPE, weft_value_to_double(&v, &d), NULL);
  v = weft_int(-p53 - 1);
  assert_rc(WEFT_ETYPE, weft_value_to_double(&v, &d), NULL);
  v = weft_int(INT64_MAX); /* rounds to 2^63, which is not INT64_MAX */
  assert_rc(WEFT_ETYPE, weft_value_to_double(&v, &d), NULL);
  v = weft_int(INT64_MIN); /* -2^63 is exact */
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, -9223372036854775808.0);
  v = weft_int(p53 + 2); /* even: exact */
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, 9007199254740994.0);
  v = weft_bool(true);
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, 1.0);
  v = weft_double(-0.0);
  assert_ok(weft_value_to_double(&v, &d), NULL);
  assert_double_exact(d, -0.0);
  v = weft_none();
  assert_rc(WEFT_ETYPE, weft_value_to_double(&v, &d), NULL);
  weft_value s;
  assert_ok(weft_str_new(&s, "1.5"), NULL);
  assert_rc(WEFT_ETYPE, weft_value_to_double(&s, &d), NULL);
  weft_value_release(&s);
  assert_rc(WEFT_EINVAL, weft_value_to_double(NULL, &d), NULL);
  assert_rc(WEFT_EINVAL, weft_value_to_double(&v, NULL), NULL);
}

static void test_to_int64(void **state) {
  (void)state;
  int64_t i = -1;
  weft_value v = weft_double(3.0);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, 3);
  v = weft_double(-4.0);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, -4);
  v = weft_double(-0.0);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, 0);
  v = weft_double(9007199254740993.0 /* rounds to 2^53+2 */);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, 9007199254740992);
  v = weft_double(-9223372036854775808.0);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, INT64_MIN);
  const double rejected[] = {2.5,  -0.5,  1e-300,   9223372036854775808.0,
                             1e19, -1e19, INFINITY, -INFINITY,
                             NAN};
  for (size_t k = 0; k < sizeof rejected / sizeof rejected[0]; k++) {
    v = weft_double(rejected[k]);
    i = 12345;
    int rc = weft_value_to_int64(&v, &i);
    if (rc != WEFT_ETYPE)
      fail_msg("to_int64(%.17g) gave %s (%" PRId64 "), expected WEFT_ETYPE",
               rejected[k], weft_err_name(rc), i);
  }
  v = weft_bool(true);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, 1);
  v = weft_bool(false);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, 0);
  v = weft_int(INT64_MIN);
  assert_ok(weft_value_to_int64(&v, &i), NULL);
  assert_i64(i, INT64_MIN);
  v = weft_none();
  assert_rc(WEFT_ETYPE, weft_value_to_int64(&v, &i), NULL);
  weft_value l;
  assert_ok(weft_list_new(&l, 1), NULL);
  assert_rc(WEFT_ETYPE, weft_value_to_int64(&l, &i), NULL);
  weft_value_release(&l);
  assert_rc(WEFT_EINVAL, weft_value_to_int64(NULL, &i), NULL);
}

static void test_to_bool(void **state) {
  (void)state;
  bool b = false;
  weft_value v = weft_bool(true);
  assert_ok(weft_value_to_bool(&v, &b), NULL);
  assert_true(b);
  v = weft_int(0);
  assert_ok(weft_value_to_bool(&v, &b), NULL);
  assert_false(b);
  v = weft_int(-3);
  assert_ok(weft_value_to_bool(&v, &b), NULL);
  assert_true(b);
  v = weft_double(0.0);
  b = true;
  assert_ok(weft_value_to_bool(&v, &b), NULL);
  assert_false(b);
  v = weft_double(0.25);
  assert_ok(weft_value_to_bool(&v, &b), NULL);
  assert_true(b);
  v = weft_none();
  assert_rc(WEFT_ETYPE, weft_value_to_bool(&v, &b), NULL);
  weft_value s;
  assert_ok(weft_str_new(&s, "true"), NULL);
  assert_rc(WEFT_ETYPE, weft_value_to_bool(&s, &b), NULL);
  weft_value_release(&s);
  assert_rc(WEFT_EINVAL, weft_value_to_bool(&v, NULL), NULL);
}

/* ---- equality ---- */

static weft_value make_list2(weft_value a, weft_value b) {
  weft_value l;
  if (weft_list_new(&l, 2))
    return weft_none();
  weft_list_set(&l, 0, a);
  weft_list_set(&l, 1, b);
  return l;
}

static weft_value str(const char *s) {
  weft_value v;
  return weft_str_new(&v, s) ? weft_none() : v;
}

static void test_equality(void **state) {
  (void)state;
  weft_value n1 = weft_none(), n2 = weft_none();
  assert_true(weft_value_equal(&n1, &n2));
  weft_value i1 = weft_int(1), d1 = weft_double(1.0), b1 = weft_bool(true);
  assert_false(weft_value_equal(&i1, &d1)); /* int and double differ */
  assert_false(weft_value_equal(&i1, &b1));
  weft_value i1b = weft_int(1), i2 = weft_int(2);
  assert_true(weft_value_equal(&i1, &i1b));
  assert_false(weft_value_equal(&i1, &i2));
  weft_value z = weft_double(0.0), nz = weft_double(-0.0),
             nan = weft_double(NAN);
  assert_true(weft_value_equal(&z, &nz)); /* doubles compare with == */
  assert_false(weft_value_equal(&nan, &nan));
  assert_false(weft_value_equal(&n1, &i1));

  weft_value s1 = str("abc"), s2 = str("abc"), s3 = str("abd"), s4 = str("ab");
  assert_true(weft_value_equal(&s1, &s2)); /* by content */
  assert_false(weft_value_equal(&s1, &s3));
  assert_false(weft_value_equal(&s1, &s4));
  weft_value by;
  assert_ok(weft_bytes_new(&by, "abc", 3), NULL);
  assert_false(weft_value_equal(&s1, &by)); /* str is not bytes */
  weft_value by2;
  assert_ok(weft_bytes_new(&by2, "abc", 3), NULL);
  assert_true(weft_value_equal(&by, &by2));

  weft_value l1 =
      make_list2(weft_int(1), make_list2(str("x"), weft_double(2.5)));
  weft_value l2 =
      make_list2(weft_int(1), make_list2(str("x"), weft_double(2.5)));
  weft_value l3 =
      make_list2(weft_int(1), make_list2(str("y"), weft_double(2.5)));
  weft_value l4 = make_list2(weft_int(1), make_list2(str("x"), weft_int(2)));
  assert_true(weft_value_equal(&l1, &l2));
  assert_false(weft_value_equal(&l1, &l3));
  assert_false(weft_value_equal(&l1, &l4));
  weft_value l5;
  assert_ok(weft_list_new(&l5, 3), NULL);
  assert_false(weft_value_equal(&l1, &l5)); /* lengths differ */

  static int x, y;
  weft_value p1, p2, p3;
  assert_ok(weft_ptr_new(&p1, &x, NULL), NULL);
  assert_ok(weft_ptr_new(&p2, &x, NULL), NULL);
  assert_ok(weft_ptr_new(&p3, &y, NULL), NULL);
  assert_true(weft_value_equal(&p1, &p2)); /* by address */
  assert_false(weft_value_equal(&p1, &p3));

  weft_value *all[] = {&s1, &s2, &s3, &s4, &by, &by2, &l1,
                       &l2, &l3, &l4, &l5, &p1, &p2,  &p3};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
    weft_value_release(all[k]);
}

/* ---- the printed form ---- */

static void check_format(weft_value v, const char *want) {
  char buf[256];
  size_t n = weft_value_format(&v, buf, sizeof buf);
  assert_string_equal(buf, want);
  assert_int_equal(n, strlen(want));
}

static void test_format(void **state) {
  (void)state;
  check_format(weft_int(500), "500");
  check_format(weft_int(-7), "-7");
  check_format(weft_int(INT64_MIN), "-9223372036854775808");
  check_format(weft_double(2.5), "2.5");
  check_format(weft_double(3.0), "3.0");
  check_format(weft_double(-0.0), "-0.0");
  check_format(weft_double(-1.25), "-1.25");
  /* Python's repr: the shortest text that reads back exactly */
  check_format(weft_double(0.1), "0.1");
  check_format(weft_double(0.1 + 0.2), "0.30000000000000004");
  check_format(weft_double(1e16), "1e+16");
  check_format(weft_double(1.5e-5), "1.5e-05");
  check_format(weft_double(123456789012345.0), "123456789012345.0");
  check_format(weft_bool(true), "True");
  check_format(weft_bool(false), "False");
  check_format(weft_none(), "None");
  weft_value s = str("text");
  check_format(s, "'text'");
  weft_value l = make_list2(weft_int(1), weft_int(2));
  check_format(l, "[1, 2]");
  weft_value nl =
      make_list2(weft_int(1), make_list2(weft_double(2.5), str("a")));
  check_format(nl, "[1, [2.5, 'a']]");
  weft_value el;
  assert_ok(weft_list_new(&el, 0), NULL);
  check_format(el, "[]");

  /* snprintf contract: truncated but NUL-terminated, full length returned */
  char small[4];
  memset(small, 'x', sizeof small);
  size_t n = weft_value_format(&(weft_value){WEFT_T_INT, 0, {.i = 12345}},
                               small, sizeof small);
  assert_int_equal(n, 5);
  assert_string_equal(small, "123");
  char untouched[2] = {'q', 'q'};
  n = weft_value_format(&nl, untouched, 0);
  assert_int_equal(n, strlen("[1, [2.5, 'a']]"));
  assert_int_equal(untouched[0], 'q');
  /* a long list truncated mid-way still terminates and counts everything */
  char tiny[8];
  n = weft_value_format(&nl, tiny, sizeof tiny);
  assert_int_equal(n, strlen("[1, [2.5, 'a']]"));
  assert_string_equal(tiny, "[1, [2.");

  /* nested lists print whole at any depth, as Python's repr does (a
   * "[...]" would claim the list contains itself) */
  weft_value deep = weft_int(7);
  for (int k = 0; k < 30; k++) {
    weft_value l1;
    assert_ok(weft_list_new(&l1, 1), NULL);
    assert_ok(weft_list_set(&l1, 0, deep), NULL);
    deep = l1;
  }
  char db[256];
  size_t dn = weft_value_format(&deep, db, sizeof db);
  assert_int_equal(dn, strlen(db));
  char want[64];
  memset(want, '[', 30);
  want[30] = '7';
  memset(want + 31, ']', 30);
  want[61] = '\0';
  assert_string_equal(db, want);
  weft_value deep2 = weft_value_retain(&deep);
  assert_true(weft_value_equal(&deep, &deep2));
  weft_value_release(&deep2);
  weft_value_release(&deep);

  weft_value by;
  assert_ok(weft_bytes_new(&by, "ab", 2), NULL);
  char bb[64];
  assert_true(weft_value_format(&by, bb, sizeof bb) > 0);
  assert_int_equal(strlen(bb), weft_value_format(&by, NULL, 0));

  weft_value_release(&s);
  weft_value_release(&l);
  weft_value_release(&nl);
  weft_value_release(&el);
  weft_value_release(&by);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars),
      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_bytes),
      cmocka_unit_test(test_ptr_lifecycle),
      cmocka_unit_test(test_chunks),
      cmocka_unit_test(test_chunk_wrap),
      cmocka_unit_test(test_refcount_threads),
      cmocka_unit_test(test_lists),
      cmocka_unit_test(test_to_double),
      cmocka_unit_test(test_to_int64),
      cmocka_unit_test(test_to_bool),
      cmocka_unit_test(test_equality),
      cmocka_unit_test(test_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
