/*
 * run.c - finding run folders, reading their files and assembling a pb_run.
 */
#define _GNU_SOURCE /* timegm */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct pb_run {
  char *path;
  pb_record **records;
  size_t n_records;
  char **diags;
  size_t n_diags;
  char *metadata;
  pb_run **ranks; /* a job folder's rank runs, by rank; NULL for one process */
  int *rank_ids;  /* their ranks (from "rank-NNNNN") */
  size_t n_ranks;
};

const char *pb_analysis_version(void) { return PB_ANALYSIS_VERSION_STRING; }

const char *pb_analysis_strerror(int status) {
  switch (status) {
    case PB_OK: return "success";
    case PB_EINVAL: return "invalid argument";
    case PB_ENOMEM: return "out of memory";
    case PB_EIO: return "input/output error";
    case PB_EJSON: return "invalid JSON text";
    case PB_ENOTSUP: return "not supported";
    case PB_EDATA: return "malformed record file";
    case PB_ENOTFOUND: return "no run or record file found";
    case PB_ECHART: return "could not draw or write the chart";
    default: return "unknown error";
  }
}

__attribute__((format(printf, 3, 4))) static void set_err(pb_error *err, int code, const char *fmt,
                                                          ...) {
  if (!err) return;
  err->code = code;
  err->line = err->column = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static char *join(const char *dir, const char *name) {
  if (strcmp(dir, ".") == 0) return xstrdup(name); /* "TICTOC_PERFORMANCE/x", not "./TICTOC..." */
  size_t a = strlen(dir), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, dir, a);
  size_t k = a;
  if (a && dir[a - 1] != '/') p[k++] = '/';
  memcpy(p + k, name, b + 1);
  return p;
}

static bool ends_with(const char *s, const char *suffix, size_t *stem) {
  size_t n = strlen(s), m = strlen(suffix);
  if (n <= m || strcmp(s + n - m, suffix) != 0) return false;
  if (stem) *stem = n - m;
  return true;
}

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- timestamps ---------------------------------------------------------- */

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

/* Reads 1 or 2 digits (strptime's %H, %M, %d, %m). */
static bool digits12(const char **p, int *out) {
  if (!digits(p, 1, out)) return false;
  int d;
  const char *q = *p;
  if (digits(&q, 1, &d)) {
    *out = *out * 10 + d;
    *p = q;
  }
  return true;
}

static bool lit(const char **p, char c) {
  if (**p != c) return false;
  (*p)++;
  return true;
}

bool pb_run_parse_timestamp(const char *name, int64_t *epoch_us, int *seq) {
  if (!name) return false;
  const char *p = name;
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  int us = 0, n = 0;
  int64_t t;
  if (digits(&p, 4, &tm.tm_year) && lit(&p, '-') && digits(&p, 2, &tm.tm_mon) && lit(&p, '-') &&
      digits(&p, 2, &tm.tm_mday) && lit(&p, 'T') && digits(&p, 2, &tm.tm_hour) && lit(&p, '-') &&
      digits(&p, 2, &tm.tm_min) && lit(&p, '-') && digits(&p, 2, &tm.tm_sec)) {
    /* ours: YYYY-MM-DDTHH-MM-SS.ffffffZ[-N], UTC */
    if (lit(&p, '.')) {
      int k = 0;
      while (*p >= '0' && *p <= '9' && k < 9) {
        if (k < 6) us = us * 10 + (*p - '0');
        p++;
        k++;
      }
      for (; k < 6; k++) us *= 10;
    }
    if (!lit(&p, 'Z')) return false;
    if (lit(&p, '-')) {
      if (*p < '0' || *p > '9') return false;
      while (*p >= '0' && *p <= '9' && n < 100000000) n = n * 10 + (*p++ - '0');
    }
    if (*p) return false;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
      return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = (int64_t)timegm(&tm);
  } else {
    /* the original's %H:%M-%d:%m:%Y, local time */
    p = name;
    memset(&tm, 0, sizeof tm);
    if (!(digits12(&p, &tm.tm_hour) && lit(&p, ':') && digits12(&p, &tm.tm_min) && lit(&p, '-') &&
          digits12(&p, &tm.tm_mday) && lit(&p, ':') && digits12(&p, &tm.tm_mon) && lit(&p, ':') &&
          digits(&p, 4, &tm.tm_year) && *p == 0))
      return false;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59)
      return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    t = (int64_t)mktime(&tm);
  }
  if (epoch_us) *epoch_us = t * 1000000 + us;
  if (seq) *seq = n;
  return true;
}

/* ---- resolving a path ---------------------------------------------------- */

