/*
 * test_benchmarker.c - the benchmarker object: auto-save, pb_iter, saves of
 * an open iteration, counters, NULL arguments everywhere, atomic files.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
  char *dir;
  char *prefix;
  pb_bench *b;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  f->dir = th_mkdtemp("bench");
  f->prefix = th_strf("%s/out/run", f->dir);
  if (pb_bench_create(f->prefix, &f->b) != PB_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pb_bench_destroy(f->b);
  th_rmtree(f->dir);
  free(f->prefix);
  free(f->dir);
  free(f);
  return 0;
}

static char *file_of(fixture *f, const char *suffix) { return th_strf("%s%s", f->prefix, suffix); }

static size_t saved_iterations(fixture *f) {
  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_true(json_is_array(data));
  size_t n = json_array_size(data);
  json_decref(data);
  return n;
}

static void one_iteration(pb_bench *b) {
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_step(b, "work"));
}

static void test_create_and_path(void **state) {
  fixture *f = *state;
  assert_string_equal(pb_bench_path(f->b), f->prefix);
  assert_true(pb_is_enabled(f->b));
  /* the folder is created at the first save, not before */
  char *out = th_strf("%s/out", f->dir);
  assert_false(th_exists(out));
  TH_ASSERT_OK(pb_save(f->b));
  assert_true(th_exists(out));
  char *d = file_of(f, PB_SUFFIX_DATA), *s = file_of(f, PB_SUFFIX_SUMMARY),
       *m = file_of(f, PB_SUFFIX_MEMORY);
  assert_true(th_is_file(d) && th_is_file(s) && th_is_file(m));
  free(d);
  free(s);
  free(m);
  free(out);
}

/* Auto-save every N gstops: files appear at the N-th gstop, not before. */
static void test_save_on_gstop(void **state) {
  fixture *f = *state;
  char *data = file_of(f, PB_SUFFIX_DATA);
  pb_set_save_on_gstop(f->b, 3);
  one_iteration(f->b);
  one_iteration(f->b); /* closes iteration 1 */
  one_iteration(f->b); /* closes iteration 2 */
  assert_false(th_exists(data));
  TH_ASSERT_OK(pb_gstop(f->b)); /* third closed iteration */
  assert_true(th_exists(data));
  assert_int_equal(saved_iterations(f), 3);
  for (int i = 0; i < 2; i++) {
    one_iteration(f->b);
    TH_ASSERT_OK(pb_gstop(f->b));
    assert_int_equal(saved_iterations(f), 3);
  }
  one_iteration(f->b);
  TH_ASSERT_OK(pb_gstop(f->b)); /* sixth */
  assert_int_equal(saved_iterations(f), 6);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.saves, 2);

  /* a gstop with nothing open does not count */
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.saves, 2);

  /* 0 turns it off */
  pb_set_save_on_gstop(f->b, 0);
  for (int i = 0; i < 4; i++) {
    one_iteration(f->b);
    TH_ASSERT_OK(pb_gstop(f->b));
  }
  assert_int_equal(saved_iterations(f), 6);
  free(data);
}

/* Auto-save after every step. */
static void test_save_on_step(void **state) {
  fixture *f = *state;
  char *data = file_of(f, PB_SUFFIX_DATA);
  pb_set_save_on_step(f->b, true);
  TH_ASSERT_OK(pb_gstep(f->b));
  assert_false(th_exists(data));
  TH_ASSERT_OK(pb_step(f->b, "first"));
  assert_true(th_exists(data));
  json_t *j = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(j), 1);
  assert_int_equal(th_calls(json_array_get(j, 0), "first"), 1);
  json_decref(j);
  TH_ASSERT_OK(pb_step(f->b, "second"));
  j = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(th_calls(json_array_get(j, 0), "second"), 1);
  /* saved mid-iteration: STOP_TIME 0 */
  assert_true(json_number_value(json_object_get(json_object_get(json_array_get(j, 0), "info"),
                                                "STOP_TIME")) == 0);
  json_decref(j);
  pb_set_save_on_step(f->b, false);
  TH_ASSERT_OK(pb_step(f->b, "third"));
  j = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(th_calls(json_array_get(j, 0), "third"), 0);
  json_decref(j);
  free(data);
}

