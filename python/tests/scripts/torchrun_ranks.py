# One worker of a 2-process torchrun job (gloo): IterBench iterations with a
# "compute" step that rank SLOW_RANK makes slower, and an all_reduce.
# Exits 77 when torch.distributed cannot start gloo here (the test skips).
import datetime
import os
import sys
import time

import torch
import torch.distributed as dist

from porter_bench import bench_dict
from porter_bench.GlobalBenchmarker import IterBench

SLOW_RANK = 1
ITERATIONS = 6

try:
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=20))
except Exception as exc:  # no usable network interface, gloo not built in...
    print(f"GLOO_UNAVAILABLE {type(exc).__name__}: {exc}", flush=True)
    sys.exit(77)

rank = dist.get_rank()
torch.set_num_threads(1)
value = torch.ones(1024)
for it in IterBench(range(ITERATIONS), bench_dict, "train"):
    time.sleep(0.040 if rank == SLOW_RANK else 0.004)  # the unbalanced step
    value = value * 1.0001
    bench_dict["train"].step("compute", time_extra={"rank": rank, "iteration": it})
    dist.all_reduce(value)  # the fast rank waits here for the slow one
    bench_dict["train"].step("allreduce")
bench_dict.save()
dist.barrier()
dist.destroy_process_group()
print(f"rank {rank} of {os.environ.get('WORLD_SIZE')} saved {bench_dict.default_path}", flush=True)
