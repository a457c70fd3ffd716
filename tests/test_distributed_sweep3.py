"""nbgrad.distributed against torch.distributed, both with 2 real processes (fork) running the
same function: DistributedDataParallel's gradients (normal training, accumulation, no_sync,
branches with find_unused_parameters=True) and its errors; collectives' argument errors; the
newer collectives, point-to-point and subgroups; and the torchrun-like launcher."""
import datetime
import os
import pickle
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip('torch')
import nbgrad  # noqa: E402

WORLD = 2


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _entry(fn, lib_name, rank, port, path, seconds):
    try:
        lib = torch if lib_name == 'torch' else nbgrad
        lib.distributed.init_process_group(
            'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=WORLD,
            timeout=datetime.timedelta(seconds=seconds))
        try:
            result = fn(lib, rank)
        except Exception as e:
            result = ('EXC', type(e).__name__, str(e))
        with open(f'{path}.{rank}', 'wb') as f:
            pickle.dump(result, f)
        lib.distributed.destroy_process_group()
    finally:
        os._exit(0)


def run_both(fn, tmp_path, seconds=30, libs=('torch', 'nbgrad')):
    """fn(lib, rank)'s result on each rank, under torch and under nbgrad."""
    import multiprocessing
    ctx = multiprocessing.get_context('fork')
    results = {}
    for lib in libs:
        path = str(tmp_path / lib)
        port = _free_port()
        procs = [ctx.Process(target=_entry, args=(fn, lib, r, port, path, seconds))
                 for r in range(WORLD)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(90)
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        outs = []
        for r in range(WORLD):
            assert os.path.exists(f'{path}.{r}'), f'{lib} rank {r} wrote no result'
            with open(f'{path}.{r}', 'rb') as f:
                outs.append(pickle.load(f))
        results[lib] = outs
    return results


def assert_close(got, want, where='result'):
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), where
        for k in want:
            assert_close(got[k], want[k], f'{where}[{k!r}]')
    elif isinstance(want, (list, tuple)) and not (want and all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in want)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f'{where}[{i}]')
    elif isinstance(want, (list, tuple, float)) and not isinstance(want, bool):
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                                   rtol=1e-5, atol=1e-6, err_msg=where)
    else:
        if isinstance(got, str):
            got = got.replace('nbgrad', 'torch')
        assert got == want, f'{where}: {got!r} != {want!r}'


def same(results):
    for rank in range(WORLD):
        assert_close(results['nbgrad'][rank], results['torch'][rank], f'rank {rank}')


# -- the models ---------------------------------------------------------------------------------
def _set_weights(lib, module, seed):
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))


def _data(lib, rank, rows=4):
    rng = np.random.default_rng(50 + rank)
    return (lib.tensor(rng.standard_normal((rows, 4)).astype(np.float32)),
            lib.tensor(rng.standard_normal((rows, 2)).astype(np.float32)))


def _grads(module):
    return {n: None if p.grad is None else p.grad.tolist() for n, p in module.named_parameters()}


def _branchy(lib):
    nn = lib.nn

    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)

        def forward(self, x, use_b=False):
            return self.b(x) if use_b else self.a(x)
    return Branchy()


# -- DistributedDataParallel ------------------------------------------------------------------
def ddp_training(lib, rank):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    _set_weights(lib, model, rank)              # different on each rank: DDP broadcasts rank 0's
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = lib.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    x, y = _data(lib, rank)
    out = {}
    for step in range(3):
        opt.zero_grad()
        ((ddp(x) - y) ** 2).mean().backward()
        out[f'grads{step}'] = _grads(model)
        opt.step()
    out['params'] = [p.tolist() for p in model.parameters()]
    # two synced backwards without zero_grad accumulate averaged gradients
    model.zero_grad()
    ((ddp(x) - y) ** 2).mean().backward()
    ((ddp(x[:2]) - y[:2]) ** 2).sum().backward()
    out['accumulated'] = _grads(model)
    # no_sync accumulates locally; the synced backward after averages the sums
    model.zero_grad()
    with ddp.no_sync():
        ((ddp(x) - y) ** 2).mean().backward()
    out['inside_no_sync'] = _grads(model)
    ((ddp(x[1:]) - y[1:]) ** 2).mean().backward()
    out['after_no_sync'] = _grads(model)
    # evaluation under no_grad does not start a reduction
    with lib.no_grad():
        out['eval'] = ddp(x).tolist()
    return out


