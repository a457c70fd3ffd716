"""nbgrad.special: PyTorch's torch.special.

Aliases of nbgrad's own ops (expit is sigmoid, gammaln is lgamma, psi is digamma, ...),
multigammaln (PyTorch's mvlgamma), and the functions only torch.special has: erfcx, ndtr,
log_ndtr, ndtri, i0e, i1, i1e, modified_bessel_i0, modified_bessel_i1, xlog1py, entr, gammainc,
gammaincc and zeta, on the
kernels of nbgrad/_special.py. Values, dtypes (integer and bool inputs compute in the default
float dtype), gradients, grad_fn names and out= follow PyTorch, except where PyTorch's numbers
are an artefact of its arithmetic: ndtr stays relatively accurate in the lower tail (PyTorch's
(1 + erf(x / sqrt 2)) / 2 cancels to 0 there), and i0/i1 at +-inf are the limits (PyTorch: nan).

The Bessel-family functions airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1,
modified_bessel_k0, modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1
and spherical_bessel_j0 (kernels in nbgrad/_special_bessel.py), and the orthogonal polynomials
chebyshev_polynomial_t/u/v/w, shifted_chebyshev_polynomial_t/u/v/w, hermite_polynomial_h/he,
laguerre_polynomial_l and legendre_polynomial_p of (input, n), input or n a Python number
(nbgrad/_special_polynomials.py), are PyTorch's kernels computed in the input's dtype; as in
PyTorch they have no derivative (their results never require grad), no float16 or complex
kernel, and their out= is written even where an argument requires grad.
"""
from . import _functions as _f
from ._dispatch import dispatch as _dispatch
from ._memory_overlap import refuse_out_overlap as _refuse_out_overlap
from ._out import accepts_out as _accepts_out
from ._out import write_out as _write_out
from ._tensor import Tensor as _Tensor
from .ops import elementwise as _ew
from .ops import gamma_zeta as _gz
from .ops import parameterised_unary as _pu
from .ops import reduction as _reduction
from .ops import special_table as _special_table
from .ops._util import as_operand as _as_operand

__all__ = ['expit', 'logit', 'erf', 'erfc', 'erfcx', 'erfinv', 'gammaln', 'digamma', 'psi',
           'polygamma', 'multigammaln', 'i0', 'i0e', 'i1', 'i1e', 'modified_bessel_i0',
           'modified_bessel_i1', 'ndtr', 'ndtri', 'log_ndtr', 'exp2', 'expm1', 'log1p', 'round',
           'sinc', 'entr', 'xlogy', 'xlog1py', 'logsumexp', 'softmax', 'log_softmax', 'gammainc',
           'gammaincc', 'zeta', 'airy_ai', 'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1',
           'modified_bessel_k0', 'modified_bessel_k1', 'scaled_modified_bessel_k0',
           'scaled_modified_bessel_k1', 'spherical_bessel_j0', 'chebyshev_polynomial_t',
           'chebyshev_polynomial_u', 'chebyshev_polynomial_v', 'chebyshev_polynomial_w',
           'shifted_chebyshev_polynomial_t', 'shifted_chebyshev_polynomial_u',
           'shifted_chebyshev_polynomial_v', 'shifted_chebyshev_polynomial_w',
           'hermite_polynomial_h', 'hermite_polynomial_he', 'laguerre_polynomial_l',
           'legendre_polynomial_p']


def _out(aten_name, **rules):
    """accepts_out, with PyTorch's error messages naming the ATen op (special_erfcx(): ...,
    but lgamma(): ... for gammaln)."""
    def decorate(fn):
        public = fn.__name__
        fn.__name__ = aten_name
        wrapped = _accepts_out(fn, **rules)
        wrapped.__name__ = fn.__name__ = public
        return wrapped
    return decorate


def _tensor(input, name):
    if isinstance(input, _Tensor):
        return input
    raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                    f'{type(input).__name__}')


def _unary(name, input):
    return _dispatch(_special_table.SPECIAL[name](), _tensor(input, name))


def _binary_operands(name, input, other):
    """A Tensor and a Tensor or a Python number, in either order (PyTorch's three overloads)."""
    input, other = _as_operand(input), _as_operand(other)
    if not isinstance(input, _Tensor) and not isinstance(other, _Tensor):
        raise TypeError(f'{name}() received an invalid combination of arguments - got '
                        f'({type(input).__name__}, {type(other).__name__})')
    return input, other


# ---- aliases of nbgrad's ops ---------------------------------------------------------------
@_out('sigmoid')
def expit(input, *, out=None):
    return _f.sigmoid(input)


@_out('logit')
def logit(input, eps=None, *, out=None):
    # a negative eps is no eps at all in PyTorch's kernel
    if eps is None or eps < 0:
        return _f.logit(input)
    return _dispatch(_pu.LogitEps(eps), _tensor(input, 'logit'))


