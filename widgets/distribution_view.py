"""DistributionView: one nbgrad.distributions family with a slider per scalar parameter, a histogram
of samples drawn from it against its density (or pmf), and its mean/variance/stddev/entropy next
to the same statistics of the sample.

    DistributionView(dist_or_family, n=2000, seed=0, bins=40, **parameter_values)

`dist_or_family` is an instance (Normal(0., 1.)), a class (Normal) or a class name ('Normal'); a
class is built with the defaults in _DEFAULTS, overridden by `parameter_values`. Every family of
nbgrad.distributions builds. Multivariate and matrix families (and batched instances) show the
marginal of one component: the first whose samples vary (LKJCholesky's [0, 0] entry is always 1);
the `marginal` trait and the text say which.

Sampling and the global RNG: Distribution.sample takes no generator (as in PyTorch), so the view
forks the RNG as torch.random.fork_rng does: it saves the state of the generator the
distribution draws from, seeds it with `seed`, draws, and restores it. Re-rendering is therefore
reproducible, the user's own random stream is not disturbed, and the sample is exactly what
`nbgrad.manual_seed(seed); dist.sample((n,))` (and so PyTorch, for the samplers nbgrad
reproduces) would give.

Synced traits (the contract the TypeScript view draws from):
- family: str, the class name ('Normal').
- description: str, repr of the distribution shown ('Normal(loc: 0.0, scale: 1.0)').
- parameters: [{name, kind, value, min, max, step}]; kind 'real' or 'integer' is a slider
  (value/min/max/step numbers), kind 'fixed' is shown as text (value a str; min/max/step null):
  vectors, matrices, nested distributions, transforms.
- values: {name: number} for the slider parameters only. The sliders write it (a partial dict
  is merged); the view rebuilds the distribution and resamples. A value the family rejects
  leaves everything as it was and sets `error`.
- histogram: continuous {edges: [bins + 1 numbers], counts: [bins ints], outside: int (samples
  beyond the edges: heavy tails are cut at the quartiles -/+ 5 interquartile ranges),
  nonfinite: int}; discrete {support: [ints], counts: [ints], outside: int, nonfinite: int}
  (supports wider than 200 integers are cut at the 0.5% and 99.5% quantiles); {} without
  samples.
- density: [[x, p], ...]: exp(log_prob) on 200 points over the histogram's range (continuous)
  or at each integer of `support` (discrete, the pmf); points outside the support or where p is
  not finite are left out; [] where there is no (marginal) density.
- stats: {mean, variance, stddev, entropy, sample_mean, sample_var}: numbers of the shown
  component; null where the family raises NotImplementedError, the strings 'nan', 'inf', '-inf'
  for non-finite values (JSON has no NaN). sample_var is the unbiased variance (torch.var's).
  For a multivariate family `entropy` is the entropy of the whole event (see `marginal`).
- marginal: null for a scalar distribution, else {index: [ints], shape: [ints], entropy:
  'joint' | 'marginal'}: which entry of batch_shape + event_shape is shown.
- n, seed, bins: ints (writable: the view resamples). discrete: bool.
- notes: [str]: what the view could not show (no sampler, no density, ...).
- error: str, '' when the last change was accepted, else what was wrong.
"""
import contextlib
import inspect
import math
import warnings

import numpy as np
import traitlets

import nbgrad
from nbgrad import distributions as D
from nbgrad.distributions import constraints

from ._base import NbgradWidget
from . import _svg