static bool has_records(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return false;
  bool found = false;
  struct dirent *e;
  while (!found && (e = readdir(d)) != NULL) found = ends_with(e->d_name, PB_SUFFIX_DATA, NULL);
  closedir(d);
  return found;
}

/* The rank of a rank folder's name "rank-<digits>", or -1. */
static int rank_of(const char *name) {
  if (strncmp(name, "rank-", 5) != 0 || !name[5]) return -1;
  long v = 0;
  for (const char *p = name + 5; *p; p++) {
    if (*p < '0' || *p > '9' || v > 100000000) return -1;
    v = v * 10 + (*p - '0');
  }
  return (int)v;
}

/* What a folder is as a job folder of a multi-rank run. */
typedef enum job_kind {
  JOB_NONE,    /* no "rank-N" folder in it */
  JOB_PENDING, /* "rank-N" folders, none with records yet (the ranks are still running) */
  JOB_RECORDS  /* a "rank-N" folder holds records */
} job_kind;

static job_kind job_dir_kind(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return JOB_NONE;
  job_kind kind = JOB_NONE;
  struct dirent *e;
  while (kind != JOB_RECORDS && (e = readdir(d)) != NULL) {
    if (rank_of(e->d_name) < 0) continue;
    char *p = join(dir, e->d_name);
    kind = p && has_records(p) ? JOB_RECORDS : JOB_PENDING;
    free(p);
  }
  closedir(d);
  return kind;
}

/* True when dir is a job folder: a "rank-N" folder in it holds records. */
static bool is_job_dir(const char *dir) { return job_dir_kind(dir) == JOB_RECORDS; }

/* A job folder's time for "latest": its last change (its ranks' folders are made at start). */
static int64_t mtime_us(const char *p) {
  struct stat st;
  if (stat(p, &st) != 0) return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
}

typedef struct best_run {
  char *path;
  int64_t us;
  int seq;
} best_run;

/* Keeps p in *b when (us, seq) is later than b's; else frees it. */
static void keep_later(best_run *b, char *p, int64_t us, int seq) {
  if (b->path && (us < b->us || (us == b->us && seq <= b->seq))) {
    free(p);
    return;
  }
  free(b->path);
  b->path = p;
  b->us = us;
  b->seq = seq;
}

/* The latest run folder under root with records (*best) and without (*bare). */
static void scan_root(const char *root, best_run *best, best_run *bare) {
  DIR *d = opendir(root);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int64_t us;
    int seq = 0;
    bool job = strncmp(e->d_name, "job-", 4) == 0;
    if (!job && !pb_run_parse_timestamp(e->d_name, &us, &seq)) continue;
    char *p = join(root, e->d_name);
    if (p && job) {
      job_kind kind = job_dir_kind(p);
      if (kind == JOB_NONE)
        free(p);
      else
        keep_later(kind == JOB_RECORDS ? best : bare, p, mtime_us(p), 0);
      continue;
    }
    if (!p) continue;
    if (!is_dir(p))
      free(p);
    else
      keep_later(has_records(p) ? best : bare, p, us, seq);
  }
  closedir(d);
}

/*
 * The latest run folder in path and its roots. When the latest of all is a
 * folder without records yet (a program still running with auto-save off),
 * it is reported instead of silently reading an older run.
 */
static int find_latest(const char *path, best_run *best, pb_error *err) {
  best_run bare = {NULL, 0, 0};
  scan_root(path, best, &bare);
  const char *env = getenv(PB_ENV_ROOT);
  const char *roots[3] = {PB_DEFAULT_ROOT, PB_ALT_ROOT, (env && *env) ? env : NULL};
  for (int i = 0; i < 3; i++) {
    if (!roots[i]) continue;
    char *r = roots[i][0] == '/' ? xstrdup(roots[i]) : join(path, roots[i]);
    if (!r) continue;
    scan_root(r, best, &bare);
    free(r);
  }
  int rc = PB_OK;
  if (bare.path &&
      (!best->path || bare.us > best->us || (bare.us == best->us && bare.seq > best->seq))) {
    if (best->path)
      set_err(err, PB_ENOTFOUND,
              "%s: the latest run has no records yet (no *%s: a program still running with "
              "auto-save off, or one that saved nothing); the latest run with records is %s "
              "(give that folder with --no-latest to read it)",
              bare.path, PB_SUFFIX_DATA, best->path);
    else
      set_err(err, PB_ENOTFOUND,
              "%s: the latest run has no records yet (no *%s: a program still running with "
              "auto-save off, or one that saved nothing), and no earlier run has any",
              bare.path, PB_SUFFIX_DATA);
    rc = PB_ENOTFOUND;
  }
  free(bare.path);
  return rc;
}

