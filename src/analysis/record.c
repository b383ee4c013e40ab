/*
 * record.c - one benchmarker's loaded data: the builder the JSON walker
 * feeds, the finishing pass that lays out the flat arrays, and accessors.
 */
#define _GNU_SOURCE /* MADV_HUGEPAGE, mremap */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* ---- interned strings ---------------------------------------------------- */

static uint32_t hash_bytes(const char *s, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

uint32_t pb__strtab_find(const pb__strtab *t, const char *s, size_t len) {
  if (t->nslots == 0) return UINT32_MAX;
  uint32_t mask = t->nslots - 1;
  for (uint32_t i = hash_bytes(s, len) & mask;; i = (i + 1) & mask) {
    uint32_t v = t->slots[i];
    if (v == 0) return UINT32_MAX;
    if (t->lens[v - 1] == len && memcmp(t->names[v - 1], s, len) == 0) return v - 1;
  }
}

static int strtab_rehash(pb__strtab *t, uint32_t nslots) {
  uint32_t *slots = calloc(nslots, sizeof *slots);
  if (!slots) return -1;
  for (uint32_t k = 0; k < t->n; k++) {
    uint32_t i = hash_bytes(t->names[k], t->lens[k]) & (nslots - 1);
    while (slots[i]) i = (i + 1) & (nslots - 1);
    slots[i] = k + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = nslots;
  return 0;
}

uint32_t pb__strtab_intern(pb__strtab *t, const char *s, size_t len) {
  uint32_t id = pb__strtab_find(t, s, len);
  if (id != UINT32_MAX) return id;
  if (len > UINT32_MAX / 2 || t->n >= UINT32_MAX / 4) return UINT32_MAX;
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 16;
    char **names = realloc(t->names, cap * sizeof *names);
    if (!names) return UINT32_MAX;
    t->names = names;
    uint32_t *lens = realloc(t->lens, cap * sizeof *lens);
    if (!lens) return UINT32_MAX;
    t->lens = lens;
    t->cap = cap;
  }
  if ((t->n + 1) * 2 > t->nslots && strtab_rehash(t, t->nslots ? t->nslots * 2 : 32))
    return UINT32_MAX;
  char *copy = malloc(len + 1);
  if (!copy) return UINT32_MAX;
  memcpy(copy, s, len);
  copy[len] = 0;
  id = t->n++;
  t->names[id] = copy;
  t->lens[id] = (uint32_t)len;
  uint32_t mask = t->nslots - 1;
  uint32_t i = hash_bytes(s, len) & mask;
  while (t->slots[i]) i = (i + 1) & mask;
  t->slots[i] = id + 1;
  return id;
}

void pb__strtab_cut(pb__strtab *t, uint32_t n) {
  if (n >= t->n) return;
  for (uint32_t i = n; i < t->n; i++) free(t->names[i]);
  t->n = n;
  memset(t->slots, 0, t->nslots * sizeof *t->slots);
  uint32_t mask = t->nslots - 1;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = hash_bytes(t->names[k], t->lens[k]) & mask;
    while (t->slots[i]) i = (i + 1) & mask;
    t->slots[i] = k + 1;
  }
}

void pb__strtab_free(pb__strtab *t) {
  for (uint32_t i = 0; i < t->n; i++) free(t->names[i]);
  free(t->names);
  free(t->lens);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

/* ---- builder ------------------------------------------------------------- */

/* Grows *p (elements of size sz, capacity *cap) to hold need elements. */
/*
 * Asks for transparent huge pages under the whole 2 MiB blocks of a big array: one
 * fault then maps 2 MiB instead of 4 KiB (on the development VM a fault costs about
 * 4 us, and a loaded 100,000 x 5 run fills some 7,000 pages). Only a hint: where THP is
 * off, or the block is not aligned, nothing changes.
 */
static void want_huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (bytes < 2 * huge) return;
  uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

static int grow(void **p, size_t *cap, size_t need, size_t sz) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  if (c > SIZE_MAX / sz) return PB_ENOMEM;
  void *q = realloc(*p, c * sz);
  if (!q) return PB_ENOMEM;
  want_huge_pages(q, c * sz);
  *p = q;
  *cap = c;
  return 0;
}

