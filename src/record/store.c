/*
 * store.c - the data-oriented stores behind a benchmarker: segmented arrays
 * whose elements never move, a string arena, and the topic intern table.
 * None of these lock: their owner (a benchmarker) does (lock.c).
 */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

void pb__segvec_init(pb__segvec *v, size_t elem) {
  memset(v, 0, sizeof *v);
  v->elem = elem;
}

void pb__segvec_free(pb__segvec *v) {
  for (int k = 0; k < PB__SEG_MAX; k++) free(v->seg[k]);
  size_t elem = v->elem;
  pb__segvec_init(v, elem);
}

/*
 * Record memory is touched in order, a page at a time: each first touch of a
 * page is a page fault (about a microsecond here, several nanoseconds per
 * record). The segment is instead made present a window at a time
 * with one madvise(MADV_POPULATE_WRITE) (Linux 5.14+; elsewhere the pages
 * fault in as before). The window is small, so resident memory runs at most
 * WINDOW_BYTES ahead of the records (issue 15).
 */
enum { WINDOW_BYTES = 64 * 1024 };

static atomic_int populate_off; /* 1 once the kernel refused MADV_POPULATE_WRITE */

static void populate(char *from, char *to) {
#ifdef MADV_POPULATE_WRITE
  if (atomic_load_explicit(&populate_off, memory_order_relaxed)) return;
  static atomic_size_t page_cache; /* sysconf's page size, read once (0: not yet) */
  uintptr_t page = atomic_load_explicit(&page_cache, memory_order_relaxed);
  if (!page) {
    long ps = sysconf(_SC_PAGESIZE);
    page = ps > 0 ? (uintptr_t)ps : 4096;
    atomic_store_explicit(&page_cache, page, memory_order_relaxed);
  }
  uintptr_t a = ((uintptr_t)from + page - 1) & ~(page - 1);
  uintptr_t b = (uintptr_t)to & ~(page - 1);
  if (b > a && madvise((void *)a, b - a, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
    atomic_store_explicit(&populate_off, 1, memory_order_relaxed);
  }
#else
  (void)from;
  (void)to;
#endif
}

/* Moves v->end to the next window's end (a whole number of elements) and pre-faults it. */
static void next_window(pb__segvec *v) {
  size_t room = (size_t)(v->lim - v->cur) / v->elem;
  size_t want = WINDOW_BYTES / v->elem ? WINDOW_BYTES / v->elem : 1;
  v->end = v->cur + (want < room ? want : room) * v->elem;
  populate(v->cur, v->end);
}

void *pb__segvec_grow(pb__segvec *v) {
  if (v->cur && v->cur < v->lim) { /* the window is used up, the segment is not */
    next_window(v);
    void *slot = v->cur;
    v->cur += v->elem;
    v->n++;
    return slot;
  }
  /* The next element starts segment k, where k = number of full segments. */
  size_t q = v->n / PB__SEG_BASE + 1;
  unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)q);
  if (k >= PB__SEG_MAX) return NULL;
  size_t count = (size_t)PB__SEG_BASE << k;
  char *seg = v->seg[k];
  if (!seg) {
    seg = malloc(count * v->elem);
    if (!seg) return NULL;
    v->seg[k] = seg;
    v->bytes += count * v->elem;
  }
  v->cur = seg;
  v->lim = seg + count * v->elem;
  next_window(v);
  v->cur = seg + v->elem;
  v->n++;
  return seg;
}

void pb__segvec_truncate(pb__segvec *v, size_t n) {
  if (n >= v->n) return;
  /* Element n's segment exists (it held element n); the next push opens a window there. */
  size_t q = n / PB__SEG_BASE + 1;
  unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)q);
  size_t off = n - PB__SEG_BASE * (((size_t)1 << k) - 1);
  char *seg = v->seg[k];
  v->n = n;
  v->cur = v->end = seg + off * v->elem;
  v->lim = seg + ((size_t)PB__SEG_BASE << k) * v->elem;
}

/* ---- arena ---- */

enum { ARENA_CHUNK = 64 * 1024 };

/* A block of the arena; blocks are chained for freeing. */
typedef struct arena_block {
  struct arena_block *next;
  char data[];
} arena_block;

void pb__arena_init(pb__arena *a) { memset(a, 0, sizeof *a); }

void pb__arena_free(pb__arena *a) {
  arena_block *blk = a->chunks;
  while (blk) {
    arena_block *next = blk->next;
    free(blk);
    blk = next;
  }
  pb__arena_init(a);
}

static char *new_block(pb__arena *a, size_t cap) {
  arena_block *blk = malloc(sizeof *blk + cap);
  if (!blk) return NULL;
  blk->next = a->chunks;
  a->chunks = blk;
  a->bytes += sizeof *blk + cap;
  return blk->data;
}

