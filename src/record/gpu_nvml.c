/*
 * gpu_nvml.c - GPU memory probes through NVIDIA's management library, and
 * the optional device synchronisation before clock reads.
 *
 * Nothing here links against CUDA. NVML (libnvidia-ml.so.1, shipped with
 * every driver) is opened with dlopen the first time anything asks whether a
 * GPU is available. NVML answers from the driver's bookkeeping: it never
 * creates a CUDA context, so probing costs no GPU memory. The CUDA runtime
 * and driver API are never loaded: pb__gpu_sync only uses copies that the
 * program has already loaded (found with RTLD_DEFAULT / RTLD_NOLOAD).
 *
 * What a probe measures (docs/GPU.md has the full definitions):
 *   process memory  the sum, over NVML's devices, of the memory the driver
 *                   charges to this process (its CUDA contexts and every
 *                   allocation, cached or not); "allocated" and "reserved"
 *   peak            the largest process memory seen since the tracker's
 *                   previous probe: by the probe itself and by a sampling
 *                   thread that runs while a tracker exists (period
 *                   PB__GPU_POLL_DEFAULT_S); "max_allocated", "max_reserved"
 *   device memory   used and total memory of each device
 *
 * Test hook: the environment variable PB_NVML_LIBRARY, read once at the
 * first call, names the library to open instead of "libnvidia-ml.so.1" (a
 * path or a soname); an empty value disables GPU tracking.
 *
 * Locks (no lock is held while calling into NVML, except g_nvml.once's
 * initialisation, which runs once):
 *   g_nvml.once    pthread_once: loading NVML, its function pointers and the
 *                  device handles, all read-only afterwards.
 *   g_trk.mu       the list of trackers, each tracker's peak and reset_seq,
 *                  the sample sequence number, the poll period (and its
 *                  change count) and the stop flag. The sampling thread takes
 *                  only this lock; it waits on g_trk.cond under it.
 *   g_trk.thread_mu  starting and joining the sampling thread (and the
 *                  thread_running flag). Taken before g_trk.mu, never by the
 *                  sampling thread, so joining under it cannot deadlock.
 *   g_last.mu      the newest full reading of each device, which probes may
 *                  reuse (see pb__gpu_read). A leaf lock.
 *   g_sync.mu      looking up the CUDA runtime / driver entry points. The
 *                  found pointers are published through atomics and read
 *                  without the lock on the hot path.
 * Order, where nested: thread_mu, then g_trk.mu; g_last.mu and g_sync.mu are
 * leaves. A fork handler takes all four (in that order) around fork(), so the
 * child inherits none held.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu.h"
#include "porter_bench.h"

/* ------------------------------------------------------------------------ */
/* NVML's ABI, as documented in NVIDIA's nvml.h (only what is used here)     */
/* ------------------------------------------------------------------------ */

typedef int pb__nvml_ret;                     /* nvmlReturn_t */
typedef struct pb__nvml_dev_st *pb__nvml_dev; /* nvmlDevice_t */

#define PB__NVML_SUCCESS 0
#define PB__NVML_ERROR_INSUFFICIENT_SIZE 7
/* usedGpuMemory when the driver cannot tell (NVML_VALUE_NOT_AVAILABLE). */
#define PB__NVML_VALUE_NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFull

/* nvmlMemory_t (v1): bytes. used = total - free, driver reservations included. */
typedef struct pb__nvml_memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} pb__nvml_memory;

/* nvmlProcessInfo_v1_t: taken by nvmlDeviceGetComputeRunningProcesses (v1). */
typedef struct pb__nvml_proc_v1 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} pb__nvml_proc_v1;

/* nvmlProcessInfo_t (v2 layout): taken by the _v2 and _v3 entry points. */
typedef struct pb__nvml_proc_v2 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} pb__nvml_proc_v2;

