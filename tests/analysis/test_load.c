/*
 * test_load.c - loading runs: the original's samples, the demo fixture (our
 * format, latest-run selection, memory with heap and GPU values, metadata)
 * and malformed files, each of which must give a clear diagnostic while
 * the other benchmarkers of the run still load.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "porter_bench_analysis.h"

#ifndef PB_FIXTURES
#error "PB_FIXTURES must name tests/analysis/fixtures"
#endif

static void check_no_diags(const pb_run *run) {
  for (size_t i = 0; i < pb_run_diagnostic_count(run); i++)
    print_error("%s\n", pb_run_diagnostic(run, i));
  assert_int_equal(pb_run_diagnostic_count(run), 0);
}

/* An auto-save journal continues the full file: repeated lines dropped, a torn last line skipped.
 */
static void test_autosave_journal(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/journal_run", false, &run, &err), PB_OK);
  assert_int_equal(pb_run_diagnostic_count(run), 1); /* the torn last line */
  assert_non_null(strstr(pb_run_diagnostic(run, 0), "unfinished last line"));
  assert_int_equal(pb_run_record_count(run), 1); /* a journal is no benchmarker */
  const pb_record *x = pb_run_record(run, 0);
  assert_string_equal(pb_record_name(x), "x");
  assert_int_equal(pb_record_iter_count(x), 5);
  const pb_iter_info *info = pb_record_infos(x);
  for (int64_t i = 0; i < 5; i++) assert_int_equal(info[i].step_number, i);
  size_t a = (size_t)pb_record_topic_index(x, "a");
  assert_true(pb_record_absolutes(x, a)[1] == 0.003);
  assert_true(pb_record_absolutes(x, a)[4] == 0.009);
  pb_run_free(run);
}

static void test_samples(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/samples", false, &run, &err), PB_OK);
  check_no_diags(run);
  assert_int_equal(pb_run_record_count(run), 2);
  const pb_record *t = pb_run_record(run, 1);
  assert_string_equal(pb_record_name(pb_run_record(run, 0)), "memory");
  assert_string_equal(pb_record_name(t), "training");
  assert_ptr_equal(pb_run_find(run, "training"), t);
  assert_null(pb_run_find(run, "nope"));

  assert_int_equal(pb_record_iter_count(t), 2);
  assert_int_equal(pb_record_topic_count(t), 5);
  const char *order[] = {"forward", "backward", "update", "gstop", "GLOBAL"};
  for (size_t i = 0; i < 5; i++) assert_string_equal(pb_record_topic(t, i), order[i]);
  assert_int_equal(pb_record_topic_index(t, "GLOBAL"), 4);
  assert_true(pb_record_absolutes(t, 0)[0] == 0.039113389000021925);
  assert_true(pb_record_absolutes(t, 4)[1] == 0.06048190799998565);
  const pb_iter_info *info = pb_record_infos(t);
  assert_int_equal(info[1].step_number, 1);
  assert_true(info[1].start_time == 1795673620.2418678);
  size_t nc;
  const pb_call *c = pb_record_calls(t, &nc);
  assert_int_equal(nc, 10);
  assert_int_equal(c[4].iter, 0);
  assert_int_equal(c[4].crono, 4);
  assert_int_equal(c[4].topic, 4);
  assert_true(c[4].time == 0.07365623300000834);
  assert_int_equal(c[5].iter, 1);
  assert_int_equal(c[5].crono, 0);

  size_t ns;
  const pb_saved_summary *s = pb_record_saved_summary(t, &ns);
  assert_int_equal(ns, 5);
  assert_string_equal(s[4].topic, "GLOBAL");
  assert_true(s[4].mean == 0.06809368649999784);
  assert_true(s[3].quantile_filtered == 3.72881111161405e-05);

  const pb_record *m = pb_run_record(run, 0);
  assert_int_equal(pb_record_topic_count(m), 10);
  assert_int_equal(pb_record_memory_count(m), 10);
  assert_int_equal(pb_record_memory_iter_count(m), 2);
  assert_int_equal(pb_record_memory_topic_count(m), 5);
  assert_string_equal(pb_record_memory_topic(m, 1), "allocate");
  size_t nm;
  const pb_mem_record *mr = pb_record_memory(m, &nm);
  assert_true(mr[1].rss == 142016512.0);
  assert_true(mr[1].peak == 129814528.0);
  assert_true(mr[0].peak == 0.0);
  assert_true(isnan(mr[0].heap));
  assert_true(isnan(mr[0].cuda[PB_CUDA_ALLOCATED]));
  assert_false(pb_record_has_cuda(m));
  assert_false(pb_record_has_heap(m));
  assert_true(pb_chart_applies(PB_CHART_MEMORY, m));
  assert_false(pb_chart_applies(PB_CHART_CUDA_MEMORY, m));
  assert_false(pb_chart_applies(PB_CHART_MEMORY, t));
  pb_run_free(run);
}

