/*
 * test_chart_rank_spread.c - the per-topic spread across ranks
 * (pb_chart_rank_spread_write) checked on what it draws: on the fixture job
 * (rank 3 computes 32 ms against 11-13 ms) the compute bar reaches the x of
 * 32 ms, farther right than the balanced exchange bar, with its pixels
 * coloured up to there and blank just past it, the mean tick black, the
 * label naming rank 3; a generated job whose topics span decades gets a
 * log axis, and a memory-probe topic is drawn only with show_probes.
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cairo.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chart_rank_spread.h"
#include "porter_bench_analysis.h"

static const pb__spread_row *row_of(const pb__spread_geom *g, const char *topic) {
  for (size_t i = 0; i < g->nrows && i < PB__SPREAD_GEOM_ROWS; i++)
    if (strcmp(g->rows[i].topic, topic) == 0) return &g->rows[i];
  return NULL;
}

/* The pixel at (x, y) as 0xRRGGBB. */
static uint32_t px(cairo_surface_t *s, double x, double y) {
  const unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  const uint32_t *line =
      (const uint32_t *)(const void *)(data + (size_t)lround(y) * (size_t)stride);
  return line[lround(x)] & 0xFFFFFFu;
}

/* True when a channel of rgb is below 0xD8: drawn data, not the white
 * background or the light grey grid lines (0xE0E0E0). */
static bool ink(uint32_t rgb) {
  return (rgb >> 16 & 0xFF) < 0xD8 || (rgb >> 8 & 0xFF) < 0xD8 || (rgb & 0xFF) < 0xD8;
}

/* Pixels of the row y from x0 to x1 that are ink. */
static long coloured(cairo_surface_t *s, double y, double x0, double x1) {
  long n = 0;
  for (long x = lround(x0); x <= lround(x1); x++) n += ink(px(s, (double)x, y));
  return n;
}

static double x_at(const pb__spread_geom *g, double seconds) {
  if (g->xlog)
    return g->left + (log10(seconds) - log10(g->xmin)) / (log10(g->xmax) - log10(g->xmin)) *
                         (g->right - g->left);
  return g->left + (seconds - g->xmin) / (g->xmax - g->xmin) * (g->right - g->left);
}

