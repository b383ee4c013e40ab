/*
 * test_clock.c - the opt-in TSC clock (pb_set_clock, issue 15): it is taken
 * only where the kernel reports an invariant TSC, falls back silently to
 * CLOCK_MONOTONIC elsewhere, and times steps in seconds that agree with the
 * monotonic clock. No speed is asserted.
 *
 * The kernel's report is read from /proc/cpuinfo, or from the file named by
 * PORTER_BENCH_CPUINFO: the tests point it at files with and without the
 * flags to check both branches on any machine.
 */
#include "helpers.h"

#include <stdlib.h>
#include <time.h>

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct fixture {
  char *dir;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  f->dir = th_mkdtemp("clock");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pb_set_clock(PB_CLOCK_MONOTONIC);
  unsetenv("PORTER_BENCH_CPUINFO");
  th_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* Points the library at a cpuinfo file whose flags line is `flags`. */
static void fake_cpuinfo(fixture *f, const char *flags) {
  char *path = th_strf("%s/cpuinfo", f->dir);
  char *text =
      th_strf("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: %s\nbugs\t\t:\n\n", flags);
  assert_true(th_write_file(path, text));
  assert_int_equal(setenv("PORTER_BENCH_CPUINFO", path, 1), 0);
  free(text);
  free(path);
}

/* Records gstep, a 30 ms sleep, step "a", gstop; returns the step's recorded seconds. */
static double timed_step(fixture *f, const char *name, double *measured) {
  char *path = th_strf("%s/%s", f->dir, name);
  pb_bench *b = NULL;
  TH_ASSERT_OK(pb_bench_create(path, &b));
  TH_ASSERT_OK(pb_gstep(b));
  uint64_t t0 = mono_ns();
  th_sleep_ms(30);
  uint64_t t1 = mono_ns();
  TH_ASSERT_OK(pb_step(b, "a"));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  double t = th_call_time(json_array_get(data, 0), "a", 0);
  json_decref(data);
  pb_bench_destroy(b);
  free(path);
  *measured = (double)(t1 - t0) / 1e9;
  return t;
}

static void test_default_is_monotonic(void **state) {
  (void)state;
  assert_int_equal(pb_set_clock(PB_CLOCK_MONOTONIC), PB_CLOCK_MONOTONIC);
  assert_int_equal(pb_get_clock(), PB_CLOCK_MONOTONIC);
  /* On the monotonic clock pb_now_ns is CLOCK_MONOTONIC itself. */
  uint64_t a = mono_ns(), n = pb_now_ns(), b = mono_ns();
  assert_true(a <= n && n <= b);
}

/* Without both kernel flags the TSC is refused, silently, and recording works. */
static void test_fallback_without_flags(void **state) {
  fixture *f = *state;
  const char *missing[] = {"fpu tsc constant_tsc", "fpu tsc nonstop_tsc", "fpu tsc",
                           "constant_tscx nonstop_tsc_y"};
  for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
    fake_cpuinfo(f, missing[i]);
    th_warnings warnings = {0};
    pb_set_warning_handler(th_warning_counter, &warnings);
    assert_int_equal(pb_set_clock(PB_CLOCK_TSC), PB_CLOCK_MONOTONIC);
    pb_set_warning_handler(NULL, NULL);
    assert_int_equal(warnings.count, 0);
    assert_int_equal(pb_get_clock(), PB_CLOCK_MONOTONIC);
  }
  /* Steps are timed on the monotonic clock, in seconds. */
  double measured = 0, t = timed_step(f, "fallback", &measured);
  assert_true(t >= 0.030);
  TH_ASSERT_NEAR(t, measured, 0.005 + measured * 0.02);
}

/* With the flags (x86): the TSC is taken, on the monotonic clock's time base, in seconds. */
static void test_tsc_agrees_with_monotonic(void **state) {
  fixture *f = *state;
  fake_cpuinfo(f, "fpu tsc constant_tsc arch_perfmon nonstop_tsc cpuid");
  pb_clock got = pb_set_clock(PB_CLOCK_TSC);
#if defined(__x86_64__) || defined(__i386__)
  assert_int_equal(got, PB_CLOCK_TSC);
#else
  assert_int_equal(got, PB_CLOCK_MONOTONIC);
#endif
  assert_int_equal(pb_get_clock(), got);

  /* Same time base: pb_now_ns within 1 ms of CLOCK_MONOTONIC, and it never goes back. */
  uint64_t a = mono_ns(), n = pb_now_ns(), b = mono_ns();
  TH_ASSERT_NEAR((double)n, (double)(a + b) / 2, 1e6 + (double)(b - a));
  uint64_t prev = pb_now_ns();
  for (int i = 0; i < 100000; i++) {
    uint64_t now = pb_now_ns();
    if (now < prev) fail_msg("pb_now_ns went back on the TSC clock");
    prev = now;
  }
  /* A 50 ms interval agrees with the monotonic clock within 1% + 0.5 ms. */
  uint64_t m0 = mono_ns(), p0 = pb_now_ns();
  th_sleep_ms(50);
  uint64_t p1 = pb_now_ns(), m1 = mono_ns();
  double dm = (double)(m1 - m0), dp = (double)(p1 - p0);
  TH_ASSERT_NEAR(dp, dm, 0.01 * dm + 5e5);

  /* A recorded step is in seconds and agrees with the monotonic clock. */
  double measured = 0, t = timed_step(f, "tsc", &measured);
  assert_true(th_is_ns_seconds(t));
  TH_ASSERT_NEAR(t, measured, 0.005 + measured * 0.02);

  /* Back to monotonic on request. */
  assert_int_equal(pb_set_clock(PB_CLOCK_MONOTONIC), PB_CLOCK_MONOTONIC);
  assert_int_equal(pb_get_clock(), PB_CLOCK_MONOTONIC);
}

