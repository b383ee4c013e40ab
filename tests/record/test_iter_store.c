/*
 * test_iter_store.c - the compact stores (issue 15): an iteration is 12
 * bytes, its first record unit and START_TIME kept as a walk from the last
 * checkpoint; a time record is one 16-bit unit (a gap under 2^11 ns, a
 * topic id under 16) or a 32-bit word, with a HI word before it for a gap
 * of 2^18 ns or more; and the gstop record of an iteration closed on
 * the fast path is derived at save time (the iteration's span less the gaps
 * of the records before it) instead of stored. The files must hold exactly
 * the times the calls were made at, so this executable scripts the clock: it
 * defines clock_gettime itself (the library's calls bind to it), and every
 * test sets the time before each call. Also checked: the cases where the
 * derivation would be wrong (pb_start on an open iteration, an unknown topic
 * id, a clock read earlier than the one before) store the record, the bytes
 * held, and topic ids past the record's 12 bits.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "internal.h"

/* ---- the scripted clock ---- */

static uint64_t now_ns = 1000000000ull; /* what every clock read returns, monotonic ns */
static uint64_t wall_offset;            /* CLOCK_REALTIME less CLOCK_MONOTONIC */
enum { WALL_OFFSET = 1700000000000000000ull };

int clock_gettime(clockid_t id, struct timespec *ts) {
  uint64_t t = now_ns;
  if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) t += wall_offset;
  ts->tv_sec = (time_t)(t / 1000000000ull);
  ts->tv_nsec = (long)(t % 1000000000ull);
  return 0;
}

/* Sets the clock to base + ns (all tests count from a base of 1 s). */
static void at(uint64_t ns) { now_ns = 1000000000ull + ns; }

/* ---- fixture ---- */

typedef struct fixture {
  char *dir;
  char *prefix;
  pb_bench *b;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  at(0);
  wall_offset = WALL_OFFSET;
  f->dir = th_mkdtemp("iterstore");
  if (!f->dir) return -1;
  f->prefix = th_strf("%s/bench", f->dir);
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

/* Saves and parses the DATA file. */
static json_t *data_of(pb_bench *b) {
  TH_ASSERT_OK(pb_save(b));
  return th_must_load(b, PB_SUFFIX_DATA);
}

/* The j-th call of topic in iteration `it`. */
static json_t *call(json_t *it, const char *topic, size_t j) {
  json_t *c = json_array_get(json_object_get(json_object_get(it, "individual_calls"), topic), j);
  if (!c) fail_msg("no call %zu of '%s'", j, topic);
  return c;
}

/* Fails unless the j-th call of topic took ns nanoseconds and has crono counter crono. */
static void assert_call(json_t *it, const char *topic, size_t j, uint64_t ns, int64_t crono) {
  json_t *c = call(it, topic, j);
  double t = json_number_value(json_object_get(c, "time"));
  if ((uint64_t)llround(t * 1e9) != ns) {
    fail_msg("'%s'[%zu]: %.9f s, expected %llu ns", topic, j, t, (unsigned long long)ns);
  }
  assert_int_equal(json_integer_value(json_object_get(c, "crono_counter")), crono);
}

/* ---- derived gstop records ---- */

/* Iterations closed on the fast path: the derived gstop holds the true gap, at its place. */
static void test_derived_gstop_times(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  at(1000);
  TH_ASSERT_OK(pb_gstep(b));
  at(1100);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(1350);
  TH_ASSERT_OK(pb_step(b, "b"));
  at(1600);
  TH_ASSERT_OK(pb_gstep(b)); /* closes the first, opens the second */
  at(2100);
  TH_ASSERT_OK(pb_gstop(b)); /* nothing between gstep and gstop */
  at(3000);
  TH_ASSERT_OK(pb_gstep(b));
  at(3010);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(3020);
  TH_ASSERT_OK(pb_gstop(b));
  at(3100);
  TH_ASSERT_OK(pb_step(b, "after")); /* a step after gstop */
  at(3400);
  TH_ASSERT_OK(pb_step(b, "after"));
  json_t *root = data_of(b);
  assert_int_equal(json_array_size(root), 3);
  json_t *it = json_array_get(root, 0);
  assert_call(it, "a", 0, 100, 0);
  assert_call(it, "b", 0, 250, 1);
  assert_call(it, "gstop", 0, 250, 2);
  assert_call(it, "GLOBAL", 0, 600, 3);
  it = json_array_get(root, 1);
  assert_call(it, "gstop", 0, 500, 0);
  assert_call(it, "GLOBAL", 0, 500, 1);
  it = json_array_get(root, 2);
  assert_call(it, "a", 0, 10, 0);
  assert_call(it, "gstop", 0, 10, 1);
  assert_call(it, "GLOBAL", 0, 20, 2);
  assert_call(it, "after", 0, 80, 2); /* records after the close follow the gstop */
  assert_call(it, "after", 1, 300, 3);
  json_decref(root);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.steps, 3 + 3 + 2); /* user steps, one gstop per iteration, the afters */
}

