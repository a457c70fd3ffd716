"""F.linear and F.bilinear.

linear is the hottest op of most models, so it is one graph node (PyTorch's addmm): forward is one
GEMM with the bias added in place, backward two GEMMs and a sum, and no transposes are dispatched.
"""
import numpy as np

from ... import _dispatch, _dtype
from ..._complex_autograd import conj as _conj
from ..._dispatch import dispatch
from ..._grad_fn_class import presented
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops import _half_gemm
from ...ops._util import xp_of
from ..._profiled_calls import profiled_call

__all__ = ['linear', 'bilinear']


def _type_word(np_dtype):
    return _dispatch._type_word(np_dtype)


def _bias_grad(g2):
    """The bias's gradient, the rows of g2 summed; half and bfloat16 in float32, rounded once,
    as PyTorch's sum (NumPy's half and ml_dtypes' bfloat16 sums round as they go: a bfloat16
    sum of 2048 ones stopped at 256)."""
    if _dtype.is_reduced_float(g2.dtype):
        return g2.astype(np.float32).sum(axis=0).astype(g2.dtype)
    return g2.sum(axis=0)


class Linear(Node):
    """y = x @ W^T (+ b) for x of any rank >= 1 and a 2-D W; its grad_fn names are PyTorch's,
    which depend on x's rank and whether there is a bias. Complex x and W: the gradients take
    their conjugates (grad_x = g @ conj(W), grad_W = g^T @ conj(x); see _complex_autograd)."""
    saved_inputs = (0, 1)
    saved_input_users = {0: (1,), 1: (0,)}
    complex_autograd = True

    def __init__(self, has_bias):
        self.has_bias = has_bias
        self.input_ndim = 2

    def forward(self, x, w, b=None):
        self.input_ndim = x.ndim
        if x.ndim == 0:
            raise RuntimeError('both arguments to linear need to be at least 1D, but they are 0D '
                               'and 2D')
        if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
            other = w if x.dtype != w.dtype else b
            raise RuntimeError(f'mat1 and mat2 must have the same dtype, but got '
                               f'{_type_word(x.dtype)} and {_type_word(other.dtype)}')
        if x.dtype.kind == 'b':
            raise _dispatch.no_kernel('addmm_impl_cpu_', 'bool')
        if x.shape[-1] != w.shape[1]:
            rows = int(np.prod(x.shape[:-1], dtype=np.int64))
            raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} '
                               f'and {w.shape[1]}x{w.shape[0]})')
        if b is not None and b.shape not in ((), (1,), (w.shape[0],)):
            raise RuntimeError(f'linear: the bias of shape {list(b.shape)} does not match the '
                               f'output features {w.shape[0]}')
        return _half_gemm.matmul(xp_of(x), x, w.T, add=b)

    def backward(self, g):
        x, w = self.saved_tensors
        e = self._edges
        if not _dispatch._modes.grad_enabled:  # no graph to build: straight on the arrays
            xp = xp_of(g._data)
            ga, xa = g._data, x._data
            gx = Tensor._make(_half_gemm.matmul(xp, ga, _conj_array(w._data))) \
                if e[0] is not None else None
            rows = _rows(ga.shape)   # (not -1: a layer of zero features has no size to infer)
            g2 = ga.reshape(rows, ga.shape[-1])
            gw = Tensor._make(_half_gemm.matmul(xp, g2.T, _conj_array(
                xa.reshape(rows, xa.shape[-1])))) if e[1] is not None else None
            gb = Tensor._make(_bias_grad(g2)) if len(e) > 2 and e[2] is not None else None
            return (gx, gw, gb) if self.has_bias else (gx, gw)
        gx = g.matmul(_conj(w)) if e[0] is not None else None
        rows = _rows(g.shape)
        g2 = g.reshape(rows, g.shape[-1])
        gw = g2.t().mm(_conj(x).reshape(rows, x.shape[-1])) if e[1] is not None else None
        if not self.has_bias:
            return gx, gw
        return gx, gw, (g2.sum(0) if e[2] is not None else None)

    @property
    def next_functions(self):
        """PyTorch's for a 2-D input: AddmmBackward0's edges are (bias, input, weight.t()),
        MmBackward0's (input, weight.t()), the weight's through a TBackward0 node (shown here;
        nbgrad's Linear is one node)."""
        shown = Node.next_functions.fget(self)
        if self.input_ndim != 2:
            return shown
        if self.has_bias:
            shown = (shown[2], shown[0], shown[1])
        if shown[-1][0] is not None:
            if self.__dict__.get('_shown_t') is None:
                self._shown_t = _ShownTranspose(self._edges[1])
            shown = shown[:-1] + ((presented(self._shown_t), 0),)
        return shown

    def name(self):
        if self.input_ndim == 2:
            return 'AddmmBackward0' if self.has_bias else 'MmBackward0'
        if self.input_ndim == 1 and not self.has_bias:
            return 'SqueezeBackward4'
        return 'ViewBackward0' if self.has_bias or self.input_ndim == 1 else 'UnsafeViewBackward0'


