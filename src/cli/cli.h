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
 * Compares two multi-rank runs (both with ranks) as pb_compare_runs
 * compares runs of one process: for every benchmarker of a's ranks also in
 * b's (only those in names, nnames of them, unless names is NULL), one
 * PB_COMPARE_TIME row per time topic of either (probe topics only with
 * probes) whose samples are every rank's per-iteration times pooled; Holm's
 * correction over every tested row; rows sorted by impact. No memory rows.
 * iters_a/iters_b are the iterations summed over the ranks. *out (free with
 * pb_comparison_free, before the runs) refers to names owned by the runs.
 * Returns PB_OK, PB_EINVAL (a NULL argument, a run without ranks, bad
 * params) or PB_ENOMEM. Reads the runs only.
 */
int pb_cli_compare_ranks(const pb_run *a, const pb_run *b, const char *const *names, size_t nnames,
                         const pb_compare_params *params, bool probes, pb_comparison **out);
/**
 * The spread across the ranks of topic of benchmarker bench in a (*sa) and
 * in b (*sb), as pb_run_rank_spread. Returns its status.
 */
int pb_cli_rank_extras(const pb_run *a, const pb_run *b, const char *bench, const char *topic,
                       pb_rank_spread *sa, pb_rank_spread *sb);
/**
 * Prints to f the per-rank extras of cb's time rows (from
 * pb_cli_compare_ranks of a and b): max/mean and the slowest rank, before
 * -> after, under a header; the topic column wt display columns wide.
 * Returns PB_OK, PB_EINVAL or PB_ENOMEM.
 */
int pb_cli_print_rank_extras(FILE *f, const pb_run *a, const pb_run *b, const pb_compare_bench *cb,
                             int wt);
/** "porter-bench compare": runs against a baseline. */
int pb_cli_compare(int argc, char **argv);

#endif
