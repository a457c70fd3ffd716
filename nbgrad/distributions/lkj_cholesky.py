"""The LKJ distribution over lower Cholesky factors of correlation matrices (after NumPyro's)."""
import math

import nbgrad
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ['LKJCholesky']


class LKJCholesky(Distribution):
    """LKJCholesky(dim, concentration=1.0): L with L L^T ~ LKJCorr(dim, concentration), the
    density of a correlation matrix M being proportional to det(M)**(concentration - 1)
    (uniform for concentration 1). Sampling is the onion method of Lewandowski, Kurowicka and Joe
    (2009), section 3.2, vectorised over the rows."""
    arg_constraints = {'concentration': constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError('Expected dim to be an integer greater than or equal to 2. '
                             f'Found dim={dim}.')
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = nbgrad.Size((dim, dim))
        # The squared length y_i of row i > 0 left of the diagonal is drawn from
        # Beta(i - 1/2, eta + (dim - 2) / 2 - (i - 1) / 2), as PyTorch 2.13 does (row 0 draws a
        # dummy Beta(1/2, ...) so that all rows are drawn at once). (The onion method's first
        # parameter is i / 2, NumPyro's: the two agree on row 1 only, so PyTorch's later rows
        # are not LKJ's marginals. Kept, so that seeded draws are PyTorch's.)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = nbgrad.arange(self.dim - 1, dtype=self.concentration.dtype,
                              device=self.concentration.device)
        offset = nbgrad.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=nbgrad.Size()):
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        # each row's direction: uniform on the sphere of the entries left of the diagonal
        u_normal = nbgrad.randn(self._extended_shape(sample_shape), dtype=y.dtype,
                               device=y.device).tril(-1)
        u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
        u_hypersphere[..., 0, :].fill_(0.0)   # row 0 has no such entries (0 / 0 above)
        w = nbgrad.sqrt(y) * u_hypersphere
        # the diagonal completes each row to unit length (clamped for rounding)
        eps = nbgrad.finfo(w.dtype).tiny
        diag_elems = nbgrad.clamp(1 - nbgrad.sum(w ** 2, dim=-1), min=eps).sqrt()
        w += nbgrad.diag_embed(diag_elems)
        return w

    def log_prob(self, value):
        # The density of M = L L^T is proportional to det(M)**(eta - 1) = prod L_ii**(2 eta - 2),
        # and the Jacobian of L -> L L^T is prod L_ii**(dim - i) (rows i = 1..dim), so the density
        # of L is proportional to prod L_ii**(2 eta - 2 + dim - i) (L_11 = 1 drops out).
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = nbgrad.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = nbgrad.sum(order * diag_elems.log(), dim=-1)
        # the normalising constant (page 1999 of the paper) through the multivariate lgamma,
        # whose pi term is (dim - 1) (dim - 2) / 4 log(pi), not the paper's dim (dim - 1) / 4
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = nbgrad.lgamma(alpha) * dm1
        numerator = nbgrad.mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
