"""torch.onnx.export: a model as an ONNX file that other frameworks and runtimes load.

export() traces the model on its example inputs (nbgrad.jit's recorder) and writes each
recorded op as ONNX nodes (opset 17, _ops.py), the parameters and buffers as initializers under
their state_dict names, inputs and outputs with the example's shapes. The file is written
atomically. What nbgrad cannot export raises an error naming the op. The exported graph is
specialised to the example's shapes (dynamic axes are not supported yet), as nbgrad's ops keep
the shapes they were built with.
"""
import io
import os

import numpy as np

from .._tensor import Tensor
from . import _ops, _proto

__all__ = ['export', 'OnnxExporterError', 'is_in_onnx_export']

DEFAULT_OPSET = 17
_exporting = [False]


class OnnxExporterError(RuntimeError):
    """Export failed: an op or option nbgrad cannot write as ONNX."""


def is_in_onnx_export():
    return _exporting[0]


class _Context:
    """Names values and collects nodes and initializers while ops are translated."""

    def __init__(self, values, outside_names):
        self.values = values                  # value number -> the tensor the example gave
        self.outside_names = outside_names
        self.initializers, self.nodes = [], []
        self._count = 0
        self.step_outputs = None
        self.step_index = 0

    def temp(self):
        self._count += 1
        return f'/tmp_{self._count}'

    def constant(self, array):
        name = f'/const_{len(self.initializers)}'
        self.initializers.append(_proto.tensor(name, np.asarray(array)))
        return name

    def node(self, op_type, inputs, outputs=None, **attributes):
        outputs = self.step_outputs if outputs is None else outputs
        self._count += 1
        return _proto.node(op_type, inputs, outputs, f'/{op_type}_{self._count}', **attributes)

    def meta(self, name):
        return self.meta_of[name]

    def rank(self, name):
        return len(self.meta_of[name][0])

    def shape(self, name):
        return self.meta_of[name][0]

    def dtype(self, name):
        return self.meta_of[name][1]

    def out_shape(self):
        return self.step_out_shape

    def unsupported(self, name, what):
        return OnnxExporterError(f"nbgrad.onnx cannot export '{name}' with {what}")


def _as_tuple(args):
    if isinstance(args, Tensor):
        return (args,)
    if isinstance(args, (tuple, list)) and all(isinstance(a, Tensor) for a in args):
        return tuple(args)
    raise TypeError('export(): args must be a tensor or a tuple of tensors (the model\'s example '
                    'inputs)')


def export(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=None,
           input_names=None, output_names=None, opset_version=None, dynamic_axes=None,
           dynamic_shapes=None, keep_initializers_as_inputs=False, do_constant_folding=True,
           dynamo=False, **options):
    """Write model (a Module or function), traced on args, to f (a path or a binary file) as an
    ONNX model; also returns the model's bytes."""
    from ..jit import _trace
    if kwargs:
        raise OnnxExporterError('export(kwargs=...) is not supported: pass inputs positionally')
    if dynamic_axes or dynamic_shapes:
        raise OnnxExporterError('nbgrad.onnx exports graphs of the example inputs\' shapes only '
                                '(its ops keep the shapes they were built with): dynamic axes '
                                'are not supported yet')
    if not export_params:
        raise OnnxExporterError('export(export_params=False) is not supported')
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset != DEFAULT_OPSET:
        raise OnnxExporterError(f'nbgrad.onnx writes opset {DEFAULT_OPSET} (got opset_version='
                                f'{opset_version})')
    inputs = _as_tuple(args)
    names = {}
    if hasattr(model, 'named_parameters'):
        names = {id(t): name for name, t in [*model.named_parameters(),
                                             *model.named_buffers()]}
    _exporting[0] = True
    try:
        recording, result = _trace._record(model, inputs)
    finally:
        _exporting[0] = False
    values = []
    _trace._replay(recording, inputs, values)
    data = _model_bytes(recording, inputs, result, values, names, input_names, output_names)
    if f is not None:
        _write(f, data)
    return data


def _outputs_of(result):
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _outputs_of(r)]
    raise OnnxExporterError(f'the model returned a {type(result).__name__}: ONNX outputs are '
                            f'tensors (or tuples of tensors)')


def _model_bytes(recording, inputs, result, values, names, input_names, output_names):
    from .. import __version__
    input_names = list(input_names or [f'input_{i}' for i in range(len(inputs))])
    value_name = {i: name for i, name in enumerate(input_names)}
    ctx = _Context(values, names)
    ctx.meta_of = {name: (tuple(x.shape), x._data.dtype) for name, x in zip(input_names, inputs)}
    outside = []
    for i, t in enumerate(recording.outside):
        name = names.get(id(t), f'/outside_{i}')
        outside.append(name)
        ctx.initializers.append(_proto.tensor(name, t.detach().cpu().numpy()))
        ctx.meta_of[name] = (tuple(t.shape), t._data.dtype)
    for index, step in enumerate(recording.steps):
        translate = _ops.TRANSLATORS.get(step.name)
        if translate is None:
            raise OnnxExporterError(f"nbgrad.onnx cannot export the op '{step.name}' yet "
                                    f'(step {index} of the traced model); supported: '
                                    f'{", ".join(sorted(_ops.TRANSLATORS))}')
        if step.inplace:
            raise OnnxExporterError(f"nbgrad.onnx cannot export the in-place op '{step.name}_' "
                                    f'(ONNX values are immutable): use its out-of-place form')
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
            else:       # a Python number: a constant of the first tensor operand's dtype
                dtype = next(ctx.dtype(a) for a in args if a is not None) if args else \
                    np.float32
                args.append(ctx.constant(np.array(ref, dtype)))
        out_names = []
        for k, number in enumerate(step.outputs):
            if number is None:
                continue
            name = f'/{step.name}_{index}_output' + (f'_{k}' if k else '')
            value_name[number] = name
            out_names.append(name)
            t = values[number]
            ctx.meta_of[name] = (tuple(t.shape), t._data.dtype)
        ctx.step_outputs, ctx.step_out_shape = out_names, ctx.meta_of[out_names[0]][0]
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
    output_names = list(output_names or [f'output_{i}' for i in range(len(results))])
    graph_outputs = []
    for name, (kind, ref), t in zip(output_names, flat, results):
        source = value_name[ref] if kind == 'value' else outside[ref]
        ctx.nodes.append(_proto.node('Identity', [source], [name], f'/Identity_{name}'))
        graph_outputs.append(_proto.value_info(name, t._data.dtype, tuple(t.shape)))
    graph_inputs = [_proto.value_info(name, x._data.dtype, tuple(x.shape))
                    for name, x in zip(input_names, inputs)]
    graph = _proto.graph(ctx.nodes, 'main_graph', ctx.initializers, graph_inputs,
                         graph_outputs)
    return _proto.model(graph, DEFAULT_OPSET, __version__)


def _flat_spec(spec):
    kind, body = spec
    if kind in ('value', 'outside'):
        return [(kind, body)]
    items = body.values() if kind is dict else body
    return [leaf for item in items for leaf in _flat_spec(item)]


def _write(f, data):
    """Atomically to a path (a temporary file renamed into place), or to a binary file."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        tmp = f'{path}.{os.getpid()}.partial'
        try:
            with open(tmp, 'wb') as out:
                out.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    elif isinstance(f, io.IOBase) or hasattr(f, 'write'):
        f.write(data)
    else:
        raise TypeError(f'export(f=...): a path or a binary file, got {type(f).__name__}')
