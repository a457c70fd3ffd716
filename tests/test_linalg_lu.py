"""The LU family (ops/lu.py: nbgrad's own partial-pivoting LU, as NumPy has none): lu_factor,
lu_factor_ex, lu, lu_unpack, lu_solve, the older torch.lu / torch.lu_solve and the Tensor
methods, with their gradients, against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import nbgrad
from torch_compare import assert_same, both, compare_on_device


def _random(lib, *shape, seed=0, requires_grad=False):
    values = np.random.default_rng(seed).standard_normal(shape)
    return lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)


CASES = {
    'lu_factor batch': lambda lib: lib.linalg.lu_factor(_random(lib, 3, 4, 4)),
    'lu_factor of a strided view': lambda lib: lib.linalg.lu_factor(
        _random(lib, 2, 3, 4, 4).transpose(1, 3)[:, ::2]),
    'lu_factor_ex singular': lambda lib: lib.linalg.lu_factor_ex(
        lib.tensor([[1., 2.], [2., 4.]])),
    'lu_factor_ex zero column': lambda lib: lib.linalg.lu_factor_ex(
        lib.tensor([[0., 1., 2.], [0., 3., 4.], [0., 5., 7.]])),
    'lu wide': lambda lib: lib.linalg.lu(lib.tensor([[0., 1., 2.], [3., 4., 5.]])),
    'lu tall': lambda lib: lib.linalg.lu(lib.tensor([[0., 1., 2.], [3., 4., 5.]]).T),
    'lu complex': lambda lib: lib.linalg.lu(lib.tensor([[1 + 1j, 2], [3j, 4 - 1j]])),
    'lu float32': lambda lib: lib.linalg.lu(_random(lib, 5, 5).float()),
    'lu_solve': lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(_random(lib, 3, 4, 4)),
                                                _random(lib, 3, 4, 2, seed=1)),
    'lu_solve adjoint': lambda lib: lib.linalg.lu_solve(
        *lib.linalg.lu_factor(_random(lib, 3, 4, 4)), _random(lib, 3, 4, 2, seed=1),
        adjoint=True),
    'lu_solve right': lambda lib: lib.linalg.lu_solve(
        *lib.linalg.lu_factor(_random(lib, 3, 4, 4)), _random(lib, 3, 2, 4, seed=1),
        left=False),
    'lu_unpack': lambda lib: lib.lu_unpack(*lib.linalg.lu_factor(_random(lib, 2, 3, 3))),
    'lu_unpack pivots only': lambda lib: lib.lu_unpack(
        *lib.linalg.lu_factor(_random(lib, 3, 3)), unpack_data=False),
    'torch.lu': lambda lib: lib.lu(_random(lib, 3, 3), get_infos=True),
    'torch.lu_solve': lambda lib: lib.lu_solve(_random(lib, 3, 2, seed=1),
                                               *lib.linalg.lu_factor(_random(lib, 3, 3))),
    'Tensor.lu': lambda lib: _random(lib, 2, 3, 3).lu(),
    'lu_factor refuses a zero pivot': lambda lib: lib.linalg.lu_factor(
        lib.tensor([[[1., 0.], [0., 1.]], [[1., 2.], [2., 4.]]])),
    'no pivoting on the CPU': lambda lib: lib.linalg.lu_factor(lib.eye(2), pivot=False),
    'integer input': lambda lib: lib.linalg.lu_factor(lib.eye(2, dtype=lib.int64)),
}


@pytest.mark.parametrize('case', list(CASES))
def test_values_and_errors_match_pytorch(case):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # (torch.lu / torch.lu_solve are deprecated)
        both(CASES[case], check=lambda g, e: assert_same(g, e, rtol=1e-5, atol=1e-6))


def test_the_zero_pivot_error_names_the_batch_element_and_the_diagonal_entry():
    messages = []
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError) as info:
            lib.linalg.lu_factor(lib.tensor([[[1., 0.], [0., 1.]], [[1., 2.], [2., 4.]]]))
        messages.append(str(info.value).split(': ', 1)[1])
    assert messages[1] == messages[0]


def test_gradients_match_pytorch():
    def run(lib):
        A = _random(lib, 2, 3, 3, requires_grad=True)
        LU, _ = lib.linalg.lu_factor(A)
        (LU * lib.tensor(np.arange(18.).reshape(2, 3, 3))).sum().backward()
        B = _random(lib, 3, 3, seed=1, requires_grad=True)
        _, L, U = lib.linalg.lu(B)
        (L.sum() * 2 + (U ** 2).sum()).backward()
        C = _random(lib, 3, 3, seed=2, requires_grad=True)
        D = _random(lib, 3, 2, seed=3, requires_grad=True)
        lib.linalg.lu_solve(*lib.linalg.lu_factor(C), D, adjoint=True).sum().backward()
        return A.grad, B.grad, C.grad, D.grad
    assert_same(run(nbgrad), run(torch), rtol=1e-10, atol=1e-12)


def test_out_takes_the_results():
    def run(lib):
        LU, pivots = lib.empty(3, 3, dtype=lib.float64), lib.empty(3, dtype=lib.int32)
        result = lib.linalg.lu_factor(_random(lib, 3, 3), out=(LU, pivots))
        return result[0] is LU, result[1] is pivots, LU, pivots
    both(run)


@pytest.mark.cuda
def test_on_each_device(device):
    def run(lib, dev):
        A = _random(lib, 2, 4, 4).to(dev)
        LU, pivots, info = lib.linalg.lu_factor_ex(A)
        return LU, pivots, info, lib.linalg.lu_solve(LU, pivots, _random(lib, 2, 4, 1).to(dev))
    compare_on_device(run, device)
