/*
 * test_iter_store.c - the compact iteration store (issue 15): an iteration
 * is 20 bytes, and the gstop record of an iteration closed on the fast path
 * is derived at save time (the iteration's span less the gaps of the records
 * before it) instead of stored. The files must hold exactly the times the
 * calls were made at, so this executable scripts the clock: it defines
 * clock_gettime itself (the library's calls bind to it), and every test sets
 * the time before each call. Also checked: the cases where the derivation
 * would be wrong (pb_start on an open iteration, an unknown topic id, a clock
 * read earlier than the one before) store the record, the bytes held, and
 * topic ids past the record's 16 bits.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "internal.h"

/* ---- the scripted clock ---- */

static uint64_t now_ns = 1000000000ull; /* what every clock read returns, monotonic ns */
static const uint64_t WALL_OFFSET = 1700000000000000000ull;

int clock_gettime(clockid_t id, struct timespec *ts) {
  uint64_t t = now_ns;
  if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) t += WALL_OFFSET;
  ts->tv_sec = (time_t)(t / 1000000000ull);
  ts->tv_nsec = (long)(t % 1000000000ull);
  return 0;
}

/* Sets the clock to base + ns (all tests count from a base of 1 s). */
static void at(uint64_t ns) { now_ns = 1000000000ull + ns; }

/* ---- fixture ---- */

typedef struct fixture {
  char *dir;
  char *prefix;
  pb_bench *b;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  at(0);
  f->dir = th_mkdtemp("iterstore");
  if (!f->dir) return -1;
  f->prefix = th_strf("%s/bench", f->dir);
  if (pb_bench_create(f->prefix, &f->b) != PB_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pb_bench_destroy(f->b);
  th_rmtree(f->dir);
  free(f->prefix);
  free(f->dir);
  free(f);
  return 0;
}

/* Saves and parses the DATA file. */
static json_t *data_of(pb_bench *b) {
  TH_ASSERT_OK(pb_save(b));
  return th_must_load(b, PB_SUFFIX_DATA);
}

/* The j-th call of topic in iteration `it`. */
static json_t *call(json_t *it, const char *topic, size_t j) {
  json_t *c = json_array_get(json_object_get(json_object_get(it, "individual_calls"), topic), j);
  if (!c) fail_msg("no call %zu of '%s'", j, topic);
  return c;
}

/* Fails unless the j-th call of topic took ns nanoseconds and has crono counter crono. */
static void assert_call(json_t *it, const char *topic, size_t j, uint64_t ns, int64_t crono) {
  json_t *c = call(it, topic, j);
  double t = json_number_value(json_object_get(c, "time"));
  if ((uint64_t)llround(t * 1e9) != ns) {
    fail_msg("'%s'[%zu]: %.9f s, expected %llu ns", topic, j, t, (unsigned long long)ns);
  }
  assert_int_equal(json_integer_value(json_object_get(c, "crono_counter")), crono);
}

/* ---- derived gstop records ---- */

/* Iterations closed on the fast path: the derived gstop holds the true gap, at its place. */
static void test_derived_gstop_times(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  at(1000);
  TH_ASSERT_OK(pb_gstep(b));
  at(1100);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(1350);
  TH_ASSERT_OK(pb_step(b, "b"));
  at(1600);
  TH_ASSERT_OK(pb_gstep(b)); /* closes the first, opens the second */
  at(2100);
  TH_ASSERT_OK(pb_gstop(b)); /* nothing between gstep and gstop */
  at(3000);
  TH_ASSERT_OK(pb_gstep(b));
  at(3010);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(3020);
  TH_ASSERT_OK(pb_gstop(b));
  at(3100);
  TH_ASSERT_OK(pb_step(b, "after")); /* a step after gstop */
  at(3400);
  TH_ASSERT_OK(pb_step(b, "after"));
  json_t *root = data_of(b);
  assert_int_equal(json_array_size(root), 3);
  json_t *it = json_array_get(root, 0);
  assert_call(it, "a", 0, 100, 0);
  assert_call(it, "b", 0, 250, 1);
  assert_call(it, "gstop", 0, 250, 2);
  assert_call(it, "GLOBAL", 0, 600, 3);
  it = json_array_get(root, 1);
  assert_call(it, "gstop", 0, 500, 0);
  assert_call(it, "GLOBAL", 0, 500, 1);
  it = json_array_get(root, 2);
  assert_call(it, "a", 0, 10, 0);
  assert_call(it, "gstop", 0, 10, 1);
  assert_call(it, "GLOBAL", 0, 20, 2);
  assert_call(it, "after", 0, 80, 2); /* records after the close follow the gstop */
  assert_call(it, "after", 1, 300, 3);
  json_decref(root);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.steps, 3 + 3 + 2); /* user steps, one gstop per iteration, the afters */
}

