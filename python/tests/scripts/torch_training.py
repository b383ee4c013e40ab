# A PyTorch (CPU) training loop instrumented as users of the original do it.
import torch
from torch.utils.data import DataLoader, TensorDataset

from porter_bench import PORTER_BENCH_CUDA_AVAILABLE, bench_dict
from porter_bench.GlobalBenchmarker import IterBench

torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.randn(256, 8)
y = x @ torch.arange(1.0, 9.0).unsqueeze(1) + 0.1 * torch.randn(256, 1)
loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

bench_dict["train"].enable_memory_tracking()
if PORTER_BENCH_CUDA_AVAILABLE:
    bench_dict["train"].memory_benchmaker.enable_cuda_memory_tracking()
for epoch in range(3):
    for xb, yb in IterBench(loader, bench_dict, "train"):
        optimizer.zero_grad()
        out = model(xb)
        bench_dict["train"].step("forward")
        loss = torch.nn.functional.mse_loss(out, yb)
        loss.backward()
        bench_dict["train"].step("backward", time_extra={"loss": float(loss), "epoch": epoch})
        optimizer.step()
        bench_dict["train"].step("update")
bench_dict.save()
bench_dict.generate_plots()
print("run", bench_dict.default_path)
