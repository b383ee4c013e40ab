/*
 * test_compare.c - the statistics of compare: the Hodges-Lehmann shift and
 * its interval against brute force, the exact rank distribution against
 * enumeration, Holm's correction by hand, and the seeded experiment of
 * docs/CLI.md (false alarms and power over 100 simulated pairs of runs).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "porter_bench_analysis.h"

/* ---- a seeded generator (splitmix64) ------------------------------------ */

static uint64_t rng_state;

static uint64_t rng_next(void) {
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double rng_unit(void) { return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0; }

static double rng_normal(void) {
  return sqrt(-2 * log(rng_unit())) * cos(6.283185307179586 * rng_unit());
}

/* Pairs of runs with some unadjusted p < 0.05 in the last experiment (the
 * rule compare used before: one test per topic, no correction, no threshold). */
static int raw_alarms;

static int cmp_double(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

/* All n m differences b_j - a_i, sorted (the brute-force reference). */
static double *all_diffs(const double *a, size_t n, const double *b, size_t m) {
  double *d = malloc(n * m * sizeof *d);
  assert_non_null(d);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) d[i * m + j] = b[j] - a[i];
  qsort(d, n * m, sizeof *d, cmp_double);
  return d;
}

/* ---- the shift ------------------------------------------------------------ */

/* The shift is the median of the differences, for odd and even n m, with ties. */
static void test_hodges_lehmann_brute_force(void **state) {
  (void)state;
  rng_state = 1;
  const size_t sizes[][2] = {{1, 1}, {3, 5}, {4, 6}, {17, 23}, {40, 40}, {60, 31}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (int tied = 0; tied < 2; tied++) {
      size_t n = sizes[s][0], m = sizes[s][1];
      double a[64], b[64];
      for (size_t i = 0; i < n; i++) a[i] = tied ? floor(rng_unit() * 5) : rng_unit();
      for (size_t j = 0; j < m; j++) b[j] = tied ? floor(rng_unit() * 5) + 1 : rng_unit() + 0.3;
      double *d = all_diffs(a, n, b, m);
      size_t nm = n * m;
      double want = (d[(nm + 1) / 2 - 1] + d[nm / 2]) / 2;
      pb_shift sh;
      assert_int_equal(pb_shift_compute(a, n, b, m, 0.95, &sh), PB_OK);
      assert_true(sh.shift == want);
      assert_int_equal(sh.n_a, n);
      assert_int_equal(sh.n_b, m);
      free(d);
    }
  }
}

/* n = m = 10: the 95% interval is [d(24), d(77)] (the two-sided 5% critical
 * value of U is 23 in the tables, P(U <= 23) = 0.0216), as R's wilcox.test. */
static void test_exact_interval(void **state) {
  (void)state;
  rng_state = 7;
  double a[10], b[10];
  for (int i = 0; i < 10; i++) {
    a[i] = 10 + rng_unit();
    b[i] = 10.4 + rng_unit();
  }
  double *d = all_diffs(a, 10, b, 10);
  pb_shift sh;
  assert_int_equal(pb_shift_compute(a, 10, b, 10, 0.95, &sh), PB_OK);
  assert_true(sh.exact);
  assert_true(sh.ci_low == d[23]);
  assert_true(sh.ci_high == d[76]);
  assert_true(sh.ci_low <= sh.shift && sh.shift <= sh.ci_high);
  assert_true(fabs(sh.rel - sh.shift / sh.median_a) < 1e-15);
  assert_true(fabs(sh.rel_low - sh.ci_low / sh.median_a) < 1e-15);
  free(d);
}

/* The exact p-value against enumerating every split of the ranks 1..n+m. */
static void test_exact_p_enumerated(void **state) {
  (void)state;
  const int n = 5, m = 7;
  const double a[] = {1.1, 2.3, 3.5, 7.2, 9.9};
  const double b[] = {2.0, 4.4, 5.1, 8.0, 10.3, 11.5, 12.7};
  pb_shift sh;
  assert_int_equal(pb_shift_compute(a, n, b, m, 0.95, &sh), PB_OK);
  assert_true(sh.exact);
  /* U of b: pairs b_j > a_i */
  double u = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) u += b[j] > a[i];
  assert_true(sh.u == u);
  /* enumerate the subsets of {0..11} of size n taken by a */
  double mu = n * m / 2.0, extreme = 0, total = 0;
  for (unsigned mask = 0; mask < (1u << (n + m)); mask++) {
    if (__builtin_popcount(mask) != n) continue;
    double uu = 0; /* b's positions above each a position */
    for (int p = 0; p < n + m; p++)
      if (mask & (1u << p))
        for (int q = p + 1; q < n + m; q++) uu += !(mask & (1u << q));
    total++;
    extreme += fabs(uu - mu) >= fabs(u - mu) - 1e-9;
  }
  assert_true(fabs(sh.p_value - extreme / total) < 1e-12);
}

