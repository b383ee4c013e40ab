/*
 * test_charts.c - every chart type in every format is written, has the
 * expected size, and is not blank (PNG pixels counted through cairo);
 * overlays of several runs; dense series; argument errors. And what is
 * drawn (issue 9): records with known values are rendered, read back, and
 * checked at the pixel rows the chart's own axes give for those values.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <cmocka.h>

#include <sys/mman.h>

#include "chart.h"  /* internal: pb__chart_render and the axes, for the drawing's geometry */
#include "pixels.h" /* count_color */
#include "porter_bench_analysis.h"

static char tmpdir[256];

static int make_tmp(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_charts_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static long file_size(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Checks a PNG: its size, and that between 0.5% and 70% of its pixels are not white. */
static void check_png(const char *file, int w, int hmin) {
  cairo_surface_t *s = cairo_image_surface_create_from_png(file);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
  assert_int_equal(W, w);
  assert_true(H >= hmin);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *d = cairo_image_surface_get_data(s);
  long dark = 0;
  for (int y = 0; y < H; y++) {
    const uint32_t *px = (const uint32_t *)(const void *)(d + (size_t)y * (size_t)stride);
    for (int x = 0; x < W; x++)
      if ((px[x] & 0xFFFFFF) != 0xFFFFFF) dark++;
  }
  double frac = (double)dark / ((double)W * H);
  if (frac < 0.005 || frac > 0.7) print_error("%s: %.3f of the pixels are not white\n", file, frac);
  assert_true(frac >= 0.005 && frac <= 0.7);
  cairo_surface_destroy(s);
}

static pb_run *load(const char *path) {
  pb_run *run = NULL;
  pb_error err;
  if (pb_run_load(path, true, &run, &err) != PB_OK) print_error("%s\n", err.message);
  assert_non_null(run);
  return run;
}

typedef struct seen {
  int n;
  char last[512];
} seen;

static void on_file(const char *file, void *user) {
  seen *s = user;
  s->n++;
  snprintf(s->last, sizeof s->last, "%s", file);
}

static void test_all_charts_all_formats(void **state) {
  (void)state;
  pb_run *run = load(PB_FIXTURES "/demo_root");
  static const pb_format fmts[] = {PB_FORMAT_PNG, PB_FORMAT_SVG, PB_FORMAT_PDF};
  for (int f = 0; f < 3; f++) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s/sub", tmpdir, pb_format_ext(fmts[f]));
    seen s = {0, ""};
    pb_error err;
    assert_int_equal(pb_plots_write(run, dir, NULL, 0, fmts[f], on_file, &s, &err), PB_OK);
    assert_int_equal(s.n, 5); /* times, bars, crono, memory, cuda_memory */
    for (int k = 0; k < PB_CHART_KIND_COUNT; k++) {
      char file[1024];
      snprintf(file, sizeof file, "%s/demo_%s.%s", dir, pb_chart_name((pb_chart_kind)k),
               pb_format_ext(fmts[f]));
      long size = file_size(file);
      if (size < 2000) print_error("%s: %ld bytes\n", file, size);
      assert_true(size >= 2000);
      if (fmts[f] == PB_FORMAT_PNG) check_png(file, 1600, k == PB_CHART_BARS ? 400 : 640);
      if (fmts[f] == PB_FORMAT_SVG) {
        FILE *fp = fopen(file, "r");
        char head[64] = {0};
        assert_non_null(fp);
        assert_true(fread(head, 1, sizeof head - 1, fp) > 10);
        fclose(fp);
        assert_non_null(strstr(head, "<?xml"));
      }
      if (fmts[f] == PB_FORMAT_PDF) {
        FILE *fp = fopen(file, "r");
        char head[8] = {0};
        assert_non_null(fp);
        assert_int_equal(fread(head, 1, 5, fp), 5);
        fclose(fp);
        assert_string_equal(head, "%PDF-");
      }
    }
  }
  pb_run_free(run);
}

static void test_samples_charts(void **state) {
  (void)state;
  pb_run *run = load(PB_FIXTURES "/samples");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/samples", tmpdir);
  seen s = {0, ""};
  pb_error err;
  const char *only[] = {"memory"};
  assert_int_equal(pb_plots_write(run, dir, only, 1, PB_FORMAT_PNG, on_file, &s, &err), PB_OK);
  assert_int_equal(s.n, 4); /* no GPU values: no cuda_memory chart */
  assert_non_null(strstr(s.last, "memory_memory.png"));
  char file[1024];
  snprintf(file, sizeof file, "%s/memory_cuda_memory.png", dir);
  assert_int_equal(file_size(file), -1);
  snprintf(file, sizeof file, "%s/training_times.png", dir);
  assert_int_equal(file_size(file), -1); /* not among the topics asked for */
  snprintf(file, sizeof file, "%s/memory_memory.png", dir);
  check_png(file, 1600, 640);
  pb_run_free(run);
}

static void test_overlay(void **state) {
  (void)state;
  pb_run *a = load(PB_FIXTURES "/demo_root");
  pb_run *b = load(PB_FIXTURES "/samples");
  const pb_record *recs[3] = {pb_run_record(a, 0), pb_run_find(b, "training"),
                              pb_run_find(b, "memory")};
  const char *labels[3] = {"demo", "training", "memory"};
  for (int k = 0; k < PB_CHART_KIND_COUNT; k++) {
    char file[1024];
    snprintf(file, sizeof file, "%s/overlay_%s.png", tmpdir, pb_chart_name((pb_chart_kind)k));
    pb_error err;
    assert_int_equal(
        pb_chart_write((pb_chart_kind)k, recs, labels, 3, "overlay", PB_FORMAT_PNG, file, &err),
        PB_OK);
    check_png(file, 1600, 400);
  }
  pb_run_free(a);
  pb_run_free(b);
}

/* A 20,000-iteration run written here: the dense drawing paths. */
static void test_dense(void **state) {
  (void)state;
  char dir[512], file[1024];
  snprintf(dir, sizeof dir, "%s/dense", tmpdir);
  assert_int_equal(mkdir(dir, 0777), 0);
  snprintf(file, sizeof file, "%s/big_STEP_DICT_DATA.json", dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputc('[', f);
  for (int i = 0; i < 20000; i++) {
    double a = 0.001 * (1 + (i % 17) / 17.0) * (i % 1000 == 5 ? 50 : 1), b = 0.002;
    fprintf(f,
            "%s{\"absolutes\":{\"a\":%.9f,\"b\":%.9f,\"GLOBAL\":%.9f},\"info\":{\"STEP_NUMBER\":%d,"
            "\"START_TIME\":1,\"STOP_TIME\":2},\"individual_calls\":{\"a\":[{\"time\":%.9f,\"crono_"
            "counter\":0,"
            "\"extra\":null}],\"b\":[{\"time\":%.9f,\"crono_counter\":1,\"extra\":null}],"
            "\"GLOBAL\":[{\"time\":"
            "%.9f,\"crono_counter\":2}]}}",
            i ? "," : "", a, b, a + b, i, a, b, a + b);
  }
  fputs("]", f);
  assert_int_equal(fclose(f), 0);
  pb_run *run = load(dir);
  seen s = {0, ""};
  pb_error err;
  assert_int_equal(pb_plots_write(run, dir, NULL, 0, PB_FORMAT_PNG, on_file, &s, &err), PB_OK);
  assert_int_equal(s.n, 3);
  static const char *const names[3] = {"times", "bars", "crono"};
  for (int k = 0; k < 3; k++) {
    snprintf(file, sizeof file, "%s/big_%s.png", dir, names[k]);
    check_png(file, 1600, 400);
  }
  pb_run_free(run);
}

/* The in-process equivalent of the original's bench_dict.generate_plots(). */
static void test_generate_plots(void **state) {
  (void)state;
  char dir[512], file[1024];
  snprintf(dir, sizeof dir, "%s/gen", tmpdir);
  pb_error err;
  assert_int_equal(pb_generate_plots(PB_FIXTURES "/demo_root/TICTOC_PERFORMANCE", dir, &err),
                   PB_OK);
  for (int k = 0; k < PB_CHART_KIND_COUNT; k++) {
    snprintf(file, sizeof file, "%s/demo_%s.png", dir, pb_chart_name((pb_chart_kind)k));
    assert_true(file_size(file) > 2000);
  }
  assert_int_equal(pb_generate_plots(PB_FIXTURES "/no_such_root", dir, &err), PB_ENOTFOUND);
}

/* The thread-safety claim: runs loaded and charts drawn from several threads at once. */
typedef struct job {
  int id;
  int rc;
} job;

static void *worker(void *arg) {
  job *j = arg;
  pb_run *run = NULL;
  pb_error err;
  j->rc = pb_run_load(PB_FIXTURES "/demo_root", true, &run, &err);
  if (j->rc) return NULL;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/thread%d", tmpdir, j->id);
  for (int round = 0; round < 3 && j->rc == PB_OK; round++)
    j->rc = pb_plots_write(run, dir, NULL, 0, (pb_format)(round % 3), NULL, NULL, &err);
  pb_run_free(run);
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  enum { N = 4 };
  pthread_t t[N];
  job jobs[N];
  for (int i = 0; i < N; i++) {
    jobs[i] = (job){i, -1};
    assert_int_equal(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(jobs[i].rc, PB_OK);
    char file[1024];
    snprintf(file, sizeof file, "%s/thread%d/demo_crono.png", tmpdir, i);
    check_png(file, 1600, 640);
  }
}

static void test_errors(void **state) {
  (void)state;
  pb_run *run = load(PB_FIXTURES "/samples");
  const pb_record *t = pb_run_find(run, "training");
  pb_error err;
  char file[1024];
  snprintf(file, sizeof file, "%s/x.png", tmpdir);
  assert_int_equal(pb_chart_write(PB_CHART_MEMORY, &t, NULL, 1, NULL, PB_FORMAT_PNG, file, &err),
                   PB_ENOTFOUND);
  assert_non_null(strstr(err.message, "nothing to draw"));
  assert_int_equal(pb_chart_write(PB_CHART_TIMES, &t, NULL, 1, NULL, PB_FORMAT_PNG,
                                  "/nonexistent-dir/x.png", &err),
                   PB_EIO);
  assert_non_null(strstr(err.message, "/nonexistent-dir/x.png"));
  assert_int_equal(
      pb_chart_write(PB_CHART_KIND_COUNT, &t, NULL, 1, NULL, PB_FORMAT_PNG, file, &err), PB_EINVAL);
  assert_int_equal(pb_chart_write(PB_CHART_TIMES, NULL, NULL, 1, NULL, PB_FORMAT_PNG, file, &err),
                   PB_EINVAL);
  const pb_record *with_null[2] = {t, NULL};
  assert_int_equal(
      pb_chart_write(PB_CHART_TIMES, with_null, NULL, 2, NULL, PB_FORMAT_PNG, file, &err),
      PB_EINVAL);
  assert_int_equal(pb_plots_write(run, "/proc/no/such", NULL, 0, PB_FORMAT_PNG, NULL, NULL, &err),
                   PB_EIO);
  pb_format fmt;
  assert_int_equal(pb_format_parse("svg", &fmt), PB_OK);
  assert_int_equal(fmt, PB_FORMAT_SVG);
  assert_int_equal(pb_format_parse("jpg", &fmt), PB_EINVAL);
  assert_null(pb_chart_name(PB_CHART_KIND_COUNT));
  pb_run_free(run);
}

/* ---- what is drawn (issue 9): records with known values ------------------ */

/* One call of a fixture iteration. */
typedef struct fx_call {
  const char *topic;
  double time;
} fx_call;

/* Writes <root>/TICTOC_PERFORMANCE/<run>/<name>_STEP_DICT_DATA.json with
 * iters iterations; calls(it, out) fills iteration it's calls (GLOBAL, their
 * sum, is added) and returns their number. Returns the root. */
typedef size_t (*fx_calls_fn)(long it, fx_call *out);
static const char *fx_dir(const char *tag) {
  static char root[600];
  char cmd[1400];
  snprintf(root, sizeof root, "%s/%s", tmpdir, tag);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/TICTOC_PERFORMANCE/2026-11-30T00-00-00.000000Z'", root);
  assert_int_equal(system(cmd), 0);
  return root;
}

static FILE *fx_open(const char *root, const char *file) {
  char path[1200];
  snprintf(path, sizeof path, "%s/TICTOC_PERFORMANCE/2026-11-30T00-00-00.000000Z/%s", root, file);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  return f;
}

static void fx_write_data(const char *root, long iters, fx_calls_fn calls) {
  FILE *f = fx_open(root, "fx_STEP_DICT_DATA.json");
  fx_call c[16];
  fputc('[', f);
  for (long it = 0; it < iters; it++) {
    size_t n = calls(it, c);
    double g = 0;
    for (size_t i = 0; i < n; i++) g += c[i].time;
    fprintf(f, "%s{\"absolutes\":{", it ? "," : "");
    for (size_t i = 0; i < n; i++) fprintf(f, "\"%s\":%.9f,", c[i].topic, c[i].time);
    fprintf(f,
            "\"GLOBAL\":%.9f},\"info\":{\"STEP_NUMBER\":%ld,\"START_TIME\":%.3f,"
            "\"STOP_TIME\":%.3f},\"individual_calls\":{",
            g, it, 1.0e9 + (double)it, 1.0e9 + (double)it + g);
    for (size_t i = 0; i < n; i++)
      fprintf(f, "\"%s\":[{\"time\":%.9f,\"crono_counter\":%zu,\"extra\":null}],", c[i].topic,
              c[i].time, i);
    fprintf(f, "\"GLOBAL\":[{\"time\":%.9f,\"crono_counter\":%zu}]}}", g, n);
  }
  fputs("]\n", f);
  assert_int_equal(fclose(f), 0);
}

/* Memory records: per iteration "gstep", "compress", "gstop"; peak 10 MiB
 * everywhere except spike_mib in compress of iteration spike_it. */
static void fx_write_memory_rss(const char *root, long iters, long spike_it, double spike_mib,
                                double rss_mib) {
  FILE *f = fx_open(root, "fx_MEMORY.json");
  static const char *const topics[3] = {"gstep", "compress", "gstop"};
  fputc('[', f);
  for (long it = 0; it < iters; it++) {
    fprintf(f,
            "%s{\"info\":{\"STEP_NUMBER\":%ld,\"START_TIME\":%.3f,\"STOP_TIME\":%.3f},\"data\":{",
            it ? "," : "", it, 1.0e9 + (double)it, 1.0e9 + (double)it + 0.5);
    for (int s = 0; s < 3; s++) {
      double peak = (s == 1 && it == spike_it ? spike_mib : 10.0 + 0.01 * (it % 3)) * 1048576.0;
      fprintf(f,
              "%s\"%s\":[{\"total memory usage\":%.0f,\"cuda memory usage\":null,"
              "\"top_memory_objects\":[],\"crono_counter\":%d,\"extra\":null,"
              "\"max memory usage\":%.0f,\"heap memory usage\":%.0f}]",
              s ? "," : "", topics[s], rss_mib * 1048576.0, s, peak, 4.0 * 1048576.0);
    }
    fputs("}}", f);
  }
  fputs("]\n", f);
  assert_int_equal(fclose(f), 0);
}

static void fx_write_memory(const char *root, long iters, long spike_it, double spike_mib) {
  fx_write_memory_rss(root, iters, spike_it, spike_mib, 9.0);
}

/* The run metadata of a fixture run: "peak_mode" (NULL: no metadata). */
static void fx_write_meta(const char *root, const char *mode, double poll_ms) {
  if (!mode) return;
  FILE *f = fx_open(root, "porter_bench_run.json");
  fprintf(f, "{\"library\": \"porter_bench\", \"peak_mode\": \"%s\"", mode);
  if (poll_ms > 0) fprintf(f, ", \"peak_poll_ms\": %g", poll_ms);
  fputs("}\n", f);
  assert_int_equal(fclose(f), 0);
}

static const pb_record *fx_load(const char *root, pb_run **run) {
  *run = load(root);
  assert_true(pb_run_record_count(*run) >= 1);
  return pb_run_record(*run, 0);
}

/* Renders kind of r as PNG into <tmpdir>/<tag>.png; returns the surface. */
static cairo_surface_t *fx_render(pb_chart_kind kind, const pb_record *r, const char *tag,
                                  const pb_chart_options *opts, pb__chart_geom *geom) {
  char file[700];
  pb_error err;
  snprintf(file, sizeof file, "%s/%s.png", tmpdir, tag);
  int rc = pb__chart_render(kind, &r, NULL, 1, NULL, PB_FORMAT_PNG, file, opts, geom, &err);
  if (rc) print_error("%s\n", err.message);
  assert_int_equal(rc, PB_OK);
  cairo_surface_t *s = cairo_image_surface_create_from_png(file);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  return s;
}

static size_t flat_calls(long it, fx_call *c) {
  c[0] = (fx_call){"compress", 1e-3 + 1e-5 * (double)(it % 7)};
  return 1;
}

/* A 150 MiB peak among 3,000 iterations of 10 MiB (9,000 records, several
 * per pixel column): drawn up to its true height, and annotated. */
static void test_memory_spike_height(void **state) {
  (void)state;
  const char *root = fx_dir("spike");
  fx_write_data(root, 3000, flat_calls);
  fx_write_memory(root, 3000, 1777, 150.0);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_MEMORY, r, "spike", NULL, &g);
  assert_true(g.has_peak);
  assert_true(fabs(g.peak_value - 150.0) < 1e-6);
  assert_string_equal(g.peak_topic, "compress");
  assert_false(g.ax.ylog);
  int want = (int)lround(pb__ax_y(&g.ax, 150.0)), top;
  /* the peak series' colour (see chart_memory.c), solid, in the plot area */
  long n = count_color(s, (pb__rgb){0.85, 0.33, 0.0}, 12, (int)g.ax.left, (int)g.ax.right,
                       (int)g.ax.top - 3, (int)g.ax.bottom + 1, &top);
  if (abs(top - want) > 3) print_error("peak drawn up to row %d, 150 MiB is row %d\n", top, want);
  assert_true(n > 0);
  assert_true(abs(top - want) <= 3);
  /* and the 10 MiB baseline is not at the bottom: the range starts at zero
   * only because 10 is near it relative to 150 */
  assert_true(g.ax.ymin == 0);
  cairo_surface_destroy(s);
  pb_run_free(run);
}

static size_t two_scale_calls(long it, fx_call *c) {
  c[0] = (fx_call){"big", 990e-6 * (1 + 0.02 * (double)(it % 5))};
  c[1] = (fx_call){"tiny", 10e-6 * (1 + 0.02 * (double)(it % 3))};
  return 2;
}

/* A step 100x smaller than GLOBAL is drawn well above the x axis, in its
 * own colour, where its value is. */
static void test_times_small_step_visible(void **state) {
  (void)state;
  const char *root = fx_dir("small");
  fx_write_data(root, 600, two_scale_calls);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_TIMES, r, "small", NULL, &g);
  double y = pb__ax_y(&g.ax, 10e-6), y2 = pb__ax_y(&g.ax, 20e-6);
  if (g.ax.bottom - y < 15 || y - y2 < 20)
    print_error("10 us drawn %.1f px above the axis, 20 us %.1f px above it\n", g.ax.bottom - y,
                g.ax.bottom - y2);
  assert_true(g.ax.bottom - y >= 15); /* not flattened on the axis */
  assert_true(y - y2 >= 20);          /* and twice the time is visibly higher */
  /* "tiny" is the second topic: palette colour 1 */
  int top;
  long n = count_color(s, pb__palette(1), 10, (int)g.ax.left, (int)g.ax.right, (int)y - 4,
                       (int)y + 5, &top);
  assert_true(n > 200); /* its line runs across the plot at that height */
  cairo_surface_destroy(s);
  pb_run_free(run);
}

static size_t four_step_calls(long it, fx_call *c) {
  c[0] = (fx_call){"prepare", 40e-6 * (1 + 0.1 * (double)(it % 4))};
  c[1] = (fx_call){"compress", 530e-6 * (1 + 0.1 * (double)(it % 5)) * (it % 100 == 99 ? 20 : 1)};
  c[2] = (fx_call){"decompress", 180e-6 * (1 + 0.1 * (double)(it % 3))};
  c[3] = (fx_call){"verify", 7e-6 * (1 + 0.1 * (double)(it % 6))};
  return 4;
}

/* 600 iterations of crono: every step drawn across the whole plot, GLOBAL
 * left out, the outliers (20x) capped so they do not squash the rest. */
static void test_crono_not_blank(void **state) {
  (void)state;
  const char *root = fx_dir("crono");
  fx_write_data(root, 600, four_step_calls);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_CRONO, r, "crono", NULL, &g);
  double w = g.ax.right - g.ax.left;
  for (size_t t = 0; t < 4; t++) {
    long n = count_color(s, pb__palette(t), 10, (int)g.ax.left, (int)g.ax.right, (int)g.ax.top,
                         (int)g.ax.bottom, NULL);
    if (n < (long)w) print_error("step %zu: %ld pixels\n", t, n);
    assert_true(n >= (long)w); /* at least a line's worth across the plot */
  }
  /* capped: the axis ends near compress's typical values, not at 20x */
  assert_true(g.ax.ymax < 530e-6 * 1.4 * 4 * 1.5);
  /* columns with some colour: nearly all of the plot's width */
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *d = cairo_image_surface_get_data(s);
  long cols = 0;
  for (int x = (int)g.ax.left + 2; x < (int)g.ax.right - 2; x++) {
    bool any = false;
    for (int y = (int)g.ax.top + 2; y < (int)g.ax.bottom - 2 && !any; y++) {
      uint32_t px = ((const uint32_t *)(const void *)(d + (size_t)y * (size_t)stride))[x];
      int r8 = (int)(px >> 16 & 255), g8 = (int)(px >> 8 & 255), b8 = (int)(px & 255);
      any = abs(r8 - g8) > 40 || abs(g8 - b8) > 40 || abs(r8 - b8) > 40; /* not grey */
    }
    cols += any;
  }
  assert_true((double)cols > 0.95 * (w - 4));
  cairo_surface_destroy(s);
  pb_run_free(run);
}

