/*
 * cmd_summary.c - "porter-bench summary [PATH]": a table per benchmarker,
 * laid out for the terminal's width (80 columns at least).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char HELP[] =
    "usage: porter-bench summary [--no-latest] [--show-probes] [PATH]\n"
    "\n"
    "Print, per benchmarker of a run, a table of its topics: count, mean,\n"
    "median, min, max, quantile-filtered mean (1.5 IQR rule, as the original's\n"
    "summary) and the topic's share of GLOBAL's mean; units are chosen per value.\n"
    "The table fits the terminal (80 columns when stdout is not one, or\n"
    "$COLUMNS); longer topic names are shortened in the middle with '...'.\n"
    "\n"
    "PATH (default .) is a run folder, a folder of runs, or a folder holding\n"
    "TICTOC_PERFORMANCE/ or PORTER_BENCH_PERFORMANCE/: the latest run is used.\n"
    "\n"
    "A multi-rank run (a job folder of rank-NNNNN/ folders written under mpirun,\n"
    "srun or torchrun) gets, per benchmarker and topic, the min, mean and max\n"
    "over the ranks of each rank's mean, the slowest rank and max/mean.\n"
    "\n"
    "options:\n"
    "  --no-latest    treat PATH as the run folder itself\n"
    "  --show-probes  also show the rows timing porter_bench's own memory probes\n"
    "                 (gstep_memory, <step>_MEMORY_STEP, gstop_memory), hidden\n"
    "                 by default\n"
    "  -h, --help     show this help\n";

static const char PROG[] = "porter-bench summary";

#define NCOL 8
#define CELL PB_CLI_CELL

static const char *const HEAD[NCOL] = {"topic", "count", "mean",       "median",
                                       "min",   "max",   "q-filtered", "% GLOBAL"};

/* Fills row's cells for topic t; gs is GLOBAL's statistics (count 0 if none), g its
 * topic (-1 if none): its row reuses them. */
static void fill_row(pb_cli_table *tb, const pb_record *r, size_t row, size_t t, const pb_stats *gs,
                     long g) {
  pb_stats s;
  if ((long)t == g)
    s = *gs;
  else if (pb_record_stats(r, t, &s) != PB_OK)
    memset(&s, 0, sizeof s);
  char(*cl)[CELL] = tb->cells[row];
  tb->topic[row] = pb_record_topic(r, t);
  snprintf(cl[1], CELL, "%zu", s.count);
  pb_format_seconds(s.mean, cl[2], CELL);
  pb_format_seconds(s.median, cl[3], CELL);
  pb_format_seconds(s.min, cl[4], CELL);
  pb_format_seconds(s.max, cl[5], CELL);
  pb_format_seconds(s.quantile_filtered, cl[6], CELL);
  if (gs->count && gs->mean > 0 && !isnan(s.mean))
    snprintf(cl[7], CELL, "%.1f%%", 100.0 * s.mean / gs->mean);
  else
    snprintf(cl[7], CELL, "-");
}

/* The rows of r: GLOBAL last (as the original's summary), probes unless shown. */
static bool build(pb_cli_table *tb, const pb_record *r, bool probes) {
  size_t nt = pb_record_topic_count(r);
  memset(tb, 0, sizeof *tb);
  tb->head = HEAD;
  tb->ncol = NCOL;
  tb->topic = calloc(nt + 1, sizeof *tb->topic);
  tb->cells = calloc(nt + 1, sizeof *tb->cells);
  if (!tb->topic || !tb->cells) return false;
  long g = pb_record_topic_index(r, "GLOBAL");
  pb_stats gs = {0};
  if (g >= 0 && pb_record_stats(r, (size_t)g, &gs) != PB_OK) gs.count = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t t = 0; t < nt; t++) {
      if ((long)t == g ? pass == 0 : pass == 1) continue;
      if (!probes && pb_topic_is_probe(pb_record_topic(r, t))) {
        tb->hidden++;
        continue;
      }
      fill_row(tb, r, tb->rows++, t, &gs, g);
    }
  }
  return true;
}

/* Prints "  memory: " and the clauses separated by ", ", breaking lines between clauses. */
static void print_clauses(char (*cl)[64], int n, int width) {
  int col = printf("  memory:");
  for (int i = 0; i < n; i++) {
    int w = pb_cli_width(cl[i]) + (i + 1 < n ? 1 : 0);
    if (i > 0 && col + 1 + w > width) {
      fputs("\n   ", stdout);
      col = 3;
    }
    col += printf(" %s%s", cl[i], i + 1 < n ? "," : "");
  }
  fputc('\n', stdout);
}

static void print_memory(const pb_record *r, int width) {
  size_t nm;
  const pb_mem_record *m = pb_record_memory(r, &nm);
  if (!nm) return;
  double lo = INFINITY, hi = -INFINITY, peak = -INFINITY, heap = -INFINITY;
  for (size_t i = 0; i < nm; i++) {
    if (m[i].rss < lo) lo = m[i].rss;
    if (m[i].rss > hi) hi = m[i].rss;
    if (m[i].peak > peak) peak = m[i].peak;
    if (m[i].heap > heap) heap = m[i].heap;
  }
  const double mib = 1024.0 * 1024.0;
  char cl[5][64];
  int n = 0;
  snprintf(cl[n++], sizeof cl[0], "%zu records", nm);
  snprintf(cl[n++], sizeof cl[0], "RSS %.1f to %.1f MiB", lo / mib, hi / mib);
  /* how the peak was measured, when the run metadata says (issue 9) */
  pb_recorded_peak mode = pb_record_peak_mode(r, NULL);
  if (peak > 0)
    snprintf(cl[n++], sizeof cl[0], "peak %.1f MiB%s", peak / mib,
             mode == PB_RECORDED_PEAK_SAMPLE  ? " (sampled)"
             : mode == PB_RECORDED_PEAK_RESET ? " (exact)"
                                              : "");
  if (heap > 0) snprintf(cl[n++], sizeof cl[0], "heap up to %.1f MiB", heap / mib);
  if (pb_record_has_cuda(r)) snprintf(cl[n++], sizeof cl[0], "GPU memory recorded");
  print_clauses(cl, n, width);
}

