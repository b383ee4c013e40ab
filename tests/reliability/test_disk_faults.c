/*
 * test_disk_faults.c - saves that meet a disk fault: a parent that cannot be
 * created, a file in the way of a folder, a folder in the way of a file, a
 * read-only file system, a full disk and a file size limit.
 *
 * Usage: test_disk_faults basic|ro|full|fsize
 *
 * Every fault must give PB_EIO with pb_last_error() naming the file (or
 * folder) and the system's reason; the records stay in memory, no temporary
 * file is left behind, the files of the previous save stay whole, and the
 * next save once the fault is gone writes every record.
 *
 * The tests run as root in CI, and root bypasses permission bits, so the
 * read-only and full-disk faults use a tmpfs mounted in a private mount
 * namespace (unshare(CLONE_NEWNS), this process only). Where that is not
 * permitted the mode exits 77 (ctest: skipped). The file size limit is tested
 * in child processes, since RLIMIT_FSIZE and SIGXFSZ are per process.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel_util.h"

static const char *const kTopics[] = {"a", "b", "gstop", NULL};

/* Records n iterations of steps "a" and "b". */
static void record(pb_bench *b, long n) {
  for (long i = 0; i < n; i++) {
    REL_ASSERT_OK(pb_gstep(b));
    REL_ASSERT_OK(pb_step(b, "a"));
    REL_ASSERT_OK(pb_step(b, "b"));
    REL_ASSERT_OK(pb_gstop(b));
  }
}

/* The DATA file of prefix holds exactly n complete iterations. */
static void expect_iterations(const char *prefix, long n) {
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  char why[256] = "";
  long k = rel_check_data_prefix(data, kTopics, NULL, false, why, sizeof why);
  if (k < 0) fail_msg("%s%s: %s", prefix, PB_SUFFIX_DATA, why);
  if (k != n) fail_msg("%s%s holds %ld iterations, expected %ld", prefix, PB_SUFFIX_DATA, k, n);
  json_decref(data);
  json_decref(rel_must_load(prefix, PB_SUFFIX_SUMMARY));
  json_decref(rel_must_load(prefix, PB_SUFFIX_MEMORY));
}

/* No "*.tmp.*" file anywhere under dir. */
static void expect_no_tmp(const char *dir) {
  rel_tree t = rel_walk(dir);
  for (size_t i = 0; i < t.n; i++) {
    if (rel_is_tmp_name(t.e[i].rel)) fail_msg("temporary file left behind: %s/%s", dir, t.e[i].rel);
  }
  rel_tree_free(&t);
}

/* pb_save fails with PB_EIO and a message holding both `what` and `reason`. */
static void expect_save_fails(pb_bench *b, const char *what, const char *reason) {
  pb_bench_stats before, after;
  REL_ASSERT_OK(pb_bench_get_stats(b, &before));
  REL_ASSERT_STATUS(pb_save(b), PB_EIO);
  const char *msg = pb_last_error();
  printf("# pb_save: %s\n", msg);
  if (!strstr(msg, what)) fail_msg("the message '%s' does not name '%s'", msg, what);
  if (reason && !strstr(msg, reason)) fail_msg("the message '%s' does not say '%s'", msg, reason);
  REL_ASSERT_OK(pb_bench_get_stats(b, &after));
  assert_int_equal(after.save_errors, before.save_errors + 1);
  assert_int_equal(after.steps, before.steps); /* the records stay in memory */
  assert_int_equal(after.iterations, before.iterations);
}

/* ---- basic: no privileges needed ---- */

static void test_parent_cannot_be_created(void **state) {
  (void)state;
  pb_bench *b = NULL;
  /* Nobody, root included, can create a folder in /proc. */
  REL_ASSERT_OK(pb_bench_create("/proc/pb_rel_missing/sub/bench", &b));
  record(b, 3);
  expect_save_fails(b, "/proc/pb_rel_missing", NULL);
  pb_bench_destroy(b);
}

