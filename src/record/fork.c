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
 */
#include <stdlib.h>

#include "bench.h"

typedef struct node {
  void *obj;
  struct node *next;
} node;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;   /* guards registries */
static pthread_mutex_t bench_mu = PTHREAD_MUTEX_INITIALIZER; /* guards benches */
static node *benches, *registries;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void prepare(void) {
  pthread_mutex_lock(&reg_mu);
  for (node *n = registries; n; n = n->next) pb__registry_lock(n->obj, true);
  pthread_mutex_lock(&bench_mu);
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
      atomic_store(&b->lock.sleepers, 0); /* its waiters are not in this process */
    }
    pb__spin_unlock(&b->lock);
    pthread_mutex_unlock(&b->save_mu);
    pthread_mutex_unlock(&b->op_lock);
  }
  pthread_mutex_unlock(&bench_mu);
  for (node *n = registries; n; n = n->next) pb__registry_lock(n->obj, false);
  pthread_mutex_unlock(&reg_mu);
}

static void parent(void) { release(false); }
static void child(void) { release(true); }

static void install(void) { pthread_atfork(prepare, parent, child); }

static void add(pthread_mutex_t *mu, node **list, void *obj) {
  pthread_once(&fork_once, install);
  node *n = malloc(sizeof *n);
  pthread_mutex_lock(mu);
  if (n) { /* without memory the object is merely not fork-protected */
    n->obj = obj;
    n->next = *list;
    *list = n;
  }
  pthread_mutex_unlock(mu);
}

static void drop(pthread_mutex_t *mu, node **list, void *obj) {
  pthread_mutex_lock(mu);
  for (node **p = list; *p; p = &(*p)->next) {
    if ((*p)->obj == obj) {
      node *n = *p;
      *p = n->next;
      free(n);
      break;
    }
  }
  pthread_mutex_unlock(mu);
}

void pb__fork_track_bench(pb_bench *b, bool on) {
  if (on)
    add(&bench_mu, &benches, b);
  else
    drop(&bench_mu, &benches, b);
}

void pb__fork_track_registry(pb_registry *r, bool on) {
  if (on)
    add(&reg_mu, &registries, r);
  else
    drop(&reg_mu, &registries, r);
}
