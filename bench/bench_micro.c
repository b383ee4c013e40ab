/*
 * bench_micro.c - figures 1 to 3: clock reads, the recording calls with
 * memory tracking off, the disabled paths, and per-step memory tracking.
 *
 * Method: every figure is timed in sub-batches of about half a millisecond
 * (per-call time = sub-batch time / calls). The figures run round-robin,
 * k sub-batches each per round, so that a noisy moment of the machine
 * touches all of them alike; the median over every sub-batch of every round
 * is reported. Benchmarkers are created fresh for every figure in every
 * round (outside the timed part), so the samples include their share of the
 * record stores' growth, as a real program would.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"

enum fig {
  F_MONO,
  F_WALL,
  F_STEP,
  F_STEP_ID,
  F_GSG,
  F_ITER5,
  F_RTDIS,
  F_RTDIS_MACRO,
  F_CTDIS,
  F_STEP_MEMGS,
  F_STEPMEM,
  F_PROBE_RSS,
  F_SYSCALL,
  F_PROBE_RUSAGE,
  F_PROBE_CLEAR,
  F_PROBE_RUSAGE_THREAD,
  F_PROBE_STATUS,
  F_PROBE_HEAP,
  F_GSG_PAIR,  /* derived: F_GSG - F_STEP */
  F_PROBE_ALL, /* derived: F_STEPMEM - F_STEP */
  NFIG
};

typedef struct sizes {
  size_t clock, step, gsg, iter5, rtdis, ctdis, mem, probe;
} sizes;

static pb_bench *new_bench(const pbb_config *cfg, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", cfg->tmpdir, name);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) {
    fprintf(stderr, "bench: cannot create a benchmarker: %s\n", pb_last_error());
    exit(1);
  }
  return b;
}

/* ---- figure 1: clocks ---- */

/* Times `k` sub-batches of `n` runs of `body`, writing ns per run to out[0..k). */
#define SUB_BATCHES(out, k, n, body)                       \
  do {                                                     \
    for (int j_ = 0; j_ < (k); j_++) {                     \
      uint64_t t0_ = pbb_now();                            \
      for (size_t i_ = 0; i_ < (n); i_++) {                \
        body;                                              \
      }                                                    \
      (out)[j_] = (double)(pbb_now() - t0_) / (double)(n); \
    }                                                      \
  } while (0)

static volatile uint64_t sink;

static void time_mono(double *out, int k, size_t n) {
  uint64_t acc = 0;
  SUB_BATCHES(out, k, n, acc += pb_now_ns());
  sink = acc;
}

static void time_wall(double *out, int k, size_t n) {
  int64_t acc = 0;
  SUB_BATCHES(out, k, n, acc += pb_wall_ns());
  sink = (uint64_t)acc;
}

/* ---- figure 2: the recording calls, memory tracking off ---- */

static void time_step(const pbb_config *cfg, double *out, int k, size_t n, bool by_id,
                      bool disabled) {
  pb_bench *b = new_bench(cfg, "micro");
  pb_gstep(b);
  pb_topic id = pb_topic_intern(b, "step");
  if (disabled) pb_disable(b);
  if (by_id) {
    SUB_BATCHES(out, k, n, pb_step_id(b, id));
  } else {
    SUB_BATCHES(out, k, n, pb_step(b, "step"));
  }
  pb_bench_destroy(b);
}

/* PB_STEP on a disabled benchmarker: the macro's inline check. */
static void time_step_macro_disabled(const pbb_config *cfg, double *out, int k, size_t n) {
  pb_bench *b = new_bench(cfg, "micro");
  pb_gstep(b);
  pb_disable(b);
  SUB_BATCHES(out, k, n, PB_STEP(b, "step"));
  pb_bench_destroy(b);
}

static void time_gsg(const pbb_config *cfg, double *out, int k, size_t n) {
  pb_bench *b = new_bench(cfg, "micro");
  SUB_BATCHES(out, k, n, {
    pb_gstep(b);
    pb_step(b, "step");
    pb_gstop(b);
  });
  pb_bench_destroy(b);
}