def test_ddp_training_accumulation_and_no_sync_match_torch(tmp_path):
    same(run_both(ddp_training, tmp_path))


def ddp_find_unused(lib, rank):
    x, _ = _data(lib, rank, rows=3)
    module = _branchy(lib)
    _set_weights(lib, module, 7)
    ddp = lib.nn.parallel.DistributedDataParallel(module, find_unused_parameters=True)
    out = {}
    ddp(x, use_b=rank == 1).sum().backward()     # rank 0 uses a, rank 1 uses b, nobody c
    out['branches'] = _grads(module)
    ddp.zero_grad()
    ddp(x).sum().backward()
    out['both_a'] = _grads(module)
    ddp.zero_grad()
    with ddp.no_sync():
        ddp(x, use_b=rank == 1).sum().backward()
    ddp(x).sum().backward()
    out['no_sync_then_a'] = _grads(module)
    # a parameter unused everywhere keeps the gradient it had
    ddp(x).sum().backward()
    out['kept'] = _grads(module)
    return out


def test_ddp_find_unused_parameters_matches_torch(tmp_path):
    same(run_both(ddp_find_unused, tmp_path))


def ddp_unused_without_detection(lib, rank):
    x, _ = _data(lib, rank, rows=3)
    module = _branchy(lib)
    ddp = lib.nn.parallel.DistributedDataParallel(module)
    out = {}
    ddp(x).sum().backward()                      # b and c never get a gradient
    out['grads'] = _grads(module)                # (not averaged: the reduction never ran)
    with lib.no_grad():
        ddp(x)                                   # no error without grad
    try:
        ddp(x)
        out['second'] = 'no error'
    except RuntimeError as e:
        out['second'] = ('RuntimeError', str(e))
    return out


def test_ddp_unused_parameters_raise_torchs_error_at_next_forward(tmp_path):
    results = run_both(ddp_unused_without_detection, tmp_path)
    same(results)
    assert results['nbgrad'][1]['second'][1].startswith('Expected to have finished reduction')


def ddp_rank_dependent_branch(lib, rank):
    x, _ = _data(lib, rank, rows=3)
    ddp = lib.nn.parallel.DistributedDataParallel(_branchy(lib))
    ddp(x, use_b=rank == 1).sum().backward()     # would average a's grads with b's: must not
    try:
        ddp(x)
        return 'no error'
    except RuntimeError as e:
        return str(e).splitlines()[-2]           # which indices this rank missed


def test_ddp_rank_dependent_branches_fail_on_every_rank(tmp_path):
    same(run_both(ddp_rank_dependent_branch, tmp_path))


def ddp_marked_twice(lib, rank):
    nn = lib.nn

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 2)

        def forward(self, x):
            return self.a(x), self.b(x)
    x, _ = _data(lib, rank, rows=3)
    ddp = nn.parallel.DistributedDataParallel(TwoHeads())
    first, _ = ddp(x)
    first.sum().backward(retain_graph=True)
    try:
        first.sum().backward()
        return 'no error'
    except RuntimeError as e:
        return ('RuntimeError', str(e).split('.')[0])


def test_ddp_parameter_marked_ready_twice_raises(tmp_path):
    results = run_both(ddp_marked_twice, tmp_path)
    same(results)
    assert results['torch'][0][1] == 'Expected to mark a variable ready only once'


