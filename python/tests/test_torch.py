"""A real PyTorch (CPU) training loop with IterBench: records checked and charted."""

import importlib.util
import os

import pytest

from test_original_style import run_script
from porter_bench.utils import load_record

# Checked without importing torch here: the loop runs in its own process.
if importlib.util.find_spec("torch") is None:
    pytest.skip("torch is not installed (Debian: python3-torch)", allow_module_level=True)


def test_torch_training_loop(in_tmp):
    out = run_script("torch_training.py", in_tmp)
    assert out.returncode == 0, out.stderr
    rec = load_record(str(in_tmp))
    absolutes = rec["absolutes"]["train"]
    assert len(absolutes) == 3 * 8  # 3 epochs of 256 / 32 batches
    for topic in ("forward", "backward", "update", "GLOBAL"):
        assert (absolutes[topic] > 0).all(), topic
    assert (absolutes["GLOBAL"] >= absolutes["forward"] + absolutes["backward"]).all()
    losses = [it["individual_calls"]["backward"][0]["extra"] for it in rec["_raw_data"]["train"]]
    assert [entry["epoch"] for entry in losses] == [e for e in range(3) for _ in range(8)]
    first = sum(entry["loss"] for entry in losses[:8])
    last = sum(entry["loss"] for entry in losses[-8:])
    assert last < first  # it trained
    assert len(rec["memory"]["train"]) == 24
    assert all(m["gstep"][0]["total memory usage"] > 10_000_000 for m in rec["memory"]["train"])
    charts = sorted(os.listdir(in_tmp / "PLOTS"))
    assert charts == ["train_bars.png", "train_crono.png", "train_memory.png", "train_times.png"]