/* ---- issue 9 review of a real program's charts ------------------------- */

/* Peak == RSS at nearly every record (3,000 iterations): the RSS line is
 * visible across the plot, not covered by the peak markers, and the spike
 * still reaches its true height. */
static void test_memory_rss_visible(void **state) {
  (void)state;
  const char *root = fx_dir("rssvis");
  fx_write_data(root, 3000, flat_calls);
  fx_write_memory_rss(root, 3000, 1777, 150.0, 10.0);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_MEMORY, r, "rssvis", NULL, &g);
  int y = (int)lround(pb__ax_y(&g.ax, 10.0)), top;
  long blue = count_color(s, (pb__rgb){0.122, 0.467, 0.706}, 12, (int)g.ax.left, (int)g.ax.right,
                          y - 3, y + 4, NULL);
  double w = g.ax.right - g.ax.left;
  if (blue < (long)(0.9 * w)) print_error("RSS: %ld blue pixels, plot %.0f wide\n", blue, w);
  assert_true(blue >= (long)(0.9 * w)); /* a line's worth across the plot */
  long orange = count_color(s, (pb__rgb){0.85, 0.33, 0.0}, 12, (int)g.ax.left, (int)g.ax.right,
                            (int)g.ax.top - 3, (int)g.ax.bottom + 1, &top);
  assert_true(orange > 0);
  assert_true(abs(top - (int)lround(pb__ax_y(&g.ax, 150.0))) <= 3);
  cairo_surface_destroy(s);
  pb_run_free(run);
}

