/* parse.c - numpy-style array expressions as text (weft_array_parse): the
 * language of `weft eval` for arrays and of the numpy comparisons in the
 * tests. A recursive-descent parser with Python's precedence that builds
 * the arrays as it reads (nothing is computed). Errors name the column.
 * This file is the grammar; the functions and methods it calls, and their
 * arguments, are in parse_call.c. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "parse_impl.h"
#include "weft/error.h"
#include "weft/npy.h"

/* ---- the grammar ---- */

static const char *strip_prefix(const char *name) {
  static const char *const pre[] = {"np.", "numpy.", "da.", "dask.array.",
                                    "weft."};
  for (size_t i = 0; i < 5; i++)
    if (!strncmp(name, pre[i], strlen(pre[i])))
      return name + strlen(pre[i]);
  return name;
}

static int parse_atom(P *p, val *out) {
  ws(p);
  size_t at = p->pos;
  const char *s = p->s + at;
  if (++p->depth > 200)
    return perr(p, at, "expression nested too deeply");
  if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
    char *end;
    double d = strtod(s, &end);
    size_t len = (size_t)(end - s);
    bool isint = true;
    for (size_t k = 0; k < len; k++)
      if (s[k] == '.' || s[k] == 'e' || s[k] == 'E')
        isint = false;
    long long ll = 0;
    if (isint) { /* an int while it fits int64 (numpy: uint64 past it) */
      errno = 0;
      ll = strtoll(s, NULL, 10);
      isint = errno != ERANGE;
    }
    if (isint) {
      out->kind = V_INT;
      out->i = ll;
    } else {
      out->kind = V_NUM;
      out->d = d;
    }
    p->pos += len;
    return 0;
  }
  if (*s == '"' || *s == '\'') {
    const char *e = strchr(s + 1, *s);
    if (!e)
      return perr(p, at, "unterminated string");
    if (e - s - 1 >= (ptrdiff_t)sizeof out->str)
      return perr(p, at, "string longer than %zu characters",
                  sizeof out->str - 1);
    out->kind = V_STR;
    snprintf(out->str, sizeof out->str, "%.*s", (int)(e - s - 1), s + 1);
    p->pos += (size_t)(e - s) + 1;
    return 0;
  }
  if (*s == '(' || *s == '[') {
    char close[2] = {*s == '(' ? ')' : ']', 0};
    p->pos++;
    args a;
    if (weft__parse_args(p, &a, close)) {
      weft__parse_args_free(&a);
      return -1;
    }
    /* (x) is x; (x,) (x, y) [x, y] are tuples and lists */
    const char *before = p->s + p->pos - 2;
    while (before > s && isspace((unsigned char)*before))
      before--;
    bool tuple = *s == '[' || a.n != 1 || *before == ',';
    if (!tuple) {
      *out = a.v[0];
      return 0;
    }
    out->kind = *s == '[' ? V_LIST : V_TUPLE;
    out->n = a.n;
    out->items = calloc((size_t)(a.n ? a.n : 1), sizeof *out->items);
    if (!out->items) {
      weft__parse_args_free(&a);
      return perr(p, at, "out of memory");
    }
    for (int k = 0; k < a.n; k++)
      out->items[k] = a.v[k];
    return 0;
  }
  if (isalpha((unsigned char)*s) || *s == '_') {
    /* a name; module prefixes (np., da.random., ...) join the next name */
    size_t q = 0;
    for (;;) {
      while (isalnum((unsigned char)s[q]) || s[q] == '_')
        q++;
      static const char *const mods[] = {"np", "numpy", "da", "dask",
                                         "dask.array", "weft", "np.random",
                                         "numpy.random", "da.random",
                                         "random"};
      bool mod = false;
      for (size_t k = 0; k < sizeof mods / sizeof mods[0]; k++)
        mod = mod || (strlen(mods[k]) == q && !strncmp(s, mods[k], q));
      if (mod && s[q] == '.' && isalpha((unsigned char)s[q + 1])) {
        q++;
        continue;
      }
      break;
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)q, s);
    p->pos += q;
    const char *nm = strip_prefix(name);
    if (accept(p, "(")) {
      args a;
      int rc = weft__parse_args(p, &a, ")");
      if (!rc)
        rc = weft__parse_call(p, nm, &a, at, out);
      if (!rc)
        rc = weft__parse_unused_kw(p, &a, nm, out);
      weft__parse_args_free(&a);
      return rc;
    }
    if (!strcmp(nm, "None"))
      return out->kind = V_NONE, 0;
    if (!strcmp(nm, "True") || !strcmp(nm, "False"))
      return out->kind = V_BOOL, out->i = nm[0] == 'T', 0;
    if (!strcmp(nm, "pi"))
      return out->kind = V_NUM, out->d = 3.141592653589793, 0;
    if (!strcmp(nm, "e"))
      return out->kind = V_NUM, out->d = 2.718281828459045, 0;
    if (!strcmp(nm, "nan") || !strcmp(nm, "inf"))
      return out->kind = V_NUM, out->d = nm[0] == 'n' ? NAN : INFINITY, 0;
    for (size_t i = 0; i < p->nvars; i++)
      if (!strcmp(p->names[i], name)) {
        out->kind = V_ARR;
        out->a = weft_array_retain(p->vars[i]);
        return 0;
      }
    /* dtypes as names: np.float32 */
    out->kind = V_STR;
    snprintf(out->str, sizeof out->str, "%s", nm);
    return 0;
  }
  return perr(p, at, *s ? "unexpected '%c'" : "unexpected end of the expression",
              *s);
}

