/*
 * compare_runs.c - pb_compare_runs: the rows of "porter-bench compare" for
 * two loaded runs. Rows are laid out first, each tested row queued with its
 * two samples in one of two families (time, memory); each family then goes
 * through pb_compare_samples at once, so that Holm's correction spans every
 * topic of every benchmarker of the pair of runs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A tested row waiting for its verdict. */
typedef struct pending {
  const double *a, *b;
  size_t na, nb;
  pb_compare_row *row;
} pending;

typedef struct family {
  pending *v;
  size_t n, cap;
} family;

/* Work state: the two families and the memory samples built for them. */
typedef struct builder {
  family time, mem;
  double **owned;
  size_t nowned, capowned;
} builder;

static int family_add(family *f, pending p) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 16;
    pending *v = realloc(f->v, cap * sizeof *v);
    if (!v) return PB_ENOMEM;
    f->v = v;
    f->cap = cap;
  }
  f->v[f->n++] = p;
  return PB_OK;
}

/* Keeps v until the builder is freed; frees it and fails when out of memory. */
static int builder_own(builder *bd, double *v) {
  if (bd->nowned == bd->capowned) {
    size_t cap = bd->capowned ? 2 * bd->capowned : 8;
    double **o = realloc(bd->owned, cap * sizeof *o);
    if (!o) {
      free(v);
      return PB_ENOMEM;
    }
    bd->owned = o;
    bd->capowned = cap;
  }
  bd->owned[bd->nowned++] = v;
  return PB_OK;
}

static void builder_free(builder *bd) {
  for (size_t i = 0; i < bd->nowned; i++) free(bd->owned[i]);
  free(bd->owned);
  free(bd->time.v);
  free(bd->mem.v);
}

/* Tested rows join the family; others get their present side's median. */
static int queue_row(family *f, pb_compare_row *row, const double *a, size_t na, const double *b,
                     size_t nb) {
  if (row->in_a && row->in_b) return family_add(f, (pending){a, b, na, nb, row});
  row->change.p_adjusted = NAN;
  return pb_shift_compute(a, row->in_a ? na : 0, b, row->in_b ? nb : 0, 0.95, &row->change.shift);
}

/* ---- time rows -------------------------------------------------------------- */

static int add_time_row(builder *bd, pb_compare_bench *cb, const pb_record *ra, const pb_record *rb,
                        const char *name) {
  long ia = pb_record_topic_index(ra, name), ib = pb_record_topic_index(rb, name);
  pb_compare_row *row = &cb->rows[cb->nrows++];
  *row = (pb_compare_row){.name = name,
                          .kind = PB_COMPARE_TIME,
                          .in_a = ia >= 0,
                          .in_b = ib >= 0,
                          .probe = pb_topic_is_probe(name)};
  const double *va = ia >= 0 ? pb_record_absolutes(ra, (size_t)ia) : NULL;
  const double *vb = ib >= 0 ? pb_record_absolutes(rb, (size_t)ib) : NULL;
  return queue_row(&bd->time, row, va, pb_record_iter_count(ra), vb, pb_record_iter_count(rb));
}

static int add_time_rows(builder *bd, pb_compare_bench *cb, const pb_record *ra,
                         const pb_record *rb, bool with_probes) {
  int st = PB_OK;
  for (size_t t = 0; st == PB_OK && t < pb_record_topic_count(ra); t++) {
    const char *name = pb_record_topic(ra, t);
    if (with_probes || !pb_topic_is_probe(name)) st = add_time_row(bd, cb, ra, rb, name);
  }
  for (size_t t = 0; st == PB_OK && t < pb_record_topic_count(rb); t++) {
    const char *name = pb_record_topic(rb, t);
    if (pb_record_topic_index(ra, name) < 0 && (with_probes || !pb_topic_is_probe(name)))
      st = add_time_row(bd, cb, ra, rb, name);
  }
  cb->ntime = cb->nrows;
  return st;
}

/* Significant rows, then tested ones, then those of a missing topic, GLOBAL last. */
static int row_rank(const pb_compare_row *r) {
  if (strcmp(r->name, "GLOBAL") == 0) return 3;
  if (!(r->in_a && r->in_b)) return 2;
  return r->change.significant ? 0 : 1;
}

