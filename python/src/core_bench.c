/*
 * core_bench.c - porter_bench._core.Bench and Registry: the recording library for Python.
 *
 * Bench wraps one pb_bench. Its step() is the hot path: a topic str is interned
 * once per benchmarker (pb_topic_intern) and cached in a dict str -> id, with a
 * one-entry cache of the last topic object in front of it, so that a step with a
 * string literal is a pointer compare and a pb_step_id call.
 *
 * The GIL: every method runs with the GIL held except the saves (save_data, and
 * any call that may auto-save: a step or gstop with set_save_on_* on), which
 * release it around the C call. The C library never calls back into Python.
 * The topic cache is only touched with the GIL held.
 */
#include "core.h"

#include <string.h>

/* ---- object ---- */

static PyObject *bench_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  (void)args;
  (void)kw;
  BenchObject *self = (BenchObject *)type->tp_alloc(type, 0);
  if (!self) return NULL;
  self->topics = PyDict_New();
  if (!self->topics) {
    Py_DECREF(self);
    return NULL;
  }
  return (PyObject *)self;
}

/* Forgets the cached topic ids (they belong to the old pb_bench). */
static void bench_reset_cache(BenchObject *self) {
  PyDict_Clear(self->topics);
  Py_CLEAR(self->last_topic);
}

/* Frees the pb_bench when this object created it; drops the registry otherwise. */
static void bench_release(BenchObject *self) {
  if (self->b && !self->owner) pb_bench_destroy(self->b);
  self->b = NULL;
  Py_CLEAR(self->owner);
}

static int bench_init(BenchObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"file", NULL};
  const char *path = "performance/base";
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|s:Bench", kwlist, &path)) return -1;
  if (self->b) { /* another thread may be saving it with the GIL released */
    PyErr_SetString(PyExc_RuntimeError, "porter_bench: a Benchmarker is initialised once");
    return -1;
  }
  pb_bench *b = NULL;
  int st = pb_bench_create(path, &b);
  if (st != PB_OK) {
    pbpy_raise(st, pb_last_error());
    return -1;
  }
  bench_release(self);
  bench_reset_cache(self);
  self->b = b;
  self->save_on_gstop = 0;
  self->save_on_step = 0;
  return 0;
}

