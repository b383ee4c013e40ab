/*
 * timer.c - clocks and the stack-allocated timers (Timer, CountDownClock,
 * TimedCounter of the original).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "internal.h"

/* ---- the recording clock: CLOCK_MONOTONIC or an invariant TSC ---- */

atomic_int pb__clock_tsc;
pb__tsc_cal pb__tsc;

/* clock_mu guards the calibration (written once) and clock switches. */
static pthread_mutex_t clock_mu = PTHREAD_MUTEX_INITIALIZER;
static bool tsc_calibrated;

uint64_t pb_now_ns(void) { return pb__now_ns(); }

/* True when the whitespace-separated word w is in the "flags" line of text. */
static bool has_flag(const char *text, const char *w) {
  const char *line = strstr(text, "\nflags");
  if (!line && strncmp(text, "flags", 5) == 0) line = text;
  if (!line) return false;
  const char *end = strchr(line + 1, '\n');
  size_t n = strlen(w);
  for (const char *p = strstr(line, w); p && (!end || p < end); p = strstr(p + 1, w)) {
    if ((p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
      return true;
    }
  }
  return false;
}

bool pb__tsc_flags_ok(const char *cpuinfo) {
  return cpuinfo && has_flag(cpuinfo, "constant_tsc") && has_flag(cpuinfo, "nonstop_tsc");
}

/* The first processor's block of /proc/cpuinfo (or of $PORTER_BENCH_CPUINFO) into buf. */
static bool read_cpuinfo(char *buf, size_t cap) {
  const char *path = getenv("PORTER_BENCH_CPUINFO");
  int fd = open(path && *path ? path : "/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = 0;
  ssize_t n;
  while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)n;
  close(fd);
  buf[len] = '\0';
  return len > 0;
}

/*
 * Whether the TSC runs at a constant rate through every power state: the
 * kernel's word for it (constant_tsc and nonstop_tsc in /proc/cpuinfo), or,
 * where /proc/cpuinfo cannot be read, CPUID leaf 0x80000007 EDX bit 8.
 */
static bool tsc_invariant(void) {
#if defined(__x86_64__) || defined(__i386__)
  char buf[16384];
  if (read_cpuinfo(buf, sizeof buf)) return pb__tsc_flags_ok(buf);
  unsigned a, b, c, d;
  if (!__get_cpuid(0x80000007u, &a, &b, &c, &d)) return false;
  return (d >> 8) & 1u;
#else
  return false;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
/* A (monotonic ns, TSC) pair read as close together as three tries allow. */
static void tsc_pair(uint64_t *ns, uint64_t *tsc) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 3; i++) {
    uint64_t t1 = __builtin_ia32_rdtsc();
    uint64_t m = pb__mono_ns();
    uint64_t t2 = __builtin_ia32_rdtsc();
    if (t2 - t1 < best) {
      best = t2 - t1;
      *ns = m;
      *tsc = t1 + (t2 - t1) / 2;
    }
  }
}

/* Measures the TSC rate against CLOCK_MONOTONIC over CAL_NS; false if it looks wrong. */
static bool tsc_calibrate(pb__tsc_cal *cal) {
  enum { CAL_NS = 20000000 };
  uint64_t ns1 = 0, tsc1 = 0, ns2 = 0, tsc2 = 0;
  tsc_pair(&ns1, &tsc1);
  struct timespec ts = {0, CAL_NS};
  while (nanosleep(&ts, &ts) != 0) {
  }
  tsc_pair(&ns2, &tsc2);
  if (tsc2 <= tsc1 || ns2 <= ns1) return false;
  double ns_per_tick = (double)(ns2 - ns1) / (double)(tsc2 - tsc1);
  if (!(ns_per_tick > 1e-3 && ns_per_tick < 1e3)) return false; /* 1 MHz .. 1 THz */
  cal->mult = (uint64_t)(ns_per_tick * 4294967296.0 + 0.5);
  cal->tsc0 = tsc2;
  cal->ns0 = ns2;
  return true;
}
#endif

