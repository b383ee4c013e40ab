/*
 * chart.c - the canvas, text, axes, legend and series helpers of chart.h,
 * and pb_chart_write, which dispatches to the chart types.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <png.h>
#include <setjmp.h>

#include "chart.h"

#define FONT_FAMILY "DejaVu Sans, Sans"

/* ---- canvas -------------------------------------------------------------- */

int pb__canvas_open(pb__canvas *cv, pb_format fmt, const char *file, double w, double h) {
  memset(cv, 0, sizeof *cv);
  cv->fmt = fmt;
  cv->w = w;
  cv->h = h;
  switch (fmt) {
    case PB_FORMAT_PNG:
      cv->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
      break;
    case PB_FORMAT_SVG: cv->surface = cairo_svg_surface_create(file, w, h); break;
    case PB_FORMAT_PDF: cv->surface = cairo_pdf_surface_create(file, w, h); break;
  }
  if (!cv->surface || cairo_surface_status(cv->surface) != CAIRO_STATUS_SUCCESS) return PB_ECHART;
  cv->cr = cairo_create(cv->surface);
  if (cairo_status(cv->cr) != CAIRO_STATUS_SUCCESS) return PB_ECHART;
  cv->layout = pango_cairo_create_layout(cv->cr);
  cv->font = pango_font_description_from_string(FONT_FAMILY);
  if (!cv->layout || !cv->font) return PB_ENOMEM;
  cairo_set_source_rgb(cv->cr, 1, 1, 1);
  cairo_paint(cv->cr);
  return PB_OK;
}

/*
 * Writes an RGB24 image surface as PNG. cairo_surface_write_to_png uses
 * zlib's default level; level 3 with the "up" filter is about three times
 * faster on charts (large flat areas) for files a little larger.
 */
static int write_png(cairo_surface_t *s, const char *file) {
  cairo_surface_flush(s);
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *data = cairo_image_surface_get_data(s);
  FILE *f = fopen(file, "wb");
  if (!f) return PB_EIO;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  unsigned char *row = malloc((size_t)w * 3);
  volatile int rc = PB_EIO;
  if (png && info && row && setjmp(png_jmpbuf(png)) == 0) {
    png_init_io(png, f);
    png_set_compression_level(png, 3);
    png_set_filter(png, 0, PNG_FILTER_UP);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
      const uint32_t *px = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
      for (int x = 0; x < w; x++) {
        row[3 * x] = (unsigned char)(px[x] >> 16);
        row[3 * x + 1] = (unsigned char)(px[x] >> 8);
        row[3 * x + 2] = (unsigned char)px[x];
      }
      png_write_row(png, row);
    }
    png_write_end(png, NULL);
    rc = PB_OK;
  }
  png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
  free(row);
  if (fclose(f) != 0) rc = PB_EIO;
  if (rc != PB_OK) remove(file);
  return rc;
}

int pb__canvas_close(pb__canvas *cv, const char *file, int rc) {
  if (cv->layout) g_object_unref(cv->layout);
  if (cv->font) pango_font_description_free(cv->font);
  if (cv->cr) {
    if (rc == PB_OK && cairo_status(cv->cr) != CAIRO_STATUS_SUCCESS) rc = PB_ECHART;
    cairo_destroy(cv->cr);
  }
  if (cv->surface) {
    if (rc == PB_OK && cv->fmt == PB_FORMAT_PNG) rc = write_png(cv->surface, file);
    cairo_surface_finish(cv->surface);
    if (rc == PB_OK && cairo_surface_status(cv->surface) != CAIRO_STATUS_SUCCESS) rc = PB_EIO;
    cairo_surface_destroy(cv->surface);
  }
  return rc;
}

/* ---- text ---------------------------------------------------------------- */

