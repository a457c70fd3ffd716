"""Pooling functions of torch.nn.functional: max, average, adaptive, power-average pooling and
max unpooling, in 1, 2 and 3 spatial dims (PyTorch 2.x signatures, defaults and errors).

The work happens in the graph nodes of _pool_ops (one node per pooling, PyTorch's grad_fn names)
and, for adaptive average pooling, in the separable resampling of _resample. As in PyTorch, the
1-d forms are the 2-d ones on `input.unsqueeze(-2)` (so their grad_fn is SqueezeBackward1 over
the 2-d node), and the 3-d pools take the same path as the 2-d ones with one more dim.
"""
import math
import numbers

from ..._profiled_calls import profiled_call
from ... import _dtype
from ..._dispatch import dispatch, no_kernel, _type_word as _np_type_word
from ..._tensor import Tensor
from ...ops._util import xp_of
from . import _pool_cuda
from ._pool_ops import AdaptiveAvgPool, AdaptiveMaxPool, AvgPool, Geometry, MaxPool, MaxUnpool
from ._resample import Resample, area_table
from .activation import relu

__all__ = ['max_pool1d', 'max_pool2d', 'max_pool3d', 'max_pool1d_with_indices',
           'max_pool2d_with_indices', 'max_pool3d_with_indices', 'max_unpool1d', 'max_unpool2d',
           'max_unpool3d', 'avg_pool1d', 'avg_pool2d', 'avg_pool3d', 'adaptive_avg_pool1d',
           'adaptive_avg_pool2d', 'adaptive_avg_pool3d', 'adaptive_max_pool1d',
           'adaptive_max_pool2d', 'adaptive_max_pool3d', 'adaptive_max_pool1d_with_indices',
           'adaptive_max_pool2d_with_indices', 'adaptive_max_pool3d_with_indices', 'lp_pool1d',
           'lp_pool2d', 'lp_pool3d']

_COUNT_WORDS = {1: 'one', 2: 'two', 3: 'three'}


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

def _is_int(v):
    return (isinstance(v, numbers.Integral) and not isinstance(v, bool)) or (
        isinstance(v, Tensor) and v.dim() == 0 and v.dtype in _INT_DTYPES)


_INT_DTYPES = (_dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64, _dtype.uint8)


def _int_tuple(value, n, fn, what, *, empty_ok=False):
    """kernel_size/stride/padding/dilation as n ints: one int (or a 1-tuple) is repeated."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for v in items:
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument '{what}' must be tuple of ints, but found element "
                            f'of type {type(v).__name__}')
    items = tuple(int(v) for v in items)
    if empty_ok and not items:
        return None
    if len(items) == 1:
        items *= n
    if len(items) != n:
        omitted = 'be omitted, ' if empty_ok else ''
        raise RuntimeError(f'{fn}: {what} must either {omitted}be a single int, or a tuple of '
                           f'{_COUNT_WORDS[n]} ints')
    return items


def _sizes(input):
    return list(input.shape)


def _check_pool_input(input, d, fn):
    """PyTorch's dims rules: (d+1)-dim unbatched or (d+2)-dim batched input with non-empty
    non-batch dims."""
    shape = tuple(input.shape)
    if len(shape) not in (d + 1, d + 2):
        if fn == 'avg_pool2d' and len(shape) < 3:
            raise IndexError(f'Dimension out of range (expected to be in range of '
                             f'[{-max(len(shape), 1)}, {max(len(shape), 1) - 1}], but got -3)')
        if fn == 'avg_pool2d':
            raise RuntimeError('Expected 3D or 4D (batch mode) tensor with optional 0 dim batch '
                               f'size for input, but got:{_sizes(input)}')
        raise RuntimeError(f'{fn}: non-empty {d + 1}D or {d + 2}D (batch mode) tensor expected '
                           f'for input, but got a tensor of shape {_sizes(input)}')
    first = len(shape) - d - 1
    if any(s == 0 for s in shape[first:]):
        raise RuntimeError(f'{fn}: Expected {d + 1}D or {d + 2}D (batch mode) tensor with optional '
                           f'0 dim batch size for input, but got:{_sizes(input)}')


def _output_length(n, k, pad, stride, dilation, ceil_mode):
    """PyTorch's pooling_output_shape: floor (or ceil) division, and with ceil_mode the last
    window must start inside the input or its left padding."""
    if stride == 0:
        raise RuntimeError('stride should not be zero')
    if pad < 0:
        raise RuntimeError(f'pad must be non-negative, but got pad: {pad}')
    if pad > ((k - 1) * dilation + 1) // 2:
        raise RuntimeError(f'pad should be at most half of effective kernel size, but got '
                           f'pad={pad}, kernel_size={k} and dilation={dilation}')
    out = (n + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= n + pad:
        out -= 1
    return out


def _geometry(input, d, fn, kernel_size, stride, padding, dilation, ceil_mode,
              check_kernel_fits=False):
    kernel = _int_tuple(kernel_size, d, fn, 'kernel_size')
    stride = _int_tuple(() if stride is None else stride, d, fn, 'stride', empty_ok=True) or kernel
    padding = _int_tuple(padding, d, fn, 'padding')
    dilation = _int_tuple(dilation, d, fn, 'dilation')
    _check_pool_input(input, d, fn)
    in_size = tuple(input.shape[input.dim() - d:])
    out_size = tuple(_output_length(*args, ceil_mode)
                     for args in zip(in_size, kernel, padding, stride, dilation))
    for name, values in (('kernel size', kernel), ('stride', stride), ('dilation', dilation)):
        if any(v <= 0 for v in values):
            raise RuntimeError(f'{fn}: {name} should be greater than zero, but got {values}')
    if check_kernel_fits and any(n < k for n, k in zip(in_size, kernel)):
        raise RuntimeError(f'{fn}: input image {in_size} smaller than kernel size {kernel}')
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError(f'{fn}: pad should be smaller than or equal to half of kernel size, '
                           f'but got padding={padding}, kernel_size={kernel}')
    if any(o < 1 for o in out_size):
        plane = input.shape[-d - 1]
        raise RuntimeError(f'{fn}: Given input size: ({"x".join(map(str, (plane,) + in_size))}). '
                           f'Calculated output size: '
                           f'({"x".join(map(str, (plane,) + out_size))}). Output size is too small')
    return Geometry(kernel, stride, padding, dilation, in_size, out_size)


def _one_int(value, fn, what):
    """A 1-d pool's size argument: an int or a sequence of exactly one int."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{fn}() argument '{what}' should contain one int (got "
                               f'{len(value)})')
        value = value[0]
    if not _is_int(value):
        raise TypeError(f"{fn}(): argument '{what}' must be tuple of ints, but found element of "
                        f'type {type(value).__name__}')
    return int(value)


