/*
 * test_alloc_fail.c - allocation failure: the N-th allocation of a recording
 * and save workload fails, for every N the workload reaches.
 *
 * malloc, calloc, realloc and strdup are wrapped at link time
 * (-Wl,--wrap=...; the library is linked statically, so its calls go through
 * the wrappers too). While "armed", the wrappers count allocations and fail
 * the N-th one (mode "once") or every one from the N-th on (mode "from").
 *
 * For every N: no crash; every call returns PB_OK or PB_ENOMEM (a save may
 * also return PB_EIO when the failure hit a file's buffer); a recording call
 * whose record was dropped does not return PB_OK; dropped records are counted
 * in pb_bench_get_stats().dropped; once the failures stop, pb_save succeeds
 * and the DATA file parses and holds every record the benchmarker kept. In
 * the ASan build LeakSanitizer also checks that no failure path leaks.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rel_util.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

static atomic_bool g_armed;
static atomic_long g_count;  /* allocations while armed */
static long g_fail_at;       /* 1-based; 0 = never */
static bool g_fail_from;     /* fail every allocation from g_fail_at on */
static atomic_long g_failed; /* allocations failed */

static atomic_long g_warnings;

static void count_warning(const char *message, void *user_data) {
  (void)message;
  (void)user_data;
  atomic_fetch_add(&g_warnings, 1);
}

static bool should_fail(void) {
  if (!atomic_load(&g_armed)) return false;
  long k = atomic_fetch_add(&g_count, 1) + 1;
  bool fail = g_fail_at && (g_fail_from ? k >= g_fail_at : k == g_fail_at);
  if (fail) atomic_fetch_add(&g_failed, 1);
  return fail;
}

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

void *__wrap_malloc(size_t n) {
  if (should_fail()) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m) {
  if (should_fail()) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n) {
  if (should_fail()) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s) {
  if (should_fail()) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_strdup(s);
}

/* ---- the workload ---- */

typedef struct outcome {
  long calls, enomem, eio, dropped_calls, noiter, silent_drops;
  char first_silent[200];
} outcome;

/* Checks one recording call's status against the drop counter of b. */
static void check_call(pb_bench *b, int rc, uint64_t dropped_before, outcome *o, const char *what) {
  o->calls++;
  if (rc == PB_ENOMEM)
    o->enomem++;
  else if (rc == PB_ENOITER)
    o->noiter++; /* the first gstep failed: no iteration yet */
  else if (rc != PB_OK)
    fail_msg("%s returned %s (fail at %ld)", what, pb_err_name(rc), g_fail_at);
  pb_bench_stats st;
  atomic_store(&g_armed, false);
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  atomic_store(&g_armed, true);
  if (st.dropped > dropped_before) {
    o->dropped_calls++;
    if (rc == PB_OK && !o->silent_drops++) {
      snprintf(o->first_silent, sizeof o->first_silent,
               "%s dropped %llu record(s) (allocation %ld failed) but returned PB_OK", what,
               (unsigned long long)(st.dropped - dropped_before), g_fail_at);
    }
  }
}

static uint64_t dropped_of(pb_bench *b) {
  pb_bench_stats st;
  bool armed = atomic_exchange(&g_armed, false);
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  atomic_store(&g_armed, armed);
  return st.dropped;
}

#define CALL(b, expr, what)                  \
  do {                                       \
    uint64_t d0_ = dropped_of(b);            \
    check_call((b), (expr), d0_, o, (what)); \
  } while (0)

static void check_save_rc(int rc, outcome *o, const char *what) {
  if (rc == PB_EIO) {
    /* Only when the failed allocation made a file unwritable (its buffer). */
    o->eio++;
    if (!strstr(pb_last_error(), "memory")) fail_msg("%s: PB_EIO '%s'", what, pb_last_error());
  } else if (rc != PB_OK && rc != PB_ENOMEM) {
    fail_msg("%s returned %s (fail at %ld): %s", what, pb_err_name(rc), g_fail_at, pb_last_error());
  }
}

