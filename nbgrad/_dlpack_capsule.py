"""DLPack on top of NumPy's (and CuPy's) protocol, with the three things PyTorch's exchange does
that theirs does not:

- Capsules (what to_dlpack returns, and what older libraries hand over) are taken as producers:
  a capsule names neither its device nor anything else in Python, so its DLTensor is read with
  ctypes, and the capsule itself is what __dlpack__ gives the importer, once.
- bfloat16 travels: NumPy has no DLPack code for it, so its bits go out as uint16 whose DLTensor
  dtype is then rewritten to (kDLBfloat, 16), and come in the other way round.
- A legacy (unversioned) capsule has no read-only flag, and NumPy imports one read-only to be
  safe. PyTorch writes through it, and so does nbgrad: NumPy itself refuses to put read-only
  memory in a legacy capsule, and the other producers' legacy capsules are their tensors'
  writable memory.
"""
import ctypes
import enum

import numpy as np

from . import _dtype

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype, _get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype, _get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                               ctypes.c_char_p]

_LEGACY, _VERSIONED = b'dltensor', b'dltensor_versioned'
# where the DLTensor starts: DLManagedTensor starts with it; DLManagedTensorVersioned has a
# version (two uint32s), a context, a deleter and flags (a uint64) first
_DLTENSOR_OFFSET = {_LEGACY: 0, _VERSIONED: 32}
# within the DLTensor: the data pointer, then the device (two int32s), ndim (int32), and the
# dtype (code uint8, bits uint8, lanes uint16)
_DEVICE, _DTYPE = 8, 20
_KDL_UINT, _KDL_BFLOAT = 1, 4


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (torch.utils.dlpack.DLDeviceType): what __dlpack_device__ returns."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def is_capsule(obj):
    return type(obj).__name__ == 'PyCapsule'


def _dltensor(capsule):
    """The name of an unconsumed DLPack capsule and the address of its DLTensor."""
    name = _get_name(capsule)
    if name not in _DLTENSOR_OFFSET:
        raise RuntimeError('from_dlpack received an invalid capsule. Note that DLTensor '
                           'capsules can be consumed only once, so you might have already '
                           'constructed a tensor from it once.')
    return name, _get_pointer(capsule, name) + _DLTENSOR_OFFSET[name]


def _dtype_field(address):
    return (ctypes.c_uint8 * 2).from_address(address + _DTYPE)


class CapsuleExporter:
    """A capsule as the protocol's producer: __dlpack_device__ from its DLTensor, __dlpack__
    the capsule."""

    def __init__(self, capsule):
        _, address = _dltensor(capsule)
        self.capsule = capsule
        device = (ctypes.c_int32 * 2).from_address(address + _DEVICE)
        self.device = (device[0], device[1])

    def __dlpack__(self, stream=None, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


def export(array, kwargs):
    """array.__dlpack__(**kwargs), for bfloat16 arrays too."""
    if _dtype.bfloat16.np is None or array.dtype != _dtype.bfloat16.np:
        return array.__dlpack__(**kwargs)
    capsule = array.view(np.uint16).__dlpack__(**kwargs)
    _dtype_field(_dltensor(capsule)[1])[0] = _KDL_BFLOAT
    return capsule


class _Importing:
    """The producer as NumPy's from_dlpack sees it: the capsule it hands over is noted (its kind)
    and a bfloat16 one is relabelled uint16 for NumPy."""

    def __init__(self, producer):
        self.producer = producer
        self.legacy = self.bfloat16 = False

    def __dlpack_device__(self):
        return self.producer.__dlpack_device__()

    def __dlpack__(self, **kwargs):
        capsule = self.producer.__dlpack__(**kwargs)
        if is_capsule(capsule):
            name, address = _dltensor(capsule)
            self.legacy = name == _LEGACY
            field = _dtype_field(address)
            if (field[0], field[1]) == (_KDL_BFLOAT, 16):
                field[0] = _KDL_UINT
                self.bfloat16 = True
        return capsule


class _WritableAlias:
    """The memory of a NumPy array as a writable array's (its base keeps the array alive)."""

    def __init__(self, array):
        self.array = array
        interface = dict(array.__array_interface__)
        interface['data'] = (interface['data'][0], False)
        self.__array_interface__ = interface


def import_cpu(producer):
    """A NumPy array over the memory of a CPU DLPack producer (an object with __dlpack__; a
    capsule comes wrapped in a CapsuleExporter)."""
    importing = _Importing(producer)
    array = np.from_dlpack(importing)
    if importing.legacy and not array.flags.writeable:
        array = np.asarray(_WritableAlias(array)) if array.size else array.copy()
    if importing.bfloat16:
        if not _dtype.enable_bfloat16():
            raise RuntimeError('from_dlpack: the tensor is bfloat16, which needs the ml_dtypes '
                               'package (pip install ml_dtypes)')
        array = array.view(_dtype.bfloat16.np)
    return array
