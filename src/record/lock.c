/*
 * lock.c - the locks of a benchmarker's recording state: a small spin lock
 * that blocks in the kernel when it must wait long (a three-state futex
 * lock), and the owner-biased lock built on it (internal.h explains both).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#endif

#include "internal.h"

/*
 * How long a blocked waiter sleeps at most before it looks at the lock again.
 * No wake-up is missed (internal.h), so correctness does not rest on this:
 * it only bounds the wait should a wake-up ever go astray, and costs a
 * waiter one more look at a lock held longer than this.
 */
enum { SPIN_PAUSES = 64, SPIN_YIELDS = 8 };

#ifndef PB_SPIN_TEST_HOOKS
enum { BLOCK_NS = 1000000 };
#else
/* Test builds: 200 ms, so that only a missed wake-up (or a stall that long)
 * makes a wait time out, not a holder that kept the lock a millisecond. */
enum { BLOCK_NS = 200000000 };

pb__spin_probe pb__spin_test;

/* Before a futex wait: counts it, runs the test's hook; returns the release count and
 * (in *t0) the time the wait begins. */
static long probe_before(pb__spin *l, uint64_t *t0) {
  atomic_fetch_add_explicit(&pb__spin_test.blocks, 1, memory_order_relaxed);
  long releases = atomic_load_explicit(&pb__spin_test.releases, memory_order_relaxed);
  if (pb__spin_test.before_block) pb__spin_test.before_block(l);
  *t0 = pb__mono_ns();
  return releases;
}

/*
 * After a futex wait begun at t0 that returned r (errno err): counts timeouts,
 * and as missed wake-ups those with a release before the timeout was due (a
 * release after it, by a holder stalled that long, is not a missed wake-up).
 */
static void probe_after(long r, int err, long releases, uint64_t t0) {
  if (r == 0 || err != ETIMEDOUT) return;
  atomic_fetch_add_explicit(&pb__spin_test.timeouts, 1, memory_order_relaxed);
  bool released = atomic_load_explicit(&pb__spin_test.releases, memory_order_acquire) != releases;
  uint64_t at = atomic_load_explicit(&pb__spin_test.release_ns, memory_order_relaxed);
  if (released && at < t0 + BLOCK_NS) {
    atomic_fetch_add_explicit(&pb__spin_test.missed, 1, memory_order_relaxed);
  }
}
#endif

/* Blocks the caller while the word is 2 (or for at most BLOCK_NS). */
static void spin_block(pb__spin *l) {
#ifdef __linux__
#ifdef PB_SPIN_TEST_HOOKS
  uint64_t t0;
  long releases = probe_before(l, &t0);
#endif
  struct timespec ts = {0, BLOCK_NS};
  /* Returns at once when v is no longer 2 (EAGAIN); EINTR and the timeout just retry. */
  long r = syscall(SYS_futex, &l->v, FUTEX_WAIT_PRIVATE, 2, &ts, NULL, 0);
#ifdef PB_SPIN_TEST_HOOKS
  probe_after(r, errno, releases, t0);
#endif
  (void)r;
#else
  (void)l; /* no futex: poll (the release's wake is a no-op) */
  struct timespec ts = {0, BLOCK_NS / 20};
  nanosleep(&ts, NULL);
#endif
}

void pb__spin_wake(pb__spin *l) {
#ifdef __linux__
  syscall(SYS_futex, &l->v, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
  (void)l;
#endif
}

void pb__spin_wait(pb__spin *l) {
  for (unsigned spins = 0; spins < SPIN_PAUSES + SPIN_YIELDS; spins++) {
    int expected = 0;
    if (!atomic_load_explicit(&l->v, memory_order_relaxed) &&
        atomic_compare_exchange_strong_explicit(&l->v, &expected, 1, memory_order_acquire,
                                                memory_order_relaxed)) {
      return;
    }
    if (spins < SPIN_PAUSES) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      sched_yield(); /* lets a holder of the same priority run */
    }
  }
  /* Block (lets any holder run, whatever its priority). 2, not 1: a release
   * must wake whoever else is blocked, even once this thread holds the lock. */
  while (atomic_exchange_explicit(&l->v, 2, memory_order_acquire) != 0) spin_block(l);
}

/* ---- the owner-biased lock ---- */

/*
 * Whether owners may be claimed in this process: 0 not known yet, 1 yes (the
 * process is registered for expedited private membarrier), -1 no (the kernel
 * or a seccomp filter refuses membarrier, or PORTER_BENCH_OWNER_LOCK=off).
 */
static atomic_int bias_state;

/* Registers the process for the heavy barrier; true on success. */
static bool register_barrier(void) {
#if defined(__linux__) && defined(SYS_membarrier)
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
  return false;
#endif
}

/* Whether a thread may become a lock's owner (decided once per process). */
static bool bias_on(void) {
  int s = atomic_load_explicit(&bias_state, memory_order_acquire);
  if (s) return s > 0;
  const char *env = pb__getenv("PORTER_BENCH_OWNER_LOCK");
  bool off = env && (strcmp(env, "off") == 0 || strcmp(env, "0") == 0);
  s = !off && register_barrier() ? 1 : -1;
  atomic_store_explicit(&bias_state, s, memory_order_release);
  return s > 0;
}

