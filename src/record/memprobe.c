/*
 * memprobe.c - the process's memory: resident set size, peak, heap.
 *
 * Peak: one counter per process (VmHWM, the peak RSS) while several
 * benchmarkers may track at once; every reader folds what it sees into every
 * subscriber's accumulator, so each benchmarker gets the peak since its own
 * previous record. Two modes (issue 11, defect 10; docs/RECORDING.md):
 *
 * - PB_PEAK_SAMPLE (default) never changes the counter, so the host's own
 *   figures (getrusage's ru_maxrss, VmHWM, what a parent gets from wait4)
 *   stay true. A polling thread samples RSS every period into the
 *   accumulators, each probe adds the RSS it reads, and a probe that finds
 *   the counter risen since the previous probe folds it in: the interval set
 *   a new process-wide high, so that value is its exact peak.
 * - PB_PEAK_RESET (opt-in): Linux (4.0+) lets a process reset the counter by
 *   writing "5" to /proc/self/clear_refs; each probe reads it, folds it in and
 *   resets it: the exact peak since each record, at the price of the host's
 *   figures, which then hold the peak since the last probe only. Where the
 *   kernel refuses the reset, the sample mode is used.
 *
 * Reading the counter: getrusage's ru_maxrss is max(the counter, a floor kept
 * from before exec()). When it is above the floor it is the counter itself,
 * read without parsing text; otherwise /proc/self/status is parsed.
 *
 * Lock: g.mu guards every field of g (the subscriber list, the mode, the file
 * descriptors, the poll thread's state). It is held while reading and
 * resetting the counter, never while calling out of this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

enum mode { MODE_UNSET, MODE_EXACT, MODE_POLL };

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* wakes the poll thread to exit */
  enum mode mode;
  int want;           /* the pb_peak_mode asked for; -1: not yet ($PORTER_BENCH_PEAK) */
  int64_t last_hwm;   /* sample mode: the counter at the previous read, bytes */
  int64_t proven_kb;  /* sample mode: ru_maxrss at or above this is the counter */
  int statm_fd;       /* /proc/self/statm, or -1 */
  int status_fd;      /* /proc/self/status, or -1 */
  int clear_fd;       /* /proc/self/clear_refs, or -1 */
  int64_t floor_kb;   /* ru_maxrss at or below this needs /proc/self/status */
  long page;          /* page size */
  pb__peak_sub *subs; /* subscribers */
  bool poll_running;  /* the poll thread exists */
  uint64_t poll_period_ns;
} g = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       MODE_UNSET,
       -1,
       0,
       INT64_MAX,
       -1,
       -1,
       -1,
       0,
       4096,
       NULL,
       false,
       100000000u};

static int64_t read_field_kb(int fd, const char *key) {
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return PB__NONE;
  buf[n] = '\0';
  const char *p = strstr(buf, key);
  if (!p) return PB__NONE;
  return strtoll(p + strlen(key), NULL, 10);
}

