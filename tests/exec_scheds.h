/* exec_scheds.h - the configurations test_sched_errors.c and
 * test_sched_release.c run every case under: sync, threads with 2 and 4
 * workers, and the same on kept executors (made by the group setup, freed
 * by its teardown unless a test left a worker stuck). Included by those
 * two programs only: its statics are theirs. */
#ifndef WEFT_TEST_EXEC_SCHEDS_H
#define WEFT_TEST_EXEC_SCHEDS_H

#include "testutil.h"

static const tu_sched scheds[] = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-2", WEFT_SCHED_THREADS, 2, false},
    {"threads-4", WEFT_SCHED_THREADS, 4, false},
    {"executor-2", WEFT_SCHED_THREADS, 2, true},
    {"executor-4", WEFT_SCHED_THREADS, 4, true},
};
#define NSCHEDS (sizeof scheds / sizeof scheds[0])
static weft_executor *ex2, *ex4;

static int setup(void **state) {
  (void)state;
  return weft_executor_new(2, &ex2) || weft_executor_new(4, &ex4);
}
static int teardown(void **state) {
  (void)state;
  if (!tu_stuck()) {
    weft_executor_free(ex2);
    weft_executor_free(ex4);
  }
  return 0;
}
static weft_compute_opts opts_for(const tu_sched *c) {
  return tu_opts(c, c->workers == 4 ? ex4 : ex2);
}

#endif
