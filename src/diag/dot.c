/* dot.c - pictures of task graphs, Dask's .visualize() (weft/visualize.h).
 *
 * Two steps. First the graph becomes DOT text, drawn the way Dask draws
 * its graphs: each task is an ellipse labelled with its function (the
 * operator's symbol for the built-in arithmetic, "inc(1)" style when some
 * arguments are literals, a "·" standing for each argument that is another
 * task's result), each task's result is a box below it, and the edges
 * follow the data: task -> its result -> the tasks that read it. Only the
 * nodes that the requested ones need are drawn (a reverse walk over the
 * arguments, which leaves the graph untouched: unlike the compute plan it
 * resolves no weft_ref for good and stops at no cycle). Node ids are t<i>
 * for task i and r<i> for its result, so they are always valid DOT.
 *
 * Then, for SVG, PNG or PDF, the text goes through the Graphviz library
 * (libgvc: read, lay out with dot, render into memory) and weft writes the
 * file itself, so a bad path is a WEFT_EIO and never Graphviz's exit().
 * Graphviz keeps global state, so those calls are serialised by one lock;
 * its error messages are caught and reported through weft_graph_error. */
#include "dot.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/graph_impl.h"
#include "diag_impl.h"
#include "weft/error.h"
#include "weft/visualize.h"

#if WEFT_HAVE_GRAPHVIZ
#include "gv_load.h"
#endif

/* Labels stay readable: each literal and each whole label is cut to this
 * many bytes (then "..." is appended). */
#define LITERAL_MAX 24
#define LABEL_MAX 64
static const char PLACEHOLDER[] = "\xc2\xb7"; /* U+00B7 MIDDLE DOT */

/* ---- a growable string ---- */

typedef struct sbuf {
  char *p;
  size_t len, cap;
  bool oom;
} sbuf;

static void sb_grow(sbuf *s, size_t more) {
  if (s->oom || s->len + more < s->cap)
    return;
  size_t cap = s->cap ? s->cap : 256;
  while (cap <= s->len + more)
    cap *= 2;
  char *p = realloc(s->p, cap);
  if (!p) {
    s->oom = true;
    return;
  }
  s->p = p;
  s->cap = cap;
}

static void sb_putn(sbuf *s, const char *t, size_t n) {
  sb_grow(s, n + 1);
  if (s->oom)
    return;
  memcpy(s->p + s->len, t, n);
  s->len += n;
  s->p[s->len] = '\0';
}

static void sb_puts(sbuf *s, const char *t) { sb_putn(s, t, strlen(t)); }

static void sb_printf(sbuf *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    sb_putn(s, small, (size_t)n);
    return;
  }
  sb_grow(s, (size_t)n + 1);
  if (s->oom)
    return;
  va_start(ap, fmt);
  vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  s->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at t (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *t, size_t n) {
  size_t len = t[0] >= 0xf0 && t[0] <= 0xf4   ? 4
               : t[0] >= 0xe0                 ? 3
               : t[0] >= 0xc2 && t[0] <= 0xdf ? 2
                                              : 0;
  if (!len || len > n)
    return 0;
  for (size_t k = 1; k < len; k++)
    if ((t[k] & 0xc0) != 0x80)
      return 0;
  return len;
}

/* Appends t as the inside of a DOT quoted string: quotes and backslashes
 * escaped (a backslash would start a Graphviz escape such as \N), control
 * characters as spaces, bytes that are not UTF-8 as '?'. */
static void sb_escaped(sbuf *s, const char *t) {
  const unsigned char *u = (const unsigned char *)t;
  size_t n = strlen(t);
  for (size_t i = 0; i < n;) {
    unsigned char c = u[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_putn(s, e, 2);
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      sb_putn(s, c == '\n' ? "\\n" : " ", c == '\n' ? 2 : 1);
      i++;
    } else if (c < 0x80) {
      sb_putn(s, (const char *)&u[i], 1);
      i++;
    } else {
      size_t k = utf8_seq(&u[i], n - i);
      sb_putn(s, k ? (const char *)&u[i] : "?", k ? k : 1);
      i += k ? k : 1;
    }
  }
}

