"""Turns a parsed `%%model` body (model_parser.py) into an nbgrad model, and maps every failure,
while building or during the summary's forward, to a line of the body.

Names in the body resolve in the user's namespace first, then in the layer namespace: the
public classes of nbgrad.nn unqualified (Linear, ReLU, Conv2d...), plus nn, F
(nbgrad.nn.functional), torch and nbgrad (both nbgrad). So `hidden = 128` in an earlier cell
makes `Linear(784, hidden)` work, and a user's own `Block` class is usable as a layer.

The class form becomes a real class: its source is compiled as

    def __nbgrad_scope__(__nbgrad_base__, Linear, F, ...):      # layer names the body uses
        class Mlp(__nbgrad_base__):                              # nbgrad.nn.Module
            def __init__(self):
                super().__init__()
                self.fc1 = fc1 = Linear(784, 128)                # each attribute line
            def forward(self, x): ...                            # the body's methods
        return Mlp

with the body's own line numbers and a file name `<%%model NAME>` registered in linecache, so
that tracebacks from a later `mlp(x)` show the body's lines. Layer names arrive as closure
variables, not globals: the methods' globals are the live user namespace (as for a class typed
in a cell), and nothing is added to it. Attribute lines also bind a local of the same name in
__init__, so a later attribute can use an earlier one (`hidden = 128` then `Linear(10, hidden)`).
"""
import ast
import builtins
import difflib
import linecache
import traceback
from dataclasses import dataclass

import nbgrad
from nbgrad import nn

from .model_parser import ClassSpec, class_name_for
from .summary import ForwardError, summarize


class ModelBuildError(Exception):
    """A failure pointed at a body line: str() is 'line N: SOURCE: MESSAGE'."""

    def __init__(self, lineno, source, message):
        self.lineno, self.source, self.message = lineno, source, message
        text = f'line {lineno}: ' if lineno else ''
        if source:
            text += f'{source}: '
        super().__init__(text + message)


@dataclass
class BuiltModel:
    model: nn.Module
    cls: type = None           # the class form's class (None for a Sequential)
    class_name: str = None


def layer_namespace():
    """The names a body may use unqualified besides the user's own."""
    names = {name: getattr(nn, name) for name in dir(nn)
             if name[:1].isupper() and isinstance(getattr(nn, name), type)}
    names.update(nn=nn, F=nn.functional, torch=nbgrad, nbgrad=nbgrad)
    return names


def filename_for(name):
    return f'<%%model {name}>'


def build(spec, name, user_ns, text, device=None, dtype=None):
    """A BuiltModel from the spec; `text` is the body (for messages and tracebacks). Raises
    ModelBuildError; user_ns is only read."""
    filename = filename_for(name)
    # tracebacks from the model's methods, now or later, show the body's lines
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    if isinstance(spec, ClassSpec):
        built = _build_class(spec, name, user_ns, text, filename)
    else:
        built = BuiltModel(_build_sequential(spec, user_ns, filename))
    try:
        if device is not None:
            built.model.to(device)
        if dtype is not None:
            built.model.to(dtype)
    except Exception as e:
        raise ModelBuildError(None, None, _describe(e)) from None
    return built


def _build_sequential(spec, user_ns, filename):
    namespace = {**layer_namespace(), **user_ns}
    namespace.setdefault('__builtins__', builtins)
    layers = []
    for layer in spec.layers:
        code = compile(ast.fix_missing_locations(ast.Expression(layer.expression)),
                       filename, 'eval')
        try:
            value = eval(code, namespace)
        except NameError as e:
            raise ModelBuildError(layer.lineno, layer.source,
                                  _unknown_name(e, namespace)) from None
        except Exception as e:
            raise ModelBuildError(layer.lineno, layer.source, _describe(e)) from None
        _check_is_layer(value, layer)
        layers.append((layer.name, value))
    if any(name for name, _ in layers):
        from collections import OrderedDict
        names = [name or str(index) for index, (name, _) in enumerate(layers)]
        return nn.Sequential(OrderedDict(zip(names, (value for _, value in layers))))
    return nn.Sequential(*(value for _, value in layers))


