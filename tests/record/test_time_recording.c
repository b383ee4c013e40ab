/*
 * test_time_recording.c - the time records of a benchmarker: gstep, step,
 * gstop and start semantics, the DATA and SUMMARY files read back and checked
 * value by value.
 */
#include "helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
  char *dir;
  char *prefix;
  pb_bench *b;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  f->dir = th_mkdtemp("time");
  if (f->dir == NULL) return -1;
  f->prefix = th_strf("%s/records/bench", f->dir);
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

static json_t *save_and_load(pb_bench *b, const char *suffix) {
  TH_ASSERT_OK(pb_save(b));
  return th_must_load(b, suffix);
}

static json_t *call_at(json_t *it, const char *topic, size_t j) {
  json_t *c = json_array_get(json_object_get(json_object_get(it, "individual_calls"), topic), j);
  if (!json_is_object(c)) fail_msg("no call %zu of topic '%s'", j, topic);
  return c;
}

static long long crono_at(json_t *it, const char *topic, size_t j) {
  json_t *c = json_object_get(call_at(it, topic, j), "crono_counter");
  if (!json_is_integer(c)) fail_msg("crono_counter of '%s'[%zu] is not an integer", topic, j);
  return (long long)json_integer_value(c);
}

static double info_num(json_t *it, const char *key) {
  json_t *v = json_object_get(json_object_get(it, "info"), key);
  if (!json_is_number(v)) fail_msg("info.%s is not a number", key);
  return json_number_value(v);
}

/* Topics in order of first use, then gstop, then GLOBAL; crono_counter is the
 * call's position; GLOBAL's record has no extra. */
static void test_topic_order_and_crono(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "b"));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  TH_ASSERT_OK(pb_step(f->b, "b"));
  TH_ASSERT_OK(pb_step(f->b, "c"));
  TH_ASSERT_OK(pb_gstop(f->b));

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_true(json_is_array(data));
  assert_int_equal(json_array_size(data), 1);
  json_t *it = json_array_get(data, 0);
  th_assert_keys(it, (const char *const[]){"absolutes", "info", "individual_calls", NULL});
  th_assert_keys(json_object_get(it, "info"),
                 (const char *const[]){"STEP_NUMBER", "START_TIME", "STOP_TIME", NULL});
  const char *const order[] = {"b", "a", "c", "gstop", "GLOBAL", NULL};
  th_assert_keys(json_object_get(it, "absolutes"), order);
  th_assert_keys(json_object_get(it, "individual_calls"), order);

  assert_int_equal(th_calls(it, "b"), 2);
  assert_int_equal(th_calls(it, "a"), 1);
  assert_int_equal(th_calls(it, "c"), 1);
  assert_int_equal(th_calls(it, "gstop"), 1);
  assert_int_equal(th_calls(it, "GLOBAL"), 1);
  assert_int_equal(crono_at(it, "b", 0), 0);
  assert_int_equal(crono_at(it, "a", 0), 1);
  assert_int_equal(crono_at(it, "b", 1), 2);
  assert_int_equal(crono_at(it, "c", 0), 3);
  assert_int_equal(crono_at(it, "gstop", 0), 4);
  assert_int_equal(crono_at(it, "GLOBAL", 0), 5);

  /* call records: time, crono_counter, extra (null); GLOBAL: time, crono_counter */
  th_assert_keys(call_at(it, "b", 0),
                 (const char *const[]){"time", "crono_counter", "extra", NULL});
  assert_true(json_is_null(json_object_get(call_at(it, "a", 0), "extra")));
  th_assert_keys(call_at(it, "gstop", 0),
                 (const char *const[]){"time", "crono_counter", "extra", NULL});
  th_assert_keys(call_at(it, "GLOBAL", 0), (const char *const[]){"time", "crono_counter", NULL});
  json_decref(data);
}

/* Each time is the gap since the previous step (or the iteration start),
 * bounded by clock reads taken around the calls; absolutes are the sums. */