/* The summary's gstop row is made of the derived times too. */
static void test_derived_gstop_summary(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  const uint64_t gaps[4] = {40, 70, 10, 1000};
  uint64_t t = 0;
  for (int i = 0; i < 4; i++) {
    at(t);
    TH_ASSERT_OK(pb_gstep(b));
    at(t + 5);
    TH_ASSERT_OK(pb_step(b, "x"));
    at(t + 5 + gaps[i]);
    TH_ASSERT_OK(pb_gstop(b));
    t += 10000;
  }
  TH_ASSERT_OK(pb_save(b));
  json_t *sum = th_must_load(b, PB_SUFFIX_SUMMARY);
  json_t *g = json_object_get(sum, "gstop");
  if (!g) fail_msg("no gstop in the summary");
  double mean = json_number_value(json_object_get(g, "mean"));
  TH_ASSERT_NEAR(mean, (40 + 70 + 10 + 1000) / 4.0 * 1e-9, 1e-15);
  TH_ASSERT_NEAR(json_number_value(json_object_get(g, "min")), 10e-9, 1e-15);
  TH_ASSERT_NEAR(json_number_value(json_object_get(g, "max")), 1000e-9, 1e-15);
  json_decref(sum);
}

/* Where the span less the earlier gaps is not the gstop's gap, the record is stored. */
static void test_gstop_stored_when_not_derivable(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  /* pb_start on the open iteration restarts its clocks: 300 ns are in no record */
  at(1000);
  TH_ASSERT_OK(pb_gstep(b));
  at(1100);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(1400);
  TH_ASSERT_OK(pb_start(b));
  at(1500);
  TH_ASSERT_OK(pb_step(b, "b"));
  at(1700);
  TH_ASSERT_OK(pb_gstop(b));
  /* an unknown topic id: its 200 ns are in no record */
  at(5000);
  TH_ASSERT_OK(pb_gstep(b));
  at(5100);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(5300);
  assert_int_equal(pb_step_id(b, 987654u), PB_EINVAL);
  at(5450);
  TH_ASSERT_OK(pb_gstop(b));
  /* a clock read earlier than the one before: the step's gap is recorded as 0 */
  at(9000);
  TH_ASSERT_OK(pb_gstep(b));
  at(8900);
  TH_ASSERT_OK(pb_step(b, "a"));
  at(9000);
  TH_ASSERT_OK(pb_gstop(b));
  json_t *root = data_of(b);
  assert_int_equal(json_array_size(root), 3);
  json_t *it = json_array_get(root, 0);
  assert_call(it, "a", 0, 100, 0);
  assert_call(it, "b", 0, 100, 1);
  assert_call(it, "gstop", 0, 200, 2);
  assert_call(it, "GLOBAL", 0, 300, 3); /* from pb_start */
  it = json_array_get(root, 1);
  assert_call(it, "gstop", 0, 150, 1);
  assert_call(it, "GLOBAL", 0, 450, 2);
  it = json_array_get(root, 2);
  assert_call(it, "a", 0, 0, 0);
  assert_call(it, "gstop", 0, 100, 1);
  assert_call(it, "GLOBAL", 0, 0, 2);
  json_decref(root);
}

/* ---- the store's size ---- */

/* Bytes held a user step after 20,000 iterations of gstep + 5 steps, one every `gap` ns. */
static double bytes_per_step(pb_bench *b, uint64_t gap) {
  static const char *const topics[5] = {"load", "forward", "backward", "update", "log"};
  const size_t n = 20000;
  uint64_t t = 0;
  for (size_t i = 0; i < n; i++) {
    at(t += gap);
    pb_gstep(b);
    for (int k = 0; k < 5; k++) {
      at(t += gap);
      pb_step(b, topics[k]);
    }
  }
  at(t += gap);
  pb_gstop(b);
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.iterations, n);
  assert_int_equal(st.steps, 6 * n); /* 5 user steps and a gstop each */
  return (double)st.bytes_held / (double)(5 * n);
}

/* A short record is 2 bytes, an iteration 12; 5 steps an iteration hold under 5.1 bytes a
 * step in all. */
