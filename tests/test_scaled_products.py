"""addmm, addmv, baddbmm, addbmm and addr against PyTorch: each kernel's dtype errors, its
conversion of beta and alpha to the result's dtype (truncation on integers, errors for complex
numbers on real results, addr's refusals), and beta == 0, where input's values are ignored but
input keeps its place in the graph."""
import pytest

from torch_compare import assert_same_error, both

torch = pytest.importorskip('torch')


def _ones(lib, *shape, dtype='float32'):
    return lib.ones(*shape, dtype=getattr(lib, dtype))


# (function, (input shape, first shape, second shape))
SHAPES = {'addmm': ((2, 2), (2, 3), (3, 2)), 'addmv': ((2,), (2, 3), (3,)),
          'baddbmm': ((1, 2, 2), (1, 2, 3), (1, 3, 2)), 'addbmm': ((2, 2), (1, 2, 3), (1, 3, 2)),
          'addr': ((2, 2), (2,), (2,))}
DTYPE_TRIPLES = [(a, b, c) for a in ('float32', 'float64') for b in ('float32', 'float64')
                 for c in ('float32', 'float64') if not a == b == c]


def _call(lib, name, dtypes=('float32',) * 3, **scalars):
    shapes = SHAPES[name]
    args = [_ones(lib, *shape, dtype=dt) * (i + 2) for i, (shape, dt) in
            enumerate(zip(shapes, dtypes))]
    return getattr(lib, name)(*args, **scalars)


@pytest.mark.parametrize('dtypes', DTYPE_TRIPLES, ids='-'.join)
@pytest.mark.parametrize('name', ['addmm', 'addmv', 'baddbmm', 'addbmm'])
def test_mixed_dtypes_get_each_kernels_error(name, dtypes):
    assert_same_error(lambda lib: _call(lib, name, dtypes))


@pytest.mark.parametrize('dtypes', DTYPE_TRIPLES, ids='-'.join)
def test_addr_promotes(dtypes):
    both(lambda lib: _call(lib, 'addr', dtypes))


@pytest.mark.parametrize('scalars', [dict(alpha=1.5), dict(beta=0.5), dict(beta=-1.7),
                                     dict(alpha=0.5, beta=2.9), dict(alpha=True)], ids=str)
@pytest.mark.parametrize('name', ['addmm', 'addmv', 'baddbmm', 'addbmm'])
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8'])
def test_integer_results_truncate_beta_and_alpha(name, dtype, scalars):
    both(lambda lib: _call(lib, name, (dtype,) * 3, **scalars))


@pytest.mark.parametrize('scalars', [dict(alpha=2.5), dict(beta=2.5), dict(alpha=1j),
                                     dict(beta=True), dict(alpha=False, beta=2)], ids=str)
@pytest.mark.parametrize('dtype', ['int64', 'int8', 'float32', 'bool'])
def test_addr_scalar_rules(dtype, scalars):
    both(lambda lib: _call(lib, 'addr', (dtype,) * 3, **scalars))


@pytest.mark.parametrize('dtype', ['int64', 'int16', 'float32', 'float64', 'complex64'])
@pytest.mark.parametrize('name', ['addmm', 'addmv', 'baddbmm', 'addbmm'])
def test_complex_scalars_need_a_complex_result(name, dtype):
    both(lambda lib: _call(lib, name, (dtype,) * 3, alpha=1j))


@pytest.mark.parametrize('input_shape', [(2, 2), (2,), (1, 2)], ids=str)
@pytest.mark.parametrize('mats_require_grad', [False, True])
def test_beta_zero_ignores_input_values_but_not_its_gradient(input_shape, mats_require_grad):
    """input's NaNs do not reach the result, but input is in the graph: its gradient is
    grad * 0 summed to its shape (NaN where the incoming gradient is NaN), not None."""
    def run(lib):
        m = lib.full(input_shape, float('nan'), requires_grad=True)
        a = lib.ones(2, 2, requires_grad=mats_require_grad)
        r = lib.addmm(m, a, lib.ones(2, 2) * 3, beta=0)
        r.backward(lib.tensor([[1., float('nan')], [2., 1.]]))
        return r.detach(), r.requires_grad, m.grad, a.grad
    both(run)


def test_index_add_truncates_a_float_alpha_on_integers():
    both(lambda lib: [lib.tensor([1, 5]).index_add(0, lib.tensor([0, 1]), lib.tensor([3, 3]),
                                                   alpha=alpha) for alpha in (0.5, 1.7, -2.5)])
