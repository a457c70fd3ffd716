"""Turn a tensor's backward graph into plain data (for GraphView and anything else that draws it).

    data = nbgrad.autograd.export_graph(loss, names={id(p): 'fc1.weight', ...})

gives {'nodes': [...], 'edges': [...], 'modules': {...}}: JSON-ready dicts and lists only (no
tensors, no NaN: a number that is NaN or infinite is None). Nodes are the graph's ops ('op'), its
leaves ('leaf', incl. parameters) and the exported tensors themselves ('output'); each carries
the shape, dtype and device of the value it produces. Edges run in the forward direction (from an
input to the op that consumed it), which is how people read a model.

Three additions for models:

  Parameter names. export_graph(out, module=model) names parameter (and buffer) leaves by their
  path from model.named_parameters(): '0.weight', 'encoder.fc1.bias'.

  Module attribution. While a forward runs under `record_modules(model)`, the dispatch point's
  observer (nbgrad._dispatch.add_observer) notes each new grad_fn node and the module hooks the
  profiler uses for its module ranges (profiler/_module_ranges.py: global forward pre/post hooks
  and the stack of modules being called) say which module is running:

      with record_modules(model) as tape:
          out = model(x)                    # or: out, tape = trace_module(model, x)
      data = export_graph(out, module=model, tape=tape)

  Then every op node has 'module': the path of the innermost module whose forward created it
  ('encoder.fc1'; '' for the model's own forward; None for ops outside the model), a parameter
  leaf has its owner's path, and data['modules'] maps each module path that ran to
  {'type': class name, 'output': id of the node that produced its (first) output or None}.
  A node the observer did not see (a view remade after an in-place write) takes the module of
  the op that consumes it. `collapse_graph(data, depth)` (or export_graph(collapse_depth=...))
  then draws each module at that depth as one node.

  Gradient statistics. `watch_gradients(out)` hooks every node of the graph (Node.register_hook)
  and records, each time backward runs through a node, statistics of the gradient that flowed
  into its outputs (all outputs that received one, taken together):
      {'norm', 'mean', 'std', 'min', 'max', 'numel', 'nan_count', 'inf_count'}
  norm is the L2 norm of all elements (NaN, so None, when one is NaN; inf when one is infinite);
  mean, std (Bessel-corrected, as Tensor.std) min and max describe the finite elements, as
  GradientView does. export_graph(..., gradients=watch) puts them under 'grad' on op and leaf
  nodes (the latest backward's values); leaves keep 'grad_norm', the norm of their .grad.
"""
import contextlib
import math
import weakref

import numpy as np

from .._tensor import Tensor
from .graph import AccumulateGrad


def _describe(shape, np_dtype, device):
    from .._dtype import from_numpy_dtype
    return {'shape': list(shape), 'dtype': from_numpy_dtype(np_dtype).name, 'device': device}


def _source_node(t):
    return t.grad_fn if t.grad_fn is not None else (
        t._grad_accumulator() if t.requires_grad else None)