static void test_file_in_the_way_of_a_folder(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("nondir");
  char *file = rel_strf("%s/file", dir);
  char *prefix = rel_strf("%s/file/sub/bench", dir);
  char *prefix2 = rel_strf("%s/file/bench", dir);
  assert_true(rel_write_file(file, "not a folder\n"));
  pb_bench *b = NULL, *b2 = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_bench_create(prefix2, &b2));
  record(b, 4);
  record(b2, 2);
  expect_save_fails(b, file, NULL);
  expect_save_fails(b2, file, NULL);
  expect_no_tmp(dir);
  record(b, 3);
  /* The fault goes away: the next save writes everything. */
  assert_int_equal(unlink(file), 0);
  REL_ASSERT_OK(pb_save(b));
  expect_iterations(prefix, 7);
  REL_ASSERT_OK(pb_save(b2));
  expect_iterations(prefix2, 2);
  pb_bench_destroy(b);
  pb_bench_destroy(b2);
  rel_rmtree(dir);
  free(dir), free(file), free(prefix), free(prefix2);
}

static void test_folder_in_the_way_of_a_file(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("isdir");
  char *prefix = rel_strf("%s/bench", dir);
  char *target = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, 2);
  REL_ASSERT_OK(pb_save(b));
  expect_iterations(prefix, 2);
  record(b, 2);
  /* A folder (non-empty, so rename cannot replace it) where the DATA file goes. */
  assert_int_equal(unlink(target), 0);
  assert_int_equal(mkdir(target, 0755), 0);
  char *inner = rel_strf("%s/keep", target);
  assert_true(rel_write_file(inner, "x"));
  expect_save_fails(b, target, NULL);
  expect_no_tmp(dir);
  rel_rmtree(target);
  REL_ASSERT_OK(pb_save(b));
  expect_iterations(prefix, 4);
  pb_bench_destroy(b);
  rel_rmtree(dir);
  free(dir), free(prefix), free(target), free(inner);
}

static void test_folder_removed_between_saves(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("gone");
  char *prefix = rel_strf("%s/a/b/c/bench", dir);
  char *a = rel_strf("%s/a", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, 2);
  REL_ASSERT_OK(pb_save(b)); /* creates a/b/c */
  rel_rmtree(a);
  record(b, 2);
  REL_ASSERT_OK(pb_save(b)); /* creates them again, writes everything */
  expect_iterations(prefix, 4);
  pb_bench_destroy(b);
  rel_rmtree(dir);
  free(dir), free(prefix), free(a);
}

/* ---- tmpfs in a private mount namespace ---- */

static bool g_ns_ok;
static char *g_mnt_root; /* scratch folder holding the mount point */
static char *g_mnt;      /* the mount point */

/* Enters a private mount namespace and mounts a tmpfs; false when not permitted. */
static bool setup_tmpfs(const char *options) {
  if (unshare(CLONE_NEWNS) != 0) {
    printf("# unshare(CLONE_NEWNS): %s: skipping\n", strerror(errno));
    return false;
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    printf("# making / private: %s: skipping\n", strerror(errno));
    return false;
  }
  char tmpl[] = "/tmp/pbrel-mnt.XXXXXX";
  if (!mkdtemp(tmpl)) return false;
  g_mnt_root = strdup(tmpl);
  g_mnt = rel_strf("%s/m", g_mnt_root);
  if (mkdir(g_mnt, 0755) != 0) return false;
  if (mount("pbrel", g_mnt, "tmpfs", 0, options) != 0) {
    printf("# mount tmpfs (%s): %s: skipping\n", options, strerror(errno));
    rel_rmtree(g_mnt_root);
    return false;
  }
  return true;
}

static void teardown_tmpfs(void) {
  if (!g_mnt) return;
  umount2(g_mnt, MNT_DETACH);
  rel_rmtree(g_mnt_root);
  free(g_mnt);
  free(g_mnt_root);
  g_mnt = g_mnt_root = NULL;
}

static int remount(const char *options, unsigned long flags) {
  return mount(NULL, g_mnt, NULL, MS_REMOUNT | flags, options);
}