static void test_timestamps(void **state) {
  (void)state;
  int64_t a, b;
  int seq;
  assert_true(pb_run_parse_timestamp("2026-11-26T07-15-42.123456Z", &a, &seq));
  assert_int_equal(seq, 0);
  assert_true(a == 1795677342123456LL);
  assert_true(pb_run_parse_timestamp("2026-11-26T07-15-42.123456Z-12", &b, &seq));
  assert_int_equal(seq, 12);
  assert_true(a == b);
  assert_true(pb_run_parse_timestamp("06:13-26:11:2026", &a, &seq)); /* local time (TZ=UTC here) */
  assert_true(a == 1795673580000000LL);
  assert_true(pb_run_parse_timestamp("6:03-1:2:2026", &a, NULL));
  assert_false(pb_run_parse_timestamp("not-a-run", NULL, NULL));
  assert_false(pb_run_parse_timestamp("2026-13-26T07-15-42.123456Z", NULL, NULL));
  assert_false(pb_run_parse_timestamp("2026-11-26T07-15-42.123456Zx", NULL, NULL));
  assert_false(pb_run_parse_timestamp("25:13-26:11:2026", NULL, NULL));
  assert_false(pb_run_parse_timestamp("", NULL, NULL));
  assert_false(pb_run_parse_timestamp(NULL, NULL, NULL));
}

static void test_resolve(void **state) {
  (void)state;
  char buf[4096];
  pb_error err;
  /* the latest of three runs in two formats: "-1" beats the same time without it */
  assert_int_equal(pb_run_resolve(PB_FIXTURES "/demo_root", true, buf, sizeof buf, &err), PB_OK);
  assert_non_null(strstr(buf, "TICTOC_PERFORMANCE/2026-11-26T07-15-42.123456Z-1"));
  /* a folder of runs */
  assert_int_equal(
      pb_run_resolve(PB_FIXTURES "/demo_root/TICTOC_PERFORMANCE", true, buf, sizeof buf, &err),
      PB_OK);
  assert_non_null(strstr(buf, "07-15-42.123456Z-1"));
  /* a run folder itself, with or without latest */
  assert_int_equal(pb_run_resolve(PB_FIXTURES "/samples", true, buf, sizeof buf, &err), PB_OK);
  assert_string_equal(buf, PB_FIXTURES "/samples");
  assert_int_equal(pb_run_resolve(PB_FIXTURES "/demo_root", false, buf, sizeof buf, &err), PB_OK);
  assert_string_equal(buf, PB_FIXTURES "/demo_root");
  /* errors name the path */
  assert_int_equal(pb_run_resolve(PB_FIXTURES "/missing", true, buf, sizeof buf, &err),
                   PB_ENOTFOUND);
  assert_non_null(strstr(err.message, "missing"));
  assert_int_equal(pb_run_resolve(PB_FIXTURES "/demo_root/TICTOC_PERFORMANCE/not-a-run", true, buf,
                                  sizeof buf, &err),
                   PB_ENOTFOUND);
  assert_non_null(strstr(err.message, "no run found"));
  assert_int_equal(pb_run_resolve(PB_FIXTURES "/samples", true, buf, 4, &err), PB_EINVAL);
  assert_int_equal(pb_run_resolve(NULL, true, buf, sizeof buf, &err), PB_EINVAL);
  pb_run *run = (pb_run *)1;
  assert_int_equal(pb_run_load(PB_FIXTURES "/demo_root", false, &run, &err), PB_ENOTFOUND);
  assert_null(run);
}

