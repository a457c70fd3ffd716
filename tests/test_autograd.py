"""The autograd engine against PyTorch: backward / autograd.grad and their options, graph freeing,
higher-order gradients, grad modes, detach and .data, retain_grad and hooks, gradient accumulation,
in-place safety (version counters), in-place writes through views (CopySlices), anomaly mode, and
misuse (bad input), where after every error the tensors involved must be left as they were.

Each test is written once as `case(lib)` and run with `lib` = torch and `lib` = nbgrad; the two
results (values, gradients, flags, or the kind of exception raised) are compared. A few tests use a
closed-form or finite-difference oracle instead, and run for both libraries to show the oracle
holds.
The helpers (same, same_error, ...) are in torch_compare.py, shared with
test_autograd_function.py and test_autograd_functional.py.
"""
import re
import sys
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import LIBS, arr, leaf, reset_global_modes, same, same_error, to_np

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
# Grad modes
# ---------------------------------------------------------------------------------------------

def anomaly_enabled(lib):
    # PyTorch has it at the top level only; nbgrad in nbgrad.autograd (see the test below)
    fn = getattr(lib, 'is_anomaly_enabled', None) or lib.autograd.is_anomaly_enabled
    return fn()


@pytest.fixture(autouse=True)
def _restore_global_modes():
    """Whatever a (failing) test did, the next one starts with grad mode on, anomaly mode off."""
    yield
    reset_global_modes()


def test_no_grad_context():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        with lib.no_grad():
            inside = lib.is_grad_enabled()
            y = x * 2
            z = y + x
        return inside, lib.is_grad_enabled(), y.requires_grad, y.grad_fn is None, z.is_leaf, z
    same(case)


def test_no_grad_decorator_with_and_without_parentheses():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @lib.no_grad()
        def f(t):
            """doc"""
            return t * 2, lib.is_grad_enabled()

        @lib.no_grad
        def g(t):
            return t * 3, lib.is_grad_enabled()

        (a, ma), (b, mb) = f(x), g(x)
        return (f.__name__, f.__doc__, g.__name__, a.requires_grad, ma, b.requires_grad, mb,
                lib.is_grad_enabled())
    same(case)


def test_enable_grad_inside_no_grad():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @lib.enable_grad()
        def f(t):
            return t * 2

        with lib.no_grad():
            with lib.enable_grad():
                a = x * 2
                on = lib.is_grad_enabled()
            b = f(x)
            off = lib.is_grad_enabled()
            c = x * 2
        return a.requires_grad, on, b.requires_grad, off, c.requires_grad
    same(case)


def test_set_grad_enabled_function_context_and_decorator():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        results = []
        lib.set_grad_enabled(False)  # as a function call: takes effect at once
        results.append(((x * 2).requires_grad, lib.is_grad_enabled()))
        lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            results.append(((x * 2).requires_grad, lib.is_grad_enabled()))
            with lib.set_grad_enabled(True):
                results.append(((x * 2).requires_grad, lib.is_grad_enabled()))
            results.append(lib.is_grad_enabled())
        results.append(lib.is_grad_enabled())

        @lib.set_grad_enabled(False)
        def f(t):
            return (t * 2).requires_grad, lib.is_grad_enabled()
        results.append(lib.is_grad_enabled())  # decorating does not change the mode
        results.append(f(x))
        results.append(lib.is_grad_enabled())
        return results
    same(case)


def test_inference_mode():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        out = []
        with lib.inference_mode():
            out.append(((x * 2).requires_grad, lib.is_grad_enabled(),
                        lib.is_inference_mode_enabled()))
            with lib.inference_mode():
                out.append(lib.is_inference_mode_enabled())
            out.append(lib.is_inference_mode_enabled())
        out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))

        @lib.inference_mode()
        def f(t):
            return (t * 2).requires_grad, lib.is_inference_mode_enabled()

        @lib.inference_mode(False)
        def g(t):
            return (t * 2).requires_grad, lib.is_inference_mode_enabled()
        out.extend([f(x), g(x), f.__name__, lib.is_inference_mode_enabled()])
        with lib.no_grad():
            out.append(lib.is_inference_mode_enabled())
        return out
    same(case)


