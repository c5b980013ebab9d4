/* mpi/impl.h - what the files of the mpi scheduler share. Internal.
 *
 *   mpi/init.c    weft_mpi_init / finalize: starting MPI, the facts about
 *                 every rank (host, pid, threads), the launcher check
 *   mpi/worker.c  a worker rank: its communication thread (the rank's main
 *                 thread) and its compute threads
 *   mpi/store.c   a worker's results by (compute, task), and the tasks
 *                 waiting for data from other ranks
 *   mpi/sched.c   rank 0: one compute over the worker ranks
 *   mpi/msg.c     the records below, and non-blocking sends
 *   mpi/replica_root.c    rank 0's side of the replicated mode
 *   mpi/replica_worker.c  a worker rank's side of it
 *   mpi/replica_graph.c   its reading of the GRAPH message, the owner map
 *
 * Only one thread per rank calls MPI (MPI_THREAD_SERIALIZED): a worker's
 * main thread, and on rank 0 the thread running a compute (one at a time).
 * Messages are MPI_BYTE buffers of records, every integer little-endian,
 * values in the wire format (docs/wire.md). Tags:
 *
 *   SCHED (1) rank 0 -> worker, a batch of records:
 *     TASK  u8 1 | u32 epoch | u32 task | fn name: varint n + bytes |
 *           key: varint n + bytes (0: automatic) | u8 flags (1: send the
 *           result back) | varint nargs | nargs x arg
 *           arg: u8 0 + wire value (inline), or u8 1 + u32 task + varint
 *           rank (the result of that task of this compute, on that rank)
 *     FREE  u8 2 | u32 epoch | u32 task      (drop that result)
 *     END   u8 3 | u32 epoch                 (drop the compute's results
 *                                             and queued tasks)
 *     QUIT  u8 4 | u8 skip                   (exit; skip 1: without
 *                                             MPI_Finalize, a rank died)
 *   DONE (2) worker -> rank 0, a batch of records:
 *     DONE  u8 1 | u32 epoch | u32 task | i32 status | message: varint n +
 *           bytes | u64 result bytes (encoded) | u32 run time (us) |
 *           u8 has value | [wire value]
 *     BEAT  u8 2                             (alive; sent every 200 ms while
 *                                             a compute is open)
 *   FETCH (3) worker -> worker: u32 epoch | u32 task
 *   DATA  (4) worker -> worker: u32 epoch | u32 task | u8 ok | wire value
 *           (ok 0: the owner no longer has it; the value is a message)
 *
 * The replicated mode (WEFT_MPI_MODE=replicated, mpi/replica_root.c): the
 * whole compute leaves rank 0 once, as one SCHED message holding only
 *     GRAPH u8 5 | u32 epoch | u8 flags (1: send TIME records) |
 *           varint m | m x varint rank (the ranks taking part, rank 0
 *           first: the relay tree) | varint n | n x node
 *           node: u32 task | varint f (its function: the f-th named
 *           in this message, or when f is their count, the next, whose
 *           name follows: varint n + bytes) | key: varint n +
 *           bytes | u8 flags (1: output, 2: runs on rank 0, in the
 *           program) | varint nargs | nargs x arg
 *           arg: u8 0 + varint n + wire value (n bytes), u8 1 + varint
 *           node (an earlier node of this message: its position), u8 2
 *           (a value only rank 0 has, of a node that runs there), u8 4 +
 *           varint n + wire value (a heap literal, the next of the
 *           message's shared ones: one object that many tasks take, as
 *           the array layer's plans) or u8 3 + varint k (the k-th shared
 *           literal, sent before); the lengths let a rank skip the values
 *           of nodes that are not its own
 * relayed down a binary tree over those ranks (position p forwards the
 * same bytes to positions 2p+1 and 2p+2). Every rank computes the same
 * owner map from it (weft__rep_owners) and runs its own nodes; records
 * name nodes by their position in the GRAPH message:
 *   PUSH (5) rank to rank (rank 0 too: results of its nodes), a batch of
 *     VAL   u8 3 | u32 epoch | varint node | wire value (a result its
 *           owner sends to every rank owning a consumer, unasked)
 *   BIG  (6) rank to rank: u32 epoch | varint node | wire
 *           value (one value over WEFT__REP_BIG bytes encoded: alone in
 *           its message, never inside a batch of records)
 *   DONE (2) worker -> rank 0, a batch of BEAT (as above) and
 *     VAL   u8 3 | ... as above (an output, or an input of a node that
 *           runs on rank 0)
 *     ERR   u8 4 | u32 epoch | varint node | i32 status | message: varint
 *           n + bytes (the node's task failed)
 *     TIME  u8 5 | u32 epoch | varint node | u32 run time (us) | u64
 *           result bytes (encoded), only when GRAPH asked for them
 *   SCHED END / QUIT from rank 0 end the compute on every rank.
 */
#ifndef WEFT_SCHED_MPI_IMPL_H
#define WEFT_SCHED_MPI_IMPL_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/procs/impl.h" /* weft__pput_* / weft__prd_*: byte helpers */
#include "weft/mpi.h"
#include "weft/wire.h"