/* After the failures stop: a save succeeds and the file holds every kept record. */
static void verify_after(pb_bench *b, const char *prefix) {
  REL_ASSERT_OK(pb_save(b));
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  size_t in_file = rel_count_all_calls(data);
  if (in_file != st.steps) {
    fail_msg("fail at %ld: DATA holds %zu calls, the benchmarker %llu", g_fail_at, in_file,
             (unsigned long long)st.steps);
  }
  assert_int_equal(json_array_size(data), st.iterations);
  json_decref(data);
  json_decref(rel_must_load(prefix, PB_SUFFIX_SUMMARY));
  json_decref(rel_must_load(prefix, PB_SUFFIX_MEMORY));
}

static void workload(const char *dir, outcome *o) {
  static const char *const topics[] = {"load", "forward", "backward", "opt", "log"};
  char *prefix = rel_strf("%s/w/bench", dir);
  char *root = rel_strf("%s/reg", dir);
  pb_bench *b = NULL;
  atomic_store(&g_armed, true);
  int rc = pb_bench_create(prefix, &b);
  atomic_store(&g_armed, false);
  if (rc != PB_OK) {
    if (rc != PB_ENOMEM || b) fail_msg("pb_bench_create: %s, b %p", pb_err_name(rc), (void *)b);
    free(prefix);
    free(root);
    return;
  }
  atomic_store(&g_armed, true);
  rc = pb_enable_memory_tracking(b, true);
  if (rc != PB_OK && rc != PB_ENOMEM) fail_msg("pb_enable_memory_tracking: %s", pb_err_name(rc));
  pb_topic id = pb_topic_intern(b, "interned");
  for (int it = 0; it < 3; it++) {
    CALL(b, pb_gstep(b), "pb_gstep");
    for (int j = 0; j < 100; j++) CALL(b, pb_step(b, topics[j % 5]), "pb_step");
    char extra[32];
    snprintf(extra, sizeof extra, "{\"it\":%d}", it);
    CALL(b, pb_step_ex(b, "extra", extra, "[1,2]"), "pb_step_ex");
    CALL(b, pb_step(b, it == 1 ? "new-topic" : "load"), "pb_step");
    if (id != PB_TOPIC_INVALID) CALL(b, pb_step_id(b, id), "pb_step_id");
    CALL(b, pb_gstop(b), "pb_gstop");
  }
  pb_disable_memory_tracking(b);
  CALL(b, pb_gstep(b), "pb_gstep");
  for (int j = 0; j < 300; j++) CALL(b, pb_step(b, topics[j % 5]), "pb_step"); /* new segment */
  CALL(b, pb_gstop(b), "pb_gstop");
  check_save_rc(pb_save(b), o, "pb_save");

  pb_registry *r = NULL;
  rc = pb_registry_create(root, &r);
  if (rc == PB_OK) {
    pb_bench *n1 = pb_registry_get(r, "n1");
    pb_bench *n2 = pb_registry_get(r, "a/b");
    if (!n1 || !n2) assert_true(strstr(pb_last_error(), "memory") != NULL);
    pb_bench *both[2] = {n1, n2};
    for (int i = 0; i < 2; i++) {
      pb_bench *x = both[i];
      if (!x) continue;
      CALL(x, pb_gstep(x), "pb_gstep (registry)");
      CALL(x, pb_step(x, "s"), "pb_step (registry)");
      CALL(x, pb_gstop(x), "pb_gstop (registry)");
    }
    check_save_rc(pb_registry_save(r), o, "pb_registry_save");
    atomic_store(&g_armed, false);
    pb_registry_destroy(r);
  } else if (rc != PB_ENOMEM) {
    fail_msg("pb_registry_create: %s", pb_err_name(rc));
  }
  atomic_store(&g_armed, false);
  verify_after(b, prefix);
  assert_int_equal(pb_bench_destroy(b), PB_OK);
  free(prefix);
  free(root);
}

