"""Turn a tensor's backward graph into plain data (for GraphView and anything else that draws it).

    data = nbgrad.autograd.export_graph(loss, names={id(p): 'fc1.weight', ...})

gives {'nodes': [...], 'edges': [...]}: JSON-ready dicts and lists only, no tensors. Nodes are
the graph's ops ('op'), its leaves ('leaf', incl. parameters) and the exported tensors themselves
('output'); each carries the shape, dtype and device of the value it produces. Edges run in the
forward direction (from an input to the op that consumed it), which is how people read a model.
"""
from .._tensor import Tensor
from .graph import AccumulateGrad


def _describe(shape, np_dtype, device):
    from .._dtype import from_numpy_dtype
    return {'shape': list(shape), 'dtype': from_numpy_dtype(np_dtype).name, 'device': device}


def export_graph(tensors, names=None):
    """Plain-data description of the graph behind `tensors` (a tensor or a sequence of them).

    names: optional {id(tensor): name} for leaves (e.g. from Module.named_parameters()).
    """
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    names = names or {}
    nodes, edges = [], []
    ids = {}
    produced = {}  # node -> {output_nr: (shape, np_dtype)}

    def node_id(node):
        if node not in ids:
            ids[node] = f'n{len(ids)}'
        return ids[node]

    # Walk the graph once (iteratively), learning what each node's outputs look like from the
    # edges into its consumers. An op's inputs live on its output's device, except across a
    # device copy (ToCopy), which remembers where its input was.
    order = []
    device_of = {}
    stack = []
    for t in roots:
        source = t.grad_fn if t.grad_fn is not None else (
            t._grad_accumulator() if t.requires_grad else None)
        if source is not None:
            stack.append((source, str(t.device)))
    while stack:
        node, device = stack.pop()
        if node in device_of:
            continue
        device_of[node] = device
        order.append(node)
        input_device = _input_device(node, device)
        for edge in node._edges:
            if edge is None or edge[0] is None:
                continue
            child, nr, shape, np_dtype = edge
            produced.setdefault(child, {})[nr] = (shape, np_dtype)
            stack.append((child, input_device))

    for root_index, t in enumerate(roots):
        out_id = f'out{root_index}'
        entry = {'id': out_id, 'kind': 'output', 'label': names.get(id(t), f'output {root_index}'),
                 'is_leaf': t.grad_fn is None, 'is_parameter': False}
        entry.update(_describe(t._data.shape, t._data.dtype, str(t.device)))
        nodes.append(entry)
        source = t.grad_fn if t.grad_fn is not None else (
            t._grad_accumulator() if t.requires_grad else None)
        if source is not None:
            edges.append({'source': node_id(source), 'target': out_id,
                          'output_nr': t._output_nr})

    for node in order:
        entry = {'id': node_id(node)}
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            entry.update(kind='leaf', op='AccumulateGrad', label=names.get(id(leaf), 'leaf'),
                         is_leaf=True, is_parameter=bool(getattr(leaf, '_is_param', False)),
                         has_grad=leaf._grad is not None)
            entry.update(_describe(leaf._data.shape, leaf._data.dtype, str(leaf.device)))
            if leaf._grad is not None:
                entry['grad_norm'] = _norm(leaf._grad)
        else:
            entry.update(kind='op', op=node.name(), label=node.name().replace('Backward0', ''),
                         is_leaf=False, is_parameter=False)
            outputs = produced.get(node, {})
            if outputs:
                shape, np_dtype = outputs.get(0, next(iter(outputs.values())))
                entry.update(_describe(shape, np_dtype, device_of[node]))
            else:
                entry.update(_root_description(node, roots))
            entry['num_outputs'] = node.num_outputs
        nodes.append(entry)
        for position, edge in enumerate(node._edges):
            if edge is None or edge[0] is None:
                continue
            edges.append({'source': node_id(edge[0]), 'target': entry['id'],
                          'output_nr': edge[1], 'input_nr': position})
    return {'nodes': nodes, 'edges': edges}


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
    data = t._data
    host = data if data.__class__.__module__ == 'numpy' else data.get()
    import numpy as np
    return float(np.sqrt(np.sum(np.square(host.astype(np.float64)))))