static void test_read_only_file_system(void **state) {
  (void)state;
  if (!g_ns_ok) skip();
  char *prefix = rel_strf("%s/sub/ro", g_mnt);
  char *fresh = rel_strf("%s/newdir/x", g_mnt);
  pb_bench *b = NULL, *c = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_bench_create(fresh, &c));
  record(b, 5);
  record(c, 1);
  REL_ASSERT_OK(pb_save(b));
  if (remount("size=1m", MS_RDONLY) != 0) fail_msg("remount ro: %s", strerror(errno));
  record(b, 5);
  expect_save_fails(b, "ro" PB_SUFFIX_SUMMARY, "Read-only file system");
  expect_save_fails(c, "newdir", "Read-only file system"); /* the folder cannot be made */
  expect_iterations(prefix, 5);                            /* the old files are whole */
  if (remount("size=1m", 0) != 0) fail_msg("remount rw: %s", strerror(errno));
  expect_no_tmp(g_mnt);
  REL_ASSERT_OK(pb_save(b));
  expect_iterations(prefix, 10);
  REL_ASSERT_OK(pb_save(c));
  expect_iterations(fresh, 1);
  pb_bench_destroy(b);
  pb_bench_destroy(c);
  free(prefix), free(fresh);
}

static void test_full_disk(void **state) {
  (void)state;
  if (!g_ns_ok) skip();
  char *prefix = rel_strf("%s/full", g_mnt);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, 10);
  REL_ASSERT_OK(pb_save(b)); /* small: fits in 64 KiB */
  record(b, 3000);           /* about 500 KiB of DATA: does not */
  expect_save_fails(b, "full" PB_SUFFIX_DATA, "No space left on device");
  expect_iterations(prefix, 10); /* the previous DATA file is whole */
  expect_no_tmp(g_mnt);
  REL_ASSERT_STATUS(pb_gstep(b), PB_OK); /* recording goes on */
  REL_ASSERT_OK(pb_step(b, "a"));
  REL_ASSERT_OK(pb_step(b, "b"));
  REL_ASSERT_OK(pb_gstop(b));
  if (remount("size=16m", 0) != 0) fail_msg("remount bigger: %s", strerror(errno));
  REL_ASSERT_OK(pb_save(b));
  expect_iterations(prefix, 3011);
  pb_bench_destroy(b);
  free(prefix);
}

/* Fills the file system of dir with a file until ENOSPC; returns its path. */
static char *fill_disk(const char *dir) {
  char *filler = rel_strf("%s/filler", dir);
  FILE *f = fopen(filler, "wb");
  assert_non_null(f);
  static char block[4096];
  while (fwrite(block, 1, sizeof block, f) == sizeof block) {
  }
  fclose(f);
  return filler;
}

/* Complete lines of a journal (each must parse); *torn set when the last is unterminated. */
static long journal_lines(const char *path, bool *torn) {
  *torn = false;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long n = 0;
  while ((len = getline(&line, &cap, f)) > 0) {
    if (line[len - 1] != '\n') {
      *torn = true;
      break;
    }
    json_error_t err;
    json_t *j = json_loadb(line, (size_t)len, 0, &err);
    if (!j) fail_msg("%s: line %ld does not parse: %s", path, n + 1, err.text);
    json_decref(j);
    n++;
  }
  free(line);
  fclose(f);
  return n;
}

/*
 * Past 8192 records an auto-save appends to a journal; an append that meets a
 * full disk must be cut back (no torn line), return PB_EIO naming the journal,
 * and the next auto-save once there is room must carry the iterations on.
 */