typedef pb__nvml_ret (*pb__nvml_init_fn)(void);
typedef pb__nvml_ret (*pb__nvml_count_fn)(unsigned int *);
typedef pb__nvml_ret (*pb__nvml_handle_fn)(unsigned int, pb__nvml_dev *);
typedef pb__nvml_ret (*pb__nvml_meminfo_fn)(pb__nvml_dev, pb__nvml_memory *);
typedef pb__nvml_ret (*pb__nvml_procs_fn)(pb__nvml_dev, unsigned int *, void *);

/* ------------------------------------------------------------------------ */
/* Loading (g_nvml.once)                                                     */
/* ------------------------------------------------------------------------ */

#define PB__NVML_DEFAULT_LIBRARY "libnvidia-ml.so.1"

static struct {
  pthread_once_t once;
  bool available;
  char reason[256]; /* why not available; "" when available */
  void *lib;
  pb__nvml_meminfo_fn meminfo;
  pb__nvml_procs_fn procs;
  size_t proc_stride; /* sizeof the process struct procs takes */
  unsigned ndev;
  pb__nvml_dev dev[PB__GPU_MAX_DEVICES];
  unsigned int pid;
} g_nvml = {.once = PTHREAD_ONCE_INIT};

static void *pb__nvml_sym(const char *a, const char *b) {
  void *f = dlsym(g_nvml.lib, a);
  if (!f && b) f = dlsym(g_nvml.lib, b);
  return f;
}

/* Records why the GPU is unavailable: what, followed by detail (may be NULL). */
static void pb__nvml_unavailable(const char *what, const char *detail) {
  snprintf(g_nvml.reason, sizeof g_nvml.reason, "%s%s", what, detail ? detail : "");
  g_nvml.available = false;
}

static void pb__gpu_atfork_prepare(void);
static void pb__gpu_atfork_parent(void);
static void pb__gpu_atfork_child(void);

static void pb__nvml_load(void) {
  const char *name = getenv("PB_NVML_LIBRARY");
  if (name && !*name) {
    pb__nvml_unavailable("GPU tracking disabled by an empty PB_NVML_LIBRARY", NULL);
    return;
  }
  if (!name) name = PB__NVML_DEFAULT_LIBRARY;
  g_nvml.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!g_nvml.lib) {
    const char *e = dlerror();
    pb__nvml_unavailable("cannot load the NVIDIA management library: ", e ? e : name);
    return;
  }
  pb__nvml_init_fn init = (pb__nvml_init_fn)pb__nvml_sym("nvmlInit_v2", "nvmlInit");
  pb__nvml_count_fn count =
      (pb__nvml_count_fn)pb__nvml_sym("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  pb__nvml_handle_fn handle = (pb__nvml_handle_fn)pb__nvml_sym("nvmlDeviceGetHandleByIndex_v2",
                                                               "nvmlDeviceGetHandleByIndex");
  g_nvml.meminfo = (pb__nvml_meminfo_fn)pb__nvml_sym("nvmlDeviceGetMemoryInfo", NULL);
  g_nvml.proc_stride = sizeof(pb__nvml_proc_v2);
  g_nvml.procs = (pb__nvml_procs_fn)pb__nvml_sym("nvmlDeviceGetComputeRunningProcesses_v3",
                                                 "nvmlDeviceGetComputeRunningProcesses_v2");
  if (!g_nvml.procs) {
    g_nvml.procs = (pb__nvml_procs_fn)pb__nvml_sym("nvmlDeviceGetComputeRunningProcesses", NULL);
    g_nvml.proc_stride = sizeof(pb__nvml_proc_v1);
  }
  if (!init || !count || !handle || !g_nvml.meminfo || !g_nvml.procs) {
    pb__nvml_unavailable("a needed NVML function is missing from ", name);
    goto fail;
  }
  pb__nvml_ret r = init();
  if (r != PB__NVML_SUCCESS) {
    char code[48];
    snprintf(code, sizeof code, "%d (no driver or no GPU)", r);
    pb__nvml_unavailable("nvmlInit failed with NVML error ", code);
    goto fail;
  }
  unsigned int n = 0;
  if (count(&n) != PB__NVML_SUCCESS || n == 0) {
    pb__nvml_unavailable("NVML reports no GPU", NULL);
    goto fail; /* NVML stays initialised: nvmlShutdown is not worth a lookup here */
  }
  if (n > PB__GPU_MAX_DEVICES) n = PB__GPU_MAX_DEVICES;
  for (unsigned i = 0; i < n; i++) {
    if (handle(i, &g_nvml.dev[g_nvml.ndev]) == PB__NVML_SUCCESS) g_nvml.ndev++;
  }
  /* "A device answers": the first device's memory can be read. */
  pb__nvml_memory m;
  if (g_nvml.ndev == 0 || g_nvml.meminfo(g_nvml.dev[0], &m) != PB__NVML_SUCCESS) {
    pb__nvml_unavailable("no GPU answers NVML's memory query", NULL);
    goto fail;
  }
  g_nvml.pid = (unsigned int)getpid();
  /* a child process has its own pid and no sampling thread: see pb__gpu_atfork_child */
  pthread_atfork(pb__gpu_atfork_prepare, pb__gpu_atfork_parent, pb__gpu_atfork_child);
  g_nvml.available = true;
  g_nvml.reason[0] = '\0';
  return;
