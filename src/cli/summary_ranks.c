/*
 * summary_ranks.c - "porter-bench summary" of a multi-rank run: the job's
 * ranks and hosts, then per benchmarker and topic the spread of the
 * per-rank means across the ranks that have the topic.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NCOL 7
#define CELL PB_CLI_CELL

static const char *const HEAD[NCOL] = {"topic", "ranks",   "min",     "mean",
                                       "max",   "slowest", "max/mean"};

/* A list of distinct strings (pointers into the run), in order of first appearance. */
typedef struct names {
  const char **v;
  size_t n, cap;
} names;

static bool names_add(names *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0) return true;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    const char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return false;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = s;
  return true;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The value of "key: value" in a run's metadata lines, "" when absent. */
static void meta_value(const pb_run *run, const char *key, char *buf, size_t n) {
  buf[0] = '\0';
  size_t k = strlen(key);
  for (const char *p = pb_run_metadata(run); p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len > k + 2 && strncmp(p, key, k) == 0 && p[k] == ':' && p[k + 1] == ' ') {
      snprintf(buf, n, "%.*s", (int)(len - k - 2), p + k + 2);
      return;
    }
    p += len + (nl ? 1 : 0);
  }
}

/* "job <id> (<launcher>): N ranks of W on H hosts", and the ranks missing. */
static void print_job(const pb_run *run) {
  size_t nr = pb_run_rank_count(run);
  char id[512], launcher[64], ws[32];
  meta_value(pb_run_rank(run, 0), "job_id", id, sizeof id);
  meta_value(pb_run_rank(run, 0), "launcher", launcher, sizeof launcher);
  meta_value(pb_run_rank(run, 0), "world_size", ws, sizeof ws);
  char(*hosts)[256] = calloc(nr, sizeof *hosts);
  size_t nh = 0;
  for (size_t i = 0; hosts && i < nr; i++) {
    char h[256];
    meta_value(pb_run_rank(run, i), "host", h, sizeof h);
    size_t k = 0;
    while (k < nh && strcmp(hosts[k], h) != 0) k++;
    if (k == nh && h[0]) snprintf(hosts[nh++], sizeof hosts[0], "%s", h);
  }
  free(hosts);
  long world = atol(ws);
  printf("job %s (%s): %zu rank%s", id[0] ? id : "?", launcher[0] ? launcher : "?", nr,
         nr == 1 ? "" : "s");
  if (world > 0) printf(" of %ld", world);
  printf(" on %zu host%s\n", nh, nh == 1 ? "" : "s");
  if (world <= 0 || (size_t)world == nr) return;
  printf("  ranks without records:");
  size_t shown = 0, j = 0;
  for (long r = 0; r < world && shown < 16; r++) {
    while (j < nr && pb_run_rank_id(run, j) < r) j++;
    if (j < nr && pb_run_rank_id(run, j) == r) continue;
    printf(" %ld", r);
    shown++;
  }
  printf("%s\n", (size_t)world - nr > shown ? " ..." : "");
}

static void fill(pb_cli_table *tb, const pb_run *run, const char *rec, const char *topic) {
  pb_rank_spread sp;
  char(*cl)[CELL] = tb->cells[tb->rows];
  if (pb_run_rank_spread(run, rec, topic, &sp) != PB_OK) sp.ranks = 0;
  tb->topic[tb->rows++] = topic;
  snprintf(cl[1], CELL, "%zu", sp.ranks);
  pb_format_seconds(sp.ranks ? sp.min : NAN, cl[2], CELL);
  pb_format_seconds(sp.ranks ? sp.mean : NAN, cl[3], CELL);
  pb_format_seconds(sp.ranks ? sp.max : NAN, cl[4], CELL);
  if (sp.ranks)
    snprintf(cl[5], CELL, "%d", sp.max_rank);
  else
    snprintf(cl[5], CELL, "-");
  if (sp.ranks && !isnan(sp.imbalance))
    snprintf(cl[6], CELL, "%.2f", sp.imbalance);
  else
    snprintf(cl[6], CELL, "-");
}

/* The topics of benchmarker rec over every rank: first appearance, GLOBAL last. */
static bool collect_topics(const pb_run *run, const char *rec, names *out, size_t *iters_lo,
                           size_t *iters_hi, size_t *have) {
  bool global = false;
  *iters_lo = SIZE_MAX;
  *iters_hi = *have = 0;
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    const pb_record *r = pb_run_find(pb_run_rank(run, i), rec);
    if (!r) continue;
    size_t it = pb_record_iter_count(r);
    if (it < *iters_lo) *iters_lo = it;
    if (it > *iters_hi) *iters_hi = it;
    (*have)++;
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      const char *name = pb_record_topic(r, t);
      if (strcmp(name, "GLOBAL") == 0)
        global = true;
      else if (!names_add(out, name))
        return false;
    }
  }
  return !global || names_add(out, "GLOBAL");
}