static void test_bytes_held(void **state) {
  fixture *f = *state;
  assert_int_equal(sizeof(pb__iter), 12);
  assert_int_equal(sizeof(pb__rec), 2);
  /* 2 bytes a step, 12 an iteration: 4.4 a step, and the topics' tables (about 66 KB) */
  TH_ASSERT_BETWEEN(bytes_per_step(f->b, 10), 4.4, 5.1);
}

/* Steps of 10 us take a word each: 4 bytes, 6.4 a step with the iteration. */
static void test_bytes_held_word_steps(void **state) {
  fixture *f = *state;
  TH_ASSERT_BETWEEN(bytes_per_step(f->b, 10000), 6.4, 7.1);
}

/* Steps of 1 ms take a HI word each: 8 bytes, 10.4 a step with the iteration. */
static void test_bytes_held_long_steps(void **state) {
  fixture *f = *state;
  TH_ASSERT_BETWEEN(bytes_per_step(f->b, 1000000), 10.4, 11.1);
}

/* ---- gaps of 2^18 ns and more: a HI word before the record ---- */

/* Times about the limits of a short unit (2^11 ns), of a word alone (2^18 ns) and of a HI
 * word (about 137.4 s, past which the gap is in a side table) are exact; crono counters
 * count records, not units; the derived gstop goes where the close was, after records with
 * HI words and before one. */
static void test_hi_words(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  const uint64_t lim = 1ull << 18, hl = 0x7ffffull << 18;
  const uint64_t g1[] = {lim - 1, lim, lim + 1, 10000000, 3, 2047, 2048, 2049};
  const uint64_t g2[] = {hl - 1, hl, hl + 1, 700000000000ull, 7, 2047, 2048, 2049};
  enum { N = 8 };
  uint64_t t = 0, sum = 0;
  at(t);
  TH_ASSERT_OK(pb_gstep(b));
  for (int k = 0; k < N; k++) {
    at(t += g1[k]);
    sum += g1[k];
    TH_ASSERT_OK(pb_step(b, "s"));
  }
  at(t += 2 * lim); /* the derived gstop: 2^19 ns */
  TH_ASSERT_OK(pb_gstop(b));
  at(t += 3 * lim + 5); /* a step after the close, with a HI word */
  TH_ASSERT_OK(pb_step(b, "after"));
  at(t += 11);
  TH_ASSERT_OK(pb_step(b, "after"));
  TH_ASSERT_OK(pb_gstep(b)); /* GLOBAL past 2^32 ns: its gstop is stored */
  for (int k = 0; k < N; k++) {
    at(t += g2[k]);
    TH_ASSERT_OK(pb_step(b, "s"));
  }
  at(t += lim + 1);
  TH_ASSERT_OK(pb_gstop(b));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.steps, (N + 1 + 2) + (N + 1));
  json_t *root = data_of(b);
  json_t *it = json_array_get(root, 0);
  for (int k = 0; k < N; k++) assert_call(it, "s", (size_t)k, g1[k], k);
  assert_call(it, "gstop", 0, 2 * lim, N);
  assert_call(it, "GLOBAL", 0, sum + 2 * lim, N + 1);
  assert_call(it, "after", 0, 3 * lim + 5, N + 1);
  assert_call(it, "after", 1, 11, N + 2);
  it = json_array_get(root, 1);
  for (int k = 0; k < N; k++) assert_call(it, "s", (size_t)k, g2[k], k);
  assert_call(it, "gstop", 0, lim + 1, N);
  json_decref(root);
}

/* ---- topic ids past a word's 12 bits ---- */

/* Topic ids of 0xffe and more live in a side table: each step keeps its own topic and time,
 * extras included, and the stats count the side table's bytes. */
static void test_wide_topic_ids(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  enum { N = 33000 }; /* ids run far past 0xffe: 4 well-known topics come first */
  char name[32];
  uint64_t t = 0;
  at(t);
  TH_ASSERT_OK(pb_gstep(b));
  for (int k = 0; k < N; k++) {
    snprintf(name, sizeof name, "t%05d", k);
    at(t += 1 + (uint64_t)k % 7);
    TH_ASSERT_OK(pb_step(b, name));
  }
  at(t += 9);
  TH_ASSERT_OK(pb_step_ex(b, "t32999", "{\"wide\":true}", NULL));
  at(t += 5);
  TH_ASSERT_OK(pb_gstop(b));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_true(st.bytes_held > (uint64_t)N * 6 + 200 * 16); /* the wide ids' side entries */
  json_t *root = data_of(b);
  json_t *it = json_array_get(root, 0);
  for (int k = 0; k < N; k += 997) {
    snprintf(name, sizeof name, "t%05d", k);
    assert_call(it, name, 0, 1 + (uint64_t)k % 7, k);
  }
  assert_call(it, "t32999", 0, 1 + 32999 % 7, 32999);
  assert_call(it, "t32999", 1, 9, N);
  json_t *x = json_object_get(call(it, "t32999", 1), "extra");
  assert_true(json_is_true(json_object_get(x, "wide")));
  assert_call(it, "gstop", 0, 5, N + 1);
  json_decref(root);
}

