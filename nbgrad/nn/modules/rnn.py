"""RNN, LSTM, GRU and their cells: PyTorch's constructors, parameter names and shapes, default
initialisation (the same nn.init calls in the same order, so a seeded layer gets PyTorch's
weights), argument checks and error messages. The arithmetic is in _rnn_kernels.py."""
import math
import numbers

import nbgrad

from ..._user_warning import warn_at_caller
from ... import _creation
from ...amp import _state as _autocast_state
from ..._tensor import Tensor
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from . import _rnn_kernels
from .module import Module

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']

_GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


def _check_type(name, value, kind):
    if not isinstance(value, kind):
        raise TypeError(f'{name} should be of type {kind.__name__}, got: {type(value).__name__}')


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, checks, and a forward over padded, unbatched or
    packed input (the state is a tuple inside: (h,) or, for the LSTM, (h, c))."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1

        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError('dropout should be a number in range [0, 1] representing the '
                             'probability of an element being zeroed')
        if dropout > 0 and num_layers == 1:
            warn_at_caller('dropout option adds dropout after all but last recurrent layer, so '
                           'non-zero dropout expects num_layers greater than 1, but got '
                           f'dropout={dropout} and num_layers={num_layers}')
        _check_type('bias', bias, bool)
        _check_type('batch_first', batch_first, bool)
        _check_type('input_size', input_size, int)
        if input_size <= 0:
            raise ValueError('input_size must be greater than zero')
        _check_type('hidden_size', hidden_size, int)
        if hidden_size <= 0:
            raise ValueError('hidden_size must be greater than zero')
        if num_layers <= 0:
            raise ValueError('num_layers must be greater than zero')
        if proj_size < 0:
            raise ValueError('proj_size should be a positive integer or zero to disable '
                             'projections')
        if proj_size >= hidden_size:
            raise ValueError('proj_size has to be smaller than hidden_size')
        if mode not in _GATES:
            raise ValueError('Unrecognized RNN mode: ' + mode)
        gate_size = _GATES[mode] * hidden_size

        factory = {'device': device, 'dtype': dtype}
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                shapes = {'weight_ih': (gate_size, layer_input_size),
                          'weight_hh': (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes['weight_hr'] = (proj_size, hidden_size)
                suffix = '_reverse' if direction == 1 else ''
                names = []
                for kind, shape in shapes.items():
                    name = f'{kind}_l{layer}{suffix}'
                    setattr(self, name, Parameter(_creation.empty(shape, **factory)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self._init_flat_weights()
        self.reset_parameters()

    # -- the weights ------------------------------------------------------------------------------
    def _init_flat_weights(self):
        self._flat_weights = [getattr(self, name) if hasattr(self, name) else None
                              for name in self._flat_weights_names]
        self.flatten_parameters()

    def __setattr__(self, attr, value):
        names = self.__dict__.get('_flat_weights_names')
        if names is not None and attr in names:  # keep _flat_weights up to date (self.w = ...)
            self._flat_weights[names.index(attr)] = value
        super().__setattr__(attr, value)

    def flatten_parameters(self):
        """A no-op, as in PyTorch without cuDNN (there is no fused weight buffer to build)."""

    def _update_flat_weights(self):
        # functional_call, load_state_dict(assign=True)... may have put new tensors in place
        self._init_flat_weights()

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        self._init_flat_weights()
        return result

    def __setstate__(self, state):
        super().__setstate__(state)
        if 'all_weights' in state:
            self._all_weights = state['all_weights']
        if 'proj_size' not in state:
            self.proj_size = 0
        self._init_flat_weights()

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_weights(self):
        """Per layer and direction: (w_ih, w_hh, b_ih, b_hh, w_hr), None where absent."""
        weights = dict(zip(self._flat_weights_names, self._flat_weights))
        suffixes = ('', '_reverse') if self.bidirectional else ('',)
        return [tuple(weights.get(f'{kind}_l{layer}{suffix}')
                      for kind in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', 'weight_hr'))
                for layer in range(self.num_layers) for suffix in suffixes]

    # -- checks (PyTorch's, with its messages) ----------------------------------------------------
    def check_input(self, input, batch_sizes):
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype and not _autocast_state.active[0]:   # (autocast casts)
            raise ValueError(f'RNN input dtype ({input.dtype}) does not match weight dtype '
                             f'({weight_dtype}). Convert input: input.to({weight_dtype}), or '
                             f'convert model: model.to({input.dtype})')
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f'input must have {expected_input_dim} dimensions, got '
                               f'{input.dim()}')
        if self.input_size != input.size(-1):
            raise RuntimeError(f'input.size(-1) must be equal to input_size. Expected '
                               f'{self.input_size}, got {input.size(-1)}')

    def _mini_batch(self, input, batch_sizes):
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input, batch_sizes):
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, self._mini_batch(input, batch_sizes), size)

    def check_hidden_size(self, hx, expected_hidden_size, msg='Expected hidden size {}, got {}'):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))
        self._check_state_dtype(input, hidden, 'hx')

    def _state_under_autocast(self, hx, input):
        """hx in the input's dtype inside an autocast region: PyTorch's autocast casts the
        input and the state alike, so the low-precision state a layer returned there goes back
        in (the word-language-model loop). Outside autocast, a mix is refused (below)."""
        if not _autocast_state.active[0]:
            return hx
        if isinstance(hx, tuple):
            return tuple(h if h.dtype == input.dtype else h.to(input.dtype) for h in hx)
        return hx if hx.dtype == input.dtype else hx.to(input.dtype)

    def _check_state_dtype(self, input, state, name):
        """The initial state must have the input's dtype: PyTorch's matrix products refuse the
        mix (a RuntimeError), where NumPy would quietly promote the new state."""
        if state.dtype != input.dtype:
            raise RuntimeError(f'{self.mode.split("_")[0]}: the initial state {name} is '
                               f'{state.dtype} but the input is {input.dtype}; pass '
                               f'{name}.to({input.dtype})')

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    # -- forward ----------------------------------------------------------------------------------
    def _zero_state(self, input, batch):
        """The default hx: zeros of the input's dtype and device."""
        num_directions = 2 if self.bidirectional else 1

        def zeros(size):
            return _creation.zeros(self.num_layers * num_directions, batch, size,
                                   dtype=input.dtype, device=input.device)
        if self.mode == 'LSTM':
            return zeros(self.proj_size or self.hidden_size), zeros(self.hidden_size)
        return zeros(self.hidden_size)

    def _check_hx_dims(self, hx, ndim):
        """PyTorch's check that hx is 3-D for batched input and 2-D for unbatched input."""
        kind = 'batched 3-D' if ndim == 3 else 'unbatched 2-D'
        if self.mode == 'LSTM':
            if hx[0].dim() != ndim or hx[1].dim() != ndim:
                raise RuntimeError(f'For {kind} input, hx and cx should also be {ndim}-D but got '
                                   f'({hx[0].dim()}-D, {hx[1].dim()}-D) tensors')
        elif hx.dim() != ndim:
            raise RuntimeError(f'For {kind} input, hx should also be {ndim}-D but got '
                               f'{hx.dim()}-D tensor')

    def forward(self, input, hx=None):
        self._update_flat_weights()
        is_lstm = self.mode == 'LSTM'
        sorted_indices = unsorted_indices = None
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zero_state(data, int(batch_sizes[0]))
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            hx = self._state_under_autocast(hx, data)
            self.check_forward_args(data, hx, batch_sizes)
            steps = batch_sizes.tolist()
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f'{type(self).__name__}.forward(): input must be a Tensor or a '
                                f'PackedSequence, not {type(input).__name__}')
            if input.dim() not in (2, 3):
                ending = 'D tensor instead' if self.mode.startswith('RNN') else 'D instead'
                raise ValueError(f"{self.mode.split('_')[0]}: Expected input to be 2D or 3D, got "
                                 f'{input.dim()}{ending}')
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            if hx is None:
                hx = self._zero_state(input, self._mini_batch(input, None))
            else:
                self._check_hx_dims(hx, 3 if is_batched else 2)
                if not is_batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if is_lstm else hx.unsqueeze(1)
            hx = self._state_under_autocast(hx, input)
            self.check_forward_args(input, hx, None)
            x = input.transpose(0, 1) if self.batch_first else input
            seq_len, batch = x.shape[0], x.shape[1]
            if seq_len == 0:
                raise RuntimeError('Expected sequence length to be larger than 0 in RNN')
            data, steps = x.reshape(seq_len * batch, self.input_size), [batch] * seq_len

        num_directions = 2 if self.bidirectional else 1
        out, state = _rnn_kernels.run_layers(
            self.mode, data, steps, hx if is_lstm else (hx,), self._layer_weights(),
            self.num_layers, num_directions, self.dropout, self.training)
        hidden = state if is_lstm else state[0]
        low = data.dtype
        if _autocast_state.active[0] and low.itemsize < out.dtype.itemsize:
            # (a low-precision input to GRU, whose CPU kernel runs in float32 under autocast:
            # its results come back in the input's dtype, as PyTorch's)
            out = out.to(low)
            hidden = tuple(h.to(low) for h in hidden) if is_lstm else hidden.to(low)
        if isinstance(input, PackedSequence):
            return (PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden(hidden, unsorted_indices))
        output = out.view(seq_len, batch, out.shape[-1])
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1)) if is_lstm \
                else hidden.squeeze(1)
        return output, hidden

    def extra_repr(self):
        s = '{input_size}, {hidden_size}'
        if self.proj_size != 0:
            s += ', proj_size={proj_size}'
        if self.num_layers != 1:
            s += ', num_layers={num_layers}'
        if self.bias is not True:
            s += ', bias={bias}'
        if self.batch_first is not False:
            s += ', batch_first={batch_first}'
        if self.dropout != 0:
            s += ', dropout={dropout}'
        if self.bidirectional is not False:
            s += ', bidirectional={bidirectional}'
        return s.format(**self.__dict__)


