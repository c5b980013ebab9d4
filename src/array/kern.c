/* kern.c - the inner loops of array tasks (see kern.h): arithmetic,
 * functions, casts, loads and stores of one tile, and the reproducible
 * sums. Compiled with -O3 -fopenmp-simd -fno-math-errno (CMakeLists.txt);
 * Philox has an AVX-512 loop of its own (chosen at run time) because gcc
 * does not find its 32 x 32 -> 64-bit products;
 * the hot loops are cloned for AVX-512, AVX2 and baseline x86-64, and the
 * math functions call glibc's vector versions (libmvec) through their
 * `declare simd` declarations. Sums never let the compiler reassociate:
 * their 16 lanes are written out, so every ISA adds in the same order. */
#include "kern.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "array_impl.h"
#include "philox.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&      \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define KERN                                                                   \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERN
#endif

#ifdef WEFT_MVEC
/* glibc's libmvec has vector versions of these; math.h declares them so
 * only under -ffast-math, which would break NaN handling elsewhere. */
#pragma omp declare simd notinbranch
double cos(double);
#pragma omp declare simd notinbranch
double sin(double);
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
double log(double);
#endif

/* ---- binary operations ---- */

static inline double f_floordiv(double a, double b) {
  double mod = fmod(a, b);
  if (b == 0)
    return a / b;
  double div = (a - mod) / b;
  if (mod != 0) {
    if ((b < 0) != (mod < 0))
      div -= 1.0;
  }
  double fl;
  if (div != 0) {
    fl = floor(div);
    if (div - fl > 0.5)
      fl += 1.0;
  } else {
    fl = copysign(0.0, a / b);
  }
  return fl;
}
static inline double f_mod(double a, double b) {
  double mod = fmod(a, b);
  if (b == 0)
    return mod;
  if (mod != 0) {
    if ((b < 0) != (mod < 0))
      mod += b;
  } else {
    mod = copysign(0.0, b);
  }
  return mod;
}
static inline double f_max(double a, double b) {
  return (a >= b || a != a) ? a : b;
}
static inline double f_min(double a, double b) {
  return (a <= b || a != a) ? a : b;
}
static inline int64_t i_floordiv(int64_t a, int64_t b) {
  if (b == 0)
    return 0;
  if (a == INT64_MIN && b == -1)
    return INT64_MIN;
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
static inline int64_t i_mod(int64_t a, int64_t b) {
  if (b == 0 || (a == INT64_MIN && b == -1))
    return 0;
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline int64_t i_pow(int64_t b, int64_t e) {
  uint64_t r = 1, x = (uint64_t)b;
  while (e > 0) {
    if (e & 1)
      r *= x;
    x *= x;
    e >>= 1;
  }
  return (int64_t)r;
}
static inline int64_t wrap_add(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a + (uint64_t)b);
}
static inline int64_t wrap_sub(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a - (uint64_t)b);
}
static inline int64_t wrap_mul(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* A loop per (sa, sb) stride pair, so each vectorises. */
#define BIN_LOOP(TO, TI, EXPR)                                                 \
  do {                                                                         \
    TO *o = out;                                                               \
    const TI *pa = a, *pb = b;                                                 \
    if (sa && sb) {                                                            \
      for (size_t i = 0; i < n; i++) {                                         \
        TI x = pa[i], y = pb[i];                                               \
        o[i] = (EXPR);                                                         \
      }                                                                        \
    } else if (sa) {                                                           \
      TI y = pb[0];                                                            \
      for (size_t i = 0; i < n; i++) {                                         \
        TI x = pa[i];                                                          \
        o[i] = (EXPR);                                                         \
      }                                                                        \
    } else if (sb) {                                                           \
      TI x = pa[0];                                                            \
      for (size_t i = 0; i < n; i++) {                                         \
        TI y = pb[i];                                                          \
        o[i] = (EXPR);                                                         \
      }                                                                        \
    } else {                                                                   \
      TI x = pa[0], y = pb[0];                                                 \
      for (size_t i = 0; i < n; i++)                                           \
        o[i] = (EXPR);                                                         \
    }                                                                          \
  } while (0)

KERN static void bin_f64(int op, void *out, const void *a, size_t sa,
                         const void *b, size_t sb, size_t n) {
  switch (op) {
  case WEFT_AOP_ADD: BIN_LOOP(double, double, x + y); break;
  case WEFT_AOP_SUB: BIN_LOOP(double, double, x - y); break;
  case WEFT_AOP_MUL: BIN_LOOP(double, double, x * y); break;
  case WEFT_AOP_DIV: BIN_LOOP(double, double, x / y); break;
  case WEFT_AOP_FLOORDIV: BIN_LOOP(double, double, f_floordiv(x, y)); break;
  case WEFT_AOP_MOD: BIN_LOOP(double, double, f_mod(x, y)); break;
  case WEFT_AOP_POW: BIN_LOOP(double, double, pow(x, y)); break;
  case WEFT_AOP_MAXIMUM: BIN_LOOP(double, double, f_max(x, y)); break;
  case WEFT_AOP_MINIMUM: BIN_LOOP(double, double, f_min(x, y)); break;
  case WEFT_AOP_ATAN2: BIN_LOOP(double, double, atan2(x, y)); break;
  case WEFT_AOP_EQ: BIN_LOOP(uint8_t, double, x == y); break;
  case WEFT_AOP_NE: BIN_LOOP(uint8_t, double, x != y); break;
  case WEFT_AOP_LT: BIN_LOOP(uint8_t, double, x < y); break;
  case WEFT_AOP_LE: BIN_LOOP(uint8_t, double, x <= y); break;
  case WEFT_AOP_GT: BIN_LOOP(uint8_t, double, x > y); break;
  case WEFT_AOP_GE: BIN_LOOP(uint8_t, double, x >= y); break;
  }
}

KERN static void bin_i64(int op, void *out, const void *a, size_t sa,
                         const void *b, size_t sb, size_t n) {
  switch (op) {
  case WEFT_AOP_ADD: BIN_LOOP(int64_t, int64_t, wrap_add(x, y)); break;
  case WEFT_AOP_SUB: BIN_LOOP(int64_t, int64_t, wrap_sub(x, y)); break;
  case WEFT_AOP_MUL: BIN_LOOP(int64_t, int64_t, wrap_mul(x, y)); break;
  case WEFT_AOP_FLOORDIV: BIN_LOOP(int64_t, int64_t, i_floordiv(x, y)); break;
  case WEFT_AOP_MOD: BIN_LOOP(int64_t, int64_t, i_mod(x, y)); break;
  case WEFT_AOP_POW: BIN_LOOP(int64_t, int64_t, i_pow(x, y)); break;
  case WEFT_AOP_MAXIMUM: BIN_LOOP(int64_t, int64_t, x > y ? x : y); break;
  case WEFT_AOP_MINIMUM: BIN_LOOP(int64_t, int64_t, x < y ? x : y); break;
  case WEFT_AOP_EQ: BIN_LOOP(uint8_t, int64_t, x == y); break;
  case WEFT_AOP_NE: BIN_LOOP(uint8_t, int64_t, x != y); break;
  case WEFT_AOP_LT: BIN_LOOP(uint8_t, int64_t, x < y); break;
  case WEFT_AOP_LE: BIN_LOOP(uint8_t, int64_t, x <= y); break;
  case WEFT_AOP_GT: BIN_LOOP(uint8_t, int64_t, x > y); break;
  case WEFT_AOP_GE: BIN_LOOP(uint8_t, int64_t, x >= y); break;
  }
}

static void bin_bool(int op, void *out, const void *a, size_t sa,
                     const void *b, size_t sb, size_t n) {
  switch (op) {
  case WEFT_AOP_ADD:
  case WEFT_AOP_OR:
  case WEFT_AOP_MAXIMUM: BIN_LOOP(uint8_t, uint8_t, x | y); break;
  case WEFT_AOP_MUL:
  case WEFT_AOP_AND:
  case WEFT_AOP_MINIMUM: BIN_LOOP(uint8_t, uint8_t, x & y); break;
  case WEFT_AOP_XOR:
  case WEFT_AOP_NE: BIN_LOOP(uint8_t, uint8_t, x ^ y); break;
  case WEFT_AOP_EQ: BIN_LOOP(uint8_t, uint8_t, x == y); break;
  case WEFT_AOP_LT: BIN_LOOP(uint8_t, uint8_t, x < y); break;
  case WEFT_AOP_LE: BIN_LOOP(uint8_t, uint8_t, x <= y); break;
  case WEFT_AOP_GT: BIN_LOOP(uint8_t, uint8_t, x > y); break;
  case WEFT_AOP_GE: BIN_LOOP(uint8_t, uint8_t, x >= y); break;
  }
}

int weft__kern_bin(int op, int ct, void *out, const void *a, size_t sa,
                   const void *b, size_t sb, size_t n) {
  if (ct == CT_F64) {
    /* numpy's fast scalar powers */
    if (op == WEFT_AOP_POW && !sb) {
      double e = *(const double *)b;
      if (e == 2.0) {
        bin_f64(WEFT_AOP_MUL, out, a, sa, a, sa, n);
        return 0;
      }
      if (e == 1.0) {
        bin_f64(WEFT_AOP_MUL, out, a, sa, &(double){1.0}, 0, n);
        return 0;
      }
      if (e == 0.5) {
        if (sa)
          weft__kern_un(WEFT_AFN_SQRT, CT_F64, out, a, n);
        else
          bin_f64(WEFT_AOP_MUL, out, &(double){sqrt(*(const double *)a)},
                  0, &(double){1.0}, 0, n);
        return 0;
      }
    }
    bin_f64(op, out, a, sa, b, sb, n);
  } else if (ct == CT_I64) {
    if (op == WEFT_AOP_POW) {
      const int64_t *pb = b;
      for (size_t i = 0; i < (sb ? n : 1); i++)
        if (pb[i] < 0)
          return 1;
    }
    bin_i64(op, out, a, sa, b, sb, n);
  } else {
    bin_bool(op, out, a, sa, b, sb, n);
  }
  return 0;
}

/* ---- unary ---- */

#define UN_LOOP(TO, TI, EXPR)                                                  \
  do {                                                                         \
    TO *o = out;                                                               \
    const TI *pa = a;                                                          \
    for (size_t i = 0; i < n; i++) {                                           \
      TI x = pa[i];                                                            \
      o[i] = (EXPR);                                                           \
    }                                                                          \
  } while (0)

static inline double f_sign(double x) {
  return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x;
}

/* Math functions run over blocks of 16 (the last one padded), so every
 * element goes through the same (vector) code whatever its position in a
 * tile: a value never depends on the chunks or tiles around it. */
#define BLOCK16(EXPR)                                                          \
  do {                                                                         \
    const double *pa = a;                                                      \
    for (size_t i0 = 0; i0 < n; i0 += 16) {                                    \
      double tin[16], tout[16];                                                \
      size_t m = n - i0 < 16 ? n - i0 : 16;                                    \
      const double *src = pa + i0;                                             \
      double *dst = (double *)out + i0;                                        \
      if (m < 16) {                                                            \
        memset(tin, 0, sizeof tin);                                            \
        memcpy(tin, src, m * sizeof *tin);                                     \
        src = tin;                                                             \
        dst = tout;                                                            \
      }                                                                        \
      _Pragma("omp simd") for (int j = 0; j < 16; j++) {                       \
        double x = src[j];                                                     \
        dst[j] = (EXPR);                                                       \
      }                                                                        \
      if (m < 16)                                                              \
        memcpy((double *)out + i0, tout, m * sizeof *tout);                    \
    }                                                                          \
  } while (0)

KERN static void un_f64(int fn, void *out, const void *a, size_t n) {
  switch (fn) {
  case WEFT_AFN_NEG: UN_LOOP(double, double, -x); break;
  case WEFT_AFN_ABS: UN_LOOP(double, double, fabs(x)); break;
  case WEFT_AFN_SQRT: UN_LOOP(double, double, sqrt(x)); break;
  case WEFT_AFN_SQUARE: UN_LOOP(double, double, x * x); break;
  case WEFT_AFN_EXP: BLOCK16(exp(x)); break;
  case WEFT_AFN_EXPM1: BLOCK16(expm1(x)); break;
  case WEFT_AFN_LOG: BLOCK16(log(x)); break;
  case WEFT_AFN_LOG1P: BLOCK16(log1p(x)); break;
  case WEFT_AFN_LOG2: BLOCK16(log2(x)); break;
  case WEFT_AFN_LOG10: BLOCK16(log10(x)); break;
  case WEFT_AFN_SIN: BLOCK16(sin(x)); break;
  case WEFT_AFN_COS: BLOCK16(cos(x)); break;
  case WEFT_AFN_TAN: BLOCK16(tan(x)); break;
  case WEFT_AFN_ARCSIN: BLOCK16(asin(x)); break;
  case WEFT_AFN_ARCCOS: BLOCK16(acos(x)); break;
  case WEFT_AFN_ARCTAN: BLOCK16(atan(x)); break;
  case WEFT_AFN_SINH: BLOCK16(sinh(x)); break;
  case WEFT_AFN_COSH: BLOCK16(cosh(x)); break;
  case WEFT_AFN_TANH: BLOCK16(tanh(x)); break;
  case WEFT_AFN_FLOOR: UN_LOOP(double, double, floor(x)); break;
  case WEFT_AFN_CEIL: UN_LOOP(double, double, ceil(x)); break;
  case WEFT_AFN_TRUNC: UN_LOOP(double, double, trunc(x)); break;
  case WEFT_AFN_RINT: UN_LOOP(double, double, nearbyint(x)); break;
  case WEFT_AFN_SIGN: UN_LOOP(double, double, f_sign(x)); break;
  case WEFT_AFN_ISNAN: UN_LOOP(uint8_t, double, x != x); break;
  case WEFT_AFN_ISINF: UN_LOOP(uint8_t, double, isinf(x) != 0); break;
  case WEFT_AFN_ISFINITE: UN_LOOP(uint8_t, double, isfinite(x) != 0); break;
  }
}

void weft__kern_un(int fn, int ct, void *out, const void *a, size_t n) {
  if (ct == CT_F64) {
    un_f64(fn, out, a, n);
  } else if (ct == CT_I64) {
    switch (fn) {
    case WEFT_AFN_NEG: UN_LOOP(int64_t, int64_t, wrap_sub(0, x)); break;
    case WEFT_AFN_ABS: UN_LOOP(int64_t, int64_t, x < 0 ? wrap_sub(0, x) : x); break;
    case WEFT_AFN_SQUARE: UN_LOOP(int64_t, int64_t, wrap_mul(x, x)); break;
    case WEFT_AFN_SIGN: UN_LOOP(int64_t, int64_t, (x > 0) - (x < 0)); break;
    case WEFT_AFN_ISNAN:
    case WEFT_AFN_ISINF: UN_LOOP(uint8_t, int64_t, 0 * x); break;
    case WEFT_AFN_ISFINITE: UN_LOOP(uint8_t, int64_t, 1 + 0 * x); break;
    }
  } else {
    switch (fn) {
    case WEFT_AFN_ABS: UN_LOOP(uint8_t, uint8_t, x); break;
    case WEFT_AFN_NOT: UN_LOOP(uint8_t, uint8_t, !x); break;
    case WEFT_AFN_ISNAN:
    case WEFT_AFN_ISINF: UN_LOOP(uint8_t, uint8_t, 0 * x); break;
    case WEFT_AFN_ISFINITE: UN_LOOP(uint8_t, uint8_t, 1 + 0 * x); break;
    }
  }
}

/* ---- casts, loads, stores ---- */

static inline int64_t f_to_i64(double x) {
  return (x != x || x >= 9223372036854775808.0 || x < -9223372036854775808.0)
             ? INT64_MIN
             : (int64_t)x;
}

void weft__kern_cast(int from, int to, int to_dtype, void *out,
                     const void *a, size_t n) {
  if (from == to) {
    memmove(out, a, n * weft__ctsize(to));
    return;
  }
  if (from == CT_BOOL && to == CT_I64)
    UN_LOOP(int64_t, uint8_t, x);
  else if (from == CT_BOOL && to == CT_F64)
    UN_LOOP(double, uint8_t, x);
  else if (from == CT_I64 && to == CT_F64)
    UN_LOOP(double, int64_t, (double)x);
  else if (from == CT_I64 && to == CT_BOOL)
    UN_LOOP(uint8_t, int64_t, x != 0);
  else if (from == CT_F64 && to == CT_BOOL)
    UN_LOOP(uint8_t, double, x != 0);
  else if (to_dtype == WEFT_I32) /* numpy: out of range gives INT32_MIN */
    UN_LOOP(int64_t, double,
            (x != x || x >= 2147483648.0 || x <= -2147483649.0)
                ? INT32_MIN
                : (int64_t)x);
  else
    UN_LOOP(int64_t, double, f_to_i64(x));
}

KERN void weft__kern_normalize(int dt, void *x, size_t n) {
  if (dt == WEFT_I32) {
    int64_t *p = x;
    for (size_t i = 0; i < n; i++)
      p[i] = (int32_t)(uint32_t)(uint64_t)p[i];
  } else if (dt == WEFT_F32) {
    double *p = x;
    for (size_t i = 0; i < n; i++)
      p[i] = (double)(float)p[i];
  }
}

void weft__kern_where(int ct, void *out, const uint8_t *c, size_t sc,
                      const void *a, size_t sa, const void *b, size_t sb,
                      size_t n) {
  size_t w = weft__ctsize(ct);
  char *o = out;
  const char *pa = a, *pb = b;
  for (size_t i = 0; i < n; i++)
    memcpy(o + i * w, c[i * sc] ? pa + i * sa * w : pb + i * sb * w, w);
}

void weft__kern_clip(int ct, void *x, size_t n, double lo, double hi) {
  if (ct == CT_F64) {
    double *p = x;
    for (size_t i = 0; i < n; i++) {
      double v = p[i];
      if (!isnan(lo))
        v = f_max(v, lo);
      if (!isnan(hi))
        v = f_min(v, hi);
      p[i] = v;
    }
  } else if (ct == CT_I64) {
    int64_t *p = x;
    for (size_t i = 0; i < n; i++) {
      if (!isnan(lo) && p[i] < (int64_t)lo)
        p[i] = (int64_t)lo;
      if (!isnan(hi) && p[i] > (int64_t)hi)
        p[i] = (int64_t)hi;
    }
  }
}

KERN void weft__kern_fill(int ct, void *out, size_t n, double d, int64_t i) {
  if (ct == CT_F64) {
    double *o = out;
    for (size_t k = 0; k < n; k++)
      o[k] = d;
  } else if (ct == CT_I64) {
    int64_t *o = out;
    for (size_t k = 0; k < n; k++)
      o[k] = i;
  } else {
    memset(out, i != 0, n);
  }
}

#define LOAD(T, EXPR)                                                          \
  do {                                                                         \
    const T *s = src;                                                          \
    if (stride == 1)                                                           \
      for (size_t i = 0; i < n; i++) {                                         \
        T x = s[i];                                                            \
        o[i] = (EXPR);                                                         \
      }                                                                        \
    else                                                                       \
      for (size_t i = 0; i < n; i++) {                                         \
        T x = s[(int64_t)i * stride];                                          \
        o[i] = (EXPR);                                                         \
      }                                                                        \
  } while (0)

KERN void weft__kern_load(int dt, void *out, const void *src, int64_t stride,
                          size_t n) {
  switch (dt) {
  case WEFT_BOOL: { uint8_t *o = out; LOAD(uint8_t, x != 0); break; }
  case WEFT_I32: { int64_t *o = out; LOAD(int32_t, x); break; }
  case WEFT_I64: { int64_t *o = out; LOAD(int64_t, x); break; }
  case WEFT_F32: { double *o = out; LOAD(float, (double)x); break; }
  case WEFT_F64: { double *o = out; LOAD(double, x); break; }
  }
}

KERN void weft__kern_store(int dt, void *dst, const void *in, size_t n) {
  switch (dt) {
  case WEFT_BOOL: memcpy(dst, in, n); break;
  case WEFT_I32: {
    int32_t *o = dst;
    const int64_t *p = in;
    for (size_t i = 0; i < n; i++)
      o[i] = (int32_t)p[i];
    break;
  }
  case WEFT_I64: memcpy(dst, in, n * 8); break;
  case WEFT_F32: {
    float *o = dst;
    const double *p = in;
    for (size_t i = 0; i < n; i++)
      o[i] = (float)p[i];
    break;
  }
  case WEFT_F64: memcpy(dst, in, n * 8); break;
  }
}

/* ---- reproducible reductions ---- */

#define LANES 16
#define LANE_SUM(T, OP, INIT, X)                                               \
  do {                                                                         \
    T acc[LANES];                                                              \
    for (int j = 0; j < LANES; j++)                                            \
      acc[j] = INIT;                                                           \
    size_t i = 0;                                                              \
    for (; i + LANES <= n; i += LANES)                                         \
      for (int j = 0; j < LANES; j++) {                                        \
        T v = X(i + j);                                                        \
        acc[j] = acc[j] OP v;                                                  \
      }                                                                        \
    for (int j = 0; i + (size_t)j < n; j++) {                                  \
      T v = X(i + j);                                                          \
      acc[j] = acc[j] OP v;                                                    \
    }                                                                          \
    for (int w = LANES / 2; w; w /= 2)                                         \
      for (int j = 0; j < w; j++)                                              \
        acc[j] = acc[j] OP acc[j + w];                                         \
    return acc[0];                                                             \
  } while (0)

#define PLAIN(i) x[i]
#define CONSTANT(i) c
#define SQDEV(i) ((x[i] - m) * (x[i] - m))
KERN double weft__kern_sum_f64(const double *x, size_t n) {
  LANE_SUM(double, +, 0.0, PLAIN);
}
KERN double weft__kern_sum_const_f64(double c, size_t n) {
  LANE_SUM(double, +, 0.0, CONSTANT);
}
KERN double weft__kern_prod_f64(const double *x, size_t n) {
  LANE_SUM(double, *, 1.0, PLAIN);
}
KERN double weft__kern_sqdev_f64(const double *x, size_t n, double m) {
  LANE_SUM(double, +, 0.0, SQDEV);
}
#define WADD(a, b) wrap_add(a, b)
int64_t weft__kern_sum_i64(const int64_t *x, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++)
    s += (uint64_t)x[i];
  return (int64_t)s;
}
int64_t weft__kern_prod_i64(const int64_t *x, size_t n) {
  uint64_t s = 1;
  for (size_t i = 0; i < n; i++)
    s *= (uint64_t)x[i];
  return (int64_t)s;
}
KERN void weft__kern_acc_f64(int op, double *acc, const double *x, size_t n) {
  if (op == 0)
    for (size_t i = 0; i < n; i++)
      acc[i] += x[i];
  else
    for (size_t i = 0; i < n; i++)
      acc[i] *= x[i];
}
void weft__kern_acc_i64(int op, int64_t *acc, const int64_t *x, size_t n) {
  if (op == 0)
    for (size_t i = 0; i < n; i++)
      acc[i] = wrap_add(acc[i], x[i]);
  else
    for (size_t i = 0; i < n; i++)
      acc[i] = wrap_mul(acc[i], x[i]);
}
KERN void weft__kern_sqdev_acc_f64(double *acc, const double *x,
                                   const double *m, size_t n) {
  for (size_t i = 0; i < n; i++)
    acc[i] += (x[i] - m[i]) * (x[i] - m[i]);
}

