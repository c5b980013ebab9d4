/* test_map_pack.c - how a parallel map's batches travel (src/map/pack.c)
 * and the portable batch tasks that procs workers run, tested here over
 * threads, by name, so their packing is covered before and without worker
 * processes; unpacked results share one block, and local batches carry the
 * keys of their items. */
#include "core/obj.h"     /* how unpacked lists are laid out */
#include "map/map_impl.h" /* the packing of batches, tested directly */
#include "map_util.h"

/* ---- packing (pack.c) ---- */

static void expect_roundtrip(const weft_value *v, size_t n, uint32_t type) {
  weft_value p, *back = malloc((n ? n : 1) * sizeof *back);
  size_t bad = 0, count = 99;
  assert_ok(weft__map_pack(v, n, &p, &bad), NULL);
  assert_type(p, type);
  assert_ok(weft__map_payload_count(&p, &count), NULL);
  assert_int_equal(count, n);
  assert_ok(weft__map_unpack(&p, n, back), NULL);
  for (size_t i = 0; i < n; i++) {
    if (!weft_value_equal(&v[i], &back[i]))
      fail_msg("item %zu differs after packing", i);
    weft_value_release(&back[i]);
  }
  if (n)
    assert_rc(WEFT_EWIRE, weft__map_unpack(&p, n - 1, back), NULL);
  weft_value_release(&p);
  free(back);
}

static void test_pack(void **state) {
  (void)state;
  weft_value v[40];
  /* scalars, none included; zero items */
  for (int i = 0; i < 40; i++)
    v[i] = i % 4 == 0   ? weft_int(i * -7)
           : i % 4 == 1 ? weft_double(i / 3.0)
           : i % 4 == 2 ? weft_bool(i % 3)
                        : weft_none();
  expect_roundtrip(v, 40, WEFT_T_BYTES);
  expect_roundtrip(v, 0, WEFT_T_BYTES);
  /* scalars and flat lists (empty ones too) pack as bytes */
  for (int i = 0; i < 40; i += 3) {
    int64_t len = i % 5;
    assert_ok(weft_list_new(&v[i], (size_t)len), NULL);
    for (int64_t k = 0; k < len; k++)
      weft_list_set(&v[i], (size_t)k, k % 2 ? weft_double(k) : weft_int(k));
  }
  expect_roundtrip(v, 40, WEFT_T_BYTES);
  /* a string or a nested list makes it a list of values */
  weft_value keep = v[1];
  assert_ok(weft_str_new(&v[1], "text"), NULL);
  expect_roundtrip(v, 40, WEFT_T_LIST);
  weft_value_release(&v[1]);
  assert_ok(weft_list_new(&v[1], 1), NULL);
  weft_list_set(&v[1], 0, weft_value_retain(&v[3]));
  expect_roundtrip(v, 40, WEFT_T_LIST);
  weft_value_release(&v[1]);
  v[1] = keep;
  /* a ptr value cannot be packed: its index is given */
  weft_value p;
  size_t bad = 0;
  assert_ok(tu_tracked_new(&v[7], 1), NULL);
  assert_rc(WEFT_ENOTSUP, weft__map_pack(v, 40, &p, &bad), NULL);
  assert_int_equal(bad, 7);
  assert_type(p, WEFT_T_NONE);
  weft_value_release(&v[7]);

  /* Malformed bytes are refused, never read past. */
  assert_ok(weft__map_pack(v, 40, &p, &bad), NULL);
  size_t len = weft_value_len(&p);
  const unsigned char *b = weft_value_bytes(&p);
  unsigned char *copy = malloc(len);
  weft_value out[40], m;
  size_t count;
  for (size_t cut = 0; cut < len; cut++) { /* every truncation */
    assert_ok(weft_bytes_new(&m, b, cut), NULL);
    assert_rc(WEFT_EWIRE, weft__map_unpack(&m, 40, out), NULL);
    weft_value_release(&m);
  }
  memcpy(copy, b, len);
  copy[0] ^= 1; /* magic */
  assert_ok(weft_bytes_new(&m, copy, len), NULL);
  assert_rc(WEFT_EWIRE, weft__map_payload_count(&m, &count), NULL);
  weft_value_release(&m);
  memcpy(copy, b, len);
  memset(copy + 16, 0xfe, 4); /* the first list claims 4 billion items */
  assert_ok(weft_bytes_new(&m, copy, len), NULL);
  assert_rc(WEFT_EWIRE, weft__map_unpack(&m, 40, out), NULL);
  weft_value_release(&m);
  memcpy(copy, b, len);
  uint32_t str = WEFT_T_STR; /* the last value claims to be a string */
  memcpy(copy + len - sizeof(weft_value), &str, sizeof str);
  assert_ok(weft_bytes_new(&m, copy, len), NULL);
  assert_rc(WEFT_EWIRE, weft__map_unpack(&m, 40, out), NULL);
  weft_value_release(&m);
  free(copy);
  weft_value_release(&p);
  assert_rc(WEFT_EWIRE, weft__map_payload_count(&v[2], &count), NULL);
  release_all(v, 40);
}

