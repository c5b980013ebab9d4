/* weft/mpi.h - the `mpi` scheduler: one program, many processes, launched
 * by mpirun or srun (the dask-mpi model, with MPI carrying the data too).
 *
 *   int main(int argc, char **argv) {
 *     weft_mpi_init(&argc, &argv);   // worker ranks serve here, then exit
 *     ... build graphs and compute them as usual: on rank 0 ...
 *   }
 *   $ mpirun -n 3 ./prog             // rank 0 + two worker ranks
 *
 * Rank 0 runs the program and schedules; every other rank is a worker that
 * runs its tasks on its own threads (its share of its node's cores, or
 * WEFT_WORKERS) and never returns from weft_mpi_init: it serves until rank
 * 0's program ends (weft_mpi_finalize, called at exit), then exits 0.
 * Under a launcher with more than one rank, the default scheduler becomes
 * `mpi` (WEFT_SCHEDULER or the compute options still choose). Tasks travel
 * by their registered name (WEFT_REGISTER / WEFT_DELAYED: the same program
 * runs on every rank), values by the wire format (weft/wire.h); a result
 * stays on the rank that made it and moves rank to rank when another needs
 * it; outputs, and results that a task running in the program needs, come
 * back to rank 0. Values of type ptr cannot travel: a task needing one
 * fails with WEFT_ENOTSUP naming it.
 *
 * Started without a launcher (no mpirun/srun environment), the program
 * runs in this one process and weft_mpi_init prints one warning line to
 * stderr; the mpi scheduler then runs graphs with the threads scheduler.
 *
 * A worker rank that dies (killed, crashed, its node gone) or stops
 * answering for WEFT_MPI_TIMEOUT seconds (default 5) fails the compute
 * with WEFT_EKILLED and one line naming the rank, its host and the tasks
 * lost (listeners get WEFT_EV_WORKER_LOST with that line: the dashboard's
 * log, the trace); later computes use the ranks left. Open MPI's mpirun aborts the
 * whole job on its own when a rank dies unless recovery is enabled
 * (`mpirun --enable-recovery` or OMPI_MCA_orte_enable_recovery=1): then
 * weft reports the death itself. See the README's MPI section.
 *
 * Modes (WEFT_MPI_MODE, below): `central` (rank 0 decides every task, as
 * above), `groups` (below) or `replicated`: rank 0 works out an owner
 * map (the roots in contiguous blocks over the worker ranks, in the order
 * the graph reads them; any other task on the rank owning most of its
 * inputs, the first winning ties; tasks that run in the program on rank
 * 0) and sends each worker rank owning tasks only its part, once; each
 * runs its tasks as their inputs arrive and pushes each result to the
 * ranks owning its consumers, as its part says; rank 0
 * receives only outputs, the inputs of tasks that run in the program, task
 * errors, beats and, with a listener, task times. The same results, the
 * same errors and dead-rank reports. A graph with an argument that cannot
 * travel, an unresolved weft_ref, or only tasks that run in the program
 * runs in central mode. Replicated mode is chosen, never the default.
 *
 * Environment (read at weft_mpi_init): WEFT_MPI_TIMEOUT (seconds, > 0),
 * WEFT_MPI_INLINE (results of at most this many encoded bytes are also
 * sent to rank 0, which passes them along inside task messages; default
 * 256, 0 = never; central and groups), WEFT_WORKERS (threads per worker rank),
 * WEFT_MPI_MODE and WEFT_MPI_GROUP (rank 0's values count: it tells the
 * other ranks):
 *   WEFT_MPI_MODE=central  rank 0 places every task on a worker rank;
 *   WEFT_MPI_MODE=replicated  as above: every rank runs its own share of
 *                          the graph, rank 0 decides nothing per task;
 *   WEFT_MPI_MODE=groups   the worker ranks form groups, and the first
 *                          rank of each (its leader) also schedules the
 *                          group: rank 0 hands each group a batch of tasks
 *                          per round and the leader places them on its
 *                          ranks (docs/scaling.md). A dead member is
 *                          reported by its leader, a dead leader takes its
 *                          group's tasks with it: one line either way.
 *   Default: central up to 32 worker ranks, groups beyond.
 *   WEFT_MPI_GROUP=n       groups of n consecutive worker ranks; default
 *                          one group per host, or groups of 32 ranks when
 *                          the hosts hold fewer than 4 worker ranks each
 *                          (one rank per node).
 * WEFT_MPI_APART (bytes, default 65536): a result or input over this size
 * encoded travels as its own message after a small record giving its size
 * (envelope then payload), so that the scheduler's records never wait
 * behind big chunks.
 * A bad value is reported on stderr (one line) and the default used. */
#ifndef WEFT_MPI_H
#define WEFT_MPI_H

#ifdef __cplusplus
extern "C" {
#endif

/* Starts MPI (MPI_Init_thread, MPI_THREAD_SERIALIZED: only one thread per
 * rank calls MPI). On rank 0, or in a program started without a launcher,
 * returns 0; on other ranks serves as a worker and exits the process
 * (never returns). A second call returns 0 and does nothing. Errors:
 * WEFT_ESYS (MPI could not start: a message on stderr says why),
 * WEFT_EINVAL (NULL argc/argv). Call it first thing in main, before any
 * other thread starts. */
int weft_mpi_init(int *argc, char ***argv);

/* This process's rank and the number of ranks: 0 and 1 before
 * weft_mpi_init or without a launcher. */
int weft_mpi_rank(void);
int weft_mpi_size(void);

/* Whether this process was started by an MPI launcher (mpirun, mpiexec,
 * srun): read from the environment, callable before weft_mpi_init. */
int weft_mpi_launched(void);

/* On rank 0: tells every worker rank to exit and finalises MPI. Called at
 * exit by itself (atexit); calling it earlier ends the mpi scheduler (a
 * later compute runs on threads). Idempotent. Not from a task. */
void weft_mpi_finalize(void);

#ifdef __cplusplus
}
#endif
#endif
