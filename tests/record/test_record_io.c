/*
 * test_record_io.c - the record files: names, key order as in the original's
 * samples, escaping, replacement on save, and I/O errors.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fixture {
  char *dir;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  f->dir = th_mkdtemp("io");
  *state = f;
  return f->dir != NULL ? 0 : -1;
}

static int teardown(void **state) {
  fixture *f = *state;
  th_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

static pb_bench *make(fixture *f, const char *rel) {
  char *p = th_strf("%s/%s", f->dir, rel);
  pb_bench *b = NULL;
  TH_ASSERT_OK(pb_bench_create(p, &b));
  free(p);
  return b;
}

static void test_file_names(void **state) {
  fixture *f = *state;
  pb_bench *b = make(f, "sub/dir/name");
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  const char *suffixes[] = {"_STEP_DICT_DATA.json", "_STEP_DICT_SUMMARY.json", "_MEMORY.json"};
  assert_string_equal(PB_SUFFIX_DATA, suffixes[0]);
  assert_string_equal(PB_SUFFIX_SUMMARY, suffixes[1]);
  assert_string_equal(PB_SUFFIX_MEMORY, suffixes[2]);
  for (int i = 0; i < 3; i++) {
    char *p = th_strf("%s/sub/dir/name%s", f->dir, suffixes[i]);
    if (!th_is_file(p)) fail_msg("missing %s", p);
    json_t *j = th_load_json(p);
    assert_non_null(j);
    json_decref(j);
    free(p);
  }
  char *sub = th_strf("%s/sub/dir", f->dir);
  size_t bad = 0;
  assert_int_equal(th_count_files(sub, &bad), 3);
  assert_int_equal(bad, 0);
  free(sub);
  pb_bench_destroy(b);
}

/* Key order of every object, as in the samples of the original. */
static void test_key_order(void **state) {
  fixture *f = *state;
  pb_bench *b = make(f, "order");
  TH_ASSERT_OK(pb_enable_memory_tracking(b, true));
  for (int i = 0; i < 3; i++) {
    TH_ASSERT_OK(pb_gstep(b));
    TH_ASSERT_OK(pb_step(b, "forward"));
    TH_ASSERT_OK(pb_step(b, "backward"));
  }
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));

  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  assert_true(json_is_array(data));
  assert_int_equal(json_array_size(data), 3);
  for (size_t i = 0; i < 3; i++) {
    json_t *it = json_array_get(data, i);
    th_assert_keys(it, (const char *const[]){"absolutes", "info", "individual_calls", NULL});
    th_assert_keys(json_object_get(it, "info"),
                   (const char *const[]){"STEP_NUMBER", "START_TIME", "STOP_TIME", NULL});
    const char *last = th_key_at(json_object_get(it, "individual_calls"),
                                 json_object_size(json_object_get(it, "individual_calls")) - 1);
    assert_string_equal(last, "GLOBAL");
  }
  json_t *summary = th_must_load(b, PB_SUFFIX_SUMMARY);
  assert_true(json_is_object(summary));
  const char *k;
  json_t *v;
  size_t idx = 0;
  json_object_foreach(summary, k, v) {
    th_assert_keys(v, (const char *const[]){"mean", "min", "max", "quantile_filtered", NULL});
    if (idx == json_object_size(summary) - 1) assert_string_equal(k, "GLOBAL");
    idx++;
  }
  json_t *mem = th_must_load(b, PB_SUFFIX_MEMORY);
  assert_int_equal(json_array_size(mem), 3);
  for (size_t i = 0; i < 3; i++) {
    json_t *m = json_array_get(mem, i);
    th_assert_keys(m, (const char *const[]){"info", "data", NULL});
    th_assert_keys(json_object_get(m, "info"),
                   (const char *const[]){"STEP_NUMBER", "START_TIME", "STOP_TIME", NULL});
  }
  json_decref(mem);
  json_decref(summary);
  json_decref(data);
  pb_bench_destroy(b);
}

/* Topic names with quotes, backslashes, control characters and UTF-8 come
 * back unchanged. */
static void test_topic_escaping(void **state) {
  fixture *f = *state;
  pb_bench *b = make(f, "escape");
  const char *topics[] = {
      "quote\"d", "back\\slash", "new\nline\ttab", "ctl\x01\x1f", "caf\xc3\xa9 \xe2\x82\xac",
      "/slash/",  "{}[]:,"};
  const size_t n = sizeof topics / sizeof topics[0];
  TH_ASSERT_OK(pb_gstep(b));
  for (size_t i = 0; i < n; i++) TH_ASSERT_OK(pb_step(b, topics[i]));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  json_t *calls = json_object_get(json_array_get(data, 0), "individual_calls");
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(th_key_at(calls, i), topics[i]);
    assert_int_equal(th_calls(json_array_get(data, 0), topics[i]), 1);
  }
  json_t *summary = th_must_load(b, PB_SUFFIX_SUMMARY);
  for (size_t i = 0; i < n; i++) assert_non_null(json_object_get(summary, topics[i]));
  json_decref(summary);
  json_decref(data);
  pb_bench_destroy(b);
}

