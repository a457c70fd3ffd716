"""GraphView: the computation graph behind a tensor (a loss) or a module's forward, as PyTorch
records it (grad_fn nodes, AccumulateGrad leaves): each node with its op, shape, dtype and
device, parameters named by their module path, gradient statistics once backward has run through
the graph, and modules collapsible into single nodes.

    GraphView(loss)                          # the graph behind a tensor that requires grad
    GraphView(loss, module=model)            # ... with model's parameter names
    view = GraphView(model, x)               # run model(x), noting which module made each op;
                                             # the graph is behind the tensors it returns (a
                                             # tensor, or the tensor items of a tuple/list/dict)
    view = GraphView(model, (32, 784))       # the same with x = nbgrad.randn(32, 784), made on
                                             # the device and in the dtype of model's parameters
    view.collapse(1); view.expand('encoder') # one node per child of the model; then open one
    GraphView(torch.fx.symbolic_trace(model))  # a traced program (fx Graph or GraphModule):
                                             # its Nodes, with ShapeProp's shapes if it ran
    loss = crit(view.output, y); loss.backward()   # the view redraws with gradient norms

Gradients: the view hooks every node of its graph (nbgrad.autograd.graph_export.watch_gradients)
and re-exports by itself once a backward has run through all of them, then removes the hooks
(a parameter's hook would otherwise stay on it and cost every later backward of the model);
refresh() re-exports at any time (e.g. after a backward that reached only part of the graph,
whose hooks stay until a full backward or close()). With watch=False nothing is hooked. The
view keeps its graph alive.

Synced traits (the contract the JupyterLab view draws from; JSON, null where a number is NaN,
infinite or unknown):
  graph: {nodes: [node], edges: [edge], modules: {path: {type: str, output: node id|null}}}
    as drawn, i.e. after collapsing; outputs first, then the graph's nodes in the order a
    walk from the outputs met them (not sorted: lay them out from the edges):
    node: {id: str, kind: 'op'|'leaf'|'output'|'module', label: str (op name without
           'Backward0', parameter path, 'output 0', module path or, for the whole model, its
           class), op: str ('AddmmBackward0', 'AccumulateGrad', a module's class; absent on
           output nodes), shape: [int]|null, dtype: str|null,
           device: str|null, is_leaf: bool, is_parameter: bool, module: str|null (innermost
           module path that created it; '' the model itself),
           op nodes:     num_outputs: int
           leaf nodes:   has_grad: bool, grad_norm: float (when .grad is set)
           module nodes: op_count: int, parameters: [str], output: node id|null
           op/leaf/module, after a backward: grad: {norm, mean, std, min, max: float|null,
             numel, nan_count, inf_count: int} (the gradient flowing into the node's outputs;
             a module's is its output's)}
    edge: {source: id, target: id} in the forward direction, plus output_nr/input_nr for an
          edge of the full graph, or count (edges it stands for) for one touching a module node.
  collapse_depth: int|null   modules this deep are drawn as one node (1: the model's children,
                             0: the whole model); null draws every op.
  expanded: [str]            module paths drawn open although at collapse_depth (their
                             children are collapsed instead); expand(path) adds one.
Module attribution exists only for a view made from a module (GraphView(model, x)); a view of
a tensor with module= names parameters but knows nothing of which module ran an op.
"""
import math

import traitlets

import nbgrad
from nbgrad.autograd import graph_export
from nbgrad.nn import Module

from ._base import NbgradWidget
from . import _fx_graph, _graph_layout, _svg

BOX_WIDTH, BOX_HEIGHT, LINE = 172, 72, 13
KIND_COLORS = {'op': '#e8eef7', 'parameter': '#fbe3cf', 'leaf': '#dcefdc', 'output': '#eeeeee',
               'module': '#e6e0f3'}
NO_GRAPH = ('call with a tensor that requires grad, e.g. a loss computed from parameters '
            '(GraphView(loss)), or with a module and an example input (GraphView(model, x))')


