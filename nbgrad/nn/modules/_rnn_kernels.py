"""The arithmetic behind nn.RNN/LSTM/GRU and their cells: one fused graph node per cell step and
the time loop over a packed batch.

Each step is two graph nodes: F.linear for h @ W_hh^T + b_hh (one GEMM), and a fused node for the
gates' pointwise work. The input projection x @ W_ih^T + b_ih of a whole layer is one GEMM done
before the loop (for the LSTM and the Elman RNN, with b_hh added to its bias instead of at every
step). A fused node's forward runs on raw arrays; its backward runs the same formulas on
arrays for a plain backward, and as Tensor ops under create_graph, so double backward works.

Sequences travel packed (PyTorch's PackedSequence layout: time-major rows, the batch sorted by
decreasing length); a padded (T, B, F) input is the packed case with batch_sizes [B] * T.
"""
import nbgrad

from ... import _dispatch
from ..._dispatch import dispatch
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops._util import xp_of
from .. import functional as F
from . import _rnn_sequence


class _ArrayMath:
    """The functions the cell formulas use, on NumPy/CuPy arrays (no graph)."""

    def __init__(self, xp):
        self.xp = xp

    def sigmoid(self, x):
        # through tanh: one vectorised transcendental, ~10x faster than exp and a division, and
        # within an ulp or two of PyTorch's 1 / (1 + exp(-x)) in absolute terms (the gates only
        # ever use sigmoid's value, never its relative accuracy near 0); in place after the
        # first product, since a step's arrays are small and each call costs more than its work
        out = x * 0.5
        self.xp.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out

    def tanh(self, x):
        return self.xp.tanh(x)

    def relu(self, x):
        return self.xp.maximum(x, 0)

    def positive(self, x):
        return (x > 0).astype(x.dtype)

    def cat(self, parts):
        return self.xp.concatenate(parts, axis=-1)


class _TensorMath:
    """The same functions as Tensor ops: a backward under create_graph records its own graph."""
    sigmoid = staticmethod(Tensor.sigmoid)
    tanh = staticmethod(Tensor.tanh)
    relu = staticmethod(Tensor.relu)

    @staticmethod
    def positive(x):
        return (x > 0).to(x.dtype)

    @staticmethod
    def cat(parts):
        return nbgrad.cat(parts, -1)


_TENSOR_MATH = _TensorMath()


class _CellStep(Node):
    """A fused cell step: subclasses give `outputs(m, *inputs)` and `gradients(m, grads, *inputs)`
    once, written with m's functions, and they run on arrays or on Tensors."""

    def forward(self, *arrays):
        return self.outputs(_ArrayMath(xp_of(arrays[0])), *arrays)

    def backward(self, *grads):
        inputs = self.saved_tensors
        if _dispatch._modes.grad_enabled:  # create_graph: differentiable Tensor ops
            return tuple(self.gradients(_TENSOR_MATH, grads, *inputs))
        m = _ArrayMath(xp_of(inputs[0]._data))
        arrays = self.gradients(m, [g._data for g in grads], *[t._data for t in inputs])
        wrapped = {}  # one Tensor per array (x's and h's gate gradients are often the same one)
        return tuple(wrapped.setdefault(id(a), Tensor._make(a)) for a in arrays)


class _LSTMStep(_CellStep):
    """(xg, hg, c) -> (h, c'): gates xg + hg in PyTorch's order i, f, g, o;
    c' = f*c + i*g, h = o*tanh(c'). The forward keeps its activations for a plain backward."""
    saved_inputs = (0, 1, 2)
    num_outputs = 2
    _kept = None

    def name(self):
        return 'ThnnFusedLstmCellBackward0'

    @staticmethod
    def _activations(m, xg, hg, c_prev):
        """sigmoid of all four gates (i, f, o are its quarters; g's quarter is unused), tanh of
        g's, c' and tanh(c')."""
        gates = xg + hg
        H = gates.shape[-1] // 4
        s = m.sigmoid(gates)
        g = m.tanh(gates[..., 2 * H:3 * H])
        c = s[..., H:2 * H] * c_prev + s[..., :H] * g
        return s, g, c, m.tanh(c)

    def outputs(self, m, xg, hg, c_prev):
        s, g, c, tc = self._kept = self._activations(m, xg, hg, c_prev)
        H = g.shape[-1]
        return s[..., 3 * H:] * tc, c

    def gradients(self, m, grads, xg, hg, c_prev):
        gh, gc = grads
        # a graph of the backward recomputes the activations from the inputs it differentiates
        s, g, _, tc = self._activations(m, xg, hg, c_prev) if m is _TENSOR_MATH else self._kept
        H = g.shape[-1]
        i, f, o = s[..., :H], s[..., H:2 * H], s[..., 3 * H:]
        gc = gc + gh * o * (1 - tc * tc)
        slope = s * (1 - s)   # the sigmoid's, for i, f and o
        d_gates = m.cat([gc * g, gc * c_prev, gc * i, gh * tc]) * m.cat(
            [slope[..., :2 * H], 1 - g * g, slope[..., 3 * H:]])
        return d_gates, d_gates, gc * f

    def _release(self):
        super()._release()
        self._kept = None


