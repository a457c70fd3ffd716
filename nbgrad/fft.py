"""nbgrad.fft: PyTorch's torch.fft.

fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn, hfft, ihfft,
hfft2, ihfft2, hfftn, ihfftn, fftfreq, rfftfreq, fftshift and ifftshift, with PyTorch's
signatures, result dtypes (integer and bool inputs are first promoted to the default float dtype;
float32 gives complex64, float64 complex128), padding and trimming with n/s, dims, norm and out=,
and PyTorch's errors. The transforms run on numpy.fft on the CPU and cupy.fft on CUDA (the graph
nodes are in nbgrad/ops/_fft_ops.py); fftshift and ifftshift are nbgrad's roll.

Autograd. Every transform is differentiable, complex inputs and results included, with
PyTorch's gradients (the adjoint transforms, see ops/_fft_ops.py) and grad_fn names
(FftC2CBackward0, FftR2CBackward0, FftC2RBackward0), to any order. fftshift and ifftshift are
differentiable like roll.

Deliberate differences from PyTorch 2.13 on the CPU:
- float16 inputs are refused everywhere with PyTorch's CPU error ("Unsupported dtype Half"),
  also on CUDA where PyTorch computes in ComplexHalf, a dtype nbgrad does not have.
- A transform of a tensor that is empty in a dimension it does not transform gives the empty
  result (PyTorch's CPU kernel fails there with an MKL error).
- ihfftn/ihfft2 over a single dimension with out= write the result into out (PyTorch 2.13 leaves
  out unchanged there); ifft and ihfft of a real input that requires grad with out= raise the
  out= error of autograd (PyTorch returns a tensor whose grad_fn is broken).
- fftfreq/rfftfreq with out= of the wrong size resize it without PyTorch's warning, and accept
  layout= and pin_memory= without acting on them (nbgrad tensors are all strided).
"""
import numpy as np

from . import _dtype
from ._creation import _finish, _on_device
from ._device import to_device
from ._dispatch import dispatch, _type_word
from ._out import accepts_out, write_out
from ._tensor import Tensor
from .autograd import grad_mode as _grad_mode
from .ops._args import int_arg, is_float_arg, tensor_arg, type_name
from .ops._fft_ops import FFT, RealC2R, SWAP_NORM
from .ops.shape import roll
from ._layout import check_layout

__all__ = ['fft', 'ifft', 'fft2', 'ifft2', 'fftn', 'ifftn', 'rfft', 'irfft', 'rfft2', 'irfft2',
           'rfftn', 'irfftn', 'hfft', 'ihfft', 'hfft2', 'ihfft2', 'hfftn', 'ihfftn', 'fftfreq',
           'rfftfreq', 'fftshift', 'ifftshift']

_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}


# ---------------------------------------------------------------------------------------------
# Arguments, as PyTorch's parser and its fft helpers check them
# ---------------------------------------------------------------------------------------------

def _args(fn, input, n=None, dim=None, norm=None, out=None):
    """The parser's TypeErrors for a one-dimensional transform: (input, n, dim)."""
    input = tensor_arg(input, fn, 'input', 1)
    if n is not None:
        n = int_arg(n, fn, 'n')
    dim = int_arg(dim, fn, 'dim')
    _norm_type(fn, norm)
    _out_type(fn, out)
    return input, n, dim


def _nd_args(fn, input, s, dim, norm, out, dim_required=False):
    input = tensor_arg(input, fn, 'input', 1)
    s = _int_list(fn, 's', s)
    if dim is None and dim_required:
        raise TypeError(f"{fn}(): argument 'dim' must be tuple of ints, not NoneType")
    dim = _int_list(fn, 'dim', dim)
    _norm_type(fn, norm)
    _out_type(fn, out)
    return input, s, dim


def _norm_type(fn, norm):
    if norm is not None and not isinstance(norm, str):
        raise TypeError(f"{fn}(): argument 'norm' must be str, not {type_name(norm)}")


def _out_type(fn, out):
    if out is not None and not isinstance(out, Tensor):
        raise TypeError(f"{fn}(): argument 'out' must be Tensor, not {type_name(out)}")


