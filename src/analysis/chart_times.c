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

#define MAX_NAMES 256
#define OUTLIER_MULT 4.0
#define OUTLIER_PERCENTILE 75.0
#define MAX_OUTLIER_LABELS 400

typedef struct outlier {
  double x, value, cap;
  pb__rgb color;
} outlier;

static int cmp_outlier_desc(const void *a, const void *b) {
  double va = ((const outlier *)a)->value, vb = ((const outlier *)b)->value;
  return (va < vb) - (va > vb);
}

/* Colour index of a topic: its position among the names of all runs. */
static size_t name_index(const char **names, size_t *n, const char *name) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp(names[i], name) == 0) return i;
  if (*n < MAX_NAMES) names[(*n)++] = name;
  return *n - 1;
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
  pb__sort_doubles(s, m);
  double cap = m ? pb_percentile_sorted(s, m, OUTLIER_PERCENTILE) * OUTLIER_MULT : INFINITY;
  free(s);
  return cap > 0 ? cap : INFINITY;
}

static size_t nmax_iters(const pb__chart_ctx *c) {
  size_t m = 0;
  for (size_t k = 0; k < c->n; k++)
    if (pb_record_iter_count(c->records[k]) > m) m = pb_record_iter_count(c->records[k]);
  return m;
}

