/* weft/graph.h - building task graphs lazily: the delayed API.
 *
 * A weft_graph holds tasks; a task (a node) is a registered function plus
 * its arguments, each a literal value or another node of the same graph.
 * Nothing runs while the graph is built: weft_compute (weft/compute.h) runs
 * only what the requested outputs need. Nodes are light handles (never
 * dereference them); they stay valid until the graph is freed.
 *
 *   weft_graph *g = weft_graph_new();
 *   weft_node *x = weft_call(g, inc, 1);       // literals convert by _Generic
 *   weft_node *y = weft_call(g, dec, 2);
 *   weft_node *z = weft_add(g, x, y);           // built-in arithmetic
 *
 * Errors while building are sticky, like a stream's error flag: the failing
 * call returns NULL, the graph remembers the first error (weft_graph_status,
 * weft_graph_error), and every later compute of the graph returns it. A NULL
 * node given as an argument is itself reported, naming the argument.
 *
 * Thread-safety: one graph is built from one thread at a time; different
 * graphs are independent. Building is lock-free and allocates in bulk, so a
 * million nodes take a few milliseconds. */
#ifndef WEFT_GRAPH_H
#define WEFT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "fn.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_graph weft_graph;
typedef struct weft_node weft_node; /* opaque handle, never dereferenced */

/* A new empty graph, or NULL when out of memory. */
weft_graph *weft_graph_new(void);
/* Frees the graph, its nodes and the literal values it holds. NULL: no-op.
 * Not while a compute of it runs. */
void weft_graph_free(weft_graph *g);

size_t weft_graph_size(const weft_graph *g); /* number of nodes */
/* The first build error (0 if none). */
int weft_graph_status(const weft_graph *g);
/* The message of the last error of this graph, build or compute ("" if
 * none): it names what was wrong (the task key and function, the argument,
 * the cycle). Valid until the next call on g. Never NULL. */
const char *weft_graph_error(const weft_graph *g);

/* What a graph holds, for sizing and for memory budgets. */
typedef struct weft_graph_info {
  size_t nodes;      /* tasks */
  size_t deps;       /* dependencies: arguments that are nodes */
  size_t args;       /* argument slots, literals and node references */
  size_t node_bytes; /* size of one task node record */
  size_t bytes;      /* bytes the graph's own arrays hold (nodes, argument
                        slots, successor lists, roots, keys, compute
                        scratch), reserved capacity included; the memory of
                        literal strings, lists and results is not counted */
} weft_graph_info;
/* Fills *out; O(nodes) (counts dependencies). 0 or WEFT_EINVAL (NULL g or
 * out). Not while a compute of g runs on another thread. */
int weft_graph_inspect(const weft_graph *g, weft_graph_info *out);

/* ---- nodes ---- */

/* The general form: a node running fn on nargs arguments. args[i] is a
 * literal value or weft_node_ref(node). The graph takes over the references
 * held by args, also on failure. Returns NULL on error (sticky, see above):
 * WEFT_EINVAL (NULL graph or fn, NULL node), WEFT_EGRAPH (node of another
 * graph), WEFT_EARITY (fn's declared arity differs), WEFT_ENOMEM. */
weft_node *weft_call_fn(weft_graph *g, const weft_fn_info *fn, size_t nargs,
                        const weft_value *args);
/* Same with the function found by its registered name (WEFT_ENOTFOUND when
 * no function is registered under that name). */
weft_node *weft_call_name(weft_graph *g, const char *name, size_t nargs,
                          const weft_value *args);

/* weft_call(g, f, args...): f is a function registered in this translation
 * unit with WEFT_REGISTER or WEFT_DELAYED; each argument is a weft_node *, a
 * number, a string (copied), NULL (none) or a weft_value (taken over). 0 to
 * 16 args: weft_call(g, f) for none (weft_call0 is the same). A non-NULL
 * void * is refused (WEFT_EINVAL, naming the argument): pass pointers as
 * weft_ptr_new values. */
#define weft_call(g, f, ...)                                                   \
  weft_call_fn((g), WEFT_FN(f), WEFT__NARG0(__VA_ARGS__),                      \
               WEFT__ARGV(__VA_ARGS__))
#define weft_call0(g, f) weft_call_fn((g), WEFT_FN(f), 0, NULL)
/* The argument array, or NULL for none. */
#define WEFT__ARGV(...)                                                        \
  WEFT__FIRST(__VA_OPT__(((const weft_value[]){WEFT__ARGS(__VA_ARGS__)}), )    \
                  NULL, ~)
