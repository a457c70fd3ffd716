"""PyTorch's torch.nn.utils.parametrizations: orthogonal, weight_norm and spectral_norm written as
parametrizations (nn.utils.parametrize), with PyTorch's state_dict layout:

- weight_norm: parametrizations.weight.original0 (g) and original1 (v);
- spectral_norm: parametrizations.weight.original and the power-iteration vectors
  parametrizations.weight.0._u / _v, drawn from the default generator as PyTorch draws them;
- orthogonal: parametrizations.weight.original and, with the dynamic trivialization,
  parametrizations.weight.0.base.

nbgrad has no torch.matrix_exp, torch.geqrf nor torch.linalg.householder_product yet: the
private _matrix_exp and _householder_product below are written in Tensor ops (so autograd
differentiates them), and _geqrf (used without gradients) calls LAPACK through NumPy.
"""
import math
from enum import Enum, auto

import numpy as np

import nbgrad
from ..._tensor import Tensor
from .. import functional as F
from ..modules.module import Module
from . import parametrize
from .parametrize import _size
from .weight_norm import _norm_except_dim, _weight_norm

__all__ = ['orthogonal', 'spectral_norm', 'weight_norm']


# ---------------------------------------------------------------------------------------------
# Linear algebra the orthogonal maps need
# ---------------------------------------------------------------------------------------------

# Higham's [13/13] Padé coefficients and the 1-norm up to which they are accurate in float64
# ("The scaling and squaring method for the matrix exponential revisited", 2005).
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_PADE13_THETA = 5.371920351148152


def _matrix_exp(A):
    """exp(A) for a (batch of) square matrices: scaling and squaring around the [13/13] Padé
    approximant, all in differentiable Tensor ops."""
    with nbgrad.no_grad():
        norm = A.abs().sum(-2).amax().item() if A.numel() else 0.0
    squarings = max(0, math.ceil(math.log2(norm / _PADE13_THETA))) if norm > 0 else 0
    A = A / 2.0 ** squarings
    b = _PADE13
    identity = nbgrad.eye(A.size(-1), dtype=A.dtype, device=A.device)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 +
             b[1] * identity)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + \
        b[0] * identity
    E = nbgrad.linalg.solve(V - U, V + U)
    for _ in range(squarings):
        E = E @ E
    return E


def _householder_product(A, tau):
    """torch.linalg.householder_product: the first k columns of H_1 ... H_k, where
    H_i = I - tau_i v_i v_i^H and v_i is column i of A below the diagonal, with a 1 on it."""
    n, k = A.size(-2), A.size(-1)
    eye_nk = nbgrad.eye(n, k, dtype=A.dtype, device=A.device)
    V = A.tril(-1) + eye_nk
    Q = eye_nk.expand(*A.shape[:-2], n, k)
    for i in reversed(range(k)):  # H_1 (H_2 (... (H_k E))), each step an n x k update
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.mH @ Q)
    return Q


def _geqrf(A):
    """torch.geqrf (LAPACK's ?geqrf) through NumPy: R on and above the diagonal, the Householder
    vectors below it, and their scales tau. Not differentiable."""
    h, tau = np.linalg.qr(A.detach().cpu().numpy(), mode='raw')  # h is the transpose
    return np.ascontiguousarray(np.swapaxes(h, -1, -2)), tau


def _is_orthogonal(Q):
    n, k = Q.size(-2), Q.size(-1)
    identity = nbgrad.eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * nbgrad.finfo(Q.dtype).eps
    return nbgrad.allclose(Q.mH @ Q, identity, atol=eps)


def _make_orthogonal(A):
    """The Q of A = QR (A tall) with diag(R) real and non-negative."""
    Q, R = nbgrad.linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


# ---------------------------------------------------------------------------------------------
# orthogonal
# ---------------------------------------------------------------------------------------------