fail:
  /* The library stays open: NVML may have started threads, and unloading it
   * under them is unsafe. It is loaded once per process. */
  g_nvml.ndev = 0;
}

bool pb__gpu_available(void) {
  pthread_once(&g_nvml.once, pb__nvml_load);
  return g_nvml.available;
}

const char *pb__gpu_unavailable_reason(void) {
  pthread_once(&g_nvml.once, pb__nvml_load);
  return g_nvml.reason;
}

unsigned pb__gpu_device_count(void) {
  pthread_once(&g_nvml.once, pb__nvml_load);
  return g_nvml.ndev;
}

/* ------------------------------------------------------------------------ */
/* Reading (no lock: each caller owns its process buffer)                    */
/* ------------------------------------------------------------------------ */

typedef struct pb__procbuf {
  unsigned char *p; /* cap entries of g_nvml.proc_stride bytes */
  unsigned cap;
} pb__procbuf;

typedef struct pb__gpu_reading {
  uint64_t process; /* this process, all devices */
  unsigned ndev;
  pb__gpu_device_reading dev[PB__GPU_MAX_DEVICES];
} pb__gpu_reading;

static bool pb__procbuf_reserve(pb__procbuf *b, unsigned n) {
  if (n <= b->cap) return true;
  unsigned cap = n + 16;
  unsigned char *p = realloc(b->p, (size_t)cap * g_nvml.proc_stride);
  if (!p) return false;
  b->p = p;
  b->cap = cap;
  return true;
}

/* This process's memory on one device; 0 where the driver does not say. */
static uint64_t pb__process_on(pb__nvml_dev d, pb__procbuf *b) {
  for (int attempt = 0; attempt < 4; attempt++) {
    unsigned int n = b->cap;
    pb__nvml_ret r = g_nvml.procs(d, &n, b->p);
    if (r == PB__NVML_ERROR_INSUFFICIENT_SIZE) {
      if (!pb__procbuf_reserve(b, n)) return 0;
      continue; /* the list may grow between calls: try again */
    }
    if (r != PB__NVML_SUCCESS) return 0;
    uint64_t sum = 0; /* a process may be listed once per MIG instance */
    for (unsigned i = 0; i < n && i < b->cap; i++) {
      const unsigned char *e = b->p + (size_t)i * g_nvml.proc_stride;
      unsigned int pid;
      unsigned long long used;
      /* pid and usedGpuMemory sit at the same offsets in v1 and v2 */
      memcpy(&pid, e + offsetof(pb__nvml_proc_v2, pid), sizeof pid);
      memcpy(&used, e + offsetof(pb__nvml_proc_v2, usedGpuMemory), sizeof used);
      if (pid == g_nvml.pid && used != PB__NVML_VALUE_NOT_AVAILABLE) sum += used;
    }
    return sum;
  }
  return 0;
}

