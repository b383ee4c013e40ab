/*
 * cmd_compare.c - "porter-bench compare RUN_A RUN_B [...]": the original's
 * multi-run DataHandler. Charts overlay the runs; a table gives each
 * topic's change against the first run with a Mann-Whitney U test.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"

/* mkdir -p; 0 when the folder exists afterwards. */
static int mkdir_p(const char *dir) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p == '/') {
      *p = 0;
      (void)mkdir(buf, 0777);
      *p = '/';
    }
  }
  (void)mkdir(buf, 0777);
  struct stat st;
  return (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) ? 0 : -1;
}

static const char HELP[] =
    "usage: porter-bench compare RUN_A RUN_B [RUN ...] [--output DIR] [--format png|svg|pdf]\n"
    "                            [--topics A B ...] [--no-latest] [--no-charts]\n"
    "\n"
    "Compare runs against the first one (RUN_A, the baseline). For every\n"
    "benchmarker found in the baseline and another run, print per topic the\n"
    "mean times, the change and the p-value of a two-sided Mann-Whitney U test\n"
    "over the per-iteration times (as Google Benchmark's compare tool); fewer\n"
    "than 9 iterations on a side is flagged. Then write charts that overlay the\n"
    "runs: <name>_times, _bars, _crono, _memory, _cuda_memory.\n"
    "\n"
    "Each RUN is resolved as 'porter-bench plots --path' does (latest run).\n"
    "\n"
    "options:\n"
    "  --output DIR   folder for the charts (default COMPARE)\n"
    "  --format F     png (default), svg or pdf\n"
    "  --topics A ... only these benchmarkers\n"
    "  --no-latest    treat each RUN as the run folder itself\n"
    "  --no-charts    print the table only\n"
    "  -h, --help     show this help\n";

#define ALPHA 0.05

static const char *base_name(const char *p) {
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') n--;
  const char *s = p + n;
  while (s > p && s[-1] != '/') s--;
  return s;
}

static void print_pair(const pb_record *a, const pb_record *b, const char *la, const char *lb) {
  printf("\n%s: %s (%zu iterations) -> %s (%zu iterations)\n", pb_record_name(a), la,
         pb_record_iter_count(a), lb, pb_record_iter_count(b));
  printf("  %-24s %12s %12s %9s %9s  %s\n", "topic", "baseline", "new", "change", "p-value",
         "note");
  for (size_t t = 0; t < pb_record_topic_count(a); t++) {
    const char *name = pb_record_topic(a, t);
    long tb = pb_record_topic_index(b, name);
    pb_stats sa, sb;
    pb_record_stats(a, t, &sa);
    char ma[32], mb[32], ch[32] = "-", pv[32] = "-";
    pb_format_seconds(sa.mean, ma, sizeof ma);
    const char *note = "";
    if (tb < 0) {
      snprintf(mb, sizeof mb, "absent");
      note = "topic missing in the new run";
    } else {
      pb_record_stats(b, (size_t)tb, &sb);
      pb_format_seconds(sb.mean, mb, sizeof mb);
      if (sa.mean > 0) snprintf(ch, sizeof ch, "%+.1f%%", 100.0 * (sb.mean - sa.mean) / sa.mean);
      pb_utest u;
      if (pb_utest_compute(pb_record_absolutes(a, t), pb_record_iter_count(a),
                           pb_record_absolutes(b, (size_t)tb), pb_record_iter_count(b),
                           &u) == PB_OK) {
        if (!isnan(u.p_value)) snprintf(pv, sizeof pv, "%.4f", u.p_value);
        if (u.too_few)
          note = "too few iterations for the test (< 9)";
        else if (!isnan(u.p_value) && u.p_value < ALPHA)
          note = sb.mean > sa.mean ? "slower (significant)" : "faster (significant)";
        else
          note = "no significant change";
      }
    }
    printf("  ");
    pb_cli_pad(stdout, name, 24, 1);
    printf(" ");
    pb_cli_pad(stdout, ma, 12, 0);
    printf(" ");
    pb_cli_pad(stdout, mb, 12, 0);
    printf(" %9s %9s  %s\n", ch, pv, note);
  }
}

typedef struct compare_opts {
  const char *out;
  pb_format fmt;
  bool latest, charts;
  const char **paths, **topics; /* point into argv */
  size_t npaths, ntopics;
} compare_opts;

