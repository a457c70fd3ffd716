"""Translators of ops that move data between shapes: reshape, expand, indexing, slicing, split,
stack, squeeze. Their recorded arguments are the example's sizes; with dynamic axes the sizes
that follow the inputs (ctx.other_shape differs) are written as -1, 0 (copy the input's), 1
(broadcast) or a Shape of the input, as torch's exporter writes x.size(i)."""
import numpy as np

INT64_MAX = 9223372036854775807


def _shape_pieces(ctx, x, dims, nodes):
    """A 1-D int64 tensor of x's runtime sizes at dims."""
    shape, picked = ctx.temp(), ctx.temp()
    nodes += [ctx.node('Shape', [x], [shape]),
              ctx.node('Gather', [shape, ctx.int64s(dims)], [picked], axis=0)]
    return picked


def _reshape(ctx, op, x):
    target, other = ctx.out_shape(), ctx.other_out_shape()
    moving = [i for i, (a, b) in enumerate(zip(target, other)) if a != b]
    if not moving:
        return [ctx.node('Reshape', [x, ctx.int64s(target)])]
    sizes = list(zip(ctx.shape(x), ctx.other_shape(x)))
    spec, pieces, nodes, unmatched = list(target), {}, [], []
    for i in moving:
        if i < len(sizes) and sizes[i] == (target[i], other[i]):
            spec[i] = 0                         # ONNX Reshape: 0 copies the input's size
        elif (target[i], other[i]) in sizes:
            pieces[i] = sizes.index((target[i], other[i]))
        else:
            unmatched.append(i)
    if len(unmatched) > 1:
        raise ctx.unsupported('reshape', f'target {tuple(target)} where dims {unmatched} '
                              f'follow several dynamic axes at once')
    for i in unmatched:
        spec[i] = -1
    if not pieces:
        return [ctx.node('Reshape', [x, ctx.int64s(spec)])]
    parts, run = [], []
    for i, size in enumerate(spec):
        if i in pieces:
            if run:
                parts.append(ctx.int64s(run))
                run = []
            parts.append(_shape_pieces(ctx, x, [pieces[i]], nodes))
        else:
            run.append(size)
    if run:
        parts.append(ctx.int64s(run))
    shape = ctx.temp()
    return nodes + [ctx.node('Concat', parts, [shape], axis=0),
                    ctx.node('Reshape', [x, shape])]


def _expand(ctx, op, x):
    target, other = ctx.out_shape(), ctx.other_out_shape()
    lead = len(target) - ctx.rank(x)
    spec = list(target)
    for i, (a, b) in enumerate(zip(target, other)):
        j = i - lead
        if j >= 0 and (ctx.shape(x)[j], ctx.other_shape(x)[j]) == (a, b):
            spec[i] = 1                         # the input's own size: broadcasting keeps it
        elif a != b:
            raise ctx.unsupported('expand', f'a size that follows a dynamic axis (dim {i}) '
                                  f'the input does not have')
    return [ctx.node('Expand', [x, ctx.int64s(spec)])]


def _repeat(ctx, op, x):
    repeats = list(op.repeats)
    nodes = []
    if len(repeats) > ctx.rank(x):
        padded = ctx.temp()
        lead = len(repeats) - ctx.rank(x)
        nodes.append(ctx.node('Unsqueeze', [x, ctx.int64s(range(lead))], [padded]))
        x = padded
    return nodes + [ctx.node('Tile', [x, ctx.int64s(repeats)])]


def _basic_index(ctx, op, x):
    """x[ints, slices, None, ...]: one Slice (ints as one-wide slices), one Squeeze of the
    ints' axes, one Unsqueeze for the Nones (torch writes Slice, Gather and Unsqueeze)."""
    index = op.index if isinstance(op.index, tuple) else (op.index,)
    consumed = sum(1 for item in index if item is not None and item is not Ellipsis)
    if any(not (item is None or item is Ellipsis or isinstance(item, (int, slice)))
           for item in index):
        raise ctx.unsupported('basicindex', f'the index {op.index!r}')
    expanded = []
    for item in index:
        if item is Ellipsis:
            expanded += [slice(None)] * (ctx.rank(x) - consumed)
        else:
            expanded.append(item)
    starts, ends, axes, steps, squeezed, new_axes = [], [], [], [], [], []
    dim = out = 0
    for item in expanded:
        if item is None:
            new_axes.append(out)
            out += 1
            continue
        if isinstance(item, int):
            starts.append(item)
            ends.append(item + 1 if item != -1 else INT64_MAX)
            axes.append(dim)
            steps.append(1)
            squeezed.append(dim)
        elif item != slice(None) and item != slice(None, None, 1):
            step = 1 if item.step is None else item.step
            starts.append(0 if item.start is None else item.start)
            ends.append(INT64_MAX if item.stop is None else item.stop)
            axes.append(dim)
            steps.append(step)
            out += 1
        else:
            out += 1
        dim += 1
    nodes = []
    current = x
    stages = [('Slice', bool(axes)), ('Squeeze', bool(squeezed)), ('Unsqueeze', bool(new_axes))]
    last = max((k for k, (_, used) in enumerate(stages) if used), default=None)
    if last is None:
        return [ctx.node('Identity', [x])]
    for k, (kind, used) in enumerate(stages):
        if not used:
            continue
        target = None if k == last else [ctx.temp()]
        if kind == 'Slice':
            inputs = [current, ctx.int64s(starts), ctx.int64s(ends), ctx.int64s(axes),
                      ctx.int64s(steps)]
        else:
            inputs = [current, ctx.int64s(squeezed if kind == 'Squeeze' else new_axes)]
        nodes.append(ctx.node(kind, inputs, target))
        current = target[0] if target else None
    return nodes