static void test_demo(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/demo_root", true, &run, &err), PB_OK);
  check_no_diags(run);
  assert_int_equal(pb_run_record_count(run), 1);
  const pb_record *r = pb_run_record(run, 0);
  assert_string_equal(pb_record_name(r), "demo");
  assert_int_equal(pb_record_iter_count(r), 4);
  long b = pb_record_topic_index(r, "b");
  assert_int_equal(b, 1);
  assert_true(isnan(pb_record_absolutes(r, (size_t)b)[2])); /* b absent in iteration 2 */
  assert_true(pb_record_infos(r)[3].stop_time == 0);        /* unfinished iteration */
  pb_stats s;
  assert_int_equal(pb_record_stats(r, 0, &s), PB_OK);
  assert_int_equal(s.count, 4);
  assert_true(fabs(s.mean - 0.004) < 1e-15);
  assert_true(fabs(s.quantile_filtered - 0.002) < 1e-15);
  assert_int_equal(pb_record_stats(r, (size_t)b, &s), PB_OK);
  assert_int_equal(s.count, 3);
  assert_true(fabs(s.mean - 0.0007) < 1e-15);
  assert_int_equal(pb_record_stats(r, 99, &s), PB_EINVAL);
  /* calls in call order: iteration 1 is a, b, a, gstop, GLOBAL */
  size_t nc;
  const pb_call *c = pb_record_calls(r, &nc);
  assert_int_equal(nc, 4 + 5 + 3 + 4);
  const uint32_t want[] = {0, 1, 0, 2, 3};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(c[4 + i].iter, 1);
    assert_int_equal(c[4 + i].crono, i);
    assert_int_equal(c[4 + i].topic, want[i]);
  }
  assert_true(c[6].time == 0.0005);
  /* memory: heap, GPU values (an unknown GPU key is ignored) */
  size_t nm;
  const pb_mem_record *m = pb_record_memory(r, &nm);
  assert_int_equal(nm, 12);
  assert_true(pb_record_has_heap(r));
  assert_true(pb_record_has_cuda(r));
  assert_true(m[0].cuda[PB_CUDA_ALLOCATED] == 64.0 * 1048576);
  assert_true(m[11].cuda[PB_CUDA_MAX_RESERVED] == 400.0 * 1048576);
  assert_true(m[11].cuda[PB_CUDA_DEVICE_USED] == 514.0 * 1048576); /* "devices" (a list) skipped */
  assert_true(m[0].cuda[PB_CUDA_DEVICE_TOTAL] == 140000.0 * 1048576);
  assert_true(m[1].peak == 115.0 * 1048576);
  assert_true(isnan(m[0].peak));
  assert_true(m[2].heap == 60.0 * 1048576);
  for (int k = 0; k < PB_CHART_KIND_COUNT; k++) assert_true(pb_chart_applies((pb_chart_kind)k, r));
  const char *meta = pb_run_metadata(run);
  assert_non_null(meta);
  assert_non_null(strstr(meta, "host: fixture-host\n"));
  assert_non_null(strstr(meta, "timer_overhead_ns: 23.5\n"));
  assert_non_null(strstr(meta, "clock.id: CLOCK_MONOTONIC\n")); /* one level of nesting */
  pb_run_free(run);
  pb_run_free(NULL);
}

/* ---- malformed files ----------------------------------------------------- */

static char tmpdir[256];

static int make_tmp(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_load_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, size_t len) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static char *read_sample(const char *name, size_t *len) {
  char p[512];
  snprintf(p, sizeof p, PB_FIXTURES "/samples/%s", name);
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc(*len + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, *len, f), *len);
  buf[*len] = 0;
  fclose(f);
  return buf;
}

/*
 * Writes good_STEP_DICT_DATA.json (the training sample) and
 * bad_<suffix> with text, loads the folder and checks that "good" loaded
 * fully and that one diagnostic names the bad file and contains expect.
 * Returns the run for further checks (caller frees).
 */
