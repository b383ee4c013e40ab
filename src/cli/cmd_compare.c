/*
 * cmd_compare.c - "porter-bench compare RUN_A RUN_B [...]": each run against
 * the first (the baseline). Per topic the median shift with its confidence
 * interval and a rank test corrected for the number of topics
 * (pb_compare_runs), memory too; a table or JSON; an optional regression
 * gate for CI (exit code 3); charts that overlay the runs.
 */
#include <limits.h>
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

static const char PROG[] = "porter-bench compare";

static const char HELP[] =
    "usage: porter-bench compare RUN_A RUN_B [RUN ...] [--label NAME ...]\n"
    "                            [--threshold PCT] [--fail-if-slower PCT] [--json]\n"
    "                            [--show-probes] [--topics A B ...] [--no-latest]\n"
    "                            [--output DIR] [--format png|svg|pdf] [--no-charts]\n"
    "\n"
    "Compare runs against the first one (RUN_A, the baseline). For every\n"
    "benchmarker found in both, each topic gets the median shift of its\n"
    "per-iteration times (Hodges-Lehmann: the median of all differences\n"
    "new - baseline) with a 95% confidence interval, the change relative to\n"
    "the baseline's median, and the p-value of a Mann-Whitney U test corrected\n"
    "with Holm's method for the number of topics compared. A change is\n"
    "significant only when the corrected p is below 0.05 AND the change is\n"
    "larger than the threshold. Rows are sorted by impact. Memory is compared\n"
    "too (peak and heap per iteration: tested; RSS and heap at the end: single\n"
    "values, a plain difference). Then charts overlay the runs.\n"
    "Multi-rank runs (job folders) are compared with each other only: every\n"
    "rank's iterations pooled per topic, the same test; no memory rows, no\n"
    "charts; max/mean and the slowest rank before -> after.\n"
    "\n"
    "Each RUN is resolved as 'porter-bench plots --path' does (latest run).\n"
    "Options and runs may come in any order; a list (--topics) ends at the\n"
    "next option or at '--'.\n"
    "\n"
    "options:\n"
    "  --label NAME          name a run: once per run, in the runs' order\n"
    "                        (default: their folder names)\n"
    "  --threshold PCT       smallest change called significant (default 5)\n"
    "  --fail-if-slower PCT  exit with code 3 when a time topic is significantly\n"
    "                        slower by more than PCT percent\n"
    "  --json                print the comparison as JSON instead of tables\n"
    "  --show-probes         also show the memory probes' time topics (rows, charts)\n"
    "  --topics A ...        only these benchmarkers; a name that is not a\n"
    "                        benchmarker of RUN_A is an error\n"
    "  --no-latest           treat each RUN as the run folder itself\n"
    "  --output DIR          folder for the charts (default COMPARE)\n"
    "  --format F            png (default), svg or pdf\n"
    "  --no-charts           no charts\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit codes: 0 ok, 1 bad input data, 2 usage error, 3 a topic slower than\n"
    "--fail-if-slower allows.\n";

typedef struct compare_opts {
  const char *out, *format, *threshold_arg, *fail_arg; /* point into argv */
  pb_format fmt;
  bool no_latest, no_charts, json, probes;
  double threshold;                 /* fraction: 0.05 */
  double fail_slower;               /* fraction; negative: no gate */
  pb_cli_list runs, topics, labels; /* point into argv */
} compare_opts;

/* ---- options ------------------------------------------------------------------ */

/* Parses "PCT" or "PCT%" (a finite number >= 0) into a fraction. */
static bool parse_pct(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || (*end && strcmp(end, "%") != 0) || !isfinite(v) || v < 0) return false;
  *out = v / 100;
  return true;
}

