/*
 * test_owner_lock.c - the owner-biased lock behind every benchmarker
 * (src/record/lock.c, internal.h): who owns it, when ownership moves, and
 * that it excludes: two threads adding to one plain counter under the lock
 * never lose an addition, whether one of them owns the lock, ownership
 * moves between them, or the lock became shared. Run twice by ctest: as is,
 * and with PORTER_BENCH_OWNER_LOCK=off (no owner is ever claimed).
 *
 * This test reads the lock's fields (internal.h), which no other test does:
 * the public API's thread tests (test_threads, rel_thread_stress) cover the
 * lock as programs use it.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h" /* the benchmarker's layout and its lock (internal.h) */
#include "helpers.h"

/* Whether owners are expected in this run (the environment decides). */
static bool owners_expected(void) {
  const char *env = getenv("PORTER_BENCH_OWNER_LOCK");
  return !(env && (strcmp(env, "off") == 0 || strcmp(env, "0") == 0));
}

/* The owner's thread token (the owner word without its slot), 0, or PB__OLOCK_SHARED. */
static uintptr_t owner_of(pb__olock *l) {
  uintptr_t w = atomic_load(&l->owner);
  return w == PB__OLOCK_SHARED ? w : w & ~(uintptr_t)(PB__OLOCK_SLOTS - 1);
}

static unsigned slot_of(pb__olock *l) {
  return (unsigned)(atomic_load(&l->owner) & (PB__OLOCK_SLOTS - 1));
}

/* A fresh lock that this thread owns; skips the test where owners are not claimed. */
static void init_owned(pb__olock *l) {
  if (!owners_expected()) skip();
  pb__olock_init(l);
  pb__olock_unlock(l, pb__olock_lock(l, true));
  if (owner_of(l) == PB__OLOCK_SHARED) skip(); /* membarrier refused here */
}

/* One thread: the first recording take claims the lock, the next ones are the owner's. */
static void test_first_recorder_owns(void **state) {
  (void)state;
  pb__olock l;
  pb__olock_init(&l);
  assert_int_equal(owner_of(&l), 0);
  /* The token's low bits hold the slot: the thread-local flag must be aligned for that. */
  assert_int_equal(pb__thread_token() % PB__OLOCK_SLOTS, 0);

  pb__olock_unlock(&l, pb__olock_lock(&l, false)); /* a borrow claims nothing */
  assert_int_equal(owner_of(&l), 0);

  unsigned own = pb__olock_lock(&l, true);
  assert_int_equal(own, 0); /* the claiming take itself went through the spin lock */
  pb__olock_unlock(&l, own);
  if (!owners_expected()) { /* no owner: shared for good at the first recording take */
    assert_int_equal(owner_of(&l), PB__OLOCK_SHARED);
    return;
  }
  if (owner_of(&l) == PB__OLOCK_SHARED) skip(); /* membarrier refused here (seccomp, old kernel) */
  assert_int_equal(owner_of(&l), pb__thread_token());
  assert_int_equal(slot_of(&l), 0);
  for (int i = 0; i < 3; i++) {
    own = pb__olock_lock(&l, i != 1);
    assert_int_equal(own, 1); /* the owner, recording or borrowing, enters on its own flag */
    assert_int_equal(atomic_load(&l.active[0]), 1);
    pb__olock_unlock(&l, own);
    assert_int_equal(atomic_load(&l.active[0]), 0);
    assert_int_equal(atomic_load(&l.spin.v), 0);
  }
}

typedef struct shared {
  pb__olock lock;
  long counter; /* plain: only ever changed under the lock */
  long rounds;
  bool claim; /* the second thread's takes are recording ones */
  atomic_int go;
} shared;

static void add_rounds(shared *s, bool claim) {
  for (long i = 0; i < s->rounds; i++) {
    unsigned own = pb__olock_lock(&s->lock, claim);
    long v = s->counter;
    if ((i & 255) == 0) sched_yield(); /* widen the window a lost update needs */
    s->counter = v + 1;
    pb__olock_unlock(&s->lock, own);
  }
}

static void *second_thread(void *arg) {
  shared *s = arg;
  while (!atomic_load(&s->go)) {
  }
  add_rounds(s, s->claim);
  return NULL;
}

