/*
 * bench.h - the benchmarker's private layout, shared by bench.c and save.c.
 */
#ifndef PB_RECORD_BENCH_H
#define PB_RECORD_BENCH_H

#include "gpu.h"
#include "internal.h"

/*
 * Locks of one benchmarker, always taken in this order, never the reverse:
 *
 *   op_lock  serialises whole memory-tracked operations (step, gstep, gstop
 *            with memory tracking on) so that a probe's records land in the
 *            iteration it measured. Held while probing memory (a /proc read,
 *            NVML query): no file I/O, no save. Untouched when tracking is off.
 *   lock     (a pb__olock: biased to the thread that records, internal.h)
 *            guards every field marked (L): recording state, the record
 *            stores' counts and the configuration. Held only for appends and
 *            for the snapshot a save takes: never during I/O, never while
 *            calling another object (the memory probe runs before it is taken).
 *            Taken with pb__bench_lock, released with pb__bench_unlock.
 *   save_mu  guards the fields marked (S), the save combiner: concurrent saves
 *            wait on save_cv instead of interleaving. Never held during I/O.
 *
 * Their place in the library's global lock order (registries, fork lists,
 * memory probe) is written down at the top of fork.c.
 */
enum {
  PB__F_ON = 1u,   /* enabled */
  PB__F_MEM = 2u,  /* memory tracking on: operations take op_lock */
  PB__F_SYNC = 4u, /* synchronise the GPU before each clock read */
  PB__F_SAVE = 8u  /* save after every step */
};

struct pb_bench {
  /* PB__F_* bits, read with one relaxed load on the hot path: a step takes
   * the fast path only when the word is exactly PB__F_ON. Must stay the
   * first member: the PB_* macros of porter_bench.h read it inline. */
  atomic_uint flags;
  pb__olock lock;
  pthread_mutex_t op_lock;

  /* recording state (L) */
  bool have_iter;      /* an iteration exists (open or closed) */
  pb__iter *cur;       /* the last iteration, NULL before the first */
  bool open;           /* the last iteration is open */
  uint64_t step_t0;    /* monotonic ns of the previous step or the start */
  uint64_t global_t0;  /* monotonic ns of the iteration's start (after a gstep probe) */
  uint64_t open_mono;  /* monotonic ns at which the iteration opened (START_TIME) */
  uint32_t mem_crono;  /* memory records in the current iteration */
  uint64_t gstops;     /* iterations closed */
  uint64_t vgstops;    /* of those, iterations whose gstop record is derived (pb__iter) */
  uint64_t nspare;     /* units of recs that end no record: recs.n - nspare are stored */
  bool gap_lost;       /* the open iteration's clock moved other than by a record's gap */
  uint64_t cur_first;  /* the last iteration's first record unit (pb__iter) */
  int64_t cur_start;   /* its START_TIME */
  uint64_t prev_first; /* the same of the iteration before it */
  int64_t prev_start;
  int64_t stop_wall;  /* STOP_TIME of the last closed iteration, as the writers compute it */
  pb__ickpt *cur_ck;  /* the last iteration's checkpoint, or NULL */
  int64_t wall_off;   /* CLOCK_REALTIME - CLOCK_MONOTONIC at the last sync */
  uint64_t wall_sync; /* monotonic ns of the last sync; 0 = never */

  /* stores (L); elements below the counts are immutable except the last iteration and its
   * checkpoint (restart_iter_clocks; a snapshot leaves that checkpoint out) */
  pb__segvec recs;    /* pb__rec: 16-bit units of records and HI words */
  pb__segvec longs;   /* pb__recx: gaps of PB__REC_HI_LONG << 18 ns or more, by record */
  pb__segvec xrecs;   /* pb__recx: extras of time records, by record */
  pb__segvec xtopics; /* pb__recx: topic ids of PB__REC_TESC or more, by record */
  pb__segvec iters;   /* pb__iter */
  pb__segvec iwide;   /* pb__recx: GLOBAL times of 2^32 - 2 ns or more, by iteration */
  pb__segvec ilead;   /* pb__recx: non-zero leads of GLOBAL over START_TIME, by iteration */
  pb__segvec ickpt;   /* pb__ickpt: where walks over the iterations start (pb__iter) */
  pb__segvec iclose;  /* pb__recx: records at the close, of iterations with steps after it */
  pb__segvec mrecs;   /* pb__mrec */
  pb__segvec extras;  /* const char * (JSON text in the arena) */
  pb__topics topics;
  pb__arena arena;

  /* well-known topic ids (L) */
  uint32_t t_gstop, t_gstep_memory, t_gstop_memory, t_gstep;

  /* configuration (L) */
  unsigned save_on_gstop;
  bool save_on_step;
  bool mem_per_step;
  bool cuda_on;
  pb__peak_sub peak; /* (op_lock) linked while memory tracking is on */
  pb__gpu_tracker *gpu;

  /* counters (L) */
  uint64_t dropped;
  uint64_t saves;
  uint64_t save_errors;

  /* save combiner (S) */
  pthread_mutex_t save_mu;
  pthread_cond_t save_cv;
  uint64_t save_requested; /* tickets handed out */
  uint64_t save_done;      /* every ticket <= this has been served */
  bool saving;             /* a thread is writing */
  bool want_full;          /* an explicit pb_save is waiting: write full files */
  bool want_open;          /* ... and its files include an open last iteration */
  size_t main_upto;        /* closed iterations in the last full files */
  bool main_open;          /* those files also hold an open iteration */
  size_t disk_upto;        /* closed iterations on disk (full files + journal) */
  pb__tail tail;           /* the last of those, if it may still grow (steps after gstop) */
  bool journaled;          /* the journal has lines since the full files */
  int save_rc;             /* status of the last finished save */
  char save_msg[512];      /* its error message */

  struct pb__qcache *qcache; /* save.c's quoted topics: used by the saving thread only */

  /* immutable after creation */
  char *path;
  long pid;   /* the process that created it: a forked child saves elsewhere */
  bool owned; /* belongs to a registry */
};

/**
 * Takes b->lock; `record`: a recording call (its thread may become the lock's
 * owner), else a borrow (configuration, save, statistics). Returns the token
 * for pb__bench_unlock.
 */
static inline unsigned pb__bench_lock(pb_bench *b, bool record) {
  return pb__olock_lock(&b->lock, record);
}

/** Releases b->lock taken by pb__bench_lock, which returned `own`. */
static inline void pb__bench_unlock(pb_bench *b, unsigned own) { pb__olock_unlock(&b->lock, own); }

/** Creates a benchmarker owned by a registry (pb_bench_destroy refuses it). */
int pb__bench_create_owned(const char *path, pb_bench **out);
/** pb_save without the signal-handler guard, for callers inside a guarded call. */
int pb__bench_save(pb_bench *b);
/** Frees what save.c keeps across saves (the quoted topics). */
void pb__bench_write_free(pb_bench *b);
/** Destroys any benchmarker, owned or not. */
void pb__bench_free(pb_bench *b);

#endif
