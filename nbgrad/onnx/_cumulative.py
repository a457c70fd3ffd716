"""torch.cumsum as ONNX CumSum (its axis an input, a 0-d int64). PyTorch accumulates integers
and bools in int64, and casts first when given dtype=: the input is cast to the result's dtype."""
import numpy as np


def cumsum(ctx, op, x):
    nodes = []
    x = ctx.cast(x, ctx.out_dtype(), nodes)
    if ctx.rank(x) == 0:
        return nodes + [ctx.node('Identity', [x])]
    axis = ctx.constant(np.array(op.dim % ctx.rank(x), np.int64))
    return nodes + [ctx.node('CumSum', [x, axis])]


TRANSLATORS = {'cumsum': cumsum}
