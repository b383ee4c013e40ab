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
  uint32_t *iter, *topic, *pit;
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
  free(s->pit);
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
  s->pit = malloc((n + 1) * sizeof *s->pit);
  s->value = malloc(sz);
  s->x = malloc(sz);
  s->rss = malloc(sz);
  s->peak = malloc(sz);
  s->heap = malloc(sz);
  s->pts = malloc((n + 1) * sizeof *s->pts);
  bool ok =
      s->iter && s->topic && s->pit && s->value && s->x && s->rss && s->peak && s->heap && s->pts;
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
      double pk = NAN;
      for (uint32_t i = pt->first; i <= pt->last; i++)
        if (m[i].peak > 0 && !(m[i].peak <= pk)) pk = m[i].peak;
      s->peak[p] = pk / MIB;
    }
  }
  for (size_t p = 0; p < s->npts; p++) {
    s->x[p] = (double)p;
    s->pit[p] = s->pts[p].iter;
  }
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

/*
 * Which GPU series to draw, and their names. porter_bench (C) writes
 * reserved = allocated and max_reserved = max_allocated: equal series are
 * drawn once, named for both. device_total is left out (it would flatten
 * the rest), device_used is drawn when recorded.
 */
static void cuda_plan(const mem_series *ser, size_t n, bool draw[PB_CUDA_N],
                      const char *names[PB_CUDA_N]) {
  static const char *const base[PB_CUDA_N] = {
      "allocated",   "reserved", "max allocated", "max reserved", "device used (all processes)",
      "device total"};
  for (int q = 0; q < PB_CUDA_N; q++) {
    names[q] = base[q];
    draw[q] = false;
    for (size_t k = 0; k < n && !draw[q]; k++)
      for (size_t i = 0; i < ser[k].npts && !draw[q]; i++) draw[q] = !isnan(ser[k].cuda[q][i]);
  }
  draw[PB_CUDA_DEVICE_TOTAL] = false;
  if (draw[PB_CUDA_RESERVED] && same_series(ser, n, PB_CUDA_ALLOCATED, PB_CUDA_RESERVED)) {
    draw[PB_CUDA_RESERVED] = false;
    names[PB_CUDA_ALLOCATED] = "allocated = reserved";
  }
  if (draw[PB_CUDA_MAX_RESERVED] &&
      same_series(ser, n, PB_CUDA_MAX_ALLOCATED, PB_CUDA_MAX_RESERVED)) {
    draw[PB_CUDA_MAX_RESERVED] = false;
    names[PB_CUDA_MAX_ALLOCATED] = "max allocated = max reserved";
  }
}