int pb_run_resolve(const char *path, bool latest, char *buf, size_t n, pb_error *err) {
  if (!path || !buf || n == 0) {
    set_err(err, PB_EINVAL, "no path given");
    return PB_EINVAL;
  }
  struct stat st;
  int serr = stat(path, &st) != 0 ? errno : (S_ISDIR(st.st_mode) ? 0 : ENOTDIR);
  if (serr) {
    set_err(err, PB_ENOTFOUND, "%s: not a folder (%s)", path, strerror(serr));
    return PB_ENOTFOUND;
  }
  const char *found = NULL;
  best_run best = {NULL, 0, 0};
  if (!latest || has_records(path) || is_job_dir(path)) {
    found = path;
  } else if (find_latest(path, &best, err) != PB_OK) {
    free(best.path);
    return PB_ENOTFOUND;
  } else {
    found = best.path;
  }
  if (!found) {
    set_err(err, PB_ENOTFOUND,
            "%s: no run found (looked for *%s files in it, and for run folders named "
            "YYYY-MM-DDTHH-MM-SS.ffffffZ or HH:MM-DD:MM:YYYY in it and in its %s/ and %s/)",
            path, PB_SUFFIX_DATA, PB_DEFAULT_ROOT, PB_ALT_ROOT);
    return PB_ENOTFOUND;
  }
  size_t len = strlen(found);
  int rc = PB_OK;
  if (len + 1 > n) {
    set_err(err, PB_EINVAL, "%s: path too long", found);
    rc = PB_EINVAL;
  } else {
    memcpy(buf, found, len + 1);
  }
  free(best.path);
  return rc;
}

/* ---- reading files ------------------------------------------------------- */

/*
 * Maps a whole file with PB__JSON_PADDING readable zero bytes after it:
 * an anonymous mapping one padding longer than the file, with the file
 * mapped over its start (MAP_POPULATE: one pass of page-table filling
 * instead of a fault per page, and no copy).
 */
typedef struct file_map {
  char *buf;
  size_t len, maplen;
} file_map;

static void unmap_file(file_map *m) {
  if (m->buf) munmap(m->buf, m->maplen);
  m->buf = NULL;
}

/* Opens a regular file of at most 4 GiB for reading: *fd and its size *len. */
static int open_file(const char *file, int *fd, size_t *len, char *why, size_t nwhy) {
  *fd = open(file, O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    snprintf(why, nwhy, "cannot open: %s", strerror(errno));
    return PB_EIO;
  }
  struct stat st;
  int rc = PB_OK;
  if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, nwhy, "not a regular file");
    rc = PB_EIO;
  } else if ((uint64_t)st.st_size >= 0xFFFFFFFFull - PB__JSON_PADDING) {
    snprintf(why, nwhy, "file too large (%lld bytes; the limit is 4 GiB)", (long long)st.st_size);
    rc = PB_EDATA;
  }
  if (rc) {
    close(*fd);
    *fd = -1;
    return rc;
  }
  *len = (size_t)st.st_size;
  return PB_OK;
}

/* Maps the len bytes of the open file fd (see file_map). */
static int map_fd(int fd, size_t len, file_map *m, char *why, size_t nwhy) {
  memset(m, 0, sizeof *m);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t maplen = (len + PB__JSON_PADDING + page - 1) / page * page;
  char *base = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    snprintf(why, nwhy, "out of memory");
    return PB_ENOMEM;
  }
  if (len > 0 &&
      mmap(base, len, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0) == MAP_FAILED) {
    snprintf(why, nwhy, "cannot map: %s", strerror(errno));
    munmap(base, maplen);
    return PB_EIO;
  }
  /* the bytes after the file in its last page read as zero (mmap's rule),
   * and the pages after that are anonymous zero pages */
  m->buf = base;
  m->len = len;
  m->maplen = maplen;
  return PB_OK;
}

static int map_file(const char *file, file_map *m, char *why, size_t nwhy) {
  int fd;
  size_t len;
  memset(m, 0, sizeof *m);
  int rc = open_file(file, &fd, &len, why, nwhy);
  if (rc) return rc;
  rc = map_fd(fd, len, m, why, nwhy);
  close(fd);
  return rc;
}

__attribute__((format(printf, 2, 3))) static int add_diag(pb_run *run, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  char **d = realloc(run->diags, (run->n_diags + 1) * sizeof *d);
  if (!d) return PB_ENOMEM;
  run->diags = d;
  d[run->n_diags] = xstrdup(tmp);
  if (!d[run->n_diags]) return PB_ENOMEM;
  run->n_diags++;
  return PB_OK;
}

