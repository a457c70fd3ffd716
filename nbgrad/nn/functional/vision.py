"""Vision functions of torch.nn.functional: interpolate (and the deprecated upsample forms),
pixel_shuffle / pixel_unshuffle, channel_shuffle, grid_sample and affine_grid.

interpolate follows PyTorch's Python front end line by line (which of size / scale_factor,
recompute_scale_factor, align_corners rules, the errors), then resamples with the separable
tables of _resample: one graph node named as PyTorch's (UpsampleBilinear2DBackward0, ...).
'area' is adaptive average pooling, as in PyTorch. antialias=True (4-D bilinear, bicubic, lanczos)
uses PyTorch's filter windows (_resample.aa_table).
"""
import numbers
import warnings

import numpy as np

from ... import _dtype
from ..._dispatch import dispatch, _type_word
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops._util import xp_of
from . import pooling
from ._grid_ops import AffineGridGenerator, GridSampler
from ._resample import Resample, aa_table, cubic_table, linear_table, nearest_table

__all__ = ['interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear', 'pixel_shuffle',
           'pixel_unshuffle', 'channel_shuffle', 'native_channel_shuffle', 'grid_sample',
           'affine_grid']

_MODES = 'nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact'
# mode -> (spatial dims it needs, grad_fn stem); nearest modes take 1 to 3 dims
_INTERPOLATING = {'linear': (1, 'UpsampleLinear1D'), 'bilinear': (2, 'UpsampleBilinear2D'),
                  'bicubic': (2, 'UpsampleBicubic2D'), 'trilinear': (3, 'UpsampleTrilinear3D')}


# ---------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------

