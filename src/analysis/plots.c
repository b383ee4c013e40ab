/*
 * plots.c - the original's generate_plots: every chart of every benchmarker
 * of a run, written into one folder.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* mkdir -p */
static int make_dirs(const char *dir) {
  char buf[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == 0) {
      char c = buf[i];
      buf[i] = 0;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
      buf[i] = c;
    }
  }
  struct stat st;
  return (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) ? 0 : -1;
}

static bool wanted(const char *name, const char *const *topics, size_t ntopics) {
  if (!topics) return true;
  for (size_t i = 0; i < ntopics; i++)
    if (topics[i] && strcmp(topics[i], name) == 0) return true;
  return false;
}

/* One chart to write; the jobs of a run are shared by a few threads. A job
 * with ranks set draws the rank x iteration heat map of benchmarker name
 * (pb_chart_ranks_write), or with spread also set its per-topic spread
 * across the ranks (pb_chart_rank_spread_write); the others draw chart
 * kind of record r. */
typedef struct plot_job {
  const pb_record *r;
  const pb_run *ranks; /* the multi-rank run, for a heat map */
  const char *name;    /* the heat map's benchmarker */
  bool spread;         /* the per-topic spread instead of the heat map */
  pb_chart_kind kind;
  char title[160]; /* empty: the default title */
  char file[4096];
  int rc;
  pb_error e;
} plot_job;

typedef struct plot_pool {
  plot_job *jobs;
  size_t n, next;
  pb_format fmt;
  const pb_chart_options *opts;
  pthread_mutex_t lock; /* guards next only; charts are drawn without it */
} plot_pool;

static void *plot_worker(void *arg) {
  plot_pool *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->lock);
    size_t i = p->next++;
    pthread_mutex_unlock(&p->lock);
    if (i >= p->n) return NULL;
    plot_job *j = &p->jobs[i];
    if (j->ranks && j->spread)
      j->rc = pb_chart_rank_spread_write(j->ranks, j->name, p->opts, p->fmt, j->file, &j->e);
    else if (j->ranks)
      j->rc = pb_chart_ranks_write(j->ranks, j->name, "GLOBAL", p->fmt, j->file, &j->e);
    else
      j->rc = pb_chart_write_opts(j->kind, &j->r, NULL, 1, j->title[0] ? j->title : NULL, p->fmt,
                                  j->file, p->opts, &j->e);
  }
}

/* Queues the charts of record r that apply into pool (title NULL: default). */
static void queue_record(plot_pool *pool, const pb_record *r, const char *dir, const char *title) {
  for (int k = 0; k < PB_CHART_KIND_COUNT; k++) {
    if (!pb_chart_applies((pb_chart_kind)k, r)) continue;
    plot_job *j = &pool->jobs[pool->n];
    int len = snprintf(j->file, sizeof j->file, "%s/%s_%s.%s", dir, pb_record_name(r),
                       pb_chart_name((pb_chart_kind)k), pb_format_ext(pool->fmt));
    if (len < 0 || (size_t)len >= sizeof j->file) continue;
    j->r = r;
    j->kind = (pb_chart_kind)k;
    snprintf(j->title, sizeof j->title, "%s", title ? title : "");
    pool->n++;
  }
}

/* The jobs of a run of one process: every chart of every wanted benchmarker. */
static int queue_run(plot_pool *pool, const pb_run *run, const char *dir, const char *const *topics,
                     size_t ntopics) {
  pool->jobs = calloc(pb_run_record_count(run) * PB_CHART_KIND_COUNT + 1, sizeof(plot_job));
  if (!pool->jobs) return PB_ENOMEM;
  for (size_t i = 0; i < pb_run_record_count(run); i++) {
    const pb_record *r = pb_run_record(run, i);
    if (wanted(pb_record_name(r), topics, ntopics)) queue_record(pool, r, dir, NULL);
  }
  return PB_OK;
}

/* True when a rank before rank i of run has benchmarker name. */
static bool seen_before(const pb_run *run, size_t i, const char *name) {
  for (size_t k = 0; k < i; k++)
    if (pb_run_find(pb_run_rank(run, k), name)) return true;
  return false;
}

/* The index of the rank whose id is id, or the count when none. */
static size_t rank_index(const pb_run *run, int id) {
  size_t i = 0;
  while (i < pb_run_rank_count(run) && pb_run_rank_id(run, i) != id) i++;
  return i;
}

/* Queues a per-rank chart of benchmarker name: "<name>_<suffix>.<ext>". */
static void queue_rank_chart(plot_pool *pool, const pb_run *run, const char *dir, const char *name,
                             const char *suffix, bool spread) {
  plot_job *j = &pool->jobs[pool->n];
  int len =
      snprintf(j->file, sizeof j->file, "%s/%s_%s.%s", dir, name, suffix, pb_format_ext(pool->fmt));
  if (len > 0 && (size_t)len < sizeof j->file) {
    j->ranks = run;
    j->name = name;
    j->spread = spread;
    pool->n++;
  }
}

/* Benchmarker name of a multi-rank run: its GLOBAL heat map, its per-topic
 * spread, then the ordinary charts of its slowest rank (largest GLOBAL
 * mean), titled so. */
