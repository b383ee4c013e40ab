"""porter_bench: per-step time and memory benchmarking, the original's API over a C core.

``from porter_bench import bench_dict, benchmarker, timer`` gives the three
objects the original makes at import. See docs/PYTHON.md.
"""

import os
import warnings

from . import _core
from .basic import CountDownClock, TimedCounter, Timer
from .Benchmarker import Benchmarker
from .GlobalBenchmarker import GlobalBenchmarker, IterBench
from . import DataHandler as _data_handler_module  # noqa: F401  (submodule import)
from . import plot_cli, utils  # noqa: F401

__version__ = _core.version()

__all__ = [
    "Timer", "CountDownClock", "TimedCounter", "Benchmarker", "GlobalBenchmarker", "IterBench",
    "bench_dict", "benchmarker", "timer", "PORTER_BENCH_TOGGLES", "TICTOC_TOGGLES",
    "PORTER_BENCH_CUDA_AVAILABLE", "TICTOC_CUDA_AVAILABLE",
]


def _read_toggles():
    """8 bools from $PORTER_BENCH_TOGGLES (or $TICTOC_TOGGLES); bit 0 is the rightmost digit."""
    name = "PORTER_BENCH_TOGGLES" if "PORTER_BENCH_TOGGLES" in os.environ else "TICTOC_TOGGLES"
    text = os.environ.get(name, "00000000")
    try:
        mask = _core.parse_toggles(text)
    except ValueError as exc:
        warnings.warn(f"{name}: {exc}; all toggles off", RuntimeWarning, stacklevel=2)
        mask = 0
    return [bool(mask >> i & 1) for i in range(8)]


PORTER_BENCH_TOGGLES = _read_toggles()
TICTOC_TOGGLES = PORTER_BENCH_TOGGLES
PORTER_BENCH_CUDA_AVAILABLE = _core.cuda_available()
TICTOC_CUDA_AVAILABLE = PORTER_BENCH_CUDA_AVAILABLE

bench_dict = GlobalBenchmarker()
benchmarker = Benchmarker("performance_benchmark/default")
timer = Timer()
