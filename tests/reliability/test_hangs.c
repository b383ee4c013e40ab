/*
 * test_hangs.c - issue 11, defects 1-4: calls that used to hang for good.
 *
 *   test_hangs fork     fork() while another thread creates registry names
 *   test_hangs rt       a SCHED_FIFO thread and a normal thread share a
 *                       benchmarker on one CPU (skipped, exit 77, without the
 *                       privilege to use SCHED_FIFO or to pin threads)
 *   test_hangs cancel   threads cancelled inside pb_save and inside
 *                       memory-tracked recording calls
 *   test_hangs signal   pb_step from a signal handler that interrupts
 *                       porter_bench on the same thread
 *
 * A hang is the failure these tests look for, so each mode arms a watchdog
 * (alarm) that ends the process with a message and exit status 3 long before
 * ctest's own timeout. See docs/RELIABILITY.md, "Issue 11: defects 1-4".
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

static const char *g_mode = "";

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_hangs: watchdog: the test hung (mode ";
  ssize_t n = write(2, msg, sizeof msg - 1);
  n = write(2, g_mode, strlen(g_mode));
  n = write(2, ")\n", 2);
  (void)n;
  _exit(3);
}

/* The watchdog: the whole mode must finish within `seconds`. */
static void arm_watchdog(unsigned seconds) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm(seconds);
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static uint64_t bench_steps(pb_bench *b) {
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  return st.steps;
}

/* No temporary file of a save anywhere under dir. */
static void assert_no_tmp(const char *dir) {
  rel_tree t = rel_walk(dir);
  for (size_t i = 0; i < t.n; i++) {
    if (rel_is_tmp_name(t.e[i].rel)) fail_msg("temporary file left behind: %s/%s", dir, t.e[i].rel);
  }
  rel_tree_free(&t);
}

/* ---- defect 1: fork() against pb_registry_get of new names ---- */

#if defined(__SANITIZE_THREAD__)
#define HANG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HANG_TSAN 1
#endif
#endif

/*
 * New names the namer creates at most. The fork handler holds every lock of
 * every benchmarker (two mutexes each) across fork(), and TSan's deadlock
 * detector stops at 64 locks held by one thread: under TSan, 16 names. TSan
 * reports the lock-order inversion itself, without waiting for the hang.
 */
#ifdef HANG_TSAN
enum { NAME_CAP = 16 };
#else
enum { NAME_CAP = 3000 };
#endif

static atomic_bool g_stop;
static atomic_long g_names, g_forks;

/*
 * Creates new names, paced: at most 4 between two forks (after the first
 * two), so that names and forks interleave and every run tests look-ups
 * during forks, however the threads are scheduled (a namer left to run
 * freely could create all its names before the first fork on a loaded
 * machine).
 */
static void *namer_main(void *arg) {
  pb_registry *r = arg;
  char name[32];
  long seen = 0, burst = 0;
  for (long i = 0; !atomic_load(&g_stop) && i < NAME_CAP; i++) {
    while (i >= 2 && burst >= 4 && atomic_load(&g_forks) == seen && !atomic_load(&g_stop))
      sleep_us(20);
    if (atomic_load(&g_forks) != seen) {
      seen = atomic_load(&g_forks);
      burst = 0;
    }
    burst++;
    sleep_us(20);
    snprintf(name, sizeof name, "name%ld", i);
    if (!pb_registry_get(r, name)) break;
    atomic_fetch_add(&g_names, 1);
  }
  return NULL;
}

