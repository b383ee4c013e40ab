/*
 * fuzz_roundtrip.c - records random names, topics, extras and values, saves,
 * and checks that the files parse and read back exactly.
 *
 * The input drives: a benchmarker name (through a registry, so the name is
 * sanitised into a file name), up to 4 topic names (any bytes), 1 to 4
 * iterations of up to 8 steps each, and per step an optional extra built as
 * valid JSON text from the input (numbers, strings with any bytes escaped,
 * arrays, objects). Checks, with jansson:
 *   - the run folder holds the three record files (and the run metadata
 *     file, if any) and nothing else; nothing is written outside it;
 *   - DATA: one entry per iteration, STEP_NUMBER in order; per iteration the
 *     topics in first-use order as their JSON key (invalid UTF-8 as U+FFFD),
 *     then gstop and GLOBAL; each call's crono_counter, and its extra equal to
 *     jansson's parse of the text recorded; absolutes = sum of the calls;
 *   - SUMMARY: exactly the topics used, gstop and GLOBAL.
 * Topics that collide once written (finding REL-F3) skip the per-key checks.
 */
#include <math.h>

#include "fuzz_common.h"

#include "porter_bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Files found under the registry root by count_file, and those outside the run folder. */
static const char *g_run_dir;
static size_t g_files, g_outside;

