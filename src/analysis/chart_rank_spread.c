/*
 * chart_rank_spread.c - the per-topic spread of a multi-rank run: for each
 * topic of one benchmarker a horizontal bar from the smallest to the
 * largest per-rank mean (pb_run_rank_spread), a tick at their mean, a dot
 * per rank, and a label naming the slowest rank and the imbalance
 * (max/mean). The time axis is logarithmic when the values span two
 * decades or more. Probe topics are left out unless opts->show_probes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "chart_rank_spread.h"

#define W 1400.0
#define ROW_H 44.0
#define TOP 92.0
#define BOTTOM_MARGIN 72.0
#define LABEL_W 300.0 /* right of the plot area: the slowest-rank labels */
#define MAX_ROWS 400  /* topics drawn at most (the canvas stays under 20,000 px) */

static const pb__rgb BLACK = {0, 0, 0};
static const pb__rgb GREY = {0.4, 0.4, 0.4};

/* One topic's row: its name (the run's storage) and its spread. */
typedef struct spread_row {
  const char *topic;
  pb_rank_spread sp;
  size_t color; /* palette index among the non-GLOBAL topics */
} spread_row;

/* The rows and the time axis, in seconds. */
typedef struct spread_data {
  spread_row *rows;
  size_t n, cap, total; /* total: topics found before the MAX_ROWS cut */
  double lo, hi;        /* smallest positive and largest per-rank mean */
  pb__axes ax;          /* the time axis (x) and the plot area; no y range */
  char probe_note[192]; /* GLOBAL's hidden probe time, "" if none */
} spread_data;

static bool listed(const spread_data *d, const char *topic) {
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->rows[i].topic, topic) == 0) return true;
  return false;
}

static int append(spread_data *d, const char *topic) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    spread_row *rows = realloc(d->rows, cap * sizeof *rows);
    if (!rows) return PB_ENOMEM;
    d->rows = rows;
    d->cap = cap;
  }
  d->rows[d->n++] = (spread_row){.topic = topic, .sp = {.min_rank = -1, .max_rank = -1}};
  return PB_OK;
}

/* The topics of record over the ranks, in order of first appearance
 * (rank by rank), GLOBAL last, probes only when show_probes. */
static int list_topics(const pb_run *run, const char *record, bool probes, spread_data *d) {
  bool global = false;
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    const pb_record *r = pb_run_find(pb_run_rank(run, i), record);
    for (size_t t = 0; r && t < pb_record_topic_count(r); t++) {
      const char *name = pb_record_topic(r, t);
      if (strcmp(name, "GLOBAL") == 0) {
        global = true;
        continue;
      }
      if ((!probes && pb_topic_is_probe(name)) || listed(d, name)) continue;
      int rc = append(d, name);
      if (rc) return rc;
    }
  }
  return global ? append(d, "GLOBAL") : PB_OK;
}

/* Each topic's spread; topics no rank has a value of are dropped. */
static int fill_spreads(const pb_run *run, const char *record, spread_data *d) {
  size_t kept = 0, color = 0;
  d->lo = INFINITY;
  d->hi = -INFINITY;
  for (size_t i = 0; i < d->n; i++) {
    spread_row row = d->rows[i];
    int rc = pb_run_rank_spread(run, record, row.topic, &row.sp);
    if (rc) return rc;
    if (row.sp.ranks == 0) continue;
    row.color = strcmp(row.topic, "GLOBAL") == 0 ? 0 : color++;
    if (row.sp.min > 0 && row.sp.min < d->lo) d->lo = row.sp.min;
    if (row.sp.max > d->hi) d->hi = row.sp.max;
    d->rows[kept++] = row;
  }
  d->total = kept;
  d->n = kept < MAX_ROWS ? kept : MAX_ROWS;
  return kept ? PB_OK : PB_ENOTFOUND;
}

/* The time axis: logarithmic over whole decades when the values span two
 * decades or more, else linear from zero to a rounded maximum. */
