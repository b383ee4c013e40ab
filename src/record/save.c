/*
 * save.c - writing a benchmarker's three record files from a snapshot.
 *
 * The snapshot is taken under b->lock and costs O(1): the counts of the
 * stores and a copy of the last iteration (the only mutable one). Elements
 * below the counts never move or change, so the files are written from them
 * without any lock while other threads keep recording.
 *
 * Schema (the original's, see docs/RECORDING.md): DATA is a list of
 * {"absolutes", "info", "individual_calls"} per iteration; SUMMARY maps each
 * topic to {"mean", "min", "max", "quantile_filtered"} with GLOBAL last;
 * MEMORY is a list of {"info", "data"} per iteration with memory records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "digits.h"

typedef struct snap {
  pb__segvec recs, longs, xrecs, xtopics, iters, iwide, ilead, ickpt, iclose, mrecs, extras, topics;
  pb__iter last;       /* copy of the last iteration */
  uint64_t last_first; /* its first record unit */
  int64_t last_start;  /* its START_TIME */
  uint32_t t_gstop;    /* topic of the derived gstop records (pb__iter) */
  size_t all_iters;    /* iterations of the benchmarker, the open one left out or not */
  char **quoted;       /* per topic: its JSON string (quotes included), from b->qcache */
  size_t *quoted_len;
} snap;

/*
 * Quoted topic names kept across saves (issue 11, defect 13: quoting every
 * topic at every journal append cost 7.5 ms per auto-save at 100,000 topics):
 * a save quotes only the topics interned since the previous one. Used only by
 * the thread that writes (the save combiner's `saving` role, handed over
 * under save_mu). `busy` marks an update in progress: a child forked during
 * one abandons the cache (it may be half-made) and builds its own.
 */
struct pb__qcache {
  char **quoted;   /* per topic id: its JSON string, unique within the files */
  size_t *len;     /* its length */
  size_t n, cap;   /* topics quoted; capacity of the two arrays */
  size_t *set;     /* open addressing: id + 1, keyed by quoted[id]'s text */
  size_t nslots;   /* power of two, at least 2 * n */
  uint64_t *stamp; /* per topic: group()'s epoch where last seen (scratch's) */
  uint32_t *local; /* per topic: its position in the group (scratch's) */
  size_t ntopics;  /* length of stamp and local */
  uint64_t epoch;  /* group()'s calls so far: a stamp never matches a later one */
  long pid;        /* the process that made it */
  bool busy;       /* an update is under way */
};

/* Room for a call's head and time ("{\"time\":" and at most 21 bytes) with
 * the digit writers' slack; the zero bytes kept after each quoted topic name. */
enum { TXT = 48, HEAD = 8, KEY_PAD = 32 };

/* A wall time's whole seconds as text, kept from the last one written:
 * iterations that start and stop within one second share it. */
typedef struct wall_text {
  uint64_t whole; /* its seconds; UINT64_MAX: none yet */
  char txt[TXT];
  size_t len;
} wall_text;

/* Per-save scratch: the records of one iteration, loaded, and their grouping
 * by topic. The two per-topic arrays belong to b->qcache and last across
 * saves, so that a journal append costs nothing per topic (issue 11, defect 13). */
typedef struct scratch {
  uint64_t *stamp; /* per topic: *epoch (or, in the summary, iteration + 1) where last seen */
  uint32_t *local; /* per topic: its position in `order` */
  uint64_t *epoch; /* group()'s counter */
  uint64_t *ns;    /* per record of the iteration: its gap */
  uint32_t *topic; /* per record: its topic */
  uint32_t *extra; /* per record: its extra (0: null) */
  char *txt;       /* per record: {"time":<its time>, TXT bytes each (see format_times) */
  uint8_t *txt_len;
  uint32_t *prev_topic; /* the topics of the last iteration group_cached grouped */
  uint32_t prev_n;      /* its records; UINT32_MAX: none (the grouping is another's) */
  uint32_t prev_nt;     /* its topics */
  wall_text wall;       /* the wall times' seconds last written */
  uint32_t *order;      /* topics of the iteration in first-use order */
  uint32_t *start;      /* per position: start of its records in `calls` */
  uint32_t *calls;      /* the iteration's records (positions in it) grouped by topic */
  size_t cap;           /* capacity of the per-record arrays */
} scratch;

/* ---- reading the stores in order ----
 * The writers visit records, iterations and side-table entries in
 * increasing index order, so each store is read by a cursor: a pointer bump
 * per element instead of pb__segvec_at, a step forward instead of a binary
 * search per record in the side tables (issue 15, item 6). */

/* A forward cursor over a segmented array. */
typedef struct seg_reader {
  const pb__segvec *v;
  size_t i;      /* index of the element at p */
  const char *p; /* that element, when left > 0 */
  size_t left;   /* elements from p on in its segment (0: look up) */
} seg_reader;

/* Places r at element i (read by the next reader_take). */
static void reader_seek(seg_reader *r, const pb__segvec *v, size_t i) {
  r->v = v;
  r->i = i;
  r->p = NULL;
  r->left = 0;
}

/* The next run of at most `want` (> 0) consecutive elements, all below the
 * snapshot's count; *got gets its length. The cursor moves past them. */
static inline const void *reader_take(seg_reader *r, size_t want, size_t *got) {
  if (!r->left) r->p = pb__segvec_run(r->v, r->i, &r->left);
  size_t m = r->left < want ? r->left : want;
  const void *e = r->p;
  r->p += m * r->v->elem;
  r->left -= m;
  r->i += m;
  *got = m;
  return e;
}

/* A forward cursor over a side table of pb__recx (sorted by rec, one entry per key). */
typedef struct side_reader {
  const pb__segvec *v;
  size_t i; /* the first entry whose key is not below the last key asked */
} side_reader;