/* Cuts s back to at most `max` bytes past `from`, on a UTF-8 character
 * boundary, and marks the cut with "...". */
static void sb_cut(sbuf *s, size_t from, size_t max) {
  if (s->oom || s->len - from <= max)
    return;
  size_t end = from + max;
  while (end > from && ((unsigned char)s->p[end] & 0xc0) == 0x80)
    end--;
  s->len = end;
  s->p[end] = '\0';
  sb_puts(s, "...");
}

/* ---- numbers and literals as text ---- */

/* A literal argument as it appears in a label: numbers as Python prints
 * them, strings quoted, anything long cut short. */
static void put_literal(sbuf *s, const weft_value *v) {
  size_t from = s->len;
  char buf[LITERAL_MAX * 4 + 8];
  if (v->type == WEFT_T_DOUBLE) {
    weft__repr_double(v->as.d, buf, sizeof buf);
    sb_puts(s, buf);
  } else if (v->type == WEFT_T_STR) {
    sb_puts(s, "'");
    sb_puts(s, weft_value_str(v));
    sb_cut(s, from, LITERAL_MAX - 1);
    sb_puts(s, "'");
    return;
  } else {
    weft_value_format(v, buf, sizeof buf);
    sb_puts(s, buf);
  }
  sb_cut(s, from, LITERAL_MAX);
}

/* ---- labels ---- */

/* The built-in operator behind fn, or -1. */
static int builtin_op(const weft_fn_info *fn) {
  for (int op = 0; op < WEFT_OP__COUNT; op++)
    if (weft_op_fn((weft_op)op) == fn)
      return op;
  return -1;
}

static const char *fn_display_name(const weft_fn_info *fn) {
  const char *name = fn && fn->name ? fn->name : "?";
  return strncmp(name, "weft.", 5) == 0 ? name + 5 : name;
}

static void put_arg(sbuf *s, const weft_value *a) {
  if (a->type == WEFT__T_NODE)
    sb_puts(s, PLACEHOLDER);
  else
    put_literal(s, a);
}

/* The label of task i, raw (escaped when written): "inc(1)", "inc",
 * "3 + 7", "*", "ma_fonction(·, 1)". */
static void task_label(const weft_graph *g, uint32_t i, sbuf *s) {
  const weft__node *nd = &g->nodes[i];
  const weft_value *a = &g->args[nd->argoff];
  size_t from = s->len;
  if (nd->flags & WEFT__NF_REF) {
    sb_puts(s, "ref(");
    if (a[0].type == WEFT__T_KEYREF) {
      weft_value key = a[0];
      key.type = WEFT_T_STR;
      put_literal(s, &key);
    } else { /* resolved by a compute: the key of the node it names */
      char key[LITERAL_MAX * 4];
      weft__graph_key_of(g, (uint32_t)a[0].as.i, key, sizeof key);
      size_t at = s->len;
      sb_printf(s, "'%s", key);
      sb_cut(s, at, LITERAL_MAX - 1);
      sb_puts(s, "'");
    }
    sb_puts(s, ")");
    return;
  }
  int op = builtin_op(nd->fn);
  bool literals = nd->nrefs < nd->nargs;
  if (op >= 0 && op != WEFT_OP_NEG && nd->nargs == 2) {
    if (literals) {
      put_arg(s, &a[0]);
      sb_printf(s, " %s ", weft_op_symbol((weft_op)op));
      put_arg(s, &a[1]);
    } else {
      sb_puts(s, weft_op_symbol((weft_op)op));
    }
  } else {
    sb_puts(s, fn_display_name(nd->fn));
    if (literals) {
      sb_puts(s, "(");
      for (uint32_t k = 0; k < nd->nargs; k++) {
        if (k)
          sb_puts(s, ", ");
        put_arg(s, &a[k]);
        if (s->len - from > LABEL_MAX)
          break;
      }
      sb_puts(s, ")");
    }
  }
  sb_cut(s, from, LABEL_MAX);
}

/* ---- which nodes to draw ---- */

/* The producer that argument a refers to: 0 and *p, or -1 (a literal, or a
 * weft_ref key that names no node yet). */
