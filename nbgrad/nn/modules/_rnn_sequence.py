"""One recurrent layer in one direction over a packed batch as one graph node, as PyTorch's fused
layer kernels do: the forward steps through time on raw arrays and keeps each step's activations
in whole-sequence arrays; the backward runs backpropagation through time on arrays, with the
hidden-to-hidden (and projection) weight gradients as one GEMM over all steps instead of a small
GEMM and a graph node per step. The cell formulas are _rnn_kernels' (same order of operations);
on CUDA the LSTM and GRU cells' pointwise work is one kernel per step (_lstm_cuda, _gru_cuda).

A backward that records a graph (create_graph=True) replays _rnn_kernels' per-step path as
Tensor ops and differentiates that, so double backward works as before.

Layout (PyTorch's PackedSequence): step t holds rows off[t] .. off[t] + b[t] of the packed
arrays, b non-increasing; a forward-direction sequence that ends leaves its rows' final state
behind, a reverse-direction one starts from its rows of the initial state.
"""
import numpy as np

import nbgrad

from ... import _dispatch, _work_arrays
from ..._dispatch import dispatch
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops import _half_gemm
from ...ops._util import xp_of
from . import (_elman_sequence_cuda, _gru_cuda, _gru_sequence_cuda, _lstm_cuda,
               _lstm_sequence_cuda)


def _sigmoid_into(xp, x, out):
    """_rnn_kernels' sigmoid (through tanh), written into out."""
    xp.multiply(x, 0.5, out=out)
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class _LSTMCell:
    """Gates i, f, g, o; c' = f*c + i*g, h = o*tanh(c') (projected by w_hr when given)."""

    def __init__(self, xp, rows, hidden, out_size, dtype, projected):
        self.xp, self.H = xp, hidden
        self.cuda = _lstm_cuda.usable(xp, dtype)          # one kernel per step (_lstm_cuda)
        work = _work_arrays.empty
        self.s = work(xp, (rows, 4 * hidden), dtype)       # sigmoid of every gate
        self.g = work(xp, (rows, hidden), dtype)           # tanh of the g gate
        self.c_prev = work(xp, (rows, hidden), dtype)
        self.tc = work(xp, (rows, hidden), dtype)          # tanh(c')
        self.h_raw = work(xp, (rows, hidden), dtype) if projected else None

    def work_arrays(self):
        return self.s, self.g, self.c_prev, self.tc, self.h_raw

    def forward(self, sl, xg, hg, bias, state, w_hr, out):
        xp, H = self.xp, self.H
        h = out if self.h_raw is None else self.h_raw[sl]     # h straight into the output
        if bias is not None:   # (run_layers folds the LSTM's b_hh into the input projection)
            hg += bias
        if self.cuda:
            c_prev = xp.ascontiguousarray(state[1])
            c = _lstm_cuda.forward(xp, xp.ascontiguousarray(xg), hg, c_prev, self.s[sl],
                                   self.g[sl], self.c_prev[sl], self.tc[sl], h)
            if c is not None:
                return (h if self.h_raw is None else xp.matmul(h, w_hr.T)), c
            self.cuda = False
        hg += xg
        s, g, tc = self.s[sl], self.g[sl], self.tc[sl]
        _sigmoid_into(xp, hg, s)
        xp.tanh(hg[:, 2 * H:3 * H], out=g)
        c_prev = state[1]
        self.c_prev[sl] = c_prev
        c = s[:, H:2 * H] * c_prev
        c += s[:, :H] * g
        xp.tanh(c, out=tc)
        xp.multiply(s[:, 3 * H:], tc, out=h)
        return (h if self.h_raw is None else xp.matmul(h, w_hr.T)), c

    def backward(self, sl, g_out, carry, d_x, d_h, w_hr, g_proj):
        """d_x[sl] (= d_h[sl]) from the step's h gradient (carry's plus the output's g_out) and
        carry's c gradient; returns the c gradient flowing into the previous step."""
        xp, H = self.xp, self.H
        s, g, tc, c_prev = self.s[sl], self.g[sl], self.tc[sl], self.c_prev[sl]
        if self.h_raw is None and self.cuda:   # the kernel adds the two parts of gh itself
            gc_prev = _lstm_cuda.backward(xp, xp.ascontiguousarray(carry[0]),
                                          xp.ascontiguousarray(g_out),
                                          xp.ascontiguousarray(carry[1]), s, g, tc, c_prev,
                                          d_x[sl])
            if gc_prev is not None:
                return gc_prev
            self.cuda = False
        gh = carry[0] + g_out
        if self.h_raw is not None:
            g_proj[sl] = gh
            gh = xp.matmul(gh, w_hr)
        if self.cuda:
            gc_prev = _lstm_cuda.backward(xp, gh, xp.zeros_like(gh),
                                          xp.ascontiguousarray(carry[1]), s, g, tc, c_prev,
                                          d_x[sl])
            if gc_prev is not None:
                return gc_prev
            self.cuda = False
        i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
        gc = gh * o
        gc *= 1 - tc * tc
        gc += carry[1]
        # each gate's gradient is (what multiplies it) * (its activation's slope), the four
        # products and the four slopes each computed as one (b, 4H) array
        slope = 1 - s
        slope *= s                              # the sigmoid's, for i, f and o
        g_slope = slope[:, 2 * H:3 * H]
        xp.multiply(g, g, out=g_slope)
        xp.subtract(1, g_slope, out=g_slope)    # tanh's, for g
        d = d_x[sl]
        xp.multiply(gc, g, out=d[:, :H])
        xp.multiply(gc, c_prev, out=d[:, H:2 * H])
        xp.multiply(gc, i, out=d[:, 2 * H:3 * H])
        xp.multiply(gh, tc, out=d[:, 3 * H:])
        d *= slope
        return gc * f

    def projection_grad(self, g_proj):
        return g_proj.T @ self.h_raw