/* The checks of the values, after parsing. */
static pb_cli_parse_result check_values(const pb_cli_spec *spec, compare_opts *o) {
  if (pb_format_parse(o->format, &o->fmt) != PB_OK)
    return pb_cli_usage_error(spec, "--format must be png, svg or pdf, not '%s'", o->format);
  if (o->threshold_arg && !parse_pct(o->threshold_arg, &o->threshold))
    return pb_cli_usage_error(spec, "--threshold needs a percentage >= 0, not '%s'",
                              o->threshold_arg);
  if (o->fail_arg && !parse_pct(o->fail_arg, &o->fail_slower))
    return pb_cli_usage_error(spec, "--fail-if-slower needs a percentage >= 0, not '%s'",
                              o->fail_arg);
  if (o->labels.n && o->labels.n != o->runs.n)
    return pb_cli_usage_error(spec, "give one --label per run, or none (%zu label%s, %zu runs)",
                              o->labels.n, o->labels.n == 1 ? "" : "s", o->runs.n);
  return PB_CLI_PARSED;
}

/* Parses the arguments into *o (args.h); returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, compare_opts *o) {
  const pb_cli_opt opts[] = {
      {"label", 0, PB_CLI_REPEAT, NULL, NULL, &o->labels},
      {"threshold", 0, PB_CLI_VALUE, NULL, &o->threshold_arg, NULL},
      {"fail-if-slower", 0, PB_CLI_VALUE, NULL, &o->fail_arg, NULL},
      {"json", 0, PB_CLI_FLAG, &o->json, NULL, NULL},
      {"show-probes", 0, PB_CLI_FLAG, &o->probes, NULL, NULL},
      {"topics", 0, PB_CLI_LIST, NULL, NULL, &o->topics},
      {"no-latest", 0, PB_CLI_FLAG, &o->no_latest, NULL, NULL},
      {"output", 0, PB_CLI_VALUE, NULL, &o->out, NULL},
      {"format", 0, PB_CLI_VALUE, NULL, &o->format, NULL},
      {"no-charts", 0, PB_CLI_FLAG, &o->no_charts, NULL, NULL},
  };
  const pb_cli_spec spec = {PROG, HELP, opts, sizeof opts / sizeof *opts, &o->runs, 2, 0, "RUN"};
  pb_cli_parse_result r = pb_cli_parse(&spec, argc, argv);
  if (r == PB_CLI_PARSED) r = check_values(&spec, o);
  return r == PB_CLI_PARSED ? -1 : r == PB_CLI_HELP ? PB_EXIT_OK : PB_EXIT_USAGE;
}

/* ---- runs ---------------------------------------------------------------------- */

static const char *base_name(const char *p) {
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') n--;
  const char *s = p + n;
  while (s > p && s[-1] != '/') s--;
  return s;
}

/* The run's label: --label, else its folder's name ("name (2)" for a repeat). */
static char *make_label(const compare_opts *o, char **labels, size_t i, const pb_run *run) {
  const char *b = o->labels.n ? o->labels.items[i] : base_name(pb_run_path(run));
  size_t len = strlen(b) + 24;
  char *l = malloc(len);
  if (!l) return NULL;
  snprintf(l, len, "%s", b);
  for (size_t j = 0; j < i && !o->labels.n; j++)
    if (strcmp(labels[j], l) == 0) snprintf(l, len, "%s (%zu)", b, i + 1);
  return l;
}

/* Loads every run as the other commands do (pb_cli_load: a latest run without
 * records is an error naming it); prints "run i: label = path". */
static int load_runs(const compare_opts *o, pb_run **runs, char **labels) {
  for (size_t i = 0; i < o->runs.n; i++) {
    int rc = pb_cli_load(PROG, o->runs.items[i], !o->no_latest, &runs[i]);
    if (rc != PB_EXIT_OK) return rc;
    if (!(labels[i] = make_label(o, labels, i, runs[i]))) return PB_EXIT_DATA;
    if (!o->json) printf("run %zu: %s = %s\n", i + 1, labels[i], pb_run_path(runs[i]));
  }
  return PB_EXIT_OK;
}