/* ---- Philox-4x32-10: the generator of philox.h (its rounds, constants
 * and counters), in the loops of random arrays ---- */

void weft__philox4x32(const uint32_t ctr[4], const uint32_t key[2],
                      uint32_t out[4]) {
  weft__philox4x32_10(ctr, key, out);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define HAVE_PHILOX_AVX512 1
/* The pairs loop of uniform_range, 8 counters at a time with AVX-512
 * (vpmuludq is Philox's 32 x 32 -> 64-bit product; gcc does not find it
 * from C); the same bits as WEFT__PHILOX10, with philox.h's constants.
 * Returns the pairs done. */
__attribute__((target("avx512f,avx512dq"))) static size_t
uniform_pairs_avx512(double *q, size_t np, uint64_t cbase, uint32_t key0,
                     uint32_t key1, double lo, double span) {
  const __m512i m0 = _mm512_set1_epi64(WEFT__PHILOX_M0);
  const __m512i m1 = _mm512_set1_epi64(WEFT__PHILOX_M1);
  const __m512i lo32 = _mm512_set1_epi64(0xffffffffu);
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i even = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i odd = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  const __m512d vlo = _mm512_set1_pd(lo), vspan = _mm512_set1_pd(span);
  const __m512d scale = _mm512_set1_pd(0x1p-53);
  size_t j = 0;
  for (; j + 8 <= np; j += 8) {
    __m512i c = _mm512_add_epi64(_mm512_set1_epi64((long long)(cbase + j)), lane);
    __m512i x0 = _mm512_and_si512(c, lo32), x1 = _mm512_srli_epi64(c, 32);
    __m512i x2 = _mm512_setzero_si512(), x3 = _mm512_setzero_si512();
    uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; r++) {
      __m512i p0 = _mm512_mul_epu32(x0, m0), p1 = _mm512_mul_epu32(x2, m1);
      __m512i n0 = _mm512_xor_si512(_mm512_srli_epi64(p1, 32),
                                    _mm512_xor_si512(x1, _mm512_set1_epi64(k0)));
      __m512i n2 = _mm512_xor_si512(_mm512_srli_epi64(p0, 32),
                                    _mm512_xor_si512(x3, _mm512_set1_epi64(k1)));
      x1 = _mm512_and_si512(p1, lo32);
      x3 = _mm512_and_si512(p0, lo32);
      x0 = n0;
      x2 = n2;
      k0 += WEFT__PHILOX_W0;
      k1 += WEFT__PHILOX_W1;
    }
    __m512i b0 = _mm512_or_si512(x0, _mm512_slli_epi64(x1, 32));
    __m512i b1 = _mm512_or_si512(x2, _mm512_slli_epi64(x3, 32));
    __m512d d0 = _mm512_cvtepi64_pd(_mm512_srli_epi64(b0, 11));
    __m512d d1 = _mm512_cvtepi64_pd(_mm512_srli_epi64(b1, 11));
    d0 = _mm512_add_pd(vlo, _mm512_mul_pd(vspan, _mm512_mul_pd(d0, scale)));
    d1 = _mm512_add_pd(vlo, _mm512_mul_pd(vspan, _mm512_mul_pd(d1, scale)));
    _mm512_storeu_pd(q + 2 * j, _mm512_permutex2var_pd(d0, even, d1));
    _mm512_storeu_pd(q + 2 * j + 8, _mm512_permutex2var_pd(d0, odd, d1));
  }
  return j;
}
#endif

