/*
 * chart_memory.c - memory over the memory records in call order: RSS and
 * the malloc heap as lines, the peak since the previous record as markers,
 * all in MiB, with the step names on the x axis (repeated sequences
 * collapsed as the original does); and the GPU memory series.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#define MEM_MAX_PATTERN 3
#define MEM_FILTER 0.05
#define MIB (1024.0 * 1024.0)

typedef struct mem_series {
  size_t npts;
  uint32_t *iter, *topic;
  uint32_t *peak_rec; /* memory record holding each point's peak */
  double *value, *x, *rss, *peak, *heap, *cuda[PB_CUDA_N];
  pb__seq_point *pts;
} mem_series;

typedef struct seq_labels {
  const pb__seq_point *pts;
  const uint32_t *topic;
  const char *const *names;
} seq_labels;

static void label_point(size_t i, char *buf, size_t n, void *user) {
  const seq_labels *s = user;
  pb__seq_label(&s->pts[i], s->topic, s->names, buf, n);
}

static void series_free(mem_series *s) {
  free(s->iter);
  free(s->topic);
  free(s->peak_rec);
  free(s->value);
  free(s->x);
  free(s->rss);
  free(s->peak);
  free(s->heap);
  for (int k = 0; k < PB_CUDA_N; k++) free(s->cuda[k]);
  free(s->pts);
}

/* Points of one record's memory records: collapsed (memory chart) or all
 * records with GPU values (cuda chart). */
static int series_build(const pb_record *r, bool cuda, mem_series *s) {
  memset(s, 0, sizeof *s);
  size_t n;
  const pb_mem_record *m = pb_record_memory(r, &n);
  size_t sz = (n + 1) * sizeof(double);
  s->iter = malloc((n + 1) * sizeof *s->iter);
  s->topic = malloc((n + 1) * sizeof *s->topic);
  s->peak_rec = malloc((n + 1) * sizeof *s->peak_rec);
  s->value = malloc(sz);
  s->x = malloc(sz);
  s->rss = malloc(sz);
  s->peak = malloc(sz);
  s->heap = malloc(sz);
  s->pts = malloc((n + 1) * sizeof *s->pts);
  bool ok = s->iter && s->topic && s->peak_rec && s->value && s->x && s->rss && s->peak &&
            s->heap && s->pts;
  for (int k = 0; k < PB_CUDA_N; k++) ok = ok && (s->cuda[k] = malloc(sz)) != NULL;
  if (!ok) return PB_ENOMEM;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (cuda) {
      bool any = false;
      for (int k = 0; k <= PB_CUDA_MAX_RESERVED; k++) any |= !isnan(m[i].cuda[k]);
      if (!any) continue;
    }
    s->iter[j] = m[i].iter;
    s->topic[j] = m[i].topic;
    s->value[j] = m[i].rss;
    j++;
  }
  if (cuda) {
    /* no collapsing: a point per record */
    size_t q = 0;
    for (size_t i = 0; i < n; i++) {
      bool any = false;
      for (int k = 0; k <= PB_CUDA_MAX_RESERVED; k++) any |= !isnan(m[i].cuda[k]);
      if (!any) continue;
      s->pts[q] = (pb__seq_point){m[i].iter, (uint32_t)q, 1, 1, m[i].topic, (uint32_t)q};
      s->peak_rec[q] = (uint32_t)i;
      for (int k = 0; k < PB_CUDA_N; k++) s->cuda[k][q] = m[i].cuda[k] / MIB;
      q++;
    }
    s->npts = q;
  } else {
    s->npts =
        pb__find_clusters(s->iter, s->topic, s->value, j, MEM_MAX_PATTERN, MEM_FILTER, s->pts);
    for (size_t p = 0; p < s->npts; p++) {
      const pb__seq_point *pt = &s->pts[p];
      s->rss[p] = m[pt->last].rss / MIB;
      s->heap[p] = m[pt->last].heap / MIB;
      /* the largest peak of the records collapsed: never a mean */
      double pk = NAN;
      s->peak_rec[p] = pt->last;
      for (uint32_t i = pt->first; i <= pt->last; i++) {
        if (m[i].peak > 0 && !(m[i].peak <= pk)) {
          pk = m[i].peak;
          s->peak_rec[p] = i;
        }
      }
      s->peak[p] = pk / MIB;
    }
  }
  for (size_t p = 0; p < s->npts; p++) s->x[p] = (double)p;
  return PB_OK;
}