static int parse_postfix(P *p, val *out) {
  if (parse_atom(p, out))
    return -1;
  for (;;) {
    ws(p);
    size_t at = p->pos;
    if (accept(p, "[")) {
      size_t start = p->pos;
      int depth = 1;
      while (p->s[p->pos] && depth) {
        if (p->s[p->pos] == '[')
          depth++;
        if (p->s[p->pos] == ']')
          depth--;
        p->pos++;
      }
      if (depth)
        return perr(p, at, "'[' is never closed");
      char spec[512];
      snprintf(spec, sizeof spec, "%.*s", (int)(p->pos - 1 - start),
               p->s + start);
      weft_array *a = as_array(p, out, at);
      if (!a)
        return -1;
      weft_array *r = weft_array_slice(a, spec);
      weft_array_free(a);
      vfree(out);
      if (weft__parse_set_arr(p, out, r, start))
        return -1;
      continue;
    }
    if (peek(p, ".") && isalpha((unsigned char)p->s[p->pos + 1])) {
      p->pos++;
      size_t q = p->pos;
      while (isalnum((unsigned char)p->s[q]) || p->s[q] == '_')
        q++;
      char name[32];
      snprintf(name, sizeof name, "%.*s", (int)(q - p->pos), p->s + p->pos);
      p->pos = q;
      args a;
      memset(&a, 0, sizeof a);
      if (!strcmp(name, "T")) {
        weft_array *x = as_array(p, out, at);
        weft_array *r = x ? weft_array_transpose(x, NULL) : NULL;
        weft_array_free(x);
        vfree(out);
        if (weft__parse_set_arr(p, out, r, at))
          return -1;
        continue;
      }
      ws(p);
      if (p->s[p->pos] != '(') {
        /* numpy's attributes: a number or a dtype, not an array */
        return vfree(out),
               perr(p, at, "attribute '.%s' is not supported (only .T): an "
                    "expression is an array; its repr line shows shape, dtype "
                    "and chunks", name);
      }
      if (expect(p, "(") || weft__parse_args(p, &a, ")")) {
        weft__parse_args_free(&a);
        return -1;
      }
      val res;
      memset(&res, 0, sizeof res);
      int rc = weft__parse_method(p, out, name, &a, at, &res);
      if (!rc)
        rc = weft__parse_unused_kw(p, &a, name, &res);
      weft__parse_args_free(&a);
      vfree(out);
      *out = res;
      if (rc)
        return -1;
      continue;
    }
    return 0;
  }
}

