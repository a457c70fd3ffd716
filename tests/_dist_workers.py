"""Process targets for test_distributed.py (importable by name)."""
import numpy as np


def collectives(rank, world_size, init_method, results):
    import nbgrad
    import nbgrad.distributed as dist
    dist.init_process_group('gloo', init_method=init_method, rank=rank, world_size=world_size)
    try:
        out = {}
        t = nbgrad.tensor([rank + 1.0, 10.0 * rank])
        dist.all_reduce(t)
        out['sum'] = t.tolist()
        t = nbgrad.tensor([rank + 1.0])
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        out['max'] = t.tolist()
        t = nbgrad.tensor([float(rank)] * 2)
        dist.broadcast(t, src=world_size - 1)
        out['broadcast'] = t.tolist()
        parts = [nbgrad.zeros(2) for _ in range(world_size)]
        dist.all_gather(parts, nbgrad.tensor([rank, rank * 2.0]))
        out['all_gather'] = [p.tolist() for p in parts]
        t = nbgrad.zeros(1)
        dist.scatter(t, [nbgrad.tensor([100.0 + r]) for r in range(world_size)]
                     if rank == 0 else None, src=0)
        out['scatter'] = t.tolist()
        t = nbgrad.tensor([2.0 + rank])
        dist.reduce(t, dst=0, op=dist.ReduceOp.PRODUCT)
        out['reduce'] = t.tolist()
        dist.barrier()
        objs = [None] * world_size
        dist.all_gather_object(objs, {'rank': rank})
        out['objects'] = objs
        out['rank'], out['world'] = dist.get_rank(), dist.get_world_size()
        results[rank] = out
    finally:
        dist.destroy_process_group()


def ddp_training(rank, world_size, init_method, results, steps):
    """Each rank trains on its half of a fixed batch through DistributedDataParallel."""
    import nbgrad
    import nbgrad.distributed as dist
    dist.init_process_group('gloo', init_method=init_method, rank=rank, world_size=world_size)
    try:
        nbgrad.manual_seed(100 + rank)          # different initial weights: DDP syncs them
        model = nbgrad.nn.Sequential(nbgrad.nn.Linear(3, 4), nbgrad.nn.Tanh(),
                                     nbgrad.nn.Linear(4, 1))
        ddp = nbgrad.nn.parallel.DistributedDataParallel(model)
        optimizer = nbgrad.optim.SGD(ddp.parameters(), lr=0.1)
        x, y = batch()
        mine = slice(rank * 4, (rank + 1) * 4)
        for _ in range(steps):
            optimizer.zero_grad()
            nbgrad.nn.functional.mse_loss(ddp(x[mine]), y[mine]).backward()
            optimizer.step()
        results[rank] = [p.detach().numpy().tolist() for p in model.parameters()]
    finally:
        dist.destroy_process_group()


def batch():
    import nbgrad
    rng = np.random.default_rng(0)
    return (nbgrad.tensor(rng.standard_normal((8, 3)).astype(np.float32)),
            nbgrad.tensor(rng.standard_normal((8, 1)).astype(np.float32)))