def test_inference_mode_false_inside_inference_mode():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        with lib.inference_mode():
            with lib.inference_mode(False):
                inner = (lib.is_inference_mode_enabled(), lib.is_grad_enabled(),
                         (x * 2).requires_grad)
            after = (lib.is_inference_mode_enabled(), lib.is_grad_enabled())
        return inner, after, lib.is_inference_mode_enabled(), lib.is_grad_enabled()
    same(case)


def test_inference_mode_bare_decorator():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @lib.inference_mode
        def g(t):
            """doc"""
            return (t * 2).requires_grad, lib.is_inference_mode_enabled()
        return g(x), g.__name__, g.__doc__, lib.is_inference_mode_enabled()
    same(case)


GEN_MODES = ['no_grad', 'enable_grad', 'inference_mode', 'set_grad_false']


def _mode_decorator(lib, mode):
    return {'no_grad': lambda: lib.no_grad(), 'enable_grad': lambda: lib.enable_grad(),
            'inference_mode': lambda: lib.inference_mode(),
            'set_grad_false': lambda: lib.set_grad_enabled(False)}[mode]()


def _caller_mode(lib, mode):
    # the caller runs in the opposite mode, so that a leak either way shows
    return lib.no_grad() if mode == 'enable_grad' else lib.enable_grad()


@pytest.mark.parametrize('mode', GEN_MODES)
def test_grad_mode_decorated_generator_runs_each_step_in_mode(mode):
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @_mode_decorator(lib, mode)
        def gen(n):
            received = None
            for i in range(n):
                received = yield (lib.is_grad_enabled(), (x * (i + 1)).requires_grad, received)
            yield 'last'

        seen, outer_modes = [], []
        with _caller_mode(lib, mode):
            it = gen(3)
            seen.append(next(it))
            outer_modes.append(lib.is_grad_enabled())
            seen.append(it.send('a'))
            outer_modes.append(lib.is_grad_enabled())
            seen.append(it.send('b'))
            outer_modes.append(lib.is_grad_enabled())
            seen.append(next(it))
            it.close()
            outer_modes.append(lib.is_grad_enabled())
        return gen.__name__, seen, outer_modes, lib.is_grad_enabled()
    same(case)


GEN_BUG = ('nbgrad bug: the grad-mode generator wrapper (_GradModeContext.__call__ in '
           'grad_mode.py) lets StopIteration escape from gen.send/next inside a generator, '
           'which PEP 479 turns into RuntimeError; it should catch StopIteration and return its '
           'value')


@pytest.mark.parametrize('mode', GEN_MODES)
def test_grad_mode_decorated_generator_exhaustion_and_return_value(mode):
    def case(lib):
        @_mode_decorator(lib, mode)
        def gen():
            yield lib.is_grad_enabled()
            return 'done'

        @_mode_decorator(lib, mode)
        def empty():
            return 'nothing'
            yield

        with _caller_mode(lib, mode):
            out = list(gen())
            it = gen()
            next(it)
            try:
                next(it)
            except StopIteration as stop:
                out.append(stop.value)
            out.append(list(empty()))
            out.append(lib.is_grad_enabled())
        return out
    same(case)


@pytest.mark.parametrize('mode', GEN_MODES)
def test_grad_mode_decorated_generator_forwards_throw(mode):
    def case(lib):
        @_mode_decorator(lib, mode)
        def gen():
            while True:
                try:
                    yield 'value'
                except ValueError as e:
                    yield ('caught', str(e), lib.is_grad_enabled())

        with _caller_mode(lib, mode):
            it = gen()
            first = next(it)
            caught = it.throw(ValueError('boom'))
            it.close()
            return first, caught, lib.is_grad_enabled()
    same(case)


