/*
 * core_module.c - porter_bench._core: errors, small functions and module init.
 */
#include "core.h"

pbpy_state_t pbpy_state;

PyObject *pbpy_raise(int st, const char *msg) {
  PyObject *exc;
  switch (st) {
    case PB_EINVAL:
    case PB_EJSON:
    case PB_EDATA: exc = PyExc_ValueError; break;
    case PB_ENOMEM: exc = PyExc_MemoryError; break;
    case PB_EIO: exc = PyExc_OSError; break;
    case PB_ENOTFOUND: exc = PyExc_FileNotFoundError; break;
    default: exc = PyExc_RuntimeError; break;
  }
  if (!msg || !*msg) msg = pb_analysis_strerror(st);
  PyErr_SetString(exc, msg);
  return NULL;
}

/* cuda_available() -> bool: NVML loads and a device answers. */
static PyObject *mod_cuda_available(PyObject *mod, PyObject *unused) {
  (void)mod;
  (void)unused;
  bool on;
  Py_BEGIN_ALLOW_THREADS on = pb_cuda_available();
  Py_END_ALLOW_THREADS return PyBool_FromLong(on);
}

/* parse_toggles(text or None) -> int mask; raises ValueError for a malformed value. */
static PyObject *mod_parse_toggles(PyObject *mod, PyObject *arg) {
  (void)mod;
  const char *text = NULL;
  if (arg != Py_None && !(text = PyUnicode_AsUTF8(arg))) return NULL;
  unsigned mask = 0;
  int st = pb_parse_toggles(text, &mask);
  if (st != PB_OK) {
    PyErr_Format(PyExc_ValueError, "porter_bench: toggles must be 1 to 8 binary digits, not '%s'",
                 text);
    return NULL;
  }
  return PyLong_FromUnsignedLong(mask);
}

/* version() -> the C library's version string. */
static PyObject *mod_version(PyObject *mod, PyObject *unused) {
  (void)mod;
  (void)unused;
  return PyUnicode_FromString(pb_version());
}

/* now_ns() -> the C library's monotonic clock. */
static PyObject *mod_now_ns(PyObject *mod, PyObject *unused) {
  (void)mod;
  (void)unused;
  return PyLong_FromUnsignedLongLong(pb_now_ns());
}

static PyMethodDef module_functions[] = {
    {"cuda_available", mod_cuda_available, METH_NOARGS, "True where NVML finds a GPU."},
    {"parse_toggles", mod_parse_toggles, METH_O, "Parses 8 binary digits into a bit mask."},
    {"version", mod_version, METH_NOARGS, "The C library's version."},
    {"now_ns", mod_now_ns, METH_NOARGS, "The C library's monotonic clock in ns."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    "porter_bench._core",
    "The C core of porter_bench: libporter_bench and libporter_bench_analysis.",
    -1,
    module_functions,
    NULL,
    NULL,
    NULL,
    NULL};

static int add_type(PyObject *m, PyTypeObject *t, const char *name) {
  if (PyType_Ready(t) < 0) return -1;
  Py_INCREF(t);
  if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
    Py_DECREF(t);
    return -1;
  }
  return 0;
}

static int init_state(void) {
  PyObject *json = PyImport_ImportModule("json");
  if (!json) return -1;
  pbpy_state.json_dumps = PyObject_GetAttrString(json, "dumps");
  Py_DECREF(json);
  pbpy_state.empty_str = PyUnicode_InternFromString("");
  return pbpy_state.json_dumps && pbpy_state.empty_str ? 0 : -1;
}

PyMODINIT_FUNC PyInit__core(void) {
  if (init_state() < 0) return NULL;
  PyObject *m = PyModule_Create(&core_module);
  if (!m) return NULL;
  if (add_type(m, &pbpy_BenchType, "Bench") < 0 ||
      add_type(m, &pbpy_RegistryType, "Registry") < 0 || add_type(m, &pbpy_RunType, "Run") < 0 ||
      PyModule_AddFunctions(m, pbpy_run_functions) < 0 ||
      PyModule_AddStringConstant(m, "SUFFIX_DATA", PB_SUFFIX_DATA) < 0 ||
      PyModule_AddStringConstant(m, "SUFFIX_SUMMARY", PB_SUFFIX_SUMMARY) < 0 ||
      PyModule_AddStringConstant(m, "SUFFIX_MEMORY", PB_SUFFIX_MEMORY) < 0 ||
      PyModule_AddStringConstant(m, "DEFAULT_ROOT", PB_DEFAULT_ROOT) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
