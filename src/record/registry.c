/*
 * registry.c - the original's GlobalBenchmarker: named benchmarkers created
 * on first use, saved under "<root>/<timestamp>/<name>", plus the process-wide
 * defaults (registry, benchmarker, timer).
 *
 * Look-ups: two hash indexes (names, and file names for the uniqueness
 * rule) make pb_registry_get O(1) whatever the number of names (issue 11,
 * defect 13: a linear search cost 278 us per get at 40,000 names).
 *
 * Lock: r->mu guards every field of the registry (entries, indexes, run
 * folder, enabled flag). It is held while looking up or inserting a name, never while
 * saving or while calling into a benchmarker that others can see: operations
 * on all benchmarkers copy the list under the lock and work outside it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench.h"

typedef struct entry {
  char *name;
  char *fname; /* its file name in the run folder (unique in the registry) */
  pb_bench *bench;
} entry;

struct pb_registry {
  pthread_mutex_t mu;
  entry *entries;
  size_t n, cap;
  size_t *by_name;   /* open addressing: entry index + 1 (0 = empty), keyed by name */
  size_t *by_fname;  /* the same, keyed by file name */
  size_t nslots;     /* slots of each index: a power of two, at least 2 * n */
  char *root;        /* the root folder */
  char *run_dir;     /* "<root>/<timestamp>[-N]", or "<root>/<job>[-N]/rank-NNNNN" */
  pb_rank_info rank; /* read when the run folder is chosen; rank -1: one process */
  bool claimed;      /* run_dir has been created by this registry */
  bool enabled;
};

/* "2026-11-26T07-15-42.123456Z": UTC, sortable, no colons. */
static void timestamp(char *buf, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[32];
  strftime(head, sizeof head, "%Y-%m-%dT%H-%M-%S", &tm);
  snprintf(buf, n, "%s.%06ldZ", head, ts.tv_nsec / 1000);
}

static char *join_run_dir(const char *root) {
  char ts[64];
  timestamp(ts, sizeof ts);
  size_t n = strlen(root) + strlen(ts) + 2;
  char *dir = malloc(n);
  if (dir) snprintf(dir, n, "%s/%s", root, ts);
  return dir;
}

/* The run folder under root: the job's rank folder in a multi-process job. */
static char *plan_run_dir(const char *root, pb_rank_info *ri) {
  pb_rank_detect(ri);
  return ri->rank >= 0 ? pb__rank_run_dir(root, ri, 0) : join_run_dir(root);
}

static const char *default_root(void) {
  const char *env = pb__getenv(PB_ENV_ROOT);
  return env ? env : PB_DEFAULT_ROOT;
}

int pb_registry_create(const char *root, pb_registry **out) {
  if (!out) return pb__fail(PB_EINVAL, "pb_registry_create: out is NULL");
  *out = NULL;
  pb_registry *r = calloc(1, sizeof *r);
  if (!r) return pb__fail(PB_ENOMEM, "out of memory creating a registry");
  r->root = strdup(root && *root ? root : default_root());
  r->run_dir = r->root ? plan_run_dir(r->root, &r->rank) : NULL;
  if (!r->run_dir) {
    free(r->root);
    free(r);
    return pb__fail(PB_ENOMEM, "out of memory creating a registry");
  }
  pthread_mutex_init(&r->mu, NULL);
  r->enabled = true;
  pb__fork_track_registry(r, true);
  *out = r;
  return PB_OK;
}

