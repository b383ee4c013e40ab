# Code written for the original porter_bench (pure Python), kept unchanged: it must run
# as is on our module. A tiny gradient-descent "training" on lists, no dependencies.
import random

from porter_bench import PORTER_BENCH_CUDA_AVAILABLE, bench_dict, timer
from porter_bench import TimedCounter
from porter_bench.GlobalBenchmarker import IterBench
from porter_bench.utils import load_record

random.seed(0)
loader = [[(x / 50.0, 3.0 * x / 50.0 + 1.0) for x in range(b * 8, b * 8 + 8)] for b in range(12)]
w, c = 0.0, 0.0

bench_dict["train"].enable_memory_tracking()
if PORTER_BENCH_CUDA_AVAILABLE:
    bench_dict["train"].memory_benchmaker.enable_cuda_memory_tracking()
counter = TimedCounter()
counter.start()
timer.tic()
for epoch in range(2):
    for batch in IterBench(loader, bench_dict, "train"):
        preds = [w * x + c for x, _ in batch]
        bench_dict["train"].step("forward")
        loss = sum((p - y) ** 2 for p, (_, y) in zip(preds, batch)) / len(batch)
        gw = sum(2 * (p - y) * x for p, (x, y) in zip(preds, batch)) / len(batch)
        gc = sum(2 * (p - y) for p, (_, y) in zip(preds, batch)) / len(batch)
        bench_dict["train"].step("backward", time_extra={"loss": float(loss), "epoch": epoch})
        w, c = w - 0.05 * gw, c - 0.05 * gc
        bench_dict["train"].step("update")
        counter.count()
    bench_dict["eval"].gstep()
    bench_dict["eval"].step("validate", memory_extra=None, time_extra=[epoch, "done"])
    bench_dict["eval"].gstop()
counter.stop()
bench_dict.save()
print("batches/s", counter.get_frequency(), "seconds", timer.toc())

record = load_record(".")
print("iterations", len(record["absolutes"]["train"]))
print("topics", ",".join(record["absolutes"]["train"].columns))
print("mean_forward", record["summary"]["train"]["forward"]["mean"])
print("memory_records", len(record["memory"]["train"]))
bench_dict.generate_plots()
