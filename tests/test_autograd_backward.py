"""backward() and autograd.grad against PyTorch: options, graph freeing, a very long chain,
higher-order gradients and gradient accumulation.

Each test is written once as `case(lib)` and run with `lib` = torch and `lib` = nbgrad; the two
results (values, gradients, flags, or the kind of exception raised) are compared (helpers in
torch_compare.py)."""
import sys
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import LIBS, arr, leaf, same, same_error, to_np

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# Tensor.backward
# ---------------------------------------------------------------------------------------------

SCALAR_FUNCS = {
    'sum_sq': lambda lib, x, w: (x * x).sum() + w.sum(),
    'mean_exp': lambda lib, x, w: (x.exp() * w).mean(),
    'matmul_tanh': lambda lib, x, w: (x @ w.t()).tanh().sum(),
    'broadcast': lambda lib, x, w: (x[:, :1] * w[0] + x.sin()).pow(2).sum(),
    'reuse': lambda lib, x, w: (x * x * x + x * w - w / (1.5 + x.cos())).sum(),
}


@pytest.mark.parametrize('name', list(SCALAR_FUNCS))
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_backward_of_scalar(name, dtype):
    def case(lib):
        x = leaf(lib, arr(3, 4, seed=1, dtype=dtype))
        w = leaf(lib, arr(3, 4, seed=2, dtype=dtype))
        SCALAR_FUNCS[name](lib, x, w).backward()
        return x.grad, w.grad
    same(case, rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)


def test_backward_with_gradient_argument():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x.sin() * w
        y.backward(gradient=lib.tensor(arr(2, 3, seed=3)))
        return x.grad, w.grad
    same(case)


def test_backward_gradient_of_other_dtype_is_cast():
    def case(lib):
        x = leaf(lib, arr(3, seed=1, dtype=np.float32))
        y = x * 2
        y.backward(lib.tensor(arr(3, seed=2, dtype=np.float64)))
        return x.grad
    same(case, rtol=1e-6)


def test_backward_on_0dim_and_one_element_outputs():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        (x.sum() * 2).backward()
        g0 = x.grad.clone()
        x.grad = None
        (x[1:2] * 3).backward()  # shape [1]: one element, so implicit gradient is allowed
        return g0, x.grad
    same(case)


def test_backward_retain_graph_twice_accumulates():
    def case(lib):
        x = leaf(lib, arr(4, seed=1))
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward(retain_graph=True)
        y.backward()
        return first, x.grad
    same(case)


def test_second_backward_without_retain_graph_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = (x * x).sum()  # mul saves its inputs
        y.backward()
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: y.backward(), mentions=['retain_graph'])


def test_second_grad_without_retain_graph_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.exp().sum()
        lib.autograd.grad(y, x)
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: lib.autograd.grad(y, x), mentions=['retain_graph'])


def test_second_backward_through_a_graph_that_saved_nothing_is_allowed():
    # PyTorch only complains when a node needs a freed saved tensor; add and sum save none.
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    same(case)