def _check_1d_input(input, fn):
    if input.dim() not in (2, 3):
        raise RuntimeError(f'Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor '
                           f"for argument #1 'self' (while checking arguments for {fn})")


def _on_planes(fn_2d, input, *args):
    """A 1-d pool as PyTorch runs it: the 2-d pool of input.unsqueeze(-2), squeezed back."""
    out = fn_2d(input.unsqueeze(-2), *args)
    if isinstance(out, tuple):
        return tuple(t.squeeze(-2) for t in out)
    return out.squeeze(-2)


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

def _max_pool(d, input, kernel_size, stride, padding, dilation, ceil_mode, fn):
    geometry = _geometry(input, d, fn, kernel_size, stride, padding, dilation, ceil_mode)
    return dispatch(MaxPool(geometry, f'MaxPool{d}DWithIndicesBackward0', fn), input)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, 'max_pool2d')


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, 'max_pool3d')


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    fn = 'max_pool1d'
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f'{fn}: Expected 2D or 3D (batch mode) tensor with optional 0 dim '
                           f'batch size for input, but got:{_sizes(input)}')
    kernel = _one_size(kernel_size, fn, 'kernel_size')
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _one_size(stride, fn, 'stride')
    padding, dilation = _one_size(padding, fn, 'padding'), _one_size(dilation, fn, 'dilation')
    if stride <= 0:
        raise RuntimeError(f'{fn}() stride must be greater than zero, but got {stride}')
    if padding > kernel // 2:
        raise RuntimeError(f'{fn}() padding should be at most half of kernel size, but got '
                           f'padding={padding} and kernel_size={kernel}')
    return _on_planes(lambda x: max_pool2d_with_indices(
        x, (1, kernel), (1, stride), (0, padding), (1, dilation), ceil_mode), input)


def _one_size(value, fn, what):
    if isinstance(value, (tuple, list)) and len(value) != 1:
        raise RuntimeError(f'{fn}() {what} must be an int, list of ints or tuple of ints of size '
                           f'1 but got size {len(value)}')
    return _one_int(value, fn, what)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    if not return_indices and not input.is_floating_point() and input.dim() in (2, 3):
        raise NotImplementedError(f'"max_pool1d_impl" not implemented for '
                                  f"'{_type_word(input)}'")
    out = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    out = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    out = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def _type_word(t):
    return _np_type_word(t._data.dtype)


# ---------------------------------------------------------------------------------------------
# Max unpooling
# ---------------------------------------------------------------------------------------------

