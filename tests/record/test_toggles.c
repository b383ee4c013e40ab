/*
 * test_toggles.c - TICTOC_TOGGLES: pb_parse_toggles, and pb_toggle/pb_toggles
 * reading the variable at their first call (checked in forked children, each
 * a fresh process with its own value of the variable).
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void expect_parse(const char *text, int status, unsigned mask) {
  unsigned got = 0xdead;
  int rc = pb_parse_toggles(text, &got);
  if (rc != status || got != mask)
    fail_msg("pb_parse_toggles(\"%s\") = %s, mask 0x%x; expected %s, mask 0x%x",
             text != NULL ? text : "(null)", pb_err_name(rc), got, pb_err_name(status), mask);
}

static void test_parse_valid(void **state) {
  (void)state;
  expect_parse("00000000", PB_OK, 0);
  expect_parse("00000001", PB_OK, 1u << 0);
  expect_parse("10000000", PB_OK, 1u << 7);
  expect_parse("11111111", PB_OK, 0xffu);
  expect_parse("01010101", PB_OK, 0x55u);
  expect_parse("101", PB_OK, 5u);
  expect_parse("1", PB_OK, 1u);
  expect_parse("0", PB_OK, 0u);
  expect_parse("10", PB_OK, 2u);
  expect_parse(NULL, PB_OK, 0u);
}

static void test_parse_malformed(void **state) {
  (void)state;
  const char *bad[] = {"2",   "abc", "000000000", "",   " 1",       "1 ",
                       "0x1", "-1",  "1\n",       "12", "0000000a", "111111111111"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_parse(bad[i], PB_EINVAL, 0);
}

/*
 * Runs in a forked child: sets (or unsets) TICTOC_TOGGLES, installs a
 * counting warning handler, then calls pb_toggle/pb_toggles several times.
 * Exit status 0 when the mask is want_mask and exactly want_warnings
 * warnings came (want_warnings -1: zero or one); otherwise a message on stderr and status 1.
 */
static int child_check(const char *value, unsigned want_mask, int want_warnings) {
  if (value != NULL)
    setenv(PB_ENV_TOGGLES, value, 1);
  else
    unsetenv(PB_ENV_TOGGLES);
  static th_warnings w;
  pb_set_warning_handler(th_warning_counter, &w);
  unsigned mask = 0;
  for (int round = 0; round < 3; round++) {
    mask = 0;
    for (unsigned i = 0; i < 8; i++)
      if (pb_toggle(i)) mask |= 1u << i;
    if (pb_toggle(8) || pb_toggle(100)) {
      fprintf(stderr, "toggle > 7 is true\n");
      return 1;
    }
    if (pb_toggles() != mask) {
      fprintf(stderr, "pb_toggles() = 0x%x but pb_toggle bits give 0x%x\n", pb_toggles(), mask);
      return 1;
    }
  }
  /* read at the first call: a later change of the variable is not seen */
  setenv(PB_ENV_TOGGLES, "11111111", 1);
  if (pb_toggles() != mask) {
    fprintf(stderr, "toggles re-read the variable\n");
    return 1;
  }
  pb_set_warning_handler(NULL, NULL);
  bool warnings_ok = want_warnings < 0 ? (w.count == 0 || w.count == 1) : w.count == want_warnings;
  if (mask != want_mask || !warnings_ok) {
    fprintf(stderr, "TICTOC_TOGGLES=%s: mask 0x%x (want 0x%x), %d warnings (want %d), last '%s'\n",
            value != NULL ? value : "(unset)", mask, want_mask, w.count, want_warnings, w.last);
    return 1;
  }
  if (want_warnings > 0 && strstr(w.last, PB_ENV_TOGGLES) == NULL &&
      (value == NULL || strstr(w.last, value) == NULL)) {
    fprintf(stderr, "the warning names neither the variable nor the value: '%s'\n", w.last);
    return 1;
  }
  return 0;
}

static void run_child(const char *value, unsigned want_mask, int want_warnings) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(child_check(value, want_mask, want_warnings));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0)
    fail_msg("TICTOC_TOGGLES=%s: child check failed (see stderr)",
             value != NULL ? value : "(unset)");
}

static void test_env_unset(void **state) {
  (void)state;
  run_child(NULL, 0, 0);
}

static void test_env_valid(void **state) {
  (void)state;
  run_child("00000000", 0, 0);
  run_child("00000001", 1u, 0);
  run_child("10000000", 0x80u, 0);
  run_child("10000101", 0x85u, 0);
  run_child("101", 5u, 0);
}

static void test_env_malformed_warns_once(void **state) {
  (void)state;
  run_child("2", 0, 1);
  run_child("abc", 0, 1);
  run_child("000000000", 0, 1);
  run_child("1111111x", 0, 1);
}

static void test_env_empty(void **state) {
  (void)state;
  /* an empty value: all off, at most one warning (empty may count as unset) */
  run_child("", 0, -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_valid),
      cmocka_unit_test(test_parse_malformed),
      cmocka_unit_test(test_env_unset),
      cmocka_unit_test(test_env_valid),
      cmocka_unit_test(test_env_malformed_warns_once),
      cmocka_unit_test(test_env_empty),
  };
  return cmocka_run_group_tests_name("toggles", tests, NULL, NULL);
}
