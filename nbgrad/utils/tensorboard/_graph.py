"""add_graph: run the model once on example inputs, record every op it dispatches, and write the
recording as the GraphDef TensorBoard's graph plugin draws, in PyTorch's naming scheme:

- the model's inputs are 'input/<forward's parameter name>' and its outputs 'output/output.N'
  (op 'IO Node'),
- an op is 'aten::<name>' in the scope of the module that ran it, '<Model>/<Class>[attr]/...'
  (TensorBoard folds each scope into one box), named '<scope>/<value number>',
- a parameter or buffer is a 'prim::GetAttr' node in its module's scope, and any other value
  an op reads (a Python number, a tensor the code made) a 'prim::Constant' node,
- each node carries its output's shape (attr '_output_shapes') and a description (attr 'attr').

The recording is an observer of nbgrad's dispatcher (the hook the profiler and jit.trace use);
module forward hooks say which module is running. PyTorch gets the same from torch.jit.trace;
the value numbers differ from TorchScript's, the structure is the same."""
import contextlib
import inspect

from . import _proto
from ... import _dispatch
from ..._protobuf import bytes_field, message_field, varint_field
from ..._tensor import Tensor

_PRODUCER_VERSION = 22      # GraphDef.versions.producer as PyTorch writes it


class _Node:
    __slots__ = ('name', 'op', 'inputs', 'shape', 'attributes')

    def __init__(self, name, op, inputs=(), shape=None, attributes=''):
        self.name, self.op, self.inputs = name, op, list(inputs)
        self.shape, self.attributes = shape, attributes


class _GraphRecorder:
    """Dispatcher observer: a node per op output, inputs resolved to the nodes that made them."""

    def __init__(self, scope_stack, attr_nodes):
        self.scopes = scope_stack           # the running modules' scopes, innermost last
        self.attr_nodes = attr_nodes        # id(parameter or buffer) -> its GetAttr node
        self.node_of = {}                   # id(tensor) -> name of the node whose value it is
        self.keep = []                      # tensors seen stay alive, so ids are never reused
        self.nodes = []
        self.used = set()                   # node names some op or output reads
        self.extra_outputs = []             # nodes of an op's second, third... outputs
        self.count = 0

    def _new_name(self, scope):
        self.count += 1
        return f'{scope}/{self.count}'

    def source(self, x):
        """The name of the node a value comes from (made on first sight for outside values)."""
        if isinstance(x, Tensor):
            name = self.node_of.get(id(x))
            if name is None:
                attr_node = self.attr_nodes.get(id(x))
                if attr_node is not None:
                    self.nodes.append(attr_node)
                    name = attr_node.name
                else:
                    name = self._new_name(self.scopes[-1])
                    self.nodes.append(_Node(name, 'prim::Constant', shape=list(x.shape),
                                            attributes=f'{{ value : {_short(x)}}}'))
                self.node_of[id(x)] = name
                self.keep.append(x)
        else:
            name = self._new_name(self.scopes[-1])
            self.nodes.append(_Node(name, 'prim::Constant', attributes=f'{{ value : {x!r}}}'))
        self.used.add(name)
        return name

    def op_started(self, op, inputs):
        return op, inputs, [self.source(x) for x in inputs]

    def op_finished(self, token, outputs):
        op, inputs, input_names = token
        results = outputs if isinstance(outputs, tuple) else (outputs,)
        # an op that wrote into its first input is named with a trailing _, as in TorchScript
        inplace = bool(inputs) and results[0] is inputs[0] and not getattr(op, 'is_view', False)
        kind = 'aten::' + _dispatch._op_name(op) + ('_' if inplace else '')
        scope = self.scopes[-1]
        for position, t in enumerate(results):
            if isinstance(t, Tensor):
                name = self._new_name(scope)
                node = _Node(name, kind, input_names, list(t.shape), '{}')
                if position:
                    self.extra_outputs.append(node)
                self.nodes.append(node)
                self.node_of[id(t)] = name      # (an in-place op's result is a new value)
                self.keep.append(t)

    def graph_nodes(self):
        """The nodes, less the extra outputs nothing read (pooling's indices, say: nbgrad's
        ops compute them alongside, TorchScript's graph shows the ops the code called)."""
        unread = {id(n) for n in self.extra_outputs if n.name not in self.used}
        return [n for n in self.nodes if id(n) not in unread]


    def construct(self, value):
        """The node of a returned value: a tuple, list or dict becomes a prim::*Construct node
        reading its items (a dict: key, value, key, value...)."""
        kind = {tuple: 'Tuple', list: 'List', dict: 'Dict'}.get(type(value))
        if kind is None:
            return self.source(value)
        if kind == 'Dict':
            inputs = [name for k, v in value.items()
                      for name in (self.source(k), self.construct(v))]
        else:
            inputs = [self.construct(v) for v in value]
        name = self._new_name(self.scopes[0])
        self.nodes.append(_Node(name, f'prim::{kind}Construct', inputs, attributes='{}'))
        self.used.add(name)
        return name


def _short(t):
    """A constant tensor's description: its values when few, else its shape."""
    if t.numel() <= 8:
        return repr(t).replace("'", ' ')
    return f'tensor of shape {list(t.shape)}'


