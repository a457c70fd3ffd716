"""Fake cupy.linalg: NumPy's linalg with device-array results (CuPy never returns host arrays)."""
import numpy as np


def __getattr__(name):
    target = getattr(np.linalg, name)
    if not callable(target) or isinstance(target, type):
        return target

    def wrapper(*args, **kwargs):
        from . import _wrap, _unwrap
        return _wrap(target(*[_unwrap(a) for a in args],
                            **{k: _unwrap(v) for k, v in kwargs.items()}))
    return wrapper
