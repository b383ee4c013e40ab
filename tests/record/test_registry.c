/*
 * test_registry.c - the registry (the original's GlobalBenchmarker): run
 * folders, get-or-create from many threads, name sanitising, enable/disable
 * and save of all, and the process-wide defaults.
 */
#include "helpers.h"

#include <ftw.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *g_dir; /* the test folder, also the current directory */

static int group_setup(void **state) {
  (void)state;
  g_dir = th_mkdtemp("registry");
  if (g_dir == NULL || chdir(g_dir) != 0) return -1;
  unsetenv(PB_ENV_ROOT);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (chdir("/tmp") != 0) return -1;
  th_rmtree(g_dir);
  free(g_dir);
  return 0;
}

static char *run_dir(pb_registry *r) {
  char buf[4096];
  int n = pb_registry_run_dir(r, buf, sizeof buf);
  if (n < 0) fail_msg("pb_registry_run_dir: %s", pb_err_name(n));
  assert_int_equal((size_t)n, strlen(buf));
  return strdup(buf);
}

/* Checks "<root>/YYYY-MM-DDTHH-MM-SS.ffffffZ[-N]" with a time near now (UTC). */
static void check_run_dir(const char *dir, const char *root) {
  size_t lr = strlen(root);
  if (strncmp(dir, root, lr) != 0 || dir[lr] != '/')
    fail_msg("run dir '%s' is not under '%s'", dir, root);
  const char *stamp = dir + lr + 1;
  regex_t re;
  assert_int_equal(
      regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\\.[0-9]{6}Z(-[0-9]+)?$",
              REG_EXTENDED | REG_NOSUB),
      0);
  int m = regexec(&re, stamp, 0, NULL, 0);
  regfree(&re);
  if (m != 0) fail_msg("run folder name '%s' does not match YYYY-MM-DDTHH-MM-SS.ffffffZ", stamp);
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strptime(stamp, "%Y-%m-%dT%H-%M-%S", &tm);
  assert_non_null(end);
  time_t t = timegm(&tm);
  time_t now = time(NULL);
  if (t > now + 2 || t < now - 600)
    fail_msg("run folder time %lld is not near now %lld (UTC)", (long long)t, (long long)now);
}

static void test_run_dir_from_env(void **state) {
  (void)state;
  char *root = th_strf("%s/envroot", g_dir);
  setenv(PB_ENV_ROOT, root, 1);
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create(NULL, &r));
  char *dir = run_dir(r);
  check_run_dir(dir, root);
  /* the benchmarker saves into the run folder */
  pb_bench *b = pb_registry_get(r, "model");
  assert_non_null(b);
  char *want = th_strf("%s/model", dir);
  assert_string_equal(pb_bench_path(b), want);
  TH_ASSERT_OK(pb_gstep(b));
  TH_ASSERT_OK(pb_gstop(b));
  TH_ASSERT_OK(pb_registry_save(r));
  char *file = th_strf("%s%s", want, PB_SUFFIX_DATA);
  assert_true(th_is_file(file));
  pb_registry_destroy(r);

  /* an empty variable means the default root, relative to the current directory */
  setenv(PB_ENV_ROOT, "", 1);
  TH_ASSERT_OK(pb_registry_create(NULL, &r));
  char *dir2 = run_dir(r);
  check_run_dir(dir2, PB_DEFAULT_ROOT);
  pb_registry_destroy(r);
  unsetenv(PB_ENV_ROOT);
  TH_ASSERT_OK(pb_registry_create(NULL, &r));
  char *dir3 = run_dir(r);
  check_run_dir(dir3, PB_DEFAULT_ROOT);
  pb_registry_destroy(r);

  /* an explicit root wins over the variable */
  setenv(PB_ENV_ROOT, root, 1);
  char *explicit_root = th_strf("%s/explicit", g_dir);
  TH_ASSERT_OK(pb_registry_create(explicit_root, &r));
  char *dir4 = run_dir(r);
  check_run_dir(dir4, explicit_root);
  pb_registry_destroy(r);
  unsetenv(PB_ENV_ROOT);

  free(explicit_root);
  free(dir4);
  free(dir3);
  free(dir2);
  free(file);
  free(want);
  free(dir);
  free(root);
}

