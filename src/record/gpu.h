/*
 * gpu.h - internal interface between the benchmarker and the GPU probe.
 *
 * Implemented in gpu_nvml.c: NVIDIA's management library (libnvidia-ml.so.1)
 * is loaded at run time with dlopen, so the build never depends on CUDA, and
 * querying never creates a CUDA context. Every function is thread-safe.
 */
#ifndef PB_RECORD_GPU_H
#define PB_RECORD_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Per-benchmarker GPU tracking state (peak since the previous record). */
typedef struct pb__gpu_tracker pb__gpu_tracker;

/** Devices read at most (NVML indices 0..31); more are ignored. */
#define PB__GPU_MAX_DEVICES 32
/** A pb__gpu_probe buffer of this many bytes always suffices. */
#define PB__GPU_JSON_CAP 4096
/** Default period of the peak-sampling thread, seconds. */
#define PB__GPU_POLL_DEFAULT_S 0.005

/** True where the driver library loads and at least one device answers (cached). */
bool pb__gpu_available(void);
/** Why pb__gpu_available() is false (static text, for pb__fail), "" when true. */
const char *pb__gpu_unavailable_reason(void);
/** Number of devices read (0 when unavailable). */
unsigned pb__gpu_device_count(void);
/**
 * Sets the period (seconds, 1e-4 .. 3600) of the thread that samples the
 * process's GPU memory between probes, for the peaks. Process-wide; takes
 * effect at the next sample. Returns PB_OK or PB_EINVAL.
 */
int pb__gpu_set_poll_period(double seconds);

/** A new tracker, or NULL (no memory, or GPU unavailable). Free with pb__gpu_tracker_free. */
pb__gpu_tracker *pb__gpu_tracker_new(void);
/** Frees a tracker; NULL is a no-op. */
void pb__gpu_tracker_free(pb__gpu_tracker *t);

/**
 * Probes GPU memory now and writes the JSON object of the record's
 * "cuda memory usage" key (the original's four keys first: "allocated",
 * "reserved", "max_allocated", "max_reserved", then extra keys) into buf
 * (capacity cap, NUL-terminated). Sets *len to the text's length.
 * Returns 0, or a negative pb_status: PB_ENOTSUP where no GPU is available
 * (checked first), PB_EINVAL for a NULL argument or a cap too small
 * (PB__GPU_JSON_CAP always suffices).
 * Calls on one tracker are serialised by the caller.
 */
int pb__gpu_probe(pb__gpu_tracker *t, char *buf, size_t cap, size_t *len);

/** One device's numbers in a sample, bytes. index is NVML's (nvidia-smi's) index. */
typedef struct pb__gpu_device_reading {
  unsigned index;
  uint64_t process; /* memory the driver charges to this process */
  uint64_t used;    /* device memory in use by anyone (total - free) */
  uint64_t total;   /* device memory */
} pb__gpu_device_reading;

/** A probe's numbers (what pb__gpu_probe writes as JSON). */
typedef struct pb__gpu_sample_t {
  uint64_t process; /* this process, all devices: "allocated", "reserved" */
  uint64_t peak;    /* largest process value since the previous probe: "max_*" */
  unsigned ndev;
  const pb__gpu_device_reading *dev; /* ndev entries, owned by the tracker, valid
                                        until its next probe */
} pb__gpu_sample_t;

/**
 * As pb__gpu_probe, but returns the numbers instead of JSON (and, like it,
 * starts the next peak interval). Returns 0, PB_EINVAL or PB_ENOTSUP.
 */
int pb__gpu_sample(pb__gpu_tracker *t, pb__gpu_sample_t *out);

/**
 * True where a CUDA runtime (cudaDeviceSynchronize) or driver (libcuda) is
 * already loaded in the process. Never loads one. Looks again at each call
 * until one is found.
 */
bool pb__gpu_sync_available(void);
/**
 * Waits for the GPU work of the process: cudaDeviceSynchronize() of the
 * loaded runtime when the calling thread has a current context, else a
 * cuCtxSynchronize() of each already-active primary context. Never creates
 * a context; a no-op where none exists or nothing was found.
 */
void pb__gpu_sync(void);

#endif