/* pb_iter: n calls give n iterations; true n times then false. */
static void test_iter(void **state) {
  fixture *f = *state;
  size_t trues = 0, i;
  for (i = 0; pb_iter(f->b, i, 7); i++) {
    trues++;
    TH_ASSERT_OK(pb_step(f->b, "body"));
  }
  assert_int_equal(trues, 7);
  assert_int_equal(i, 7);
  TH_ASSERT_OK(pb_save(f->b));
  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 7);
  for (size_t k = 0; k < 7; k++) {
    json_t *it = json_array_get(data, k);
    assert_int_equal(th_calls(it, "body"), 1);
    assert_int_equal(th_calls(it, "GLOBAL"), 1);
    assert_true(json_number_value(json_object_get(json_object_get(it, "info"), "STOP_TIME")) > 0);
  }
  json_decref(data);

  /* n = 0: no iteration, false at once */
  assert_false(pb_iter(f->b, 0, 0));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 7);

  /* NULL just counts */
  size_t c = 0;
  for (size_t k = 0; pb_iter(NULL, k, 5); k++) c++;
  assert_int_equal(c, 5);
}

/* Saving with an iteration open includes it with STOP_TIME 0; a later save
 * after the gstop holds it closed. */
static void test_save_open_iteration(void **state) {
  fixture *f = *state;
  one_iteration(f->b);
  TH_ASSERT_OK(pb_gstop(f->b));
  one_iteration(f->b);
  TH_ASSERT_OK(pb_save(f->b));
  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 2);
  json_t *open = json_object_get(json_array_get(data, 1), "info");
  assert_true(json_number_value(json_object_get(open, "STOP_TIME")) == 0);
  assert_int_equal(json_integer_value(json_object_get(open, "STEP_NUMBER")), 1);
  json_decref(data);
  /* records stay in memory: the iteration continues after the save */
  TH_ASSERT_OK(pb_step(f->b, "more"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  data = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 2);
  json_t *it = json_array_get(data, 1);
  assert_true(json_number_value(json_object_get(json_object_get(it, "info"), "STOP_TIME")) > 0);
  assert_int_equal(th_calls(it, "work"), 1);
  assert_int_equal(th_calls(it, "more"), 1);
  json_decref(data);
}

static void test_stats(void **state) {
  fixture *f = *state;
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 0);
  assert_int_equal(st.steps, 0);
  assert_int_equal(st.memory_records, 0);
  assert_int_equal(st.dropped, 0);
  assert_int_equal(st.saves, 0);
  assert_int_equal(st.save_errors, 0);
  for (int i = 0; i < 3; i++) {
    TH_ASSERT_OK(pb_gstep(f->b));
    TH_ASSERT_OK(pb_step(f->b, "a"));
    TH_ASSERT_OK(pb_step(f->b, "b"));
  }
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.iterations, 3);
  /* 6 user steps + 3 gstop records */
  assert_int_equal(st.steps, 9);
  assert_int_equal(st.memory_records, 0);
  assert_true(st.topics >= 2);
  assert_int_equal(st.dropped, 0);
  assert_int_equal(st.saves, 2);
  assert_int_equal(st.save_errors, 0);
  assert_true(st.bytes_held > 0);

  /* memory tracking per step: gstep + 2 steps + gstop per iteration */
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  TH_ASSERT_OK(pb_step(f->b, "b"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.memory_records, 4);
  assert_int_equal(st.iterations, 4);
  /* 9 + a, a_MEMORY_STEP, b, b_MEMORY_STEP, gstop, gstop_memory, gstep_memory */
  assert_int_equal(st.steps, 16);
}

