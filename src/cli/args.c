/*
 * args.c - the shared argument parser (rules in args.h).
 */
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the help's first paragraph (up to the first blank line). */
static void print_usage(FILE *f, const char *help) {
  const char *end = strstr(help, "\n\n");
  fprintf(f, "%.*s\n", end ? (int)(end - help) : (int)strlen(help), help);
}

__attribute__((format(printf, 2, 0))) static void verror(const pb_cli_spec *spec, const char *fmt,
                                                         va_list ap) {
  fprintf(stderr, "%s: ", spec->prog);
  vfprintf(stderr, fmt, ap);
  fputs("\n\n", stderr);
  print_usage(stderr, spec->help);
  fprintf(stderr, "Try '%s --help' for more.\n", spec->prog);
}

pb_cli_parse_result pb_cli_usage_error(const pb_cli_spec *spec, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verror(spec, fmt, ap);
  va_end(ap);
  return PB_CLI_ERROR;
}

void pb_cli_list_free(pb_cli_list *list) {
  if (!list) return;
  free(list->items);
  list->items = NULL;
  list->n = 0;
}

/* Appends v; false when out of memory. The array grows to argc at most. */
static bool list_add(pb_cli_list *l, const char *v) {
  const char **p = realloc(l->items, (l->n + 1) * sizeof *p);
  if (!p) return false;
  l->items = p;
  l->items[l->n++] = v;
  return true;
}

/* The option called name (len bytes; a long name) or with short letter c. */
static const pb_cli_opt *find_opt(const pb_cli_spec *spec, const char *name, size_t len, char c) {
  for (size_t i = 0; i < spec->nopts; i++) {
    const pb_cli_opt *o = &spec->opts[i];
    if (name ? (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
             : (c && o->short_name == c))
      return o;
  }
  return NULL;
}

/* "unknown option '--sh'" plus the known options it is a prefix of. */
static pb_cli_parse_result unknown(const pb_cli_spec *spec, const char *arg, size_t len) {
  char hint[256] = "";
  size_t h = 0;
  if (arg[0] == '-' && arg[1] == '-' && len > 2) {
    for (size_t i = 0; i < spec->nopts && h < sizeof hint - 64; i++) {
      if (strncmp(spec->opts[i].name, arg + 2, len - 2) != 0) continue;
      h += (size_t)snprintf(hint + h, sizeof hint - h, "%s--%s", h ? " or " : " (did you mean ",
                            spec->opts[i].name);
      if (h > sizeof hint - 64) h = sizeof hint - 64; /* a cut hint, never an overrun */
    }
    if (h) snprintf(hint + h, sizeof hint - h, "?)");
  }
  return pb_cli_usage_error(spec, "unknown option '%.*s'%s", (int)len, arg, hint);
}

/* Applies option o at argv[*i]; inline is the "=value" part or NULL. */
static pb_cli_parse_result apply(const pb_cli_spec *spec, const pb_cli_opt *o, const char *shown,
                                 const char *inline_value, int argc, char **argv, int *i) {
  switch (o->kind) {
    case PB_CLI_FLAG:
      if (inline_value) return pb_cli_usage_error(spec, "%s takes no value", shown);
      *o->flag = true;
      return PB_CLI_PARSED;
    case PB_CLI_VALUE:
    case PB_CLI_REPEAT: {
      const char *v = inline_value;
      if (!v && *i + 1 < argc && (argv[*i + 1][0] != '-' || strcmp(argv[*i + 1], "-") == 0))
        v = argv[++*i];
      if (!v) return pb_cli_usage_error(spec, "%s needs a value", shown);
      if (o->kind == PB_CLI_VALUE) {
        *o->value = v;
      } else {
        o->list->given = true;
        if (!list_add(o->list, v)) return pb_cli_usage_error(spec, "out of memory");
      }
      return PB_CLI_PARSED;
    }
    case PB_CLI_LIST: {
      size_t before = o->list->n;
      o->list->given = true;
      if (inline_value && !list_add(o->list, inline_value))
        return pb_cli_usage_error(spec, "out of memory");
      while (!inline_value && *i + 1 < argc &&
             (argv[*i + 1][0] != '-' || strcmp(argv[*i + 1], "-") == 0))
        if (!list_add(o->list, argv[++*i])) return pb_cli_usage_error(spec, "out of memory");
      if (o->list->n == before || (inline_value && !*inline_value))
        return pb_cli_usage_error(spec, "%s needs at least one name", shown);
      return PB_CLI_PARSED;
    }
  }
  return PB_CLI_ERROR;
}

/* One argument that begins with '-' (not "-" nor "--"). */
static pb_cli_parse_result option(const pb_cli_spec *spec, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
    fputs(spec->help, stdout);
    return PB_CLI_HELP;
  }
  if (a[1] != '-') {
    const pb_cli_opt *o = a[2] == 0 ? find_opt(spec, NULL, 0, a[1]) : NULL;
    if (!o) return unknown(spec, a, strlen(a));
    return apply(spec, o, a, NULL, argc, argv, i);
  }
  const char *eq = strchr(a, '=');
  size_t len = eq ? (size_t)(eq - a) : strlen(a);
  const pb_cli_opt *o = find_opt(spec, a + 2, len - 2, 0);
  if (!o) return unknown(spec, a, len);
  char shown[128];
  snprintf(shown, sizeof shown, "--%s", o->name);
  return apply(spec, o, shown, eq ? eq + 1 : NULL, argc, argv, i);
}

static pb_cli_parse_result add_positional(const pb_cli_spec *spec, const char *a) {
  if (!spec->positional) return pb_cli_usage_error(spec, "unexpected argument '%s'", a);
  if (spec->max_positional && spec->positional->n >= spec->max_positional)
    return pb_cli_usage_error(spec, "too many arguments: '%s' (at most %zu %s)", a,
                              spec->max_positional, spec->positional_name);
  if (!list_add(spec->positional, a)) return pb_cli_usage_error(spec, "out of memory");
  return PB_CLI_PARSED;
}

pb_cli_parse_result pb_cli_parse(const pb_cli_spec *spec, int argc, char **argv) {
  bool rest = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    pb_cli_parse_result r;
    if (!rest && strcmp(a, "--") == 0) {
      rest = true;
      continue;
    }
    if (!rest && a[0] == '-' && a[1] != 0)
      r = option(spec, argc, argv, &i);
    else
      r = add_positional(spec, a);
    if (r != PB_CLI_PARSED) return r;
  }
  size_t n = spec->positional ? spec->positional->n : 0;
  if (n < spec->min_positional)
    return pb_cli_usage_error(spec, "give at least %zu %s (got %zu)", spec->min_positional,
                              spec->positional_name, n);
  return PB_CLI_PARSED;
}