def _advanced_index(ctx, op, x):
    """x[:, ..., integer array]: one integer index array after full slices (a Gather)."""
    index = op.index if isinstance(op.index, tuple) else (op.index,)
    arrays = [k for k, item in enumerate(index) if not isinstance(item, slice)]
    if (len(arrays) != 1 or any(item != slice(None) for item in index[:arrays[0]]) or
            any(item != slice(None) for item in index[arrays[0] + 1:]) or
            np.asarray(index[arrays[0]]).dtype.kind not in 'iu'):
        raise ctx.unsupported('advancedindexop', 'an index other than one integer array '
                              '(boolean masks and several index arrays make data-dependent '
                              'or broadcast shapes)')
    indices = ctx.constant(np.asarray(index[arrays[0]], np.int64))
    return [ctx.node('Gather', [x, indices], axis=arrays[0])]


def _split(ctx, op, x):
    dim = op.dim % ctx.rank(x)
    if dim in ctx.dynamic_dims(x):
        raise ctx.unsupported('split', f'pieces along dim {dim}, which follows a dynamic axis')
    if not op.squeeze:
        return [ctx.node('Split', [x, ctx.int64s(op.sizes)], axis=dim)]
    pieces = [ctx.temp() for _ in op.sizes]     # unbind: pieces of one, squeezed
    nodes = [ctx.node('Split', [x, ctx.int64s(op.sizes)], pieces, axis=dim)]
    axes = ctx.int64s([dim])
    return nodes + [ctx.node('Squeeze', [piece, axes], [out])
                    for piece, out in zip(pieces, ctx.step_outputs)]


def _stack(ctx, op, *xs):
    axis = op.dim % (ctx.rank(xs[0]) + 1)
    axes = ctx.int64s([axis])
    grown = [ctx.temp() for _ in xs]
    return ([ctx.node('Unsqueeze', [x, axes], [g]) for x, g in zip(xs, grown)] +
            [ctx.node('Concat', grown, axis=axis)])


def _squeeze(ctx, op, x):
    shape = ctx.shape(x)
    dims = range(len(shape)) if op.dims is None else [d % max(len(shape), 1) for d in op.dims]
    axes = [d for d in dims if shape[d] == 1 and d not in ctx.dynamic_dims(x)]
    if not axes:
        return [ctx.node('Identity', [x])]
    return [ctx.node('Squeeze', [x, ctx.int64s(axes)])]


def _unsqueeze(ctx, op, x):
    axis = op.dim % (ctx.rank(x) + 1)
    return [ctx.node('Unsqueeze', [x, ctx.int64s([axis])])]


def _cat(ctx, op, *xs):
    return [ctx.node('Concat', list(xs), axis=op.dim % ctx.rank(xs[0]))]


def _permute(ctx, op, x):
    return [ctx.node('Transpose', [x], perm=[d % ctx.rank(x) for d in op.dims])]


def _transpose(ctx, op, x):
    rank = ctx.rank(x)
    perm = list(range(rank))
    if rank >= 2 or op.dim0 % max(rank, 1) != op.dim1 % max(rank, 1):
        a, b = op.dim0 % rank, op.dim1 % rank
        perm[a], perm[b] = perm[b], perm[a]
    return [ctx.node('Transpose', [x], perm=perm)]


def _embedding(ctx, op, weight, indices):
    return [ctx.node('Gather', [weight, indices], axis=0)]


TRANSLATORS = {
    'reshape': _reshape, 'view': _reshape, 'flatten': _reshape, 'expand': _expand,
    'repeat': _repeat, 'basicindex': _basic_index, 'advancedindexop': _advanced_index,
    'split': _split, 'stack': _stack, 'squeeze': _squeeze, 'unsqueeze': _unsqueeze,
    'cat': _cat, 'permute': _permute, 'transpose': _transpose, 't': _transpose,
    'embeddinglookup': _embedding,
}
# translators that read both traces' shapes, so their recorded sizes may follow dynamic axes
FOLLOWS_SHAPES = {'reshape', 'view', 'flatten', 'expand'}