/* True when every benchmarker of a is in b with the same iterations and start times. */
static bool same_data(const pb_run *a, const pb_run *b) {
  size_t shared = 0;
  for (size_t i = 0; i < pb_run_record_count(a); i++) {
    const pb_record *ra = pb_run_record(a, i), *rb = pb_run_find(b, pb_record_name(ra));
    if (!rb) return false;
    size_t n = pb_record_iter_count(ra);
    if (n != pb_record_iter_count(rb)) return false;
    const pb_iter_info *ia = pb_record_infos(ra), *ib = pb_record_infos(rb);
    for (size_t k = 0; k < n; k++)
      if (ia[k].start_time != ib[k].start_time) return false;
    shared++;
  }
  return shared > 0 && pb_run_record_count(a) == pb_run_record_count(b);
}

/* True when benchmarker name is compared: --topics names it, or is not given. */
static bool wanted(const compare_opts *o, const char *name) {
  bool want = o->topics.n == 0;
  for (size_t t = 0; t < o->topics.n && !want; t++) want = strcmp(o->topics.items[t], name) == 0;
  return want;
}

/* Warns about the compared benchmarkers of a that b lacks. */
static void warn_benchmarkers(const compare_opts *o, const pb_run *a, const pb_run *b,
                              const char *la, const char *lb) {
  size_t n = pb_cli_bench_names(a, NULL, 0);
  const char **names = malloc((n ? n : 1) * sizeof *names);
  if (!names) return;
  pb_cli_bench_names(a, names, n);
  for (size_t i = 0; i < n; i++) {
    const char *name = names[i];
    if (wanted(o, name) && !pb_cli_find_any(b, name))
      fprintf(stderr,
              "porter-bench compare: warning: benchmarker '%s' is in '%s' but not in '%s'\n", name,
              la, lb);
  }
  free(names);
}

/* Warnings about what is compared: a run with itself, different contents. */
static void warn_runs(const compare_opts *o, pb_run **runs, char **labels) {
  char ra[PATH_MAX], rb[PATH_MAX];
  for (size_t k = 1; k < o->runs.n; k++) {
    const char *la = labels[0], *lb = labels[k];
    bool same_path = realpath(pb_run_path(runs[0]), ra) && realpath(pb_run_path(runs[k]), rb) &&
                     strcmp(ra, rb) == 0;
    if (same_path)
      fprintf(stderr,
              "porter-bench compare: warning: '%s' and '%s' are the same run folder (%s): "
              "a run compared with itself\n",
              la, lb, pb_run_path(runs[k]));
    else if (same_data(runs[0], runs[k]))
      fprintf(stderr,
              "porter-bench compare: warning: '%s' and '%s' hold the same iterations "
              "(same start times): a run compared with a copy of itself\n",
              la, lb);
    warn_benchmarkers(o, runs[0], runs[k], la, lb);
    warn_benchmarkers(o, runs[k], runs[0], lb, la);
  }
}

static void warn_topics(const pb_comparison *c, const char *la, const char *lb) {
  for (size_t i = 0; i < c->nbench; i++)
    for (size_t r = 0; r < c->bench[i].ntime; r++) {
      const pb_compare_row *row = &c->bench[i].rows[r];
      if (row->in_a != row->in_b)
        fprintf(stderr,
                "porter-bench compare: warning: %s: topic '%s' is in '%s' but not in '%s'\n",
                c->bench[i].name, row->name, row->in_a ? la : lb, row->in_a ? lb : la);
    }
}

/* ---- formatting ---------------------------------------------------------------- */

/* Bytes with three significant digits and a binary unit ("165 MiB"). */
static void format_bytes(double v, char *buf, size_t n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (isnan(v)) {
    snprintf(buf, n, "-");
    return;
  }
  double x = fabs(v);
  size_t u = 0;
  while (u + 1 < sizeof units / sizeof units[0] && x >= 999.5) x /= 1024, u++;
  int dec = (u == 0 || x >= 99.95) ? 0 : (x >= 9.995 ? 1 : 2);
  snprintf(buf, n, "%s%.*f %s", v < 0 ? "-" : "", dec, x, units[u]);
}

static void format_value(pb_compare_kind kind, double v, char *buf, size_t n) {
  if (kind == PB_COMPARE_TIME)
    pb_format_seconds(v, buf, n);
  else
    format_bytes(v, buf, n);
}

