/* builtins.c - the task functions weft itself provides: arithmetic with
 * Python's rules (so `weft eval` and the delayed examples compute what the
 * course's Python computes), sum, list, and identity (behind weft_literal
 * and weft_ref). Registered under "weft.<name>" so other processes find them.
 *
 * "Python's rules" means CPython's results bit for bit on int, float and
 * bool operands (tests/test_arith_python.c compares every operator with
 * python3 itself), except where Python leaves int64 or the reals: an int
 * result outside int64 and a complex power fail the task instead. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "graph_impl.h"
#include "weft/error.h"

static int identity(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  (void)ctx;
  (void)n;
  *out = weft_value_retain(&a[0]);
  return 0;
}
weft_fn_info weft__fn_identity = {"weft.identity", identity, 1, __FILE__, NULL};
__attribute__((constructor)) static void register_identity(void) {
  weft_fn_register(&weft__fn_identity);
}

static const char *const op_symbols[WEFT_OP__COUNT] = {
    "+", "-", "*", "/", "//", "%", "**", "neg"};

const char *weft_op_symbol(weft_op op) {
  return (unsigned)op < WEFT_OP__COUNT ? op_symbols[op] : "?";
}

/* A number as int (is_int) or double; bools count as ints, as in Python. */
static int number(const weft_value *v, bool *is_int, int64_t *i, double *d) {
  switch (v->type) {
  case WEFT_T_BOOL:
  case WEFT_T_INT:
    *is_int = true;
    *i = v->type == WEFT_T_BOOL ? v->as.b : v->as.i;
    *d = (double)*i;
    return 0;
  case WEFT_T_DOUBLE:
    *is_int = false;
    *d = v->as.d;
    return 0;
  }
  return WEFT_ETYPE;
}

static int int_pow(weft_task_ctx *ctx, int64_t b, int64_t e, int64_t *out) {
  int64_t r = 1, b0 = b, e0 = e;
  while (e > 0) {
    if (((e & 1) && __builtin_mul_overflow(r, b, &r)) ||
        ((e >> 1) && __builtin_mul_overflow(b, b, &b)))
      return weft_fail(ctx, "integer overflow in %lld ** %lld", (long long)b0,
                       (long long)e0);
    e >>= 1;
  }
  *out = r;
  return 0;
}

/* int / int as Python computes it: the exact quotient rounded once to the
 * nearest double (ties to even). Below 2^53 both convert exactly and one
 * IEEE division rounds once; beyond, the quotient is formed in 128-bit
 * integers with at least 55 bits, the remainder kept as a sticky bit, and
 * rounded by the one conversion to double (then scaled exactly). */
static double int_true_div(int64_t x, int64_t y) {
  const uint64_t exact = 1ull << 53;
  uint64_t a = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
  uint64_t b = y < 0 ? 0 - (uint64_t)y : (uint64_t)y;
  if (a <= exact && b <= exact)
    return (double)x / (double)y;
  bool neg = (x < 0) != (y < 0);
  if (a == 0)
    return neg ? -0.0 : 0.0;
  int la = 64 - __builtin_clzll(a), lb = 64 - __builtin_clzll(b);
  int shift = 55 + lb - la;
  if (shift < 0)
    shift = 0;
  unsigned __int128 n = (unsigned __int128)a << shift;
  unsigned __int128 q = n / b, r = n % b;
  /* q < 2^57: the low bit sits below the rounding bit, a sticky bit */
  uint64_t q64 = (uint64_t)q | (r != 0);
  double d = ldexp((double)q64, -shift);
  return neg ? -d : d;
}

/* float ** float exactly as CPython's float_pow: its special cases first
 * (not the C library's), then pow(); an overflow is Python's
 * OverflowError, a negative base with a fractional exponent (a complex
 * number in Python) an error. */
static int float_pow(weft_task_ctx *ctx, double v, double w, double *out) {
  bool w_odd = isfinite(w) && fmod(fabs(w), 2.0) == 1.0;
  if (w == 0) {
    *out = 1.0;
    return 0;
  }
  if (isnan(v)) {
    *out = v;
    return 0;
  }
  if (isnan(w)) {
    *out = v == 1.0 ? 1.0 : w;
    return 0;
  }
  if (isinf(w)) {
    double av = fabs(v);
    *out = av == 1.0 ? 1.0 : (w > 0) == (av > 1.0) ? fabs(w) : 0.0;
    return 0;
  }
  if (isinf(v)) {
    if (w > 0)
      *out = w_odd ? v : fabs(v);
    else
      *out = w_odd ? copysign(0.0, v) : 0.0;
    return 0;
  }
  if (v == 0.0) {
    if (w < 0)
      return weft_fail(ctx, "0.0 cannot be raised to a negative power");
    *out = w_odd ? v : 0.0;
    return 0;
  }
  bool negate = false;
  if (v < 0) {
    if (w != floor(w))
      return weft_fail(ctx, "negative number raised to a fractional power "
                            "(Python gives a complex number)");
    v = -v;
    negate = w_odd;
  }
  if (v == 1.0) {
    *out = negate ? -1.0 : 1.0;
    return 0;
  }
  double r = pow(v, w);
  if (isinf(r))
    return weft_fail(ctx, "OverflowError: (34, 'Numerical result out of "
                          "range')");
  *out = negate ? -r : r;
  return 0;
}

