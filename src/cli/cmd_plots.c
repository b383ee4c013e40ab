/*
 * cmd_plots.c - "porter-bench plots": the original's plot CLI, same flags
 * and defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char HELP[] =
    "usage: porter-bench plots [--path P] [--output DIR] [--topics A B ...] [--show]\n"
    "                          [--no-latest] [--format png|svg|pdf]\n"
    "\n"
    "Write the charts of a run: per benchmarker <name>_times, <name>_bars,\n"
    "<name>_crono, and <name>_memory / <name>_cuda_memory when memory / GPU\n"
    "memory was recorded. 'porter-bench-plots' is the same command.\n"
    "\n"
    "options:\n"
    "  --path P       a run folder, a folder of runs, or a folder holding\n"
    "                 TICTOC_PERFORMANCE/ or PORTER_BENCH_PERFORMANCE/ (default .):\n"
    "                 the latest run is used\n"
    "  --output DIR   folder for the charts (default PLOTS)\n"
    "  --topics A ... only these benchmarkers (default all)\n"
    "  --show         open the charts with the desktop's viewer (needs a display)\n"
    "  --no-latest    treat --path as the run folder itself\n"
    "  --format F     png (default), svg or pdf\n"
    "  -h, --help     show this help\n";

typedef struct written {
  char **files;
  size_t n;
} written;

static void on_file(const char *file, void *user) {
  written *w = user;
  printf("  Saved: %s\n", file);
  char **f = realloc(w->files, (w->n + 1) * sizeof *f);
  if (!f) return;
  w->files = f;
  w->files[w->n] = strdup(file);
  if (w->files[w->n]) w->n++;
}

static void show(const written *w, const char *dir) {
  const char *d = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
  if (!(d && *d) && !(wl && *wl)) {
    printf("--show: no display (DISPLAY and WAYLAND_DISPLAY are unset); the charts are in %s/\n",
           dir);
    return;
  }
  for (size_t i = 0; i < w->n; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      execlp("xdg-open", "xdg-open", w->files[i], (char *)NULL);
      _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      printf("--show: could not open %s with xdg-open\n", w->files[i]);
      return;
    }
  }
}

int pb_cli_plots(int argc, char **argv) {
  const char *path = ".", *out = "PLOTS";
  bool latest = true, do_show = false;
  pb_format fmt = PB_FORMAT_PNG;
  const char **topics = NULL;
  size_t ntopics = 0;
  int rc = PB_EXIT_OK;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(HELP, stdout);
      free(topics);
      return PB_EXIT_OK;
    } else if (strcmp(a, "--path") == 0 || strcmp(a, "--output") == 0 ||
               strcmp(a, "--format") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "porter-bench plots: %s needs a value\n\n%s", a, HELP);
        free(topics);
        return PB_EXIT_USAGE;
      }
      const char *v = argv[++i];
      if (a[2] == 'p')
        path = v;
      else if (a[2] == 'o')
        out = v;
      else if (pb_format_parse(v, &fmt) != PB_OK) {
        fprintf(stderr, "porter-bench plots: --format must be png, svg or pdf, not '%s'\n", v);
        free(topics);
        return PB_EXIT_USAGE;
      }
    } else if (strcmp(a, "--topics") == 0) {
      free(topics);
      topics = calloc((size_t)argc, sizeof *topics);
      if (!topics) return PB_EXIT_DATA;
      ntopics = 0;
      while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) topics[ntopics++] = argv[++i];
      if (ntopics == 0) {
        fprintf(stderr, "porter-bench plots: --topics needs at least one name\n\n%s", HELP);
        free(topics);
        return PB_EXIT_USAGE;
      }
    } else if (strcmp(a, "--show") == 0) {
      do_show = true;
    } else if (strcmp(a, "--no-latest") == 0) {
      latest = false;
    } else {
      fprintf(stderr, "porter-bench plots: unknown argument '%s'\n\n%s", a, HELP);
      free(topics);
      return PB_EXIT_USAGE;
    }
  }
  char *abs = realpath(path, NULL);
  printf("Loading record from: %s\n", abs ? abs : path);
  free(abs);
  pb_run *run = NULL;
  pb_error err;
  int st = pb_run_load(path, latest, &run, &err);
  if (st) {
    fprintf(stderr, "porter-bench plots: %s\n", err.message);
    free(topics);
    return pb_cli_load_exit(st);
  }
  printf("Run: %s\n", pb_run_path(run));
  for (size_t t = 0; t < ntopics; t++)
    if (!pb_run_find(run, topics[t])) printf("Warning: topic not found in record: %s\n", topics[t]);
  printf("Plotting benchmarkers:");
  for (size_t i = 0; i < pb_run_record_count(run); i++) {
    const char *name = pb_record_name(pb_run_record(run, i));
    bool want = !topics;
    for (size_t t = 0; t < ntopics && !want; t++) want = strcmp(topics[t], name) == 0;
    if (want) printf(" %s", name);
  }
  printf("\n");
  written w = {NULL, 0};
  st = pb_plots_write(run, out, topics, ntopics, fmt, on_file, &w, &err);
  if (st) {
    fprintf(stderr, "porter-bench plots: %s\n", err.message);
    rc = st == PB_EIO || st == PB_ECHART || st == PB_ENOMEM ? PB_EXIT_DATA : PB_EXIT_DATA;
  }
  char *absout = realpath(out, NULL);
  printf("All plots saved to: %s/\n", absout ? absout : out);
  free(absout);
  if (do_show) show(&w, out);
  fflush(stdout);
  if (pb_cli_report_diagnostics(run)) rc = PB_EXIT_DATA;
  for (size_t i = 0; i < w.n; i++) free(w.files[i]);
  free(w.files);
  pb_run_free(run);
  free(topics);
  return rc;
}
