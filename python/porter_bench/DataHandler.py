"""``porter_bench.DataHandler``: charts of one or several loaded runs, drawn by the C library.

Where the original drew with matplotlib and showed the figure, these methods
write a PNG file (``<output_dir>/<name>_<chart>.png``) and return its path.
"""

import os

from . import _core

__all__ = ["DataHandler"]


class DataHandler:
    """Charts of runs: record_dict maps a run label to a ``load_record`` result."""

    def __init__(self, record_dict, record_path=""):
        self.record_dict = record_dict
        self.record_path = record_path
        self.output_dir = os.path.join(record_path, "PLOTS") if record_path else "PLOTS"

    def _chart(self, kind, name, suffix=None):
        pairs, labels = [], []
        for label, rec in self.record_dict.items():
            run = getattr(rec, "run", None)
            if run is None:
                raise TypeError("porter_bench: DataHandler needs records from load_record")
            if name in run.names() and _core.chart_applies(kind, run, name):
                pairs.append((run, name))
                labels.append(str(label))
        if not pairs:
            raise KeyError(f"porter_bench: no run has a '{kind}' chart for '{name}'")
        os.makedirs(self.output_dir, exist_ok=True)
        file = os.path.join(self.output_dir, f"{name}_{suffix or kind}.png")
        _core.chart_write(kind, pairs, labels, name, file)
        return file

    def plot_times(self, name):
        """Each topic's time per iteration; returns the PNG's path."""
        return self._chart("times", name)

    def make_bars(self, name, filter_val=None):
        """Mean and quantile-filtered mean per topic; returns the PNG's path.

        filter_val is accepted for compatibility and not used: the C chart
        always shows every topic (probe topics hidden).
        """
        del filter_val
        return self._chart("bars", name)

    def plot_crono(self, name):
        """Each call in call order; returns the PNG's path."""
        return self._chart("crono", name)

    def plot_memory_usage(self, name):
        """RSS, peak and heap over the memory records; returns the PNG's path."""
        return self._chart("memory", name)

    def plot_cuda_memory(self, name):
        """GPU memory over the memory records; returns the PNG's path."""
        return self._chart("cuda_memory", name)
