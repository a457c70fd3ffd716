"""A sweep of the special values against PyTorch: every public function of torch,
nn.functional and special that takes one tensor (or two, for torch's functions) is called on
NaN, +-inf, +-0, subnormals, the float32 extremes and ordinary numbers (every pair of them, for
two tensors), in float32 and float64; where PyTorch answers, nbgrad must give the same values,
NaN where PyTorch has NaN; and so must the float64 gradients (both inputs' for the
two-tensor functions). No per-function code: a net under the op-by-op tests for the
NumPy-versus-PyTorch conventions at the edges (sign(NaN) is 0 in PyTorch and NaN in NumPy;
this sweep finds it)."""
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

ONE = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-38, 3e38, -3e38,
                1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 100.0, -100.0, 1e-7, -1e-7, 88.8, -88.8, 1.5,
                -1.5])
_PAIR_VALUES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, 1e-38, 3e38, -3e38, 1.0,
                         -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -7.5, 1e-7, 1e-300, 3e300])
FIRST, SECOND = (v.ravel() for v in np.meshgrid(_PAIR_VALUES, _PAIR_VALUES))

# random, or state-changing (and every set_* / use_*), or about memory, or not functions of values
SKIPPED = {'manual_seed', 'seed', 'save', 'load', 'compile', 'vmap', 'cond', 'while_loop',
           'inference_mode', 'backward', 'autocast', 'no_grad', 'enable_grad', 'rand_like',
           'randn_like', 'randint_like', 'empty_like', 'bernoulli', 'poisson', 'binomial',
           'multinomial', 'normal', 'dropout', 'dropout1d', 'dropout2d', 'dropout3d',
           'alpha_dropout', 'feature_alpha_dropout', 'rrelu', 'native_dropout', 'gumbel_softmax',
           'fractional_max_pool2d', 'fractional_max_pool3d', 'nonzero_static', 'cdist', 'dist',
           # helpers for Python numbers (PyTorch's handle a tensor through __torch_function__)
           'sym_int', 'sym_float', 'sym_max', 'sym_min', 'sym_not', 'sym_sqrt', 'sym_ite',
           'sym_sum'}

# (name, dtype): where the two differ, with the reason
KNOWN = {
    **{(name, dtype): 'I0/I1 at +-inf are their limits in nbgrad, NaN in PyTorch (README); in '
                      'float32 PyTorch overflows to inf where I0(88.8) = 1.56e37 is finite'
       for name in ('i0', 'i0_', 'special.i0', 'special.i1', 'special.modified_bessel_i0',
                    'special.modified_bessel_i1') for dtype in ('float32', 'float64')},
    ('F.gelu', 'float32'): "PyTorch's vectorised float32 CPU kernel gives NaN for +inf; its "
                           'float64 and CUDA kernels, and nbgrad, give inf',
    ('fmod', 'float32'): "by the smallest subnormal: PyTorch's float32 kernel treats it as 0 "
                         '(NaN); nbgrad computes it',
    ('remainder', 'float32'): 'the same',
    ('fmod', 'float64'): "a quotient beyond the float range (3e300 by 1e-45): PyTorch's kernel "
                         'gets NaN; nbgrad gives the exact remainder (C fmod)',
    ('remainder', 'float64'): 'the same',
    ('logaddexp2', 'float32'): "log2(2^-1 + 2^-1): PyTorch's kernel fuses its last multiply "
                               'and add (FMA) and keeps -1e-8 where nbgrad, rounding each, '
                               'gives the exact 0',
    ('logaddexp2', 'float64'): 'the same, -5e-17',
    ('igamma', 'float32'): "a subnormal a: PyTorch's float32 kernel takes it as 0",
    ('igammac', 'float32'): "small a: PyTorch's float32 kernel cancels (Q(1e-7, 1) = 1.09e-8 "
                            'where Q = a E1(1) = 2.19e-8, which nbgrad gives)',
}


# (name): where the gradients at the specials differ (float64), with the reason
_KERNELS_DISAGREE = ("at NaN PyTorch's vectorised and scalar CPU kernels disagree (which one "
                     "runs depends on the element's position); nbgrad gives one of the two")
KNOWN_GRADIENTS = {
    **{name: _KERNELS_DISAGREE for name in (
        'celu', 'selu', 'hardshrink', 'F.celu', 'F.elu', 'F.selu', 'F.hardshrink',
        'F.softshrink', 'F.hardswish', 'F.hardtanh', 'F.relu6')},
    **{name: 'at -0.0 the same: +inf from the scalar kernel, -inf from the vectorised one'
       for name in ('logit', 'special.logit')},
    **{name: "trigamma's poles at non-positive integers: PyTorch gives large finite values, "
             'nbgrad inf' for name in ('digamma', 'special.digamma', 'special.psi')},
    **{name: "I0's limits at +-inf (README)" for name in ('i0', 'special.i0')},
    'F.binary_cross_entropy_with_logits': "a subnormal target t: nbgrad's composite gradient "
                                          '(1 - t) - sigmoid(-x) rounds 1 - t to 1, where '
                                          "PyTorch's sigmoid(x) - t keeps it (-1e-45 "
                                          'against 0)',
}


