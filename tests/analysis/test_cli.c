/*
 * test_cli.c - the CLI's shared argument parser (src/cli/args.c) and its
 * layout and formatting helpers (src/cli/util.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "args.h"
#include "util.h"

static const char HELP[] = "usage: t [--flag] [--value V] [--list A ...] [ARG ...]\n\nmore\n";

typedef struct parsed {
  bool flag, flag2;
  const char *value;
  pb_cli_list list, each, pos;
} parsed;

/* Parses the NULL-terminated arguments with a table of every kind. */
static pb_cli_parse_result parse(parsed *p, size_t max_pos, ...) {
  char *argv[32];
  int argc = 0;
  va_list ap;
  va_start(ap, max_pos);
  for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 32;) argv[argc++] = a;
  va_end(ap);
  memset(p, 0, sizeof *p);
  const pb_cli_opt opts[] = {
      {"show", 's', PB_CLI_FLAG, &p->flag, NULL, NULL},
      {"show-probes", 0, PB_CLI_FLAG, &p->flag2, NULL, NULL},
      {"value", 0, PB_CLI_VALUE, NULL, &p->value, NULL},
      {"list", 0, PB_CLI_LIST, NULL, NULL, &p->list},
      {"each", 0, PB_CLI_REPEAT, NULL, NULL, &p->each},
  };
  const pb_cli_spec spec = {"t", HELP, opts, 5, &p->pos, 0, max_pos, "ARG"};
  return pb_cli_parse(&spec, argc, argv);
}

static void done(parsed *p) {
  pb_cli_list_free(&p->list);
  pb_cli_list_free(&p->each);
  pb_cli_list_free(&p->pos);
}

static void test_kinds(void **state) {
  (void)state;
  parsed p;
  assert_int_equal(
      parse(&p, 0, "a", "--show", "--value", "v", "--list", "x", "y", "--show-probes", "b", NULL),
      PB_CLI_PARSED);
  assert_true(p.flag && p.flag2);
  assert_string_equal(p.value, "v");
  assert_int_equal(p.list.n, 2);
  assert_string_equal(p.list.items[1], "y");
  assert_int_equal(p.pos.n, 2);
  assert_string_equal(p.pos.items[0], "a");
  assert_string_equal(p.pos.items[1], "b");
  done(&p);
  /* "=" forms, a repeated list joins, a repeated value: the last wins, short alias */
  assert_int_equal(
      parse(&p, 0, "--value=-x", "--list=a", "--list", "b", "--value", "w", "-s", NULL),
      PB_CLI_PARSED);
  assert_string_equal(p.value, "w");
  assert_int_equal(p.list.n, 2);
  assert_true(p.flag);
  done(&p);
}

