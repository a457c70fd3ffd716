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
    if kind == 'Einsum':
        return _einsum(op.terms, op.output, inputs)
    name = getattr(op, 'op_name', None)
    if name in ('mul', 'add') and not in_place:
        # one per element of self, the tensor operand (2 * x runs as x.mul(2) there)
        self = next((x for x in inputs if isinstance(x, Tensor)), None)
        return self.numel() if self is not None else None
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
    if b.dim() < 2:
        return None        # (mv and dot: PyTorch counts neither)
    rows = a.shape[-2] if a.dim() >= 2 else 1     # (a vector times matrices: one row, mm/bmm)
    batch = math.prod(_broadcast(a.shape[:-2], b.shape[:-2]))
    return 2 * batch * rows * a.shape[-1] * b.shape[-1]


def _einsum(terms, output, inputs):
    """PyTorch contracts an einsum's operands pairwise, left to right, each pair as one bmm: the
    pair's dimensions are those in both operands or still needed later (the others are summed
    away first)."""
    if len(terms) < 2:
        return None
    sizes = {}
    for term, x in zip(terms, inputs):
        sizes.update(zip(term, x.shape))
    total, left = 0, set(terms[0]) & (set(output).union(*terms[1:]))
    for j in range(1, len(terms)):
        later = set(output).union(*terms[j + 1:])
        right = set(terms[j]) & (left | later)
        if (left & right) - later:
            total += 2 * math.prod(sizes[c] for c in (left & right) | ((left | right) & later))
        else:       # nothing summed: a broadcast mul, one per element of the left operand
            total += math.prod(sizes[c] for c in left)
        left = (left | right) & later
    return total


def inner_ops_count(name, args):
    """Whether the ops inside a composite call count their own FLOPs: conv*d's convolution
    does; PyTorch's scaled_dot_product_attention does on its math path (3-D inputs), not in its
    fused CPU kernel (4-D); every other composite counts none inside."""
    if name in ('aten::conv1d', 'aten::conv2d', 'aten::conv3d'):
        return True      # (the convolution inside counts: one op, the same number)
    return name == 'aten::scaled_dot_product_attention' and bool(args) and \
        isinstance(args[0], Tensor) and args[0].dim() != 4


def _broadcast(s, t):
    n = max(len(s), len(t))
    s, t = (1,) * (n - len(s)) + tuple(s), (1,) * (n - len(t)) + tuple(t)
    return [max(i, j) for i, j in zip(s, t)]


def backward_node(node):
    """The FLOPs of the matrix products a backward node runs (its saved inputs give their
    shapes), as PyTorch's profiler counts its aten::mm / aten::bmm calls there; None if none.
    Counted on the node's own event (nbgrad's backward runs no separate mm op). Convolution
    backward counts nothing, as in PyTorch; elementwise backward (MulBackward0's aten::mul)
    is not counted here."""
    from ..utils import _aten_calls
    calls = _aten_calls.computed_by_this_run(node, _aten_calls.backward_of_node(node))
    total = 0
    for packet, shapes, _ in calls:
        name = getattr(packet, '__name__', str(packet)).rpartition('.')[2]
        if name in ('mm', 'bmm'):
            a, b = shapes[0], shapes[1]
            total += 2 * math.prod(a) * b[-1]
    return total or None
