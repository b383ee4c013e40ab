/*
 * args.h - the one argument parser of every porter-bench command.
 *
 * A command describes its options in a table and hands argv to
 * pb_cli_parse(), which fills the variables the table points to. The rules,
 * the same for every command:
 *
 * - Long options are matched by their exact name ("--topics"); no prefix
 *   is accepted (a prefix of one option may be the whole name of another,
 *   as --show and --show-probes). An unknown option that is a prefix of one
 *   or more known ones gets them as a suggestion in the error.
 * - A short alias is one letter ("-h"); short options are not bundled.
 * - PB_CLI_FLAG takes no value ("--show"; "--show=x" is an error).
 * - PB_CLI_VALUE takes one: "--output DIR" or "--output=DIR". The value may
 *   begin with '-' only in the "=" form. Given twice, the last one wins.
 * - PB_CLI_LIST takes one or more: "--topics a b c" takes the following
 *   arguments up to the next one that begins with '-' (or "--", which ends
 *   the list and starts the positional arguments); "--topics=a" adds one.
 *   Given twice, the lists are joined. A list option with no value is an
 *   error.
 * - PB_CLI_REPEAT takes one value, as PB_CLI_VALUE, each time it is given,
 *   and appends it to a list: "--label a --label b" (a name a run, where a
 *   PB_CLI_LIST would swallow the runs that follow: "--label a RUN_A").
 * - Arguments that do not begin with '-' (and "-" itself), and every
 *   argument after "--", are positional; the command says how many it takes.
 * - "-h" / "--help" print the command's help to stdout.
 *
 * Errors go to stderr as "<prog>: <what>", then the help's first paragraph
 * (the usage lines) and "Try '<prog> --help' for more.". The caller exits
 * with PB_EXIT_USAGE (2).
 *
 * Values point into argv (no copies); lists are arrays allocated by the
 * parser, freed with pb_cli_list_free(). Not thread-safe (no global state,
 * but the spec's targets are written without locks).
 *
 * Example (a command taking two or more RUNs, an output folder, a flag and
 * a list of names; note that a list stops at the next option or "--", so
 * "--topics a b -- RUN_A RUN_B" or "RUN_A RUN_B --topics a b"):
 *
 *   const char *out = "COMPARE";
 *   bool no_charts = false;
 *   pb_cli_list topics = {0}, runs = {0};
 *   const pb_cli_opt opts[] = {
 *       {"output", 'o', PB_CLI_VALUE, NULL, &out, NULL},
 *       {"no-charts", 0, PB_CLI_FLAG, &no_charts, NULL, NULL},
 *       {"topics", 0, PB_CLI_LIST, NULL, NULL, &topics},
 *   };
 *   const pb_cli_spec spec = {"porter-bench compare", HELP, opts, 3, &runs, 2, 0, "RUN"};
 *   pb_cli_parse_result r = pb_cli_parse(&spec, argc, argv);
 *   int rc = r == PB_CLI_HELP ? PB_EXIT_OK : r == PB_CLI_ERROR ? PB_EXIT_USAGE : run(...);
 *   pb_cli_list_free(&topics);
 *   pb_cli_list_free(&runs);
 *
 * After loading, pb_cli_check_names() (util.h) rejects --topics names that
 * are not benchmarkers of the run.
 */
#ifndef PB_CLI_ARGS_H
#define PB_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/** What an option takes. */
typedef enum pb_cli_opt_kind {
  PB_CLI_FLAG,  /**< no value: sets *flag to true */
  PB_CLI_VALUE, /**< one value: sets *value */
  PB_CLI_LIST,  /**< one or more values: appended to *list */
  PB_CLI_REPEAT /**< one value per occurrence: appended to *list */
} pb_cli_opt_kind;

/** A list of values (pointers into argv); given is true once the option was seen. */
typedef struct pb_cli_list {
  const char **items;
  size_t n;
  bool given;
} pb_cli_list;

/** One option of a command's table. */
typedef struct pb_cli_opt {
  const char *name;     /**< long name without "--", e.g. "topics" */
  char short_name;      /**< one-letter alias ('h' for "-h"), 0 for none */
  pb_cli_opt_kind kind; /**< what it takes */
  bool *flag;           /**< PB_CLI_FLAG: set to true when given */
  const char **value;   /**< PB_CLI_VALUE: set to the value */
  pb_cli_list *list;    /**< PB_CLI_LIST, PB_CLI_REPEAT: values appended */
} pb_cli_opt;

/** A command's arguments: its options, its positional arguments and its help. */
typedef struct pb_cli_spec {
  const char *prog;       /**< name in messages: "porter-bench plots" */
  const char *help;       /**< full help; its first paragraph is the usage */
  const pb_cli_opt *opts; /**< the options ("help" / 'h' is built in) */
  size_t nopts;
  pb_cli_list *positional;     /**< receives positional arguments; NULL when none are taken */
  size_t min_positional;       /**< fewer is an error */
  size_t max_positional;       /**< more is an error; 0 for no limit */
  const char *positional_name; /**< for messages: "PATH", "RUN" */
} pb_cli_spec;

/** Result of pb_cli_parse. */
typedef enum pb_cli_parse_result {
  PB_CLI_PARSED, /**< go on: the targets are filled */
  PB_CLI_HELP,   /**< --help was given and printed: exit 0 */
  PB_CLI_ERROR   /**< a usage error was printed to stderr: exit 2 */
} pb_cli_parse_result;

/**
 * Parses argc arguments of argv (the command's own, without its name) by
 * spec's rules above, filling the targets of spec->opts and
 * spec->positional. Out of memory is reported as an error. On any result,
 * the lists may hold values: free them with pb_cli_list_free().
 */
pb_cli_parse_result pb_cli_parse(const pb_cli_spec *spec, int argc, char **argv);

/** Frees a list's array (not the strings, which belong to argv). NULL is a no-op. */
void pb_cli_list_free(pb_cli_list *list);

/**
 * Prints "<prog>: <message>" then the usage and a hint to stderr, as the
 * parser does for its own errors (for checks a command makes after parsing,
 * e.g. a value out of range). Returns PB_CLI_ERROR.
 */
pb_cli_parse_result pb_cli_usage_error(const pb_cli_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
