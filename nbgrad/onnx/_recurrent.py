"""nn.LSTM and nn.GRU layers as ONNX LSTM and GRU nodes.

nbgrad records each layer and direction as one _Recurrence op on the time-major packed input
(rows = the sum of the per-step batch sizes) with PyTorch's weights. ONNX's ops take the input
as (time, batch, features), one direction's weights as (1, gates * H, in), both biases as one
(1, 2 * gates * H), and order the gates differently:

  LSTM  torch i, f, g, o   ONNX i, o, f, c
  GRU   torch r, z, n      ONNX z, r, h   (linear_before_reset=1: torch's r * (W_hn h + b_hn))

so the weight rows are gathered into ONNX's order in the graph. Packed sequences of unequal
lengths and LSTM projections (proj_size) are refused by name."""
import numpy as np

_GATE_ORDER = {'LSTM': [0, 3, 1, 2], 'GRU': [1, 0, 2]}


def _gate_rows(mode, hidden):
    return np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in _GATE_ORDER[mode]])


def _onnx_weights(ctx, mode, w, rows, nodes):
    """w (gates * H, in) as (1, gates * H, in) in ONNX's gate order."""
    gathered, grown = ctx.temp(), ctx.temp()
    nodes += [ctx.node('Gather', [w, rows], [gathered], axis=0),
              ctx.node('Unsqueeze', [gathered, ctx.int64s([0])], [grown])]
    return grown


def recurrence(ctx, op, x, w_ih, b_ih=None, h0=None, c0=None, w_hh=None, b_hh=None,
               w_hr=None):
    if op.mode not in _GATE_ORDER:
        raise ctx.unsupported('_recurrence', f"mode '{op.mode}' (nn.RNN: only LSTM and GRU "
                              f'layers are exported)')
    if w_hr is not None:
        raise ctx.unsupported('_recurrence', 'an LSTM projection (proj_size > 0)')
    if len(set(op.batch_sizes)) > 1:
        raise ctx.unsupported('_recurrence', f'packed sequences of unequal lengths (batch '
                              f'sizes {op.batch_sizes} per step)')
    # (with dynamic_axes the batch may follow one; the number of steps is baked in)
    ctx.same_in_both_traces('_recurrence', ('mode', 'reverse'))
    other_sizes = ctx.step_other_op.batch_sizes
    if len(other_sizes) != len(op.batch_sizes) or len(set(other_sizes)) > 1:
        raise ctx.unsupported('_recurrence', 'a sequence length that follows a dynamic axis '
                              '(the exported layer runs a fixed number of steps)')
    hidden = ctx.shape(w_hh)[1]
    gates = ctx.shape(w_ih)[0]
    steps, features = len(op.batch_sizes), ctx.shape(x)[1]
    dtype = ctx.dtype(x)
    nodes = []
    rows = ctx.constant(_gate_rows(op.mode, hidden))
    w = _onnx_weights(ctx, op.mode, w_ih, rows, nodes)
    r = _onnx_weights(ctx, op.mode, w_hh, rows, nodes)
    biases = []
    for b in (b_ih, b_hh):
        if b is None:
            biases.append(ctx.constant(np.zeros(gates, dtype)))
        else:
            gathered = ctx.temp()
            nodes.append(ctx.node('Gather', [b, rows], [gathered], axis=0))
            biases.append(gathered)
    joined, bias, sequence, initial = (ctx.temp() for _ in range(4))
    zero_axis = ctx.int64s([0])
    nodes += [ctx.node('Concat', biases, [joined], axis=0),
              ctx.node('Unsqueeze', [joined, zero_axis], [bias]),
              # (time, batch, features): the batch as -1, so that it may follow a dynamic axis
              ctx.node('Reshape', [x, ctx.int64s([steps, -1, features])], [sequence]),
              ctx.node('Unsqueeze', [h0, zero_axis], [initial])]
    inputs = [sequence, w, r, bias, '', initial]
    if op.mode == 'LSTM':
        initial_c = ctx.temp()
        nodes.append(ctx.node('Unsqueeze', [c0, zero_axis], [initial_c]))
        inputs.append(initial_c)
    outs = [ctx.temp() for _ in ctx.step_outputs]
    attributes = dict(hidden_size=hidden, direction='reverse' if op.reverse else 'forward')
    if op.mode == 'GRU':
        attributes['linear_before_reset'] = 1
    nodes.append(ctx.node(op.mode, inputs, outs, **attributes))
    # Y (time, 1, batch, H) as packed rows (time * batch, H); Y_h, Y_c (1, batch, H) as (batch, H)
    nodes.append(ctx.node('Reshape', [outs[0], ctx.int64s([-1, hidden])],
                          [ctx.step_outputs[0]]))
    nodes += [ctx.node('Squeeze', [state, zero_axis], [name])
              for state, name in zip(outs[1:], ctx.step_outputs[1:])]
    return nodes


TRANSLATORS = {'_recurrence': recurrence}
# (its batch_sizes may follow a dynamic batch: checked above)
FOLLOWS_SHAPES = {'_recurrence'}
