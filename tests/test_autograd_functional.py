"""nbgrad.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against
torch.autograd.functional, on small functions with single and tuple inputs and outputs, with and
without create_graph, and against finite differences."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import LIBS, arr, same as _same, same_error as _same_error, to_np

torch = pytest.importorskip('torch')


def same(case, rtol=1e-9, atol=1e-12):
    return _same(case, rtol, atol)


def same_error(action, mentions=()):
    """action(lib) raises in PyTorch; nbgrad raises the same kind (and mentions `mentions`)."""
    return _same_error(lambda lib: {}, action, mentions)


def t(lib, *shape, seed=0, requires_grad=False):
    return lib.tensor(arr(*shape, seed=seed), requires_grad=requires_grad)


def grad_flags(value):
    """requires_grad of every tensor in a nested result."""
    if isinstance(value, (tuple, list)):
        return tuple(grad_flags(v) for v in value)
    return value.requires_grad


# ---------------------------------------------------------------------------------------------
# Functions and their inputs
# ---------------------------------------------------------------------------------------------

def f_vec(x):
    return x.sin() * x.exp() + x * x.sum()


def f_matrix(x):
    return (x @ x.t()).tanh()


def f_scalar(x):
    return (x ** 3).sum() + (x * x.flip(0)).sum() * 0.5


def f_two_in(x, y):
    return x * y.exp() + y.sin().sum()


def f_two_out(x):
    return x.sin(), x.sum() * x


def f_two_in_two_out(x, y):
    return x * y, (x.exp() * y).sum()


def f_uses_only_x(x, y):
    return x * 2


def f_scalar_two_in(x, y):
    return (x.sin() * y.exp().sum()).sum() + (x ** 2).sum() * (y * y).sum()


def f_linear(x):
    return (x * 3).sum()


# name: (function, input shapes)
JACOBIAN_CASES = {
    'vec': (f_vec, [(3,)]),
    'matrix': (f_matrix, [(2, 3)]),
    'scalar_out': (f_scalar, [(4,)]),
    'zero_dim_in': (lambda x: x.exp() * (x + 1), [()]),
    'two_in': (f_two_in, [(3,), (3,)]),
    'two_out': (f_two_out, [(3,)]),
    'two_in_two_out': (f_two_in_two_out, [(2,), (2,)]),
    'independent_input': (f_uses_only_x, [(3,), (2,)]),
}


def _inputs(lib, shapes, requires_grad=False, as_tuple=False):
    xs = tuple(t(lib, *s, seed=i + 1, requires_grad=requires_grad) for i, s in enumerate(shapes))
    return xs if (len(xs) > 1 or as_tuple) else xs[0]


# ---------------------------------------------------------------------------------------------
# jacobian
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('vectorize', [False, True])
@pytest.mark.parametrize('name', list(JACOBIAN_CASES))
def test_jacobian(name, vectorize):
    fn, shapes = JACOBIAN_CASES[name]
    same(lambda lib: lib.autograd.functional.jacobian(fn, _inputs(lib, shapes),
                                                      vectorize=vectorize))


def test_jacobian_of_one_tensor_given_as_a_tuple():
    same(lambda lib: lib.autograd.functional.jacobian(f_vec, _inputs(lib, [(3,)], as_tuple=True)))


@pytest.mark.parametrize('lib', LIBS)
def test_jacobian_matches_finite_differences(lib):
    a = arr(2, 3, seed=1)
    jac = to_np(lib.autograd.functional.jacobian(f_matrix, lib.tensor(a)))
    eps = 1e-6
    numeric = np.zeros((2, 2, 2, 3))
    for idx in np.ndindex(2, 3):
        d = np.zeros_like(a)
        d[idx] = eps
        numeric[(...,) + idx] = (to_np(f_matrix(lib.tensor(a + d))) -
                                 to_np(f_matrix(lib.tensor(a - d)))) / (2 * eps)
    np.testing.assert_allclose(jac, numeric, rtol=1e-6, atol=1e-9)


def test_jacobian_results_do_not_require_grad_without_create_graph():
    def case(lib):
        x = t(lib, 3, seed=1, requires_grad=True)
        jac = lib.autograd.functional.jacobian(f_vec, x)
        return jac, jac.requires_grad, x.grad
    same(case)


def test_jacobian_create_graph():
    def case(lib):
        x = t(lib, 3, seed=1, requires_grad=True)
        y = t(lib, 3, seed=2, requires_grad=True)
        jx, jy = lib.autograd.functional.jacobian(f_two_in, (x, y), create_graph=True)
        flags = grad_flags((jx, jy))
        (jx.sum() + (jy * jy).sum()).backward()
        return jx, jy, flags, x.grad, y.grad
    same(case)


def test_jacobian_strict_with_independent_input_raises():
    same_error(lambda lib: lib.autograd.functional.jacobian(
        f_uses_only_x, _inputs(lib, [(3,), (2,)]), strict=True), mentions=['independent'])




def test_jacobian_of_output_independent_of_all_inputs():
    same(lambda lib: lib.autograd.functional.jacobian(lambda x: x.detach() * 2 + 1,
                                                      t(lib, 3, seed=1)))


# ---------------------------------------------------------------------------------------------
# hessian
# ---------------------------------------------------------------------------------------------

HESSIAN_CASES = {
    'single': (f_scalar, [(4,)]),
    'matrix_input': (lambda x: (x.sin() * x).sum() + (x @ x.t()).sum(), [(2, 2)]),
    'two_inputs': (f_scalar_two_in, [(3,), (2,)]),
    'linear': (f_linear, [(3,)]),
    'zero_dim': (lambda x: x.exp() * x, [()]),
}


@pytest.mark.parametrize('fn, shapes', list(HESSIAN_CASES.values()), ids=list(HESSIAN_CASES))
def test_hessian(fn, shapes):
    same(lambda lib: lib.autograd.functional.hessian(fn, _inputs(lib, shapes)))


def test_hessian_create_graph():
    def case(lib):
        x = t(lib, 3, seed=1, requires_grad=True)
        h = lib.autograd.functional.hessian(lambda v: (v.sin() * v * v).sum(), x,
                                            create_graph=True)
        flag = h.requires_grad
        h.diagonal().sum().backward()
        return h, flag, x.grad
    same(case)


def test_hessian_of_non_scalar_function_raises():
    same_error(lambda lib: lib.autograd.functional.hessian(f_vec, t(lib, 3, seed=1)),
               mentions=['single'])


# ---------------------------------------------------------------------------------------------
# vjp / jvp
# ---------------------------------------------------------------------------------------------

def test_vjp_single():
    same(lambda lib: lib.autograd.functional.vjp(f_matrix, t(lib, 2, 3, seed=1),
                                                 t(lib, 2, 2, seed=2)))


def test_vjp_tuple_inputs_and_outputs():
    same(lambda lib: lib.autograd.functional.vjp(
        f_two_in_two_out, (t(lib, 2, seed=1), t(lib, 2, seed=2)),
        (t(lib, 2, seed=3), t(lib, seed=4))))


def test_vjp_without_v_for_scalar_output():
    same(lambda lib: lib.autograd.functional.vjp(f_scalar, t(lib, 4, seed=1)))


def test_vjp_without_v_for_non_scalar_output_raises():
    same_error(lambda lib: lib.autograd.functional.vjp(f_vec, t(lib, 3, seed=1)),
               mentions=['v'])


def test_vjp_independent_input_gives_zeros():
    same(lambda lib: lib.autograd.functional.vjp(
        f_uses_only_x, (t(lib, 3, seed=1), t(lib, 2, seed=2)), t(lib, 3, seed=3)))


def with_create_graph(which, fn, loss):
    """A case calling which(fn, x, v, create_graph=True) from autograd.functional: its two outputs,
    whether they require grad, and x.grad after loss(second output).backward()."""
    def case(lib):
        x = t(lib, 3, seed=1, requires_grad=True)
        v = t(lib, 3, seed=2)
        out, second = getattr(lib.autograd.functional, which)(fn, x, v, create_graph=True)
        flags = (out.requires_grad, second.requires_grad)
        loss(second).backward()
        return out, second, flags, x.grad
    return case


def test_vjp_create_graph():
    same(with_create_graph('vjp', f_vec, lambda g: g.sum()))


def test_jvp_single():
    same(lambda lib: lib.autograd.functional.jvp(f_matrix, t(lib, 2, 3, seed=1),
                                                 t(lib, 2, 3, seed=2)))


def test_jvp_tuple_inputs_and_outputs():
    same(lambda lib: lib.autograd.functional.jvp(
        f_two_in_two_out, (t(lib, 2, seed=1), t(lib, 2, seed=2)),
        (t(lib, 2, seed=3), t(lib, 2, seed=4))))


def test_jvp_without_v_for_one_element_input():
    same(lambda lib: lib.autograd.functional.jvp(lambda x: x.exp() * x.sin(), t(lib, seed=1)))


def test_jvp_without_v_for_larger_input_raises():
    same_error(lambda lib: lib.autograd.functional.jvp(f_vec, t(lib, 3, seed=1)),
               mentions=['v'])


def test_jvp_create_graph():
    same(with_create_graph('jvp', f_vec, lambda jv: (jv * jv).sum()))


def test_jvp_is_jacobian_times_v():
    # oracle independent of the double-backward trick: J @ v from PyTorch's jacobian
    x, v = arr(3, seed=1), arr(3, seed=2)
    jac = to_np(torch.autograd.functional.jacobian(f_vec, torch.tensor(x)))
    _, jv = nbgrad.autograd.functional.jvp(f_vec, nbgrad.tensor(x), nbgrad.tensor(v))
    np.testing.assert_allclose(to_np(jv), jac @ v, rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# hvp / vhp
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('which', ['hvp', 'vhp'])
def test_hvp_vhp_single(which):
    same(lambda lib: getattr(lib.autograd.functional, which)(
        lambda x: (x.sin() * x.exp()).sum() + (x ** 4).sum(), t(lib, 3, seed=1),
        t(lib, 3, seed=2)))


@pytest.mark.parametrize('which', ['hvp', 'vhp'])
def test_hvp_vhp_tuple_inputs(which):
    same(lambda lib: getattr(lib.autograd.functional, which)(
        f_scalar_two_in, (t(lib, 3, seed=1), t(lib, 2, seed=2)),
        (t(lib, 3, seed=3), t(lib, 2, seed=4))))


@pytest.mark.parametrize('which', ['hvp', 'vhp'])
def test_hvp_vhp_of_linear_function_is_zero(which):
    same(lambda lib: getattr(lib.autograd.functional, which)(f_linear, t(lib, 3, seed=1),
                                                             t(lib, 3, seed=2)))


@pytest.mark.parametrize('which', ['hvp', 'vhp'])
def test_hvp_vhp_without_v_for_one_element_input(which):
    same(lambda lib: getattr(lib.autograd.functional, which)(lambda x: (x.exp() * x).sum(),
                                                             t(lib, 1, seed=1)))


@pytest.mark.parametrize('which', ['hvp', 'vhp'])
def test_hvp_vhp_create_graph(which):
    same(with_create_graph(which, lambda a: (a.sin() * a * a).sum(), lambda hv: hv.sum()))


@pytest.mark.parametrize('which', ['hvp', 'vhp'])
def test_hvp_vhp_of_non_scalar_function_raises(which):
    same_error(lambda lib: getattr(lib.autograd.functional, which)(
        f_vec, t(lib, 3, seed=1), t(lib, 3, seed=2)), mentions=['single'])


def test_hvp_equals_hessian_times_v():
    def case(lib):
        x, v = t(lib, 4, seed=1), t(lib, 4, seed=2)
        h = lib.autograd.functional.hessian(f_scalar, x)
        _, hv = lib.autograd.functional.hvp(f_scalar, x, v)
        return h @ v, hv
    result = same(case)
    np.testing.assert_allclose(result[1], result[0], rtol=1e-10)


def test_functional_leaves_caller_tensors_alone():
    def case(lib):
        x = t(lib, 3, seed=1, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            lib.autograd.functional.jacobian(f_vec, x)
            lib.autograd.functional.hessian(f_scalar, t(lib, 4, seed=2))
            lib.autograd.functional.vjp(f_vec, x, t(lib, 3, seed=3))
        return x, x.grad, x.requires_grad, x.is_leaf
    same(case)


def test_functional_input_must_be_tensors():
    same_error(lambda lib: lib.autograd.functional.jacobian(f_vec, [1.0, 2.0]))


STRICT_CALLS = {
    'vjp': lambda F, xs, lib: F.vjp(lambda x, y: x * 2, xs, t(lib, 3, seed=3), strict=True),
    'jvp': lambda F, xs, lib: F.jvp(lambda x, y: x * 2, xs, (t(lib, 3, seed=3), t(lib, 2, seed=4)),
                                    strict=True),
    'hessian': lambda F, xs, lib: F.hessian(lambda x, y: (x * x).sum(), xs, strict=True),
    'vhp': lambda F, xs, lib: F.vhp(lambda x, y: (x * x).sum(), xs,
                                    (t(lib, 3, seed=3), t(lib, 2, seed=4)), strict=True),
    'hvp': lambda F, xs, lib: F.hvp(lambda x, y: (x * x).sum(), xs,
                                    (t(lib, 3, seed=3), t(lib, 2, seed=4)), strict=True),
}


@pytest.mark.parametrize('which', list(STRICT_CALLS))
def test_strict_mode_refuses_an_independent_input(which):
    same_error(lambda lib: STRICT_CALLS[which](lib.autograd.functional,
                                               (t(lib, 3, seed=1), t(lib, 2, seed=2)), lib),
               mentions=['independent'])


def _squares(lib):
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    return x, x ** 2


BATCHED_GRADS = {
    'jacobian_rows': lambda lib: (lambda x, y: lib.autograd.grad(
        y, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True))(*_squares(lib)),
    'unused_input': lambda lib: (lambda x, y: lib.autograd.grad(
        y, [x, lib.ones(2, requires_grad=True)], lib.eye(3, dtype=lib.float64),
        is_grads_batched=True, allow_unused=True))(*_squares(lib)),
    'second_order': lambda lib: (lambda x, y: lib.autograd.grad(lib.autograd.grad(
        y, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True, create_graph=True)[0].sum(),
        x))(*_squares(lib)),
    'two_outputs': lambda lib: (lambda x, w: lib.autograd.grad(
        ((x * x).sum(1), (w * 3).sum()), (x, w),
        (lib.eye(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)), is_grads_batched=True))(
        lib.ones(2, 3, dtype=lib.float64, requires_grad=True),
        lib.ones(2, dtype=lib.float64, requires_grad=True)),
}


@pytest.mark.parametrize('case', BATCHED_GRADS)
def test_grad_with_batched_grad_outputs(case):
    """is_grads_batched=True: one vector-Jacobian product per row of grad_outputs, stacked."""
    _same(BATCHED_GRADS[case])


def test_batched_grad_frees_the_graph_unless_retained():
    def case(lib):
        x, y = _squares(lib)
        lib.autograd.grad(y, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True)
        y.sum().backward()
    _same_error(lambda lib: {}, lambda lib: case(lib))
