/*
 * stats.c - the original's summary statistics (numpy's arithmetic, so the
 * numbers match its _STEP_DICT_SUMMARY.json bit for bit) and the plain
 * Mann-Whitney U test (compare's statistics are in compare.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* numpy's pairwise summation of doubles (umath loops, PW_BLOCKSIZE 128). */
static double pairwise(const double *a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; i++) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    size_t i;
    for (i = 8; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; j++) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

double pb_sum_pairwise(const double *v, size_t n) {
  if (!v) return 0.;
  /* a reduction starts from the identity 0 and adds the pairwise sum */
  return 0. + pairwise(v, n);
}

double pb_percentile_sorted(const double *v, size_t n, double q) {
  if (!v || n == 0) return NAN;
  /* numpy "linear": virtual index (n - 1) * q / 100, then _lerp */
  double idx = ((double)(n - 1)) * (q / 100.0);
  if (idx <= 0) return v[0];
  if (idx >= (double)(n - 1)) return v[n - 1];
  double lo = floor(idx);
  size_t i = (size_t)lo;
  double t = idx - lo;
  double a = v[i], b = v[i + 1];
  double diff = b - a;
  if (t >= 0.5) return b - diff * (1 - t);
  return a + diff * t;
}

static int cmp_double(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

/* Sift-down of a max-heap, for the heapsort fallback. */
static void sift(double *v, size_t i, size_t n) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && v[c + 1] > v[c]) c++;
    if (!(v[c] > v[i])) return;
    double t = v[i];
    v[i] = v[c];
    v[c] = t;
    i = c;
  }
}

/* Introsort of doubles without NANs: quicksort with an inline comparison
 * (qsort's callback costs about three times more), insertion sort for
 * small ranges, heapsort when the recursion gets too deep (never
 * quadratic, whatever the input). */
static void introsort(double *v, size_t n, int depth) {
  while (n > 24) {
    if (depth-- == 0) {
      for (size_t i = n / 2; i-- > 0;) sift(v, i, n);
      for (size_t i = n - 1; i > 0; i--) {
        double t = v[0];
        v[0] = v[i];
        v[i] = t;
        sift(v, 0, i);
      }
      return;
    }
    double a = v[0], b = v[n / 2], c = v[n - 1];
    double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = 0, j = n - 1;
    for (;;) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i >= j) break;
      double t = v[i];
      v[i] = v[j];
      v[j] = t;
      i++;
      j--;
    }
    /* recurse into the smaller part, loop on the larger */
    size_t left = j + 1;
    if (left < n - left) {
      introsort(v, left, depth);
      v += left;
      n -= left;
    } else {
      introsort(v + left, n - left, depth);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    double x = v[i];
    size_t k = i;
    while (k > 0 && v[k - 1] > x) {
      v[k] = v[k - 1];
      k--;
    }
    v[k] = x;
  }
}

/* The recursion budget of an introsort or a selection of n values. */
static int depth_for(size_t n) {
  int depth = 2;
  for (size_t m = n; m > 1; m >>= 1) depth += 2;
  return depth;
}

void pb__sort_doubles(double *v, size_t n) { introsort(v, n, depth_for(n)); }

/* Hoare partition of v[0..n) (n > 2) around the median of three: returns left, with
 * v[0..left) <= v[left..n) element by element, 0 < left < n. */
static size_t partition(double *v, size_t n) {
  double a = v[0], b = v[n / 2], c = v[n - 1];
  double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
  size_t i = 0, j = n - 1;
  for (;;) {
    while (v[i] < pivot) i++;
    while (v[j] > pivot) j--;
    if (i >= j) return j + 1;
    double t = v[i];
    v[i] = v[j];
    v[j] = t;
    i++;
    j--;
  }
}

/*
 * Puts at each position ks[0..nk) (ascending, < n) of v[0..n) the value a full sort
 * would put there (quickselect on several ranks at once: each range is partitioned only
 * while it holds a wanted rank); ks is overwritten. Values without NANs; small or too deep ranges
 * are sorted, so the cost stays O(n log n) at worst and is about 3n for a few ranks.
 */
static void select_ranks(double *v, size_t n, size_t *ks, size_t nk, int depth) {
  while (nk > 0) {
    if (n <= 24 || depth-- == 0) {
      introsort(v, n, depth < 0 ? 0 : depth);
      return;
    }
    size_t left = partition(v, n), nl = 0;
    while (nl < nk && ks[nl] < left) nl++;
    /* recurse into the side with fewer ranks, loop on the other */
    if (nl <= nk - nl) {
      select_ranks(v, left, ks, nl, depth);
      ks += nl;
      for (size_t i = 0; i < nk - nl; i++) ks[i] -= left;
      nk -= nl;
      v += left;
      n -= left;
    } else {
      for (size_t i = nl; i < nk; i++) ks[i] -= left;
      select_ranks(v + left, n - left, ks + nl, nk - nl, depth);
      nk = nl;
      n = left;
    }
  }
}