void pb_registry_destroy(pb_registry *r) {
  if (!r) return;
  pb__fork_track_registry(r, false);
  for (size_t i = 0; i < r->n; i++) {
    pb__bench_free(r->entries[i].bench);
    free(r->entries[i].name);
    free(r->entries[i].fname);
  }
  free(r->entries);
  free(r->by_name);
  free(r->by_fname);
  free(r->root);
  free(r->run_dir);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

void pb__registry_lock(pb_registry *r, bool lock) {
  if (lock)
    pthread_mutex_lock(&r->mu);
  else
    pthread_mutex_unlock(&r->mu);
}

/*
 * Claims the run folder: creates it, and if another run already made one of
 * that name, moves to "<dir>-1", "<dir>-2", ... Caller holds r->mu.
 */
static int claim_locked(pb_registry *r) {
  if (r->claimed) return PB_OK;
  int rc = pb__mkdir_p(r->root);
  if (rc) return rc;
  if (r->rank.rank >= 0) {
    rc = pb__rank_claim(r->root, &r->rank, &r->run_dir);
    r->claimed = rc == PB_OK;
    return rc;
  }
  size_t n = strlen(r->run_dir) + 16;
  char *dir = malloc(n);
  if (!dir) return pb__fail(PB_ENOMEM, "out of memory creating the run folder");
  snprintf(dir, n, "%s", r->run_dir);
  for (int k = 1; mkdir(dir, 0777) != 0; k++) {
    if (errno != EEXIST || k > 10000) {
      rc = pb__fail(PB_EIO, "cannot create run folder '%s': %s", dir, strerror(errno));
      free(dir);
      return rc;
    }
    snprintf(dir, n, "%s-%d", r->run_dir, k);
  }
  free(r->run_dir);
  r->run_dir = dir;
  r->claimed = true;
  return PB_OK;
}

/*
 * The file name of a benchmarker name: bytes outside [A-Za-z0-9._-] become
 * '_', a leading '.' becomes '_', and a name that had to change (or is over
 * 128 bytes) gets "-" and 8 hex digits of its FNV-1a hash, so that two
 * different names never share a file and no name leaves the run folder.
 */
static char *file_name(const char *name) {
  size_t len = strlen(name);
  size_t keep = len > 128 ? 128 : len;
  char *out = malloc(keep + 10);
  if (!out) return NULL;
  bool changed = len != keep;
  uint32_t h = pb__fnv1a32(name, len);
  for (size_t i = 0; i < keep; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || (c == '.' && i > 0);
    out[i] = ok ? c : '_';
    changed |= !ok;
  }
  if (changed)
    snprintf(out + keep, 10, "-%08x", h);
  else
    out[keep] = '\0';
  return out;
}

/* The slot of key in an index: the entry holding it, or the empty slot where
 * it would go. fname selects the file-name index. Caller holds r->mu. */
static size_t *slot_locked(const pb_registry *r, const char *key, bool fname) {
  size_t *idx = fname ? r->by_fname : r->by_name;
  size_t mask = r->nslots - 1;
  for (size_t i = pb__hash_slot(key, strlen(key)) & mask;; i = (i + 1) & mask) {
    if (!idx[i]) return &idx[i];
    const entry *e = &r->entries[idx[i] - 1];
    if (strcmp(fname ? e->fname : e->name, key) == 0) return &idx[i];
  }
}

/* Grows both indexes so that one more entry keeps them at most half full. */
static bool reserve_index_locked(pb_registry *r) {
  if (2 * (r->n + 1) <= r->nslots) return true;
  size_t cap = r->nslots ? 2 * r->nslots : 64;
  size_t *by_name = calloc(cap, sizeof *by_name), *by_fname = calloc(cap, sizeof *by_fname);
  if (!by_name || !by_fname) {
    free(by_name);
    free(by_fname);
    return false;
  }
  free(r->by_name);
  free(r->by_fname);
  r->by_name = by_name;
  r->by_fname = by_fname;
  r->nslots = cap;
  for (size_t i = 0; i < r->n; i++) {
    *slot_locked(r, r->entries[i].name, false) = i + 1;
    *slot_locked(r, r->entries[i].fname, true) = i + 1;
  }
  return true;
}

static pb_bench *find_locked(pb_registry *r, const char *name) {
  if (!r->nslots) return NULL;
  size_t k = *slot_locked(r, name, false);
  return k ? r->entries[k - 1].bench : NULL;
}

static bool fname_taken_locked(const pb_registry *r, const char *fname) {
  return r->nslots && *slot_locked(r, fname, true) != 0;
}

/*
 * A file name no other name of the registry has: a name that is already
 * safe may equal another's sanitised form ("a_b-3a8e75c1" and "a/b"), so a
 * taken file name gets "-2", "-3", ... until it is free.
 */
static char *unique_fname_locked(const pb_registry *r, const char *name) {
  char *fname = file_name(name);
  if (!fname || !fname_taken_locked(r, fname)) return fname;
  size_t n = strlen(fname) + 24;
  char *alt = malloc(n);
  for (unsigned k = 2; alt; k++) {
    snprintf(alt, n, "%s-%u", fname, k);
    if (!fname_taken_locked(r, alt)) break;
  }
  free(fname);
  return alt;
}

static pb_bench *insert_locked(pb_registry *r, const char *name, char **meta) {
  if (!reserve_index_locked(r)) {
    pb__fail(PB_ENOMEM, "out of memory creating benchmarker '%s'", name);
    return NULL;
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    entry *e = realloc(r->entries, cap * sizeof *e);
    if (!e) return NULL;
    r->entries = e;
    r->cap = cap;
  }
  bool was_claimed = r->claimed;
  if (claim_locked(r) != PB_OK) return NULL;
  if (!was_claimed) { /* written by the caller once the lock is released */
    size_t mn = strlen(r->run_dir) + sizeof PB__RUN_META + 1;
    *meta = malloc(mn);
    if (*meta) snprintf(*meta, mn, "%s/%s", r->run_dir, PB__RUN_META);
  }
  char *fname = unique_fname_locked(r, name);
  char *copy = strdup(name);
  size_t n = strlen(r->run_dir) + (fname ? strlen(fname) : 0) + 2;
  char *path = malloc(n);
  pb_bench *b = NULL;
  if (fname && copy && path) {
    snprintf(path, n, "%s/%s", r->run_dir, fname);
    pb__bench_create_owned(path, &b);
  }
  free(path);
  if (!b) {
    free(copy);
    free(fname);
    pb__fail(PB_ENOMEM, "out of memory creating benchmarker '%s'", name);
    return NULL;
  }
  if (!r->enabled) pb_disable(b);
  r->entries[r->n].name = copy;
  r->entries[r->n].fname = fname;
  r->entries[r->n].bench = b;
  *slot_locked(r, copy, false) = r->n + 1;
  *slot_locked(r, fname, true) = r->n + 1;
  r->n++;
  return b;
}

pb_bench *pb_registry_get(pb_registry *r, const char *name) {
  if (!r || !name || !*name) {
    pb__fail(PB_EINVAL, "pb_registry_get: registry or name is NULL or empty");
    return NULL;
  }
  char *meta = NULL;
  if (!pb__call_enter()) return NULL; /* re-entered from a signal handler */
  pb_rank_info rank;
  pthread_mutex_lock(&r->mu);
  pb_bench *b = find_locked(r, name);
  if (!b) b = insert_locked(r, name, &meta);
  rank = r->rank;
  pthread_mutex_unlock(&r->mu);
  pb__call_leave(); /* the metadata's calibration makes guarded calls of its own */
  if (meta) {
    int old = pb__nocancel_begin(); /* no temporary file left behind */
    if (pb__write_run_meta(meta, &rank) != PB_OK)
      pb__warn("cannot write run metadata: %s", pb_last_error());
    pb__nocancel_end(old);
    free(meta);
  }
  return b;
}

int pb_registry_set_default_path(pb_registry *r, const char *root) {
  if (!r || !root || !*root)
    return pb__fail(PB_EINVAL, "pb_registry_set_default_path: bad argument");
  char *new_root = strdup(root);
  pb_rank_info rank;
  char *dir = new_root ? plan_run_dir(root, &rank) : NULL;
  if (!dir) {
    free(new_root);
    return pb__fail(PB_ENOMEM, "out of memory setting the default path");
  }
  pthread_mutex_lock(&r->mu);
  free(r->root);
  free(r->run_dir);
  r->root = new_root;
  r->run_dir = dir;
  r->rank = rank;
  r->claimed = false;
  pthread_mutex_unlock(&r->mu);
  return PB_OK;
}

int pb_registry_run_dir(pb_registry *r, char *buf, size_t n) {
  if (!r || !buf) return pb__fail(PB_EINVAL, "pb_registry_run_dir: NULL argument");
  pthread_mutex_lock(&r->mu);
  size_t len = strlen(r->run_dir);
  int rc = len < n ? (int)len : PB_EINVAL;
  if (len < n) memcpy(buf, r->run_dir, len + 1);
  pthread_mutex_unlock(&r->mu);
  if (rc < 0)
    return pb__fail(PB_EINVAL, "pb_registry_run_dir: buffer of %zu bytes is too small", n);
  return rc;
}

/* Copies the benchmarkers under the lock; the caller frees the array. */
static pb_bench **snapshot(pb_registry *r, size_t *n, bool set_enabled, bool enabled) {
  pthread_mutex_lock(&r->mu);
  if (set_enabled) r->enabled = enabled;
  pb_bench **list = malloc((r->n ? r->n : 1) * sizeof *list);
  *n = list ? r->n : 0;
  for (size_t i = 0; i < *n; i++) list[i] = r->entries[i].bench;
  pthread_mutex_unlock(&r->mu);
  return list;
}

static void set_all(pb_registry *r, bool on) {
  if (!r) return;
  size_t n;
  pb_bench **list = snapshot(r, &n, true, on);
  for (size_t i = 0; i < n; i++) {
    if (on)
      pb_enable(list[i]);
    else
      pb_disable(list[i]);
  }
  free(list);
}

void pb_registry_enable(pb_registry *r) { set_all(r, true); }
void pb_registry_disable(pb_registry *r) { set_all(r, false); }

static int registry_save(pb_registry *r) {
  pthread_mutex_lock(&r->mu);
  bool enabled = r->enabled;
  pthread_mutex_unlock(&r->mu);
  if (!enabled) return PB_OK;
  size_t n;
  pb_bench **list = snapshot(r, &n, false, false);
  if (!list) return pb__fail(PB_ENOMEM, "out of memory saving the registry");
  int first = PB_OK;
  for (size_t i = 0; i < n; i++) {
    int rc = pb__bench_save(list[i]);
    if (rc && !first) first = rc;
  }
  free(list);
  return first;
}

int pb_registry_save(pb_registry *r) {
  if (!r) return pb__fail(PB_EINVAL, "pb_registry_save: registry is NULL");
  if (!pb__call_enter()) return PB_EBUSY;
  int rc = registry_save(r);
  pb__call_leave();
  return rc;
}

size_t pb_registry_size(pb_registry *r) {
  if (!r) return 0;
  pthread_mutex_lock(&r->mu);
  size_t n = r->n;
  pthread_mutex_unlock(&r->mu);
  return n;
}

/* ---- process-wide defaults ---- */

static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;
static pb_registry *default_registry;
static pb_bench *default_bench;
static pb_timer default_timer;

static void make_defaults(void) {
  pb_registry_create(NULL, &default_registry);
  pb_rank_info ri; /* in a job, each rank its own folder: ranks share a working directory */
  pb_rank_detect(&ri);
  char path[64] = "performance_benchmark/default";
  if (ri.rank >= 0) snprintf(path, sizeof path, "performance_benchmark/rank-%05d/default", ri.rank);
  pb_bench_create(path, &default_bench);
  pb_timer_tic(&default_timer);
}

pb_registry *pb_default_registry(void) {
  pthread_once(&defaults_once, make_defaults);
  return default_registry;
}

pb_bench *pb_get(const char *name) { return pb_registry_get(pb_default_registry(), name); }

pb_bench *pb_default_bench(void) {
  pthread_once(&defaults_once, make_defaults);
  return default_bench;
}

pb_timer *pb_default_timer(void) {
  pthread_once(&defaults_once, make_defaults);
  return &default_timer;
}
