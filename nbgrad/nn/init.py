"""nbgrad.nn.init: PyTorch's torch.nn.init, initialisers that fill a tensor in place.

Each one writes under no_grad (no graph is recorded, even on a leaf that requires grad) and returns
the tensor it was given. The random ones draw exactly the random numbers torch.nn.init draws, in the
same order and from the same generator, so after manual_seed(s) the CPU results are PyTorch's.
"""
import math
import warnings

import nbgrad

__all__ = [
    'calculate_gain', 'uniform_', 'normal_', 'trunc_normal_', 'constant_', 'ones_', 'zeros_',
    'eye_', 'dirac_', 'xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_', 'kaiming_normal_',
    'orthogonal_', 'sparse_',
    # deprecated aliases, kept as PyTorch keeps them
    'uniform', 'normal', 'constant', 'eye', 'dirac', 'xavier_uniform', 'xavier_normal',
    'kaiming_uniform', 'kaiming_normal', 'orthogonal', 'sparse',
]

_LINEAR_FNS = ('linear', 'conv1d', 'conv2d', 'conv3d',
               'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d', 'sigmoid')


# ---------------------------------------------------------------------------------------------
# Gains and fans
# ---------------------------------------------------------------------------------------------

def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (an nn.functional name); param is leaky_relu's
    negative slope (default 0.01)."""
    if nonlinearity in _LINEAR_FNS:
        return 1  # an int, as in PyTorch
    if nonlinearity == 'tanh':
        return 5.0 / 3
    if nonlinearity == 'relu':
        return math.sqrt(2.0)
    if nonlinearity == 'leaky_relu':
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f'negative_slope {param} not a valid number')
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == 'selu':
        return 3.0 / 4  # found empirically (pytorch/pytorch#50664)
    raise ValueError(f'Unsupported nonlinearity {nonlinearity}')


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError('Fan in and fan out can not be computed for tensor with fewer than 2 '
                         'dimensions')
    receptive_field_size = math.prod(tensor.shape[2:])
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ['fan_in', 'fan_out']
    if mode not in valid_modes:
        raise ValueError(f'Mode {mode} not supported, please use one of {valid_modes}')
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == 'fan_in' else fan_out


# ---------------------------------------------------------------------------------------------
# Plain distributions and constants
# ---------------------------------------------------------------------------------------------

def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill tensor from U(a, b)."""
    with nbgrad.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill tensor from N(mean, std**2)."""
    with nbgrad.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    """Fill tensor with val."""
    with nbgrad.no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill tensor with 1."""
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill tensor with 0."""
    with nbgrad.no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal of a rectangle)."""
    if tensor.ndimension() != 2:
        raise ValueError('Only tensors with 2 dimensions are supported')
    with nbgrad.no_grad():
        # PyTorch writes torch.eye(..., out=tensor); the same values written through views
        tensor.zero_()
        tensor.diagonal().fill_(1)
    return tensor


def dirac_(tensor, groups=1):
    """Fill a {3, 4, 5}-D conv weight with the Dirac delta: each group of output channels passes
    its input channels through unchanged, as far as the channel counts allow."""
    dimensions = tensor.ndimension()
    if dimensions not in (3, 4, 5):
        raise ValueError('Only tensors with 3, 4, or 5 dimensions are supported')
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError('dim 0 must be divisible by groups')
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    centre = tuple(s // 2 for s in sizes[2:])
    with nbgrad.no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min_dim):
                tensor[(g * out_chans_per_grp + d, d) + centre] = 1
    return tensor


# ---------------------------------------------------------------------------------------------
# Truncated normal (PyTorch 2.13's sampler: rejection, with the same draws in the same order)
# ---------------------------------------------------------------------------------------------

