/* test_sched_dict.c - the dict value (WEFT_T_DICT, issue 7.9): string keys
 * to values in insertion order, as Python's dict. Its API (set, replace in
 * place, get, entries in order, bad arguments releasing the item), printing
 * as Python prints it, equality in any order, growth to 20,000 keys checked
 * against a plain array, a million-deep nest released without recursion;
 * the wire format (exact bytes, canonical round trip, every malformed
 * input refused); and dicts as task results and arguments on sync,
 * threads and procs, and as a map-reduce result (a word count) on threads
 * and procs, checked against a plain loop. */
#include "testutil.h"

static weft_value dict_of(int n, const char *const keys[],
                          const int64_t vals[]) {
  weft_value d;
  assert_ok(weft_dict_new(&d, 0), NULL);
  for (int k = 0; k < n; k++)
    assert_ok(weft_dict_set(&d, keys[k], weft_int(vals[k])), NULL);
  return d;
}

static void expect_text(const weft_value *v, const char *want) {
  char got[512];
  size_t n = weft_value_format(v, got, sizeof got);
  assert_string_equal(got, want);
  assert_int_equal(n, strlen(want));
}

static void test_api(void **state) {
  (void)state;
  weft_value d;
  assert_ok(weft_dict_new(&d, 0), NULL);
  assert_type(d, WEFT_T_DICT);
  assert_int_equal(weft_value_len(&d), 0);
  expect_text(&d, "{}");
  assert_ok(weft_dict_set(&d, "b", weft_int(2)), NULL);
  assert_ok(weft_dict_set(&d, "a", weft_double(0.5)), NULL);
  weft_value s;
  assert_ok(weft_str_new(&s, "x"), NULL);
  assert_ok(weft_dict_set(&d, "", s), NULL);
  expect_text(&d, "{'b': 2, 'a': 0.5, '': 'x'}");
  /* replacing keeps the place, as in Python */
  assert_ok(weft_dict_set(&d, "b", weft_none()), NULL);
  expect_text(&d, "{'b': None, 'a': 0.5, '': 'x'}");
  assert_int_equal(weft_value_len(&d), 3);
  assert_string_equal(weft_dict_key(&d, 1), "a");
  assert_double_exact(weft_dict_item(&d, 1)->as.d, 0.5);
  assert_null(weft_dict_key(&d, 3));
  assert_null(weft_dict_item(&d, 3));
  assert_null(weft_dict_get(&d, "zz"));
  assert_string_equal(weft_value_str(weft_dict_get(&d, "")), "x");
  assert_type(*weft_dict_get(&d, "b"), WEFT_T_NONE);

  /* bad arguments: the item is released, nothing changes */
  tu_track_reset();
  weft_value t;
  assert_ok(tu_tracked_new(&t, 1), NULL);
  assert_rc(WEFT_EINVAL, weft_dict_set(&d, NULL, t), NULL);
  weft_value notdict = weft_int(3);
  assert_ok(tu_tracked_new(&t, 2), NULL);
  assert_rc(WEFT_EINVAL, weft_dict_set(&notdict, "k", t), NULL);
  assert_int_equal(atomic_load(&tu_live), 0);
  assert_rc(WEFT_EINVAL, weft_dict_new(NULL, 0), NULL);
  assert_null(weft_dict_get(&notdict, "k"));
  assert_null(weft_dict_get(NULL, "k"));
  assert_null(weft_dict_get(&d, NULL));
  assert_null(weft_dict_key(&notdict, 0));
  assert_int_equal(weft_value_len(&d), 3);
  /* a replaced item is released */
  assert_ok(tu_tracked_new(&t, 3), NULL);
  assert_ok(weft_dict_set(&d, "a", t), NULL);
  assert_int_equal(atomic_load(&tu_live), 1);
  assert_ok(weft_dict_set(&d, "a", weft_int(1)), NULL);
  assert_int_equal(atomic_load(&tu_live), 0);
  assert_string_equal(weft_type_name(WEFT_T_DICT), "dict");
  weft_value_release(&d);

  /* nested, printed as Python prints it */
  weft_value outer, inner, l;
  assert_ok(weft_dict_new(&outer, 0), NULL);
  assert_ok(weft_dict_new(&inner, 0), NULL);
  assert_ok(weft_dict_set(&inner, "d", weft_none()), NULL);
  assert_ok(weft_list_new(&l, 2), NULL);
  assert_ok(weft_list_set(&l, 0, weft_int(1)), NULL);
  assert_ok(weft_list_set(&l, 1, weft_double(2.5)), NULL);
  assert_ok(weft_dict_set(&outer, "a", weft_int(1)), NULL);
  assert_ok(weft_dict_set(&outer, "b", l), NULL);
  assert_ok(weft_dict_set(&outer, "c", inner), NULL);
  expect_text(&outer, "{'a': 1, 'b': [1, 2.5], 'c': {'d': None}}");
  weft_value_release(&outer);
}