/* A signed value in its unit: "+1.03 ms", "-5.00 MiB", "0". */
static void format_shift(pb_compare_kind kind, double v, char *buf, size_t n) {
  if (isnan(v) || v == 0) {
    snprintf(buf, n, isnan(v) ? "-" : "0");
    return;
  }
  char tmp[24];
  format_value(kind, fabs(v), tmp, sizeof tmp);
  snprintf(buf, n, "%c%s", v > 0 ? '+' : '-', tmp);
}

/* A fraction as a signed percentage number: "+8.1", "+193", "-" for NAN;
 * from +1000% on as a factor: "x12" (12 times the baseline). */
static void format_pct_number(double f, char *buf, size_t n) {
  double v = 100 * f;
  if (isnan(v))
    snprintf(buf, n, "-");
  else if (v >= 999.5) /* 11 times or more: "x12", keeps the table in 80 columns */
    snprintf(buf, n, "x%.0f", 1 + f);
  else if (v <= -999.5) /* not for times or sizes >= 0 */
    snprintf(buf, n, "%+.0e", v);
  else
    snprintf(buf, n, fabs(v) < 9.95 ? "%+.1f" : "%+.0f", v);
}

static void format_pct(double f, char *buf, size_t n) {
  char tmp[24];
  format_pct_number(f, tmp, sizeof tmp);
  snprintf(buf, n, (isnan(f) || tmp[0] == 'x') ? "%s" : "%s%%", tmp);
}

static void format_ci(double lo, double hi, char *buf, size_t n) {
  char a[24], b[24];
  if (isnan(lo) || isnan(hi)) {
    snprintf(buf, n, "-");
    return;
  }
  format_pct_number(lo, a, sizeof a);
  format_pct_number(hi, b, sizeof b);
  snprintf(buf, n, "[%s,%s]", a, b);
}

/* The row's verdict word. */
static const char *verdict(const pb_compare_row *r) {
  bool time = r->kind == PB_COMPARE_TIME;
  if (!r->in_a || !r->in_b) return "absent";
  if (r->kind == PB_COMPARE_MEMORY_END) return "untested";
  if (r->change.shift.too_few) return "too_few";
  if (!r->change.significant) return "none";
  if (r->change.direction > 0) return time ? "slower" : "larger";
  return time ? "faster" : "smaller";
}

static const char *row_title(const pb_compare_row *r) {
  if (r->kind == PB_COMPARE_TIME) return r->name;
  if (strcmp(r->name, "peak") == 0) return "peak/iter";
  if (strcmp(r->name, "heap") == 0) return "heap/iter";
  if (strcmp(r->name, "rss_end") == 0) return "RSS at end";
  return "heap at end";
}

/* ---- table ---------------------------------------------------------------------- */

/* The topic column: 14 in 80 columns, wider on a wider terminal up to the
 * longest name (only this column gives way, as in summary). */
#define W_TOPIC 14

/* Prints s in width (<= 24) columns, shortened in its middle with "…" when
 * longer, as summary does: both ends stay ("samp…(2)", "gst…_MEMORY_STEP"). */
static void cell(const char *s, int width, int left) {
  char buf[128];
  pb_cli_ellipsize(s, width, buf, sizeof buf);
  pb_cli_pad(stdout, buf, width, left);
}

static void print_row(const pb_compare_row *r, int wt) {
  const pb_shift *s = &r->change.shift;
  char va[64], vb[64], sh[64], ch[64], ci[64], p[64];
  format_value(r->kind, s->median_a, va, sizeof va);
  format_value(r->kind, s->median_b, vb, sizeof vb);
  format_shift(r->kind, s->shift, sh, sizeof sh);
  format_pct(s->rel, ch, sizeof ch);
  format_ci(s->rel_low, s->rel_high, ci, sizeof ci);
  pb_cli_format_p(r->change.p_adjusted, p, sizeof p);
  const char *v = verdict(r);
  if (strcmp(v, "none") == 0 || strcmp(v, "untested") == 0) v = "-";
  printf("  ");
  cell(row_title(r), wt, 1);
  printf(" ");
  cell(r->in_a ? va : "absent", 8, 0);
  printf(" ");
  cell(r->in_b ? vb : "absent", 8, 0);
  printf(" %9s %7s %11s %7s %s\n", sh, ch, ci, p, v);
}

