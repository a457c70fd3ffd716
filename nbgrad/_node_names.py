"""presents_as: PyTorch's grad_fn name for a function nbgrad composes from several ops.

torch.addmm(v, x, m) is one node in PyTorch (AddmmBackward0) where nbgrad records a matmul and
an add; the last node it records takes PyTorch's name, which is what print(y) and y.grad_fn
show. Only nodes the call itself made are renamed (a function may return its input). Under the
profiler the call is also one op of PyTorch's name ('aten::addmm'), the ops it is made of
nested in it (_profiled_calls.py)."""
import functools
import re

import numpy as np

from . import _dispatch, _dtype
from ._profiled_calls import profiled_call
from ._tensor import Tensor


def presents_as(name):
    aten = 'aten::' + re.sub(r'(?<=[a-z])(?=[A-Z])', '_',
                             re.sub(r'Backward\d+$', '', name)).lower()

    def decorate(fn):
        profiled = profiled_call(aten)(fn)

        @functools.wraps(fn)
        def call(*args, **kwargs):
            before = _dispatch._next_sequence()
            out = profiled(*args, **kwargs)
            inputs = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
            for t in out if isinstance(out, tuple) else (out,):
                node = t._grad_fn if isinstance(t, Tensor) else None
                if node is not None and node._seq > before:
                    node.present_as(name, inputs)
            return out
        return call
    return decorate


def rounded_once_in_reduced_float(fn):
    """fn computed in float32 when its tensors are float16 (or all bfloat16) CPU tensors, the
    result rounded once: PyTorch's CPU kernels for composite ops (addmm, addcmul...) work in
    float on half and bfloat16 inputs, where nbgrad's composition of ops would round after each
    step."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        tensors = [a for a in args if isinstance(a, Tensor)]
        if tensors:
            dtype = tensors[0]._data.dtype
            if _dtype.is_reduced_float(dtype) and all(
                    t._data.__class__ is np.ndarray and t._data.dtype == dtype for t in tensors):
                widened = [a.float() if isinstance(a, Tensor) else a for a in args]
                return fn(*widened, **kwargs).to(_dtype.from_numpy_dtype(dtype))
        return fn(*args, **kwargs)
    return call
