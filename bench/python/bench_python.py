#!/usr/bin/python3
"""Overhead of the porter_bench Python module (docs/BENCHMARKS.md, "Python module").

Run with the Python the module is installed in (make python):
    .venv/bin/python bench/python/bench_python.py [--quick]

Prints, for each call, the best of several repetitions in ns of CPU time per
call, both as measured (loop included) and net of an empty loop of the same
length, with the issue's target and the original's figure. load_record is timed against the
original's method (json.load, then pandas DataFrames built row by row from the
parsed lists), re-implemented here because the original is not installed.
"""

import argparse
import os
import sys
import tempfile
import time

import porter_bench
from porter_bench import Benchmarker, GlobalBenchmarker
from porter_bench.utils import load_record

from original_load import original_way

REPEATS = 5


def best_ns(fn, n):
    """The best of REPEATS runs of fn(n), in ns per iteration of the thread's CPU time.

    CPU time (time.thread_time_ns), not wall time: on a shared machine the wall
    clock also counts the time other processes held the core.
    """
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.thread_time_ns()
        fn(n)
        best = min(best, (time.thread_time_ns() - t0) / n)
    return best


def empty_loop(n):
    for _ in range(n):
        pass


def row(label, gross, loop, target, original):
    print(f"{label:<34} {gross:9.1f} {gross - loop:9.1f}   {target:<10} {original}")


def bench_calls(folder, n):
    b = Benchmarker(os.path.join(folder, "calls"))
    b.gstep()
    g = GlobalBenchmarker()
    g.set_default_path(folder)
    g["train"].gstep()

    def step_x(k):
        for _ in range(k):
            b.step("x")

    def dict_step(k):
        for _ in range(k):
            g["train"].step("x")

    def gstep_gstop(k):
        for _ in range(k):
            b.gstep()
            b.gstop()

    def step_extra(k):
        for i in range(k):
            b.step("x", time_extra={"i": i})

    loop = best_ns(empty_loop, n)
    print(f"{'call (CPU time per call)':<34} {'ns gross':>9} {'ns net':>9}   {'target':<10} original")
    print(f"{'empty loop (subtracted)':<34} {loop:9.1f}")
    row("b.step('x'), memory off", best_ns(step_x, n), loop, "<= 150", "1,408-1,681")
    row("bench_dict['train'].step('x')", best_ns(dict_step, n), loop, "-", "-")
    row("b.gstep(); b.gstop()", best_ns(gstep_gstop, n // 4), loop, "<= 400", "4,660")
    row("b.step('x', time_extra={...})", best_ns(step_extra, n // 10), loop, "-", "-")
    m = Benchmarker(os.path.join(folder, "mem"))
    m.enable_memory_tracking(per_step=True)
    m.gstep()

    def mem_step(k):
        for _ in range(k):
            m.step("x")

    row("b.step('x'), per-step memory", best_ns(mem_step, n // 100), loop, "-", "39,600")


def write_record(folder, iterations, steps):
    g = GlobalBenchmarker()
    g.set_default_path(folder)
    b = g["big"]
    topics = [f"step{k}" for k in range(steps)]
    for _ in range(iterations):
        b.gstep()
        for t in topics:
            b.step(t)
    b.gstop()
    g.save()
    return g.default_path


def materialise(rec):
    """Builds every lazy part of a load_record result (calls and memory of every name)."""
    for name in rec["calls"]:
        rec["calls"][name]
        rec["memory"][name]
    return rec


def timed(fn, repeats):
    """(best wall seconds, best process CPU seconds, last result) of repeats runs of fn."""
    wall = cpu = float("inf")
    out = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def bench_load(folder, iterations, steps):
    run_dir = write_record(folder, iterations, steps)
    size = os.path.getsize(os.path.join(run_dir, "big_STEP_DICT_DATA.json"))
    c = timed(lambda: porter_bench._core.load_run(folder, True), 3)
    lazy = timed(lambda: load_record(folder), 3)
    rec = lazy[2]
    assert len(rec["absolutes"]["big"]) == iterations
    full = timed(lambda: materialise(load_record(folder)), 3)
    orig = timed(lambda: original_way(run_dir), 1)
    assert orig[2]["absolutes"]["big"].shape == rec["absolutes"]["big"].shape
    print(f"\nload_record of {iterations:,} iterations x {steps} steps "
          f"({size / 1e6:.1f} MB data file), best of 3, wall / CPU (all threads):")

    def line(label, t):
        print(f"  {label:<44} {t[0] * 1e3:7.0f} ms / {t[1] * 1e3:7.0f} ms   "
              f"speed-up {orig[0] / t[0]:5.1f}x / {orig[1] / t[1]:5.1f}x")

    line("porter_bench load_record (target >= 10x)", lazy)
    line("  the C loader alone (pb_run_load)", c)
    line("porter_bench, calls and memory built too", full)
    print(f"  {'original method (json + pandas), once':<44} {orig[0] * 1e3:7.0f} ms / "
          f"{orig[1] * 1e3:7.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    n = 20_000 if args.quick else 1_000_000
    iterations = 2_000 if args.quick else 100_000
    print(f"porter_bench {porter_bench.__version__}, Python {sys.version.split()[0]} "
          f"({sys.executable})")
    with tempfile.TemporaryDirectory() as folder:
        bench_calls(folder, n)
        bench_load(folder, iterations, 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
