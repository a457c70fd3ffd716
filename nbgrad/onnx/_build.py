"""From a recording (nbgrad.jit's trace) to an ONNX model's bytes: name every value, translate
each step with _ops' translators, and lay out the graph's inputs, outputs and initializers.

With dynamic axes the exporter also has a second recording of the same model on inputs resized
along those axes (_dynamic.py). Each value then has two shapes; a dim whose size differs between
them follows a dynamic axis, and translators of shape-carrying ops (reshape, expand...) read both
to write shapes that follow the inputs instead of the example's sizes."""
import numpy as np

from . import _ops, _proto


class OnnxExporterError(RuntimeError):
    """Export failed: an op or option nbgrad cannot write as ONNX."""


class _Context:
    """Names values and collects nodes and initializers while ops are translated."""

    def __init__(self, opset):
        self.opset = opset
        self.initializers, self.initializer_names, self.nodes = [], [], []
        self.meta_of = {}           # name -> (shape, numpy dtype) in the example's trace
        self.other_shape_of = {}    # name -> shape in the resized trace (dynamic axes)
        self._count = 0
        self.step_outputs = None
        self.step_op = self.step_other_op = None

    def temp(self):
        self._count += 1
        return f'/tmp_{self._count}'

    def constant(self, array):
        array = np.asarray(array)
        name = f'/const_{len(self.initializers)}'
        self.initializer(name, array)
        return name

    def initializer(self, name, array):
        self.initializers.append(_proto.tensor(name, array))
        self.initializer_names.append(name)
        self.meta_of[name] = (tuple(array.shape), array.dtype)

    def int64s(self, values):
        return self.constant(np.array(list(values), np.int64))

    def node(self, op_type, inputs, outputs=None, **attributes):
        outputs = self.step_outputs if outputs is None else outputs
        self._count += 1
        return _proto.node(op_type, inputs, outputs, f'/{op_type}_{self._count}', **attributes)

    def rank(self, name):
        return len(self.meta_of[name][0])

    def shape(self, name):
        return self.meta_of[name][0]

    def other_shape(self, name):
        return self.other_shape_of.get(name, self.meta_of[name][0])

    def dynamic_dims(self, name):
        """The dims of a value whose size follows a dynamic axis."""
        return [i for i, (a, b) in enumerate(zip(self.shape(name), self.other_shape(name)))
                if a != b]

    def dtype(self, name):
        return self.meta_of[name][1]

    def out_shape(self):
        return self.meta_of[self.step_outputs[0]][0]

    def other_out_shape(self):
        return self.other_shape(self.step_outputs[0])

    def out_dtype(self):
        return self.meta_of[self.step_outputs[0]][1]

    def reduce(self, op_type, x, axes, keepdims, outputs=None):
        """A Reduce* node: ReduceSum takes its axes as an input from opset 13, the others from
        opset 18 (an attribute before)."""
        if op_type == 'ReduceSum' or self.opset >= 18:
            return self.node(op_type, [x, self.int64s(axes)], outputs, keepdims=int(keepdims))
        return self.node(op_type, [x], outputs, axes=list(axes), keepdims=int(keepdims))

    def cast(self, name, np_dtype, nodes):
        """name as np_dtype, appending a Cast to nodes when its dtype differs."""
        if np.dtype(self.dtype(name)) == np.dtype(np_dtype):
            return name
        out = self.temp()
        nodes.append(self.node('Cast', [name], [out], to=_proto.element_type(np_dtype)))
        self.meta_of[out] = (self.shape(name), np.dtype(np_dtype))
        self.other_shape_of[out] = self.other_shape(name)
        return out

    def same_in_both_traces(self, name, fields):
        """With dynamic_axes, the exporter does not compare how the two traces built an op
        whose translator follows shapes (FOLLOWS_SHAPES): such a translator names here the
        op's fields that the graph bakes in, which must not change with the inputs' sizes."""
        mine, theirs = self.step_op, self.step_other_op
        changed = [f for f in fields if getattr(mine, f) != getattr(theirs, f)]
        if changed:
            raise self.unsupported(name, f"a {', '.join(changed)} that changes with the "
                                   f'dynamic axes ({[getattr(mine, f) for f in changed]} for '
                                   f'the example, {[getattr(theirs, f) for f in changed]} when '
                                   f'resized): export without dynamic_axes, or keep those axes '
                                   f'static')

    def unsupported(self, name, what):
        return OnnxExporterError(f"nbgrad.onnx cannot export '{name}' with {what}")


def _literal_dtype(ctx, step_args, values, out_dtype, literal):
    """A Python number's dtype as an ONNX constant: that of the op's first non-bool tensor
    operand (PyTorch's weak scalars), a float one when the number is a float and that operand
    is an integer, the result's otherwise."""
    for kind, ref in step_args:
        if kind in ('value', 'outside'):
            dtype = np.dtype(values(kind, ref))
            if dtype != np.bool_:
                if isinstance(literal, float) and dtype.kind in 'iu':
                    return out_dtype if np.dtype(out_dtype).kind == 'f' else np.float32
                return dtype
    if isinstance(literal, bool) or np.dtype(out_dtype) != np.bool_:
        return np.bool_ if isinstance(literal, bool) else out_dtype
    return np.float32 if isinstance(literal, float) else np.int64


