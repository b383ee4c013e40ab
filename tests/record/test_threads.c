/*
 * test_threads.c - many threads on one benchmarker and on separate ones,
 * with saves running at the same time; registry lookups from many threads;
 * enable/disable flipped while threads record. Every recorded call must be
 * in the saved files. Labelled "thread" (run under TSan).
 */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NTHREADS 8

static char *g_dir;

static int group_setup(void **state) {
  (void)state;
  g_dir = th_mkdtemp("threads");
  return g_dir != NULL ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  th_rmtree(g_dir);
  free(g_dir);
  return 0;
}

/* Sums, over all iterations of a DATA file, the calls of every topic. */
static size_t count_topic(json_t *data, const char *topic) {
  size_t total = 0;
  for (size_t i = 0; i < json_array_size(data); i++)
    total += th_calls(json_array_get(data, i), topic);
  return total;
}

/* ---- a background saver ------------------------------------------------ */

typedef struct saver_arg {
  pb_bench **benches;
  size_t n;
  pb_registry *registry; /* saved instead when non-NULL */
  atomic_bool stop;
  atomic_int errors;
  atomic_int saves;
} saver_arg;

static void *saver_thread(void *p) {
  saver_arg *s = p;
  while (!atomic_load(&s->stop)) {
    if (s->registry != NULL) {
      if (pb_registry_save(s->registry) != PB_OK) atomic_fetch_add(&s->errors, 1);
    } else {
      for (size_t i = 0; i < s->n; i++)
        if (pb_save(s->benches[i]) != PB_OK) atomic_fetch_add(&s->errors, 1);
    }
    atomic_fetch_add(&s->saves, 1);
    th_sleep_ms(5);
  }
  return NULL;
}

/* ---- shared benchmarker ------------------------------------------------ */

struct flip_arg;

typedef struct worker_arg {
  pb_bench *b;
  struct flip_arg *flip;
  int index;
  size_t iterations;
  int errors;
  size_t ok_steps;
  size_t ok_gsteps;
} worker_arg;

static void *shared_worker(void *p) {
  worker_arg *w = p;
  char topic[16];
  snprintf(topic, sizeof topic, "t%d", w->index);
  pb_topic id = pb_topic_intern(w->b, "common");
  if (id == PB_TOPIC_INVALID) w->errors++;
  for (size_t i = 0; i < w->iterations; i++) {
    if (pb_gstep(w->b) != PB_OK) w->errors++;
    if (pb_step(w->b, topic) != PB_OK) w->errors++;
    if (pb_step_id(w->b, id) != PB_OK) w->errors++;
  }
  return NULL;
}

/* 8 threads x N iterations on one benchmarker: the threads interleave, so
 * the total calls per topic are counted rather than the iteration layout. */
