/*
 * porter_bench_analysis.h - load, summarise, chart and compare porter_bench runs.
 *
 * The analysis library reads the record files written by porter_bench (C) or
 * by the original Python porter_bench: a run folder "<root>/<timestamp>/"
 * holding "<name>_STEP_DICT_DATA.json", "<name>_STEP_DICT_SUMMARY.json" and
 * "<name>_MEMORY.json" per benchmarker. It turns them into flat arrays, the
 * original's summary statistics, and charts (PNG, SVG or PDF).
 *
 * Thread-safety: a loaded pb_run is immutable; any number of threads may
 * read it and draw charts from it at the same time. Loading and freeing a
 * run, and writing charts, touch no global state besides what cairo and
 * pango keep for themselves (both are thread-safe for separate surfaces).
 *
 * Errors: functions that can fail return PB_OK (0) or a negative status
 * code (the PB_E* codes of porter_bench.h plus the PB_EDATA family below);
 * pb_analysis_strerror() names it. Functions that take a pb_error* fill it,
 * when non-NULL, with a message naming the file, the line and column, and
 * what was expected. The library never prints, exits or aborts.
 *
 * Ownership: objects returned through an out-parameter belong to the caller
 * and are freed with the matching *_free function, which accepts NULL.
 * Pointers returned by accessors (names, arrays) belong to the run and stay
 * valid until pb_run_free().
 */
#ifndef PORTER_BENCH_ANALYSIS_H
#define PORTER_BENCH_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "porter_bench.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version, errors                                                           */
/* ------------------------------------------------------------------------ */

/** Version of the analysis library (follows the recording library's). */
#define PB_ANALYSIS_VERSION_STRING PB_VERSION_STRING

/** Returns the analysis library's version as a static string. */
PB_EXPORT const char *pb_analysis_version(void);

/** Status codes of the analysis library, after those of porter_bench.h. */
enum {
  PB_EDATA = -20,     /**< a record file is malformed or breaks the schema */
  PB_ENOTFOUND = -21, /**< no run folder or record file where one was expected */
  PB_ECHART = -22     /**< cairo or pango could not draw or write a chart */
};

/** Returns a static description of any status code (PB_OK, PB_E*). */
PB_EXPORT const char *pb_analysis_strerror(int status);

/** Size of the message buffer in pb_error. */
#define PB_ERROR_MESSAGE_SIZE 512

/**
 * Details of a failure. code is the status returned; message names the file
 * (and, for parse errors, "file:line:column: expected ...") and is always
 * NUL-terminated. line and column are 1-based, 0 when not applicable.
 */
typedef struct pb_error {
  int code;
  size_t line;
  size_t column;
  char message[PB_ERROR_MESSAGE_SIZE];
} pb_error;

/* ------------------------------------------------------------------------ */
/* Loaded data: plain read-only structs                                      */
/* ------------------------------------------------------------------------ */

/**
 * The "info" object of one iteration. Its three keys are required (a file
 * lacking one gets a diagnostic naming the iteration and the key). A time
 * written as [] (the original's start()/gstop() workflow does so) is NAN.
 */
typedef struct pb_iter_info {
  int64_t step_number; /**< STEP_NUMBER (0-based) */
  double start_time;   /**< START_TIME, epoch seconds; NAN for [] */
  double stop_time;    /**< STOP_TIME, epoch seconds; 0 for an unfinished iteration, NAN for [] */
} pb_iter_info;

/** One entry of "individual_calls": a timed call. */
typedef struct pb_call {
  uint32_t iter;  /**< iteration index (position in the file, 0-based) */
  uint32_t topic; /**< time topic index: pb_record_topic(r, topic) */
  uint32_t crono; /**< crono_counter: position of the call within its iteration */
  uint32_t pad_;  /**< unused */
  double time;    /**< seconds */
} pb_call;

/**
 * Indices of the GPU values in pb_mem_record.cuda: the original's four keys,
 * then porter_bench's "device_used" and "device_total" (memory in use by
 * every process on the devices where this one holds memory, and their size).
 */
enum {
  PB_CUDA_ALLOCATED,
  PB_CUDA_RESERVED,
  PB_CUDA_MAX_ALLOCATED,
  PB_CUDA_MAX_RESERVED,
  PB_CUDA_DEVICE_USED,
  PB_CUDA_DEVICE_TOTAL,
  PB_CUDA_N
};

/**
 * One memory record. Sizes are bytes as doubles (exact below 2^53); NAN
 * where the file has null or lacks the key.
 */
