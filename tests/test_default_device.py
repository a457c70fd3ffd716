"""set_default_device / get_default_device and `with nbgrad.device(...)`: PyTorch 2's default
device for factory functions. Factories without device= follow it (tensor(), also of a tensor,
zeros/ones/empty/full, arange/linspace/eye, the random factories, hence new nn layers); *_like
factories and ops follow their input, from_numpy stays on the CPU: what PyTorch does with its
'meta' device as the default (checked in test_pytorch_splits_factories_the_same_way)."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')


@pytest.fixture(autouse=True)
def restore_default():
    yield
    nbgrad.set_default_device(None)


FACTORIES = {
    'tensor': lambda lib: lib.tensor([1.0, 2.0]),
    'as_tensor(list)': lambda lib: lib.as_tensor([1.0, 2.0]),
    'as_tensor(ndarray)': lambda lib: lib.as_tensor(np.ones(2)),
    'zeros': lambda lib: lib.zeros(2, 3),
    'ones': lambda lib: lib.ones(2),
    'empty': lambda lib: lib.empty(2),
    'full': lambda lib: lib.full((2,), 7.0),
    'arange': lambda lib: lib.arange(5),
    'linspace': lambda lib: lib.linspace(0, 1, 5),
    'eye': lambda lib: lib.eye(3),
    'rand': lambda lib: lib.rand(3),
    'randn': lambda lib: lib.randn(3),
    'randint': lambda lib: lib.randint(0, 5, (3,)),
    'randperm': lambda lib: lib.randperm(4),
    'Linear weight': lambda lib: lib.nn.Linear(2, 3).weight,
    'tensor(tensor)': lambda lib: lib.tensor(lib.ones(2, device='cpu')),
}
FOLLOW_INPUT = {
    'zeros_like': lambda lib, x: lib.zeros_like(x),
    'randn_like': lambda lib, x: lib.randn_like(x),
    'x + 1': lambda lib, x: x + 1,
}


def test_the_default_is_the_cpu_and_reads_back_as_pytorchs():
    assert nbgrad.get_default_device() == nbgrad.device('cpu')
    assert str(nbgrad.get_default_device()) == str(torch.get_default_device())
    nbgrad.set_default_device('cpu')
    torch.set_default_device('cpu')
    try:
        assert str(nbgrad.get_default_device()) == str(torch.get_default_device())
    finally:
        torch.set_default_device(None)


@pytest.mark.parametrize('name', FACTORIES)
def test_factories_follow_the_default_device(name, device):
    nbgrad.set_default_device(device)
    assert FACTORIES[name](nbgrad).device.type == device
    nbgrad.set_default_device(None)
    assert FACTORIES[name](nbgrad).device.type == 'cpu'


@pytest.mark.parametrize('name', FOLLOW_INPUT)
def test_ops_on_a_tensor_follow_the_tensor(name, device):
    x = nbgrad.ones(2)                           # made on the CPU
    nbgrad.set_default_device(device)
    assert FOLLOW_INPUT[name](nbgrad, x).device.type == 'cpu'


def test_from_numpy_stays_on_the_cpu(device):
    nbgrad.set_default_device(device)
    a = np.ones(3)
    t = nbgrad.from_numpy(a)
    assert t.device.type == 'cpu' and np.shares_memory(t.numpy(), a)


def test_device_as_a_context_manager_nests_and_restores(device):
    with nbgrad.device(device):
        assert nbgrad.zeros(1).device.type == device
        with nbgrad.device('cpu'):
            assert nbgrad.zeros(1).device.type == 'cpu'
        assert nbgrad.get_default_device().type == device
    assert nbgrad.get_default_device() == nbgrad.device('cpu')
    with torch.device('cpu'):                    # the same API in PyTorch
        assert torch.zeros(1).device.type == 'cpu'


def test_a_seeded_draw_on_the_default_device_is_the_explicit_one(device):
    nbgrad.manual_seed(5)
    explicit = nbgrad.randn(4, device=device).cpu().numpy()
    nbgrad.set_default_device(device)
    nbgrad.manual_seed(5)
    np.testing.assert_array_equal(nbgrad.randn(4).cpu().numpy(), explicit)


def test_pytorch_splits_factories_the_same_way():
    """The split above, read off PyTorch with 'meta' (the one other device a CPU-only PyTorch
    has) as its default device."""
    x = torch.ones(2)
    torch.set_default_device('meta')
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for name, make in FACTORIES.items():
                assert make(torch).device.type == 'meta', name
            for name, op in FOLLOW_INPUT.items():
                assert op(torch, x).device.type == 'cpu', name
        assert torch.from_numpy(np.ones(2)).device.type == 'cpu'
    finally:
        torch.set_default_device(None)