static void test_full_disk_journal(void **state) {
  (void)state;
  if (!g_ns_ok) skip();
  if (remount("size=2m", 0) != 0) fail_msg("remount 2m: %s", strerror(errno));
  char *prefix = rel_strf("%s/journal", g_mnt);
  char *journal = rel_strf("%s_STEP_DICT_DATA.journal", prefix);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  for (int i = 0; i < 50; i++) { /* 10,000 records */
    REL_ASSERT_OK(pb_gstep(b));
    for (int k = 0; k < 199; k++) REL_ASSERT_OK(pb_step(b, "a"));
  }
  REL_ASSERT_OK(pb_gstop(b));
  REL_ASSERT_OK(pb_save(b)); /* full files, ~0.5 MB */
  pb_set_save_on_gstop(b, 1);
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_OK(pb_step(b, "a"));
  REL_ASSERT_OK(pb_gstep(b)); /* an auto-save: the first journal line */
  bool torn = false;
  long before = journal_lines(journal, &torn);
  if (before < 1) fail_msg("no journal line after an auto-save past 8192 records (%s)", journal);
  char *filler = fill_disk(g_mnt);
  for (int k = 0; k < 2000; k++)
    REL_ASSERT_OK(pb_step(b, "a")); /* a line bigger than what is left */
  int rc = pb_gstep(b);
  printf("# auto-save into a full disk: %s: %s\n", pb_err_name(rc), pb_last_error());
  REL_ASSERT_STATUS(rc, PB_EIO);
  if (!strstr(pb_last_error(), "journal"))
    fail_msg("'%s' does not name the journal", pb_last_error());
  long after = journal_lines(journal, &torn);
  if (torn) fail_msg("the failed append left a torn line in %s", journal);
  assert_int_equal(after, before);
  expect_no_tmp(g_mnt);
  assert_int_equal(unlink(filler), 0);
  REL_ASSERT_OK(pb_step(b, "a"));
  REL_ASSERT_OK(pb_gstep(b)); /* room again: the next append carries every iteration on */
  after = journal_lines(journal, &torn);
  assert_false(torn);
  if (after <= before) fail_msg("no journal line after the disk had room again");
  /* Reader's view: the full file, then the journal's lines. */
  json_t *data = rel_must_load(prefix, PB_SUFFIX_DATA);
  FILE *f = fopen(journal, "rb");
  assert_non_null(f);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    json_t *part = json_loads(line, 0, NULL);
    size_t i;
    json_t *it;
    json_array_foreach(part, i, it) {
      size_t sn =
          (size_t)json_integer_value(json_object_get(json_object_get(it, "info"), "STEP_NUMBER"));
      if (sn < json_array_size(data))
        json_array_set(data, sn, it);
      else if (sn == json_array_size(data))
        json_array_append(data, it);
      else
        fail_msg("journal entry %zu after %zu iterations: a gap", sn, json_array_size(data));
    }
    json_decref(part);
  }
  free(line);
  fclose(f);
  assert_int_equal(json_array_size(data), 53); /* every closed iteration */
  assert_int_equal(rel_count_calls(data, "a"), 50 * 199 + 1 + 2000 + 1);
  json_decref(data);
  REL_ASSERT_OK(pb_gstop(b));
  if (remount("size=16m", 0) != 0) fail_msg("remount bigger: %s", strerror(errno));
  REL_ASSERT_OK(pb_save(b)); /* folds the journal into the full files */
  assert_false(rel_exists(journal));
  json_t *final = rel_must_load(prefix, PB_SUFFIX_DATA);
  assert_int_equal(json_array_size(final), 54);
  json_decref(final);
  pb_bench_destroy(b);
  free(prefix), free(journal), free(filler);
}

/* ---- RLIMIT_FSIZE, in child processes ---- */

/*
 * Child: a soft file size limit of 64 KiB, 3000 iterations (about 500 KiB of
 * DATA), pb_save. Exit 0 when it returned PB_EIO naming the file and "File
 * too large"; with `recover`, also raises the limit again and checks that the
 * next save succeeds. Other exits: 2 wrong status, 3 wrong message, 4 the
 * second save failed.
 */