/*
 * A gap of 4.4 s (a record with a HI word before it: 2^18 ns or more) and an
 * extra (a side table beside the record's word), both on one record, and the
 * records around it, read back exactly. (Gaps of 137.4 s and more, kept in
 * a side table, are tested under a scripted clock in test_iter_store.)
 */
static void test_long_gap_and_extra(void **state) {
  fixture *f = *state;
  char *path = th_strf("%s/long", f->dir);
  pb_bench *b = NULL;
  TH_ASSERT_OK(pb_bench_create(path, &b));
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_step(b, "before"));
  uint64_t t0 = mono_ns();
  th_sleep_ms(4400);
  TH_ASSERT_OK(pb_step_ex(b, "long", "{\"k\":1}", NULL));
  uint64_t t1 = mono_ns();
  TH_ASSERT_OK(pb_step_ex(b, "after", "[2]", NULL));
  TH_ASSERT_OK(pb_step(b, "after"));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  json_t *it = json_array_get(data, 0);
  double t = th_call_time(it, "long", 0);
  TH_ASSERT_BETWEEN(t, 4.4, (double)(t1 - t0) / 1e9 + 0.01);
  assert_true(th_is_ns_seconds(t));
  json_t *calls = json_object_get(json_object_get(it, "individual_calls"), "long");
  json_t *extra = json_object_get(json_array_get(calls, 0), "extra");
  assert_int_equal(json_integer_value(json_object_get(extra, "k")), 1);
  calls = json_object_get(json_object_get(it, "individual_calls"), "after");
  assert_int_equal(json_array_size(calls), 2);
  assert_int_equal(
      json_integer_value(json_array_get(json_object_get(json_array_get(calls, 0), "extra"), 0)), 2);
  assert_true(json_is_null(json_object_get(json_array_get(calls, 1), "extra")));
  assert_true(th_call_time(it, "after", 1) < 1.0);
  assert_true(th_call_time(it, "before", 0) < 1.0);
  double abs_long = json_number_value(json_object_get(json_object_get(it, "absolutes"), "long"));
  TH_ASSERT_NEAR(abs_long, t, 0);
  /* GLOBAL (> 2^32 ns, in the iteration side table) and STOP_TIME follow. */
  double glob = th_call_time(it, "GLOBAL", 0);
  assert_true(glob >= t && glob < t + 1.0);
  json_t *info = json_object_get(it, "info");
  double span = json_number_value(json_object_get(info, "STOP_TIME")) -
                json_number_value(json_object_get(info, "START_TIME"));
  TH_ASSERT_NEAR(span, glob, 1e-5);
  json_decref(data);
  pb_bench_destroy(b);
  free(path);
}

/*
 * STOP_TIME - START_TIME covers the whole iteration, GLOBAL only the part
 * after pb_start restarted its clocks: the lead between them is kept.
 */
static void test_stop_time_with_lead(void **state) {
  fixture *f = *state;
  char *path = th_strf("%s/lead", f->dir);
  pb_bench *b = NULL;
  TH_ASSERT_OK(pb_bench_create(path, &b));
  for (int k = 0; k < 2; k++) {
    TH_ASSERT_OK(pb_gstep(b));
    if (k == 1) {
      th_sleep_ms(40);
      TH_ASSERT_OK(pb_start(b)); /* GLOBAL restarts; START_TIME stays */
    }
    th_sleep_ms(10);
    TH_ASSERT_OK(pb_step(b, "a"));
  }
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  for (size_t k = 0; k < 2; k++) {
    json_t *it = json_array_get(data, k);
    json_t *info = json_object_get(it, "info");
    double span = json_number_value(json_object_get(info, "STOP_TIME")) -
                  json_number_value(json_object_get(info, "START_TIME"));
    double glob = th_call_time(it, "GLOBAL", 0);
    assert_true(glob >= 0.010);
    if (k == 0) TH_ASSERT_NEAR(span, glob, 1e-5);
    if (k == 1) assert_true(span - glob >= 0.040 - 1e-5 && span - glob < 1.0);
  }
  json_decref(data);
  pb_bench_destroy(b);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_default_is_monotonic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fallback_without_flags, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tsc_agrees_with_monotonic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_gap_and_extra, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stop_time_with_lead, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