#define WEFT__FIRST(a, ...) a

/* A node whose result is v (the graph takes over v's reference). */
weft_node *weft_literal(weft_graph *g, weft_value v);

/* An argument that refers to node n's result. */
static inline weft_value weft_node_ref(weft_node *n) {
  weft_value v = {64 /* internal node tag */, 0, {.i = (int64_t)(uintptr_t)n}};
  return v;
}

/* Built-in arithmetic on int, double and bool results, with Python's rules:
 * the result CPython gives, to the last bit, for every operator (tested
 * against python3 itself). int op int stays int, any double makes a double,
 * bools count as ints, div is true division (always double; int / int is
 * the exact quotient rounded once), floordiv and mod floor toward
 * -infinity, pow follows CPython's special cases (1 ** nan is 1, 0 ** -inf
 * is inf...). What Python raises fails the task (division by zero, 0.0 to a
 * negative power, a float overflow in ** as "OverflowError: (34, 'Numerical
 * result out of range')"), and so do two results Python has but weft does
 * not: an int outside int64 (weft refuses to wrap) and a complex power of
 * a negative number. Operands: nodes or numbers. */
#define weft_add(g, a, b) weft__binop((g), WEFT_OP_ADD, WEFT_ARG(a), WEFT_ARG(b))
#define weft_sub(g, a, b) weft__binop((g), WEFT_OP_SUB, WEFT_ARG(a), WEFT_ARG(b))
#define weft_mul(g, a, b) weft__binop((g), WEFT_OP_MUL, WEFT_ARG(a), WEFT_ARG(b))
#define weft_div(g, a, b) weft__binop((g), WEFT_OP_DIV, WEFT_ARG(a), WEFT_ARG(b))
#define weft_floordiv(g, a, b)                                                 \
  weft__binop((g), WEFT_OP_FLOORDIV, WEFT_ARG(a), WEFT_ARG(b))
#define weft_mod(g, a, b) weft__binop((g), WEFT_OP_MOD, WEFT_ARG(a), WEFT_ARG(b))
#define weft_pow(g, a, b) weft__binop((g), WEFT_OP_POW, WEFT_ARG(a), WEFT_ARG(b))
#define weft_neg(g, a) weft__unop((g), WEFT_OP_NEG, WEFT_ARG(a))

typedef enum weft_op {
  WEFT_OP_ADD,
  WEFT_OP_SUB,
  WEFT_OP_MUL,
  WEFT_OP_DIV,
  WEFT_OP_FLOORDIV,
  WEFT_OP_MOD,
  WEFT_OP_POW,
  WEFT_OP_NEG,
  WEFT_OP__COUNT
} weft_op;

/* The registered function behind an operator ("weft.add", ...), so it can
 * be used with weft_call_fn or run by another process. */
const weft_fn_info *weft_op_fn(weft_op op);
/* The operator's symbol ("+", "-", "*", "/", "//", "%", "**", "neg"). */
const char *weft_op_symbol(weft_op op);
weft_node *weft__binop(weft_graph *g, weft_op op, weft_value a, weft_value b);
weft_node *weft__unop(weft_graph *g, weft_op op, weft_value a);

/* Sum of n nodes' numeric results (sum([]) is 0), and a list of n results. */
weft_node *weft_sum(weft_graph *g, size_t n, weft_node *const nodes[]);
weft_node *weft_list(weft_graph *g, size_t n, weft_node *const nodes[]);

/* ---- keys ---- */

/* Names node n (Dask's key). Keys are unique in a graph: WEFT_EEXIST when
 * another node has it, WEFT_EINVAL for an empty key or a node renamed. */
int weft_node_set_key(weft_graph *g, weft_node *n, const char *key);
/* Writes n's key into buf: the one set, or "<function>-<index>". Returns the
 * full length (snprintf-style), or 0 when n is not a node of g. */
size_t weft_node_key(const weft_graph *g, const weft_node *n, char *buf,
                     size_t size);
/* The node named key, or NULL. */
weft_node *weft_graph_find(const weft_graph *g, const char *key);
/* A forward reference: a node whose result is that of the node named key,
 * which may be defined later (Dask's dict graphs). Resolved when computed:
 * an undefined key or a cycle through references is a compute error that
 * names it. */
weft_node *weft_ref(weft_graph *g, const char *key);

/* 0-based creation index of n in g, or -1 when n is not a node of g. */
long weft_node_index(const weft_graph *g, const weft_node *n);
/* The function of node n (NULL when n is not a node of g). */
const weft_fn_info *weft_node_fn(const weft_graph *g, const weft_node *n);