static void bench_dealloc(BenchObject *self) {
  PyObject_GC_UnTrack(self);
  bench_release(self);
  Py_CLEAR(self->topics);
  Py_CLEAR(self->last_topic);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static int bench_traverse(BenchObject *self, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(self->owner);
  Py_VISIT(self->topics);
  return 0;
}

static int bench_clear(BenchObject *self) {
  Py_CLEAR(self->topics);
  Py_CLEAR(self->last_topic);
  return 0;
}

/* Raises RuntimeError for a Bench whose __init__ never ran. */
static int bench_ready(BenchObject *self) {
  if (self->b) return 1;
  PyErr_SetString(PyExc_RuntimeError, "porter_bench: Benchmarker.__init__ was not called");
  return 0;
}

/* ---- result of a recording call ---- */

/*
 * Maps a recording call's status to Python: PB_ENOITER (no iteration yet) and
 * PB_EDISABLED are silent as in the original, which recorded nothing then.
 */
static PyObject *record_result(int st) {
  if (st == PB_OK || st == PB_ENOITER || st == PB_EDISABLED) Py_RETURN_NONE;
  return pbpy_raise(st, pb_last_error());
}

/* ---- topics ---- */

/* Interns a new topic str of self and caches its id. Returns 0, or -1 with an exception. */
static int topic_intern(BenchObject *self, PyObject *topic, pb_topic *id) {
  Py_ssize_t n = 0;
  const char *s = PyUnicode_AsUTF8AndSize(topic, &n);
  if (!s) return -1;
  if ((size_t)n != strlen(s)) {
    PyErr_SetString(PyExc_ValueError, "porter_bench: a topic may not contain a NUL character");
    return -1;
  }
  *id = pb_topic_intern(self->b, s);
  if (*id == PB_TOPIC_INVALID) {
    pbpy_raise(PB_ENOMEM, pb_last_error());
    return -1;
  }
  PyObject *v = PyLong_FromUnsignedLong(*id);
  if (!v) return -1;
  int rc = PyDict_SetItem(self->topics, topic, v);
  Py_DECREF(v);
  return rc;
}

/* The id of topic for self: the last-topic cache, the dict, or a new interning. */
static int topic_id(BenchObject *self, PyObject *topic, pb_topic *id) {
  if (topic == self->last_topic) {
    *id = self->last_id;
    return 0;
  }
  if (!PyUnicode_Check(topic)) {
    PyErr_Format(PyExc_TypeError, "porter_bench: topic must be str, not %.100s",
                 Py_TYPE(topic)->tp_name);
    return -1;
  }
  PyObject *v = PyDict_GetItemWithError(self->topics, topic);
  if (v) {
    *id = (pb_topic)PyLong_AsUnsignedLong(v);
  } else {
    if (PyErr_Occurred() || topic_intern(self, topic, id) < 0) return -1;
  }
  Py_INCREF(topic);
  Py_XSETREF(self->last_topic, topic);
  self->last_id = *id;
  return 0;
}

/* ---- step ---- */

/* Whether a call on self may save files (auto-save on): then the GIL is released. */
static int may_save(const BenchObject *self) { return self->save_on_gstop || self->save_on_step; }

static PyObject *step_plain(BenchObject *self, PyObject *topic) {
  pb_topic id;
  if (topic_id(self, topic, &id) < 0) return NULL;
  int st;
  if (!may_save(self)) {
    st = pb_step_id(self->b, id);
  } else {
    Py_BEGIN_ALLOW_THREADS st = pb_step_id(self->b, id);
    Py_END_ALLOW_THREADS
  }
  return record_result(st);
}

/*
 * Serialises an extra with json.dumps into *out (a new bytes object or NULL for
 * None). On failure keeps the exception in *exc (type, value, traceback) and
 * leaves *out NULL: the step is still recorded with a null extra, as in C.
 */
typedef struct saved_exc {
  PyObject *type, *value, *tb;
} saved_exc;

static void extra_text(PyObject *extra, PyObject **out, saved_exc *exc) {
  *out = NULL;
  if (!extra || extra == Py_None) return;
  PyObject *s = PyObject_CallOneArg(pbpy_state.json_dumps, extra);
  if (s) {
    *out = PyUnicode_AsUTF8String(s);
    Py_DECREF(s);
  }
  if (!*out && !exc->type) PyErr_Fetch(&exc->type, &exc->value, &exc->tb);
  PyErr_Clear();
}

static PyObject *step_extras(BenchObject *self, PyObject *topic, PyObject *memory_extra,
                             PyObject *time_extra) {
  if (!PyUnicode_Check(topic)) return step_plain(self, topic); /* raises TypeError */
  Py_ssize_t n = 0;
  const char *s = PyUnicode_AsUTF8AndSize(topic, &n);
  if (!s) return NULL;
  if ((size_t)n != strlen(s)) {
    PyErr_SetString(PyExc_ValueError, "porter_bench: a topic may not contain a NUL character");
    return NULL;
  }
  saved_exc exc = {NULL, NULL, NULL};
  PyObject *tj = NULL, *mj = NULL;
  extra_text(time_extra, &tj, &exc);
  extra_text(memory_extra, &mj, &exc);
  const char *ts = tj ? PyBytes_AS_STRING(tj) : NULL;
  const char *ms = mj ? PyBytes_AS_STRING(mj) : NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS st = pb_step_ex(self->b, s, ts, ms);
  Py_END_ALLOW_THREADS Py_XDECREF(tj);
  Py_XDECREF(mj);
  if (exc.type) {
    PyErr_Restore(exc.type, exc.value, exc.tb);
    return NULL;
  }
  return record_result(st);
}

/* Finds keyword name in kwnames; returns its value from args (after nargs) or NULL. */
static int kw_take(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char **names,
                   PyObject **vals, int nnames) {
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; k++) {
    PyObject *key = PyTuple_GET_ITEM(kwnames, k);
    int found = 0;
    for (int j = 0; j < nnames && !found; j++) {
      if (PyUnicode_CompareWithASCIIString(key, names[j]) != 0) continue;
      if (vals[j]) {
        PyErr_Format(PyExc_TypeError, "step() got multiple values for argument '%s'", names[j]);
        return -1;
      }
      vals[j] = args[nargs + k];
      found = 1;
    }
    if (!found) {
      PyErr_Format(PyExc_TypeError, "step() got an unexpected keyword argument '%U'", key);
      return -1;
    }
  }
  return 0;
}

