/*
 * chart.h - the drawing kit the chart types share: a canvas (one cairo
 * surface for PNG, SVG or PDF), text through pango, axes with ticks that
 * never overlap, a legend outside the plot area, and series drawn with a
 * per-pixel-column min/max reduction.
 *
 * A chart type is a function `int draw(pb__chart_ctx *)` listed in the
 * table of chart.c; it lays out its axes and draws with these helpers.
 */
#ifndef PB_ANALYSIS_CHART_H
#define PB_ANALYSIS_CHART_H

/* The most ticks an axis draws: bounds every tick loop, whatever the data. */
#define PB__MAX_TICKS 200

#include <math.h>

#include <cairo.h>
#include <pango/pangocairo.h>

#include "internal.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct pb__rgb {
  double r, g, b;
} pb__rgb;

/* A text drawn on a canvas: what, at which size, and its extent on the
 * canvas (pixels, rotation included), for the tests. */
typedef struct pb__drawn_text {
  char text[240]; /* cut at 239 bytes */
  double size;
  bool bold;
  double x0, y0, x1, y1;
} pb__drawn_text;

/* Every text a canvas drew, in order (a log the tests ask for). */
typedef struct pb__text_log {
  pb__drawn_text *items;
  size_t n, cap;
} pb__text_log;

/* Frees the items of log (not log itself); NULL is a no-op. */
void pb__text_log_free(pb__text_log *log);

typedef struct pb__canvas {
  cairo_surface_t *surface;
  cairo_t *cr;
  PangoLayout *layout;
  PangoFontDescription *font;
  pb_format fmt;
  double w, h;
  pb__text_log *log; /* NULL, or where pb__text records each text drawn */
} pb__canvas;

/*
 * Opens a w x h canvas for fmt: an image surface for PNG (written by
 * pb__canvas_close), or the SVG or PDF file itself; sets the font and
 * paints the background white. Returns PB_OK, PB_ECHART (cairo failed) or
 * PB_ENOMEM; whatever the result, pb__canvas_close(cv, file, rc) must
 * follow. One canvas per thread.
 */
int pb__canvas_open(pb__canvas *cv, pb_format fmt, const char *file, double w, double h);

/*
 * Frees the canvas opened by pb__canvas_open and, when rc is PB_OK, writes
 * a PNG to file (SVG and PDF are written as drawn). Returns rc when it is
 * not PB_OK, else PB_ECHART (drawing failed), PB_EIO (writing failed) or
 * PB_OK.
 */
int pb__canvas_close(pb__canvas *cv, const char *file, int rc);

/* A plot area and its data ranges. ylog: the y axis is logarithmic (ymin,
 * ymax > 0; values at or below zero are drawn at ymin). */
typedef struct pb__axes {
  double left, top, right, bottom; /* canvas coordinates */
  double xmin, xmax, ymin, ymax;   /* data ranges */
  bool ylog;
  bool xlog; /* the x axis is logarithmic (xmin, xmax > 0; bars) */
} pb__axes;

/*
 * The x range of n points at 0 .. n-1 with room on both sides (1% of the
 * span, at least half a point), so that the first and last points, and
 * marks around them, are inside the plot area and not on its frame.
 */
void pb__x_range_points(size_t n, double *xmin, double *xmax);

/*
 * What a chart drew, for the tests (pb__chart_render): the plot area of its
 * main (or last) panel, and the highest memory peak it annotated.
 */
typedef struct pb__chart_geom {
  pb__axes ax;
  bool has_peak;
  double peak_value; /* in the chart's y unit (MiB for memory) */
  double peak_x;     /* x of the peak in data coordinates */
  char peak_topic[128];
  /* x of the first and last points drawn (data coordinates), for the
   * padding check; peak_note: the memory chart's peak-mode note, "" if none */
  double x_first, x_last;
  char peak_note[192];
} pb__chart_geom;

/* What a chart type gets: the records to overlay and where to draw. */
typedef struct pb__chart_ctx {
  pb__canvas *cv;
  const pb_record *const *records;
  const char *const *labels; /* one per record, never NULL here */
  size_t n;
  const char *title;
  pb_chart_options opts; /* the caller's, or zeroes */
  pb__chart_geom *geom;  /* NULL, or filled for tests */
} pb__chart_ctx;