static pb_run *load_with_bad(const char *suffix, const char *text, size_t len, const char *expect) {
  size_t glen;
  char *good = read_sample("training_STEP_DICT_DATA.json", &glen);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -f '%s'/*.json", tmpdir);
  assert_int_equal(system(cmd), 0);
  write_file("good_STEP_DICT_DATA.json", good, glen);
  free(good);
  char name[128];
  snprintf(name, sizeof name, "bad%s", suffix);
  write_file(name, text, len);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(tmpdir, true, &run, &err), PB_OK);
  const pb_record *g = pb_run_find(run, "good");
  assert_non_null(g);
  assert_int_equal(pb_record_iter_count(g), 2);
  assert_int_equal(pb_run_diagnostic_count(run), 1);
  const char *d = pb_run_diagnostic(run, 0);
  if (!strstr(d, expect) || !strstr(d, name))
    print_error("diagnostic: %s\nexpected: %s\n", d, expect);
  assert_non_null(strstr(d, name));
  assert_non_null(strstr(d, expect));
  return run;
}

#define BAD(suffix, lit, expect) load_with_bad(suffix, lit, sizeof(lit) - 1, expect)
#define DATA "_STEP_DICT_DATA.json"
/* The members besides "absolutes" that every iteration must have. */
#define INFO "\"info\": {\"STEP_NUMBER\": 0, \"START_TIME\": 1, \"STOP_TIME\": 2}"
#define REST ", " INFO ", \"individual_calls\": {}"

static void test_truncated(void **state) {
  (void)state;
  size_t len;
  char *text = read_sample("training_STEP_DICT_DATA.json", &len);
  pb_run *run = load_with_bad(DATA, text, len * 6 / 10, "the file is truncated");
  /* the first, complete iteration is kept, and the diagnostic says so */
  assert_int_equal(pb_record_iter_count(pb_run_find(run, "bad")), 1);
  assert_non_null(strstr(pb_run_diagnostic(run, 0), "kept the 1 complete iteration before it"));
  pb_run_free(run);
  free(text);
}

static void test_wrong_type(void **state) {
  (void)state;
  pb_run *run = BAD(DATA, "[\n{\"absolutes\": {\"a\": \"fast\"}}]",
                    "expected a number of seconds for absolutes[\"a\"], got a string");
  assert_non_null(strstr(pb_run_diagnostic(run, 0), "bad" DATA ":2:"));
  assert_int_equal(pb_record_iter_count(pb_run_find(run, "bad")), 0);
  pb_run_free(run);
  pb_run_free(BAD(DATA, "[{\"info\": [1, 2]}]", "\"info\" must be an object, got a list"));
  pb_run_free(BAD(DATA, "[{\"individual_calls\": {\"a\": [{\"time\": 1, \"crono_counter\": -1}]}}]",
                  "expected a non-negative integer for \"crono_counter\""));
  pb_run_free(BAD(DATA, "{}", "expected a list of iterations"));
  pb_run_free(BAD(DATA, "[7]", "expected an iteration object"));
}

static void test_missing_keys(void **state) {
  (void)state;
  pb_run_free(BAD(DATA, "[{\"individual_calls\": {\"a\": [{\"crono_counter\": 0}]}}]",
                  "a call of \"a\" lacks \"time\""));
  pb_run_free(BAD("_MEMORY.json", "[{\"data\": {\"gstep\": [{\"total memory usage\": 5}]}}]",
                  "lacks \"crono_counter\""));
}

/* Every iteration needs "absolutes", "info" (with its three keys) and
 * "individual_calls", every memory iteration "info" and "data": a missing one
 * is named with the file and the iteration, and the iterations before it are
 * kept. */
static void test_missing_required_keys(void **state) {
  (void)state;
  pb_run *run = BAD(DATA,
                    "[{\"absolutes\": {\"a\": 1}" REST
                    "},\n {\"absolutes\": {\"a\": 2}, "
                    "\"individual_calls\": {}}]",
                    "iteration 1 lacks the required key \"info\"");
  assert_non_null(strstr(pb_run_diagnostic(run, 0), "bad" DATA ":2:"));
  assert_int_equal(pb_record_iter_count(pb_run_find(run, "bad")), 1);
  pb_run_free(run);
  pb_run_free(BAD(DATA, "[{" INFO ", \"individual_calls\": {}}]",
                  "iteration 0 lacks the required key \"absolutes\""));
  pb_run_free(BAD(DATA, "[{\"absolutes\": {}, " INFO "}]",
                  "iteration 0 lacks the required key \"individual_calls\""));
  pb_run_free(BAD(DATA,
                  "[{\"absolutes\": {}, \"info\": {\"STEP_NUMBER\": 0, \"START_TIME\": 1}, "
                  "\"individual_calls\": {}}]",
                  "iteration 0: \"info\" lacks the required key \"STOP_TIME\""));
  pb_run_free(BAD("_MEMORY.json", "[{\"data\": {}}]",
                  "memory iteration 0 lacks the required key \"info\""));
  pb_run_free(
      BAD("_MEMORY.json", "[{" INFO "}]", "memory iteration 0 lacks the required key \"data\""));
}

/* The original's start()/gstop() workflow writes "START_TIME": []: it loads,
 * as NAN; a list with something in it is still an error. */
static void test_start_time_empty_list(void **state) {
  (void)state;
  static const char text[] =
      "[{\"absolutes\": {\"a\": 0.5, \"GLOBAL\": 0.5}, \"info\": {\"STEP_NUMBER\": 0, "
      "\"START_TIME\": [], \"STOP_TIME\": 1700000000.5}, \"individual_calls\": {\"a\": "
      "[{\"time\": 0.5, \"crono_counter\": 0}]}}]";
  write_file("sg" DATA, text, sizeof text - 1);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(tmpdir, true, &run, &err), PB_OK);
  check_no_diags(run);
  const pb_record *r = pb_run_find(run, "sg");
  assert_non_null(r);
  assert_int_equal(pb_record_iter_count(r), 1);
  assert_true(isnan(pb_record_infos(r)[0].start_time));
  assert_true(pb_record_infos(r)[0].stop_time == 1700000000.5);
  assert_true(pb_record_absolutes(r, 0)[0] == 0.5);
  pb_run_free(run);
  char p[512];
  snprintf(p, sizeof p, "%s/sg" DATA, tmpdir);
  unlink(p);
  pb_run_free(BAD(DATA,
                  "[{\"absolutes\": {}, \"info\": {\"STEP_NUMBER\": 0, \"START_TIME\": [1], "
                  "\"STOP_TIME\": 2}, \"individual_calls\": {}}]",
                  "expected a number or [] for \"START_TIME\", got a list"));
}

static void test_empty_and_garbage(void **state) {
  (void)state;
  pb_run_free(BAD(DATA, "", "the file is empty"));
  pb_run_free(BAD(DATA, "   \n", "the file is empty"));
  pb_run_free(BAD(DATA, "[] trailing", "bad" DATA ":1:"));
  pb_run_free(BAD(DATA, "[{\"absolutes\": {\"a\": 1}}", "the file is truncated"));
  pb_run_free(load_with_bad(DATA, "\x00\x01\xff[", 4, "bad" DATA ":1:"));
  pb_run_free(BAD(DATA, "[{\"absolutes\": {\"a\": 0.5,}}]", "bad" DATA ":1:"));
}