void pb__rec_reserve(pb_record *r, size_t len, bool memory) {
  /* a call takes at least ~45 bytes of JSON, a memory record ~150, an
   * iteration ~250: reserving that much costs address space, not memory,
   * as untouched pages are never faulted in; pb__rec_finish trims */
  if (memory) {
    (void)grow((void **)&r->mem, &r->cap_mem, len / 150 + 16, sizeof *r->mem);
  } else {
    (void)grow((void **)&r->calls, &r->cap_calls, len / 45 + 16, sizeof *r->calls);
    (void)grow((void **)&r->infos, &r->cap_iter, len / 250 + 16, sizeof *r->infos);
  }
}

int pb__rec_begin_iter(pb_record *r, uint32_t *iter) {
  if (r->n_iter >= UINT32_MAX - 1) return PB_ENOMEM;
  if (grow((void **)&r->infos, &r->cap_iter, r->n_iter + 1, sizeof *r->infos)) return PB_ENOMEM;
  pb_iter_info *info = &r->infos[r->n_iter];
  info->step_number = PB__STEP_UNSET; /* the index, unless the file says */
  info->start_time = 0;
  info->stop_time = 0;
  *iter = (uint32_t)r->n_iter++;
  return 0;
}

/*
 * Grows column c to hold need values. Columns are mappings of their own, grown by
 * mremap(): the pages filled stay where they are (no copy, no new fault), where a
 * realloc() in the heap copies a column every time it doubles (the columns of a
 * benchmarker grow side by side, so none can grow in place).
 */
static int col_grow(pb__abs_col *c, size_t need) {
  if (need <= c->cap) return 0;
  const size_t page = 4096, min_bytes = 64u << 10;
  if (need > SIZE_MAX / 2 / sizeof *c->v) return PB_ENOMEM;
  size_t bytes = need * sizeof *c->v, old = c->cap * sizeof *c->v;
  if (bytes < 2 * old) bytes = 2 * old;
  if (bytes < min_bytes) bytes = min_bytes;
  bytes = (bytes + page - 1) / page * page;
  void *p = c->v ? mremap(c->v, old, bytes, MREMAP_MAYMOVE)
                 : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return PB_ENOMEM;
#ifdef MADV_POPULATE_WRITE
  /* the new pages will be filled: one call maps them all, where each would fault alone */
  (void)madvise((char *)p + old, bytes - old, MADV_POPULATE_WRITE);
#endif
  c->v = p;
  c->cap = bytes / sizeof *c->v;
  return 0;
}

static void col_free(pb__abs_col *c) {
  if (c->v) munmap(c->v, c->cap * sizeof *c->v);
  memset(c, 0, sizeof *c);
}

/* Pads column c with NAN up to n values (growing it). */
static int col_pad(pb__abs_col *c, size_t n) {
  if (n <= c->n) return 0;
  if (col_grow(c, n)) return PB_ENOMEM;
  for (size_t i = c->n; i < n; i++) c->v[i] = NAN;
  c->n = n;
  return 0;
}

int pb__rec_add_absolute(pb_record *r, uint32_t iter, uint32_t topic, double v) {
  pb__abs_col *c = &r->abs[topic];
  if (iter == c->n && iter < c->cap) { /* the common case: the next iteration */
    c->v[c->n++] = v;
    return 0;
  }
  if (iter >= c->n && col_pad(c, (size_t)iter + 1)) return PB_ENOMEM;
  c->v[iter] = v; /* a key repeated in one iteration: the last one counts */
  return 0;
}

int pb__rec_add_call(pb_record *r, uint32_t iter, uint32_t topic, uint32_t crono, double t) {
  if (r->n_calls == r->cap_calls &&
      grow((void **)&r->calls, &r->cap_calls, r->n_calls + 1, sizeof *r->calls))
    return PB_ENOMEM;
  pb_call *c = &r->calls[r->n_calls++];
  c->iter = iter;
  c->topic = topic;
  c->crono = crono;
  c->pad_ = 0;
  c->time = t;
  return 0;
}