/* "  memory: RSS up to X MiB (rank r), peak up to Y MiB (rank r)" over the ranks. */
static void print_memory(const pb_run *run, const char *rec, int width) {
  double rss = -INFINITY, peak = -INFINITY;
  int rss_rank = -1, peak_rank = -1;
  size_t with = 0;
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    size_t nm = 0;
    const pb_mem_record *m = pb_record_memory(pb_run_find(pb_run_rank(run, i), rec), &nm);
    with += nm > 0;
    for (size_t k = 0; m && k < nm; k++) {
      if (m[k].rss > rss) {
        rss = m[k].rss;
        rss_rank = pb_run_rank_id(run, i);
      }
      if (m[k].peak > peak) {
        peak = m[k].peak;
        peak_rank = pb_run_rank_id(run, i);
      }
    }
  }
  if (!with || rss_rank < 0) return;
  const double mib = 1024.0 * 1024.0;
  char a[128], b[96] = "";
  snprintf(a, sizeof a, "  memory (%zu rank%s): RSS up to %.1f MiB (rank %d)", with,
           with == 1 ? "" : "s", rss / mib, rss_rank);
  if (peak_rank >= 0 && peak > 0)
    snprintf(b, sizeof b, "peak up to %.1f MiB (rank %d)", peak / mib, peak_rank);
  if (!b[0])
    printf("%s\n", a);
  else if ((int)(strlen(a) + 2 + strlen(b)) <= width)
    printf("%s, %s\n", a, b);
  else
    printf("%s,\n    %s\n", a, b);
}

/* Under a table whose probe rows are hidden: the probes' time that GLOBAL
 * includes, from the smallest to the largest over the ranks (each rank's
 * mean per iteration, pb_record_probe_time). */
static void print_probe_time(const pb_run *run, const char *rec, int width) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    double mean;
    if (pb_record_probe_time(pb_run_find(pb_run_rank(run, i), rec), &mean, NULL) != PB_OK) continue;
    lo = fmin(lo, mean);
    hi = fmax(hi, mean);
  }
  if (!isfinite(lo)) return;
  char a[32], b[32], line[160];
  pb_format_seconds(lo, a, sizeof a);
  pb_format_seconds(hi, b, sizeof b);
  if (strcmp(a, b) == 0)
    snprintf(line, sizeof line, "(GLOBAL includes their time: %s per iteration (mean))", a);
  else
    snprintf(line, sizeof line,
             "(GLOBAL includes their time: %s to %s per iteration (mean), by rank)", a, b);
  pb_cli_wrap(stdout, "  ", "   ", line, width, false);
}

static void print_benchmarker(const pb_run *run, const char *rec, bool probes, int width) {
  names topics = {NULL, 0, 0};
  size_t lo, hi, have;
  pb_cli_table tb;
  memset(&tb, 0, sizeof tb);
  tb.head = HEAD;
  tb.ncol = NCOL;
  bool ok = collect_topics(run, rec, &topics, &lo, &hi, &have);
  char name[1024];
  pb_cli_ellipsize(rec, width - 40, name, sizeof name);
  printf("\n%s: %zu rank%s, ", name, have, have == 1 ? "" : "s");
  if (lo == hi)
    printf("%zu iteration%s each\n", lo, lo == 1 ? "" : "s");
  else
    printf("%zu to %zu iterations\n", lo, hi);
  tb.topic = calloc(topics.n + 1, sizeof *tb.topic);
  tb.cells = calloc(topics.n + 1, sizeof *tb.cells);
  if (!ok || !tb.topic || !tb.cells) {
    printf("  (out of memory)\n");
  } else if (topics.n == 0) {
    printf("  (no iterations loaded)\n");
  } else {
    for (size_t t = 0; t < topics.n; t++) {
      if (!probes && pb_topic_is_probe(topics.v[t]))
        tb.hidden++;
      else
        fill(&tb, run, rec, topics.v[t]);
    }
    printf("  per-rank mean of each topic: min, mean and max over the ranks that have it\n");
    pb_cli_table_layout(&tb, width);
    pb_cli_table_print(&tb);
    if (tb.hidden) print_probe_time(run, rec, width);
  }
  free(tb.topic);
  free(tb.cells);
  free(topics.v);
  print_memory(run, rec, width);
}

void pb_cli_summary_ranks(const pb_run *run, bool probes, int width) {
  print_job(run);
  names recs = {NULL, 0, 0};
  bool ok = true;
  for (size_t i = 0; ok && i < pb_run_rank_count(run); i++) {
    const pb_run *rk = pb_run_rank(run, i);
    for (size_t k = 0; ok && k < pb_run_record_count(rk); k++)
      ok = names_add(&recs, pb_record_name(pb_run_record(rk, k)));
  }
  if (!ok) printf("  (out of memory)\n");
  if (recs.n) qsort(recs.v, recs.n, sizeof *recs.v, cmp_str);
  for (size_t i = 0; i < recs.n; i++) print_benchmarker(run, recs.v[i], probes, width);
  free(recs.v);
}
