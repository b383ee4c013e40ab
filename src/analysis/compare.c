/*
 * compare.c - the statistics of "porter-bench compare": the Hodges-Lehmann
 * median shift of two samples with its distribution-free confidence
 * interval, the Mann-Whitney (Wilcoxon rank-sum) test that goes with it,
 * and Holm's correction over the topics compared.
 *
 * The shift is the median of the n x m differences b_j - a_i. They are
 * never listed: with both samples sorted, the number of differences <= t
 * is counted in O(n + m) by one two-pointer walk (floating-point
 * subtraction is monotone, so the walk agrees with the differences as
 * computed). The k-th smallest difference is found by bisecting on values
 * until at most n + m differences remain in the bracket, which are then
 * listed and sorted (about 20 counts for 100,000 values a side; bisection
 * over the 64-bit ordered representation of doubles, at most 64 counts
 * and no memory, when the list cannot be allocated). Four such selections
 * (the median's two middle values, the two interval bounds) cost
 * O((n + m) log(n + m)) each: exact, no sampling, for any n and m.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Exact null distribution up to this many values a side (without ties). */
#define EXACT_MAX 50

/* ---- order statistics of the pairwise differences ------------------------ */

/* Orders doubles as unsigned integers: a < b iff key(a) < key(b). */
static uint64_t dkey(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return (u >> 63) ? ~u : (u | (UINT64_C(1) << 63));
}

static double dval(uint64_t k) {
  uint64_t u = (k >> 63) ? (k & ~(UINT64_C(1) << 63)) : ~k;
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* Number of pairs with y[j] - x[i] <= t; x (n) and y (m) sorted ascending. */
static uint64_t count_le(const double *x, size_t n, const double *y, size_t m, double t) {
  uint64_t c = 0;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) { /* x grows: more j qualify */
    while (j < m && y[j] - x[i] <= t) j++;
    c += j;
  }
  return c;
}

/* The k-th smallest (1-based, 1 <= k <= n m) of the differences y[j] - x[i],
 * by bisection over the ordered representation of doubles: at most 64
 * counts, no memory. The fallback of kth_diff. */
static double kth_diff_keys(const double *x, size_t n, const double *y, size_t m, uint64_t k) {
  uint64_t lo = dkey(y[0] - x[n - 1]), hi = dkey(y[m - 1] - x[0]);
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (count_le(x, n, y, m, dval(mid)) >= k)
      hi = mid;
    else
      lo = mid + 1;
  }
  return dval(lo) + 0.0; /* -0 becomes +0 */
}

/* The differences in (lo, hi] into buf, in no order. */
static void gather(const double *x, size_t n, const double *y, size_t m, double lo, double hi,
                   double *buf) {
  size_t j0 = 0, j1 = 0, k = 0;
  for (size_t i = 0; i < n; i++) {
    while (j0 < m && y[j0] - x[i] <= lo) j0++;
    while (j1 < m && y[j1] - x[i] <= hi) j1++;
    for (size_t j = j0; j < j1; j++) buf[k++] = y[j] - x[i];
  }
}

/* A double strictly between lo and hi; lo when they are adjacent. */
static double midpoint(double lo, double hi) {
  double mid = lo / 2 + hi / 2;
  if (mid > lo && mid < hi) return mid;
  uint64_t a = dkey(lo), b = dkey(hi);
  return dval(a + (b - a) / 2);
}

/* The k-th smallest (1-based, 1 <= k <= n m) of the differences y[j] - x[i]:
 * bisection on values keeping count_le(lo) < k <= count_le(hi) until at
 * most n + m differences lie in (lo, hi], which are then listed and
 * sorted. About 20 counts for 100,000 values a side. */
static double kth_diff(const double *x, size_t n, const double *y, size_t m, uint64_t k) {
  double lo = y[0] - x[n - 1], hi = y[m - 1] - x[0];
  uint64_t clo = count_le(x, n, y, m, lo), chi = (uint64_t)n * m;
  if (clo >= k) return lo + 0.0;
  for (;;) {
    if (chi - clo <= n + m) {
      double *buf = malloc((size_t)(chi - clo) * sizeof *buf);
      if (!buf) return kth_diff_keys(x, n, y, m, k);
      gather(x, n, y, m, lo, hi, buf);
      pb__sort_doubles(buf, (size_t)(chi - clo));
      double v = buf[k - clo - 1];
      free(buf);
      return v + 0.0;
    }
    double mid = midpoint(lo, hi);
    if (mid == lo) return hi + 0.0; /* nothing between: every candidate is hi */
    uint64_t c = count_le(x, n, y, m, mid);
    if (c >= k) {
      hi = mid;
      chi = c;
    } else {
      lo = mid;
      clo = c;
    }
  }
}

/* ---- ranks --------------------------------------------------------------- */

/* U of y (pairs with y_j > x_i, ties counting one half) and the tie term
 * sum(t^3 - t) over the groups of equal values, by merging the sorted samples. */
