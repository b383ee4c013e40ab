/*
 * fuzz_extra.c - the JSON extra checker through the public API.
 *
 * Input: the text of an extra (up to the first NUL byte); the byte after a
 * NUL, if any, picks options. The target records one step with the text as
 * time extra and as memory extra (per-step memory tracking on), saves, and
 * parses every record file with jansson:
 *   - pb_step_ex returns PB_OK or PB_EJSON, and the step is recorded either way;
 *   - the files always parse (a number out of jansson's range is finding
 *     REL-F5, counted and tolerated unless PB_FUZZ_STRICT is set);
 *   - an accepted extra reads back equal to jansson's parse of the text;
 *   - differential: text that jansson accepts with nesting <= 512 must not be
 *     refused, and text that jansson refuses must not be accepted.
 */
#include "fuzz_common.h"

#include "porter_bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t g_known_f5;

/* Maximum nesting of [ and { outside strings (for the checker's 512 limit). */
static int nesting(const char *s) {
  int depth = 0, most = 0;
  bool in_str = false;
  for (; *s; s++) {
    if (in_str) {
      if (*s == '\\' && s[1])
        s++;
      else if (*s == '"')
        in_str = false;
    } else if (*s == '"') {
      in_str = true;
    } else if (*s == '[' || *s == '{') {
      if (++depth > most) most = depth;
    } else if (*s == ']' || *s == '}') {
      depth--;
    }
  }
  return most;
}

/* True when v holds a number of magnitude >= 1e308 (finding REL-F10: refused though a double). */
static bool has_huge_number(json_t *v) {
  if (json_is_number(v)) {
    double x = json_number_value(v);
    return x >= 1e308 || x <= -1e308;
  }
  size_t i;
  json_t *e;
  const char *k;
  if (json_is_array(v)) {
    json_array_foreach(v, i, e) if (has_huge_number(e)) return true;
  }
  if (json_is_object(v)) {
    json_object_foreach(v, k, e) if (has_huge_number(e)) return true;
  }
  return false;
}

static size_t g_known_f10;

static json_t *extra_of(json_t *file_root, bool memory) {
  json_t *it = json_array_get(file_root, 0);
  json_t *list;
  if (memory)
    list = json_object_get(json_object_get(it, "data"), "t");
  else
    list = json_object_get(json_object_get(it, "individual_calls"), "t");
  if (json_array_size(list) != 1)
    FUZZ_DEFECT("the step 't' is missing from the %s file", memory ? "MEMORY" : "DATA");
  return json_object_get(json_array_get(list, 0), "extra");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t len = strnlen((const char *)data, size);
  char *text = malloc(len + 1);
  if (!text) return 0;
  memcpy(text, data, len);
  text[len] = '\0';
  uint8_t opts = len + 1 < size ? data[len + 1] : 0;
  bool memory = opts & 1;

  char prefix[128];
  snprintf(prefix, sizeof prefix, "%s/x", fuzz_scratch());
  pb_bench *b = NULL;
  if (pb_bench_create(prefix, &b) != PB_OK) abort();
  if (memory) pb_enable_memory_tracking(b, true);
  pb_gstep(b);
  int rc = pb_step_ex(b, "t", text, memory ? text : NULL);
  if (rc != PB_OK && rc != PB_EJSON) FUZZ_DEFECT("pb_step_ex returned %s", pb_err_name(rc));
  pb_gstop(b);
  if (pb_save(b) != PB_OK) FUZZ_DEFECT("pb_save: %s", pb_last_error());

  json_error_t err;
  json_t *want = json_loads(text, FUZZ_JSON_FLAGS, &err);
  bool want_range_error = !want && fuzz_number_range_error(&err);
  if (rc == PB_OK && !want && !want_range_error) {
    FUZZ_DEFECT("extra accepted but jansson refuses it: %s", err.text);
  }
  if (rc == PB_EJSON && want && nesting(text) <= 512 && has_huge_number(want) &&
      !getenv("PB_FUZZ_STRICT")) {
    g_known_f10++; /* REL-F10 */
  } else if (rc == PB_EJSON && want && nesting(text) <= 512) {
    FUZZ_DEFECT("valid JSON (nesting %d) refused as PB_EJSON", nesting(text));
  }

  static const char *const suffixes[] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  for (int i = 0; i < 3; i++) {
    char path[192];
    snprintf(path, sizeof path, "%s%s", prefix, suffixes[i]);
    json_t *root = json_load_file(path, FUZZ_JSON_FLAGS, &err);
    if (!root) {
      if (fuzz_number_range_error(&err) && rc == PB_OK && want_range_error &&
          !getenv("PB_FUZZ_STRICT")) {
        g_known_f5++; /* REL-F5 */
        continue;
      }
      FUZZ_DEFECT("%s does not parse: line %d column %d: %s", path, err.line, err.column, err.text);
    }
    if (i != 1) {
      bool is_mem = i == 2;
      if (!is_mem || memory) {
        json_t *got = extra_of(root, is_mem);
        if (rc == PB_OK && want && !json_equal(got, want))
          FUZZ_DEFECT("the extra reads back differently");
        if (rc == PB_EJSON && !json_is_null(got)) FUZZ_DEFECT("a refused extra is not null");
      }
    }
    json_decref(root);
  }
  json_decref(want);
  pb_bench_destroy(b);
  free(text);
  return 0;
}