/* "  from <first START_TIME> to <last STOP_TIME>" in local time, when known. */
static void print_span(const pb_record *r) {
  const pb_iter_info *in = pb_record_infos(r);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < pb_record_iter_count(r); i++) {
    if (in[i].start_time > 0 && in[i].start_time < lo) lo = in[i].start_time;
    if (in[i].stop_time > 0 && in[i].stop_time > hi) hi = in[i].stop_time;
  }
  char a[64], b[64];
  pb_cli_format_time(lo, a, sizeof a);
  pb_cli_format_time(hi, b, sizeof b);
  if (strcmp(a, "-") != 0 && strcmp(b, "-") != 0 && hi >= lo) printf("  from %s to %s\n", a, b);
}

/* Under a table whose probe rows are hidden: the probes' time that GLOBAL
 * (the whole iteration, as recorded) includes, so that GLOBAL's excess over
 * the rows shown is explained. */
static void print_probe_time(const pb_record *r, int width) {
  double mean, share = NAN;
  if (pb_record_probe_time(r, &mean, &share) != PB_OK) return;
  char t[32], pct[32] = "", line[160];
  pb_format_seconds(mean, t, sizeof t);
  if (isfinite(share)) snprintf(pct, sizeof pct, ", %.1f%% of GLOBAL", 100 * share);
  snprintf(line, sizeof line, "(GLOBAL includes their time: %s per iteration (mean)%s)", t, pct);
  pb_cli_wrap(stdout, "  ", "   ", line, width, false);
}

static void print_record(const pb_record *r, bool probes, int width) {
  char name[1024];
  pb_cli_ellipsize(pb_record_name(r), width - 24, name, sizeof name);
  printf("\n%s: %zu iteration%s\n", name, pb_record_iter_count(r),
         pb_record_iter_count(r) == 1 ? "" : "s");
  print_span(r);
  pb_cli_table tb;
  memset(&tb, 0, sizeof tb);
  if (pb_record_topic_count(r) == 0 || pb_record_iter_count(r) == 0) {
    printf("  (no iterations loaded)\n");
  } else if (build(&tb, r, probes)) {
    pb_cli_table_layout(&tb, width);
    pb_cli_table_print(&tb);
    if (tb.hidden) print_probe_time(r, width);
  } else {
    printf("  (out of memory)\n");
  }
  free(tb.topic);
  free(tb.cells);
  print_memory(r, width);
}

/* The metadata's "key: value" lines, start_time as local time, long values wrapped. */
static void print_metadata(const char *meta, int width) {
  for (const char *p = meta; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char line[4096], prefix[160];
    snprintf(line, sizeof line, "%.*s", (int)len, p);
    p += len + (nl ? 1 : 0);
    char *colon = strstr(line, ": ");
    if (!colon || colon - line > 120) {
      pb_cli_wrap(stdout, "  ", "      ", line, width, false);
      continue;
    }
    *colon = 0;
    const char *value = colon + 2;
    char when[64];
    char *end = NULL;
    double epoch = strcmp(line, "start_time") == 0 ? strtod(value, &end) : NAN;
    if (end && *end == 0 && end != value) {
      pb_cli_format_time(epoch, when, sizeof when);
      value = when;
    }
    snprintf(prefix, sizeof prefix, "  %.120s: ", line);
    pb_cli_wrap(stdout, prefix, "      ", value, width, strcmp(line, "command_line") == 0);
  }
}

int pb_cli_summary(int argc, char **argv) {
  bool no_latest = false, probes = false;
  pb_cli_list pos = {NULL, 0, false};
  const pb_cli_opt opts[] = {
      {"no-latest", 0, PB_CLI_FLAG, &no_latest, NULL, NULL},
      {"show-probes", 0, PB_CLI_FLAG, &probes, NULL, NULL},
  };
  const pb_cli_spec spec = {PROG, HELP, opts, sizeof opts / sizeof *opts, &pos, 0, 1, "PATH"};
  pb_cli_parse_result pr = pb_cli_parse(&spec, argc, argv);
  const char *path = pos.n ? pos.items[0] : ".";
  pb_run *run = NULL;
  int rc = pr == PB_CLI_PARSED ? pb_cli_load(PROG, path, !no_latest, &run)
           : pr == PB_CLI_HELP ? PB_EXIT_OK
                               : PB_EXIT_USAGE;
  pb_cli_list_free(&pos);
  if (!run) return rc;
  int width = pb_cli_term_width();
  printf("run: %s\n", pb_run_path(run));
  if (pb_run_rank_count(run)) pb_cli_summary_ranks(run, probes, width);
  print_metadata(pb_run_metadata(run), width);
  for (size_t i = 0; i < pb_run_record_count(run); i++)
    print_record(pb_run_record(run, i), probes, width);
  fflush(stdout);
  size_t bad = pb_cli_report_diagnostics(run);
  pb_run_free(run);
  return bad ? PB_EXIT_DATA : PB_EXIT_OK;
}
