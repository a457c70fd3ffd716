"""The profiler's results: FunctionEvent (one recorded range), FunctionEventAvg (ranges averaged
by key), EventList (a list of either, with table(), key_averages(), export_chrome_trace()).

Names, attributes and the table's layout are PyTorch's (torch.autograd.profiler_util), so that
code reading profiles, and people reading tables, see the same thing. Times are microseconds.
"""
import enum
import itertools
import json
import os
import tempfile
from collections import defaultdict, namedtuple


class DeviceType(enum.IntEnum):
    """Where an event ran (the two of PyTorch's c10::DeviceType values nbgrad has)."""
    CPU = 0
    CUDA = 1


# at::RecordScope values PyTorch stores in FunctionEvent.scope
FUNCTION_SCOPE, BACKWARD_FUNCTION_SCOPE, USER_SCOPE = 0, 1, 7

Kernel = namedtuple('Kernel', ['name', 'device', 'duration'])


class Interval:
    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        return self.end - self.start


def _format_time(time_us):
    if time_us >= 1e6:
        return f'{time_us / 1e6:.3f}s'
    if time_us >= 1e3:
        return f'{time_us / 1e3:.3f}ms'
    return f'{time_us:.3f}us'


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return 'NaN'
    return f'{time_us * 100.0 / total_time_us:.2f}%'


def _format_memory(nbytes):
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= gb:
        return f'{nbytes * 1.0 / gb:.2f} GB'
    if abs(nbytes) >= mb:
        return f'{nbytes * 1.0 / mb:.2f} MB'
    if abs(nbytes) >= kb:
        return f'{nbytes * 1.0 / kb:.2f} KB'
    return str(nbytes) + ' B'


def _time_str(name):
    return property(lambda self: _format_time(getattr(self, name)))


class FormattedTimesMixin:
    """cpu_time / device_time (averages per call) and the *_str forms the table prints."""
    cpu_time_str = _time_str('cpu_time')
    device_time_str = _time_str('device_time')
    cpu_time_total_str = _time_str('cpu_time_total')
    device_time_total_str = _time_str('device_time_total')
    self_cpu_time_total_str = _time_str('self_cpu_time_total')
    self_device_time_total_str = _time_str('self_device_time_total')

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else 1.0 * self.cpu_time_total / self.count

    @property
    def device_time(self):
        return 0.0 if self.count == 0 else 1.0 * self.device_time_total / self.count

    @property
    def cuda_time(self):
        return self.device_time


class FunctionEvent(FormattedTimesMixin):
    """One recorded range: an op, a backward node, a record_function block, a module call."""

    def __init__(self, id, name, thread, start_us, end_us, fwd_thread=None, input_shapes=None,
                 stack=None, scope=FUNCTION_SCOPE, use_device=None, cpu_memory_usage=0,
                 device_memory_usage=0, is_async=False, is_remote=False, sequence_nr=-1,
                 node_id=-1, device_type=DeviceType.CPU, device_index=0, is_legacy=False,
                 flops=None, trace_name=None, is_user_annotation=False, overload_name=''):
        self.id = id
        self.node_id = node_id
        self.name = name
        self.overload_name = overload_name
        self.trace_name = name if trace_name is None else trace_name
        self.time_range = Interval(start_us, end_us)
        self.thread = thread
        self.fwd_thread = fwd_thread
        self.kernels = []
        self.count = 1
        self.cpu_children = []
        self.cpu_parent = None
        self.input_shapes = input_shapes
        self.stack = stack
        self.scope = scope
        self.use_device = use_device
        self.cpu_memory_usage = cpu_memory_usage
        self.device_memory_usage = device_memory_usage
        self.is_async = is_async
        self.is_remote = is_remote
        self.sequence_nr = sequence_nr
        self.device_type = device_type
        self.device_index = device_index
        self.is_legacy = is_legacy
        self.flops = flops
        self.is_user_annotation = is_user_annotation
        self.self_cpu_percent = -1
        self.total_cpu_percent = -1
        self.total_device_percent = -1

    def append_kernel(self, name, device, duration):
        self.kernels.append(Kernel(name, device, duration))

    def append_cpu_child(self, child):
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        self.cpu_parent = parent

    # async ranges (they need not nest) have no children and count only in their own total
    @property
    def self_cpu_memory_usage(self):
        if self.is_async:
            return 0
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_device_memory_usage(self):
        if self.is_async:
            return 0
        return self.device_memory_usage - sum(c.device_memory_usage for c in self.cpu_children)

    @property
    def self_cuda_memory_usage(self):
        return self.self_device_memory_usage

    @property
    def cuda_memory_usage(self):
        return self.device_memory_usage

    @property
    def cpu_time_total(self):
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self):
        if self.is_async:
            return 0
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def device_time_total(self):
        """The GPU time of this range's own kernels and of its children's."""
        if self.is_async or not self.use_device:
            return 0
        return sum(k.duration for k in self.kernels) + \
            sum(c.device_time_total for c in self.cpu_children)

    @property
    def cuda_time_total(self):
        return self.device_time_total

    @property
    def self_device_time_total(self):
        if self.is_async or not self.use_device:
            return 0
        return self.device_time_total - sum(c.device_time_total for c in self.cpu_children)

    @property
    def self_cuda_time_total(self):
        return self.self_device_time_total

    @property
    def key(self):
        return self.name

    def __repr__(self):
        device = self.use_device
        return (f'<FunctionEvent id={self.id} name={self.name} device_type={self.device_type} '
                f'node_id={self.node_id} cpu_time={self.cpu_time_str} '
                f'start_us={self.time_range.start} end_us={self.time_range.end} '
                f'cpu_children={[c.id for c in self.cpu_children]} {device}_time='
                f'{self.device_time_str} name={self.name} thread={self.thread} '
                f'input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} '
                f'{device}_memory_usage={self.device_memory_usage} is_async={self.is_async} '
                f'is_remote={self.is_remote} seq_nr={self.sequence_nr} '
                f'is_legacy={self.is_legacy}>')


