"""dynamic_axes: which sizes of the exported graph follow the inputs instead of the example's.

PyTorch's tracer sees `x.size(0)` as a graph value, so `x.view(x.size(0), -1)` exports a
Reshape whose target is computed from the input's shape, while `x.view(2, -1)` bakes 2 in.
nbgrad's recorder sees only the ops, whose shape arguments are plain ints. To tell the two apart
the exporter traces the model a second time on inputs resized along the dynamic axes: a size
that changed with them was computed from the inputs (x.size(0)), one that did not was a literal.
Translators of shape-carrying ops then write the changed sizes as -1, 0 (copy) or a Shape of
their input; ops whose recorded arguments changed in any other way are refused by name."""
import warnings

import numpy as np

from .._tensor import Tensor


def axes_by_name(dynamic_axes, input_names, output_names):
    """torch's dynamic_axes ({name: {axis: dim_name}} or {name: [axes]}) as
    {name: {axis: dim_name}}, with torch's automatic names for lists."""
    named = {}
    valid = set(input_names) | set(output_names)
    for key, value in (dynamic_axes or {}).items():
        if key not in valid:
            warnings.warn(f'Provided key {key} for dynamic axes is not a valid input/output '
                          f'name', stacklevel=3)
        if isinstance(value, dict):
            axes = {int(axis): str(dim) for axis, dim in value.items()}
        elif isinstance(value, (list, tuple)):
            warnings.warn('No names were found for specified dynamic axes of provided input.'
                          f'Automatically generated names will be applied to each dynamic axes '
                          f'of input {key}', stacklevel=3)
            axes = {}
            for i, axis in enumerate(value):
                if not isinstance(axis, int):
                    raise ValueError('The type of axis index is expected to be an integer')
                axes.setdefault(axis, f'{key}_dynamic_axes_{i + 1}')
        else:
            raise TypeError(f'dynamic_axes[{key!r}] must be a dict {{axis: name}} or a list of '
                            f'axes, got {type(value).__name__}')
        named[key] = axes
    return named


def resized_inputs(inputs, input_names, input_dims):
    """Copies of the inputs with each dynamic axis grown (by 1 + the axis name's position, so
    two names never take the same pair of sizes); values repeat the example's along the axis,
    so indices stay valid for embeddings."""
    from .. import from_numpy
    symbols = list(dict.fromkeys(d for name in input_names
                                 for d in input_dims.get(name, {}).values()))
    resized = []
    for name, x in zip(input_names, inputs):
        array = x.detach().cpu().numpy()
        for axis, dim in input_dims.get(name, {}).items():
            axis = axis % array.ndim
            size = array.shape[axis]
            if size == 0:
                raise ValueError(f"dynamic axis {axis} of input '{name}' has size 0 in the "
                                 f'example: give an example with at least one element there')
            grown = size + 1 + symbols.index(dim)
            array = np.take(array, np.arange(grown) % size, axis=axis)
        resized.append(from_numpy(np.ascontiguousarray(array)).to(x.device))
    return tuple(resized)


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (isinstance(a, Tensor) and isinstance(b, Tensor) and a.shape == b.shape and
                bool(np.array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if hasattr(a, '__dict__') and type(a) is type(b) and not callable(a):
        return _same(_public(a), _public(b))
    try:
        return bool(a == b)
    except Exception:
        return False


def _public(op):
    fields = dict(vars(op)) if hasattr(op, '__dict__') else {}
    for cls in type(op).__mro__:
        for slot in getattr(cls, '__slots__', ()):
            if hasattr(op, slot):
                fields[slot] = getattr(op, slot)
    return {k: v for k, v in fields.items() if not k.startswith('_')}


def check_step(index, step, other_step, follows_shapes):
    """The resized trace must run the same ops with the same arguments, except the shapes of
    ops whose translators follow dynamic shapes."""
    from ._build import OnnxExporterError
    if other_step.name != step.name:
        raise OnnxExporterError(
            f"with dynamic_axes the model took other ops for inputs of other sizes (step "
            f"{index}: '{step.name}' for the example, '{other_step.name}' when resized): "
            f'Python control flow on sizes is frozen in an exported graph')
    literals = [ref for kind, ref in step.args if kind == 'literal']
    other_literals = [ref for kind, ref in other_step.args if kind == 'literal']
    if not _same(literals, other_literals):
        raise OnnxExporterError(
            f"with dynamic_axes, '{step.name}' (step {index}) takes a Python number computed "
            f'from a dynamic size ({literals} for the example, {other_literals} when resized): '
            f'nbgrad exports numbers as constants; compute it with tensor ops instead')
    if follows_shapes:
        return
    mine, theirs = _public(step.op), _public(other_step.op)
    changed = sorted(k for k in mine if not _same(mine[k], theirs.get(k)))
    if changed:
        raise OnnxExporterError(
            f"nbgrad.onnx cannot export '{step.name}' (step {index}) with dynamic_axes: it was "
            f"built with a size that follows a dynamic axis ({', '.join(changed)}); export it "
            f'without dynamic_axes, or keep that axis static')


def check_outside(recording, other_recording, names, array_of, input_shapes):
    """Tensors the model made itself are constants in the graph: their shapes must not follow
    a dynamic axis (torch.zeros(x.size(0), ...) would bake the example's size), unless they
    hold one value throughout and are shaped as an input in both traces (zeros_like(mask), as
    MultiheadAttention makes from a boolean mask): those are returned, {position: input
    index}, to be written as that value expanded to the input's runtime shape.
    array_of: a tensor's value as the graph reads it; input_shapes: each graph input's
    (example shape, resized shape)."""
    from ._build import OnnxExporterError
    rebuilt = {}
    for i, (a, b) in enumerate(zip(recording.outside, other_recording.outside)):
        if tuple(a.shape) == tuple(b.shape):
            continue
        pair = (tuple(a.shape), tuple(b.shape))
        array = array_of(a)
        if id(a) not in names and array.size and pair in input_shapes and \
                bool((array == array.flat[0]).all()):
            rebuilt[i] = input_shapes.index(pair)
            continue
        raise OnnxExporterError(
            f'with dynamic_axes, the model makes a tensor of shape {tuple(a.shape)} whose '
            f'size follows a dynamic axis ({tuple(b.shape)} for resized inputs); nbgrad '
            f'exports tensors the model creates (torch.zeros(x.size(0), ...)) as constants: '
            f'build it from the input with ops instead (for example x[:, :1] * 0)')
    return rebuilt


def named_dims(shape, axes):
    """An input's dims: the example's sizes, names on its dynamic axes."""
    dims = list(shape)
    for axis, name in axes.items():
        dims[axis % len(dims)] = name
    return dims


def symbols_by_sizes(input_names, inputs, other_values, input_dims):
    """(example size, resized size) -> the dynamic axis' name: how an output dim that changed
    like an input's named axis gets that name."""
    symbol_of = {}
    for i, (name, x) in enumerate(zip(input_names, inputs)):
        for axis, dim in input_dims.get(name, {}).items():
            axis %= x.dim()
            symbol_of.setdefault((x.shape[axis], other_values[i].shape[axis]), dim)
    return symbol_of


def output_dims(name, shape, other_shape, axes, symbol_of):
    """An output's dims: names given in dynamic_axes; a dim that follows the inputs otherwise
    gets the input axis' name it moves with, or a name of its own."""
    dims = list(shape)
    for i, (a, b) in enumerate(zip(shape, other_shape)):
        if a != b:
            dims[i] = symbol_of.get((a, b), f'{name}_dim_{i}')
    for axis, dim in axes.items():
        dims[axis % len(dims)] = dim
    return dims