typedef struct pb_mem_record {
  uint32_t iter;          /**< iteration index */
  uint32_t topic;         /**< memory topic index: pb_record_memory_topic(r, topic) */
  uint32_t crono;         /**< crono_counter */
  uint32_t pad_;          /**< unused */
  double rss;             /**< "total memory usage" */
  double peak;            /**< "max memory usage" (peak since the previous record) */
  double heap;            /**< "heap memory usage" (C library only) */
  double cuda[PB_CUDA_N]; /**< "cuda memory usage" values, NAN when null */
} pb_mem_record;

/** One topic of a "_STEP_DICT_SUMMARY.json" file, as written. */
typedef struct pb_saved_summary {
  const char *topic;
  double mean, min, max, quantile_filtered;
} pb_saved_summary;

/**
 * Statistics of one topic's per-iteration times (seconds), computed as the
 * original's summurize does: mean (numpy's pairwise summation), min (0 when
 * every value is 0), max, quantile_filtered (mean of the values within
 * [P25 - 1.5 IQR, P75 + 1.5 IQR], the lower bound not below 0, percentiles
 * linearly interpolated as numpy's default), plus count, median, p90, p99
 * (same interpolation) and the population standard deviation (ddof 0).
 * With count 0 every value is NAN.
 */
typedef struct pb_stats {
  size_t count;
  double mean, min, max, quantile_filtered;
  double median, p90, p99, stddev;
} pb_stats;

/* ------------------------------------------------------------------------ */
/* Runs                                                                      */
/* ------------------------------------------------------------------------ */

/** A loaded run folder: its benchmarkers ("records"). Opaque, immutable. */
typedef struct pb_run pb_run;
/** One benchmarker of a run. Owned by its run. */
typedef struct pb_record pb_record;

/** The original's root folder name, searched next to PB_DEFAULT_ROOT. */
#define PB_ALT_ROOT "PORTER_BENCH_PERFORMANCE"
/** File a run folder may hold with the run's metadata (library version, host...). */
#define PB_RUN_METADATA_FILE "porter_bench_run.json"

/**
 * Resolves path to a run folder and copies it into buf (size n).
 * - path holds "*_STEP_DICT_DATA.json" files, or is the job folder of a
 *   multi-rank run (a "rank-N" folder in it holds them): path itself;
 * - otherwise, with latest true: the latest run folder under path, under
 *   path/TICTOC_PERFORMANCE, path/PORTER_BENCH_PERFORMANCE or
 *   path/$PORTER_BENCH_ROOT (all searched; the latest wins). Both folder
 *   name formats are understood: "YYYY-MM-DDTHH-MM-SS.ffffffZ[-N]" (UTC) and
 *   the original's "%H:%M-%d:%m:%Y" (local time); job folders "job-*" of
 *   multi-rank runs count by their modification time. When the latest run
 *   folder holds no data file yet (a program still running with auto-save
 *   off has written only PB_RUN_METADATA_FILE), it is not skipped for an
 *   older one: PB_ENOTFOUND, err naming it and the latest run with records;
 * - with latest false: path itself (the original's --no-latest).
 * Returns PB_OK, PB_EINVAL (NULL argument, buf too small), PB_ENOTFOUND
 * (no run folder, or the latest has no records yet; err says which and
 * where it looked) or PB_EIO.
 */
PB_EXPORT int pb_run_resolve(const char *path, bool latest, char *buf, size_t n, pb_error *err);

/**
 * Parses a run folder's name as a timestamp: *epoch_us receives microseconds
 * since the epoch (the original's local-time minutes converted with the
 * local time zone), *seq the "-N" suffix of ours (0 when absent), so that
 * (epoch_us, seq) orders runs. Either pointer may be NULL. Returns true when
 * the name has one of the two formats. Thread-safe.
 */
PB_EXPORT bool pb_run_parse_timestamp(const char *name, int64_t *epoch_us, int *seq);

/**
 * Loads the run folder that pb_run_resolve(path, latest) finds: every
 * benchmarker with a data, summary or memory file. A file that cannot be
 * read or parsed does not stop the load: its benchmarker keeps what the
 * other files gave plus the iterations of the failing file that were
 * complete before the error (for a truncated file, every complete
 * iteration before the cut), and the problem is listed in
 * pb_run_diagnostic() as "file:line:column: what was expected". Returns
 * PB_OK and sets *out (free with pb_run_free) even when some files failed;
 * PB_EINVAL, PB_ENOTFOUND, PB_EIO or PB_ENOMEM (with *out NULL, err filled)
 * when nothing could be loaded at all. Reentrant: no global state.
 * Data and memory files of 512 KiB or more are read and parsed in windows
 * of 256 KiB (PB_ANALYSIS_WINDOW=bytes sets the size, 0 for whole files),
 * those over 8 MiB on several threads (the online CPUs, at most 8; the
 * environment variable PB_ANALYSIS_THREADS=n sets the number, 1 for none),
 * with the same result as one parse of the whole file on one thread; the
 * threads end before the call returns.
 */
