/*
 * chart_bars.c - mean and quantile-filtered mean per topic, side by side:
 * two panels sharing one row per topic (GLOBAL last, in its own colour),
 * horizontal bars so that topic names stay readable, each bar labelled
 * with its value (three significant digits and a unit). With several runs
 * each row holds one bar per run, coloured per run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#define MAX_ROWS 512
/* A log value axis when the largest value is this many times the smallest
 * positive one or more (the times chart's rule): on a linear axis a step
 * 1000 times smaller than GLOBAL is a bar under a pixel wide (issue 9). */
#define LOG_RATIO 20.0

static const pb__rgb BLACK = {0, 0, 0};

typedef struct row {
  const char *topic;
  char label[PB__LABEL_CHARS * 4 + 8]; /* the topic ellipsized */
  bool global;
} row;

/* True when topic t of run k was met in an earlier run (hash look-ups). */
static bool seen_before(const pb__chart_ctx *c, size_t k, const char *tn) {
  for (size_t j = 0; j < k; j++)
    if (pb_record_topic_index(c->records[j], tn) >= 0) return true;
  return false;
}

/* Topics shown of all runs in order of first appearance (the colour order
 * of the other charts), GLOBAL moved last; at most MAX_ROWS. */
static size_t collect_rows(const pb__chart_ctx *c, row *rows) {
  size_t n = 0;
  bool global = false;
  for (size_t k = 0; k < c->n && n < MAX_ROWS - 1; k++) {
    for (size_t t = 0; t < pb_record_topic_count(c->records[k]) && n < MAX_ROWS - 1; t++) {
      const char *tn = pb_record_topic(c->records[k], t);
      if (!pb__topic_shown(c, tn)) continue;
      if (strcmp(tn, "GLOBAL") == 0) {
        global = true;
        continue;
      }
      if (seen_before(c, k, tn)) continue;
      rows[n].topic = tn;
      rows[n].global = false;
      pb__ellipsize(tn, PB__LABEL_CHARS, rows[n].label, sizeof rows[n].label);
      n++;
    }
  }
  for (size_t k = 0; k < c->n && !global; k++)
    global = pb_record_topic_index(c->records[k], "GLOBAL") >= 0;
  if (global) {
    rows[n].topic = "GLOBAL";
    rows[n].global = true;
    snprintf(rows[n].label, sizeof rows[n].label, "GLOBAL");
    n++;
  }
  return n;
}

/* A grid line and its label at value v (seconds), tick text buf. */
static void tick_at(pb__canvas *cv, const pb__axes *ax, double v, const char *buf) {
  cairo_t *cr = cv->cr;
  double x = floor(pb__ax_x(ax, v)) + 0.5;
  cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, x, ax->top);
  cairo_line_to(cr, x, ax->bottom);
  cairo_stroke(cr);
  pb__text(cv, x, ax->bottom + 6, buf, PB__FONT_TICK, false, PB__CENTER, PB__TOP, 0, BLACK);
}

/* The value axis' grid and ticks in the chosen unit (scale seconds per
 * unit): every decade on a log axis, nice steps on a linear one; at most
 * PB__MAX_TICKS, so that a huge or non-finite range cannot loop forever. */
static void value_ticks(pb__canvas *cv, const pb__axes *ax, double scale, double pw) {
  char buf[64];
  int nt = 0;
  if (ax->xlog) { /* decades of seconds, each with its own unit: "10 ns", "1 ms" */
    for (double e = ceil(log10(ax->xmin) - 1e-9);
         e <= log10(ax->xmax) + 1e-9 && nt++ < PB__MAX_TICKS; e++) {
      pb__fmt_seconds(pow(10, e), buf, sizeof buf);
      char *dot = strstr(buf, ".0"); /* "10.0 ns" -> "10 ns" */
      if (dot)
        memmove(dot, dot + strspn(dot + 1, "0") + 1, strlen(dot + strspn(dot + 1, "0") + 1) + 1);
      tick_at(cv, ax, pow(10, e), buf);
    }
    return;
  }
  double step = pb__nice_step(ax->xmax / scale, pw / 90);
  for (double v = 0; v <= ax->xmax / scale + step * 1e-9 && nt++ < PB__MAX_TICKS; v += step) {
    pb__fmt_tick(v, step, buf, sizeof buf);
    tick_at(cv, ax, v * scale, buf);
  }
}