static int draw_memory_like(pb__chart_ctx *c, bool cuda) {
  pb__canvas *cv = c->cv;
  mem_series *ser = calloc(c->n, sizeof *ser);
  if (!ser) return PB_ENOMEM;
  int rc = PB_OK;
  double ymax = 0;
  size_t xmax = 0, longest = 0;
  bool has_peak = false, has_heap = false;
  bool cdraw[PB_CUDA_N];
  const char *cnames[PB_CUDA_N];
  for (size_t k = 0; k < c->n && rc == PB_OK; k++) rc = series_build(c->records[k], cuda, &ser[k]);
  if (rc == PB_OK && cuda) cuda_plan(ser, c->n, cdraw, cnames);
  for (size_t k = 0; k < c->n && rc == PB_OK; k++) {
    mem_series *s = &ser[k];
    for (size_t i = 0; i < s->npts; i++) {
      if (cuda) {
        for (int q = 0; q < PB_CUDA_N; q++)
          if (cdraw[q] && s->cuda[q][i] > ymax) ymax = s->cuda[q][i];
      } else {
        if (s->rss[i] > ymax) ymax = s->rss[i];
        if (s->peak[i] > ymax) ymax = s->peak[i];
        if (s->heap[i] > ymax) ymax = s->heap[i];
        has_peak |= !isnan(s->peak[i]);
        has_heap |= !isnan(s->heap[i]);
      }
    }
    if (s->npts > xmax) {
      xmax = s->npts;
      longest = k;
    }
  }
  const pb_record *r0 = c->records[longest];
  size_t nt = pb_record_memory_topic_count(r0);
  const char **names = calloc(nt + 1, sizeof *names);
  pb__legend_item *items = calloc(PB_CUDA_N * c->n + 1, sizeof *items);
  char **texts = calloc(PB_CUDA_N * c->n + 1, sizeof *texts);
  if (!names || !items || !texts) rc = PB_ENOMEM;
  if (rc) goto done;
  for (size_t t = 0; t < nt; t++) names[t] = pb_record_memory_topic(r0, t);

  static const char *const mem_names[3] = {"RSS (resident set)", "peak since the previous record",
                                           "heap in use (malloc)"};
  static const pb__rgb mem_colors[3] = {
      {0.122, 0.467, 0.706}, {0.85, 0.33, 0.0}, {0.173, 0.627, 0.173}};
  size_t li = 0;
  for (size_t k = 0; k < c->n; k++) {
    int nser = cuda ? PB_CUDA_N : 3;
    for (int q = 0; q < nser; q++) {
      if (!cuda && ((q == 1 && !has_peak) || (q == 2 && !has_heap))) continue;
      if (cuda && !cdraw[q]) continue;
      const char *base = cuda ? cnames[q] : mem_names[q];
      size_t len = strlen(base) + strlen(c->labels[k]) + 4;
      texts[li] = malloc(len);
      if (!texts[li]) continue;
      if (c->n > 1)
        snprintf(texts[li], len, "%s: %s", c->labels[k], base);
      else
        snprintf(texts[li], len, "%s", base);
      pb__rgb col = cuda ? pb__palette((size_t)q) : mem_colors[q];
      items[li] = (pb__legend_item){texts[li], col, (!cuda && q == 1) ? PB__SW_MARKER : PB__SW_LINE,
                                    (!cuda && q == 1) ? k : k};
      li++;
    }
  }
  if (!(ymax > 0)) ymax = 1;
  char title[512];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 %s", c->title,
           cuda ? "GPU memory per record" : "memory per record");
  seq_labels sl = {ser[longest].pts, ser[longest].topic, names};
  pb__layout L;
  double lm = pb__ytick_width(cv, 0, ymax * 1.08, 1, cv->h - 160) + 48;
  pb__layout_plot(cv, NULL, items, li, lm, 100, &L);
  double need = pb__seq_axis(cv, &L.ax, xmax, ser[longest].pit, label_point, &sl, false);
  if (need > 260) need = 260;
  pb__layout_plot(cv, title, items, li, lm, need + 40, &L);
  pb__axes *ax = &L.ax;
  ax->xmin = xmax > 1 ? -0.5 : -1;
  ax->xmax = xmax > 1 ? (double)xmax - 0.5 : 1;
  ax->ymin = 0;
  ax->ymax = ymax * 1.08;
  pb__draw_axes(cv, ax, 1, cuda ? "GPU memory (MiB)" : "memory (MiB)", false,
                xmax * 16 <= (size_t)(ax->right - ax->left)
                    ? "memory record (iteration_step)"
                    : "memory record (ticks at iteration starts)");
  pb__seq_axis(cv, ax, xmax, ser[longest].pit, label_point, &sl, true);
  pb__dense_note(cv, ax, xmax, "records");
  double per_px = (double)xmax / (ax->right - ax->left);
  double rad = per_px > 0.5 ? 2 : 3.5;
  for (size_t k = 0; k < c->n; k++) {
    mem_series *s = &ser[k];
    if (cuda) {
      for (int q = 0; q < PB_CUDA_N; q++)
        if (cdraw[q])
          pb__draw_line(cv, ax, s->cuda[q], s->npts, 0, 1, pb__palette((size_t)q), 1.8, k);
    } else {
      /* peaks first, RSS on top: a peak is never below the RSS it follows */
      if (has_peak) pb__draw_markers(cv, ax, s->x, s->peak, s->npts, mem_colors[1], rad, k);
      if (has_heap) pb__draw_line(cv, ax, s->heap, s->npts, 0, 1, mem_colors[2], 1.6, k);
      pb__draw_line(cv, ax, s->rss, s->npts, 0, 1, mem_colors[0], 2.0, k);
      if (per_px < 0.2) {
        /* few points: dots on the RSS line show where each record is */
        pb__draw_markers(cv, ax, s->x, s->rss, s->npts, mem_colors[0], 2.2, 0);
      }
    }
  }
  pb__legend_draw(cv, items, li, L.legend_x, L.legend_y, L.legend_h);
done:
  for (size_t k = 0; k < c->n; k++) series_free(&ser[k]);
  free(ser);
  free(names);
  if (texts)
    for (size_t i = 0; i < PB_CUDA_N * c->n + 1; i++) free(texts[i]);
  free(texts);
  free(items);
  return rc;
}

int pb__chart_memory(pb__chart_ctx *c) { return draw_memory_like(c, false); }
int pb__chart_cuda(pb__chart_ctx *c) { return draw_memory_like(c, true); }