static int64_t statm_rss_locked(void) {
  char buf[128];
  if (g.statm_fd < 0) return PB__NONE;
  ssize_t n = pread(g.statm_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return PB__NONE;
  buf[n] = '\0';
  char *p = strchr(buf, ' ');
  if (!p) return PB__NONE;
  return strtoll(p + 1, NULL, 10) * g.page;
}

/* ru_maxrss, KiB. RUSAGE_THREAD reports the same (process-wide) peak at half
 * the cost of RUSAGE_SELF, which also sums every thread's times. */
static int64_t maxrss_kb(void) {
  struct rusage ru;
#ifdef RUSAGE_THREAD
  if (getrusage(RUSAGE_THREAD, &ru) == 0) return ru.ru_maxrss;
#endif
  if (getrusage(RUSAGE_SELF, &ru) != 0) return PB__NONE;
  return ru.ru_maxrss;
}

/*
 * The counter (peak since the last reset), bytes. Caller holds g.mu.
 * g.floor_kb is an upper bound of getrusage's floor: above it ru_maxrss is
 * the counter. At or below it, /proc/self/status decides, and tightens the
 * bound: ru_maxrss == VmHWM proves floor <= ru_maxrss.
 */
static int64_t read_hwm_locked(void) {
  int64_t kb = maxrss_kb();
  if (kb != PB__NONE && kb > g.floor_kb) return kb * 1024;
  /* Sample mode never resets the counter: once ru_maxrss has equalled it, it
   * stays equal to it (a floor below it then, the counter only grows). */
  if (kb != PB__NONE && g.mode == MODE_POLL && kb >= g.proven_kb) return kb * 1024;
  int64_t hwm = g.status_fd >= 0 ? read_field_kb(g.status_fd, "VmHWM:") : PB__NONE;
  if (hwm == PB__NONE) return kb == PB__NONE ? PB__NONE : kb * 1024;
  if (kb == hwm && kb < g.floor_kb) g.floor_kb = kb;
  if (kb == hwm && kb < g.proven_kb) g.proven_kb = kb;
  return hwm * 1024;
}

static bool reset_hwm_locked(void) { return g.clear_fd >= 0 && pwrite(g.clear_fd, "5", 1, 0) == 1; }

/* The mode asked for: pb_set_peak_mode, else $PORTER_BENCH_PEAK ("reset"). */
static int wanted_locked(void) {
  if (g.want < 0) {
    const char *env = getenv("PORTER_BENCH_PEAK");
    g.want = env && strcmp(env, "reset") == 0 ? PB_PEAK_RESET : PB_PEAK_SAMPLE;
  }
  return g.want;
}

static void init_locked(void) {
  if (g.mode != MODE_UNSET) return;
  g.page = sysconf(_SC_PAGESIZE);
  if (g.statm_fd < 0) g.statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (g.status_fd < 0) g.status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (wanted_locked() == PB_PEAK_RESET && g.clear_fd < 0)
    g.clear_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  /* Until proven lower, assume the floor may be as high as ru_maxrss now. */
  g.floor_kb = maxrss_kb();
  if (g.floor_kb == PB__NONE) g.floor_kb = INT64_MAX;
  g.proven_kb = INT64_MAX;
  if (g.clear_fd >= 0 && reset_hwm_locked()) {
    g.mode = MODE_EXACT;
  } else {
    if (g.clear_fd >= 0) close(g.clear_fd);
    g.clear_fd = -1;
    g.mode = MODE_POLL;
    g.last_hwm = read_hwm_locked();
  }
}

static void fold_locked(int64_t v) {
  for (pb__peak_sub *s = g.subs; s; s = s->next) {
    if (v > s->acc) s->acc = v;
  }
}

static void *poll_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g.mu);
  while (g.subs) {
    fold_locked(statm_rss_locked());
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + g.poll_period_ns;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_cond_timedwait(&g.cv, &g.mu, &ts);
  }
  g.poll_running = false;
  pthread_mutex_unlock(&g.mu);
  return NULL;
}

int pb_set_peak_poll_period(double seconds) {
  if (!(seconds > 0) || seconds > 3600) {
    return pb__fail(PB_EINVAL, "peak poll period %g s is not in (0, 3600]", seconds);
  }
  pthread_mutex_lock(&g.mu);
  g.poll_period_ns = (uint64_t)(seconds * 1e9);
  if (g.poll_period_ns == 0) g.poll_period_ns = 1;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  return PB_OK;
}

double pb__peak_poll_period_ms(void) {
  pthread_mutex_lock(&g.mu);
  double ms = (double)g.poll_period_ns / 1e6;
  pthread_mutex_unlock(&g.mu);
  return ms;
}

/* Sample mode: folds the counter in when it rose since the previous read. */
static void fold_new_high_locked(void) {
  int64_t hwm = read_hwm_locked();
  if (hwm != PB__NONE && hwm > g.last_hwm) {
    fold_locked(hwm);
    g.last_hwm = hwm;
  }
}

static int start_poll_locked(void);

int pb_set_peak_mode(pb_peak_mode mode) {
  if (mode != PB_PEAK_SAMPLE && mode != PB_PEAK_RESET)
    return pb__fail(PB_EINVAL, "pb_set_peak_mode: unknown mode %d", (int)mode);
  int rc = PB_OK;
  pthread_mutex_lock(&g.mu);
  bool changed = wanted_locked() != (int)mode;
  g.want = (int)mode;
  if (changed && g.mode != MODE_UNSET) {
    if (g.mode == MODE_EXACT) fold_locked(read_hwm_locked()); /* the peak since the last reset */
    if (g.clear_fd >= 0) close(g.clear_fd);
    g.clear_fd = -1;
    g.mode = MODE_UNSET;
    init_locked();
    if (g.mode == MODE_POLL && g.subs && !g.poll_running) rc = start_poll_locked();
  }
  int now = g.mode == MODE_EXACT || (g.mode == MODE_UNSET && mode == PB_PEAK_RESET);
  pthread_mutex_unlock(&g.mu);
  if (rc == PB_OK && mode == PB_PEAK_RESET && !now)
    rc = pb__fail(PB_ENOTSUP, "the kernel does not let the process reset its peak: sampling");
  return rc;
}

