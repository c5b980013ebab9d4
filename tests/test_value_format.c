/* test_value_format.c - the printed form of the values no other test
 * printed (issue 13): bytes ("<3 bytes>", whatever they hold), pointers
 * ("<ptr 0x...>", the address as printf's %p writes it, so two pointers
 * print differently), both inside lists, and the snprintf contract of
 * weft_value_format: the full length returned, the text cut to size - 1
 * and terminated, nothing written when size is 0. Expected texts are
 * written out or made with snprintf, never with weft itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after stdarg.h, stddef.h and setjmp.h */

#include "weft.h"

/* Formats v into a large buffer; checks the length returned. */
static void assert_format(const weft_value *v, const char *want) {
  char buf[256];
  memset(buf, '#', sizeof buf);
  size_t n = weft_value_format(v, buf, sizeof buf);
  assert_string_equal(buf, want);
  assert_int_equal(n, strlen(want));
}

static void test_bytes(void **state) {
  (void)state;
  weft_value b;
  assert_int_equal(weft_bytes_new(&b, "", 0), 0);
  assert_format(&b, "<0 bytes>");
  weft_value_release(&b);
  assert_int_equal(weft_bytes_new(&b, "a\0b", 3), 0); /* a NUL inside */
  assert_format(&b, "<3 bytes>");
  weft_value_release(&b);
  enum { BIG = 1 << 20 };
  char *big = calloc(BIG, 1);
  assert_non_null(big);
  assert_int_equal(weft_bytes_new(&b, big, BIG), 0);
  assert_format(&b, "<1048576 bytes>");
  weft_value_release(&b);
  free(big);
}

static int freed;
static void count_free(void *p) {
  (void)p;
  freed++;
}

static void test_pointers(void **state) {
  (void)state;
  int x = 0, y = 0;
  weft_value px, py;
  assert_int_equal(weft_ptr_new(&px, &x, count_free), 0);
  assert_int_equal(weft_ptr_new(&py, &y, NULL), 0);
  char want[64];
  snprintf(want, sizeof want, "<ptr %p>", (void *)&x);
  assert_format(&px, want);
  snprintf(want, sizeof want, "<ptr %p>", (void *)&y);
  assert_format(&py, want);
  char a[64], b[64];
  weft_value_format(&px, a, sizeof a);
  weft_value_format(&py, b, sizeof b);
  assert_string_not_equal(a, b);
  weft_value_release(&py);

  /* inside a list, beside bytes */
  weft_value l, bytes;
  assert_int_equal(weft_bytes_new(&bytes, "xyz", 3), 0);
  assert_int_equal(weft_list_new(&l, 3), 0);
  assert_int_equal(weft_list_set(&l, 0, bytes), 0);
  assert_int_equal(weft_list_set(&l, 1, px), 0);
  assert_int_equal(weft_list_set(&l, 2, weft_int(7)), 0);
  snprintf(want, sizeof want, "[<3 bytes>, <ptr %p>, 7]", (void *)&x);
  assert_format(&l, want);
  weft_value_release(&l); /* the list owned bytes and px */
  assert_int_equal(freed, 1);
}

/* The snprintf contract, at every size. */
static void test_truncation(void **state) {
  (void)state;
  weft_value l, bytes;
  assert_int_equal(weft_bytes_new(&bytes, "xyz", 3), 0);
  assert_int_equal(weft_list_new(&l, 2), 0);
  assert_int_equal(weft_list_set(&l, 0, bytes), 0);
  assert_int_equal(weft_list_set(&l, 1, weft_int(-42)), 0);
  const char *full = "[<3 bytes>, -42]";
  size_t len = strlen(full);
  for (size_t size = 0; size <= len + 2; size++) {
    char buf[64];
    memset(buf, '#', sizeof buf);
    assert_int_equal(weft_value_format(&l, buf, size), len);
    if (size == 0) {
      assert_int_equal(buf[0], '#'); /* nothing written */
      continue;
    }
    size_t keep = size - 1 < len ? size - 1 : len;
    assert_int_equal(strlen(buf), keep);
    assert_memory_equal(buf, full, keep);
    for (size_t j = size; j < sizeof buf; j++)
      if (buf[j] != '#')
        fail_msg("size %zu: byte %zu written", size, j);
  }
  weft_value_release(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bytes),
      cmocka_unit_test(test_pointers),
      cmocka_unit_test(test_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