pb_clock pb_set_clock(pb_clock clock) {
  int old = pb__nocancel_begin(); /* reads a file and sleeps under clock_mu */
  pthread_mutex_lock(&clock_mu);
  bool tsc = false;
#if defined(__x86_64__) || defined(__i386__)
  if (clock == PB_CLOCK_TSC && tsc_invariant()) {
    if (!tsc_calibrated) tsc_calibrated = tsc_calibrate(&pb__tsc);
    tsc = tsc_calibrated;
  }
#endif
  atomic_store_explicit(&pb__clock_tsc, tsc ? 1 : 0, memory_order_release);
  pthread_mutex_unlock(&clock_mu);
  pb__nocancel_end(old);
  return tsc ? PB_CLOCK_TSC : PB_CLOCK_MONOTONIC;
}

pb_clock pb_get_clock(void) {
  return atomic_load_explicit(&pb__clock_tsc, memory_order_acquire) ? PB_CLOCK_TSC
                                                                    : PB_CLOCK_MONOTONIC;
}

/* PORTER_BENCH_CLOCK=tsc selects the TSC clock when the library is loaded. */
__attribute__((constructor)) static void clock_from_env(void) {
  const char *v = getenv("PORTER_BENCH_CLOCK");
  if (v && strcmp(v, "tsc") == 0) pb_set_clock(PB_CLOCK_TSC);
}

int64_t pb_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

void pb_timer_tic(pb_timer *t) {
  if (t) t->start_ns = pb_now_ns();
}

uint64_t pb_timer_toc_ns(const pb_timer *t) {
  if (!t) return 0;
  uint64_t now = pb_now_ns();
  return now > t->start_ns ? now - t->start_ns : 0;
}

double pb_timer_toc(const pb_timer *t) { return (double)pb_timer_toc_ns(t) / 1e9; }

double pb_timer_ttoc(pb_timer *t) {
  if (!t) return 0;
  uint64_t now = pb_now_ns();
  uint64_t d = now > t->start_ns ? now - t->start_ns : 0;
  t->start_ns = now;
  return (double)d / 1e9;
}

void pb_timer_ptoc(const pb_timer *t, const char *message) {
  printf("%s %.9f\n", message ? message : "None", pb_timer_toc(t));
}

void pb_timer_pttoc(pb_timer *t, const char *message) {
  printf("%s %.9f\n", message ? message : "None", pb_timer_ttoc(t));
}

void pb_countdown_init(pb_countdown *c, double seconds) {
  if (!c) return;
  c->duration = seconds;
  pb_timer_tic(&c->timer);
}

void pb_countdown_set(pb_countdown *c, double seconds) { pb_countdown_init(c, seconds); }

void pb_countdown_reset(pb_countdown *c) {
  if (c) pb_timer_tic(&c->timer);
}

double pb_countdown_time_left(const pb_countdown *c) {
  return c ? c->duration - pb_timer_toc(&c->timer) : 0;
}

bool pb_countdown_completed(const pb_countdown *c) {
  return c ? c->duration < pb_timer_toc(&c->timer) : false;
}

void pb_timed_counter_init(pb_timed_counter *c, bool enabled) {
  if (!c) return;
  c->count = 0;
  c->stop_count = 0;
  c->stop_ns = 0;
  c->enabled = enabled;
  pb_timer_tic(&c->timer);
}

void pb_timed_counter_start(pb_timed_counter *c) {
  if (c && c->enabled && c->count == 0) pb_timer_tic(&c->timer);
}

void pb_timed_counter_stop(pb_timed_counter *c) {
  if (!c || !c->enabled) return;
  c->stop_ns = pb_timer_toc_ns(&c->timer);
  if (c->stop_ns == 0) c->stop_ns = 1; /* "stopped" even within one clock tick */
  c->stop_count = c->count;
}

void pb_timed_counter_count(pb_timed_counter *c) {
  if (c && c->enabled) c->count++;
}

double pb_timed_counter_frequency(const pb_timed_counter *c) {
  if (!c || !c->enabled) return 0;
  if (c->stop_ns != 0) return (double)c->stop_count / ((double)c->stop_ns / 1e9);
  uint64_t ns = pb_timer_toc_ns(&c->timer);
  return ns ? (double)c->count / ((double)ns / 1e9) : 0;
}

void pb_timed_counter_reset(pb_timed_counter *c) {
  if (!c || !c->enabled) return;
  pb_timer_tic(&c->timer);
  c->count = 0;
}

void pb_timed_counter_disable(pb_timed_counter *c) {
  if (c) c->enabled = false;
}
