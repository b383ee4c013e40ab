/*
 * test_compare_cli.c - "porter-bench compare" end to end on the seeded runs
 * of fixtures/compare (make_compare_fixtures.py): the JSON output parsed
 * with jansson, the gate's exit codes, probe rows, and the table's width.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

/* Runs the CLI with args from the fixtures folder; returns its exit code
 * and its stdout in *out (malloc'ed). stderr is dropped; tables laid out for
 * 80 columns (COLUMNS=80: a terminal width in the environment would widen them). */
static int run_cli(const char *args, char **out) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && LC_ALL=C COLUMNS=80 '%s' compare --no-charts --no-latest %s 2>/dev/null",
           PB_FIXTURES, PB_CLI, args);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  size_t k;
  while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
    n += k;
    if (n + 1 == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
  }
  buf[n] = 0;
  int st = pclose(p);
  assert_true(WIFEXITED(st));
  *out = buf;
  return WEXITSTATUS(st);
}

static json_t *run_json(const char *args, int *rc) {
  char *out;
  *rc = run_cli(args, &out);
  json_error_t err;
  json_t *j = json_loads(out, 0, &err);
  if (!j) fprintf(stderr, "not JSON (%s): %s\n", err.text, out);
  assert_non_null(j);
  free(out);
  return j;
}

/* The rows of the first benchmarker of the first comparison. */
static json_t *first_rows(json_t *j) {
  json_t *c = json_array_get(json_object_get(j, "comparisons"), 0);
  json_t *b = json_array_get(json_object_get(c, "benchmarkers"), 0);
  assert_non_null(b);
  return json_object_get(b, "rows");
}

static json_t *find_row(json_t *rows, const char *name) {
  size_t i;
  json_t *r;
  json_array_foreach(rows, i, r) {
    if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0) return r;
  }
  return NULL;
}

static double num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

static const char *str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  assert_non_null(s);
  return s;
}

/* A 25% slower step: flagged, within its interval, and the gate fails (3). */
static void test_json_slower(void **state) {
  (void)state;
  int rc;
  json_t *j = run_json(
      "--json --label before --label after --fail-if-slower 10 compare/base "
      "compare/slow",
      &rc);
  assert_int_equal(rc, 3);
  assert_string_equal(str(json_array_get(json_object_get(j, "runs"), 1), "label"), "after");
  assert_true(num(j, "fail_if_slower") == 0.1);
  json_t *rows = first_rows(j);
  json_t *c = find_row(rows, "compute");
  assert_non_null(c);
  assert_string_equal(str(c, "verdict"), "slower");
  assert_true(json_is_true(json_object_get(c, "significant")));
  double change = num(c, "change"), shift = num(c, "shift");
  assert_true(change > 0.15 && change < 0.35);
  json_t *ci = json_object_get(c, "shift_ci");
  assert_true(json_number_value(json_array_get(ci, 0)) < shift);
  assert_true(json_number_value(json_array_get(ci, 1)) > shift);
  assert_true(num(c, "p_holm") < 1e-6);
  /* the change is the shift over the baseline's median */
  assert_true(fabs(change - shift / num(c, "baseline")) < 1e-12);
  /* the other steps are not flagged; the first row is the flagged one */
  assert_string_equal(str(json_array_get(rows, 0), "name"), "compute");
  assert_string_equal(str(find_row(rows, "load"), "verdict"), "none");
  assert_string_equal(str(find_row(rows, "save"), "verdict"), "none");
  /* memory rows: tested per iteration, plain values at the end */
  assert_string_equal(str(find_row(rows, "peak"), "kind"), "memory");
  assert_string_equal(str(find_row(rows, "rss_end"), "verdict"), "untested");
  assert_true(json_is_null(json_object_get(find_row(rows, "rss_end"), "p_value")));
  json_t *reg = json_object_get(j, "regressions");
  assert_int_equal(json_array_size(reg), 2); /* compute and GLOBAL */
  assert_string_equal(str(json_array_get(reg, 0), "topic"), "compute");
  json_decref(j);
}

/* Holm's adjusted p is never below the raw p, and a rerun flags nothing. */
static void test_json_rerun(void **state) {
  (void)state;
  int rc;
  json_t *j = run_json("--json --fail-if-slower 1 compare/base compare/rerun", &rc);
  assert_int_equal(rc, 0);
  json_t *rows = first_rows(j), *r;
  size_t i, tested = 0;
  json_array_foreach(rows, i, r) {
    assert_false(json_is_true(json_object_get(r, "significant")));
    if (json_is_number(json_object_get(r, "p_holm"))) {
      assert_true(num(r, "p_holm") >= num(r, "p_value"));
      tested++;
    }
  }
  json_t *c = json_array_get(json_object_get(j, "comparisons"), 0);
  assert_int_equal(tested, (size_t)json_integer_value(json_object_get(c, "tested_time")) +
                               (size_t)json_integer_value(json_object_get(c, "tested_memory")));
  assert_int_equal(json_array_size(json_object_get(j, "regressions")), 0);
  json_decref(j);
}

