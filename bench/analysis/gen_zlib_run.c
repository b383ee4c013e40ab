/*
 * gen_zlib_run.c - writes a run shaped like issue 9's zlib scenario, to
 * look at the charts at any size:
 *
 *   gen_zlib_run DIR ITERATIONS [--name NAME] [--topics N]
 *
 * DIR/<NAME>_STEP_DICT_DATA.json and _MEMORY.json as the C library writes
 * them with per-step memory tracking: 4 steps a round trip ("prepare",
 * "compress", "decompress", "verify"; verify about 100x shorter than
 * GLOBAL), the probe topics ("<step>_MEMORY_STEP", "gstep_memory",
 * "gstop_memory"), gstop and GLOBAL; memory records for gstep, each step
 * and gstop: RSS growing slowly from 290 to 295 MiB, and in "compress" of
 * every 100th iteration (99, 199, ...) a 150 MiB allocation freed before
 * the step ends (a peak of RSS + 150 MiB, the RSS unchanged). Every 37th
 * iteration's decompress is 10x slow (an outlier). --topics N adds N
 * extra single-call steps to iteration 0 (for the scaling figures).
 * Deterministic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static const char *const STEPS[4] = {"prepare", "compress", "decompress", "verify"};
static const double STEP_S[4] = {40e-6, 530e-6, 180e-6, 7e-6};

typedef struct call {
  char name[48];
  double t;
} call;

/* The calls of iteration it in call order; returns their number. */
static size_t iteration(long it, long extra, call *c) {
  size_t n = 0;
  c[n++] = (call){"gstep_memory", 25e-6 * (0.9 + 0.2 * urand())};
  for (int s = 0; s < 4; s++) {
    double t = STEP_S[s] * (0.9 + 0.2 * urand());
    if (s == 2 && it % 37 == 5) t *= 10;
    if (s == 1 && it % 100 == 99) t *= 1.6; /* the big allocation */
    c[n] = (call){"", t};
    snprintf(c[n++].name, sizeof c[0].name, "%s", STEPS[s]);
    c[n] = (call){"", 20e-6 * (0.9 + 0.2 * urand())};
    snprintf(c[n++].name, sizeof c[0].name, "%s_MEMORY_STEP", STEPS[s]);
  }
  for (long e = 0; it == 0 && e < extra; e++) {
    c[n] = (call){"", 1e-6 * (1 + (double)(e % 7))};
    snprintf(c[n++].name, sizeof c[0].name, "extra_step_%ld", e);
  }
  c[n++] = (call){"gstop", 0.5e-6 * (0.9 + 0.2 * urand())};
  c[n++] = (call){"gstop_memory", 30e-6 * (0.9 + 0.2 * urand())};
  return n;
}

static void write_data(FILE *f, long iters, long extra) {
  call *c = malloc((size_t)(16 + extra) * sizeof *c);
  double start = 1795673620.0, clock = start;
  fputc('[', f);
  for (long it = 0; it < iters; it++) {
    size_t n = iteration(it, extra, c);
    double global = 0;
    for (size_t i = 0; i < n; i++) global += c[i].t;
    global += 2e-6;
    fprintf(f, "%s{\"absolutes\":{", it ? "," : "");
    for (size_t i = 0; i < n; i++) fprintf(f, "\"%s\":%.9f,", c[i].name, c[i].t);
    fprintf(f, "\"GLOBAL\":%.9f},\"info\":{\"STEP_NUMBER\":%ld,\"START_TIME\":%.7f,", global, it,
            clock);
    fprintf(f, "\"STOP_TIME\":%.7f},\"individual_calls\":{", clock + global);
    for (size_t i = 0; i < n; i++)
      fprintf(f, "\"%s\":[{\"time\":%.9f,\"crono_counter\":%zu,\"extra\":null}],", c[i].name,
              c[i].t, i);
    fprintf(f, "\"GLOBAL\":[{\"time\":%.9f,\"crono_counter\":%zu}]}}", global, n);
    clock += global + 10e-6;
  }
  fputs("]\n", f);
  free(c);
}

static void write_memory(FILE *f, long iters) {
  double start = 1795673620.0;
  fputc('[', f);
  for (long it = 0; it < iters; it++) {
    double rss = 290 * MIB + 5 * MIB * (double)it / (double)(iters > 1 ? iters - 1 : 1);
    fprintf(f,
            "%s{\"info\":{\"STEP_NUMBER\":%ld,\"START_TIME\":%.7f,\"STOP_TIME\":%.7f},\"data\":{",
            it ? "," : "", it, start + (double)it * 1e-3, start + (double)it * 1e-3 + 8e-4);
    for (int s = -1; s <= 4; s++) {
      const char *name = s < 0 ? "gstep" : s == 4 ? "gstop" : STEPS[s];
      double r = rss + (s >= 0 && s < 4 ? 2 * MIB : 0) + 0.2 * MIB * urand();
      double peak = s < 0 ? 0 : r + 0.3 * MIB * urand();
      if (s == 1 && it % 100 == 99) peak = r + 150 * MIB;
      fprintf(f,
              "%s\"%s\":[{\"total memory usage\":%.0f,\"cuda memory usage\":null,"
              "\"top_memory_objects\":[],\"crono_counter\":%d,\"extra\":null,"
              "\"max memory usage\":%.0f,\"heap memory usage\":%.0f}]",
              s >= 0 ? "," : "", name, r, s + 1, peak, r * 0.4);
    }
    fputs("}}", f);
  }
  fputs("]\n", f);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: gen_zlib_run DIR ITERATIONS [--name NAME] [--topics N]\n");
    return 2;
  }
  const char *dir = argv[1], *name = "zlib";
  long iters = atol(argv[2]), extra = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--name") == 0) name = argv[i + 1];
    if (strcmp(argv[i], "--topics") == 0) extra = atol(argv[i + 1]);
  }
  if (iters < 1 || extra < 0) return 2;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s_STEP_DICT_DATA.json", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  write_data(f, iters, extra);
  if (fclose(f) != 0) return 1;
  snprintf(path, sizeof path, "%s/%s_MEMORY.json", dir, name);
  if (!(f = fopen(path, "w"))) return 1;
  write_memory(f, iters);
  return fclose(f) != 0;
}
