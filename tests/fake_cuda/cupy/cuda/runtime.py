"""Fake cupy.cuda.runtime: GPUs called 'Fake GPU' (one, or NBGRAD_FAKE_CUDA_DEVICES of them)."""
import os
import threading

_thread = threading.local()


def getDeviceCount():
    return int(os.environ.get('NBGRAD_FAKE_CUDA_DEVICES', '1'))


def getDevice():
    # CUDA's current device belongs to the host thread; every thread starts on device 0
    return getattr(_thread, 'device', 0)


def setDevice(device):
    if not 0 <= device < getDeviceCount():
        raise RuntimeError(f'cudaErrorInvalidDevice: invalid device ordinal {device}')
    _thread.device = device


def runtimeGetVersion():
    return 13000


def getDeviceProperties(index):
    return {'name': b'Fake GPU (NumPy)', 'major': 9, 'minor': 0, 'totalGlobalMem': 2 ** 34,
            'multiProcessorCount': 1, 'integrated': 0, 'isMultiGpuBoard': 0}


def memGetInfo():
    return 2 ** 33, 2 ** 34
