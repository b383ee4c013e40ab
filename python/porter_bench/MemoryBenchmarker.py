"""The memory part of a Benchmarker (``b.memory_benchmaker``).

Memory is measured by the C library (resident set size, exact peak, malloc heap;
GPU memory through NVML): this object only switches it on and off.
"""

import weakref

__all__ = ["MemoryBenchmarker"]


class MemoryBenchmarker:
    """Memory tracking switches of one Benchmarker."""

    def __init__(self, owner):
        self._owner = weakref.ref(owner)
        self.cuda_memory_tracking = False

    def _bench(self):
        owner = self._owner()
        if owner is None:
            raise ReferenceError("porter_bench: the Benchmarker is gone")
        return owner

    def enable(self, per_step=False):
        """Memory records at every gstep/gstop (and every step with per_step)."""
        self._bench().enable_memory_tracking(per_step)

    def disable(self):
        """Stops taking memory records (those taken are kept)."""
        self._bench().disable_memory_tracking()

    def enable_cuda_memory_tracking(self):
        """GPU memory in every memory record (NVML; torch not needed).

        Returns True when on. Where no GPU answers it does nothing and returns
        False, as the original does without CUDA.
        """
        self.cuda_memory_tracking = bool(self._bench()._enable_cuda_memory_tracking())
        return self.cuda_memory_tracking

    def disable_cuda_memory_tracking(self):
        """Stops recording GPU memory."""
        self._bench()._disable_cuda_memory_tracking()
        self.cuda_memory_tracking = False
