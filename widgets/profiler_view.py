"""ProfilerView: a finished nbgrad profile as a sortable table of ops, a bar chart of the ops
that took the most CPU time, and a breakdown by nn.Module.

    with nbgrad.profiler.profile(with_modules=True) as prof:
        model(x).sum().backward()
    ProfilerView(prof, sort_by='self_cpu_time_total', row_limit=20)

The numbers are those of prof.key_averages() (PyTorch's FunctionEventAvg fields), so the view
and `prof.key_averages().table()` always agree; the text fallback is that very table.

Synced traits (the contract of the JupyterLab view; every time is in microseconds, every share
in percent):
  rows       [{name, kind, calls, self_cpu_us, self_cpu_share, cpu_total_us, cpu_total_share,
               cpu_avg_us, self_cuda_us, self_cuda_share, cuda_total_us, cuda_avg_us,
               cpu_memory_bytes, self_cpu_memory_bytes, cuda_memory_bytes,
               self_cuda_memory_bytes, flops, input_shapes}]
             one per key of key_averages(), sorted by `sort_by` (largest first, ties in
             recording order, as table() sorts them), at most `row_limit` of them (-1: all).
             kind: 'op' (aten::...), 'backward' (autograd nodes), 'module' (nn.Module ranges),
             'user' (record_function and optimizer steps). Shares are of the profile's total
             self CPU (self CUDA) time, like the table's 'Self CPU %' and 'CPU total %'; the
             self shares of all keys sum to 100. input_shapes: a list of shapes (lists of ints)
             with group_by_input_shape=True, else null. flops: the floating-point operations
             PyTorch's profiler counts (profile(with_flops=True): convolutions, matrix products,
             mul and add), 0 where none were counted.
  sort_by    one of PyTorch's sort keys (SORT_KEYS: 'self_cpu_time_total', 'cpu_time_total',
             'cuda_time_total', 'count', ...); the view writes it when a column header is clicked
             and the rows are re-sorted here.
  row_limit  int, how many rows to keep (-1 or any negative number: all).
  columns    [{key, field, label}]: for each sortable column, the sort_by key to write and the
             row field it shows.
  modules    [{name, type, path, calls, cpu_total_us, self_cpu_us, share, backward_calls,
               backward_us}] in the order the modules first ran, from the profiler's module
             ranges (profile(with_modules=True); empty otherwise). name is the range's name
             without 'nn.Module: ' ('Linear_fc1'); path the module's path in the model that
             was called ('' for that model itself, 'fc1', 'block.0'); share = cpu_total_us as a
             percent of the total self CPU time; backward_us the time from the first to the
             last backward node of the ops the module call ran.
  totals     {self_cpu_us, cuda_us, events}: the profile's self CPU and self CUDA time totals
             and how many events it recorded.
  title      the heading.

`prof` may also be the EventList of prof.events().

nbgrad names a module's range by its class and path ('nn.Module: Linear_fc1'), the model that
was called by its class and a number ('nn.Module: Net_0'). Reading the path back from the name
is exact when `model` is given; without it the class is taken to end at the first '_' (true of
CamelCase class names).
"""
import re

import traitlets

# (the table's own number formats, so that the fallbacks read like table())
from nbgrad.autograd.profiler_util import (BACKWARD_FUNCTION_SCOPE, EventList, FunctionEvent,
                                           _format_memory, _format_time)

from . import _svg
from ._base import NbgradWidget

MODULE_PREFIX = 'nn.Module: '
BACKWARD_SUFFIX = ' (backward)'

# PyTorch's sort_by names (table(sort_by=...)) and the row field each sorts by; 'cuda' and
# 'device' spell the same columns, as in PyTorch
SORT_KEYS = {
    'self_cpu_time_total': 'self_cpu_us', 'cpu_time_total': 'cpu_total_us',
    'cpu_time': 'cpu_avg_us',
    'self_cuda_time_total': 'self_cuda_us', 'self_device_time_total': 'self_cuda_us',
    'cuda_time_total': 'cuda_total_us', 'device_time_total': 'cuda_total_us',
    'cuda_time': 'cuda_avg_us', 'device_time': 'cuda_avg_us',
    'cpu_memory_usage': 'cpu_memory_bytes', 'self_cpu_memory_usage': 'self_cpu_memory_bytes',
    'cuda_memory_usage': 'cuda_memory_bytes', 'device_memory_usage': 'cuda_memory_bytes',
    'self_cuda_memory_usage': 'self_cuda_memory_bytes',
    'self_device_memory_usage': 'self_cuda_memory_bytes',
    'count': 'calls', 'flops': 'flops',
}

