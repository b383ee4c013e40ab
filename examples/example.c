/*
 * example.c - a tour of porter_bench, after the original's example.py.
 *
 * Four demos record into the default registry, whose run folder is
 * ./TICTOC_PERFORMANCE/<timestamp>/ (or $PORTER_BENCH_ROOT/<timestamp>/):
 *   pipeline  a 4-stage pipeline over 12 iterations, auto-saved every 4
 *   training  a training-style loop of 10 iterations driven by pb_iter()
 *   memory    per-step memory tracking while buffers grow and are freed
 *   gpu       GPU memory tracking, only where pb_cuda_available()
 * Every benchmarker is saved at the end and the run folder is printed, ready
 * for `porter-bench plots --path . --output PLOTS`. The whole run takes about
 * one second.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <porter_bench.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Number of calls that did not return PB_OK; the exit status is 1 if any. */
static unsigned g_failures;

/* Reports a failed call on stderr and counts it. */
static void check(int status, const char *what) {
  if (status != PB_OK) {
    g_failures++;
    fprintf(stderr, "example: %s: %s (%s)\n", what, pb_err_name(status), pb_last_error());
  }
}

/* xorshift32: a small deterministic generator, so that no libc state is shared. */
static uint32_t g_random_state = 2463534242u;

/* Returns a pseudo-random number in [0, 1). */
static double random_unit(void) {
  uint32_t x = g_random_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  g_random_state = x;
  return (double)(x >> 8) / (double)(1u << 24);
}

/* Sleeps for base_ms plus a random share of spread_ms milliseconds: "work". */
static void simulate_work(double base_ms, double spread_ms) {
  double ms = base_ms + spread_ms * random_unit();
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1000.0);
  ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Returns the benchmarker called name in the default registry, or NULL (reported). */
static pb_bench *get_bench(const char *name) {
  pb_bench *b = pb_get(name);
  if (b == NULL) {
    g_failures++;
    fprintf(stderr, "example: pb_get(\"%s\"): %s\n", name, pb_last_error());
  }
  return b;
}

/*
 * (a) A pipeline of four stages. gstep opens each iteration and gstop closes
 * it; the benchmarker saves itself after every 4th iteration. As in the
 * original, one iteration skips a stage and some repeat the last one, so a
 * topic can have 0, 1 or several calls per iteration.
 */
static void demo_pipeline(void) {
  pb_bench *b = get_bench("pipeline");
  if (b == NULL) {
    return;
  }
  pb_set_save_on_gstop(b, 4);
  for (int i = 0; i < 12; i++) {
    check(pb_gstep(b), "pipeline gstep");
    simulate_work(i == 1 ? 20.0 : 2.0, 2.0); /* the first real load is slow */
    check(pb_step(b, "load"), "pipeline step load");
    simulate_work(3.0, 2.0);
    check(pb_step(b, "preprocess"), "pipeline step preprocess");
    if (i != 5) { /* iteration 5 has nothing to compute */
      simulate_work(5.0, 4.0);
      check(pb_step(b, "compute"), "pipeline step compute");
    }
    int repeats = (i > 6 && i < 10) ? 2 : 1;
    for (int k = 0; k < repeats; k++) {
      simulate_work(1.0, 2.0);
      check(pb_step(b, "postprocess"), "pipeline step postprocess");
    }
    check(pb_gstop(b), "pipeline gstop");
  }
}

/*
 * (b) A training-style loop: pb_iter() opens an iteration per pass (the
 * original's IterBench) and closes the last one when the loop ends.
 * Topics are interned once, the fastest way to record a step.
 */
static void demo_training(void) {
  pb_bench *b = get_bench("training");
  if (b == NULL) {
    return;
  }
  const pb_topic forward = pb_topic_intern(b, "forward");
  const pb_topic backward = pb_topic_intern(b, "backward");
  if (forward == PB_TOPIC_INVALID || backward == PB_TOPIC_INVALID) {
    check(PB_ENOMEM, "training pb_topic_intern");
    return;
  }
  const size_t epochs = 10;
  for (size_t i = 0; pb_iter(b, i, epochs); i++) {
    simulate_work(4.0, 2.0);
    check(pb_step_id(b, forward), "training step forward");
    simulate_work(6.0, 3.0);
    check(pb_step_id(b, backward), "training step backward");
    simulate_work(1.0, 1.0);
    char extra[48];
    snprintf(extra, sizeof extra, "{\"epoch\":%zu,\"lr\":%.4f}", i, 0.01 / (double)(i + 1));
    check(pb_step_ex(b, "update", extra, NULL), "training step update");
  }
}

