/*
 * gpu_check.c - checks GPU memory tracking and synchronised step times on a
 * machine with an NVIDIA GPU (run by run.sh beside it; see docs/GPU.md).
 *
 * The CUDA runtime is opened with dlopen (CUDART_LIBRARY, else the usual
 * sonames), as a program of the user's would have it loaded: the check needs
 * no CUDA headers and no nvcc. The recording library never loads it.
 *
 * Two layers are checked:
 *   probe   the internal GPU probe (src/record/gpu.h) directly;
 *   public  the public API (pb_enable_cuda_memory_tracking, pb_set_cuda_sync)
 *           end to end: records are saved and read back from the JSON files.
 *           Built only with -DPB_CHECK_PUBLIC=1 (run.sh does so when the
 *           recording library builds).
 *
 * Usage: gpu_check [OUTDIR]   writes OUTDIR/gpu_check.md (the table) and, for
 * the public layer, copies the records it read into OUTDIR. Exit status 0
 * when every required check passes, 1 when one fails, 77 without a GPU.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpu.h"
#include "porter_bench.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* ---- the CUDA runtime, opened by this program ---------------------------- */

static struct {
  int (*malloc_)(void **, size_t);
  int (*free_)(void *);
  int (*memset_)(void *, int, size_t);
  int (*memset_async)(void *, int, size_t, void *);
  int (*sync)(void);
  const char *(*err)(int);
} cu;

static bool load_cudart(char *why, size_t n) {
  const char *names[] = {getenv("CUDART_LIBRARY"), "libcudart.so", "libcudart.so.13",
                         "libcudart.so.12", "libcudart.so.11.0"};
  void *h = NULL;
  for (size_t i = 0; i < sizeof names / sizeof *names && !h; i++)
    if (names[i] && *names[i]) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(why, n, "no CUDA runtime (set CUDART_LIBRARY): %s", dlerror());
    return false;
  }
  *(void **)&cu.malloc_ = dlsym(h, "cudaMalloc");
  *(void **)&cu.free_ = dlsym(h, "cudaFree");
  *(void **)&cu.memset_ = dlsym(h, "cudaMemset");
  *(void **)&cu.memset_async = dlsym(h, "cudaMemsetAsync");
  *(void **)&cu.sync = dlsym(h, "cudaDeviceSynchronize");
  *(void **)&cu.err = dlsym(h, "cudaGetErrorString");
  if (!cu.malloc_ || !cu.free_ || !cu.memset_ || !cu.memset_async || !cu.sync || !cu.err) {
    snprintf(why, n, "the CUDA runtime lacks a function");
    return false;
  }
  return true;
}

#define CU(call)                                                                            \
  do {                                                                                      \
    int cu_rc_ = (call);                                                                    \
    if (cu_rc_ != 0) {                                                                      \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cu.err(cu_rc_)); \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)

/* ---- small helpers ------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The result table: one row per check. */
typedef struct row {
  char check[96];
  char measured[320];
  char target[64];
  const char *result; /* "pass", "FAIL", "info" */
} row;
static row g_rows[64];
static int g_nrows, g_failed;

static void add_row(const char *check, const char *target, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_row(const char *check, const char *target, int ok, const char *fmt, ...) {
  if (g_nrows == (int)(sizeof g_rows / sizeof *g_rows)) return;
  row *r = &g_rows[g_nrows++];
  snprintf(r->check, sizeof r->check, "%s", check);
  snprintf(r->target, sizeof r->target, "%s", target);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->measured, sizeof r->measured, fmt, ap);
  va_end(ap);
  r->result = ok < 0 ? "info" : ok ? "pass" : "FAIL";
  if (ok == 0) g_failed++;
}

static void print_table(FILE *f) {
  fprintf(f, "| check | measured | target | result |\n|---|---|---|---|\n");
  for (int i = 0; i < g_nrows; i++)
    fprintf(f, "| %s | %s | %s | %s |\n", g_rows[i].check, g_rows[i].measured, g_rows[i].target,
            g_rows[i].result);
}

/* ---- diagnostics: NVML's own process list, to compare pids --------------- */

