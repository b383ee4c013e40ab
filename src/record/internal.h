/*
 * internal.h - declarations shared by the recording library's source files.
 *
 * Internal names carry the pb__ prefix and are hidden from the shared
 * library's exports (default visibility is hidden; only PB_EXPORT is public).
 */
#ifndef PB_RECORD_INTERNAL_H
#define PB_RECORD_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "porter_bench.h"

/* ---- the recording clock (timer.c) ----
 * pb__now_ns is what every recording call reads: CLOCK_MONOTONIC, or, once
 * pb_set_clock(PB_CLOCK_TSC) found an invariant TSC, rdtsc scaled to
 * nanoseconds on the monotonic clock's time base (issue 15). pb__tsc is
 * written once, before pb__clock_tsc is first set (release); readers load the
 * flag with acquire, so they never see a half-written calibration. */
typedef struct pb__tsc_cal {
  uint64_t tsc0; /* TSC at the calibration's end */
  uint64_t ns0;  /* CLOCK_MONOTONIC ns at the same moment */
  uint64_t mult; /* ns per tick, as a 32.32 fixed-point number */
} pb__tsc_cal;

extern atomic_int pb__clock_tsc; /* 1: read the TSC */
extern pb__tsc_cal pb__tsc;

/** CLOCK_MONOTONIC in nanoseconds, inline. */
static inline uint64_t pb__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** The recording clock in nanoseconds (see above); inline, no call on the TSC path. */
static inline uint64_t pb__now_ns(void) {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_expect(atomic_load_explicit(&pb__clock_tsc, memory_order_acquire) != 0, 0)) {
    uint64_t d = __builtin_ia32_rdtsc() - pb__tsc.tsc0;
    return pb__tsc.ns0 + (uint64_t)(((unsigned __int128)d * pb__tsc.mult) >> 32);
  }
#endif
  return pb__mono_ns();
}

/** True when cpuinfo text (contents of /proc/cpuinfo) reports constant_tsc and nonstop_tsc. */
bool pb__tsc_flags_ok(const char *cpuinfo);

/* ---- hashing and the environment: one of each for the whole library ---- */

