"""Convolutions as ONNX Conv and ConvTranspose.

nbgrad records conv*d and conv_transpose*d as one op, Convolution, in the role 'conv' or
'transpose' (its third role, 'weight', is only ever a gradient). Both store padding as
(begin, end) pairs per spatial dim; a transposed convolution also stores its output's spatial
size, from which ONNX's output_padding is recovered. torch's weight layouts are ONNX's:
(out, in / groups, k...) for Conv and (in, out / groups, k...) for ConvTranspose."""


def pairs_to_pads(pads):
    """nbgrad's ((begin, end) per spatial dim) as ONNX's [begins..., ends...]."""
    return [p[0] for p in pads] + [p[1] for p in pads]


def _output_padding(op, in_shape, kernel):
    """What the output size adds to ConvTranspose's (in - 1) s - pads + d (k - 1) + 1."""
    extra = []
    for n, s, (lo, hi), d, k, size in zip(in_shape[2:], op.stride, op.pads, op.dilation,
                                          kernel, op.size):
        extra.append(size - ((n - 1) * s - lo - hi + d * (k - 1) + 1))
    return extra


def convolution(ctx, op, x, w, b=None):
    if op.role not in ('conv', 'transpose'):
        raise ctx.unsupported('convolution', f"the role '{op.role}' (a convolution's gradient "
                              f'with respect to its weight)')
    ctx.same_in_both_traces('convolution', ('role', 'stride', 'pads', 'dilation', 'groups') +
                            (('size',) if op.role == 'conv' else ()))
    inputs = [x, w] + ([b] if b is not None else [])
    attributes = dict(strides=list(op.stride), pads=pairs_to_pads(op.pads),
                      dilations=list(op.dilation), group=op.groups,
                      kernel_shape=list(ctx.shape(w)[2:]))
    if op.role == 'conv':
        return [ctx.node('Conv', inputs, **attributes)]
    kernel = ctx.shape(w)[2:]
    extra = _output_padding(op, ctx.shape(x), kernel)
    if extra != _output_padding(ctx.step_other_op, ctx.other_shape(x), kernel):
        raise ctx.unsupported('conv_transpose', 'an output size that does not follow the '
                              'dynamic axes as ConvTranspose computes it (give output_size '
                              'only without dynamic_axes)')
    return [ctx.node('ConvTranspose', inputs, output_padding=extra, **attributes)]
