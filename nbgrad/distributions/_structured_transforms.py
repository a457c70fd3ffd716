"""Transforms onto structured sets: simplices (softmax, stick-breaking) and matrices
(correlation Cholesky factors, lower Cholesky factors, positive definite). Re-exported by
transforms.py."""
import math

import nbgrad
import nbgrad.nn.functional as F
from . import constraints
from .transforms import Transform, _StatelessTransform, _clipped_sigmoid
from .utils import tril_matrix_to_vec, vec_to_tril_matrix


class CorrCholeskyTransform(Transform):
    """An unconstrained vector of length D*(D-1)/2 -> the Cholesky factor of a D x D correlation
    matrix (lower triangular, positive diagonal, rows of unit norm). Each row of the packed
    vector goes through tanh and then a signed stick-breaking (Stan's construction)."""
    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        x = nbgrad.tanh(x)
        eps = nbgrad.finfo(x.dtype).eps
        x = x.clamp(min=-1 + eps, max=1 - eps)
        r = vec_to_tril_matrix(x, diag=-1)
        # stick-breaking on the squares: y = sign(r) sqrt(z * cumprod(1 - z)) = r * sqrt(cumprod)
        z = r ** 2
        z1m_cumprod_sqrt = (1 - z).sqrt().cumprod(-1)
        r = r + nbgrad.eye(r.shape[-1], dtype=r.dtype, device=r.device)  # a unit diagonal
        return r * F.pad(z1m_cumprod_sqrt[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        # the inverse stick-breaking, then atanh
        y_cumsum = 1 - nbgrad.cumsum(y * y, dim=-1)
        y_cumsum_shifted = F.pad(y_cumsum[..., :-1], [1, 0], value=1)
        y_vec = tril_matrix_to_vec(y, diag=-1)
        y_cumsum_vec = tril_matrix_to_vec(y_cumsum_shifted, diag=-1)
        t = y_vec / y_cumsum_vec.sqrt()
        return (t.log1p() - t.neg().log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        # domain and codomain differ in dimension: this is the log-det from x to the packed
        # lower triangle of y. diag=-2 spares shifting the cumulative sums to the right.
        y1m_cumsum = 1 - (y * y).cumsum(dim=-1)
        y1m_cumsum_tril = tril_matrix_to_vec(y1m_cumsum, diag=-2)
        stick_breaking_logdet = 0.5 * y1m_cumsum_tril.log().sum(-1)
        tanh_logdet = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(dim=-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        # (..., N) -> (..., D, D)
        if len(shape) < 1:
            raise ValueError('Too few dimensions on input')
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError('Input is not a flattened lower-diagonal number')
        return shape[:-1] + (d, d)

    def inverse_shape(self, shape):
        # (..., D, D) -> (..., N)
        if len(shape) < 2:
            raise ValueError('Too few dimensions on input')
        if shape[-2] != shape[-1]:
            raise ValueError('Input is not square')
        d = shape[-1]
        return shape[:-2] + (d * (d - 1) // 2,)


def _check_has_last_dim(shape):
    if len(shape) < 1:
        raise ValueError('Too few dimensions on input')


class SoftmaxTransform(_StatelessTransform):
    """Unconstrained vectors -> the simplex by exp and normalisation (not bijective; acts nearly
    coordinate-wise, which suits coordinate-wise optimisers)."""
    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        _check_has_last_dim(shape)
        return shape

    def inverse_shape(self, shape):
        _check_has_last_dim(shape)
        return shape


class StickBreakingTransform(_StatelessTransform):
    """Unconstrained vectors of length K -> the simplex of length K + 1 by stick breaking (an
    iterated sigmoid): bijective, but mixes the coordinates."""
    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    @staticmethod
    def _offset(x):
        # log(K + 1 - k) centres the k-th logit so x = 0 maps to the simplex's centre
        return x.shape[-1] + 1 - x.new_ones(x.shape[-1]).cumsum(-1)

    def _call(self, x):
        z = _clipped_sigmoid(x - self._offset(x).log())
        z_cumprod = (1 - z).cumprod(-1)
        return F.pad(z, [0, 1], value=1) * F.pad(z_cumprod, [1, 0], value=1)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = y.shape[-1] - y.new_ones(y_crop.shape[-1]).cumsum(-1)
        # the remaining stick can round to <= 0 when y[-1] ~ 0: keep its log finite
        sf = nbgrad.clamp(1 - y_crop.cumsum(-1), min=nbgrad.finfo(y.dtype).tiny)
        return y_crop.log() - sf.log() + offset.log()

    def log_abs_det_jacobian(self, x, y):
        x = x - self._offset(x).log()
        # with 1 - sigmoid(x) = exp(-x) sigmoid(x)
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        _check_has_last_dim(shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        _check_has_last_dim(shape)
        return shape[:-1] + (shape[-1] - 1,)


class LowerCholeskyTransform(_StatelessTransform):
    """Unconstrained square matrices -> lower-triangular ones with a positive (exp) diagonal."""
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(_StatelessTransform):
    """Unconstrained square matrices -> positive-definite ones, L @ L.mT with L as
    LowerCholeskyTransform makes it."""
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        x = LowerCholeskyTransform()(x)
        return x @ x.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(nbgrad.linalg.cholesky(y))
