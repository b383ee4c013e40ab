/*
 * test_lost_records.c - records that were lost or misreported (issue 11,
 * defects 5-8): every iteration closed exactly once, no journal line deleted
 * by an overlapping save, steps made after pb_gstop on disk, and memory
 * records on disk never dropped by the loader.
 *
 * Usage: test_lost_records threads|loader
 *   threads  shared benchmarkers under several threads (label "thread": run
 *            under TSan too); files read back with jansson as a reader does
 *            and, where the analysis library is built, with pb_run_load
 *   loader   crash states read back with pb_run_load (needs the analysis
 *            library)
 *
 * The reader's rule (docs/RECORDING.md, "Auto-save journal"): the full file,
 * then the journal's complete lines in order; an entry whose STEP_NUMBER was
 * already read replaces the last one read when it holds more records (an
 * iteration only ever grows), and is dropped otherwise. `unlink` and `rename`
 * are wrapped at link time (-Wl,--wrap): the first to widen the window
 * between a save and its journal's removal as a preempted thread would, the
 * second to stop a process between the DATA and MEMORY renames of a save as
 * SIGKILL would.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

#ifdef REL_HAVE_ANALYSIS
#include "porter_bench_analysis.h"
#endif

/* ---- fault injection: unlink and rename wrapped at link time ---- */

int __real_unlink(const char *path);
int __real_rename(const char *from, const char *to);

static atomic_int g_slow_journal_unlink;   /* microseconds to wait before removing a journal */
static atomic_int g_die_after_data_rename; /* _exit(0) right after DATA is renamed into place */

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

int __wrap_unlink(const char *path);
int __wrap_unlink(const char *path) {
  int us = atomic_load(&g_slow_journal_unlink);
  if (us && has_suffix(path, ".journal")) {
    struct timespec ts = {0, (long)us * 1000L};
    nanosleep(&ts, NULL);
  }
  return __real_unlink(path);
}

int __wrap_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to) {
  int rc = __real_rename(from, to);
  if (rc == 0 && atomic_load(&g_die_after_data_rename) && has_suffix(to, PB_SUFFIX_DATA)) _exit(0);
  return rc;
}

/* ---- the reader ---- */

static long entry_step(json_t *it) {
  json_t *sn = json_object_get(json_object_get(it, "info"), "STEP_NUMBER");
  return json_is_integer(sn) ? (long)json_integer_value(sn) : -1;
}

/* Records of one entry: calls of a DATA iteration, records of a MEMORY one. */
static size_t entry_size(json_t *it) {
  json_t *lists = json_object_get(it, "individual_calls");
  if (!lists) lists = json_object_get(it, "data");
  size_t n = 0;
  const char *key;
  json_t *list;
  json_object_foreach(lists, key, list) n += json_array_size(list);
  return n;
}

/* Adds one entry to merged by the reader's rule. */
static void merge_entry(json_t *merged, json_t *it) {
  size_t n = json_array_size(merged);
  long last = n ? entry_step(json_array_get(merged, n - 1)) : -1;
  long k = entry_step(it);
  if (k > last) {
    json_array_append(merged, it);
  } else if (k == last && entry_size(it) > entry_size(json_array_get(merged, n - 1))) {
    json_array_set(merged, n - 1, it);
  }
}

