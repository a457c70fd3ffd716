"""GraphView: the graph of a tensor or a module's forward, its synced traits (compared with
PyTorch's graph and gradients), collapse/expand, the text and HTML fallbacks, errors."""
import json
import re

import numpy as np
import pytest

import nbgrad
import nbgrad.nn as nn
pytest.importorskip('ipywidgets')     # (the notebook extras; absent on the GPU machine)
from nbgrad.widgets._base import WIDGET_VIEW_MIME  # noqa: E402
from nbgrad.widgets._graph_layout import layers  # noqa: E402
from nbgrad.widgets.graph_view import GraphView  # noqa: E402

torch = pytest.importorskip('torch')


def mlp():
    """The same two-layer MLP in nbgrad and torch, and an input."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ours = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with nbgrad.no_grad():
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            p.copy_(nbgrad.tensor(tp.detach().numpy()))
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    return ours, theirs, x


def nodes_by(view, kind):
    return [n for n in view.graph['nodes'] if n['kind'] == kind]


def test_module_view_traits_match_pytorch_and_update_after_backward():
    ours, theirs, x = mlp()
    view = GraphView(ours, nbgrad.tensor(x))
    json.dumps(view.graph, allow_nan=False)
    h = theirs[0](torch.tensor(x))
    r = theirs[1](h)
    o = theirs[2](r)
    ops = sorted((n['op'], n['module'], n['shape']) for n in nodes_by(view, 'op'))
    assert ops == sorted([('AddmmBackward0', '0', list(h.shape)),
                          ('ReluBackward0', '1', list(r.shape)),
                          ('AddmmBackward0', '2', list(o.shape))])
    leaves = {n['label']: n for n in nodes_by(view, 'leaf')}
    assert set(leaves) == {name for name, _ in theirs.named_parameters()}
    assert all(n['is_parameter'] and 'grad' not in n for n in leaves.values())
    assert view.collapse_depth is None and view.expanded == []

    # backward through the view's output: the view re-exports by itself
    (view.output ** 2).mean().backward()
    for v in (h, r, o):
        v.retain_grad()
    (o ** 2).mean().backward()
    leaves = {n['label']: n for n in nodes_by(view, 'leaf')}
    for name, p in theirs.named_parameters():
        assert leaves[name]['grad_norm'] == pytest.approx(p.grad.norm().item(), rel=1e-5)
    grads = {n['module']: n['grad']['norm'] for n in nodes_by(view, 'op')}
    assert grads == pytest.approx({'0': h.grad.norm().item(), '1': r.grad.norm().item(),
                                   '2': o.grad.norm().item()}, rel=1e-5)
    assert 'gradients from the last backward' in view.text()


def test_shape_tuple_input_and_tensor_view_with_module_names():
    ours, _, _ = mlp()
    view = GraphView(ours, (7, 4))
    assert view.output.shape == (7, 3)
    assert nodes_by(view, 'output')[0]['shape'] == [7, 3]
    loss = ours(nbgrad.randn(2, 4)).sum()
    plain = GraphView(loss)
    assert {n['label'] for n in nodes_by(plain, 'leaf')} == {'leaf'}
    named = GraphView(loss, module=ours, watch=False)
    assert {n['label'] for n in nodes_by(named, 'leaf')} == {'0.weight', '0.bias', '2.weight',
                                                              '2.bias'}
    assert all(n['module'] is None for n in nodes_by(named, 'op'))   # no forward was recorded
    with pytest.raises(ValueError, match='no module information'):
        named.expand('0')


def test_collapse_and_expand():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(x).relu()

    model = nn.Sequential(Block(), Block())
    view = GraphView(model, (3, 4), collapse_depth=1)
    modules = nodes_by(view, 'module')
    assert [(m['label'], m['op'], m['op_count'], m['shape']) for m in modules] == \
        [('1', 'Block', 2, [3, 4]), ('0', 'Block', 2, [3, 4])]
    assert sorted((e['source'], e['target']) for e in view.graph['edges']) == \
        [('module:0', 'module:1'), ('module:1', 'out0')]
    view.expand('1')
    assert view.expanded == ['1']
    assert sorted(n['label'] for n in view.graph['nodes']) == ['0', '1.fc', 'Relu', 'output 0']
    with pytest.raises(ValueError, match="no module '9'"):
        view.expand('9')
    assert view.expanded == ['1']
    view.collapse(None)
    assert view.expanded == [] and len(nodes_by(view, 'op')) == 4
    view.collapse_depth = 0             # as the front end would set it
    assert [n['op'] for n in nodes_by(view, 'module')] == ['Sequential']
    with pytest.raises(ValueError, match='collapse_depth'):
        view.collapse(-2)
    assert view.collapse_depth == 0
    assert re.search(r'module: +Sequential: 4 ops, 4 params +\[3, 4\]', view.text())


def test_text_and_html_fallbacks():
    ours, _, x = mlp()
    view = GraphView(ours, nbgrad.tensor(x))
    text = view.text()
    assert text.splitlines()[0] == ('GraphView: 8 nodes (3 ops, 4 parameters), 7 edges; '
                                    'no gradients yet (run backward)')
    assert re.search(r'AddmmBackward0 +\[5, 8\] +float32 +cpu +<- 0\.weight, 0\.bias', text)
    assert re.search(r'AddmmBackward0 +\[5, 3\] +float32 +cpu +<- n\d+, 2\.weight, 2\.bias',
                     text)
    # topological: every node is listed after its inputs
    listed = [line.split()[0] for line in text.splitlines()[3:]]
    position = {i: k for k, i in enumerate(listed)}
    assert all(position[e['source']] < position[e['target']] for e in view.graph['edges'])
    html = view.html()
    assert html.count('<rect') == 8 and html.count('<line') == 7
    assert 'fill="#fbe3cf"' in html and '2.weight' in html       # parameters colored
    view.output.sum().backward()
    assert '|grad| ' in view.html()


def test_big_graph_is_truncated():
    x = nbgrad.ones(3, requires_grad=True)
    y = x
    for _ in range(200):
        y = y * 1.01
    view = GraphView(y, watch=False)
    text = view.text()
    total = 200 + 2          # ops, the leaf, the output
    assert f'... {total - view.max_text_rows} more nodes not listed' in text
    assert len(text.splitlines()) == 3 + view.max_text_rows + 1
    html = view.html()
    assert '<svg' not in html and f'{total} nodes are too many to draw' in html


def test_mimebundle(monkeypatch):
    view = GraphView((nbgrad.ones(2, requires_grad=True) * 2).sum())
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html'}
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html', WIDGET_VIEW_MIME}


def test_close_removes_the_gradient_hooks():
    w = nbgrad.ones(3, requires_grad=True)
    y = (w * 2).sum()
    view = GraphView(y)
    before = view.graph
    view.close()
    y.backward()
    assert view.graph == before
    assert not y.grad_fn._post_hooks


def test_errors():
    with pytest.raises(TypeError, match='expected a Tensor or an nn.Module'):
        GraphView([1, 2])
    with pytest.raises(ValueError, match='call with a tensor that requires grad'):
        GraphView(nbgrad.ones(3) * 2)
    ours, _, _ = mlp()
    with pytest.raises(TypeError, match='needs an example input'):
        GraphView(ours)
    with pytest.raises(TypeError, match='example_input must be'):
        GraphView(ours, 'x')
    with pytest.raises(TypeError, match='takes no example input'):
        GraphView(nbgrad.ones(2, requires_grad=True), (2,))
    with pytest.raises(ValueError, match='collapse_depth'):
        GraphView(nbgrad.ones(2, requires_grad=True), collapse_depth='1')
    ours.requires_grad_(False)
    with pytest.raises(ValueError, match='does not require grad'):
        GraphView(ours, (2, 4))


def test_layout_layers_are_longest_paths_to_the_output():
    # a -> c -> d, b -> d: b sits right above d, not on top with a
    rows = layers(['d', 'c', 'b', 'a'], [('a', 'c'), ('c', 'd'), ('b', 'd')])
    assert rows == [['a'], ['c', 'b'], ['d']] or rows == [['a'], ['b', 'c'], ['d']]
    assert layers(['d', 'c', 'b', 'a'], [('a', 'c'), ('c', 'd'), ('b', 'd')]) == rows
    with pytest.raises(ValueError, match='cycle'):
        layers(['a', 'b'], [('a', 'b'), ('b', 'a')])


def test_the_gradient_hooks_come_off_after_the_first_full_backward():
    """A parameter's AccumulateGrad node lives as long as the parameter: a view left in a
    notebook output must not keep costing every later backward of the model."""
    from nbgrad.widgets.graph_view import GraphView
    model = nbgrad.nn.Sequential(nbgrad.nn.Linear(3, 4), nbgrad.nn.Tanh(), nbgrad.nn.Linear(4, 1))
    x = nbgrad.randn(5, 3)
    loss = model(x).sum()
    view = GraphView(loss, module=model)
    watch = view._watch
    loss.backward()
    assert watch.passes == 1 and watch._handles == []
    drawn = view.graph
    grad = model[0].weight.grad.clone()
    model.zero_grad()
    (model(x) * 3).sum().backward()                  # a later step: nothing recorded
    assert watch.passes == 1 and view.graph == drawn
    norm = next(n['grad_norm'] for n in drawn['nodes'] if n.get('label') == '0.weight')
    assert abs(norm - float(grad.norm())) < 1e-5 * max(1.0, norm)


def test_fx_graph_view_shows_pytorchs_traced_nodes_and_shapes():
    """GraphView(gm) of a traced model: the nodes and edges of PyTorch's fx graph of the same
    model, and after ShapeProp the shapes PyTorch's ShapeProp records."""
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp as TorchShapeProp
    from nbgrad.fx.passes.shape_prop import ShapeProp
    ours, theirs, x = mlp()
    gm, their_gm = nbgrad.fx.symbolic_trace(ours), torch.fx.symbolic_trace(theirs)
    view = GraphView(gm)
    assert [n['id'] for n in view.graph['nodes']] == [n.name for n in their_gm.graph.nodes]
    assert sorted((e['source'], e['target']) for e in view.graph['edges']) == sorted(
        (i.name, n.name) for n in their_gm.graph.nodes for i in n.all_input_nodes)
    assert 'ShapeProp' in view.text() and 'grad norm' not in view.text()
    ShapeProp(gm).propagate(nbgrad.tensor(x))
    TorchShapeProp(their_gm).propagate(torch.tensor(x))
    view.refresh()
    shapes = {n['id']: n['shape'] for n in view.graph['nodes'] if n['kind'] != 'leaf'}
    assert shapes == {n.name: list(n.meta['tensor_meta'].shape) for n in their_gm.graph.nodes
                      if n.op != 'placeholder'}
    assert '<svg' in view.html()
    with pytest.raises(TypeError, match='ShapeProp'):
        GraphView(gm, (5, 4))


def _nested(lib):
    F = lib.nn.functional

    class Inner(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)

        def forward(self, x):
            return F.relu(self.lin(x)) * 2

    class Outer(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner, self.seq = Inner(), lib.nn.Sequential(Inner())

        def forward(self, x):
            return self.seq(self.inner(x)) + 1
    return Outer()


def test_fx_graph_view_collapses_the_modules_tracing_noted():
    """Each node of a traced graph belongs to the innermost module of PyTorch's
    nn_module_stack for the same model; collapse(1) draws the model's children as nodes."""
    import torch.fx
    theirs = torch.fx.symbolic_trace(_nested(torch))
    view = GraphView(nbgrad.fx.symbolic_trace(_nested(nbgrad)))
    innermost = {n.name: (list(n.meta['nn_module_stack'])[-1] if n.meta.get('nn_module_stack')
                          else None) for n in theirs.graph.nodes}
    assert {n['id']: n['module'] for n in view.graph['nodes']} == innermost
    view.collapse(1)
    assert [n['id'] for n in view.graph['nodes'] if n['kind'] == 'module'] == \
        ['module:inner', 'module:seq']
    assert 'inner (Inner): 3 ops' in view.text()
