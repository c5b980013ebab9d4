/* mpi/init.c - weft_mpi_init and weft_mpi_finalize: starts MPI, learns
 * every rank's host, pid and thread count, turns ranks other than 0 into
 * workers, and installs the mpi scheduler into libweft (sched/mpi/hook.h).
 * A program started without a launcher runs alone, with one warning. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impl.h"
#include "sched/config.h"
#include "sched/mpi/hook.h"

weft__mpi weft__mpi_g = {.rank = 0, .size = 1};

int weft_mpi_rank(void) { return weft__mpi_g.rank; }
int weft_mpi_size(void) { return weft__mpi_g.size; }

int weft_mpi_launched(void) {
  /* Open MPI's mpirun, MPICH's Hydra / Slurm PMI, Slurm with PMIx. */
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                     "PMIX_RANK", "PMI_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i]))
      return 1;
  return 0;
}

static int is_default(void) {
  return weft__mpi_g.active && weft__mpi_g.size > 1;
}

static int ranks(void) { return is_default() ? weft__mpi_g.size : 0; }

static int threads(void) {
  int n = 1;
  for (int k = 1; is_default() && k < weft__mpi_g.size; k++)
    if (weft__mpi_g.ranks[k].threads > n)
      n = weft__mpi_g.ranks[k].threads;
  return n;
}

static const weft__mpi_hooks hooks = {weft__mpi_sched, is_default, ranks,
                                      threads};

/* Linking libweft_mpi makes the scheduler known (weft_scheduler_available,
 * `weft info`); computing with it still needs weft_mpi_init. */
__attribute__((constructor)) static void install_hooks(void) {
  weft__mpi_set_hooks(&hooks);
}

static double env_seconds(const char *name, double def) {
  const char *s = getenv(name);
  if (!s || !*s)
    return def;
  char *end;
  double v = strtod(s, &end);
  while (isspace((unsigned char)*end))
    end++;
  if (*end || !(v > 0) || v > 86400) {
    fprintf(stderr,
            "weft: %s='%s' is not a number of seconds (0 to 86400); "
            "using %g\n",
            name, s, def);
    return def;
  }
  return v;
}

static size_t env_bytes(const char *name, size_t def) {
  const char *s = getenv(name);
  if (!s || !*s)
    return def;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end || v < 0 || v > (1ll << 30)) {
    fprintf(stderr,
            "weft: %s='%s' is not a number of bytes (0 to 2^30); "
            "using %zu\n",
            name, s, def);
    return def;
  }
  return (size_t)v;
}

/* Compute threads of this worker rank: WEFT_WORKERS, else the node's
 * cores shared among the worker ranks on it. */
static int my_threads(const weft__mrank *all, int me, int size) {
  const char *w = getenv("WEFT_WORKERS");
  if (w && *w) {
    char *end;
    long n = strtol(w, &end, 10);
    if (!*end && n > 0 && n <= 4096)
      return (int)n;
  }
  int on_node = 0;
  for (int k = 1; k < size; k++)
    on_node += strcmp(all[k].host, all[me].host) == 0;
  int n = weft_cpu_count() / (on_node ? on_node : 1);
  return n > 0 ? n : 1;
}

/* Rank 0's choice of mode and group size (0: by host), from
 * WEFT_MPI_MODE and WEFT_MPI_GROUP; broadcast, since launchers do not
 * always pass the environment to other nodes. */
