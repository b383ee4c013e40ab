/*
 * bench_util.c - results, table and JSON output, clocks, medians and process
 * memory for the overhead benchmark.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

enum { MAX_RESULTS = 96 };

static pbb_result results[MAX_RESULTS];
static int nresults;

uint64_t pbb_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pbb_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pbb_thread_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double pbb_median(const double *v, int n) {
  if (n <= 0) return 0;
  double *c = malloc((size_t)n * sizeof *c);
  if (!c) return v[0];
  memcpy(c, v, (size_t)n * sizeof *c);
  qsort(c, (size_t)n, sizeof *c, cmp_double);
  double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
  free(c);
  return m;
}

double pbb_min(const double *v, int n) {
  double m = n > 0 ? v[0] : 0;
  for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
  return m;
}

double pbb_max(const double *v, int n) {
  double m = n > 0 ? v[0] : 0;
  for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
  return m;
}

pbb_result *pbb_add(const char *id, const char *figure, const char *unit, const double *samples,
                    int n) {
  static pbb_result spare;
  if (nresults == MAX_RESULTS) return &spare;
  pbb_result *r = &results[nresults++];
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  snprintf(r->figure, sizeof r->figure, "%s", figure);
  snprintf(r->unit, sizeof r->unit, "%s", unit);
  r->median = pbb_median(samples, n);
  r->min = pbb_min(samples, n);
  r->max = pbb_max(samples, n);
  r->runs = n;
  r->cmp = PBB_INFO;
  r->original = -1;
  return r;
}

void pbb_target(pbb_result *r, pbb_cmp cmp, double target, const char *text) {
  r->cmp = cmp;
  r->target = target;
  snprintf(r->target_text, sizeof r->target_text, "%s", text);
}

void pbb_note(pbb_result *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->note, sizeof r->note, fmt, ap);
  va_end(ap);
}

pbb_result *pbb_find(const char *id) {
  for (int i = 0; i < nresults; i++) {
    if (strcmp(results[i].id, id) == 0) return &results[i];
  }
  return NULL;
}

int pbb_verdict(const pbb_result *r) {
  switch (r->cmp) {
    case PBB_LE: return r->median <= r->target;
    case PBB_GE: return r->median >= r->target;
    case PBB_EQ0: return r->median <= r->target; /* target holds the tolerance */
    case PBB_INFO: break;
  }
  return -1;
}

/* ---- formatting ---- */

/* Formats v in unit u with sensible precision. */
static void fmt_value(char *buf, size_t n, double v, const char *u) {
  if (strcmp(u, "ns") == 0) {
    if (v >= 10000)
      snprintf(buf, n, "%.2f us", v / 1000);
    else if (v >= 100)
      snprintf(buf, n, "%.0f ns", v);
    else
      snprintf(buf, n, "%.2f ns", v);
  } else if (strcmp(u, "s") == 0) {
    snprintf(buf, n, "%.3f s", v);
  } else if (strcmp(u, "B") == 0) {
    if (v >= 1e6)
      snprintf(buf, n, "%.2f MB", v / 1e6);
    else
      snprintf(buf, n, "%.1f B", v);
  } else if (strcmp(u, "x") == 0) {
    snprintf(buf, n, "%.2fx", v);
  } else if (strcmp(u, "%") == 0) {
    snprintf(buf, n, "%.1f %%", v);
  } else {
    snprintf(buf, n, "%.3g", v);
  }
}

static void machine(char *cpu, size_t ncpu, char *kernel, size_t nkernel) {
  snprintf(cpu, ncpu, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "model name", 10) == 0) {
        const char *p = strchr(line, ':');
        if (p) {
          p++;
          while (*p == ' ') p++;
          snprintf(cpu, ncpu, "%s", p);
          cpu[strcspn(cpu, "\n")] = '\0';
        }
        break;
      }
    }
    fclose(f);
  }
  struct utsname u;
  if (uname(&u) == 0)
    snprintf(kernel, nkernel, "%s %s %s", u.sysname, u.release, u.machine);
  else
    snprintf(kernel, nkernel, "unknown");
}

