"""F.conv1d/2d/3d, F.conv_transpose1d/2d/3d, F.unfold and F.fold.

Every convolution is one graph node, `Convolution`, in one of three roles that are each other's
gradients (see _im2col for the kernels):
  'conv'       y = F(x, w) + b                  (conv*d;  grad_fn ConvolutionBackward0)
  'transpose'  y = T(g, w) + b, F's adjoint     (conv_transpose*d, and the gradient w.r.t. x)
  'weight'     gw = W(x, g), F's adjoint in w   (the gradient w.r.t. the weight)
Backward of each role dispatches nodes of the other roles, so double backward works to any order.
unfold (im2col) and fold (col2im) are likewise one node each, the adjoint of the other.
"""
from ..._profiled_calls import profiled_call
from ... import _dispatch
from ..._complex_autograd import conj as _conj
from ..._dispatch import dispatch
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops._util import int_like, xp_of
from . import _im2col as kernels

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d',
           'conv_transpose3d', 'conv_tbc', 'unfold', 'fold']


class Convolution(Node):
    """One convolution (see the module docstring for the roles). `size` is the output's spatial
    size for 'conv' (None: as large as the input allows) and 'transpose', and the kernel size
    for 'weight'."""
    saved_inputs = (0, 1)
    # each role is bilinear in (a, b): for a complex gradient, the conjugated operands
    complex_autograd = True

    def __init__(self, role, stride, pads, dilation, groups, size=None, has_bias=False,
                 nested=False):
        self.role, self.stride, self.pads, self.dilation = role, stride, pads, dilation
        self.groups, self.size, self.has_bias, self.nested = groups, size, has_bias, nested

    def forward(self, a, b, bias=None):
        geometry = (self.stride, self.pads, self.dilation, self.groups)
        if self.role == 'conv':
            out, cols = kernels.conv_forward(a, b, *geometry, self.size, bias)
            kernels.workspace.give(cols)
            return out
        if self.role == 'transpose':
            out = kernels.conv_input_grad(a, b, *geometry, self.size)
        else:
            out = kernels.conv_weight_grad(a, b, *geometry, self.size)
        if bias is not None:
            out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
        return out

    def _make(self, role, size=None):
        return Convolution(role, self.stride, self.pads, self.dilation, self.groups, size,
                           nested=True)

    def backward(self, grad):
        first, second = self.saved_tensors
        if grad._data.dtype.kind == 'c':
            first, second = _conj(first), _conj(second)
        spatial = tuple(first.shape[2:]), tuple(second.shape[2:])
        if self.role == 'conv':  # y = F(x, w): first = x, second = w
            jobs = (('transpose', spatial[0], grad, second), ('weight', spatial[1], first, grad))
        elif self.role == 'transpose':  # y = T(g, w): first = g, second = w
            jobs = (('conv', spatial[0], grad, second), ('weight', spatial[1], grad, first))
        else:  # gw = W(x, g): first = x, second = g
            jobs = (('transpose', spatial[0], second, grad), ('conv', spatial[1], first, grad))
        needs = [e is not None for e in self._edges]
        grads = tuple(dispatch(self._make(role, size), a, b) if need else None
                      for (role, size, a, b), need in zip(jobs, needs))
        if self.has_bias:
            grads += (grad.sum((0,) + tuple(range(2, grad.dim()))) if needs[2] else None,)
        return grads

    def name(self):
        return 'ConvolutionBackwardBackward0' if self.nested else 'ConvolutionBackward0'


# ---------------------------------------------------------------------------------------------
# Argument checks (PyTorch's exception kinds; messages say what to change)
# ---------------------------------------------------------------------------------------------

def _type_word(np_dtype):
    return _dispatch._type_word(np_dtype)


def _expand(name, value, nd, fn):
    """An int or a sequence of nd ints, as a tuple of nd ints (NumPy integers and integer
    tensors count as ints, as in PyTorch's parser)."""
    if int_like(value) is not None:
        return (int_like(value),) * nd
    values = tuple(value)
    if len(values) == 1:
        values *= nd
    if len(values) == nd and all(int_like(v) is not None for v in values):
        values = tuple(int_like(v) for v in values)
    if len(values) != nd or not all(isinstance(v, int) for v in values):
        raise RuntimeError(f'{fn}: expected {name} to be a single integer value or a list of '
                           f'{nd} values to match the convolution dimensions, but got '
                           f'{name}={list(values)}')
    return values


def _check_tensors(fn, input, weight, bias):
    for label, t in (('input', input), ('weight', weight), ('bias', bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{label}' must be Tensor, not {type(t).__name__}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f'{fn}: input type ({_type_word(input._data.dtype)}) and weight type '
                           f'({_type_word(weight._data.dtype)}) should be the same')
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f'{fn}: input type ({_type_word(input._data.dtype)}) and bias type '
                           f'({_type_word(bias._data.dtype)}) should be the same')