static int producer(const weft_graph *g, const weft_value *a, uint32_t *p) {
  if (a->type == WEFT__T_NODE) {
    *p = (uint32_t)a->as.i;
    return 0;
  }
  if (a->type == WEFT__T_KEYREF) {
    weft_value key = *a;
    key.type = WEFT_T_STR;
    return weft__keys_find(&g->keys, weft_value_str(&key), p) == 0 ? 0 : -1;
  }
  return -1;
}

/* Marks in `need` (one byte per node: 1 needed, 2 also requested) the nodes
 * that computing outs[0..n) runs; n == 0 marks every node. */
static int mark_needed(const weft_graph *g, size_t n, const uint32_t *outs,
                       uint8_t *need) {
  uint32_t N = g->nnodes;
  if (n == 0) {
    memset(need, 1, N);
    return 0;
  }
  uint32_t *stack = malloc((size_t)N * sizeof *stack);
  if (!stack)
    return WEFT_ENOMEM;
  size_t sp = 0;
  for (size_t o = 0; o < n; o++) {
    if (!need[outs[o]])
      stack[sp++] = outs[o];
    need[outs[o]] = 2;
  }
  while (sp) {
    const weft__node *nd = &g->nodes[stack[--sp]];
    for (uint32_t k = 0; k < nd->nargs; k++) {
      uint32_t p;
      if (producer(g, &g->args[nd->argoff + k], &p) == 0 && !need[p]) {
        need[p] = 1;
        stack[sp++] = p;
      }
    }
  }
  free(stack);
  return 0;
}

/* ---- DOT text ---- */

void weft_visualize_opts_init(weft_visualize_opts *opts) {
  if (!opts)
    return;
  opts->rankdir = NULL;
  opts->format = NULL;
  opts->color = 0;
  opts->trace = NULL;
  opts->max_tasks = 0;
}

/* ---- after a compute: durations and bytes from a trace ---- */

typedef struct note {
  uint64_t ns, bytes;
  bool ran;
} note;

/* Per node, what the trace's last compute of g says (NULL when the trace
 * has none: no notes). */
static note *notes_of(const weft_graph *g, const weft_trace *t) {
  if (!t)
    return NULL;
  const weft__tcomp *c = NULL;
  for (size_t k = t->ncomps; k-- > 0 && !c;)
    if (t->comps[k]->graph == (const void *)g && t->comps[k]->ended)
      c = t->comps[k];
  if (!c)
    return NULL;
  note *v = calloc(g->nnodes ? g->nnodes : 1, sizeof *v);
  if (!v)
    return NULL;
  for (int l = 0; l < c->nlanes; l++) {
    weft__lane_it it;
    weft__trec rec;
    const weft__trec *r = &rec;
    weft__lane_first(&c->lanes[l], &it);
    while (weft__lane_next(c, &c->lanes[l], &it, &rec))
      if (r->kind == WEFT__TR_TASK && r->task < g->nnodes) {
        v[r->task].ran = true;
        v[r->task].ns = r->end - r->start;
        v[r->task].bytes = r->bytes;
      }
  }
  return v;
}

static void put_duration(sbuf *s, uint64_t ns) {
  if (ns < 1000)
    sb_printf(s, "%llu ns", (unsigned long long)ns);
  else if (ns < 1000000)
    sb_printf(s, "%.1f us", (double)ns / 1e3);
  else if (ns < 1000000000)
    sb_printf(s, "%.1f ms", (double)ns / 1e6);
  else
    sb_printf(s, "%.2f s", (double)ns / 1e9);
}

static void put_bytes(sbuf *s, uint64_t b) {
  if (b < 10000)
    sb_printf(s, "%llu B", (unsigned long long)b);
  else if (b < 10000000)
    sb_printf(s, "%.1f kB", (double)b / 1e3);
  else
    sb_printf(s, "%.1f MB", (double)b / 1e6);
}