/* Uniform values of the elements e0 .. e0 + n - 1 (global indices, in
 * order) into d[0 .. n). */
KERN static void uniform_range(double *restrict d, size_t n, uint32_t key0,
                               uint32_t key1, uint64_t e0, double lo,
                               double span) {
  size_t k = 0;
  if (n && (e0 & 1)) { /* the odd half of a first counter */
    uint64_t c = e0 >> 1;
    uint32_t x0 = (uint32_t)c, x1 = (uint32_t)(c >> 32), x2 = 0,
             x3 = WEFT__PHILOX_UNIFORM;
    WEFT__PHILOX10(x0, x1, x2, x3, key0, key1);
    d[0] = lo + span * weft__philox_to_unit(x2 | (uint64_t)x3 << 32);
    k = 1;
  }
  uint64_t cbase = (e0 + k) >> 1;
  size_t np = (n - k) / 2;
  double *restrict q = d + k;
  size_t j0 = 0;
#ifdef HAVE_PHILOX_AVX512
  if (__builtin_cpu_supports("avx512dq"))
    j0 = uniform_pairs_avx512(q, np, cbase, key0, key1, lo, span);
#endif
  for (size_t j = j0; j < np; j++) {
    uint64_t c = cbase + j;
    uint32_t x0 = (uint32_t)c, x1 = (uint32_t)(c >> 32), x2 = 0,
             x3 = WEFT__PHILOX_UNIFORM;
    WEFT__PHILOX10(x0, x1, x2, x3, key0, key1);
    q[2 * j] = lo + span * weft__philox_to_unit(x0 | (uint64_t)x1 << 32);
    q[2 * j + 1] = lo + span * weft__philox_to_unit(x2 | (uint64_t)x3 << 32);
  }
  k += 2 * np;
  if (k < n) { /* the even half of a last counter */
    uint64_t c = (e0 + k) >> 1;
    uint32_t x0 = (uint32_t)c, x1 = (uint32_t)(c >> 32), x2 = 0,
             x3 = WEFT__PHILOX_UNIFORM;
    WEFT__PHILOX10(x0, x1, x2, x3, key0, key1);
    d[k] = lo + span * weft__philox_to_unit(x0 | (uint64_t)x1 << 32);
  }
}


