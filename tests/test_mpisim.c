/* test_mpisim.c - the discrete-event model of the mpi scheduler
 * (tools/mpisim/mpisim.c, docs/scaling.md) against what must hold:
 *   - with free scheduling (no costs, no latency) a layered DAG runs
 *     within 25% of its lower bound, work / threads (owner computes may
 *     queue 3 tasks on a rank of 2 threads while another waits), never
 *     below it; efficiency never exceeds 1;
 *   - rank 0 is one server: a compute takes at least tasks x its cost per
 *     task, and with tiny tasks the rate approaches 1 / (cost per task);
 *   - more ranks cannot lower a saturated central scheduler's rate, while
 *     groups and the replicated mode keep efficiency up (the doc's claim);
 *   - the replicated mode's closed form; bad configurations refused. */
#include "testutil.h"

#define MPISIM_NO_MAIN
#include "../tools/mpisim/mpisim.c"

static simcfg free_cfg(void) {
  simcfg c;
  mpisim_defaults(&c);
  c.task_cost_us = c.msg_cost_us = c.done_cost_us = c.wk_us = 0;
  c.lat_us = 0;
  c.bytes = 0;
  c.prune_us = c.fwd_us = 0;
  return c;
}

static void test_free_scheduling_hits_the_bound(void **state) {
  (void)state;
  simcfg c = free_cfg();
  c.ranks = 4;
  c.threads = 2;
  c.layers = 6;
  c.width = 16; /* two waves of 8 threads per layer */
  c.task_us = 1000;
  simres r;
  assert_int_equal(mpisim_run(&c, &r), 0);
  assert_int_equal(r.tasks, 96);
  double bound = 96 * 1000e-6 / 8;
  assert_true(r.makespan_s >= bound - 1e-12);
  assert_true(r.makespan_s <= 1.25 * bound);
  assert_true(r.efficiency <= 1 + 1e-9 && r.efficiency >= 0.8);
}

static void test_rank0_is_one_server(void **state) {
  (void)state;
  simcfg c = free_cfg();
  c.ranks = 8;
  c.threads = 4;
  c.layers = 4;
  c.width = 500;
  c.task_us = 1;
  c.task_cost_us = 10; /* far above the work: rank 0 is the limit */
  simres r;
  assert_int_equal(mpisim_run(&c, &r), 0);
  assert_true(r.makespan_s >= 2000 * 10e-6);
  assert_true(r.tasks_per_s <= 1 / 10e-6 * 1.0001);
  assert_true(r.tasks_per_s >= 0.8 / 10e-6);
  assert_true(r.rank0_busy > 0.95 && r.rank0_busy <= 1.0 + 1e-9);
  assert_true(r.efficiency <= 1);
}