/* The rankdir of opts in Graphviz's spelling, or NULL when it is none. */
static const char *rankdir_of(const weft_visualize_opts *opts) {
  static const char *const dirs[] = {"TB", "LR", "BT", "RL"};
  if (!opts || !opts->rankdir)
    return "TB";
  for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++)
    if (strcasecmp(opts->rankdir, dirs[k]) == 0)
      return dirs[k];
  return NULL;
}

/* Checks g, the nodes and the options; fills idx[] with node indices. */
static int check_request(weft_graph *g, size_t n, weft_node *const nodes[],
                         const weft_visualize_opts *opts, const char *what,
                         uint32_t *idx) {
  if (g->running)
    return weft__graph_msg(g, WEFT_EBUSY, "%s: the graph is being computed",
                           what);
  if (n && !nodes)
    return weft__graph_msg(g, WEFT_EINVAL, "%s: NULL node array", what);
  for (size_t k = 0; k < n; k++) {
    int rc = weft__node_index(g, nodes[k], &idx[k]);
    if (rc)
      return weft__graph_msg(g, rc, "%s: node %zu is %s", what, k + 1,
                             rc == WEFT_EINVAL
                                 ? "NULL (did an earlier call fail?)"
                                 : "a node of another graph");
  }
  if (!rankdir_of(opts))
    return weft__graph_msg(g, WEFT_EINVAL,
                           "%s: rankdir '%s' is none of TB, LR, BT, RL", what,
                           opts->rankdir);
  return 0;
}

/* Writes the DOT text of the nodes marked in need. seen_by (one slot per
 * node, zeroed) lets each producer -> task edge be drawn once however many
 * arguments repeat it. */
static void write_dot(const weft_graph *g, const uint8_t *need,
                      uint32_t *seen_by, const char *rankdir, bool color,
                      const note *notes, sbuf *s) {
  sbuf label = {0};
  char key[256];
  sb_puts(s, "digraph weft {\n");
  sb_printf(s, "  graph [rankdir=%s];\n", rankdir);
  for (uint32_t i = 0; i < g->nnodes && !s->oom; i++) {
    if (!need[i])
      continue;
    const weft__node *nd = &g->nodes[i];
    const weft_value *a = &g->args[nd->argoff];
    const char *bold = need[i] == 2 ? ", penwidth=2" : "";
    bool keyed = nd->flags & WEFT__NF_KEYED;
    weft__graph_key_of(g, i, key, sizeof key);
    /* weft_literal: data only, a box that shows the value */
    if (nd->fn == &weft__fn_identity && !(nd->flags & WEFT__NF_REF) &&
        nd->nargs == 1 && a[0].type != WEFT__T_NODE) {
      label.len = 0;
      if (keyed) {
        sb_puts(&label, key);
        sb_puts(&label, " = ");
      }
      put_literal(&label, &a[0]);
      sb_printf(s, "  r%u [shape=box, label=\"", i);
      sb_escaped(s, label.oom ? "?" : label.p);
      sb_puts(s, "\", tooltip=\"");
      sb_escaped(s, key);
      sb_printf(s, "\"%s];\n", bold);
      continue;
    }
    label.len = 0;
    task_label(g, i, &label);
    if (notes && notes[i].ran) { /* after a compute: how long, how big */
      sb_puts(&label, "\n");
      put_duration(&label, notes[i].ns);
      sb_puts(&label, ", ");
      put_bytes(&label, notes[i].bytes);
    }
    sb_printf(s, "  t%u [shape=ellipse, ", i);
    if (color)
      sb_printf(s, "style=filled, fillcolor=\"%s80\", ",
                weft__fn_colour(nd->fn->name));
    sb_puts(s, "label=\"");
    sb_escaped(s, label.oom ? "?" : label.p);
    sb_puts(s, "\", tooltip=\"");
    sb_escaped(s, key);
    if ((nd->flags & WEFT__NF_REF) && a[0].type == WEFT__T_KEYREF) {
      uint32_t p;
      if (producer(g, &a[0], &p))
        sb_puts(s, " (undefined key)\", color=red, fontcolor=red");
      else
        sb_puts(s, "\"");
    } else {
      sb_puts(s, "\"");
    }
    sb_puts(s, "];\n");
    /* the result: an empty box as in Dask, named when the node has a key */
    sb_printf(s, "  r%u [shape=box, label=\"", i);
    if (keyed)
      sb_escaped(s, key);
    sb_puts(s, "\", tooltip=\"");
    sb_escaped(s, key);
    sb_printf(s, "\"%s];\n", bold);
    /* data flows in from each producer (once per producer), out to r<i> */
    for (uint32_t k = 0; k < nd->nargs; k++) {
      uint32_t p;
      if (producer(g, &a[k], &p) || seen_by[p] == i + 1)
        continue;
      seen_by[p] = i + 1;
      sb_printf(s, "  r%u -> t%u;\n", p, i);
    }
    sb_printf(s, "  t%u -> r%u;\n", i, i);
  }
  sb_puts(s, "}\n");
  if (label.oom)
    s->oom = true;
  free(label.p);
}