@_out('erf')
def erf(input, *, out=None):
    return _f.erf(input)


@_out('erfc')
def erfc(input, *, out=None):
    return _f.erfc(input)


@_out('erfinv')
def erfinv(input, *, out=None):
    return _f.erfinv(input)


@_out('lgamma')
def gammaln(input, *, out=None):
    return _f.lgamma(input)


@_out('digamma')
def digamma(input, *, out=None):
    return _f.digamma(input)


@_out('digamma')
def psi(input, *, out=None):
    return _f.digamma(input)


@_out('polygamma')
def polygamma(n, input, *, out=None):
    return _f.polygamma(n, input)


@_out('mvlgamma')
def multigammaln(input, p, *, out=None):
    return _dispatch(_pu.Mvlgamma(int(p)), _tensor(input, 'special_multigammaln'))


@_out('i0')
def i0(input, *, out=None):
    return _f.i0(input)


@_out('exp2')
def exp2(input, *, out=None):
    return _f.exp2(input)


@_out('expm1')
def expm1(input, *, out=None):
    return _f.expm1(input)


@_out('log1p')
def log1p(input, *, out=None):
    return _f.log1p(input)


@_out('round', exact_dtype=True)   # PyTorch's round.decimals_out casts nothing
def round(input, *, decimals=0, out=None):
    # PyTorch's round.decimals even for decimals=0 (RoundBackward1; no integer kernel)
    return _dispatch(_pu.RoundDecimals(decimals), _tensor(input, 'special_round'))


@_out('sinc')
def sinc(input, *, out=None):
    return _f.sinc(input)


@_out('xlogy')
def xlogy(input, other, *, out=None):
    input, other = _binary_operands('special_xlogy', input, other)
    return _dispatch(_ew.BINARY['xlogy'](), input, other)


@_out('logsumexp')
def logsumexp(input, dim, keepdim=False, *, out=None):
    return _reduction.logsumexp(input, dim, keepdim)


def softmax(input, dim, dtype=None):
    return _reduction.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):   # (softmax's dtype may be positional, not this)
    return _reduction.log_softmax(input, dim, dtype)


# ---- torch.special's own functions ---------------------------------------------------------
@_out('special_erfcx')
def erfcx(input, *, out=None):
    return _unary('special_erfcx', input)


@_out('special_ndtri')
def ndtri(input, *, out=None):
    return _unary('special_ndtri', input)


@_out('special_log_ndtr')
def log_ndtr(input, *, out=None):
    return _unary('special_log_ndtr', input)


@_out('special_i0e')
def i0e(input, *, out=None):
    return _unary('special_i0e', input)


@_out('special_i1')
def i1(input, *, out=None):
    return _dispatch(_ew.UNARY['special_i1'](), _tensor(input, 'special_i1'))


@_out('special_i1e')
def i1e(input, *, out=None):
    return _unary('special_i1e', input)


@_out('special_modified_bessel_i0')
def modified_bessel_i0(input, *, out=None):
    return _unary('special_modified_bessel_i0', input)


@_out('special_modified_bessel_i1')
def modified_bessel_i1(input, *, out=None):
    return _unary('special_modified_bessel_i1', input)


@_out('special_entr')
def entr(input, *, out=None):
    return _unary('special_entr', input)


@_out('special_xlog1py')
def xlog1py(input, other, *, out=None):
    input, other = _binary_operands('special_xlog1py', input, other)
    return _dispatch(_special_table.SPECIAL['special_xlog1py'](), input, other)


@_out('special_ndtr')
def _ndtr_into(result, *, out=None):
    return result


def ndtr(input, *, out=None):
    result = _unary('special_ndtr', input)
    if out is None:
        return result
    if result.requires_grad and isinstance(out, _Tensor) and out.shape == result.shape:
        # PyTorch's ndtr is a composite whose out= ends in a differentiable copy: an input that
        # requires grad is allowed there, and out's grad_fn is CopyBackwards
        return out.copy_(result)
    return _ndtr_into(result, out=out)


def _gamma_operands(name, input, other):
    if not isinstance(input, _Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f'{type(input).__name__}')
    if not isinstance(other, _Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f'{type(other).__name__}')
    return input, other


@_out('special_gammainc')
def gammainc(input, other, *, out=None):
    return _gz.igamma(*_gamma_operands('special_gammainc', input, other))


@_out('special_gammaincc')
def gammaincc(input, other, *, out=None):
    return _gz.igammac(*_gamma_operands('special_gammaincc', input, other))


@_out('special_zeta')
def zeta(input, other, *, out=None):
    input, other = _binary_operands('special_zeta', input, other)
    return _gz.zeta(input, other)


