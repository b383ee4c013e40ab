/*
 * cmd_plots.c - "porter-bench plots": the original's plot CLI, same flags
 * and defaults, on the shared argument parser (args.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char HELP[] =
    "usage: porter-bench plots [--path P] [--output DIR] [--topics A B ...] [--show]\n"
    "                          [--no-latest] [--format png|svg|pdf] [--show-probes]\n"
    "\n"
    "Write the charts of a run: per benchmarker <name>_times, <name>_bars,\n"
    "<name>_crono, and <name>_memory / <name>_cuda_memory when memory / GPU\n"
    "memory was recorded. 'porter-bench-plots' is the same command.\n"
    "For a multi-rank run (a job folder of rank-N folders): per benchmarker\n"
    "<name>_ranks (a rank x iteration heat map of GLOBAL), <name>_rank_spread\n"
    "(per topic, the min, mean and max over the ranks of each rank's mean, and\n"
    "the slowest rank), and the charts above of its slowest rank (largest\n"
    "GLOBAL mean; their titles name the rank).\n"
    "\n"
    "options:\n"
    "  --path P       a run folder, a folder of runs, or a folder holding\n"
    "                 TICTOC_PERFORMANCE/ or PORTER_BENCH_PERFORMANCE/ (default .):\n"
    "                 the latest run is used\n"
    "  --output DIR   folder for the charts (default PLOTS)\n"
    "  --topics A ... only these benchmarkers (default all); a name that is not a\n"
    "                 benchmarker of the run is an error\n"
    "  --show         open the charts with the desktop's viewer (needs a display)\n"
    "  --no-latest    treat --path as the run folder itself\n"
    "  --format F     png (default), svg or pdf\n"
    "  --show-probes  also draw the time topics of porter_bench's own memory\n"
    "                 probes (gstep_memory, gstop_memory, <step>_MEMORY_STEP)\n"
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

typedef struct plots_opts {
  const char *path, *out, *format;
  bool no_latest, show, probes;
  pb_cli_list topics;
  pb_format fmt;
} plots_opts;

static const char PROG[] = "porter-bench plots";

/* Parses the arguments into *o; returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, plots_opts *o) {
  const pb_cli_opt opts[] = {
      {"path", 0, PB_CLI_VALUE, NULL, &o->path, NULL},
      {"output", 0, PB_CLI_VALUE, NULL, &o->out, NULL},
      {"topics", 0, PB_CLI_LIST, NULL, NULL, &o->topics},
      {"show", 0, PB_CLI_FLAG, &o->show, NULL, NULL},
      {"no-latest", 0, PB_CLI_FLAG, &o->no_latest, NULL, NULL},
      {"format", 0, PB_CLI_VALUE, NULL, &o->format, NULL},
      {"show-probes", 0, PB_CLI_FLAG, &o->probes, NULL, NULL},
  };
  const pb_cli_spec spec = {PROG, HELP, opts, sizeof opts / sizeof *opts, NULL, 0, 0, NULL};
  pb_cli_parse_result r = pb_cli_parse(&spec, argc, argv);
  if (r == PB_CLI_PARSED && pb_format_parse(o->format, &o->fmt) != PB_OK)
    r = pb_cli_usage_error(&spec, "--format must be png, svg or pdf, not '%s'", o->format);
  return r == PB_CLI_PARSED ? -1 : r == PB_CLI_HELP ? PB_EXIT_OK : PB_EXIT_USAGE;
}

/* True when benchmarker name is plotted: --topics names it, or is not given. */
static bool wanted(const plots_opts *o, const char *name) {
  bool want = !o->topics.given;
  for (size_t t = 0; t < o->topics.n && !want; t++) want = strcmp(o->topics.items[t], name) == 0;
  return want;
}

/* For a multi-rank run, the rank whose charts stand for each benchmarker. */
static void print_slowest(const plots_opts *o, const pb_run *run, const char **names, size_t n) {
  printf(
      "Multi-rank run (%zu ranks): per benchmarker <name>_ranks (GLOBAL per rank\n"
      "and iteration), <name>_rank_spread (each topic's spread across the ranks),\n"
      "and the other charts of its slowest rank (largest GLOBAL mean):\n",
      pb_run_rank_count(run));
  for (size_t i = 0; i < n; i++) {
    pb_rank_spread sp;
    if (!wanted(o, names[i]) || pb_run_rank_spread(run, names[i], "GLOBAL", &sp) != PB_OK) continue;
    if (sp.ranks)
      printf("  %s: slowest rank %d\n", names[i], sp.max_rank);
    else
      printf("  %s: no GLOBAL times, no charts\n", names[i]);
  }
}

/* Prints "Plotting benchmarkers: a b", and for a multi-rank run which
 * rank's charts stand for each benchmarker. */
static void print_plan(const plots_opts *o, const pb_run *run) {
  size_t n = pb_cli_bench_names(run, NULL, 0);
  const char **names = malloc((n ? n : 1) * sizeof *names);
  n = names ? pb_cli_bench_names(run, names, n) : 0;
  printf("Plotting benchmarkers:");
  for (size_t i = 0; i < n; i++)
    if (wanted(o, names[i])) printf(" %s", names[i]);
  printf("\n");
  if (pb_run_rank_count(run)) print_slowest(o, run, names, n);
  free(names);
}

/* Writes the charts of run; prints what it does. Returns the exit code. */
static int plot_run(const plots_opts *o, const pb_run *run) {
  printf("Run: %s\n", pb_run_path(run));
  print_plan(o, run);
  written w = {NULL, 0};
  pb_error err;
  int rc = PB_EXIT_OK;
  const char *const *topics = o->topics.given ? o->topics.items : NULL;
  const pb_chart_options copts = {.show_probes = o->probes};
  if (pb_plots_write_opts(run, o->out, topics, o->topics.n, o->fmt, &copts, on_file, &w, &err) !=
      PB_OK) {
    fprintf(stderr, "%s: %s\n", PROG, err.message);
    rc = PB_EXIT_DATA;
  }
  char *absout = realpath(o->out, NULL);
  printf("%s %s/\n", rc == PB_EXIT_OK ? "All plots saved to:" : "Plots saved, some failed, to:",
         absout ? absout : o->out);
  free(absout);
  if (o->show) show(&w, o->out);
  for (size_t i = 0; i < w.n; i++) free(w.files[i]);
  free(w.files);
  return rc;
}

int pb_cli_plots(int argc, char **argv) {
  plots_opts o = {".", "PLOTS", "png", false, false, false, {NULL, 0, false}, PB_FORMAT_PNG};
  int rc = parse_args(argc, argv, &o);
  if (rc != -1) {
    pb_cli_list_free(&o.topics);
    return rc;
  }
  char *abs = realpath(o.path, NULL);
  printf("Loading record from: %s\n", abs ? abs : o.path);
  free(abs);
  fflush(stdout);
  pb_run *run = NULL;
  rc = pb_cli_load(PROG, o.path, !o.no_latest, &run);
  if (rc == PB_EXIT_OK) rc = pb_cli_check_names(PROG, run, o.topics.items, o.topics.n);
  if (rc == PB_EXIT_OK) rc = plot_run(&o, run);
  fflush(stdout);
  if (run && pb_cli_report_diagnostics(run) && rc == PB_EXIT_OK) rc = PB_EXIT_DATA;
  pb_run_free(run);
  pb_cli_list_free(&o.topics);
  return rc;
}