char *pb__arena_dup(pb__arena *a, const char *s, size_t len) {
  char *dst;
  if (len + 1 > ARENA_CHUNK / 2) { /* a big string gets a block of its own */
    dst = new_block(a, len + 1);
  } else {
    if (!a->chunk || len + 1 > a->cap - a->used) {
      a->chunk = new_block(a, ARENA_CHUNK);
      if (!a->chunk) return NULL;
      a->cap = ARENA_CHUNK;
      a->used = 0;
    }
    dst = a->chunk + a->used;
    a->used += len + 1;
  }
  if (!dst) return NULL;
  memcpy(dst, s, len);
  dst[len] = '\0';
  return dst;
}

/* ---- topics ---- */

/* ---- the program's read-only segments (for the topic cache's literals) ---- */

enum { RO_MAX = 8 };
static struct { uintptr_t lo, hi; } ro_seg[RO_MAX];
static int ro_n;
static pthread_once_t ro_once = PTHREAD_ONCE_INIT;

/* The first object dl_iterate_phdr reports is the program itself: its loadable segments
 * without write permission. */
static int ro_collect(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  for (int i = 0; i < info->dlpi_phnum && ro_n < RO_MAX; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W)) continue;
    ro_seg[ro_n].lo = (uintptr_t)(info->dlpi_addr + ph->p_vaddr);
    ro_seg[ro_n].hi = ro_seg[ro_n].lo + (uintptr_t)ph->p_memsz;
    ro_n++;
  }
  return 1; /* the program only */
}

static void ro_init(void) { dl_iterate_phdr(ro_collect, NULL); }

bool pb__in_program_rodata(const void *p) {
  pthread_once(&ro_once, ro_init);
  uintptr_t a = (uintptr_t)p;
  for (int i = 0; i < ro_n; i++) {
    if (a >= ro_seg[i].lo && a < ro_seg[i].hi) return true;
  }
  return false;
}

void pb__topics_init(pb__topics *t) {
  pthread_once(&ro_once, ro_init); /* here, not first in a recording call (a signal handler's) */
  memset(t, 0, sizeof *t);
  pb__segvec_init(&t->infos, sizeof(pb__topic_info));
}

void pb__topics_free(pb__topics *t) {
  pb__segvec_free(&t->infos);
  free(t->slots);
  pb__topics_init(t);
}

static pb__topic_info *info_at(const pb__topics *t, uint32_t id) {
  return pb__segvec_at(&t->infos, id);
}

static int rehash(pb__topics *t) {
  uint32_t n = t->nslots ? t->nslots * 2 : 64;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (!slots) return -1;
  for (uint32_t id = 0; id < (uint32_t)t->infos.n; id++) {
    const pb__topic_info *ti = info_at(t, id);
    uint32_t i = pb__fnv1a32(ti->name, ti->len) & (n - 1);
    while (slots[i]) i = (i + 1) & (n - 1);
    slots[i] = id + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = n;
  return 0;
}

uint32_t pb__topics_intern(pb__topics *t, pb__arena *a, const char *name, size_t len) {
  if (len > UINT32_MAX - 1) return PB_TOPIC_INVALID;
  if ((t->infos.n + 1) * 2 > t->nslots && rehash(t) != 0) return PB_TOPIC_INVALID;
  uint32_t mask = t->nslots - 1;
  uint32_t i = pb__fnv1a32(name, len) & mask;
  for (; t->slots[i]; i = (i + 1) & mask) {
    const pb__topic_info *ti = info_at(t, t->slots[i] - 1);
    if (ti->len == len && memcmp(ti->name, name, len) == 0) return t->slots[i] - 1;
  }
  if (t->infos.n >= PB__TOPIC_LIMIT) return PB_TOPIC_INVALID;
  char *copy = pb__arena_dup(a, name, len);
  if (!copy) return PB_TOPIC_INVALID;
  pb__topic_info *ti = pb__segvec_push(&t->infos);
  if (!ti) return PB_TOPIC_INVALID;
  ti->name = copy;
  ti->len = (uint32_t)len;
  ti->memstep = PB_TOPIC_INVALID;
  uint32_t id = (uint32_t)(t->infos.n - 1);
  t->slots[i] = id + 1;
  return id;
}

uint32_t pb__topics_lookup(pb__topics *t, pb__arena *a, const char *name) {
  uint32_t id = pb__topics_intern(t, a, name, strlen(name));
  if (id != PB_TOPIC_INVALID) {
    /* The newest entry goes first in its pair; the other way keeps the one before
     * (unless that was this address, with an older text: it is replaced). An
     * address is in at most one way. */
    size_t c = pb__topic_cache_pair(name);
    if (t->cache[c].ptr != name) t->cache[c + 1] = t->cache[c];
    t->cache[c].ptr = name;
    t->cache[c].name = info_at(t, id)->name;
    t->cache[c].id = id | (pb__in_program_rodata(name) ? PB__TOPIC_LIT : 0);
  }
  return id;
}
