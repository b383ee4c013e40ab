/*
 * test_autosave.c - auto-save of a large run: a journal continues the full
 * files line by line, every line and file parses, together they hold each
 * closed iteration exactly once, and an explicit save folds the journal back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

enum { N_ITER = 5000, EVERY = 100 };

/* Checks that the STEP_NUMBERs of a JSON array of iterations continue at *next. */
static void check_steps_array(json_t *list, size_t *next) {
  assert_true(json_is_array(list));
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *info = json_object_get(json_array_get(list, i), "info");
    assert_int_equal(json_integer_value(json_object_get(info, "STEP_NUMBER")), *next);
    assert_true(json_real_value(json_object_get(info, "STOP_TIME")) > 0); /* closed */
    (*next)++;
  }
}

static void check_steps(const char *path, size_t *next) {
  json_t *list = th_load_json(path);
  assert_non_null(list);
  check_steps_array(list, next);
  json_decref(list);
}

/* Each line of the journal: one complete JSON array, ending with a newline. */
static size_t check_journal(const char *path, size_t *next) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char line[1 << 20];
  size_t lines = 0;
  while (fgets(line, sizeof line, f)) {
    size_t len = strlen(line);
    assert_true(len > 1 && line[len - 1] == '\n');
    json_error_t err;
    json_t *list = json_loadb(line, len, 0, &err);
    if (!list) fprintf(stderr, "%s:%zu: %s\n", path, lines + 1, err.text);
    assert_non_null(list);
    check_steps_array(list, next);
    json_decref(list);
    lines++;
  }
  fclose(f);
  return lines;
}

static void test_journal_continues_full_files(void **state) {
  (void)state;
  char *dir = th_mkdtemp("autosave");
  char *prefix = th_strf("%s/r", dir);
  pb_bench *b;
  assert_int_equal(pb_bench_create(prefix, &b), PB_OK);
  pb_set_save_on_gstop(b, EVERY);
  for (int i = 0; i < N_ITER; i++) {
    assert_int_equal(pb_gstep(b), PB_OK);
    pb_step(b, "a");
    pb_step(b, "b");
  }
  assert_int_equal(pb_gstop(b), PB_OK); /* the 5000th close saves too */

  /* Over 8192 time records: the later auto-saves appended to the journal. */
  char *main_file = th_strf("%s%s", prefix, PB_SUFFIX_DATA);
  char *journal = th_strf("%s_STEP_DICT_DATA.journal", prefix);
  assert_true(th_is_file(journal));
  size_t next = 0;
  check_steps(main_file, &next);
  assert_true(next > 0 && next < N_ITER);
  size_t lines = check_journal(journal, &next);
  assert_true(lines > 1);
  assert_int_equal(next, N_ITER);

  /* An explicit save writes the full files and removes the journal. */
  assert_int_equal(pb_save(b), PB_OK);
  assert_false(th_exists(journal));
  next = 0;
  check_steps(main_file, &next);
  assert_int_equal(next, N_ITER);
  free(main_file);
  free(journal);
  assert_int_equal(pb_bench_destroy(b), PB_OK);
  free(prefix);
  th_rmtree(dir);
  free(dir);
}

static void test_small_runs_rewrite_full_files(void **state) {
  (void)state;
  char *dir = th_mkdtemp("autosave-small");
  char *prefix = th_strf("%s/s", dir);
  pb_bench *b;
  assert_int_equal(pb_bench_create(prefix, &b), PB_OK);
  pb_set_save_on_gstop(b, 10);
  for (int i = 0; i < 300; i++) {
    pb_gstep(b);
    pb_step(b, "a");
  }
  pb_gstop(b);
  char *journal = th_strf("%s_STEP_DICT_DATA.journal", prefix);
  assert_false(th_exists(journal));
  size_t next = 0;
  char *main_file = th_strf("%s%s", prefix, PB_SUFFIX_DATA);
  check_steps(main_file, &next);
  assert_int_equal(next, 300);
  free(main_file);
  free(journal);
  pb_bench_destroy(b);
  free(prefix);
  th_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_journal_continues_full_files),
      cmocka_unit_test(test_small_runs_rewrite_full_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
