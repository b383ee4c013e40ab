/*
 * test_crash.c - crash safety: a child process records with auto-save on
 * every gstop and is killed with SIGKILL at a random moment; every record
 * file it leaves must parse and hold a complete prefix of its run.
 *
 * Usage: test_crash [kills]   (default 30; `make stress` runs 300)
 * PB_REL_SEED fixes the random seed (printed at the start).
 *
 * The child's iteration i holds the steps "a", "b" (extra {"i": i}) and "c",
 * then "gstop"; with memory tracking on (every other kill) also the probes'
 * "gstep_memory" and "gstop_memory" steps and a MEMORY file. The save writes
 * SUMMARY, DATA, then MEMORY, each replaced atomically, so a kill between two
 * of them may leave files of two consecutive snapshots: MEMORY may lag DATA
 * by one iteration. Temporary files of a save cut short are counted (they
 * are not record files) and reported.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

static long g_kills = 30;

/* The child: records forever, auto-saving at every gstop. Never returns. */
static void child_run(const char *prefix, bool memory) {
  pb_bench *b = NULL;
  if (pb_bench_create(prefix, &b) != PB_OK) _exit(10);
  pb_set_save_on_gstop(b, 1);
  if (memory && pb_enable_memory_tracking(b, false) != PB_OK) _exit(11);
  char extra[48];
  for (long i = 0;; i++) {
    int rc = pb_gstep(b);
    if (rc != PB_OK) _exit(12); /* a failed auto-save: the parent reports it */
    pb_step(b, "a");
    snprintf(extra, sizeof extra, "{\"i\":%ld}", i);
    pb_step_ex(b, "b", extra, NULL);
    pb_step(b, "c");
  }
}

typedef struct totals {
  long kills, with_files, data_files, summary_files, memory_files, tmp_left, corrupt;
  long lagging_memory, max_iters, iters_sum, early_exits;
} totals;

static void check_folder(const char *dir, bool memory, totals *t) {
  static const char *const plain[] = {"a", "b", "c", "gstop", NULL};
  static const char *const withmem[] = {"gstep_memory", "a", "b", "c", "gstop",
                                        "gstop_memory", NULL};
  rel_tree tree = rel_walk(dir);
  long data_iters = -1, mem_iters = -1;
  bool any = false;
  for (size_t i = 0; i < tree.n; i++) {
    const char *name = tree.e[i].rel;
    if (tree.e[i].is_dir) continue;
    char *path = rel_strf("%s/%s", dir, name);
    if (rel_is_tmp_name(name)) {
      t->tmp_left++;
    } else if (!rel_is_record_name(name)) {
      fail_msg("unexpected file '%s' left by the child", path);
    } else {
      any = true;
      json_error_t err;
      json_t *j = rel_load(path, &err);
      if (!j) {
        t->corrupt++;
        fail_msg("CORRUPT record file %s: line %d column %d: %s", path, err.line, err.column,
                 err.text);
      }
      char why[256] = "";
      if (strstr(name, PB_SUFFIX_DATA)) {
        t->data_files++;
        data_iters =
            rel_check_data_prefix(j, memory ? withmem : plain, "b", false, why, sizeof why);
        if (data_iters < 1) fail_msg("%s is not a complete prefix of the run: %s", path, why);
      } else if (strstr(name, PB_SUFFIX_MEMORY)) {
        t->memory_files++;
        mem_iters = rel_check_memory_prefix(j, why, sizeof why);
        if (mem_iters < 0) fail_msg("%s: %s", path, why);
        if (!memory && mem_iters != 0) fail_msg("%s: memory records without tracking", path);
      } else {
        t->summary_files++;
        if (!rel_check_summary(j, why, sizeof why)) fail_msg("%s: %s", path, why);
        if (!json_object_get(j, "GLOBAL")) fail_msg("%s: no GLOBAL", path);
      }
      json_decref(j);
    }
    free(path);
  }
  rel_tree_free(&tree);
  if (any) t->with_files++;
  if (data_iters > 0) {
    t->iters_sum += data_iters;
    if (data_iters > t->max_iters) t->max_iters = data_iters;
  }
  if (memory && data_iters > 0 && mem_iters >= 0) {
    /* MEMORY is written after DATA: it holds the same iterations or one fewer. */
    if (mem_iters != data_iters && mem_iters != data_iters - 1) {
      fail_msg("%s: MEMORY has %ld iterations, DATA %ld", dir, mem_iters, data_iters);
    }
    if (mem_iters != data_iters) t->lagging_memory++;
  }
}

static void test_sigkill_during_autosave(void **state) {
  (void)state;
  unsigned seed = (unsigned)rel_count("SEED", (long)time(NULL) ^ (long)getpid(), false);
  srand(seed);
  printf("# seed %u (PB_REL_SEED=%u repeats this run), %ld kills\n", seed, seed, g_kills);
  totals t = {0};
  char *root = rel_mkdtemp("crash");
  for (long k = 0; k < g_kills; k++) {
    bool memory = k % 2 == 1;
    char *dir = rel_strf("%s/k%ld", root, k);
    char *prefix = rel_strf("%s/run/bench", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child_run(prefix, memory);
    /* Mostly 0-150 ms; one kill in eight within the first millisecond (first saves). */
    long us = (rand() % 8 == 0) ? rand() % 1000 : rand() % 150000;
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      t.early_exits++;
      fail_msg("kill %ld: the child ended on its own (status 0x%x): it could not record/save", k,
               status);
    }
    t.kills++;
    check_folder(dir, memory, &t);
    rel_rmtree(dir);
    free(prefix);
    free(dir);
  }
  rel_rmtree(root);
  free(root);
  printf(
      "# kills: %ld, with record files: %ld; files parsed: %ld DATA, %ld SUMMARY, %ld MEMORY; "
      "corrupt: %ld\n",
      t.kills, t.with_files, t.data_files, t.summary_files, t.memory_files, t.corrupt);
  printf(
      "# iterations on disk: max %ld, mean %.1f; MEMORY one behind DATA: %ld; "
      "temporary files left by a cut save: %ld\n",
      t.max_iters, t.with_files ? (double)t.iters_sum / (double)t.with_files : 0.0,
      t.lagging_memory, t.tmp_left);
  assert_int_equal(t.corrupt, 0);
}

int main(int argc, char **argv) {
  if (argc > 1) g_kills = strtol(argv[1], NULL, 10);
  if (g_kills < 1) g_kills = 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sigkill_during_autosave),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
