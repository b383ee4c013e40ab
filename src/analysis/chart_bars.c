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

/* A log value axis when the largest value is this many times the smallest
 * positive one or more (the times chart's rule): on a linear axis a step
 * 1000 times smaller than GLOBAL is a bar under a pixel wide (issue 9). */
#define LOG_RATIO 20.0
/* Canvas heights: the chart grows with its rows between these. */
#define BARS_MIN_H 420.0
#define BARS_MAX_H 8000.0
/* Height beyond the rows (title, panel titles, value axis), and per note
 * line under the title. */
#define CHROME_H 150.0
#define NOTE_H 20.0
#define MAX_NOTES 3

static const pb__rgb BLACK = {0, 0, 0};

/* Row height for nruns bars a row: as designed, and the least at which
 * names (14 px) and bar values (11 px) still stand apart. */
static double row_h(size_t nruns) { return 10 + 22 * (double)nruns; }
static double row_min_h(size_t nruns) { return 8 + 14 * (double)nruns; }

typedef struct row {
  const char *topic;
  char label[PB__LABEL_CHARS * 4 + 8]; /* the topic ellipsized */
  bool global;
  size_t color; /* palette index: the topic's place among all shown topics */
} row;

/* What the chart draws: its rows and the notes under the title. */
typedef struct bars_plan {
  row *rows;
  size_t n;      /* rows drawn, GLOBAL last */
  size_t hidden; /* topics left out for lack of room */
  char notes[MAX_NOTES][512];
  size_t nnotes;
  size_t nbold; /* the first nbold notes are warnings (bold, red) */
  double height;
} bars_plan;

/* True when topic t of run k was met in an earlier run (hash look-ups). */
static bool seen_before(const pb__chart_ctx *c, size_t k, const char *tn) {
  for (size_t j = 0; j < k; j++)
    if (pb_record_topic_index(c->records[j], tn) >= 0) return true;
  return false;
}

/* Topics shown of all runs in order of first appearance (the colour order
 * of the other charts), GLOBAL left out (*global: some run has it). */
static const char **candidates(const pb__chart_ctx *c, size_t *n, bool *global) {
  size_t total = 1;
  for (size_t k = 0; k < c->n; k++) total += pb_record_topic_count(c->records[k]);
  const char **out = malloc(total * sizeof *out);
  if (!out) return NULL;
  *n = 0;
  *global = false;
  for (size_t k = 0; k < c->n; k++) {
    for (size_t t = 0; t < pb_record_topic_count(c->records[k]); t++) {
      const char *tn = pb_record_topic(c->records[k], t);
      if (strcmp(tn, "GLOBAL") == 0) {
        *global = true;
        continue;
      }
      if (pb__topic_shown(c, tn) && !seen_before(c, k, tn)) out[(*n)++] = tn;
    }
  }
  return out;
}

/* A topic's largest mean over the runs (-INFINITY when none has a value). */
static double largest_mean(const pb__chart_ctx *c, const char *tn) {
  double best = -INFINITY;
  for (size_t k = 0; k < c->n; k++) {
    long t = pb_record_topic_index(c->records[k], tn);
    pb_stats s;
    if (t >= 0 && pb_record_stats(c->records[k], (size_t)t, &s) == PB_OK && s.mean > best)
      best = s.mean;
  }
  return best;
}

typedef struct ranked {
  size_t i;
  double key;
} ranked;

static int cmp_key_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->key != y->key) return (x->key < y->key) - (x->key > y->key);
  return (x->i > y->i) - (x->i < y->i);
}

/* Marks in keep[] the nkeep candidates with the largest means; returns the
 * largest mean of those left out (-INFINITY: none has a value). */
static double keep_largest(const pb__chart_ctx *c, const char **cand, size_t n, size_t nkeep,
                           bool *keep) {
  ranked *rk = malloc((n + 1) * sizeof *rk);
  if (!rk) return NAN;
  for (size_t i = 0; i < n; i++) rk[i] = (ranked){i, largest_mean(c, cand[i])};
  qsort(rk, n, sizeof *rk, cmp_key_desc);
  for (size_t j = 0; j < n; j++) keep[rk[j].i] = j < nkeep;
  double first_out = nkeep < n ? rk[nkeep].key : -INFINITY;
  free(rk);
  return first_out;
}

/* The two notes of a cut chart: how many topics are left out and how small
 * they are, and which were kept. */