static void set_text(pb__canvas *cv, const char *text, double size, bool bold) {
  pango_font_description_set_absolute_size(cv->font, size * PANGO_SCALE);
  pango_font_description_set_weight(cv->font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description(cv->layout, cv->font);
  pango_layout_set_text(cv->layout, text, -1);
}

void pb__text_size(pb__canvas *cv, const char *text, double size, bool bold, double *w, double *h) {
  set_text(cv, text, size, bold);
  int pw, ph;
  pango_layout_get_pixel_size(cv->layout, &pw, &ph);
  if (w) *w = pw;
  if (h) *h = ph;
}

void pb__text_log_free(pb__text_log *log) {
  if (!log) return;
  free(log->items);
  memset(log, 0, sizeof *log);
}

/* Appends text and its extent (a pw x ph box with its (ax, ay) point at
 * (x, y), rotated by angle about it) to the canvas' log, if any. */
static void log_text(pb__canvas *cv, double x, double y, const char *text, double size, bool bold,
                     double ax, double ay, double angle, int pw, int ph) {
  pb__text_log *log = cv->log;
  if (log->n == log->cap) {
    size_t cap = log->cap ? 2 * log->cap : 64;
    pb__drawn_text *items = realloc(log->items, cap * sizeof *items);
    if (!items) return; /* a test's log: it then misses the text and fails */
    log->items = items;
    log->cap = cap;
  }
  pb__drawn_text *d = &log->items[log->n++];
  snprintf(d->text, sizeof d->text, "%s", text);
  d->size = size;
  d->bold = bold;
  double c = cos(angle), s = sin(angle);
  d->x0 = d->y0 = INFINITY;
  d->x1 = d->y1 = -INFINITY;
  for (int k = 0; k < 4; k++) {
    double u = ((k & 1) - ax) * pw, v = ((k >> 1) - ay) * ph;
    double X = x + u * c - v * s, Y = y + u * s + v * c;
    d->x0 = fmin(d->x0, X);
    d->x1 = fmax(d->x1, X);
    d->y0 = fmin(d->y0, Y);
    d->y1 = fmax(d->y1, Y);
  }
}

void pb__text(pb__canvas *cv, double x, double y, const char *text, double size, bool bold,
              double ax, double ay, double angle, pb__rgb color) {
  cairo_t *cr = cv->cr;
  set_text(cv, text, size, bold);
  int pw, ph;
  pango_layout_get_pixel_size(cv->layout, &pw, &ph);
  if (cv->log) log_text(cv, x, y, text, size, bold, ax, ay, angle, pw, ph);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  if (angle != 0) cairo_rotate(cr, angle);
  cairo_move_to(cr, -ax * pw, -ay * ph);
  cairo_set_source_rgb(cr, color.r, color.g, color.b);
  pango_cairo_update_layout(cr, cv->layout);
  pango_cairo_show_layout(cr, cv->layout);
  cairo_restore(cr);
}

/* ---- colours and styles -------------------------------------------------- */

pb__rgb pb__palette(size_t i) {
  /* Tableau colours without its red (the outlier colour) and grey (the
   * call-order thread), then four more far from all of them */
  static const pb__rgb p[PB__PALETTE_N] = {
      {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.580, 0.404, 0.741},
      {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812},
      {0.100, 0.150, 0.450}, {0.850, 0.650, 0.000}, {0.000, 0.500, 0.450}, {0.550, 0.000, 0.450}};
  return p[i % PB__PALETTE_N];
}

pb__rgb pb__topic_color(const char *topic, size_t index) {
  if (topic && strcmp(topic, "GLOBAL") == 0) return (pb__rgb){0.15, 0.15, 0.15};
  return pb__palette(index);
}

bool pb__topic_shown(const pb__chart_ctx *c, const char *name) {
  return c->opts.show_probes || !pb_topic_is_probe(name);
}

/* Appends the probe time of run k to buf (*len bytes so far): one run's
 * sentence, or "<label> <time> (<share>)" in a list of several. */
static void probe_clause(const pb__chart_ctx *c, size_t k, double mean, double share, char *buf,
                         size_t n, size_t *len) {
  char t[32], pct[32] = "";
  pb__fmt_seconds(mean, t, sizeof t);
  if (isfinite(share)) snprintf(pct, sizeof pct, "%.1f%%", 100 * share);
  int w = c->n == 1 ? snprintf(buf + *len, n - *len, "%s per iteration (mean)%s%s of GLOBAL", t,
                               pct[0] ? ", " : "", pct)
                    : snprintf(buf + *len, n - *len, "%s%s %s%s%s%s", *len > 0 ? ", " : "",
                               c->labels[k], t, pct[0] ? " (" : "", pct, pct[0] ? ")" : "");
  if (w > 0) *len = *len + (size_t)w < n ? *len + (size_t)w : n - 1;
}

bool pb__probe_note(const pb__chart_ctx *c, char *buf, size_t n) {
  char list[512] = "";
  size_t len = 0, found = 0;
  for (size_t k = 0; k < c->n && !c->opts.show_probes; k++) {
    double mean, share = NAN;
    if (pb_record_probe_time(c->records[k], &mean, &share) != PB_OK) continue;
    probe_clause(c, k, mean, share, list, sizeof list, &len);
    found++;
  }
  if (!found) {
    if (n) buf[0] = 0;
    return false;
  }
  snprintf(buf, n, "GLOBAL includes the hidden memory probes%s %s",
           c->n == 1 ? ":" : " (mean per iteration, share of GLOBAL):", list);
  return true;
}

char *pb__ellipsize(const char *s, size_t max_chars, char *buf, size_t n) {
  if (n == 0) return buf;
  size_t i = 0, chars = 0, cut = 0;
  /* walk at most max_chars + 1 code points; remember where max_chars - 1 end */
  while (s[i] && chars <= max_chars) {
    if (chars + 1 == max_chars) cut = i;
    i++;
    while ((s[i] & 0xC0) == 0x80) i++; /* continuation bytes */
    chars++;
  }
  if (chars <= max_chars) { /* fits whole */
    size_t len = i < n - 1 ? i : n - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    return buf;
  }
  if (cut + 4 > n) cut = n > 4 ? n - 4 : 0;
  while (cut > 0 && (s[cut] & 0xC0) == 0x80) cut--; /* never split a character */
  memcpy(buf, s, cut);
  memcpy(buf + cut, "\xe2\x80\xa6", 4);
  return buf;
}

void pb__y_range(double lo, double hi, double pad_top, double *ymin, double *ymax) {
  if (!(lo <= hi) || !isfinite(lo) || !isfinite(hi)) {
    *ymin = 0;
    *ymax = 1;
    return;
  }
  double span = hi - lo;
  if (lo >= 0 && lo <= span * 0.5) lo = 0; /* zero is near: show it */
  span = hi - lo;
  if (span <= fabs(hi) * 1e-9) span = hi != 0 ? fabs(hi) * 0.1 : 1; /* flat series */
  *ymin = lo == 0 ? 0 : lo - span * 0.05;
  if (lo > 0 && *ymin < 0) *ymin = 0;
  *ymax = hi + span * pad_top;
}

/* Moves the k-th smallest of v[0..n) to v[k] (Hoare's quickselect with a
 * median-of-three pivot): values left of k are <= it, right of it >=. */
static void select_kth(double *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    double a = v[lo], b = v[mid], c = v[hi];
    double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return;
  }
}

double pb__percentile_select(double *v, size_t n, double q) {
  if (n == 0) return NAN;
  double idx = (double)(n - 1) * (q / 100.0);
  if (idx <= 0) idx = 0;
  if (idx >= (double)(n - 1)) idx = (double)(n - 1);
  size_t i = (size_t)floor(idx);
  select_kth(v, n, i);
  double a = v[i], t = idx - floor(idx);
  if (t == 0 || i + 1 >= n) return a;
  double b = v[i + 1]; /* the next order statistic: the smallest right of i */
  for (size_t j = i + 2; j < n; j++)
    if (v[j] < b) b = v[j];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t; /* as pb_percentile_sorted */
}

void pb__outlier_mark(pb__canvas *cv, double x, double y, pb__rgb color) {
  cairo_set_source_rgb(cv->cr, color.r, color.g, color.b);
  pb__marker(cv->cr, x, y, 5, 2);
  cairo_fill(cv->cr);
}

void pb__set_dash(cairo_t *cr, size_t k) {
  static const double dashed[] = {8, 4}, dashdot[] = {8, 3, 2, 3}, dotted[] = {2, 3};
  switch (k % 4) {
    case 0: cairo_set_dash(cr, NULL, 0, 0); break;
    case 1: cairo_set_dash(cr, dashed, 2, 0); break;
    case 2: cairo_set_dash(cr, dashdot, 4, 0); break;
    default: cairo_set_dash(cr, dotted, 2, 0); break;
  }
}

void pb__marker(cairo_t *cr, double x, double y, double r, size_t shape) {
  switch (shape % 4) {
    case 0:
      cairo_new_sub_path(cr);
      cairo_arc(cr, x, y, r, 0, 2 * M_PI);
      break;
    case 1: cairo_rectangle(cr, x - r, y - r, 2 * r, 2 * r); break;
    case 2:
      cairo_move_to(cr, x, y - r * 1.2);
      cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
      cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
      cairo_close_path(cr);
      break;
    default:
      cairo_move_to(cr, x, y - r * 1.3);
      cairo_line_to(cr, x + r, y);
      cairo_line_to(cr, x, y + r * 1.3);
      cairo_line_to(cr, x - r, y);
      cairo_close_path(cr);
      break;
  }
}