# Constructor arguments for families built from a class or a name. Lists become tensors, callables
# (families built from other distributions) are called.
_DEFAULTS = {
    'Normal': {'loc': 0.0, 'scale': 1.0},
    'Cauchy': {'loc': 0.0, 'scale': 1.0},
    'Laplace': {'loc': 0.0, 'scale': 1.0},
    'Gumbel': {'loc': 0.0, 'scale': 1.0},
    'LogNormal': {'loc': 0.0, 'scale': 0.5},
    'HalfNormal': {'scale': 1.0},
    'HalfCauchy': {'scale': 1.0},
    'Exponential': {'rate': 1.0},
    'Gamma': {'concentration': 2.0, 'rate': 1.0},
    'InverseGamma': {'concentration': 3.0, 'rate': 2.0},
    'Chi2': {'df': 3.0},
    'StudentT': {'df': 4.0, 'loc': 0.0, 'scale': 1.0},
    'Beta': {'concentration1': 2.0, 'concentration0': 3.0},
    'Kumaraswamy': {'concentration1': 2.0, 'concentration0': 3.0},
    'Uniform': {'low': 0.0, 'high': 1.0},
    'Pareto': {'scale': 1.0, 'alpha': 3.0},
    'Weibull': {'scale': 1.0, 'concentration': 1.5},
    'FisherSnedecor': {'df1': 5.0, 'df2': 10.0},
    'GeneralizedPareto': {'loc': 0.0, 'scale': 1.0, 'concentration': 0.2},
    'VonMises': {'loc': 0.0, 'concentration': 2.0},
    'ContinuousBernoulli': {'probs': 0.3},
    'Bernoulli': {'probs': 0.3},
    'Binomial': {'total_count': 10, 'probs': 0.3},
    'Geometric': {'probs': 0.3},
    'NegativeBinomial': {'total_count': 5.0, 'probs': 0.4},
    'Poisson': {'rate': 4.0},
    'Categorical': {'probs': [0.2, 0.5, 0.3]},
    'OneHotCategorical': {'probs': [0.2, 0.5, 0.3]},
    'OneHotCategoricalStraightThrough': {'probs': [0.2, 0.5, 0.3]},
    'Multinomial': {'total_count': 10, 'probs': [0.2, 0.5, 0.3]},
    # (their temperature must be a tensor, as in PyTorch: log_prob calls temperature.log())
    'RelaxedBernoulli': {'temperature': lambda: nbgrad.tensor(0.5), 'probs': 0.3},
    'RelaxedOneHotCategorical': {'temperature': lambda: nbgrad.tensor(0.5),
                                 'probs': [0.2, 0.5, 0.3]},
    'Dirichlet': {'concentration': [2.0, 3.0, 4.0]},
    'MultivariateNormal': {'loc': [0.0, 0.0], 'covariance_matrix': [[1.0, 0.5], [0.5, 2.0]]},
    'LowRankMultivariateNormal': {'loc': [0.0, 0.0], 'cov_factor': [[1.0], [0.5]],
                                  'cov_diag': [1.0, 1.0]},
    'LogisticNormal': {'loc': [0.0, 0.0], 'scale': [1.0, 1.0]},
    'Wishart': {'df': 4.0, 'covariance_matrix': [[1.0, 0.0], [0.0, 1.0]]},
    'LKJCholesky': {'dim': 3, 'concentration': 1.0},
    'Independent': {'base_distribution': lambda: D.Normal(nbgrad.zeros(3), nbgrad.ones(3)),
                    'reinterpreted_batch_ndims': 1},
    # the logistic distribution, PyTorch's own example of a TransformedDistribution
    'TransformedDistribution': {'base_distribution': lambda: D.Uniform(0.0, 1.0),
                                'transforms': lambda: [D.SigmoidTransform().inv]},
    'MixtureSameFamily': {
        'mixture_distribution': lambda: D.Categorical(probs=nbgrad.tensor([0.3, 0.7])),
        'component_distribution': lambda: D.Normal(nbgrad.tensor([-2.0, 1.5]),
                                                   nbgrad.tensor([0.7, 1.0]))},
}

# Abstract bases: exported, but with nothing to sample or draw.
_ABSTRACT = ('Distribution', 'ExponentialFamily')

# Scalar parameters PyTorch leaves out of arg_constraints that still make good sliders.
_EXTRA_CONSTRAINTS = {'temperature': constraints.positive,
                      'total_count': constraints.nonnegative_integer}