def test_grad_modes_nest_and_restore_after_exceptions():
    def case(lib):
        out = []
        try:
            with lib.no_grad():
                with lib.enable_grad():
                    with lib.set_grad_enabled(False):
                        out.append(lib.is_grad_enabled())
                        raise ValueError('boom')
        except ValueError:
            pass
        out.append(lib.is_grad_enabled())

        @lib.no_grad()
        def fails():
            raise KeyError('x')
        try:
            fails()
        except KeyError:
            pass
        out.append(lib.is_grad_enabled())
        with lib.no_grad():
            with lib.no_grad():
                pass
            out.append(lib.is_grad_enabled())
        out.append(lib.is_grad_enabled())
        return out
    same(case)


def test_no_grad_allows_in_place_update_of_leaf():
    def case(lib):
        w = leaf(lib, arr(3, seed=1))
        (w * w).sum().backward()
        v0 = w._version
        with lib.no_grad():
            w -= 0.1 * w.grad
            w.mul_(2)
        return w, w.is_leaf, w.requires_grad, w.grad_fn is None, w._version - v0
    same(case)


# ---------------------------------------------------------------------------------------------
# detach, detach_, .data
# ---------------------------------------------------------------------------------------------

def test_detach_shares_memory_and_version_counter():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        d = y.detach()
        flags = (d.requires_grad, d.is_leaf, d.grad_fn is None)
        d.add_(1)  # allowed (d is outside the graph) and visible through y
        return flags, y, y._version, d._version
    same(case)


def test_detach_then_in_place_invalidates_saved_tensor():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.sin()
        z = y * y  # saves y
        y.detach().zero_()
        return {'x': x, 'z': z}
    theirs, ours = same_error(setup, lambda lib, x, z: z.sum().backward())
    assert 'version 1' in str(ours) and 'version 0' in str(ours)


def test_detach_of_view_of_leaf_can_be_modified_in_place():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        d = x[1:].detach()
        d.zero_()
        return x, x.requires_grad, x.is_leaf, d._base is None
    same(case)


def test_detach_of_view_of_non_leaf_after_base_changes():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        d = y[1:].detach()
        y.mul_(2)
        z = (d * x[1:]).sum()
        z.backward()
        return d.requires_grad, d.grad_fn is None, x.grad, y
    same(case)


def test_detach_in_place_on_non_leaf():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        z = y.exp()
        y.detach_()
        flags = (y.requires_grad, y.is_leaf, y.grad_fn is None)
        z.sum().backward()  # the graph already recorded through y is intact
        w = (y * x).sum()
        w.backward()
        return flags, x.grad
    same(case)


def test_detach_in_place_on_view_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x}
    same_error(setup, lambda lib, x: x[0:2].detach_(), mentions=['view', 'detach()'])


def test_data_is_an_untracked_alias_with_its_own_version():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        d = x.data
        flags = (d.requires_grad, d.is_leaf, d.grad_fn is None)
        d.mul_(2)
        return flags, x, x._version, d._version, x.requires_grad, x.is_leaf
    same(case)


def test_data_change_is_seen_by_backward_without_version_error():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = (x * x).sum()
        x.data.add_(1)       # not an in-place op on x as far as autograd knows
        y.backward()
        x.data = lib.tensor(arr(5, seed=2))  # replacing data may change the shape
        return x.grad, x, x.shape, x.requires_grad
    same(case)


# ---------------------------------------------------------------------------------------------
# retain_grad, non-leaf .grad warning
# ---------------------------------------------------------------------------------------------

def test_retain_grad_on_non_leaf():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y = x.exp()
        y.retain_grad()
        y.retain_grad()  # twice is harmless
        z = y.sum(dim=0)
        z.retain_grad()
        (z * z).sum().backward()
        return y.retains_grad, x.retains_grad, y.grad, z.grad, x.grad
    same(case)


def test_retain_grad_on_leaf_is_a_no_op():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        x.retain_grad()
        (x * 3).sum().backward()
        return x.retains_grad, x.grad
    same(case)