static void test_huge_numbers(void **state) {
  (void)state;
  pb_run_free(BAD(DATA, "[{\"absolutes\": {\"a\": 1e400}}]", "number out of range"));
  pb_run_free(BAD(
      DATA, "[{\"individual_calls\": {\"a\": [{\"time\": 1, \"crono_counter\": 99999999999}]}}]",
      "crono_counter"));
  /* a huge but finite value loads */
  static const char bigtext[] = "[{\"absolutes\": {\"a\": 1e300}" REST "}]";
  write_file("big" DATA, bigtext, sizeof bigtext - 1);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(tmpdir, true, &run, &err), PB_OK);
  const pb_record *big = pb_run_find(run, "big");
  assert_non_null(big);
  assert_true(pb_record_absolutes(big, 0)[0] == 1e300);
  pb_run_free(run);
  char p[512];
  snprintf(p, sizeof p, "%s/big" DATA, tmpdir);
  unlink(p);
}

/* Writes the text of one JSON number of kind k (random digits) into buf. */
static void number_text(char *buf, size_t n, int k, uint64_t *rng) {
  *rng ^= *rng << 13;
  *rng ^= *rng >> 7;
  *rng ^= *rng << 17;
  uint64_t r = *rng;
  char digits[32];
  int nd = 1 + (int)(r % 24); /* 1..24 digits: below and above the fast path's 19 */
  for (int i = 0; i < nd; i++) digits[i] = (char)('0' + (r >> (8 + i % 48)) % 10);
  if (nd > 1 && digits[0] == '0') digits[0] = '1';
  int point = (int)((r >> 40) % (unsigned)(nd + 1)); /* digits before the point */
  const char *sign = k % 3 == 0 ? "-" : "";
  if (k % 5 == 4) { /* with an exponent */
    snprintf(buf, n, "%s%.*s.%.*se%d", sign, 1, digits, nd > 1 ? nd - 1 : 1,
             nd > 1 ? digits + 1 : "5", (int)(r % 41) - 20);
  } else if (point == nd) { /* an integer */
    snprintf(buf, n, "%s%.*s", sign, nd, digits);
  } else if (point == 0) { /* 0.ddd, with up to 3 more zeros after the point */
    snprintf(buf, n, "%s0.%.*s%.*s", sign, (int)(r >> 60) % 4, "000", nd, digits);
  } else {
    snprintf(buf, n, "%s%.*s.%.*s", sign, point, digits, nd - point, digits + point);
  }
}

/* Every number reads as strtod reads it (correctly rounded), bit for bit, whether the
 * loader's fast path or simdjson's parser takes it: times of absolutes and of calls. */
static void test_number_forms(void **state) {
  (void)state;
  enum { N = 4000 };
  static char nums[N][64];
  uint64_t rng = 0x2545F4914F6CDD1Dull;
  static const char *const fixed[] = {"0",
                                      "-0",
                                      "0.0",
                                      "-0.0",
                                      "9007199254740991",
                                      "9007199254740993",
                                      "0.001071958",
                                      "1795673620.0144472",
                                      "0.1234567890123456789012",
                                      "123456789012345678901"};
  size_t cap = (size_t)N * 200 + 64, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  text[len++] = '[';
  for (int i = 0; i < N; i++) {
    if (i < (int)(sizeof fixed / sizeof *fixed))
      snprintf(nums[i], sizeof nums[i], "%s", fixed[i]);
    else
      number_text(nums[i], sizeof nums[i], i, &rng);
    len += (size_t)snprintf(text + len, cap - len,
                            "%s{\"absolutes\": {\"t\": %s}, " INFO
                            ", \"individual_calls\": {\"t\": [{\"time\": %s, \"crono_counter\": "
                            "%d}]}}",
                            i ? "," : "", nums[i], nums[i], i);
  }
  text[len++] = ']';
  write_file("nums" DATA, text, len);
  free(text);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(tmpdir, true, &run, &err), PB_OK);
  assert_int_equal(pb_run_diagnostic_count(run), 0);
  const pb_record *r = pb_run_find(run, "nums");
  assert_non_null(r);
  assert_int_equal(pb_record_iter_count(r), N);
  size_t nc = 0;
  const pb_call *calls = pb_record_calls(r, &nc);
  assert_int_equal(nc, N);
  const double *abs = pb_record_absolutes(r, 0);
  for (int i = 0; i < N; i++) {
    double want = strtod(nums[i], NULL);
    if (memcmp(&abs[i], &want, sizeof want) != 0 || memcmp(&calls[i].time, &want, sizeof want))
      fail_msg("number %s read as %.17g / %.17g, strtod: %.17g", nums[i], abs[i], calls[i].time,
               want);
  }
  pb_run_free(run);
  char p[512];
  snprintf(p, sizeof p, "%s/nums" DATA, tmpdir);
  unlink(p);
}

