#!/usr/bin/python3
"""Writes the seeded multi-rank jobs of tests/analysis/fixtures/compare_ranks
(committed; run again only to change them): job folders of four rank folders
each, benchmarker "train" with steps "compute" and "exchange" over 15
iterations. base: rank 3 computes 30% slower than the others; rerun: the
same distribution, another seed; slow: "compute" 25% slower on every rank
and rank 1 the slowest."""
import json
import math
import os
import random

ITERS = 15
RANKS = 4
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "compare_ranks")


def draw(rng, median):
    return round(median * math.exp(0.05 * rng.gauss(0, 1)), 9)


def rank_folder(job, rank, rng, start, compute, exchange):
    folder = os.path.join(ROOT, job, "rank-%05d" % rank)
    os.makedirs(folder, exist_ok=True)
    data, t0 = [], start
    for i in range(ITERS):
        c, e = draw(rng, compute), draw(rng, exchange)
        g = round(c + e, 9)
        data.append({"absolutes": {"compute": c, "exchange": e, "GLOBAL": g},
                     "info": {"STEP_NUMBER": i, "START_TIME": round(t0, 6),
                              "STOP_TIME": round(t0 + g, 6)},
                     "individual_calls": {
                         "compute": [{"time": c, "crono_counter": 0, "extra": None}],
                         "exchange": [{"time": e, "crono_counter": 1, "extra": None}],
                         "GLOBAL": [{"time": g, "crono_counter": 2}]}})
        t0 += g + 0.001
    with open(os.path.join(folder, "train_STEP_DICT_DATA.json"), "w") as f:
        json.dump(data, f, indent=1)
    meta = {"library": "porter_bench", "version": "0.1.0", "host": "node%d" % rank,
            "pid": 1000 + rank, "start_time": start, "rank": rank, "world_size": RANKS,
            "local_rank": rank, "launcher": "slurm", "job_id": job.split("-", 1)[1]}
    with open(os.path.join(folder, "porter_bench_run.json"), "w") as f:
        json.dump(meta, f)


def job(name, seed, start, factor=1.0, slowest=3):
    rng = random.Random(seed)
    for rank in range(RANKS):
        compute = 10e-3 * factor * (1.3 if rank == slowest else 1.0)
        rank_folder(name, rank, rng, start, compute, 2e-3)


job("base/job-100", 1, 1795851000.0)
job("rerun/job-101", 2, 1795852000.0)
job("slow/job-102", 3, 1795853000.0, factor=1.25, slowest=1)