static void time_iter5(const pbb_config *cfg, double *out, int k, size_t n) {
  pb_bench *b = new_bench(cfg, "micro");
  SUB_BATCHES(out, k, n, {
    pb_gstep(b);
    pb_step(b, "load");
    pb_step(b, "forward");
    pb_step(b, "backward");
    pb_step(b, "update");
    pb_step(b, "log");
    pb_gstop(b);
  });
  pb_bench_destroy(b);
}

static void time_ctdis(double *out, int k, size_t n) {
  for (int j = 0; j < k; j++) {
    uint64_t with = pbb_disabled_steps(NULL, n);
    uint64_t without = pbb_disabled_empty(n);
    out[j] = ((double)with - (double)without) / (double)n;
  }
}

/* ---- figure 3: memory tracking ---- */

static void time_step_mem(const pbb_config *cfg, double *out, int k, size_t n, bool per_step) {
  pb_bench *b = new_bench(cfg, "micro_mem");
  if (pb_enable_memory_tracking(b, per_step) != PB_OK) {
    fprintf(stderr, "bench: memory tracking unavailable: %s\n", pb_last_error());
  }
  pb_gstep(b);
  SUB_BATCHES(out, k, n, pb_step(b, "step"));
  pb_bench_destroy(b);
}

/*
 * The probes alone, done here with the same system calls as the library's
 * src/record/memprobe.c (the public API has no hook to time them inside the
 * library): RSS = pread of /proc/self/statm; exact peak = getrusage (ru_maxrss)
 * + writing "5" to /proc/self/clear_refs; the /proc/self/status fallback
 * (VmHWM) that the library reads when ru_maxrss does not exceed the pre-exec
 * floor; heap = mallinfo2().
 */
static struct { int statm, status, clear; } probe_fd = {-1, -1, -1};

static void probe_open(void) {
  if (probe_fd.statm >= 0) return;
  probe_fd.statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  probe_fd.status = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  probe_fd.clear = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
}

static void probe_close(void) {
  if (probe_fd.statm >= 0) close(probe_fd.statm);
  if (probe_fd.status >= 0) close(probe_fd.status);
  if (probe_fd.clear >= 0) close(probe_fd.clear);
  probe_fd.statm = probe_fd.status = probe_fd.clear = -1;
}