# Constructor arguments a family keeps under another attribute name.
_ATTRIBUTE_ALIASES = {'base_distribution': 'base_dist'}

_GRID_POINTS = 200
_MAX_DISCRETE_SPAN = 200    # wider integer supports are cut at the 0.5%/99.5% quantiles
_MAX_N = 1_000_000


def family_names():
    """The names of every concrete family nbgrad.distributions exports."""
    return sorted(name for name in D.__all__
                  if isinstance(getattr(D, name), type)
                  and issubclass(getattr(D, name), D.Distribution) and name not in _ABSTRACT)


def _resolve(dist_or_family, parameter_values):
    """An instance from an instance, a class or a class name (+ overrides for its defaults)."""
    if isinstance(dist_or_family, D.Distribution):
        return dist_or_family
    if isinstance(dist_or_family, str):
        cls = getattr(D, dist_or_family, None)
        if not (isinstance(cls, type) and issubclass(cls, D.Distribution)):
            raise ValueError(f'DistributionView: {dist_or_family!r} is not a family of '
                             f'nbgrad.distributions; choose one of: {", ".join(family_names())}')
    elif isinstance(dist_or_family, type) and issubclass(dist_or_family, D.Distribution):
        cls = dist_or_family
    else:
        raise TypeError('DistributionView expects a Distribution instance, a Distribution class '
                        f'or a class name, got {type(dist_or_family).__name__}')
    if cls.__name__ in _ABSTRACT:
        raise ValueError(f'DistributionView: {cls.__name__} is an abstract base class; pass a '
                         'family such as Normal or an instance of one')
    defaults = _DEFAULTS.get(cls.__name__)
    if defaults is None:
        raise ValueError(f'DistributionView: no default parameters for {cls.__name__}; pass an '
                         f'instance instead, e.g. DistributionView({cls.__name__}(...))')
    kwargs = {name: _default_value(value) for name, value in defaults.items()}
    unknown = sorted(set(parameter_values) - set(inspect.signature(cls).parameters))
    if unknown:
        raise TypeError(f'DistributionView: {cls.__name__} has no parameter '
                        f'{", ".join(map(repr, unknown))}')
    kwargs.update(parameter_values)
    return cls(**kwargs)


def _default_value(value):
    if callable(value):
        return value()
    if isinstance(value, list):
        return nbgrad.tensor(value)
    return value


def _constructor_arguments(dist):
    """The arguments that rebuild `dist` as type(dist)(**arguments), read back from the instance,
    or None where one cannot be read. Parameters whose default is None are alternatives (probs or
    logits; covariance_matrix, precision_matrix or scale_tril): the one the user gave (found in
    the instance's __dict__) is kept, else the first."""
    arguments, alternatives = {}, []
    for name, p in inspect.signature(type(dist)).parameters.items():
        if name == 'validate_args' or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is None:
            alternatives.append(name)
            continue
        attribute = _ATTRIBUTE_ALIASES.get(name, name)
        if attribute in dist.__dict__ or hasattr(type(dist), attribute):
            arguments[name] = getattr(dist, attribute)
        elif p.default is p.empty:
            return None
    if alternatives:
        given = [name for name in alternatives if name in dist.__dict__] or alternatives
        arguments[given[0]] = getattr(dist, given[0])
    return arguments


def _slider_range(constraint):
    """(kind, min, max) of a slider for a scalar parameter, or None: not a slider."""
    kind = type(constraint).__name__
    if kind == '_Real' or (kind == '_Dependent' and constraint._event_dim == 0
                           and constraint._is_discrete is False):
        return 'real', -5.0, 5.0
    if kind == '_GreaterThan':
        return 'real', constraint.lower_bound + 0.01, constraint.lower_bound + 10.0
    if kind == '_GreaterThanEq':
        return 'real', constraint.lower_bound, constraint.lower_bound + 10.0
    if kind == '_LessThan':
        return 'real', constraint.upper_bound - 10.0, constraint.upper_bound - 0.01
    if kind in ('_Interval', '_HalfOpenInterval'):
        return 'real', constraint.lower_bound, constraint.upper_bound
    if kind == '_IntegerGreaterThan':     # PyTorch's name: lower_bound is included
        return 'integer', constraint.lower_bound, constraint.lower_bound + 50
    if kind == '_IntegerInterval':
        return 'integer', constraint.lower_bound, constraint.upper_bound
    return None


