/*
 * bench.c - the benchmarker: iterations of timed steps and memory records.
 *
 * Semantics follow the original's Benchmarker call for call (see
 * docs/RECORDING.md): a step's time is the gap since the previous step or the
 * iteration's start; gstop records a "gstop" step and closes the iteration
 * with its GLOBAL time; gstep closes and opens; with memory tracking on, the
 * probe's own time is recorded as "gstep_memory", "<topic>_MEMORY_STEP" and
 * "gstop_memory". See bench.h for the locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* ---- creation ---- */

static int bench_init(pb_bench *b, const char *path) {
  memset(b, 0, sizeof *b);
  atomic_init(&b->flags, PB__F_ON);
  pb__olock_init(&b->lock);
  pthread_mutex_init(&b->op_lock, NULL);
  pthread_mutex_init(&b->save_mu, NULL);
  pthread_cond_init(&b->save_cv, NULL);
  pb__segvec_init(&b->recs, sizeof(pb__rec));
  pb__segvec_init(&b->longs, sizeof(pb__recx));
  pb__segvec_init(&b->xrecs, sizeof(pb__recx));
  pb__segvec_init(&b->xtopics, sizeof(pb__recx));
  pb__segvec_init(&b->iters, sizeof(pb__iter));
  pb__segvec_init(&b->iwide, sizeof(pb__recx));
  pb__segvec_init(&b->ilead, sizeof(pb__recx));
  pb__segvec_init(&b->ickpt, sizeof(pb__ickpt));
  pb__segvec_init(&b->iclose, sizeof(pb__recx));
  pb__segvec_init(&b->mrecs, sizeof(pb__mrec));
  pb__segvec_init(&b->extras, sizeof(const char *));
  pb__topics_init(&b->topics);
  pb__arena_init(&b->arena);
  b->path = strdup(path);
  b->t_gstop = pb__topics_intern(&b->topics, &b->arena, "gstop", 5);
  b->t_gstep = pb__topics_intern(&b->topics, &b->arena, "gstep", 5);
  b->t_gstep_memory = pb__topics_intern(&b->topics, &b->arena, "gstep_memory", 12);
  b->t_gstop_memory = pb__topics_intern(&b->topics, &b->arena, "gstop_memory", 12);
  if (!b->path || b->t_gstop == PB_TOPIC_INVALID || b->t_gstep == PB_TOPIC_INVALID ||
      b->t_gstep_memory == PB_TOPIC_INVALID || b->t_gstop_memory == PB_TOPIC_INVALID) {
    return PB_ENOMEM;
  }
  return PB_OK;
}

void pb__bench_free(pb_bench *b) {
  if (!b) return;
  pb__fork_track_bench(b, false);
  pb__peak_unsubscribe(&b->peak);
  pb__gpu_tracker_free(b->gpu);
  pb__segvec_free(&b->recs);
  pb__segvec_free(&b->longs);
  pb__segvec_free(&b->xrecs);
  pb__segvec_free(&b->xtopics);
  pb__segvec_free(&b->iters);
  pb__segvec_free(&b->iwide);
  pb__segvec_free(&b->ilead);
  pb__segvec_free(&b->ickpt);
  pb__segvec_free(&b->iclose);
  pb__segvec_free(&b->mrecs);
  pb__segvec_free(&b->extras);
  pb__topics_free(&b->topics);
  pb__arena_free(&b->arena);
  pb__bench_write_free(b);
  pthread_mutex_destroy(&b->op_lock);
  pthread_mutex_destroy(&b->save_mu);
  pthread_cond_destroy(&b->save_cv);
  free(b->path);
  free(b);
}

static int create(const char *path, bool owned, pb_bench **out) {
  if (!out) return pb__fail(PB_EINVAL, "pb_bench_create: out is NULL");
  *out = NULL;
  if (!path || !*path) return pb__fail(PB_EINVAL, "pb_bench_create: the path is NULL or empty");
  pb_bench *b = malloc(sizeof *b);
  if (!b) return pb__fail(PB_ENOMEM, "out of memory creating benchmarker '%s'", path);
  if (bench_init(b, path) != PB_OK) {
    pb__bench_free(b);
    return pb__fail(PB_ENOMEM, "out of memory creating benchmarker '%s'", path);
  }
  b->owned = owned;
  b->pid = (long)getpid();
  pb__fork_track_bench(b, true);
  *out = b;
  return PB_OK;
}

int pb_bench_create(const char *path, pb_bench **out) { return create(path, false, out); }

int pb__bench_create_owned(const char *path, pb_bench **out) { return create(path, true, out); }

int pb_bench_destroy(pb_bench *b) {
  if (!b) return PB_OK;
  if (b->owned) {
    return pb__fail(PB_EOWNED, "benchmarker '%s' belongs to a registry: destroy the registry",
                    b->path);
  }
  pb__bench_free(b);
  return PB_OK;
}

const char *pb_bench_path(const pb_bench *b) { return b ? b->path : NULL; }

/* ---- appending (caller holds b->lock) ---- */

static bool flag(const pb_bench *b, unsigned f) {
  return atomic_load_explicit(&((pb_bench *)b)->flags, memory_order_relaxed) & f;
}

static void set_flag(pb_bench *b, unsigned f, bool on) {
  if (on)
    atomic_fetch_or(&b->flags, f);
  else
    atomic_fetch_and(&b->flags, ~f);
}

static pb__iter *last_iter(pb_bench *b) { return b->cur; }

/* Appends side data of the record just pushed (index k); false when out of memory. */
static bool push_side(pb__segvec *v, uint64_t k, uint64_t val) {
  pb__recx *e = pb__segvec_push(v);
  if (!e) return false;
  e->rec = k;
  e->val = val;
  return true;
}

/*
 * Before a record of a closed iteration (a step after pb_gstop): notes the
 * iteration's record count at its close, once. False when out of memory.
 */
