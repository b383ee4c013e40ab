/*
 * bench_ranks.c - loading scale of multi-rank runs (docs/BENCHMARKS.md,
 * "Multi-process runs"): a generated job of RANKS rank folders of ITERS
 * iterations each, against one run folder of RANKS x ITERS iterations (the
 * same total size), both loaded and summarised (the multi-rank summary's
 * spread of every topic; the single run's statistics of every topic).
 *
 *   bench_ranks [--workdir DIR] [--ranks N] [--iters N] [--repeat N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_common.h"
#include "porter_bench_analysis.h"

#ifndef PB_GEN_RUN_PATH
#define PB_GEN_RUN_PATH "gen_run"
#endif

enum { STEPS = 5 };

/* A job folder of ranks rank folders, each with data and metadata files. */
static int gen_job(const char *dir, int ranks, long iters) {
  char cmd[16384];
  snprintf(cmd, sizeof cmd,
           "set -e; for r in $(seq 0 %d); do d=$(printf '%%s/rank-%%05d' '%.4000s' $r); "
           "mkdir -p $d; '%.4000s' $d %ld %d --seed $r >/dev/null; "
           "printf '{\"host\":\"h%%d\",\"rank\":%%d,\"world_size\":%d,\"launcher\":\"env\","
           "\"job_id\":\"bench\"}\\n' $((r / 64)) $r > $d/porter_bench_run.json; done",
           ranks - 1, dir, PB_GEN_RUN_PATH, iters, STEPS, ranks);
  return system(cmd);
}

static int gen_one(const char *dir, long iters) {
  char cmd[16384];
  snprintf(cmd, sizeof cmd, "mkdir -p '%.4000s' && '%.4000s' '%.4000s' %ld %d >/dev/null", dir,
           PB_GEN_RUN_PATH, dir, iters, STEPS);
  return system(cmd);
}

static pb_run *load(const char *dir) {
  pb_run *run = NULL;
  pb_error err;
  if (pb_run_load(dir, false, &run, &err)) fprintf(stderr, "load: %s\n", err.message);
  return run;
}

/* The multi-rank summary's work: the spread of every topic of every benchmarker. */
static double summarise_ranks(const pb_run *run) {
  double sink = 0;
  const pb_run *r0 = pb_run_rank(run, 0);
  for (size_t k = 0; k < pb_run_record_count(r0); k++) {
    const pb_record *r = pb_run_record(r0, k);
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      pb_rank_spread sp;
      pb_run_rank_spread(run, pb_record_name(r), pb_record_topic(r, t), &sp);
      sink += sp.mean;
    }
  }
  return sink;
}

static double summarise_one(const pb_run *run) {
  double sink = 0;
  for (size_t k = 0; k < pb_run_record_count(run); k++) {
    const pb_record *r = pb_run_record(run, k);
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      pb_stats s;
      pb_record_stats(r, t, &s);
      sink += s.mean;
    }
  }
  return sink;
}

/* Median wall and CPU seconds of repeat load + summary runs of dir. */
static int measure(const char *dir, bool ranks, int repeat, double *wall, double *cpu) {
  double t[100], c[100];
  for (int i = 0; i < repeat; i++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    pb_run *run = load(dir);
    if (!run) return 1;
    volatile double sink = ranks ? summarise_ranks(run) : summarise_one(run);
    (void)sink;
    if (ranks && pb_run_rank_count(run) == 0) return 1;
    pb_run_free(run);
    t[i] = bench_now() - t0;
    c[i] = bench_cpu_now() - c0;
  }
  bench_sort(t, (size_t)repeat);
  bench_sort(c, (size_t)repeat);
  *wall = t[repeat / 2];
  *cpu = c[repeat / 2];
  return 0;
}

int main(int argc, char **argv) {
  const char *work = "/tmp/pb_bench_ranks";
  int ranks = 1024, repeat = 5;
  long iters = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--workdir") == 0)
      work = argv[i + 1];
    else if (strcmp(argv[i], "--ranks") == 0)
      ranks = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--iters") == 0)
      iters = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--repeat") == 0)
      repeat = atoi(argv[i + 1]);
  }
  if (ranks < 1 || iters < 1 || repeat < 1 || repeat > 100 || (argc - 1) % 2) {
    fprintf(stderr, "usage: bench_ranks [--workdir DIR] [--ranks N] [--iters N] [--repeat N]\n");
    return 2;
  }
  char job[4200], one[4200];
  snprintf(job, sizeof job, "%.4000s/job-bench", work);
  snprintf(one, sizeof one, "%.4000s/one", work);
  printf("generating %d ranks x %ld iterations x %d steps, and one run of %ld iterations, in %s\n",
         ranks, iters, STEPS, (long)ranks * iters, work);
  if (gen_job(job, ranks, iters) || gen_one(one, (long)ranks * iters)) return 1;
  double jw, jc, ow, oc;
  if (measure(job, true, repeat, &jw, &jc) || measure(one, false, repeat, &ow, &oc)) return 1;
  printf("%-44s wall %7.3f s  cpu %7.3f s\n", "load + summary, multi-rank job", jw, jc);
  printf("%-44s wall %7.3f s  cpu %7.3f s\n", "load + summary, one run of the same size", ow, oc);
  printf("ratio (job / one run): wall %.2fx  cpu %.2fx  (target: at most 10x)\n", jw / ow, jc / oc);
  return 0;
}
