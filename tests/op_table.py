"""The op table (PyTorch's OpInfo idea): one row per op, driving the generic tests in test_ops.py.

A row says how to call the op (the same lambda runs on torch and on nbgrad: `lib` is the module),
how to make inputs (the domain of valid values, the arity), which dtypes to try, and whether it is
differentiable. Adding an op to nbgrad means adding a row here.
"""
import dataclasses
import typing

import numpy as np


@dataclasses.dataclass
class OpInfo:
    name: str
    fn: typing.Callable                   # fn(lib, *tensors) -> tensor (or tuple)
    arity: int = 1
    domain: tuple = (-2.0, 2.0)           # range of sample values
    dtypes: tuple = ('float32', 'float64')
    differentiable: bool = True
    inplace: typing.Optional[typing.Callable] = None   # fn(lib, *tensors) doing it in place on arg 0
    shapes: str = 'elementwise'           # which family of sample shapes (see SHAPES)
    rtol: float = 1e-5
    atol: float = 1e-6
    integer_inputs: bool = True           # also try int64 inputs (forward only)
    nondifferentiable_points: typing.Optional[typing.Callable] = None  # mask of points to avoid


# Sample shapes per family; each entry is a tuple of shapes, one per input.
SHAPES = {
    'elementwise': {1: [(), (0,), (5,), (3, 4), (2, 3, 4)],
                    2: [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (3, 4)),
                        ((2, 3, 4), (3, 1)), ((0, 3), (3,)), ((5,), ())],
                    3: [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()), ((2, 3), (2, 1), (3,))]},
    'reduction': {1: [(5,), (3, 4), (2, 3, 4)]},
    'matrix': {2: [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                   ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2))]},
}


def _u(name, domain=(-2.0, 2.0), **kw):
    return OpInfo(name, lambda lib, x, _n=name: getattr(lib, _n)(x),
                  inplace=lambda lib, x, _n=name: getattr(x, _n + '_')(), domain=domain, **kw)


def _b(name, domain=(-2.0, 2.0), **kw):
    kw.setdefault('inplace', lambda lib, a, b, _n=name: getattr(a, _n + '_')(b))
    return OpInfo(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b), arity=2,
                  domain=domain, **kw)


def _away_from(points, eps=1e-2):
    def mask(*arrays):
        return np.any([np.isclose(a, p, atol=eps) for a in arrays[:1] for p in points], axis=0)
    return mask