/* ---- ticks and axes ------------------------------------------------------ */

double pb__nice_step(double range, double max_ticks) {
  if (!(range > 0) || !isfinite(range)) return 1;
  if (max_ticks < 1) max_ticks = 1;
  double raw = range / max_ticks;
  double mag = pow(10, floor(log10(raw)));
  static const double steps[] = {1, 2, 2.5, 5, 10};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (steps[i] * mag >= raw) return steps[i] * mag;
  return 10 * mag;
}

void pb__fmt_tick(double v, double step, char *buf, size_t n) {
  int dec = 0;
  if (step < 1) dec = (int)ceil(-log10(step) - 1e-9);
  if (step * pow(10, dec) - floor(step * pow(10, dec) + 1e-9) > 1e-6) dec++; /* 2.5 */
  if (dec > 9) dec = 9;
  if (fabs(v) < step * 1e-6) v = 0;
  if (fabs(v) >= 1e7 || (dec == 0 && fabs(v) >= 1e7))
    snprintf(buf, n, "%.3g", v);
  else
    snprintf(buf, n, "%.*f", dec, v);
}

static const pb__rgb BLACK = {0, 0, 0};

double pb__ytick_width(pb__canvas *cv, double ymin, double ymax, double yscale, double height,
                       bool ylog) {
  double wmax = 0, w;
  char buf[64];
  if (ylog) { /* the labels of log_ticks: 1-2-5 of every decade at most */
    int nt = 0;
    for (int d = (int)floor(log10(ymin / yscale));
         d <= (int)ceil(log10(ymax / yscale)) && nt++ < PB__MAX_TICKS; d++) {
      pb__fmt_tick(5 * pow(10, d), pow(10, d), buf, sizeof buf);
      pb__text_size(cv, buf, PB__FONT_TICK, false, &w, NULL);
      if (w > wmax) wmax = w;
    }
    return wmax;
  }
  double step = pb__nice_step((ymax - ymin) / yscale, height / 40);
  int nt = 0; /* at most PB__MAX_TICKS: a huge or non-finite range cannot loop forever */
  for (double v = ceil(ymin / yscale / step) * step;
       v <= ymax / yscale + step * 1e-9 && nt++ < PB__MAX_TICKS; v += step) {
    pb__fmt_tick(v, step, buf, sizeof buf);
    pb__text_size(cv, buf, PB__FONT_TICK, false, &w, NULL);
    if (w > wmax) wmax = w;
  }
  return wmax;
}

/* One y tick: grid line and label; returns the label's width. */
static double y_tick(pb__canvas *cv, const pb__axes *ax, double v, double yscale, double step) {
  char buf[64];
  cairo_t *cr = cv->cr;
  double y = pb__ax_y(ax, v * yscale);
  cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, ax->left, floor(y) + 0.5);
  cairo_line_to(cr, ax->right, floor(y) + 0.5);
  cairo_stroke(cr);
  pb__fmt_tick(v, step, buf, sizeof buf);
  double tw;
  pb__text_size(cv, buf, PB__FONT_TICK, false, &tw, NULL);
  pb__text(cv, ax->left - 6, y, buf, PB__FONT_TICK, false, PB__RIGHT, PB__MIDDLE, 0, BLACK);
  return tw;
}

/* Ticks of a log axis: 1-2-5 per decade when decades are tall, decades
 * otherwise (every k-th when even those crowd). Returns the widest label. */
static double log_ticks(pb__canvas *cv, const pb__axes *ax, double yscale) {
  double lo = log10(ax->ymin / yscale), hi = log10(ax->ymax / yscale);
  if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) return 0;
  double per_decade = (ax->bottom - ax->top) / (hi - lo), wmax = 0;
  static const double m125[] = {1, 2, 5};
  size_t nm = per_decade >= 110 ? 3 : 1;
  int every = per_decade >= 24 ? 1 : (int)ceil(24 / per_decade);
  int nt = 0;
  for (int d = (int)floor(lo); d <= (int)ceil(hi) && nt < PB__MAX_TICKS; d++) {
    if (d % every != 0) continue;
    for (size_t k = 0; k < nm && nt < PB__MAX_TICKS; k++, nt++) {
      double v = m125[k] * pow(10, d);
      if (v < ax->ymin / yscale * (1 - 1e-9) || v > ax->ymax / yscale * (1 + 1e-9)) continue;
      double tw = y_tick(cv, ax, v, yscale, pow(10, d));
      if (tw > wmax) wmax = tw;
    }
  }
  return wmax;
}

double pb__x_tick_step(pb__canvas *cv, double lo, double hi, double w) {
  char buf[64];
  double lw, step = pb__nice_step(hi - lo, 10);
  for (int tries = 0; tries < 8; tries++) {
    pb__fmt_tick(hi, step, buf, sizeof buf);
    pb__text_size(cv, buf, PB__FONT_TICK, false, &lw, NULL);
    double s2 = pb__nice_step(hi - lo, w / (lw + 24));
    if (s2 <= step) {
      step = s2;
      break;
    }
    step = s2;
  }
  return step < 1 && hi - lo >= 1 ? 1 : step;
}

void pb__draw_axes(pb__canvas *cv, const pb__axes *ax, double yscale, const char *ylabel,
                   bool xnumeric, const char *xlabel) {
  cairo_t *cr = cv->cr;
  char buf[64];
  cairo_save(cr);
  cairo_set_dash(cr, NULL, 0, 0);
  /* y ticks: at most one per 40 px */
  double h = ax->bottom - ax->top, w = ax->right - ax->left;
  double ystep = pb__nice_step((ax->ymax - ax->ymin) / yscale, h / 40);
  double wmax = 0;
  int nt = 0; /* at most PB__MAX_TICKS: a huge or non-finite range cannot loop forever */
  if (ax->ylog) {
    wmax = log_ticks(cv, ax, yscale);
  } else {
    for (double v = ceil(ax->ymin / yscale / ystep) * ystep;
         v <= ax->ymax / yscale + ystep * 1e-9 && nt++ < PB__MAX_TICKS; v += ystep) {
      double tw = y_tick(cv, ax, v, yscale, ystep);
      if (tw > wmax) wmax = tw;
    }
  }
  if (xnumeric) {
    double step = pb__x_tick_step(cv, ax->xmin, ax->xmax, w);
    nt = 0;
    for (double v = ceil(ax->xmin / step) * step;
         v <= ax->xmax + step * 1e-9 && nt++ < PB__MAX_TICKS; v += step) {
      double x = pb__ax_x(ax, v);
      cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
      cairo_move_to(cr, floor(x) + 0.5, ax->top);
      cairo_line_to(cr, floor(x) + 0.5, ax->bottom);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      cairo_move_to(cr, floor(x) + 0.5, ax->bottom);
      cairo_line_to(cr, floor(x) + 0.5, ax->bottom + 5);
      cairo_stroke(cr);
      pb__fmt_tick(v, step, buf, sizeof buf);
      pb__text(cv, x, ax->bottom + 7, buf, PB__FONT_TICK, false, PB__CENTER, PB__TOP, 0, BLACK);
    }
  }
  /* frame */
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, floor(ax->left) + 0.5, floor(ax->top) + 0.5, floor(w), floor(h));
  cairo_stroke(cr);
  if (ylabel)
    pb__text(cv, ax->left - wmax - 14, (ax->top + ax->bottom) / 2, ylabel, PB__FONT_LABEL, false,
             PB__CENTER, PB__BOTTOM, -M_PI / 2, BLACK);
  if (xlabel)
    pb__text(cv, (ax->left + ax->right) / 2, cv->h - 8, xlabel, PB__FONT_LABEL, false, PB__CENTER,
             PB__BOTTOM, 0, BLACK);
  cairo_restore(cr);
}

