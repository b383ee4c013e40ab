/*
 * internal.h - private types of the analysis library, shared by its C files
 * and by json_simdjson.cpp (the only C++ file), which fills a pb_record
 * through the pb__rec_* functions below while it walks the JSON.
 */
#ifndef PB_ANALYSIS_INTERNAL_H
#define PB_ANALYSIS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "porter_bench_analysis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of readable zero padding after a JSON buffer (>= SIMDJSON_PADDING). */
#define PB__JSON_PADDING 64

/* Interned strings with an open-addressing index. */
typedef struct pb__strtab {
  char **names;
  uint32_t *lens;
  uint32_t n, cap;
  uint32_t *slots; /* index + 1, 0 = empty */
  uint32_t nslots;
} pb__strtab;

/* Returns the id of s (len bytes), adding it; UINT32_MAX when out of memory. */
uint32_t pb__strtab_intern(pb__strtab *t, const char *s, size_t len);
/* Returns the id of s or UINT32_MAX. */
uint32_t pb__strtab_find(const pb__strtab *t, const char *s, size_t len);
/* Forgets the strings of id n and above. */
void pb__strtab_cut(pb__strtab *t, uint32_t n);
void pb__strtab_free(pb__strtab *t);

/* One topic's absolutes by iteration (NAN = absent); n filled, cap allocated. */
typedef struct pb__abs_col {
  double *v;
  size_t n, cap;
} pb__abs_col;

struct pb_record {
  char *name;
  /* time data */
  pb__strtab topics;
  pb_iter_info *infos;
  size_t n_iter, cap_iter;
  /* per topic (topics.n of them, cap_cols allocated): its absolutes, filled as the
   * walker meets them; pb__rec_finish pads every column to n_iter with NAN */
  pb__abs_col *abs;
  size_t cap_cols;
  pb_call *calls;
  size_t n_calls, cap_calls;
  /* memory */
  pb__strtab mem_topics;
  pb_mem_record *mem;
  size_t n_mem, cap_mem;
  size_t n_mem_iter;
  int64_t *mem_steps; /* per memory iteration: its STEP_NUMBER, PB__STEP_UNSET if none */
  size_t cap_mem_steps;
  bool has_heap, has_cuda;
  /* summary file */
  pb__strtab saved_topics;
  pb_saved_summary *saved;
  size_t n_saved, cap_saved;
  /* paths of the files found */
  char *data_file, *summary_file, *memory_file;
  /* auto-save journals ("<name>_STEP_DICT_DATA.journal"...), read after the files */
  char *data_journal, *memory_journal;
  /* the run metadata's peak mode (pb_recorded_peak) and poll period (ms, NAN if none) */
  int peak_mode;
  double peak_poll_ms;
};

/* Builder calls used by the JSON walker. All return 0 or PB_ENOMEM. */
int pb__rec_begin_iter(pb_record *r, uint32_t *iter);
int pb__rec_add_absolute(pb_record *r, uint32_t iter, uint32_t topic, double v);
int pb__rec_add_call(pb_record *r, uint32_t iter, uint32_t topic, uint32_t crono, double t);
uint32_t pb__rec_topic(pb_record *r, const char *s, size_t len);
int pb__rec_begin_mem_iter(pb_record *r, uint32_t *iter);
/* Sets the STEP_NUMBER of memory iteration iter (< n_mem_iter). */
void pb__rec_set_mem_step(pb_record *r, uint32_t iter, int64_t step);
uint32_t pb__rec_mem_topic(pb_record *r, const char *s, size_t len);
int pb__rec_add_mem(pb_record *r, const pb_mem_record *m);
int pb__rec_add_saved(pb_record *r, const char *topic, size_t len, const double v[4]);

/* step_number of an iteration whose info has none (set to its index by
 * pb__rec_finish). */
#define PB__STEP_UNSET INT64_MIN

/* Appends the parsed (unfinished) data of part to r: iterations renumbered
 * after r's, topics re-interned. Returns 0 or PB_ENOMEM. */
int pb__rec_append(pb_record *r, const pb_record *part);