/* The summary's gstop row is made of the derived times too. */
static void test_derived_gstop_summary(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  const uint64_t gaps[4] = {40, 70, 10, 1000};
  uint64_t t = 0;
  for (int i = 0; i < 4; i++) {
    at(t);
    TH_ASSERT_OK(pb_gstep(b));
    at(t + 5);
    TH_ASSERT_OK(pb_step(b, "x"));
    at(t + 5 + gaps[i]);
    TH_ASSERT_OK(pb_gstop(b));
    t += 10000;
  }
  TH_ASSERT_OK(pb_save(b));
  json_t *sum = th_must_load(b, PB_SUFFIX_SUMMARY);
  json_t *g = json_object_get(sum, "gstop");
  if (!g) fail_msg("no gstop in the summary");
  double mean = json_number_value(json_object_get(g, "mean"));
  TH_ASSERT_NEAR(mean, (40 + 70 + 10 + 1000) / 4.0 * 1e-9, 1e-15);
  TH_ASSERT_NEAR(json_number_value(json_object_get(g, "min")), 10e-9, 1e-15);
  TH_ASSERT_NEAR(json_number_value(json_object_get(g, "max")), 1000e-9, 1e-15);
  json_decref(sum);
}

/* Where the span less the earlier gaps is not the gstop's gap, the record is stored. */
static void test_gstop_stored_when_not_derivable(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  /* pb_start on the open iteration restarts its clocks: 300 ns are in no record */
  at(1000);
  TH_ASSERT_OK(pb_gstep(b));
  at(1100);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(1400);
  TH_ASSERT_OK(pb_start(b));
  at(1500);
  TH_ASSERT_OK(pb_step(b, "b"));
  at(1700);
  TH_ASSERT_OK(pb_gstop(b));
  /* an unknown topic id: its 200 ns are in no record */
  at(5000);
  TH_ASSERT_OK(pb_gstep(b));
  at(5100);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(5300);
  assert_int_equal(pb_step_id(b, 987654u), PB_EINVAL);
  at(5450);
  TH_ASSERT_OK(pb_gstop(b));
  /* a clock read earlier than the one before: the step's gap is recorded as 0 */
  at(9000);
  TH_ASSERT_OK(pb_gstep(b));
  at(8900);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(9000);
  TH_ASSERT_OK(pb_gstop(b));
  json_t *root = data_of(b);
  assert_int_equal(json_array_size(root), 3);
  json_t *it = json_array_get(root, 0);
  assert_call(it, "a", 0, 100, 0);
  assert_call(it, "b", 0, 100, 1);
  assert_call(it, "gstop", 0, 200, 2);
  assert_call(it, "GLOBAL", 0, 300, 3); /* from pb_start */
  it = json_array_get(root, 1);
  assert_call(it, "gstop", 0, 150, 1);
  assert_call(it, "GLOBAL", 0, 450, 2);
  it = json_array_get(root, 2);
  assert_call(it, "a", 0, 0, 0);
  assert_call(it, "gstop", 0, 100, 1);
  assert_call(it, "GLOBAL", 0, 0, 2);
  json_decref(root);
}

/* ---- the store's size ---- */

/* A record is 4 bytes, an iteration 20; 5 steps an iteration hold under 9 bytes a step in
 * all. */
static void test_bytes_held(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  static const char *const topics[5] = {"load", "forward", "backward", "update", "log"};
  assert_int_equal(sizeof(pb__iter), 20);
  assert_int_equal(sizeof(pb__rec), 4);
  const size_t n = 20000;
  uint64_t t = 0;
  for (size_t i = 0; i < n; i++) {
    at(t += 10);
    pb_gstep(b);
    for (int k = 0; k < 5; k++) {
      at(t += 10);
      pb_step(b, topics[k]);
    }
  }
  at(t += 10);
  pb_gstop(b);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.iterations, n);
  assert_int_equal(st.steps, 6 * n); /* 5 user steps and a gstop each */
  double per_step = (double)st.bytes_held / (double)(5 * n);
  /* 4 bytes a step, 20 an iteration: 8 a step, and the topics and the store's slack */
  TH_ASSERT_BETWEEN(per_step, 8.0, 9.0);
}

/* ---- gaps of 2^19 ns and more: a HI word before the record ---- */

/* Times about the limits of a record's word alone (2^19 ns) and of a HI word (about 549.76 s,
 * past which the gap is in a side table) are exact; crono counters count records, not words;
 * the derived gstop goes where the close was, after records with HI words and before one. */
