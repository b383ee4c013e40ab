/*
 * fork.c - porter_bench across fork(): every benchmarker and registry is
 * listed, and fork handlers take all their locks in the parent before the
 * fork, so that the child never inherits a lock held by a thread it does not
 * have, nor a half-made record. In the child, a save that another thread had
 * under way is forgotten, and saves of inherited benchmarkers write to
 * "<path>.fork-<pid>_*.json" (see pb__bench_file_base): a child never
 * replaces its parent's files.
 *
 * Lock: all_mu guards the two lists. Order at fork: all_mu, each registry's
 * mu, then each benchmarker's op_lock, save_mu and lock, then the memory
 * probe's lock; released in reverse.
 */
#include <stdlib.h>

#include "bench.h"

typedef struct node {
  void *obj;
  struct node *next;
} node;

static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static node *benches, *registries;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

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
  if (n) { /* without memory the object is merely not fork-protected */
    n->obj = obj;
    n->next = *list;
    *list = n;
  }
  pthread_mutex_unlock(&all_mu);
}

static void drop(node **list, void *obj) {
  pthread_mutex_lock(&all_mu);
  for (node **p = list; *p; p = &(*p)->next) {
    if ((*p)->obj == obj) {
      node *n = *p;
      *p = n->next;
      free(n);
      break;
    }
  }
  pthread_mutex_unlock(&all_mu);
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
