"""Python threads and fork behave as in C."""

import os
import threading

import pytest

from porter_bench import Benchmarker, GlobalBenchmarker

from conftest import files_of, read_json

THREADS = 8
STEPS = 2000


def test_threads_share_one_benchmarker(in_tmp):
    b = Benchmarker("t/base")
    b.gstep()
    barrier = threading.Barrier(THREADS)

    def work(k):
        barrier.wait()
        for _ in range(STEPS):
            b.step(f"thread{k}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.gstop()
    b.save_data()
    calls = files_of("t/base")["data"][0]["individual_calls"]
    for k in range(THREADS):
        assert len(calls[f"thread{k}"]) == STEPS
    crono = sorted(c["crono_counter"] for topic in calls.values() for c in topic)
    assert crono == list(range(len(crono)))


def test_threads_with_registry_and_saves(in_tmp, monkeypatch):
    monkeypatch.setenv("PORTER_BENCH_ROOT", str(in_tmp / "root"))
    g = GlobalBenchmarker()
    errors = []

    def work(k):
        try:
            b = g[f"worker{k % 3}"]
            for i in range(200):
                b.gstep()
                b.step("x", time_extra={"k": k, "i": i})
                if i % 50 == 0:
                    g.save()  # saves release the GIL while other threads record
            b.gstop()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    g.save()
    total = 0
    for n in range(3):
        data = read_json(os.path.join(g.default_path, f"worker{n}_STEP_DICT_DATA.json"))
        total += sum(len(d["individual_calls"].get("x", [])) for d in data)
    assert total == 6 * 200
    assert len(g) == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_fork_child_never_replaces_parent_files(in_tmp):
    b = Benchmarker("f/base")
    b.gstep()
    b.step("parent")
    pid = os.fork()
    if pid == 0:  # child: record, save, exit without running pytest's teardown
        code = 0
        try:
            b.step("child")
            b.gstop()
            b.save_data()
        except BaseException:  # noqa: BLE001 - the exit code reports it
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    b.gstop()
    b.save_data()
    parent = files_of("f/base")["data"][0]["absolutes"]
    assert "parent" in parent and "child" not in parent
    child_file = f"f/base.fork-{pid}_STEP_DICT_DATA.json"
    child = read_json(child_file)[0]["absolutes"]
    assert "parent" in child and "child" in child
