/*
 * test_names.c - hostile benchmarker names, topic names and extras.
 *
 * Benchmarker names go through pb_registry_get: whatever the name, every file
 * must land directly in the run folder (the whole scratch root is walked), be
 * valid JSON, and two different names must never share a file. Topic names
 * must come back from the DATA file as valid JSON strings (escaped, invalid
 * UTF-8 replaced by U+FFFD). Extras: invalid text returns PB_EJSON with the
 * step still recorded (extra null); deep nesting and huge values either
 * return PB_EJSON or are accepted, and the files stay valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel_util.h"

/* jansson flags for reading record files: big integers and \u0000 are legal JSON. */
enum { LOAD_FLAGS = JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL };

static json_t *load_flags(const char *path, size_t flags) {
  json_error_t err;
  json_t *j = json_load_file(path, flags, &err);
  if (!j)
    fail_msg("%s does not parse: line %d column %d: %s", path, err.line, err.column, err.text);
  return j;
}

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  assert_non_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

/* The hostile names. Index 0.. are fixed; a few long ones are built at run time. */
static const char *const fixed_names[] = {"../../x",
                                          "../x",
                                          "..",
                                          ".",
                                          "/abs",
                                          "/",
                                          "//",
                                          "a/b",
                                          "a/../../b",
                                          "a\\b",
                                          "./hidden",
                                          ".hidden",
                                          "a\"b",
                                          "quote\"s'",
                                          "back\\slash\\",
                                          "ctl\x01\x02\x1f",
                                          "new\nline",
                                          "tab\there",
                                          "del\x7f",
                                          "bad\xff\xfe utf8",
                                          "\xc0\xaf",
                                          "\xed\xa0\x80",
                                          "ok-name_1.2",
                                          "caf\xc3\xa9",
                                          "emoji\xf0\x9f\x98\x80",
                                          "sp ace",
                                          "star*?<>|:",
                                          "~user",
                                          "$HOME",
                                          "%s%n%x",
                                          "a_b",
                                          "a_b-00000000",
                                          "nul-free",
                                          "GLOBAL",
                                          "gstop",
                                          "PERF_STEP_DICT_DATA.json",
                                          "x.tmp.1.2",
                                          "a.",
                                          "-dash"};

typedef struct named {
  char *name;
  pb_bench *b;
} named;