def test_retain_grad_on_tensor_without_grad_raises():
    same_error(lambda lib: {'x': leaf(lib, arr(3, seed=1), requires_grad=False)},
               lambda lib, x: x.retain_grad(), mentions=['requires_grad'])


def test_non_leaf_grad_access_warns():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        y.sum().backward(retain_graph=True)
        kinds = []
        for t in (y, x):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                g = t.grad
            kinds.append(([w.category.__name__ for w in caught], g is None))
        y.retain_grad()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            g = y.grad
        kinds.append(([w.category.__name__ for w in caught], g is None))
        return kinds
    same(case)


def test_non_leaf_grad_warning_mentions_retain_grad():
    x = nbgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match='retain_grad'):
        y.grad
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match='retain_grad'):
        (tx * 2).grad


# ---------------------------------------------------------------------------------------------
# Tensor hooks
# ---------------------------------------------------------------------------------------------



def test_hook_on_leaf_modifies_grad():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        return seen, x.grad
    same(case)


def test_hook_on_non_leaf_changes_upstream_gradient():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.exp()
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g * 2)
        y.register_hook(lambda g: g + 1)  # hooks chain in registration order
        (y * y).sum().backward()
        return seen, x.grad
    same(case)


def test_hook_handle_remove():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        h1 = y.register_hook(lambda g: g * 100)
        h2 = x.register_hook(lambda g: g * 7)
        h1.remove()
        h1.remove()  # twice is harmless
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h2.remove()
        x.grad = None
        y.sum().backward()
        return first, x.grad
    same(case)


def test_hook_and_retain_grad_order():
    # The retained .grad is the gradient after all tensor hooks, whatever the order.
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        z = x * 3
        z.register_hook(lambda g: g * 5)
        z.retain_grad()
        (y + z).sum().backward()
        return y.grad, z.grad, x.grad
    same(case)


def test_hook_on_tensor_without_grad_raises():
    same_error(lambda lib: {'x': leaf(lib, arr(3, seed=1), requires_grad=False)},
               lambda lib, x: x.register_hook(lambda g: g), mentions=['require'])


def test_hook_changing_shape_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        y.register_hook(lambda g: g[:2])
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: y.sum().backward(), mentions=['hook'])


def test_hook_returning_non_tensor_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        y.register_hook(lambda g: 3)
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: y.sum().backward())


def test_post_accumulate_grad_hook_sees_accumulated_grad_and_can_step():
    def case(lib):
        p = leaf(lib, arr(3, seed=1))
        seen = []

        def step(t):
            seen.append(to_np(t.grad))
            with lib.no_grad():
                t.sub_(0.5 * t.grad)
            t.grad = None
        h = p.register_post_accumulate_grad_hook(step)
        (p * p).sum().backward()
        (p * p * p).sum().backward()
        h.remove()
        (p * 2).sum().backward()
        return seen, p, p.grad
    same(case)


def test_post_accumulate_grad_hook_on_non_leaf_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x}
    same_error(setup, lambda lib, x: (x * 2).register_post_accumulate_grad_hook(lambda t: None),
               mentions=['non-leaf'])


# ---------------------------------------------------------------------------------------------
# Node hooks and graph introspection
# ---------------------------------------------------------------------------------------------

def test_node_post_hook_sees_and_replaces_grad_inputs():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x * w
        seen = []

        def hook(grad_inputs, grad_outputs):
            seen.append((len(grad_inputs), to_np(grad_inputs), to_np(grad_outputs)))
            return grad_inputs[0] * 3, grad_inputs[1]
        y.grad_fn.register_hook(hook)
        (y * y).sum().backward()
        return seen, x.grad, w.grad
    same(case)


def test_node_prehook_replaces_grad_outputs_and_handle_removes():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.sin()
        seen = []
        h = y.grad_fn.register_prehook(lambda go: (seen.append(to_np(go)), (go[0] * 2,))[1])
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h.remove()
        x.grad = None
        y.sum().backward()
        return seen, first, x.grad
    same(case)