typedef struct nvml_proc {
  unsigned int pid;
  unsigned long long used;
  unsigned int gi, ci;
} nvml_proc;

static void dump_nvml_processes(void) {
  const char *name = getenv("PB_NVML_LIBRARY");
  void *h = dlopen(name && *name ? name : "libnvidia-ml.so.1", RTLD_LAZY | RTLD_NOLOAD);
  int (*handle)(unsigned, void **) = NULL;
  int (*procs)(void *, unsigned *, nvml_proc *) = NULL;
  if (h) {
    *(void **)&handle = dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
    *(void **)&procs = dlsym(h, "nvmlDeviceGetComputeRunningProcesses_v3");
  }
  void *dev;
  nvml_proc list[64];
  unsigned n = 64;
  if (!handle || !procs || handle(0, &dev) != 0 || procs(dev, &n, list) != 0) {
    printf("diagnostic: NVML process list unavailable\n");
    return;
  }
  printf("diagnostic: this pid %d; NVML lists %u compute process(es) on device 0:", (int)getpid(),
         n);
  for (unsigned i = 0; i < n && i < 64; i++)
    printf(" [pid %u: %.1f MiB]", list[i].pid, list[i].used / 1048576.0);
  printf("\n");
}

/* The cost of each NVML call a probe makes or could make (device 0), median of 9 x 500. */
typedef struct nvml_mem_v2 {
  unsigned int version;
  unsigned long long total, reserved, free, used;
} nvml_mem_v2;

static double nvml_cost(void *dev, int which, void *fn) {
  double per[9];
  for (int b = 0; b < 9; b++) {
    double t0 = now_s();
    for (int i = 0; i < 500; i++) {
      nvml_proc list[64];
      unsigned n = 64;
      unsigned long long m[3];
      nvml_mem_v2 m2 = {(unsigned)sizeof(nvml_mem_v2) | (2u << 24), 0, 0, 0, 0};
      if (which == 0)
        ((int (*)(void *, unsigned long long *))fn)(dev, m);
      else if (which == 1)
        ((int (*)(void *, nvml_mem_v2 *))fn)(dev, &m2);
      else
        ((int (*)(void *, unsigned *, nvml_proc *))fn)(dev, &n, list);
    }
    per[b] = (now_s() - t0) / 500 * 1e6;
  }
  qsort(per, 9, sizeof(double), cmp_double);
  return per[4];
}

static void nvml_call_costs(void) {
  const char *name = getenv("PB_NVML_LIBRARY");
  void *h = dlopen(name && *name ? name : "libnvidia-ml.so.1", RTLD_LAZY | RTLD_NOLOAD);
  int (*handle)(unsigned, void **) = NULL;
  if (h) *(void **)&handle = dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
  void *dev;
  if (!handle || handle(0, &dev) != 0) return;
  static const struct {
    const char *name;
    int which;
  } calls[] = {{"nvmlDeviceGetMemoryInfo", 0},
               {"nvmlDeviceGetMemoryInfo_v2", 1},
               {"nvmlDeviceGetComputeRunningProcesses_v3", 2},
               {"nvmlDeviceGetComputeRunningProcesses_v2", 2},
               {"nvmlDeviceGetComputeRunningProcesses", 2},
               {"nvmlDeviceGetGraphicsRunningProcesses_v3", 2}};
  char text[256] = "";
  size_t n = 0;
  for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
    void *fn = dlsym(h, calls[i].name);
    if (!fn) continue;
    /* the plain (v1) process query takes the smaller v1 struct: nvml_proc is larger, so safe */
    int w = snprintf(text + n, sizeof text - n, "%s%s %.1f", n ? ", " : "", calls[i].name + 10,
                     nvml_cost(dev, calls[i].which, fn));
    if (w > 0 && (size_t)w < sizeof text - n) n += (size_t)w;
  }
  add_row("probe: NVML calls, us each (device 0)", "info", -1, "%s", text);
}

/* ---- the probe layer ----------------------------------------------------- */

