/*
 * chart_ranks.c - the per-rank view of a multi-rank run: a rank x iteration
 * heat map of one topic (GLOBAL by default). Rows are ranks (lowest at the
 * top), columns iterations; more ranks or iterations than pixels are
 * reduced to the largest value per pixel, so a slow cell never disappears.
 * Not yet listed by pb_plots_write (plots.c): pb_chart_ranks_write draws it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#define W 1600.0
#define H 760.0
#define LEFT 90.0
#define TOP 60.0
#define RIGHT (W - 170.0)
#define BOTTOM (H - 70.0)

static const pb__rgb BLACK = {0, 0, 0};

/* A viridis-like map of t in [0, 1]: dark purple (fast) to yellow (slow). */
static pb__rgb heat(double t) {
  static const pb__rgb stops[5] = {{68 / 255.0, 1 / 255.0, 84 / 255.0},
                                   {59 / 255.0, 82 / 255.0, 139 / 255.0},
                                   {33 / 255.0, 145 / 255.0, 140 / 255.0},
                                   {94 / 255.0, 201 / 255.0, 98 / 255.0},
                                   {253 / 255.0, 231 / 255.0, 37 / 255.0}};
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double x = t * 4;
  int i = x >= 4 ? 3 : (int)x;
  double f = x - i;
  pb__rgb a = stops[i], b = stops[i + 1];
  return (pb__rgb){a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

static uint32_t pixel(pb__rgb c) {
  return 0xFF000000u | (uint32_t)lround(c.r * 255) << 16 | (uint32_t)lround(c.g * 255) << 8 |
         (uint32_t)lround(c.b * 255);
}

/* The cells: cols x rows of the largest value per cell (NAN: none); range in lo, hi. */
typedef struct grid {
  double *v;
  size_t cols, rows, iters;
  double lo, hi;
} grid;

static int fill_grid(const pb_run *run, const char *rec, const char *topic, grid *g) {
  size_t nr = pb_run_rank_count(run);
  g->iters = 0;
  for (size_t i = 0; i < nr; i++) {
    size_t n = pb_record_iter_count(pb_run_find(pb_run_rank(run, i), rec));
    if (n > g->iters) g->iters = n;
  }
  if (g->iters == 0) return PB_ENOTFOUND;
  g->cols = g->iters < (size_t)(RIGHT - LEFT) ? g->iters : (size_t)(RIGHT - LEFT);
  g->rows = nr < (size_t)(BOTTOM - TOP) ? nr : (size_t)(BOTTOM - TOP);
  g->v = malloc(g->cols * g->rows * sizeof *g->v);
  if (!g->v) return PB_ENOMEM;
  for (size_t k = 0; k < g->cols * g->rows; k++) g->v[k] = NAN;
  g->lo = INFINITY;
  g->hi = -INFINITY;
  for (size_t i = 0; i < nr; i++) {
    const pb_record *r = pb_run_find(pb_run_rank(run, i), rec);
    long t = r ? pb_record_topic_index(r, topic) : -1;
    if (t < 0) continue;
    const double *abs = pb_record_absolutes(r, (size_t)t);
    size_t row = i * g->rows / nr;
    for (size_t k = 0; k < pb_record_iter_count(r); k++) {
      if (isnan(abs[k])) continue;
      double *cell = &g->v[row * g->cols + k * g->cols / g->iters];
      if (isnan(*cell) || abs[k] > *cell) *cell = abs[k];
      if (abs[k] < g->lo) g->lo = abs[k];
      if (abs[k] > g->hi) g->hi = abs[k];
    }
  }
  return g->lo <= g->hi ? PB_OK : PB_ENOTFOUND;
}

/* The grid as an image painted over the plot area, one flat colour per cell. */
static int draw_grid(pb__canvas *cv, const grid *g) {
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)g->cols, (int)g->rows);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) return PB_ENOMEM;
  unsigned char *data = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  double span = g->hi > g->lo ? g->hi - g->lo : 1;
  for (size_t y = 0; y < g->rows; y++) {
    uint32_t *px = (uint32_t *)(void *)(data + y * (size_t)stride);
    for (size_t x = 0; x < g->cols; x++) {
      double v = g->v[y * g->cols + x];
      px[x] = isnan(v) ? 0xFFE6E6E6u : pixel(heat((v - g->lo) / span));
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cv->cr);
  cairo_translate(cv->cr, LEFT, TOP);
  cairo_scale(cv->cr, (RIGHT - LEFT) / (double)g->cols, (BOTTOM - TOP) / (double)g->rows);
  cairo_set_source_surface(cv->cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cv->cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cv->cr, 0, 0, (double)g->cols, (double)g->rows);
  cairo_fill(cv->cr);
  cairo_restore(cv->cr);
  cairo_surface_destroy(img);
  return PB_OK;
}

