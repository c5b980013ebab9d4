/* expr.h - the arithmetic expressions of `weft eval`, parsed with Python's
 * rules, so "(3 + 7) * (2 + 8) * ((2 * 3) - 1)" means what it means in the
 * course.
 *
 * Grammar (Python's precedence, loosest first):
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/' | '//' | '%') unary)*
 *   unary  := ('-' | '+') unary | power
 *   power  := atom ('**' unary)?        right-associative: 2**3**2 = 2**9;
 *                                       binds tighter than a unary minus on
 *                                       its left: -2**2 = -(2**2) = -4
 *   atom   := NUMBER | '(' expr ')'
 *   NUMBER := 12 | 1.5 | .5 | 1. | 1e3 | 2.5E-3   (ints are 64-bit)
 *
 * The tree lives in one array in post-order (every operand before its
 * operator), so walking it bottom-up is a plain loop, however deep. */
#ifndef WEFT_TOOLS_EXPR_H
#define WEFT_TOOLS_EXPR_H

#include <stddef.h>

#include "weft.h"

typedef enum expr_kind { EXPR_NUM, EXPR_BINARY, EXPR_NEG } expr_kind;

typedef struct expr_node {
  expr_kind kind;
  weft_op op;      /* EXPR_BINARY: the operator; EXPR_NEG: WEFT_OP_NEG */
  weft_value num;  /* EXPR_NUM: an int or a double */
  size_t lhs, rhs; /* operands (indices in the array); NEG uses lhs */
  int col;         /* 1-based column of the number or operator */
} expr_node;

typedef struct expr_tree {
  expr_node *nodes; /* post-order: the root is last */
  size_t n, cap;
} expr_tree;

/* Parses text. Returns 0 and fills *tree (free it with expr_free), or -1
 * with a message ("expected a number") and its 1-based column in *col.
 * A minus sign in front of a number is folded into it ("-3" is a number,
 * not a task). */
int expr_parse(const char *text, expr_tree *tree, char *msg, size_t msgsize,
               int *col);
void expr_free(expr_tree *tree);

#endif
