"""torch.jit.trace: run a function or module once on example inputs, record every op it
dispatches, and replay that fixed sequence (a static graph) on new inputs.

The recording is an observer of the dispatcher (the same hook the profiler uses), so every op
nbgrad runs is seen without patching anything. Each step keeps a fresh copy of its op (as it was
before running) and where its inputs come from: a graph input, an earlier step's output, or a
tensor from outside (a parameter or buffer, read live at every call, or a constant the traced
code made, such as a dropout mask's buffer). Python control flow is frozen at the branch the
example took, as in PyTorch's trace. Replaying dispatches the same ops, so autograd, devices and
in-place ops work as in eager code.
"""
import copy
import warnings

import numpy as np

from .. import _dispatch
from .._tensor import Tensor
from ._script import ScriptFunction


# > 0 while a traced function records again for new input shapes: no TracerWarnings then
quiet = [0]


class TracerWarning(Warning):
    """The traced code did something a trace cannot capture faithfully."""


class _Step:
    __slots__ = ('op', 'args', 'outputs', 'inplace', 'name')

    def __init__(self, op, args, inplace):
        self.op, self.args, self.inplace = op, args, inplace
        self.name = _dispatch._op_name(op)
        self.outputs = ()


class _Recorder:
    """Dispatcher observer: values are numbered as they appear (inputs first).

    A tensor the traced code makes with a factory (zeros, full, rand...: not a dispatched op)
    is a constant of the trace. Its value at its first use is kept, and each replay starts from
    a fresh copy of it, as each eager call makes a fresh tensor: the code may write into it in
    place (MultiheadAttention fills a mask it made), and a replay writing into the one tensor
    kept would carry one call's writes into the next."""

    def __init__(self, inputs):
        self.value_of = {}          # id(tensor) -> value number
        self.keep = list(inputs)    # every tensor seen stays alive, so ids are never reused
        self.steps = []
        self.outside = []           # tensors from outside the graph, by position
        self.outside_of = {}
        self.made = set()           # ids of the tensors factories made during the trace
        self.fresh = {}             # outside position -> its value at first use (made tensors)
        self.count = 0              # values so far (an in-place op's result is a new value)
        for x in inputs:
            self.value_of[id(x)] = self._new_value()

    # -- factory calls (nbgrad/_profiled_calls.py) -------------------------------------------
    def composite_started(self, name, args):
        return None

    def composite_finished(self, token, out):
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, Tensor) and id(t) not in self.value_of and \
                    id(t) not in self.outside_of:
                self.made.add(id(t))
                self.keep.append(t)

    def _new_value(self):
        self.count += 1
        return self.count - 1

    def _ref(self, x):
        if isinstance(x, Tensor):
            number = self.value_of.get(id(x))
            if number is not None:
                return ('value', number)
            position = self.outside_of.get(id(x))
            if position is None:
                position = self.outside_of[id(x)] = len(self.outside)
                self.outside.append(x)
                self.keep.append(x)
                if id(x) in self.made:      # (copied raw: a dispatched copy would be a step)
                    self.fresh[position] = Tensor._make(x._data.copy())
            return ('outside', position)
        return ('literal', x)

    def op_started(self, op, inputs):
        return _Step(copy.copy(op), [self._ref(x) for x in inputs], False), inputs

    def op_finished(self, token, outputs):
        step, inputs = token
        results = outputs if isinstance(outputs, tuple) else (outputs,)
        step.inplace = bool(inputs) and results[0] is inputs[0] and not step.op.is_view
        numbers = []
        for t in results:
            if isinstance(t, Tensor):
                self.keep.append(t)
                number = self.value_of[id(t)] = self._new_value()
                numbers.append(number)
            else:
                numbers.append(None)
        step.outputs = tuple(numbers)
        self.steps.append(step)


def signature(inputs):
    """What a recording is specialised to: each input's shape, dtype and device."""
    return tuple((tuple(x.shape), x.dtype, str(x.device)) for x in inputs)


class _Recording:
    """One trace: the steps, the tensors they read from outside, how to build the result."""

    def __init__(self, steps, outside, output_spec, fresh=None):
        self.steps, self.outside, self.output_spec = steps, outside, output_spec
        # {outside position: its value at first use}: a tensor the code made, which each
        # replay takes a fresh copy of (see _Recorder)
        self.fresh = fresh or {}


