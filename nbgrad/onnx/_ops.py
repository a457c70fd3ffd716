"""How each recorded nbgrad op becomes ONNX nodes (opsets 13 to 20: where an op's signature
changed between opsets, ctx.opset picks the form). A translator gets the exporter's context, the
step's op (with the parameters it was built with) and its inputs as names, and returns ONNX
nodes writing the step's output names. Elementwise ops, reductions and activations are here;
the larger families have a file each (shape and indexing ops in _shape_ops.py, convolutions,
padding, normalization, rounding division, cumsum, attention's pieces, recurrent layers).
This table is where they all meet."""
import math

import numpy as np

from . import (_attention, _convolution, _cumulative, _division, _normalization, _padding,
               _recurrent, _shape_ops)

UNARY = {'relu': 'Relu', 'tanh': 'Tanh', 'sigmoid': 'Sigmoid', 'neg': 'Neg', 'exp': 'Exp',
         'log': 'Log', 'sqrt': 'Sqrt', 'abs': 'Abs', 'erf': 'Erf', 'clone': 'Identity',
         'floor': 'Floor', 'ceil': 'Ceil', 'reciprocal': 'Reciprocal', 'sin': 'Sin',
         'cos': 'Cos', 'tan': 'Tan', 'sign': 'Sign', 'round': 'Round',
         'logical_not': 'Not'}
# arithmetic: operands are cast to the result's dtype first (PyTorch's type promotion)
ARITHMETIC = {'add': 'Add', 'sub': 'Sub', 'mul': 'Mul', 'div': 'Div', 'mm': 'MatMul',
              'matmul': 'MatMul', 'bmm': 'MatMul', 'maximum': 'Max', 'minimum': 'Min'}
# comparisons and logic: operands are cast to their common dtype
COMPARISONS = {'gt': 'Greater', 'lt': 'Less', 'ge': 'GreaterOrEqual', 'le': 'LessOrEqual',
               'eq': 'Equal', 'bitwise_and': 'And', 'bitwise_or': 'Or', 'bitwise_xor': 'Xor',
               'logical_and': 'And', 'logical_or': 'Or', 'logical_xor': 'Xor'}


def _arithmetic(onnx_op):
    def translate(ctx, op, *xs):
        nodes = []
        dtype = ctx.out_dtype()
        xs = [ctx.cast(x, dtype, nodes) for x in xs]
        return nodes + [ctx.node(onnx_op, xs)]
    return translate


def _comparison(onnx_op, negate=False):
    def translate(ctx, op, a, b):
        nodes = []
        dtype = np.result_type(ctx.dtype(a), ctx.dtype(b))
        a, b = ctx.cast(a, dtype, nodes), ctx.cast(b, dtype, nodes)
        if not negate:
            return nodes + [ctx.node(onnx_op, [a, b])]
        same = ctx.temp()
        return nodes + [ctx.node(onnx_op, [a, b], [same]), ctx.node('Not', [same])]
    return translate


def _pow(ctx, op, base, exponent=None):
    """x ** number (the exponent in the op), number ** x and x ** y."""
    nodes = []
    if exponent is None:
        exponent = ctx.constant(np.array(op.exponent, ctx.out_dtype()))
    return nodes + [ctx.node('Pow', [ctx.cast(base, ctx.out_dtype(), nodes),
                                     ctx.cast(exponent, ctx.out_dtype(), nodes)])]


def _square(ctx, op, x):
    return [ctx.node('Mul', [x, x])]


def _rsqrt(ctx, op, x):
    root = ctx.temp()
    return [ctx.node('Sqrt', [x], [root]), ctx.node('Reciprocal', [root])]


def _to_copy(ctx, op, x):
    from ._proto import element_type
    return [ctx.node('Cast', [x], to=element_type(ctx.out_dtype()))]


def _clamp(ctx, op, x, low=None, high=None):
    """Clip when the bounds are numbers; Max/Min when they are tensors (Clip takes scalars)."""
    bounds = [b for b in (low, high) if b is not None]
    if all(ctx.rank(b) == 0 for b in bounds):
        nodes = []
        low, high = [ctx.cast(b, ctx.dtype(x), nodes) if b is not None else ''
                     for b in (low, high)]        # ('': an omitted optional input)
        return nodes + [ctx.node('Clip', [x, low, high] if high else [x, low])]
    nodes, current = [], x
    for bound, kind in ((low, 'Max'), (high, 'Min')):
        if bound is None:
            continue
        last = bound is high or high is None
        target = None if last else [ctx.temp()]
        nodes.append(ctx.node(kind, [current, ctx.cast(bound, ctx.out_dtype(), nodes)], target))
        current = target[0] if target else None
    return nodes


