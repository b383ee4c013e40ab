/*
 * gen_run.c - writes a synthetic porter_bench run for benchmarks and tests:
 *
 *   gen_run DIR ITERATIONS STEPS [--memory] [--cuda] [--indent] [--name NAME]
 *           [--seed N] [--factor F]
 *
 * DIR/<NAME>_STEP_DICT_DATA.json (+ _STEP_DICT_SUMMARY.json placeholder and
 * _MEMORY.json with --memory) in the record schema: STEPS user steps per
 * iteration ("step0".., one of them called twice in a row), gstop and GLOBAL;
 * times with 9 decimals (exact ns) as the C library writes them; every 97th
 * iteration is a slow outlier and every 50th lacks the last user step.
 * Deterministic for a seed; --factor multiplies step1's times. Compact JSON
 * unless --indent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static void fmt_time(char *buf, size_t n, uint64_t ns) {
  snprintf(buf, n, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
           (unsigned long long)(ns % 1000000000u));
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr,
            "usage: gen_run DIR ITERATIONS STEPS [--memory] [--cuda] [--indent] [--name N] [--seed "
            "N] [--factor F]\n");
    return 2;
  }
  const char *dir = argv[1];
  long iters = atol(argv[2]), steps = atol(argv[3]);
  bool memory = false, cuda = false, indent = false;
  const char *name = "bench";
  double factor = 1.0; /* multiplies step1's times (for compare demos) */
  for (int i = 4; i < argc; i++) {
    if (strcmp(argv[i], "--memory") == 0)
      memory = true;
    else if (strcmp(argv[i], "--cuda") == 0)
      cuda = memory = true;
    else if (strcmp(argv[i], "--indent") == 0)
      indent = true;
    else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
      name = argv[++i];
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      rng ^= (uint64_t)atoll(argv[++i]) * 0x2545F4914F6CDD1Dull;
    else if (strcmp(argv[i], "--factor") == 0 && i + 1 < argc)
      factor = atof(argv[++i]);
  }
  if (iters < 1 || steps < 1 || steps > 1000) return 2;
  const char *nl = indent ? "\n" : "", *sp = indent ? " " : "";
  char path[4096], t[64];
  snprintf(path, sizeof path, "%s/%s_STEP_DICT_DATA.json", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return 1;
  }
  uint64_t *ns = malloc((size_t)(steps + 3) * sizeof *ns);
  double start = 1795673620.0;
  fputc('[', f);
  for (long it = 0; it < iters; it++) {
    bool outlier = it % 97 == 13, missing = it % 50 == 7 && steps > 1;
    long nsteps = missing ? steps - 1 : steps;
    uint64_t global = 0;
    for (long s = 0; s < nsteps; s++) {
      ns[s] = (uint64_t)((1.0 + (double)s) * 1e6 * (0.9 + 0.2 * urand()) *
                         (outlier && s == 0 ? 12 : 1) * (s == 1 ? factor : 1.0));
      global += ns[s];
    }
    ns[nsteps] = (uint64_t)(2000 + 500 * urand()); /* gstop */
    global += ns[nsteps] + 300;
    fprintf(f, "%s%s{%s\"absolutes\":%s{", it ? "," : "", nl, nl, sp);
    for (long s = 0; s < nsteps; s++) {
      /* step1 is called twice in a row: its absolute is the sum */
      fmt_time(t, sizeof t, ns[s]);
      fprintf(f, "%s\"step%ld\":%s%s", s ? "," : "", s, sp, t);
    }
    fmt_time(t, sizeof t, ns[nsteps]);
    fprintf(f, ",\"gstop\":%s%s", sp, t);
    fmt_time(t, sizeof t, global);
    fprintf(f, ",\"GLOBAL\":%s%s},%s", sp, t, nl);
    double st = start + (double)it * 0.05;
    fprintf(f, "\"info\":%s{\"STEP_NUMBER\":%s%ld,\"START_TIME\":%s%.7f,\"STOP_TIME\":%s%.7f},%s",
            sp, sp, it, sp, st, sp, st + (double)global * 1e-9, nl);
    fprintf(f, "\"individual_calls\":%s{", sp);
    long crono = 0;
    for (long s = 0; s < nsteps; s++) {
      fprintf(f, "%s%s\"step%ld\":%s[", s ? "," : "", nl, s, sp);
      if (s == 1) {
        fmt_time(t, sizeof t, ns[s] / 2);
        fprintf(f, "{\"time\":%s%s,\"crono_counter\":%s%ld,\"extra\":%snull},", sp, t, sp, crono++,
                sp);
        fmt_time(t, sizeof t, ns[s] - ns[s] / 2);
      } else {
        fmt_time(t, sizeof t, ns[s]);
      }
      fprintf(f, "{\"time\":%s%s,\"crono_counter\":%s%ld,\"extra\":%snull}]", sp, t, sp, crono++,
              sp);
    }
    fmt_time(t, sizeof t, ns[nsteps]);
    fprintf(f, ",%s\"gstop\":%s[{\"time\":%s%s,\"crono_counter\":%s%ld,\"extra\":%snull}]", nl, sp,
            sp, t, sp, crono++, sp);
    fmt_time(t, sizeof t, global);
    fprintf(f, ",%s\"GLOBAL\":%s[{\"time\":%s%s,\"crono_counter\":%s%ld}]}}", nl, sp, sp, t, sp,
            crono);
  }
  fprintf(f, "%s]\n", nl);
  if (fclose(f) != 0) return 1;

  if (memory) {
    snprintf(path, sizeof path, "%s/%s_MEMORY.json", dir, name);
    f = fopen(path, "w");
    if (!f) return 1;
    fputc('[', f);
    for (long it = 0; it < iters; it++) {
      double st = start + (double)it * 0.05;
      fprintf(
          f,
          "%s%s{\"info\":{\"STEP_NUMBER\":%ld,\"START_TIME\":%.7f,\"STOP_TIME\":%.7f},\"data\":{",
          it ? "," : "", nl, it, st, st + 0.04);
      long crono = 0;
      for (long s = -1; s <= steps; s++) {
        char topic[32];
        if (s < 0)
          snprintf(topic, sizeof topic, "gstep");
        else if (s == steps)
          snprintf(topic, sizeof topic, "gstop");
        else
          snprintf(topic, sizeof topic, "step%ld", s);
        /* a working set allocated in step0 and freed at gstop, slow growth,
         * and a burst every 1000th iteration */
        double rss = 100e6 + (s >= 0 && s < steps ? 40e6 : 0) + (double)(it % 5000) * 2e3 +
                     1e6 * urand() + (it % 1000 == 999 ? 30e6 : 0);
        long heap = (long)(rss * 0.6);
        fprintf(f,
                "%s\"%s\":[{\"total memory usage\":%.0f,\"cuda memory usage\":", s >= 0 ? "," : "",
                topic, rss);
        if (cuda)
          /* as porter_bench (C) writes them: reserved = allocated,
           * max_reserved = max_allocated, then its own keys */
          fprintf(f,
                  "{\"allocated\":%ld,\"reserved\":%ld,\"max_allocated\":%ld,\"max_reserved\":%ld,"
                  "\"device_used\":%ld,\"device_total\":150754820096,\"devices\":[{\"index\":0,"
                  "\"process\":%ld,\"used\":%ld,\"total\":150754820096}]}",
                  (long)(rss * 2), (long)(rss * 2), (long)(rss * 2.5), (long)(rss * 2.5),
                  (long)(rss * 3), (long)(rss * 2), (long)(rss * 3));
        else
          fputs("null", f);
        fprintf(f,
                ",\"top_memory_objects\":[],\"crono_counter\":%ld,\"extra\":null,"
                "\"max memory usage\":%.0f,\"heap memory usage\":%ld}]",
                crono++, rss + 2e6 * urand(), heap);
      }
      fputs("}}", f);
    }
    fprintf(f, "%s]\n", nl);
    if (fclose(f) != 0) return 1;
  }
  free(ns);
  return 0;
}