class GraphView(NbgradWidget):
    _model_name = traitlets.Unicode('GraphViewModel').tag(sync=True)
    _view_name = traitlets.Unicode('GraphView').tag(sync=True)

    graph = traitlets.Dict().tag(sync=True)
    collapse_depth = traitlets.Int(None, allow_none=True).tag(sync=True)
    expanded = traitlets.List(traitlets.Unicode()).tag(sync=True)

    max_text_rows = 60      # nodes listed by text(); the rest are counted
    max_svg_nodes = 150     # above this html() shows the text listing instead of a drawing

    def __init__(self, obj, example_input=None, *, collapse_depth=None, module=None, names=None,
                 watch=True):
        _check_depth(collapse_depth)
        self._tape = None
        self._fx = None
        if _fx_graph.is_fx(obj):      # (a GraphModule is a Module too: looked at first)
            if example_input is not None or module is not None:
                raise TypeError('GraphView(fx graph) takes no example input or module=: run '
                                'ShapeProp(gm).propagate(x) first to show shapes')
            self._fx, output, roots, watch = obj, None, [], False
        elif isinstance(obj, Module):
            if module is not None and module is not obj:
                raise ValueError('GraphView(model, x): module= is only for a tensor\'s graph; '
                                 'the model itself names the parameters')
            inputs = _example_inputs(obj, example_input)
            output, self._tape = graph_export.trace_module(obj, *inputs)
            roots = _tensors_in(output)
            if not any(t.requires_grad for t in roots):
                raise ValueError(f'GraphView: the output of {type(obj).__name__} does not require '
                                 f'grad, so it has no graph to show (no parameter requires grad '
                                 f'and neither does the input). Set requires_grad on the '
                                 f'parameters or the input; or {NO_GRAPH}.')
            module = obj
        elif isinstance(obj, nbgrad.Tensor):
            if example_input is not None:
                raise TypeError('GraphView(tensor) takes no example input: that is for '
                                'GraphView(model, example_input)')
            if not obj.requires_grad:
                raise ValueError(f'GraphView: this tensor has no autograd graph (requires_grad '
                                 f'is False); {NO_GRAPH}.')
            output, roots = obj, [obj]
        else:
            raise TypeError(f'GraphView: expected a Tensor or an nn.Module, got '
                            f'{type(obj).__name__}; {NO_GRAPH}.')
        if module is not None and not isinstance(module, Module):
            raise TypeError(f'GraphView: module= must be an nn.Module, not {type(module).__name__}')
        self.output = output            # the tensor(s) the graph is behind (a module's output)
        self._roots = roots
        self._module = module
        self._names = dict(names or {})
        self._full = None
        self._watch = None
        super().__init__(collapse_depth=collapse_depth)
        if watch:
            self._watch = graph_export.watch_gradients(roots, on_pass=_refresher(self),
                                                       once=True)
        self.observe(lambda change: self._show_collapsed(), names=['collapse_depth', 'expanded'])
        self.refresh()

    # -- data ---------------------------------------------------------------------------------
    def refresh(self):
        """Export the graph again (leaf .grad norms and the latest gradient statistics; an fx
        graph's edits and ShapeProp's shapes)."""
        if self._fx is not None:
            self._full = _fx_graph.export(self._fx)
            self._show_collapsed()
            return self
        self._full = graph_export.export_graph(self._roots, names=self._names,
                                               module=self._module, tape=self._tape,
                                               gradients=self._watch)
        self._show_collapsed()
        return self

    def _show_collapsed(self):
        if self._full is None:
            return
        depth = self.collapse_depth
        self.graph = self._full if depth is None else \
            graph_export.collapse_graph(self._full, depth, self.expanded)

    def collapse(self, depth=1):
        """Draw the modules `depth` levels down as single nodes (None: every op); clears
        expanded."""
        _check_depth(depth)
        with self.hold_trait_notifications():
            self.expanded = []
            self.collapse_depth = depth
        return self

    def expand(self, path):
        """Draw module `path` open (its children collapsed instead)."""
        known = self._full['modules']
        if path not in known:
            where = (f'known modules: {", ".join(repr(p) for p in list(known)[:12])}'
                     if known else 'this view has no module information: make it from a module, '
                     'GraphView(model, x)')
            raise ValueError(f'GraphView.expand: no module {path!r} ran in this graph ({where})')
        if path not in self.expanded:
            self.expanded = self.expanded + [path]
        return self

    def close(self):
        if getattr(self, '_watch', None) is not None:   # (also from __del__ of a failed init)
            self._watch.remove()
            self._watch = None
        super().close()

    # -- static fallback ------------------------------------------------------------------------
    def _drawn(self):
        """The displayed nodes in drawing order (inputs first) and their layers' positions."""
        nodes = self.graph.get('nodes', [])
        ids = [n['id'] for n in nodes]
        pairs = [(e['source'], e['target']) for e in self.graph.get('edges', [])]
        rows = _graph_layout.layers(ids, pairs)
        by_id = {n['id']: n for n in nodes}
        return [by_id[i] for row in rows for i in row]

    def _summary(self):
        nodes = self.graph.get('nodes', [])
        count = {k: sum(1 for n in nodes if n['kind'] == k) for k in ('op', 'leaf', 'module')}
        params = sum(1 for n in nodes if n['is_parameter'])
        inside = sum(len(n['parameters']) for n in nodes if n['kind'] == 'module')
        parts = [_plural(count['op'], 'op'), _plural(params, 'parameter') + (
            f' (+{inside} inside modules)' if inside else '')]
        if count['leaf'] - params:
            parts.append(_plural(count['leaf'] - params, 'other leaf').replace('leafs', 'leaves'))
        if count['module']:
            parts.append(_plural(count['module'], 'collapsed module'))
        line = (f'GraphView: {_plural(len(nodes), "node")} ({", ".join(parts)}), '
                f'{_plural(len(self.graph.get("edges", [])), "edge")}')
        if self.collapse_depth is not None:
            line += f'; modules at depth {self.collapse_depth} collapsed'
            if self.expanded:
                line += f' (expanded: {", ".join(self.expanded)})'
        if self._fx is not None:
            shaped = any(n['shape'] is not None for n in nodes if n['kind'] == 'op')
            return line + ('; a torch.fx graph' + ('' if shaped else
                                                   ' (ShapeProp(gm).propagate(x) adds shapes)'))
        graded = any('grad' in n or 'grad_norm' in n for n in nodes)
        return line + ('; gradients from the last backward' if graded else
                       '; no gradients yet (run backward)')

    def _rows(self, nodes):
        label = {n['id']: (n['label'] if n['kind'] in ('leaf', 'module') else n['id'])
                 for n in self.graph.get('nodes', [])}
        inputs = {}
        for e in self.graph.get('edges', []):
            inputs.setdefault(e['target'], []).append(label.get(e['source'], e['source']))
        rows = []
        for n in nodes:
            names = inputs.get(n['id'], [])
            shown = ', '.join(names[:3]) + (f', ... ({len(names) - 3} more)'
                                            if len(names) > 3 else '')
            title = _title(n) + (f': {_contents(n)}' if n['kind'] == 'module' else '')
            rows.append([n['id'], title, _shape(n), n['dtype'] or '-', n['device'] or '-',
                         '<- ' + shown if names else '',
                         '-' if n.get('module') is None else (n['module'] or '(model)'),
                         _grad_text(n)])
        return rows

    def text(self):
        nodes = self._drawn()
        shown = nodes[:self.max_text_rows]
        headers = ['id', 'node', 'shape', 'dtype', 'device', 'inputs', 'module', 'grad norm']
        rows = self._rows(shown)
        if self._fx is not None:    # (a traced program has no devices or gradients)
            keep = [0, 1, 2, 3, 5, 6]
            headers, rows = [headers[i] for i in keep], [[r[i] for i in keep] for r in rows]
        align = ['l'] * len(headers) if self._fx is not None else ['l'] * 7 + ['r']
        table = _svg.text_table(headers, rows, align=align)
        lines = [self._summary(), table]
        if len(nodes) > len(shown):
            lines.append(_left_out(len(nodes) - len(shown), self))
        return '\n'.join(lines)

    def html(self):
        nodes = self._drawn()
        head = f'<div style="font-family:monospace"><b>{_svg.escape(self._summary())}</b></div>'
        if len(nodes) > self.max_svg_nodes:
            note = (f'{len(nodes)} nodes are too many to draw here (at most '
                    f'{self.max_svg_nodes}); listed instead.')
            return (f'{head}<div style="font-family:monospace">{_svg.escape(note)}</div>'
                    + _svg.pre(self.text()))
        return head + self._svg(nodes)

    def _svg(self, nodes):
        ids = [n['id'] for n in nodes]
        edges = self.graph.get('edges', [])
        placed, width, height = _graph_layout.positions(
            ids, [(e['source'], e['target']) for e in edges], BOX_WIDTH, BOX_HEIGHT)
        body = ['<defs><marker id="nbgrad-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
                'markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
                'fill="#888"/></marker></defs>']
        for e in edges:
            (x1, y1), (x2, y2) = placed[e['source']], placed[e['target']]
            body.append(_svg.line(x1 + BOX_WIDTH / 2, y1 + BOX_HEIGHT, x2 + BOX_WIDTH / 2, y2,
                                  extra='marker-end="url(#nbgrad-arrow)"'))
        for n in nodes:
            body.extend(_box(n, *placed[n['id']]))
        return _svg.svg(width, height, body, 'computation graph')


