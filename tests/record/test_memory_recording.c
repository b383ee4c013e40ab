/*
 * test_memory_recording.c - memory tracking: the extra time topics, the
 * MEMORY file's records, and the values they hold (RSS rise, exact peak of a
 * spike inside one step, heap in use).
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024.0 * 1024.0)
#define SPIKE_BYTES ((size_t)64 << 20)

typedef struct fixture {
  char *dir;
  pb_bench *b;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  f->dir = th_mkdtemp("mem");
  char *prefix = th_strf("%s/mem/bench", f->dir);
  int rc = pb_bench_create(prefix, &f->b);
  free(prefix);
  if (rc != PB_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pb_bench_destroy(f->b);
  th_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* The exact-peak tests: PB_PEAK_RESET (opt-in) for their duration. */
static int setup_reset(void **state) {
  (void)pb_set_peak_mode(PB_PEAK_RESET); /* PB_ENOTSUP where the kernel refuses: skipped */
  return setup(state);
}

/* Skips a PB_PEAK_RESET test where the kernel refuses the reset. */
static void need_reset(void) {
  if (pb_get_peak_mode() != PB_PEAK_RESET) {
    printf("# the kernel refuses to reset the peak: PB_PEAK_RESET test skipped\n");
    skip();
  }
}

static int teardown_reset(void **state) {
  int rc = teardown(state);
  return pb_set_peak_mode(PB_PEAK_SAMPLE) == PB_OK ? rc : -1;
}

static json_t *mem_record(json_t *mem_iteration, const char *topic, size_t j) {
  json_t *r = json_array_get(json_object_get(json_object_get(mem_iteration, "data"), topic), j);
  if (!json_is_object(r)) fail_msg("no memory record %zu of topic '%s'", j, topic);
  return r;
}

static double mem_num(json_t *record, const char *key) {
  json_t *v = json_object_get(record, key);
  if (!json_is_number(v)) fail_msg("memory record field '%s' is not a number", key);
  return json_number_value(v);
}

/* Checks one memory record's fields: the original's six keys in their order,
 * plus "heap memory usage", and the value types. */
static void check_record_shape(json_t *r, long long crono) {
  static const char *const order[] = {
      "total memory usage", "cuda memory usage", "top_memory_objects", "crono_counter", "extra",
      "max memory usage"};
  size_t pos = 0;
  for (size_t i = 0; i < json_object_size(r) && pos < 6; i++)
    if (strcmp(th_key_at(r, i), order[pos]) == 0) pos++;
  if (pos != 6) {
    char *d = json_dumps(r, JSON_COMPACT);
    fail_msg("memory record keys out of order or missing ('%s'): %s", order[pos], d);
  }
  assert_non_null(json_object_get(r, "heap memory usage"));
  assert_int_equal(json_object_size(r), 7);

  assert_true(json_is_integer(json_object_get(r, "total memory usage")));
  assert_true(mem_num(r, "total memory usage") > 1024 * 1024);
  json_t *cuda = json_object_get(r, "cuda memory usage");
  assert_true(json_is_null(cuda) || json_is_object(cuda));
  assert_true(json_is_array(json_object_get(r, "top_memory_objects")));
  assert_int_equal(json_integer_value(json_object_get(r, "crono_counter")), crono);
  json_t *peak = json_object_get(r, "max memory usage");
  assert_true(json_is_null(peak) || json_is_integer(peak));
  json_t *heap = json_object_get(r, "heap memory usage");
  assert_true(json_is_null(heap) || json_is_integer(heap));
}

static void check_crono_sequence(json_t *calls_or_data, size_t expected_n) {
  /* every crono_counter 0..n-1 appears exactly once */
  char *seen = calloc(expected_n + 1, 1);
  size_t total = 0;
  const char *topic;
  json_t *list;
  json_object_foreach(calls_or_data, topic, list) {
    for (size_t j = 0; j < json_array_size(list); j++) {
      json_int_t c = json_integer_value(json_object_get(json_array_get(list, j), "crono_counter"));
      if (c < 0 || (size_t)c >= expected_n || seen[c])
        fail_msg("crono_counter %lld of '%s' out of place", (long long)c, topic);
      seen[c] = 1;
      total++;
    }
  }
  assert_int_equal(total, expected_n);
  free(seen);
}

/* Per-step tracking: the time topics and memory records of the sample
 * memory_STEP_DICT_DATA.json / memory_MEMORY.json. */