static void choose_axis(spread_data *d) {
  double hi = d->hi > 0 ? d->hi : 1e-9;
  d->ax.xlog = isfinite(d->lo) && hi / d->lo >= 100;
  if (d->ax.xlog) {
    d->ax.xmin = pow(10, floor(log10(d->lo)));
    d->ax.xmax = pow(10, ceil(log10(hi)));
    if (d->ax.xmax <= d->ax.xmin) d->ax.xmax = d->ax.xmin * 10;
    return;
  }
  double step = pb__nice_step(hi * 1.02, 8);
  d->ax.xmin = 0;
  d->ax.xmax = ceil(hi * 1.02 / step) * step;
}

/* The plot area: the left margin fits the longest (ellipsized) topic name. */
static void lay_out(pb__canvas *cv, spread_data *d) {
  double widest = 60;
  for (size_t i = 0; i < d->n; i++) {
    char buf[PB__LABEL_CHARS * 4 + 8];
    double w;
    pb__ellipsize(d->rows[i].topic, PB__LABEL_CHARS, buf, sizeof buf);
    pb__text_size(cv, buf, PB__FONT_LABEL, true, &w, NULL);
    if (w > widest) widest = w;
  }
  d->ax.left = widest + 30;
  d->ax.right = W - LABEL_W;
  d->ax.top = TOP;
  d->ax.bottom = TOP + (double)d->n * ROW_H;
}

/* Vertical grid lines and tick labels below the plot area, and the axis label. */
static void draw_axis(pb__canvas *cv, const spread_data *d) {
  cairo_t *cr = cv->cr;
  cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
  cairo_set_line_width(cr, 1);
  double scale = 1, step = 0;
  const char *unit = d->ax.xlog ? NULL : pb__time_unit(d->ax.xmax, &scale);
  if (!d->ax.xlog) step = pb__nice_step(d->ax.xmax / scale, 8);
  double e0 = d->ax.xlog ? round(log10(d->ax.xmin)) : 0; /* decades from an exact power of 10 */
  for (int k = 0; k < PB__MAX_TICKS; k++) {
    double v = d->ax.xlog ? pow(10, e0 + k) : k * step * scale;
    if (v > d->ax.xmax * (1 + 1e-9)) break;
    double x = pb__ax_x(&d->ax, v);
    char buf[40];
    if (d->ax.xlog)
      pb__fmt_seconds(v, buf, sizeof buf);
    else
      pb__fmt_tick(v / scale, step, buf, sizeof buf);
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, x, d->ax.top);
    cairo_line_to(cr, x, d->ax.bottom);
    cairo_stroke(cr);
    pb__text(cv, x, d->ax.bottom + 6, buf, PB__FONT_TICK, false, PB__CENTER, PB__TOP, 0, BLACK);
  }
  char label[96];
  if (d->ax.xlog)
    snprintf(label, sizeof label, "mean time per iteration (log scale)");
  else
    snprintf(label, sizeof label, "mean time per iteration (%s)", unit);
  pb__text(cv, (d->ax.left + d->ax.right) / 2, d->ax.bottom + 30, label, PB__FONT_LABEL, false,
           PB__CENTER, PB__TOP, 0, BLACK);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_rectangle(cr, d->ax.left, d->ax.top, d->ax.right - d->ax.left, d->ax.bottom - d->ax.top);
  cairo_stroke(cr);
}

/* One dot per rank that has the topic, at its mean. */
static void draw_rank_dots(pb__canvas *cv, const pb_run *run, const char *record,
                           const spread_data *d, const spread_row *row, double y, pb__rgb c) {
  size_t nr = pb_run_rank_count(run);
  double radius = nr > 64 ? 2.0 : 3.5;
  cairo_set_source_rgb(cv->cr, c.r * 0.6, c.g * 0.6, c.b * 0.6);
  for (size_t i = 0; i < nr; i++) {
    double m = pb_run_rank_mean(run, i, record, row->topic);
    if (isnan(m)) continue;
    cairo_new_sub_path(cv->cr);
    cairo_arc(cv->cr, pb__ax_x(&d->ax, m), y, radius, 0, 2 * M_PI);
  }
  cairo_fill(cv->cr);
}