static void test_registry_names_stay_inside(void **state) {
  (void)state;
  char *scratch = rel_mkdtemp("names");
  char *root = rel_strf("%s/root", scratch);
  pb_registry *r = NULL;
  REL_ASSERT_OK(pb_registry_create(root, &r));
  size_t nfixed = sizeof fixed_names / sizeof *fixed_names;
  size_t nn = nfixed + 4;
  named *v = calloc(nn, sizeof *v);
  assert_non_null(v);
  for (size_t i = 0; i < nfixed; i++) v[i].name = strdup(fixed_names[i]);
  v[nfixed] = (named){repeat('a', 10 * 1024), NULL};     /* 10 KB */
  v[nfixed + 1] = (named){repeat('/', 10 * 1024), NULL}; /* 10 KB of slashes */
  v[nfixed + 2] = (named){repeat('a', 200), NULL};       /* > 128: cut + hash */
  v[nfixed + 3] = (named){repeat('a', 201), NULL};       /* same first 128 bytes */
  for (size_t i = 0; i < nn; i++) {
    v[i].b = pb_registry_get(r, v[i].name);
    if (!v[i].b) fail_msg("pb_registry_get(name %zu) failed: %s", i, pb_last_error());
    /* The same name gives the same benchmarker. */
    assert_ptr_equal(pb_registry_get(r, v[i].name), v[i].b);
    REL_ASSERT_OK(pb_gstep(v[i].b));
    char topic[32];
    snprintf(topic, sizeof topic, "marker%zu", i);
    REL_ASSERT_OK(pb_step(v[i].b, topic));
    REL_ASSERT_OK(pb_gstop(v[i].b));
  }
  REL_ASSERT_OK(pb_registry_save(r));
  char run[4096];
  assert_true(pb_registry_run_dir(r, run, sizeof run) > 0);
  size_t runlen = strlen(run);

  /* Every benchmarker's path is "<run>/<one component>"; no two are equal. */
  for (size_t i = 0; i < nn; i++) {
    const char *p = pb_bench_path(v[i].b);
    assert_non_null(p);
    if (strncmp(p, run, runlen) != 0 || p[runlen] != '/' || strchr(p + runlen + 1, '/')) {
      fail_msg("name %zu ('%.40s') saves to '%s', not directly in '%s'", i, v[i].name, p, run);
    }
    const char *base = p + runlen + 1;
    if (base[0] == '.' || base[0] == '\0')
      fail_msg("name %zu: hidden/empty file name '%s'", i, base);
    for (size_t j = 0; j < i; j++) {
      if (strcmp(p, pb_bench_path(v[j].b)) == 0) {
        fail_msg("names %zu ('%.40s') and %zu ('%.40s') share the file '%s'", j, v[j].name, i,
                 v[i].name, p);
      }
    }
  }

  /* Walk the whole scratch root: only the run folder and its record files. */
  rel_tree t = rel_walk(scratch);
  size_t records = 0;
  for (size_t i = 0; i < t.n; i++) {
    char *full = rel_strf("%s/%s", scratch, t.e[i].rel);
    if (t.e[i].is_dir) {
      if (strncmp(run, full, strlen(full)) != 0) fail_msg("unexpected folder '%s'", full);
    } else {
      if (strncmp(full, run, runlen) != 0 || strchr(full + runlen + 1, '/')) {
        fail_msg("file written outside the run folder: '%s'", full);
      }
      bool meta = strcmp(full + runlen + 1, "porter_bench_run.json") == 0; /* run metadata */
      if (!meta && !rel_is_record_name(full)) fail_msg("unexpected file '%s'", full);
      json_decref(load_flags(full, LOAD_FLAGS | JSON_REJECT_DUPLICATES));
      records += !meta;
    }
    free(full);
  }
  rel_tree_free(&t);
  assert_int_equal(records, 3 * nn);

  /* Each DATA file holds exactly its own benchmarker's marker. */
  for (size_t i = 0; i < nn; i++) {
    char *path = rel_strf("%s%s", pb_bench_path(v[i].b), PB_SUFFIX_DATA);
    json_t *data = load_flags(path, LOAD_FLAGS);
    char topic[32];
    snprintf(topic, sizeof topic, "marker%zu", i);
    assert_int_equal(json_array_size(data), 1);
    if (rel_count_calls(data, topic) != 1) fail_msg("%s lacks its marker '%s'", path, topic);
    assert_int_equal(rel_count_all_calls(data), 2); /* marker + gstop */
    json_decref(data);
    free(path);
  }
  pb_registry_destroy(r);
  for (size_t i = 0; i < nn; i++) free(v[i].name);
  free(v);
  rel_rmtree(scratch);
  free(scratch);
  free(root);
}

/*
 * A name that needed sanitising gets "-<8 hex digits>" appended; a second
 * name that is literally that result (only safe bytes) must not be given the
 * same file.
 */
static void test_sanitised_name_spoof(void **state) {
  (void)state;
  char *scratch = rel_mkdtemp("spoof");
  pb_registry *r = NULL;
  REL_ASSERT_OK(pb_registry_create(scratch, &r));
  pb_bench *a = pb_registry_get(r, "a/b");
  assert_non_null(a);
  const char *base = strrchr(pb_bench_path(a), '/') + 1;
  char *spoof = strdup(base); /* e.g. "a_b-1234abcd": only safe bytes */
  pb_bench *b = pb_registry_get(r, spoof);
  assert_non_null(b);
  assert_ptr_not_equal(a, b);
  if (strcmp(pb_bench_path(a), pb_bench_path(b)) == 0) {
    fail_msg("REL-F1: names 'a/b' and '%s' share the file '%s'", spoof, pb_bench_path(a));
  }
  free(spoof);
  pb_registry_destroy(r);
  rel_rmtree(scratch);
  free(scratch);
}

