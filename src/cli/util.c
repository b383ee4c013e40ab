/*
 * util.c - helpers shared by the porter-bench commands (see util.h).
 */
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

size_t pb_cli_report_diagnostics(const pb_run *run) {
  size_t n = pb_run_diagnostic_count(run);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "porter-bench: error: %s\n", pb_run_diagnostic(run, i));
  return n;
}

int pb_cli_load_exit(int status) { return status == PB_EINVAL ? PB_EXIT_USAGE : PB_EXIT_DATA; }

int pb_cli_load(const char *prog, const char *path, bool latest, pb_run **out) {
  pb_error err;
  int st = pb_run_load(path, latest, out, &err);
  if (st == PB_OK) return PB_EXIT_OK;
  fprintf(stderr, "%s: %s\n", prog, err.message);
  return pb_cli_load_exit(st);
}

/* The run's processes: a multi-rank run's ranks, else the run itself. */
static size_t nprocs(const pb_run *run) {
  return pb_run_rank_count(run) ? pb_run_rank_count(run) : 1;
}

static const pb_run *proc(const pb_run *run, size_t i) {
  return pb_run_rank_count(run) ? pb_run_rank(run, i) : run;
}

const pb_record *pb_cli_find_any(const pb_run *run, const char *name) {
  for (size_t i = 0; i < nprocs(run); i++) {
    const pb_record *r = pb_run_find(proc(run, i), name);
    if (r) return r;
  }
  return NULL;
}

/* The first benchmarker of run (of any rank) that has a time topic called name, or NULL. */
static const pb_record *owner_of_step(const pb_run *run, const char *name) {
  for (size_t p = 0; p < nprocs(run); p++)
    for (size_t i = 0; i < pb_run_record_count(proc(run, p)); i++) {
      const pb_record *r = pb_run_record(proc(run, p), i);
      if (pb_record_topic_index(r, name) >= 0) return r;
    }
  return NULL;
}

size_t pb_cli_bench_names(const pb_run *run, const char **names, size_t cap) {
  size_t n = 0;
  for (size_t p = 0; p < nprocs(run); p++)
    for (size_t i = 0; i < pb_run_record_count(proc(run, p)); i++) {
      const pb_record *r = pb_run_record(proc(run, p), i);
      if (pb_cli_find_any(run, pb_record_name(r)) != r) continue; /* seen in a lower rank */
      if (n < cap) names[n] = pb_record_name(r);
      n++;
    }
  return n;
}

/* Prints ", a, b" for the benchmarkers of run (of all its ranks). */
static void list_benchmarkers(const pb_run *run) {
  bool first = true;
  for (size_t p = 0; p < nprocs(run); p++)
    for (size_t i = 0; i < pb_run_record_count(proc(run, p)); i++) {
      const pb_record *r = pb_run_record(proc(run, p), i);
      if (pb_cli_find_any(run, pb_record_name(r)) != r) continue;
      fprintf(stderr, "%s %s", first ? "" : ",", pb_record_name(r));
      first = false;
    }
}

int pb_cli_check_names(const char *prog, const pb_run *run, const char *const *names, size_t n) {
  int rc = PB_EXIT_OK;
  for (size_t t = 0; t < n; t++) {
    if (pb_cli_find_any(run, names[t])) continue;
    const pb_record *owner = owner_of_step(run, names[t]);
    fprintf(stderr, "%s: no benchmarker named '%s' in %s", prog, names[t], pb_run_path(run));
    if (owner)
      fprintf(stderr, " ('%s' is a step of benchmarker '%s')", names[t], pb_record_name(owner));
    fputc('\n', stderr);
    rc = PB_EXIT_USAGE;
  }
  if (rc == PB_EXIT_OK) return rc;
  fprintf(stderr, "%s: the benchmarkers of this run are:", prog);
  list_benchmarkers(run);
  fputc('\n', stderr);
  return rc;
}

int pb_cli_width(const char *s) {
  int w = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) w++;
  return w;
}

void pb_cli_pad(FILE *f, const char *s, int width, int left) {
  int pad = width - pb_cli_width(s);
  if (!left)
    for (int i = 0; i < pad; i++) fputc(' ', f);
  fputs(s, f);
  if (left)
    for (int i = 0; i < pad; i++) fputc(' ', f);
}

/* Byte offset of the code point that starts display column col of s. */
static size_t byte_at(const char *s, int col) {
  size_t i = 0;
  for (int c = 0; s[i]; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80 && c++ == col) break;
  }
  return i;
}