PB_EXPORT int pb_run_load(const char *path, bool latest, pb_run **out, pb_error *err);

/**
 * Loads a single data file ("<name>_STEP_DICT_DATA.json") and, if they
 * exist, its summary and memory siblings, as a run of one benchmarker.
 * Same return values as pb_run_load.
 */
PB_EXPORT int pb_run_load_files(const char *data_file, pb_run **out, pb_error *err);

/** Frees a run and everything it owns. NULL is a no-op. */
PB_EXPORT void pb_run_free(pb_run *run);

/** The run folder's path as loaded. */
PB_EXPORT const char *pb_run_path(const pb_run *run);
/** Number of problems met while loading (files that failed to parse...). */
PB_EXPORT size_t pb_run_diagnostic_count(const pb_run *run);
/** Problem i as "file:line:column: message"; NULL when i is out of range. */
PB_EXPORT const char *pb_run_diagnostic(const pb_run *run, size_t i);
/**
 * The run's metadata file (PB_RUN_METADATA_FILE) as "key: value" lines of
 * its scalar top-level members, "object.member: value" for the scalars of
 * its objects, and "key: a b c" for its lists of scalars (string elements
 * written as shell words, single-quoted when they hold anything but
 * letters, digits and _./=:,+@%-, so "command_line" reads as a command).
 * NULL when the run has none.
 */
PB_EXPORT const char *pb_run_metadata(const pb_run *run);

/** Number of benchmarkers, sorted by name. */
PB_EXPORT size_t pb_run_record_count(const pb_run *run);
/** Benchmarker i (0-based), NULL when out of range. */
PB_EXPORT const pb_record *pb_run_record(const pb_run *run, size_t i);
/** The benchmarker called name, NULL if none. */
PB_EXPORT const pb_record *pb_run_find(const pb_run *run, const char *name);

/* ------------------------------------------------------------------------ */
/* Multi-rank runs (MPI, Slurm, torchrun jobs): docs/MULTIPROCESS.md         */
/* ------------------------------------------------------------------------ */

/*
 * A job folder "<root>/job-<id>/" holds one run folder per rank,
 * "rank-NNNNN/", each an ordinary run folder (readable on its own).
 * pb_run_load() of a job folder (or, with latest, of a root whose latest
 * run is one) loads every rank: the returned run then has no benchmarkers
 * of its own (pb_run_record_count 0, pb_run_metadata NULL) and
 * pb_run_rank_count() > 0 ranks, loaded on up to PB_ANALYSIS_THREADS
 * threads. Its diagnostics are every rank's, plus one per rank folder that
 * could not be loaded (such a rank is left out). A job folder counts as a
 * run for "latest" from its last modification time.
 */

/** Number of ranks of a multi-rank run; 0 for a run of one process. */
PB_EXPORT size_t pb_run_rank_count(const pb_run *run);
/** Rank i (0-based, in increasing rank order) as a run of one process; NULL out of range. */
PB_EXPORT const pb_run *pb_run_rank(const pb_run *run, size_t i);
/** The rank number of rank i (its folder's "rank-NNNNN"); -1 out of range. */
PB_EXPORT int pb_run_rank_id(const pb_run *run, size_t i);

/**
 * How one topic of one benchmarker spreads across the ranks: the mean of
 * each rank's per-iteration times (as pb_stats.mean), and their min, mean
 * and max over the ranks that have the topic (with one value at least).
 */
typedef struct pb_rank_spread {
  size_t ranks;     /**< ranks that have the topic */
  double min;       /**< smallest per-rank mean, seconds; NAN when ranks is 0 */
  double mean;      /**< mean of the per-rank means */
  double max;       /**< largest per-rank mean */
  int min_rank;     /**< the rank with the smallest mean (the lowest such rank); -1 if none */
  int max_rank;     /**< the slowest rank (largest mean; the lowest such rank); -1 if none */
  double imbalance; /**< max / mean (1 = balanced); NAN when mean is 0 or NAN */
} pb_rank_spread;

/**
 * Computes the spread of topic of benchmarker record across run's ranks
 * into *out (ranks 0 when none has it). Returns PB_OK, PB_EINVAL (a NULL
 * argument, or run is not multi-rank) or PB_ENOMEM. Thread-safe.
 */
PB_EXPORT int pb_run_rank_spread(const pb_run *run, const char *record, const char *topic,
                                 pb_rank_spread *out);

/**
 * The mean of topic of benchmarker record on rank i (pb_stats.mean of its
 * per-iteration times); NAN when that rank lacks either. Thread-safe.
 */
