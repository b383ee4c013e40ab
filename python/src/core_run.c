/*
 * core_run.c - porter_bench._core.Run and the chart functions: the analysis
 * library for Python (load_record, DataHandler, generate_plots).
 *
 * A Run owns one loaded pb_run (immutable). Loads and charts release the GIL:
 * the analysis library keeps no global state and never calls back into Python
 * while the GIL is released (pb_plots_write's per-file hook only copies names).
 * The accessors build Python objects from the loader's flat arrays: doubles
 * travel as bytes for numpy.frombuffer, nested lists as Python objects.
 */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct RunObject {
  PyObject_HEAD pb_run *run;
} RunObject;

static void run_dealloc(RunObject *self) {
  pb_run *run = self->run;
  self->run = NULL;
  if (run) {
    Py_BEGIN_ALLOW_THREADS pb_run_free(run);
    Py_END_ALLOW_THREADS
  }
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *raise_err(const pb_error *err, int st) { return pbpy_raise(st, err->message); }

/* The record called name (a str argument), or NULL with KeyError. */
static const pb_record *run_record(RunObject *self, PyObject *name) {
  const char *s = PyUnicode_AsUTF8(name);
  if (!s) return NULL;
  const pb_record *r = pb_run_find(self->run, s);
  if (!r) PyErr_SetObject(PyExc_KeyError, name);
  return r;
}

/* A str from C text: UTF-8, bytes that are not become surrogate escapes. */
static PyObject *str_of(const char *s) {
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

static PyObject *run_path(RunObject *self, PyObject *unused) {
  (void)unused;
  return PyUnicode_DecodeFSDefault(pb_run_path(self->run));
}

static PyObject *run_names(RunObject *self, PyObject *unused) {
  (void)unused;
  size_t n = pb_run_record_count(self->run);
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    PyObject *s = str_of(pb_record_name(pb_run_record(self->run, i)));
    if (!s) Py_CLEAR(list);
    if (list) PyList_SET_ITEM(list, (Py_ssize_t)i, s);
  }
  return list;
}

static PyObject *run_diagnostics(RunObject *self, PyObject *unused) {
  (void)unused;
  size_t n = pb_run_diagnostic_count(self->run);
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    PyObject *s = str_of(pb_run_diagnostic(self->run, i));
    if (!s) Py_CLEAR(list);
    if (list) PyList_SET_ITEM(list, (Py_ssize_t)i, s);
  }
  return list;
}

/* summary(name) -> {topic: {"mean", "min", "max", "quantile_filtered"}} as saved. */
static PyObject *run_summary(RunObject *self, PyObject *name) {
  const pb_record *r = run_record(self, name);
  if (!r) return NULL;
  size_t n = 0;
  const pb_saved_summary *s = pb_record_saved_summary(r, &n);
  PyObject *d = PyDict_New();
  for (size_t i = 0; d && i < n; i++) {
    PyObject *v = Py_BuildValue("{sdsdsdsd}", "mean", s[i].mean, "min", s[i].min, "max", s[i].max,
                                "quantile_filtered", s[i].quantile_filtered);
    PyObject *k = v ? str_of(s[i].topic) : NULL;
    if (!k || PyDict_SetItem(d, k, v) < 0) Py_CLEAR(d);
    Py_XDECREF(k);
    Py_XDECREF(v);
  }
  return d;
}

/* The time topics of r as a list of str. */
static PyObject *topic_list(const pb_record *r) {
  size_t nt = pb_record_topic_count(r);
  PyObject *topics = PyList_New((Py_ssize_t)nt);
  for (size_t t = 0; topics && t < nt; t++) {
    PyObject *k = str_of(pb_record_topic(r, t));
    if (!k) Py_CLEAR(topics);
    if (topics) PyList_SET_ITEM(topics, (Py_ssize_t)t, k);
  }
  return topics;
}

/* topics(name) -> the time topics in order of first appearance. */
static PyObject *run_topics(RunObject *self, PyObject *name) {
  const pb_record *r = run_record(self, name);
  return r ? topic_list(r) : NULL;
}

/*
 * absolutes(name) -> (topics, bytearray): the float64 matrix of iterations x
 * topics in row-major order (NAN where a topic did not occur), writable, so
 * that numpy and pandas wrap it without a copy.
 */
