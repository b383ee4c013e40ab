/*
 * porter_bench.h - the recording library of porter_bench.
 *
 * porter_bench records, per iteration of a program, the time of every named
 * step and (optionally) the process's memory, and saves the records as JSON
 * files in the format of the original Python porter_bench.
 *
 * Thread-safety: every function in this header may be called from any
 * thread, concurrently with any other, unless its comment says otherwise
 * (destroying an object other threads still use is one such case). Two
 * threads may share one benchmarker, whatever their scheduling policies and
 * priorities: a waiter blocks in the kernel rather than spinning. Threads
 * may be cancelled: saves and memory probes run with cancellation disabled,
 * so a pending cancellation acts after the call returns (no lock stays held,
 * no save stays half done, no temporary file is left). The stack-allocated
 * timers (pb_timer, pb_countdown, pb_timed_counter) are plain values:
 * synchronise access to one of them yourself if several threads use it.
 *
 * Signals: no function of this header is async-signal-safe. Recording may
 * allocate memory, take locks and write files, so calling porter_bench from
 * a signal handler is undefined in general (a handler that interrupted
 * malloc in the host program can deadlock in malloc). One case is detected:
 * a handler that interrupted a porter_bench call of its own thread and calls
 * pb_step, pb_step_ex, pb_step_id, pb_gstep, pb_gstop, pb_start, pb_save,
 * pb_registry_save, pb_bench_get_stats, pb_enable_memory_tracking (PB_EBUSY),
 * pb_topic_intern (PB_TOPIC_INVALID), pb_registry_get or pb_get (NULL), or a
 * pb_set_save_on_* or pb_disable_memory_tracking (no effect) gets that answer
 * at once, records nothing and leaves pb_last_error() unchanged, where it
 * would otherwise wait forever for a lock its own thread holds.
 *
 * Errors: functions that can fail return an int status, PB_OK (0) or a
 * negative PB_E* code; pb_strerror() names it and pb_last_error() gives a
 * message naming the file or value at fault for the calling thread.
 *
 * The library never exits, aborts, or prints on its own: warnings go through
 * the hook set with pb_set_warning_handler() (stderr by default). The only
 * functions that print are the ones named *print* / ptoc / pttoc.
 *
 * Compile-time switch: define PB_DISABLE before including this header (or
 * with -DPB_DISABLE) and every PB_* recording macro expands to nothing.
 */
#ifndef PORTER_BENCH_H
#define PORTER_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version and export                                                        */
/* ------------------------------------------------------------------------ */

#define PB_VERSION_MAJOR 0
#define PB_VERSION_MINOR 1
#define PB_VERSION_PATCH 0
/** The version as one number: major * 10000 + minor * 100 + patch. */
#define PB_VERSION_NUMBER (PB_VERSION_MAJOR * 10000 + PB_VERSION_MINOR * 100 + PB_VERSION_PATCH)
#define PB_VERSION_STRING "0.1.0"

#if defined(PB_STATIC)
#define PB_EXPORT
#elif defined(__GNUC__)
#define PB_EXPORT __attribute__((visibility("default")))
#else
#define PB_EXPORT
#endif

/** Returns the library's version number (PB_VERSION_NUMBER of the build). */
PB_EXPORT unsigned pb_version_number(void);
/** Returns the library's version as a static string, e.g. "0.1.0". */
PB_EXPORT const char *pb_version(void);

/* ------------------------------------------------------------------------ */
/* Errors and warnings                                                       */
/* ------------------------------------------------------------------------ */

/** Status codes. PB_OK is 0; every error is negative. */
typedef enum pb_status {
  PB_OK = 0,
  PB_EINVAL = -1,    /**< an argument is NULL, empty or out of range */
  PB_ENOMEM = -2,    /**< an allocation failed; the record was dropped and counted */
  PB_EIO = -3,       /**< a file could not be written, renamed or read */
  PB_EJSON = -4,     /**< an extra's text is not one valid JSON value */
  PB_ENOTSUP = -5,   /**< not supported here (e.g. GPU tracking without a GPU) */
  PB_ENOITER = -6,   /**< no iteration has been opened yet; the call recorded nothing */
  PB_EDISABLED = -7, /**< the benchmarker is disabled; the call recorded nothing */
  PB_EOWNED = -8,    /**< the object belongs to a registry and cannot be destroyed */
  PB_EBUSY = -9      /**< called from a signal handler that interrupted a porter_bench call
                          of the same thread; the call did nothing (see "Signals" above) */
} pb_status;