/* A big graph, summarised: one node per function (literals together), its
 * number of tasks (and, after a traced compute, their total time and
 * bytes), one edge per pair of functions that data flows between, labelled
 * with the number of task edges. 0 or WEFT_ENOMEM. */
static int write_summary(const weft_graph *g, const uint8_t *need,
                         const char *rankdir, bool color, const note *notes,
                         sbuf *s) {
  size_t ng = 0, cap = 16, ne = 0, ecap = 64;
  const weft_fn_info **fns = malloc(cap * sizeof *fns);
  uint64_t *cnt = calloc(cap, sizeof *cnt), *ns = calloc(cap, sizeof *ns),
           *by = calloc(cap, sizeof *by);
  uint32_t *grp = malloc((g->nnodes ? g->nnodes : 1) * sizeof *grp);
  uint64_t *edges = malloc(ecap * sizeof *edges); /* from << 32 | to */
  uint64_t *ecnt = malloc(ecap * sizeof *ecnt);
  int rc = fns && cnt && ns && by && grp && edges && ecnt ? 0 : WEFT_ENOMEM;
  for (uint32_t i = 0; i < g->nnodes && !rc; i++) {
    if (!need[i])
      continue;
    const weft_fn_info *fn = g->nodes[i].fn;
    size_t k = 0;
    while (k < ng && fns[k] != fn)
      k++;
    if (k == ng) {
      if (ng == cap) {
        cap *= 2;
        const weft_fn_info **f2 = realloc(fns, cap * sizeof *f2);
        uint64_t *c2 = f2 ? realloc(cnt, cap * sizeof *c2) : NULL;
        if (f2)
          fns = f2;
        if (c2)
          cnt = c2;
        uint64_t *n2 = c2 ? realloc(ns, cap * sizeof *n2) : NULL;
        if (n2)
          ns = n2;
        uint64_t *b2 = n2 ? realloc(by, cap * sizeof *b2) : NULL;
        if (!b2) {
          rc = WEFT_ENOMEM;
          break;
        }
        by = b2;
      }
      fns[ng] = fn;
      cnt[ng] = ns[ng] = by[ng] = 0;
      ng++;
    }
    grp[i] = (uint32_t)k;
    cnt[k]++;
    if (notes && notes[i].ran) {
      ns[k] += notes[i].ns;
      by[k] += notes[i].bytes;
    }
  }
  /* edges between groups: producer group -> consumer group */
  for (uint32_t i = 0; i < g->nnodes && !rc; i++) {
    if (!need[i])
      continue;
    const weft__node *nd = &g->nodes[i];
    const weft_value *a = &g->args[nd->argoff];
    for (uint32_t k = 0; k < nd->nargs; k++) {
      uint32_t p;
      if (producer(g, &a[k], &p) || !need[p])
        continue;
      uint64_t e = (uint64_t)grp[p] << 32 | grp[i];
      size_t j = 0;
      while (j < ne && edges[j] != e)
        j++;
      if (j == ne) {
        if (ne == ecap) {
          ecap *= 2;
          uint64_t *e2 = realloc(edges, ecap * sizeof *e2);
          if (e2)
            edges = e2;
          uint64_t *c2 = e2 ? realloc(ecnt, ecap * sizeof *c2) : NULL;
          if (!c2) {
            rc = WEFT_ENOMEM;
            break;
          }
          ecnt = c2;
        }
        edges[ne] = e;
        ecnt[ne++] = 0;
      }
      ecnt[j]++;
    }
  }
  if (!rc) {
    sb_puts(s, "digraph weft {\n");
    sb_printf(s, "  graph [rankdir=%s, label=\"summary: tasks grouped by "
                 "function\", labelloc=t];\n",
              rankdir);
    sbuf label = {0};
    for (size_t k = 0; k < ng; k++) {
      label.len = 0;
      sb_puts(&label, fns[k] == &weft__fn_identity ? "literal / ref"
                                                     : fn_display_name(fns[k]));
      sb_printf(&label, " x%llu", (unsigned long long)cnt[k]);
      if (notes) {
        sb_puts(&label, "\n");
        put_duration(&label, ns[k]);
        sb_puts(&label, ", ");
        put_bytes(&label, by[k]);
      }
      sb_printf(s, "  g%zu [shape=box, style=\"rounded%s\", ", k,
                color ? ",filled" : "");
      if (color)
        sb_printf(s, "fillcolor=\"%s80\", ", weft__fn_colour(fns[k]->name));
      sb_puts(s, "label=\"");
      sb_escaped(s, label.oom ? "?" : label.p);
      sb_puts(s, "\"];\n");
    }
    free(label.p);
    for (size_t j = 0; j < ne; j++)
      sb_printf(s, "  g%u -> g%u [label=\"%llu\"];\n",
                (unsigned)(edges[j] >> 32), (unsigned)(uint32_t)edges[j],
                (unsigned long long)ecnt[j]);
    sb_puts(s, "}\n");
  }
  free(fns);
  free(cnt);
  free(ns);
  free(by);
  free(grp);
  free(edges);
  free(ecnt);
  return rc;
}

