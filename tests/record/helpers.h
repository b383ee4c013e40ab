/*
 * helpers.h - shared code of the recording library's tests: temporary
 * folders, JSON files read back with jansson, the summary statistics
 * recomputed independently, and loop-count scaling under sanitizers.
 */
#ifndef PB_TEST_HELPERS_H
#define PB_TEST_HELPERS_H

#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "porter_bench.h"

/* ---- assertions on doubles (cmocka 1.1 only compares floats) ---------- */

/** Fails the test unless |a - b| <= tol, printing both values. */
#define TH_ASSERT_NEAR(a, b, tol)                                                                \
  do {                                                                                           \
    double th_a_ = (double)(a), th_b_ = (double)(b), th_t_ = (double)(tol);                      \
    if (!(th_a_ - th_b_ <= th_t_ && th_b_ - th_a_ <= th_t_))                                     \
      fail_msg("%s = %.17g, %s = %.17g, differ by more than %.3g", #a, th_a_, #b, th_b_, th_t_); \
  } while (0)

/** Fails the test unless lo <= v <= hi (doubles), printing the values. */
#define TH_ASSERT_BETWEEN(v, lo, hi)                                           \
  do {                                                                         \
    double th_v_ = (double)(v), th_lo_ = (double)(lo), th_hi_ = (double)(hi);  \
    if (!(th_v_ >= th_lo_ && th_v_ <= th_hi_))                                 \
      fail_msg("%s = %.17g not in [%.17g, %.17g]", #v, th_v_, th_lo_, th_hi_); \
  } while (0)

/** Fails with the status names unless status == expected. */
#define TH_ASSERT_STATUS(status, expected)                                                        \
  do {                                                                                            \
    int th_s_ = (status), th_e_ = (expected);                                                     \
    if (th_s_ != th_e_)                                                                           \
      fail_msg("%s returned %s (%d), expected %s; last error: '%s'", #status, pb_err_name(th_s_), \
               th_s_, pb_err_name(th_e_), pb_last_error());                                       \
  } while (0)

#define TH_ASSERT_OK(expr) TH_ASSERT_STATUS((expr), PB_OK)

/** Relative-or-absolute closeness for computed statistics. */
bool th_close(double a, double b);

/* ---- sanitizers and scaling ------------------------------------------- */

/** True when built with ASan, TSan or with PB_TEST_SANITIZED defined. */
bool th_sanitized(void);
/** True when built with ASan (malloc is ASan's: heap counters and frees differ). */
bool th_asan(void);
/**
 * Scales a loop count: n * $PB_TEST_SCALE (default 1, or 0.1 in a sanitizer
 * build), never below min_n.
 */
size_t th_scaled(size_t n, size_t min_n);

/* ---- files and folders ------------------------------------------------ */

/** Creates a fresh folder /tmp/pbtest-<tag>.XXXXXX; returns its malloc'd path. */
char *th_mkdtemp(const char *tag);
/** Removes a folder tree (best effort). NULL is a no-op. */
void th_rmtree(const char *path);
/** Returns a malloc'd printf-formatted string. */
char *th_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** True if path exists (any type). */
bool th_exists(const char *path);
/** True if path is a regular file. */
bool th_is_file(const char *path);
/** Writes text to path (truncating); true on success. */
bool th_write_file(const char *path, const char *text);
/**
 * Counts the record files (names ending in one of the three suffixes) under
 * dir, recursively. When bad is non-NULL, also counts into *bad the files
 * that are neither record files nor other *.json files (e.g. temporary files
 * left by a save), naming each on stderr. Other JSON files (run metadata) are
 * ignored.
 */
size_t th_count_files(const char *dir, size_t *bad);

/** Parses a JSON file; on failure prints the jansson error and returns NULL. */
json_t *th_load_json(const char *path);
/** Parses "<prefix><suffix>"; as th_load_json. */
json_t *th_load_record(const char *prefix, const char *suffix);
/** Loads "<bench path><suffix>" of a benchmarker, failing the test if it does not parse. */
json_t *th_must_load(pb_bench *b, const char *suffix);

/* ---- record helpers --------------------------------------------------- */

/** The i-th key of an object, in file order (jansson keeps insertion order). */
const char *th_key_at(json_t *obj, size_t i);
/** Fails unless obj's keys are exactly the NULL-terminated list, in order. */
void th_assert_keys(json_t *obj, const char *const *keys);
/** Number of call records of topic in the iteration object (0 if absent). */
size_t th_calls(json_t *iteration, const char *topic);
/** "time" of the j-th call of topic in the iteration; fails if absent. */
double th_call_time(json_t *iteration, const char *topic, size_t j);
/** True if t (seconds) equals (double)ns / 1e9 for some integer ns. */
bool th_is_ns_seconds(double t);

/* ---- statistics as the original's summary computes them --------------- */

typedef struct th_stats {
  double mean, min, max, quantile_filtered;
} th_stats;

/** numpy.percentile(v, p) with linear interpolation (v need not be sorted). */
double th_percentile(const double *v, size_t n, double p);
/** The summary of values v[0..n-1] (n > 0) by the original's rules. */
th_stats th_summarize(const double *v, size_t n);

/* ---- processes and time ----------------------------------------------- */

void th_sleep_ms(unsigned ms);
/** Resident set size of this process in bytes (from /proc/self/statm). */
uint64_t th_rss_bytes(void);
/** Captures warnings given to pb_set_warning_handler. */
typedef struct th_warnings {
  int count;
  char last[512];
} th_warnings;
/** A pb_warning_fn that counts into a th_warnings (user_data); thread-safe. */
void th_warning_counter(const char *message, void *user_data);

#endif /* PB_TEST_HELPERS_H */