/* The first and last points of every point chart are inside the plot,
 * away from its frame (the last iteration's spike and ring were half
 * hidden on the right frame line at 3,000 iterations). */
static void test_x_padding(void **state) {
  (void)state;
  const char *root = fx_dir("pad");
  fx_write_data(root, 3000, four_step_calls);
  fx_write_memory(root, 3000, 2999, 150.0);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  static const pb_chart_kind kinds[] = {PB_CHART_TIMES, PB_CHART_CRONO, PB_CHART_MEMORY};
  for (size_t i = 0; i < 3; i++) {
    pb__chart_geom g;
    cairo_surface_t *s = fx_render(kinds[i], r, "pad", NULL, &g);
    double first = pb__ax_x(&g.ax, 0) - g.ax.left, last = g.ax.right - pb__ax_x(&g.ax, g.x_last);
    if (first < 8 || last < 8)
      print_error("%s: first point %.1f px, last %.1f px from the frame\n", pb_chart_name(kinds[i]),
                  first, last);
    assert_true(g.x_last > 100);
    assert_true(first >= 8 && last >= 8);
    cairo_surface_destroy(s);
  }
  pb_run_free(run);
}

static size_t varying_compress_calls(long it, fx_call *c) {
  c[0] = (fx_call){"compress", 2e-3 * (1 + 0.4 * (double)((it * 7) % 11))};
  c[1] = (fx_call){"decompress", 300e-6 * (1 + 0.05 * (double)(it % 3))};
  return 2;
}

