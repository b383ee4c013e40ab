/*
 * bench_common.h - the clocks and the sort shared by the analysis
 * benchmarks (bench_analysis, bench_ranks). Header-only: each benchmark is
 * one file linked only against the analysis library. Thread-safe.
 */
#ifndef PB_BENCH_ANALYSIS_COMMON_H
#define PB_BENCH_ANALYSIS_COMMON_H

#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* Monotonic wall time, in seconds. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the process (user + system), in seconds: less sensitive than
 * wall time to other processes sharing the machine. */
static inline double bench_cpu_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts v[0..n) ascending (for the best and the median of the repeats). */
static inline void bench_sort(double *v, size_t n) { qsort(v, n, sizeof *v, bench_cmp_double); }

#endif
