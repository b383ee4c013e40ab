/*
 * chart_times.c - each topic's time per iteration, one line per topic (and
 * dash style per run). Values above 4 x the 75th percentile of GLOBAL are
 * capped there, marked with a triangle and labelled with their true value
 * where labels fit; iterations where a topic did not occur break its line
 * and get a ring on the x axis.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

/* Room under the plot for the note on GLOBAL's hidden probe time. */
#define PROBE_NOTE_H 18.0
#define OUTLIER_MULT 4.0
#define OUTLIER_PERCENTILE 75.0
#define MAX_OUTLIER_LABELS 400
/* A log axis when the typical times of the series drawn (their medians)
 * differ by this factor or more: below it a linear axis shows them all. */
#define LOG_RATIO 20.0

typedef struct outlier {
  double x, value, cap;
  pb__rgb color;
} outlier;

static int cmp_outlier_desc(const void *a, const void *b) {
  double va = ((const outlier *)a)->value, vb = ((const outlier *)b)->value;
  return (va < vb) - (va > vb);
}

/* The outlier cap of one record: 4 x P75 of GLOBAL, or infinity. */
static double outlier_cap(const pb_record *r) {
  long g = pb_record_topic_index(r, "GLOBAL");
  if (g < 0) return INFINITY;
  const double *v = pb_record_absolutes(r, (size_t)g);
  size_t n = pb_record_iter_count(r), m = 0;
  double *s = malloc((n + 1) * sizeof *s);
  if (!s || !v) {
    free(s);
    return INFINITY;
  }
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i])) s[m++] = v[i];
  double cap = m ? pb__percentile_select(s, m, OUTLIER_PERCENTILE) * OUTLIER_MULT : INFINITY;
  free(s);
  return cap > 0 ? cap : INFINITY;
}

/* What the chart needs to know before laying out. */
typedef struct times_scan {
  size_t **color;        /* color[k][t]: palette index, SIZE_MAX for hidden topics */
  size_t ncolors;        /* distinct non-GLOBAL topics shown, over all runs */
  double *caps;          /* outlier cap per run */
  double capmin;         /* the lowest cap */
  double ymax;           /* largest value drawn (capped) */
  double ymin_pos;       /* smallest positive value drawn */
  double med_lo, med_hi; /* smallest and largest median of a series */
  bool ylog;             /* medians span LOG_RATIO or more */
  size_t xmax;           /* most iterations */
  size_t nitems;         /* topic lines over all runs */
  size_t noutliers;
  bool any_missing;
} times_scan;

#define HIDDEN SIZE_MAX
#define GLOBAL_COLOR (SIZE_MAX - 1)

static void scan_free(times_scan *s, size_t n) {
  for (size_t k = 0; s->color && k < n; k++) free(s->color[k]);
  free(s->color);
  free(s->caps);
}

/* Colour of each topic: the same name has the same colour in every run
 * (looked up by name in the earlier runs: linear in topics). */
static int assign_colors(const pb__chart_ctx *c, times_scan *s) {
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    size_t nt = pb_record_topic_count(r);
    if (!(s->color[k] = malloc((nt + 1) * sizeof **s->color))) return PB_ENOMEM;
    for (size_t t = 0; t < nt; t++) {
      const char *tn = pb_record_topic(r, t);
      size_t col = HIDDEN;
      if (!pb__topic_shown(c, tn)) {
        col = HIDDEN;
      } else if (strcmp(tn, "GLOBAL") == 0) {
        col = GLOBAL_COLOR;
      } else {
        for (size_t j = 0; j < k && col == HIDDEN; j++) {
          long e = pb_record_topic_index(c->records[j], tn);
          if (e >= 0) col = s->color[j][e];
        }
        if (col == HIDDEN) col = s->ncolors++;
      }
      s->color[k][t] = col;
      s->nitems += col != HIDDEN;
    }
  }
  return PB_OK;
}

static pb__rgb color_of(size_t col) {
  return col == GLOBAL_COLOR ? pb__topic_color("GLOBAL", 0) : pb__palette(col);
}

/* Median of the non-NAN values of v (n of them), using tmp; NAN if none. */
static double median_of(const double *v, size_t n, double *tmp) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i])) tmp[m++] = v[i];
  return pb__percentile_select(tmp, m, 50);
}

/* One series' contribution to the ranges, outliers and absences. */
static void scan_series(times_scan *s, const double *v, size_t ni, double cap, double *tmp) {
  for (size_t i = 0; i < ni; i++) {
    if (isnan(v[i])) {
      s->any_missing = true;
      continue;
    }
    double d = v[i];
    if (d > cap) {
      s->noutliers++;
      d = cap;
    }
    if (d > s->ymax) s->ymax = d;
    if (d > 0 && d < s->ymin_pos) s->ymin_pos = d;
  }
  double med = median_of(v, ni, tmp);
  if (med > 0 && med < s->med_lo) s->med_lo = med;
  if (med > s->med_hi) s->med_hi = med;
}