static uint32_t fnv1a(const unsigned char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

/*
 * Two names that sanitise to the same text and whose 32-bit hashes collide
 * (found here by a birthday search over names "c" + 4 unsafe bytes) must not
 * share a file either.
 */
/* Name i of the search: 'c' + 8 unsafe bytes (0x80..0xbf) derived from i. */
static void collide_name(uint32_t i, unsigned char out[10]) {
  uint64_t z = (uint64_t)i * 0x9e3779b97f4a7c15u; /* splitmix64 */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  out[0] = 'c';
  for (int k = 0; k < 8; k++) out[1 + k] = (unsigned char)(0x80 | ((z >> (6 * k)) & 63));
  out[9] = '\0';
}

static void test_hash_collision_names(void **state) {
  (void)state;
  enum { BITS = 23, MAXN = 1 << 22 };
  uint32_t *seen = calloc((size_t)1 << BITS, sizeof *seen); /* open addressing: index + 1 */
  uint32_t *hashes = calloc(MAXN, sizeof *hashes);
  assert_non_null(seen);
  assert_non_null(hashes);
  unsigned char a[10] = {0}, b[10] = {0};
  bool found = false;
  for (uint32_t i = 0; i < MAXN && !found; i++) {
    collide_name(i, a);
    uint32_t h = fnv1a(a, 9);
    hashes[i] = h;
    for (uint32_t slot = h & ((1u << BITS) - 1);; slot = (slot + 1) & ((1u << BITS) - 1)) {
      uint32_t j = seen[slot];
      if (!j) {
        seen[slot] = i + 1;
        break;
      }
      if (hashes[j - 1] == h) {
        collide_name(j - 1, b);
        found = memcmp(a, b, 9) != 0;
        break;
      }
    }
  }
  free(seen);
  free(hashes);
  assert_true(found);
  char *scratch = rel_mkdtemp("collide");
  pb_registry *r = NULL;
  REL_ASSERT_OK(pb_registry_create(scratch, &r));
  pb_bench *ba = pb_registry_get(r, (const char *)a);
  pb_bench *bb = pb_registry_get(r, (const char *)b);
  assert_non_null(ba);
  assert_non_null(bb);
  assert_ptr_not_equal(ba, bb);
  if (strcmp(pb_bench_path(ba), pb_bench_path(bb)) == 0) {
    fail_msg(
        "REL-F2: two different names ('c' + 8 bytes, same FNV-1a hash %08x) share the "
        "file '%s'",
        fnv1a(a, 9), pb_bench_path(ba));
  }
  pb_registry_destroy(r);
  rel_rmtree(scratch);
  free(scratch);
}

/* The JSON text a topic name must read back as: invalid UTF-8 bytes -> U+FFFD. */
static char *expected_key(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(3 * n + 1), *o = out;
  assert_non_null(out);
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

static void test_hostile_topics(void **state) {
  (void)state;
  char *scratch = rel_mkdtemp("topics");
  char *prefix = rel_strf("%s/t", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  size_t nfixed = sizeof fixed_names / sizeof *fixed_names;
  char *big = repeat('q', 10 * 1024);
  REL_ASSERT_OK(pb_gstep(b));
  size_t used = 0;
  const char *topics[64];
  for (size_t i = 0; i < nfixed; i++) {
    /* "GLOBAL" and "gstop" are the iteration's own keys: tested separately. */
    if (!strcmp(fixed_names[i], "GLOBAL") || !strcmp(fixed_names[i], "gstop")) continue;
    topics[used++] = fixed_names[i];
  }
  topics[used++] = big;
  topics[used++] = "";
  for (size_t i = 0; i < used; i++) REL_ASSERT_OK(pb_step(b, topics[i]));
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  char *path = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_t *data = load_flags(path, LOAD_FLAGS | JSON_REJECT_DUPLICATES);
  json_t *calls = json_object_get(json_array_get(data, 0), "individual_calls");
  for (size_t i = 0; i < used; i++) {
    char *key = expected_key(topics[i]);
    json_t *list = json_object_get(calls, key);
    if (json_array_size(list) != 1)
      fail_msg("topic %zu ('%.40s') not read back as its key", i, topics[i]);
    free(key);
  }
  json_decref(data);
  json_decref(rel_must_load(prefix, PB_SUFFIX_SUMMARY));
  pb_bench_destroy(b);
  free(path);
  free(prefix);
  free(big);
  rel_rmtree(scratch);
  free(scratch);
}

/*
 * Two different topics whose names differ only in invalid UTF-8 bytes are
 * both written as "\ufffd...": the object then holds one key twice, and a
 * reader keeps one of them (Python's json, jansson: the last) - a record is
 * silently lost. Same for a user topic called "GLOBAL".
 */
static void check_no_duplicate_keys(const char *t1, const char *t2, const char *finding) {
  char *scratch = rel_mkdtemp("dupkey");
  char *prefix = rel_strf("%s/d", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_OK(pb_step(b, t1));
  if (t2) REL_ASSERT_OK(pb_step(b, t2));
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  char *path = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_error_t err;
  json_t *j = json_load_file(path, LOAD_FLAGS | JSON_REJECT_DUPLICATES, &err);
  if (!j) fail_msg("%s: %s has a duplicate key: %s", finding, path, err.text);
  json_decref(j);
  free(path);
  pb_bench_destroy(b);
  free(prefix);
  rel_rmtree(scratch);
  free(scratch);
}

static void test_invalid_utf8_topics_stay_distinct(void **state) {
  (void)state;
  check_no_duplicate_keys("x\xff", "x\xfe", "REL-F3");
}

static void test_topic_named_global(void **state) {
  (void)state;
  check_no_duplicate_keys("GLOBAL", NULL, "REL-F4");
}

/* ---- extras ---- */

static char *nested(size_t depth) {
  char *s = malloc(2 * depth + 2);
  assert_non_null(s);
  for (size_t i = 0; i < depth; i++) s[i] = '[';
  s[depth] = '1';
  for (size_t i = 0; i < depth; i++) s[depth + 1 + i] = ']';
  s[2 * depth + 1] = '\0';
  return s;
}

static void test_invalid_extras(void **state) {
  (void)state;
  static const char *const bad[] = {"",
                                    " ",
                                    "{",
                                    "}",
                                    "[1,]",
                                    "{\"a\":}",
                                    "{'a':1}",
                                    "nul",
                                    "tru",
                                    "01",
                                    "1.",
                                    ".5",
                                    "+1",
                                    "1e",
                                    "\"abc",
                                    "\"a\\x\"",
                                    "\"\\ud800\"",
                                    "\"\\udc00x\"",
                                    "\"a\x01\"",
                                    "[1] [2]",
                                    "NaN",
                                    "Infinity",
                                    "-",
                                    "{\"a\" 1}",
                                    "[\"\xff\"]",
                                    "\"\xc0\xaf\"",
                                    "/* c */ 1",
                                    "{\"a\":1,}",
                                    "1 2",
                                    "\"\\u12\"",
                                    "[[[[[[[[[[",
                                    "]]]]",
                                    "{\"a\":1}}",
                                    "\x7f"};
  size_t nbad = sizeof bad / sizeof *bad;
  char *scratch = rel_mkdtemp("extras");
  char *prefix = rel_strf("%s/e", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_enable_memory_tracking(b, true));
  REL_ASSERT_OK(pb_gstep(b));
  char *deep = nested(1000);
  for (size_t i = 0; i <= nbad; i++) {
    const char *text = i < nbad ? bad[i] : deep;
    REL_ASSERT_STATUS(pb_step_ex(b, "bad", text, NULL), PB_EJSON);
    REL_ASSERT_STATUS(pb_step_ex(b, "badmem", NULL, text), PB_EJSON);
    if (!strstr(pb_last_error(), "badmem"))
      fail_msg("message does not name the step: '%s'", pb_last_error());
  }
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  assert_int_equal(rel_count_calls(data, "bad"), nbad + 1);
  assert_int_equal(rel_count_calls(data, "badmem"), nbad + 1);
  json_t *list =
      json_object_get(json_object_get(json_array_get(data, 0), "individual_calls"), "bad");
  size_t i;
  json_t *call;
  json_array_foreach(list, i, call) assert_true(json_is_null(json_object_get(call, "extra")));
  json_decref(data);
  json_t *mem = rel_must_load(prefix, PB_SUFFIX_MEMORY);
  json_t *ml = json_object_get(json_object_get(json_array_get(mem, 0), "data"), "badmem");
  assert_int_equal(json_array_size(ml), nbad + 1);
  json_array_foreach(ml, i, call) assert_true(json_is_null(json_object_get(call, "extra")));
  json_decref(mem);
  pb_bench_destroy(b);
  free(deep);
  free(prefix);
  rel_rmtree(scratch);
  free(scratch);
}

/* Accepted or PB_EJSON, never a broken file; accepted extras read back equal. */
static void try_extra(pb_bench *b, const char *prefix, const char *text, size_t *accepted) {
  int rc = pb_step_ex(b, "x", text, text);
  if (rc != PB_OK && rc != PB_EJSON) fail_msg("pb_step_ex returned %s", pb_err_name(rc));
  REL_ASSERT_OK(pb_save(b));
  char *path = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_t *data = load_flags(path, LOAD_FLAGS);
  json_t *it = json_array_get(data, (size_t)json_array_size(data) - 1);
  json_t *list = json_object_get(json_object_get(it, "individual_calls"), "x");
  json_t *extra = json_object_get(json_array_get(list, json_array_size(list) - 1), "extra");
  if (rc == PB_OK) {
    (*accepted)++;
    json_error_t err;
    json_t *want = json_loads(text, LOAD_FLAGS, &err);
    if (want && !json_equal(want, extra)) fail_msg("extra '%.60s' read back differently", text);
    json_decref(want);
  } else {
    assert_true(json_is_null(extra));
  }
  json_decref(data);
  free(path);
}

static void test_big_extras(void **state) {
  (void)state;
  char *scratch = rel_mkdtemp("bigx");
  char *prefix = rel_strf("%s/x", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_enable_memory_tracking(b, true));
  REL_ASSERT_OK(pb_gstep(b));
  size_t accepted = 0;
  char *d500 = nested(500), *d512 = nested(512), *d513 = nested(513), *d1000 = nested(1000);
  char *longstr = repeat('s', 4 << 20);
  longstr[0] = '"';
  longstr[(4 << 20) - 1] = '"';
  char *arr = malloc(2 * 200000 + 3);
  assert_non_null(arr);
  arr[0] = '[';
  for (size_t i = 0; i < 200000; i++) {
    arr[1 + 2 * i] = '0';
    arr[2 + 2 * i] = ',';
  }
  arr[2 * 200000] = ']';
  arr[2 * 200000 + 1] = '\0';
  const char *texts[] = {d500,
                         d512,
                         d513,
                         d1000,
                         longstr,
                         arr,
                         "1e308",
                         "-1e-400",
                         "0.0000001",
                         "\"\\u0000\"",
                         "\"\\ud83d\\ude00\"",
                         "{\"\":{\"\":[]}}",
                         "  7  "};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    try_extra(b, prefix, texts[i], &accepted);
  printf("# %zu of %zu big/deep extras accepted, the others returned PB_EJSON\n", accepted,
         sizeof texts / sizeof *texts);
  pb_bench_destroy(b);
  free(d500), free(d512), free(d513), free(d1000), free(longstr), free(arr);
  free(prefix);
  rel_rmtree(scratch);
  free(scratch);
}

/*
 * Numbers beyond a double's range (1e400) or a 64-bit integer are valid JSON
 * (RFC 8259 leaves their range to readers): the library accepts them, and
 * readers with limits (jansson, simdjson) then refuse the whole file.
 */
static void test_out_of_range_numbers(void **state) {
  (void)state;
  char *scratch = rel_mkdtemp("range");
  char *prefix = rel_strf("%s/n", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_gstep(b));
  int rc = pb_step_ex(b, "x", "1e400", NULL);
  assert_true(rc == PB_OK || rc == PB_EJSON);
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  char *path = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_error_t err;
  json_t *j = json_load_file(path, LOAD_FLAGS, &err);
  if (!j) {
    fail_msg("REL-F5: extra '1e400' was %s, and %s no longer parses (jansson: %s)",
             rc == PB_OK ? "accepted" : "refused", path, err.text);
  }
  json_decref(j);
  free(path);
  pb_bench_destroy(b);
  free(prefix);
  rel_rmtree(scratch);
  free(scratch);
}

/*
 * The largest doubles are valid numbers that every reader holds: they must be
 * accepted; only magnitudes that overflow a double are refused.
 */
static void test_extreme_doubles(void **state) {
  (void)state;
  char *scratch = rel_mkdtemp("dbl");
  char *prefix = rel_strf("%s/d", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_gstep(b));
  static const char *const ok[] = {"1e308",
                                   "-1.7976931348623157e308",
                                   "1.7976931348623157E+308",
                                   "[1.5e308,{\"a\":-1e308}]",
                                   "4.9e-324",
                                   "1e-400",
                                   "0.000000000000000000000000000000000000001e309"};
  size_t refused = 0;
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int rc = pb_step_ex(b, "x", ok[i], NULL);
    if (rc != PB_OK) {
      printf("# REL-F10: extra '%s' refused: %s\n", ok[i], pb_err_name(rc));
      refused++;
    }
  }
  REL_ASSERT_STATUS(pb_step_ex(b, "x", "1.8e308", NULL), PB_EJSON);
  REL_ASSERT_STATUS(pb_step_ex(b, "x", "-1e309", NULL), PB_EJSON);
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  char *path = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_decref(load_flags(path, LOAD_FLAGS));
  free(path);
  pb_bench_destroy(b);
  free(prefix);
  rel_rmtree(scratch);
  free(scratch);
  if (refused) fail_msg("REL-F10: %zu extras holding valid doubles were refused", refused);
}

/* "<head>" + n copies of fill + "<tail>", malloc'd. */
static char *long_number(const char *head, char fill, size_t n, const char *tail) {
  size_t h = strlen(head), t = strlen(tail);
  char *s = malloc(h + n + t + 1);
  assert_non_null(s);
  memcpy(s, head, h);
  memset(s + h, fill, n);
  memcpy(s + h + n, tail, t + 1);
  return s;
}

/* One long-number case: the extra's text, and whether its value fits a double. */
typedef struct long_case {
  const char *head, *tail;
  size_t zeros;
  bool fits;
} long_case;

/*
 * Issue 11, defect 9: overflow is decided from the decimal exponent of the
 * first significant digit, whatever the number's length: a million zeros
 * before or after it shift the exponent by a million, and an exponent of any
 * length saturates far beyond a double's range. Each accepted extra must be
 * read back by jansson as the value strtod gives (finite).
 */
static void test_long_numbers(void **state) {
  (void)state;
  static const long_case cases[] = {
      {"0.", "1e1000400", 1000000, false},               /* 1e399 */
      {"1", "e-1000000", 1000000, true},                 /* 1 */
      {"0.", "1e1000309", 1000000, true},                /* 1e308 */
      {"0.", "1e1000310", 1000000, false},               /* 1e309 */
      {"1", "e-999692", 1000000, true},                  /* 1e308 */
      {"1", "e-999691", 1000000, false},                 /* 1e309 */
      {"-17976931348623157", "e-999708", 1000000, true}, /* -DBL_MAX */
      {"17976931348623158", "e-999708", 1000000, true},  /* rounds to DBL_MAX */
      {"17976931348623159", "e-999708", 1000000, false}, /* rounds to infinity */
      {"1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490"
       "1797758720709633028641669288791094655554785194040263065748867150582068190890200070838367"
       "6273854845817711531764475730270069855571366959622842914819860834936475292719074168444365"
       "510704342711559699508093042880177904174497791",
       "", 0, true}, /* just below DBL_MAX + half an ulp: DBL_MAX */
      {"1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490"
       "1797758720709633028641669288791094655554785194040263065748867150582068190890200070838367"
       "6273854845817711531764475730270069855571366959622842914819860834936475292719074168444365"
       "510704342711559699508093042880177904174497792",
       "", 1000, false},           /* the half-way point times 10^1000: infinity */
      {"0.", "1", 1000000, true},  /* underflows to 0 */
      {"4.9e-", "324", 0, true},   /* the smallest denormal */
      {"1e-", "1", 1000000, true}, /* 1e-1000...0: 0 */
      {"1e", "1", 1000000, true},  /* 1e000...01 = 10 */
      {"1e1", "", 1000000, false}, /* 1e1000...0 */
      {"1e", "", 1000000, true},   /* 1e000...0 = 1 */
      {"0e", "9", 1000000, true},  /* 0 */
      {"0.", "e99999999999999999999999", 1000000, true}, /* 0 */
  };
  char *scratch = rel_mkdtemp("longnum");
  char *prefix = rel_strf("%s/n", scratch);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_gstep(b));
  size_t wrong = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *text = long_number(cases[i].head, '0', cases[i].zeros, cases[i].tail);
    int rc = pb_step_ex(b, "x", text, NULL);
    if (rc != (cases[i].fits ? PB_OK : PB_EJSON)) {
      printf("# case %zu ('%s' + %zu zeros + '%s'): %s\n", i, cases[i].head, cases[i].zeros,
             cases[i].tail, pb_err_name(rc));
      wrong++;
    }
    free(text);
  }
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  char *path = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_t *data = load_flags(path, LOAD_FLAGS);
  json_t *calls =
      json_object_get(json_object_get(json_array_get(data, 0), "individual_calls"), "x");
  /* a refused extra leaves its step recorded with a null extra */
  assert_int_equal(json_array_size(calls), sizeof cases / sizeof *cases);
  for (size_t i = 0; i < sizeof cases / sizeof *cases && !wrong; i++) {
    json_t *extra = json_object_get(json_array_get(calls, i), "extra");
    if (!cases[i].fits) {
      assert_true(json_is_null(extra));
      continue;
    }
    char *text = long_number(cases[i].head, '0', cases[i].zeros, cases[i].tail);
    if (!json_is_real(extra)) fail_msg("case %zu: the extra read back is not a number", i);
    assert_true(json_real_value(extra) == strtod(text, NULL));
    free(text);
  }
  json_decref(data);
  free(path);
  pb_bench_destroy(b);
  free(prefix);
  rel_rmtree(scratch);
  free(scratch);
  if (wrong) fail_msg("%zu long numbers were judged wrongly (issue 11, defect 9)", wrong);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_names_stay_inside),
      cmocka_unit_test(test_sanitised_name_spoof),
      cmocka_unit_test(test_hash_collision_names),
      cmocka_unit_test(test_hostile_topics),
      cmocka_unit_test(test_invalid_utf8_topics_stay_distinct),
      cmocka_unit_test(test_topic_named_global),
      cmocka_unit_test(test_invalid_extras),
      cmocka_unit_test(test_big_extras),
      cmocka_unit_test(test_out_of_range_numbers),
      cmocka_unit_test(test_extreme_doubles),
      cmocka_unit_test(test_long_numbers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
