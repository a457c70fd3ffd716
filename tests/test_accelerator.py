"""torch.accelerator: the device-agnostic device selection of current tutorials, against
PyTorch on this CPU-only machine, and on (fake) CUDA devices as nbgrad's one accelerator."""
import pytest

import nbgrad

torch = pytest.importorskip('torch')


def _outcome(call):
    try:
        return ('ok', repr(call()).replace('nbgrad', 'torch'))
    except Exception as e:
        return (type(e).__name__, str(e))


@pytest.mark.parametrize('call', [
    lambda lib: lib.accelerator.is_available(),
    lambda lib: lib.accelerator.current_accelerator(),
    lambda lib: lib.accelerator.device_count(),
    lambda lib: lib.accelerator.current_device_index(),
    lambda lib: lib.accelerator.synchronize(),
    lambda lib: lib.accelerator.memory_allocated(),
    lambda lib: lib.accelerator.empty_cache(),
    lambda lib: (lib.accelerator.current_accelerator().type
                 if lib.accelerator.is_available() else 'cpu'),
])
def test_without_an_accelerator_as_pytorch(call):
    if nbgrad.cuda.is_available() or torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    assert _outcome(lambda: call(nbgrad)) == _outcome(lambda: call(torch))


@pytest.mark.cuda
def test_cuda_is_the_accelerator():
    if not nbgrad.cuda.is_available():
        pytest.skip('no CUDA device')
    acc = nbgrad.accelerator
    assert acc.is_available() and acc.current_accelerator() == nbgrad.device('cuda')
    assert acc.device_count() == nbgrad.cuda.device_count()
    assert acc.current_device_index() == nbgrad.cuda.current_device()
    with acc.device_index(acc.device_count() - 1):
        assert nbgrad.cuda.current_device() == acc.device_count() - 1
    assert acc.current_device_index() == nbgrad.cuda.current_device()
    x = nbgrad.ones(3, device=acc.current_accelerator())
    acc.synchronize()
    assert x.is_cuda and acc.memory_allocated() >= 0