def _batched(fn, nd, input, weight):
    """Whether input has a batch dim; checks input's and weight's ranks."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f'Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fn}, '
                           f'but got input of size: {list(input.shape)}')
    if weight.dim() != nd + 2:
        raise RuntimeError(f'{fn}: expected a {nd + 2}-D weight (channels, channels / groups, '
                           f'{nd} kernel sizes), but got weight of size {list(weight.shape)}')
    return input.dim() == nd + 2


def _check_geometry(fn, stride, padding, dilation, groups):
    if any(s <= 0 for s in stride):
        raise RuntimeError(f'{fn}: non-positive stride is not supported (got {stride})')
    if any(p < 0 for p in padding):
        raise RuntimeError(f'{fn}: negative padding is not supported (got {padding})')
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f'{fn}: non-positive dilation is not supported (got {dilation})')
    if int_like(groups) is None or int_like(groups) <= 0:
        raise RuntimeError(f'{fn}: non-positive groups is not supported (got {groups})')


def _check_channels(fn, x, weight, bias, groups, transposed, out_channels):
    w_shape = list(weight.shape)
    if weight.shape[0] < 1 or weight.shape[0] % groups:
        raise RuntimeError(f'Given groups={groups}, expected weight to be divisible by {groups} at '
                           f'dimension 0 (and at least 1), but got weight of size {w_shape} '
                           f'instead')
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != expected:
        kind = 'transposed=1' if transposed else f'groups={groups}'
        raise RuntimeError(f'Given {kind}, weight of size {w_shape}, expected input'
                           f'{list(x.shape)} to have {expected} channels, but got {x.shape[1]} '
                           f'channels instead')
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f'Given weight of size {w_shape}, expected bias to be 1-dimensional '
                           f'with {out_channels} elements, but got bias of size '
                           f'{list(bias.shape)} instead')


def _by(sizes):
    return ' x '.join(map(str, sizes))


def _same_pads(kernel, stride, dilation, fn):
    """padding='same': total d*(k-1) per dim, the odd one extra on the high side (as PyTorch)."""
    if any(s != 1 for s in stride):
        raise RuntimeError(f"{fn}: padding='same' is not supported for strided convolutions")
    if any(d * (k - 1) % 2 for k, d in zip(kernel, dilation)):
        from ..._user_warning import warn_once_at_caller
        warn_once_at_caller("Using padding='same' with even kernel lengths and odd dilation "
                            "may require a zero-padded copy of the input be created")
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for k, d in zip(kernel, dilation))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_tensors(fn, input, weight, bias)
    batched = _batched(fn, nd, input, weight)
    stride, dilation = _expand('stride', stride, nd, fn), _expand('dilation', dilation, nd, fn)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == 'same':
            pads = _same_pads(kernel, stride, dilation, fn)
        elif padding == 'valid':
            pads = ((0, 0),) * nd
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}' (use 'same', 'valid' or "
                               f"numbers)")
        _check_geometry(fn, stride, (), dilation, groups)
    else:
        padding = _expand('padding', padding, nd, fn)
        _check_geometry(fn, stride, padding, dilation, groups)
        pads = tuple((p, p) for p in padding)
    x = input if batched else input.unsqueeze(0)
    _check_channels(fn, x, weight, bias, groups, False, weight.shape[0])
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > n for r, n in zip(reach, padded)):
        raise RuntimeError(f'Calculated padded input size per channel: ({_by(padded)}). Kernel '
                           f"size: ({_by(reach)}). Kernel size can't be greater than actual "
                           f'input size')
    _refuse_bool(x, 'slow_conv2d_cpu' if nd < 3 else 'compute_columns3d')
    op = Convolution('conv', stride, pads, dilation, groups, has_bias=bias is not None)
    out = dispatch(op, x, weight) if bias is None else dispatch(op, x, weight, bias)
    return out if batched else out.squeeze(0)


@profiled_call('aten::conv1d')
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L) input."""
    return _conv('conv1d', 1, input, weight, bias, stride, padding, dilation, groups)


