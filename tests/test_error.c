/* test_error.c - the error codes of weft/error.h: every code of the table
 * has its documented value, its name and its message; unknown codes have
 * fallbacks; codes are negative and distinct; and the library's version
 * matches the header it was built with. */
#include "testutil.h"

static void test_codes(void **state) {
  (void)state;
  const struct {
    int code, value;
    const char *name, *message;
  } table[] = {
      {WEFT_EINVAL, -1, "WEFT_EINVAL", "invalid argument"},
      {WEFT_ENOMEM, -2, "WEFT_ENOMEM", "out of memory"},
      {WEFT_ETASK, -3, "WEFT_ETASK", "a task failed"},
      {WEFT_ECYCLE, -4, "WEFT_ECYCLE", "the graph has a cycle"},
      {WEFT_ENOTFOUND, -5, "WEFT_ENOTFOUND", "not found"},
      {WEFT_EARITY, -6, "WEFT_EARITY", "wrong number of arguments"},
      {WEFT_ETYPE, -7, "WEFT_ETYPE", "wrong value type"},
      {WEFT_EGRAPH, -8, "WEFT_EGRAPH", "node of another graph"},
      {WEFT_ENOTSUP, -9, "WEFT_ENOTSUP",
       "not supported (by this build, or for this value)"},
      {WEFT_EIO, -10, "WEFT_EIO", "input/output error"},
      {WEFT_ESYS, -11, "WEFT_ESYS", "system call failed"},
      {WEFT_EKILLED, -12, "WEFT_EKILLED", "a worker died"},
      {WEFT_ECANCELED, -13, "WEFT_ECANCELED", "cancelled"},
      {WEFT_EEXIST, -14, "WEFT_EEXIST", "already exists"},
      {WEFT_EWIRE, -15, "WEFT_EWIRE", "malformed serialised data"},
      {WEFT_EBUSY, -16, "WEFT_EBUSY", "busy"},
      {WEFT_ETIMEDOUT, -17, "WEFT_ETIMEDOUT", "timed out"},
  };
  for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
    assert_int_equal(table[k].code, table[k].value);
    assert_string_equal(weft_err_name(table[k].code), table[k].name);
    assert_string_equal(weft_strerror(table[k].code), table[k].message);
  }
  /* every code of the X-macro table is distinct and named */
  int seen = 0;
#define CHECK(name, code, msg)                                                 \
  do {                                                                         \
    assert_true((code) < 0);                                                   \
    assert_string_equal(weft_err_name(code), "WEFT_" #name);                   \
    assert_string_equal(weft_strerror(code), msg);                             \
    seen++;                                                                    \
  } while (0);
  WEFT_ERRNO_MAP(CHECK)
#undef CHECK
  assert_int_equal(seen, sizeof table / sizeof table[0]);
  assert_int_equal(WEFT_OK, 0);
  assert_string_equal(weft_err_name(0), "WEFT_OK");
  assert_string_equal(weft_strerror(0), "success");
  /* unknown codes */
  const int unknown[] = {-18, -1000, 1, 42, -2147483647 - 1};
  for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
    assert_non_null(weft_err_name(unknown[k]));
    assert_string_equal(weft_strerror(unknown[k]), "unknown error");
  }
}

static void test_version(void **state) {
  (void)state;
  assert_string_equal(weft_version(), WEFT_VERSION_STRING);
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR,
           WEFT_VERSION_PATCH);
  assert_string_equal(v, WEFT_VERSION_STRING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codes),
      cmocka_unit_test(test_version),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
