"""Matrix products: matmul/@ (with batch broadcasting), mm, bmm, mv, dot, outer, einsum,
tensordot. (addmm and its family, beta * input + alpha * a product: scaled_products.py.)"""
import math
import string

import numpy as np

from .._out import accepts_out
from .. import _dispatch
from .._complex_autograd import conj as _conj
from .._dispatch import dispatch
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _half_gemm
from ._util import promote, require_tensor, xp_of


def _shape_str(shape):
    return 'x'.join(str(s) for s in shape) if shape else '()'


class MatMul(Node):
    """NumPy's matmul semantics (= PyTorch's): 1-D operands are promoted to matrices and the added
    dimension removed afterwards; batch dimensions broadcast (the engine sums them back).

    The product is holomorphic in each operand, so for complex operands the gradients take the
    conjugated other operand (grad_a = g @ b^H, grad_b = a^H @ g; see _complex_autograd); real
    operands skip the conjugation."""
    saved_inputs = (0, 1)
    saved_input_users = {0: (1,), 1: (0,)}
    complex_autograd = True

    def __init__(self, op_name='matmul'):
        self.op_name = op_name

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f'both arguments to {self.op_name} need to be at least 1D, but they '
                               f'are {a.ndim}D and {b.ndim}D')
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            if a.ndim <= 2 and b.ndim <= 2:
                raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied '
                                   f'({_shape_str(a.shape if a.ndim == 2 else (1,) + a.shape)} and '
                                   f'{_shape_str(b.shape if b.ndim == 2 else b.shape + (1,))}) in '
                                   f'{self.op_name}')
            raise RuntimeError(f'{self.op_name}: inner dimensions do not match: {list(a.shape)} @ '
                               f'{list(b.shape)} (the last dim of the first, {k_a}, must equal the '
                               f'second-to-last dim of the second, {k_b})')
        if a.dtype != b.dtype:
            dt = promote((a, b))
            a, b = a.astype(dt, copy=False), b.astype(dt, copy=False)
        if a.dtype.kind == 'b':
            raise _dispatch.no_kernel(_bool_kernel(a.ndim, b.ndim), 'bool')
        try:
            return _half_gemm.matmul(xp_of(a, b), a, b)
        except ValueError:
            raise RuntimeError(f'{self.op_name}: batch dimensions cannot be broadcast: '
                               f'{list(a.shape)} @ {list(b.shape)}') from None

    def backward(self, g):
        a, b = self.saved_tensors
        e = self._edges
        need_a, need_b = e[0] is not None, e[1] is not None
        if a.dim() == 1 and b.dim() == 1:  # dot product
            return (g * _conj(b) if need_a else None), (g * _conj(a) if need_b else None)
        if not _dispatch._modes.grad_enabled and a.dim() > 1 and b.dim() > 1:
            # No graph to build (no create_graph): the same products straight on the arrays,
            # which saves the transposes' dispatches on the hottest backward of every model.
            xp = xp_of(g._data)
            ga = Tensor._make(_half_gemm.matmul(xp, g._data, _adjoint_array(b._data))) \
                if need_a else None
            gb = Tensor._make(_half_gemm.matmul(xp, _adjoint_array(a._data), g._data)) \
                if need_b else None
            return ga, gb
        a2 = a.unsqueeze(0) if a.dim() == 1 else a
        b2 = b.unsqueeze(-1) if b.dim() == 1 else b
        g2 = g
        if a.dim() == 1:
            g2 = g2.unsqueeze(-2)
        if b.dim() == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if need_a:
            ga = g2.matmul(_conj(b2).mT)
            if a.dim() == 1:
                ga = ga.squeeze(-2)
        if need_b:
            gb = _conj(a2).mT.matmul(g2)
            if b.dim() == 1:
                gb = gb.squeeze(-1)
        return ga, gb

    node_name = None  # set by matmul(), whose node PyTorch names after the shapes

    def name(self):
        if self.node_name is not None:
            return self.node_name
        return {'mm': 'MmBackward0', 'bmm': 'BmmBackward0', 'mv': 'MvBackward0',
                'dot': 'DotBackward0'}.get(self.op_name, 'MatmulBackward0')


