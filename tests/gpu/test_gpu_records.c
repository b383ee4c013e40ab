/*
 * test_gpu_records.c - the "cuda memory usage" object in saved records,
 * through the public API, with fake_nvml standing in for the driver.
 * argv[1] is the mode:
 *   fake  PB_NVML_LIBRARY points at fake_nvml: the object holds the canned
 *         numbers, keys in the documented order; null where GPU tracking is off;
 *   none  GPU tracking unavailable: enabling it fails with PB_ENOTSUP and a
 *         message, records hold null, nothing else changes.
 * Either way no CUDA runtime is loaded, so pb_set_cuda_sync(b, true) is
 * PB_ENOTSUP.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fake_nvml.h"
#include "porter_bench.h"

static bool g_fake;
static char g_dir[] = "/tmp/pbtest-gpu.XXXXXX";

/* Records one iteration with steps "small" (1 GiB on the GPU) and "big" (3 GiB). */
static json_t *record(const char *name, bool cuda, int *cuda_rc) {
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s/%s", g_dir, name);
  pb_bench *b = NULL;
  assert_int_equal(pb_bench_create(prefix, &b), PB_OK);
  assert_int_equal(pb_enable_memory_tracking(b, true), PB_OK);
  if (cuda) *cuda_rc = pb_enable_cuda_memory_tracking(b);
  void (*set_process)(unsigned, unsigned long long) = NULL;
  if (g_fake) {
    void *h = dlopen(getenv("PB_NVML_LIBRARY"), RTLD_LAZY | RTLD_NOLOAD);
    assert_non_null(h);
    *(void **)&set_process = dlsym(h, "fake_nvml_set_process");
    assert_non_null(set_process);
    set_process(0, FAKE_GIB);
  }
  assert_int_equal(pb_gstep(b), PB_OK);
  assert_int_equal(pb_step(b, "small"), PB_OK);
  if (set_process) set_process(0, 3 * FAKE_GIB);
  assert_int_equal(pb_step(b, "big"), PB_OK);
  if (set_process) set_process(0, FAKE_GIB);
  assert_int_equal(pb_gstop(b), PB_OK);
  assert_int_equal(pb_save(b), PB_OK);
  assert_int_equal(pb_bench_destroy(b), PB_OK);
  char path[300];
  snprintf(path, sizeof path, "%s%s", prefix, PB_SUFFIX_MEMORY);
  json_error_t err;
  json_t *root = json_load_file(path, 0, &err);
  if (!root) fail_msg("%s:%d: %s", path, err.line, err.text);
  return root;
}

/* The "cuda memory usage" value of the first record of topic in iteration 0. */
static json_t *cuda_of(json_t *root, const char *topic) {
  json_t *recs = json_object_get(json_object_get(json_array_get(root, 0), "data"), topic);
  if (!json_is_array(recs) || json_array_size(recs) == 0) fail_msg("no record of '%s'", topic);
  json_t *rec = json_array_get(recs, 0);
  json_t *c = json_object_get(rec, "cuda memory usage");
  if (!c) fail_msg("record of '%s' has no \"cuda memory usage\" key", topic);
  return c;
}

static long long num(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v)) fail_msg("\"%s\" is not an integer", key);
  return json_integer_value(v);
}

static void test_gpu_tracking_on(void **state) {
  (void)state;
  int rc = 12345;
  json_t *root = record("on", true, &rc);
  if (!g_fake) {
    assert_int_equal(rc, PB_ENOTSUP);
    assert_true(strlen(pb_last_error()) > 0);
    assert_true(json_is_null(cuda_of(root, "small")));
    assert_true(json_is_null(cuda_of(root, "gstop")));
    json_decref(root);
    return;
  }
  assert_int_equal(rc, PB_OK);
  json_t *c = cuda_of(root, "small");
  assert_true(json_is_object(c));
  /* the original's four keys first, then ours, in this order */
  const char *order[] = {"allocated",   "reserved",     "max_allocated", "max_reserved",
                         "device_used", "device_total", "devices"};
  size_t k = 0;
  for (void *it = json_object_iter(c); it; it = json_object_iter_next(c, it), k++) {
    assert_true(k < sizeof order / sizeof *order);
    assert_string_equal(json_object_iter_key(it), order[k]);
  }
  assert_int_equal(k, sizeof order / sizeof *order);
  assert_int_equal(num(c, "allocated"), FAKE_GIB);
  assert_int_equal(num(c, "reserved"), FAKE_GIB);
  assert_int_equal(num(c, "device_used"), FAKE_BASE_USED(0) + FAKE_GIB);
  assert_int_equal(num(c, "device_total"), FAKE_TOTAL(0));
  json_t *devs = json_object_get(c, "devices");
  assert_int_equal(json_array_size(devs), 2);
  assert_int_equal(num(json_array_get(devs, 1), "index"), 1);
  assert_int_equal(num(json_array_get(devs, 1), "process"), 0);
  assert_int_equal(num(json_array_get(devs, 1), "total"), FAKE_TOTAL(1));

  c = cuda_of(root, "big");
  assert_int_equal(num(c, "allocated"), 3 * FAKE_GIB);
  assert_int_equal(num(c, "max_allocated"), 3 * FAKE_GIB);
  c = cuda_of(root, "gstop"); /* back to 1 GiB; the 3 GiB were before "big"'s record */
  assert_int_equal(num(c, "allocated"), FAKE_GIB);
  assert_true(num(c, "max_allocated") >= (long long)FAKE_GIB);
  json_decref(root);
}

static void test_gpu_tracking_off(void **state) {
  (void)state;
  json_t *root = record("off", false, NULL);
  assert_true(json_is_null(cuda_of(root, "small")));
  assert_true(json_is_null(cuda_of(root, "big")));
  json_decref(root);
}

static void test_availability_and_sync(void **state) {
  (void)state;
  assert_int_equal(pb_cuda_available(), g_fake);
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s/sync", g_dir);
  pb_bench *b = NULL;
  assert_int_equal(pb_bench_create(prefix, &b), PB_OK);
  assert_int_equal(pb_set_cuda_sync(b, true), PB_ENOTSUP); /* no CUDA runtime loaded */
  assert_int_equal(pb_set_cuda_sync(b, false), PB_OK);
  pb_disable_cuda_memory_tracking(b);
  assert_int_equal(pb_enable_cuda_memory_tracking(NULL), PB_EINVAL);
  pb_bench_destroy(b);
}

static int remove_dir(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  g_fake = argc > 1 && strcmp(argv[1], "fake") == 0;
  if (!mkdtemp(g_dir)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_availability_and_sync),
      cmocka_unit_test(test_gpu_tracking_on),
      cmocka_unit_test(test_gpu_tracking_off),
  };
  return cmocka_run_group_tests(tests, NULL, remove_dir);
}