# -- collectives: errors --------------------------------------------------------------------------
def collective_errors(lib, rank):
    dist = lib.distributed
    out = {}

    def attempt(name, fn):
        try:
            fn()
            out[name] = 'ok'
        except Exception as e:
            out[name] = (type(e).__name__,
                         str(e).replace('nbgrad', 'torch').splitlines()[0][:60])
    attempt('avg int', lambda: dist.all_reduce(lib.ones(2, dtype=lib.int64),
                                               op=dist.ReduceOp.AVG))
    attempt('band float', lambda: dist.all_reduce(lib.ones(2), op=dist.ReduceOp.BAND))
    attempt('op str', lambda: dist.all_reduce(lib.ones(2), op='sum'))
    out['op str'] = out['op str'][0]              # (torch's text is pybind11's)
    attempt('all_gather dtype', lambda: dist.all_gather(
        [lib.zeros(2, dtype=lib.int64) for _ in range(2)], lib.ones(2)))
    attempt('all_gather shape', lambda: dist.all_gather([lib.zeros(3) for _ in range(2)],
                                                        lib.ones(2)))
    attempt('all_gather len', lambda: dist.all_gather([lib.zeros(2) for _ in range(3)],
                                                      lib.ones(2)))
    for what, fn in [('broadcast', lambda s: dist.broadcast(lib.ones(2), src=s)),
                     ('reduce', lambda s: dist.reduce(lib.ones(2), dst=s)),
                     ('scatter', lambda s: dist.scatter(lib.ones(2), None, src=s)),
                     ('gather', lambda s: dist.gather(lib.ones(2), None, dst=s))]:
        attempt(f'{what} root 2', lambda: fn(2))
        attempt(f'{what} root -1', lambda: fn(-1))
    t = lib.tensor([float(rank)])                 # and the group still works afterwards
    dist.all_reduce(t)
    out['after'] = t.tolist()
    out['repr'] = (repr(dist.ReduceOp.SUM), str(dist.ReduceOp.MAX), dist.ReduceOp.SUM == 'sum',
                   [n for n in ['BAND', 'BOR', 'BXOR', 'PREMUL_SUM'] if hasattr(dist.ReduceOp, n)])
    out['backend'] = (dist.Backend.GLOO, dist.Backend('GLOO'), dist.get_backend() == 'gloo')
    return out


def test_collective_errors_match_torch_and_leave_no_rank_waiting(tmp_path):
    same(run_both(collective_errors, tmp_path))


def _error_of(fn):
    try:
        fn()
    except Exception as e:
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize('lib', [torch, nbgrad], ids=['torch', 'nbgrad'])
def test_errors_outside_a_process_group(lib, monkeypatch):
    dist = lib.distributed
    results = {name: _error_of(fn) for name, fn in [
        ('get_rank', dist.get_rank), ('get_world_size', dist.get_world_size),
        ('timeout int', lambda: dist.init_process_group(
            'gloo', init_method='tcp://127.0.0.1:1', rank=0, world_size=1, timeout=5))]}
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '1')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.delenv('RANK', raising=False)
    results['env no RANK'] = _error_of(lambda: dist.init_process_group('gloo'))
    expected = {
        'get_rank': ('ValueError', 'Default process group has not been initialized, please '
                                   'make sure to call init_process_group.'),
        'timeout int': ('TypeError', 'Expected timeout argument to be of type '
                                     'datetime.timedelta, got 5'),
        'env no RANK': ('ValueError', 'Error initializing torch.distributed using env:// '
                                      'rendezvous: environment variable RANK expected, but not '
                                      'set')}
    expected['get_world_size'] = expected['get_rank']
    assert results == expected        # (these texts are torch 2.13's: both libraries run here)


def timeout_worker(lib, rank):
    import time
    if rank == 1:
        time.sleep(4)                  # skips the collective; rank 0 must not wait forever
        return 'skipped'
    try:
        lib.distributed.all_reduce(lib.ones(1))
        return 'returned'
    except RuntimeError:
        return 'RuntimeError'


def test_a_collective_times_out_with_the_groups_timeout(tmp_path):
    results = run_both(timeout_worker, tmp_path, seconds=2, libs=('nbgrad',))
    assert results['nbgrad'] == ['RuntimeError', 'skipped']     # (torch: RuntimeError too)