def test_accumulate_grad_node_prehook():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        acc = (x * 2).grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: (go[0] * 10,))
        (x * 2).sum().backward()
        return type(acc).__name__, x.grad
    same(case)


def test_next_functions_structure():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2), requires_grad=False)
        y = (x * w).exp().sum()
        exp_node = y.grad_fn.next_functions[0][0]
        mul_node = exp_node.next_functions[0][0]
        acc, nr = mul_node.next_functions[0]
        return (y.grad_fn.name(), exp_node.name(), mul_node.name(), len(mul_node.next_functions),
                mul_node.next_functions[1][0] is None, type(acc).__name__, nr, acc.variable is x)
    same(case)


GRAD_FN_NAMES = {
    'mul': lambda x: x * x, 'add': lambda x: x + x, 'sub': lambda x: x - 1, 'div': lambda x: x / 2,
    'pow': lambda x: x ** 2, 'exp': lambda x: x.exp(), 'sin': lambda x: x.sin(),
    'sqrt': lambda x: x.sqrt(), 'tanh': lambda x: x.tanh(), 'sum': lambda x: x.sum(),
    'mean': lambda x: x.mean(), 'view': lambda x: x.view(6), 'select': lambda x: x[0],
    'slice': lambda x: x[1:], 'clone': lambda x: x.clone(),
    't': lambda x: x.t(),
    'transpose': lambda x: x.transpose(0, 1), 'unsqueeze': lambda x: x.unsqueeze(0),
    'matmul': lambda x: x @ x.t(),
}


@pytest.mark.parametrize('fn', list(GRAD_FN_NAMES.values()), ids=list(GRAD_FN_NAMES))
def test_grad_fn_names(fn):
    same(lambda lib: fn(leaf(lib, arr(2, 3, seed=1, low=0.1))).grad_fn.name())


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


# ---------------------------------------------------------------------------------------------
# In-place safety: version counters
# ---------------------------------------------------------------------------------------------

def _torch_message_facts(message):
    """The op name and versions in PyTorch's modified-by-an-inplace-operation message."""
    found = re.search(r'output \d+ of ([\w:]+)', message)  # absent for a tensor with no grad_fn
    origin = found.group(1).split('::')[-1] if found else None
    versions = re.search(r'is at version (\d+); expected version (\d+)', message).groups()
    return origin, versions


INPLACE_CASES = {
    # saved output modified: exp saves its result
    'exp_output_add_': lambda lib, x: (lambda y: (y.add_(1), y)[1])(x.exp()),
    # saved input modified: mul saves both inputs; a is the output of a mul
    'mul_input_mul_': lambda lib, x: (lambda a: (lambda b: (a.mul_(2), b)[1])(a * a))(x * 2),
    # saved input modified twice through sin_ and add_
    'sin_input_twice': lambda lib, x: (lambda a: (lambda b: (a.sin_(), a.add_(1), b)[2])(
        a.cos()))(x * 2),
    # tanh saves its output; a view of it is modified
    'tanh_output_via_view': lambda lib, x: (lambda y: (y[0:1].mul_(3), y)[1])(x.tanh()),
    # modified under no_grad: the version still moves
    'exp_output_no_grad': lambda lib, x: (lambda y: (_under_no_grad(lib, lambda: y.add_(1)),
                                                     y)[1])(x.exp()),
    # a constant (no grad) saved by mul, then modified
    'mul_saved_constant': lambda lib, x: (lambda c: (lambda y: (c.add_(1), y)[1])(x * c))(
        lib.tensor(arr(3, seed=7))),
}


def _under_no_grad(lib, fn):
    with lib.no_grad():
        return fn()


@pytest.mark.parametrize('name', list(INPLACE_CASES))
def test_modified_saved_tensor_raises_naming_op_and_versions(name):
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x, 'out': INPLACE_CASES[name](lib, x)}

    theirs, ours = same_error(setup, lambda lib, x, out: out.sum().backward())
    op, (current, expected) = _torch_message_facts(str(theirs))
    message = str(ours)
    assert op is None or op in message, f'PyTorch names {op!r}; ours does not: {message}'
    assert f'version {current}' in message and f'version {expected}' in message, message


