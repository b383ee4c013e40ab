/*
 * test_api_misuse.c - NULL handles and strings to every function of
 * porter_bench.h, and calls out of order: an error code or a documented
 * no-op, never a crash.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel_util.h"

static void test_null_everywhere(void **state) {
  (void)state;
  /* Version, errors, warnings. */
  assert_true(pb_version_number() == PB_VERSION_NUMBER);
  assert_non_null(pb_version());
  static const int codes[] = {0, -1, -8, -9, -10, 1, INT_MIN, INT_MAX, -100};
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    assert_non_null(pb_strerror(codes[i]));
    assert_non_null(pb_err_name(codes[i]));
  }
  assert_string_equal(pb_err_name(-10), "PB_UNKNOWN"); /* past the last code, PB_EBUSY */
  assert_non_null(pb_last_error());
  pb_set_warning_handler(NULL, NULL);

  /* Timers. */
  pb_timer_tic(NULL);
  assert_true(pb_timer_toc(NULL) == 0.0);
  assert_true(pb_timer_toc_ns(NULL) == 0);
  assert_true(pb_timer_ttoc(NULL) == 0.0);
  pb_timer_ptoc(NULL, NULL);
  pb_timer_pttoc(NULL, NULL);
  pb_timer t;
  pb_timer_tic(&t);
  pb_timer_ptoc(&t, NULL);
  pb_timer_pttoc(&t, NULL);
  pb_countdown_init(NULL, 1.0);
  pb_countdown_set(NULL, 1.0);
  pb_countdown_reset(NULL);
  assert_true(pb_countdown_time_left(NULL) == 0.0);
  (void)pb_countdown_completed(NULL);
  pb_countdown c;
  pb_countdown_init(&c, NAN);
  (void)pb_countdown_completed(&c);
  pb_countdown_init(&c, -1.0);
  assert_true(pb_countdown_completed(&c));
  pb_timed_counter_init(NULL, true);
  pb_timed_counter_start(NULL);
  pb_timed_counter_stop(NULL);
  pb_timed_counter_count(NULL);
  assert_true(pb_timed_counter_frequency(NULL) == 0.0);
  pb_timed_counter_reset(NULL);
  pb_timed_counter_disable(NULL);

  /* Benchmarker. */
  pb_bench *b = (pb_bench *)0x1;
  REL_ASSERT_STATUS(pb_bench_create(NULL, &b), PB_EINVAL);
  assert_null(b);
  REL_ASSERT_STATUS(pb_bench_create("", &b), PB_EINVAL);
  REL_ASSERT_STATUS(pb_bench_create("x", NULL), PB_EINVAL);
  REL_ASSERT_OK(pb_bench_destroy(NULL));
  assert_null(pb_bench_path(NULL));
  REL_ASSERT_STATUS(pb_start(NULL), PB_EINVAL);
  REL_ASSERT_STATUS(pb_gstep(NULL), PB_EINVAL);
  REL_ASSERT_STATUS(pb_gstop(NULL), PB_EINVAL);
  REL_ASSERT_STATUS(pb_step(NULL, "x"), PB_EINVAL);
  REL_ASSERT_STATUS(pb_step(NULL, NULL), PB_EINVAL);
  REL_ASSERT_STATUS(pb_step_ex(NULL, "x", "1", "2"), PB_EINVAL);
  assert_true(pb_topic_intern(NULL, "x") == PB_TOPIC_INVALID);
  REL_ASSERT_STATUS(pb_step_id(NULL, 0), PB_EINVAL);
  pb_enable(NULL);
  pb_disable(NULL);
  assert_false(pb_is_enabled(NULL));
  pb_set_save_on_gstop(NULL, 1);
  pb_set_save_on_step(NULL, true);
  REL_ASSERT_STATUS(pb_enable_memory_tracking(NULL, true), PB_EINVAL);
  pb_disable_memory_tracking(NULL);
  int rc = pb_enable_cuda_memory_tracking(NULL);
  assert_true(rc == PB_EINVAL || rc == PB_ENOTSUP);
  pb_disable_cuda_memory_tracking(NULL);
  (void)pb_cuda_available();
  rc = pb_set_cuda_sync(NULL, true);
  assert_true(rc == PB_EINVAL || rc == PB_ENOTSUP);
  REL_ASSERT_STATUS(pb_save(NULL), PB_EINVAL);
  pb_bench_stats st;
  REL_ASSERT_STATUS(pb_bench_get_stats(NULL, &st), PB_EINVAL);
  assert_true(pb_iter(NULL, 0, 1));
  assert_false(pb_iter(NULL, 1, 1));
  REL_ASSERT_STATUS(pb_set_peak_poll_period(0.0), PB_EINVAL);
  REL_ASSERT_STATUS(pb_set_peak_poll_period(-1.0), PB_EINVAL);
  REL_ASSERT_STATUS(pb_set_peak_poll_period(NAN), PB_EINVAL);

  /* Registry. */
  REL_ASSERT_STATUS(pb_registry_create(NULL, NULL), PB_EINVAL);
  pb_registry_destroy(NULL);
  assert_null(pb_registry_get(NULL, "x"));
  REL_ASSERT_STATUS(pb_registry_set_default_path(NULL, "x"), PB_EINVAL);
  char buf[16];
  REL_ASSERT_STATUS(pb_registry_run_dir(NULL, buf, sizeof buf), PB_EINVAL);
  pb_registry_enable(NULL);
  pb_registry_disable(NULL);
  REL_ASSERT_STATUS(pb_registry_save(NULL), PB_EINVAL);
  assert_int_equal(pb_registry_size(NULL), 0);
  assert_null(pb_get(NULL));
  assert_null(pb_get(""));

  /* Toggles. */
  assert_false(pb_toggle(8));
  assert_false(pb_toggle(UINT_MAX));
  (void)pb_toggles();
  unsigned mask = 99;
  REL_ASSERT_OK(pb_parse_toggles(NULL, &mask));
  assert_int_equal(mask, 0);
  REL_ASSERT_STATUS(pb_parse_toggles("12", &mask), PB_EINVAL);
  REL_ASSERT_STATUS(pb_parse_toggles("", &mask), PB_EINVAL);
  REL_ASSERT_STATUS(pb_parse_toggles("101010101", &mask), PB_EINVAL);
  rc = pb_parse_toggles("101", NULL);
  assert_true(rc == PB_EINVAL || rc == PB_OK);
}