/*
 * The heavy side of the asymmetric barrier: every thread of the process that
 * is running executes a full memory barrier before this returns (a thread
 * that is not running passes one when it is next scheduled). Paired with the
 * owner's compiler-only barrier, it orders the owner's store of `active`
 * before its load of `revoke`, or the revoker's store of `revoke` before it.
 * False when the kernel refused (not registered: cannot happen once
 * bias_on() said yes in this process).
 */
static bool heavy_barrier(void) {
#if defined(__linux__) && defined(SYS_membarrier)
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return true;
  /* A process forked after registering may need to register again. */
  return register_barrier() && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
  return false;
#endif
}

/* Waits until the owner (word) is outside the lock: from now on it sees `revoke`. */
static void wait_owner_out(pb__olock *l, uintptr_t word) {
  atomic_uchar *flag = &l->active[word & (PB__OLOCK_SLOTS - 1)];
  for (unsigned spins = 0; atomic_load_explicit(flag, memory_order_acquire); spins++) {
    if (spins < SPIN_PAUSES) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else if (spins < SPIN_PAUSES + SPIN_YIELDS) {
      sched_yield();
    } else { /* the owner was preempted inside: let it run, whatever its priority */
      struct timespec ts = {0, 50000};
      nanosleep(&ts, NULL);
    }
  }
}

/*
 * Makes `me` the owner, with a slot of its own, unless the lock has had
 * PB__OLOCK_SLOTS owners already, or changes hands too often: after
 * PB__OLOCK_QUICK_MOVES moves that each came less than PB__OLOCK_QUICK_NS
 * after the previous one, it stays shared for good (each move costs a heavy
 * barrier; the spin lock is cheaper for threads that take turns). Caller
 * holds the spin lock, with no owner inside.
 */
static void give_ownership(pb__olock *l, uintptr_t me, bool move) {
  uint64_t now = pb__mono_ns();
  bool quick = move && now - l->owned_since < PB__OLOCK_QUICK_NS;
  if (l->slots_used >= PB__OLOCK_SLOTS || (quick && ++l->quick_moves >= PB__OLOCK_QUICK_MOVES)) {
    atomic_store_explicit(&l->owner, PB__OLOCK_SHARED, memory_order_relaxed);
    return;
  }
  atomic_store_explicit(&l->owner, me | l->slots_used++, memory_order_relaxed);
  l->owned_since = now;
}

void pb__olock_init(pb__olock *l) {
  memset(l, 0, sizeof *l);
  atomic_init(&l->owner, 0);
  atomic_init(&l->revoke, 0);
  atomic_init(&l->spin.v, 0);
  for (int k = 0; k < PB__OLOCK_SLOTS; k++) atomic_init(&l->active[k], 0);
}

void pb__olock_wait(pb__olock *l, bool claim) {
  pb__spin_lock(&l->spin);
  uintptr_t me = pb__thread_token();
  uintptr_t word = atomic_load_explicit(&l->owner, memory_order_relaxed);
  uintptr_t owner = word & ~(uintptr_t)(PB__OLOCK_SLOTS - 1);
  /* The owner itself (after a revocation ended) or a shared lock: the spin lock is enough. */
  if (owner == me || word == PB__OLOCK_SHARED) return;
  if (word == 0) { /* nobody owns it: nobody is inside without the spin lock */
    if (!claim) return;
    if (bias_on()) {
      give_ownership(l, me, false);
    } else { /* owners refused in this process: shared for good (taken inline from now on) */
      atomic_store_explicit(&l->owner, PB__OLOCK_SHARED, memory_order_relaxed);
    }
    return;
  }
  /* Another thread owns it: close its fast path, then wait until it is out. */
  atomic_store_explicit(&l->revoke, 1, memory_order_relaxed);
  if (!heavy_barrier()) {
    /* Cannot happen in a registered process; without the barrier the owner's
     * fast path cannot be closed safely, so fence and stop claiming owners. */
    atomic_thread_fence(memory_order_seq_cst);
    atomic_store_explicit(&bias_state, -1, memory_order_release);
  }
  wait_owner_out(l, word);
  if (claim) give_ownership(l, me, true);
}

void pb__olock_atfork_child(pb__olock *l) {
  /* Its owner thread may not be in this process, nor its waiters. The fork handler
   * waited for the owner to leave, but a former owner may have had its old flag set
   * for an instant (it would have cleared it, in the parent): every flag is cleared,
   * since slots start again from 0 here. */
  atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
  /* Held by this thread (the fork handler's), with no waiter here: 1, not 2. */
  atomic_store_explicit(&l->spin.v, 1, memory_order_relaxed);
  for (int k = 0; k < PB__OLOCK_SLOTS; k++) {
    atomic_store_explicit(&l->active[k], 0, memory_order_relaxed);
  }
  l->slots_used = 0;
  l->quick_moves = 0;
}

void pb__olock_process_forked(void) {
  /* The child's registration is decided again at its first claim. */
  atomic_store_explicit(&bias_state, 0, memory_order_release);
}