static void test_run_dir_buffer(void **state) {
  (void)state;
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create("rootbuf", &r));
  char buf[512];
  int n = pb_registry_run_dir(r, buf, sizeof buf);
  assert_true(n > 0);
  char small[8];
  TH_ASSERT_STATUS(pb_registry_run_dir(r, small, sizeof small), PB_EINVAL);
  TH_ASSERT_STATUS(pb_registry_run_dir(r, buf, (size_t)n), PB_EINVAL); /* no room for NUL */
  assert_int_equal(pb_registry_run_dir(r, buf, (size_t)n + 1), n);
  TH_ASSERT_STATUS(pb_registry_run_dir(r, NULL, 100), PB_EINVAL);
  pb_registry_destroy(r);
}

static void test_get_or_create(void **state) {
  (void)state;
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create("root_goc", &r));
  assert_int_equal(pb_registry_size(r), 0);
  pb_bench *a = pb_registry_get(r, "a");
  pb_bench *b = pb_registry_get(r, "b");
  assert_non_null(a);
  assert_non_null(b);
  assert_ptr_not_equal(a, b);
  assert_ptr_equal(pb_registry_get(r, "a"), a);
  assert_ptr_equal(pb_registry_get(r, "b"), b);
  assert_int_equal(pb_registry_size(r), 2);
  assert_null(pb_registry_get(r, ""));
  assert_null(pb_registry_get(r, NULL));
  assert_int_equal(pb_registry_size(r), 2);
  pb_registry_destroy(r);
}

#define NTHREADS 8
#define NNAMES 16

typedef struct lookup_arg {
  pb_registry *r;
  pb_bench *seen[NNAMES];
  bool mismatch;
  size_t rounds;
} lookup_arg;

static void *lookup_thread(void *p) {
  lookup_arg *a = p;
  char name[32];
  for (size_t round = 0; round < a->rounds; round++) {
    for (int i = 0; i < NNAMES; i++) {
      int k = (int)((i + round) % NNAMES);
      snprintf(name, sizeof name, "name-%d", k);
      pb_bench *b = pb_registry_get(a->r, name);
      if (b == NULL) {
        a->mismatch = true;
        continue;
      }
      if (a->seen[k] == NULL) a->seen[k] = b;
      if (a->seen[k] != b) a->mismatch = true;
      if ((round & 7) == 0) (void)pb_step(b, "x"); /* may be PB_ENOITER */
    }
  }
  return NULL;
}

/* Get-or-create from several threads: one benchmarker per name. */
static void test_get_from_threads(void **state) {
  (void)state;
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create("root_threads", &r));
  pthread_t th[NTHREADS];
  lookup_arg args[NTHREADS];
  memset(args, 0, sizeof args);
  size_t rounds = th_scaled(500, 20);
  for (int t = 0; t < NTHREADS; t++) {
    args[t].r = r;
    args[t].rounds = rounds;
    assert_int_equal(pthread_create(&th[t], NULL, lookup_thread, &args[t]), 0);
  }
  for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < NTHREADS; t++) {
    assert_false(args[t].mismatch);
    for (int i = 0; i < NNAMES; i++) assert_ptr_equal(args[t].seen[i], args[0].seen[i]);
  }
  assert_int_equal(pb_registry_size(r), NNAMES);
  for (int i = 0; i < NNAMES; i++)
    for (int k = 0; k < i; k++) assert_ptr_not_equal(args[0].seen[i], args[0].seen[k]);
  pb_registry_destroy(r);
}

/* Two registries created in the same second get different folders. */
static void test_two_registries_distinct(void **state) {
  (void)state;
  char *root = th_strf("%s/same", g_dir);
  pb_registry *r1 = NULL, *r2 = NULL;
  TH_ASSERT_OK(pb_registry_create(root, &r1));
  TH_ASSERT_OK(pb_registry_create(root, &r2));
  pb_bench *b1 = pb_registry_get(r1, "x"), *b2 = pb_registry_get(r2, "x");
  TH_ASSERT_OK(pb_gstep(b1));
  TH_ASSERT_OK(pb_step(b1, "one"));
  TH_ASSERT_OK(pb_gstop(b1));
  TH_ASSERT_OK(pb_gstep(b2));
  TH_ASSERT_OK(pb_step(b2, "two"));
  TH_ASSERT_OK(pb_gstop(b2));
  TH_ASSERT_OK(pb_registry_save(r1));
  TH_ASSERT_OK(pb_registry_save(r2));
  char *d1 = run_dir(r1), *d2 = run_dir(r2);
  assert_string_not_equal(d1, d2);
  check_run_dir(d1, root);
  check_run_dir(d2, root);
  assert_string_not_equal(pb_bench_path(b1), pb_bench_path(b2));
  json_t *j1 = th_must_load(b1, PB_SUFFIX_DATA), *j2 = th_must_load(b2, PB_SUFFIX_DATA);
  assert_int_equal(th_calls(json_array_get(j1, 0), "one"), 1);
  assert_int_equal(th_calls(json_array_get(j1, 0), "two"), 0);
  assert_int_equal(th_calls(json_array_get(j2, 0), "two"), 1);
  assert_int_equal(th_calls(json_array_get(j2, 0), "one"), 0);
  json_decref(j1);
  json_decref(j2);
  assert_int_equal(th_count_files(d1, NULL), 3);
  assert_int_equal(th_count_files(d2, NULL), 3);
  pb_registry_destroy(r1);
  pb_registry_destroy(r2);
  free(d1);
  free(d2);
  free(root);
}