/* The topic column's width for cb's rows on a width-column terminal. */
static int topic_width(const pb_compare_bench *cb, int width) {
  int wt = W_TOPIC;
  for (size_t r = 0; r < cb->nrows; r++)
    if (pb_cli_width(row_title(&cb->rows[r])) > wt) wt = pb_cli_width(row_title(&cb->rows[r]));
  return wt < W_TOPIC + width - 80 ? wt : W_TOPIC + width - 80;
}

/* The benchmarker's title line; for multi-rank runs with their ranks. */
static void print_title(const pb_compare_bench *cb, const pb_run *a, const pb_run *b,
                        const char *la, const char *lb) {
  if (pb_run_rank_count(a))
    printf("\n%s: %s (%zu ranks, %zu iterations) -> %s (%zu ranks, %zu iterations)\n", cb->name, la,
           pb_run_rank_count(a), cb->iters_a, lb, pb_run_rank_count(b), cb->iters_b);
  else
    printf("\n%s: %s (%zu iterations) -> %s (%zu iterations)\n", cb->name, la, cb->iters_a, lb,
           cb->iters_b);
}

static void print_bench(const pb_compare_bench *cb, const pb_run *a, const pb_run *b,
                        const char *la, const char *lb, int width) {
  int wt = topic_width(cb, width);
  print_title(cb, a, b, la, lb);
  printf("  ");
  cell("topic", wt, 1);
  printf(" ");
  cell(la, 8, 0);
  printf(" ");
  cell(lb, 8, 0);
  printf(" %9s %7s %11s %7s %s\n", "shift", "change", "95% CI", "p Holm", "result");
  for (size_t r = 0; r < cb->nrows; r++) {
    if (r == cb->ntime && r > 0) printf("  memory\n");
    print_row(&cb->rows[r], wt);
  }
  if (pb_run_rank_count(a) && pb_run_rank_count(b))
    (void)pb_cli_print_rank_extras(stdout, a, b, cb, wt);
}

static void print_comparison(const compare_opts *o, const pb_comparison *c, const pb_run *a,
                             const pb_run *b, const char *la, const char *lb) {
  int width = pb_cli_term_width();
  for (size_t i = 0; i < c->nbench; i++) print_bench(&c->bench[i], a, b, la, lb, width);
  printf(
      "\nsignificant: Holm-corrected p < 0.05 (over %zu time topics, %zu memory)\n"
      "and |change| > %g%%. shift: median of all differences new - baseline.\n",
      c->ntested_time, c->ntested_memory, 100 * o->threshold);
  if (pb_run_rank_count(a))
    printf(
        "Multi-rank runs: every rank's iterations pooled. max/mean: the slowest\n"
        "rank's mean over the mean of the per-rank means (1 = balanced).\n");
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(f, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(f, "\\u%04x", ch);
    else
      fputc(ch, f);
  }
  fputc('"', f);
}

static void json_num(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.17g", v);
  else
    fputs("null", f);
}

static void json_pair(FILE *f, const char *key, double a, double b) {
  fprintf(f, ",\"%s\":[", key);
  json_num(f, a);
  fputc(',', f);
  json_num(f, b);
  fputc(']', f);
}

static void json_field(FILE *f, const char *key, double v) {
  fprintf(f, ",\"%s\":", key);
  json_num(f, v);
}

static const char *kind_name(pb_compare_kind k) {
  return k == PB_COMPARE_TIME ? "time" : (k == PB_COMPARE_MEMORY ? "memory" : "memory_end");
}

