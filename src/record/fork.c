/*
 * fork.c - porter_bench across fork(): every benchmarker and registry is
 * listed, and fork handlers take all their locks in the parent before the
 * fork, so that the child never inherits a lock held by a thread it does not
 * have, nor a half-made record. In the child, a save that another thread had
 * under way is forgotten, and saves of inherited benchmarkers write to
 * "<path>.fork-<pid>_*.json" (see pb__bench_file_base): a child never
 * replaces its parent's files.
 *
 * Each list is doubly linked, and an index (open addressing, pointer ->
 * node) finds an object's node, so that forgetting one costs O(1) whatever
 * the number of objects (issue 11, defect 13: a walk of the list made
 * destroying n benchmarkers O(n^2), with pb_bench_create blocked meanwhile).
 *
 * Lock: all_mu guards the two lists and the index. Order at fork: all_mu, each registry's
 * mu, then each benchmarker's op_lock, save_mu and lock, then the memory
 * probe's lock; released in reverse.
 */
#include <stdlib.h>

#include "bench.h"

typedef struct node {
  void *obj;
  struct node *next, *prev;
} node;

static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static node *benches, *registries;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* The index: slots of node pointers (NULL = empty), linear probing, at most
 * half full; deletion shifts later entries back (no tombstones). */
static node **slots;
static size_t nslots, nused;

static size_t slot_of(const void *obj) {
  uint64_t h = (uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15u;
  return (size_t)(h ^ (h >> 29)) & (nslots - 1);
}

static void index_put_locked(node *n) {
  size_t i = slot_of(n->obj);
  while (slots[i]) i = (i + 1) & (nslots - 1);
  slots[i] = n;
  nused++;
}

/* Makes room for one more entry; false when out of memory. Caller holds all_mu. */
static bool index_reserve_locked(void) {
  if (2 * (nused + 1) <= nslots) return true;
  size_t old_n = nslots;
  node **old = slots;
  size_t cap = nslots ? 2 * nslots : 64;
  node **fresh = calloc(cap, sizeof *fresh);
  if (!fresh) return false;
  slots = fresh;
  nslots = cap;
  nused = 0;
  for (size_t i = 0; i < old_n; i++) {
    if (old[i]) index_put_locked(old[i]);
  }
  free(old);
  return true;
}

/* Removes obj's node from the index and returns it (NULL if not listed). */
static node *index_take_locked(const void *obj) {
  if (!nslots) return NULL;
  size_t i = slot_of(obj);
  while (slots[i] && slots[i]->obj != obj) i = (i + 1) & (nslots - 1);
  node *found = slots[i];
  if (!found) return NULL;
  slots[i] = NULL;
  nused--;
  for (size_t j = (i + 1) & (nslots - 1); slots[j]; j = (j + 1) & (nslots - 1)) {
    node *moved = slots[j]; /* re-place the rest of the run */
    slots[j] = NULL;
    nused--;
    index_put_locked(moved);
  }
  return found;
}

static void prepare(void) {
  pthread_mutex_lock(&all_mu);
  for (node *n = registries; n; n = n->next) pb__registry_lock(n->obj, true);
  for (node *n = benches; n; n = n->next) {
    pb_bench *b = n->obj;
    pthread_mutex_lock(&b->op_lock);
    pthread_mutex_lock(&b->save_mu);
    pb__spin_lock(&b->lock);
  }
  pb__memprobe_atfork(0);
}

static void release(bool child) {
  pb__memprobe_atfork(child ? 2 : 1);
  for (node *n = benches; n; n = n->next) {
    pb_bench *b = n->obj;
    if (child) {
      if (b->saving) { /* that save's thread is not in this process */
        b->saving = false;
        b->save_done = b->save_requested;
      }
      b->main_upto = b->disk_upto = 0; /* the child's files start with full ones */
      b->journaled = false;
    }
    pb__spin_unlock(&b->lock);
    pthread_mutex_unlock(&b->save_mu);
    pthread_mutex_unlock(&b->op_lock);
  }
  for (node *n = registries; n; n = n->next) pb__registry_lock(n->obj, false);
  pthread_mutex_unlock(&all_mu);
}

static void parent(void) { release(false); }
static void child(void) { release(true); }

static void install(void) { pthread_atfork(prepare, parent, child); }

static void add(node **list, void *obj) {
  pthread_once(&fork_once, install);
  node *n = malloc(sizeof *n);
  pthread_mutex_lock(&all_mu);
  if (n && index_reserve_locked()) { /* without memory the object is merely not fork-protected */
    n->obj = obj;
    n->prev = NULL;
    n->next = *list;
    if (*list) (*list)->prev = n;
    *list = n;
    index_put_locked(n);
    n = NULL;
  }
  pthread_mutex_unlock(&all_mu);
  free(n);
}

static void drop(node **list, void *obj) {
  pthread_mutex_lock(&all_mu);
  node *n = index_take_locked(obj);
  if (n) {
    if (n->prev)
      n->prev->next = n->next;
    else
      *list = n->next;
    if (n->next) n->next->prev = n->prev;
  }
  pthread_mutex_unlock(&all_mu);
  free(n);
}

void pb__fork_track_bench(pb_bench *b, bool on) {
  if (on)
    add(&benches, b);
  else
    drop(&benches, b);
}

void pb__fork_track_registry(pb_registry *r, bool on) {
  if (on)
    add(&registries, r);
  else
    drop(&registries, r);
}
