/*
 * bench_main.c - porter_bench_bench, the overhead benchmark of the recording
 * library (issue "Speed and memory"). Uses only the public API.
 *
 *   porter_bench_bench [--quick] [--json FILE] [--rounds N] [--autosave-budget S]
 *
 * Prints a table (figure, median, runs, target, the original Python
 * library's value, verdict) and, with --json, writes the same figures to
 * FILE. Every file it saves goes into a mkdtemp folder removed at the end.
 * Exit status: 0 whether or not targets are met (these are benchmarks, not
 * tests); 1 on a usage or setup error.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: porter_bench_bench [--quick] [--accum] [--json FILE] [--rounds N] "
          "[--autosave-budget SECONDS]\n"
          "  --quick               small batches, few runs: a smoke test (seconds)\n"
          "  --accum               only figure 0 (recording while records accumulate)\n"
          "  --json FILE           also write every figure as JSON to FILE\n"
          "  --rounds N            runs of each micro figure (default 15, quick 5; max 64)\n"
          "  --autosave-budget S   stop the auto-save loop after S seconds and extrapolate\n"
          "                        (default 30, quick 3)\n");
}

/* Removes the (flat) temporary folder and the files in it. */
static void remove_tmpdir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char path[600];
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      remove(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

static void quiet_warning(const char *message, void *user_data) {
  (void)user_data;
  fprintf(stderr, "porter_bench: %s\n", message);
}

int main(int argc, char **argv) {
  pbb_config cfg = {.quick = false, .rounds = 0, .scale = 1, .iters = 100000};
  const char *json = NULL;
  double budget = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      cfg.quick = true;
    } else if (strcmp(argv[i], "--accum") == 0) {
      cfg.accum_only = true;
    } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json = argv[++i];
    } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      cfg.rounds = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--autosave-budget") == 0 && i + 1 < argc) {
      budget = atof(argv[++i]);
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 1;
    }
  }
  if (cfg.rounds <= 0) cfg.rounds = cfg.quick ? 5 : 15;
  if (cfg.rounds > 64) cfg.rounds = 64;
  if (cfg.quick) cfg.scale = 0.1;
  cfg.autosave_budget_s = budget > 0 ? budget : (cfg.quick ? 3 : 30);

  const char *tmp = getenv("TMPDIR");
  snprintf(cfg.tmpdir, sizeof cfg.tmpdir, "%s/porter_bench_bench.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(cfg.tmpdir)) {
    perror("bench: mkdtemp");
    return 1;
  }
  pb_set_warning_handler(quiet_warning, NULL);
  cfg.load_start = pbb_loadavg();

  /* The library's memory probe state is process-wide and starts at the first
   * pb_enable_memory_tracking: start it now, while the process is small, as a
   * program that enables tracking at its start would (docs/BENCHMARKS.md). */
  pbb_init_memory_probe(&cfg);
  if (!cfg.accum_only) pbb_run_records(&cfg); /* next: the RSS figures want a fresh heap */
  pbb_run_accum(&cfg);
  if (!cfg.accum_only) {
    pbb_run_micro(&cfg);
    pbb_run_threads(&cfg);
  }
  remove_tmpdir(cfg.tmpdir);

  pbb_print_table(&cfg);
  if (json && pbb_write_json(json, &cfg) != 0) {
    perror("bench: writing the JSON file");
    return 1;
  }
  return 0;
}