enum { WEFT__MT_SCHED = 1, WEFT__MT_DONE, WEFT__MT_FETCH, WEFT__MT_DATA };
enum { WEFT__MT_PUSH = 5, WEFT__MT_BIG };
enum { WEFT__MR_TASK = 1, WEFT__MR_FREE, WEFT__MR_END, WEFT__MR_QUIT };
enum { WEFT__MR_GRAPH = 5 };
enum { WEFT__MR_DONE = 1, WEFT__MR_BEAT };
enum { WEFT__MR_VAL = 3, WEFT__MR_ERR, WEFT__MR_TIME };
#define WEFT__REP_BIG 65536 /* larger encoded values travel alone */
/* WEFT_MPI_MODE: how a compute runs over the ranks. */
enum { WEFT__MPI_CENTRAL = 0, WEFT__MPI_REPLICATED = 1 };
#define WEFT__MF_BACK 1 /* TASK flag: send the result back */
#define WEFT__MPI_BEAT_NS 200000000ull
#define WEFT__MPI_SPIN_NS 300000ull /* yield, not sleep, this long idle */
#define WEFT__MPI_INLINE 256        /* default WEFT_MPI_INLINE */

/* What every rank knows about every rank (gathered at init). */
typedef struct weft__mrank {
  char host[64];
  int pid;
  int threads; /* compute threads of a worker rank */
} weft__mrank;

typedef struct weft__mpi {
  int rank, size;
  bool active;   /* MPI initialised and not finalised */
  bool launched; /* under a launcher */
  weft__mrank *ranks;
  double timeout_s; /* silence that makes a worker rank dead */
  size_t inline_max;
  int threads;      /* this worker rank's compute threads */
  bool no_finalize; /* a rank died: MPI_Finalize could wait for it */
  bool stats;       /* WEFT_MPI_STATS=1: count rank 0's CPU time */
  int mode;         /* WEFT_MPI_MODE: WEFT__MPI_CENTRAL, ..._REPLICATED */
} weft__mpi;

extern weft__mpi weft__mpi_g; /* process-wide, like MPI itself */

/* ---- non-blocking sends (mpi/msg.c) ---- */

/* Sends of buffers that must live until MPI is done with them. */
typedef struct weft__msend {
  MPI_Request req;
  weft_buf buf;
  int dest;
} weft__msend;

typedef struct weft__msends {
  weft__msend *v;
  size_t n, cap;
} weft__msends;

/* Sends b's bytes to dest (b is taken over and left empty). 0, WEFT_ENOMEM
 * or WEFT_EIO. */
int weft__msend_post(weft__msends *s, int dest, int tag, weft_buf *b);
/* Frees the buffers of completed sends. */
void weft__msend_reap(weft__msends *s);
/* Forgets the sends to rank dest (dead): cancels and frees them. */
void weft__msend_drop(weft__msends *s, int dest);
/* Waits (bounded by timeout_s) for all sends; frees everything. */
void weft__msend_finish(weft__msends *s, double timeout_s);

/* A received message: probes, then receives into b. 1 when there was one
 * (*src, *tag set), 0 when none, WEFT_ENOMEM / WEFT_EIO. */
int weft__mrecv(weft_buf *b, int *src, int *tag);

uint64_t weft__mnow(void); /* CLOCK_MONOTONIC ns */

/* ---- the two sides ---- */

/* The worker rank's life (mpi/worker.c): serves until QUIT. Exit status. */
int weft__mpi_serve(void);

/* Rank 0's compute (mpi/sched.c). */
struct weft__run;
struct weft__config;
int weft__mpi_sched(struct weft__run *r, const struct weft__config *cfg,
                    const weft_compute_opts *opts);
/* Rank 0's counters since start (for bench/bench_mpi.c and
 * docs/scaling.md): tasks sent, messages sent and received, and (with
 * WEFT_MPI_STATS=1) the CPU time of the scheduler's rounds that did
 * something - not the waiting between them. */
typedef struct weft__mstats {
  uint64_t tasks, msgs_out, msgs_in, cpu_ns;
  uint64_t rep_computes; /* of them, computes run in replicated mode */
} weft__mstats;
void weft__mpi_stats(weft__mstats *out);

/* ---- the replicated mode (mpi/replica_root.c, mpi/replica_worker.c) ---- */

/* Rank 0: runs r in replicated mode, under sched.c's lock, with the
 * compute's epoch, the dead ranks, rank 0's sends and counters. Returns
 * 1 when the graph cannot run so (a task that must run in the program, a
 * value that cannot travel, no live worker rank): then nothing was sent
 * and the central scheduler runs it; else 0 or the compute's error. */
int weft__rep_root(struct weft__run *r, uint32_t epoch, bool *dead,
                   weft__msends *sends, weft__mstats *stats);
/* A worker rank: serves the GRAPH message in msg (taken over) until its
 * compute ends, sending with `sends`. 0, 1 on QUIT, or an error. */
int weft__rep_serve(weft_buf *msg, weft__msends *sends);
/* A PUSH or BIG message that came before its GRAPH: kept for it (msg is
 * taken over). 0 or WEFT_ENOMEM. */
int weft__rep_early(int src, int tag, weft_buf *msg);
/* An END that came while no replicated compute was open here. */
void weft__rep_end(uint32_t epoch);
/* The owner map: node i (of n, in GRAPH order) with inputs in[inoff[i] ..
 * inoff[i + 1]) (node positions, one per argument) goes to owner[i], one
 * of the m - 1 worker ranks ranks[1 .. m - 1], or rank 0 when local[i]
 * (it runs in the program). Every rank computes the same map from the
 * same graph (the rule: mpi/replica_worker.c). 0 or WEFT_ENOMEM. */
int weft__rep_owners(uint32_t n, const uint32_t *inoff, const uint32_t *in,
                     const uint8_t *local, const int *ranks, int m,
                     int *owner);
/* At finalize: QUIT to every live worker rank, finish the sends. */
void weft__mpi_sched_shutdown(void);

#endif
