"""One profiling session: records ranges while it runs, turns them into FunctionEvents when it
stops.

What it records, and through what:
  ops                 the dispatch point's observer API (nbgrad/_dispatch.py: add_observer)
  backward nodes      the engine's node observer (autograd.graph.add_node_observer)
  optimizer steps     the optimizers' global step pre/post hooks
  module calls        the modules' global hooks, when with_modules (_module_ranges)
  user ranges         record_function
Recording is kept to a clock read and a tuple per range; names, shapes and bytes are worked out
when the op finishes (so that nothing keeps tensors alive), events and their tree at stop().
"""
import os
import threading
import traceback
from time import perf_counter_ns

import numpy as np

from .. import _dispatch
from ..autograd.graph import add_node_observer
from .._tensor import Tensor
from ..autograd.profiler_util import (BACKWARD_FUNCTION_SCOPE, FUNCTION_SCOPE, USER_SCOPE,
                                      EventList, FunctionEvent)
from . import _flops, _module_ranges
from ._op_names import aten_name

# The recording session, if any. As in PyTorch there is one: a profiler that starts while another
# records takes the session over (the other's events so far are dropped), and whichever profiler
# stops next receives the running session's events; a profiler that stops when no session runs
# gets an empty result (see stop_session).
_active = None
_NBGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def active():
    return _active


def stop_session():
    """End the running session and return its events, or None when no session runs (PyTorch's
    _disable_profiler: the profiler that stops gets the current session, whoever started it)."""
    return None if _active is None else _active.stop()