typedef int (*walker_fn)(pb__json_parser *, const char *, size_t, pb_record *, pb__jerr *);

/*
 * End of the last complete element of a top-level JSON list: the offset
 * just after it, or 0 when there is none. Strings are skipped with their
 * escapes, so brackets inside names do not count.
 */
static size_t last_complete_element(const char *buf, size_t len) {
  size_t depth = 0, end = 0;
  bool in_str = false, started = false;
  for (size_t i = 0; i < len; i++) {
    char ch = buf[i];
    if (in_str) {
      if (ch == '\\')
        i++;
      else if (ch == '"')
        in_str = false;
      continue;
    }
    if (ch == '"') {
      in_str = true;
    } else if (ch == '[' || ch == '{') {
      if (depth == 0 && (started || ch != '[')) return 0; /* not a list */
      started = true;
      depth++;
    } else if (ch == ']' || ch == '}') {
      if (depth == 0) return 0;
      depth--;
      if (depth == 1) end = i + 1;
      if (depth == 0) return 0; /* the list is complete: not truncated */
    }
  }
  return end;
}

/*
 * A truncated list file (a crash while writing, or the original's
 * concurrent-save defect): parses the complete elements before the cut.
 * Returns the number of iterations kept, or 0.
 */
static size_t salvage(pb__json_parser *jp, const char *buf, size_t len, pb_record *r,
                      walker_fn walk, const pb__rec_mark *before) {
  size_t cut = last_complete_element(buf, len);
  if (cut == 0) return 0;
  char *copy = malloc(cut + 1 + PB__JSON_PADDING);
  if (!copy) return 0;
  memcpy(copy, buf, cut);
  copy[cut] = ']';
  memset(copy + cut + 1, 0, PB__JSON_PADDING);
  pb__rec_mark_reset(r, before);
  pb__jerr e2;
  size_t kept = 0;
  if (walk(jp, copy, cut + 1, r, &e2) == 0)
    kept = walk == pb__json_parse_memory ? r->n_mem_iter - before->n_mem_iter
                                         : r->n_iter - before->n_iter;
  else
    pb__rec_mark_reset(r, before);
  free(copy);
  return kept;
}