static void test_step_times_are_gaps(void **state) {
  fixture *f = *state;
  uint64_t t[8];
  t[0] = pb_now_ns();
  TH_ASSERT_OK(pb_gstep(f->b));
  t[1] = pb_now_ns();
  th_sleep_ms(20);
  t[2] = pb_now_ns();
  TH_ASSERT_OK(pb_step(f->b, "x"));
  t[3] = pb_now_ns();
  th_sleep_ms(40);
  t[4] = pb_now_ns();
  TH_ASSERT_OK(pb_step(f->b, "y"));
  t[5] = pb_now_ns();
  th_sleep_ms(10);
  TH_ASSERT_OK(pb_step(f->b, "x"));
  t[6] = pb_now_ns();
  TH_ASSERT_OK(pb_gstop(f->b));
  t[7] = pb_now_ns();

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  json_t *it = json_array_get(data, 0);
  double x0 = th_call_time(it, "x", 0), y0 = th_call_time(it, "y", 0);
  double x1 = th_call_time(it, "x", 1), g = th_call_time(it, "gstop", 0);
  double glob = th_call_time(it, "GLOBAL", 0);
  /* the step's clock read is between t[2] and t[3], the start's between t[0] and t[1] */
  TH_ASSERT_BETWEEN(x0, (double)(t[2] - t[1]) / 1e9 - 1e-9, (double)(t[3] - t[0]) / 1e9 + 1e-9);
  TH_ASSERT_BETWEEN(y0, (double)(t[4] - t[3]) / 1e9 - 1e-9, (double)(t[5] - t[2]) / 1e9 + 1e-9);
  TH_ASSERT_BETWEEN(x1, 0.010, (double)(t[6] - t[4]) / 1e9 + 1e-9);
  TH_ASSERT_BETWEEN(g, 0.0, (double)(t[7] - t[5]) / 1e9 + 1e-9);
  assert_true(x0 >= 0.020 && y0 >= 0.040);
  TH_ASSERT_BETWEEN(glob, (double)(t[6] - t[1]) / 1e9 - 1e-9, (double)(t[7] - t[0]) / 1e9 + 1e-9);

  /* absolutes = sum of the calls; GLOBAL >= the sum of the steps */
  json_t *abs = json_object_get(it, "absolutes");
  TH_ASSERT_NEAR(json_number_value(json_object_get(abs, "x")), x0 + x1, 1e-12);
  TH_ASSERT_NEAR(json_number_value(json_object_get(abs, "y")), y0, 0);
  TH_ASSERT_NEAR(json_number_value(json_object_get(abs, "gstop")), g, 0);
  TH_ASSERT_NEAR(json_number_value(json_object_get(abs, "GLOBAL")), glob, 0);
  assert_true(glob + 1e-9 >= x0 + y0 + x1 + g);
  /* the steps cover the whole iteration: GLOBAL is their sum up to clock reads */
  TH_ASSERT_NEAR(glob, x0 + y0 + x1 + g, (double)(t[1] - t[0] + t[7] - t[6]) / 1e9 + 2e-9);

  /* every time is an integer number of nanoseconds, non-negative */
  const char *topics[] = {"x", "y", "gstop", "GLOBAL"};
  for (size_t i = 0; i < 4; i++) {
    double v = json_number_value(json_object_get(abs, topics[i]));
    if (!th_is_ns_seconds(v)) fail_msg("absolutes.%s = %.17g is not whole ns", topics[i], v);
    for (size_t j = 0; j < th_calls(it, topics[i]); j++) {
      double c = th_call_time(it, topics[i], j);
      if (!th_is_ns_seconds(c)) fail_msg("%s[%zu].time = %.17g is not whole ns", topics[i], j, c);
    }
  }
  json_decref(data);
}

/* The library derives wall times from the monotonic clock plus an offset it
 * re-reads every second: allow for the clocks' slew over that second. */
