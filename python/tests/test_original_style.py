"""A script written for the original runs unchanged, and its records are the original's."""

import os
import subprocess
import sys

from porter_bench.utils import load_record

HERE = os.path.dirname(os.path.abspath(__file__))


def run_script(name, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PORTER_BENCH_ROOT"}
    return subprocess.run([sys.executable, os.path.join(HERE, "scripts", name)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_original_style_script(in_tmp):
    out = run_script("original_style.py", in_tmp)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["iterations"] == "24"
    topics = lines["topics"].split(",")
    assert [t for t in topics if t in ("forward", "backward", "update")] == ["forward", "backward", "update"]
    assert "gstep_memory" in topics and "GLOBAL" in topics
    assert float(lines["mean_forward"]) > 0
    assert int(lines["memory_records"]) == 24
    rec = load_record(str(in_tmp))
    losses = [call[0]["extra"]["loss"] for call in rec["_raw_data"]["train"]
              for call in [call["individual_calls"]["backward"]]]
    assert len(losses) == 24 and losses[-1] < losses[0]
    assert rec["_raw_data"]["eval"][1]["individual_calls"]["validate"][0]["extra"] == [1, "done"]
    charts = sorted(os.listdir(in_tmp / "PLOTS"))
    assert "train_times.png" in charts and "train_memory.png" in charts and "eval_bars.png" in charts
