"""Activation layers (PyTorch's torch.nn activation modules).

Most are a functional from nn.functional with its arguments kept as attributes: those are made
from one table (`_LAYERS`), each with PyTorch's constructor signature and repr. The few with more
to them (Hardtanh's deprecated keywords and check, RReLU's training flag, PReLU's weight, the
softmax family's implicit dim) are written out below.
"""
import inspect
import warnings

from ... import _creation
from .. import functional as F, init
from ..parameter import Parameter
from .module import Module

_REQUIRED = inspect.Parameter.empty


class _FunctionalLayer(Module):
    """A layer that calls `_functional(input, **its parameters)`. Subclasses set `_params`
    ((name, default) pairs in PyTorch's constructor order) and `_repr` ('named': "a=1, b=2" with
    ", inplace=True" only when set; 'bare': the single value; None: nothing)."""
    _params = ()
    _repr = 'named'

    def __init__(self, *args, **kwargs):
        super().__init__()
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)

    def forward(self, input):
        # by keyword: the layer's parameters are named as the functional's (some keyword-only)
        return type(self)._functional(input, **{name: getattr(self, name)
                                                for name, _ in self._params})

    def extra_repr(self):
        if self._repr == 'bare':
            return str(getattr(self, self._params[0][0]))
        if self._repr is None:
            return ''
        shown = [f'{name}={getattr(self, name)!r}' if isinstance(getattr(self, name), str)
                 else f'{name}={getattr(self, name)}'
                 for name, _ in self._params if name != 'inplace']
        if getattr(self, 'inplace', False):
            shown.append('inplace=True')
        return ', '.join(shown)


def _layer(name, functional, params=(), repr_style='named', doc=''):
    signature = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                     default=d) for p, d in params])

    namespace = {
        '_functional': staticmethod(functional), '_params': tuple(params), '_repr': repr_style,
        '__signature__': signature, '__doc__': doc, '__module__': __name__, '__qualname__': name}
    if params:      # (without parameters, PyTorch's layer keeps Module's (self, *args, **kwargs))
        def __init__(self, *args, **kwargs):
            _FunctionalLayer.__init__(self, *args, **kwargs)

        # inspect.signature(cls.__init__) shows PyTorch's constructor signature, `self` included
        __init__.__signature__ = signature.replace(parameters=[
            inspect.Parameter('self', inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *signature.parameters.values()])
        __init__.__qualname__ = f'{name}.__init__'
        namespace['__init__'] = __init__
    return type(name, (_FunctionalLayer,), namespace)


def _torch_sigmoid(input):
    # (PyTorch's layer calls torch.sigmoid, not F.sigmoid: modes, subclasses and fx see that)
    from ... import sigmoid
    return sigmoid(input)


def _torch_tanh(input):
    from ... import tanh
    return tanh(input)


_INPLACE = (('inplace', False),)
_LAYERS = [
    ('Threshold', F.threshold, (('threshold', _REQUIRED), ('value', _REQUIRED)) + _INPLACE,
     'named', 'y = x if x > threshold else value.'),
    ('ReLU', F.relu, _INPLACE, 'named', 'max(x, 0).'),
    ('Hardsigmoid', F.hardsigmoid, _INPLACE, None, 'clamp(x / 6 + 1/2, 0, 1).'),
    ('Hardswish', F.hardswish, _INPLACE, None, 'x * hardsigmoid(x).'),
    ('SiLU', F.silu, _INPLACE, 'named', 'x * sigmoid(x).'),
    ('Mish', F.mish, _INPLACE, 'named', 'x * tanh(softplus(x)).'),
    ('ELU', F.elu, (('alpha', 1.0),) + _INPLACE, 'named', 'x if x > 0 else alpha (exp(x) - 1).'),
    ('CELU', F.celu, (('alpha', 1.0),) + _INPLACE, 'named',
     'max(0, x) + min(0, alpha (exp(x / alpha) - 1)).'),
    ('SELU', F.selu, _INPLACE, 'named', 'scale * elu(x, alpha), self-normalising constants.'),
    ('LeakyReLU', F.leaky_relu, (('negative_slope', 1e-2),) + _INPLACE, 'named',
     'x if x > 0 else negative_slope * x.'),
    ('GLU', F.glu, (('dim', -1),), 'named', 'The gated linear unit a * sigmoid(b) of the halves.'),
    ('GELU', F.gelu, (('approximate', 'none'),), 'named',
     "x * Phi(x); approximate='tanh' uses the tanh approximation."),
    ('Hardshrink', F.hardshrink, (('lambd', 0.5),), 'bare', 'x if |x| > lambd else 0.'),
    ('Softshrink', F.softshrink, (('lambd', 0.5),), 'bare', 'x shrunk towards 0 by lambd.'),
    ('Softplus', F.softplus, (('beta', 1.0), ('threshold', 20.0)), 'named',
     'log(1 + exp(beta x)) / beta (linear where beta x > threshold).'),
    ('Sigmoid', _torch_sigmoid, (), None, '1 / (1 + exp(-x)).'),
    ('Tanh', _torch_tanh, (), None, 'tanh(x).'),
    ('LogSigmoid', F.logsigmoid, (), None, 'log(sigmoid(x)).'),
    ('Softsign', F.softsign, (), None, 'x / (1 + |x|).'),
    ('Tanhshrink', F.tanhshrink, (), None, 'x - tanh(x).'),
]
globals().update({row[0]: _layer(*row) for row in _LAYERS})


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn('keyword argument `min_value` is deprecated and renamed to `min_val`',
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn('keyword argument `max_value` is deprecated and renamed to `max_val`',
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f'max_val ({self.max_val}) must be greater than min_val '
                                 f'({self.min_val})')

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        inplace = ', inplace=True' if self.inplace else ''
        return f'min_val={self.min_val}, max_val={self.max_val}{inplace}'


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return 'inplace=True' if self.inplace else ''


class RReLU(Module):
    """Leaky ReLU with random negative slopes from U(lower, upper) in training mode, and their
    mean (lower + upper) / 2 in evaluation mode."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        inplace = ', inplace=True' if self.inplace else ''
        return f'lower={self.lower}, upper={self.upper}{inplace}'


class PReLU(Module):
    """x if x > 0 else a * x, with a learnt slope `weight` (one, or one per channel)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(_creation.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f'num_parameters={self.num_parameters}'


class _SoftmaxLayer(Module):
    """softmax-like along `dim` (None: PyTorch's deprecated implicit choice, with a warning)."""
    _functional = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, 'dim'):
            self.dim = None

    def forward(self, input):
        return type(self)._functional(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f'dim={self.dim}'


class Softmax(_SoftmaxLayer):
    """exp(x) / sum(exp(x)) along dim."""
    _functional = staticmethod(F.softmax)


class Softmin(_SoftmaxLayer):
    """softmax(-x) along dim."""
    _functional = staticmethod(F.softmin)


class LogSoftmax(_SoftmaxLayer):
    """log(softmax(x)) along dim, computed stably."""
    _functional = staticmethod(F.log_softmax)


class Softmax2d(Module):
    """Softmax over the channels (dim -3) at each spatial location of a 3-D or 4-D input."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f'Softmax2d: expected input to be 3D or 4D, got {input.dim()}D '
                             f'instead')
        return F.softmax(input, -3, _stacklevel=5)


__all__ = [row[0] for row in _LAYERS] + ['Hardtanh', 'ReLU6', 'RReLU', 'PReLU', 'Softmax',
                                         'Softmin', 'LogSoftmax', 'Softmax2d']