static int cmp_impact(const void *pa, const void *pb) {
  const pb_compare_row *a = pa, *b = pb;
  int ra = row_rank(a), rb = row_rank(b);
  if (ra != rb) return ra - rb;
  double sa = fabs(a->change.shift.shift), sb = fabs(b->change.shift.shift);
  if (isnan(sa) != isnan(sb)) return isnan(sa) ? 1 : -1;
  if (sa != sb && !isnan(sa)) return sa > sb ? -1 : 1;
  return strcmp(a->name, b->name);
}

void pb_compare_sort_rows(pb_compare_row *rows, size_t n) {
  if (rows && n > 1) qsort(rows, n, sizeof *rows, cmp_impact);
}

/* ---- memory rows ------------------------------------------------------------ */

/* Per memory iteration, the largest peak-or-RSS (heap false) or heap value. */
static double *memory_per_iter(const pb_record *r, bool heap, size_t *n) {
  size_t nrec = 0, ni = pb_record_memory_iter_count(r);
  const pb_mem_record *m = pb_record_memory(r, &nrec);
  double *v = malloc((ni ? ni : 1) * sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < ni; i++) v[i] = NAN;
  for (size_t k = 0; k < nrec; k++) {
    double x = heap ? m[k].heap : fmax(m[k].peak, m[k].rss); /* fmax skips a NAN */
    if (m[k].iter < ni && !isnan(x) && !(v[m[k].iter] >= x)) v[m[k].iter] = x;
  }
  *n = ni;
  return v;
}

/* The last finite RSS (heap false) or heap value recorded; NAN when none. */
static double memory_end(const pb_record *r, bool heap) {
  size_t nrec = 0;
  const pb_mem_record *m = pb_record_memory(r, &nrec);
  for (size_t k = nrec; k-- > 0;) {
    double x = heap ? m[k].heap : m[k].rss;
    if (isfinite(x)) return x;
  }
  return NAN;
}

static int add_memory_samples(builder *bd, pb_compare_bench *cb, const pb_record *ra,
                              const pb_record *rb, bool heap, bool in_a, bool in_b) {
  pb_compare_row *row = &cb->rows[cb->nrows++];
  *row = (pb_compare_row){
      .name = heap ? "heap" : "peak", .kind = PB_COMPARE_MEMORY, .in_a = in_a, .in_b = in_b};
  size_t na = 0, nb = 0;
  double *va = memory_per_iter(ra, heap, &na);
  int st = va ? builder_own(bd, va) : PB_ENOMEM;
  double *vb = st == PB_OK ? memory_per_iter(rb, heap, &nb) : NULL;
  st = vb ? builder_own(bd, vb) : PB_ENOMEM;
  return st == PB_OK ? queue_row(&bd->mem, row, va, na, vb, nb) : st;
}

static void add_memory_end(pb_compare_bench *cb, const pb_record *ra, const pb_record *rb,
                           bool heap) {
  pb_compare_row *row = &cb->rows[cb->nrows++];
  double a = memory_end(ra, heap), b = memory_end(rb, heap);
  *row = (pb_compare_row){.name = heap ? "heap_end" : "rss_end",
                          .kind = PB_COMPARE_MEMORY_END,
                          .in_a = !isnan(a),
                          .in_b = !isnan(b)};
  pb_shift *s = &row->change.shift;
  *s = (pb_shift){.median_a = a,
                  .median_b = b,
                  .shift = b - a,
                  .ci_low = NAN,
                  .ci_high = NAN,
                  .rel = a != 0 ? (b - a) / fabs(a) : NAN,
                  .rel_low = NAN,
                  .rel_high = NAN,
                  .u = NAN,
                  .p_value = NAN,
                  .too_few = true};
  row->change.p_adjusted = NAN;
  row->change.direction = b > a ? 1 : (b < a ? -1 : 0);
}