int pb__chart_bars(pb__chart_ctx *c) {
  pb__canvas *cv = c->cv;
  row *rows = malloc(MAX_ROWS * sizeof *rows);
  if (!rows) return PB_ENOMEM;
  size_t nr = collect_rows(c, rows);
  /* stats[k][r]: NAN mean when the run lacks the topic */
  pb_stats *st = calloc(nr * c->n + 1, sizeof *st);
  if (!st) {
    free(rows);
    return PB_ENOMEM;
  }
  double vmax = 0, vmin = INFINITY;
  for (size_t k = 0; k < c->n; k++) {
    for (size_t r = 0; r < nr; r++) {
      pb_stats *s = &st[k * nr + r];
      long t = pb_record_topic_index(c->records[k], rows[r].topic);
      s->mean = s->quantile_filtered = NAN;
      if (t < 0 || pb_record_stats(c->records[k], (size_t)t, s) != PB_OK) continue;
      if (s->mean > vmax) vmax = s->mean;
      if (s->quantile_filtered > vmax) vmax = s->quantile_filtered;
      if (s->mean > 0 && s->mean < vmin) vmin = s->mean;
      if (s->quantile_filtered > 0 && s->quantile_filtered < vmin) vmin = s->quantile_filtered;
    }
  }
  if (!(vmax > 0)) vmax = 1e-9;
  bool xlog = isfinite(vmin) && vmax / vmin >= LOG_RATIO;
  double scale;
  const char *unit = pb__time_unit(vmax, &scale);

  /* layout: title, name column, two panels; legend of runs when several */
  char title[512];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 mean and quantile-filtered mean per topic",
           c->title);
  double th;
  pb__text_size(cv, title, PB__FONT_TITLE, true, NULL, &th);
  pb__text(cv, cv->w / 2, 10, title, PB__FONT_TITLE, true, PB__CENTER, PB__TOP, 0, BLACK);
  double namew = 0;
  for (size_t r = 0; r < nr; r++) {
    double w;
    pb__text_size(cv, rows[r].label, PB__FONT_LABEL, rows[r].global, &w, NULL);
    if (w > namew) namew = w;
  }
  if (namew > 320) namew = 320;
  pb__legend_item *items = calloc(c->n + 1, sizeof *items);
  if (!items) {
    free(rows);
    free(st);
    return PB_ENOMEM;
  }
  for (size_t k = 0; k < c->n; k++)
    items[k] = (pb__legend_item){c->labels[k], pb__palette(k), PB__SW_BOX, 0};
  double legw = c->n > 1 ? pb__legend_width(cv, items, c->n, cv->h - 120) : 0;
  double top = 10 + th + 40, bottom = cv->h - 56;
  double left = 16 + namew + 14, right = cv->w - 20 - legw;
  double gap = 80, pw = (right - left - gap) / 2; /* room for both panels' end ticks */
  double rowh = (bottom - top) / (double)(nr ? nr : 1);
  double barh = (rowh - 8) / (double)c->n;
  if (barh > 34) barh = 34;

  static const char *const panel_titles[2] = {"mean", "quantile-filtered mean (1.5 IQR)"};
  char buf[64], xlabel[64];
  if (xlog)
    snprintf(xlabel, sizeof xlabel, "time per iteration (log scale)");
  else
    snprintf(xlabel, sizeof xlabel, "time per iteration (%s)", unit);
  for (int p = 0; p < 2; p++) {
    pb__axes ax = {left + p * (pw + gap),
                   top,
                   left + p * (pw + gap) + pw,
                   bottom,
                   0,
                   vmax * 1.22,
                   0,
                   1,
                   false,
                   xlog};
    if (xlog) { /* from the decade below the smallest value: its bar stays long */
      ax.xmin = pow(10, floor(log10(vmin / 2)));
      ax.xmax = vmax * pow(10, 0.15 * log10(vmax / ax.xmin));
    }
    cairo_t *cr = cv->cr;
    pb__text(cv, (ax.left + ax.right) / 2, top - 8, panel_titles[p], PB__FONT_LABEL, true,
             PB__CENTER, PB__BOTTOM, 0, BLACK);
    value_ticks(cv, &ax, scale, pw);
    if (c->geom && p == 0) c->geom->ax = ax; /* the mean panel */
    pb__text(cv, (ax.left + ax.right) / 2, cv->h - 8, xlabel, PB__FONT_LABEL, false, PB__CENTER,
             PB__BOTTOM, 0, BLACK);
    for (size_t r = 0; r < nr; r++) {
      double ry = top + rowh * (double)r + (rowh - barh * (double)c->n) / 2;
      if (p == 0)
        pb__text(cv, left - 14, top + rowh * ((double)r + 0.5), rows[r].label, PB__FONT_LABEL,
                 rows[r].global, PB__RIGHT, PB__MIDDLE, 0, BLACK);
      for (size_t k = 0; k < c->n; k++) {
        const pb_stats *s = &st[k * nr + r];
        double v = p == 0 ? s->mean : s->quantile_filtered;
        double by = ry + barh * (double)k;
        if (isnan(v)) {
          pb__text(cv, ax.left + 4, by + barh / 2, "n/a", PB__FONT_SMALL, false, PB__LEFT,
                   PB__MIDDLE, 0, (pb__rgb){0.4, 0.4, 0.4});
          continue;
        }
        pb__rgb col = c->n > 1         ? pb__palette(k)
                      : rows[r].global ? (pb__rgb){0.2, 0.2, 0.2}
                                       : pb__palette(r);
        double x1 = pb__ax_x(&ax, v);
        cairo_set_source_rgb(cr, col.r, col.g, col.b);
        cairo_rectangle(cr, ax.left, by + 1, x1 - ax.left, barh - 2);
        cairo_fill(cr);
        pb__fmt_seconds(v, buf, sizeof buf);
        double tw;
        pb__text_size(cv, buf, PB__FONT_SMALL, false, &tw, NULL);
        if (x1 + 4 + tw <= ax.right)
          pb__text(cv, x1 + 4, by + barh / 2, buf, PB__FONT_SMALL, false, PB__LEFT, PB__MIDDLE, 0,
                   BLACK);
        else
          pb__text(cv, x1 - 4, by + barh / 2, buf, PB__FONT_SMALL, true, PB__RIGHT, PB__MIDDLE, 0,
                   (pb__rgb){1, 1, 1});
      }
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, floor(ax.left) + 0.5, floor(ax.top) + 0.5, floor(ax.right - ax.left),
                    floor(ax.bottom - ax.top));
    cairo_stroke(cr);
  }
  if (c->n > 1) pb__legend_draw(cv, items, c->n, right + 10, top, bottom - top);
  free(items);
  free(st);
  free(rows);
  return PB_OK;
}
