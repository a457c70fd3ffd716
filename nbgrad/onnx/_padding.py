"""F.pad (and the ConstantPad / ReflectionPad / ReplicationPad / CircularPad modules) as ONNX.

nbgrad records constant padding as ConstantPadNd and the other modes as BorderPad, both with
(low, high) amounts per trailing dim, first padded dim first. Constant, reflect and replicate
padding are one ONNX Pad (modes constant, reflect, edge) over all dims; negative amounts
(PyTorch crops there) become a Slice first, since Pad's negative amounts are not read alike by
every runtime. Circular padding is written as Slices and a Concat per dim (ONNX's 'wrap' mode
arrives only in opset 19), which also follows dynamic axes."""
import numpy as np


INT64_MAX = 9223372036854775807
_ONNX_MODES = {'constant': 'constant', 'reflect': 'reflect', 'replicate': 'edge'}


def _crop(ctx, x, pads, nodes):
    """x with the negative amounts cut off (a Slice counted from each end, so that it follows
    dynamic axes); pads keeps the positive amounts."""
    lead = ctx.rank(x) - len(pads)
    starts, ends, axes = [], [], []
    for axis, (lo, hi) in enumerate(pads, lead):
        if lo < 0 or hi < 0:
            starts.append(max(-lo, 0))
            ends.append(hi if hi < 0 else INT64_MAX)
            axes.append(axis)
    if not axes:
        return x, pads
    cropped = ctx.temp()
    shape = list(ctx.shape(x))
    for axis, (lo, hi) in enumerate(pads, lead):
        shape[axis] -= max(-lo, 0) + max(-hi, 0)
    ctx.meta_of[cropped] = (tuple(shape), ctx.dtype(x))
    nodes.append(ctx.node('Slice', [x, ctx.int64s(starts), ctx.int64s(ends), ctx.int64s(axes)],
                          [cropped]))
    return cropped, [(max(lo, 0), max(hi, 0)) for lo, hi in pads]


def _pad(ctx, x, pads, mode, value, nodes):
    """One Pad over all of x's dims (the leading ones by 0)."""
    lead = ctx.rank(x) - len(pads)
    begins = [0] * lead + [lo for lo, _ in pads]
    ends = [0] * lead + [hi for _, hi in pads]
    inputs = [x, ctx.int64s(begins + ends)]
    if mode == 'constant':
        inputs.append(ctx.constant(np.array(value, ctx.dtype(x))))
    return nodes + [ctx.node('Pad', inputs, mode=_ONNX_MODES[mode])]


def constant_pad(ctx, op, x):
    nodes = []
    x, pads = _crop(ctx, x, list(op.pads), nodes)
    if not any(lo or hi for lo, hi in pads):
        return nodes + [ctx.node('Identity', [x])]
    return _pad(ctx, x, pads, 'constant', op.value, nodes)


def _slice(ctx, x, axis, start, end, nodes):
    out = ctx.temp()
    nodes.append(ctx.node('Slice', [x, ctx.int64s([start]), ctx.int64s([end]),
                                    ctx.int64s([axis])], [out]))
    return out


def _circular(ctx, x, pads, nodes):
    """Per padded dim: [the last lo elements, x, the first hi elements] (of x once cropped, as
    PyTorch wraps around what is left)."""
    x, pads = _crop(ctx, x, pads, nodes)
    lead = ctx.rank(x) - len(pads)
    padded = [(axis, lo, hi) for axis, (lo, hi) in enumerate(pads, lead) if lo or hi]
    if not padded:
        return nodes + [ctx.node('Identity', [x])]
    for k, (axis, lo, hi) in enumerate(padded):
        parts = ([_slice(ctx, x, axis, -lo, INT64_MAX, nodes)] if lo else []) + [x] + (
            [_slice(ctx, x, axis, 0, hi, nodes)] if hi else [])
        out = None if k == len(padded) - 1 else [ctx.temp()]
        nodes.append(ctx.node('Concat', parts, out, axis=axis))
        x = out[0] if out else None
    return nodes


def border_pad(ctx, op, x):
    if op.adjoint:
        raise ctx.unsupported('borderpad', "the adjoint of padding (a padding's gradient)")
    # (its recorded input sizes may follow dynamic axes: the graph never reads them)
    ctx.same_in_both_traces('borderpad', ('mode', 'pads'))
    pads = list(op.pads)
    if op.mode == 'circular':
        return _circular(ctx, x, pads, [])
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        raise ctx.unsupported('borderpad', f"{op.mode} padding by negative amounts {pads} "
                              f'(crop with slicing before padding instead)')
    return _pad(ctx, x, pads, op.mode, None, [])