def _int_list(fn, name, value):
    """An int[] parameter: None, an int (a list of one), a sequence of ints or a 1-D integer
    tensor."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value._data.dtype.kind in 'iu' and value.dim() <= 1:
            return [int(v) for v in value.reshape(-1).tolist()]
    elif isinstance(value, (tuple, list)):
        try:
            return [int_arg(v, fn, name) for v in value]
        except TypeError:
            pass
    else:
        try:
            return [int_arg(value, fn, name)]
        except TypeError:
            pass
    raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type_name(value)}")


def _norm(norm):
    """NumPy's name for PyTorch's norm argument (checked where PyTorch checks it)."""
    if norm is None or norm in ('backward', 'forward', 'ortho'):
        return norm or 'backward'
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _wrap(dim, ndim):
    """maybe_wrap_dim with wrap_scalar=False: a 0-dim tensor has no dimension to transform."""
    if ndim == 0:
        raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    if not -ndim <= dim < ndim:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-ndim}, '
                         f'{ndim - 1}], but got {dim})')
    return dim + ndim if dim < 0 else dim


def _promote(x, require_complex):
    """promote_type_fft: integers and bool to the default float dtype, float16 refused, and
    to the complex dtype of that precision where the transform takes complex input."""
    dt = x._data.dtype
    if dt.kind == 'c':
        return dt
    if dt.kind in 'biu':
        dt = _dtype.get_default_dtype().np
    if _dtype.is_reduced_float(dt):
        raise RuntimeError(f'Unsupported dtype {"Half" if dt == np.float16 else "BFloat16"}')
    return _COMPLEX_OF[dt] if require_complex else dt


def _real_of(np_dtype):
    return np.dtype(np_dtype.char.lower())


def _check_points(n):
    if n < 1:
        raise RuntimeError(f'Invalid number of data points ({n}) specified')


def _check_out(out, name, want_complex):
    if out is None:
        return
    kind = out._data.dtype.kind
    if want_complex and kind != 'c':
        raise RuntimeError(f'{name} expects a complex output tensor, but got '
                           f'{_type_word(out._data.dtype)}')
    if not want_complex and kind != 'f':
        raise RuntimeError(f'{name} expects a floating point output tensor, but got '
                           f'{_type_word(out._data.dtype)}')


def _shape_and_dims(x, s, dim):
    """canonicalize_fft_shape_and_dim_args: (signal sizes, wrapped dims)."""
    ndim, sizes = x._data.ndim, x._data.shape
    dims = None
    if dim is not None:
        dims = [_wrap(d, ndim) for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError('FFT dims must be unique')
    if s is not None:
        if dim is not None and len(dim) != len(s):
            raise RuntimeError('When given, dim and shape arguments must have the same length')
        if len(s) > ndim:
            raise RuntimeError(f'Got shape with {len(s)} values but input tensor only has '
                               f'{ndim} dimensions.')
        if dims is None:
            dims = list(range(ndim - len(s), ndim))
        shape = [sizes[d] if n == -1 else n for n, d in zip(s, dims)]
    elif dims is None:
        dims, shape = list(range(ndim)), list(sizes)
    else:
        shape = [sizes[d] for d in dims]
    for n in shape:
        _check_points(n)
    return shape, dims


def _c2r_shape_and_dims(name, x, s, dim):
    """The c2r form: the last transformed dim's output length, and its one-sided input size."""
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError(f'{name} must transform at least one axis')
    if s is None or s[-1] == -1:
        last = 2 * (x._data.shape[dims[-1]] - 1)
    else:
        last = shape[-1]
    _check_points(last)
    shape[-1] = last // 2 + 1
    return shape, dims, last


# ---------------------------------------------------------------------------------------------
# Running a transform
# ---------------------------------------------------------------------------------------------

def _refuse_grad(name, x, out, primitive):
    """out= with autograd: PyTorch's error, naming its primitive. Called last, where PyTorch
    would call its primitive."""
    if out is not None and _grad_mode.is_grad_enabled() and x.requires_grad:
        raise RuntimeError(f"{primitive}(): functions with out=... arguments don't support "
                           f'automatic differentiation, but one of the arguments requires grad.')