PB_EXPORT double pb_run_rank_mean(const pb_run *run, size_t i, const char *record,
                                  const char *topic);

/* ------------------------------------------------------------------------ */
/* One benchmarker                                                           */
/* ------------------------------------------------------------------------ */

/** The benchmarker's name (file name without the suffix). */
PB_EXPORT const char *pb_record_name(const pb_record *r);
/** Number of iterations in the data file. */
PB_EXPORT size_t pb_record_iter_count(const pb_record *r);
/** The iterations' info objects (pb_record_iter_count of them). */
PB_EXPORT const pb_iter_info *pb_record_infos(const pb_record *r);

/** Number of time topics: the union of the iterations' "absolutes" keys. */
PB_EXPORT size_t pb_record_topic_count(const pb_record *r);
/** Time topic i in order of first appearance (GLOBAL included), NULL out of range. */
PB_EXPORT const char *pb_record_topic(const pb_record *r, size_t i);
/**
 * True when name is one of the library's own memory-probe time topics
 * ("gstep_memory", "gstop_memory", "<topic>_MEMORY_STEP"), which time the
 * memory probes rather than user code. Charts and tables hide them by
 * default. NULL gives false. Thread-safe (pure function).
 */
PB_EXPORT bool pb_topic_is_probe(const char *name);
/**
 * The time of the library's own memory probes per iteration: over the
 * iterations that have a GLOBAL time, the mean of the sum of the probe
 * topics' times (pb_topic_is_probe; 0 in an iteration without them). GLOBAL
 * (the iteration's wall time) includes it, so a chart or table that hides
 * the probes and shows GLOBAL says so with this figure. Sets *mean_s
 * (seconds) and, when share is not NULL, *share: that time over the sum of
 * GLOBAL over the same iterations (0..1; NAN when GLOBAL sums to 0).
 * Returns PB_OK, PB_ENOTFOUND (no probe topic, or no GLOBAL time: *mean_s
 * unchanged), PB_EINVAL (a NULL r or mean_s) or PB_ENOMEM. Thread-safe.
 */
PB_EXPORT int pb_record_probe_time(const pb_record *r, double *mean_s, double *share);
/** Index of the time topic called name, or -1. */
PB_EXPORT long pb_record_topic_index(const pb_record *r, const char *name);
/**
 * The "absolutes" of topic i: pb_record_iter_count values (seconds), NAN
 * for iterations where the topic did not occur. NULL out of range.
 */
PB_EXPORT const double *pb_record_absolutes(const pb_record *r, size_t i);

/**
 * The individual calls of every iteration in call order (by iteration,
 * then crono_counter); *n receives their number.
 */
PB_EXPORT const pb_call *pb_record_calls(const pb_record *r, size_t *n);

/** Number of memory records (0 when memory was not recorded). */
PB_EXPORT size_t pb_record_memory_count(const pb_record *r);
/** The memory records in call order (by iteration, then crono_counter). */
PB_EXPORT const pb_mem_record *pb_record_memory(const pb_record *r, size_t *n);
/** Number of memory topics ("gstep", user steps, "gstop"). */
PB_EXPORT size_t pb_record_memory_topic_count(const pb_record *r);
/** Memory topic i, NULL out of range. */
PB_EXPORT const char *pb_record_memory_topic(const pb_record *r, size_t i);
/** Number of memory iterations (entries of the memory file's list). */
PB_EXPORT size_t pb_record_memory_iter_count(const pb_record *r);
/** True when some memory record has a heap size. */
PB_EXPORT bool pb_record_has_heap(const pb_record *r);
/** True when some memory record has GPU memory values. */
PB_EXPORT bool pb_record_has_cuda(const pb_record *r);

/** How the recording library measured the memory records' peaks. */
typedef enum pb_recorded_peak {
  /** Not known: no run metadata, or metadata without "peak_mode" (the
   *  original's records, porter_bench before it recorded the mode). */
  PB_RECORDED_PEAK_UNKNOWN = 0,
  /** "peak_mode": "sample": RSS sampled by a thread every poll period; a
   *  spike shorter than the period may read low (docs/RECORDING.md). */
  PB_RECORDED_PEAK_SAMPLE = 1,
  /** "peak_mode": "reset": the exact peak since each record. */
  PB_RECORDED_PEAK_RESET = 2
} pb_recorded_peak;

/**
 * The peak mode of the run r was loaded from (its metadata's "peak_mode"),
 * and with PB_RECORDED_PEAK_SAMPLE the poll period in milliseconds in
 * *poll_ms when poll_ms is not NULL (NAN when not recorded). Thread-safe.
 */
