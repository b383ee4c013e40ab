#!/usr/bin/python3
"""Load + summary against the original's load_record, side by side (docs/BENCHMARKS.md).

    /usr/bin/python3 bench/python/bench_load_original.py [--build build] [--before DIR]
        [--iterations 100000] [--steps 5] [--repeat 7] [--workdir /tmp/pb_bench_load]

Generates a run with the build's gen_run (100,000 iterations x 5 steps by default, the
74 MB data file of bench_analysis), then runs, interleaved, --repeat times each:

  original  the original's load_record method (original_load.py: json.load + pandas
            DataFrames) in a fresh Python process; timed inside it, around the load only
            (interpreter start-up and the pandas import are not counted);
  ours      `porter-bench summary --no-latest RUN` in a fresh process, all of it (start-up,
            load, statistics of every topic, the table), with the default threads and with
            PB_ANALYSIS_THREADS=1;
  before    the same command of another build (--before, e.g. the main branch built apart).

Prints the median and best wall and CPU time (user + system, all threads) of each, and
the ratios of the original's median to each median. Needs python3-pandas (Debian's
/usr/bin/python3 has it); the porter_bench Python module is not used.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Run in a child: the load alone is timed (wall and CPU of the process).
ORIGINAL_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import pandas  # imported before the clock starts, as a program that loads has it
from original_load import original_way
w0, c0 = time.perf_counter(), time.process_time()
out = original_way(sys.argv[2])
w1, c1 = time.perf_counter(), time.process_time()
rows = sum(len(v) for v in out["absolutes"].values())
print(json.dumps({"wall": w1 - w0, "cpu": c1 - c0, "rows": rows}))
"""


def run_original(run_dir):
    """(wall, cpu) of the original's method in a fresh interpreter."""
    p = subprocess.run([sys.executable, "-c", ORIGINAL_CHILD, HERE, run_dir],
                       check=True, capture_output=True, text=True)
    r = json.loads(p.stdout)
    return r["wall"], r["cpu"], r["rows"]


def run_cli(cli, run_dir, threads=None):
    """(wall, cpu) of one cold `porter-bench summary` process (CPU from wait4's rusage)."""
    env = dict(os.environ)
    env.pop("PB_ANALYSIS_THREADS", None)
    if threads:
        env["PB_ANALYSIS_THREADS"] = str(threads)
    w0 = time.perf_counter()
    p = subprocess.Popen([cli, "summary", "--no-latest", run_dir], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - w0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read()
    p.stderr.close()
    if p.returncode != 0:
        sys.exit(f"{cli} failed ({p.returncode}): {err.decode(errors='replace')}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def generate(build, run_dir, iterations, steps):
    data = os.path.join(run_dir, "bench_STEP_DICT_DATA.json")
    if os.path.exists(data):
        return data
    os.makedirs(run_dir, exist_ok=True)
    gen = os.path.join(build, "bench", "analysis", "gen_run")
    subprocess.run([gen, run_dir, str(iterations), str(steps)], check=True)
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="build tree (porter-bench, gen_run)")
    ap.add_argument("--before", help="another build tree whose porter-bench runs alongside")
    ap.add_argument("--iterations", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--workdir", default="/tmp/pb_bench_load")
    args = ap.parse_args()

    run_dir = os.path.join(args.workdir, f"run_{args.iterations}x{args.steps}")
    data = generate(args.build, run_dir, args.iterations, args.steps)
    cases = [("original: json.load + pandas (load_record)", lambda: run_original(run_dir))]
    cli = os.path.join(args.build, "src", "cli", "porter-bench")
    cases.append(("ours: porter-bench summary, default threads", lambda: run_cli(cli, run_dir)))
    cases.append(("ours: porter-bench summary, 1 thread", lambda: run_cli(cli, run_dir, 1)))
    if args.before:
        old = os.path.join(args.before, "src", "cli", "porter-bench")
        cases.append(("before: porter-bench summary, default threads",
                      lambda: run_cli(old, run_dir)))
        cases.append(("before: porter-bench summary, 1 thread", lambda: run_cli(old, run_dir, 1)))

    load0 = os.getloadavg()
    print(f"run: {run_dir} ({args.iterations:,} x {args.steps}, data file "
          f"{os.path.getsize(data) / 1e6:.1f} MB); {args.repeat} rounds, cases interleaved; "
          f"load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"{os.cpu_count()} CPUs")
    times = {name: [] for name, _ in cases}
    extra = {name: [] for name, _ in cases}
    for rnd in range(args.repeat + 1):
        for name, fn in cases:
            wall, cpu, x = fn()
            if rnd > 0:  # the first round warms the page cache and the interpreters
                times[name].append((wall, cpu))
                extra[name].append(x)
    load1 = os.getloadavg()

    orig = times[cases[0][0]]
    ow = statistics.median(t[0] for t in orig)
    oc = statistics.median(t[1] for t in orig)
    print(f"{'case':<48} {'wall med':>9} {'best':>7} {'CPU med':>9} {'best':>7}"
          f"   ratio wall / CPU (original median / median)")
    for name, _ in cases:
        w = [t[0] for t in times[name]]
        c = [t[1] for t in times[name]]
        mw, mc = statistics.median(w), statistics.median(c)
        print(f"{name:<48} {mw:8.3f}s {min(w):6.3f}s {mc:8.3f}s {min(c):6.3f}s"
              f"   {ow / mw:6.1f}x / {oc / mc:5.1f}x")
    for name, _ in cases[1:]:
        print(f"  max RSS, {name}: {statistics.median(extra[name]) / 1024:.0f} MB")
    print(f"load average at the end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