static void test_equality(void **state) {
  (void)state;
  const char *k1[] = {"x", "y", "z"}, *k2[] = {"z", "x", "y"};
  int64_t v1[] = {1, 2, 3}, v2[] = {3, 1, 2}, v3[] = {3, 1, 5};
  weft_value a = dict_of(3, k1, v1), b = dict_of(3, k2, v2),
             c = dict_of(3, k2, v3), d = dict_of(2, k1, v1);
  assert_true(weft_value_equal(&a, &b)); /* any order, as Python */
  assert_false(weft_value_equal(&a, &c));
  assert_false(weft_value_equal(&a, &d));
  assert_false(weft_value_equal(&d, &a));
  const char *k4[] = {"x", "y", "w"};
  weft_value e = dict_of(3, k4, v1);
  assert_false(weft_value_equal(&a, &e));
  weft_value l;
  assert_ok(weft_list_new(&l, 3), NULL);
  assert_false(weft_value_equal(&a, &l));
  weft_value_release(&l);
  weft_value_release(&a);
  weft_value_release(&b);
  weft_value_release(&c);
  weft_value_release(&d);
  weft_value_release(&e);
}

/* 20,000 keys: every one found with its value, in insertion order,
 * checked against plain arrays. */
static void test_many_keys(void **state) {
  (void)state;
  enum { N = 20000 };
  static char keys[N][16];
  weft_value d;
  assert_ok(weft_dict_new(&d, 0), NULL);
  for (int k = 0; k < N; k++) {
    snprintf(keys[k], sizeof keys[k], "w%d", (k * 7919) % N);
    assert_ok(weft_dict_set(&d, keys[k], weft_int(k)), NULL);
  }
  assert_int_equal(weft_value_len(&d), N);
  for (int k = 0; k < N; k++) {
    assert_string_equal(weft_dict_key(&d, (size_t)k), keys[k]);
    const weft_value *v = weft_dict_get(&d, keys[k]);
    assert_non_null(v);
    assert_i64(v->as.i, k);
  }
  assert_null(weft_dict_get(&d, "w20000"));
  weft_value_release(&d);
}

static void test_deep(void **state) {
  (void)state;
  const int DEPTH = TU_TSAN ? 200000 : 1000000;
  weft_value v = weft_int(1), w = weft_int(1);
  for (int k = 0; k < DEPTH; k++) {
    weft_value d, e;
    assert_ok(weft_dict_new(&d, 1), NULL);
    assert_ok(weft_dict_set(&d, "k", v), NULL);
    v = d;
    assert_ok(weft_dict_new(&e, 1), NULL);
    assert_ok(weft_dict_set(&e, "k", w), NULL);
    w = e;
  }
  assert_true(weft_value_equal(&v, &w));
  size_t n = weft_value_format(&v, NULL, 0);
  assert_int_equal(n, (size_t)DEPTH * strlen("{'k': }") + 1);
  weft_value_release(&v);
  weft_value_release(&w);
}

