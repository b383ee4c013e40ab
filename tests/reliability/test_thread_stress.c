/*
 * test_thread_stress.c - 8 threads x N iterations mixing shared and own
 * benchmarkers, registry look-ups, enable/disable flips and concurrent saves
 * from other threads: no deadlock (a watchdog ends the test), and every
 * iteration present in the final files.
 *
 * Usage: test_thread_stress [iterations per thread]
 *   default 5000 (1250 under a sanitizer, unless PB_TEST_SCALE is set: 5000 x
 *   scale); PB_REL_THREAD_ITERS overrides; `make stress` runs 100000.
 *
 * Per worker thread t and iteration i:
 *   - own benchmarker (pb_bench_create): gstep, step "a", step_id "b";
 *   - registry benchmarker "t<t>", looked up by name every iteration: gstep, step "x";
 *   - registry benchmarker "shared" (looked up every iteration; memory tracking
 *     on): step "s<t>", and a gstep every 16 iterations;
 *   - registry benchmarker "flip", enabled and disabled by a flipper thread:
 *     step "f" (counted when PB_OK).
 * A saver thread saves the registry and every own benchmarker in a loop.
 * At the end every successful call must be in the files, exactly.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel_util.h"

enum { THREADS = 8 };

static long g_iters = 5000;
static long g_save_every = 312; /* each worker saves "shared" 16 times */
static pb_registry *g_reg;
static pb_bench *g_own[THREADS];
static atomic_bool g_done;
static atomic_long g_saves, g_save_errors, g_flips;

typedef struct worker {
  int t;
  long ok_shared_steps, ok_shared_gsteps, ok_flip, ok_saves, errors;
  char err[200];
} worker;

static worker g_w[THREADS];

static void note_error(worker *w, const char *what, int rc) {
  if (!w->errors++)
    snprintf(w->err, sizeof w->err, "%s: %s (%s)", what, pb_err_name(rc), pb_last_error());
}

static void *worker_main(void *arg) {
  worker *w = arg;
  char name[16], sname[16];
  snprintf(name, sizeof name, "t%d", w->t);
  snprintf(sname, sizeof sname, "s%d", w->t);
  pb_bench *own = g_own[w->t];
  pb_topic id_b = pb_topic_intern(own, "b");
  pb_bench *mine = pb_registry_get(g_reg, name);
  for (long i = 0; i < g_iters; i++) {
    int rc;
    if ((rc = pb_gstep(own)) != PB_OK) note_error(w, "own gstep", rc);
    if ((rc = pb_step(own, "a")) != PB_OK) note_error(w, "own step", rc);
    if ((rc = pb_step_id(own, id_b)) != PB_OK) note_error(w, "own step_id", rc);

    pb_bench *r = pb_registry_get(g_reg, name);
    if (r != mine) note_error(w, "registry look-up gave another benchmarker", 0);
    if ((rc = pb_gstep(r)) != PB_OK) note_error(w, "registry gstep", rc);
    if ((rc = pb_step(r, "x")) != PB_OK) note_error(w, "registry step", rc);

    pb_bench *shared = pb_registry_get(g_reg, "shared");
    rc = pb_step(shared, sname);
    if (rc == PB_OK)
      w->ok_shared_steps++;
    else
      note_error(w, "shared step", rc);
    if (i % 16 == 15) {
      rc = pb_gstep(shared);
      if (rc == PB_OK)
        w->ok_shared_gsteps++;
      else
        note_error(w, "shared gstep", rc);
    }

    if (i % g_save_every == g_save_every - 1) { /* saves of one benchmarker from 8 threads */
      rc = pb_save(shared);
      if (rc == PB_OK)
        w->ok_saves++;
      else
        note_error(w, "shared save", rc);
    }

    rc = pb_step(pb_registry_get(g_reg, "flip"), "f");
    if (rc == PB_OK)
      w->ok_flip++;
    else if (rc != PB_EDISABLED)
      note_error(w, "flip step", rc);
  }
  if (pb_gstop(own) != PB_OK || pb_gstop(mine) != PB_OK) note_error(w, "final gstop", -1);
  return NULL;
}

static void *flipper_main(void *arg) {
  (void)arg;
  pb_bench *flip = pb_registry_get(g_reg, "flip");
  while (!atomic_load(&g_done)) {
    pb_disable(flip);
    for (int k = 0; k < 1000; k++) atomic_signal_fence(memory_order_seq_cst);
    pb_enable(flip);
    atomic_fetch_add(&g_flips, 1);
    for (int k = 0; k < 1000; k++) atomic_signal_fence(memory_order_seq_cst);
  }
  pb_enable(flip);
  return NULL;
}

static void *saver_main(void *arg) {
  (void)arg;
  while (!atomic_load(&g_done)) {
    int rc = pb_registry_save(g_reg);
    for (int t = 0; t < THREADS && rc == PB_OK; t++) rc = pb_save(g_own[t]);
    atomic_fetch_add(rc == PB_OK ? &g_saves : &g_save_errors, 1);
  }
  return NULL;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_thread_stress: watchdog: no progress, deadlock?\n";
  ssize_t n = write(2, msg, sizeof msg - 1);
  (void)n;
  _exit(3);
}

static void expect_calls(const char *prefix, const char *topic, long want) {
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  long got = (long)rel_count_calls(data, topic);
  if (got != want)
    fail_msg("%s: %ld calls of '%s' in the file, %ld made", prefix, got, topic, want);
  json_decref(data);
}

