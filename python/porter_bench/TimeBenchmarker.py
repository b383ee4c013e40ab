"""The time part of a Benchmarker (``b.time_benchmarker``).

Times are recorded by the C library; this view forwards the original's
TimeBenchmarker calls to its Benchmarker.
"""

import weakref

__all__ = ["TimeBenchmarker"]


class TimeBenchmarker:
    """Time recording calls of one Benchmarker."""

    def __init__(self, owner):
        self._owner = weakref.ref(owner)

    def _bench(self):
        owner = self._owner()
        if owner is None:
            raise ReferenceError("porter_bench: the Benchmarker is gone")
        return owner

    def start(self):
        """Opens an iteration (Benchmarker.start)."""
        self._bench().start()

    def gstep(self):
        """Closes the iteration and opens the next (Benchmarker.gstep)."""
        self._bench().gstep()

    def gstop(self):
        """Closes the iteration (Benchmarker.gstop)."""
        self._bench().gstop()

    def step(self, topic="", extra=None):
        """Records a step with an optional time extra (Benchmarker.step)."""
        self._bench().step(topic, None, extra)