/* Lists in and lists out, through every scheduler (packed on procs). */
static void test_list_items(void **state) {
  (void)state;
  size_t n = 5003;
  weft_value *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out),
             *back = malloc(n * sizeof *back);
  for (size_t i = 0; i < n; i++)
    in[i] = weft_int((int64_t)i);
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS && !have_procs())
      continue;
    weft_map_opts o = conf_opts(&confs[c], NULL);
    o.executor = NULL;
    assert_map_ok(weft_map(WEFT_FN(tlist), n, in, out, &o));
    assert_map_ok(weft_map(WEFT_FN(tlist), n, out, back, &o));
    for (size_t i = 0; i < n; i++) {
      int64_t x = (int64_t)i, len = x % 5;
      assert_int_equal(weft_value_len(&out[i]), len);
      assert_int_value(back[i], len * x + len * (len - 1) / 2);
    }
    release_all(out, n);
  }
  free(in);
  free(out);
  free(back);
}

/* ---- the portable batches (what procs workers run), over threads ---- */

static weft_value batch_result(const char *fn, int64_t base, weft_value items,
                               int *rc, weft_graph **gout) {
  weft_graph *g = weft_graph_new();
  weft_value a[3] = {weft_none(), weft_int(base), items};
  assert_ok(weft_str_new(&a[0], fn), NULL);
  weft_node *b = weft_call_name(g, "weft.map.batch", 3, a);
  weft_value r = weft_none();
  *rc = weft_compute1(g, b, &r, NULL);
  *gout = g;
  return r;
}

static void test_portable_batches(void **state) {
  (void)state;
  weft_graph *g;
  int rc;
  /* Scalars travel packed, and come back packed. */
  weft_value packed;
  weft_value items[6];
  size_t bad;
  for (int i = 0; i < 6; i++)
    items[i] = i % 2 ? weft_int(i * 1000) : weft_double(i + 0.25);
  assert_ok(weft__map_pack(items, 6, &packed, &bad), NULL);
  assert_type(packed, WEFT_T_BYTES);
  weft_value r = batch_result("tmix", 0, packed, &rc, &g);
  assert_ok(rc, g);
  assert_type(r, WEFT_T_BYTES);
  weft_value outs[6];
  assert_ok(weft__map_unpack(&r, 6, outs), NULL);
  expect_mix(items, outs, 6);
  assert_rc(WEFT_EWIRE, weft__map_unpack(&r, 5, outs), NULL);
  weft_value_release(&r);
  weft_graph_free(g);

  /* A list of strings in, a list of strings out. */
  weft_value list;
  assert_ok(weft_list_new(&list, 3), NULL);
  for (size_t i = 0; i < 3; i++)
    weft_list_set(&list, i, weft_int((int64_t)i + 10));
  r = batch_result("tstr", 0, list, &rc, &g);
  assert_ok(rc, g);
  assert_type(r, WEFT_T_LIST);
  assert_string_equal(weft_value_str(weft_list_get(&r, 2)), "12,");
  weft_value_release(&r);
  weft_graph_free(g);

  /* Failures name the absolute item index. */
  assert_ok(weft_list_new(&list, 3), NULL);
  for (size_t i = 0; i < 3; i++)
    weft_list_set(&list, i, weft_int(4320 + (int64_t)i));
  r = batch_result("tfail", 4320, list, &rc, &g);
  assert_rc(WEFT_ETASK, rc, g);
  assert_contains(weft_graph_error(g), "item 4321: bad input 4321");
  weft_graph_free(g);

  r = batch_result("no_such_function", 0, weft_int(3), &rc, &g);
  assert_rc(WEFT_ETASK, rc, g);
  assert_contains(weft_graph_error(g), "'no_such_function' is not registered");
  weft_graph_free(g);
  r = batch_result("tadd", 0, weft_int(3), &rc, &g);
  assert_rc(WEFT_ETASK, rc, g);
  assert_contains(weft_graph_error(g), "takes 2 arguments, not 1");
  weft_graph_free(g);
  r = batch_result("tmix", 0, weft_int(3), &rc, &g);
  assert_rc(WEFT_ETASK, rc, g);
  assert_contains(weft_graph_error(g), "malformed map batch");
  weft_graph_free(g);
  assert_ok(weft_bytes_new(&packed, "abc", 3), NULL);
  r = batch_result("tmix", 0, packed, &rc, &g);
  assert_rc(WEFT_ETASK, rc, g);
  assert_contains(weft_graph_error(g), "malformed map batch");
  weft_graph_free(g);

  /* The reduce batch folds in order. */
  g = weft_graph_new();
  assert_ok(weft_list_new(&list, 4), NULL);
  for (size_t i = 0; i < 4; i++)
    weft_list_set(&list, i, weft_int((int64_t)i));
  weft_value a[4] = {weft_none(), weft_none(), weft_int(0), list};
  assert_ok(weft_str_new(&a[0], "tstr"), NULL);
  assert_ok(weft_str_new(&a[1], "tcat"), NULL);
  weft_node *b = weft_call_name(g, "weft.map.reduce_batch", 4, a);
  assert_ok(weft_compute1(g, b, &r, NULL), g);
  assert_string_equal(weft_value_str(&r), "0,1,2,3,");
  weft_value_release(&r);
  weft_graph_free(g);

  /* An unpack task reports results that came back malformed, by items. */
  g = weft_graph_new();
  weft_value junk = weft_none();
  assert_ok(weft_bytes_new(&junk, "nope", 4), NULL);
  weft_value dest[13];
  weft__map_job job = {WEFT_FN(tmix), NULL, NULL, dest, NULL, 1};
  weft_value ua[5] = {weft_int((int64_t)(intptr_t)&job), weft_int(10),
                      weft_int(13), weft_int((int64_t)getpid()), junk};
  b = weft_call_name(g, "weft.map.unpack", 5, ua);
  assert_rc(WEFT_ETASK, weft_compute1(g, b, &r, NULL), g);
  assert_contains(
      weft_graph_error(g),
      "the results of items 10 to 12 came back malformed (a bytes)");
  weft_graph_free(g);
  /* and a job pointer of 0 is refused, not followed */
  g = weft_graph_new();
  weft_value za[5] = {weft_int(0), weft_int(0), weft_int(1),
                      weft_int((int64_t)getpid()), weft_int(1)};
  b = weft_call_name(g, "weft.map.unpack", 5, za);
  assert_rc(WEFT_ETASK, weft_compute1(g, b, &r, NULL), g);
  assert_contains(weft_graph_error(g), "malformed in-process map batch");
  weft_graph_free(g);

  /* A local batch refuses to run with another process's id. */
  g = weft_graph_new();
  weft_value la[4] = {weft_int((int64_t)(intptr_t)&job), weft_int(0),
                      weft_int(1), weft_int((int64_t)getpid() + 1)};
  b = weft_call_name(g, "weft.map.local", 4, la);
  assert_rc(WEFT_ETASK, weft_compute1(g, b, &r, NULL), g);
  assert_contains(weft_graph_error(g), "cannot run in another process");
  weft_graph_free(g);
}

