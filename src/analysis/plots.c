/*
 * plots.c - the original's generate_plots: every chart of every benchmarker
 * of a run, written into one folder.
 */
#include <errno.h>
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

int pb_plots_write(const pb_run *run, const char *dir, const char *const *topics, size_t ntopics,
                   pb_format fmt, pb_plot_written_fn on_file, void *user_data, pb_error *err) {
  if (!run || !dir || !pb_format_ext(fmt)) {
    if (err) {
      err->code = PB_EINVAL;
      err->line = err->column = 0;
      snprintf(err->message, sizeof err->message, "invalid arguments");
    }
    return PB_EINVAL;
  }
  if (make_dirs(dir) != 0) {
    if (err) {
      err->code = PB_EIO;
      err->line = err->column = 0;
      snprintf(err->message, sizeof err->message, "%s: cannot create the folder: %s", dir,
               strerror(errno));
    }
    return PB_EIO;
  }
  int first = PB_OK;
  for (size_t i = 0; i < pb_run_record_count(run); i++) {
    const pb_record *r = pb_run_record(run, i);
    if (!wanted(pb_record_name(r), topics, ntopics)) continue;
    for (int k = 0; k < PB_CHART_KIND_COUNT; k++) {
      if (!pb_chart_applies((pb_chart_kind)k, r)) continue;
      char file[4096];
      int len = snprintf(file, sizeof file, "%s/%s_%s.%s", dir, pb_record_name(r),
                         pb_chart_name((pb_chart_kind)k), pb_format_ext(fmt));
      if (len < 0 || (size_t)len >= sizeof file) continue;
      pb_error e;
      int rc = pb_chart_write((pb_chart_kind)k, &r, NULL, 1, NULL, fmt, file, &e);
      if (rc) {
        if (first == PB_OK) {
          first = rc;
          if (err) *err = e;
        }
        continue;
      }
      if (on_file) on_file(file, user_data);
    }
  }
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