KERN void weft__kern_uniform(double *out, size_t n, uint64_t seed,
                             int64_t first, int64_t step, double lo,
                             double hi) {
  uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
  double span = hi - lo;
  if (n == 0) /* (the reversal below needs n >= 1) */
    return;
  if (step == 1 || n == 1) {
    uniform_range(out, n, key0, key1, (uint64_t)first, lo, span);
    return;
  }
  if (step == -1) { /* made in increasing order, then reversed */
    uniform_range(out, n, key0, key1, (uint64_t)(first - (int64_t)n + 1), lo,
                  span);
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
      double t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t e = (uint64_t)(first + (int64_t)i * step);
    uint64_t c = e >> 1;
    uint32_t x0 = (uint32_t)c, x1 = (uint32_t)(c >> 32), x2 = 0,
             x3 = WEFT__PHILOX_UNIFORM;
    WEFT__PHILOX10(x0, x1, x2, x3, key0, key1);
    out[i] = lo + span * weft__philox_to_unit((e & 1) ? (x2 | (uint64_t)x3 << 32)
                                        : (x0 | (uint64_t)x1 << 32));
  }
}

KERN void weft__kern_normal(double *out, size_t n, uint64_t seed,
                            int64_t first, int64_t step, double mean,
                            double sd) {
  uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
  for (size_t i0 = 0; i0 < n; i0 += 16) {
    double u1[16], u2[16], z[16];
    for (int j = 0; j < 16; j++) { /* past n: harmless extra counters */
      uint64_t e = (uint64_t)(first + (int64_t)(i0 + (size_t)j) * step);
      uint32_t x0 = (uint32_t)e, x1 = (uint32_t)(e >> 32), x2 = 0,
               x3 = WEFT__PHILOX_NORMAL;
      WEFT__PHILOX10(x0, x1, x2, x3, key0, key1);
      u1[j] = weft__philox_to_unit_open(x0 | (uint64_t)x1 << 32);
      u2[j] = weft__philox_to_unit(x2 | (uint64_t)x3 << 32);
    }
#pragma omp simd
    for (int j = 0; j < 16; j++)
      z[j] = mean + sd * (sqrt(-2.0 * log(u1[j])) * cos(6.283185307179586 * u2[j]));
    size_t m = n - i0 < 16 ? n - i0 : 16;
    memcpy(out + i0, z, m * sizeof *z);
  }
}