static void test_null_arguments(void **state) {
  fixture *f = *state;
  pb_bench *b = (pb_bench *)0x1;
  TH_ASSERT_STATUS(pb_bench_create(NULL, &b), PB_EINVAL);
  TH_ASSERT_STATUS(pb_bench_create("", &b), PB_EINVAL);
  TH_ASSERT_STATUS(pb_bench_create("x", NULL), PB_EINVAL);
  TH_ASSERT_OK(pb_bench_destroy(NULL));
  assert_null(pb_bench_path(NULL));

  TH_ASSERT_STATUS(pb_start(NULL), PB_EINVAL);
  TH_ASSERT_STATUS(pb_gstep(NULL), PB_EINVAL);
  TH_ASSERT_STATUS(pb_gstop(NULL), PB_EINVAL);
  TH_ASSERT_STATUS(pb_step(NULL, "x"), PB_EINVAL);
  TH_ASSERT_STATUS(pb_step_ex(NULL, "x", NULL, NULL), PB_EINVAL);
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_STATUS(pb_step(f->b, NULL), PB_EINVAL);
  TH_ASSERT_STATUS(pb_step_ex(f->b, NULL, "1", "2"), PB_EINVAL);
  assert_true(pb_topic_intern(NULL, "x") == PB_TOPIC_INVALID);
  assert_true(pb_topic_intern(f->b, NULL) == PB_TOPIC_INVALID);
  TH_ASSERT_STATUS(pb_step_id(NULL, 0), PB_EINVAL);

  pb_enable(NULL);
  pb_disable(NULL);
  assert_false(pb_is_enabled(NULL));
  pb_set_save_on_gstop(NULL, 3);
  pb_set_save_on_step(NULL, true);
  TH_ASSERT_STATUS(pb_enable_memory_tracking(NULL, false), PB_EINVAL);
  pb_disable_memory_tracking(NULL);
  assert_true(pb_enable_cuda_memory_tracking(NULL) != PB_OK);
  pb_disable_cuda_memory_tracking(NULL);
  assert_true(pb_set_cuda_sync(NULL, true) != PB_OK);
  TH_ASSERT_STATUS(pb_save(NULL), PB_EINVAL);
  pb_bench_stats st;
  TH_ASSERT_STATUS(pb_bench_get_stats(NULL, &st), PB_EINVAL);
  TH_ASSERT_STATUS(pb_bench_get_stats(f->b, NULL), PB_EINVAL);

  pb_registry *r = (pb_registry *)0x1;
  TH_ASSERT_STATUS(pb_registry_create(NULL, NULL), PB_EINVAL);
  pb_registry_destroy(NULL);
  assert_null(pb_registry_get(NULL, "x"));
  TH_ASSERT_STATUS(pb_registry_set_default_path(NULL, "x"), PB_EINVAL);
  char buf[8];
  TH_ASSERT_STATUS(pb_registry_run_dir(NULL, buf, sizeof buf), PB_EINVAL);
  pb_registry_enable(NULL);
  pb_registry_disable(NULL);
  TH_ASSERT_STATUS(pb_registry_save(NULL), PB_EINVAL);
  assert_int_equal(pb_registry_size(NULL), 0);
  (void)r;

  unsigned mask = 99;
  TH_ASSERT_OK(pb_parse_toggles(NULL, &mask)); /* NULL means "0" */
  assert_int_equal(mask, 0);
  TH_ASSERT_STATUS(pb_parse_toggles("1", NULL), PB_EINVAL);
  pb_set_warning_handler(NULL, NULL);

  /* the benchmarker is unharmed */
  TH_ASSERT_OK(pb_step(f->b, "ok"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.steps, 2);
}

static void test_cuda_sync(void **state) {
  fixture *f = *state;
  /* no CUDA runtime is loaded in this test program */
  TH_ASSERT_STATUS(pb_set_cuda_sync(f->b, true), PB_ENOTSUP);
  TH_ASSERT_OK(pb_set_cuda_sync(f->b, false));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "still works"));
  TH_ASSERT_OK(pb_gstop(f->b));
}