static void cut_notes(const pb__chart_ctx *c, bars_plan *p, size_t nkeep, double out_max,
                      bool global) {
  char v[32];
  pb__fmt_seconds(out_max, v, sizeof v);
  if (isinf(out_max))
    snprintf(p->notes[p->nnotes++], sizeof p->notes[0], "%zu more topics not shown (no times)",
             p->hidden);
  else
    snprintf(p->notes[p->nnotes++], sizeof p->notes[0],
             "%zu more topics not shown, each with a mean of %s or less", p->hidden, v);
  snprintf(p->notes[p->nnotes++], sizeof p->notes[0],
           "drawn: the %zu topics with the largest means%s, in order of first appearance%s; "
           "porter-bench summary lists every topic",
           nkeep, c->n > 1 ? " in any run" : "", global ? ", and GLOBAL" : "");
  p->nbold = 1;
}

/* Fills p->rows: the kept candidates in order, then GLOBAL. */
static void fill_rows(bars_plan *p, const char **cand, size_t n, const bool *keep, bool global) {
  for (size_t i = 0; i < n; i++) {
    if (keep && !keep[i]) continue;
    row *r = &p->rows[p->n++];
    r->topic = cand[i];
    r->global = false;
    r->color = i;
    pb__ellipsize(cand[i], PB__LABEL_CHARS, r->label, sizeof r->label);
  }
  if (global) {
    row *r = &p->rows[p->n++];
    r->topic = "GLOBAL";
    r->global = true;
    r->color = 0;
    snprintf(r->label, sizeof r->label, "GLOBAL");
  }
}

/* Rows that fit at the least row height under nnotes note lines. */
static size_t rows_fit(size_t nruns, size_t nnotes) {
  double room = BARS_MAX_H - CHROME_H - NOTE_H * (double)nnotes;
  return room > 0 ? (size_t)(room / row_min_h(nruns)) : 0;
}

/*
 * Plans the chart: every shown topic gets a row while they fit at the
 * least readable row height in the tallest canvas; beyond that, the topics
 * with the largest means (in any run) keep their rows, GLOBAL always does,
 * and two notes say how many were left out, how small they are, and which
 * were kept. With the probes hidden, a note says what GLOBAL holds of them.
 * Returns PB_OK or PB_ENOMEM (p freed).
 */
static int plan_rows(const pb__chart_ctx *c, bars_plan *p) {
  memset(p, 0, sizeof *p);
  size_t n;
  bool global;
  const char **cand = candidates(c, &n, &global);
  p->rows = cand ? malloc((n + 2) * sizeof *p->rows) : NULL;
  bool *keep = NULL;
  if (!p->rows) goto fail;
  if (global && pb__probe_note(c, p->notes[0], sizeof p->notes[0])) p->nnotes = 1;
  size_t fit = rows_fit(c->n, p->nnotes + 2), room = fit > 0 && global ? fit - 1 : fit;
  if (n + (global ? 1 : 0) > rows_fit(c->n, p->nnotes)) {
    if (!(keep = calloc(n + 1, sizeof *keep))) goto fail;
    double out_max = keep_largest(c, cand, n, room, keep);
    if (isnan(out_max)) goto fail;
    p->hidden = n - room;
    memmove(p->notes[2], p->notes[0], sizeof p->notes[0]); /* the probe note last */
    size_t probe = p->nnotes;
    p->nnotes = 0;
    cut_notes(c, p, room, out_max, global);
    p->nnotes += probe;
  }
  fill_rows(p, cand, n, keep, global);
  double h = CHROME_H + NOTE_H * (double)p->nnotes + (double)p->n * row_h(c->n);
  p->height = h < BARS_MIN_H ? BARS_MIN_H : h > BARS_MAX_H ? BARS_MAX_H : h;
  free(keep);
  free(cand);
  return PB_OK;
fail:
  free(keep);
  free(cand);
  free(p->rows);
  p->rows = NULL;
  return PB_ENOMEM;
}

