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


def _fused_arrays(source, pointers, starts, n_params, total):
    """(dtype, number of states, array(role, k)): parameter k's param (role 0), grad (1) and
    states (2...) as arrays over the raw memory a fused kernel's table points at."""
    dtype = np.dtype({'float': np.float32, 'double': np.float64}[
        re.search(r'typedef (float|double) T;', source).group(1)])
    n_states = int(re.search(r'#define N_STATES (\d+)', source).group(1))
    pointers, starts, n = np.asarray(pointers), np.asarray(starts), int(n_params)
    bounds = list(starts[:n]) + [int(total)]

    def array(role, k):
        size = int(bounds[k + 1] - bounds[k])
        return _memory(pointers[role * n + k], size, dtype.itemsize).view(dtype)
    return dtype, n_states, array


def fused_sgd(source, args):
    """nbgrad/optim/_fused_cuda.py's SGD, from PyTorch's documented algorithm."""
    pointers, starts, n_params, total, *scalars = args
    assert [type(v) for v in scalars] == [np.int32] * 3 + [np.float64] * 4, 'argument types'
    maximize, nesterov, first, lr, momentum, dampening, weight_decay = scalars
    dtype, n_states, array = _fused_arrays(source, pointers, starts, n_params, total)
    for k in range(int(n_params)):
        p, g = array(0, k), array(1, k).copy()
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + dtype.type(weight_decay) * p
        if n_states:
            buf = array(2, k)
            if first:
                buf[:] = g
            else:
                buf[:] = dtype.type(momentum) * buf + dtype.type(1 - dampening) * g
            g = g + dtype.type(momentum) * buf if nesterov else buf
        p -= dtype.type(lr) * g


def fused_adam(source, args):
    """nbgrad/optim/_fused_cuda.py's Adam: written here from PyTorch's documented algorithm (not
    from nbgrad's kernel), in the parameters' precision, through the pointer table."""
    pointers, starts, n_params, total, *scalars = args
    assert isinstance(n_params, np.int32) and isinstance(total, np.int64), 'argument types'
    assert [type(v) for v in scalars] == [np.int32] * 2 + [np.float64] * 7, 'argument types'
    maximize, decoupled, beta1, beta2, eps, weight_decay, lr, step_size, bc2_sqrt = scalars
    dtype, n_states, array = _fused_arrays(source, pointers, starts, n_params, total)
    n = int(n_params)
    for k in range(n):
        p, g = array(0, k), array(1, k).copy()
        exp_avg, exp_avg_sq = array(2, k), array(3, k)
        one = dtype.type(1)
        if maximize:
            g = -g
        if weight_decay != 0:
            if decoupled:
                p *= dtype.type(1 - lr * weight_decay)
            else:
                g = g + dtype.type(weight_decay) * p
        exp_avg += dtype.type(1 - beta1) * (g - exp_avg)
        exp_avg_sq[:] = dtype.type(beta2) * exp_avg_sq + (one - dtype.type(beta2)) * g * g
        v = exp_avg_sq
        if n_states > 2:
            np.maximum(array(4, k), exp_avg_sq, out=array(4, k))
            v = array(4, k)
        p -= dtype.type(step_size) * exp_avg / (np.sqrt(v) / dtype.type(bc2_sqrt) +
                                                dtype.type(eps))


def set_scalars(source, args):
    """nbgrad/optim/_device_scalars.py: *pointers[k] = values[k], raw items."""
    pointers, values, n = args
    assert isinstance(n, np.int32), 'argument types'
    ctype = re.search(r'typedef (.+?) T;', source).group(1)
    itemsize = {'unsigned char': 1, 'unsigned short': 2, 'unsigned int': 4,
                'unsigned long long': 8}[ctype]
    assert values.dtype.itemsize == itemsize
    for pointer, v in zip(np.asarray(pointers)[:int(n)], np.asarray(values)[:int(n)]):
        _memory(pointer, 1, itemsize)[0] = v


TWINS = {'nbgrad_multi_tensor_copy': multi_tensor_copy, 'nbgrad_fused_adam': fused_adam,
         'nbgrad_fused_sgd': fused_sgd, 'nbgrad_set_scalars': set_scalars}
