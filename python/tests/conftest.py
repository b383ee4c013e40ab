"""Shared fixtures of the porter_bench Python tests: every test runs in its own folder."""

import json
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "analysis", "fixtures")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Runs the test in tmp_path with PORTER_BENCH_ROOT unset (records stay in tmp_path)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORTER_BENCH_ROOT", raising=False)
    return tmp_path


def read_json(path):
    """Parses one record file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def files_of(prefix):
    """The three record files of a benchmarker path prefix, parsed (memory may be absent)."""
    out = {}
    for key, suffix in (("data", "_STEP_DICT_DATA.json"), ("summary", "_STEP_DICT_SUMMARY.json"),
                        ("memory", "_MEMORY.json")):
        path = str(prefix) + suffix
        out[key] = read_json(path) if os.path.exists(path) else None
    return out
