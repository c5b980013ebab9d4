/* mpi/replica.h - what the two files of a worker rank's replicated mode
 * share (internal): a compute's state, read from its GRAPH message by
 * mpi/replica_graph.c, run by mpi/replica_worker.c. */
#ifndef WEFT_SCHED_MPI_REPLICA_H
#define WEFT_SCHED_MPI_REPLICA_H

#include <pthread.h>

#include "impl.h"

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
  char *key;              /* mine only */
  const uint8_t *kp, *ap; /* its key and arguments in the message */
  size_t nk;
  uint32_t id, nargs, fi; /* fi: its function's index in the message */
  uint8_t out;            /* 1: an output; 2: runs on rank 0 (not here) */
  weft_value *args; /* literal arguments (none in input slots), mine only */
} weft__rnode;

/* A shared literal: its bytes in the message, decoded when a node of this
 * rank first takes it. */
typedef struct weft__rlit {
  const uint8_t *p;
  size_t n;
  bool have;
  weft_value v;
} weft__rlit;

typedef struct weft__rep {
  uint32_t epoch;
  uint8_t timing;
  int m, *ranks, me;
  uint32_t n;
  weft__rnode *nd;
  uint32_t *inoff, *in, *inpos; /* inputs: producer and argument slot */
  uint32_t *coff, *cons;        /* consumers, one per argument slot */
  int *owner;
  int32_t *pending, *uses; /* mine: inputs missing; held: local slots left */
  weft_value *val;
  uint8_t *have;
  uint32_t *stack;
  size_t sp;
  int *stamp;      /* per rank: last node it was a destination of, + 1 */
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
  bool stopping;      /* a task failed here: run no more */
  const uint8_t *end; /* of the GRAPH message */
  weft__rlit *lits;   /* the shared literals of the GRAPH message */
  size_t nlit, clit;
  const weft_fn_info **fns; /* its functions, by index (NULL: unknown) */
  uint32_t unknown;         /* 1 + a node of this rank of an unknown function */
  char **fnames;
  size_t nfn, cfn;
} weft__rep;

/* Reads the GRAPH message (after its op and epoch). 0 or an error. */
int weft__rep_parse(weft__rep *s, weft__prd *r);
/* The owner map, consumers, counts and this rank's arguments. */
int weft__rep_setup(weft__rep *s);
/* Frees what parse and setup made (and the buffers serve used). */
void weft__rep_free(weft__rep *s);

#endif