/** Returns a static, human-readable description of a status code. */
PB_EXPORT const char *pb_strerror(int status);
/** Returns the static name of a status code ("PB_EINVAL"), "PB_UNKNOWN" otherwise. */
PB_EXPORT const char *pb_err_name(int status);
/**
 * Returns the message of the last error raised in the calling thread (e.g.
 * "cannot rename 'x.tmp' to 'x': No space left on device"), or "" if none.
 * The string is thread-local and valid until the thread's next failing call.
 */
PB_EXPORT const char *pb_last_error(void);

/** A warning hook: receives one complete message without trailing newline. */
typedef void (*pb_warning_fn)(const char *message, void *user_data);
/**
 * Replaces the process-wide warning hook; NULL restores the default, which
 * writes "porter_bench: <message>\n" to stderr. The hook may be called from
 * any thread and must not call back into porter_bench.
 */
PB_EXPORT void pb_set_warning_handler(pb_warning_fn fn, void *user_data);

/* ------------------------------------------------------------------------ */
/* Clocks and low-level timers (stack-allocatable values)                    */
/* ------------------------------------------------------------------------ */

/**
 * The library's clock in nanoseconds: CLOCK_MONOTONIC, or, after
 * pb_set_clock(PB_CLOCK_TSC) succeeded, the TSC scaled to the same time base.
 * Every recorded time and the timers below read it. Thread-safe.
 */
PB_EXPORT uint64_t pb_now_ns(void);

/** The clocks the recording calls can read (pb_set_clock). */
typedef enum pb_clock {
  PB_CLOCK_MONOTONIC = 0, /**< clock_gettime(CLOCK_MONOTONIC): the default */
  PB_CLOCK_TSC = 1        /**< rdtsc, where the TSC is invariant (x86 only) */
} pb_clock;

/**
 * Selects the clock of every benchmarker and timer in the process; returns
 * the clock in use afterwards. PB_CLOCK_TSC is taken only where the kernel
 * reports an invariant, constant-rate TSC (the constant_tsc and nonstop_tsc
 * flags of /proc/cpuinfo; CPUID leaf 0x80000007 EDX bit 8 where that file
 * cannot be read); it is calibrated against CLOCK_MONOTONIC once (the first
 * such call sleeps about 20 ms) and reads on that clock's time base, so
 * records stay in seconds. Anywhere else the call silently keeps
 * PB_CLOCK_MONOTONIC and returns it: no error, no message. Setting the
 * environment variable PORTER_BENCH_CLOCK=tsc makes the same call when the
 * library is loaded. Choose the clock before recording: a gap that spans a
 * switch mixes the two clocks (they agree within the calibration's error,
 * a few microseconds a second). Thread-safe.
 */
PB_EXPORT pb_clock pb_set_clock(pb_clock clock);
/** The clock in use (PB_CLOCK_MONOTONIC unless pb_set_clock(PB_CLOCK_TSC) succeeded). Thread-safe.
 */
PB_EXPORT pb_clock pb_get_clock(void);
/** Wall clock (CLOCK_REALTIME) in nanoseconds since the Unix epoch. */
PB_EXPORT int64_t pb_wall_ns(void);

/** The original's Timer: tic starts it, toc reads it, ttoc reads and restarts. */
typedef struct pb_timer {
  uint64_t start_ns; /**< monotonic time of the last tic */
} pb_timer;

/** Starts (or restarts) the timer now. A zeroed timer counts from boot: tic it first. */
PB_EXPORT void pb_timer_tic(pb_timer *t);
/** Seconds since the last tic; 0 if t is NULL. */
PB_EXPORT double pb_timer_toc(const pb_timer *t);
/** Nanoseconds since the last tic; 0 if t is NULL. */
PB_EXPORT uint64_t pb_timer_toc_ns(const pb_timer *t);
/** Seconds since the last tic, then restarts the timer (one clock read serves both). */
PB_EXPORT double pb_timer_ttoc(pb_timer *t);
/** Prints "<message> <seconds>\n" to stdout (message may be NULL). */
PB_EXPORT void pb_timer_ptoc(const pb_timer *t, const char *message);
/** As pb_timer_ptoc, then restarts the timer. */
PB_EXPORT void pb_timer_pttoc(pb_timer *t, const char *message);