static int count_file(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag != FTW_F && flag != FTW_SL) return 0;
  g_files++;
  size_t n = strlen(g_run_dir);
  if (strncmp(path, g_run_dir, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/')) {
    g_outside++;
  } else if (!strstr(path, "_STEP_DICT_") && !strstr(path, "_MEMORY.json") &&
             !strstr(path, "porter_bench_run.json")) {
    g_outside++; /* an unexpected file in the run folder */
  }
  return 0;
}

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static uint8_t next(reader *r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

/* Up to max bytes from the input, as a NUL-terminated string without NULs. */
static char *bytes(reader *r, size_t max) {
  size_t len = next(r) % (max + 1);
  char *s = malloc(len + 1);
  if (!s) abort();
  size_t k = 0;
  for (size_t i = 0; i < len && r->n; i++) {
    uint8_t c = next(r);
    s[k++] = c ? (char)c : 'z';
  }
  s[k] = '\0';
  return s;
}

/* ---- building JSON text ---- */

typedef struct buf {
  char *s;
  size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    if (!b->s) abort();
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

/* A JSON string of bytes from the input: ASCII as is, other bytes escaped as \u00XX. */
static void gen_string(buf *b, reader *r) {
  puts_(b, "\"");
  size_t len = next(r) % 12;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = next(r);
    char tmp[8];
    if (c == '"' || c == '\\')
      snprintf(tmp, sizeof tmp, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      snprintf(tmp, sizeof tmp, "\\u%04x", c);
    else
      snprintf(tmp, sizeof tmp, "%c", c);
    puts_(b, tmp);
  }
  puts_(b, "\"");
}

static void gen_value(buf *b, reader *r, int depth) {
  uint8_t kind = next(r) % (depth < 4 ? 8 : 6);
  char tmp[64];
  switch (kind) {
    case 0: puts_(b, "null"); break;
    case 1: puts_(b, next(r) & 1 ? "true" : "false"); break;
    case 2: { /* an integer within int64 */
      uint64_t u = 0;
      for (int i = 0; i < 8; i++) u = (u << 8) | next(r);
      int64_t v;
      memcpy(&v, &u, sizeof v);
      snprintf(tmp, sizeof tmp, "%lld", (long long)(v / ((int64_t)1 << (next(r) % 63))));
      puts_(b, tmp);
      break;
    }
    case 3: { /* a finite double, shortest round trip */
      uint64_t bits = 0;
      for (int i = 0; i < 8; i++) bits = (bits << 8) | next(r);
      double d;
      memcpy(&d, &bits, sizeof d);
      if (!isfinite(d) || fabs(d) >= 1e308) d = (double)(bits >> 11) / 3.0; /* REL-F10 */
      snprintf(tmp, sizeof tmp, "%.17g", d);
      puts_(b, tmp);
      break;
    }
    case 4:
    case 5: gen_string(b, r); break;
    case 6: {
      puts_(b, "[");
      int n = next(r) % 4;
      for (int i = 0; i < n; i++) {
        if (i) puts_(b, ",");
        gen_value(b, r, depth + 1);
      }
      puts_(b, "]");
      break;
    }
    default: {
      puts_(b, "{");
      int n = next(r) % 4;
      for (int i = 0; i < n; i++) {
        if (i) puts_(b, ",");
        snprintf(tmp, sizeof tmp, "\"k%d\":", i); /* distinct keys */
        puts_(b, tmp);
        gen_value(b, r, depth + 1);
      }
      puts_(b, "}");
      break;
    }
  }
}

/* ---- expected JSON keys ---- */

/* The key a topic name must read back as: invalid UTF-8 bytes -> U+FFFD. */
static char *expected_key(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(3 * n + 1), *o = out;
  if (!out) abort();
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  while (p < end) {
    unsigned char c = *p;
    int len = 0;
    uint32_t cp = 0;
    if (c < 0x80)
      len = 1, cp = c;
    else if (c >= 0xC2 && c <= 0xDF)
      len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      len = 4, cp = c & 0x07;
    bool ok = len > 0 && end - p >= len;
    for (int i = 1; ok && i < len; i++) {
      if ((p[i] & 0xC0) != 0x80)
        ok = false;
      else
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
               (cp >= 0xD800 && cp <= 0xDFFF))) {
      ok = false;
    }
    if (ok) {
      memcpy(o, p, (size_t)len);
      o += len;
      p += len;
    } else {
      memcpy(o, "\xef\xbf\xbd", 3);
      o += 3;
      p++;
    }
  }
  *o = '\0';
  return out;
}

static bool reserved(const char *key) {
  return !strcmp(key, "gstop") || !strcmp(key, "GLOBAL") || !strcmp(key, "gstep") ||
         !strcmp(key, "gstep_memory") || !strcmp(key, "gstop_memory");
}

/* ---- the target ---- */

enum { MAX_TOPICS = 4, MAX_ITERS = 4, MAX_STEPS = 8 };

typedef struct step {
  int topic;
  char *extra; /* NULL or JSON text */
} step;

static size_t g_collisions;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader rd = {data, size};
  char *name = bytes(&rd, 40);
  if (!name[0]) {
    free(name);
    name = strdup("n");
  }
  int ntopics = 1 + next(&rd) % MAX_TOPICS;
  char *topics[MAX_TOPICS], *keys[MAX_TOPICS];
  for (int t = 0; t < ntopics; t++) {
    topics[t] = bytes(&rd, 24);
    keys[t] = expected_key(topics[t]);
    if (reserved(keys[t])) { /* the iteration's own keys: see test_names (REL-F4) */
      free(topics[t]), free(keys[t]);
      topics[t] = strdup("r");
      keys[t] = strdup("r");
    }
  }
  bool collide = false;
  for (int t = 0; t < ntopics; t++) {
    for (int u = 0; u < t; u++) {
      if (strcmp(keys[t], keys[u]) == 0 && strcmp(topics[t], topics[u]) != 0) collide = true;
    }
  }
  if (collide) g_collisions++; /* REL-F3 */
  int niters = 1 + next(&rd) % MAX_ITERS;
  step steps[MAX_ITERS][MAX_STEPS];
  int nsteps[MAX_ITERS];
  for (int i = 0; i < niters; i++) {
    nsteps[i] = next(&rd) % (MAX_STEPS + 1);
    for (int j = 0; j < nsteps[i]; j++) {
      steps[i][j].topic = next(&rd) % ntopics;
      steps[i][j].extra = NULL;
      if (next(&rd) & 1) {
        buf b = {0};
        gen_value(&b, &rd, 0);
        steps[i][j].extra = b.s;
      }
    }
  }

  /* Record through a registry. */
  char root[128];
  snprintf(root, sizeof root, "%s/rt", fuzz_scratch());
  pb_registry *reg = NULL;
  if (pb_registry_create(root, &reg) != PB_OK) abort();
  pb_bench *b = pb_registry_get(reg, name);
  if (!b) FUZZ_DEFECT("pb_registry_get failed: %s", pb_last_error());
  for (int i = 0; i < niters; i++) {
    if (pb_gstep(b) != PB_OK) FUZZ_DEFECT("pb_gstep");
    for (int j = 0; j < nsteps[i]; j++) {
      int rc = pb_step_ex(b, topics[steps[i][j].topic], steps[i][j].extra, NULL);
      if (rc != PB_OK)
        FUZZ_DEFECT("pb_step_ex(%s) returned %s", steps[i][j].extra, pb_err_name(rc));
    }
  }
  if (pb_gstop(b) != PB_OK) FUZZ_DEFECT("pb_gstop");
  if (pb_registry_save(reg) != PB_OK) FUZZ_DEFECT("pb_registry_save: %s", pb_last_error());

  /* Files: only in the run folder. */
  char run[256];
  if (pb_registry_run_dir(reg, run, sizeof run) < 0) abort();
  const char *path = pb_bench_path(b);
  size_t rl = strlen(run);
  if (strncmp(path, run, rl) != 0 || path[rl] != '/' || strchr(path + rl + 1, '/')) {
    FUZZ_DEFECT("benchmarker '%s' saves to '%s', outside '%s'", name, path, run);
  }

  g_run_dir = run;
  g_files = g_outside = 0;
  nftw(root, count_file, 16, FTW_PHYS);
  if (g_outside)
    FUZZ_DEFECT("%zu unexpected files under '%s' (run folder '%s')", g_outside, root, run);
  if (g_files < 3) FUZZ_DEFECT("only %zu files written", g_files);

  char file[512];
  json_error_t err;
  snprintf(file, sizeof file, "%s%s", path, PB_SUFFIX_DATA);
  json_t *d = json_load_file(file, FUZZ_JSON_FLAGS, &err);
  if (!d) FUZZ_DEFECT("%s does not parse: %s", file, err.text);
  if ((int)json_array_size(d) != niters)
    FUZZ_DEFECT("%zu iterations, %d recorded", json_array_size(d), niters);
  for (int i = 0; i < niters && !collide; i++) {
    json_t *it = json_array_get(d, (size_t)i);
    json_t *sn = json_object_get(json_object_get(it, "info"), "STEP_NUMBER");
    if ((long long)json_number_value(sn) != i) FUZZ_DEFECT("STEP_NUMBER");
    json_t *calls = json_object_get(it, "individual_calls");
    json_t *abs = json_object_get(it, "absolutes");
    /* Expected topic order: first use; each topic's calls in order. */
    int order[MAX_STEPS], norder = 0;
    for (int j = 0; j < nsteps[i]; j++) {
      bool seen = false;
      for (int k = 0; k < norder; k++)
        seen |= keys[order[k]] == keys[steps[i][j].topic] ||
                !strcmp(keys[order[k]], keys[steps[i][j].topic]);
      if (!seen) order[norder++] = steps[i][j].topic;
    }
    if (json_object_size(calls) != (size_t)norder + 2) {
      FUZZ_DEFECT("iteration %d: %zu topics, expected %d", i, json_object_size(calls), norder + 2);
    }
    const char *key;
    json_t *list;
    int pos = 0;
    json_object_foreach(calls, key, list) {
      const char *want = pos < norder ? keys[order[pos]] : pos == norder ? "gstop" : "GLOBAL";
      if (strcmp(key, want) != 0) FUZZ_DEFECT("iteration %d: key %d differs", i, pos);
      pos++;
    }
    for (int k = 0; k < norder; k++) {
      list = json_object_get(calls, keys[order[k]]);
      size_t c = 0;
      double sum = 0;
      for (int j = 0; j < nsteps[i]; j++) {
        if (strcmp(keys[steps[i][j].topic], keys[order[k]]) != 0) continue;
        json_t *call = json_array_get(list, c++);
        if (!call) FUZZ_DEFECT("iteration %d: a call is missing", i);
        if ((long long)json_number_value(json_object_get(call, "crono_counter")) != j) {
          FUZZ_DEFECT(
              "iteration %d: crono_counter %lld, expected %d", i,
              (long long)(long long)json_number_value(json_object_get(call, "crono_counter")), j);
        }
        double t = json_number_value(json_object_get(call, "time"));
        if (!(t >= 0)) FUZZ_DEFECT("time %g", t);
        sum += t;
        json_t *extra = json_object_get(call, "extra");
        if (steps[i][j].extra) {
          json_t *want = json_loads(steps[i][j].extra, FUZZ_JSON_FLAGS, &err);
          if (!want)
            FUZZ_DEFECT("generator made invalid JSON '%s': %s", steps[i][j].extra, err.text);
          if (!json_equal(want, extra))
            FUZZ_DEFECT("extra '%s' reads back differently", steps[i][j].extra);
          json_decref(want);
        } else if (!json_is_null(extra)) {
          FUZZ_DEFECT("no extra recorded, but the file has one");
        }
      }
      if (c != json_array_size(list))
        FUZZ_DEFECT("iteration %d: %zu calls in the file, %zu made", i, json_array_size(list), c);
      double a = json_number_value(json_object_get(abs, keys[order[k]]));
      if (fabs(a - sum) > 1e-9 * (1 + c)) FUZZ_DEFECT("absolutes %.17g != sum %.17g", a, sum);
    }
  }
  json_decref(d);

  snprintf(file, sizeof file, "%s%s", path, PB_SUFFIX_SUMMARY);
  json_t *s = json_load_file(file, FUZZ_JSON_FLAGS, &err);
  if (!s) FUZZ_DEFECT("%s does not parse: %s", file, err.text);
  if (!collide) {
    size_t used = 0;
    bool is_used[MAX_TOPICS] = {false};
    for (int i = 0; i < niters; i++) {
      for (int j = 0; j < nsteps[i]; j++) is_used[steps[i][j].topic] = true;
    }
    for (int t = 0; t < ntopics; t++) {
      bool dup = false;
      for (int u = 0; u < t; u++) dup |= is_used[u] && !strcmp(keys[u], keys[t]);
      if (is_used[t] && !dup) {
        used++;
        if (!json_object_get(s, keys[t])) FUZZ_DEFECT("SUMMARY lacks a topic");
      }
    }
    if (json_object_size(s) != used + 2)
      FUZZ_DEFECT("SUMMARY has %zu topics, expected %zu", json_object_size(s), used + 2);
  }
  json_decref(s);
  snprintf(file, sizeof file, "%s%s", path, PB_SUFFIX_MEMORY);
  json_t *m = json_load_file(file, FUZZ_JSON_FLAGS, &err);
  if (!m || !json_is_array(m) || json_array_size(m) != 0) FUZZ_DEFECT("MEMORY is not []");
  json_decref(m);

  pb_registry_destroy(reg);
  fuzz_rmtree(root);
  for (int i = 0; i < niters; i++) {
    for (int j = 0; j < nsteps[i]; j++) free(steps[i][j].extra);
  }
  for (int t = 0; t < ntopics; t++) free(topics[t]), free(keys[t]);
  free(name);
  return 0;
}