/* The per-rank extras of a multi-rank comparison's row. */
static void json_rank_extras(FILE *f, const pb_run *a, const pb_run *b, const char *bench,
                             const pb_compare_row *r) {
  pb_rank_spread sa, sb;
  if (pb_cli_rank_extras(a, b, bench, r->name, &sa, &sb) != PB_OK) return;
  json_pair(f, "max_mean", sa.imbalance, sb.imbalance);
  json_pair(f, "slowest_rank", sa.ranks ? sa.max_rank : NAN, sb.ranks ? sb.max_rank : NAN);
}

static void json_row(FILE *f, const pb_compare_row *r) {
  const pb_shift *s = &r->change.shift;
  fputs("{\"name\":", f);
  json_str(f, r->name);
  fprintf(f, ",\"kind\":\"%s\",\"in_baseline\":%s,\"in_new\":%s,\"probe\":%s", kind_name(r->kind),
          r->in_a ? "true" : "false", r->in_b ? "true" : "false", r->probe ? "true" : "false");
  fprintf(f, ",\"n\":[%zu,%zu]", s->n_a, s->n_b);
  json_field(f, "baseline", s->median_a);
  json_field(f, "new", s->median_b);
  json_field(f, "shift", s->shift);
  json_pair(f, "shift_ci", s->ci_low, s->ci_high);
  json_field(f, "change", s->rel);
  json_pair(f, "change_ci", s->rel_low, s->rel_high);
  json_field(f, "p_value", s->p_value);
  json_field(f, "p_holm", r->change.p_adjusted);
  fprintf(f, ",\"exact\":%s,\"significant\":%s,\"verdict\":\"%s\"", s->exact ? "true" : "false",
          r->change.significant ? "true" : "false", verdict(r));
}

static void json_comparison(FILE *f, const pb_comparison *c, const pb_run *a, const pb_run *b,
                            const char *la, const char *lb) {
  fputs("{\"baseline\":", f);
  json_str(f, la);
  fputs(",\"new\":", f);
  json_str(f, lb);
  fprintf(f, ",\"tested_time\":%zu,\"tested_memory\":%zu,\"benchmarkers\":[", c->ntested_time,
          c->ntested_memory);
  for (size_t i = 0; i < c->nbench; i++) {
    const pb_compare_bench *cb = &c->bench[i];
    fprintf(f, "%s{\"name\":", i ? "," : "");
    json_str(f, cb->name);
    fprintf(f, ",\"iterations\":[%zu,%zu]", cb->iters_a, cb->iters_b);
    if (pb_run_rank_count(a))
      fprintf(f, ",\"ranks\":[%zu,%zu]", pb_run_rank_count(a), pb_run_rank_count(b));
    fputs(",\"rows\":[", f);
    for (size_t r = 0; r < cb->nrows; r++) {
      if (r) fputc(',', f);
      json_row(f, &cb->rows[r]);
      if (pb_run_rank_count(a)) json_rank_extras(f, a, b, cb->name, &cb->rows[r]);
      fputc('}', f);
    }
    fputs("]}", f);
  }
  fputs("]}", f);
}

/* ---- the gate ----------------------------------------------------------------------- */

/* True when row r is a time topic significantly slower than the gate allows. */
static bool regressed(const compare_opts *o, const pb_compare_row *r) {
  return o->fail_slower >= 0 && r->kind == PB_COMPARE_TIME && r->change.significant &&
         r->change.direction > 0 && r->change.shift.rel > o->fail_slower;
}

/* Reports the regressions on stderr (and into JSON when f); returns their number. */
static size_t gate(const compare_opts *o, pb_comparison **cmp, char **labels, FILE *f) {
  size_t n = 0;
  for (size_t k = 1; k < o->runs.n; k++)
    for (size_t i = 0; i < cmp[k]->nbench; i++)
      for (size_t r = 0; r < cmp[k]->bench[i].ntime; r++) {
        const pb_compare_row *row = &cmp[k]->bench[i].rows[r];
        if (!regressed(o, row)) continue;
        if (!f)
          fprintf(stderr,
                  "porter-bench compare: regression: %s/%s is %.1f%% slower in '%s' than in '%s' "
                  "(limit %g%%)\n",
                  cmp[k]->bench[i].name, row->name, 100 * row->change.shift.rel, labels[k],
                  labels[0], 100 * o->fail_slower);
        if (f) {
          fprintf(f, "%s{\"new\":", n ? "," : "");
          json_str(f, labels[k]);
          fputs(",\"benchmarker\":", f);
          json_str(f, cmp[k]->bench[i].name);
          fputs(",\"topic\":", f);
          json_str(f, row->name);
          json_field(f, "change", row->change.shift.rel);
          fputc('}', f);
        }
        n++;
      }
  return n;
}

