"""Edge cases where CuPy differs from NumPy (out-of-range indices wrap, host arrays refused, no
batch broadcasting in solve, as_strided without a base, scatter_add dtypes, empty bincount,
linalg errors only on request...), checked on every device against PyTorch on the CPU.

Each case runs fn(torch, 'cpu') and fn(nbgrad, device); nbgrad's results come back to the CPU
before they are compared (torch_compare.both: same values, dtype and shape, or the same kind of
exception). On CI 'cuda' is the CPU stand-in for CuPy (NBGRAD_FAKE_CUDA=1, tests/fake_cuda),
which imitates those CuPy behaviours; scripts/gpu_check runs the same tests on a real GPU.
The last section needs two GPUs (NBGRAD_FAKE_CUDA_DEVICES=2 gives the stand-in two).
"""
import numpy as np
import pytest

import nbgrad
from torch_compare import both, assert_same

torch = pytest.importorskip('torch')


def _cpu(value):
    if isinstance(value, nbgrad.Tensor):
        return value.cpu()
    if isinstance(value, (tuple, list)):
        return type(value)(_cpu(v) for v in value) if not hasattr(value, '_fields') else \
            type(value)(*(_cpu(v) for v in value))
    return value


def compare(fn, device, **options):
    """fn(lib, dev): torch on the CPU, nbgrad on `device` (results moved back to the CPU)."""
    return both(lambda lib: _cpu(fn(lib, 'cpu' if lib is torch else device)), **options)


def tensor(lib, dev, values, dtype=None):
    dtype = getattr(lib, dtype) if isinstance(dtype, str) else dtype
    return lib.tensor(values, dtype=dtype, device=dev)


# ---------------------------------------------------------------------------------------------
# Out-of-range indices: torch raises; CuPy would silently wrap them around
# ---------------------------------------------------------------------------------------------

def _x(lib, dev):
    return lib.arange(6., device=dev).reshape(2, 3)


def _setitem(lib, dev, index):
    x = _x(lib, dev)
    x[tensor(lib, dev, index)] = 1.0
    return x


OUT_OF_RANGE = {
    'gather': lambda lib, dev: _x(lib, dev).gather(1, tensor(lib, dev, [[0, 5], [1, 2]])),
    'gather_negative': lambda lib, dev: _x(lib, dev).gather(1, tensor(lib, dev, [[0, -1]])),
    'getitem': lambda lib, dev: _x(lib, dev)[tensor(lib, dev, [0, 2])],
    'getitem_negative': lambda lib, dev: _x(lib, dev)[tensor(lib, dev, [-3])],
    'getitem_second_axis': lambda lib, dev: _x(lib, dev)[:, tensor(lib, dev, [3])],
    'getitem_two_arrays': lambda lib, dev: _x(lib, dev)[tensor(lib, dev, [0, 1]),
                                                        tensor(lib, dev, [1, 4])],
    'setitem': lambda lib, dev: _setitem(lib, dev, [0, 2]),
    'setitem_negative': lambda lib, dev: _setitem(lib, dev, [-3]),
    'index_copy_': lambda lib, dev: _x(lib, dev).index_copy_(
        0, tensor(lib, dev, [2]), lib.ones(1, 3, device=dev)),
    'index_fill_': lambda lib, dev: _x(lib, dev).index_fill_(1, tensor(lib, dev, [3]), 1.0),
    'take': lambda lib, dev: _x(lib, dev).take(tensor(lib, dev, [6])),
    'take_negative': lambda lib, dev: _x(lib, dev).take(tensor(lib, dev, [-7])),
    'index_select': lambda lib, dev: _x(lib, dev).index_select(1, tensor(lib, dev, [3])),
    'scatter_add_': lambda lib, dev: lib.zeros(3, device=dev).scatter_add_(
        0, tensor(lib, dev, [0, 3]), lib.ones(2, device=dev)),
    'index_add_': lambda lib, dev: lib.zeros(3, device=dev).index_add_(
        0, tensor(lib, dev, [3]), lib.ones(1, device=dev)),
    'index_put_accumulate': lambda lib, dev: lib.zeros(3, device=dev).index_put_(
        (tensor(lib, dev, [4]),), lib.ones(1, device=dev), accumulate=True),
}