double pb__bars_height(const pb__chart_ctx *c) {
  bars_plan p;
  if (plan_rows(c, &p) != PB_OK) return BARS_MIN_H;
  free(p.rows);
  return p.height;
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

/* stats[k * n + r]: run k's statistics of row r (NAN mean when it lacks
 * the topic); *vmin, *vmax: the smallest positive and largest value drawn. */
static pb_stats *row_stats(const pb__chart_ctx *c, const bars_plan *p, double *vmin, double *vmax) {
  pb_stats *st = calloc(p->n * c->n + 1, sizeof *st);
  if (!st) return NULL;
  *vmax = 0;
  *vmin = INFINITY;
  for (size_t k = 0; k < c->n; k++) {
    for (size_t r = 0; r < p->n; r++) {
      pb_stats *s = &st[k * p->n + r];
      long t = pb_record_topic_index(c->records[k], p->rows[r].topic);
      s->mean = s->quantile_filtered = NAN;
      if (t < 0 || pb_record_stats(c->records[k], (size_t)t, s) != PB_OK) continue;
      *vmax = fmax(*vmax, fmax(s->mean, s->quantile_filtered));
      if (s->mean > 0 && s->mean < *vmin) *vmin = s->mean;
      if (s->quantile_filtered > 0 && s->quantile_filtered < *vmin) *vmin = s->quantile_filtered;
    }
  }
  if (!(*vmax > 0)) *vmax = 1e-9;
  return st;
}

/* Where the rows go, and what both panels share. */
typedef struct bars_layout {
  const bars_plan *p;
  const pb_stats *st;
  double top, bottom, left, right, pw, rowh, barh;
  double vmin, vmax, scale;
  bool xlog;
} bars_layout;

/* The title and the notes under it; returns the y where the panels' titles may start. */
static double draw_heading(const pb__chart_ctx *c, const bars_plan *p) {
  pb__canvas *cv = c->cv;
  char title[512];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 mean and quantile-filtered mean per topic",
           c->title);
  double th;
  pb__text_size(cv, title, PB__FONT_TITLE, true, NULL, &th);
  pb__text(cv, cv->w / 2, 10, title, PB__FONT_TITLE, true, PB__CENTER, PB__TOP, 0, BLACK);
  double y = 10 + th + 6;
  for (size_t i = 0; i < p->nnotes; i++, y += NOTE_H) {
    bool warn = i < p->nbold;
    pb__text(cv, cv->w / 2, y, p->notes[i], PB__FONT_LABEL, warn, PB__CENTER, PB__TOP, 0,
             warn ? PB__OUTLIER_RGB : (pb__rgb){0.25, 0.25, 0.25});
  }
  return y - 6;
}

/* Bar (and value label) of run k in row r of a panel; v its value. */
static void draw_bar(const pb__chart_ctx *c, const bars_layout *L, const pb__axes *ax, size_t r,
                     size_t k, double v) {
  pb__canvas *cv = c->cv;
  const row *rw = &L->p->rows[r];
  double by =
      L->top + L->rowh * (double)r + (L->rowh - L->barh * (double)c->n) / 2 + L->barh * (double)k;
  if (isnan(v)) {
    pb__text(cv, ax->left + 4, by + L->barh / 2, "n/a", PB__FONT_SMALL, false, PB__LEFT, PB__MIDDLE,
             0, (pb__rgb){0.4, 0.4, 0.4});
    return;
  }
  pb__rgb col = c->n > 1     ? pb__palette(k)
                : rw->global ? (pb__rgb){0.2, 0.2, 0.2}
                             : pb__palette(rw->color);
  double x1 = pb__ax_x(ax, v);
  cairo_set_source_rgb(cv->cr, col.r, col.g, col.b);
  cairo_rectangle(cv->cr, ax->left, by + 1, x1 - ax->left, L->barh - 2);
  cairo_fill(cv->cr);
  char buf[64];
  pb__fmt_seconds(v, buf, sizeof buf);
  double tw;
  pb__text_size(cv, buf, PB__FONT_SMALL, false, &tw, NULL);
  if (x1 + 4 + tw <= ax->right)
    pb__text(cv, x1 + 4, by + L->barh / 2, buf, PB__FONT_SMALL, false, PB__LEFT, PB__MIDDLE, 0,
             BLACK);
  else
    pb__text(cv, x1 - 4, by + L->barh / 2, buf, PB__FONT_SMALL, true, PB__RIGHT, PB__MIDDLE, 0,
             (pb__rgb){1, 1, 1});
}

