/* config.c - the one place weft reads its environment variables
 * (WEFT_SCHEDULER, WEFT_WORKERS), like dask.config, and the machine's
 * processor counts. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mpi/hook.h"

static const char *const sched_names[WEFT_SCHED__COUNT] = {
    "default", "sync", "threads", "procs", "mpi"};

const char *weft_scheduler_name(weft_scheduler s) {
  return (unsigned)s < WEFT_SCHED__COUNT ? sched_names[s] : "unknown";
}

int weft_scheduler_parse(const char *name, weft_scheduler *out) {
  if (!name || !out)
    return WEFT_EINVAL;
  for (int s = 1; s < WEFT_SCHED__COUNT; s++)
    if (strcmp(name, sched_names[s]) == 0) {
      *out = (weft_scheduler)s;
      return 0;
    }
  if (strcmp(name, "threading") == 0) { /* Dask's spelling */
    *out = WEFT_SCHED_THREADS;
    return 0;
  }
  if (strcmp(name, "single-threaded") == 0 ||
      strcmp(name, "synchronous") == 0) {
    *out = WEFT_SCHED_SYNC;
    return 0;
  }
  if (strcmp(name, "processes") == 0) {
    *out = WEFT_SCHED_PROCS;
    return 0;
  }
  return WEFT_EINVAL;
}

int weft_scheduler_available(weft_scheduler s) {
  return s == WEFT_SCHED_SYNC || s == WEFT_SCHED_THREADS ||
         (s == WEFT_SCHED_PROCS && weft__procs_available()) ||
         (s == WEFT_SCHED_MPI && weft__mpi_available());
}

int weft_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int weft_physical_cpu_count(void) {
  /* Count distinct (package, core) pairs of the online CPUs. */
  int logical = weft_cpu_count(), found = 0;
  long seen[1024];
  for (int c = 0; c < 4096 && found < 1024; c++) {
    char path[128];
    long pkg = 0, core = 0;
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%d/topology/core_id", c);
    FILE *f = fopen(path, "r");
    if (!f) {
      if (c >= logical)
        break;
      continue;
    }
    int ok = fscanf(f, "%ld", &core) == 1;
    fclose(f);
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
    f = fopen(path, "r");
    if (f) {
      ok = ok && fscanf(f, "%ld", &pkg) == 1;
      fclose(f);
    }
    if (!ok)
      continue;
    long key = pkg * 100000 + core;
    int dup = 0;
    for (int k = 0; k < found; k++)
      dup |= seen[k] == key;
    if (!dup)
      seen[found++] = key;
  }
  return found > 0 && found <= logical ? found : logical;
}

int weft__config_resolve(const weft_compute_opts *opts, weft__config *cfg,
                         char *msg, size_t msgsize) {
  weft_compute_opts def;
  if (!opts) {
    weft_compute_opts_init(&def);
    opts = &def;
  }
  cfg->scheduler = opts->scheduler;
  cfg->workers = opts->workers;
  cfg->retries = opts->retries;
  if (!opts->ignore_env) {
    const char *s = getenv("WEFT_SCHEDULER");
    if (cfg->scheduler == WEFT_SCHED_DEFAULT && s && *s &&
        weft_scheduler_parse(s, &cfg->scheduler)) {
      snprintf(msg, msgsize,
               "WEFT_SCHEDULER='%s' is not a scheduler (sync, threads, "
               "procs, mpi)",
               s);
      return WEFT_EINVAL;
    }
    const char *w = getenv("WEFT_WORKERS");
    if (cfg->workers <= 0 && w && *w) {
      char *end;
      long n = strtol(w, &end, 10);
      while (isspace((unsigned char)*end))
        end++;
      if (*end || n <= 0 || n > 4096) {
        snprintf(msg, msgsize,
                 "WEFT_WORKERS='%s' is not a number of workers (1 to 4096)",
                 w);
        return WEFT_EINVAL;
      }
      cfg->workers = (int)n;
    }
  }
  if (cfg->scheduler == WEFT_SCHED_DEFAULT) /* mpi under mpirun */
    cfg->scheduler =
        weft__mpi_is_default() ? WEFT_SCHED_MPI : WEFT_SCHED_THREADS;
  if (cfg->workers <= 0)
    cfg->workers = weft_cpu_count();
  if (cfg->retries < 0)
    cfg->retries = 1;
  return 0;
}

void weft_compute_opts_init(weft_compute_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->retries = -1;
}
