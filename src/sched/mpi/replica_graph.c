/* mpi/replica_graph.c - a worker rank's reading of the replicated mode's
 * GRAPH message (laid out in mpi/impl.h): the nodes, the owner map that
 * every rank computes alike from them (weft__rep_owners, rank 0 too), the
 * consumer lists, and the arguments of this rank's own nodes, decoded
 * from the message only for them (the others' are skipped by length).
 *
 * The owner map: the roots (nodes whose inputs, if any, are rank 0's) are
 * laid out in the order their first consumer reads them (the order the
 * graph uses them; roots nobody reads last, in graph order) and cut into
 * as many contiguous blocks as there are worker ranks: neighbouring chunks
 * of an array, and the two operands of one chunk task, land on the same
 * rank. Nodes that run in the program are rank 0's. Any other node goes
 * to the rank owning most of its inputs (argument slots; rank 0's do not
 * count), the first such input winning ties: element-wise chains stay
 * with their chunk, reductions combine where their inputs are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"

/* ---- the owner map (shared with rank 0) ---- */

int weft__rep_owners(uint32_t n, const uint32_t *inoff, const uint32_t *in,
                     const uint8_t *local, const int *ranks, int m,
                     int *owner) {
  int W = m - 1, maxr = 0;
  for (int k = 0; k < m; k++)
    maxr = ranks[k] > maxr ? ranks[k] : maxr;
  uint32_t *seq = malloc((n ? n : 1) * sizeof *seq);
  uint8_t *seen = calloc(n ? n : 1, 1), *rootish = calloc(n ? n : 1, 1);
  uint32_t *cnt = calloc((size_t)maxr + 1, sizeof *cnt);
  if (!seq || !seen || !rootish || !cnt || W < 1) {
    free(seq);
    free(seen);
    free(rootish);
    free(cnt);
    return WEFT_ENOMEM;
  }
  /* root-like: not rank 0's, and every input (if any) is rank 0's */
  for (uint32_t i = 0; i < n; i++) {
    rootish[i] = !local[i];
    for (uint32_t s = inoff[i]; rootish[i] && s < inoff[i + 1]; s++)
      rootish[i] = local[in[s]];
  }
  uint32_t R = 0;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t s = inoff[i]; !local[i] && !rootish[i] && s < inoff[i + 1];
         s++) {
      uint32_t p = in[s];
      if (rootish[p] && !seen[p]) {
        seen[p] = 1;
        seq[R++] = p;
      }
    }
  for (uint32_t i = 0; i < n; i++)
    if (rootish[i] && !seen[i])
      seq[R++] = i;
  for (uint32_t j = 0; j < R; j++)
    owner[seq[j]] = ranks[1 + (int)((uint64_t)j * (uint64_t)W / R)];
  for (uint32_t i = 0; i < n; i++) {
    if (local[i]) {
      owner[i] = 0;
      continue;
    }
    if (rootish[i])
      continue;
    int best = -1;
    uint32_t most = 0;
    for (uint32_t s = inoff[i]; s < inoff[i + 1]; s++) {
      int o = owner[in[s]];
      if (o == 0)
        continue; /* rank 0's inputs travel anyway */
      if (++cnt[o] > most) {
        most = cnt[o];
        best = o;
      } else if (cnt[o] == most && best != o) {
        /* a tie: the owner whose first input comes first keeps it */
        for (uint32_t t = inoff[i]; t < s; t++)
          if (owner[in[t]] == best || owner[in[t]] == o) {
            best = owner[in[t]];
            break;
          }
      }
    }
    owner[i] = best;
    for (uint32_t s = inoff[i]; s < inoff[i + 1]; s++)
      cnt[owner[in[s]]] = 0;
  }
  free(seq);
  free(seen);
  free(rootish);
  free(cnt);
  return 0;
}

void weft__rep_free(weft__rep *s) {
  for (uint32_t i = 0; s->nd && i < s->n; i++) {
    free(s->nd[i].key);
    for (uint32_t k = 0; s->nd[i].args && k < s->nd[i].nargs; k++)
      weft_value_release(&s->nd[i].args[k]);
    free(s->nd[i].args);
  }
  for (uint32_t i = 0; s->val && i < s->n; i++)
    weft_value_release(&s->val[i]);
  for (size_t k = 0; k < s->nlit; k++)
    weft_value_release(&s->lits[k].v);
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
  free(s->ranks);
  free(s->inoff);
  free(s->in);
  free(s->inpos);
  free(s->coff);
  free(s->cons);
  free(s->owner);
  free(s->pending);
  free(s->uses);
  free(s->val);
  free(s->have);
  free(s->stack);
  free(s->stamp);
  free(s->th);
}