def _libraries_agree(name, call, args, dtype):
    """None when they agree (or PyTorch refuses, or answers other than a real tensor of the
    input's length), else a description of the first differences."""
    try:
        expected = call(torch, *(torch.tensor(a, dtype=getattr(torch, dtype)) for a in args))
    except Exception:
        return None
    if not isinstance(expected, torch.Tensor) or expected.dtype.is_complex or \
            tuple(expected.shape) != args[0].shape:
        return None
    try:
        got = call(nbgrad, *(nbgrad.tensor(a, dtype=getattr(nbgrad, dtype)) for a in args))
    except Exception as e:
        return f'nbgrad raised {type(e).__name__}: {e}'
    want = expected.detach().numpy().astype(np.float64)
    have = got.detach().numpy().astype(np.float64)
    bad = ~np.isclose(have, want, rtol=2e-5, atol=1e-30, equal_nan=True)
    if not bad.any():
        return None
    where = np.nonzero(bad)[0][:4]
    return '; '.join(f'at {tuple(float(a[i]) for a in args)}: PyTorch {want[i]:.6g}, nbgrad '
                     f'{have[i]:.6g}' for i in where)


def _functions(namespace_name, torch_ns, nbgrad_ns):
    for name in sorted(set(dir(torch_ns)) & set(dir(nbgrad_ns))):
        if name.startswith(('_', 'set_', 'use_')) or name in SKIPPED:
            continue
        function = getattr(torch_ns, name)
        if callable(function) and not isinstance(function, type):
            yield (namespace_name + name, name, torch_ns.__name__, nbgrad_ns.__name__)


CASES = [*_functions('', torch, nbgrad), *_functions('F.', torch.nn.functional,
                                                      nbgrad.nn.functional),
         *_functions('special.', torch.special, nbgrad.special)]


def _resolve(module_name, name):
    module = torch if module_name.split('.')[0] == 'torch' else nbgrad
    for part in module_name.split('.')[1:]:
        module = getattr(module, part)
    return getattr(module, name)


def _call_of(label, name, torch_module, nbgrad_module):
    """call(lib, *tensors): the function on one or two tensors; nn.functional's with
    reduction='none' where they take it (the losses), so that every element is seen."""
    path = {'torch': torch_module, 'nbgrad': nbgrad_module}
    options = {'reduction': 'none'} if label.startswith('F.') else {}

    def call(lib, *tensors):
        function = _resolve(path[lib.__name__], name)
        try:
            return function(*tensors, **options)
        except TypeError:                    # no reduction argument
            return function(*tensors)
    return call


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('inputs', [pytest.param([ONE], id='one_tensor'),
                                    pytest.param([FIRST, SECOND], id='two_tensors')])
def test_the_specials(inputs, dtype):
    """Values on one tensor of the specials, and on two (every pair; torch's and
    nn.functional's functions)."""
    differences = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for label, name, torch_module, nbgrad_module in CASES:
            if (label, dtype) in KNOWN or (len(inputs) == 2 and label.startswith('special.')):
                continue
            found = _libraries_agree(label, _call_of(label, name, torch_module, nbgrad_module),
                                     inputs, dtype)
            if found:
                differences.append(f'{label}: {found}')
    assert not differences, '\n'.join(differences)


def test_known_differences_are_still_there():
    """Each KNOWN entry names a function that still differs (else it must leave the list)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for (label, dtype) in KNOWN:
            call = _call_of(*next(c for c in CASES if c[0] == label))
            one = _libraries_agree(label, call, [ONE], dtype)
            two = None if '.' in label else _libraries_agree(label, call, [FIRST, SECOND],
                                                             dtype)
            assert one or two, f'{label} ({dtype}) agrees with PyTorch now: drop it from KNOWN'


def _gradients(lib, call, inputs):
    """The gradients w.r.t. each input of sum(call(lib, *inputs) * w) (w: fixed weights), or
    None where the call gives no differentiable tensor of the inputs' shape."""
    tensors = [lib.tensor(a, requires_grad=True) for a in inputs]
    out = call(lib, *tensors)
    if not isinstance(out, lib.Tensor) or not out.requires_grad or \
            tuple(out.shape) != inputs[0].shape:
        return None
    weights = lib.tensor(np.linspace(0.5, 1.5, inputs[0].size))
    return lib.autograd.grad((out * weights).sum(), tensors, allow_unused=True)


@pytest.mark.parametrize('inputs,atol', [pytest.param([ONE], 1e-30, id='one_tensor'),
                                         pytest.param([FIRST, SECOND], 1e-300,
                                                      id='two_tensors')])
def test_gradients_at_the_specials(inputs, atol):
    """float64 gradients at the specials, w.r.t. every input: PyTorch's (NaN where PyTorch has
    NaN; a gradient that passes a NaN input, as relu's, passes it in nbgrad; maximum's at NaN,
    atan2's at the origin, div's where b * b would underflow, huber_loss's at an infinite
    difference...)."""
    differences = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for label, name, torch_module, nbgrad_module in CASES:
            if label in KNOWN_GRADIENTS or (len(inputs) == 2 and label.startswith('special.')):
                continue
            call = _call_of(label, name, torch_module, nbgrad_module)
            try:
                expected = _gradients(torch, call, inputs)
            except Exception:
                continue
            if expected is None:
                continue
            try:
                got = _gradients(nbgrad, call, inputs)
            except Exception as e:
                differences.append(f'{label}: nbgrad raised {type(e).__name__}: {e}')
                continue
            if got is None:
                differences.append(f'{label}: no gradient in nbgrad')
                continue
            for which, want, have in zip(('input', 'other'), expected, got):
                if (want is None) != (have is None):
                    differences.append(f'{label} d/d{which}: None in one library only')
                    continue
                if want is None:
                    continue
                want, have = want.numpy(force=True), have.numpy()
                bad = ~np.isclose(have, want, rtol=1e-6, atol=atol, equal_nan=True)
                if bad.any():
                    differences.append(f'{label} d/d{which}: ' + '; '.join(
                        f'at {tuple(float(a[i]) for a in inputs)}: PyTorch {want[i]:.6g}, '
                        f'nbgrad {have[i]:.6g}' for i in np.nonzero(bad)[0][:4]))
    assert not differences, '\n'.join(differences)