/* Buckets of the histogram that finds where the wanted ranks lie (16 KiB of counts). */
#define BUCKETS 4096

/* An integer key of x (not NAN) in the order of the doubles. */
static inline uint64_t order_key(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

/* Each wanted rank's bucket and its rank among that bucket's values, from the counts. */
static void locate_ranks(const uint32_t *count, const size_t *ks, size_t nk, size_t *bucket,
                         size_t *within) {
  size_t below = 0, b = 0;
  for (size_t j = 0; j < nk; j++) {
    while (below + count[b] <= ks[j]) below += count[b++];
    bucket[j] = b;
    within[j] = ks[j] - below;
  }
}

/*
 * Puts at each position ks[0..nk) of v the value a full sort would put there, touching
 * only the values that can be there: a histogram of v in BUCKETS equal slices of its
 * keys from lo to hi finds each rank's bucket, then those buckets' values alone are
 * copied out and selected in. Two passes over v, without the mispredicted branches of
 * partitioning. Returns false (v untouched) when the wanted buckets hold over a quarter
 * of the values (select in v instead) or memory is short.
 */
static bool select_bucketed(double *v, size_t m, const size_t *ks, size_t nk, double lo,
                            double hi) {
  const uint64_t klo = order_key(lo), span = order_key(hi) - klo;
  int shift = 0;
  while ((span >> shift) >= BUCKETS) shift++;
  uint32_t *count = calloc(BUCKETS, sizeof *count);
  int16_t *slot = malloc(BUCKETS * sizeof *slot);
  size_t bucket[10], within[10], start[11], fill[10], nw = 0, total = 0;
  double *out = NULL;
  bool done = false;
  if (count && slot && nk <= 10 && m < UINT32_MAX) {
    for (size_t i = 0; i < m; i++) count[(order_key(v[i]) - klo) >> shift]++;
    locate_ranks(count, ks, nk, bucket, within);
    memset(slot, 0xFF, BUCKETS * sizeof *slot); /* -1: not wanted */
    for (size_t j = 0; j < nk; j++) {
      if (slot[bucket[j]] >= 0) continue;
      slot[bucket[j]] = (int16_t)nw;
      start[nw] = fill[nw] = total;
      total += count[bucket[j]];
      nw++;
    }
    start[nw] = total;
    out = total <= m / 4 ? malloc(total * sizeof *out) : NULL;
  }
  if (out) {
    for (size_t i = 0; i < m; i++) {
      int s = slot[(order_key(v[i]) - klo) >> shift];
      if (s >= 0) out[fill[s]++] = v[i];
    }
    for (size_t w = 0; w < nw; w++) { /* the ranks in bucket w, relative to it */
      size_t local[10], nl = 0, n = start[w + 1] - start[w];
      for (size_t j = 0; j < nk; j++)
        if (slot[bucket[j]] == (int16_t)w) local[nl++] = within[j];
      select_ranks(out + start[w], n, local, nl, depth_for(n));
      for (size_t j = 0; j < nk; j++)
        if (slot[bucket[j]] == (int16_t)w) v[ks[j]] = out[start[w] + within[j]];
    }
    done = true;
  }
  free(out);
  free(slot);
  free(count);
  return done;
}

/* The percentiles pb_stats_compute reports. */
static const double PERCENTILES[5] = {25, 50, 75, 90, 99};

/*
 * Reorders v[0..m) so that every position pb_percentile_sorted reads for PERCENTILES,
 * and the first and last, hold what they would hold sorted: the minimum and maximum by
 * a scan, the ranks around each virtual index by select_ranks (instead of a full sort).
 */
static void order_for_percentiles(double *v, size_t m) {
  if (m <= 64) {
    pb__sort_doubles(v, m);
    return;
  }
  size_t ks[2 * 5], nk = 0;
  for (int q = 0; q < 5; q++) {
    /* pb_percentile_sorted's index, computed the same way */
    double idx = ((double)(m - 1)) * (PERCENTILES[q] / 100.0);
    size_t i = (size_t)floor(idx);
    for (size_t k = i; k <= i + 1; k++)
      if (k > 0 && k < m - 1 && (nk == 0 || ks[nk - 1] < k)) ks[nk++] = k;
  }
  double lo = v[0], hi = v[0];
  for (size_t i = 1; i < m; i++) {
    lo = v[i] < lo ? v[i] : lo;
    hi = v[i] > hi ? v[i] : hi;
  }
  if (!(lo < hi) || !select_bucketed(v, m, ks, nk, lo, hi))
    select_ranks(v, m, ks, nk, depth_for(m));
  v[0] = lo; /* v is a scratch copy: its other positions are not read */
  v[m - 1] = hi;
}

int pb_stats_compute(const double *values, size_t n, pb_stats *out) {
  if (!out || (!values && n)) return PB_EINVAL;
  pb_stats s = {0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  /* one scratch array, filled from values three times (each time in iteration order, as
   * numpy sums): the values, then their squared deviations, then the values the filter
   * keeps; one array instead of two saves a page fault per 512 values */
  double *v = n ? malloc(n * sizeof *v) : NULL;
  if (n && !v) return PB_ENOMEM;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(values[i])) v[m++] = values[i];
  s.count = m;
  if (m == 0) {
    free(v);
    *out = s;
    return PB_OK;
  }
  s.mean = pb_sum_pairwise(v, m) / (double)m;
  order_for_percentiles(v, m);
  /* the original's min is 0 unless some value is not (then min or max is not) */
  s.min = (v[0] != 0 || v[m - 1] != 0) ? v[0] : 0;
  s.max = v[m - 1];
  double p75 = pb_percentile_sorted(v, m, 75), p25 = pb_percentile_sorted(v, m, 25);
  s.median = pb_percentile_sorted(v, m, 50);
  s.p90 = pb_percentile_sorted(v, m, 90);
  s.p99 = pb_percentile_sorted(v, m, 99);

  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(values[i])) continue;
    double d = values[i] - s.mean;
    v[k++] = d * d;
  }
  s.stddev = sqrt(pb_sum_pairwise(v, m) / (double)m);

  double iqr = p75 - p25;
  double upper = p75 + iqr * 1.5, lower = p25 - iqr * 1.5;
  if (lower < 0) lower = 0; /* max(lower_bound, filter_below = 0) */
  k = 0;
  for (size_t i = 0; i < n; i++) /* NAN fails both tests */
    if (values[i] <= upper && values[i] >= lower) v[k++] = values[i];
  s.quantile_filtered = k ? pb_sum_pairwise(v, k) / (double)k : NAN;
  free(v);
  *out = s;
  return PB_OK;
}

