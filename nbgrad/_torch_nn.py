"""PyTorch's top-level forms of nn.functional ops whose signatures differ from the functional
ones: torch.dropout(input, p, train), torch.max_pool2d without return_indices, torch.layer_norm
with cudnn_enable, ... (the ATen operators, which nbgrad/__init__ exposes as torch.<name>)."""
from .nn import functional as _F


def dropout(input, p, train):
    return _F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    return _F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return _F.feature_alpha_dropout(input, p, train)


def celu(input, alpha=1.0):
    return _F.celu(input, alpha)


def selu(input):
    return _F.selu(input)


def threshold(input, threshold, value):
    return _F.threshold(input, threshold, value)


def _no_generator(generator, name):
    if generator is not None:
        raise NotImplementedError(f'torch.{name}: nbgrad does not support generator= (it draws '
                                  'from the default generator)')


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    _no_generator(generator, 'rrelu')
    return _F.rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    _no_generator(generator, 'rrelu_')
    return _F.rrelu_(input, lower, upper, training)


def _pool(name, with_indices=False):
    fn_ = getattr(_F, name)

    def fn(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn_(input, kernel_size, stride if stride != () else None, padding, dilation,
                   ceil_mode, return_indices=with_indices)
    fn.__name__ = fn.__qualname__ = name + ('_with_indices' if with_indices else '')
    return fn


max_pool1d = _pool('max_pool1d')
max_pool2d = _pool('max_pool2d')
max_pool3d = _pool('max_pool3d')
max_pool1d_with_indices = _pool('max_pool1d', with_indices=True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return _F.avg_pool1d(input, kernel_size, stride if stride != () else None, padding, ceil_mode,
                         count_include_pad)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as PyTorch's aten operator returns them."""
    return _F.adaptive_max_pool1d(input, output_size, return_indices=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _F.layer_norm(input, normalized_shape, weight, bias, eps)   # (cudnn_enable: a hint)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return _F.group_norm(input, num_groups, weight, bias, eps)   # (cudnn_enabled: a hint)


def softmax(input, dim, dtype=None):
    from .ops.reduction import softmax as _softmax
    return _softmax(input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    from .ops.reduction import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype)


# One step of a recurrent cell (what nn.LSTMCell, nn.GRUCell and nn.RNNCell run; PyTorch's CUDA
# autocast runs these in float16, weights and states included): input (N, input_size), hidden
# states (N, hidden_size), weights as the cell modules hold them.

def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') of one LSTM step from hx = (h, c)."""
    if len(hx) != 2:
        raise RuntimeError('lstm_cell expects two hidden states')
    return _cell_step('LSTM', input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell_step('GRU', input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell_step('RNN_TANH', input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell_step('RNN_RELU', input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def _cell_step(kind, input, hx, w_ih, w_hh, b_ih, b_hh):
    from .nn.modules import _rnn_kernels
    return tuple(_rnn_kernels.STEPS[kind](_F.linear(input, w_ih, b_ih), hx, w_hh, b_hh, None))