class FunctionEventAvg(FormattedTimesMixin):
    """The sums (and count) of the events that share a key; cpu_time etc. are per call."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device = None
        self.cpu_time_total = 0
        self.device_time_total = 0
        self.self_cpu_time_total = 0
        self.self_device_time_total = 0
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.self_device_memory_usage = 0
        self.cpu_children = None
        self.cpu_parent = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other):
        if self.key is None:  # the first event: take its descriptive fields
            self.key = other.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.overload_name = other.overload_name
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.scope = other.scope
            self.device_type = other.device_type
            self.is_legacy = other.is_legacy
            self.use_device = other.use_device
            self.is_user_annotation = other.is_user_annotation
        if not isinstance(other, (FunctionEvent, FunctionEventAvg)):
            raise TypeError('FunctionEventAvg can only add a FunctionEvent or FunctionEventAvg')
        if other.key != self.key:
            raise ValueError(f'Expected keys to match, but got {other.key} vs {self.key}')
        self.cpu_time_total += other.cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.device_memory_usage += other.device_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.self_device_memory_usage += other.self_device_memory_usage
        self.count += other.count
        if self.flops is None:
            self.flops = other.flops
        elif other.flops is not None:
            self.flops += other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    @property
    def cuda_memory_usage(self):
        return self.device_memory_usage

    @property
    def self_cuda_memory_usage(self):
        return self.self_device_memory_usage

    @property
    def cuda_time_total(self):
        return self.device_time_total

    @property
    def self_cuda_time_total(self):
        return self.self_device_time_total

    def __repr__(self):
        device = 'cuda' if not self.use_device else self.use_device
        return (f'<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} '
                f'cpu_time={self.cpu_time_str}  self_{device}_time='
                f'{self.self_device_time_total_str} {device}_time={self.device_time_str} '
                f'input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} '
                f'{device}_memory_usage={self.device_memory_usage}>')


class EventList(list):
    """A list of FunctionEvent (or FunctionEventAvg) with the profiler's reports."""

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._tree_built = False

    def _build_tree(self):
        self._populate_cpu_children()
        self._tree_built = True

    def __str__(self):
        return self.table()

    def _populate_cpu_children(self):
        """Parent = the innermost range of the same thread that contains the event (PyTorch's
        rule; ranges that only partly overlap are not related). Async ranges take no part."""
        events = sorted((e for e in self if not e.is_async), key=lambda e: e.thread)
        for _, thread_events in itertools.groupby(events, key=lambda e: (e.thread, e.node_id)):
            open_ranges = []
            for event in sorted(thread_events,
                                key=lambda e: (e.time_range.start, -e.time_range.end)):
                while open_ranges:
                    parent = open_ranges[-1]
                    if event.time_range.start >= parent.time_range.end or \
                            event.time_range.end > parent.time_range.end:
                        open_ranges.pop()
                    else:
                        parent.append_cpu_child(event)
                        event.set_cpu_parent(parent)
                        break
                open_ranges.append(event)

    @property
    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as PyTorch's profiler table. sort_by: an attribute ('cpu_time_total',
        'self_cpu_time_total', 'cuda_time_total', 'cpu_memory_usage', 'count', ...), largest
        first; by default in recording order."""
        from ._profiler_table import build_table
        return build_table(self, sort_by=sort_by, row_limit=row_limit,
                           max_src_column_width=max_src_column_width,
                           max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width, header=header,
                           profile_memory=self._profile_memory, with_flops=self._with_flops,
                           top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (JSON; loads in Perfetto and chrome://tracing)."""
        write_chrome_trace(self, path)

    def supported_export_stacks_metrics(self):
        return ['self_cpu_time_total', 'self_cuda_time_total', 'self_xpu_time_total',
                'self_privateuse1_time_total']

    def export_stacks(self, path, metric):
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError('metric should be one of: ' +
                             str(self.supported_export_stacks_metrics()))
        metric = metric.replace('cuda', 'device').replace('xpu', 'device') \
            .replace('privateuse1', 'device')
        with open(path, 'w') as f:
            for evt in self:
                value = int(getattr(evt, metric))
                if evt.stack and value > 0:
                    frames = ';'.join(e.translate(str.maketrans(' ;\t\n', '____'))
                                      for e in reversed(evt.stack))
                    f.write(f'{frames} {value}\n')

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """One FunctionEventAvg per key (name; and input shapes, top stack frames, if asked)."""
        if not self._tree_built:
            self._build_tree()
        stats = defaultdict(FunctionEventAvg)
        for evt in self:
            key = [str(evt.key), str(evt.node_id), str(evt.device_type), str(evt.is_legacy),
                   str(evt.is_user_annotation)]
            if group_by_overload_name:
                key.append(evt.overload_name)
            if group_by_input_shapes:
                key.append(str(evt.input_shapes))
            if group_by_stack_n > 0:
                key += (evt.stack or [])[:group_by_stack_n]
            stats[tuple(key)].add(evt)
        averages = EventList(stats.values(), use_device=self._use_device,
                             profile_memory=self._profile_memory, with_flops=self._with_flops)
        for evt in averages:
            evt.stack = (evt.stack or [])[:group_by_stack_n]
            if not group_by_input_shapes:
                evt.input_shapes = ''
            if not group_by_overload_name:
                evt.overload_name = ''
        return averages

    def total_average(self):
        total = FunctionEventAvg()
        for evt in self:
            total += evt
            total.key = None
        total.key = 'Total'
        return total