/** The original's CountDownClock: a timer with a duration. */
typedef struct pb_countdown {
  pb_timer timer;  /**< started by init, set and reset */
  double duration; /**< seconds to count down */
} pb_countdown;

/** Sets the duration (seconds) and starts counting down now. */
PB_EXPORT void pb_countdown_init(pb_countdown *c, double seconds);
/** Same as pb_countdown_init: the original's set_count_down. */
PB_EXPORT void pb_countdown_set(pb_countdown *c, double seconds);
/** Restarts the count-down with the same duration. */
PB_EXPORT void pb_countdown_reset(pb_countdown *c);
/** Seconds left (negative once past the end); 0 if c is NULL. */
PB_EXPORT double pb_countdown_time_left(const pb_countdown *c);
/** True once more than the duration has passed since the last (re)start. */
PB_EXPORT bool pb_countdown_completed(const pb_countdown *c);

/** The original's TimedCounter: counts events and gives their frequency. */
typedef struct pb_timed_counter {
  pb_timer timer;      /**< runs from start (or reset) */
  uint64_t count;      /**< events counted */
  uint64_t stop_count; /**< count frozen by stop */
  uint64_t stop_ns;    /**< elapsed time frozen by stop; 0 = not stopped */
  bool enabled;        /**< when false every call is a no-op */
} pb_timed_counter;

/** Initialises a counter (count 0, clock started now), enabled or not. */
PB_EXPORT void pb_timed_counter_init(pb_timed_counter *c, bool enabled);
/** Restarts the clock only if the count is zero. */
PB_EXPORT void pb_timed_counter_start(pb_timed_counter *c);
/** Freezes the count and the elapsed time. */
PB_EXPORT void pb_timed_counter_stop(pb_timed_counter *c);
/** Counts one event. */
PB_EXPORT void pb_timed_counter_count(pb_timed_counter *c);
/**
 * Events per second: frozen count / frozen time once stopped, else count /
 * time since start. Returns 0 when disabled or when no time has passed.
 */
PB_EXPORT double pb_timed_counter_frequency(const pb_timed_counter *c);
/** Restarts the clock and sets the count to zero (stop values are kept). */
PB_EXPORT void pb_timed_counter_reset(pb_timed_counter *c);
/** Disables the counter: every later call is a no-op. */
PB_EXPORT void pb_timed_counter_disable(pb_timed_counter *c);

/* ------------------------------------------------------------------------ */
/* Benchmarker                                                               */
/* ------------------------------------------------------------------------ */

/** An opaque benchmarker: iterations of named, timed steps (and memory). */
typedef struct pb_bench pb_bench;

/** Names of the record files: "<path>" + one of these suffixes. */
#define PB_SUFFIX_DATA "_STEP_DICT_DATA.json"
#define PB_SUFFIX_SUMMARY "_STEP_DICT_SUMMARY.json"
#define PB_SUFFIX_MEMORY "_MEMORY.json"

/**
 * Creates a benchmarker whose records are saved as "<path>_STEP_DICT_DATA.json"
 * and so on (path "performance/base" writes into folder "performance", as the
 * original's Benchmarker(file) does). The folder is created at the first save.
 * Enabled, memory tracking off, auto-save off.
 * Returns PB_OK and sets *out, or PB_EINVAL (NULL/empty path) or PB_ENOMEM.
 * The caller owns *out and frees it with pb_bench_destroy().
 */
PB_EXPORT int pb_bench_create(const char *path, pb_bench **out);
/**
 * Frees a benchmarker and its records (unsaved records are lost: call
 * pb_save first). NULL is a no-op. Returns PB_EOWNED and does nothing if the
 * benchmarker belongs to a registry. No other thread may use b during or
 * after the call.
 */
