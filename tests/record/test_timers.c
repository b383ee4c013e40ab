/*
 * test_timers.c - the stack timers: pb_timer, pb_countdown, pb_timed_counter,
 * and the two clocks.
 */
#include "helpers.h"

#include <time.h>

/* Sleeps ms and returns the monotonic nanoseconds actually slept. */
static uint64_t sleep_measured(unsigned ms) {
  uint64_t a = pb_now_ns();
  th_sleep_ms(ms);
  return pb_now_ns() - a;
}

static void test_clocks(void **state) {
  (void)state;
  uint64_t prev = pb_now_ns();
  assert_true(prev > 0);
  for (int i = 0; i < 100000; i++) {
    uint64_t now = pb_now_ns();
    if (now < prev)
      fail_msg("pb_now_ns went back: %llu < %llu", (unsigned long long)now,
               (unsigned long long)prev);
    prev = now;
  }
  /* A 10 ms sleep shows as at least 10 ms on the monotonic clock. */
  uint64_t slept = sleep_measured(10);
  assert_true(slept >= 10000000ull);
  assert_true(slept < 2000000000ull);

  /* The wall clock is the Unix epoch in ns: within 2 s of time(). */
  int64_t wall = pb_wall_ns();
  time_t now = time(NULL);
  TH_ASSERT_NEAR((double)wall / 1e9, (double)now, 2.0);
  assert_true(wall > (int64_t)1600000000 * 1000000000);
}

static void test_timer_tic_toc(void **state) {
  (void)state;
  pb_timer t;
  uint64_t before = pb_now_ns();
  pb_timer_tic(&t);
  uint64_t after_tic = pb_now_ns();
  assert_true(t.start_ns >= before && t.start_ns <= after_tic);

  th_sleep_ms(20);
  uint64_t inner = pb_now_ns() - after_tic;
  uint64_t ns = pb_timer_toc_ns(&t);
  uint64_t outer = pb_now_ns() - before;
  assert_true(ns >= inner && ns <= outer);
  assert_true(ns >= 20000000ull);

  double s = pb_timer_toc(&t);
  TH_ASSERT_BETWEEN(s, 0.020, (double)(pb_now_ns() - before) / 1e9 + 1e-9);

  /* toc does not restart the timer: readings never decrease. */
  uint64_t last = pb_timer_toc_ns(&t);
  for (int i = 0; i < 10000; i++) {
    uint64_t v = pb_timer_toc_ns(&t);
    assert_true(v >= last);
    last = v;
  }
  assert_true(t.start_ns >= before && t.start_ns <= after_tic);
}

static void test_timer_ttoc_restarts(void **state) {
  (void)state;
  pb_timer t;
  pb_timer_tic(&t);
  uint64_t start = t.start_ns;
  th_sleep_ms(15);
  uint64_t before = pb_now_ns();
  double first = pb_timer_ttoc(&t);
  uint64_t after = pb_now_ns();
  TH_ASSERT_BETWEEN(first, (double)(before - start) / 1e9 - 1e-9,
                    (double)(after - start) / 1e9 + 1e-9);
  assert_true(first >= 0.015);
  /* Restarted at the same clock read that served the reading. */
  assert_true(t.start_ns >= before && t.start_ns <= after);
  TH_ASSERT_NEAR((double)(t.start_ns - start) / 1e9, first, 1e-9);

  double second = pb_timer_toc(&t);
  assert_true(second < first);

  /* Repeated sleeps of known length, each measured by ttoc. */
  for (int i = 0; i < 3; i++) {
    pb_timer_tic(&t);
    uint64_t slept = sleep_measured(5);
    double v = pb_timer_ttoc(&t);
    assert_true(v >= (double)slept / 1e9 - 1e-9);
    assert_true(v >= 0.005);
    assert_true(v < 1.0);
  }

  /* ptoc/pttoc print; pttoc restarts. */
  pb_timer_tic(&t);
  uint64_t s0 = t.start_ns;
  pb_timer_ptoc(&t, "test_timers ptoc:");
  assert_true(t.start_ns == s0);
  pb_timer_ptoc(&t, NULL);
  th_sleep_ms(1);
  pb_timer_pttoc(&t, "test_timers pttoc:");
  assert_true(t.start_ns > s0);
}

