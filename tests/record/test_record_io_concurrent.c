/*
 * test_record_io_concurrent.c - saves of one benchmarker from 4 threads while
 * a 5th records and a 6th re-reads the files: every read parses (never a
 * partial file), the saved iteration count never goes back, a save that
 * returned holds every record made before it, and the final files hold every
 * iteration.
 */
#include "helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSAVERS 4

typedef struct shared {
  pb_bench *b;
  size_t iterations;
  atomic_bool done;
  atomic_int record_errors;
  atomic_int save_errors;
  atomic_int saves;
  atomic_int guarantee_failures;
  atomic_int parse_failures;
  atomic_int regressions;
  atomic_int reads;
  char *paths[3];
} shared;

static void *recorder(void *p) {
  shared *s = p;
  for (size_t i = 0; i < s->iterations; i++) {
    if (pb_gstep(s->b) != PB_OK) atomic_fetch_add(&s->record_errors, 1);
    if (pb_step(s->b, "load") != PB_OK) atomic_fetch_add(&s->record_errors, 1);
    if (pb_step_ex(s->b, "compute", "{\"i\":1}", NULL) != PB_OK)
      atomic_fetch_add(&s->record_errors, 1);
    if (i % 25 == 24) th_sleep_ms(1); /* let the saves overlap the recording */
  }
  if (pb_gstop(s->b) != PB_OK) atomic_fetch_add(&s->record_errors, 1);
  atomic_store(&s->done, true);
  return NULL;
}

static void *saver(void *p) {
  shared *s = p;
  unsigned n = 0;
  while (!atomic_load(&s->done)) {
    pb_bench_stats before;
    pb_bench_get_stats(s->b, &before);
    int rc = pb_save(s->b);
    if (rc != PB_OK) {
      fprintf(stderr, "pb_save: %s (%s)\n", pb_err_name(rc), pb_last_error());
      atomic_fetch_add(&s->save_errors, 1);
      continue;
    }
    atomic_fetch_add(&s->saves, 1);
    if (n++ % 4 == 0) {
      /* the files hold at least every iteration opened before the call */
      json_t *data = th_load_json(s->paths[0]);
      if (data == NULL) {
        atomic_fetch_add(&s->parse_failures, 1);
      } else {
        if (json_array_size(data) < before.iterations) {
          fprintf(stderr, "after pb_save: %zu iterations in the file, %llu opened before\n",
                  json_array_size(data), (unsigned long long)before.iterations);
          atomic_fetch_add(&s->guarantee_failures, 1);
        }
        json_decref(data);
      }
    }
  }
  return NULL;
}

static void *reader(void *p) {
  shared *s = p;
  size_t last = 0;
  while (!atomic_load(&s->done)) {
    for (int k = 0; k < 3; k++) {
      if (!th_exists(s->paths[k])) continue;
      json_t *j = th_load_json(s->paths[k]);
      if (j == NULL) {
        atomic_fetch_add(&s->parse_failures, 1);
        continue;
      }
      atomic_fetch_add(&s->reads, 1);
      if (k == 0) {
        size_t n = json_array_size(j);
        if (!json_is_array(j) || n < last) {
          fprintf(stderr, "data file went back from %zu to %zu iterations\n", last, n);
          atomic_fetch_add(&s->regressions, 1);
        }
        if (n > last) last = n;
      }
      json_decref(j);
    }
  }
  return NULL;
}

static void test_concurrent_saves(void **state) {
  (void)state;
  char *dir = th_mkdtemp("iocc");
  assert_non_null(dir);
  shared s;
  memset(&s, 0, sizeof s);
  atomic_init(&s.done, false);
  char *prefix = th_strf("%s/conc/rec", dir);
  TH_ASSERT_OK(pb_bench_create(prefix, &s.b));
  s.paths[0] = th_strf("%s%s", prefix, PB_SUFFIX_DATA);
  s.paths[1] = th_strf("%s%s", prefix, PB_SUFFIX_SUMMARY);
  s.paths[2] = th_strf("%s%s", prefix, PB_SUFFIX_MEMORY);
  s.iterations = th_scaled(5000, 300);

  pthread_t rec, rd, sv[NSAVERS];
  assert_int_equal(pthread_create(&rd, NULL, reader, &s), 0);
  for (int i = 0; i < NSAVERS; i++) assert_int_equal(pthread_create(&sv[i], NULL, saver, &s), 0);
  assert_int_equal(pthread_create(&rec, NULL, recorder, &s), 0);
  pthread_join(rec, NULL);
  for (int i = 0; i < NSAVERS; i++) pthread_join(sv[i], NULL);
  pthread_join(rd, NULL);

  assert_int_equal(atomic_load(&s.record_errors), 0);
  assert_int_equal(atomic_load(&s.save_errors), 0);
  assert_int_equal(atomic_load(&s.parse_failures), 0);
  assert_int_equal(atomic_load(&s.regressions), 0);
  assert_int_equal(atomic_load(&s.guarantee_failures), 0);
  assert_true(atomic_load(&s.saves) > 0);
  fprintf(stderr, "concurrent saves: %d saves, %d reads, %zu iterations\n", atomic_load(&s.saves),
          atomic_load(&s.reads), s.iterations);

  TH_ASSERT_OK(pb_save(s.b));
  json_t *data = th_must_load(s.b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), s.iterations);
  for (size_t i = 0; i < s.iterations; i++) {
    json_t *it = json_array_get(data, i);
    assert_int_equal(th_calls(it, "load"), 1);
    assert_int_equal(th_calls(it, "compute"), 1);
    assert_int_equal(th_calls(it, "gstop"), 1);
    assert_int_equal(th_calls(it, "GLOBAL"), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(it, "info"), "STEP_NUMBER")), i);
  }
  json_decref(data);
  json_t *summary = th_must_load(s.b, PB_SUFFIX_SUMMARY);
  assert_int_equal(json_object_size(summary), 4);
  json_decref(summary);
  size_t bad = 0;
  assert_int_equal(th_count_files(dir, &bad), 3);
  assert_int_equal(bad, 0);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(s.b, &st));
  assert_int_equal(st.iterations, s.iterations);
  assert_int_equal(st.save_errors, 0);

  pb_bench_destroy(s.b);
  for (int k = 0; k < 3; k++) free(s.paths[k]);
  free(prefix);
  th_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_saves),
  };
  return cmocka_run_group_tests_name("record_io_concurrent", tests, NULL, NULL);
}
