"""torch.stft and torch.istft: the short-time Fourier transform and its inverse, built from
Tensor ops (pad, unfold, fft, fold), so they run on either device.

stft: the input (L,) or (B, L), centred by padding n_fft // 2 on each side (pad_mode), cut
into frames of n_fft every hop_length, each times the window (win_length long, zero-padded to
n_fft in the middle), then Fourier transformed: (B?, n_freq, n_frames), n_freq = n_fft // 2 + 1
when onesided. istft overlap-adds the inverse transforms of the frames, divides by the
overlap-added squared window, and removes the centring.
"""
import warnings

from . import fft as _fft
from ._tensor import Tensor


def _frame_window(window, n_fft, win_length, signal, fn):
    """The window zero-padded to n_fft in the middle (ones of the signal's real dtype and
    device when none is given)."""
    if window is None:
        if fn == 'stft':
            warnings.warn('A window was not provided. A rectangular window will be applied,which '
                          'is known to cause spectral leakage. Other windows such as '
                          'torch.hann_window or torch.hamming_window are recommended to reduce '
                          'spectral leakage.To suppress this warning and use a rectangular '
                          'window, explicitly set `window=torch.ones(n_fft, device=<device>)`.',
                          UserWarning, stacklevel=3)
        from ._creation import ones
        window = ones(win_length, dtype=signal.real.dtype if signal.is_complex() else
                      signal.dtype, device=signal.device)
    if window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f'{fn}: expected a 1D window tensor of size equal to win_length='
                           f'{win_length}, but got window with size {list(window.shape)}')
    left = (n_fft - win_length) // 2
    if left or n_fft - win_length - left:
        from .nn.functional import pad
        window = pad(window, (left, n_fft - win_length - left))
    return window


def _lengths(n_fft, hop_length, win_length, fn):
    hop_length = n_fft // 4 if hop_length is None else int(hop_length)
    win_length = n_fft if win_length is None else int(win_length)
    if n_fft <= 0:
        raise RuntimeError(f'{fn}: expected 0 < n_fft, but got n_fft={n_fft}')
    if hop_length <= 0:
        raise RuntimeError(f'{fn}: expected hop_length > 0, but got hop_length={hop_length}')
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f'{fn}: expected 0 < win_length <= n_fft, but got '
                           f'win_length={win_length}')
    return hop_length, win_length


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode='reflect', normalized=False, onesided=None, return_complex=None,
         align_to_window=None):
    """Short-time Fourier transform (torch.stft): (B?, n_freq, n_frames), complex."""
    if not isinstance(input, Tensor):
        raise TypeError(f'stft(): argument \'input\' must be Tensor, not {type(input).__name__}')
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_input:
            raise RuntimeError('stft requires the return_complex parameter be given for real '
                               'inputs, and will further require that return_complex=True in a '
                               'future PyTorch release.')
        return_complex = True
    if input.dim() not in (1, 2):
        raise RuntimeError(f'stft: expected a 1D or 2D tensor, but got a {input.dim()}D tensor')
    if align_to_window and center:
        raise RuntimeError('stft: align_to_window should only be set when center = false')
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, 'stft')
    x = input if input.dim() == 2 else input.unsqueeze(0)
    if center:
        from .nn.functional import pad
        x = pad(x.unsqueeze(1), (n_fft // 2, n_fft // 2), mode=pad_mode).squeeze(1)
    elif align_to_window:   # frames of win_length from each hop, zero-padded to n_fft
        from .nn.functional import pad
        left = (n_fft - win_length) // 2
        x = pad(x, (left, n_fft - win_length - left))
    if x.shape[-1] < n_fft:
        raise RuntimeError(f'stft: expected 0 < n_fft <= {x.shape[-1]}, but got n_fft={n_fft}')
    frames = x.unfold(-1, n_fft, hop_length) * _frame_window(window, n_fft, win_length,
                                                             input, 'stft')
    if onesided is None:
        onesided = not complex_input
    if onesided and complex_input:
        raise RuntimeError('Cannot have onesided output if window or input is complex')
    spectrum = _fft.rfft(frames, dim=-1) if onesided else _fft.fft(frames, dim=-1)
    if normalized:
        spectrum = spectrum * n_fft ** -0.5
    out = spectrum.transpose(-1, -2)
    if input.dim() == 1:
        out = out.squeeze(0)
    if not return_complex:
        from .ops.complex_ops import view_as_real
        return view_as_real(out)
    return out


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """Inverse short-time Fourier transform (torch.istft): the signal, (B?, L)."""
    if not isinstance(input, Tensor):
        raise TypeError(f'istft(): argument \'input\' must be Tensor, not {type(input).__name__}')
    if not input.is_complex():
        raise RuntimeError('istft requires a complex-valued input tensor')
    if input.dim() not in (2, 3):
        raise RuntimeError(f'istft: expected a tensor with 2 or 3 dimensions of complex values, '
                           f'but got {input.dim()}D')
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, 'istft')
    spectrum = input if input.dim() == 3 else input.unsqueeze(0)
    n_freq, n_frames = spectrum.shape[-2], spectrum.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    expected = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != expected:
        raise RuntimeError(f'istft: expected the frequency dimension (3rd to the last) of the '
                           f'input tensor to match n_fft / 2 + 1 when onesided=True, but got '
                           f'{n_freq}' if onesided else
                           f'istft: expected the frequency dimension (3rd to the last) of the '
                           f'input tensor to match n_fft when onesided=False, but got {n_freq}')
    win = _frame_window(window, n_fft, win_length, input.real, 'istft')
    columns = spectrum.transpose(-1, -2)
    if normalized:
        columns = columns * n_fft ** 0.5
    if onesided:
        if return_complex:
            raise RuntimeError('cannot have onesided output if window or input is complex')
        frames = _fft.irfft(columns, n=n_fft, dim=-1)
    else:
        frames = _fft.ifft(columns, n=n_fft, dim=-1)
        if not return_complex:
            frames = frames.real
    frames = frames * win                                     # (B, n_frames, n_fft)
    total = n_fft + hop_length * (n_frames - 1)
    from .nn.functional import fold
    signal = fold(frames.transpose(-1, -2), (1, total), (1, n_fft), stride=(1, hop_length))
    signal = signal.reshape(signal.shape[0], total)
    envelope = fold((win * win).reshape(1, n_fft, 1).expand(1, n_fft, n_frames), (1, total),
                    (1, n_fft), stride=(1, hop_length)).reshape(total)
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center else total
    if length is not None:
        end = start + int(length)
    signal = signal[:, start:min(end, total)]
    envelope = envelope[start:min(end, total)]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError('istft: window overlap add min: the window and hop_length leave '
                           'some samples with (almost) no weight, so the signal cannot be '
                           'recovered (the NOLA condition fails)')
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        from .nn.functional import pad
        signal = pad(signal, (0, int(length) - signal.shape[-1]))
    return signal if input.dim() == 3 else signal.squeeze(0)


Tensor.stft, Tensor.istft = stft, istft
