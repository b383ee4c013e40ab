/*
 * test_gpu_fake.c - the GPU probe against fake_nvml (PB_NVML_LIBRARY points
 * at it; ctest runs this twice: with the v3 process query and with the v1
 * fallback). Checks the JSON of "cuda memory usage" exactly, the peak since
 * the previous record (caught by the sampling thread), independent trackers
 * and concurrent probing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_nvml.h"
#include "gpu.h"
#include "porter_bench.h"

static void (*set_process)(unsigned, unsigned long long);
static void (*hide_self)(int);
static unsigned long (*queries)(void);

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* The fake's control functions, from the copy pb__gpu_available() loaded. */
static int setup(void **state) {
  (void)state;
  if (!pb__gpu_available()) {
    fprintf(stderr, "fake NVML not loaded: %s\n", pb__gpu_unavailable_reason());
    return -1;
  }
  void *h = dlopen(getenv("PB_NVML_LIBRARY"), RTLD_LAZY | RTLD_NOLOAD);
  if (!h) return -1;
  *(void **)&set_process = dlsym(h, "fake_nvml_set_process");
  *(void **)&hide_self = dlsym(h, "fake_nvml_hide_self");
  *(void **)&queries = dlsym(h, "fake_nvml_queries");
  return set_process && hide_self && queries ? 0 : -1;
}

/* Each test starts from the canned state: 1 GiB on device 0, none on device 1. */
static int reset(void **state) {
  (void)state;
  set_process(0, FAKE_GIB);
  set_process(1, 0);
  hide_self(0);
  pb__gpu_set_poll_period(PB__GPU_POLL_DEFAULT_S);
  /* no test may reuse the last test's reading (10 ms at most; see pb__gpu_read):
   * hiding this process changes the list without changing the device's memory */
  sleep_ms(12);
  return 0;
}

static char *probe_text(pb__gpu_tracker *t) {
  static char buf[PB__GPU_JSON_CAP];
  size_t len = 0;
  assert_int_equal(pb__gpu_probe(t, buf, sizeof buf, &len), PB_OK);
  assert_int_equal(len, strlen(buf));
  return buf;
}

static void test_available(void **state) {
  (void)state;
  assert_true(pb__gpu_available());
  assert_string_equal(pb__gpu_unavailable_reason(), "");
  assert_int_equal(pb__gpu_device_count(), 2);
}

/* The exact layout: the original's four keys first, then ours. */
static void test_json_layout(void **state) {
  (void)state;
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  char expect[1024];
  snprintf(expect, sizeof expect,
           "{\"allocated\":%llu,\"reserved\":%llu,\"max_allocated\":%llu,\"max_reserved\":%llu,"
           "\"device_used\":%llu,\"device_total\":%llu,\"devices\":["
           "{\"index\":0,\"process\":%llu,\"used\":%llu,\"total\":%llu},"
           "{\"index\":1,\"process\":0,\"used\":%llu,\"total\":%llu}]}",
           FAKE_GIB, FAKE_GIB, FAKE_GIB, FAKE_GIB, FAKE_BASE_USED(0) + FAKE_GIB, FAKE_TOTAL(0),
           FAKE_GIB, FAKE_BASE_USED(0) + FAKE_GIB, FAKE_TOTAL(0), FAKE_BASE_USED(1), FAKE_TOTAL(1));
  assert_string_equal(probe_text(t), expect);
  pb__gpu_tracker_free(t);
}

/* Memory on two devices: summed; device_used/total cover the devices used. */
static void test_two_devices(void **state) {
  (void)state;
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  set_process(1, 3 * FAKE_GIB);
  pb__gpu_sample_t s;
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(s.process, 4 * FAKE_GIB);
  assert_int_equal(s.ndev, 2);
  assert_int_equal(s.dev[0].process, FAKE_GIB);
  assert_int_equal(s.dev[1].process, 3 * FAKE_GIB);
  assert_int_equal(s.dev[1].used, FAKE_BASE_USED(1) + 3 * FAKE_GIB);
  char *txt = probe_text(t);
  char want[256];
  snprintf(want, sizeof want, "\"device_used\":%llu,\"device_total\":%llu,",
           FAKE_BASE_USED(0) + FAKE_GIB + FAKE_BASE_USED(1) + 3 * FAKE_GIB,
           FAKE_TOTAL(0) + FAKE_TOTAL(1));
  assert_non_null(strstr(txt, want));
  pb__gpu_tracker_free(t);
}