class _ShownTranspose(Node):
    """The TBackward0 PyTorch's linear has between its GEMM and the weight, for next_functions
    only: nbgrad's Linear node differentiates the weight itself, so hooks here would never run
    and registering them is refused."""

    def __init__(self, weight_edge):
        self._edges = (weight_edge,)

    def name(self):
        return 'TBackward0'

    def _refuse_hooks(self, fn):
        raise RuntimeError('this TBackward0 only shows the weight transpose of an nbgrad Linear '
                           '(one node): register the hook on the Linear node (its '
                           'AddmmBackward0 or MmBackward0) or on the weight tensor instead')

    register_hook = register_prehook = _refuse_hooks


def _conj_array(a):
    """A raw array's conjugate where it is complex (real arrays as they are, uncopied)."""
    return a.conj() if a.dtype.kind == 'c' else a


def _rows(shape):
    """The rows of a (..., features) array taken as a matrix."""
    rows = 1
    for n in shape[:-1]:
        rows *= n
    return rows


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    for name, t in (('input', input), ('weight', weight), ('bias', bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"linear(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight.dim() != 2:  # PyTorch also takes a 1-D weight (a dot product per row)
        out = input.matmul(weight.t())
        return out if bias is None else out + bias
    if bias is None:
        return dispatch(Linear(False), input, weight)
    return dispatch(Linear(True), input, weight, bias)


@profiled_call('aten::bilinear')     # (one op in PyTorch, _trilinear inside)
def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T A_k x2 + b_k over the last dims (input1 (..., in1), input2 (..., in2),
    weight (out, in1, in2))."""
    dtypes = [t._data.dtype for t in (input1, input2, weight)]
    if not dtypes[0] == dtypes[1] == dtypes[2]:
        from ...ops.matmul import _CPP_TYPES
        names = [_CPP_TYPES.get(d.name, d.name) for d in dtypes]
        raise RuntimeError(f'All tensors must have the same dtype, got input1: {names[0]}, '
                           f'input2: {names[1]}, weight: {names[2]}')
    if dtypes[0].kind == 'c' and _dispatch._modes.grad_enabled and (
            input1.requires_grad or input2.requires_grad or weight.requires_grad):
        # PyTorch's kernel (_trilinear) has no complex derivative, so it refuses these
        raise RuntimeError('_trilinear does not support automatic differentiation for outputs '
                           'with complex dtype.')
    if weight.dim() != 3:
        raise RuntimeError(f'bilinear(): weight must be 3-D (out_features, in1_features, '
                           f'in2_features), got shape {list(weight.shape)}')
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f'bilinear(): input batch dimensions do not match: got '
                           f'{list(input1.shape[:-1])} and {list(input2.shape[:-1])}')
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f'bilinear(): input sizes {input1.shape[-1]} and {input2.shape[-1]} '
                           f'do not match the weight of shape {list(weight.shape)}')
    from ... import einsum
    out = einsum('...i,kij,...j->...k', input1, weight, input2)
    return out if bias is None else out + bias