def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill tensor from N(mean, std**2) truncated to [a, b].

    As in PyTorch 2.13: when [a, b] holds more than 30% of the normal's mass, normal samples
    outside it are redrawn; otherwise uniform proposals on [a, b] are accepted with probability
    pdf(x) / pdf(mode)."""
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn('mean is more than 2 std from [a, b] in nn.init.trunc_normal_. '
                      'The distribution of values may be incorrect.', stacklevel=2)
    with nbgrad.no_grad():
        p = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
        if p > 0.3:
            _redraw_outside(tensor, mean, std, a, b, generator)
        else:
            _accept_uniform_proposals(tensor, mean, std, a, b, generator)
    return tensor


def _redraw_outside(tensor, mean, std, a, b, generator):
    if tensor.is_meta:          # (no values to draw or test)
        return tensor
    # bounds rounded to the tensor's dtype, so the test matches the values it can hold
    lo = tensor.new_tensor(a, device='cpu').item()
    hi = tensor.new_tensor(b, device='cpu').item()
    result = tensor.normal_(mean, std, generator=generator)
    while True:
        mask = (result < lo) | (result > hi)
        if not mask.any():
            break
        # a whole tensor of fresh normals each round, as PyTorch draws them
        fresh = nbgrad.empty_like(result).normal_(mean, std, generator=generator)
        result = nbgrad.where(mask, fresh, result)
    if tensor is not result:
        tensor.copy_(result)


def _accept_uniform_proposals(tensor, mean, std, a, b, generator):
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def log_density_ratio(candidates):  # log(pdf(x) / pdf(mode)), in place, PyTorch's op order
        return candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

    def rejected(candidates):  # log U > log ratio
        return accept_buf.uniform_(generator=generator).log_().gt(candidates)

    candidates = nbgrad.empty_like(tensor)
    accept_buf = nbgrad.empty_like(tensor)
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    pending = rejected(log_density_ratio(candidates))
    if not pending.any():
        return
    result = tensor
    while True:
        candidates.uniform_(a, b, generator=generator)
        result = nbgrad.where(pending, candidates, result)
        pending = nbgrad.where(pending, rejected(log_density_ratio(candidates)), pending)
        if not pending.any():
            break
    tensor.copy_(result)


# ---------------------------------------------------------------------------------------------
# Scaled initialisers
# ---------------------------------------------------------------------------------------------

def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std  # the uniform bound with that standard deviation
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """gain / sqrt(fan), or None (after PyTorch's warning) for a tensor with no elements."""
    if 0 in tensor.shape:
        warnings.warn('Initializing zero-element tensors is a no-op', stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan_mode)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None):
    """He normal: N(0, std**2) with std = gain / sqrt(fan_mode)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill tensor (trailing dims flattened) with a (semi-)orthogonal matrix times gain: the Q of
    a Gaussian matrix's QR, its columns' signs fixed by R's diagonal so Q is Haar-distributed."""
    if tensor.ndimension() < 2:
        raise ValueError('Only tensors with 2 or more dimensions are supported')
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    with nbgrad.no_grad():
        flattened = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)
        if rows < cols:
            flattened.t_()
        q, r = nbgrad.linalg.qr(flattened)
        q *= nbgrad.diag(r, 0).sign()
        if rows < cols:
            q.t_()
        tensor.view_as(q).copy_(q)
        tensor.mul_(gain)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor from N(0, std**2), then zero ceil(sparsity * rows) random rows in each
    column."""
    if tensor.ndimension() != 2:
        raise ValueError('Only tensors with 2 dimensions are supported')
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with nbgrad.no_grad():
        tensor.normal_(0, std, generator=generator)
        # PyTorch draws one CPU randperm per column from the default generator, whatever
        # `generator` is; drawn in the same order, then written in one indexed assignment
        zero_rows = [nbgrad.randperm(rows)[:num_zeros] for _ in range(cols)]
        per_column = zero_rows[0].numel() if cols else 0
        if per_column:
            row_index = nbgrad.cat(zero_rows).to(tensor.device)
            col_index = nbgrad.arange(cols, device=tensor.device).repeat_interleave(per_column)
            tensor[row_index, col_index] = 0
    return tensor


# ---------------------------------------------------------------------------------------------
# Deprecated names without the trailing underscore
# ---------------------------------------------------------------------------------------------

def _make_deprecate(meth):
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f'`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.',
                      FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__name__ = old_name
    deprecated_init.__doc__ = f'{old_name}(...): deprecated, use nbgrad.nn.init.{new_name}.'
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