static void test_fork_vs_registry_get(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("hang-fork");
  pb_registry *r = NULL;
  REL_ASSERT_OK(pb_registry_create(dir, &r));
  assert_non_null(pb_registry_get(r, "first")); /* claims the run folder first */
  long forks = rel_count("HANG_FORKS", 200, true);
  atomic_store(&g_stop, false);
  atomic_store(&g_names, 0);
  atomic_store(&g_forks, 0);
  pthread_t namer;
  assert_int_equal(pthread_create(&namer, NULL, namer_main, r), 0);
  while (atomic_load(&g_names) < 2) sched_yield(); /* the namer is under way */
  long during = atomic_load(&g_names);
  /* At least `forks` forks, and on until the namer has made 4 names during them. */
  for (long k = 0; k < forks || atomic_load(&g_names) - during < 4; k++) {
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the child's registry lock works; exit_group: no sanitizer's exit checks */
      syscall(SYS_exit_group, pb_registry_size(r) > 0 ? 0 : 1);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("child status 0x%x", status);
    atomic_fetch_add(&g_forks, 1);
  }
  during = atomic_load(&g_names) - during;
  atomic_store(&g_stop, true);
  assert_int_equal(pthread_join(namer, NULL), 0);
  printf("# %ld forks while the other thread created %ld new names\n", (long)atomic_load(&g_forks),
         during);
  assert_true(during >= 4);
  assert_int_equal(pb_registry_size(r), (size_t)atomic_load(&g_names) + 1);
  pb_registry_destroy(r);
  rel_rmtree(dir);
  free(dir);
}

/* ---- defect 2: SCHED_FIFO and a normal thread on one CPU ---- */

static int g_cpu = -1; /* the CPU both threads are pinned to */
static pb_bench *g_rt_bench;
static atomic_long g_lo_ok, g_hi_ok, g_rt_errors;
static atomic_int g_rt_setup; /* 0 pending, 1 ok, -errno failure */

static int pin_self(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(g_cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *low_main(void *arg) {
  (void)arg;
  if (pin_self() != 0) return NULL;
  while (!atomic_load(&g_stop)) {
    int rc = pb_step(g_rt_bench, "lo");
    atomic_fetch_add(rc == PB_OK ? &g_lo_ok : &g_rt_errors, 1);
  }
  return NULL;
}

/* Sleeps, wakes (preempting the normal thread, maybe inside its lock), steps. */
static void *high_main(void *arg) {
  long n = *(long *)arg;
  int e = pin_self();
  struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO)};
  if (!e) e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  atomic_store(&g_rt_setup, e ? -e : 1);
  if (e) return NULL;
  for (long i = 0; i < n; i++) {
    sleep_us(20);
    int rc = pb_step(g_rt_bench, "hi");
    atomic_fetch_add(rc == PB_OK ? &g_hi_ok : &g_rt_errors, 1);
  }
  return NULL;
}

/* The first CPU this process may run on, or -1. */
static int first_cpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return -1;
}

/* Whether this process may make a thread SCHED_FIFO and pin it (EPERM: no). */
static bool rt_allowed(void) {
  g_cpu = first_cpu();
  if (g_cpu < 0) return false;
  struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO)};
  int old_policy;
  struct sched_param old;
  pthread_getschedparam(pthread_self(), &old_policy, &old);
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0) return false;
  pthread_setschedparam(pthread_self(), old_policy, &old);
  return true;
}

static void test_rt_and_normal_thread_one_cpu(void **state) {
  (void)state;
  if (!rt_allowed()) skip();
  REL_ASSERT_OK(pb_bench_create("/tmp/pbrel-hang-rt-unsaved/b", &g_rt_bench));
  REL_ASSERT_OK(pb_gstep(g_rt_bench));
  long n = rel_count("HANG_RT_WAKES", 3000, true);
  atomic_store(&g_stop, false);
  atomic_store(&g_rt_setup, 0);
  pthread_t lo, hi;
  assert_int_equal(pthread_create(&lo, NULL, low_main, NULL), 0);
  sleep_us(2000); /* the normal thread is recording */
  assert_int_equal(pthread_create(&hi, NULL, high_main, &n), 0);
  assert_int_equal(pthread_join(hi, NULL), 0);
  atomic_store(&g_stop, true);
  assert_int_equal(pthread_join(lo, NULL), 0);
  int setup = atomic_load(&g_rt_setup);
  if (setup != 1) {
    pb_bench_destroy(g_rt_bench);
    if (setup == -EPERM) skip();
    fail_msg("cannot set up the SCHED_FIFO thread on CPU %d: %s", g_cpu, strerror(-setup));
  }
  printf("# CPU %d: the SCHED_FIFO thread made %ld steps, the normal thread %ld\n", g_cpu,
         atomic_load(&g_hi_ok), atomic_load(&g_lo_ok));
  assert_int_equal(atomic_load(&g_rt_errors), 0);
  assert_int_equal(atomic_load(&g_hi_ok), n);
  assert_int_equal(bench_steps(g_rt_bench), (uint64_t)(n + atomic_load(&g_lo_ok)));
  REL_ASSERT_OK(pb_bench_destroy(g_rt_bench));
}