/* A process the driver does not list (no context yet) has 0 and no device totals. */
static void test_process_absent(void **state) {
  (void)state;
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  hide_self(1);
  sleep_ms(30); /* the sampler's full readings replace the reusable one, and the peak */
  pb__gpu_probe(t, (char[PB__GPU_JSON_CAP]){0}, PB__GPU_JSON_CAP, &(size_t){0}); /* reset peak */
  char *txt = probe_text(t);
  assert_non_null(strstr(txt,
                         "{\"allocated\":0,\"reserved\":0,\"max_allocated\":0,"
                         "\"max_reserved\":0,\"device_used\":0,\"device_total\":0,"));
  pb__gpu_tracker_free(t);
}

/* An allocation made and freed between two records shows in the second's peak only. */
static void test_peak_between_records(void **state) {
  (void)state;
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  pb__gpu_sample_t s;
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(s.peak, FAKE_GIB);
  set_process(0, 5 * FAKE_GIB);
  sleep_ms(60); /* many sampling periods */
  set_process(0, 2 * FAKE_GIB);
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(s.process, 2 * FAKE_GIB);
  assert_int_equal(s.peak, 5 * FAKE_GIB);
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK); /* the next interval starts afresh */
  assert_int_equal(s.peak, 2 * FAKE_GIB);
  pb__gpu_tracker_free(t);
}

/* Without the sampler's help (long period) the peak is at least the probe's value. */
static void test_peak_is_at_least_current(void **state) {
  (void)state;
  assert_int_equal(pb__gpu_set_poll_period(0.0), PB_EINVAL);
  assert_int_equal(pb__gpu_set_poll_period(7200.0), PB_EINVAL);
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  sleep_ms(20); /* let the sampler take its first sample */
  assert_int_equal(pb__gpu_set_poll_period(3600.0), PB_OK);
  pb__gpu_sample_t s;
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  set_process(0, 7 * FAKE_GIB);
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(s.process, 7 * FAKE_GIB);
  assert_int_equal(s.peak, 7 * FAKE_GIB);
  /* back to a short period: the sampler, asleep for an hour, re-arms at once */
  assert_int_equal(pb__gpu_set_poll_period(PB__GPU_POLL_DEFAULT_S), PB_OK);
  set_process(0, 9 * FAKE_GIB);
  sleep_ms(60);
  set_process(0, FAKE_GIB);
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(s.peak, 9 * FAKE_GIB);
  assert_int_equal(pb__gpu_set_poll_period(3600.0), PB_OK);
  pb__gpu_tracker_free(t); /* joins a sampler sleeping for an hour: must not wait */
}

/*
 * A probe asks for the process list only when the device's used memory changed
 * since the newest full reading, or when that reading is over 10 ms old.
 */
static void test_reuse_when_unchanged(void **state) {
  (void)state;
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  assert_int_equal(pb__gpu_set_poll_period(3600.0), PB_OK); /* one sample, then asleep */
  unsigned long settled;
  do { /* wait until 15 ms pass without a query: the sampler sleeps, its sample too old to reuse */
    settled = queries();
    sleep_ms(15);
  } while (queries() != settled);
  unsigned long q = queries();
  pb__gpu_sample_t s;
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(queries(), q + 2); /* both devices */
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(queries(), q + 2); /* nothing changed: reused */
  assert_int_equal(s.process, FAKE_GIB);
  set_process(0, 5 * FAKE_GIB); /* device 0's used memory changes with it */
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(queries(), q + 3); /* device 0 read again, device 1 reused */
  assert_int_equal(s.process, 5 * FAKE_GIB);
  assert_int_equal(s.peak, 5 * FAKE_GIB);
  sleep_ms(15);
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK);
  assert_int_equal(queries(), q + 5); /* too old: both read again */
  assert_int_equal(s.process, 5 * FAKE_GIB);
  pb__gpu_tracker_free(t);
}

/*
 * fork() with the sampler running: the child finds its own memory (its own
 * pid), can create and free trackers (a sampler of its own) without hanging.
 */
#if defined(__SANITIZE_THREAD__)
#define PB_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PB_TEST_TSAN 1
#endif
#endif

static void test_fork(void **state) {
  (void)state;
#ifdef PB_TEST_TSAN
  skip(); /* TSan cannot start threads after a multi-threaded fork */
#endif
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  assert_non_null(t);
  sleep_ms(10);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(20); /* a hang fails the test instead of blocking it */
    int ok = 1;
    pb__gpu_sample_t s;
    ok &= pb__gpu_sample(t, &s) == PB_OK && s.process == FAKE_GIB;
    pb__gpu_tracker *c = pb__gpu_tracker_new();
    ok &= c != NULL;
    ok &= pb__gpu_set_poll_period(0.001) == PB_OK;
    sleep_ms(10);
    ok &= c && pb__gpu_sample(c, &s) == PB_OK && s.process == FAKE_GIB;
    pb__gpu_tracker_free(c);
    pb__gpu_tracker_free(t);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  pb__gpu_sample_t s;
  assert_int_equal(pb__gpu_sample(t, &s), PB_OK); /* the parent goes on as before */
  assert_int_equal(s.process, FAKE_GIB);
  pb__gpu_tracker_free(t);
}