def _scope_names(model, base):
    """{id(module): scope} with PyTorch's scope names: '<Model>/<Class>[attr]/...'."""
    scopes = {}
    for path, module in model.named_modules():
        scope, owner = base, model
        for part in path.split('.') if path else ():
            owner = owner._modules[part]
            scope += f'/{type(owner).__name__}[{part}]'
        scopes.setdefault(id(module), scope)
    return scopes


def _attr_nodes(model, scopes):
    """A GetAttr node for each parameter and buffer, in the scope of the module holding it."""
    nodes = {}
    for path, module in model.named_modules():
        for attr, t in [*module._parameters.items(), *module._buffers.items()]:
            if t is not None and id(t) not in nodes:
                scope = f'{scopes[id(module)]}/{attr}'
                nodes[id(t)] = _Node(f'{scope}/{attr}', 'prim::GetAttr',
                                     attributes=f'{{ name :  {attr} }}')
    return nodes


def _input_names(forward, n):
    try:
        params = [p for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    return names + [f'input.{i + 1}' for i in range(len(names), n)]


@contextlib.contextmanager
def _module_scopes(model, scopes, stack):
    """Forward hooks that keep `stack` at the running module's scope."""
    def leave(module, args, output):
        stack.pop()             # (returns None: a forward hook's result would replace output)

    handles = []
    for _, module in model.named_modules():
        scope = scopes[id(module)]
        handles.append(module.register_forward_pre_hook(
            lambda m, args, scope=scope: stack.append(scope)))
        handles.append(module.register_forward_hook(leave))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def _eval_mode(model):
    training = getattr(model, 'training', None)
    if training is not None:
        model.train(False)
    try:
        yield
    finally:
        if training is not None:
            model.train(training)


def _tracing():
    """jit.is_tracing() is True while tracing, as under torch.jit.trace (where the jit package
    keeps that switch has moved before: looked up, not imported by name)."""
    import importlib
    for module_name in ('nbgrad.jit._tracing', 'nbgrad.jit'):
        try:
            scope = getattr(importlib.import_module(module_name), '_tracing_scope', None)
        except ImportError:
            scope = None
        if scope is not None:
            return scope()
    return contextlib.nullcontext()


def trace_nodes(model, inputs):
    """The model's graph as a list of _Node, inputs first, then ops in order, outputs last."""
    from ... import no_grad
    from ...nn import Module
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else None
    if inputs is None or not all(isinstance(x, Tensor) for x in inputs):
        raise TypeError('add_graph: input_to_model must be a tensor or a tuple/list of tensors '
                        '(the arguments forward is called with)')
    is_module = isinstance(model, Module)
    base = type(model).__name__ if is_module else getattr(model, '__name__', 'Module')
    scopes = _scope_names(model, base) if is_module else {}
    stack = [base]
    recorder = _GraphRecorder(stack, _attr_nodes(model, scopes) if is_module else {})
    forward = model.forward if is_module else model
    input_nodes = []
    for name, x in zip(_input_names(forward, len(inputs)), inputs):
        node = _Node(f'input/{name}', 'IO Node', shape=list(x.shape))
        input_nodes.append(node)
        recorder.node_of[id(x)] = node.name
    hooks = _module_scopes(model, scopes, stack) if is_module else contextlib.nullcontext()
    with _eval_mode(model), no_grad(), hooks, _tracing():
        remove = _dispatch.add_observer(recorder)
        try:
            result = model(*inputs)
        finally:
            remove()
    # one output, as in TorchScript: a tuple, list or dict is a node that builds it
    shape = list(result.shape) if isinstance(result, Tensor) else [1]
    outputs = [_Node('output/output.1', 'IO Node', [recorder.construct(result)], shape)]
    # PyTorch leaves out the inputs nothing reads
    used_inputs = [n for n in input_nodes if n.name in recorder.used]
    return used_inputs + outputs + recorder.graph_nodes()


def _node_def(node):
    attrs = [('attr', _proto.always_bytes(2, node.attributes))]
    if node.shape is not None:
        shape_list = message_field(7, _proto.tensor_shape(node.shape))  # ListValue.shape
        attrs.append(('_output_shapes', message_field(1, shape_list)))  # AttrValue.list
    return (bytes_field(1, node.name) + bytes_field(2, node.op) +
            b''.join(message_field(3, i.encode('utf-8')) for i in node.inputs) +
            b''.join(message_field(5, bytes_field(1, k) + message_field(2, v))
                     for k, v in attrs))


def graph_def(nodes):
    """GraphDef: the nodes, and versions.producer."""
    return (b''.join(message_field(1, _node_def(n)) for n in nodes) +
            message_field(4, varint_field(1, _PRODUCER_VERSION)))


def run_metadata():
    """RunMetadata with one device's (empty) step stats: PyTorch says CPU whatever ran it."""
    device_stats = bytes_field(1, '/device:CPU:0')
    return message_field(1, message_field(1, device_stats))


def describe(nodes):
    """The graph as text (add_graph(verbose=True) prints it)."""
    lines = []
    for n in nodes:
        shape = f' : {n.shape}' if n.shape is not None else ''
        lines.append(f'{n.name}{shape} = {n.op}({", ".join(n.inputs)}) {n.attributes}'.rstrip())
    return '\n'.join(lines)