static void rank_sums(const double *x, size_t n, const double *y, size_t m, double *u,
                      double *ties) {
  size_t i = 0, j = 0;
  double below_x = 0; /* x values below the current group */
  *u = 0;
  *ties = 0;
  while (i < n || j < m) {
    double v = (j >= m || (i < n && x[i] < y[j])) ? x[i] : y[j];
    size_t cx = 0, cy = 0;
    while (i < n && x[i] == v) i++, cx++;
    while (j < m && y[j] == v) j++, cy++;
    *u += (double)cy * (below_x + 0.5 * (double)cx);
    below_x += (double)cx;
    double c = (double)(cx + cy);
    *ties += c * c * c - c;
  }
}

/* P(U <= u) for u = 0 .. n m under the null hypothesis, no ties (n, m <=
 * EXACT_MAX): d[i][j](u) = i/(i+j) d[i-1][j](u - j) + j/(i+j) d[i][j-1](u),
 * kept as probabilities so nothing overflows. NULL when out of memory. */
static double *exact_cdf(size_t n, size_t m) {
  size_t len = n * m + 1;
  double *prev = calloc((m + 1) * len, sizeof *prev);
  double *cur = calloc((m + 1) * len, sizeof *cur);
  if (!prev || !cur) {
    free(prev);
    free(cur);
    return NULL;
  }
  for (size_t j = 0; j <= m; j++) prev[j * len] = 1; /* i = 0: U is 0 */
  for (size_t i = 1; i <= n; i++) {
    memset(cur, 0, (m + 1) * len * sizeof *cur);
    cur[0] = 1; /* j = 0 */
    for (size_t j = 1; j <= m; j++) {
      double wa = (double)i / (double)(i + j), wb = (double)j / (double)(i + j);
      const double *da = prev + j * len, *db = cur + (j - 1) * len;
      double *d = cur + j * len;
      for (size_t u = 0; u <= i * j; u++)
        d[u] = (u >= j ? wa * da[u - j] : 0) + (u <= (i * j - i) ? wb * db[u] : 0);
    }
    double *t = prev;
    prev = cur;
    cur = t;
  }
  double *out = malloc(len * sizeof *out);
  if (out) {
    double acc = 0;
    for (size_t u = 0; u < len; u++) out[u] = (acc += prev[m * len + u]);
  }
  free(prev);
  free(cur);
  return out;
}

