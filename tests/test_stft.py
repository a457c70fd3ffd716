"""torch.stft / torch.istft against PyTorch: every option of each, the round trip, and the
errors PyTorch raises (run on the `device` fixture's device; PyTorch on the CPU)."""
import numpy as np
import pytest

import nbgrad
from torch_compare import compare_on_device

torch = pytest.importorskip('torch')

SIGNAL = np.random.default_rng(0).standard_normal((2, 100))


def _host(t):
    t = t.detach()
    return t.numpy() if isinstance(t, torch.Tensor) else t.cpu().numpy()


def _window(lib, dev, n=16):
    return lib.hann_window(n, dtype=lib.float64, device=dev)


STFT = {
    'basic': lambda lib, x, dev: lib.stft(x, 16, window=_window(lib, dev), return_complex=True),
    'one_signal': lambda lib, x, dev: lib.stft(x[0], 16, 4, window=_window(lib, dev),
                                               return_complex=True),
    'hop_5': lambda lib, x, dev: lib.stft(x, 16, 5, window=_window(lib, dev),
                                          return_complex=True),
    'short_window': lambda lib, x, dev: lib.stft(x, 16, 4, 10, _window(lib, dev, 10),
                                                 return_complex=True),
    'not_centred': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev),
                                                center=False, return_complex=True),
    'constant_pad': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev),
                                                 pad_mode='constant', return_complex=True),
    'normalized': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev),
                                               normalized=True, return_complex=True),
    'two_sided': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev),
                                              onesided=False, return_complex=True),
    'real_output': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev),
                                                return_complex=False),
    'rectangular': lambda lib, x, dev: lib.stft(x, 16, return_complex=True),
    'aligned_to_window': lambda lib, x, dev: lib.stft(
        x, 16, 4, 10, _window(lib, dev, 10), center=False, align_to_window=True,
        return_complex=True),
    'complex_input': lambda lib, x, dev: lib.stft(x.to(lib.complex128), 16, 4,
                                                  window=_window(lib, dev)),
    'method': lambda lib, x, dev: x.stft(16, 4, window=_window(lib, dev), return_complex=True),
    'return_complex_missing': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev)),
    'onesided_complex_refused': lambda lib, x, dev: lib.stft(
        x.to(lib.complex128), 16, 4, window=_window(lib, dev), onesided=True),
    'window_size_refused': lambda lib, x, dev: lib.stft(x, 16, 4, window=_window(lib, dev, 12),
                                                        return_complex=True),
    'align_with_center_refused': lambda lib, x, dev: lib.stft(
        x, 16, 4, window=_window(lib, dev), align_to_window=True, return_complex=True),
    'three_dims_refused': lambda lib, x, dev: lib.stft(x[None], 16, 4, window=_window(lib, dev),
                                                       return_complex=True),
}


def _spectrum(lib, dev, **kw):
    x = lib.tensor(SIGNAL, device=dev)
    return lib.stft(x, 16, 4, window=_window(lib, dev), return_complex=True, **kw)


ISTFT = {
    'basic': lambda lib, dev: lib.istft(_spectrum(lib, dev), 16, 4, window=_window(lib, dev)),
    'length_shorter': lambda lib, dev: lib.istft(_spectrum(lib, dev), 16, 4,
                                                 window=_window(lib, dev), length=90),
    'length_longer': lambda lib, dev: lib.istft(_spectrum(lib, dev), 16, 4,
                                                window=_window(lib, dev), length=120),
    'two_sided': lambda lib, dev: lib.istft(_spectrum(lib, dev, onesided=False), 16, 4,
                                            window=_window(lib, dev), onesided=False),
    'two_sided_complex': lambda lib, dev: lib.istft(
        _spectrum(lib, dev, onesided=False), 16, 4, window=_window(lib, dev), onesided=False,
        return_complex=True),
    'normalized': lambda lib, dev: lib.istft(_spectrum(lib, dev, normalized=True), 16, 4,
                                             window=_window(lib, dev), normalized=True),
    'not_centred': lambda lib, dev: lib.istft(_spectrum(lib, dev, center=False), 16, 4,
                                              window=_window(lib, dev), center=False),
    'window_overlap_refused': lambda lib, dev: lib.istft(_spectrum(lib, dev), 16, 20,
                                                         window=_window(lib, dev)),
    'real_input_refused': lambda lib, dev: lib.istft(_spectrum(lib, dev).real, 16, 4,
                                                     window=_window(lib, dev)),
    'wrong_frequencies_refused': lambda lib, dev: lib.istft(_spectrum(lib, dev), 20, 4,
                                                            window=_window(lib, dev, 20)),
}


@pytest.mark.parametrize('case', STFT)
def test_stft(case, device):
    compare_on_device(lambda lib, dev: STFT[case](lib, lib.tensor(SIGNAL, device=dev), dev),
                      device, rtol=1e-10, atol=1e-10, quiet=True)


@pytest.mark.parametrize('case', ISTFT)
def test_istft(case, device):
    compare_on_device(ISTFT[case], device, rtol=1e-10, atol=1e-10, quiet=True)


def test_round_trip_recovers_the_signal(device):
    x = nbgrad.tensor(SIGNAL, device=device)
    spectrum = nbgrad.stft(x, 32, 8, window=_window(nbgrad, device, 32), return_complex=True)
    back = nbgrad.istft(spectrum, 32, 8, window=_window(nbgrad, device, 32), length=100)
    np.testing.assert_allclose(_host(back), SIGNAL, atol=1e-12)


def test_rectangular_window_warns_as_pytorch():
    with pytest.warns(UserWarning, match='A window was not provided'):
        nbgrad.stft(nbgrad.tensor(SIGNAL), 16, return_complex=True)


@pytest.mark.parametrize('case', sorted(c for c in STFT if not c.endswith('_refused')
                                         and c != 'return_complex_missing'))
def test_gradients_through_stft_match_pytorch(case, device):
    """Gradients of a spectral loss (magnitudes and a weighted real part) with respect to the
    signal and the window, as PyTorch's."""
    def grads(lib, dev):
        x = (lib.tensor(SIGNAL, device=dev) if lib is nbgrad else lib.tensor(SIGNAL))
        x.requires_grad_()
        spectrum = STFT[case](lib, x, dev)
        if not spectrum.is_complex():
            spectrum = lib.view_as_complex(spectrum.contiguous())
        loss = spectrum.abs().sum() + (spectrum * (0.5 - 2j)).real.pow(2).sum()
        return lib.autograd.grad(loss, x)[0]
    expected = _host(grads(torch, 'cpu').resolve_conj())
    np.testing.assert_allclose(_host(grads(nbgrad, device)), expected, rtol=1e-10, atol=1e-10)


def test_istft_round_trip_gradient(device):
    """istft of stft with a gradient through both (and through the window) as PyTorch's."""
    def grads(lib, dev):
        kw = {'device': dev} if lib is nbgrad else {}
        x = lib.tensor(SIGNAL, requires_grad=True, **kw)
        window = lib.hann_window(32, dtype=lib.float64, **kw).requires_grad_()
        spectrum = lib.stft(x, 32, 8, window=window, return_complex=True)
        back = lib.istft(spectrum * (1 + 0.5j), 32, 8, window=window, length=100)
        return lib.autograd.grad((back ** 3).sum(), (x, window))
    for got, expected in zip(grads(nbgrad, device), grads(torch, 'cpu')):
        np.testing.assert_allclose(_host(got), _host(expected.resolve_conj()), rtol=1e-10,
                                   atol=1e-10)