/* Every new value above every baseline value: the exact p is 2 / C(n+m, n),
 * far below what 1 - P(U < u) could resolve in doubles. */
static void test_exact_p_extreme(void **state) {
  (void)state;
  double a[30], b[30];
  for (int i = 0; i < 30; i++) {
    a[i] = 1 + 0.01 * i;
    b[i] = 2 + 0.01 * i;
  }
  pb_shift sh;
  assert_int_equal(pb_shift_compute(a, 30, b, 30, 0.95, &sh), PB_OK);
  assert_true(sh.exact);
  assert_true(sh.u == 900);
  double c = 1; /* C(60, 30) */
  for (int i = 1; i <= 30; i++) c = c * (30 + i) / i;
  assert_true(fabs(sh.p_value / (2 / c) - 1) < 1e-6);
  assert_int_equal(pb_shift_compute(b, 30, a, 30, 0.95, &sh), PB_OK); /* the other tail */
  assert_true(fabs(sh.p_value / (2 / c) - 1) < 1e-6);
}

/* Large samples use the normal approximation; a constant offset is found. */
static void test_large_samples(void **state) {
  (void)state;
  rng_state = 3;
  size_t n = 100000;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  assert_non_null(a);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++) {
    a[i] = 0.001 * exp(0.3 * rng_normal());
    b[i] = a[i] * 1.05 + 1e-6 * (double)(i % 3); /* 5% slower, plus ties of the offset */
  }
  pb_shift sh;
  assert_int_equal(pb_shift_compute(a, n, b, n, 0.95, &sh), PB_OK);
  assert_false(sh.exact);
  assert_true(sh.rel > 0.04 && sh.rel < 0.06);
  assert_true(sh.ci_low < sh.shift && sh.shift < sh.ci_high);
  assert_true(sh.p_value < 1e-10);
  /* the same sample on both sides: shift 0, p 1 */
  assert_int_equal(pb_shift_compute(a, n, a, n, 0.95, &sh), PB_OK);
  assert_true(sh.shift == 0);
  assert_true(sh.p_value > 0.99);
  assert_true(sh.ci_low < 0 && sh.ci_high > 0);
  free(a);
  free(b);
}

