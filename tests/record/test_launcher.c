/*
 * test_launcher.c - rank, world size and job id from each launcher's
 * environment (set by hand: no scheduler here), the explicit overrides, the
 * job folder's name, and the run folder and metadata of a rank.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

/* Every variable the detection reads: cleared before each test. */
static const char *const VARS[] = {"OMPI_COMM_WORLD_RANK",
                                   "OMPI_COMM_WORLD_SIZE",
                                   "OMPI_COMM_WORLD_LOCAL_RANK",
                                   "PMIX_NAMESPACE",
                                   "PMIX_RANK",
                                   "PMIX_SIZE",
                                   "OMPI_MCA_ess_base_jobid",
                                   "OMPI_MCA_orte_ess_jobid",
                                   "PMI_RANK",
                                   "PMI_SIZE",
                                   "MPI_LOCALRANKID",
                                   "PMI_KVSNAME",
                                   "PMI_JOBID",
                                   "RANK",
                                   "WORLD_SIZE",
                                   "LOCAL_RANK",
                                   "LOCAL_WORLD_SIZE",
                                   "TORCHELASTIC_RUN_ID",
                                   "TORCHELASTIC_RESTART_COUNT",
                                   "MASTER_ADDR",
                                   "MASTER_PORT",
                                   "SLURM_PROCID",
                                   "SLURM_NTASKS",
                                   "SLURM_NPROCS",
                                   "SLURM_LOCALID",
                                   "SLURM_JOB_ID",
                                   "SLURM_JOBID",
                                   "SLURM_STEP_ID",
                                   "SLURM_STEPID",
                                   "SLURM_STEP_NUM_TASKS",
                                   PB_ENV_RANK,
                                   PB_ENV_WORLD_SIZE,
                                   PB_ENV_JOB_ID,
                                   PB_ENV_ROOT};

static int clear_env(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof VARS / sizeof *VARS; i++) unsetenv(VARS[i]);
  pb_set_rank(-1, 0, NULL);
  return 0;
}

static pb_rank_info detect(void) {
  pb_rank_info ri;
  TH_ASSERT_OK(pb_rank_detect(&ri));
  return ri;
}

/* "<host>-<ppid>-" starts the id used when a launcher exports no shared one. */
static void assert_parent_identity(const char *id) {
  char host[256] = "", want[320];
  gethostname(host, sizeof host - 1);
  snprintf(want, sizeof want, "%s-%ld-", host, (long)getppid());
  if (strncmp(id, want, strlen(want)) != 0) fail_msg("job id '%s' does not start '%s'", id, want);
  assert_true(strlen(id) > strlen(want)); /* the parent's start time follows */
}

static void test_single_process(void **state) {
  (void)state;
  pb_rank_info ri = detect();
  assert_int_equal(ri.rank, -1);
  assert_int_equal(ri.world_size, 0);
  assert_string_equal(ri.job_id, "");
  assert_string_equal(ri.launcher, "");
  setenv("RANK", "3", 1); /* RANK and WORLD_SIZE alone are too common to mean torchrun */
  setenv("WORLD_SIZE", "4", 1);
  assert_int_equal(detect().rank, -1);
  TH_ASSERT_STATUS(pb_rank_detect(NULL), PB_EINVAL);
}

static void test_openmpi(void **state) {
  (void)state;
  setenv("OMPI_COMM_WORLD_RANK", "2", 1);
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "0", 1);
  setenv("PMIX_NAMESPACE", "2138374145", 1);
  setenv("PMIX_RANK", "2", 1);
  setenv("SLURM_PROCID", "0", 1); /* mpirun inside an sbatch script */
  setenv("SLURM_JOB_ID", "77", 1);
  pb_rank_info ri = detect();
  assert_int_equal(ri.rank, 2);
  assert_int_equal(ri.world_size, 4);
  assert_int_equal(ri.local_rank, 0);
  assert_string_equal(ri.launcher, "openmpi");
  assert_string_equal(ri.job_id, "2138374145");
  unsetenv("PMIX_NAMESPACE");
  setenv("OMPI_MCA_ess_base_jobid", "99", 1);
  assert_string_equal(detect().job_id, "99");
  setenv("OMPI_COMM_WORLD_RANK", "0", 1); /* mpirun -np 1: a run of one process */
  setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
  assert_int_equal(detect().rank, -1);
  setenv(PB_ENV_RANK, "0", 1); /* unless asked for */
  assert_int_equal(detect().rank, 0);
  assert_string_equal(detect().launcher, "env");
}