PB_EXPORT pb_recorded_peak pb_record_peak_mode(const pb_record *r, double *poll_ms);

/** The summary file as written (NULL and *n 0 when absent or unreadable). */
PB_EXPORT const pb_saved_summary *pb_record_saved_summary(const pb_record *r, size_t *n);

/**
 * Computes the statistics of time topic i into *out. Returns PB_OK or
 * PB_EINVAL (NULL argument, i out of range). Allocates a scratch copy
 * (PB_ENOMEM when that fails). Thread-safe.
 */
PB_EXPORT int pb_record_stats(const pb_record *r, size_t i, pb_stats *out);

/**
 * Computes pb_stats over any n values (NANs are skipped) into *out. Returns
 * PB_OK, PB_EINVAL or PB_ENOMEM.
 */
PB_EXPORT int pb_stats_compute(const double *values, size_t n, pb_stats *out);

/**
 * numpy's percentile with linear interpolation (its default) of the sorted
 * array v (n > 0) at q in [0, 100]. NAN when n is 0.
 */
PB_EXPORT double pb_percentile_sorted(const double *v, size_t n, double q);

/**
 * Sum of v as numpy sums doubles (pairwise, 8-way unrolled blocks of 128):
 * the same bits as numpy.sum and so numpy.mean's numerator.
 */
PB_EXPORT double pb_sum_pairwise(const double *v, size_t n);

/**
 * Formats seconds with three significant digits and a unit chosen for the
 * value ("12.3 ms", "875 µs", "1.20 s"; "-" for NAN) into buf (size n,
 * always NUL-terminated). Locale-independent. Thread-safe.
 */
PB_EXPORT void pb_format_seconds(double seconds, char *buf, size_t n);

/* ------------------------------------------------------------------------ */
/* Comparison                                                                */
/* ------------------------------------------------------------------------ */

/** Result of a two-sided Mann-Whitney U test. */
typedef struct pb_utest {
  double u;       /**< U statistic of the first sample */
  double p_value; /**< two-sided p (normal approximation, tie-corrected); NAN if undefined */
  bool too_few;   /**< fewer than PB_UTEST_MIN_SAMPLES values on either side */
} pb_utest;

/** Below this many values per side the U test is flagged as unreliable. */
#define PB_UTEST_MIN_SAMPLES 9

/**
 * Mann-Whitney U test of a (na values) against b (nb values); NANs are
 * skipped. Returns PB_OK, PB_EINVAL or PB_ENOMEM.
 */
PB_EXPORT int pb_utest_compute(const double *a, size_t na, const double *b, size_t nb,
                               pb_utest *out);

/**
 * The median shift of sample b against sample a, with the rank test that
 * goes with it. Times as in the tables: b is the new run, a the baseline.
 * - shift: the Hodges-Lehmann estimator, the median of the n_a x n_b
 *   differences b_j - a_i (computed exactly, without listing them, in
 *   O((n_a + n_b) log(n_a + n_b)); 100,000 values a side stay fast);
 * - ci_low, ci_high: its distribution-free confidence interval, the order
 *   statistics of the differences at the Mann-Whitney critical value (exact
 *   distribution when both sides have at most 50 values and no value is
 *   repeated, else the normal approximation with tie correction); NAN when
 *   the samples are too small for the level asked;
 * - rel, rel_low, rel_high: shift and interval over |median_a| (0.10 is
 *   10% slower); NAN when median_a is 0;
 * - p_value: two-sided Mann-Whitney U test (exact or normal with tie and
 *   continuity correction, as above); u is U of b (pairs b_j > a_i, ties
 *   counting one half).
 * Values that are not finite (NAN, infinities) are skipped. When a side has
 * no value every double but the other side's median is NAN.
 */
typedef struct pb_shift {
  size_t n_a, n_b;               /**< values used on each side */
  double median_a, median_b;     /**< the samples' medians */
  double shift;                  /**< Hodges-Lehmann median shift (b - a) */
  double ci_low, ci_high;        /**< confidence interval of shift */
  double rel, rel_low, rel_high; /**< shift and interval relative to median_a */
  double u;                      /**< Mann-Whitney U of b */
  double p_value;                /**< two-sided p of the rank test */
  bool exact;                    /**< p and interval from the exact distribution */
  bool too_few;                  /**< fewer than PB_UTEST_MIN_SAMPLES on a side */
} pb_shift;

/**
 * Computes the pb_shift of b (nb values) against a (na values) at the
 * given confidence level (0.95 for 95%) into *out. Returns PB_OK, PB_EINVAL
 * (NULL with a count, confidence outside (0, 1)) or PB_ENOMEM. Thread-safe.
 */