@pytest.mark.parametrize('case', list(OUT_OF_RANGE))
def test_out_of_range_index(device, case):
    compare(OUT_OF_RANGE[case], device)


def test_in_range_negative_indices(device):
    """Negative indices inside the range are fine (and mean the same as in torch)."""
    compare(lambda lib, dev: _x(lib, dev)[tensor(lib, dev, [-2, -1]), tensor(lib, dev, [-3, 2])],
            device)
    compare(lambda lib, dev: _x(lib, dev).take(tensor(lib, dev, [-6, 5])), device)


# ---------------------------------------------------------------------------------------------
# Python ints outside the tensor's dtype: torch wraps them into the dtype
# ---------------------------------------------------------------------------------------------

INT_SCALARS = {
    'uint8_minus_1': lambda lib, dev: tensor(lib, dev, [0, 5, 255], 'uint8') - 1,
    'int32_and_0xFFFFFFFF': lambda lib, dev: tensor(lib, dev, [-1, 5, 7], 'int32') & 0xFFFFFFFF,
    'int8_plus_200': lambda lib, dev: tensor(lib, dev, [1, 5, -100], 'int8') + 200,
    'uint8_times_300': lambda lib, dev: tensor(lib, dev, [1, 2], 'uint8') * 300,
    'int8_inplace_plus_200': lambda lib, dev: tensor(lib, dev, [1, 5], 'int8').add_(200),
    'int16_or_0x1FFFF': lambda lib, dev: tensor(lib, dev, [1, -2], 'int16') | 0x1FFFF,
}


@pytest.mark.parametrize('case', list(INT_SCALARS))
def test_out_of_range_python_int(device, case):
    compare(INT_SCALARS[case], device)


@pytest.mark.parametrize('case', ['scalar_base', 'tensor_base', 'scalar_exponent', 'float_base'])
def test_integer_negative_powers(device, case):
    """torch: an integer tensor exponent may be negative (1/x truncated: 0, or +-1 for a base of
    +-1); a negative Python int exponent on an integer tensor is an error."""
    def fn(lib, dev):
        exps = tensor(lib, dev, [-2, -1, 0, 3])
        if case == 'scalar_base':
            return 2 ** exps
        if case == 'tensor_base':
            return tensor(lib, dev, [-1, 1, 2, -3]) ** exps
        if case == 'scalar_exponent':
            return tensor(lib, dev, [1, 2, 3]) ** -1
        return 2.0 ** exps
    compare(fn, device)


# ---------------------------------------------------------------------------------------------
# 0-dim CPU tensors meeting tensors on `device` (torch allows them as scalars)
# ---------------------------------------------------------------------------------------------

def _inplace_mul(lib, dev):
    x = lib.arange(4., device=dev)
    with lib.no_grad():
        x.mul_(lib.tensor(2.))
    return x


def _inplace_mul_leaf(lib, dev):
    w = lib.ones(3, device=dev, requires_grad=True)
    with lib.no_grad():
        w.mul_(lib.tensor(0.5))
    return w.detach()


ZERO_DIM_CPU = {
    'mul_': _inplace_mul,
    'mul__leaf': _inplace_mul_leaf,
    'clamp_': lambda lib, dev: lib.arange(-3., 4., device=dev).clamp_(lib.tensor(-1.),
                                                                       lib.tensor(2.)),
    'clamp__min_only': lambda lib, dev: lib.arange(-3., 4., device=dev).clamp_(min=lib.tensor(0.)),
    'clamp': lambda lib, dev: lib.arange(-3., 4., device=dev).clamp(lib.tensor(-1.),
                                                                     lib.tensor(2.)),
    'masked_fill_': lambda lib, dev: lib.zeros(4, device=dev).masked_fill_(
        tensor(lib, dev, [True, False, True, False]), lib.tensor(7.)),
    'masked_fill': lambda lib, dev: lib.zeros(2, 2, device=dev).masked_fill(
        tensor(lib, dev, [[True, False], [False, True]]), lib.tensor(-1.)),
    'add_': lambda lib, dev: lib.ones(3, device=dev).add_(lib.tensor(2.), alpha=3),
    'where': lambda lib, dev: lib.where(tensor(lib, dev, [True, False]), lib.tensor(1.),
                                        lib.zeros(2, device=dev)),
    'index_fill_': lambda lib, dev: lib.zeros(3, device=dev).index_fill_(
        0, tensor(lib, dev, [1]), lib.tensor(5.)),
    'isclose': lambda lib, dev: lib.isclose(lib.arange(3., device=dev), lib.tensor(1.)),
    'isclose_cpu_first': lambda lib, dev: lib.isclose(lib.tensor(2.), lib.arange(3., device=dev)),
}