#define WALL_TOL 2e-3

/* STEP_NUMBER counts from 0; START_TIME/STOP_TIME are wall-clock seconds of
 * the gstep/gstop; an open iteration is saved with STOP_TIME 0. */
static void test_info_fields(void **state) {
  fixture *f = *state;
  double w[6];
  for (int i = 0; i < 3; i++) {
    w[2 * i] = (double)pb_wall_ns() / 1e9;
    TH_ASSERT_OK(pb_gstep(f->b));
    w[2 * i + 1] = (double)pb_wall_ns() / 1e9;
    TH_ASSERT_OK(pb_step(f->b, "s"));
    th_sleep_ms(2);
  }
  /* the third iteration is still open */
  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 3);
  for (size_t i = 0; i < 3; i++) {
    json_t *it = json_array_get(data, i);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(it, "info"), "STEP_NUMBER")), i);
    double start = info_num(it, "START_TIME");
    TH_ASSERT_BETWEEN(start, w[2 * i] - WALL_TOL, w[2 * i + 1] + WALL_TOL);
    assert_true(start > 1.6e9);
    double stop = info_num(it, "STOP_TIME");
    if (i < 2) {
      /* closed by the next gstep */
      TH_ASSERT_BETWEEN(stop, w[2 * i + 2] - WALL_TOL, w[2 * i + 3] + WALL_TOL);
      assert_true(stop >= start);
      assert_int_equal(th_calls(it, "GLOBAL"), 1);
    } else {
      TH_ASSERT_NEAR(stop, 0, 0);
      /* as the original, the open iteration has no GLOBAL yet */
      assert_int_equal(th_calls(it, "GLOBAL"), 0);
      assert_int_equal(th_calls(it, "s"), 1);
    }
  }
  json_decref(data);

  double a = (double)pb_wall_ns() / 1e9;
  TH_ASSERT_OK(pb_gstop(f->b));
  double b = (double)pb_wall_ns() / 1e9;
  data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 3);
  TH_ASSERT_BETWEEN(info_num(json_array_get(data, 2), "STOP_TIME"), a - WALL_TOL, b + WALL_TOL);
  assert_int_equal(th_calls(json_array_get(data, 2), "GLOBAL"), 1);
  json_decref(data);
}

static void test_step_before_any_iteration(void **state) {
  fixture *f = *state;
  TH_ASSERT_STATUS(pb_step(f->b, "early"), PB_ENOITER);
  TH_ASSERT_STATUS(pb_step_ex(f->b, "early", "1", NULL), PB_ENOITER);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.steps, 0);
  assert_int_equal(st.iterations, 0);

  /* gstop with nothing open: a no-op returning PB_OK */
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 0);
  assert_int_equal(st.steps, 0);
  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_true(json_is_array(data));
  assert_int_equal(json_array_size(data), 0);
  json_decref(data);
  json_t *summary = th_must_load(f->b, PB_SUFFIX_SUMMARY);
  assert_true(json_is_object(summary));
  assert_int_equal(json_object_size(summary), 0);
  json_decref(summary);

  /* the early topic never shows up later */
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "late"));
  TH_ASSERT_OK(pb_gstop(f->b));
  data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 1);
  assert_int_equal(th_calls(json_array_get(data, 0), "early"), 0);
  th_assert_keys(json_object_get(json_array_get(data, 0), "absolutes"),
                 (const char *const[]){"late", "gstop", "GLOBAL", NULL});
  json_decref(data);
}