/* Parses one file into r; a failure becomes a diagnostic of the run. */
static int load_one(pb_run *run, pb__json_parser *jp, pb_record *r, const char *file,
                    walker_fn walk) {
  file_map fm = {NULL, 0, 0};
  char why[256];
  int fd;
  size_t len;
  int rc = open_file(file, &fd, &len, why, sizeof why);
  if (rc == PB_OK) {
    if (walk == pb__json_parse_data) pb__rec_reserve(r, len, false);
    if (walk == pb__json_parse_memory) pb__rec_reserve(r, len, true);
    /* big files: in windows, on threads; anything unusual: whole (below) */
    rc = walk == pb__json_parse_summary
             ? -1
             : pb__parse_parallel(fd, len, r, walk == pb__json_parse_memory);
    if (rc == PB_ENOMEM) snprintf(why, sizeof why, "out of memory");
    if (rc == -1) rc = map_fd(fd, len, &fm, why, sizeof why);
    close(fd);
  }
  if (rc) {
    add_diag(run, "%s: %s", file, why);
    return rc;
  }
  if (!fm.buf) return PB_OK; /* parsed in windows */
  const char *buf = fm.buf;
  pb__jerr e;
  pb__rec_mark before;
  pb__rec_mark_get(r, &before);
  rc = walk(jp, buf, len, r, &e);
  size_t kept = 0;
  if (rc == PB_EDATA && e.truncated && walk != pb__json_parse_summary)
    kept = salvage(jp, buf, len, r, walk, &before);
  if (rc) {
    size_t line = 1, col = 1, off = e.offset == SIZE_MAX ? 0 : e.offset;
    if (off > len) off = len;
    for (size_t i = 0; i < off; i++) {
      if (buf[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    if (kept)
      add_diag(run, "%s:%zu:%zu: %s; kept the %zu complete iteration%s before it", file, line, col,
               e.msg, kept, kept == 1 ? "" : "s");
    else
      add_diag(run, "%s:%zu:%zu: %s", file, line, col, e.msg);
  }
  unmap_file(&fm);
  return rc;
}

/* STEP_NUMBER of time iteration i (its index when the file gave none). */
static int64_t iter_step(const pb_record *r, size_t i) {
  int64_t s = r->infos[i].step_number;
  return s == PB__STEP_UNSET ? (int64_t)i : s;
}

/*
 * Reconciles the entries a journal line added (from n0 on, n in all) with
 * those read before it, by STEP_NUMBER (`step`) and size (`size`): entries
 * older than the last one read are already held and dropped; an entry
 * restating the last one replaces it when it holds more records (an
 * iteration only grows: steps made after pb_gstop join it), and is dropped
 * otherwise. Removes the entries [lo, hi) that lose, returned in *lo, *hi.
 */
static void reconcile(const pb_record *r, size_t n0, size_t n,
                      int64_t (*step)(const pb_record *, size_t),
                      size_t (*size)(const pb_record *, size_t), size_t *lo, size_t *hi) {
  *lo = *hi = n0;
  if (n0 == 0 || step(r, n0 - 1) == PB__STEP_UNSET) return;
  int64_t last = step(r, n0 - 1);
  size_t j = n0;
  while (j < n && step(r, j) != PB__STEP_UNSET && step(r, j) < last) j++;
  if (j < n && step(r, j) == last) {
    if (size(r, j) > size(r, n0 - 1))
      *lo = n0 - 1;
    else
      j++;
  }
  *hi = j;
}

static int64_t mem_step(const pb_record *r, size_t i) { return r->mem_steps[i]; }

/*
 * Reads an auto-save journal of the recording library: one JSON array of
 * iterations per line, continuing the full file. A line that does not end
 * with a newline (a write under way, or a crash in one) is skipped with a
 * note. Each line is reconciled with what was read before it (reconcile):
 * the DATA and the MEMORY journal each against their own full file, so a
 * MEMORY file older than its DATA file (a save that failed or was killed
 * between the two) keeps every memory record the journal holds.
 */
static void load_journal(pb_run *run, pb__json_parser *jp, pb_record *r, const char *file,
                         walker_fn walk) {
  file_map fm;
  char why[256];
  if (map_file(file, &fm, why, sizeof why) != PB_OK) {
    add_diag(run, "%s: %s", file, why);
    return;
  }
  bool data = walk == pb__json_parse_data;
  size_t line = 0;
  for (const char *p = fm.buf, *end = fm.buf + fm.len; p < end; line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) {
      add_diag(run, "%s:%zu: unfinished last line skipped", file, line + 1);
      break;
    }
    pb__rec_mark before;
    pb__rec_mark_get(r, &before);
    pb__jerr e;
    size_t lo, hi;
    if (walk(jp, p, (size_t)(nl - p), r, &e)) {
      pb__rec_mark_reset(r, &before);
      add_diag(run, "%s:%zu: %s", file, line + 1, e.msg);
    } else if (data) {
      reconcile(r, before.n_iter, r->n_iter, iter_step, pb__rec_iter_size, &lo, &hi);
      pb__rec_drop_iters(r, lo, hi);
    } else {
      reconcile(r, before.n_mem_iter, r->n_mem_iter, mem_step, pb__rec_mem_iter_size, &lo, &hi);
      pb__rec_drop_mem_iters(r, lo, hi);
    }
    p = nl + 1;
  }
  unmap_file(&fm);
}

static int cmp_record(const void *a, const void *b) {
  return strcmp((*(pb_record *const *)a)->name, (*(pb_record *const *)b)->name);
}

/* Finds or adds the record called name (stem bytes of s). */
static pb_record *record_for(pb_run *run, const char *s, size_t stem) {
  for (size_t i = 0; i < run->n_records; i++)
    if (strlen(run->records[i]->name) == stem && memcmp(run->records[i]->name, s, stem) == 0)
      return run->records[i];
  pb_record **v = realloc(run->records, (run->n_records + 1) * sizeof *v);
  if (!v) return NULL;
  run->records = v;
  pb_record *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->name = malloc(stem + 1);
  if (!r->name) {
    free(r);
    return NULL;
  }
  memcpy(r->name, s, stem);
  r->name[stem] = 0;
  v[run->n_records++] = r;
  return r;
}

static int attach(pb_run *run, const char *dir, const char *fname) {
  static const char *const suffixes[3] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  static const char *const journals[2] = {"_STEP_DICT_DATA.journal", "_MEMORY.journal"};
  for (int k = 0; k < 2; k++) {
    size_t stem;
    if (!ends_with(fname, journals[k], &stem)) continue;
    pb_record *r = record_for(run, fname, stem);
    if (!r) return PB_ENOMEM;
    char **slot = k == 0 ? &r->data_journal : &r->memory_journal;
    free(*slot);
    *slot = join(dir, fname);
    return *slot ? PB_OK : PB_ENOMEM;
  }
  for (int k = 0; k < 3; k++) {
    size_t stem;
    if (!ends_with(fname, suffixes[k], &stem)) continue;
    pb_record *r = record_for(run, fname, stem);
    if (!r) return PB_ENOMEM;
    char **slot = k == 0 ? &r->data_file : k == 1 ? &r->summary_file : &r->memory_file;
    free(*slot);
    *slot = join(dir, fname);
    return *slot ? PB_OK : PB_ENOMEM;
  }
  return PB_OK;
}

static int load_records(pb_run *run) {
  qsort(run->records, run->n_records, sizeof *run->records, cmp_record);
  pb__json_parser *jp = pb__json_parser_new();
  if (!jp) return PB_ENOMEM;
  int rc = PB_OK;
  for (size_t i = 0; i < run->n_records && rc == PB_OK; i++) {
    pb_record *r = run->records[i];
    if (r->data_file) load_one(run, jp, r, r->data_file, pb__json_parse_data);
    if (r->data_journal) load_journal(run, jp, r, r->data_journal, pb__json_parse_data);
    if (r->memory_file) load_one(run, jp, r, r->memory_file, pb__json_parse_memory);
    if (r->memory_journal) load_journal(run, jp, r, r->memory_journal, pb__json_parse_memory);
    if (r->summary_file) load_one(run, jp, r, r->summary_file, pb__json_parse_summary);
    if (pb__rec_finish(r)) rc = PB_ENOMEM;
  }
  pb__json_parser_free(jp);
  return rc;
}

/* The value of metadata line "key: value" in meta (bounded copy), or "". */
static void meta_value(const char *meta, const char *key, char *out, size_t n) {
  size_t kl = strlen(key);
  out[0] = '\0';
  for (const char *p = meta; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len > kl + 2 && strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
      snprintf(out, n, "%.*s", (int)(len - kl - 2), p + kl + 2);
      return;
    }
    p += len + (nl ? 1 : 0);
  }
}

/* Every record's peak mode and poll period from the metadata (unknown without). */
static void apply_peak_mode(pb_run *run) {
  char mode[32], ms[32];
  meta_value(run->metadata, "peak_mode", mode, sizeof mode);
  meta_value(run->metadata, "peak_poll_ms", ms, sizeof ms);
  int m = strcmp(mode, "sample") == 0  ? PB_RECORDED_PEAK_SAMPLE
          : strcmp(mode, "reset") == 0 ? PB_RECORDED_PEAK_RESET
                                       : PB_RECORDED_PEAK_UNKNOWN;
  char *end = NULL;
  double period = strtod(ms, &end);
  if (end == ms || *end || !(period > 0)) period = NAN;
  for (size_t i = 0; i < run->n_records; i++) {
    run->records[i]->peak_mode = m;
    run->records[i]->peak_poll_ms = m == PB_RECORDED_PEAK_SAMPLE ? period : NAN;
  }
}

static void load_metadata(pb_run *run) {
  char *file = join(run->path, PB_RUN_METADATA_FILE);
  if (!file) return;
  file_map fm;
  char why[256];
  if (access(file, F_OK) == 0) {
    pb__json_parser *jp = pb__json_parser_new();
    if (jp && map_file(file, &fm, why, sizeof why) == PB_OK) {
      pb__jerr e;
      if (pb__json_parse_metadata(jp, fm.buf, fm.len, &run->metadata, &e))
        add_diag(run, "%s: %s", file, e.msg);
      unmap_file(&fm);
      pb__json_parser_free(jp);
    } else {
      pb__json_parser_free(jp);
      add_diag(run, "%s: %s", file, why);
    }
  }
  free(file);
}

static int load_job(const char *dir, pb_run **out, pb_error *err);

/* Loads the run folder dir (one process's records). */
static int load_dir(const char *dir, pb_run **out, pb_error *err) {
  int rc;
  pb_run *run = calloc(1, sizeof *run);
  if (!run || !(run->path = xstrdup(dir))) {
    free(run);
    set_err(err, PB_ENOMEM, "out of memory");
    return PB_ENOMEM;
  }
  DIR *d = opendir(dir);
  if (!d) {
    set_err(err, PB_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
    pb_run_free(run);
    return PB_EIO;
  }
  struct dirent *e;
  rc = PB_OK;
  while (rc == PB_OK && (e = readdir(d)) != NULL) rc = attach(run, dir, e->d_name);
  closedir(d);
  if (rc == PB_OK && run->n_records == 0) {
    set_err(err, PB_ENOTFOUND, "%s: no *%s, *%s or *%s files", dir, PB_SUFFIX_DATA,
            PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY);
    rc = PB_ENOTFOUND;
  }
  if (rc == PB_OK) rc = load_records(run);
  if (rc == PB_ENOMEM) set_err(err, rc, "out of memory while loading %s", dir);
  if (rc) {
    pb_run_free(run);
    return rc;
  }
  load_metadata(run);
  apply_peak_mode(run);
  *out = run;
  return PB_OK;
}

int pb_run_load(const char *path, bool latest, pb_run **out, pb_error *err) {
  if (out) *out = NULL;
  if (!path || !out) {
    set_err(err, PB_EINVAL, "no path given");
    return PB_EINVAL;
  }
  char dir[4096];
  int rc = pb_run_resolve(path, latest, dir, sizeof dir, err);
  if (rc) return rc;
  if (!has_records(dir) && is_job_dir(dir)) return load_job(dir, out, err);
  return load_dir(dir, out, err);
}

/* ---- multi-rank runs: a job folder of "rank-NNNNN" run folders ----------- */

typedef struct rank_slot {
  char *dir;
  int rank;
  pb_run *run;
  pb_error err;
  int rc;
} rank_slot;

typedef struct rank_pool {
  rank_slot *slots;
  size_t n;
  size_t next; /* next slot to load; guarded by mu */
  pthread_mutex_t mu;
} rank_pool;

static void *load_ranks(void *arg) {
  rank_pool *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    size_t i = p->next++;
    pthread_mutex_unlock(&p->mu);
    if (i >= p->n) return NULL;
    rank_slot *s = &p->slots[i];
    s->rc = load_dir(s->dir, &s->run, &s->err);
  }
}

static int cmp_slot(const void *a, const void *b) {
  const rank_slot *x = a, *y = b;
  return (x->rank > y->rank) - (x->rank < y->rank);
}

/* The rank folders of dir, sorted by rank (*n of them; NULL and 0 when none or no memory). */
static rank_slot *list_ranks(const char *dir, size_t *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  rank_slot *v = NULL;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int rank = rank_of(e->d_name);
    if (rank < 0) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      rank_slot *nv = realloc(v, cap * sizeof *nv);
      if (!nv) break;
      v = nv;
    }
    memset(&v[*n], 0, sizeof v[*n]);
    v[*n].rank = rank;
    v[*n].dir = join(dir, e->d_name);
    if (v[*n].dir) (*n)++;
  }
  closedir(d);
  if (v) qsort(v, *n, sizeof *v, cmp_slot);
  return v;
}

