/*
 * save_cpu.c - figure 5 of porter_bench_bench alone, with the CPU time split:
 * fills a benchmarker with 100,000 iterations x 5 steps as figure 5 does,
 * then saves it REPS times (malloc_trim, clear_refs, save) and prints the
 * medians of user and system time (getrusage), process CPU time, wall time
 * and the peak extra memory (VmHWM after minus RSS before).
 *
 *   cc -O2 -Iinclude scripts/save_cpu/save_cpu.c BUILD/src/record/libporter_bench.a \
 *      -lpthread -ldl -lm -o save_cpu && ./save_cpu [REPS [DIR [ITERS]]]
 *
 * Build it against two libraries and run the two in turn for a comparison.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "porter_bench.h"
static void ru(double *u, double *sy) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  *u = r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6;
  *sy = r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}
static const char *const topics[5] = {"load", "forward", "backward", "update", "log"};
static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static double wall(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static long rss(void) {
  char b[128];
  int fd = open("/proc/self/statm", O_RDONLY);
  int n = read(fd, b, 127);
  close(fd);
  b[n] = 0;
  return atol(strchr(b, ' ') + 1) * 4096;
}
static long hwm(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char l[256];
  long kb = -1;
  while (fgets(l, 256, f))
    if (!strncmp(l, "VmHWM:", 6)) {
      kb = atol(l + 6);
      break;
    }
  fclose(f);
  return kb * 1024;
}
static void reset(void) {
  int fd = open("/proc/self/clear_refs", O_WRONLY);
  write(fd, "5", 1);
  close(fd);
}
static int cmp(const void *a, const void *b) {
  double x = *(double *)a, y = *(double *)b;
  return x < y ? -1 : x > y;
}
int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 7;
  const char *dir = argc > 2 ? argv[2] : "/tmp";
  size_t iters = argc > 3 ? atol(argv[3]) : 100000;
  char path[512];
  snprintf(path, sizeof path, "%s/records", dir);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b)) {
    fprintf(stderr, "create\n");
    return 1;
  }
  for (size_t i = 0; i < iters; i++) {
    pb_gstep(b);
    for (int k = 0; k < 5; k++) pb_step(b, topics[k]);
  }
  pb_gstop(b);
  pb_bench_stats st;
  pb_bench_get_stats(b, &st);
  double c[64], w[64], e[64], us[64], ss[64];
  for (int k = 0; k < reps; k++) {
    malloc_trim(0);
    long r0 = rss();
    reset();
    double u0, s0, u1, s1;
    ru(&u0, &s0);
    double c0 = cpu(), w0 = wall();
    if (pb_save(b)) {
      fprintf(stderr, "save: %s\n", pb_last_error());
      return 1;
    }
    w[k] = wall() - w0;
    c[k] = cpu() - c0;
    ru(&u1, &s1);
    us[k] = u1 - u0;
    ss[k] = s1 - s0;
    e[k] = hwm() - r0;
  }
  if (reps) {
    qsort(us, reps, 8, cmp);
    qsort(ss, reps, 8, cmp);
    printf("user %.4f sys %.4f  ", us[reps / 2], ss[reps / 2]);
    qsort(c, reps, 8, cmp);
    qsort(w, reps, 8, cmp);
    qsort(e, reps, 8, cmp);
    printf("cpu %.4f s  wall %.4f s  extra %.0f B (%.1f%% of held %llu)  cpu min %.4f max %.4f\n",
           c[reps / 2], w[reps / 2], e[reps / 2], e[reps / 2] / st.bytes_held * 100,
           (unsigned long long)st.bytes_held, c[0], c[reps - 1]);
  }
  pb_bench_destroy(b);
  return 0;
}