# the sortable columns, in display order: (sort key, row field, label)
COLUMNS = [('self_cpu_time_total', 'self_cpu_us', 'Self CPU'),
           ('cpu_time_total', 'cpu_total_us', 'CPU total'),
           ('cpu_time', 'cpu_avg_us', 'CPU time avg'),
           ('self_cuda_time_total', 'self_cuda_us', 'Self CUDA'),
           ('cuda_time_total', 'cuda_total_us', 'CUDA total'),
           ('cpu_memory_usage', 'cpu_memory_bytes', 'CPU Mem'),
           ('self_cpu_memory_usage', 'self_cpu_memory_bytes', 'Self CPU Mem'),
           ('count', 'calls', '# of Calls'),
           ('flops', 'flops', 'Total FLOPs')]


def format_flops(count):
    """A FLOP count as the view shows it ('1.944 MFLOPs'; '-' for none)."""
    if not count:
        return '-'
    for scale, unit in ((1e15, 'P'), (1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if count >= scale:
            return f'{count / scale:.3f} {unit}FLOPs'
    return f'{count} FLOPs'


def _check_sort_by(sort_by):
    if sort_by not in SORT_KEYS:
        raise ValueError(f'ProfilerView: sort_by={sort_by!r} is not a sort key; use one of '
                         f'{", ".join(sorted(SORT_KEYS))}')
    return sort_by


def _check_row_limit(row_limit):
    if isinstance(row_limit, bool) or not isinstance(row_limit, int):
        raise ValueError(f'ProfilerView: row_limit must be an int (-1 for all rows), got '
                         f'{row_limit!r}')
    return row_limit


def _finished_events(prof):
    """The profile's events, from nbgrad.profiler.profile, nbgrad.autograd.profiler.profile or
    the EventList of their events()."""
    if isinstance(prof, EventList) and all(isinstance(e, FunctionEvent) for e in prof):
        return prof
    if not hasattr(prof, 'key_averages') or isinstance(prof, EventList):
        raise TypeError(f'ProfilerView needs an nbgrad.profiler.profile (or '
                        f'nbgrad.autograd.profiler.profile, or its events()), got '
                        f'{type(prof).__name__}' +
                        (' of averages (pass the profile, not key_averages())'
                         if isinstance(prof, EventList) else ''))
    unfinished = RuntimeError('ProfilerView needs a finished profile: show it after the '
                              '`with profile(...)` block, or after prof.stop()')
    if getattr(prof, '_recording', False):   # (its events() is empty until it stops)
        raise unfinished
    try:
        return prof.events() if hasattr(prof, 'events') else prof.function_events
    except (RuntimeError, AssertionError) as e:
        raise unfinished from e


def _kind(avg):
    if avg.key.startswith(MODULE_PREFIX):
        return 'module'
    if avg.scope == BACKWARD_FUNCTION_SCOPE:
        return 'backward'
    if avg.is_user_annotation:
        return 'user'
    return 'op'


def _share(part, whole):
    return 100.0 * part / whole if whole else 0.0


def _row(avg, total_cpu, total_cuda, with_shapes):
    return {
        'name': avg.key, 'kind': _kind(avg), 'calls': int(avg.count),
        'self_cpu_us': float(avg.self_cpu_time_total),
        'self_cpu_share': _share(avg.self_cpu_time_total, total_cpu),
        'cpu_total_us': float(avg.cpu_time_total),
        'cpu_total_share': 0.0 if avg.is_async else _share(avg.cpu_time_total, total_cpu),
        'cpu_avg_us': float(avg.cpu_time),
        'self_cuda_us': float(avg.self_device_time_total),
        'self_cuda_share': _share(avg.self_device_time_total, total_cuda),
        'cuda_total_us': float(avg.device_time_total), 'cuda_avg_us': float(avg.device_time),
        'cpu_memory_bytes': int(avg.cpu_memory_usage),
        'self_cpu_memory_bytes': int(avg.self_cpu_memory_usage),
        'cuda_memory_bytes': int(avg.device_memory_usage),
        'self_cuda_memory_bytes': int(avg.self_device_memory_usage),
        'flops': int(avg.flops or 0),
        'input_shapes': [[int(d) for d in shape] for shape in avg.input_shapes]
        if with_shapes and avg.input_shapes else ([] if with_shapes else None),
    }


# -- the module breakdown ------------------------------------------------------------------------

def _module_paths(model):
    """{range label: (class, path)} for the modules of `model` below it (exact names)."""
    if model is None:
        return {}
    return {f'{type(m).__name__}_{path}': (type(m).__name__, path)
            for path, m in model.named_modules() if path}


def _parse_label(label, is_root, known):
    """(class, path) of a module range label such as 'Linear_fc1' or, for the called model,
    'Net_0'."""
    if is_root:
        return re.sub(r'_\d+$', '', label), ''
    if label in known:
        return known[label]
    cut = label.find('_', len(label) - len(label.lstrip('_')))
    if cut < 0:
        return label, None       # (a backward range of a module whose forward was not seen)
    return label[:cut], label[cut + 1:]


def _has_module_ancestor(evt):
    parent = evt.cpu_parent
    while parent is not None:
        if parent.name.startswith(MODULE_PREFIX):
            return True
        parent = parent.cpu_parent
    return False


def _module_breakdown(events, total_cpu, model):
    known = _module_paths(model)
    entries = {}         # (label, is_root) -> entry, in the order the modules first ran
    for evt in events:
        if not evt.name.startswith(MODULE_PREFIX):
            continue
        label = evt.name[len(MODULE_PREFIX):]
        backward = label.endswith(BACKWARD_SUFFIX)
        if backward:
            # async ranges have no parent; give them to the forward entry of the same name
            label = label[:-len(BACKWARD_SUFFIX)]
            key = next((k for k in ((label, False), (label, True)) if k in entries),
                       (label, False))
        else:
            key = (label, not _has_module_ancestor(evt))
        entry = entries.get(key)
        if entry is None:
            type_name, path = _parse_label(label, key[1], known)
            entry = entries[key] = {'name': label, 'type': type_name, 'path': path,
                                    'calls': 0, 'cpu_total_us': 0.0, 'self_cpu_us': 0.0,
                                    'share': 0.0, 'backward_calls': 0, 'backward_us': 0.0}
        if backward:
            entry['backward_calls'] += 1
            entry['backward_us'] += float(evt.cpu_time_total)
        else:
            entry['calls'] += 1
            entry['cpu_total_us'] += float(evt.cpu_time_total)
            entry['self_cpu_us'] += float(evt.self_cpu_time_total)
    for entry in entries.values():
        entry['share'] = _share(entry['cpu_total_us'], total_cpu)
    return list(entries.values())


class ProfilerView(NbgradWidget):
    """ProfilerView(prof, sort_by='self_cpu_time_total', row_limit=20,
    group_by_input_shape=False, model=None, title=None): see the module docstring."""
    _model_name = traitlets.Unicode('ProfilerViewModel').tag(sync=True)
    _view_name = traitlets.Unicode('ProfilerView').tag(sync=True)

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    sort_by = traitlets.Unicode('self_cpu_time_total').tag(sync=True)
    row_limit = traitlets.Int(20).tag(sync=True)
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    modules = traitlets.List(traitlets.Dict()).tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    title = traitlets.Unicode('').tag(sync=True)

    def __init__(self, prof, sort_by='self_cpu_time_total', row_limit=20,
                 group_by_input_shape=False, model=None, title=None, **kwargs):
        _check_sort_by(sort_by)
        _check_row_limit(row_limit)
        events = _finished_events(prof)
        self.group_by_input_shape = bool(group_by_input_shape)
        # (positional: the profiles call it group_by_input_shape, EventList ..._shapes)
        self._averages = events.key_averages(self.group_by_input_shape)
        total_cpu = sum(a.self_cpu_time_total for a in self._averages)
        total_cuda = sum(a.self_device_time_total for a in self._averages)
        self._all_rows = [_row(a, total_cpu, total_cuda, self.group_by_input_shape)
                          for a in self._averages]
        if title is None:
            title = (f'Profile: {len(events)} events, self CPU time total '
                     f'{_format_time(total_cpu)}')
        super().__init__(
            sort_by=sort_by, row_limit=row_limit, title=title,
            columns=[{'key': k, 'field': f, 'label': label} for k, f, label in COLUMNS],
            modules=_module_breakdown(events, total_cpu, model),
            totals={'self_cpu_us': float(total_cpu), 'cuda_us': float(total_cuda),
                    'events': len(events)},
            rows=self._sorted_rows(sort_by, row_limit), **kwargs)

    # -- sorting (the view writes sort_by and row_limit) ------------------------------------------
    @traitlets.validate('sort_by')
    def _valid_sort_by(self, proposal):
        return _check_sort_by(proposal['value'])

    @traitlets.validate('row_limit')
    def _valid_row_limit(self, proposal):
        return _check_row_limit(proposal['value'])

    @traitlets.observe('sort_by', 'row_limit')
    def _resort(self, change):
        with self.hold_sync():
            self.rows = self._sorted_rows(self.sort_by, self.row_limit)
            if change['name'] == 'sort_by':
                # a title that names the order (as %%profile's do) follows it
                self.title = self.title.replace(f'sorted by {change["old"]}',
                                                f'sorted by {change["new"]}')

    def _sorted_rows(self, sort_by, row_limit):
        # sorted(..., reverse=True) keeps ties in key_averages() order, as table() does
        field = SORT_KEYS[sort_by]
        ordered = sorted(self._all_rows, key=lambda r: r[field], reverse=True)
        return ordered if row_limit < 0 else ordered[:row_limit]

    # -- fallbacks ----------------------------------------------------------------------------
    def _has(self, field):
        return any(r[field] for r in self._all_rows)

    def _module_table(self):
        headers = ['Module', 'Type', 'Calls', 'CPU total', 'CPU total %', 'Backward']
        rows = [[m['name'] if m['path'] is None else (m['path'] or '(model)'), m['type'],
                 m['calls'], _format_time(m['cpu_total_us']), f'{m["share"]:.2f}%',
                 _format_time(m['backward_us']) if m['backward_calls'] else '-']
                for m in self.modules]
        return headers, rows

    def text(self):
        parts = [self.title]
        if not self._all_rows:
            return self.title + '\n(no events recorded)'
        parts.append(self._averages.table(sort_by=self.sort_by,
                                          row_limit=self.row_limit).rstrip('\n'))
        if self.modules:
            parts += ['By module (forward; backward from the first to the last of its ops\' '
                      'backward nodes):',
                      _svg.text_table(*self._module_table())]
        return '\n'.join(parts)

    def _ops_table(self):
        has_cuda = self._has('self_cuda_us') or self._has('cuda_total_us')
        has_memory = self._has('cpu_memory_bytes') or self._has('self_cpu_memory_bytes')
        columns = [(None, 'self_cpu_share', 'Self CPU %')]
        for key, field, label in COLUMNS:
            if 'cuda' in field and not has_cuda or 'memory' in field and not has_memory or \
                    field == 'flops' and not self._has('flops'):
                continue
            columns.append((key, field, label))
        sorted_field = SORT_KEYS[self.sort_by]     # ('device_...' marks the 'cuda_...' column)
        headers = ['Name'] + [label + (' \u25bc' if field == sorted_field else '')
                              for _, field, label in columns]
        if self.group_by_input_shape:
            headers.append('Input Shapes')

        def cell(field, value):
            if field.endswith('_share'):
                return f'{value:.2f}%'
            if field.endswith('_us'):
                return _format_time(value)
            if field.endswith('_bytes'):
                return _format_memory(value)
            if field == 'flops':
                return format_flops(value)
            return value
        rows = []
        for r in self.rows:
            row = [r['name']] + [cell(field, r[field]) for _, field, _ in columns]
            if self.group_by_input_shape:
                row.append(str(r['input_shapes']))
            rows.append(row)
        return headers, rows

    def html(self):
        out = [f'<div class="nbgrad-profiler-view"><div><b>{_svg.escape(self.title)}</b></div>']
        if not self._all_rows:
            return out[0] + '<div>(no events recorded)</div></div>'
        out.append(_svg.table(*self._ops_table(),
                              caption=f'sorted by {self.sort_by}, largest first'))
        top = sorted(self._all_rows, key=lambda r: r['self_cpu_us'], reverse=True)[:10]
        top = [r for r in top if r['self_cpu_us'] > 0]
        if top:
            out.append('<div>' + _svg.bar_chart(
                [_short(r['name']) for r in top], [r['self_cpu_share'] for r in top],
                value_text=[f'{r["self_cpu_share"]:.1f}%' for r in top],
                title='Top ops by self CPU time (% of total)') + '</div>')
        if self.modules:
            headers, rows = self._module_table()
            out.append(_svg.table(headers, rows, caption='By module'))
            out.append('<div>' + _svg.bar_chart(
                [_short(str(r[0])) for r in rows], [m['cpu_total_us'] for m in self.modules],
                value_text=[_format_time(m['cpu_total_us']) for m in self.modules],
                colors=[_svg.PALETTE[1]] * len(rows),
                title='Forward CPU time by module') + '</div>')
        out.append('</div>')
        return ''.join(out)


def _short(name, width=40):
    return name if len(name) <= width else name[:width - 3] + '...'

