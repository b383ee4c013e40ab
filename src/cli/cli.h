/*
 * cli.h - the porter-bench command's subcommands. Each takes the arguments
 * after its name and returns the exit code (PB_EXIT_*, util.h): 0 ok, 1 bad
 * input data, 2 usage, 3 (compare only) a regression beyond --fail-if-slower.
 * Their shared helpers are in util.h, their argument parser in args.h.
 */
#ifndef PB_CLI_H
#define PB_CLI_H

#include "args.h"
#include "util.h"

/** "porter-bench plots": the charts of a run. */
int pb_cli_plots(int argc, char **argv);
/** "porter-bench summary": a table per benchmarker of a run. */
int pb_cli_summary(int argc, char **argv);
/**
 * The summary of a multi-rank run (pb_run_rank_count(run) > 0): the job,
 * then per benchmarker and topic the spread of the per-rank means.
 */
void pb_cli_summary_ranks(const pb_run *run, bool probes, int width);
/**
 * Prints to f the comparison of two multi-rank runs (both with ranks): per
 * benchmarker of a found in b and per topic, the mean of the per-rank means
 * in each, the change, the p-value of a U test over every rank's
 * per-iteration times, max/mean and the slowest rank before -> after.
 * la and lb label the runs. Returns PB_OK, PB_EINVAL (a run without ranks)
 * or PB_ENOMEM. Not yet called by "compare" (for the lead to wire in).
 */
int pb_cli_compare_ranks(FILE *f, const pb_run *a, const pb_run *b, const char *la, const char *lb);
/** "porter-bench compare": runs against a baseline. */
int pb_cli_compare(int argc, char **argv);

#endif
