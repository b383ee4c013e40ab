/*
 * runmeta.c - the run metadata file written beside the records: what ran,
 * where, and the measured floor of every figure (the library's own cost per
 * step on this machine, measured once per run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

static void read_line(const char *path, const char *key, char *out, size_t n) {
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (key && strncmp(line, key, strlen(key)) != 0) continue;
    const char *v = key ? strchr(line, ':') : line;
    if (!v) continue;
    if (key) v++;
    while (*v == ' ' || *v == '\t') v++;
    snprintf(out, n, "%.*s", (int)(n - 1), v);
    out[strcspn(out, "\n")] = '\0';
    break;
  }
  fclose(f);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Median over 7 rounds of the per-call cost (ns) of clock reads, steps and gstep+gstop. */
static void measure(uint64_t *clock_ns, uint64_t *step_ns, uint64_t *iter_ns) {
  enum { ROUNDS = 7, N = 512 };
  uint64_t c[ROUNDS], s[ROUNDS], g[ROUNDS];
  pb_bench *b = NULL;
  *clock_ns = *step_ns = *iter_ns = 0;
  if (pb_bench_create("calibration", &b) != PB_OK) return;
  pb_gstep(b);
  for (int r = 0; r < ROUNDS; r++) {
    uint64_t t0 = pb_now_ns();
    for (int i = 0; i < N; i++) (void)pb_now_ns();
    uint64_t t1 = pb_now_ns();
    for (int i = 0; i < N; i++) pb_step(b, "calibration");
    uint64_t t2 = pb_now_ns();
    for (int i = 0; i < N; i++) {
      pb_gstep(b);
      pb_gstop(b);
    }
    uint64_t t3 = pb_now_ns();
    c[r] = (t1 - t0) / N;
    s[r] = (t2 - t1) / N;
    g[r] = (t3 - t2) / N;
  }
  pb_bench_destroy(b);
  qsort(c, ROUNDS, sizeof *c, cmp_u64);
  qsort(s, ROUNDS, sizeof *s, cmp_u64);
  qsort(g, ROUNDS, sizeof *g, cmp_u64);
  *clock_ns = c[ROUNDS / 2];
  *step_ns = s[ROUNDS / 2];
  *iter_ns = g[ROUNDS / 2];
}

static void field(pb__out *o, const char *key, const char *value, bool comma) {
  if (comma) pb__out_char(o, ',');
  pb__json_string(o, key, strlen(key));
  pb__out_char(o, ':');
  pb__json_string(o, value, strlen(value));
}

static void write_cmdline(pb__out *o) {
  pb__out_lit(o, ",\"command_line\":[");
  FILE *f = fopen("/proc/self/cmdline", "r");
  if (f) {
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
      if (i) pb__out_char(o, ',');
      pb__json_string(o, buf + i, strlen(buf + i));
    }
  }
  pb__out_char(o, ']');
}

/*
 * A (wall, monotonic) pair read as close together as the clocks allow: of 9
 * tries, the one whose two monotonic reads around the wall read are closest;
 * the wall time is paired with their midpoint, off by at most half the gap.
 */
static void clock_pair(int64_t *wall, uint64_t *mono, uint64_t *err) {
  *err = UINT64_MAX;
  for (int i = 0; i < 9; i++) {
    uint64_t a = pb_now_ns();
    int64_t w = pb_wall_ns();
    uint64_t b = pb_now_ns();
    if (b - a < *err) {
      *err = b - a;
      *wall = w;
      *mono = a + (b - a) / 2;
    }
  }
  *err = (*err + 1) / 2;
}

/* The rank, job and clock pair of a multi-process run. */
static void write_rank(pb__out *o, const pb_rank_info *ri) {
  pb__out_lit(o, ",\"rank\":");
  pb__json_int(o, ri->rank);
  pb__out_lit(o, ",\"world_size\":");
  pb__json_int(o, ri->world_size);
  pb__out_lit(o, ",\"local_rank\":");
  pb__json_int(o, ri->local_rank);
  field(o, "launcher", ri->launcher, true);
  field(o, "job_id", ri->job_id, true);
  pb__out_lit(o, ",\"ppid\":");
  pb__json_int(o, (int64_t)getppid());
  int64_t wall = 0;
  uint64_t mono = 0, err = 0;
  clock_pair(&wall, &mono, &err);
  pb__out_lit(o, ",\"clock_pair\":{\"wall\":");
  pb__json_seconds_signed(o, wall);
  pb__out_lit(o, ",\"monotonic\":");
  pb__json_seconds(o, mono);
  pb__out_lit(o, ",\"error_ns\":");
  pb__json_int(o, (int64_t)err);
  pb__out_char(o, '}');
}

int pb__write_run_meta(const char *path, const pb_rank_info *ri) {
  struct utsname u;
  if (uname(&u) != 0) memset(&u, 0, sizeof u);
  char cpu[256], clocksrc[64], host[256] = "";
  read_line("/proc/cpuinfo", "model name", cpu, sizeof cpu);
  read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL, clocksrc,
            sizeof clocksrc);
  gethostname(host, sizeof host - 1);
  uint64_t clock_ns, step_ns, iter_ns;
  measure(&clock_ns, &step_ns, &iter_ns);
  int64_t now = pb_wall_ns();

  pb__out o;
  int rc = pb__out_open(&o, path);
  if (rc) return rc;
  pb__out_char(&o, '{');
  field(&o, "library", "porter_bench", false);
  field(&o, "version", pb_version(), true);
  field(&o, "host", host, true);
  field(&o, "kernel", u.release, true);
  field(&o, "machine", u.machine, true);
  field(&o, "cpu_model", cpu, true);
  pb__out_lit(&o, ",\"cpus\":");
  pb__json_int(&o, sysconf(_SC_NPROCESSORS_ONLN));
  field(&o, "clock_source", clocksrc, true);
  write_cmdline(&o);
  pb__out_lit(&o, ",\"pid\":");
  pb__json_int(&o, (int64_t)getpid());
  pb__out_lit(&o, ",\"start_time\":");
  pb__json_seconds_signed(&o, now);
  if (ri && ri->rank >= 0) write_rank(&o, ri);
  /* how "max memory usage" is measured (docs/RECORDING.md "Peak modes"): the
   * mode in effect now, when the run's first benchmarker is created */
  bool sampled = pb_get_peak_mode() == PB_PEAK_SAMPLE;
  field(&o, "peak_mode", sampled ? "sample" : "reset", true);
  if (sampled) {
    char ms[32];
    snprintf(ms, sizeof ms, ",\"peak_poll_ms\":%.6g", pb__peak_poll_period_ms());
    pb__out_lit(&o, ms);
  }
  pb__out_lit(&o, ",\"overhead_ns\":{\"clock_read\":");
  pb__json_int(&o, (int64_t)clock_ns);
  pb__out_lit(&o, ",\"step\":");
  pb__json_int(&o, (int64_t)step_ns);
  pb__out_lit(&o, ",\"gstep_gstop\":");
  pb__json_int(&o, (int64_t)iter_ns);
  pb__out_lit(&o, "}}\n");
  return pb__out_commit(&o);
}