pb_peak_mode pb_get_peak_mode(void) {
  pthread_mutex_lock(&g.mu);
  init_locked();
  pb_peak_mode m = g.mode == MODE_EXACT ? PB_PEAK_RESET : PB_PEAK_SAMPLE;
  pthread_mutex_unlock(&g.mu);
  return m;
}

/* Starts the polling thread. Caller holds g.mu. */
static int start_poll_locked(void) {
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = PB_OK;
  if (pthread_create(&th, &attr, poll_main, NULL) == 0) {
    g.poll_running = true;
  } else {
    rc = pb__fail(PB_ENOMEM, "cannot start the peak polling thread");
  }
  pthread_attr_destroy(&attr);
  return rc;
}

int pb__peak_subscribe(pb__peak_sub *s) {
  int rc = PB_OK;
  pthread_mutex_lock(&g.mu);
  init_locked();
  if (!s->linked) {
    if (g.mode == MODE_EXACT) {
      fold_locked(read_hwm_locked()); /* others keep what they had seen */
      reset_hwm_locked();
    } else {
      fold_new_high_locked();
    }
    s->acc = 0;
    s->prev = NULL;
    s->next = g.subs;
    if (g.subs) g.subs->prev = s;
    g.subs = s;
    s->linked = true;
    if (g.mode == MODE_POLL && !g.poll_running) rc = start_poll_locked();
  }
  pthread_mutex_unlock(&g.mu);
  return rc;
}

void pb__peak_unsubscribe(pb__peak_sub *s) {
  pthread_mutex_lock(&g.mu);
  if (s->linked) {
    if (s->prev)
      s->prev->next = s->next;
    else
      g.subs = s->next;
    if (s->next) s->next->prev = s->prev;
    s->linked = false;
    s->prev = s->next = NULL;
    if (!g.subs) pthread_cond_broadcast(&g.cv); /* the poll thread exits */
  }
  pthread_mutex_unlock(&g.mu);
}

int64_t pb__mem_heap(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  size_t used = mi.uordblks + mi.hblkhd;
  /* 0 means another allocator (a sanitizer's, jemalloc...) replaced glibc's: unknown. */
  return used ? (int64_t)used : PB__NONE;
#else
  return PB__NONE;
#endif
}

void pb__mem_probe(pb__peak_sub *s, pb__mem_sample *out) {
  out->heap = pb__mem_heap();
  pthread_mutex_lock(&g.mu);
  init_locked();
  out->rss = statm_rss_locked();
  out->peak = PB__NONE;
  if (s && s->linked) {
    if (g.mode == MODE_POLL && !g.poll_running) start_poll_locked(); /* e.g. in a forked child */
    if (g.mode == MODE_EXACT) {
      int64_t hwm = read_hwm_locked();
      fold_locked(hwm);
      /* Resetting sets the counter to RSS: nothing to do when it is there already. */
      if (hwm != out->rss) reset_hwm_locked();
    } else {
      fold_new_high_locked();
      fold_locked(out->rss);
    }
    /* The kernel's counters are per-CPU approximations; a peak is never below now. */
    out->peak = s->acc > out->rss ? s->acc : out->rss;
    s->acc = 0;
  }
  pthread_mutex_unlock(&g.mu);
}

void pb__memprobe_atfork(int stage) {
  if (stage == 0) {
    pthread_mutex_lock(&g.mu);
    return;
  }
  if (stage == 2) {
    g.poll_running = false; /* the polling thread stayed in the parent */
    /* The /proc/self files were opened as the parent's: open the child's anew. */
    if (g.statm_fd >= 0) close(g.statm_fd);
    if (g.status_fd >= 0) close(g.status_fd);
    if (g.clear_fd >= 0) close(g.clear_fd);
    g.statm_fd = g.status_fd = g.clear_fd = -1;
    g.mode = MODE_UNSET; /* the mode asked for (g.want) carries over */
  }
  pthread_mutex_unlock(&g.mu);
}
