/* test_header_claims.c - the public headers say what the code does (issue
 * 12.9). The headers are read as text, and what they state is checked
 * against the library:
 *   - no header says a feature is missing ("not yet", "not implemented",
 *     "TODO"...): either it works or the header states the limit;
 *   - every value tag that wire.h lists round-trips through the wire
 *     format with a value of that type (a tag the test does not know fails
 *     it: a new tag needs a sample here), and every value type value.h
 *     lists encodes, but ptr, which wire.h names as the one that cannot;
 *   - the nesting limit wire.h states is where encoding stops.
 * WEFT_SOURCE_DIR (set by CTest) locates the headers. */
#include <dirent.h>

#include "testutil.h"

/* The whole of include/weft/<name>, NUL-terminated (free it). */
static char *header(const char *name) {
  const char *src = getenv("WEFT_SOURCE_DIR");
  assert_non_null(src);
  char path[1024];
  snprintf(path, sizeof path, "%s/include/weft/%s", src, name);
  FILE *f = fopen(path, "r");
  if (!f)
    fail_msg("cannot read %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)n + 1);
  assert_non_null(text);
  assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
  text[n] = '\0';
  fclose(f);
  return text;
}

/* "not yet" followed by "started" (across a comment's line break). */
static bool about_tasks(const char *hit) {
  if (strncmp(hit, "not yet", 7) != 0)
    return false;
  const char *p = hit + 7;
  while (*p == ' ' || *p == '\n' || *p == '*')
    p++;
  return strncmp(p, "started", 7) == 0;
}

static void test_no_missing_features(void **state) {
  (void)state;
  const char *src = getenv("WEFT_SOURCE_DIR");
  assert_non_null(src);
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/include/weft", src);
  DIR *d = opendir(dir);
  assert_non_null(d);
  static const char *const words[] = {
      "not yet", "not implemented", "unimplemented", "TODO", "FIXME", "XXX"};
  int bad = 0, headers = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 3 || strcmp(e->d_name + len - 2, ".h") != 0)
      continue;
    headers++;
    char *text = header(e->d_name);
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
      const char *hit = strstr(text, words[k]);
      /* "tasks not yet started" is about tasks, not about weft */
      while (hit && about_tasks(hit))
        hit = strstr(hit + 1, words[k]);
      if (hit) {
        print_error("include/weft/%s says \"%.60s\"\n", e->d_name, hit);
        bad++;
      }
    }
    free(text);
  }
  closedir(d);
  assert_true(headers >= 10);
  assert_int_equal(bad, 0);
}

/* A sample value for a wire tag name ("CHUNK"), or false. */
static bool sample(const char *tag, weft_value *v) {
  if (!strcmp(tag, "NONE"))
    *v = weft_none();
  else if (!strcmp(tag, "BOOL"))
    *v = weft_bool(true);
  else if (!strcmp(tag, "INT"))
    *v = weft_int(-42);
  else if (!strcmp(tag, "DOUBLE"))
    *v = weft_double(-0.0);
  else if (!strcmp(tag, "STR"))
    assert_ok(weft_str_new(v, "text"), NULL);
  else if (!strcmp(tag, "BYTES"))
    assert_ok(weft_bytes_new(v, "\0\1\2", 3), NULL);
  else if (!strcmp(tag, "LIST")) {
    assert_ok(weft_list_new(v, 2), NULL);
    assert_ok(weft_list_set(v, 1, weft_int(7)), NULL);
  } else if (!strcmp(tag, "CHUNK")) {
    int64_t shape[2] = {2, 3};
    double *d;
    assert_ok(weft_chunk_new(v, WEFT_F64, 2, shape, (void **)&d), NULL);
    for (int k = 0; k < 6; k++)
      d[k] = k * 0.5;
  } else if (!strcmp(tag, "DICT")) {
    assert_ok(weft_dict_new(v, 0), NULL);
    assert_ok(weft_dict_set(v, "a", weft_int(1)), NULL);
  } else
    return false;
  return true;
}

static void test_wire_tags_round_trip(void **state) {
  (void)state;
  char *text = header("wire.h");
  int tags = 0;
  for (const char *p = text; (p = strstr(p, "WEFT_WIRE_TAG_")); p++) {
    char name[32];
    if (sscanf(p, "WEFT_WIRE_TAG_%31[A-Z] =", name) != 1 || !strstr(p, " = 0x"))
      continue;
    const char *eq = p + strlen("WEFT_WIRE_TAG_") + strlen(name);
    if (strncmp(eq, " = 0x", 5) != 0)
      continue;
    unsigned tag = (unsigned)strtoul(eq + 3, NULL, 16);
    weft_value v;
    if (!sample(name, &v))
      fail_msg("wire.h lists WEFT_WIRE_TAG_%s: give it a sample here", name);
    weft_buf b = WEFT_BUF_INIT;
    weft_wire_error err = {0};
    int rc = weft_wire_encode(&v, &b, &err);
    if (rc)
      fail_msg("tag %s: encode gives %s (%s)", name, weft_err_name(rc),
               err.text);
    assert_int_equal(b.data[0], tag);
    weft_value back;
    rc = weft_wire_decode(b.data, b.len, NULL, &back, &err);
    if (rc)
      fail_msg("tag %s: decode gives %s (%s)", name, weft_err_name(rc),
               err.text);
    assert_true(weft_value_equal(&v, &back));
    weft_value_release(&back);
    weft_value_release(&v);
    weft_buf_free(&b);
    tags++;
  }
  free(text);
  assert_int_equal(tags, 9);

  /* Every value type but ptr encodes (value.h's enum, by name). */
  text = header("value.h");
  for (const char *p = text; (p = strstr(p, "  WEFT_T_")); p++) {
    char name[32];
    if (sscanf(p, "  WEFT_T_%31[A-Z_]", name) != 1 || name[0] == '_')
      continue;
    weft_value v;
    if (!strcmp(name, "PTR")) {
      static int x;
      assert_ok(weft_ptr_new(&v, &x, NULL), NULL);
      weft_buf b = WEFT_BUF_INIT;
      assert_rc(WEFT_ENOTSUP, weft_wire_encode(&v, &b, NULL), NULL);
      weft_value_release(&v);
      continue;
    }
    if (!sample(name, &v))
      fail_msg("value.h lists WEFT_T_%s, which wire.h has no tag for", name);
    weft_value_release(&v);
  }
  free(text);
}

/* wire.h: "Lists and dicts may nest this many levels". */
static void test_wire_depth_as_stated(void **state) {
  (void)state;
  char *text = header("wire.h");
  const char *p = strstr(text, "#define WEFT_WIRE_MAX_DEPTH ");
  assert_non_null(p);
  int depth = atoi(p + strlen("#define WEFT_WIRE_MAX_DEPTH "));
  free(text);
  assert_int_equal(depth, WEFT_WIRE_MAX_DEPTH);
  for (int levels = depth; levels <= depth + 1; levels++) {
    weft_value v = weft_int(1);
    for (int k = 0; k < levels; k++) {
      weft_value l;
      assert_ok(weft_list_new(&l, 1), NULL);
      assert_ok(weft_list_set(&l, 0, v), NULL);
      v = l;
    }
    weft_buf b = WEFT_BUF_INIT;
    assert_rc(levels <= depth ? 0 : WEFT_ENOTSUP,
              weft_wire_encode(&v, &b, NULL), NULL);
    weft_buf_free(&b);
    weft_value_release(&v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_missing_features),
      cmocka_unit_test(test_wire_tags_round_trip),
      cmocka_unit_test(test_wire_depth_as_stated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