static void test_wire(void **state) {
  (void)state;
  const char *k[] = {"a", "bc"};
  int64_t vals[] = {1, -1};
  weft_value d = dict_of(2, k, vals);
  weft_buf b = WEFT_BUF_INIT;
  assert_ok(weft_wire_encode(&d, &b, NULL), NULL);
  static const uint8_t want[] = {0x08, 0x02, /* dict, 2 */
                                 0x01, 'a',  0x02, 1,    0,    0,    0,
                                 0,    0,    0,    0, /* 'a': 1 */
                                 0x02, 'b',  'c',  0x02, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff}; /* 'bc': -1 */
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.data, want, sizeof want);
  weft_value back;
  assert_ok(weft_wire_decode(b.data, b.len, NULL, &back, NULL), NULL);
  assert_true(weft_value_equal(&d, &back));
  expect_text(&back, "{'a': 1, 'bc': -1}");
  weft_buf b2 = WEFT_BUF_INIT; /* canonical: the same bytes again */
  assert_ok(weft_wire_encode(&back, &b2, NULL), NULL);
  assert_int_equal(b2.len, b.len);
  assert_memory_equal(b2.data, b.data, b.len);
  weft_value_release(&back);
  weft_buf_free(&b2);

  /* every strict prefix is refused, and so are malformed dicts */
  for (size_t cut = 0; cut < b.len; cut++) {
    weft_value x = weft_int(5);
    assert_rc(WEFT_EWIRE, weft_wire_decode(b.data, cut, NULL, &x, NULL), NULL);
    assert_type(x, WEFT_T_NONE);
  }
  struct {
    uint8_t bytes[16];
    size_t len;
    const char *why;
  } bad[] = {
      {{0x08, 0x02, 0x01, 'a', 0x00, 0x01, 'a', 0x00}, 8, "appears twice"},
      {{0x08, 0x01, 0x02, 'a', 0x00, 0x00}, 6, "NUL byte"},
      {{0x08, 0x05, 0x01, 'a', 0x00}, 5, "claims 5 entries"},
      {{0x08, 0x01, 0x01, 'a', 0x2a}, 5, "bad value tag"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    weft_value x;
    weft_wire_error err = {0};
    assert_rc(WEFT_EWIRE,
              weft_wire_decode(bad[i].bytes, bad[i].len, NULL, &x, &err), NULL);
    assert_contains(err.text, bad[i].why);
    assert_type(x, WEFT_T_NONE);
  }
  /* a ptr inside a dict cannot leave: the path names its key */
  weft_value p;
  static int obj;
  assert_ok(weft_ptr_new(&p, &obj, NULL), NULL);
  assert_ok(weft_dict_set(&d, "handle", p), NULL);
  weft_wire_error err = {0};
  weft_buf b3 = WEFT_BUF_INIT;
  assert_rc(WEFT_ENOTSUP, weft_wire_encode(&d, &b3, &err), NULL);
  assert_contains(err.text, "at ['handle']");
  assert_int_equal(b3.len, 0);
  weft_buf_free(&b3);
  weft_buf_free(&b);
  weft_value_release(&d);
}

/* ---- through the schedulers ---- */

/* count(text) -> {word: count} */
static int t_count(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)n;
  const char *s = weft_value_str(&a[0]);
  if (!s || weft_dict_new(out, 8))
    return weft_fail(ctx, "count wants a str");
  char w[32];
  while (*s) {
    int len = 0;
    while (*s == ' ')
      s++;
    while (*s && *s != ' ' && len < 31)
      w[len++] = *s++;
    if (!len)
      break;
    w[len] = '\0';
    const weft_value *had = weft_dict_get(out, w);
    if (weft_dict_set(out, w, weft_int(had ? had->as.i + 1 : 1)))
      return weft_fail(ctx, "out of memory");
  }
  return 0;
}
WEFT_REGISTER_ARITY(t_count, 1);

/* merge(a, b) -> a new dict with b's counts added to a's */
static int t_merge(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)n;
  if (a[0].type != WEFT_T_DICT || a[1].type != WEFT_T_DICT ||
      weft_dict_new(out, 0))
    return weft_fail(ctx, "merge wants two dicts");
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; i < weft_value_len(&a[s]); i++) {
      const char *k = weft_dict_key(&a[s], i);
      const weft_value *had = weft_dict_get(out, k);
      if (weft_dict_set(
              out, k,
              weft_int((had ? had->as.i : 0) + weft_dict_item(&a[s], i)->as.i)))
        return weft_fail(ctx, "out of memory");
    }
  return 0;
}
WEFT_REGISTER_ARITY(t_merge, 2);