static void test_mpich(void **state) {
  (void)state;
  setenv("PMI_RANK", "5", 1);
  setenv("PMI_SIZE", "8", 1);
  setenv("MPI_LOCALRANKID", "1", 1);
  pb_rank_info ri = detect();
  assert_int_equal(ri.rank, 5);
  assert_int_equal(ri.world_size, 8);
  assert_int_equal(ri.local_rank, 1);
  assert_string_equal(ri.launcher, "mpich");
  assert_parent_identity(ri.job_id); /* Hydra exports no job id */
  setenv("PMI_KVSNAME", "kvs_123_0", 1);
  assert_string_equal(detect().job_id, "kvs_123_0");
}

static void test_slurm(void **state) {
  (void)state;
  setenv("SLURM_PROCID", "7", 1);
  setenv("SLURM_NTASKS", "16", 1);
  setenv("SLURM_LOCALID", "3", 1);
  setenv("SLURM_JOB_ID", "123456", 1);
  setenv("SLURM_STEP_ID", "2", 1);
  setenv("PMIX_RANK", "7", 1); /* srun --mpi=pmix: Slurm's ids win */
  setenv("PMIX_NAMESPACE", "slurm.pmix.123456.2", 1);
  pb_rank_info ri = detect();
  assert_int_equal(ri.rank, 7);
  assert_int_equal(ri.world_size, 16);
  assert_int_equal(ri.local_rank, 3);
  assert_string_equal(ri.launcher, "slurm");
  assert_string_equal(ri.job_id, "123456.2");
  unsetenv("PMIX_RANK");
  unsetenv("PMIX_NAMESPACE");
  setenv("SLURM_STEP_NUM_TASKS", "8", 1); /* the step's tasks, not the allocation's */
  assert_int_equal(detect().world_size, 8);
  setenv("SLURM_STEP_NUM_TASKS", "1", 1); /* srun -n 1: one process */
  assert_int_equal(detect().rank, -1);
  unsetenv("SLURM_STEP_NUM_TASKS");
  setenv("SLURM_STEP_ID", "4294967291", 1); /* the batch step's id */
  assert_int_equal(detect().rank, -1);
  unsetenv("SLURM_STEP_ID"); /* the batch script itself: one process */
  assert_int_equal(detect().rank, -1);
  setenv("SLURM_STEPID", "3", 1); /* the older name */
  assert_string_equal(detect().job_id, "123456.3");
  unsetenv("SLURM_JOB_ID"); /* no job: not a Slurm task */
  assert_int_equal(detect().rank, -1);
}

static void test_torchrun(void **state) {
  (void)state;
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "2", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("LOCAL_WORLD_SIZE", "2", 1);
  setenv("TORCHELASTIC_RUN_ID", "none", 1);
  setenv("TORCHELASTIC_RESTART_COUNT", "0", 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", "29500", 1);
  pb_rank_info ri = detect();
  assert_int_equal(ri.rank, 1);
  assert_int_equal(ri.world_size, 2);
  assert_int_equal(ri.local_rank, 1);
  assert_string_equal(ri.launcher, "torchrun");
  assert_parent_identity(ri.job_id); /* one host, "none": the agent's identity */
  assert_string_equal(ri.job_id + strlen(ri.job_id) - 3, "-r0");
  setenv("LOCAL_WORLD_SIZE", "1", 1); /* two hosts: the master's address */
  assert_string_equal(detect().job_id, "127.0.0.1-29500-r0");
  setenv("TORCHELASTIC_RUN_ID", "exp42", 1);
  setenv("TORCHELASTIC_RESTART_COUNT", "1", 1);
  assert_string_equal(detect().job_id, "exp42-r1");
}

static void test_overrides(void **state) {
  (void)state;
  setenv("SLURM_PROCID", "7", 1);
  setenv("SLURM_NTASKS", "16", 1);
  setenv("SLURM_JOB_ID", "123456", 1);
  setenv("SLURM_STEP_ID", "0", 1);
  setenv(PB_ENV_JOB_ID, "mine", 1); /* alone: replaces the launcher's id */
  pb_rank_info ri = detect();
  assert_int_equal(ri.rank, 7);
  assert_string_equal(ri.launcher, "slurm");
  assert_string_equal(ri.job_id, "mine");
  setenv(PB_ENV_RANK, "1", 1);
  setenv(PB_ENV_WORLD_SIZE, "3", 1);
  ri = detect();
  assert_int_equal(ri.rank, 1);
  assert_int_equal(ri.world_size, 3);
  assert_string_equal(ri.launcher, "env");
  TH_ASSERT_OK(pb_set_rank(0, 2, "api-job"));
  ri = detect();
  assert_int_equal(ri.rank, 0);
  assert_int_equal(ri.world_size, 2);
  assert_string_equal(ri.launcher, "api");
  assert_string_equal(ri.job_id, "api-job");
  TH_ASSERT_OK(pb_set_rank(1, 2, NULL)); /* no id: the environment's */
  assert_string_equal(detect().job_id, "mine");
  TH_ASSERT_STATUS(pb_set_rank(2, 2, "x"), PB_EINVAL);
  TH_ASSERT_OK(pb_set_rank(-1, 0, NULL));
  assert_string_equal(detect().launcher, "env");
  setenv(PB_ENV_RANK, "x1", 1); /* not a number: ignored */
  assert_string_equal(detect().launcher, "slurm");
}

static void test_job_folder_name(void **state) {
  (void)state;
  char buf[128];
  assert_int_equal(pb_job_folder_name("123456.2", buf, sizeof buf), 12);
  assert_string_equal(buf, "job-123456.2");
  /* changed bytes get the hash, so "a/b" and "a_b" differ */
  int n = pb_job_folder_name("a/b", buf, sizeof buf);
  assert_int_equal(n, 4 + 3 + 9);
  assert_memory_equal(buf, "job-a_b-", 8);
  char other[128];
  pb_job_folder_name("a:b", other, sizeof other);
  assert_string_not_equal(buf, other);
  char longid[300];
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  assert_int_equal(pb_job_folder_name(longid, buf, sizeof buf), 4 + 96 + 9);
  TH_ASSERT_STATUS(pb_job_folder_name("", buf, sizeof buf), PB_EINVAL);
  TH_ASSERT_STATUS(pb_job_folder_name("abc", buf, 5), PB_EINVAL);
}

/* Records one iteration into a registry at root; returns its run folder. */
static char *record_one(const char *root) {
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create(root, &r));
  pb_bench *b = pb_registry_get(r, "train");
  assert_non_null(b);
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_step(b, "forward"));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_registry_save(r));
  char buf[4096];
  assert_true(pb_registry_run_dir(r, buf, sizeof buf) > 0);
  pb_registry_destroy(r);
  return strdup(buf);
}

