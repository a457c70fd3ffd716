"""How each recorded nbgrad op becomes ONNX nodes (opset 17). A translator gets the exporter's
context, the step's op (with the parameters it was built with) and its inputs as names, and
returns ONNX nodes writing the step's output names."""
import math

import numpy as np

UNARY = {'relu': 'Relu', 'tanh': 'Tanh', 'sigmoid': 'Sigmoid', 'neg': 'Neg', 'exp': 'Exp',
         'log': 'Log', 'sqrt': 'Sqrt', 'abs': 'Abs', 'erf': 'Erf', 'clone': 'Identity',
         'floor': 'Floor', 'ceil': 'Ceil', 'reciprocal': 'Reciprocal', 'sin': 'Sin',
         'cos': 'Cos'}
BINARY = {'add': 'Add', 'sub': 'Sub', 'mul': 'Mul', 'div': 'Div', 'pow': 'Pow',
          'mm': 'MatMul', 'matmul': 'MatMul', 'bmm': 'MatMul', 'maximum': 'Max',
          'minimum': 'Min'}


def _pairs_to_pads(pads):
    """nbgrad's ((begin, end) per spatial dim) as ONNX's [begins..., ends...]."""
    return [p[0] for p in pads] + [p[1] for p in pads]


def _linear(ctx, op, x, w, b=None):
    if ctx.rank(x) == 2:
        inputs = [x, w] + ([b] if b is not None else [])
        return [ctx.node('Gemm', inputs, transB=1)]
    wt = ctx.temp()
    nodes = [ctx.node('Transpose', [w], [wt], perm=[1, 0])]
    if b is None:
        return nodes + [ctx.node('MatMul', [x, wt])]
    product = ctx.temp()
    return nodes + [ctx.node('MatMul', [x, wt], [product]), ctx.node('Add', [product, b])]


def _convolution(ctx, op, x, w, b=None):
    if op.role != 'conv':
        raise ctx.unsupported('convolution', 'transposed convolutions are not exported yet')
    inputs = [x, w] + ([b] if b is not None else [])
    return [ctx.node('Conv', inputs, strides=list(op.stride), pads=_pairs_to_pads(op.pads),
                     dilations=list(op.dilation), group=op.groups,
                     kernel_shape=list(ctx.shape(w)[2:]))]


def _norm(ctx, op, x, weight=None, bias=None, running_mean=None, running_var=None):
    channels = op.affine_shape
    if weight is None:
        weight = ctx.constant(np.ones(channels, ctx.dtype(x)))
    if bias is None:
        bias = ctx.constant(np.zeros(channels, ctx.dtype(x)))
    if op.kind == 'batch' and not op.use_input_stats:
        return [ctx.node('BatchNormalization', [x, weight, bias, running_mean, running_var],
                         epsilon=float(op.eps))]
    if op.kind == 'layer':
        return [ctx.node('LayerNormalization', [x, weight, bias], axis=-len(channels),
                         epsilon=float(op.eps))]
    raise ctx.unsupported('affinenorm', f'{op.kind} normalization with batch statistics '
                          f'(export the model in eval() mode)')


def _ceil_mode(geometry):
    for size, k, s, p, d, out in zip(geometry.in_size, geometry.kernel, geometry.stride,
                                     geometry.padding, geometry.dilation, geometry.out_size):
        if (size + 2 * p - d * (k - 1) - 1) // s + 1 != out:
            return 1
    return 0


def _pool_attributes(geometry):
    return dict(kernel_shape=list(geometry.kernel), strides=list(geometry.stride),
                pads=list(geometry.padding) * 2, ceil_mode=_ceil_mode(geometry))


def _max_pool(ctx, op, x):
    # values only: ONNX's indices count over the whole tensor, PyTorch's within each plane
    return [ctx.node('MaxPool', [x], ctx.step_outputs[:1], dilations=list(op.geometry.dilation),
                     **_pool_attributes(op.geometry))]


def _avg_pool(ctx, op, x):
    if op.divisor_override is not None:
        raise ctx.unsupported('avg_pool', 'divisor_override')
    return [ctx.node('AveragePool', [x], count_include_pad=int(op.count_include_pad),
                     **_pool_attributes(op.geometry))]


def _reduce(onnx_op):
    def translate(ctx, op, x):
        rank = ctx.rank(x)
        axes = [d % rank for d in op.dims] if op.dims is not None else list(range(rank))
        if onnx_op == 'ReduceSum':      # (opset 13 made ReduceSum's axes an input)
            return [ctx.node(onnx_op, [x, ctx.constant(np.array(axes, np.int64))],
                             keepdims=int(op.keepdim))]
        return [ctx.node(onnx_op, [x], axes=axes, keepdims=int(op.keepdim))]
    return translate


def _reshape(ctx, op, x):
    return [ctx.node('Reshape', [x, ctx.constant(np.array(ctx.out_shape(), np.int64))])]


def _softmax(ctx, op, x):
    return [ctx.node('LogSoftmax' if op.log else 'Softmax', [x], axis=op.dim)]


def _cat(ctx, op, *xs):
    return [ctx.node('Concat', list(xs), axis=op.dim % ctx.rank(xs[0]))]


def _permute(ctx, op, x):
    return [ctx.node('Transpose', [x], perm=[d % ctx.rank(x) for d in op.dims])]


def _transpose(ctx, op, x):
    rank = ctx.rank(x)
    perm = list(range(rank))
    a, b = op.dim0 % rank, op.dim1 % rank
    perm[a], perm[b] = perm[b], perm[a]
    return [ctx.node('Transpose', [x], perm=perm)]


def _unsqueeze(ctx, op, x):
    axis = op.dim % (ctx.rank(x) + 1)
    return [ctx.node('Unsqueeze', [x, ctx.constant(np.array([axis], np.int64))])]


def _gelu(ctx, op, x):
    """0.5 x (1 + erf(x / sqrt(2))) (opset 20 has Gelu; 17 builds it)."""
    if getattr(op, 'approximate', 'none') not in (None, 'none'):
        raise ctx.unsupported('gelu', "approximate='tanh'")
    dtype = ctx.dtype(x)
    scaled, erf, plus, half = ctx.temp(), ctx.temp(), ctx.temp(), ctx.temp()
    return [ctx.node('Div', [x, ctx.constant(np.array(math.sqrt(2.0), dtype))], [scaled]),
            ctx.node('Erf', [scaled], [erf]),
            ctx.node('Add', [erf, ctx.constant(np.array(1, dtype))], [plus]),
            ctx.node('Mul', [x, plus], [half]),
            ctx.node('Mul', [half, ctx.constant(np.array(0.5, dtype))])]


TRANSLATORS = {
    'linear': _linear, 'convolution': _convolution, 'affinenorm': _norm,
    'max_pool1d': _max_pool, 'max_pool2d': _max_pool, 'max_pool3d': _max_pool,
    'avgpool': _avg_pool, 'mean': _reduce('ReduceMean'), 'sum': _reduce('ReduceSum'),
    'reshape': _reshape, 'view': _reshape, 'flatten': _reshape, 'softmax': _softmax,
    'cat': _cat, 'permute': _permute, 'transpose': _transpose, 't': _transpose,
    'unsqueeze': _unsqueeze, 'gelu': _gelu,
}
TRANSLATORS.update({name: (lambda onnx_op: lambda ctx, op, *xs: [ctx.node(onnx_op, list(xs))])(
    onnx_op) for name, onnx_op in {**UNARY, **BINARY}.items()})