/* Columns of absolutes that r has (fewer than topics only after a failed allocation). */
static size_t ncols(const pb_record *r) {
  return r->topics.n < r->cap_cols ? r->topics.n : r->cap_cols;
}

/* Gives every topic of r its (empty) column of absolutes. */
static int ensure_cols(pb_record *r) {
  size_t had = r->cap_cols;
  if (grow((void **)&r->abs, &r->cap_cols, r->topics.n, sizeof *r->abs)) return PB_ENOMEM;
  if (r->cap_cols > had) memset(r->abs + had, 0, (r->cap_cols - had) * sizeof *r->abs);
  return 0;
}

uint32_t pb__rec_topic(pb_record *r, const char *s, size_t len) {
  uint32_t id = pb__strtab_intern(&r->topics, s, len);
  if (id != UINT32_MAX && id >= r->cap_cols && ensure_cols(r)) return UINT32_MAX;
  return id;
}

int pb__rec_begin_mem_iter(pb_record *r, uint32_t *iter) {
  if (r->n_mem_iter >= UINT32_MAX - 1) return PB_ENOMEM;
  if (grow((void **)&r->mem_steps, &r->cap_mem_steps, r->n_mem_iter + 1, sizeof *r->mem_steps))
    return PB_ENOMEM;
  r->mem_steps[r->n_mem_iter] = PB__STEP_UNSET;
  *iter = (uint32_t)r->n_mem_iter++;
  return 0;
}

void pb__rec_set_mem_step(pb_record *r, uint32_t iter, int64_t step) {
  if (iter < r->n_mem_iter) r->mem_steps[iter] = step;
}

uint32_t pb__rec_mem_topic(pb_record *r, const char *s, size_t len) {
  return pb__strtab_intern(&r->mem_topics, s, len);
}

int pb__rec_add_mem(pb_record *r, const pb_mem_record *m) {
  if (r->n_mem == r->cap_mem && grow((void **)&r->mem, &r->cap_mem, r->n_mem + 1, sizeof *r->mem))
    return PB_ENOMEM;
  r->mem[r->n_mem++] = *m;
  return 0;
}

int pb__rec_add_saved(pb_record *r, const char *topic, size_t len, const double v[4]) {
  uint32_t id = pb__strtab_intern(&r->saved_topics, topic, len);
  if (id == UINT32_MAX) return PB_ENOMEM;
  if (grow((void **)&r->saved, &r->cap_saved, r->n_saved + 1, sizeof *r->saved)) return PB_ENOMEM;
  pb_saved_summary *s = &r->saved[r->n_saved++];
  s->topic = r->saved_topics.names[id];
  s->mean = v[0];
  s->min = v[1];
  s->max = v[2];
  s->quantile_filtered = v[3];
  return 0;
}

/* Cuts every column of absolutes of r to at most n iterations. */
static void cols_cut(pb_record *r, size_t n) {
  for (size_t t = 0; t < ncols(r); t++)
    if (r->abs[t].n > n) r->abs[t].n = n;
}

/* Appends the columns of part (topics mapped by map) after r's n_iter iterations. */
static int append_cols(pb_record *r, const pb_record *part, const uint32_t *map) {
  size_t off = r->n_iter;
  for (uint32_t t = 0; t < part->topics.n; t++) {
    const pb__abs_col *pc = &part->abs[t];
    pb__abs_col *c = &r->abs[map[t]];
    if (pc->n == 0) continue;
    if (col_pad(c, off) || col_grow(c, off + pc->n)) {
      cols_cut(r, off);
      return PB_ENOMEM;
    }
    memcpy(c->v + off, pc->v, pc->n * sizeof *pc->v);
    c->n = off + pc->n;
  }
  return PB_OK;
}

