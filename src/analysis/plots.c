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

/* One chart to write; the jobs of a run are shared by a few threads. */
typedef struct plot_job {
  const pb_record *r;
  pb_chart_kind kind;
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
    j->rc = pb_chart_write_opts(j->kind, &j->r, NULL, 1, NULL, p->fmt, j->file, p->opts, &j->e);
  }
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
  size_t cap = pb_run_record_count(run) * PB_CHART_KIND_COUNT;
  plot_pool pool = {calloc(cap + 1, sizeof(plot_job)), 0, 0, fmt, opts, PTHREAD_MUTEX_INITIALIZER};
  if (!pool.jobs) return set_error(err, PB_ENOMEM, "out of memory", NULL);
  for (size_t i = 0; i < pb_run_record_count(run); i++) {
    const pb_record *r = pb_run_record(run, i);
    if (!wanted(pb_record_name(r), topics, ntopics)) continue;
    for (int k = 0; k < PB_CHART_KIND_COUNT; k++) {
      if (!pb_chart_applies((pb_chart_kind)k, r)) continue;
      plot_job *j = &pool.jobs[pool.n];
      int len = snprintf(j->file, sizeof j->file, "%s/%s_%s.%s", dir, pb_record_name(r),
                         pb_chart_name((pb_chart_kind)k), pb_format_ext(fmt));
      if (len < 0 || (size_t)len >= sizeof j->file) continue;
      j->r = r;
      j->kind = (pb_chart_kind)k;
      pool.n++;
    }
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
