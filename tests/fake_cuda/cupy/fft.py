"""Fake cupy.fft: NumPy's numpy.fft with CuPy's dtypes and device-array results.

CuPy: the transforms take device arrays only (a host numpy.ndarray is a TypeError), convert the
input first (cupy/fft/_fft.py `_output_dtype`: float16 and float32 compute as complex64, other
non-complex dtypes as complex128; a real-to-complex transform reads float16 as float32, integers
as float64 and complex input by its real part) and keep single precision (complex64 in, complex64
or float32 out), where NumPy before 2.0 computed everything in double precision. n < 1 is a
ValueError; norm may be None, 'backward', 'ortho' or 'forward'.
"""
import numpy as np


def _output_dtype(dtype, value_type):
    dtype = np.dtype(dtype)
    if value_type != 'R2C':
        if dtype in (np.float16, np.float32):
            return np.dtype(np.complex64)
        if dtype not in (np.complex64, np.complex128):
            return np.dtype(np.complex128)
    else:
        if dtype in (np.complex64, np.complex128):
            return np.dtype(dtype.char.lower())
        if dtype == np.float16:
            return np.dtype(np.float32)
        if dtype not in (np.float32, np.float64):
            return np.dtype(np.float64)
    return dtype


def _transform(name, value_type):
    target = getattr(np.fft, name)

    def wrapper(a, *args, **kwargs):
        from . import _wrap, _is_host_array, _check_devices
        if _is_host_array(a) or not isinstance(a, np.ndarray):
            raise TypeError('The input array a must be a cupy.ndarray')
        norm = kwargs.get('norm')
        if norm not in (None, 'backward', 'ortho', 'forward'):
            raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or '
                             f'"forward".')
        _check_devices((a,))
        work = _output_dtype(a.dtype, value_type)
        plain = np.asarray(a)
        plain = plain.real.astype(work) if plain.dtype.kind == 'c' and work.kind == 'f' else \
            plain.astype(work, copy=False)
        result = target(plain, *args, **kwargs)  # n < 1: ValueError, as in CuPy
        # CuPy keeps the input's precision
        if value_type == 'C2R':
            result = result.astype(work.char.lower(), copy=False)
        elif work in (np.float32, np.complex64):
            result = result.astype(np.complex64, copy=False)
        return _wrap(np.ascontiguousarray(result))
    wrapper.__name__ = name
    return wrapper


fft = _transform('fft', 'C2C')
ifft = _transform('ifft', 'C2C')
fft2 = _transform('fft2', 'C2C')
ifft2 = _transform('ifft2', 'C2C')
fftn = _transform('fftn', 'C2C')
ifftn = _transform('ifftn', 'C2C')
rfft = _transform('rfft', 'R2C')
rfft2 = _transform('rfft2', 'R2C')
rfftn = _transform('rfftn', 'R2C')
irfft = _transform('irfft', 'C2R')
irfft2 = _transform('irfft2', 'C2R')
irfftn = _transform('irfftn', 'C2R')
hfft = _transform('hfft', 'C2R')
ihfft = _transform('ihfft', 'R2C')


def fftfreq(n, d=1.0):
    from . import _wrap
    return _wrap(np.fft.fftfreq(n, d))


def rfftfreq(n, d=1.0):
    from . import _wrap
    return _wrap(np.fft.rfftfreq(n, d))


def fftshift(x, axes=None):
    from . import _wrap, _unwrap
    return _wrap(np.fft.fftshift(_unwrap(x), axes))


def ifftshift(x, axes=None):
    from . import _wrap, _unwrap
    return _wrap(np.fft.ifftshift(_unwrap(x), axes))