static int scan(const pb__chart_ctx *c, times_scan *s) {
  memset(s, 0, sizeof *s);
  s->capmin = s->ymin_pos = s->med_lo = INFINITY;
  s->caps = malloc(c->n * sizeof *s->caps);
  s->color = calloc(c->n, sizeof *s->color);
  if (!s->caps || !s->color || assign_colors(c, s) != PB_OK) return PB_ENOMEM;
  for (size_t k = 0; k < c->n; k++)
    if (pb_record_iter_count(c->records[k]) > s->xmax)
      s->xmax = pb_record_iter_count(c->records[k]);
  double *tmp = malloc((s->xmax + 1) * sizeof *tmp);
  if (!tmp) return PB_ENOMEM;
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    s->caps[k] = outlier_cap(r);
    if (s->caps[k] < s->capmin) s->capmin = s->caps[k];
    size_t ni = pb_record_iter_count(r);
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      const double *v = pb_record_absolutes(r, t);
      if (v && s->color[k][t] != HIDDEN) scan_series(s, v, ni, s->caps[k], tmp);
    }
  }
  free(tmp);
  s->ylog = s->med_hi > 0 && isfinite(s->med_lo) && s->med_hi / s->med_lo >= LOG_RATIO &&
            isfinite(s->ymin_pos);
  return PB_OK;
}

/* Legend: a line per topic (colour), then with several runs a line per run
 * (dash style), then the marks' meanings. capbuf holds the cap's text. */
static size_t make_legend(const pb__chart_ctx *c, times_scan *s, pb__legend_item *items,
                          char *capbuf, size_t ncap) {
  size_t li = 0, next = 0;
  bool global = false;
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      size_t col = s->color[k][t];
      if (col == GLOBAL_COLOR && !global) {
        global = true;
        items[li++] = (pb__legend_item){"GLOBAL", color_of(col), PB__SW_LINE, 0};
      } else if (col != HIDDEN && col == next) { /* first time this colour is met */
        next++;
        items[li++] = (pb__legend_item){pb_record_topic(r, t), color_of(col), PB__SW_LINE, 0};
      }
    }
  }
  size_t nseries = li;
  for (size_t k = 0; c->n > 1 && k < c->n; k++)
    items[li++] = (pb__legend_item){c->labels[k], {0.25, 0.25, 0.25}, PB__SW_LINE, k};
  char capv[32];
  pb__fmt_seconds(s->capmin, capv, sizeof capv);
  snprintf(capbuf, ncap, "%s4 \xc3\x97 GLOBAL's P75 = %s",
           c->n > 1 ? "lowest cap: " : "cap: ", capv);
  if (s->noutliers)
    items[li++] =
        (pb__legend_item){"outlier (label: its true value)", {0.3, 0.3, 0.3}, PB__SW_UP, 0};
  if (s->noutliers && isfinite(s->capmin))
    items[li++] = (pb__legend_item){capbuf, PB__OUTLIER_RGB, PB__SW_LINE, 1};
  if (s->any_missing)
    items[li++] =
        (pb__legend_item){"topic absent in the iteration", {0.3, 0.3, 0.3}, PB__SW_RING, 0};
  pb__legend_keys_first(items, nseries, li);
  return li;
}

/* The dashed line at the (lowest) cap. */
static void draw_cap(pb__canvas *cv, const pb__axes *ax, double cap) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  pb__rgb red = PB__OUTLIER_RGB;
  cairo_set_source_rgb(cr, red.r, red.g, red.b);
  cairo_set_line_width(cr, 1);
  pb__set_dash(cr, 1);
  double y = floor(pb__ax_y(ax, cap)) + 0.5;
  cairo_move_to(cr, ax->left, y);
  cairo_line_to(cr, ax->right, y);
  cairo_stroke(cr);
  cairo_restore(cr);
}

/* Small rings at the foot of the chart where a topic is absent (row: one
 * per topic with absences, so that coinciding ones stay apart). */