static void print_json(const compare_opts *o, pb_comparison **cmp, pb_run **runs, char **labels) {
  fputs("{\"runs\":[", stdout);
  for (size_t i = 0; i < o->runs.n; i++) {
    fputs(i ? ",{\"label\":" : "{\"label\":", stdout);
    json_str(stdout, labels[i]);
    fputs(",\"path\":", stdout);
    json_str(stdout, pb_run_path(runs[i]));
    fputc('}', stdout);
  }
  fputs("]", stdout);
  json_field(stdout, "alpha", 0.05);
  json_field(stdout, "threshold", o->threshold);
  json_field(stdout, "confidence", 0.95);
  json_field(stdout, "fail_if_slower", o->fail_slower >= 0 ? o->fail_slower : NAN);
  fputs(",\"comparisons\":[", stdout);
  for (size_t k = 1; k < o->runs.n; k++) {
    if (k > 1) fputc(',', stdout);
    json_comparison(stdout, cmp[k], runs[0], runs[k], labels[0], labels[k]);
  }
  fputs("],\"regressions\":[", stdout);
  gate(o, cmp, labels, stdout);
  fputs("]}\n", stdout);
}

/* ---- charts ----------------------------------------------------------------------- */

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
    const pb_chart_options copts = {.show_probes = o->probes};
    if (pb_chart_write_opts((pb_chart_kind)kind, recs, labs, n, NULL, o->fmt, file, &copts, &err) ==
        PB_OK) {
      fprintf(o->json ? stderr : stdout, "  Saved: %s\n", file);
    } else {
      fprintf(stderr, "porter-bench compare: %s\n", err.message);
      rc = PB_EXIT_DATA;
    }
  }
  return rc;
}

/* Charts of every benchmarker of the baseline found in another run. */
static int all_charts(const compare_opts *o, pb_run **runs, char **labels) {
  if (mkdir_p(o->out) != 0) {
    fprintf(stderr, "porter-bench compare: %s: cannot create the folder\n", o->out);
    return PB_EXIT_DATA;
  }
  const pb_record **recs = calloc(o->runs.n, sizeof *recs);
  const char **labs = calloc(o->runs.n, sizeof *labs);
  int rc = (recs && labs) ? PB_EXIT_OK : PB_EXIT_DATA;
  for (size_t r = 0; rc == PB_EXIT_OK && r < pb_run_record_count(runs[0]); r++) {
    const pb_record *a = pb_run_record(runs[0], r);
    if (!wanted(o, pb_record_name(a))) continue;
    size_t n = 0;
    recs[n] = a;
    labs[n++] = labels[0];
    for (size_t k = 1; k < o->runs.n; k++) {
      const pb_record *b = pb_run_find(runs[k], pb_record_name(a));
      if (!b) continue;
      recs[n] = b;
      labs[n++] = labels[k];
    }
    if (n >= 2 && write_charts(o, recs, labs, n) != PB_EXIT_OK) rc = PB_EXIT_DATA;
  }
  free(recs);
  free(labs);
  return rc;
}

/* ---- the command ------------------------------------------------------------------- */

/* False, after saying so, when the runs mix multi-rank runs and runs of one
 * process: their samples mean different things (a job's pool all ranks). */
