"""The floating-point operations PyTorch's profiler counts (with_flops=True), with its formulas
(torch/csrc/profiler/util.cpp, computeFlops): 2-D convolutions, matrix products (mm, addmm, bmm,
baddbmm) and out-of-place mul and add; every other op counts none, and the ops of a composite
call (torch.addmm, made of mm and add) count none beside the call's own count.

nbgrad's op is sometimes the composite PyTorch records above the counted one (F.linear's
'aten::linear' over its 'aten::addmm', 'aten::convolution' for 'aten::conv2d', 'aten::matmul'
over its 'aten::mm'/'aten::bmm'): the count is then on nbgrad's op, the same number one row up.
"""
import math

from .._tensor import Tensor


def count(op, inputs, in_place):
    """The op's FLOPs as PyTorch counts them, or None (an op it does not count)."""
    kind = op.__class__.__name__
    if kind == 'Convolution':
        return _conv2d(op, inputs)
    if kind == 'Linear':
        x, w = inputs[0], inputs[1]
        return 2 * (x.numel() // max(x.shape[-1], 1)) * x.shape[-1] * w.shape[0] \
            if x.dim() >= 1 and w.dim() == 2 else None
    if kind == 'MatMul':
        return _matmul(inputs)
    name = getattr(op, 'op_name', None)
    if name in ('mul', 'add') and not in_place and isinstance(inputs[0], Tensor):
        return inputs[0].numel()        # (PyTorch counts one per element of self)
    return None


def count_composite(name, args):
    """The FLOPs of a function nbgrad composes from several ops, as PyTorch counts its one op:
    addmm and baddbmm (their products, as if alpha = beta = 1), else None."""
    if name in ('aten::addmm', 'aten::baddbmm') and len(args) >= 3 and \
            all(isinstance(a, Tensor) for a in args[1:3]):
        return _matmul(args[1:3])
    return None


def _conv2d(op, inputs):
    x, w = inputs[0], inputs[1]
    if op.role != 'conv' or x.dim() != 4 or w.dim() != 4:
        return None        # (PyTorch counts aten::conv2d only, batched)
    n, c_in = x.shape[:2]
    c_out, _, kh, kw = w.shape
    out = [(size + lo + hi - d * (k - 1) - 1) // s + 1 for size, (lo, hi), d, k, s in
           zip(x.shape[2:], op.pads, op.dilation, (kh, kw), op.stride)]
    return 2 * n * out[0] * out[1] * kh * kw * c_in * c_out // op.groups


def _matmul(inputs):
    a, b = inputs[0], inputs[1]
    if a.dim() < 2 or b.dim() < 2:
        return None        # (mv and dot: PyTorch counts neither)
    batch = math.prod(_broadcast(a.shape[:-2], b.shape[:-2]))
    return 2 * batch * a.shape[-2] * a.shape[-1] * b.shape[-1]


def _broadcast(s, t):
    n = max(len(s), len(t))
    s, t = (1,) * (n - len(s)) + tuple(s), (1,) * (n - len(t)) + tuple(t)
    return [max(i, j) for i, j in zip(s, t)]