static void test_rank_folder_and_metadata(void **state) {
  (void)state;
  char *root = th_mkdtemp("launcher");
  setenv("SLURM_PROCID", "3", 1);
  setenv("SLURM_NTASKS", "4", 1);
  setenv("SLURM_LOCALID", "1", 1);
  setenv("SLURM_JOB_ID", "991", 1);
  setenv("SLURM_STEP_ID", "0", 1);
  char *dir = record_one(root);
  char *want = th_strf("%s/job-991.0/rank-00003", root);
  assert_string_equal(dir, want);
  char *data = th_strf("%s/train_STEP_DICT_DATA.json", dir);
  assert_true(th_exists(data));
  char *meta_path = th_strf("%s/porter_bench_run.json", dir);
  json_error_t jerr;
  json_t *meta = json_load_file(meta_path, 0, &jerr);
  if (!meta) fail_msg("%s: %s", meta_path, jerr.text);
  assert_int_equal(json_integer_value(json_object_get(meta, "rank")), 3);
  assert_int_equal(json_integer_value(json_object_get(meta, "world_size")), 4);
  assert_int_equal(json_integer_value(json_object_get(meta, "local_rank")), 1);
  assert_int_equal(json_integer_value(json_object_get(meta, "pid")), getpid());
  assert_int_equal(json_integer_value(json_object_get(meta, "ppid")), getppid());
  assert_string_equal(json_string_value(json_object_get(meta, "launcher")), "slurm");
  assert_string_equal(json_string_value(json_object_get(meta, "job_id")), "991.0");
  json_t *pair = json_object_get(meta, "clock_pair");
  double wall = json_number_value(json_object_get(pair, "wall"));
  double start = json_number_value(json_object_get(meta, "start_time"));
  TH_ASSERT_BETWEEN(wall, start - 60, start + 60);
  assert_true(json_number_value(json_object_get(pair, "monotonic")) > 0);
  assert_true(json_integer_value(json_object_get(pair, "error_ns")) >= 0);
  json_decref(meta);
  /* the same rank of the same job id again: another job, the next folder */
  char *dir2 = record_one(root);
  char *want2 = th_strf("%s/job-991.0-1/rank-00003", root);
  assert_string_equal(dir2, want2);
  /* one process: a timestamp folder directly under root, no rank fields */
  clear_env(NULL);
  char *dir3 = record_one(root);
  assert_memory_equal(dir3, root, strlen(root));
  assert_null(strstr(dir3 + strlen(root), "job-"));
  char *meta3 = th_strf("%s/porter_bench_run.json", dir3);
  json_t *m3 = json_load_file(meta3, 0, &jerr);
  assert_non_null(m3);
  assert_null(json_object_get(m3, "rank"));
  json_decref(m3);
  free(meta3);
  free(dir3);
  free(want2);
  free(dir2);
  free(meta_path);
  free(data);
  free(want);
  free(dir);
  th_rmtree(root);
  free(root);
}