/*
 * pb_chart_write_opts, and when geom is not NULL fills it with what was
 * drawn (for tests that check the drawing's geometry).
 */
int pb__chart_render(pb_chart_kind kind, const pb_record *const *records, const char *const *labels,
                     size_t n, const char *title, pb_format fmt, const char *file,
                     const pb_chart_options *opts, pb__chart_geom *geom, pb_error *err);

/*
 * pb__chart_render, and when texts is not NULL appends every text drawn
 * (with its extent) to it, for tests that check what a chart says and
 * that its labels do not overlap. The caller frees it (pb__text_log_free).
 */
int pb__chart_render_log(pb_chart_kind kind, const pb_record *const *records,
                         const char *const *labels, size_t n, const char *title, pb_format fmt,
                         const char *file, const pb_chart_options *opts, pb__chart_geom *geom,
                         pb__text_log *texts, pb_error *err);

/* True when topic name is drawn under the options (probes hidden by default). */
bool pb__topic_shown(const pb__chart_ctx *c, const char *name);

/*
 * With the memory probes hidden, what GLOBAL (the whole iteration, which
 * includes their time) holds of them, from pb_record_probe_time: "GLOBAL
 * includes the hidden memory probes: 150 µs per iteration (mean), 32.1% of
 * GLOBAL", or with several runs the time and share of each run that has
 * probes. Writes it to buf (n bytes) and returns true; false (buf "") when
 * the probes are shown or no run has any.
 */
bool pb__probe_note(const pb__chart_ctx *c, char *buf, size_t n);

/*
 * Copies at most max_chars characters (UTF-8 code points) of s into buf (n
 * bytes), ending with "\u2026" when s is longer. Reads at most about 4 x
 * max_chars bytes of s, so that a label's cost never depends on the length
 * of a name. Returns buf.
 */
char *pb__ellipsize(const char *s, size_t max_chars, char *buf, size_t n);

/*
 * Run labels for a legend of n > 1 runs: the part that tells them apart (a
 * common prefix ending at a separator such as "2026-11-30T" and a common
 * suffix starting at one such as ".000000Z" are dropped when every label
 * keeps 3 characters or more), ellipsized to 24 characters. Reads at most
 * 256 bytes of a label.
 */
#define PB__RUN_LABEL_MAX 112
void pb__short_labels(const char *const *labels, size_t n, char (*out)[PB__RUN_LABEL_MAX]);

/* Characters of a label, a legend entry and a title at most. */
#define PB__LABEL_CHARS 40
#define PB__TITLE_CHARS 90

/*
 * Y range for data from lo to hi: zero is included when it is near (lo
 * at most half the data's span above zero), otherwise the range hugs the
 * data; pad_top is the fraction of the span added above (room for labels).
 */
void pb__y_range(double lo, double hi, double pad_top, double *ymin, double *ymax);

/* Font sizes (pixels at PNG scale). */
#define PB__FONT_TITLE 18.0
#define PB__FONT_LABEL 14.0
#define PB__FONT_TICK 12.0
#define PB__FONT_SMALL 11.0

/* Text alignment: fraction of the text's extent left of / above the anchor. */
#define PB__LEFT 0.0
#define PB__CENTER 0.5
#define PB__RIGHT 1.0
#define PB__TOP 0.0
#define PB__MIDDLE 0.5
#define PB__BOTTOM 1.0

void pb__text_size(pb__canvas *cv, const char *text, double size, bool bold, double *w, double *h);
/* Draws text anchored at (x, y); angle in radians (text rotated about the anchor). */
void pb__text(pb__canvas *cv, double x, double y, const char *text, double size, bool bold,
              double ax, double ay, double angle, pb__rgb color);

/* Palette colour i (qualitative, readable on white, none of them red: red
 * marks outliers and caps). PB__PALETTE_N colours, then they repeat. */
#define PB__PALETTE_N 12
pb__rgb pb__palette(size_t i);
/* The colour of outlier marks and caps. */
#define PB__OUTLIER_RGB ((pb__rgb){0.8, 0.1, 0.1})
/* Colour of a topic: GLOBAL is near-black, others palette colour index
 * (index counts the shown topics other than GLOBAL). */
