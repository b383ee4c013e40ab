/*
 * gpu_none.c - the GPU probe where NVML support is not compiled in: GPU
 * tracking is reported unavailable and every call is a harmless no-op.
 */
#include "gpu.h"
#include "porter_bench.h"

bool pb__gpu_available(void) { return false; }
pb__gpu_tracker *pb__gpu_tracker_new(void) { return NULL; }
void pb__gpu_tracker_free(pb__gpu_tracker *t) { (void)t; }
int pb__gpu_probe(pb__gpu_tracker *t, char *buf, size_t cap, size_t *len) {
  (void)t, (void)buf, (void)cap, (void)len;
  return PB_ENOTSUP;
}
bool pb__gpu_sync_available(void) { return false; }
void pb__gpu_sync(void) {}
