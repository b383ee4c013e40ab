/*
 * bench_records.c - figures 4 to 6, on a record set of 100,000 iterations x
 * 5 steps (memory tracking off): bytes per record, one save (time, bytes on
 * disk, peak extra memory) and auto-save every 100 iterations.
 *
 * Runs first in the program, while the heap is fresh, so that the RSS
 * growth of the record set is not hidden by memory freed earlier.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_util.h"

enum { STEPS = 5, MAX_SAVES = 9 };

static const char *const topics[STEPS] = {"load", "forward", "backward", "update", "log"};

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

/*
 * Records `iters` iterations of 5 steps; stops early once `budget_ns` has
 * passed (0 = no limit). Returns elapsed ns; *done gets the iterations run,
 * *cpu_ns the process CPU time spent.
 */
static uint64_t fill_cpu(pb_bench *b, size_t iters, uint64_t budget_ns, size_t *done,
                         uint64_t *cpu_ns) {
  uint64_t c0 = pbb_cpu_now();
  uint64_t t0 = pbb_now();
  size_t i = 0;
  for (; i < iters; i++) {
    pb_gstep(b);
    for (int k = 0; k < STEPS; k++) pb_step(b, topics[k]);
    if (budget_ns && i % 100 == 99 && pbb_now() - t0 > budget_ns) {
      i++;
      break;
    }
  }
  pb_gstop(b);
  if (done) *done = i;
  uint64_t t = pbb_now() - t0;
  if (cpu_ns) *cpu_ns = pbb_cpu_now() - c0;
  return t;
}

static uint64_t fill(pb_bench *b, size_t iters, uint64_t budget_ns, size_t *done) {
  return fill_cpu(b, iters, budget_ns, done, NULL);
}