def _where(ctx, op, condition, a, b):
    nodes = []
    a, b = ctx.cast(a, ctx.out_dtype(), nodes), ctx.cast(b, ctx.out_dtype(), nodes)
    return nodes + [ctx.node('Where', [condition, a, b])]


def _masked_fill(ctx, op, x, mask, value):
    nodes = []
    value = ctx.cast(value, ctx.dtype(x), nodes)
    return nodes + [ctx.node('Where', [mask, value, x])]


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


def _axes(ctx, x, dims):
    rank = ctx.rank(x)
    if dims is None:
        return list(range(rank))
    dims = [dims] if isinstance(dims, int) else dims
    return [d % rank for d in dims]


def _reduce(onnx_op):
    def translate(ctx, op, x):
        nodes = []
        if getattr(op, 'dtype', None) is not None or ctx.dtype(x) != ctx.out_dtype():
            x = ctx.cast(x, ctx.out_dtype(), nodes)     # (sum(dtype=...), sum of bools)
        dims = getattr(op, 'dims', getattr(op, 'dim', None))
        return nodes + [ctx.reduce(onnx_op, x, _axes(ctx, x, dims), op.keepdim)]
    return translate


def _max_min(ctx, op, x):
    """max(x) / amax(x, dims) (values), max(x, dim) (values and indices)."""
    kind = 'Max' if op.is_max else 'Min'
    if not hasattr(op, 'dim'):
        return [ctx.reduce(f'Reduce{kind}', x, _axes(ctx, x, op.dims), op.keepdim,
                           ctx.step_outputs[:1])]
    axis = op.dim % max(ctx.rank(x), 1)
    return [ctx.reduce(f'Reduce{kind}', x, [axis], op.keepdim, ctx.step_outputs[:1]),
            ctx.node(f'Arg{kind}', [x], ctx.step_outputs[1:], axis=axis,
                     keepdims=int(op.keepdim))]


def _argmax_min(ctx, op, x):
    kind = 'ArgMax' if op.is_max else 'ArgMin'
    if op.dim is None:
        flat = ctx.temp()
        return [ctx.node('Reshape', [x, ctx.int64s([-1])], [flat]),
                ctx.node(kind, [flat], axis=0, keepdims=0)]
    return [ctx.node(kind, [x], axis=op.dim % ctx.rank(x), keepdims=int(op.keepdim))]


def _var_std(ctx, op, x):
    """sum((x - mean)^2) / (N - correction), N from the example's static sizes."""
    axes = _axes(ctx, x, op.dims)
    if set(axes) & set(ctx.dynamic_dims(x)) and op.correction:
        raise ctx.unsupported('var/std', 'a correction over a dim that follows a dynamic axis')
    count = int(np.prod([ctx.shape(x)[d] for d in axes]))
    dtype = ctx.dtype(x)
    mean, centered, squared, total = (ctx.temp() for _ in range(4))
    nodes = [ctx.reduce('ReduceMean', x, axes, True, [mean]),
             ctx.node('Sub', [x, mean], [centered]),
             ctx.node('Mul', [centered, centered], [squared])]
    if not op.correction:
        return nodes + [ctx.reduce('ReduceMean', squared, axes, op.keepdim,
                                   None if not op.is_std else [total])] + (
            [ctx.node('Sqrt', [total])] if op.is_std else [])
    var = ctx.temp()
    divisor = ctx.constant(np.array(max(count - op.correction, 0), dtype))
    nodes += [ctx.reduce('ReduceSum', squared, axes, op.keepdim, [total]),
              ctx.node('Div', [total, divisor], None if not op.is_std else [var])]
    return nodes + ([ctx.node('Sqrt', [var])] if op.is_std else [])


def _softmax(ctx, op, x):
    return [ctx.node('LogSoftmax' if op.log else 'Softmax', [x], axis=op.dim)]