# -- collectives: the newer API -------------------------------------------------------------------
def newer_api(lib, rank):
    dist = lib.distributed
    out = {}
    t = lib.arange(4.0) + 10 * rank
    o = lib.zeros(2)
    dist.reduce_scatter(o, list(t.chunk(2)))
    out['reduce_scatter'] = o.tolist()
    o = lib.zeros(2)
    dist.reduce_scatter_tensor(o, t, op=dist.ReduceOp.MAX)
    out['reduce_scatter_tensor'] = o.tolist()
    o = lib.zeros(4)
    dist.all_gather_into_tensor(o, lib.tensor([1.0, 2.0]) * (rank + 1))
    out['all_gather_into_tensor'] = o.tolist()
    outs = [lib.zeros(2, dtype=lib.int64) for _ in range(2)]
    dist.all_to_all(outs, [lib.tensor([rank, r]) for r in range(2)])
    out['all_to_all'] = [x.tolist() for x in outs]
    o = lib.zeros(3 if rank == 0 else 2)
    dist.all_to_all_single(o, lib.arange(2.0 + rank) + 10 * rank,
                           output_split_sizes=[1, 2] if rank == 0 else [1, 1],
                           input_split_sizes=[1, 1] if rank == 0 else [2, 1])
    out['all_to_all_single'] = o.tolist()
    objs = [None, None] if rank == 1 else None
    dist.gather_object({'r': rank}, objs, dst=1)
    out['gather_object'] = objs
    got = [None]
    dist.scatter_object_list(got, ['to0', 'to1'] if rank == 0 else None, src=0)
    out['scatter_object_list'] = got
    t = lib.tensor([5, 3], dtype=lib.int64) + rank
    dist.all_reduce(t, op=dist.ReduceOp.BXOR)
    out['bxor'] = t.tolist()
    # point to point (isend before irecv on both ranks), and a blocking pair
    buf = lib.zeros(3)
    send = dist.isend(lib.ones(3) * (rank + 1), dst=1 - rank, tag=4)
    recv = dist.irecv(buf, src=1 - rank, tag=4)
    send.wait()
    recv.wait()
    out['isend/irecv'] = buf.tolist()
    if rank == 0:
        dist.send(lib.tensor([7.0, 8.0]), 1)
    else:
        buf = lib.zeros(2)
        out['recv from'] = dist.recv(buf, 0)
        out['recv'] = buf.tolist()
    work = dist.all_reduce(lib.ones(2), async_op=True)
    work.wait()
    out['future'] = [x.tolist() for x in work.get_future().wait()]
    # groups
    out['world'] = (dist.group.WORLD is dist.GroupMember.WORLD,
                    dist.get_process_group_ranks(dist.group.WORLD),
                    dist.get_global_rank(dist.group.WORLD, 1),
                    dist.get_group_rank(dist.group.WORLD, 1))
    sub = dist.new_group([1])
    out['subgroup'] = (dist.get_rank(sub), dist.get_world_size(sub))
    if rank == 1:
        t = lib.ones(1) * 3
        dist.all_reduce(t, group=sub)                # only rank 1 takes part
        out['subgroup all_reduce'] = t.tolist()
        out['subgroup ranks'] = dist.get_process_group_ranks(sub)
    dist.monitored_barrier()
    return out


def test_newer_collectives_p2p_and_groups_match_torch(tmp_path):
    same(run_both(newer_api, tmp_path))


def any_source(lib, rank):
    """recv/irecv with src=None take the next message with the tag from any rank and name
    the sender. (PyTorch's gloo send waits for the matching receive, so the order is the
    same on both sides.)"""
    dist, out = lib.distributed, {}
    if rank == 1:
        dist.send(lib.tensor([3.0, 4.0]), 0, tag=7)
        dist.send(lib.tensor([5.0, 6.0]), 0, tag=7)
        dist.send(lib.tensor([1.0, 2.0]), 0, tag=9)
    else:
        buf = lib.zeros(2)
        out['recv any (tag 7)'] = (dist.recv(buf, tag=7), buf.tolist())
        work = dist.irecv(buf, tag=7)
        work.wait()
        out['irecv any (tag 7)'] = buf.tolist()
        out['recv any (tag 9)'] = (dist.recv(buf, tag=9), buf.tolist())
    dist.barrier()
    return out


def test_recv_from_any_source_matches_torch(tmp_path):
    same(run_both(any_source, tmp_path))


# -- the launcher ------------------------------------------------------------------------------
_SCRIPT = textwrap.dedent('''
    import os, sys
    lib = __import__(sys.argv[1])
    dist = lib.distributed
    dist.init_process_group('gloo')
    t = lib.tensor([float(dist.get_rank() + 1)])
    dist.all_reduce(t)
    names = ['RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'GROUP_RANK', 'ROLE_RANK']
    line = f'OUT {[os.environ[n] for n in names]} {t.tolist()} {dist.is_torchelastic_launched()}'
    sys.stdout.write(line + '\\n')      # (one write: the ranks share the pipe)
    sys.stdout.flush()
    dist.destroy_process_group()
    if len(sys.argv) > 2 and os.environ['RANK'] == sys.argv[2]:
        sys.exit(3)
''')