static void test_saturation_and_the_answers(void **state) {
  (void)state;
  simcfg c;
  mpisim_defaults(&c);
  c.task_cost_us = 1.0; /* about what bench_mpi measures */
  c.msg_cost_us = 2.5;
  c.threads = 8;
  c.layers = 3;
  c.task_us = 1000;
  simres small, big, grp, rep;
  c.ranks = 10;
  assert_int_equal(mpisim_run(&c, &small), 0);
  c.ranks = 200;
  assert_int_equal(mpisim_run(&c, &big), 0);
  /* the central scheduler saturates: 200 ranks x 8 threads of 1 ms tasks
   * want 1.6 M tasks/s; rank 0 gives at most 1 / (cost per task) */
  assert_true(small.efficiency > 0.5);
  assert_true(big.rank0_busy > 0.9);
  assert_true(big.tasks_per_s <= 1 / (c.task_cost_us * 1e-6));
  assert_true(big.efficiency < small.efficiency / 3);
  c.group = 10;
  assert_int_equal(mpisim_run(&c, &grp), 0);
  c.group = -1;
  assert_int_equal(mpisim_run(&c, &rep), 0);
  assert_true(grp.efficiency > 2 * big.efficiency);
  /* groups mode as built: rank 0 still decides every task (fwd_us defaults
   * to the per-task cost), so its ceiling is 1 / task_cost_us, above
   * central's 1 / (task + message costs) */
  assert_true(grp.tasks_per_s <= 1 / (c.task_cost_us * 1e-6) + 1e-6);
  assert_true(grp.tasks_per_s > big.tasks_per_s);
  simres cheap;
  c.group = 10;
  c.fwd_us = 0.1; /* a forwarding-only rank 0 would go further */
  assert_int_equal(mpisim_run(&c, &cheap), 0);
  assert_true(cheap.efficiency >= grp.efficiency);
  c.fwd_us = -1;
  /* replicated: the graph's cut and encoding is rank 0's only work, every
   * rank reads its part: better than central at saturation, not free */
  assert_true(rep.efficiency > 2 * big.efficiency);
  /* rank 0's only work: cutting and encoding 9,600 tasks and sending 200
   * parts, about a third of a makespan that the ranks' reading only their
   * own parts keeps short */
  assert_true(fabs(rep.rank0_busy * rep.makespan_s -
                   (9600 * c.enc_us + 200 * c.msg_cost_us) * 1e-6) < 1e-12);
  assert_true(rep.rank0_busy < 0.35);
  assert_true(rep.efficiency < 0.9);
  for (int k = 0; k < 2; k++)
    assert_true((k ? grp : rep).efficiency <= 1 + 1e-9);
}

static void test_replicated_closed_form(void **state) {
  (void)state;
  simcfg c = free_cfg();
  c.group = -1;
  c.ranks = 10;
  c.threads = 4;
  c.layers = 7;
  c.width = 100; /* 10 own tasks per rank per layer: 3 waves of 4 threads */
  c.task_us = 500;
  c.lat_us = 3;
  c.bytes = 1e6;
  c.bw_gbs = 1; /* 1 MB at 1 GB/s: 1000 us per exchange */
  c.enc_us = c.parse_us = c.node_bytes = 0;
  simres r;
  assert_int_equal(mpisim_run(&c, &r), 0);
  /* 7 layers of 3 waves, an exchange each, after the (empty) parts' one
   * latency from rank 0 */
  double want = (7 * (3 * 500 + 3 + 1000) + 3) * 1e-6;
  assert_true(fabs(r.makespan_s - want) < 1e-12);
  assert_true(r.rank0_busy == 0);
  /* the graph: 700 tasks cut and encoded (0.5 us each) on rank 0, ten
   * parts sent one after the other (2 us each), 700 x 20 bytes in all on
   * rank 0's link at 1 GB/s; each rank reads its own 70 tasks (1 us each) */
  c.enc_us = 0.5;
  c.parse_us = 1;
  c.node_bytes = 20;
  c.msg_cost_us = 2;
  assert_int_equal(mpisim_run(&c, &r), 0);
  double graph = 700 * 0.5 + 10 * 2 + 700 * 20 / 1e3 + 70 * 1;
  want += graph * 1e-6;
  assert_true(fabs(r.makespan_s - want) < 1e-12);
  assert_true(fabs(r.rank0_busy - 370e-6 / want) < 1e-12);
  c.parse_us = -1;
  assert_int_equal(mpisim_run(&c, &r), -3);
}

static void test_bad_config(void **state) {
  (void)state;
  simcfg c;
  mpisim_defaults(&c);
  simres r;
  c.ranks = 0;
  assert_int_equal(mpisim_run(&c, &r), -3);
  mpisim_defaults(&c);
  c.threads = 0;
  assert_int_equal(mpisim_run(&c, &r), -3);
  mpisim_defaults(&c);
  c.group = -2;
  assert_int_equal(mpisim_run(&c, &r), -3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_free_scheduling_hits_the_bound),
      cmocka_unit_test(test_rank0_is_one_server),
      cmocka_unit_test(test_saturation_and_the_answers),
      cmocka_unit_test(test_replicated_closed_form),
      cmocka_unit_test(test_bad_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
