/* mpi/impl.h - what the files of the mpi scheduler share. Internal.
 *
 *   mpi/init.c    weft_mpi_init / finalize: starting MPI, the facts about
 *                 every rank (host, pid, threads), the launcher check
 *   mpi/worker.c  a worker rank: its communication thread (the rank's main
 *                 thread) and its compute threads
 *   mpi/store.c   a worker's results by (compute, task), and the tasks
 *                 waiting for data from other ranks
 *   mpi/sched.c   rank 0: one compute over the worker ranks (central
 *                 mode) or over groups of them (groups mode)
 *   mpi/group.c   groups mode: a group leader's sub-scheduler
 *   mpi/place.c   placement and capacity, shared by rank 0 and leaders
 *   mpi/msg.c     the records below, and non-blocking sends
 *   mpi/rank.c    what a worker rank does alike in every mode
 *   mpi/lost.c    the one line that reports a dead worker rank
 *   mpi/replica_root.c    rank 0's side of the replicated mode
 *   mpi/replica_worker.c  a worker rank's side of it
 *   mpi/replica_cut.c     rank 0's cut of the graph: owner map, parts
 *   mpi/replica_graph.c   a worker rank's reading of its part
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
 *     GTASK u8 5 | u32 n | varint nhints | nhints x (varint rank, u64
 *           bytes) | TASK record (n: the bytes after n, to the end of the
 *           TASK record; groups mode, rank 0 -> a leader: a task for the
 *           group, with where its inputs live, for the leader to place)
 *   DONE (2) worker -> its scheduler (rank 0, or its group's leader in
 *           groups mode), a batch of records:
 *     DONE  u8 1 | u32 epoch | u32 task | i32 status | message: varint n +
 *           bytes | u64 result bytes (encoded) | u32 run time (us) |
 *           varint thread (the compute thread that ran it) | u64 end
 *           (when it ended, ns by this rank's CLOCK_MONOTONIC: rank 0
 *           maps it to its own clock, weft__mpi_slice) |
 *           varint value length (0: no value) | [u8 apart | wire value
 *           unless apart] (apart 1: the value comes as its own message,
 *           straight from the rank that made it to rank 0: see below)
 *     BEAT  u8 2                             (alive; sent every 200 ms while
 *                                             a compute is open)
 *     GDONE u8 3 | varint rank | varint n | n bytes of DONE records
 *           (leader -> rank 0: what member `rank` finished; the results
 *           stay on `rank`, so rank 0's references name it)
 *     LOST  u8 4 | varint rank | u32 silent (ms) | varint n | n x u32 task
 *           (leader -> rank 0: member `rank` stopped answering, with the
 *           tasks of the open compute it was running)
 *
 * Groups mode (WEFT_MPI_MODE=groups): the worker ranks form groups (one
 * per host, or WEFT_MPI_GROUP consecutive ranks); the first rank of each
 * is its leader. Rank 0 sends SCHED only to leaders: GTASK for tasks, and
 * FREE / END / QUIT, which a leader applies and passes on to every member
 * (FREE is not addressed: rank 0 knows which group took a task, not which
 * member, and a rank drops only what it holds; one message per group per
 * round for rank 0 matters more than a few bytes more per member). A
 * leader places each task on a member (mpi/place.c, as rank 0 does) and
 * forwards its TASK record; members send DONE / BEAT to their leader,
 * which passes the DONE records up in GDONE wraps, in its own DONE
 * message of the round, and reports a member silent for WEFT_MPI_TIMEOUT
 * with LOST. References (task, rank) name member ranks: FETCH / DATA go
 * rank to rank, never through a leader or rank 0.
 *   FETCH (3) worker -> worker: u32 epoch | u32 task
 *   DATA  (4) worker -> worker: u32 epoch | u32 task | u8 ok | wire value
 *           (ok 0: the owner no longer has it; the value is a message),
 *           or u8 ok 2 | u64 n (an envelope: the value, n bytes, comes as
 *           its own message)
 *
 * Envelope then payload: a value over WEFT_MPI_APART bytes encoded (64 KiB
 * by default) never rides inside a batch of records: the record (DONE with
 * apart 1, DATA with ok 2) gives its size, and the value follows as one
 * message of its own on weft__mpi_g.pcomm (a duplicate of the world
 * communicator, so that the probes for records never see payloads), tag 1
 * + epoch % 30000 (a payload left over from a failed compute matches no
 * later receive). The receiver posts a receive of exactly that size and
 * goes on with other messages until it completes; payloads from one rank
 * to another are received in the order of their records (MPI keeps the
 * order of messages between two ranks on one communicator and tag). Rank
 * 0 keeps a DONE whose value is coming, and reads it when the value has
 * come; the task stays in flight until then.
 *
 * The replicated mode (WEFT_MPI_MODE=replicated, mpi/replica_root.c):
 * rank 0 cuts the compute by owner (mpi/replica_cut.c) and sends each
 * worker rank owning nodes one SCHED message holding only its part
 *     GRAPH u8 6 | u32 epoch | u8 flags (1: send TIME records) |
 *           varint n (its nodes: slots 0 .. n - 1) | varint x (values it
 *           will be pushed from other ranks: slots n .. n + x - 1) |
 *           n x node
 *           node: varint pos (its position in the graph: rank 0's name
 *           for it) | u32 task | varint f (its function: the f-th named
 *           in this part, or when f is their count, the next, whose name
 *           follows: varint n + bytes) | key: varint n + bytes | varint
 *           nargs | nargs x arg | varint ndest | ndest x (varint rank,
 *           varint slot) (where its result goes: every other rank owning
 *           a consumer, rank 0 for an output or an input of a task that
 *           runs in the program; slot: the value's slot there, at rank 0
 *           its position)
 *           arg: u8 0 + varint n + wire value (n bytes), u8 1 + varint
 *           slot (an earlier node of the part, or a value pushed from
 *           another rank), u8 4 + varint n + wire value (a heap literal,
 *           the next of the part's shared ones: one object that many tasks
 *           take, as the array layer's plans, sent once per rank taking
 *           it) or u8 3 + varint k (the k-th shared literal of the part)
 * A rank knows nothing of the graph beyond its part; a rank owning no
 * node gets nothing and takes no part. Records name values by their slot
 * at the receiver (at rank 0: the graph position):
 *   PUSH (5) rank to rank (rank 0 too: results of its nodes), a batch of
 *     VAL   u8 5 | u32 epoch | varint slot | wire value (a result its
 *           owner sends to every rank owning a consumer, unasked)
 *   BIG  (6) rank to rank: u32 epoch | varint slot | wire
 *           value (one value over WEFT_MPI_APART bytes encoded: alone in
 *           its message, never inside a batch of records)
 *   DONE (2) worker -> rank 0, a batch of BEAT (as above) and
 *     VAL   u8 5 | ... as above (an output, or an input of a node that
 *           runs on rank 0)
 *     ERR   u8 6 | u32 epoch | varint pos | i32 status | message: varint
 *           n + bytes (the node's task failed)
 *     TIME  u8 7 | u32 epoch | varint pos | u32 run time (us) | varint
 *           thread | u64 end (as in DONE) | u64 result bytes
 *           (encoded), only when GRAPH asked for them
 *   SCHED END / QUIT from rank 0 end the compute on every rank taking part.
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
enum {
  WEFT__MR_TASK = 1,
  WEFT__MR_FREE,
  WEFT__MR_END,
  WEFT__MR_QUIT,
  WEFT__MR_GTASK,
  WEFT__MR_GRAPH
};
enum { WEFT__MR_DONE = 1, WEFT__MR_BEAT, WEFT__MR_GDONE, WEFT__MR_LOST };
enum { WEFT__MT_PUSH = 5, WEFT__MT_BIG };
enum { WEFT__MR_VAL = 5, WEFT__MR_ERR, WEFT__MR_TIME }; /* replicated mode */
/* WEFT_MPI_MODE: how a compute runs over the ranks (chosen by rank 0 at
 * init). */