def _finish_out(result, out, name, exact=None):
    """Write into out= (resizing it as PyTorch does). exact: the message format of PyTorch's
    conj_physical_out paths, which take no other dtype than the result's."""
    if out is None:
        return result
    if exact is not None and out._data.dtype != result._data.dtype:
        raise RuntimeError(exact.format(out=_type_word(out._data.dtype),
                                        result=_type_word(result._data.dtype)))
    return write_out(out, result, name)


def _c2c(name, x, out, sizes, dims, norm, forward, out_name):
    """fft_c2c / fftn_c2c, from the resize on (x complex or promoted to complex)."""
    work = _promote(x, True)
    norm = _norm(norm)
    _check_out(out, out_name, True)
    _refuse_grad(name, x, out, '_fft_c2c')
    op = FFT('c2c', forward, dims, sizes, norm, work, work, op_name=name)
    result = dispatch(op, x)
    return _finish_out(result, out, name)


def _c2r(name, x, out, sizes, dims, last, norm, forward, out_name):
    """The complex-to-real transforms (irfft*, hfft*) from the resize on; a real input goes
    through the differentiable RealC2R node."""
    work = _promote(x, True)
    norm = _norm(norm)
    _check_out(out, out_name, False)
    real = _real_of(work)
    if x._data.dtype.kind != 'c':
        if out is not None:
            _refuse_grad(name, x, out, '_fft_c2r')
        op = RealC2R(dims, sizes, last, SWAP_NORM[norm] if forward else norm, work, real,
                     x._data.shape)
    else:
        _refuse_grad(name, x, out, '_fft_c2r')
        op = FFT('c2r', forward, dims, sizes, norm, work, real, last, op_name=name)
    return _finish_out(dispatch(op, x), out, name)


# ---------------------------------------------------------------------------------------------
# One-dimensional transforms
# ---------------------------------------------------------------------------------------------

def _real_input_setup(name, x, n, dim, norm, out, forward):
    """The checks and settings of a one-dimensional transform of a real input: its working
    dtype, dim, point count and normalisation."""
    _check_out(out, name, True)
    work = _promote(x, False)
    d = _wrap(dim, x._data.ndim)
    n = x._data.shape[d] if n is None else n
    _check_points(n)
    norm = _norm(norm)
    _refuse_grad(name, x, out, '_fft_r2c')
    return work, d, n, norm


def _fft_1d(fn, name, input, n, dim, norm, out, forward):
    """fft and ifft: c2c for a complex input, a two-sided r2c for a real one."""
    x, n, dim = _args(fn, input, n, dim, norm, out)
    if x._data.dtype.kind == 'c':
        d = _wrap(dim, x._data.ndim)
        n = x._data.shape[d] if n is None else n
        _check_points(n)
        return _c2c(name, x, out, [n], [d], norm, forward, name)
    work, d, n, norm = _real_input_setup(name, x, n, dim, norm, out, forward)
    complex_work = _COMPLEX_OF[work]
    op = FFT('c2c', forward, [d], [n], norm, complex_work, complex_work, op_name=name)
    result = dispatch(op, x)
    exact = None if forward else 'Found dtype {out} but expected {result}'
    return _finish_out(result, out, name, exact)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional discrete Fourier transform of input along dim (n points: input is
    trimmed or zero-padded to n first)."""
    return _fft_1d('fft_fft', 'fft', input, n, dim, norm, out, True)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of fft."""
    return _fft_1d('fft_ifft', 'ifft', input, n, dim, norm, out, False)