/* Two trackers (two benchmarkers) keep their own peak intervals. */
static void test_independent_trackers(void **state) {
  (void)state;
  pb__gpu_tracker *a = pb__gpu_tracker_new(), *b = pb__gpu_tracker_new();
  assert_non_null(a);
  assert_non_null(b);
  pb__gpu_sample_t s;
  pb__gpu_sample(a, &s);
  pb__gpu_sample(b, &s);
  set_process(0, 6 * FAKE_GIB);
  sleep_ms(60);
  set_process(0, FAKE_GIB);
  assert_int_equal(pb__gpu_sample(a, &s), PB_OK);
  assert_int_equal(s.peak, 6 * FAKE_GIB);
  sleep_ms(30);
  assert_int_equal(pb__gpu_sample(a, &s), PB_OK);
  assert_int_equal(s.peak, FAKE_GIB);
  assert_int_equal(pb__gpu_sample(b, &s), PB_OK); /* b has not recorded since the spike */
  assert_int_equal(s.peak, 6 * FAKE_GIB);
  pb__gpu_tracker_free(a);
  pb__gpu_tracker_free(b);
}

/* The sampler runs only while a tracker exists. */
static void test_sampler_stops(void **state) {
  (void)state;
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  sleep_ms(30);
  pb__gpu_tracker_free(t);
  unsigned long q = queries();
  sleep_ms(30);
  assert_int_equal(queries(), q);
}

static void test_bad_arguments(void **state) {
  (void)state;
  pb__gpu_tracker_free(NULL);
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  char small[40];
  size_t len;
  assert_int_equal(pb__gpu_probe(t, small, sizeof small, &len), PB_EINVAL);
  assert_int_equal(pb__gpu_probe(NULL, small, sizeof small, &len), PB_EINVAL);
  assert_int_equal(pb__gpu_probe(t, NULL, 10, &len), PB_EINVAL);
  assert_int_equal(pb__gpu_probe(t, small, sizeof small, NULL), PB_EINVAL);
  assert_int_equal(pb__gpu_sample(t, NULL), PB_EINVAL);
  assert_int_equal(pb__gpu_sample(NULL, &(pb__gpu_sample_t){0}), PB_EINVAL);
  pb__gpu_tracker_free(t);
}

/* Threads creating, probing and freeing trackers while the memory changes. */
#define NTHREADS 4
static void *worker(void *arg) {
  int *ok = arg;
  for (int round = 0; round < 20; round++) {
    pb__gpu_tracker *t = pb__gpu_tracker_new();
    if (!t) return NULL;
    for (int i = 0; i < 20; i++) {
      char buf[PB__GPU_JSON_CAP];
      size_t len;
      if (pb__gpu_probe(t, buf, sizeof buf, &len) != PB_OK || buf[len - 1] != '}') {
        pb__gpu_tracker_free(t);
        return NULL;
      }
    }
    pb__gpu_tracker_free(t);
  }
  *ok = 1;
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  pthread_t th[NTHREADS];
  int ok[NTHREADS] = {0};
  pb__gpu_set_poll_period(0.0002);
  for (int i = 0; i < NTHREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, worker, &ok[i]), 0);
  for (int i = 0; i < 200; i++) set_process(0, (unsigned long long)(i % 7 + 1) * FAKE_GIB);
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(ok[i], 1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_available, reset),
      cmocka_unit_test_setup(test_json_layout, reset),
      cmocka_unit_test_setup(test_two_devices, reset),
      cmocka_unit_test_setup(test_process_absent, reset),
      cmocka_unit_test_setup(test_peak_between_records, reset),
      cmocka_unit_test_setup(test_peak_is_at_least_current, reset),
      cmocka_unit_test_setup(test_reuse_when_unchanged, reset),
      cmocka_unit_test_setup(test_independent_trackers, reset),
      cmocka_unit_test_setup(test_fork, reset),
      cmocka_unit_test_setup(test_sampler_stops, reset),
      cmocka_unit_test_setup(test_bad_arguments, reset),
      cmocka_unit_test_setup(test_threads, reset),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