/* z such that erfc(z / sqrt 2) = tail (two-sided normal quantile), by bisection. */
static double normal_quantile(double tail) {
  double lo = 0, hi = 40;
  for (int it = 0; it < 200; it++) {
    double mid = (lo + hi) / 2;
    if (erfc(mid / sqrt(2.0)) > tail)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

/* ---- one pair of samples -------------------------------------------------- */

/* Copies the finite values of v (n) into a new sorted array; *m gets their count. */
static double *sorted_finite(const double *v, size_t n, size_t *m) {
  double *s = malloc((n ? n : 1) * sizeof *s);
  if (!s) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) s[k++] = v[i];
  pb__sort_doubles(s, k);
  *m = k;
  return s;
}

/* Exact p-value and CI rank for samples without ties; false when out of memory. */
static bool exact_test(pb_shift *o, double alpha, uint64_t *k) {
  double *cdf = exact_cdf(o->n_a, o->n_b);
  if (!cdf) return false;
  size_t nm = o->n_a * o->n_b, u = (size_t)o->u;
  double lower = cdf[u], upper = cdf[nm - u]; /* P(U >= u) = P(U <= nm - u): symmetric */
  double p = 2 * fmin(lower, upper);
  o->p_value = p > 1 ? 1 : p;
  /* the largest k with P(U <= k - 1) <= alpha / 2; 0 when none */
  *k = 0;
  while (*k < nm / 2 + 1 && cdf[*k] <= alpha / 2 * (1 + 1e-12)) (*k)++;
  free(cdf);
  o->exact = true;
  return true;
}

/* Normal approximation: p-value with tie and continuity correction, CI rank. */
static void normal_test(pb_shift *o, double alpha, double ties, uint64_t *k) {
  double dn1 = (double)o->n_a, dn2 = (double)o->n_b, dn = dn1 + dn2;
  double mu = dn1 * dn2 / 2;
  bool all_tied = ties == dn * dn * dn - dn;
  double sigma = all_tied ? 0 : sqrt(dn1 * dn2 / 12.0 * ((dn + 1) - ties / (dn * (dn - 1))));
  *k = 0;
  if (!(sigma > 0)) return; /* every value equal */
  double z = (fabs(o->u - mu) - 0.5) / sigma;
  double p = erfc((z < 0 ? 0 : z) / sqrt(2.0));
  o->p_value = p > 1 ? 1 : p;
  double kk = floor(mu - normal_quantile(alpha) * sigma + 0.5);
  *k = kk < 1 ? 0 : (uint64_t)kk;
}

static void fill_shift(pb_shift *o, const double *x, const double *y, double confidence,
                       double ties) {
  uint64_t nm = (uint64_t)o->n_a * o->n_b, k = 0;
  o->shift =
      (kth_diff(x, o->n_a, y, o->n_b, (nm + 1) / 2) + kth_diff(x, o->n_a, y, o->n_b, nm / 2 + 1)) /
      2;
  double alpha = 1 - confidence;
  bool exact = ties == 0 && o->n_a <= EXACT_MAX && o->n_b <= EXACT_MAX;
  if (!exact || !exact_test(o, alpha, &k)) normal_test(o, alpha, ties, &k);
  if (k >= 1 && k <= nm / 2) {
    o->ci_low = kth_diff(x, o->n_a, y, o->n_b, k);
    o->ci_high = kth_diff(x, o->n_a, y, o->n_b, nm + 1 - k);
  }
  if (o->median_a != 0) {
    o->rel = o->shift / fabs(o->median_a);
    o->rel_low = o->ci_low / fabs(o->median_a);
    o->rel_high = o->ci_high / fabs(o->median_a);
  }
}

int pb_shift_compute(const double *a, size_t na, const double *b, size_t nb, double confidence,
                     pb_shift *out) {
  if (!out || (!a && na) || (!b && nb) || !(confidence > 0 && confidence < 1)) return PB_EINVAL;
  pb_shift o = {.median_a = NAN,
                .median_b = NAN,
                .shift = NAN,
                .ci_low = NAN,
                .ci_high = NAN,
                .rel = NAN,
                .rel_low = NAN,
                .rel_high = NAN,
                .u = NAN,
                .p_value = NAN};
  size_t n = 0, m = 0;
  double *x = sorted_finite(a, na, &n), *y = sorted_finite(b, nb, &m);
  if (!x || !y) {
    free(x);
    free(y);
    return PB_ENOMEM;
  }
  o.n_a = n;
  o.n_b = m;
  o.too_few = n < PB_UTEST_MIN_SAMPLES || m < PB_UTEST_MIN_SAMPLES;
  o.median_a = pb_percentile_sorted(x, n, 50);
  o.median_b = pb_percentile_sorted(y, m, 50);
  if (n && m) {
    double ties;
    rank_sums(x, n, y, m, &o.u, &ties);
    fill_shift(&o, x, y, confidence, ties);
  }
  free(x);
  free(y);
  *out = o;
  return PB_OK;
}

/* ---- several topics --------------------------------------------------------- */

typedef struct pidx {
  double p;
  size_t i;
} pidx;

static int cmp_pidx(const void *pa, const void *pb) {
  const pidx *a = pa, *b = pb;
  if (a->p != b->p) return a->p < b->p ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

int pb_holm_adjust(const double *p, size_t n, double *adjusted) {
  if ((!p || !adjusted) && n) return PB_EINVAL;
  pidx *v = malloc((n ? n : 1) * sizeof *v);
  if (!v) return PB_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(p[i])) v[k++] = (pidx){p[i], i};
  qsort(v, k, sizeof *v, cmp_pidx);
  for (size_t i = 0; i < n; i++) adjusted[i] = NAN;
  double run = 0;
  for (size_t r = 0; r < k; r++) {
    double q = (double)(k - r) * v[r].p;
    run = fmax(run, q > 1 ? 1 : q); /* adjusted p-values never decrease with rank */
    adjusted[v[r].i] = run;
  }
  free(v);
  return PB_OK;
}

static bool valid_params(const pb_compare_params *p) {
  return p && p->alpha > 0 && p->alpha < 1 && p->threshold >= 0 && p->confidence > 0 &&
         p->confidence < 1;
}

int pb_compare_samples(const double *const *a, const size_t *na, const double *const *b,
                       const size_t *nb, size_t k, const pb_compare_params *params,
                       pb_change *out) {
  if ((k && (!a || !na || !b || !nb || !out)) || !valid_params(params)) return PB_EINVAL;
  double *p = calloc(k ? k : 1, sizeof *p), *adj = calloc(k ? k : 1, sizeof *adj);
  int st = (p && adj) ? PB_OK : PB_ENOMEM;
  for (size_t t = 0; st == PB_OK && t < k; t++) {
    memset(&out[t], 0, sizeof out[t]);
    st = pb_shift_compute(a[t], na[t], b[t], nb[t], params->confidence, &out[t].shift);
    p[t] = out[t].shift.too_few ? NAN : out[t].shift.p_value;
  }
  if (st == PB_OK) st = pb_holm_adjust(p, k, adj);
  for (size_t t = 0; st == PB_OK && t < k; t++) {
    pb_change *c = &out[t];
    c->p_adjusted = adj[t];
    c->direction = c->shift.shift > 0 ? 1 : (c->shift.shift < 0 ? -1 : 0);
    c->significant = !isnan(adj[t]) && adj[t] < params->alpha && !isnan(c->shift.rel) &&
                     fabs(c->shift.rel) > params->threshold;
  }
  free(p);
  free(adj);
  return st;
}