class TracedFunction(ScriptFunction):
    """A traced function: calling it replays the recorded ops on new inputs.

    A recording holds what the ops were built with (reshape targets, the sizes of buffers the
    code made, like a dropout mask's), so it serves inputs of the shapes, dtypes and devices it
    was recorded with. Inputs of another signature are traced again from the original code (and
    that recording kept): never a replay of ops shaped for other inputs. PyTorch's trace instead
    replays one graph for every shape where its ops allow it. A function loaded by jit.load has
    no code to trace again: it serves the signatures it was saved with (see _archive.py)."""

    def __init__(self, fn, recording, example_inputs, arg_names=None):
        self._fn = fn
        self._n_inputs = len(example_inputs)
        self._example_shapes = [tuple(x.shape) for x in example_inputs]
        self._recordings = {signature(example_inputs): recording}
        self._first = recording
        self._arg_names = arg_names     # the inputs' parameter names, for keyword calls
        self.__name__ = getattr(fn, '__name__', 'traced')

    def __call__(self, *inputs, **kw_inputs):
        if kw_inputs:
            inputs = self._bind(inputs, kw_inputs)
        inputs = _tensors(inputs, 'the traced function')
        if len(inputs) != self._n_inputs:
            raise TypeError(f'{self.__name__}() was traced with {self._n_inputs} tensor inputs, '
                            f'got {len(inputs)}')
        key = signature(inputs)
        recording = self._recordings.get(key)
        if recording is None:
            if self._fn is None:
                raise RuntimeError(self._no_recording_message(key))
            # quiet: TracerWarnings were given when it was traced (catch_warnings would reset
            # Python's memory of warnings shown once, which would then show again)
            quiet[0] += 1
            try:
                recording = self._recordings[key] = _record(self._fn, inputs)[0]
            finally:
                quiet[0] -= 1
        return _replay(recording, inputs)

    def _bind(self, inputs, kw_inputs):
        names = self._arg_names or ()
        unknown = [k for k in kw_inputs if k not in names[len(inputs):]]
        if unknown:
            raise TypeError(f'{self.__name__}() got an unexpected keyword argument '
                            f'{unknown[0]!r} (its traced inputs are {list(names)})')
        missing = [k for k in names[len(inputs):] if k not in kw_inputs]
        if missing:
            raise TypeError(f'{self.__name__}() missing the traced input {missing[0]!r}')
        return tuple(inputs) + tuple(kw_inputs[k] for k in names[len(inputs):])

    def _no_recording_message(self, key):
        def describe(sig):
            return ', '.join(f'{list(shape)} {dtype} on {device}' for shape, dtype, device in sig)
        known = '; '.join(f'({describe(k)})' for k in self._recordings)
        return (f'{self.__name__}() was loaded by jit.load with recordings for inputs {known}, '
                f'not for ({describe(key)}). nbgrad\'s recordings are specialised to their '
                f'inputs\' shapes and the code is not in the archive, so it cannot be traced '
                f'again: before saving, trace with check_inputs=[...] (or call the traced model) '
                f'on an example of every shape you need.')


def _replay(recording, inputs, values=None):
    """Run the recording on inputs; `values` (a list), if given, receives every value."""
    values = [] if values is None else values
    values.extend(inputs)
    outside = recording.outside
    if recording.fresh:
        outside = list(outside)
        for i, first in recording.fresh.items():
            outside[i] = Tensor._make(first._data.copy())
    for step in recording.steps:
        args = [values[ref] if kind == 'value' else
                (outside[ref] if kind == 'outside' else ref)
                for kind, ref in step.args]
        op = copy.copy(step.op)
        if step.inplace:
            out = _dispatch.dispatch_inplace(op, *args)
        else:
            out = _dispatch.dispatch(op, *args)
        results = out if isinstance(out, tuple) else (out,)
        for number, t in zip(step.outputs, results):
            if number is not None:
                while len(values) <= number:
                    values.append(None)
                values[number] = t
    return _rebuild(recording.output_spec, values, outside)


def _graph_of(traced):
    names = getattr(traced, '_names', {})
    outside = [names.get(id(t)) for t in traced._first.outside]
    return _Graph(traced._first, traced._n_inputs, traced._example_shapes, outside)


TracedFunction.graph = property(_graph_of, doc='The first recording, printed as a graph.')
TracedFunction.code = property(lambda self: _graph_of(self).code())