/* Appends the calls and memory records of part, renumbered and with topics mapped. */
static void append_items(pb_record *r, const pb_record *part, const uint32_t *map,
                         const uint32_t *mmap_) {
  uint32_t off = (uint32_t)r->n_iter, moff = (uint32_t)r->n_mem_iter;
  if (part->n_iter) memcpy(r->infos + r->n_iter, part->infos, part->n_iter * sizeof *r->infos);
  if (part->n_mem_iter)
    memcpy(r->mem_steps + r->n_mem_iter, part->mem_steps, part->n_mem_iter * sizeof *r->mem_steps);
  for (size_t i = 0; i < part->n_calls; i++) {
    pb_call c = part->calls[i];
    c.iter += off;
    c.topic = map[c.topic];
    r->calls[r->n_calls + i] = c;
  }
  for (size_t i = 0; i < part->n_mem; i++) {
    pb_mem_record m = part->mem[i];
    m.iter += moff;
    m.topic = mmap_[m.topic];
    r->mem[r->n_mem + i] = m;
  }
  r->n_iter += part->n_iter;
  r->n_calls += part->n_calls;
  r->n_mem += part->n_mem;
  r->n_mem_iter += part->n_mem_iter;
}

int pb__rec_append(pb_record *r, const pb_record *part) {
  /* time data: iterations, then absolutes and calls with shifted
   * iteration numbers and topics re-interned in r (in the part's order,
   * so that the first-appearance order over the parts in file order is
   * the file's) */
  uint32_t *map = malloc(((size_t)part->topics.n + 1) * sizeof *map);
  uint32_t *mmap_ = malloc(((size_t)part->mem_topics.n + 1) * sizeof *mmap_);
  int rc = (map && mmap_) ? PB_OK : PB_ENOMEM;
  for (uint32_t t = 0; rc == PB_OK && t < part->topics.n; t++)
    if ((map[t] = pb__strtab_intern(&r->topics, part->topics.names[t], part->topics.lens[t])) ==
        UINT32_MAX)
      rc = PB_ENOMEM;
  for (uint32_t t = 0; rc == PB_OK && t < part->mem_topics.n; t++)
    if ((mmap_[t] = pb__strtab_intern(&r->mem_topics, part->mem_topics.names[t],
                                      part->mem_topics.lens[t])) == UINT32_MAX)
      rc = PB_ENOMEM;
  if (rc == PB_OK &&
      (ensure_cols(r) ||
       grow((void **)&r->infos, &r->cap_iter, r->n_iter + part->n_iter, sizeof *r->infos) ||
       grow((void **)&r->calls, &r->cap_calls, r->n_calls + part->n_calls, sizeof *r->calls) ||
       grow((void **)&r->mem, &r->cap_mem, r->n_mem + part->n_mem, sizeof *r->mem) ||
       grow((void **)&r->mem_steps, &r->cap_mem_steps, r->n_mem_iter + part->n_mem_iter,
            sizeof *r->mem_steps)))
    rc = PB_ENOMEM;
  if (rc == PB_OK) rc = append_cols(r, part, map);
  if (rc == PB_OK) append_items(r, part, map, mmap_);
  free(map);
  free(mmap_);
  return rc;
}

void pb__rec_mark_get(const pb_record *r, pb__rec_mark *m) {
  m->n_iter = r->n_iter;
  m->n_calls = r->n_calls;
  m->n_mem = r->n_mem;
  m->n_mem_iter = r->n_mem_iter;
  m->n_topics = r->topics.n;
  m->n_mem_topics = r->mem_topics.n;
}

void pb__rec_mark_reset(pb_record *r, const pb__rec_mark *m) {
  r->n_iter = m->n_iter;
  cols_cut(r, m->n_iter);
  r->n_calls = m->n_calls;
  r->n_mem = m->n_mem;
  r->n_mem_iter = m->n_mem_iter;
}

