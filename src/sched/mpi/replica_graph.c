/* mpi/replica_graph.c - a worker rank's reading of its part of a
 * replicated compute (the GRAPH record, laid out in mpi/impl.h, cut for
 * this rank by rank 0: mpi/replica_cut.c): its nodes with their keys and
 * literal arguments decoded, the inputs it will be pushed from other
 * ranks, each node's destinations, and the consumer lists and counts the
 * run needs. Everything is O(this rank's nodes): the rank knows nothing of
 * the rest of the graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"

void weft__rep_free(weft__rep *s) {
  for (uint32_t i = 0; s->nd && i < s->n; i++) {
    free(s->nd[i].key);
    for (uint32_t k = 0; s->nd[i].args && k < s->nd[i].nargs; k++)
      weft_value_release(&s->nd[i].args[k]);
    free(s->nd[i].args);
  }
  for (uint32_t i = 0; s->val && i < s->ns; i++)
    weft_value_release(&s->val[i]);
  for (size_t k = 0; k < s->nlit; k++)
    weft_value_release(&s->lits[k]);
  free(s->lits);
  for (size_t k = 0; k < s->nfn; k++)
    free(s->fnames[k]);
  free(s->fnames);
  free(s->fns);
  for (int k = 0; s->batch && k < weft__mpi_g.size; k++)
    weft_buf_free(&s->batch[k]);
  free(s->batch);
  weft_buf_free(&s->enc);
  free(s->nd);
  free(s->inoff);
  free(s->in);
  free(s->inpos);
  free(s->coff);
  free(s->cons);
  free(s->drank);
  free(s->dslot);
  free(s->pending);
  free(s->uses);
  free(s->val);
  free(s->have);
  free(s->stack);
  free(s->th);
}

static int grow(void **p, size_t *cap, size_t need, size_t each) {
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap : 16;
  while (c < need)
    c *= 2;
  void *x = realloc(*p, c * each);
  if (!x)
    return WEFT_ENOMEM;
  *p = x;
  *cap = c;
  return 0;
}

/* Node i's function: an index, or the next one's name. */
static int read_fn(weft__rep *s, weft__prd *r, weft__rnode *d) {
  uint64_t f;
  if (weft__prd_varint(r, &f) || f > s->nfn)
    return WEFT_EWIRE;
  if (f == s->nfn) {
    const uint8_t *name;
    size_t nname, c1 = s->cfn, c2 = s->cfn;
    if (weft__prd_bytes(r, &name, &nname))
      return WEFT_EWIRE;
    if (grow((void **)&s->fns, &c1, s->nfn + 1, sizeof *s->fns) ||
        grow((void **)&s->fnames, &c2, s->nfn + 1, sizeof *s->fnames))
      return WEFT_ENOMEM;
    s->cfn = c1 < c2 ? c1 : c2;
    if (!(s->fnames[s->nfn] = strndup((const char *)name, nname)))
      return WEFT_ENOMEM;
    if (weft_fn_find(s->fnames[s->nfn], &s->fns[s->nfn]))
      s->fns[s->nfn] = NULL; /* reported as the node's error */
    s->nfn++;
  }
  d->fn = s->fns[f];
  d->fi = (uint32_t)f;
  return 0;
}

/* A literal: its length, its bytes decoded into *v. */
static int read_lit(weft__prd *r, weft_value *v) {
  uint64_t x;
  if (weft__prd_varint(r, &x) || x > (uint64_t)(r->end - r->p))
    return WEFT_EWIRE;
  weft_wire_error err = {0};
  int rc = weft_wire_decode(r->p, (size_t)x, NULL, v, &err);
  r->p += x;
  return rc;
}

