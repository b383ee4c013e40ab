/*
 * chart_crono.c - every call in call order (iteration by iteration), with
 * the original's collapsing of repeated step sequences: a point per call or
 * per run of repetitions ("a || b x12"), coloured by step. GLOBAL is left
 * out (as the original does: it would flatten the steps), and so are the
 * memory probes unless asked for. Values above a cap (4 x the 75th
 * percentile of their step, as the times chart caps at 4 x P75 of GLOBAL)
 * are drawn on the cap as triangles; a log axis when the steps' typical
 * times span decades. Sparse steps are markers, dense ones a line per pixel
 * column through the column's min and max, so that it is legible from one
 * call to millions. Linear in calls + topics: calls are bucketed by topic
 * once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#define CRONO_MAX_PATTERN 5
#define CRONO_FILTER 0.05
#define OUTLIER_MULT 4.0
#define OUTLIER_PERCENTILE 75.0
#define LOG_RATIO 20.0

typedef struct seq_labels {
  const pb__seq_point *pts;
  const uint32_t *topic;
  const char *const *names;
} seq_labels;

static void label_point(size_t i, char *buf, size_t n, void *user) {
  const seq_labels *s = user;
  pb__seq_label(&s->pts[i], s->topic, s->names, buf, n);
}

/* Points of one record's shown calls, bucketed by topic. */
typedef struct crono_series {
  size_t n, npts, ntopics;
  uint32_t *iter, *topic;
  double *value, *x, *y;
  pb__seq_point *pts;
  size_t *start; /* points of topic t: order[start[t] .. start[t + 1]) */
  uint32_t *order;
  pb__rgb *colors;       /* colour of each topic of the record */
  double cap;            /* values above it are outliers */
  double lo, hi;         /* smallest positive and largest value drawn (capped) */
  double med_lo, med_hi; /* smallest and largest median of a topic */
  size_t noutliers;
} crono_series;

static void series_free(crono_series *s) {
  free(s->iter);
  free(s->topic);
  free(s->value);
  free(s->x);
  free(s->y);
  free(s->pts);
  free(s->start);
  free(s->order);
  free(s->colors);
}

/* Counting sort of the points by topic: start[] and order[]. */
static void bucket(crono_series *s) {
  memset(s->start, 0, (s->ntopics + 2) * sizeof *s->start);
  for (size_t i = 0; i < s->npts; i++) s->start[s->pts[i].topic + 1]++;
  for (size_t t = 0; t < s->ntopics; t++) s->start[t + 1] += s->start[t];
  for (size_t i = 0; i < s->npts; i++) {
    uint32_t t = s->pts[i].topic;
    s->order[s->start[t]++] = (uint32_t)i;
  }
  /* start[t] is now the end of bucket t: shift back to the beginnings */
  for (size_t t = s->ntopics; t > 0; t--) s->start[t] = s->start[t - 1];
  s->start[0] = 0;
}

/* Per topic: 75th percentile (the cap) and median, from its sorted values. */
static int topic_stats(crono_series *s) {
  double *v = malloc((s->npts + 1) * sizeof *v);
  if (!v) return PB_ENOMEM;
  double top = 0;
  s->med_lo = INFINITY;
  for (size_t t = 0; t < s->ntopics; t++) {
    size_t m = 0;
    for (size_t j = s->start[t]; j < s->start[t + 1]; j++) v[m++] = s->y[s->order[j]];
    if (!m) continue;
    double vmax = v[0];
    for (size_t j = 1; j < m; j++)
      if (v[j] > vmax) vmax = v[j];
    double cap = pb__percentile_select(v, m, OUTLIER_PERCENTILE) * OUTLIER_MULT;
    double tmax = vmax < cap ? vmax : cap;
    if (tmax > top) top = tmax;
    double med = pb__percentile_select(v, m, 50);
    if (med > 0 && med < s->med_lo) s->med_lo = med;
    if (med > s->med_hi) s->med_hi = med;
  }
  free(v);
  s->cap = top > 0 ? top : INFINITY;
  s->lo = INFINITY;
  for (size_t i = 0; i < s->npts; i++) {
    if (s->y[i] > s->cap) s->noutliers++;
    double d = s->y[i] > s->cap ? s->cap : s->y[i];
    if (d > s->hi) s->hi = d;
    if (d > 0 && d < s->lo) s->lo = d;
  }
  return PB_OK;
}