/* Threads for parsing one file: $PB_ANALYSIS_THREADS (1 = one thread) or
 * the online CPUs, at most 8. */
int pb__analysis_threads(void);
/*
 * Parses a data (memory false) or memory file (open as fd, len bytes) into r
 * window by window, on up to pb__analysis_threads() threads (parallel.c).
 * Returns 0 when done; -1 when the file is too small, has no recognisable
 * layout or a window failed (r as it was: parse the file whole); PB_ENOMEM.
 */
int pb__parse_parallel(int fd, size_t len, pb_record *r, bool memory);

/* Marks to roll a record back to its last complete iteration. */
typedef struct pb__rec_mark {
  size_t n_iter, n_calls, n_mem, n_mem_iter;
  uint32_t n_topics, n_mem_topics;
} pb__rec_mark;
void pb__rec_mark_get(const pb_record *r, pb__rec_mark *m);
/* Rolls the items back to m; topics met since stay (as a one-thread parse leaves them). */
void pb__rec_mark_reset(pb_record *r, const pb__rec_mark *m);
/* Rolls everything back to m, the topics met since included. */
void pb__rec_rollback(pb_record *r, const pb__rec_mark *m);

/*
 * Removes the time iterations [lo, hi) (their infos, absolutes and calls)
 * before pb__rec_finish; later iterations move down. The items of
 * iterations >= lo must be the last of their arrays (as the walker adds
 * them): the cost is that of those items.
 */
void pb__rec_drop_iters(pb_record *r, size_t lo, size_t hi);
/* Removes the memory iterations [lo, hi) (their records), likewise. */
void pb__rec_drop_mem_iters(pb_record *r, size_t lo, size_t hi);
/* Calls of time iteration it, counted from the end of the calls (items after it: none). */
size_t pb__rec_iter_size(const pb_record *r, size_t it);
/* Records of memory iteration it, counted likewise. */
size_t pb__rec_mem_iter_size(const pb_record *r, size_t it);

/* Error of a JSON walk: byte offset (SIZE_MAX when unknown) and message. */
typedef struct pb__jerr {
  size_t offset;
  int code;       /* PB_EDATA or PB_ENOMEM */
  bool truncated; /* the document ends early (or its brackets do not balance) */
  char msg[384];
} pb__jerr;

/*
 * The JSON walkers (json_simdjson.cpp). buf holds len bytes followed by at
 * least PB__JSON_PADDING readable bytes. Return 0, or PB_EDATA / PB_ENOMEM
 * with *e filled. On error the record keeps the iterations that were
 * complete before it. A parser serves one thread at a time.
 */
typedef struct pb__json_parser pb__json_parser;
pb__json_parser *pb__json_parser_new(void);
void pb__json_parser_free(pb__json_parser *jp);
int pb__json_parse_data(pb__json_parser *jp, const char *buf, size_t len, pb_record *r,
                        pb__jerr *e);
int pb__json_parse_memory(pb__json_parser *jp, const char *buf, size_t len, pb_record *r,
                          pb__jerr *e);
int pb__json_parse_summary(pb__json_parser *jp, const char *buf, size_t len, pb_record *r,
                           pb__jerr *e);
/* Formats the scalar top-level members of an object as "key: value\n" lines (malloc'd). */
int pb__json_parse_metadata(pb__json_parser *jp, const char *buf, size_t len, char **out,
                            pb__jerr *e);
/* Reserves room for the items a file of len bytes may hold (a hint). */
void pb__rec_reserve(pb_record *r, size_t len, bool memory);
/* Name of the simdjson kernel the walkers use ("haswell", "fallback"...). */
const char *pb__json_kernel(void);

/* Builds the absolutes matrix and sorts calls and memory records. */
int pb__rec_finish(pb_record *r);
void pb__rec_free(pb_record *r);

/* Sorts n doubles (no NANs) in place, ascending. */
void pb__sort_doubles(double *v, size_t n);

/* Formatting helpers shared by the charts and the CLI-facing API. */
/* Formats seconds with 3 significant digits and a unit: "12.3 ms". */
void pb__fmt_seconds(double s, char *buf, size_t n);

#ifdef __cplusplus
}
#endif

#endif
