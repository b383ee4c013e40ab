/*
 * core.h - shared declarations of the porter_bench._core extension module.
 *
 * The module is split by layer: core_bench.c (recording: Bench, Registry),
 * core_run.c (analysis: Run, charts) and core_module.c (errors, module init).
 * Every function here is called with the GIL held.
 */
#ifndef PORTER_BENCH_PY_CORE_H
#define PORTER_BENCH_PY_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <porter_bench.h>
#include <porter_bench_analysis.h>

/** A benchmarker: owns b unless owner (a Registry it belongs to) is set. */
typedef struct BenchObject {
  PyObject_HEAD pb_bench *b;
  PyObject *owner;      /* the RegistryObject owning b, or NULL when b is ours */
  PyObject *topics;     /* dict: topic str -> int id (pb_topic_intern of b) */
  PyObject *last_topic; /* the last topic object stepped, with its id */
  pb_topic last_id;
  unsigned save_on_gstop; /* mirrors of the auto-save settings, for the GIL choice */
  int save_on_step;
} BenchObject;

/** A registry (the original's GlobalBenchmarker) owning its benchmarkers. */
typedef struct RegistryObject {
  PyObject_HEAD pb_registry *r;
} RegistryObject;

/** Module-wide objects made once at import. */
typedef struct pbpy_state_t {
  PyObject *json_dumps; /* json.dumps */
  PyObject *empty_str;  /* "" */
} pbpy_state_t;

extern pbpy_state_t pbpy_state;
extern PyTypeObject pbpy_BenchType;
extern PyTypeObject pbpy_RegistryType;
extern PyTypeObject pbpy_RunType;

/**
 * Sets a Python exception for status st with message msg (a C library message;
 * NULL or "" gives the status's description) and returns NULL.
 * EINVAL/EJSON/EDATA: ValueError, ENOMEM: MemoryError, EIO: OSError,
 * ENOTFOUND: FileNotFoundError, others: RuntimeError.
 */
PyObject *pbpy_raise(int st, const char *msg);

/** The analysis functions of the module (core_run.c), NULL-terminated. */
extern PyMethodDef pbpy_run_functions[];

#endif /* PORTER_BENCH_PY_CORE_H */
