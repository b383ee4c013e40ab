/*
 * fake_nvml.c - a stand-in for libnvidia-ml.so.1 with canned numbers, for
 * the GPU tests (PB_NVML_LIBRARY points at it). Implements only the NVML
 * functions gpu_nvml.c uses, with NVML's documented signatures and structs.
 *
 * Canned state (changed by the fake_nvml_* control functions):
 *   device i: total FAKE_TOTAL(i), used = FAKE_BASE_USED(i) + this process's
 *   memory on it; FAKE_OTHERS other processes listed on device 0 (more than
 *   the probe's first buffer holds, to exercise NVML_ERROR_INSUFFICIENT_SIZE).
 * Environment: FAKE_NVML_INIT_FAIL=1 makes nvmlInit fail, FAKE_NVML_DEVICES=n
 * sets the device count (default 2).
 * Built twice: with FAKE_NVML_V1_ONLY the library exports only the oldest
 * process query (nvmlDeviceGetComputeRunningProcesses with the v1 struct).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_nvml.h"

#define EXPORT __attribute__((visibility("default")))

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

static _Atomic unsigned long long g_proc[FAKE_MAX_DEV]; /* this process, per device */
static _Atomic int g_hide_self;
static _Atomic unsigned long g_queries;

EXPORT void fake_nvml_set_process(unsigned dev, unsigned long long bytes) {
  if (dev < FAKE_MAX_DEV) atomic_store(&g_proc[dev], bytes);
}
EXPORT void fake_nvml_hide_self(int hide) { atomic_store(&g_hide_self, hide); }
EXPORT unsigned long fake_nvml_queries(void) { return atomic_load(&g_queries); }

static unsigned ndev(void) {
  const char *e = getenv("FAKE_NVML_DEVICES");
  unsigned n = e ? (unsigned)atoi(e) : 2u;
  return n > FAKE_MAX_DEV ? FAKE_MAX_DEV : n;
}

static int dev_index(nvmlDevice_t d) { return (int)(uintptr_t)d - 1; }

EXPORT int nvmlInit_v2(void) {
  const char *e = getenv("FAKE_NVML_INIT_FAIL");
  if (e && *e == '1') return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
  static _Atomic int once;
  if (!atomic_exchange(&once, 1)) atomic_store(&g_proc[0], FAKE_PROC0_INITIAL);
  return 0;
}
EXPORT int nvmlShutdown(void) { return 0; }
EXPORT int nvmlDeviceGetCount_v2(unsigned int *n) {
  *n = ndev();
  return 0;
}
EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
  if (i >= ndev()) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *d = (nvmlDevice_t)(uintptr_t)(i + 1);
  return 0;
}
EXPORT int nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  int i = dev_index(d);
  if (i < 0 || (unsigned)i >= ndev()) return 2;
  m->total = FAKE_TOTAL(i);
  m->used = FAKE_BASE_USED(i) + atomic_load(&g_proc[i]);
  m->free = m->total - m->used;
  return 0;
}

/* Lists the other processes (device 0 only), then this one if it holds memory. */
static int list(nvmlDevice_t d, unsigned int *count, void *infos, size_t stride) {
  int i = dev_index(d);
  if (i < 0 || (unsigned)i >= ndev()) return 2;
  atomic_fetch_add(&g_queries, 1);
  unsigned long long mine = atomic_load(&g_proc[i]);
  unsigned need = (i == 0 ? FAKE_OTHERS : 0u) + (mine && !atomic_load(&g_hide_self) ? 1u : 0u);
  if (*count < need) {
    *count = need;
    return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  unsigned k = 0;
  for (; i == 0 && k < FAKE_OTHERS; k++) {
    nvmlProcessInfo_v1_t *p = (nvmlProcessInfo_v1_t *)((char *)infos + k * stride);
    p->pid = 4000000u + k; /* above any pid_max: never ours */
    p->usedGpuMemory = FAKE_OTHER_BYTES;
  }
  if (k < need) {
    nvmlProcessInfo_v1_t *p = (nvmlProcessInfo_v1_t *)((char *)infos + k * stride);
    p->pid = (unsigned)getpid();
    p->usedGpuMemory = mine;
    k++;
  }
  *count = k;
  return 0;
}

#ifdef FAKE_NVML_V1_ONLY
EXPORT int nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count,
                                                nvmlProcessInfo_v1_t *infos) {
  return list(d, count, infos, sizeof *infos);
}
#else
EXPORT int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count,
                                                   nvmlProcessInfo_t *infos) {
  return list(d, count, infos, sizeof *infos);
}
#endif
