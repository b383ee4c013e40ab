/*
 * bench_scaling.c - how the recording library's costs grow with the number of
 * benchmarkers, registry names and topics (issue 11, defect 13). Run by hand:
 *
 *   porter_bench_scaling [N_BENCHES] [N_NAMES] [N_TOPICS]
 *
 * Each figure is measured at n and 10n and printed with the ratio; a cost
 * that grows linearly in the count shows a ratio near 10 for totals and near
 * 1 for per-operation figures. Times are the process's CPU time (the work
 * is single-threaded). Public API only; files go to a fresh folder
 * under /tmp, removed at the end. Defaults: 2,000 benchmarkers, 2,000 names,
 * 10,000 topics. See docs/BENCHMARKS.md, "Scaling (issue 11, defect 13)".
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "porter_bench.h"

/* CPU seconds of the process: the work is single-threaded, and CPU time is
 * far steadier than wall time on a shared machine. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(path);
}

/* Creates n benchmarkers, then destroys them oldest first: seconds to destroy all. */
static double bench_destroy(size_t n, const char *dir) {
  pb_bench **b = malloc(n * sizeof *b);
  char path[512];
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/b%zu", dir, i);
    if (!b || pb_bench_create(path, &b[i]) != PB_OK) {
      fprintf(stderr, "bench_scaling: cannot create benchmarker %zu\n", i);
      exit(1);
    }
  }
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) pb_bench_destroy(b[i]);
  double t = now_s() - t0;
  free(b);
  return t;
}

typedef struct reg_costs {
  double create_us; /* per pb_registry_get of a new name (the last 1,000) */
  double get_us;    /* per pb_registry_get of an existing name */
  double destroy_s; /* pb_registry_destroy */
} reg_costs;

static reg_costs registry(size_t n, const char *dir) {
  reg_costs c = {0, 0, 0};
  pb_registry *r = NULL;
  char root[512], name[64];
  snprintf(root, sizeof root, "%s/reg%zu", dir, n);
  if (pb_registry_create(root, &r) != PB_OK) exit(1);
  size_t last = n < 1000 ? n : 1000;
  double t0 = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == n - last) t0 = now_s();
    snprintf(name, sizeof name, "name/%zu", i);
    if (!pb_registry_get(r, name)) exit(1);
  }
  c.create_us = (now_s() - t0) / (double)last * 1e6;
  size_t gets = 20000;
  t0 = now_s();
  for (size_t i = 0; i < gets; i++) {
    snprintf(name, sizeof name, "name/%zu", (i * 7919) % n);
    if (!pb_registry_get(r, name)) exit(1);
  }
  c.get_us = (now_s() - t0) / (double)gets * 1e6;
  t0 = now_s();
  pb_registry_destroy(r);
  c.destroy_s = now_s() - t0;
  return c;
}

/* A benchmarker with n topics past the journal's threshold: microseconds per
 * auto-save that appends one small iteration to the journal (median of 21). */
static double journal_append(size_t n, const char *dir) {
  char path[512], topic[64];
  snprintf(path, sizeof path, "%s/topics%zu", dir, n);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) exit(1);
  pb_gstep(b);
  for (size_t i = 0; i < n || i < 10000; i++) {
    snprintf(topic, sizeof topic, "topic %zu", i % n);
    pb_step(b, topic);
  }
  pb_gstop(b);
  if (pb_save(b) != PB_OK) exit(1);
  pb_set_save_on_gstop(b, 1);
  enum { RUNS = 21 };
  double t[RUNS];
  for (int k = 0; k < RUNS; k++) {
    pb_gstep(b);
    pb_step(b, "topic 0");
    double t0 = now_s();
    if (pb_gstop(b) != PB_OK) exit(1);
    t[k] = (now_s() - t0) * 1e6;
  }
  for (int i = 1; i < RUNS; i++) { /* insertion sort for the median */
    double v = t[i];
    int j = i;
    for (; j > 0 && t[j - 1] > v; j--) t[j] = t[j - 1];
    t[j] = v;
  }
  pb_bench_destroy(b);
  return t[RUNS / 2];
}

static void row(const char *what, size_t n, double a, double b, const char *unit) {
  printf("| %-40s | %8zu | %12.3f | %12.3f %-3s | %6.1fx |\n", what, n, a, b, unit,
         a > 0 ? b / a : 0);
}

int main(int argc, char **argv) {
  size_t nb = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
  size_t nn = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
  size_t nt = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
  char dir[] = "/tmp/pb-scaling.XXXXXX";
  if (!nb || !nn || !nt || !mkdtemp(dir)) {
    fprintf(stderr, "usage: %s [N_BENCHES] [N_NAMES] [N_TOPICS] (all > 0)\n", argv[0]);
    return 2;
  }
  printf(
      "| figure                                   |        n |  at n        |  at 10n          "
      "| ratio  |\n");
  printf("|---|---:|---:|---:|---:|\n");
  double d1 = bench_destroy(nb, dir), d10 = bench_destroy(10 * nb, dir);
  row("destroy all benchmarkers (total)", nb, d1, d10, "s");
  reg_costs r1 = registry(nn, dir), r10 = registry(10 * nn, dir);
  row("registry: get of a new name (each)", nn, r1.create_us, r10.create_us, "us");
  row("registry: get of an existing name (each)", nn, r1.get_us, r10.get_us, "us");
  row("registry: destroy (total)", nn, r1.destroy_s, r10.destroy_s, "s");
  double j1 = journal_append(nt, dir), j10 = journal_append(10 * nt, dir);
  row("auto-save appending to the journal (each)", nt, j1, j10, "us");
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