/* Reads the GRAPH message (after its op and epoch). */
int weft__rep_parse(weft__rep *s, weft__prd *r) {
  uint64_t m, n;
  if (weft__prd_u8(r, &s->timing) || weft__prd_varint(r, &m) || m < 2 ||
      m > (uint64_t)weft__mpi_g.size)
    return WEFT_EWIRE;
  s->m = (int)m;
  if (!(s->ranks = calloc(m, sizeof *s->ranks)))
    return WEFT_ENOMEM;
  for (int k = 0; k < s->m; k++) {
    uint64_t x;
    if (weft__prd_varint(r, &x) || x >= (uint64_t)weft__mpi_g.size)
      return WEFT_EWIRE;
    s->ranks[k] = (int)x;
  }
  if (weft__prd_varint(r, &n) || n > (uint64_t)(r->end - r->p) ||
      n >= UINT32_MAX)
    return WEFT_EWIRE;
  s->n = (uint32_t)n;
  s->end = r->end;
  size_t nn = s->n ? s->n : 1, cap = 64;
  s->nd = calloc(nn, sizeof *s->nd);
  s->inoff = calloc(nn + 1, sizeof *s->inoff);
  s->in = malloc(cap * sizeof *s->in);
  s->inpos = malloc(cap * sizeof *s->inpos);
  if (!s->nd || !s->inoff || !s->in || !s->inpos)
    return WEFT_ENOMEM;
  uint32_t ni = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    weft__rnode *d = &s->nd[i];
    uint64_t nargs, f;
    if (weft__prd_u32(r, &d->id) || weft__prd_varint(r, &f) || f > s->nfn)
      return WEFT_EWIRE;
    if (f == s->nfn) { /* the next function: its name */
      const uint8_t *name;
      size_t nname;
      if (weft__prd_bytes(r, &name, &nname))
        return WEFT_EWIRE;
      if (s->nfn == s->cfn) {
        size_t c = s->cfn ? 2 * s->cfn : 16;
        const weft_fn_info **x = realloc(s->fns, c * sizeof *x);
        if (x)
          s->fns = x;
        char **y = realloc(s->fnames, c * sizeof *y);
        if (y)
          s->fnames = y;
        if (!x || !y)
          return WEFT_ENOMEM;
        s->cfn = c;
      }
      if (!(s->fnames[s->nfn] = strndup((const char *)name, nname)))
        return WEFT_ENOMEM;
      if (weft_fn_find(s->fnames[s->nfn], &s->fns[s->nfn]))
        s->fns[s->nfn] = NULL; /* an error if a node of it is this rank's */
      s->nfn++;
    }
    d->fn = s->fns[f];
    d->fi = (uint32_t)f;
    if (weft__prd_bytes(r, &d->kp, &d->nk) || weft__prd_u8(r, &d->out) ||
        weft__prd_varint(r, &nargs) || nargs > (uint64_t)(r->end - r->p))
      return WEFT_EWIRE;
    d->nargs = (uint32_t)nargs;
    d->ap = r->p; /* literals are decoded later, for this rank's nodes */
    for (uint32_t k = 0; k < d->nargs; k++) {
      uint8_t kind;
      uint64_t x;
      if (weft__prd_u8(r, &kind))
        return WEFT_EWIRE;
      if (kind == 2)
        continue; /* a value only rank 0 has: its node runs there */
      if (kind == 0 || kind == 4) { /* skipped by its length */
        if (weft__prd_varint(r, &x) || x > (uint64_t)(r->end - r->p))
          return WEFT_EWIRE;
        if (kind == 4) { /* the next shared literal */
          if (s->nlit == s->clit) {
            size_t c = s->clit ? 2 * s->clit : 64;
            weft__rlit *l = realloc(s->lits, c * sizeof *l);
            if (!l)
              return WEFT_ENOMEM;
            s->lits = l;
            s->clit = c;
          }
          s->lits[s->nlit++] =
              (weft__rlit){r->p, (size_t)x, false, weft_none()};
        }
        r->p += x;
        continue;
      }
      if (kind == 3) { /* a shared literal seen before */
        if (weft__prd_varint(r, &x) || x >= s->nlit)
          return WEFT_EWIRE;
        continue;
      }
      if (kind != 1 || weft__prd_varint(r, &x) || x >= i)
        return WEFT_EWIRE;
      if (ni == cap) {
        cap *= 2;
        uint32_t *a = realloc(s->in, cap * sizeof *a);
        if (a)
          s->in = a;
        uint32_t *b = realloc(s->inpos, cap * sizeof *b);
        if (b)
          s->inpos = b;
        if (!a || !b)
          return WEFT_ENOMEM;
      }
      s->in[ni] = (uint32_t)x;
      s->inpos[ni++] = k;
    }
    s->inoff[i + 1] = ni;
  }
  return r->p == r->end ? 0 : WEFT_EWIRE;
}