class _GRUCell:
    """Gates r, z, n; hg holds W_h h + b_h, so n = tanh(xn + r * hn), h' = (1 - z) n + z h."""

    def __init__(self, xp, rows, hidden, out_size, dtype, projected):
        self.xp, self.H = xp, hidden
        self.cuda = _gru_cuda.usable(xp, dtype)           # one kernel per step (_gru_cuda)
        work = _work_arrays.empty
        self.rz = work(xp, (rows, 2 * hidden), dtype)
        self.n = work(xp, (rows, hidden), dtype)
        self.hn = work(xp, (rows, hidden), dtype)
        self.h_prev = None                                  # set by _Recurrence

    def work_arrays(self):
        return self.rz, self.n, self.hn

    def forward(self, sl, xg, hg, bias, state, w_hr, out):
        xp, H = self.xp, self.H
        if bias is not None:
            hg += bias
        if self.cuda:
            h_prev = xp.ascontiguousarray(state[0])
            if _gru_cuda.forward(xp, xp.ascontiguousarray(xg), hg, h_prev, self.rz[sl],
                                 self.hn[sl], self.n[sl], out):
                return (out,)
            self.cuda = False
        rz, n = self.rz[sl], self.n[sl]
        _sigmoid_into(xp, xg[:, :2 * H] + hg[:, :2 * H], rz)
        self.hn[sl] = hg[:, 2 * H:]
        r, z = rz[:, :H], rz[:, H:]
        xp.tanh(xg[:, 2 * H:] + r * hg[:, 2 * H:], out=n)
        return ((1 - z) * n + z * state[0],)

    def backward(self, sl, g_out, carry, d_x, d_h, w_hr, g_proj):
        H = self.H
        gh = carry[0] + g_out
        rz, n, hn, h_prev = self.rz[sl], self.n[sl], self.hn[sl], self.h_prev[sl]
        if self.cuda:
            direct = _gru_cuda.backward(self.xp, self.xp.ascontiguousarray(gh), rz, n, hn,
                                        h_prev, d_x[sl], d_h[sl])
            if direct is not None:
                return direct
            self.cuda = False
        r, z = rz[:, :H], rz[:, H:]
        d_n = gh * (1 - z) * (1 - n * n)
        dx, dh = d_x[sl], d_h[sl]
        dx[:, 2 * H:] = d_n
        dx[:, H:2 * H] = gh * (h_prev - n) * z * (1 - z)
        dx[:, :H] = d_n * hn * r * (1 - r)
        dh[:, :2 * H] = dx[:, :2 * H]
        dh[:, 2 * H:] = d_n * r
        return gh * z           # h' = ... + z * h: the direct path to the previous h