def _as_number(value):
    """A Python number from a scalar tensor or number, or None (not a scalar)."""
    if isinstance(value, nbgrad.Tensor):
        return value.item() if value.numel() == 1 and value.dim() == 0 else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _describe(value):
    if isinstance(value, nbgrad.Tensor):
        return str(value.tolist()) if value.numel() <= 16 else f'tensor of shape {list(value.shape)}'
    return repr(value)


def _json_number(x):
    """A statistic for JSON: a number, None, or 'nan'/'inf'/'-inf' (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    if math.isfinite(x):
        return x
    return 'nan' if math.isnan(x) else ('inf' if x > 0 else '-inf')


def _device_of(arguments):
    for value in (arguments or {}).values():
        if isinstance(value, nbgrad.Tensor):
            return value.device
    return nbgrad.device('cpu')


def _statistic(dist, name, column, per_event):
    """dist.<name> (or entropy()) at the shown component, None where not implemented."""
    try:
        value = dist.entropy() if name == 'entropy' else getattr(dist, name)
    except NotImplementedError:
        return None
    flat = value.reshape(-1)
    if flat.numel() == 0:
        return None
    return flat[column // per_event if name == 'entropy' else column].item()


class DistributionView(NbgradWidget):
    """Sliders for a distribution's parameters, a seeded histogram of its samples against its
    density or pmf, and its statistics next to the sample's."""
    _model_name = traitlets.Unicode('DistributionViewModel').tag(sync=True)
    _view_name = traitlets.Unicode('DistributionView').tag(sync=True)

    family = traitlets.Unicode().tag(sync=True)
    description = traitlets.Unicode().tag(sync=True)
    parameters = traitlets.List().tag(sync=True)
    values = traitlets.Dict().tag(sync=True)
    histogram = traitlets.Dict().tag(sync=True)
    density = traitlets.List().tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)
    marginal = traitlets.Dict(allow_none=True).tag(sync=True)
    n = traitlets.Int(2000).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    bins = traitlets.Int(40).tag(sync=True)
    discrete = traitlets.Bool(False).tag(sync=True)
    notes = traitlets.List().tag(sync=True)
    error = traitlets.Unicode('').tag(sync=True)

    def __init__(self, dist_or_family, n=2000, seed=0, bins=40, **parameter_values):
        _check_settings(n, seed, bins)
        dist = _resolve(dist_or_family, parameter_values if not isinstance(
            dist_or_family, D.Distribution) else {})
        arguments = _constructor_arguments(dist)
        if isinstance(dist_or_family, D.Distribution) and parameter_values:
            if arguments is None:
                raise ValueError(f'DistributionView: cannot rebuild {type(dist).__name__} with '
                                 'new parameter values; pass an instance built with them')
            unknown = sorted(set(parameter_values) - set(arguments))
            if unknown:
                raise TypeError(f'DistributionView: {type(dist).__name__} has no parameter '
                                f'{", ".join(map(repr, unknown))}')
            arguments = {**arguments, **parameter_values}
            dist = type(dist)(**arguments)
        super().__init__()
        self._arguments = arguments
        self._sliders = self._slider_table(dist, arguments)
        self._reverting = False
        with self.hold_trait_notifications():
            self.family = type(dist).__name__
            self.n, self.seed, self.bins = int(n), int(seed), int(bins)
        self._show(dist, arguments)
        self.observe(self._settings_changed, names=['values', 'n', 'seed', 'bins'])

    # -- the Python API ---------------------------------------------------------------------------
    def update(self, **values):
        """Set slider parameters (view.update(loc=1.0)) and resample; raises ValueError (and
        leaves the view as it was) where the family rejects them."""
        self._show(*self._rebuild(values))
        self.error = ''

    # -- the view's data ------------------------------------------------------------------------
    def _slider_table(self, dist, arguments):
        """{name: (kind, min, max)} of the scalar parameters that get a slider (ranges fixed at
        construction, so a slider does not move under the user's hand)."""
        if arguments is None:
            return {}
        try:
            known = dict(dist.arg_constraints)
        except NotImplementedError:
            known = {}
        table = {}
        for name, value in arguments.items():
            number = _as_number(value)
            constraint = known.get(name, _EXTRA_CONSTRAINTS.get(name))
            shape = _slider_range(constraint) if constraint is not None else None
            if number is None or shape is None:
                continue
            kind, low, high = shape
            # bounds may be tensors (Uniform's low < high); ints stay ints for integer sliders
            low, high = _as_number(low), _as_number(high)
            if low is None or high is None:     # a bound with a batch shape: no one range
                continue
            cast = int if kind == 'integer' else float
            low, high = cast(low), cast(high)
            table[name] = (kind, min(low, number), max(high, number))
        return table

    def _parameters(self, arguments):
        rows = []
        for name, value in (arguments or {}).items():
            if name in self._sliders:
                kind, low, high = self._sliders[name]
                step = 1 if kind == 'integer' else 10.0 ** math.floor(math.log10((high - low)
                                                                                 / 500))
                number = _as_number(value)
                rows.append({'name': name, 'kind': kind,
                             'value': int(number) if kind == 'integer' else float(number),
                             'min': low, 'max': high, 'step': step})
            else:
                rows.append({'name': name, 'kind': 'fixed', 'value': _describe(value),
                             'min': None, 'max': None, 'step': None})
        return rows

    def _rebuild(self, values):
        """(a new distribution with slider values changed, its arguments); raises
        ValueError/TypeError with what was wrong (nothing changes)."""
        if not self._sliders:
            raise ValueError(f'{self.family} has no slider parameters to set')
        changed = {}
        for name, value in values.items():
            if name not in self._sliders:
                raise ValueError(f'{self.family} has no slider {name!r}; sliders: '
                                 f'{", ".join(self._sliders)}')
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f'{name} must be a number, got {value!r}')
            if self._sliders[name][0] == 'integer':
                if not float(value).is_integer():
                    raise ValueError(f'{name} must be an integer, got {value!r}')
                value = int(value)
            old = self._arguments[name]
            changed[name] = (nbgrad.tensor(value, dtype=old.dtype, device=old.device)
                             if isinstance(old, nbgrad.Tensor) else value)
        cls = nbgrad.distributions.__dict__[self.family]
        extra = {'validate_args': True} if 'validate_args' in inspect.signature(cls).parameters \
            else {}
        arguments = {**self._arguments, **changed}
        return cls(**arguments, **extra), arguments

    def _show(self, dist, arguments):
        """Sample `dist` and set every data trait (computed first, so a failure changes
        nothing). `arguments` rebuild it (kept from construction: once its statistics are
        computed, an instance caches probs next to the logits it was given)."""
        description = repr(dist)
        data = _compute(dist, arguments, self.n, self.seed, self.bins)
        samples = data.pop('samples')
        data.pop('column')
        with self._quiet(), self.hold_trait_notifications():
            self._dist, self._arguments = dist, arguments
            self.samples, self.marginal_samples = samples, data['x']
            self.description = description
            self.parameters = self._parameters(arguments)
            self.values = {p['name']: p['value'] for p in self.parameters
                           if p['kind'] != 'fixed'}
            for name in ('histogram', 'density', 'stats', 'marginal', 'discrete', 'notes'):
                setattr(self, name, data[name])

    @contextlib.contextmanager
    def _quiet(self):
        """Trait changes made by the view itself (not by a slider) inside this block are not
        treated as user input."""
        saved, self._reverting = self._reverting, True
        try:
            yield
        finally:
            self._reverting = saved

    @property
    def distribution(self):
        """The distribution shown now."""
        return self._dist

    def _settings_changed(self, change):
        """A slider (or n/seed/bins) moved in the front end: resample, or revert and say why."""
        if self._reverting:
            return
        name, old = change['name'], change['old']
        try:
            if name == 'values':
                new = {k: v for k, v in change['new'].items() if old.get(k) != v}
                dist, arguments = self._rebuild(new) if new else (self._dist, self._arguments)
            else:
                _check_settings(self.n, self.seed, self.bins)
                dist, arguments = self._dist, self._arguments
            self._show(dist, arguments)
        except (ValueError, TypeError, RuntimeError) as exc:
            with self._quiet():
                setattr(self, name, old)
            self.error = f'{name}: {exc}'
        else:
            self.error = ''

    # -- static fallbacks ---------------------------------------------------------------------
    def _stat_rows(self):
        s = self.stats
        rows = []
        for label, exact, sample in (('mean', 'mean', 'sample_mean'),
                                     ('variance', 'variance', 'sample_var'),
                                     ('stddev', 'stddev', None),
                                     ('entropy', 'entropy', None)):
            rows.append([label, _stat_text(s.get(exact)),
                         _stat_text(s.get(sample)) if sample else ''])
        return rows

    def _summary(self):
        h = self.histogram
        if not h:
            return 'no samples'
        if self.discrete:
            where = f'{len(h["support"])} values {h["support"][0]}..{h["support"][-1]}'
        else:
            where = f'{len(h["counts"])} bins on [{_svg.fmt(h["edges"][0])}, ' \
                    f'{_svg.fmt(h["edges"][-1])}]'
        extra = ''.join(f', {h[k]} {k}' for k in ('outside', 'nonfinite') if h.get(k))
        return f'{self.n} samples (seed {self.seed}), {where}{extra}'

    def _marginal_text(self):
        m = self.marginal
        if not m:
            return None
        entropy = ', entropy of the whole event' if m['entropy'] == 'joint' else ''
        return f'marginal of component {tuple(m["index"])} of shape {tuple(m["shape"])}{entropy}'

    def text(self):
        lines = [f'DistributionView: {self.description}']
        if self.error:
            lines.append(f'error: {self.error}')
        if self.parameters:
            lines.append(_svg.text_table(
                ['parameter', 'value', 'range'],
                [[p['name'], _svg.fmt(p['value']) if p['kind'] != 'fixed' else p['value'],
                  f'{_svg.fmt(p["min"])}..{_svg.fmt(p["max"])}' if p['kind'] != 'fixed'
                  else 'fixed'] for p in self.parameters], align=['l', 'r', 'l']))
        lines.append(_svg.text_table(['statistic', 'exact', 'sample'], self._stat_rows()))
        lines.append(self._summary())
        if self._marginal_text():
            lines.append(self._marginal_text())
        if self.histogram:
            lines.append('histogram: ' + _sparkline(self.histogram['counts']))
        lines.extend(f'note: {note}' for note in self.notes)
        return '\n'.join(lines)

    def html(self):
        parts = [f'<div class="nbgrad-distribution-view"><b>{_svg.escape(self.description)}</b>']
        if self.error:
            parts.append(f'<div style="color:{_svg.WARNING}">error: '
                         f'{_svg.escape(self.error)}</div>')
        if self.histogram:
            parts.append(f'<div>{self._histogram_svg()}</div>')
        if self.parameters:
            parts.append(_svg.table(
                ['parameter', 'value', 'range'],
                [[p['name'], _svg.fmt(p['value']) if p['kind'] != 'fixed' else p['value'],
                  f'{_svg.fmt(p["min"])}..{_svg.fmt(p["max"])}' if p['kind'] != 'fixed'
                  else 'fixed'] for p in self.parameters], align=['l', 'r', 'l']))
        parts.append(_svg.table(['statistic', 'exact', 'sample'], self._stat_rows()))
        lines = [self._summary(), self._marginal_text()] + [f'note: {n}' for n in self.notes]
        parts.extend(f'<div>{_svg.escape(line)}</div>' for line in lines if line)
        return ''.join(parts) + '</div>'

    def _histogram_svg(self):
        h = self.histogram
        if self.discrete:
            edges = [k - 0.5 for k in h['support']] + [h['support'][-1] + 0.5]
        else:
            edges = h['edges']
        # _svg.histogram scales the bars by the samples inside the edges; scale the curve alike
        # so that both estimate the same density when tails were cut off
        inside = sum(h['counts'])
        scale = (inside + h['outside']) / inside if inside else 1.0
        curve = [(x, p * scale) for x, p in self.density]
        return _svg.histogram(edges, h['counts'], density=curve, title=self.family,
                              width=420, height=200)


