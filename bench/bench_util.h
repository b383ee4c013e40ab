/*
 * bench_util.h - shared pieces of the overhead benchmark (porter_bench_bench):
 * the result list, clocks, medians, process memory and run settings.
 *
 * The benchmark uses only the public API of porter_bench; where it needs the
 * process's memory it reads /proc itself.
 */
#ifndef PBB_BENCH_UTIL_H
#define PBB_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "porter_bench.h"

/** How a median is compared with its target. */
typedef enum pbb_cmp { PBB_INFO, PBB_LE, PBB_GE, PBB_EQ0 } pbb_cmp;

/** One figure of the table (and of the JSON output). */
typedef struct pbb_result {
  char id[48];     /* stable key for the JSON, e.g. "step_ns" */
  char figure[96]; /* human-readable name */
  char unit[8];    /* "ns", "s", "B", "x", "%", "" */
  double median;   /* the figure */
  double min, max; /* over the runs */
  int runs;        /* number of runs behind the median */
  pbb_cmp cmp;     /* comparison with target */
  double target;   /* target value, in unit */
  char target_text[48];
  double original;   /* the Python original's value, in unit; < 0 = none */
  char note[160];    /* how it was measured / caveats */
  bool extrapolated; /* the median is an estimate (see note) */
} pbb_result;

/** Run settings chosen on the command line. */
typedef struct pbb_config {
  bool quick;               /* smaller batches and fewer runs: a smoke test */
  int rounds;               /* runs of each micro figure (median over them) */
  double scale;             /* batch size multiplier (1 full, 0.1 quick) */
  size_t iters;             /* iterations of the big record set (100,000) */
  double autosave_budget_s; /* time cap of the auto-save loop */
  char tmpdir[256];         /* mkdtemp folder for every saved file */
  double load_start;        /* 1-minute load average when the run began */
  bool accum_only;          /* figure 0 only (--accum) */
} pbb_config;

/** Monotonic nanoseconds, read directly (not through the library). */
uint64_t pbb_now(void);
/** CPU time of the whole process (CLOCK_PROCESS_CPUTIME_ID), ns. */
uint64_t pbb_cpu_now(void);
/** CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns. */
uint64_t pbb_thread_cpu_now(void);
/** Median of n doubles (sorts a copy); 0 for n == 0. */
double pbb_median(const double *v, int n);
double pbb_min(const double *v, int n);
double pbb_max(const double *v, int n);

/** Appends a result; returns it so the caller can fill the rest. */
pbb_result *pbb_add(const char *id, const char *figure, const char *unit, const double *samples,
                    int n);
/** Sets the target of r (value in r's unit) and its text. */
void pbb_target(pbb_result *r, pbb_cmp cmp, double target, const char *text);
/** Sets the note of r (printf-style). */
void pbb_note(pbb_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The result with this id, or NULL. */
pbb_result *pbb_find(const char *id);
/** Verdict of r: 1 pass, 0 fail, -1 no target. */
int pbb_verdict(const pbb_result *r);

/** Prints the table to stdout. */
void pbb_print_table(const pbb_config *cfg);
/** Writes every result as JSON to path; returns 0 or -1. */
int pbb_write_json(const char *path, const pbb_config *cfg);

/** The 1-minute load average (/proc/loadavg), or -1. */
double pbb_loadavg(void);
/** Resident set size now, bytes (/proc/self/statm), or -1. */
int64_t pbb_rss(void);
/** Peak RSS (VmHWM of /proc/self/status), bytes, or -1. */
int64_t pbb_hwm(void);
/** Resets the peak RSS to the current RSS (/proc/self/clear_refs "5"); 0 or -1. */
int pbb_reset_hwm(void);

/** Keeps the compiler from moving or dropping memory accesses across it. */
#define PBB_BARRIER() __asm__ volatile("" ::: "memory")

/* Figure groups (one file each). */
void pbb_run_accum(const pbb_config *cfg);   /* 0: accumulating calls, bytes, threads */
void pbb_run_records(const pbb_config *cfg); /* 4, 5, 6: bytes per step, save, auto-save */
void pbb_run_micro(const pbb_config *cfg);   /* 1, 2, 3: clocks, step paths, memory probes */
void pbb_run_threads(const pbb_config *cfg); /* 7: threads */
/** Enables and disables memory tracking once: the library's probe state starts now. */
void pbb_init_memory_probe(const pbb_config *cfg);

/* bench_disabled.c (compiled with -DPB_DISABLE). */
/** Runs n PB_STEP(b, ...) statements; returns elapsed ns. */
uint64_t pbb_disabled_steps(pb_bench *b, size_t n);
/** Runs the same loop with no statement; returns elapsed ns. */
uint64_t pbb_disabled_empty(size_t n);
/** How many times PB_STEP evaluated its arguments (must stay 0). */
unsigned pbb_disabled_evaluations(void);

#endif
