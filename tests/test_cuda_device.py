"""nbgrad.cuda and CUDA tensors, on a real GPU (scripts/gpu_check.py) or, in CI, on the CPU
stand-in for CuPy (NBGRAD_FAKE_CUDA=1, see tests/fake_cuda). Values are compared with the same
computation on the CPU, which the op-table tests compare with PyTorch."""
import math

import numpy as np
import pytest

import nbgrad

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')]


def test_device_queries():
    assert nbgrad.cuda.device_count() >= 1
    assert nbgrad.cuda.current_device() == 0
    assert isinstance(nbgrad.cuda.get_device_name(), str)
    props = nbgrad.cuda.get_device_properties(0)
    assert props.total_memory > 0 and props.major >= 1
    with nbgrad.cuda.device(0):
        assert nbgrad.cuda.current_device() == 0
    nbgrad.cuda.synchronize()


def test_tensors_move_and_keep_values():
    a = nbgrad.arange(6.).reshape(2, 3)
    g = a.cuda()
    assert g.is_cuda and g.device == nbgrad.device('cuda', 0) and str(g.device) == 'cuda:0'
    assert g.to('cuda') is g and g.cuda() is g
    back = (g * 2 + 1).cpu()
    assert back.device.type == 'cpu'
    np.testing.assert_array_equal(back.numpy(), a.numpy() * 2 + 1)
    assert nbgrad.zeros(2, 3, device='cuda').is_cuda
    assert nbgrad.tensor([1, 2], device='cuda:0').tolist() == [1, 2]
    assert (g.sum()).item() == 15.0
    assert 'cuda:0' in repr(g)


def test_mixed_devices_name_both_devices():
    g = nbgrad.ones(3, device='cuda')
    with pytest.raises(RuntimeError, match='cuda:0.*cpu|cpu.*cuda:0'):
        g + nbgrad.ones(3)
    # a 0-dim CPU tensor may join a CUDA computation, as in PyTorch
    assert (g + nbgrad.tensor(2.0)).is_cuda
    with pytest.raises(TypeError, match='cpu'):
        g.numpy()


def test_autograd_on_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    xs, ws = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    grads = {}
    for device in ('cpu', 'cuda'):
        x = nbgrad.tensor(xs, device=device)
        w = nbgrad.tensor(ws, device=device, requires_grad=True)
        loss = (x @ w).tanh().pow(2).mean()
        loss.backward()
        assert w.grad.device.type == device
        grads[device] = w.grad.cpu().numpy()
    np.testing.assert_allclose(grads['cuda'], grads['cpu'], rtol=1e-6)


def test_rng_is_seeded_and_replayable():
    nbgrad.cuda.manual_seed(123)
    a = nbgrad.randn(1000, device='cuda')
    state = nbgrad.cuda.get_rng_state()
    b = nbgrad.rand(10, device='cuda')
    nbgrad.cuda.set_rng_state(state)
    c = nbgrad.rand(10, device='cuda')
    np.testing.assert_array_equal(b.cpu().numpy(), c.cpu().numpy())
    nbgrad.cuda.manual_seed(123)
    np.testing.assert_array_equal(nbgrad.randn(1000, device='cuda').cpu().numpy(),
                                  a.cpu().numpy())
    g = nbgrad.Generator('cuda').manual_seed(5)
    d = nbgrad.randint(0, 10, (50,), device='cuda', generator=g)
    assert d.dtype == nbgrad.int64 and 0 <= d.min().item() and d.max().item() < 10


def test_rng_statistics():
    n = 200_000
    nbgrad.manual_seed(0)
    u = nbgrad.rand(n, device='cuda').cpu().numpy()
    z = nbgrad.randn(n, device='cuda', dtype=nbgrad.float64).cpu().numpy()
    tol = 5 / math.sqrt(n)  # five standard errors
    assert abs(u.mean() - 0.5) < tol and abs(u.var() - 1 / 12) < tol
    assert abs(z.mean()) < tol and abs(z.std() - 1) < 2 * tol
    assert u.min() >= 0 and u.max() < 1
    perm = nbgrad.randperm(1000, device='cuda').cpu().numpy()
    assert sorted(perm.tolist()) == list(range(1000))


MIB = 1 << 20


def test_memory_statistics_follow_allocations():
    """Counted in bytes of CuPy's pool, which nbgrad did not compute (its own bookkeeping is the
    peak): a 4 MiB tensor raises allocated by 4 MiB; freeing it lowers allocated but not the
    peak or the cache (reserved) until empty_cache(); reset restarts the peaks."""
    import gc
    import threading
    cuda = nbgrad.cuda
    gc.collect()    # tensors of earlier tests left in reference cycles would be freed mid-test
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    before = cuda.memory_allocated()
    x = nbgrad.empty(MIB, device='cuda')  # float32: 4 MiB
    assert cuda.memory_allocated() - before == 4 * MIB
    assert cuda.max_memory_allocated() >= before + 4 * MIB
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    del x
    gc.collect()
    assert cuda.memory_allocated() == before
    assert cuda.max_memory_allocated() >= before + 4 * MIB  # the peak stays
    assert cuda.memory_reserved() >= before + 4 * MIB      # the block stays cached
    assert cuda.max_memory_reserved() >= cuda.memory_reserved()
    cached = cuda.memory_reserved()
    cuda.empty_cache()
    assert cuda.memory_reserved() <= cached - 4 * MIB
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated() == before

    def allocate_and_free():  # another thread (a pin-memory thread...) counts too
        nbgrad.empty(2 * MIB, device='cuda')
    worker = threading.Thread(target=allocate_and_free)
    worker.start()
    worker.join()
    gc.collect()
    assert cuda.max_memory_allocated() >= before + 8 * MIB
    assert cuda.memory_allocated() == before
    stats = cuda.memory_stats()
    assert stats['allocated_bytes.all.peak'] == cuda.max_memory_allocated()


@pytest.mark.skipif(nbgrad.cuda.device_count() < 2, reason='one GPU')
def test_memory_statistics_are_per_device():
    cuda = nbgrad.cuda
    before = [cuda.memory_allocated(i) for i in range(2)]
    x = nbgrad.empty(MIB, device='cuda:1')
    assert cuda.memory_allocated(1) - before[1] == 4 * MIB
    assert cuda.memory_allocated(0) == before[0]
    assert cuda.max_memory_allocated('cuda:1') >= before[1] + 4 * MIB
    del x


def test_streams_and_events():
    stream = nbgrad.cuda.Stream()
    start, end = nbgrad.cuda.Event(enable_timing=True), nbgrad.cuda.Event(enable_timing=True)
    with nbgrad.cuda.stream(stream):
        start.record(stream)
        y = nbgrad.ones(1000, device='cuda') * 3
        end.record(stream)
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    assert y.sum().item() == 3000
