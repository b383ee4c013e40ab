"""A 2-process torchrun job (gloo backend) recorded through the Python module.

Both workers must land in one job folder, job-<id>/rank-0000{0,1}/, with the
job id detected from torchrun's environment (TORCHELASTIC_RUN_ID is "none"
without --rdzv_id: the id is then the torchrun agent's identity), and the
CLI's merged summary must name the slow rank of the slow step.
"""

import glob
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from conftest import REPO

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "scripts", "torchrun_ranks.py")
SLOW_RANK = 1  # as in the script

TORCHRUN = shutil.which("torchrun")
if importlib.util.find_spec("torch") is None:
    pytest.skip("torch is not installed (Debian: python3-torch)", allow_module_level=True)
if TORCHRUN is None:
    pytest.skip("torchrun is not on PATH (Debian: python3-torch)", allow_module_level=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli():
    """The porter-bench CLI: installed next to this Python, else a build tree's."""
    found = [os.path.join(os.path.dirname(sys.executable), "porter-bench")]
    found += [os.path.join(REPO, d, "src", "cli", "porter-bench") for d in ("build", "build-python")]
    return next((c for c in found if os.access(c, os.X_OK)), None)


def run_torchrun(cwd):
    """torchrun -r 1 -t 1 (Debian's torch 1.13 on Python 3.11 needs them) of 2 workers
    running this Python (with the module) on the script. Returns (process, stdout)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORTER_BENCH_ROOT", "PORTER_BENCH_JOB_ID", "PORTER_BENCH_RANK",
                        "RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID")}
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    env["OMP_NUM_THREADS"] = "1"
    cmd = [TORCHRUN, "-r", "1", "-t", "1", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
           "--log_dir", str(cwd / "torchrun-logs"), "--no_python", sys.executable, "-u", SCRIPT]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=50)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("torchrun did not finish in 50 s:\n" + out)
    return proc, out


def summary_row(text, bench, topic):
    """The words of topic's row in bench's table of a multi-rank summary."""
    in_bench = False
    for line in text.splitlines():
        if line and not line.startswith(" "):
            in_bench = line.startswith(bench + ":")
        words = line.split()
        if in_bench and words and words[0] == topic:
            return words
    raise AssertionError(f"no row {bench}/{topic} in:\n{text}")


def test_torchrun_two_ranks_one_job(in_tmp):
    proc, out = run_torchrun(in_tmp)
    if "GLOO_UNAVAILABLE" in out:
        pytest.skip("torch.distributed cannot start gloo here: " +
                    next(l for l in out.splitlines() if "GLOO_UNAVAILABLE" in l))
    assert proc.returncode == 0, out

    jobs = glob.glob(str(in_tmp / "TICTOC_PERFORMANCE" / "*"))
    assert len(jobs) == 1, jobs  # one folder for the whole job, no per-process runs
    job = jobs[0]
    assert os.path.basename(job).startswith("job-")
    assert sorted(os.listdir(job)) == ["rank-00000", "rank-00001"]

    metas = []
    for rank in (0, 1):
        folder = os.path.join(job, f"rank-{rank:05d}")
        with open(os.path.join(folder, "porter_bench_run.json"), encoding="utf-8") as fh:
            metas.append(json.load(fh))
        with open(os.path.join(folder, "train_STEP_DICT_DATA.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        assert len(data) == 6  # the script's iterations
        extras = [it["individual_calls"]["compute"][0]["extra"]["rank"] for it in data]
        assert extras == [rank] * 6  # each rank's own records in its own folder
    for rank, meta in enumerate(metas):
        assert meta["launcher"] == "torchrun"
        assert (meta["rank"], meta["world_size"], meta["local_rank"]) == (rank, 2, rank)
        assert meta["ppid"] == proc.pid  # both workers are children of the torchrun agent
    assert metas[0]["job_id"] == metas[1]["job_id"]
    # TORCHELASTIC_RUN_ID is "none": the id is <host>-<agent pid>-<its start time>-r0
    job_id = metas[0]["job_id"]
    assert f"-{proc.pid}-" in job_id and job_id.endswith("-r0"), job_id
    assert os.path.basename(job) == "job-" + job_id

    exe = cli()
    if exe is None:
        pytest.skip("the porter-bench CLI is neither installed in this venv nor built")
    res = subprocess.run([exe, "summary", str(in_tmp / "TICTOC_PERFORMANCE")],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert f"job {job_id} (torchrun): 2 ranks of 2 on 1 host" in res.stdout, res.stdout
    compute = summary_row(res.stdout, "train", "compute")
    assert compute[1] == "2"  # both ranks have the step
    assert int(compute[-2]) == SLOW_RANK, res.stdout  # the slowest column names the slow rank
    assert float(compute[-1]) > 1.5  # max/mean: 40 ms against 4 ms is about 1.8
    # the fast rank waits in all_reduce for the slow one: there it is the slow rank
    assert int(summary_row(res.stdout, "train", "allreduce")[-2]) == 1 - SLOW_RANK