/* The 1-minute load average, or -1. */
double pbb_loadavg(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

static void sort_results(void) {
  /* qsort is not stable: tag the run order first. */
  pbb_result tmp[MAX_RESULTS];
  int order[MAX_RESULTS];
  for (int i = 0; i < nresults; i++) order[i] = i;
  for (int i = 1; i < nresults; i++) { /* insertion sort: small n, stable */
    int o = order[i], j = i;
    while (j > 0 && results[order[j - 1]].figure[0] > results[o].figure[0]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = o;
  }
  for (int i = 0; i < nresults; i++) tmp[i] = results[order[i]];
  memcpy(results, tmp, (size_t)nresults * sizeof *tmp);
}

void pbb_print_table(const pbb_config *cfg) {
  sort_results();
  char cpu[128], kernel[256];
  machine(cpu, sizeof cpu, kernel, sizeof kernel);
  printf("porter_bench %s overhead benchmark%s\n", pb_version(), cfg->quick ? " (--quick)" : "");
  printf("machine: %s, %ld cores, %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN), kernel);
  printf("load average (1 min): %.2f at the start, %.2f at the end\n", cfg->load_start,
         pbb_loadavg());
  printf("every figure: median over the runs in column 'runs'; * = extrapolated (see notes)\n\n");
  printf("%-46s %14s %5s  %-22s %12s  %s\n", "figure", "median", "runs", "target", "original",
         "verdict");
  int fails = 0, passes = 0;
  for (int i = 0; i < nresults; i++) {
    const pbb_result *r = &results[i];
    char med[40], orig[40];
    fmt_value(med, sizeof med, r->median, r->unit);
    if (r->extrapolated) strncat(med, "*", sizeof med - strlen(med) - 1);
    if (r->original >= 0)
      fmt_value(orig, sizeof orig, r->original, r->unit);
    else
      snprintf(orig, sizeof orig, "-");
    int v = pbb_verdict(r);
    fails += v == 0;
    passes += v == 1;
    printf("%-46s %14s %5d  %-22s %12s  %s\n", r->figure, med, r->runs,
           r->cmp == PBB_INFO ? "-" : r->target_text, orig, v < 0 ? "" : (v ? "pass" : "FAIL"));
  }
  printf("\n%d targets met, %d missed\n", passes, fails);
  printf("\nnotes:\n");
  for (int i = 0; i < nresults; i++) {
    if (results[i].note[0]) printf("  %-24s %s\n", results[i].id, results[i].note);
  }
}

/* Writes s as a JSON string (the texts here are ASCII). */
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", (unsigned)*s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

int pbb_write_json(const char *path, const pbb_config *cfg) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  char cpu[128], kernel[256];
  machine(cpu, sizeof cpu, kernel, sizeof kernel);
  fprintf(f, "{\"version\":");
  json_str(f, pb_version());
  fprintf(f, ",\"quick\":%s,\"machine\":{\"cpu\":", cfg->quick ? "true" : "false");
  json_str(f, cpu);
  fprintf(f, ",\"cores\":%ld,\"kernel\":", sysconf(_SC_NPROCESSORS_ONLN));
  json_str(f, kernel);
  fprintf(f, ",\"load_start\":%.2f,\"load_end\":%.2f},\n\"figures\":[", cfg->load_start,
          pbb_loadavg());
  for (int i = 0; i < nresults; i++) {
    const pbb_result *r = &results[i];
    static const char *ops[] = {"none", "<=", ">=", "==0"};
    fprintf(f, "%s\n{\"id\":", i ? "," : "");
    json_str(f, r->id);
    fprintf(f, ",\"figure\":");
    json_str(f, r->figure);
    fprintf(f, ",\"unit\":");
    json_str(f, r->unit);
    fprintf(f, ",\"median\":%.17g,\"min\":%.17g,\"max\":%.17g,\"runs\":%d", r->median, r->min,
            r->max, r->runs);
    fprintf(f, ",\"extrapolated\":%s,\"target_op\":\"%s\"", r->extrapolated ? "true" : "false",
            ops[r->cmp]);
    if (r->cmp != PBB_INFO)
      fprintf(f, ",\"target\":%.17g", r->target);
    else
      fprintf(f, ",\"target\":null");
    if (r->original >= 0)
      fprintf(f, ",\"original\":%.17g", r->original);
    else
      fprintf(f, ",\"original\":null");
    int v = pbb_verdict(r);
    fprintf(f, ",\"pass\":%s,\"note\":", v < 0 ? "null" : (v ? "true" : "false"));
    json_str(f, r->note);
    fputc('}', f);
  }
  fprintf(f, "\n]}\n");
  return fclose(f) == 0 ? 0 : -1;
}

/* ---- process memory ---- */

int64_t pbb_rss(void) {
  char buf[128];
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strchr(buf, ' ');
  return p ? strtoll(p + 1, NULL, 10) * sysconf(_SC_PAGESIZE) : -1;
}

int64_t pbb_hwm(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int64_t kb = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kb = strtoll(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

int pbb_reset_hwm(void) {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = write(fd, "5", 1) == 1 ? 0 : -1;
  close(fd);
  return rc;
}