/** FNV-1a over n bytes, 32 bits: topic table (store.c), file-name and job-folder suffixes. */
static inline uint32_t pb__fnv1a32(const void *p, size_t n) {
  const unsigned char *s = p;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

/** FNV-1a over n bytes, 64 bits folded to a size_t: slots of the hash indexes. */
static inline size_t pb__hash_slot(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 14695981039346656037u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211u;
  return (size_t)(h ^ (h >> 32));
}

/** getenv(name), but NULL when the variable is unset or empty. */
static inline const char *pb__getenv(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* ---- a small lock for short critical sections (lock.c) ----
 * Recording holds a benchmarker's lock for a few dozen instructions; an
 * uncontended pthread mutex costs twice what this does. The lock word has
 * three states, as in the third mutex of Drepper's "Futexes Are Tricky":
 * 0 free, 1 held, 2 held and a waiter may be blocked. Taking a free lock is
 * one compare-and-exchange (0 to 1); releasing it is one exchange (to 0),
 * followed by a futex wake only when the old value was 2. A waiter spins
 * briefly and yields a few times, then exchanges 2 into the word (which
 * takes the lock if the old value was 0) and blocks in the kernel with a
 * futex wait on 2: a waiter that only spun and yielded could keep a
 * lower-priority holder off its CPU for good (a SCHED_FIFO waiter and a
 * SCHED_OTHER holder on one CPU: issue 11, defect 2).
 *
 * No wake-up is missed, whatever the timing: both sides change the one word
 * with read-modify-writes, so either the release comes first (the waiter's
 * exchange reads 0 and owns the lock) or the waiter's exchange does (the
 * release reads 2 and wakes), and the kernel's wait returns at once when the
 * word is no longer 2. A woken waiter takes the lock as 2, since others may
 * still sleep; its own release then wakes the next one. */
typedef struct pb__spin {
  atomic_int v; /* 0 free, 1 held, 2 held with waiters maybe blocked */
} pb__spin;

/** Slow path of pb__spin_lock: waits until the lock is free and takes it. */
void pb__spin_wait(pb__spin *l);
/** Slow path of pb__spin_unlock: wakes one blocked waiter. */
void pb__spin_wake(pb__spin *l);

#ifdef PB_SPIN_TEST_HOOKS
/* Test builds of lock.c only (tests/record/test_spin_lock.c compiles its own
 * copy with PB_SPIN_TEST_HOOKS); the library has none of this. */
typedef struct pb__spin_probe {
  atomic_long releases;     /* pb__spin_unlock calls (written by the holder only) */
  atomic_ullong release_ns; /* CLOCK_MONOTONIC ns of the last of them */
  atomic_long blocks;       /* futex waits begun */
  atomic_long timeouts;     /* futex waits that ended by their timeout */
  atomic_long missed;       /* timeouts that a release preceded within the wait: missed wake-ups */
  void (*before_block)(pb__spin *l);   /* if set, called just before each futex wait */
  void (*before_release)(pb__spin *l); /* if set, called just before a release is seen */
} pb__spin_probe;
extern pb__spin_probe pb__spin_test;
static inline void pb__spin_probe_release(pb__spin *l) {
  atomic_store_explicit(&pb__spin_test.release_ns, pb__mono_ns(), memory_order_relaxed);
  atomic_store_explicit(&pb__spin_test.releases, /* release: its time is seen with it */
                        atomic_load_explicit(&pb__spin_test.releases, memory_order_relaxed) + 1,
                        memory_order_release);
  if (pb__spin_test.before_release) pb__spin_test.before_release(l);
}
#define PB__SPIN_PROBE_RELEASE(l) pb__spin_probe_release(l)
#else
#define PB__SPIN_PROBE_RELEASE(l) ((void)0)
#endif

static inline void pb__spin_lock(pb__spin *l) {
  int expected = 0;
  if (atomic_compare_exchange_strong_explicit(&l->v, &expected, 1, memory_order_acquire,
                                              memory_order_relaxed)) {
    return;
  }
  pb__spin_wait(l);
}

static inline void pb__spin_unlock(pb__spin *l) {
  PB__SPIN_PROBE_RELEASE(l);
  if (__builtin_expect(atomic_exchange_explicit(&l->v, 0, memory_order_release) == 2, 0)) {
    pb__spin_wake(l);
  }
}

/* ---- calls into the library: signal handlers and cancellation (error.c) ----
 * pb__in_call is nonzero while this thread is inside a porter_bench call that
 * may hold a lock or allocate. A call that finds it set was made by a signal
 * handler that interrupted this thread inside porter_bench: it returns
 * PB_EBUSY at once, touching nothing (not even the last-error message),
 * instead of waiting for a lock this very thread holds (issue 11, defect 4).
 * Initial-exec TLS: two stores of the thread pointer's block, no call. */
#define PB__TOKEN_ALIGN 64 /* pb__in_call's address is a thread token (pb__olock) */
extern _Thread_local unsigned char pb__in_call
    __attribute__((tls_model("initial-exec"), aligned(PB__TOKEN_ALIGN)));

/** Enters a guarded call; false (nothing done) when this thread is already inside one. */
static inline bool pb__call_enter(void) {
  if (__builtin_expect(pb__in_call != 0, 0)) return false;
  pb__in_call = 1;
  atomic_signal_fence(memory_order_seq_cst); /* set before any lock is taken */
  return true;
}

/** Leaves a guarded call. */
static inline void pb__call_leave(void) {
  atomic_signal_fence(memory_order_seq_cst); /* cleared after every lock is released */
  pb__in_call = 0;
}

/* ---- the benchmarker's lock: biased to one owner thread (lock.c) ----
 * Most programs record into a benchmarker from one thread. The first thread
 * that records becomes the lock's owner; from then on the owner enters with
 * no atomic read-modify-write and no fence: it sets its `active` flag and,
 * after a compiler barrier, checks that no other thread is revoking
 * (`revoke`) and that it still owns the lock. Any other thread takes the
 * spin lock, sets `revoke`, and runs the heavy side of an asymmetric barrier
 * (Linux's membarrier, which makes every running thread of the process
 * execute a full barrier), so that either it sees the owner's flag and waits
 * for its release, or the owner sees `revoke` and takes the spin lock too.
 * A recording call of another thread moves the ownership to that thread; a
 * lock that changes hands quickly again and again, or PB__OLOCK_SLOTS times
 * in all, stays shared (spin lock only) for good. Where membarrier is
 * refused, or with PORTER_BENCH_OWNER_LOCK=off, no owner is ever claimed and
 * every call takes the spin lock.
 *
 * Each ownership has a flag of its own (slot k of `active`, k in the owner
 * word's low bits): a former owner that read the owner word just before it
 * lost the lock may still set and clear its old flag, which must not clear
 * the new owner's.
 *
 * Mutual exclusion: a holder is either the owner with its flag set and
 * `revoke` clear, or the holder of the spin lock; `revoke` is set only by
 * the spin lock's holder, which waits for the owner's flag to clear before it
 * goes on. The owner's release is one release store; memory written under
 * the lock is published by it (owner) or by the spin lock (everyone else). */
#define PB__OLOCK_SLOTS PB__TOKEN_ALIGN /* ownerships in a lock's life */
#define PB__OLOCK_SHARED UINTPTR_MAX    /* owner word: shared for good */
#define PB__OLOCK_QUICK_NS 50000000u    /* a move within 50 ms of the last is quick */
#define PB__OLOCK_QUICK_MOVES 8u        /* quick moves before the lock stays shared */

typedef struct pb__olock {
  atomic_uintptr_t owner; /* owner's thread token | its slot; 0 none yet; PB__OLOCK_SHARED */
  atomic_int revoke;      /* the spin lock's holder is keeping the owner out */
  pb__spin spin;          /* every entry but the owner's fast one */
  unsigned slots_used;    /* (spin) ownerships handed out: the next one's slot */
  unsigned quick_moves;   /* (spin) moves of ownership that came quickly */
  uint64_t owned_since;   /* (spin) monotonic ns of the last claim or move */
  atomic_uchar active[PB__OLOCK_SLOTS]; /* slot k's owner is inside (written by it only) */
} pb__olock;

/** The calling thread's token: the address of its (aligned) thread-local call flag. */
static inline uintptr_t pb__thread_token(void) { return (uintptr_t)&pb__in_call; }

/** Initialises an unowned, free lock. */
void pb__olock_init(pb__olock *l);
/** Slow path of pb__olock_lock: takes the spin lock (revoking an owner); `claim`: may own it. */
void pb__olock_wait(pb__olock *l, bool claim);
/** In a fork's child, on a lock the fork handler held: unowned, no waiters. */
void pb__olock_atfork_child(pb__olock *l);
/** In a fork's child: decide again whether owners may be claimed. */
void pb__olock_process_forked(void);

/**
 * Takes the lock. `claim`: a recording call, which may make the calling
 * thread the owner (configuration, saves and statistics only borrow it).
 * Returns the token to hand to pb__olock_unlock: 0 after the spin lock, the
 * owner's slot + 1 after the owner's entry. Not re-entrant.
 */
static inline unsigned pb__olock_lock(pb__olock *l, bool claim) {
  uintptr_t word = atomic_load_explicit(&l->owner, memory_order_relaxed);
  if (__builtin_expect((word & ~(uintptr_t)(PB__OLOCK_SLOTS - 1)) == pb__thread_token(), 1)) {
    unsigned k = (unsigned)(word & (PB__OLOCK_SLOTS - 1));
    atomic_store_explicit(&l->active[k], 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* the light side of the barrier */
    if (__builtin_expect(!atomic_load_explicit(&l->revoke, memory_order_acquire), 1) &&
        atomic_load_explicit(&l->owner, memory_order_relaxed) == word) {
      return k + 1;
    }
    atomic_store_explicit(&l->active[k], 0, memory_order_release);
  } else if (word == PB__OLOCK_SHARED) { /* no owner any more: the spin lock, inline */
    pb__spin_lock(&l->spin);
    return 0;
  }
  pb__olock_wait(l, claim);
  return 0;
}

/** Releases the lock taken by pb__olock_lock, which returned `own`. */
static inline void pb__olock_unlock(pb__olock *l, unsigned own) {
  if (__builtin_expect(own != 0, 1)) {
    atomic_store_explicit(&l->active[own - 1], 0, memory_order_release);
    return;
  }
  if (atomic_load_explicit(&l->revoke, memory_order_relaxed)) { /* set only by this holder */
    atomic_store_explicit(&l->revoke, 0, memory_order_release);
  }
  pb__spin_unlock(&l->spin);
}

/*
 * Cancellation (issue 11, defect 3): a thread cancelled at a cancellation
 * point inside a save or a memory probe (open, write, read, close,
 * pthread_cond_wait) would leave a save "in progress", a lock held and a
 * temporary file. Such regions run with cancellation disabled; a pending
 * cancellation acts at the caller's next cancellation point.
 */
/** Disables cancellation of the calling thread; returns the old state for pb__nocancel_end. */
int pb__nocancel_begin(void);
/** Restores the cancellation state returned by pb__nocancel_begin. */
void pb__nocancel_end(int old);

/* ---- errors and warnings (error.c) ---- */

/** Records a printf-style message as the calling thread's last error; returns status. */
int pb__fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Sends one printf-style warning through the warning hook. */
void pb__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- segmented arrays (store.c) ----
 * A growable array whose elements never move: segment k holds
 * PB__SEG_BASE << k elements. Appending is a pointer bump in steady state.
 * Readers may index elements below a count they obtained under the owner's
 * lock without holding it, since written elements are never moved or freed
 * before the array is destroyed. */
#define PB__SEG_BASE 256u
#define PB__SEG_MAX 40

typedef struct pb__segvec {
  void *seg[PB__SEG_MAX]; /* segment k: PB__SEG_BASE << k elements */
  size_t n;               /* elements in use */
  size_t elem;            /* element size in bytes */
  char *cur;              /* next free slot in the last segment */
  char *end;              /* end of the pre-faulted window of the last segment */
  char *lim;              /* end of the last segment */
  size_t bytes;           /* bytes allocated */
} pb__segvec;

void pb__segvec_init(pb__segvec *v, size_t elem);
void pb__segvec_free(pb__segvec *v);
/**
 * Slow path of pb__segvec_push: pre-faults the next window of the last
 * segment (one madvise instead of a page fault per page), or allocates the
 * next segment.
 */
void *pb__segvec_grow(pb__segvec *v);

/** Appends one zero-uninitialised element; returns it, or NULL when out of memory. */
static inline void *pb__segvec_push(pb__segvec *v) {
  if (v->cur == v->end) return pb__segvec_grow(v);
  void *slot = v->cur;
  v->cur += v->elem;
  v->n++;
  return slot;
}

/** Removes the elements from index n on (n <= v->n); a later push appends at n. */
void pb__segvec_truncate(pb__segvec *v, size_t n);

/** Removes the element the last pb__segvec_push returned (none may follow it). */
static inline void pb__segvec_pop(pb__segvec *v) {
  v->cur -= v->elem;
  v->n--;
}

/** Element i (< v->n); works on a copied pb__segvec as well. */
static inline void *pb__segvec_at(const pb__segvec *v, size_t i) {
  size_t q = i / PB__SEG_BASE + 1;
  unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)q);
  size_t off = i - PB__SEG_BASE * (((size_t)1 << k) - 1);
  return (char *)v->seg[k] + off * v->elem;
}