def _launch(launcher, lib, tmp_path, *extra):
    script = tmp_path / 'script.py'
    script.write_text(_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, '-m', launcher, '--nproc_per_node', '2',
                           '--master_port', str(_free_port()), str(script), lib, *extra],
                          capture_output=True, text=True, timeout=120, env=env)
    lines = sorted(line for line in done.stdout.splitlines() if line.startswith('OUT'))
    return done.returncode, lines, done.stderr


def test_launcher_sets_torchruns_environment(tmp_path):
    want = _launch('torch.distributed.run', 'torch', tmp_path)
    got = _launch('nbgrad.distributed.run', 'nbgrad', tmp_path)
    assert got[:2] == want[:2] and want[0] == 0


def test_launcher_reports_a_failed_rank(tmp_path):
    want = _launch('torch.distributed.run', 'torch', tmp_path, '1')
    got = _launch('nbgrad.distributed.run', 'nbgrad', tmp_path, '1')
    assert got[0] == want[0] == 1
    assert 'rank      : 1 (local_rank: 1)' in got[2] and 'exitcode: 3' in got[2]
    assert 'rank      : 1 (local_rank: 1)' in want[2]


def test_nbgrad_script_runs_under_real_torchrun(tmp_path):
    """torchrun's agent holds MASTER_PORT: nbgrad's rank 0 listens beside it."""
    code, lines, err = _launch('torch.distributed.run', 'nbgrad', tmp_path)
    assert code == 0, err
    assert [line.split(' [3.0]')[0] for line in lines] == [
        "OUT ['0', '0', '2', '2', '0', '0']", "OUT ['1', '1', '2', '2', '0', '1']"]


# -- SyncBatchNorm ------------------------------------------------------------------------------
def _whole_batch(lib, rows_per_rank=3):
    rng = np.random.default_rng(5)
    return lib.tensor(rng.standard_normal((WORLD * rows_per_rank, 3, 4, 4)).astype(np.float64))


def sync_batch_norm(lib, rank):
    """nbgrad's SyncBatchNorm on each rank's half (CPU; PyTorch's runs on GPUs only)."""
    x = _whole_batch(lib)[rank * 3:(rank + 1) * 3].clone().requires_grad_()
    bn = lib.nn.SyncBatchNorm(3).double()
    _set_weights(lib, bn, 3)
    out = bn(x)
    (out * lib.arange(out.numel(), dtype=lib.float64).view(out.shape).sin()).sum().backward()
    return {'out': out.tolist(), 'x.grad': x.grad.tolist(), 'weight.grad': bn.weight.grad.tolist(),
            'running': [bn.running_mean.tolist(), bn.running_var.tolist()],
            'tracked': int(bn.num_batches_tracked)}


def test_sync_batch_norm_is_batch_norm_over_the_global_batch(tmp_path):
    """The oracle: PyTorch's BatchNorm2d over the two halves together (the same statistics,
    input gradients and running stats; weight gradients are each rank's share of the sum)."""
    results = run_both(sync_batch_norm, tmp_path, libs=('nbgrad',))['nbgrad']
    x = _whole_batch(torch).requires_grad_()
    bn = torch.nn.BatchNorm2d(3).double()
    _set_weights(torch, bn, 3)
    out = bn(x)
    (out * torch.cat([torch.arange(out.numel() // 2, dtype=torch.float64)] * 2).view(
        out.shape).sin()).sum().backward()
    assert_close([r['out'] for r in results], [out[:3].tolist(), out[3:].tolist()])
    assert_close([r['x.grad'] for r in results], [x.grad[:3].tolist(), x.grad[3:].tolist()])
    assert_close(np.sum([r['weight.grad'] for r in results], 0).tolist(), bn.weight.grad.tolist())
    for r in results:
        assert_close(r['running'], [bn.running_mean.tolist(), bn.running_var.tolist()])
        assert r['tracked'] == 1