/* True when series a and b of every record hold the same values. */
static bool same_series(const mem_series *ser, size_t n, int a, int b) {
  for (size_t k = 0; k < n; k++)
    for (size_t i = 0; i < ser[k].npts; i++) {
      double x = ser[k].cuda[a][i], y = ser[k].cuda[b][i];
      if (!(x == y || (isnan(x) && isnan(y)))) return false;
    }
  return true;
}

/* One series of the chart: what it is called and how it is drawn. */
typedef struct kind {
  int index; /* MEM_* or a PB_CUDA_* */
  const char *name;
  pb__rgb color;
  bool markers; /* markers instead of a line */
  double width;
} kind;

enum { MEM_RSS, MEM_PEAK, MEM_HEAP };

static const double *values(const mem_series *s, bool cuda, int index) {
  if (cuda) return s->cuda[index];
  return index == MEM_RSS ? s->rss : index == MEM_PEAK ? s->peak : s->heap;
}

static bool any_value(const mem_series *ser, size_t n, bool cuda, int index) {
  for (size_t k = 0; k < n; k++)
    for (size_t i = 0; i < ser[k].npts; i++)
      if (!isnan(values(&ser[k], cuda, index)[i])) return true;
  return false;
}

/*
 * The series to draw, in legend order. Memory: RSS, the peak since the
 * previous record (markers) and the heap, when recorded. GPU: porter_bench
 * (C) writes reserved = allocated and max_reserved = max_allocated; equal
 * series are drawn once, named for both. device_total is left out (it
 * would flatten the rest), device_used is drawn when recorded.
 */
static size_t plan(const mem_series *ser, size_t n, bool cuda, kind *out) {
  size_t nk = 0;
  if (!cuda) {
    out[nk++] = (kind){MEM_RSS, "RSS (resident set)", {0.122, 0.467, 0.706}, false, 2.0};
    if (any_value(ser, n, false, MEM_PEAK))
      out[nk++] =
          (kind){MEM_PEAK, "peak since the last record, if above RSS", {0.85, 0.33, 0.0}, true, 0};
    if (any_value(ser, n, false, MEM_HEAP))
      out[nk++] = (kind){MEM_HEAP, "heap in use (malloc)", {0.173, 0.627, 0.173}, false, 1.6};
    return nk;
  }
  static const char *const names[PB_CUDA_N] = {
      "allocated",   "reserved", "max allocated", "max reserved", "device used (all processes)",
      "device total"};
  bool merge_res = same_series(ser, n, PB_CUDA_ALLOCATED, PB_CUDA_RESERVED);
  bool merge_max = same_series(ser, n, PB_CUDA_MAX_ALLOCATED, PB_CUDA_MAX_RESERVED);
  for (int q = 0; q < PB_CUDA_DEVICE_TOTAL; q++) {
    if (!any_value(ser, n, true, q)) continue;
    if ((q == PB_CUDA_RESERVED && merge_res) || (q == PB_CUDA_MAX_RESERVED && merge_max)) continue;
    const char *name = names[q];
    if (q == PB_CUDA_ALLOCATED && merge_res && any_value(ser, n, true, PB_CUDA_RESERVED))
      name = "allocated = reserved";
    if (q == PB_CUDA_MAX_ALLOCATED && merge_max && any_value(ser, n, true, PB_CUDA_MAX_RESERVED))
      name = "max allocated = max reserved";
    out[nk++] = (kind){q, name, pb__palette((size_t)q), false, 1.8};
  }
  return nk;
}

