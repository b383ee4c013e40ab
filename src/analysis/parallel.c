/*
 * parallel.c - parsing one big record file on several threads.
 *
 * A data or memory file is one JSON list of iteration objects. It is cut
 * into chunks at iteration boundaries, each chunk is parsed as a list of its
 * own on its own thread into a scratch record, and the scratch records are
 * appended in file order. Boundaries are found without a full scan: from
 * each cut point, the next `, {"<first key>"` where <first key> is the key
 * that opens the first iteration. A false boundary (the same text inside an
 * "extra" value) leaves some chunk unbalanced, so its parse fails; any
 * failure makes the caller parse the file again on one thread, which gives
 * the exact diagnostics, so this path never changes what is loaded.
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 8
#define MIN_CHUNK (4u << 20) /* below 4 MiB a thread does not pay for itself */

typedef struct chunk_job {
  const char *text; /* the chunk's iterations, without the list's brackets */
  size_t len;
  bool memory;
  pb_record rec; /* scratch record */
  int rc;
} chunk_job;

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

static void *parse_chunk(void *arg) {
  chunk_job *j = arg;
  j->rc = PB_ENOMEM;
  char *buf = malloc(j->len + 2 + PB__JSON_PADDING);
  pb__json_parser *jp = pb__json_parser_new();
  if (buf && jp) {
    buf[0] = '[';
    memcpy(buf + 1, j->text, j->len);
    buf[j->len + 1] = ']';
    /* the mapped file's pages of this chunk are not needed any more: let
     * them go from the resident set (a later read, by the one-thread
     * fallback, maps them again from the page cache) */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)j->text + page - 1) / page * page;
    uintptr_t hi = ((uintptr_t)j->text + j->len) / page * page;
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
    memset(buf + j->len + 2, 0, PB__JSON_PADDING);
    pb__rec_reserve(&j->rec, j->len, j->memory);
    pb__jerr e;
    j->rc = j->memory ? pb__json_parse_memory(jp, buf, j->len + 2, &j->rec, &e)
                      : pb__json_parse_data(jp, buf, j->len + 2, &j->rec, &e);
  }
  pb__json_parser_free(jp);
  free(buf);
  return NULL;
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
 * `,` then `{` then key, with white space between. 0 if none before end. */
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

int pb__parse_parallel(const char *buf, size_t len, pb_record *r, bool memory) {
  int threads = pb__analysis_threads();
  size_t nchunks = len / MIN_CHUNK;
  if (nchunks > (size_t)threads) nchunks = (size_t)threads;
  if (nchunks < 2) return -1;
  size_t s0 = 0, end = len;
  while (s0 < len && ws(buf[s0])) s0++;
  while (end > s0 && ws(buf[end - 1])) end--;
  if (s0 >= len || buf[s0] != '[' || end == 0 || buf[end - 1] != ']') return -1;
  s0++;
  end--; /* the closing bracket */
  char key[128];
  if (!first_key(buf, s0, end, key, sizeof key)) return -1;

  chunk_job jobs[MAX_THREADS];
  memset(jobs, 0, sizeof jobs);
  size_t start = s0, n = 0;
  for (size_t c = 1; c <= nchunks; c++) {
    size_t stop = end, next = 0, comma = 0;
    if (c < nchunks) {
      size_t t = s0 + (end - s0) / nchunks * c;
      if (t <= start) t = start + 1;
      next = next_boundary(buf, t, end, key, &comma);
      if (next) stop = comma;
    }
    jobs[n].text = buf + start;
    jobs[n].len = stop - start;
    jobs[n].memory = memory;
    n++;
    if (!next) break;
    start = next;
  }
  if (n < 2) return -1;

  pthread_t tid[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (size_t i = 1; i < n; i++)
    started[i] = pthread_create(&tid[i], NULL, parse_chunk, &jobs[i]) == 0;
  parse_chunk(&jobs[0]);
  for (size_t i = 1; i < n; i++) {
    if (started[i])
      pthread_join(tid[i], NULL);
    else
      parse_chunk(&jobs[i]); /* no thread: parse it here */
  }
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    if (jobs[i].rc) rc = -1;
  for (size_t i = 0; i < n && rc == 0; i++) rc = pb__rec_append(r, &jobs[i].rec);
  for (size_t i = 0; i < n; i++) pb__rec_free(&jobs[i].rec);
  return rc;
}
