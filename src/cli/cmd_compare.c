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

static void mkdir_p_one(const char *d) { (void)mkdir(d, 0777); }

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

int pb_cli_compare(int argc, char **argv) {
  const char *out = "COMPARE";
  pb_format fmt = PB_FORMAT_PNG;
  bool latest = true, charts = true;
  const char **paths = calloc((size_t)argc + 1, sizeof *paths);
  const char **topics = NULL;
  size_t npaths = 0, ntopics = 0;
  int rc = PB_EXIT_OK;
  if (!paths) return PB_EXIT_DATA;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(HELP, stdout);
      free(paths);
      return PB_EXIT_OK;
    } else if (strcmp(a, "--output") == 0 || strcmp(a, "--format") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "porter-bench compare: %s needs a value\n\n%s", a, HELP);
        rc = PB_EXIT_USAGE;
        break;
      }
      const char *v = argv[++i];
      if (a[2] == 'o') {
        out = v;
      } else if (pb_format_parse(v, &fmt) != PB_OK) {
        fprintf(stderr, "porter-bench compare: --format must be png, svg or pdf, not '%s'\n", v);
        rc = PB_EXIT_USAGE;
        break;
      }
    } else if (strcmp(a, "--topics") == 0) {
      topics = calloc((size_t)argc, sizeof *topics);
      if (!topics) break;
      while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) topics[ntopics++] = argv[++i];
    } else if (strcmp(a, "--no-latest") == 0) {
      latest = false;
    } else if (strcmp(a, "--no-charts") == 0) {
      charts = false;
    } else if (a[0] == '-' && a[1] != 0) {
      fprintf(stderr, "porter-bench compare: unknown option '%s'\n\n%s", a, HELP);
      rc = PB_EXIT_USAGE;
      break;
    } else {
      paths[npaths++] = a;
    }
  }
  if (rc == PB_EXIT_OK && npaths < 2) {
    fprintf(stderr, "porter-bench compare: give at least two runs\n\n%s", HELP);
    rc = PB_EXIT_USAGE;
  }
  pb_run **runs = rc ? NULL : calloc(npaths, sizeof *runs);
  char **labels = rc ? NULL : calloc(npaths, sizeof *labels);
  if (!rc && (!runs || !labels)) rc = PB_EXIT_DATA;
  for (size_t i = 0; rc == PB_EXIT_OK && i < npaths; i++) {
    pb_error err;
    int st = pb_run_load(paths[i], latest, &runs[i], &err);
    if (st) {
      fprintf(stderr, "porter-bench compare: %s\n", err.message);
      rc = pb_cli_load_exit(st);
      break;
    }
    const char *b = base_name(pb_run_path(runs[i]));
    size_t len = strlen(b) + 16;
    labels[i] = malloc(len);
    if (!labels[i]) {
      rc = PB_EXIT_DATA;
      break;
    }
    snprintf(labels[i], len, "%s", b);
    for (size_t j = 0; j < i; j++)
      if (strcmp(labels[j], labels[i]) == 0) snprintf(labels[i], len, "%s (%zu)", b, i + 1);
    printf("run %zu: %s\n", i + 1, pb_run_path(runs[i]));
  }
  if (rc == PB_EXIT_OK) {
    const pb_run *base = runs[0];
    const pb_record **recs = calloc(npaths, sizeof *recs);
    const char **labs = calloc(npaths, sizeof *labs);
    for (size_t r = 0; recs && labs && r < pb_run_record_count(base); r++) {
      const pb_record *a = pb_run_record(base, r);
      bool want = !topics;
      for (size_t t = 0; t < ntopics && !want; t++)
        want = strcmp(topics[t], pb_record_name(a)) == 0;
      if (!want) continue;
      size_t n = 0;
      recs[n] = a;
      labs[n++] = labels[0];
      for (size_t k = 1; k < npaths; k++) {
        const pb_record *b = pb_run_find(runs[k], pb_record_name(a));
        if (!b) continue;
        print_pair(a, b, labels[0], labels[k]);
        recs[n] = b;
        labs[n++] = labels[k];
      }
      if (n < 2 || !charts) continue;
      for (int kind = 0; kind < PB_CHART_KIND_COUNT; kind++) {
        bool any = false;
        for (size_t i = 0; i < n; i++) any |= pb_chart_applies((pb_chart_kind)kind, recs[i]);
        if (!any) continue;
        char file[4096];
        snprintf(file, sizeof file, "%s/%s_%s.%s", out, pb_record_name(a),
                 pb_chart_name((pb_chart_kind)kind), pb_format_ext(fmt));
        if (kind == 0) {
          /* mkdir -p the output folder */
          char cmd_dir[4096];
          snprintf(cmd_dir, sizeof cmd_dir, "%s", out);
          for (char *p = cmd_dir + 1; *p; p++) {
            if (*p == '/') {
              *p = 0;
              mkdir_p_one(cmd_dir);
              *p = '/';
            }
          }
          mkdir_p_one(cmd_dir);
        }
        pb_error err;
        if (pb_chart_write((pb_chart_kind)kind, recs, labs, n, NULL, fmt, file, &err) == PB_OK)
          printf("  Saved: %s\n", file);
        else {
          fprintf(stderr, "porter-bench compare: %s\n", err.message);
          rc = PB_EXIT_DATA;
        }
      }
    }
    free(recs);
    free(labs);
  }
  fflush(stdout);
  for (size_t i = 0; runs && i < npaths; i++) {
    if (runs[i] && pb_cli_report_diagnostics(runs[i])) rc = PB_EXIT_DATA;
    pb_run_free(runs[i]);
    if (labels) free(labels[i]);
  }
  free(runs);
  free(labels);
  free(topics);
  free(paths);
  return rc;
}