/* After a gstop and before the next gstep a step joins the closed iteration. */
static void test_step_after_gstop_joins_last(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_step(f->b, "after"));
  TH_ASSERT_OK(pb_gstop(f->b)); /* nothing open: no-op */

  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 1);

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 1);
  json_t *it = json_array_get(data, 0);
  assert_int_equal(th_calls(it, "a"), 1);
  assert_int_equal(th_calls(it, "after"), 1);
  assert_int_equal(th_calls(it, "gstop"), 1);
  assert_int_equal(th_calls(it, "GLOBAL"), 1);
  assert_true(info_num(it, "STOP_TIME") > 0);
  json_decref(data);

  /* the next gstep opens iteration 1 without the late topic */
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  TH_ASSERT_OK(pb_gstop(f->b));
  data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 2);
  assert_int_equal(th_calls(json_array_get(data, 1), "after"), 0);
  assert_int_equal(th_calls(json_array_get(data, 0), "after"), 1);
  json_decref(data);
}

/* pb_start opens an iteration, or restarts the clocks of the open one. */
static void test_start(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_start(f->b));
  th_sleep_ms(30);
  TH_ASSERT_OK(pb_step(f->b, "a"));
  th_sleep_ms(30);
  uint64_t t0 = pb_now_ns();
  TH_ASSERT_OK(pb_start(f->b)); /* restart the clocks, same iteration */
  uint64_t t1 = pb_now_ns();
  TH_ASSERT_OK(pb_step(f->b, "b"));
  uint64_t t2 = pb_now_ns();
  TH_ASSERT_OK(pb_gstop(f->b));
  uint64_t t3 = pb_now_ns();

  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 1);

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 1);
  json_t *it = json_array_get(data, 0);
  assert_true(th_call_time(it, "a", 0) >= 0.030);
  TH_ASSERT_BETWEEN(th_call_time(it, "b", 0), 0, (double)(t2 - t0) / 1e9 + 1e-9);
  /* GLOBAL counts from the second start */
  TH_ASSERT_BETWEEN(th_call_time(it, "GLOBAL", 0), (double)(t2 - t1) / 1e9 - 1e-9,
                    (double)(t3 - t0) / 1e9 + 1e-9);
  assert_true(th_call_time(it, "GLOBAL", 0) < 0.030);
  th_assert_keys(json_object_get(it, "absolutes"),
                 (const char *const[]){"a", "b", "gstop", "GLOBAL", NULL});
  json_decref(data);

  /* start after a gstop opens a new iteration */
  TH_ASSERT_OK(pb_start(f->b));
  TH_ASSERT_OK(pb_step(f->b, "c"));
  TH_ASSERT_OK(pb_gstop(f->b));
  data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 2);
  assert_int_equal(th_calls(json_array_get(data, 1), "c"), 1);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(json_array_get(data, 1), "info"), "STEP_NUMBER")),
                   1);
  json_decref(data);
}

/* Extras: valid JSON text is stored as that value; invalid text gives
 * PB_EJSON, the step is still recorded with a null extra. */
