"""Tensor.grad_dtype (PyTorch 2.13): the dtype .grad is kept in, set per leaf; incoming
gradients are cast to it, None allows any dtype, and assigning .grad checks it. Compared with
PyTorch."""
import pytest

from torch_compare import both, dname

torch = pytest.importorskip('torch')


def _accumulated(lib, dtype, grad_dtype, make_loss):
    x = lib.ones(3, dtype=getattr(lib, dtype), requires_grad=True)
    x.grad_dtype = None if grad_dtype is None else getattr(lib, grad_dtype)
    for _ in range(2):
        make_loss(lib, x).backward()
    return x.grad, x.grad_dtype


CASES = {
    'default': lambda lib: (lib.ones(2, requires_grad=True).grad_dtype,
                            lib.ones(2, dtype=lib.float16).grad_dtype),
    'half_param_float_grads': lambda lib: _accumulated(
        lib, 'float16', 'float32', lambda lib, x: (x * 3).sum()),
    'bfloat16_param_float_grads': lambda lib: _accumulated(
        lib, 'bfloat16', 'float32', lambda lib, x: (x.float() * 0.1).sum()),
    'float_param_double_grads': lambda lib: _accumulated(
        lib, 'float32', 'float64', lambda lib, x: (x * 3).sum()),
    'any_dtype': lambda lib: _accumulated(lib, 'float32', None,
                                          lambda lib, x: (x.double() * 2).sum()),
    'assign_matching': lambda lib: _assign(lib, 'float64', 'float64'),
    'assign_mismatched': lambda lib: _assign(lib, 'float64', 'float32'),
    'assign_default_mismatch': lambda lib: _assign(lib, 'same', 'float64'),
    'assign_any': lambda lib: _assign(lib, None, 'float16'),
    'non_leaf_get': lambda lib: (lib.ones(2, requires_grad=True) * 2).grad_dtype,
    'non_leaf_set': lambda lib: setattr(lib.ones(2, requires_grad=True) * 2, 'grad_dtype',
                                        lib.float64),
    'not_a_dtype': lambda lib: setattr(lib.ones(2, requires_grad=True), 'grad_dtype',
                                       'float64'),
    'leaf_without_grad': lambda lib: _set_on_plain(lib),
}


def _assign(lib, grad_dtype, value_dtype):
    x = lib.ones(2, requires_grad=True)
    if grad_dtype != 'same':
        x.grad_dtype = None if grad_dtype is None else getattr(lib, grad_dtype)
    x.grad = lib.ones(2, dtype=getattr(lib, value_dtype))
    return x.grad


def _set_on_plain(lib):
    z = lib.ones(2)
    z.grad_dtype = lib.float64
    return z.grad_dtype


def _named(value):
    """dtypes by name (the two libraries' dtype objects differ), the rest as it is."""
    if isinstance(value, tuple):
        return tuple(_named(v) for v in value)
    return dname(value) if type(value).__name__ == 'dtype' else value


@pytest.mark.parametrize('name', sorted(CASES))
def test_same_as_pytorch(name):
    both(lambda lib: _named(CASES[name](lib)), quiet=True)
