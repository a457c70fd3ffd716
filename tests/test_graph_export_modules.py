"""Graph export for models: parameter names by module path, which module made each op (module
attribution through the dispatch observer and the global module hooks), collapsing by module,
and gradient statistics per node, compared with PyTorch's graph and gradients."""
import json

import numpy as np
import pytest

import nbgrad
import nbgrad.nn as nn
from nbgrad._dispatch import _observers
from nbgrad.autograd.graph_export import (collapse_graph, export_graph, record_modules,
                                          trace_module, watch_gradients)
from nbgrad.nn.modules import module as nn_module

torch = pytest.importorskip('torch')


class Encoder(nn.Module):
    def __init__(self, lib=nn):
        super().__init__()
        self.fc1 = lib.Linear(4, 8)
        self.fc2 = lib.Linear(8, 6)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu()).tanh()


class TorchEncoder(torch.nn.Module):
    forward = Encoder.forward

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 6)


def models():
    """The same nested model in nbgrad and torch (torch's weights copied), an input, targets."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(TorchEncoder(), torch.nn.Linear(6, 3))
    ours = nn.Sequential(Encoder(), nn.Linear(6, 3))
    with nbgrad.no_grad():
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname
            p.copy_(nbgrad.tensor(tp.detach().numpy()))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    return ours, theirs, x, [0, 2, 1, 1, 0]


def torch_graph(t):
    names, edges, stack, seen = [], 0, [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.append(fn.name().split('::')[-1])
        nexts = [f for f, _ in fn.next_functions if f is not None]
        edges += len(nexts)
        stack.extend(nexts)
    return names, edges


def by_label(data):
    return {n['label']: n for n in data['nodes']}


def test_mlp_graph_matches_pytorchs_and_parameters_are_named():
    ours, theirs, x, y = models()
    loss = nn.functional.cross_entropy(ours(nbgrad.tensor(x)), nbgrad.tensor(y))
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    data = export_graph(loss, module=ours)
    json.dumps(data, allow_nan=False)
    names, edge_count = torch_graph(tloss)
    # nbgrad's linear is one node (see nn/functional/linear.py): PyTorch's addmm reads the
    # weight through a TBackward0 node, which nbgrad folds into the addmm's edge
    transposes = names.count('TBackward0')
    assert transposes == 3
    expected = sorted(n for n in names if n != 'TBackward0')
    got = sorted(n['op'] for n in data['nodes'] if n['kind'] in ('op', 'leaf'))
    assert got == expected
    inner = [e for e in data['edges'] if not e['target'].startswith('out')]
    assert len(inner) == edge_count - transposes
    leaves = {n['label']: n for n in data['nodes'] if n['kind'] == 'leaf'}
    assert set(leaves) == {name for name, _ in theirs.named_parameters()}
    for name, p in theirs.named_parameters():
        assert leaves[name]['shape'] == list(p.shape) and leaves[name]['is_parameter']
        assert leaves[name]['module'] == name.rpartition('.')[0]


def test_module_attribution_for_nested_modules():
    ours, _, x, _ = models()
    out, tape = trace_module(ours, nbgrad.tensor(x))
    loss = out.pow(2).mean()
    data = export_graph(loss, module=ours, tape=tape)
    ops = [(n['op'], n['module'], n['shape']) for n in data['nodes'] if n['kind'] == 'op']
    # by hand from Encoder.forward and Sequential: the innermost module running each op
    assert sorted(ops, key=str) == sorted([
        ('MeanBackward0', None, []), ('PowBackward0', None, [5, 3]),
        ('AddmmBackward0', '1', [5, 3]), ('TanhBackward0', '0', [5, 6]),
        ('AddmmBackward0', '0.fc2', [5, 6]), ('ReluBackward0', '0', [5, 8]),
        ('AddmmBackward0', '0.fc1', [5, 8])], key=str)
    assert {p: m['type'] for p, m in data['modules'].items()} == {
        '': 'Sequential', '0': 'Encoder', '0.fc1': 'Linear', '0.fc2': 'Linear', '1': 'Linear'}
    ids = {n['id']: n for n in data['nodes']}
    assert ids[data['modules']['0']['output']]['op'] == 'TanhBackward0'
    assert ids[data['modules']['']['output']] is ids[data['modules']['1']['output']]


def test_recording_stops_and_cleans_up_when_forward_raises():
    ours, _, _, _ = models()
    hooks = (len(nn_module._global_forward_pre_hooks), len(nn_module._global_forward_hooks))
    observers = len(_observers)
    with pytest.raises(RuntimeError):
        with record_modules(ours):
            ours(nbgrad.randn(5, 7))         # wrong feature count
    assert (len(nn_module._global_forward_pre_hooks),
            len(nn_module._global_forward_hooks)) == hooks
    assert len(_observers) == observers
    with pytest.raises(TypeError, match='nn.Module'):
        with record_modules(nbgrad.ones(2)):
            pass


def test_collapse_by_module():
    ours, _, x, _ = models()
    out, tape = trace_module(ours, nbgrad.tensor(x))
    data = export_graph(out.pow(2).mean(), module=ours, tape=tape)
    top = collapse_graph(data, 1)
    assert export_graph(out.pow(2).mean(), module=ours, tape=tape, collapse_depth=1) == top
    labels = by_label(top)
    assert sorted(labels) == ['0', '1', 'Mean', 'Pow', 'output 0']
    enc, head = labels['0'], labels['1']
    assert (enc['op'], enc['op_count'], enc['shape']) == ('Encoder', 4, [5, 6])
    assert sorted(enc['parameters']) == ['0.fc1.bias', '0.fc1.weight', '0.fc2.bias',
                                         '0.fc2.weight']
    assert (head['op'], head['op_count'], head['shape']) == ('Linear', 1, [5, 3])
    pairs = sorted((e['source'], e['target'], e.get('count')) for e in top['edges'])
    assert pairs == sorted([('module:0', 'module:1', 1), ('module:1', labels['Pow']['id'], 1),
                            (labels['Pow']['id'], labels['Mean']['id'], None),
                            (labels['Mean']['id'], 'out0', None)])
    # depth 2: the encoder's linears collapse, its own relu/tanh stay; the head Linear has no
    # children and stays collapsed
    deeper = by_label(collapse_graph(data, 2))
    assert sorted(deeper) == ['0.fc1', '0.fc2', '1', 'Mean', 'Pow', 'Relu', 'Tanh', 'output 0']
    assert by_label(collapse_graph(data, 1, expanded=['0'])).keys() == deeper.keys()
    # the whole model as one node; every edge into or out of it counted
    whole = collapse_graph(data, 0)
    assert by_label(whole)['Sequential']['op_count'] == 5
    assert len(whole['nodes']) == 4
    with pytest.raises(ValueError, match='int >= 0'):
        collapse_graph(data, -1)


def test_collapse_counts_parallel_edges():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)

        def forward(self, x):
            h = self.a(x)
            return self.b(h) * h        # two edges from module a's output into the top level

    model = Twice()
    out, tape = trace_module(model, nbgrad.randn(2, 3))
    top = collapse_graph(export_graph(out, module=model, tape=tape), 1)
    edges = {(e['source'], e['target']): e.get('count') for e in top['edges']}
    mul = by_label(top)['Mul']['id']
    assert edges[('module:a', 'module:b')] == 1
    assert edges[('module:a', mul)] == 1 and edges[('module:b', mul)] == 1
    assert sum(e.get('count', 1) for e in top['edges'] if e['source'] == 'module:a') == 2


def test_gradient_statistics_match_pytorch():
    ours, theirs, x, y = models()
    out, tape = trace_module(ours, nbgrad.tensor(x))
    loss = nn.functional.cross_entropy(out, nbgrad.tensor(y))
    watch = watch_gradients(loss)
    loss.backward()
    data = export_graph(loss, module=ours, tape=tape, gradients=watch)
    json.dumps(data, allow_nan=False)

    # the same graph in torch, with the intermediate tensors' gradients retained
    enc, head = theirs[0], theirs[1]
    h1 = enc.fc1(torch.tensor(x))
    r = h1.relu()
    h2 = enc.fc2(r)
    t = h2.tanh()
    o = head(t)
    for v in (h1, r, h2, t, o):
        v.retain_grad()
    torch.nn.functional.cross_entropy(o, torch.tensor(y)).backward()
    expected = {('0.fc1', 'AddmmBackward0'): h1.grad, ('0', 'ReluBackward0'): r.grad,
                ('0.fc2', 'AddmmBackward0'): h2.grad, ('0', 'TanhBackward0'): t.grad,
                ('1', 'AddmmBackward0'): o.grad}
    for n in data['nodes']:
        if n['kind'] == 'op' and (n['module'], n['op']) in expected:
            g = expected.pop((n['module'], n['op'])).double()
            stats = n['grad']
            assert stats['norm'] == pytest.approx(g.norm().item(), rel=1e-5)
            assert stats['mean'] == pytest.approx(g.mean().item(), rel=1e-4,
                                                  abs=1e-6 * stats['norm'])
            assert stats['std'] == pytest.approx(g.std().item(), rel=1e-4)
            assert (stats['min'], stats['max']) == pytest.approx((g.min().item(),
                                                                  g.max().item()), rel=1e-5)
            assert (stats['numel'], stats['nan_count'], stats['inf_count']) == (g.numel(), 0, 0)
    assert not expected
    leaves = {n['label']: n for n in data['nodes'] if n['kind'] == 'leaf'}
    for name, p in theirs.named_parameters():
        assert leaves[name]['grad_norm'] == pytest.approx(p.grad.norm().item(), rel=1e-5)
        assert leaves[name]['grad']['norm'] == pytest.approx(p.grad.norm().item(), rel=1e-5)
    assert by_label(data)['NllLoss']['grad']['norm'] == 1.0     # d loss / d loss


def test_gradient_statistics_count_nan_and_inf_and_follow_the_latest_backward():
    values, weights = [0.0, -1.0, 4.0, 9.0], [1.0, 2.0, 3.0, 4.0]
    x = nbgrad.tensor(values, requires_grad=True)
    y = (x.sqrt() * nbgrad.tensor(weights)).sum()
    passes = []
    watch = watch_gradients(y, on_pass=lambda w: passes.append(w.passes))
    y.backward(retain_graph=True)
    tx = torch.tensor(values, requires_grad=True)
    (tx.sqrt() * torch.tensor(weights)).sum().backward()
    leaf = next(n for n in export_graph(y, gradients=watch)['nodes'] if n['kind'] == 'leaf')
    stats = leaf['grad']
    assert stats['nan_count'] == int(torch.isnan(tx.grad).sum()) == 1
    assert stats['inf_count'] == int(torch.isinf(tx.grad).sum()) == 1
    assert stats['norm'] is None                                # NaN: null in JSON
    finite = tx.grad[torch.isfinite(tx.grad)].double()
    assert (stats['mean'], stats['min'], stats['max']) == pytest.approx(
        (finite.mean().item(), finite.min().item(), finite.max().item()))
    assert passes == [1]

    (y * 3).backward()         # a second pass: the statistics are the latest gradient's
    sqrt_node = next(n for n in export_graph(y, gradients=watch)['nodes']
                     if n.get('op') == 'SqrtBackward0')
    assert sqrt_node['grad']['norm'] == pytest.approx(3 * np.linalg.norm(weights))
    assert passes == [1, 2]    # every watched node ran again (y * 3's node is not watched)
    watch.remove()


def test_watch_remove_takes_hooks_off():
    w = nbgrad.ones(3, requires_grad=True)
    y = (w * 2).sum()
    watch = watch_gradients(y)
    watch.remove()
    y.backward()
    assert len(watch.stats) == 0


def test_a_non_finite_gradient_norm_is_exported_as_null():
    """JSON has no inf or nan: the export stays strict JSON (the widget sends it as is), and the
    node's statistics say what was wrong. The gradient is PyTorch's: d sqrt(x)/dx at 0 is inf."""
    torch = pytest.importorskip('torch')
    x = nbgrad.tensor([0.0, 4.0], requires_grad=True)
    twin = torch.tensor([0.0, 4.0], requires_grad=True)
    for t in (x, twin):
        t.sqrt().sum().backward()
    assert np.array_equal(x.grad.numpy(), twin.grad.numpy())          # [inf, 0.25]
    data = export_graph(x.sqrt().sum(), gradients=watch_gradients(x.sqrt().sum()))
    leaf = next(n for n in data['nodes'] if n['kind'] == 'leaf')
    assert leaf['grad_norm'] is None
    json.dumps(data, allow_nan=False)


def test_complex_gradient_statistics_match_pytorch():
    """A complex parameter's gradient: its norm is the complex norm, and the other statistics
    are over its real and imaginary parts (torch.view_as_real of PyTorch's gradient)."""
    weights = np.random.default_rng(1).standard_normal((2, 5, 2))
    inputs = np.random.default_rng(2).standard_normal((3, 5, 2))

    def grad(lib):
        layer = lib.nn.Linear(5, 2, dtype=lib.complex64)
        with lib.no_grad():
            layer.weight.copy_(lib.view_as_complex(lib.tensor(weights, dtype=lib.float32)))
            layer.bias.fill_(0.5 - 1j)
        x = lib.view_as_complex(lib.tensor(inputs, dtype=lib.float32))
        loss = layer(x).abs().sum()
        if lib is nbgrad:
            watch = watch_gradients(loss)
            loss.backward()
            return layer.weight.grad, export_graph(loss, gradients=watch)
        loss.backward()
        return layer.weight.grad, None
    ours, data = grad(nbgrad)
    theirs, _ = grad(torch)
    parts = torch.view_as_real(theirs).double()
    leaf = next(n for n in data['nodes'] if n['kind'] == 'leaf' and n['shape'] == [2, 5])
    stats = leaf['grad']
    json.dumps(data, allow_nan=False)
    assert stats['norm'] == pytest.approx(theirs.norm().item(), rel=1e-5)
    assert stats['mean'] == pytest.approx(parts.mean().item(), rel=1e-4, abs=1e-6)
    assert stats['std'] == pytest.approx(parts.std().item(), rel=1e-4)
    assert (stats['min'], stats['max']) == pytest.approx((parts.min().item(),
                                                          parts.max().item()), rel=1e-5)
    assert stats['numel'] == parts.numel()
    np.testing.assert_allclose(ours.numpy(), theirs.resolve_conj().numpy(), rtol=1e-5)