static void test_set_default_path(void **state) {
  (void)state;
  char *root1 = th_strf("%s/first", g_dir), *root2 = th_strf("%s/second", g_dir);
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create(root1, &r));
  char *d1 = run_dir(r);
  pb_bench *before = pb_registry_get(r, "before");
  TH_ASSERT_OK(pb_registry_set_default_path(r, root2));
  char *d2 = run_dir(r);
  check_run_dir(d2, root2);
  pb_bench *after = pb_registry_get(r, "after");
  char *want_before = th_strf("%s/before", d1), *want_after = th_strf("%s/after", d2);
  assert_string_equal(pb_bench_path(before), want_before);
  assert_string_equal(pb_bench_path(after), want_after);
  assert_ptr_equal(pb_registry_get(r, "before"), before);
  TH_ASSERT_STATUS(pb_registry_set_default_path(r, NULL), PB_EINVAL);
  TH_ASSERT_OK(pb_gstep(before));
  TH_ASSERT_OK(pb_gstop(before));
  TH_ASSERT_OK(pb_gstep(after));
  TH_ASSERT_OK(pb_gstop(after));
  TH_ASSERT_OK(pb_registry_save(r));
  assert_int_equal(th_count_files(d1, NULL), 3);
  assert_int_equal(th_count_files(d2, NULL), 3);
  pb_registry_destroy(r);
  free(want_before);
  free(want_after);
  free(d1);
  free(d2);
  free(root1);
  free(root2);
}

static void test_enable_disable_save_all(void **state) {
  (void)state;
  char *root = th_strf("%s/all", g_dir);
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create(root, &r));
  pb_bench *b[4];
  const char *names[4] = {"w", "x", "y", "z"};
  for (int i = 0; i < 3; i++) b[i] = pb_registry_get(r, names[i]);
  pb_registry_disable(r);
  b[3] = pb_registry_get(r, names[3]); /* created while disabled */
  for (int i = 0; i < 4; i++) {
    assert_false(pb_is_enabled(b[i]));
    TH_ASSERT_STATUS(pb_gstep(b[i]), PB_EDISABLED);
  }
  TH_ASSERT_OK(pb_registry_save(r));
  if (th_exists(root)) assert_int_equal(th_count_files(root, NULL), 0); /* nothing written */
  pb_registry_enable(r);
  for (int i = 0; i < 4; i++) {
    assert_true(pb_is_enabled(b[i]));
    TH_ASSERT_OK(pb_gstep(b[i]));
    TH_ASSERT_OK(pb_step(b[i], names[i]));
    TH_ASSERT_OK(pb_gstop(b[i]));
  }
  assert_true(pb_is_enabled(pb_registry_get(r, "new")));
  TH_ASSERT_OK(pb_registry_save(r));
  char *d = run_dir(r);
  size_t bad = 0;
  assert_int_equal(th_count_files(d, &bad), 3 * 5);
  assert_int_equal(bad, 0);
  for (int i = 0; i < 4; i++) {
    json_t *j = th_must_load(b[i], PB_SUFFIX_DATA);
    assert_int_equal(th_calls(json_array_get(j, 0), names[i]), 1);
    json_decref(j);
  }
  pb_registry_destroy(r);
  free(d);
  free(root);
}

/* Checks that every file under root lies directly in run_dir. */
static const char *g_run_dir;
static int g_escaped;
static int escape_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag != FTW_F) return 0;
  size_t n = strlen(g_run_dir);
  if (strncmp(path, g_run_dir, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/') != NULL) {
    fprintf(stderr, "file outside the run folder: %s\n", path);
    g_escaped++;
  }
  return 0;
}

