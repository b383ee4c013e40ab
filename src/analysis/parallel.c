/*
 * parallel.c - parsing one big record file in windows, on several threads.
 *
 * A data or memory file is one JSON list of iteration objects. It is cut
 * at iteration boundaries into one span per thread, and each span into
 * windows of about PB_ANALYSIS_WINDOW bytes (default 256 KiB). A thread
 * reads its windows with pread() into one small buffer, each as a list of
 * its own, and parses them there with its own parser, whose buffers (the
 * structural index, the unescaped strings) are those of one window: reused,
 * kept in the cache, never faulted in again. A parse of the whole mapped
 * file instead has the kernel map every page of the file and clear index
 * and string buffers as large as the file (on the 2-vCPU development VM,
 * reading the 74 MB file by 256 KiB pread()s costs 10-12 ms of CPU, mapping
 * it and copying it out 42-54 ms). The first span is parsed straight into
 * the record, the others into scratch records appended in file order.
 *
 * Boundaries are found without a full scan: from each cut point, the next
 * `, {"<first key>"` where <first key> is the key that opens the first
 * iteration. A false boundary (the same text inside an "extra" value)
 * leaves some window unbalanced, so its parse fails; any failure rolls the
 * record back (topics included) and makes the caller parse the file again
 * whole on one thread, which gives the exact diagnostics, so this path
 * never changes what is loaded.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 8
#define MIN_CHUNK (4u << 20)        /* below 4 MiB a thread does not pay for itself */
#define WINDOW_DEFAULT (256u << 10) /* bytes of JSON a window holds, about */
#define WINDOW_MIN 1024u
#define PROBE 4096u /* bytes read at a time where a span starts, and at the file's ends */

typedef struct span_job {
  int fd;
  size_t from, to; /* the span's iterations: bytes [from, to) of the file, no brackets */
  const char *key; /* the first key of an iteration, quoted */
  size_t window;
  bool memory;
  pb_record *rec; /* the record, or the scratch record below */
  pb_record scratch;
  int rc;
} span_job;

/* A window's buffer: '[' then `have` bytes of the file from offset pos. */
typedef struct win_buf {
  char *p;
  size_t cap, have, pos;
} win_buf;

static bool ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

