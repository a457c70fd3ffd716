"""torch.profiler.profile: the profiler with activities, a step schedule and on_trace_ready.

Each profiling cycle of the schedule (wait -> warmup -> active) records into a fresh
autograd.profiler.profile (self.profiler); step() moves along the schedule, and when the schedule
says RECORD_AND_SAVE the cycle ends and on_trace_ready(prof) runs. Steps are labelled
'ProfilerStep#<n>' when a schedule is given, as in PyTorch. The transitions are PyTorch's table.
"""
import enum
import os
import warnings
from functools import partial

from ..autograd import profiler as autograd_profiler
from ..autograd.profiler import _ContextDecorator


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 2

    def __repr__(self):
        return f'<ProfilerActivity.{self.name}: {self.value}>'


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    """CPU, and CUDA when nbgrad sees a CUDA device."""
    from .. import cuda
    activities = {ProfilerActivity.CPU}
    if cuda.is_available():
        activities.add(ProfilerActivity.CUDA)
    return activities


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A schedule: skip `skip_first` steps, then cycles of `wait` idle steps, `warmup` steps and
    `active` recorded steps (the last one RECORD_AND_SAVE), `repeat` times (0: forever)."""
    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f'Step must be non-negative. Got {step}.')
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 \
            else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f'Invalid profiler schedule arguments. Got wait={wait} (need >= 0), '
            f'warmup={warmup} (need >= 0), active={active} (need > 0), repeat={repeat} '
            f'(need >= 0), skip_first={skip_first} (need >= 0).')
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False,
                              use_python_export=False):
    """An on_trace_ready that writes each cycle's Chrome trace into dir_name as
    '<worker>.<time_ns>.pt.trace.json' (TensorBoard's profiler plugin reads that folder)."""
    import socket
    import time

    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f'{socket.gethostname()}_{os.getpid()}'
        file_name = f'{worker_name}.{time.time_ns()}.pt.trace.json' + ('.gz' if use_gzip else '')
        prof.export_chrome_trace(os.path.join(dir_name, file_name))
    return handler_fn


class profile(_ContextDecorator):
    """torch.profiler.profile: `with profile(...) as prof:` or start()/stop(); step() per
    iteration when using a schedule; events(), key_averages(), export_chrome_trace()."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None,
                 post_processing_timeout_s=None):
        self.activities = set(activities) if activities is not None else supported_activities()
        if use_cuda is not None:
            warnings.warn('`use_cuda` is deprecated, use `activities` argument instead',
                          FutureWarning, stacklevel=2)
            if use_cuda:
                self.activities.add(ProfilerActivity.CUDA)
            else:
                self.activities.discard(ProfilerActivity.CUDA)
        if not self.activities:
            raise AssertionError('No valid profiler activities found')
        self.use_device = 'cuda' if ProfilerActivity.CUDA in self.activities else None
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.profiler = None
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        self.current_action = self.schedule(self.step_num)
        self._metadata = {}
        a = ProfilerAction
        self.action_map = {
            (a.NONE, a.NONE): [],
            (a.NONE, a.WARMUP): [self.prepare_trace],
            (a.NONE, a.RECORD): [self.prepare_trace, self.start_trace],
            (a.NONE, a.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (a.WARMUP, a.NONE): [partial(warnings.warn,
                                         'Incorrect schedule: WARMUP followed by NONE'),
                                 self.start_trace, self.stop_trace],
            (a.WARMUP, a.WARMUP): [],
            (a.WARMUP, a.RECORD): [self.start_trace],
            (a.WARMUP, a.RECORD_AND_SAVE): [self.start_trace],
            (a.RECORD, a.NONE): [partial(warnings.warn,
                                         'Incorrect schedule: RECORD followed by NONE'),
                                 self.stop_trace],
            (a.RECORD, a.WARMUP): [partial(warnings.warn,
                                           'Incorrect schedule: RECORD followed by WARMUP'),
                                   self.stop_trace],
            (a.RECORD, a.RECORD): [],
            (a.RECORD, a.RECORD_AND_SAVE): [],
            (a.RECORD_AND_SAVE, a.NONE): [self.stop_trace, self._trace_ready],
            (a.RECORD_AND_SAVE, a.WARMUP): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace],
            (a.RECORD_AND_SAVE, a.RECORD): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace, self.start_trace],
            (a.RECORD_AND_SAVE, a.RECORD_AND_SAVE): [self.stop_trace, self._trace_ready,
                                                     self.prepare_trace, self.start_trace],
            (a.WARMUP, None): [self.start_trace, self.stop_trace],
            (a.RECORD, None): [self.stop_trace, self._trace_ready],
            (a.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
        }

    # -- the cycle -----------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        return False

    def start(self):
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = autograd_profiler.record_function('ProfilerStep#' +
                                                                 str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self):
        """The next training step begins (moves along the schedule)."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(previous, self.current_action)
        if self.record_steps:
            self.step_rec_fn = autograd_profiler.record_function('ProfilerStep#' +
                                                                 str(self.step_num))
            self.step_rec_fn.__enter__()

    def prepare_trace(self):
        if self.profiler is None or not self.acc_events:
            self.profiler = autograd_profiler.profile(
                use_device=self.use_device, record_shapes=self.record_shapes,
                with_flops=self.with_flops, profile_memory=self.profile_memory,
                with_stack=self.with_stack, with_modules=self.with_modules,
                acc_events=self.acc_events)

    def start_trace(self):
        if self.profiler is None:
            raise AssertionError('Profiler must be initialized before starting trace')
        self.profiler._start()

    def stop_trace(self):
        if self.profiler is None:
            raise AssertionError('Profiler must be initialized before stopping trace')
        self.profiler._stop()

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit_action(self, prev_action, current_action):
        for action in self.action_map.get((prev_action, current_action)) or ():
            action()

    # -- results -------------------------------------------------------------------------------
    @property
    def _recording(self):
        """Whether a cycle is being recorded now (events() is empty until it ends)."""
        return self.profiler is not None and self.profiler._recording

    def _finished(self, what):
        if self.profiler is None:
            raise AssertionError(f'Profiler must be initialized before {what}')
        return self.profiler

    def events(self):
        return self._finished('accessing events').function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return self._finished('getting key averages').key_averages(
            group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path, use_python_export=False):
        return self._finished('exporting chrome trace').export_chrome_trace(path)

    def export_stacks(self, path, metric='self_cpu_time_total'):
        return self._finished('exporting stacks').export_stacks(path, metric)

    def add_metadata(self, key, value):
        self._metadata[key] = value

    def add_metadata_json(self, key, value):
        self._metadata[key] = value