static void choose_mode(int out[2], int workers) {
  const char *mode = getenv("WEFT_MPI_MODE");
  /* Default: central up to WEFT__MPI_CENTRAL_MAX worker ranks (rank 0 is
   * far from saturated there: docs/scaling.md), groups beyond. */
  out[0] = workers > WEFT__MPI_CENTRAL_MAX ? WEFT__MM_GROUPS
                                           : WEFT__MM_CENTRAL;
  out[1] = 0;
  if (mode && strcmp(mode, "central") == 0)
    out[0] = WEFT__MM_CENTRAL;
  else if (mode && strcmp(mode, "groups") == 0)
    out[0] = WEFT__MM_GROUPS;
  else if (mode && strcmp(mode, "replicated") == 0)
    out[0] = WEFT__MM_REPLICATED;
  else if (mode && *mode)
    fprintf(stderr,
            "weft: WEFT_MPI_MODE='%s' is not central, groups or replicated; "
            "using %s\n",
            mode, out[0] == WEFT__MM_GROUPS ? "groups" : "central");
  const char *gs = getenv("WEFT_MPI_GROUP");
  if (gs && *gs) {
    char *end;
    long n = strtol(gs, &end, 10);
    if (*end || n < 1 || n > 1000000)
      fprintf(stderr,
              "weft: WEFT_MPI_GROUP='%s' is not a number of ranks (1 to "
              "10^6); grouping by host\n",
              gs);
    else
      out[1] = (int)n;
  }
}

/* Splits the worker ranks into groups: `gsize` consecutive ranks each, or
 * (0) one group per host - unless the hosts hold fewer than
 * WEFT__MPI_HOST_MIN worker ranks on average (one rank per node, the
 * advised layout): then WEFT__MPI_GROUP_DEF consecutive ranks. */
static int make_groups(weft__mpi *m, int gsize) {
  int w = m->size - 1;
  m->group_of = malloc((size_t)m->size * sizeof *m->group_of);
  m->first = malloc((size_t)(w + 2) * sizeof *m->first);
  m->members = malloc((size_t)(w + 1) * sizeof *m->members);
  if (!m->group_of || !m->first || !m->members)
    return WEFT_ENOMEM;
  m->group_of[0] = -1;
  int hosts = 0;
  for (int k = 1; k < m->size; k++) {
    int j = 1;
    while (j < k && strcmp(m->ranks[j].host, m->ranks[k].host))
      j++;
    hosts += j == k;
  }
  if (!gsize && w < WEFT__MPI_HOST_MIN * hosts)
    gsize = WEFT__MPI_GROUP_DEF;
  int n = 0, g = 0;
  if (gsize) {
    for (int k = 1; k < m->size; k++) {
      if ((k - 1) % gsize == 0)
        m->first[g++] = n;
      m->group_of[k] = g - 1;
      m->members[n++] = k;
    }
  } else {
    for (int k = 1; k < m->size; k++)
      m->group_of[k] = -2; /* not placed yet */
    for (int k = 1; k < m->size; k++) {
      if (m->group_of[k] != -2)
        continue;
      m->first[g] = n;
      for (int j = k; j < m->size; j++)
        if (m->group_of[j] == -2 && !strcmp(m->ranks[j].host, m->ranks[k].host)) {
          m->group_of[j] = g;
          m->members[n++] = j;
        }
      g++;
    }
  }
  m->first[g] = n;
  m->ngroups = g;
  return 0;
}

/* A first look at each worker rank's clock, so that the first task slices
 * of a trace are placed by a good estimate (weft__mpi_slice): rank 0 asks,
 * the rank answers its CLOCK_MONOTONIC, and rank 0 keeps the least
 * (arrival - answer) of a few tries, as later answers refine it. Rank 0
 * waits in MPI_Recv meanwhile, so the delay in it is the answer's travel,
 * not a round of the scheduler. */
