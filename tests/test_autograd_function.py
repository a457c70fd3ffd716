"""Custom autograd.Function, gradcheck/gradgradcheck, against PyTorch (and finite differences).

Each Function is defined once by a factory `make_*(lib)` that subclasses `lib.autograd.Function`,
so the same code runs with torch and with nbgrad; results and the kind of errors are compared.
"""
import re
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import LIBS, arr, leaf, same, same_error, to_np

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# Functions used below, defined once per library
# ---------------------------------------------------------------------------------------------

def make_exp(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)   # saves its output
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y
    return Exp


def make_scaled_mul(lib, record=None):
    """out = k * x * y, with a Python number k; records needs_input_grad in `record`."""
    class ScaledMul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            ctx.k = k
            if record is not None:
                record.append(ctx.needs_input_grad)
            return x * y * k

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            if record is not None:
                record.append(ctx.needs_input_grad)
            gx = grad * y * ctx.k if ctx.needs_input_grad[0] else None
            gy = grad * x * ctx.k if ctx.needs_input_grad[1] else None
            return gx, gy, None
    return ScaledMul


def make_cube(lib):
    """backward uses differentiable ops, so double backward works through it."""
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x
    return Cube


def make_square(lib, gradient):
    """x * x whose backward returns gradient(grad, x): a wrong one, for gradcheck to catch."""
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return gradient(grad, x)
    return Square


def make_wrong_backward(lib):
    return make_square(lib, lambda grad, x: grad * 3 * x)   # should be 2x


def make_detached_backward(lib):
    """First derivative right, second derivative wrong (backward hides x from autograd)."""
    return make_square(lib, lambda grad, x: grad * 2 * x.detach())


