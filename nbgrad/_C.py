"""nbgrad._C: the few names of PyTorch's torch._C that Python code written for PyTorch uses
directly. Tensor subclasses are written with them: `__torch_function__ =
torch._C._disabled_torch_function_impl` opts a subclass out of subclass dispatch (its ops return
plain tensors, as Parameter's), and `with torch._C.DisableTorchFunctionSubclass():` runs code
on subclasses as on plain tensors. The rest of torch._C is PyTorch's C++ binding and has no
counterpart here."""
from ._tensor_subclass import DisableTorchFunctionSubclass, _disabled_torch_function_impl

__all__ = ['DisableTorchFunctionSubclass', '_disabled_torch_function_impl']