static int series_build(const pb__chart_ctx *c, const pb_record *r, crono_series *s) {
  memset(s, 0, sizeof *s);
  size_t n;
  const pb_call *calls = pb_record_calls(r, &n);
  s->ntopics = pb_record_topic_count(r);
  s->iter = malloc((n + 1) * sizeof *s->iter);
  s->topic = malloc((n + 1) * sizeof *s->topic);
  s->value = malloc((n + 1) * sizeof *s->value);
  s->x = malloc((n + 1) * sizeof *s->x);
  s->y = malloc((n + 1) * sizeof *s->y);
  s->pts = malloc((n + 1) * sizeof *s->pts);
  s->order = malloc((n + 1) * sizeof *s->order);
  s->start = malloc((s->ntopics + 2) * sizeof *s->start);
  bool *shown = malloc((s->ntopics + 1) * sizeof *shown);
  if (!s->iter || !s->topic || !s->value || !s->x || !s->y || !s->pts || !s->order || !s->start ||
      !shown) {
    free(shown);
    return PB_ENOMEM;
  }
  for (size_t t = 0; t < s->ntopics; t++) {
    const char *tn = pb_record_topic(r, t);
    shown[t] = strcmp(tn, "GLOBAL") != 0 && pb__topic_shown(c, tn);
  }
  for (size_t i = 0; i < n; i++) {
    if (calls[i].topic >= s->ntopics || !shown[calls[i].topic]) continue;
    s->iter[s->n] = calls[i].iter;
    s->topic[s->n] = calls[i].topic;
    s->value[s->n++] = calls[i].time;
  }
  free(shown);
  s->npts =
      pb__find_clusters(s->iter, s->topic, s->value, s->n, CRONO_MAX_PATTERN, CRONO_FILTER, s->pts);
  for (size_t i = 0; i < s->npts; i++) {
    s->x[i] = (double)i;
    s->y[i] = s->value[s->pts[i].last];
  }
  bucket(s);
  return topic_stats(s);
}

/* What all runs share: the y range and axis kind, the longest run. */
typedef struct crono_range {
  double lo, hi, cap;
  bool ylog;
  size_t xmax, longest, noutliers;
} crono_range;

static void combine(const crono_series *ser, size_t n, crono_range *g) {
  memset(g, 0, sizeof *g);
  g->lo = INFINITY;
  double med_lo = INFINITY, med_hi = 0;
  for (size_t k = 0; k < n; k++) {
    const crono_series *s = &ser[k];
    if (s->lo < g->lo) g->lo = s->lo;
    if (s->hi > g->hi) g->hi = s->hi;
    if (s->med_lo < med_lo) med_lo = s->med_lo;
    if (s->med_hi > med_hi) med_hi = s->med_hi;
    g->noutliers += s->noutliers;
    if (s->npts > g->xmax) {
      g->xmax = s->npts;
      g->longest = k;
    }
  }
  g->cap = g->hi; /* the axis ends at the highest cap: points above it are marked */
  g->ylog = isfinite(med_lo) && med_hi / med_lo >= LOG_RATIO && isfinite(g->lo);
}

static void y_axis(const crono_range *g, pb__axes *ax) {
  double hi = g->hi > 0 ? g->hi : 1e-6;
  if (g->ylog) {
    double dec = log10(hi / g->lo);
    if (dec < 1) dec = 1;
    ax->ylog = true;
    ax->ymin = g->lo / pow(10, 0.04 * dec);
    ax->ymax = hi * pow(10, 0.06 * dec);
    return;
  }
  pb__y_range(isfinite(g->lo) ? g->lo : 0, hi, 0.06, &ax->ymin, &ax->ymax);
}

/* Triangles on the cap where a value is above it (one per pixel column),
 * in the topic's colour, and the largest value's label. */
static void draw_capped(pb__canvas *cv, const pb__axes *ax, const crono_series *s, double cap) {
  double px = -1e9, best = 0, bx = 0;
  for (size_t i = 0; i < s->npts; i++) {
    if (!(s->y[i] > cap)) continue;
    double X = pb__ax_x(ax, s->x[i]);
    if (s->y[i] > best) {
      best = s->y[i];
      bx = X;
    }
    if (floor(X) == floor(px)) continue;
    px = X;
    pb__outlier_mark(cv, X, pb__ax_y(ax, cap) - 5, s->colors[s->pts[i].topic]);
  }
  if (best > 0) {
    char buf[48], v[32];
    pb__fmt_seconds(best, v, sizeof v);
    snprintf(buf, sizeof buf, "max %s", v);
    double tw;
    pb__text_size(cv, buf, PB__FONT_SMALL, false, &tw, NULL);
    double x = fmin(fmax(bx, ax->left + tw / 2 + 2), ax->right - tw / 2 - 2);
    pb__text(cv, x, pb__ax_y(ax, cap) - 11, buf, PB__FONT_SMALL, false, PB__CENTER, PB__BOTTOM, 0,
             PB__OUTLIER_RGB);
  }
}

