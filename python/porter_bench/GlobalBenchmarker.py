"""``porter_bench.GlobalBenchmarker``: bench_dict and IterBench over the C registry."""

import threading

from . import _core
from .Benchmarker import Benchmarker

__all__ = ["GlobalBenchmarker", "IterBench"]


class GlobalBenchmarker(dict):
    """A dict of Benchmarkers saved together in one timestamped run folder.

    ``bench_dict["name"]`` creates ``Benchmarker(f"{default_path}/{name}")`` on
    first use (the C registry: names are mapped to file names by its rule).
    It is a dict (name -> Benchmarker) so that ``bench_dict["name"]`` on the
    hot path is a plain dict lookup; ``benchmarkers`` is the dict itself.
    """

    def __init__(self):
        super().__init__()
        self._registry = _core.Registry(None)
        self._lock = threading.Lock()
        self._enabled = True

    def __missing__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"porter_bench: benchmarker names are str, not {type(name).__name__}")
        with self._lock:
            bench = dict.get(self, name)
            if bench is None:
                bench = Benchmarker.__new__(Benchmarker)
                bench._attach(self._registry, name)
                bench._setup()
                bench._in_registry = True
                dict.__setitem__(self, name, bench)
        return bench

    def __repr__(self):
        return f"GlobalBenchmarker({self.default_path!r}, {sorted(self)})"

    @property
    def benchmarkers(self):
        """name -> Benchmarker (this object itself)."""
        return self

    @property
    def default_path(self):
        """The run folder ``<root>/<timestamp>`` of benchmarkers created from now on."""
        return self._registry.run_dir()

    @property
    def enabled(self):
        """False after disable(): every benchmarker, present and future, is off."""
        return self._enabled

    @enabled.setter
    def enabled(self, value):
        if value:
            self.enable()
        else:
            self.disable()

    def set_default_path(self, path):
        """Later benchmarkers save into a new timestamped folder under path."""
        self._registry.set_default_path(str(path))

    def _added(self):
        """Benchmarkers a user put in the dict (``bench_dict[name] = Benchmarker(...)``)."""
        return [b for b in self.values() if not getattr(b, "_in_registry", False)]

    def enable(self):
        """Enables every benchmarker, and those created later."""
        self._enabled = True
        self._registry.enable()
        for b in self._added():
            b.enable()

    def disable(self):
        """Disables every benchmarker, and those created later."""
        self._enabled = False
        self._registry.disable()
        for b in self._added():
            b.disable()

    def save(self):
        """Saves every benchmarker (nothing when disabled). Raises OSError on a failure."""
        self._registry.save()
        if self._enabled:
            for b in self._added():
                b.save_data()

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