/* ---- legend -------------------------------------------------------------- */

#define LEGEND_ROW 20.0
#define LEGEND_SWATCH 28.0
#define LEGEND_MAX_COLS 3

/*
 * How many of n items the legend shows: what fits in LEGEND_MAX_COLS
 * columns; when items are left out, the last row says how many (*more).
 */
static size_t legend_fit(size_t n, size_t per_col, size_t *more) {
  size_t cap = per_col * LEGEND_MAX_COLS;
  *more = n > cap ? n - (cap - 1) : 0;
  return n > cap ? cap - 1 : n;
}

/* Text of legend item i (the "and N more" row when i == shown), ellipsized. */
static const char *legend_text(const pb__legend_item *items, size_t i, size_t shown, size_t more,
                               char *buf, size_t n) {
  if (i == shown) {
    snprintf(buf, n, "\xe2\x80\xa6 and %zu more series", more);
    return buf;
  }
  return pb__ellipsize(items[i].text, PB__LABEL_CHARS, buf, n);
}

double pb__legend_width(pb__canvas *cv, const pb__legend_item *items, size_t n, double height) {
  if (n == 0) return 0;
  size_t per_col = (size_t)(height / LEGEND_ROW);
  if (per_col < 1) per_col = 1;
  size_t more, shown = legend_fit(n, per_col, &more);
  n = shown + (more > 0);
  double total = 0, colw = 0;
  char text[PB__LABEL_CHARS * 4 + 8];
  for (size_t i = 0; i < n; i++) {
    double w;
    pb__text_size(cv, legend_text(items, i, shown, more, text, sizeof text), PB__FONT_SMALL, false,
                  &w, NULL);
    if (w > 260) w = 260;
    if (w > colw) colw = w;
    if ((i + 1) % per_col == 0 || i + 1 == n) {
      total += colw + LEGEND_SWATCH + 16;
      colw = 0;
    }
  }
  return total + 8;
}

void pb__legend_draw(pb__canvas *cv, const pb__legend_item *items, size_t n, double x, double y,
                     double height) {
  cairo_t *cr = cv->cr;
  size_t per_col = (size_t)(height / LEGEND_ROW);
  if (per_col < 1) per_col = 1;
  size_t more, shown = legend_fit(n, per_col, &more);
  n = shown + (more > 0);
  double colx = x + 8, colw = 0;
  for (size_t i = 0; i < n; i++) {
    size_t row = i % per_col;
    double cy = y + row * LEGEND_ROW + LEGEND_ROW / 2;
    char text[PB__LABEL_CHARS * 4 + 8];
    legend_text(items, i, shown, more, text, sizeof text);
    pb__legend_item more_item = {text, {1, 1, 1}, PB__SW_BOX, 0};
    const pb__legend_item *it = i == shown ? &more_item : &items[i];
    cairo_save(cr);
    cairo_set_source_rgb(cr, it->color.r, it->color.g, it->color.b);
    cairo_set_line_width(cr, 2);
    switch (it->kind) {
      case PB__SW_LINE:
        pb__set_dash(cr, it->style);
        cairo_move_to(cr, colx, cy);
        cairo_line_to(cr, colx + LEGEND_SWATCH - 4, cy);
        cairo_stroke(cr);
        break;
      case PB__SW_MARKER:
        pb__marker(cr, colx + LEGEND_SWATCH / 2 - 2, cy, 4, it->style);
        cairo_fill(cr);
        break;
      case PB__SW_BOX:
        cairo_rectangle(cr, colx + 2, cy - 6, LEGEND_SWATCH - 8, 12);
        cairo_fill(cr);
        break;
      case PB__SW_UP:
        pb__marker(cr, colx + LEGEND_SWATCH / 2 - 2, cy, 5, 2);
        cairo_fill(cr);
        break;
      case PB__SW_RING:
        cairo_new_sub_path(cr);
        cairo_arc(cr, colx + LEGEND_SWATCH / 2 - 2, cy, 4, 0, 2 * M_PI);
        cairo_set_line_width(cr, 1.5);
        cairo_stroke(cr);
        break;
    }
    cairo_restore(cr);
    double w;
    pb__text_size(cv, text, PB__FONT_SMALL, false, &w, NULL);
    for (size_t mc = PB__LABEL_CHARS - 4; w > 260 && mc > 4 && i != shown; mc -= 4) {
      pb__ellipsize(it->text, mc, text, sizeof text); /* wide characters */
      pb__text_size(cv, text, PB__FONT_SMALL, false, &w, NULL);
    }
    if (w > colw) colw = w;
    pb__text(cv, colx + LEGEND_SWATCH, cy, text, PB__FONT_SMALL, false, PB__LEFT, PB__MIDDLE, 0,
             BLACK);
    if ((i + 1) % per_col == 0) {
      colx += colw + LEGEND_SWATCH + 16;
      colw = 0;
    }
  }
}

static void reverse_items(pb__legend_item *items, size_t a, size_t b) { /* [a, b) */
  while (b > a + 1) {
    pb__legend_item t = items[a];
    items[a++] = items[--b];
    items[b] = t;
  }
}

void pb__legend_keys_first(pb__legend_item *items, size_t nseries, size_t n) {
  if (n <= PB__LEGEND_MANY || nseries >= n) return;
  /* rotate the keys [nseries, n) to the front: three reversals */
  reverse_items(items, 0, n);
  reverse_items(items, 0, n - nseries);
  reverse_items(items, n - nseries, n);
}