static pb__gpu_sample_t sample(pb__gpu_tracker *t) {
  pb__gpu_sample_t s;
  if (pb__gpu_sample(t, &s) != PB_OK) {
    fprintf(stderr, "pb__gpu_sample failed\n");
    exit(1);
  }
  return s;
}

static void check_probe_memory(void) {
  pb__gpu_tracker *t = pb__gpu_tracker_new();
  if (!t) {
    add_row("probe: tracker", "created", 0, "pb__gpu_tracker_new returned NULL");
    return;
  }
  pb__gpu_sample_t s0 = sample(t);
  add_row("probe: no context before the first CUDA call", "0 B", s0.process == 0,
          "process memory %.1f MiB", s0.process / 1048576.0);

  CU(cu.free_(NULL)); /* creates the runtime's context */
  dump_nvml_processes();
  pb__gpu_sample_t s1 = sample(t);
  add_row("probe: context of the runtime", "> 0", s1.process > 0 ? 1 : 0, "%.1f MiB",
          s1.process / 1048576.0);

  void *p = NULL;
  CU(cu.malloc_(&p, (size_t)GIB));
  pb__gpu_sample_t s2 = sample(t);
  double rise = (double)s2.process - (double)s1.process;
  add_row("probe: cudaMalloc(1 GiB) raises process memory", ">= 1 GiB", rise >= GIB, "+%.4f GiB",
          rise / GIB);
  CU(cu.free_(p));
  pb__gpu_sample_t s3 = sample(t);
  double fall = (double)s2.process - (double)s3.process;
  add_row("probe: cudaFree lowers it", ">= 1 GiB", fall >= GIB, "-%.4f GiB", fall / GIB);

  /* an allocation that lives 50 ms (10 sampling periods) between two records */
  CU(cu.malloc_(&p, (size_t)(2 * GIB)));
  sleep_ms(50);
  CU(cu.free_(p));
  pb__gpu_sample_t s4 = sample(t);
  double caught = (double)s4.peak - (double)s4.process;
  add_row("probe: peak catches 2 GiB freed before the record", ">= 2 GiB above current",
          caught >= 2 * GIB, "max %.3f GiB, now %.3f GiB", s4.peak / GIB, s4.process / GIB);
  sample(t);
  /* the same, freed at once: shorter than a sampling period, may be missed */
  CU(cu.malloc_(&p, (size_t)(2 * GIB)));
  CU(cu.free_(p));
  pb__gpu_sample_t s5 = sample(t);
  add_row("probe: 2 GiB freed at once (shorter than the 5 ms period)", "may be missed", -1,
          "%s (max %.3f GiB)", s5.peak >= s5.process + 2 * GIB ? "caught" : "missed",
          s5.peak / GIB);

  /* the cost of one probe (JSON included), median of 9 batches */
  char buf[PB__GPU_JSON_CAP];
  size_t len;
  double per[9];
  for (int b = 0; b < 9; b++) {
    double t0 = now_s();
    for (int i = 0; i < 500; i++) pb__gpu_probe(t, buf, sizeof buf, &len);
    per[b] = (now_s() - t0) / 500 * 1e6;
  }
  qsort(per, 9, sizeof *per, cmp_double);
  add_row("probe: cost of one GPU memory probe, memory unchanged (median of 9 x 500)", "<= 20 us",
          per[4] <= 20.0, "%.2f us (min %.2f, max %.2f)", per[4], per[0], per[8]);
  /* right after an allocation or a free: the process list must be read */
  double one[201];
  void *q = NULL;
  for (int i = 0; i < 201; i++) {
    if (i % 2 == 0)
      CU(cu.malloc_(&q, (size_t)64 << 20));
    else
      CU(cu.free_(q));
    double t0 = now_s();
    pb__gpu_probe(t, buf, sizeof buf, &len);
    one[i] = (now_s() - t0) * 1e6;
  }
  CU(cu.free_(q));
  qsort(one, 201, sizeof *one, cmp_double);
  add_row("probe: cost right after a cudaMalloc or cudaFree (median of 201)", "info", -1,
          "%.2f us (min %.2f, max %.2f)", one[100], one[0], one[200]);
  /* with the sampler idle (an hour's period) the reading to reuse is soon too old */
  pb__gpu_set_poll_period(3600.0);
  sleep_ms(10);
  for (int b = 0; b < 9; b++) {
    double t0 = now_s();
    for (int i = 0; i < 500; i++) pb__gpu_probe(t, buf, sizeof buf, &len);
    per[b] = (now_s() - t0) / 500 * 1e6;
  }
  qsort(per, 9, sizeof *per, cmp_double);
  pb__gpu_set_poll_period(PB__GPU_POLL_DEFAULT_S);
  add_row("probe: memory unchanged, sampler idle (probes refresh the reading)", "info", -1,
          "%.2f us (min %.2f, max %.2f)", per[4], per[0], per[8]);
  nvml_call_costs();
  printf("probe JSON: %s\n", buf);
  pb__gpu_tracker_free(t);
}