@pytest.mark.parametrize('case', list(ZERO_DIM_CPU))
def test_zero_dim_cpu_tensor_with_device_tensor(device, case):
    compare(ZERO_DIM_CPU[case], device)


# ---------------------------------------------------------------------------------------------
# linalg: torch broadcasts batch dimensions (CuPy's solve does not); errors vs NaN
# ---------------------------------------------------------------------------------------------

def _spd(lib, dev, *shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    a = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    return lib.tensor(a, device=dev)


def _rand(lib, dev, *shape, seed=1):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), device=dev)


LINALG = {
    'solve_batch_A_matrix_B': lambda lib, dev: lib.linalg.solve(_spd(lib, dev, 2, 3, 3),
                                                                _rand(lib, dev, 3, 4)),
    'solve_batch_A_vector_B': lambda lib, dev: lib.linalg.solve(_spd(lib, dev, 2, 3, 3),
                                                                _rand(lib, dev, 3)),
    'solve_broadcast_batches': lambda lib, dev: lib.linalg.solve(_spd(lib, dev, 2, 1, 3, 3),
                                                                 _rand(lib, dev, 4, 3, 2)),
    'solve_matrix_A_batch_B': lambda lib, dev: lib.linalg.solve(_spd(lib, dev, 3, 3),
                                                                _rand(lib, dev, 2, 3, 4)),
    'solve_triangular_broadcast_B': lambda lib, dev: lib.linalg.solve_triangular(
        _spd(lib, dev, 3, 3, 3).triu(), _rand(lib, dev, 3, 3), upper=True),
    'solve_triangular_broadcast_A': lambda lib, dev: lib.linalg.solve_triangular(
        _spd(lib, dev, 3, 3).tril(), _rand(lib, dev, 2, 3, 2), upper=False),
    'solve_singular': lambda lib, dev: lib.linalg.solve(lib.zeros(3, 3, device=dev),
                                                        lib.ones(3, device=dev)),
    'inv_singular': lambda lib, dev: lib.linalg.inv(lib.zeros(2, 2, dtype=lib.float64,
                                                              device=dev)),
    'cholesky_not_pd': lambda lib, dev: lib.linalg.cholesky(-_spd(lib, dev, 3, 3)),
}


@pytest.mark.parametrize('case', list(LINALG))
def test_linalg_shapes_and_failures(device, case):
    compare(LINALG[case], device, check=lambda g, e: assert_same(g, e, rtol=1e-9, atol=1e-9))


NAN_MATRICES = {  # torch 2.13 (CPU LAPACK): svd always refuses; eigh gives NaN for the first
    'offdiagonal': [[1., np.nan], [np.nan, 1.]],        # and refuses the second
    'diagonal': [[2., 1., 0.], [1., np.nan, 1.], [0., 1., 3.]],
}

NAN_INPUT = {
    f'{fn}_{m}': (lambda fn, m: lambda lib, dev: getattr(lib.linalg, fn)(
        lib.tensor(NAN_MATRICES[m], device=dev)))(fn, m)
    for fn in ('svd', 'svdvals', 'eigh', 'eigvalsh') for m in NAN_MATRICES}


@pytest.mark.parametrize('case', list(NAN_INPUT))
def test_linalg_of_matrix_with_nan(device, case):
    """torch: svd refuses non-finite input (LinAlgError, a RuntimeError); eigh gives NaN or
    refuses, as LAPACK's iteration goes; nbgrad must do what torch does. cuSOLVER's eigh goes
    its own way: on 'cuda', refusing with PyTorch's error is right too."""
    if device == 'cuda' and case.startswith('eig'):
        try:
            NAN_INPUT[case](nbgrad, device)
        except nbgrad.linalg.LinAlgError as e:
            assert 'linalg.eigh: The algorithm failed to converge' in str(e)
            return
    compare(NAN_INPUT[case], device, check=lambda g, e: assert_same(g, e, rtol=0, atol=0))


