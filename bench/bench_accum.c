/*
 * bench_accum.c - figure 0, the headline: the recording calls while records
 * accumulate, as a program makes them, against a clock read timed in the
 * same round; bytes per user step; two threads against one beside the
 * machine's own two-thread ceiling.
 *
 * Method (issue 15): every round uses fresh benchmarkers (created and
 * destroyed outside the timed part) and times one long loop on each, so the
 * samples carry every cost of a growing record set (new segments, their page
 * faults, per-iteration bookkeeping):
 *   - 20,000 iterations of gstep + 5 steps (5 literal topics) + gstop;
 *   - 20,000 x 5 steps in one open iteration (pb_step alone);
 *   - 20,000 gstep + gstop with nothing between them;
 *   - 140,000 clock reads (the 7 an iteration needs, 20,000 times), both
 *     pb_now_ns and clock_gettime(CLOCK_MONOTONIC) directly.
 * Each figure is also given as a ratio to the clock read of its own round;
 * the table shows the median of 21 rounds.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench_util.h"

enum { ROUNDS = 21, ITERS = 20000, STEPS = 5, CLOCKS = 7 };

static const char *const topics[STEPS] = {"load", "forward", "backward", "update", "log"};

static volatile uint64_t sink;

static pb_bench *fresh(const pbb_config *cfg, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", cfg->tmpdir, name);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) {
    fprintf(stderr, "bench: cannot create a benchmarker: %s\n", pb_last_error());
    exit(1);
  }
  return b;
}

static uint64_t sys_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns per clock read: `n` reads of pb_now_ns (lib) or clock_gettime. */
static double time_clock(size_t n, bool lib) {
  uint64_t acc = 0, t0 = pbb_now();
  if (lib) {
    for (size_t i = 0; i < n; i++) acc += pb_now_ns();
  } else {
    for (size_t i = 0; i < n; i++) acc += sys_mono();
  }
  uint64_t t = pbb_now() - t0;
  sink = acc;
  return (double)t / (double)n;
}

/* `iters` whole iterations on b; returns elapsed ns. */
static uint64_t run_iters(pb_bench *b, size_t iters) {
  uint64_t t0 = pbb_now();
  for (size_t i = 0; i < iters; i++) {
    pb_gstep(b);
    for (int k = 0; k < STEPS; k++) pb_step(b, topics[k]);
    pb_gstop(b);
  }
  return pbb_now() - t0;
}

/* One round: fills s[0..NA) with this round's figures. */
enum {
  A_CLOCK_LIB,
  A_CLOCK_SYS,
  A_ITER,
  A_STEP,
  A_GSG,
  A_BYTES,
  A_ITER_X,
  A_STEP_X,
  A_GSG_X,
  A_LOCK,
  A_TSC_CLOCK,
  A_TSC_STEP,
  A_TSC_ITER,
  NA
};

/* ns per take + release of an atomic-exchange lock: what every recording call paid before
 * the owner-biased lock (a thread that does not own a benchmarker still pays it). */
static double time_lock(size_t n) {
  static atomic_int v;
  uint64_t t0 = pbb_now();
  for (size_t i = 0; i < n; i++) {
    if (atomic_exchange_explicit(&v, 1, memory_order_acquire)) sink++;
    atomic_store_explicit(&v, 0, memory_order_release);
  }
  return (double)(pbb_now() - t0) / (double)n;
}

/* ns per pb_step: a fresh benchmarker, one gstep, then `iters` x 5 steps (5 topics). */
static double time_steps(const pbb_config *cfg, const char *name, size_t iters) {
  pb_bench *b = fresh(cfg, name);
  pb_gstep(b);
  uint64_t t0 = pbb_now();
  for (size_t i = 0; i < iters; i++) {
    for (int k = 0; k < STEPS; k++) pb_step(b, topics[k]);
  }
  double ns = (double)(pbb_now() - t0) / (double)(iters * STEPS);
  pb_bench_destroy(b);
  return ns;
}

