"""A table of an nn.Module's submodules for the notebook: one row per module of
`named_modules()` (the model first), with the parameters and buffers it owns itself, and totals.

    module_summary_text(model)   # aligned text
    module_summary_html(model)   # an HTML table (IPython's text/html for nn.Module under
                                 # %load_ext nbgrad; the plain repr stays PyTorch's)
    module_summary(model)        # the numbers both are made from

module_summary(model) -> {'type': class name, 'rows': [row], 'totals': totals}
  row     {path ('' for the model), depth (0 for the model), type, params, trainable, frozen,
           buffers, extra_repr}: counts of elements in the parameters/buffers the module holds
           directly (recurse=False), so that a container shows 0 and the columns add up to the
           totals unless a parameter is shared between modules. frozen: requires_grad=False.
  totals  {params, trainable, frozen, buffers, bytes, size_mb, bytes_by_dtype: {dtype name:
           bytes of parameters and buffers}}: each tensor counted once, as model.parameters()
           and model.buffers() list them; kB, MB, GB are powers of 1000 (as in the %%model
           summary).
No forward is run: the table shows what the module holds, not what it computes.
"""
from . import _svg

_HEADERS = ['Module', 'Type', 'Params', 'Trainable', 'Frozen', 'Buffers', 'Extra']
_ALIGN = ['l', 'l', 'r', 'r', 'r', 'r', 'l']


def _numel(tensors):
    return sum(t.numel() for t in tensors)


def _dtype_name(t):
    return str(t.dtype).rsplit('.', 1)[-1]


def module_summary(module):
    """The rows and totals of the tables (see the module docstring)."""
    if not all(hasattr(module, name) for name in ('named_modules', 'parameters', 'buffers')):
        raise TypeError(f'module_summary needs an nn.Module, got {type(module).__name__}')
    rows = []
    for path, m in module.named_modules():
        own = [p for _, p in m.named_parameters(recurse=False)]
        trainable = _numel(p for p in own if p.requires_grad)
        rows.append({'path': path, 'depth': path.count('.') + 1 if path else 0,
                     'type': type(m).__name__, 'params': _numel(own), 'trainable': trainable,
                     'frozen': _numel(own) - trainable,
                     'buffers': _numel(b for _, b in m.named_buffers(recurse=False)),
                     'extra_repr': m.extra_repr()})
    params = list(module.parameters())
    buffers = list(module.buffers())
    by_dtype = {}
    for t in params + buffers:
        by_dtype[_dtype_name(t)] = by_dtype.get(_dtype_name(t), 0) + t.numel() * t.element_size()
    trainable = _numel(p for p in params if p.requires_grad)
    total_bytes = sum(by_dtype.values())
    return {'type': type(module).__name__, 'rows': rows,
            'totals': {'params': _numel(params), 'trainable': trainable,
                       'frozen': _numel(params) - trainable, 'buffers': _numel(buffers),
                       'bytes': total_bytes, 'size_mb': total_bytes / 1e6,
                       'bytes_by_dtype': by_dtype}}


def _size(nbytes):
    for unit, scale in (('GB', 1e9), ('MB', 1e6), ('kB', 1e3)):
        if nbytes >= scale:
            return f'{nbytes / scale:.2f} {unit}'
    return f'{nbytes} B'


def _cells(summary):
    return [['  ' * row['depth'] + (row['path'] or '(model)'), row['type']] +
            [f'{row[key]:,}' for key in ('params', 'trainable', 'frozen', 'buffers')] +
            [row['extra_repr']] for row in summary['rows']]


def _totals_lines(totals):
    sizes = ', '.join(f'{name} {_size(nbytes)}'
                      for name, nbytes in sorted(totals['bytes_by_dtype'].items()))
    several = len(totals['bytes_by_dtype']) > 1
    return [f'Total params: {totals["params"]:,} (trainable {totals["trainable"]:,}, '
            f'frozen {totals["frozen"]:,})',
            f'Buffers: {totals["buffers"]:,} elements',
            f'Size: {_size(totals["bytes"])}' + (f' ({sizes})' if several else '')]


def module_summary_text(module):
    """The table as aligned text, with the totals under it."""
    summary = module_summary(module)
    return '\n'.join([summary['type'], _svg.text_table(_HEADERS, _cells(summary), _ALIGN)] +
                     _totals_lines(summary['totals']))


def module_summary_html(module):
    """The table as HTML (names escaped), with the totals under it."""
    summary = module_summary(module)
    cells = _cells(summary)
    for row in cells:     # (keep the tree's indentation: HTML collapses leading spaces)
        name = row[0].lstrip(' ')
        row[0] = '\u00a0' * (len(row[0]) - len(name)) + name
    totals = ''.join(f'<div>{_svg.escape(line)}</div>' for line in
                     _totals_lines(summary['totals']))
    return (f'<div class="nbgrad-module-summary">'
            f'{_svg.table(_HEADERS, cells, _ALIGN, caption=summary["type"])}{totals}</div>')


def module_repr_html(module):
    """What a notebook shows for a module under `%load_ext nbgrad`: PyTorch's repr, as the
    plain output has it, and the summary table folded under a one-line total."""
    totals = module_summary(module)['totals']
    headline = (f'{totals["params"]:,} parameters ({totals["trainable"]:,} trainable), '
                f'{_size(totals["bytes"])}')
    return (_svg.pre(repr(module)) +
            f'<details><summary>{_svg.escape(headline)}</summary>'
            f'{module_summary_html(module)}</details>')
