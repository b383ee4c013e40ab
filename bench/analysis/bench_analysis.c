/*
 * bench_analysis.c - speed of the analysis library on generated runs:
 *   1. load + summary (all topics' statistics) of a 100,000-iteration x
 *      5-step run;
 *   2. every chart (PNG) of a 1,000-iteration run with memory records;
 *   3. every chart (PNG) of a 100,000-iteration run with memory records.
 *
 *   bench_analysis [--workdir DIR] [--repeat N] [--format png|svg|pdf]
 *   bench_analysis --summary RUN [--repeat N]
 *
 * With --summary, only case 1 on the run folder RUN (generated with gen_run,
 * or any run), each repeat in this process, best and median of N (default 11).
 *
 * The runs are generated at bench time with gen_run (never committed).
 * Prints the best and median wall time of N repeats per case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_common.h"
#include "porter_bench_analysis.h"

#ifndef PB_GEN_RUN_PATH
#define PB_GEN_RUN_PATH "gen_run"
#endif

static int gen(const char *dir, long iters, int steps, const char *extra) {
  char cmd[16384];
  snprintf(cmd, sizeof cmd, "mkdir -p '%.4000s' && '%.4000s' '%.4000s' %ld %d %.1000s", dir,
           PB_GEN_RUN_PATH, dir, iters, steps, extra);
  return system(cmd);
}

static long file_size(const char *dir) {
  char p[8192];
  snprintf(p, sizeof p, "%.4000s/bench_STEP_DICT_DATA.json", dir);
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int load_summary(const char *dir) {
  pb_run *run = NULL;
  pb_error err;
  if (pb_run_load(dir, false, &run, &err)) {
    fprintf(stderr, "load: %s\n", err.message);
    return 1;
  }
  volatile double sink = 0;
  for (size_t i = 0; i < pb_run_record_count(run); i++) {
    const pb_record *r = pb_run_record(run, i);
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      pb_stats s;
      pb_record_stats(r, t, &s);
      sink += s.mean + s.quantile_filtered;
    }
  }
  (void)sink;
  pb_run_free(run);
  return 0;
}

static int charts(const char *dir, const char *out, pb_format fmt) {
  pb_run *run = NULL;
  pb_error err;
  if (pb_run_load(dir, false, &run, &err)) {
    fprintf(stderr, "load: %s\n", err.message);
    return 1;
  }
  int rc = pb_plots_write(run, out, NULL, 0, fmt, NULL, NULL, &err);
  if (rc) fprintf(stderr, "plots: %s\n", err.message);
  pb_run_free(run);
  return rc;
}

static void report(const char *what, double *t, double *c, int n) {
  bench_sort(t, (size_t)n);
  bench_sort(c, (size_t)n);
  printf("%-56s wall best %7.3f s median %7.3f s | cpu best %7.3f s median %7.3f s\n", what, t[0],
         t[n / 2], c[0], c[n / 2]);
}

/* Times load + summary of the run folder dir only. */
static int summary_only(const char *dir, int repeat) {
  double t[100], c[100];
  for (int i = 0; i < repeat; i++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (load_summary(dir)) return 1;
    t[i] = bench_now() - t0;
    c[i] = bench_cpu_now() - c0;
  }
  report("load + summary", t, c, repeat);
  return 0;
}

int main(int argc, char **argv) {
  const char *work = "/tmp/pb_bench_analysis", *only = NULL;
  int repeat = 5;
  pb_format fmt = PB_FORMAT_PNG;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--workdir") == 0 && i + 1 < argc)
      work = argv[++i];
    else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
      repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
      pb_format_parse(argv[++i], &fmt);
    else if (strcmp(argv[i], "--summary") == 0 && i + 1 < argc)
      only = argv[++i], repeat = repeat == 5 ? 11 : repeat;
    else {
      fprintf(stderr,
              "usage: bench_analysis [--workdir DIR] [--repeat N] [--format png|svg|pdf]\n"
              "       bench_analysis --summary RUN [--repeat N]\n");
      return 2;
    }
  }
  if (repeat < 1 || repeat > 100) repeat = 5;
  if (only) return summary_only(only, repeat);
  char big[4200], small[4200], bigmem[4200], out[4200];
  snprintf(big, sizeof big, "%.4000s/run_100k", work);
  snprintf(bigmem, sizeof bigmem, "%.4000s/run_100k_mem", work);
  snprintf(small, sizeof small, "%.4000s/run_1k_mem", work);
  snprintf(out, sizeof out, "%.4000s/PLOTS", work);
  printf("generating runs in %s ...\n", work);
  if (gen(big, 100000, 5, "") || gen(small, 1000, 5, "--memory") ||
      gen(bigmem, 100000, 5, "--memory"))
    return 1;
  printf("100,000 x 5 data file: %.1f MB\n", (double)file_size(big) / 1e6);
  double t[100], c[100];
  for (int i = 0; i < repeat; i++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (load_summary(big)) return 1;
    t[i] = bench_now() - t0;
    c[i] = bench_cpu_now() - c0;
  }
  report("load + summary, 100,000 iterations x 5 steps", t, c, repeat);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%-58s %8.1f MB\n", "peak RSS so far", (double)ru.ru_maxrss / 1024.0);
  for (int i = 0; i < repeat; i++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (charts(small, out, fmt)) return 1;
    t[i] = bench_now() - t0;
    c[i] = bench_cpu_now() - c0;
  }
  report("all charts (load included), 1,000 iterations + memory", t, c, repeat);
  int rep = repeat > 3 ? 3 : repeat;
  for (int i = 0; i < rep; i++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (charts(bigmem, out, fmt)) return 1;
    t[i] = bench_now() - t0;
    c[i] = bench_cpu_now() - c0;
  }
  report("all charts (load included), 100,000 iterations + memory", t, c, rep);
  return 0;
}