def _check_is_layer(value, layer):
    if isinstance(value, nn.Module):
        return
    if isinstance(value, type) and issubclass(value, nn.Module):
        raise ModelBuildError(layer.lineno, layer.source,
                              f'{value.__name__} is a layer class: call it, '
                              f'{value.__name__}(...)')
    if callable(value):
        raise ModelBuildError(layer.lineno, layer.source,
                              'not an nn.Module: a function is not a layer here (wrap it in a '
                              'module, or use the class form with def forward)')
    raise ModelBuildError(layer.lineno, layer.source,
                          f'not an nn.Module (a {type(value).__name__}): every line of a list '
                          f'body is a layer')


def _build_class(spec, name, user_ns, text, filename):
    class_name = class_name_for(name)
    fallback = layer_namespace()
    used = {node.id for part in spec.methods + [a.expression for a in spec.attributes]
            for node in ast.walk(part) if isinstance(node, ast.Name)}
    # names that must come from the layer namespace: used, and not the user's own
    closure = sorted(n for n in used if n in fallback and n not in user_ns
                     and n != class_name)
    template = ast.parse(
        f'def __nbgrad_scope__(__nbgrad_base__, {", ".join(closure)}):\n'
        f'    class {class_name}(__nbgrad_base__):\n'
        f'        def __init__(self):\n'
        f'            super().__init__()\n'
        f'    return {class_name}\n')
    for node in ast.walk(template):       # the scaffolding is not the user's: line 1 for all
        if hasattr(node, 'lineno'):
            node.lineno = node.end_lineno = 1
    class_def = template.body[0].body[0]
    init = class_def.body[0]
    for attribute in spec.attributes:
        assign = ast.Assign(
            targets=[ast.Attribute(value=ast.Name('self', ast.Load()), attr=attribute.name,
                                   ctx=ast.Store()),
                     ast.Name(attribute.name, ast.Store())],
            value=attribute.expression)
        ast.copy_location(assign, attribute.expression)
        init.body.append(assign)
    body = [init] + spec.methods
    if spec.docstring is not None:
        body.insert(0, ast.Expr(ast.Constant(spec.docstring)))
    class_def.body = body
    ast.fix_missing_locations(template)
    lines = text.splitlines()
    try:
        code = compile(template, filename, 'exec')
        scratch = {}
        exec(code, user_ns, scratch)   # defines the scope function in `scratch` only
        cls = scratch['__nbgrad_scope__'](nn.Module, *(fallback[n] for n in closure))
    except Exception as e:
        raise _at_body_line(e, filename, lines, spec) from None
    cls.__qualname__ = class_name
    cls.__module__ = user_ns.get('__name__', '__main__')
    try:
        model = cls()
    except NameError as e:
        error = _at_body_line(e, filename, lines, spec)
        error.message = _unknown_name(e, {**fallback, **user_ns})
        raise ModelBuildError(error.lineno, error.source, error.message) from None
    except Exception as e:
        raise _at_body_line(e, filename, lines, spec) from None
    return BuiltModel(model, cls, class_name)


def _body_frames(error, filename):
    """Line numbers of the traceback's frames that run body code, outermost first."""
    return [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename == filename]


def _at_body_line(error, filename, lines, spec=None):
    linenos = _body_frames(error, filename)
    lineno = linenos[-1] if linenos else None
    return ModelBuildError(lineno, _source_at(lineno, lines, spec), _describe(error))


def _source_at(lineno, lines, spec=None):
    if spec is not None:
        for attribute in getattr(spec, 'attributes', ()):
            if attribute.lineno == lineno:
                return attribute.source
    if lineno and 0 < lineno <= len(lines):
        return lines[lineno - 1].strip()
    return None