/* Places r at the first entry of v whose key is key or more. */
static void side_seek(side_reader *r, const pb__segvec *v, uint64_t key) {
  size_t lo = 0, hi = v->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (((const pb__recx *)pb__segvec_at(v, mid))->rec < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  r->v = v;
  r->i = lo;
}

/* The value for key (keys asked in increasing order), 0 when absent. */
static uint64_t side_find(side_reader *r, uint64_t key) {
  for (; r->i < r->v->n; r->i++) {
    const pb__recx *e = pb__segvec_at(r->v, r->i);
    if (e->rec >= key) return e->rec == key ? e->val : 0;
  }
  return 0;
}

/* Whether key (keys asked in increasing order) has an entry; its value in *val. */
static bool side_get(side_reader *r, uint64_t key, uint64_t *val) {
  for (; r->i < r->v->n; r->i++) {
    const pb__recx *e = pb__segvec_at(r->v, r->i);
    if (e->rec < key) continue;
    *val = e->val;
    return e->rec == key;
  }
  return false;
}

/* One iteration as the writers see it. Its records in order: those stored in the nrec
 * units from `first`, with the derived gstop (vg) before the first stored at or after unit
 * first + nclose. */
typedef struct iter_view {
  const pb__iter *it;
  bool closed;
  bool vg;         /* its gstop record is derived */
  uint64_t global; /* GLOBAL in ns, 0 while open */
  int64_t start;   /* START_TIME in wall ns */
  int64_t stop;    /* STOP_TIME in wall ns, 0 while open */
  uint64_t first;  /* index of its first unit in recs */
  uint32_t nrec;   /* its units, HI words included */
  uint32_t nclose; /* of those, units before the close (all, unless steps followed gstop) */
  uint32_t nlog;   /* (set by load_recs) records written: those stored, and the derived gstop */
  uint64_t crono;  /* (set by load_recs) GLOBAL's crono_counter: records before the close,
                    * gstop included */
  uint64_t span;   /* GLOBAL + lead: the time of all records before the close */
} iter_view;

/* Iterations in increasing index order, with their side tables. */
typedef struct iter_reader {
  const snap *s;
  seg_reader iters;
  side_reader wide, lead, close;
  size_t ck;           /* next entry of s->ickpt */
  size_t next;         /* the iteration iters_at reads next */
  uint64_t next_first; /* its first record unit, unless it has a checkpoint */
  int64_t prev_stop;   /* STOP_TIME of the one before it */
} iter_reader;

static inline void iters_at(iter_reader *r, size_t i, iter_view *v);
static void iters_skip(iter_reader *r, size_t i);

/* The last checkpoint of s at or before iteration i (s has one for iteration 0 unless that
 * is its last iteration, read from s->last_*): its entry index, or SIZE_MAX for none. */
static size_t ckpt_floor(const snap *s, size_t i) {
  size_t lo = 0, hi = s->ickpt.n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (((const pb__ickpt *)pb__segvec_at(&s->ickpt, mid))->iter <= i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo ? lo - 1 : SIZE_MAX;
}

/* Places r before iteration `from`: a walk from the last checkpoint at or before it (fewer
 * than PB__ITER_CKPT iterations), which gives its first record unit and START_TIME. */
static void iters_init(iter_reader *r, const snap *s, size_t from) {
  size_t c = ckpt_floor(s, from);
  size_t start = c == SIZE_MAX ? 0 : ((const pb__ickpt *)pb__segvec_at(&s->ickpt, c))->iter;
  r->s = s;
  reader_seek(&r->iters, &s->iters, start);
  side_seek(&r->wide, &s->iwide, start);
  side_seek(&r->lead, &s->ilead, start);
  side_seek(&r->close, &s->iclose, start);
  r->ck = c == SIZE_MAX ? 0 : c;
  r->next = start;
  r->next_first = 0;
  r->prev_stop = 0;
  iter_view v;
  for (size_t i = start; i < from; i++) iters_at(r, i, &v);
}

/* Places r before iteration i, asked out of order (write_memory skips iterations without
 * memory records): a walk on from where r is, or from the last checkpoint at or before i
 * when that is nearer or i lies behind r. */
static __attribute__((noinline)) void iters_skip(iter_reader *r, size_t i) {
  size_t c = ckpt_floor(r->s, i);
  size_t ck = c == SIZE_MAX ? 0 : ((const pb__ickpt *)pb__segvec_at(&r->s->ickpt, c))->iter;
  if (i < r->next || ck > r->next) {
    iters_init(r, r->s, i);
    return;
  }
  iter_view v;
  while (r->next < i) iters_at(r, r->next, &v);
}

/* The derived gstop's time: what the span leaves over the records before it (`pre`). */
static inline uint64_t vg_ns(const iter_view *v, uint64_t pre) { return v->span - pre; }

/* Iteration i (the one after the last asked, or any later one: iters_skip), with its side
 * tables' values: GLOBAL (0 while open), START_TIME, STOP_TIME = START_TIME + GLOBAL + lead,
 * the span, its first record unit and the unit counts. */
static inline __attribute__((always_inline)) void iters_at(iter_reader *r, size_t i, iter_view *v) {
  size_t got;
  if (__builtin_expect(i != r->next, 0)) iters_skip(r, i);
  const pb__iter *it = reader_take(&r->iters, 1, &got);
  bool last = i + 1 == r->s->iters.n;
  if (last) it = &r->s->last; /* the store's may be changing: not read */
  v->it = it;
  v->closed = pb__iter_closed(it);
  if (it->global_ns == PB__ITER_WIDE)
    v->global = side_find(&r->wide, i);
  else
    v->global = v->closed ? it->global_ns : 0;
  int64_t lead = v->closed && r->lead.i < r->lead.v->n ? (int64_t)side_find(&r->lead, i) : 0;
  const pb__segvec *ck = &r->s->ickpt;
  const pb__ickpt *e = r->ck < ck->n ? pb__segvec_at(ck, r->ck) : NULL;
  if (last) {
    v->first = r->s->last_first;
    v->start = r->s->last_start;
  } else if (e && e->iter == i) {
    v->first = e->first;
    v->start = e->start_wall_ns;
    r->ck++;
  } else {
    v->first = r->next_first;
    v->start = r->prev_stop + (int64_t)it->lead_in;
  }
  v->stop = v->closed ? v->start + (int64_t)v->global + lead : 0;
  v->span = v->global + (uint64_t)lead;
  v->nrec = pb__iter_nrec(it);
  v->vg = pb__iter_vgstop(it);
  uint64_t at_close;
  bool after = r->close.i < r->close.v->n && side_get(&r->close, i, &at_close);
  v->nclose = after ? (uint32_t)at_close : v->nrec;
  v->nlog = 0;
  v->crono = 0;
  r->next = i + 1;
  r->next_first = v->first + v->nrec;
  r->prev_stop = v->stop;
}

/* Time records in increasing index order, with their side tables. */
typedef struct rec_reader {
  seg_reader recs;
  side_reader longs, xrecs, xtopics;
} rec_reader;

static void recs_init(rec_reader *r, const snap *s, uint64_t first) {
  reader_seek(&r->recs, &s->recs, first);
  side_seek(&r->longs, &s->longs, first);
  side_seek(&r->xrecs, &s->xrecs, first);
  side_seek(&r->xtopics, &s->xtopics, first);
}

/* A HI word's gap bits, in place (pb__rec). */
static inline uint64_t hi_bits(uint32_t w) {
  return (uint64_t)((w >> PB__REC_HI_SHIFT) & PB__REC_HI_LONG) << PB__REC_GBITS;
}

/* hi_bits of a HI word saying that the gap is in the side table of long gaps. */
#define HI_LONG_BITS ((uint64_t)PB__REC_HI_LONG << PB__REC_GBITS)

/* A record's gap in ns: word w after HI bits hi (0: no HI word), the long ones from the side
 * table, asked in record order (k: the record's index). */
static inline uint64_t rec_ns(uint32_t w, uint64_t hi, side_reader *longs, uint64_t k) {
  if (__builtin_expect(hi == HI_LONG_BITS, 0)) return side_find(longs, k);
  return (uint64_t)pb__rec_gap(w) | hi;
}

/* A record's topic id (wide ones from the side table, asked in record order). */
static inline uint32_t rec_topic(uint32_t w, side_reader *xtopics, uint64_t k) {
  uint32_t t = w & PB__REC_TMASK;
  return t != PB__REC_TESC ? t : (uint32_t)side_find(xtopics, k);
}

/*
 * Runs body for each record stored in the n units from `first`, in order, its HI word folded
 * in: k0 is the index of its first unit (its HI word's, if it has one), t its topic id, ns
 * its gap and xt its extra (index + 1 into the extras table, 0 for none); wide ids, long
 * gaps and extras come from rr's side tables. body may not use continue or break.
 */
#define FOR_RECS(rr, first, n, k0, t, ns, xt, body)                           \
  do {                                                                        \
    seg_reader *rd_ = &(rr)->recs;                                            \
    if (rd_->i != (first)) reader_seek(rd_, rd_->v, (first));                 \
    uint64_t hi_ = 0, start_ = (first);                                       \
    uint32_t half_ = 0; /* a word's first unit, waiting for its second */     \
    for (uint64_t k_ = (first), end_ = (first) + (n); k_ < end_;) {           \
      size_t m_;                                                              \
      const pb__rec *run_ = reader_take(rd_, end_ - k_, &m_);                 \
      for (size_t j_ = 0; j_ < m_; j_++, k_++) {                              \
        uint32_t u_ = run_[j_].u, t, xt __attribute__((unused)) = 0;          \
        uint64_t ns;                                                          \
        if (!half_ && !(u_ & PB__REC_UTAG)) { /* a short record */            \
          t = u_ >> PB__REC_SBITS;                                            \
          ns = u_ & (PB__REC_SGAP_LIM - 1);                                   \
        } else if (!half_) {                                                  \
          half_ = u_;                                                         \
          continue;                                                           \
        } else {                                                              \
          uint32_t w_ = half_ << 16 | u_;                                     \
          half_ = 0;                                                          \
          if (pb__rec_is_hi(w_)) {                                            \
            hi_ = hi_bits(w_);                                                \
            continue;                                                         \
          }                                                                   \
          t = rec_topic(w_, &(rr)->xtopics, k_);                              \
          ns = rec_ns(w_, hi_, &(rr)->longs, k_);                             \
          if (w_ & PB__REC_EXTRA) xt = (uint32_t)side_find(&(rr)->xrecs, k_); \
          hi_ = 0;                                                            \
        }                                                                     \
        uint64_t k0 = start_;                                                 \
        start_ = k_ + 1;                                                      \
        body;                                                                 \
      }                                                                       \
    }                                                                         \
  } while (0)

/*
 * Loads the records stored in the n units from `first` (not below any loaded before) into
 * x->ns, topic, extra; returns how many. *at gets the position of the first record whose
 * units start at unit first + close or later (the count when none does).
 */
static uint32_t load_stored(rec_reader *r, scratch *x, uint64_t first, uint32_t n, uint32_t close,
                            uint32_t *at) {
  uint32_t j = 0;
  *at = UINT32_MAX;
  FOR_RECS(r, first, n, k0, t, ns, xt, {
    if (*at == UINT32_MAX && k0 >= first + close) *at = j;
    x->ns[j] = ns;
    x->topic[j] = t;
    x->extra[j] = xt;
    j++;
  });
  if (*at == UINT32_MAX) *at = j;
  return j;
}

/* Moves the loaded records from position c on one place up (steps after gstop). */
static __attribute__((noinline)) void make_room(scratch *x, uint32_t c, uint32_t n) {
  memmove(x->ns + c + 1, x->ns + c, (n - c) * sizeof *x->ns);
  memmove(x->topic + c + 1, x->topic + c, (n - c) * sizeof *x->topic);
  memmove(x->extra + c + 1, x->extra + c, (n - c) * sizeof *x->extra);
}

/* Loads iteration v's records (not below any loaded before) into x: the stored ones, and the
 * derived gstop at the close. Sets v->nlog and v->crono. */
static void load_recs(const snap *s, rec_reader *r, scratch *x, iter_view *v) {
  uint32_t c;
  uint32_t n = load_stored(r, x, v->first, v->nrec, v->nclose, &c);
  v->nlog = n + v->vg;
  v->crono = (uint64_t)c + v->vg;
  if (!v->vg) return;
  uint64_t pre = 0;
  for (uint32_t j = 0; j < c; j++) pre += x->ns[j];
  if (c < n) make_room(x, c, n);
  x->ns[c] = vg_ns(v, pre);
  x->topic[c] = s->t_gstop;
  x->extra[c] = 0;
}

/* Memory records of iterations below `iter` (they are sorted by iteration). */
static size_t mrecs_below(const pb__segvec *mrecs, uint64_t iter) {
  size_t lo = 0, hi = mrecs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (((const pb__mrec *)pb__segvec_at(mrecs, mid))->iter < iter)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/*
 * Copies the stores' counts and the last iteration under b->lock. Without
 * with_open, an open last iteration is left out (an auto-save writes what
 * was closed, as before the next iteration opened): the counts stop before
 * it, and the iteration before it, which no step can change any more, is
 * the snapshot's last.
 */
static void take_snapshot(pb_bench *b, snap *s, bool with_open) {
  unsigned own = pb__bench_lock(b, false);
  s->recs = b->recs;
  s->longs = b->longs;
  s->xrecs = b->xrecs;
  s->xtopics = b->xtopics;
  s->iters = b->iters;
  s->iwide = b->iwide;
  s->ilead = b->ilead;
  s->ickpt = b->ickpt;
  s->iclose = b->iclose;
  s->t_gstop = b->t_gstop;
  s->mrecs = b->mrecs;
  s->extras = b->extras;
  s->topics = b->topics.infos;
  s->all_iters = b->iters.n;
  if (b->iters.n) s->last = *(pb__iter *)pb__segvec_at(&b->iters, b->iters.n - 1);
  s->last_first = b->cur_first;
  s->last_start = b->cur_start;
  if (!with_open && b->iters.n && !pb__iter_closed(&s->last)) {
    s->iters.n--;
    s->recs.n = b->cur_first;
    s->mrecs.n = mrecs_below(&s->mrecs, s->iters.n);
    if (s->iters.n) s->last = *(pb__iter *)pb__segvec_at(&b->iters, s->iters.n - 1);
    s->last_first = b->prev_first;
    s->last_start = b->prev_start;
  }
  /* The last iteration's checkpoint may still change (restart_iter_clocks): its values
   * are read from s->last_* instead, and the checkpoint is left out. */
  while (s->ickpt.n &&
         ((const pb__ickpt *)pb__segvec_at(&s->ickpt, s->ickpt.n - 1))->iter + 1 >= s->iters.n) {
    s->ickpt.n--;
  }
  pb__bench_unlock(b, own);
}

static const pb__iter *iter_at(const snap *s, size_t i) {
  return i + 1 == s->iters.n ? &s->last : pb__segvec_at(&s->iters, i);
}

/* Index of iteration i's first record unit. */
static uint64_t iter_first(const snap *s, size_t i) {
  iter_reader r;
  iter_view v;
  iters_init(&r, s, i);
  iters_at(&r, i, &v);
  return v.first;
}

static const pb__topic_info *topic_at(const snap *s, uint32_t id) {
  return pb__segvec_at(&s->topics, id);
}

/* Quotes (escapes) a topic's name, with an optional suffix inside the quotes. */
static char *quote(const pb__topic_info *ti, const char *suffix, size_t *len) {
  /* worst case: all \uXXXX; KEY_PAD zero bytes after the text (see put_key) */
  size_t cap = (size_t)ti->len * 6 + strlen(suffix) + 3 + KEY_PAD;
  pb__out tmp = {.fd = -1, .buf = malloc(cap), .cap = cap};
  if (!tmp.buf) return NULL;
  pb__json_string(&tmp, ti->name, ti->len);
  if (*suffix) { /* insert before the closing quote */
    tmp.len--;
    pb__out_write(&tmp, suffix, strlen(suffix));
    pb__out_char(&tmp, '"');
  }
  memset(tmp.buf + tmp.len, 0, cap - tmp.len);
  *len = tmp.len;
  return tmp.buf;
}

/* The set's slot for text q: the id + 1 holding it, or an empty slot. */
static size_t *set_slot(struct pb__qcache *c, const char *q, size_t len) {
  size_t mask = c->nslots - 1;
  for (size_t i = pb__hash_slot(q, len) & mask;; i = (i + 1) & mask) {
    size_t k = c->set[i];
    if (!k || (c->len[k - 1] == len && memcmp(c->quoted[k - 1], q, len) == 0)) return &c->set[i];
  }
}

/* Room for topics up to n (arrays and a set at most half full). */
static int qcache_reserve(struct pb__qcache *c, size_t n) {
  if (n > c->cap) {
    size_t cap = c->cap ? c->cap : 64;
    while (cap < n) cap *= 2;
    char **q = realloc(c->quoted, cap * sizeof *q);
    if (!q) return PB_ENOMEM;
    c->quoted = q;
    size_t *len = realloc(c->len, cap * sizeof *len);
    if (!len) return PB_ENOMEM;
    c->len = len;
    c->cap = cap;
  }
  if (2 * n <= c->nslots) return PB_OK;
  size_t nslots = c->nslots ? c->nslots : 128;
  while (2 * n > nslots) nslots *= 2;
  size_t *set = calloc(nslots, sizeof *set);
  if (!set) return PB_ENOMEM;
  free(c->set);
  c->set = set;
  c->nslots = nslots;
  for (size_t id = 0; id < c->n; id++) {
    size_t *slot = set_slot(c, c->quoted[id], c->len[id]);
    if (!*slot) *slot = id + 1;
  }
  return PB_OK;
}

/*
 * Quotes topic c->n: unique within the files, as two names that differ only
 * in invalid UTF-8 (each bad byte becomes U+FFFD), or a user topic called
 * "GLOBAL", would otherwise give duplicate keys. A topic whose text an earlier
 * topic has (as written, suffix included), or "GLOBAL" (reserved for the
 * iteration's own time), gets "~<id>" appended (again if that is taken too).
 */
static int qcache_add(struct pb__qcache *c, const pb__topic_info *ti) {
  size_t id = c->n, len;
  char *q = quote(ti, "", &len);
  if (!q) return PB_ENOMEM;
  size_t *slot = set_slot(c, q, len);
  bool taken = *slot || (len == 8 && memcmp(q, "\"GLOBAL\"", 8) == 0);
  char suffix[128] = "";
  for (int k = 0; taken && k < 4; k++) { /* "~<id>", then "~<id>~<id>" if a topic has that */
    size_t used = strlen(suffix);
    snprintf(suffix + used, sizeof suffix - used, "~%zu", id);
    free(q);
    q = quote(ti, suffix, &len);
    if (!q) return PB_ENOMEM;
    slot = set_slot(c, q, len);
    taken = *slot != 0;
  }
  if (!*slot) *slot = id + 1;
  c->quoted[id] = q;
  c->len[id] = len;
  c->n = id + 1;
  return PB_OK;
}

/* Brings b's cache up to the snapshot's topics and points s at it. */
static int quote_topics(pb_bench *b, snap *s) {
  struct pb__qcache *c = b->qcache;
  long pid = (long)getpid();
  if (c && c->pid != pid && c->busy) c = NULL; /* forked mid-update: abandoned (see above) */
  if (!c) c = calloc(1, sizeof *c);
  if (!c) return PB_ENOMEM;
  b->qcache = c;
  c->pid = pid;
  c->busy = true;
  int rc = qcache_reserve(c, s->topics.n);
  while (rc == PB_OK && c->n < s->topics.n) rc = qcache_add(c, topic_at(s, (uint32_t)c->n));
  c->busy = false;
  s->quoted = c->quoted;
  s->quoted_len = c->len;
  return rc;
}

void pb__bench_write_free(pb_bench *b) {
  struct pb__qcache *c = b->qcache;
  if (!c) return;
  for (size_t id = 0; id < c->n; id++) free(c->quoted[id]);
  free(c->quoted);
  free(c->len);
  free(c->set);
  free(c->stamp);
  free(c->local);
  free(c);
  b->qcache = NULL;
}

/* Per-topic arrays for ntopics topics (new ones zeroed), kept in c. */
static int scratch_init(scratch *x, struct pb__qcache *c, size_t ntopics) {
  memset(x, 0, sizeof *x);
  x->wall.whole = UINT64_MAX;
  x->prev_n = UINT32_MAX;
  if (ntopics > c->ntopics || !c->stamp) {
    c->busy = true; /* see struct pb__qcache */
    size_t n = ntopics ? ntopics : 1;
    uint64_t *stamp = realloc(c->stamp, n * sizeof *stamp);
    if (stamp) c->stamp = stamp;
    uint32_t *local = realloc(c->local, n * sizeof *local);
    if (local) c->local = local;
    if (!stamp || !local) return PB_ENOMEM; /* busy stays set: a child rebuilds */
    memset(c->stamp + c->ntopics, 0, (n - c->ntopics) * sizeof *stamp);
    memset(c->local + c->ntopics, 0, (n - c->ntopics) * sizeof *local);
    c->ntopics = n;
    c->busy = false;
  }
  x->stamp = c->stamp;
  x->local = c->local;
  x->epoch = &c->epoch;
  return PB_OK;
}

/* Grows an array to cap elements of size elem; false (the old one kept) when out of memory. */
static bool grow(void *pp, size_t cap, size_t elem) {
  void *p = realloc(*(void **)pp, cap * elem);
  if (p) *(void **)pp = p;
  return p != NULL;
}

/* Room for n records (or memory records) of one iteration. */
static int scratch_reserve(scratch *x, size_t n) {
  if (n <= x->cap && x->order) return PB_OK;
  size_t cap = n < 64 ? 64 : n;
  bool ok = grow(&x->ns, cap, sizeof *x->ns);
  ok = grow(&x->topic, cap, sizeof *x->topic) && ok;
  ok = grow(&x->extra, cap, sizeof *x->extra) && ok;
  ok = grow(&x->txt, cap, TXT) && ok;
  ok = grow(&x->txt_len, cap, sizeof *x->txt_len) && ok;
  ok = grow(&x->prev_topic, cap, sizeof *x->prev_topic) && ok;
  ok = grow(&x->order, cap, sizeof *x->order) && ok;
  ok = grow(&x->start, cap + 1, sizeof *x->start) && ok;
  ok = grow(&x->calls, cap, sizeof *x->calls) && ok;
  if (!ok) return PB_ENOMEM;
  x->cap = cap;
  return PB_OK;
}

static void scratch_free(scratch *x) {
  free(x->ns);
  free(x->topic);
  free(x->extra);
  free(x->txt);
  free(x->txt_len);
  free(x->prev_topic);
  free(x->order);
  free(x->start);
  free(x->calls);
}

/*
 * Groups the n records in x->topic[0..n) by topic in first-use order.
 * Returns the number of topics; topic p is x->order[p], its records'
 * positions x->calls[x->start[p] .. x->start[p+1]), ascending.
 */
static uint32_t group(scratch *x, uint32_t n) {
  uint32_t nt = 0;
  uint64_t epoch = ++*x->epoch;
  x->prev_n = UINT32_MAX; /* group_cached's grouping is gone */
  for (uint32_t j = 0; j < n; j++) {
    uint32_t t = x->topic[j];
    if (x->stamp[t] != epoch) {
      x->stamp[t] = epoch;
      x->local[t] = nt;
      x->order[nt] = t;
      x->start[nt] = 0;
      nt++;
    }
    x->start[x->local[t]]++;
  }
  if (nt == n) { /* the common case: every topic once, in record order */
    for (uint32_t p = 0; p <= n; p++) x->start[p] = p;
    for (uint32_t j = 0; j < n; j++) x->calls[j] = j;
    return nt;
  }
  uint32_t acc = 0;
  for (uint32_t p = 0; p < nt; p++) { /* counts -> start offsets */
    uint32_t c = x->start[p];
    x->start[p] = acc;
    acc += c;
  }
  x->start[nt] = acc;
  for (uint32_t j = 0; j < n; j++) x->calls[x->start[x->local[x->topic[j]]]++] = j;
  for (uint32_t p = nt; p > 0; p--) x->start[p] = x->start[p - 1]; /* shift starts back */
  x->start[0] = 0;
  return nt;
}

/* group(), or the grouping already made when the topics are the last iteration's: a loop
 * records the same steps in the same order, iteration after iteration. */
static uint32_t group_cached(scratch *x, uint32_t n) {
  if (n == x->prev_n && memcmp(x->topic, x->prev_topic, (size_t)n * sizeof *x->topic) == 0)
    return x->prev_nt;
  uint32_t nt = group(x, n);
  memcpy(x->prev_topic, x->topic, (size_t)n * sizeof *x->topic);
  x->prev_n = n;
  x->prev_nt = nt;
  return nt;
}

/* ---- writing in place ----
 * The writers below keep the buffer's write position in a local pointer q
 * (its end in `end`) and check the room once per piece of bounded size,
 * instead of going through pb__out_write per token (issue 15, item 6). */

/* Literal s at q (a constant size: a few moves, no call). */
#define PUT(q, s) (memcpy((q), (s), sizeof(s) - 1), (q) += sizeof(s) - 1)

/* q, or the buffer's start after flushing what lies before q, with room for n (<= cap). */
static inline char *need(pb__out *o, char *q, const char *end, size_t n) {
  if ((size_t)(end - q) >= n) return q;
  o->len = (size_t)(q - o->buf);
  pb__out_flush(o);
  return o->buf;
}

/* n bytes of t at q, of any length. */
static char *put_text(pb__out *o, char *q, const char *end, const char *t, size_t n) {
  if ((size_t)(end - q) >= n) return (char *)memcpy(q, t, n) + n;
  o->len = (size_t)(q - o->buf);
  pb__out_write(o, t, n);
  return o->buf + o->len;
}

/* A topic's name as a JSON string; names up to KEY_PAD bytes (padded) move as one block. */
static inline char *put_key(pb__out *o, char *q, const char *end, const snap *s, uint32_t id) {
  size_t len = s->quoted_len[id];
  if (len > KEY_PAD) return put_text(o, q, end, s->quoted[id], len);
  q = need(o, q, end, KEY_PAD);
  memcpy(q, s->quoted[id], KEY_PAD);
  return q + len;
}

/* An unsigned integer; small ones (counters) without a call. Needs 24 bytes of room. */
static inline char *put_uint(char *q, uint64_t v) {
  if (v < 10) {
    *q = (char)('0' + v);
    return q + 1;
  }
  return pb__json_uint_at(q, v);
}

/* A signed wall time in ns / 1e9. Needs 40 bytes of room. */
static char *put_wall(char *q, int64_t ns, wall_text *w) {
  if (ns < 0) *q++ = '-';
  uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
  uint64_t whole = u / 1000000000u;
  if (whole != w->whole) { /* at most 11 digits: 16 bytes with the writer's slack */
    w->len = (size_t)(pb__json_uint_at(w->txt, whole) - w->txt);
    w->whole = whole;
  }
  memcpy(q, w->txt, 16);
  return pb__frac_at(q + w->len, (uint32_t)(u - whole * 1000000000u));
}

/* "info":{...}. Needs 160 bytes of room. */
static char *put_info(char *q, size_t step, const iter_view *v, wall_text *w) {
  PUT(q, "\"info\":{\"STEP_NUMBER\":");
  q = put_uint(q, step);
  PUT(q, ",\"START_TIME\":");
  q = put_wall(q, v->start, w);
  PUT(q, ",\"STOP_TIME\":");
  if (v->stop)
    q = put_wall(q, v->stop, w);
  else
    *q++ = '0';
  *q++ = '}';
  return q;
}

static void write_info(pb__out *o, size_t step, const iter_view *v, wall_text *w) {
  char *q = need(o, o->buf + o->len, o->buf + o->cap, 160);
  o->len = (size_t)(put_info(q, step, v, w) - o->buf);
}

/* ns / 1e9; times below a second (most) without a call. */
static inline char *put_secs(char *q, uint64_t ns) {
  if (ns >= 1000000000u) return pb__json_seconds_at(q, ns);
  *q = '0';
  return pb__frac_at(q + 1, (uint32_t)ns);
}

/* Formats each loaded record's call head and time once: {"time":<seconds>. A topic
 * called once shares the time with its absolute. */
static void format_times(scratch *x, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    char *t = x->txt + (size_t)j * TXT;
    memcpy(t, "{\"time\":", HEAD);
    x->txt_len[j] = (uint8_t)(put_secs(t + HEAD, x->ns[j]) - t);
  }
}

/* Record j's time at q. Needs TXT bytes of room. */
static inline char *put_time(char *q, const scratch *x, uint32_t j) {
  memcpy(q, x->txt + (size_t)j * TXT + HEAD, TXT - HEAD);
  return q + x->txt_len[j] - HEAD;
}

/* "absolutes" members: per topic, the sum of its calls. */
static char *put_absolutes(pb__out *o, char *q, const char *end, const snap *s, const scratch *x,
                           uint32_t nt) {
  for (uint32_t p = 0; p < nt; p++) {
    if (p) *q++ = ','; /* room: the last need() left TXT bytes past the number */
    q = put_key(o, q, end, s, x->order[p]);
    q = need(o, q, end, TXT + 2);
    *q++ = ':';
    uint32_t a = x->start[p], b = x->start[p + 1];
    if (b - a == 1) {
      q = put_time(q, x, x->calls[a]);
    } else {
      uint64_t sum = 0;
      for (uint32_t c = a; c < b; c++) sum += x->ns[x->calls[c]];
      q = put_secs(q, sum);
    }
  }
  return q;
}

/* put_call's general case, after the time: a counter of two digits or more, or an extra. */
static __attribute__((noinline)) char *put_call_rest(pb__out *o, char *q, const char *end,
                                                     const snap *s, const scratch *x, uint32_t j) {
  PUT(q, ",\"crono_counter\":");
  q = put_uint(q, j);
  if (!x->extra[j]) {
    PUT(q, ",\"extra\":null}");
    return q;
  }
  PUT(q, ",\"extra\":");
  const char *text = *(const char **)pb__segvec_at(&s->extras, x->extra[j] - 1);
  q = put_text(o, q, end, text, strlen(text));
  q = need(o, q, end, 1);
  *q++ = '}';
  return q;
}

/* One call: {"time":..,"crono_counter":..,"extra":..}, after a comma unless the first. */
static inline char *put_call(pb__out *o, char *q, const char *end, const snap *s, const scratch *x,
                             uint32_t j, bool comma) {
  static const char tail[] = ",\"crono_counter\":0,\"extra\":null}"; /* 32 bytes */
  q = need(o, q, end, 128);
  *q = ',';
  q += comma;
  memcpy(q, x->txt + (size_t)j * TXT, TXT);
  q += x->txt_len[j];
  if (j >= 10 || x->extra[j]) return put_call_rest(o, q, end, s, x, j);
  memcpy(q, tail, sizeof tail - 1); /* the common case: one block, the digit patched in */
  q[17] = (char)('0' + j);
  return q + sizeof tail - 1;
}

/* "individual_calls" members: per topic, its calls. */
static char *put_calls(pb__out *o, char *q, const char *end, const snap *s, const scratch *x,
                       uint32_t nt) {
  for (uint32_t p = 0; p < nt; p++) {
    q = need(o, q, end, 1);
    if (p) *q++ = ',';
    q = put_key(o, q, end, s, x->order[p]);
    q = need(o, q, end, 2);
    PUT(q, ":[");
    for (uint32_t c = x->start[p]; c < x->start[p + 1]; c++) {
      q = put_call(o, q, end, s, x, x->calls[c], c > x->start[p]);
    }
    q = need(o, q, end, 1);
    *q++ = ']';
  }
  return q;
}

/* Iteration i, its records loaded in x. */
static void write_data_iter(pb__out *o, const snap *s, scratch *x, size_t i, const iter_view *v,
                            bool first, bool journal) {
  uint32_t nt = group_cached(x, v->nlog);
  format_times(x, v->nlog);
  char global[TXT];
  size_t global_len = (size_t)(put_secs(global, v->global) - global);
  char *q = o->buf + o->len, *end = o->buf + o->cap;
  q = need(o, q, end, 32);
  if (!first && journal)
    PUT(q, ",");
  else if (!first)
    PUT(q, ",\n");
  PUT(q, "{\"absolutes\":{");
  q = put_absolutes(o, q, end, s, x, nt);
  q = need(o, q, end, 288);
  if (v->closed) {
    if (nt)
      PUT(q, ",\"GLOBAL\":");
    else
      PUT(q, "\"GLOBAL\":");
    q = (char *)memcpy(q, global, 32) + global_len; /* at most 21 bytes and slack */
  }
  PUT(q, "},");
  q = put_info(q, i, v, &x->wall);
  PUT(q, ",\"individual_calls\":{");
  q = put_calls(o, q, end, s, x, nt);
  q = need(o, q, end, 128);
  if (v->closed) {
    if (nt)
      PUT(q, ",\"GLOBAL\":[{\"time\":");
    else
      PUT(q, "\"GLOBAL\":[{\"time\":");
    q = (char *)memcpy(q, global, 32) + global_len; /* at most 21 bytes and slack */
    PUT(q, ",\"crono_counter\":");
    q = put_uint(q, v->crono);
    PUT(q, "}]");
  }
  PUT(q, "}}");
  o->len = (size_t)(q - o->buf);
}

/* Separator between two iterations: a newline in full files, none in a journal line. */
static const char *iter_sep(bool journal) { return journal ? ",{" : ",\n{"; }

/* Opens a full file (temporary + rename) or a journal (appended to). */
static int open_out(pb__out *o, const char *path, bool journal) {
  return journal ? pb__out_open_append(o, path) : pb__out_open(o, path);
}

/* Writes iterations [from, to) as a DATA file, or as one line of its journal. */
static int write_data(const char *path, const snap *s, scratch *x, size_t from, size_t to,
                      bool journal) {
  pb__out o;
  int rc = open_out(&o, path, journal);
  if (rc) return rc;
  iter_reader ir;
  rec_reader rr;
  iters_init(&ir, s, from);
  recs_init(&rr, s, from < to ? iter_first(s, from) : 0);
  pb__out_char(&o, '[');
  for (size_t i = from; i < to; i++) {
    iter_view v;
    iters_at(&ir, i, &v);
    load_recs(s, &rr, x, &v);
    write_data_iter(&o, s, x, i, &v, i == from, journal);
  }
  pb__out_lit(&o, "]\n");
  return pb__out_commit(&o);
}

static void write_extra(pb__out *o, const snap *s, uint32_t extra) {
  if (!extra) {
    pb__out_lit(o, "null");
    return;
  }
  const char *text = *(const char **)pb__segvec_at(&s->extras, extra - 1);
  pb__out_lit(o, text);
}

static void write_opt_int(pb__out *o, int64_t v) {
  if (v == PB__NONE)
    pb__out_lit(o, "null");
  else
    pb__json_int(o, v);
}

static void write_mrec(pb__out *o, const snap *s, const pb__mrec *m) {
  pb__out_lit(o, "{\"total memory usage\":");
  write_opt_int(o, m->rss);
  pb__out_lit(o, ",\"cuda memory usage\":");
  write_extra(o, s, m->cuda);
  pb__out_lit(o, ",\"top_memory_objects\":[],\"crono_counter\":");
  pb__json_int(o, m->crono);
  pb__out_lit(o, ",\"extra\":");
  write_extra(o, s, m->extra);
  pb__out_lit(o, ",\"max memory usage\":");
  write_opt_int(o, m->peak);
  pb__out_lit(o, ",\"heap memory usage\":");
  write_opt_int(o, m->heap);
  pb__out_char(o, '}');
}

/* A topic's name as a JSON string, then `tail`. */
static void write_key(pb__out *o, const snap *s, uint32_t id, const char *tail) {
  char *end = o->buf + o->cap;
  o->len = (size_t)(put_key(o, o->buf + o->len, end, s, id) - o->buf);
  pb__out_lit(o, tail);
}

static const pb__mrec *mrec_at(const snap *s, size_t k) { return pb__segvec_at(&s->mrecs, k); }

/* One iteration's memory records mrecs[k, k + n), grouped by topic. */
static void write_memory_iter(pb__out *o, const snap *s, scratch *x, size_t k, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) x->topic[j] = mrec_at(s, k + j)->topic;
  uint32_t nt = group(x, n);
  for (uint32_t p = 0; p < nt; p++) {
    if (p) pb__out_char(o, ',');
    write_key(o, s, x->order[p], ":[");
    for (uint32_t c = x->start[p]; c < x->start[p + 1]; c++) {
      if (c > x->start[p]) pb__out_char(o, ',');
      write_mrec(o, s, mrec_at(s, k + x->calls[c]));
    }
    pb__out_char(o, ']');
  }
}

/* Writes the memory records of iterations [from, to) (sorted by iteration) as a MEMORY
 * file, or as one line of its journal. */
static int write_memory(const char *path, const snap *s, scratch *x, size_t from, size_t to,
                        bool journal) {
  pb__out o;
  int rc = open_out(&o, path, journal);
  if (rc) return rc;
  iter_reader ir;
  iters_init(&ir, s, from);
  pb__out_char(&o, '[');
  size_t k = mrecs_below(&s->mrecs, from), written = 0;
  while (k < s->mrecs.n && mrec_at(s, k)->iter < to) {
    uint64_t iter = mrec_at(s, k)->iter;
    size_t n = 1;
    while (k + n < s->mrecs.n && mrec_at(s, k + n)->iter == iter) n++;
    if (n > UINT32_MAX || scratch_reserve(x, n) != PB_OK) {
      o.err = o.err ? o.err : 12; /* ENOMEM: the file is not committed */
      break;
    }
    iter_view v;
    iters_at(&ir, (size_t)iter, &v);
    pb__out_lit(&o, written++ ? iter_sep(journal) : "{");
    write_info(&o, (size_t)iter, &v, &x->wall);
    pb__out_lit(&o, ",\"data\":{");
    write_memory_iter(&o, s, x, k, (uint32_t)n);
    pb__out_lit(&o, "}}");
    k += n;
  }
  pb__out_lit(&o, "]\n");
  return pb__out_commit(&o);
}

/* ---- summary ---- */

/*
 * The summary's per-iteration values: 32-bit when every one fits (issue 15,
 * item 6: half the save's extra memory), else 64-bit. Statistics are exact
 * either way; each loop over values exists for both widths (the macros
 * below), chosen once per call.
 */
typedef struct vals {
  void *p;
  bool wide; /* uint64_t elements, else uint32_t */
} vals;

/* One topic's statistics over its per-iteration values (ns). */
typedef struct stats {
  unsigned __int128 sum, fsum; /* all values; those inside the fences */
  uint64_t mn, mx;
  size_t fn; /* values inside the fences */
} stats;

/*
 * The k-th smallest of v[0..n) (quickselect; v is reordered so that v[0..k)
 * <= v[k] <= v[k+1..n)). The partitions are branch-free (Lomuto's, with the
 * swap made whatever the comparison says: an element not below the pivot
 * only moves within the upper part), since a branch per element mispredicts
 * half the time on measured times; a second pass gathers the values equal to
 * the pivot when k lies above the lower part, so that many equal values (a
 * common case) end the search instead of slowing it.
 */
#define SELECT_KTH(NAME, T)                                                            \
  static uint64_t NAME(T *v, size_t n, size_t k) {                                     \
    size_t lo = 0, hi = n; /* k lies in [lo, hi) */                                    \
    while (hi - lo > 1) {                                                              \
      T a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];                           \
      T pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b)); \
      size_t lt = lo; /* [lo, lt) < pivot <= [lt, i) */                                \
      for (size_t i = lo; i < hi; i++) {                                               \
        T x = v[i];                                                                    \
        v[i] = v[lt];                                                                  \
        v[lt] = x;                                                                     \
        lt += x < pivot;                                                               \
      }                                                                                \
      if (k < lt) {                                                                    \
        hi = lt;                                                                       \
        continue;                                                                      \
      }                                                                                \
      size_t eq = lt; /* [lt, eq) == pivot < [eq, i) */                                \
      for (size_t i = lt; i < hi; i++) {                                               \
        T x = v[i];                                                                    \
        v[i] = v[eq];                                                                  \
        v[eq] = x;                                                                     \
        eq += x == pivot;                                                              \
      }                                                                                \
      if (k < eq) return pivot;                                                        \
      lo = eq;                                                                         \
    }                                                                                  \
    return v[lo];                                                                      \
  }