static int arith(weft_task_ctx *ctx, weft_op op, const weft_value *a,
                 const weft_value *b, weft_value *out) {
  bool ia, ib;
  int64_t x = 0, y = 0, r = 0;
  double dx, dy;
  if (number(a, &ia, &x, &dx) || number(b, &ib, &y, &dy))
    return weft_fail(ctx, "unsupported operand types for %s: '%s' and '%s'",
                     op_symbols[op], weft_type_name(a->type),
                     weft_type_name(b->type));
  bool both_int = ia && ib;
  switch (op) {
  case WEFT_OP_ADD:
  case WEFT_OP_SUB:
  case WEFT_OP_MUL:
    if (both_int) {
      bool ovf = op == WEFT_OP_ADD   ? __builtin_add_overflow(x, y, &r)
                 : op == WEFT_OP_SUB ? __builtin_sub_overflow(x, y, &r)
                                     : __builtin_mul_overflow(x, y, &r);
      if (ovf)
        return weft_fail(ctx, "integer overflow in %lld %s %lld",
                         (long long)x, op_symbols[op], (long long)y);
      *out = weft_int(r);
    } else {
      *out = weft_double(op == WEFT_OP_ADD   ? dx + dy
                         : op == WEFT_OP_SUB ? dx - dy
                                             : dx * dy);
    }
    return 0;
  case WEFT_OP_DIV:
    if (dy == 0.0)
      return weft_fail(ctx, "division by zero");
    *out = weft_double(both_int ? int_true_div(x, y) : dx / dy);
    return 0;
  case WEFT_OP_FLOORDIV:
  case WEFT_OP_MOD:
    if (both_int) {
      if (y == 0)
        return weft_fail(ctx, "integer division or modulo by zero");
      if (y == -1) { /* INT64_MIN / -1 overflows in C */
        if (op == WEFT_OP_MOD) {
          *out = weft_int(0);
          return 0;
        }
        if (x == INT64_MIN)
          return weft_fail(ctx, "integer overflow in %lld // -1",
                           (long long)x);
        *out = weft_int(-x);
        return 0;
      }
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      *out = weft_int(op == WEFT_OP_FLOORDIV ? q : m);
      return 0;
    }
    if (dy == 0.0)
      return weft_fail(ctx, "float division or modulo by zero");
    { /* CPython's float divmod: floor of the exact quotient, from fmod, so
       * 1.0 // 0.1 is 9.0 (1.0 % 0.1 is 0.09999999999999995), not 10.0 */
      double m = fmod(dx, dy);
      double q = (dx - m) / dy;
      if (m != 0) {
        if ((dy < 0) != (m < 0)) {
          m += dy;
          q -= 1.0;
        }
      } else {
        m = copysign(0.0, dy);
      }
      double f;
      if (q != 0) {
        f = floor(q);
        if (q - f > 0.5)
          f += 1.0;
      } else {
        f = copysign(0.0, dx / dy);
      }
      *out = weft_double(op == WEFT_OP_FLOORDIV ? f : m);
    }
    return 0;
  case WEFT_OP_POW:
    if (both_int && y >= 0) {
      if (int_pow(ctx, x, y, &r))
        return WEFT_ETASK;
      *out = weft_int(r);
      return 0;
    }
    {
      double p = 0;
      if (float_pow(ctx, dx, dy, &p))
        return WEFT_ETASK;
      *out = weft_double(p);
    }
    return 0;
  default:
    return weft_fail(ctx, "unknown operator %d", (int)op);
  }
}

#define BINOP(name, OP)                                                        \
  static int op_##name(weft_task_ctx *ctx, const weft_value *a, size_t n,     \
                       weft_value *out) {                                      \
    (void)n;                                                                   \
    return arith(ctx, OP, &a[0], &a[1], out);                                  \
  }
BINOP(add, WEFT_OP_ADD)
BINOP(sub, WEFT_OP_SUB)
BINOP(mul, WEFT_OP_MUL)
BINOP(div, WEFT_OP_DIV)
BINOP(floordiv, WEFT_OP_FLOORDIV)
BINOP(mod, WEFT_OP_MOD)
BINOP(pow, WEFT_OP_POW)