/* What a reader sees of "<prefix><suffix>" plus its journal: a list of entries (never NULL). */
static json_t *read_merged(const char *prefix, const char *suffix) {
  char *full = rel_strf("%s%s", prefix, suffix);
  char *journal = rel_strf("%s%.*s.journal", prefix, (int)(strlen(suffix) - 5), suffix);
  json_t *merged = json_array();
  json_error_t err;
  json_t *base = rel_exists(full) ? rel_load(full, &err) : NULL;
  if (rel_exists(full) && !base) fail_msg("%s does not parse: %s", full, err.text);
  size_t i;
  json_t *it;
  json_array_foreach(base, i, it) merge_entry(merged, it);
  json_decref(base);
  FILE *f = fopen(journal, "rb");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while (f && (len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n') {
    json_t *part = json_loadb(line, (size_t)len, 0, &err);
    if (!json_is_array(part)) fail_msg("%s: a line does not parse: %s", journal, err.text);
    json_array_foreach(part, i, it) merge_entry(merged, it);
    json_decref(part);
  }
  free(line);
  if (f) fclose(f);
  free(full), free(journal);
  return merged;
}

/*
 * Checks a merged DATA list: STEP_NUMBERs 0..n-1 with no gap; every entry but
 * (when last_open) the last closed, with a GLOBAL. Returns n.
 */
static size_t check_gapless_closed(json_t *data, bool last_open) {
  size_t n = json_array_size(data);
  for (size_t i = 0; i < n; i++) {
    json_t *it = json_array_get(data, i);
    if (entry_step(it) != (long)i)
      fail_msg("entry %zu has STEP_NUMBER %ld: a gap (iterations lost)", i, entry_step(it));
    if (last_open && i + 1 == n) break;
    json_t *stop = json_object_get(json_object_get(it, "info"), "STOP_TIME");
    if (!json_is_number(stop) || json_number_value(stop) <= 0)
      fail_msg("iteration %zu of %zu was never closed (STOP_TIME 0)", i, n);
    if (!json_object_get(json_object_get(it, "absolutes"), "GLOBAL"))
      fail_msg("iteration %zu of %zu has no GLOBAL", i, n);
  }
  return n;
}

#ifdef REL_HAVE_ANALYSIS
/* Loads the run folder dir with the analysis library; its only record. */
static pb_run *load_run(const char *dir, const pb_record **rec) {
  pb_run *run = NULL;
  pb_error err;
  int rc = pb_run_load(dir, false, &run, &err);
  if (rc != PB_OK) fail_msg("pb_run_load(%s): %s", dir, err.message);
  for (size_t i = 0; i < pb_run_diagnostic_count(run); i++)
    printf("# loader: %s\n", pb_run_diagnostic(run, i));
  assert_int_equal(pb_run_record_count(run), 1);
  *rec = pb_run_record(run, 0);
  return run;
}

/* The loader's iterations: as many as expected, STEP_NUMBERs 0..n-1, closed but the last. */
static void loader_check_closed(const char *dir, size_t want, bool last_open) {
  const pb_record *r;
  pb_run *run = load_run(dir, &r);
  size_t n = pb_record_iter_count(r);
  if (n != want) fail_msg("the loader read %zu iterations, %zu expected", n, want);
  const pb_iter_info *info = pb_record_infos(r);
  for (size_t i = 0; i < n; i++) {
    if (info[i].step_number != (int64_t)i)
      fail_msg("loader: iteration %zu has STEP_NUMBER %lld", i, (long long)info[i].step_number);
    if (!(last_open && i + 1 == n) && info[i].stop_time <= 0)
      fail_msg("loader: iteration %zu was never closed", i);
  }
  pb_run_free(run);
}
#endif

/* ---- workloads ---- */

/* One open iteration of `steps` steps: past the 8192 time records from which auto-saves
 * append to a journal. */
static void fill(pb_bench *b, int steps) {
  REL_ASSERT_OK(pb_gstep(b));
  for (int i = 0; i < steps; i++) REL_ASSERT_OK(pb_step(b, "fill"));
}

enum { FILL = 8300 };

typedef struct worker {
  pb_bench *b;
  long n;
  int kind; /* 0: gstep + step; 1: pb_start; 2: start + step + gstop */
  atomic_int *stop;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  for (long i = 0; i < w->n; i++) {
    if (w->kind == 1) {
      pb_start(w->b);
      continue;
    }
    if (w->kind == 0) {
      REL_ASSERT_OK(pb_gstep(w->b));
    } else {
      pb_start(w->b);
    }
    pb_step(w->b, "t");
    if (w->kind == 2) REL_ASSERT_OK(pb_gstop(w->b));
  }
  return NULL;
}

/* ---- defect 5: an iteration left open in the middle of the file ---- */

/* Threads calling pb_gstep (kinds[k] = 0) or pb_start (1) on one benchmarker that auto-saves
 * at every gstop; then pb_gstop. Every iteration on disk must be closed, none missing. */
static void run_open_iteration_case(const char *tag, const int *kinds, int nthreads, bool memory) {
  char *dir = rel_mkdtemp(tag);
  char *prefix = rel_strf("%s/shared", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  fill(b, FILL);
  if (memory) REL_ASSERT_OK(pb_enable_memory_tracking(b, false));
  pb_set_save_on_gstop(b, 1);
  long n = rel_count("GSTEPS", memory ? 600 : 2000, true);
  pthread_t th[4];
  worker w[4];
  for (int k = 0; k < nthreads; k++) {
    w[k] = (worker){.b = b, .n = n, .kind = kinds[k]};
    assert_int_equal(pthread_create(&th[k], NULL, work, &w[k]), 0);
  }
  for (int k = 0; k < nthreads; k++) pthread_join(th[k], NULL);
  REL_ASSERT_OK(pb_gstop(b)); /* closes the last iteration and auto-saves */
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  long gsteps = 0;
  for (int k = 0; k < nthreads; k++) gsteps += kinds[k] == 0 ? n : 0;
  if (!kinds[nthreads - 1] && st.iterations != (uint64_t)(1 + gsteps))
    fail_msg("%llu iterations after %ld gsteps", (unsigned long long)st.iterations, gsteps);
  json_t *data = read_merged(prefix, PB_SUFFIX_DATA);
  size_t got = check_gapless_closed(data, false);
  if (got != st.iterations)
    fail_msg("%zu iterations on disk, %llu recorded", got, (unsigned long long)st.iterations);
  printf("# %s: %zu iterations, every one closed once\n", tag, got);
  json_decref(data);
#ifdef REL_HAVE_ANALYSIS
  loader_check_closed(dir, got, false);
#endif
  pb_bench_destroy(b);
  rel_rmtree(dir);
  free(dir), free(prefix);
}

static void test_gstep_threads_close_every_iteration(void **state) {
  (void)state;
  static const int kinds[2] = {0, 0};
  run_open_iteration_case("gstep2", kinds, 2, false);
}

static void test_gstep_threads_memory_close_every_iteration(void **state) {
  (void)state;
  static const int kinds[2] = {0, 0};
  run_open_iteration_case("gstepmem", kinds, 2, true);
}

static void test_gstep_and_start_close_every_iteration(void **state) {
  (void)state;
  static const int kinds[2] = {0, 1};
  run_open_iteration_case("gstepstart", kinds, 2, false);
}

/* ---- defect 6: auto-saved iterations deleted with the journal by an overlapping save ---- */

typedef struct saver {
  pb_bench *b;
  pthread_barrier_t *go;
} saver;

static void *save_once(void *arg) {
  saver *s = arg;
  pthread_barrier_wait(s->go);
  REL_ASSERT_OK(pb_save(s->b));
  return NULL;
}

/*
 * Rounds of one explicit pb_save against a burst of start/step/gstop with
 * auto-save on every gstop (journal lines). A journal's removal is slowed by
 * a few milliseconds, as a preempted saving thread would be. After each
 * round what is on disk (the view after a crash now) must hold every closed
 * iteration, with no gap.
 */
static void test_save_overlapping_autosaves_loses_nothing(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("saveauto");
  char *prefix = rel_strf("%s/shared", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  fill(b, FILL);
  for (int i = 0; i < 400; i++) { /* the journal may hold up to 4x what the full file does */
    REL_ASSERT_OK(pb_gstep(b));
    REL_ASSERT_OK(pb_step(b, "t"));
  }
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b));
  pb_set_save_on_gstop(b, 1);
  atomic_store(&g_slow_journal_unlink, 3000);
  long rounds = rel_count("ROUNDS", 40, true);
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, 2);
  for (long r = 0; r < rounds; r++) {
    saver s = {b, &go};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, save_once, &s), 0);
    worker w = {.b = b, .n = 40, .kind = 2};
    pthread_barrier_wait(&go);
    work(&w);
    pthread_join(th, NULL);
    pb_bench_stats st;
    REL_ASSERT_OK(pb_bench_get_stats(b, &st));
    json_t *data = read_merged(prefix, PB_SUFFIX_DATA);
    size_t got = check_gapless_closed(data, false);
    json_decref(data);
    if (got != st.iterations)
      fail_msg("round %ld: %zu iterations on disk, %llu closed and auto-saved", r, got,
               (unsigned long long)st.iterations);
