"""nbgrad.distributed: collectives among real processes (fork) through each init method, and
DistributedDataParallel training that equals single-process training on the whole batch."""
import multiprocessing
import socket

import numpy as np
import pytest

import nbgrad
import nbgrad.distributed as dist

import _dist_workers as workers

WORLD = 3


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(target, init_method, *args, world=WORLD):
    ctx = multiprocessing.get_context('fork')
    results = ctx.Manager().dict()
    processes = [ctx.Process(target=target, args=(rank, world, init_method, results, *args))
                 for rank in range(world)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
    assert [p.exitcode for p in processes] == [0] * world
    return dict(results)


@pytest.mark.parametrize('init', ['tcp', 'file', 'env'])
def test_collectives(tmp_path, monkeypatch, init):
    if init == 'tcp':
        method = f'tcp://127.0.0.1:{_free_port()}'
    elif init == 'file':
        method = f'file://{tmp_path}/rendezvous'
    else:
        monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
        monkeypatch.setenv('MASTER_PORT', str(_free_port()))
        method = 'env://'
    results = _run(workers.collectives, method)
    for rank in range(WORLD):
        out = results[rank]
        assert out['sum'] == [6.0, 30.0] and out['max'] == [3.0]
        assert out['broadcast'] == [2.0, 2.0]
        assert out['all_gather'] == [[r, 2.0 * r] for r in range(WORLD)]
        assert out['scatter'] == [100.0 + rank]
        assert out['reduce'] == ([24.0] if rank == 0 else [2.0 + rank])    # 2 * 3 * 4 at dst
        assert out['objects'] == [{'rank': r} for r in range(WORLD)]
        assert (out['rank'], out['world']) == (rank, WORLD)


def test_ddp_equals_training_on_the_whole_batch():
    steps = 5
    results = _run(workers.ddp_training, f'tcp://127.0.0.1:{_free_port()}', steps, world=2)
    # one process, the whole batch, rank 0's initial weights (DDP broadcast them)
    nbgrad.manual_seed(100)
    model = nbgrad.nn.Sequential(nbgrad.nn.Linear(3, 4), nbgrad.nn.Tanh(),
                                 nbgrad.nn.Linear(4, 1))
    optimizer = nbgrad.optim.SGD(model.parameters(), lr=0.1)
    x, y = workers.batch()
    for _ in range(steps):
        optimizer.zero_grad()
        nbgrad.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    expected = [p.detach().numpy() for p in model.parameters()]
    for rank in (0, 1):
        for got, want in zip(results[rank], expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_errors_before_and_outside_a_group(monkeypatch):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match='init_process_group'):
        dist.get_rank()
    with pytest.raises(ValueError, match='init_process_group'):
        dist.all_reduce(nbgrad.ones(1))
    with pytest.raises(RuntimeError, match='gloo'):
        dist.init_process_group('nccl', init_method='tcp://127.0.0.1:1', rank=0, world_size=1)
    monkeypatch.delenv('MASTER_ADDR', raising=False)
    with pytest.raises(ValueError, match='MASTER_ADDR'):
        dist.init_process_group('gloo', rank=0, world_size=1)
    with pytest.raises(ValueError, match='init_process_group'):
        nbgrad.nn.parallel.DistributedDataParallel(nbgrad.nn.Linear(1, 1))


def test_a_single_process_group_works_in_place():
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{_free_port()}', rank=0,
                            world_size=1)
    try:
        t = nbgrad.tensor([1.0, 2.0])
        assert dist.all_reduce(t, async_op=True).wait() and t.tolist() == [1.0, 2.0]
        with pytest.raises(ValueError, match='twice'):
            dist.init_process_group('gloo', init_method='tcp://127.0.0.1:1', rank=0,
                                    world_size=1)
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()


def test_distributed_sampler_reads_the_process_group():
    with pytest.raises(ValueError, match='init_process_group'):
        nbgrad.utils.data.DistributedSampler(range(6))
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{_free_port()}', rank=0,
                            world_size=1)
    try:
        sampler = nbgrad.utils.data.DistributedSampler(range(6), shuffle=False)
        assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, list(range(6)))
    finally:
        dist.destroy_process_group()