# ---- Bessel-family functions and orthogonal polynomials (no derivatives in PyTorch) ---------
def _values_only(aten_name, out, operands):
    """The op's result, into out= if given. PyTorch has no derivative for these ops: the result
    never requires grad, and out= is written even where an argument or out requires grad."""
    result = _dispatch(_special_table.SPECIAL[aten_name](), *operands)
    if out is None:
        return result
    _refuse_out_overlap(aten_name, out, operands, {})
    return _write_out(out, result, aten_name)


def _unary_values_only(name, argument, summary):
    """torch.special.<name>(<argument>, *, out=None); argument is PyTorch's name for the tensor
    ('input' or 'x', as its schema has it)."""
    aten_name = 'special_' + name

    def check(value):
        if not isinstance(value, _Tensor):
            raise TypeError(f"{aten_name}(): argument '{argument}' (position 1) must be Tensor, "
                            f'not {type(value).__name__}')
        return value

    if argument == 'input':
        def function(input, *, out=None):
            return _values_only(aten_name, out, (check(input),))
    else:
        def function(x, *, out=None):
            return _values_only(aten_name, out, (check(x),))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f'{name}({argument}, *, out=None) -> Tensor\n\n{summary}'
    return function


def _polynomial(name, summary):
    """torch.special.<name>(x, n, *, out=None): x or n may be a Python number; n is truncated
    to an integer."""
    aten_name = 'special_' + name

    def function(x, n, *, out=None):
        return _values_only(aten_name, out, _binary_operands(aten_name, x, n))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f'{name}(input, n, *, out=None) -> Tensor\n\n{summary}'
    return function


airy_ai = _unary_values_only('airy_ai', 'x', 'Airy function Ai(input).')
bessel_j0 = _unary_values_only('bessel_j0', 'input',
                               'Bessel function of the first kind of order 0.')
bessel_j1 = _unary_values_only('bessel_j1', 'input',
                               'Bessel function of the first kind of order 1.')
bessel_y0 = _unary_values_only('bessel_y0', 'input',
                               'Bessel function of the second kind of order 0.')
bessel_y1 = _unary_values_only('bessel_y1', 'input',
                               'Bessel function of the second kind of order 1.')
modified_bessel_k0 = _unary_values_only('modified_bessel_k0', 'input', 'Modified Bessel '
                                        'function of the second kind of order 0.')
modified_bessel_k1 = _unary_values_only('modified_bessel_k1', 'input', 'Modified Bessel '
                                        'function of the second kind of order 1.')
scaled_modified_bessel_k0 = _unary_values_only('scaled_modified_bessel_k0', 'x',
                                               'exp(input) * modified_bessel_k0(input).')
scaled_modified_bessel_k1 = _unary_values_only('scaled_modified_bessel_k1', 'x',
                                               'exp(input) * modified_bessel_k1(input).')
spherical_bessel_j0 = _unary_values_only('spherical_bessel_j0', 'x', 'Spherical Bessel '
                                         'function of the first kind of order 0, sin(x) / x.')
chebyshev_polynomial_t = _polynomial('chebyshev_polynomial_t',
                                     'Chebyshev polynomial of the first kind T_n(input).')
chebyshev_polynomial_u = _polynomial('chebyshev_polynomial_u',
                                     'Chebyshev polynomial of the second kind U_n(input).')
chebyshev_polynomial_v = _polynomial('chebyshev_polynomial_v',
                                     'Chebyshev polynomial of the third kind V_n(input).')
chebyshev_polynomial_w = _polynomial('chebyshev_polynomial_w',
                                     'Chebyshev polynomial of the fourth kind W_n(input).')
shifted_chebyshev_polynomial_t = _polynomial('shifted_chebyshev_polynomial_t',
                                             'T_n(2 input - 1).')
shifted_chebyshev_polynomial_u = _polynomial('shifted_chebyshev_polynomial_u',
                                             'U_n(2 input - 1).')
shifted_chebyshev_polynomial_v = _polynomial('shifted_chebyshev_polynomial_v',
                                             'V_n(2 input - 1).')
shifted_chebyshev_polynomial_w = _polynomial('shifted_chebyshev_polynomial_w',
                                             'W_n(2 input - 1).')
hermite_polynomial_h = _polynomial('hermite_polynomial_h',
                                   "Physicists' Hermite polynomial H_n(input).")
hermite_polynomial_he = _polynomial('hermite_polynomial_he',
                                    "Probabilists' Hermite polynomial He_n(input).")
laguerre_polynomial_l = _polynomial('laguerre_polynomial_l', 'Laguerre polynomial L_n(input).')
legendre_polynomial_p = _polynomial('legendre_polynomial_p', 'Legendre polynomial P_n(input).')