static void test_fixture_spread(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/multirank_root", true, &run, &err), PB_OK);
  char dir[] = "/tmp/pbtest-rankspread.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char png[128];
  snprintf(png, sizeof png, "%s/train_rank_spread.png", dir);
  pb__spread_geom g;
  assert_int_equal(pb__chart_rank_spread_render(run, "train", NULL, PB_FORMAT_PNG, png, &g, &err),
                   PB_OK);
  /* the rows: topics in order of first appearance, GLOBAL last; a linear axis (2 to 34 ms) */
  assert_int_equal(g.nrows, 3);
  assert_string_equal(g.rows[0].topic, "compute");
  assert_string_equal(g.rows[1].topic, "exchange");
  assert_string_equal(g.rows[2].topic, "GLOBAL");
  assert_false(g.xlog);
  assert_true(g.xmin == 0 && g.xmax >= 0.034);
  const pb__spread_row *compute = row_of(&g, "compute"), *exchange = row_of(&g, "exchange");
  /* the slowest rank's mean (rank 3, 32 ms) ends the compute bar, farther than the others */
  assert_int_equal(compute->max_rank, 3);
  assert_true(fabs(compute->x_max - x_at(&g, 0.032)) < 1.0);
  assert_true(fabs(compute->x_min - x_at(&g, 0.011)) < 1.0);
  assert_true(fabs(compute->x_mean - x_at(&g, 0.017)) < 1.0);
  assert_true(compute->x_max > exchange->x_max + 300);
  assert_true(row_of(&g, "GLOBAL")->x_max > compute->x_max); /* 34 ms */
  assert_non_null(strstr(compute->label, "slowest rank 3, max/mean 1.88"));
  assert_non_null(strstr(exchange->label, "(3 ranks)")); /* rank 2 has no exchange */

  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  assert_int_equal(cairo_image_surface_get_width(s), 1400);
  /* 6 px below the row's centre: inside the bar (16 px high), clear of the dots */
  double yb = compute->y + 6;
  long span = lround(compute->x_max - compute->x_min) - 4;
  assert_true(coloured(s, yb, compute->x_min + 2, compute->x_max - 2) >= span);
  assert_false(ink(px(s, compute->x_max + 4, yb))); /* the bar ends at 32 ms */
  /* the balanced exchange bar is short: white where the compute bar is coloured */
  assert_int_equal(
      coloured(s, exchange->y + 6, (exchange->x_max + compute->x_max) / 2, compute->x_max - 2), 0);
  /* the mean tick is black above the bar */
  assert_int_equal(px(s, compute->x_mean, compute->y - 11), 0x000000);
  cairo_surface_destroy(s);

  char svg[128], pdf[128];
  snprintf(svg, sizeof svg, "%s/train_rank_spread.svg", dir);
  snprintf(pdf, sizeof pdf, "%s/train_rank_spread.pdf", dir);
  assert_int_equal(pb_chart_rank_spread_write(run, "train", NULL, PB_FORMAT_SVG, svg, &err), PB_OK);
  assert_int_equal(pb_chart_rank_spread_write(run, "train", NULL, PB_FORMAT_PDF, pdf, &err), PB_OK);
  struct stat st;
  assert_int_equal(stat(svg, &st), 0);
  assert_true(st.st_size > 1000);
  assert_int_equal(stat(pdf, &st), 0);
  assert_true(st.st_size > 1000);
  unlink(png);
  unlink(svg);
  unlink(pdf);
  rmdir(dir);
  pb_run_free(run);
}

/* Rank folder of a generated job: benchmarker "step", 4 iterations of
 * "tiny" (2 us), "gstep_memory" (a probe, 5 us) and "big" (big s). */
static void write_rank(const char *job, int rank, double big) {
  char path[256];
  snprintf(path, sizeof path, "%s/rank-%05d", job, rank);
  assert_int_equal(mkdir(path, 0777), 0);
  snprintf(path, sizeof path, "%s/rank-%05d/step_STEP_DICT_DATA.json", job, rank);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("[", f);
  for (int i = 0; i < 4; i++) {
    double g = 2e-6 + 5e-6 + big;
    fprintf(f,
            "%s{\"absolutes\":{\"tiny\":2e-6,\"gstep_memory\":5e-6,\"big\":%.9g,\"GLOBAL\":%.9g},"
            "\"info\":{\"STEP_NUMBER\":%d,\"START_TIME\":%d.0,\"STOP_TIME\":%d.5},"
            "\"individual_calls\":{\"tiny\":[{\"time\":2e-6,\"crono_counter\":0}],"
            "\"gstep_memory\":[{\"time\":5e-6,\"crono_counter\":1}],"
            "\"big\":[{\"time\":%.9g,\"crono_counter\":2}],"
            "\"GLOBAL\":[{\"time\":%.9g,\"crono_counter\":3}]}}",
            i ? "," : "", big, g, i, 1000 + i, 1000 + i, big, g);
  }
  fputs("]", f);
  assert_int_equal(fclose(f), 0);
}

