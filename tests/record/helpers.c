/*
 * helpers.c - shared code of the recording library's tests (see helpers.h).
 */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TH_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define TH_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TH_ASAN)
#define TH_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(TH_TSAN)
#define TH_TSAN 1
#endif

bool th_close(double a, double b) {
  double diff = fabs(a - b);
  double scale = fmax(fabs(a), fabs(b));
  return diff <= 1e-12 || diff <= 1e-9 * scale;
}

bool th_asan(void) {
#if defined(TH_ASAN)
  return true;
#else
  return false;
#endif
}

bool th_sanitized(void) {
#if defined(TH_ASAN) || defined(TH_TSAN) || defined(PB_TEST_SANITIZED)
  return true;
#else
  return false;
#endif
}

size_t th_scaled(size_t n, size_t min_n) {
  double scale = th_sanitized() ? 0.1 : 1.0;
  const char *env = getenv("PB_TEST_SCALE");
  if (env != NULL && env[0] != '\0') {
    char *end = NULL;
    double v = strtod(env, &end);
    if (end != env && v > 0) scale = v;
  }
  double scaled = (double)n * scale;
  size_t out = scaled < 1 ? 1 : (size_t)scaled;
  return out < min_n ? min_n : out;
}

char *th_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *out = NULL;
  if (vasprintf(&out, fmt, ap) < 0) out = NULL;
  va_end(ap);
  if (out == NULL) {
    fprintf(stderr, "th_strf: out of memory\n");
    abort();
  }
  return out;
}

