"""load_record, DataHandler and the plot command against records parsed with json + pandas."""

import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from porter_bench import Benchmarker, GlobalBenchmarker
from porter_bench.DataHandler import DataHandler
from porter_bench.plot_cli import generate_plots, main
from porter_bench.utils import (filter_no_change, find_clusters, get_latest_record, load_record)

from conftest import FIXTURES, read_json

DEMO = os.path.join(FIXTURES, "demo_root")


def original_frames(folder, name):
    """The original's structure built the original's way: json, then pandas row by row."""
    data = read_json(os.path.join(folder, name + "_STEP_DICT_DATA.json"))
    absolutes = pd.DataFrame([d["absolutes"] for d in data])
    infos = pd.DataFrame([d["info"] for d in data])
    calls = pd.DataFrame([d["individual_calls"] for d in data])
    return data, absolutes, infos, calls


def write_run(root, n=20, memory=True):
    g = GlobalBenchmarker()
    g.set_default_path(str(root))
    b = g["train"]
    if memory:
        b.enable_memory_tracking(per_step=True)
    for i in range(n):
        b.gstep()
        b.step("forward")
        if i % 3 == 0:
            b.step("rare")
        b.step("backward")
        b.step("backward")
    b.gstop()
    g["eval"].gstep()
    g["eval"].step("score")
    g["eval"].gstop()
    g.save()
    return g.default_path


def assert_calls_equal(ours, theirs):
    assert list(ours.columns) == list(theirs.columns)
    for col in theirs.columns:
        for a, b in zip(ours[col], theirs[col]):
            if isinstance(b, float):
                assert isinstance(a, float) and math.isnan(a)
            else:
                assert a == b


def test_matches_json_and_pandas(in_tmp):
    folder = write_run(in_tmp / "root")
    rec = load_record(str(in_tmp / "root"))
    assert set(rec) >= {"summary", "absolutes", "calls", "infos", "memory", "_raw_data",
                        "_raw_memory"}
    assert sorted(rec["absolutes"]) == ["eval", "train"]
    data, absolutes, infos, calls = original_frames(folder, "train")
    pd.testing.assert_frame_equal(rec["absolutes"]["train"], absolutes)
    assert rec["absolutes"]["train"]["rare"].isna().sum() == 13
    pd.testing.assert_frame_equal(rec["infos"]["train"], infos)
    assert_calls_equal(rec["calls"]["train"], calls)
    assert rec["summary"]["train"] == read_json(os.path.join(folder, "train_STEP_DICT_SUMMARY.json"))
    memory = read_json(os.path.join(folder, "train_MEMORY.json"))
    assert rec["memory"]["train"] == [m["data"] for m in memory]
    assert rec["_raw_data"]["train"] == data
    assert rec["_raw_memory"]["train"] == memory
    assert rec["diagnostics"] == []


def test_only_latest_and_explicit_folder(in_tmp):
    rec = load_record(DEMO)  # the newest of the run folders: ours, UTC, with the "-1" suffix
    assert list(rec["absolutes"]) == ["demo"]
    latest = get_latest_record(DEMO)
    assert latest.endswith("2026-11-26T07-15-42.123456Z-1")
    older = os.path.join(DEMO, "TICTOC_PERFORMANCE", "06:13-26:11:2026")
    rec2 = load_record(older, only_latest=False)
    data, absolutes, infos, calls = original_frames(older, "training")
    pd.testing.assert_frame_equal(rec2["absolutes"]["training"], absolutes)
    pd.testing.assert_frame_equal(rec2["infos"]["training"], infos)
    assert_calls_equal(rec2["calls"]["training"], calls)
    mem_folder = latest
    memory = read_json(os.path.join(mem_folder, "demo_MEMORY.json"))
    ours = rec["memory"]["demo"]
    assert len(ours) > 0
    theirs = [m["data"] for m in memory]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert list(a) == list(b)
        for topic in b:
            for x, y in zip(a[topic], b[topic]):
                for key in ("total memory usage", "max memory usage", "crono_counter",
                            "top_memory_objects", "extra"):
                    assert x[key] == y[key], key
                # The loader keeps the six numbers of "cuda memory usage" (not "devices").
                cuda = y["cuda memory usage"]
                assert x["cuda memory usage"] == (cuda and {k: cuda[k] for k in x["cuda memory usage"]})
                assert cuda is None or len(x["cuda memory usage"]) == 6


