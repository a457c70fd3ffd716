"""The pieces of attention beyond matmuls and reshapes: the "safe" softmax of
scaled_dot_product_attention (and so of MultiheadAttention and the Transformer layers), where a
row of scores that are all -inf (a query whose every key is masked) gives zeros, not NaN, which
ONNX has no single op for:

  top = max(x); dead = top == -inf; e = exp(x - (dead ? 0 : top)); e / (dead ? 1 : sum(e))

and triu / tril (causal masks) as Trilu. A causal mask built from constants (is_causal=True) is
folded into an initializer by the exporter before it gets here; Trilu (opset 14) is for one
computed from the inputs."""
import numpy as np


def safe_softmax(ctx, op, x):
    dtype = ctx.dtype(x)
    axes = [op.dim % ctx.rank(x)]
    top, dead, shift, shifted, e, total, divisor = (ctx.temp() for _ in range(7))
    return [ctx.reduce('ReduceMax', x, axes, True, [top]),
            ctx.node('Equal', [top, ctx.constant(np.array(-np.inf, dtype))], [dead]),
            ctx.node('Where', [dead, ctx.constant(np.array(0, dtype)), top], [shift]),
            ctx.node('Sub', [x, shift], [shifted]),
            ctx.node('Exp', [shifted], [e]),
            ctx.reduce('ReduceSum', e, axes, True, [total]),
            ctx.node('Where', [dead, ctx.constant(np.array(1, dtype)), total], [divisor]),
            ctx.node('Div', [e, divisor])]


def triangle(ctx, op, x):
    if ctx.opset < 14:
        raise ctx.unsupported('triu/tril', f'opset {ctx.opset} on a tensor computed from the '
                              f'inputs (Trilu needs opset 14 or later)')
    k = ctx.constant(np.array(op.diagonal, np.int64))
    return [ctx.node('Trilu', [x, k], upper=int(op.upper))]


TRANSLATORS = {'_safesoftmax': safe_softmax, 'triangle': triangle}