class _ElmanCell:
    """h' = tanh(xg + hg) or relu(xg + hg)."""

    def __init__(self, xp, rows, hidden, out_size, dtype, projected, nonlinearity):
        self.xp, self.relu = xp, nonlinearity == 'relu'
        self.y = _work_arrays.empty(xp, (rows, hidden), dtype)

    def work_arrays(self):
        return (self.y,)

    def forward(self, sl, xg, hg, bias, state, w_hr, out):
        y = self.y[sl]
        if bias is not None:
            hg += bias
        hg += xg
        if self.relu:
            self.xp.maximum(hg, 0, out=y)
        else:
            self.xp.tanh(hg, out=y)
        out[...] = y
        return (out,)

    def backward(self, sl, g_out, carry, d_x, d_h, w_hr, g_proj):
        gh = carry[0] + g_out
        y = self.y[sl]
        d = d_x[sl]
        if self.relu:
            self.xp.multiply(gh, y > 0, out=d)
        else:
            self.xp.multiply(gh, 1 - y * y, out=d)
        return None


def _make_cell(mode, *args):
    if mode == 'LSTM':
        return _LSTMCell(*args)
    if mode == 'GRU':
        return _GRUCell(*args)
    return _ElmanCell(*args, 'relu' if mode == 'RNN_RELU' else 'tanh')