/* Legend: every series (colour), then with several runs every run (dash
 * and marker style): short entries whatever the number of runs. */
static size_t make_legend(const pb__chart_ctx *c, const kind *kinds, size_t nk,
                          pb__legend_item *items) {
  size_t li = 0;
  for (size_t q = 0; q < nk; q++)
    items[li++] = (pb__legend_item){kinds[q].name, kinds[q].color,
                                    kinds[q].markers ? PB__SW_MARKER : PB__SW_LINE, 0};
  for (size_t k = 0; c->n > 1 && k < c->n; k++)
    items[li++] = (pb__legend_item){c->labels[k], {0.25, 0.25, 0.25}, PB__SW_LINE, k};
  return li;
}

/* The highest value of the first series kind that is a peak (else RSS):
 * run *run, point *point; false when nothing is drawn. */
static bool highest(const mem_series *ser, size_t n, bool cuda, const kind *kinds, size_t nk,
                    size_t *run, size_t *point, double *value) {
  int index = kinds[0].index;
  for (size_t q = 0; q < nk; q++)
    if (kinds[q].markers || (cuda && kinds[q].index == PB_CUDA_MAX_ALLOCATED))
      index = kinds[q].index;
  *value = -INFINITY;
  for (size_t k = 0; k < n; k++) {
    const double *v = values(&ser[k], cuda, index);
    for (size_t i = 0; i < ser[k].npts; i++)
      if (v[i] > *value) {
        *value = v[i];
        *run = k;
        *point = i;
      }
  }
  return isfinite(*value);
}

/* Marks the highest peak: a ring, and its value, step and iteration. */
static void annotate_peak(const pb__chart_ctx *c, const pb__axes *ax, const mem_series *ser,
                          bool cuda, const kind *kinds, size_t nk) {
  size_t k = 0, p = 0;
  double v;
  if (!nk || !highest(ser, c->n, cuda, kinds, nk, &k, &p, &v)) return;
  const pb_mem_record *m = pb_record_memory(c->records[k], NULL);
  uint32_t rec = ser[k].peak_rec[p];
  char topic[PB__LABEL_CHARS * 4 + 8], buf[PB__LABEL_CHARS * 4 + 96];
  pb__ellipsize(pb_record_memory_topic(c->records[k], m[rec].topic), 24, topic, sizeof topic);
  snprintf(buf, sizeof buf, "highest: %.1f MiB in %s, iteration %u", v, topic, m[rec].iter);
  double X = pb__ax_x(ax, ser[k].x[p]), Y = pb__ax_y(ax, v);
  cairo_t *cr = c->cv->cr;
  cairo_save(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1.5);
  cairo_new_sub_path(cr);
  cairo_arc(cr, X, Y, 7, 0, 2 * M_PI);
  cairo_stroke(cr);
  cairo_restore(cr);
  /* the label beside the ring, above it when there is room (below
   * otherwise), on a white box so that the lines under it do not blur it */
  double tw, th;
  pb__text_size(c->cv, buf, PB__FONT_SMALL, true, &tw, &th);
  bool right = X + 12 + tw <= ax->right;
  double ty = Y - 16 - th / 2 >= ax->top + 2 ? Y - 16 : Y + 16;
  double tx = right ? X + 10 : X - 10 - tw;
  cairo_save(cr);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, tx - 2, ty - th / 2 - 1, tw + 4, th + 2);
  cairo_fill(cr);
  cairo_restore(cr);
  pb__text(c->cv, tx, ty, buf, PB__FONT_SMALL, true, PB__LEFT, PB__MIDDLE, 0, (pb__rgb){0, 0, 0});
  if (c->geom) {
    c->geom->has_peak = true;
    c->geom->peak_value = v;
    c->geom->peak_x = ser[k].x[p];
    snprintf(c->geom->peak_topic, sizeof c->geom->peak_topic, "%.100s", topic);
  }
}

