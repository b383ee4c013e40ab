/*
 * test_fork.c - a recording process forks.
 *
 * The child inherits a copy of every benchmarker with the parent's records
 * and the parent's file paths. Whatever the child does (records, saves,
 * exits), the parent's record files must end up holding exactly the
 * parent's records: the child must not overwrite or corrupt them.
 *
 * Second case: the fork happens while other threads of the parent are inside
 * porter_bench (recording and saving). The child has only the forking thread;
 * a lock or a save "in progress" copied from a vanished thread must not make
 * the child's calls hang (a watchdog in the child reports a hang).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel_util.h"

static void record(pb_bench *b, const char *topic, int n) {
  for (int i = 0; i < n; i++) {
    REL_ASSERT_OK(pb_gstep(b));
    REL_ASSERT_OK(pb_step(b, topic));
    REL_ASSERT_OK(pb_gstop(b));
  }
}

static int wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/* Every record file under dir parses. */
static void all_files_parse(const char *dir) {
  rel_tree t = rel_walk(dir);
  for (size_t i = 0; i < t.n; i++) {
    if (t.e[i].is_dir || !rel_is_record_name(t.e[i].rel)) continue;
    char *p = rel_strf("%s/%s", dir, t.e[i].rel);
    json_error_t err;
    json_t *j = rel_load(p, &err);
    if (!j) fail_msg("%s is corrupt: %s", p, err.text);
    json_decref(j);
    free(p);
  }
  rel_tree_free(&t);
}

/*
 * The parent records 20 iterations and saves, forks; the child records 5
 * iterations of its own and saves only after the parent's final save (40
 * iterations). The parent's files must still hold the parent's 40 iterations.
 * `child_exits_only`: the child records but never calls pb_save (an exit
 * must not write either).
 */
static void run_fork_case(bool child_saves) {
  char *dir = rel_mkdtemp("fork");
  char *prefix = rel_strf("%s/b", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, "parent", 20);
  REL_ASSERT_OK(pb_save(b));
  int go[2];
  assert_int_equal(pipe(go), 0);
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(go[1]);
    for (int i = 0; i < 5; i++) {
      pb_gstep(b);
      pb_step(b, "child");
      pb_gstop(b);
    }
    char c;
    ssize_t n = read(go[0], &c, 1); /* wait for the parent's final save */
    (void)n;
    int rc = child_saves ? pb_save(b) : PB_OK;
    printf("# child: pb_save -> %s %s\n", pb_err_name(rc), rc ? pb_last_error() : "");
    fflush(stdout);
    _exit(0);
  }
  close(go[0]);
  record(b, "parent", 20);
  REL_ASSERT_OK(pb_save(b));
  assert_int_equal(write(go[1], "x", 1), 1);
  close(go[1]);
  int status = wait_child(pid);
  assert_true(WIFEXITED(status));
  all_files_parse(dir);
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  size_t child_calls = rel_count_calls(data, "child");
  size_t iters = json_array_size(data);
  json_decref(data);
  printf("# after the child's %s: the parent's DATA file holds %zu iterations, %zu child calls\n",
         child_saves ? "save" : "exit", iters, child_calls);
  if (child_calls || iters != 40) {
    fail_msg(
        "REL-F8: a forked child's pb_save replaced the parent's records: %s holds %zu "
        "iterations (parent: 40) and %zu calls of the child",
        prefix, iters, child_calls);
  }
  /* Where the child's records went, if it saved (since REL-F8: "<path>.fork-<pid>"). */
  char *child_prefix = rel_strf("%s.fork-%ld", prefix, (long)pid);
  char *child_data = rel_strf("%s%s", child_prefix, PB_SUFFIX_DATA);
  if (child_saves && rel_exists(child_data)) {
    json_t *cd = rel_must_load(child_prefix, PB_SUFFIX_DATA);
    printf("# the child's save went to %s: %zu iterations, %zu child calls\n", child_data,
           json_array_size(cd), rel_count_calls(cd, "child"));
    assert_int_equal(json_array_size(cd), 25); /* the parent's 20 before the fork + 5 */
    assert_int_equal(rel_count_calls(cd, "child"), 5);
    json_decref(cd);
  } else if (!child_saves && rel_exists(child_data)) {
    fail_msg("a child that did not save left %s", child_data);
  }
  free(child_data);
  free(child_prefix);
  REL_ASSERT_OK(pb_bench_destroy(b));
  rel_rmtree(dir);
  free(dir);
  free(prefix);
}