static void test_threads_mixed(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("threads");
  char *root = rel_strf("%s/reg", dir);
  REL_ASSERT_OK(pb_registry_create(root, &g_reg));
  pb_bench *shared = pb_registry_get(g_reg, "shared");
  pb_bench *flip = pb_registry_get(g_reg, "flip");
  assert_non_null(shared);
  assert_non_null(flip);
  REL_ASSERT_OK(pb_enable_memory_tracking(shared, false));
  REL_ASSERT_OK(pb_gstep(shared));
  REL_ASSERT_OK(pb_gstep(flip));
  for (int t = 0; t < THREADS; t++) {
    char *p = rel_strf("%s/own/t%d", dir, t);
    REL_ASSERT_OK(pb_bench_create(p, &g_own[t]));
    free(p);
  }
  pthread_t th[THREADS], flipper, saver;
  atomic_store(&g_done, false);
  assert_int_equal(pthread_create(&flipper, NULL, flipper_main, NULL), 0);
  assert_int_equal(pthread_create(&saver, NULL, saver_main, NULL), 0);
  for (int t = 0; t < THREADS; t++) {
    g_w[t] = (worker){.t = t};
    assert_int_equal(pthread_create(&th[t], NULL, worker_main, &g_w[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  atomic_store(&g_done, true);
  pthread_join(flipper, NULL);
  pthread_join(saver, NULL);

  long shared_gsteps = 0, flips_ok = 0, worker_saves = 0;
  for (int t = 0; t < THREADS; t++) {
    if (g_w[t].errors) fail_msg("thread %d: %ld errors, first: %s", t, g_w[t].errors, g_w[t].err);
    assert_int_equal(g_w[t].ok_shared_steps, g_iters);
    shared_gsteps += g_w[t].ok_shared_gsteps;
    flips_ok += g_w[t].ok_flip;
    worker_saves += g_w[t].ok_saves;
  }
  REL_ASSERT_OK(pb_gstop(shared));
  REL_ASSERT_OK(pb_registry_save(g_reg));
  static const char *const own_topics[] = {"a", "b", "gstop", NULL};
  static const char *const reg_topics[] = {"x", "gstop", NULL};
  for (int t = 0; t < THREADS; t++) {
    REL_ASSERT_OK(pb_save(g_own[t]));
    char *p = rel_strf("%s/own/t%d", dir, t);
    json_t *data = rel_must_load(p, PB_SUFFIX_DATA);
    char why[256] = "";
    long k = rel_check_data_prefix(data, own_topics, NULL, false, why, sizeof why);
    if (k != g_iters) fail_msg("%s: %ld iterations (%s), expected %ld", p, k, why, g_iters);
    json_decref(data);
    free(p);
    char name[16];
    snprintf(name, sizeof name, "t%d", t);
    pb_bench *r = pb_registry_get(g_reg, name);
    data = rel_must_load(pb_bench_path(r), PB_SUFFIX_DATA);
    k = rel_check_data_prefix(data, reg_topics, NULL, false, why, sizeof why);
    if (k != g_iters) fail_msg("%s: %ld iterations (%s), expected %ld", name, k, why, g_iters);
    json_decref(data);
  }
  json_t *sd = rel_must_load(pb_bench_path(shared), PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(sd), 1 + shared_gsteps);
  for (int t = 0; t < THREADS; t++) {
    char sname[16];
    snprintf(sname, sizeof sname, "s%d", t);
    long got = (long)rel_count_calls(sd, sname);
    if (got != g_iters)
      fail_msg("shared: %ld calls of '%s' in the file, %ld made", got, sname, g_iters);
  }
  json_decref(sd);
  json_t *sm = rel_must_load(pb_bench_path(shared), PB_SUFFIX_MEMORY);
  assert_int_equal(json_array_size(sm), 1 + shared_gsteps);
  json_decref(sm);
  expect_calls(pb_bench_path(flip), "f", flips_ok);
  printf(
      "# %d threads x %ld iterations: %ld shared gsteps, %ld flips, %ld flip steps recorded, "
      "%ld save rounds of the saver thread (%ld failed), %ld saves of \"shared\" by the workers; "
      "every call found in the files\n",
      THREADS, g_iters, shared_gsteps, atomic_load(&g_flips), flips_ok, atomic_load(&g_saves),
      atomic_load(&g_save_errors), worker_saves);
  assert_int_equal(atomic_load(&g_save_errors), 0);
  for (int t = 0; t < THREADS; t++) REL_ASSERT_OK(pb_bench_destroy(g_own[t]));
  pb_registry_destroy(g_reg);
  rel_rmtree(dir);
  free(dir);
  free(root);
}

int main(int argc, char **argv) {
  g_iters = rel_count("THREAD_ITERS", 5000, true);
  const char *scale = getenv("PB_TEST_SCALE"); /* as tests/record: `make test` sets 1 under TSan */
  if (scale && *scale && !getenv("PB_REL_THREAD_ITERS") && atof(scale) > 0) {
    g_iters = (long)(5000 * atof(scale));
  }
  if (argc > 1) g_iters = strtol(argv[1], NULL, 10);
  if (g_iters < 16) g_iters = 16;
  g_save_every = g_iters / 16;
  signal(SIGALRM, on_alarm);
  alarm(g_iters > 20000 ? 3000 : 500); /* below ctest's TIMEOUT would be too tight under TSan */
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_threads_mixed)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