/* step(topic="", memory_extra=None, time_extra=None): METH_FASTCALL | METH_KEYWORDS. */
static PyObject *bench_step(BenchObject *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames) {
  if (!self->b && !bench_ready(self)) return NULL;
  if (nargs == 1 && !kwnames) return step_plain(self, args[0]);
  static const char *names[] = {"topic", "memory_extra", "time_extra"};
  PyObject *vals[3] = {NULL, NULL, NULL};
  if (nargs > 3) {
    PyErr_Format(PyExc_TypeError, "step() takes at most 3 arguments (%zd given)", nargs);
    return NULL;
  }
  for (Py_ssize_t i = 0; i < nargs; i++) vals[i] = args[i];
  if (kw_take(args, nargs, kwnames, names, vals, 3) < 0) return NULL;
  PyObject *topic = vals[0] ? vals[0] : pbpy_state.empty_str;
  int plain = (!vals[1] || vals[1] == Py_None) && (!vals[2] || vals[2] == Py_None);
  if (plain) return step_plain(self, topic);
  return step_extras(self, topic, vals[1], vals[2]);
}

/* ---- iteration calls ---- */

/* Runs fn(b), releasing the GIL when it may save. */
static PyObject *bench_call(BenchObject *self, int (*fn)(pb_bench *)) {
  if (!self->b && !bench_ready(self)) return NULL;
  int st;
  if (!may_save(self)) {
    st = fn(self->b);
  } else {
    Py_BEGIN_ALLOW_THREADS st = fn(self->b);
    Py_END_ALLOW_THREADS
  }
  return record_result(st);
}

static PyObject *bench_gstep(BenchObject *self, PyObject *unused) {
  (void)unused;
  return bench_call(self, pb_gstep);
}

static PyObject *bench_gstop(BenchObject *self, PyObject *unused) {
  (void)unused;
  return bench_call(self, pb_gstop);
}

static PyObject *bench_start(BenchObject *self, PyObject *unused) {
  (void)unused;
  return bench_call(self, pb_start);
}

static PyObject *bench_save_data(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS st = pb_save(self->b);
  Py_END_ALLOW_THREADS if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  Py_RETURN_NONE;
}

/* ---- configuration ---- */

static PyObject *bench_enable(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  pb_enable(self->b);
  Py_RETURN_NONE;
}

static PyObject *bench_disable(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  pb_disable(self->b);
  Py_RETURN_NONE;
}

static PyObject *bench_enable_memory(BenchObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"per_step", NULL};
  int per_step = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:enable_memory_tracking", kwlist, &per_step))
    return NULL;
  if (!bench_ready(self)) return NULL;
  int st = pb_enable_memory_tracking(self->b, per_step != 0);
  if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  Py_RETURN_NONE;
}

static PyObject *bench_disable_memory(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  pb_disable_memory_tracking(self->b);
  Py_RETURN_NONE;
}

static PyObject *bench_set_save_on_gstop(BenchObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"save_on_gstop", NULL};
  long n = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|l:set_save_on_gstop", kwlist, &n)) return NULL;
  if (!bench_ready(self)) return NULL;
  if (n < 0 || n > (long)UINT32_MAX) {
    PyErr_Format(PyExc_ValueError, "porter_bench: save_on_gstop must be 0..%lu, not %ld",
                 (unsigned long)UINT32_MAX, n);
    return NULL;
  }
  pb_set_save_on_gstop(self->b, (unsigned)n);
  self->save_on_gstop = (unsigned)n;
  Py_RETURN_NONE;
}