/* Node i of the part (its position and task read already). */
static int read_node(weft__rep *s, weft__prd *r, uint32_t i, size_t *ni,
                     size_t *cin) {
  weft__rnode *d = &s->nd[i];
  const uint8_t *kp;
  size_t nk;
  uint64_t nargs, ndest;
  int rc = read_fn(s, r, d);
  if (rc)
    return rc;
  if (weft__prd_bytes(r, &kp, &nk) || weft__prd_varint(r, &nargs) ||
      nargs > (uint64_t)(r->end - r->p))
    return WEFT_EWIRE;
  if (nk && !(d->key = strndup((const char *)kp, nk)))
    return WEFT_ENOMEM;
  d->nargs = (uint32_t)nargs;
  if (!(d->args = calloc(nargs ? nargs : 1, sizeof *d->args)))
    return WEFT_ENOMEM;
  for (uint32_t k = 0; k < d->nargs; k++) {
    uint8_t kind;
    uint64_t x;
    if (weft__prd_u8(r, &kind))
      return WEFT_EWIRE;
    if (kind == 0) { /* a literal of its own */
      if ((rc = read_lit(r, &d->args[k])))
        return rc;
      continue;
    }
    if (kind == 4) { /* the part's next shared literal */
      size_t c = s->clit;
      if (grow((void **)&s->lits, &c, s->nlit + 1, sizeof *s->lits))
        return WEFT_ENOMEM;
      s->clit = c;
      s->lits[s->nlit] = weft_none();
      if ((rc = read_lit(r, &s->lits[s->nlit])))
        return rc;
      d->args[k] = weft_value_retain(&s->lits[s->nlit++]);
      continue;
    }
    if (kind == 3) { /* a shared literal read before */
      if (weft__prd_varint(r, &x) || x >= s->nlit)
        return WEFT_EWIRE;
      d->args[k] = weft_value_retain(&s->lits[x]);
      continue;
    }
    /* an input: an earlier node of the part, or one pushed from another
     * rank */
    if (kind != 1 || weft__prd_varint(r, &x) || x >= s->ns ||
        (x >= i && x < s->n))
      return WEFT_EWIRE;
    size_t c1 = *cin, c2 = *cin;
    if (grow((void **)&s->in, &c1, *ni + 1, sizeof *s->in) ||
        grow((void **)&s->inpos, &c2, *ni + 1, sizeof *s->inpos))
      return WEFT_ENOMEM;
    *cin = c1 < c2 ? c1 : c2;
    s->in[*ni] = (uint32_t)x;
    s->inpos[(*ni)++] = k;
  }
  s->inoff[i + 1] = (uint32_t)*ni;
  if (weft__prd_varint(r, &ndest) || ndest > (uint64_t)(r->end - r->p))
    return WEFT_EWIRE;
  d->doff = (uint32_t)s->ndst;
  d->ndest = (uint32_t)ndest;
  size_t c3 = s->cdst, c4 = s->cdst;
  if (grow((void **)&s->drank, &c3, s->ndst + ndest, sizeof *s->drank) ||
      grow((void **)&s->dslot, &c4, s->ndst + ndest, sizeof *s->dslot))
    return WEFT_ENOMEM;
  s->cdst = c3 < c4 ? c3 : c4;
  for (uint64_t k = 0; k < ndest; k++) {
    uint64_t rank, slot;
    if (weft__prd_varint(r, &rank) || weft__prd_varint(r, &slot) ||
        rank >= (uint64_t)weft__mpi_g.size || (int)rank == s->me ||
        slot >= UINT32_MAX)
      return WEFT_EWIRE;
    s->drank[s->ndst] = (int)rank;
    s->dslot[s->ndst++] = (uint32_t)slot;
  }
  return 0;
}

/* Consumers and counts: what the run needs beyond the part. */
static int setup(weft__rep *s) {
  uint32_t n = s->n, ns = s->ns, nn = ns ? ns : 1, ne = s->inoff[n];
  s->coff = calloc((size_t)nn + 1, sizeof *s->coff);
  s->cons = malloc((ne ? ne : 1) * sizeof *s->cons);
  s->pending = calloc(n ? n : 1, sizeof *s->pending);
  s->uses = calloc(nn, sizeof *s->uses);
  s->val = calloc(nn, sizeof *s->val);
  s->have = calloc(nn, 1);
  s->stack = malloc((n ? n : 1) * sizeof *s->stack);
  s->batch = calloc((size_t)weft__mpi_g.size, sizeof *s->batch);
  uint32_t *fill = calloc(nn, sizeof *fill);
  if (!s->coff || !s->cons || !s->pending || !s->uses || !s->val || !s->have ||
      !s->stack || !s->batch || !fill) {
    free(fill);
    return WEFT_ENOMEM;
  }
  for (uint32_t e = 0; e < ne; e++)
    s->coff[s->in[e] + 1]++;
  for (uint32_t j = 0; j < ns; j++)
    s->coff[j + 1] += s->coff[j];
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t e = s->inoff[i]; e < s->inoff[i + 1]; e++) {
      uint32_t p = s->in[e];
      s->cons[s->coff[p] + fill[p]++] = i;
    }
  free(fill);
  for (uint32_t i = n; i-- > 0;) { /* the first root on top */
    s->pending[i] = (int32_t)(s->inoff[i + 1] - s->inoff[i]);
    for (uint32_t e = s->inoff[i]; e < s->inoff[i + 1]; e++)
      s->uses[s->in[e]]++;
    if (!s->pending[i])
      s->stack[s->sp++] = i;
  }
  for (uint32_t i = 0; i < n && !s->unknown; i++)
    if (!s->nd[i].fn)
      s->unknown = i + 1;
  return 0;
}

int weft__rep_parse(weft__rep *s, weft__prd *r) {
  uint64_t n, x;
  s->me = weft__mpi_g.rank;
  if (weft__prd_u8(r, &s->timing) || weft__prd_varint(r, &n) ||
      weft__prd_varint(r, &x) || n > (uint64_t)(r->end - r->p) ||
      x >= UINT32_MAX - n)
    return WEFT_EWIRE;
  s->n = (uint32_t)n;
  s->x = (uint32_t)x;
  s->ns = s->n + s->x;
  size_t nn = s->n ? s->n : 1, ni = 0, cin = 0;
  s->nd = calloc(nn, sizeof *s->nd);
  s->inoff = calloc(nn + 1, sizeof *s->inoff);
  if (!s->nd || !s->inoff)
    return WEFT_ENOMEM;
  for (uint32_t i = 0; i < s->n; i++) {
    uint64_t pos;
    if (weft__prd_varint(r, &pos) || pos >= UINT32_MAX ||
        weft__prd_u32(r, &s->nd[i].id))
      return WEFT_EWIRE;
    s->nd[i].pos = (uint32_t)pos;
    int rc = read_node(s, r, i, &ni, &cin);
    if (rc)
      return rc;
  }
  if (r->p != r->end)
    return WEFT_EWIRE;
  return setup(s);
}