OPS = [
    # -- unary elementwise --------------------------------------------------------------------
    _u('neg'), _u('abs', nondifferentiable_points=_away_from([0.0])),
    _u('exp'), _u('exp2'), _u('expm1'),
    _u('log', domain=(0.1, 3.0)), _u('log2', domain=(0.1, 3.0)), _u('log10', domain=(0.1, 3.0)),
    _u('log1p', domain=(-0.9, 2.0)),
    _u('sqrt', domain=(0.1, 3.0)), _u('rsqrt', domain=(0.1, 3.0)),
    _u('sin'), _u('cos'), _u('tan', domain=(-1.2, 1.2)),
    _u('asin', domain=(-0.9, 0.9)), _u('acos', domain=(-0.9, 0.9)), _u('atan'),
    _u('sinh'), _u('cosh'), _u('tanh'),
    _u('asinh'), _u('acosh', domain=(1.2, 3.0)), _u('atanh', domain=(-0.9, 0.9)),
    _u('sigmoid'), _u('logit', domain=(0.1, 0.9)),
    _u('erf'), _u('erfc'), _u('erfinv', domain=(-0.9, 0.9)),
    _u('lgamma', domain=(0.2, 4.0)), _u('digamma', domain=(0.2, 4.0)),
    _u('reciprocal', domain=(0.2, 3.0)), _u('square'),
    _u('relu', nondifferentiable_points=_away_from([0.0])),
    _u('sign', nondifferentiable_points=_away_from([0.0])), _u('sgn', nondifferentiable_points=_away_from([0.0])),
    _u('floor', nondifferentiable_points=_away_from(np.arange(-3, 4))),
    _u('ceil', nondifferentiable_points=_away_from(np.arange(-3, 4))),
    _u('trunc', nondifferentiable_points=_away_from(np.arange(-3, 4))),
    _u('round', nondifferentiable_points=_away_from(np.arange(-3, 4) + 0.5)),
    _u('frac', nondifferentiable_points=_away_from(np.arange(-3, 4))),
    _u('sinc'),
    OpInfo('isnan', lambda lib, x: lib.isnan(x), differentiable=False),
    OpInfo('isfinite', lambda lib, x: lib.isfinite(x), differentiable=False),
    OpInfo('logical_not', lambda lib, x: lib.logical_not(x), differentiable=False),
    OpInfo('softmax', lambda lib, x: lib.softmax(x, -1), shapes='reduction'),
    OpInfo('log_softmax', lambda lib, x: lib.log_softmax(x, -1), shapes='reduction'),
    OpInfo('clamp', lambda lib, x: lib.clamp(x, -0.5, 0.7),
           inplace=lambda lib, x: x.clamp_(-0.5, 0.7),
           nondifferentiable_points=_away_from([-0.5, 0.7])),
    OpInfo('clamp_min', lambda lib, x: lib.clamp(x, min=0.3),
           nondifferentiable_points=_away_from([0.3])),
    OpInfo('pow_scalar', lambda lib, x: x ** 3, inplace=lambda lib, x: x.pow_(3)),
    OpInfo('pow_frac', lambda lib, x: x ** 0.5, domain=(0.2, 3.0), integer_inputs=False),
    OpInfo('rpow', lambda lib, x: 2 ** x),
    OpInfo('mul_scalar', lambda lib, x: x * 2.5, inplace=lambda lib, x: x.mul_(2.5)),
    OpInfo('add_scalar', lambda lib, x: x + 1, inplace=lambda lib, x: x.add_(1)),
    OpInfo('rsub_scalar', lambda lib, x: 1 - x),
    OpInfo('rdiv_scalar', lambda lib, x: 1 / x, domain=(0.3, 3.0)),
    OpInfo('nan_to_num', lambda lib, x: lib.nan_to_num(x)),
    # -- binary elementwise ---------------------------------------------------------------------
    _b('add'), _b('sub'), _b('mul'), _b('div', domain=(0.3, 3.0)),
    OpInfo('add_alpha', lambda lib, a, b: lib.add(a, b, alpha=2), arity=2,
           inplace=lambda lib, a, b: a.add_(b, alpha=2)),
    OpInfo('sub_alpha', lambda lib, a, b: lib.sub(a, b, alpha=3), arity=2),
    OpInfo('pow', lambda lib, a, b: lib.pow(a, b), arity=2, domain=(0.3, 2.0),
           inplace=lambda lib, a, b: a.pow_(b), integer_inputs=False),
    _b('atan2'), _b('hypot', domain=(0.3, 2.0)),
    # (PyTorch has no in-place maximum_/minimum_/fmax_/fmin_/logaddexp_)
    _b('maximum', inplace=None), _b('minimum', inplace=None), _b('fmax', inplace=None),
    _b('fmin', inplace=None),
    _b('remainder', domain=(0.3, 3.0), nondifferentiable_points=_away_from([])),
    _b('fmod', domain=(0.3, 3.0)),
    _b('logaddexp', inplace=None), _b('xlogy', domain=(0.2, 2.0)),
    _b('copysign', nondifferentiable_points=_away_from([0.0])),
    OpInfo('floor_divide', lambda lib, a, b: lib.floor_divide(a, b), arity=2, domain=(0.3, 3.0),
           differentiable=False),
    OpInfo('div_trunc', lambda lib, a, b: lib.div(a, b, rounding_mode='trunc'), arity=2,
           domain=(0.3, 3.0), differentiable=False),
    OpInfo('div_floor', lambda lib, a, b: lib.div(a, b, rounding_mode='floor'), arity=2,
           domain=(0.3, 3.0), differentiable=False),
] + [OpInfo(n, lambda lib, a, b, _n=n: getattr(lib, _n)(a, b), arity=2, differentiable=False)
     for n in ('eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor')] + [
    # -- ternary --------------------------------------------------------------------------------
    OpInfo('where', lambda lib, a, b, c: lib.where(a > 0, b, c), arity=3),
    OpInfo('lerp', lambda lib, a, b, c: lib.lerp(a, b, c), arity=3, integer_inputs=False),
    OpInfo('lerp_scalar', lambda lib, a, b: lib.lerp(a, b, 0.3), arity=2, integer_inputs=False),
    OpInfo('addcmul', lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), arity=3),
    OpInfo('addcdiv', lambda lib, a, b, c: lib.addcdiv(a, b, c, value=0.5), arity=3,
           domain=(0.3, 2.0)),
    # (broadcast bounds that widen the input make PyTorch's own backward fail; keep shapes equal)
    OpInfo('clamp_tensor', lambda lib, a, b, c: lib.clamp(a, b - 1, c + 1), arity=3,
           shapes='same'),
    # -- reductions -----------------------------------------------------------------------------
    OpInfo('sum', lambda lib, x: x.sum(), shapes='reduction'),
    OpInfo('sum_dim', lambda lib, x: x.sum(-1), shapes='reduction'),
    OpInfo('sum_dims_keep', lambda lib, x: x.sum((0, -1), keepdim=True), shapes='reduction_nd'),
    OpInfo('mean', lambda lib, x: x.mean(), shapes='reduction', integer_inputs=False),
    OpInfo('mean_dim', lambda lib, x: x.mean(0, keepdim=True), shapes='reduction',
           integer_inputs=False),
    OpInfo('prod', lambda lib, x: x.prod(), shapes='reduction', domain=(0.5, 1.5)),
    OpInfo('prod_dim', lambda lib, x: x.prod(-1), shapes='reduction', domain=(-1.5, 1.5)),
    OpInfo('amax', lambda lib, x: x.amax(-1), shapes='reduction'),
    OpInfo('amin', lambda lib, x: x.amin(0), shapes='reduction'),
    OpInfo('max', lambda lib, x: x.max(), shapes='reduction'),
    OpInfo('max_dim', lambda lib, x: x.max(-1)[0], shapes='reduction'),
    OpInfo('min_dim_keep', lambda lib, x: x.min(0, keepdim=True)[0], shapes='reduction'),
    OpInfo('argmax', lambda lib, x: x.argmax(-1), shapes='reduction', differentiable=False),
    OpInfo('argmin', lambda lib, x: x.argmin(), shapes='reduction', differentiable=False),
    OpInfo('var', lambda lib, x: x.var(), shapes='reduction', integer_inputs=False),
    OpInfo('var_dim', lambda lib, x: x.var(-1, correction=0), shapes='reduction',
           integer_inputs=False),
    OpInfo('std', lambda lib, x: x.std(), shapes='reduction', integer_inputs=False),
    OpInfo('std_dim', lambda lib, x: x.std(0, keepdim=True), shapes='reduction',
           integer_inputs=False),
    OpInfo('logsumexp', lambda lib, x: x.logsumexp(-1), shapes='reduction'),
    OpInfo('cumsum', lambda lib, x: x.cumsum(-1), shapes='reduction'),
    OpInfo('cumprod', lambda lib, x: x.cumprod(0), shapes='reduction'),
    OpInfo('all', lambda lib, x: (x > 0).all(-1), shapes='reduction', differentiable=False),
    OpInfo('any', lambda lib, x: (x > 0).any(), shapes='reduction', differentiable=False),
    OpInfo('norm', lambda lib, x: x.norm(), shapes='reduction', integer_inputs=False),
    OpInfo('norm_p1', lambda lib, x: x.norm(p=1, dim=-1), shapes='reduction',
           integer_inputs=False, nondifferentiable_points=_away_from([0.0])),
    # -- matrix products --------------------------------------------------------------------------
    OpInfo('matmul', lambda lib, a, b: a @ b, arity=2, shapes='matrix'),
    OpInfo('einsum', lambda lib, a, b: lib.einsum('...ij,...jk->...ik', a, b), arity=2,
           shapes='matrix_2d', integer_inputs=False),
]


