/* expr.c - a small recursive-descent parser for the arithmetic of
 * `weft eval` (grammar and tree layout in expr.h). Errors name what was
 * expected and the column, as a compiler would: "expected a number at
 * column 5". */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 500 /* nesting of parentheses, prefix operators and ** */
#define NONE ((size_t)-1)

typedef enum tok_type {
  T_NUM,
  T_PLUS,
  T_MINUS,
  T_STAR,
  T_DSTAR,
  T_SLASH,
  T_DSLASH,
  T_PCT,
  T_LPAREN,
  T_RPAREN,
  T_END,
  T_BAD
} tok_type;

typedef struct tok {
  tok_type type;
  size_t at, len; /* byte offset and length in the text */
} tok;

typedef struct parser {
  const char *s;
  size_t pos;
  expr_tree *t;
  int depth;
  int failed;
  char *msg;
  size_t msgsize;
  int *col;
} parser;

static size_t scan_number(const char *s, size_t i) {
  size_t start = i, digits = 0;
  while (isdigit((unsigned char)s[i]))
    i++, digits++;
  if (s[i] == '.') {
    i++;
    while (isdigit((unsigned char)s[i]))
      i++, digits++;
  }
  if (!digits)
    return 0;
  if (s[i] == 'e' || s[i] == 'E') {
    size_t j = i + 1;
    if (s[j] == '+' || s[j] == '-')
      j++;
    if (isdigit((unsigned char)s[j])) {
      while (isdigit((unsigned char)s[j]))
        j++;
      i = j;
    }
  }
  return i - start;
}

static tok peek(parser *p) {
  const char *s = p->s;
  size_t i = p->pos;
  while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
    i++;
  tok t = {T_BAD, i, 1};
  switch (s[i]) {
  case '\0':
    t.type = T_END;
    t.len = 0;
    return t;
  case '+':
    t.type = T_PLUS;
    return t;
  case '-':
    t.type = T_MINUS;
    return t;
  case '%':
    t.type = T_PCT;
    return t;
  case '(':
    t.type = T_LPAREN;
    return t;
  case ')':
    t.type = T_RPAREN;
    return t;
  case '*':
    t.type = s[i + 1] == '*' ? T_DSTAR : T_STAR;
    t.len = t.type == T_DSTAR ? 2 : 1;
    return t;
  case '/':
    t.type = s[i + 1] == '/' ? T_DSLASH : T_SLASH;
    t.len = t.type == T_DSLASH ? 2 : 1;
    return t;
  }
  size_t n = scan_number(s, i);
  if (n) {
    t.type = T_NUM;
    t.len = n;
  }
  return t;
}

static void advance(parser *p, tok t) { p->pos = t.at + t.len; }

/* The 1-based column of token t; the end of the text is reported just after
 * its last non-blank character, where the missing piece would go. */
static int column(const parser *p, tok t) {
  if (t.type != T_END)
    return (int)t.at + 1;
  size_t end = t.at;
  while (end > 0 && isspace((unsigned char)p->s[end - 1]))
    end--;
  return (int)end + 1;
}

static size_t fail(parser *p, tok t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t fail(parser *p, tok t, const char *fmt, ...) {
  if (p->failed)
    return NONE;
  p->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->msg, p->msgsize, fmt, ap);
  va_end(ap);
  *p->col = column(p, t);
  return NONE;
}

/* ", found '...'" for a message, or "" at the end of the text. */
static const char *found(const parser *p, tok t, char *buf, size_t size) {
  if (t.type == T_END)
    return "";
  size_t len = t.len > 20 ? 20 : t.len;
  if (t.type == T_BAD && (unsigned char)p->s[t.at] >= 0x80)
    len = 1;
  snprintf(buf, size, ", found '%.*s'", (int)len, p->s + t.at);
  return buf;
}

static size_t push(parser *p, expr_node node) {
  expr_tree *t = p->t;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    expr_node *nodes = realloc(t->nodes, cap * sizeof *nodes);
    if (!nodes) {
      tok none = {T_END, p->pos, 0};
      return fail(p, none, "out of memory");
    }
    t->nodes = nodes;
    t->cap = cap;
  }
  t->nodes[t->n] = node;
  return t->n++;
}

static size_t parse_expr(parser *p);
static size_t parse_unary(parser *p);

static size_t number(parser *p, tok t) {
  char text[64], buf[64];
  if (t.len >= sizeof text)
    return fail(p, t, "number too long%s", found(p, t, buf, sizeof buf));
  memcpy(text, p->s + t.at, t.len);
  text[t.len] = '\0';
  expr_node n = {EXPR_NUM, WEFT_OP_ADD, weft_none(), NONE, NONE, column(p, t)};
  errno = 0;
  if (strpbrk(text, ".eE")) {
    double d = strtod(text, NULL);
    if (isinf(d))
      return fail(p, t, "number too large");
    n.num = weft_double(d);
  } else {
    long long i = strtoll(text, NULL, 10);
    if (errno == ERANGE)
      return fail(p, t, "integer too large (weft's ints are 64-bit)");
    n.num = weft_int(i);
  }
  return push(p, n);
}

