"""The public names of the original's API: imports, signatures, defaults, attributes."""

import inspect
import os
import subprocess
import sys
import time

import pytest

import porter_bench
from porter_bench import (CountDownClock, GlobalBenchmarker, TimedCounter, Timer, Benchmarker,
                          bench_dict, benchmarker, timer)


def test_package_exports_and_submodules():
    from porter_bench.basic import CountDownClock as C2, Timer as T2, get_timestamp
    from porter_bench.Benchmarker import Benchmarker as B2
    from porter_bench.GlobalBenchmarker import GlobalBenchmarker as G2, IterBench
    from porter_bench.TimeBenchmarker import TimeBenchmarker
    from porter_bench.MemoryBenchmarker import MemoryBenchmarker
    from porter_bench.utils import load_record, get_latest_record, find_clusters, filter_no_change
    from porter_bench.DataHandler import DataHandler
    from porter_bench.plot_cli import generate_plots, main
    assert (B2, G2, T2, C2) == (Benchmarker, GlobalBenchmarker, Timer, CountDownClock)
    assert all(callable(f) for f in (IterBench, TimeBenchmarker, MemoryBenchmarker, load_record,
                                     get_latest_record, find_clusters, filter_no_change,
                                     DataHandler, generate_plots, main))
    assert len(get_timestamp()) == len("12:34-26:11:2026")
    # The package attribute is the class; the module is reached through sys.modules.
    assert porter_bench.Benchmarker is Benchmarker
    assert inspect.ismodule(sys.modules["porter_bench.Benchmarker"])
    assert porter_bench.GlobalBenchmarker is GlobalBenchmarker


def test_import_time_objects():
    assert isinstance(bench_dict, GlobalBenchmarker)
    assert isinstance(benchmarker, Benchmarker)
    assert benchmarker.file == "performance_benchmark/default"
    assert benchmarker.folder == "performance_benchmark"
    assert isinstance(timer, Timer)
    assert porter_bench.TICTOC_TOGGLES is porter_bench.PORTER_BENCH_TOGGLES
    assert len(porter_bench.PORTER_BENCH_TOGGLES) == 8
    assert isinstance(porter_bench.PORTER_BENCH_CUDA_AVAILABLE, bool)
    assert porter_bench.TICTOC_CUDA_AVAILABLE == porter_bench.PORTER_BENCH_CUDA_AVAILABLE


def params(fn):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.name != "self"]


def test_signatures_and_defaults():
    E = inspect.Parameter.empty
    assert params(Benchmarker.__init__) == [("file", "performance/base"), ("save_on_gstop", 0),
                                            ("save_on_step", False)]
    assert params(Benchmarker.step) == [("topic", ""), ("memory_extra", None),
                                        ("time_extra", None)]
    assert params(Benchmarker.enable_memory_tracking) == [("per_step", False)]
    assert params(Benchmarker.set_save_on_gstop) == [("save_on_gstop", 1)]
    assert params(Benchmarker.set_save_on_step) == [("save_on_step", True)]
    for name in ("start", "gstep", "gstop", "save_data", "enable", "disable"):
        assert params(getattr(Benchmarker, name)) == []
    assert params(CountDownClock.__init__) == [("count_down_time", 10.0)]
    assert params(TimedCounter.__init__) == [("enabled", True)]
    assert params(Timer.ptoc) == [("message", None)]
    assert params(GlobalBenchmarker.generate_plots) == [("output_dir", "PLOTS"), ("topics", None),
                                                        ("show", False)]
    from porter_bench.GlobalBenchmarker import IterBench
    from porter_bench.utils import load_record
    from porter_bench.DataHandler import DataHandler
    from porter_bench.plot_cli import generate_plots
    assert params(IterBench.__init__) == [("dataloader", E), ("benchmark_handler", E),
                                          ("name", "epoch")]
    assert params(load_record) == [("record_path", E), ("only_latest", True)]
    assert params(DataHandler.__init__) == [("record_dict", E), ("record_path", "")]
    assert params(generate_plots) == [("record_path", "."), ("output_dir", "PLOTS"),
                                      ("topics", None), ("show", False), ("only_latest", True)]


def test_benchmarker_attributes(in_tmp):
    b = Benchmarker("out/run/base", save_on_gstop=3, save_on_step=True)
    assert (b.file, b.folder, b.enabled) == ("out/run/base", "out/run", True)
    assert (b.save_on_gstop, b.save_on_step) == (3, True)
    b.set_save_on_gstop()
    b.set_save_on_step(False)
    assert (b.save_on_gstop, b.save_on_step) == (1, False)
    b.disable()
    assert b.enabled is False
    b.enable()
    assert b.enabled is True
    assert not os.path.exists("out")  # the folder is made at save
    assert hasattr(b.memory_benchmaker, "enable_cuda_memory_tracking")
    assert hasattr(b.memory_benchmaker, "disable_cuda_memory_tracking")


def test_timer():
    t = Timer()
    time.sleep(0.01)
    assert t.toc() >= 0.01
    first = t.ttoc()
    assert first >= 0.01 and t.toc() < first
    t.tic()
    assert t.toc() < 0.01


def test_timer_prints(capsys):
    t = Timer()
    t.ptoc("load")
    t.pttoc("train")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["load", "train"]
    assert all(float(line.split()[1]) >= 0 for line in lines)


def test_count_down_clock():
    c = CountDownClock(0.05)
    assert not c.completed() and 0 < c.time_left() <= 0.05
    time.sleep(0.06)
    assert c.completed() and c.time_left() < 0
    c.reset()
    assert not c.completed()
    c.set_count_down(0.0)
    time.sleep(0.001)
    assert c.completed()


def test_timed_counter():
    c = TimedCounter()
    assert (c.enabled, c.counter, c.stop_time, c.stop_count) == (True, 0, None, None)
    c.start()
    for _ in range(10):
        c.count()
    time.sleep(0.01)
    c.stop()
    assert c.stop_count == 10 and c.stop_time >= 0.01
    assert c.get_frequency() == pytest.approx(10 / c.stop_time)
    c.reset()
    assert c.counter == 0
    c.disable()
    c.count()
    assert c.counter == 0 and c.get_frequency() is None
    assert TimedCounter(enabled=False).get_frequency() is None


def toggles_in_child(env):
    code = "import porter_bench as p; print(''.join('1' if t else '0' for t in p.PORTER_BENCH_TOGGLES))"
    full = {k: v for k, v in os.environ.items() if "TOGGLES" not in k}
    full.update(env)
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], env=full,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip(), out.stderr


def test_toggles_from_environment():
    # bit 0 is the rightmost digit: "00000101" turns toggles 0 and 2 on.
    assert toggles_in_child({"PORTER_BENCH_TOGGLES": "00000101"})[0] == "10100000"
    assert toggles_in_child({"TICTOC_TOGGLES": "10000000"})[0] == "00000001"
    assert toggles_in_child({})[0] == "00000000"
    bits, err = toggles_in_child({"TICTOC_TOGGLES": "12"})
    assert bits == "00000000" and "toggles" in err