/* ---- string arena (store.c): stable, NUL-terminated copies ---- */
typedef struct pb__arena {
  char *chunk;  /* current chunk */
  size_t used;  /* bytes used in it */
  size_t cap;   /* its capacity */
  void *chunks; /* list of chunks to free (first word links) */
  size_t bytes; /* bytes allocated */
} pb__arena;

void pb__arena_init(pb__arena *a);
void pb__arena_free(pb__arena *a);
/** Copies len bytes of s plus a NUL; returns the copy or NULL (no memory). */
char *pb__arena_dup(pb__arena *a, const char *s, size_t len);

/* ---- topics (store.c): interned names of one benchmarker ---- */
typedef struct pb__topic_info {
  const char *name; /* NUL-terminated, in the arena */
  uint32_t len;     /* strlen(name) */
  uint32_t memstep; /* id of "<name>_MEMORY_STEP", or PB_TOPIC_INVALID */
} pb__topic_info;

#define PB__TOPIC_CACHE 64 /* entries of the pointer cache (32 pairs) */

typedef struct pb__topics {
  pb__segvec infos; /* pb__topic_info by id (stable) */
  uint32_t *slots;  /* open-addressing table of id + 1 (0 = empty) */
  uint32_t nslots;  /* power of two */
  struct {
    const char *ptr;        /* a caller's string seen before */
    const char *name;       /* the interned name it had */
    uint32_t id;            /* its id, | PB__TOPIC_LIT when ptr's text cannot change */
  } cache[PB__TOPIC_CACHE]; /* pointer cache in front of the hash table: pairs of ways */
} pb__topics;

