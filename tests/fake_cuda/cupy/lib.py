"""Fake cupy.lib.stride_tricks."""
import types

import numpy as np


def _as_strided(x, shape=None, strides=None):
    # CuPy: ndarray(shape, dtype, memptr=x.data, strides=strides), a new array over x's memory
    # whose .base is None (views of it then name it as their base)
    from . import ndarray
    view = np.lib.stride_tricks.as_strided(np.asarray(x), shape, strides).view(ndarray)
    view._base = None
    return view


stride_tricks = types.SimpleNamespace(as_strided=_as_strided)