static void test_hi_words(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  const uint64_t lim = 1ull << 19, hl = 0xfffffull << 19;
  const uint64_t g1[] = {lim - 1, lim, lim + 1, 10000000, 3};
  const uint64_t g2[] = {hl - 1, hl, hl + 1, 700000000000ull, 7};
  enum { N = 5 };
  uint64_t t = 0, sum = 0;
  at(t);
  TH_ASSERT_OK(pb_gstep(b));
  for (int k = 0; k < N; k++) {
    at(t += g1[k]);
    sum += g1[k];
    TH_ASSERT_OK(pb_step(b, "s"));
  }
  at(t += 2 * lim); /* the derived gstop: 2^20 ns */
  TH_ASSERT_OK(pb_gstop(b));
  at(t += 3 * lim + 5); /* a step after the close, with a HI word */
  TH_ASSERT_OK(pb_step(b, "after"));
  at(t += 11);
  TH_ASSERT_OK(pb_step(b, "after"));
  TH_ASSERT_OK(pb_gstep(b)); /* GLOBAL past 2^32 ns: its gstop is stored */
  for (int k = 0; k < N; k++) {
    at(t += g2[k]);
    TH_ASSERT_OK(pb_step(b, "s"));
  }
  at(t += lim + 1);
  TH_ASSERT_OK(pb_gstop(b));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.steps, (N + 1 + 2) + (N + 1));
  json_t *root = data_of(b);
  json_t *it = json_array_get(root, 0);
  for (int k = 0; k < N; k++) assert_call(it, "s", (size_t)k, g1[k], k);
  assert_call(it, "gstop", 0, 2 * lim, N);
  assert_call(it, "GLOBAL", 0, sum + 2 * lim, N + 1);
  assert_call(it, "after", 0, 3 * lim + 5, N + 1);
  assert_call(it, "after", 1, 11, N + 2);
  it = json_array_get(root, 1);
  for (int k = 0; k < N; k++) assert_call(it, "s", (size_t)k, g2[k], k);
  assert_call(it, "gstop", 0, lim + 1, N);
  json_decref(root);
}

/* ---- topic ids past 16 bits ---- */

/* Topic ids of 0x7fff and more live in a side table: each step keeps its own topic and time,
 * extras included, and the stats count the side table's bytes. */
static void test_wide_topic_ids(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  enum { N = 33000 }; /* ids run past 0x7fff: 4 well-known topics come first */
  char name[32];
  uint64_t t = 0;
  at(t);
  TH_ASSERT_OK(pb_gstep(b));
  for (int k = 0; k < N; k++) {
    snprintf(name, sizeof name, "t%05d", k);
    at(t += 1 + (uint64_t)k % 7);
    TH_ASSERT_OK(pb_step(b, name));
  }
  at(t += 9);
  TH_ASSERT_OK(pb_step_ex(b, "t32999", "{\"wide\":true}", NULL));
  at(t += 5);
  TH_ASSERT_OK(pb_gstop(b));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_true(st.bytes_held > (uint64_t)N * 6 + 200 * 16); /* the wide ids' side entries */
  json_t *root = data_of(b);
  json_t *it = json_array_get(root, 0);
  for (int k = 0; k < N; k += 997) {
    snprintf(name, sizeof name, "t%05d", k);
    assert_call(it, name, 0, 1 + (uint64_t)k % 7, k);
  }
  assert_call(it, "t32999", 0, 1 + 32999 % 7, 32999);
  assert_call(it, "t32999", 1, 9, N);
  json_t *x = json_object_get(call(it, "t32999", 1), "extra");
  assert_true(json_is_true(json_object_get(x, "wide")));
  assert_call(it, "gstop", 0, 5, N + 1);
  json_decref(root);
}

/* ---- record indexes past 2^32 ---- */

/* The high bits of an iteration's first record come from the side table's last entry at or
 * before the iteration. */
static void test_first_high_bits(void **state) {
  (void)state;
  pb__segvec v;
  pb__segvec_init(&v, sizeof(pb__recx));
  const uint64_t keys[3] = {5, 9, 10}, vals[3] = {1, 2, 7};
  for (int k = 0; k < 3; k++) {
    pb__recx *e = pb__segvec_push(&v);
    assert_non_null(e);
    e->rec = keys[k];
    e->val = vals[k];
  }
  const uint64_t want[13] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 7, 7, 7};
  for (uint64_t i = 0; i < 13; i++) assert_int_equal(pb__recx_floor(&v, i), want[i]);
  pb__iter it = {.first_lo = 0xfffffff0u};
  assert_int_equal(pb__iter_first(&it, &v, 4), 0xfffffff0ull);
  assert_int_equal(pb__iter_first(&it, &v, 9), 0x2fffffff0ull);
  pb__segvec_free(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_derived_gstop_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_derived_gstop_summary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gstop_stored_when_not_derivable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bytes_held, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hi_words, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wide_topic_ids, setup, teardown),
      cmocka_unit_test(test_first_high_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