/* Loads the rank folders on up to PB_ANALYSIS_THREADS threads. */
static void load_all(rank_slot *slots, size_t n) {
  rank_pool pool = {slots, n, 0, PTHREAD_MUTEX_INITIALIZER};
  int nt = pb__analysis_threads();
  if ((size_t)nt > n) nt = (int)n;
  pthread_t th[64];
  int started = 0;
  for (int i = 1; i < nt && i < 64; i++)
    if (pthread_create(&th[started], NULL, load_ranks, &pool) == 0) started++;
  load_ranks(&pool);
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  pthread_mutex_destroy(&pool.mu);
}

/* Moves the loaded ranks into run; a rank without records becomes a diagnostic. */
static int adopt_ranks(pb_run *run, rank_slot *slots, size_t n) {
  run->ranks = calloc(n ? n : 1, sizeof *run->ranks);
  run->rank_ids = calloc(n ? n : 1, sizeof *run->rank_ids);
  if (!run->ranks || !run->rank_ids) return PB_ENOMEM;
  int rc = PB_OK;
  for (size_t i = 0; i < n; i++) {
    rank_slot *s = &slots[i];
    if (s->rc == PB_ENOMEM) rc = PB_ENOMEM;
    if (!s->run) {
      if (add_diag(run, "%s", s->err.message)) rc = PB_ENOMEM;
      continue;
    }
    for (size_t k = 0; k < s->run->n_diags; k++)
      if (add_diag(run, "%s", s->run->diags[k])) rc = PB_ENOMEM;
    run->ranks[run->n_ranks] = s->run;
    run->rank_ids[run->n_ranks++] = s->rank;
    s->run = NULL;
  }
  return rc;
}