void pb_cli_ellipsize(const char *s, int width, char *buf, size_t n) {
  if (n == 0) return;
  int w = pb_cli_width(s);
  if (width < 3) width = 3;
  if (w <= width) {
    snprintf(buf, n, "%s", s);
    return;
  }
  int tail = (width - 1) / 2, head = width - 1 - tail;
  size_t hb = byte_at(s, head), tb = byte_at(s, w - tail);
  snprintf(buf, n, "%.*s\xe2\x80\xa6%s", (int)hb, s, s + tb);
}

void pb_cli_wrap(FILE *f, const char *prefix, const char *cont, const char *text, int width,
                 bool shell) {
  fputs(prefix, f);
  int col = pb_cli_width(prefix), room = shell ? width - 2 : width;
  bool first = true;
  for (const char *p = text; *p;) {
    while (*p == ' ') p++;
    if (!*p) break;
    size_t len = strcspn(p, " ");
    char word[1024];
    snprintf(word, sizeof word, "%.*s", (int)len, p);
    int ww = pb_cli_width(word);
    if (!first && col + 1 + ww > room) {
      fprintf(f, "%s\n%s", shell ? " \\" : "", cont);
      col = pb_cli_width(cont);
      first = true;
    }
    if (!first) fputc(' ', f), col++;
    fwrite(p, 1, len, f);
    col += ww;
    first = false;
    p += len;
  }
  fputc('\n', f);
}

int pb_cli_term_width(void) {
  int w = 0;
  struct winsize ws;
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    w = ws.ws_col;
  } else {
    const char *c = getenv("COLUMNS");
    char *end = NULL;
    long v = c && *c ? strtol(c, &end, 10) : 0;
    if (end && *end == 0 && v > 0 && v < 100000) w = (int)v;
  }
  return w < 80 ? 80 : w;
}

void pb_cli_format_p(double p, char *buf, size_t n) {
  if (isnan(p))
    snprintf(buf, n, "-");
  else if (p >= 0.001)
    snprintf(buf, n, "%.4f", p);
  else if (p < 1e-300) /* 0 and subnormals: an underflow, never a true zero */
    snprintf(buf, n, "<1e-300");
  else /* one digit less from a 3-digit exponent on: 7 columns at most */
    snprintf(buf, n, p >= 1e-99 ? "%.1e" : "%.0e", p);
}

void pb_cli_format_time(double epoch, char *buf, size_t n) {
  struct tm tm;
  if (!(epoch > -1e15 && epoch < 1e15)) {
    snprintf(buf, n, "-");
    return;
  }
  time_t t = (time_t)floor(epoch);
  tzset(); /* localtime_r need not read TZ */
  if (!localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
    snprintf(buf, n, "-");
}

void pb_cli_table_layout(pb_cli_table *tb, int width) {
  int used = 2, name = pb_cli_width(tb->head[0]);
  for (int c = 1; c < tb->ncol; c++) {
    tb->width[c] = pb_cli_width(tb->head[c]);
    for (size_t i = 0; i < tb->rows; i++)
      if (pb_cli_width(tb->cells[i][c]) > tb->width[c])
        tb->width[c] = pb_cli_width(tb->cells[i][c]);
    used += 2 + tb->width[c];
  }
  for (size_t i = 0; i < tb->rows; i++)
    if (pb_cli_width(tb->topic[i]) > name) name = pb_cli_width(tb->topic[i]);
  if (name > width - used) name = width - used < 8 ? 8 : width - used;
  tb->width[0] = name;
}

void pb_cli_table_print(const pb_cli_table *tb) {
  printf("  ");
  for (int c = 0; c < tb->ncol; c++) {
    pb_cli_pad(stdout, tb->head[c], tb->width[c], c == 0);
    fputs(c + 1 < tb->ncol ? "  " : "\n", stdout);
  }
  for (size_t i = 0; i < tb->rows; i++) {
    char name[4 * PB_CLI_CELL * 4];
    pb_cli_ellipsize(tb->topic[i], tb->width[0], name, sizeof name);
    printf("  ");
    pb_cli_pad(stdout, name, tb->width[0], 1);
    for (int c = 1; c < tb->ncol; c++) {
      fputs("  ", stdout);
      pb_cli_pad(stdout, tb->cells[i][c], tb->width[c], 0);
    }
    fputs("\n", stdout);
  }
  if (tb->hidden)
    printf("  (%zu memory-probe row%s hidden: --show-probes shows %s)\n", tb->hidden,
           tb->hidden == 1 ? "" : "s", tb->hidden == 1 ? "it" : "them");
}