/** Bit of a pointer cache entry's id: the caller's string lies in a read-only segment of the
 * program's executable (a string literal), so its text is not compared again. */
#define PB__TOPIC_LIT 0x80000000u

/**
 * Whether p lies in a read-only segment (text, constants) of the program's own executable,
 * whose contents never change while the process runs; libraries' segments are left out,
 * since dlclose may unmap them and the addresses be used again. Thread-safe.
 */
bool pb__in_program_rodata(const void *p);

/**
 * The pointer cache's pair of ways for a caller's string: a multiplicative
 * hash of its address (literals sit a few bytes apart, so low address bits
 * alone would put neighbours in one pair).
 */
static inline size_t pb__topic_cache_pair(const char *name) {
  return (size_t)(((uint64_t)(uintptr_t)name * 0x9E3779B97F4A7C15u) >> 59) * 2;
}

void pb__topics_init(pb__topics *t);
void pb__topics_free(pb__topics *t);
/** Interns name (len bytes); returns its id or PB_TOPIC_INVALID (no memory). */
uint32_t pb__topics_intern(pb__topics *t, pb__arena *a, const char *name, size_t len);
/** pb__topics_intern for a NUL-terminated caller string; fills the pointer cache. */
uint32_t pb__topics_lookup(pb__topics *t, pb__arena *a, const char *name);