static void test_per_step_topics(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  for (int i = 0; i < 2; i++) {
    TH_ASSERT_OK(pb_gstep(f->b));
    TH_ASSERT_OK(pb_step(f->b, "allocate"));
    TH_ASSERT_OK(pb_step(f->b, "compute"));
    TH_ASSERT_OK(pb_step(f->b, "maybe_free"));
  }
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));

  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  assert_int_equal(json_array_size(data), 2);
  assert_true(json_is_array(mem));
  assert_int_equal(json_array_size(mem), 2);

  const char *const time_topics[] = {"gstep_memory",
                                     "allocate",
                                     "allocate_MEMORY_STEP",
                                     "compute",
                                     "compute_MEMORY_STEP",
                                     "maybe_free",
                                     "maybe_free_MEMORY_STEP",
                                     "gstop",
                                     "gstop_memory",
                                     "GLOBAL",
                                     NULL};
  const char *const mem_topics[] = {"gstep", "allocate", "compute", "maybe_free", "gstop", NULL};
  for (size_t i = 0; i < 2; i++) {
    json_t *it = json_array_get(data, i);
    th_assert_keys(json_object_get(it, "absolutes"), time_topics);
    th_assert_keys(json_object_get(it, "individual_calls"), time_topics);
    /* crono_counter of time records: 0..9 in the listed order */
    for (size_t k = 0; time_topics[k] != NULL; k++) {
      json_t *c = json_array_get(
          json_object_get(json_object_get(it, "individual_calls"), time_topics[k]), 0);
      assert_int_equal(json_integer_value(json_object_get(c, "crono_counter")), k);
      double t = json_number_value(json_object_get(c, "time"));
      assert_true(t >= 0 && th_is_ns_seconds(t));
    }

    json_t *m = json_array_get(mem, i);
    th_assert_keys(m, (const char *const[]){"info", "data", NULL});
    th_assert_keys(json_object_get(m, "info"),
                   (const char *const[]){"STEP_NUMBER", "START_TIME", "STOP_TIME", NULL});
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "info"), "STEP_NUMBER")),
                     i);
    assert_true(json_number_value(json_object_get(json_object_get(m, "info"), "STOP_TIME")) >
                1.6e9);
    th_assert_keys(json_object_get(m, "data"), mem_topics);
    for (size_t k = 0; mem_topics[k] != NULL; k++) {
      json_t *list = json_object_get(json_object_get(m, "data"), mem_topics[k]);
      assert_int_equal(json_array_size(list), 1);
      json_t *r = json_array_get(list, 0);
      check_record_shape(r, (long long)k);
      assert_true(json_is_null(json_object_get(r, "extra")));
      if (!pb_cuda_available()) assert_true(json_is_null(json_object_get(r, "cuda memory usage")));
    }
  }

  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.memory_records, 10);
  assert_int_equal(st.iterations, 2);

  /* the summary lists the memory topics too, GLOBAL last */
  json_t *summary = th_must_load(f->b, PB_SUFFIX_SUMMARY);
  th_assert_keys(summary, time_topics);
  json_decref(summary);
  json_decref(mem);
  json_decref(data);
}

/* Without per-step records: gstep and gstop records only. */
static void test_gstep_gstop_only(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, false));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  TH_ASSERT_OK(pb_step(f->b, "b"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));

  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *it = json_array_get(data, 0);
  const char *const topics[] = {"gstep_memory", "a", "b", "gstop", "gstop_memory", "GLOBAL", NULL};
  th_assert_keys(json_object_get(it, "individual_calls"), topics);
  check_crono_sequence(json_object_get(it, "individual_calls"), 6);
  json_t *m = json_array_get(mem, 0);
  th_assert_keys(json_object_get(m, "data"), (const char *const[]){"gstep", "gstop", NULL});
  check_record_shape(mem_record(m, "gstep", 0), 0);
  check_record_shape(mem_record(m, "gstop", 0), 1);
  json_decref(mem);
  json_decref(data);
}

/* Memory tracking off: the MEMORY file is [] and no memory topics appear;
 * turning it off keeps the records already taken. */
