/*
 * test_mpirun.c - a real 4-rank Open MPI job (examples/mpi/mpi_ranks.c,
 * whose last rank computes 15 times longer: 30 ms against 2 (sleeping,
 * so that the ranks sharing cores does not blur it: a sleep is never shorter)), merged by the
 * loader and by "porter-bench summary". Exits 77 (ctest's skip) when mpirun is absent.
 *
 *   test_mpirun MPIRUN JOB_PROGRAM [PORTER_BENCH_CLI]
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "porter_bench_analysis.h"

static const char *mpirun, *job, *cli;
static char root[] = "/tmp/pbtest-mpirun.XXXXXX";

static void test_four_ranks(void **state) {
  (void)state;
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "'%s' --allow-run-as-root --oversubscribe -np 4 '%s' '%s/TICTOC_PERFORMANCE'", mpirun,
           job, root);
  int rc = system(cmd);
  if (rc != 0) fail_msg("%s: exit status %d", cmd, rc);
  pb_run *run = NULL;
  pb_error err;
  if (pb_run_load(root, true, &run, &err) != PB_OK) fail_msg("load %s: %s", root, err.message);
  assert_int_equal(pb_run_rank_count(run), 4);
  assert_int_equal(pb_run_diagnostic_count(run), 0);
  pb_rank_spread sp;
  assert_int_equal(pb_run_rank_spread(run, "train", "compute", &sp), PB_OK);
  assert_int_equal(sp.ranks, 4);
  assert_int_equal(sp.max_rank, 3);
  assert_true(sp.imbalance > 1.3); /* 30 ms against 2 ms: about 3.4 */
  assert_true(sp.min >= 0.002);    /* a sleep is never shorter */
  assert_non_null(strstr(pb_run_metadata(pb_run_rank(run, 3)), "launcher: openmpi\n"));
  assert_non_null(strstr(pb_run_metadata(pb_run_rank(run, 3)), "world_size: 4\n"));
  pb_run_free(run);
}

/* The "compute" row of the CLI's summary names rank 3 as the slowest. */
static void test_cli_summary(void **state) {
  (void)state;
  if (!cli || !*cli) skip();
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "COLUMNS=100 '%s' summary '%s'", cli, root);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char line[1024];
  bool job_line = false, compute = false;
  while (fgets(line, sizeof line, p)) {
    fputs(line, stderr);
    if (strncmp(line, "job ", 4) == 0) job_line = strstr(line, "(openmpi): 4 ranks of 4") != NULL;
    char *tok[32];
    int n = 0;
    for (char *t = strtok(line, " \n"); t && n < 32; t = strtok(NULL, " \n")) tok[n++] = t;
    if (n >= 3 && strcmp(tok[0], "compute") == 0) {
      compute = true;
      assert_string_equal(tok[1], "4");            /* ranks */
      assert_string_equal(tok[n - 2], "3");        /* slowest */
      assert_true(strtod(tok[n - 1], NULL) > 1.3); /* max/mean */
    }
  }
  assert_int_equal(pclose(p), 0);
  assert_true(job_line);
  assert_true(compute);
}

int main(int argc, char **argv) {
  mpirun = argc > 1 ? argv[1] : "";
  job = argc > 2 ? argv[2] : "";
  cli = argc > 3 ? argv[3] : "";
  if (!*mpirun || access(mpirun, X_OK) != 0) {
    printf("mpirun not found: skipped (install openmpi-bin)\n");
    return 77;
  }
  if (!mkdtemp(root)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_four_ranks),
      cmocka_unit_test(test_cli_summary),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) failed++;
  return failed;
}