/* A save replaces the files: the last save wins, records stay in memory. */
static void test_replace_on_save(void **state) {
  fixture *f = *state;
  pb_bench *b = make(f, "replace");
  size_t n = th_scaled(500, 50);
  for (size_t i = 0; i < n; i++) {
    TH_ASSERT_OK(pb_gstep(b));
    TH_ASSERT_OK(pb_step(b, "s"));
    if (i == 10 || i == n / 2) TH_ASSERT_OK(pb_save(b));
  }
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), n);
  for (size_t i = 0; i < n; i++) {
    json_t *it = json_array_get(data, i);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(it, "info"), "STEP_NUMBER")), i);
    assert_true(th_is_ns_seconds(th_call_time(it, "s", 0)));
    assert_true(th_is_ns_seconds(th_call_time(it, "GLOBAL", 0)));
  }
  json_decref(data);
  size_t bad = 0;
  assert_int_equal(th_count_files(f->dir, &bad), 3);
  assert_int_equal(bad, 0);

  /* a smaller record set after a new benchmarker overwrites a bigger file fully */
  pb_bench_destroy(b);
  b = make(f, "replace");
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_save(b));
  data = th_must_load(b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 1);
  json_decref(data);
  pb_bench_destroy(b);
}

/* A save into a path whose parent is a regular file fails with PB_EIO and a
 * message naming the path; after the fix the next save succeeds. */
static void test_save_error_then_fix(void **state) {
  fixture *f = *state;
  char *blocker = th_strf("%s/blocker", f->dir);
  assert_true(th_write_file(blocker, "not a folder\n"));
  pb_bench *b = make(f, "blocker/deeper/rec");
  pb_bench *b2 = make(f, "blocker/rec");
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_step(b, "x"));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_gstep(b2));

  TH_ASSERT_STATUS(pb_save(b), PB_EIO);
  const char *msg = pb_last_error();
  assert_non_null(msg);
  if (strstr(msg, "blocker") == NULL) fail_msg("pb_last_error() does not name the path: '%s'", msg);
  TH_ASSERT_STATUS(pb_save(b2), PB_EIO);
  if (strstr(pb_last_error(), "blocker") == NULL)
    fail_msg("pb_last_error() does not name the path: '%s'", pb_last_error());
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.save_errors, 1);
  assert_int_equal(st.saves, 0);
  /* nothing was written next to the blocker, and it is unchanged */
  assert_true(th_is_file(blocker));
  assert_int_equal(th_count_files(f->dir, NULL), 0);

  /* fix: the blocker goes; the next save creates the folders and succeeds */
  assert_int_equal(unlink(blocker), 0);
  TH_ASSERT_OK(pb_save(b));
  TH_ASSERT_OK(pb_save(b2));
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.save_errors, 1);
  assert_int_equal(st.saves, 1);
  json_t *data = th_must_load(b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 1);
  assert_int_equal(th_calls(json_array_get(data, 0), "x"), 1);
  json_decref(data);
  data = th_must_load(b2, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 1);
  json_decref(data);
  size_t bad = 0;
  assert_int_equal(th_count_files(f->dir, &bad), 6);
  assert_int_equal(bad, 0);
  pb_bench_destroy(b);
  pb_bench_destroy(b2);
  free(blocker);
}

/* The record path itself is a folder: the rename cannot replace it. */
static void test_save_onto_folder(void **state) {
  fixture *f = *state;
  char *clash = th_strf("%s/clash%s", f->dir, PB_SUFFIX_DATA);
  char *inner = th_strf("%s/keep", clash);
  assert_int_equal(mkdir(clash, 0755), 0);
  assert_true(th_write_file(inner, "x"));
  pb_bench *b = make(f, "clash");
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_STATUS(pb_save(b), PB_EIO);
  if (strstr(pb_last_error(), "clash") == NULL)
    fail_msg("pb_last_error() does not name the file: '%s'", pb_last_error());
  /* no temporary file is left behind */
  size_t bad = 0;
  th_count_files(f->dir, &bad);
  assert_int_equal(bad, 1); /* only the 'keep' file inside the clashing folder */
  pb_bench_destroy(b);
  free(inner);
  free(clash);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_file_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_topic_escaping, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_on_save, setup, teardown),
      cmocka_unit_test_setup_teardown(test_save_error_then_fix, setup, teardown),
      cmocka_unit_test_setup_teardown(test_save_onto_folder, setup, teardown),
  };
  return cmocka_run_group_tests_name("record_io", tests, NULL, NULL);
}
