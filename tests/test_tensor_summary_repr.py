"""set_printoptions(profile='summary'): one line per tensor, its numbers checked against NumPy
and its autograd state against PyTorch; any of PyTorch's profiles gives PyTorch's repr back."""
import re

import numpy as np
import pytest

import nbgrad
from nbgrad import _tensor_str as ts

torch = pytest.importorskip('torch')


@pytest.fixture(autouse=True)
def _default_printing():
    yield
    nbgrad.set_printoptions(profile='default')
    torch.set_printoptions(profile='default')


def summary(t):
    nbgrad.set_printoptions(profile='summary')
    return repr(t)


def stats(line):
    """{'min': x, 'max': y, ...} read back from a summary line."""
    return {k: float(v) for k, v in re.findall(r'\b(min|max|mean|std|value) (\S+)', line)}


def test_float_statistics_match_numpy():
    a = np.random.default_rng(0).standard_normal((32, 10)).astype(np.float32) * 3 + 1
    line = summary(nbgrad.tensor(a))
    assert line.startswith('tensor[32, 10] float32 cpu  min ')
    got = stats(line)
    want = {'min': a.min(), 'max': a.max(), 'mean': a.astype(np.float64).mean(),
            'std': a.astype(np.float64).std(ddof=1)}
    assert got.keys() == want.keys()
    for key in want:      # four significant digits by default (the precision print option)
        assert got[key] == pytest.approx(want[key], rel=6e-4), key
    assert 'nan' not in line and 'grad' not in line


def test_std_is_pytorchs_unbiased_std():
    values = [1., 2., 4., 7.]
    got = stats(summary(nbgrad.tensor(values)))['std']
    assert got == pytest.approx(torch.tensor(values).std().item(), rel=1e-3)


def test_nan_and_inf_are_counted_and_left_out_of_the_statistics():
    a = np.array([1.5, np.nan, -np.inf, 4.0, np.nan, np.inf, np.nan, -2.0], dtype=np.float64)
    line = summary(nbgrad.tensor(a))
    assert line.endswith(f' nan={np.isnan(a).sum()} inf={np.isinf(a).sum()}')
    finite = a[np.isfinite(a)]
    got = stats(line)
    assert got['min'] == finite.min() and got['max'] == finite.max()
    assert got['mean'] == pytest.approx(finite.mean(), rel=1e-3)
    assert got['std'] == pytest.approx(finite.std(ddof=1), rel=1e-3)
    assert summary(nbgrad.tensor([np.inf, 1., 2.])).endswith(' inf=1')
    assert 'nan=' not in summary(nbgrad.tensor([np.inf, 1., 2.]))
    assert summary(nbgrad.tensor([np.nan, np.nan])) == 'tensor[2] float32 cpu  nan=2'


def test_integers_have_no_std_and_bools_count_true():
    a = np.array([[3, -7, 12], [0, 5, 5]])
    line = summary(nbgrad.tensor(a))
    assert line == f'tensor[2, 3] int64 cpu  min {a.min()} max {a.max()} mean {a.mean():.4g}'
    b = np.random.default_rng(1).random(50) < 0.3
    assert summary(nbgrad.tensor(b)) == f'tensor[50] bool cpu  true {b.sum()}/50'


def test_empty_single_and_complex():
    assert summary(nbgrad.zeros(0, 3)) == 'tensor[0, 3] float32 cpu  empty'
    assert summary(nbgrad.tensor(2.5)) == 'tensor[] float32 cpu  value 2.5'
    assert summary(nbgrad.tensor([7])) == 'tensor[1] int64 cpu  value 7'
    z = np.array([3 + 4j, 1 - 1j, -2j], dtype=np.complex64)
    line = summary(nbgrad.tensor(z))
    assert line.startswith('tensor[3] complex64 cpu  abs min ')
    assert stats(line)['max'] == pytest.approx(np.abs(z).max())
    assert stats(line)['mean'] == pytest.approx(np.abs(z).mean(), rel=1e-3)