static bool note_after_close(pb_bench *b, const pb__iter *it) {
  uint64_t i = b->iters.n - 1;
  const pb__recx *last = b->iclose.n ? pb__segvec_at(&b->iclose, b->iclose.n - 1) : NULL;
  if (last && last->rec == i) return true;
  return push_side(&b->iclose, i, pb__iter_nrec(it));
}

/*
 * Moves the step clock to `now` with no record of the gap: the one place that
 * does, so that every such move marks the open iteration, whose gstop record
 * can then not be derived from its span (pb__iter).
 */
static inline void skip_gap(pb_bench *b, uint64_t now) {
  b->step_t0 = now;
  b->gap_lost = true;
}

/* Removes the entries of side table v from index n on (a record's, pushed last). */
static void pop_side_to(pb__segvec *v, size_t n) {
  while (v->n > n) pb__segvec_pop(v);
}

/* The units of a record (pb__rec) of topic id `topic` (or PB__REC_TESC when wide), gap
 * `gap` and extra flag into u; returns how many (1, 2, or 4 with a HI word). */
static unsigned rec_units(uint32_t topic, uint64_t gap, bool extra, uint16_t u[4]) {
  if (gap < PB__REC_SGAP_LIM && topic < PB__REC_STOPICS && !extra) {
    u[0] = (uint16_t)(topic << PB__REC_SBITS | gap);
    return 1;
  }
  unsigned n = 0;
  uint64_t hv = gap >> PB__REC_GBITS;
  if (hv) {
    uint32_t h = PB__REC_TAG | PB__REC_HI |
                 (uint32_t)(hv < PB__REC_HI_LONG ? hv : PB__REC_HI_LONG) << PB__REC_HI_SHIFT;
    u[n++] = (uint16_t)(h >> 16);
    u[n++] = (uint16_t)h;
  }
  uint32_t w = PB__REC_TAG | topic | (extra ? PB__REC_EXTRA : 0) |
               (uint32_t)(gap & (PB__REC_GAP_LIM - 1)) << PB__REC_GSHIFT;
  u[n++] = (uint16_t)(w >> 16);
  u[n++] = (uint16_t)w;
  return n;
}

/* push_rec's general case: a word (a gap of 2^11 ns or more, a topic id of 16 or more, an
 * extra), a HI word, a negative gap, a closed or full iteration, or no memory. The side
 * entries are pushed before the units; a failure takes every one back. */
static __attribute__((noinline)) int push_rec_slow(pb_bench *b, uint32_t topic, uint64_t now,
                                                   uint32_t extra) {
  pb__iter *it = last_iter(b);
  if (now < b->step_t0) b->gap_lost = true; /* the gap is recorded as 0 */
  uint64_t gap = now > b->step_t0 ? now - b->step_t0 : 0;
  bool wide = topic >= PB__REC_TESC;
  uint16_t u[4];
  unsigned nu = rec_units(wide ? PB__REC_TESC : topic, gap, extra != 0, u);
  bool long_gap = nu == 4 && (gap >> PB__REC_GBITS) >= PB__REC_HI_LONG;
  bool full = pb__iter_nrec(it) + nu > PB__ITER_NREC_MAX;
  bool ok = !full && (b->open || note_after_close(b, it));
  size_t n0 = b->recs.n;
  uint64_t k = n0 + nu - 1; /* the record's last unit: its side tables' key */
  size_t nl = b->longs.n, nx = b->xrecs.n, nt = b->xtopics.n;
  if (ok && long_gap) ok = push_side(&b->longs, k, gap);
  if (ok && extra) ok = push_side(&b->xrecs, k, extra);
  if (ok && wide) ok = push_side(&b->xtopics, k, topic);
  for (unsigned m = 0; ok && m < nu; m++) {
    pb__rec *r = pb__segvec_push(&b->recs);
    if (r)
      r->u = u[m];
    else
      ok = false;
  }
  if (!ok) {
    pb__segvec_truncate(&b->recs, n0);
    pop_side_to(&b->longs, nl);
    pop_side_to(&b->xrecs, nx);
    pop_side_to(&b->xtopics, nt);
    b->dropped++;
    skip_gap(b, now);
    if (full) {
      return pb__fail(PB_ENOMEM,
                      "an iteration of '%s' holds %u record units, the most it may: step "
                      "dropped",
                      b->path, PB__ITER_NREC_MAX);
    }
    return pb__fail(PB_ENOMEM, "out of memory recording a step of '%s': dropped", b->path);
  }
  b->step_t0 = now;
  b->nspare += nu - 1;
  it->nrec += nu;
  return PB_OK;
}

/* Appends a time record of `topic` ending now; a short unit inline. Caller holds b->lock. */
static inline __attribute__((always_inline)) int push_rec(pb_bench *b, uint32_t topic, uint64_t now,
                                                          uint32_t extra) {
  uint64_t gap = now - b->step_t0; /* a clock read before the last: huge, the slow path */
  pb__iter *it = last_iter(b);
  pb__rec *r = gap < PB__REC_SGAP_LIM && topic < PB__REC_STOPICS && !extra && b->open &&
                       it->nrec < PB__ITER_NREC_MAX
                   ? pb__segvec_push(&b->recs)
                   : NULL;
  if (__builtin_expect(r == NULL, 0)) return push_rec_slow(b, topic, now, extra);
  r->u = (uint16_t)(topic << PB__REC_SBITS | gap);
  b->step_t0 = now;
  it->nrec++;
  return PB_OK;
}

/*
 * Copies a (checked) extra into the arena; returns its index + 1, or 0. Out
 * of memory: the extra is dropped (the record keeps a null extra), counted,
 * and *rc is set to PB_ENOMEM.
 */
static uint32_t store_extra(pb_bench *b, const char *text, int *rc) {
  if (!text) return 0;
  char *copy = b->extras.n < UINT32_MAX - 1 ? pb__arena_dup(&b->arena, text, strlen(text)) : NULL;
  const char **slot = copy ? pb__segvec_push(&b->extras) : NULL;
  if (!slot) {
    b->dropped++;
    *rc = pb__fail(PB_ENOMEM, "out of memory keeping an extra of '%s': recorded as null", b->path);
    return 0;
  }
  *slot = copy;
  return (uint32_t)b->extras.n;
}

