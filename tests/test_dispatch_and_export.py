"""The one dispatch point (observers see every op, incl. backward and in-place ops) and the graph
export (compared with the structure of PyTorch's own graph for the same code)."""
import json

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')


class Recorder:
    def __init__(self):
        self.started, self.finished = [], []

    def op_started(self, op, inputs):
        self.started.append(type(op).__name__)
        return len(self.started)

    def op_finished(self, token, outputs):
        self.finished.append(token)


def test_observer_sees_forward_backward_and_inplace_ops():
    recorder = Recorder()
    remove = nbgrad._dispatch.add_observer(recorder)
    try:
        w = nbgrad.ones(3, requires_grad=True)
        y = (w * 2).sum()
        y.backward()
        with nbgrad.no_grad():
            w.add_(1)
    finally:
        remove()
    assert recorder.started[:2] == ['Mul', 'Sum']
    assert 'Mul' in recorder.started[2:-1]          # backward of sum/mul runs ops too
    assert recorder.started[-1] == 'Add'            # the in-place add_
    assert sorted(recorder.finished) == list(range(1, len(recorder.started) + 1))
    count = len(recorder.started)
    nbgrad.ones(2) + 1                               # after removal nothing is observed
    assert len(recorder.started) == count


def _torch_names(t):
    names, stack, seen = [], [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.append(fn.name().split('::')[-1])
        stack.extend(f for f, _ in fn.next_functions)
    return sorted(names)


@pytest.mark.parametrize('build', [
    lambda lib, x, w: (x @ w).relu().sum(),
    lambda lib, x, w: (x @ w + 1).log_softmax(1).mean(),
    lambda lib, x, w: lib.cat([x @ w, x[:, :2]], 1).exp().sum(),
])
def test_export_has_pytorchs_nodes_and_shapes(build):
    rng = np.random.default_rng(0)
    xs, ws = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    tx, tw = torch.tensor(xs), torch.tensor(ws, requires_grad=True)
    nx, nw = nbgrad.tensor(xs), nbgrad.tensor(ws, requires_grad=True)
    expected = _torch_names(build(torch, tx, tw))
    out = build(nbgrad, nx, nw)
    data = nbgrad.autograd.export_graph(out, names={id(nw): 'w'})
    json.dumps(data)  # plain data only
    got = sorted(n['op'] for n in data['nodes'] if n['kind'] in ('op', 'leaf'))
    assert got == expected
    leaf = next(n for n in data['nodes'] if n['kind'] == 'leaf')
    assert leaf['label'] == 'w' and leaf['shape'] == [3, 2] and leaf['dtype'] == 'float64'
    ids = {n['id'] for n in data['nodes']}
    assert all(e['source'] in ids and e['target'] in ids for e in data['edges'])
    # every op node's shape is the shape of the value it produced
    root = next(n for n in data['nodes'] if n['kind'] == 'output')
    assert root['shape'] == list(out.shape)


def test_export_reports_gradient_norms_after_backward():
    w = nbgrad.tensor([3.0, 4.0], requires_grad=True)
    (w * 1).sum().backward()
    data = nbgrad.autograd.export_graph(w * 2)
    leaf = next(n for n in data['nodes'] if n['kind'] == 'leaf')
    assert leaf['grad_norm'] == pytest.approx(np.sqrt(2.0))
