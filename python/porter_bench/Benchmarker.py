"""``porter_bench.Benchmarker``: the original's Benchmarker over the C library.

Every recording call (step, gstep, gstop, start, save_data) is a method of the C
base class ``porter_bench._core.Bench``: a step with a str topic costs one C call.
"""

import os

from . import _core
from .MemoryBenchmarker import MemoryBenchmarker
from .TimeBenchmarker import TimeBenchmarker

__all__ = ["Benchmarker"]


class Benchmarker(_core.Bench):
    """Iterations of named, timed steps (and memory), saved as the original's JSON files.

    ``Benchmarker(file)`` writes ``<file>_STEP_DICT_DATA.json``,
    ``<file>_STEP_DICT_SUMMARY.json`` and ``<file>_MEMORY.json``; the folder is
    made at the first save. Methods (from the C base): ``step(topic="",
    memory_extra=None, time_extra=None)``, ``gstep()``, ``gstop()``, ``start()``,
    ``save_data()``, ``enable()``, ``disable()``,
    ``enable_memory_tracking(per_step=False)``, ``set_save_on_gstop(n=1)``,
    ``set_save_on_step(on=True)``, ``set_cuda_sync(on=True)``, ``stats()``.
    """

    def __init__(self, file="performance/base", save_on_gstop=0, save_on_step=False):
        super().__init__(file)
        self._setup()
        if save_on_gstop:
            self.set_save_on_gstop(save_on_gstop)
        if save_on_step:
            self.set_save_on_step(save_on_step)

    def _setup(self):
        """The Python parts of a Benchmarker, also for those a registry makes."""
        self.memory_benchmaker = MemoryBenchmarker(self)
        self.time_benchmarker = TimeBenchmarker(self)

    @property
    def file(self):
        """The path prefix of the record files."""
        return self._path

    @property
    def folder(self):
        """The folder of the record files."""
        return os.path.dirname(self._path)

    def __repr__(self):
        return f"Benchmarker({self._path!r})"