enum { WEFT__MM_CENTRAL = 0, WEFT__MM_GROUPS = 1, WEFT__MM_REPLICATED = 2 };
#define WEFT__MF_BACK 1 /* TASK flag: send the result back */
#define WEFT__MPI_BEAT_NS 200000000ull
#define WEFT__MPI_SPIN_NS 300000ull /* yield, not sleep, this long idle */
#define WEFT__MPI_INLINE 256        /* default WEFT_MPI_INLINE */
#define WEFT__MPI_APART 65536       /* default WEFT_MPI_APART */
#define WEFT__MPI_CENTRAL_MAX 32    /* more worker ranks: groups mode */
#define WEFT__MPI_HOST_MIN 4  /* fewer ranks per host: not grouped by host */
#define WEFT__MPI_GROUP_DEF 32 /* then groups of this many ranks */

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
  size_t apart;  /* values over this many bytes go as their own message */
  MPI_Comm pcomm; /* the payloads' communicator (a dup of the world) */
  int threads;      /* this worker rank's compute threads */
  bool no_finalize; /* a rank died: MPI_Finalize could wait for it */
  bool stats;       /* WEFT_MPI_STATS=1: count rank 0's CPU time */
  int mode;         /* WEFT_MPI_MODE: WEFT__MM_*, chosen by rank 0 at init */
  /* groups mode: per rank, its group (-1: rank 0); group g's ranks are
   * members[first[g]] .. members[first[g + 1] - 1], the first its leader */
  int *group_of;
  int *first; /* ngroups + 1 entries */
  int *members;
  int ngroups;
  int up; /* where this worker rank sends DONE: 0 or its leader */
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

