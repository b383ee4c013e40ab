"""Timers of the original's ``porter_bench.basic``: pure Python, off the hot path."""

import time
from datetime import datetime

__all__ = ["Timer", "CountDownClock", "TimedCounter", "get_timestamp"]


class Timer:
    """A stopwatch started at construction: ``tic`` restarts it, ``toc`` reads it."""

    def __init__(self):
        self.start_time = time.perf_counter()

    def tic(self):
        """Restarts the timer."""
        self.start_time = time.perf_counter()

    def toc(self):
        """Seconds since the last tic."""
        return time.perf_counter() - self.start_time

    def ttoc(self):
        """Seconds since the last tic, then restarts the timer (one clock read)."""
        now = time.perf_counter()
        elapsed = now - self.start_time
        self.start_time = now
        return elapsed

    def ptoc(self, message=None):
        """Prints ``"<message> <seconds>"``."""
        print(f"{message} {self.toc()}")

    def pttoc(self, message=None):
        """Prints ``"<message> <seconds>"`` and restarts the timer."""
        print(f"{message} {self.ttoc()}")


class CountDownClock(Timer):
    """A Timer with a duration: ``completed()`` once more than it has passed."""

    def __init__(self, count_down_time=10.0):
        super().__init__()
        self.count_down_time = count_down_time

    def set_count_down(self, count_down_time):
        """Sets the duration (seconds) and restarts the count-down."""
        self.count_down_time = count_down_time
        self.tic()

    def reset(self):
        """Restarts the count-down with the same duration."""
        self.tic()

    def time_left(self):
        """Seconds left (negative once past the end)."""
        return self.count_down_time - self.toc()

    def completed(self):
        """True once more than the duration has passed since the last (re)start."""
        return self.toc() > self.count_down_time


class TimedCounter:
    """Counts events and gives their frequency; every call is a no-op when disabled."""

    def __init__(self, enabled=True):
        self.enabled = enabled
        self.counter = 0
        self.stop_time = None
        self.stop_count = None
        self.timer = Timer()

    def start(self):
        """Restarts the clock, only while nothing has been counted."""
        if self.enabled and self.counter == 0:
            self.timer.tic()

    def stop(self):
        """Freezes the count and the elapsed time."""
        if self.enabled:
            self.stop_time = self.timer.toc()
            self.stop_count = self.counter

    def count(self):
        """Counts one event."""
        if self.enabled:
            self.counter += 1

    def get_frequency(self):
        """Events per second (frozen values once stopped); None when disabled."""
        if not self.enabled:
            return None
        if self.stop_time is not None:
            return self.stop_count / self.stop_time if self.stop_time > 0 else 0.0
        elapsed = self.timer.toc()
        return self.counter / elapsed if elapsed > 0 else 0.0

    def reset(self):
        """Sets the count to zero and restarts the clock (stop values are kept)."""
        if self.enabled:
            self.counter = 0
            self.timer.tic()

    def disable(self):
        """Disables the counter."""
        self.enabled = False


def get_timestamp():
    """The local time as the original names its run folders: ``"%H:%M-%d:%m:%Y"``."""
    return datetime.now().strftime("%H:%M-%d:%m:%Y")
