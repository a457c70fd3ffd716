"""Fake cupyx.profiler: `benchmark` times the calls on the host; the fake's device is the CPU,
so its device times are the same numbers."""
import time

import numpy as np


class _Result:
    def __init__(self, name, times):
        self.name, self.cpu_times, self.gpu_times = name, times, times.reshape(1, -1)


def benchmark(func, args=(), kwargs=None, n_repeat=10000, *, name=None, n_warmup=10,
              max_duration=float('inf'), devices=None):
    kwargs = kwargs or {}
    for _ in range(n_warmup):
        func(*args, **kwargs)
    times, started = [], time.perf_counter()
    for _ in range(n_repeat):
        start = time.perf_counter()
        func(*args, **kwargs)
        times.append(time.perf_counter() - start)
        if time.perf_counter() - started > max_duration:
            break
    return _Result(name or getattr(func, '__name__', 'func'), np.array(times))