static void test_timer_null(void **state) {
  (void)state;
  pb_timer_tic(NULL);
  assert_true(pb_timer_toc(NULL) == 0.0);
  assert_true(pb_timer_toc_ns(NULL) == 0);
  assert_true(pb_timer_ttoc(NULL) == 0.0);
  pb_timer_ptoc(NULL, "null timer");
  pb_timer_pttoc(NULL, NULL);
  pb_countdown_init(NULL, 1.0);
  pb_countdown_set(NULL, 1.0);
  pb_countdown_reset(NULL);
  assert_true(pb_countdown_time_left(NULL) == 0.0);
  (void)pb_countdown_completed(NULL);
  pb_timed_counter_init(NULL, true);
  pb_timed_counter_start(NULL);
  pb_timed_counter_stop(NULL);
  pb_timed_counter_count(NULL);
  assert_true(pb_timed_counter_frequency(NULL) == 0.0);
  pb_timed_counter_reset(NULL);
  pb_timed_counter_disable(NULL);
}

static void test_countdown(void **state) {
  (void)state;
  pb_countdown c;
  pb_countdown_init(&c, 0.05);
  TH_ASSERT_NEAR(c.duration, 0.05, 0);
  assert_false(pb_countdown_completed(&c));
  double left = pb_countdown_time_left(&c);
  TH_ASSERT_BETWEEN(left, 0.0, 0.05);

  th_sleep_ms(60);
  assert_true(pb_countdown_completed(&c));
  assert_true(pb_countdown_time_left(&c) < 0.0);
  TH_ASSERT_BETWEEN(pb_countdown_time_left(&c), -1.0, -0.01 + 1e-9);

  /* reset: same duration, counting again from now */
  pb_countdown_reset(&c);
  TH_ASSERT_NEAR(c.duration, 0.05, 0);
  assert_false(pb_countdown_completed(&c));
  TH_ASSERT_BETWEEN(pb_countdown_time_left(&c), 0.0, 0.05);

  /* set: a new duration, started now */
  th_sleep_ms(20);
  pb_countdown_set(&c, 0.2);
  TH_ASSERT_NEAR(c.duration, 0.2, 0);
  assert_false(pb_countdown_completed(&c));
  TH_ASSERT_BETWEEN(pb_countdown_time_left(&c), 0.1, 0.2);

  /* time_left = duration - elapsed, between two clock reads */
  uint64_t before = pb_now_ns();
  double tl = pb_countdown_time_left(&c);
  uint64_t after = pb_now_ns();
  TH_ASSERT_BETWEEN(tl, 0.2 - (double)(after - c.timer.start_ns) / 1e9 - 1e-9,
                    0.2 - (double)(before - c.timer.start_ns) / 1e9 + 1e-9);

  /* a zero duration completes at once */
  pb_countdown_init(&c, 0.0);
  th_sleep_ms(1);
  assert_true(pb_countdown_completed(&c));
}

static void test_timed_counter_start_only_at_zero(void **state) {
  (void)state;
  pb_timed_counter c;
  pb_timed_counter_init(&c, true);
  assert_true(c.enabled);
  assert_true(c.count == 0);
  uint64_t s0 = c.timer.start_ns;
  assert_true(s0 > 0);

  th_sleep_ms(2);
  pb_timed_counter_start(&c); /* count is 0: restarts */
  uint64_t s1 = c.timer.start_ns;
  assert_true(s1 > s0);

  pb_timed_counter_count(&c);
  pb_timed_counter_count(&c);
  assert_true(c.count == 2);
  th_sleep_ms(2);
  pb_timed_counter_start(&c); /* count is 2: does not restart */
  assert_true(c.timer.start_ns == s1);
  assert_true(c.count == 2);

  /* reset: count 0 and clock restarted */
  th_sleep_ms(1);
  pb_timed_counter_reset(&c);
  assert_true(c.count == 0);
  assert_true(c.timer.start_ns > s1);
}