char *th_mkdtemp(const char *tag) {
  char *tmpl = th_strf("/tmp/pbtest-%s.XXXXXX", tag != NULL ? tag : "x");
  if (mkdtemp(tmpl) == NULL) {
    fprintf(stderr, "mkdtemp(%s): %s\n", tmpl, strerror(errno));
    free(tmpl);
    return NULL;
  }
  return tmpl;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

void th_rmtree(const char *path) {
  if (path == NULL || strncmp(path, "/tmp/pbtest-", 12) != 0) return; /* never elsewhere */
  nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool th_exists(const char *path) {
  struct stat st;
  return path != NULL && lstat(path, &st) == 0;
}

bool th_is_file(const char *path) {
  struct stat st;
  return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool th_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* nftw has no user pointer: the counters live here (tests call this from one thread). */
static size_t g_count_files, g_count_bad;

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag != FTW_F) return 0;
  if (has_suffix(path, PB_SUFFIX_DATA) || has_suffix(path, PB_SUFFIX_SUMMARY) ||
      has_suffix(path, PB_SUFFIX_MEMORY)) {
    g_count_files++;
  } else if (!has_suffix(path, ".json") || strstr(path, ".tmp") != NULL) {
    fprintf(stderr, "unexpected file: %s\n", path);
    g_count_bad++;
  }
  return 0;
}

size_t th_count_files(const char *dir, size_t *bad) {
  g_count_files = 0;
  g_count_bad = 0;
  nftw(dir, count_entry, 16, FTW_PHYS);
  if (bad != NULL) *bad = g_count_bad;
  return g_count_files;
}

json_t *th_load_json(const char *path) {
  json_error_t err;
  json_t *j = json_load_file(path, JSON_DECODE_ANY, &err);
  if (j == NULL)
    fprintf(stderr, "cannot parse %s: line %d column %d: %s\n", path, err.line, err.column,
            err.text);
  return j;
}

json_t *th_load_record(const char *prefix, const char *suffix) {
  char *path = th_strf("%s%s", prefix, suffix);
  json_t *j = th_load_json(path);
  free(path);
  return j;
}

json_t *th_must_load(pb_bench *b, const char *suffix) {
  const char *prefix = pb_bench_path(b);
  if (prefix == NULL) fail_msg("benchmarker has no path");
  json_t *j = th_load_record(prefix, suffix);
  if (j == NULL) fail_msg("%s%s does not parse (or is missing)", prefix, suffix);
  return j;
}

const char *th_key_at(json_t *obj, size_t i) {
  void *it = json_object_iter(obj);
  for (size_t k = 0; it != NULL && k < i; k++) it = json_object_iter_next(obj, it);
  return it != NULL ? json_object_iter_key(it) : NULL;
}

void th_assert_keys(json_t *obj, const char *const *keys) {
  if (!json_is_object(obj)) fail_msg("not a JSON object");
  size_t n = 0;
  while (keys[n] != NULL) n++;
  char *dump = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
  for (size_t i = 0; i < n; i++) {
    const char *k = th_key_at(obj, i);
    if (k == NULL || strcmp(k, keys[i]) != 0)
      fail_msg("key %zu is '%s', expected '%s' in %.400s", i, k != NULL ? k : "(none)", keys[i],
               dump != NULL ? dump : "?");
  }
  if (json_object_size(obj) != n)
    fail_msg("object has %zu keys, expected %zu: %.400s", json_object_size(obj), n,
             dump != NULL ? dump : "?");
  free(dump);
}

size_t th_calls(json_t *iteration, const char *topic) {
  json_t *calls = json_object_get(json_object_get(iteration, "individual_calls"), topic);
  return json_is_array(calls) ? json_array_size(calls) : 0;
}

double th_call_time(json_t *iteration, const char *topic, size_t j) {
  json_t *calls = json_object_get(json_object_get(iteration, "individual_calls"), topic);
  json_t *t = json_object_get(json_array_get(calls, j), "time");
  if (!json_is_number(t)) fail_msg("no time for call %zu of topic '%s'", j, topic);
  return json_number_value(t);
}

bool th_is_ns_seconds(double t) {
  if (!isfinite(t) || t < 0) return false;
  double ns = nearbyint(t * 1e9);
  return (double)(long long)ns / 1e9 == t;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double th_percentile(const double *v, size_t n, double p) {
  double *s = malloc(n * sizeof *s);
  if (s == NULL) abort();
  memcpy(s, v, n * sizeof *s);
  qsort(s, n, sizeof *s, cmp_double);
  double pos = p / 100.0 * (double)(n - 1);
  size_t lo = (size_t)floor(pos);
  size_t hi = lo + 1 < n ? lo + 1 : lo;
  double frac = pos - (double)lo;
  double out = s[lo] + (s[hi] - s[lo]) * frac;
  free(s);
  return out;
}

th_stats th_summarize(const double *v, size_t n) {
  th_stats st = {0, 0, 0, 0};
  double sum = 0, mn = v[0], mx = v[0];
  bool any_nonzero = false;
  for (size_t i = 0; i < n; i++) {
    sum += v[i];
    if (v[i] < mn) mn = v[i];
    if (v[i] > mx) mx = v[i];
    if (v[i] != 0) any_nonzero = true;
  }
  st.mean = sum / (double)n;
  st.min = any_nonzero ? mn : 0;
  st.max = mx;
  double p75 = th_percentile(v, n, 75), p25 = th_percentile(v, n, 25);
  double iqr = p75 - p25;
  double upper = p75 + 1.5 * iqr, lower = fmax(p25 - 1.5 * iqr, 0.0);
  double fsum = 0;
  size_t fn = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] <= upper && v[i] >= lower) {
      fsum += v[i];
      fn++;
    }
  }
  st.quantile_filtered = fn > 0 ? fsum / (double)fn : NAN;
  return st;
}

void th_sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

uint64_t th_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  unsigned long long size = 0, resident = 0;
  int n = fscanf(f, "%llu %llu", &size, &resident);
  fclose(f);
  if (n != 2) return 0;
  return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static pthread_mutex_t g_warn_lock = PTHREAD_MUTEX_INITIALIZER;

void th_warning_counter(const char *message, void *user_data) {
  th_warnings *w = user_data;
  pthread_mutex_lock(&g_warn_lock);
  w->count++;
  snprintf(w->last, sizeof w->last, "%s", message != NULL ? message : "(null)");
  pthread_mutex_unlock(&g_warn_lock);
}