static void test_errors_and_version(void **state) {
  (void)state;
  const int codes[] = {PB_OK,      PB_EINVAL,  PB_ENOMEM,    PB_EIO,    PB_EJSON,
                       PB_ENOTSUP, PB_ENOITER, PB_EDISABLED, PB_EOWNED, PB_EBUSY};
  const char *names[] = {"PB_OK",      "PB_EINVAL",  "PB_ENOMEM",    "PB_EIO",    "PB_EJSON",
                         "PB_ENOTSUP", "PB_ENOITER", "PB_EDISABLED", "PB_EOWNED", "PB_EBUSY"};
  for (size_t i = 0; i < 10; i++) {
    assert_string_equal(pb_err_name(codes[i]), names[i]);
    const char *msg = pb_strerror(codes[i]);
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    for (size_t k = 0; k < i; k++) assert_string_not_equal(msg, pb_strerror(codes[k]));
  }
  assert_string_equal(pb_err_name(-1000), "PB_UNKNOWN");
  assert_string_equal(pb_err_name(7), "PB_UNKNOWN");
  assert_non_null(pb_strerror(-1000));
  assert_int_equal(pb_version_number(), PB_VERSION_NUMBER);
  assert_string_equal(pb_version(), PB_VERSION_STRING);
  assert_non_null(pb_last_error());
}

/* Saves replace files atomically: no temporary file is ever left behind. */
static void test_no_tmp_files_left(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, false));
  for (int i = 0; i < 20; i++) {
    one_iteration(f->b);
    TH_ASSERT_OK(pb_save(f->b));
  }
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  size_t bad = 0;
  size_t n = th_count_files(f->dir, &bad);
  assert_int_equal(n, 3);
  assert_int_equal(bad, 0);
  assert_int_equal(saved_iterations(f), 20);
}

/* A benchmarker of a registry cannot be destroyed directly. */
static void test_destroy_owned(void **state) {
  fixture *f = *state;
  pb_registry *r = NULL;
  char *root = th_strf("%s/reg", f->dir);
  TH_ASSERT_OK(pb_registry_create(root, &r));
  pb_bench *owned = pb_registry_get(r, "owned");
  assert_non_null(owned);
  TH_ASSERT_STATUS(pb_bench_destroy(owned), PB_EOWNED);
  /* still usable */
  TH_ASSERT_OK(pb_gstep(owned));
  TH_ASSERT_OK(pb_gstop(owned));
  pb_registry_destroy(r);
  free(root);
}

/*
 * Issue 11, defect 13: benchmarkers are forgotten by the fork handlers in
 * O(1) (a doubly linked list with an index). Creations and destructions in
 * every order, then fork(): the handlers lock every live benchmarker and
 * none that was destroyed (ASan would see a use after free), and the child
 * records and saves with an inherited one.
 */
static void test_create_destroy_interleaved(void **state) {
  fixture *f = *state;
  size_t n = th_scaled(6000, 600);
  pb_bench **b = calloc(n, sizeof *b);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++) {
    char *path = th_strf("%s/many/b%zu", f->dir, i);
    TH_ASSERT_OK(pb_bench_create(path, &b[i]));
    free(path);
    if (i % 3 == 2) { /* destroy an older one meanwhile, from anywhere in the list */
      size_t k = (i * 2654435761u) % i;
      TH_ASSERT_OK(pb_bench_destroy(b[k]));
      b[k] = NULL;
    }
  }
  for (size_t i = 0; i < n; i += 2) { /* then every other one, newest first */
    size_t k = n - 1 - i;
    TH_ASSERT_OK(pb_bench_destroy(b[k]));
    b[k] = NULL;
  }
  size_t live = 0, keep = n;
  for (size_t i = 0; i < n; i++) {
    if (!b[i]) continue;
    live++;
    keep = i;
  }
  assert_true(live > 0);
  TH_ASSERT_OK(pb_gstep(b[keep]));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int ok = pb_step(b[keep], "in child") == PB_OK && pb_gstop(b[keep]) == PB_OK &&
             pb_save(b[keep]) == PB_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  char *child_data = th_strf("%s.fork-%ld%s", pb_bench_path(b[keep]), (long)pid, PB_SUFFIX_DATA);
  json_t *data = th_load_json(child_data);
  assert_int_equal(json_array_size(data), 1);
  json_t *calls = json_object_get(json_array_get(data, 0), "individual_calls");
  assert_int_equal(json_array_size(json_object_get(calls, "in child")), 1);
  json_decref(data);
  free(child_data);
  TH_ASSERT_OK(pb_gstop(b[keep]));
  for (size_t i = 0; i < n; i++) TH_ASSERT_OK(pb_bench_destroy(b[i]));
  free(b);
}

