"""Fake cupy.lib.stride_tricks."""
import types

import numpy as np


def _as_strided(x, shape=None, strides=None):
    from . import ndarray
    return np.lib.stride_tricks.as_strided(np.asarray(x), shape, strides).view(ndarray)


stride_tricks = types.SimpleNamespace(as_strided=_as_strided)