/* PB_CLI_REPEAT: one value each time, appended; what follows is positional */
static void test_repeat(void **state) {
  (void)state;
  parsed p;
  assert_int_equal(parse(&p, 0, "--each", "a", "RUN_A", "--each=-b", "RUN_B", NULL), PB_CLI_PARSED);
  assert_true(p.each.given);
  assert_int_equal(p.each.n, 2);
  assert_string_equal(p.each.items[0], "a");
  assert_string_equal(p.each.items[1], "-b");
  assert_int_equal(p.pos.n, 2);
  assert_string_equal(p.pos.items[0], "RUN_A");
  assert_string_equal(p.pos.items[1], "RUN_B");
  done(&p);
  assert_int_equal(parse(&p, 0, "RUN_A", NULL), PB_CLI_PARSED);
  assert_false(p.each.given);
  assert_int_equal(p.each.n, 0);
  done(&p);
  assert_int_equal(parse(&p, 0, "--each", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--each", "--show", NULL), PB_CLI_ERROR);
  done(&p);
}

static void test_dashdash(void **state) {
  (void)state;
  parsed p;
  /* "--" ends a list and makes the rest positional, options included */
  assert_int_equal(parse(&p, 0, "--list", "x", "--", "--show", "-", NULL), PB_CLI_PARSED);
  assert_int_equal(p.list.n, 1);
  assert_false(p.flag);
  assert_int_equal(p.pos.n, 2);
  assert_string_equal(p.pos.items[0], "--show");
  assert_string_equal(p.pos.items[1], "-");
  done(&p);
}

static void test_errors(void **state) {
  (void)state;
  parsed p;
  /* exact names only: a prefix is not accepted, even a unique one */
  assert_int_equal(parse(&p, 0, "--val", "v", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--list", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--list", "--show", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--list=", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--value", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--value", "-v", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--show=1", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "-x", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 1, "a", "b", NULL), PB_CLI_ERROR);
  done(&p);
  assert_int_equal(parse(&p, 0, "--help", NULL), PB_CLI_HELP);
  done(&p);
  assert_int_equal(parse(&p, 0, "a", "-h", NULL), PB_CLI_HELP);
  done(&p);
}

static void test_ellipsize(void **state) {
  (void)state;
  char buf[64];
  pb_cli_ellipsize("compress_MEMORY_STEP", 12, buf, sizeof buf);
  assert_string_equal(buf, "compre\xe2\x80\xa6_STEP");
  assert_int_equal(pb_cli_width(buf), 12);
  pb_cli_ellipsize("short", 12, buf, sizeof buf);
  assert_string_equal(buf, "short");
  /* a multi-byte name is cut on code points */
  pb_cli_ellipsize("\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5", 5, buf, sizeof buf);
  assert_string_equal(buf, "\xc2\xb5\xc2\xb5\xe2\x80\xa6\xc2\xb5\xc2\xb5");
}

/* Runs pb_cli_wrap into a memory stream. */
static char *wrap(const char *prefix, const char *text, int width, bool shell) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  assert_non_null(f);
  pb_cli_wrap(f, prefix, "    ", text, width, shell);
  fclose(f);
  return out;
}

static void test_wrap(void **state) {
  (void)state;
  char *s = wrap("  key: ", "aaa bbb ccc ddd", 16, false);
  assert_string_equal(s, "  key: aaa bbb\n    ccc ddd\n");
  free(s);
  /* a command line: continued lines end with " \", counted in the width */
  s = wrap("  key: ", "aaa bbb ccc ddd", 16, true);
  assert_string_equal(s, "  key: aaa bbb \\\n    ccc ddd\n");
  free(s);
  s = wrap("  k: ", "averyveryverylongword x", 10, false);
  assert_string_equal(s, "  k: averyveryverylongword\n    x\n");
  free(s);
}

static void test_format_p(void **state) {
  (void)state;
  char buf[32];
  pb_cli_format_p(0.04321, buf, sizeof buf);
  assert_string_equal(buf, "0.0432");
  pb_cli_format_p(0.001, buf, sizeof buf);
  assert_string_equal(buf, "0.0010");
  pb_cli_format_p(3.21e-5, buf, sizeof buf);
  assert_string_equal(buf, "3.2e-05");
  /* never wider than 7 columns (compare's p column) */
  pb_cli_format_p(4.3e-150, buf, sizeof buf);
  assert_string_equal(buf, "4e-150");
  pb_cli_format_p(1e-310, buf, sizeof buf); /* subnormal */
  assert_string_equal(buf, "<1e-300");
  pb_cli_format_p(0, buf, sizeof buf);
  assert_string_equal(buf, "<1e-300");
  pb_cli_format_p(NAN, buf, sizeof buf);
  assert_string_equal(buf, "-");
}

static void test_format_time(void **state) {
  (void)state;
  char buf[64];
  setenv("TZ", "UTC", 1);
  pb_cli_format_time(1795851000.25, buf, sizeof buf);
  assert_string_equal(buf, "2026-11-28 07:30:00 +0000");
  setenv("TZ", "CET-1", 1);
  pb_cli_format_time(1795851000.25, buf, sizeof buf);
  assert_string_equal(buf, "2026-11-28 08:30:00 +0100");
  pb_cli_format_time(NAN, buf, sizeof buf);
  assert_string_equal(buf, "-");
  setenv("TZ", "UTC", 1);
}

static void test_term_width(void **state) {
  (void)state;
  if (isatty(1)) skip();
  setenv("COLUMNS", "132", 1);
  assert_int_equal(pb_cli_term_width(), 132);
  setenv("COLUMNS", "40", 1); /* never below 80 */
  assert_int_equal(pb_cli_term_width(), 80);
  setenv("COLUMNS", "12x", 1);
  assert_int_equal(pb_cli_term_width(), 80);
  unsetenv("COLUMNS");
  assert_int_equal(pb_cli_term_width(), 80);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),      cmocka_unit_test(test_repeat),
      cmocka_unit_test(test_dashdash),   cmocka_unit_test(test_errors),
      cmocka_unit_test(test_ellipsize),  cmocka_unit_test(test_wrap),
      cmocka_unit_test(test_format_p),   cmocka_unit_test(test_format_time),
      cmocka_unit_test(test_term_width),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