PB_EXPORT int pb_shift_compute(const double *a, size_t na, const double *b, size_t nb,
                               double confidence, pb_shift *out);

/**
 * Holm's step-down correction of n p-values for testing them together:
 * adjusted[i] is the smallest family-wise level at which p[i] would be
 * rejected (sorted ascending, p_(r) x (k - r), never decreasing, at most
 * 1), k being the number of p-values that are not NAN; a NAN p gives a NAN.
 * adjusted may be p. Returns PB_OK, PB_EINVAL or PB_ENOMEM. Thread-safe.
 */
PB_EXPORT int pb_holm_adjust(const double *p, size_t n, double *adjusted);

/** Decision rule of pb_compare_samples. */
typedef struct pb_compare_params {
  double alpha;      /**< family-wise error rate (0.05) */
  double threshold;  /**< smallest |relative shift| worth reporting (0.05: 5%) */
  double confidence; /**< level of the intervals (0.95) */
} pb_compare_params;

/** The defaults: alpha 0.05, threshold 5%, 95% intervals. */
#define PB_COMPARE_DEFAULTS \
  { 0.05, 0.05, 0.95 }

/** One topic's verdict from pb_compare_samples. */
typedef struct pb_change {
  pb_shift shift;    /**< the shift, interval and unadjusted p */
  double p_adjusted; /**< Holm-adjusted p over the topics compared; NAN when not tested */
  int direction;     /**< +1 b larger (slower), -1 smaller (faster), 0 equal */
  bool significant;  /**< p_adjusted < alpha and |shift.rel| > threshold */
} pb_change;

/**
 * Compares k topics at once: topic t's baseline sample a[t] (na[t] values)
 * against its new sample b[t] (nb[t] values). Each gets its pb_shift; the
 * p-values of the topics with enough values (not too_few) are corrected
 * together with Holm's method; a topic is significant only when its
 * adjusted p is below params->alpha AND its relative shift exceeds
 * params->threshold in size, so that a change the test detects but too
 * small to matter, and a large change the data cannot support, are both
 * left unflagged. out receives k entries. Returns PB_OK, PB_EINVAL (NULL
 * argument with k > 0, parameters out of range) or PB_ENOMEM. Thread-safe.
 */
PB_EXPORT int pb_compare_samples(const double *const *a, const size_t *na, const double *const *b,
                                 const size_t *nb, size_t k, const pb_compare_params *params,
                                 pb_change *out);

/** What a row of a pb_comparison compares. */
typedef enum pb_compare_kind {
  PB_COMPARE_TIME,      /**< a time topic's per-iteration times (seconds), tested */
  PB_COMPARE_MEMORY,    /**< a memory measure per memory iteration (bytes), tested */
  PB_COMPARE_MEMORY_END /**< a memory value at the end of the run (bytes), not tested */
} pb_compare_kind;

/**
 * One row of a benchmarker's comparison. For PB_COMPARE_TIME and
 * PB_COMPARE_MEMORY, change holds the shift, its interval and the verdict
 * when the row is in both runs (tested); otherwise only the present side's
 * median is set and p_adjusted is NAN. For PB_COMPARE_MEMORY_END the two
 * single values are in change.shift.median_a and median_b, their plain
 * difference in shift and rel; interval and p are NAN, never significant.
 * Memory rows are named "peak" (per memory iteration, the largest of the
 * peak and RSS values recorded), "heap" (per memory iteration, the largest
 * heap size), "rss_end" and "heap_end" (the last values recorded).
 */
typedef struct pb_compare_row {
  const char *name;     /**< topic or memory measure; owned by the runs or static */
  pb_compare_kind kind; /**< what is compared */
  bool in_a, in_b;      /**< present in the baseline, in the new run */
  bool probe;           /**< a memory-probe time topic (pb_topic_is_probe) */
  pb_change change;     /**< shift, interval, Holm-adjusted p and verdict */
} pb_compare_row;

/** The comparison of one benchmarker found in both runs. */
typedef struct pb_compare_bench {
  const char *name;        /**< the benchmarker; owned by run a */
  size_t iters_a, iters_b; /**< iterations in each run */
  size_t ntime;            /**< time rows: rows[0 .. ntime - 1] */
  size_t nrows;            /**< time rows, then memory rows */
  pb_compare_row *rows;    /**< owned by the comparison */
} pb_compare_bench;

/**
 * The comparison of two runs. Holm's correction runs over every tested
 * time row of every benchmarker (ntested_time of them: one family for the
 * whole pair of runs, so the chance of a false alarm anywhere stays below
 * alpha), and separately over the tested memory rows.
 */
