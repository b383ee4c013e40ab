/*
 * util.h - helpers shared by the porter-bench commands: loading a run with
 * its messages, checking benchmarker names, and text layout (display
 * widths, ellipsis, wrapping, the terminal's width, numbers and times).
 * Everything prints to the FILE given or to stderr for errors; nothing
 * exits. Not thread-safe where it prints (stdio), pure elsewhere.
 */
#ifndef PB_CLI_UTIL_H
#define PB_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "porter_bench_analysis.h"

/**
 * Exit codes of the commands (main.c's usage lists them): 0 ok, 1 bad input
 * data, 2 usage error, 3 compare's regression gate (--fail-if-slower).
 */
enum { PB_EXIT_OK = 0, PB_EXIT_DATA = 1, PB_EXIT_USAGE = 2, PB_EXIT_SLOWER = 3 };

/** Prints the run's load problems to stderr; returns how many there were. */
size_t pb_cli_report_diagnostics(const pb_run *run);

/** Exit code for a load status: 2 for PB_EINVAL, 1 otherwise. */
int pb_cli_load_exit(int status);

/**
 * Loads the run at path (pb_run_load); on failure prints "<prog>: <why>" to
 * stderr and returns its exit code (*out NULL), else PB_EXIT_OK.
 */
int pb_cli_load(const char *prog, const char *path, bool latest, pb_run **out);

/**
 * Checks that each of names[0..n) names a benchmarker of run (of any of
 * its ranks for a multi-rank run). For those
 * that do not, prints to stderr the name, what it is instead when it is a
 * step of a benchmarker, and the run's benchmarkers; returns PB_EXIT_USAGE.
 * Returns PB_EXIT_OK when all are found (or n is 0).
 */
int pb_cli_check_names(const char *prog, const pb_run *run, const char *const *names, size_t n);

/**
 * The benchmarker called name in run: in the run itself, or for a
 * multi-rank run in its lowest rank that has one; NULL if none.
 */
const pb_record *pb_cli_find_any(const pb_run *run, const char *name);

/**
 * Stores into names[0..cap) the distinct benchmarker names of run (of all
 * its ranks for a multi-rank run), in order of first appearance; returns
 * how many there are (may exceed cap). The names are owned by the run.
 */
size_t pb_cli_bench_names(const pb_run *run, const char **names, size_t cap);

/** Display width of a UTF-8 string (one column per code point). */
int pb_cli_width(const char *s);

/** Prints s left-aligned (left true) or right-aligned in width display columns. */
void pb_cli_pad(FILE *f, const char *s, int width, int left);

/**
 * Copies s into buf (size n, always NUL-terminated), shortened to width
 * display columns (at least 3) by replacing its middle with "…" when
 * longer; so both a name's start and its end ("..._MEMORY_STEP") stay.
 */
void pb_cli_ellipsize(const char *s, int width, char *buf, size_t n);

/**
 * Prints text to f word-wrapped to width display columns: the first line
 * after prefix, the next ones after cont (both counted in the width). A word
 * longer than a line is printed whole on its own line. With shell true,
 * every line but the last ends with " \" (counted too), so that a wrapped
 * command line still pastes into a shell as one command. Ends with a newline.
 */
void pb_cli_wrap(FILE *f, const char *prefix, const char *cont, const char *text, int width,
                 bool shell);

/**
 * Width for tables and text: the terminal's columns when stdout is a
 * terminal (TIOCGWINSZ), else $COLUMNS when it is a number, else 80; never
 * less than 80 (tables are laid out for 80 at least).
 */
int pb_cli_term_width(void);

/**
 * Formats a p-value in 7 columns at most: "0.0123" (4 decimals) from 0.001
 * up, "3.2e-05" below, "4e-150" from a 3-digit exponent on, "<1e-300" below
 * 1e-300 and for 0 (an underflow, never a true zero), "-" for NAN.
 */
void pb_cli_format_p(double p, char *buf, size_t n);

/**
 * Formats epoch seconds as local time "2026-11-26 07:15:42 +0000" (the
 * TZ environment variable decides the zone); "-" for NAN or a time that
 * cannot be represented.
 */
void pb_cli_format_time(double epoch, char *buf, size_t n);

/** Bytes of one cell of a pb_cli_table, and the most columns it has. */
#define PB_CLI_CELL 48
#define PB_CLI_MAX_COLS 8

/**
 * A table with one row per topic, for pb_cli_table_layout and
 * pb_cli_table_print: the topic names in column 0, cells formatted by the
 * caller in the others. The caller owns and frees topic and cells.
 */
typedef struct pb_cli_table {
  const char *const *head;                     /* ncol column titles */
  int ncol;                                    /* 2 .. PB_CLI_MAX_COLS */
  const char **topic;                          /* row -> topic name (column 0) */
  char (*cells)[PB_CLI_MAX_COLS][PB_CLI_CELL]; /* row -> cells of columns 1.. (0 unused) */
  size_t rows, hidden;                         /* hidden: probe rows left out */
  int width[PB_CLI_MAX_COLS];                  /* set by pb_cli_table_layout */
} pb_cli_table;

/**
 * Sets tb->width for a table width display columns wide: each column as
 * wide as its widest cell or title, the topic column what is left (8 at
 * least, never more than its longest name).
 */
void pb_cli_table_layout(pb_cli_table *tb, int width);

/**
 * Prints the laid-out table to stdout: the titles, a row per topic (names
 * ellipsized to their column), and a note when probe rows are hidden.
 */
void pb_cli_table_print(const pb_cli_table *tb);

#endif