void pb__rec_rollback(pb_record *r, const pb__rec_mark *m) {
  pb__rec_mark_reset(r, m);
  for (size_t t = m->n_topics; t < ncols(r); t++) { /* the columns of forgotten topics */
    col_free(&r->abs[t]);
  }
  pb__strtab_cut(&r->topics, m->n_topics);
  pb__strtab_cut(&r->mem_topics, m->n_mem_topics);
}

/* ---- dropping iterations a journal line restates ------------------------ */

/* Drops the items of iterations [lo, hi) from the tail of an array of items with an `iter`
 * member; later ones move down and are renumbered. */
#define DEFINE_DROP(fn, T)                                \
  static void fn(T *v, size_t *n, size_t lo, size_t hi) { \
    size_t k = *n;                                        \
    while (k > 0 && v[k - 1].iter >= lo) k--;             \
    size_t w = k;                                         \
    for (; k < *n; k++) {                                 \
      if (v[k].iter < hi) continue;                       \
      T x = v[k];                                         \
      x.iter -= (uint32_t)(hi - lo);                      \
      v[w++] = x;                                         \
    }                                                     \
    *n = w;                                               \
  }
/* Items of iteration it, counted from the end (no item of a later iteration precedes it). */
#define DEFINE_COUNT(fn, T)                                                         \
  static size_t fn(const T *v, size_t n, size_t it) {                               \
    size_t c = 0;                                                                   \
    for (size_t k = n; k > 0 && v[k - 1].iter >= it; k--) c += v[k - 1].iter == it; \
    return c;                                                                       \
  }
DEFINE_DROP(drop_calls, pb_call)
DEFINE_DROP(drop_mem, pb_mem_record)
DEFINE_COUNT(count_calls, pb_call)
DEFINE_COUNT(count_mem, pb_mem_record)

void pb__rec_drop_iters(pb_record *r, size_t lo, size_t hi) {
  if (lo >= hi || hi > r->n_iter) return;
  memmove(r->infos + lo, r->infos + hi, (r->n_iter - hi) * sizeof *r->infos);
  r->n_iter -= hi - lo;
  for (size_t t = 0; t < ncols(r); t++) {
    pb__abs_col *c = &r->abs[t];
    if (c->n <= lo) continue;
    size_t cut = c->n < hi ? c->n : hi;
    memmove(c->v + lo, c->v + cut, (c->n - cut) * sizeof *c->v);
    c->n -= cut - lo;
  }
  drop_calls(r->calls, &r->n_calls, lo, hi);
}

void pb__rec_drop_mem_iters(pb_record *r, size_t lo, size_t hi) {
  if (lo >= hi || hi > r->n_mem_iter) return;
  memmove(r->mem_steps + lo, r->mem_steps + hi, (r->n_mem_iter - hi) * sizeof *r->mem_steps);
  r->n_mem_iter -= hi - lo;
  drop_mem(r->mem, &r->n_mem, lo, hi);
}

size_t pb__rec_iter_size(const pb_record *r, size_t it) {
  return count_calls(r->calls, r->n_calls, it);
}

size_t pb__rec_mem_iter_size(const pb_record *r, size_t it) {
  return count_mem(r->mem, r->n_mem, it);
}

/* ---- finishing ----------------------------------------------------------- */

/* Sorts items by (iter, crono). The files list iterations in order, so items
 * already are grouped by iteration; within one they arrive grouped by topic
 * and are sorted by insertion (few items) or qsort (many). */