static void test_null_arguments_with_a_real_benchmarker(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("misuse");
  char *prefix = rel_strf("%s/b", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_STATUS(pb_step(b, NULL), PB_EINVAL);
  REL_ASSERT_STATUS(pb_step_ex(b, NULL, NULL, NULL), PB_EINVAL);
  assert_true(pb_topic_intern(b, NULL) == PB_TOPIC_INVALID);
  REL_ASSERT_STATUS(pb_bench_get_stats(b, NULL), PB_EINVAL);
  /* Steps before any iteration: PB_ENOITER, nothing recorded. */
  REL_ASSERT_STATUS(pb_step(b, "early"), PB_ENOITER);
  REL_ASSERT_STATUS(pb_step_ex(b, "early", "1", NULL), PB_ENOITER);
  pb_topic id = pb_topic_intern(b, "t");
  assert_true(id != PB_TOPIC_INVALID);
  REL_ASSERT_STATUS(pb_step_id(b, id), PB_ENOITER);
  /* gstop without gstep: a no-op returning PB_OK. */
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_gstop(b));
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.iterations, 0);
  assert_int_equal(st.steps, 0);
  /* Bad topic ids. */
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_STATUS(pb_step_id(b, PB_TOPIC_INVALID), PB_EINVAL);
  REL_ASSERT_STATUS(pb_step_id(b, 1000000), PB_EINVAL);
  REL_ASSERT_OK(pb_step_id(b, id));
  /* Double gstop, start twice, gstep after gstop. */
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_start(b));
  REL_ASSERT_OK(pb_start(b));
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_OK(pb_gstop(b));
  /* Memory tracking on twice, off twice; auto-save 0; save while disabled. */
  REL_ASSERT_OK(pb_enable_memory_tracking(b, true));
  REL_ASSERT_OK(pb_enable_memory_tracking(b, false));
  pb_disable_memory_tracking(b);
  pb_disable_memory_tracking(b);
  pb_set_save_on_gstop(b, 0);
  pb_disable(b);
  REL_ASSERT_STATUS(pb_gstep(b), PB_EDISABLED);
  REL_ASSERT_STATUS(pb_step(b, "x"), PB_EDISABLED);
  REL_ASSERT_OK(pb_save(b));
  assert_false(rel_exists(prefix));
  pb_enable(b);
  REL_ASSERT_OK(pb_save(b));
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 3);
  assert_int_equal(rel_count_calls(data, "t"), 1);
  assert_int_equal(rel_count_calls(data, "early"), 0);
  json_decref(data);
  REL_ASSERT_OK(pb_bench_destroy(b));
  rel_rmtree(dir);
  free(dir);
  free(prefix);
}