/*
 * The newest full reading of each device (memory query, then process list),
 * by the sampler or a probe. A probe whose memory query finds the device's
 * used memory unchanged since a full reading at most PB__GPU_REUSE_NS old
 * reuses that reading's process value instead of asking for the process list
 * (three quarters of a probe's cost): the process's memory cannot have
 * changed unless another process changed its own by exactly the opposite
 * amount within that window. The order matters: the memory query comes
 * before the process list, so a change between the two calls makes the pair
 * look changed, never unchanged. g_last.mu guards it; a leaf lock.
 */
#define PB__GPU_REUSE_NS 10000000u /* 10 ms: two sampling periods by default */

static struct {
  pthread_mutex_t mu;
  bool valid[PB__GPU_MAX_DEVICES];
  uint64_t used[PB__GPU_MAX_DEVICES];
  uint64_t process[PB__GPU_MAX_DEVICES];
  uint64_t ns[PB__GPU_MAX_DEVICES]; /* monotonic time of its memory query */
} g_last = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t pb__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads every device. fast: a probe, which may reuse a recent full reading. */
static void pb__gpu_read(pb__procbuf *b, pb__gpu_reading *out, bool fast) {
  out->process = 0;
  out->ndev = g_nvml.ndev;
  for (unsigned i = 0; i < g_nvml.ndev; i++) {
    pb__gpu_device_reading *dr = &out->dev[i];
    pb__nvml_memory m;
    dr->index = i;
    uint64_t t = pb__mono_ns();
    bool ok = g_nvml.meminfo(g_nvml.dev[i], &m) == PB__NVML_SUCCESS;
    dr->used = ok ? m.used : 0;
    dr->total = ok ? m.total : 0;
    bool reused = false;
    if (fast && ok) {
      pthread_mutex_lock(&g_last.mu);
      if (g_last.valid[i] && g_last.used[i] == dr->used && t - g_last.ns[i] <= PB__GPU_REUSE_NS) {
        dr->process = g_last.process[i];
        reused = true;
      }
      pthread_mutex_unlock(&g_last.mu);
    }
    if (!reused) {
      dr->process = pb__process_on(g_nvml.dev[i], b);
      pthread_mutex_lock(&g_last.mu);
      if (!g_last.valid[i] || t >= g_last.ns[i]) { /* keep the newest */
        g_last.valid[i] = ok;
        g_last.used[i] = dr->used;
        g_last.process[i] = dr->process;
        g_last.ns[i] = t;
      }
      pthread_mutex_unlock(&g_last.mu);
    }
    out->process += dr->process;
  }
}

/* ------------------------------------------------------------------------ */
/* Trackers and the sampling thread (g_trk.mu, g_trk.thread_mu)              */
/* ------------------------------------------------------------------------ */

struct pb__gpu_tracker {
  struct pb__gpu_tracker *prev, *next; /* g_trk.mu */
  uint64_t peak;                       /* g_trk.mu: largest process memory since the last probe */
  uint64_t reset_seq;                  /* g_trk.mu: sample sequence number at the last probe */
  pb__procbuf buf;                     /* owned by the (serialised) caller of pb__gpu_probe */
  pb__gpu_reading rd;                  /* the last probe's reading, same owner */
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cond; /* wakes the sampler early (stop) */
  bool cond_ready;
  pb__gpu_tracker *head;
  unsigned ntrackers;
  uint64_t seq; /* number of samples started */
  uint64_t period_ns;
  uint64_t period_gen; /* bumped by each period change: the sampler re-arms */
  bool stop;
  pthread_mutex_t thread_mu;
  bool thread_running; /* g_trk.thread_mu */
  pthread_t thread;    /* g_trk.thread_mu */
  pthread_once_t cond_once;
} g_trk = {.mu = PTHREAD_MUTEX_INITIALIZER,
           .thread_mu = PTHREAD_MUTEX_INITIALIZER,
           .period_ns = (uint64_t)(PB__GPU_POLL_DEFAULT_S * 1e9),
           .cond_once = PTHREAD_ONCE_INIT};