/* Peaks drawn: a peak only where it is at least PEAK_MARGIN_PX above the
 * RSS of its record (elsewhere the RSS line shows it), NAN otherwise. */
#define PEAK_MARGIN_PX 2.0
static void peaks_above_rss(const pb__axes *ax, const mem_series *s, double *out) {
  for (size_t i = 0; i < s->npts; i++) {
    double p = s->peak[i], r = s->rss[i];
    bool above = !isnan(p) && (isnan(r) || pb__ax_y(ax, r) - pb__ax_y(ax, p) >= PEAK_MARGIN_PX);
    out[i] = above ? p : NAN;
  }
}

/*
 * Every series stays visible: the peak markers first (underneath, and only
 * where above the RSS: a peak equal to the RSS would hide its line), then
 * the lines, the last in the legend first, so that the first (RSS,
 * allocated) is on top.
 */
static int draw_series(pb__canvas *cv, const pb__axes *ax, const mem_series *ser, size_t n,
                       bool cuda, const kind *kinds, size_t nk, double per_px) {
  double rad = per_px > 0.5 ? 2 : 3.5;
  for (size_t k = 0; k < n; k++) {
    const mem_series *s = &ser[k];
    for (size_t q = 0; q < nk; q++) {
      if (!kinds[q].markers) continue;
      double *pk = malloc((s->npts + 1) * sizeof *pk);
      if (!pk) return PB_ENOMEM;
      peaks_above_rss(ax, s, pk);
      pb__draw_markers(cv, ax, s->x, pk, s->npts, kinds[q].color, rad, k);
      free(pk);
    }
    for (size_t q = nk; q-- > 0;)
      if (!kinds[q].markers)
        pb__draw_line(cv, ax, values(s, cuda, kinds[q].index), s->npts, 0, 1, kinds[q].color,
                      kinds[q].width, k);
    if (!cuda && per_px < 0.2) /* few points: dots show where each record is */
      pb__draw_markers(cv, ax, s->x, s->rss, s->npts, kinds[0].color, 2.2, 0);
  }
  return PB_OK;
}

/*
 * The peak mode note (issue 9): "peak (sampled every N ms: ...)" when a run
 * drawn sampled its peaks, "peak (exact)" when every run reset them, ""
 * when a run's mode is unknown (the original's records).
 */
static void peak_note(const pb__chart_ctx *c, char *buf, size_t n) {
  bool sampled = false, all_exact = true;
  double period = NAN;
  for (size_t k = 0; k < c->n; k++) {
    double ms;
    pb_recorded_peak m = pb_record_peak_mode(c->records[k], &ms);
    if (m == PB_RECORDED_PEAK_SAMPLE) {
      sampled = true;
      if (!(ms <= period)) period = ms;
    }
    all_exact &= m == PB_RECORDED_PEAK_RESET;
  }
  buf[0] = '\0';
  if (sampled && !isnan(period))
    snprintf(buf, n,
             "peak (sampled every %.4g ms: short spikes may read low; PORTER_BENCH_PEAK=reset "
             "for exact)",
             period);
  else if (sampled)
    snprintf(buf, n,
             "peak (sampled: short spikes may read low; PORTER_BENCH_PEAK=reset for exact)");
  else if (all_exact && c->n)
    snprintf(buf, n, "peak (exact)");
}