PB_EXPORT int pb_bench_destroy(pb_bench *b);
/** The path prefix given at creation (owned by b); NULL if b is NULL. */
PB_EXPORT const char *pb_bench_path(const pb_bench *b);

/**
 * Opens an iteration without closing the one before it (the original's
 * start): if an iteration is open, its clocks restart; otherwise a new one
 * opens. Returns PB_OK, PB_EDISABLED, PB_EINVAL or PB_ENOMEM.
 */
PB_EXPORT int pb_start(pb_bench *b);
/**
 * Closes the open iteration (as pb_gstop) and opens the next one. With memory
 * tracking on, records a "gstep" memory record and the probe's time as the
 * time step "gstep_memory"; the new iteration's GLOBAL clock starts after it.
 * Closing and opening are one step for other threads: every iteration is
 * closed exactly once. An auto-save it triggers runs after the new iteration
 * opened, leaves it out, and restarts its clocks if nothing was recorded yet.
 */
PB_EXPORT int pb_gstep(pb_bench *b);
/**
 * Closes the open iteration: records the time step "gstop", a "gstop" memory
 * record and the "gstop_memory" time step when memory tracking is on, then
 * the iteration's GLOBAL time and STOP_TIME. No open iteration: a no-op
 * returning PB_OK (as the original). Triggers the auto-save every N gstops.
 */
PB_EXPORT int pb_gstop(pb_bench *b);
/**
 * Records the time since the previous step (or the iteration's start) under
 * topic. With per-step memory tracking on, also records a memory record and
 * the probe's time as "<topic>_MEMORY_STEP". After a gstop and before the
 * next gstep the step joins the last (closed) iteration, as the original.
 * Returns PB_ENOITER (nothing recorded) before the first iteration,
 * PB_EDISABLED when disabled, PB_ENOMEM when the record was dropped,
 * PB_EBUSY from a signal handler that interrupted porter_bench (see the
 * top of this header).
 */
PB_EXPORT int pb_step(pb_bench *b, const char *topic);
/**
 * pb_step with the original's extras: time_extra and memory_extra are each
 * NULL or the text of one JSON value (e.g. "{\"batch\":3}"), stored as
 * given. Invalid text returns PB_EJSON: the step is still recorded, with a
 * null extra, and no file is ever corrupted.
 */
PB_EXPORT int pb_step_ex(pb_bench *b, const char *topic, const char *time_extra,
                         const char *memory_extra);

/** An interned topic of one benchmarker: the fastest way to name a step. */
typedef uint32_t pb_topic;
/** Sentinel returned by pb_topic_intern on failure. */
#define PB_TOPIC_INVALID UINT32_MAX
/** Interns topic in b and returns its id (valid for b only), or PB_TOPIC_INVALID. */
PB_EXPORT pb_topic pb_topic_intern(pb_bench *b, const char *topic);
/** pb_step with a topic id from pb_topic_intern(b, ...). PB_EINVAL for a bad id. */
PB_EXPORT int pb_step_id(pb_bench *b, pb_topic topic);

/** Enables recording (the default). */
PB_EXPORT void pb_enable(pb_bench *b);
/** Disables recording: recording calls return PB_EDISABLED, saves do nothing. */
PB_EXPORT void pb_disable(pb_bench *b);
/** True when b is enabled. */
PB_EXPORT bool pb_is_enabled(const pb_bench *b);

/** Auto-save after every n-th closed iteration; 0 turns it off. */
PB_EXPORT void pb_set_save_on_gstop(pb_bench *b, unsigned n);
/** Auto-save after every step when on (slow: meant for crash forensics). */
PB_EXPORT void pb_set_save_on_step(pb_bench *b, bool on);

/**
 * Turns memory tracking on: a memory record at every gstep and gstop, and at
 * every step when per_step is true. Each record holds the resident set size,
 * the peak since the benchmarker's previous record (see pb_peak_mode: sampled
 * by default, exact with PB_PEAK_RESET) and the malloc heap in use. Returns
 * PB_OK, or PB_EINVAL.
 */
PB_EXPORT int pb_enable_memory_tracking(pb_bench *b, bool per_step);
/** Turns memory tracking off (records already taken are kept). */
PB_EXPORT void pb_disable_memory_tracking(pb_bench *b);
/**
 * Sets the period (seconds, > 0; default 0.1) of the polling thread that
 * samples RSS for peaks in PB_PEAK_SAMPLE mode. Process-wide.
 */
