/*
 * fuzz_loader.c - hostile record files for the analysis library: the record
 * loader (pb_run_load_files, pb_run_load) and the summary statistics.
 *
 * Input: up to three files separated by NUL bytes: the DATA file, then the
 * SUMMARY file, then the MEMORY file ("<name>_STEP_DICT_*.json" in a scratch
 * run folder). The target loads them, walks every accessor, computes the
 * statistics of every topic and frees the run. Whatever the bytes, the
 * loader must return a status (a crash, a sanitizer report, a hang or an
 * inconsistent accessor is a defect).
 */
#include <math.h>

#include "fuzz_common.h"

#include "porter_bench_analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_record(const pb_record *r) {
  if (!pb_record_name(r)) FUZZ_DEFECT("a record without a name");
  size_t iters = pb_record_iter_count(r);
  const pb_iter_info *infos = pb_record_infos(r);
  for (size_t i = 0; i < iters; i++) {
    volatile double x = infos[i].start_time + infos[i].stop_time + (double)infos[i].step_number;
    (void)x;
  }
  size_t nt = pb_record_topic_count(r);
  for (size_t t = 0; t < nt; t++) {
    const char *name = pb_record_topic(r, t);
    if (!name) FUZZ_DEFECT("topic %zu of %zu has no name", t, nt);
    if (pb_record_topic_index(r, name) < 0) FUZZ_DEFECT("topic '%s' not found by name", name);
    const double *abs = pb_record_absolutes(r, t);
    if (iters && !abs) FUZZ_DEFECT("topic %zu has no absolutes", t);
    for (size_t i = 0; i < iters; i++) {
      volatile double x = abs[i];
      (void)x;
    }
    pb_stats st;
    int rc = pb_record_stats(r, t, &st);
    if (rc != PB_OK && rc != PB_ENOMEM) FUZZ_DEFECT("pb_record_stats: %d", rc);
    if (rc == PB_OK && st.count && !(st.min <= st.max)) {
      if (!isnan(st.min) && !isnan(st.max)) FUZZ_DEFECT("stats: min %g > max %g", st.min, st.max);
    }
  }
  if (pb_record_topic(r, nt) != NULL) FUZZ_DEFECT("topic out of range is not NULL");
  size_t nc = 0;
  const pb_call *calls = pb_record_calls(r, &nc);
  for (size_t i = 0; i < nc; i++) {
    if (calls[i].topic >= nt) FUZZ_DEFECT("call %zu: topic %u of %zu", i, calls[i].topic, nt);
    if (calls[i].iter >= iters)
      FUZZ_DEFECT("call %zu: iteration %u of %zu", i, calls[i].iter, iters);
  }
  size_t nm = 0;
  const pb_mem_record *mem = pb_record_memory(r, &nm);
  size_t nmt = pb_record_memory_topic_count(r);
  if (nm != pb_record_memory_count(r)) FUZZ_DEFECT("memory counts differ");
  for (size_t i = 0; i < nm; i++) {
    if (mem[i].topic >= nmt)
      FUZZ_DEFECT("memory record %zu: topic %u of %zu", i, mem[i].topic, nmt);
  }
  for (size_t t = 0; t < nmt; t++) {
    if (!pb_record_memory_topic(r, t)) FUZZ_DEFECT("memory topic %zu has no name", t);
  }
  (void)pb_record_memory_iter_count(r);
  (void)pb_record_has_heap(r);
  (void)pb_record_has_cuda(r);
  size_t ns = 0;
  const pb_saved_summary *sum = pb_record_saved_summary(r, &ns);
  for (size_t i = 0; i < ns; i++) {
    if (!sum[i].topic) FUZZ_DEFECT("saved summary %zu has no topic", i);
  }
  for (int k = 0; k < PB_CHART_KIND_COUNT; k++) (void)pb_chart_applies((pb_chart_kind)k, r);
}

static void walk_run(const pb_run *run) {
  (void)pb_run_path(run);
  size_t nd = pb_run_diagnostic_count(run);
  for (size_t i = 0; i < nd; i++) {
    if (!pb_run_diagnostic(run, i)) FUZZ_DEFECT("diagnostic %zu of %zu is NULL", i, nd);
  }
  (void)pb_run_metadata(run);
  size_t n = pb_run_record_count(run);
  for (size_t i = 0; i < n; i++) {
    const pb_record *r = pb_run_record(run, i);
    if (!r) FUZZ_DEFECT("record %zu of %zu is NULL", i, n);
    if (pb_run_find(run, pb_record_name(r)) == NULL) FUZZ_DEFECT("record not found by name");
    walk_record(r);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *dir = fuzz_scratch();
  static const char *const suffixes[3] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  char paths[3][192];
  size_t pos = 0;
  for (int k = 0; k < 3; k++) {
    snprintf(paths[k], sizeof paths[k], "%s/f%s", dir, suffixes[k]);
    if (pos > size) {
      unlink(paths[k]);
      continue;
    }
    const uint8_t *start = data + pos;
    const uint8_t *nul = memchr(start, 0, size - pos);
    size_t len = nul ? (size_t)(nul - start) : size - pos;
    fuzz_write(paths[k], start, len);
    pos += len + 1;
  }
  pb_run *run = NULL;
  pb_error err;
  int rc = pb_run_load_files(paths[0], &run, &err);
  if (rc == PB_OK) {
    if (!run) FUZZ_DEFECT("PB_OK without a run");
    walk_run(run);
    pb_run_free(run);
  } else if (run) {
    FUZZ_DEFECT("error %d with a run", rc);
  } else if (err.message[sizeof err.message - 1] != '\0' &&
             strnlen(err.message, sizeof err.message) == sizeof err.message) {
    FUZZ_DEFECT("error message not terminated");
  }
  run = NULL;
  rc = pb_run_load(dir, false, &run, &err); /* the folder as a run */
  if (rc == PB_OK) {
    walk_run(run);
    pb_run_free(run);
  }
  return 0;
}