/* Builds the DOT text of the request into *out (malloc'd). */
static int make_dot(weft_graph *g, size_t n, weft_node *const nodes[],
                    const weft_visualize_opts *opts, const char *what,
                    char **out) {
  uint32_t small[16];
  uint32_t *idx = n <= 16 ? small : malloc(n * sizeof *idx);
  uint8_t *need = calloc(g->nnodes ? g->nnodes : 1, 1);
  uint32_t *seen_by = calloc(g->nnodes ? g->nnodes : 1, sizeof *seen_by);
  sbuf s = {0};
  int rc = 0;
  if (!idx || !need || !seen_by) {
    rc = weft__graph_msg(g, WEFT_ENOMEM, "%s: out of memory", what);
    goto done;
  }
  rc = check_request(g, n, nodes, opts, what, idx);
  if (rc)
    goto done;
  if (mark_needed(g, n, idx, need)) {
    rc = weft__graph_msg(g, WEFT_ENOMEM, "%s: out of memory", what);
    goto done;
  }
  size_t ntasks = 0, max = opts && opts->max_tasks ? opts->max_tasks : 500;
  for (uint32_t i = 0; i < g->nnodes; i++)
    ntasks += need[i] != 0;
  note *notes = notes_of(g, opts ? opts->trace : NULL);
  if (ntasks > max)
    rc = write_summary(g, need, rankdir_of(opts), opts && opts->color, notes,
                       &s);
  else
    write_dot(g, need, seen_by, rankdir_of(opts), opts && opts->color, notes,
              &s);
  free(notes);
  if (rc) {
    rc = weft__graph_msg(g, rc, "%s: out of memory", what);
    goto done;
  }
  if (s.oom) {
    rc = weft__graph_msg(g, WEFT_ENOMEM,
                         "%s: out of memory writing the DOT text", what);
    goto done;
  }
  *out = s.p;
  s.p = NULL;
done:
  free(s.p);
  free(seen_by);
  free(need);
  if (idx != small)
    free(idx);
  return rc;
}

int weft_graph_to_dot(weft_graph *g, size_t n, weft_node *const nodes[],
                      const weft_visualize_opts *opts, char **dot) {
  if (dot)
    *dot = NULL;
  if (!g)
    return WEFT_EINVAL;
  if (!dot)
    return weft__graph_msg(g, WEFT_EINVAL,
                           "weft_graph_to_dot: NULL output pointer");
  return make_dot(g, n, nodes, opts, "weft_graph_to_dot", dot);
}