def test_in_place_on_tensor_not_saved_is_fine():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2.0
        z = y + 1     # add saves nothing
        y.mul_(3)
        w = y.sum()
        (z.sum() + w).backward()
        return x.grad, y, z
    same(case)


def test_chain_of_in_place_ops_on_non_leaf():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x.clone()
        y.mul_(2)
        y.add_(w)
        y.sin_()
        y.pow_(2)
        y.div_(x.cos() + 2)
        y.mul_(x)
        y.exp_()  # exp_ saves its result: it must come last
        y.sum().backward()
        return y, x.grad, w.grad, y._version, y.grad_fn.name()
    same(case, rtol=1e-10)


@pytest.mark.parametrize('op', ['add_', 'mul_', 'zero_', 'setitem', 'view_mul_'])
def test_in_place_on_leaf_requiring_grad_raises(op):
    actions = {
        'add_': lambda lib, x: x.add_(1),
        'mul_': lambda lib, x: x.mul_(x),
        'zero_': lambda lib, x: x.zero_(),
        'setitem': lambda lib, x: x.__setitem__(0, 5.0),
        'view_mul_': lambda lib, x: x[1:].mul_(2),
    }
    same_error(lambda lib: {'x': leaf(lib, arr(3, seed=1))}, actions[op], mentions=['leaf'])


# ---------------------------------------------------------------------------------------------
# In-place writes through views of non-leaf tensors (CopySlices)
# ---------------------------------------------------------------------------------------------

def test_in_place_through_views_example_from_issue():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = lib.tensor(arr(2, 3, seed=2))
        y = x * 1
        y[0] = 5
        y[:, 1] *= 2
        v = y.view(-1)
        v.mul_(3)
        out = (y * w).sum() + (v * v).sum()
        out.backward()
        return y, v, x.grad, y.grad_fn is not None
    same(case)


def test_setitem_with_value_requiring_grad():
    def case(lib):
        x = leaf(lib, arr(3, 4, seed=1))
        z = leaf(lib, arr(4, seed=2))
        y = x.sin()
        y[1] = z * 2
        y[:, 0] = z[:3].sin()
        (y * y).sum().backward()
        return y, x.grad, z.grad
    same(case)


def test_base_without_grad_gains_history_through_view_write():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = lib.zeros(2, 3, dtype=lib.float64)
        y[1] = x * 2
        flags = (y.requires_grad, y.grad_fn is not None)
        (y * lib.tensor(arr(2, 3, seed=2))).sum().backward()
        return flags, y, x.grad
    same(case)


def test_view_made_before_base_is_modified():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y = x * 1
        v = y[0]           # view taken first
        y.mul_(x)          # base modified in place afterwards
        (v * v).sum().backward()
        return v, x.grad
    same(case)


def test_in_place_on_view_then_use_base():
    def case(lib):
        x = leaf(lib, arr(3, 2, seed=1))
        y = x * 1
        v = y[:, 0]
        v.mul_(3)
        u = y.t()[1]
        u.mul_(x[:, 0])
        (y * y).sum().backward()
        return y, x.grad
    same(case)


ENGINE_NONE_BUG = ('nbgrad bug: graph.run_backward skips the dependency count of an edge whose '
                   'gradient is None, so a node that receives None on one edge (fill_/zero_/copy_ '
                   'on a view, a Function returning None) never runs and everything upstream of '
                   'it gets no gradient')


def test_fill_through_view_of_non_leaf():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y = x * 2
        y[0].fill_(7)
        (y ** 3).sum().backward()
        return y, x.grad
    same(case)