static void test_extras(void **state) {
  fixture *f = *state;
  static const char *const good[] = {"{\"batch\":3,\"name\":\"x\"}",
                                     "[1,2.5,\"s\",null,true]",
                                     "42",
                                     "-0.125",
                                     "\"text\"",
                                     "null",
                                     "true",
                                     "false",
                                     " {\"nested\": {\"a\": [ ]}} ",
                                     "\"caf\\u00e9 \\\"q\\\"\""};
  static const char *const bad[] = {"{bad",     "1 2", "",    "[1,",
                                    "{\"a\":}", "nul", "'x'", "{\"a\":1}}"};
  const size_t ngood = sizeof good / sizeof good[0], nbad = sizeof bad / sizeof bad[0];

  TH_ASSERT_OK(pb_gstep(f->b));
  for (size_t i = 0; i < ngood; i++) TH_ASSERT_OK(pb_step_ex(f->b, "good", good[i], NULL));
  for (size_t i = 0; i < nbad; i++)
    TH_ASSERT_STATUS(pb_step_ex(f->b, "bad", bad[i], NULL), PB_EJSON);
  TH_ASSERT_OK(pb_step_ex(f->b, "none", NULL, NULL));
  /* a memory extra is accepted (and ignored) with memory tracking off */
  TH_ASSERT_OK(pb_step_ex(f->b, "mem", NULL, "{\"m\":1}"));
  TH_ASSERT_OK(pb_gstop(f->b));

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  json_t *it = json_array_get(data, 0);
  assert_int_equal(th_calls(it, "good"), ngood);
  assert_int_equal(th_calls(it, "bad"), nbad);
  for (size_t i = 0; i < ngood; i++) {
    json_error_t err;
    json_t *want = json_loads(good[i], JSON_DECODE_ANY, &err);
    assert_non_null(want);
    json_t *got = json_object_get(call_at(it, "good", i), "extra");
    if (!json_equal(want, got)) {
      char *g = json_dumps(got, JSON_ENCODE_ANY);
      fail_msg("extra %zu: stored %s, given %s", i, g != NULL ? g : "(missing)", good[i]);
    }
    json_decref(want);
    assert_int_equal(crono_at(it, "good", i), (long long)i);
  }
  for (size_t i = 0; i < nbad; i++) {
    json_t *extra = json_object_get(call_at(it, "bad", i), "extra");
    if (!json_is_null(extra)) fail_msg("invalid extra '%s' not stored as null", bad[i]);
  }
  assert_true(json_is_null(json_object_get(call_at(it, "none", 0), "extra")));
  assert_true(json_is_null(json_object_get(call_at(it, "mem", 0), "extra")));
  json_decref(data);

  /* the summary still parses and holds the topics */
  json_t *summary = th_must_load(f->b, PB_SUFFIX_SUMMARY);
  assert_non_null(json_object_get(summary, "bad"));
  json_decref(summary);
}

static void test_topic_intern(void **state) {
  fixture *f = *state;
  pb_topic a = pb_topic_intern(f->b, "alpha");
  pb_topic b2 = pb_topic_intern(f->b, "beta");
  assert_true(a != PB_TOPIC_INVALID && b2 != PB_TOPIC_INVALID);
  assert_true(a != b2);
  assert_true(pb_topic_intern(f->b, "alpha") == a);
  assert_true(pb_topic_intern(f->b, NULL) == PB_TOPIC_INVALID);
  assert_true(pb_topic_intern(NULL, "alpha") == PB_TOPIC_INVALID);

  TH_ASSERT_STATUS(pb_step_id(f->b, a), PB_ENOITER);
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step_id(f->b, b2));
  TH_ASSERT_OK(pb_step_id(f->b, a));
  TH_ASSERT_OK(pb_step(f->b, "beta")); /* same topic by name */
  TH_ASSERT_STATUS(pb_step_id(f->b, PB_TOPIC_INVALID), PB_EINVAL);
  TH_ASSERT_STATUS(pb_step_id(f->b, 100000), PB_EINVAL);
  TH_ASSERT_STATUS(pb_step_id(NULL, a), PB_EINVAL);
  TH_ASSERT_OK(pb_gstop(f->b));

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  json_t *it = json_array_get(data, 0);
  th_assert_keys(json_object_get(it, "individual_calls"),
                 (const char *const[]){"beta", "alpha", "gstop", "GLOBAL", NULL});
  assert_int_equal(th_calls(it, "beta"), 2);
  assert_int_equal(crono_at(it, "beta", 0), 0);
  assert_int_equal(crono_at(it, "alpha", 0), 1);
  assert_int_equal(crono_at(it, "beta", 1), 2);
  json_decref(data);

  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_true(st.topics >= 2);

  /* an id of another benchmarker with fewer topics is rejected */
  pb_bench *other = NULL;
  char *p = th_strf("%s/other", f->dir);
  TH_ASSERT_OK(pb_bench_create(p, &other));
  TH_ASSERT_OK(pb_gstep(other));
  pb_topic big = a > b2 ? a : b2;
  TH_ASSERT_STATUS(pb_step_id(other, big + 1000), PB_EINVAL);
  pb_bench_destroy(other);
  free(p);
}

