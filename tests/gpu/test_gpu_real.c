/*
 * test_gpu_real.c - the probe against the real libnvidia-ml.so.1. Exits 77
 * (skipped under ctest) where no GPU or driver answers. Checks that the
 * devices' numbers are sane, that probing creates no CUDA context (this
 * process never touches CUDA, so the driver must charge it nothing), and
 * prints the cost of one probe.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gpu.h"
#include "porter_bench.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                                \
    }                                                                          \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void) {
  if (!pb__gpu_available()) {
    printf("skipped: %s\n", pb__gpu_unavailable_reason());
    return 77;
  }
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  CHECK(t != NULL);
  pb__gpu_sample_t s;
  CHECK(pb__gpu_sample(t, &s) == PB_OK);
  CHECK(s.ndev == pb__gpu_device_count() && s.ndev > 0);
  for (unsigned i = 0; i < s.ndev; i++) {
    printf("device %u: used %" PRIu64 " of %" PRIu64 " bytes, this process %" PRIu64 "\n", i,
           s.dev[i].used, s.dev[i].total, s.dev[i].process);
    CHECK(s.dev[i].total > 0 && s.dev[i].used <= s.dev[i].total);
  }
  CHECK(s.process == 0); /* no context was created by probing */
  char buf[PB__GPU_JSON_CAP];
  size_t len;
  CHECK(pb__gpu_probe(t, buf, sizeof buf, &len) == PB_OK);
  const char *head = "{\"allocated\":0,\"reserved\":0,\"max_allocated\":0,\"max_reserved\":0,";
  CHECK(strncmp(buf, head, strlen(head)) == 0);
  printf("%s\n", buf);
  int n = 2000;
  double t0 = now_s();
  for (int i = 0; i < n; i++) CHECK(pb__gpu_probe(t, buf, sizeof buf, &len) == PB_OK);
  printf("one probe: %.2f us\n", (now_s() - t0) / n * 1e6);
  pb__gpu_tracker_free(t);
  return 0;
}