def _is_integer(x):
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return True
    return isinstance(x, Tensor) and not x.is_floating_point() and x.dtype != _dtype.bool


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError('align_corners option can only be set with the interpolating modes: '
                             'linear | bilinear | bicubic | trilinear')
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError('only one of size or scale_factor should be defined')
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    'Input and output must have the same number of spatial dimensions, but got '
                    f'input with spatial dimensions of {list(input.shape[2:])} and output size of '
                    f'{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and '
                    'output size in (o1, o2, ...,oK) format.')
            if not all(_is_integer(x) for x in size):
                raise TypeError('expected size to be one of int or Tuple[int] or Tuple[int, int] '
                                'or Tuple[int, int, int], but got size with types '
                                f'{[type(x) for x in size]}')
            output_size = [int(x) for x in size]
        else:
            if not _is_integer(size):
                raise TypeError(f'interpolate(): size must be an int or a tuple of ints, not '
                                f'{type(size).__name__}')
            output_size = [int(size)] * max(dim, 0)
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    'Input and scale_factor must have the same number of spatial dimensions, but '
                    f'got input with spatial dimensions of {list(input.shape[2:])} and '
                    f'scale_factor of shape {scale_factor}. Please provide input tensor in '
                    '(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.')
            scale_factors = list(scale_factor)
        else:
            scale_factors = [scale_factor] * max(dim, 0)
        for s in scale_factors:
            if not isinstance(s, numbers.Real) or isinstance(s, bool):
                raise TypeError(f'interpolate(): scale_factor must be a float or a tuple of '
                                f'floats, not {type(s).__name__}')
        scale_factors = [float(s) for s in scale_factors]
    else:
        raise ValueError('either size or scale_factor should be defined')
    if recompute_scale_factor and size is not None:
        raise ValueError('recompute_scale_factor is not meaningful with an explicit size.')
    if mode == 'area' and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [int(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ('bilinear', 'bicubic', 'lanczos') and input.dim() == 4):
        raise ValueError('Anti-alias option is restricted to bilinear, bicubic, and lanczos modes '
                         'and requires a 4-D tensor as input')
    if mode == 'lanczos' and input.dim() == 4:
        if align_corners:
            raise ValueError('Lanczos mode does not support align_corners=True')
        if not antialias:
            raise ValueError('Lanczos mode requires antialias=True')
    if antialias:
        return _upsample(input, output_size, scale_factors, mode, align_corners, antialias=True)
    if 1 <= dim <= 3 and mode in ('nearest', 'nearest-exact'):
        return _upsample(input, output_size, scale_factors, mode, None)
    if 1 <= dim <= 3 and mode == 'area':
        adaptive = (pooling.adaptive_avg_pool1d, pooling.adaptive_avg_pool2d,
                    pooling.adaptive_avg_pool3d)[dim - 1]
        return adaptive(input, output_size[0] if dim == 1 else output_size)
    if mode in _INTERPOLATING and _INTERPOLATING[mode][0] == dim:
        return _upsample(input, output_size, scale_factors, mode, align_corners)
    for m, (needed, _) in _INTERPOLATING.items():
        if mode == m and 3 <= input.dim() <= 5 and m != 'bicubic':
            raise NotImplementedError(f'Got {input.dim()}D input, but {m} mode needs '
                                      f'{needed + 2}D input')
    raise NotImplementedError(f'Input Error: Only 3D, 4D and 5D input Tensors supported (got '
                              f'{input.dim()}D) for the modes: {_MODES} (got {mode})')


def _upsample(input, output_size, scale_factors, mode, align_corners, antialias=False):
    """The upsample_* ops of PyTorch's C++ side: output size, checks and the resampling node
    (antialias: the _aa ops, 4-D bilinear, bicubic and lanczos)."""
    d = input.dim() - 2
    in_size = tuple(input.shape[2:])
    if output_size is None:
        output_size = [int(n * s) for n, s in zip(in_size, scale_factors)]
    if any(n <= 0 for n in in_size) or any(m <= 0 for m in output_size):
        described = ', '.join(f'{a}: {n}' for a, n in zip('DHW'[3 - d:], in_size))
        described_out = ', '.join(f'{a}: {m}' for a, m in zip('DHW'[3 - d:], output_size))
        raise RuntimeError(f'Input and output sizes should be greater than 0, but got input '
                           f'({described}) output ({described_out})')
    if input.shape[1] == 0:
        raise RuntimeError(f'Non-empty {d + 2}D data tensor expected but got a tensor with sizes '
                           f'{list(input.shape)}')
    dtype = input.dtype
    if mode in ('nearest', 'nearest-exact'):
        if not (dtype.is_floating_point or dtype == _dtype.uint8):
            raise NotImplementedError(f'"upsample_{mode.replace("-", "_")}{d}d" not implemented '
                                      f"for '{_type_word(input._data.dtype)}'")
        exact = mode == 'nearest-exact'
        tables = [nearest_table(n, m, s, exact, shortcuts=d == 2)
                  for n, m, s in zip(in_size, output_size, scale_factors or [None] * d)]
        stem = f'UpsampleNearest{"Exact" if exact else ""}{d}D'
    else:
        if dtype == _dtype.uint8:  # PyTorch has a fixed-point uint8 kernel; nbgrad has not
            raise NotImplementedError(f"interpolate(mode='{mode}') of uint8 tensors is not "
                                      'implemented in nbgrad; convert the input to float first')
        if not dtype.is_floating_point:
            raise NotImplementedError(f'"upsample_{mode}{d}d" not implemented for '
                                      f"'{_type_word(input._data.dtype)}'")
        compute = np.float64 if dtype == _dtype.float64 else np.float32
        if antialias:
            if dtype == _dtype.float16:
                raise NotImplementedError('"compute_index_ranges_weights" not implemented for '
                                          "'Half'")
            tables = [aa_table(n, m, align_corners, s, compute, mode)
                      for n, m, s in zip(in_size, output_size, scale_factors or [None] * d)]
            stem = f'Upsample{mode.capitalize()}2DAa'
        else:
            build = cubic_table if mode == 'bicubic' else linear_table
            tables = [build(n, m, align_corners, s, compute)
                      for n, m, s in zip(in_size, output_size, scale_factors or [None] * d)]
            stem = _INTERPOLATING[mode][1]
    return dispatch(Resample(tables, stem + 'Backward0'), input)


def _public_interpolate():
    """F.interpolate as users call it (the dispatching one), so that upsample's call reaches
    __torch_function__ and fx as PyTorch's does."""
    from ... import nn
    return nn.functional.interpolate


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    warnings.warn('`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` '
                  'instead.', stacklevel=2)
    return _public_interpolate()(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn('`nn.functional.upsample_nearest` is deprecated. Use '
                  '`nn.functional.interpolate` instead.', stacklevel=2)
    return _public_interpolate()(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn('`nn.functional.upsample_bilinear` is deprecated. Use '
                  '`nn.functional.interpolate` instead.', stacklevel=2)
    return _public_interpolate()(input, size, scale_factor, mode='bilinear', align_corners=True)


# ---------------------------------------------------------------------------------------------
# Pixel and channel shuffles: reshapes and one transpose, each the other's gradient
# ---------------------------------------------------------------------------------------------

class _PixelShuffle(Node):
    complex_autograd = True
    def __init__(self, factor, inverse):
        self.factor, self.inverse = factor, inverse

    def forward(self, a):
        r, lead = self.factor, a.shape[:-3]
        c, h, w = a.shape[-3:]
        k = len(lead)
        if self.inverse:   # (c, h*r, w*r) -> (c*r*r, h, w)
            x = a.reshape(lead + (c, h // r, r, w // r, r))
            order = (k, k + 2, k + 4, k + 1, k + 3)
            shape = lead + (c * r * r, h // r, w // r)
        else:              # (c*r*r, h, w) -> (c, h*r, w*r)
            x = a.reshape(lead + (c // (r * r), r, r, h, w))
            order = (k, k + 3, k + 1, k + 4, k + 2)
            shape = lead + (c // (r * r), h * r, w * r)
        return xp_of(a).ascontiguousarray(x.transpose(tuple(range(k)) + order)).reshape(shape)

    def backward(self, g):
        return dispatch(_PixelShuffle(self.factor, not self.inverse), g)

    def name(self):
        return 'PixelUnshuffleBackward0' if self.inverse else 'PixelShuffleBackward0'


def _check_factor(input, factor, fn, what):
    if not _is_integer(factor):
        raise TypeError(f"{fn}(): argument '{what}' must be int, not {type(factor).__name__}")
    factor = int(factor)
    if input.dim() < 3:
        raise RuntimeError(f'{fn} expects input to have at least 3 dimensions, but got input with '
                           f'{input.dim()} dimension(s)')
    if factor <= 0:
        raise RuntimeError(f'{fn} expects a positive {what}, but got {factor}')
    return factor


def pixel_shuffle(input, upscale_factor):
    r = _check_factor(input, upscale_factor, 'pixel_shuffle', 'upscale_factor')
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f'by the square of upscale_factor, but input.size(-3)={c} is not '
                           f'divisible by {r * r}')
    return dispatch(_PixelShuffle(r, False), input)


def pixel_unshuffle(input, downscale_factor):
    r = _check_factor(input, downscale_factor, 'pixel_unshuffle', 'downscale_factor')
    for axis, word in ((-2, 'height'), (-1, 'width')):
        if input.shape[axis] % r:
            raise RuntimeError(f'pixel_unshuffle expects {word} to be divisible by '
                               f'downscale_factor, but input.size({axis})={input.shape[axis]} is '
                               f'not divisible by {r}')
    return dispatch(_PixelShuffle(r, True), input)


class _ChannelShuffle(Node):
    complex_autograd = True
    def __init__(self, groups):
        self.groups = groups

    def forward(self, a):
        n, c = a.shape[:2]
        g = self.groups
        x = a.reshape((n, g, c // g) + a.shape[2:]).swapaxes(1, 2)
        return xp_of(a).ascontiguousarray(x).reshape(a.shape)

    def backward(self, g):
        return dispatch(_ChannelShuffle(g.shape[1] // self.groups), g)

    def name(self):
        return 'ChannelShuffleBackward0'


def channel_shuffle(input, groups):
    if not _is_integer(groups):
        raise TypeError(f"channel_shuffle(): argument 'groups' must be int, not "
                        f'{type(groups).__name__}')
    groups = int(groups)
    if input.dim() <= 2:
        raise RuntimeError(f'channel_shuffle expects input with > 2 dims, but got input with '
                           f'sizes {list(input.shape)}')
    if groups <= 0:
        raise RuntimeError('Number of groups to divide channels in must be positive. Value of '
                           f'groups:{groups}')
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f'Number of channels must be divisible by groups. Got {c} channels '
                           f'and {groups} groups.')
    return dispatch(_ChannelShuffle(groups), input)


native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------------------------------------
# grid_sample, affine_grid
# ---------------------------------------------------------------------------------------------

_ALIGN_WARNING = ('Default grid_sample and affine_grid behavior has changed to '
                  'align_corners=False since 1.3.0. Please specify align_corners=True if the old '
                  'behavior is desired. See the documentation of grid_sample for details.')


def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    if mode not in ('bilinear', 'nearest', 'bicubic'):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in ('zeros', 'border', 'reflection'):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.device != grid.device:
        raise RuntimeError(f'grid_sampler(): expected input and grid to be on same device, but '
                           f'input is on {input.device} and grid is on {grid.device}')
    if input.dtype != grid.dtype:
        raise RuntimeError(f'grid_sampler(): expected input and grid to have same dtype, but '
                           f'input has {input.dtype} and grid has {grid.dtype}')
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f'grid_sampler(): expected 4D or 5D input and grid with same number of '
                           f'dimensions, but got input with sizes {list(input.shape)} and grid '
                           f'with sizes {list(grid.shape)}')
    d = input.dim() - 2
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError('grid_sampler(): expected grid and input to have same batch size, but '
                           f'got input with sizes {list(input.shape)} and grid with sizes '
                           f'{list(grid.shape)}')
    if grid.shape[-1] != d:
        raise RuntimeError(f'grid_sampler(): expected grid to have size {d} in last dimension, '
                           f'but got grid with sizes {list(grid.shape)}')
    for i in range(2, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError('grid_sampler(): expected input to have non-empty spatial '
                               f'dimensions, but input has sizes {list(input.shape)} with '
                               f'dimension {i} being empty')
    if mode == 'bicubic' and d == 3:
        raise RuntimeError('grid_sampler(): bicubic interpolation only supports 4D input')
    if not input.is_floating_point():
        raise NotImplementedError(f'"grid_sampler_{d}d_cpu" not implemented for '
                                  f"'{_type_word(input._data.dtype)}'")
    return dispatch(GridSampler(mode, padding_mode, bool(align_corners), d), input, grid)


def affine_grid(theta, size, align_corners=None):
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f'Expected theta to have floating point type, but got {theta.dtype}')
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f'Expected a batch of 2D affine matrices of shape Nx2x3 for size '
                             f'{size}. Got {theta.shape}.')
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f'Expected a batch of 3D affine matrices of shape Nx3x4 for size '
                             f'{size}. Got {theta.shape}.')
        spatial = size[-3:]
    else:
        raise NotImplementedError('affine_grid only supports 4D and 5D sizes, for 2D and 3D '
                                  f'affine transforms, respectively. Got size {size}.')
    if align_corners and min(spatial) == 1:
        warnings.warn('Since version 1.3.0, affine_grid behavior has changed for unit-size grids '
                      'when align_corners=True. This is not an intended use case of affine_grid. '
                      'See the documentation of affine_grid for details.', stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f'Expected non-zero, positive output size. Got {size}')
    if size[0] != theta.shape[0]:
        raise RuntimeError(f'affine_grid: theta has batch size {theta.shape[0]} but size asks '
                           f'for {size[0]}')
    return dispatch(AffineGridGenerator(spatial, bool(align_corners)), theta)
