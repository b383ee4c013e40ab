/*
 * fork.c - porter_bench across fork(): every benchmarker and registry is
 * listed, and fork handlers take all their locks in the parent before the
 * fork, so that the child never inherits a lock held by a thread it does not
 * have, nor a half-made record. In the child, a save that another thread had
 * under way is forgotten, and saves of inherited benchmarkers write to
 * "<path>.fork-<pid>_*.json" (see pb__bench_file_base): a child never
 * replaces its parent's files.
 *
 * Locks (issue 11, defect 1). reg_mu guards the list of registries, bench_mu
 * the list of benchmarkers. The library's global lock order, which every
 * thread follows and the fork handler takes in full:
 *
 *   1. reg_mu                      (fork.c: the registry list)
 *   2. each registry's mu          (registry.c)
 *   3. bench_mu                    (fork.c: the benchmarker list)
 *   4. each benchmarker's op_lock, then save_mu, then lock (bench.h)
 *   5. the memory probe's lock     (memprobe.c)
 *
 * A thread holding a lock may take only locks further down the list. The
 * one place a lock is held while another is taken outside a single object is
 * pb_registry_get: it holds the registry's mu (2) while creating a
 * benchmarker, which adds it to the benchmarker list (3). The registry list
 * is changed only with no registry lock held (create, destroy). With a
 * single list lock taken first at fork, as before, a fork and a
 * pb_registry_get of a new name deadlocked. Released in reverse order.
 *
 * Each list is doubly linked, and an index of its own (open addressing,
 * pointer -> node, guarded by the list's lock) finds an object's node, so
 * that forgetting one costs O(1) whatever the number of objects (issue 11,
 * defect 13: a walk of the list made destroying n benchmarkers O(n^2), with
 * pb_bench_create blocked meanwhile).
 */
#include <stdlib.h>

#include "bench.h"

typedef struct node {
  void *obj;
  struct node *next, *prev;
} node;

/*
 * A list of tracked objects and its index: slots of node pointers (NULL =
 * empty), linear probing, at most half full; deletion shifts later entries
 * back (no tombstones). mu guards all of it.
 */
typedef struct objlist {
  pthread_mutex_t mu;
  node *head;
  node **slots;
  size_t nslots, nused;
} objlist;

static objlist registries = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0}; /* lock order 1 */
static objlist benches = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0};    /* lock order 3 */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static size_t slot_of(const objlist *l, const void *obj) {
  uint64_t h = (uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15u;
  return (size_t)(h ^ (h >> 29)) & (l->nslots - 1);
}

static void index_put_locked(objlist *l, node *n) {
  size_t i = slot_of(l, n->obj);
  while (l->slots[i]) i = (i + 1) & (l->nslots - 1);
  l->slots[i] = n;
  l->nused++;
}

/* Makes room for one more entry; false when out of memory. Caller holds l->mu. */
static bool index_reserve_locked(objlist *l) {
  if (2 * (l->nused + 1) <= l->nslots) return true;
  size_t old_n = l->nslots;
  node **old = l->slots;
  size_t cap = l->nslots ? 2 * l->nslots : 64;
  node **fresh = calloc(cap, sizeof *fresh);
  if (!fresh) return false;
  l->slots = fresh;
  l->nslots = cap;
  l->nused = 0;
  for (size_t i = 0; i < old_n; i++) {
    if (old[i]) index_put_locked(l, old[i]);
  }
  free(old);
  return true;
}

/* Removes obj's node from the index and returns it (NULL if not listed). */
static node *index_take_locked(objlist *l, const void *obj) {
  if (!l->nslots) return NULL;
  size_t mask = l->nslots - 1, i = slot_of(l, obj);
  while (l->slots[i] && l->slots[i]->obj != obj) i = (i + 1) & mask;
  node *found = l->slots[i];
  if (!found) return NULL;
  l->slots[i] = NULL;
  l->nused--;
  for (size_t j = (i + 1) & mask; l->slots[j]; j = (j + 1) & mask) {
    node *moved = l->slots[j]; /* re-place the rest of the run */
    l->slots[j] = NULL;
    l->nused--;
    index_put_locked(l, moved);
  }
  return found;
}

static void prepare(void) {
  pthread_mutex_lock(&registries.mu);
  for (node *n = registries.head; n; n = n->next) pb__registry_lock(n->obj, true);
  pthread_mutex_lock(&benches.mu);
  for (node *n = benches.head; n; n = n->next) {
    pb_bench *b = n->obj;
    pthread_mutex_lock(&b->op_lock);
    pthread_mutex_lock(&b->save_mu);
    pb__olock_wait(&b->lock, false); /* held with any owner kept out, as a borrower */
  }
  pb__memprobe_atfork(0);
}

static void release(bool child) {
  pb__memprobe_atfork(child ? 2 : 1);
  if (child) pb__olock_process_forked();
  for (node *n = benches.head; n; n = n->next) {
    pb_bench *b = n->obj;
    if (child) {
      if (b->saving) { /* that save's thread is not in this process */
        b->saving = false;
        b->save_done = b->save_requested;
      }
      b->main_upto = b->disk_upto = 0; /* the child's files start with full ones */
      b->journaled = false;
      pb__olock_atfork_child(&b->lock); /* its owner and waiters may not be in this process */
    }
    pb__olock_unlock(&b->lock, 0); /* taken with pb__olock_wait: the spin lock */
    pthread_mutex_unlock(&b->save_mu);
    pthread_mutex_unlock(&b->op_lock);
  }
  pthread_mutex_unlock(&benches.mu);
  for (node *n = registries.head; n; n = n->next) pb__registry_lock(n->obj, false);
  pthread_mutex_unlock(&registries.mu);
}

static void parent(void) { release(false); }
static void child(void) { release(true); }

static void install(void) { pthread_atfork(prepare, parent, child); }

static void add(objlist *l, void *obj) {
  pthread_once(&fork_once, install);
  node *n = malloc(sizeof *n);
  pthread_mutex_lock(&l->mu);
  if (n && index_reserve_locked(l)) { /* without memory the object is merely not fork-protected */
    n->obj = obj;
    n->prev = NULL;
    n->next = l->head;
    if (l->head) l->head->prev = n;
    l->head = n;
    index_put_locked(l, n);
    n = NULL;
  }
  pthread_mutex_unlock(&l->mu);
  free(n);
}

static void drop(objlist *l, void *obj) {
  pthread_mutex_lock(&l->mu);
  node *n = index_take_locked(l, obj);
  if (n) {
    if (n->prev)
      n->prev->next = n->next;
    else
      l->head = n->next;
    if (n->next) n->next->prev = n->prev;
  }
  pthread_mutex_unlock(&l->mu);
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