class _GRUStep(_CellStep):
    """(xg, hg, h) -> h': gates in PyTorch's order r, z, n; hg holds W_h h + b_h, so
    n = tanh(xn + r * hn) and h' = (1 - z) * n + z * h."""
    saved_inputs = (0, 1, 2)

    def name(self):
        return 'ThnnFusedGruCellBackward0'

    @staticmethod
    def _gates(m, xg, hg):
        H = xg.shape[-1] // 3
        rz = m.sigmoid(xg[..., :2 * H] + hg[..., :2 * H])
        r = rz[..., :H]
        return r, rz[..., H:], m.tanh(xg[..., 2 * H:] + r * hg[..., 2 * H:]), hg[..., 2 * H:]

    def outputs(self, m, xg, hg, h_prev):
        _, z, n, _ = self._gates(m, xg, hg)
        return (1 - z) * n + z * h_prev

    def gradients(self, m, grads, xg, hg, h_prev):
        (gh,) = grads
        r, z, n, hn = self._gates(m, xg, hg)
        d_n = gh * (1 - z) * (1 - n * n)
        d_z = gh * (h_prev - n) * z * (1 - z)
        d_r = d_n * hn * r * (1 - r)
        return m.cat([d_r, d_z, d_n]), m.cat([d_r, d_z, d_n * r]), gh * z


class _ElmanStep(_CellStep):
    """(xg, hg) -> tanh(xg + hg) or relu(xg + hg)."""
    saved_inputs = (0, 1)

    def __init__(self, nonlinearity):
        self.nonlinearity = nonlinearity

    def name(self):
        return 'TanhBackward0' if self.nonlinearity == 'tanh' else 'ReluBackward0'

    def outputs(self, m, xg, hg):
        return (m.tanh if self.nonlinearity == 'tanh' else m.relu)(xg + hg)

    def gradients(self, m, grads, xg, hg):
        (g,) = grads
        y = self.outputs(m, xg, hg)
        d = g * (1 - y * y) if self.nonlinearity == 'tanh' else g * m.positive(y)
        return d, d


# One step of each kind: (xg, state, w_hh, b_hh, w_hr) -> new state, where xg is the step's input
# projection and state is (h,) or, for the LSTM, (h, c). w_hr is the LSTM's projection or None.

def _lstm_step(xg, state, w_hh, b_hh, w_hr):
    h, c = dispatch(_LSTMStep(), xg, F.linear(state[0], w_hh, b_hh), state[1])
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _gru_step(xg, state, w_hh, b_hh, w_hr):
    h = state[0]
    return (dispatch(_GRUStep(), xg, F.linear(h, w_hh, b_hh), h),)


def _elman_step(nonlinearity):
    def step(xg, state, w_hh, b_hh, w_hr):
        return (dispatch(_ElmanStep(nonlinearity), xg, F.linear(state[0], w_hh, b_hh)),)
    return step


STEPS = {'LSTM': _lstm_step, 'GRU': _gru_step, 'RNN_TANH': _elman_step('tanh'),
         'RNN_RELU': _elman_step('relu')}


def _run_direction(step, xg_steps, batch_sizes, state0, weights, reverse):
    """One layer in one direction over a packed batch. Returns the packed outputs (the h of each
    step, in time order) and the final state, taken at each sequence's own last step."""
    outputs = [None] * len(batch_sizes)
    if not reverse:
        state, finished, active = state0, [], batch_sizes[0]
        for t, b in enumerate(batch_sizes):
            if b < active:  # rows b.. have ended: their state is final
                finished.append(tuple(s[b:active] for s in state))
                state = tuple(s[:b] for s in state)
                active = b
            state = step(xg_steps[t], state, *weights)
            outputs[t] = state[0]
        if finished:  # rows in batch order: the longest sequences' states last ended
            finished.append(state)
            state = tuple(nbgrad.cat(parts[::-1]) for parts in zip(*finished))
    else:
        active = batch_sizes[-1]
        state = tuple(s[:active] for s in state0) if active < batch_sizes[0] else state0
        for t in range(len(batch_sizes) - 1, -1, -1):
            b = batch_sizes[t]
            if b > active:  # rows active..b start here (their last step), from their h0
                state = tuple(nbgrad.cat([s, s0[active:b]]) for s, s0 in zip(state, state0))
                active = b
            state = step(xg_steps[t], state, *weights)
            outputs[t] = state[0]
    return nbgrad.cat(outputs), state


def run_layers(mode, data, batch_sizes, hx, weights, num_layers, num_directions, dropout,
               training):
    """A stacked (bi)directional recurrence over packed `data` (rows, features).

    hx: the initial state, a tuple of (num_layers * num_directions, batch, size) tensors;
    weights: per layer and direction, (w_ih, w_hh, b_ih, b_hh, w_hr) with None where absent.
    Returns the last layer's packed output and the final state (hx's shapes)."""
    finals = [[] for _ in hx]
    layer_input = data
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            k = layer * num_directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            if b_hh is not None and mode != 'GRU':
                # b_hh joins b_ih in the one input projection instead of being added (and its
                # gradient summed) at every step; GRU's b_hn sits inside r * (W_hn h + b_hn)
                b_ih, b_hh = b_ih + b_hh, None
            out, final = _rnn_sequence.run_direction(
                mode, layer_input, batch_sizes, tuple(h[k] for h in hx),
                (w_ih, b_ih, w_hh, b_hh, w_hr), reverse=direction == 1)
            outputs.append(out)
            for kept, s in zip(finals, final):
                kept.append(s)
        layer_input = outputs[0] if num_directions == 1 else nbgrad.cat(outputs, 1)
        if dropout and training and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, True)
    return layer_input, tuple(nbgrad.stack(kept) for kept in finals)
