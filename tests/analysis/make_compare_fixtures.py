#!/usr/bin/python3
"""Writes the seeded runs of tests/analysis/fixtures/compare (committed; run
again only to change them): a baseline, a rerun drawn from the same
distribution, a run whose "compute" step is 25% slower, one where it is 12
times slower (changes over 1000%), and a run with a missing topic and an
extra benchmarker (for the warnings)."""
import json
import math
import os
import random

STEPS = {"load": 1.0e-3, "compute": 5.0e-3, "save": 5.0e-4}
ITERS = 40
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "compare")


def draw(rng, median):
    t = median * math.exp(0.1 * rng.gauss(0, 1))
    if rng.random() < 0.05:
        t *= 2 + 2 * rng.random()
    return round(t, 9)


def run(name, seed, start, slow=None, factor=1.0, steps=STEPS, extra=None):
    rng = random.Random(seed)
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    for bench in ["app"] + ([extra] if extra else []):
        data, memory = [], []
        t0 = start
        for i in range(ITERS):
            absolutes, calls, mem = {}, {}, {}
            for k, (step, median) in enumerate(steps.items()):
                t = draw(rng, median) * (factor if step == slow else 1.0)
                absolutes[step] = round(t, 9)
                calls[step] = [{"time": round(t, 9), "crono_counter": k, "extra": None}]
                rss = 100 * 2**20 + rng.randrange(0, 2**20)
                mem[step] = [{"total memory usage": rss, "cuda memory usage": None,
                              "top_memory_objects": [], "crono_counter": k, "extra": None,
                              "max memory usage": rss + rng.randrange(0, 2**19),
                              "heap memory usage": 50 * 2**20 + rng.randrange(0, 2**19)}]
            total = round(sum(absolutes.values()) + 2e-6, 9)
            absolutes["gstop"] = 1e-6
            calls["gstop"] = [{"time": 1e-6, "crono_counter": len(steps), "extra": None}]
            absolutes["GLOBAL"] = total
            calls["GLOBAL"] = [{"time": total, "crono_counter": len(steps) + 1}]
            info = {"STEP_NUMBER": i, "START_TIME": round(t0, 6), "STOP_TIME": round(t0 + total, 6)}
            t0 += total + 1e-4
            data.append({"absolutes": absolutes, "info": info, "individual_calls": calls})
            memory.append({"info": info, "data": mem})
        with open(os.path.join(folder, bench + "_STEP_DICT_DATA.json"), "w") as f:
            json.dump(data, f, separators=(",", ":"))
        with open(os.path.join(folder, bench + "_MEMORY.json"), "w") as f:
            json.dump(memory, f, separators=(",", ":"))


run("base", 1, 1795673620.0)
run("rerun", 2, 1795677220.0)
run("slow", 3, 1795680820.0, slow="compute", factor=1.25)
run("much_slower", 5, 1795688020.0, slow="compute", factor=12.0)
run("other", 4, 1795684420.0, steps={"load": 1.0e-3, "compute": 5.0e-3}, extra="other")