/* Row i: the name, the min-max bar, the mean tick, the dots and the label. */
static void draw_row(pb__canvas *cv, const pb_run *run, const char *record, const spread_data *d,
                     size_t i, pb__spread_geom *geom) {
  const spread_row *row = &d->rows[i];
  bool global = strcmp(row->topic, "GLOBAL") == 0;
  pb__rgb c = pb__topic_color(row->topic, row->color);
  double y = d->ax.top + ((double)i + 0.5) * ROW_H;
  double x0 = pb__ax_x(&d->ax, row->sp.min), x1 = pb__ax_x(&d->ax, row->sp.max),
         xm = pb__ax_x(&d->ax, row->sp.mean);
  if (x1 - x0 < 2) x1 = x0 + 2; /* a balanced topic is still a visible bar */
  char name[PB__LABEL_CHARS * 4 + 8], label[96];
  pb__ellipsize(row->topic, PB__LABEL_CHARS, name, sizeof name);
  pb__text(cv, d->ax.left - 12, y, name, PB__FONT_LABEL, global, PB__RIGHT, PB__MIDDLE, 0, BLACK);
  cairo_set_source_rgba(cv->cr, c.r, c.g, c.b, 0.35);
  cairo_rectangle(cv->cr, x0, y - 8, x1 - x0, 16);
  cairo_fill_preserve(cv->cr);
  cairo_set_source_rgb(cv->cr, c.r, c.g, c.b);
  cairo_set_line_width(cv->cr, 1.5);
  cairo_stroke(cv->cr);
  draw_rank_dots(cv, run, record, d, row, y, c);
  cairo_set_source_rgb(cv->cr, 0, 0, 0);
  cairo_set_line_width(cv->cr, 2.5);
  cairo_move_to(cv->cr, xm, y - 13);
  cairo_line_to(cv->cr, xm, y + 13);
  cairo_stroke(cv->cr);
  int n = snprintf(label, sizeof label, "slowest rank %d, max/mean %.2f", row->sp.max_rank,
                   row->sp.imbalance);
  if (row->sp.ranks < pb_run_rank_count(run) && n > 0 && (size_t)n < sizeof label)
    snprintf(label + n, sizeof label - (size_t)n, " (%zu ranks)", row->sp.ranks);
  pb__text(cv, x1 + 8, y, label, PB__FONT_SMALL, false, PB__LEFT, PB__MIDDLE, 0, GREY);
  if (geom && i < PB__SPREAD_GEOM_ROWS) {
    pb__spread_row *g = &geom->rows[i];
    *g = (pb__spread_row){
        .y = y, .x_min = x0, .x_mean = xm, .x_max = x1, .max_rank = row->sp.max_rank};
    snprintf(g->topic, sizeof g->topic, "%s", row->topic);
    snprintf(g->label, sizeof g->label, "%s", label);
  }
}

/* With the probes hidden and GLOBAL drawn: the probes' time GLOBAL includes,
 * smallest to largest over the ranks (pb_record_probe_time). */
static void probe_note(const pb_run *run, const char *record, spread_data *d) {
  double lo = INFINITY, hi = -INFINITY;
  d->probe_note[0] = 0;
  if (!listed(d, "GLOBAL")) return;
  for (size_t i = 0; i < pb_run_rank_count(run); i++) {
    double mean;
    if (pb_record_probe_time(pb_run_find(pb_run_rank(run, i), record), &mean, NULL) != PB_OK)
      continue;
    lo = fmin(lo, mean);
    hi = fmax(hi, mean);
  }
  if (!isfinite(lo)) return;
  char a[32], b[32];
  pb__fmt_seconds(lo, a, sizeof a);
  pb__fmt_seconds(hi, b, sizeof b);
  if (strcmp(a, b) == 0)
    snprintf(d->probe_note, sizeof d->probe_note,
             "GLOBAL includes the hidden memory probes: %s per iteration (mean)", a);
  else
    snprintf(d->probe_note, sizeof d->probe_note,
             "GLOBAL includes the hidden memory probes: %s to %s per iteration (mean), by rank", a,
             b);
}