static PyObject *run_absolutes(RunObject *self, PyObject *name) {
  const pb_record *r = run_record(self, name);
  if (!r) return NULL;
  size_t nt = pb_record_topic_count(r), ni = pb_record_iter_count(r);
  PyObject *topics = topic_list(r);
  PyObject *m = topics ? PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(ni * nt * 8)) : NULL;
  if (!m) {
    Py_XDECREF(topics);
    return NULL;
  }
  double *out = (double *)(void *)PyByteArray_AS_STRING(m);
  for (size_t t = 0; t < nt; t++) {
    const double *col = pb_record_absolutes(r, t);
    for (size_t i = 0; i < ni; i++) out[i * nt + t] = col[i];
  }
  return Py_BuildValue("(NN)", topics, m);
}

/* infos(name) -> (bytes int64 STEP_NUMBER, bytes float64 START_TIME, bytes STOP_TIME). */
static PyObject *run_infos(RunObject *self, PyObject *name) {
  const pb_record *r = run_record(self, name);
  if (!r) return NULL;
  size_t n = pb_record_iter_count(r);
  const pb_iter_info *in = pb_record_infos(r);
  PyObject *a = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
  PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
  PyObject *c = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
  if (!a || !b || !c) {
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    return NULL;
  }
  int64_t *sn = (int64_t *)(void *)PyBytes_AS_STRING(a);
  double *st = (double *)(void *)PyBytes_AS_STRING(b), *sp = (double *)(void *)PyBytes_AS_STRING(c);
  for (size_t i = 0; i < n; i++) {
    sn[i] = in[i].step_number;
    st[i] = in[i].start_time;
    sp[i] = in[i].stop_time;
  }
  return Py_BuildValue("(NNN)", a, b, c);
}

/* Interned dict keys of the record entries, made once. */
static PyObject *k_time, *k_crono, *k_extra, *k_total, *k_cuda, *k_top, *k_max, *k_heap;
static PyObject *k_cuda_names[PB_CUDA_N];

static int keys_ready(void) {
  if (k_time) return 0;
  static const char *cuda[PB_CUDA_N] = {"allocated",    "reserved",    "max_allocated",
                                        "max_reserved", "device_used", "device_total"};
  for (int i = 0; i < PB_CUDA_N; i++)
    if (!(k_cuda_names[i] = PyUnicode_InternFromString(cuda[i]))) return -1;
  k_crono = PyUnicode_InternFromString("crono_counter");
  k_extra = PyUnicode_InternFromString("extra");
  k_total = PyUnicode_InternFromString("total memory usage");
  k_cuda = PyUnicode_InternFromString("cuda memory usage");
  k_top = PyUnicode_InternFromString("top_memory_objects");
  k_max = PyUnicode_InternFromString("max memory usage");
  k_heap = PyUnicode_InternFromString("heap memory usage");
  k_time = PyUnicode_InternFromString("time");
  return k_time && k_crono && k_extra && k_total && k_cuda && k_top && k_max && k_heap ? 0 : -1;
}

/* {"time": t, "crono_counter": c[, "extra": None]} (GLOBAL has no extra in the files). */
static PyObject *call_dict(const pb_call *c, int with_extra) {
  PyObject *d = PyDict_New(), *t = PyFloat_FromDouble(c->time);
  PyObject *k = PyLong_FromUnsignedLong(c->crono);
  if (!d || !t || !k || PyDict_SetItem(d, k_time, t) < 0 || PyDict_SetItem(d, k_crono, k) < 0 ||
      (with_extra && PyDict_SetItem(d, k_extra, Py_None) < 0))
    Py_CLEAR(d);
  Py_XDECREF(t);
  Py_XDECREF(k);
  return d;
}

/* Appends call c to cols[topic][iter], creating the cell's list on first use. */
static int calls_add(PyObject *cols, const pb_call *c, PyObject *nan, long global) {
  PyObject *col = PyList_GET_ITEM(cols, c->topic);
  PyObject *cell = PyList_GET_ITEM(col, c->iter);
  if (cell == nan) {
    cell = PyList_New(0);
    if (!cell) return -1;
    PyList_SET_ITEM(col, c->iter, cell);
    Py_DECREF(nan);
  }
  PyObject *d = call_dict(c, (long)c->topic != global);
  if (!d) return -1;
  int rc = PyList_Append(cell, d);
  Py_DECREF(d);
  return rc;
}

/* A list of n references to v. */
static PyObject *list_of(size_t n, PyObject *v) {
  PyObject *l = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; l && i < n; i++) {
    Py_INCREF(v);
    PyList_SET_ITEM(l, (Py_ssize_t)i, v);
  }
  return l;
}

