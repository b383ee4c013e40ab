/*
 * chart_crono.c - every call in call order (iteration by iteration), with
 * the original's collapsing of repeated step sequences: a point per call or
 * per run of repetitions ("a || b x12"), coloured by step. The x axis names
 * every point when the labels fit and otherwise marks iterations, thinned
 * to what fits, so it stays legible at any length.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#define CRONO_MAX_PATTERN 5
#define CRONO_FILTER 0.05

typedef struct seq_labels {
  const pb__seq_point *pts;
  const uint32_t *topic;
  const char *const *names;
} seq_labels;

static void label_point(size_t i, char *buf, size_t n, void *user) {
  const seq_labels *s = user;
  pb__seq_label(&s->pts[i], s->topic, s->names, buf, n);
}

/* Points of one record's calls, and their values. */
typedef struct crono_series {
  size_t n, npts;
  uint32_t *iter, *topic, *pit;
  double *value, *x, *y;
  pb__seq_point *pts;
} crono_series;

static void series_free(crono_series *s) {
  free(s->iter);
  free(s->topic);
  free(s->pit);
  free(s->value);
  free(s->x);
  free(s->y);
  free(s->pts);
}

static int series_build(const pb_record *r, crono_series *s) {
  memset(s, 0, sizeof *s);
  const pb_call *calls = pb_record_calls(r, &s->n);
  size_t n = s->n;
  s->iter = malloc((n + 1) * sizeof *s->iter);
  s->topic = malloc((n + 1) * sizeof *s->topic);
  s->pit = malloc((n + 1) * sizeof *s->pit);
  s->value = malloc((n + 1) * sizeof *s->value);
  s->x = malloc((n + 1) * sizeof *s->x);
  s->y = malloc((n + 1) * sizeof *s->y);
  s->pts = malloc((n + 1) * sizeof *s->pts);
  if (!s->iter || !s->topic || !s->pit || !s->value || !s->x || !s->y || !s->pts) return PB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    s->iter[i] = calls[i].iter;
    s->topic[i] = calls[i].topic;
    s->value[i] = calls[i].time;
  }
  s->npts =
      pb__find_clusters(s->iter, s->topic, s->value, n, CRONO_MAX_PATTERN, CRONO_FILTER, s->pts);
  for (size_t i = 0; i < s->npts; i++) {
    s->x[i] = (double)i;
    s->y[i] = s->value[s->pts[i].last];
    s->pit[i] = s->pts[i].iter;
  }
  return PB_OK;
}

int pb__chart_crono(pb__chart_ctx *c) {
  pb__canvas *cv = c->cv;
  crono_series *ser = calloc(c->n, sizeof *ser);
  if (!ser) return PB_ENOMEM;
  int rc = PB_OK;
  double ymax = 0;
  size_t xmax = 0, longest = 0;
  for (size_t k = 0; k < c->n && rc == PB_OK; k++) {
    rc = series_build(c->records[k], &ser[k]);
    for (size_t i = 0; rc == PB_OK && i < ser[k].npts; i++)
      if (ser[k].y[i] > ymax) ymax = ser[k].y[i];
    if (ser[k].npts > xmax) {
      xmax = ser[k].npts;
      longest = k;
    }
  }
  const pb_record *r0 = c->records[longest];
  size_t nt = pb_record_topic_count(r0);
  pb__legend_item *items = calloc(nt + c->n + 1, sizeof *items);
  const char **names = calloc(nt + 1, sizeof *names);
  if (!items || !names) rc = PB_ENOMEM;
  if (rc) goto done;
  for (size_t t = 0; t < nt; t++) names[t] = pb_record_topic(r0, t);
  size_t li = 0;
  if (c->n == 1) {
    for (size_t t = 0; t < nt; t++) {
      bool used = false;
      for (size_t i = 0; i < ser[0].npts && !used; i++) used = ser[0].pts[i].topic == t;
      if (used)
        items[li++] = (pb__legend_item){names[t], pb__topic_color(names[t], t), PB__SW_MARKER, 0};
    }
  } else {
    for (size_t k = 0; k < c->n; k++)
      items[li++] = (pb__legend_item){c->labels[k], pb__palette(k), PB__SW_LINE, k};
  }
  double scale;
  const char *unit = pb__time_unit(ymax, &scale);
  if (!(ymax > 0)) ymax = 1e-6;
  char title[512], ylabel[64];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 calls in call order", c->title);
  snprintf(ylabel, sizeof ylabel, "call time (%s)", unit);

  /* measure the x labels first to size the bottom margin */
  seq_labels sl = {ser[longest].pts, ser[longest].topic, names};
  pb__layout L;
  double lm = pb__ytick_width(cv, 0, ymax * 1.05, scale, cv->h - 160) + 48;
  pb__layout_plot(cv, NULL, items, li, lm, 100, &L);
  double need = pb__seq_axis(cv, &L.ax, xmax, ser[longest].pit, label_point, &sl, false);
  if (need > 260) need = 260;
  pb__layout_plot(cv, title, items, li, lm, need + 40, &L);
  pb__axes *ax = &L.ax;
  ax->xmin = xmax > 1 ? -0.5 : -1;
  ax->xmax = xmax > 1 ? (double)xmax - 0.5 : 1;
  ax->ymin = 0;
  ax->ymax = ymax * 1.05;
  pb__draw_axes(cv, ax, scale, ylabel, false,
                xmax * 16 <= (size_t)(ax->right - ax->left) ? "call (iteration_step)"
                                                            : "call (ticks at iteration starts)");
  pb__seq_axis(cv, ax, xmax, ser[longest].pit, label_point, &sl, true);
  pb__dense_note(cv, ax, xmax, "calls");

  double *ym = malloc((xmax + 1) * sizeof *ym);
  if (!ym) {
    rc = PB_ENOMEM;
    goto done;
  }
  for (size_t k = 0; k < c->n; k++) {
    crono_series *s = &ser[k];
    if (c->n == 1) {
      double per_px = (double)s->npts / (ax->right - ax->left);
      /* the grey thread in call order, only where it can be followed */
      if (per_px <= 0.5)
        pb__draw_line(cv, ax, s->y, s->npts, 0, 1, (pb__rgb){0.6, 0.6, 0.6}, 1.0, 0);
      double rad = per_px > 0.5 ? 1.6 : per_px > 0.1 ? 2.5 : 4;
      for (size_t t = 0; t < nt; t++) {
        for (size_t i = 0; i < s->npts; i++) ym[i] = s->pts[i].topic == t ? s->y[i] : NAN;
        pb__draw_markers(cv, ax, s->x, ym, s->npts, pb__topic_color(names[t], t), rad, 0);
      }
    } else {
      pb__draw_line(cv, ax, s->y, s->npts, 0, 1, pb__palette(k), 1.5, k);
    }
  }
  free(ym);
  pb__legend_draw(cv, items, li, L.legend_x, L.legend_y, L.legend_h);
done:
  for (size_t k = 0; k < c->n; k++) series_free(&ser[k]);
  free(ser);
  free(items);
  free(names);
  return rc;
}