def _unpool_output_size(input, kernel, stride, padding, output_size):
    d = len(kernel)
    default = [(input.shape[input.dim() - d + i] - 1) * stride[i] + kernel[i] - 2 * padding[i]
               for i in range(d)]
    if output_size is None:
        size = default
    else:
        output_size = list(output_size)
        if len(output_size) == d + 2:
            output_size = output_size[2:]
        if len(output_size) != d:
            raise ValueError(f'output_size should be a sequence containing {d} or {d + 2} '
                             f"elements, but it has a length of '{len(output_size)}'")
        for i in range(d):
            low, high = default[i] - stride[i], default[i] + stride[i]
            if not low < output_size[i] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                                 f'{low} and {high})')
        size = output_size
    for i, s in enumerate(size):
        if s < 0:
            raise ValueError('max_unpooling: output_size must contain non-negative spatial '
                             f'dimensions, but got output_size[{i}]={s}')
    return [int(s) for s in size]


def _max_unpool(d, input, indices, size):
    fn = f'max_unpooling{d}d'
    if indices.dtype != _dtype.int64:
        raise RuntimeError('elements in indices should be type int64 but got: '
                           f'{_type_word(indices)}')
    if not input.is_floating_point():
        raise NotImplementedError(f'"max_unpool{d}d" not implemented for '
                                  f'\'{_type_word(input)}\'')
    if input.dim() not in (d + 1, d + 2):
        raise RuntimeError(f'Input to {fn} should be a {d + 1}d or {d + 2}d Tensor, but got a '
                           f'tensor with {input.dim()} dimensions.')
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError('Expected shape of indices to be same as that of the input tensor '
                           f'({_sizes(input)}) but got indices tensor with shape: '
                           f'{_sizes(indices)}')
    if any(s == 0 for s in input.shape[input.dim() - d - 1:]):
        raise RuntimeError(f'{fn}(): Expected input to have non-zero size for non-batch '
                           f'dimensions, but got {_sizes(input)}')
    return dispatch(MaxUnpool(size, f'MaxUnpool{d}DBackward0'), input, indices)


def _unpool_args(d, fn, kernel_size, stride, padding):
    kernel = _int_tuple(kernel_size, d, fn, 'kernel_size')
    stride = kernel if stride is None else _int_tuple(stride, d, fn, 'stride')
    return kernel, stride, _int_tuple(padding, d, fn, 'padding')


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel, stride, padding = _unpool_args(1, 'max_unpool1d', kernel_size, stride, padding)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    return _max_unpool(2, input.unsqueeze(-1), indices.unsqueeze(-1), size + [1]).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel, stride, padding = _unpool_args(2, 'max_unpool2d', kernel_size, stride, padding)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    return _max_unpool(2, input, indices, size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel, stride, padding = _unpool_args(3, 'max_unpool3d', kernel_size, stride, padding)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    if any(s <= 0 for s in stride):
        raise RuntimeError(f'strides should be greater than zero, but got stride: {stride}')
    return _max_unpool(3, input, indices, size)


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------

def _avg_pool(d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, fn):
    geometry = _geometry(input, d, fn, kernel_size, stride, padding, 1, ceil_mode,
                         check_kernel_fits=d == 3)
    if divisor_override is not None:
        if not _is_int(divisor_override):
            raise TypeError(f"{fn}(): argument 'divisor_override' must be int, not "
                            f'{type(divisor_override).__name__}')
        if divisor_override == 0:
            raise RuntimeError('divisor must be not zero')
        divisor_override = int(divisor_override)
    if input.dtype in (_dtype.bool, _dtype.uint8):   # (PyTorch's kernels take other ints)
        kernel = 'avg_pool2d' if d == 2 else 'avg_pool3d_out_frame'
        raise no_kernel(kernel, input._data.dtype)
    return dispatch(AvgPool(geometry, bool(count_include_pad), divisor_override,
                            f'AvgPool{d}DBackward0'), input)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    fn = 'avg_pool1d'
    _check_1d_input(input, fn)
    kernel = _one_int(kernel_size, fn, 'kernel_size')
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _one_int(stride, fn, 'stride')
    padding = _one_int(padding, fn, 'padding')
    return _on_planes(lambda x: _avg_pool(2, x, (1, kernel), (1, stride), (0, padding), ceil_mode,
                                          count_include_pad, None, 'avg_pool2d'), input)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 'avg_pool2d')


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 'avg_pool3d')


# ---------------------------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------------------------

def _adaptive_size(input, output_size, d, fn):
    """output_size as d ints; None entries keep the input's size (PyTorch's _list_with_default)."""
    if isinstance(output_size, Tensor) and output_size.dim() == 1:
        output_size = output_size.tolist()      # (a tensor of sizes reads as a list of ints)
    if _is_int(output_size):
        return (int(output_size),) * d
    if not isinstance(output_size, (tuple, list)):
        raise TypeError(f'object of type {type(output_size).__name__!r} has no len()')
    if len(output_size) != d:
        raise RuntimeError(f'{fn}: output_size must be {d}')
    if any(v is None for v in output_size) and input.dim() <= d:
        raise ValueError(f'Input dimension should be at least {d + 1}')
    sizes = tuple(input.shape[input.dim() - d + i] if v is None else v
                  for i, v in enumerate(output_size))
    for v in sizes:
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, but found "
                            f'element of type {type(v).__name__}')
    return tuple(int(v) for v in sizes)