static void test_deep_nesting(void **state) {
  (void)state;
  size_t depth = 100000;
  size_t len = 0;
  char *text = malloc(2 * depth + 200);
  assert_non_null(text);
  /* balanced, inside an "extra" the loader skips: valid JSON, it loads */
  len += (size_t)sprintf(
      text, "[{\"absolutes\": {}, " INFO
            ", \"individual_calls\": {\"a\": [{\"time\": 1, \"crono_counter\": 0, \"extra\": ");
  size_t head = len;
  memset(text + len, '[', depth);
  len += depth;
  memset(text + len, ']', depth);
  len += depth;
  len += (size_t)sprintf(text + len, "}]}}]");
  write_file("deep" DATA, text, len);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(tmpdir, true, &run, &err), PB_OK);
  assert_int_equal(pb_run_diagnostic_count(run), 0);
  assert_int_equal(pb_record_iter_count(pb_run_find(run, "deep")), 1);
  pb_run_free(run);
  char p[512];
  snprintf(p, sizeof p, "%s/deep" DATA, tmpdir);
  unlink(p);
  /* where a number is expected: a clear error */
  pb_run_free(load_with_bad(DATA, "[{\"absolutes\": {\"a\": [[[[[[[[1]]]]]]]]}}]", 41,
                            "expected a number of seconds for absolutes[\"a\"], got a list"));
  /* unbalanced: a clear error, no crash */
  pb_run_free(load_with_bad(DATA, text, head + depth, "the file is truncated"));
  free(text);
}

static void test_long_names(void **state) {
  (void)state;
  size_t n = 20000;
  char *text = malloc(n + 200);
  assert_non_null(text);
  size_t len = (size_t)sprintf(text, "[{\"absolutes\": {\"");
  memset(text + len, 'x', n);
  len += n;
  len += (size_t)sprintf(text + len, "\": 0.25}" REST "}]");
  write_file("long" DATA, text, len);
  free(text);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(tmpdir, true, &run, &err), PB_OK);
  const pb_record *r = pb_run_find(run, "long");
  assert_non_null(r);
  assert_int_equal(strlen(pb_record_topic(r, 0)), n);
  assert_true(pb_record_absolutes(r, 0)[0] == 0.25);
  pb_run_free(run);
  char p[512];
  snprintf(p, sizeof p, "%s/long" DATA, tmpdir);
  unlink(p);
}

static void test_bad_memory_keeps_data(void **state) {
  (void)state;
  /* bad_MEMORY.json fails; bad's (absent) data and good still load */
  pb_run *run =
      BAD("_MEMORY.json",
          "[{\"data\": {\"gstep\": [{\"total memory usage\": \"lots\", \"crono_counter\": 0}]}}]",
          "expected a number of bytes or null for \"total memory usage\", got a string");
  assert_int_equal(pb_record_memory_count(pb_run_find(run, "bad")), 0);
  pb_run_free(run);
  /* a summary file written by Python with NaN is not JSON: a diagnostic, the data still loads */
  pb_run_free(
      BAD("_STEP_DICT_SUMMARY.json", "{\"a\": {\"mean\": NaN}}", "bad_STEP_DICT_SUMMARY.json:1:"));
}

static void test_load_files(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load_files(PB_FIXTURES "/samples/memory_STEP_DICT_DATA.json", &run, &err),
                   PB_OK);
  assert_int_equal(pb_run_record_count(run), 1);
  assert_int_equal(pb_record_memory_count(pb_run_record(run, 0)), 10);
  pb_run_free(run);
  assert_int_equal(pb_run_load_files(PB_FIXTURES "/samples/nope_STEP_DICT_DATA.json", &run, &err),
                   PB_ENOTFOUND);
  assert_int_equal(pb_run_load_files(PB_FIXTURES "/samples/README", &run, &err), PB_EINVAL);
}

/* Random damage to the samples (deterministic): every load must return a
 * run, never crash (the sanitizer builds check memory safety too). */