/* The columns of run_calls for record r. */
static PyObject *calls_columns(const pb_record *r) {
  size_t nt = pb_record_topic_count(r), ni = pb_record_iter_count(r), nc = 0;
  const pb_call *calls = pb_record_calls(r, &nc);
  long global = pb_record_topic_index(r, "GLOBAL");
  PyObject *nan = PyFloat_FromDouble(NAN), *cols = nan ? PyList_New((Py_ssize_t)nt) : NULL;
  for (size_t t = 0; cols && t < nt; t++) {
    PyObject *col = list_of(ni, nan);
    if (!col) Py_CLEAR(cols);
    if (cols) PyList_SET_ITEM(cols, (Py_ssize_t)t, col);
  }
  for (size_t i = 0; cols && i < nc; i++)
    if (calls[i].topic >= nt || calls[i].iter >= ni || calls_add(cols, &calls[i], nan, global) < 0)
      Py_CLEAR(cols);
  Py_XDECREF(nan);
  if (!cols && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "porter_bench: bad call index");
  return cols;
}

/*
 * calls(name) -> [column per topic]: each a list, per iteration, of the
 * topic's individual_calls entries, or float NaN where the topic did not occur
 * (as pandas makes of the original's list of dicts). Extras are None.
 */
static PyObject *run_calls(RunObject *self, PyObject *name) {
  const pb_record *r = run_record(self, name);
  if (!r || keys_ready() < 0) return NULL;
  int gc_was_on = PyGC_Disable(); /* no collection per 700 new lists and dicts */
  PyObject *cols = calls_columns(r);
  if (gc_was_on) PyGC_Enable();
  return cols;
}

/* A byte size as the files hold it: int, or None for NAN. */
static PyObject *size_obj(double v) {
  if (isnan(v)) Py_RETURN_NONE;
  return PyLong_FromLongLong((long long)v);
}

static PyObject *cuda_obj(const pb_mem_record *m) {
  int any = 0;
  for (int i = 0; i < PB_CUDA_N; i++) any |= !isnan(m->cuda[i]);
  if (!any) Py_RETURN_NONE;
  PyObject *d = PyDict_New();
  for (int i = 0; d && i < PB_CUDA_N; i++) {
    PyObject *v = size_obj(m->cuda[i]);
    if (!v || PyDict_SetItem(d, k_cuda_names[i], v) < 0) Py_CLEAR(d);
    Py_XDECREF(v);
  }
  return d;
}

/* One memory entry with the keys of the files, in their order. */
static PyObject *mem_dict(const pb_mem_record *m, int heap) {
  PyObject *d = PyDict_New();
  PyObject *v[5] = {size_obj(m->rss), cuda_obj(m), PyList_New(0), PyLong_FromUnsignedLong(m->crono),
                    size_obj(m->peak)};
  PyObject *h = heap ? size_obj(m->heap) : NULL;
  int ok = d && v[0] && v[1] && v[2] && v[3] && v[4] && (!heap || h);
  ok = ok && !PyDict_SetItem(d, k_total, v[0]) && !PyDict_SetItem(d, k_cuda, v[1]) &&
       !PyDict_SetItem(d, k_top, v[2]) && !PyDict_SetItem(d, k_crono, v[3]) &&
       !PyDict_SetItem(d, k_extra, Py_None) && !PyDict_SetItem(d, k_max, v[4]) &&
       (!heap || !PyDict_SetItem(d, k_heap, h));
  for (int i = 0; i < 5; i++) Py_XDECREF(v[i]);
  Py_XDECREF(h);
  if (!ok) Py_CLEAR(d);
  return d;
}

/* Appends m to iters[m->iter][topic], creating the topic's list on first use. */
static int mem_add(PyObject *iters, PyObject *topics, const pb_mem_record *m, int heap) {
  PyObject *it = PyList_GET_ITEM(iters, m->iter);
  PyObject *key = PyList_GET_ITEM(topics, m->topic);
  PyObject *lst = PyDict_GetItemWithError(it, key);
  if (!lst) {
    if (PyErr_Occurred() || !(lst = PyList_New(0))) return -1;
    int rc = PyDict_SetItem(it, key, lst);
    Py_DECREF(lst);
    if (rc < 0) return -1;
  }
  PyObject *d = mem_dict(m, heap);
  if (!d) return -1;
  int rc = PyList_Append(lst, d);
  Py_DECREF(d);
  return rc;
}