PB_EXPORT int pb_set_peak_poll_period(double seconds);

/** How memory records measure "max memory usage" (see docs/RECORDING.md). */
typedef enum pb_peak_mode {
  /**
   * The default: never changes what the process or its parent see as its
   * peak (getrusage ru_maxrss, VmHWM, wait4). The peak since a record is the
   * largest of: RSS sampled every poll period by a thread, the RSS at each
   * record, and the process's peak when it rose during the interval (then
   * exact). Misses spikes shorter than the period below an earlier high,
   * and records a spike a poll lands in while it grows at that poll's height.
   */
  PB_PEAK_SAMPLE = 0,
  /**
   * Opt-in: the exact peak since each record, by resetting the process's peak
   * counter (/proc/self/clear_refs) at every record. The process's VmHWM and
   * ru_maxrss, and the child's peak its parent reads from wait4 or
   * /usr/bin/time, then hold only the peak since the last record.
   */
  PB_PEAK_RESET = 1
} pb_peak_mode;

/**
 * Chooses the peak mode, process-wide, for all benchmarkers (the default is
 * PB_PEAK_SAMPLE, or PB_PEAK_RESET when $PORTER_BENCH_PEAK is "reset" at the
 * first memory probe). Takes effect at once, also while memory is tracked.
 * Returns PB_OK, PB_EINVAL for an unknown mode, or PB_ENOTSUP when the kernel
 * refuses the reset (PB_PEAK_SAMPLE is used then). Thread-safe.
 */
PB_EXPORT int pb_set_peak_mode(pb_peak_mode mode);
/** The peak mode in effect (what pb_set_peak_mode or the environment chose and the kernel allows).
 */
PB_EXPORT pb_peak_mode pb_get_peak_mode(void);

/**
 * Turns GPU memory tracking on for b (a "cuda memory usage" object in every
 * memory record). Returns PB_ENOTSUP where pb_cuda_available() is false.
 */
PB_EXPORT int pb_enable_cuda_memory_tracking(pb_bench *b);
/** Turns GPU memory tracking off. */
PB_EXPORT void pb_disable_cuda_memory_tracking(pb_bench *b);
/**
 * True where GPU memory tracking works: the NVIDIA management library loads
 * and a device answers. The build never depends on CUDA.
 */
PB_EXPORT bool pb_cuda_available(void);

/**
 * Optional exact GPU step times, off by default: when on, every clock read of
 * b (steps, gstep, gstop) is preceded by cudaDeviceSynchronize(), looked up
 * in the CUDA runtime the program has already loaded (never loaded by
 * porter_bench). Without it, asynchronous GPU work is charged to whichever
 * later step waits for it. Returns PB_ENOTSUP (and stays off) where no CUDA
 * runtime is loaded in the process.
 */
PB_EXPORT int pb_set_cuda_sync(pb_bench *b, bool on);

/**
 * Writes the three record files of b, each replaced atomically (temporary
 * file + rename), from a snapshot taken under b's lock: recording threads
 * are not stalled while the files are written. Concurrent saves of one
 * benchmarker are combined, never interleaved: when pb_save returns PB_OK the
 * files hold at least every record made before the call. An open iteration
 * is included with STOP_TIME 0. Returns PB_OK (also when disabled: nothing
 * written), PB_EIO (pb_last_error names the file and the reason) or
 * PB_ENOMEM. Records stay in memory either way.
 */
PB_EXPORT int pb_save(pb_bench *b);

/** Counters of one benchmarker, for tests and diagnostics. */
typedef struct pb_bench_stats {
  uint64_t iterations;     /**< iterations opened */
  uint64_t steps;          /**< time records held (user steps, gstop, *_memory) */
  uint64_t memory_records; /**< memory records held */
  uint64_t topics;         /**< distinct topics interned */
  uint64_t dropped;        /**< records dropped for lack of memory */
  uint64_t saves;          /**< saves that wrote files */
  uint64_t save_errors;    /**< saves that failed */
  uint64_t bytes_held;     /**< bytes of memory holding the records */
} pb_bench_stats;

