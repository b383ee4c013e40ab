"""``porter_bench.utils``: load_record and the plot helpers.

load_record is parsed by the C analysis library (simdjson, several threads for
large files) and turned into pandas objects from its flat arrays; the raw JSON
(``_raw_data``, ``_raw_memory``) is parsed with the json module only when read.
"""

import json
import os
from collections.abc import Mapping

from . import _core

__all__ = ["load_record", "get_latest_record", "find_clusters", "filter_no_change", "Record",
           "LazyMap"]


class Record(dict):
    """A load_record result: a dict, plus the loaded C run (``run``) for the charts."""

    run = None


class LazyMap(Mapping):
    """name -> value, each built by ``build(name)`` on first access and then kept.

    load_record's ``calls``, ``memory``, ``_raw_data`` and ``_raw_memory`` are
    LazyMaps: their Python objects (one dict per call or memory record, or the
    json module's parse of a file) cost more than the C load itself, so they
    are made only for the names read.
    """

    def __init__(self, names, build):
        self._names = list(names)
        self._build = build
        self._cache = {}

    def __getitem__(self, name):
        if name not in self._cache:
            if name not in self._names:
                raise KeyError(name)
            self._cache[name] = self._build(name)
        return self._cache[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)

    def __repr__(self):
        return f"LazyMap({self._names})"


def _json_files(folder, names, suffix):
    """LazyMap of the json module's parse of ``<folder>/<name><suffix>`` (existing files)."""
    files = {n: os.path.join(folder, n + suffix) for n in names}
    files = {n: f for n, f in files.items() if os.path.exists(f)}

    def parse(name):
        with open(files[name], encoding="utf-8") as fh:
            return json.load(fh)

    return LazyMap(files, parse)


def _absolutes(pd, np, run, name):
    topics, matrix = run.absolutes(name)
    values = np.frombuffer(matrix, dtype=np.float64).reshape(-1, len(topics)) if topics \
        else np.empty((0, 0))
    return pd.DataFrame(values, columns=topics, copy=False)


def _infos(pd, np, run, name):
    numbers, starts, stops = run.infos(name)
    return pd.DataFrame({
        "STEP_NUMBER": np.frombuffer(numbers, dtype=np.int64),
        "START_TIME": np.frombuffer(starts, dtype=np.float64),
        "STOP_TIME": np.frombuffer(stops, dtype=np.float64),
    })


def _calls(pd, np, run, name):
    topics = run.topics(name)
    # fromiter keeps each cell's list whole (np.array would nest it).
    cols = [np.fromiter(c, dtype=object, count=len(c)) for c in run.calls(name)]
    return pd.DataFrame(dict(zip(topics, cols)), columns=topics, copy=False)


def load_record(record_path, only_latest=True):
    """Loads a run folder: the newest under ``record_path`` (only_latest) or record_path itself.

    Returns a dict with ``summary``, ``absolutes``, ``calls``, ``infos``,
    ``memory`` (each name -> value), ``_raw_data`` and ``_raw_memory`` (name ->
    parsed JSON); ``calls``, ``memory`` and the raw ones are LazyMaps, built per
    name on first access. ``diagnostics`` lists files that failed to parse. Raises FileNotFoundError when there is no run,
    ValueError/OSError with the loader's message when nothing could be read.
    """
    import numpy as np
    import pandas as pd

    run = _core.load_run(os.fspath(record_path), bool(only_latest))
    names = run.names()
    folder = run.path()
    rec = Record()
    rec.run = run
    rec["summary"] = {n: run.summary(n) for n in names}
    rec["absolutes"] = {n: _absolutes(pd, np, run, n) for n in names}
    rec["calls"] = LazyMap(names, lambda n: _calls(pd, np, run, n))
    rec["infos"] = {n: _infos(pd, np, run, n) for n in names}
    rec["memory"] = LazyMap(names, run.memory)
    rec["_raw_data"] = _json_files(folder, names, _core.SUFFIX_DATA)
    rec["_raw_memory"] = _json_files(folder, names, _core.SUFFIX_MEMORY)
    rec["diagnostics"] = run.diagnostics()
    return rec


def get_latest_record(path):
    """The newest run folder under path (as load_record finds it)."""
    return _core.resolve(os.fspath(path), True)


def find_clusters(values, threshold):
    """Groups sorted values into clusters whose neighbours are at most threshold apart.

    Returns a list of lists (the values of each cluster, ascending).
    """
    clusters = []
    for v in sorted(values):
        if clusters and v - clusters[-1][-1] <= threshold:
            clusters[-1].append(v)
        else:
            clusters.append([v])
    return clusters


def filter_no_change(frame):
    """The columns of a DataFrame whose values change (constant columns dropped)."""
    keep = [c for c in frame.columns if frame[c].nunique(dropna=False) > 1]
    return frame[keep]
