/*
 * compare_ranks.c - "porter-bench compare" of two multi-rank runs: per
 * benchmarker and topic, the mean of the per-rank means before and after,
 * the change, a Mann-Whitney U test over every rank's per-iteration times,
 * and how the imbalance and the slowest rank moved. Uses only the public
 * analysis API; cmd_compare.c calls it when both runs have ranks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define ALPHA 0.05

/* Every rank's per-iteration times of topic (NANs skipped); *n values, caller frees. */
static double *pooled(const pb_run *run, const char *rec, const char *topic, size_t *n) {
  size_t cap = 0;
  *n = 0;
  for (size_t i = 0; i < pb_run_rank_count(run); i++)
    cap += pb_record_iter_count(pb_run_find(pb_run_rank(run, i), rec));
  double *v = malloc((cap ? cap : 1) * sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    const pb_record *r = pb_run_find(pb_run_rank(run, i), rec);
    long t = r ? pb_record_topic_index(r, topic) : -1;
    if (t < 0) continue;
    const double *abs = pb_record_absolutes(r, (size_t)t);
    for (size_t k = 0; k < pb_record_iter_count(r); k++)
      if (!isnan(abs[k])) v[(*n)++] = abs[k];
  }
  return v;
}

/* The U test's p-value and note for topic, into pv and *note. */
static int test_topic(const pb_run *a, const pb_run *b, const char *rec, const char *topic,
                      bool slower, char *pv, size_t npv, const char **note) {
  size_t na, nb;
  double *va = pooled(a, rec, topic, &na), *vb = pooled(b, rec, topic, &nb);
  pb_utest u;
  int rc = va && vb ? pb_utest_compute(va, na, vb, nb, &u) : PB_ENOMEM;
  free(va);
  free(vb);
  if (rc != PB_OK) return rc;
  if (!isnan(u.p_value)) snprintf(pv, npv, "%.4f", u.p_value);
  if (u.too_few)
    *note = "too few iterations for the test (< 9)";
  else if (!isnan(u.p_value) && u.p_value < ALPHA)
    *note = slower ? "slower (significant)" : "faster (significant)";
  else
    *note = "no significant change";
  return PB_OK;
}

/* One topic's line; returns PB_OK or PB_ENOMEM. */
static int print_topic(FILE *f, const pb_run *a, const pb_run *b, const char *rec,
                       const char *topic) {
  pb_rank_spread sa, sb;
  if (pb_run_rank_spread(a, rec, topic, &sa) || pb_run_rank_spread(b, rec, topic, &sb))
    return PB_ENOMEM;
  char ma[32], mb[32], ch[32] = "-", pv[32] = "-", im[48] = "-", sl[48] = "-";
  const char *note = "topic missing in the new run";
  pb_format_seconds(sa.mean, ma, sizeof ma);
  pb_format_seconds(sb.mean, mb, sizeof mb);
  if (sb.ranks == 0) snprintf(mb, sizeof mb, "absent");
  if (sa.ranks && sb.ranks) {
    if (sa.mean > 0) snprintf(ch, sizeof ch, "%+.1f%%", 100.0 * (sb.mean - sa.mean) / sa.mean);
    int rc = test_topic(a, b, rec, topic, sb.mean > sa.mean, pv, sizeof pv, &note);
    if (rc) return rc;
    snprintf(im, sizeof im, "%.2f->%.2f", sa.imbalance, sb.imbalance);
    snprintf(sl, sizeof sl, "%d->%d", sa.max_rank, sb.max_rank);
  }
  fprintf(f, "  ");
  pb_cli_pad(f, topic, 20, 1);
  fprintf(f, " ");
  pb_cli_pad(f, ma, 9, 0);
  fprintf(f, " ");
  pb_cli_pad(f, mb, 9, 0);
  fprintf(f, " %8s %7s %11s %8s  %s\n", ch, pv, im, sl, note);
  return PB_OK;
}

/* The benchmarker's topics over a's ranks, in order of first appearance. */
static const char **topics_of(const pb_run *a, const char *rec, size_t *n) {
  size_t cap = 16;
  const char **v = malloc(cap * sizeof *v);
  *n = 0;
  for (size_t i = 0; v && i < pb_run_rank_count(a); i++) {
    const pb_record *r = pb_run_find(pb_run_rank(a, i), rec);
    for (size_t t = 0; r && v && t < pb_record_topic_count(r); t++) {
      const char *name = pb_record_topic(r, t);
      size_t k = 0;
      while (k < *n && strcmp(v[k], name) != 0) k++;
      if (k < *n) continue;
      if (*n == cap) {
        const char **nv = realloc(v, 2 * cap * sizeof *nv);
        if (!nv) {
          free(v);
          return NULL;
        }
        v = nv;
        cap *= 2;
      }
      v[(*n)++] = name;
    }
  }
  return v;
}

/* True when some rank of run has benchmarker rec. */
static bool has_record(const pb_run *run, const char *rec) {
  for (size_t i = 0; i < pb_run_rank_count(run); i++)
    if (pb_run_find(pb_run_rank(run, i), rec)) return true;
  return false;
}

static int print_benchmarker(FILE *f, const pb_run *a, const pb_run *b, const char *rec,
                             const char *la, const char *lb) {
  size_t n;
  const char **topics = topics_of(a, rec, &n);
  if (!topics) return PB_ENOMEM;
  fprintf(f, "\n%s: %s (%zu ranks) -> %s (%zu ranks)\n", rec, la, pb_run_rank_count(a), lb,
          pb_run_rank_count(b));
  fprintf(f, "  mean of the per-rank means; U test over every rank's iterations\n");
  fprintf(f, "  %-20s %9s %9s %8s %7s %11s %8s  %s\n", "topic", "baseline", "new", "change",
          "p-value", "max/mean", "slowest", "note");
  int rc = PB_OK;
  for (size_t t = 0; t < n && rc == PB_OK; t++)
    if (!pb_topic_is_probe(topics[t])) rc = print_topic(f, a, b, rec, topics[t]);
  free(topics);
  return rc;
}

int pb_cli_compare_ranks(FILE *f, const pb_run *a, const pb_run *b, const char *la,
                         const char *lb) {
  if (!f || !pb_run_rank_count(a) || !pb_run_rank_count(b)) return PB_EINVAL;
  int rc = PB_OK;
  for (size_t i = 0; i < pb_run_rank_count(a) && rc == PB_OK; i++) {
    const pb_run *ra = pb_run_rank(a, i);
    for (size_t k = 0; k < pb_run_record_count(ra) && rc == PB_OK; k++) {
      const char *rec = pb_record_name(pb_run_record(ra, k));
      bool seen = false; /* printed already for a lower rank */
      for (size_t j = 0; j < i && !seen; j++) seen = pb_run_find(pb_run_rank(a, j), rec) != NULL;
      if (!seen && has_record(b, rec)) rc = print_benchmarker(f, a, b, rec, la, lb);
    }
  }
  return rc;
}
