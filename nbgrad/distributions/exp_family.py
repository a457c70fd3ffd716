"""ExponentialFamily: the base of families whose density is exp(<t(x), theta> - F(theta) + k(x)),
with the entropy computed from the log normaliser F by autograd (a Bregman divergence)."""
import nbgrad
from .distribution import Distribution

__all__ = ['ExponentialFamily']


class ExponentialFamily(Distribution):
    """Subclasses give the natural parameters theta (_natural_params), the log normaliser F
    (_log_normalizer) and the expected carrier measure E[k(x)] (_mean_carrier_measure)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)] (Nielsen & Nock)."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = nbgrad.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result += lg_normal
        for param, grad in zip(nparams, gradients):
            result -= (param * grad).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