void pb__layout_plot(pb__canvas *cv, const char *title, const pb__legend_item *items, size_t nitems,
                     double left_margin, double bottom_margin, pb__layout *out) {
  double top = 24;
  if (title) {
    double th, nh;
    pb__text_size(cv, title, PB__FONT_TITLE, true, NULL, &th);
    pb__text(cv, cv->w / 2, 10, title, PB__FONT_TITLE, true, PB__CENTER, PB__TOP, 0, BLACK);
    /* the notes above the plot (pb__dense_note, the memory chart's peak
     * mode) end 3 px above it: their line starts 4 px under the title */
    pb__text_size(cv, "Ag", PB__FONT_SMALL, false, NULL, &nh);
    top = 10 + th + 4 + nh + 3;
  }
  double bottom = cv->h - bottom_margin;
  double lw = pb__legend_width(cv, items, nitems, bottom - top);
  memset(out, 0, sizeof *out);
  out->ax.left = left_margin;
  out->ax.top = top;
  out->ax.right = cv->w - 20 - lw;
  out->ax.bottom = bottom;
  out->legend_x = out->ax.right + 10;
  out->legend_y = top;
  out->legend_h = bottom - top;
}

void pb__x_range_points(size_t n, double *xmin, double *xmax) {
  double last = n > 1 ? (double)(n - 1) : 0, pad = fmax(0.5, last * 0.01);
  *xmin = -pad;
  *xmax = last + pad;
}

/* ---- series -------------------------------------------------------------- */

/* x of point i: x[i], or x0 + dx * i when x is NULL */
static inline double pt_x(const double *x, double x0, double dx, size_t i) {
  return x ? x[i] : x0 + dx * (double)i;
}

/*
 * Dense series: per pixel column, its first, largest, smallest and last
 * value: a solid bar from the column's min to its max (width wide) and,
 * with connect, the line from each column's last value to the next one's
 * first: the pixels the full line covers. x must not decrease. Columns
 * are never averaged: extremes stay.
 */
static void draw_dense(pb__canvas *cv, const pb__axes *ax, const double *x, double x0, double dx,
                       const double *y, size_t n, pb__rgb color, double width, bool connect,
                       size_t dash) {
  cairo_t *cr = cv->cr;
  cairo_set_source_rgb(cr, color.r, color.g, color.b);
  cairo_set_line_width(cr, width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
  pb__set_dash(cr, dash);
  /* the min-max bars are filled boxes (cheap for cairo); the line joining
   * the columns (each column's first value to its last) is stroked */
  bool open = false;
  size_t i = 0;
  while (i < n) {
    double X = floor(pb__ax_x(ax, pt_x(x, x0, dx, i)));
    double mn = INFINITY, mx = -INFINITY, first = NAN, last = NAN;
    size_t j = i;
    for (; j < n && floor(pb__ax_x(ax, pt_x(x, x0, dx, j))) == X; j++) {
      if (isnan(y[j])) continue;
      if (isnan(first)) first = y[j];
      last = y[j];
      if (y[j] < mn) mn = y[j];
      if (y[j] > mx) mx = y[j];
    }
    if (j == i) j = i + 1;
    i = j;
    if (isnan(first)) {
      open = false; /* a column without values breaks the line */
      continue;
    }
    double cx = X + 0.5;
    if (connect) {
      if (open)
        cairo_line_to(cr, cx, pb__ax_y(ax, first));
      else
        cairo_move_to(cr, cx, pb__ax_y(ax, first));
      cairo_line_to(cr, cx, pb__ax_y(ax, last));
      open = true;
    }
  }
  if (connect) cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
  for (i = 0; i < n;) {
    double X = floor(pb__ax_x(ax, pt_x(x, x0, dx, i)));
    double mn = INFINITY, mx = -INFINITY;
    size_t j = i;
    for (; j < n && floor(pb__ax_x(ax, pt_x(x, x0, dx, j))) == X; j++) {
      if (isnan(y[j])) continue;
      if (y[j] < mn) mn = y[j];
      if (y[j] > mx) mx = y[j];
    }
    i = j > i ? j : i + 1;
    if (mn > mx) continue;
    double y0 = floor(pb__ax_y(ax, mx) - width / 2), y1 = ceil(pb__ax_y(ax, mn) + width / 2);
    double w = ceil(width) < 1 ? 1 : ceil(width);
    cairo_rectangle(cr, X - floor((w - 1) / 2), y0, w, y1 - y0); /* pixel-aligned: no AA */
  }
  cairo_fill(cr);
}

static void clip_plot(cairo_t *cr, const pb__axes *ax) {
  cairo_rectangle(cr, ax->left, ax->top - 2, ax->right - ax->left, ax->bottom - ax->top + 4);
  cairo_clip(cr);
}

void pb__draw_line(pb__canvas *cv, const pb__axes *ax, const double *y, size_t n, double x0,
                   double dx, pb__rgb color, double width, size_t dash) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  clip_plot(cr, ax);
  double pw = ax->right - ax->left;
  double px_per_pt = n > 1 ? pw * dx / (ax->xmax - ax->xmin) : pw;
  if (px_per_pt < 0.5) {
    draw_dense(cv, ax, NULL, x0, dx, y, n, color, width, true, dash);
  } else {
    cairo_set_source_rgb(cr, color.r, color.g, color.b);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    pb__set_dash(cr, dash);
    bool open = false;
    for (size_t i = 0; i < n; i++) {
      if (isnan(y[i])) {
        open = false;
        continue;
      }
      double X = pb__ax_x(ax, x0 + dx * (double)i), Y = pb__ax_y(ax, y[i]);
      if (open)
        cairo_line_to(cr, X, Y);
      else
        cairo_move_to(cr, X, Y);
      open = true;
    }
    cairo_stroke(cr);
    if (px_per_pt >= 8) {
      /* few points: a dot on each, so that isolated ones (between two
       * missing iterations) show too */
      cairo_set_dash(cr, NULL, 0, 0);
      for (size_t i = 0; i < n; i++) {
        if (isnan(y[i])) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, pb__ax_x(ax, x0 + dx * (double)i), pb__ax_y(ax, y[i]), width + 1.5, 0,
                  2 * M_PI);
      }
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);
}

void pb__draw_markers(pb__canvas *cv, const pb__axes *ax, const double *x, const double *y,
                      size_t n, pb__rgb color, double radius, size_t shape) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  clip_plot(cr, ax);
  size_t valid = 0;
  for (size_t i = 0; i < n; i++) valid += !isnan(y[i]) && !isnan(x[i]);
  if ((double)valid > (ax->right - ax->left) / (2 * radius)) {
    draw_dense(cv, ax, x, 0, 0, y, n, color, radius, false, 0);
  } else {
    cairo_set_source_rgb(cr, color.r, color.g, color.b);
    double px = NAN, py = NAN;
    for (size_t i = 0; i < n; i++) {
      if (isnan(y[i]) || isnan(x[i])) continue;
      double X = floor(pb__ax_x(ax, x[i])), Y = floor(pb__ax_y(ax, y[i]));
      if (X == px && fabs(Y - py) < 1) continue; /* same pixel as the previous marker */
      px = X;
      py = Y;
      pb__marker(cr, X + 0.5, Y + 0.5, radius, shape);
    }
    cairo_fill(cr);
  }
  cairo_restore(cr);
}

