"""Activation functions of torch.nn.functional, with PyTorch's signatures and argument checks.

The elementwise ones are single graph nodes with PyTorch's grad_fn names (_activation_ops.py);
where PyTorch composes an activation from other ops (softsign, tanhshrink, softmin,
gumbel_softmax) nbgrad composes it the same way, so grad_fn names agree there too.

In-place forms (`relu_`, `elu(..., inplace=True)`, ...) go through the engine's in-place path, so
versions, views and the leaf checks behave as in PyTorch. Like PyTorch, some save their result for
backward (relu_ and the ...Backward1 nodes of elu_, celu_, selu_, leaky_relu_, rrelu_) and the
others the input from before the write.
"""
import warnings

import numpy as np

from ... import _dtype
from ..._dispatch import dispatch, _type_word
from ..._tensor import Tensor, _wrap_dim
from ...ops.elementwise import UNARY
from ._activation_ops import (Activation, PreluKernel, RReLUWithNoise, Glu, write_back,
                              SELU_ALPHA, SELU_SCALE)

__all__ = ['threshold', 'threshold_', 'relu', 'relu_', 'relu6', 'hardtanh', 'hardtanh_',
           'hardswish', 'hardsigmoid', 'elu', 'elu_', 'selu', 'selu_', 'celu', 'celu_',
           'leaky_relu', 'leaky_relu_', 'prelu', 'rrelu', 'rrelu_', 'glu', 'gelu', 'logsigmoid',
           'hardshrink', 'tanhshrink', 'softsign', 'softplus', 'softmin', 'softmax',
           'log_softmax', 'softshrink', 'gumbel_softmax', 'sigmoid', 'tanh', 'silu', 'mish']


def _tensor(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f'{type(input).__name__}')
    return input


def _activate(kind, input, params=(), inplace=False, fn=None):
    input = _tensor(input, fn or kind)
    if inplace:
        return write_back(Activation(kind, params, True), input)
    return dispatch(Activation(kind, params), input)


# ---------------------------------------------------------------------------------------------
# The functional API
# ---------------------------------------------------------------------------------------------

def threshold(input, threshold, value, inplace=False):
    """y = x if x > threshold else value."""
    return _activate('threshold', input, (threshold, value), inplace)


def threshold_(input, threshold, value):
    return _activate('threshold', input, (threshold, value), True, 'threshold_')


def _relu_op(input, fn):
    if _tensor(input, fn)._data.dtype.kind == 'b':
        raise RuntimeError('Boolean inputs not supported for relu')
    return UNARY['relu']()


def relu(input, inplace=False):
    if inplace:
        return relu_(input)
    return dispatch(_relu_op(input, 'relu'), input)