def _r2c_1d(fn, name, input, n, dim, norm, out, forward):
    """rfft and ihfft: a real input, the one-sided half of its transform."""
    x, n, dim = _args(fn, input, n, dim, norm, out)
    if x._data.dtype.kind == 'c':
        raise RuntimeError(f'{name} expects a real input tensor, but got '
                           f'{_type_word(x._data.dtype)}')
    work, d, n, norm = _real_input_setup(name, x, n, dim, norm, out, forward)
    op = FFT('r2c', forward, [d], [n], norm, work, _COMPLEX_OF[work], op_name=name)
    result = dispatch(op, x)
    exact = None if forward else 'Found dtype {out} but expected {result}'
    return _finish_out(result, out, name, exact)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The Fourier transform of a real input: the n // 2 + 1 non-negative frequencies."""
    return _r2c_1d('fft_rfft', 'rfft', input, n, dim, norm, out, True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of hfft: a real input's one-sided inverse transform."""
    return _r2c_1d('fft_ihfft', 'ihfft', input, n, dim, norm, out, False)


def _c2r_1d(fn, name, input, n, dim, norm, out, forward):
    """irfft and hfft: a one-sided (Hermitian) input, a real result of n points (by default
    2 * (size - 1))."""
    x, n, dim = _args(fn, input, n, dim, norm, out)
    _check_out(out, name, False)
    _promote(x, True)
    d = _wrap(dim, x._data.ndim)
    last = 2 * (x._data.shape[d] - 1) if n is None else n
    _check_points(last)
    size = x._data.shape[d] if n is None else last // 2 + 1
    return _c2r(name, x, out, [size], [d], last, norm, forward, name)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of rfft: n real points from the one-sided transform in input."""
    return _c2r_1d('fft_irfft', 'irfft', input, n, dim, norm, out, False)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The transform of a Hermitian-symmetric signal given by its one-sided half: n real
    points."""
    return _c2r_1d('fft_hfft', 'hfft', input, n, dim, norm, out, True)


# ---------------------------------------------------------------------------------------------
# N-dimensional transforms (the 2-D ones are these with dim=(-2, -1) by default)
# ---------------------------------------------------------------------------------------------

def _fftn(fn, name, input, s, dim, norm, out, forward, dim_required=False):
    x, s, dim = _nd_args(fn, input, s, dim, norm, out, dim_required)
    shape, dims = _shape_and_dims(x, s, dim)
    return _c2c(name, x, out, shape, dims, norm, forward, 'fftn')


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional Fourier transform over dim (all dims, or the last len(s))."""
    return _fftn('fft_fftn', 'fftn', input, s, dim, norm, out, True)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn('fft_ifftn', 'ifftn', input, s, dim, norm, out, False)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn('fft_fft2', 'fft2', input, s, dim, norm, out, True, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn('fft_ifft2', 'ifft2', input, s, dim, norm, out, False, True)


def _rfftn(fn, input, s, dim, norm, out, dim_required=False):
    x, s, dim = _nd_args(fn, input, s, dim, norm, out, dim_required)
    if x._data.dtype.kind == 'c':
        raise RuntimeError(f'rfftn expects a real-valued input tensor, but got '
                           f'{_type_word(x._data.dtype)}')
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError('rfftn must transform at least one axis')
    work = _promote(x, False)
    norm = _norm(norm)
    _check_out(out, 'rfftn', True)
    _refuse_grad('rfftn', x, out, '_fft_r2c')
    op = FFT('r2c', True, dims, shape, norm, work, _COMPLEX_OF[work], op_name='rfftn')
    result = dispatch(op, x)
    return _finish_out(result, out, 'rfftn')


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional transform of a real input, one-sided along the last dim of dim."""
    return _rfftn('fft_rfftn', input, s, dim, norm, out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _rfftn('fft_rfft2', input, s, dim, norm, out, True)


def _c2rn(fn, name, input, s, dim, norm, out, forward, dim_required=False):
    x, s, dim = _nd_args(fn, input, s, dim, norm, out, dim_required)
    shape, dims, last = _c2r_shape_and_dims(name, x, s, dim)
    return _c2r(name, x, out, shape, dims, last, norm, forward, name)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of rfftn: a real result, s[-1] points (by default 2 * (size - 1)) along the
    last dim of dim."""
    return _c2rn('fft_irfftn', 'irfftn', input, s, dim, norm, out, False)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2rn('fft_irfft2', 'irfftn', input, s, dim, norm, out, False, True)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional transform of a Hermitian-symmetric signal given by its one-sided half
    along the last dim of dim: a real result."""
    return _c2rn('fft_hfftn', 'hfftn', input, s, dim, norm, out, True)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2rn('fft_hfft2', 'hfftn', input, s, dim, norm, out, True, True)


def _ihfftn(fn, input, s, dim, norm, out, dim_required=False):
    x, s, dim = _nd_args(fn, input, s, dim, norm, out, dim_required)
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError('ihfftn must transform at least one axis')
    if x._data.dtype.kind == 'c':
        raise RuntimeError(f'Only supports floating-point dtypes, but found: '
                           f'{_type_word(x._data.dtype)}')
    work = _promote(x, False)
    norm = _norm(norm)
    if len(dims) == 1:  # PyTorch's conj_physical_out path: out must have the result's dtype
        exact = 'Found dtype {result} but expected {out}'
        _refuse_grad('ihfftn', x, out, '_fft_r2c')
    else:
        exact = None
        _check_out(out, 'ihfftn', True)
        _refuse_grad('ihfftn', x, out, '_fft_c2c')
    op = FFT('r2c', False, dims, shape, norm, work, _COMPLEX_OF[work], op_name='ihfftn')
    result = dispatch(op, x)
    return _finish_out(result, out, 'ihfftn', exact)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of hfftn: a real input's one-sided N-dimensional inverse transform."""
    return _ihfftn('fft_ihfftn', input, s, dim, norm, out)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _ihfftn('fft_ihfft2', input, s, dim, norm, out, True)


# ---------------------------------------------------------------------------------------------
# Frequencies and shifts
# ---------------------------------------------------------------------------------------------

def _freq(fn, name, n, d, dtype, device, requires_grad, count, values):
    n = int_arg(n, fn, 'n', 1)
    if not is_float_arg(d) or isinstance(d, complex):
        raise TypeError(f"{fn}(): argument 'd' must be float, not {type_name(d)}")
    d = float(d.item() if isinstance(d, Tensor) else d)
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    device = to_device(device)
    size = count(n)
    if size < 0:
        raise RuntimeError(f'Trying to create tensor with negative dimension {size}: [{size}]')
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f'{name} requires a floating point or complex dtype')
    if dt.is_complex:  # PyTorch fills the values with arange, which has no complex kernel
        raise NotImplementedError(f'"arange_{device.type}" not implemented for '
                                  f'\'{_type_word(dt.np)}\'')
    with np.errstate(divide='ignore', invalid='ignore'):
        scale = np.float64(1.0) / np.float64(n * d)   # inf for d = 0, as in C++
    # PyTorch: arange in the dtype, then out.mul_(scale), in float (opmath) for float16/32
    steps = values(n, size).astype(dt.np)
    if dt.np == np.float64:
        result = steps * scale
    else:
        result = (steps.astype(np.float32) * np.float32(scale)).astype(dt.np)
    return _finish(_on_device(result, device), requires_grad)


def _c_div2(n):
    """n / 2 in C++ (truncated toward zero)."""
    return n // 2 if n >= 0 else -(-n // 2)


def _fftfreq_values(n, size):
    return np.concatenate([np.arange((n + 1) // 2), np.arange(-_c_div2(n), 0)])


@accepts_out(factory=True)
def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=None):
    """The sample frequencies of an n-point fft with sample spacing d: [0, 1, ..., (n - 1) // 2,
    -(n // 2), ..., -1] / (n * d)."""
    check_layout(layout, 'fft_fftfreq')
    return _freq('fft_fftfreq', 'fftfreq', n, d, dtype, device, requires_grad, lambda n: n,
                 _fftfreq_values)


@accepts_out(factory=True)
def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=None):
    """The sample frequencies of rfft's n // 2 + 1 outputs: [0, 1, ..., n // 2] / (n * d)."""
    check_layout(layout, 'fft_rfftfreq')
    return _freq('fft_rfftfreq', 'rfftfreq', n, d, dtype, device, requires_grad,
                 lambda n: _c_div2(n) + 1, lambda n, size: np.arange(size))


def _shift(fn, input, dim, inverse):
    x = tensor_arg(input, fn, 'input', 1)
    dim = _int_list(fn, 'dim', dim)
    ndim, sizes = x._data.ndim, x._data.shape
    dims = list(range(ndim)) if dim is None else [_wrap(d, ndim) for d in dim]
    if not dims:
        raise RuntimeError('`shifts` required')
    shifts = [(sizes[d] + 1) // 2 if inverse else sizes[d] // 2 for d in dims]
    return roll(x, shifts, dims)


def fftshift(input, dim=None):
    """Roll the zero frequency to the middle of each dim (all by default): a differentiable
    roll by size // 2."""
    return _shift('fft_fftshift', input, dim, False)


def ifftshift(input, dim=None):
    """The inverse of fftshift: a roll by (size + 1) // 2."""
    return _shift('fft_ifftshift', input, dim, True)