/** Fills *out with b's counters. Returns PB_OK or PB_EINVAL. */
PB_EXPORT int pb_bench_get_stats(pb_bench *b, pb_bench_stats *out);

/**
 * The original's IterBench, as a loop condition:
 *   for (size_t i = 0; pb_iter(b, i, n); i++) { ... pb_step(b, "x"); ... }
 * Calls pb_gstep and returns true while i < n; at i == n calls pb_gstop and
 * returns false. A NULL b just counts.
 */
PB_EXPORT bool pb_iter(pb_bench *b, size_t i, size_t n);

/* ------------------------------------------------------------------------ */
/* Registry (the original's GlobalBenchmarker / bench_dict)                  */
/* ------------------------------------------------------------------------ */

/** An opaque, thread-safe map from names to benchmarkers it owns. */
typedef struct pb_registry pb_registry;

/** The default root folder of runs; PORTER_BENCH_ROOT overrides it. */
#define PB_DEFAULT_ROOT "TICTOC_PERFORMANCE"
/** Environment variable that moves the default root. */
#define PB_ENV_ROOT "PORTER_BENCH_ROOT"

/**
 * Creates a registry whose benchmarker "<name>" saves to
 * "<root>/<timestamp>/<name>_*.json". root NULL means $PORTER_BENCH_ROOT if
 * set and non-empty, else "TICTOC_PERFORMANCE" (relative to the current
 * directory). The timestamp is UTC, sortable and unique to this registry:
 * "2026-11-26T07-15-42.123456Z" (a "-N" suffix is added if that folder
 * already exists when it is first created).
 * In a multi-process job (pb_rank_detect() finds a rank when the registry
 * is created, or by pb_registry_set_default_path) the run folder is instead
 * "<root>/<pb_job_folder_name(job id)>/rank-NNNNN" (the rank in 5 digits or
 * more): every rank of one job writes into one job folder. A rank folder
 * that exists already belongs to another job with the same id, so the
 * whole job moves on to "<job folder>-1", "-2", ... (each rank decides
 * alone, by the same rule).
 * The caller owns *out (pb_registry_destroy).
 */
PB_EXPORT int pb_registry_create(const char *root, pb_registry **out);
/**
 * Frees the registry and every benchmarker it owns (unsaved records are lost:
 * call pb_registry_save first). NULL is a no-op. No other thread may use r,
 * or any benchmarker obtained from it, during or after the call: stop (join)
 * every thread that records into them first, as for pb_bench_destroy. The
 * pointers pb_registry_get returned become invalid. Destroying one registry
 * while other threads use other registries or benchmarkers is safe. The
 * default registry (pb_default_registry) must not be destroyed.
 */
PB_EXPORT void pb_registry_destroy(pb_registry *r);
/**
 * Returns the benchmarker called name, creating it on first use (enabled
 * unless the registry is disabled). The pointer stays valid until the
 * registry is destroyed. Returns NULL for a NULL/empty name or on failure
 * (see pb_last_error). Names are mapped to file names by a documented rule:
 * bytes other than [A-Za-z0-9._-] become '_', and a changed name gets a hash
 * suffix so that two names never share a file.
 */
PB_EXPORT pb_bench *pb_registry_get(pb_registry *r, const char *name);
/**
 * Moves later benchmarkers to a new run folder "<root>/<new timestamp>/"
 * (in a multi-process job: the job's rank folder under root, the rank read
 * again now) (the original's set_default_path). Benchmarkers already
 * created keep theirs.
 */
PB_EXPORT int pb_registry_set_default_path(pb_registry *r, const char *root);
/**
 * Copies the registry's run folder ("<root>/<timestamp>") into buf (size n,
 * NUL-terminated). Returns the length, or PB_EINVAL if buf is too small.
 */
PB_EXPORT int pb_registry_run_dir(pb_registry *r, char *buf, size_t n);
/** Enables every benchmarker of the registry, and those created later. */
PB_EXPORT void pb_registry_enable(pb_registry *r);
/** Disables every benchmarker of the registry, and those created later. */
PB_EXPORT void pb_registry_disable(pb_registry *r);
/**
 * Saves every benchmarker of the registry (none if the registry is disabled).
 * Returns PB_OK or the first error met; every benchmarker is tried.
 */
