/*
 * hotpath.c - porter_bench_hotpath, fixed workloads for instruction counts:
 *
 *   porter_bench_hotpath N [literal|id|save]
 *   porter_bench_hotpath callgrind VALGRIND [N]
 *
 * literal (default) / id: creates a benchmarker, opens an iteration and
 * records N steps of one topic (memory tracking off), then destroys it
 * without saving. Run under callgrind with N = 0 and N = 1,000,000: the
 * difference of the total instruction counts divided by N is the cost of
 * one step in instructions, free of timing noise (docs/BENCHMARKS.md,
 * target bench_callgrind).
 * save: records N iterations of 5 steps, then saves them once into a
 * temporary folder (removed afterwards): a workload to profile pb_save.
 * callgrind: runs itself under VALGRIND --tool=callgrind with 0 and N
 * (default 1,000,000) steps, literal then id, and prints instructions per step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "porter_bench.h"

static int save_workload(size_t n) {
  char dir[] = "/tmp/porter_bench_hotpath.XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char path[64];
  snprintf(path, sizeof path, "%s/rec", dir);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) return 1;
  static const char *const topics[] = {"load", "forward", "backward", "update", "log"};
  for (size_t i = 0; i < n; i++) {
    pb_gstep(b);
    for (int k = 0; k < 5; k++) pb_step(b, topics[k]);
  }
  pb_gstop(b);
  int rc = pb_save(b);
  if (rc != PB_OK) fprintf(stderr, "hotpath: pb_save: %s\n", pb_last_error());
  pb_bench_destroy(b);
  const char *suffixes[] = {PB_SUFFIX_DATA, PB_SUFFIX_SUMMARY, PB_SUFFIX_MEMORY};
  for (int k = 0; k < 3; k++) {
    char file[128];
    snprintf(file, sizeof file, "%s%s", path, suffixes[k]);
    remove(file);
  }
  rmdir(dir);
  return rc != PB_OK;
}

/* Runs `vg --tool=callgrind self n mode` and returns the total Ir, or -1. */
static long long callgrind_ir(const char *vg, const char *self, const char *dir, size_t n,
                              const char *mode) {
  char out[128], arg_out[160], arg_n[32];
  snprintf(out, sizeof out, "%s/callgrind.out", dir);
  snprintf(arg_out, sizeof arg_out, "--callgrind-out-file=%s", out);
  snprintf(arg_n, sizeof arg_n, "%zu", n);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stderr)) _exit(127);
    execlp(vg, vg, "--tool=callgrind", arg_out, self, arg_n, mode, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  FILE *f = fopen(out, "r");
  if (!f) return -1;
  char line[256];
  long long ir = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "summary:", 8) == 0) ir = strtoll(line + 8, NULL, 10);
  }
  fclose(f);
  remove(out);
  return ir;
}

static int callgrind_driver(const char *vg, const char *self, size_t n) {
  char dir[] = "/tmp/porter_bench_callgrind.XXXXXX";
  if (!mkdtemp(dir)) return 1;
  static const char *const modes[] = {"literal", "id"};
  int rc = 0;
  for (int m = 0; m < 2; m++) {
    long long base = callgrind_ir(vg, self, dir, 0, modes[m]);
    long long run = callgrind_ir(vg, self, dir, n, modes[m]);
    if (base < 0 || run < 0) {
      fprintf(stderr, "hotpath: running %s under callgrind failed\n", self);
      rc = 1;
      break;
    }
    printf(
        "callgrind: pb_step (%s topic): (%lld - %lld) Ir / %zu steps = %.1f instructions"
        " per step\n",
        modes[m], run, base, n, (double)(run - base) / (double)n);
  }
  rmdir(dir);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "callgrind") == 0) {
    size_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
    return callgrind_driver(argv[2], argv[0], n ? n : 1);
  }
  if (argc < 2) {
    fprintf(stderr, "usage: porter_bench_hotpath N [literal|id|save]\n");
    return 1;
  }
  size_t n = strtoull(argv[1], NULL, 10);
  const char *mode = argc > 2 ? argv[2] : "literal";
  if (strcmp(mode, "save") == 0) return save_workload(n);
  bool by_id = strcmp(mode, "id") == 0;
  pb_bench *b = NULL;
  if (pb_bench_create("/nonexistent/porter_bench_hotpath", &b) != PB_OK) return 1;
  pb_topic id = pb_topic_intern(b, "step");
  pb_gstep(b);
  if (by_id) {
    for (size_t i = 0; i < n; i++) pb_step_id(b, id);
  } else {
    for (size_t i = 0; i < n; i++) pb_step(b, "step");
  }
  pb_gstop(b);
  pb_bench_destroy(b);
  return 0;
}
