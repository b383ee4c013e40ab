"""Records written from Python, read back from the files with the json module."""

import os

import pytest

from porter_bench import Benchmarker, GlobalBenchmarker
from porter_bench.GlobalBenchmarker import IterBench

from conftest import files_of, read_json


def test_steps_read_back(in_tmp):
    b = Benchmarker("perf/base")
    for _ in range(3):
        b.gstep()
        b.step("load")
        b.step("compute")
        b.step("compute")
    b.gstop()
    b.save_data()
    f = files_of("perf/base")
    data = f["data"]
    assert len(data) == 3
    for i, it in enumerate(data):
        assert it["info"]["STEP_NUMBER"] == i
        assert it["info"]["STOP_TIME"] >= it["info"]["START_TIME"] > 1.7e9
        assert list(it["absolutes"]) == ["load", "compute", "gstop", "GLOBAL"]
        calls = it["individual_calls"]
        assert [c["crono_counter"] for c in calls["compute"]] == [1, 2]
        assert it["absolutes"]["compute"] == pytest.approx(sum(c["time"] for c in calls["compute"]))
        assert calls["GLOBAL"][0]["crono_counter"] == 4
    assert set(f["summary"]) == {"load", "compute", "gstop", "GLOBAL"}
    assert set(f["summary"]["load"]) == {"mean", "min", "max", "quantile_filtered"}
    assert f["summary"]["load"]["min"] <= f["summary"]["load"]["mean"] <= f["summary"]["load"]["max"]


def test_start_step_keyword_and_default_topic(in_tmp):
    b = Benchmarker("k/base")
    b.start()
    b.step(topic="named")
    b.step()
    b.gstop()
    b.save_data()
    absolutes = files_of("k/base")["data"][0]["absolutes"]
    assert "named" in absolutes and "" in absolutes


EXTRAS = [{"loss": 0.5, "lr": [1e-3, 2]}, [1, "two", None, True], "text", 7, 2.5, False,
          {"nested": {"a": [{"b": None}]}}]


@pytest.mark.parametrize("extra", EXTRAS)
def test_extras_any_json_value(in_tmp, extra):
    b = Benchmarker("x/base")
    b.enable_memory_tracking(per_step=True)
    b.gstep()
    b.step("s", time_extra=extra, memory_extra={"m": extra})
    b.step("t", {"mem": 1}, extra)  # positional: memory_extra, time_extra
    b.gstop()
    b.save_data()
    f = files_of("x/base")
    calls = f["data"][0]["individual_calls"]
    assert calls["s"][0]["extra"] == extra
    assert calls["t"][0]["extra"] == extra
    mem = f["memory"][0]["data"]
    assert mem["s"][0]["extra"] == {"m": extra}
    assert mem["t"][0]["extra"] == {"mem": 1}


def test_invalid_extra_raises_and_keeps_the_step(in_tmp):
    b = Benchmarker("bad/base")
    b.gstep()
    with pytest.raises(TypeError):
        b.step("s", time_extra={"x": object()})
    with pytest.raises(ValueError):
        b.step("n", time_extra=_circular())  # json.dumps: circular reference
    b.gstop()
    b.save_data()
    calls = files_of("bad/base")["data"][0]["individual_calls"]
    assert calls["s"][0]["extra"] is None
    assert calls["n"][0]["extra"] is None


def _circular():
    d = {}
    d["self"] = d
    return d


def test_memory_tracking(in_tmp):
    b = Benchmarker("m/base")
    b.enable_memory_tracking()
    b.gstep()
    b.step("a")
    b.gstop()
    b.enable_memory_tracking(per_step=True)
    b.gstep()
    b.step("a")
    b.gstop()
    b.save_data()
    f = files_of("m/base")
    assert [sorted(m["data"]) for m in f["memory"]] == [["gstep", "gstop"], ["a", "gstep", "gstop"]]
    rec = f["memory"][1]["data"]["a"][0]
    assert rec["total memory usage"] > 1_000_000
    assert rec["max memory usage"] >= 0
    assert "a_MEMORY_STEP" in f["data"][1]["absolutes"]
    assert "gstep_memory" in f["data"][1]["absolutes"] or "gstop_memory" in f["data"][1]["absolutes"]


def test_disabled_and_no_iteration_are_silent(in_tmp):
    b = Benchmarker("d/base")
    b.step("before any iteration")  # the original recorded nothing, silently
    b.disable()
    b.gstep()
    b.step("x")
    b.gstop()
    b.save_data()  # disabled: nothing written
    assert not os.path.exists("d")
    b.enable()
    b.gstep()
    b.step("y")
    b.gstop()
    b.save_data()
    data = files_of("d/base")["data"]
    assert len(data) == 1 and "y" in data[0]["absolutes"] and "x" not in data[0]["absolutes"]
    assert b.stats()["iterations"] == 1


def test_save_on_step_and_gstop(in_tmp):
    b = Benchmarker("s/base", save_on_step=True)
    b.gstep()
    b.step("a")
    assert files_of("s/base")["data"][0]["absolutes"]["a"] > 0
    g = Benchmarker("g/base")
    g.set_save_on_gstop(2)
    g.gstep()
    g.gstep()
    assert not os.path.exists("g/base_STEP_DICT_DATA.json")
    g.gstep()  # the second closed iteration
    assert len(files_of("g/base")["data"]) >= 2