void pb__draw_envelope(pb__canvas *cv, const pb__axes *ax, const double *x, const double *y,
                       size_t n, pb__rgb color, double width, bool connect, size_t dash) {
  cairo_save(cv->cr);
  clip_plot(cv->cr, ax);
  draw_dense(cv, ax, x, 0, 0, y, n, color, width, connect, dash);
  cairo_restore(cv->cr);
}

void pb__dense_note(pb__canvas *cv, const pb__axes *ax, size_t n, const char *unit) {
  double per = (double)n / (ax->right - ax->left);
  if (per <= 2) return;
  char buf[160];
  snprintf(buf, sizeof buf,
           "%zu %s, ~%.0f per pixel column: each column spans all its values (min\xe2\x80\x93max)",
           n, unit, per);
  pb__text(cv, ax->right, ax->top - 3, buf, PB__FONT_SMALL, false, PB__RIGHT, PB__BOTTOM, 0,
           (pb__rgb){0.35, 0.35, 0.35});
}

const char *pb__time_unit(double max_seconds, double *scale) {
  if (!(max_seconds >= 1)) {
    if (max_seconds >= 1e-3) {
      *scale = 1e-3;
      return "ms";
    }
    if (max_seconds >= 1e-6) {
      *scale = 1e-6;
      return "\xc2\xb5s";
    }
    if (max_seconds > 0) {
      *scale = 1e-9;
      return "ns";
    }
  }
  *scale = 1;
  return "s";
}

void pb__fmt_seconds(double s, char *buf, size_t n) {
  if (isnan(s)) {
    snprintf(buf, n, "-");
    return;
  }
  double scale;
  const char *unit = pb__time_unit(fabs(s) * 1.0000001, &scale);
  double v = s / scale;
  if (fabs(v) >= 999.5 && scale < 1) { /* would print "1000 µs": take the next unit */
    scale *= 1000;
    unit = scale >= 0.5 ? "s" : scale >= 0.5e-3 ? "ms" : "\xc2\xb5s";
    v = s / scale;
  }
  /* three significant digits */
  if (fabs(v) >= 100 || v == 0)
    snprintf(buf, n, "%.0f %s", v, unit);
  else if (fabs(v) >= 10)
    snprintf(buf, n, "%.1f %s", v, unit);
  else
    snprintf(buf, n, "%.2f %s", v, unit);
}

/* ---- call-order helpers -------------------------------------------------- */

size_t pb__find_clusters(const uint32_t *iter, const uint32_t *topic, const double *value, size_t n,
                         size_t max_len, double filter, pb__seq_point *out) {
  size_t np = 0;
  size_t s = 0;
  while (s < n) { /* one iteration: [s, e) */
    size_t e = s;
    double mn = INFINITY, mx = -INFINITY;
    while (e < n && iter[e] == iter[s]) {
      if (!isnan(value[e])) {
        if (value[e] < mn) mn = value[e];
        if (value[e] > mx) mx = value[e];
      }
      e++;
    }
    double thr = (mx > mn) ? (mx - mn) * filter : 0;
    size_t i = s;
    while (i < e) {
      size_t best_len = 1, best_count = 1;
      for (size_t L = 1; L <= max_len && i + 2 * L <= e && best_count == 1; L++) {
        size_t count = 1;
        for (;;) {
          size_t b = i + count * L;
          if (b + L > e) break;
          bool same = true;
          for (size_t k = 0; k < L && same; k++) same = topic[b + k] == topic[i + k];
          for (size_t k = 0; k < L && same; k++)
            same = !(fabs(value[b + k] - value[i]) > thr) && !(fabs(value[i + k] - value[i]) > thr);
          if (!same) break;
          count++;
        }
        if (count > 1) {
          best_len = L;
          best_count = count;
        }
      }
      pb__seq_point *p = &out[np++];
      p->iter = iter[i];
      p->first = (uint32_t)i;
      p->len = (uint32_t)best_len;
      p->count = (uint32_t)best_count;
      p->topic = topic[i];
      p->last = (uint32_t)(i + best_len * best_count - 1);
      i += best_len * best_count;
    }
    s = e;
  }
  return np;
}

void pb__seq_label(const pb__seq_point *p, const uint32_t *topic, const char *const *names,
                   char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "%u_", p->iter);
  char name[PB__LABEL_CHARS * 4 + 8];
  for (uint32_t j = 0; j < p->len && k < n; j++)
    k += (size_t)snprintf(buf + k, n - k, "%s%s", j ? " || " : "",
                          pb__ellipsize(names[topic[p->first + j]], 24, name, sizeof name));
  if (p->count > 1 && k < n) snprintf(buf + k, n - k, " x%u", p->count);
}

/* A grid line, a tick mark and its label at canvas x under the plot. */
static void seq_tick(pb__canvas *cv, const pb__axes *ax, double x, const char *text) {
  cairo_set_source_rgb(cv->cr, 0.93, 0.93, 0.93);
  cairo_set_line_width(cv->cr, 1);
  cairo_move_to(cv->cr, floor(x) + 0.5, ax->top);
  cairo_line_to(cv->cr, floor(x) + 0.5, ax->bottom);
  cairo_stroke(cv->cr);
  cairo_set_source_rgb(cv->cr, 0, 0, 0);
  cairo_move_to(cv->cr, floor(x) + 0.5, ax->bottom);
  cairo_line_to(cv->cr, floor(x) + 0.5, ax->bottom + 5);
  cairo_stroke(cv->cr);
  pb__text(cv, x, ax->bottom + 7, text, PB__FONT_TICK, false, PB__CENTER, PB__TOP, 0, BLACK);
}

/* Every point's label, rotated; returns the longest label's width. */
static double point_labels(pb__canvas *cv, const pb__axes *ax, size_t npoints, pb__label_fn label,
                           void *user, bool draw) {
  char full[160], buf[160];
  double maxw = 0;
  for (size_t i = 0; i < npoints; i++) {
    label(i, full, sizeof full, user);
    pb__ellipsize(full, PB__LABEL_CHARS, buf, sizeof buf);
    double lw;
    pb__text_size(cv, buf, PB__FONT_TICK, false, &lw, NULL);
    if (lw > maxw) maxw = lw;
    if (!draw) continue;
    double x = pb__ax_x(ax, (double)i);
    cairo_set_source_rgb(cv->cr, 0, 0, 0);
    cairo_set_line_width(cv->cr, 1);
    cairo_move_to(cv->cr, floor(x) + 0.5, ax->bottom);
    cairo_line_to(cv->cr, floor(x) + 0.5, ax->bottom + 4);
    cairo_stroke(cv->cr);
    pb__text(cv, x, ax->bottom + 6, buf, PB__FONT_TICK, false, PB__RIGHT, PB__MIDDLE, -M_PI / 2,
             BLACK);
  }
  return maxw;
}