static int draw_memory_like(pb__chart_ctx *c, bool cuda) {
  pb__canvas *cv = c->cv;
  mem_series *ser = calloc(c->n, sizeof *ser);
  if (!ser) return PB_ENOMEM;
  int rc = PB_OK;
  size_t xmax = 0, longest = 0;
  for (size_t k = 0; k < c->n && rc == PB_OK; k++) {
    rc = series_build(c->records[k], cuda, &ser[k]);
    if (ser[k].npts > xmax) {
      xmax = ser[k].npts;
      longest = k;
    }
  }
  kind kinds[PB_CUDA_N];
  size_t nk = rc == PB_OK ? plan(ser, c->n, cuda, kinds) : 0;
  double ymax = -INFINITY, ymin = INFINITY;
  for (size_t k = 0; k < c->n; k++)
    for (size_t q = 0; q < nk; q++)
      for (size_t i = 0; i < ser[k].npts; i++) {
        double v = values(&ser[k], cuda, kinds[q].index)[i];
        if (v > ymax) ymax = v;
        if (v < ymin) ymin = v;
      }
  if (!(ymax >= ymin)) ymin = 0, ymax = 1;
  double ylo, yhi;
  pb__y_range(ymin, ymax, 0.1, &ylo, &yhi);
  const pb_record *r0 = c->records[longest];
  size_t nt = pb_record_memory_topic_count(r0);
  const char **names = calloc(nt + 1, sizeof *names);
  pb__legend_item *items = calloc(PB_CUDA_N + c->n + 1, sizeof *items);
  if (!names || !items) rc = PB_ENOMEM;
  if (rc == PB_OK) {
    for (size_t t = 0; t < nt; t++) names[t] = pb_record_memory_topic(r0, t);
    size_t li = make_legend(c, kinds, nk, items);
    char title[512];
    snprintf(title, sizeof title, "%s \xe2\x80\x94 %s", c->title,
             cuda ? "GPU memory per record" : "memory per record");
    seq_labels sl = {ser[longest].pts, ser[longest].topic, names};
    /* lay out twice: the x labels' height decides the bottom margin */
    pb__layout L;
    double lm = pb__ytick_width(cv, ylo, yhi, 1, cv->h - 160, false) + 48;
    pb__layout_plot(cv, NULL, items, li, lm, 100, &L);
    double need =
        pb__seq_axis(cv, &L.ax, xmax, ser[longest].pts, "memory record", label_point, &sl, false);
    pb__layout_plot(cv, title, items, li, lm, (need > 260 ? 260 : need) + 40, &L);
    pb__axes *ax = &L.ax;
    pb__x_range_points(xmax, &ax->xmin, &ax->xmax);
    ax->ymin = ylo;
    ax->ymax = yhi;
    pb__draw_axes(cv, ax, 1, cuda ? "GPU memory (MiB)" : "memory (MiB)", false, NULL);
    pb__seq_axis(cv, ax, xmax, ser[longest].pts, "memory record", label_point, &sl, true);
    pb__dense_note(cv, ax, xmax, "records");
    char note[192] = "";
    if (!cuda && any_value(ser, c->n, false, MEM_PEAK)) peak_note(c, note, sizeof note);
    if (note[0])
      pb__text(cv, ax->left, ax->top - 3, note, PB__FONT_SMALL, false, PB__LEFT, PB__BOTTOM, 0,
               (pb__rgb){0.35, 0.35, 0.35});
    rc = draw_series(cv, ax, ser, c->n, cuda, kinds, nk, (double)xmax / (ax->right - ax->left));
    annotate_peak(c, ax, ser, cuda, kinds, nk);
    pb__legend_draw(cv, items, li, L.legend_x, L.legend_y, L.legend_h);
    if (c->geom) {
      c->geom->ax = *ax;
      c->geom->x_first = 0;
      c->geom->x_last = xmax ? (double)(xmax - 1) : 0;
      snprintf(c->geom->peak_note, sizeof c->geom->peak_note, "%s", note);
    }
  }
  for (size_t k = 0; k < c->n; k++) series_free(&ser[k]);
  free(ser);
  free(names);
  free(items);
  return rc;
}

int pb__chart_memory(pb__chart_ctx *c) { return draw_memory_like(c, false); }
int pb__chart_cuda(pb__chart_ctx *c) { return draw_memory_like(c, true); }