/* wall_at's once-a-second part: re-reads the offset between the two clocks. */
static __attribute__((noinline)) int64_t wall_resync(pb_bench *b, uint64_t now) {
  /* The wall clock read between two monotonic reads, the tightest of three
   * tries: a thread preempted between the reads would skew the offset. */
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 3; i++) {
    uint64_t m1 = pb__now_ns();
    int64_t w = pb_wall_ns();
    uint64_t m2 = pb__now_ns();
    if (m2 - m1 < best) {
      best = m2 - m1;
      b->wall_off = w - (int64_t)(m1 + (m2 - m1) / 2);
    }
  }
  b->wall_sync = now ? now : 1;
  return (int64_t)now + b->wall_off;
}

/*
 * The wall clock at monotonic time `now`: the offset between the two clocks
 * is re-read once a second, so START_TIME/STOP_TIME cost no clock read of
 * their own and follow the system clock's adjustments within a second.
 */
static inline int64_t wall_at(pb_bench *b, uint64_t now) {
  if (__builtin_expect(!b->wall_sync || now - b->wall_sync > 1000000000u, 0)) {
    return wall_resync(b, now);
  }
  return (int64_t)now + b->wall_off;
}

/* Starts the last iteration's clocks (GLOBAL, the step gap) at `now`, START_TIME at w. */
static inline void start_iter_clocks(pb_bench *b, uint64_t now, int64_t w) {
  b->cur_start = w;
  b->open_mono = now;
  b->step_t0 = b->global_t0 = now;
}

/* Whether START_TIME w follows the last closed iteration's STOP_TIME by a gap that fits
 * pb__iter.lead_in; *d gets the gap. */
static inline bool lead_in_fits(const pb_bench *b, int64_t w, int64_t *d) {
  *d = w - b->stop_wall;
  return *d >= 0 && *d < (int64_t)PB__ITER_WIDE;
}

/* Makes `it`, just pushed, the open last iteration at `now`, START_TIME w. */
static inline void init_iter(pb_bench *b, pb__iter *it, uint64_t now, int64_t w) {
  b->cur = it;
  b->prev_first = b->cur_first;
  b->prev_start = b->cur_start;
  b->cur_first = b->recs.n;
  b->cur_ck = NULL;
  it->nrec = 0;
  it->global_ns = PB__ITER_OPEN;
  it->lead_in = 0;
  start_iter_clocks(b, now, w);
  b->have_iter = true;
  b->open = true;
  b->gap_lost = false;
  b->mem_crono = 0;
}

/* Makes e, just pushed, the last iteration's checkpoint (its first unit and START_TIME). */
static void fill_ckpt(pb_bench *b, pb__ickpt *e) {
  e->iter = b->iters.n - 1;
  e->first = b->cur_first;
  e->start_wall_ns = b->cur_start;
  b->cur_ck = e;
  b->cur->lead_in = 0;
}

/* Gives the last iteration a checkpoint; false when out of memory. */
static bool push_ckpt(pb_bench *b) {
  pb__ickpt *e = pb__segvec_push(&b->ickpt);
  if (e) fill_ckpt(b, e);
  return e != NULL;
}

/* open_iter's general case: no memory, or the iteration needs a checkpoint (pb__iter). */
static __attribute__((noinline, cold)) int open_iter_slow(pb_bench *b, pb__iter *it, uint64_t now,
                                                          int64_t w) {
  pb__ickpt *e = it ? pb__segvec_push(&b->ickpt) : NULL;
  if (e) {
    init_iter(b, it, now, w);
    fill_ckpt(b, e);
    return PB_OK;
  }
  if (it) pb__segvec_pop(&b->iters);
  b->dropped++;
  return pb__fail(PB_ENOMEM, "out of memory opening an iteration of '%s'", b->path);
}

/* Opens an iteration at `now`. Caller holds b->lock, with no iteration open. */
static inline int open_iter(pb_bench *b, uint64_t now) {
  int64_t w = wall_at(b, now), d;
  bool fits = lead_in_fits(b, w, &d);
  pb__iter *it = pb__segvec_push(&b->iters);
  if (__builtin_expect(!it || !fits || ((b->iters.n - 1) & (PB__ITER_CKPT - 1)) == 0, 0)) {
    return open_iter_slow(b, it, now, w);
  }
  init_iter(b, it, now, w);
  it->lead_in = (uint32_t)d;
  return PB_OK;
}

/*
 * Restarts the clocks of the open last iteration, which holds no record yet, at `now`
 * (START_TIME too). Out of memory for a checkpoint the new START_TIME needs: the clocks
 * are left as they were.
 */
static void restart_iter_clocks(pb_bench *b, uint64_t now) {
  int64_t w = wall_at(b, now), d;
  if (b->cur_ck) {
    b->cur_ck->start_wall_ns = w;
  } else if (lead_in_fits(b, w, &d)) {
    b->cur->lead_in = (uint32_t)d;
  } else {
    int64_t old = b->cur_start;
    b->cur_start = w;
    if (!push_ckpt(b)) {
      b->cur_start = old;
      return;
    }
  }
  start_iter_clocks(b, now, w);
}

/*
 * close_iter's general case: GLOBAL of 2^32 - 2 ns or more, or GLOBAL's
 * start after START_TIME. Out of memory for a side-table entry: the value is
 * cut to what fits, counted as dropped, and PB_ENOMEM returned.
 */
