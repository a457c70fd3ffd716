"""Fake cupy.cuda.runtime: one GPU called 'Fake GPU'."""


def getDeviceCount():
    return 1


def runtimeGetVersion():
    return 13000


def getDeviceProperties(index):
    return {'name': b'Fake GPU (NumPy)', 'major': 9, 'minor': 0, 'totalGlobalMem': 2 ** 34,
            'multiProcessorCount': 1, 'integrated': 0, 'isMultiGpuBoard': 0}


def memGetInfo():
    return 2 ** 33, 2 ** 34
