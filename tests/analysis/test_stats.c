/*
 * test_stats.c - the summary statistics against hand-computed values, the
 * numpy arithmetic (pairwise sums, linear percentiles) and the U test.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "porter_bench_analysis.h"

#define assert_close(a, b) \
  assert_true(fabs((double)(a) - (double)(b)) <= 1e-12 * fmax(1.0, fabs((double)(b))))

/* {1, 2, 3, 4, 100}: P25 2, P75 4, IQR 2, bounds [0, 7] -> filtered {1,2,3,4}. */
static void test_hand_computed(void **state) {
  (void)state;
  const double v[] = {3, 100, 1, 4, 2};
  pb_stats s;
  assert_int_equal(pb_stats_compute(v, 5, &s), PB_OK);
  assert_int_equal(s.count, 5);
  assert_close(s.mean, 22.0);
  assert_close(s.min, 1.0);
  assert_close(s.max, 100.0);
  assert_close(s.quantile_filtered, 2.5);
  assert_close(s.median, 3.0);
  assert_close(s.p90, 61.6);  /* index 3.6: 4 + 0.6 * 96 */
  assert_close(s.p99, 96.16); /* index 3.96: 4 + 0.96 * 96 */
  assert_close(s.stddev, sqrt(1522.0));
}

/* The demo fixture's topic "a": 1, 2, 3, 10 ms. */
static void test_demo_topic(void **state) {
  (void)state;
  const double v[] = {0.001, 0.002, 0.003, 0.010};
  pb_stats s;
  assert_int_equal(pb_stats_compute(v, 4, &s), PB_OK);
  assert_close(s.mean, 0.004);
  assert_close(s.quantile_filtered, 0.002); /* P75 4.75 ms + 1.5 x 3 ms < 10 ms */
  assert_close(s.median, 0.0025);
  assert_close(s.p90, 0.0079);
  assert_close(s.stddev, 0.0035355339059327377);
}

/* The zero rule: min is 0 when every value is 0 (and the lower bound never below 0). */
static void test_zero_rule(void **state) {
  (void)state;
  const double z[] = {0, 0, 0};
  pb_stats s;
  assert_int_equal(pb_stats_compute(z, 3, &s), PB_OK);
  assert_true(s.min == 0 && s.max == 0 && s.mean == 0 && s.quantile_filtered == 0);
  const double w[] = {0, 5, 5, 5, 5, 5};
  assert_int_equal(pb_stats_compute(w, 6, &s), PB_OK);
  assert_true(s.min == 0);
  /* P25 = P75 = 5: bounds [5, 5], the 0 is filtered out */
  assert_close(s.quantile_filtered, 5.0);
}

static void test_nan_and_empty(void **state) {
  (void)state;
  const double v[] = {NAN, 2, NAN, 4};
  pb_stats s;
  assert_int_equal(pb_stats_compute(v, 4, &s), PB_OK);
  assert_int_equal(s.count, 2);
  assert_close(s.mean, 3.0);
  assert_int_equal(pb_stats_compute(NULL, 0, &s), PB_OK);
  assert_int_equal(s.count, 0);
  assert_true(isnan(s.mean) && isnan(s.min) && isnan(s.quantile_filtered));
  assert_int_equal(pb_stats_compute(v, 4, NULL), PB_EINVAL);
  assert_int_equal(pb_stats_compute(NULL, 3, &s), PB_EINVAL);
}