def _adjoint_array(x):
    """The conjugate transpose of a raw array's last two dims (the transpose alone if real)."""
    x = x.swapaxes(-1, -2)
    return x.conj() if x.dtype.kind == 'c' else x


def _tensor_arguments(fname, input, other, other_name='other'):
    """PyTorch's TypeError for a number (or anything else) where its products take tensors."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        require_tensor(input, fname)
        require_tensor(other, fname, other_name, 2)


def matmul(input, other):
    _tensor_arguments('matmul', input, other)
    ranks = (input._data.ndim, other._data.ndim)
    if input._data.dtype != other._data.dtype:
        _refuse_mixed_dtypes(_mixed_dtype_kernel(*ranks), input, other)
    op = MatMul(_MATMUL_KERNELS.get(ranks, 'matmul'))
    op.node_name = _matmul_node_name(*ranks)
    return dispatch(op, input, other)


def _bool_kernel(rank_a, rank_b):
    """The PyTorch kernel that refuses a product of bool tensors of these ranks."""
    if rank_a == 1 and rank_b == 1:
        return 'dot'
    if rank_b == 1 or (rank_a == 1 and rank_b == 2):
        return 'addmv_impl_cpu'
    return 'addmm_impl_cpu_' if rank_b == 2 else 'bmm'


_MATMUL_KERNELS = {(1, 1): 'dot', (2, 1): 'mv', (2, 2): 'mm', (3, 3): 'bmm'}


def _matmul_node_name(rank_a, rank_b):
    """The grad_fn PyTorch's matmul ends with: the kernel it calls for 1-D/2-D operands, or the
    reshape it does around a batched product (a transposed copy for a matrix @ batch)."""
    if rank_a <= 2 and rank_b <= 2:
        return {(1, 1): 'DotBackward0', (2, 1): 'MvBackward0', (1, 2): 'SqueezeBackward4',
                (2, 2): 'MmBackward0'}.get((rank_a, rank_b))
    return 'CloneBackward0' if rank_a == 2 else 'UnsafeViewBackward0'


# C++'s names of the element types, which PyTorch's mm names in its dtype error
_CPP_TYPES = {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'int64': 'long int',
              'int32': 'int', 'int16': 'short int', 'int8': 'signed char',
              'uint8': 'unsigned char', 'bool': 'bool', 'complex64': 'c10::complex<float>',
              'complex128': 'c10::complex<double>'}


def _mixed_dtype_kernel(rank_a, rank_b):
    """The kernel whose dtype error PyTorch's matmul gives for operands of these ranks."""
    if rank_a == 1 and rank_b == 1:
        return 'dot'
    if rank_b == 1:
        return 'mv'
    return 'mm' if rank_b == 2 else 'bmm'


def _refuse_mixed_dtypes(kernel, a, b):
    """PyTorch's products take operands of one dtype (no promotion): its error, per kernel."""
    words = [_dispatch._type_word(t._data.dtype) for t in (a, b)]
    if kernel == 'mm':
        names = [_CPP_TYPES[t._data.dtype.name] for t in (a, b)]
        message = f'expected m1 and m2 to have the same dtype, but got: {names[0]} != {names[1]}'
    elif kernel == 'mv':
        message = (f'addmv input tensors must have the same dtype, but got {words[1]}, '
                   f'{words[0]}, and {words[1]}')
    elif kernel == 'dot':
        message = f'dot : expected both vectors to have same dtype, but found {words[0]} and ' \
                  f'{words[1]}'
    else:
        message = f'expected scalar type {words[0]} but found {words[1]}'
    raise RuntimeError(message)