/* Runs the workload with allocation k failing (k = 0: none); returns the allocations made. */
static long run_once(long k, bool from, outcome *o) {
  char *dir = rel_mkdtemp("alloc");
  g_fail_at = k;
  g_fail_from = from;
  atomic_store(&g_count, 0);
  workload(dir, o);
  long n = atomic_load(&g_count);
  rel_rmtree(dir);
  free(dir);
  return n;
}

static void sweep(bool from) {
  outcome base = {0};
  long total = run_once(0, from, &base);
  assert_true(total > 10);
  assert_int_equal(base.enomem, 0);
  outcome all = {0};
  long failed_before = atomic_load(&g_failed);
  for (long k = 1; k <= total; k++) run_once(k, from, &all);
  printf(
      "# mode %s: %ld allocations in the workload, %ld runs, %ld allocations failed; "
      "%ld recording calls, %ld returned PB_ENOMEM, %ld PB_ENOITER, %ld dropped a record; "
      "%ld saves gave PB_EIO (out of memory)\n",
      from ? "from-N" : "N-th", total, total, atomic_load(&g_failed) - failed_before, all.calls,
      all.enomem, all.noiter, all.dropped_calls, all.eio);
  printf("# warnings given meanwhile: %ld\n", atomic_exchange(&g_warnings, 0));
  if (all.silent_drops) {
    fail_msg("REL-F7: %ld recording calls dropped a record silently, e.g. %s", all.silent_drops,
             all.first_silent);
  }
}

static void test_nth_allocation_fails(void **state) {
  (void)state;
  sweep(false);
}

static void test_every_allocation_from_n_fails(void **state) {
  (void)state;
  sweep(true);
}

/* The calls of `topic` in iteration i of a DATA file. */
static size_t calls_in(json_t *data, size_t i, const char *topic) {
  json_t *calls = json_object_get(json_array_get(data, i), "individual_calls");
  return json_array_size(json_object_get(calls, topic));
}

/*
 * An iteration whose close needs a side-table entry (here the lead of GLOBAL's
 * start, after a memory probe at gstep) closed while no allocation succeeds:
 * the lead is cut (counted as dropped), but the gstop step, which needs no
 * new memory, is still on disk and counted.
 */
static void test_cut_close_keeps_gstop(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("alloc-close");
  char *prefix = rel_strf("%s/bench", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_OK(pb_step(b, "warm")); /* the time records' first segment, allocated now */
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_enable_memory_tracking(b, false));
  REL_ASSERT_OK(pb_gstep(b)); /* a probe: GLOBAL starts after it, a lead to keep at the close */
  REL_ASSERT_OK(pb_step(b, "a"));
  pb_disable_memory_tracking(b); /* no probe at the close */
  uint64_t dropped = dropped_of(b);
  g_fail_at = 1;
  g_fail_from = true;
  atomic_store(&g_count, 0);
  atomic_store(&g_armed, true);
  int rc = pb_gstop(b); /* the lead's table has no segment yet: cut */
  atomic_store(&g_armed, false);
  g_fail_at = 0;
  REL_ASSERT_STATUS(rc, PB_ENOMEM);
  assert_int_equal(dropped_of(b), dropped + 1);
  REL_ASSERT_OK(pb_save(b));
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 2);
  assert_int_equal(calls_in(data, 1, "gstop"), 1);
  assert_int_equal(calls_in(data, 1, "a"), 1);
  assert_int_equal(rel_count_all_calls(data), st.steps);
  json_decref(data);
  REL_ASSERT_OK(pb_bench_destroy(b));
  rel_rmtree(dir);
  free(prefix);
  free(dir);
}