/* pb_step and the whole iteration on the TSC clock (0 where it is not available). */
static void tsc_round(const pbb_config *cfg, size_t iters, double *s) {
  s[A_TSC_CLOCK] = s[A_TSC_STEP] = s[A_TSC_ITER] = 0;
  if (pb_set_clock(PB_CLOCK_TSC) != PB_CLOCK_TSC) return;
  s[A_TSC_CLOCK] = time_clock(iters * CLOCKS, true);
  s[A_TSC_STEP] = time_steps(cfg, "accum_tsc_step", iters);
  pb_bench *b = fresh(cfg, "accum_tsc_iter");
  s[A_TSC_ITER] = (double)run_iters(b, iters) / (double)iters;
  pb_bench_destroy(b);
  pb_set_clock(PB_CLOCK_MONOTONIC);
}

static void accum_round(const pbb_config *cfg, size_t iters, double *s) {
  s[A_CLOCK_LIB] = time_clock(iters * CLOCKS, true);
  s[A_CLOCK_SYS] = time_clock(iters * CLOCKS, false);

  pb_bench *b = fresh(cfg, "accum_iter");
  s[A_ITER] = (double)run_iters(b, iters) / (double)iters;
  pb_bench_stats st;
  pb_bench_get_stats(b, &st);
  s[A_BYTES] = (double)st.bytes_held / (double)(iters * STEPS);
  pb_bench_destroy(b);

  s[A_STEP] = time_steps(cfg, "accum_step", iters);

  b = fresh(cfg, "accum_gsg");
  uint64_t t0 = pbb_now();
  for (size_t i = 0; i < iters; i++) {
    pb_gstep(b);
    pb_gstop(b);
  }
  s[A_GSG] = (double)(pbb_now() - t0) / (double)iters;
  pb_bench_destroy(b);

  s[A_LOCK] = time_lock(iters * CLOCKS);
  tsc_round(cfg, iters, s);

  double clock = s[A_CLOCK_SYS];
  s[A_ITER_X] = s[A_ITER] / clock;
  s[A_STEP_X] = s[A_STEP] / clock;
  s[A_GSG_X] = s[A_GSG] / clock;
}

static void report_accum(double **col, int n, size_t iters) {
  pbb_result *r;
  r = pbb_add("acc_clock_ns", "0. clock read, clock_gettime(MONOTONIC)", "ns", col[A_CLOCK_SYS], n);
  pbb_note(r, "%zu reads a round (7 per iteration): the unit of the ratios below", iters * CLOCKS);
  r = pbb_add("acc_clock_lib_ns", "0. clock read, pb_now_ns", "ns", col[A_CLOCK_LIB], n);
  r = pbb_add("acc_step_ns", "0. pb_step, accumulating", "ns", col[A_STEP], n);
  pbb_note(r, "fresh benchmarker, %zu x 5 literal topics in one iteration", iters);
  r = pbb_add("acc_step_x", "0. pb_step, accumulating / clock read", "x", col[A_STEP_X], n);
  pbb_target(r, PBB_LE, 1.5, "<= 1.5x");
  r = pbb_add("acc_gsg_ns", "0. gstep+gstop (nothing between), accumulating", "ns", col[A_GSG], n);
  pbb_note(r, "fresh benchmarker, %zu iterations", iters);
  r = pbb_add("acc_gsg_x", "0. gstep+gstop, accumulating / clock read", "x", col[A_GSG_X], n);
  pbb_target(r, PBB_LE, 3, "<= 3x");
  r = pbb_add("acc_iter5_ns", "0. gstep + 5 steps + gstop, accumulating", "ns", col[A_ITER], n);
  pbb_note(r, "fresh benchmarker, %zu iterations, 5 literal topics", iters);
  r = pbb_add("acc_iter5_x", "0. whole iteration, accumulating / clock read", "x", col[A_ITER_X],
              n);
  pbb_target(r, PBB_LE, 10, "<= 10x");
  r = pbb_add("acc_bytes_per_user_step", "0. bytes held per user step (all included)", "B",
              col[A_BYTES], n);
  pbb_target(r, PBB_LE, 16, "<= 16 B");
  pbb_note(r,
           "bytes_held after %zu iterations / (%zu x 5) user steps: the iteration "
           "(its gstop record stored or derived) and topics included",
           iters, iters);
  r = pbb_add("acc_lock_floor_ns", "0. atomic-exchange lock take + release", "ns", col[A_LOCK], n);
  pbb_note(r,
           "uncontended, in a loop: what a call pays when its thread does not own the "
           "benchmarker's lock (the owner enters with plain stores)");
  if (col[A_TSC_STEP][0] <= 0) return; /* no invariant TSC here */
  r = pbb_add("acc_tsc_clock_ns", "0. TSC clock: pb_now_ns read", "ns", col[A_TSC_CLOCK], n);
  pbb_note(r, "pb_set_clock(PB_CLOCK_TSC): rdtsc scaled to ns");
  r = pbb_add("acc_tsc_step_ns", "0. TSC clock: pb_step, accumulating", "ns", col[A_TSC_STEP], n);
  pbb_target(r, PBB_LE, 15, "<= 15 ns");
  r = pbb_add("acc_tsc_iter5_ns", "0. TSC clock: whole iteration, accumulating", "ns",
              col[A_TSC_ITER], n);
}