@profiled_call('aten::conv2d')
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W) input."""
    return _conv('conv2d', 2, input, weight, bias, stride, padding, dilation, groups)


@profiled_call('aten::conv3d')
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) over (N, C, D, H, W) or (C, D, H, W) input."""
    return _conv('conv3d', 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(fn, nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    _check_tensors(fn, input, weight, bias)
    if isinstance(padding, str):
        raise TypeError(f"{fn}(): argument 'padding' must be tuple of ints, not str")
    batched = _batched(fn, nd, input, weight)
    stride, dilation = _expand('stride', stride, nd, fn), _expand('dilation', dilation, nd, fn)
    padding = _expand('padding', padding, nd, fn)
    output_padding = _expand('output_padding', output_padding, nd, fn)
    _check_geometry(fn, stride, padding, dilation, groups)
    if any(op < 0 or (op >= s and op >= d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f'{fn}: output padding must be smaller than either stride or dilation, '
                           f'but got output_padding={output_padding}, stride={stride}, '
                           f'dilation={dilation}')
    x = input if batched else input.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    _check_channels(fn, x, weight, bias, groups, True, weight.shape[1] * groups)
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                 zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(n < 0 for n in size) or all(n == 0 for n in size):
        # (an output empty along some dims only is PyTorch's empty result; it runs 1-d as 2-d,
        # with a leading size-1 dim, hence its message)
        lead = (1,) if nd == 1 else ()
        raise RuntimeError(f'Given input size per channel: ({_by(lead + tuple(x.shape[2:]))}). '
                           f'Calculated output size per channel: ({_by(lead + size)}). Output '
                           f'size is too small')
    _refuse_bool(x, 'slow_conv_transpose2d_out_cpu' if nd < 3 else
                 'slow_conv_transpose3d_out_cpu', ints_too=True)
    op = Convolution('transpose', stride, tuple((p, p) for p in padding), dilation, groups, size,
                     has_bias=bias is not None)
    out = dispatch(op, x, weight) if bias is None else dispatch(op, x, weight, bias)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution; weight (in_channels, out_channels / groups, kL)."""
    return _conv_transpose('conv_transpose1d', 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution; weight (in_channels, out_channels / groups, kH, kW)."""
    return _conv_transpose('conv_transpose2d', 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution; weight (in_channels, out_channels / groups, kD, kH, kW)."""
    return _conv_transpose('conv_transpose3d', 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution over (time, batch, in_channels) input with a (kernel_width, in_channels,
    out_channels) weight and an (out_channels,) bias, padding `pad` steps on both ends of time (a
    negative pad crops): conv1d on the permuted tensors."""
    if bias is None:
        raise TypeError("conv_tbc(): argument 'bias' must be Tensor, not NoneType")
    _check_tensors('conv_tbc', input, weight, bias)
    if input.dim() != 3:
        raise RuntimeError('Input must have 3 dims: time, batch, in_channel')
    if weight.dim() != 3:
        raise RuntimeError('Weight tensor must have 3 dims: kernel_width, in_channels, '
                           'out_channels.')
    if bias.dim() != 1:
        raise RuntimeError('Bias must be 1-D')
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError('Input dim 2 (input channels) is not == dim 1 in the weight tensor')
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError('Bias size must equal dim 2 in the weight tensor (output channels).')
    length = input.shape[0] + 2 * pad - weight.shape[0] + 1
    if length < 0:
        raise RuntimeError(f'Trying to create tensor with negative dimension {length}: '
                           f'[{length}, {input.shape[1]}, {weight.shape[2]}]')
    if pad < 0:     # conv1d pads only outwards: crop the input instead
        input, pad = input[-pad:input.shape[0] + pad], 0
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


# ---------------------------------------------------------------------------------------------
# unfold / fold
# ---------------------------------------------------------------------------------------------

class SlidingBlocks(Node):
    """unfold (fold=False): (N, C, H, W) -> (N, C*kH*kW, L) blocks; fold (fold=True): the
    adjoint, summing blocks back into an image of spatial size `size`. Unbatched input (no N)
    is handled here, so that grad_fn stays Im2ColBackward0 / Col2ImBackward0 as in PyTorch."""
    complex_autograd = True

    def __init__(self, fold, size, kernel, dilation, padding, stride):
        self.fold, self.size, self.kernel = fold, size, kernel
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, a):
        unbatched = a.ndim == (2 if self.fold else 3)
        if unbatched:
            a = a[None]
        pads = tuple((p, p) for p in self.padding)
        blocks = kernels.conv_output_size(self.size, self.kernel, self.stride, pads,
                                          self.dilation)
        n = a.shape[0]
        if self.fold:
            cols = a.reshape((n, a.shape[1] // kernels._prod(self.kernel)) + self.kernel + blocks)
            out = kernels.col2im(cols, self.size, self.stride, pads, self.dilation)
        else:
            view = kernels.windows(kernels.pad_constant(a, pads), self.kernel, self.stride,
                                   self.dilation, blocks)
            out = view.reshape(n, a.shape[1] * kernels._prod(self.kernel),
                               kernels._prod(blocks))
            if xp_of(out).may_share_memory(out, a):  # a 1x1 kernel reshapes without a copy
                out = out.copy()
        return out[0] if unbatched else out

    def backward(self, grad):
        return dispatch(SlidingBlocks(not self.fold, self.size, self.kernel, self.dilation,
                                      self.padding, self.stride), grad)

    def name(self):
        return 'Col2ImBackward0' if self.fold else 'Im2ColBackward0'


def _pair_arg(fn, name, value):
    if int_like(value) is not None:
        return (int_like(value),) * 2
    value = tuple(int_like(v) if int_like(v) is not None else v for v in value)
    if len(value) != 2:
        raise RuntimeError(f'{fn}: It is expected {name} equals to 2, but got size {len(value)}')
    return value


def _block_args(fn, kernel_size, dilation, padding, stride):
    kernel, dilation, padding, stride = (_pair_arg(fn, name, v) for name, v in (
        ('kernel_size', kernel_size), ('dilation', dilation), ('padding', padding),
        ('stride', stride)))
    for name, values, low in (('kernel size', kernel, 1), ('stride', stride, 1),
                              ('dilation', dilation, 1), ('padding', padding, 0)):
        if any(v < low for v in values):
            rule = 'greater than zero' if low else 'non-negative'
            raise RuntimeError(f'{fn}: {name} should be {rule}, but got {name}={values}')
    return kernel, dilation, padding, stride


def _geometry_text(kernel, dilation, padding, stride=None):
    text = f'kernel_size={kernel}, dilation={dilation}, padding={padding}'
    return text if stride is None else f'{text}, stride={stride}'


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) or (C, H, W) image as columns
    (N, C*kH*kW, L) (im2col)."""
    kernel, dilation, padding, stride = _block_args('unfold', kernel_size, dilation, padding,
                                                    stride)
    if input.dim() < 3:  # PyTorch reads dim 2 before checking the rank
        raise IndexError(f'unfold: Dimension out of range (expected a 3-D or 4-D input, got '
                         f'{input.dim()}-D)')
    if input.dim() > 4 or any(n == 0 for n in input.shape[-3:]):
        raise RuntimeError(f'Expected 3D or 4D (batch mode) tensor with possibly 0 batch size '
                           f'and other non-zero dimensions for input, but got: '
                           f'{list(input.shape)}')
    size = tuple(input.shape[-2:])
    blocks = kernels.conv_output_size(size, kernel, stride, [(p, p) for p in padding], dilation)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f'Given input with spatial size {size}, '
                           f'{_geometry_text(kernel, dilation, padding)}, calculated shape of '
                           f'the array of sliding blocks as {blocks}, but its components must '
                           f'be at least one.')
    _refuse_integers(input, 'im2col_out_cpu')
    return dispatch(SlidingBlocks(False, size, kernel, dilation, padding, stride), input)


def _refuse_bool(input, kernel, ints_too=False):
    """Convolutions have no bool kernel in PyTorch; the transposed ones take no integers but
    int64 either (ints_too)."""
    dt = input._data.dtype
    if dt.kind == 'b' or (ints_too and dt.kind in 'iu' and dt.name != 'int64'):
        raise _dispatch.no_kernel(kernel, dt)


def _refuse_integers(input, kernel):
    """unfold and fold have PyTorch kernels for floating, complex and bool tensors only."""
    if input._data.dtype.kind in 'iu':
        raise _dispatch.no_kernel(kernel, input._data.dtype)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns (N, C*kH*kW, L) of sliding blocks into an image (N, C, *output_size)
    (col2im, the adjoint of unfold)."""
    size = _pair_arg('fold', 'output_size', output_size)
    kernel, dilation, padding, stride = _block_args('fold', kernel_size, dilation, padding,
                                                    stride)
    if input.dim() not in (2, 3) or any(n == 0 for n in input.shape[-2:]):
        raise RuntimeError(f'Expected 2D or 3D (batch mode) tensor for input with possibly 0 '
                           f'batch size and non-zero dimensions for input, but got: '
                           f'{list(input.shape)}')
    channels_by_kernel = input.shape[-2]
    if channels_by_kernel % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension {input.dim() - 2} to be divisible "
                           f"by the product of kernel_size, but got input.size("
                           f"{input.dim() - 2})={channels_by_kernel} and kernel_size={kernel}.")
    blocks = kernels.conv_output_size(size, kernel, stride, [(p, p) for p in padding], dilation)
    if input.shape[-1] != blocks[0] * blocks[1] or any(b < 1 for b in blocks):
        raise RuntimeError(f'Given output_size={size}, '
                           f'{_geometry_text(kernel, dilation, padding, stride)}, expected size '
                           f"of input's dimension {input.dim() - 1} to match the calculated "
                           f'number of sliding blocks {blocks[0]} * {blocks[1]} = '
                           f'{blocks[0] * blocks[1]}, but got input.size({input.dim() - 1})='
                           f'{input.shape[-1]}.')
    _refuse_integers(input, 'col2im_out_cpu')
    return dispatch(SlidingBlocks(True, size, kernel, dilation, padding, stride), input)