static int load_job(const char *dir, pb_run **out, pb_error *err) {
  pb_run *run = calloc(1, sizeof *run);
  size_t n = 0;
  rank_slot *slots = run ? list_ranks(dir, &n) : NULL;
  int rc = run && (run->path = xstrdup(dir)) ? PB_OK : PB_ENOMEM;
  if (rc == PB_OK && !slots) rc = n ? PB_ENOMEM : PB_ENOTFOUND;
  if (rc == PB_OK) {
    load_all(slots, n);
    rc = adopt_ranks(run, slots, n);
  }
  for (size_t i = 0; i < n; i++) {
    pb_run_free(slots[i].run);
    free(slots[i].dir);
  }
  free(slots);
  if (rc == PB_ENOTFOUND || (rc == PB_OK && run->n_ranks == 0)) {
    set_err(err, PB_ENOTFOUND, "%s: no rank folder with records", dir);
    rc = PB_ENOTFOUND;
  }
  if (rc == PB_ENOMEM) set_err(err, rc, "out of memory while loading %s", dir);
  if (rc) {
    pb_run_free(run);
    return rc;
  }
  *out = run;
  return PB_OK;
}

size_t pb_run_rank_count(const pb_run *run) { return run ? run->n_ranks : 0; }

const pb_run *pb_run_rank(const pb_run *run, size_t i) {
  return run && i < run->n_ranks ? run->ranks[i] : NULL;
}