/* The lists of run_memory for record r. */
static PyObject *memory_lists(const pb_record *r) {
  size_t nt = pb_record_memory_topic_count(r), ni = pb_record_memory_iter_count(r), nm = 0;
  const pb_mem_record *m = pb_record_memory(r, &nm);
  int heap = pb_record_has_heap(r);
  PyObject *topics = PyList_New((Py_ssize_t)nt), *iters = PyList_New((Py_ssize_t)ni);
  for (size_t t = 0; topics && t < nt; t++) {
    PyObject *k = str_of(pb_record_memory_topic(r, t));
    if (!k) Py_CLEAR(topics);
    if (topics) PyList_SET_ITEM(topics, (Py_ssize_t)t, k);
  }
  for (size_t i = 0; iters && i < ni; i++) {
    PyObject *d = PyDict_New();
    if (!d) Py_CLEAR(iters);
    if (iters) PyList_SET_ITEM(iters, (Py_ssize_t)i, d);
  }
  for (size_t i = 0; topics && iters && i < nm; i++)
    if (m[i].iter >= ni || m[i].topic >= nt || mem_add(iters, topics, &m[i], heap) < 0)
      Py_CLEAR(iters);
  Py_XDECREF(topics);
  if (!iters && !PyErr_Occurred())
    PyErr_SetString(PyExc_ValueError, "porter_bench: bad memory index");
  return iters;
}

/* memory(name) -> [per memory iteration: {topic: [entries]}] (the files' "data"). */
static PyObject *run_memory(RunObject *self, PyObject *name) {
  const pb_record *r = run_record(self, name);
  if (!r || keys_ready() < 0) return NULL;
  int gc_was_on = PyGC_Disable(); /* no collection per 700 new lists and dicts */
  PyObject *iters = memory_lists(r);
  if (gc_was_on) PyGC_Enable();
  return iters;
}

static PyMethodDef run_methods[] = {
    {"path", (PyCFunction)run_path, METH_NOARGS, "The run folder as loaded."},
    {"names", (PyCFunction)run_names, METH_NOARGS, "The benchmarkers' names, sorted."},
    {"diagnostics", (PyCFunction)run_diagnostics, METH_NOARGS, "Problems met while loading."},
    {"summary", (PyCFunction)run_summary, METH_O, "The saved summary of a benchmarker."},
    {"topics", (PyCFunction)run_topics, METH_O, "The time topics of a benchmarker."},
    {"absolutes", (PyCFunction)run_absolutes, METH_O, "(topics, float64 matrix as bytearray)."},
    {"infos", (PyCFunction)run_infos, METH_O, "(STEP_NUMBER, START_TIME, STOP_TIME) as bytes."},
    {"calls", (PyCFunction)run_calls, METH_O, "Per topic, per iteration: call entries."},
    {"memory", (PyCFunction)run_memory, METH_O, "Per memory iteration: {topic: [entries]}."},
    {NULL, NULL, 0, NULL}};

PyTypeObject pbpy_RunType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "porter_bench._core.Run",
    .tp_basicsize = sizeof(RunObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A loaded run folder (load_run).",
    .tp_dealloc = (destructor)run_dealloc,
    .tp_methods = run_methods,
};

/* ---- functions ---- */

/* load_run(path, latest=True) -> Run; the GIL is released while loading. */
static PyObject *fn_load_run(PyObject *mod, PyObject *args) {
  (void)mod;
  PyObject *path_b = NULL;
  int latest = 1;
  if (!PyArg_ParseTuple(args, "O&|p:load_run", PyUnicode_FSConverter, &path_b, &latest))
    return NULL;
  pb_error err;
  memset(&err, 0, sizeof err);
  pb_run *run = NULL;
  int st;
  const char *path = PyBytes_AS_STRING(path_b);
  Py_BEGIN_ALLOW_THREADS st = pb_run_load(path, latest != 0, &run, &err);
  Py_END_ALLOW_THREADS Py_DECREF(path_b);
  if (st != PB_OK) return raise_err(&err, st);
  RunObject *self = PyObject_New(RunObject, &pbpy_RunType);
  if (!self) {
    pb_run_free(run);
    return NULL;
  }
  self->run = run;
  return (PyObject *)self;
}