/* Dense times chart where GLOBAL is compress plus a little: compress's band
 * (2-10 ms) is visible, not hidden under GLOBAL's. */
static void test_times_global_under_steps(void **state) {
  (void)state;
  const char *root = fx_dir("globalunder");
  fx_write_data(root, 3000, varying_compress_calls);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_TIMES, r, "globalunder", NULL, &g);
  /* compress: palette colour 0, its band from 2 to 10 ms in most columns */
  int y10 = (int)lround(pb__ax_y(&g.ax, 9e-3)), y2 = (int)lround(pb__ax_y(&g.ax, 2.5e-3));
  long n = count_color(s, pb__palette(0), 10, (int)g.ax.left, (int)g.ax.right, y10, y2, NULL);
  double area = (g.ax.right - g.ax.left) * (y2 - y10);
  if (n < 0.3 * area) print_error("compress: %ld pixels of %.0f in its band\n", n, area);
  assert_true(n >= 0.3 * area);
  cairo_surface_destroy(s);
  pb_run_free(run);
}

static size_t thousandfold_calls(long it, fx_call *c) {
  c[0] = (fx_call){"big", 999e-6 * (1 + 0.01 * (double)(it % 3))};
  c[1] = (fx_call){"tiny", 1e-6};
  return 2;
}

/* Bars of a step 1000x smaller than GLOBAL: a log axis, and its bar is
 * drawn wide enough to see, in its colour. */
static void test_bars_small_step_visible(void **state) {
  (void)state;
  const char *root = fx_dir("bars");
  fx_write_data(root, 50, thousandfold_calls);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_BARS, r, "bars", NULL, &g);
  assert_true(g.ax.xlog);
  double wtiny = pb__ax_x(&g.ax, 1e-6) - g.ax.left;
  assert_true(wtiny >= 40);
  /* "tiny", row 1: palette colour 1, a bar of that width */
  long n = count_color(s, pb__palette(1), 10, (int)g.ax.left, (int)g.ax.right, (int)g.ax.top,
                       (int)g.ax.bottom, NULL);
  if (n < (long)(wtiny * 10)) print_error("tiny: %ld pixels, bar %.1f px long\n", n, wtiny);
  assert_true(n >= (long)(wtiny * 10));
  cairo_surface_destroy(s);
  pb_run_free(run);
}