/* ---- files ---- */

static int write_file(weft_graph *g, const char *path, const char *data,
                      size_t len) {
  FILE *f = fopen(path, "wbe"); /* e: close-on-exec */
  if (!f)
    return weft__graph_msg(g, WEFT_EIO, "weft_visualize: cannot write '%s': %s",
                           path, strerror(errno));
  size_t put = fwrite(data, 1, len, f);
  int err = put == len ? 0 : errno;
  if (fclose(f) != 0 && !err)
    err = errno ? errno : EIO;
  if (put != len && !err)
    err = EIO;
  if (err)
    return weft__graph_msg(g, WEFT_EIO, "weft_visualize: writing '%s': %s",
                           path, strerror(err));
  return 0;
}

/* The format: opts->format, else the path's extension (".gv" is DOT too).
 * Returns "dot", "svg", "png", "pdf" or NULL. */
static const char *format_of(const char *path,
                             const weft_visualize_opts *opts) {
  static const char *const known[] = {"dot", "svg", "png", "pdf"};
  const char *f = opts ? opts->format : NULL;
  if (!f) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot)
      return NULL;
    f = dot + 1;
    if (strcasecmp(f, "gv") == 0)
      return "dot";
  }
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (strcasecmp(f, known[k]) == 0)
      return known[k];
  return NULL;
}

#if WEFT_HAVE_GRAPHVIZ
/* Graphviz keeps process-global state, so every call into it holds
 * gv_lock. Its error reporting is global too: under the lock its messages
 * land in gv_msg instead of on stderr. One Graphviz context serves the
 * whole process and is never freed: Graphviz 2.43's text layout (pango)
 * caches a font name from the first context, and reads it after that
 * context is freed when a second one renders (a use after free), and
 * gvFreeContext itself loses memory. */
static pthread_mutex_t gv_lock = PTHREAD_MUTEX_INITIALIZER;
static char gv_msg[512];
static GVC_t *gv_context; /* under gv_lock */

/* Graphviz's functions and its context (under gv_lock), or NULL with why
 * (loading failed, or the context could not start). */
static const weft__gv *gv_get(GVC_t **gvc, const char **why) {
  const weft__gv *gv = weft__gv_load(why);
  if (gv && !gv_context && !(gv_context = gv->gvContext())) {
    *why = "gvContext failed";
    gv = NULL;
  }
  *gvc = gv_context;
  return gv;
}

static int gv_catch(char *msg) {
  if (!gv_msg[0]) {
    snprintf(gv_msg, sizeof gv_msg, "%s", msg);
    size_t n = strlen(gv_msg);
    while (n && isspace((unsigned char)gv_msg[n - 1]))
      gv_msg[--n] = '\0';
  }
  return 0;
}

const char *weft__graphviz_version(void) {
  static char version[32];
  pthread_mutex_lock(&gv_lock);
  GVC_t *gvc;
  const char *why;
  const weft__gv *gv = gv_get(&gvc, &why);
  if (gv && !version[0]) {
    const char *v = gv->gvcVersion(gvc);
    snprintf(version, sizeof version, "%s", v && *v ? v : "unknown");
  }
  pthread_mutex_unlock(&gv_lock);
  return gv ? version : NULL;
}

/* Lays the DOT text out and renders it in `format`: 0 with *data (free
 * with gvFreeRenderData) and *len, or an error with the message in g. */