static __attribute__((noinline)) int close_iter_slow(pb_bench *b, uint64_t now) {
  pb__iter *it = b->cur;
  uint64_t i = b->iters.n - 1;
  uint64_t global = now > b->global_t0 ? now - b->global_t0 : 0;
  uint64_t span = now > b->open_mono ? now - b->open_mono : 0;
  int64_t lead = (int64_t)(span - global);
  bool ok = true;
  if (global < PB__ITER_OPEN) {
    it->global_ns = (uint32_t)global;
  } else if (push_side(&b->iwide, i, global)) {
    it->global_ns = PB__ITER_WIDE;
  } else {
    it->global_ns = PB__ITER_OPEN - 1;
    ok = false;
  }
  if (lead != 0 && !push_side(&b->ilead, i, (uint64_t)lead)) {
    lead = 0;
    ok = false;
  }
  uint64_t kept = it->global_ns == PB__ITER_WIDE ? global : it->global_ns;
  b->stop_wall = b->cur_start + (int64_t)kept + lead; /* as the writers compute it */
  b->open = false;
  b->gstops++;
  if (ok) return PB_OK;
  b->dropped++;
  return pb__fail(PB_ENOMEM, "out of memory closing an iteration of '%s': its times are cut",
                  b->path);
}

/* Whether close_iter at `now` takes its fast path: no side-table entry, so nothing to cut. */
static inline bool close_is_fast(const pb_bench *b, uint64_t now) {
  return now >= b->global_t0 && now - b->global_t0 < PB__ITER_OPEN && b->global_t0 == b->open_mono;
}

/*
 * Closes the last iteration at `now`: GLOBAL from its clocks' start, STOP_TIME
 * from START_TIME by the monotonic clock (never before it, whatever the wall
 * clock did in between), kept as GLOBAL plus the lead of GLOBAL's start (0
 * unless a probe or pb_start moved GLOBAL's start). Caller holds b->lock.
 */
static inline int close_iter(pb_bench *b, uint64_t now) {
  if (__builtin_expect(!close_is_fast(b, now), 0)) return close_iter_slow(b, now);
  uint64_t global = now - b->global_t0;
  b->cur->global_ns = (uint32_t)global;
  b->stop_wall = b->cur_start + (int64_t)global;
  b->open = false;
  b->gstops++;
  return PB_OK;
}

/* ---- memory records ---- */

typedef struct probe {
  pb__mem_sample mem;
  char cuda[PB__GPU_JSON_CAP];
  size_t cuda_len;
  bool has_cuda;
} probe;

/* Probes memory (and GPU memory). Caller holds b->op_lock, not b->lock. */
static void take_probe(pb_bench *b, probe *p) {
  pb__mem_probe(&b->peak, &p->mem);
  p->has_cuda =
      b->cuda_on && b->gpu && pb__gpu_probe(b->gpu, p->cuda, sizeof p->cuda, &p->cuda_len) == PB_OK;
}

/* Appends a memory record to the last iteration. Caller holds b->lock. */
static int push_mrec(pb_bench *b, uint32_t topic, const probe *p, const char *extra) {
  pb__mrec *m = pb__segvec_push(&b->mrecs);
  if (!m) {
    b->dropped++;
    return pb__fail(PB_ENOMEM, "out of memory recording memory of '%s': dropped", b->path);
  }
  m->iter = b->iters.n - 1;
  m->rss = p->mem.rss;
  m->peak = p->mem.peak;
  m->heap = p->mem.heap;
  m->topic = topic;
  int rc = PB_OK;
  m->extra = store_extra(b, extra, &rc);
  m->cuda = p->has_cuda ? store_extra(b, p->cuda, &rc) : 0;
  m->crono = b->mem_crono++;
  return rc;
}

/*
 * Probes and records memory under `topic`, then the probe's time as the time
 * step `time_topic`. Caller holds b->op_lock only.
 */
static int record_memory(pb_bench *b, uint32_t topic, uint32_t time_topic, const char *extra) {
  probe p;
  take_probe(b, &p);
  unsigned own = pb__bench_lock(b, true);
  int rc = push_mrec(b, topic, &p, extra);
  int rc2 = push_rec(b, time_topic, pb__now_ns(), 0);
  pb__bench_unlock(b, own);
  return rc ? rc : rc2;
}

static int autosave(pb_bench *b);
static int save_request(pb_bench *b, bool explicit_full);

/* ---- the recording calls ---- */

/* The save-every-N rule, after an iteration closed. Caller holds b->lock. */
static bool autosave_due(const pb_bench *b) {
  return b->save_on_gstop && b->gstops % b->save_on_gstop == 0;
}

static void gpu_sync_if(pb_bench *b) {
  if (flag(b, PB__F_SYNC)) pb__gpu_sync();
}

/* The cancellation state op_begin replaced (op_lock does not nest in a thread). */
static _Thread_local int op_cancel_old;

/*
 * Takes op_lock when memory tracking is on; returns whether it did. The
 * memory probe reads files (cancellation points) under op_lock, so
 * cancellation stays disabled until op_end.
 */
static bool op_begin(pb_bench *b) {
  if (!flag(b, PB__F_MEM)) return false;
  op_cancel_old = pb__nocancel_begin();
  pthread_mutex_lock(&b->op_lock);
  return true;
}

static void op_end(pb_bench *b, bool held) {
  if (!held) return;
  pthread_mutex_unlock(&b->op_lock);
  pb__nocancel_end(op_cancel_old);
}

/*
 * Closes the open iteration (the shared part of gstop and gstep) and, for
 * gstep (`reopen`), opens the next one in the same hold of b->lock, so that
 * no other thread's gstep or start can slip in between: every iteration is
 * closed exactly once. Caller holds op_lock if `held`, not b->lock. Sets
 * *save_now when the save-every-N rule fires and *opened to the number of
 * iterations once the new one is open (0 if it could not be).
 */