/* Launches n asynchronous memsets over buf; returns at once. */
static void launch(void *buf, size_t bytes, int n) {
  for (int i = 0; i < n; i++) CU(cu.memset_async(buf, i & 0xff, bytes, NULL));
}

/* Calibrates the number of 4 GiB memsets that keep the GPU busy ~0.25 s. */
static int calibrate(void *buf, size_t bytes, double *one_s) {
  CU(cu.memset_(buf, 1, bytes));
  CU(cu.sync());
  double t0 = now_s();
  launch(buf, bytes, 4);
  CU(cu.sync());
  *one_s = (now_s() - t0) / 4;
  int n = (int)(0.25 / *one_s) + 1;
  return n > 20000 ? 20000 : n;
}

static void check_probe_sync(void *buf, size_t bytes, int n) {
  add_row("sync: CUDA runtime found already loaded", "yes", pb__gpu_sync_available(), "%s",
          pb__gpu_sync_available() ? "yes" : "no");
  double t0 = now_s();
  launch(buf, bytes, n);
  double t_launch = now_s() - t0;
  pb__gpu_sync();
  double t_synced = now_s() - t0;
  CU(cu.sync());
  double t_real = now_s() - t0;
  add_row("sync: pb__gpu_sync waits for async memsets", ">= 0.9 x real", t_synced >= 0.9 * t_real,
          "%.1f ms of %.1f ms real (launch alone %.2f ms)", t_synced * 1e3, t_real * 1e3,
          t_launch * 1e3);
  /* the cost of one pb__gpu_sync with nothing pending (context current) */
  double per[9];
  for (int b = 0; b < 9; b++) {
    t0 = now_s();
    for (int i = 0; i < 500; i++) pb__gpu_sync();
    per[b] = (now_s() - t0) / 500 * 1e6;
  }
  qsort(per, 9, sizeof *per, cmp_double);
  add_row("sync: cost of pb__gpu_sync with the GPU idle", "info", -1, "%.2f us", per[4]);
}

/* ---- the public layer ---------------------------------------------------- */

#if PB_CHECK_PUBLIC
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  if (s) s[n] = '\0';
  fclose(f);
  return s;
}

/* The number after the first "key" (quoted, followed by ':') found after 'from'. */
static double json_number_after(const char *text, const char *from, const char *key, bool *ok) {
  const char *p = strstr(text, from);
  char q[128];
  snprintf(q, sizeof q, "\"%s\"", key);
  while (p && (p = strstr(p, q)) != NULL) {
    p += strlen(q);
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    if (*p != ':') continue;
    p++;
    char *end;
    double v = strtod(p, &end);
    if (end != p) {
      *ok = true;
      return v;
    }
  }
  *ok = false;
  return 0;
}

static void copy_file(const char *from, const char *to) {
  char *s = read_file(from);
  FILE *f = s ? fopen(to, "wb") : NULL;
  if (f) {
    fputs(s, f);
    fclose(f);
  }
  free(s);
}