class _Graph:
    """The recorded ops, printed in the spirit of TorchScript's IR."""

    def __init__(self, recording, n_inputs, shapes, outside_names):
        self.steps, self.n_inputs, self.shapes = recording.steps, n_inputs, shapes
        self.output_spec = recording.output_spec
        self.outside_names = outside_names      # a parameter's or buffer's name, else None

    def nodes(self):
        return [step.name for step in self.steps]

    def _arg(self, kind, ref, prefix='%'):
        if kind == 'value':
            return f'{prefix}{ref}'
        if kind == 'outside':
            name = self.outside_names[ref]
            return f'{prefix}self.{name}' if name else f'{prefix}const{ref}'
        return repr(ref)

    def _returned(self, spec, prefix):
        kind, body = spec
        if kind in ('value', 'outside'):
            return self._arg(kind, body, prefix)
        items = body.items() if kind is dict else enumerate(body)
        parts = [(f'{k!r}: ' if kind is dict else '') + self._returned(v, prefix)
                 for k, v in items]
        return ('{%s}' if kind is dict else '(%s)') % ', '.join(parts)

    def __str__(self):
        header = ', '.join(f'%{i} : Tensor{list(s)}' for i, s in enumerate(self.shapes))
        lines = [f'graph({header}):']
        for step in self.steps:
            outs = ', '.join(f'%{n}' for n in step.outputs if n is not None) or '_'
            args = ', '.join(self._arg(k, r) for k, r in step.args)
            suffix = '_' if step.inplace else ''
            lines.append(f'  {outs} = aten::{step.name}{suffix}({args})')
        lines.append(f'  return {self._returned(self.output_spec, "%")}')
        return '\n'.join(lines)

    def code(self):
        params = ', '.join(f'x{i}' for i in range(self.n_inputs))
        lines = [f'def forward({params}):']
        for step in self.steps:
            outs = ', '.join(f'x{n}' for n in step.outputs if n is not None) or '_'
            args = ', '.join(self._arg(k, r, 'x' if k == 'value' else '') for k, r in step.args)
            lines.append(f'    {outs} = {step.name}{"_" if step.inplace else ""}({args})')
        lines.append(f'    return {self._returned(self.output_spec, "x")}')
        return '\n'.join(lines)

    __repr__ = __str__


def _tensors(inputs, what):
    if len(inputs) == 1 and isinstance(inputs[0], tuple):
        inputs = inputs[0]
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f'{what} takes tensors as inputs (nbgrad traces tensor inputs '
                            f'only), got {type(x).__name__}')
    return tuple(inputs)


def _spec(result, recorder):
    """How the traced function's result is built from graph values."""
    if isinstance(result, Tensor):
        number = recorder.value_of.get(id(result))
        return ('value', number) if number is not None else ('outside', recorder._ref(result)[1])
    if isinstance(result, (tuple, list)):
        return (type(result), [_spec(r, recorder) for r in result])
    if isinstance(result, dict):
        return (dict, {k: _spec(v, recorder) for k, v in result.items()})
    raise RuntimeError(f'the traced function returned a {type(result).__name__}: a trace can '
                       f'return tensors, and tuples, lists or dicts of tensors (as in PyTorch)')


def _rebuild(spec, values, outside):
    kind, body = spec
    if kind == 'value':
        return values[body]
    if kind == 'outside':
        return outside[body]
    if kind is dict:
        return {k: _rebuild(v, values, outside) for k, v in body.items()}
    return kind(_rebuild(s, values, outside) for s in body)


def record(fn, inputs, arg_names=None):
    """Trace fn on inputs: (TracedFunction, the eager result)."""
    recording, result = _record(fn, inputs)
    return TracedFunction(fn, recording, inputs, arg_names), result


def _record(fn, inputs):
    """Run fn(*inputs) under the recorder: (_Recording, the eager result)."""
    from .. import random as _random
    recorder = _Recorder(inputs)
    state = _random.get_rng_state()
    remove = _dispatch.add_observer(recorder)
    try:
        result = fn(*inputs)
    finally:
        remove()
    # (compared as arrays: a tensor-to-Python conversion while tracing warns TracerWarning)
    if not np.array_equal(_random.get_rng_state().numpy(), state.numpy()) and not quiet[0]:
        warnings.warn('the traced code drew random numbers: ops nbgrad replays (dropout...) draw '
                      'again at each call, but random tensors the code made itself '
                      '(torch.rand...) are replayed as the values drawn while tracing',
                      TracerWarning, stacklevel=3)
    return _Recording(recorder.steps, recorder.outside, _spec(result, recorder),
                      recorder.fresh), result