static int64_t file_size(const char *prefix, const char *suffix) {
  char path[600];
  snprintf(path, sizeof path, "%s%s", prefix, suffix);
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void remove_files(const char *prefix) {
  const char *suffixes[] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  char path[600];
  for (int k = 0; k < 3; k++) {
    snprintf(path, sizeof path, "%s%s", prefix, suffixes[k]);
    remove(path);
  }
}

/* Figure 4: bytes per record. Returns the bytes held by the records. */
static double figure_bytes(const pbb_config *cfg, pb_bench *b, double *fill_s) {
  malloc_trim(0);
  int64_t rss0 = pbb_rss();
  *fill_s = (double)fill(b, cfg->iters, 0, NULL) / 1e9;
  int64_t rss1 = pbb_rss();
  pb_bench_stats st;
  pb_bench_get_stats(b, &st);
  double recs = (double)st.steps;
  double per = (double)st.bytes_held / recs;
  pbb_result *r = pbb_add("bytes_per_record", "4. bytes held per time record", "B", &per, 1);
  pbb_target(r, PBB_LE, 24, "<= 24 B");
  r->original = 520;
  pbb_note(r, "bytes_held %llu / %llu time records (%zu iterations x (5 steps + gstop))",
           (unsigned long long)st.bytes_held, (unsigned long long)st.steps, cfg->iters);
  double per_rss = (double)(rss1 - rss0) / recs;
  r = pbb_add("rss_per_record", "4. RSS growth per time record", "B", &per_rss, 1);
  pbb_target(r, PBB_LE, 24, "<= 24 B");
  pbb_note(r, "RSS %.1f MB -> %.1f MB over the fill (touched pages only)", (double)rss0 / 1e6,
           (double)rss1 / 1e6);
  double per_user = (double)st.bytes_held / (double)(cfg->iters * STEPS);
  r = pbb_add("bytes_per_user_step", "4. bytes held per user step (gstop shared)", "B", &per_user,
              1);
  r->original = 520;
  double per_iter = *fill_s * 1e9 / (double)cfg->iters;
  r = pbb_add("fill_iteration_ns", "4. one iteration while filling (5 steps)", "ns", &per_iter, 1);
  pbb_note(r, "gstep + 5 steps, %zu iterations in %.3f s", cfg->iters, *fill_s);
  return (double)st.bytes_held;
}

/*
 * Figure 5: pb_save of the whole set, repeated. Returns the median CPU
 * seconds in *cpu_s and the median wall seconds.
 */
static double figure_save(const pbb_config *cfg, pb_bench *b, double held, double *cpu_s) {
  int reps = cfg->quick ? 3 : 7;
  double secs[MAX_SAVES], cpu[MAX_SAVES], extra[MAX_SAVES];
  for (int k = 0; k < reps; k++) {
    malloc_trim(0); /* free memory kept by malloc would hide the save's needs */
    int64_t rss0 = pbb_rss();
    int reset = pbb_reset_hwm();
    uint64_t c0 = pbb_cpu_now();
    uint64_t t0 = pbb_now();
    int rc = pb_save(b);
    secs[k] = (double)(pbb_now() - t0) / 1e9;
    cpu[k] = (double)(pbb_cpu_now() - c0) / 1e9;
    int64_t hwm = pbb_hwm();
    if (rc != PB_OK) fprintf(stderr, "bench: pb_save failed: %s\n", pb_last_error());
    extra[k] = reset == 0 && hwm >= 0 && rss0 >= 0 ? (double)(hwm - rss0) : -1;
  }
  const char *prefix = pb_bench_path(b);
  double bytes = 0;
  bytes += (double)file_size(prefix, PB_SUFFIX_DATA);
  bytes += (double)file_size(prefix, PB_SUFFIX_SUMMARY);
  bytes += (double)file_size(prefix, PB_SUFFIX_MEMORY);

  pbb_result *r = pbb_add("save_s", "5. pb_save of 100,000 x 5 (wall)", "s", secs, reps);
  pbb_target(r, PBB_LE, 0.15, "<= 0.15 s");
  r->original = 4.64;
  pbb_note(r, "into a mkdtemp folder in $TMPDIR or /tmp (the library does not fsync)");
  double save_s = r->median;
  r = pbb_add("save_cpu_s", "5. pb_save of 100,000 x 5 (process CPU)", "s", cpu, reps);
  pbb_target(r, PBB_LE, 0.15, "<= 0.15 s");
  pbb_note(r, "CLOCK_PROCESS_CPUTIME_ID: user + system time, immune to waiting for a busy CPU");
  *cpu_s = r->median;
  r = pbb_add("save_bytes", "5. bytes on disk (3 files)", "B", &bytes, 1);
  pbb_target(r, PBB_LE, 0.4 * 187468889.0, "<= 40% of original");
  r->original = 187468889.0;
  double pct = bytes / 187468889.0 * 100;
  pbb_note(r, "%.1f%% of the original's 187,468,889 bytes", pct);
  r = pbb_add("save_extra_memory", "5. peak extra memory during the save", "B", extra, reps);
  double median_extra = r->median;
  pbb_note(r, "VmHWM after the save minus RSS before it (clear_refs 5 before each save)");
  double pct_extra = held > 0 ? median_extra / held * 100 : 0;
  r = pbb_add("save_extra_pct", "5. extra memory / bytes held by records", "%", &pct_extra, 1);
  pbb_target(r, PBB_LE, 10, "<= 10 %");
  pbb_note(r, "median extra %.0f B / bytes_held %.0f B", median_extra, held);
  remove_files(prefix);
  return save_s;
}

/*
 * Figure 6: auto-save every 100 iterations, against the same loop without;
 * in process CPU time (wall time in the note), compared with the CPU time of
 * one final save.
 */
static void figure_autosave(const pbb_config *cfg, double save_wall_s, double save_s) {
  double base[3], base_wall[3];
  size_t done = 0;
  uint64_t cpu = 0;
  for (int k = 0; k < 3; k++) {
    pb_bench *b = new_bench(cfg, "noauto");
    base_wall[k] = (double)fill_cpu(b, cfg->iters, 0, NULL, &cpu) / 1e9;
    base[k] = (double)cpu / 1e9;
    pb_bench_destroy(b);
  }
  double base_s = pbb_median(base, 3);
  double base_wall_s = pbb_median(base_wall, 3);

  pb_bench *b = new_bench(cfg, "autosave");
  pb_set_save_on_gstop(b, 100);
  uint64_t budget = (uint64_t)(cfg->autosave_budget_s * 1e9);
  double auto_wall_s = (double)fill_cpu(b, cfg->iters, budget, &done, &cpu) / 1e9;
  double auto_s = (double)cpu / 1e9;
  pb_bench_stats st;
  pb_bench_get_stats(b, &st);
  char prefix[512];
  snprintf(prefix, sizeof prefix, "%s", pb_bench_path(b));
  pb_bench_destroy(b);
  remove_files(prefix);

  double frac = (double)done / (double)cfg->iters;
  double spent = auto_s - base_s * frac;
  double spent_wall = auto_wall_s - base_wall_s * frac;
  bool cut = done < cfg->iters;
  /* Cut short: each save rewrites everything so far, so the total grows with
   * the square of the iterations; extrapolate that way (an upper estimate
   * for a scheme whose saves cost O(new records)). */
  double grow = cut ? 1 / (frac * frac) : 1;
  double total = spent * grow;
  double multiple = save_s > 0 ? total / save_s : 0;
  double multiple_wall = save_wall_s > 0 ? spent_wall * grow / save_wall_s : 0;
  pbb_result *r =
      pbb_add("autosave_total_s", "6. auto-save every 100: CPU time in saves", "s", &total, 1);
  r->extrapolated = cut;
  pbb_note(r, "%zu of %zu iterations: %.2f s CPU with auto-save (%llu saves), %.3f s without%s",
           done, cfg->iters, auto_s, (unsigned long long)st.saves, base_s * frac,
           cut ? "; * extrapolated as spent x (N/done)^2" : "");
  r = pbb_add("autosave_multiple", "6. auto-save total / one final save", "x", &multiple, 1);
  r->extrapolated = cut;
  pbb_target(r, PBB_LE, 3, "<= 3x");
  pbb_note(r, "CPU times; one final save = %.3f s CPU (figure 5); in wall time: %.1fx", save_s,
           multiple_wall);
}

void pbb_run_records(const pbb_config *cfg) {
  pb_bench *b = new_bench(cfg, "records");
  double fill_s = 0, save_cpu_s = 0;
  double held = figure_bytes(cfg, b, &fill_s);
  double save_s = figure_save(cfg, b, held, &save_cpu_s);
  pb_bench_destroy(b);
  figure_autosave(cfg, save_s, save_cpu_s);
}