static void test_enable_disable(void **state) {
  fixture *f = *state;
  assert_true(pb_is_enabled(f->b));
  pb_disable(f->b);
  assert_false(pb_is_enabled(f->b));
  TH_ASSERT_STATUS(pb_gstep(f->b), PB_EDISABLED);
  TH_ASSERT_STATUS(pb_start(f->b), PB_EDISABLED);
  TH_ASSERT_STATUS(pb_step(f->b, "x"), PB_EDISABLED);
  TH_ASSERT_STATUS(pb_step_ex(f->b, "x", "1", NULL), PB_EDISABLED);
  TH_ASSERT_STATUS(pb_gstop(f->b), PB_EDISABLED);
  /* saving a disabled benchmarker writes nothing and succeeds */
  TH_ASSERT_OK(pb_save(f->b));
  char *path = th_strf("%s%s", f->prefix, PB_SUFFIX_DATA);
  assert_false(th_exists(path));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 0);
  assert_int_equal(st.steps, 0);
  assert_int_equal(st.saves, 0);

  pb_enable(f->b);
  assert_true(pb_is_enabled(f->b));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "y"));
  /* disabled in the middle of an iteration: the step is not recorded */
  pb_disable(f->b);
  TH_ASSERT_STATUS(pb_step(f->b, "z"), PB_EDISABLED);
  pb_enable(f->b);
  TH_ASSERT_OK(pb_gstop(f->b));
  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  assert_true(th_exists(path));
  assert_int_equal(json_array_size(data), 1);
  assert_int_equal(th_calls(json_array_get(data, 0), "y"), 1);
  assert_int_equal(th_calls(json_array_get(data, 0), "z"), 0);
  assert_int_equal(th_calls(json_array_get(data, 0), "x"), 0);
  json_decref(data);
  free(path);
}

/* The summary file equals the statistics recomputed here from the data file. */
static void test_summary_matches_data(void **state) {
  fixture *f = *state;
  /* 12 iterations; "work" sleeps 1..4 ms with one 40 ms outlier; "rare" is
   * only in every third iteration. */
  static const unsigned work_ms[12] = {2, 1, 3, 2, 4, 1, 2, 40, 3, 2, 1, 2};
  for (int i = 0; i < 12; i++) {
    TH_ASSERT_OK(pb_gstep(f->b));
    th_sleep_ms(work_ms[i]);
    TH_ASSERT_OK(pb_step(f->b, "work"));
    if (i % 3 == 1) {
      TH_ASSERT_OK(pb_step(f->b, "rare"));
      TH_ASSERT_OK(pb_step(f->b, "rare"));
    }
    TH_ASSERT_OK(pb_step(f->b, "tail"));
  }
  TH_ASSERT_OK(pb_gstop(f->b));

  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  json_t *summary = th_must_load(f->b, PB_SUFFIX_SUMMARY);
  assert_int_equal(json_array_size(data), 12);
  th_assert_keys(summary, (const char *const[]){"work", "tail", "gstop", "rare", "GLOBAL", NULL});

  const char *topic;
  json_t *entry;
  json_object_foreach(summary, topic, entry) {
    th_assert_keys(entry, (const char *const[]){"mean", "min", "max", "quantile_filtered", NULL});
    double vals[12];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(data); i++) {
      json_t *v = json_object_get(json_object_get(json_array_get(data, i), "absolutes"), topic);
      if (v != NULL) {
        assert_true(json_is_number(v));
        vals[n++] = json_number_value(v);
        assert_true(vals[n - 1] >= 0);
      }
    }
    assert_int_equal(n, strcmp(topic, "rare") == 0 ? 4 : 12);
    th_stats want = th_summarize(vals, n);
    const char *fields[] = {"mean", "min", "max", "quantile_filtered"};
    double wantv[] = {want.mean, want.min, want.max, want.quantile_filtered};
    for (int k = 0; k < 4; k++) {
      double got = json_number_value(json_object_get(entry, fields[k]));
      if (!th_close(got, wantv[k]))
        fail_msg("summary %s.%s = %.17g, recomputed %.17g", topic, fields[k], got, wantv[k]);
    }
  }
  /* the outlier is filtered out of work's quantile_filtered */
  json_t *work = json_object_get(summary, "work");
  assert_true(json_number_value(json_object_get(work, "quantile_filtered")) <
              json_number_value(json_object_get(work, "mean")));
  assert_true(json_number_value(json_object_get(work, "max")) >= 0.040);
  json_decref(summary);
  json_decref(data);
}