/* The memory chart says how peaks were recorded: sampled (with the period
 * and the way to exact), exact, or nothing for records without the mode. */
static void test_memory_peak_mode_note(void **state) {
  (void)state;
  static const char *const modes[] = {"sample", "reset", NULL};
  static const char *const tags[] = {"mode_sample", "mode_reset", "mode_none"};
  for (int i = 0; i < 3; i++) {
    const char *root = fx_dir(tags[i]);
    fx_write_data(root, 20, flat_calls);
    fx_write_memory(root, 20, 7, 150.0);
    fx_write_meta(root, modes[i], 100);
    pb_run *run;
    const pb_record *r = fx_load(root, &run);
    double ms;
    pb_recorded_peak m = pb_record_peak_mode(r, &ms);
    pb__chart_geom g;
    cairo_surface_t *s = fx_render(PB_CHART_MEMORY, r, tags[i], NULL, &g);
    if (i == 0) {
      assert_int_equal(m, PB_RECORDED_PEAK_SAMPLE);
      assert_true(fabs(ms - 100) < 1e-9);
      assert_string_equal(g.peak_note,
                          "peak (sampled every 100 ms: short spikes may read low; "
                          "PORTER_BENCH_PEAK=reset for exact)");
    } else if (i == 1) {
      assert_int_equal(m, PB_RECORDED_PEAK_RESET);
      assert_string_equal(g.peak_note, "peak (exact)");
    } else {
      assert_int_equal(m, PB_RECORDED_PEAK_UNKNOWN);
      assert_string_equal(g.peak_note, "");
    }
    cairo_surface_destroy(s);
    pb_run_free(run);
  }
}

static size_t probe_calls(long it, fx_call *c) {
  c[0] = (fx_call){"gstep_memory", 50e-6};
  c[1] = (fx_call){"work", 300e-6 * (1 + 0.05 * (double)(it % 4))};
  c[2] = (fx_call){"work_MEMORY_STEP", 40e-6};
  c[3] = (fx_call){"gstop_memory", 60e-6};
  return 4;
}

/* Probe topics are hidden by default and drawn with show_probes. */
static void test_probes_hidden(void **state) {
  (void)state;
  const char *root = fx_dir("probes");
  fx_write_data(root, 50, probe_calls);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb_chart_kind kinds[] = {PB_CHART_TIMES, PB_CHART_CRONO, PB_CHART_BARS};
  for (size_t k = 0; k < 3; k++) {
    pb__chart_geom g;
    pb_chart_options show = {.show_probes = true};
    cairo_surface_t *d = fx_render(kinds[k], r, "probes_default", NULL, &g);
    int W = cairo_image_surface_get_width(d), H = cairo_image_surface_get_height(d);
    /* default: "work" alone in the palette (colour 0); no colour 1, 2 */
    assert_true(count_color(d, pb__palette(0), 6, 0, W, 0, H, NULL) > 50);
    assert_int_equal(count_color(d, pb__palette(1), 6, 0, W, 0, H, NULL), 0);
    assert_int_equal(count_color(d, pb__palette(2), 6, 0, W, 0, H, NULL), 0);
    cairo_surface_t *p = fx_render(kinds[k], r, "probes_shown", &show, &g);
    assert_true(count_color(p, pb__palette(1), 6, 0, W, 0, H, NULL) > 20);
    assert_true(count_color(p, pb__palette(2), 6, 0, W, 0, H, NULL) > 20);
    cairo_surface_destroy(d);
    cairo_surface_destroy(p);
  }
  /* the public entry points take the options too */
  char file[700];
  pb_error err;
  pb_chart_options none = {0};
  snprintf(file, sizeof file, "%s/opts.svg", tmpdir);
  assert_int_equal(
      pb_chart_write_opts(PB_CHART_TIMES, &r, NULL, 1, NULL, PB_FORMAT_SVG, file, &none, &err),
      PB_OK);
  snprintf(file, sizeof file, "%s/opts_dir", tmpdir);
  seen sn = {0, ""};
  assert_int_equal(pb_plots_write_opts(run, file, NULL, 0, PB_FORMAT_SVG, NULL, on_file, &sn, &err),
                   PB_OK);
  assert_int_equal(sn.n, 3);
  pb_run_free(run);
}

/* Colours: distinct from each other and from the outlier red. */
static void test_palette_distinct(void **state) {
  (void)state;
  pb__rgb red = PB__OUTLIER_RGB;
  for (size_t i = 0; i < PB__PALETTE_N; i++) {
    pb__rgb a = pb__palette(i);
    double dr = fabs(a.r - red.r) + fabs(a.g - red.g) + fabs(a.b - red.b);
    assert_true(dr > 0.35);
    for (size_t j = i + 1; j < PB__PALETTE_N; j++) {
      pb__rgb b = pb__palette(j);
      assert_true(fabs(a.r - b.r) + fabs(a.g - b.g) + fabs(a.b - b.b) > 0.3);
    }
  }
}

/* The y range: zero when near, else hugging the data. */
static void test_y_range(void **state) {
  (void)state;
  double lo, hi;
  pb__y_range(290, 295, 0.1, &lo, &hi);
  assert_true(lo > 280 && lo < 290 && hi > 295 && hi < 296);
  pb__y_range(10, 150, 0.1, &lo, &hi);
  assert_true(lo == 0 && hi >= 150);
  pb__y_range(5, 5, 0.1, &lo, &hi); /* flat */
  assert_true(lo < 5 && hi > 5);
}

/* Labels read a bounded prefix of a name: a name without its end (a page
 * of 'a' followed by an inaccessible page) is ellipsized without reading
 * past it, so a label's cost never depends on the name's length. */
static void test_ellipsize_bounded(void **state) {
  (void)state;
  long pg = sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(m != MAP_FAILED);
  memset(m, 'a', (size_t)pg);
  assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
  char buf[200];
  pb__ellipsize(m + pg - 100, 40, buf, sizeof buf); /* 100 readable bytes, no end */
  assert_int_equal(strlen(buf), 39 + 3);            /* 39 'a' and U+2026 */
  assert_memory_equal(buf + 39, "\xe2\x80\xa6", 3);
  pb__ellipsize("short", 40, buf, sizeof buf);
  assert_string_equal(buf, "short");
  /* never cuts a character: 50 x "é" (2 bytes each) */
  char e[101];
  for (int i = 0; i < 50; i++) memcpy(e + 2 * i, "\xc3\xa9", 2);
  e[100] = 0;
  pb__ellipsize(e, 40, buf, sizeof buf);
  assert_int_equal(strlen(buf), 39 * 2 + 3);
  munmap(m, (size_t)pg * 2);
}

static char *huge_name;
static size_t huge_calls(long it, fx_call *c) {
  c[0] = (fx_call){huge_name, 1e-3 * (1 + 0.01 * (double)(it % 9))};
  c[1] = (fx_call){"short", 2e-4};
  return 2;
}