static inline __attribute__((always_inline)) int gstop_part(pb_bench *b, bool held, bool reopen,
                                                            bool *save_now, size_t *opened) {
  gpu_sync_if(b);
  unsigned own = pb__bench_lock(b, true);
  uint64_t now = pb__now_ns();
  int rc = PB_OK;
  if (b->open) {
    pb__iter *it = b->cur;
    bool probing = held && b->peak.linked;
    /* The gstop record is derived at save time when its gap is what the iteration's
     * span leaves over (pb__iter); otherwise stored. Only with the fast close: the slow
     * one may cut GLOBAL or the lead (no memory), and the gstop's time with them. */
    bool derive =
        !probing && !b->gap_lost && now - b->step_t0 < PB__ITER_WIDE && close_is_fast(b, now);
    if (derive)
      b->step_t0 = now;
    else
      rc = push_rec(b, b->t_gstop, now, 0);
    if (probing) {
      pb__bench_unlock(b, own);
      int rc2 = record_memory(b, b->t_gstop, b->t_gstop_memory, NULL);
      if (!rc) rc = rc2;
      own = pb__bench_lock(b, true);
      now = b->step_t0; /* GLOBAL ends after the probe, as the original's */
    }
    /* Still ours, unless a thread that began before memory tracking was on (so without
     * op_lock) closed it while the lock was released for the probe. */
    if (b->open && b->cur == it) {
      int crc = close_iter(b, now);
      if (derive) { /* the fast close: crc is PB_OK */
        it->nrec |= PB__ITER_VGSTOP;
        b->vgstops++;
      }
      if (!rc) rc = crc;
      *save_now = autosave_due(b);
    }
  }
  int rc2 = PB_OK;
  if (reopen) {
    if (!b->open) rc2 = open_iter(b, now);
    *opened = rc2 == PB_OK ? b->iters.n : 0;
  }
  pb__bench_unlock(b, own);
  return rc ? rc : rc2;
}

/*
 * After gstep's auto-save: the save's time belongs to no iteration, as when
 * the save ran before the next iteration opened. If the iteration gstep
 * opened (the `opened`-th) is still the last, open and empty, its clocks
 * restart now.
 */
static void restart_clocks(pb_bench *b, size_t opened) {
  unsigned own = pb__bench_lock(b, true);
  if (opened && b->open && b->iters.n == opened && pb__iter_nrec(b->cur) == 0) {
    restart_iter_clocks(b, pb__now_ns());
  }
  pb__bench_unlock(b, own);
}

static int gstop(pb_bench *b) {
  if (!b) return pb__fail(PB_EINVAL, "pb_gstop: benchmarker is NULL");
  if (!flag(b, PB__F_ON)) return PB_EDISABLED;
  /* With memory tracking off, gstop_part is one lock section and op_begin one load. */
  bool held = op_begin(b);
  bool save_now = false;
  int rc = gstop_part(b, held, false, &save_now, NULL);
  op_end(b, held);
  if (save_now) {
    int src = autosave(b);
    if (!rc) rc = src;
  }
  return rc;
}

static int gstep(pb_bench *b) {
  if (!b) return pb__fail(PB_EINVAL, "pb_gstep: benchmarker is NULL");
  if (!flag(b, PB__F_ON)) return PB_EDISABLED;
  bool held = op_begin(b);
  bool save_now = false;
  size_t opened = 0;
  int rc = gstop_part(b, held, true, &save_now, &opened);
  if (save_now) { /* the closed iterations are saved; the new one is left out */
    op_end(b, held);
    int src = autosave(b);
    if (!rc) rc = src;
    restart_clocks(b, opened);
    held = op_begin(b);
  }
  /* peak.linked changes only under op_lock, which `held` says this thread holds */
  if (held && opened && b->peak.linked) {
    int rc2 = record_memory(b, b->t_gstep, b->t_gstep_memory, NULL);
    if (!rc) rc = rc2;
    unsigned own = pb__bench_lock(b, true);
    b->global_t0 = b->step_t0; /* the iteration's clocks start after the probe */
    pb__bench_unlock(b, own);
  }
  op_end(b, held);
  return rc;
}

static int start(pb_bench *b) {
  if (!b) return pb__fail(PB_EINVAL, "pb_start: benchmarker is NULL");
  if (!flag(b, PB__F_ON)) return PB_EDISABLED;
  gpu_sync_if(b);
  int rc = PB_OK;
  unsigned own = pb__bench_lock(b, true);
  uint64_t now = pb__now_ns();
  if (b->open) {
    skip_gap(b, now); /* the gap since the last step is in no record */
    b->global_t0 = now;
  } else {
    rc = open_iter(b, now);
  }
  pb__bench_unlock(b, own);
  return rc;
}

/* Runs a recording call unless this thread is inside one already (a signal handler). */
#define GUARDED(call)                       \
  do {                                      \
    if (!pb__call_enter()) return PB_EBUSY; \
    int guarded_rc_ = (call);               \
    pb__call_leave();                       \
    return guarded_rc_;                     \
  } while (0)

/*
 * gstop and gstep on the hot path (enabled, no memory tracking, no GPU sync,
 * no save per step: one load tells): gstop_part without a probe, inlined, so
 * that closing and opening happen in one hold of the lock with no call. An
 * auto-save that falls due runs after the lock is released, as in gstep.
 */
static inline __attribute__((always_inline)) int gstop_fast_guarded(pb_bench *b, bool reopen) {
  bool save_now = false;
  size_t opened = 0;
  int rc = gstop_part(b, false, reopen, &save_now, &opened);
  if (__builtin_expect(save_now, 0)) {
    int src = autosave(b);
    if (!rc) rc = src;
    if (reopen) restart_clocks(b, opened);
  }
  return rc;
}

static __attribute__((noinline)) int gstop_fast(pb_bench *b) {
  GUARDED(gstop_fast_guarded(b, false));
}

static __attribute__((noinline)) int gstep_fast(pb_bench *b) {
  GUARDED(gstop_fast_guarded(b, true));
}

static __attribute__((noinline)) int gstop_slow(pb_bench *b) { GUARDED(gstop(b)); }
static __attribute__((noinline)) int gstep_slow(pb_bench *b) { GUARDED(gstep(b)); }

/* Two tail calls: no prologue before the flag test. */
int pb_gstop(pb_bench *b) {
  if (b && atomic_load_explicit(&b->flags, memory_order_relaxed) == PB__F_ON) return gstop_fast(b);
  return gstop_slow(b);
}

int pb_gstep(pb_bench *b) {
  if (b && atomic_load_explicit(&b->flags, memory_order_relaxed) == PB__F_ON) return gstep_fast(b);
  return gstep_slow(b);
}