/* Saved mid-iteration: the summary counts the open iteration's steps (as the
 * original, which summarises its whole working list) but GLOBAL only over the
 * closed iterations; every entry still equals the recomputed statistics. */
static void test_summary_with_open_iteration(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 5; i++) {
    TH_ASSERT_OK(pb_gstep(f->b));
    th_sleep_ms(1 + (unsigned)i % 3);
    TH_ASSERT_OK(pb_step(f->b, "x"));
  }
  TH_ASSERT_OK(pb_step(f->b, "only_open"));
  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  json_t *summary = th_must_load(f->b, PB_SUFFIX_SUMMARY);
  assert_int_equal(json_array_size(data), 5);
  th_assert_keys(summary, (const char *const[]){"x", "gstop", "only_open", "GLOBAL", NULL});
  const char *topic;
  json_t *entry;
  json_object_foreach(summary, topic, entry) {
    double vals[5];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(data); i++) {
      json_t *v = json_object_get(json_object_get(json_array_get(data, i), "absolutes"), topic);
      if (v != NULL) vals[n++] = json_number_value(v);
    }
    size_t want_n = strcmp(topic, "x") == 0 ? 5 : strcmp(topic, "only_open") == 0 ? 1 : 4;
    assert_int_equal(n, want_n);
    th_stats want = th_summarize(vals, n);
    const char *fields[] = {"mean", "min", "max", "quantile_filtered"};
    double wantv[] = {want.mean, want.min, want.max, want.quantile_filtered};
    for (int k = 0; k < 4; k++) {
      double got = json_number_value(json_object_get(entry, fields[k]));
      if (!th_close(got, wantv[k]))
        fail_msg("summary %s.%s = %.17g, recomputed %.17g", topic, fields[k], got, wantv[k]);
    }
  }
  json_decref(summary);
  json_decref(data);
}

/*
 * Fails unless every summary entry equals the statistics recomputed from the
 * data file's absolutes (expect_n values each, GLOBAL included).
 */
static void assert_summary_recomputed(json_t *summary, json_t *data, size_t expect_n) {
  size_t ni = json_array_size(data);
  double *vals = malloc(ni * sizeof *vals);
  assert_non_null(vals);
  const char *topic;
  json_t *entry;
  json_object_foreach(summary, topic, entry) {
    size_t n = 0;
    for (size_t i = 0; i < ni; i++) {
      json_t *v = json_object_get(json_object_get(json_array_get(data, i), "absolutes"), topic);
      if (v != NULL) vals[n++] = json_number_value(v);
    }
    assert_int_equal(n, expect_n);
    th_stats want = th_summarize(vals, n);
    const char *fields[] = {"mean", "min", "max", "quantile_filtered"};
    double wantv[] = {want.mean, want.min, want.max, want.quantile_filtered};
    for (int k = 0; k < 4; k++) {
      double got = json_number_value(json_object_get(entry, fields[k]));
      if (!th_close(got, wantv[k]))
        fail_msg("summary %s.%s = %.17g, recomputed %.17g", topic, fields[k], got, wantv[k]);
    }
  }
  free(vals);
}

