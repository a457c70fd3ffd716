"""LAPACK's Householder representation of QR: geqrf (the factorization), householder_product /
orgqr (Q's first n columns from the reflectors) and ormqr (multiplying by Q without forming it).

geqrf stores R on and above the diagonal of `a` and the reflectors' vectors below it: reflector i
is H_i = I - tau_i v_i v_i^H with v_i = (0, ..., 0, 1, a[i+1:, i]) (1 at row i), and
Q = H_1 H_2 ... H_k. NumPy's qr(mode='raw') runs the same LAPACK routine (geqrf) and returns its
output transposed (Fortran order), so the values are LAPACK's, as PyTorch's are.

householder_product and ormqr apply the reflectors one by one as Tensor ops, so their gradients
(PyTorch has both) come from autograd; k small steps per call, each a matrix-vector product.
geqrf has no gradient in PyTorch either.
"""
import numpy as np

from .._creation import eye
from .._dispatch import dispatch, no_kernel, _type_word
from .._tensor import Tensor
from ..autograd.graph import Node
from ..return_types import _FIELDS, return_type
from ._util import xp_of

# torch.return_types.geqrf (registered here, next to the only op that returns it)
_FIELDS.setdefault('geqrf', ('a', 'tau'))


class Geqrf(Node):
    """(a, tau) of LAPACK's geqrf, batched; refuses backward as PyTorch does."""
    num_outputs = 2

    def forward(self, a):
        xp = xp_of(a)
        host = a if xp is np else a.get()
        m, n = host.shape[-2:]
        if host.size == 0:
            h = host.copy()
            tau = np.zeros(host.shape[:-2] + (min(m, n),), host.dtype)
        else:
            h, tau = np.linalg.qr(host, mode='raw')
            h = np.ascontiguousarray(h.swapaxes(-1, -2))
        results = (h.astype(host.dtype, copy=False), tau.astype(host.dtype, copy=False))
        if xp is not np:
            results = tuple(xp.asarray(r) for r in results)
        return results

    def backward(self, g_a, g_tau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")

    def name(self):
        return 'GeqrfBackward0'


def _check_floating(kernel, *tensors):
    for t in tensors:
        if t._data.dtype.kind not in 'fc' or t._data.dtype == np.float16:
            raise no_kernel(kernel, t._data.dtype)


def geqrf(input):
    """(a, tau): R above the diagonal of a, the Householder vectors below it, their scales in
    tau (torch.geqrf)."""
    if not isinstance(input, Tensor) or input.dim() < 2:
        raise RuntimeError('torch.geqrf: input must have at least 2 dimensions.')
    _check_floating('geqrf_cpu', input)
    return return_type('geqrf', *dispatch(Geqrf(), input))


def _reflector_vectors(input, k):
    """The vectors v_i as the columns of an (m, k) matrix: unit diagonal, input's values below
    it, zeros above (a Tensor expression, so gradients reach the strictly lower part)."""
    m = input.shape[-2]
    below = input.narrow(-1, 0, k).tril(-1)
    return below + eye(m, k, dtype=input.dtype, device=input.device)


def _apply_reflector(C, v, tau, left):
    """H C (left) or C H for H = I - tau v v^H; v (..., m, 1), tau (...,)."""
    t = tau.unsqueeze(-1).unsqueeze(-1)
    if left:
        return C - t * (v @ (v.mH @ C))
    return C - (C @ v) @ (t * v.mH)


def householder_product(input, tau):
    """The first n columns of H_1 H_2 ... H_k (torch.linalg.householder_product / orgqr) for
    input (..., m, n) with m >= n and tau (..., k), k <= n."""
    name = 'torch.linalg.householder_product'
    if not isinstance(input, Tensor) or input.dim() < 2:
        raise RuntimeError(f'{name}: input must have at least 2 dimensions.')
    m, n = input.shape[-2:]
    if m < n:
        raise RuntimeError(f'{name}: input.shape[-2] must be greater than or equal to '
                           f'input.shape[-1]')
    if tau.shape[-1:] and tau.shape[-1] > n:
        raise RuntimeError(f'{name}: input.shape[-1] must be greater than or equal to '
                           f'tau.shape[-1]')
    if tau.dim() != input.dim() - 1:
        raise RuntimeError(f'{name}: Expected tau to have one dimension less than input, but '
                           f'got tau.ndim equal to {tau.dim()} and input.ndim is equal to '
                           f'{input.dim()}')
    if tuple(tau.shape[:-1]) != tuple(input.shape[:-2]):
        raise RuntimeError(f'{name}: Expected batch dimensions of tau to be equal to '
                           f'input.shape[:-2], but got {list(tau.shape[:-1])}')
    if tau.dtype != input.dtype:
        raise RuntimeError(f'{name}: tau dtype {_type_word(tau._data.dtype)} does not match '
                           f'input dtype {_type_word(input._data.dtype)}')
    _check_floating('orgqr_cpu', input)
    k = tau.shape[-1]
    V = _reflector_vectors(input, k)
    Q = eye(m, n, dtype=input.dtype, device=input.device).expand(tuple(input.shape))
    for i in reversed(range(k)):   # H_1 (H_2 (... (H_k I)))
        Q = _apply_reflector(Q, V.narrow(-1, i, 1), tau.select(-1, i), left=True)
    return Q if k else Q.clone()


def orgqr(input, input2):
    """torch.orgqr: householder_product under LAPACK's name."""
    return householder_product(input, input2)


def ormqr(input, input2, input3, left=True, transpose=False):
    """Q C, Q^H C (transpose), C Q or C Q^H (not left) for Q = H_1 ... H_k of geqrf's
    (input, tau=input2), C = input3, without forming Q (torch.ormqr)."""
    A, tau, C = input, input2, input3
    name = 'torch.ormqr'
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError(f'{name}: input must have at least 2 dimensions.')
    if not isinstance(C, Tensor) or C.dim() < 2:
        raise RuntimeError(f'{name}: other must have at least 2 dimensions.')
    if C.dim() != A.dim():
        raise RuntimeError(f'{name}: Expected other to have the same number of dimensions as '
                           f'input, but got other.ndim equal to {C.dim()} and input.ndim is '
                           f'equal to {A.dim()}')
    if tau.dim() != A.dim() - 1:
        raise RuntimeError(f'{name}: Expected tau to have one dimension less than input, but '
                           f'got tau.ndim equal to {tau.dim()} and input.ndim is equal to '
                           f'{A.dim()}')
    m = A.shape[-2]
    side = -2 if left else -1
    if C.shape[side] != m:
        raise RuntimeError(f'{name}: other.shape[{side}] must be equal to input.shape[-2]')
    k = tau.shape[-1]
    if k > min(C.shape[side], A.shape[-1]):
        raise RuntimeError(f'{name}: tau.shape[-1] must be equal to min(other.shape[{side}], '
                           f'input.shape[-1])')
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]) or \
            tuple(C.shape[:-2]) != tuple(A.shape[:-2]):
        raise RuntimeError(f'{name}: Expected batch dimensions of tau and other to be equal to '
                           f'input.shape[:-2], but got {list(tau.shape[:-1])} and '
                           f'{list(C.shape[:-2])}')
    for what, t in (('other', C), ('tau', tau)):
        if t.dtype != A.dtype:
            raise RuntimeError(f'{name}: Expected input and {what} to have the same dtype, but '
                               f'input has dtype{_type_word(A._data.dtype)} and {what} has dtype '
                               f'{_type_word(t._data.dtype)}')
    _check_floating('ormqr_cpu', A)
    V = _reflector_vectors(A, k)
    # Q = H_1 ... H_k and Q^H = H_k^H ... H_1^H with H_i^H = I - conj(tau_i) v_i v_i^H: the
    # reflector nearest C acts first
    scales = tau.conj() if transpose else tau
    first_to_last = (left and transpose) or (not left and not transpose)
    order = range(k) if first_to_last else reversed(range(k))
    result = C
    for i in order:
        result = _apply_reflector(result, V.narrow(-1, i, 1), scales.select(-1, i), left)
    return result if k else result.clone()