/* Draws label text at x unless it would come within 8 px of the label
 * ending at *prev_x (then skipped: labels never overlap). */
static void spaced_tick(pb__canvas *cv, const pb__axes *ax, double x, const char *text,
                        double *prev_x) {
  double lw;
  pb__text_size(cv, text, PB__FONT_TICK, false, &lw, NULL);
  if (x - lw / 2 < *prev_x + 8) return;
  *prev_x = x + lw / 2;
  seq_tick(cv, ax, x, text);
}

/* Ticks at the first point of iterations, every step-th iteration. */
static void iter_ticks(pb__canvas *cv, const pb__axes *ax, size_t npoints,
                       const pb__seq_point *pts) {
  char buf[32];
  double step = pb__x_tick_step(cv, 0, (double)pts[npoints - 1].iter, ax->right - ax->left);
  double next = 0, prev_x = -1e9;
  for (size_t i = 0; i < npoints; i++) {
    if ((double)pts[i].iter < next || (i > 0 && pts[i - 1].iter == pts[i].iter)) continue;
    next = (floor(pts[i].iter / step) + 1) * step;
    if (fmod((double)pts[i].iter, step) != 0) continue;
    snprintf(buf, sizeof buf, "%u", pts[i].iter);
    spaced_tick(cv, ax, pb__ax_x(ax, (double)i), buf, &prev_x);
  }
}

/* One iteration: ticks at item numbers (0 = its first item drawn), thinned
 * as a numeric axis; a tick goes to the point that holds that item. */
static void item_ticks(pb__canvas *cv, const pb__axes *ax, size_t npoints,
                       const pb__seq_point *pts) {
  uint32_t base = pts[0].first;
  double last = (double)(pts[npoints - 1].last - base);
  double step = pb__x_tick_step(cv, 0, last, ax->right - ax->left);
  double prev_x = -1e9;
  size_t j = 0;
  int nt = 0;
  char buf[64];
  for (double v = 0; v <= last + step * 1e-9 && nt++ < PB__MAX_TICKS; v += step) {
    while (j + 1 < npoints && (double)(pts[j].last - base) < v) j++;
    pb__fmt_tick(v, step, buf, sizeof buf);
    spaced_tick(cv, ax, pb__ax_x(ax, (double)j), buf, &prev_x);
  }
}

double pb__seq_axis(pb__canvas *cv, const pb__axes *ax, size_t npoints, const pb__seq_point *pts,
                    const char *what, pb__label_fn label, void *user, bool draw) {
  double th;
  pb__text_size(cv, "0_Ag", PB__FONT_TICK, false, NULL, &th);
  char title[160];
  double need = th + 14;
  if (npoints > 0 && (double)npoints * (th + 2) <= ax->right - ax->left) {
    need = point_labels(cv, ax, npoints, label, user, draw) + 12;
    snprintf(title, sizeof title, "%s (iteration_step)", what);
  } else if (npoints > 0 && pts[0].iter == pts[npoints - 1].iter) {
    if (draw) item_ticks(cv, ax, npoints, pts);
    snprintf(title, sizeof title, "%s number in iteration %u (of those drawn)", what, pts[0].iter);
  } else {
    if (draw && npoints > 0) iter_ticks(cv, ax, npoints, pts);
    snprintf(title, sizeof title, "%s (ticks at iteration starts)", what);
    if (npoints == 0) need = 30;
  }
  if (draw)
    pb__text(cv, (ax->left + ax->right) / 2, cv->h - 8, title, PB__FONT_LABEL, false, PB__CENTER,
             PB__BOTTOM, 0, BLACK);
  return need;
}

/* ---- public entry points ------------------------------------------------- */

typedef int (*chart_fn)(pb__chart_ctx *);

static const struct {
  const char *name;
  chart_fn draw;
  double w, h;
} CHARTS[PB_CHART_KIND_COUNT] = {
    [PB_CHART_TIMES] = {"times", pb__chart_times, 1600, 640},
    [PB_CHART_BARS] = {"bars", pb__chart_bars, 1600, 0 /* from the topic count */},
    [PB_CHART_CRONO] = {"crono", pb__chart_crono, 1600, 640},
    [PB_CHART_MEMORY] = {"memory", pb__chart_memory, 1600, 640},
    [PB_CHART_CUDA_MEMORY] = {"cuda_memory", pb__chart_cuda, 1600, 640},
};

const char *pb_chart_name(pb_chart_kind kind) {
  return ((unsigned)kind < PB_CHART_KIND_COUNT) ? CHARTS[kind].name : NULL;
}

const char *pb_format_ext(pb_format fmt) {
  switch (fmt) {
    case PB_FORMAT_PNG: return "png";
    case PB_FORMAT_SVG: return "svg";
    case PB_FORMAT_PDF: return "pdf";
  }
  return NULL;
}

int pb_format_parse(const char *text, pb_format *fmt) {
  if (!text || !fmt) return PB_EINVAL;
  for (int f = PB_FORMAT_PNG; f <= PB_FORMAT_PDF; f++) {
    if (strcmp(text, pb_format_ext((pb_format)f)) == 0) {
      *fmt = (pb_format)f;
      return PB_OK;
    }
  }
  return PB_EINVAL;
}

bool pb_chart_applies(pb_chart_kind kind, const pb_record *r) {
  if (!r) return false;
  switch (kind) {
    case PB_CHART_TIMES:
    case PB_CHART_BARS:
    case PB_CHART_CRONO: return r->n_iter > 0 && r->topics.n > 0;
    case PB_CHART_MEMORY: return r->n_mem > 0;
    case PB_CHART_CUDA_MEMORY: return r->has_cuda;
    default: return false;
  }
}

/* ---- run labels ---------------------------------------------------------- */

#define RUN_LABEL_CHARS 24
#define RUN_LABEL_SCAN 256 /* bytes of a label compared: bounded whatever its length */

/* strlen bounded by max (strnlen is POSIX, not C11) */
static size_t bounded_len(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}

static bool is_sep(char ch) { return ch && strchr("-_ T:./", ch) != NULL; }