# ---------------------------------------------------------------------------------------------
# Views: storage offsets, and as_strided over views (CuPy's as_strided array has no base)
# ---------------------------------------------------------------------------------------------

VIEWS = {  # each makes a view of b = arange(20.).reshape(4, 5)
    'diagonal_offset_1': lambda b: b.diagonal(offset=1),
    'diagonal_offset_-2': lambda b: b.diagonal(offset=-2),
    'unfold': lambda b: b[1:].unfold(1, 2, 2),
    'slice_unfold': lambda b: b.reshape(-1)[3:].unfold(0, 3, 4),
    'as_strided': lambda b: b.as_strided((2, 2), (5, 1), 6),
    'as_strided_of_slice': lambda b: b[1:, 2:].as_strided((2, 2), (1, 5)),
    'as_strided_of_diagonal': lambda b: b.diagonal(offset=1).as_strided((2, 2), (6, 1)),
    'as_strided_of_unfold': lambda b: b[1:].unfold(1, 2, 2).as_strided((3,), (2,)),
    'as_strided_of_as_strided': lambda b: b.as_strided((3, 3), (5, 1), 2).as_strided((2,), (6,)),
    'slice_of_as_strided': lambda b: b.as_strided((3, 3), (5, 1), 2)[1:, 1],
    'diagonal_of_as_strided': lambda b: b.as_strided((3, 3), (5, 1), 1).diagonal(),
    'transpose_of_as_strided': lambda b: b[1:].as_strided((2, 3), (5, 1)).t(),
}


def _grid(lib, dev):
    return lib.arange(20., device=dev).reshape(4, 5)


@pytest.mark.parametrize('case', list(VIEWS))
def test_view_storage_offsets(device, case):
    def fn(lib, dev):
        v = VIEWS[case](_grid(lib, dev))
        return v, v.storage_offset(), tuple(v.stride()), tuple(v.shape)
    compare(fn, device)


@pytest.mark.parametrize('case', list(VIEWS))
def test_views_write_through(device, case):
    """A write through the view shows in the base tensor (as_strided views included), and the
    view sees a later write to the base."""
    def fn(lib, dev):
        b = _grid(lib, dev)
        v = VIEWS[case](b)
        v.mul_(-1)
        b.add_(100)
        return b, v.clone()
    compare(fn, device)


# ---------------------------------------------------------------------------------------------
# Accumulating writes in every dtype (CuPy's scatter_add takes only 32/64-bit types)
# ---------------------------------------------------------------------------------------------

ACCUMULATE_DTYPES = ['int64', 'int32', 'int8', 'uint8', 'bool', 'float16', 'float32']


def _values(lib, dev, dt):
    # repeated positions, and sums that overflow int8/uint8 (torch wraps them)
    return tensor(lib, dev, [True, True, False, True] if dt == 'bool' else [100, 100, 7, 1], dt)


ACCUMULATE = {
    'scatter_add_': lambda lib, dev, dt: lib.zeros(3, dtype=getattr(lib, dt), device=dev)
    .scatter_add_(0, tensor(lib, dev, [0, 0, 2, 1]), _values(lib, dev, dt)),
    'scatter_add': lambda lib, dev, dt: lib.ones(3, dtype=getattr(lib, dt), device=dev)
    .scatter_add(0, tensor(lib, dev, [2, 2, 2, 0]), _values(lib, dev, dt)),
    'index_add_': lambda lib, dev, dt: lib.zeros(3, dtype=getattr(lib, dt), device=dev)
    .index_add_(0, tensor(lib, dev, [0, 0, 2, 1]), _values(lib, dev, dt)),
    'index_put_accumulate': lambda lib, dev, dt: lib.zeros(3, dtype=getattr(lib, dt), device=dev)
    .index_put_((tensor(lib, dev, [1, 1, 1, 0]),), _values(lib, dev, dt), accumulate=True),
    'scatter_reduce_add_scalar': lambda lib, dev, dt: lib.zeros(3, dtype=getattr(lib, dt),
                                                                device=dev)
    .scatter_(0, tensor(lib, dev, [0, 0, 2]), 1.0 if dt.startswith('float') else 1,
              reduce='add'),
}


