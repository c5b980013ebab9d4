/* picture.c - weft_array_visualize: the task graph of a small array, and
 * for a big one (where a picture of every task could not be read) one box
 * per layer with its shape, dtype, chunks and tasks, the fused layers drawn
 * dashed inside the layer whose tasks compute them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../diag/dot.h"
#include "array_impl.h"
#include "weft/error.h"

static const char *gen_name(const weft_array *a) {
  switch (a->op) {
  case GEN_FULL:
    return a->weak ? "scalar" : a->pd[0] == 1 ? "ones"
                              : a->pd[0] == 0 ? "zeros"
                                              : "full";
  case GEN_ARANGE: return a->pi[1] ? "linspace" : "arange";
  case GEN_EYE: return "eye";
  case GEN_UNIFORM: return "random uniform";
  case GEN_NORMAL: return "random normal";
  }
  return "?";
}

static void layer_name(const weft_array *a, char *buf, size_t size) {
  if (a->label[0]) {
    snprintf(buf, size, "%s", a->label);
    return;
  }
  switch (a->kind) {
  case AK_GEN: snprintf(buf, size, "%s", gen_name(a)); return;
  case AK_VIEW: snprintf(buf, size, "slice / transpose / rechunk"); return;
  case AK_ELEM:
    if (a->op < EOP_UN)
      snprintf(buf, size, "%s", weft__aop_name(a->op));
    else if (a->op < EOP_CAST)
      snprintf(buf, size, "%s", weft__afn_name(a->op - EOP_UN));
    else
      snprintf(buf, size, "%s", a->op == EOP_CAST ? "astype"
                                : a->op == EOP_WHERE ? "where" : "clip");
    return;
  }
  snprintf(buf, size, "chunks");
}

typedef struct sbuf {
  char *p;
  size_t n, cap;
  int err;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void put(sbuf *b, const char *fmt, ...) {
  if (b->err)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k >= 0 && b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = b->cap * 2 + (size_t)(k > 0 ? k : 0) + 256;
    char *np = realloc(b->p, cap);
    if (!np) {
      b->err = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
}

static void layers(sbuf *b, const weft_array *a, const weft_array **seen,
                   size_t *nseen) {
  for (size_t i = 0; i < *nseen; i++)
    if (seen[i] == a)
      return;
  if (*nseen == 256)
    return;
  seen[(*nseen)++] = a;
  char name[64], shape[200];
  layer_name(a, name, sizeof name);
  weft__shape_str(a->ndim, a->shape, shape, sizeof shape);
  size_t nb = weft__array_nblocks(a);
  bool stored = a->kind == AK_CHUNKS;
  put(b, "  L%p [shape=box%s, label=\"%s\\n%s %s\\n%zu chunk%s%s\"];\n",
      (const void *)a, stored ? "" : ", style=dashed", name, shape,
      weft_dtype_name(a->dtype), nb, nb == 1 ? "" : "s",
      stored ? "" : " (fused)");
  for (int k = 0; k < a->nkids; k++) {
    layers(b, a->kid[k], seen, nseen);
    put(b, "  L%p -> L%p;\n", (const void *)a->kid[k], (const void *)a);
  }
}

int weft_array_visualize(weft_array *a, const char *path,
                         const weft_visualize_opts *opts) {
  if (!a)
    return WEFT_EINVAL;
  if (weft_graph_status(a->g))
    return weft_graph_status(a->g);
  size_t tasks = weft__array_task_count(a);
  if (tasks <= WEFT_ARRAY_PICTURE_TASKS) {
    size_t n;
    weft_node *const *nodes;
    int rc = weft_array_blocks(a, &n, &nodes);
    return rc ? rc : weft_visualize(a->g, n, nodes, path, opts);
  }
  sbuf b = {malloc(1024), 0, 1024, 0};
  if (!b.p)
    return weft__graph_msg(a->g, WEFT_ENOMEM, "out of memory");
  const weft_array *seen[256];
  size_t nseen = 0;
  put(&b, "digraph weft_array {\n  rankdir=%s;\n  label=\"%zu tasks: one box "
          "per layer (dashed: fused into the tasks of the layer below "
          "them)\";\n",
      opts && opts->rankdir ? opts->rankdir : "TB", tasks);
  layers(&b, a, seen, &nseen);
  put(&b, "}\n");
  int rc = b.err ? weft__graph_msg(a->g, WEFT_ENOMEM, "out of memory")
                 : weft__visualize_text(a->g, b.p, path, opts);
  free(b.p);
  return rc;
}