/* ---- defect 3: cancellation inside pb_save and recording calls ---- */

static void *saver_main(void *arg) {
  pb_bench *b = arg;
  for (;;) {
    pb_save(b);
    pthread_testcancel(); /* cancellation lands here once pb_save defers it */
  }
  return NULL;
}

static void *mem_recorder_main(void *arg) {
  pb_bench *b = arg;
  for (;;) {
    pb_gstep(b); /* probes memory (reads /proc) holding the benchmarker's op lock */
    pb_step(b, "m");
    pthread_testcancel();
  }
  return NULL;
}

/* Starts fn(b), cancels it after a short random time, joins it. */
static void cancel_one(void *(*fn)(void *), pb_bench *b, unsigned *seed) {
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, fn, b), 0);
  sleep_us(200 + rand_r(seed) % 3000);
  assert_int_equal(pthread_cancel(t), 0);
  void *res = NULL;
  assert_int_equal(pthread_join(t, &res), 0);
  assert_ptr_equal(res, PTHREAD_CANCELED);
}

static void test_cancel_in_save(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("hang-cancel");
  char *prefix = rel_strf("%s/b", dir);
  char *mprefix = rel_strf("%s/m", dir);
  pb_bench *b = NULL, *m = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_bench_create(mprefix, &m));
  for (int i = 0; i < 400; i++) { /* enough records that a save spends its time in I/O */
    REL_ASSERT_OK(pb_gstep(b));
    for (int k = 0; k < 50; k++) REL_ASSERT_OK(pb_step(b, k % 2 ? "odd" : "even"));
  }
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_enable_memory_tracking(m, true));
  REL_ASSERT_OK(pb_gstep(m));
  long rounds = rel_count("HANG_CANCELS", 30, true);
  unsigned seed = 11;
  for (long k = 0; k < rounds; k++) {
    cancel_one(saver_main, b, &seed);
    assert_no_tmp(dir);
    REL_ASSERT_OK(pb_save(b)); /* used to wait forever for the cancelled save */
    cancel_one(mem_recorder_main, m, &seed);
    REL_ASSERT_OK(pb_step(m, "after")); /* used to wait forever for the op lock */
  }
  REL_ASSERT_OK(pb_save(m));
  assert_no_tmp(dir);
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(data), 400);
  assert_int_equal(rel_count_calls(data, "odd"), 400 * 25);
  json_decref(data);
  data = rel_must_load(mprefix, PB_SUFFIX_DATA);
  assert_int_equal(rel_count_calls(data, "after"), (size_t)rounds);
  json_decref(data);
  printf("# %ld rounds: cancelled a saving thread and a memory-tracked recorder each round\n",
         rounds);
  REL_ASSERT_OK(pb_bench_destroy(b));
  REL_ASSERT_OK(pb_bench_destroy(m));
  rel_rmtree(dir);
  free(dir), free(prefix), free(mprefix);
}

/* ---- defect 4: recording calls from a signal handler ---- */

static pb_bench *g_sig_b, *g_sig_other;
static atomic_long g_sig_ok_b, g_sig_ok_other, g_sig_busy, g_sig_bad, g_main_ok;
static atomic_int g_sig_bad_rc;