/* The batches of a map on threads and sync carry the function's name and
 * their items as keys ("tsq[0:4]"), as on procs, so a trace or an event
 * listener says what ran (they were "weft.map.local-0", ...). */
typedef struct { /* updated from the workers: atomics */
  _Atomic int ends;
  _Atomic int named; /* keys "tsq[s:e]" covering the items */
  _Atomic size_t covered;
} key_seen;
static void key_listener(const weft_event *ev, void *ud) {
  key_seen *k = ud;
  if (ev->kind != WEFT_EV_TASK_END)
    return;
  char key[128];
  unsigned long long s, e;
  int used = 0;
  k->ends++;
  if (weft_event_key(ev, key, sizeof key) == 0 &&
      sscanf(key, "tsq[%llu:%llu]%n", &s, &e, &used) == 2 &&
      key[used] == '\0' && e > s) {
    k->named++;
    k->covered += (size_t)(e - s);
  }
}

static void test_local_batch_keys(void **state) {
  (void)state;
  weft_value in[10], out[10];
  for (int i = 0; i < 10; i++)
    in[i] = weft_double(i);
  const weft_scheduler sch[] = {WEFT_SCHED_SYNC, WEFT_SCHED_THREADS};
  for (int k = 0; k < 2; k++) {
    key_seen seen;
    atomic_init(&seen.ends, 0);
    atomic_init(&seen.named, 0);
    atomic_init(&seen.covered, 0);
    weft_listener l = {key_listener, &seen, NULL};
    weft_map_opts o;
    weft_map_opts_init(&o);
    o.ignore_env = 1;
    o.scheduler = sch[k];
    o.workers = 2;
    o.batch_size = 3;
    o.listener = &l;
    assert_int_equal(weft_map(WEFT_FN(tsq), 10, in, out, &o), 0);
    for (int i = 0; i < 10; i++) {
      assert_true(out[i].type == WEFT_T_DOUBLE && out[i].as.d == (double)i * i);
      weft_value_release(&out[i]);
    }
    assert_int_equal(atomic_load(&seen.ends), 4); /* [0:3] [3:6] [6:9] [9:10] */
    assert_int_equal(atomic_load(&seen.named), 4);
    assert_int_equal(atomic_load(&seen.covered), 10);
  }
}


int main(void) {
  tu_watchdog(110);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pack),
      cmocka_unit_test(test_list_items),
      cmocka_unit_test(test_portable_batches),
      cmocka_unit_test(test_local_batch_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