/*
 * (c) Memory: a memory record at every step. Each iteration allocates a
 * buffer of 8 MiB * (i + 1) and touches it so it becomes resident; every
 * third iteration frees everything held, so the charts show RSS rising and
 * falling.
 */
static void demo_memory(void) {
  pb_bench *b = get_bench("memory");
  if (b == NULL) {
    return;
  }
  check(pb_enable_memory_tracking(b, true), "memory pb_enable_memory_tracking");
  enum { kIterations = 8 };
  const size_t mib = (size_t)1 << 20;
  unsigned char *held[kIterations] = {NULL};
  int n_held = 0;
  for (int i = 0; i < kIterations; i++) {
    check(pb_gstep(b), "memory gstep");
    size_t size = 8 * mib * (size_t)(i + 1);
    unsigned char *buf = malloc(size);
    if (buf != NULL) {
      held[n_held++] = buf;
    }
    check(pb_step(b, "allocate"), "memory step allocate");
    if (buf != NULL) {
      memset(buf, (unsigned char)(i + 1), size);
    }
    simulate_work(2.0, 2.0);
    check(pb_step(b, "compute"), "memory step compute");
    if (i % 3 == 2) {
      for (int k = 0; k < n_held; k++) {
        free(held[k]);
        held[k] = NULL;
      }
      n_held = 0;
    }
    check(pb_step(b, "maybe_free"), "memory step maybe_free");
  }
  check(pb_gstop(b), "memory gstop");
  for (int k = 0; k < n_held; k++) {
    free(held[k]);
  }
}

/*
 * (d) GPU memory: every memory record also holds the device's memory use.
 * This program does no GPU work itself; a real one would launch kernels
 * between the steps (and may turn on pb_set_cuda_sync for exact step times).
 */
static void demo_gpu(void) {
  if (!pb_cuda_available()) {
    printf("gpu demo skipped: no GPU memory tracking here (pb_cuda_available() is false)\n");
    return;
  }
  pb_bench *b = get_bench("gpu");
  if (b == NULL) {
    return;
  }
  check(pb_enable_memory_tracking(b, false), "gpu pb_enable_memory_tracking");
  check(pb_enable_cuda_memory_tracking(b), "gpu pb_enable_cuda_memory_tracking");
  for (size_t i = 0; pb_iter(b, i, 4); i++) {
    simulate_work(2.0, 1.0);
    check(pb_step(b, "upload"), "gpu step upload");
    simulate_work(3.0, 2.0);
    check(pb_step(b, "kernel"), "gpu step kernel");
    simulate_work(1.0, 1.0);
    check(pb_step(b, "download"), "gpu step download");
  }
}

/* Prints one line of counters for the benchmarker called name. */
static void print_stats(const char *name) {
  pb_bench *b = pb_get(name);
  pb_bench_stats stats;
  if (b == NULL || pb_bench_get_stats(b, &stats) != PB_OK) {
    return;
  }
  printf("  %-9s %3" PRIu64 " iterations, %4" PRIu64 " time records, %3" PRIu64
         " memory records, %" PRIu64 " saves\n",
         name, stats.iterations, stats.steps, stats.memory_records, stats.saves);
}

int main(void) {
  printf("porter_bench %s example\n", pb_version());
  g_random_state ^= (uint32_t)pb_wall_ns();
  if (g_random_state == 0) {
    g_random_state = 2463534242u;
  }

  demo_pipeline();
  demo_training();
  demo_memory();
  demo_gpu();

  pb_registry *registry = pb_default_registry();
  check(pb_registry_save(registry), "pb_registry_save");

  const char *names[] = {"pipeline", "training", "memory", "gpu"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (i < 3 || pb_cuda_available()) {
      print_stats(names[i]);
    }
  }

  char run_dir[4096];
  int len = pb_registry_run_dir(registry, run_dir, sizeof run_dir);
  if (len < 0) {
    check(len, "pb_registry_run_dir");
  } else {
    printf("records saved in %s/\n", run_dir);
  }
  return g_failures == 0 ? 0 : 1;
}