static void pb__trk_cond_init(void) {
  pthread_condattr_t a;
  if (pthread_condattr_init(&a) != 0) return;
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  g_trk.cond_ready = pthread_cond_init(&g_trk.cond, &a) == 0;
  pthread_condattr_destroy(&a);
}

static void *pb__sampler_main(void *arg) {
  (void)arg;
  pb__procbuf buf = {0};
  pb__gpu_reading *rd = malloc(sizeof *rd);
  if (!rd || !pb__procbuf_reserve(&buf, 32)) {
    free(rd);
    free(buf.p);
    return NULL; /* peaks then come from the probes alone */
  }
  pthread_mutex_lock(&g_trk.mu);
  while (!g_trk.stop) {
    uint64_t my = ++g_trk.seq;
    pthread_mutex_unlock(&g_trk.mu);
    pb__gpu_read(&buf, rd, false);
    pthread_mutex_lock(&g_trk.mu);
    for (pb__gpu_tracker *t = g_trk.head; t; t = t->next) {
      /* a sample begun before the tracker's last probe belongs to the record
       * that probe closed: drop it */
      if (t->reset_seq < my && rd->process > t->peak) t->peak = rd->process;
    }
    if (g_trk.stop) break;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + g_trk.period_ns;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    int rc = 0;
    uint64_t gen = g_trk.period_gen;
    while (!g_trk.stop && rc != ETIMEDOUT && gen == g_trk.period_gen)
      rc = pthread_cond_timedwait(&g_trk.cond, &g_trk.mu, &ts);
  }
  pthread_mutex_unlock(&g_trk.mu);
  free(rd);
  free(buf.p);
  return NULL;
}

pb__gpu_tracker *pb__gpu_tracker_new(void) {
  if (!pb__gpu_available()) return NULL;
  pthread_once(&g_trk.cond_once, pb__trk_cond_init);
  pb__gpu_tracker *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (!pb__procbuf_reserve(&t->buf, 32)) {
    free(t);
    return NULL;
  }
  pthread_mutex_lock(&g_trk.thread_mu);
  pthread_mutex_lock(&g_trk.mu);
  t->next = g_trk.head;
  if (g_trk.head) g_trk.head->prev = t;
  g_trk.head = t;
  g_trk.ntrackers++;
  t->reset_seq = g_trk.seq;
  g_trk.stop = false;
  pthread_mutex_unlock(&g_trk.mu);
  if (!g_trk.thread_running && g_trk.cond_ready) {
    /* if the thread cannot start, peaks come from the probes alone */
    g_trk.thread_running = pthread_create(&g_trk.thread, NULL, pb__sampler_main, NULL) == 0;
  }
  pthread_mutex_unlock(&g_trk.thread_mu);
  return t;
}

void pb__gpu_tracker_free(pb__gpu_tracker *t) {
  if (!t) return;
  pthread_mutex_lock(&g_trk.thread_mu);
  pthread_mutex_lock(&g_trk.mu);
  if (t->prev)
    t->prev->next = t->next;
  else
    g_trk.head = t->next;
  if (t->next) t->next->prev = t->prev;
  bool join = --g_trk.ntrackers == 0 && g_trk.thread_running;
  if (join) {
    g_trk.stop = true;
    pthread_cond_broadcast(&g_trk.cond);
  }
  pthread_mutex_unlock(&g_trk.mu);
  if (join) {
    pthread_join(g_trk.thread, NULL);
    g_trk.thread_running = false;
  }
  pthread_mutex_unlock(&g_trk.thread_mu);
  free(t->buf.p);
  free(t);
}

int pb__gpu_set_poll_period(double seconds) {
  if (!(seconds >= 1e-4 && seconds <= 3600.0)) return PB_EINVAL;
  pthread_once(&g_trk.cond_once, pb__trk_cond_init);
  pthread_mutex_lock(&g_trk.mu);
  g_trk.period_ns = (uint64_t)(seconds * 1e9);
  g_trk.period_gen++;
  if (g_trk.cond_ready) pthread_cond_broadcast(&g_trk.cond); /* re-arm with the new period */
  pthread_mutex_unlock(&g_trk.mu);
  return PB_OK;
}