class Recorder:
    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False,
                 with_modules=False, use_cuda=False, with_flops=False):
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cuda = use_cuda
        # (name, start_ns, end_ns, thread, shapes, cpu_bytes, device_bytes, gpu_span, scope,
        #  sequence_nr, is_user_annotation, is_async, is_op, stack, flops)
        self.records = []
        self._undo = []
        self.recording = False
        self._composites = 0      # how many composite calls are running (their ops count no FLOPs)
        self._modules = None      # the module ranges (with_modules)

    # -- session -----------------------------------------------------------------------------
    def start(self):
        global _active
        if _active is not None:
            _active._drop()   # PyTorch, too, ends the running session and discards its events
        _active = self
        self.recording = True
        self._undo = [_dispatch.add_observer(self), add_node_observer(self),
                      _module_ranges.install_optimizer_ranges(self)]
        if self.with_modules:
            self._modules, undo = _module_ranges.install(self)
            self._undo.append(undo)

    def _drop(self):
        """Stop recording and forget what was recorded (another session replaces this one)."""
        self._uninstall()
        self.records = []

    def _uninstall(self):
        global _active
        if _active is self:
            _active = None
        self.recording = False
        for undo in reversed(self._undo):
            undo()
        self._undo = []

    def stop(self):
        """Stop recording; return the recorded events (an EventList with its tree built)."""
        self._uninstall()
        if self._modules is not None:
            self._add_module_backward_ranges()
        gpu_spans = {}
        if any(r[7] is not None for r in self.records):
            gpu_spans = _gpu_durations(self.records)
        return self._events(gpu_spans)

    # -- ops (the dispatch observer API) -------------------------------------------------------
    def op_started(self, op, inputs):
        span = _start_gpu_span(inputs) if self.use_cuda else None
        return op, inputs, span, perf_counter_ns()

    def op_finished(self, token, outputs):
        end = perf_counter_ns()
        if not self.recording:
            return
        op, inputs, span, start = token
        if self._modules is not None:
            self._modules.note_op(op)
        in_place = bool(inputs) and outputs is inputs[0]
        shapes = _shapes(inputs) if self.record_shapes else []
        cpu_bytes = device_bytes = 0
        if self.profile_memory and not in_place and not op.is_view:
            cpu_bytes, device_bytes = _output_bytes(outputs)
        if span is not None:
            span = _end_gpu_span(span)
        flops = _flops.count(op, inputs, in_place) if self.with_flops and \
            not self._composites else None
        self.records.append((aten_name(op, in_place), start, end, threading.get_native_id(),
                             shapes, cpu_bytes, device_bytes, span, FUNCTION_SCOPE,
                             op.__dict__.get('_seq', -1), False, False, True,
                             self._stack() if self.with_stack else None, flops))

    # -- composite calls (nbgrad/_node_names.py: presents_as) ---------------------------------
    def composite_started(self, name, args):
        """A call recorded as one op of PyTorch's name (nbgrad/_profiled_calls.py): a factory,
        or a function nbgrad composes from several ops (torch.addmm...), whose ops nest in it;
        PyTorch counts FLOPs on it, not on them."""
        quiet = 0 if self.with_flops and _flops.inner_ops_count(name, args) else 1
        self._composites += quiet
        return name, args, quiet, perf_counter_ns()

    def composite_finished(self, token, outputs):
        end = perf_counter_ns()
        name, args, quiet, start = token
        self._composites -= quiet
        if not self.recording:
            return
        cpu_bytes = device_bytes = 0
        if self.profile_memory and outputs is not None:    # (an op inside may have made them)
            cpu_bytes, device_bytes = _output_bytes(outputs)
        self.records.append((name, start, end, threading.get_native_id(),
                             _shapes(args) if self.record_shapes else [], cpu_bytes,
                             device_bytes, None,
                             FUNCTION_SCOPE, -1, False, False, True,
                             self._stack() if self.with_stack else None,
                             _flops.count_composite(name, args) if self.with_flops and
                             not self._composites else None))

    # -- ranges --------------------------------------------------------------------------------
    def range_started(self, name, scope=USER_SCOPE, sequence_nr=-1, is_async=False):
        return [name, perf_counter_ns(), scope, sequence_nr, is_async,
                self._stack() if self.with_stack and scope == USER_SCOPE else None]

    def range_finished(self, token, flops=None):
        end = perf_counter_ns()
        if not self.recording:
            return
        name, start, scope, sequence_nr, is_async, stack = token
        self.records.append((name, start, end, threading.get_native_id(), [], 0, 0, None,
                             scope, sequence_nr, scope == USER_SCOPE, is_async, False, stack,
                             flops))

    def node_started(self, node):
        """The engine is about to run a backward node (autograd.graph.add_node_observer): open
        PyTorch's two ranges for it, the engine's 'autograd::engine::evaluate_function: <node>'
        and the node's own."""
        name = node.name()
        outer = self.range_started('autograd::engine::evaluate_function: ' + name,
                                   BACKWARD_FUNCTION_SCOPE, node._seq)
        # (the products the node will run, from its saved inputs, before it frees them)
        flops = _flops.backward_node(node) if self.with_flops else None
        return outer, self.range_started(name, BACKWARD_FUNCTION_SCOPE, node._seq), flops

    def node_finished(self, ranges):
        outer, inner, flops = ranges
        self.range_finished(inner, flops)
        self.range_finished(outer)

    def _add_module_backward_ranges(self):
        nodes = [(r[9], r[1], r[2], r[3]) for r in self.records
                 if r[8] == BACKWARD_FUNCTION_SCOPE and not r[0].startswith('autograd::')]
        for name, start, end, thread in self._modules.backward_ranges(nodes):
            self.records.append((name, start, end, thread, [], 0, 0, None, FUNCTION_SCOPE, -1,
                                 False, True, False, None, None))

    def _stack(self):
        """The user's frames (nbgrad's own left out), innermost first, as PyTorch prints them."""
        frames = traceback.extract_stack()[:-3]
        return [f'{f.filename}({f.lineno}): {f.name}' for f in reversed(frames)
                if not f.filename.startswith(_NBGRAD_DIR)]

    # -- results -------------------------------------------------------------------------------
    def _events(self, gpu_spans):
        use_device = 'cuda' if self.use_cuda else None
        ordered = sorted(enumerate(self.records), key=lambda ir: (ir[1][1], -ir[1][2], ir[0]))
        events = EventList(use_device=use_device, profile_memory=self.profile_memory,
                           with_flops=self.with_flops)
        is_op = {}
        own_bytes = {}
        for event_id, (_, record) in enumerate(ordered):
            (name, start, end, thread, shapes, cpu_bytes, device_bytes, span, scope, seq,
             user, is_async, op, stack, flops) = record
            trace_name = name
            if name.startswith('ProfilerStep#'):
                name = 'ProfilerStep*'     # (PyTorch groups the steps under one key)
            evt = FunctionEvent(event_id, name, thread, start / 1000.0, end / 1000.0,
                                fwd_thread=thread, input_shapes=shapes, stack=stack,
                                scope=scope, use_device=use_device, is_async=is_async,
                                sequence_nr=seq, trace_name=trace_name,
                                is_user_annotation=user, flops=flops or 0)
            if span is not None and span in gpu_spans:
                evt.append_kernel(name, span[0], gpu_spans[span][1])
                evt._gpu_span = (span[0], gpu_spans[span][0], gpu_spans[span][1])
            events.append(evt)
            is_op[evt] = op
            own_bytes[evt] = (cpu_bytes, device_bytes)
        events._build_tree()
        # memory is counted where it is allocated: by the innermost op (an op that calls other
        # ops allocated its outputs through them); a range's usage is its descendants' sum
        for evt in reversed(events):
            cpu, device = own_bytes[evt]
            if any(is_op[c] for c in evt.cpu_children):
                cpu = device = 0
            evt.cpu_memory_usage = cpu + sum(c.cpu_memory_usage for c in evt.cpu_children)
            evt.device_memory_usage = device + sum(c.device_memory_usage
                                                   for c in evt.cpu_children)
        return events