def _refuse_mixed_scalar_types(tensors):
    """PyTorch's error for operands of several dtypes where a kernel takes one (einsum,
    cross): the first operand's dtype is the one expected."""
    first = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != first:
            raise RuntimeError(f'expected scalar type {_dispatch._type_word(first)} but found '
                               f'{_dispatch._type_word(t._data.dtype)}')


def _require_dims(name, t, dims, which):
    if t._data.ndim != dims:
        raise RuntimeError(f'{name}: {which} must be a {dims}D tensor, got a {t._data.ndim}D tensor '
                           f'of shape {list(t.shape)}')


def mm(input, mat2):
    _tensor_arguments('mm', input, mat2, 'mat2')
    _require_dims('mm', input, 2, 'self')
    _require_dims('mm', mat2, 2, 'mat2')
    if input._data.dtype != mat2._data.dtype:
        _refuse_mixed_dtypes('mm', input, mat2)
    return dispatch(MatMul('mm'), input, mat2)


def bmm(input, mat2):
    _tensor_arguments('bmm', input, mat2, 'mat2')
    if input.is_sparse or mat2.is_sparse:   # (sparse COO @ dense: its own kernel and checks)
        from ..sparse._dense_products import sparse_bmm
        return sparse_bmm(input, mat2)
    _require_dims('bmm', input, 3, 'batch1')
    _require_dims('bmm', mat2, 3, 'batch2')
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f'bmm: batch1 and batch2 must have the same batch size, got '
                           f'{input.shape[0]} and {mat2.shape[0]}')
    if input._data.dtype != mat2._data.dtype:
        _refuse_mixed_dtypes('bmm', input, mat2)
    return dispatch(MatMul('bmm'), input, mat2)


def mv(input, vec):
    _tensor_arguments('mv', input, vec, 'vec')
    _require_dims('mv', input, 2, 'self')
    _require_dims('mv', vec, 1, 'vec')
    if input._data.dtype != vec._data.dtype:
        _refuse_mixed_dtypes('mv', input, vec)
    return dispatch(MatMul('mv'), input, vec)


def dot(input, other):
    _tensor_arguments('dot', input, other, 'tensor')
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f'1D tensors expected, but got {input._data.ndim}D and '
                           f'{other._data.ndim}D tensors')
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f'inconsistent tensor size, expected tensor [{input.shape[0]}] and src '
                           f'[{other.shape[0]}] to have the same number of elements, but got '
                           f'{input.shape[0]} and {other.shape[0]} elements respectively')
    if input._data.dtype != other._data.dtype:
        _refuse_mixed_dtypes('dot', input, other)
    return dispatch(MatMul('dot'), input, other)


inner_product = dot


def vdot(input, other):
    _tensor_arguments('vdot', input, other)
    return dot(input.conj() if input.is_complex() else input, other)


def outer(input, vec2):
    _tensor_arguments('outer', input, vec2, 'vec2')
    for name, v in (('self', input), ('vec2', vec2)):   # (flattening them would be another
        if v.dim() != 1:                                  # product than the one asked for)
            raise RuntimeError(f'outer: Expected 1-D argument {name}, but got {v.dim()}-D')
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def inner(input, other):
    _tensor_arguments('inner', input, other)
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


