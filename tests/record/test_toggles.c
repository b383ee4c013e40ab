/*
 * test_toggles.c - PORTER_BENCH_TOGGLES / TICTOC_TOGGLES: pb_parse_toggles, and
 * pb_toggle/pb_toggles reading the variables at their first call (checked in
 * forked children, each a fresh process with its own values of the variables).
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

/* Sets the variable name to value, or unsets it when value is NULL. */
static void set_or_unset(const char *name, const char *value) {
  if (value != NULL)
    setenv(name, value, 1);
  else
    unsetenv(name);
}

/* Reads all toggles three times; the mask, or -1 (message on stderr) if the reads disagree. */
static long read_mask(void) {
  unsigned mask = 0;
  for (int round = 0; round < 3; round++) {
    mask = 0;
    for (unsigned i = 0; i < 8; i++)
      if (pb_toggle(i)) mask |= 1u << i;
    if (pb_toggle(8) || pb_toggle(100)) {
      fprintf(stderr, "toggle > 7 is true\n");
      return -1;
    }
    if (pb_toggles() != mask) {
      fprintf(stderr, "pb_toggles() = 0x%x but pb_toggle bits give 0x%x\n", pb_toggles(), mask);
      return -1;
    }
  }
  return (long)mask;
}

/* The values a child runs with and what it must see. */
typedef struct toggle_case {
  const char *pb_value; /* PORTER_BENCH_TOGGLES; NULL: unset */
  const char *tt_value; /* TICTOC_TOGGLES; NULL: unset */
  unsigned want_mask;
  int want_warnings;    /* -1: zero or one */
  const char *warn_has; /* text the last warning must contain, or NULL */
} toggle_case;

/*
 * Runs in a forked child: sets (or unsets) both variables, installs a counting
 * warning handler, then calls pb_toggle/pb_toggles several times. Exit status 0
 * when the mask and the warnings are as c wants; otherwise a message on stderr and 1.
 */
static int child_check(const toggle_case *c) {
  set_or_unset(PB_ENV_TOGGLES, c->pb_value);
  set_or_unset(PB_ENV_TOGGLES_TICTOC, c->tt_value);
  static th_warnings w;
  pb_set_warning_handler(th_warning_counter, &w);
  long mask = read_mask();
  if (mask < 0) return 1;
  /* read at the first call: a later change of either variable is not seen */
  setenv(PB_ENV_TOGGLES, "11111111", 1);
  setenv(PB_ENV_TOGGLES_TICTOC, "11111111", 1);
  if ((long)pb_toggles() != mask) {
    fprintf(stderr, "toggles re-read the variable\n");
    return 1;
  }
  pb_set_warning_handler(NULL, NULL);
  int want = c->want_warnings;
  bool warnings_ok = want < 0 ? (w.count == 0 || w.count == 1) : w.count == want;
  if ((unsigned long)mask != c->want_mask || !warnings_ok) {
    fprintf(stderr, "%s=%s %s=%s: mask 0x%lx (want 0x%x), %d warnings (want %d), last '%s'\n",
            PB_ENV_TOGGLES, c->pb_value ? c->pb_value : "(unset)", PB_ENV_TOGGLES_TICTOC,
            c->tt_value ? c->tt_value : "(unset)", mask, c->want_mask, w.count, want, w.last);
    return 1;
  }
  if (c->warn_has != NULL && strstr(w.last, c->warn_has) == NULL) {
    fprintf(stderr, "the warning '%s' lacks '%s'\n", w.last, c->warn_has);
    return 1;
  }
  return 0;
}

static void run_case(const toggle_case *c) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(child_check(c));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0)
    fail_msg("%s=%s %s=%s: child check failed (see stderr)", PB_ENV_TOGGLES,
             c->pb_value ? c->pb_value : "(unset)", PB_ENV_TOGGLES_TICTOC,
             c->tt_value ? c->tt_value : "(unset)");
}

/* One variable (PORTER_BENCH_TOGGLES) set to value, the other unset. */
static void run_child(const char *value, unsigned want_mask, int want_warnings) {
  const char *has = want_warnings > 0 ? value : NULL;
  toggle_case c = {value, NULL, want_mask, want_warnings, has};
  run_case(&c);
  /* the design document's name alone behaves the same */
  toggle_case t = {NULL, value, want_mask, want_warnings,
                   want_warnings > 0 ? PB_ENV_TOGGLES_TICTOC : NULL};
  run_case(&t);
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

static void test_env_names(void **state) {
  (void)state;
  assert_string_equal(PB_ENV_TOGGLES, "PORTER_BENCH_TOGGLES");
  assert_string_equal(PB_ENV_TOGGLES_TICTOC, "TICTOC_TOGGLES");
  /* PORTER_BENCH_TOGGLES=1 ./app turns toggle 0 on */
  toggle_case pb_only = {"1", NULL, 1u, 0, NULL};
  run_case(&pb_only);
  toggle_case tt_only = {NULL, "10", 2u, 0, NULL};
  run_case(&tt_only);
}

static void test_env_both_set(void **state) {
  (void)state;
  /* equal values: no warning */
  toggle_case same = {"101", "101", 5u, 0, NULL};
  run_case(&same);
  /* different values: PORTER_BENCH_TOGGLES wins, one warning naming both */
  toggle_case differ = {"00000010", "00000001", 2u, 1, PB_ENV_TOGGLES_TICTOC};
  run_case(&differ);
  /* an empty PORTER_BENCH_TOGGLES counts as unset: TICTOC_TOGGLES is used */
  toggle_case empty_pb = {"", "1", 1u, 0, NULL};
  run_case(&empty_pb);
  /* a malformed PORTER_BENCH_TOGGLES still wins: all off, warnings name it */
  toggle_case bad_pb = {"2", "1", 0u, 2, PB_ENV_TOGGLES};
  run_case(&bad_pb);
}

static void test_env_empty(void **state) {
  (void)state;
  /* an empty value counts as unset: all off, no warning */
  run_child("", 0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_valid),
      cmocka_unit_test(test_parse_malformed),
      cmocka_unit_test(test_env_unset),
      cmocka_unit_test(test_env_valid),
      cmocka_unit_test(test_env_malformed_warns_once),
      cmocka_unit_test(test_env_empty),
      cmocka_unit_test(test_env_names),
      cmocka_unit_test(test_env_both_set),
  };
  return cmocka_run_group_tests_name("toggles", tests, NULL, NULL);
}
