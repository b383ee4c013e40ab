/*
 * test_autosave.c - auto-save of a large run: part files continue the full
 * ones, every file parses at every save, together they hold each closed
 * iteration exactly once, and an explicit save folds the parts back in.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

enum { N_ITER = 5000, EVERY = 100 };

/* Sorted names of the part files of kind (e.g. "_STEP_DICT_DATA.part-") in dir. */
static size_t list_parts(const char *dir, const char *kind, char names[][256], size_t cap) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strstr(e->d_name, kind) && n < cap) snprintf(names[n++], 256, "%s", e->d_name);
  }
  closedir(d);
  qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
  return n;
}

/* Appends the STEP_NUMBERs of a DATA (or part) file to seen[], checking each is next. */
static void check_steps(const char *path, size_t *next) {
  json_t *list = th_load_json(path);
  assert_non_null(list);
  assert_true(json_is_array(list));
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *info = json_object_get(json_array_get(list, i), "info");
    assert_int_equal(json_integer_value(json_object_get(info, "STEP_NUMBER")), *next);
    assert_true(json_real_value(json_object_get(info, "STOP_TIME")) > 0); /* closed */
    (*next)++;
  }
  json_decref(list);
}

static void test_parts_continue_full_files(void **state) {
  (void)state;
  char *dir = th_mkdtemp("autosave");
  char *prefix = th_strf("%s/r", dir);
  pb_bench *b;
  assert_int_equal(pb_bench_create(prefix, &b), PB_OK);
  pb_set_save_on_gstop(b, EVERY);
  static char names[N_ITER / EVERY + 8][256];
  for (int i = 0; i < N_ITER; i++) {
    assert_int_equal(pb_gstep(b), PB_OK);
    pb_step(b, "a");
    pb_step(b, "b");
  }
  assert_int_equal(pb_gstop(b), PB_OK); /* the 5000th close saves too */

  /* Over 8192 time records: the later auto-saves wrote parts. */
  size_t nparts = list_parts(dir, "_STEP_DICT_DATA.part-", names, N_ITER / EVERY + 8);
  assert_true(nparts > 0);
  size_t next = 0;
  char *main_file = th_strf("%s%s", prefix, PB_SUFFIX_DATA);
  check_steps(main_file, &next);
  size_t in_main = next;
  assert_true(in_main > 0 && in_main < N_ITER);
  for (size_t k = 0; k < nparts; k++) {
    char *part = th_strf("%s/%s", dir, names[k]);
    size_t first = strtoul(strstr(names[k], ".part-") + 6, NULL, 10);
    assert_int_equal(first, next); /* each part starts where the files before end */
    check_steps(part, &next);
    free(part);
  }
  assert_int_equal(next, N_ITER);

  /* An explicit save writes the full files and removes the parts. */
  assert_int_equal(pb_save(b), PB_OK);
  assert_int_equal(list_parts(dir, ".part-", names, N_ITER / EVERY + 8), 0);
  next = 0;
  check_steps(main_file, &next);
  assert_int_equal(next, N_ITER);
  free(main_file);
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
  static char names[8][256];
  for (int i = 0; i < 300; i++) {
    pb_gstep(b);
    pb_step(b, "a");
  }
  pb_gstop(b);
  assert_int_equal(list_parts(dir, ".part-", names, 8), 0);
  size_t next = 0;
  char *main_file = th_strf("%s%s", prefix, PB_SUFFIX_DATA);
  check_steps(main_file, &next);
  assert_int_equal(next, 300);
  free(main_file);
  pb_bench_destroy(b);
  free(prefix);
  th_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parts_continue_full_files),
      cmocka_unit_test(test_small_runs_rewrite_full_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