/* ---- Mann-Whitney U ------------------------------------------------------ */

typedef struct tagged {
  double v;
  int side;
} tagged;

static int cmp_tagged(const void *pa, const void *pb) {
  return cmp_double(&((const tagged *)pa)->v, &((const tagged *)pb)->v);
}

int pb_utest_compute(const double *a, size_t na, const double *b, size_t nb, pb_utest *out) {
  if (!out || (!a && na) || (!b && nb)) return PB_EINVAL;
  out->u = NAN;
  out->p_value = NAN;
  tagged *t = malloc((na + nb + 1) * sizeof *t);
  if (!t) return PB_ENOMEM;
  size_t n1 = 0, n2 = 0;
  for (size_t i = 0; i < na; i++)
    if (!isnan(a[i])) t[n1++ + n2] = (tagged){a[i], 0};
  for (size_t i = 0; i < nb; i++)
    if (!isnan(b[i])) t[n1 + n2++] = (tagged){b[i], 1};
  out->too_few = n1 < PB_UTEST_MIN_SAMPLES || n2 < PB_UTEST_MIN_SAMPLES;
  size_t n = n1 + n2;
  if (n1 == 0 || n2 == 0) {
    free(t);
    return PB_OK;
  }
  qsort(t, n, sizeof *t, cmp_tagged);
  double r1 = 0, ties = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && t[j].v == t[i].v) j++;
    double rank = (double)(i + 1 + j) / 2.0; /* mean of ranks i+1 .. j */
    for (size_t k = i; k < j; k++)
      if (t[k].side == 0) r1 += rank;
    double c = (double)(j - i);
    ties += c * c * c - c;
    i = j;
  }
  free(t);
  double dn1 = (double)n1, dn2 = (double)n2, dn = (double)n;
  out->u = r1 - dn1 * (dn1 + 1) / 2;
  double mu = dn1 * dn2 / 2;
  double sigma = sqrt(dn1 * dn2 / 12.0 * ((dn + 1) - ties / (dn * (dn - 1))));
  if (!(sigma > 0)) return PB_OK;
  double z = (fabs(out->u - mu) - 0.5) / sigma; /* with continuity correction, as scipy */
  if (z < 0) z = 0;
  double p = erfc(z / sqrt(2.0));
  out->p_value = p > 1 ? 1 : p;
  return PB_OK;
}