def _no_projection(kwargs):
    if 'proj_size' in kwargs:
        raise ValueError('proj_size argument is only supported for LSTM, not RNN or GRU')


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).
    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)"""

    def __init__(self, *args, **kwargs):
        _no_projection(kwargs)
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop('nonlinearity', 'tanh')
        if self.nonlinearity not in ('tanh', 'relu'):
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__('RNN_TANH' if self.nonlinearity == 'tanh' else 'RNN_RELU', *args,
                         **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o; with proj_size > 0, h = W_hr (o * tanh(c)).
    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, device=None, dtype=None); hx is (h_0, c_0)."""

    def __init__(self, *args, **kwargs):
        super().__init__('LSTM', *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, self._mini_batch(input, batch_sizes),
                self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               'Expected hidden[0] size {}, got {}')
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               'Expected hidden[1] size {}, got {}')
        self._check_state_dtype(input, hidden[0], 'h_0')
        self._check_state_dtype(input, hidden[1], 'c_0')

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None)"""

    def __init__(self, *args, **kwargs):
        _no_projection(kwargs)
        super().__init__('GRU', *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Cells: one time step
# ---------------------------------------------------------------------------------------------

_CELL_FUNCTIONS = {'LSTM': 'lstm_cell', 'GRU': 'gru_cell', 'RNN_TANH': 'rnn_tanh_cell',
                   'RNN_RELU': 'rnn_relu_cell'}


class RNNCellBase(Module):
    """What the cells share: weight_ih (chunks * hidden, input), weight_hh, optional biases."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {'device': device, 'dtype': dtype}
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(_creation.empty((gates, input_size), **factory))
        self.weight_hh = Parameter(_creation.empty((gates, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(_creation.empty(gates, **factory))
            self.bias_hh = Parameter(_creation.empty(gates, **factory))
        else:
            self.register_parameter('bias_ih', None)
            self.register_parameter('bias_hh', None)
        self.reset_parameters()

    def extra_repr(self):
        s = '{input_size}, {hidden_size}'
        if 'bias' in self.__dict__ and self.bias is not True:
            s += ', bias={bias}'
        if 'nonlinearity' in self.__dict__ and self.nonlinearity != 'tanh':
            s += ', nonlinearity={nonlinearity}'
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_dims(self, input, hx, num_states):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f'{name}: Expected input to be 1D or 2D, got {input.dim()}D '
                             'instead')
        for idx, value in enumerate(hx or ()):
            if value.dim() not in (1, 2):
                what = f'hx[{idx}]' if num_states == 2 else 'hidden'
                raise ValueError(f'{name}: Expected {what} to be 1D or 2D, got {value.dim()}D '
                                 'instead')

    def _run(self, kind, input, hx, num_states):
        """The shared forward: dims checks, unbatched input, default hx, ATen's size checks,
        then one step. hx is a tuple of num_states tensors (or None)."""
        self._check_dims(input, hx, num_states)
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = _creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype,
                                    device=input.device)
            hx = (zeros,) * num_states
        elif not is_batched:
            hx = tuple(hx[i].unsqueeze(0) for i in range(num_states))
        if len(hx) != num_states:
            raise RuntimeError('lstm_cell expects two hidden states')
        if input.size(1) != self.input_size:
            raise RuntimeError(f'input has inconsistent input_size: got {input.size(1)} '
                               f'expected {self.input_size}')
        for i, h in enumerate(hx):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} "
                                   f'batch size {h.size(0)}')
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f'hidden{i} has inconsistent hidden_size: got {h.size(1)}, '
                                   f'expected {self.hidden_size}')
        # through the torch-level cell function (an autocast entry point, as in PyTorch)
        cell = getattr(nbgrad, _CELL_FUNCTIONS[kind])
        state = cell(input, hx if num_states == 2 else hx[0], self.weight_ih, self.weight_hh,
                     self.bias_ih, self.bias_hh)
        state = state if num_states == 2 else (state,)
        if not is_batched:
            state = tuple(s.squeeze(0) for s in state)
        return state if num_states == 2 else state[0]


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ('tanh', 'relu'):
            self._check_dims(input, None if hx is None else (hx,), 1)
            raise RuntimeError(f'Unknown nonlinearity: {self.nonlinearity}')
        kind = 'RNN_TANH' if self.nonlinearity == 'tanh' else 'RNN_RELU'
        return self._run(kind, input, None if hx is None else (hx,), 1)


class LSTMCell(RNNCellBase):
    """(h', c') from gates i, f, g, o: c' = f*c + i*g, h' = o*tanh(c'); hx is (h, c)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None:
            if isinstance(hx, Tensor) or not isinstance(hx, (tuple, list)):
                raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of "
                                f'Tensors, not {type(hx).__name__}')
            if len(hx) != 2:
                raise RuntimeError('lstm_cell expects two hidden states')
        return self._run('LSTM', input, None if hx is None else tuple(hx), 2)


class GRUCell(RNNCellBase):
    """h' = (1 - z) * n + z * h, gates r, z, n with n = tanh(W_in x + b_in + r*(W_hn h + b_hn))."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._run('GRU', input, None if hx is None else (hx,), 1)