static int gv_render(weft_graph *g, const char *dot, const char *format,
                     char **data, unsigned *len) {
  int rc = 0;
  pthread_mutex_lock(&gv_lock);
  GVC_t *gvc;
  const char *why;
  const weft__gv *gv = gv_get(&gvc, &why);
  if (!gv) {
    pthread_mutex_unlock(&gv_lock);
    return weft__graph_msg(g, WEFT_ENOTSUP,
                           "weft_visualize: %s needs Graphviz, which %s "
                           "(install the graphviz package, or write .dot)",
                           format, why);
  }
  gv_msg[0] = '\0';
  agusererrf old = gv->agseterrf(gv_catch);
  Agraph_t *ag = gv->agmemread(dot);
  if (!ag) {
    rc = weft__graph_msg(g, WEFT_EINVAL,
                         "weft_visualize: Graphviz cannot read the DOT text: "
                         "%s",
                         gv_msg[0] ? gv_msg : "syntax error");
    goto out;
  }
  if (gv->gvLayout(gvc, ag, "dot") != 0) {
    rc = weft__graph_msg(g, WEFT_ENOTSUP,
                         "weft_visualize: Graphviz layout failed: %s",
                         gv_msg[0] ? gv_msg : "no 'dot' layout plugin");
    goto out;
  }
  if (gv->gvRenderData(gvc, ag, format, data, len) != 0 || !*data) {
    rc = weft__graph_msg(
        g, WEFT_ENOTSUP, "weft_visualize: Graphviz cannot render %s: %s",
        format, gv_msg[0] ? gv_msg : "no plugin for that format");
    if (*data)
      gv->gvFreeRenderData(*data);
    *data = NULL;
  }
  gv->gvFreeLayout(gvc, ag);
out:
  if (ag)
    gv->agclose(ag);
  gv->agseterrf(old);
  pthread_mutex_unlock(&gv_lock);
  return rc;
}
#else
const char *weft__graphviz_version(void) { return NULL; }
#endif

/* The format to write path in ("dot", "svg", ...), or an error naming what
 * is wrong with the file name or the format, or that the format needs the
 * Graphviz this weft was built without. */
static int target_format(weft_graph *g, const char *path,
                         const weft_visualize_opts *opts, const char **format) {
  if (!path || !path[0])
    return weft__graph_msg(g, WEFT_EINVAL, "weft_visualize: no file name");
  *format = format_of(path, opts);
  if (!*format) {
    if (opts && opts->format)
      return weft__graph_msg(g, WEFT_EINVAL,
                             "weft_visualize: unknown format '%s' (dot, svg, "
                             "png or pdf)",
                             opts->format);
    return weft__graph_msg(g, WEFT_EINVAL,
                           "weft_visualize: cannot tell the format of '%s': "
                           "name it .dot, .svg, .png or .pdf, or set "
                           "opts.format",
                           path);
  }
#if !WEFT_HAVE_GRAPHVIZ
  if (strcmp(*format, "dot") != 0)
    return weft__graph_msg(g, WEFT_ENOTSUP,
                           "weft_visualize: %s needs Graphviz, and this weft "
                           "was built without it (install libgraphviz-dev "
                           "and rebuild, or write .dot)",
                           *format);
#endif
  return 0;
}

/* Writes DOT text `dot` to path in the format of path/opts (rendered by
 * Graphviz unless it is DOT). */
int weft__visualize_text(weft_graph *g, const char *dot, const char *path,
                         const weft_visualize_opts *opts) {
  const char *format;
  int rc = target_format(g, path, opts, &format);
  if (rc)
    return rc;
  if (strcmp(format, "dot") == 0)
    return write_file(g, path, dot, strlen(dot));
#if WEFT_HAVE_GRAPHVIZ
  char *data = NULL;
  unsigned len = 0;
  rc = gv_render(g, dot, format, &data, &len);
  if (rc)
    return rc;
  rc = write_file(g, path, data, len);
  weft__gv_load(NULL)->gvFreeRenderData(data);
  return rc;
#else
  return WEFT_ENOTSUP; /* refused by target_format */
#endif
}

int weft_visualize(weft_graph *g, size_t n, weft_node *const nodes[],
                   const char *path, const weft_visualize_opts *opts) {
  if (!g)
    return WEFT_EINVAL;
  const char *format; /* checked before the graph is walked */
  int rc = target_format(g, path, opts, &format);
  if (rc)
    return rc;
  char *dot = NULL;
  rc = make_dot(g, n, nodes, opts, "weft_visualize", &dot);
  if (rc)
    return rc;
  rc = weft__visualize_text(g, dot, path, opts);
  free(dot);
  return rc;
}
