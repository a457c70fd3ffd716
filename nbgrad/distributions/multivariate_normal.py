"""The multivariate normal distribution, given by a covariance matrix, a precision matrix or the
lower Cholesky factor of the covariance (scale_tril)."""
import math

import nbgrad
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ['MultivariateNormal']


def _batch_mv(bmat, bvec):
    """Matrix-vector products over broadcast batch dims: bmat (..., n, m) @ bvec (..., m)."""
    return nbgrad.matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T M^-1 x for M = L L^T, with bL (..., n, n) broadcastable to bx's batch (..., n).

    bx's batch dims are regrouped so that one triangular solve per distinct L handles every x
    using it: each batch dim of L pairs with the matching dim of x, split as (repeats, size)."""
    n = bx.size(-1)
    bx_batch_shape = bx.shape[:-1]
    bx_batch_dims = len(bx_batch_shape)
    bL_batch_dims = bL.dim() - 2
    outer_batch_dims = bx_batch_dims - bL_batch_dims
    old_batch_dims = outer_batch_dims + bL_batch_dims
    new_batch_dims = outer_batch_dims + 2 * bL_batch_dims
    # reshape bx to (outer..., r1, l1, r2, l2, ..., n), where l_i are bL's batch sizes
    bx_new_shape = bx.shape[:outer_batch_dims]
    for sL, sx in zip(bL.shape[:-2], bx.shape[outer_batch_dims:-1]):
        bx_new_shape += (sx // sL, sL)
    bx_new_shape += (n,)
    bx = bx.reshape(bx_new_shape)
    # then bring the l_i last: (outer..., r1, r2, ..., l1, l2, ..., n)
    permute_dims = (list(range(outer_batch_dims))
                    + list(range(outer_batch_dims, new_batch_dims, 2))
                    + list(range(outer_batch_dims + 1, new_batch_dims, 2))
                    + [new_batch_dims])
    bx = bx.permute(permute_dims)

    flat_L = bL.reshape(-1, n, n)                        # b x n x n
    flat_x = bx.reshape(-1, flat_L.size(0), n)           # c x b x n
    flat_x_swap = flat_x.permute(1, 2, 0)                # b x n x c
    M_swap = nbgrad.linalg.solve_triangular(flat_L, flat_x_swap, upper=False).pow(2).sum(-2)
    M = M_swap.t()                                       # c x b

    permuted_M = M.reshape(bx.shape[:-1])                # (outer..., r1, ..., l1, ...)
    permute_inv_dims = list(range(outer_batch_dims))
    for i in range(bL_batch_dims):
        permute_inv_dims += [outer_batch_dims + i, old_batch_dims + i]
    reshaped_M = permuted_M.permute(permute_inv_dims)    # (outer..., r1, l1, r2, l2, ...)
    return reshaped_M.reshape(bx_batch_shape)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor L of P^-1 without inverting P: with U upper triangular and
    P = U U^T (a Cholesky factorisation of P with rows and columns reversed), L = U^-T."""
    Lf = nbgrad.linalg.cholesky(nbgrad.flip(P, (-2, -1)))
    L_inv = nbgrad.transpose(nbgrad.flip(Lf, (-2, -1)), -2, -1)
    Id = nbgrad.eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return nbgrad.linalg.solve_triangular(L_inv, Id, upper=False)


_MATRIX_ARGS = ('covariance_matrix', 'precision_matrix', 'scale_tril')


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None):
    exactly one of the three matrices, each batch_shape + (n, n), broadcast with loc."""
    arg_constraints = {'loc': constraints.real_vector,
                       'covariance_matrix': constraints.positive_definite,
                       'precision_matrix': constraints.positive_definite,
                       'scale_tril': constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError('loc must be at least one-dimensional.')
        given = {name: value for name, value in zip(
            _MATRIX_ARGS, (covariance_matrix, precision_matrix, scale_tril)) if value is not None}
        if len(given) != 1:
            raise ValueError('Exactly one of covariance_matrix or precision_matrix or scale_tril '
                             'may be specified.')
        ((name, matrix),) = given.items()
        if matrix.dim() < 2:
            what = 'scale_tril matrix' if name == 'scale_tril' else name
            raise ValueError(f'{what} must be at least two-dimensional, with optional leading '
                             'batch dimensions')
        batch_shape = nbgrad.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)

        if name == 'scale_tril':
            self._unbroadcasted_scale_tril = matrix
        elif name == 'covariance_matrix':
            self._unbroadcasted_scale_tril = nbgrad.linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        cov_shape = batch_shape + self.event_shape + self.event_shape
        new.loc = self.loc.expand(batch_shape + self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in _MATRIX_ARGS:
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(MultivariateNormal, new).__init__(batch_shape, self.event_shape,
                                                validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return nbgrad.matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        return nbgrad.cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return (-0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M)
                - self._half_log_det())

    def entropy(self):
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if len(self._batch_shape) == 0 else H.expand(self._batch_shape)
