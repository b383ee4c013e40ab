/*
 * test_chart_ranks.c - the rank x iteration heat map (pb_chart_ranks_write)
 * of the fixture job: the slowest cell (rank 3, last iteration) is drawn in
 * the hottest colour at the bottom right, the fastest (rank 0, first
 * iteration) in the coldest at the top left; SVG and PDF are written too.
 * pb_plots_write of the job: the GLOBAL heat map, the per-topic spread, the
 * slowest rank's charts, and the topics filter.
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cairo.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "porter_bench_analysis.h"

#define HOT 0xFDE725u  /* the colour map's end: the slowest value */
#define COLD 0x440154u /* its start: the fastest value */

typedef struct box {
  int x0, y0, x1, y1;
  size_t n;
} box;

/* The bounding box of the pixels of colour rgb left of x = max_x (the colour bar is right). */
static box find(cairo_surface_t *s, uint32_t rgb, int max_x) {
  box b = {1 << 30, 1 << 30, -1, -1, 0};
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *data = cairo_image_surface_get_data(s);
  for (int y = 0; y < h; y++) {
    const uint32_t *px = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
    for (int x = 0; x < w && x < max_x; x++) {
      if ((px[x] & 0xFFFFFFu) != rgb) continue;
      b.n++;
      if (x < b.x0) b.x0 = x;
      if (y < b.y0) b.y0 = y;
      if (x > b.x1) b.x1 = x;
      if (y > b.y1) b.y1 = y;
    }
  }
  return b;
}

static void test_heat_map(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/multirank_root", true, &run, &err), PB_OK);
  char dir[] = "/tmp/pbtest-chartranks.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char png[128], svg[128], pdf[128];
  snprintf(png, sizeof png, "%s/train_ranks.png", dir);
  snprintf(svg, sizeof svg, "%s/train_ranks.svg", dir);
  snprintf(pdf, sizeof pdf, "%s/train_ranks.pdf", dir);
  assert_int_equal(pb_chart_ranks_write(run, "train", "compute", PB_FORMAT_PNG, png, &err), PB_OK);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  assert_int_equal(w, 1600);
  box hot = find(s, HOT, w * 85 / 100), cold = find(s, COLD, w * 85 / 100);
  assert_true(hot.n > 1000 && cold.n > 1000); /* a cell of 4 rows x 3 columns is large */
  /* the slowest cell: rank 3 (the bottom row) at iteration 2 (the right column) */
  assert_true(hot.y0 > h / 2);
  assert_true(hot.x0 > w / 2);
  /* the fastest: rank 0 (the top row) at iteration 0 (the left column) */
  assert_true(cold.y1 < h / 2);
  assert_true(cold.x1 < w / 2);
  cairo_surface_destroy(s);
  assert_int_equal(pb_chart_ranks_write(run, "train", NULL, PB_FORMAT_SVG, svg, &err), PB_OK);
  assert_int_equal(pb_chart_ranks_write(run, "train", NULL, PB_FORMAT_PDF, pdf, &err), PB_OK);
  struct stat st;
  assert_int_equal(stat(svg, &st), 0);
  assert_true(st.st_size > 1000);
  assert_int_equal(stat(pdf, &st), 0);
  assert_true(st.st_size > 1000);
  assert_int_equal(pb_chart_ranks_write(run, "train", "nothing", PB_FORMAT_PNG, png, &err),
                   PB_ENOTFOUND);
  assert_non_null(strstr(err.message, "nothing"));
  unlink(png);
  unlink(svg);
  unlink(pdf);
  rmdir(dir);
  pb_run_free(run);
}

typedef struct files {
  char names[16][64];
  size_t n;
} files;

static void on_file(const char *file, void *user) {
  files *f = user;
  const char *slash = strrchr(file, '/');
  if (f->n < 16) snprintf(f->names[f->n], sizeof f->names[0], "%s", slash ? slash + 1 : file);
  f->n++;
}

/* The heat map pb_plots_write drew for the job: GLOBAL, slowest cell at the
 * bottom right (rank 3, last iteration), fastest at the top left. */
static void check_global_map(const char *png) {
  struct stat st;
  assert_int_equal(stat(png, &st), 0);
  assert_true(st.st_size > 0);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  box hot = find(s, HOT, w * 85 / 100), cold = find(s, COLD, w * 85 / 100);
  assert_true(hot.n > 1000 && cold.n > 1000);
  assert_true(hot.y0 > h / 2 && hot.x0 > w / 2);
  assert_true(cold.y1 < h / 2 && cold.x1 < w / 2);
  cairo_surface_destroy(s);
}

static void test_plots_of_job(void **state) {
  (void)state;
  pb_run *run = NULL;
  pb_error err;
  assert_int_equal(pb_run_load(PB_FIXTURES "/multirank_root", true, &run, &err), PB_OK);
  char dir[] = "/tmp/pbtest-plotsranks.XXXXXX";
  assert_non_null(mkdtemp(dir));
  files f = {.n = 0};
  assert_int_equal(pb_plots_write(run, dir, NULL, 0, PB_FORMAT_PNG, on_file, &f, &err), PB_OK);
  /* the heat map, the per-topic spread, then the charts of rank 3 (largest
   * GLOBAL mean; no memory there) */
  assert_int_equal(f.n, 5);
  assert_string_equal(f.names[0], "train_ranks.png");
  assert_string_equal(f.names[1], "train_rank_spread.png");
  assert_string_equal(f.names[2], "train_times.png");
  assert_string_equal(f.names[3], "train_bars.png");
  assert_string_equal(f.names[4], "train_crono.png");
  char png[160];
  snprintf(png, sizeof png, "%s/train_ranks.png", dir);
  check_global_map(png);
  /* the topics filter: a benchmarker of no rank draws nothing, "train" all five */
  const char *none[] = {"compute"}, *train[] = {"train"};
  f.n = 0;
  assert_int_equal(pb_plots_write(run, dir, none, 1, PB_FORMAT_SVG, on_file, &f, &err), PB_OK);
  assert_int_equal(f.n, 0);
  assert_int_equal(pb_plots_write(run, dir, train, 1, PB_FORMAT_SVG, on_file, &f, &err), PB_OK);
  assert_int_equal(f.n, 5);
  assert_string_equal(f.names[0], "train_ranks.svg");
  assert_string_equal(f.names[1], "train_rank_spread.svg");
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  pb_run_free(run);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_heat_map),
                                     cmocka_unit_test(test_plots_of_job)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