int pb_start(pb_bench *b) { GUARDED(start(b)); }

/* Resolves a topic id (or name) under b->lock; PB_TOPIC_INVALID on failure. */
static inline __attribute__((always_inline)) uint32_t resolve_topic(pb_bench *b, uint32_t id,
                                                                    const char *name) {
  if (name) return pb__topics_find(&b->topics, &b->arena, name);
  return id < b->topics.infos.n ? id : PB_TOPIC_INVALID;
}

/* The id of "<topic>_MEMORY_STEP", interned on first use. Caller holds b->lock. */
static uint32_t memstep_topic(pb_bench *b, uint32_t topic) {
  pb__topic_info *ti = pb__segvec_at(&b->topics.infos, topic);
  if (ti->memstep != PB_TOPIC_INVALID) return ti->memstep;
  static const char suffix[] = "_MEMORY_STEP";
  size_t len = ti->len + sizeof suffix - 1;
  char *name = malloc(len + 1);
  if (!name) return PB_TOPIC_INVALID;
  memcpy(name, ti->name, ti->len);
  memcpy(name + ti->len, suffix, sizeof suffix);
  uint32_t id = pb__topics_intern(&b->topics, &b->arena, name, len);
  free(name);
  ti = pb__segvec_at(&b->topics.infos, topic); /* stable, but re-read for clarity */
  ti->memstep = id;
  return id;
}

/* A step whose topic did not resolve (no memory to intern a name, or an unknown id): its
 * gap is skipped, a name's step counted as dropped. Caller holds b->lock. */
static __attribute__((noinline, cold)) int step_unresolved(pb_bench *b, uint64_t now,
                                                           const char *topic, uint32_t id) {
  skip_gap(b, now);
  b->dropped += topic != NULL;
  return topic ? pb__fail(PB_ENOMEM, "out of memory interning a topic of '%s'", b->path)
               : pb__fail(PB_EINVAL, "pb_step_id: unknown topic id %u", id);
}

static int step_slow(pb_bench *b, uint32_t id, const char *topic, const char *time_extra,
                     const char *memory_extra) {
  if (!flag(b, PB__F_ON)) return PB_EDISABLED;
  int json_rc = PB_OK;
  if (time_extra && !pb__json_valid(time_extra, strlen(time_extra))) {
    json_rc = pb__fail(PB_EJSON, "time_extra of step '%s' is not one JSON value: recorded as null",
                       topic ? topic : "(id)");
    time_extra = NULL;
  }
  if (memory_extra && !pb__json_valid(memory_extra, strlen(memory_extra))) {
    json_rc =
        pb__fail(PB_EJSON, "memory_extra of step '%s' is not one JSON value: recorded as null",
                 topic ? topic : "(id)");
    memory_extra = NULL;
  }
  bool held = op_begin(b);
  gpu_sync_if(b);
  unsigned own = pb__bench_lock(b, true);
  if (!b->have_iter) {
    pb__bench_unlock(b, own);
    op_end(b, held);
    return pb__fail(PB_ENOITER, "step of '%s' before any iteration (call pb_gstep first)", b->path);
  }
  uint64_t now = pb__now_ns();
  uint32_t t = resolve_topic(b, id, topic);
  int rc;
  if (t == PB_TOPIC_INVALID) {
    rc = step_unresolved(b, now, topic, id);
  } else {
    int xrc = PB_OK;
    uint32_t extra = store_extra(b, time_extra, &xrc);
    rc = push_rec(b, t, now, extra);
    if (!rc) rc = xrc;
  }
  bool probe_it = held && b->mem_per_step && b->peak.linked && t != PB_TOPIC_INVALID;
  uint32_t ms = probe_it ? memstep_topic(b, t) : PB_TOPIC_INVALID;
  bool autosave = b->save_on_step;
  pb__bench_unlock(b, own);
  if (probe_it && ms != PB_TOPIC_INVALID) {
    int rc2 = record_memory(b, t, ms, memory_extra);
    if (!rc) rc = rc2;
  }
  op_end(b, held);
  if (autosave) {
    int src = save_request(b, true);
    if (!rc) rc = src;
  }
  return rc ? rc : json_rc;
}

static int step_common(pb_bench *b, uint32_t id, const char *topic, const char *time_extra,
                       const char *memory_extra) {
  GUARDED(step_slow(b, id, topic, time_extra, memory_extra));
}

/*
 * The hot path: enabled, no memory tracking, no GPU sync, no save per step
 * (one load tells). One lock section: a clock read, a topic look-up that
 * usually hits the pointer cache, a 2-byte append.
 */
static inline __attribute__((always_inline)) int step_fast_guarded(pb_bench *b, uint32_t id,
                                                                   const char *topic) {
  unsigned own = pb__bench_lock(b, true);
  if (__builtin_expect(!b->have_iter, 0)) {
    pb__bench_unlock(b, own);
    return pb__fail(PB_ENOITER, "step of '%s' before any iteration (call pb_gstep first)", b->path);
  }
  uint64_t now = pb__now_ns();
  uint32_t t = resolve_topic(b, id, topic);
  int rc;
  if (__builtin_expect(t != PB_TOPIC_INVALID, 1)) {
    rc = push_rec(b, t, now, 0); /* inline; a word (2 us or more, a topic id of 16 or more) or
                                  * no memory: push_rec_slow */
  } else {
    rc = step_unresolved(b, now, topic, id);
  }
  pb__bench_unlock(b, own);
  return rc;
}

/* The hot path's guard costs a load and two stores of a thread-local byte. */
static __attribute__((noinline)) int step_fast(pb_bench *b, uint32_t id, const char *topic) {
  GUARDED(step_fast_guarded(b, id, topic));
}

static __attribute__((noinline, cold)) int step_einval(const char *fn) {
  return pb__fail(PB_EINVAL, "%s: benchmarker or topic is NULL", fn);
}

