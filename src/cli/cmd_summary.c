/*
 * cmd_summary.c - "porter-bench summary [PATH]": a table per benchmarker.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char HELP[] =
    "usage: porter-bench summary [--no-latest] [PATH]\n"
    "\n"
    "Print, per benchmarker of a run, a table of its topics: count, mean,\n"
    "median, min, max, quantile-filtered mean (1.5 IQR rule, as the original's\n"
    "summary) and the topic's share of GLOBAL's mean; units are chosen per value.\n"
    "\n"
    "PATH (default .) is a run folder, a folder of runs, or a folder holding\n"
    "TICTOC_PERFORMANCE/ or PORTER_BENCH_PERFORMANCE/: the latest run is used.\n"
    "\n"
    "options:\n"
    "  --no-latest  treat PATH as the run folder itself\n"
    "  -h, --help   show this help\n";

#define NCOL 8

static void print_record(const pb_record *r) {
  size_t nt = pb_record_topic_count(r);
  printf("\n%s: %zu iteration%s\n", pb_record_name(r), pb_record_iter_count(r),
         pb_record_iter_count(r) == 1 ? "" : "s");
  if (nt == 0 || pb_record_iter_count(r) == 0) {
    printf("  (no iterations loaded)\n");
    nt = 0;
  }
  if (nt == 0) goto memory;
  static const char *const head[NCOL] = {"topic", "count", "mean",       "median",
                                         "min",   "max",   "q-filtered", "% GLOBAL"};
  long g = pb_record_topic_index(r, "GLOBAL");
  pb_stats gs = {0};
  if (g >= 0) pb_record_stats(r, (size_t)g, &gs);
  /* cells first, to size the columns */
  char(*cells)[NCOL][48] = calloc(nt, sizeof *cells);
  if (!cells) return;
  int width[NCOL];
  for (int c = 0; c < NCOL; c++) width[c] = pb_cli_width(head[c]);
  /* GLOBAL last, as the original's summary */
  size_t row = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t t = 0; t < nt; t++) {
      if ((long)t == g ? pass == 0 : pass == 1) continue;
      pb_stats s;
      if (pb_record_stats(r, t, &s) != PB_OK) memset(&s, 0, sizeof s);
      char(*cl)[48] = cells[row++];
      snprintf(cl[0], 48, "%.47s", pb_record_topic(r, t));
      snprintf(cl[1], 48, "%zu", s.count);
      pb_format_seconds(s.mean, cl[2], 48);
      pb_format_seconds(s.median, cl[3], 48);
      pb_format_seconds(s.min, cl[4], 48);
      pb_format_seconds(s.max, cl[5], 48);
      pb_format_seconds(s.quantile_filtered, cl[6], 48);
      if (g >= 0 && gs.mean > 0 && !isnan(s.mean))
        snprintf(cl[7], 48, "%.1f%%", 100.0 * s.mean / gs.mean);
      else
        snprintf(cl[7], 48, "-");
      for (int c = 0; c < NCOL; c++)
        if (pb_cli_width(cl[c]) > width[c]) width[c] = pb_cli_width(cl[c]);
    }
  }
  printf("  ");
  for (int c = 0; c < NCOL; c++) {
    pb_cli_pad(stdout, head[c], width[c], c == 0);
    fputs(c + 1 < NCOL ? "  " : "\n", stdout);
  }
  for (size_t i = 0; i < row; i++) {
    printf("  ");
    for (int c = 0; c < NCOL; c++) {
      pb_cli_pad(stdout, cells[i][c], width[c], c == 0);
      fputs(c + 1 < NCOL ? "  " : "\n", stdout);
    }
  }
  free(cells);
memory:;
  size_t nm;
  const pb_mem_record *m = pb_record_memory(r, &nm);
  if (nm) {
    double lo = INFINITY, hi = -INFINITY, peak = -INFINITY, heap = -INFINITY;
    for (size_t i = 0; i < nm; i++) {
      if (m[i].rss < lo) lo = m[i].rss;
      if (m[i].rss > hi) hi = m[i].rss;
      if (m[i].peak > peak) peak = m[i].peak;
      if (m[i].heap > heap) heap = m[i].heap;
    }
    const double mib = 1024.0 * 1024.0;
    printf("  memory: %zu records, RSS %.1f to %.1f MiB", nm, lo / mib, hi / mib);
    if (peak > 0) printf(", peak %.1f MiB", peak / mib);
    if (heap > 0) printf(", heap up to %.1f MiB", heap / mib);
    if (pb_record_has_cuda(r)) printf(", GPU memory recorded");
    printf("\n");
  }
}

int pb_cli_summary(int argc, char **argv) {
  const char *path = ".";
  bool latest = true, have_path = false;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(HELP, stdout);
      return PB_EXIT_OK;
    } else if (strcmp(argv[i], "--no-latest") == 0) {
      latest = false;
    } else if (argv[i][0] == '-' && argv[i][1] != 0) {
      fprintf(stderr, "porter-bench summary: unknown option '%s'\n\n%s", argv[i], HELP);
      return PB_EXIT_USAGE;
    } else if (have_path) {
      fprintf(stderr, "porter-bench summary: more than one PATH given\n\n%s", HELP);
      return PB_EXIT_USAGE;
    } else {
      path = argv[i];
      have_path = true;
    }
  }
  pb_run *run = NULL;
  pb_error err;
  int rc = pb_run_load(path, latest, &run, &err);
  if (rc) {
    fprintf(stderr, "porter-bench summary: %s\n", err.message);
    return pb_cli_load_exit(rc);
  }
  printf("run: %s\n", pb_run_path(run));
  const char *meta = pb_run_metadata(run);
  if (meta && *meta) {
    for (const char *p = meta; *p;) {
      const char *nl = strchr(p, '\n');
      int len = nl ? (int)(nl - p) : (int)strlen(p);
      printf("  %.*s\n", len, p);
      p += len + (nl ? 1 : 0);
    }
  }
  for (size_t i = 0; i < pb_run_record_count(run); i++) print_record(pb_run_record(run, i));
  fflush(stdout);
  size_t bad = pb_cli_report_diagnostics(run);
  pb_run_free(run);
  return bad ? PB_EXIT_DATA : PB_EXIT_OK;
}