def test_in_place_on_view_of_view():
    def case(lib):
        x = leaf(lib, arr(3, 4, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x.sin()
        y[1:][0][1:].mul_(w)
        y.transpose(0, 1)[2].add_(w * w)
        y.diagonal().zero_()
        y.sin().sum().backward()
        return y, x.grad, w.grad
    same(case, rtol=1e-10)


def test_copy_into_view():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x * 2
        y[1].copy_(w.exp())
        (y ** 3).sum().backward()
        return y, x.grad, w.grad
    same(case)


# ---------------------------------------------------------------------------------------------
# Anomaly detection
# ---------------------------------------------------------------------------------------------

def _nan_in_backward(lib, x):
    # d/dx sqrt(x) at 0 is inf; multiplied by a zero incoming gradient it becomes nan
    return (x.sqrt() * 0).sum()


def test_nan_in_backward_without_anomaly_mode_is_silent():
    def case(lib):
        x = leaf(lib, [0.0, 1.0, 4.0])
        _nan_in_backward(lib, x).backward()
        return x.grad
    same(case)


def test_anomaly_mode_names_the_backward_node_that_made_nan():
    msgs = {}

    def setup(lib):
        return {'x': leaf(lib, [0.0, 1.0, 4.0])}

    def action(lib, x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            try:
                with lib.autograd.detect_anomaly():
                    _nan_in_backward(lib, x).backward()
            finally:
                msgs[lib] = [str(w.message) for w in caught if w.category is UserWarning]

    theirs, ours = same_error(setup, action)
    node = re.search(r"Function '(\w+)'", str(theirs)).group(1)
    assert node in str(ours) and 'nan' in str(ours)
    # Both warn about the forward call that made the failing node.
    for lib in (torch, nbgrad):
        assert any('Error detected in' in m and node in m for m in msgs[lib]), msgs[lib]


def test_set_detect_anomaly_as_function_and_context_manager():
    def case(lib):
        x = leaf(lib, [0.0, 1.0])
        out = [anomaly_enabled(lib)]
        lib.autograd.set_detect_anomaly(True)
        out.append(anomaly_enabled(lib))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')   # the forward-traceback warning
                _nan_in_backward(lib, x).backward()
            out.append('no error')
        except RuntimeError:
            out.append('RuntimeError')
        finally:
            lib.autograd.set_detect_anomaly(False)
        with lib.autograd.set_detect_anomaly(True):
            out.append(anomaly_enabled(lib))
        out.append(anomaly_enabled(lib))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            with lib.autograd.detect_anomaly():
                out.append(anomaly_enabled(lib))
        out.append([w.category.__name__ for w in caught])
        out.append(anomaly_enabled(lib))
        return out
    same(case)


def test_is_anomaly_enabled_at_top_level():
    same(lambda lib: lib.is_anomaly_enabled())


def test_anomaly_mode_accepts_inf_gradients():
    def case(lib):
        x = leaf(lib, [0.0, 1.0])
        with lib.autograd.set_detect_anomaly(True):
            x.sqrt().sum().backward()
        return x.grad
    same(case)


def test_anomaly_mode_gives_same_gradients_when_all_is_well():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        with lib.autograd.set_detect_anomaly(True):
            (x.exp() * x.sin()).sum().backward()
        return x.grad
    same(case)


# ---------------------------------------------------------------------------------------------
# Bad input: PyTorch's kind of error, a helpful message, and nothing changed
# ---------------------------------------------------------------------------------------------

def _x_and_vector_output(lib):
    x = leaf(lib, arr(2, 3, seed=1))
    x.grad = lib.tensor(arr(2, 3, seed=5))  # an existing .grad that must survive the error
    return {'x': x, 'y': x * 2}


def test_backward_of_non_scalar_without_gradient():
    same_error(_x_and_vector_output, lambda lib, x, y: y.backward(),
               mentions=['scalar', 'gradient'])


def test_grad_of_non_scalar_without_grad_outputs():
    same_error(_x_and_vector_output, lambda lib, x, y: lib.autograd.grad(y, x),
               mentions=['scalar'])


@pytest.mark.parametrize('shape', [(3,), (3, 2), (1, 3), ()])
def test_backward_gradient_of_wrong_shape(shape):
    same_error(_x_and_vector_output,
               lambda lib, x, y: y.backward(lib.ones(shape, dtype=lib.float64)),
               mentions=['shape'])


def test_backward_gradient_not_a_tensor():
    same_error(_x_and_vector_output, lambda lib, x, y: y.backward([[1.0] * 3] * 2))


def test_grad_outputs_of_wrong_shape():
    same_error(_x_and_vector_output,
               lambda lib, x, y: lib.autograd.grad(y, x, lib.ones(6, dtype=lib.float64)),
               mentions=['shape'])


def test_backward_of_tensor_that_does_not_require_grad():
    def setup(lib):
        return {'x': leaf(lib, arr(3, seed=1), requires_grad=False)}
    same_error(setup, lambda lib, x: (x * 2).sum().backward(), mentions=['require'])


def test_backward_with_empty_inputs():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x}
    same_error(setup, lambda lib, x: (x * 2).sum().backward(inputs=[]), mentions=['inputs'])


@pytest.mark.parametrize('how', ['method', 'attribute', 'factory'])
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'bool'])
def test_requires_grad_on_integer_tensor(how, dtype):
    def setup(lib):
        return {'x': lib.tensor(np.array([1, 0, 1]).astype(dtype))}
    action = {'method': lambda lib, x: x.requires_grad_(),
              'attribute': lambda lib, x: setattr(x, 'requires_grad', True),
              'factory': lambda lib, x: lib.tensor(to_np(x), requires_grad=True)}[how]
    same_error(setup, action, mentions=['floating point'])