/* Python arithmetic on two numbers (ints stay ints); 1 when not folded. */
static int fold(int op, const val *a, const val *b, val *out) {
  bool ints = a->kind != V_NUM && b->kind != V_NUM;
  double x = a->kind == V_NUM ? a->d : (double)a->i;
  double y = b->kind == V_NUM ? b->d : (double)b->i;
  int64_t i = a->i, j = b->i;
  if (ints) {
    switch (op) {
    case WEFT_AOP_ADD: out->i = (int64_t)((uint64_t)i + (uint64_t)j); break;
    case WEFT_AOP_SUB: out->i = (int64_t)((uint64_t)i - (uint64_t)j); break;
    case WEFT_AOP_MUL: out->i = (int64_t)((uint64_t)i * (uint64_t)j); break;
    case WEFT_AOP_POW:
      if (j < 0)
        return 1;
      out->i = 1;
      for (int64_t k = 0; k < j && k < 64; k++)
        out->i = (int64_t)((uint64_t)out->i * (uint64_t)i);
      break;
    case WEFT_AOP_FLOORDIV:
    case WEFT_AOP_MOD: {
      if (j == 0)
        return 1;
      int64_t q = i / j, r = i % j;
      if (r != 0 && ((r < 0) != (j < 0))) {
        q--;
        r += j;
      }
      out->i = op == WEFT_AOP_MOD ? r : q;
      break;
    }
    default:
      return 1;
    }
    out->kind = V_INT;
    return 0;
  }
  switch (op) {
  case WEFT_AOP_ADD: out->d = x + y; break;
  case WEFT_AOP_SUB: out->d = x - y; break;
  case WEFT_AOP_MUL: out->d = x * y; break;
  case WEFT_AOP_DIV: out->d = x / y; break;
  case WEFT_AOP_POW: out->d = pow(x, y); break;
  default:
    return 1;
  }
  out->kind = V_NUM;
  return 0;
}

static int binop(P *p, int op, val *a, val *b, size_t at, val *out) {
  bool na = a->kind == V_INT || a->kind == V_NUM || a->kind == V_BOOL;
  bool nb = b->kind == V_INT || b->kind == V_NUM || b->kind == V_BOOL;
  if (na && nb && !(op == WEFT_AOP_DIV && a->kind != V_NUM && b->kind != V_NUM) &&
      !fold(op, a, b, out))
    return 0;
  weft_array *x = as_array(p, a, at), *y = x ? as_array(p, b, at) : NULL;
  int rc = -1;
  if (x && y)
    rc = weft__parse_set_arr(p, out, weft_array_op2((weft_array_op)op, x, y), at);
  weft_array_free(x);
  weft_array_free(y);
  vfree(a);
  vfree(b);
  return rc;
}

static int parse_unary(P *p, val *out);

static int parse_power(P *p, val *out) {
  if (parse_postfix(p, out))
    return -1;
  ws(p);
  size_t at = p->pos;
  if (accept(p, "**")) {
    val r;
    memset(&r, 0, sizeof r);
    if (parse_unary(p, &r))
      return vfree(out), -1;
    val l = *out;
    memset(out, 0, sizeof *out);
    return binop(p, WEFT_AOP_POW, &l, &r, at, out);
  }
  return 0;
}

/* numpy's & | ^ ~ are bitwise: on bools they are the logical ops weft has,
   on ints and floats numpy gives ints (or refuses floats); weft has no
   bitwise ops, so only bools are taken, never a silently different answer. */
static int not_bool(P *p, const val *v, const char *tok, size_t at) {
  if (v->kind == V_BOOL ||
      (v->kind == V_ARR && weft_array_dtype(v->a) == WEFT_BOOL))
    return 0;
  const char *dt = v->kind == V_ARR ? weft_dtype_name(weft_array_dtype(v->a))
                   : v->kind == V_INT ? "an int"
                   : v->kind == V_NUM ? "a float"
                                      : "a non-array";
  return perr(p, at,
              "'%s' of %s: numpy's '%s' is bitwise on integers, which weft "
              "arrays do not have; it is logical on bools only (compare "
              "first, e.g. (a > 0), or use logical_and/logical_or/"
              "logical_xor/logical_not)",
              tok, dt, tok);
}

