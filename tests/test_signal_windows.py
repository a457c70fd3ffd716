"""torch.signal.windows against PyTorch 2.13: every window, symmetric and periodic, float32 and
float64, the lengths 0, 1, 2 and longer ones, options, and PyTorch's errors."""
import pytest

import nbgrad

torch = pytest.importorskip('torch')

from torch_compare import assert_same, both  # noqa: E402

_WINDOWS = [('bartlett', {}), ('blackman', {}), ('cosine', {}), ('exponential', {}),
            ('exponential', {'tau': 3.0}), ('gaussian', {'std': 2.5}),
            ('general_cosine', {'a': [0.5, 0.3, 0.2]}), ('general_hamming', {'alpha': 0.6}),
            ('hamming', {}), ('hann', {}), ('kaiser', {'beta': 6.0}), ('kaiser', {}),
            ('nuttall', {})]


def test_every_window_of_pytorch_is_there():
    assert sorted(nbgrad.signal.windows.__all__) == sorted(torch.signal.windows.__all__)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('M', [0, 1, 2, 7, 16, 51])
@pytest.mark.parametrize('sym', [True, False], ids=['sym', 'periodic'])
@pytest.mark.parametrize('name,options', _WINDOWS,
                         ids=[f'{n}{"-" if o else ""}{"-".join(map(str, o.values()))}'
                              for n, o in _WINDOWS])
def test_windows_as_pytorch(name, options, M, sym, dtype):
    # (exp, cos and i0 can differ from PyTorch's in the last bit, as everywhere in nbgrad: a
    # float32 ulp of the terms shows next to values near 0 that they cancel to)
    # (float32 i0: PyTorch's and nbgrad's differ by a few ulps)
    tolerance = dict(rtol=1e-6 if name == 'kaiser' else 3e-7, atol=1e-7) \
        if dtype == 'float32' else dict(rtol=1e-13, atol=1e-15)
    both(lambda lib: getattr(lib.signal.windows, name)(M, sym=sym, dtype=getattr(lib, dtype),
                                                       **options),
         lambda got, expected: assert_same(got, expected, **tolerance))


def test_a_periodic_exponential_window_with_its_center():
    both(lambda lib: lib.signal.windows.exponential(8, center=2.0, sym=False))


def test_requires_grad_and_default_dtype():
    window = nbgrad.signal.windows.hann(5, requires_grad=True)
    assert window.requires_grad and window.dtype is nbgrad.float32


@pytest.mark.parametrize('call', [
    lambda W, lib: W.hann(4, dtype=lib.float16),
    lambda W, lib: W.hann(-1),
    lambda W, lib: W.gaussian(4, std=0),
    lambda W, lib: W.exponential(4, center=1.0),
    lambda W, lib: W.exponential(4, tau=0),
    lambda W, lib: W.general_cosine(4, a=[]),
    lambda W, lib: W.general_cosine(4, a=3),
    lambda W, lib: W.kaiser(4, beta=-1),
], ids=['half', 'negative length', 'std 0', 'symmetric with center', 'tau 0', 'no coefficients',
        'coefficients not a list', 'negative beta'])
def test_errors_as_pytorch(call):
    both(lambda lib: call(lib.signal.windows, lib))