static void test_tracking_off(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  assert_true(json_is_array(mem));
  assert_int_equal(json_array_size(mem), 0);
  json_decref(mem);
  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  th_assert_keys(json_object_get(json_array_get(data, 0), "absolutes"),
                 (const char *const[]){"a", "gstop", "GLOBAL", NULL});
  json_decref(data);

  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "a"));
  pb_disable_memory_tracking(f->b);
  TH_ASSERT_OK(pb_step(f->b, "b"));
  TH_ASSERT_OK(pb_gstop(f->b));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(f->b, &st));
  assert_int_equal(st.memory_records, 2); /* gstep and a */
  TH_ASSERT_OK(pb_save(f->b));
  mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  data = th_must_load(f->b, PB_SUFFIX_DATA);
  /* the first iteration had no memory records; the second has gstep and a */
  size_t total = 0;
  for (size_t i = 0; i < json_array_size(mem); i++) {
    json_t *d = json_object_get(json_array_get(mem, i), "data");
    const char *k;
    json_t *v;
    json_object_foreach(d, k, v) total += json_array_size(v);
  }
  assert_int_equal(total, 2);
  json_t *it1 = json_array_get(data, 1);
  assert_int_equal(th_calls(it1, "a_MEMORY_STEP"), 1);
  assert_int_equal(th_calls(it1, "b_MEMORY_STEP"), 0);
  assert_int_equal(th_calls(it1, "gstop_memory"), 0);
  json_decref(data);
  json_decref(mem);
}

/* 64 MiB allocated and touched between two records: RSS rises by >= 60 MiB,
 * and the second record's peak is at least its RSS. */
static void test_rss_rise(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "before"));
  char *p = malloc(SPIKE_BYTES);
  assert_non_null(p);
  memset(p, 0x5a, SPIKE_BYTES);
  TH_ASSERT_OK(pb_step(f->b, "after"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  volatile char sink = p[SPIKE_BYTES - 1];
  (void)sink;
  free(p);

  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *m = json_array_get(mem, 0);
  json_t *before = mem_record(m, "before", 0), *after = mem_record(m, "after", 0);
  double rise = mem_num(after, "total memory usage") - mem_num(before, "total memory usage");
  if (rise < 60 * MiB) fail_msg("RSS rose by %.1f MiB, expected >= 60", rise / MiB);
  double peak = mem_num(after, "max memory usage");
  double rss = mem_num(after, "total memory usage");
  if (peak < rss)
    fail_msg("peak since the previous record %.0f B is below the RSS %.0f B of the same record",
             peak, rss);
  json_decref(mem);
}

/* Maps, touches and unmaps 64 MiB: a spike that is over before the next record. */
static void spike(void) {
  char *p = mmap(NULL, SPIKE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(p != MAP_FAILED);
  memset(p, 0x33, SPIKE_BYTES);
  munmap(p, SPIKE_BYTES);
}

/* The exact-peak feature (PB_PEAK_RESET): a spike inside one step shows in
 * that step's record as a peak >= 60 MiB above the previous RSS, while RSS
 * fell back, even when the process had been higher before. */
static void test_exact_peak_of_freed_spike(void **state) {
  fixture *f = *state;
  need_reset();
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "pre"));
  spike();
  TH_ASSERT_OK(pb_step(f->b, "spike"));
  TH_ASSERT_OK(pb_step(f->b, "quiet"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));

  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *m = json_array_get(mem, 0);
  double pre_rss = mem_num(mem_record(m, "pre", 0), "total memory usage");
  json_t *s = mem_record(m, "spike", 0);
  double peak = mem_num(s, "max memory usage");
  double rss = mem_num(s, "total memory usage");
  if (peak < pre_rss + 60 * MiB)
    fail_msg("peak %.1f MiB not >= previous RSS %.1f MiB + 60 MiB", peak / MiB, pre_rss / MiB);
  if (rss > pre_rss + 32 * MiB)
    fail_msg("RSS %.1f MiB did not fall back (previous %.1f MiB)", rss / MiB, pre_rss / MiB);
  /* the next record's peak is since the spike record: the spike is not in it */
  json_t *q = json_object_get(mem_record(m, "quiet", 0), "max memory usage");
  if (json_is_integer(q) && json_number_value(q) >= pre_rss + 60 * MiB)
    fail_msg("peak of the record after the spike (%.1f MiB) still holds the spike",
             json_number_value(q) / MiB);
  json_decref(mem);
}

/* Two benchmarkers tracking at once both see one spike in their next record
 * (PB_PEAK_RESET). */