/**
 * The id of name: callers mostly pass the same literal each time, so its
 * address is checked first, then its text (a reused buffer may hold another
 * name now; not for a literal of the program, PB__TOPIC_LIT); the hash table
 * is the fallback.
 */
/* Whether a cache entry for `name`'s address still matches: its interned text equals name. */
static inline bool pb__topic_cache_hit(const char *interned, const char *name) {
  /* Topics are short: an inline loop costs less time than a call to the
   * vectorised strcmp (more instructions, no call, no set-up). */
  const char *p = interned, *q = name;
  while (*p && *p == *q) p++, q++;
  return *p == *q;
}

static inline uint32_t pb__topics_find(pb__topics *t, pb__arena *a, const char *name) {
  size_t c = pb__topic_cache_pair(name);
  for (size_t w = c; w < c + 2; w++) {
    uint32_t id = t->cache[w].id;
    if (t->cache[w].ptr == name &&
        ((id & PB__TOPIC_LIT) || pb__topic_cache_hit(t->cache[w].name, name))) {
      return id & ~PB__TOPIC_LIT;
    }
  }
  return pb__topics_lookup(t, a, name);
}

/* ---- records ---- */

/**
 * The record store is a stream of 16-bit units (issue 15, fourth round). A
 * time record is one unit when its gap is under 2^11 ns and its topic id
 * under 16 with no extra (a short record), else a 32-bit word in two units,
 * the high half first:
 *
 *   short unit  bit 15 clear; bits 0-10 the gap in ns, bits 11-14 the topic id
 *   word        bit 31 set (PB__REC_TAG: the first unit's bit 15);
 *               bits 0-11 the topic id, or PB__REC_TESC (the id is in the side
 *               table of wide topics), or PB__REC_HI (a HI word, below);
 *               bit 12 PB__REC_EXTRA (the record has an extra: side table);
 *               bits 13-30 the gap's low PB__REC_GBITS bits (below 262 us)
 *
 * A gap of 2^18 ns or more takes a HI word before the record's word, whose
 * bits 12-30 hold the gap's bits 18-36: 8 bytes for a step of up to 137 s. A
 * HI word of PB__REC_HI_LONG: the whole gap is in the side table of long
 * gaps. A record's index, by which its side tables are keyed, is the index of
 * its last unit; an iteration's record count and its count at the close
 * count units (a close never falls inside a record).
 */
typedef struct pb__rec {
  uint16_t u;
} pb__rec;

/** Bit of a word (its first unit's bit 15): set in every word, clear in a short unit. */
#define PB__REC_TAG 0x80000000u
#define PB__REC_UTAG 0x8000u
#define PB__REC_SBITS 11
/** Gaps below this, with a topic id below PB__REC_STOPICS and no extra: a short unit. */
#define PB__REC_SGAP_LIM (1u << PB__REC_SBITS)
#define PB__REC_STOPICS 16u
#define PB__REC_TMASK 0xfffu
/** The topic bits of a word whose topic id is this or more: the id is in a side table. */
#define PB__REC_TESC 0xffeu
/** The topic bits of a HI word. */
#define PB__REC_HI 0xfffu
#define PB__REC_EXTRA 0x1000u
#define PB__REC_GSHIFT 13
#define PB__REC_GBITS 18
/** Gaps below this fit a record's word alone. */
#define PB__REC_GAP_LIM (1u << PB__REC_GBITS)
#define PB__REC_HI_SHIFT 12
/** A HI word's payload (19 bits) saying that the gap is in the side table of long gaps. */
#define PB__REC_HI_LONG 0x7ffffu
/** A GLOBAL time of this or more (iterations' global_ns) is in a side table. */
#define PB__ITER_WIDE UINT32_MAX
/** Topic ids stay below this (bit 31 is free in the side tables' values too). */
#define PB__TOPIC_LIMIT 0x7fffffffu

/** Whether word w is a HI word. */
static inline bool pb__rec_is_hi(uint32_t w) { return (w & PB__REC_TMASK) == PB__REC_HI; }