/* No prologue before the flag test: a disabled step is a load and a return. */
int pb_step(pb_bench *b, const char *topic) {
  if (!b || !topic) return step_einval("pb_step");
  unsigned f = atomic_load_explicit(&b->flags, memory_order_relaxed);
  if (f == PB__F_ON) return step_fast(b, 0, topic);
  if (!(f & PB__F_ON)) return PB_EDISABLED;
  return step_common(b, 0, topic, NULL, NULL);
}

int pb_step_ex(pb_bench *b, const char *topic, const char *time_extra, const char *memory_extra) {
  if (!b || !topic) return pb__fail(PB_EINVAL, "pb_step_ex: benchmarker or topic is NULL");
  return step_common(b, 0, topic, time_extra, memory_extra);
}

int pb_step_id(pb_bench *b, pb_topic topic) {
  if (!b) return step_einval("pb_step_id");
  unsigned f = atomic_load_explicit(&b->flags, memory_order_relaxed);
  if (f == PB__F_ON) return step_fast(b, topic, NULL);
  if (!(f & PB__F_ON)) return PB_EDISABLED;
  return step_common(b, topic, NULL, NULL, NULL);
}

pb_topic pb_topic_intern(pb_bench *b, const char *topic) {
  if (!b || !topic || !pb__call_enter()) return PB_TOPIC_INVALID;
  unsigned own = pb__bench_lock(b, false);
  uint32_t id = pb__topics_intern(&b->topics, &b->arena, topic, strlen(topic));
  pb__bench_unlock(b, own);
  pb__call_leave();
  return id;
}

bool pb_iter(pb_bench *b, size_t i, size_t n) {
  if (i < n) {
    if (b) pb_gstep(b);
    return true;
  }
  if (b) pb_gstop(b);
  return false;
}

/* ---- configuration ---- */

void pb_enable(pb_bench *b) {
  if (b) set_flag(b, PB__F_ON, true);
}

void pb_disable(pb_bench *b) {
  if (b) set_flag(b, PB__F_ON, false);
}

bool pb_is_enabled(const pb_bench *b) { return b && flag(b, PB__F_ON); }

void pb_set_save_on_gstop(pb_bench *b, unsigned n) {
  if (!b || !pb__call_enter()) return;
  unsigned own = pb__bench_lock(b, false);
  b->save_on_gstop = n;
  pb__bench_unlock(b, own);
  pb__call_leave();
}

void pb_set_save_on_step(pb_bench *b, bool on) {
  if (!b || !pb__call_enter()) return;
  unsigned own = pb__bench_lock(b, false);
  b->save_on_step = on;
  set_flag(b, PB__F_SAVE, on);
  pb__bench_unlock(b, own);
  pb__call_leave();
}

/* The probe set-up and tear-down do file I/O under op_lock: no cancellation. */
static int enable_memory_tracking(pb_bench *b, bool per_step) {
  int old = pb__nocancel_begin();
  pthread_mutex_lock(&b->op_lock);
  int rc = b->peak.linked ? PB_OK : pb__peak_subscribe(&b->peak);
  unsigned own = pb__bench_lock(b, false);
  b->mem_per_step = per_step;
  pb__bench_unlock(b, own);
  set_flag(b, PB__F_MEM, rc == PB_OK);
  pthread_mutex_unlock(&b->op_lock);
  pb__nocancel_end(old);
  return rc;
}

int pb_enable_memory_tracking(pb_bench *b, bool per_step) {
  if (!b) return pb__fail(PB_EINVAL, "pb_enable_memory_tracking: benchmarker is NULL");
  GUARDED(enable_memory_tracking(b, per_step));
}

void pb_disable_memory_tracking(pb_bench *b) {
  if (!b || !pb__call_enter()) return;
  int old = pb__nocancel_begin();
  pthread_mutex_lock(&b->op_lock);
  set_flag(b, PB__F_MEM, false);
  pb__peak_unsubscribe(&b->peak);
  pthread_mutex_unlock(&b->op_lock);
  pb__nocancel_end(old);
  pb__call_leave();
}

bool pb_cuda_available(void) { return pb__gpu_available(); }

/* Loading NVML and creating the tracker may do I/O under op_lock: no cancellation. */
static int enable_cuda_memory_tracking(pb_bench *b) {
  if (!pb__gpu_available()) {
    return pb__fail(PB_ENOTSUP, "GPU memory tracking is not available: %s",
                    pb__gpu_unavailable_reason());
  }
  int rc = PB_OK;
  pthread_mutex_lock(&b->op_lock);
  if (!b->gpu) b->gpu = pb__gpu_tracker_new();
  if (b->gpu) {
    b->cuda_on = true;
  } else {
    rc = pb__fail(PB_ENOMEM, "cannot create a GPU tracker for '%s'", b->path);
  }
  pthread_mutex_unlock(&b->op_lock);
  return rc;
}

int pb_enable_cuda_memory_tracking(pb_bench *b) {
  if (!b) return pb__fail(PB_EINVAL, "pb_enable_cuda_memory_tracking: benchmarker is NULL");
  int old = pb__nocancel_begin();
  int rc = enable_cuda_memory_tracking(b);
  pb__nocancel_end(old);
  return rc;
}

void pb_disable_cuda_memory_tracking(pb_bench *b) {
  if (!b) return;
  pthread_mutex_lock(&b->op_lock);
  b->cuda_on = false;
  pthread_mutex_unlock(&b->op_lock);
}

int pb_set_cuda_sync(pb_bench *b, bool on) {
  if (!b) return pb__fail(PB_EINVAL, "pb_set_cuda_sync: benchmarker is NULL");
  if (on && !pb__gpu_sync_available()) {
    set_flag(b, PB__F_SYNC, false);
    return pb__fail(PB_ENOTSUP, "no CUDA runtime is loaded in this process: cannot synchronise");
  }
  set_flag(b, PB__F_SYNC, on);
  return PB_OK;
}