/* Parses the arguments; returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, compare_opts *o) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(HELP, stdout);
      return PB_EXIT_OK;
    } else if (strcmp(a, "--output") == 0 || strcmp(a, "--format") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "porter-bench compare: %s needs a value\n\n%s", a, HELP);
        return PB_EXIT_USAGE;
      }
      const char *v = argv[++i];
      if (a[2] == 'o') {
        o->out = v;
      } else if (pb_format_parse(v, &o->fmt) != PB_OK) {
        fprintf(stderr, "porter-bench compare: --format must be png, svg or pdf, not '%s'\n", v);
        return PB_EXIT_USAGE;
      }
    } else if (strcmp(a, "--topics") == 0) {
      o->ntopics = 0;
      while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
        o->topics[o->ntopics++] = argv[++i];
    } else if (strcmp(a, "--no-latest") == 0) {
      o->latest = false;
    } else if (strcmp(a, "--no-charts") == 0) {
      o->charts = false;
    } else if (a[0] == '-' && a[1] != 0) {
      fprintf(stderr, "porter-bench compare: unknown option '%s'\n\n%s", a, HELP);
      return PB_EXIT_USAGE;
    } else {
      o->paths[o->npaths++] = a;
    }
  }
  if (o->npaths < 2) {
    fprintf(stderr, "porter-bench compare: give at least two runs\n\n%s", HELP);
    return PB_EXIT_USAGE;
  }
  return -1;
}

/* Loads the runs and names them by their folders ("name (2)" for a repeat). */
static int load_runs(const compare_opts *o, pb_run **runs, char **labels) {
  for (size_t i = 0; i < o->npaths; i++) {
    pb_error err;
    int st = pb_run_load(o->paths[i], o->latest, &runs[i], &err);
    if (st) {
      fprintf(stderr, "porter-bench compare: %s\n", err.message);
      return pb_cli_load_exit(st);
    }
    const char *b = base_name(pb_run_path(runs[i]));
    size_t len = strlen(b) + 24;
    if (!(labels[i] = malloc(len))) return PB_EXIT_DATA;
    snprintf(labels[i], len, "%s", b);
    for (size_t j = 0; j < i; j++)
      if (strcmp(labels[j], labels[i]) == 0) snprintf(labels[i], len, "%s (%zu)", b, i + 1);
    printf("run %zu: %s\n", i + 1, pb_run_path(runs[i]));
  }
  return PB_EXIT_OK;
}

/* The overlay charts of one benchmarker found in n runs. */
static int write_charts(const compare_opts *o, const pb_record **recs, const char **labs,
                        size_t n) {
  int rc = PB_EXIT_OK;
  for (int kind = 0; kind < PB_CHART_KIND_COUNT; kind++) {
    bool any = false;
    for (size_t i = 0; i < n; i++) any |= pb_chart_applies((pb_chart_kind)kind, recs[i]);
    if (!any) continue;
    char file[4096];
    snprintf(file, sizeof file, "%s/%s_%s.%s", o->out, pb_record_name(recs[0]),
             pb_chart_name((pb_chart_kind)kind), pb_format_ext(o->fmt));
    pb_error err;
    if (pb_chart_write((pb_chart_kind)kind, recs, labs, n, NULL, o->fmt, file, &err) == PB_OK) {
      printf("  Saved: %s\n", file);
    } else {
      fprintf(stderr, "porter-bench compare: %s\n", err.message);
      rc = PB_EXIT_DATA;
    }
  }
  return rc;
}

/* Tables and charts of every benchmarker of the baseline. */
static int compare_all(const compare_opts *o, pb_run **runs, char **labels) {
  const pb_record **recs = calloc(o->npaths, sizeof *recs);
  const char **labs = calloc(o->npaths, sizeof *labs);
  int rc = (recs && labs) ? PB_EXIT_OK : PB_EXIT_DATA;
  if (rc == PB_EXIT_OK && o->charts && mkdir_p(o->out) != 0) {
    fprintf(stderr, "porter-bench compare: %s: cannot create the folder\n", o->out);
    rc = PB_EXIT_DATA;
  }
  for (size_t r = 0; rc == PB_EXIT_OK && r < pb_run_record_count(runs[0]); r++) {
    const pb_record *a = pb_run_record(runs[0], r);
    bool want = o->ntopics == 0;
    for (size_t t = 0; t < o->ntopics && !want; t++)
      want = strcmp(o->topics[t], pb_record_name(a)) == 0;
    if (!want) continue;
    size_t n = 0;
    recs[n] = a;
    labs[n++] = labels[0];
    for (size_t k = 1; k < o->npaths; k++) {
      const pb_record *b = pb_run_find(runs[k], pb_record_name(a));
      if (!b) continue;
      print_pair(a, b, labels[0], labels[k]);
      recs[n] = b;
      labs[n++] = labels[k];
    }
    if (n >= 2 && o->charts && write_charts(o, recs, labs, n) != PB_EXIT_OK) rc = PB_EXIT_DATA;
  }
  free(recs);
  free(labs);
  return rc;
}

int pb_cli_compare(int argc, char **argv) {
  compare_opts o = {"COMPARE", PB_FORMAT_PNG, true, true, NULL, NULL, 0, 0};
  o.paths = calloc((size_t)argc + 1, sizeof *o.paths);
  o.topics = calloc((size_t)argc + 1, sizeof *o.topics);
  pb_run **runs = calloc((size_t)argc + 1, sizeof *runs);
  char **labels = calloc((size_t)argc + 1, sizeof *labels);
  int rc = (o.paths && o.topics && runs && labels) ? parse_args(argc, argv, &o) : PB_EXIT_DATA;
  if (rc == -1) rc = load_runs(&o, runs, labels);
  if (rc == PB_EXIT_OK) rc = compare_all(&o, runs, labels);
  fflush(stdout);
  for (size_t i = 0; runs && i < o.npaths; i++) {
    if (runs[i] && pb_cli_report_diagnostics(runs[i])) rc = PB_EXIT_DATA;
    pb_run_free(runs[i]);
    if (labels) free(labels[i]);
  }
  free(runs);
  free(labels);
  free(o.topics);
  free(o.paths);
  return rc;
}
