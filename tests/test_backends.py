"""nbgrad.backends and the global switches PyTorch scripts set at the top (matmul precision,
threads, deterministic algorithms), against PyTorch: defaults, the links between switches,
validation errors, and the deterministic-algorithms errors of nbgrad's atomic CUDA ops."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')


@pytest.fixture(autouse=True)
def restore_switches():
    """Every test leaves both libraries' switches as it found them."""
    def snapshot(lib):
        return (lib.get_float32_matmul_precision(), lib.get_num_threads(),
                lib.are_deterministic_algorithms_enabled(),
                lib.is_deterministic_algorithms_warn_only_enabled(),
                [getattr(lib.backends.cudnn, n) for n in CUDNN_FLAGS])
    saved = {lib: snapshot(lib) for lib in (nbgrad, torch)}
    yield
    for lib, (precision, threads, deterministic, warn_only, cudnn) in saved.items():
        lib.set_float32_matmul_precision(precision)
        lib.set_num_threads(threads)
        lib.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        for name, value in zip(CUDNN_FLAGS, cudnn):
            setattr(lib.backends.cudnn, name, value)


CUDNN_FLAGS = ['enabled', 'benchmark', 'deterministic', 'allow_tf32']
MATMUL_FLAGS = ['allow_tf32', 'allow_fp16_reduced_precision_reduction',
                'allow_bf16_reduced_precision_reduction']


def test_defaults_are_pytorchs():
    for lib_a, lib_b in ((nbgrad, torch),):
        for name in CUDNN_FLAGS + ['benchmark_limit']:
            assert getattr(lib_a.backends.cudnn, name) == getattr(lib_b.backends.cudnn, name), name
        for name in MATMUL_FLAGS:
            assert getattr(lib_a.backends.cuda.matmul, name) == \
                getattr(lib_b.backends.cuda.matmul, name), name
    assert nbgrad.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    assert nbgrad.backends.cudnn.version() is None and not nbgrad.backends.cudnn.is_available()
    assert nbgrad.backends.mps.is_available() == torch.backends.mps.is_available()
    assert nbgrad.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert nbgrad.are_deterministic_algorithms_enabled() == \
        torch.are_deterministic_algorithms_enabled()
    assert nbgrad.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()


def test_a_training_scripts_first_lines_run():
    def script(lib):
        lib.backends.cudnn.benchmark = True
        lib.backends.cudnn.deterministic = False
        lib.backends.cuda.matmul.allow_tf32 = True
        lib.set_float32_matmul_precision('medium')
        with lib.backends.cudnn.flags(enabled=False, deterministic=True):
            inside = (lib.backends.cudnn.enabled, lib.backends.cudnn.deterministic)
        return (lib.backends.cudnn.benchmark, lib.backends.cudnn.enabled, inside,
                lib.get_float32_matmul_precision(), lib.backends.cuda.matmul.allow_tf32)
    assert script(nbgrad) == script(torch)


@pytest.mark.parametrize('steps', [['high'], ['medium', 'highest'], ['high', 'bogus'],
                                   ['HIGH']])
def test_matmul_precision_sets_the_tf32_switch(steps):
    def run(lib):
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            for step in steps:
                lib.set_float32_matmul_precision(step)
                seen.append((lib.get_float32_matmul_precision(),
                             lib.backends.cuda.matmul.allow_tf32))
        return seen, len(caught)   # an unknown name warns and changes nothing
    assert run(nbgrad) == run(torch)


def test_tf32_switch_sets_the_matmul_precision():
    """PyTorch's documented equivalence: allow_tf32 = True is set_float32_matmul_precision('high'),
    False is 'highest'. (PyTorch 2.13 itself refuses some mixes of the two calls in one process,
    so this side is not run against it.)"""
    nbgrad.backends.cuda.matmul.allow_tf32 = True
    assert nbgrad.get_float32_matmul_precision() == 'high'
    nbgrad.backends.cuda.matmul.allow_tf32 = False
    assert nbgrad.get_float32_matmul_precision() == 'highest'