static void sync_clocks(weft__mpi *m) {
  const int tag = 77, tries = m->size <= 256 ? 3 : 1;
  for (int k = 1; k < m->size; k++) {
    if (m->rank != 0 && m->rank != k)
      continue;
    for (int t = 0; t < tries; t++) {
      uint64_t w = 0;
      if (m->rank == 0) {
        MPI_Send(&w, 1, MPI_UINT64_T, k, tag, MPI_COMM_WORLD);
        MPI_Recv(&w, 1, MPI_UINT64_T, k, tag, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        weft__mpi_clock_sample(k, weft_now_ns(), w);
      } else {
        MPI_Recv(&w, 1, MPI_UINT64_T, 0, tag, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        w = weft__mnow();
        MPI_Send(&w, 1, MPI_UINT64_T, 0, tag, MPI_COMM_WORLD);
      }
    }
  }
}

static void at_exit(void) { weft_mpi_finalize(); }

int weft_mpi_init(int *argc, char ***argv) {
  weft__mpi *m = &weft__mpi_g;
  if (!argc || !argv)
    return WEFT_EINVAL;
  if (m->active || m->ranks)
    return 0;
  m->timeout_s = env_seconds("WEFT_MPI_TIMEOUT", 5.0);
  m->inline_max = env_bytes("WEFT_MPI_INLINE", WEFT__MPI_INLINE);
  m->apart = env_bytes("WEFT_MPI_APART", WEFT__MPI_APART);
  m->launched = weft_mpi_launched();
  const char *st = getenv("WEFT_MPI_STATS");
  m->stats = st && strcmp(st, "1") == 0;
  if (!m->launched) {
    fprintf(stderr, "weft: not started by mpirun or srun: running in this "
                    "one process (the mpi scheduler uses threads)\n");
    m->ranks = calloc(1, sizeof *m->ranks); /* marks "initialised" */
    weft__mpi_set_hooks(&hooks);
    return 0;
  }
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) !=
      MPI_SUCCESS) {
    fprintf(stderr, "weft: MPI_Init_thread failed\n");
    return WEFT_ESYS;
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    fprintf(stderr, "weft: this MPI library does not allow calls from "
                    "several threads (MPI_THREAD_SERIALIZED)\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m->size);
  m->ranks = calloc((size_t)m->size, sizeof *m->ranks);
  if (!m->ranks) {
    fprintf(stderr, "weft: out of memory starting MPI\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  weft__mrank me;
  memset(&me, 0, sizeof me);
  int len = 0;
  char name[MPI_MAX_PROCESSOR_NAME];
  MPI_Get_processor_name(name, &len);
  snprintf(me.host, sizeof me.host, "%.*s", len, name);
  me.pid = (int)getpid();
  MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, m->ranks, (int)sizeof me,
                MPI_BYTE, MPI_COMM_WORLD);
  m->threads = my_threads(m->ranks, m->rank, m->size);
  /* Second round: every rank's thread count. */
  int *th = malloc((size_t)m->size * sizeof *th);
  if (!th)
    MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Allgather(&m->threads, 1, MPI_INT, th, 1, MPI_INT, MPI_COMM_WORLD);
  for (int k = 0; k < m->size; k++)
    m->ranks[k].threads = th[k];
  free(th);
  int mode[2];
  if (m->rank == 0)
    choose_mode(mode, m->size - 1);
  MPI_Bcast(mode, 2, MPI_INT, 0, MPI_COMM_WORLD);
  sync_clocks(m);
  if (MPI_Comm_dup(MPI_COMM_WORLD, &m->pcomm) != MPI_SUCCESS) {
    fprintf(stderr, "weft: MPI_Comm_dup failed\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  m->mode = mode[0];
  if (m->mode == WEFT__MM_GROUPS) {
    if (make_groups(m, mode[1])) {
      fprintf(stderr, "weft: out of memory starting MPI\n");
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int lead = m->rank > 0 ? weft__mpi_leader(m->group_of[m->rank]) : 0;
    m->up = lead == m->rank ? 0 : lead; /* a leader answers to rank 0 */
  }
  m->active = true;
  weft__mpi_set_hooks(&hooks);
  if (m->rank != 0) {
    int status = weft__mpi_serve();
    m->active = false;
    if (status == 0 && !m->no_finalize)
      MPI_Finalize();
    fflush(stdout);
    _exit(status); /* the program's main() is rank 0's alone */
  }
  atexit(at_exit);
  return 0;
}

void weft_mpi_finalize(void) {
  weft__mpi *m = &weft__mpi_g;
  if (!m->active || m->rank != 0)
    return;
  weft__mpi_sched_shutdown();
  m->active = false;
  weft__mpi_set_hooks(&hooks); /* computes now run on threads */
  if (!m->no_finalize)         /* with a rank dead, it could wait forever */
    MPI_Finalize();
}