static int add_memory_rows(builder *bd, pb_compare_bench *cb, const pb_record *ra,
                           const pb_record *rb) {
  bool ma = pb_record_memory_count(ra) > 0, mb = pb_record_memory_count(rb) > 0;
  bool ha = pb_record_has_heap(ra), hb = pb_record_has_heap(rb);
  int st = PB_OK;
  if (ma || mb) st = add_memory_samples(bd, cb, ra, rb, false, ma, mb);
  if (st == PB_OK && (ha || hb)) st = add_memory_samples(bd, cb, ra, rb, true, ha, hb);
  if (ma || mb) add_memory_end(cb, ra, rb, false);
  if (ha || hb) add_memory_end(cb, ra, rb, true);
  return st;
}

/* ---- the whole ---------------------------------------------------------------- */

static int fill_bench(builder *bd, pb_compare_bench *cb, const pb_record *ra, const pb_record *rb,
                      bool with_probes) {
  size_t cap = pb_record_topic_count(ra) + pb_record_topic_count(rb) + 4;
  cb->name = pb_record_name(ra);
  cb->iters_a = pb_record_iter_count(ra);
  cb->iters_b = pb_record_iter_count(rb);
  cb->rows = calloc(cap, sizeof *cb->rows);
  if (!cb->rows) return PB_ENOMEM;
  int st = add_time_rows(bd, cb, ra, rb, with_probes);
  return st == PB_OK ? add_memory_rows(bd, cb, ra, rb) : st;
}

/* Runs a family through pb_compare_samples and hands the verdicts to its rows. */
static int judge(const family *f, const pb_compare_params *params) {
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
  for (size_t i = 0; st == PB_OK && i < f->n; i++) f->v[i].row->change = out[i];
  free(a);
  free(b);
  free(na);
  free(nb);
  free(out);
  return st;
}

static size_t count_tested(const family *f) {
  size_t k = 0;
  for (size_t i = 0; i < f->n; i++) k += !isnan(f->v[i].row->change.p_adjusted);
  return k;
}

static bool wanted(const char *name, const char *const *names, size_t nnames) {
  if (!names) return true;
  for (size_t i = 0; i < nnames; i++)
    if (names[i] && strcmp(names[i], name) == 0) return true;
  return false;
}

static int compare_benches(builder *bd, pb_comparison *c, const pb_run *a, const pb_run *b,
                           const char *const *names, size_t nnames, const pb_compare_params *params,
                           bool with_probes) {
  int st = PB_OK;
  for (size_t i = 0; st == PB_OK && i < pb_run_record_count(a); i++) {
    const pb_record *ra = pb_run_record(a, i), *rb = pb_run_find(b, pb_record_name(ra));
    if (rb && wanted(pb_record_name(ra), names, nnames))
      st = fill_bench(bd, &c->bench[c->nbench++], ra, rb, with_probes);
  }
  if (st == PB_OK) st = judge(&bd->time, params);
  if (st == PB_OK) st = judge(&bd->mem, params);
  c->ntested_time = count_tested(&bd->time);
  c->ntested_memory = count_tested(&bd->mem);
  for (size_t i = 0; st == PB_OK && i < c->nbench; i++)
    pb_compare_sort_rows(c->bench[i].rows, c->bench[i].ntime);
  return st;
}

int pb_compare_runs(const pb_run *a, const pb_run *b, const char *const *names, size_t nnames,
                    const pb_compare_params *params, bool with_probes, pb_comparison **out) {
  if (out) *out = NULL;
  if (!a || !b || !params || !out) return PB_EINVAL;
  pb_comparison *c = calloc(1, sizeof *c);
  size_t n = pb_run_record_count(a);
  if (!c || !(c->bench = calloc(n ? n : 1, sizeof *c->bench))) {
    free(c);
    return PB_ENOMEM;
  }
  builder bd = {0};
  int st = compare_benches(&bd, c, a, b, names, nnames, params, with_probes);
  builder_free(&bd);
  if (st != PB_OK) {
    pb_comparison_free(c);
    return st;
  }
  *out = c;
  return PB_OK;
}

void pb_comparison_free(pb_comparison *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nbench; i++) free(c->bench[i].rows);
  free(c->bench);
  free(c);
}