static void test_two_benchmarkers_see_spike(void **state) {
  fixture *f = *state;
  need_reset();
  pb_bench *b2 = NULL;
  char *p2 = th_strf("%s/mem/second", f->dir);
  TH_ASSERT_OK(pb_bench_create(p2, &b2));
  free(p2);
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_enable_memory_tracking(b2, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_gstep(b2));
  TH_ASSERT_OK(pb_step(f->b, "pre"));
  TH_ASSERT_OK(pb_step(b2, "pre"));
  spike();
  TH_ASSERT_OK(pb_step(f->b, "spike"));
  TH_ASSERT_OK(pb_step(b2, "spike"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_gstop(b2));
  TH_ASSERT_OK(pb_save(f->b));
  TH_ASSERT_OK(pb_save(b2));

  pb_bench *both[2] = {f->b, b2};
  for (int i = 0; i < 2; i++) {
    json_t *mem = th_must_load(both[i], PB_SUFFIX_MEMORY);
    json_t *m = json_array_get(mem, 0);
    double pre_rss = mem_num(mem_record(m, "pre", 0), "total memory usage");
    double peak = mem_num(mem_record(m, "spike", 0), "max memory usage");
    if (peak < pre_rss + 60 * MiB)
      fail_msg("benchmarker %d: peak %.1f MiB not >= %.1f MiB + 60 MiB", i + 1, peak / MiB,
               pre_rss / MiB);
    json_decref(mem);
  }
  pb_bench_destroy(b2);
}

/* A live malloc of 64 MiB raises the heap in use by >= 60 MiB. */
static void test_heap_in_use(void **state) {
  fixture *f = *state;
  if (th_sanitized()) {
    /* the sanitizer's allocator is not glibc's: heap counters do not see it */
    skip();
  }
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "pre"));
  char *p = malloc(SPIKE_BYTES);
  assert_non_null(p);
  memset(p, 1, SPIKE_BYTES);
  TH_ASSERT_OK(pb_step(f->b, "live"));
  free(p);
  TH_ASSERT_OK(pb_step(f->b, "freed"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));

  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *m = json_array_get(mem, 0);
  json_t *pre = json_object_get(mem_record(m, "pre", 0), "heap memory usage");
  json_t *live = json_object_get(mem_record(m, "live", 0), "heap memory usage");
  json_t *freed = json_object_get(mem_record(m, "freed", 0), "heap memory usage");
  if (!json_is_integer(pre) || !json_is_integer(live) || !json_is_integer(freed))
    fail_msg("heap memory usage is not a number with glibc malloc");
  double rise = json_number_value(live) - json_number_value(pre);
  if (rise < 60 * MiB) fail_msg("heap in use rose by %.1f MiB, expected >= 60", rise / MiB);
  double fall = json_number_value(live) - json_number_value(freed);
  if (fall < 60 * MiB)
    fail_msg("heap in use fell by %.1f MiB after free, expected >= 60", fall / MiB);
  json_decref(mem);
}

/* Memory extras: stored in the memory record; invalid text gives PB_EJSON
 * with both records made and the memory extra null. */
static void test_memory_extra(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step_ex(f->b, "x", "{\"t\":1}", "{\"k\":[1,2,\"three\"]}"));
  TH_ASSERT_STATUS(pb_step_ex(f->b, "y", "[true]", "{oops"), PB_EJSON);
  TH_ASSERT_STATUS(pb_step_ex(f->b, "z", "not json", "7"), PB_EJSON);
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));

  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *data = th_must_load(f->b, PB_SUFFIX_DATA);
  json_t *m = json_array_get(mem, 0);
  json_t *it = json_array_get(data, 0);
  json_t *want = json_pack("{s:[i,i,s]}", "k", 1, 2, "three");
  assert_true(json_equal(json_object_get(mem_record(m, "x", 0), "extra"), want));
  json_decref(want);
  json_t *calls = json_object_get(it, "individual_calls");
  want = json_pack("{s:i}", "t", 1);
  assert_true(
      json_equal(json_object_get(json_array_get(json_object_get(calls, "x"), 0), "extra"), want));
  json_decref(want);
  /* y: time extra valid, memory extra invalid */
  want = json_pack("[b]", 1);
  assert_true(
      json_equal(json_object_get(json_array_get(json_object_get(calls, "y"), 0), "extra"), want));
  json_decref(want);
  assert_true(json_is_null(json_object_get(mem_record(m, "y", 0), "extra")));
  /* z: time extra invalid, memory extra valid */
  assert_true(
      json_is_null(json_object_get(json_array_get(json_object_get(calls, "z"), 0), "extra")));
  json_t *zm = json_object_get(mem_record(m, "z", 0), "extra");
  assert_true(json_is_integer(zm) && json_integer_value(zm) == 7);
  json_decref(data);
  json_decref(mem);
}