/* Envelope then payload: a value over WEFT_MPI_APART bytes encoded leaves
 * as its own message on weft__mpi_g.pcomm (tag: 1 + epoch % 30000), after
 * the record announcing its size; receivers post a receive of that size. */
int weft__msend_payload(weft__msends *s, int dest, uint32_t epoch,
                        weft_buf *b);

/* Payloads being received. */
typedef struct weft__mpay {
  MPI_Request req;
  weft_buf buf; /* sized from the envelope */
  int src;
  uint32_t epoch, task;
  uint8_t *rec; /* rank 0: the DONE record waiting for it */
  size_t nrec;
} weft__mpay;

typedef struct weft__mpays {
  weft__mpay *v;
  size_t n, cap;
} weft__mpays;

/* Posts the receive of n bytes from src for compute epoch: the entry, or
 * NULL (*rc: WEFT_ENOMEM, WEFT_EIO, WEFT_EWIRE when n is too big). The
 * pointer is good until the next post or remove. */
weft__mpay *weft__mpay_post(weft__mpays *p, int src, uint32_t epoch,
                            uint64_t n, int *rc);
/* The index of a completed receive, or -1. */
long weft__mpay_done(weft__mpays *p);
/* Forgets entry i (its buffer and record freed). */
void weft__mpay_remove(weft__mpays *p, size_t i);
/* Cancels the receives from src (-1: all, and frees the list). */
void weft__mpay_cancel(weft__mpays *p, int src);

/* A received message: probes, then receives into b. 1 when there was one
 * (*src, *tag set), 0 when none, WEFT_ENOMEM / WEFT_EIO. */
int weft__mrecv(weft_buf *b, int *src, int *tag);

uint64_t weft__mnow(void); /* CLOCK_MONOTONIC ns */

/* ---- a worker rank, any mode (mpi/rank.c) ---- */

/* Runs fn(args) as task `task` (key: its name, or NULL) on this compute
 * thread, then releases the arguments. 0, or the task's failure code with
 * its message in msg (out then none); *us its run time, *end_ns (when not
 * NULL) when it ended. */
int weft__mrun_task(const weft_fn_info *fn, uint32_t task, const char *key,
                    weft_value *args, size_t nargs, weft_value *out,
                    uint32_t *us, uint64_t *end_ns, char *msg, size_t msgsize);
/* Whether rank 0's process is gone (seen only from its own host); says so
 * on stderr when it is. */
bool weft__mrank0_gone(void);
/* CLOCK_MONOTONIC now + ns, for a condition variable's timed wait (the
 * compute threads' condition variables use that clock). */
struct timespec weft__mdeadline(uint64_t ns);

/* Group g's leader. */
static inline int weft__mpi_leader(int g) {
  return weft__mpi_g.members[weft__mpi_g.first[g]];
}

/* ---- placement (mpi/place.c): rank 0 over ranks or groups, a leader
 * over its members ---- */

/* Units (ranks, groups or members) that take tasks up to a capacity. */
typedef struct weft__mpool {
  int n;
  int *inflight, *cap;
  double *avg_us; /* run time per task (moving average), -1: none yet */
  bool *dead;
  uint64_t *bytes; /* input bytes per unit, for one placement */
  int *touched, ntouched;
  int rr; /* round robin among equally loaded units */
} weft__mpool;

int weft__mpool_init(weft__mpool *p, int n);
void weft__mpool_free(weft__mpool *p);
/* How many tasks a rank of `threads` threads may hold: ceil(1.1 x
 * threads), more when tasks take avg_us < 1 ms (about 1 ms of work). */
