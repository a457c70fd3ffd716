"""The Wishart distribution over positive definite matrices, given by a covariance matrix, a
precision matrix or the covariance's lower Cholesky factor (scale_tril)."""
import math
import warnings

import nbgrad
from . import constraints
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .multivariate_normal import _precision_to_scale_tril
from .utils import _NUMBER_TYPES, lazy_property

__all__ = ['Wishart']

_log_2 = math.log(2)


def _mvdigamma(x, p):
    """The multivariate digamma function: sum over i < p of digamma(x - i / 2)."""
    if not x.gt((p - 1) / 2).all():
        raise AssertionError('Wrong domain for multivariate digamma function.')
    halves = nbgrad.arange(p, dtype=x.dtype, device=x.device).div(2).expand(x.shape + (-1,))
    return nbgrad.digamma(x.unsqueeze(-1) - halves).sum(-1)


def _clamp_above_eps(x):
    # (x is nonnegative here)
    return x.clamp(min=nbgrad.finfo(x.dtype).eps)


class Wishart(ExponentialFamily):
    """Wishart(df, covariance_matrix=None, precision_matrix=None, scale_tril=None): the law of
    X^T X for df rows X_i ~ MultivariateNormal(0, covariance_matrix) (df > dim - 1, real).
    Exactly one of the three matrices; all computations go through scale_tril. rsample uses
    the Bartlett decomposition."""
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {'covariance_matrix': constraints.positive_definite,
                'precision_matrix': constraints.positive_definite,
                'scale_tril': constraints.lower_cholesky,
                'df': constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        matrices = (covariance_matrix, precision_matrix, scale_tril)
        if sum(m is not None for m in matrices) != 1:
            raise AssertionError('Exactly one of covariance_matrix or precision_matrix or '
                                 'scale_tril may be specified.')
        param = next(m for m in matrices if m is not None)
        if param.dim() < 2:
            raise ValueError('scale_tril must be at least two-dimensional, with optional '
                             'leading batch dimensions')
        if isinstance(df, _NUMBER_TYPES):
            batch_shape = nbgrad.Size(param.shape[:-2])
            self.df = nbgrad.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = nbgrad.broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df.expand(batch_shape)
        event_shape = param.shape[-2:]
        if self.df.le(event_shape[-1] - 1).any():
            raise ValueError(f'Value of df={df} expected to be greater than '
                             f'ndim - 1 = {event_shape[-1] - 1}.')
        if scale_tril is not None:
            self.scale_tril = param.expand(batch_shape + (-1, -1))
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(batch_shape + (-1, -1))
        else:
            self.precision_matrix = param.expand(batch_shape + (-1, -1))
        if self.df.lt(event_shape[-1]).any():
            warnings.warn('Low df values detected. Singular samples are highly likely to occur '
                          'for ndim - 1 < df < ndim.', stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = nbgrad.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2(batch_shape)

    def _bartlett_chi2(self, batch_shape):
        """The Chi2(df - i), i < dim, of the squared diagonal of the Bartlett factor."""
        p = self._event_shape[-1]
        steps = nbgrad.arange(p, dtype=self._unbroadcasted_scale_tril.dtype,
                             device=self._unbroadcasted_scale_tril.device)
        return Chi2(df=self.df.unsqueeze(-1) - steps.expand(batch_shape + (-1,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        cov_shape = batch_shape + self.event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ('covariance_matrix', 'scale_tril', 'precision_matrix'):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(Wishart, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._bartlett_chi2(batch_shape)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-2, -1)).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        identity = nbgrad.eye(self._event_shape[-1], device=L.device, dtype=L.dtype)
        return nbgrad.cholesky_solve(identity, L).expand(self._batch_shape + self._event_shape)

    def _per_matrix(self, x):
        """x (batch_shape) viewed as batch_shape + (1, 1), to scale matrices."""
        return x.view(self._batch_shape + (1, 1))

    @property
    def mean(self):
        return self._per_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = nbgrad.where(factor <= 0, math.nan, factor)   # no mode for df < dim + 1
        return self._per_matrix(factor) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        diag_V = V.diagonal(dim1=-2, dim2=-1)
        return self._per_matrix(self.df) * (V.pow(2)
                                            + nbgrad.einsum('...i,...j->...ij', diag_V, diag_V))

    def _bartlett_sampling(self, sample_shape=nbgrad.Size()):
        """L A A^T L^T, with A lower triangular: sqrt(Chi2(df - i)) on the diagonal, standard
        normals below it."""
        p = self._event_shape[-1]
        noise = _clamp_above_eps(self._dist_chi2.rsample(sample_shape).sqrt()).diag_embed(
            dim1=-2, dim2=-1)
        i, j = nbgrad.tril_indices(p, p, offset=-1)
        noise[..., i, j] = nbgrad.randn(
            nbgrad.Size(sample_shape) + self._batch_shape + (p * (p - 1) // 2,),
            dtype=noise.dtype, device=noise.device)
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.transpose(-2, -1)

    def _flagged(self, sample, positive_definite):
        """Per sample (over sample_shape): whether some batch entry's matrix is (or, with
        positive_definite=False, is not) positive definite."""
        flags = self.support.check(sample)
        if not positive_definite:
            flags = ~flags
        return flags.amax(self._batch_dims) if self._batch_shape else flags

    def rsample(self, sample_shape=nbgrad.Size(), max_try_correction=None):
        """A Bartlett sample, redrawn up to max_try_correction (default 10) times where it is
        singular. Singular samples may remain; their log_prob is -inf."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = nbgrad.Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        # PyTorch 2.13 flags for the first redraw the samples that *pass* the positive
        # definiteness check (and warns), and from then on those that fail it. Done the same
        # way, so that seeded draws are PyTorch's: in practice every sample is drawn twice.
        redraw = self._flagged(sample, positive_definite=True)
        if redraw.any():
            warnings.warn('Singular sample detected.', stacklevel=2)
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(redraw[redraw].shape)
                # (a copy of the mask as the index: the mask changes below, and the gradient
                # must reach the new draws. PyTorch indexes with the mask itself, so its
                # backward refuses, the mask having been modified in place.)
                sample[redraw.clone()] = sample_new
                redraw[redraw.clone()] = self._flagged(sample_new, positive_definite=False)
                if not redraw.any():
                    break
        return sample

    def _log_det_scale_terms(self):
        """p log(2) / 2 + log det(scale_tril), per batch entry."""
        p = self._event_shape[-1]
        return (p * _log_2 / 2
                + self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        trace = nbgrad.cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(
            dim1=-2, dim2=-1).sum(dim=-1)
        return (-nu * self._log_det_scale_terms() - nbgrad.mvlgamma(nu / 2, p=p)
                + (nu - p - 1) / 2 * nbgrad.linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        return ((p + 1) * self._log_det_scale_terms() + nbgrad.mvlgamma(nu / 2, p=p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p) + nu * p / 2)

    @property
    def _natural_params(self):
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-nbgrad.linalg.slogdet(-2 * x).logabsdet + _log_2 * p)
                + nbgrad.mvlgamma(y + (p + 1) / 2, p=p))