static int queue_rank_bench(plot_pool *pool, const pb_run *run, const char *dir, const char *name) {
  pb_rank_spread sp;
  int st = pb_run_rank_spread(run, name, "GLOBAL", &sp);
  if (st != PB_OK || sp.ranks == 0) return st;
  queue_rank_chart(pool, run, dir, name, "ranks", false);
  queue_rank_chart(pool, run, dir, name, "rank_spread", true);
  size_t i = rank_index(run, sp.max_rank);
  const pb_record *r = i < pb_run_rank_count(run) ? pb_run_find(pb_run_rank(run, i), name) : NULL;
  char title[160];
  snprintf(title, sizeof title, "%.100s (slowest rank %d)", name, sp.max_rank);
  if (r) queue_record(pool, r, dir, title);
  return PB_OK;
}

/* The jobs of a multi-rank run: per wanted benchmarker of any rank, in
 * order of first appearance, a heat map, the per-topic spread and the
 * slowest rank's charts. */
static int queue_ranks(plot_pool *pool, const pb_run *run, const char *dir,
                       const char *const *topics, size_t ntopics) {
  size_t cap = 0;
  for (size_t i = 0; i < pb_run_rank_count(run); i++)
    cap += pb_run_record_count(pb_run_rank(run, i)) * (PB_CHART_KIND_COUNT + 2);
  pool->jobs = calloc(cap + 1, sizeof(plot_job));
  if (!pool->jobs) return PB_ENOMEM;
  int st = PB_OK;
  for (size_t i = 0; st == PB_OK && i < pb_run_rank_count(run); i++) {
    const pb_run *rank = pb_run_rank(run, i);
    for (size_t k = 0; st == PB_OK && k < pb_run_record_count(rank); k++) {
      const char *name = pb_record_name(pb_run_record(rank, k));
      if (wanted(name, topics, ntopics) && !seen_before(run, i, name))
        st = queue_rank_bench(pool, run, dir, name);
    }
  }
  return st;
}

static int set_error(pb_error *err, int code, const char *what, const char *detail) {
  if (err) {
    err->code = code;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%.400s%s%.100s", what, detail ? ": " : "",
             detail ? detail : "");
  }
  return code;
}

int pb_plots_write(const pb_run *run, const char *dir, const char *const *topics, size_t ntopics,
                   pb_format fmt, pb_plot_written_fn on_file, void *user_data, pb_error *err) {
  return pb_plots_write_opts(run, dir, topics, ntopics, fmt, NULL, on_file, user_data, err);
}

int pb_plots_write_opts(const pb_run *run, const char *dir, const char *const *topics,
                        size_t ntopics, pb_format fmt, const pb_chart_options *opts,
                        pb_plot_written_fn on_file, void *user_data, pb_error *err) {
  if (!run || !dir || !pb_format_ext(fmt))
    return set_error(err, PB_EINVAL, "invalid arguments", NULL);
  if (make_dirs(dir) != 0) {
    int e = errno;
    char what[440];
    snprintf(what, sizeof what, "%.400s: cannot create the folder", dir);
    return set_error(err, PB_EIO, what, strerror(e));
  }
  plot_pool pool = {NULL, 0, 0, fmt, opts, PTHREAD_MUTEX_INITIALIZER};
  int st = pb_run_rank_count(run) ? queue_ranks(&pool, run, dir, topics, ntopics)
                                  : queue_run(&pool, run, dir, topics, ntopics);
  if (st != PB_OK) {
    free(pool.jobs);
    return set_error(err, st, "out of memory", NULL);
  }
  /* charts are independent: draw them on a few threads (cairo and pango
   * are thread-safe for separate surfaces) */
  size_t nthreads = (size_t)pb__analysis_threads();
  if (nthreads > pool.n) nthreads = pool.n;
  pthread_t tid[8];
  size_t started = 0;
  for (size_t t = 1; t < nthreads && t < 8; t++)
    if (pthread_create(&tid[started], NULL, plot_worker, &pool) == 0) started++;
  plot_worker(&pool);
  for (size_t t = 0; t < started; t++) pthread_join(tid[t], NULL);
  /* report in order, from the calling thread */
  int first = PB_OK;
  for (size_t i = 0; i < pool.n; i++) {
    plot_job *j = &pool.jobs[i];
    if (j->rc == PB_OK) {
      if (on_file) on_file(j->file, user_data);
    } else if (first == PB_OK) {
      first = j->rc;
      if (err) *err = j->e;
    }
  }
  pthread_mutex_destroy(&pool.lock);
  free(pool.jobs);
  return first;
}

int pb_generate_plots(const char *root, const char *dir, pb_error *err) {
  if (!root) {
    const char *env = getenv(PB_ENV_ROOT);
    root = (env && *env) ? env : PB_DEFAULT_ROOT;
  }
  pb_run *run = NULL;
  int rc = pb_run_load(root, true, &run, err);
  if (rc) return rc;
  rc = pb_plots_write(run, dir ? dir : "PLOTS", NULL, 0, PB_FORMAT_PNG, NULL, NULL, err);
  pb_run_free(run);
  return rc;
}
