/*
 * compare_ranks.c - "porter-bench compare" of two multi-rank runs. Per
 * benchmarker and time topic, every rank's per-iteration times are pooled
 * into one sample per run and compared as compare does for runs of one
 * process (pb_compare_samples: median shift with its interval, a U test
 * corrected with Holm's method over every topic, the threshold), into a
 * pb_comparison that cmd_compare.c prints, turns into JSON and gates like
 * any other. The per-rank extras (max/mean, slowest rank) come from
 * pb_run_rank_spread. Uses only the public analysis API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A tested row waiting for the family's verdict; owns its two samples. */
typedef struct pending {
  double *a, *b;
  size_t na, nb;
  size_t bench, row; /* where the row is: indexes survive reallocations */
} pending;

typedef struct family {
  pending *v;
  size_t n, cap;
} family;

static void family_free(family *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->v[i].a);
    free(f->v[i].b);
  }
  free(f->v);
}

/* Every rank's per-iteration times of topic of benchmarker rec (values that
 * are not finite skipped) into a new array (*n values; caller frees). */
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
      if (isfinite(abs[k])) v[(*n)++] = abs[k];
  }
  return v;
}

/* True when some rank of run has topic in benchmarker rec. */
static bool has_topic(const pb_run *run, const char *rec, const char *topic) {
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    const pb_record *r = pb_run_find(pb_run_rank(run, i), rec);
    if (r && pb_record_topic_index(r, topic) >= 0) return true;
  }
  return false;
}

/* The iterations of benchmarker rec summed over run's ranks. */
static size_t iterations(const pb_run *run, const char *rec) {
  size_t n = 0;
  for (size_t i = 0; i < pb_run_rank_count(run); i++)
    n += pb_record_iter_count(pb_run_find(pb_run_rank(run, i), rec));
  return n;
}

/* Appends topic (owned by a rank's record) to v unless there or unwanted. */
static int add_name(const char ***v, size_t *n, size_t *cap, const char *topic, bool probes) {
  if (!probes && pb_topic_is_probe(topic)) return PB_OK;
  for (size_t k = 0; k < *n; k++)
    if (strcmp((*v)[k], topic) == 0) return PB_OK;
  if (*n == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    const char **nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return PB_ENOMEM;
    *v = nv;
    *cap = nc;
  }
  (*v)[(*n)++] = topic;
  return PB_OK;
}

/* The time topics of benchmarker rec over a's ranks, then b's, in order of
 * first appearance (*n of them; caller frees the array, not the names). */
static const char **topics_of(const pb_run *a, const pb_run *b, const char *rec, bool probes,
                              size_t *n) {
  const char **v = NULL;
  size_t cap = 0;
  *n = 0;
  int st = PB_OK;
  const pb_run *runs[2] = {a, b};
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; st == PB_OK && i < pb_run_rank_count(runs[s]); i++) {
      const pb_record *r = pb_run_find(pb_run_rank(runs[s], i), rec);
      for (size_t t = 0; r && st == PB_OK && t < pb_record_topic_count(r); t++)
        st = add_name(&v, n, &cap, pb_record_topic(r, t), probes);
    }
  if (st == PB_OK && !v) v = malloc(sizeof *v);
  if (st != PB_OK || !v) {
    free(v);
    return NULL;
  }
  return v;
}

/* One row: a tested one joins the family with its pooled samples; one
 * missing from a run gets only its present side's median. */
static int add_row(family *f, pb_comparison *c, size_t bi, const pb_run *a, const pb_run *b,
                   const char *topic) {
  pb_compare_bench *cb = &c->bench[bi];
  pb_compare_row *row = &cb->rows[cb->nrows];
  *row = (pb_compare_row){.name = topic,
                          .kind = PB_COMPARE_TIME,
                          .in_a = has_topic(a, cb->name, topic),
                          .in_b = has_topic(b, cb->name, topic),
                          .probe = pb_topic_is_probe(topic)};
  pending p = {NULL, NULL, 0, 0, bi, cb->nrows++};
  p.a = pooled(a, cb->name, topic, &p.na);
  p.b = pooled(b, cb->name, topic, &p.nb);
  int st = (p.a && p.b) ? PB_OK : PB_ENOMEM;
  if (st == PB_OK && !(row->in_a && row->in_b)) {
    row->change.p_adjusted = NAN;
    st = pb_shift_compute(p.a, p.na, p.b, p.nb, 0.95, &row->change.shift);
  } else if (st == PB_OK && f->n == f->cap) {
    size_t nc = f->cap ? 2 * f->cap : 16;
    pending *nv = realloc(f->v, nc * sizeof *nv);
    if (nv) f->v = nv, f->cap = nc;
    st = nv ? PB_OK : PB_ENOMEM;
  }
  if (st == PB_OK && row->in_a && row->in_b) {
    f->v[f->n++] = p;
    return PB_OK;
  }
  free(p.a);
  free(p.b);
  return st;
}

/* Benchmarker name's rows into c->bench[c->nbench++]. */
static int add_bench(family *f, pb_comparison *c, const pb_run *a, const pb_run *b,
                     const char *name, bool probes) {
  size_t n;
  const char **topics = topics_of(a, b, name, probes, &n);
  if (!topics) return PB_ENOMEM;
  pb_compare_bench *cb = &c->bench[c->nbench];
  *cb = (pb_compare_bench){.name = name,
                           .iters_a = iterations(a, name),
                           .iters_b = iterations(b, name),
                           .rows = calloc(n ? n : 1, sizeof(pb_compare_row))};
  c->nbench++;
  int st = cb->rows ? PB_OK : PB_ENOMEM;
  for (size_t t = 0; st == PB_OK && t < n; t++) st = add_row(f, c, c->nbench - 1, a, b, topics[t]);
  cb->ntime = cb->nrows;
  free(topics);
  return st;
}