def _roots(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def graph_nodes(tensors):
    """Every node (ops and AccumulateGrad) behind `tensors`, each once, roots first."""
    order, seen = [], set()
    stack = [n for n in (_source_node(t) for t in _roots(tensors)) if n is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(e[0] for e in node._edges if e is not None and e[0] is not None)
    return order


# ---------------------------------------------------------------------------------------------
# Module attribution
# ---------------------------------------------------------------------------------------------

class _NoRanges:
    """The recorder interface _ModuleRanges reports to; the tape needs its stack, not ranges."""
    def range_started(self, name, scope, is_async=False):
        return None

    def range_finished(self, token):
        pass


class ModuleTape:
    """What record_modules saw: which module created each graph node (weakly held, so a tape
    keeps no graph alive), the class of every module that ran and the node of its output."""

    def __init__(self, model):
        self.paths = {id(m): path for path, m in model.named_modules()}
        self.node_module = weakref.WeakKeyDictionary()   # node -> module path
        self.types = {}                                  # path -> class name
        self.outputs = {}                                # path -> weakref to its output's node

    def module_of(self, node):
        return self.node_module.get(node)

    def output_node(self, path):
        ref = self.outputs.get(path)
        return ref() if ref is not None else None

    # -- dispatch observer --------------------------------------------------------------------
    def op_started(self, op, inputs):
        return None

    def op_finished(self, token, outputs):
        path = self._current()
        if path is None:
            return
        for t in (outputs if isinstance(outputs, (tuple, list)) else (outputs,)):
            fn = t._grad_fn if isinstance(t, Tensor) else None
            if fn is not None and fn not in self.node_module:
                self.node_module[fn] = path   # (inner ops finish first: innermost module wins)

    def _current(self):
        """The path of the innermost module of `model` in forward now, or None."""
        for _, _, module, *_ in reversed(getattr(self._ranges.local, 'calling', None) or ()):
            path = self.paths.get(id(module))
            if path is not None:
                return path
        return None

    # -- module hooks -------------------------------------------------------------------------
    def _forward_pre(self, module, args):
        self._ranges.forward_pre(module, args)
        path = self.paths.get(id(module))
        if path is not None:
            self.types.setdefault(path, type(module).__name__)

    def _forward(self, module, args, output):
        self._ranges.forward(module, args, output)
        path = self.paths.get(id(module))
        first = output[0] if isinstance(output, (tuple, list)) and output else output
        if path is not None and isinstance(first, Tensor) and first._grad_fn is not None:
            self.outputs[path] = weakref.ref(first._grad_fn)


@contextlib.contextmanager
def record_modules(model):
    """Record which of model's modules creates each graph node during the forwards run inside
    the `with` block; yields the ModuleTape to pass to export_graph(tape=...)."""
    from .. import _dispatch
    from ..nn.modules import module as nn_module
    from ..profiler._module_ranges import _ModuleRanges
    if not isinstance(model, nn_module.Module):
        raise TypeError(f'record_modules(model): model must be an nn.Module, not '
                        f'{type(model).__name__}')
    tape = ModuleTape(model)
    tape._ranges = _ModuleRanges(_NoRanges())
    undo = [_dispatch.add_observer(tape),
            nn_module.register_module_forward_pre_hook(tape._forward_pre).remove,
            nn_module.register_module_forward_hook(tape._forward, always_call=True).remove]
    try:
        yield tape
    finally:
        for remove in reversed(undo):
            remove()


def trace_module(model, *inputs):
    """Run model(*inputs) under record_modules(model); returns (output, tape)."""
    with record_modules(model) as tape:
        output = model(*inputs)
    return output, tape


# ---------------------------------------------------------------------------------------------
# Gradient statistics
# ---------------------------------------------------------------------------------------------

def _number(x):
    x = float(x)
    return x if math.isfinite(x) else None


def gradient_stats(grads):
    """Statistics of some gradients (Tensors or arrays, taken together), JSON-ready. A complex
    gradient counts as its real and imaginary parts (the norm is then the complex one)."""
    arrays = [g._data if isinstance(g, Tensor) else g for g in grads if g is not None]
    xp = np if all(type(a).__module__.startswith('numpy') for a in arrays) else \
        __import__('cupy')
    arrays = [xp.stack([a.real, a.imag]) if a.dtype.kind == 'c' else a for a in arrays]
    values = xp.concatenate([xp.asarray(a, dtype=xp.float64).ravel() for a in arrays]) \
        if arrays else xp.zeros(0)
    finite = values[xp.isfinite(values)]
    n = int(finite.size)
    return {'norm': _number(xp.sqrt(xp.sum(values * values))) if values.size else 0.0,
            'mean': _number(finite.mean()) if n else None,
            'std': _number(finite.std(ddof=1)) if n > 1 else None,
            'min': _number(finite.min()) if n else None,
            'max': _number(finite.max()) if n else None,
            'numel': int(values.size),
            'nan_count': int(xp.isnan(values).sum()),
            'inf_count': int(xp.isinf(values).sum())}


class GradientWatch:
    """Hooks on every node of a graph recording the gradient flowing into it (see the module
    docstring). `stats` maps node -> the latest statistics; `on_pass`, if given, is called with
    the watch once every hooked node has reported since the last call (a full backward through
    the graph). remove() takes the hooks off; with once=True they come off by themselves after
    the first full backward (a leaf's AccumulateGrad node lives as long as the leaf: a
    parameter's hook would otherwise cost every later backward of the model)."""

    def __init__(self, tensors, on_pass=None, once=False):
        self.stats = weakref.WeakKeyDictionary()
        self.on_pass = on_pass
        self.once = once
        self.passes = 0
        self._pending = set()
        self._handles = []
        nodes = graph_nodes(tensors)
        self._count = len(nodes)
        for node in nodes:
            # a post hook: for AccumulateGrad it runs after the leaf's .grad was accumulated
            self._handles.append(node.register_hook(self._hook_for(node)))

    def _hook_for(self, node):
        ref = weakref.ref(node)
        key = id(node)

        def hook(grad_inputs, grad_outputs):
            target = ref()
            if target is not None:
                self.stats[target] = gradient_stats(grad_outputs)
            self._pending.add(key)
            if len(self._pending) == self._count:
                self._pending.clear()
                self.passes += 1
                if self.once:
                    self.remove()
                if self.on_pass is not None:
                    self.on_pass(self)
        return hook

    def remove(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []


def watch_gradients(tensors, on_pass=None, once=False):
    """Record gradient statistics for every node of the graph behind `tensors` (GradientWatch)."""
    return GradientWatch(tensors, on_pass, once)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

def export_graph(tensors, names=None, module=None, tape=None, gradients=None,
                 collapse_depth=None, expanded=()):
    """Plain-data description of the graph behind `tensors` (a tensor or a sequence of them).

    names: optional {id(tensor): name} for leaves and outputs (these win over module names).
    module: an nn.Module whose named_parameters()/named_buffers() name the leaves.
    tape: a ModuleTape from record_modules, for each node's 'module' and data['modules'].
    gradients: a GradientWatch, for each node's 'grad'.
    collapse_depth, expanded: collapse the result by module (see collapse_graph).
    """
    roots = _roots(tensors)
    names, owners = _leaf_names(module, names)
    nodes, edges = [], []
    ids = {}
    produced = {}  # node -> {output_nr: (shape, np_dtype)}

    def node_id(node):
        if node not in ids:
            ids[node] = f'n{len(ids)}'
        return ids[node]

    # Walk the graph once (iteratively), learning what each node's outputs look like from the
    # edges into its consumers. An op's inputs live on its output's device, except across a
    # device copy (ToCopy), which remembers where its input was. Module attribution flows the
    # same way for the few nodes the tape did not see.
    order = []
    device_of = {}
    inherited = {}
    stack = []
    for t in roots:
        source = _source_node(t)
        if source is not None:
            stack.append((source, str(t.device), None))
    while stack:
        node, device, consumer_module = stack.pop()
        if node in device_of:
            continue
        device_of[node] = device
        order.append(node)
        own = tape.module_of(node) if tape is not None else None
        inherited[node] = own if own is not None else consumer_module
        input_device = _input_device(node, device)
        for edge in node._edges:
            if edge is None or edge[0] is None:
                continue
            child, nr, shape, np_dtype = edge
            produced.setdefault(child, {})[nr] = (shape, np_dtype)
            stack.append((child, input_device, inherited[node]))

    for root_index, t in enumerate(roots):
        out_id = f'out{root_index}'
        entry = {'id': out_id, 'kind': 'output', 'label': names.get(id(t), f'output {root_index}'),
                 'is_leaf': t.grad_fn is None, 'is_parameter': False, 'module': None}
        entry.update(_describe(t._data.shape, t._data.dtype, str(t.device)))
        nodes.append(entry)
        source = _source_node(t)
        if source is not None:
            edges.append({'source': node_id(source), 'target': out_id,
                          'output_nr': t._output_nr})

    for node in order:
        entry = {'id': node_id(node)}
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            entry.update(kind='leaf', op='AccumulateGrad', label=names.get(id(leaf), 'leaf'),
                         is_leaf=True, is_parameter=bool(getattr(leaf, '_is_param', False)),
                         has_grad=leaf._grad is not None, module=owners.get(id(leaf)))
            entry.update(_describe(leaf._data.shape, leaf._data.dtype, str(leaf.device)))
            if leaf._grad is not None:
                entry['grad_norm'] = _norm(leaf._grad)
        else:
            entry.update(kind='op', op=node.type_name(),
                         label=node.type_name().replace('Backward0', ''),
                         is_leaf=False, is_parameter=False, module=inherited[node])
            outputs = produced.get(node, {})
            if outputs:
                shape, np_dtype = outputs.get(0, next(iter(outputs.values())))
                entry.update(_describe(shape, np_dtype, device_of[node]))
            else:
                entry.update(_root_description(node, roots))
            entry['num_outputs'] = node.num_outputs
        if gradients is not None and node in gradients.stats:
            entry['grad'] = dict(gradients.stats[node])
        nodes.append(entry)
        for position, edge in enumerate(node._edges):
            if edge is None or edge[0] is None:
                continue
            edges.append({'source': node_id(edge[0]), 'target': entry['id'],
                          'output_nr': edge[1], 'input_nr': position})

    modules = {}
    if tape is not None:
        for path, kind in tape.types.items():
            out = tape.output_node(path)
            modules[path] = {'type': kind, 'output': ids.get(out) if out is not None else None}
    data = {'nodes': nodes, 'edges': edges, 'modules': modules}
    if collapse_depth is not None:
        data = collapse_graph(data, collapse_depth, expanded)
    return data


def _leaf_names(module, names):
    """{id(tensor): name} and {id(tensor): owner module path} from module, then `names`."""
    found, owners = {}, {}
    if module is not None:
        members = list(module.named_buffers()) + list(module.named_parameters())
        for path, t in members:
            found[id(t)] = path
            owners[id(t)] = path.rpartition('.')[0]
    found.update(names or {})
    return found, owners


def _root_description(node, roots):
    for t in roots:
        if t.grad_fn is node:
            return _describe(t._data.shape, t._data.dtype, str(t.device))
    return {'shape': None, 'dtype': None, 'device': None}


def _input_device(node, output_device):
    source = getattr(node, '_source', None)  # ToCopy: (dtype, on_cpu, gpu_index)
    if node.name() == 'ToCopyBackward0' and source is not None:
        return 'cpu' if source[1] else f'cuda:{source[2]}'
    return output_device


def _norm(t):
    """A leaf gradient's L2 norm, None when it is not finite (JSON has no inf or nan: the
    node's 'grad' statistics count its NaN and Inf elements)."""
    data = t._data
    host = data if data.__class__.__module__ == 'numpy' else data.get()
    return _number(np.sqrt(np.sum(np.square(host.astype(np.float64)))))


# ---------------------------------------------------------------------------------------------
# Collapsing by module
# ---------------------------------------------------------------------------------------------

def module_group(path, depth, expanded=(), has_children=lambda path: True):
    """The module path a node of module `path` is drawn inside when modules at `depth` are
    collapsed (depth 1: the model's children; 0: the whole model) except those in `expanded`,
    which show their own children instead; a module shallower than `depth` without children of
    its own (a Linear directly in the model) is collapsed too. None when the node stays a node
    of its own (ops outside the model, or run by a module that is drawn open)."""
    if path is None:
        return None
    parts = path.split('.') if path else []
    for k in range(depth, len(parts) + 1):
        group = '.'.join(parts[:k])
        if group not in expanded:
            return group
    if len(parts) < depth and path not in expanded and not has_children(path):
        return path
    return None


def collapse_graph(data, depth, expanded=()):
    """The exported graph with each module at `depth` drawn as one node (kind 'module').

    A module node: {'id': 'module:<path>', 'kind': 'module', 'module': path, 'label': path or the
    model's type, 'op': class name, 'op_count': ops inside, 'parameters': [names of the
    parameter leaves inside], 'shape'/'dtype'/'device' (and 'grad') of its output, 'output':
    the id of the node producing it}. Edges inside a module are dropped; edges between two
    drawn nodes are kept once, with 'count' (how many edges of the full graph they stand for).
    Nodes outside every collapsed module (module None, or run by a module drawn open) are kept
    as they are.
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f'collapse depth must be an int >= 0 (1 collapses the children of the '
                         f'model), not {depth!r}')
    expanded = set(expanded)
    by_id = {n['id']: n for n in data['nodes']}
    modules = data.get('modules', {})
    known = set(modules) | {n.get('module') for n in data['nodes']} - {None}
    parents = {'.'.join(p.split('.')[:k]) for p in known if p for k in range(p.count('.') + 1)}

    def has_children(path):
        return path in parents

    group_of, groups = {}, {}
    for n in data['nodes']:
        group = module_group(n.get('module'), depth, expanded, has_children) \
            if n['kind'] != 'output' else None
        if group is not None:
            group_of[n['id']] = group
            groups.setdefault(group, []).append(n)
    nodes = []
    placed = set()
    for n in data['nodes']:
        group = group_of.get(n['id'])
        if group is None:
            nodes.append(n)
        elif group not in placed:
            placed.add(group)
            nodes.append(_module_node(group, groups[group], modules, by_id, data['edges'],
                                      group_of))

    def drawn(node_id):
        group = group_of.get(node_id)
        return f'module:{group}' if group is not None else node_id

    edges, merged = [], {}
    for e in data['edges']:
        source, target = drawn(e['source']), drawn(e['target'])
        if source == target:
            continue
        if source == e['source'] and target == e['target']:
            edges.append(e)
            continue
        key = (source, target)
        if key in merged:
            merged[key]['count'] += 1
        else:
            merged[key] = {'source': source, 'target': target, 'count': 1}
            edges.append(merged[key])
    return {'nodes': nodes, 'edges': edges, 'modules': modules}


def _module_node(group, members, modules, by_id, edges, group_of):
    info = modules.get(group, {})
    output = info.get('output')
    if output is None or group_of.get(output) != group:
        # no recorded output: the last member (roots first order: nearest the output) that
        # feeds something outside the module
        leaving = {e['source'] for e in edges
                   if group_of.get(e['source']) == group and group_of.get(e['target']) != group}
        output = next((n['id'] for n in members if n['id'] in leaving and n['kind'] == 'op'),
                      None)
    entry = {'id': f'module:{group}', 'kind': 'module', 'module': group,
             'label': group or info.get('type', 'model'), 'op': info.get('type', 'Module'),
             'is_leaf': False, 'is_parameter': False,
             'op_count': sum(1 for n in members if n['kind'] == 'op'),
             'parameters': [n['label'] for n in members if n['kind'] == 'leaf'],
             'output': output, 'shape': None, 'dtype': None, 'device': None}
    if output is not None:
        source = by_id[output]
        entry.update(shape=source['shape'], dtype=source['dtype'], device=source['device'])
        if 'grad' in source:
            entry['grad'] = source['grad']
    return entry
