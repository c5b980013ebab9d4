/* test_arith_python.c - weft's built-in arithmetic against CPython itself
 * (issue 12.4-6). The table is not written here: python3 generates it when
 * the test runs, so the rules cannot drift. Every operator (+ - * / // %
 * ** and unary -) on every pair of operands from a set of ints (small, near
 * 2^31, 2^53, 2^62 and the int64 limits), floats (signed zeros, halves,
 * tenths, huge, tiny, subnormal, inf, nan) and bools, each computed by weft
 * alone on the sync scheduler and compared with Python's answer:
 *   - a Python int must come back as the same int, a Python float as the
 *     same double to the last bit (sign of zero included; any NaN for nan);
 *   - a Python exception, a complex result, or an int outside int64 must
 *     fail the task (weft refuses to wrap or to give a complex number);
 *     an OverflowError's own message must appear in weft's.
 * All of it runs, not a sample; every difference is printed. */
#include <math.h>

#include "testutil.h"

/* Writes one line per case: "<op> <a> <b> <result>", operands and results
 * as i:<decimal>, f:<float.hex()>, b:<0|1>; results may also be E:<name>
 * (an exception; OverflowError adds :<its message>), E:complex, E:big (an
 * int outside int64). Unary minus has b = -. */
static const char *const generator =
    "import math, operator as o, resource\n"
    "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
    "ints = [0, 1, -1, 2, -2, 3, -3, 7, -7, 10, 255, 2**31, -2**31,\n"
    "        2**53 - 1, 2**53, 2**53 + 1, -(2**53 + 1), 2**62, -2**62,\n"
    "        2**63 - 1, -2**63, 10**18, 123456789012345678, 3**39, 1000003]\n"
    "floats = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.0, -2.0, 3.0,\n"
    "          0.1, -0.1, 2.5, -2.5, 7.25, 1/3, 63.0, 1024.0, -1024.0,\n"
    "          1e16, -1e16, 1e300, -1e300, 1e-300, 5e-324, -5e-324,\n"
    "          1.7976931348623157e308, 2.0**53, 2.0**63, -2.0**63, 9.5,\n"
    "          math.inf, -math.inf, math.nan]\n"
    "vals = [('i', x) for x in ints] + [('f', x) for x in floats] + \\\n"
    "       [('b', False), ('b', True)]\n"
    "def enc(t, x):\n"
    "    return 'f:' + x.hex() if t == 'f' else '%s:%d' % (t, x)\n"
    "def ipow(a, b):\n"
    "    # an int power far outside int64: known without computing it\n"
    "    if type(a) is not float and type(b) is not float and b > 0 and \\\n"
    "       abs(a) > 1 and b * math.log2(abs(a)) > 70:\n"
    "        return None\n"
    "    return o.pow(a, b)\n"
    "def res(f, *a):\n"
    "    try:\n"
    "        r = f(*a)\n"
    "        if r is None:\n"
    "            return 'E:big'\n"
    "    except OverflowError as e:\n"
    "        return 'E:OverflowError:' + str(e)\n"
    "    except Exception as e:\n"
    "        return 'E:' + type(e).__name__\n"
    "    if isinstance(r, complex):\n"
    "        return 'E:complex'\n"
    "    if isinstance(r, float):\n"
    "        return 'f:' + r.hex()\n"
    "    if not -2**63 <= r < 2**63:\n"
    "        return 'E:big'\n"
    "    return 'i:%d' % r\n"
    "ops = [('+', o.add), ('-', o.sub), ('*', o.mul), ('/', o.truediv),\n"
    "       ('//', o.floordiv), ('%', o.mod), ('**', ipow)]\n"
    "out = []\n"
    "for ta, a in vals:\n"
    "    out.append('neg %s - %s' % (enc(ta, a), res(o.neg, a)))\n"
    "    for tb, b in vals:\n"
    "        for name, f in ops:\n"
    "            out.append('%s %s %s %s' % (name, enc(ta, a), enc(tb, b),\n"
    "                                        res(f, a, b)))\n"
    "print('\\n'.join(out))\n";

static weft_value operand(const char *s) {
  if (s[0] == 'f')
    return weft_double(strtod(s + 2, NULL));
  if (s[0] == 'b')
    return weft_bool(s[2] == '1');
  return weft_int(strtoll(s + 2, NULL, 10));
}

static bool op_of(const char *s, weft_op *op) {
  static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**"};
  static const weft_op ops[] = {WEFT_OP_ADD, WEFT_OP_SUB,      WEFT_OP_MUL,
                                WEFT_OP_DIV, WEFT_OP_FLOORDIV, WEFT_OP_MOD,
                                WEFT_OP_POW};
  for (size_t k = 0; k < 7; k++)
    if (strcmp(s, names[k]) == 0) {
      *op = ops[k];
      return true;
    }
  if (strcmp(s, "neg") == 0) {
    *op = WEFT_OP_NEG;
    return true;
  }
  return false;
}

static void test_operators_match_cpython(void **state) {
  (void)state;
  char path[] = "/tmp/weft-arith-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs(generator, f);
  fclose(f);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "python3 %s", path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_SYNC;
  o.ignore_env = 1;
  char line[512];
  long cases = 0, bad = 0, failures = 0;
  while (fgets(line, sizeof line, p)) {
    line[strcspn(line, "\n")] = '\0';
    char opname[8], sa[64], sb[64], want[256];
    weft_op op = WEFT_OP_ADD;
    if (sscanf(line, "%7s %63s %63s %255[^\n]", opname, sa, sb, want) != 4 ||
        !op_of(opname, &op))
      fail_msg("unreadable line from python3: '%s'", line);
    cases++;
    weft_graph *g = weft_graph_new();
    weft_node *nd = op == WEFT_OP_NEG
                        ? weft__unop(g, op, operand(sa))
                        : weft__binop(g, op, operand(sa), operand(sb));
    assert_non_null(nd);
    weft_value v = weft_none();
    int rc = weft_compute1(g, nd, &v, &o);
    char got[128];
    if (rc)
      snprintf(got, sizeof got, "failure (%s)", weft_graph_error(g));
    else
      weft_value_format(&v, got, sizeof got);
    bool ok;
    if (want[0] == 'E') {
      failures++;
      ok = rc == WEFT_ETASK;
      /* a float overflow: "OverflowError: (34, 'Numerical result ...')"
       * (a complex one, "complex exponentiation", is any failure) */
      const char *m = strstr(want, "OverflowError:(");
      if (ok && m)
        ok = strstr(weft_graph_error(g), "OverflowError: ") &&
             strstr(weft_graph_error(g), m + strlen("OverflowError:"));
    } else if (rc) {
      ok = false;
    } else if (want[0] == 'i') {
      ok = v.type == WEFT_T_INT && v.as.i == strtoll(want + 2, NULL, 10);
    } else {
      double d = strtod(want + 2, NULL);
      ok = v.type == WEFT_T_DOUBLE &&
           (isnan(d) ? isnan(v.as.d) : memcmp(&d, &v.as.d, sizeof d) == 0);
    }
    if (!ok) {
      bad++;
      print_error("%s %s %s: Python %s, weft %s\n", opname, sa, sb, want, got);
    }
    weft_graph_free(g);
  }
  int st = pclose(p);
  unlink(path);
  assert_int_equal(st, 0);
  print_message("%ld operations compared with CPython (%ld raise), %ld "
                "differ\n",
                cases, failures, bad);
  assert_true(cases > 25000); /* the whole table came through */
  assert_int_equal(bad, 0);
}

int main(void) {
  tu_watchdog(120);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_operators_match_cpython),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
