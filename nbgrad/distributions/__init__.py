"""nbgrad.distributions: PyTorch's torch.distributions over nbgrad tensors.

Parameterisable probability distributions and sampling functions, with PyTorch's classes, argument
names, constraints, transforms and KL registry. rsample() is reparameterised wherever PyTorch's is,
so gradients flow from samples to parameters (the pathwise estimator); log_prob() supports the
score-function estimator (REINFORCE) for the others. Sampling draws from nbgrad's generators, so
nbgrad.manual_seed makes it reproducible (on the CPU, draw for draw PyTorch's numbers wherever
PyTorch's sampler is one nbgrad reproduces).
"""
# --- the base classes, constraints, transforms and the KL registry ---
from . import constraints, transforms
from .constraint_registry import biject_to, transform_to
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .independent import Independent
from .kl import kl_divergence, register_kl
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .log_normal import LogNormal
from .pareto import Pareto
from .weibull import Weibull
from . import _kl_core  # noqa: F401  (registers the core's closed forms with kl_divergence)

_core_all = ['Distribution', 'ExponentialFamily', 'Gumbel', 'HalfCauchy', 'HalfNormal',
             'Independent', 'LogNormal', 'Pareto', 'TransformedDistribution', 'Weibull',
             'biject_to', 'kl_divergence', 'register_kl', 'transform_to'] + transforms.__all__

# --- continuous families ---
from .beta import Beta
from .cauchy import Cauchy
from .chi2 import Chi2
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .studentT import StudentT
from .uniform import Uniform
from .von_mises import VonMises
from . import _kl_continuous  # noqa: F401  (registers the continuous closed forms)

_continuous_all = ['Beta', 'Cauchy', 'Chi2', 'ContinuousBernoulli', 'Dirichlet', 'Exponential',
                   'Gamma', 'Laplace', 'LowRankMultivariateNormal', 'MultivariateNormal',
                   'Normal', 'StudentT', 'Uniform', 'VonMises']

# --- discrete families, mixtures, relaxed families ---
from .bernoulli import Bernoulli
from .binomial import Binomial
from .categorical import Categorical
from .geometric import Geometric
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from . import _kl_discrete  # noqa: F401  (registers the discrete closed forms with kl_divergence)

_discrete_all = ['Bernoulli', 'Binomial', 'Categorical', 'Geometric', 'MixtureSameFamily',
                 'Multinomial', 'NegativeBinomial', 'OneHotCategorical',
                 'OneHotCategoricalStraightThrough', 'Poisson', 'RelaxedBernoulli',
                 'RelaxedOneHotCategorical']

# --- more families ---
# (PyTorch registers no KL pair of its own for these: kl_divergence reaches the transformed
# ones through (TransformedDistribution, TransformedDistribution) and Wishart through
# (ExponentialFamily, ExponentialFamily))
from .fishersnedecor import FisherSnedecor
from .generalized_pareto import GeneralizedPareto
from .inverse_gamma import InverseGamma
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .logistic_normal import LogisticNormal
from .wishart import Wishart

_more_all = ['FisherSnedecor', 'GeneralizedPareto', 'InverseGamma', 'Kumaraswamy',
             'LKJCholesky', 'LogisticNormal', 'Wishart']

__all__ = _core_all + _continuous_all + _discrete_all + _more_all