static int64_t probe_rss_once(void) {
  char buf[128];
  ssize_t n = pread(probe_fd.statm, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strchr(buf, ' ');
  return p ? strtoll(p + 1, NULL, 10) : -1;
}

static int64_t syscall_once(void) { return (int64_t)syscall(SYS_getppid); }

static int64_t probe_rusage_once(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static int64_t probe_rusage_thread_once(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_maxrss;
}

static int64_t probe_clear_once(void) {
  return probe_fd.clear >= 0 && pwrite(probe_fd.clear, "5", 1, 0) == 1 ? 1 : -1;
}

static int64_t probe_status_once(void) {
  char buf[4096];
  ssize_t n = pread(probe_fd.status, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strstr(buf, "VmHWM:");
  return p ? strtoll(p + 6, NULL, 10) : -1;
}

static int64_t probe_heap_once(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return (int64_t)(mi.uordblks + mi.hblkhd);
#else
  return -1;
#endif
}

static void time_probe(int64_t (*fn)(void), double *out, int k, size_t n) {
  int64_t acc = 0;
  SUB_BATCHES(out, k, n, acc += fn());
  sink = (uint64_t)acc;
}

void pbb_init_memory_probe(const pbb_config *cfg) {
  pb_bench *b = new_bench(cfg, "probe_init");
  pb_enable_memory_tracking(b, false);
  pb_bench_destroy(b);
}

/* ---- one round: k sub-batches of every figure; s[f] has room for k samples ---- */

static void run_round(const pbb_config *cfg, const sizes *z, int k, double **s) {
  time_mono(s[F_MONO], k, z->clock);
  time_wall(s[F_WALL], k, z->clock);
  time_step(cfg, s[F_STEP], k, z->step, false, false);
  time_step(cfg, s[F_STEP_ID], k, z->step, true, false);
  time_gsg(cfg, s[F_GSG], k, z->gsg);
  time_iter5(cfg, s[F_ITER5], k, z->iter5);
  time_step(cfg, s[F_RTDIS], k, z->rtdis, false, true);
  time_step_macro_disabled(cfg, s[F_RTDIS_MACRO], k, z->rtdis);
  time_ctdis(s[F_CTDIS], k, z->ctdis);
  time_step_mem(cfg, s[F_STEP_MEMGS], k, z->step, false);
  time_step_mem(cfg, s[F_STEPMEM], k, z->mem, true);
  probe_open();
  time_probe(probe_rss_once, s[F_PROBE_RSS], k, z->probe);
  time_probe(syscall_once, s[F_SYSCALL], k, z->probe);
  time_probe(probe_rusage_once, s[F_PROBE_RUSAGE], k, z->probe);
  time_probe(probe_rusage_thread_once, s[F_PROBE_RUSAGE_THREAD], k, z->probe);
  time_probe(probe_clear_once, s[F_PROBE_CLEAR], k, z->probe);
  time_probe(probe_status_once, s[F_PROBE_STATUS], k, z->probe);
  time_probe(probe_heap_once, s[F_PROBE_HEAP], k, z->probe);
  probe_close();
  for (int j = 0; j < k; j++) {
    s[F_GSG_PAIR][j] = s[F_GSG][j] - s[F_STEP][j];
    s[F_PROBE_ALL][j] = s[F_STEPMEM][j] - s[F_STEP][j];
  }
}

static void report(const sizes *z, double **col, int n) {
  pbb_result *r;
  r = pbb_add("clock_monotonic_ns", "1. monotonic clock read (pb_now_ns)", "ns", col[F_MONO], n);
  r->original = 40;
  pbb_note(r, "sub-batches of %zu; original: Python time.perf_counter()", z->clock);
  double mono = r->median;
  r = pbb_add("clock_wall_ns", "1. wall clock read (pb_wall_ns)", "ns", col[F_WALL], n);

  r = pbb_add("step_ns", "2. pb_step, memory off", "ns", col[F_STEP], n);
  char text[64];
  snprintf(text, sizeof text, "<= 2x clock = %.1f ns", 2 * mono);
  pbb_target(r, PBB_LE, 2 * mono, text);
  r->original = 1681;
  pbb_note(r, "sub-batches of %zu steps of one literal topic in one open iteration (%.2fx clock)",
           z->step, r->median / mono);
  r = pbb_add("step_id_ns", "2. pb_step_id, memory off", "ns", col[F_STEP_ID], n);
  pbb_target(r, PBB_LE, 2 * mono, text);
  pbb_note(r, "%.2fx clock", r->median / mono);
  r = pbb_add("gstep_gstop_ns", "2. gstep+gstop (1 step inside, excluded)", "ns", col[F_GSG_PAIR],
              n);
  pbb_target(r, PBB_LE, 150, "<= 150 ns");
  r->original = 4660;
  pbb_note(r, "per sub-batch: time of (gstep, step, gstop) minus the paired pb_step sub-batch");
  r = pbb_add("gstep_step_gstop_ns", "2. gstep + 1 step + gstop", "ns", col[F_GSG], n);
  pbb_note(r, "sub-batches of %zu iterations", z->gsg);
  r = pbb_add("iteration5_ns", "2. whole iteration: gstep + 5 steps + gstop", "ns", col[F_ITER5],
              n);
  pbb_note(r, "sub-batches of %zu iterations, 5 distinct literal topics", z->iter5);
  r = pbb_add("step_runtime_disabled_ns", "2. pb_step after pb_disable", "ns", col[F_RTDIS], n);
  pbb_note(r, "the function: a call, one load, a return");
  r = pbb_add("step_runtime_disabled_macro_ns", "2. PB_STEP after pb_disable", "ns",
              col[F_RTDIS_MACRO], n);
  pbb_target(r, PBB_LE, 2, "<= 2 ns");
  pbb_note(r, "the recording macro checks the flags word inline: one load, no call");
  r = pbb_add("step_compile_disabled_ns", "2. PB_STEP with -DPB_DISABLE", "ns", col[F_CTDIS], n);
  pbb_target(r, PBB_EQ0, 0.25, "0 (no code)");
  unsigned ev = pbb_disabled_evaluations();
  pbb_note(r,
           "loop minus empty loop, %zu calls; arguments evaluated %u times (must be 0)%s; "
           "the build checks with nm that the object calls no pb_*",
           z->ctdis, ev, ev ? ": FAILED" : "");
  if (ev) r->median = 1e9; /* the macro evaluated something: fail loudly */

  r = pbb_add("step_memory_gstep_only_ns", "3. pb_step, memory at gstep/gstop only", "ns",
              col[F_STEP_MEMGS], n);
  pbb_note(r, "pb_enable_memory_tracking(b, false): the step itself does not probe");
  r = pbb_add("step_memory_ns", "3. pb_step, per-step memory (RSS+peak+heap)", "ns", col[F_STEPMEM],
              n);
  pbb_target(r, PBB_LE, 2500, "<= 2.5 us");
  r->original = 39595;
  pbb_note(r,
           "sub-batches of %zu steps, pb_enable_memory_tracking(b, true); probe state started at "
           "program start",
           z->mem);
  r = pbb_add("probe_in_step_ns", "3. memory probe inside a step (derived)", "ns", col[F_PROBE_ALL],
              n);
  pbb_note(r, "per sub-batch: per-step-memory step minus the paired plain step");
  r = pbb_add("probe_rss_ns", "3. probe alone: RSS (pread statm)", "ns", col[F_PROBE_RSS], n);
  pbb_note(r, "probe_*: the library's system calls, replayed by the harness (no public hook)");
  r = pbb_add("syscall_ns", "3. floor: one trivial system call (getppid)", "ns", col[F_SYSCALL], n);
  pbb_note(r, "what any probe pays per system call on this machine (kernel entry/exit)");
  r = pbb_add("probe_rusage_ns", "3. probe alone: peak read (getrusage SELF)", "ns",
              col[F_PROBE_RUSAGE], n);
  r = pbb_add("probe_rusage_thread_ns", "3. alternative: getrusage(RUSAGE_THREAD)", "ns",
              col[F_PROBE_RUSAGE_THREAD], n);
  pbb_note(r, "same ru_maxrss (the mm's peak, same floor) without walking the process's threads");
  r = pbb_add("probe_clear_ns", "3. probe alone: peak reset (clear_refs 5)", "ns",
              col[F_PROBE_CLEAR], n);
  r = pbb_add("probe_status_ns", "3. probe alone: peak fallback (status)", "ns",
              col[F_PROBE_STATUS], n);
  pbb_note(r, "pread /proc/self/status for VmHWM, used when ru_maxrss <= the pre-exec floor");
  r = pbb_add("probe_heap_ns", "3. probe alone: heap (mallinfo2)", "ns", col[F_PROBE_HEAP], n);
}

void pbb_run_micro(const pbb_config *cfg) {
  /* Sub-batches of about half a millisecond: most fit in one scheduler time
   * slice, so the median is that of uninterrupted batches even on a busy machine. */
  sizes z = {
      .clock = (size_t)1e4,
      .step = (size_t)5e3,
      .gsg = (size_t)2e3,
      .iter5 = (size_t)1e3,
      .rtdis = (size_t)1e5,
      .ctdis = (size_t)2e5,
      .mem = (size_t)20,
      .probe = (size_t)50,
  };
  int k = cfg->quick ? 8 : 24; /* sub-batches per round */
  int n = cfg->rounds * k;
  double *store = calloc((size_t)NFIG * (size_t)n, sizeof *store);
  double *col[NFIG];
  if (!store) exit(1);
  for (int f = 0; f < NFIG; f++) col[f] = store + (size_t)f * (size_t)n;
  /* One warm-up round (page faults, lazy binding, cpu frequency), not counted. */
  run_round(cfg, &z, k, col);
  for (int r = 0; r < cfg->rounds; r++) {
    double *s[NFIG];
    for (int f = 0; f < NFIG; f++) s[f] = col[f] + (size_t)r * (size_t)k;
    run_round(cfg, &z, k, s);
  }
  report(&z, col, n);
  free(store);
}