typedef struct pb_comparison {
  size_t nbench;           /**< benchmarkers of run a also in run b, by name */
  pb_compare_bench *bench; /**< owned by the comparison */
  size_t ntested_time;     /**< size of the time family */
  size_t ntested_memory;   /**< size of the memory family */
} pb_comparison;

/**
 * Compares run b against the baseline run a: for every benchmarker of a
 * also in b (only those named in names, nnames of them, unless names is
 * NULL), one PB_COMPARE_TIME row per time topic of either run (probe
 * topics only with with_probes), sorted by impact: significant rows first,
 * then by the size of the shift in seconds, rows of a topic missing from a
 * run after those, GLOBAL last; then the memory rows "peak", "heap",
 * "rss_end", "heap_end" (peak and rss_end when either run recorded memory,
 * heap and heap_end when either has heap sizes). Verdicts as
 * pb_compare_samples with params. *out (free with pb_comparison_free)
 * refers to names owned by the runs: free it before them. Returns PB_OK,
 * PB_EINVAL (NULL argument, bad params) or PB_ENOMEM. Thread-safe (runs
 * are read only).
 */
PB_EXPORT int pb_compare_runs(const pb_run *a, const pb_run *b, const char *const *names,
                              size_t nnames, const pb_compare_params *params, bool with_probes,
                              pb_comparison **out);

/**
 * Sorts n rows by impact, as pb_compare_runs orders a benchmarker's time
 * rows: significant changes first, then the other tested rows, then rows of
 * a topic missing from one run, GLOBAL last; within each group by the size
 * of the median shift (largest first), then by name. NULL with n 0 is a
 * no-op. Thread-safe for different rows.
 */
PB_EXPORT void pb_compare_sort_rows(pb_compare_row *rows, size_t n);

/** Frees a comparison. NULL is a no-op. */
PB_EXPORT void pb_comparison_free(pb_comparison *c);

/* ------------------------------------------------------------------------ */
/* Charts                                                                    */
/* ------------------------------------------------------------------------ */

/** The chart types. */
typedef enum pb_chart_kind {
  PB_CHART_TIMES,       /**< each topic's time per iteration */
  PB_CHART_BARS,        /**< mean and quantile-filtered mean per topic */
  PB_CHART_CRONO,       /**< each call in call order */
  PB_CHART_MEMORY,      /**< RSS, peak and heap over the memory records */
  PB_CHART_CUDA_MEMORY, /**< GPU memory over the memory records */
  PB_CHART_KIND_COUNT
} pb_chart_kind;

/** Output formats; one drawing code path serves all three. */
typedef enum pb_format { PB_FORMAT_PNG, PB_FORMAT_SVG, PB_FORMAT_PDF } pb_format;

/** The chart's file-name suffix ("times", "bars", ...); NULL for a bad kind. */
PB_EXPORT const char *pb_chart_name(pb_chart_kind kind);
/** The format's extension ("png", "svg", "pdf"); NULL for a bad format. */
PB_EXPORT const char *pb_format_ext(pb_format fmt);
/** Parses "png", "svg" or "pdf" into *fmt. Returns PB_OK or PB_EINVAL. */
PB_EXPORT int pb_format_parse(const char *text, pb_format *fmt);

/**
 * True when kind has something to show for r: times, bars and crono need
 * iterations; memory needs memory records; cuda_memory needs GPU values.
 */
PB_EXPORT bool pb_chart_applies(pb_chart_kind kind, const pb_record *r);

/**
 * Options of the charts. Zero-initialise it (`pb_chart_options o = {0};`):
 * all-zero means the defaults, and more fields may be added at the end in
 * later versions, each with a zero default.
 */
typedef struct pb_chart_options {
  /** Draw the library's own memory-probe topics (pb_topic_is_probe) too;
   *  false (default): they are left out of every chart and legend. */
  bool show_probes;
} pb_chart_options;

/**
 * Draws chart kind of n records (one per run, n >= 1; several overlay the
 * runs, each in its own style, labels naming them in the legend) into file
 * in format fmt. labels may be NULL (runs are then "run 1", "run 2"...),
 * title may be NULL (the first record's name). Returns PB_OK, PB_EINVAL
 * (a NULL argument or record, a bad kind or format), PB_ENOTFOUND (nothing
 * to draw for any record), PB_ENOMEM or PB_ECHART / PB_EIO (err names the
 * file). Thread-safe for different files.
 */
PB_EXPORT int pb_chart_write(pb_chart_kind kind, const pb_record *const *records,
                             const char *const *labels, size_t n, const char *title, pb_format fmt,
                             const char *file, pb_error *err);

/**
 * pb_chart_write with options (opts NULL: the defaults; pb_chart_write is
 * this with NULL). Same arguments, errors and thread-safety; opts is only
 * read during the call.
 */
