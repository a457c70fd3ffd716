"""DLPack capsules (what to_dlpack returns, and what older libraries hand over) as objects of
the DLPack protocol, so from_dlpack takes them as PyTorch's does. A capsule names neither its
device nor anything else in Python; its DLTensor is read with ctypes for the device, and the
capsule itself is what __dlpack__ gives the importer (NumPy or CuPy), once."""
import ctypes

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype, _get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype, _get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                               ctypes.c_char_p]

# where the DLTensor's device (two int32s after its data pointer) is: DLManagedTensor starts
# with its DLTensor; DLManagedTensorVersioned has a version, a context, a deleter and flags first
_DEVICE_OFFSET = {b'dltensor': 8, b'dltensor_versioned': 40}


def is_capsule(obj):
    return type(obj).__name__ == 'PyCapsule'


class CapsuleExporter:
    """A capsule as the protocol's producer: __dlpack_device__ from its DLTensor, __dlpack__
    the capsule."""

    def __init__(self, capsule):
        name = _get_name(capsule)
        if name not in _DEVICE_OFFSET:
            raise RuntimeError('from_dlpack received an invalid capsule. Note that DLTensor '
                               'capsules can be consumed only once, so you might have already '
                               'constructed a tensor from it once.')
        self.capsule = capsule
        pointer = _get_pointer(capsule, name) + _DEVICE_OFFSET[name]
        device = (ctypes.c_int32 * 2).from_address(pointer)
        self.device = (device[0], device[1])

    def __dlpack__(self, stream=None, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device