static void test_shared_benchmarker(void **state) {
  (void)state;
  size_t n = th_scaled(10000, 200);
  char *prefix = th_strf("%s/shared/rec", g_dir);
  pb_bench *b = NULL;
  TH_ASSERT_OK(pb_bench_create(prefix, &b));
  saver_arg sv;
  memset(&sv, 0, sizeof sv);
  sv.benches = &b;
  sv.n = 1;
  pthread_t st, th[NTHREADS];
  worker_arg w[NTHREADS];
  assert_int_equal(pthread_create(&st, NULL, saver_thread, &sv), 0);
  for (int i = 0; i < NTHREADS; i++) {
    w[i] = (worker_arg){.b = b, .index = i, .iterations = n};
    assert_int_equal(pthread_create(&th[i], NULL, shared_worker, &w[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  atomic_store(&sv.stop, true);
  pthread_join(st, NULL);
  for (int i = 0; i < NTHREADS; i++) assert_int_equal(w[i].errors, 0);
  assert_int_equal(atomic_load(&sv.errors), 0);

  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  pb_bench_stats stats;
  TH_ASSERT_OK(pb_bench_get_stats(b, &stats));
  assert_int_equal(stats.iterations, NTHREADS * n);
  assert_int_equal(stats.dropped, 0);
  /* user steps + one gstop per iteration */
  assert_int_equal(stats.steps, 2 * NTHREADS * n + NTHREADS * n);

  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), NTHREADS * n);
  for (int i = 0; i < NTHREADS; i++) {
    char topic[16];
    snprintf(topic, sizeof topic, "t%d", i);
    assert_int_equal(count_topic(data, topic), n);
  }
  assert_int_equal(count_topic(data, "common"), NTHREADS * n);
  assert_int_equal(count_topic(data, "gstop"), NTHREADS * n);
  assert_int_equal(count_topic(data, "GLOBAL"), NTHREADS * n);
  for (size_t i = 0; i < json_array_size(data); i++) {
    json_t *info = json_object_get(json_array_get(data, i), "info");
    assert_int_equal(json_integer_value(json_object_get(info, "STEP_NUMBER")), i);
    assert_true(json_number_value(json_object_get(info, "STOP_TIME")) > 0);
  }
  json_decref(data);
  fprintf(stderr, "shared: %zu iterations, %d background saves\n", NTHREADS * n,
          atomic_load(&sv.saves));
  pb_bench_destroy(b);
  free(prefix);
}

/* ---- separate benchmarkers --------------------------------------------- */

static void *own_worker(void *p) {
  worker_arg *w = p;
  for (size_t i = 0; i < w->iterations; i++) {
    if (pb_gstep(w->b) != PB_OK) w->errors++;
    if (pb_step(w->b, "a") != PB_OK) w->errors++;
    if (pb_step(w->b, "b") != PB_OK) w->errors++;
  }
  if (pb_gstop(w->b) != PB_OK) w->errors++;
  return NULL;
}

typedef struct check_arg {
  pb_bench *b;
  size_t n;
  char error[256];
} check_arg;

/* Checks one separate benchmarker's DATA file: n iterations of a, b, gstop,
 * GLOBAL with STEP_NUMBER 0..n-1. Runs in a thread: no cmocka assertions. */
static void *check_separate_file(void *p) {
  check_arg *c = p;
  c->error[0] = '\0';
  json_t *data = th_load_record(pb_bench_path(c->b), PB_SUFFIX_DATA);
  if (data == NULL) {
    snprintf(c->error, sizeof c->error, "DATA file does not parse");
    return NULL;
  }
  static const char *const keys[] = {"a", "b", "gstop", "GLOBAL"};
  if (json_array_size(data) != c->n)
    snprintf(c->error, sizeof c->error, "%zu iterations, expected %zu", json_array_size(data),
             c->n);
  for (size_t i = 0; i < json_array_size(data) && c->error[0] == '\0'; i++) {
    json_t *it = json_array_get(data, i);
    json_t *calls = json_object_get(it, "individual_calls");
    if (json_object_size(calls) != 4)
      snprintf(c->error, sizeof c->error, "iteration %zu has %zu topics", i,
               json_object_size(calls));
    for (size_t k = 0; k < 4 && c->error[0] == '\0'; k++) {
      const char *key = th_key_at(calls, k);
      if (key == NULL || strcmp(key, keys[k]) != 0 || th_calls(it, keys[k]) != 1)
        snprintf(c->error, sizeof c->error, "iteration %zu: topic %zu is '%s'", i, k,
                 key != NULL ? key : "(none)");
    }
    json_int_t step =
        json_integer_value(json_object_get(json_object_get(it, "info"), "STEP_NUMBER"));
    if (c->error[0] == '\0' && step != (json_int_t)i)
      snprintf(c->error, sizeof c->error, "iteration %zu has STEP_NUMBER %lld", i, (long long)step);
  }
  json_decref(data);
  return NULL;
}

static void test_separate_benchmarkers(void **state) {
  (void)state;
  size_t n = th_scaled(10000, 200);
  pb_bench *b[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    char *p = th_strf("%s/separate/rec%d", g_dir, i);
    TH_ASSERT_OK(pb_bench_create(p, &b[i]));
    free(p);
  }
  saver_arg sv;
  memset(&sv, 0, sizeof sv);
  sv.benches = b;
  sv.n = NTHREADS;
  pthread_t st, th[NTHREADS];
  worker_arg w[NTHREADS];
  assert_int_equal(pthread_create(&st, NULL, saver_thread, &sv), 0);
  for (int i = 0; i < NTHREADS; i++) {
    w[i] = (worker_arg){.b = b[i], .index = i, .iterations = n};
    assert_int_equal(pthread_create(&th[i], NULL, own_worker, &w[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  atomic_store(&sv.stop, true);
  pthread_join(st, NULL);
  assert_int_equal(atomic_load(&sv.errors), 0);

  for (int k = 0; k < NTHREADS; k++) {
    assert_int_equal(w[k].errors, 0);
    TH_ASSERT_OK(pb_save(b[k]));
  }
  /* parse and check the 8 files in parallel (jansson is the slow part) */
  check_arg ca[NTHREADS];
  for (int k = 0; k < NTHREADS; k++) {
    ca[k] = (check_arg){.b = b[k], .n = n};
    assert_int_equal(pthread_create(&th[k], NULL, check_separate_file, &ca[k]), 0);
  }
  for (int k = 0; k < NTHREADS; k++) pthread_join(th[k], NULL);
  for (int k = 0; k < NTHREADS; k++) {
    if (ca[k].error[0] != '\0') fail_msg("benchmarker %d: %s", k, ca[k].error);
    pb_bench_destroy(b[k]);
  }
}

/* ---- registry lookups from many threads -------------------------------- */

typedef struct reg_arg {
  pb_registry *r;
  int index;
  size_t iterations;
  int errors;
  pb_bench *mine;
} reg_arg;

static void *registry_worker(void *p) {
  reg_arg *a = p;
  char name[32], topic[16];
  snprintf(name, sizeof name, "bench-%d", a->index % 4);
  snprintf(topic, sizeof topic, "t%d", a->index);
  for (size_t i = 0; i < a->iterations; i++) {
    pb_bench *b = pb_registry_get(a->r, name);
    if (b == NULL) {
      a->errors++;
      continue;
    }
    if (a->mine == NULL) a->mine = b;
    if (b != a->mine) a->errors++;
    if (pb_gstep(b) != PB_OK) a->errors++;
    if (pb_step(b, topic) != PB_OK) a->errors++;
    /* and a lookup of the process-wide registry */
    if (pb_get("threads-default") != pb_get("threads-default")) a->errors++;
  }
  return NULL;
}

static void test_registry_lookups(void **state) {
  (void)state;
  size_t n = th_scaled(2000, 100);
  char *root = th_strf("%s/registry", g_dir);
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create(root, &r));
  saver_arg sv;
  memset(&sv, 0, sizeof sv);
  sv.registry = r;
  pthread_t st, th[NTHREADS];
  reg_arg a[NTHREADS];
  assert_int_equal(pthread_create(&st, NULL, saver_thread, &sv), 0);
  for (int i = 0; i < NTHREADS; i++) {
    a[i] = (reg_arg){.r = r, .index = i, .iterations = n};
    assert_int_equal(pthread_create(&th[i], NULL, registry_worker, &a[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  atomic_store(&sv.stop, true);
  pthread_join(st, NULL);
  assert_int_equal(atomic_load(&sv.errors), 0);
  assert_int_equal(pb_registry_size(r), 4);
  for (int i = 0; i < NTHREADS; i++) {
    assert_int_equal(a[i].errors, 0);
    assert_ptr_equal(a[i].mine, a[(i + 4) % NTHREADS].mine);
  }
  for (int k = 0; k < 4; k++) TH_ASSERT_OK(pb_gstop(a[k].mine));
  TH_ASSERT_OK(pb_registry_save(r));
  for (int k = 0; k < 4; k++) {
    json_t *data = th_must_load(a[k].mine, PB_SUFFIX_DATA);
    assert_int_equal(json_array_size(data), 2 * n);
    char t1[16], t2[16];
    snprintf(t1, sizeof t1, "t%d", k);
    snprintf(t2, sizeof t2, "t%d", k + 4);
    assert_int_equal(count_topic(data, t1), n);
    assert_int_equal(count_topic(data, t2), n);
    json_decref(data);
  }
  pb_registry_destroy(r);
  free(root);
}

/* ---- enable/disable flips ---------------------------------------------- */

/* The flipper alternates disabled and enabled phases, each lasting FLIP_CALLS
 * recording attempts of the workers (paced by their progress, not by sleeps,
 * so that both phases are seen whatever the scheduling). */
#define MIN_FLIPS 20
#define FLIP_CALLS 200

typedef struct flip_arg {
  pb_bench *b;
  atomic_bool stop;
  atomic_size_t flips;
  atomic_size_t attempts;
} flip_arg;

static void wait_attempts(flip_arg *f, size_t target) {
  while (atomic_load(&f->attempts) < target && !atomic_load(&f->stop)) sched_yield();
}

static void *flipper(void *p) {
  flip_arg *f = p;
  while (!atomic_load(&f->stop)) {
    pb_disable(f->b);
    (void)pb_is_enabled(f->b);
    wait_attempts(f, atomic_load(&f->attempts) + FLIP_CALLS);
    pb_enable(f->b);
    atomic_fetch_add(&f->flips, 1);
    wait_attempts(f, atomic_load(&f->attempts) + FLIP_CALLS);
  }
  return NULL;
}

static void *flip_worker(void *p) {
  worker_arg *w = p;
  char topic[16];
  snprintf(topic, sizeof topic, "t%d", w->index);
  struct timespec nap = {0, 50000};
  for (size_t i = 0; i < w->iterations || atomic_load(&w->flip->flips) < MIN_FLIPS; i++) {
    if (i >= w->iterations) nanosleep(&nap, NULL); /* let the flipper run */
    atomic_fetch_add(&w->flip->attempts, 1);
    int rc = pb_gstep(w->b);
    if (rc == PB_OK)
      w->ok_gsteps++;
    else if (rc != PB_EDISABLED)
      w->errors++;
    rc = pb_step(w->b, topic);
    if (rc == PB_OK)
      w->ok_steps++;
    else if (rc != PB_EDISABLED && rc != PB_ENOITER)
      w->errors++;
  }
  return NULL;
}

/* Every call that returned PB_OK is in the file; no other call is. */
static void test_enable_disable_flips(void **state) {
  (void)state;
  enum { NW = 4 };
  size_t n = th_scaled(5000, 500);
  char *prefix = th_strf("%s/flips/rec", g_dir);
  pb_bench *b = NULL;
  TH_ASSERT_OK(pb_bench_create(prefix, &b));
  flip_arg fa;
  memset(&fa, 0, sizeof fa);
  fa.b = b;
  pthread_t ft, th[NW];
  worker_arg w[NW];
  assert_int_equal(pthread_create(&ft, NULL, flipper, &fa), 0);
  for (int i = 0; i < NW; i++) {
    w[i] = (worker_arg){.b = b, .flip = &fa, .index = i, .iterations = n};
    assert_int_equal(pthread_create(&th[i], NULL, flip_worker, &w[i]), 0);
  }
  for (int i = 0; i < NW; i++) pthread_join(th[i], NULL);
  atomic_store(&fa.stop, true);
  pthread_join(ft, NULL);
  pb_enable(b);
  assert_true(pb_is_enabled(b));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));

  size_t gsteps = 0;
  for (int i = 0; i < NW; i++) {
    assert_int_equal(w[i].errors, 0);
    gsteps += w[i].ok_gsteps;
  }
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.iterations, gsteps);
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), gsteps);
  for (int i = 0; i < NW; i++) {
    char topic[16];
    snprintf(topic, sizeof topic, "t%d", i);
    assert_int_equal(count_topic(data, topic), w[i].ok_steps);
  }
  assert_true(gsteps > 0);
  fprintf(stderr, "flips: %zu flips, %zu gsteps recorded\n", atomic_load(&fa.flips), gsteps);
  json_decref(data);
  pb_bench_destroy(b);
  free(prefix);
}

static uint64_t g_t0;
static int timed_setup(void **state) {
  (void)state;
  g_t0 = pb_now_ns();
  return 0;
}
static int timed_teardown(void **state) {
  (void)state;
  fprintf(stderr, "  (%.2f s)\n", (double)(pb_now_ns() - g_t0) / 1e9);
  return 0;
}
#define TIMED(f) cmocka_unit_test_setup_teardown(f, timed_setup, timed_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      TIMED(test_shared_benchmarker),
      TIMED(test_separate_benchmarkers),
      TIMED(test_registry_lookups),
      TIMED(test_enable_disable_flips),
  };
  return cmocka_run_group_tests_name("threads", tests, group_setup, group_teardown);
}
