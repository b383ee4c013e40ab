#!/usr/bin/python3
"""Writes tests/analysis/fixtures/multirank_probes_root (committed; run again
only to change it): a two-rank job, benchmarker "train", 2 iterations, with
per-step memory tracking on, so that the records hold the memory probes'
own time topics (gstep_memory, compute_MEMORY_STEP, gstop_memory). Rank 0's
probes take 0.5 + 0.3 + 0.2 = 1.0 ms per iteration, rank 1's twice that:
GLOBAL includes them, and `summary` (probe rows hidden) must say so."""
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                    "multirank_probes_root", "TICTOC_PERFORMANCE", "job-77.0")

for rank, f in ((0, 1.0), (1, 2.0)):
    d = os.path.join(ROOT, "rank-%05d" % rank)
    os.makedirs(d, exist_ok=True)
    its = []
    t0 = 1795851000.0
    for it in range(2):
        steps = [("gstep_memory", 0.0005 * f), ("compute", 0.010 + 0.002 * it),
                 ("compute_MEMORY_STEP", 0.0003 * f), ("gstop", 0.000001),
                 ("gstop_memory", 0.0002 * f)]
        g = round(sum(v for _, v in steps), 9)
        calls = [(k, [{"time": round(v, 9), "crono_counter": i, "extra": None}])
                 for i, (k, v) in enumerate(steps)]
        its.append({"absolutes": dict([(k, round(v, 9)) for k, v in steps] + [("GLOBAL", g)]),
                    "info": {"STEP_NUMBER": it, "START_TIME": t0, "STOP_TIME": round(t0 + g, 6)},
                    "individual_calls": dict(calls + [("GLOBAL", [{"time": g,
                                                                   "crono_counter": len(steps)}])])})
        t0 += g + 0.001
    with open(os.path.join(d, "train_STEP_DICT_DATA.json"), "w") as out:
        json.dump(its, out, indent=1)
    meta = {"library": "porter_bench", "version": "0.1.0", "host": "node%d" % rank,
            "pid": 2000 + rank, "start_time": 1795851000.0, "rank": rank, "world_size": 2,
            "local_rank": rank, "launcher": "slurm", "job_id": "77.0"}
    with open(os.path.join(d, "porter_bench_run.json"), "w") as out:
        json.dump(meta, out)