/** The gap bits of word w (not a HI word). */
static inline uint32_t pb__rec_gap(uint32_t w) {
  return (w >> PB__REC_GSHIFT) & (PB__REC_GAP_LIM - 1);
}

/** Side data of one record: its long gap, extra (index + 1 into the extras table) or wide topic. */
typedef struct pb__recx {
  uint64_t rec; /* record index; entries are appended in record order */
  uint64_t val;
} pb__recx;

/**
 * One iteration: 12 bytes (issue 15). Its record units are recs[first ..
 * first + nrec) and its START_TIME is the STOP_TIME of the iteration before
 * it plus lead_in; both are read in a walk from the last checkpoint
 * (pb__ickpt) at or before it: an iteration's first unit is the one after
 * the units of the iteration before it. Every PB__ITER_CKPT-th iteration has
 * a checkpoint, and so has one whose lead_in does not fit 32 bits (a gap of
 * 4.29 s or more between two iterations, or a wall clock that went back).
 * Rare wide values live in side tables of pb__recx keyed by iteration index:
 * a GLOBAL time of 2^32 - 2 ns or more (global_ns == PB__ITER_WIDE), the
 * lead of GLOBAL's start over START_TIME when it is not 0 (a memory probe at
 * gstep, or pb_start on an open iteration), and the record count at the
 * close of an iteration that got records after its gstop. STOP_TIME =
 * START_TIME + GLOBAL + lead.
 *
 * The gstop record of an iteration closed on the fast path is not stored
 * (PB__ITER_VGSTOP in nrec): its time is the iteration's span (GLOBAL +
 * lead) less the gaps of the records before it, which the writers derive.
 * The fast path stores it only when that sum is exact: every clock
 * movement of the iteration is one record's gap (no dropped record, no
 * unknown topic, no pb_start on the open iteration, no clock read earlier
 * than the one before), and the close needs no side-table entry (no lead,
 * GLOBAL under 2^32 - 2 ns): one that cannot be had (no memory) would cut
 * the span, and the gstop's time with it.
 */
typedef struct pb__iter {
  uint32_t nrec;      /* record units in recs, | PB__ITER_VGSTOP */
  uint32_t global_ns; /* GLOBAL ns, PB__ITER_OPEN while open, or PB__ITER_WIDE */
  uint32_t lead_in;   /* START_TIME less the STOP_TIME before, ns (0 with a checkpoint) */
} pb__iter;

#define PB__ITER_OPEN (UINT32_MAX - 1)
/** Bit of pb__iter.nrec: the iteration's gstop record is derived, not stored. */
#define PB__ITER_VGSTOP 0x80000000u
/** Record units one iteration may hold (the bit above stays free): 2^31 short records, or
 * half or a quarter as many words (steps of 2 us or more, of 262 us or more). */
#define PB__ITER_NREC_MAX 0x7ffffff0u
/** Iterations between two checkpoints at most. */
#define PB__ITER_CKPT 1024u

/** Where a walk over iterations may start: iteration `iter`'s first unit and START_TIME. */
typedef struct pb__ickpt {
  uint64_t iter;         /* iteration index; entries are appended in iteration order */
  uint64_t first;        /* index of its first record unit */
  int64_t start_wall_ns; /* its START_TIME */
} pb__ickpt;

/** Whether the iteration is closed (has GLOBAL and STOP_TIME). */
static inline bool pb__iter_closed(const pb__iter *it) { return it->global_ns != PB__ITER_OPEN; }

/** Record units of the iteration in recs, HI words included (a derived gstop left out). */
static inline uint32_t pb__iter_nrec(const pb__iter *it) { return it->nrec & ~PB__ITER_VGSTOP; }

/** Whether the iteration's gstop record is derived (see pb__iter). */
static inline bool pb__iter_vgstop(const pb__iter *it) { return (it->nrec & PB__ITER_VGSTOP) != 0; }

#define PB__NONE (-1)

/** One memory record. Values are bytes; PB__NONE means null. */
typedef struct pb__mrec {
  uint64_t iter;  /* iteration index */
  int64_t rss;    /* "total memory usage" */
  int64_t peak;   /* "max memory usage" */
  int64_t heap;   /* "heap memory usage" */
  uint32_t topic; /* topic id */
  uint32_t extra; /* 0 = null, else index + 1 into the extras table */
  uint32_t cuda;  /* 0 = null, else index + 1 into the extras table (JSON object text) */
  uint32_t crono; /* position among the iteration's memory records */
} pb__mrec;

/* ---- JSON text checking (json_check.c) ---- */

