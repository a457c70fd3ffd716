"""Cases where nbgrad differed on samples from PyTorch's own OpInfo database (a sweep ran
op_db's sample inputs through both libraries), each compared with PyTorch."""
import pytest

from torch_compare import both

torch = pytest.importorskip('torch')


def _index_fill_value_grad(lib):
    lib.manual_seed(0)
    x = lib.randn(5, 5, dtype=lib.float64, requires_grad=True)
    value = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
    x.index_fill(1, lib.tensor([0, 2, 2, 4, 0]), value).backward(
        lib.ones(5, 5, dtype=lib.float64))
    return x.grad, value.grad


def _out_is_the_input(make):
    def run(lib):
        x = lib.arange(6.0)
        make(lib, x)
        return x
    return run


IDX = [0, 1, 2, 3, 4, 5]
CASES = {
    'index_fill_value_grad_with_repeated_indices': _index_fill_value_grad,
    'gcd_0d': lambda lib: (lib.gcd(lib.tensor(6), lib.tensor(4)),
                           lib.lcm(lib.tensor(6), lib.tensor(4)).tolist()),
    'flip_dims_keyword': lambda lib: lib.arange(6).view(2, 3).flip(dims=(0, 1)),
    'flip_unknown_keyword': lambda lib: lib.arange(6).view(2, 3).flip(dim=0),
    'logspace_negative_steps': lambda lib: lib.logspace(0, 3, -1),
    'linspace_float_steps': lambda lib: lib.linspace(0, 3, 1.0),
    'isclose_negative_rtol': lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-0.4),
    'isclose_negative_atol': lambda lib: lib.isclose(lib.ones(2), lib.ones(2), atol=-0.4),
    'gather_out_is_input': _out_is_the_input(
        lambda lib, x: lib.gather(x, 0, lib.tensor(IDX), out=x)),
    'index_select_out_is_input': _out_is_the_input(
        lambda lib, x: lib.index_select(x, 0, lib.tensor(IDX), out=x)),
    'masked_select_out_is_input': _out_is_the_input(
        lambda lib, x: lib.masked_select(x, x > 2, out=x)),
    'cat_out_is_input': _out_is_the_input(lambda lib, x: lib.cat([x, x], out=x)),
    'take_out_is_input': _out_is_the_input(lambda lib, x: lib.take(x, lib.tensor(IDX), out=x)),
    'kthvalue_out_is_input': _out_is_the_input(
        lambda lib, x: lib.kthvalue(x, 2, out=(x, lib.empty(0, dtype=lib.long)))),
    'masked_scatter_float_mask': lambda lib: lib.zeros(3).masked_scatter(lib.ones(3),
                                                                          lib.ones(3)),
    'masked_scatter_uint8_mask': lambda lib: lib.zeros(3).masked_scatter(
        lib.ones(3, dtype=lib.uint8), lib.ones(3)),
    'arange_infinite': lambda lib: lib.arange(0, float('inf')),
    'arange_nan': lambda lib: lib.arange(float('nan'), 3),
    'two_numbers_pow': lambda lib: lib.pow(2, 3),
    'two_numbers_xlogy': lambda lib: lib.xlogy(2, 3),
    'two_numbers_remainder': lambda lib: lib.remainder(7, 3),
    'two_numbers_bitwise_and': lambda lib: lib.bitwise_and(6, 3),
    'two_numbers_add_runs': lambda lib: lib.add(2, 3),
    'number_and_tensor_pow': lambda lib: (lib.pow(2, lib.tensor(3.0)),
                                          lib.remainder(7, lib.tensor(3))),
    'hsplit_string': lambda lib: lib.hsplit(lib.ones(4), 'abc'),
    'adaptive_avg_pool2d_1d': lambda lib: lib.nn.functional.adaptive_avg_pool2d(lib.ones(3), 2),
    'adaptive_max_pool2d_1d': lambda lib: lib.nn.functional.adaptive_max_pool2d(lib.ones(3), 2),
    'narrow_copy_dim': lambda lib: lib.ones(2, 3, 4).narrow_copy(-4, 0, 1),
    'cross_dim': lambda lib: lib.linalg.cross(lib.ones(2, 3), lib.ones(2, 3), dim=2),
    'embedding_0d_weight': lambda lib: lib.nn.functional.embedding(lib.tensor([0]),
                                                                   lib.tensor(1.0)),
    'empty_permuted_bad_dim': lambda lib: lib.empty_permuted((2, 3), (0, 2)),
    'empty_permuted_negative_dim': lambda lib: lib.empty_permuted((2, 3), (-1, 0)),
    'narrow_tensor_start': lambda lib: lib.narrow(lib.ones(5), 0, lib.tensor([1, 2]), 2),
    'narrow_bool_start': lambda lib: lib.narrow(lib.ones(5), 0, lib.tensor(True), 3),
    'narrow_0d_start': lambda lib: lib.narrow(lib.ones(5), 0, lib.tensor(1), 3),
    'add_out_is_input_runs': _out_is_the_input(lambda lib, x: lib.add(x, 1, out=x)),
    'sort_out_is_input_runs': _out_is_the_input(
        lambda lib, x: lib.sort(x, out=(x, lib.empty(0, dtype=lib.long)))),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_same_as_pytorch(name):
    both(CASES[name], quiet=True)
