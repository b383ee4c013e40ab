/*
 * cli.h - the porter-bench command's subcommands. Each takes the arguments
 * after its name and returns the exit code: 0 ok, 1 bad input data, 2 usage.
 */
#ifndef PB_CLI_H
#define PB_CLI_H

#include <stdio.h>

#include "porter_bench_analysis.h"

enum { PB_EXIT_OK = 0, PB_EXIT_DATA = 1, PB_EXIT_USAGE = 2 };

int pb_cli_plots(int argc, char **argv);
int pb_cli_summary(int argc, char **argv);
int pb_cli_compare(int argc, char **argv);

/* Prints the run's load problems to stderr; returns how many there were. */
size_t pb_cli_report_diagnostics(const pb_run *run);
/* Prints s left-aligned (left true) or right-aligned in width display columns. */
void pb_cli_pad(FILE *f, const char *s, int width, int left);
/* Display width of a UTF-8 string (one column per code point). */
int pb_cli_width(const char *s);
/* Exit code for a load status: 2 for PB_EINVAL, 1 otherwise. */
int pb_cli_load_exit(int status);

#endif
