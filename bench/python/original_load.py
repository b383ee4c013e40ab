"""The original tool's load_record method, re-implemented (the original package is not
installed here): json.load of each benchmarker's data file and memory file, then pandas
DataFrames of the lists of "absolutes", "individual_calls" and "info" dicts.

Used by bench_python.py and bench_load_original.py (docs/BENCHMARKS.md).
"""

import json
import os


def original_way(run_dir):
    """The original's load_record method: json, then pandas from the parsed lists."""
    import pandas as pd
    out = {"absolutes": {}, "calls": {}, "infos": {}, "memory": {}}
    for f in sorted(os.listdir(run_dir)):
        if not f.endswith("_STEP_DICT_DATA.json"):
            continue
        name = f[: -len("_STEP_DICT_DATA.json")]
        with open(os.path.join(run_dir, f)) as fh:
            data = json.load(fh)
        out["absolutes"][name] = pd.DataFrame([d["absolutes"] for d in data])
        out["calls"][name] = pd.DataFrame([d["individual_calls"] for d in data])
        out["infos"][name] = pd.DataFrame([d["info"] for d in data])
        mem = os.path.join(run_dir, name + "_MEMORY.json")
        if os.path.exists(mem):
            with open(mem) as fh:
                out["memory"][name] = [m["data"] for m in json.load(fh)]
    return out
