/*
 * test_compare_ranks.c - the comparison of two multi-rank runs
 * (src/cli/compare_ranks.c): the fixture job against a balanced job written
 * here, and a job against itself.
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

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

/* The output of pb_cli_compare_ranks(a, b) (malloc'd). */
static char *compare(const pb_run *a, const pb_run *b) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  assert_int_equal(pb_cli_compare_ranks(f, a, b, "A", "B"), PB_OK);
  fclose(f);
  fputs(text, stderr);
  return text;
}

/* The line of text starting "  <topic> " (copied into buf). */
static const char *line_of(const char *text, const char *topic, char *buf, size_t n) {
  char key[64];
  snprintf(key, sizeof key, "\n  %s ", topic);
  const char *p = strstr(text, key);
  if (!p) fail_msg("no line for '%s'", topic);
  p += 1;
  size_t len = strcspn(p, "\n");
  snprintf(buf, n, "%.*s", (int)len, p);
  return buf;
}

static void test_against_balanced(void **state) {
  (void)state;
  for (int r = 0; r < 4; r++) write_rank(r, 3, 0.012);
  char path[320];
  snprintf(path, sizeof path, "%s/job-b", root);
  pb_run *a = load(PB_FIXTURES "/multirank_root/TICTOC_PERFORMANCE/job-4242.0");
  pb_run *b = load(path);
  char *text = compare(a, b);
  assert_non_null(strstr(text, "train: A (4 ranks) -> B (4 ranks)"));
  char line[512];
  line_of(text, "compute", line, sizeof line);
  assert_non_null(strstr(line, "17.0 ms")); /* mean of 12, 11, 13 and 32 ms */
  assert_non_null(strstr(line, "12.0 ms"));
  assert_non_null(strstr(line, "-29.4%"));
  assert_non_null(strstr(line, "1.88->1.00"));
  assert_non_null(strstr(line, "3->0"));
  line_of(text, "exchange", line, sizeof line);
  assert_non_null(strstr(line, "absent"));
  assert_non_null(strstr(line, "topic missing in the new run"));
  free(text);
  /* a run against itself: no change, p = 1 */
  text = compare(a, a);
  line_of(text, "compute", line, sizeof line);
  assert_non_null(strstr(line, "+0.0%"));
  assert_non_null(strstr(line, "1.0000"));
  assert_non_null(strstr(line, "no significant change"));
  free(text);
  assert_int_equal(pb_cli_compare_ranks(stderr, a, NULL, "A", "B"), PB_EINVAL);
  pb_run_free(b);
  pb_run_free(a);
}

int main(void) {
  if (!mkdtemp(root)) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_balanced)};
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) failed++;
  return failed;
}
