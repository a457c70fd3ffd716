"""torch.cpu: the CPU seen through the device-module interface that torch.cuda has (one
device, always available, work done when the call returns), so code written against that
interface runs on either. Streams and events exist and do nothing, as in PyTorch."""
import contextlib
import os
import platform
import types

from .._threads import _default

__all__ = ['current_device', 'current_stream', 'device_count', 'get_capabilities',
           'is_available', 'is_initialized', 'set_device', 'stream', 'synchronize', 'Event',
           'Stream', 'StreamContext']


def is_available():
    return True


def is_initialized():
    return True


def device_count():
    return 1


def current_device():
    return 'cpu'


def set_device(device):
    """Nothing to select (PyTorch ignores the argument too)."""


def synchronize(device=None):
    """CPU work is finished when its call returns: nothing to wait for."""


class Stream:
    """A no-op stream (PyTorch's CPU streams do nothing either)."""

    def __init__(self, priority=-1):
        self.priority = priority

    def wait_stream(self, stream):
        pass

    def wait_event(self, event):
        pass

    def record_event(self, event=None):
        pass


class Event:
    def query(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass


_CURRENT = Stream()


def current_stream(device=None):
    return _CURRENT


class StreamContext(contextlib.AbstractContextManager):
    """`with torch.cpu.stream(s):` selects nothing on the CPU."""

    def __init__(self, stream):
        self.stream = stream

    def __exit__(self, *exc):
        return None


def stream(stream):
    return StreamContext(stream)


def _numpy_cpu_features():
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:                       # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return {}
    return __cpu_features__


def get_capabilities():
    """What this CPU offers, under PyTorch's keys where NumPy knows them: the instruction-set
    extensions NumPy detected at start-up, the core count and the architecture."""
    features = _numpy_cpu_features()
    names = {'SSE': 'sse', 'SSE2': 'sse2', 'SSE3': 'sse3', 'SSSE3': 'ssse3', 'SSE41': 'sse4_1',
             'SSE42': 'sse4_2', 'POPCNT': 'popcnt', 'AVX': 'avx', 'F16C': 'f16c', 'FMA3': 'fma3',
             'AVX2': 'avx2', 'AVX512F': 'avx512_f', 'AVX512CD': 'avx512_cd',
             'AVX512BW': 'avx512_bw', 'AVX512DQ': 'avx512_dq', 'AVX512VL': 'avx512_vl',
             'AVX512_VNNI': 'avx512_vnni', 'AVX512_BF16': 'avx512_bf16',
             'AVX512_FP16': 'avx512_fp16', 'AVX512_IFMA': 'avx512_ifma',
             'AVX512_VBMI': 'avx512_vbmi', 'AVX512_VBMI2': 'avx512_vbmi2',
             'AVX512_BITALG': 'avx512_bitalg', 'AVX512_VPOPCNTDQ': 'avx512_vpopcntdq'}
    capabilities = {ours: bool(features[theirs]) for theirs, ours in names.items()
                    if theirs in features}
    capabilities.update(num_logical_cores=os.cpu_count() or _default(),
                        architecture=platform.machine())
    return types.MappingProxyType(capabilities)