def _shapes(inputs):
    return [list(x.shape) if isinstance(x, Tensor) else [] for x in inputs]


def _output_bytes(outputs):
    """(CPU bytes, GPU bytes) of the tensors an op returned."""
    cpu = device = 0
    for t in outputs if isinstance(outputs, (tuple, list)) else (outputs,):
        if isinstance(t, Tensor) and t._base is None:
            data = t._data
            if data.__class__ is np.ndarray:
                cpu += data.nbytes
            else:
                device += int(getattr(data, 'nbytes', 0))
    return cpu, device


# -- GPU time: a CUDA event before and after each op whose inputs live on a GPU -----------------

def _start_gpu_span(inputs):
    for x in inputs:
        if isinstance(x, Tensor) and x._data.__class__ is not np.ndarray and \
                hasattr(x._data, 'device'):
            device = x._data.device.id
            from .._arrays import cupy
            with _dispatch.gpu_scope(device):
                event = cupy().cuda.Event()
                event.record()       # on the device's current stream, where the op will run
            return device, event
    return None


def _end_gpu_span(span):
    device, start = span
    from .._arrays import cupy
    with _dispatch.gpu_scope(device):
        end = cupy().cuda.Event()
        end.record()
    return device, start, end


def _gpu_durations(records):
    """{span: (start in microseconds on the CPU clock, duration in microseconds)} once the GPUs
    have finished. GPU timestamps are relative, so each device's first event is placed at the
    CPU time it was recorded at (for the trace's GPU track)."""
    from .._arrays import cupy
    cp = cupy()
    firsts = {}
    for record in records:
        span = record[7]
        if span is not None and span[0] not in firsts:
            firsts[span[0]] = (span[1], record[1] / 1000.0)
    for device in firsts:
        with _dispatch.gpu_scope(device):
            cp.cuda.Device(device).synchronize()
    out = {}
    for record in records:
        span = record[7]
        if span is None:
            continue
        device, start, end = span
        first, first_cpu_us = firsts[device]
        offset_us = cp.cuda.get_elapsed_time(first, start) * 1000.0
        out[span] = (first_cpu_us + offset_us, cp.cuda.get_elapsed_time(start, end) * 1000.0)
    return out