static void test_names_sanitised(void **state) {
  (void)state;
  char *top = th_strf("%s/sanitise", g_dir);
  char *root = th_strf("%s/root", top);
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create(root, &r));
  const char *names[] = {"a/b",  "a_b",       "../x",          "..",
                         ".",    "/abs",      "sp ace",        "caf\xc3\xa9",
                         "a\\b", "new\nline", "plain-name_1.0"};
  const size_t n = sizeof names / sizeof names[0];
  pb_bench *b[sizeof names / sizeof names[0]];
  for (size_t i = 0; i < n; i++) {
    b[i] = pb_registry_get(r, names[i]);
    if (b[i] == NULL) fail_msg("pb_registry_get('%s') failed: %s", names[i], pb_last_error());
    assert_ptr_equal(pb_registry_get(r, names[i]), b[i]);
    TH_ASSERT_OK(pb_gstep(b[i]));
    TH_ASSERT_OK(pb_gstop(b[i]));
  }
  assert_null(pb_registry_get(r, ""));
  TH_ASSERT_OK(pb_registry_save(r));
  char *d = run_dir(r);
  /* every name has its own three files, all directly in the run folder */
  assert_int_equal(th_count_files(top, NULL), 3 * n);
  g_run_dir = d;
  g_escaped = 0;
  nftw(top, escape_entry, 16, FTW_PHYS);
  assert_int_equal(g_escaped, 0);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < i; k++)
      assert_string_not_equal(pb_bench_path(b[i]), pb_bench_path(b[k]));
  /* a name that needs no change keeps it */
  char *plain = th_strf("%s/plain-name_1.0", d);
  assert_string_equal(pb_bench_path(b[n - 1]), plain);
  free(plain);
  pb_registry_destroy(r);
  free(d);
  free(root);
  free(top);
}

static void test_defaults(void **state) {
  (void)state;
  pb_registry *r = pb_default_registry();
  assert_non_null(r);
  assert_ptr_equal(pb_default_registry(), r);
  pb_bench *g = pb_get("default-test");
  assert_non_null(g);
  assert_ptr_equal(pb_get("default-test"), g);
  assert_ptr_equal(pb_registry_get(r, "default-test"), g);
  assert_null(pb_get(NULL));
  assert_null(pb_get(""));
  pb_bench *d = pb_default_bench();
  assert_non_null(d);
  assert_ptr_equal(pb_default_bench(), d);
  assert_string_equal(pb_bench_path(d), "performance_benchmark/default");
  assert_ptr_not_equal(d, g);
  pb_timer *t = pb_default_timer();
  assert_non_null(t);
  assert_ptr_equal(pb_default_timer(), t);
  /* the defaults record like any other */
  TH_ASSERT_OK(pb_gstep(d));
  TH_ASSERT_OK(pb_step(d, "s"));
  TH_ASSERT_OK(pb_gstop(d));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(d, &st));
  assert_int_equal(st.iterations, 1);
  TH_ASSERT_STATUS(pb_bench_destroy(g), PB_EOWNED);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The i-th name of test_many_names: plain, with a '/', or spelling another's file name. */
static void many_name(size_t i, char *buf, size_t n) {
  if (i % 3 == 0)
    snprintf(buf, n, "n%zu", i);
  else if (i % 3 == 1)
    snprintf(buf, n, "dir/n%zu", i); /* sanitised: "dir_n<i>-<hash>" */
  else
    snprintf(buf, n, "dir_n%zu", i - 1); /* close to, not equal to, the one before */
}

/*
 * Issue 11, defect 13: the name and file-name indexes. Many names, created
 * with look-ups of earlier ones in between, all found again (in another
 * order) as the same benchmarker, every one with its own file; a name equal
 * to another's sanitised file name gets a file of its own as well.
 */
static void test_many_names(void **state) {
  (void)state;
  size_t n = th_scaled(30000, 3000);
  pb_registry *r = NULL;
  TH_ASSERT_OK(pb_registry_create("root_many", &r));
  pb_bench **seen = calloc(n, sizeof *seen);
  assert_non_null(seen);
  char name[64];
  for (size_t i = 0; i < n; i++) {
    many_name(i, name, sizeof name);
    seen[i] = pb_registry_get(r, name);
    assert_non_null(seen[i]);
    if (i % 7 == 0) { /* interleave a look-up of an earlier name */
      size_t k = (i * 2654435761u) % (i + 1);
      many_name(k, name, sizeof name);
      assert_ptr_equal(pb_registry_get(r, name), seen[k]);
    }
  }
  assert_int_equal(pb_registry_size(r), n);
  for (size_t j = 0; j < n; j++) {
    size_t i = (j * 7919) % n; /* 7919 is prime and n is not a multiple of it */
    many_name(i, name, sizeof name);
    assert_ptr_equal(pb_registry_get(r, name), seen[i]);
  }
  /* "dir/n1" is sanitised to "dir_n1-<hash>": that literal name gets another file */
  const char *spoof_of = pb_bench_path(seen[1]);
  const char *spoof = strrchr(spoof_of, '/') + 1;
  pb_bench *sb = pb_registry_get(r, spoof);
  assert_non_null(sb);
  assert_ptr_not_equal(sb, seen[1]);
  assert_string_not_equal(pb_bench_path(sb), spoof_of);
  char **paths = malloc((n + 1) * sizeof *paths);
  assert_non_null(paths);
  for (size_t i = 0; i < n; i++) paths[i] = (char *)pb_bench_path(seen[i]);
  paths[n] = (char *)pb_bench_path(sb);
  qsort(paths, n + 1, sizeof *paths, cmp_str);
  for (size_t i = 1; i <= n; i++) {
    if (strcmp(paths[i - 1], paths[i]) == 0) fail_msg("two names share the file '%s'", paths[i]);
  }
  free(paths);
  free(seen);
  pb_registry_destroy(r);
}