#define NTEXTS 40
static const char *const words[] = {"the", "a", "dict", "weft", "task"};

static void make_texts(weft_value in[NTEXTS], int64_t want[5]) {
  for (int w = 0; w < 5; w++)
    want[w] = 0;
  for (int t = 0; t < NTEXTS; t++) {
    char text[512];
    size_t len = 0;
    for (int k = 0; k < 10 + t; k++) {
      int w = (t * 31 + k * k) % 5;
      want[w]++;
      len += (size_t)snprintf(text + len, sizeof text - len, "%s ", words[w]);
    }
    assert_ok(weft_str_new(&in[t], text), NULL);
  }
}

static void check_counts(const weft_value *d, const int64_t want[5]) {
  assert_type(*d, WEFT_T_DICT);
  size_t present = 0;
  for (int w = 0; w < 5; w++) {
    const weft_value *c = weft_dict_get(d, words[w]);
    if (want[w]) {
      assert_non_null(c);
      assert_i64(c->as.i, want[w]);
      present++;
    }
  }
  assert_int_equal(weft_value_len(d), present);
}

static void test_schedulers(void **state) {
  (void)state;
  weft_value in[NTEXTS];
  int64_t want[5];
  make_texts(in, want);
  /* a dict argument given as a literal: {'the': 1000} merged in last */
  int64_t want_plus[5];
  memcpy(want_plus, want, sizeof want_plus);
  want_plus[0] += 1000;
  weft_scheduler kinds[] = {WEFT_SCHED_SYNC, WEFT_SCHED_THREADS,
                            WEFT_SCHED_PROCS};
  for (size_t s = 0; s < 3; s++) {
    print_message("scheduler %s\n", weft_scheduler_name(kinds[s]));
    /* a graph: count each text, merge in a tree */
    weft_graph *g = weft_graph_new();
    weft_node *nodes[NTEXTS];
    for (int t = 0; t < NTEXTS; t++)
      nodes[t] = weft_call(g, t_count, weft_value_retain(&in[t]));
    weft_node *root = weft_reduce_nodes(g, WEFT_FN(t_merge), NTEXTS, nodes);
    weft_value lit;
    assert_ok(weft_dict_new(&lit, 1), NULL);
    assert_ok(weft_dict_set(&lit, "the", weft_int(1000)), NULL);
    weft_node *plus = weft_call(g, t_merge, root, lit);
    assert_non_null(plus);
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.scheduler = kinds[s];
    o.workers = 2;
    o.ignore_env = 1;
    weft_value out[2];
    assert_ok(weft_compute(g, 2, (weft_node *[]){root, plus},
                           (weft_value *[]){&out[0], &out[1]}, &o),
              g);
    check_counts(&out[0], want);
    check_counts(&out[1], want_plus);
    weft_value_release(&out[0]);
    weft_value_release(&out[1]);
    weft_graph_free(g);

    /* the parallel map-reduce, one text per item */
    weft_map_opts mo;
    weft_map_opts_init(&mo);
    mo.scheduler = kinds[s];
    mo.workers = 2;
    mo.ignore_env = 1;
    mo.batch_size = 1;
    char err[256];
    mo.errbuf = err;
    mo.errbuf_size = sizeof err;
    weft_value r;
    int rc = weft_map_reduce(WEFT_FN(t_count), WEFT_FN(t_merge), NTEXTS, in, &r,
                             &mo);
    if (rc)
      fail_msg("weft_map_reduce: %s: %s", weft_err_name(rc), err);
    check_counts(&r, want);
    weft_value_release(&r);
  }
  for (int t = 0; t < NTEXTS; t++)
    weft_value_release(&in[t]);
}

int main(void) {
  tu_watchdog(120);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_api),       cmocka_unit_test(test_equality),
      cmocka_unit_test(test_many_keys), cmocka_unit_test(test_deep),
      cmocka_unit_test(test_wire),      cmocka_unit_test(test_schedulers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