/* A 4 MiB topic name: every chart is written (in the time of any other). */
static void test_long_topic_name(void **state) {
  (void)state;
  const size_t len = 4u << 20;
  huge_name = malloc(len + 1);
  assert_non_null(huge_name);
  memset(huge_name, 'x', len);
  huge_name[len] = 0;
  const char *root = fx_dir("huge");
  fx_write_data(root, 3, huge_calls); /* 3 x 2 copies of the name: 24 MiB */
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb_chart_kind kinds[] = {PB_CHART_TIMES, PB_CHART_CRONO, PB_CHART_BARS};
  for (size_t k = 0; k < 3; k++) {
    pb__chart_geom g;
    cairo_surface_t *s = fx_render(kinds[k], r, "huge", NULL, &g);
    cairo_surface_destroy(s);
  }
  pb_run_free(run);
  free(huge_name);
}

/* Legends of several runs name them by what tells them apart (issue 10). */
static void test_short_run_labels(void **state) {
  (void)state;
  char out[3][PB__RUN_LABEL_MAX];
  const char *ts[2] = {"2026-11-30T05-43-48.123456Z", "2026-11-30T06-10-02.654321Z"};
  pb__short_labels(ts, 2, out);
  assert_string_equal(out[0], "05-43-48.123456Z");
  assert_string_equal(out[1], "06-10-02.654321Z");
  const char *same_tail[2] = {"2026-11-30T00-00-00.000000Z", "2026-11-30T01-00-00.000000Z"};
  pb__short_labels(same_tail, 2, out);
  assert_string_equal(out[0], "00-00");
  assert_string_equal(out[1], "01-00");
  const char *names[3] = {"baseline", "baseline-fast", "other"}; /* nothing common */
  pb__short_labels(names, 3, out);
  assert_string_equal(out[0], "baseline");
  assert_string_equal(out[1], "baseline-fast");
  const char *longl[2] = {"a-very-long-run-name-that-goes-on-and-on-1", "b"};
  pb__short_labels(longl, 2, out);
  assert_int_equal(strlen(out[0]), 23 + 3); /* 23 characters and U+2026 */
  assert_string_equal(out[1], "b");
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The charts' percentiles without sorting equal pb_percentile_sorted's. */
static void test_percentile_select(void **state) {
  (void)state;
  unsigned seed = 12345;
  for (size_t n = 1; n < 300; n += 7) {
    double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
    assert_non_null(v);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      v[i] = (double)(seed >> 16 & 1023) / 7.0; /* with repeated values */
    }
    static const double qs[] = {0, 10, 50, 75, 99.5, 100};
    for (size_t q = 0; q < 6; q++) {
      memcpy(w, v, n * sizeof *v);
      qsort(w, n, sizeof *w, cmp_double);
      double want = pb_percentile_sorted(w, n, qs[q]);
      memcpy(w, v, n * sizeof *v);
      assert_true(pb__percentile_select(w, n, qs[q]) == want);
    }
    free(v);
    free(w);
  }
}

static size_t one_call(long it, fx_call *c) {
  (void)it;
  c[0] = (fx_call){"only", 2e-3};
  return 1;
}

/* One call: crono draws it as a visible marker at its value. */
static void test_crono_one_call(void **state) {
  (void)state;
  const char *root = fx_dir("one");
  fx_write_data(root, 1, one_call);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  cairo_surface_t *s = fx_render(PB_CHART_CRONO, r, "one", NULL, &g);
  int y = (int)lround(pb__ax_y(&g.ax, 2e-3)), top;
  long n = count_color(s, pb__palette(0), 10, (int)g.ax.left, (int)g.ax.right, y - 6, y + 7, &top);
  assert_true(n >= 20); /* a marker, not a speck */
  cairo_surface_destroy(s);
  pb_run_free(run);
}

/* ---- what the charts say (texts drawn, their extents) ------------------ */

/* Renders kind of r (title NULL: the record's name) as PNG into
 * <tmpdir>/<tag>.png, logging every text drawn into *log. */
static void fx_render_log(pb_chart_kind kind, const pb_record *r, const char *tag,
                          const pb_chart_options *opts, pb__chart_geom *geom, pb__text_log *log) {
  char file[700];
  pb_error err;
  snprintf(file, sizeof file, "%s/%s.png", tmpdir, tag);
  memset(log, 0, sizeof *log);
  int rc =
      pb__chart_render_log(kind, &r, NULL, 1, NULL, PB_FORMAT_PNG, file, opts, geom, log, &err);
  if (rc) print_error("%s\n", err.message);
  assert_int_equal(rc, PB_OK);
}

/* The logged text equal to text, or NULL. */
static const pb__drawn_text *find_text(const pb__text_log *log, const char *text) {
  for (size_t i = 0; i < log->n; i++)
    if (strcmp(log->items[i].text, text) == 0) return &log->items[i];
  return NULL;
}

/* The first logged text that begins with prefix, or NULL. */
static const pb__drawn_text *find_prefix(const pb__text_log *log, const char *prefix) {
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->items[i].text, prefix, strlen(prefix)) == 0) return &log->items[i];
  return NULL;
}

/* Asserts that every text lies on the w x h canvas and that no two overlap
 * (extents sharing more than half a pixel each way). */
static void assert_texts_apart(const pb__text_log *log, double w, double h) {
  long bad = 0;
  for (size_t i = 0; i < log->n; i++) {
    const pb__drawn_text *a = &log->items[i];
    if (a->x0 < -0.5 || a->y0 < -0.5 || a->x1 > w + 0.5 || a->y1 > h + 0.5) {
      print_error("off the canvas: '%s' [%.1f, %.1f]-[%.1f, %.1f]\n", a->text, a->x0, a->y0, a->x1,
                  a->y1);
      bad++;
    }
    for (size_t j = i + 1; j < log->n; j++) {
      const pb__drawn_text *b = &log->items[j];
      if (a->x0 < b->x1 - 0.5 && b->x0 < a->x1 - 0.5 && a->y0 < b->y1 - 0.5 &&
          b->y0 < a->y1 - 0.5 && bad++ < 5)
        print_error("'%s' [%.1f, %.1f]-[%.1f, %.1f] overlaps '%s' [%.1f, %.1f]-[%.1f, %.1f]\n",
                    a->text, a->x0, a->y0, a->x1, a->y1, b->text, b->x0, b->y0, b->x1, b->y1);
    }
  }
  assert_int_equal(bad, 0);
}

/* Size of a PNG file's image. */
static void png_size(const char *tag, int *w, int *h) {
  char file[700];
  snprintf(file, sizeof file, "%s/%s.png", tmpdir, tag);
  cairo_surface_t *s = cairo_image_surface_create_from_png(file);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  *w = cairo_image_surface_get_width(s);
  *h = cairo_image_surface_get_height(s);
  cairo_surface_destroy(s);
}

/* Mean of topic t of the wide fixture: distinct values, 1 to 600 us in a
 * scrambled order, and the last topic the largest of all (5 ms). */
