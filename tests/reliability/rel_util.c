/*
 * rel_util.c - see rel_util.h.
 */
#include "rel_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REL_SAN_ 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REL_SAN_ 1
#endif
#endif

bool rel_sanitized(void) {
#if defined(REL_SAN_) || defined(REL_SANITIZED)
  return true;
#else
  return false;
#endif
}

long rel_count(const char *name, long def, bool sanitized_div) {
  char var[64];
  snprintf(var, sizeof var, "PB_REL_%s", name);
  const char *env = getenv(var);
  if (env && *env) {
    char *end;
    long v = strtol(env, &end, 10);
    if (*end == '\0' && v > 0) return v;
  }
  if (sanitized_div && rel_sanitized()) {
    def /= 4;
    if (def < 1) def = 1;
  }
  return def;
}

char *rel_mkdtemp(const char *tag) {
  char *tmpl = rel_strf("/tmp/pbrel-%s.XXXXXX", tag);
  if (!mkdtemp(tmpl)) fail_msg("mkdtemp(%s): %s", tmpl, strerror(errno));
  return tmpl;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

void rel_rmtree(const char *path) {
  if (!path) return;
  /* A read-only left-over is made writable first (best effort). */
  nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

char *rel_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = malloc((size_t)n + 1);
  if (!s) abort();
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

bool rel_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

bool rel_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

/* ---- walking ---- */

static void walk_into(const char *root, const char *rel, rel_tree *t, size_t *cap) {
  char *dir = rel[0] ? rel_strf("%s/%s", root, rel) : rel_strf("%s", root);
  DIR *d = opendir(dir);
  free(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *child = rel[0] ? rel_strf("%s/%s", rel, de->d_name) : rel_strf("%s", de->d_name);
    char *full = rel_strf("%s/%s", root, child);
    struct stat st;
    bool is_dir = lstat(full, &st) == 0 && S_ISDIR(st.st_mode);
    free(full);
    if (t->n == *cap) {
      *cap = *cap ? *cap * 2 : 16;
      t->e = realloc(t->e, *cap * sizeof *t->e);
      if (!t->e) abort();
    }
    t->e[t->n].rel = child;
    t->e[t->n].is_dir = is_dir;
    t->n++;
    if (is_dir) walk_into(root, child, t, cap);
  }
  closedir(d);
}

rel_tree rel_walk(const char *root) {
  rel_tree t = {NULL, 0};
  size_t cap = 0;
  walk_into(root, "", &t, &cap);
  return t;
}

void rel_tree_free(rel_tree *t) {
  for (size_t i = 0; i < t->n; i++) free(t->e[i].rel);
  free(t->e);
  t->e = NULL;
  t->n = 0;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool rel_is_record_name(const char *name) {
  return ends_with(name, PB_SUFFIX_DATA) || ends_with(name, PB_SUFFIX_SUMMARY) ||
         ends_with(name, PB_SUFFIX_MEMORY) || rel_is_journal_name(name);
}

bool rel_is_journal_name(const char *name) {
  return !rel_is_tmp_name(name) &&
         (ends_with(name, "_STEP_DICT_DATA.journal") || ends_with(name, "_MEMORY.journal"));
}

bool rel_is_tmp_name(const char *name) { return strstr(name, ".tmp.") != NULL; }

/* ---- JSON ---- */

json_t *rel_load(const char *path, json_error_t *err) {
  return json_load_file(path, JSON_DECODE_ANY, err);
}

json_t *rel_must_load(const char *prefix, const char *suffix) {
  char *path = rel_strf("%s%s", prefix, suffix);
  json_error_t err;
  json_t *j = rel_load(path, &err);
  if (!j) {
    fail_msg("%s does not parse: line %d column %d: %s", path, err.line, err.column, err.text);
  }
  free(path);
  return j;
}

#define WHY(...)                   \
  do {                             \
    snprintf(why, n, __VA_ARGS__); \
    return -1;                     \
  } while (0)

static long info_step(json_t *it) {
  json_t *info = json_object_get(it, "info");
  json_t *sn = json_object_get(info, "STEP_NUMBER");
  return json_is_integer(sn) ? (long)json_integer_value(sn) : -1;
}

static double info_time(json_t *it, const char *key) {
  json_t *v = json_object_get(json_object_get(it, "info"), key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

long rel_check_data_prefix(json_t *data, const char *const *topics, const char *extra_topic,
                           bool allow_open, char *why, size_t n) {
  if (!json_is_array(data)) WHY("DATA is not a list");
  size_t k = json_array_size(data);
  size_t nt = 0;
  while (topics[nt]) nt++;
  for (size_t i = 0; i < k; i++) {
    json_t *it = json_array_get(data, i);
    if (!json_is_object(it)) WHY("iteration %zu is not an object", i);
    if (info_step(it) != (long)i) WHY("iteration %zu has STEP_NUMBER %ld", i, info_step(it));
    double start = info_time(it, "START_TIME"), stop = info_time(it, "STOP_TIME");
    bool open = stop == 0;
    if (!(start > 0)) WHY("iteration %zu: START_TIME %g", i, start);
    if (open && !(allow_open && i + 1 == k)) WHY("iteration %zu is open (STOP_TIME 0)", i);
    if (!open && !(stop >= start))
      WHY("iteration %zu: STOP_TIME %g < START_TIME %g", i, stop, start);
    json_t *abs = json_object_get(it, "absolutes");
    json_t *calls = json_object_get(it, "individual_calls");
    if (!json_is_object(abs) || !json_is_object(calls)) WHY("iteration %zu: no absolutes/calls", i);
    size_t want = open ? 0 : nt + 1;
    if (!open && json_object_size(calls) != want) {
      WHY("iteration %zu has %zu topics, expected %zu", i, json_object_size(calls), want);
    }
    if (json_object_size(abs) != json_object_size(calls)) {
      WHY("iteration %zu: %zu absolutes for %zu topics", i, json_object_size(abs),
          json_object_size(calls));
    }
    /* Keys in order: the user topics (as many as there are when open), then GLOBAL. */
    size_t pos = 0;
    const char *key;
    json_t *list;
    json_object_foreach(calls, key, list) {
      const char *expect = pos < nt ? topics[pos] : "GLOBAL";
      if (strcmp(key, expect) != 0)
        WHY("iteration %zu: topic %zu is '%s', expected '%s'", i, pos, key, expect);
      if (!json_is_array(list) || json_array_size(list) != 1) {
        WHY("iteration %zu: topic '%s' has %zu calls", i, key, json_array_size(list));
      }
      json_t *call = json_array_get(list, 0);
      json_t *t = json_object_get(call, "time");
      json_t *cc = json_object_get(call, "crono_counter");
      if (!json_is_number(t) || json_number_value(t) < 0) WHY("iteration %zu: '%s' time", i, key);
      long want_cc = pos < nt ? (long)pos : (long)nt;
      if (!json_is_integer(cc) || json_integer_value(cc) != want_cc) {
        WHY("iteration %zu: '%s' crono_counter %lld, expected %ld", i, key,
            json_is_integer(cc) ? (long long)json_integer_value(cc) : -1LL, want_cc);
      }
      json_t *a = json_object_get(abs, key);
      if (!json_is_number(a) || json_number_value(a) != json_number_value(t)) {
        WHY("iteration %zu: absolutes['%s'] differs from its only call", i, key);
      }
      if (extra_topic && strcmp(key, extra_topic) == 0) {
        json_t *ex = json_object_get(call, "extra");
        json_t *iv = json_object_get(ex, "i");
        if (!json_is_integer(iv) || json_integer_value(iv) != (json_int_t)i) {
          WHY("iteration %zu: extra of '%s' is not {\"i\": %zu}", i, key, i);
        }
      }
      pos++;
    }
    if (!open && pos != nt + 1) WHY("iteration %zu: %zu topics", i, pos);
  }
  return (long)k;
}

long rel_check_memory_prefix(json_t *mem, char *why, size_t n) {
  if (!json_is_array(mem)) WHY("MEMORY is not a list");
  size_t k = json_array_size(mem);
  for (size_t i = 0; i < k; i++) {
    json_t *it = json_array_get(mem, i);
    if (info_step(it) != (long)i) WHY("memory entry %zu has STEP_NUMBER %ld", i, info_step(it));
    json_t *data = json_object_get(it, "data");
    if (!json_is_object(data)) WHY("memory entry %zu: no data", i);
    const char *key;
    json_t *list;
    json_object_foreach(data, key, list) {
      if (!json_is_array(list) || json_array_size(list) == 0)
        WHY("memory entry %zu: '%s' empty", i, key);
      size_t j;
      json_t *rec;
      json_array_foreach(list, j, rec) {
        json_t *rss = json_object_get(rec, "total memory usage");
        if (!json_is_integer(rss) || json_integer_value(rss) <= 0) {
          WHY("memory entry %zu: '%s'[%zu] has no RSS", i, key, j);
        }
      }
    }
    if (!json_object_get(data, "gstop")) WHY("memory entry %zu has no gstop record", i);
  }
  return (long)k;
}

bool rel_check_summary(json_t *sum, char *why, size_t n) {
  if (!json_is_object(sum)) {
    snprintf(why, n, "SUMMARY is not an object");
    return false;
  }
  const char *key;
  json_t *v;
  json_object_foreach(sum, key, v) {
    static const char *const keys[] = {"mean", "min", "max", "quantile_filtered"};
    for (size_t i = 0; i < 4; i++) {
      json_t *x = json_object_get(v, keys[i]);
      if (!json_is_number(x) && !(i == 3 && json_is_null(x))) {
        snprintf(why, n, "SUMMARY['%s'] lacks a numeric '%s'", key, keys[i]);
        return false;
      }
    }
  }
  return true;
}

size_t rel_count_calls(json_t *data, const char *topic) {
  size_t total = 0, i;
  json_t *it;
  json_array_foreach(data, i, it) {
    json_t *list = json_object_get(json_object_get(it, "individual_calls"), topic);
    total += json_array_size(list);
  }
  return total;
}

size_t rel_count_all_calls(json_t *data) {
  size_t total = 0, i;
  json_t *it;
  json_array_foreach(data, i, it) {
    const char *key;
    json_t *list;
    json_object_foreach(json_object_get(it, "individual_calls"), key, list) {
      if (strcmp(key, "GLOBAL") != 0) total += json_array_size(list);
    }
  }
  return total;
}