/* resolve(path, latest=True) -> the run folder pb_run_resolve finds. */
static PyObject *fn_resolve(PyObject *mod, PyObject *args) {
  (void)mod;
  PyObject *path_b = NULL;
  int latest = 1;
  if (!PyArg_ParseTuple(args, "O&|p:resolve", PyUnicode_FSConverter, &path_b, &latest)) return NULL;
  pb_error err;
  memset(&err, 0, sizeof err);
  char buf[4096];
  int st;
  const char *path = PyBytes_AS_STRING(path_b);
  Py_BEGIN_ALLOW_THREADS st = pb_run_resolve(path, latest != 0, buf, sizeof buf, &err);
  Py_END_ALLOW_THREADS Py_DECREF(path_b);
  if (st != PB_OK) return raise_err(&err, st);
  return PyUnicode_DecodeFSDefault(buf);
}

/* Names of the files pb_plots_write wrote, collected without the GIL. */
typedef struct written {
  char **files;
  size_t n, cap;
  int oom;
} written;

static void on_written(const char *file, void *user) {
  written *w = user;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 16;
    char **f = realloc(w->files, cap * sizeof *f);
    if (!f) {
      w->oom = 1;
      return;
    }
    w->files = f;
    w->cap = cap;
  }
  char *copy = strdup(file);
  if (!copy) {
    w->oom = 1;
    return;
  }
  w->files[w->n++] = copy;
}

/* Returns the collected names as a list of str and frees them. */
static PyObject *written_list(written *w) {
  PyObject *list = PyList_New(0);
  for (size_t i = 0; i < w->n; i++) {
    PyObject *s = list ? PyUnicode_DecodeFSDefault(w->files[i]) : NULL;
    if (!s || PyList_Append(list, s) < 0) Py_CLEAR(list);
    Py_XDECREF(s);
    free(w->files[i]);
  }
  free(w->files);
  return list;
}

/* Copies a sequence of str into a malloc'd array of UTF-8 pointers (owned by seq). */
static int str_array(PyObject *seq, const char ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (seq == Py_None) return 0;
  Py_ssize_t len = PyList_GET_SIZE(seq);
  *out = calloc((size_t)len + 1, sizeof **out);
  if (!*out) return PyErr_NoMemory(), -1;
  for (Py_ssize_t i = 0; i < len; i++) {
    const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(seq, i));
    if (!s) {
      free(*out);
      return -1;
    }
    (*out)[i] = s;
  }
  *n = (size_t)len;
  return 0;
}

/* plots_write(run, dir, topics: list[str] | None, fmt="png") -> [files written]. */
static PyObject *fn_plots_write(PyObject *mod, PyObject *args) {
  (void)mod;
  PyObject *run = NULL, *topics = NULL;
  const char *dir = NULL, *fmt_s = "png";
  if (!PyArg_ParseTuple(args, "O!sO|s:plots_write", &pbpy_RunType, &run, &dir, &topics, &fmt_s))
    return NULL;
  if (topics != Py_None && !PyList_Check(topics))
    return PyErr_Format(PyExc_TypeError, "topics must be a list of str or None");
  pb_format fmt;
  if (pb_format_parse(fmt_s, &fmt) != PB_OK)
    return PyErr_Format(PyExc_ValueError, "porter_bench: unknown chart format '%s'", fmt_s);
  const char **tv = NULL;
  size_t tn = 0;
  if (str_array(topics, &tv, &tn) < 0) return NULL;
  written w = {NULL, 0, 0, 0};
  pb_error err;
  memset(&err, 0, sizeof err);
  int st;
  const pb_run *r = ((RunObject *)run)->run;
  Py_BEGIN_ALLOW_THREADS st = pb_plots_write(r, dir, tv, tn, fmt, on_written, &w, &err);
  Py_END_ALLOW_THREADS free(tv);
  PyObject *list = written_list(&w);
  if (st != PB_OK) {
    Py_XDECREF(list);
    return raise_err(&err, st);
  }
  if (w.oom) Py_CLEAR(list);
  if (!list && !PyErr_Occurred()) PyErr_NoMemory();
  return list;
}

static const char *const chart_kinds[PB_CHART_KIND_COUNT] = {"times", "bars", "crono", "memory",
                                                             "cuda_memory"};

/* Parses a chart kind name into *kind. Returns 0, or -1 with ValueError. */
static int chart_kind(const char *name, pb_chart_kind *kind) {
  for (int k = 0; k < PB_CHART_KIND_COUNT; k++)
    if (strcmp(name, chart_kinds[k]) == 0) {
      *kind = (pb_chart_kind)k;
      return 0;
    }
  PyErr_Format(PyExc_ValueError, "porter_bench: unknown chart '%s'", name);
  return -1;
}