def test_requires_grad_false_on_non_leaf():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x, 'y': x.exp()}
    same_error(setup, lambda lib, x, y: y.requires_grad_(False), mentions=['leaf', 'detach'])
    same_error(setup, lambda lib, x, y: setattr(y, 'requires_grad', False), mentions=['leaf'])


def test_requires_grad_flags_on_leaves():
    def case(lib):
        x = leaf(lib, arr(3, seed=1), requires_grad=False)
        y = x.exp()
        r = [x.requires_grad, y.requires_grad]
        x.requires_grad_()
        z = x.exp()
        r += [x.requires_grad, x.is_leaf, z.requires_grad, y.requires_grad]
        x.requires_grad = False
        r += [x.requires_grad, (x * 2).requires_grad, z.requires_grad]
        y.requires_grad_(True)  # y is a leaf (made without grad): allowed
        r += [y.requires_grad, y.is_leaf]
        return r
    same(case)


def test_grad_wrt_tensor_that_does_not_require_grad():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        c = leaf(lib, arr(3, seed=2), requires_grad=False)
        return {'x': x, 'c': c}
    same_error(setup, lambda lib, x, c: lib.autograd.grad((x * c).sum(), [x, c]),
               mentions=['require'])


def test_grad_of_output_that_does_not_require_grad():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        c = leaf(lib, arr(3, seed=2), requires_grad=False)
        return {'x': x, 'c': c}
    same_error(setup, lambda lib, x, c: lib.autograd.grad(c.sum(), x), mentions=['grad'])


def test_grad_wrt_tensor_not_in_graph_then_allow_unused():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        u = leaf(lib, arr(3, seed=2))
        return {'x': x, 'u': u}
    same_error(setup, lambda lib, x, u: lib.autograd.grad((x * x).sum(), u),
               mentions=['allow_unused'])
    same(lambda lib: lib.autograd.grad((leaf(lib, [1.0]) * 2).sum(), leaf(lib, [2.0]),
                                       allow_unused=True))


def test_assigning_grad_of_wrong_shape_or_type():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        x.grad = lib.tensor(arr(3, seed=2))
        return {'x': x}
    same_error(setup, lambda lib, x: setattr(x, 'grad', lib.tensor(arr(4, seed=2))))
    same_error(setup, lambda lib, x: setattr(x, 'grad', [1.0, 2.0, 3.0]))
