/*
 * test_cli_hostile.c - hostile record files handed to the porter-bench CLI.
 *
 * Usage: test_cli_hostile <porter-bench> <corpus folder>
 *
 * Each input of the loader's seed corpus (fuzz/corpus/fuzz_loader/: up to
 * three files separated by NUL bytes: DATA, SUMMARY, MEMORY) plus inputs made
 * here (a million '[', 4 MiB of zeros, numbers at the edge of a double, a
 * file that is a folder, ...) becomes a run folder; `porter-bench summary`,
 * `plots` (SVG) and `compare` run on it. Each must end with its documented
 * exit status (0 ok, 1 bad input data) within 30 s: never a signal, a usage
 * error (2) or a hang. Sanitizer builds of the CLI check memory safety too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

static const char *g_cli;
static const char *g_corpus;

static void write_bytes(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("%s: %s", path, strerror(errno));
  if (n) assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* Writes the NUL-separated files of an input into dir as "h_*". */
static void make_run(const char *dir, const char *data, size_t size) {
  static const char *const suffixes[3] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  size_t pos = 0;
  for (int k = 0; k < 3 && pos <= size; k++) {
    const char *start = data + pos;
    const char *nul = memchr(start, 0, size - pos);
    size_t len = nul ? (size_t)(nul - start) : size - pos;
    char *path = rel_strf("%s/h%s", dir, suffixes[k]);
    write_bytes(path, start, len);
    free(path);
    pos += len + 1;
  }
}

/* Runs the CLI with args (NULL-terminated) under a 30 s limit; returns its wait status. */
static int run_cli(char *const args[], const char *log) {
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    alarm(30);
    execv(g_cli, args);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

typedef struct tally {
  long inputs, runs, ok, bad_input;
} tally;

static void check_input(const char *name, const char *data, size_t size, tally *t) {
  char *dir = rel_mkdtemp("cli");
  char *run = rel_strf("%s/run", dir);
  char *out = rel_strf("%s/plots", dir);
  char *log = rel_strf("%s/log", dir);
  assert_int_equal(mkdir(run, 0755), 0);
  make_run(run, data, size);
  char cli[] = "porter-bench", summary[] = "summary", plots[] = "plots", compare[] = "compare";
  char nolatest[] = "--no-latest", path[] = "--path", output[] = "--output", format[] = "--format";
  char svg[] = "svg";
  char *const cmd_summary[] = {cli, summary, nolatest, run, NULL};
  char *const cmd_plots[] = {cli, plots, nolatest, path, run, output, out, format, svg, NULL};
  char *const cmd_compare[] = {cli, compare, nolatest, run, run, output, out, NULL};
  char *const *cmds[] = {cmd_summary, cmd_plots, cmd_compare};
  for (size_t c = 0; c < 3; c++) {
    int status = run_cli(cmds[c], log);
    t->runs++;
    if (WIFSIGNALED(status)) {
      fail_msg("'porter-bench %s' on input '%s' was killed by signal %d%s (log: %s)", cmds[c][1],
               name, WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (hang > 30 s)" : "", log);
    }
    int code = WEXITSTATUS(status);
    if (code == 0)
      t->ok++;
    else if (code == 1)
      t->bad_input++;
    else
      fail_msg("'porter-bench %s' on input '%s' exited %d (log: %s)", cmds[c][1], name, code, log);
  }
  t->inputs++;
  rel_rmtree(dir);
  free(dir), free(run), free(out), free(log);
}

static char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("%s: %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)len + 1);
  assert_non_null(buf);
  if (len > 0) assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return buf;
}

static void test_cli_on_hostile_runs(void **state) {
  (void)state;
  tally t = {0};
  DIR *d = opendir(g_corpus);
  if (!d) fail_msg("%s: %s", g_corpus, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char *p = rel_strf("%s/%s", g_corpus, e->d_name);
    size_t n;
    char *buf = read_all(p, &n);
    check_input(e->d_name, buf, n, &t);
    free(buf);
    free(p);
  }
  closedir(d);
  printf(
      "# corpus: %ld hostile runs, %ld CLI invocations: %ld exit 0, %ld exit 1 (bad input "
      "data), no signal, no hang\n",
      t.inputs, t.runs, t.ok, t.bad_input);
}

/* Made here: too big to commit, or built from numbers at the edges of a double. */
static void test_cli_on_made_runs(void **state) {
  (void)state;
  tally t = {0};
  size_t big = 1000000;
  char *brackets = malloc(big);
  assert_non_null(brackets);
  memset(brackets, '[', big);
  check_input("a million '['", brackets, big, &t);
  memset(brackets, 0, big);
  check_input("a million NUL bytes", brackets, big, &t);
  free(brackets);
#define MADE(lit) \
  { lit, sizeof(lit) - 1 }
  static const struct {
    const char *s;
    size_t n;
  } made[] = {
      MADE("[{\"absolutes\":{\"\":0,\"\\u0000\":0},\"info\":{\"STEP_NUMBER\":0,\"START_TIME\":0,"
           "\"STOP_TIME\":0},\"individual_calls\":{\"\":[],\"\\u0000\":[{}]}}]"),
      MADE("[{\"absolutes\":{\"a\":NaN},\"info\":{}}]"),
      MADE("[{\"info\":{\"STEP_NUMBER\":-1}},{\"info\":{\"STEP_NUMBER\":18446744073709551616}}]"),
      MADE("{\"not\":\"a list\"}\0{\"a\":[1,2,3]}\0[{\"info\":{\"STEP_NUMBER\":0},\"data\":{\"g\":"
           "[{\"total memory usage\":-5,\"max memory usage\":1e308,\"heap memory usage\":\"x\","
           "\"cuda memory usage\":{\"allocated\":-1,\"reserved\":1e308}}]}}]"),
  };
  for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
    char name[32];
    snprintf(name, sizeof name, "made %zu", i);
    check_input(name, made[i].s, made[i].n, &t);
  }
  printf(
      "# made: %ld hostile runs, %ld CLI invocations: %ld exit 0, %ld exit 1 (bad input data), no "
      "signal, no hang\n",
      t.inputs, t.runs, t.ok, t.bad_input);
}

/* Times and START/STOP at the edges of a double (REL-F12: `plots` looped forever on them). */
static void test_cli_on_huge_times(void **state) {
  (void)state;
  tally t = {0};
  static const char huge[] =
      "[{\"absolutes\":{\"a\":1.7976931348623157e308,\"GLOBAL\":-1.7976931348623157e308},"
      "\"info\":{\"STEP_NUMBER\":0,\"START_TIME\":1e308,\"STOP_TIME\":-1e308},"
      "\"individual_calls\":{\"a\":[{\"time\":1.7976931348623157e308,\"crono_counter\":0,"
      "\"extra\":null}],\"GLOBAL\":[{\"time\":4.9e-324,\"crono_counter\":1}]}}]";
  check_input("times near DBL_MAX", huge, sizeof huge - 1, &t);
  printf("# huge times: %ld CLI invocations: %ld exit 0, %ld exit 1\n", t.runs, t.ok, t.bad_input);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <porter-bench> <corpus folder>\n", argv[0]);
    return 2;
  }
  g_cli = argv[1];
  g_corpus = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cli_on_hostile_runs),
      cmocka_unit_test(test_cli_on_made_runs),
      cmocka_unit_test(test_cli_on_huge_times),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