int pb_run_rank_id(const pb_run *run, size_t i) {
  return run && i < run->n_ranks ? run->rank_ids[i] : -1;
}

int pb_run_load_files(const char *data_file, pb_run **out, pb_error *err) {
  if (out) *out = NULL;
  size_t stem;
  if (!data_file || !out || !ends_with(data_file, PB_SUFFIX_DATA, &stem)) {
    set_err(err, PB_EINVAL, "%s: expected a file named *%s", data_file ? data_file : "(null)",
            PB_SUFFIX_DATA);
    return PB_EINVAL;
  }
  if (access(data_file, R_OK) != 0) {
    set_err(err, PB_ENOTFOUND, "%s: %s", data_file, strerror(errno));
    return PB_ENOTFOUND;
  }
  pb_run *run = calloc(1, sizeof *run);
  if (!run) goto nomem;
  const char *slash = strrchr(data_file, '/');
  size_t dlen = slash ? (size_t)(slash - data_file) : 1;
  run->path = malloc(dlen + 1);
  if (!run->path) goto nomem;
  memcpy(run->path, slash ? data_file : ".", dlen);
  run->path[dlen] = 0;
  const char *base = slash ? slash + 1 : data_file;
  static const char *const suffixes[3] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  for (int k = 0; k < 3; k++) {
    size_t bl = strlen(base) - strlen(PB_SUFFIX_DATA);
    char name[4096];
    if (bl + strlen(suffixes[k]) + 1 > sizeof name) goto nomem;
    memcpy(name, base, bl);
    strcpy(name + bl, suffixes[k]);
    char *full = join(run->path, name);
    if (!full) goto nomem;
    int ok = k == 0 || access(full, F_OK) == 0;
    int rc = ok ? attach(run, run->path, name) : PB_OK;
    free(full);
    if (rc) goto nomem;
  }
  if (load_records(run)) goto nomem;
  *out = run;
  return PB_OK;
nomem:
  pb_run_free(run);
  set_err(err, PB_ENOMEM, "out of memory");
  return PB_ENOMEM;
}

void pb_run_free(pb_run *run) {
  if (!run) return;
  for (size_t i = 0; i < run->n_records; i++) {
    pb__rec_free(run->records[i]);
    free(run->records[i]);
  }
  free(run->records);
  for (size_t i = 0; i < run->n_diags; i++) free(run->diags[i]);
  free(run->diags);
  free(run->metadata);
  for (size_t i = 0; i < run->n_ranks; i++) pb_run_free(run->ranks[i]);
  free(run->ranks);
  free(run->rank_ids);
  free(run->path);
  free(run);
}

const char *pb_run_path(const pb_run *run) { return run ? run->path : NULL; }
size_t pb_run_diagnostic_count(const pb_run *run) { return run ? run->n_diags : 0; }

const char *pb_run_diagnostic(const pb_run *run, size_t i) {
  return (run && i < run->n_diags) ? run->diags[i] : NULL;
}

const char *pb_run_metadata(const pb_run *run) { return run ? run->metadata : NULL; }
size_t pb_run_record_count(const pb_run *run) { return run ? run->n_records : 0; }

const pb_record *pb_run_record(const pb_run *run, size_t i) {
  return (run && i < run->n_records) ? run->records[i] : NULL;
}

const pb_record *pb_run_find(const pb_run *run, const char *name) {
  if (!run || !name) return NULL;
  for (size_t i = 0; i < run->n_records; i++)
    if (strcmp(run->records[i]->name, name) == 0) return run->records[i];
  return NULL;
}
