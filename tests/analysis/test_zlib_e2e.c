/*
 * test_zlib_e2e.c - end to end on a real instrumented program (issue 9):
 * examples/zlib_roundtrip.c records 600 zlib round trips with per-step
 * memory and a 150 MiB allocation, touched and freed inside "compress", in
 * iterations 99, 199, ... 599 (the scenario: 3,600 memory records,
 * about 3 per pixel column, so the chart reduces them per column). The run
 * is loaded with pb_run_load and
 *  - its memory records must hold the spike: a "max memory usage" at least
 *    150 MiB above the run's lowest RSS, in "compress" (in both peak modes;
 *    with PORTER_BENCH_PEAK=reset every one of the six spikes, at its
 *    iteration, with the RSS of the record back near the baseline);
 *  - the memory chart must draw the highest peak at its value's height
 *    (the drawing's own axes, pb__chart_render, and the pixels);
 *  - the crono chart's plot area must not be blank: every step drawn
 *    across it.
 * PB_ZLIB_EXAMPLE is the program's path (set by CMake).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cairo.h>
#include <cmocka.h>

#include "chart.h"  /* internal: pb__chart_render and the axes, for the drawing's geometry */
#include "pixels.h" /* count_color */
#include "porter_bench_analysis.h"

#define MIB (1024.0 * 1024.0)
#define ITERATIONS 600
#define SPIKES (ITERATIONS / 100)
#define SPIKE_MIB 150.0

static char tmpdir[256];

static int make_tmp(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_zlib_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Runs the example for ITERATIONS round trips into <tmpdir>/<tag>, with
 * PORTER_BENCH_PEAK set to peak_env (NULL: unset, the default mode); the
 * program's stdout goes to /dev/null. Returns the root it recorded into. */
static const char *run_example(const char *tag, const char *peak_env) {
  static char root[512];
  snprintf(root, sizeof root, "%s/%s", tmpdir, tag);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (peak_env)
      setenv("PORTER_BENCH_PEAK", peak_env, 1);
    else
      unsetenv("PORTER_BENCH_PEAK");
    if (!freopen("/dev/null", "w", stdout)) _exit(126);
    char count[32];
    snprintf(count, sizeof count, "%d", ITERATIONS);
    execl(PB_ZLIB_EXAMPLE, PB_ZLIB_EXAMPLE, count, root, (char *)NULL);
    _exit(127);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) print_error("%s: status %d\n", PB_ZLIB_EXAMPLE, st);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return root;
}

/* Loads the latest run under root and returns its benchmarker "zlib". */
static const pb_record *load_zlib(const char *root, pb_run **run) {
  pb_error err;
  *run = NULL;
  if (pb_run_load(root, true, run, &err) != PB_OK) print_error("%s\n", err.message);
  assert_non_null(*run);
  const pb_record *r = pb_run_find(*run, "zlib");
  assert_non_null(r);
  assert_true(pb_record_memory_count(r) > 0);
  return r;
}

/* What the memory records say about the spikes. */
typedef struct spikes {
  double base;               /* lowest RSS of the run, bytes */
  double max_peak;           /* highest "max memory usage", bytes */
  size_t max_index;          /* the memory record that holds it */
  size_t n;                  /* records whose peak is SPIKE_MIB above base */
  uint32_t iter[SPIKES + 1]; /* their iterations (the first SPIKES + 1) */
  size_t tall[4 * SPIKES];   /* records with a peak over 20 MiB above base */
  size_t ntall;
} spikes;

static spikes find_spikes(const pb_record *r) {
  size_t n;
  const pb_mem_record *m = pb_record_memory(r, &n);
  spikes s = {INFINITY, -INFINITY, 0, 0, {0}, {0}, 0};
  for (size_t i = 0; i < n; i++)
    if (m[i].rss < s.base) s.base = m[i].rss;
  for (size_t i = 0; i < n; i++) {
    if (m[i].peak > s.max_peak) {
      s.max_peak = m[i].peak;
      s.max_index = i;
    }
    if (m[i].peak - s.base >= 20 * MIB && s.ntall < 4 * SPIKES) s.tall[s.ntall++] = i;
    if (m[i].peak - s.base >= SPIKE_MIB * MIB) {
      if (s.n <= SPIKES) s.iter[s.n] = m[i].iter;
      s.n++;
      /* the spike lives inside the step: its RSS is back near the baseline */
      assert_true(m[i].rss - s.base < 16 * MIB);
      assert_string_equal(pb_record_memory_topic(r, m[i].topic), "compress");
    }
  }
  return s;
}

/* Renders kind of r as PNG into <tmpdir>/<tag>.png; returns the surface. */
static cairo_surface_t *render(pb_chart_kind kind, const pb_record *r, const char *tag,
                               pb__chart_geom *geom) {
  char file[700];
  pb_error err;
  snprintf(file, sizeof file, "%s/%s.png", tmpdir, tag);
  int rc = pb__chart_render(kind, &r, NULL, 1, NULL, PB_FORMAT_PNG, file, NULL, geom, &err);
  if (rc) print_error("%s\n", err.message);
  assert_int_equal(rc, PB_OK);
  cairo_surface_t *s = cairo_image_surface_create_from_png(file);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  return s;
}