static void test_child_save_keeps_parent_files(void **state) {
  (void)state;
  run_fork_case(true);
}

static void test_child_exit_keeps_parent_files(void **state) {
  (void)state;
  run_fork_case(false);
}

/* ---- fork while other threads are inside porter_bench ---- */

static atomic_bool g_stop;
static pb_bench *g_b;

static void *busy_recorder(void *arg) {
  (void)arg;
  for (long i = 0; !atomic_load(&g_stop); i++) {
    if (i < 20000) { /* bounded growth: saves stay short */
      pb_gstep(g_b);
      pb_step(g_b, "busy");
    } else { /* still takes the benchmarker's lock, records nothing */
      pb_gstop(g_b);
    }
  }
  return NULL;
}

static void *busy_saver(void *arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) pb_save(g_b);
  return NULL;
}

static volatile sig_atomic_t g_stage; /* child: the call in progress (1 step, 2 gstep, 3 save) */

static void on_child_alarm(int sig) {
  (void)sig;
  _exit(90 + g_stage);
}

static void test_fork_while_threads_record_and_save(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("forkmt");
  char *prefix = rel_strf("%s/mt", dir);
  REL_ASSERT_OK(pb_bench_create(prefix, &g_b));
  REL_ASSERT_OK(pb_gstep(g_b));
  atomic_store(&g_stop, false);
  pthread_t rec, sav;
  assert_int_equal(pthread_create(&rec, NULL, busy_recorder, NULL), 0);
  assert_int_equal(pthread_create(&sav, NULL, busy_saver, NULL), 0);
  long forks = rel_count("FORKS", 8, false), hangs = 0, crashes = 0, hung_in[4] = {0};
  for (long k = 0; k < forks; k++) {
    usleep(2000);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      signal(SIGALRM, on_child_alarm);
      alarm(2);
      g_stage = 1;
      pb_step(g_b, "in-child");
      g_stage = 2;
      pb_gstep(g_b);
      g_stage = 3;
      pb_save(g_b); /* see test_child_save_keeps_parent_files for where it may write */
      _exit(0);
    }
    int status = wait_child(pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 90 && WEXITSTATUS(status) <= 93) {
      hangs++;
      hung_in[WEXITSTATUS(status) - 90]++;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      crashes++;
  }
  atomic_store(&g_stop, true);
  pthread_join(rec, NULL);
  pthread_join(sav, NULL);
  REL_ASSERT_OK(pb_save(g_b));
  all_files_parse(dir);
  printf(
      "# %ld forks while two threads recorded and saved: %ld children hung (> 2 s), %ld "
      "crashed\n",
      forks, hangs, crashes);
  REL_ASSERT_OK(pb_bench_destroy(g_b));
  rel_rmtree(dir);
  free(dir);
  free(prefix);
  assert_int_equal(crashes, 0);
  if (hangs) {
    fail_msg(
        "REL-F9: %ld of %ld children forked while other threads were in porter_bench hung: "
        "%ld in pb_step, %ld in pb_gstep, %ld in pb_save",
        hangs, forks, hung_in[1], hung_in[2], hung_in[3]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_child_exit_keeps_parent_files),
      cmocka_unit_test(test_child_save_keeps_parent_files),
      cmocka_unit_test(test_fork_while_threads_record_and_save),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
