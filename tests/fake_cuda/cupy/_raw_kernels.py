"""Python twins of the CUDA C++ kernels nbgrad compiles with cupy.RawKernel (the fake cannot
compile CUDA). Each twin does what its kernel's source says, through the same raw device pointers,
so that the tables of pointers and offsets nbgrad builds are checked, not just the results."""
import ctypes
import re

import numpy as np


def _memory(pointer, n_items, itemsize):
    """The n_items raw items of itemsize bytes at a device (here: host) address, as an array."""
    buffer = (ctypes.c_ubyte * (n_items * itemsize)).from_address(int(pointer))
    return np.frombuffer(buffer, dtype=f'u{itemsize}')


def multi_tensor_copy(source, args):
    """nbgrad/optim/_multi_tensor.py: flat[starts[k]:starts[k+1]] <-> array k, raw items."""
    flat, pointers, starts, n_arrays, total, to_arrays = args
    assert isinstance(n_arrays, np.int32) and isinstance(total, np.int64), 'argument types'
    assert isinstance(to_arrays, np.int32), 'argument types'
    ctype = re.search(r'typedef (.+?) T;', source).group(1)
    itemsize = np.dtype({'unsigned char': 'u1', 'unsigned short': 'u2', 'unsigned int': 'u4',
                         'unsigned long long': 'u8'}[ctype]).itemsize
    assert flat.dtype.itemsize == itemsize and flat.flags.c_contiguous
    flat_items = np.asarray(flat).view(f'u{itemsize}').reshape(-1)[:int(total)]
    pointers, starts = np.asarray(pointers), np.asarray(starts)
    bounds = list(starts[:int(n_arrays)]) + [int(total)]
    for k in range(int(n_arrays)):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        array = _memory(pointers[k], hi - lo, itemsize)
        if to_arrays:
            array[:] = flat_items[lo:hi]
        else:
            flat_items[lo:hi] = array


TWINS = {'nbgrad_multi_tensor_copy': multi_tensor_copy}
