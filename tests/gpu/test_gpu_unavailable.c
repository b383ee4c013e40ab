/*
 * test_gpu_unavailable.c - the paths where GPU tracking is unavailable.
 * ctest runs it once per cause (see CMakeLists.txt), with argv[1] a part of
 * the reason pb__gpu_unavailable_reason() must give: a library that does not
 * load, an empty PB_NVML_LIBRARY, nvmlInit failing, no device.
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gpu.h"
#include "porter_bench.h"

static const char *g_expected_reason;

static void test_unavailable(void **state) {
  (void)state;
  assert_false(pb__gpu_available());
  assert_false(pb__gpu_available()); /* cached, same answer */
  const char *why = pb__gpu_unavailable_reason();
  if (!strstr(why, g_expected_reason))
    fail_msg("reason '%s' does not contain '%s'", why, g_expected_reason);
  assert_int_equal(pb__gpu_device_count(), 0);
  assert_null(pb__gpu_tracker_new());
  pb__gpu_tracker_free(NULL);
  char buf[PB__GPU_JSON_CAP] = "untouched";
  size_t len = 12345;
  assert_int_equal(pb__gpu_probe(NULL, buf, sizeof buf, &len), PB_ENOTSUP);
  assert_string_equal(buf, "untouched");
  assert_int_equal(len, 12345);
  pb__gpu_sample_t s;
  assert_int_equal(pb__gpu_sample(NULL, &s), PB_ENOTSUP);
}

/* Synchronisation needs no NVML: nothing is loaded here, so it is off and a no-op. */
static void test_sync_without_runtime(void **state) {
  (void)state;
  assert_false(pb__gpu_sync_available());
  pb__gpu_sync();
}

int main(int argc, char **argv) {
  g_expected_reason = argc > 1 ? argv[1] : "";
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unavailable),
      cmocka_unit_test(test_sync_without_runtime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