/* Fills recs[i] from a list of (Run, name) pairs. Returns 0, or -1 with an exception. */
static int chart_records(PyObject *pairs, const pb_record **recs) {
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(pairs); i++) {
    PyObject *p = PyList_GET_ITEM(pairs, i), *run = NULL, *name = NULL;
    if (!PyArg_ParseTuple(p, "O!U", &pbpy_RunType, &run, &name)) return -1;
    if (!(recs[i] = run_record((RunObject *)run, name))) return -1;
  }
  return 0;
}

/*
 * chart_write(kind, [(run, name)...], labels: list[str], title, file, fmt="png"):
 * one chart overlaying the records. Returns None; raises with the library's message.
 */
static PyObject *fn_chart_write(PyObject *mod, PyObject *args) {
  (void)mod;
  PyObject *pairs = NULL, *labels = NULL;
  const char *kind_s = NULL, *title = NULL, *file = NULL, *fmt_s = "png";
  if (!PyArg_ParseTuple(args, "sO!O!zs|s:chart_write", &kind_s, &PyList_Type, &pairs, &PyList_Type,
                        &labels, &title, &file, &fmt_s))
    return NULL;
  pb_chart_kind kind;
  pb_format fmt;
  if (chart_kind(kind_s, &kind) < 0) return NULL;
  if (pb_format_parse(fmt_s, &fmt) != PB_OK)
    return PyErr_Format(PyExc_ValueError, "porter_bench: unknown chart format '%s'", fmt_s);
  size_t n = (size_t)PyList_GET_SIZE(pairs), nl = 0;
  if (n == 0 || (size_t)PyList_GET_SIZE(labels) != n)
    return PyErr_Format(PyExc_ValueError, "chart_write: need one label per record");
  const pb_record **recs = calloc(n, sizeof *recs);
  const char **lv = NULL;
  if (!recs) return PyErr_NoMemory();
  if (chart_records(pairs, recs) < 0 || str_array(labels, &lv, &nl) < 0) {
    free(recs);
    return NULL;
  }
  pb_error err;
  memset(&err, 0, sizeof err);
  int st;
  Py_BEGIN_ALLOW_THREADS st = pb_chart_write(kind, recs, lv, n, title, fmt, file, &err);
  Py_END_ALLOW_THREADS free(recs);
  free(lv);
  if (st != PB_OK) return raise_err(&err, st);
  Py_RETURN_NONE;
}

/* chart_applies(kind, run, name) -> bool. */
static PyObject *fn_chart_applies(PyObject *mod, PyObject *args) {
  (void)mod;
  PyObject *run = NULL, *name = NULL;
  const char *kind_s = NULL;
  if (!PyArg_ParseTuple(args, "sO!U:chart_applies", &kind_s, &pbpy_RunType, &run, &name))
    return NULL;
  pb_chart_kind kind;
  if (chart_kind(kind_s, &kind) < 0) return NULL;
  const pb_record *r = run_record((RunObject *)run, name);
  if (!r) return NULL;
  return PyBool_FromLong(pb_chart_applies(kind, r));
}

/* stats(bytes of float64) -> dict of pb_stats (NANs skipped). */
static PyObject *fn_stats(PyObject *mod, PyObject *arg) {
  (void)mod;
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
  pb_stats s;
  int st = pb_stats_compute(view.buf, (size_t)view.len / sizeof(double), &s);
  PyBuffer_Release(&view);
  if (st != PB_OK) return pbpy_raise(st, NULL);
  return Py_BuildValue("{snsdsdsdsdsdsdsdsd}", "count", (Py_ssize_t)s.count, "mean", s.mean, "min",
                       s.min, "max", s.max, "quantile_filtered", s.quantile_filtered, "median",
                       s.median, "p90", s.p90, "p99", s.p99, "stddev", s.stddev);
}

PyMethodDef pbpy_run_functions[] = {
    {"load_run", fn_load_run, METH_VARARGS, "load_run(path, latest=True) -> Run"},
    {"resolve", fn_resolve, METH_VARARGS, "resolve(path, latest=True) -> run folder"},
    {"plots_write", fn_plots_write, METH_VARARGS, "plots_write(run, dir, topics, fmt='png')"},
    {"chart_write", fn_chart_write, METH_VARARGS,
     "chart_write(kind, [(run, name)], labels, title, file, fmt='png')"},
    {"chart_applies", fn_chart_applies, METH_VARARGS, "chart_applies(kind, run, name)"},
    {"stats", fn_stats, METH_O, "stats(float64 buffer) -> the analysis library's statistics"},
    {NULL, NULL, 0, NULL}};
