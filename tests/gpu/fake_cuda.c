/*
 * fake_cuda.c - stand-ins for an already-loaded CUDA runtime (built as
 * libcudart.so.99, with FAKE_CUDA_RUNTIME) and driver (built as
 * libcuda.so.1, with FAKE_CUDA_DRIVER), for the tests of pb__gpu_sync. They
 * count the calls, so that the tests can check that a synchronisation
 * happens, and that no context is ever created (retained while inactive).
 */
#include <stdatomic.h>

#define EXPORT __attribute__((visibility("default")))

#ifdef FAKE_CUDA_RUNTIME
static _Atomic int g_rt_syncs;
EXPORT int cudaDeviceSynchronize(void) {
  atomic_fetch_add(&g_rt_syncs, 1);
  return 0;
}
EXPORT int fake_rt_syncs(void) { return atomic_load(&g_rt_syncs); }
#endif

#ifdef FAKE_CUDA_DRIVER
static _Thread_local void *g_current; /* this thread's current context */
static _Atomic int g_initialised;     /* cuInit was called (by "the runtime") */
static _Atomic int g_active;          /* device 0's primary context is active */
static _Atomic int g_ctx_syncs, g_retains, g_bad_retains, g_releases, g_pushes, g_pops;
static int g_primary; /* its address is the primary context */

EXPORT void fake_drv_set(int initialised, int active, int current_on_this_thread) {
  atomic_store(&g_initialised, initialised);
  atomic_store(&g_active, active);
  g_current = current_on_this_thread ? (void *)&g_primary : 0;
}
/* counters: 0 ctx syncs, 1 retains, 2 retains of an inactive context, 3 releases,
 * 4 pushes, 5 pops */
EXPORT int fake_drv_count(int which) {
  switch (which) {
    case 0: return atomic_load(&g_ctx_syncs);
    case 1: return atomic_load(&g_retains);
    case 2: return atomic_load(&g_bad_retains);
    case 3: return atomic_load(&g_releases);
    case 4: return atomic_load(&g_pushes);
    default: return atomic_load(&g_pops);
  }
}

EXPORT int cuCtxGetCurrent(void **ctx) {
  *ctx = g_current;
  return 0;
}
EXPORT int cuCtxSynchronize(void) {
  atomic_fetch_add(&g_ctx_syncs, 1);
  return g_current ? 0 : 201; /* CUDA_ERROR_INVALID_CONTEXT */
}
EXPORT int cuDeviceGetCount(int *n) {
  if (!atomic_load(&g_initialised)) return 3; /* CUDA_ERROR_NOT_INITIALIZED */
  *n = 1;
  return 0;
}
EXPORT int cuDeviceGet(int *dev, int ordinal) {
  if (ordinal != 0) return 101; /* CUDA_ERROR_INVALID_DEVICE */
  *dev = 0;
  return 0;
}
EXPORT int cuDevicePrimaryCtxGetState(int dev, unsigned *flags, int *active) {
  (void)dev;
  *flags = 0;
  *active = atomic_load(&g_active);
  return 0;
}
EXPORT int cuDevicePrimaryCtxRetain(void **ctx, int dev) {
  (void)dev;
  atomic_fetch_add(&g_retains, 1);
  if (!atomic_load(&g_active)) atomic_fetch_add(&g_bad_retains, 1); /* would create one */
  *ctx = &g_primary;
  return 0;
}
EXPORT int cuDevicePrimaryCtxRelease_v2(int dev) {
  (void)dev;
  atomic_fetch_add(&g_releases, 1);
  return 0;
}
EXPORT int cuCtxPushCurrent_v2(void *ctx) {
  atomic_fetch_add(&g_pushes, 1);
  g_current = ctx;
  return 0;
}
EXPORT int cuCtxPopCurrent_v2(void **ctx) {
  atomic_fetch_add(&g_pops, 1);
  if (ctx) *ctx = g_current;
  g_current = 0;
  return 0;
}
#endif