static void test_timed_counter_frequency_running(void **state) {
  (void)state;
  pb_timed_counter c;
  pb_timed_counter_init(&c, true);
  uint64_t start = c.timer.start_ns;
  for (int i = 0; i < 50; i++) pb_timed_counter_count(&c);
  th_sleep_ms(20);
  uint64_t before = pb_now_ns();
  double f = pb_timed_counter_frequency(&c);
  uint64_t after = pb_now_ns();
  assert_true(c.count == 50);
  /* 50 / elapsed, the elapsed time read between before and after */
  TH_ASSERT_BETWEEN(f, 50.0 / ((double)(after - start) / 1e9) * (1 - 1e-9),
                    50.0 / ((double)(before - start) / 1e9) * (1 + 1e-9));
  assert_true(f <= 50.0 / 0.020);

  /* Running: more time lowers the frequency. */
  th_sleep_ms(20);
  double f2 = pb_timed_counter_frequency(&c);
  assert_true(f2 < f);

  /* No events: frequency 0. */
  pb_timed_counter_reset(&c);
  assert_true(pb_timed_counter_frequency(&c) == 0.0);
}

static void test_timed_counter_stop_freezes(void **state) {
  (void)state;
  pb_timed_counter c;
  pb_timed_counter_init(&c, true);
  uint64_t start = c.timer.start_ns;
  for (int i = 0; i < 10; i++) pb_timed_counter_count(&c);
  th_sleep_ms(20);
  uint64_t before = pb_now_ns();
  pb_timed_counter_stop(&c);
  uint64_t after = pb_now_ns();
  assert_true(c.stop_count == 10);
  assert_true(c.stop_ns >= before - start && c.stop_ns <= after - start);
  assert_true(c.stop_ns >= 20000000ull);

  double f = pb_timed_counter_frequency(&c);
  TH_ASSERT_NEAR(f, 10.0 / ((double)c.stop_ns / 1e9), 1e-9 * f);

  /* Frozen: more events and more time do not change the frequency. */
  for (int i = 0; i < 100; i++) pb_timed_counter_count(&c);
  th_sleep_ms(10);
  double f2 = pb_timed_counter_frequency(&c);
  TH_ASSERT_NEAR(f2, f, 0);
  assert_true(c.count == 110);

  /* reset keeps the stop values (the original's reset leaves them). */
  pb_timed_counter_reset(&c);
  assert_true(c.count == 0);
  assert_true(c.stop_count == 10);
  TH_ASSERT_NEAR(pb_timed_counter_frequency(&c), f, 0);
}

static void test_timed_counter_disabled(void **state) {
  (void)state;
  pb_timed_counter c;
  pb_timed_counter_init(&c, false);
  assert_false(c.enabled);
  pb_timed_counter_start(&c);
  pb_timed_counter_count(&c);
  pb_timed_counter_count(&c);
  assert_true(c.count == 0);
  pb_timed_counter_stop(&c);
  assert_true(pb_timed_counter_frequency(&c) == 0.0);

  /* disable after use: later calls are no-ops, frequency 0 */
  pb_timed_counter_init(&c, true);
  pb_timed_counter_count(&c);
  pb_timed_counter_count(&c);
  assert_true(c.count == 2);
  pb_timed_counter_disable(&c);
  assert_false(c.enabled);
  pb_timed_counter_count(&c);
  assert_true(c.count == 2);
  uint64_t s = c.timer.start_ns;
  pb_timed_counter_reset(&c);
  assert_true(c.count == 2);
  assert_true(c.timer.start_ns == s);
  assert_true(pb_timed_counter_frequency(&c) == 0.0);
}

static void test_default_timer(void **state) {
  (void)state;
  pb_timer *t = pb_default_timer();
  assert_non_null(t);
  assert_ptr_equal(t, pb_default_timer());
  pb_timer_tic(t);
  th_sleep_ms(2);
  assert_true(pb_timer_toc(t) >= 0.002);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clocks),
      cmocka_unit_test(test_timer_tic_toc),
      cmocka_unit_test(test_timer_ttoc_restarts),
      cmocka_unit_test(test_timer_null),
      cmocka_unit_test(test_countdown),
      cmocka_unit_test(test_timed_counter_start_only_at_zero),
      cmocka_unit_test(test_timed_counter_frequency_running),
      cmocka_unit_test(test_timed_counter_stop_freezes),
      cmocka_unit_test(test_timed_counter_disabled),
      cmocka_unit_test(test_default_timer),
  };
  return cmocka_run_group_tests_name("timers", tests, NULL, NULL);
}