def make_setup_context_function(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(x, w, k):
            return (x * w).sin() * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, k = inputs
            ctx.save_for_backward(x, w)
            ctx.k = k

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            c = (x * w).cos() * ctx.k * grad
            return c * w, c * x, None
    return Scale


# ---------------------------------------------------------------------------------------------
# Basic behaviour
# ---------------------------------------------------------------------------------------------

def test_function_forward_backward_and_node():
    def case(lib):
        Exp = make_exp(lib)
        x = leaf(lib, arr(2, 3, seed=1))
        y = Exp.apply(x)
        flags = (y.requires_grad, y.is_leaf, y.grad_fn.name(), type(y.grad_fn).__name__,
                 y.grad_fn.next_functions[0][0].variable is x)
        (y * y).sum().backward()
        return y, flags, x.grad
    same(case)


@pytest.mark.parametrize('y_requires_grad', [True, False])
def test_save_for_backward_non_tensor_state_and_needs_input_grad(y_requires_grad):
    def case(lib):
        record = []
        F = make_scaled_mul(lib, record)
        x = leaf(lib, arr(3, seed=1))
        y = leaf(lib, arr(3, seed=2), requires_grad=y_requires_grad)
        out = F.apply(x, y, 2.5)
        out.exp().sum().backward()
        return out, record, x.grad, y.grad
    same(case)


def test_needs_input_grad_under_no_grad_and_without_grad_inputs():
    def case(lib):
        record = []
        F = make_scaled_mul(lib, record)
        x = leaf(lib, arr(3, seed=1))
        y = leaf(lib, arr(3, seed=2), requires_grad=False)
        with lib.no_grad():
            a = F.apply(x, y, 2.0)
        b = F.apply(y, y, 2.0)
        return record, a.requires_grad, a.grad_fn is None, b.requires_grad, b.grad_fn is None
    same(case)


def test_setup_context_style_function():
    def case(lib):
        Scale = make_setup_context_function(lib)
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        out = Scale.apply(x, w, 1.5)
        (out * out).sum().backward()
        return out, out.grad_fn.name(), x.grad, w.grad
    same(case)


def test_function_applied_twice_and_combined_with_ops():
    def case(lib):
        Exp = make_exp(lib)
        Cube = make_cube(lib)
        x = leaf(lib, arr(4, seed=1))
        y = Exp.apply(Cube.apply(x) * 0.5) + Exp.apply(x.sin())
        y.sum().backward()
        return y, x.grad
    same(case)


def test_function_returning_an_input_unchanged():
    def case(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        x = leaf(lib, arr(3, seed=1))
        y = Identity.apply(x)
        flags = (y is x, y.is_leaf, y.grad_fn.name(), x.is_leaf, x.grad_fn is None)
        y.sum().backward()
        return flags, x.grad
    same(case)


def test_function_with_tuple_output_and_non_tensor_output():
    def case(lib):
        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x.exp(), 'meta'

            @staticmethod
            def backward(ctx, g1, g2, g3):
                return g1 * 2 + g2 * 3
        x = leaf(lib, arr(3, seed=1))
        a, b, tag = Split.apply(x)
        (a.sum() + b.sum()).backward()
        return tag, a.grad_fn is b.grad_fn, a.output_nr, b.output_nr, x.grad
    same(case)


def test_ops_inside_forward_are_not_recorded():
    def case(lib):
        class Outer(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                inner = x * x   # forward runs without recording a graph
                ctx.flags = (lib.is_grad_enabled(), inner.requires_grad)
                return inner

            @staticmethod
            def backward(ctx, grad):
                return grad * 10
        x = leaf(lib, arr(3, seed=1))
        y = Outer.apply(x)
        y.sum().backward()
        return y.grad_fn.flags, x.grad
    same(case)


def test_backward_runs_with_grad_mode_matching_create_graph():
    def case(lib):
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                seen.append((lib.is_grad_enabled(), grad.requires_grad))
                return grad * 2
        x = leaf(lib, arr(3, seed=1))
        Probe.apply(x).sum().backward(retain_graph=True)
        lib.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
        return seen
    same(case)


# ---------------------------------------------------------------------------------------------
# Gradients returned by backward
# ---------------------------------------------------------------------------------------------

def _returning(lib, grads_fn):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grads_fn(grad)
    return F


def _apply_and_backward(lib, x, grads_fn):
    _returning(lib, grads_fn).apply(x, 2.0).sum().backward()


def _x(lib):
    return {'x': leaf(lib, arr(3, seed=1))}


def test_wrong_number_of_gradients_raises():
    theirs, ours = same_error(_x, lambda lib, x: _apply_and_backward(lib, x, lambda g: (g,)),
                              mentions=['number of gradients', 'FBackward'])
    assert 'expected 2, got 1' in str(ours)
    same_error(_x, lambda lib, x: _apply_and_backward(lib, x, lambda g: (g, None, g)),
               mentions=['number of gradients'])


def test_extra_trailing_none_gradients_are_allowed():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        _apply_and_backward(lib, x, lambda g: (g * 3, None, None, None))
        return x.grad
    same(case)


def test_gradient_for_non_tensor_input_raises():
    same_error(_x, lambda lib, x: _apply_and_backward(lib, x, lambda g: (g, g)),
               mentions=['not a Variable'])


def test_non_tensor_gradient_raises_runtime_error():
    same_error(_x, lambda lib, x: _apply_and_backward(lib, x, lambda g: (1.0, None)))


def test_gradient_of_incompatible_shape_raises():
    same_error(_x, lambda lib, x: _apply_and_backward(lib, x, lambda g: (g[:2], None)),
               mentions=['FBackward', 'shape'])


def test_gradient_of_broadcast_shape_and_other_dtype_is_conformed():
    def case(lib):
        x = leaf(lib, arr(3, seed=1, dtype=np.float32))
        _apply_and_backward(lib, x, lambda g: (g.expand(2, 3).double() * 1.5, None))
        return x.grad
    same(case)


def test_none_gradient_for_input_also_used_elsewhere():
    def case(lib):
        class NoGrad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, grad):
                return None
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        (NoGrad.apply(y) + y).sum().backward()
        return x.grad
    same(case)


# ---------------------------------------------------------------------------------------------
# ctx: mark_dirty, mark_non_differentiable, set_materialize_grads, saved tensors
# ---------------------------------------------------------------------------------------------

def make_add_one_inplace(lib):
    class AddOne_(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 1
    return AddOne_


def test_mark_dirty_in_place_function():
    def case(lib):
        F = make_add_one_inplace(lib)
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        v0 = y._version
        out = F.apply(y)
        flags = (out is y, y._version - v0, y.grad_fn.name())
        (out * out).sum().backward()
        return flags, y, x.grad
    same(case)


def test_mark_dirty_on_leaf_requiring_grad_raises():
    # forward has already run (and modified x) when PyTorch refuses it, so x does change
    same_error(_x, lambda lib, x: make_add_one_inplace(lib).apply(x), mentions=['leaf'],
               unchanged=False)


def test_mark_dirty_invalidates_earlier_saved_use():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.sin()
        z = y * y                              # saves y (version 0)
        make_add_one_inplace(lib).apply(y)     # y's version moves on
        return {'x': x, 'z': z}
    theirs, ours = same_error(setup, lambda lib, x, z: z.sum().backward())
    current, expected = re.search(r'is at version (\d+); expected version (\d+)',
                                  str(theirs)).groups()
    assert f'version {current}' in str(ours) and f'version {expected}' in str(ours)


def make_values_and_flags(lib, record):
    class ValuesAndMask(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(mask)
            return x * mask, mask

        @staticmethod
        def backward(ctx, g_values, g_mask):
            record.append(None if g_mask is None else to_np(g_mask))
            (mask,) = ctx.saved_tensors
            return g_values * mask
    return ValuesAndMask


def test_mark_non_differentiable():
    def case(lib):
        F = make_values_and_flags(lib, [])
        x = leaf(lib, arr(5, seed=1))
        values, mask = F.apply(x)
        flags = (values.requires_grad, mask.requires_grad, mask.grad_fn is None, mask.is_leaf)
        (values * 3).sum().backward()
        return flags, values, mask, x.grad
    same(case)


def test_mark_non_differentiable_output_gets_zero_grad_in_backward():
    def case(lib):
        record = []
        F = make_values_and_flags(lib, record)
        x = leaf(lib, arr(5, seed=1))
        values, mask = F.apply(x)
        (values * 3).sum().backward()
        return record
    same(case)


@pytest.mark.parametrize('materialize', [True, False])
def test_set_materialize_grads(materialize):
    def case(lib):
        seen = []

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append((g1 is None, None if g2 is None else to_np(g2)))
                out = g1 * 2 if g1 is not None else None
                if g2 is not None:
                    out = out + g2 * 3 if out is not None else g2 * 3
                return out
        x = leaf(lib, arr(3, seed=1))
        a, b = Two.apply(x)
        a.sum().backward()     # b's gradient is undefined
        return seen, x.grad
    same(case)


def test_save_for_backward_with_none_and_non_tensor():
    def case(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                none, x = ctx.saved_tensors
                return grad * 2 if none is None else grad
        x = leaf(lib, arr(3, seed=1))
        F.apply(x).sum().backward()
        return x.grad
    same(case)

    def setup(lib):
        return _x(lib)

    def action(lib, x):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad
        Bad.apply(x)
    same_error(setup, action, mentions=['save_for_backward', 'int'])


def test_saved_tensors_after_free_raise():
    def setup(lib):
        Exp = make_exp(lib)
        x = leaf(lib, arr(3, seed=1))
        y = Exp.apply(x)
        y.sum().backward()
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: y.grad_fn.saved_tensors, mentions=['freed'])
    same_error(setup, lambda lib, x, y: y.sum().backward(), mentions=['retain_graph'])


def test_saved_input_modified_in_place_raises_with_versions():
    def setup(lib):
        F = make_scaled_mul(lib)
        x = leaf(lib, arr(3, seed=1))
        a = x * 1
        out = F.apply(a, x, 2.0)
        a.mul_(2)
        return {'x': x, 'out': out}
    theirs, ours = same_error(setup, lambda lib, x, out: out.sum().backward())
    current, expected = re.search(r'is at version (\d+); expected version (\d+)',
                                  str(theirs)).groups()
    assert f'version {current}' in str(ours) and f'version {expected}' in str(ours)


def test_saved_output_modified_in_place_raises():
    def setup(lib):
        Exp = make_exp(lib)
        x = leaf(lib, arr(3, seed=1))
        y = Exp.apply(x)
        y.mul_(2)
        return {'x': x, 'y': y}
    theirs, ours = same_error(setup, lambda lib, x, y: y.sum().backward())
    assert 'version 1' in str(ours) and 'version 0' in str(ours)


def test_saved_tensors_retain_graph_allows_second_backward():
    def case(lib):
        Exp = make_exp(lib)
        x = leaf(lib, arr(3, seed=1))
        y = Exp.apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return x.grad
    same(case)


# ---------------------------------------------------------------------------------------------
# Higher order through Functions, once_differentiable
# ---------------------------------------------------------------------------------------------

def test_double_backward_through_function():
    def case(lib):
        Cube = make_cube(lib)
        x = leaf(lib, arr(4, seed=1))
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g, gg
    same(case)


def make_once(lib):
    class OnceCube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x
    return OnceCube


def test_once_differentiable_first_order():
    def case(lib):
        F = make_once(lib)
        x = leaf(lib, arr(4, seed=1))
        F.apply(x).sum().backward()
        (g,) = lib.autograd.grad(F.apply(x).sum(), x)
        (g2,) = lib.autograd.grad(F.apply(x).sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad((F.apply(x) ** 2).sum(), x, create_graph=True)
        return x.grad, g, g2, g2.requires_grad, g3, g3.requires_grad
    same(case)


def test_once_differentiable_second_order_raises():
    def setup(lib):
        F = make_once(lib)
        x = leaf(lib, arr(4, seed=1))
        # the incoming gradient 2*y requires grad, so the result is marked non-differentiable
        (g,) = lib.autograd.grad((F.apply(x) ** 2).sum(), x, create_graph=True)
        return {'x': x, 'g': g}
    same_error(setup, lambda lib, x, g: g.sum().backward(), mentions=['once_differentiable'])


def test_once_differentiable_is_exported_like_pytorch():
    same(lambda lib: lib.autograd.function.once_differentiable.__name__)


# ---------------------------------------------------------------------------------------------
# Anomaly mode with a Function whose backward returns nan
# ---------------------------------------------------------------------------------------------

def make_nan_backward(lib):
    class NanGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * float('nan')
    return NanGrad


def test_function_returning_nan_under_anomaly_mode():
    def setup(lib):
        return _x(lib)

    def action(lib, x):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with lib.autograd.detect_anomaly():
                make_nan_backward(lib).apply(x).sum().backward()
    theirs, ours = same_error(setup, action)
    node = re.search(r"Function '(\w+)'", str(theirs)).group(1)
    assert node in str(ours) and 'nan' in str(ours)


def test_function_returning_nan_without_anomaly_mode():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        make_nan_backward(lib).apply(x).sum().backward()
        return x.grad
    same(case)


# ---------------------------------------------------------------------------------------------
# gradcheck / gradgradcheck
# ---------------------------------------------------------------------------------------------

def _inputs(lib, *shapes, seed=1):
    return tuple(leaf(lib, arr(*s, seed=seed + i)) for i, s in enumerate(shapes))


GRADCHECK_CASES = {
    'sin_exp': (lambda lib: (lambda x: x.sin() * x.exp()), [(3, 2)]),
    'matmul_tanh': (lambda lib: (lambda a, b: (a @ b).tanh()), [(2, 3), (3, 4)]),
    'broadcast_div': (lambda lib: (lambda a, b: a / (b * b + 1)), [(2, 3), (3,)]),
    'two_outputs': (lambda lib: (lambda a: (a.sum(dim=0), a.exp())), [(2, 2)]),
    'custom_exp': (lambda lib: make_exp(lib).apply, [(4,)]),
    'custom_cube': (lambda lib: make_cube(lib).apply, [(2, 2)]),
    'custom_setup_context': (lambda lib: (lambda x, w: make_setup_context_function(lib).apply(
        x, w, 0.7)), [(2, 3), (3,)]),
}


@pytest.mark.parametrize('lib', LIBS)
@pytest.mark.parametrize('name', list(GRADCHECK_CASES))
def test_gradcheck_and_gradgradcheck_pass_on_correct_functions(lib, name):
    make_fn, shapes = GRADCHECK_CASES[name]
    fn = make_fn(lib)
    inputs = _inputs(lib, *shapes)
    assert lib.autograd.gradcheck(fn, inputs) is True
    assert lib.autograd.gradgradcheck(fn, inputs) is True


def test_gradcheck_with_non_tensor_and_no_grad_inputs():
    def case(lib):
        F = make_scaled_mul(lib)
        x = leaf(lib, arr(3, seed=1))
        y = leaf(lib, arr(3, seed=2), requires_grad=False)
        return lib.autograd.gradcheck(F.apply, (x, y, 1.5)), x.grad, y.grad
    same(case)


@pytest.mark.parametrize('check', ['gradcheck', 'gradgradcheck'])
def test_gradcheck_skips_outputs_that_do_not_require_grad(check):
    # an output beside the differentiable ones (a constant, an index) is not checked
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        return getattr(lib.autograd, check)(
            lambda t: (lib.zeros(2, dtype=t.dtype), (t ** 3).sum(), t.argmax()), (x,))
    same(case)


def test_gradcheck_fails_on_wrong_backward():
    def setup(lib):
        return _x(lib)
    theirs, ours = same_error(
        setup, lambda lib, x: lib.autograd.gradcheck(make_wrong_backward(lib).apply, (x,)),
        mentions=['jacobian mismatch'])
    assert isinstance(ours, RuntimeError)
    assert type(ours).__name__ == 'GradcheckError'
    assert ours.__class__ is nbgrad.autograd.GradcheckError

    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        return lib.autograd.gradcheck(make_wrong_backward(lib).apply, (x,), raise_exception=False)
    same(case)


def test_gradgradcheck_fails_on_wrong_second_derivative():
    def case(lib):
        F = make_detached_backward(lib)
        x = leaf(lib, arr(3, seed=1))
        first = lib.autograd.gradcheck(F.apply, (x,))
        second = lib.autograd.gradgradcheck(F.apply, (x,), raise_exception=False)
        try:
            lib.autograd.gradgradcheck(F.apply, (x,))
            raised = None
        except RuntimeError as e:
            raised = type(e).__name__
        return first, second, raised
    same(case)


def test_gradcheck_warns_on_single_precision():
    def case(lib):
        x = lib.tensor(arr(3, seed=1, dtype=np.float32), requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.autograd.gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2,
                                   raise_exception=False)
        return sorted({w.category.__name__ for w in caught
                       if 'double precision' in str(w.message)})
    same(case)


def test_gradcheck_needs_an_input_requiring_grad():
    def setup(lib):
        return {'x': leaf(lib, arr(3, seed=1), requires_grad=False)}
    same_error(setup, lambda lib, x: lib.autograd.gradcheck(lambda t: t * 2, (x,)),
               mentions=['requires_grad'])


@pytest.mark.parametrize('lib', LIBS)
def test_gradcheck_leaves_inputs_untouched(lib):
    x = leaf(lib, arr(2, 3, seed=1))
    before = to_np(x)
    assert lib.autograd.gradcheck(lambda t: (t * t).sum(dim=1), (x,))
    np.testing.assert_array_equal(to_np(x), before)
    assert x.grad is None


def test_reentrant_backward_keeps_the_outer_runs_grad_bookkeeping():
    """A Function whose backward runs autograd.grad (reentrant autograd): the outer backward
    still gives two leaves fed by one gradient array separate .grad tensors, as PyTorch does."""
    import torch

    def run(lib):
        class Inner(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                with lib.enable_grad():
                    y = x.detach().requires_grad_()
                    lib.autograd.grad((y * y).sum(), y)
                return g  # the same gradient object the other branch receives

        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, requires_grad=True)
        seed = lib.ones(3)
        (Inner.apply(a) + b).backward(seed)
        a.grad.add_(10)  # must reach neither b.grad nor the caller's gradient
        b.grad.add_(100)
        return a.grad.tolist(), b.grad.tolist(), seed.tolist()
    assert run(nbgrad) == run(torch)