static void test_cuda_and_args(void **state) {
  fixture *f = *state;
  TH_ASSERT_STATUS(pb_enable_memory_tracking(NULL, true), PB_EINVAL);
  pb_disable_memory_tracking(NULL);
  TH_ASSERT_STATUS(pb_set_peak_poll_period(0), PB_EINVAL);
  TH_ASSERT_STATUS(pb_set_peak_poll_period(-1), PB_EINVAL);
  TH_ASSERT_OK(pb_set_peak_poll_period(0.05));
  TH_ASSERT_OK(pb_set_peak_poll_period(0.1));
  assert_true(pb_enable_cuda_memory_tracking(NULL) != PB_OK);
  pb_disable_cuda_memory_tracking(NULL);
  if (!pb_cuda_available()) {
    TH_ASSERT_STATUS(pb_enable_cuda_memory_tracking(f->b), PB_ENOTSUP);
    return;
  }
  /* with a GPU: a cuda object with the original's four fields */
  TH_ASSERT_OK(pb_enable_cuda_memory_tracking(f->b));
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, false));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *cuda =
      json_object_get(mem_record(json_array_get(mem, 0), "gstep", 0), "cuda memory usage");
  assert_true(json_is_object(cuda));
  const char *keys[] = {"allocated", "reserved", "max_allocated", "max_reserved"};
  for (int i = 0; i < 4; i++) assert_true(json_is_number(json_object_get(cuda, keys[i])));
  json_decref(mem);
}

/* VmHWM of this process, bytes (-1 if unreadable). */
static double vm_hwm(void) {
  FILE *fp = fopen("/proc/self/status", "r");
  char line[256];
  double v = -1;
  while (fp && fgets(line, sizeof line, fp)) {
    if (strncmp(line, "VmHWM:", 6) == 0) v = strtod(line + 6, NULL) * 1024;
  }
  if (fp) fclose(fp);
  return v;
}

static double maxrss_self(void) {
  struct rusage ru;
  assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
  return (double)ru.ru_maxrss * 1024;
}

/* Touches and frees a block that sets a new high-water mark: 64 MiB above it. */
static void new_high(void) {
  double rss = 0, hwm = vm_hwm();
  FILE *fp = fopen("/proc/self/statm", "r");
  long pages = 0;
  long size = 0;
  if (fp && fscanf(fp, "%ld %ld", &size, &pages) == 2) rss = (double)pages * (double)getpagesize();
  if (fp) fclose(fp);
  size_t n = (size_t)(hwm - rss) + SPIKE_BYTES;
  char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(p != MAP_FAILED);
  memset(p, 0x5a, n);
  munmap(p, n);
}

/* Tracks memory for a few records, with a freed spike among them. */
static void track_a_little(pb_bench *b) {
  TH_ASSERT_OK(pb_enable_memory_tracking(b, true));
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_step(b, "a"));
  spike();
  TH_ASSERT_OK(pb_step(b, "b"));
  TH_ASSERT_OK(pb_gstop(b));
  pb_disable_memory_tracking(b);
  TH_ASSERT_OK(pb_save(b));
}

/*
 * Issue 11, defect 10: by default memory tracking leaves the host's own peak
 * figures alone: after a 64 MiB block was touched and freed, tracking memory
 * leaves getrusage's ru_maxrss and VmHWM at that peak, and a parent reading
 * wait4's rusage sees the child's real peak.
 */
