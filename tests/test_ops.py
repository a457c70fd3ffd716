"""Generic op tests driven by the op table: forward vs PyTorch (values and dtype), backward vs
PyTorch, float64 gradcheck, in-place = out-of-place, and hypothesis-drawn broadcast shapes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import nbgrad
from op_table import OPS, SHAPES
from torch_compare import both, dname

torch = pytest.importorskip('torch')


def _sample(shape, low, high, dtype, rng):
    return rng.uniform(low, high, size=shape).astype(dtype)


def _cases(op):
    family = SHAPES[op.shapes][op.arity] if op.arity in SHAPES[op.shapes] else []
    for shapes in family:
        yield shapes if op.arity > 1 else (shapes,)


def _inputs(op, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [_sample(s, *op.domain, dtype, rng) for s in shapes]
    if op.nondifferentiable_points is not None:
        for a in arrays[:1]:
            bad = op.nondifferentiable_points(a)
            a[bad] = a[bad] + 0.137  # nudge samples away from kinks
    return arrays


def _to(lib, arrays, requires_grad=False, device='cpu'):
    out = []
    for a in arrays:
        t = lib.tensor(a, device=device if lib is nbgrad else 'cpu')
        if requires_grad and t.is_floating_point():
            t.requires_grad_()
        out.append(t)
    return out


def _np(t):
    # force=True: PyTorch may return a "ZeroTensor" gradient, which refuses a plain numpy()
    return t.detach().cpu().numpy(force=True) if hasattr(t, 'detach') else np.asarray(t)


def _first(result):
    return result[0] if isinstance(result, tuple) else result


def _params():
    for op in OPS:
        for shapes in _cases(op):
            yield pytest.param(op, shapes, id=f'{op.name}-{shapes}')


PARAMS = list(_params())


@pytest.mark.parametrize('op,shapes', PARAMS)
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64'])
def test_forward_matches_torch(op, shapes, dtype, device):
    if dtype == 'int64' and not op.integer_inputs:
        pytest.skip('op is float-only in this table')
    arrays = _inputs(op, shapes, 'float64')
    if dtype == 'int64':
        arrays = [np.round(a * 2).astype(np.int64) for a in arrays]
    else:
        arrays = [a.astype(dtype) for a in arrays]
    try:
        expected = _first(op.fn(torch, *_to(torch, arrays)))
    except Exception as e:  # PyTorch refuses these inputs: nbgrad must refuse them the same way
        with pytest.raises(type(e)):
            op.fn(nbgrad, *_to(nbgrad, arrays, device=device))
        return
    got = _first(op.fn(nbgrad, *_to(nbgrad, arrays, device=device)))
    assert got.device.type == device
    assert dname(got.dtype) == dname(expected.dtype)
    assert tuple(got.shape) == tuple(expected.shape)
    tol = dict(rtol=op.rtol, atol=op.atol) if dtype != 'float64' else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(got), _np(expected), equal_nan=True, **tol)


@pytest.mark.parametrize('op,shapes', [p for p in PARAMS if p.values[0].differentiable])
def test_backward_matches_torch(op, shapes, device):
    arrays = _inputs(op, shapes, 'float64', seed=1)
    results = []
    for lib in (torch, nbgrad):
        inputs = _to(lib, arrays, requires_grad=True, device=device)
        out = _first(op.fn(lib, *inputs))
        upstream = np.random.default_rng(2).standard_normal(tuple(out.shape))
        out.backward(lib.tensor(upstream, device=out.device))
        results.append([_np(t.grad) if t.grad is not None else None for t in inputs])
    for got, expected in zip(results[1], results[0]):
        if expected is None:
            assert got is None or not np.any(got)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('op,shapes', [p for p in PARAMS if p.values[0].differentiable])
def test_gradcheck(op, shapes):
    if any(0 in s for s in shapes):
        pytest.skip('no elements to perturb')
    arrays = _inputs(op, shapes, 'float64', seed=3)
    inputs = _to(nbgrad, arrays, requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda *xs: _first(op.fn(nbgrad, *xs)), inputs)


SECOND_ORDER = {'exp', 'log', 'sin', 'tanh', 'sigmoid', 'sqrt', 'mul', 'div', 'pow', 'atan2',
                'matmul', 'softmax', 'log_softmax', 'logsumexp', 'var', 'prod', 'erf', 'where',
                'lerp', 'norm', 'cumprod', 'hypot', 'max', 'std'}


@pytest.mark.parametrize('op,shapes', [p for p in PARAMS if p.values[0].name in SECOND_ORDER])
def test_gradgradcheck(op, shapes):
    if any(0 in s for s in shapes) or any(len(s) > 2 for s in shapes):
        pytest.skip('kept small: second derivatives are costly')
    arrays = _inputs(op, shapes, 'float64', seed=4)
    inputs = _to(nbgrad, arrays, requires_grad=True)
    assert nbgrad.autograd.gradgradcheck(lambda *xs: _first(op.fn(nbgrad, *xs)), inputs)


@pytest.mark.parametrize('op,shapes', [p for p in PARAMS if p.values[0].inplace is not None])
def test_inplace_equals_out_of_place(op, shapes):
    arrays = _inputs(op, shapes, 'float64', seed=5)
    if op.arity > 1 and np.broadcast_shapes(*shapes) != shapes[0]:
        # the result would not fit the first input: PyTorch refuses, and so must nbgrad
        for lib in (torch, nbgrad):
            with pytest.raises(RuntimeError):
                op.inplace(lib, *_to(lib, arrays))
        return
    expected = _np(op.fn(nbgrad, *_to(nbgrad, arrays)))
    inputs = _to(nbgrad, arrays)
    before = inputs[0]._version
    returned = op.inplace(nbgrad, *inputs)
    assert returned is inputs[0]
    assert inputs[0]._version == before + 1
    np.testing.assert_allclose(_np(inputs[0]), expected, rtol=1e-12)


@st.composite
def _broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                     min_side=0, max_side=3))
    return shapes.input_shapes


@settings(max_examples=60, deadline=None)
@given(shapes=_broadcastable_pair(), name=st.sampled_from(['add', 'mul', 'sub', 'maximum',
                                                            'atan2', 'div']))
def test_broadcast_backward_matches_torch(shapes, name):
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.5, 2.0, size=s) for s in shapes]
    grads = []
    for lib in (torch, nbgrad):
        a, b = _to(lib, arrays, requires_grad=True)
        out = getattr(lib, name)(a, b)
        out.sum().backward()
        grads.append((_np(a.grad), _np(b.grad)))
    for got, expected in zip(grads[1], grads[0]):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize('reduce', [
    lambda x: x.sum(-1), lambda x: x.sum(0), lambda x: x.sum((0,)), lambda x: x.mean(-1),
    lambda x: x.amax(-1), lambda x: x.amin((0,)), lambda x: x.nansum(0), lambda x: x.norm(dim=0),
    lambda x: x.logsumexp(-1), lambda x: x.mean((-1,), keepdim=True), lambda x: x.sum(1),
    lambda x: x.sum((0, -1))], ids=lambda f: '')
def test_reductions_over_the_dim_of_a_0_dim_tensor(reduce):
    """A 0-dim tensor has one dim to name (0 or -1); reducing over it keeps the value."""
    def run(lib):
        x = lib.tensor(2.5, requires_grad=True)
        y = reduce(x)
        (y * 3).sum().backward()
        return y, x.grad
    both(run)


@pytest.mark.parametrize('fn', [lambda lib: lib.cat([]), lambda lib: lib.stack([]),
                                lambda lib: lib.vstack([]), lambda lib: lib.dstack([]),
                                lambda lib: lib.column_stack([]), lambda lib: lib.row_stack([]),
                                lambda lib: lib.cat(()), lambda lib: lib.hstack([])],
                         ids=['cat', 'stack', 'vstack', 'dstack', 'column_stack', 'row_stack',
                              'cat_tuple', 'hstack'])
def test_joining_nothing_raises_pytorchs_error(fn):
    both(fn)


@pytest.mark.parametrize('shapes', [((2, 1), (1, 3)), ((3,), (4,)), ((2, 3), (1, 1), (4, 1)),
                                    ((2, 1), (1, 3), 5), ((), (2,)), (4, (3, 1))], ids=str)
def test_broadcast_shapes_and_tensors_like_pytorch(shapes):
    both(lambda lib: lib.broadcast_shapes(*shapes))
    tensors = [s if isinstance(s, tuple) else (s,) for s in shapes]
    both(lambda lib: lib.broadcast_tensors(*[lib.ones(s) for s in tensors]))


def test_broadcast_tensors_returns_a_tensor_of_the_full_shape_itself():
    def run(lib):
        x, y = lib.zeros(3, requires_grad=True), lib.zeros(2, 3)
        a, b = lib.broadcast_tensors(x, y)
        return a is x, b is y, a.grad_fn.name()
    both(run)
