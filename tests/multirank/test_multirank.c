/*
 * test_multirank.c - a multi-rank run: a job folder of rank folders loaded
 * as one run, the spread of each topic across ranks, each rank readable
 * alone, and a job recorded in-process with pb_set_rank().
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "porter_bench.h"
#include "porter_bench_analysis.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static pb_run *load(const char *path, bool latest) {
  pb_run *run = NULL;
  pb_error err;
  int rc = pb_run_load(path, latest, &run, &err);
  if (rc != PB_OK) fail_msg("pb_run_load(%s): %s", path, err.message);
  return run;
}

static void test_fixture_spread(void **state) {
  (void)state;
  pb_run *run = load(PB_FIXTURES "/multirank_root", true);
  assert_non_null(strstr(pb_run_path(run), "/job-4242.0"));
  assert_int_equal(pb_run_rank_count(run), 4);
  assert_int_equal(pb_run_record_count(run), 0);
  assert_null(pb_run_metadata(run));
  assert_int_equal(pb_run_diagnostic_count(run), 0);
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(pb_run_rank_id(run, i), (int)i);
    assert_int_equal(pb_record_iter_count(pb_run_find(pb_run_rank(run, i), "train")), 3);
  }
  assert_null(pb_run_rank(run, 4));
  assert_int_equal(pb_run_rank_id(run, 4), -1);
  pb_rank_spread sp;
  assert_int_equal(pb_run_rank_spread(run, "train", "compute", &sp), PB_OK);
  assert_int_equal(sp.ranks, 4);
  NEAR(sp.min, 0.011);
  NEAR(sp.max, 0.032);
  NEAR(sp.mean, (0.012 + 0.011 + 0.013 + 0.032) / 4);
  NEAR(sp.imbalance, 0.032 / sp.mean);
  assert_int_equal(sp.min_rank, 1);
  assert_int_equal(sp.max_rank, 3);
  /* rank 2 has no "exchange": only the 3 ranks that have it count */
  assert_int_equal(pb_run_rank_spread(run, "train", "exchange", &sp), PB_OK);
  assert_int_equal(sp.ranks, 3);
  NEAR(sp.mean, 0.002);
  NEAR(sp.imbalance, 1.0);
  assert_true(isnan(pb_run_rank_mean(run, 2, "train", "exchange")));
  NEAR(pb_run_rank_mean(run, 0, "train", "compute"), 0.012);
  assert_int_equal(pb_run_rank_spread(run, "train", "nothing", &sp), PB_OK);
  assert_int_equal(sp.ranks, 0);
  assert_true(isnan(sp.mean));
  assert_int_equal(sp.max_rank, -1);
  assert_int_equal(pb_run_rank_spread(run, NULL, "compute", &sp), PB_EINVAL);
  pb_run_free(run);
}

static void test_rank_alone(void **state) {
  (void)state;
  pb_run *run = load(PB_FIXTURES "/multirank_root/TICTOC_PERFORMANCE/job-4242.0/rank-00003", false);
  assert_int_equal(pb_run_rank_count(run), 0);
  const pb_record *r = pb_run_find(run, "train");
  assert_non_null(r);
  pb_stats st;
  assert_int_equal(pb_record_stats(r, (size_t)pb_record_topic_index(r, "compute"), &st), PB_OK);
  NEAR(st.mean, 0.032);
  assert_non_null(strstr(pb_run_metadata(run), "rank: 3\n"));
  pb_rank_spread sp;
  assert_int_equal(pb_run_rank_spread(run, "train", "compute", &sp), PB_EINVAL);
  pb_run_free(run);
}

static void sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Ranks 0..n-1 of job id, recorded one after the other in this process. */
static void record_job(const char *root, const char *id, int n) {
  for (int r = 0; r < n; r++) {
    assert_int_equal(pb_set_rank(r, n, id), PB_OK);
    pb_registry *reg = NULL;
    assert_int_equal(pb_registry_create(root, &reg), PB_OK);
    pb_bench *b = pb_registry_get(reg, "work");
    assert_non_null(b);
    for (int i = 0; i < 3; i++) {
      pb_gstep(b);
      sleep_ms(1);
      pb_step(b, "a");
    }
    pb_gstop(b);
    assert_int_equal(pb_registry_save(reg), PB_OK);
    pb_registry_destroy(reg);
  }
  pb_set_rank(-1, 0, NULL);
}

static void test_recorded_job(void **state) {
  (void)state;
  char root[] = "/tmp/pbtest-multirank.XXXXXX";
  assert_non_null(mkdtemp(root));
  record_job(root, "inproc", 4);
  pb_run *run = load(root, true);
  assert_int_equal(pb_run_rank_count(run), 4);
  pb_rank_spread sp;
  assert_int_equal(pb_run_rank_spread(run, "work", "a", &sp), PB_OK);
  assert_int_equal(sp.ranks, 4);
  assert_true(sp.min >= 0.001); /* a sleep is never shorter (no assertion on which is slower) */
  assert_true(sp.imbalance >= 1.0);
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(pb_run_rank_id(run, i), (int)i);
    assert_int_equal(pb_record_iter_count(pb_run_find(pb_run_rank(run, i), "work")), 3);
    assert_non_null(strstr(pb_run_metadata(pb_run_rank(run, i)), "launcher: api\n"));
  }
  pb_run_free(run);
  /* the same job id again is another job: the next folder, and the latest */
  sleep_ms(50);
  record_job(root, "inproc", 2);
  run = load(root, true);
  assert_non_null(strstr(pb_run_path(run), "/job-inproc-1"));
  assert_int_equal(pb_run_rank_count(run), 2);
  pb_run_free(run);
  /* a later run of one process is the latest */
  sleep_ms(50);
  pb_registry *reg = NULL;
  assert_int_equal(pb_registry_create(root, &reg), PB_OK);
  pb_gstep(pb_registry_get(reg, "solo"));
  pb_gstop(pb_registry_get(reg, "solo"));
  assert_int_equal(pb_registry_save(reg), PB_OK);
  pb_registry_destroy(reg);
  run = load(root, true);
  assert_int_equal(pb_run_rank_count(run), 0);
  assert_non_null(pb_run_find(run, "solo"));
  pb_run_free(run);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  assert_int_equal(system(cmd), 0);
}

/* A job whose ranks have made their folders but saved nothing yet is the
 * latest run: reported, not skipped for an older run. */
static void test_pending_job(void **state) {
  (void)state;
  char root[] = "/tmp/pbtest-pending.XXXXXX";
  assert_non_null(mkdtemp(root));
  pb_registry *reg = NULL;
  assert_int_equal(pb_registry_create(root, &reg), PB_OK);
  pb_gstep(pb_registry_get(reg, "older"));
  pb_gstop(pb_registry_get(reg, "older"));
  assert_int_equal(pb_registry_save(reg), PB_OK);
  pb_registry_destroy(reg);
  sleep_ms(50);
  char job[128];
  snprintf(job, sizeof job, "%s/job-running", root);
  assert_int_equal(mkdir(job, 0777), 0);
  snprintf(job, sizeof job, "%s/job-running/rank-00000", root);
  assert_int_equal(mkdir(job, 0777), 0);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(root, true, &run, &err), PB_ENOTFOUND);
  assert_null(run);
  assert_non_null(strstr(err.message, "job-running: the latest run has no records yet"));
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  unsetenv(PB_ENV_ROOT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixture_spread),
      cmocka_unit_test(test_rank_alone),
      cmocka_unit_test(test_recorded_job),
      cmocka_unit_test(test_pending_job),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