int pb_bench_get_stats(pb_bench *b, pb_bench_stats *out) {
  if (!b || !out) return pb__fail(PB_EINVAL, "pb_bench_get_stats: NULL argument");
  if (!pb__call_enter()) return PB_EBUSY;
  unsigned own = pb__bench_lock(b, false);
  out->iterations = b->iters.n;
  out->steps = b->recs.n - b->nspare + b->vgstops;
  out->memory_records = b->mrecs.n;
  out->topics = b->topics.infos.n;
  out->dropped = b->dropped;
  out->saves = b->saves;
  out->save_errors = b->save_errors;
  /* Bytes in use; segments reserve up to twice that as untouched virtual memory. */
  out->bytes_held =
      b->recs.n * b->recs.elem + b->longs.n * b->longs.elem + b->xrecs.n * b->xrecs.elem +
      b->xtopics.n * b->xtopics.elem + b->iters.n * b->iters.elem +
      (b->iwide.n + b->ilead.n + b->iclose.n) * sizeof(pb__recx) + b->ickpt.n * b->ickpt.elem +
      b->mrecs.n * b->mrecs.elem + b->extras.n * b->extras.elem +
      b->topics.infos.n * b->topics.infos.elem + b->arena.bytes + (uint64_t)b->topics.nslots * 4;
  pb__bench_unlock(b, own);
  pb__call_leave();
  return PB_OK;
}

/* ---- saving: combine concurrent requests, write outside every lock ---- */

/*
 * Auto-saves cost O(run) in all, not O(run^2): an auto-save appends the
 * iterations closed since the last one to a journal beside the full files
 * (one line each time), and rewrites the full files only once the journal
 * holds more than four times what they do (and at every explicit pb_save),
 * then removes the journal (while still the only writer: no auto-save can
 * append a line that the removal would take). Full files are replaced
 * atomically; a journal line is complete once it ends with a newline. A line
 * restates the last iteration already on disk when steps after pb_gstop grew
 * it (b->tail). Readers take the full file, then the journal's lines in
 * order, reconciled by STEP_NUMBER: the larger version of an iteration wins
 * (docs/RECORDING.md). Below PB__JOURNAL_MIN_RECS time records every
 * auto-save rewrites the full files, as the original.
 */
enum { PB__JOURNAL_MIN_RECS = 8192 };

static bool want_full_locked(pb_bench *b) {
  /* The journal continues the full files: those must not end with an open iteration. */
  if (b->want_full || b->main_upto == 0 || b->main_open) return true;
  unsigned own = pb__bench_lock(b, false);
  size_t closed = b->gstops, recs = b->recs.n - b->nspare + b->vgstops;
  pb__bench_unlock(b, own);
  /* Small runs rewrite everything: cheap, and the full files stay whole. */
  return recs < PB__JOURNAL_MIN_RECS || closed - b->main_upto > 4 * b->main_upto;
}

/* After a successful save: records what is on disk. */
static void note_saved_locked(pb_bench *b, bool full, const pb__write_req *req) {
  if (full) {
    b->journaled = false;
    b->main_upto = req->covered;
    b->main_open = req->wrote_open;
  } else {
    b->journaled = true; /* a line, or an unchanged journal: removed at the next full save */
  }
  b->disk_upto = req->covered;
  b->tail = req->new_tail;
}

/*
 * Waits until this request is served by another thread's save, or becomes
 * the writer (b->saving). Caller holds save_mu. Returns true when served.
 */
static bool wait_turn_locked(pb_bench *b, uint64_t ticket) {
  while (b->save_done < ticket && b->saving) pthread_cond_wait(&b->save_cv, &b->save_mu);
  return b->save_done >= ticket;
}

static int save_combined(pb_bench *b, bool explicit_full) {
  if (!flag(b, PB__F_ON)) return PB_OK;
  pthread_mutex_lock(&b->save_mu);
  uint64_t ticket = ++b->save_requested;
  b->want_full |= explicit_full;
  b->want_open |= explicit_full;
  if (wait_turn_locked(b, ticket)) { /* another thread's save covered this request */
    int rc = b->save_rc;
    if (rc) pb__fail(rc, "%s", b->save_msg);
    pthread_mutex_unlock(&b->save_mu);
    return rc;
  }
  b->saving = true;
  uint64_t covers = b->save_requested;
  bool full = want_full_locked(b);
  pb__write_req req = {
      .from = full ? PB__FULL : b->disk_upto, .with_open = b->want_open, .tail = b->tail};
  bool had_journal = b->journaled;
  b->want_full = b->want_open = false;
  pthread_mutex_unlock(&b->save_mu);

  int rc = pb__bench_write(b, &req);
  /* Still the only writer: no auto-save can append a line that this removes. */
  if (rc == PB_OK && full && had_journal) pb__bench_clear_journal(b);

  unsigned own = pb__bench_lock(b, false);
  if (rc)
    b->save_errors++;
  else
    b->saves++;
  pb__bench_unlock(b, own);
  pthread_mutex_lock(&b->save_mu);
  if (rc == PB_OK) note_saved_locked(b, full, &req);
  if (rc) b->want_full |= full; /* retry the full files next time */
  b->saving = false;
  b->save_done = covers;
  b->save_rc = rc;
  snprintf(b->save_msg, sizeof b->save_msg, "%s", rc ? pb_last_error() : "");
  pthread_cond_broadcast(&b->save_cv);
  pthread_mutex_unlock(&b->save_mu);
  return rc;
}

/*
 * Every save, explicit or automatic, runs with cancellation disabled: a
 * thread cancelled in its I/O or in pthread_cond_wait would leave `saving`
 * set (every later save waiting for it), save_mu held, or a temporary file.
 */
static int save_request(pb_bench *b, bool explicit_full) {
  int old = pb__nocancel_begin();
  int rc = save_combined(b, explicit_full);
  pb__nocancel_end(old);
  return rc;
}

int pb_save(pb_bench *b) {
  if (!b) return pb__fail(PB_EINVAL, "pb_save: benchmarker is NULL");
  GUARDED(save_request(b, true));
}

int pb__bench_save(pb_bench *b) { return save_request(b, true); }

/* The save-every-N rule's save: a journal line, with a full rewrite now and then. */
static int autosave(pb_bench *b) { return save_request(b, false); }