int weft__mpi_capacity(int threads, double avg_us);
/* The same for several ranks: their threads, and the sum of their
 * ceil(1.1 x threads). */
int weft__mpi_capacity_n(int threads, int base, double avg_us);
/* One of the task's inputs lives on unit u and weighs `bytes`. */
void weft__mpool_want(weft__mpool *p, int u, uint64_t bytes);
/* The unit for the task: the one holding most of its input bytes with
 * room (owner computes), else the least loaded with room; -1 when every
 * unit is full or dead. Clears what mpool_want gathered. */
int weft__mpool_pick(weft__mpool *p);
/* A task ran `us` microseconds on unit u: its moving average. */
void weft__mpool_ran(weft__mpool *p, int u, uint32_t us);

/* ---- groups mode: a leader's side (mpi/group.c) ---- */

typedef struct weft__mgroup weft__mgroup;
/* This rank's group state when it leads one, else NULL (*err set). */
weft__mgroup *weft__mgroup_new(int *err);
void weft__mgroup_free(weft__mgroup *g);
/* A GTASK record (after its op byte): places the task. *self set when it
 * runs here (*rec, *nrec: its TASK record, for the worker to take), else
 * the record joins the member's batch. 0 or WEFT_E*. */
int weft__mgroup_task(weft__mgroup *g, weft__prd *rd, bool *self,
                      const uint8_t **rec, size_t *nrec);
/* A task that ran here (the leader) finished. */
void weft__mgroup_self_done(weft__mgroup *g, uint32_t epoch, uint32_t task,
                            uint32_t us);
/* Whether members (other than the leader) have tasks of it. */
bool weft__mgroup_busy(const weft__mgroup *g);
/* FREE / END / QUIT from rank 0 (the record's bytes): to every member. */
int weft__mgroup_forward(weft__mgroup *g, const uint8_t *rec, size_t n);
/* Compute `epoch` is over: forget its tasks on members. */
void weft__mgroup_end(weft__mgroup *g, uint32_t epoch);
/* A DONE message from member src: counts it, wraps its DONE records
 * into out (GDONE) for rank 0. */
int weft__mgroup_up(weft__mgroup *g, int src, const uint8_t *p, size_t n,
                    weft_buf *out);
/* Sends the members' batches; reports members silent for the timeout
 * (LOST into out). */
int weft__mgroup_round(weft__mgroup *g, weft__msends *sends, weft_buf *out);

/* ---- a dead worker rank's one line (mpi/lost.c) ---- */

/* The tasks lost with it: how many, the first four by key, and the first
 * it was running (UINT32_MAX: none). Start with WEFT__MLOST_INIT. */
typedef struct weft__mlost {
  char list[400];
  size_t len;
  int n;
  uint32_t first;
} weft__mlost;
#define WEFT__MLOST_INIT {"", 0, 0, UINT32_MAX}
struct weft__run;
void weft__mlost_add(weft__mlost *l, const weft_graph *g, uint32_t node,
                     bool running);
/* Rank k, silent for `silent` seconds, is dead: the line (plus `more`,
 * or NULL) to the listeners and as the compute's WEFT_EKILLED failure. */
void weft__mlost_report(struct weft__run *r, int k, double silent,
                        const weft__mlost *l, const char *more);

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
/* Rank 0 saw rank k's clock read w at its own `now` or before: one more
 * sample of the offset between them (the least is kept; mpi/init.c takes
 * a few at start, every DONE / TIME record one more). */
void weft__mpi_clock_sample(int k, uint64_t now, uint64_t w);
/* A task's slice on rank 0's clock from what rank k says: it ended at
 * end_w by rank k's clock and ran run_us. Rank k's clock is mapped to
 * this one by the least (arrival - end_w) seen from it (clock offset plus
 * the shortest delay: the estimate only improves, and an end is never
 * placed after now); never before not_before (when it was sent); pushed
 * after the previous slice of its thread (*last, updated), and shortened
 * rather than placed in the future. */
void weft__mpi_slice(int k, uint64_t now, uint64_t end_w, uint32_t run_us,
                     uint64_t not_before, uint64_t *last, uint64_t *start,
                     uint64_t *end);
/* At finalize: QUIT to every live worker rank, finish the sends. */
void weft__mpi_sched_shutdown(void);

#endif