#ifdef REL_HAVE_ANALYSIS
    if (r % 8 == 0) loader_check_closed(dir, got, false);
#endif
  }
  atomic_store(&g_slow_journal_unlink, 0);
  pthread_barrier_destroy(&go);
  printf("# %ld rounds of pb_save against auto-saves: nothing lost\n", rounds);
  pb_bench_destroy(b);
  rel_rmtree(dir);
  free(dir), free(prefix);
}

#ifdef REL_HAVE_ANALYSIS

/* ---- defect 7: a step made after pb_gstop, then a crash ---- */

enum { LATE_ITERS = 120 };

/* Child: auto-save at every gstop, a step "late" after each gstop, memory per step; ends
 * without a save, as a crash would. */
static void late_child(const char *prefix) {
  pb_bench *b = NULL;
  if (pb_bench_create(prefix, &b) != PB_OK) _exit(10);
  pb_gstep(b);
  for (int i = 0; i < FILL; i++) pb_step(b, "fill");
  if (pb_enable_memory_tracking(b, true) != PB_OK) _exit(11);
  pb_set_save_on_gstop(b, 1);
  for (int i = 0; i < LATE_ITERS; i++) {
    if (pb_gstep(b) != PB_OK) _exit(12);
    pb_step(b, "a");
    if (pb_gstop(b) != PB_OK) _exit(13);
    pb_step(b, "late"); /* joins the iteration just closed */
  }
  _exit(0);
}