def _check_settings(n, seed, bins):
    for name, value, low, high in (('n', n, 1, _MAX_N), ('bins', bins, 1, 500),
                                   ('seed', seed, -2 ** 63, 2 ** 64 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f'DistributionView: {name} must be an integer in [{low}, {high}], '
                             f'got {value!r}')


def draw(dist, n, seed, notes=None, arguments=None):
    """dist.sample((n,)) drawn after seeding the generator it draws from with `seed`, with that
    generator's state restored afterwards (fork_rng): reproducible, and the caller's random
    stream goes on as if nothing had been drawn. None where the family has no sampler. Warnings
    the sampler gives (Wishart's 'Singular sample detected.', as PyTorch's) go to `notes`
    rather than to stderr, where they would be output on every redraw."""
    device = _device_of(arguments if arguments is not None else _constructor_arguments(dist))
    gpus = [device.index or 0] if device.type == 'cuda' else []
    with nbgrad.random.fork_rng(devices=gpus), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        nbgrad.random.default_generator_for(device).manual_seed(seed)
        try:
            samples = dist.sample((n,))
        except NotImplementedError:
            samples = None
    if notes is not None:
        for message in dict.fromkeys(str(w.message) for w in caught):
            notes.append(f'sampler warning: {message}')
    return samples


def _compute(dist, arguments, n, seed, bins):
    """Every data trait of the view for `dist` (and the samples), as a dict."""
    notes = []
    batch_event = tuple(dist.batch_shape) + tuple(dist.event_shape)
    per_event = max(int(np.prod(dist.event_shape, dtype=np.int64)), 1)
    try:
        discrete = bool(dist.support.is_discrete)
    except NotImplementedError:
        discrete = False

    samples = draw(dist, n, seed, notes, arguments)
    if samples is None:
        notes.append(f'{type(dist).__name__} has no sampler: no histogram')
        x, column = None, 0
    else:
        table = _host(samples).reshape(n, -1)
        column = _varying_column(table)
        x = table[:, column]

    marginal = None
    if batch_event:
        index = [int(i) for i in np.unravel_index(column, batch_event)]
        marginal = {'index': index, 'shape': list(batch_event),
                    'entropy': 'joint' if dist.event_shape else 'marginal'}

    histogram, grid = _histogram(x, discrete, bins) if x is not None else ({}, None)
    density = []
    if dist.event_shape:
        notes.append('no marginal density for a multivariate family: samples only')
    elif grid is not None:
        density = _density(dist, grid, column, samples.dtype, samples.device, notes)

    stats = {name: _json_number(_statistic(dist, name, column, per_event))
             for name in ('mean', 'variance', 'stddev', 'entropy')}
    if x is not None:
        finite = x[np.isfinite(x)].astype(np.float64)
        stats['sample_mean'] = _json_number(finite.mean()) if finite.size else None
        stats['sample_var'] = _json_number(finite.var(ddof=1)) if finite.size > 1 else None
    else:
        stats['sample_mean'] = stats['sample_var'] = None
    return {'samples': samples, 'column': column, 'x': x, 'histogram': histogram,
            'density': density, 'stats': stats, 'marginal': marginal, 'discrete': discrete,
            'notes': notes}


def _host(tensor):
    """A tensor's values as a host NumPy array; bfloat16 as float32 (numpy() refuses it, as
    PyTorch's does)."""
    tensor = tensor.detach().cpu()
    return (tensor.float() if tensor.dtype is nbgrad.bfloat16 else tensor).numpy()


def _varying_column(table):
    """The first column whose samples are not all equal (else 0)."""
    for column in range(table.shape[1]):
        values = table[:, column]
        if values.size and not np.all(values == values[0]):
            return column
    return 0


def _histogram(x, discrete, bins):
    """(histogram trait, points where to evaluate the density) of the 1-D samples x."""
    finite = x[np.isfinite(x)].astype(np.float64)
    nonfinite = int(x.size - finite.size)
    if finite.size == 0:
        return {}, None
    low, high = finite.min(), finite.max()
    if discrete:
        if high - low > _MAX_DISCRETE_SPAN:
            low, high = np.floor(np.quantile(finite, [0.005, 0.995]))
        support = np.arange(int(np.round(low)), int(np.round(high)) + 1)
        k = np.round(finite).astype(np.int64)
        counts = [int(np.count_nonzero(k == value)) for value in support]
        histogram = {'support': support.tolist(), 'counts': counts,
                     'outside': int(finite.size - sum(counts)), 'nonfinite': nonfinite}
        return histogram, support.astype(np.float64)
    # heavy tails (Cauchy): a few far samples would squash the plot into one bar, so cut the
    # range at Tukey's fences, the quartiles -/+ 5 interquartile ranges (no cut for a normal)
    q1, q3 = np.quantile(finite, [0.25, 0.75])
    if q3 > q1:
        low, high = max(low, q1 - 5 * (q3 - q1)), min(high, q3 + 5 * (q3 - q1))
    if high == low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    counts, _ = np.histogram(finite, bins=edges)
    histogram = {'edges': edges.tolist(), 'counts': counts.tolist(),
                 'outside': int(finite.size - counts.sum()), 'nonfinite': nonfinite}
    return histogram, np.linspace(low, high, _GRID_POINTS)


def _density(dist, grid, column, dtype, device, notes):
    """[[x, exp(log_prob(x))], ...] of the shown component at the grid points in its support."""
    batch = tuple(dist.batch_shape)
    values = nbgrad.tensor(grid, dtype=dtype, device=device).reshape((-1,) + (1,) * len(batch))
    saved = dist._validate_args
    dist._validate_args = False     # points outside the support are masked out below instead
    try:
        with nbgrad.no_grad():
            p = dist.log_prob(values).exp()
            inside = dist.support.check(values)
    except NotImplementedError:
        notes.append(f'{type(dist).__name__} has no log_prob: no density')
        return []
    finally:
        dist._validate_args = saved
    shape = (len(grid),) + batch
    p = _host(p.expand(shape).reshape(len(grid), -1)[:, column]).astype(np.float64)
    inside = _host(inside.expand(shape).reshape(len(grid), -1)[:, column])
    return [[float(x), float(v)] for x, v, ok in zip(grid, p, inside) if ok and math.isfinite(v)]


def _stat_text(value):
    if value is None:
        return '-'
    return value if isinstance(value, str) else _svg.fmt(value)


_BLOCKS = ' ▁▂▃▄▅▆▇█'


def _sparkline(counts):
    """Counts as one line of block characters (the text fallback's histogram)."""
    top = max(counts, default=0) or 1
    return ''.join(_BLOCKS[math.ceil(c / top * (len(_BLOCKS) - 1))] for c in counts)