PB_EXPORT int pb_chart_write_opts(pb_chart_kind kind, const pb_record *const *records,
                                  const char *const *labels, size_t n, const char *title,
                                  pb_format fmt, const char *file, const pb_chart_options *opts,
                                  pb_error *err);

/** Called by pb_plots_write for each file it wrote. */
typedef void (*pb_plot_written_fn)(const char *file, void *user_data);

/**
 * The original's generate_plots for a loaded run: for every benchmarker
 * (or only those named in topics, ntopics of them; NULL for all) writes
 * "<dir>/<name>_times.<ext>", "_bars", "_crono", and "_memory" /
 * "_cuda_memory" where pb_chart_applies. Creates dir. The charts are drawn
 * on up to PB_ANALYSIS_THREADS threads (see pb_run_load); on_file (may be
 * NULL) is then called from the calling thread for each file written, in
 * order. Returns PB_OK or the first error (err filled); the other charts
 * are still written. For a multi-rank run (pb_run_rank_count > 0), per
 * benchmarker of any rank (topics filtering as above, first appearance
 * first): "<dir>/<name>_ranks.<ext>" (pb_chart_ranks_write of GLOBAL),
 * "<dir>/<name>_rank_spread.<ext>" (pb_chart_rank_spread_write), then
 * the charts above of its slowest rank (largest GLOBAL mean, the
 * pb_rank_spread max_rank), titled "<name> (slowest rank N)"; a benchmarker
 * without GLOBAL times in any rank gets none.
 */
PB_EXPORT int pb_plots_write(const pb_run *run, const char *dir, const char *const *topics,
                             size_t ntopics, pb_format fmt, pb_plot_written_fn on_file,
                             void *user_data, pb_error *err);

/**
 * pb_plots_write with chart options (opts NULL: the defaults; pb_plots_write
 * is this with NULL). Same arguments, errors and threads; opts is only read
 * during the call.
 */
PB_EXPORT int pb_plots_write_opts(const pb_run *run, const char *dir, const char *const *topics,
                                  size_t ntopics, pb_format fmt, const pb_chart_options *opts,
                                  pb_plot_written_fn on_file, void *user_data, pb_error *err);

/**
 * Draws the per-rank view of a multi-rank run into file: a rank x iteration
 * heat map of topic (NULL: "GLOBAL") of benchmarker record, one row per
 * rank (lowest at the top), one column per iteration, coloured from the
 * fastest value (dark purple) to the slowest (yellow), with a colour bar.
 * With more ranks or iterations than pixels, each pixel shows the largest
 * value it covers; cells without a value are light grey. Returns PB_OK,
 * PB_EINVAL (a NULL argument, a bad format, run not multi-rank),
 * PB_ENOTFOUND (no rank has a value of the topic), PB_ENOMEM, PB_ECHART or
 * PB_EIO (err filled when non-NULL). Thread-safe for different files.
 */
PB_EXPORT int pb_chart_ranks_write(const pb_run *run, const char *record, const char *topic,
                                   pb_format fmt, const char *file, pb_error *err);

/**
 * Draws the per-topic spread of a multi-rank run into file: for each topic
 * of benchmarker record (in order of first appearance over the ranks,
 * GLOBAL last; memory-probe topics only with opts->show_probes; opts may be
 * NULL) a horizontal bar from the smallest to the largest per-rank mean
 * (pb_run_rank_spread, counting the ranks that have the topic), a tick at
 * the mean of the per-rank means, a dot per rank, and a label naming the
 * slowest rank and max/mean. The time axis is logarithmic when the largest
 * value is 100 times the smallest or more. At most 400 topics are drawn
 * (the first; the chart says so). Returns PB_OK, PB_EINVAL (a NULL
 * argument, a bad format, run not multi-rank), PB_ENOTFOUND (no rank has a
 * value of any shown topic), PB_ENOMEM, PB_ECHART or PB_EIO (err filled
 * when non-NULL). Thread-safe for different files.
 */
PB_EXPORT int pb_chart_rank_spread_write(const pb_run *run, const char *record,
                                         const pb_chart_options *opts, pb_format fmt,
                                         const char *file, pb_error *err);

/**
 * In-process equivalent of the original's bench_dict.generate_plots():
 * loads the latest run under root (NULL: $PORTER_BENCH_ROOT or
 * TICTOC_PERFORMANCE) and writes its PNG charts into dir (NULL: "PLOTS").
 */
PB_EXPORT int pb_generate_plots(const char *root, const char *dir, pb_error *err);

#ifdef __cplusplus
}
#endif

#endif /* PORTER_BENCH_ANALYSIS_H */