static int run_child(void (*fn)(const char *), const char *prefix) {
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) fn(prefix);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/* Calls of topic `name` in iteration it of r. */
static size_t calls_of(const pb_record *r, const char *name, size_t it) {
  long t = pb_record_topic_index(r, name);
  size_t n, c = 0;
  const pb_call *calls = pb_record_calls(r, &n);
  for (size_t k = 0; t >= 0 && k < n; k++)
    c += calls[k].iter == it && calls[k].topic == (uint32_t)t;
  return c;
}

static void test_step_after_gstop_survives_crash(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("late");
  char *prefix = rel_strf("%s/late", dir);
  int status = run_child(late_child, prefix);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  const pb_record *r;
  pb_run *run = load_run(dir, &r);
  /* iteration 0: the fill; 1..LATE_ITERS: the loop. The last one's late step came after its
   * save: everything before it must be on disk, late steps and their memory records too. */
  assert_int_equal(pb_record_iter_count(r), 1 + LATE_ITERS);
  size_t missing = 0, mem_late = 0, nm;
  for (size_t i = 1; i < LATE_ITERS; i++) missing += calls_of(r, "late", i) != 1;
  const pb_mem_record *m = pb_record_memory(r, &nm);
  long lt = -1;
  for (size_t t = 0; t < pb_record_memory_topic_count(r); t++)
    if (!strcmp(pb_record_memory_topic(r, t), "late")) lt = (long)t;
  for (size_t k = 0; k < nm; k++) mem_late += lt >= 0 && m[k].topic == (uint32_t)lt;
  printf(
      "# %d iterations with a step after gstop: %zu late steps missing, %zu of %d late memory "
      "records on disk\n",
      LATE_ITERS - 1, missing, mem_late, LATE_ITERS - 1);
  if (missing) fail_msg("%zu steps made after pb_gstop are not on disk", missing);
  assert_int_equal(mem_late, LATE_ITERS - 1);
  json_t *data = read_merged(prefix, PB_SUFFIX_DATA); /* the jansson reader agrees */
  assert_int_equal(check_gapless_closed(data, false), 1 + LATE_ITERS);
  assert_int_equal(rel_count_calls(data, "late"), LATE_ITERS - 1);
  json_decref(data);
  pb_run_free(run);
  rel_rmtree(dir);
  free(dir), free(prefix);
}

/* ---- defect 8: memory records on disk dropped by the loader ---- */

/*
 * Child: memory per step; a full save; more iterations auto-saved as journal
 * lines; then a full save that rewrites DATA but not MEMORY: over
 * RLIMIT_FSIZE (`fsize`), or stopped right after the DATA rename (as SIGKILL
 * would). Writes "<iterations> <memory records>" to <prefix>.want first.
 */