pb__rgb pb__topic_color(const char *topic, size_t index);
/* Dash pattern of run k (solid, dashed, dash-dot, dotted). */
void pb__set_dash(cairo_t *cr, size_t k);
/* Marker of run k (filled circle, square, triangle, diamond...). */
void pb__marker(cairo_t *cr, double x, double y, double r, size_t shape);

static inline double pb__ax_x(const pb__axes *a, double v) {
  if (a->xlog) {
    double lv = v > a->xmin ? log10(v) : log10(a->xmin);
    return a->left +
           (lv - log10(a->xmin)) / (log10(a->xmax) - log10(a->xmin)) * (a->right - a->left);
  }
  return a->left + (v - a->xmin) / (a->xmax - a->xmin) * (a->right - a->left);
}
/* y pixel of value v (the tests use it to find where a value is drawn). */
static inline double pb__ax_y(const pb__axes *a, double v) {
  if (a->ylog) {
    double lv = v > a->ymin ? log10(v) : log10(a->ymin);
    return a->bottom -
           (lv - log10(a->ymin)) / (log10(a->ymax) - log10(a->ymin)) * (a->bottom - a->top);
  }
  return a->bottom - (v - a->ymin) / (a->ymax - a->ymin) * (a->bottom - a->top);
}

/* Nice tick step for a range and a maximum number of ticks. */
double pb__nice_step(double range, double max_ticks);
/* Formats v for a tick with the step's number of decimals. */
void pb__fmt_tick(double v, double step, char *buf, size_t n);

/*
 * Step of numeric x ticks over [lo, hi] on an axis w px wide: as many as
 * fit with the widest label (that of hi) and a 24 px gap, whole numbers
 * when the range spans 1 or more. The thinning of every numeric x axis.
 */
double pb__x_tick_step(pb__canvas *cv, double lo, double hi, double w);

/*
 * Draws the white plot frame, grid lines and numeric ticks: y ticks with
 * labels scaled by 1/yscale, x ticks (numeric, when xnumeric) thinned so
 * their labels never overlap, and the axis labels.
 */
void pb__draw_axes(pb__canvas *cv, const pb__axes *ax, double yscale, const char *ylabel,
                   bool xnumeric, const char *xlabel);

/* Largest y tick label width for the range (a log axis when ylog), to size
 * the left margin. */
double pb__ytick_width(pb__canvas *cv, double ymin, double ymax, double yscale, double height,
                       bool ylog);

/* Legend entries drawn outside the plot area. */
typedef enum pb__swatch {
  PB__SW_LINE,
  PB__SW_MARKER,
  PB__SW_BOX,
  PB__SW_UP,
  PB__SW_RING
} pb__swatch;
typedef struct pb__legend_item {
  const char *text;
  pb__rgb color;
  pb__swatch kind;
  size_t style; /* dash or marker index */
} pb__legend_item;
/* Width the legend needs for items laid out in columns of the given height. */
double pb__legend_width(pb__canvas *cv, const pb__legend_item *items, size_t n, double height);
/*
 * With more than PB__LEGEND_MANY items, moves the keys after the first
 * nseries items (runs' line styles, outlier and cap marks) to the front,
 * so that a legend cut to what fits ("... and N more series") keeps them.
 */
#define PB__LEGEND_MANY 30
void pb__legend_keys_first(pb__legend_item *items, size_t nseries, size_t n);
/* Draws the legend with its top-left corner at (x, y). */
void pb__legend_draw(pb__canvas *cv, const pb__legend_item *items, size_t n, double x, double y,
                     double height);

/*
 * Draws y[i] at x = x0 + i * dx (i < n) as a line; NANs break the line.
 * Above two points per pixel column the series is reduced per column to
 * its first, largest, smallest and last value, drawn as the line through
 * them: exactly the pixels the full line would cover (peaks stay at their
 * true height), at a cost that depends on the width, not on n.
 */
void pb__draw_line(pb__canvas *cv, const pb__axes *ax, const double *y, size_t n, double x0,
                   double dx, pb__rgb color, double width, size_t dash);
