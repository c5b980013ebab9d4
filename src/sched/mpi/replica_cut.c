/* mpi/replica_cut.c - rank 0's cut of a compute's graph in the replicated
 * mode: which worker rank owns each node (the owner map), and what each
 * rank's part of the GRAPH message (mpi/impl.h) must say so that the rank
 * needs nothing else: its nodes numbered by slot, the inputs it gets from
 * other ranks numbered after them, and for each node the ranks its result
 * goes to with the slot it has there. O(nodes + inputs) for rank 0; a
 * worker rank reads only its part (mpi/replica_graph.c).
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
#include <stdlib.h>
#include <string.h>

#include "replica.h"

/* ---- the owner map ---- */

static int owners(uint32_t n, const uint32_t *inoff, const uint32_t *in,
                  const uint8_t *local, const int *ranks, int m, int *owner) {
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

void weft__rep_cut_free(weft__rcut *c) {
  free(c->owner);
  free(c->slot);
  free(c->eslot);
  free(c->doff);
  free(c->drank);
  free(c->dslot);
  free(c->nown);
  free(c->next);
  free(c->roff);
  free(c->rnode);
}

int weft__rep_cut(weft__rcut *c) {
  uint32_t n = c->n, nn = n ? n : 1, ne = c->inoff[n];
  size_t size = (size_t)weft__mpi_g.size, nd = (size_t)ne + n;
  c->owner = malloc(nn * sizeof *c->owner);
  c->slot = malloc(nn * sizeof *c->slot);
  c->eslot = malloc((ne ? ne : 1) * sizeof *c->eslot);
  c->doff = calloc((size_t)nn + 1, sizeof *c->doff);
  c->drank = malloc((nd ? nd : 1) * sizeof *c->drank);
  c->dslot = malloc((nd ? nd : 1) * sizeof *c->dslot);
  c->nown = calloc(size, sizeof *c->nown);
  c->next = calloc(size, sizeof *c->next);
  c->roff = calloc(size + 1, sizeof *c->roff);
  c->rnode = malloc(nn * sizeof *c->rnode);
  uint32_t *coff = calloc((size_t)nn + 1, sizeof *coff),
           *cedge = malloc((ne ? ne : 1) * sizeof *cedge),
           *econ = malloc((ne ? ne : 1) * sizeof *econ),
           *fill = calloc(nn, sizeof *fill),
           *sidx = malloc(size * sizeof *sidx);
  uint32_t *stamp = calloc(size, sizeof *stamp);
  int rc = WEFT_ENOMEM;
  if (!c->owner || !c->slot || !c->eslot || !c->doff || !c->drank ||
      !c->dslot || !c->nown || !c->next || !c->roff || !c->rnode || !coff ||
      !cedge || !econ || !fill || !sidx || !stamp)
    goto out;
  if ((rc = owners(n, c->inoff, c->in, c->local, c->ranks, c->m, c->owner)))
    goto out;
  /* slots of own nodes, and each rank's nodes in graph order */
  for (uint32_t i = 0; i < n; i++) {
    int o = c->owner[i];
    c->slot[i] = o ? c->nown[o]++ : i;
    c->roff[o + 1]++;
  }
  for (size_t k = 0; k < size; k++)
    c->roff[k + 1] += c->roff[k];
  for (size_t k = 0; k < size; k++)
    sidx[k] = c->roff[k];
  for (uint32_t i = 0; i < n; i++)
    c->rnode[sidx[c->owner[i]]++] = i;
  /* consumers: the input edges reading each node, in graph order */
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t e = c->inoff[i]; e < c->inoff[i + 1]; e++) {
      econ[e] = i;
      coff[c->in[e] + 1]++;
    }
  for (uint32_t i = 0; i < n; i++)
    coff[i + 1] += coff[i];
  for (uint32_t e = 0; e < ne; e++) {
    uint32_t p = c->in[e];
    cedge[coff[p] + fill[p]++] = e;
  }
  /* destinations: the distinct other owners of consumers (rank 0 too),
   * each given the next input slot of its part; rank 0 for an output */
  size_t nx = 0;
  for (uint32_t p = 0; p < n; p++) {
    int op = c->owner[p];
    uint32_t st = p + 1;
    c->doff[p] = (uint32_t)nx;
    if (c->out[p] && op != 0) {
      stamp[0] = st;
      sidx[0] = p;
      c->drank[nx] = 0;
      c->dslot[nx++] = p;
    }
    for (uint32_t q = coff[p]; q < coff[p + 1]; q++) {
      uint32_t e = cedge[q];
      int o = c->owner[econ[e]];
      if (o == op) {
        c->eslot[e] = c->slot[p];
        continue;
      }
      if (stamp[o] != st) {
        stamp[o] = st;
        sidx[o] = o ? c->nown[o] + c->next[o]++ : p;
        c->drank[nx] = o;
        c->dslot[nx++] = sidx[o];
      }
      c->eslot[e] = sidx[o];
    }
  }
  c->doff[n] = (uint32_t)nx;
  rc = 0;
out:
  free(coff);
  free(cedge);
  free(econ);
  free(fill);
  free(sidx);
  free(stamp);
  return rc;
}