/* ---- two threads against one, and the machine's own ceiling ---- */

typedef struct job {
  int kind; /* 0 recording, 1 memset of fresh pages, 2 arithmetic */
  const pbb_config *cfg;
  size_t n;
  pthread_barrier_t *start;
  uint64_t t0, t1;
} job;

enum { FRESH_BYTES = 32 << 20 };

static void touch_fresh(size_t rounds) {
  for (size_t r = 0; r < rounds; r++) {
    char *p = mmap(NULL, FRESH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) exit(1);
    memset(p, (int)r + 1, FRESH_BYTES);
    sink = (uint64_t)p[FRESH_BYTES / 2];
    munmap(p, FRESH_BYTES);
  }
}

static void arithmetic(size_t n) {
  uint64_t x = 88172645463325252u;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  sink = x;
}

static void *job_run(void *arg) {
  job *j = arg;
  pb_bench *b = j->kind == 0 ? fresh(j->cfg, "accum_thread") : NULL;
  pthread_barrier_wait(j->start);
  j->t0 = pbb_now();
  if (j->kind == 0) run_iters(b, j->n);
  if (j->kind == 1) touch_fresh(j->n);
  if (j->kind == 2) arithmetic(j->n);
  j->t1 = pbb_now();
  pb_bench_destroy(b);
  return NULL;
}

/* Work per second of `nthreads` threads doing `kind`, n units each. */
static double rate(const pbb_config *cfg, int kind, int nthreads, size_t n) {
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)nthreads);
  job j[2];
  pthread_t th[2];
  for (int t = 0; t < nthreads; t++) {
    j[t] = (job){kind, cfg, n, &start, 0, 0};
    if (pthread_create(&th[t], NULL, job_run, &j[t]) != 0) exit(1);
  }
  uint64_t first = UINT64_MAX, last = 0;
  for (int t = 0; t < nthreads; t++) {
    pthread_join(th[t], NULL);
    first = j[t].t0 < first ? j[t].t0 : first;
    last = j[t].t1 > last ? j[t].t1 : last;
  }
  pthread_barrier_destroy(&start);
  return (double)n * nthreads / ((double)(last - first) / 1e9);
}