def model_bytes(recording, inputs, result, values, names, input_names, output_names, opset,
                other=None, export_params=True, keep_initializers_as_inputs=False,
                input_dims=None, output_dims=None, first=None):
    """other: (recording, values) of the resized trace when there are dynamic axes.
    first: the outside tensors' values before the trace wrote any in place (_first_values).
    input_dims/output_dims: name -> {axis: dim_param} (the dynamic axes, named)."""
    from .. import __version__
    from . import _dynamic
    input_dims, output_dims = input_dims or {}, output_dims or {}
    value_name = {i: name for i, name in enumerate(input_names)}
    ctx = _Context(opset)
    other_values = other[1] if other is not None else values
    for i, (name, x) in enumerate(zip(input_names, inputs)):
        ctx.meta_of[name] = (tuple(x.shape), x._data.dtype)
        ctx.other_shape_of[name] = tuple(other_values[i].shape)
    def array_of(t):
        return first.of(t) if first is not None else t.detach().cpu().numpy()

    rebuilt = {}
    if other is not None:
        rebuilt = _dynamic.check_outside(
            recording, other[0], names, array_of,
            [(tuple(x.shape), tuple(other_values[i].shape)) for i, x in enumerate(inputs)])
    outside, parameter_inputs = [], []
    for i, t in enumerate(recording.outside):
        name = names.get(id(t), f'/outside_{i}')
        outside.append(name)
        array = array_of(t)
        ctx.meta_of[name] = (tuple(array.shape), array.dtype)
        if i in rebuilt:    # one value, shaped as an input: expanded to its runtime shape
            source = input_names[rebuilt[i]]
            ctx.other_shape_of[name] = ctx.other_shape(source)
            shape = ctx.temp()
            ctx.nodes += [ctx.node('Shape', [source], [shape]),
                          ctx.node('Expand', [ctx.constant(array.flat[0]), shape], [name])]
        elif export_params or id(t) not in names:
            ctx.initializer(name, array)
        else:       # (torch: without export_params, the weights are the graph's inputs)
            parameter_inputs.append(_proto.value_info(name, array.dtype, array.shape))

    def operand_dtype(kind, ref):
        return ctx.dtype(value_name[ref] if kind == 'value' else outside[ref])

    needed = _needed_steps(recording)
    aliased = _aliased_values(recording)
    for index, step in enumerate(recording.steps):
        if index not in needed:
            continue
        if step.inplace and not _writes_a_constant(step, recording, names) and not (
                step.args[0][0] == 'value' and step.args[0][1] not in aliased):
            raise OnnxExporterError(f"nbgrad.onnx cannot export the in-place op '{step.name}_' "
                                    f'on a view, a tensor with views, or a parameter (ONNX '
                                    f'values are immutable): use its out-of-place form')
        other_step = other[0].steps[index] if other is not None else step
        if other is not None:
            _dynamic.check_step(index, step, other_step, step.name in _ops.FOLLOWS_SHAPES)
        out_names = []
        for k, number in enumerate(step.outputs):
            if number is None:
                continue
            name = f'/{step.name}_{index}_output' + (f'_{k}' if k else '')
            out_names.append(name)
            t = values[number]
            ctx.meta_of[name] = (tuple(t.shape), t._data.dtype)
            ctx.other_shape_of[name] = tuple(other_values[other_step.outputs[k]].shape)
        if _foldable(step, recording, names, rebuilt):
            for number, name in zip((n for n in step.outputs if n is not None), out_names):
                value_name[number] = name
                ctx.initializer(name, values[number].detach().cpu().numpy())
            continue
        translate = _ops.TRANSLATORS.get(step.name)
        if translate is None:
            raise OnnxExporterError(f"nbgrad.onnx cannot export the op '{step.name}' yet "
                                    f'(step {index} of the traced model); supported: '
                                    f'{", ".join(sorted(_ops.TRANSLATORS))}')
        out_dtype = ctx.meta_of[out_names[0]][1]
        args = []
        for kind, ref in step.args:
            if kind == 'value':
                if value_name[ref] is None:
                    raise OnnxExporterError(f"nbgrad.onnx cannot export a use of a value "
                                            f"ONNX has no counterpart for (step {index}, "
                                            f"'{step.name}': max pooling's indices)")
                args.append(value_name[ref])
            elif kind == 'outside':
                args.append(outside[ref])
            elif ref is None:
                args.append(None)
            else:       # a Python number: a 0-d constant (PyTorch's weak scalar)
                dtype = _literal_dtype(ctx, step.args, operand_dtype, out_dtype, ref)
                args.append(ctx.constant(np.array(ref, dtype)))
        for k, number in enumerate(n for n in step.outputs if n is not None):
            value_name[number] = out_names[k]
        ctx.step_outputs = out_names
        ctx.step_op, ctx.step_other_op = step.op, other_step.op
        while args and args[-1] is None:
            args.pop()
        nodes = translate(ctx, step.op, *args)
        ctx.nodes.extend(nodes)
        written = {name for n in nodes for name in _proto.node_outputs(n)}
        for number, name in list(value_name.items()):
            if name in out_names and name not in written:
                value_name[number] = None       # (max pooling's indices: not exported)
    results = _outputs_of(result)
    flat = _flat_spec(recording.output_spec)
    output_names = _names(output_names, 'output', len(results))
    symbol_of = _dynamic.symbols_by_sizes(input_names, inputs, other_values, input_dims)
    graph_outputs = []
    for name, (kind, ref), t in zip(output_names, flat, results):
        source = value_name[ref] if kind == 'value' else outside[ref]
        ctx.nodes.append(_proto.node('Identity', [source], [name], f'/Identity_{name}'))
        dims = _dynamic.output_dims(name, tuple(t.shape), ctx.other_shape(source),
                                    output_dims.get(name, {}), symbol_of)
        graph_outputs.append(_proto.value_info(name, t._data.dtype, dims))
    graph_inputs = [_proto.value_info(name, x._data.dtype,
                                      _dynamic.named_dims(x.shape, input_dims.get(name, {})))
                    for name, x in zip(input_names, inputs)] + parameter_inputs
    if keep_initializers_as_inputs:
        graph_inputs += [_proto.value_info(name, ctx.dtype(name), ctx.shape(name))
                         for name in ctx.initializer_names]
    graph = _proto.graph(ctx.nodes, 'main_graph', ctx.initializers, graph_inputs,
                         graph_outputs)
    return _proto.model(graph, opset, __version__)