/*
 * Issue 11, defect 13: topics are quoted once and kept across saves. Topics
 * that appear between saves, including ones whose quoted text equals an
 * earlier one's ("\xff", "\xfe" and "\xfd" all read U+FFFD), "GLOBAL", and a name
 * equal to another's suffixed form ("GLOBAL" is topic 6: "GLOBAL~6"), all get
 * distinct keys, stable from one save to the next.
 */
static void test_topics_added_between_saves(void **state) {
  fixture *f = *state;
  static const char *const topics[] = {"a", "\xff", "GLOBAL", "\xfe", "b", "GLOBAL~6", "\xfd", "c"};
  enum { NT = sizeof topics / sizeof *topics };
  json_t *first_keys = NULL;
  for (size_t k = 0; k < NT; k++) {
    TH_ASSERT_OK(pb_gstep(f->b));
    for (size_t t = 0; t <= k; t++) TH_ASSERT_OK(pb_step(f->b, topics[t]));
    TH_ASSERT_OK(pb_gstop(f->b));
    TH_ASSERT_OK(pb_save(f->b));
  }
  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), NT);
  for (size_t k = 0; k < NT; k++) {
    json_t *abs = json_object_get(json_array_get(data, k), "absolutes");
    assert_int_equal(json_object_size(abs), k + 3); /* its topics, distinct; gstop; GLOBAL */
    if (k + 1 == NT) first_keys = abs;
  }
  /* keys of the last iteration: the earlier iterations use the same ones */
  const char *key;
  json_t *v;
  size_t seen = 0;
  json_object_foreach(first_keys, key, v) {
    for (size_t k = 0; k < NT; k++) {
      json_t *abs = json_object_get(json_array_get(data, k), "absolutes");
      seen += json_object_get(abs, key) != NULL;
    }
  }
  /* topic t is in iterations t..NT-1 (NT - t of them); gstop and GLOBAL in all NT */
  assert_int_equal(seen, NT * (NT + 1) / 2 + 2 * NT);
  assert_non_null(json_object_get(first_keys, "\xef\xbf\xbd"));
  assert_non_null(json_object_get(first_keys, "GLOBAL~6"));
  assert_non_null(json_object_get(first_keys, "GLOBAL~6~9"));
  json_decref(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_and_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_save_on_gstop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_save_on_step, setup, teardown),
      cmocka_unit_test_setup_teardown(test_iter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_save_open_iteration, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
      cmocka_unit_test_setup_teardown(test_null_arguments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cuda_sync, setup, teardown),
      cmocka_unit_test(test_errors_and_version),
      cmocka_unit_test_setup_teardown(test_no_tmp_files_left, setup, teardown),
      cmocka_unit_test_setup_teardown(test_destroy_owned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_destroy_interleaved, setup, teardown),
      cmocka_unit_test_setup_teardown(test_topics_added_between_saves, setup, teardown),
  };
  return cmocka_run_group_tests_name("benchmarker", tests, NULL, NULL);
}