/* Draws markers at (x[i], y[i]) (NAN y skipped); when they would overlap,
 * a solid bar per pixel column from its smallest to its largest value
 * (x must not decrease), with connect also joined column to column. */
void pb__draw_markers(pb__canvas *cv, const pb__axes *ax, const double *x, const double *y,
                      size_t n, pb__rgb color, double radius, size_t shape);
void pb__draw_envelope(pb__canvas *cv, const pb__axes *ax, const double *x, const double *y,
                       size_t n, pb__rgb color, double width, bool connect, size_t dash);

/* pb_percentile_sorted(sorted v, n, q) without sorting: reorders v (n
 * values, no NAN) in linear expected time. NAN when n is 0. */
double pb__percentile_select(double *v, size_t n, double q);

/* A triangle pointing up at (x, y): the mark of a capped outlier. */
void pb__outlier_mark(pb__canvas *cv, double x, double y, pb__rgb color);

/*
 * When n points over the plot width are drawn reduced (more than two per
 * pixel column), says so above the plot's top right corner: "each column
 * spans its min-max".
 */
void pb__dense_note(pb__canvas *cv, const pb__axes *ax, size_t n, const char *unit);

/* Time unit for a value range: sets *scale (seconds per unit) and returns "s", "ms", "µs", "ns". */
const char *pb__time_unit(double max_seconds, double *scale);

/* Canvas height of the bars chart of c: its rows (as many as stay
 * readable in 8000 px) and notes. */
double pb__bars_height(const pb__chart_ctx *c);

/* The chart types (chart_*.c). */
int pb__chart_times(pb__chart_ctx *c);
int pb__chart_bars(pb__chart_ctx *c);
int pb__chart_crono(pb__chart_ctx *c);
int pb__chart_memory(pb__chart_ctx *c);
int pb__chart_cuda(pb__chart_ctx *c);

/*
 * Points of a call-order chart (crono, memory): one per call or memory
 * record, or per collapsed repetition of a step sequence.
 */
typedef struct pb__seq_point {
  uint32_t iter;  /* iteration */
  uint32_t first; /* index of the first item of the pattern in the source order */
  uint32_t len;   /* pattern length (1 = a single call) */
  uint32_t count; /* repetitions collapsed into this point */
  uint32_t topic; /* topic of the first item */
  uint32_t last;  /* index of the last item collapsed */
} pb__seq_point;

/*
 * The original's find_clusters: within each iteration, a sequence of up to
 * max_len steps repeated back to back, whose values stay within
 * filter * (max - min of the iteration) of its first value, becomes one
 * point. items: n (iter, topic, value) in call order. Returns the number of
 * points written to out (which must hold n), or 0 on n == 0.
 */
size_t pb__find_clusters(const uint32_t *iter, const uint32_t *topic, const double *value, size_t n,
                         size_t max_len, double filter, pb__seq_point *out);

/* Label of point p: "<iter>_<a> || <b> x<count>", topic names from names[]. */
void pb__seq_label(const pb__seq_point *p, const uint32_t *topic, const char *const *names,
                   char *buf, size_t n);

/*
 * Draws the x axis of a call-order chart of n points (pts, in order) and
 * its title, naming the items as what ("call", "memory record"): every
 * point's label (rotated) when they fit; otherwise, when all points are of
 * one iteration, ticks at item numbers within it; else ticks at iteration
 * starts. Ticks are thinned as a numeric axis (pb__x_tick_step) and a
 * label that would overlap the previous one is skipped. label(i) writes
 * point i's label. Returns the height used below the plot area (to lay out
 * before drawing: call with draw false first).
 */
typedef void (*pb__label_fn)(size_t i, char *buf, size_t n, void *user);
double pb__seq_axis(pb__canvas *cv, const pb__axes *ax, size_t npoints, const pb__seq_point *pts,
                    const char *what, pb__label_fn label, void *user, bool draw);

/* Lays out a standard single-plot chart: title, legend on the right, axes. */
typedef struct pb__layout {
  pb__axes ax;
  double legend_x, legend_y, legend_h;
} pb__layout;
void pb__layout_plot(pb__canvas *cv, const char *title, const pb__legend_item *items, size_t nitems,
                     double left_margin, double bottom_margin, pb__layout *out);

#endif