/* Two threads add `rounds` each; the owner (this thread) races a borrower or a recorder. */
static long race(long rounds, bool claim, uintptr_t *owner_after) {
  shared *s = calloc(1, sizeof *s);
  assert_non_null(s);
  pb__olock_init(&s->lock);
  s->rounds = rounds;
  s->claim = claim;
  pb__olock_unlock(&s->lock, pb__olock_lock(&s->lock, true)); /* this thread owns it */
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, second_thread, s), 0);
  atomic_store(&s->go, 1);
  add_rounds(s, true);
  assert_int_equal(pthread_join(t, NULL), 0);
  long total = s->counter;
  *owner_after = owner_of(&s->lock);
  free(s);
  return total;
}

/* A borrower (save, statistics) never takes the ownership away. */
static void test_borrower_excludes_owner(void **state) {
  (void)state;
  long rounds = (long)th_scaled(200000, 5000);
  uintptr_t owner = 0;
  assert_int_equal(race(rounds, false, &owner), 2 * rounds);
  if (owners_expected() && owner != PB__OLOCK_SHARED) assert_int_equal(owner, pb__thread_token());
  if (!owners_expected()) assert_int_equal(owner, PB__OLOCK_SHARED);
}

/* Two recording threads taking turns: ownership moves, then the lock stays shared. */
static void test_recorders_share(void **state) {
  (void)state;
  long rounds = (long)th_scaled(200000, 5000);
  uintptr_t owner = 0;
  assert_int_equal(race(rounds, true, &owner), 2 * rounds);
  /* Whether the lock ended shared depends on how the scheduler interleaved the two
   * threads (test_quick_moves_make_it_shared checks the rule itself); whoever holds
   * it is one of them, or nobody in particular. */
  if (!owners_expected()) assert_int_equal(owner, PB__OLOCK_SHARED);
}

static void *take_once(void *arg) {
  pb__olock *l = arg;
  pb__olock_unlock(l, pb__olock_lock(l, true));
  return NULL;
}

/* A recorder that comes long after the owner's claim takes the ownership over. */
static void test_ownership_moves(void **state) {
  (void)state;
  pb__olock l;
  init_owned(&l);
  l.owned_since -= 2 * (uint64_t)PB__OLOCK_QUICK_NS; /* as if claimed 100 ms ago */
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, take_once, &l), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  uintptr_t moved = owner_of(&l);
  assert_true(moved != 0 && moved != PB__OLOCK_SHARED && moved != pb__thread_token());
  assert_int_equal(slot_of(&l), 1);   /* each ownership has a flag of its own */
  assert_int_equal(l.quick_moves, 0); /* a slow move is not counted */
  /* Back to this thread at once: a quick move, counted; the lock still moves. */
  l.owned_since = pb__mono_ns();
  unsigned own = pb__olock_lock(&l, true);
  assert_int_equal(own, 0);
  pb__olock_unlock(&l, own);
  assert_int_equal(owner_of(&l), pb__thread_token());
  assert_int_equal(slot_of(&l), 2);
  assert_int_equal(l.quick_moves, 1);
  own = pb__olock_lock(&l, true);
  assert_int_equal(own, 3); /* the owner's entry, on its new flag */
  pb__olock_unlock(&l, own);
  assert_int_equal(atomic_load(&l.revoke), 0);
}