PB_EXPORT int pb_registry_save(pb_registry *r);
/** Number of benchmarkers in the registry. */
PB_EXPORT size_t pb_registry_size(pb_registry *r);

/** The process-wide default registry (the original's bench_dict), created on first use. */
PB_EXPORT pb_registry *pb_default_registry(void);
/** Shorthand for pb_registry_get(pb_default_registry(), name). */
PB_EXPORT pb_bench *pb_get(const char *name);
/**
 * The process-wide default benchmarker, path "performance_benchmark/default"
 * ("performance_benchmark/rank-NNNNN/default" in a multi-process job, so
 * that ranks do not overwrite each other's files).
 */
PB_EXPORT pb_bench *pb_default_bench(void);
/** The process-wide default timer (the original's module-level timer). */
PB_EXPORT pb_timer *pb_default_timer(void);

/* ------------------------------------------------------------------------ */
/* Multi-process runs (MPI, Slurm, torchrun): docs/MULTIPROCESS.md           */
/* ------------------------------------------------------------------------ */

/** Environment variable giving this process's rank (overrides any launcher's). */
#define PB_ENV_RANK "PORTER_BENCH_RANK"
/** Environment variable giving the number of ranks (with PORTER_BENCH_RANK). */
#define PB_ENV_WORLD_SIZE "PORTER_BENCH_WORLD_SIZE"
/** Environment variable giving the id shared by every rank of one job. */
#define PB_ENV_JOB_ID "PORTER_BENCH_JOB_ID"
/** Room for a job id, its NUL included; longer ids are cut. */
#define PB_JOB_ID_SIZE 256

/** Where this process stands in a multi-process job. */
typedef struct pb_rank_info {
  int rank;                    /**< 0-based rank; -1 when not part of a job (one process) */
  int world_size;              /**< number of ranks; 0 when the launcher does not say */
  int local_rank;              /**< rank on this host; -1 when unknown */
  char launcher[16];           /**< "openmpi", "mpich", "slurm", "torchrun", "env", "api", "" */
  char job_id[PB_JOB_ID_SIZE]; /**< shared by the job's ranks; "" when rank is -1 */
} pb_rank_info;

/**
 * Detects this process's rank, world size, local rank and job id, reading
 * the environment at each call (nothing is cached): first pb_set_rank()'s
 * values, then PORTER_BENCH_RANK / _WORLD_SIZE / _JOB_ID, then Open MPI
 * (OMPI_COMM_WORLD_*, PMIX_NAMESPACE), MPICH/Hydra and other PMI launchers
 * (PMI_RANK, PMI_SIZE, MPI_LOCALRANKID), torchrun (RANK, WORLD_SIZE,
 * LOCAL_RANK, TORCHELASTIC_RUN_ID), Slurm (SLURM_PROCID, SLURM_NTASKS,
 * SLURM_JOB_ID, SLURM_STEP_ID: an srun step only), in that order. A
 * launcher's world size of 1 is one process (rank -1); the explicit
 * settings make a job of any size. PORTER_BENCH_JOB_ID alone
 * replaces a detected launcher's job id. When a launcher exports no shared
 * id, the id is the launching process's identity (host, parent pid and its
 * start time), which the ranks share only when they run on one host; see
 * docs/MULTIPROCESS.md for each launcher's limits. Returns PB_OK (with
 * out->rank -1 outside a job) or PB_EINVAL (out NULL). Thread-safe, except
 * against a concurrent setenv() (libc's rule for getenv).
 */
PB_EXPORT int pb_rank_detect(pb_rank_info *out);

/**
 * Sets this process's rank, world size and job id explicitly, above every
 * environment variable: for launchers the library does not know. rank < 0
 * removes the setting (detection from the environment again). job_id NULL
 * or "" keeps the job id the environment gives (or the parent identity).
 * It applies to registries created afterwards: call it before
 * pb_registry_create(), and for the default registry before the first
 * pb_get() or pb_default_registry(). Returns PB_OK, or PB_EINVAL for
 * world_size > 0 with rank >= world_size. Thread-safe.
 */
PB_EXPORT int pb_set_rank(int rank, int world_size, const char *job_id);