static void test_mutations(void **state) {
  (void)state;
  static const char *const names[] = {"training_STEP_DICT_DATA.json", "memory_STEP_DICT_DATA.json",
                                      "memory_MEMORY.json", "training_STEP_DICT_SUMMARY.json"};
  static const char *const targets[] = {"bad_STEP_DICT_DATA.json", "bad_STEP_DICT_DATA.json",
                                        "bad_MEMORY.json", "bad_STEP_DICT_SUMMARY.json"};
  static const char alphabet[] = "[]{}\",:0123456789.-eE ntrufalse\\\x00\xff";
  uint64_t rng = 12345;
  int bad = 0;
  for (int f = 0; f < 4; f++) {
    size_t len;
    char *orig = read_sample(names[f], &len);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    for (int round = 0; round < 150; round++) {
      memcpy(buf, orig, len);
      size_t n = len;
      int edits = 1 + round % 4;
      for (int e = 0; e < edits; e++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t pos = (size_t)(rng >> 33) % (n ? n : 1);
        switch ((rng >> 20) % 3) {
          case 0: buf[pos] = alphabet[(rng >> 8) % (sizeof alphabet - 1)]; break;
          case 1: n = pos; break; /* truncate */
          default:                /* delete a span */
            memmove(buf + pos, buf + pos + (n - pos) / 3, n - pos - (n - pos) / 3);
            n -= (n - pos) / 3;
            break;
        }
      }
      char cmd[512];
      snprintf(cmd, sizeof cmd, "rm -f '%s'/*.json", tmpdir);
      assert_int_equal(system(cmd), 0);
      write_file(targets[f], buf, n);
      pb_run *run = NULL;
      pb_error err;
      int rc = pb_run_load(tmpdir, false, &run, &err);
      assert_int_equal(rc, PB_OK);
      assert_non_null(pb_run_find(run, "bad"));
      bad += pb_run_diagnostic_count(run) > 0;
      for (size_t i = 0; i < pb_run_diagnostic_count(run); i++)
        assert_non_null(strstr(pb_run_diagnostic(run, i), targets[f]));
      pb_run_free(run);
    }
    free(buf);
    free(orig);
  }
  assert_true(bad > 400); /* most damage is detected (some edits keep the JSON valid) */
}

/* Writes a run big enough to be parsed in parallel chunks (> 8 MiB): data
 * and memory files; with decoys, some extras hold the text that marks an
 * iteration's start, which must not change the result either. */
static void write_big_run(const char *dir, bool decoys) {
  char p[512];
  snprintf(p, sizeof p, "%s/big_STEP_DICT_DATA.json", dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputc('[', f);
  for (int i = 0; i < 40000; i++) {
    double a = 0.001 + 1e-9 * i, b = 0.002 + 1e-9 * (i % 977);
    const char *topic = i % 5000 == 4999 ? "late_topic" : "b"; /* a topic that first appears late */
    const char *extra = decoys && i % 1000 == 3 ? "{\"x\": [1, {\"absolutes\": 2}]}" : "null";
    fprintf(
        f,
        "%s\n {\"absolutes\": {\"a\": %.9f, \"%s\": %.9f, \"GLOBAL\": %.9f}, \"info\": "
        "{\"STEP_NUMBER\": %d, \"START_TIME\": %d.5, \"STOP_TIME\": %d.75}, \"individual_calls\": "
        "{\"a\": [{\"time\": %.9f, \"crono_counter\": 0, \"extra\": %s}], \"%s\": [{\"time\": "
        "%.9f, \"crono_counter\": 1, \"extra\": null}], \"GLOBAL\": [{\"time\": %.9f, "
        "\"crono_counter\": 2}]}}",
        i ? "," : "", a, topic, b, a + b, i, i, i, a, extra, topic, b, a + b);
  }
  fputs("]\n", f);
  assert_int_equal(fclose(f), 0);
  snprintf(p, sizeof p, "%s/big_MEMORY.json", dir);
  f = fopen(p, "w");
  assert_non_null(f);
  fputc('[', f);
  for (int i = 0; i < 20000; i++) {
    fprintf(f,
            "%s{\"info\": {\"STEP_NUMBER\": %d, \"START_TIME\": 1, \"STOP_TIME\": 2}, \"data\": {",
            i ? "," : "", i);
    for (int k = 0; k < 3; k++)
      fprintf(f,
              "%s\"%s\": [{\"total memory usage\": %d, \"cuda memory usage\": null, "
              "\"top_memory_objects\": [], \"crono_counter\": %d, \"extra\": %s, \"max memory "
              "usage\": null, \"heap memory usage\": %d}]",
              k ? ", " : "",
              k == 0   ? "gstep"
              : k == 1 ? "work"
                       : "gstop",
              1000000 + i * 10 + k, k, decoys && i % 999 == 5 ? "{\"info\": 1}" : "null",
              500000 + i);
    fputs("}}", f);
  }
  fputs("]", f);
  assert_int_equal(fclose(f), 0);
}

static void assert_same_records(const pb_record *x, const pb_record *y) {
  assert_int_equal(pb_record_iter_count(x), pb_record_iter_count(y));
  assert_int_equal(pb_record_topic_count(x), pb_record_topic_count(y));
  size_t ni = pb_record_iter_count(x);
  for (size_t t = 0; t < pb_record_topic_count(x); t++) {
    assert_string_equal(pb_record_topic(x, t), pb_record_topic(y, t));
    assert_memory_equal(pb_record_absolutes(x, t), pb_record_absolutes(y, t), ni * sizeof(double));
  }
  assert_memory_equal(pb_record_infos(x), pb_record_infos(y), ni * sizeof(pb_iter_info));
  size_t nx, ny;
  const pb_call *cx = pb_record_calls(x, &nx), *cy = pb_record_calls(y, &ny);
  assert_int_equal(nx, ny);
  assert_memory_equal(cx, cy, nx * sizeof *cx);
  const pb_mem_record *mx = pb_record_memory(x, &nx), *my = pb_record_memory(y, &ny);
  assert_int_equal(nx, ny);
  assert_memory_equal(mx, my, nx * sizeof *mx);
  assert_int_equal(pb_record_memory_topic_count(x), pb_record_memory_topic_count(y));
  assert_int_equal(pb_record_memory_iter_count(x), pb_record_memory_iter_count(y));
}

/* Loads tmpdir with the given PB_ANALYSIS_THREADS and PB_ANALYSIS_WINDOW (NULL: unset). */
static pb_run *load_with(const char *threads, const char *window) {
  pb_run *run = NULL;
  pb_error err;
  if (threads) setenv("PB_ANALYSIS_THREADS", threads, 1);
  if (window) setenv("PB_ANALYSIS_WINDOW", window, 1);
  assert_int_equal(pb_run_load(tmpdir, false, &run, &err), PB_OK);
  unsetenv("PB_ANALYSIS_THREADS");
  unsetenv("PB_ANALYSIS_WINDOW");
  assert_int_equal(pb_run_diagnostic_count(run), 0);
  return run;
}

/* Parsing a big file in windows, on one thread or several, gives exactly what one parse
 * of the whole file gives: with the default windows, with small ones (a boundary every
 * few iterations, so many decoys fall on a cut) and with one window barely larger than an
 * iteration. */
static void test_parallel_equals_sequential(void **state) {
  (void)state;
  static const char *const modes[][2] = {
      {"1", NULL}, {"4", NULL}, {"1", "4096"}, {"3", "1024"}, {"2", "100000"}};
  for (int decoys = 0; decoys < 2; decoys++) {
    write_big_run(tmpdir, decoys);
    pb_run *whole = load_with("1", "0");
    const pb_record *x = pb_run_find(whole, "big");
    assert_int_equal(pb_record_iter_count(x), 40000);
    assert_int_equal(pb_record_memory_count(x), 60000);
    assert_int_equal(pb_record_topic_index(x, "late_topic"), 3);
    assert_int_equal(pb_record_topic_count(x), 4);
    assert_int_equal(pb_record_infos(x)[39999].step_number, 39999);
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
      pb_run *other = load_with(modes[m][0], modes[m][1]);
      assert_same_records(x, pb_run_find(other, "big"));
      pb_run_free(other);
    }
    pb_run_free(whole);
  }
}

