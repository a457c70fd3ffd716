"""A model summary table in torchinfo's layout (layer tree, output shapes, parameter counts,
sizes), computed with nbgrad alone.

    s = summarize(model, nbgrad.randn(32, 784))
    print(s)            # the table; s.total_params, s.rows[i].output_shape... as numbers

With an input, the model runs once (eval mode, no grad, training flags restored after) with
forward hooks on every module: rows come in call order, as torchinfo lists them, and carry each
call's output shape. Without one, rows follow the module tree and shapes are '--'. The totals
come from model.parameters() (each shared parameter counted once); the sizes follow torchinfo's
definitions: input bytes; forward/backward = twice the output bytes of every leaf layer that has
parameters (activations plus their gradients); params = parameter bytes; MB = 1e6 bytes.
"""
from dataclasses import dataclass

import nbgrad
from nbgrad.widgets._svg import pre

LAYER_WIDTH = 40      # torchinfo's widths: the layer column grows (in steps of 5) to fit
COLUMN_WIDTH = 25


class ForwardError(Exception):
    """The summary's forward failed: `path` is the innermost module running at the time ('' for
    the model itself, 'fc1', 'block.0'...), `input_shapes` what it was given; the original
    exception is __cause__ and `error`."""

    def __init__(self, path, module, input_shapes, error):
        self.path, self.module, self.input_shapes, self.error = path, module, input_shapes, error
        super().__init__(f'{path or type(module).__name__}: {error}')


@dataclass
class SummaryRow:
    name: str             # the module's qualified name ('' for the model)
    type_name: str        # its class name
    depth: int            # 0 for the model, 1 for its children...
    depth_index: int      # torchinfo's running index among the rows of the same depth
    output_shape: list    # list of ints, a list of such lists (several outputs) or None
    num_params: int       # parameters owned directly (not through children)
    recursive: bool       # a module already listed, called again

    def label(self):
        if self.depth == 0:
            return self.type_name
        prefix = '├─' if self.depth == 1 else '│    ' * (self.depth - 1) + '└─'
        return f'{prefix}{self.type_name}: {self.depth}-{self.depth_index}'


class ModelSummary:
    """The table as text (str(), text/plain) and HTML (a <pre>), with its numbers as attributes."""

    def __init__(self, model, rows, input_bytes=None, forward_backward_bytes=None):
        self.model = model
        self.rows = rows
        params = list(model.parameters())
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.param_bytes = sum(p.numel() * p.element_size() for p in params)
        self.input_bytes = input_bytes
        self.forward_backward_bytes = forward_backward_bytes

    @property
    def total_bytes(self):
        return (self.input_bytes or 0) + (self.forward_backward_bytes or 0) + self.param_bytes

    def __str__(self):
        width = LAYER_WIDTH
        longest = max(len(row.label()) + 1 for row in self.rows)
        if longest >= width:
            width = -(-longest // 5) * 5
        divider = '=' * (width + 2 * COLUMN_WIDTH)

        def line(*cells):
            text = f'{cells[0]:<{width}} ' + ''.join(f'{c:<{COLUMN_WIDTH}} ' for c in cells[1:])
            return text.rstrip()

        out = [divider, line('Layer (type:depth-idx)', 'Output Shape', 'Param #'), divider]
        for row in self.rows:
            if row.recursive:
                params = '(recursive)'
            else:
                params = f'{row.num_params:,}' if row.num_params else '--'
            out.append(line(row.label(), _shape_text(row.output_shape), params))
        out += [divider,
                f'Total params: {self.total_params:,}',
                f'Trainable params: {self.trainable_params:,}',
                f'Non-trainable params: {self.non_trainable_params:,}',
                divider]
        if self.input_bytes is not None:
            out += [f'Input size (MB): {_mb(self.input_bytes)}',
                    f'Forward/backward pass size (MB): {_mb(self.forward_backward_bytes)}']
        out += [f'Params size (MB): {_mb(self.param_bytes)}']
        if self.input_bytes is not None:
            out += [f'Estimated Total Size (MB): {_mb(self.total_bytes)}']
        out.append(divider)
        return '\n'.join(out)

    __repr__ = __str__

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = str(self)
        return {'text/plain': text,
                'text/html': pre(text)}


def _mb(nbytes):
    return f'{nbytes / 1e6:,.2f}'


def _shape_text(shape):
    return '--' if shape is None else str(shape)


def _tensors(value):
    """The tensors in a module's output (a tensor, or tuples/lists/dicts of them)."""
    if isinstance(value, nbgrad.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def _output_shape(value):
    tensors = _tensors(value)
    if not tensors:
        return None
    shapes = [list(t.shape) for t in tensors]
    return shapes[0] if len(shapes) == 1 else shapes


def _own_params(module):
    return sum(p.numel() for p in module.parameters(recurse=False))


def summarize(model, *inputs, **kwargs):
    """The summary of `model`; with inputs (tensors, passed as model(*inputs, **kwargs)) it runs
    one forward for the output shapes and sizes. Raises ForwardError when that forward fails."""
    if not inputs and not kwargs:
        return ModelSummary(model, _tree_rows(model))
    rows, output_bytes = _traced_rows(model, inputs, kwargs)
    input_bytes = sum(t.numel() * t.element_size()
                      for t in _tensors(list(inputs) + list(kwargs.values())))
    return ModelSummary(model, rows, input_bytes, output_bytes)


def _tree_rows(model):
    rows, counters = [], {}

    def visit(module, name, depth):
        counters[depth] = counters.get(depth, 0) + 1
        rows.append(SummaryRow(name, type(module).__name__, depth, counters[depth], None,
                               _own_params(module), False))
        for child_name, child in module.named_children():
            visit(child, f'{name}.{child_name}' if name else child_name, depth + 1)

    visit(model, '', 0)
    return rows


def _traced_rows(model, inputs, kwargs):
    names = {}
    for name, module in model.named_modules(remove_duplicate=False):
        names.setdefault(id(module), name)
    rows, counters, stack, seen = [], {}, [], set()
    leaf_output_bytes = [0]

    def pre_hook(module, args):
        depth = len(stack)
        counters[depth] = counters.get(depth, 0) + 1
        row = SummaryRow(names.get(id(module), '?'), type(module).__name__, depth,
                         counters[depth], None, _own_params(module), id(module) in seen)
        seen.add(id(module))
        rows.append(row)
        stack.append((module, row, [list(t.shape) for t in _tensors(args)]))

    def post_hook(module, args, output):
        _, row, _ = stack.pop()
        row.output_shape = _output_shape(output)
        # torchinfo's forward/backward size: the outputs of leaf layers with parameters, x2
        if not any(True for _ in module.children()) and row.num_params and not row.recursive:
            leaf_output_bytes[0] += 2 * sum(t.numel() * t.element_size()
                                            for t in _tensors(output))

    modules = list(model.modules())
    training = [m.training for m in modules]
    handles = []
    try:
        for module in modules:
            handles.append(module.register_forward_pre_hook(pre_hook))
            handles.append(module.register_forward_hook(post_hook))
        model.eval()   # no batch-norm statistics updated, no dropout: only shapes are wanted
        with nbgrad.no_grad():
            model(*inputs, **kwargs)
    except Exception as error:
        if stack:
            module, row, shapes = stack[-1]
            raise ForwardError(row.name, module, shapes, error) from error
        raise ForwardError('', model, [list(t.shape) for t in _tensors(inputs)],
                           error) from error
    finally:
        for handle in handles:
            handle.remove()
        for module, flag in zip(modules, training):
            module.training = flag
    return rows, leaf_output_bytes[0]