static void fsize_child(const char *prefix, bool ignore_sigxfsz, bool recover) {
  if (ignore_sigxfsz) signal(SIGXFSZ, SIG_IGN);
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 64 * 1024;
  pb_bench *b = NULL;
  if (pb_bench_create(prefix, &b) != PB_OK) _exit(5);
  for (int i = 0; i < 3000; i++) {
    pb_gstep(b);
    pb_step(b, "a");
    pb_step(b, "b");
    pb_gstop(b);
  }
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(6);
  int rc = pb_save(b);
  fprintf(stderr, "# child: pb_save -> %s: %s\n", pb_err_name(rc), pb_last_error());
  if (rc != PB_EIO) _exit(2);
  if (!strstr(pb_last_error(), prefix) || !strstr(pb_last_error(), "File too large")) _exit(3);
  if (recover) {
    setrlimit(RLIMIT_FSIZE, &old);
    if (pb_save(b) != PB_OK) _exit(4);
  }
  pb_bench_destroy(b);
  _exit(0);
}

static int run_fsize_child(const char *prefix, bool ignore_sigxfsz, bool recover) {
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) fsize_child(prefix, ignore_sigxfsz, recover);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

static void test_file_size_limit_sigxfsz_ignored(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("fsize");
  char *prefix = rel_strf("%s/big", dir);
  int status = run_fsize_child(prefix, true, true);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail_msg("child with SIGXFSZ ignored: status 0x%x (exit %d, signal %d)", status,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  expect_no_tmp(dir);
  expect_iterations(prefix, 3000);
  rel_rmtree(dir);
  free(dir), free(prefix);
}

/*
 * With the default disposition the kernel sends SIGXFSZ, whose default action
 * kills the process: the library should see the limit coming (getrlimit)
 * and return PB_EIO instead of letting a save kill its host program.
 */
static void test_file_size_limit_default_signal(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("fsize2");
  char *prefix = rel_strf("%s/big", dir);
  int status = run_fsize_child(prefix, false, false);
  bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ;
  printf("# RLIMIT_FSIZE, default SIGXFSZ: the child %s\n",
         killed ? "was killed by SIGXFSZ" : "survived");
  /* Whatever happened, no record file may be partial. */
  rel_tree t = rel_walk(dir);
  for (size_t i = 0; i < t.n; i++) {
    char *path = rel_strf("%s/%s", dir, t.e[i].rel);
    if (rel_is_record_name(t.e[i].rel)) {
      json_error_t err;
      json_t *j = rel_load(path, &err);
      if (!j) fail_msg("%s is corrupt: %s", path, err.text);
      json_decref(j);
    }
    free(path);
  }
  rel_tree_free(&t);
  rel_rmtree(dir);
  if (killed) {
    fail_msg(
        "REL-F6: pb_save over RLIMIT_FSIZE killed the process with SIGXFSZ instead of "
        "returning PB_EIO");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("child status 0x%x", status);
  free(dir), free(prefix);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "basic";
  if (!strcmp(mode, "basic")) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parent_cannot_be_created),
        cmocka_unit_test(test_file_in_the_way_of_a_folder),
        cmocka_unit_test(test_folder_in_the_way_of_a_file),
        cmocka_unit_test(test_folder_removed_between_saves),
    };
    return cmocka_run_group_tests_name("disk faults: basic", tests, NULL, NULL);
  }
  if (!strcmp(mode, "ro") || !strcmp(mode, "full")) {
    bool ro = !strcmp(mode, "ro");
    g_ns_ok = setup_tmpfs(ro ? "size=1m" : "size=64k");
    if (!g_ns_ok) return REL_SKIP;
    const struct CMUnitTest ro_tests[] = {cmocka_unit_test(test_read_only_file_system)};
    const struct CMUnitTest full_tests[] = {cmocka_unit_test(test_full_disk),
                                            cmocka_unit_test(test_full_disk_journal)};
    int rc = ro ? cmocka_run_group_tests_name("disk faults: read-only", ro_tests, NULL, NULL)
                : cmocka_run_group_tests_name("disk faults: full disk", full_tests, NULL, NULL);
    teardown_tmpfs();
    return rc;
  }
  if (!strcmp(mode, "fsize")) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_size_limit_sigxfsz_ignored),
        cmocka_unit_test(test_file_size_limit_default_signal),
    };
    return cmocka_run_group_tests_name("disk faults: RLIMIT_FSIZE", tests, NULL, NULL);
  }
  fprintf(stderr, "usage: %s basic|ro|full|fsize\n", argv[0]);
  return 2;
}