@pytest.mark.parametrize('dt', ACCUMULATE_DTYPES)
@pytest.mark.parametrize('case', list(ACCUMULATE))
def test_accumulating_writes(device, case, dt):
    compare(lambda lib, dev: ACCUMULATE[case](lib, dev, dt), device, quiet=True)


def test_scatter_reduce_add_float_value(device):
    compare(lambda lib, dev: lib.zeros(2, 3, device=dev).scatter_(
        1, tensor(lib, dev, [[0, 0, 2], [1, 1, 1]]), 1.0, reduce='add'), device, quiet=True)


def test_index_put_accumulate_2d(device):
    compare(lambda lib, dev: lib.zeros(3, 2, dtype=lib.int64, device=dev).index_put_(
        (tensor(lib, dev, [0, 0, 2]), tensor(lib, dev, [1, 1, 0])), tensor(lib, dev, [5, 6, 7]),
        accumulate=True), device)


# ---------------------------------------------------------------------------------------------
# Empty inputs
# ---------------------------------------------------------------------------------------------

EMPTY = {
    'bincount': lambda lib, dev: lib.bincount(lib.zeros(0, dtype=lib.int64, device=dev)),
    'bincount_minlength': lambda lib, dev: lib.bincount(lib.zeros(0, dtype=lib.int64, device=dev),
                                                        minlength=3),
    'bincount_weights': lambda lib, dev: lib.bincount(lib.zeros(0, dtype=lib.int64, device=dev),
                                                      weights=lib.zeros(0, device=dev),
                                                      minlength=2),
    'histc': lambda lib, dev: lib.histc(lib.zeros(0, device=dev), bins=4),
    'histc_range': lambda lib, dev: lib.histc(lib.zeros(0, device=dev), bins=3, min=0, max=1),
}


@pytest.mark.parametrize('case', list(EMPTY))
def test_empty_input(device, case):
    compare(EMPTY[case], device)


# ---------------------------------------------------------------------------------------------
# NumPy subclasses on the CPU
# ---------------------------------------------------------------------------------------------

def test_from_numpy_memmap(tmp_path):
    path = tmp_path / 'data.bin'
    np.arange(6, dtype=np.float32).tofile(path)

    def fn(lib):
        m = np.memmap(path, dtype=np.float32, mode='r+', shape=(2, 3))
        t = lib.from_numpy(m)
        return t + 1, (t * 2).sum(), t[1], t.device.type

    both(fn)


# ---------------------------------------------------------------------------------------------
# Two GPUs: work on cuda:1 stays on cuda:1 without set_device
# ---------------------------------------------------------------------------------------------

def two_gpus(test):
    """Marks a test that needs two CUDA devices (NBGRAD_FAKE_CUDA_DEVICES=2 on the stand-in)."""
    return pytest.mark.cuda(pytest.mark.skipif(
        not nbgrad.cuda.is_available() or nbgrad.cuda.device_count() < 2,
        reason='needs two CUDA devices')(test))


def _check_cuda1(got, expected):
    assert got.device == nbgrad.device('cuda', 1), got.device
    assert got._data.device.id == 1  # the memory really is on GPU 1
    assert_same(got.cpu(), expected, rtol=1e-6, atol=1e-6)
    assert nbgrad.cuda.current_device() == 0  # nothing switched the current device for good


CUDA1_OPS = {
    'add': lambda lib, dev, x, y: x + y,
    'mul_sum': lambda lib, dev, x, y: (x * y).sum(),
    'matmul': lambda lib, dev, x, y: x @ y.T,
    'index': lambda lib, dev, x, y: x[lib.tensor([1, 0], device=dev)],
    'mask': lambda lib, dev, x, y: x[x > 0],
    'where': lambda lib, dev, x, y: lib.where(x > 0, x, y),
    'gather': lambda lib, dev, x, y: x.gather(1, lib.tensor([[0], [2]], device=dev)),
    'cat': lambda lib, dev, x, y: lib.cat([x, y]),
    'log_softmax': lambda lib, dev, x, y: x.exp().log_softmax(-1),
    'sort': lambda lib, dev, x, y: x.sort(-1).values,
    'cumsum': lambda lib, dev, x, y: x.cumsum(0),
    'max_dim': lambda lib, dev, x, y: x.max(1).values,
    'cpu_scalar': lambda lib, dev, x, y: x * lib.tensor(3.),
    'solve': lambda lib, dev, x, y: lib.linalg.solve(
        x @ x.T + 3 * lib.eye(2, dtype=x.dtype, device=dev), y),
    'svd': lambda lib, dev, x, y: lib.linalg.svdvals(x),
}


