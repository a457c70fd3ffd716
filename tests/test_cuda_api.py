"""nbgrad.device parsing against torch.device, and the nbgrad.cuda module on a machine without a
GPU: a clean is_available() == False, zero counts and memory statistics that match the CPU build of
PyTorch, and a RuntimeError that says CUDA is not available for anything that needs a GPU.
(PyTorch's CPU wheel raises AssertionError('Torch not compiled with CUDA enabled') there; nbgrad's
contract is a RuntimeError, so those checks assert nbgrad's contract directly.)"""
import pickle

import pytest

import nbgrad
from torch_compare import exc_kind

torch = pytest.importorskip('torch')

no_gpu = pytest.mark.skipif(nbgrad.cuda.is_available(),
                            reason='checks the behaviour without a usable GPU')


# -- device parsing ----------------------------------------------------------------------------

DEVICE_ARGS = {
    'cpu': ('cpu',), 'cuda': ('cuda',), 'cuda:0': ('cuda:0',), 'cuda:1': ('cuda:1',),
    'cuda:12': ('cuda:12',), 'type_and_index': ('cuda', 1), 'type_and_zero': ('cuda', 0),
    'cpu_type_and_zero': ('cpu', 0), 'cpu:0': ('cpu:0',), 'cpu:1': ('cpu:1',),
}
BAD_DEVICES = {
    'gpu': ('gpu',), 'upper': ('CUDA',), 'empty': ('',), 'letters': ('cuda:x',),
    'negative': ('cuda:-1',), 'two_colons': ('cuda:1:2',), 'space': (' cuda',),
    'space_index': ('cuda: 1',), 'leading_zero': ('cuda:01',),
    'index_twice': ('cuda:1', 1), 'negative_index_arg': ('cuda', -1), 'none': (None,),
    'float': (1.5,), 'list': (['cuda'],),
}


def described(d):
    return repr(d).replace('torch.', 'nbgrad.'), str(d), d.type, d.index


@pytest.mark.parametrize('case', DEVICE_ARGS)
def test_device_parsing_matches_torch(case):
    args = DEVICE_ARGS[case]
    assert described(nbgrad.device(*args)) == described(torch.device(*args))


@pytest.mark.parametrize('case', BAD_DEVICES)
def test_bad_devices_raise_like_torch(case):
    args = BAD_DEVICES[case]
    with pytest.raises(Exception) as expected:
        torch.device(*args)
    with pytest.raises(exc_kind(expected.value)):
        nbgrad.device(*args)


@pytest.mark.parametrize('a,b', [('cpu', 'cpu'), ('cuda', 'cuda'), ('cuda:0', 'cuda:0'),
                                 ('cuda', 'cuda:0'), ('cuda:0', 'cuda:1'), ('cpu', 'cuda')])
def test_device_equality_and_hash(a, b):
    for lib in (torch, nbgrad):
        da, db = lib.device(a), lib.device(b)
        assert (da == db) == (torch.device(a) == torch.device(b))
        assert (da != db) == (torch.device(a) != torch.device(b))
        if da == db:
            assert hash(da) == hash(db)
    assert (nbgrad.device(a) == a) == (torch.device(a) == a)  # a device never equals a string


@pytest.mark.parametrize('spec', ['cpu', 'cuda', 'cuda:3'])
def test_device_round_trips(spec):
    d = nbgrad.device(spec)
    assert nbgrad.device(d) == d and nbgrad.device(str(d)) == d
    assert pickle.loads(pickle.dumps(d)) == d
    assert described(nbgrad.device(nbgrad.device(spec))) == described(
        torch.device(torch.device(spec)))
    with pytest.raises(AttributeError):
        d.index = 5


@pytest.mark.parametrize('make', [lambda lib: lib.zeros(2), lambda lib: lib.tensor([1, 2]),
                                  lambda lib: lib.arange(3.0)[1:], lambda lib: lib.rand(2)],
                         ids=['zeros', 'tensor', 'view', 'rand'])
def test_cpu_tensor_device(make):
    for lib in (torch, nbgrad):
        t = make(lib)
        assert t.device == lib.device('cpu') and str(t.device) == 'cpu'
        assert t.device.type == 'cpu' and t.device.index is None
        assert t.is_cpu and not t.is_cuda and t.get_device() == -1
        assert t.to('cpu') is t and t.cpu() is t


# -- the cuda module without a GPU -------------------------------------------------------------

@no_gpu
def test_cuda_is_cleanly_unavailable():
    assert nbgrad.cuda.is_available() is False
    assert nbgrad.cuda.device_count() == 0
    assert nbgrad.cuda.is_initialized() is False