static void test_log_axis_and_probes(void **state) {
  (void)state;
  char dir[] = "/tmp/pbtest-rankspread-log.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char job[128], png[160];
  snprintf(job, sizeof job, "%s/job-7", dir);
  assert_int_equal(mkdir(job, 0777), 0);
  write_rank(job, 0, 0.050);
  write_rank(job, 1, 0.100); /* rank 1: twice as slow in "big" */
  snprintf(png, sizeof png, "%s/spread.png", dir);
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(job, false, &run, &err), PB_OK);
  assert_int_equal(pb_run_rank_count(run), 2);
  pb__spread_geom g;
  assert_int_equal(pb__chart_rank_spread_render(run, "step", NULL, PB_FORMAT_PNG, png, &g, &err),
                   PB_OK);
  /* 2 us to 100 ms: a log axis over whole decades; the probe is hidden */
  assert_true(g.xlog);
  assert_true(fabs(g.xmin - 1e-6) < 1e-12 && fabs(g.xmax - 1.0) < 1e-9);
  assert_int_equal(g.nrows, 3);
  assert_null(row_of(&g, "gstep_memory"));
  /* and GLOBAL, which includes it (5 us on both ranks), says so */
  assert_string_equal(
      g.probe_note,
      "GLOBAL includes the hidden memory probes: 5.00 \xc2\xb5s per iteration (mean)");
  const pb__spread_row *tiny = row_of(&g, "tiny"), *big = row_of(&g, "big");
  assert_true(fabs(tiny->x_min - x_at(&g, 2e-6)) < 1.0);
  assert_true(fabs(big->x_max - x_at(&g, 0.100)) < 1.0);
  assert_true(fabs(big->x_min - x_at(&g, 0.050)) < 1.0);
  assert_int_equal(big->max_rank, 1);
  assert_true(big->x_max > tiny->x_max + 500);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  assert_true(coloured(s, big->y + 6, big->x_min + 2, big->x_max - 2) >=
              lround(big->x_max - big->x_min) - 4);
  cairo_surface_destroy(s);
  /* with show_probes the probe topic gets its row, at 5 us */
  pb_chart_options opts = {.show_probes = true};
  assert_int_equal(pb__chart_rank_spread_render(run, "step", &opts, PB_FORMAT_PNG, png, &g, &err),
                   PB_OK);
  assert_int_equal(g.nrows, 4);
  assert_string_equal(g.probe_note, "");
  const pb__spread_row *probe = row_of(&g, "gstep_memory");
  assert_non_null(probe);
  assert_true(fabs(probe->x_min - x_at(&g, 5e-6)) < 1.0);
  assert_string_equal(g.rows[3].topic, "GLOBAL");
  pb_run_free(run);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_errors(void **state) {
  (void)state;
  pb_run *run = NULL, *one = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/multirank_root", true, &run, &err), PB_OK);
  const char *file = "/tmp/pbtest-rankspread-err.png";
  assert_int_equal(pb_chart_rank_spread_write(run, "nothing", NULL, PB_FORMAT_PNG, file, &err),
                   PB_ENOTFOUND);
  assert_non_null(strstr(err.message, "nothing"));
  assert_int_equal(pb_chart_rank_spread_write(run, NULL, NULL, PB_FORMAT_PNG, file, &err),
                   PB_EINVAL);
  assert_int_equal(pb_chart_rank_spread_write(run, "train", NULL, PB_FORMAT_PNG, NULL, &err),
                   PB_EINVAL);
  assert_int_equal(pb_chart_rank_spread_write(run, "train", NULL, (pb_format)42, file, &err),
                   PB_EINVAL);
  /* one rank folder alone is a run of one process: no spread */
  assert_int_equal(
      pb_run_load(PB_FIXTURES "/multirank_root/TICTOC_PERFORMANCE/job-4242.0/rank-00000", false,
                  &one, &err),
      PB_OK);
  assert_int_equal(pb_chart_rank_spread_write(one, "train", NULL, PB_FORMAT_PNG, file, &err),
                   PB_EINVAL);
  assert_int_equal(pb_chart_rank_spread_write(NULL, "train", NULL, PB_FORMAT_PNG, file, NULL),
                   PB_EINVAL);
  struct stat st;
  assert_int_not_equal(stat(file, &st), 0); /* nothing written */
  pb_run_free(one);
  pb_run_free(run);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fixture_spread),
                                     cmocka_unit_test(test_log_axis_and_probes),
                                     cmocka_unit_test(test_errors)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