#define DEFINE_CRONO_SORT(fn, T)                                   \
  static int fn##_cmp(const void *pa, const void *pb) {            \
    const T *a = pa, *b = pb;                                      \
    if (a->crono != b->crono) return a->crono < b->crono ? -1 : 1; \
    return a->topic < b->topic ? -1 : a->topic > b->topic;         \
  }                                                                \
  static void fn(T *v, size_t n) {                                 \
    size_t start = 0;                                              \
    for (size_t i = 1; i <= n; i++) {                              \
      if (i < n && v[i].iter == v[start].iter) continue;           \
      if (i - start > 32) {                                        \
        qsort(v + start, i - start, sizeof *v, fn##_cmp);          \
        start = i;                                                 \
        continue;                                                  \
      }                                                            \
      for (size_t a = start + 1; a < i; a++) {                     \
        T x = v[a];                                                \
        size_t b = a;                                              \
        while (b > start && v[b - 1].crono > x.crono) {            \
          v[b] = v[b - 1];                                         \
          b--;                                                     \
        }                                                          \
        v[b] = x;                                                  \
      }                                                            \
      start = i;                                                   \
    }                                                              \
  }
DEFINE_CRONO_SORT(sort_calls, pb_call)
DEFINE_CRONO_SORT(sort_mem, pb_mem_record)

/* Pads every column of absolutes to n_iter values (NAN for the iterations without one). */
static int finish_cols(pb_record *r) {
  if (ensure_cols(r)) return PB_ENOMEM;
  for (size_t t = 0; t < r->topics.n; t++) {
    pb__abs_col *c = &r->abs[t];
    if (c->n > r->n_iter) c->n = r->n_iter;
    if (col_pad(c, r->n_iter)) return PB_ENOMEM; /* the slack is address space only */
  }
  return 0;
}

int pb__rec_finish(pb_record *r) {
  size_t ni = r->n_iter;
  if (finish_cols(r)) return PB_ENOMEM;
  for (size_t i = 0; i < ni; i++)
    if (r->infos[i].step_number == PB__STEP_UNSET) r->infos[i].step_number = (int64_t)i;
  sort_calls(r->calls, r->n_calls);
  sort_mem(r->mem, r->n_mem);
  r->has_heap = r->has_cuda = false;
  for (size_t k = 0; k < r->n_mem; k++) {
    if (!isnan(r->mem[k].heap)) r->has_heap = true;
    for (int c = 0; c <= PB_CUDA_MAX_RESERVED; c++)
      if (!isnan(r->mem[k].cuda[c])) r->has_cuda = true;
  }
  /* give back the slack of the big arrays */
  if (r->n_calls && r->cap_calls > r->n_calls) {
    pb_call *c = realloc(r->calls, r->n_calls * sizeof *c);
    if (c) {
      r->calls = c;
      r->cap_calls = r->n_calls;
    }
  }
  if (r->n_mem && r->cap_mem > r->n_mem) {
    pb_mem_record *m = realloc(r->mem, r->n_mem * sizeof *m);
    if (m) {
      r->mem = m;
      r->cap_mem = r->n_mem;
    }
  }
  if (r->n_iter && r->cap_iter > r->n_iter) {
    pb_iter_info *v = realloc(r->infos, r->n_iter * sizeof *v);
    if (v) {
      r->infos = v;
      r->cap_iter = r->n_iter;
    }
  }
  return 0;
}

void pb__rec_free(pb_record *r) {
  if (!r) return;
  free(r->name);
  pb__strtab_free(&r->topics);
  free(r->infos);
  for (size_t t = 0; t < r->cap_cols; t++) col_free(&r->abs[t]);
  free(r->abs);
  free(r->calls);
  pb__strtab_free(&r->mem_topics);
  free(r->mem);
  free(r->mem_steps);
  pb__strtab_free(&r->saved_topics);
  free(r->saved);
  free(r->data_file);
  free(r->summary_file);
  free(r->memory_file);
  free(r->data_journal);
  free(r->memory_journal);
}

/* ---- accessors ----------------------------------------------------------- */

const char *pb_record_name(const pb_record *r) { return r ? r->name : NULL; }
size_t pb_record_iter_count(const pb_record *r) { return r ? r->n_iter : 0; }
const pb_iter_info *pb_record_infos(const pb_record *r) { return r ? r->infos : NULL; }
size_t pb_record_topic_count(const pb_record *r) { return r ? r->topics.n : 0; }

const char *pb_record_topic(const pb_record *r, size_t i) {
  return (r && i < r->topics.n) ? r->topics.names[i] : NULL;
}

bool pb_topic_is_probe(const char *name) {
  static const char suffix[] = "_MEMORY_STEP";
  const size_t ns = sizeof suffix - 1;
  if (!name) return false;
  if (strcmp(name, "gstep_memory") == 0 || strcmp(name, "gstop_memory") == 0) return true;
  size_t n = strlen(name);
  return n > ns && memcmp(name + n - ns, suffix, ns) == 0;
}

long pb_record_topic_index(const pb_record *r, const char *name) {
  if (!r || !name) return -1;
  uint32_t id = pb__strtab_find(&r->topics, name, strlen(name));
  return id == UINT32_MAX ? -1 : (long)id;
}

const double *pb_record_absolutes(const pb_record *r, size_t i) {
  if (!r || i >= r->topics.n || i >= r->cap_cols || r->n_iter == 0) return NULL;
  return r->abs[i].v;
}

const pb_call *pb_record_calls(const pb_record *r, size_t *n) {
  if (n) *n = r ? r->n_calls : 0;
  return r ? r->calls : NULL;
}

size_t pb_record_memory_count(const pb_record *r) { return r ? r->n_mem : 0; }

const pb_mem_record *pb_record_memory(const pb_record *r, size_t *n) {
  if (n) *n = r ? r->n_mem : 0;
  return r ? r->mem : NULL;
}

size_t pb_record_memory_topic_count(const pb_record *r) { return r ? r->mem_topics.n : 0; }

const char *pb_record_memory_topic(const pb_record *r, size_t i) {
  return (r && i < r->mem_topics.n) ? r->mem_topics.names[i] : NULL;
}

size_t pb_record_memory_iter_count(const pb_record *r) { return r ? r->n_mem_iter : 0; }
bool pb_record_has_heap(const pb_record *r) { return r && r->has_heap; }
bool pb_record_has_cuda(const pb_record *r) { return r && r->has_cuda; }

pb_recorded_peak pb_record_peak_mode(const pb_record *r, double *poll_ms) {
  if (poll_ms) *poll_ms = r ? r->peak_poll_ms : NAN;
  return r ? (pb_recorded_peak)r->peak_mode : PB_RECORDED_PEAK_UNKNOWN;
}

const pb_saved_summary *pb_record_saved_summary(const pb_record *r, size_t *n) {
  if (n) *n = r ? r->n_saved : 0;
  return (r && r->n_saved) ? r->saved : NULL;
}

/* Sum of the probe topics' times in iteration i (a missing one counts 0). */
static double probe_sum(const pb_record *r, const bool *probe, size_t i) {
  double s = 0;
  for (size_t t = 0; t < r->topics.n; t++)
    if (probe[t] && !isnan(r->abs[t].v[i])) s += r->abs[t].v[i];
  return s;
}

int pb_record_probe_time(const pb_record *r, double *mean_s, double *share) {
  if (!r || !mean_s) return PB_EINVAL;
  long g = pb_record_topic_index(r, "GLOBAL");
  const double *gv = g >= 0 ? pb_record_absolutes(r, (size_t)g) : NULL;
  bool *probe = calloc(r->topics.n + 1, sizeof *probe);
  if (!probe) return PB_ENOMEM;
  bool any = false;
  for (size_t t = 0; t < r->topics.n; t++) any |= probe[t] = pb_topic_is_probe(r->topics.names[t]);
  double total = 0, gsum = 0;
  size_t n = 0;
  for (size_t i = 0; any && gv && i < r->n_iter; i++) {
    if (isnan(gv[i])) continue; /* the iterations GLOBAL's statistics count */
    total += probe_sum(r, probe, i);
    gsum += gv[i];
    n++;
  }
  free(probe);
  if (n == 0) return PB_ENOTFOUND;
  *mean_s = total / (double)n;
  if (share) *share = gsum > 0 ? total / gsum : NAN;
  return PB_OK;
}

int pb_record_stats(const pb_record *r, size_t i, pb_stats *out) {
  if (!r || !out || i >= r->topics.n) return PB_EINVAL;
  const double *v = pb_record_absolutes(r, i);
  return pb_stats_compute(v, v ? r->n_iter : 0, out);
}
