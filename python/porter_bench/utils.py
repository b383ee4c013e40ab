"""``porter_bench.utils``: load_record and the plot helpers.

load_record is parsed by the C analysis library (simdjson, several threads for
large files) and turned into pandas objects from its flat arrays; the raw JSON
(``_raw_data``, ``_raw_memory``) is parsed with the json module only when read.
"""

import json
import os
from collections.abc import Mapping

from . import _core

__all__ = ["load_record", "get_latest_record", "find_clusters", "filter_no_change", "Record"]


class Record(dict):
    """A load_record result: a dict, plus the loaded C run (``run``) for the charts."""

    run = None


class LazyJSONFiles(Mapping):
    """name -> parsed JSON of ``<folder>/<name><suffix>``, parsed on first access."""

    def __init__(self, folder, names, suffix):
        self._files = {n: os.path.join(folder, n + suffix) for n in names}
        self._files = {n: f for n, f in self._files.items() if os.path.exists(f)}
        self._cache = {}

    def __getitem__(self, name):
        if name not in self._cache:
            with open(self._files[name], encoding="utf-8") as fh:
                self._cache[name] = json.load(fh)
        return self._cache[name]

    def __iter__(self):
        return iter(self._files)

    def __len__(self):
        return len(self._files)

    def __repr__(self):
        return f"LazyJSONFiles({sorted(self._files)})"


def _absolutes(pd, np, run, name):
    topics, cols = run.absolutes(name)
    data = {t: np.frombuffer(c, dtype=np.float64) for t, c in zip(topics, cols)}
    return pd.DataFrame(data, columns=topics)


def _infos(pd, np, run, name):
    numbers, starts, stops = run.infos(name)
    return pd.DataFrame({
        "STEP_NUMBER": np.frombuffer(numbers, dtype=np.int64),
        "START_TIME": np.frombuffer(starts, dtype=np.float64),
        "STOP_TIME": np.frombuffer(stops, dtype=np.float64),
    })


def _calls(pd, run, name):
    topics, _ = run.absolutes(name)
    cols = run.calls(name)
    return pd.DataFrame(dict(zip(topics, cols)), columns=topics)


def load_record(record_path, only_latest=True):
    """Loads a run folder: the newest under ``record_path`` (only_latest) or record_path itself.

    Returns a dict with ``summary``, ``absolutes``, ``calls``, ``infos``,
    ``memory`` (each name -> value), ``_raw_data`` and ``_raw_memory`` (name ->
    parsed JSON, read lazily). Raises FileNotFoundError when there is no run,
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
    rec["calls"] = {n: _calls(pd, run, n) for n in names}
    rec["infos"] = {n: _infos(pd, np, run, n) for n in names}
    rec["memory"] = {n: run.memory(n) for n in names}
    rec["_raw_data"] = LazyJSONFiles(folder, names, _core.SUFFIX_DATA)
    rec["_raw_memory"] = LazyJSONFiles(folder, names, _core.SUFFIX_MEMORY)
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