# ---------------------------------------------------------------------------------------------

def _check_depth(depth):
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise ValueError(f'collapse_depth must be None or an int >= 0 (1 draws each child of the '
                         f'model as one node), not {depth!r}')


def _example_inputs(model, example_input):
    """model's positional inputs: a tensor, a tuple of tensors, or a shape (ints) for a random
    normal tensor on the device and in the dtype of the model's first parameter."""
    if example_input is None:
        raise TypeError('GraphView(model) needs an example input to run the forward: '
                        'GraphView(model, x) or GraphView(model, (batch, features))')
    if isinstance(example_input, nbgrad.Tensor):
        return (example_input,)
    if isinstance(example_input, (tuple, list)) and example_input:
        if all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in example_input):
            first = next(model.parameters(), None)
            kwargs = {} if first is None else {'device': first.device, 'dtype': first.dtype}
            return (nbgrad.randn(*example_input, **kwargs),)
        if all(isinstance(t, nbgrad.Tensor) for t in example_input):
            return tuple(example_input)
    raise TypeError(f'GraphView(model, example_input): example_input must be a Tensor, a tuple '
                    f'of Tensors or a shape tuple of ints, not {example_input!r:.80}')


def _tensors_in(output):
    if isinstance(output, nbgrad.Tensor):
        return [output]
    values = output.values() if isinstance(output, dict) else \
        output if isinstance(output, (tuple, list)) else ()
    tensors = [t for t in values if isinstance(t, nbgrad.Tensor)]
    if not tensors:
        raise TypeError(f'GraphView: the module returned {type(output).__name__}, which holds no '
                        f'tensor to show the graph of')
    return tensors


