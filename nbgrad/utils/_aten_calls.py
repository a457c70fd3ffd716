"""The aten calls PyTorch makes for an nbgrad op, forward and backward, as FlopCounterMode
counts them: (aten op, argument shapes, keyword arguments) for the products and convolutions
it has formulas for. What PyTorch runs for each (checked against torch 2.13's own mode):
  F.linear: addmm (bias, a 1-D or 2-D input or a contiguous one), else mm (the input folded
    to 2-D; a 1-D input is one row); backward, an mm per input that needs a gradient.
  F.bilinear: nothing (PyTorch's _trilinear has no formula).
  matmul: mm for matrix @ matrix and stacks @ matrix (folded; stacks of one matrix count as
    one) and for a matrix that needs a gradient @ stacks; bmm for stacks @ stacks and other
    matrices or vectors @ stacks (batch dims broadcast); nothing for a vector on the right (mv,
    dot) or a vector that needs a gradient @ stacks (mv); backward, the same op once per input
    that needs a gradient.
  einsum: a bmm per pair of operands with a summed dimension (a pair with none is a mul).
  convolution (every conv and transposed conv): convolution; backward, convolution_backward.
  torch.addmm/baddbmm: themselves (their pieces count nothing); addmv, addr and addbmm count
    nothing forward (PyTorch has no formula for them); scaled_dot_product_attention on 4-D
    inputs runs PyTorch's fused CPU kernel, which counts nothing, forward or backward.
"""
import math

from .. import ops as _ops
from .._tensor import Tensor

aten = _ops.aten


def _needs(op):
    edges = op.__dict__.get('_edges')
    return [e is not None for e in edges] if edges else None


def forward(op, inputs, outputs):
    """The calls PyTorch makes for the op's forward."""
    return _calls(op, inputs, outputs, None)


def backward(op, inputs, outputs):
    """The calls the op's backward will make, given which inputs need gradients (none when the
    op made no node): (the input position, or positions, each is for; the call)."""
    needs = _needs(op)
    return _calls(op, inputs, outputs, needs) if needs and any(needs) else []


def _calls(op, inputs, outputs, needs):
    kind = op.__class__.__name__
    if kind == 'Linear':
        return _linear(inputs, needs)
    if kind == 'MatMul':
        return _matmul_of(inputs[0], inputs[1], needs)
    if kind == 'Einsum':
        return _einsum(op, inputs, needs)
    if kind == 'Convolution' and op.role in ('conv', 'transpose') and not op.nested:
        return _convolution(op, inputs, outputs, needs)
    return []


def backward_of_node(node):
    """backward()'s calls for a node recorded while no counter watched, from the inputs it
    saved (products and convolutions save theirs); none where they are gone."""
    kind = node.__class__.__name__
    if kind not in ('Linear', 'MatMul', 'Einsum', 'Convolution') or not node._saved:
        return []
    try:
        inputs = node.saved_tensors
    except RuntimeError:        # (modified in place since: the backward itself will say so)
        return []
    if not all(isinstance(t, Tensor) for t in inputs[:2]):
        return []
    outputs = None
    if kind == 'Convolution':
        if node.role not in ('conv', 'transpose') or node.nested:
            return []
        outputs = _Shape(_conv_output_shape(node, inputs[0], inputs[1]))
    return backward(node, inputs, outputs)


def computed_by_this_run(node, calls):
    """The backward calls whose gradients the running backward computes (autograd.grad(y, x)
    skips w's): calls are (input position or positions, call) pairs."""
    from ..autograd.graph import current_run
    run = current_run()
    edges = node._edges
    return [call for positions, call in calls if any(
        edges[i] is not None and run.will_execute(edges[i][0])
        for i in (positions if isinstance(positions, tuple) else (positions,)))]


class _Shape:
    def __init__(self, shape):
        self.shape = shape


def _conv_output_shape(op, x, w):
    if op.size is not None:
        spatial = tuple(op.size)
    else:
        spatial = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, (lo, hi), d, k, s in
                        zip(x.shape[2:], op.pads, op.dilation, w.shape[2:], op.stride))
    channels = w.shape[0] if op.role == 'conv' else w.shape[1] * op.groups
    return (x.shape[0], channels) + spatial