/* ------------------------------------------------------------------------ */
/* Probe and JSON                                                            */
/* ------------------------------------------------------------------------ */

static int pb__gpu_format(const pb__gpu_reading *rd, uint64_t peak, char *buf, size_t cap,
                          size_t *len) {
  uint64_t used = 0, total = 0;
  for (unsigned i = 0; i < rd->ndev; i++) {
    if (rd->dev[i].process == 0) continue;
    used += rd->dev[i].used;
    total += rd->dev[i].total;
  }
  size_t n = 0;
  int w = snprintf(buf, cap,
                   "{\"allocated\":%" PRIu64 ",\"reserved\":%" PRIu64 ",\"max_allocated\":%" PRIu64
                   ",\"max_reserved\":%" PRIu64 ",\"device_used\":%" PRIu64
                   ",\"device_total\":%" PRIu64 ",\"devices\":[",
                   rd->process, rd->process, peak, peak, used, total);
  if (w < 0 || (size_t)w >= cap) return PB_EINVAL;
  n = (size_t)w;
  for (unsigned i = 0; i < rd->ndev; i++) {
    const pb__gpu_device_reading *d = &rd->dev[i];
    w = snprintf(buf + n, cap - n,
                 "%s{\"index\":%u,\"process\":%" PRIu64 ",\"used\":%" PRIu64 ",\"total\":%" PRIu64
                 "}",
                 i ? "," : "", d->index, d->process, d->used, d->total);
    if (w < 0 || (size_t)w >= cap - n) return PB_EINVAL;
    n += (size_t)w;
  }
  if (cap - n < 3) return PB_EINVAL;
  memcpy(buf + n, "]}", 3);
  *len = n + 2;
  return PB_OK;
}

int pb__gpu_sample(pb__gpu_tracker *t, pb__gpu_sample_t *out) {
  if (!pb__gpu_available()) return PB_ENOTSUP;
  if (!t || !out) return PB_EINVAL;
  pb__gpu_read(&t->buf, &t->rd, true);
  pthread_mutex_lock(&g_trk.mu);
  uint64_t peak = t->peak > t->rd.process ? t->peak : t->rd.process;
  t->peak = t->rd.process; /* the next record's peak starts from now */
  t->reset_seq = g_trk.seq;
  pthread_mutex_unlock(&g_trk.mu);
  out->process = t->rd.process;
  out->peak = peak;
  out->ndev = t->rd.ndev;
  out->dev = t->rd.dev;
  return PB_OK;
}

int pb__gpu_probe(pb__gpu_tracker *t, char *buf, size_t cap, size_t *len) {
  if (!pb__gpu_available()) return PB_ENOTSUP;
  if (!t || !buf || !len || cap == 0) return PB_EINVAL;
  pb__gpu_sample_t s;
  int rc = pb__gpu_sample(t, &s);
  if (rc != PB_OK) return rc;
  return pb__gpu_format(&t->rd, s.peak, buf, cap, len);
}

/* ------------------------------------------------------------------------ */
/* Synchronisation with an already-loaded CUDA runtime / driver (g_sync.mu)  */
/* ------------------------------------------------------------------------ */

typedef int (*pb__cuda_void_fn)(void);        /* cudaDeviceSynchronize, cuCtxSynchronize */
typedef int (*pb__cu_ctx_get_fn)(void **);    /* cuCtxGetCurrent, cuCtxPopCurrent */
typedef int (*pb__cu_ctx_fn)(void *);         /* cuCtxPushCurrent */
typedef int (*pb__cu_count_fn)(int *);        /* cuDeviceGetCount */
typedef int (*pb__cu_dev_get_fn)(int *, int); /* cuDeviceGet */
typedef int (*pb__cu_state_fn)(int, unsigned *, int *); /* cuDevicePrimaryCtxGetState */
typedef int (*pb__cu_retain_fn)(void **, int);          /* cuDevicePrimaryCtxRetain */
typedef int (*pb__cu_release_fn)(int);                  /* cuDevicePrimaryCtxRelease */