def _check_adaptive_input(input, d, fn):
    if input.dim() not in (d + 1, d + 2):
        colon = ':' if 'max' in fn else ''      # (PyTorch's two kernels word it so)
        raise RuntimeError(f'{fn}(): Expected {d + 1}D or {d + 2}D tensor, but got{colon} '
                           f'{_sizes(input)}')
    for i in range(input.dim() - d, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f'{fn}(): Expected input to have non-zero size for non-batch '
                               f'dimensions, but input has sizes {_sizes(input)} with dimension '
                               f'{i} being empty')


def _check_floating(input, fn):
    if not input.is_floating_point():
        raise NotImplementedError(f'"{fn}" not implemented for \'{_type_word(input)}\'')


def _adaptive_avg(d, input, output_size):
    fn = f'adaptive_avg_pool{d}d'
    size = _adaptive_size(input, output_size, d, fn)
    if any(s < 0 for s in size):
        raise RuntimeError(f'{fn}: elements of output_size must be greater than or equal to 0 '
                           f'but received {{{", ".join(map(str, size))}}}')
    if all(s == 1 for s in size):  # PyTorch takes the mean here (grad_fn MeanBackward1)
        if input.dim() < d:
            raise IndexError(f'Dimension out of range (expected to be in range of '
                             f'[{-max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got '
                             f'{-d})')
        _check_floating(input, fn)
        return input.mean(tuple(range(-1, -d - 1, -1)), keepdim=True)
    _check_adaptive_input(input, d, fn)
    _check_floating(input, fn)
    in_size = tuple(input.shape[input.dim() - d:])
    name = f'AdaptiveAvgPool{d}DBackward0'
    if _pool_cuda.usable(xp_of(input._data), input._data):   # a kernel each way on CUDA
        return dispatch(AdaptiveAvgPool(in_size, size, name), input)
    tables = tuple(area_table(n, m) for n, m in zip(in_size, size))
    return dispatch(Resample(tables, name), input)


@profiled_call('aten::adaptive_avg_pool1d')
def adaptive_avg_pool1d(input, output_size):
    fn = 'adaptive_avg_pool1d'
    size = _one_int(output_size, fn, 'output_size')
    _check_1d_input(input, fn)
    return _on_planes(lambda x: _adaptive_avg(2, x, (1, size)), input)


@profiled_call('aten::adaptive_avg_pool2d')
def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg(2, input, output_size)


@profiled_call('aten::adaptive_avg_pool3d')
def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(3, input, output_size)


def _adaptive_max(d, input, output_size):
    fn = f'adaptive_max_pool{d}d'
    size = _adaptive_size(input, output_size, d, fn)
    _check_adaptive_input(input, d, fn)
    if any(s < 0 for s in size):
        raise RuntimeError(f'{fn}: elements of output_size must be greater than or equal to 0 '
                           f'but received {{{", ".join(map(str, size))}}}')
    _check_floating(input, fn)
    in_size = tuple(input.shape[input.dim() - d:])
    return dispatch(AdaptiveMaxPool(in_size, size, f'AdaptiveMaxPool{d}DBackward0', fn), input)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    fn = 'adaptive_max_pool1d'
    size = _one_int(output_size, fn, 'output_size')
    _check_1d_input(input, fn)
    if not input.is_floating_point():
        raise NotImplementedError(f'"adaptive_max_pool2d" not implemented for '
                                  f"'{_type_word(input)}'")
    return _on_planes(lambda x: _adaptive_max(2, x, (1, size)), input)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(2, input, output_size)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out = adaptive_max_pool1d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    out = adaptive_max_pool2d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    out = adaptive_max_pool3d_with_indices(input, output_size)
    return out if return_indices else out[0]


# ---------------------------------------------------------------------------------------------
# Power-average pooling (PyTorch's composition, so values, gradients and grad_fn agree)
# ---------------------------------------------------------------------------------------------

def _lp_pool(d, input, norm_type, kernel_size, stride, ceil_mode):
    max_pool, avg_pool = ((max_pool1d, avg_pool1d), (max_pool2d, avg_pool2d),
                          (max_pool3d, avg_pool3d))[d - 1]
    if d == 1:
        window = kernel_size
    else:
        window = math.prod(kernel_size if isinstance(kernel_size, (tuple, list))
                           else (kernel_size,) * d)
    if isinstance(norm_type, (int, float)):
        if norm_type == math.inf:
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -math.inf:
            return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)