def _describe(error):
    # PyTorch's shape errors are RuntimeErrors whose text says it all; other types keep their
    # name, which is part of the message (TypeError: ... got an unexpected keyword ...)
    if type(error) is RuntimeError:
        return str(error)
    return f'{type(error).__name__}: {error}'


def _unknown_name(error, namespace):
    name = getattr(error, 'name', None)
    if not name:
        return _describe(error)
    message = f'unknown name {name!r}'
    close = difflib.get_close_matches(name, [n for n in namespace if not n.startswith('_')], 1)
    if close:
        message += f' (did you mean {close[0]}?)'
    return message


def parse_shape(text):
    """--input's value: '32,784', '(32, 784)', '[32, 784]' -> [(32, 784)]; several inputs as
    '(32, 10), (32, 5)' -> [(32, 10), (32, 5)]."""
    stripped = text.strip()
    if len(stripped) > 1 and stripped[0] == stripped[-1] and stripped[0] in '"\'':
        stripped = stripped[1:-1]   # IPython's argument splitting keeps the quotes
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, int):
        value = (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, (tuple, list))
                                                          for v in value):
        shapes = [tuple(v) for v in value]
    elif isinstance(value, (tuple, list)):
        shapes = [tuple(value)]
    else:
        shapes = None
    if not shapes or not all(all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                 for d in shape) for shape in shapes):
        raise ValueError(f'--input takes a shape like 32,784 or "(32, 784)" (several inputs: '
                         f'"(32, 10), (32, 5)"), not {text!r}')
    return shapes


def parse_dtype(text):
    """'float64', 'torch.float64', 'nbgrad.float64', 'double' -> nbgrad.float64."""
    name = text.strip().split('.')[-1]
    value = getattr(nbgrad, name, None)
    if not isinstance(value, nbgrad.dtype):
        raise ValueError(f'unknown dtype {text!r} (float32, float64, float16, int64...)')
    return value


def random_inputs(shapes, device=None, dtype=None):
    """The --input tensors: standard normal for floating dtypes; 0s and 1s for integer ones
    (valid indices for any Embedding of 2 rows or more)."""
    dtype = dtype or nbgrad.get_default_dtype()
    if dtype.is_floating_point or dtype.is_complex:
        return [nbgrad.randn(shape, device=device, dtype=dtype) for shape in shapes]
    return [nbgrad.randint(0, 2, shape, device=device, dtype=dtype) for shape in shapes]


def summarize_built(built, spec, name, text, inputs):
    """summary.summarize with a failing forward pointed at a body line: the line that defines
    the top-level layer that failed (list form: its line; class form: its attribute), or the
    forward line that raised when no layer was running."""
    try:
        return summarize(built.model, *inputs)
    except ForwardError as failure:
        raise _forward_error(failure, built, spec, name, text) from None


def _forward_error(failure, built, spec, name, text):
    lines = text.splitlines()
    error = failure.error
    filename = filename_for(name)
    top = failure.path.split('.')[0] if failure.path else None
    layer = _layer_for(top, spec, built)
    message = _describe(error)
    if layer is None:
        # the failing code is the class form's own forward: point at its line
        return _at_body_line(error, filename, lines, None)
    if failure.path != top:
        message = f'in {failure.path} ({type(failure.module).__name__}): {message}'
    calls = _body_frames(error, filename)
    if calls and calls[-1] != layer.lineno:
        message += f' (called on line {calls[-1]})'
    return ModelBuildError(layer.lineno, layer.source, message)


def _layer_for(top, spec, built):
    if top is None:
        return None
    if isinstance(spec, ClassSpec):
        return next((a for a in spec.attributes if a.name == top), None)
    names = [layer.name or str(index) for index, layer in enumerate(spec.layers)]
    return spec.layers[names.index(top)] if top in names else None