/* Panel p (0: mean, 1: quantile-filtered mean): title, ticks, bars, frame. */
static void draw_panel(const pb__chart_ctx *c, const bars_layout *L, int p) {
  static const char *const panel_titles[2] = {"mean", "quantile-filtered mean (1.5 IQR)"};
  pb__canvas *cv = c->cv;
  double gap = 80, x0 = L->left + p * (L->pw + gap);
  pb__axes ax = {x0, L->top, x0 + L->pw, L->bottom, 0, L->vmax * 1.22, 0, 1, false, L->xlog};
  if (L->xlog) { /* from the decade below the smallest value: its bar stays long */
    ax.xmin = pow(10, floor(log10(L->vmin / 2)));
    ax.xmax = L->vmax * pow(10, 0.15 * log10(L->vmax / ax.xmin));
  }
  pb__text(cv, (ax.left + ax.right) / 2, L->top - 8, panel_titles[p], PB__FONT_LABEL, true,
           PB__CENTER, PB__BOTTOM, 0, BLACK);
  value_ticks(cv, &ax, L->scale, L->pw);
  if (c->geom && p == 0) c->geom->ax = ax; /* the mean panel */
  char xlabel[64];
  double unit_scale;
  const char *unit = pb__time_unit(L->vmax, &unit_scale);
  snprintf(xlabel, sizeof xlabel,
           L->xlog ? "time per iteration (log scale)" : "time per iteration (%s)", unit);
  pb__text(cv, (ax.left + ax.right) / 2, cv->h - 8, xlabel, PB__FONT_LABEL, false, PB__CENTER,
           PB__BOTTOM, 0, BLACK);
  for (size_t r = 0; r < L->p->n; r++) {
    const row *rw = &L->p->rows[r];
    if (p == 0)
      pb__text(cv, L->left - 14, L->top + L->rowh * ((double)r + 0.5), rw->label, PB__FONT_LABEL,
               rw->global, PB__RIGHT, PB__MIDDLE, 0, BLACK);
    for (size_t k = 0; k < c->n; k++) {
      const pb_stats *s = &L->st[k * L->p->n + r];
      draw_bar(c, L, &ax, r, k, p == 0 ? s->mean : s->quantile_filtered);
    }
  }
  cairo_set_source_rgb(cv->cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cv->cr, 1);
  cairo_rectangle(cv->cr, floor(ax.left) + 0.5, floor(ax.top) + 0.5, floor(ax.right - ax.left),
                  floor(ax.bottom - ax.top));
  cairo_stroke(cv->cr);
}

/* Width of the name column: the widest label, at most 320 px. */
static double names_width(pb__canvas *cv, const bars_plan *p) {
  double namew = 0;
  for (size_t r = 0; r < p->n; r++) {
    double w;
    pb__text_size(cv, p->rows[r].label, PB__FONT_LABEL, p->rows[r].global, &w, NULL);
    if (w > namew) namew = w;
  }
  return namew > 320 ? 320 : namew;
}

int pb__chart_bars(pb__chart_ctx *c) {
  pb__canvas *cv = c->cv;
  bars_plan p;
  if (plan_rows(c, &p) != PB_OK) return PB_ENOMEM;
  bars_layout L = {&p, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false};
  pb_stats *st = row_stats(c, &p, &L.vmin, &L.vmax);
  pb__legend_item *items = calloc(c->n + 1, sizeof *items);
  if (!st || !items) {
    free(p.rows);
    free(st);
    free(items);
    return PB_ENOMEM;
  }
  L.st = st;
  L.xlog = isfinite(L.vmin) && L.vmax / L.vmin >= LOG_RATIO;
  pb__time_unit(L.vmax, &L.scale);
  /* layout: title and notes, name column, two panels; legend of runs when several */
  double y = draw_heading(c, &p);
  for (size_t k = 0; k < c->n; k++)
    items[k] = (pb__legend_item){c->labels[k], pb__palette(k), PB__SW_BOX, 0};
  double legw = c->n > 1 ? pb__legend_width(cv, items, c->n, cv->h - 120) : 0;
  L.top = y + 40;
  L.bottom = cv->h - 56;
  L.left = 16 + names_width(cv, &p) + 14;
  L.right = cv->w - 20 - legw;
  L.pw = (L.right - L.left - 80) / 2; /* room for both panels' end ticks */
  L.rowh = (L.bottom - L.top) / (double)(p.n ? p.n : 1);
  L.barh = fmin((L.rowh - 8) / (double)c->n, 34);
  for (int panel = 0; panel < 2; panel++) draw_panel(c, &L, panel);
  if (c->n > 1) pb__legend_draw(cv, items, c->n, L.right + 10, L.top, L.bottom - L.top);
  free(items);
  free(st);
  free(p.rows);
  return PB_OK;
}
