/*
 * main.c - porter-bench: load runs, summarise, chart and compare them.
 * Invoked as porter-bench-plots it behaves as "porter-bench plots".
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: porter-bench <command> [options]\n"
    "\n"
    "Load porter_bench runs, summarise, chart and compare them.\n"
    "\n"
    "commands:\n"
    "  plots     write the charts of a run (times, bars, crono, memory, cuda_memory)\n"
    "  summary   print a table of statistics per benchmarker of a run\n"
    "  compare   overlay several runs in charts and test each topic's change\n"
    "\n"
    "Run 'porter-bench <command> --help' for a command's options.\n"
    "Exit codes: 0 ok, 1 bad input data, 2 usage error, 3 compare: a regression\n"
    "beyond --fail-if-slower.\n";

int main(int argc, char **argv) {
  const char *self = argc > 0 ? strrchr(argv[0], '/') : NULL;
  self = self ? self + 1 : (argc > 0 ? argv[0] : "porter-bench");
  if (strcmp(self, "porter-bench-plots") == 0) return pb_cli_plots(argc - 1, argv + 1);
  if (argc < 2) {
    fputs(USAGE, stderr);
    return PB_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(USAGE, stdout);
    return PB_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("porter-bench %s\n", pb_analysis_version());
    return PB_EXIT_OK;
  }
  if (strcmp(cmd, "plots") == 0) return pb_cli_plots(argc - 2, argv + 2);
  if (strcmp(cmd, "summary") == 0) return pb_cli_summary(argc - 2, argv + 2);
  if (strcmp(cmd, "compare") == 0) return pb_cli_compare(argc - 2, argv + 2);
  fprintf(stderr, "porter-bench: unknown command '%s'\n\n%s", cmd, USAGE);
  return PB_EXIT_USAGE;
}