/**
 * The run folder's name for job_id: "job-" and the id, bytes outside
 * [A-Za-z0-9._-] replaced by '_', plus "-" and 8 hex digits of the id's
 * FNV-1a hash when anything was replaced or the id is over 96 bytes, so
 * that two ids never share a name. Written into buf (size n). Returns the
 * length, or PB_EINVAL (NULL argument, empty id, buf too small).
 * Thread-safe.
 */
PB_EXPORT int pb_job_folder_name(const char *job_id, char *buf, size_t n);

/* ------------------------------------------------------------------------ */
/* Toggles                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Environment variable holding 1 to 8 binary digits, bit 0 the rightmost: the
 * original's current name. It wins over PB_ENV_TOGGLES_TICTOC when both are set.
 */
#define PB_ENV_TOGGLES "PORTER_BENCH_TOGGLES"
/** The same variable under the design document's name, read when PB_ENV_TOGGLES is not. */
#define PB_ENV_TOGGLES_TICTOC "TICTOC_TOGGLES"
/**
 * Toggle i (0..7) as parsed at the first call from $PORTER_BENCH_TOGGLES, or
 * from $TICTOC_TOGGLES when that is unset or empty (an empty variable counts as
 * unset). A malformed value gives one warning and all toggles off; both set to
 * different values give one warning and PORTER_BENCH_TOGGLES is used. The
 * variables are read once: later changes are not seen. False for i > 7.
 * Thread-safe.
 */
PB_EXPORT bool pb_toggle(unsigned i);
/** All 8 toggles as a bit mask (bit i = toggle i), read as pb_toggle does. Thread-safe. */
PB_EXPORT unsigned pb_toggles(void);
/**
 * Parses text as the toggle variables are parsed into *mask. Returns PB_OK, or
 * PB_EINVAL (mask set to 0, pb_last_error() names the text) unless text is 1 to 8
 * characters of '0'/'1'. NULL means "0". Thread-safe.
 */
PB_EXPORT int pb_parse_toggles(const char *text, unsigned *mask);

/* ------------------------------------------------------------------------ */
/* Recording macros: vanish when PB_DISABLE is defined                       */
/* ------------------------------------------------------------------------ */

#ifdef PB_DISABLE
#define PB_STEP(b, topic) ((void)0)
#define PB_STEP_EX(b, topic, time_extra, memory_extra) ((void)0)
#define PB_GSTEP(b) ((void)0)
#define PB_GSTOP(b) ((void)0)
#define PB_START(b) ((void)0)
#define PB_SAVE(b) ((void)0)
#else
/**
 * Internal: whether b is enabled, read inline with one relaxed load. The
 * first member of every benchmarker is its flags word (bit 0: enabled): this
 * layout is part of the ABI so that a runtime-disabled PB_* macro costs a
 * load and a branch, not a call. Use pb_is_enabled() in your own code.
 */
static inline int pb__enabled_inline(const pb_bench *b) {
  return b && (__atomic_load_n((const unsigned *)(const void *)b, __ATOMIC_RELAXED) & 1u);
}
/** Records a step (see pb_step) when b is enabled; the status is discarded. */
#define PB_STEP(b, topic) ((void)(pb__enabled_inline(b) && pb_step((b), (topic))))
/** Records a step with extras (see pb_step_ex). */
#define PB_STEP_EX(b, topic, time_extra, memory_extra) \
  ((void)(pb__enabled_inline(b) && pb_step_ex((b), (topic), (time_extra), (memory_extra))))
/** Closes the iteration and opens the next (see pb_gstep). */
#define PB_GSTEP(b) ((void)(pb__enabled_inline(b) && pb_gstep((b))))
/** Closes the iteration (see pb_gstop). */
#define PB_GSTOP(b) ((void)(pb__enabled_inline(b) && pb_gstop((b))))
/** Opens an iteration (see pb_start). */
#define PB_START(b) ((void)(pb__enabled_inline(b) && pb_start((b))))
/** Saves the records (see pb_save). */
#define PB_SAVE(b) ((void)pb_save((b)))
#endif

#ifdef __cplusplus
}
#endif

#endif /* PORTER_BENCH_H */
