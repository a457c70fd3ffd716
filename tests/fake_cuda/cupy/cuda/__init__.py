"""Fake cupy.cuda: devices 0..n-1 (see runtime), streams and events that do nothing but keep their
bookkeeping."""
import time

from . import compiler  # noqa: F401
from . import runtime  # noqa: F401
from . import memory  # noqa: F401
from . import device  # noqa: F401
from .memory import alloc, get_allocator, set_allocator  # noqa: F401


class Device:
    """A GPU number; as a context manager it is the current device inside (re-entrant: CuPy keeps
    a stack per Device object, so nesting the same object restores correctly)."""

    def __init__(self, device=None):
        self.id = runtime.getDevice() if device is None else int(device)
        if not 0 <= self.id < runtime.getDeviceCount():
            raise RuntimeError(f'cudaErrorInvalidDevice: invalid device ordinal {self.id}')
        self._previous = []

    def __enter__(self):
        self._previous.append(runtime.getDevice())
        runtime.setDevice(self.id)
        return self

    def __exit__(self, *exc):
        runtime.setDevice(self._previous.pop())

    def use(self):
        runtime.setDevice(self.id)

    def synchronize(self):
        pass

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return self.id

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