/* The smallest of v[from..to) (from < to). */
#define MIN_OF(NAME, T)                                             \
  static uint64_t NAME(const T *v, size_t from, size_t to) {        \
    T m = v[from];                                                  \
    for (size_t i = from + 1; i < to; i++) m = v[i] < m ? v[i] : m; \
    return m;                                                       \
  }

/* Sum, smallest and largest of v[0..n). */
#define MOMENTS(NAME, T)                              \
  static void NAME(const T *v, size_t n, stats *st) { \
    unsigned __int128 sum = 0;                        \
    T mn = v[0], mx = v[0];                           \
    for (size_t i = 0; i < n; i++) {                  \
      sum += v[i];                                    \
      mn = v[i] < mn ? v[i] : mn;                     \
      mx = v[i] > mx ? v[i] : mx;                     \
    }                                                 \
    st->sum = sum;                                    \
    st->mn = mn;                                      \
    st->mx = mx;                                      \
  }

/* Sum and count of the values in [lo, hi]. */
#define FENCED(NAME, T)                                                         \
  static void NAME(const T *v, size_t n, uint64_t lo, uint64_t hi, stats *st) { \
    unsigned __int128 fsum = 0;                                                 \
    size_t fn = 0;                                                              \
    for (size_t i = 0; i < n; i++) {                                            \
      if (v[i] >= lo && v[i] <= hi) {                                           \
        fsum += v[i];                                                           \
        fn++;                                                                   \
      }                                                                         \
    }                                                                           \
    st->fsum = fsum;                                                            \
    st->fn = fn;                                                                \
  }

