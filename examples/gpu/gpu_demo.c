/*
 * gpu_demo.c - porter_bench's GPU demo, mirroring the original's: six
 * iterations that hold growing device allocations, free some of them at
 * iteration 3, and run one GPU step per iteration. Every memory record holds
 * the "cuda memory usage" object (docs/GPU.md), and with pb_set_cuda_sync on
 * the asynchronous GPU step is charged its real time.
 *
 * The program opens the CUDA runtime itself with dlopen (CUDART_LIBRARY, else
 * libcudart.so*), as an application would have it loaded; porter_bench
 * never loads it. Without a GPU, a driver or a runtime it prints why and
 * exits 0.
 *
 * Records: ./TICTOC_PERFORMANCE/<timestamp>/gpu_demo_*.json (or under
 * $PORTER_BENCH_ROOT).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "porter_bench.h"

#define MIB ((size_t)1 << 20)
#define ITERATIONS 6

/* The few runtime functions the demo uses, from the dlopen'ed runtime. */
static struct {
  int (*malloc_)(void **, size_t);
  int (*free_)(void *);
  int (*memset_async)(void *, int, size_t, void *);
  int (*sync)(void);
  const char *(*err)(int);
} cu;

static const char *load_cudart(void) {
  const char *names[] = {getenv("CUDART_LIBRARY"), "libcudart.so", "libcudart.so.13",
                         "libcudart.so.12", "libcudart.so.11.0"};
  void *h = NULL;
  for (size_t i = 0; i < sizeof names / sizeof *names && !h; i++)
    if (names[i] && *names[i]) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) return "no CUDA runtime found (set CUDART_LIBRARY to libcudart.so's path)";
  *(void **)&cu.malloc_ = dlsym(h, "cudaMalloc");
  *(void **)&cu.free_ = dlsym(h, "cudaFree");
  *(void **)&cu.memset_async = dlsym(h, "cudaMemsetAsync");
  *(void **)&cu.sync = dlsym(h, "cudaDeviceSynchronize");
  *(void **)&cu.err = dlsym(h, "cudaGetErrorString");
  if (!cu.malloc_ || !cu.free_ || !cu.memset_async || !cu.sync || !cu.err)
    return "the CUDA runtime lacks a function this demo uses";
  return NULL;
}

static int cuda_ok(int rc, const char *what) {
  if (rc != 0) fprintf(stderr, "gpu demo: %s failed: %s\n", what, cu.err(rc));
  return rc == 0;
}

static void warn_status(int rc, const char *what) {
  if (rc != PB_OK)
    fprintf(stderr, "gpu demo: %s: %s (%s)\n", what, pb_strerror(rc), pb_last_error());
}

int main(void) {
  if (!pb_cuda_available()) {
    printf("gpu demo skipped: no NVIDIA GPU or driver here (pb_cuda_available() is false)\n");
    return 0;
  }
  const char *why = load_cudart();
  if (why) {
    printf("gpu demo skipped: %s\n", why);
    return 0;
  }

  pb_bench *b = pb_get("gpu_demo");
  if (!b) {
    fprintf(stderr, "gpu demo: %s\n", pb_last_error());
    return 1;
  }
  warn_status(pb_enable_memory_tracking(b, true), "pb_enable_memory_tracking");
  warn_status(pb_enable_cuda_memory_tracking(b), "pb_enable_cuda_memory_tracking");

  void *bufs[ITERATIONS] = {0};
  size_t sizes[ITERATIONS] = {0};
  int status = 0;
  for (int i = 0; i < ITERATIONS && status == 0; i++) {
    pb_gstep(b);
    if (i == 0) /* the runtime is in use from here on: exact GPU step times */
      warn_status(pb_set_cuda_sync(b, true), "pb_set_cuda_sync");

    /* a growing allocation each iteration: 256 MiB, 512 MiB, ... */
    sizes[i] = (size_t)(i + 1) * 256 * MIB;
    if (!cuda_ok(cu.malloc_(&bufs[i], sizes[i]), "cudaMalloc")) status = 1;
    pb_step(b, "allocate");

    /* at iteration 3 the first two buffers are released */
    if (i == 3) {
      for (int k = 0; k < 2; k++) {
        cuda_ok(cu.free_(bufs[k]), "cudaFree");
        bufs[k] = NULL;
      }
      pb_step(b, "free");
    }

    /* the GPU step: asynchronous work over every live buffer, several passes */
    for (int pass = 0; pass < 20 && status == 0; pass++)
      for (int k = 0; k <= i; k++)
        if (bufs[k] && !cuda_ok(cu.memset_async(bufs[k], pass, sizes[k], NULL), "cudaMemsetAsync"))
          status = 1;
    pb_step(b, "gpu step");
  }
  pb_gstop(b);
  cuda_ok(cu.sync(), "cudaDeviceSynchronize");
  for (int k = 0; k < ITERATIONS; k++)
    if (bufs[k]) cu.free_(bufs[k]);

  int rc = pb_registry_save(pb_default_registry());
  warn_status(rc, "pb_registry_save");
  char dir[1024];
  if (pb_registry_run_dir(pb_default_registry(), dir, sizeof dir) >= 0)
    printf("gpu demo: %d iterations recorded in %s/gpu_demo_*.json\n", ITERATIONS, dir);
  return status || rc != PB_OK;
}