def write_chrome_trace(events, path):
    """Chrome's trace-event JSON: complete ('X') events with ts and dur in microseconds, one
    process, a track per thread, and a track per GPU with the ops' GPU time (from CUDA events).
    Written to a temporary file next to `path` and renamed, so that a reader never sees half a
    trace; '.gz' paths are gzipped."""
    pid = os.getpid()
    trace = []
    threads = set()
    gpus = set()
    for evt in events:
        gpu_span = getattr(evt, '_gpu_span', None)
        if gpu_span is not None:
            device, start, duration = gpu_span
            gpus.add(device)
            trace.append({'ph': 'X', 'cat': 'kernel', 'name': evt.trace_name, 'pid': pid,
                          'tid': _GPU_TRACK_OFFSET + device, 'ts': round(start, 3),
                          'dur': round(duration, 3),
                          'args': {'External id': evt.id, 'device': device}})
        tid = evt.thread if not evt.is_async else _async_track(evt.thread)
        threads.add((tid, evt.is_async))
        args = {'External id': evt.id}
        if evt.input_shapes:
            args['Input Dims'] = [list(s) for s in evt.input_shapes]
        if evt.sequence_nr >= 0:
            args['Sequence number'] = evt.sequence_nr
        if evt.cpu_memory_usage or evt.device_memory_usage:
            args['Bytes'] = evt.cpu_memory_usage + evt.device_memory_usage
        trace.append({'ph': 'X', 'cat': _category(evt), 'name': evt.trace_name, 'pid': pid,
                      'tid': tid, 'ts': round(evt.time_range.start, 3),
                      'dur': round(evt.time_range.elapsed_us(), 3), 'args': args})
    meta = [{'ph': 'M', 'name': 'process_name', 'pid': pid, 'tid': 0,
             'args': {'name': 'python'}}]
    for tid, is_async in sorted(threads):
        label = f'thread {tid} (python)' if not is_async else \
            f'thread {tid - _ASYNC_TRACK_OFFSET} (nn.Module backward)'
        meta.append({'ph': 'M', 'name': 'thread_name', 'pid': pid, 'tid': tid,
                     'args': {'name': label}})
    for device in sorted(gpus):
        meta.append({'ph': 'M', 'name': 'thread_name', 'pid': pid,
                     'tid': _GPU_TRACK_OFFSET + device,
                     'args': {'name': f'cuda:{device} (GPU time of the ops)'}})
    document = {'schemaVersion': 1, 'displayTimeUnit': 'ms', 'traceName': str(path),
                'traceEvents': meta + trace}
    text = json.dumps(document)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.trace-', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            data = text.encode()
            if str(path).endswith('.gz'):
                import gzip
                data = gzip.compress(data)
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # (mkstemp makes it private; a trace is an ordinary file)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# async ranges (module backward) get a track of their own: they need not nest with the thread's;
# so do the GPUs
_ASYNC_TRACK_OFFSET = 1 << 30
_GPU_TRACK_OFFSET = 1 << 29


def _async_track(thread):
    return _ASYNC_TRACK_OFFSET + (thread % _ASYNC_TRACK_OFFSET)


def _category(evt):
    return 'user_annotation' if evt.is_user_annotation else 'cpu_op'