static void mem_child(const char *prefix, bool fsize) {
  pb_bench *b = NULL;
  if (pb_bench_create(prefix, &b) != PB_OK) _exit(10);
  if (pb_enable_memory_tracking(b, true) != PB_OK) _exit(11);
  pb_gstep(b);
  for (int i = 0; i < FILL / 2; i++) pb_step(b, "fill"); /* two time records per step */
  for (int i = 0; i < 40; i++) {
    pb_gstep(b);
    for (int k = 0; k < 5; k++) pb_step(b, "m");
  }
  pb_gstop(b);
  if (pb_save(b) != PB_OK) _exit(12);
  pb_set_save_on_gstop(b, 1);
  for (int i = 0; i < 6; i++) { /* six journal lines */
    pb_gstep(b);
    for (int k = 0; k < 5; k++) pb_step(b, "m");
    if (pb_gstop(b) != PB_OK) _exit(13);
  }
  pb_bench_stats st;
  pb_bench_get_stats(b, &st);
  char *want = rel_strf("%s.want", prefix),
       *text = rel_strf("%llu %llu\n", (unsigned long long)st.iterations,
                        (unsigned long long)st.memory_records);
  if (!rel_write_file(want, text)) _exit(14);
  char *data = rel_strf("%s%s", prefix, PB_SUFFIX_DATA),
       *mem = rel_strf("%s%s", prefix, PB_SUFFIX_MEMORY);
  struct stat sd, sm;
  if (stat(data, &sd) || stat(mem, &sm)) _exit(15);
  if (fsize) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim;
    getrlimit(RLIMIT_FSIZE, &lim);
    lim.rlim_cur = (rlim_t)(sd.st_size + sm.st_size) / 2; /* DATA fits, MEMORY does not */
    if (sm.st_size < sd.st_size * 3 / 2 || setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(16);
    int rc = pb_save(b);
    fprintf(stderr, "# child: pb_save -> %s: %s\n", pb_err_name(rc), pb_last_error());
    if (rc != PB_EIO || !strstr(pb_last_error(), PB_SUFFIX_MEMORY)) _exit(17);
    _exit(0);
  }
  atomic_store(&g_die_after_data_rename, 1);
  pb_save(b);
  _exit(18); /* not reached: the rename of DATA ends the process */
}

static void mem_child_fsize(const char *prefix) { mem_child(prefix, true); }
static void mem_child_killed(const char *prefix) { mem_child(prefix, false); }

static void check_memory_on_disk(const char *tag, void (*child)(const char *)) {
  char *dir = rel_mkdtemp(tag);
  char *prefix = rel_strf("%s/mem", dir);
  int status = run_child(child, prefix);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("child status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
  char *wantf = rel_strf("%s.want", prefix);
  FILE *f = fopen(wantf, "r");
  unsigned long long iters = 0, mrecs = 0;
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%llu %llu", &iters, &mrecs), 2);
  fclose(f);
  unlink(wantf); /* not a record file */
  char *journal = rel_strf("%s_MEMORY.journal", prefix);
  assert_true(rel_exists(journal)); /* the state under test: journals beside an old MEMORY */
  const pb_record *r;
  pb_run *run = load_run(dir, &r);
  size_t nm = pb_record_memory_count(r);
  printf("# %s: the loader read %zu iterations and %zu of %llu memory records\n", tag,
         pb_record_iter_count(r), nm, mrecs);
  assert_int_equal(pb_record_iter_count(r), iters);
  if (nm != mrecs) fail_msg("%zu of %llu memory records read: records on disk dropped", nm, mrecs);
  json_t *mem = read_merged(prefix, PB_SUFFIX_MEMORY); /* the jansson reader agrees */
  size_t sum = 0, i;
  json_t *it;
  json_array_foreach(mem, i, it) sum += entry_size(it);
  assert_int_equal(sum, mrecs);
  json_decref(mem);
  pb_run_free(run);
  rel_rmtree(dir);
  free(dir), free(prefix), free(wantf), free(journal);
}

static void test_memory_kept_when_save_fails_on_memory(void **state) {
  (void)state;
  check_memory_on_disk("memfsize", mem_child_fsize);
}

static void test_memory_kept_when_killed_between_renames(void **state) {
  (void)state;
  check_memory_on_disk("memkill", mem_child_killed);
}
#endif /* REL_HAVE_ANALYSIS */

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "threads";
  if (!strcmp(mode, "threads")) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gstep_threads_close_every_iteration),
        cmocka_unit_test(test_gstep_and_start_close_every_iteration),
        cmocka_unit_test(test_gstep_threads_memory_close_every_iteration),
        cmocka_unit_test(test_save_overlapping_autosaves_loses_nothing),
    };
    return cmocka_run_group_tests_name("lost records: threads", tests, NULL, NULL);
  }
#ifdef REL_HAVE_ANALYSIS
  if (!strcmp(mode, "loader")) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_after_gstop_survives_crash),
        cmocka_unit_test(test_memory_kept_when_save_fails_on_memory),
        cmocka_unit_test(test_memory_kept_when_killed_between_renames),
    };
    return cmocka_run_group_tests_name("lost records: loader", tests, NULL, NULL);
  }
  return 2;
#else
  return !strcmp(mode, "loader") ? REL_SKIP : 2;
#endif
}