static PyObject *bench_set_save_on_step(BenchObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"save_on_step", NULL};
  int on = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:set_save_on_step", kwlist, &on)) return NULL;
  if (!bench_ready(self)) return NULL;
  pb_set_save_on_step(self->b, on != 0);
  self->save_on_step = on != 0;
  Py_RETURN_NONE;
}

/*
 * GPU memory tracking. Returns True when on; False (silently, as the original
 * without a GPU) where pb_cuda_available() is false.
 */
static PyObject *bench_enable_cuda(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  int st = pb_enable_cuda_memory_tracking(self->b);
  if (st == PB_ENOTSUP) Py_RETURN_FALSE;
  if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  Py_RETURN_TRUE;
}

static PyObject *bench_disable_cuda(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  pb_disable_cuda_memory_tracking(self->b);
  Py_RETURN_NONE;
}

/* set_cuda_sync(on=True): raises RuntimeError where no CUDA runtime is loaded. */
static PyObject *bench_set_cuda_sync(BenchObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"on", NULL};
  int on = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:set_cuda_sync", kwlist, &on)) return NULL;
  if (!bench_ready(self)) return NULL;
  int st = pb_set_cuda_sync(self->b, on != 0);
  if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  Py_RETURN_NONE;
}

static PyObject *bench_stats(BenchObject *self, PyObject *unused) {
  (void)unused;
  if (!bench_ready(self)) return NULL;
  pb_bench_stats s;
  int st = pb_bench_get_stats(self->b, &s);
  if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  return Py_BuildValue(
      "{sKsKsKsKsKsKsKsK}", "iterations", (unsigned long long)s.iterations, "steps",
      (unsigned long long)s.steps, "memory_records", (unsigned long long)s.memory_records, "topics",
      (unsigned long long)s.topics, "dropped", (unsigned long long)s.dropped, "saves",
      (unsigned long long)s.saves, "save_errors", (unsigned long long)s.save_errors, "bytes_held",
      (unsigned long long)s.bytes_held);
}

/* _attach(registry, name): makes self the registry's benchmarker called name. */
static PyObject *bench_attach(BenchObject *self, PyObject *args) {
  PyObject *reg = NULL;
  const char *name = NULL;
  if (!PyArg_ParseTuple(args, "O!s:_attach", &pbpy_RegistryType, &reg, &name)) return NULL;
  if (self->b) return PyErr_Format(PyExc_RuntimeError, "porter_bench: already initialised");
  pb_bench *b = pb_registry_get(((RegistryObject *)reg)->r, name);
  if (!b) return pbpy_raise(PB_EINVAL, pb_last_error());
  bench_release(self);
  bench_reset_cache(self);
  Py_INCREF(reg);
  self->owner = reg;
  self->b = b;
  Py_RETURN_NONE;
}

/* ---- attributes ---- */

static PyObject *bench_get_enabled(BenchObject *self, void *closure) {
  (void)closure;
  if (!bench_ready(self)) return NULL;
  return PyBool_FromLong(pb_is_enabled(self->b));
}

static int bench_set_enabled(BenchObject *self, PyObject *v, void *closure) {
  (void)closure;
  if (!v) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete 'enabled'");
    return -1;
  }
  int on = PyObject_IsTrue(v);
  if (on < 0 || !bench_ready(self)) return -1;
  if (on)
    pb_enable(self->b);
  else
    pb_disable(self->b);
  return 0;
}

static PyObject *bench_get_path(BenchObject *self, void *closure) {
  (void)closure;
  if (!bench_ready(self)) return NULL;
  return PyUnicode_DecodeFSDefault(pb_bench_path(self->b));
}

static PyObject *bench_get_save_on_gstop(BenchObject *self, void *closure) {
  (void)closure;
  return PyLong_FromUnsignedLong(self->save_on_gstop);
}