@accepts_out(exact_dtype=True)
def tensordot(a, b, dims=2, out=None):
    """Contract `dims` (an int or two lists of dims) of a and b, via one matmul."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f'tensordot expects dims >= 0, but got dims={dims}')
        dims_a = list(range(a.dim() - dims, a.dim()))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    dims_a = [d % a.dim() for d in dims_a]
    dims_b = [d % b.dim() for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            # a size-1 contracted dim broadcasts, as in PyTorch: the other side's dim is
            # summed first (sum_i x_i * y_0 = y_0 * sum_i x_i)
            if b.shape[db] == 1:
                a = a.sum(da, keepdim=True)
            elif a.shape[da] == 1:
                b = b.sum(db, keepdim=True)
            else:
                raise RuntimeError(f'contracted dimensions need to match, but first has size '
                                   f'{a.shape[da]} in dim {da} and second has size '
                                   f'{b.shape[db]} in dim {db}')
    free_a = [d for d in range(a.dim()) if d not in dims_a]
    free_b = [d for d in range(b.dim()) if d not in dims_b]
    k = 1
    for d in dims_a:
        k *= a.shape[d]
    rows = math.prod(a.shape[d] for d in free_a)     # (not -1: k may be 0)
    columns = math.prod(b.shape[d] for d in free_b)
    left = a.permute(free_a + dims_a).reshape(rows, k)
    right = b.permute(dims_b + free_b).reshape(k, columns)
    if not free_a and not free_b:
        # a total contraction is a dot product in PyTorch (which autocast treats as a dot)
        return left.reshape(-1).dot(right.reshape(-1))
    shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return left.matmul(right).reshape(shape)


# ---------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------

def _parse_einsum(equation, operands):
    equation = equation.replace(' ', '')
    if '->' in equation:
        lhs, rhs = equation.split('->')
    else:
        lhs, rhs = equation, None
    terms = lhs.split(',')
    if len(terms) != len(operands):
        raise RuntimeError('einsum(): more operands were provided than specified in the equation'
                           if len(terms) < len(operands) else
                           'einsum(): fewer operands were provided than specified in the equation')
    # expand '...' into explicit letters so that backward can reason about every dimension
    used = set(c for c in equation if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    max_ellipsis = 0
    for term, op in zip(terms, operands):
        if '...' in term:
            max_ellipsis = max(max_ellipsis, op.ndim - (len(term) - 3))
    ell = ''.join(spare[:max_ellipsis])
    expanded = []
    for term, op in zip(terms, operands):
        if '...' in term:
            n = op.ndim - (len(term) - 3)
            term = term.replace('...', ell[max_ellipsis - n:])
        if len(term) != op.ndim:
            raise RuntimeError(f'einsum(): the number of subscripts in the equation ({len(term)}) '
                               f'does not match the number of dimensions ({op.ndim}) for operand '
                               f'{len(expanded)}' + ('' if '...' in equation else
                                                     ' and no ellipsis was given'))
        expanded.append(term)
    if rhs is None:
        counts = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + ''.join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace('...', ell)
    return expanded, rhs


class Einsum(Node):
    """A product of its operands (multilinear, so holomorphic in each): an operand's gradient is
    the einsum of the output gradient with the other operands, conjugated where complex."""
    complex_autograd = True

    def __init__(self, terms, output):
        self.terms, self.output = terms, output
        self.saved_inputs = tuple(range(len(terms)))

    def forward(self, *arrays):
        dt = promote(arrays)
        arrays = [a.astype(dt, copy=False) for a in arrays]
        sizes = {}
        for term, a in zip(self.terms, arrays):
            for c, s in zip(term, a.shape):
                if sizes.setdefault(c, s) != s and s != 1 and sizes[c] != 1:
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                       f"(original->remapped): subscript '{c}' has size {sizes[c]} "
                                       f"and {s}")
        self._sizes = sizes
        equation = ','.join(self.terms) + '->' + self.output
        if dt == np.bool_:
            arrays = self._bool_operands(arrays)
        xp = xp_of(*arrays)
        return _half_gemm.einsum(equation, *arrays, optimize=len(arrays) > 2) if xp is np else \
            xp.einsum(equation, *arrays)

    def _bool_operands(self, arrays):
        """PyTorch on bool operands: a sum over one operand counts (int64, NumPy's einsum
        would OR), a contraction of two is its bmm's refusal, a plain product stays bool."""
        summed = set(''.join(self.terms)) - set(self.output)
        if not summed:
            return arrays
        if len(arrays) > 1:
            raise NotImplementedError('"bmm" not implemented for \'Bool\'')
        return [a.astype(np.int64) for a in arrays]

    def backward(self, g):
        operands = self.saved_tensors
        grads = []
        for i, edge in enumerate(self._edges):
            if edge is None:
                grads.append(None)
                continue
            grads.append(_einsum_operand_grad(i, self.terms, self.output, operands, g, self._sizes))
        return tuple(grads)