/* Sleeps 0.7 ms: the next step's gap takes a HI word before its record's word (2^18 ns). */
static void pause_hi(void) {
  struct timespec ts = {0, 700000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Units of the record store written since `held0` (bytes_held then): 2 bytes each, while
 * the steps add nothing else (their topics interned before). */
static size_t units_since(pb_bench *b, uint64_t held0) {
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  return (size_t)(st.bytes_held - held0) / 2;
}

/*
 * A step with a HI word and an extra (4 units of the record store) that starts
 * `off` units (0-2) before the end of one of the store's segments (256, 768 or
 * 1,792 units), after short steps (a unit each, or two when a step took 2 us or
 * more), while the k-th allocation of the step fails (k = 1..4: the extras'
 * table, the extras' side table, the store's next segment, none): whatever
 * failed, the step is kept or dropped whole, so that the next steps land where
 * they belong (no write before a segment's start, no stray unit folded into the
 * next record).
 */
static void hi_word_at_segment_end(size_t off, long k) {
  char *dir = rel_mkdtemp("alloc-hi");
  char *prefix = rel_strf("%s/bench", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  assert_true(pb_topic_intern(b, "fast") != PB_TOPIC_INVALID);
  REL_ASSERT_OK(pb_gstep(b));
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  uint64_t held0 = st.bytes_held;
  static const size_t ends[] = {256, 768, 1792};
  size_t fill = 0, units = 0;
  bool straddles = false;
  for (size_t e = 0; e < 3 && !straddles; e++) {
    while (units < ends[e] - 3 + off) {
      REL_ASSERT_OK(pb_step(b, "fast"));
      fill++;
      units = units_since(b, held0);
    }
    straddles = units < ends[e]; /* 4 units from here cross ends[e] */
  }
  assert_true(straddles);
  uint64_t dropped = dropped_of(b);
  pause_hi();
  g_fail_at = k;
  g_fail_from = false;
  atomic_store(&g_count, 0);
  atomic_store(&g_armed, true);
  int rc = pb_step_ex(b, "slow", "{\"x\":1}", NULL);
  atomic_store(&g_armed, false);
  g_fail_at = 0;
  bool kept = rc == PB_OK || dropped_of(b) == dropped + 1; /* dropped: the extra or the step */
  assert_true(rc == PB_OK || rc == PB_ENOMEM);
  assert_true(kept);
  REL_ASSERT_OK(pb_step(b, "next")); /* a short gap: usually one unit */
  pause_hi();
  REL_ASSERT_OK(pb_step(b, "slow2"));
  for (int j = 0; j < 600; j++) REL_ASSERT_OK(pb_step(b, "fast"));
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));

  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  assert_int_equal(rel_count_all_calls(data), st.steps);
  assert_int_equal(calls_in(data, 0, "fast"), (size_t)fill + 600);
  assert_int_equal(calls_in(data, 0, "next"), 1);
  assert_int_equal(calls_in(data, 0, "slow2"), 1);
  json_t *calls = json_object_get(json_array_get(data, 0), "individual_calls");
  double next =
      json_number_value(json_object_get(json_array_get(json_object_get(calls, "next"), 0), "time"));
  double slow2 = json_number_value(
      json_object_get(json_array_get(json_object_get(calls, "slow2"), 0), "time"));
  assert_true(next >= 0 && next < 0.1);      /* no stray HI bits in it */
  assert_true(slow2 >= 0.0007 && slow2 < 1); /* its own HI word */
  json_decref(data);
  REL_ASSERT_OK(pb_bench_destroy(b));
  rel_rmtree(dir);
  free(prefix);
  free(dir);
}

static void test_hi_word_at_segment_end(void **state) {
  (void)state;
  for (size_t off = 0; off < 3; off++) {
    for (long k = 1; k <= 4; k++) hi_word_at_segment_end(off, k);
  }
}

int main(void) {
  pb_set_warning_handler(count_warning, NULL); /* e.g. "cannot write run metadata" */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nth_allocation_fails),
      cmocka_unit_test(test_every_allocation_from_n_fails),
      cmocka_unit_test(test_cut_close_keeps_gstop),
      cmocka_unit_test(test_hi_word_at_segment_end),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