/*
 * Many iterations (issue 15, item 6: the summary's values are gathered in
 * batches, a pass over the records each; read flat when every topic occurs
 * once an iteration, per iteration otherwise): the statistics, with their
 * quartiles over thousands of mostly equal values, still equal those
 * recomputed from the data file, in both ways of reading.
 */
static void summary_many(fixture *f, bool twice) {
  static const char *const steps[] = {"load", "forward", "backward", "update", "log"};
  size_t iters = th_scaled(20000, 2000);
  for (size_t i = 0; i < iters; i++) {
    TH_ASSERT_OK(pb_gstep(f->b));
    for (int k = 0; k < 5; k++) TH_ASSERT_OK(pb_step(f->b, steps[k]));
    if (twice && i == iters / 2) TH_ASSERT_OK(pb_step(f->b, "load")); /* load twice here */
  }
  TH_ASSERT_OK(pb_gstop(f->b));
  json_t *data = save_and_load(f->b, PB_SUFFIX_DATA);
  json_t *summary = th_must_load(f->b, PB_SUFFIX_SUMMARY);
  assert_int_equal(json_array_size(data), iters);
  th_assert_keys(summary, (const char *const[]){"load", "forward", "backward", "update", "log",
                                                "gstop", "GLOBAL", NULL});
  assert_summary_recomputed(summary, data, iters);
  json_t *mid = json_array_get(data, iters / 2);
  assert_int_equal(th_calls(mid, "load"), twice ? 2 : 1);
  json_decref(summary);
  json_decref(data);
}

static void test_summary_many_flat(void **state) { summary_many(*state, false); }

static void test_summary_many_repeated_topic(void **state) { summary_many(*state, true); }

/* The percentile and filter helpers themselves, against values numpy gives. */
static void test_helper_statistics(void **state) {
  (void)state;
  const double v[] = {1, 2, 3, 4, 100};
  TH_ASSERT_NEAR(th_percentile(v, 5, 25), 2.0, 1e-15);
  TH_ASSERT_NEAR(th_percentile(v, 5, 75), 4.0, 1e-15);
  const double w[] = {0.5, 0.1, 0.4, 0.2};
  /* numpy.percentile([0.1,0.2,0.4,0.5], 25) = 0.175, 75 -> 0.425 */
  TH_ASSERT_NEAR(th_percentile(w, 4, 25), 0.175, 1e-15);
  TH_ASSERT_NEAR(th_percentile(w, 4, 75), 0.425, 1e-15);
  th_stats s = th_summarize(v, 5);
  TH_ASSERT_NEAR(s.mean, 22.0, 1e-12);
  TH_ASSERT_NEAR(s.quantile_filtered, 2.5, 1e-12); /* 100 > 4 + 1.5 * 2 */
  const double z[] = {0, 0, 0};
  s = th_summarize(z, 3);
  TH_ASSERT_NEAR(s.min, 0, 0);
  TH_ASSERT_NEAR(s.quantile_filtered, 0, 0);
  assert_true(th_is_ns_seconds(0.000001234));
  assert_true(th_is_ns_seconds(1.5));
  assert_false(th_is_ns_seconds(1.0000000001));
  assert_false(th_is_ns_seconds(-1.0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_topic_order_and_crono, setup, teardown),
      cmocka_unit_test_setup_teardown(test_step_times_are_gaps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_info_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(test_step_before_any_iteration, setup, teardown),
      cmocka_unit_test_setup_teardown(test_step_after_gstop_joins_last, setup, teardown),
      cmocka_unit_test_setup_teardown(test_start, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extras, setup, teardown),
      cmocka_unit_test_setup_teardown(test_topic_intern, setup, teardown),
      cmocka_unit_test_setup_teardown(test_enable_disable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summary_matches_data, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summary_with_open_iteration, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summary_many_flat, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summary_many_repeated_topic, setup, teardown),
      cmocka_unit_test(test_helper_statistics),
  };
  return cmocka_run_group_tests_name("time_recording", tests, NULL, NULL);
}