SELECT_KTH(select_kth64, uint64_t)
SELECT_KTH(select_kth32, uint32_t)
MIN_OF(min_of64, uint64_t)
MIN_OF(min_of32, uint32_t)
MOMENTS(moments64, uint64_t)
MOMENTS(moments32, uint32_t)
FENCED(fenced64, uint64_t)
FENCED(fenced32, uint32_t)

static uint64_t select_kth(vals *v, size_t n, size_t k) {
  return v->wide ? select_kth64(v->p, n, k) : select_kth32(v->p, n, k);
}

static uint64_t min_of(const vals *v, size_t from, size_t to) {
  return v->wide ? min_of64(v->p, from, to) : min_of32(v->p, from, to);
}

/* numpy's default percentile (linear interpolation, its lerp rounding) from the two
 * order statistics around its position: a = the lo-th smallest, b = the next. */
static double lerp_percentile(size_t n, double q, uint64_t a_ns, uint64_t b_ns) {
  double pos = (double)(n - 1) * (q / 100.0);
  size_t lo = (size_t)pos;
  double a = (double)a_ns / 1e9;
  if (lo + 1 >= n) return a;
  double b = (double)b_ns / 1e9;
  double t = pos - (double)lo;
  double d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* The index of the order statistic just below percentile q. */
static size_t pct_lo(size_t n, double q) { return (size_t)((double)(n - 1) * (q / 100.0)); }

/*
 * P25 and P75: one quickselect for P75's lower neighbour, whose partition
 * leaves the next one the smallest above it and P25's two below it, so a
 * second quickselect runs on the lower three quarters only (exact order
 * statistics, as a full sort would give).
 */
static void quartiles(vals *v, size_t n, double *p25, double *p75) {
  size_t k75 = pct_lo(n, 75), k25 = pct_lo(n, 25);
  uint64_t a75 = select_kth(v, n, k75);
  uint64_t b75 = k75 + 1 < n ? min_of(v, k75 + 1, n) : a75;
  uint64_t a25 = k25 < k75 ? select_kth(v, k75, k25) : a75;
  uint64_t b25 = k25 + 1 < k75 ? min_of(v, k25 + 1, k75) : (k25 + 1 == k75 ? a75 : b75);
  *p75 = lerp_percentile(n, 75, a75, b75);
  *p25 = lerp_percentile(n, 25, a25, b25);
}

/*
 * The values v whose seconds, (double)v / 1e9, lie in [lo, hi]: those in
 * [*vlo, *vhi]. The conversion and the division both round monotonically,
 * so each bound is found by bisection and the values are then compared as
 * integers, without a division each (the very values comparing seconds
 * keeps). False when none qualifies (or a bound is NaN).
 */
static bool fence_ns(double lo, double hi, uint64_t *vlo, uint64_t *vhi) {
  if (!((double)UINT64_MAX / 1e9 >= lo) || !(0.0 <= hi)) return false;
  uint64_t a = 0, b = UINT64_MAX;
  while (a < b) { /* the smallest v at or above lo */
    uint64_t m = a + (b - a) / 2;
    if ((double)m / 1e9 >= lo)
      b = m;
    else
      a = m + 1;
  }
  *vlo = a;
  a = 0, b = UINT64_MAX;
  while (a < b) { /* the largest v at or below hi */
    uint64_t m = a + (b - a) / 2 + 1;
    if ((double)m / 1e9 <= hi)
      a = m;
    else
      b = m - 1;
  }
  *vhi = a;
  return *vlo <= *vhi;
}

/* Writes one topic's statistics from its n (> 0) per-iteration values (reordered). */
static void write_stats(pb__out *o, vals *v, size_t n) {
  stats st;
  if (v->wide)
    moments64(v->p, n, &st);
  else
    moments32(v->p, n, &st);
  double p75, p25;
  quartiles(v, n, &p25, &p75);
  double iqr = p75 - p25;
  double hi = p75 + 1.5 * iqr, lo = p25 - 1.5 * iqr;
  if (lo < 0) lo = 0;
  uint64_t vlo, vhi;
  st.fsum = 0;
  st.fn = 0;
  if (fence_ns(lo, hi, &vlo, &vhi)) {
    if (v->wide)
      fenced64(v->p, n, vlo, vhi, &st);
    else
      fenced32(v->p, n, vlo, vhi, &st);
  }
  pb__out_lit(o, "{\"mean\":");
  pb__json_double(o, (double)st.sum / (double)n / 1e9);
  pb__out_lit(o, ",\"min\":");
  pb__json_seconds(o, st.mx == 0 ? 0 : st.mn); /* the original's rule: 0 when all are 0 */
  pb__out_lit(o, ",\"max\":");
  pb__json_seconds(o, st.mx);
  pb__out_lit(o, ",\"quantile_filtered\":");
  if (st.fn)
    pb__json_double(o, (double)st.fsum / (double)st.fn / 1e9);
  else
    pb__out_lit(o, "null");
  pb__out_char(o, '}');
}

/* What the summary's first pass learns. */
typedef struct sum_plan {
  uint64_t *count;     /* per topic: iterations that use it */
  uint64_t *cur;       /* per topic: its sum in the iteration being read */
  uint32_t *first_use; /* topics in order of first use over the run */
  size_t nused;
  size_t closed;       /* closed iterations (GLOBAL's values) */
  bool wide;           /* some value needs 64 bits */
  bool flat;           /* records contiguous, no topic twice in an iteration: see fill_flat */
  uint64_t first, end; /* the iterations' records: [first, end) when flat */
} sum_plan;

/*
 * Runs body for each record of iteration v in order, its derived gstop
 * included, with t (topic id) and ns (gap) set. body runs in three places:
 * it may not use continue or break.
 */
#define FOR_ITER_RECS(rr, v, tg, t, ns, body)                  \
  do {                                                         \
    uint64_t pre_ = 0, close_ = (v)->first + (v)->nclose;      \
    bool vg_ = (v)->vg;                                        \
    FOR_RECS((rr), (v)->first, (v)->nrec, k0_, t_, ns_, xt_, { \
      if (vg_ && k0_ >= close_) {                              \
        uint32_t t = (tg);                                     \
        uint64_t ns = vg_ns((v), pre_);                        \
        vg_ = false;                                           \
        body;                                                  \
      }                                                        \
      uint32_t t = t_;                                         \
      uint64_t ns = ns_;                                       \
      if (k0_ < close_) pre_ += ns;                            \
      body;                                                    \
    });                                                        \
    if (vg_) {                                                 \
      uint32_t t = (tg);                                       \
      uint64_t ns = vg_ns((v), pre_);                          \
      body;                                                    \
    }                                                          \
  } while (0)

/* One record (topic t, gap ns) of iteration i in the first pass. */
static inline void plan_rec(sum_plan *pl, scratch *x, uint64_t stamp, uint32_t t, uint64_t ns) {
  uint64_t *count = pl->count, *cur = pl->cur;
  if (x->stamp[t] != stamp) {
    if (!count[t]) pl->first_use[pl->nused++] = t;
    x->stamp[t] = stamp;
    count[t]++;
    cur[t] = 0;
  } else {
    pl->flat = false;
  }
  cur[t] += ns;
  if (cur[t] > UINT32_MAX) pl->wide = true;
}

/* One iteration of the first pass. */
static void plan_iter(const snap *s, sum_plan *pl, scratch *x, rec_reader *rr, size_t i,
                      const iter_view *v) {
  uint64_t stamp = i + 1;
  FOR_ITER_RECS(rr, v, s->t_gstop, t, ns, plan_rec(pl, x, stamp, t, ns));
}

/*
 * First pass: per topic, the iterations using it (in order of first use over
 * the run); whether any value needs 64 bits; whether the records can be
 * read flat (fill_flat).
 */
static void plan_summary(const snap *s, scratch *x, sum_plan *pl) {
  iter_reader ir;
  rec_reader rr;
  iters_init(&ir, s, 0);
  pl->first = pl->end = s->iters.n ? iter_first(s, 0) : 0;
  recs_init(&rr, s, pl->first);
  pl->flat = true;
  for (size_t i = 0; i < s->iters.n; i++) {
    iter_view v;
    iters_at(&ir, i, &v);
    if (v.first != pl->end) pl->flat = false;
    pl->end = v.first + v.nrec;
    plan_iter(s, pl, x, &rr, i, &v);
    if (v.closed) {
      pl->closed++;
      if (v.global > UINT32_MAX) pl->wide = true;
    }
  }
}

/* Stores value ns at slot k. */
static inline void val_put(vals *v, size_t k, uint64_t ns) {
  if (v->wide)
    ((uint64_t *)v->p)[k] = ns;
  else
    ((uint32_t *)v->p)[k] = (uint32_t)ns; /* fits: plan_summary checked */
}

/* Adds ns to value slot k. */
static inline void val_add(vals *v, size_t k, uint64_t ns) {
  if (v->wide)
    ((uint64_t *)v->p)[k] += ns;
  else
    ((uint32_t *)v->p)[k] += (uint32_t)ns;
}

/* The iterations with a derived gstop, in order, for fill_flat. */
typedef struct vg_cursor {
  iter_reader ir;
  size_t i;       /* the iteration after the one at hand */
  iter_view v;    /* the one at hand */
  uint64_t first; /* index of its first stored record; UINT64_MAX: none left */
  uint64_t at;    /* index of the stored record its gstop comes before; UINT64_MAX: none */
  uint64_t base;  /* the running sum of gaps at `first` */
} vg_cursor;

/* Moves g to the next iteration with a derived gstop. */
static void vg_next(vg_cursor *g, const snap *s) {
  g->first = g->at = UINT64_MAX;
  while (g->i < s->iters.n) {
    iters_at(&g->ir, g->i++, &g->v);
    if (!g->v.vg) continue;
    g->first = g->v.first;
    g->at = g->v.first + g->v.nclose;
    return;
  }
}

/*
 * At stored record k, with `run` the gaps before it: notes the running sum where the
 * iteration at hand starts, and puts the derived gstop of every iteration whose gstop
 * comes before record k (empty ones may follow each other) into topic tg's values.
 */
static void vg_emit(vg_cursor *g, const snap *s, uint64_t k, uint64_t run, vals *v, uint64_t *off,
                    uint32_t tg) {
  for (;;) {
    if (k == g->first) g->base = run;
    if (k != g->at) return;
    val_put(v, off[tg]++, vg_ns(&g->v, run - g->base));
    vg_next(g, s);
  }
}

/*
 * Fills the values of the topics marked in x->local when the plan is flat:
 * each record is then its topic's whole value for its iteration, and the
 * iterations' records one run, so the pass reads the records alone, and the
 * iterations only for their derived gstop records (when gstop is asked):
 * a gstop's time is its span less the running sum of gaps since its
 * iteration's first record.
 */
static void fill_flat(const snap *s, const sum_plan *pl, scratch *x, vals *v, uint64_t *off) {
  rec_reader rr;
  recs_init(&rr, s, pl->first);
  const uint32_t *in = x->local;
  uint32_t tg = s->t_gstop;
  vg_cursor g = {.first = UINT64_MAX, .at = UINT64_MAX};
  if (in[tg]) {
    iters_init(&g.ir, s, 0);
    vg_next(&g, s);
  }
  uint64_t run = 0;
  FOR_RECS(&rr, pl->first, pl->end - pl->first, k, t, ns, xt, {
    if (k == g.first || k == g.at) vg_emit(&g, s, k, run, v, off, tg);
    run += ns;
    if (in[t]) val_put(v, off[t]++, ns);
  });
  vg_emit(&g, s, pl->end, run, v, off, tg);
}

/* One record (topic t, gap ns) of iteration i in fill_iters. */
static inline void fill_rec(scratch *x, vals *v, uint64_t *off, size_t i, uint32_t t, uint64_t ns) {
  if (!x->local[t]) return;
  if (x->stamp[t] != i + 1) {
    x->stamp[t] = i + 1;
    val_put(v, off[t]++, ns);
  } else {
    val_add(v, off[t] - 1, ns);
  }
}

/* fill_flat's general case: per iteration, a topic's records add up. */
static void fill_iters(const snap *s, scratch *x, vals *v, uint64_t *off) {
  iter_reader ir;
  rec_reader rr;
  iters_init(&ir, s, 0);
  recs_init(&rr, s, s->iters.n ? iter_first(s, 0) : 0);
  for (size_t i = 0; i < s->iters.n; i++) {
    iter_view iv;
    iters_at(&ir, i, &iv);
    FOR_ITER_RECS(&rr, &iv, s->t_gstop, t, ns, fill_rec(x, v, off, i, t, ns));
  }
}

/* GLOBAL over the closed iterations into v (room for `closed` values). */
static void fill_global(const snap *s, vals *v) {
  iter_reader ir;
  iters_init(&ir, s, 0);
  size_t k = 0;
  for (size_t i = 0; i < s->iters.n; i++) {
    iter_view iv;
    iters_at(&ir, i, &iv);
    if (iv.closed) val_put(v, k++, iv.global);
  }
}

/* Lays out the next batch of topics from first_use[b0] on: their fill
 * positions in off; returns the end of the batch and the values it holds in *used. */
static size_t plan_batch(const sum_plan *pl, size_t b0, size_t budget, uint64_t *off,
                         size_t *used) {
  size_t b1 = b0;
  *used = 0;
  while (b1 < pl->nused && (b1 == b0 || *used + pl->count[pl->first_use[b1]] <= budget)) {
    off[pl->first_use[b1]] = *used;
    *used += pl->count[pl->first_use[b1]];
    b1++;
  }
  return b1;
}

/* Writes the statistics of the topics first_use[b0..b1), their values filled. */
static void write_batch(pb__out *o, const snap *s, const sum_plan *pl, scratch *x, vals *v,
                        const uint64_t *off, size_t b0, size_t b1, size_t *written) {
  for (size_t k = b0; k < b1; k++) {
    uint32_t t = pl->first_use[k];
    x->local[t] = 0;
    if ((*written)++) pb__out_char(o, ',');
    write_key(o, s, t, ":");
    uint64_t n = pl->count[t];
    vals part = {(char *)v->p + (off[t] - n) * (v->wide ? 8 : 4), v->wide};
    write_stats(o, &part, n);
  }
}

/*
 * Per topic (in order of first use over the run), the list of its
 * per-iteration sums. Topics are gathered in batches whose values fit a
 * bounded buffer, so the save's extra memory stays a small fraction of the
 * records' own, at the price of one pass over the records per batch.
 */
static int write_summary(const char *path, const snap *s, scratch *x) {
  size_t nt = s->topics.n, nt1 = nt ? nt : 1;
  sum_plan pl = {.count = calloc(nt1, sizeof(uint64_t)),
                 .cur = malloc(nt1 * sizeof(uint64_t)),
                 .first_use = malloc(nt1 * sizeof(uint32_t))};
  uint64_t *off = malloc(nt1 * sizeof *off);          /* per topic: fill position */
  if (*x->epoch < s->iters.n) *x->epoch = s->iters.n; /* group()'s stamps stay above these */
  size_t budget = s->iters.n > 65536 ? s->iters.n : 65536;
  size_t rec_budget = (s->recs.n * sizeof(pb__rec)) / 16 / sizeof(uint64_t);
  if (rec_budget > budget) budget = rec_budget;
  vals v = {NULL, false};
  if (pl.count && pl.cur && pl.first_use && off) {
    memset(x->stamp, 0, nt * sizeof *x->stamp); /* keyed on iteration + 1 here */
    memset(x->local, 0, nt * sizeof *x->local); /* the in-batch flags below */
    plan_summary(s, x, &pl);
    v.wide = pl.wide;
    v.p = malloc(budget * (v.wide ? 8 : 4));
  }
  pb__out o;
  int rc =
      v.p ? pb__out_open(&o, path) : pb__fail(PB_ENOMEM, "out of memory summarising '%s'", path);
  if (rc) {
    free(pl.count), free(pl.cur), free(pl.first_use), free(v.p), free(off);
    return rc;
  }
  pb__out_char(&o, '{');
  size_t b0 = 0, written = 0;
  while (b0 < pl.nused) { /* one batch of topics [b0, b1) */
    size_t used, b1 = plan_batch(&pl, b0, budget, off, &used);
    if (used > budget) { /* one topic larger than the budget */
      void *bigger = realloc(v.p, used * (v.wide ? 8 : 4));
      if (!bigger) {
        o.err = 12;
        break;
      }
      v.p = bigger;
      budget = used;
    }
    for (size_t k = b0; k < b1; k++) x->local[pl.first_use[k]] = 1; /* in batch */
    if (pl.flat) {
      fill_flat(s, &pl, x, &v, off);
    } else {
      memset(x->stamp, 0, nt * sizeof *x->stamp);
      fill_iters(s, x, &v, off);
    }
    write_batch(&o, s, &pl, x, &v, off, b0, b1, &written);
    b0 = b1;
  }
  if (pl.closed && !o.err) { /* closed <= iterations <= budget */
    fill_global(s, &v);
    pb__out_lit(&o, written ? ",\"GLOBAL\":" : "\"GLOBAL\":");
    write_stats(&o, &v, pl.closed);
  }
  pb__out_lit(&o, "}\n");
  free(pl.count), free(pl.cur), free(pl.first_use), free(v.p), free(off);
  return pb__out_commit(&o);
}

static int prepare(pb_bench *b, snap *s, scratch *x, size_t from, size_t to) {
  int rc = quote_topics(b, s);
  if (rc == PB_OK) rc = scratch_init(x, b->qcache, s->topics.n);
  if (rc == PB_OK) {
    size_t most = 0; /* the most records of one written iteration */
    seg_reader r;
    reader_seek(&r, &s->iters, from);
    for (size_t i = from; i < to;) {
      size_t m;
      const pb__iter *it = reader_take(&r, to - i, &m);
      for (size_t k = 0; k < m; k++, i++) {
        const pb__iter *e = i + 1 == s->iters.n ? &s->last : &it[k];
        size_t n = (size_t)pb__iter_nrec(e) + pb__iter_vgstop(e);
        if (n > most) most = n;
      }
    }
    rc = scratch_reserve(x, most);
    if (rc) scratch_free(x);
  }
  if (rc) {
    return pb__fail(PB_ENOMEM, "out of memory saving '%s'", b->path);
  }
  return PB_OK;
}

/*
 * The path prefix to write to: b->path, or "<path>.fork-<pid>" in a forked
 * child, so that a child never replaces the files of its parent. Caller frees.
 */
static char *file_base(const pb_bench *b) {
  long pid = (long)getpid();
  size_t n = strlen(b->path) + 32;
  char *base = malloc(n);
  if (!base) return NULL;
  if (pid == b->pid)
    snprintf(base, n, "%s", b->path);
  else
    snprintf(base, n, "%s.fork-%ld", b->path, pid);
  return base;
}

/* "<base><suffix>", or for a journal "<base><suffix without .json>.journal". */
static char *file_path(const char *base, const char *suffix, bool journal) {
  size_t n = strlen(base) + strlen(suffix) + 16;
  char *p = malloc(n);
  if (!p) return NULL;
  if (!journal)
    snprintf(p, n, "%s%s", base, suffix);
  else
    snprintf(p, n, "%s%.*s.journal", base, (int)(strlen(suffix) - 5), suffix);
  return p;
}

/* True when the tail iteration gained time or memory records since it was written. */
static bool tail_grew(const snap *s, const pb__tail *t) {
  if (!t->valid || t->iter >= s->iters.n) return false;
  const pb__iter *it = iter_at(s, t->iter);
  if (iter_first(s, t->iter) + pb__iter_nrec(it) > t->recs_end) return true;
  return s->mrecs.n > t->mrecs_end &&
         ((const pb__mrec *)pb__segvec_at(&s->mrecs, t->mrecs_end))->iter == t->iter;
}

/* The tail after writing up to `closed`: the last closed iteration, if no newer one exists. */
static pb__tail tail_after(const snap *s, size_t closed) {
  pb__tail t = {0};
  if (closed == 0 || closed != s->all_iters) return t;
  const pb__iter *it = iter_at(s, closed - 1);
  t.valid = true;
  t.iter = closed - 1;
  t.recs_end = iter_first(s, closed - 1) + pb__iter_nrec(it);
  t.mrecs_end = s->mrecs.n;
  return t;
}

int pb__bench_write(pb_bench *b, pb__write_req *req) {
  snap s;
  scratch x;
  bool full = req->from == PB__FULL;
  take_snapshot(b, &s, full && req->with_open);
  size_t closed = s.iters.n && !pb__iter_closed(&s.last) ? s.iters.n - 1 : s.iters.n;
  req->covered = closed;
  req->wrote_open = full && closed < s.iters.n;
  req->new_tail = tail_after(&s, closed);
  size_t from = full ? 0 : req->from, to = full ? s.iters.n : closed;
  if (!full && tail_grew(&s, &req->tail) && req->tail.iter < from) from = req->tail.iter;
  if (!full && from >= closed) { /* nothing new: what is on disk stays as it was */
    req->new_tail = req->tail;
    return PB_OK;
  }
  int rc = prepare(b, &s, &x, from, to);
  if (rc) return rc;
  char *base = file_base(b);
  rc = base ? pb__mkdir_parent(base) : pb__fail(PB_ENOMEM, "out of memory saving '%s'", b->path);
  const char *suffixes[3] = {PB_SUFFIX_SUMMARY, PB_SUFFIX_DATA, PB_SUFFIX_MEMORY};
  off_t before[3] = {-1, -1, -1}; /* journals' sizes: a failed save cuts both back */
  for (int f = 1; !full && base && f < 3; f++) {
    char *path = file_path(base, suffixes[f], true);
    struct stat st;
    if (path) before[f] = lstat(path, &st) == 0 ? st.st_size : 0;
    free(path);
  }
  for (int f = full ? 0 : 1; f < 3 && !rc; f++) {
    char *path = file_path(base, suffixes[f], !full);
    if (!path) {
      rc = pb__fail(PB_ENOMEM, "out of memory saving '%s'", b->path);
    } else if (f == 0) {
      rc = write_summary(path, &s, &x);
    } else if (f == 1) {
      rc = write_data(path, &s, &x, from, to, !full);
    } else if (full || s.mrecs.n) { /* a memory line for every data line, once tracked */
      rc = write_memory(path, &s, &x, from, to, !full);
    }
    free(path);
  }
  for (int f = 1; rc && !full && base && f < 3; f++) { /* keep the two journals in step */
    char *path = before[f] >= 0 ? file_path(base, suffixes[f], true) : NULL;
    if (path) pb__truncate_nofollow(path, before[f]); /* best effort: readers skip a bad line */
    free(path);
  }
  free(base);
  scratch_free(&x);
  return rc;
}

void pb__bench_clear_journal(pb_bench *b) {
  const char *suffixes[2] = {PB_SUFFIX_DATA, PB_SUFFIX_MEMORY};
  char *base = file_base(b);
  for (int f = 0; base && f < 2; f++) {
    char *path = file_path(base, suffixes[f], true);
    if (path) unlink(path);
    free(path);
  }
  free(base);
}