class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError('The householder parametrization does not support complex tensors.')
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer('base', None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is now n x k with n >= k
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            # the lower triangle of X (padded to n x n) defines a skew-Hermitian A
            X = X.tril()
            if n != k:
                X = nbgrad.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:  # Cayley: (I - A/2)^-1 (I + A/2)
                identity = nbgrad.eye(n, dtype=A.dtype, device=A.device)
                Q = nbgrad.linalg.solve(nbgrad.add(identity, A, alpha=-0.5),
                                        nbgrad.add(identity, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            # X's strict lower triangle holds the reflectors; the signs of its diagonal flip
            # the columns
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, 'base'):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with nbgrad.no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f'Expected a matrix or batch of matrices of shape '
                             f'{_size(self.shape)}. Got a tensor of shape {_size(Q.shape)}.')
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, 'base'):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError('It is not possible to assign to the matrix '
                                          'exponential or the Cayley parametrizations when '
                                          'use_trivialization=False.')
            # the Householder vectors of Q, with the signs of R's diagonal on the diagonal
            A, tau = _geqrf(Q)
            diagonal = np.sign(np.diagonal(A, axis1=-2, axis2=-1))
            diagonal = np.where(tau == 0.0, -diagonal, diagonal)
            rows = np.arange(k)
            A[..., rows, rows] = diagonal
            A = nbgrad.tensor(A, device=Q.device)
            return A.mT if transpose else A
        # dynamic trivialization: Q (completed to a square orthogonal matrix) becomes the base,
        # and the original is set to the point that the map sends to the identity
        if n == k:
            Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
        else:
            N = nbgrad.randn(*(Q.size()[:-2] + (n, n - k)), dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(nbgrad.cat([Q, N], dim=-1))
        self.base = Q
        neg_identity = nbgrad.zeros_like(Q_init)
        neg_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_identity


def orthogonal(module, name='weight', orthogonal_map=None, *, use_trivialization=True):
    """Make module.<name> (a matrix or batch of matrices) orthogonal: orthonormal columns when it
    is tall, orthonormal rows when it is wide. orthogonal_map: 'matrix_exp', 'cayley' or
    'householder' (default: 'matrix_exp' for square or complex matrices, else 'householder')."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError('Expected a matrix or batch of matrices. '
                         f'Got a tensor of {weight.ndim} dimensions.')
    if orthogonal_map is None:
        orthogonal_map = 'matrix_exp' if weight.size(-2) == weight.size(-1) or \
            weight.is_complex() else 'householder'
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------------------------------------
# weight_norm
# ---------------------------------------------------------------------------------------------

class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name='weight', dim=0):
    """module.<name> = g * v / ||v||, with g = parametrizations.<name>.original0 (the norms over
    every dim but `dim`; dim=None: one norm) and v = parametrizations.<name>.original1."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_old_weight_norm(state_dict, prefix, local_metadata, strict, missing_keys,
                             unexpected_keys, error_msgs):
        """A state_dict saved with the deprecated hook (<name>_g, <name>_v) loads too."""
        g_key, v_key = f'{prefix}{name}_g', f'{prefix}{name}_v'
        if g_key in state_dict and v_key in state_dict:
            state_dict[f'{prefix}parametrizations.{name}.original0'] = state_dict.pop(g_key)
            state_dict[f'{prefix}parametrizations.{name}.original1'] = state_dict.pop(v_key)

    # PyTorch's _register_load_state_dict_pre_hook: a hook called without the module
    module._add_hook(module._load_state_dict_pre_hooks, load_old_weight_norm)
    return module


# ---------------------------------------------------------------------------------------------
# spectral_norm
# ---------------------------------------------------------------------------------------------

class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError('Dimension out of range (expected to be in range of '
                             f'[-{ndim}, {ndim - 1}] but got {dim})')
        if n_power_iterations <= 0:
            raise ValueError('Expected n_power_iterations to be positive, but got '
                             f'n_power_iterations={n_power_iterations}')
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            # u and v start random (in PyTorch's order, from the default generator) and are
            # brought close to the top singular vectors at once
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer('_u', F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer('_v', F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        with nbgrad.no_grad():
            for _ in range(n_power_iterations):
                # in place, as PyTorch does: the buffers stay the same tensors
                self._u = F.normalize(nbgrad.mv(weight_mat, self._v), dim=0, eps=self.eps,
                                      out=self._u)
                self._v = F.normalize(nbgrad.mv(weight_mat.H, self._u), dim=0, eps=self.eps,
                                      out=self._v)

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = nbgrad.vdot(u, nbgrad.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value  # value / sigma has no unique preimage; this one keeps value's scale


def spectral_norm(module, name='weight', n_power_iterations=1, eps=1e-12, dim=None):
    """module.<name> divided by its largest singular value, estimated by power iteration
    (n_power_iterations steps each time it is read in training mode). dim: the output dim
    (default 0, 1 for ConvTranspose)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def _is_conv_transpose(module):
    nn = nbgrad.nn
    return isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