def composite(name, args):
    """(calls, quiet) for a composite call: what it counts as one op, and whether its pieces
    count nothing forward ('forward') or nothing at all ('all'); None: they count as usual."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    if name in ('aten::addmm', 'aten::baddbmm') and len(tensors) >= 3 and \
            tensors[1].dim() == tensors[2].dim() == (2 if name == 'aten::addmm' else 3):
        packet = aten.addmm if name == 'aten::addmm' else aten.baddbmm
        return [(packet, tuple(tuple(t.shape) for t in tensors[:3]), {})], 'forward'
    if name in ('aten::addmm', 'aten::baddbmm', 'aten::addmv', 'aten::addr', 'aten::addbmm'):
        return [], 'forward'
    if name == 'aten::scaled_dot_product_attention' and tensors and tensors[0].dim() == 4:
        return [], 'all'
    if name == 'aten::bilinear':    # (PyTorch's _trilinear kernel: no formula)
        return [], 'all'
    return [], None


def _linear(inputs, needs):
    x, w = inputs[0], inputs[1]
    bias = len(inputs) > 2 and inputs[2] is not None
    if x.dim() == 0 or w.dim() != 2:
        return []
    rows = math.prod(x.shape[:-1])
    a, b = (rows, x.shape[-1]), (x.shape[-1], w.shape[0])
    if needs is None:
        if bias and (x.dim() <= 2 or x.is_contiguous()):
            return [(aten.addmm, ((w.shape[0],), a, b), {})]
        if x.dim() >= 3 and not w.requires_grad and not _leading_dims_flat(x.shape,
                                                                           x.stride()):
            batch, m = math.prod(x.shape[:-2]), x.shape[-2]     # (matmul cannot fold it)
            return [(aten.bmm, ((batch, m, x.shape[-1]), (batch, x.shape[-1], w.shape[0])),
                     {})]
        return [(aten.mm, (a, b), {})]
    calls = []
    if needs[0]:    # grad_x = g @ W
        calls.append((0, (aten.mm, ((rows, w.shape[0]), (w.shape[0], x.shape[-1])), {})))
    if needs[1]:    # grad_W = g^T @ x
        calls.append((1, (aten.mm, ((w.shape[0], rows), (rows, x.shape[-1])), {})))
    return calls


def _leading_dims_flat(shape, strides):
    """Whether the dims before the last two view as one (PyTorch's should_fold asks)."""
    return math.prod(shape) == 0 or all(strides[i] == strides[i + 1] * shape[i + 1]
                                        for i in range(len(shape) - 2))


def _matmul_of(a, b, needs):
    """matmul(a, b): PyTorch's should_fold decides whether a stack and a matrix fold into one
    mm (the matrix needs a gradient, or the stack views as rows) or run as a bmm."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    if len(sb) >= 3 and math.prod(sb[:-2]) == 1:
        sb = sb[-2:]        # (stacks of one matrix: folded, an mm)
    if len(sa) >= 3 and len(sb) == 2 and not b.requires_grad and \
            not _leading_dims_flat(sa, a.stride()):
        # (no fold: a bmm over a's stack, b expanded)
        batch, (m, k), n = math.prod(sa[:-2]), sa[-2:], sb[-1]
        grads = [(aten.bmm, ((batch, m, n), (batch, n, k)), {}),
                 (aten.bmm, ((batch, k, m), (batch, m, n)), {})]
        return [(aten.bmm, ((batch, m, k), (batch, k, n)), {})] if needs is None else \
            [(i, call) for i, (call, need) in enumerate(zip(grads, needs)) if need]
    return _matmul(sa, sb, needs, a.requires_grad)


def _matmul(sa, sb, needs, a_needs_grad=False):
    if len(sb) < 2 or len(sa) == 0:
        return []                                   # (mv and dot: not counted)
    if len(sb) >= 3 and math.prod(sb[:-2]) == 1:
        sb = tuple(sb[-2:])     # (stacks of one matrix: folded, an mm)
    if len(sa) == 1 and len(sb) >= 3 and a_needs_grad:
        return []           # (a vector @ stacks that needs a gradient runs as mv: not counted)
    if len(sa) <= 2 and len(sb) >= 3 and a_needs_grad:
        # (a matrix that needs a gradient @ stacks: folded the other way, one mm)
        m, k, n = sa[-2], sa[-1], math.prod(sb[:-2]) * sb[-1]
        forward_call = (aten.mm, ((m, k), (k, n)), {})
        grads = [(aten.mm, ((m, n), (n, k)), {}), (aten.mm, ((k, m), (m, n)), {})]
        return [forward_call] if needs is None else \
            [(i, call) for i, (call, need) in enumerate(zip(grads, needs)) if need]
    if len(sa) == 1:
        sa = (1,) + tuple(sa)
    if len(sb) == 2:
        # (the left stack folds into the rows of one mm)
        m, k, n = math.prod(sa[:-1]), sa[-1], sb[-1]
        forward_call = (aten.mm, ((m, k), (k, n)), {})
        grads = [(aten.mm, ((m, n), (n, k)), {}), (aten.mm, ((k, m), (m, n)), {})]
    else:
        batch = math.prod(_broadcast(sa[:-2], sb[:-2]))
        m, k, n = sa[-2], sa[-1], sb[-1]
        forward_call = (aten.bmm, ((batch, m, k), (batch, k, n)), {})
        grads = [(aten.bmm, ((batch, m, n), (batch, n, k)), {}),
                 (aten.bmm, ((batch, k, m), (batch, m, n)), {})]
    if needs is None:
        return [forward_call]
    return [(i, call) for i, (call, need) in enumerate(zip(grads, needs)) if need]


def _einsum(op, inputs, needs):
    """PyTorch contracts the operands pairwise, left to right: each pair is a bmm over the
    dimensions both have and later ones still need (batch), summing the ones nothing needs
    later; dimensions only one operand has and nothing needs later are summed away first."""
    terms, output = op.terms, op.output
    if len(terms) < 2:
        return []
    sizes = {}
    for term, x in zip(terms, inputs):
        sizes.update(zip(term, x.shape))
    size = lambda dims: math.prod(sizes[c] for c in dims)  # noqa: E731
    calls = []
    left = set(terms[0]) & set(output).union(*terms[1:])
    left_needs = bool(needs and needs[0])
    for j in range(1, len(terms)):
        later = set(output).union(*terms[j + 1:])
        right = set(terms[j]) & (left | later)
        summed = (left & right) - later
        if summed:
            b, k = size(left & right & later), size(summed)
            m, n = size((left - right) & later), size((right - left) & later)
            a_shape, b_shape = (b, m, k), (b, k, n)
            if needs is None:
                calls.append((aten.bmm, (a_shape, b_shape), {}))
            else:       # (the left side reaches the operands before j: any of them)
                if left_needs:
                    calls.append((tuple(range(j)), (aten.bmm, ((b, m, n), (b, n, k)), {})))
                if needs[j]:
                    calls.append((j, (aten.bmm, ((b, k, m), (b, m, n)), {})))
        if needs is not None:
            left_needs = left_needs or needs[j]
        left = (left | right) & later
    return calls


def _convolution(op, inputs, outputs, needs):
    x, w = inputs[0], inputs[1]
    out = outputs[0] if isinstance(outputs, tuple) else outputs
    geometry = (op.stride, op.pads, op.dilation, op.role == 'transpose')
    if needs is None:
        return [(aten.convolution, (tuple(x.shape), tuple(w.shape), None, *geometry, None,
                                    op.groups), {'out_shape': tuple(out.shape)})]
    # (one call per input, its part of PyTorch's one convolution_backward)
    return [(i, (aten.convolution_backward,
                 (tuple(out.shape), tuple(x.shape), tuple(w.shape), None, *geometry, None,
                  op.groups, [i == 0, i == 1, False],
                  [tuple(x.shape) if i == 0 else None, tuple(w.shape) if i == 1 else None,
                   None]), {}))
            for i in (0, 1) if needs[i]]


def _broadcast(s, t):
    n = max(len(s), len(t))
    s, t = (1,) * (n - len(s)) + tuple(s), (1,) * (n - len(t)) + tuple(t)
    return [max(i, j) for i, j in zip(s, t)]