typedef struct topic_spread {
  size_t t;
  double spread;
} topic_spread;

static int cmp_spread_desc(const void *a, const void *b) {
  const topic_spread *x = a, *y = b;
  if (x->spread != y->spread) return (x->spread < y->spread) - (x->spread > y->spread);
  return (x->t > y->t) - (x->t < y->t);
}

/* The topics with points, widest spread (max over min of the drawn values)
 * first, so that a narrow one drawn later shows inside a wide envelope. */
static topic_spread *draw_order(const crono_series *s, const double *yc, size_t *n) {
  topic_spread *o = malloc((s->ntopics + 1) * sizeof *o);
  if (!o) return NULL;
  *n = 0;
  for (size_t t = 0; t < s->ntopics; t++) {
    double lo = INFINITY, hi = 0;
    for (size_t j = s->start[t]; j < s->start[t + 1]; j++) {
      double v = yc[s->order[j]];
      if (v > hi) hi = v;
      if (v > 0 && v < lo) lo = v;
    }
    if (s->start[t + 1] > s->start[t]) o[(*n)++] = (topic_spread){t, isfinite(lo) ? hi / lo : 0};
  }
  qsort(o, *n, sizeof *o, cmp_spread_desc);
  return o;
}

/* One run: each topic in its colour, markers when sparse (shape of run
 * style), a line through every column's min and max when dense (dash of
 * run style); thread: the grey line in call order. xs, ys: scratch. */
static void draw_run(pb__canvas *cv, const pb__axes *ax, const crono_series *s, double cap,
                     double *xs, double *ys, size_t style, bool thread) {
  const pb__rgb *colors = s->colors;
  double w = ax->right - ax->left, per_px = (double)s->npts / w;
  double *yc = malloc((s->npts + 1) * sizeof *yc);
  if (!yc) return;
  for (size_t i = 0; i < s->npts; i++) yc[i] = s->y[i] > cap ? cap : s->y[i];
  size_t norder = 0;
  topic_spread *order = draw_order(s, yc, &norder);
  if (!order) {
    free(yc);
    return;
  }
  if (thread && per_px <= 0.25) /* the grey thread in call order, where it can be followed */
    pb__draw_line(cv, ax, yc, s->npts, 0, 1, (pb__rgb){0.65, 0.65, 0.65}, 1.0, 0);
  double rad = per_px > 0.1 ? 3 : 4.5;
  for (size_t o = 0; o < norder; o++) {
    size_t m = 0, t = order[o].t;
    for (size_t j = s->start[t]; j < s->start[t + 1]; j++) {
      xs[m] = s->x[s->order[j]];
      ys[m++] = yc[s->order[j]];
    }
    if ((double)m > w / (2.5 * rad))
      pb__draw_envelope(cv, ax, xs, ys, m, colors[t], 1.6, true, style);
    else
      pb__draw_markers(cv, ax, xs, ys, m, colors[t], rad, style);
  }
  free(order);
  free(yc);
}

/* Legend: the topics drawn of the longest run (colour), then with several
 * runs each run (marker and dash style). */
static size_t make_legend(const pb__chart_ctx *c, const crono_series *s0, const char *const *names,
                          pb__legend_item *items, size_t noutliers) {
  size_t li = 0;
  for (size_t t = 0; t < s0->ntopics; t++)
    if (s0->start[t + 1] > s0->start[t])
      items[li++] = (pb__legend_item){names[t], s0->colors[t], PB__SW_MARKER, 0};
  size_t nseries = li;
  for (size_t k = 0; c->n > 1 && k < c->n; k++)
    items[li++] = (pb__legend_item){c->labels[k], {0.25, 0.25, 0.25}, PB__SW_LINE, k};
  if (noutliers) {
    items[li++] = (pb__legend_item){
        "above the cap (4 \xc3\x97 P75 of its step)", {0.3, 0.3, 0.3}, PB__SW_UP, 0};
  }
  pb__legend_keys_first(items, nseries, li);
  return li;
}

/* Colours of the shown topics of the longest run: palette order of the
 * topics other than GLOBAL, as in the times and bars charts. */
static void topic_colors(const pb__chart_ctx *c, const pb_record *r, pb__rgb *colors) {
  size_t next = 0;
  for (size_t t = 0; t < pb_record_topic_count(r); t++) {
    const char *tn = pb_record_topic(r, t);
    bool global = strcmp(tn, "GLOBAL") == 0;
    colors[t] = global ? pb__topic_color(tn, 0) : pb__palette(next);
    if (!global && pb__topic_shown(c, tn)) next++;
  }
}