static void check_public_memory(const char *tmp, const char *outdir) {
  char path[512];
  snprintf(path, sizeof path, "%s/memory", tmp);
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) {
    add_row("public: benchmarker", "created", 0, "%s", pb_last_error());
    return;
  }
  add_row("public: pb_cuda_available()", "true", pb_cuda_available(), "%s",
          pb_cuda_available() ? "true" : "false");
  pb_enable_memory_tracking(b, true);
  int rc = pb_enable_cuda_memory_tracking(b);
  add_row("public: pb_enable_cuda_memory_tracking", "PB_OK", rc == PB_OK, "%s", pb_err_name(rc));
  void *p;
  pb_start(b);
  pb_step(b, "ctx");
  CU(cu.malloc_(&p, (size_t)GIB));
  pb_step(b, "alloc_1GiB");
  CU(cu.free_(p));
  pb_step(b, "free_1GiB");
  CU(cu.malloc_(&p, (size_t)(2 * GIB)));
  sleep_ms(50);
  CU(cu.free_(p));
  pb_step(b, "after_transient_2GiB");
  pb_gstop(b);
  rc = pb_save(b);
  pb_bench_destroy(b);
  char file[600];
  snprintf(file, sizeof file, "%s%s", path, PB_SUFFIX_MEMORY);
  char *text = rc == PB_OK ? read_file(file) : NULL;
  if (!text) {
    add_row("public: memory records saved", "PB_OK", 0, "%s %s", pb_err_name(rc), pb_last_error());
    return;
  }
  char to[600];
  snprintf(to, sizeof to, "%s/public_memory_MEMORY.json", outdir);
  copy_file(file, to);
  bool ok1, ok2, ok3, ok4, ok5;
  double ctx = json_number_after(text, "\"ctx\"", "allocated", &ok1);
  double alloc = json_number_after(text, "\"alloc_1GiB\"", "allocated", &ok2);
  double freed = json_number_after(text, "\"free_1GiB\"", "allocated", &ok3);
  double tr_now = json_number_after(text, "\"after_transient_2GiB\"", "allocated", &ok4);
  double tr_max = json_number_after(text, "\"after_transient_2GiB\"", "max_allocated", &ok5);
  if (!(ok1 && ok2 && ok3 && ok4 && ok5)) {
    add_row("public: \"cuda memory usage\" in the records", "present", 0, "missing");
  } else {
    add_row("public: recorded allocated rises after cudaMalloc(1 GiB)", ">= 1 GiB",
            alloc - ctx >= GIB, "+%.4f GiB", (alloc - ctx) / GIB);
    add_row("public: recorded allocated falls after cudaFree", ">= 1 GiB", alloc - freed >= GIB,
            "-%.4f GiB", (alloc - freed) / GIB);
    add_row("public: recorded max_allocated catches 2 GiB freed between records",
            ">= 2 GiB above allocated", tr_max - tr_now >= 2 * GIB, "max %.3f GiB, now %.3f GiB",
            tr_max / GIB, tr_now / GIB);
  }
  free(text);
}

/* Records one iteration: launch n memsets, step "launch", wait, step "wait". */
static int sync_run(const char *path, bool sync_on, void *buf, size_t bytes, int n,
                    double *launch_s, double *wait_s, double *real_s) {
  pb_bench *b = NULL;
  if (pb_bench_create(path, &b) != PB_OK) return -1;
  int rc = pb_set_cuda_sync(b, sync_on);
  if (rc != PB_OK) {
    pb_bench_destroy(b);
    return rc;
  }
  pb_start(b);
  double t0 = now_s();
  launch(buf, bytes, n);
  pb_step(b, "launch");
  CU(cu.sync());
  *real_s = now_s() - t0;
  pb_step(b, "wait");
  pb_gstop(b);
  rc = pb_save(b);
  pb_bench_destroy(b);
  if (rc != PB_OK) return rc;
  char file[600];
  snprintf(file, sizeof file, "%s%s", path, PB_SUFFIX_DATA);
  char *text = read_file(file);
  if (!text) return PB_EIO;
  bool ok1, ok2;
  /* the first occurrences are the iteration's "absolutes" */
  *launch_s = json_number_after(text, "\"absolutes\"", "launch", &ok1);
  *wait_s = json_number_after(text, "\"absolutes\"", "wait", &ok2);
  free(text);
  return ok1 && ok2 ? PB_OK : PB_EJSON;
}