/* ---- taking units back ---- */

/* pb__segvec_truncate takes back any number of elements, across segments' starts (a failed
 * record of several units): the next pushes land at the right indexes. */
static void test_segvec_truncate(void **state) {
  (void)state;
  const size_t cuts[] = {0, 1, 254, 255, 256, 257, 767, 768, 769};
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    pb__segvec v;
    pb__segvec_init(&v, sizeof(uint16_t));
    for (size_t i = 0; i < 1000; i++) *(uint16_t *)pb__segvec_push(&v) = (uint16_t)i;
    for (size_t to = 1000; to > cuts[c];) { /* back to the cut in steps of 1-3 */
      size_t step = 1 + to % 3;
      to = to - cuts[c] < step ? cuts[c] : to - step;
      pb__segvec_truncate(&v, to);
      assert_int_equal(v.n, to);
    }
    for (size_t i = cuts[c]; i < 1000; i++) *(uint16_t *)pb__segvec_push(&v) = (uint16_t)(i + 7);
    assert_int_equal(v.n, 1000);
    for (size_t i = 0; i < 1000; i++) {
      uint16_t want = (uint16_t)(i < cuts[c] ? i : i + 7);
      assert_int_equal(*(uint16_t *)pb__segvec_at(&v, i), want);
    }
    pb__segvec_free(&v);
  }
}

/* ---- the topic cache: literals are not compared again ---- */

static char writable_name[16] = "writable";

static void not_inlined(void) {}

/* The program's read-only segments hold its literals and code; stack, heap and writable
 * data are not in them. */
static void test_program_rodata(void **state) {
  (void)state;
  char stack[8] = "stack";
  char *heap = strdup("heap");
  assert_non_null(heap);
  assert_true(pb__in_program_rodata("a literal"));
  assert_true(pb__in_program_rodata((const void *)(uintptr_t)not_inlined));
  assert_false(pb__in_program_rodata(stack));
  assert_false(pb__in_program_rodata(heap));
  assert_false(pb__in_program_rodata(writable_name));
  free(heap);
}

/* A buffer that holds another name at its next step still records that name; a literal's
 * steps all go to its topic, and a buffer and a literal with one text share a topic. */
static void test_topic_cache_texts(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  char buf[16];
  at(0);
  TH_ASSERT_OK(pb_gstep(b));
  for (int k = 0; k < 6; k++) {
    strcpy(buf, k % 2 ? "beta" : "alpha");
    at(10 + 10 * (uint64_t)k);
    TH_ASSERT_OK(pb_step(b, buf));
    at(15 + 10 * (uint64_t)k);
    TH_ASSERT_OK(pb_step(b, "lit"));
  }
  strcpy(buf, "lit");
  at(100);
  TH_ASSERT_OK(pb_step(b, buf));
  at(110);
  TH_ASSERT_OK(pb_gstop(b));
  json_t *root = data_of(b);
  json_t *calls = json_object_get(json_array_get(root, 0), "individual_calls");
  assert_int_equal(json_array_size(json_object_get(calls, "alpha")), 3);
  assert_int_equal(json_array_size(json_object_get(calls, "beta")), 3);
  assert_int_equal(json_array_size(json_object_get(calls, "lit")), 7);
  json_decref(root);
}

/* ---- the walk over iterations: first record units and START_TIMEs ---- */

/* What an iteration's info must say, in wall ns. */
typedef struct iter_want {
  int64_t start, stop;
} iter_want;

/* Reads seconds written as "<whole>[.<fraction>]" at p into ns; returns the end. */
static const char *parse_wall(const char *p, int64_t *ns) {
  int64_t whole = 0, frac = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9') whole = whole * 10 + (*p++ - '0');
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++) {
      if (digits < 9) frac = frac * 10 + (*p - '0');
      digits++;
    }
  }
  for (; digits < 9; digits++) frac *= 10;
  *ns = whole * 1000000000 + frac;
  return p;
}

/* Checks every iteration's info in the file at path (a DATA file or its journal) against
 * want, to the nanosecond (a double would not hold it); returns how many it read. */
