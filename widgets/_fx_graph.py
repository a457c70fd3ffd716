"""A torch.fx graph (a GraphModule's, or a bare fx.Graph) in GraphView's graph contract, so the
same view draws a traced program: placeholders and get_attr reads as leaves (parameters named by
their path), call_function/call_method/call_module Nodes as ops labelled with what they call,
the output Node as the output, each inside the modules symbolic tracing noted
(node.meta['nn_module_stack']: so collapse/expand work as for autograd graphs). Shapes and
dtypes come from ShapeProp when it has run (node.meta['tensor_meta']); an fx graph has no
gradients or devices to show."""
import nbgrad
from nbgrad.fx import Graph, GraphModule
from nbgrad.fx._qualified_names import pretty_target
from nbgrad.nn import Parameter

_KINDS = {'placeholder': 'leaf', 'get_attr': 'leaf', 'output': 'output'}


def is_fx(obj):
    return isinstance(obj, (Graph, GraphModule))


def _graph_and_module(obj):
    if isinstance(obj, GraphModule):
        return obj.graph, obj
    return obj, obj.owning_module


def _resolve(module, target):
    for part in target.split('.'):
        module = getattr(module, part, None)
        if module is None:
            return None
    return module


def _op_text(node, module):
    if node.op == 'call_method':
        return f'.{node.target}()'
    if node.op == 'call_module':
        sub = _resolve(module, node.target) if module is not None else None
        return node.target if sub is None else f'{node.target} ({type(sub).__name__})'
    if node.op == 'call_function':
        return pretty_target(node.target)
    return node.op


def _metadata(node):
    meta = node.meta.get('tensor_meta')
    if meta is None or not hasattr(meta, 'shape'):
        return None, None
    return list(meta.shape), str(meta.dtype).rpartition('.')[2]


def export(obj):
    """The graph dict GraphView draws (nodes, edges, modules) for an fx Graph or GraphModule."""
    graph, module = _graph_and_module(obj)
    nodes, edges, modules = [], [], {}
    for node in graph.nodes:
        # (keys of a module's later calls read 'path@1': the values hold the path)
        stack = [value for value in (node.meta.get('nn_module_stack') or {}).values()]
        for path, cls in stack:     # (a module's output: its last node)
            modules[path] = {'type': cls.__name__, 'output': node.name}
        kind = _KINDS.get(node.op, 'op')
        shape, dtype = _metadata(node)
        value = _resolve(module, node.target) if node.op == 'get_attr' and module else None
        nodes.append({
            'id': node.name, 'kind': kind,
            'label': node.target if node.op == 'get_attr' else
            'output' if kind == 'output' else node.name,
            'op': _op_text(node, module), 'shape': shape, 'dtype': dtype, 'device': None,
            'is_leaf': kind == 'leaf', 'is_parameter': isinstance(value, Parameter),
            'module': stack[-1][0] if stack else None, 'num_outputs': 1})
        if kind == 'leaf' and isinstance(value, nbgrad.Tensor):
            nodes[-1].update(shape=list(value.shape), dtype=str(value.dtype).rpartition('.')[2],
                             device=str(value.device), has_grad=value.grad is not None)
        edges.extend({'source': used.name, 'target': node.name}
                     for used in node.all_input_nodes)
    return {'nodes': nodes, 'edges': edges, 'modules': modules}