typedef struct pb__cu_driver {
  pb__cu_ctx_get_fn get_current;
  pb__cuda_void_fn ctx_sync;
  pb__cu_count_fn count;
  pb__cu_dev_get_fn dev_get;
  pb__cu_state_fn state;
  pb__cu_retain_fn retain;
  pb__cu_release_fn release;
  pb__cu_ctx_fn push;
  pb__cu_ctx_get_fn pop;
} pb__cu_driver;

static struct {
  pthread_mutex_t mu;
  _Atomic(pb__cuda_void_fn) rt_sync;  /* cudaDeviceSynchronize, once found */
  _Atomic(const pb__cu_driver *) drv; /* driver entry points, once found */
  pb__cu_driver drv_store;            /* g_sync.mu until published */
} g_sync = {.mu = PTHREAD_MUTEX_INITIALIZER};

typedef struct pb__lib_names {
  char rt[512];  /* path of a loaded libcudart*, or "" */
  char drv[512]; /* path of a loaded libcuda.so*, or "" */
} pb__lib_names;

static int pb__scan_lib(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  pb__lib_names *names = data;
  const char *path = info->dlpi_name;
  if (!path || !*path) return 0;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  /* libcudart.so.13, or a wheel's libcudart-<hash>.so.12 */
  if (!names->rt[0] && strncmp(base, "libcudart", 9) == 0 && strlen(path) < sizeof names->rt)
    strcpy(names->rt, path);
  if (!names->drv[0] && strncmp(base, "libcuda.so", 10) == 0 && strlen(path) < sizeof names->drv)
    strcpy(names->drv, path);
  return 0;
}

/* dlopen without loading: a handle only if path is already in the process. */
static void *pb__noload(const char *path) {
  return path[0] ? dlopen(path, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD) : NULL;
}

/* Looks for the runtime and driver the program has loaded; publishes what it finds. */
static void pb__sync_lookup(void) {
  if (atomic_load(&g_sync.rt_sync) && atomic_load(&g_sync.drv)) return;
  pthread_mutex_lock(&g_sync.mu);
  pb__lib_names names;
  names.rt[0] = names.drv[0] = '\0';
  /* no dlopen inside the iteration: it holds the loader's lock */
  dl_iterate_phdr(pb__scan_lib, &names);
  if (!atomic_load(&g_sync.rt_sync)) {
    pb__cuda_void_fn f = (pb__cuda_void_fn)dlsym(RTLD_DEFAULT, "cudaDeviceSynchronize");
    if (!f) {
      void *h = pb__noload(names.rt); /* kept open: the pointer must stay valid */
      if (h) f = (pb__cuda_void_fn)dlsym(h, "cudaDeviceSynchronize");
    }
    if (f) atomic_store(&g_sync.rt_sync, f);
  }
  if (!atomic_load(&g_sync.drv)) {
    void *h = pb__noload(names.drv);
    if (!h) h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
    if (h) {
      pb__cu_driver *d = &g_sync.drv_store;
      d->get_current = (pb__cu_ctx_get_fn)dlsym(h, "cuCtxGetCurrent");
      d->ctx_sync = (pb__cuda_void_fn)dlsym(h, "cuCtxSynchronize");
      d->count = (pb__cu_count_fn)dlsym(h, "cuDeviceGetCount");
      d->dev_get = (pb__cu_dev_get_fn)dlsym(h, "cuDeviceGet");
      d->state = (pb__cu_state_fn)dlsym(h, "cuDevicePrimaryCtxGetState");
      d->retain = (pb__cu_retain_fn)dlsym(h, "cuDevicePrimaryCtxRetain");
      d->release = (pb__cu_release_fn)dlsym(h, "cuDevicePrimaryCtxRelease_v2");
      d->push = (pb__cu_ctx_fn)dlsym(h, "cuCtxPushCurrent_v2");
      d->pop = (pb__cu_ctx_get_fn)dlsym(h, "cuCtxPopCurrent_v2");
      if (d->get_current && d->ctx_sync && d->count && d->dev_get && d->state && d->retain &&
          d->release && d->push && d->pop)
        atomic_store(&g_sync.drv, (const pb__cu_driver *)d);
    }
  }
  pthread_mutex_unlock(&g_sync.mu);
}