def test_autograd_state_as_pytorch_has_it():
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (2, 3), (2,)))
    lin = nbgrad.nn.functional.linear(nbgrad.tensor(x), nbgrad.tensor(w, requires_grad=True),
                                      nbgrad.tensor(b))
    torch_lin = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w, requires_grad=True),
                                           torch.tensor(b))
    assert summary(lin).endswith(f'  grad_fn={torch_lin.grad_fn.name()}')
    leaf = nbgrad.ones(3, requires_grad=True)
    assert summary(leaf).endswith('  requires_grad=True')
    assert 'requires_grad' not in summary(nbgrad.ones(3))
    param = nbgrad.nn.Parameter(nbgrad.ones(2, 2))
    assert summary(param).startswith('Parameter[2, 2] float32 cpu  ')
    assert summary(param).endswith('requires_grad=True')


def test_str_is_the_same_line_and_precision_sets_the_digits():
    t = nbgrad.tensor([1.23456789, 2.0])
    nbgrad.set_printoptions(profile='summary')
    assert str(t) == repr(t)
    nbgrad.set_printoptions(precision=2)
    assert 'min 1.2 max 2 mean 1.6' in repr(t)


def test_pytorch_profiles_return_to_pytorchs_repr_byte_for_byte():
    a = np.random.default_rng(3).standard_normal((40, 30)).astype(np.float32)
    want = repr(torch.tensor(a, requires_grad=True) * 2).replace('torch.', 'nbgrad.')
    t = nbgrad.tensor(a, requires_grad=True) * 2
    summary(t)
    nbgrad.set_printoptions(profile='default')
    assert repr(t) == want
    nbgrad.set_printoptions(profile='summary')
    nbgrad.set_printoptions(profile='short')
    torch.set_printoptions(profile='short')
    assert repr(t) == repr(torch.tensor(a, requires_grad=True) * 2).replace('torch.', 'nbgrad.')


def test_unknown_profiles_are_ignored_as_in_pytorch():
    torch.set_printoptions(profile='no-such-profile')       # PyTorch: no error, no change
    nbgrad.set_printoptions(profile='no-such-profile')
    assert nbgrad.get_printoptions() == torch._tensor_str.get_printoptions()
    nbgrad.set_printoptions(profile='summary')
    nbgrad.set_printoptions(profile='no-such-profile')
    assert repr(nbgrad.ones(2)).startswith('tensor[2] ')


def test_get_printoptions_and_the_context_manager_carry_the_summary():
    assert 'profile' not in nbgrad.get_printoptions()
    with nbgrad._tensor_str.printoptions(profile='summary'):
        assert repr(nbgrad.ones(2)) == 'tensor[2] float32 cpu  min 1 max 1 mean 1 std 0'
        opts = nbgrad.get_printoptions()
    assert opts == {**torch._tensor_str.get_printoptions(), 'profile': 'summary'}
    assert repr(nbgrad.ones(2)) == 'tensor([1., 1.])'
    nbgrad.set_printoptions(**opts)            # the dict round-trips
    assert repr(nbgrad.ones(2)).startswith('tensor[2] ')
    with ts.printoptions(precision=2):          # a block that leaves the summary on
        assert repr(nbgrad.tensor([1.2345, 1.])).startswith('tensor[2] float32 cpu  min 1 max 1.2')
    assert ts.PRINT_OPTS.precision == 4 and repr(nbgrad.ones(2)).startswith('tensor[2] ')


class _DeviceArray(np.ndarray):
    """Stands for a CuPy array in the summary (NumPy's ufuncs and reductions work on it, as
    they do on CuPy's): copying it to the host (.get()) is counted."""
    copies = 0

    def get(self):
        type(self).copies += 1
        return np.asarray(self).view(np.ndarray)


class _HostCopyOnly:
    """Stands for a CuPy array in PyTorch's format: only .get() gives its values."""

    def __init__(self, values):
        self.values = values

    def get(self):
        return self.values


def test_summary_of_a_device_array_moves_only_scalars():
    a = np.array([1., np.nan, 3., 4.], dtype=np.float32)
    kw = dict(dtype_name='float32', default_dtype_name='float32', device_str='cuda:0')
    nbgrad.set_printoptions(profile='summary')
    assert ts.format_tensor(a.view(_DeviceArray), **kw) == \
        'tensor[4] float32 cuda:0  min 1 max 4 mean 2.667 std 1.528 nan=1'
    assert _DeviceArray.copies == 0
    nbgrad.set_printoptions(profile='default')
    assert ts.format_tensor(_HostCopyOnly(a), **kw) == \
        "tensor([1., nan, 3., 4.], device='cuda:0')"