int pb__analysis_threads(void) {
  const char *env = getenv("PB_ANALYSIS_THREADS");
  if (env && *env) {
    int n = atoi(env);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Reads exactly n bytes at off; false on a short read or an error. */
static bool read_at(int fd, char *dst, size_t n, size_t off) {
  while (n > 0) {
    ssize_t k = pread(fd, dst, n, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    dst += k;
    n -= (size_t)k;
    off += (size_t)k;
  }
  return true;
}

/* The key that opens the first iteration, with its quotes, into key (size n). */
static bool first_key(const char *buf, size_t from, size_t to, char *key, size_t n) {
  size_t i = from;
  while (i < to && ws(buf[i])) i++;
  if (i >= to || buf[i] != '{') return false;
  i++;
  while (i < to && ws(buf[i])) i++;
  if (i >= to || buf[i] != '"') return false;
  size_t k = i + 1;
  while (k < to && buf[k] != '"' && buf[k] != '\\') k++;
  if (k >= to || buf[k] != '"' || k + 1 - i + 1 > n) return false;
  memcpy(key, buf + i, k + 1 - i);
  key[k + 1 - i] = 0;
  return true;
}

/* The start of the first iteration at or after t that looks like one:
 * `,` then `{` then key, with white space between (looking back no further
 * than buf). 0 if none before end. */
static size_t next_boundary(const char *buf, size_t t, size_t end, const char *key, size_t *comma) {
  size_t klen = strlen(key);
  while (t < end) {
    const char *hit = memmem(buf + t, end - t, key, klen);
    if (!hit) return 0;
    size_t q = (size_t)(hit - buf);
    size_t b = q;
    while (b > 0 && ws(buf[b - 1])) b--;
    if (b > 0 && buf[b - 1] == '{') {
      size_t open = b - 1, c = open;
      while (c > 0 && ws(buf[c - 1])) c--;
      if (c > 0 && buf[c - 1] == ',') {
        *comma = c - 1;
        return open;
      }
    }
    t = q + 1;
  }
  return 0;
}

/* The window size: $PB_ANALYSIS_WINDOW bytes (0: parse files whole), else the default. */
static size_t window_size(void) {
  const char *env = getenv("PB_ANALYSIS_WINDOW");
  if (!env || !*env) return WINDOW_DEFAULT;
  long long n = atoll(env);
  if (n <= 0) return 0;
  return n < (long long)WINDOW_MIN ? WINDOW_MIN : (size_t)n;
}

/* Makes w hold the file's bytes [w->pos, end), reading what it lacks. Returns 0, PB_ENOMEM,
 * or -1 (a read failed or came short: the file changed). */
static int win_fill(win_buf *w, int fd, size_t end) {
  size_t need = end - w->pos;
  if (need <= w->have) return 0;
  if (need + 2 + PB__JSON_PADDING > w->cap) {
    size_t cap = need + 2 + PB__JSON_PADDING + need / 2;
    char *p = realloc(w->p, cap);
    if (!p) return PB_ENOMEM;
    memset(p + w->cap, 0, cap - w->cap); /* the padding is read: let it be defined */
    w->p = p;
    w->cap = cap;
  }
  w->p[0] = '[';
  if (!read_at(fd, w->p + 1 + w->have, need - w->have, w->pos + w->have)) return -1;
  w->have = need;
  return 0;
}

/*
 * Reads the window that starts at w->pos into w; *stop receives where it ends (the
 * comma before the next window, or the span's end) and *next where the next one starts
 * (0 when this one runs to the span's end). Returns 0, PB_ENOMEM or -1.
 */
static int win_read(const span_job *j, win_buf *w, size_t *stop, size_t *next) {
  *stop = j->to;
  *next = 0;
  if (j->to - w->pos <= j->window + j->window / 2) /* no small last window */
    return win_fill(w, j->fd, j->to);
  for (size_t ext = j->window / 4 + 256;; ext *= 2) {
    size_t lim = w->pos + j->window + ext;
    if (lim > j->to) lim = j->to;
    int rc = win_fill(w, j->fd, lim);
    if (rc) return rc;
    size_t comma = 0, n = next_boundary(w->p + 1, j->window, lim - w->pos, j->key, &comma);
    if (n) {
      *stop = w->pos + comma;
      *next = w->pos + n;
      return 0;
    }
    if (lim == j->to) return 0; /* one iteration longer than the rest: a window of its own */
  }
}

/* Moves the bytes of w from the file offset next on to its start. */
static void win_shift(win_buf *w, size_t next) {
  size_t skip = next - w->pos;
  memmove(w->p + 1, w->p + 1 + skip, w->have - skip);
  w->have -= skip;
  w->pos = next;
}

/* Parses a span window by window into j->rec, with a parser of its own. */
static void *parse_span(void *arg) {
  span_job *j = arg;
  pb__json_parser *jp = pb__json_parser_new();
  win_buf w = {NULL, 0, 0, j->from};
  j->rc = jp ? 0 : PB_ENOMEM;
  while (j->rc == 0) {
    size_t stop, next;
    j->rc = win_read(j, &w, &stop, &next);
    if (j->rc) break;
    size_t n = stop - w.pos;
    w.p[n + 1] = ']'; /* over the comma, or just past the span */
    pb__jerr e;
    j->rc = j->memory ? pb__json_parse_memory(jp, w.p, n + 2, j->rec, &e)
                      : pb__json_parse_data(jp, w.p, n + 2, j->rec, &e);
    if (!next) break;
    win_shift(&w, next);
  }
  free(w.p);
  pb__json_parser_free(jp);
  return NULL;
}

/* The first iteration boundary at or after t (before end) in the file: its start, and the
 * comma before it in *comma; 0 if none. Reads PROBE bytes at a time. */
static size_t file_boundary(int fd, size_t t, size_t end, const char *key, size_t *comma) {
  char buf[PROBE];
  const size_t back = 256; /* looked back for the comma, the brace and their white space */
  for (size_t at = t; at < end; at += PROBE - back - strlen(key)) {
    size_t lo = at > back ? at - back : 0, hi = at - lo + PROBE - back;
    if (lo + hi > end) hi = end - lo;
    if (!read_at(fd, buf, hi, lo)) return 0;
    size_t c = 0, n = next_boundary(buf, at - lo, hi, key, &c);
    if (n) {
      *comma = lo + c;
      return lo + n;
    }
    if (lo + hi == end) return 0;
  }
  return 0;
}

/* Cuts the list's items [s0, end) of the file into at most n spans at iteration
 * boundaries; returns how many. */
static size_t make_spans(span_job *jobs, size_t n, int fd, size_t s0, size_t end, const char *key) {
  size_t start = s0, k = 0;
  for (size_t c = 1; c <= n; c++) {
    size_t stop = end, next = 0, comma = 0;
    if (c < n) {
      size_t t = s0 + (end - s0) / n * c;
      if (t <= start) t = start + 1;
      next = file_boundary(fd, t, end, key, &comma);
      if (next) stop = comma;
    }
    jobs[k].from = start;
    jobs[k].to = stop;
    k++;
    if (!next) break;
    start = next;
  }
  return k;
}

/* Runs jobs[1..n) on threads and jobs[0] here; returns the first failure or 0. */
static int run_spans(span_job *jobs, size_t n) {
  pthread_t tid[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (size_t i = 1; i < n; i++)
    started[i] = pthread_create(&tid[i], NULL, parse_span, &jobs[i]) == 0;
  parse_span(&jobs[0]);
  for (size_t i = 1; i < n; i++) {
    if (started[i])
      pthread_join(tid[i], NULL);
    else
      parse_span(&jobs[i]); /* no thread: parse it here */
  }
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    if (jobs[i].rc && !rc) rc = jobs[i].rc;
  return rc;
}

/* The list's items: [*s0, *end) of a file of len bytes whose first iteration opens with
 * key (read into key, size n). False when the file does not look like a list. */
static bool list_layout(int fd, size_t len, size_t *s0, size_t *end, char *key, size_t n) {
  char head[PROBE], tail[PROBE];
  size_t nh = len < PROBE ? len : PROBE, nt = nh;
  if (!read_at(fd, head, nh, 0) || !read_at(fd, tail, nt, len - nt)) return false;
  size_t a = 0, b = nt;
  while (a < nh && ws(head[a])) a++;
  while (b > 0 && ws(tail[b - 1])) b--;
  if (a >= nh || head[a] != '[' || b == 0 || tail[b - 1] != ']') return false;
  *s0 = a + 1;
  *end = len - nt + b - 1; /* the closing bracket */
  return *end > *s0 && first_key(head, a + 1, nh, key, n);
}

int pb__parse_parallel(int fd, size_t len, pb_record *r, bool memory) {
  size_t window = window_size();
  if (window == 0 || len < 2 * window) return -1;
  size_t s0, end;
  char key[128];
  if (!list_layout(fd, len, &s0, &end, key, sizeof key)) return -1;
  size_t nspans = len / MIN_CHUNK, threads = (size_t)pb__analysis_threads();
  if (nspans > threads) nspans = threads;
  if (nspans < 1) nspans = 1;

  span_job jobs[MAX_THREADS];
  memset(jobs, 0, sizeof jobs);
  size_t n = make_spans(jobs, nspans, fd, s0, end, key);
  for (size_t i = 0; i < n; i++) {
    jobs[i].fd = fd;
    jobs[i].key = key;
    jobs[i].window = window;
    jobs[i].memory = memory;
    jobs[i].rec = i == 0 ? r : &jobs[i].scratch;
    if (i) pb__rec_reserve(&jobs[i].scratch, jobs[i].to - jobs[i].from, memory);
  }
  pb__rec_mark before;
  pb__rec_mark_get(r, &before);
  int rc = run_spans(jobs, n) ? -1 : 0;
  for (size_t i = 1; i < n && rc == 0; i++) rc = pb__rec_append(r, &jobs[i].scratch);
  for (size_t i = 1; i < n; i++) pb__rec_free(&jobs[i].scratch);
  if (rc == -1) pb__rec_rollback(r, &before);
  return rc;
}