/* Node d is this rank's: its key and literal arguments, decoded from the
 * message. */
static int own_args(weft__rep *s, weft__rnode *d) {
  if (d->nk && !(d->key = strndup((const char *)d->kp, d->nk)))
    return WEFT_ENOMEM;
  if (!(d->args = calloc(d->nargs ? d->nargs : 1, sizeof *d->args)))
    return WEFT_ENOMEM;
  weft__prd r = {d->ap, s->end};
  for (uint32_t k = 0; k < d->nargs; k++) {
    uint8_t kind;
    uint64_t x;
    weft__prd_u8(&r, &kind); /* checked by parse */
    if (kind == 2)
      continue;
    if (kind == 1) {
      weft__prd_varint(&r, &x);
      continue;
    }
    weft__prd_varint(&r, &x);
    if (kind == 0) {
      weft_wire_error err = {0};
      int rc = weft_wire_decode(r.p, (size_t)x, NULL, &d->args[k], &err);
      if (rc)
        return rc;
      r.p += x;
      continue;
    }
    weft__rlit *l;
    if (kind == 4) { /* defined here: which one, by its bytes' place (the
                        literals are in message order) */
      size_t lo = 0, hi = s->nlit - 1;
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->lits[mid].p < r.p)
          lo = mid + 1;
        else
          hi = mid;
      }
      l = &s->lits[lo];
      r.p += x;
    } else
      l = &s->lits[x];
    if (!l->have) {
      weft_wire_error err = {0};
      int rc = weft_wire_decode(l->p, l->n, NULL, &l->v, &err);
      if (rc)
        return rc;
      l->have = true;
    }
    d->args[k] = weft_value_retain(&l->v);
  }
  return 0;
}

/* Everything the run needs beyond the graph: owners, consumers, counts;
 * s->unknown: a node of this rank whose function is not registered. */
int weft__rep_setup(weft__rep *s) {
  uint32_t n = s->n, nn = n ? n : 1, ne = s->inoff[n];
  s->me = weft__mpi_g.rank;
  s->owner = malloc(nn * sizeof *s->owner);
  s->coff = calloc(nn + 1, sizeof *s->coff);
  s->cons = malloc((ne ? ne : 1) * sizeof *s->cons);
  s->pending = calloc(nn, sizeof *s->pending);
  s->uses = calloc(nn, sizeof *s->uses);
  s->val = calloc(nn, sizeof *s->val);
  s->have = calloc(nn, 1);
  s->stack = malloc(nn * sizeof *s->stack);
  s->stamp = calloc((size_t)weft__mpi_g.size, sizeof *s->stamp);
  s->batch = calloc((size_t)weft__mpi_g.size, sizeof *s->batch);
  if (!s->owner || !s->coff || !s->cons || !s->pending || !s->uses || !s->val ||
      !s->have || !s->stack || !s->stamp || !s->batch)
    return WEFT_ENOMEM;
  uint8_t *local = malloc(nn);
  if (!local)
    return WEFT_ENOMEM;
  for (uint32_t i = 0; i < n; i++)
    local[i] = (s->nd[i].out & 2) != 0;
  int rc =
      weft__rep_owners(n, s->inoff, s->in, local, s->ranks, s->m, s->owner);
  free(local);
  if (rc)
    return rc;
  for (uint32_t e = 0; e < ne; e++)
    s->coff[s->in[e] + 1]++;
  for (uint32_t i = 0; i < n; i++)
    s->coff[i + 1] += s->coff[i];
  uint32_t *fill = calloc(nn, sizeof *fill);
  if (!fill)
    return WEFT_ENOMEM;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t e = s->inoff[i]; e < s->inoff[i + 1]; e++) {
      uint32_t p = s->in[e];
      s->cons[s->coff[p] + fill[p]++] = i;
    }
  free(fill);
  for (uint32_t i = n; i-- > 0;) { /* the first root on top */
    if (s->owner[i] != s->me)
      continue;
    if ((rc = own_args(s, &s->nd[i])))
      return rc;
    s->pending[i] = (int32_t)(s->inoff[i + 1] - s->inoff[i]);
    for (uint32_t e = s->inoff[i]; e < s->inoff[i + 1]; e++)
      s->uses[s->in[e]]++;
    if (!s->pending[i])
      s->stack[s->sp++] = i;
  }
  for (uint32_t i = 0; i < n && !s->unknown; i++)
    if (s->owner[i] == s->me && !s->nd[i].fn)
      s->unknown = i + 1;
  return 0;
}