def test_errors_become_exceptions(in_tmp):
    with pytest.raises(ValueError):
        Benchmarker("")
    b = Benchmarker("/proc/porter_bench_no/base")
    b.gstep()
    b.step("a")
    with pytest.raises(OSError) as exc:
        b.save_data()
    assert "/proc/porter_bench_no" in str(exc.value)
    with pytest.raises(TypeError):
        b.step(3)
    with pytest.raises(ValueError):
        b.step("nul\0byte")
    with pytest.raises(TypeError):
        b.step("a", None, None, None)
    with pytest.raises(TypeError):
        b.step("a", colour=1)
    with pytest.raises(ValueError):
        b.set_save_on_gstop(-1)


def test_uninitialised_benchmarker_raises():
    b = Benchmarker.__new__(Benchmarker)
    with pytest.raises(RuntimeError):
        b.step("x")


def test_cuda_tracking_switch(in_tmp):
    import porter_bench
    b = Benchmarker("c/base")
    on = b.memory_benchmaker.enable_cuda_memory_tracking()
    assert on == porter_bench.PORTER_BENCH_CUDA_AVAILABLE
    b.memory_benchmaker.disable_cuda_memory_tracking()
    assert b.memory_benchmaker.cuda_memory_tracking is False


def test_global_benchmarker(in_tmp, monkeypatch):
    monkeypatch.setenv("PORTER_BENCH_ROOT", str(in_tmp / "root"))
    g = GlobalBenchmarker()
    assert g["train"] is g["train"] and "train" in g and len(g) == 1
    assert g.enabled is True
    assert g.default_path.startswith(str(in_tmp / "root") + "/")
    g["train"].gstep()
    g["train"].step("forward")
    g["train"].gstop()
    g["eval"].gstep()
    g["eval"].gstop()
    g.save()
    run = g.default_path
    expected = {n + s for n in ("train", "eval")
                for s in ("_STEP_DICT_DATA.json", "_STEP_DICT_SUMMARY.json", "_MEMORY.json")}
    assert expected <= set(os.listdir(run))
    assert "forward" in read_json(os.path.join(run, "train_STEP_DICT_DATA.json"))[0]["absolutes"]
    assert g.benchmarkers["train"].file == os.path.join(run, "train")
    g.disable()
    assert g.enabled is False and g["later"].enabled is False and g["train"].enabled is False
    g.enable()
    assert g["train"].enabled is True
    g.set_default_path(str(in_tmp / "other"))
    assert g.default_path.startswith(str(in_tmp / "other") + "/")
    assert g["new"].file.startswith(g.default_path)
    assert g["train"].file == os.path.join(run, "train")


def test_global_generate_plots(in_tmp, monkeypatch):
    monkeypatch.setenv("PORTER_BENCH_ROOT", str(in_tmp / "root"))
    g = GlobalBenchmarker()
    for _ in range(5):
        g["net"].gstep()
        g["net"].step("a")
    g["net"].gstop()
    g.save()
    files = g.generate_plots(output_dir=str(in_tmp / "charts"))
    names = sorted(os.path.basename(f) for f in files)
    assert names == ["net_bars.png", "net_crono.png", "net_times.png"]
    for f in files:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_iterbench(in_tmp, monkeypatch):
    monkeypatch.setenv("PORTER_BENCH_ROOT", str(in_tmp / "root"))
    g = GlobalBenchmarker()
    loader = [10, 20, 30, 40]
    it = IterBench(loader, g, "loop")
    assert len(it) == 4
    seen = []
    for item in it:
        g["loop"].step("work")
        seen.append(item)
    assert seen == loader
    assert IterBench(loader, g).name == "epoch"
    g.save()
    data = read_json(os.path.join(g.default_path, "loop_STEP_DICT_DATA.json"))
    assert len(data) == 4
    assert all(d["info"]["STOP_TIME"] > 0 for d in data)  # the last one closed by gstop


def test_cuda_sync_needs_a_loaded_cuda_runtime(in_tmp):
    b = Benchmarker("cs/base")
    with open("/proc/self/maps", encoding="utf-8") as fh:
        if "libcudart" in fh.read():
            pytest.skip("a CUDA runtime is loaded in this process")
    with pytest.raises(RuntimeError):
        b.set_cuda_sync(True)
    b.set_cuda_sync(False)  # turning it off always works


def test_global_benchmarker_is_a_dict_and_takes_added_benchmarkers(in_tmp, monkeypatch):
    monkeypatch.setenv("PORTER_BENCH_ROOT", str(in_tmp / "root"))
    g = GlobalBenchmarker()
    assert g.benchmarkers is g and isinstance(g, dict)
    with pytest.raises(TypeError):
        g[3]
    g["own"] = Benchmarker("mine/own")
    g["own"].gstep()
    g["own"].step("a")
    g.save()
    assert files_of("mine/own")["data"][0]["absolutes"]["a"] > 0
    g.disable()
    assert g["own"].enabled is False


def test_benchmarker_is_initialised_once(in_tmp):
    b = Benchmarker("once/base")
    with pytest.raises(RuntimeError):
        b.__init__("twice/base")
    assert b.file == "once/base"


def test_extra_that_is_not_json_is_rejected_by_the_c_library(in_tmp):
    b = Benchmarker("nan/base")
    b.gstep()
    with pytest.raises(ValueError) as exc:
        b.step("s", time_extra=float("nan"))  # json.dumps writes NaN, which is not JSON
    assert "json" in str(exc.value).lower() or "extra" in str(exc.value).lower()
    b.gstop()
    b.save_data()
    assert files_of("nan/base")["data"][0]["individual_calls"]["s"][0]["extra"] is None