static int op_neg(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)n;
  bool is_int;
  int64_t i;
  double d;
  if (number(&a[0], &is_int, &i, &d))
    return weft_fail(ctx, "bad operand type for unary -: '%s'",
                     weft_type_name(a[0].type));
  if (is_int) {
    if (i == INT64_MIN)
      return weft_fail(ctx, "integer overflow in -(%lld)", (long long)i);
    *out = weft_int(-i);
  } else {
    *out = weft_double(-d);
  }
  return 0;
}

static int op_sum(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  int64_t isum = 0;
  double dsum = 0;
  bool all_int = true;
  for (size_t k = 0; k < n; k++) {
    bool is_int;
    int64_t i;
    double d;
    if (number(&a[k], &is_int, &i, &d))
      return weft_fail(ctx, "sum: item %zu is a %s, not a number", k + 1,
                       weft_type_name(a[k].type));
    if (all_int && is_int && !__builtin_add_overflow(isum, i, &isum))
      continue;
    if (all_int) {
      if (is_int) /* overflowed: Python would grow; we refuse to wrap */
        return weft_fail(ctx, "integer overflow in sum");
      all_int = false;
      dsum = (double)isum;
    }
    dsum += d;
  }
  *out = all_int ? weft_int(isum) : weft_double(dsum);
  return 0;
}

static int op_list(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  if (weft_list_new(out, n))
    return weft_fail(ctx, "out of memory building a list of %zu items", n);
  for (size_t k = 0; k < n; k++)
    weft_list_set(out, k, weft_value_retain(&a[k]));
  return 0;
}

static weft_fn_info op_infos[WEFT_OP__COUNT] = {
    {"weft.add", op_add, 2, __FILE__, NULL},
    {"weft.sub", op_sub, 2, __FILE__, NULL},
    {"weft.mul", op_mul, 2, __FILE__, NULL},
    {"weft.div", op_div, 2, __FILE__, NULL},
    {"weft.floordiv", op_floordiv, 2, __FILE__, NULL},
    {"weft.mod", op_mod, 2, __FILE__, NULL},
    {"weft.pow", op_pow, 2, __FILE__, NULL},
    {"weft.neg", op_neg, 1, __FILE__, NULL},
};
static weft_fn_info sum_info = {"weft.sum", op_sum, -1, __FILE__, NULL};
static weft_fn_info list_info = {"weft.list", op_list, -1, __FILE__, NULL};

__attribute__((constructor)) static void register_builtins(void) {
  for (int i = 0; i < WEFT_OP__COUNT; i++)
    weft_fn_register(&op_infos[i]);
  weft_fn_register(&sum_info);
  weft_fn_register(&list_info);
}

const weft_fn_info *weft_op_fn(weft_op op) {
  return (unsigned)op < WEFT_OP__COUNT ? &op_infos[op] : NULL;
}

weft_node *weft__binop(weft_graph *g, weft_op op, weft_value a, weft_value b) {
  weft_value args[2] = {a, b};
  if ((unsigned)op >= WEFT_OP__COUNT || op == WEFT_OP_NEG)
    return weft_call_fn(g, NULL, 2, args);
  return weft_call_fn(g, &op_infos[op], 2, args);
}

weft_node *weft__unop(weft_graph *g, weft_op op, weft_value a) {
  if (op != WEFT_OP_NEG)
    return weft_call_fn(g, NULL, 1, &a);
  return weft_call_fn(g, &op_infos[op], 1, &a);
}

static weft_node *variadic(weft_graph *g, const weft_fn_info *fn, size_t n,
                           weft_node *const nodes[]) {
  if (!g)
    return NULL;
  if (n && !nodes)
    return weft_call_fn(g, fn, 1, NULL); /* reports the NULL array */
  weft_value small[16];
  weft_value *args = n <= 16 ? small : malloc(n * sizeof *args);
  if (!args)
    return weft__graph_fail(g, WEFT_ENOMEM, "out of memory building %s of %zu",
                            fn->name, n);
  for (size_t i = 0; i < n; i++)
    args[i] = weft_node_ref(nodes[i]);
  weft_node *r = weft_call_fn(g, fn, n, n ? args : NULL);
  if (args != small)
    free(args);
  return r;
}

weft_node *weft_sum(weft_graph *g, size_t n, weft_node *const nodes[]) {
  return variadic(g, &sum_info, n, nodes);
}

weft_node *weft_list(weft_graph *g, size_t n, weft_node *const nodes[]) {
  return variadic(g, &list_info, n, nodes);
}
