/*
 * test_charts.c - every chart type in every format is written, has the
 * expected size, and is not blank (PNG pixels counted through cairo);
 * overlays of several runs; dense series; argument errors.
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