static void on_usr1(int sig) {
  (void)sig;
  int saved = errno;
  static atomic_uint turn;
  bool same = atomic_fetch_add(&turn, 1) % 2 == 0;
  int rc = pb_step(same ? g_sig_b : g_sig_other, "sig");
  if (rc == PB_OK)
    atomic_fetch_add(same ? &g_sig_ok_b : &g_sig_ok_other, 1);
  else if (rc == PB_EBUSY)
    atomic_fetch_add(&g_sig_busy, 1);
  else {
    atomic_store(&g_sig_bad_rc, rc);
    atomic_fetch_add(&g_sig_bad, 1);
  }
  errno = saved;
}

static void *sig_target_main(void *arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    if (pb_step(g_sig_b, "main") == PB_OK) atomic_fetch_add(&g_main_ok, 1);
  }
  return NULL;
}

static void test_step_from_signal_handler(void **state) {
  (void)state;
  REL_ASSERT_OK(pb_bench_create("/tmp/pbrel-hang-sig-unsaved/b", &g_sig_b));
  REL_ASSERT_OK(pb_bench_create("/tmp/pbrel-hang-sig-unsaved/o", &g_sig_other));
  REL_ASSERT_OK(pb_gstep(g_sig_b));
  REL_ASSERT_OK(pb_gstep(g_sig_other));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
  atomic_store(&g_stop, false);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, sig_target_main, NULL), 0);
  /* Signals until a good number landed inside porter_bench (at most 20 s). */
  long sent = 0;
  uint64_t t0 = pb_now_ns();
  while (atomic_load(&g_sig_busy) < 50 && pb_now_ns() - t0 < 20000000000ull) {
    pthread_kill(t, SIGUSR1);
    sent++;
    sleep_us(50);
  }
  atomic_store(&g_stop, true);
  assert_int_equal(pthread_join(t, NULL), 0);
  long busy = atomic_load(&g_sig_busy), ok_b = atomic_load(&g_sig_ok_b);
  long ok_o = atomic_load(&g_sig_ok_other);
  printf("# %ld signals sent: %ld steps recorded from the handler, %ld refused with PB_EBUSY\n",
         sent, ok_b + ok_o, busy);
  if (atomic_load(&g_sig_bad))
    fail_msg("%ld handler steps returned %s", atomic_load(&g_sig_bad),
             pb_err_name(atomic_load(&g_sig_bad_rc)));
  assert_true(busy > 0); /* some signals did interrupt porter_bench */
  assert_int_equal(bench_steps(g_sig_b), (uint64_t)(atomic_load(&g_main_ok) + ok_b));
  assert_int_equal(bench_steps(g_sig_other), (uint64_t)ok_o);
  REL_ASSERT_OK(pb_bench_destroy(g_sig_b));
  REL_ASSERT_OK(pb_bench_destroy(g_sig_other));
}

int main(int argc, char **argv) {
  g_mode = argc > 1 ? argv[1] : "";
  if (!strcmp(g_mode, "fork")) {
    arm_watchdog(90);
    const struct CMUnitTest t[] = {cmocka_unit_test(test_fork_vs_registry_get)};
    return cmocka_run_group_tests_name("hangs: fork", t, NULL, NULL);
  }
  if (!strcmp(g_mode, "rt")) {
    if (!rt_allowed()) {
      printf("# skipped: SCHED_FIFO or CPU pinning not permitted here\n");
      return REL_SKIP;
    }
    arm_watchdog(60);
    const struct CMUnitTest t[] = {cmocka_unit_test(test_rt_and_normal_thread_one_cpu)};
    return cmocka_run_group_tests_name("hangs: SCHED_FIFO", t, NULL, NULL);
  }
  if (!strcmp(g_mode, "cancel")) {
    arm_watchdog(90);
    const struct CMUnitTest t[] = {cmocka_unit_test(test_cancel_in_save)};
    return cmocka_run_group_tests_name("hangs: cancellation", t, NULL, NULL);
  }
  if (!strcmp(g_mode, "signal")) {
    arm_watchdog(60);
    const struct CMUnitTest t[] = {cmocka_unit_test(test_step_from_signal_handler)};
    return cmocka_run_group_tests_name("hangs: signal handler", t, NULL, NULL);
  }
  fprintf(stderr, "usage: %s fork|rt|cancel|signal\n", argv[0]);
  return 2;
}