static void draw_missing(pb__canvas *cv, const pb__axes *ax, const double *v, size_t n, pb__rgb col,
                         size_t row) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  cairo_set_source_rgb(cr, col.r, col.g, col.b);
  cairo_set_line_width(cr, 1.2);
  double ry = ax->bottom - 4 - 6.0 * (double)(row % 8), px = -1e9;
  for (size_t i = 0; i < n; i++) {
    if (!isnan(v[i])) continue;
    double X = floor(pb__ax_x(ax, (double)i)) + 0.5;
    if (X - px < 4) continue; /* one ring per 4 pixels is enough */
    px = X;
    cairo_new_sub_path(cr);
    cairo_arc(cr, X, ry, 2.5, 0, 2 * M_PI);
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

/* Triangles on the cap; labels with the true value, largest first, where
 * they collide with no label already placed. */
static void draw_outliers(pb__canvas *cv, const pb__axes *ax, outlier *outs, size_t no) {
  qsort(outs, no, sizeof *outs, cmp_outlier_desc);
  cairo_t *cr = cv->cr;
  double(*boxes)[4] = malloc(MAX_OUTLIER_LABELS * sizeof *boxes);
  size_t nb = 0;
  for (size_t i = 0; i < no; i++) {
    double X = pb__ax_x(ax, outs[i].x), Y = pb__ax_y(ax, outs[i].cap);
    cairo_set_source_rgb(cr, outs[i].color.r, outs[i].color.g, outs[i].color.b);
    pb__marker(cr, X, Y - 5, 5, 2);
    cairo_fill(cr);
    if (!boxes || nb >= MAX_OUTLIER_LABELS) continue;
    char buf[32];
    pb__fmt_seconds(outs[i].value, buf, sizeof buf);
    double tw, th;
    pb__text_size(cv, buf, PB__FONT_SMALL, false, &tw, &th);
    double bx0 = X - tw / 2 - 2, bx1 = X + tw / 2 + 2, by1 = Y - 11, by0 = by1 - th;
    if (bx0 < ax->left) { /* keep the label inside the plot */
      bx1 += ax->left - bx0;
      bx0 = ax->left;
    }
    if (bx1 > ax->right) {
      bx0 -= bx1 - ax->right;
      bx1 = ax->right;
    }
    bool clash = by0 < ax->top - 2;
    for (size_t b = 0; b < nb && !clash; b++)
      clash = !(bx1 < boxes[b][0] || bx0 > boxes[b][2] || by1 < boxes[b][1] || by0 > boxes[b][3]);
    if (clash) continue;
    boxes[nb][0] = bx0;
    boxes[nb][1] = by0;
    boxes[nb][2] = bx1;
    boxes[nb][3] = by1;
    nb++;
    pb__text(cv, (bx0 + bx1) / 2, by1, buf, PB__FONT_SMALL, false, PB__CENTER, PB__BOTTOM, 0,
             (pb__rgb){0.6, 0.05, 0.05});
  }
  free(boxes);
}

/* A series to draw and how far its values spread. */
typedef struct order_item {
  size_t k, t;
  double spread;
  bool global;
} order_item;

static int cmp_spread_desc(const void *a, const void *b) {
  const order_item *x = a, *y = b;
  if (x->global != y->global) return x->global ? -1 : 1;
  if (x->spread != y->spread) return (x->spread < y->spread) - (x->spread > y->spread);
  if (x->k != y->k) return (x->k > y->k) - (x->k < y->k);
  return (x->t > y->t) - (x->t < y->t);
}

/* The shown series: GLOBAL first (underneath: it is the sum of the steps,
 * at or above each of them, and drawn over them it hid the largest step's
 * band, issue 9), then the steps widest spread (max over min of the capped
 * values) first: dense series are drawn as the envelope of their columns,
 * and a narrow one drawn last stays visible inside a wide one's envelope. */
static order_item *draw_order(const pb__chart_ctx *c, const times_scan *s, size_t *n) {
  order_item *o = malloc((s->nitems + 1) * sizeof *o);
  if (!o) return NULL;
  *n = 0;
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    size_t ni = pb_record_iter_count(r);
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      const double *v = pb_record_absolutes(r, t);
      if (s->color[k][t] == HIDDEN || !v) continue;
      double lo = INFINITY, hi = 0;
      for (size_t i = 0; i < ni; i++) {
        double d = v[i] > s->caps[k] ? s->caps[k] : v[i];
        if (d > hi) hi = d;
        if (d > 0 && d < lo) lo = d;
      }
      o[(*n)++] = (order_item){k, t, isfinite(lo) ? hi / lo : 0, s->color[k][t] == GLOBAL_COLOR};
    }
  }
  qsort(o, *n, sizeof *o, cmp_spread_desc);
  return o;
}