static int parse_unary(P *p, val *out) {
  ws(p);
  size_t at = p->pos;
  if (peek(p, "-") || peek(p, "+") || peek(p, "~")) {
    char c = p->s[p->pos++];
    if (parse_unary(p, out))
      return -1;
    if (c == '+')
      return 0;
    if (out->kind == V_INT && c == '-')
      return out->i = -out->i, 0;
    if (out->kind == V_NUM && c == '-')
      return out->d = -out->d, 0;
    if (c == '~' && not_bool(p, out, "~", at))
      return vfree(out), -1;
    weft_array *a = as_array(p, out, at);
    if (!a)
      return -1;
    vfree(out);
    int rc = weft__parse_set_arr(p, out,
                     weft_array_op1(c == '-' ? WEFT_AFN_NEG : WEFT_AFN_NOT, a),
                     at);
    weft_array_free(a);
    return rc;
  }
  return parse_power(p, out);
}

typedef struct level {
  const char *tok[6];
  int op[6];
} level;

static const level levels[] = {
    {{"==", "!=", "<=", ">=", "<", ">"},
     {WEFT_AOP_EQ, WEFT_AOP_NE, WEFT_AOP_LE, WEFT_AOP_GE, WEFT_AOP_LT,
      WEFT_AOP_GT}},
    {{"|"}, {WEFT_AOP_OR}},
    {{"^"}, {WEFT_AOP_XOR}},
    {{"&"}, {WEFT_AOP_AND}},
    {{"+", "-"}, {WEFT_AOP_ADD, WEFT_AOP_SUB}},
    {{"//", "*", "/", "%"},
     {WEFT_AOP_FLOORDIV, WEFT_AOP_MUL, WEFT_AOP_DIV, WEFT_AOP_MOD}},
};

static int parse_level(P *p, int lv, val *out) {
  if (lv == 6)
    return parse_unary(p, out);
  if (parse_level(p, lv + 1, out))
    return -1;
  for (;;) {
    ws(p);
    size_t at = p->pos;
    int found = -1;
    for (int k = 0; k < 6 && levels[lv].tok[k]; k++)
      if (peek(p, levels[lv].tok[k]) &&
          !(levels[lv].tok[k][0] == '*' && p->s[p->pos + 1] == '*')) {
        found = k;
        break;
      }
    if (found < 0)
      return 0;
    p->pos += strlen(levels[lv].tok[found]);
    val r;
    memset(&r, 0, sizeof r);
    if (parse_level(p, lv + 1, &r))
      return vfree(out), -1;
    const char *tok = levels[lv].tok[found];
    if ((tok[0] == '&' || tok[0] == '|' || tok[0] == '^') &&
        (not_bool(p, out, tok, at) || not_bool(p, &r, tok, at)))
      return vfree(out), vfree(&r), -1;
    val l = *out;
    memset(out, 0, sizeof *out);
    if (binop(p, levels[lv].op[found], &l, &r, at, out))
      return -1;
  }
}

int weft__parse_expr(P *p, val *out) {
  memset(out, 0, sizeof *out);
  return parse_level(p, 0, out);
}

int weft_array_parse(weft_graph *g, const char *text, size_t nvars,
                     const char *const *names, weft_array *const *vars,
                     weft_array **out, char *err, size_t errsize, int *col) {
  char dummy[8];
  if (!err || !errsize) {
    err = dummy;
    errsize = sizeof dummy;
  }
  err[0] = 0;
  if (col)
    *col = 0;
  if (!g || !text || !out)
    return WEFT_EINVAL;
  *out = NULL;
  P p = {g, text, 0, nvars, names, vars, err, errsize, 0, 0, 0};
  val v;
  int rc = weft__parse_expr(&p, &v);
  ws(&p);
  if (!rc && p.s[p.pos])
    rc = perr(&p, p.pos, "unexpected '%c'", p.s[p.pos]);
  if (!rc) {
    *out = as_array(&p, &v, 0);
    if (!*out)
      rc = -1;
  }
  vfree(&v);
  if (col)
    *col = p.col;
  if (rc)
    return weft_graph_status(g) ? weft_graph_status(g) : WEFT_EINVAL;
  return 0;
}