static void check_public_sync(const char *tmp, void *buf, size_t bytes, int n) {
  char path[512];
  double l_on, w_on, r_on, l_off, w_off, r_off;
  snprintf(path, sizeof path, "%s/sync_on", tmp);
  int rc = sync_run(path, true, buf, bytes, n, &l_on, &w_on, &r_on);
  if (rc != PB_OK) {
    add_row("public: pb_set_cuda_sync(b, true) run", "PB_OK", 0, "%s %s", pb_err_name(rc),
            pb_last_error());
    return;
  }
  snprintf(path, sizeof path, "%s/sync_off", tmp);
  rc = sync_run(path, false, buf, bytes, n, &l_off, &w_off, &r_off);
  add_row("public: sync on, step launching async memsets is charged its real time", ">= 0.9 x real",
          l_on >= 0.9 * r_on, "%.1f ms of %.1f ms real (next step %.2f ms)", l_on * 1e3, r_on * 1e3,
          w_on * 1e3);
  if (rc == PB_OK)
    add_row("public: sync off (default), the same step", "info: GPU time goes to the next step", -1,
            "%.2f ms of %.1f ms real (next step %.1f ms)", l_off * 1e3, r_off * 1e3, w_off * 1e3);
}

/* The cost of pb_step with per-step memory tracking, with and without the GPU. */
static void check_public_cost(const char *tmp) {
  double per[2];
  for (int gpu = 0; gpu < 2; gpu++) {
    char path[512];
    snprintf(path, sizeof path, "%s/cost%d", tmp, gpu);
    pb_bench *b = NULL;
    if (pb_bench_create(path, &b) != PB_OK) return;
    pb_enable_memory_tracking(b, true);
    if (gpu) pb_enable_cuda_memory_tracking(b);
    pb_start(b);
    pb_topic tp = pb_topic_intern(b, "s");
    double t0 = now_s();
    for (int i = 0; i < 2000; i++) pb_step_id(b, tp);
    per[gpu] = (now_s() - t0) / 2000 * 1e6;
    pb_bench_destroy(b);
  }
  add_row("public: pb_step with per-step memory tracking, GPU off / on", "info", -1,
          "%.2f us / %.2f us", per[0], per[1]);
}
#endif

int main(int argc, char **argv) {
  const char *outdir = argc > 1 ? argv[1] : ".";
  char why[512];
  if (!pb__gpu_available()) {
    printf("skipped: no GPU (%s)\n", pb__gpu_unavailable_reason());
    return 77;
  }
  if (!load_cudart(why, sizeof why)) {
    printf("skipped: %s\n", why);
    return 77;
  }
  add_row("probe: NVML loaded, devices", "> 0", pb__gpu_device_count() > 0, "%u",
          pb__gpu_device_count());
  check_probe_memory();

  size_t bytes = (size_t)(4 * GIB);
  void *buf = NULL;
  CU(cu.malloc_(&buf, bytes));
  double one;
  int n = calibrate(buf, bytes, &one);
  add_row("sync: one 4 GiB cudaMemsetAsync", "info", -1, "%.3f ms (%.0f GB/s); %d per step",
          one * 1e3, bytes / one / 1e9, n);
  check_probe_sync(buf, bytes, n);
#if PB_CHECK_PUBLIC
  char tmp[] = "/tmp/pb_gpu_check.XXXXXX";
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  check_public_memory(tmp, outdir);
  check_public_sync(tmp, buf, bytes, n);
  check_public_cost(tmp);
#else
  /* a check that could not run is not a pass */
  add_row("public: API checks", "run", 0, "not run: the recording library did not build");
#endif
  CU(cu.free_(buf));

  print_table(stdout);
  char path[600];
  snprintf(path, sizeof path, "%s/gpu_check.md", outdir);
  FILE *f = fopen(path, "w");
  if (f) {
    print_table(f);
    fclose(f);
  }
  printf("%s\n", g_failed ? "GPU CHECK FAILED" : "GPU CHECK PASSED");
  return g_failed ? 1 : 0;
}