/* ---- argument conversion (used by the macros above) ---- */
/* The C types a literal argument may have, and how each becomes a value:
 * shared by WEFT_ARG (graphs) and WEFT_CARG (client.h's futures). */
#define WEFT__ARG_LITERALS                                                     \
      bool: weft__arg_bool,                                                    \
      char: weft__arg_llong,                                                   \
      signed char: weft__arg_llong,                                            \
      short: weft__arg_llong,                                                  \
      int: weft__arg_llong,                                                    \
      long: weft__arg_llong,                                                   \
      long long: weft__arg_llong,                                              \
      unsigned char: weft__arg_llong,                                          \
      unsigned short: weft__arg_llong,                                         \
      unsigned: weft__arg_llong,                                               \
      unsigned long: weft__arg_ullong,                                         \
      unsigned long long: weft__arg_ullong,                                    \
      float: weft__arg_double,                                                 \
      double: weft__arg_double,                                                \
      char *: weft__arg_cstr,                                                  \
      const char *: weft__arg_cstr,                                            \
      weft_value: weft__arg_value
#define WEFT_ARG(x)                                                            \
  _Generic((x),                                                                \
      weft_node *: weft_node_ref,                                              \
      void *: weft__arg_voidp,                                                 \
      WEFT__ARG_LITERALS)(x)

static inline weft_value weft__arg_bool(bool b) { return weft_bool(b); }
static inline weft_value weft__arg_llong(long long i) { return weft_int(i); }
static inline weft_value weft__arg_double(double d) { return weft_double(d); }
static inline weft_value weft__arg_value(weft_value v) { return v; }
static inline weft_value weft__arg_ullong(unsigned long long u) {
  return u > (unsigned long long)INT64_MAX ? weft_double((double)u)
                                           : weft_int((int64_t)u);
}
weft_value weft__arg_cstr(const char *s); /* allocates a str */
/* NULL is none; another void * is marked, and weft_call_fn refuses it. */
static inline weft_value weft__arg_voidp(const void *p) {
  weft_value v = weft_none();
  if (p)
    v.aux = 1; /* a none with aux 1: "a non-NULL void * pointer" */
  return v;
}

#define WEFT__ARGS(...)                                                        \
  WEFT__CAT(WEFT__ARGS_, WEFT__NARG(__VA_ARGS__))(__VA_ARGS__)
#define WEFT__ARGS_1(a) WEFT_ARG(a)
#define WEFT__ARGS_2(a, ...) WEFT_ARG(a), WEFT__ARGS_1(__VA_ARGS__)
#define WEFT__ARGS_3(a, ...) WEFT_ARG(a), WEFT__ARGS_2(__VA_ARGS__)
#define WEFT__ARGS_4(a, ...) WEFT_ARG(a), WEFT__ARGS_3(__VA_ARGS__)
#define WEFT__ARGS_5(a, ...) WEFT_ARG(a), WEFT__ARGS_4(__VA_ARGS__)
#define WEFT__ARGS_6(a, ...) WEFT_ARG(a), WEFT__ARGS_5(__VA_ARGS__)
#define WEFT__ARGS_7(a, ...) WEFT_ARG(a), WEFT__ARGS_6(__VA_ARGS__)
#define WEFT__ARGS_8(a, ...) WEFT_ARG(a), WEFT__ARGS_7(__VA_ARGS__)
#define WEFT__ARGS_9(a, ...) WEFT_ARG(a), WEFT__ARGS_8(__VA_ARGS__)
#define WEFT__ARGS_10(a, ...) WEFT_ARG(a), WEFT__ARGS_9(__VA_ARGS__)
#define WEFT__ARGS_11(a, ...) WEFT_ARG(a), WEFT__ARGS_10(__VA_ARGS__)
#define WEFT__ARGS_12(a, ...) WEFT_ARG(a), WEFT__ARGS_11(__VA_ARGS__)
#define WEFT__ARGS_13(a, ...) WEFT_ARG(a), WEFT__ARGS_12(__VA_ARGS__)
#define WEFT__ARGS_14(a, ...) WEFT_ARG(a), WEFT__ARGS_13(__VA_ARGS__)
#define WEFT__ARGS_15(a, ...) WEFT_ARG(a), WEFT__ARGS_14(__VA_ARGS__)
#define WEFT__ARGS_16(a, ...) WEFT_ARG(a), WEFT__ARGS_15(__VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
