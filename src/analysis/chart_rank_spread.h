/*
 * chart_rank_spread.h - internal: pb_chart_rank_spread_write with the
 * drawing's geometry returned, for the tests (the static library exports
 * it; the shared library hides it).
 */
#ifndef PB_ANALYSIS_CHART_RANK_SPREAD_H
#define PB_ANALYSIS_CHART_RANK_SPREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "porter_bench_analysis.h"

/* The most rows (topics) the geometry reports; the chart draws them all. */
#define PB__SPREAD_GEOM_ROWS 32

/* One topic's row as drawn: canvas coordinates of its bar and mean tick. */
typedef struct pb__spread_row {
  char topic[128];
  double y;                    /* the row's centre */
  double x_min, x_mean, x_max; /* the bar from x_min to x_max, the tick at x_mean */
  int max_rank;                /* the slowest rank, named in the row's label */
  char label[96];              /* the label drawn right of the bar */
} pb__spread_row;

/* What the chart drew: its plot area, whether the time axis is
 * logarithmic, and its rows (the first PB__SPREAD_GEOM_ROWS). */
typedef struct pb__spread_geom {
  double left, top, right, bottom;
  bool xlog;
  double xmin, xmax; /* the axis range, seconds */
  size_t nrows;      /* rows drawn (all of them, even above PB__SPREAD_GEOM_ROWS) */
  pb__spread_row rows[PB__SPREAD_GEOM_ROWS];
  char probe_note[192]; /* the note on GLOBAL's hidden probe time, "" if none */
} pb__spread_geom;

/* pb_chart_rank_spread_write, and when geom is not NULL fills it. */
int pb__chart_rank_spread_render(const pb_run *run, const char *record,
                                 const pb_chart_options *opts, pb_format fmt, const char *file,
                                 pb__spread_geom *geom, pb_error *err);

#endif