/* Rank ticks on the left (first, last and a few between), iteration ticks below. */
static void draw_ticks(pb__canvas *cv, const pb_run *run, const grid *g) {
  size_t nr = pb_run_rank_count(run);
  size_t step = nr <= 16 ? 1 : (nr + 7) / 8;
  char buf[32];
  for (size_t i = 0; i < nr; i += step) {
    double y = TOP + ((double)i + 0.5) * (BOTTOM - TOP) / (double)nr;
    snprintf(buf, sizeof buf, "%d", pb_run_rank_id(run, i));
    pb__text(cv, LEFT - 6, y, buf, PB__FONT_TICK, false, PB__RIGHT, PB__MIDDLE, 0, BLACK);
  }
  double xs = pb__nice_step((double)g->iters, 10);
  if (xs < 1) xs = 1;
  for (double it = 0; it < (double)g->iters; it += xs) {
    double x = LEFT + (it + 0.5) * (RIGHT - LEFT) / (double)g->iters;
    snprintf(buf, sizeof buf, "%.0f", it);
    pb__text(cv, x, BOTTOM + 6, buf, PB__FONT_TICK, false, PB__CENTER, PB__TOP, 0, BLACK);
  }
  pb__text(cv, (LEFT + RIGHT) / 2, BOTTOM + 30, "iteration", PB__FONT_LABEL, false, PB__CENTER,
           PB__TOP, 0, BLACK);
  pb__text(cv, 24, (TOP + BOTTOM) / 2, "rank", PB__FONT_LABEL, false, PB__CENTER, PB__MIDDLE,
           -M_PI / 2, BLACK);
}

/* The colour bar: lo at the bottom, hi at the top. */
static void draw_colorbar(pb__canvas *cv, const grid *g) {
  double x = RIGHT + 30, w = 24;
  for (int k = 0; k < 200; k++) {
    pb__rgb c = heat(k / 199.0);
    cairo_set_source_rgb(cv->cr, c.r, c.g, c.b);
    double y0 = BOTTOM - (k + 1) * (BOTTOM - TOP) / 200.0;
    cairo_rectangle(cv->cr, x, y0, w, (BOTTOM - TOP) / 200.0 + 0.5);
    cairo_fill(cv->cr);
  }
  char lo[32], hi[32];
  pb__fmt_seconds(g->lo, lo, sizeof lo);
  pb__fmt_seconds(g->hi, hi, sizeof hi);
  pb__text(cv, x + w + 6, TOP, hi, PB__FONT_TICK, false, PB__LEFT, PB__MIDDLE, 0, BLACK);
  pb__text(cv, x + w + 6, BOTTOM, lo, PB__FONT_TICK, false, PB__LEFT, PB__MIDDLE, 0, BLACK);
}

static int draw(pb__canvas *cv, const pb_run *run, const char *rec, const char *topic,
                const grid *g) {
  char title[512];
  snprintf(title, sizeof title, "%s: %s per rank and iteration (%zu ranks)", rec, topic,
           pb_run_rank_count(run));
  pb__text(cv, W / 2, 18, title, PB__FONT_TITLE, true, PB__CENTER, PB__TOP, 0, BLACK);
  int rc = draw_grid(cv, g);
  if (rc == PB_OK) {
    draw_ticks(cv, run, g);
    draw_colorbar(cv, g);
  }
  return rc;
}

static int render(const pb_run *run, const char *rec, const char *topic, pb_format fmt,
                  const char *file, const grid *g) {
  pb__canvas cv;
  int rc = pb__canvas_open(&cv, fmt, file, W, H);
  if (rc == PB_OK) rc = draw(&cv, run, rec, topic, g);
  return pb__canvas_close(&cv, file, rc);
}

int pb_chart_ranks_write(const pb_run *run, const char *record, const char *topic, pb_format fmt,
                         const char *file, pb_error *err) {
  const char *t = topic ? topic : "GLOBAL";
  int rc =
      !record || !file || !pb_format_ext(fmt) || pb_run_rank_count(run) == 0 ? PB_EINVAL : PB_OK;
  grid g = {NULL, 0, 0, 0, 0, 0};
  if (rc == PB_OK) rc = fill_grid(run, record, t, &g);
  if (rc == PB_OK) rc = render(run, record, t, fmt, file, &g);
  free(g.v);
  if (rc && err) {
    err->code = rc;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%s: cannot draw the per-rank chart of %s/%s (%s)",
             file ? file : "(null)", record ? record : "(null)", t, pb_analysis_strerror(rc));
  }
  return rc;
}