def _s(name, fn, shapes, **kw):
    """A shape/indexing op with its own sample shapes (registered as a one-op shape family)."""
    arity = len(shapes[0])
    SHAPES['_' + name] = {arity: shapes if arity > 1 else [s[0] for s in shapes]}
    return OpInfo(name, fn, arity=arity, shapes='_' + name, **kw)


_IDX = [2, 0, 1]
OPS += [
    _s('cat', lambda lib, a, b: lib.cat([a, b], 1), [((2, 3), (2, 4)), ((0, 3), (0, 2))]),
    _s('stack', lambda lib, a, b: lib.stack([a, b], -1), [((2, 3), (2, 3))]),
    _s('flip', lambda lib, x: x.flip(0, -1) if x.dim() > 1 else x.flip(0), [((2, 3),), ((4,),)]),
    _s('roll', lambda lib, x: x.roll((1, -1), (0, 1)), [((3, 4),)]),
    _s('repeat', lambda lib, x: x.repeat(2, 1, 3), [((2, 3),), ((3,),)]),
    _s('tile', lambda lib, x: x.tile((2,)), [((2, 3),)]),
    _s('repeat_interleave', lambda lib, x: x.repeat_interleave(2, dim=0), [((3, 2),)]),
    _s('tril', lambda lib, x: x.tril(-1), [((4, 4),), ((2, 3, 5),)], inplace=lambda lib, x: x.tril_(-1)),
    _s('triu', lambda lib, x: x.triu(1), [((4, 4),), ((3, 5),)], inplace=lambda lib, x: x.triu_(1)),
    _s('diag_matrix', lambda lib, x: lib.diag(x, 1), [((4, 4),)]),
    _s('diag_vector', lambda lib, x: lib.diag(x, -1), [((3,),)]),
    _s('diagonal', lambda lib, x: x.diagonal(0, -2, -1), [((3, 4),), ((2, 3, 3),)]),
    _s('diag_embed', lambda lib, x: lib.diag_embed(x), [((2, 3),)]),
    _s('transpose', lambda lib, x: x.transpose(0, -1), [((2, 3, 4),)]),
    _s('permute', lambda lib, x: x.permute(2, 0, 1), [((2, 3, 4),)]),
    _s('mT', lambda lib, x: x.mT, [((2, 3, 4),)]),
    _s('expand', lambda lib, x: x.expand(2, 3, 4), [((3, 1),), ((4,),)]),
    _s('view', lambda lib, x: x.view(4, -1), [((2, 6),)]),
    _s('reshape_noncontig', lambda lib, x: x.t().reshape(-1), [((3, 4),)]),
    _s('squeeze', lambda lib, x: x.squeeze(1), [((3, 1, 2),)]),
    _s('unsqueeze', lambda lib, x: x.unsqueeze(-1), [((3, 2),)]),
    _s('flatten', lambda lib, x: x.flatten(1), [((2, 3, 4),)]),
    _s('unflatten', lambda lib, x: x.unflatten(1, (2, 3)), [((4, 6),)]),
    _s('movedim', lambda lib, x: x.movedim(0, -1), [((2, 3, 4),)]),
    _s('narrow', lambda lib, x: x.narrow(1, 1, 2), [((3, 4),)]),
    _s('select', lambda lib, x: x.select(0, 1), [((3, 4),)]),
    _s('slice_step', lambda lib, x: x[::2, 1:], [((5, 4),)]),
    _s('index_basic_mixed', lambda lib, x: x[1, ..., None, :2], [((3, 4, 5),)]),
    _s('index_list', lambda lib, x: x[[2, 0, 2]], [((3, 4),)]),
    _s('index_tensor_2d', lambda lib, x: x[lib.tensor([[0, 1], [1, 1]], device=x.device), 1:], [((3, 4),)]),
    _s('index_mask', lambda lib, x: x[x > 0], [((3, 4),)]),
    _s('as_strided', lambda lib, x: x.as_strided((2, 2), (1, 2), 1), [((6,),)]),
    _s('unfold', lambda lib, x: x.unfold(1, 2, 1), [((2, 5),)]),
    _s('split', lambda lib, x: x.split(2, dim=1)[1], [((3, 5),)]),
    _s('chunk', lambda lib, x: x.chunk(3, 0)[-1], [((5, 2),)]),
    _s('unbind', lambda lib, x: x.unbind(1)[0] * 2 + x.unbind(1)[2], [((3, 4),)]),
    _s('gather', lambda lib, x: x.gather(1, lib.tensor([[0, 2], [1, 1], [3, 0]], device=x.device)), [((3, 4),)]),
    _s('index_select', lambda lib, x: x.index_select(0, lib.tensor(_IDX, device=x.device)), [((3, 4),)]),
    _s('take_along_dim', lambda lib, x: lib.take_along_dim(x, lib.tensor([[0], [2], [1]], device=x.device), 1),
       [((3, 4),)]),
    _s('masked_fill', lambda lib, x: x.masked_fill(x > 0.5, -1.0), [((3, 4),)]),
    _s('masked_select', lambda lib, x: x.masked_select(x > 0), [((3, 4),)]),
    _s('scatter', lambda lib, x, s: x.scatter(0, lib.tensor([[1, 0, 2, 0]], device=x.device), s),
       [((3, 4), (1, 4))]),
    _s('scatter_add', lambda lib, x, s: x.scatter_add(1, lib.tensor([[0, 0], [1, 3], [2, 2]], device=x.device), s),
       [((3, 4), (3, 2))]),
    _s('index_add', lambda lib, x, s: x.index_add(0, lib.tensor([0, 2, 0], device=x.device), s, alpha=2),
       [((3, 4), (3, 4))]),
    _s('index_put_accumulate', lambda lib, x, v: x.index_put((lib.tensor([0, 2, 0], device=x.device),), v,
                                                             accumulate=True),
       [((3, 4), (3, 4))]),
    _s('getitem_setitem', lambda lib, x, v: _setitem(x, v), [((3, 4), (2, 4))]),
    _s('clone', lambda lib, x: x.clone(), [((3, 4),)]),
    _s('to_double', lambda lib, x: x.to(lib.float64) * 2, [((3,),)]),
    _s('tensordot', lambda lib, a, b: lib.tensordot(a, b, dims=([1, 2], [0, 1])),
       [((2, 3, 4), (3, 4, 5))]),
    _s('outer', lambda lib, a, b: lib.outer(a, b), [((3,), (4,))]),
    _s('kron', lambda lib, a, b: lib.kron(a, b), [((2, 3), (2, 2))]),
    _s('einsum_trace', lambda lib, x: lib.einsum('ii->', x), [((3, 3),)]),
    _s('einsum_diag_outer', lambda lib, a, b: lib.einsum('ii,j->ij', a, b), [((3, 3), (2,))]),
    _s('einsum_batch', lambda lib, a, b: lib.einsum('bij,bjk->bik', a, b),
       [((2, 3, 4), (2, 4, 5))]),
    _s('einsum_sublists', lambda lib, a, b: lib.einsum(a, [0, 30, 1], b, [0, 1, 40], [40, 0]),
       [((2, 3, 4), (2, 4, 5))]),
    _s('einsum_sublists_ellipsis', lambda lib, x: lib.einsum(x, [Ellipsis, 2], [Ellipsis]),
       [((2, 3, 4),)]),
]


def _setitem(x, v):
    y = x * 1
    y[1:] = v
    return y


OPS_BY_NAME = {op.name: op for op in OPS}
SHAPES['matrix_2d'] = {2: [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5))]}
SHAPES['reduction_nd'] = {1: [(3, 4), (2, 3, 4)]}
SHAPES['same'] = {3: [((3, 4), (3, 4), (3, 4)), ((5,), (5,), (5,))]}
