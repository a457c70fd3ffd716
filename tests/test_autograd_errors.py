"""Autograd misuse against PyTorch: the same kind of error, a message that names the problem, and
the tensors involved left exactly as they were.

Each test is written once as `case(lib)` and run with `lib` = torch and `lib` = nbgrad; the two
results (values, gradients, flags, or the kind of exception raised) are compared (helpers in
torch_compare.py)."""

import numpy as np
import pytest

from torch_compare import arr, leaf, same, same_error, to_np

torch = pytest.importorskip('torch')


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