/** Length (2..4) of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 if invalid. */
int pb__utf8_seq(const unsigned char *p, const unsigned char *end);
/** True when text[0..len) is exactly one JSON value (RFC 8259), nesting <= 512. */
bool pb__json_valid(const char *text, size_t len);

/* ---- memory probes (memprobe.c) ---- */

/** A benchmarker's peak accumulator: the largest peak seen since its last record. */
typedef struct pb__peak_sub {
  int64_t acc;
  struct pb__peak_sub *prev, *next;
  bool linked;
} pb__peak_sub;

typedef struct pb__mem_sample {
  int64_t rss;  /* resident set size, bytes */
  int64_t peak; /* peak RSS since the subscriber's previous sample, or PB__NONE */
  int64_t heap; /* malloc heap in use, or PB__NONE */
} pb__mem_sample;

/** Starts peak tracking for s (resets the process peak). Returns PB_OK or an error. */
int pb__peak_subscribe(pb__peak_sub *s);
/** Stops peak tracking for s; safe if not subscribed. */
void pb__peak_unsubscribe(pb__peak_sub *s);
/** Probes RSS, peak since s's previous probe (s may be NULL: no peak) and heap. */
void pb__mem_probe(pb__peak_sub *s, pb__mem_sample *out);
/** Malloc heap in use now, bytes (PB__NONE where unknown). */
int64_t pb__mem_heap(void);

/* ---- saving (save.c) ---- */
struct pb_bench;
/** journal_from value asking for the three full files. */
#define PB__FULL SIZE_MAX

/**
 * A closed iteration already on disk that may still grow: it was the last
 * iteration when written, and a step made after pb_gstop joins it until the
 * next iteration opens. A journal line restates it when it grew.
 */
typedef struct pb__tail {
  bool valid;
  size_t iter;        /* its index */
  uint64_t recs_end;  /* index past its last time record when written */
  uint64_t mrecs_end; /* memory records of the benchmarker when written */
} pb__tail;

/** What one write covers: filled by pb__bench_write. */
typedef struct pb__write_req {
  size_t from;       /* in: PB__FULL, or the first closed iteration the journal lacks */
  bool with_open;    /* in: full files include an open last iteration (explicit pb_save) */
  pb__tail tail;     /* in: the journal's tail iteration (journal lines only) */
  size_t covered;    /* out: closed iterations on disk after the write */
  bool wrote_open;   /* out: the full files hold an open iteration */
  pb__tail new_tail; /* out: the tail after the write */
} pb__write_req;

/**
 * Writes b's files from a snapshot: the three full files (req->from ==
 * PB__FULL), or one line appended to the DATA and MEMORY journals
 * ("<path>_STEP_DICT_DATA.journal": one JSON array of iterations per line)
 * holding the closed iterations from req->from on, preceded by the tail
 * iteration again when it grew since it was written. Full files hold a
 * trailing open iteration only when req->with_open. Returns PB_OK or an
 * error (the journals are then cut back to their old ends).
 */
int pb__bench_write(struct pb_bench *b, pb__write_req *req);
/** Removes the journals (once full files hold what they held). */
void pb__bench_clear_journal(struct pb_bench *b);

/* ---- fork safety (fork.c) ---- */

/** Lists (on) or forgets (off) a benchmarker for the fork handlers. */
void pb__fork_track_bench(struct pb_bench *b, bool on);
/** Lists (on) or forgets (off) a registry for the fork handlers. */
void pb__fork_track_registry(pb_registry *r, bool on);
/** Locks (lock true) or unlocks a registry's mutex around fork(). */
void pb__registry_lock(pb_registry *r, bool lock);
/** The memory probe's fork hook: 0 before fork, 1 in the parent after, 2 in the child. */
void pb__memprobe_atfork(int stage);

/* ---- run metadata (runmeta.c) ---- */

/** The run metadata file's name inside a registry's run folder. */
#define PB__RUN_META "porter_bench_run.json"
/**
 * Measures the library's overhead and writes the run metadata JSON to path;
 * ri (may be NULL: one process) adds the rank, job and launcher.
 */
int pb__write_run_meta(const char *path, const pb_rank_info *ri);
/* The peak poll period (pb_set_peak_poll_period) in milliseconds. Thread-safe. */
double pb__peak_poll_period_ms(void);

/* ---- multi-process runs (launcher.c) ---- */