def test_retain_graph_then_plain_backward_then_error():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = (x.sin() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        try:
            y.backward()
        except RuntimeError:
            return x.grad, 'raised'
        return x.grad, 'no error'
    same(case)


@pytest.mark.filterwarnings('ignore:Using backward\\(\\) with create_graph=True')
def test_backward_create_graph_gives_differentiable_grad():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        first = (g.requires_grad, g.grad_fn is not None, to_np(g))
        g.sum().backward()  # accumulates d(sum 3x^2)/dx = 6x into x.grad
        return first, x.grad
    same(case)


def test_backward_inputs_restricts_accumulation_to_leaves():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        b = leaf(lib, arr(3, seed=3))
        y = (x * w + b).sum()
        y.backward(inputs=[x], retain_graph=True)
        after_x = (to_np(x.grad), w.grad, b.grad)
        y.backward(inputs=w)  # a single tensor is accepted too
        return after_x, x.grad, w.grad, b.grad
    same(case)


def test_backward_inputs_non_leaf_gets_grad():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        z = (y * y).sum()
        z.backward(inputs=[y])
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return y.grad, x.grad
    same(case)


def test_autograd_backward_several_roots():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y1 = x * w
        y2 = (x.exp() * w).sum()
        lib.autograd.backward([y1, y2], [lib.tensor(arr(2, 3, seed=3)), None])
        return x.grad, w.grad
    same(case)


def test_autograd_backward_grad_tensors_as_tensor_and_create_graph():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.sin()
        lib.autograd.backward(y, grad_tensors=lib.tensor(arr(3, seed=2)), create_graph=True)
        g = x.grad
        return g, g.requires_grad
    same(case)

# ---------------------------------------------------------------------------------------------
# autograd.grad
# ---------------------------------------------------------------------------------------------

def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        out = lib.autograd.grad((x * w).exp().sum(), [x, w])
        return type(out).__name__, out, x.grad, w.grad, out[0].requires_grad
    same(case)


def test_grad_with_grad_outputs_and_several_outputs():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y1 = x.tanh()
        y2 = (x * x).sum(dim=0)
        return lib.autograd.grad([y1, y2], x,
                                 grad_outputs=[lib.tensor(arr(2, 3, seed=2)),
                                               lib.tensor(arr(3, seed=3))])
    same(case)


def test_grad_wrt_non_leaf_and_repeated_input():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        h = x.sin()
        y = (h * h * x).sum()
        return lib.autograd.grad(y, [h, x, h])
    same(case)


def test_grad_leaves_other_leaves_alone_and_output_wrt_itself():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x * w
        (gx,) = lib.autograd.grad(y.sum(), x, retain_graph=True)
        (gy,) = lib.autograd.grad(y, y, lib.tensor(arr(3, seed=3)))
        return gx, gy, x.grad, w.grad
    same(case)


def test_grad_wrt_non_leaf_does_not_free_the_graph_below_it():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.exp()                                # saves its output
        (gy,) = lib.autograd.grad((y * y).sum(), y)
        y.sum().backward()                         # ExpBackward was never run, so not freed
        return gy, x.grad
    same(case)


def test_grad_applies_tensor_hooks_of_inputs():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        x.register_hook(lambda g: g * 10)
        y = x * 3
        y.register_hook(lambda g: g + 1)
        return lib.autograd.grad((x * x).sum(), x), lib.autograd.grad((y * y).sum(), y)
    same(case)


def test_backward_from_a_leaf():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        x.backward(lib.tensor(arr(3, seed=2)))
        s = leaf(lib, 2.0)
        s.backward()
        return x.grad, s.grad
    same(case)


def test_grad_unused_input():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        u = leaf(lib, arr(2, seed=2))
        y = (x * x).sum()
        try:
            lib.autograd.grad(y, [x, u], retain_graph=True)
            strict = 'no error'
        except RuntimeError:
            strict = 'RuntimeError'
        allowed = lib.autograd.grad(y, [x, u], retain_graph=True, allow_unused=True)
        materialized = lib.autograd.grad(y, [x, u], materialize_grads=True)
        return strict, allowed, materialized
    same(case)


def test_grad_unused_error_names_the_fix():
    def setup(lib):
        return {'x': leaf(lib, arr(3, seed=1)), 'u': leaf(lib, arr(2, seed=2))}
    same_error(setup, lambda lib, x, u: lib.autograd.grad((x * x).sum(), [x, u]),
               mentions=['allow_unused'])


def test_grad_materialize_grads_with_allow_unused_false():
    def setup(lib):
        return {'x': leaf(lib, arr(3, seed=1))}
    same_error(setup, lambda lib, x: lib.autograd.grad((x * x).sum(), x, allow_unused=False,
                                                       materialize_grads=True),
               mentions=['allow_unused'])


def test_grad_retain_graph_and_create_graph():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = (x.sin() * x.exp()).sum()
        (g1,) = lib.autograd.grad(y, x, retain_graph=True)
        (g2,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g2.sum(), x)
        return g1, g1.requires_grad, g2, g2.requires_grad, gg
    same(case)

# ---------------------------------------------------------------------------------------------
# A very long chain: the engine must be iterative
# ---------------------------------------------------------------------------------------------

def _stack_depth():
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@pytest.mark.parametrize('lib', LIBS)
def test_backward_through_100000_op_chain(lib):
    n = 100_000
    c = 1.00001
    x = lib.tensor([0.5, -2.0], dtype=lib.float64, requires_grad=True)
    y = x
    for i in range(n):
        y = y * c if i % 2 == 0 else y - 0.25
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + 300)  # far below the chain length: no recursion allowed
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    expected = np.full(2, c) ** (n // 2)  # closed form: d/dx of (...((x c) - 1/4) c ...)
    np.testing.assert_allclose(to_np(x.grad), expected, rtol=1e-9)
    del y  # freeing a 100,000-node graph must not overflow the stack either


@pytest.mark.parametrize('lib', LIBS)
def test_grad_through_long_chain_of_views(lib):
    n = 20_000
    x = lib.tensor(arr(4, seed=1), requires_grad=True)
    y = x
    for _ in range(n):
        y = y.view(2, 2).view(4) + 0.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + 300)
    try:
        (g,) = lib.autograd.grad(y.sin().sum(), x)
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(to_np(g), np.cos(arr(4, seed=1)), rtol=1e-12)

# ---------------------------------------------------------------------------------------------
# Higher-order gradients
# ---------------------------------------------------------------------------------------------

HIGHER_ORDER = {
    'cube': lambda x: x ** 3,
    'sin_exp': lambda x: x.sin() * x.exp(),
    'tanh': lambda x: x.tanh(),
    'rational': lambda x: x / (1.5 + x * x),
    'log_sigmoid_like': lambda x: (1 + (-x).exp()).log(),
}


