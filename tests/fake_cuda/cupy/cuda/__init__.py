"""Fake cupy.cuda: one device (0), streams and events that do nothing but keep their bookkeeping."""
import time

from . import runtime  # noqa: F401
from . import memory_hook  # noqa: F401

_current = [0]


class Device:
    def __init__(self, device=None):
        self.id = _current[0] if device is None else int(device)
        if not 0 <= self.id < runtime.getDeviceCount():
            raise RuntimeError(f'cudaErrorInvalidDevice: invalid device ordinal {self.id}')

    def __enter__(self):
        self._previous = _current[0]
        _current[0] = self.id
        return self

    def __exit__(self, *exc):
        _current[0] = self._previous

    def use(self):
        _current[0] = self.id

    def synchronize(self):
        pass

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __repr__(self):
        return f'<CUDA Device {self.id}>'


class Stream:
    null = None

    def __init__(self, null=False, non_blocking=False, priority=0):
        self.ptr = 0 if null else id(self)
        self.done = True

    def synchronize(self):
        pass

    def wait_event(self, event):
        pass

    def __enter__(self):
        _streams.append(self)
        return self

    def __exit__(self, *exc):
        _streams.pop()


Stream.null = Stream(null=True)
_streams = [Stream.null]


def get_current_stream():
    return _streams[-1]


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.time = None
        self.done = False

    def record(self, stream=None):
        self.time = time.perf_counter()
        self.done = True

    def synchronize(self):
        pass


def get_elapsed_time(start, end):
    return (end.time - start.time) * 1000.0


