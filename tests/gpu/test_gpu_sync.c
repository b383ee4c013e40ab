/*
 * test_gpu_sync.c - pb__gpu_sync against fake, already-loaded CUDA libraries
 * (argv[1]: a fake libcudart.so.99, argv[2]: a fake libcuda.so.1). Checks
 * that nothing is synchronised before a runtime is loaded, that a thread with
 * a context calls cudaDeviceSynchronize, that a thread without one waits for
 * the active primary contexts through the driver, and that no inactive
 * context is ever retained (which would create one).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "gpu.h"

static const char *g_rt_path, *g_drv_path;
static int (*rt_syncs)(void);
static void (*drv_set)(int, int, int);
static int (*drv_count)(int);

enum { CTX_SYNCS, RETAINS, BAD_RETAINS, RELEASES, PUSHES, POPS };

static void test_nothing_loaded(void **state) {
  (void)state;
  assert_false(pb__gpu_sync_available());
  pb__gpu_sync(); /* a no-op */
}

static void test_runtime_without_driver(void **state) {
  (void)state;
  void *rt = dlopen(g_rt_path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(rt);
  *(void **)&rt_syncs = dlsym(rt, "fake_rt_syncs");
  assert_non_null(rt_syncs);
  assert_true(pb__gpu_sync_available());
  /* the runtime has not loaded the driver yet: no context, nothing to wait for */
  pb__gpu_sync();
  assert_int_equal(rt_syncs(), 0);
}

static void test_driver_loaded(void **state) {
  (void)state;
  void *drv = dlopen(g_drv_path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(drv);
  *(void **)&drv_set = dlsym(drv, "fake_drv_set");
  *(void **)&drv_count = dlsym(drv, "fake_drv_count");
  assert_non_null(drv_set);
  assert_non_null(drv_count);

  /* driver loaded but not initialised: nothing */
  drv_set(0, 0, 0);
  pb__gpu_sync();
  assert_int_equal(rt_syncs(), 0);
  assert_int_equal(drv_count(CTX_SYNCS), 0);

  /* initialised, this thread has a context: one cudaDeviceSynchronize */
  drv_set(1, 1, 1);
  pb__gpu_sync();
  assert_int_equal(rt_syncs(), 1);
  assert_int_equal(drv_count(CTX_SYNCS), 0);

  /* no context on this thread, the primary context active: driver-level wait */
  drv_set(1, 1, 0);
  pb__gpu_sync();
  assert_int_equal(rt_syncs(), 1);
  assert_int_equal(drv_count(CTX_SYNCS), 1);
  assert_int_equal(drv_count(RETAINS), 1);
  assert_int_equal(drv_count(RELEASES), 1);
  assert_int_equal(drv_count(PUSHES), 1);
  assert_int_equal(drv_count(POPS), 1);

  /* no context anywhere: nothing, and above all no context created */
  drv_set(1, 0, 0);
  pb__gpu_sync();
  assert_int_equal(drv_count(CTX_SYNCS), 1);
  assert_int_equal(drv_count(RETAINS), 1);
  assert_int_equal(drv_count(BAD_RETAINS), 0);
  assert_int_equal(rt_syncs(), 1);
}

/* A statically linked runtime exports nothing: only the driver it loaded is found. */
static void test_driver_only(void **state) {
  (void)state;
  assert_false(pb__gpu_sync_available());
  void *drv = dlopen(g_drv_path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(drv);
  *(void **)&drv_set = dlsym(drv, "fake_drv_set");
  *(void **)&drv_count = dlsym(drv, "fake_drv_count");
  assert_non_null(drv_set);
  assert_non_null(drv_count);
  assert_true(pb__gpu_sync_available());
  drv_set(1, 1, 1); /* this thread has a context: cuCtxSynchronize */
  pb__gpu_sync();
  assert_int_equal(drv_count(CTX_SYNCS), 1);
  assert_int_equal(drv_count(RETAINS), 0);
  drv_set(1, 0, 0); /* nothing anywhere: nothing */
  pb__gpu_sync();
  assert_int_equal(drv_count(CTX_SYNCS), 1);
  assert_int_equal(drv_count(BAD_RETAINS), 0);
}

/* argv: FAKE_CUDART FAKE_CUDA [driver-only] */
int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s FAKE_CUDART FAKE_CUDA [driver-only]\n", argv[0]);
    return 2;
  }
  g_rt_path = argv[1];
  g_drv_path = argv[2];
  if (argc > 3) {
    const struct CMUnitTest driver_only[] = {cmocka_unit_test(test_driver_only)};
    return cmocka_run_group_tests(driver_only, NULL, NULL);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nothing_loaded),
      cmocka_unit_test(test_runtime_without_driver),
      cmocka_unit_test(test_driver_loaded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
