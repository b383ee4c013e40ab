/*
 * test_compare_ranks.c - the comparison of two multi-rank runs
 * (src/cli/compare_ranks.c): every rank's iterations pooled and compared as
 * compare does (median shift, Holm); the fixture job against a balanced job
 * written here, a job against itself, the per-rank extras, the errors.
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* |a - b| <= eps, with both values in the message on failure */
#define assert_near(a, b, eps)                                                         \
  do {                                                                                 \
    double a_ = (a), b_ = (b);                                                         \
    if (!(fabs(a_ - b_) <= (eps))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_); \
  } while (0)

static char root[] = "/tmp/pbtest-cmpranks.XXXXXX";

/* A rank folder whose benchmarker "train" has iters iterations of compute = v. */
static void write_rank(int rank, int iters, double v) {
  char dir[256], file[320];
  snprintf(dir, sizeof dir, "%s/job-b/rank-%05d", root, rank);
  char job[256];
  snprintf(job, sizeof job, "%s/job-b", root);
  mkdir(job, 0777);
  assert_int_equal(mkdir(dir, 0777), 0);
  snprintf(file, sizeof file, "%s/train_STEP_DICT_DATA.json", dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputc('[', f);
  for (int i = 0; i < iters; i++)
    fprintf(f,
            "%s{\"absolutes\":{\"compute\":%.9f,\"GLOBAL\":%.9f},\"info\":{\"STEP_NUMBER\":%d,"
            "\"START_TIME\":1.0,\"STOP_TIME\":2.0},\"individual_calls\":{\"compute\":[{\"time\":"
            "%.9f,\"crono_counter\":0,\"extra\":null}],\"GLOBAL\":[{\"time\":%.9f,"
            "\"crono_counter\":1}]}}",
            i ? "," : "", v, v, i, v, v);
  fputs("]\n", f);
  assert_int_equal(fclose(f), 0);
}

static pb_run *load(const char *path) {
  pb_run *run = NULL;
  pb_error err;
  if (pb_run_load(path, false, &run, &err) != PB_OK) fail_msg("%s: %s", path, err.message);
  return run;
}

/* The comparison of b against a with the defaults (names: all). */
static pb_comparison *compare(const pb_run *a, const pb_run *b, const char *const *names,
                              size_t n) {
  pb_compare_params params = PB_COMPARE_DEFAULTS;
  pb_comparison *c = NULL;
  assert_int_equal(pb_cli_compare_ranks(a, b, names, n, &params, false, &c), PB_OK);
  assert_non_null(c);
  return c;
}

static const pb_compare_row *row_of(const pb_compare_bench *cb, const char *topic) {
  for (size_t r = 0; r < cb->nrows; r++)
    if (strcmp(cb->rows[r].name, topic) == 0) return &cb->rows[r];
  fail_msg("no row for '%s'", topic);
  return NULL;
}

/* The per-rank extras as printed (malloc'd); checks that no line is wider than 80. */
static char *extras(const pb_run *a, const pb_run *b, const pb_compare_bench *cb) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  assert_int_equal(pb_cli_print_rank_extras(f, a, b, cb, 14), PB_OK);
  fclose(f);
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    assert_true(n <= 80);
    p += n + (p[n] == '\n');
  }
  return text;
}

/* The fixture job (compute per rank, ms: 10 12 14 | 11 11 11 | 13 13 13 |
 * 30 32 34; rank 2 without "exchange") against a balanced job (12 ms). */