/** "<root>/<job folder>[-attempt]/rank-NNNNN" for ri (a rank); NULL when out of memory. */
char *pb__rank_run_dir(const char *root, const pb_rank_info *ri, unsigned attempt);
/**
 * Creates ri's rank folder under root: the first attempt (0, 1, ...) whose
 * rank folder does not exist yet (one that does belongs to an earlier job
 * with the same id). Replaces *dir (freed) with it. Returns PB_OK or an error.
 */
int pb__rank_claim(const char *root, const pb_rank_info *ri, char **dir);

/* ---- file helpers (fileio.c) ---- */

/**
 * mkdir -p of the folder part of path ("a/b/name" creates "a/b"), then checks
 * that folder is safe to write into (fileio.c: check_folder); PB_EIO if not.
 */
int pb__mkdir_parent(const char *path);
/** mkdir -p of dir itself. */
int pb__mkdir_p(const char *dir);

/** A buffered writer to a temporary file, renamed over the target on commit. */
typedef struct pb__out {
  int fd;
  int err;           /* errno of the first failure, 0 if none */
  char *buf;         /* buffer */
  size_t len;        /* bytes buffered */
  size_t cap;        /* buffer capacity */
  char *path;        /* target path */
  char *tmp;         /* temporary path */
  uint64_t total;    /* bytes written in all */
  uint64_t limit;    /* RLIMIT_FSIZE at open (UINT64_MAX: none) */
  int64_t append_at; /* appending: the file's size at open; -1: temporary + rename */
} pb__out;

int pb__out_open(pb__out *o, const char *path);
/** Opens path for appending one block; on failure the file is cut back to its old end. */
int pb__out_open_append(pb__out *o, const char *path);
void pb__out_flush(pb__out *o);
/** Cuts the regular file at path (never through a link) to size bytes; PB_OK or PB_EIO. */
int pb__truncate_nofollow(const char *path, int64_t size);
/** Closes, renames over the target (or removes the temporary on error). */
int pb__out_commit(pb__out *o);

/** Writes n bytes bypassing the buffer (after flushing it). */
void pb__out_write_direct(pb__out *o, const void *p, size_t n);

static inline void pb__out_write(pb__out *o, const void *p, size_t n) {
  if (o->len + n > o->cap) {
    pb__out_flush(o);
    if (n > o->cap) {
      pb__out_write_direct(o, p, n);
      return;
    }
  }
  __builtin_memcpy(o->buf + o->len, p, n);
  o->len += n;
}
static inline void pb__out_lit(pb__out *o, const char *s) {
  pb__out_write(o, s, __builtin_strlen(s));
}
static inline void pb__out_char(pb__out *o, char c) {
  if (o->len == o->cap) pb__out_flush(o);
  o->buf[o->len++] = c;
}

/* ---- JSON output helpers (jsonout.c) ---- */

/** Writes s[0..len) as a JSON string: escaped, invalid UTF-8 replaced by U+FFFD. */
void pb__json_string(pb__out *o, const char *s, size_t len);
/** Writes ns / 1e9 as an exact decimal ("0.000001234", "2.0"). */
void pb__json_seconds(pb__out *o, uint64_t ns);
/** pb__json_seconds into q (room for 32 bytes); returns the end. */
char *pb__json_seconds_at(char *q, uint64_t ns);
/** An unsigned integer into q (room for 20 bytes); returns the end. */
char *pb__json_uint_at(char *q, uint64_t v);
/** Room for n bytes (n <= the buffer's size) at the buffer's end, to be written in place. */
static inline char *pb__out_room(pb__out *o, size_t n) {
  if (o->len + n > o->cap) pb__out_flush(o);
  return o->buf + o->len;
}
/** Writes a signed ns count / 1e9 as an exact decimal. */
void pb__json_seconds_signed(pb__out *o, int64_t ns);
/** Writes an integer. */
void pb__json_int(pb__out *o, int64_t v);
/** Writes a double that reads back exactly (%.17g), "null" for non-finite. */
void pb__json_double(pb__out *o, double v);

/* ---- reading a segmented array in order (save.c) ----
 * A writer walking a store element by element pays pb__segvec_at's division
 * and leading-zero count per element; with the run of the segment it pays
 * them once per segment and a pointer bump per element. */

/** Element i (< v->n); *run gets how many elements from i on share its segment. */
static inline const void *pb__segvec_run(const pb__segvec *v, size_t i, size_t *run) {
  size_t q = i / PB__SEG_BASE + 1;
  unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)q);
  size_t off = i - PB__SEG_BASE * (((size_t)1 << k) - 1);
  *run = ((size_t)PB__SEG_BASE << k) - off;
  return (const char *)v->seg[k] + off * v->elem;
}

#endif