/*
 * Run labels for a legend of n > 1 runs: the part that tells them apart.
 * A common prefix ending at a separator ("2026-11-30T") and a common
 * suffix starting at one (".000000Z") are dropped when every label keeps
 * at least 3 characters; the rest is ellipsized. out[i] receives label i.
 */
void pb__short_labels(const char *const *labels, size_t n, char (*out)[PB__RUN_LABEL_MAX]) {
  size_t pre = RUN_LABEL_SCAN, suf = RUN_LABEL_SCAN, minlen = RUN_LABEL_SCAN;
  for (size_t i = 0; i < n; i++) {
    size_t len = bounded_len(labels[i], RUN_LABEL_SCAN),
           len0 = bounded_len(labels[0], RUN_LABEL_SCAN);
    if (len < minlen) minlen = len;
    size_t p = 0, q = 0;
    while (p < len && p < len0 && labels[i][p] == labels[0][p]) p++;
    while (q < len && q < len0 && labels[i][len - 1 - q] == labels[0][len0 - 1 - q]) q++;
    if (p < pre) pre = p;
    if (q < suf) suf = q;
  }
  if (minlen >= RUN_LABEL_SCAN) pre = suf = 0; /* too long to compare: ellipsize only */
  if (pre + suf >= minlen) suf = 0;            /* identical labels */
  /* the prefix ends with a separator and leaves 3 characters or more */
  while (pre > 0 && (!is_sep(labels[0][pre - 1]) || pre + 3 > minlen)) pre--;
  /* the suffix starts with one, and the two leave 3 characters or more */
  size_t len0 = bounded_len(labels[0], RUN_LABEL_SCAN);
  while (suf > 0 && (!is_sep(labels[0][len0 - suf]) || pre + suf + 3 > minlen)) suf--;
  for (size_t i = 0; i < n; i++) {
    char tmp[RUN_LABEL_SCAN + 1];
    size_t len = bounded_len(labels[i], RUN_LABEL_SCAN);
    size_t keep = (pre || suf) ? len - pre - suf : len;
    memcpy(tmp, labels[i] + pre, keep);
    tmp[keep] = 0;
    if (len == RUN_LABEL_SCAN && !(pre || suf)) /* longer than scanned: ellipsize the whole */
      pb__ellipsize(labels[i], RUN_LABEL_CHARS, out[i], PB__RUN_LABEL_MAX);
    else
      pb__ellipsize(tmp, RUN_LABEL_CHARS, out[i], PB__RUN_LABEL_MAX);
  }
}

int pb_chart_write(pb_chart_kind kind, const pb_record *const *records, const char *const *labels,
                   size_t n, const char *title, pb_format fmt, const char *file, pb_error *err) {
  return pb__chart_render(kind, records, labels, n, title, fmt, file, NULL, NULL, err);
}

int pb_chart_write_opts(pb_chart_kind kind, const pb_record *const *records,
                        const char *const *labels, size_t n, const char *title, pb_format fmt,
                        const char *file, const pb_chart_options *opts, pb_error *err) {
  return pb__chart_render(kind, records, labels, n, title, fmt, file, opts, NULL, err);
}

int pb__chart_render(pb_chart_kind kind, const pb_record *const *records, const char *const *labels,
                     size_t n, const char *title, pb_format fmt, const char *file,
                     const pb_chart_options *opts, pb__chart_geom *geom, pb_error *err) {
  return pb__chart_render_log(kind, records, labels, n, title, fmt, file, opts, geom, NULL, err);
}

int pb__chart_render_log(pb_chart_kind kind, const pb_record *const *records,
                         const char *const *labels, size_t n, const char *title, pb_format fmt,
                         const char *file, const pb_chart_options *opts, pb__chart_geom *geom,
                         pb__text_log *texts, pb_error *err) {
  bool null_record = false;
  for (size_t i = 0; records && i < n; i++) null_record |= records[i] == NULL;
  if ((unsigned)kind >= PB_CHART_KIND_COUNT || !records || n == 0 || null_record || !file ||
      !pb_format_ext(fmt)) {
    if (err) {
      err->code = PB_EINVAL;
      err->line = err->column = 0;
      snprintf(err->message, sizeof err->message, "invalid chart arguments");
    }
    return PB_EINVAL;
  }
  bool any = false;
  for (size_t i = 0; i < n; i++) any |= pb_chart_applies(kind, records[i]);
  if (!any) {
    if (err) {
      err->code = PB_ENOTFOUND;
      err->line = err->column = 0;
      snprintf(err->message, sizeof err->message, "%s: nothing to draw for the %s chart", file,
               CHARTS[kind].name);
    }
    return PB_ENOTFOUND;
  }
  char **own = NULL;
  const char **lab = malloc(n * sizeof *lab);
  if (!lab) return PB_ENOMEM;
  if (!labels) own = calloc(n, sizeof *own);
  for (size_t i = 0; i < n; i++) {
    if (labels && labels[i]) {
      lab[i] = labels[i];
    } else if (own && (own[i] = malloc(32))) {
      snprintf(own[i], 32, "run %zu", i + 1);
      lab[i] = own[i];
    } else {
      lab[i] = "run";
    }
  }
  char(*shortl)[PB__RUN_LABEL_MAX] = n > 1 ? malloc(n * sizeof *shortl) : NULL;
  if (shortl) {
    pb__short_labels(lab, n, shortl);
    for (size_t i = 0; i < n; i++) lab[i] = shortl[i];
  }
  char short_title[PB__TITLE_CHARS * 4 + 8];
  pb__ellipsize(title ? title : records[0]->name, PB__TITLE_CHARS, short_title, sizeof short_title);
  pb__canvas cv;
  pb__chart_ctx ctx = {&cv, records, lab, n, short_title, {0}, geom};
  if (opts) ctx.opts = *opts;
  double h = kind == PB_CHART_BARS ? pb__bars_height(&ctx) : CHARTS[kind].h;
  int rc = pb__canvas_open(&cv, fmt, file, CHARTS[kind].w, h);
  if (rc == PB_OK) {
    if (geom) memset(geom, 0, sizeof *geom);
    cv.log = texts;
    rc = CHARTS[kind].draw(&ctx);
  }
  rc = pb__canvas_close(&cv, file, rc);
  if (rc && err) {
    err->code = rc;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%s: cannot write the %s chart (%s)", file,
             CHARTS[kind].name, pb_analysis_strerror(rc));
  }
  if (own)
    for (size_t i = 0; i < n; i++) free(own[i]);
  free(own);
  free(lab);
  free(shortl);
  return rc;
}

void pb_format_seconds(double seconds, char *buf, size_t n) {
  if (!buf || n == 0) return;
  pb__fmt_seconds(seconds, buf, n);
}
