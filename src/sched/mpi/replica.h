/* mpi/replica.h - what the files of the replicated mode share (internal):
 * rank 0's cut of the graph into one part per worker rank
 * (mpi/replica_cut.c, used by mpi/replica_root.c), and a worker rank's
 * compute state, read from its part by mpi/replica_graph.c and run by
 * mpi/replica_worker.c. */
#ifndef WEFT_SCHED_MPI_REPLICA_H
#define WEFT_SCHED_MPI_REPLICA_H

#include <pthread.h>

#include "impl.h"

/* ---- rank 0: the cut (mpi/replica_cut.c) ---- */

/* The graph's n nodes (positions, in build order) with inputs in[inoff[i]
 * .. inoff[i + 1]) (producer positions, one per node argument, in argument
 * order); local[i]: it runs on rank 0, in the program; out[i]: an output.
 * The worker ranks taking part are ranks[1 .. m - 1] (ranks[0] is 0). */
typedef struct weft__rcut {
  uint32_t n;
  const uint32_t *inoff, *in;
  const uint8_t *local, *out;
  const int *ranks;
  int m;
  /* what weft__rep_cut fills in */
  int *owner;      /* per node: its rank (0: local) */
  uint32_t *slot;  /* per node: its slot in its owner's part (rank 0: its
                      position) */
  uint32_t *eslot; /* per input: the producer's slot at the consumer's
                      owner (its own node's, or an input from another) */
  uint32_t *doff;  /* per node: its destinations dst[doff[i] .. doff[i+1]) */
  int *drank;      /* a destination rank (0: an output, or an input of a
                      node that runs in the program) */
  uint32_t *dslot; /* the value's slot there (rank 0: its position) */
  uint32_t *nown, *next;  /* per rank of the world: own nodes, inputs from
                             other ranks (slots nown .. nown + next - 1) */
  uint32_t *roff, *rnode; /* per rank: its nodes rnode[roff[k] ..
                             roff[k + 1]), in graph order */
} weft__rcut;

/* The owner map (the rule: mpi/replica_cut.c) and everything the parts
 * and rank 0's pushes need. 0 or WEFT_ENOMEM. */
int weft__rep_cut(weft__rcut *c);
void weft__rep_cut_free(weft__rcut *c);

/* ---- a worker rank: one compute (its part) ---- */

typedef struct weft__rtask {
  uint32_t i;
  weft_value *args;
  uint32_t nargs;
  weft_value out;
  int status;
  uint32_t us;
  int thread;      /* the compute thread that ran it */
  uint64_t end_ns; /* when it ended (weft__mnow) */
  char msg[512];
  struct weft__rtask *next;
} weft__rtask;

typedef struct weft__rnode {
  const weft_fn_info *fn;
  char *key;
  uint32_t id, pos, nargs, fi; /* pos: its graph position (rank 0's name
                                  for it); fi: its function's index */
  uint32_t doff, ndest;        /* its destinations in drank / dslot */
  weft_value *args;            /* literal arguments (none in input slots) */
} weft__rnode;

typedef struct weft__rep {
  uint32_t epoch;
  uint8_t timing;
  int me;
  uint32_t n, x, ns; /* own nodes (slots 0 .. n - 1), inputs from other
                        ranks (slots n .. n + x - 1), ns = n + x */
  weft__rnode *nd;
  uint32_t *inoff, *in, *inpos; /* own nodes' inputs: slot and argument */
  uint32_t *coff, *cons;        /* per slot: own consumers, one per slot */
  int *drank;
  uint32_t *dslot;
  size_t ndst, cdst;
  int32_t *pending, *uses; /* own: inputs missing; slot: local uses left */
  weft_value *val;
  uint8_t *have;
  uint32_t *stack;
  size_t sp;
  weft_buf *batch; /* per rank */
  weft_buf enc;
  weft__msends *sends;
  uint64_t last0; /* last message to rank 0 */
  /* with the compute threads */
  pthread_mutex_t mu;
  pthread_cond_t cv_work, cv_comm;
  weft__rtask *qh, *qt, *done;
  bool quit;
  int nth, inflight;
  int next_thread; /* the next compute thread's index */
  pthread_t *th;
  bool stopping;    /* a task failed here: run no more */
  weft_value *lits; /* the part's shared literals */
  size_t nlit, clit;
  const weft_fn_info **fns; /* its functions, by index (NULL: unknown) */
  uint32_t unknown;         /* 1 + a node of an unknown function */
  char **fnames;
  size_t nfn, cfn;
} weft__rep;

/* Reads this rank's GRAPH part (after its op and epoch): nodes, literals
 * decoded, consumers and counts. 0 or an error. */
int weft__rep_parse(weft__rep *s, weft__prd *r);
/* Frees what parse made (and the buffers serve used). */
void weft__rep_free(weft__rep *s);

#endif