def test_missing_run_raises(in_tmp):
    with pytest.raises(FileNotFoundError):
        load_record(str(in_tmp / "nothing here"))


def test_broken_file_is_a_diagnostic(in_tmp):
    rec = load_record(os.path.join(FIXTURES, "bad_run"), only_latest=False)
    assert any("broken_STEP_DICT_DATA.json" in d for d in rec["diagnostics"])
    assert len(rec["absolutes"]["training"]) > 0


def test_data_handler_and_plots(in_tmp):
    write_run(in_tmp / "a")
    write_run(in_tmp / "b")
    runs = {"first": load_record(str(in_tmp / "a")), "second": load_record(str(in_tmp / "b"))}
    h = DataHandler(runs, str(in_tmp))
    files = [h.plot_times("train"), h.make_bars("train", filter_val=0.1), h.plot_crono("train"),
             h.plot_memory_usage("train")]
    assert [os.path.basename(f) for f in files] == ["train_times.png", "train_bars.png",
                                                    "train_crono.png", "train_memory.png"]
    for f in files:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError):
        h.plot_cuda_memory("train")  # no GPU values recorded
    files = generate_plots(str(in_tmp / "a"), str(in_tmp / "charts"), topics=["eval"])
    assert sorted(os.path.basename(f) for f in files) == ["eval_bars.png", "eval_crono.png",
                                                          "eval_times.png"]


def test_console_command(in_tmp):
    write_run(in_tmp / "root")
    exe = os.path.join(os.path.dirname(sys.executable), "porter-bench-plots")
    if not os.path.exists(exe):
        pytest.skip("porter-bench-plots not installed next to this Python")
    out = subprocess.run([exe, "--path", str(in_tmp / "root"), "--output", "P", "--topics",
                          "train"], capture_output=True, text=True, check=True)
    assert sorted(os.listdir("P")) == ["train_bars.png", "train_crono.png", "train_memory.png",
                                       "train_times.png"]
    assert len(out.stdout.splitlines()) == 4
    assert main(["--path", str(in_tmp / "none")]) == 1


def test_plot_helpers():
    assert find_clusters([1.0, 1.1, 5.0, 5.2, 9.0], 0.5) == [[1.0, 1.1], [5.0, 5.2], [9.0]]
    frame = pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]})
    assert list(filter_no_change(frame).columns) == ["b"]


def test_cli_reads_python_records(in_tmp):
    from conftest import REPO
    clis = [os.path.join(REPO, d, "src", "cli", "porter-bench") for d in ("build", "build-python")]
    cli = next((c for c in clis if os.access(c, os.X_OK)), None)
    if cli is None:
        pytest.skip("the porter-bench CLI is not built (make build)")
    write_run(in_tmp / "root")
    out = subprocess.run([cli, "summary", str(in_tmp / "root")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "train: 20 iterations" in out.stdout and "eval: 1 iteration" in out.stdout
    counts = {w[0]: w[1] for w in (line.split() for line in out.stdout.splitlines()) if len(w) > 2}
    assert (counts["forward"], counts["rare"], counts["backward"]) == ("20", "7", "20")


def test_frames_are_writable(in_tmp):
    write_run(in_tmp / "root", n=3)
    rec = load_record(str(in_tmp / "root"))
    frame = rec["absolutes"]["train"]
    frame.iloc[0, 0] = 1.5  # a user may edit the frames, as the original's
    assert frame.iloc[0, 0] == 1.5
    assert frame.shape == (3, len(rec["calls"]["train"].columns))