/* Each run's topic colours: those of the same names in the longest run r0
 * (hash look-ups), grey for a name r0 lacks. */
static int run_colors(const pb__chart_ctx *c, crono_series *ser, const pb_record *r0,
                      const pb__rgb *colors0) {
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    if (!(ser[k].colors = malloc((ser[k].ntopics + 1) * sizeof *ser[k].colors))) return PB_ENOMEM;
    for (size_t t = 0; t < ser[k].ntopics; t++) {
      long e = r == r0 ? (long)t : pb_record_topic_index(r0, pb_record_topic(r, t));
      ser[k].colors[t] = e >= 0 ? colors0[e] : (pb__rgb){0.5, 0.5, 0.5};
    }
  }
  return PB_OK;
}

static int draw(pb__chart_ctx *c, crono_series *ser, const crono_range *g, const char **names) {
  pb__canvas *cv = c->cv;
  const crono_series *sl0 = &ser[g->longest];
  pb__legend_item *items = calloc(sl0->ntopics + c->n + 2, sizeof *items);
  double *xs = malloc((g->xmax + 1) * sizeof *xs), *ys = malloc((g->xmax + 1) * sizeof *ys);
  if (!items || !xs || !ys) {
    free(items);
    free(xs);
    free(ys);
    return PB_ENOMEM;
  }
  size_t li = make_legend(c, sl0, names, items, g->noutliers);
  pb__axes yr = {0};
  y_axis(g, &yr);
  double scale;
  const char *unit = pb__time_unit(g->hi, &scale);
  char title[512], ylabel[64];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 calls in call order (GLOBAL left out)", c->title);
  snprintf(ylabel, sizeof ylabel, "call time (%s%s)", unit, yr.ylog ? ", log scale" : "");
  /* measure the x labels first to size the bottom margin */
  seq_labels sl = {sl0->pts, sl0->topic, names};
  pb__layout L;
  double lm = pb__ytick_width(cv, yr.ymin, yr.ymax, scale, cv->h - 160, yr.ylog) + 48;
  pb__layout_plot(cv, NULL, items, li, lm, 100, &L);
  double need = pb__seq_axis(cv, &L.ax, g->xmax, sl0->pts, "call", label_point, &sl, false);
  if (need > 260) need = 260;
  pb__layout_plot(cv, title, items, li, lm, need + 40, &L);
  pb__axes *ax = &L.ax;
  pb__x_range_points(g->xmax, &ax->xmin, &ax->xmax);
  ax->ymin = yr.ymin;
  ax->ymax = yr.ymax;
  ax->ylog = yr.ylog;
  pb__draw_axes(cv, ax, scale, ylabel, false, NULL); /* the x title: pb__seq_axis */
  pb__seq_axis(cv, ax, g->xmax, sl0->pts, "call", label_point, &sl, true);
  pb__dense_note(cv, ax, g->xmax, "calls");
  for (size_t k = 0; k < c->n; k++) {
    draw_run(cv, ax, &ser[k], g->cap, xs, ys, k, c->n == 1);
    draw_capped(cv, ax, &ser[k], g->cap);
  }
  pb__legend_draw(cv, items, li, L.legend_x, L.legend_y, L.legend_h);
  if (c->geom) {
    c->geom->ax = *ax;
    c->geom->x_last = g->xmax ? (double)(g->xmax - 1) : 0;
  }
  free(items);
  free(xs);
  free(ys);
  return PB_OK;
}

int pb__chart_crono(pb__chart_ctx *c) {
  crono_series *ser = calloc(c->n, sizeof *ser);
  if (!ser) return PB_ENOMEM;
  int rc = PB_OK;
  for (size_t k = 0; k < c->n && rc == PB_OK; k++) rc = series_build(c, c->records[k], &ser[k]);
  crono_range g;
  combine(ser, c->n, &g);
  const pb_record *r0 = c->records[g.longest];
  size_t nt = pb_record_topic_count(r0);
  const char **names = calloc(nt + 1, sizeof *names);
  pb__rgb *colors = calloc(nt + 1, sizeof *colors);
  if (!names || !colors) rc = PB_ENOMEM;
  if (rc == PB_OK) {
    for (size_t t = 0; t < nt; t++) names[t] = pb_record_topic(r0, t);
    topic_colors(c, r0, colors);
    rc = run_colors(c, ser, r0, colors);
  }
  if (rc == PB_OK) rc = draw(c, ser, &g, names);
  for (size_t k = 0; k < c->n; k++) series_free(&ser[k]);
  free(ser);
  free(names);
  free(colors);
  return rc;
}