/* The memory chart marks the highest peak with its value and step, and the
 * peak series (its colour in chart_memory.c) reaches that value's row; so
 * does every other tall peak in its own pixel column (the chart's x is the
 * memory record's index: checked on the highest peak). */
static void check_memory_chart(const pb_record *r, const spikes *sp) {
  pb__chart_geom g;
  cairo_surface_t *s = render(PB_CHART_MEMORY, r, "memory", &g);
  assert_true(g.has_peak);
  if (fabs(g.peak_value - sp->max_peak / MIB) > 1e-6)
    print_error("chart peak %.3f MiB, records %.3f MiB\n", g.peak_value, sp->max_peak / MIB);
  assert_true(fabs(g.peak_value - sp->max_peak / MIB) < 1e-6);
  assert_string_equal(g.peak_topic, "compress");
  assert_true(fabs(g.peak_x - (double)sp->max_index) < 1e-9);
  size_t n;
  const pb_mem_record *m = pb_record_memory(r, &n);
  for (size_t k = 0; k < sp->ntall; k++) {
    double v = m[sp->tall[k]].peak / MIB;
    int want = (int)lround(pb__ax_y(&g.ax, v)), top;
    int x = (int)floor(pb__ax_x(&g.ax, (double)sp->tall[k]));
    long px = count_color(s, (pb__rgb){0.85, 0.33, 0.0}, 12, x - 2, x + 3, (int)g.ax.top - 3,
                          (int)g.ax.bottom + 1, &top);
    if (abs(top - want) > 3)
      print_error("record %zu: %.1f MiB drawn up to row %d, its row is %d\n", sp->tall[k], v, top,
                  want);
    assert_true(px > 0);
    assert_true(abs(top - want) <= 3);
  }
  /* and the baseline is drawn far below the highest: the spike is visible as one */
  assert_true(pb__ax_y(&g.ax, sp->base / MIB) - pb__ax_y(&g.ax, sp->max_peak / MIB) > 100);
  cairo_surface_destroy(s);
}

/* The crono chart draws each of the four steps across the plot, in the
 * palette colour crono gives it (shown topics other than GLOBAL, in order). */
static void check_crono_chart(const pb_record *r) {
  pb__chart_geom g;
  cairo_surface_t *s = render(PB_CHART_CRONO, r, "crono", &g);
  static const char *const steps[] = {"prepare", "compress", "decompress", "verify"};
  double w = g.ax.right - g.ax.left;
  assert_true(w > 200 && g.ax.bottom - g.ax.top > 200);
  size_t next = 0, found = 0;
  for (size_t t = 0; t < pb_record_topic_count(r); t++) {
    const char *tn = pb_record_topic(r, t);
    if (strcmp(tn, "GLOBAL") == 0 || pb_topic_is_probe(tn)) continue;
    pb__rgb c = pb__palette(next++);
    for (size_t k = 0; k < 4; k++) {
      if (strcmp(tn, steps[k]) != 0) continue;
      found++;
      long n = count_color(s, c, 10, (int)g.ax.left, (int)g.ax.right, (int)g.ax.top,
                           (int)g.ax.bottom, NULL);
      if (n < (long)w) print_error("crono: %s has %ld pixels in the plot\n", tn, n);
      assert_true(n >= (long)w); /* at least a line's worth across the plot */
    }
  }
  assert_int_equal(found, 4);
  cairo_surface_destroy(s);
}

/* The default (sampled) peak mode: the first spike sets a new high of the
 * process, so its peak is exact; the later ones, of the same size, are
 * caught only when a poll or a slightly higher baseline finds them (docs/RECORDING.md). */
static void test_sampled_default(void **state) {
  (void)state;
  pb_run *run;
  const pb_record *r = load_zlib(run_example("sampled", NULL), &run);
  spikes sp = find_spikes(r);
  print_message(
      "sampled: baseline %.2f MiB, highest peak +%.2f MiB, %zu of %d spikes at full "
      "height\n",
      sp.base / MIB, (sp.max_peak - sp.base) / MIB, sp.n, SPIKES);
  assert_true(sp.max_peak - sp.base >= SPIKE_MIB * MIB);
  assert_true(sp.n >= 1 && sp.n <= SPIKES);
  assert_int_equal(sp.iter[0], 99);
  check_memory_chart(r, &sp);
  check_crono_chart(r);
  pb_run_free(run);
}

/* PORTER_BENCH_PEAK=reset: every spike, exactly where it happened. */
static void test_reset_mode(void **state) {
  (void)state;
  pb_run *run;
  const pb_record *r = load_zlib(run_example("reset", "reset"), &run);
  spikes sp = find_spikes(r);
  print_message(
      "reset: baseline %.2f MiB, highest peak +%.2f MiB, %zu of %d spikes at full "
      "height\n",
      sp.base / MIB, (sp.max_peak - sp.base) / MIB, sp.n, SPIKES);
  assert_int_equal(sp.n, SPIKES);
  for (int k = 0; k < SPIKES; k++) assert_int_equal(sp.iter[k], 100 * k + 99);
  assert_true(sp.max_peak - sp.base < (SPIKE_MIB + 16) * MIB);
  check_memory_chart(r, &sp);
  pb_run_free(run);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_sampled_default, make_tmp, remove_tmp),
      cmocka_unit_test_setup_teardown(test_reset_mode, make_tmp, remove_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
