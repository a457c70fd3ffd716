"""EventList.table(): PyTorch's profiler table, column for column (same headers, order, widths,
number formats and footer), so that a table from nbgrad reads like one from PyTorch."""
from .profiler_util import EventList, _format_memory, _format_time, _format_time_share

_COLUMN_WIDTH = 12
_SPACING = 2


def _sort_attribute(sort_by):
    return sort_by.replace('cuda', 'device').replace('xpu', 'device') \
        .replace('privateuse1', 'device')


def _in_unit(time_us, default, time_unit):
    if time_unit == 's':
        return f'{time_us / 1e6:.3f}s'
    if time_unit == 'ms':
        return f'{time_us / 1e3:.3f}ms'
    if time_unit == 'us':
        return f'{time_us:.3f}us'
    return default


def _trim_path(path, width):
    if len(path) > width:
        path = path[len(path) - width:]
        if len(path) > 3:
            path = '...' + path[3:]
    return path


def build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                max_name_column_width=55, max_shapes_column_width=80, with_flops=False,
                profile_memory=False, top_level_events_only=False, time_unit=None):
    if len(events) == 0:
        return ''
    has_device_time = any(e.self_device_time_total > 0 for e in events)
    has_device_mem = any(e.self_device_memory_usage > 0 for e in events)
    use_device = events[0].use_device
    if not use_device and has_device_time:
        raise RuntimeError('use_device is None, but there is device performance data.')
    has_input_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0
                           for e in events)
    if sort_by is not None:
        attribute = _sort_attribute(sort_by)
        events = EventList(sorted(events, key=lambda e: getattr(e, attribute), reverse=True),
                           use_device=use_device, profile_memory=profile_memory,
                           with_flops=with_flops)

    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_width = min(shapes_width, max_shapes_column_width)
    stacks = [e.stack for e in events if e.stack]
    src_width = None
    if stacks:
        src_width = max(len(entry) for stack in stacks for entry in stack) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)

    device = use_device.upper() if use_device is not None else 'None'
    headers = ['Name', 'Self CPU %', 'Self CPU', 'CPU total %', 'CPU total', 'CPU time avg']
    if has_device_time:
        headers += [f'Self {device}', f'Self {device} %', f'{device} total',
                    f'{device} time avg']
    if profile_memory:
        headers += ['CPU Mem', 'Self CPU Mem']
        if use_device and has_device_mem:
            headers += [f'{device} Mem', f'Self {device} Mem']
    headers.append('# of Calls')
    with_node_id = any(e.node_id != -1 for e in events)
    if with_node_id:
        headers.append('Node ID')

    widths = [(name_width, '>')] + [(_COLUMN_WIDTH, '>')] * (len(headers) - 1)
    if has_input_shapes:
        headers.append('Input Shapes')
        widths.append((shapes_width, '>'))
    if stacks:
        headers.append('Source Location')
        widths.append((src_width, '<'))
    if with_flops:
        raw = [e.flops for e in events if e.flops and e.flops > 0]
        if raw:
            scale, unit = _flops_scale(min(raw))
            headers.append(f'Total {unit}')
            widths.append((_COLUMN_WIDTH, '>'))
        else:
            with_flops = False
    row_format = ''.join('{: ' + side + str(w) + '}' + ' ' * _SPACING for w, side in widths)
    separator = ''.join('-' * w + ' ' * _SPACING for w, _ in widths)
    line_length = sum(w + _SPACING for w, _ in widths) - _SPACING

    total_self_cpu = sum(e.self_cpu_time_total for e in events)
    # nbgrad's GPU times hang off CPU events (as PyTorch's legacy profiler's do)
    total_self_device = sum(e.self_device_time_total for e in events)

    lines = []
    if header is not None:
        lines += ['=' * line_length, header]
    if top_level_events_only:
        lines += ['=' * line_length, 'This report only display top-level ops statistics']
    lines += [separator, row_format.format(*headers), separator]
    shown = 0
    for evt in events:
        if shown == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        shown += 1
        name = evt.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + '...'
        evt.self_cpu_percent = _format_time_share(evt.self_cpu_time_total, total_self_cpu)
        evt.total_cpu_percent = _format_time_share(evt.cpu_time_total, total_self_cpu) \
            if not evt.is_async else 0
        row = [name, evt.self_cpu_percent,
               _in_unit(evt.self_cpu_time_total, evt.self_cpu_time_total_str, time_unit),
               evt.total_cpu_percent,
               _in_unit(evt.cpu_time_total, evt.cpu_time_total_str, time_unit),
               _in_unit(evt.cpu_time, evt.cpu_time_str, time_unit)]
        if has_device_time:
            evt.total_device_percent = _format_time_share(evt.self_device_time_total,
                                                          total_self_device)
            row += [_in_unit(evt.self_device_time_total, evt.self_device_time_total_str,
                             time_unit),
                    evt.total_device_percent,
                    _in_unit(evt.device_time_total, evt.device_time_total_str, time_unit),
                    _in_unit(evt.device_time, evt.device_time_str, time_unit)]
        if profile_memory:
            row += [_format_memory(evt.cpu_memory_usage),
                    _format_memory(evt.self_cpu_memory_usage)]
            if use_device and has_device_mem:
                row += [_format_memory(evt.device_memory_usage),
                        _format_memory(evt.self_device_memory_usage)]
        row.append(evt.count)
        if with_node_id:
            row.append(evt.node_id)
        if has_input_shapes:
            row.append(str(evt.input_shapes)[:shapes_width])
        if with_flops:
            row.append('--' if not evt.flops or evt.flops <= 0 else
                       f'{evt.flops * scale:8.3f}')
        if stacks:
            row.append(_trim_path(evt.stack[0], src_width) if evt.stack else '')
        lines.append(row_format.format(*row))
        if stacks:
            blank = [''] * (len(headers) - 1)
            for entry in (evt.stack or [])[1:]:
                lines.append(row_format.format(*(blank + [_trim_path(entry, src_width)])))
            lines.append(row_format.format(*(blank + [''])))
    lines.append(separator)
    lines.append('Self CPU time total: ' +
                 _in_unit(total_self_cpu, _format_time(total_self_cpu), time_unit))
    if has_device_time:
        lines.append(f'Self {device} time total: ' +
                     _in_unit(total_self_device, _format_time(total_self_device), time_unit))
    return ''.join(line + '\n' for line in lines)


def _flops_scale(flops):
    import math
    units = ['FLOPs', 'KFLOPs', 'MFLOPs', 'GFLOPs', 'TFLOPs', 'PFLOPs']
    level = int(max(0, min(math.log10(flops) / 3, float(len(units) - 1))))
    return 10 ** (-3.0 * level), units[level]