def _refresher(view):
    """on_pass callback that refreshes the view without keeping it alive."""
    import weakref
    ref = weakref.ref(view)

    def refresh(watch):
        target = ref()
        if target is not None and target._watch is watch:
            target.refresh()
    return refresh


def _title(n):
    if n['kind'] == 'op':
        return n['op']
    if n['kind'] == 'module':
        return n['label'] if n['label'] == n['op'] else f'{n["label"]} ({n["op"]})'
    return n['label']


def _plural(count, word):
    return f'{count} {word}' + ('' if count == 1 else 's')


def _contents(n):
    return f'{_plural(n["op_count"], "op")}, {_plural(len(n["parameters"]), "param")}'


def _shape(n):
    return '-' if n['shape'] is None else str(n['shape'])


def _grad_norm(n):
    if 'grad' in n:
        return n['grad']['norm'], n['grad']['nan_count'], n['grad']['inf_count']
    if 'grad_norm' in n:
        value = n['grad_norm']
        return value, int(math.isnan(value)), int(math.isinf(value))
    return None


def _grad_text(n):
    found = _grad_norm(n)
    if found is None:
        return ''
    norm, nans, infs = found
    flags = ''.join(f' {k}:{v}' for k, v in (('nan', nans), ('inf', infs)) if v)
    return _svg.fmt(norm) + flags


def _left_out(count, view):
    hint = ('collapse modules: view.collapse(1)' if view.collapse_depth is None and
            view.graph.get('modules') else 'raise view.max_text_rows to list them')
    return f'... {count} more nodes not listed ({hint})'


def _box(n, x, y):
    kind = 'parameter' if n['is_parameter'] else n['kind']
    lines = [_title(n), _shape(n), f'{n["dtype"] or "-"} {n["device"] or "-"}']
    if n['kind'] == 'module':
        lines.insert(1, _contents(n))
    grad = _grad_text(n)
    if grad:
        lines.append('|grad| ' + grad)
    border = _svg.WARNING if grad and (' nan' in grad or ' inf' in grad) else '#666'
    out = [_svg.rect(x, y, BOX_WIDTH, BOX_HEIGHT, KIND_COLORS[kind],
                     f'stroke="{border}" rx="4"')]
    for i, value in enumerate(lines):
        value = value if len(value) <= 25 else value[:24] + '…'
        out.append(_svg.text(x + 6, y + 13 + i * LINE, value,
                             extra='font-weight="bold"' if i == 0 else ''))
    return out
