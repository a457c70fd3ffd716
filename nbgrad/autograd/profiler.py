"""nbgrad.autograd.profiler: PyTorch's torch.autograd.profiler (profile, record_function) and
the result classes (EventList, FunctionEvent, FunctionEventAvg: autograd/profiler_util.py).

    with nbgrad.autograd.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.key_averages().table(sort_by='cpu_time_total', row_limit=10))

Ops are named as PyTorch's profiler names them ('aten::addmm'...), backward nodes
'autograd::engine::evaluate_function: MulBackward0' with the node's own range ('MulBackward0')
and the ops it runs inside; see nbgrad/profiler/_recorder.py for what is recorded and how.
"""
import functools
import sys
import warnings

from .profiler_util import (DeviceType, EventList, FunctionEvent, FunctionEventAvg, Interval,
                            Kernel)

__all__ = ['profile', 'record_function', 'EventList', 'FunctionEvent', 'FunctionEventAvg',
           'DeviceType', 'Interval', 'Kernel']

_NO_SESSION = ('[W profiler] disableProfiler called but no active profiling session found. This '
               'can happen if profiling was cancelled during warmup. (nbgrad: a profiler started '
               'after this one took its session over.)\n')


def _recorder_module():
    from ..profiler import _recorder     # (nbgrad.profiler imports this module)
    return _recorder


class _ContextDecorator:
    """A context manager that is also a decorator: @it runs the function inside `with it:`."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapped


class record_function(_ContextDecorator):
    """Label a block of code (or, as a decorator, a function) in the profile: its range is named
    `name` and the ops inside nest under it. Costs nothing when no profiler records."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self._open = []     # (recorder, range) per entry: a decorated function may recurse

    def __enter__(self):
        recorder = _recorder_module().active()
        self._open.append(None if recorder is None else
                          (recorder, recorder.range_started(self.name)))
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        entry = self._open.pop() if self._open else None
        if entry is not None and self.run_callbacks_on_exit:
            recorder, token = entry
            recorder.range_finished(token)
        return False


class profile(_ContextDecorator):
    """Record the ops, backward nodes and labelled ranges run inside the block.

    use_device='cuda' (or the deprecated use_cuda=True) adds each op's GPU time, from CUDA events
    recorded around it on the current stream; record_shapes keeps the ops' input shapes;
    profile_memory the bytes of the tensors each op allocates; with_stack the Python caller;
    with_modules a range per nn.Module call. Results: key_averages(), table(),
    export_chrome_trace(), function_events, self_cpu_time_total, once the block has ended.
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        self.enabled = enabled
        # (a disabled profiler records nothing and has no results: see _check_enabled)
        self.use_device, self.profile_memory = None, profile_memory
        self._recorder = self._function_events = None
        if not enabled:
            return
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = 'cuda'
        if use_device not in (None, 'cuda'):
            raise ValueError(f'use_device: nbgrad profiles CPU and CUDA only, got {use_device!r}')
        self.use_cuda = use_device == 'cuda'
        self.use_device = use_device
        self.use_cpu = use_cpu
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.entered = False
        self._recorder = None
        self._function_events = None

    # -- recording ---------------------------------------------------------------------------
    def __enter__(self):
        if not self.enabled:
            return
        if self.entered:
            raise RuntimeError('Profiler context manager is not reentrant')
        self._start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return
        self._stop()
        return False

    def _start(self):
        self.entered = True
        self._recorder = _recorder_module().Recorder(
            record_shapes=self.record_shapes, profile_memory=self.profile_memory,
            with_stack=self.with_stack, with_modules=self.with_modules, use_cuda=self.use_cuda,
            with_flops=self.with_flops)
        self._recorder.start()

    def _stop(self):
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        # the running session's events, which are this profiler's unless another one started
        # since (PyTorch's one-session rule: see profiler/_recorder.py)
        events = _recorder_module().stop_session()
        if events is None:
            # PyTorch logs this (to stderr, not as a Python warning) and returns no events
            sys.stderr.write(_NO_SESSION)
            events = self._empty_events()
        if self.acc_events and self._function_events is not None:
            events = EventList(list(self._function_events) + list(events),
                               use_device=self.use_device, profile_memory=self.profile_memory,
                               with_flops=self.with_flops)
            events._tree_built = True
        self._function_events = events

    @property
    def _recording(self):
        """Whether this profiler is inside its block (its results, until it ends, are empty:
        a viewer that wants finished results checks this)."""
        return self._recorder is not None

    def _empty_events(self):
        events = EventList([], use_device=self.use_device, profile_memory=self.profile_memory)
        events._build_tree()
        return events

    def _results(self):
        """The last finished recording's events; before any (inside the first `with` block,
        or never entered) an empty EventList, as PyTorch gives."""
        self._check_enabled()
        if self._function_events is None:
            return self._empty_events()
        return self._function_events

    def _check_enabled(self):
        if not self.enabled:  # (PyTorch fails with AttributeError too: it set nothing up)
            raise AttributeError('this profiler was made with enabled=False: it records nothing '
                                 'and has no results')

    # -- results (PyTorch's methods) -----------------------------------------------------------
    @property
    def function_events(self):
        return self._results()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        return self._results().table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path, metadata=None, use_python_export=False):
        self._check_enabled()
        if self._function_events is None:
            # (PyTorch fails here too, with AttributeError: its Kineto trace does not exist yet)
            raise AttributeError('export_chrome_trace: this profiler has no trace yet (it is '
                                 'still recording, or never ran); export it after the profiled '
                                 'block has ended')
        return self._function_events.export_chrome_trace(path)

    def export_stacks(self, path, metric='self_cpu_time_total'):
        if not self.with_stack:
            raise AssertionError('export_stacks() requires with_stack=True')
        return self._results().export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return self._results().key_averages(group_by_input_shape, group_by_stack_n,
                                            group_by_overload_name)

    def total_average(self):
        return self._results().total_average()

    @property
    def self_cpu_time_total(self):
        return self._results().self_cpu_time_total

    def __str__(self):
        if self._function_events is None:
            return '<unfinished nbgrad.autograd.profile>'
        return str(self._function_events)

    def __repr__(self):
        if self._function_events is None:
            return '<unfinished nbgrad.autograd.profile>'
        return repr(self._function_events)
