/*
 * test_spin_lock.c - the small lock under every benchmarker (pb__spin,
 * src/record/lock.c and internal.h): no wake-up is ever missed, and it
 * excludes.
 *
 * This executable compiles its own copy of lock.c with PB_SPIN_TEST_HOOKS,
 * which counts futex waits, those that ended by their timeout, and those of
 * them during which the lock was released (missed wake-ups), calls hooks just
 * before each futex wait and each release, and makes the wait's timeout
 * 200 ms instead of 1 ms; it links no porter_bench library. A missed wake-up
 * costs the waiter the whole timeout, so it is counted, not timed: the tests
 * assert counts, never durations.
 *
 * - Deterministic interleavings (hooks stop a thread at a chosen point): the
 *   holder releases just before the waiter blocks, or releases and takes the
 *   lock again; the waiter blocks while the holder is releasing; two waiters
 *   asleep at one release both get through.
 * - Stress: hand-offs between two threads, and four threads adding to a
 *   plain counter; no addition is lost and no wake-up is missed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

/* lock.c's owner-biased lock reads the thread token; error.c, which defines it, is not here. */
_Thread_local unsigned char pb__in_call
    __attribute__((tls_model("initial-exec"), aligned(PB__TOKEN_ALIGN)));

/* ---- helpers ---- */