/* After PB__OLOCK_QUICK_MOVES quick moves the lock is shared: nobody enters as owner. */
static void test_quick_moves_make_it_shared(void **state) {
  (void)state;
  pb__olock l;
  init_owned(&l);
  /* To the other thread and back here: two moves, each quick unless a loaded machine
   * kept a thread waiting 50 ms (then it is not counted, and the loop goes on). */
  unsigned rounds = 0;
  while (owner_of(&l) != PB__OLOCK_SHARED && rounds++ < PB__OLOCK_SLOTS / 4) {
    pthread_t t;
    l.owned_since = pb__mono_ns(); /* no lock is held: this thread is alone with it */
    assert_int_equal(pthread_create(&t, NULL, take_once, &l), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (owner_of(&l) == PB__OLOCK_SHARED) break;
    l.owned_since = pb__mono_ns();
    pb__olock_unlock(&l, pb__olock_lock(&l, true));
  }
  assert_int_equal(owner_of(&l), PB__OLOCK_SHARED);
  assert_int_equal(l.quick_moves, PB__OLOCK_QUICK_MOVES); /* shared by speed, not by slots */
  assert_true(l.slots_used < PB__OLOCK_SLOTS);
  unsigned own = pb__olock_lock(&l, true);
  assert_int_equal(own, 0);
  pb__olock_unlock(&l, own);
  assert_int_equal(owner_of(&l), PB__OLOCK_SHARED);
}

/* Every move uses a new flag; after PB__OLOCK_SLOTS ownerships the lock stays shared. */
static void test_slots_run_out(void **state) {
  (void)state;
  pb__olock l;
  init_owned(&l);
  /* To a new thread and back to this one (a thread that has exited may leave its
   * token to the next one, so two new threads in a row may be "the same" owner). */
  for (unsigned i = 1; i + 1 < PB__OLOCK_SLOTS; i += 2) {
    l.owned_since -= 2 * (uint64_t)PB__OLOCK_QUICK_NS; /* slow moves: never shared by speed */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, take_once, &l), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(slot_of(&l), i);
    l.owned_since -= 2 * (uint64_t)PB__OLOCK_QUICK_NS;
    pb__olock_unlock(&l, pb__olock_lock(&l, true));
    assert_int_equal(slot_of(&l), i + 1);
    assert_int_equal(owner_of(&l), pb__thread_token());
  }
  assert_int_equal(l.slots_used, PB__OLOCK_SLOTS - 1);
  pthread_t t;
  l.owned_since -= 2 * (uint64_t)PB__OLOCK_QUICK_NS;
  assert_int_equal(pthread_create(&t, NULL, take_once, &l), 0); /* the last slot */
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(slot_of(&l), PB__OLOCK_SLOTS - 1);
  l.owned_since -= 2 * (uint64_t)PB__OLOCK_QUICK_NS;
  pb__olock_unlock(&l, pb__olock_lock(&l, true));
  assert_int_equal(owner_of(&l), PB__OLOCK_SHARED);
  assert_int_equal(l.quick_moves, 0);
}

typedef struct spinner {
  pb_bench *b;
  atomic_int stop;
  atomic_long steps;
} spinner;

static void *record_forever(void *arg) {
  spinner *s = arg;
  pb_gstep(s->b);
  while (!atomic_load(&s->stop)) {
    pb_step(s->b, "spin");
    atomic_fetch_add(&s->steps, 1);
  }
  return NULL;
}

/*
 * fork() while another thread owns a benchmarker and records into it: the
 * child (which has no such thread) records and saves at once, and becomes
 * the owner itself; a hang is caught by alarm().
 */
static void test_fork_while_owned(void **state) {
  (void)state;
  char *dir = th_mkdtemp("owner_lock");
  char *path = th_strf("%s/forked", dir);
  spinner s = {0};
  assert_int_equal(pb_bench_create(path, &s.b), PB_OK);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, record_forever, &s), 0);
  while (atomic_load(&s.steps) < 1000) sched_yield();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(20);
    int bad = 0;
    for (int i = 0; i < 1000; i++) bad += pb_step(s.b, "child") != PB_OK;
    bad += pb_save(s.b) != PB_OK;
    uintptr_t owner = owner_of(&s.b->lock);
    if (owners_expected() && owner != PB__OLOCK_SHARED && owner != pb__thread_token()) bad++;
    _exit(bad ? 1 : 0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  atomic_store(&s.stop, 1);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  pb_bench_stats st;
  assert_int_equal(pb_bench_get_stats(s.b, &st), PB_OK);
  assert_int_equal(st.steps, (uint64_t)atomic_load(&s.steps));
  assert_int_equal(pb_bench_destroy(s.b), PB_OK);
  free(path);
  th_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_recorder_owns),
      cmocka_unit_test(test_borrower_excludes_owner),
      cmocka_unit_test(test_recorders_share),
      cmocka_unit_test(test_ownership_moves),
      cmocka_unit_test(test_quick_moves_make_it_shared),
      cmocka_unit_test(test_slots_run_out),
      cmocka_unit_test(test_fork_while_owned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