typedef struct user_arg {
  pb_registry *r;
  int id;
  size_t iters;
  int rc;
} user_arg;

/* A thread that records into a benchmarker of its own and a shared one. */
static void *registry_user(void *p) {
  user_arg *a = p;
  char name[32];
  snprintf(name, sizeof name, "user-%d", a->id);
  pb_bench *own = pb_registry_get(a->r, name), *shared = pb_registry_get(a->r, "shared");
  if (!own || !shared) {
    a->rc = PB_ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < a->iters && !a->rc; i++) {
    a->rc = pb_gstep(own);
    if (!a->rc) a->rc = pb_step(own, "work");
    if (!a->rc) a->rc = pb_step(shared, "shared work");
  }
  if (!a->rc) a->rc = pb_gstop(own);
  return NULL;
}

/*
 * Issue 11, defect 12: pb_registry_destroy may be called once every thread
 * that used the registry or its benchmarkers has stopped (documented in
 * porter_bench.h); then it frees everything cleanly (ASan: no use after free,
 * no leak). Destroying one registry while other threads still record into
 * another registry is allowed and is done here, concurrently.
 */
static void test_destroy_after_users_stop(void **state) {
  (void)state;
  enum { USERS = 4 };
  pb_registry *busy = NULL, *other = NULL;
  TH_ASSERT_OK(pb_registry_create("root_busy", &busy));
  TH_ASSERT_OK(pb_registry_create("root_other", &other));
  pthread_t th[2 * USERS];
  user_arg args[2 * USERS];
  size_t iters = th_scaled(20000, 500);
  pb_bench *shared = pb_registry_get(busy, "shared");
  TH_ASSERT_OK(pb_gstep(shared));
  TH_ASSERT_OK(pb_gstep(pb_registry_get(other, "shared")));
  for (int t = 0; t < 2 * USERS; t++) {
    args[t] = (user_arg){t < USERS ? other : busy, t, iters, 0};
    assert_int_equal(pthread_create(&th[t], NULL, registry_user, &args[t]), 0);
  }
  for (int t = 0; t < USERS; t++) pthread_join(th[t], NULL); /* other's users have stopped */
  pb_registry_destroy(other);                                /* while busy's users still record */
  for (int t = USERS; t < 2 * USERS; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < 2 * USERS; t++) TH_ASSERT_OK(args[t].rc);
  TH_ASSERT_OK(pb_gstop(shared));
  pb_bench_stats st;
  TH_ASSERT_OK(pb_bench_get_stats(shared, &st));
  assert_int_equal(st.steps, USERS * iters + 1); /* every shared step, plus gstop */
  for (int t = USERS; t < 2 * USERS; t++) {
    char name[32];
    snprintf(name, sizeof name, "user-%d", t);
    TH_ASSERT_OK(pb_bench_get_stats(pb_registry_get(busy, name), &st));
    assert_int_equal(st.iterations, iters);
  }
  TH_ASSERT_OK(pb_registry_save(busy));
  pb_registry_destroy(busy); /* every user has stopped */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_dir_from_env),
      cmocka_unit_test(test_run_dir_buffer),
      cmocka_unit_test(test_get_or_create),
      cmocka_unit_test(test_get_from_threads),
      cmocka_unit_test(test_two_registries_distinct),
      cmocka_unit_test(test_set_default_path),
      cmocka_unit_test(test_enable_disable_save_all),
      cmocka_unit_test(test_names_sanitised),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_many_names),
      cmocka_unit_test(test_destroy_after_users_stop),
  };
  return cmocka_run_group_tests_name("registry", tests, group_setup, group_teardown);
}
