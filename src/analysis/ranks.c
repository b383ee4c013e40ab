/*
 * ranks.c - statistics across the ranks of a multi-rank run, built on the
 * public per-run API.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

double pb_run_rank_mean(const pb_run *run, size_t i, const char *record, const char *topic) {
  const pb_record *r = pb_run_find(pb_run_rank(run, i), record);
  long t = r && topic ? pb_record_topic_index(r, topic) : -1;
  pb_stats st;
  if (t < 0 || pb_record_stats(r, (size_t)t, &st) != PB_OK || st.count == 0) return NAN;
  return st.mean;
}

int pb_run_rank_spread(const pb_run *run, const char *record, const char *topic,
                       pb_rank_spread *out) {
  if (!out) return PB_EINVAL;
  *out = (pb_rank_spread){0, NAN, NAN, NAN, -1, -1, NAN};
  size_t n = pb_run_rank_count(run);
  if (!record || !topic || n == 0) return PB_EINVAL;
  double *means = malloc(n * sizeof *means);
  if (!means) return PB_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    double m = pb_run_rank_mean(run, i, record, topic);
    if (isnan(m)) continue;
    means[k++] = m;
    int id = pb_run_rank_id(run, i);
    if (out->max_rank < 0 || m > out->max) {
      out->max = m;
      out->max_rank = id;
    }
    if (out->min_rank < 0 || m < out->min) {
      out->min = m;
      out->min_rank = id;
    }
  }
  out->ranks = k;
  if (k) out->mean = pb_sum_pairwise(means, k) / (double)k;
  if (k && out->mean > 0) out->imbalance = out->max / out->mean;
  free(means);
  return PB_OK;
}