static void test_registry_misuse(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("misusereg");
  pb_registry *r = NULL;
  REL_ASSERT_OK(pb_registry_create(dir, &r));
  assert_null(pb_registry_get(r, NULL));
  assert_null(pb_registry_get(r, ""));
  REL_ASSERT_STATUS(pb_registry_set_default_path(r, NULL), PB_EINVAL);
  REL_ASSERT_STATUS(pb_registry_set_default_path(r, ""), PB_EINVAL);
  char small[4];
  REL_ASSERT_STATUS(pb_registry_run_dir(r, small, sizeof small), PB_EINVAL);
  REL_ASSERT_STATUS(pb_registry_run_dir(r, NULL, 100), PB_EINVAL);
  REL_ASSERT_STATUS(pb_registry_run_dir(r, small, 0), PB_EINVAL);
  pb_bench *b = pb_registry_get(r, "owned");
  assert_non_null(b);
  /* Destroying a registry's benchmarker: PB_EOWNED, and it stays usable. */
  REL_ASSERT_STATUS(pb_bench_destroy(b), PB_EOWNED);
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_OK(pb_step(b, "still-alive"));
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_STATUS(pb_bench_destroy(b), PB_EOWNED);
  REL_ASSERT_OK(pb_registry_save(r));
  json_t *data = rel_must_load(pb_bench_path(b), PB_SUFFIX_DATA);
  assert_int_equal(rel_count_calls(data, "still-alive"), 1);
  json_decref(data);
  pb_registry_disable(r);
  pb_registry_disable(r);
  pb_bench *late = pb_registry_get(r, "late");
  assert_non_null(late);
  assert_false(pb_is_enabled(late));
  REL_ASSERT_OK(pb_registry_save(r));
  pb_registry_enable(r);
  assert_true(pb_is_enabled(late));
  assert_int_equal(pb_registry_size(r), 2);
  pb_registry_destroy(r);
  rel_rmtree(dir);
  free(dir);
}

/* ---- environment: one warning, safe defaults ---- */

static int g_env_warnings;

static void env_warning(const char *message, void *user_data) {
  (void)message;
  (void)user_data;
  g_env_warnings++;
}

/* --toggles VALUE: this program re-executed with a fresh process state. */
static int toggles_main(const char *value) {
  setenv(PB_ENV_TOGGLES, value, 1);
  pb_set_warning_handler(env_warning, NULL);
  unsigned mask = pb_toggles();
  for (unsigned i = 0; i < 10; i++) (void)pb_toggle(i);
  mask |= pb_toggles();
  return g_env_warnings * 16 + (int)(mask & 15);
}

/* Runs toggles_main in a new process (toggles are parsed once per process): warnings * 16 + mask.
 */
static int toggles_in_child(const char *value) {
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *argv[] = {"test_api_misuse", "--toggles", (char *)value, NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void test_malformed_toggles(void **state) {
  (void)state;
  static const char *const bad[] = {"abc",
                                    "2",
                                    "101010101",
                                    "",
                                    " 1",
                                    "1 ",
                                    "0x1",
                                    "-1",
                                    "1\n",
                                    "\xff\xfe",
                                    "11111111111111111111111111111111"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int r = toggles_in_child(bad[i]);
    if (bad[i][0] == '\0' && r == 0) continue; /* empty: treated as unset, no warning */
    if (r != 16)
      fail_msg(PB_ENV_TOGGLES "='%s': %d warnings, mask %d (want 1 warning, mask 0)", bad[i],
               r / 16, r % 16);
  }
  assert_int_equal(toggles_in_child("0101"), 5); /* well-formed: no warning, bits 0 and 2 */
}

static void test_hostile_root_variable(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("envroot");
  char *file = rel_strf("%s/file", dir);
  assert_true(rel_write_file(file, "x"));
  setenv(PB_ENV_ROOT, file, 1); /* a file where the root folder should be */
  pb_registry *r = NULL;
  REL_ASSERT_OK(pb_registry_create(NULL, &r));
  pb_bench *b = pb_registry_get(r, "x");
  if (b) {
    REL_ASSERT_OK(pb_gstep(b));
    REL_ASSERT_STATUS(pb_save(b), PB_EIO);
  } else {
    assert_true(strstr(pb_last_error(), file) != NULL);
  }
  pb_registry_destroy(r);
  setenv(PB_ENV_ROOT, "", 1); /* empty: the default root */
  REL_ASSERT_OK(pb_registry_create(NULL, &r));
  char run[4096];
  assert_true(pb_registry_run_dir(r, run, sizeof run) > 0);
  assert_true(strncmp(run, PB_DEFAULT_ROOT "/", strlen(PB_DEFAULT_ROOT) + 1) == 0);
  pb_registry_destroy(r); /* no benchmarker: nothing created */
  unsetenv(PB_ENV_ROOT);
  rel_rmtree(dir);
  free(dir);
  free(file);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--toggles") == 0) return toggles_main(argv[2]);
  pb_set_warning_handler(NULL, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_null_everywhere),
      cmocka_unit_test(test_null_arguments_with_a_real_benchmarker),
      cmocka_unit_test(test_registry_misuse),
      cmocka_unit_test(test_malformed_toggles),
      cmocka_unit_test(test_hostile_root_variable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