static double wide_value(size_t t, size_t ntopics) {
  return t + 1 == ntopics ? 5e-3 : 1e-6 * (double)(1 + (t * 7919) % 600);
}

/* A data file of 3 iterations of ntopics topics "topic_NNNN" (one call
 * each, wide_value) and GLOBAL. */
static void fx_write_wide(const char *root, size_t ntopics) {
  FILE *f = fx_open(root, "wide_STEP_DICT_DATA.json");
  fputc('[', f);
  for (int it = 0; it < 3; it++) {
    double g = 0;
    fprintf(f, "%s{\"absolutes\":{", it ? "," : "");
    for (size_t t = 0; t < ntopics; t++) {
      fprintf(f, "\"topic_%04zu\":%.9f,", t, wide_value(t, ntopics));
      g += wide_value(t, ntopics);
    }
    fprintf(f,
            "\"GLOBAL\":%.9f},\"info\":{\"STEP_NUMBER\":%d,\"START_TIME\":%.3f,"
            "\"STOP_TIME\":%.3f},\"individual_calls\":{",
            g, it, 1.0e9 + it, 1.0e9 + it + g);
    for (size_t t = 0; t < ntopics; t++)
      fprintf(f, "\"topic_%04zu\":[{\"time\":%.9f,\"crono_counter\":%zu,\"extra\":null}],", t,
              wide_value(t, ntopics), t);
    fprintf(f, "\"GLOBAL\":[{\"time\":%.9f,\"crono_counter\":%zu}]}}", g, ntopics);
  }
  fputs("]\n", f);
  assert_int_equal(fclose(f), 0);
}

/* The topic rows drawn (names at the label size): drawn[t] set; returns
 * their number and checks they are drawn top to bottom in topic order. */
static size_t drawn_rows(const pb__text_log *log, size_t ntopics, bool *drawn) {
  size_t n = 0;
  double last_y = -1;
  memset(drawn, 0, ntopics * sizeof *drawn);
  for (size_t i = 0; i < log->n; i++) {
    const pb__drawn_text *d = &log->items[i];
    unsigned t;
    if (d->size != PB__FONT_LABEL || sscanf(d->text, "topic_%4u", &t) != 1 || t >= ntopics)
      continue;
    assert_false(drawn[t]);
    assert_true(d->y0 > last_y); /* in order of first appearance */
    last_y = d->y0;
    drawn[t] = true;
    n++;
  }
  return n;
}

/* 600 topics: more than 8000 px hold at a readable row height. The topics
 * with the largest means are drawn (the last one, 5 ms, included), GLOBAL
 * too, and a bold note says how many were left out and how small they
 * are; no label overlaps another (the old chart drew 511 rows in 8000 px,
 * names over each other, and dropped the rest without a word). */
static void test_bars_many_topics(void **state) {
  (void)state;
  enum { NT = 600 };
  const char *root = fx_dir("wide600");
  fx_write_wide(root, NT);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  pb__text_log log;
  fx_render_log(PB_CHART_BARS, r, "wide600", NULL, &g, &log);
  int W, H;
  png_size("wide600", &W, &H);
  assert_true(H <= 8000);
  assert_texts_apart(&log, W, H);
  bool drawn[NT];
  size_t nd = drawn_rows(&log, NT, drawn);
  assert_true(nd >= 300 && nd < NT);
  assert_true(drawn[NT - 1]);
  assert_non_null(find_text(&log, "GLOBAL"));
  double min_in = INFINITY, max_out = 0;
  for (size_t t = 0; t < NT; t++) {
    double v = wide_value(t, NT);
    if (drawn[t])
      min_in = fmin(min_in, v);
    else
      max_out = fmax(max_out, v);
  }
  assert_true(min_in > max_out); /* the largest means are the ones drawn */
  char want[256], v[32];
  pb_format_seconds(max_out, v, sizeof v);
  snprintf(want, sizeof want, "%zu more topics not shown, each with a mean of %s or less", NT - nd,
           v);
  const pb__drawn_text *note = find_text(&log, want);
  if (!note) print_error("no note '%s'\n", want);
  assert_non_null(note);
  assert_true(note->bold && note->size >= PB__FONT_LABEL);
  assert_true(note->y1 < g.ax.top); /* above the plot, under the title */
  snprintf(want, sizeof want, "drawn: the %zu topics with the largest means,", nd);
  assert_non_null(find_prefix(&log, want));
  pb__text_log_free(&log);
  pb_run_free(run);
}

/* 300 topics fit: every one is drawn, apart, and there is no note. */
static void test_bars_all_topics(void **state) {
  (void)state;
  enum { NT = 300 };
  const char *root = fx_dir("wide300");
  fx_write_wide(root, NT);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  pb__text_log log;
  fx_render_log(PB_CHART_BARS, r, "wide300", NULL, &g, &log);
  int W, H;
  png_size("wide300", &W, &H);
  assert_texts_apart(&log, W, H);
  bool drawn[NT];
  assert_int_equal(drawn_rows(&log, NT, drawn), NT);
  assert_non_null(find_text(&log, "GLOBAL"));
  assert_null(find_prefix(&log, "drawn: "));
  for (size_t i = 0; i < log.n; i++) assert_null(strstr(log.items[i].text, "not shown"));
  pb__text_log_free(&log);
  pb_run_free(run);
}

/* The note on GLOBAL's hidden probe time that the bars and times charts
 * draw for r, computed from the fixture: the probes' mean per iteration
 * and their share of GLOBAL. */
static void probe_note_text(double probes_s, double share, char *buf, size_t n) {
  char t[32];
  pb_format_seconds(probes_s, t, sizeof t);
  snprintf(buf, n,
           "GLOBAL includes the hidden memory probes: %s per iteration (mean), %.1f%% of GLOBAL", t,
           100 * share);
}

/* With the probes hidden, bars and times say what GLOBAL holds of them:
 * probe_calls has 50 + 40 + 60 us of probes in every iteration (150 us)
 * and GLOBAL = their sum with "work"; the share is computed here from the
 * generator. With show_probes there is no note (their rows are drawn). */
static void test_probe_note(void **state) {
  (void)state;
  const char *root = fx_dir("probenote");
  fx_write_data(root, 50, probe_calls);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  double gsum = 0;
  fx_call c[16];
  for (long it = 0; it < 50; it++) {
    size_t n = probe_calls(it, c);
    for (size_t i = 0; i < n; i++) gsum += c[i].time;
  }
  double mean, share;
  assert_int_equal(pb_record_probe_time(r, &mean, &share), PB_OK);
  assert_true(fabs(mean - 150e-6) < 1e-12);
  assert_true(fabs(share - 150e-6 * 50 / gsum) < 1e-9);
  char want[256];
  probe_note_text(150e-6, 150e-6 * 50 / gsum, want, sizeof want);
  pb_chart_kind kinds[] = {PB_CHART_BARS, PB_CHART_TIMES};
  for (size_t k = 0; k < 2; k++) {
    pb__chart_geom g;
    pb__text_log log;
    fx_render_log(kinds[k], r, "probenote", NULL, &g, &log);
    int W, H;
    png_size("probenote", &W, &H);
    const pb__drawn_text *note = find_text(&log, want);
    if (!note) print_error("%s: no note '%s'\n", pb_chart_name(kinds[k]), want);
    assert_non_null(note);
    assert_texts_apart(&log, W, H);
    pb__text_log_free(&log);
    pb_chart_options show = {.show_probes = true};
    fx_render_log(kinds[k], r, "probenote", &show, &g, &log);
    assert_null(find_prefix(&log, "GLOBAL includes"));
    pb__text_log_free(&log);
  }
  pb_run_free(run);
}

