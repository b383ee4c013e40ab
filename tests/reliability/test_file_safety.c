/*
 * test_file_safety.c - issue 11, defect 11: record writes never follow a
 * planted symlink, and the folder that receives the files is checked.
 *
 * A "victim" file stands for a file of someone else's that a planted link
 * points at: after every save it must hold exactly what it held before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rel_util.h"

static const char VICTIM_TEXT[] = "victim: not to be written\n";

/* Reads a whole small file into a static buffer; "" when it cannot be read. */
static const char *slurp(const char *path) {
  static char buf[4096];
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return buf;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void assert_victim_intact(const char *victim) {
  const char *now = slurp(victim);
  if (strcmp(now, VICTIM_TEXT) != 0)
    fail_msg("the victim file behind a planted link was written: it now holds '%.60s'", now);
}

/* Records n steps in one closed iteration. */
static void record(pb_bench *b, int n) {
  REL_ASSERT_OK(pb_gstep(b));
  for (int i = 0; i < n; i++) REL_ASSERT_OK(pb_step(b, "s"));
  REL_ASSERT_OK(pb_gstop(b));
}

/*
 * The old temporary names were "<file>.tmp.<pid>.<n>" with n counting from 0:
 * links planted at the first 64 of them for each file must not be followed,
 * and the save must still succeed with names of its own.
 */
static void test_links_at_guessed_temp_names(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("tmplink");
  char *prefix = rel_strf("%s/r", dir);
  char *victim = rel_strf("%s/victim", dir);
  assert_true(rel_write_file(victim, VICTIM_TEXT));
  const char *suffixes[] = {PB_SUFFIX_SUMMARY, PB_SUFFIX_DATA, PB_SUFFIX_MEMORY};
  for (int f = 0; f < 3; f++) {
    for (int n = 0; n < 64; n++) {
      char *link = rel_strf("%s%s.tmp.%ld.%d", prefix, suffixes[f], (long)getpid(), n);
      assert_int_equal(symlink(victim, link), 0);
      free(link);
    }
  }
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  REL_ASSERT_OK(pb_enable_memory_tracking(b, false));
  for (int k = 0; k < 3; k++) {
    record(b, 10);
    REL_ASSERT_OK(pb_save(b));
  }
  assert_victim_intact(victim);
  char *data = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  json_error_t err;
  json_t *j = json_load_file(data, 0, &err);
  if (!j) fail_msg("%s does not parse: %s", data, err.text);
  assert_int_equal(json_array_size(j), 3);
  json_decref(j);
  rel_tree t = rel_walk(dir); /* 192 links + victim + 3 files: no temporary left */
  size_t tmp_files = 0;
  for (size_t i = 0; i < t.n; i++) tmp_files += rel_is_tmp_name(t.e[i].rel);
  assert_int_equal(t.n, 3 * 64 + 1 + 3);
  assert_int_equal(tmp_files, 3 * 64);
  rel_tree_free(&t);
  pb_bench_destroy(b);
  free(data), free(victim), free(prefix);
  rel_rmtree(dir);
  free(dir);
}

/* A link at a record file's own name is replaced (rename), never written through. */
static void test_link_at_target_name(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("tgtlink");
  char *prefix = rel_strf("%s/r", dir);
  char *victim = rel_strf("%s/victim", dir);
  char *data = rel_strf("%s%s", prefix, PB_SUFFIX_DATA);
  assert_true(rel_write_file(victim, VICTIM_TEXT));
  assert_int_equal(symlink(victim, data), 0);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, 3);
  REL_ASSERT_OK(pb_save(b));
  assert_victim_intact(victim);
  struct stat st;
  assert_int_equal(lstat(data, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  pb_bench_destroy(b);
  free(data), free(victim), free(prefix);
  rel_rmtree(dir);
  free(dir);
}

/*
 * A link planted at the journal's fixed name: the auto-save that would
 * append to it fails (counted in save_errors) and the victim is untouched;
 * an explicit save still writes whole files.
 */
static void test_link_at_journal_name(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("jnllink");
  char *prefix = rel_strf("%s/r", dir);
  char *victim = rel_strf("%s/victim", dir);
  char *journal = rel_strf("%s_STEP_DICT_DATA.journal", prefix);
  assert_true(rel_write_file(victim, VICTIM_TEXT));
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, 9000); /* past the journal's threshold */
  REL_ASSERT_OK(pb_save(b));
  assert_int_equal(symlink(victim, journal), 0);
  pb_set_save_on_gstop(b, 1);
  REL_ASSERT_OK(pb_gstep(b));
  REL_ASSERT_OK(pb_step(b, "s"));
  REL_ASSERT_STATUS(pb_gstop(b), PB_EIO); /* its auto-save would append a journal line */
  assert_non_null(strstr(pb_last_error(), "journal"));
  assert_victim_intact(victim);
  pb_bench_stats st;
  REL_ASSERT_OK(pb_bench_get_stats(b, &st));
  assert_int_equal(st.save_errors, 1);
  REL_ASSERT_OK(pb_save(b));
  assert_victim_intact(victim);
  pb_bench_destroy(b);
  free(journal), free(victim), free(prefix);
  rel_rmtree(dir);
  free(dir);
}

/* Saves into dir/r; returns pb_save's status. */
static int save_into(const char *dir) {
  char *prefix = rel_strf("%s/r", dir);
  pb_bench *b = NULL;
  REL_ASSERT_OK(pb_bench_create(prefix, &b));
  record(b, 2);
  int rc = pb_save(b);
  pb_bench_destroy(b);
  free(prefix);
  return rc;
}

/*
 * The folder that receives the files: a world-writable one without the
 * sticky bit is refused (anyone could swap the files), with it accepted; a
 * link to the folder is accepted when we (or root) own it and refused when
 * another user does. A folder another user owns is accepted (files are
 * created exclusively and never through links). Ownership cases need root
 * (skipped otherwise).
 */
static void test_folder_checks(void **state) {
  (void)state;
  char *dir = rel_mkdtemp("folder");
  char *open_dir = rel_strf("%s/open", dir);
  assert_int_equal(mkdir(open_dir, 0777), 0);
  assert_int_equal(chmod(open_dir, 0777), 0);
  REL_ASSERT_STATUS(save_into(open_dir), PB_EIO);
  assert_non_null(strstr(pb_last_error(), "writable"));
  char *refused = rel_strf("%s/r%s", open_dir, PB_SUFFIX_DATA);
  assert_false(rel_exists(refused));
  free(refused);
  assert_int_equal(chmod(open_dir, 01777), 0);
  REL_ASSERT_OK(save_into(open_dir));

  char *mine = rel_strf("%s/mine", dir), *link = rel_strf("%s/link", dir);
  assert_int_equal(mkdir(mine, 0755), 0);
  assert_int_equal(symlink(mine, link), 0);
  REL_ASSERT_OK(save_into(link)); /* a link of our own to a folder of our own */
  if (geteuid() == 0) {
    char *theirs = rel_strf("%s/theirs", dir), *tlink = rel_strf("%s/tlink", dir);
    assert_int_equal(mkdir(theirs, 0755), 0);
    assert_int_equal(chown(theirs, 65534, 65534), 0);
    REL_ASSERT_OK(save_into(theirs));
    assert_int_equal(symlink(mine, tlink), 0);
    assert_int_equal(lchown(tlink, 65534, 65534), 0);
    REL_ASSERT_STATUS(save_into(tlink), PB_EIO);
    assert_non_null(strstr(pb_last_error(), "owned"));
    free(theirs), free(tlink);
  } else {
    printf("# not root: ownership checks skipped\n");
  }
  free(mine), free(link), free(open_dir);
  rel_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_links_at_guessed_temp_names),
      cmocka_unit_test(test_link_at_target_name),
      cmocka_unit_test(test_link_at_journal_name),
      cmocka_unit_test(test_folder_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