bool pb__gpu_sync_available(void) {
  pb__sync_lookup();
  return atomic_load(&g_sync.rt_sync) || atomic_load(&g_sync.drv);
}

/* Waits for every device whose primary context is active (contexts made by the
 * runtime, possibly on other threads). Never creates one: a context is only
 * retained when the driver says it is already active. */
static void pb__sync_primary_contexts(const pb__cu_driver *d) {
  int n = 0;
  if (d->count(&n) != 0) return; /* driver not initialised: no context exists */
  for (int i = 0; i < n; i++) {
    int dev;
    unsigned flags;
    int active = 0;
    if (d->dev_get(&dev, i) != 0 || d->state(dev, &flags, &active) != 0 || !active) continue;
    void *ctx = NULL;
    if (d->retain(&ctx, dev) != 0) continue;
    if (d->push(ctx) == 0) {
      d->ctx_sync();
      void *popped;
      d->pop(&popped);
    }
    d->release(dev);
  }
}

void pb__gpu_sync(void) {
  const pb__cu_driver *d = atomic_load_explicit(&g_sync.drv, memory_order_acquire);
  pb__cuda_void_fn rt = atomic_load_explicit(&g_sync.rt_sync, memory_order_acquire);
  if (!d) {
    if (!rt) return;
    /* the runtime loads the driver at its first call: until then no context
     * (and no GPU work) exists */
    pb__sync_lookup();
    d = atomic_load_explicit(&g_sync.drv, memory_order_acquire);
    if (!d) return;
  }
  void *ctx = NULL;
  if (d->get_current(&ctx) == 0 && ctx) {
    /* this thread has a context: the usual case, one call */
    if (rt)
      rt();
    else
      d->ctx_sync();
    return;
  }
  pb__sync_primary_contexts(d);
}

/* ------------------------------------------------------------------------ */
/* fork(): no lock is left held in the child, which gets its own pid         */
/* ------------------------------------------------------------------------ */

/* Takes every lock, in the documented order, so that none is mid-update at the fork. */
static void pb__gpu_atfork_prepare(void) {
  pthread_mutex_lock(&g_trk.thread_mu);
  pthread_mutex_lock(&g_trk.mu);
  pthread_mutex_lock(&g_last.mu);
  pthread_mutex_lock(&g_sync.mu);
}

static void pb__gpu_atfork_parent(void) {
  pthread_mutex_unlock(&g_sync.mu);
  pthread_mutex_unlock(&g_last.mu);
  pthread_mutex_unlock(&g_trk.mu);
  pthread_mutex_unlock(&g_trk.thread_mu);
}

/*
 * The child has one thread: the sampler is gone (a tracker created in the
 * child starts a new one; trackers inherited keep working, their peaks from
 * probes until then), the newest readings were the parent's, and the process
 * list must be searched for the child's pid.
 */
static void pb__gpu_atfork_child(void) {
  g_nvml.pid = (unsigned int)getpid();
  g_trk.thread_running = false;
  g_trk.stop = false;
  memset(g_last.valid, 0, sizeof g_last.valid);
  /* the parent's sampler may have been waiting on the condition: start afresh */
  if (g_trk.cond_ready) pb__trk_cond_init();
  pthread_mutex_unlock(&g_sync.mu);
  pthread_mutex_unlock(&g_last.mu);
  pthread_mutex_unlock(&g_trk.mu);
  pthread_mutex_unlock(&g_trk.thread_mu);
}