static void test_host_peak_untouched(void **state) {
  fixture *f = *state;
  new_high();
  double hwm = vm_hwm(), maxrss = maxrss_self();
  track_a_little(f->b);
  if (vm_hwm() < hwm || maxrss_self() < maxrss)
    fail_msg(
        "tracking memory lowered the process's peak: VmHWM %.1f -> %.1f MiB, ru_maxrss "
        "%.1f -> %.1f MiB",
        hwm / MiB, vm_hwm() / MiB, maxrss / MiB, maxrss_self() / MiB);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) { /* a child with a 256 MiB peak, tracking memory after it */
    size_t n = (size_t)256 << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    memset(p, 0x11, n);
    munmap(p, n);
    pb_bench *c = NULL;
    char *prefix = th_strf("%s/child/c", f->dir);
    int ok = pb_bench_create(prefix, &c) == PB_OK && pb_enable_memory_tracking(c, true) == PB_OK;
    for (int i = 0; ok && i < 5; i++) ok = pb_gstep(c) == PB_OK && pb_gstop(c) == PB_OK;
    ok = ok && pb_save(c) == PB_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  struct rusage ru;
  assert_int_equal(wait4(pid, &status, 0, &ru), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  if ((double)ru.ru_maxrss * 1024 < 256 * MiB)
    fail_msg("the parent sees a peak of %.1f MiB for a child that peaked above 256 MiB",
             (double)ru.ru_maxrss / 1024);
}

/*
 * The default mode's peak: exact when the interval set a new process-wide
 * high (the record after a freed block that did holds it), and never below
 * the record's own RSS.
 */
static void test_sampled_peak_of_new_high(void **state) {
  fixture *f = *state;
  TH_ASSERT_OK(pb_enable_memory_tracking(f->b, true));
  TH_ASSERT_OK(pb_gstep(f->b));
  TH_ASSERT_OK(pb_step(f->b, "pre"));
  double before = vm_hwm();
  new_high();
  TH_ASSERT_OK(pb_step(f->b, "high"));
  TH_ASSERT_OK(pb_gstop(f->b));
  TH_ASSERT_OK(pb_save(f->b));
  json_t *mem = th_must_load(f->b, PB_SUFFIX_MEMORY);
  json_t *m = json_array_get(mem, 0);
  double peak = mem_num(mem_record(m, "high", 0), "max memory usage");
  if (peak < before + 60 * MiB)
    fail_msg("peak %.1f MiB of the record after a new high is not >= the old high %.1f MiB + 60",
             peak / MiB, before / MiB);
  double rss = mem_num(mem_record(m, "pre", 0), "total memory usage");
  assert_true(mem_num(mem_record(m, "pre", 0), "max memory usage") >= rss);
  json_decref(mem);
}

/*
 * PB_PEAK_RESET is opt-in and does what the documentation says it costs: the
 * process's own VmHWM then holds only the peak since the last record, and a
 * parent's wait4 sees the child's peak since its last record.
 */
static void test_reset_mode_opt_in(void **state) {
  fixture *f = *state;
  assert_int_equal(pb_get_peak_mode(), PB_PEAK_SAMPLE);
  TH_ASSERT_STATUS(pb_set_peak_mode((pb_peak_mode)7), PB_EINVAL);
  int rc = pb_set_peak_mode(PB_PEAK_RESET);
  if (rc == PB_ENOTSUP) {
    assert_int_equal(pb_get_peak_mode(), PB_PEAK_SAMPLE);
    need_reset();
  }
  TH_ASSERT_OK(rc);
  assert_int_equal(pb_get_peak_mode(), PB_PEAK_RESET);
  new_high();
  double hwm = vm_hwm();
  track_a_little(f->b);
  if (vm_hwm() > hwm - 60 * MiB)
    fail_msg("PB_PEAK_RESET: VmHWM %.1f MiB after tracking, expected the reset below %.1f MiB",
             vm_hwm() / MiB, (hwm - 60 * MiB) / MiB);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) { /* the mode carries over into a child */
    size_t n = (size_t)256 << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    memset(p, 0x11, n);
    munmap(p, n);
    pb_bench *c = NULL;
    char *prefix = th_strf("%s/child/c", f->dir);
    int ok = pb_bench_create(prefix, &c) == PB_OK && pb_enable_memory_tracking(c, true) == PB_OK;
    ok = ok && pb_gstep(c) == PB_OK && pb_gstop(c) == PB_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  struct rusage ru;
  assert_int_equal(wait4(pid, &status, 0, &ru), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  if ((double)ru.ru_maxrss * 1024 >= 256 * MiB)
    fail_msg("PB_PEAK_RESET: the parent still sees the child's 256 MiB peak (%.1f MiB)",
             (double)ru.ru_maxrss / 1024);
  TH_ASSERT_OK(pb_set_peak_mode(PB_PEAK_SAMPLE));
  assert_int_equal(pb_get_peak_mode(), PB_PEAK_SAMPLE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_per_step_topics, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gstep_gstop_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tracking_off, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rss_rise, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exact_peak_of_freed_spike, setup_reset, teardown_reset),
      cmocka_unit_test_setup_teardown(test_two_benchmarkers_see_spike, setup_reset, teardown_reset),
      cmocka_unit_test_setup_teardown(test_heap_in_use, setup, teardown),
      cmocka_unit_test_setup_teardown(test_memory_extra, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cuda_and_args, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_peak_untouched, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sampled_peak_of_new_high, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reset_mode_opt_in, setup, teardown),
  };
  return cmocka_run_group_tests_name("memory_recording", tests, NULL, NULL);
}