/* pb_record_probe_time of the original's sample with memory tracking on
 * (two iterations; expected values summed from its JSON with Python), and
 * PB_ENOTFOUND for a record without probes. */
static void test_probe_time_samples(void **state) {
  (void)state;
  pb_run *run = load(PB_FIXTURES "/samples");
  const pb_record *mem = NULL, *train = NULL;
  for (size_t i = 0; i < pb_run_record_count(run); i++) {
    const pb_record *r = pb_run_record(run, i);
    if (strcmp(pb_record_name(r), "memory") == 0) mem = r;
    if (strcmp(pb_record_name(r), "training") == 0) train = r;
  }
  assert_non_null(mem);
  assert_non_null(train);
  double mean = -1, share = -1;
  assert_int_equal(pb_record_probe_time(mem, &mean, &share), PB_OK);
  assert_true(fabs(mean - 0.05964663100004941) < 1e-12);
  assert_true(fabs(share - 0.31402757956523286) < 1e-12);
  mean = -1;
  assert_int_equal(pb_record_probe_time(train, &mean, NULL), PB_ENOTFOUND);
  assert_true(mean == -1);
  assert_int_equal(pb_record_probe_time(NULL, &mean, NULL), PB_EINVAL);
  assert_int_equal(pb_record_probe_time(mem, NULL, NULL), PB_EINVAL);
  pb_run_free(run);
}

/* One iteration of ncalls calls of four steps (times drawn from a fixed
 * generator: no two calls alike), as benchmarker name. */
static void fx_write_one_iteration(const char *root, const char *name, size_t ncalls) {
  static const char *const steps[4] = {"load", "forward", "backward", "update"};
  char file[256];
  snprintf(file, sizeof file, "%s_STEP_DICT_DATA.json", name);
  FILE *f = fx_open(root, file);
  double sum[4] = {0}, g = 0;
  unsigned seed = 7;
  fputs("[{\"individual_calls\":{", f);
  for (int s = 0; s < 4; s++) {
    fprintf(f, "%s\"%s\":[", s ? "," : "", steps[s]);
    seed = 7; /* the same sequence for every step: the values of call i */
    for (size_t i = 0; i < ncalls; i++) {
      seed = seed * 1103515245u + 12345u;
      if (i % 4 != (size_t)s) continue;
      double v = 1e-5 * (s + 1) * (1 + (double)(seed >> 16 & 1023) / 2048.0);
      fprintf(f, "%s{\"time\":%.9f,\"crono_counter\":%zu,\"extra\":null}", i < 4 ? "" : ",", v, i);
      sum[s] += v;
    }
    fputc(']', f);
    g += sum[s];
  }
  fprintf(f, ",\"GLOBAL\":[{\"time\":%.9f,\"crono_counter\":%zu}]},\"absolutes\":{", g, ncalls);
  for (int s = 0; s < 4; s++) fprintf(f, "\"%s\":%.9f,", steps[s], sum[s]);
  fprintf(f,
          "\"GLOBAL\":%.9f},\"info\":{\"STEP_NUMBER\":0,\"START_TIME\":1000000000.0,"
          "\"STOP_TIME\":%.6f}}]\n",
          g, 1.0e9 + g);
  assert_int_equal(fclose(f), 0);
}

/* One iteration of 40,000 calls (a training loop's inner steps): the x
 * axis gets ticks at call numbers (not a lone "0"), thinned so that no
 * label overlaps another, each at the call it names; and no text of the
 * chart overlaps another (the dense-data note used to sit on the title). */
static void test_crono_one_iteration_40k(void **state) {
  (void)state;
  enum { NCALLS = 40000 };
  const char *root = fx_dir("crono40k");
  fx_write_one_iteration(root, "training_loop_inner", NCALLS);
  pb_run *run;
  const pb_record *r = fx_load(root, &run);
  pb__chart_geom g;
  pb__text_log log;
  fx_render_log(PB_CHART_CRONO, r, "crono40k", NULL, &g, &log);
  assert_texts_apart(&log, 1600, 640);
  assert_non_null(find_text(&log, "call number in iteration 0 (of those drawn)"));
  assert_true(g.x_last == NCALLS - 1); /* no call collapsed: x is the call number */
  size_t nticks = 0;
  double prev = -1, prev_x1 = -1e9;
  for (size_t i = 0; i < log.n; i++) {
    const pb__drawn_text *d = &log.items[i];
    if (d->size != PB__FONT_TICK || d->y0 < g.ax.bottom) continue; /* the x tick labels */
    char *end;
    double v = strtod(d->text, &end);
    assert_true(*end == 0 && v > prev && v <= NCALLS - 1);
    double x = (d->x0 + d->x1) / 2;
    assert_true(fabs(x - pb__ax_x(&g.ax, v)) <= 1); /* at the call it names */
    assert_true(d->x0 >= prev_x1 + 8);              /* apart from the previous label */
    prev = v;
    prev_x1 = d->x1;
    nticks++;
  }
  if (nticks < 5) print_error("%zu x tick labels\n", nticks);
  assert_true(nticks >= 5);
  pb__text_log_free(&log);
  pb_run_free(run);
}

int main(void) {
  setenv("TZ", "UTC", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_all_charts_all_formats, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_samples_charts, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_overlay, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_dense, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_generate_plots, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_threads, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_errors, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_memory_spike_height, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_times_small_step_visible, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_crono_not_blank, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_crono_one_call, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_probes_hidden, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_memory_rss_visible, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_x_padding, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_times_global_under_steps, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_bars_small_step_visible, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_memory_peak_mode_note, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_bars_many_topics, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_bars_all_topics, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_probe_note, make_tmp, remove_tmp),
      cmocka_unit_test(test_probe_time_samples),
      cmocka_unit_test_setup_teardown(test_crono_one_iteration_40k, make_tmp, remove_tmp),
      cmocka_unit_test(test_palette_distinct),
      cmocka_unit_test(test_y_range),
      cmocka_unit_test(test_ellipsize_bounded),
      cmocka_unit_test(test_short_run_labels),
      cmocka_unit_test(test_percentile_select),
      cmocka_unit_test_setup_teardown(test_long_topic_name, make_tmp, remove_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