def _einsum_operand_grad(i, terms, output, operands, g, sizes):
    """d out / d operand_i as an einsum of the gradient with the other operands.

    Repeated letters in operand i (diagonals, e.g. 'ii') get fresh letters tied to the original by
    identity matrices; letters found only in operand i (summed away) are broadcast back."""
    from .._creation import eye
    target = terms[i]
    used = set(''.join(terms) + output)
    fresh = iter(c for c in string.ascii_letters if c not in used)
    seen = set()
    renamed = ''
    ties = []
    for c in target:
        if c in seen:
            new = next(fresh)
            ties.append((c, new))
            renamed += new
        else:
            seen.add(c)
            renamed += c
    sources = [output] + [t for j, t in enumerate(terms) if j != i]
    tensors = [g] + [_conj(op) for j, op in enumerate(operands) if j != i]
    for c, new in ties:
        sources.append(c + new)
        tensors.append(eye(sizes[c], dtype=g.dtype, device=g.device))
    available = set(''.join(sources))
    missing = [c for c in dict.fromkeys(renamed) if c not in available]
    result_letters = ''.join(c for c in renamed if c not in missing)
    result = einsum(','.join(sources) + '->' + ''.join(dict.fromkeys(result_letters)), *tensors)
    # broadcast letters that only operand i had, then put dims in operand i's order
    current = ''.join(dict.fromkeys(result_letters))
    for c in missing:
        result = result.unsqueeze(-1).expand(*result.shape, sizes[c])
        current += c
    order = [current.index(c) for c in renamed]
    return result.permute(order) if order != list(range(len(order))) else result


def einsum(equation, *operands):
    if isinstance(equation, Tensor):    # the sublist form: einsum(x, [0, 1], y, [1, 2], [0, 2])
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f'einsum(): operand {i} must be a Tensor, got {type(op).__name__}')
    _refuse_mixed_scalar_types(operands)     # (PyTorch's einsum does not promote)
    terms, output = _parse_einsum(equation, [op._data for op in operands])
    return dispatch(Einsum(terms, output), *operands)


def _sublist_equation(args):
    """PyTorch's sublist form as (equation, operands): each operand followed by a list of ints
    in [0, 52) (A-Z, then a-z) or Ellipsis, and an optional output list last."""
    def letters(sublist):
        out = ''
        for n in sublist:
            if n is Ellipsis:
                out += '...'
            elif 0 <= n < 26:
                out += chr(ord('A') + n)
            elif 26 <= n < 52:
                out += chr(ord('a') + n - 26)
            else:
                raise ValueError('einsum(): subscript in subscript list is not within the valid '
                                 'range [0, 52)')
        return out
    if len(args) < 2:
        raise ValueError('einsum(): must specify the equation string and at least one operand, '
                         'or at least one operand and its subscripts list')
    equation = ','.join(letters(sub) for sub in args[1::2])
    if len(args) % 2:
        return equation + '->' + letters(args[-1]), args[:-1:2]
    return equation, args[::2]


def kron(input, other):
    _tensor_arguments('kron', input, other)
    a, b = input, other
    nd = max(a.dim(), b.dim())
    a = a.reshape((1,) * (nd - a.dim()) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.dim()) + tuple(b.shape))
    shape = []
    a_shape, b_shape = [], []
    for sa, sb in zip(a.shape, b.shape):
        a_shape += [sa, 1]
        b_shape += [1, sb]
        shape.append(sa * sb)
    return (a.reshape(a_shape) * b.reshape(b_shape)).reshape(shape)