def _made_by_the_model(ref, recording, names):
    """Whether an outside tensor is one the model made while running (torch.zeros(...)), not
    a parameter or buffer."""
    return id(recording.outside[ref]) not in names


def _writes_a_constant(step, recording, names):
    """An in-place op on a tensor the model made (zeros_like(mask).masked_fill_(mask, -inf)):
    its later readers read the op's result, so the out-of-place form computes the same."""
    kind, ref = step.args[0]
    return kind == 'outside' and _made_by_the_model(ref, recording, names)


def _aliased_values(recording):
    """The values that share memory with others: a view op's input and outputs. An in-place op
    on any other value (ReLU(inplace=True) on a layer's output, `out += identity`) is its
    out-of-place form, since the tracer numbers its result as a new value that later readers
    read; on an aliased one the write would also reach the views, which ONNX cannot say."""
    aliased = set()
    for step in recording.steps:
        if step.op.is_view:
            aliased.update(ref for kind, ref in step.args[:1] if kind == 'value')
            aliased.update(n for n in step.outputs if n is not None)
    return aliased


def _foldable(step, recording, names, rebuilt):
    """A step that reads only numbers and tensors the model made (a causal mask built with
    triu) is a constant: its results are written as initializers (do_constant_folding)."""
    return not any(kind == 'value' or (kind == 'outside' and (
        ref in rebuilt or not _made_by_the_model(ref, recording, names)))
        for kind, ref in step.args)


def _needed_steps(recording):
    """The steps the graph must hold: those the outputs depend on, and in-place writes into
    the model's own values (refused: their effect may reach the outputs through views). Left
    out: steps nothing reads, among them the writes of state into buffers that a model makes
    even in eval mode (instance norm copies its running stats back), as torch's exporter
    drops dead code."""
    live = {ref for kind, ref in _flat_spec(recording.output_spec) if kind == 'value'}
    needed = set()
    for index in range(len(recording.steps) - 1, -1, -1):
        step = recording.steps[index]
        writes_a_value = step.inplace and step.args and step.args[0][0] == 'value'
        if writes_a_value or any(n in live for n in step.outputs if n is not None):
            needed.add(index)
            live.update(ref for kind, ref in step.args if kind == 'value')
    return needed


def _names(given, prefix, count):
    """The names the caller gave, then prefix_i for the rest (torch names the first ones)."""
    given = list(given or [])
    return given[:count] + [f'{prefix}_{i}' for i in range(len(given), count)]


def _outputs_of(result):
    from .._tensor import Tensor
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _outputs_of(r)]
    raise OnnxExporterError(f'the model returned a {type(result).__name__}: ONNX outputs are '
                            f'tensors (or tuples of tensors)')


def _flat_spec(spec):
    kind, body = spec
    if kind in ('value', 'outside'):
        return [(kind, body)]
    items = body.values() if kind is dict else body
    return [leaf for item in items for leaf in _flat_spec(item)]