@no_gpu
@pytest.mark.parametrize('stat', ['memory_allocated', 'max_memory_allocated', 'memory_reserved',
                                  'max_memory_reserved', 'empty_cache'])
def test_memory_statistics_without_gpu(stat):
    """As in PyTorch's CPU build: counters are 0 and empty_cache() is a silent no-op."""
    assert getattr(nbgrad.cuda, stat)() == getattr(torch.cuda, stat)()


@no_gpu
@pytest.mark.parametrize('call', ['manual_seed', 'manual_seed_all', 'seed', 'seed_all'])
def test_cuda_seeding_is_a_silent_no_op_without_gpu(call):
    args = (1,) if call.startswith('manual') else ()
    assert getattr(nbgrad.cuda, call)(*args) is None
    assert getattr(torch.cuda, call)(*args) is None


NEEDS_GPU = {
    'zeros': lambda: nbgrad.zeros(2, device='cuda'),
    'ones_cuda0': lambda: nbgrad.ones(2, 3, device='cuda:0'),
    'empty_device_obj': lambda: nbgrad.empty(2, device=nbgrad.device('cuda')),
    'full': lambda: nbgrad.full((2,), 1.0, device='cuda'),
    'tensor': lambda: nbgrad.tensor([1.0, 2.0], device='cuda'),
    'tensor_cuda1': lambda: nbgrad.tensor([1.0], device='cuda:1'),
    'as_tensor': lambda: nbgrad.as_tensor([1.0], device='cuda'),
    'arange': lambda: nbgrad.arange(3, device='cuda'),
    'linspace': lambda: nbgrad.linspace(0, 1, 5, device='cuda'),
    'eye': lambda: nbgrad.eye(2, device='cuda'),
    'zeros_like': lambda: nbgrad.zeros_like(nbgrad.ones(2), device='cuda'),
    'rand': lambda: nbgrad.rand(2, device='cuda'),
    'randn': lambda: nbgrad.randn(2, device='cuda'),
    'randint': lambda: nbgrad.randint(0, 5, (2,), device='cuda'),
    'randperm': lambda: nbgrad.randperm(4, device='cuda'),
    'dot_cuda': lambda: nbgrad.ones(2).cuda(),
    'dot_cuda_index': lambda: nbgrad.ones(2).cuda(0),
    'to_cuda': lambda: nbgrad.ones(2).to('cuda'),
    'to_cuda_device_obj': lambda: nbgrad.ones(2).to(nbgrad.device('cuda:0')),
    'to_kwarg': lambda: nbgrad.ones(2).to(device='cuda', dtype=nbgrad.float64),
    'type_cuda_string': lambda: nbgrad.ones(2).type('torch.cuda.FloatTensor'),
    'new_zeros': lambda: nbgrad.ones(2).new_zeros(3, device='cuda'),
    'generator': lambda: nbgrad.Generator('cuda'),
    'current_device': lambda: nbgrad.cuda.current_device(),
    'synchronize': lambda: nbgrad.cuda.synchronize(),
    'set_device': lambda: nbgrad.cuda.set_device(0),
    'get_device_name': lambda: nbgrad.cuda.get_device_name(),
    'get_device_properties': lambda: nbgrad.cuda.get_device_properties(0),
    'stream': lambda: nbgrad.cuda.Stream(),
    'event': lambda: nbgrad.cuda.Event(enable_timing=True),
    'get_rng_state': lambda: nbgrad.cuda.get_rng_state(),
    'initial_seed': lambda: nbgrad.cuda.initial_seed(),
    'init': lambda: nbgrad.cuda.init(),
}


@no_gpu
@pytest.mark.parametrize('case', NEEDS_GPU)
def test_gpu_use_raises_clear_runtime_error(case):
    with pytest.raises(RuntimeError) as info:
        NEEDS_GPU[case]()
    message = str(info.value)
    assert 'CUDA' in message and 'not available' in message, message


@no_gpu
def test_failed_cuda_request_leaves_state_alone():
    x = nbgrad.arange(3.0)
    with pytest.raises(RuntimeError):
        x.cuda()
    assert x.device.type == 'cpu' and x._version == 0
    assert nbgrad.cuda.is_initialized() is False
    with pytest.raises(RuntimeError):
        x.to('cuda')
    assert nbgrad.cuda.memory_allocated() == 0


@no_gpu
def test_fork_rng_without_gpu_only_restores_cpu():
    nbgrad.manual_seed(0)
    before = nbgrad.get_rng_state()
    with nbgrad.random.fork_rng():
        nbgrad.rand(3)
    assert nbgrad.equal(nbgrad.get_rng_state(), before)
