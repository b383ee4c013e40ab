/*
 * rel_util.h - shared code of the reliability tests: scratch folders,
 * walking a tree, reading record files back with jansson and checking that a
 * data file holds a complete, consistent prefix of a run.
 *
 * The reliability tests use only the public header porter_bench.h; files are
 * read back with jansson, never with porter_bench's own code.
 */
#ifndef PB_REL_UTIL_H
#define PB_REL_UTIL_H

#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "porter_bench.h"

/** Exit status that ctest reads as "skipped" (SKIP_RETURN_CODE). */
#define REL_SKIP 77

/** Fails with the status names unless status == expected. */
#define REL_ASSERT_STATUS(status, expected)                                                        \
  do {                                                                                             \
    int rel_s_ = (status), rel_e_ = (expected);                                                    \
    if (rel_s_ != rel_e_)                                                                          \
      fail_msg("%s returned %s (%d), expected %s; last error: '%s'", #status, pb_err_name(rel_s_), \
               rel_s_, pb_err_name(rel_e_), pb_last_error());                                      \
  } while (0)
#define REL_ASSERT_OK(expr) REL_ASSERT_STATUS((expr), PB_OK)

/** True in an ASan/TSan build (or with REL_SANITIZED defined by CMake). */
bool rel_sanitized(void);
/**
 * A count for the test: $PB_REL_<name> when set (e.g. PB_REL_KILLS=300), else
 * def (divided by 4, at least 1, under a sanitizer when sanitized_div is set).
 */
long rel_count(const char *name, long def, bool sanitized_div);

/** Creates a fresh folder /tmp/pbrel-<tag>.XXXXXX; returns its malloc'd path. */
char *rel_mkdtemp(const char *tag);
/** Removes a folder tree (best effort); NULL is a no-op. */
void rel_rmtree(const char *path);
/** Returns a malloc'd printf-formatted string. */
char *rel_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** True if path exists (lstat). */
bool rel_exists(const char *path);
/** Writes text to path (truncating); true on success. */
bool rel_write_file(const char *path, const char *text);

/** One entry found by rel_walk: its path relative to the root, and its type. */
typedef struct rel_entry {
  char *rel;   /**< path relative to the walked root, malloc'd */
  bool is_dir; /**< a folder (otherwise a file, link or other) */
} rel_entry;

/** A list of entries. */
typedef struct rel_tree {
  rel_entry *e;
  size_t n;
} rel_tree;

/** Lists everything under root (not following links). */
rel_tree rel_walk(const char *root);
void rel_tree_free(rel_tree *t);

/**
 * True when name ends with one of the three record suffixes, or is an
 * auto-save journal ("<prefix>_STEP_DICT_DATA.journal", "<prefix>_MEMORY.journal":
 * one JSON array of iterations per line, see docs/RECORDING.md).
 */
bool rel_is_record_name(const char *name);
/** True when name is an auto-save journal (see rel_is_record_name). */
bool rel_is_journal_name(const char *name);
/** True when name contains ".tmp." (a temporary file of a save). */
bool rel_is_tmp_name(const char *name);

/** Parses a file with jansson (flags: JSON_DECODE_ANY). On failure: NULL and the error in err. */
json_t *rel_load(const char *path, json_error_t *err);
/** Parses "<prefix><suffix>", failing the test if it does not parse. */
json_t *rel_must_load(const char *prefix, const char *suffix);

/**
 * Checks a parsed DATA file of a run whose iterations each hold the user
 * topics in `topics` (NULL-terminated, one call each, in that order), then
 * "gstop" and "GLOBAL"; every iteration must be closed except, when
 * allow_open, the last. When extra_topic is non-NULL its call's extra must
 * be {"i": <iteration>}. Returns the number of iterations, or -1 with a
 * message in why (size n).
 */
long rel_check_data_prefix(json_t *data, const char *const *topics, const char *extra_topic,
                           bool allow_open, char *why, size_t n);
/**
 * Checks a parsed MEMORY file: a list whose k-th entry has STEP_NUMBER k and
 * "gstep" and "gstop" records (the first iteration has no "gstep" record
 * when opened by pb_start). Returns the number of entries or -1 (why).
 */
long rel_check_memory_prefix(json_t *mem, char *why, size_t n);
/** Checks a parsed SUMMARY file: an object of {mean,min,max,quantile_filtered}. */
bool rel_check_summary(json_t *sum, char *why, size_t n);

/** Total number of individual calls of topic over all iterations of a DATA file. */
size_t rel_count_calls(json_t *data, const char *topic);
/** Total number of individual calls over all topics except GLOBAL. */
size_t rel_count_all_calls(json_t *data);

#endif /* PB_REL_UTIL_H */