/* numpy's pairwise summation: the rounding of the 8-accumulator scheme. */
static void test_pairwise_sum(void **state) {
  (void)state;
  double v[300];
  for (int i = 0; i < 300; i++) v[i] = 0.1 * (i % 7) + 1e-9 * i;
  /* reference: the same scheme written out for n = 20 (8 accumulators, then the rest) */
  double r[8];
  for (int j = 0; j < 8; j++) r[j] = v[j] + v[8 + j];
  double ref = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (int i = 16; i < 20; i++) ref += v[i];
  assert_true(pb_sum_pairwise(v, 20) == ref);
  /* below 8 values the sum is sequential */
  assert_true(pb_sum_pairwise(v, 5) == ((((v[0] + v[1]) + v[2]) + v[3]) + v[4]));
  /* above 128 the halves (split at a multiple of 8) are summed separately */
  assert_true(pb_sum_pairwise(v, 300) == pb_sum_pairwise(v, 144) + pb_sum_pairwise(v + 144, 156));
  const double ints[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  assert_true(pb_sum_pairwise(ints, 13) == 91.0);
}

static void test_percentile(void **state) {
  (void)state;
  const double v[] = {10, 20, 30, 40};
  assert_close(pb_percentile_sorted(v, 4, 0), 10);
  assert_close(pb_percentile_sorted(v, 4, 100), 40);
  assert_close(pb_percentile_sorted(v, 4, 50), 25);
  assert_close(pb_percentile_sorted(v, 4, 75), 32.5);
  assert_close(pb_percentile_sorted(v, 1, 75), 10);
  assert_true(isnan(pb_percentile_sorted(v, 0, 50)));
}

/* A large input with many equal values must sort fast and right. */
static void test_large_sorted_input(void **state) {
  (void)state;
  size_t n = 200000;
  double *v = malloc(n * sizeof *v);
  assert_non_null(v);
  for (size_t i = 0; i < n; i++) v[i] = (double)(i % 3); /* many ties */
  pb_stats s;
  assert_int_equal(pb_stats_compute(v, n, &s), PB_OK);
  assert_close(s.median, 1.0);
  for (size_t i = 0; i < n; i++) v[i] = (double)(n - i); /* descending */
  assert_int_equal(pb_stats_compute(v, n, &s), PB_OK);
  assert_close(s.min, 1.0);
  assert_close(s.max, (double)n);
  assert_close(s.median, (double)(n + 1) / 2);
  free(v);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One input of test_select_equals_sort: kind k, n values, from a fixed generator. */
static void fill_kind(double *v, size_t n, int k, uint64_t *rng) {
  for (size_t i = 0; i < n; i++) {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    double u = (double)(*rng >> 11) / 9007199254740992.0;
    switch (k) {
      case 0: v[i] = u; break;                                        /* uniform */
      case 1: v[i] = (double)(*rng % 7); break;                       /* few distinct, ties */
      case 2: v[i] = (double)i; break;                                /* ascending */
      case 3: v[i] = (double)(n - i); break;                          /* descending */
      case 4: v[i] = 0; break;                                        /* all zero */
      case 5: v[i] = u - 0.5; break;                                  /* negatives */
      case 6: v[i] = i % 97 == 13 ? 12 * u : 1e-3 * (0.9 + u); break; /* outliers */
      default: v[i] = (double)((i * 7919) % n); break;                /* a permutation */
    }
  }
}

/* The summary orders only the ranks its percentiles read (no full sort): every statistic
 * must be bit for bit the one computed from a fully sorted copy. */
static void test_select_equals_sort(void **state) {
  (void)state;
  static const size_t sizes[] = {1, 2, 3, 5, 24, 25, 63, 64, 65, 100, 101, 257, 1000, 4099, 100000};
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  double *v = malloc(100000 * sizeof *v), *w = malloc(100000 * sizeof *w);
  assert_non_null(v);
  assert_non_null(w);
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    for (int k = 0; k < 8; k++) {
      size_t n = sizes[si];
      fill_kind(v, n, k, &rng);
      pb_stats s;
      assert_int_equal(pb_stats_compute(v, n, &s), PB_OK);
      memcpy(w, v, n * sizeof *w);
      qsort(w, n, sizeof *w, cmp_dbl);
      bool nonzero = false;
      for (size_t i = 0; i < n; i++) nonzero |= w[i] != 0;
      double want[5] = {nonzero ? w[0] : 0, w[n - 1], pb_percentile_sorted(w, n, 50),
                        pb_percentile_sorted(w, n, 90), pb_percentile_sorted(w, n, 99)};
      double got[5] = {s.min, s.max, s.median, s.p90, s.p99};
      assert_memory_equal(got, want, sizeof want);
      /* the filtered mean keeps the values within 1.5 IQR (and >= 0) in input order */
      double p75 = pb_percentile_sorted(w, n, 75), p25 = pb_percentile_sorted(w, n, 25);
      double hi = p75 + (p75 - p25) * 1.5, lo = fmax(p25 - (p75 - p25) * 1.5, 0);
      size_t kept = 0;
      for (size_t i = 0; i < n; i++)
        if (v[i] <= hi && v[i] >= lo) w[kept++] = v[i];
      double qf = kept ? pb_sum_pairwise(w, kept) / (double)kept : NAN;
      assert_memory_equal(&s.quantile_filtered, &qf, sizeof qf);
      /* numpy's mean and standard deviation: pairwise sums in input order */
      double mean = pb_sum_pairwise(v, n) / (double)n;
      for (size_t i = 0; i < n; i++) w[i] = (v[i] - mean) * (v[i] - mean);
      double sd = sqrt(pb_sum_pairwise(w, n) / (double)n);
      assert_memory_equal(&s.mean, &mean, sizeof mean);
      assert_memory_equal(&s.stddev, &sd, sizeof sd);
    }
  }
  free(v);
  free(w);
}

static void test_utest(void **state) {
  (void)state;
  double a[12], b[12];
  for (int i = 0; i < 12; i++) {
    a[i] = 1.0 + 0.01 * i;
    b[i] = 2.0 + 0.01 * i;
  }
  pb_utest u;
  assert_int_equal(pb_utest_compute(a, 12, b, 12, &u), PB_OK);
  assert_false(u.too_few);
  assert_close(u.u, 0.0); /* every a below every b */
  assert_true(u.p_value < 0.001);
  assert_int_equal(pb_utest_compute(a, 12, a, 12, &u), PB_OK);
  assert_close(u.u, 72.0);
  assert_true(u.p_value > 0.9);
  assert_int_equal(pb_utest_compute(a, 3, b, 3, &u), PB_OK);
  assert_true(u.too_few);
  const double same[] = {1, 1, 1};
  assert_int_equal(pb_utest_compute(same, 3, same, 3, &u), PB_OK);
  assert_true(isnan(u.p_value)); /* all tied: no variance */
}

static void test_topic_is_probe(void **state) {
  (void)state;
  assert_true(pb_topic_is_probe("gstep_memory"));
  assert_true(pb_topic_is_probe("gstop_memory"));
  assert_true(pb_topic_is_probe("load_MEMORY_STEP"));
  assert_false(pb_topic_is_probe("_MEMORY_STEP"));
  assert_false(pb_topic_is_probe("GLOBAL"));
  assert_false(pb_topic_is_probe("gstep"));
  assert_false(pb_topic_is_probe("load_MEMORY_STEPS"));
  assert_false(pb_topic_is_probe("gstep_memory2"));
  assert_false(pb_topic_is_probe(NULL));
}

static void test_format_seconds(void **state) {
  (void)state;
  char buf[32];
  pb_format_seconds(0.0123, buf, sizeof buf);
  assert_string_equal(buf, "12.3 ms");
  pb_format_seconds(0.000875, buf, sizeof buf);
  assert_string_equal(buf, "875 \xc2\xb5s");
  pb_format_seconds(1.2, buf, sizeof buf);
  assert_string_equal(buf, "1.20 s");
  pb_format_seconds(4.2e-8, buf, sizeof buf);
  assert_string_equal(buf, "42.0 ns");
  pb_format_seconds(0.000999996, buf, sizeof buf); /* rounds up into the next unit */
  assert_string_equal(buf, "1.00 ms");
  pb_format_seconds(999.7e-9, buf, sizeof buf);
  assert_string_equal(buf, "1.00 \xc2\xb5s");
  pb_format_seconds(0.9996, buf, sizeof buf);
  assert_string_equal(buf, "1.00 s");
  pb_format_seconds(NAN, buf, sizeof buf);
  assert_string_equal(buf, "-");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_computed),  cmocka_unit_test(test_topic_is_probe),
      cmocka_unit_test(test_demo_topic),     cmocka_unit_test(test_zero_rule),
      cmocka_unit_test(test_nan_and_empty),  cmocka_unit_test(test_pairwise_sum),
      cmocka_unit_test(test_percentile),     cmocka_unit_test(test_large_sorted_input),
      cmocka_unit_test(test_utest),          cmocka_unit_test(test_select_equals_sort),
      cmocka_unit_test(test_format_seconds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