static void threads_accum(const pbb_config *cfg) {
  enum { TROUNDS = 7 };
  int rounds = cfg->quick ? 3 : TROUNDS;
  size_t iters = cfg->quick ? 20000 : 100000;
  double rec[TROUNDS], mem[TROUNDS], alu[TROUNDS];
  rate(cfg, 0, 1, iters); /* warm-up */
  for (int r = 0; r < rounds; r++) {
    rec[r] = rate(cfg, 0, 2, iters) / rate(cfg, 0, 1, iters);
    mem[r] = rate(cfg, 1, 2, 4) / rate(cfg, 1, 1, 4);
    alu[r] = rate(cfg, 2, 2, 50000000) / rate(cfg, 2, 1, 50000000);
  }
  pbb_result *r =
      pbb_add("acc_threads2_x", "0. 2 threads, own benchmarkers, accum. (vs 1)", "x", rec, rounds);
  pbb_target(r, PBB_GE, 1.8, ">= 1.8x");
  pbb_note(r, "%zu whole iterations per thread, fresh benchmarker each: wall-clock throughput",
           iters);
  r = pbb_add("acc_ceiling_memset_x", "0. ceiling: 2 threads memset fresh pages (vs 1)", "x", mem,
              rounds);
  pbb_note(r, "4 x mmap + memset + munmap of 32 MiB per thread: page faults of fresh memory");
  r = pbb_add("acc_ceiling_alu_x", "0. ceiling: 2 threads arithmetic loop (vs 1)", "x", alu,
              rounds);
  pbb_note(r, "50M xorshift steps per thread: the cores alone");
}

/*
 * The same whole iterations on memory the process has used before: one big
 * benchmarker is filled and destroyed first, which makes malloc keep and hand
 * out memory instead of mapping fresh pages for every segment. The gap
 * between this row and the accumulating one is what the first touch of new
 * record memory costs on this machine (a virtual machine may charge several
 * microseconds a page). Runs last: it changes the allocator's state for
 * whatever runs after it in this process.
 */
static void reuse_accum(const pbb_config *cfg, int rounds, size_t iters) {
  pb_bench *w = fresh(cfg, "accum_reuse_fill");
  run_iters(w, 25 * iters);
  pb_bench_destroy(w);
  double it[ROUNDS], x[ROUNDS];
  for (int r = 0; r < rounds; r++) {
    double clock = time_clock(iters * CLOCKS, false);
    pb_bench *b = fresh(cfg, "accum_reuse");
    it[r] = (double)run_iters(b, iters) / (double)iters;
    pb_bench_destroy(b);
    x[r] = it[r] / clock;
  }
  pbb_result *r =
      pbb_add("acc_reuse_iter_ns", "0. whole iteration, memory re-used", "ns", it, rounds);
  pbb_note(r,
           "as the accumulating row, after a %zu-iteration benchmarker was filled and "
           "destroyed: no first touch of new pages (not the headline)",
           25 * iters);
  r = pbb_add("acc_reuse_iter_x", "0. whole iteration, memory re-used / clock read", "x", x,
              rounds);
  if (pb_set_clock(PB_CLOCK_TSC) != PB_CLOCK_TSC) return;
  double st[ROUNDS];
  for (int k = 0; k < rounds; k++) st[k] = time_steps(cfg, "accum_reuse_tsc", iters);
  pb_set_clock(PB_CLOCK_MONOTONIC);
  r = pbb_add("acc_reuse_tsc_step_ns", "0. TSC clock: pb_step, memory re-used", "ns", st, rounds);
  pbb_note(r, "as the TSC pb_step row, on memory re-used as above (not the headline)");
}

void pbb_run_accum(const pbb_config *cfg) {
  int rounds = cfg->quick ? 5 : ROUNDS;
  size_t iters = ITERS;
  double *store = calloc((size_t)NA * ROUNDS, sizeof *store);
  if (!store) exit(1);
  double *col[NA], s[NA];
  for (int f = 0; f < NA; f++) col[f] = store + (size_t)f * ROUNDS;
  accum_round(cfg, iters, s); /* warm-up: lazy binding, first faults of the heap */
  for (int r = 0; r < rounds; r++) {
    accum_round(cfg, iters, s);
    for (int f = 0; f < NA; f++) col[f][r] = s[f];
  }
  report_accum(col, rounds, iters);
  free(store);
  threads_accum(cfg);
  reuse_accum(cfg, rounds, iters);
}
