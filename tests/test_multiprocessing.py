"""nbgrad.multiprocessing: tensors sent between processes share memory (both start methods and
both sharing strategies), Module.share_memory and Hogwild training, spawn/start_processes and
their errors (messages compared with torch.multiprocessing's), the refusals."""
import multiprocessing.reduction

import numpy as np
import pytest

import nbgrad
import nbgrad.multiprocessing as mp

import _mp_workers as workers


@pytest.fixture(params=['file_descriptor', 'file_system'])
def strategy(request):
    before = mp.get_sharing_strategy()
    mp.set_sharing_strategy(request.param)
    yield request.param
    mp.set_sharing_strategy(before)


@pytest.mark.parametrize('method', ['fork', 'spawn'])
def test_a_tensor_sent_to_a_process_shares_its_memory(method, strategy):
    ctx = mp.get_context(method)
    t = nbgrad.zeros(4, dtype=nbgrad.float64)
    assert not t.is_shared()
    q_in, q_out, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    process = ctx.Process(target=workers.add_one_and_reply, args=(q_in, q_out, done))
    process.start()
    try:
        q_in.put(t)
        view, param = q_out.get(timeout=60), q_out.get(timeout=60)
    finally:
        done.set()
        process.join(60)
    assert process.exitcode == 0
    assert t.is_shared() and t.tolist() == [1.0] * 4        # the child's write, seen here
    assert view.dtype == nbgrad.float64 and view.tolist() == [1.0] * 3
    view[0] = 7.0                                           # the view aliases t's memory
    assert t.tolist() == [1.0, 7.0, 1.0, 1.0]
    assert type(param) is nbgrad.nn.Parameter and param.requires_grad
    assert param.tolist() == [5.0, 5.0]


@pytest.mark.parametrize('make', [
    lambda: nbgrad.arange(12).reshape(3, 4).t(), lambda: nbgrad.arange(12.).reshape(3, 4)[:, ::2],
    lambda: nbgrad.tensor(3.5), lambda: nbgrad.zeros(0, 2)],
    ids=['transposed', 'strided', '0-d', 'empty'])
def test_strided_and_integer_tensors_arrive_as_sent(make):
    t = make()
    data = multiprocessing.reduction.ForkingPickler.dumps(t)
    back = multiprocessing.reduction.ForkingPickler.loads(data)
    assert back.shape == t.shape and back.dtype == t.dtype and back.stride() == t.stride()
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_a_view_made_before_sharing_is_refused_not_sent_stale():
    base = nbgrad.arange(12.).reshape(3, 4)      # a view of the arange tensor
    base.t().share_memory_()                     # moves the arange tensor's storage
    with pytest.raises(RuntimeError, match='before the move'):
        multiprocessing.reduction.ForkingPickler.dumps(base[:, ::2])


def test_module_share_memory_and_hogwild_training():
    nbgrad.manual_seed(0)
    model = nbgrad.nn.Linear(4, 1)
    before = [p.detach().clone() for p in model.parameters()]
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    mp.start_processes(workers.hogwild, args=(model, 5), nprocs=2, start_method='fork')
    for old, new in zip(before, model.parameters()):
        assert not nbgrad.equal(old, new.detach())          # both processes trained these


def test_spawn_runs_fn_with_the_process_index():
    shared = nbgrad.zeros(3).share_memory_()
    assert mp.spawn(workers.write_slot, args=(shared,), nprocs=3) is None
    assert shared.tolist() == [10.0, 11.0, 12.0]


def test_join_false_returns_the_context():
    context = mp.start_processes(workers.write_slot, args=(nbgrad.zeros(2),), nprocs=2,
                                 join=False, start_method='fork')
    assert len(context.pids()) == 2
    while not context.join():
        pass


def _failure(lib, fn):
    import importlib
    module = importlib.import_module(lib)
    with pytest.raises(Exception) as info:
        module.start_processes(fn, nprocs=2, start_method='fork')
    return info.value


@pytest.mark.parametrize('fn', [workers.fail_in_process_one, workers.exit_with_code_three],
                         ids=['raises', 'exits'])
def test_a_failing_process_is_reported_as_pytorch_reports_it(fn):
    pytest.importorskip('torch')
    ours = _failure('nbgrad.multiprocessing', fn)
    theirs = _failure('torch.multiprocessing', fn)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.error_index == theirs.error_index
    if fn is workers.exit_with_code_three:
        assert str(ours) == str(theirs) and ours.exit_code == theirs.exit_code == 3
    else:
        first = str(theirs).splitlines()[:3]
        assert str(ours).splitlines()[:3] == first
        assert "ValueError: process one fails" in str(ours)


def test_sharing_strategies_are_pytorchs():
    torch = pytest.importorskip('torch')
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    with pytest.raises(AssertionError):
        mp.set_sharing_strategy('carrier_pigeon')


def test_non_leaf_tensors_that_require_grad_are_refused_with_pytorchs_message():
    torch = pytest.importorskip('torch')
    messages = []
    for lib in (torch, nbgrad):
        y = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError) as info:
            multiprocessing.reduction.ForkingPickler.dumps(y)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_a_tensor_whose_sender_exited_gives_a_clear_error():
    ctx = mp.get_context('fork')
    q = ctx.Queue()
    process = ctx.Process(target=workers.send_and_exit, args=(q,))
    process.start()
    process.join(60)
    with pytest.raises(RuntimeError, match='sender must stay alive'):
        q.get(timeout=60)


@pytest.mark.cuda
def test_cuda_tensors_are_not_shared_yet():
    if not nbgrad.cuda.is_available():
        pytest.skip('no CUDA device')
    t = nbgrad.ones(2, device='cuda')
    with pytest.raises(RuntimeError, match=r'\.cpu\(\)'):
        multiprocessing.reduction.ForkingPickler.dumps(t)
    assert t.share_memory_() is t and t.is_shared()