/* atom := NUMBER | '(' expr ')' */
static size_t parse_atom(parser *p) {
  char buf[64];
  tok t = peek(p);
  if (t.type == T_NUM) {
    advance(p, t);
    return number(p, t);
  }
  if (t.type == T_LPAREN) {
    if (++p->depth > MAX_DEPTH)
      return fail(p, t, "expression nested too deeply");
    advance(p, t);
    size_t e = parse_expr(p);
    if (e == NONE)
      return NONE;
    tok close = peek(p);
    if (close.type != T_RPAREN)
      return fail(p, close, "expected ')' to close the '(' of column %d%s",
                  column(p, t), found(p, close, buf, sizeof buf));
    advance(p, close);
    p->depth--;
    return e;
  }
  if (t.type == T_BAD)
    return fail(p, t, "unexpected character%s", found(p, t, buf, sizeof buf));
  return fail(p, t, "expected a number%s", found(p, t, buf, sizeof buf));
}

static size_t binary(parser *p, weft_op op, tok t, size_t lhs, size_t rhs) {
  if (rhs == NONE)
    return NONE;
  expr_node n = {EXPR_BINARY, op, weft_none(), lhs, rhs, column(p, t)};
  return push(p, n);
}

/* power := atom ('**' unary)? */
static size_t parse_power(parser *p) {
  size_t base = parse_atom(p);
  if (base == NONE)
    return NONE;
  tok t = peek(p);
  if (t.type != T_DSTAR)
    return base;
  if (++p->depth > MAX_DEPTH) /* 2 ** 2 ** ... recurses to the right */
    return fail(p, t, "expression nested too deeply");
  advance(p, t);
  size_t exponent = parse_unary(p);
  p->depth--;
  return binary(p, WEFT_OP_POW, t, base, exponent);
}

/* unary := ('-' | '+') unary | power */
static size_t parse_unary(parser *p) {
  tok t = peek(p);
  if (t.type != T_MINUS && t.type != T_PLUS)
    return parse_power(p);
  if (++p->depth > MAX_DEPTH)
    return fail(p, t, "expression nested too deeply");
  advance(p, t);
  size_t e = parse_unary(p);
  p->depth--;
  if (e == NONE || t.type == T_PLUS)
    return e;
  expr_node *operand = &p->t->nodes[e];
  if (operand->kind == EXPR_NUM) { /* -3 is a number, not a task */
    if (operand->num.type == WEFT_T_INT)
      operand->num.as.i = -operand->num.as.i;
    else
      operand->num.as.d = -operand->num.as.d;
    operand->col = column(p, t);
    return e;
  }
  expr_node n = {EXPR_NEG, WEFT_OP_NEG, weft_none(), e, NONE, column(p, t)};
  return push(p, n);
}

/* term := unary (('*' | '/' | '//' | '%') unary)* */
static size_t parse_term(parser *p) {
  size_t lhs = parse_unary(p);
  while (lhs != NONE) {
    tok t = peek(p);
    weft_op op;
    if (t.type == T_STAR)
      op = WEFT_OP_MUL;
    else if (t.type == T_SLASH)
      op = WEFT_OP_DIV;
    else if (t.type == T_DSLASH)
      op = WEFT_OP_FLOORDIV;
    else if (t.type == T_PCT)
      op = WEFT_OP_MOD;
    else
      break;
    advance(p, t);
    lhs = binary(p, op, t, lhs, parse_unary(p));
  }
  return lhs;
}

/* expr := term (('+' | '-') term)* */
static size_t parse_expr(parser *p) {
  size_t lhs = parse_term(p);
  while (lhs != NONE) {
    tok t = peek(p);
    if (t.type != T_PLUS && t.type != T_MINUS)
      break;
    advance(p, t);
    lhs = binary(p, t.type == T_PLUS ? WEFT_OP_ADD : WEFT_OP_SUB, t, lhs,
                 parse_term(p));
  }
  return lhs;
}

int expr_parse(const char *text, expr_tree *tree, char *msg, size_t msgsize,
               int *col) {
  int dummy;
  parser p = {text ? text : "",  0, tree, 0, 0, msg, msgsize,
              col ? col : &dummy};
  memset(tree, 0, sizeof *tree);
  if (msgsize)
    msg[0] = '\0';
  size_t root = parse_expr(&p);
  if (root != NONE) {
    char buf[64];
    tok t = peek(&p);
    if (t.type == T_RPAREN)
      root = fail(&p, t, "unexpected ')' with no '(' before it");
    else if (t.type != T_END)
      root =
          fail(&p, t, "expected an operator%s", found(&p, t, buf, sizeof buf));
  }
  if (root == NONE) {
    expr_free(tree);
    return -1;
  }
  /* The root is the last node pushed: post-order holds. */
  return 0;
}

void expr_free(expr_tree *tree) {
  if (!tree)
    return;
  free(tree->nodes);
  memset(tree, 0, sizeof *tree);
}