/* The metadata says how peaks are measured (issue 9): "peak_mode" and, when
 * sampled, "peak_poll_ms" (the poll period). */
static json_t *meta_of(const char *dir) {
  char *path = th_strf("%s/porter_bench_run.json", dir);
  json_error_t jerr;
  json_t *meta = json_load_file(path, 0, &jerr);
  if (!meta) fail_msg("%s: %s", path, jerr.text);
  free(path);
  return meta;
}

static void test_metadata_peak_mode(void **state) {
  (void)state;
  char *root = th_mkdtemp("peakmode");
  TH_ASSERT_OK(pb_set_peak_mode(PB_PEAK_SAMPLE));
  TH_ASSERT_OK(pb_set_peak_poll_period(0.05));
  char *dir = record_one(root);
  json_t *meta = meta_of(dir);
  assert_string_equal(json_string_value(json_object_get(meta, "peak_mode")), "sample");
  assert_true(json_is_number(json_object_get(meta, "peak_poll_ms")));
  assert_true(fabs(json_number_value(json_object_get(meta, "peak_poll_ms")) - 50.0) < 1e-9);
  json_decref(meta);
  /* reset where the kernel allows it; else the library samples and says so */
  bool exact = pb_set_peak_mode(PB_PEAK_RESET) == PB_OK;
  char *dir2 = record_one(root);
  meta = meta_of(dir2);
  assert_string_equal(json_string_value(json_object_get(meta, "peak_mode")),
                      exact ? "reset" : "sample");
  assert_true(exact == (json_object_get(meta, "peak_poll_ms") == NULL));
  json_decref(meta);
  TH_ASSERT_OK(pb_set_peak_mode(PB_PEAK_SAMPLE));
  TH_ASSERT_OK(pb_set_peak_poll_period(0.1));
  free(dir2);
  free(dir);
  th_rmtree(root);
  free(root);
}

/* pb_set_rank and pb_rank_detect from several threads: every detection sees
 * one whole setting (its rank and its job id together). */
static void *flip(void *arg) {
  int k = *(const int *)arg;
  char id[32];
  snprintf(id, sizeof id, "job%d", k);
  for (int i = 0; i < 2000; i++) {
    pb_set_rank(k, 8, id);
    pb_rank_info ri;
    pb_rank_detect(&ri);
    char want[32];
    snprintf(want, sizeof want, "job%d", ri.rank);
    if (strcmp(ri.job_id, want) != 0 || ri.world_size != 8) return (void *)1;
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  pthread_t th[4];
  int ks[4] = {0, 1, 2, 3};
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, flip, &ks[i]), 0);
  for (int i = 0; i < 4; i++) {
    void *rc = NULL;
    pthread_join(th[i], &rc);
    assert_null(rc);
  }
  pb_set_rank(-1, 0, NULL);
}

/* The default benchmarker of a rank saves under its own rank folder. */
static void test_default_bench(void **state) {
  (void)state;
  char *dir = th_mkdtemp("launcher-default");
  char *cwd = getcwd(NULL, 0);
  assert_int_equal(chdir(dir), 0);
  setenv("SLURM_PROCID", "5", 1);
  setenv("SLURM_JOB_ID", "17", 1);
  setenv("SLURM_STEP_ID", "0", 1);
  pb_bench *b = pb_default_bench(); /* created now: no other test of this file uses it */
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  assert_true(th_exists("performance_benchmark/rank-00005/default_STEP_DICT_DATA.json"));
  assert_false(th_exists("performance_benchmark/default_STEP_DICT_DATA.json"));
  assert_int_equal(chdir(cwd), 0);
  free(cwd);
  th_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_single_process, clear_env),
      cmocka_unit_test_setup(test_openmpi, clear_env),
      cmocka_unit_test_setup(test_mpich, clear_env),
      cmocka_unit_test_setup(test_slurm, clear_env),
      cmocka_unit_test_setup(test_torchrun, clear_env),
      cmocka_unit_test_setup(test_overrides, clear_env),
      cmocka_unit_test_setup(test_job_folder_name, clear_env),
      cmocka_unit_test_setup(test_rank_folder_and_metadata, clear_env),
      cmocka_unit_test_setup(test_metadata_peak_mode, clear_env),
      cmocka_unit_test_setup(test_threads, clear_env),
      cmocka_unit_test_setup(test_default_bench, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