/* Each topic's line (values capped), its absences; collects the outliers. */
static int draw_topics(const pb__chart_ctx *c, times_scan *s, const pb__axes *ax, outlier *outs,
                       size_t *no) {
  double *y = malloc((s->xmax + 1) * sizeof *y);
  size_t norder = 0;
  order_item *order = draw_order(c, s, &norder);
  if (!y || !order) {
    free(y);
    free(order);
    return PB_ENOMEM;
  }
  size_t row = 0;
  for (size_t j = 0; j < norder; j++) {
    size_t k = order[j].k, t = order[j].t, ci = s->color[k][t];
    const pb_record *r = c->records[k];
    size_t ni = pb_record_iter_count(r);
    pb__rgb col = color_of(ci);
    const double *v = pb_record_absolutes(r, t);
    bool missing = false;
    for (size_t i = 0; i < ni; i++) {
      y[i] = v[i] > s->caps[k] ? s->caps[k] : v[i];
      if (v[i] > s->caps[k] && *no < s->noutliers)
        outs[(*no)++] = (outlier){(double)i, v[i], s->caps[k], col};
      missing |= isnan(v[i]);
    }
    pb__draw_line(c->cv, ax, y, ni, 0, 1, col, ci == GLOBAL_COLOR ? 2.0 : 1.5, k);
    if (missing) draw_missing(c->cv, ax, v, ni, col, row++);
  }
  free(y);
  free(order);
  return PB_OK;
}

/* The y range: a log axis from the smallest to the largest value drawn when
 * the series' medians span decades, else linear (zero when near). */
static void y_axis(const times_scan *s, pb__axes *ax) {
  double hi = s->ymax > 0 ? s->ymax : 1e-6;
  if (s->ylog) {
    double lo = s->ymin_pos, dec = log10(hi / lo);
    if (dec < 1) dec = 1;
    ax->ylog = true;
    ax->ymin = lo / pow(10, 0.04 * dec);
    ax->ymax = hi * pow(10, (s->noutliers ? 0.14 : 0.05) * dec);
    return;
  }
  double lo = isfinite(s->ymin_pos) ? s->ymin_pos : 0;
  pb__y_range(lo, hi, s->noutliers ? 0.16 : 0.06, &ax->ymin, &ax->ymax);
}

int pb__chart_times(pb__chart_ctx *c) {
  pb__canvas *cv = c->cv;
  times_scan s;
  if (scan(c, &s)) {
    scan_free(&s, c->n);
    return PB_ENOMEM;
  }
  double scale;
  const char *unit = pb__time_unit(s.ymax, &scale);
  pb__legend_item *items = calloc(s.nitems + c->n + 4, sizeof *items);
  outlier *outs = malloc((s.noutliers + 1) * sizeof *outs);
  int rc = (items && outs) ? PB_OK : PB_ENOMEM;
  if (rc == PB_OK) {
    char capbuf[128], title[512], ylabel[64];
    size_t li = make_legend(c, &s, items, capbuf, sizeof capbuf);
    snprintf(title, sizeof title, "%s \xe2\x80\x94 time per iteration", c->title);
    snprintf(ylabel, sizeof ylabel, "time per iteration (%s%s)", unit, s.ylog ? ", log scale" : "");
    pb__axes yr = {0};
    y_axis(&s, &yr);
    double lm = pb__ytick_width(cv, yr.ymin, yr.ymax, scale, cv->h - 120, yr.ylog) + 48;
    char note[640];
    bool probes = pb__probe_note(c, note, sizeof note);
    pb__layout L;
    pb__layout_plot(cv, title, items, li, lm, probes ? 64 + PROBE_NOTE_H : 64, &L);
    pb__axes *ax = &L.ax;
    /* a little room on both sides so that the end points show whole */
    pb__x_range_points(s.xmax, &ax->xmin, &ax->xmax);
    ax->ymin = yr.ymin;
    ax->ymax = yr.ymax;
    ax->ylog = yr.ylog;
    pb__draw_axes(cv, ax, scale, ylabel, true, "iteration");
    pb__dense_note(cv, ax, s.xmax, "iterations");
    if (probes) /* its own line between the tick labels and the axis label */
      pb__text(cv, ax->left, ax->bottom + 26, note, PB__FONT_SMALL, false, PB__LEFT, PB__TOP, 0,
               (pb__rgb){0.25, 0.25, 0.25});
    if (s.noutliers && isfinite(s.capmin)) draw_cap(cv, ax, s.capmin);
    size_t no = 0;
    rc = draw_topics(c, &s, ax, outs, &no);
    if (rc == PB_OK && no) draw_outliers(cv, ax, outs, no);
    pb__legend_draw(cv, items, li, L.legend_x, L.legend_y, L.legend_h);
    if (c->geom) {
      c->geom->ax = *ax;
      c->geom->x_last = s.xmax ? (double)(s.xmax - 1) : 0;
    }
  }
  free(items);
  free(outs);
  scan_free(&s, c->n);
  return rc;
}
