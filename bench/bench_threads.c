/*
 * bench_threads.c - figure 7: total pb_step calls per second with 2 threads,
 * each on its own benchmarker or both on one, against 1 thread, measured in
 * the same round. Threads start together on a barrier; the throughput is
 * the calls of all threads over the span from the first start to the last end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"

enum { MAX_THREADS = 2 };

typedef struct worker {
  pb_bench *b;
  size_t n;
  pthread_barrier_t *start;
  uint64_t t0, t1; /* monotonic start and end */
  uint64_t cpu;    /* the thread's CPU time over the loop */
} worker;

static void *work(void *arg) {
  worker *w = arg;
  pthread_barrier_wait(w->start);
  uint64_t c0 = pbb_thread_cpu_now();
  w->t0 = pbb_now();
  for (size_t i = 0; i < w->n; i++) pb_step(w->b, "thread step");
  w->t1 = pbb_now();
  w->cpu = pbb_thread_cpu_now() - c0;
  return NULL;
}

static pb_bench *new_bench(const pbb_config *cfg, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", cfg->tmpdir, name);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) {
    fprintf(stderr, "bench: cannot create a benchmarker: %s\n", pb_last_error());
    exit(1);
  }
  pb_gstep(b);
  return b;
}

/*
 * Calls per second of `nthreads` threads; shared = one benchmarker for all.
 * *per_cpu_s gets the calls per second of CPU time the threads used.
 */
static double throughput(const pbb_config *cfg, int nthreads, bool shared, size_t n,
                         double *per_cpu_s) {
  pb_bench *benches[MAX_THREADS];
  for (int t = 0; t < nthreads; t++) {
    benches[t] = shared && t ? benches[0] : new_bench(cfg, "threads");
  }
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)nthreads);
  worker w[MAX_THREADS];
  pthread_t th[MAX_THREADS];
  for (int t = 0; t < nthreads; t++) {
    w[t] = (worker){benches[t], n, &start, 0, 0, 0};
    if (pthread_create(&th[t], NULL, work, &w[t]) != 0) exit(1);
  }
  uint64_t first = UINT64_MAX, last = 0, cpu = 0;
  for (int t = 0; t < nthreads; t++) {
    pthread_join(th[t], NULL);
    cpu += w[t].cpu;
    first = w[t].t0 < first ? w[t].t0 : first;
    last = w[t].t1 > last ? w[t].t1 : last;
  }
  pthread_barrier_destroy(&start);
  for (int t = 0; t < nthreads; t++) {
    if (!shared || t == 0) pb_bench_destroy(benches[t]);
  }
  if (per_cpu_s) *per_cpu_s = (double)n * nthreads / ((double)cpu / 1e9);
  return (double)n * nthreads / ((double)(last - first) / 1e9);
}

void pbb_run_threads(const pbb_config *cfg) {
  enum { ROUNDS = 7 };
  int rounds = cfg->quick ? 3 : ROUNDS;
  size_t n = (size_t)(1e6 * cfg->scale);
  double one[ROUNDS], sep[ROUNDS], shr[ROUNDS], sep_cpu[ROUNDS], shr_cpu[ROUNDS];
  throughput(cfg, 1, false, n, NULL); /* warm-up */
  for (int r = 0; r < rounds; r++) {
    double cpu1, cpu2;
    double base = throughput(cfg, 1, false, n, &cpu1);
    one[r] = base / 1e6;
    sep[r] = throughput(cfg, 2, false, n, &cpu2) / base;
    sep_cpu[r] = 2 * cpu2 / cpu1;
    shr[r] = throughput(cfg, 2, true, n, &cpu2) / base;
    shr_cpu[r] = 2 * cpu2 / cpu1;
  }
  pbb_result *r =
      pbb_add("threads1_mcalls", "7. 1 thread: million pb_step calls/s", "", one, rounds);
  pbb_note(r, "%zu steps per thread per round", n);
  r = pbb_add("threads2_separate_x", "7. 2 threads, own benchmarkers (vs 1)", "x", sep, rounds);
  pbb_target(r, PBB_GE, 1.8, ">= 1.8x");
  pbb_note(r, "wall-clock throughput: needs both cores free (see the load average)");
  r = pbb_add("threads2_shared_x", "7. 2 threads, one shared benchmarker (vs 1)", "x", shr, rounds);
  pbb_target(r, PBB_GE, 0.8, ">= 0.8x");
  r->original = 0.8;
  pbb_note(r, "original: 4 threads got 0.8x the throughput of one");
  r = pbb_add("threads2_separate_cpu_x", "7. 2 threads, own: 2 x calls per CPU-s (vs 1)", "x",
              sep_cpu, rounds);
  pbb_note(r,
           "the speed-up if each thread had a core to itself: contention costs CPU time, "
           "waiting for a busy machine does not");
  r = pbb_add("threads2_shared_cpu_x", "7. 2 threads, shared: 2 x calls per CPU-s (vs 1)", "x",
              shr_cpu, rounds);
}