/* Gate exit codes: only a significant slowdown beyond the limit fails. */
static void test_gate_codes(void **state) {
  (void)state;
  char *out;
  assert_int_equal(run_cli("--fail-if-slower 10 compare/base compare/slow", &out), 3);
  free(out);
  assert_int_equal(run_cli("--fail-if-slower 30 compare/base compare/slow", &out), 0);
  free(out);
  assert_int_equal(run_cli("compare/base compare/slow", &out), 0); /* no gate */
  free(out);
  assert_int_equal(run_cli("--fail-if-slower 10 compare/slow compare/base", &out), 0); /* faster */
  free(out);
  /* a 25% change under a 30% threshold is not significant: the gate stays quiet */
  assert_int_equal(run_cli("--threshold 30 --fail-if-slower 10 compare/base compare/slow", &out),
                   0);
  free(out);
  assert_int_equal(run_cli("--fail-if-slower 0 bad_run bad_run", &out), 1); /* bad data wins */
  free(out);
  assert_int_equal(run_cli("--fail-if-slower ten compare/base compare/slow", &out), 2);
  free(out);
  assert_int_equal(run_cli("--label one compare/base compare/slow", &out), 2);
  free(out);
}

/* Probe topics are hidden unless --show-probes. */
static void test_probes(void **state) {
  (void)state;
  int rc;
  json_t *j = run_json("--json samples compare/../samples --topics memory", &rc);
  assert_int_equal(rc, 0);
  assert_null(find_row(first_rows(j), "gstep_memory"));
  assert_non_null(find_row(first_rows(j), "allocate"));
  json_decref(j);
  j = run_json("--json --show-probes samples compare/../samples --topics memory", &rc);
  assert_int_equal(rc, 0);
  json_t *r = find_row(first_rows(j), "gstep_memory");
  assert_non_null(r);
  assert_true(json_is_true(json_object_get(r, "probe")));
  json_decref(j);
}

/* Every line of the tables fits 80 columns; no p-value prints as 0.0000. */
static void test_table_width(void **state) {
  (void)state;
  const char *cases[] = {"compare/base compare/slow", "compare/base compare/other",
                         "--show-probes samples compare/../samples",
                         "--label a-rather-long-label --label b compare/base compare/slow",
                         "compare/base compare/much_slower"};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char *out;
    run_cli(cases[c], &out);
    assert_null(strstr(out, "0.0000 "));
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
      if (strncmp(line, "run ", 4) == 0) continue; /* "run 1: label = path" */
      int w = 0;
      for (const char *s = line; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
      if (w > 80) fprintf(stderr, "too wide (%d): %s\n", w, line);
      assert_true(w <= 80);
    }
    free(out);
  }
}

/* Two multi-rank jobs (fixtures/compare_ranks): the pooled comparison, the
 * per-rank extras and the gate, in JSON. */
static void test_json_ranks(void **state) {
  (void)state;
  int rc;
  json_t *j = run_json(
      "--json --fail-if-slower 10 compare_ranks/base/job-100 "
      "compare_ranks/slow/job-102",
      &rc);
  assert_int_equal(rc, 3);
  json_t *c = json_array_get(json_object_get(j, "comparisons"), 0);
  assert_int_equal(json_integer_value(json_object_get(c, "tested_time")), 3);
  assert_int_equal(json_integer_value(json_object_get(c, "tested_memory")), 0);
  json_t *b = json_array_get(json_object_get(c, "benchmarkers"), 0);
  assert_string_equal(str(b, "name"), "train");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(b, "ranks"), 0)), 4);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(b, "iterations"), 1)), 60);
  json_t *rows = json_object_get(b, "rows");
  assert_int_equal(json_array_size(rows), 3);
  json_t *compute = find_row(rows, "compute"), *exchange = find_row(rows, "exchange");
  assert_non_null(compute);
  assert_non_null(exchange);
  /* every rank's 15 iterations pooled: 60 a side; compute 25% slower by construction */
  assert_int_equal(json_integer_value(json_array_get(json_object_get(compute, "n"), 0)), 60);
  assert_string_equal(str(compute, "verdict"), "slower");
  assert_true(num(compute, "change") > 0.15 && num(compute, "change") < 0.35);
  assert_true(num(compute, "p_holm") < 0.05);
  assert_string_equal(str(exchange, "verdict"), "none");
  /* the slowest rank moves from 3 to 1; rank 3 computes 30% slower: max/mean above 1.1 */
  json_t *slowest = json_object_get(compute, "slowest_rank");
  assert_int_equal((int)json_number_value(json_array_get(slowest, 0)), 3);
  assert_int_equal((int)json_number_value(json_array_get(slowest, 1)), 1);
  assert_true(json_number_value(json_array_get(json_object_get(compute, "max_mean"), 0)) > 1.1);
  json_t *reg = json_object_get(j, "regressions");
  assert_int_equal(json_array_size(reg), 2); /* compute and GLOBAL */
  json_decref(j);
  /* the same job twice: nothing significant, the gate passes */
  j = run_json("--json --fail-if-slower 10 compare_ranks/base/job-100 compare_ranks/base/job-100",
               &rc);
  assert_int_equal(rc, 0);
  compute = find_row(first_rows(j), "compute");
  assert_true(fabs(num(compute, "shift")) < 1e-12);
  assert_string_equal(str(compute, "verdict"), "none");
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_slower), cmocka_unit_test(test_json_rerun),
      cmocka_unit_test(test_gate_codes),  cmocka_unit_test(test_probes),
      cmocka_unit_test(test_table_width), cmocka_unit_test(test_json_ranks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