def _gelu(ctx, op, x):
    """Gelu from opset 20; before, 0.5 x (1 + erf(x / sqrt 2)) or, with approximate='tanh',
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    approximate = op.params[0] if getattr(op, 'params', ()) else 'none'
    if ctx.opset >= 20:
        return [ctx.node('Gelu', [x], approximate=approximate)]
    dtype = ctx.dtype(x)
    inner, plus, half = ctx.temp(), ctx.temp(), ctx.temp()
    if approximate == 'tanh':
        cube, cubed, scaled_cube, total = ctx.temp(), ctx.temp(), ctx.temp(), ctx.temp()
        nodes = [ctx.node('Mul', [x, x], [cube]), ctx.node('Mul', [cube, x], [cubed]),
                 ctx.node('Mul', [cubed, ctx.constant(np.array(0.044715, dtype))],
                          [scaled_cube]),
                 ctx.node('Add', [x, scaled_cube], [total]),
                 ctx.node('Mul', [total, ctx.constant(np.array(math.sqrt(2 / math.pi),
                                                               dtype))], [inner + 's']),
                 ctx.node('Tanh', [inner + 's'], [inner])]
    else:
        nodes = [ctx.node('Div', [x, ctx.constant(np.array(math.sqrt(2.0), dtype))],
                          [inner + 's']),
                 ctx.node('Erf', [inner + 's'], [inner])]
    return nodes + [ctx.node('Add', [inner, ctx.constant(np.array(1, dtype))], [plus]),
                    ctx.node('Mul', [x, plus], [half]),
                    ctx.node('Mul', [half, ctx.constant(np.array(0.5, dtype))])]


def _activation(ctx, op, x):
    """nn.functional's parameterised activations (op.params: the Python arguments)."""
    name, params, dtype = op.op_name, tuple(op.params), ctx.dtype(x)
    if name == 'hardtanh':
        low, high = (ctx.constant(np.array(p, dtype)) for p in params)
        return [ctx.node('Clip', [x, low, high])]
    if name == 'leaky_relu':
        return [ctx.node('LeakyRelu', [x], alpha=float(params[0]))]
    if name == 'elu' and tuple(params[1:]) == (1.0, 1.0):
        return [ctx.node('Elu', [x], alpha=float(params[0]))]
    if name == 'silu':
        gate = ctx.temp()
        return [ctx.node('Sigmoid', [x], [gate]), ctx.node('Mul', [x, gate])]
    if name == 'softplus':       # log(1 + exp(beta x)) / beta (torch's exporter ignores the
        beta = float(params[0])  # threshold too)
        if beta == 1:
            return [ctx.node('Softplus', [x])]
        scaled, soft = ctx.temp(), ctx.temp()
        b = ctx.constant(np.array(beta, dtype))
        return [ctx.node('Mul', [x, b], [scaled]), ctx.node('Softplus', [scaled], [soft]),
                ctx.node('Div', [soft, b])]
    if name == 'gelu':
        return _gelu(ctx, op, x)
    if name in UNARY:
        return [ctx.node(UNARY[name], [x])]
    raise ctx.unsupported(name, f'the parameters {params}')


TRANSLATORS = {
    'linear': _linear, 'convolution': _convolution.convolution,
    'constantpadnd': _padding.constant_pad, 'borderpad': _padding.border_pad,
    'max_pool1d': _max_pool, 'max_pool2d': _max_pool, 'max_pool3d': _max_pool,
    'avgpool': _avg_pool, 'mean': _reduce('ReduceMean'), 'sum': _reduce('ReduceSum'),
    'prod': _reduce('ReduceProd'), 'max': _max_min, 'min': _max_min, 'amax': _max_min,
    'amin': _max_min, 'argmaxmin': _argmax_min, 'varstd': _var_std,
    'softmax': _softmax, 'gelu': _gelu, 'hardtanh': _activation, 'leaky_relu': _activation,
    'elu': _activation, 'silu': _activation, 'softplus': _activation,
    'pow': _pow, 'square': _square, 'rsqrt': _rsqrt, 'tocopy': _to_copy, 'clamp': _clamp,
    'where': _where, 'maskedfill': _masked_fill, 'ne': _comparison('Equal', negate=True),
    **_shape_ops.TRANSLATORS, **_normalization.TRANSLATORS, **_division.TRANSLATORS,
    **_cumulative.TRANSLATORS, **_attention.TRANSLATORS, **_recurrent.TRANSLATORS,
}
TRANSLATORS.update({name: (lambda onnx_op: lambda ctx, op, *xs: [ctx.node(onnx_op, list(xs))])(
    onnx_op) for name, onnx_op in UNARY.items()})
TRANSLATORS.update({name: _arithmetic(onnx_op) for name, onnx_op in ARITHMETIC.items()})
TRANSLATORS.update({name: _comparison(onnx_op) for name, onnx_op in COMPARISONS.items()})
# (convolution and borderpad check themselves which of their fields may follow dynamic axes)
FOLLOWS_SHAPES = _shape_ops.FOLLOWS_SHAPES | {'affinenorm', 'convolution', 'borderpad'} | \
    _recurrent.FOLLOWS_SHAPES
