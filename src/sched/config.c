/* config.c - the one place weft reads its environment variables
 * (WEFT_SCHEDULER, WEFT_WORKERS; the diagnostics' WEFT_PROGRESS,
 * WEFT_TRACE, WEFT_PROFILE), like dask.config, and the machine's processor
 * counts. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "mpi/hook.h"
#include "weft/fn.h"

static const char *const sched_names[WEFT_SCHED__COUNT] = {
    "default", "sync", "threads", "procs", "mpi"};

const char *weft_scheduler_name(weft_scheduler s) {
  return (unsigned)s < WEFT_SCHED__COUNT ? sched_names[s] : "unknown";
}

/* Names are compared in any case, ignoring surrounding blanks, as people
 * write them in the environment (WEFT_SCHEDULER=PROCS). */
int weft_scheduler_parse(const char *name, weft_scheduler *out) {
  static const struct {
    const char *name;
    weft_scheduler s;
  } aliases[] = {{"sync", WEFT_SCHED_SYNC},
                 {"threads", WEFT_SCHED_THREADS},
                 {"procs", WEFT_SCHED_PROCS},
                 {"mpi", WEFT_SCHED_MPI},
                 {"threading", WEFT_SCHED_THREADS}, /* Dask's spellings */
                 {"single-threaded", WEFT_SCHED_SYNC},
                 {"synchronous", WEFT_SCHED_SYNC},
                 {"processes", WEFT_SCHED_PROCS}};
  if (!name || !out)
    return WEFT_EINVAL;
  while (isspace((unsigned char)*name))
    name++;
  size_t len = strlen(name);
  while (len && isspace((unsigned char)name[len - 1]))
    len--;
  for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
    if (strlen(aliases[k].name) == len &&
        strncasecmp(name, aliases[k].name, len) == 0) {
      *out = aliases[k].s;
      return 0;
    }
  return WEFT_EINVAL;
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
    FILE *f = fopen(path, "re");
    if (!f) {
      if (c >= logical)
        break;
      continue;
    }
    int ok = fscanf(f, "%ld", &core) == 1;
    fclose(f);
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
    f = fopen(path, "re");
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
  cfg->progress = opts->progress;
  cfg->profile = opts->profile;
  cfg->trace = opts->trace && *opts->trace ? opts->trace : NULL;
  cfg->dashboard = NULL;
  /* Diagnostics from the environment are for the program's own computes,
   * not for those a task makes (nested bars would fight over the line). */
  if (!opts->ignore_env && !weft_task_current()) {
    static const char *const flags[2] = {"WEFT_PROGRESS", "WEFT_PROFILE"};
    int *dst[2] = {&cfg->progress, &cfg->profile};
    for (int k = 0; k < 2; k++) {
      const char *v = getenv(flags[k]);
      if (!v || !*v || *dst[k])
        continue;
      if (strcmp(v, "0") && strcmp(v, "1")) {
        snprintf(msg, msgsize, "%s='%s' is not 0 or 1", flags[k], v);
        return WEFT_EINVAL;
      }
      *dst[k] = v[0] == '1';
    }
    const char *t = getenv("WEFT_TRACE");
    if (!cfg->trace && t && *t)
      cfg->trace = t;
    const char *dash = getenv("WEFT_DASHBOARD");
    if (dash && *dash)
      cfg->dashboard = dash;
  }
  if (!opts->ignore_env) {
    const char *s = getenv("WEFT_SCHEDULER");
    if (cfg->scheduler == WEFT_SCHED_DEFAULT && s && *s &&
        weft_scheduler_parse(s, &cfg->scheduler)) {
      snprintf(msg, msgsize,
               "WEFT_SCHEDULER='%s' is not a scheduler (sync, threads, "
               "procs or mpi, in any case)",
               s);
      return WEFT_EINVAL;
    }
    const char *w = getenv("WEFT_WORKERS");
    if (cfg->workers <= 0 && w && *w) {
      char *end;
      errno = 0;
      long n = strtol(w, &end, 10);
      while (isspace((unsigned char)*end))
        end++;
      if (end == w || *end || errno || (n <= 0 && n != -1) || n > 4096) {
        snprintf(msg, msgsize,
                 "WEFT_WORKERS='%s' is not a number of workers (1 to 4096, "
                 "or -1 for all cores)",
                 w);
        return WEFT_EINVAL;
      }
      /* -1: joblib's n_jobs=-1, every core (the default below) */
      if (n > 0)
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