@pytest.mark.parametrize('name', list(HIGHER_ORDER))
def test_grad_of_grad_of_grad(name):
    f = HIGHER_ORDER[name]

    def case(lib):
        x = leaf(lib, arr(5, seed=1))
        (g1,) = lib.autograd.grad(f(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    same(case, rtol=1e-9)


def test_hessian_vector_product_by_double_backward():
    def case(lib):
        x = leaf(lib, arr(4, seed=1))
        A = lib.tensor(arr(4, 4, seed=2))
        v = lib.tensor(arr(4, seed=3))
        f = (x @ A @ x) + (x.sin() * x * x).sum()
        (g,) = lib.autograd.grad(f, x, create_graph=True)
        (hv,) = lib.autograd.grad(g, x, grad_outputs=v)
        return g, hv
    same(case, rtol=1e-10)


def test_hessian_vector_product_matches_finite_differences():
    # Oracle: central differences of the analytic gradient, in float64, for both libraries.
    def grad_at(lib, a):
        x = leaf(lib, a)
        f = (x.exp() * (x * x).sum()).sum()
        (g,) = lib.autograd.grad(f, x, create_graph=True)
        return x, g

    a = arr(3, seed=1)
    v = arr(3, seed=2)
    eps = 1e-6
    for lib in (torch, nbgrad):
        x, g = grad_at(lib, a)
        (hv,) = lib.autograd.grad(g, x, grad_outputs=lib.tensor(v))
        numeric = (to_np(grad_at(lib, a + eps * v)[1]) - to_np(grad_at(lib, a - eps * v)[1])) / (
            2 * eps)
        np.testing.assert_allclose(to_np(hv), numeric, rtol=1e-6, atol=1e-8)


def test_mixed_partial_derivatives():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = leaf(lib, arr(3, seed=2))
        f = (x * y * y + x.exp() * y.sin()).sum()
        (gx,) = lib.autograd.grad(f, x, create_graph=True)
        gxy, gxx = lib.autograd.grad(gx.sum(), [y, x])
        return gx, gxy, gxx
    same(case, rtol=1e-10)

# ---------------------------------------------------------------------------------------------
# Gradient accumulation
# ---------------------------------------------------------------------------------------------

def test_grad_accumulates_in_place_across_backward_calls():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        (x * x).sum().backward()
        g = x.grad
        first = to_np(g)
        (x.exp()).sum().backward()
        same_object = g is x.grad
        x.grad = None
        (x * 3).sum().backward()
        return first, same_object, g, x.grad
    same(case)


def test_leaf_used_in_many_branches():
    def case(lib):
        x = leaf(lib, arr(2, 2, seed=1))
        y = x @ x + x.t() * x - x.sum(dim=1, keepdim=True) * x.exp()
        y.backward(lib.ones_like(y))
        return x.grad
    same(case)


def test_grad_does_not_alias_user_gradient_or_other_leaves():
    def case(lib):
        a = leaf(lib, arr(3, seed=1))
        b = leaf(lib, arr(3, seed=2))
        g = lib.tensor(arr(3, seed=3))
        y = a + b
        y.backward(g)
        g.mul_(100)        # changing the gradient we passed must not change .grad
        a.grad.add_(1)     # a.grad and b.grad are separate tensors
        return a.grad, b.grad
    same(case)


def test_manually_assigned_grad_is_accumulated_into():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        x.grad = lib.tensor(arr(3, seed=2))
        (x * 2).sum().backward()
        return x.grad
    same(case)


@pytest.mark.parametrize('call', ['x.sum()', 'x.sum((0, 1))', 'x.sum(0)', 'x.sum(dim=None)',
                                  'x.sum(dim=())', 'x.mean()', 'x.mean((0, 1))', 'x.mean(dim=None)',
                                  'x.sum(dtype=lib.float64)', 'lib.mean(x, 1)'])
def test_sum_and_mean_node_names_follow_the_overload(call):
    """PyTorch names the node ...Backward1 whenever a dim is passed (even None)."""
    import torch
    for_lib = {}
    for lib in (torch, nbgrad):
        x = lib.ones(2, 3, requires_grad=True)
        fn = eval(call, {'x': x, 'lib': lib})
        for_lib[lib] = type(fn.grad_fn).__name__ if lib is torch else fn.grad_fn.name()
    assert for_lib[nbgrad] == for_lib[torch]


@pytest.mark.parametrize('shapes', [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 5)),
                                    ((3, 4), (2, 4, 5))], ids=str)
def test_matmul_node_names_are_pytorchs(shapes):
    import torch
    names = []
    for lib in (torch, nbgrad):
        a, b = (lib.ones(*s, requires_grad=True) for s in shapes)
        fn = (a @ b).grad_fn
        names.append(type(fn).__name__ if lib is torch else fn.name())
    assert names[1] == names[0]
