/* parse_impl.h - what the two halves of the array expression parser
 * share (weft_array_parse): parse.c holds the grammar, parse_call.c the
 * arguments, methods and functions it calls. Internal to src/array/. */
#ifndef WEFT_ARRAY_PARSE_IMPL_H
#define WEFT_ARRAY_PARSE_IMPL_H

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "array_impl.h"

enum { V_NONE, V_ARR, V_INT, V_NUM, V_BOOL, V_TUPLE, V_STR, V_LIST };
#define MAXLIST 32

typedef struct val {
  int kind;
  weft_array *a;
  int64_t i;
  double d;
  int n; /* tuple/list items */
  struct val *items;
  char str[128];
} val;

typedef struct P {
  weft_graph *g;
  const char *s;
  size_t pos;
  size_t nvars;
  const char *const *names;
  weft_array *const *vars;
  char *err;
  size_t errsize;
  int col;
  int failed;
  int depth;
} P;

typedef struct args {
  int n;
  val v[12];
  size_t at[12];
  char kw[12][24];
  bool used[12]; /* looked up by arg(): a keyword never looked up is an error */
} args;

/* ---- reading the text ---- */

static inline void vfree(val *v) {
  if (v->kind == V_ARR)
    weft_array_free(v->a);
  if (v->kind == V_TUPLE || v->kind == V_LIST) {
    for (int k = 0; k < v->n; k++)
      vfree(&v->items[k]);
    free(v->items);
  }
  memset(v, 0, sizeof *v);
}

static inline int perr(P *p, size_t at, const char *fmt, ...) {
  if (p->failed)
    return -1;
  p->failed = 1;
  p->col = (int)at + 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err, p->errsize, fmt, ap);
  va_end(ap);
  return -1;
}

static inline void ws(P *p) {
  while (isspace((unsigned char)p->s[p->pos]))
    p->pos++;
}
static inline int peek(P *p, const char *t) {
  ws(p);
  return !strncmp(p->s + p->pos, t, strlen(t));
}
static inline int accept(P *p, const char *t) {
  if (!peek(p, t))
    return 0;
  p->pos += strlen(t);
  return 1;
}
static inline int expect(P *p, const char *t) {
  if (accept(p, t))
    return 0;
  return perr(p, p->pos, "expected '%s'", t);
}

/* An array from any value (numbers become Python scalars). */
static inline weft_array *as_array(P *p, val *v, size_t at) {
  switch (v->kind) {
  case V_ARR:
    return weft_array_retain(v->a);
  case V_INT:
    return weft_array_scalar_int(p->g, v->i);
  case V_NUM:
    return weft_array_scalar(p->g, v->d);
  case V_BOOL:
    return weft_array_scalar_bool(p->g, v->i != 0);
  }
  perr(p, at, "expected an array or a number");
  return NULL;
}

static inline int as_int(P *p, const val *v, size_t at, int64_t *out) {
  if (v->kind == V_INT || v->kind == V_BOOL) {
    *out = v->i;
    return 0;
  }
  return perr(p, at, "expected an integer");
}
static inline int as_num(P *p, const val *v, size_t at, double *out) {
  if (v->kind == V_INT || v->kind == V_BOOL) {
    *out = (double)v->i;
    return 0;
  }
  if (v->kind == V_NUM) {
    *out = v->d;
    return 0;
  }
  return perr(p, at, "expected a number");
}

/* ---- between the halves ---- */

/* parse.c: one expression. */
int weft__parse_expr(P *p, val *out);
/* parse_call.c: the arguments up to close, and their release. */
int weft__parse_args(P *p, args *a, const char *close);
void weft__parse_args_free(args *a);
/* name(args) and self.name(args) into out. */
int weft__parse_call(P *p, const char *name, args *ar, size_t at, val *out);
int weft__parse_method(P *p, val *self, const char *name, args *ar, size_t at,
                       val *out);
/* After a call: a keyword argument it never looked up is an error. */
int weft__parse_unused_kw(P *p, const args *a, const char *name, val *out);
/* out becomes array a (NULL: the error of the call that made it). */
int weft__parse_set_arr(P *p, val *out, weft_array *a, size_t at);

#endif