class _Recurrence(Node):
    """(x, w_ih, b_ih, h0, c0, w_hh, b_hh, w_hr) -> (packed outputs, h_n[, c_n]) for one layer
    and direction; c0 (and c_n) only for the LSTM; b_ih, b_hh and w_hr may be None.

    The input projection xg = x W_ih^T + b_ih is part of the node, as in PyTorch's fused layer:
    xg and its gradient are work arrays (_work_arrays) that never leave it, so a training step
    does not fault their pages in afresh (two (rows, 4H) arrays for an LSTM)."""
    saved_inputs = (0, 1, 2, 3, 4, 5, 6, 7)

    def __init__(self, mode, batch_sizes, reverse):
        self.mode, self.batch_sizes, self.reverse = mode, list(batch_sizes), reverse
        self.num_outputs = 3 if mode == 'LSTM' else 2
        offsets, total = [], 0
        for b in self.batch_sizes:
            offsets.append(total)
            total += b
        self.offsets = offsets
        self._cell = None
        self._whole_layer = False   # whether the forward ran in step launches (layer kernels)

    def name(self):
        # PyTorch's CPU name for its fused LSTM layer (nbgrad fuses GRU and RNN layers too)
        return 'MkldnnRnnLayerBackward0'

    def _steps(self):
        """(t, slice of step t's rows) in the order the forward visits them."""
        order = range(len(self.batch_sizes))
        for t in (reversed(order) if self.reverse else order):
            yield t, slice(self.offsets[t], self.offsets[t] + self.batch_sizes[t])

    def forward(self, x, w_ih, b_ih, h0, c0, w_hh, b_hh, w_hr):
        xp = xp_of(x)
        if x.dtype == np.float16:   # (through float32: NumPy has no half GEMM)
            xg = _half_gemm.matmul(xp, x, w_ih.T)
        else:
            xg = _work_arrays.empty(xp, (x.shape[0], w_ih.shape[0]), x.dtype)
            xp.matmul(x, w_ih.T, out=xg)
        if b_ih is not None:
            xg += b_ih
        results = self._run_forward(xg, h0, c0, w_hh, b_hh, w_hr)
        _work_arrays.give_back(xg)          # the steps have read it; the backward does not
        if not _dispatch._modes.grad_enabled:     # no backward will read the saved activations
            self._give_back_work_arrays()
        return results

    def _give_back_work_arrays(self):
        """The saved activations to _work_arrays, once nothing can read them: at the end of a
        forward without grad, or when the backward frees the graph."""
        if self._cell is not None:
            _work_arrays.give_back(*self._cell.work_arrays(), self._h_prev)
        self._cell = self._h_prev = None

    def _run_forward(self, xg, h0, c0, w_hh, b_hh, w_hr):
        xp = xp_of(xg)
        rows, bs = xg.shape[0], self.batch_sizes
        hidden = c0.shape[-1] if c0 is not None else w_hh.shape[0] // (3 if self.mode == 'GRU'
                                                                         else 1)
        out_size = h0.shape[-1]
        cell = self._cell = _make_cell(self.mode, xp, rows, hidden, out_size, xg.dtype,
                                       w_hr is not None)
        self._h_prev = _work_arrays.empty(xp, (rows, out_size), xg.dtype)
        # with every step as wide (no packing), the previous hs are the outputs shifted by one
        # step: one copy at the end instead of one per step
        uniform = all(b == bs[0] for b in bs)
        if self.mode == 'GRU':
            cell.h_prev = self._h_prev
        out = xp.empty((rows, out_size), xg.dtype)
        state0 = (h0,) if c0 is None else (h0, c0)
        self._whole_layer = bool(uniform and bs) and w_hr is None and \
            self._step_kernels_serve(xp, xg.dtype, bs[0], hidden, b_hh)
        if self._whole_layer:   # a CUDA launch per step for all of its work
            final = self._forward_in_step_launches(xp, xg, h0, c0, w_hh, b_hh, out)
            if final is not None:
                b = bs[0]
                parts = (out[b:], h0) if self.reverse else (h0, out[:-b])
                xp.concatenate(parts, out=self._h_prev)
                return (out, out[:b] if self.reverse else out[-b:]) + final
            self._whole_layer = False
        w_hh_t = w_hh.T
        finished = []
        if self.reverse:
            active = bs[-1]
            state = tuple(s[:active] for s in state0)
        else:
            active = bs[0]
            state = state0
        for t, sl in self._steps():
            b = bs[t]
            if b < active:      # forward direction: rows b.. have ended, their state is final
                finished.append(tuple(s[b:active] for s in state))
                state = tuple(s[:b] for s in state)
            elif b > active:    # reverse direction: rows active.. start here, from the state0
                state = tuple(xp.concatenate([s, s0[active:b]]) for s, s0 in zip(state, state0))
            active = b
            if not uniform:
                self._h_prev[sl] = state[0]
            out_rows = out[sl]
            state = cell.forward(sl, xg[sl], xp.matmul(state[0], w_hh_t), b_hh, state, w_hr,
                                 out_rows)
            if state[0] is not out_rows:
                out_rows[...] = state[0]
        if uniform and bs:      # each step's previous h is the step before's output (or h0)
            b = bs[0]
            parts = (out[b:], h0) if self.reverse else (h0, out[:-b])
            xp.concatenate(parts, out=self._h_prev)
        if finished:            # rows in batch order: the longest sequences' states ended last
            finished.append(state)
            state = tuple(xp.concatenate(parts[::-1]) for parts in zip(*finished))
        elif not bs:            # no steps: the state is state0's, in arrays of its own
            state = tuple(s.copy() for s in state)
        return (out,) + tuple(state)

    def backward(self, g_out, *g_final):
        if _dispatch._modes.grad_enabled:     # create_graph: the per-step path, as Tensor ops
            return self._backward_with_graph(g_out, *g_final)
        x, w_ih, b_ih, h0, c0, w_hh, b_hh, w_hr = self.saved_tensors
        d_x, *rest = self._recurrence_backward(g_out, g_final, h0, c0, w_hh, b_hh, w_hr)
        # the projection's gradients from the gates' (d_x), which then goes back to the pool
        xp, e = xp_of(d_x), self._edges
        x_a, w_ih_a = x._data, w_ih._data
        g_x = _half_gemm.matmul(xp, d_x, w_ih_a) if e[0] is not None else None
        g_w_ih = _half_gemm.matmul(xp, d_x.T, x_a) if e[1] is not None else None
        g_b_ih = d_x.sum(axis=0) if e[2] is not None else None
        _work_arrays.give_back(d_x)
        return tuple(None if g is None else Tensor._make(g)
                     for g in (g_x, g_w_ih, g_b_ih, *rest))

    def _recurrence_backward(self, g_out, g_final, h0, c0, w_hh, b_hh, w_hr):
        """The gradients of (xg, h0, c0, w_hh, b_hh, w_hr) as arrays (or None)."""
        g_out, g_final = g_out._data, [g._data for g in g_final]
        xp, bs, cell = xp_of(g_out), self.batch_sizes, self._cell
        rows = g_out.shape[0]
        w_hh_a = w_hh._data
        w_hr_a = None if w_hr is None else w_hr._data
        d_x = _work_arrays.empty(xp, (rows, w_hh_a.shape[0]), g_out.dtype)
        d_h = _work_arrays.empty(xp, d_x.shape, d_x.dtype) if self.mode == 'GRU' else d_x
        if self._whole_layer:   # a CUDA launch per step for all of its work
            g_state0 = self._backward_in_step_launches(xp, g_out, g_final, w_hh_a, d_x, d_h)
            if g_state0 is not None:
                g_b_hh = d_h.sum(axis=0) if b_hh is not None else None
                g_c0 = g_state0[1] if c0 is not None else None
                return d_x, g_state0[0], g_c0, d_h.T @ self._h_prev, g_b_hh, None
        g_proj = _work_arrays.empty(xp, g_out.shape, g_out.dtype) if w_hr is not None else None
        n_state = len(g_final)
        if self.reverse:
            g_state0 = [xp.zeros_like(g) for g in g_final]
            carry = list(g_final)
        else:
            last = bs[-1]
            carry = [g[:last] for g in g_final]
        steps = list(self._steps())[::-1]
        for k, (t, sl) in enumerate(steps):
            b = bs[t]
            if carry[0].shape[0] < b:   # forward direction: rows that ended at step t
                carry = [xp.concatenate([c, g[c.shape[0]:b]]) for c, g in zip(carry, g_final)]
            c_grad = cell.backward(sl, g_out[sl], carry, d_x, d_h, w_hr_a, g_proj)
            h_grad = xp.matmul(d_h[sl], w_hh_a)
            if self.mode == 'GRU':
                h_grad += c_grad
            carry = [h_grad] if n_state == 1 else [h_grad, c_grad]
            if self.reverse:            # rows that started at step t came from the state0
                following = bs[steps[k + 1][0]] if k + 1 < len(steps) else 0
                for g0, c in zip(g_state0, carry):
                    g0[following:b] = c[following:b]
                carry = [c[:following] for c in carry]
        if not self.reverse:
            g_state0 = carry
        g_w_hh = d_h.T @ self._h_prev
        g_b_hh = d_h.sum(axis=0) if b_hh is not None else None
        g_w_hr = cell.projection_grad(g_proj) if w_hr is not None else None
        if d_h is not d_x:
            _work_arrays.give_back(d_h)
        _work_arrays.give_back(g_proj)
        return (d_x, g_state0[0], g_state0[1] if c0 is not None else None, g_w_hh, g_b_hh,
                g_w_hr)

    # -- the layer step kernels (_lstm_, _gru_ and _elman_sequence_cuda) ---------------------
    def _step_kernels_serve(self, xp, dtype, batch, hidden, b_hh):
        if self.mode == 'GRU':
            return _gru_sequence_cuda.usable(xp, dtype, batch, hidden)
        # (run_layers folds the LSTM's and the RNN's b_hh into the input projection)
        kernels = _lstm_sequence_cuda if self.mode == 'LSTM' else _elman_sequence_cuda
        return b_hh is None and kernels.usable(xp, dtype, batch, hidden)

    def _forward_in_step_launches(self, xp, xg, h0, c0, w_hh, b_hh, out):
        """The final states after h's, (c,) or (); None if the kernels are unavailable."""
        cell = self._cell
        if self.mode == 'LSTM':
            c = _lstm_sequence_cuda.forward(xp, xg, w_hh, h0, c0, cell.s, cell.g, cell.c_prev,
                                            cell.tc, out, self.reverse)
            return None if c is None else (c,)
        if self.mode == 'GRU':
            done = _gru_sequence_cuda.forward(xp, xg, w_hh, b_hh, h0, cell.rz, cell.hn, cell.n,
                                              out, self.reverse)
        else:
            done = _elman_sequence_cuda.forward(xp, xg, w_hh, h0, cell.y, out, cell.relu,
                                                self.reverse)
        return () if done else None

    def _backward_in_step_launches(self, xp, g_out, g_final, w_hh, d_x, d_h):
        """The initial states' gradients, [h0's, c0's] or [h0's], with the gates' in d_x (and
        d_h); None if the kernels are unavailable."""
        cell = self._cell
        if self.mode == 'LSTM':
            return _lstm_sequence_cuda.backward(xp, g_out, *g_final, w_hh, cell.s, cell.g,
                                                cell.tc, cell.c_prev, d_x, self.reverse)
        if self.mode == 'GRU':
            g_h0 = _gru_sequence_cuda.backward(xp, g_out, g_final[0], w_hh, cell.rz, cell.hn,
                                               cell.n, self._h_prev, d_x, d_h, self.reverse)
        else:
            g_h0 = _elman_sequence_cuda.backward(xp, g_out, g_final[0], w_hh, cell.y, d_x,
                                                 cell.relu, self.reverse)
        return None if g_h0 is None else (g_h0,)

    def _backward_with_graph(self, g_out, *g_final):
        from . import _rnn_kernels
        inputs = self.saved_tensors
        x, w_ih, b_ih, h0, c0, w_hh, b_hh, w_hr = inputs
        xg = nbgrad.nn.functional.linear(x, w_ih, b_ih)
        state0 = (h0,) if c0 is None else (h0, c0)
        out, final = _rnn_kernels._run_direction(
            _rnn_kernels.STEPS[self.mode], xg.split(self.batch_sizes), self.batch_sizes, state0,
            (w_hh, b_hh, w_hr), self.reverse)
        wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
        grads = iter(nbgrad.autograd.grad([out, *final], wanted, [g_out, *g_final],
                                          create_graph=True, allow_unused=True))
        return tuple(next(grads) if isinstance(t, Tensor) and t.requires_grad else None
                     for t in inputs)

    def _release(self):
        super()._release()
        self._give_back_work_arrays()


def run_direction(mode, x, batch_sizes, state0, weights, reverse):
    """One layer in one direction over the packed input x: (packed outputs, final state), as
    _rnn_kernels._run_direction computes them from x's projections, in one graph node.
    weights: (w_ih, b_ih, w_hh, b_hh, w_hr)."""
    w_ih, b_ih, w_hh, b_hh, w_hr = weights
    c0 = state0[1] if mode == 'LSTM' else None
    results = dispatch(_Recurrence(mode, batch_sizes, reverse), x, w_ih, b_ih, state0[0], c0,
                       w_hh, b_hh, w_hr)
    return results[0], tuple(results[1:])