static bool same_kind(const compare_opts *o, pb_run **runs, char **labels) {
  for (size_t k = 1; k < o->runs.n; k++) {
    size_t na = pb_run_rank_count(runs[0]), nb = pb_run_rank_count(runs[k]);
    if ((na > 0) == (nb > 0)) continue;
    size_t m = na ? 0 : k;
    fprintf(stderr,
            "porter-bench compare: '%s' is a multi-rank run (%zu ranks) and '%s' is a run of one "
            "process: compare runs of one kind (a rank's folder, %s/rank-NNNNN, is a run of one "
            "process)\n",
            labels[m], pb_run_rank_count(runs[m]), labels[m ? 0 : k], pb_run_path(runs[m]));
    return false;
  }
  return true;
}

/* Compares every run with the first into cmp[1 ..]; prints; returns the exit code. */
static int compare_all(const compare_opts *o, pb_run **runs, char **labels, pb_comparison **cmp) {
  pb_compare_params params = PB_COMPARE_DEFAULTS;
  params.threshold = o->threshold;
  if (!same_kind(o, runs, labels)) return PB_EXIT_USAGE;
  warn_runs(o, runs, labels);
  bool ranks = pb_run_rank_count(runs[0]) > 0;
  for (size_t k = 1; k < o->runs.n; k++) {
    const char *const *names = o->topics.n ? (const char *const *)o->topics.items : NULL;
    int st =
        ranks ? pb_cli_compare_ranks(runs[0], runs[k], names, o->topics.n, &params, o->probes,
                                     &cmp[k])
              : pb_compare_runs(runs[0], runs[k], names, o->topics.n, &params, o->probes, &cmp[k]);
    if (st != PB_OK) {
      fprintf(stderr, "porter-bench compare: %s\n", pb_analysis_strerror(st));
      return PB_EXIT_DATA;
    }
    warn_topics(cmp[k], labels[0], labels[k]);
    if (!o->json) print_comparison(o, cmp[k], runs[0], runs[k], labels[0], labels[k]);
  }
  if (o->json) print_json(o, cmp, runs, labels);
  fflush(stdout);
  if (ranks && !o->no_charts)
    fprintf(o->json ? stderr : stdout,
            "No overlay charts for multi-rank runs: 'porter-bench plots' draws each job's.\n");
  int rc = (!o->no_charts && !ranks) ? all_charts(o, runs, labels) : PB_EXIT_OK;
  size_t slower = gate(o, cmp, labels, NULL);
  return (rc == PB_EXIT_OK && slower) ? PB_EXIT_SLOWER : rc;
}

/* Loads the runs, checks --topics against the baseline, compares; frees
 * what it made. Returns the exit code. */
static int run_compare(const compare_opts *o) {
  size_t n = o->runs.n;
  pb_run **runs = calloc(n, sizeof *runs);
  char **labels = calloc(n, sizeof *labels);
  pb_comparison **cmp = calloc(n, sizeof *cmp);
  int rc = (runs && labels && cmp) ? load_runs(o, runs, labels) : PB_EXIT_DATA;
  if (rc == PB_EXIT_OK) rc = pb_cli_check_names(PROG, runs[0], o->topics.items, o->topics.n);
  if (rc == PB_EXIT_OK) rc = compare_all(o, runs, labels, cmp);
  fflush(stdout);
  for (size_t i = 0; runs && i < n; i++) {
    /* bad input data (1) takes precedence over the gate (3) */
    if (runs[i] && pb_cli_report_diagnostics(runs[i]) && rc != PB_EXIT_USAGE) rc = PB_EXIT_DATA;
    if (cmp) pb_comparison_free(cmp[i]);
    pb_run_free(runs[i]);
    if (labels) free(labels[i]);
  }
  free(cmp);
  free(runs);
  free(labels);
  return rc;
}

int pb_cli_compare(int argc, char **argv) {
  compare_opts o = {.out = "COMPARE", .format = "png", .threshold = 0.05, .fail_slower = -1};
  int rc = parse_args(argc, argv, &o);
  if (rc == -1) rc = run_compare(&o);
  pb_cli_list_free(&o.runs);
  pb_cli_list_free(&o.topics);
  pb_cli_list_free(&o.labels);
  return rc;
}