static void test_against_balanced(void **state) {
  (void)state;
  for (int r = 0; r < 4; r++) write_rank(r, 3, 0.012);
  char path[320];
  snprintf(path, sizeof path, "%s/job-b", root);
  pb_run *a = load(PB_FIXTURES "/multirank_root/TICTOC_PERFORMANCE/job-4242.0");
  pb_run *b = load(path);
  pb_comparison *c = compare(a, b, NULL, 0);
  assert_int_equal(c->nbench, 1);
  const pb_compare_bench *cb = &c->bench[0];
  assert_string_equal(cb->name, "train");
  assert_int_equal(cb->iters_a, 12);
  assert_int_equal(cb->iters_b, 12);
  assert_int_equal(cb->nrows, 3);
  assert_int_equal(cb->ntime, 3);
  assert_int_equal(c->ntested_time, 2); /* compute and GLOBAL: exchange is not in b */
  assert_string_equal(cb->rows[2].name, "GLOBAL");
  /* pooled, not averaged: the median of the 12 baseline values is 13 ms (the
   * mean of the per-rank means, 17 ms, would say -29%); the median of the
   * 144 differences 12 - a_i is -1 ms */
  const pb_compare_row *compute = row_of(cb, "compute");
  assert_int_equal(compute->change.shift.n_a, 12);
  assert_int_equal(compute->change.shift.n_b, 12);
  assert_near(compute->change.shift.median_a, 0.013, 1e-12);
  assert_near(compute->change.shift.median_b, 0.012, 1e-12);
  assert_near(compute->change.shift.shift, -0.001, 1e-12);
  assert_near(compute->change.shift.rel, -0.001 / 0.013, 1e-9);
  /* Holm over the two tested topics: p <= adjusted <= 2 p */
  double p = compute->change.shift.p_value, adj = compute->change.p_adjusted;
  assert_true(adj >= p && adj <= 2 * p + 1e-12);
  const pb_compare_row *exchange = row_of(cb, "exchange");
  assert_true(exchange->in_a && !exchange->in_b);
  assert_int_equal(exchange->change.shift.n_a, 9); /* rank 2 has none */
  assert_near(exchange->change.shift.median_a, 0.002, 1e-12);
  assert_true(isnan(exchange->change.p_adjusted));
  assert_false(exchange->change.significant);
  char *text = extras(a, b, cb);
  fputs(text, stderr);
  assert_non_null(strstr(text, "1.88 -> 1.00")); /* 32 / 17 ms, then balanced */
  assert_non_null(strstr(text, "3 -> 0"));
  assert_non_null(strstr(text, "1.00 -> -")); /* exchange: none in b */
  free(text);
  pb_comparison_free(c);
  pb_run_free(b);
  pb_run_free(a);
}

/* A job against itself: no shift, nothing significant; the names filter; errors. */
static void test_self_and_errors(void **state) {
  (void)state;
  pb_run *a = load(PB_FIXTURES "/multirank_root/TICTOC_PERFORMANCE/job-4242.0");
  pb_comparison *c = compare(a, a, NULL, 0);
  for (size_t r = 0; r < c->bench[0].nrows; r++) {
    const pb_change *ch = &c->bench[0].rows[r].change;
    assert_near(ch->shift.shift, 0, 0);
    assert_int_equal(ch->direction, 0);
    assert_false(ch->significant);
    /* exchange is 2 ms everywhere: all ties, no test (NAN) */
    assert_true(ch->p_adjusted > 0.9 || isnan(ch->p_adjusted));
  }
  assert_true(row_of(&c->bench[0], "compute")->change.p_adjusted > 0.9);
  pb_comparison_free(c);
  const char *nosuch[] = {"nosuch"}, *train[] = {"train"};
  c = compare(a, a, nosuch, 1);
  assert_int_equal(c->nbench, 0);
  pb_comparison_free(c);
  c = compare(a, a, train, 1);
  assert_int_equal(c->nbench, 1);
  pb_comparison_free(c);
  pb_compare_params params = PB_COMPARE_DEFAULTS;
  pb_run *one = load(PB_FIXTURES "/multirank_root/TICTOC_PERFORMANCE/job-4242.0/rank-00000");
  c = (pb_comparison *)1;
  assert_int_equal(pb_cli_compare_ranks(a, one, NULL, 0, &params, false, &c), PB_EINVAL);
  assert_null(c);
  assert_int_equal(pb_cli_compare_ranks(a, a, NULL, 0, NULL, false, &c), PB_EINVAL);
  assert_int_equal(pb_cli_compare_ranks(a, a, NULL, 0, &params, false, NULL), PB_EINVAL);
  pb_run_free(one);
  pb_run_free(a);
}

int main(void) {
  if (!mkdtemp(root)) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_balanced),
                                     cmocka_unit_test(test_self_and_errors)};
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) failed++;
  return failed;
}