static PyObject *bench_get_save_on_step(BenchObject *self, void *closure) {
  (void)closure;
  return PyBool_FromLong(self->save_on_step);
}

static int bench_put_save_on_gstop(BenchObject *self, PyObject *v, void *closure) {
  (void)closure;
  if (!v) return PyErr_SetString(PyExc_AttributeError, "cannot delete 'save_on_gstop'"), -1;
  PyObject *args = PyTuple_Pack(1, v);
  if (!args) return -1;
  PyObject *r = bench_set_save_on_gstop(self, args, NULL);
  Py_DECREF(args);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

static int bench_put_save_on_step(BenchObject *self, PyObject *v, void *closure) {
  (void)closure;
  if (!v) return PyErr_SetString(PyExc_AttributeError, "cannot delete 'save_on_step'"), -1;
  int on = PyObject_IsTrue(v);
  if (on < 0 || !bench_ready(self)) return -1;
  pb_set_save_on_step(self->b, on != 0);
  self->save_on_step = on != 0;
  return 0;
}

static PyMethodDef bench_methods[] = {
    {"step", (PyCFunction)(void (*)(void))bench_step, METH_FASTCALL | METH_KEYWORDS,
     "step($self, /, topic='', memory_extra=None, time_extra=None)\n--\n\nRecords a step."},
    {"gstep", (PyCFunction)bench_gstep, METH_NOARGS,
     "gstep($self, /)\n--\n\nCloses the iteration and opens the next."},
    {"gstop", (PyCFunction)bench_gstop, METH_NOARGS,
     "gstop($self, /)\n--\n\nCloses the open iteration."},
    {"start", (PyCFunction)bench_start, METH_NOARGS, "start($self, /)\n--\n\nOpens an iteration."},
    {"save_data", (PyCFunction)bench_save_data, METH_NOARGS,
     "save_data($self, /)\n--\n\nWrites the record files."},
    {"enable", (PyCFunction)bench_enable, METH_NOARGS,
     "enable($self, /)\n--\n\nEnables recording."},
    {"disable", (PyCFunction)bench_disable, METH_NOARGS,
     "disable($self, /)\n--\n\nDisables recording."},
    {"enable_memory_tracking", (PyCFunction)(void (*)(void))bench_enable_memory,
     METH_VARARGS | METH_KEYWORDS,
     "enable_memory_tracking($self, /, per_step=False)\n--\n\nMemory records at gstep/gstop (and "
     "steps)."},
    {"disable_memory_tracking", (PyCFunction)bench_disable_memory, METH_NOARGS,
     "Turns memory tracking off."},
    {"set_save_on_gstop", (PyCFunction)(void (*)(void))bench_set_save_on_gstop,
     METH_VARARGS | METH_KEYWORDS,
     "set_save_on_gstop($self, /, save_on_gstop=1)\n--\n\nAuto-save every n gstops (0: off)."},
    {"set_save_on_step", (PyCFunction)(void (*)(void))bench_set_save_on_step,
     METH_VARARGS | METH_KEYWORDS,
     "set_save_on_step($self, /, save_on_step=True)\n--\n\nAuto-save after every step."},
    {"_enable_cuda_memory_tracking", (PyCFunction)bench_enable_cuda, METH_NOARGS,
     "GPU memory tracking on (NVML); False where no GPU answers."},
    {"_disable_cuda_memory_tracking", (PyCFunction)bench_disable_cuda, METH_NOARGS,
     "GPU memory tracking off."},
    {"set_cuda_sync", (PyCFunction)(void (*)(void))bench_set_cuda_sync,
     METH_VARARGS | METH_KEYWORDS,
     "set_cuda_sync($self, /, on=True)\n--\n\nSynchronise the GPU at each clock read."},
    {"stats", (PyCFunction)bench_stats, METH_NOARGS, "The C counters as a dict."},
    {"_attach", (PyCFunction)bench_attach, METH_VARARGS, "Internal: bind to a registry entry."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef bench_getset[] = {
    {"enabled", (getter)bench_get_enabled, (setter)bench_set_enabled, "Recording on.", NULL},
    {"_path", (getter)bench_get_path, NULL, "The C path prefix.", NULL},
    {"save_on_gstop", (getter)bench_get_save_on_gstop, (setter)bench_put_save_on_gstop,
     "Auto-save period in gstops (0: off).", NULL},
    {"save_on_step", (getter)bench_get_save_on_step, (setter)bench_put_save_on_step,
     "Auto-save after every step.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject pbpy_BenchType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "porter_bench._core.Bench",
    .tp_basicsize = sizeof(BenchObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A benchmarker of the C library (base of porter_bench.Benchmarker).",
    .tp_new = bench_new,
    .tp_init = (initproc)bench_init,
    .tp_dealloc = (destructor)bench_dealloc,
    .tp_traverse = (traverseproc)bench_traverse,
    .tp_clear = (inquiry)bench_clear,
    .tp_methods = bench_methods,
    .tp_getset = bench_getset,
};

/* ---- Registry ---- */

static PyObject *registry_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"root", NULL};
  const char *root = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|z:Registry", kwlist, &root)) return NULL;
  RegistryObject *self = (RegistryObject *)type->tp_alloc(type, 0);
  if (!self) return NULL;
  int st = pb_registry_create(root, &self->r);
  if (st != PB_OK) {
    Py_DECREF(self);
    return pbpy_raise(st, pb_last_error());
  }
  return (PyObject *)self;
}

static void registry_dealloc(RegistryObject *self) {
  pb_registry_destroy(self->r);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *registry_set_default_path(RegistryObject *self, PyObject *arg) {
  const char *root = PyUnicode_AsUTF8(arg);
  if (!root) return NULL;
  int st = pb_registry_set_default_path(self->r, root);
  if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  Py_RETURN_NONE;
}

static PyObject *registry_run_dir(RegistryObject *self, PyObject *unused) {
  (void)unused;
  char buf[4096];
  int n = pb_registry_run_dir(self->r, buf, sizeof buf);
  if (n < 0) return pbpy_raise(n, pb_last_error());
  return PyUnicode_DecodeFSDefaultAndSize(buf, n);
}

static PyObject *registry_enable(RegistryObject *self, PyObject *unused) {
  (void)unused;
  pb_registry_enable(self->r);
  Py_RETURN_NONE;
}

static PyObject *registry_disable(RegistryObject *self, PyObject *unused) {
  (void)unused;
  pb_registry_disable(self->r);
  Py_RETURN_NONE;
}

static PyObject *registry_save(RegistryObject *self, PyObject *unused) {
  (void)unused;
  int st;
  Py_BEGIN_ALLOW_THREADS st = pb_registry_save(self->r);
  Py_END_ALLOW_THREADS if (st != PB_OK) return pbpy_raise(st, pb_last_error());
  Py_RETURN_NONE;
}

static PyObject *registry_size(RegistryObject *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromSize_t(pb_registry_size(self->r));
}

static PyMethodDef registry_methods[] = {
    {"set_default_path", (PyCFunction)registry_set_default_path, METH_O,
     "Later benchmarkers go to a new run folder under root."},
    {"run_dir", (PyCFunction)registry_run_dir, METH_NOARGS, "The run folder."},
    {"enable", (PyCFunction)registry_enable, METH_NOARGS, "Enables every benchmarker."},
    {"disable", (PyCFunction)registry_disable, METH_NOARGS, "Disables every benchmarker."},
    {"save", (PyCFunction)registry_save, METH_NOARGS, "Saves every benchmarker."},
    {"size", (PyCFunction)registry_size, METH_NOARGS, "Number of benchmarkers."},
    {NULL, NULL, 0, NULL}};

PyTypeObject pbpy_RegistryType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "porter_bench._core.Registry",
    .tp_basicsize = sizeof(RegistryObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Registry(root=None): the C library's pb_registry.",
    .tp_new = registry_new,
    .tp_dealloc = (destructor)registry_dealloc,
    .tp_methods = registry_methods,
};