/* Runs the family through pb_compare_samples and hands out the verdicts. */
static int judge(const family *f, pb_comparison *c, const pb_compare_params *params) {
  size_t n = f->n ? f->n : 1;
  const double **a = malloc(n * sizeof *a), **b = malloc(n * sizeof *b);
  size_t *na = malloc(n * sizeof *na), *nb = malloc(n * sizeof *nb);
  pb_change *out = malloc(n * sizeof *out);
  int st = (a && b && na && nb && out) ? PB_OK : PB_ENOMEM;
  for (size_t i = 0; st == PB_OK && i < f->n; i++) {
    a[i] = f->v[i].a;
    b[i] = f->v[i].b;
    na[i] = f->v[i].na;
    nb[i] = f->v[i].nb;
  }
  if (st == PB_OK) st = pb_compare_samples(a, na, b, nb, f->n, params, out);
  for (size_t i = 0; st == PB_OK && i < f->n; i++) {
    c->bench[f->v[i].bench].rows[f->v[i].row].change = out[i];
    c->ntested_time += !isnan(out[i].p_adjusted);
  }
  free(a);
  free(b);
  free(na);
  free(nb);
  free(out);
  return st;
}

/* True when benchmarker name is compared: names lists it, or is NULL. */
static bool wanted(const char *name, const char *const *names, size_t nnames) {
  if (!names) return true;
  for (size_t i = 0; i < nnames; i++)
    if (strcmp(names[i], name) == 0) return true;
  return false;
}

/* Every wanted benchmarker of a's ranks also in b's, in order of first appearance. */
static int add_benches(family *f, pb_comparison *c, const pb_run *a, const pb_run *b,
                       const char *const *names, size_t nnames, bool probes) {
  size_t n = pb_cli_bench_names(a, NULL, 0);
  const char **all = malloc((n ? n : 1) * sizeof *all);
  c->bench = calloc(n ? n : 1, sizeof *c->bench);
  int st = (all && c->bench) ? PB_OK : PB_ENOMEM;
  if (st == PB_OK) pb_cli_bench_names(a, all, n);
  for (size_t i = 0; st == PB_OK && i < n; i++)
    if (wanted(all[i], names, nnames) && pb_cli_find_any(b, all[i]))
      st = add_bench(f, c, a, b, all[i], probes);
  free(all);
  return st;
}

int pb_cli_compare_ranks(const pb_run *a, const pb_run *b, const char *const *names, size_t nnames,
                         const pb_compare_params *params, bool probes, pb_comparison **out) {
  if (!out) return PB_EINVAL;
  *out = NULL;
  if (!a || !b || !params || !pb_run_rank_count(a) || !pb_run_rank_count(b)) return PB_EINVAL;
  pb_comparison *c = calloc(1, sizeof *c);
  if (!c) return PB_ENOMEM;
  family f = {NULL, 0, 0};
  int st = add_benches(&f, c, a, b, names, nnames, probes);
  if (st == PB_OK) st = judge(&f, c, params);
  family_free(&f);
  for (size_t i = 0; st == PB_OK && i < c->nbench; i++)
    pb_compare_sort_rows(c->bench[i].rows, c->bench[i].nrows);
  if (st != PB_OK) {
    pb_comparison_free(c);
    return st;
  }
  *out = c;
  return PB_OK;
}

/* "1.88 -> 1.00", "3 -> 0": a per-rank figure before and after ("-": none). */
static void before_after(double x, double y, int prec, char *buf, size_t n) {
  char sx[24] = "-", sy[24] = "-";
  if (!isnan(x)) snprintf(sx, sizeof sx, "%.*f", prec, x);
  if (!isnan(y)) snprintf(sy, sizeof sy, "%.*f", prec, y);
  snprintf(buf, n, "%s -> %s", sx, sy);
}

int pb_cli_rank_extras(const pb_run *a, const pb_run *b, const char *bench, const char *topic,
                       pb_rank_spread *sa, pb_rank_spread *sb) {
  int st = pb_run_rank_spread(a, bench, topic, sa);
  return st == PB_OK ? pb_run_rank_spread(b, bench, topic, sb) : st;
}

int pb_cli_print_rank_extras(FILE *f, const pb_run *a, const pb_run *b, const pb_compare_bench *cb,
                             int wt) {
  fprintf(f, "  ");
  pb_cli_pad(f, "across ranks", wt, 1);
  fprintf(f, " %-20s %s\n", "max/mean", "slowest rank");
  for (size_t r = 0; r < cb->ntime; r++) {
    pb_rank_spread sa, sb;
    int st = pb_cli_rank_extras(a, b, cb->name, cb->rows[r].name, &sa, &sb);
    if (st != PB_OK) return st;
    char im[64], sl[64], name[128];
    before_after(sa.imbalance, sb.imbalance, 2, im, sizeof im);
    before_after(sa.ranks ? sa.max_rank : NAN, sb.ranks ? sb.max_rank : NAN, 0, sl, sizeof sl);
    pb_cli_ellipsize(cb->rows[r].name, wt, name, sizeof name);
    fprintf(f, "  ");
    pb_cli_pad(f, name, wt, 1);
    fprintf(f, " %-20s %s\n", im, sl);
  }
  return PB_OK;
}