/* A big data file cut mid-iteration: read in windows, the last window fails, and the
 * whole-file parse that follows keeps the complete iterations and reports the cut, as
 * a whole-file parse alone does. */
static void test_windows_truncated(void **state) {
  (void)state;
  write_big_run(tmpdir, false);
  char p[512];
  snprintf(p, sizeof p, "%s/big_STEP_DICT_DATA.json", tmpdir);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  off_t cut = st.st_size * 2 / 3;
  assert_int_equal(fseeko(f, cut, SEEK_SET), 0);
  while (fgetc(f) != ',') cut++; /* between two values: no string left open */
  fclose(f);
  assert_int_equal(truncate(p, cut), 0);
  pb_run *runs[2];
  pb_error err;
  for (int i = 0; i < 2; i++) {
    setenv("PB_ANALYSIS_WINDOW", i == 0 ? "0" : "4096", 1);
    setenv("PB_ANALYSIS_THREADS", i == 0 ? "1" : "3", 1);
    assert_int_equal(pb_run_load(tmpdir, false, &runs[i], &err), PB_OK);
  }
  unsetenv("PB_ANALYSIS_WINDOW");
  unsetenv("PB_ANALYSIS_THREADS");
  const pb_record *x = pb_run_find(runs[0], "big");
  size_t kept = pb_record_iter_count(x);
  assert_true(kept > 20000 && kept < 30000);
  assert_same_records(x, pb_run_find(runs[1], "big"));
  assert_int_equal(pb_run_diagnostic_count(runs[0]), 1);
  assert_int_equal(pb_run_diagnostic_count(runs[1]), 1);
  assert_non_null(strstr(pb_run_diagnostic(runs[0], 0), "complete iteration"));
  assert_string_equal(pb_run_diagnostic(runs[0], 0), pb_run_diagnostic(runs[1], 0));
  pb_run_free(runs[0]);
  pb_run_free(runs[1]);
}

int main(void) {
  setenv("TZ", "UTC", 1);
  unsetenv("PORTER_BENCH_ROOT");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_samples),
      cmocka_unit_test(test_autosave_journal),
      cmocka_unit_test(test_timestamps),
      cmocka_unit_test(test_resolve),
      cmocka_unit_test(test_demo),
      cmocka_unit_test(test_load_files),
      cmocka_unit_test_setup_teardown(test_truncated, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_wrong_type, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_missing_keys, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_missing_required_keys, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_start_time_empty_list, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_empty_and_garbage, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_huge_numbers, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_number_forms, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_deep_nesting, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_long_names, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_bad_memory_keeps_data, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_mutations, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_parallel_equals_sequential, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_windows_truncated, make_tmp, remove_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