static void draw_titles(pb__canvas *cv, const pb_run *run, const char *record,
                        const spread_data *d) {
  char title[512], note[256];
  snprintf(title, sizeof title, "%.200s: per-rank mean of each topic across %zu ranks", record,
           pb_run_rank_count(run));
  pb__text(cv, W / 2, 16, title, PB__FONT_TITLE, true, PB__CENTER, PB__TOP, 0, BLACK);
  int n = snprintf(note, sizeof note,
                   "bar: min to max over the ranks that have the topic; black tick: their "
                   "mean; dots: one per rank");
  if (d->total > d->n && n > 0 && (size_t)n < sizeof note)
    snprintf(note + n, sizeof note - (size_t)n, "; first %zu of %zu topics", d->n, d->total);
  pb__text(cv, W / 2, 48, note, PB__FONT_SMALL, false, PB__CENTER, PB__TOP, 0, GREY);
  if (d->probe_note[0])
    pb__text(cv, W / 2, 66, d->probe_note, PB__FONT_SMALL, false, PB__CENTER, PB__TOP, 0, BLACK);
}

static void draw(pb__canvas *cv, const pb_run *run, const char *record, spread_data *d,
                 pb__spread_geom *geom) {
  lay_out(cv, d);
  draw_titles(cv, run, record, d);
  draw_axis(cv, d);
  for (size_t i = 0; i < d->n; i++) draw_row(cv, run, record, d, i, geom);
  if (geom) {
    geom->left = d->ax.left;
    geom->top = d->ax.top;
    geom->right = d->ax.right;
    geom->bottom = d->ax.bottom;
    geom->xlog = d->ax.xlog;
    geom->xmin = d->ax.xmin;
    geom->xmax = d->ax.xmax;
    geom->nrows = d->n;
    snprintf(geom->probe_note, sizeof geom->probe_note, "%s", d->probe_note);
  }
}

static int render(const pb_run *run, const char *record, pb_format fmt, const char *file,
                  spread_data *d, pb__spread_geom *geom) {
  pb__canvas cv;
  int rc = pb__canvas_open(&cv, fmt, file, W, TOP + (double)d->n * ROW_H + BOTTOM_MARGIN);
  if (rc == PB_OK) draw(&cv, run, record, d, geom);
  return pb__canvas_close(&cv, file, rc);
}

int pb__chart_rank_spread_render(const pb_run *run, const char *record,
                                 const pb_chart_options *opts, pb_format fmt, const char *file,
                                 pb__spread_geom *geom, pb_error *err) {
  int rc =
      !record || !file || !pb_format_ext(fmt) || pb_run_rank_count(run) == 0 ? PB_EINVAL : PB_OK;
  spread_data d;
  memset(&d, 0, sizeof d);
  if (geom) memset(geom, 0, sizeof *geom);
  if (rc == PB_OK) rc = list_topics(run, record, opts && opts->show_probes, &d);
  if (rc == PB_OK) rc = fill_spreads(run, record, &d);
  if (rc == PB_OK && !(opts && opts->show_probes)) probe_note(run, record, &d);
  if (rc == PB_OK) {
    choose_axis(&d);
    rc = render(run, record, fmt, file, &d, geom);
  }
  free(d.rows);
  if (rc && err) {
    err->code = rc;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message,
             "%s: cannot draw the per-topic rank spread of %s (%s)", file ? file : "(null)",
             record ? record : "(null)", pb_analysis_strerror(rc));
  }
  return rc;
}

int pb_chart_rank_spread_write(const pb_run *run, const char *record, const pb_chart_options *opts,
                               pb_format fmt, const char *file, pb_error *err) {
  return pb__chart_rank_spread_render(run, record, opts, fmt, file, NULL, err);
}