@two_gpus
@pytest.mark.parametrize('case', list(CUDA1_OPS))
def test_cuda1_ops_stay_on_cuda1(case):
    xs = np.array([[1., -2., 3.], [0.5, 4., -1.]])
    ys = np.array([[2., 1., 0.], [-1., 3., 2.]])
    op = CUDA1_OPS[case]
    expected = op(torch, 'cpu', torch.tensor(xs), torch.tensor(ys))
    got = op(nbgrad, 'cuda:1', nbgrad.tensor(xs, device='cuda:1'),
             nbgrad.tensor(ys, device='cuda:1'))
    _check_cuda1(got, expected)


CUDA1_MAKERS = {
    'rand': lambda: nbgrad.rand(4, device='cuda:1'),
    'randn': lambda: nbgrad.randn(2, 3, device='cuda:1'),
    'randint': lambda: nbgrad.randint(0, 5, (3,), device='cuda:1'),
    'randperm': lambda: nbgrad.randperm(5, device='cuda:1'),
    'zeros': lambda: nbgrad.zeros(2, device='cuda:1'),
    'arange': lambda: nbgrad.arange(3, device='cuda:1'),
    'full': lambda: nbgrad.full((2,), 7., device='cuda:1'),
    'tensor': lambda: nbgrad.tensor([1, 2], device='cuda:1'),
    'cpu_to_cuda1': lambda: nbgrad.ones(2).to('cuda:1'),
    'cuda0_to_cuda1': lambda: nbgrad.ones(2, device='cuda:0').to('cuda:1'),
    'cuda0_cuda_1': lambda: nbgrad.ones(2, device='cuda:0').cuda(1),
    'empty_like': lambda: nbgrad.empty_like(nbgrad.ones(2, device='cuda:1')),
    'rand_like': lambda: nbgrad.rand_like(nbgrad.ones(2, device='cuda:1')),
}


@two_gpus
@pytest.mark.parametrize('case', list(CUDA1_MAKERS))
def test_cuda1_creation(case):
    t = CUDA1_MAKERS[case]()
    assert t.device == nbgrad.device('cuda', 1), t.device
    assert t._data.device.id == 1  # the memory really is on GPU 1
    assert nbgrad.cuda.current_device() == 0


@two_gpus
def test_cuda1_random_values():
    nbgrad.manual_seed(0)
    u = nbgrad.rand(20000, device='cuda:1').cpu().numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    assert sorted(nbgrad.randperm(50, device='cuda:1').cpu().tolist()) == list(range(50))


@two_gpus
def test_cuda1_backward():
    xs = np.array([[1., -2., 3.], [0.5, 4., -1.]])
    ws = np.array([[0.2, -0.1], [0.3, 0.4], [-0.5, 0.6]])

    def run(lib, dev):
        x = lib.tensor(xs, device=dev, requires_grad=True)
        w = lib.tensor(ws, device=dev, requires_grad=True)
        loss = ((x @ w).tanh() ** 2).mean() + x[lib.tensor([1, 0], device=dev)].sum()
        loss.backward()
        return x.grad, w.grad

    for got, expected in zip(run(nbgrad, 'cuda:1'), run(torch, 'cpu')):
        _check_cuda1(got, expected)


@two_gpus
def test_cuda1_inplace_and_views():
    xs = np.arange(12.).reshape(3, 4)

    def run(lib, dev):
        x = lib.tensor(xs, device=dev)
        x[lib.tensor([0, 2], device=dev)] += 1
        x.diagonal().mul_(-1)
        x.masked_fill_(x > 8, lib.tensor(0.))
        x.index_add_(0, lib.tensor([1, 1], device=dev), lib.ones(2, 4, device=dev, dtype=x.dtype))
        return x

    _check_cuda1(run(nbgrad, 'cuda:1'), run(torch, 'cpu'))


@two_gpus
def test_cuda0_and_cuda1_do_not_mix():
    with pytest.raises(RuntimeError, match='cuda:0.*cuda:1|cuda:1.*cuda:0'):
        nbgrad.ones(2, device='cuda:0') + nbgrad.ones(2, device='cuda:1')
