"""``porter_bench.GlobalBenchmarker``: bench_dict and IterBench over the C registry."""

import threading

from . import _core
from .Benchmarker import Benchmarker

__all__ = ["GlobalBenchmarker", "IterBench"]


class GlobalBenchmarker:
    """A dict of Benchmarkers saved together in one timestamped run folder.

    ``bench_dict["name"]`` creates ``Benchmarker(f"{default_path}/{name}")`` on
    first use (the C registry: names are mapped to file names by its rule).
    """

    def __init__(self):
        self._registry = _core.Registry(None)
        self._lock = threading.Lock()
        self.benchmarkers = {}

    def __getitem__(self, name):
        try:
            return self.benchmarkers[name]
        except KeyError:
            return self._create(name)

    def _create(self, name):
        if not isinstance(name, str):
            raise TypeError(f"porter_bench: benchmarker names are str, not {type(name).__name__}")
        with self._lock:
            bench = self.benchmarkers.get(name)
            if bench is None:
                bench = Benchmarker.__new__(Benchmarker)
                bench._attach(self._registry, name)
                bench._setup()
                self.benchmarkers[name] = bench
        return bench

    def __contains__(self, name):
        return name in self.benchmarkers

    def __len__(self):
        return len(self.benchmarkers)

    @property
    def default_path(self):
        """The run folder ``<root>/<timestamp>`` of benchmarkers created from now on."""
        return self._registry.run_dir()

    @property
    def enabled(self):
        """False after disable(): every benchmarker, present and future, is off."""
        return getattr(self, "_enabled", True)

    @enabled.setter
    def enabled(self, value):
        if value:
            self.enable()
        else:
            self.disable()

    def set_default_path(self, path):
        """Later benchmarkers save into a new timestamped folder under path."""
        self._registry.set_default_path(str(path))

    def enable(self):
        """Enables every benchmarker, and those created later."""
        self._enabled = True
        self._registry.enable()

    def disable(self):
        """Disables every benchmarker, and those created later."""
        self._enabled = False
        self._registry.disable()

    def save(self):
        """Saves every benchmarker (nothing when disabled). Raises OSError on a failure."""
        self._registry.save()

    def generate_plots(self, output_dir="PLOTS", topics=None, show=False):
        """Charts of this registry's run folder into output_dir; returns the files.

        show is accepted for compatibility: charts are files, nothing is displayed.
        """
        del show
        run = _core.load_run(self.default_path, False)
        return _core.plots_write(run, str(output_dir), _topic_list(topics))


def _topic_list(topics):
    if topics is None:
        return None
    if isinstance(topics, str):
        return [topics]
    return [str(t) for t in topics]


class IterBench:
    """Wraps an iterable: each ``next`` calls ``bench_handle[name].gstep()``, the end ``gstop()``."""

    def __init__(self, dataloader, benchmark_handler, name="epoch"):
        self.dataloader = dataloader
        self.benchmark_handler = benchmark_handler
        self.name = name
        self._iter = None
        self._bench = None

    def __len__(self):
        return len(self.dataloader)

    def __iter__(self):
        self._iter = iter(self.dataloader)
        self._bench = self.benchmark_handler[self.name]
        return self

    def __next__(self):
        if self._iter is None:
            self.__iter__()
        try:
            item = next(self._iter)
        except StopIteration:
            self._bench.gstop()
            raise
        self._bench.gstep()
        return item