def relu_(input):
    return write_back(_relu_op(input, 'relu_'), input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError('min_val cannot be greater than max_val')
    return _hardtanh_call(input, min_val, max_val, inplace, 'hardtanh')


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _hardtanh_call(input, min_val, max_val, True, 'hardtanh_')


def _hardtanh_call(input, min_val, max_val, inplace, fn):
    kind = _tensor(input, fn)._data.dtype.kind
    if kind == 'b':
        raise RuntimeError('Bool inputs not supported for hardtanh')
    if kind in 'iu':  # integer limits, so that they do not promote the result (as in PyTorch)
        min_val, max_val = int(min_val), int(max_val)
        if kind == 'u' and (min_val < 0 or max_val < 0):
            raise RuntimeError('cannot do hardtanh on an unsigned type with negative limits')
    return _activate('hardtanh', input, (min_val, max_val), inplace, fn)


def relu6(input, inplace=False):
    return _hardtanh_call(input, 0.0, 6.0, inplace, 'relu6')


def hardswish(input, inplace=False):
    return _activate('hardswish', input, (), inplace)


def hardsigmoid(input, inplace=False):
    return _activate('hardsigmoid', input, (), inplace)


def elu(input, alpha=1.0, inplace=False):
    return _activate('elu', input, (alpha, 1.0, 1.0), inplace)


def elu_(input, alpha=1.0):
    return _activate('elu', input, (alpha, 1.0, 1.0), True, 'elu_')


def selu(input, inplace=False):
    return _activate('elu', input, (SELU_ALPHA, SELU_SCALE, 1.0), inplace, 'selu')


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError('ZeroDivisionError: alpha cannot be 0 for CELU')
    return _activate('celu', input, (alpha, 1.0, 1.0 / alpha), inplace)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _activate('leaky_relu', input, (negative_slope,), inplace)


def leaky_relu_(input, negative_slope=0.01):
    return _activate('leaky_relu', input, (negative_slope,), True, 'leaky_relu_')


def gelu(input, *, approximate='none'):
    if approximate not in ('none', 'tanh'):
        raise RuntimeError('approximate argument must be either none or tanh.')
    return _activate('gelu', input, (approximate,))


def silu(input, inplace=False):
    return _activate('silu', input, (), inplace)


def mish(input, inplace=False):
    return _activate('mish', input, (), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""
    return _activate('softplus', input, (beta, threshold))


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    return _activate('logsigmoid', input)


def hardshrink(input, lambd=0.5):
    return _activate('hardshrink', input, (lambd,))


def softshrink(input, lambd=0.5):
    kind = _tensor(input, 'softshrink')._data.dtype.kind
    if kind in _dtype.FLOATING_KINDS and not lambd >= 0:
        raise RuntimeError(f'lambda must be in range [0, {_dtype.finfo(input._data.dtype).max:g}] '
                           f'for input dtype {_type_word(input._data.dtype)}, but found {lambd}')
    return _activate('softshrink', input, (lambd,))


def tanhshrink(input):
    return input - input.tanh()


def softsign(input):
    if _tensor(input, 'softsign')._data.dtype.kind == 'b':  # (nbgrad's abs accepts bool)
        raise NotImplementedError('"abs_cpu" not implemented for \'Bool\'')
    return input / (input.abs() + 1)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


# ---------------------------------------------------------------------------------------------
# prelu, rrelu, glu: activations with a weight, random slopes or a dimension
# ---------------------------------------------------------------------------------------------

def prelu(input, weight):
    """x if x > 0 else weight * x; weight has one value, or one per channel (dim 1)."""
    _tensor(input, 'prelu')
    if input.dtype != weight.dtype:
        raise RuntimeError(f'prelu: Type promoting not supported. Got '
                           f'{_type_word(input._data.dtype)} and {_type_word(weight._data.dtype)}')
    ndim, count = input.dim(), weight.numel()
    if count != 1:
        if ndim == 0:
            raise RuntimeError('Not allow zero-dim input tensor.')
        channels = input.shape[1] if ndim > 1 else 1
        if channels != count:
            raise RuntimeError(f'Mismatch of parameter numbers and input channel size. Found '
                               f'parameter numbers = {count} and channel size = {channels}.')
    if weight.dim() > 1:
        raise RuntimeError(f'prelu: Expected `weight` to be a scalar or 1D tensor, but got: '
                           f'ndim = {weight.dim()}')
    if ndim != weight.dim():
        shape = [1] * ndim
        if ndim > 1:
            shape[1] = count
        weight = weight.reshape(shape)
    return dispatch(PreluKernel(), input, weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: slopes drawn from U(lower, upper) in training, else their mean."""
    _tensor(input, 'rrelu_' if inplace else 'rrelu')
    if not lower <= upper:
        raise RuntimeError('Lower bound should be less than or equal to the upper bound')
    op = RReLUWithNoise(lower, upper, bool(training), inplace)
    return write_back(op, input) if inplace else dispatch(op, input)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def glu(input, dim=-1):
    """The gated linear unit: first half of `input` along dim times sigmoid of the second."""
    if _tensor(input, 'glu').dim() == 0:
        raise RuntimeError('glu does not support scalars because halving size must be even')
    return dispatch(Glu(_wrap_dim(dim, input.dim())), input)


# ---------------------------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------------------------

def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f'Implicit dimension choice for {name} has been deprecated. Change the call to '
                  f'include dim=X as an argument.', stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim('softmax', _tensor(input, 'softmax').dim(), _stacklevel)
    return input.softmax(dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim('softmin', _tensor(input, 'softmin').dim(), _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim('log_softmax', _tensor(input, 'log_softmax').dim(), _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau; hard=True returns one-hot samples whose gradient
    is the soft sample's (straight-through). The noise comes from the default generator, drawn as
    PyTorch draws it."""
    from ... import empty_like, legacy_contiguous_format, zeros_like
    if eps != 1e-10:
        warnings.warn('`eps` parameter is deprecated and has no effect.', stacklevel=2)
    # ~ Gumbel(0, 1), drawn row-major whatever logits' layout (PyTorch's
    # legacy_contiguous_format), so a transposed input gets PyTorch's noise
    gumbels = -empty_like(logits, memory_format=legacy_contiguous_format).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