/* n scaled by PB_TEST_SCALE (default 1; 0.1 in sanitizer builds), never below min_n. */
static long scaled(long n, long min_n) {
#ifdef PB_TEST_SANITIZED
  double scale = 0.1;
#else
  double scale = 1.0;
#endif
  const char *env = getenv("PB_TEST_SCALE");
  if (env && *env && strtod(env, NULL) > 0) scale = strtod(env, NULL);
  long out = (long)((double)n * scale);
  return out < min_n ? min_n : out;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The scheduler state of thread tid ('S' while it sleeps in a futex wait); 0 if unreadable. */
static char thread_state(pid_t tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')'); /* "tid (comm) S ..." */
  return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Waits until thread tid sleeps in the kernel (at most 5 s; 50 ms where /proc says nothing). */
static void wait_asleep(pid_t tid) {
  for (int i = 0; i < 5000; i++) {
    char s = thread_state(tid);
    if (s == 'S') return;
    if (s == 0) break;
    sleep_ms(1);
  }
  sleep_ms(50);
}

static void probe_reset(void (*hook)(pb__spin *)) {
  pb__spin_test.before_release = NULL;
  atomic_store(&pb__spin_test.releases, 0);
  atomic_store(&pb__spin_test.blocks, 0);
  atomic_store(&pb__spin_test.timeouts, 0);
  atomic_store(&pb__spin_test.missed, 0);
  pb__spin_test.before_block = hook;
}

/* ---- deterministic interleavings ----
 * The stage and the waiters are static, and nothing is asserted while a
 * waiter runs: a failed assertion must not leave a thread on a dead frame. */

typedef struct waiter {
  pthread_t thread;
  atomic_int tid;
} waiter;

static struct stage {
  pb__spin lock;
  atomic_int at_block; /* futex waits about to begin (the hook's calls) */
  atomic_int go_on;    /* the hook lets the first wait begin */
  long counter;        /* plain: changed under the lock only */
  waiter w[2];
} st;

/* Stops the first waiter that is about to block until the main thread says go. */
static void hold_first_block(pb__spin *l) {
  (void)l;
  if (atomic_fetch_add(&st.at_block, 1) == 0) {
    while (!atomic_load(&st.go_on)) sched_yield();
  }
}

/* Counts the waits about to begin. */
static void count_block(pb__spin *l) {
  (void)l;
  atomic_fetch_add(&st.at_block, 1);
}

static void *waiter_main(void *arg) {
  waiter *w = arg;
  atomic_store(&w->tid, (int)syscall(SYS_gettid));
  pb__spin_lock(&st.lock);
  st.counter++;
  pb__spin_unlock(&st.lock);
  return NULL;
}

/* A fresh stage, held by this thread, with n waiters started (hook: before each futex wait). */
static void stage_start(int n, void (*hook)(pb__spin *)) {
  memset(&st, 0, sizeof st);
  probe_reset(hook);
  pb__spin_lock(&st.lock); /* free: the fast path */
  for (int i = 0; i < n; i++) {
    if (pthread_create(&st.w[i].thread, NULL, waiter_main, &st.w[i]) != 0) abort();
  }
}

static void stage_join(int n) {
  for (int i = 0; i < n; i++) pthread_join(st.w[i].thread, NULL);
}

static void wait_at_block(int n) {
  while (atomic_load(&st.at_block) < n) sched_yield();
}

static void wait_waiter_asleep(int i) {
  while (!atomic_load(&st.w[i].tid)) sched_yield();
  wait_asleep(atomic_load(&st.w[i].tid));
}

/* The holder releases after the waiter announced itself and before it blocks. */
static void test_release_just_before_block(void **state) {
  (void)state;
  stage_start(1, hold_first_block);
  wait_at_block(1);
  pb__spin_unlock(&st.lock); /* nobody to wake yet: its wait must not begin asleep */
  atomic_store(&st.go_on, 1);
  stage_join(1);
  assert_int_equal(st.counter, 1);
  assert_int_equal(atomic_load(&pb__spin_test.blocks), 1); /* that wait returned at once */
  assert_int_equal(atomic_load(&pb__spin_test.missed), 0);
  assert_int_equal(atomic_load(&pb__spin_test.timeouts), 0);
}

/* The holder releases and takes the lock again before the waiter blocks; its next release wakes it.
 */
static void test_release_and_retake_before_block(void **state) {
  (void)state;
  stage_start(1, hold_first_block);
  wait_at_block(1);
  pb__spin_unlock(&st.lock);
  pb__spin_lock(&st.lock); /* free again: the fast path */
  atomic_store(&st.go_on, 1);
  wait_waiter_asleep(0);
  pb__spin_unlock(&st.lock); /* must wake it: a missed wake-up is a timeout, counted */
  stage_join(1);
  assert_int_equal(st.counter, 1);
  assert_int_equal(atomic_load(&pb__spin_test.missed), 0);
  assert_int_equal(atomic_load(&pb__spin_test.timeouts), 0);
}

/* Stops the first release until the waiter sleeps: it blocked while the lock was being released. */
static void hold_first_release(pb__spin *l) {
  (void)l;
  if (atomic_fetch_add(&st.go_on, 1) == 0) {
    wait_at_block(1);
    wait_waiter_asleep(0);
  }
}

/*
 * The waiter blocks while the holder is releasing: the release must see it.
 * The hook stops the holder at the last point before its release is visible
 * (here, before its one exchange). The lock before this test stored 0 and
 * then loaded its sleeper count; a compiler may hoist that relaxed load
 * above the release store (and an x86 store buffer does the same at run
 * time), and in that order this test stops the holder between the two: the
 * waiter then slept until its timeout with the lock free.
 */
static void test_block_during_release(void **state) {
  (void)state;
  stage_start(1, count_block);
  pb__spin_test.before_release = hold_first_release;
  pb__spin_unlock(&st.lock);
  stage_join(1);
  assert_int_equal(st.counter, 1);
  assert_true(atomic_load(&pb__spin_test.blocks) >= 1);
  assert_int_equal(atomic_load(&pb__spin_test.missed), 0);
  assert_int_equal(atomic_load(&pb__spin_test.timeouts), 0);
}

/* Two waiters asleep at one release: it wakes one, whose release wakes the other. */
static void test_two_sleepers_each_woken(void **state) {
  (void)state;
  stage_start(2, count_block);
  wait_at_block(2);
  wait_waiter_asleep(0);
  wait_waiter_asleep(1);
  pb__spin_unlock(&st.lock);
  stage_join(2);
  assert_int_equal(st.counter, 2);
  assert_int_equal(atomic_load(&pb__spin_test.missed), 0);
  assert_int_equal(atomic_load(&pb__spin_test.timeouts), 0);
}

/* The word's three states: 1 when taken free, 2 once a waiter announced itself, 0 after. */
static void test_lock_word_states(void **state) {
  (void)state;
  stage_start(0, NULL);
  int held = atomic_load(&st.lock.v);
  pb__spin_unlock(&st.lock);
  int freed = atomic_load(&st.lock.v);
  assert_int_equal(held, 1);
  assert_int_equal(freed, 0);

  stage_start(1, hold_first_block);
  wait_at_block(1);
  int announced = atomic_load(&st.lock.v);
  pb__spin_unlock(&st.lock);
  atomic_store(&st.go_on, 1);
  stage_join(1);
  assert_int_equal(announced, 2);
  assert_int_equal(atomic_load(&st.lock.v), 0);
}

/* ---- stress ---- */

/*
 * Hand-offs: in round k the holder takes the lock, says so, keeps it for a
 * varying time (0 to about 3 times a waiter's spinning, so that the waiter
 * often starts to block right at the release), writes a few cache lines that
 * are not in any cache (stores still draining when the release comes: the
 * window in which the old release's store and load passed each other), and
 * releases it; then it waits, without the lock, until the waiter has had its
 * turn. The waiter takes the lock as soon as the holder says it holds it. So
 * no later release can make up for a missed wake-up: the waiter sleeps until
 * its wait's timeout, which is counted, with the release inside it.
 */
#define COLD_BYTES (64u << 20) /* more than the caches: each line written misses */
#define COLD_LINES 32
#define COLD_STRIDE 4160 /* a line and a page apart: no prefetcher runs ahead */
#define HOLD_PAUSES 1024 /* the waiter spins 64 pauses and yields 8 times */

typedef struct handoff {
  pb__spin lock;
  long counter; /* plain: changed under the lock only */
  long rounds;
  atomic_long held; /* the last round whose hold began */
  atomic_long done; /* the last round the waiter finished */
  unsigned char *cold;
} handoff;

static void spin_pauses(unsigned n) {
  for (volatile unsigned i = 0; i < n; i++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

static void *holder_main(void *arg) {
  handoff *h = arg;
  uint32_t rnd = 12345;
  size_t at = 0;
  for (long k = 1; k <= h->rounds; k++) {
    pb__spin_lock(&h->lock);
    atomic_store(&h->held, k);
    rnd = rnd * 1103515245u + 12345u;
    spin_pauses((rnd >> 16) % HOLD_PAUSES);
    for (int i = 0; i < COLD_LINES; i++, at = (at + COLD_STRIDE) % COLD_BYTES) h->cold[at]++;
    h->counter++;
    pb__spin_unlock(&h->lock);
    while (atomic_load(&h->done) < k) sched_yield();
  }
  return NULL;
}

static void *taker_main(void *arg) {
  handoff *h = arg;
  for (long k = 1; k <= h->rounds; k++) {
    while (atomic_load(&h->held) < k) {
    }
    pb__spin_lock(&h->lock);
    h->counter++;
    pb__spin_unlock(&h->lock);
    atomic_store(&h->done, k);
  }
  return NULL;
}

/*
 * With one waiter at most, every release during a futex wait must wake it,
 * so a timeout during which the lock was released is a missed wake-up. (A
 * timeout with no release in it is a holder that kept the lock 200 ms, e.g.
 * stopped on a very busy machine: counted, not a failure.)
 */
static void test_handoffs_no_missed_wakeup(void **state) {
  (void)state;
  handoff *h = calloc(1, sizeof *h);
  assert_non_null(h);
  h->rounds = scaled(10000, 1000);
  h->cold = malloc(COLD_BYTES);
  assert_non_null(h->cold);
  memset(h->cold, 1, COLD_BYTES); /* faulted in now, not under the lock */
  probe_reset(NULL);
  pthread_t t[2];
  assert_int_equal(pthread_create(&t[0], NULL, holder_main, h), 0);
  assert_int_equal(pthread_create(&t[1], NULL, taker_main, h), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  long blocks = atomic_load(&pb__spin_test.blocks), timeouts = atomic_load(&pb__spin_test.timeouts);
  long missed = atomic_load(&pb__spin_test.missed);
  print_message("%ld hand-offs: %ld futex waits, %ld timed out, %ld missed wake-ups\n", h->rounds,
                blocks, timeouts, missed);
  assert_int_equal(h->counter, 2 * h->rounds);
  assert_int_equal(atomic_load(&h->lock.v), 0);
  free(h->cold);
  free(h);
  assert_true(blocks > 0); /* the waiter did block: the test tested something */
  assert_int_equal(missed, 0);
}

typedef struct race {
  pb__spin lock;
  long counter; /* plain: changed under the lock only */
  long rounds;
  atomic_int go;
} race;

static void *add_rounds(void *arg) {
  race *r = arg;
  while (!atomic_load(&r->go)) {
  }
  for (long i = 0; i < r->rounds; i++) {
    pb__spin_lock(&r->lock);
    long v = r->counter;
    if ((i & 255) == 0) sched_yield(); /* a longer hold now and then: others block */
    r->counter = v + 1;
    pb__spin_unlock(&r->lock);
  }
  return NULL;
}

/* Four threads (more than this machine's CPUs) add to one plain counter: no addition is lost. */
static void test_four_threads_exclude(void **state) {
  (void)state;
  probe_reset(NULL);
  race *r = calloc(1, sizeof *r);
  assert_non_null(r);
  r->rounds = scaled(300000, 5000);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, add_rounds, r), 0);
  atomic_store(&r->go, 1);
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  print_message("4 threads x %ld rounds: %ld futex waits, %ld timed out\n", r->rounds,
                (long)atomic_load(&pb__spin_test.blocks),
                (long)atomic_load(&pb__spin_test.timeouts));
  assert_int_equal(r->counter, 4 * r->rounds);
  assert_int_equal(atomic_load(&r->lock.v), 0);
  free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_word_states),
      cmocka_unit_test(test_release_just_before_block),
      cmocka_unit_test(test_release_and_retake_before_block),
      cmocka_unit_test(test_two_sleepers_each_woken),
      cmocka_unit_test(test_block_during_release),
      cmocka_unit_test(test_handoffs_no_missed_wakeup),
      cmocka_unit_test(test_four_threads_exclude),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