int pb__chart_times(pb__chart_ctx *c) {
  pb__canvas *cv = c->cv;
  const char *names[MAX_NAMES];
  size_t nnames = 0;
  double ymax = 0, xmax = 0, capmin = INFINITY;
  size_t nitems = 0, noutliers = 0;
  bool any_missing = false;
  double *caps = malloc(c->n * sizeof *caps);
  if (!caps) return PB_ENOMEM;
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    caps[k] = outlier_cap(r);
    if (caps[k] < capmin) capmin = caps[k];
    size_t ni = pb_record_iter_count(r);
    if (ni > xmax) xmax = (double)ni;
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      name_index(names, &nnames, pb_record_topic(r, t));
      nitems++;
      const double *v = pb_record_absolutes(r, t);
      for (size_t i = 0; v && i < ni; i++) {
        if (isnan(v[i])) {
          any_missing = true;
          continue;
        }
        double y = v[i] > caps[k] ? caps[k] : v[i];
        if (v[i] > caps[k]) noutliers++;
        if (y > ymax) ymax = y;
      }
    }
  }
  double scale;
  const char *unit = pb__time_unit(ymax, &scale);
  if (!(ymax > 0)) ymax = 1e-6;
  double top = ymax * (noutliers ? 1.14 : 1.05);

  /* legend: topics (per run), then the marker meanings */
  pb__legend_item *items = calloc(nitems + 4, sizeof *items);
  char **texts = calloc(nitems + 4, sizeof *texts);
  outlier *outs = malloc((noutliers + 1) * sizeof *outs);
  if (!items || !texts || !outs) {
    free(items);
    free(texts);
    free(outs);
    free(caps);
    return PB_ENOMEM;
  }
  size_t li = 0;
  for (size_t k = 0; k < c->n; k++) {
    const pb_record *r = c->records[k];
    for (size_t t = 0; t < pb_record_topic_count(r); t++) {
      const char *tn = pb_record_topic(r, t);
      size_t len = strlen(tn) + strlen(c->labels[k]) + 4;
      texts[li] = malloc(len);
      if (texts[li]) {
        if (c->n > 1)
          snprintf(texts[li], len, "%s: %s", c->labels[k], tn);
        else
          snprintf(texts[li], len, "%s", tn);
      }
      items[li].text = texts[li] ? texts[li] : tn;
      items[li].color = pb__topic_color(tn, name_index(names, &nnames, tn));
      items[li].kind = PB__SW_LINE;
      items[li].style = k;
      li++;
    }
  }
  char capbuf[128], capv[32];
  pb__fmt_seconds(capmin, capv, sizeof capv);
  snprintf(capbuf, sizeof capbuf, "cap%s = 4 \xc3\x97 P75 of GLOBAL = %s",
           c->n > 1 ? " (lowest)" : "", capv);
  if (noutliers)
    items[li++] =
        (pb__legend_item){"outlier (label: its true value)", {0.3, 0.3, 0.3}, PB__SW_UP, 0};
  if (noutliers && isfinite(capmin))
    items[li++] = (pb__legend_item){capbuf, {0.8, 0.1, 0.1}, PB__SW_LINE, 1};
  if (any_missing)
    items[li++] =
        (pb__legend_item){"topic absent in the iteration", {0.3, 0.3, 0.3}, PB__SW_RING, 0};

  char title[512], ylabel[64];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 time per iteration", c->title);
  snprintf(ylabel, sizeof ylabel, "time per iteration (%s)", unit);
  double lm = pb__ytick_width(cv, 0, top, scale, cv->h - 120) + 48;
  pb__layout L;
  pb__layout_plot(cv, title, items, li, lm, 64, &L);
  pb__axes *ax = &L.ax;
  /* a little room on both sides so that the end points show whole */
  double pad = xmax > 1 ? fmax(0.2, (xmax - 1) * 0.01) : 0.5;
  ax->xmin = -pad;
  ax->xmax = (xmax > 1 ? xmax - 1 : 0) + pad;
  ax->ymin = 0;
  ax->ymax = top;
  pb__draw_axes(cv, ax, scale, ylabel, true, "iteration");
  pb__dense_note(cv, ax, nmax_iters(c), "iterations");

  /* the cap line */
  if (noutliers && isfinite(capmin)) {
    cairo_t *cr = cv->cr;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
    cairo_set_line_width(cr, 1);
    pb__set_dash(cr, 1);
    double y = floor(pb__ax_y(ax, capmin)) + 0.5;
    cairo_move_to(cr, ax->left, y);
    cairo_line_to(cr, ax->right, y);
    cairo_stroke(cr);
    cairo_restore(cr);
  }

  size_t no = 0;
  size_t nmax = (size_t)xmax;
  double *y = malloc((nmax + 1) * sizeof *y), *xs = malloc((nmax + 1) * sizeof *xs),
         *ys = malloc((nmax + 1) * sizeof *ys);
  int rc = (y && xs && ys) ? PB_OK : PB_ENOMEM;
  size_t topic_no = 0, missing_row = 0;
  for (size_t k = 0; rc == PB_OK && k < c->n; k++) {
    const pb_record *r = c->records[k];
    size_t ni = pb_record_iter_count(r), nt = pb_record_topic_count(r);
    for (size_t t = 0; t < nt; t++, topic_no++) {
      const char *tn = pb_record_topic(r, t);
      pb__rgb col = pb__topic_color(tn, name_index(names, &nnames, tn));
      const double *v = pb_record_absolutes(r, t);
      if (!v) continue;
      size_t nm = 0;
      for (size_t i = 0; i < ni; i++) {
        y[i] = v[i] > caps[k] ? caps[k] : v[i];
        if (v[i] > caps[k] && no < noutliers) outs[no++] = (outlier){(double)i, v[i], caps[k], col};
        if (isnan(v[i])) {
          xs[nm] = (double)i;
          ys[nm++] = 0;
        }
      }
      bool global = strcmp(tn, "GLOBAL") == 0;
      pb__draw_line(cv, ax, y, ni, 0, 1, col, global ? 2.0 : 1.5, k);
      if (nm) {
        /* small rings just above the axis, one row per topic */
        cairo_t *cr = cv->cr;
        cairo_save(cr);
        cairo_set_source_rgb(cr, col.r, col.g, col.b);
        cairo_set_line_width(cr, 1.2);
        double ry = ax->bottom - 4 - 6.0 * (double)(missing_row++ % 8);
        double px = -1e9;
        for (size_t i = 0; i < nm; i++) {
          double X = floor(pb__ax_x(ax, xs[i])) + 0.5;
          if (X - px < 4) continue;
          px = X;
          cairo_new_sub_path(cr);
          cairo_arc(cr, X, ry, 2.5, 0, 2 * M_PI);
        }
        cairo_stroke(cr);
        cairo_restore(cr);
      }
    }
  }
  /* outliers: triangles on the cap, labels with the true value where they fit */
  if (rc == PB_OK && no) {
    qsort(outs, no, sizeof *outs, cmp_outlier_desc);
    cairo_t *ocr = cv->cr;
    double(*boxes)[4] = malloc(MAX_OUTLIER_LABELS * sizeof *boxes);
    size_t nb = 0;
    for (size_t i = 0; i < no; i++) {
      double X = pb__ax_x(ax, outs[i].x);
      double Y = pb__ax_y(ax, outs[i].cap);
      cairo_set_source_rgb(ocr, outs[i].color.r, outs[i].color.g, outs[i].color.b);
      pb__marker(ocr, X, Y - 5, 5, 2);
      cairo_fill(ocr);
      if (!boxes || nb >= MAX_OUTLIER_LABELS) continue;
      char buf[32];
      pb__fmt_seconds(outs[i].value, buf, sizeof buf);
      double tw, th;
      pb__text_size(cv, buf, PB__FONT_SMALL, false, &tw, &th);
      double bx0 = X - tw / 2 - 2, bx1 = X + tw / 2 + 2, by1 = Y - 11, by0 = by1 - th;
      if (bx0 < ax->left) {
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
  pb__legend_draw(cv, items, li, L.legend_x, L.legend_y, L.legend_h);
  free(y);
  free(xs);
  free(ys);
  for (size_t i = 0; i < nitems + 4; i++) free(texts[i]);
  free(texts);
  free(items);
  free(outs);
  free(caps);
  return rc;
}