@pytest.mark.parametrize('target, name, value', [
    ('cudnn', 'benchmark', 1), ('cudnn', 'enabled', 'yes'), ('cudnn', 'deterministic', None),
    ('cudnn', 'allow_tf32', 0), ('matmul', 'allow_tf32', 1),
    ('matmul', 'allow_fp16_reduced_precision_reduction', 1), ('matmul', 'no_such_switch', True)])
def test_bad_switch_values_raise_pytorchs_errors(target, name, value):
    def set_it(lib):
        obj = lib.backends.cudnn if target == 'cudnn' else lib.backends.cuda.matmul
        setattr(obj, name, value)
    assert_same_error(set_it)


@pytest.mark.parametrize('value', [0, -2, 2.0, '4', True])
def test_set_num_threads_refuses_what_pytorch_refuses(value):
    assert_same_error(lambda lib: lib.set_num_threads(value))


def test_set_num_threads_is_read_back_and_sizes_the_optimizer_pool():
    from nbgrad.optim._util import worker_count
    nbgrad.set_num_threads(1)
    assert nbgrad.get_num_threads() == 1 and worker_count() == 1
    nbgrad.set_num_threads(3)
    assert nbgrad.get_num_threads() == 3 and worker_count() == 3


def test_deterministic_switches_as_pytorchs():
    def run(lib):
        seen = []
        for mode, warn_only in ((True, False), (True, True), (False, True), (False, False)):
            lib.use_deterministic_algorithms(mode, warn_only=warn_only)
            seen.append((lib.are_deterministic_algorithms_enabled(),
                         lib.is_deterministic_algorithms_warn_only_enabled(),
                         lib.get_deterministic_debug_mode()))
        for debug in ('warn', 2, 'default', 1, 0):
            lib.set_deterministic_debug_mode(debug)
            seen.append(lib.get_deterministic_debug_mode())
        return seen
    assert run(nbgrad) == run(torch)
    for lib in (nbgrad, torch):   # (PyTorch's message names its private C function)
        with pytest.raises(TypeError, match="argument 'mode'.* must be bool, not int"):
            lib.use_deterministic_algorithms(1)
    assert_same_error(lambda lib: lib.set_deterministic_debug_mode('loud'))


def _grid_sample_backward(device):
    x = nbgrad.tensor(np.arange(16.0).reshape(1, 1, 4, 4), device=device, requires_grad=True)
    grid = nbgrad.tensor(np.random.default_rng(0).uniform(-1, 1, (1, 3, 3, 2)), device=device)
    nbgrad.nn.functional.grid_sample(x, grid, align_corners=False).sum().backward()
    return x.grad


def _index_add(device):
    x = nbgrad.zeros(4, device=device)
    return x.index_add_(0, nbgrad.tensor([1, 1, 2], device=device),
                        nbgrad.tensor([1.0, 2.0, 3.0], device=device))


@pytest.mark.parametrize('op', [_grid_sample_backward, _index_add])
def test_atomic_cuda_ops_refuse_under_deterministic_algorithms(op, device):
    """nbgrad's CUDA ops that add with atomics raise (warn with warn_only) when deterministic
    algorithms are asked for; the CPU's are deterministic and run."""
    expected = op('cpu').detach().cpu().numpy()
    nbgrad.use_deterministic_algorithms(True)
    if device == 'cpu':
        np.testing.assert_array_equal(op(device).detach().numpy(), expected)
        return
    with pytest.raises(RuntimeError, match='does not have a deterministic implementation'):
        op(device)
    nbgrad.use_deterministic_algorithms(True, warn_only=True)
    with pytest.warns(UserWarning, match='does not have a deterministic implementation'):
        got = op(device)
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected, rtol=1e-6)