static void test_shift_edges(void **state) {
  (void)state;
  const double v[] = {NAN, 1, 2, INFINITY, 3};
  pb_shift sh;
  assert_int_equal(pb_shift_compute(v, 5, v, 5, 0.95, &sh), PB_OK);
  assert_int_equal(sh.n_a, 3); /* NAN and infinity skipped */
  assert_true(sh.too_few);
  assert_true(sh.shift == 0);
  assert_true(isnan(sh.ci_low)); /* 3 values a side: no 95% interval exists */
  assert_int_equal(pb_shift_compute(NULL, 0, v, 5, 0.95, &sh), PB_OK);
  assert_true(isnan(sh.shift) && isnan(sh.p_value) && isnan(sh.median_a));
  assert_int_equal(pb_shift_compute(NULL, 2, v, 5, 0.95, &sh), PB_EINVAL);
  assert_int_equal(pb_shift_compute(v, 5, v, 5, 1.0, &sh), PB_EINVAL);
  assert_int_equal(pb_shift_compute(v, 5, v, 5, 0.95, NULL), PB_EINVAL);
  const double zero[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(pb_shift_compute(zero, 10, zero, 10, 0.95, &sh), PB_OK);
  assert_true(isnan(sh.rel));     /* baseline median 0 */
  assert_true(isnan(sh.p_value)); /* every value tied */
}

static void test_holm(void **state) {
  (void)state;
  const double p[] = {0.01, 0.04, 0.03, 0.005, NAN};
  double adj[5];
  assert_int_equal(pb_holm_adjust(p, 5, adj), PB_OK);
  /* sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 -> 0.06 */
  assert_true(fabs(adj[3] - 0.02) < 1e-15);
  assert_true(fabs(adj[0] - 0.03) < 1e-15);
  assert_true(fabs(adj[2] - 0.06) < 1e-15);
  assert_true(fabs(adj[1] - 0.06) < 1e-15);
  assert_true(isnan(adj[4]));
  const double big[] = {0.5, 0.6};
  assert_int_equal(pb_holm_adjust(big, 2, adj), PB_OK);
  assert_true(adj[0] == 1 && adj[1] == 1);
  assert_int_equal(pb_holm_adjust(NULL, 1, adj), PB_EINVAL);
}

/* ---- the experiment ------------------------------------------------------------ */

#define STEPS 5
#define TOPICS (STEPS + 1) /* the steps and GLOBAL, their sum */
#define ITERS 600
#define TRIALS 100
#define ALL ((1u << TOPICS) - 1)

/* Typical step medians (seconds): a mix of fast and slow steps. */
static const double step_median[STEPS] = {1.0e-3, 2.0e-4, 5.0e-3, 5.0e-5, 2.0e-3};

/* One step time: lognormal (sigma 0.25) with 2% outliers 2 to 6 times slower. */
static double draw_time(double median) {
  double t = median * exp(0.25 * rng_normal());
  if (rng_unit() < 0.02) t *= 2 + 4 * rng_unit();
  return t;
}

/* One run: ITERS iterations of the steps (step slow scaled by factor) and GLOBAL. */
static void draw_run(double v[TOPICS][ITERS], int slow, double factor) {
  for (size_t i = 0; i < ITERS; i++) {
    double total = 0;
    for (int s = 0; s < STEPS; s++) {
      v[s][i] = draw_time(step_median[s]) * (s == slow ? factor : 1.0);
      total += v[s][i];
    }
    v[STEPS][i] = total + 1e-5; /* GLOBAL: the steps plus a little bookkeeping */
  }
}

/* Runs TRIALS pairs of runs, topic `slow` of the second run scaled by
 * factor (-1: none). *any counts the pairs with some topic flagged, *exact
 * those where the flagged topics among the bits of `care` are exactly the
 * bits of `want`, each flagged slower. */
static void experiment(int slow, double factor, unsigned want, unsigned care, int *any,
                       int *exact) {
  static double a[TOPICS][ITERS], b[TOPICS][ITERS];
  const double *pa[TOPICS], *pb[TOPICS];
  size_t na[TOPICS], nb[TOPICS];
  for (int t = 0; t < TOPICS; t++) {
    pa[t] = a[t];
    pb[t] = b[t];
    na[t] = nb[t] = ITERS;
  }
  const pb_compare_params params = PB_COMPARE_DEFAULTS;
  *any = *exact = raw_alarms = 0;
  for (int trial = 0; trial < TRIALS; trial++) {
    draw_run(a, -1, 1.0);
    draw_run(b, slow, factor);
    pb_change c[TOPICS];
    assert_int_equal(pb_compare_samples(pa, na, pb, nb, TOPICS, &params, c), PB_OK);
    unsigned flagged = 0;
    bool slower = true, raw = false;
    for (int t = 0; t < TOPICS; t++) {
      raw |= c[t].shift.p_value < 0.05;
      if (!c[t].significant) continue;
      flagged |= 1u << t;
      slower &= c[t].direction > 0;
    }
    *any += flagged != 0;
    raw_alarms += raw;
    *exact += (flagged & care) == want && slower;
  }
}

static void test_experiment_no_false_alarm(void **state) {
  (void)state;
  rng_state = 20261130;
  int any, exact;
  experiment(-1, 1.0, 0, ALL, &any, &exact);
  print_message(
      "same distribution: %d of %d pairs with a significant topic (%d with some "
      "unadjusted p < 0.05)\n",
      any, TRIALS, raw_alarms);
  assert_true(TRIALS - any >= 95);
}

static void test_experiment_finds_slowdown(void **state) {
  (void)state;
  rng_state = 20261201;
  int any, exact;
  /* the 1 ms step (12% of GLOBAL, which moves by 1.2%) */
  experiment(0, 1.10, 1u << 0, ALL, &any, &exact);
  print_message("10%% slower 1 ms step: flagged alone in %d of %d pairs\n", exact, TRIALS);
  assert_true(exact >= 95);
  /* the smallest step, 50 us */
  experiment(3, 1.10, 1u << 3, ALL, &any, &exact);
  print_message("10%% slower 50 us step: flagged alone in %d of %d pairs\n", exact, TRIALS);
  assert_true(exact >= 95);
  /* the 5 ms step is 61% of GLOBAL: GLOBAL is about 6% slower, near the
   * threshold, and flagged in some pairs: only the steps are checked */
  experiment(2, 1.10, 1u << 2, ALL & ~(1u << STEPS), &any, &exact);
  print_message("10%% slower 5 ms step: flagged alone among the steps in %d of %d pairs\n", exact,
                TRIALS);
  assert_true(exact >= 95);
}

/* A clear 3% slowdown is significant for the test, but under the 5%
 * threshold it is not flagged; with a 2% threshold it is. */
static void test_threshold(void **state) {
  (void)state;
  rng_state = 99;
  static double a[ITERS], b[ITERS];
  for (size_t i = 0; i < ITERS; i++) {
    a[i] = 1e-3 * exp(0.02 * rng_normal());
    b[i] = 1.03e-3 * exp(0.02 * rng_normal());
  }
  const double *pa = a, *pb = b;
  size_t n = ITERS;
  pb_compare_params params = PB_COMPARE_DEFAULTS;
  pb_change c;
  assert_int_equal(pb_compare_samples(&pa, &n, &pb, &n, 1, &params, &c), PB_OK);
  assert_true(c.p_adjusted < 1e-10);
  assert_true(c.shift.rel > 0.02 && c.shift.rel < 0.04);
  assert_false(c.significant);
  params.threshold = 0.02;
  assert_int_equal(pb_compare_samples(&pa, &n, &pb, &n, 1, &params, &c), PB_OK);
  assert_true(c.significant);
  assert_int_equal(c.direction, 1);
  const pb_compare_params bad = {0.05, -1, 0.95};
  assert_int_equal(pb_compare_samples(&pa, &n, &pb, &n, 1, &bad, &c), PB_EINVAL);
  assert_int_equal(pb_compare_samples(NULL, NULL, NULL, NULL, 0, &bad, NULL), PB_EINVAL);
}

/* pb_compare_runs on the fixture runs: rows by impact, GLOBAL last among
 * the times, then the memory rows; the filter by name; bad arguments. */
static void test_compare_runs(void **state) {
  (void)state;
  pb_run *a = NULL, *b = NULL;
  assert_int_equal(pb_run_load(PB_FIXTURES "/compare/base", false, &a, NULL), PB_OK);
  assert_int_equal(pb_run_load(PB_FIXTURES "/compare/slow", false, &b, NULL), PB_OK);
  const pb_compare_params params = PB_COMPARE_DEFAULTS;
  pb_comparison *c = NULL;
  assert_int_equal(pb_compare_runs(a, b, NULL, 0, &params, false, &c), PB_OK);
  assert_int_equal(c->nbench, 1);
  const pb_compare_bench *cb = &c->bench[0];
  assert_string_equal(cb->name, "app");
  assert_int_equal(cb->iters_a, 40);
  assert_int_equal(cb->ntime, 5); /* load, compute, save, gstop, GLOBAL */
  assert_string_equal(cb->rows[0].name, "compute");
  assert_true(cb->rows[0].change.significant);
  assert_string_equal(cb->rows[cb->ntime - 1].name, "GLOBAL");
  const char *mem[] = {"peak", "heap", "rss_end", "heap_end"};
  assert_int_equal(cb->nrows, cb->ntime + 4);
  for (size_t i = 0; i < 4; i++) assert_string_equal(cb->rows[cb->ntime + i].name, mem[i]);
  assert_int_equal(cb->rows[cb->ntime + 2].kind, PB_COMPARE_MEMORY_END);
  assert_false(cb->rows[cb->ntime + 2].change.significant);
  assert_int_equal(c->ntested_time, 4); /* gstop: every value equal, no test */
  assert_int_equal(c->ntested_memory, 2);
  pb_comparison_free(c);
  const char *none[] = {"nothing"};
  assert_int_equal(pb_compare_runs(a, b, none, 1, &params, false, &c), PB_OK);
  assert_int_equal(c->nbench, 0);
  pb_comparison_free(c);
  assert_int_equal(pb_compare_runs(a, NULL, NULL, 0, &params, false, &c), PB_EINVAL);
  assert_null(c);
  pb_comparison_free(NULL);
  pb_run_free(a);
  pb_run_free(b);
}

/* pb_compare_sort_rows: significant, tested, missing, GLOBAL; by |shift| within. */
static void test_sort_rows(void **state) {
  (void)state;
  pb_compare_row r[5];
  memset(r, 0, sizeof r);
  const char *names[5] = {"GLOBAL", "gone", "small", "big_sig", "big"};
  const double shift[5] = {9.0, NAN, 0.1, 0.5, -0.7};
  for (int i = 0; i < 5; i++) {
    r[i].name = names[i];
    r[i].in_a = true;
    r[i].in_b = i != 1;
    r[i].change.shift.shift = shift[i];
  }
  r[3].change.significant = true;
  pb_compare_sort_rows(r, 5);
  const char *want[5] = {"big_sig", "big", "small", "gone", "GLOBAL"};
  for (int i = 0; i < 5; i++) assert_string_equal(r[i].name, want[i]);
  pb_compare_sort_rows(NULL, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hodges_lehmann_brute_force),
      cmocka_unit_test(test_sort_rows),
      cmocka_unit_test(test_exact_interval),
      cmocka_unit_test(test_exact_p_enumerated),
      cmocka_unit_test(test_exact_p_extreme),
      cmocka_unit_test(test_large_samples),
      cmocka_unit_test(test_shift_edges),
      cmocka_unit_test(test_holm),
      cmocka_unit_test(test_experiment_no_false_alarm),
      cmocka_unit_test(test_experiment_finds_slowdown),
      cmocka_unit_test(test_threshold),
      cmocka_unit_test(test_compare_runs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