static size_t check_infos(const char *path, const iter_want *want, size_t n) {
  FILE *fp = fopen(path, "rb");
  if (!fp) fail_msg("cannot open %s", path);
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *text = calloc(1, (size_t)len + 1);
  assert_non_null(text);
  assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
  fclose(fp);
  static const char key[] = "\"STEP_NUMBER\":", start[] = ",\"START_TIME\":",
                    stop[] = ",\"STOP_TIME\":";
  size_t seen = 0;
  for (const char *p = text; (p = strstr(p, key)) != NULL; seen++) {
    char *end;
    unsigned long long i = strtoull(p + sizeof key - 1, &end, 10);
    assert_true(i < n);
    assert_memory_equal(end, start, sizeof start - 1);
    int64_t t0, t1;
    p = parse_wall(end + sizeof start - 1, &t0);
    assert_memory_equal(p, stop, sizeof stop - 1);
    p = parse_wall(p + sizeof stop - 1, &t1);
    if (t0 != want[i].start || t1 != want[i].stop) {
      fail_msg("iteration %llu: START %lld STOP %lld, expected %lld %lld", i, (long long)t0,
               (long long)t1, (long long)want[i].start, (long long)want[i].stop);
    }
  }
  free(text);
  return seen;
}

/* Iterations keep their first record units and START_TIMEs only as a walk from the last
 * checkpoint (every 1024th iteration, and where the gap from the STOP_TIME before does not
 * fit 32 bits): a gap of 5 s between two iterations and a wall clock set back 3 ms give
 * checkpoints of their own. Every START_TIME and STOP_TIME of the full file and of the
 * journal's lines (which start at any iteration) is exact, and so are the steps' times. */
static void test_iteration_walk(void **state) {
  fixture *f = *state;
  pb_bench *b = f->b;
  enum { N = 5000 };
  iter_want *want = calloc(N, sizeof *want);
  assert_non_null(want);
  pb_set_save_on_gstop(b, 250);
  uint64_t t = 0, sync_at = 0;
  int64_t off = 0;
  for (size_t i = 0; i < N; i++) {
    if (i == 1500) wall_offset -= 3000000; /* the wall clock is set back 3 ms */
    t += i % 3500 == 3499 ? 5000000000ull : 10 + i % 3;
    at(t);
    TH_ASSERT_OK(pb_gstep(b));
    /* the library reads the clocks' offset again a second after it last did */
    if (i == 0 || t - sync_at > 1000000000ull) {
      off = (int64_t)wall_offset;
      sync_at = t;
    }
    uint64_t open = t;
    want[i].start = (int64_t)(1000000000ull + t) + off;
    at(t += 100 + i % 50);
    TH_ASSERT_OK(pb_step(b, "a"));
    if (i % 3 == 0) {
      at(t += 2400000 + i); /* with a HI word */
      TH_ASSERT_OK(pb_step(b, "b"));
    }
    at(t += 20);
    TH_ASSERT_OK(pb_gstop(b));
    want[i].stop = want[i].start + (int64_t)(t - open);
    if (i % 5 == 0) {
      at(t += 30);
      TH_ASSERT_OK(pb_step(b, "after"));
    }
  }
  /* auto-saved: the full file and its journal's lines hold every iteration between them */
  char *journal = th_strf("%s_STEP_DICT_DATA.journal", f->prefix);
  char *data = th_strf("%s%s", f->prefix, PB_SUFFIX_DATA);
  size_t in_journal = check_infos(journal, want, N);
  assert_true(in_journal > 0);
  assert_true(check_infos(data, want, N) + in_journal >= N);
  TH_ASSERT_OK(pb_save(b));
  assert_int_equal(check_infos(data, want, N), N);
  free(journal);
  free(data);
  json_t *root = th_must_load(b, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(root), N);
  for (size_t i = 0; i < N; i += 7) {
    json_t *it = json_array_get(root, i);
    assert_call(it, "a", 0, 100 + i % 50, 0);
    if (i % 3 == 0) assert_call(it, "b", 0, 2400000 + i, 1);
    if (i % 5 == 0) assert_call(it, "after", 0, 30, 2 + (i % 3 == 0));
  }
  json_decref(root);
  free(want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_derived_gstop_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_derived_gstop_summary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gstop_stored_when_not_derivable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bytes_held, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bytes_held_word_steps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bytes_held_long_steps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hi_words, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wide_topic_ids, setup, teardown),
      cmocka_unit_test_setup_teardown(test_iteration_walk, setup, teardown),
      cmocka_unit_test(test_segvec_truncate),
      cmocka_unit_test(test_program_rodata),
      cmocka_unit_test_setup_teardown(test_topic_cache_texts, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
