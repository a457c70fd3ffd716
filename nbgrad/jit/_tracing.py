"""jit.trace and jit.trace_module: record code on example inputs (the recorder is _trace.py).

Example inputs come positionally (a tensor or a tuple) or by name (example_kwarg_inputs, a
dict, put in the order of the function's parameters as PyTorch does); the traced callable then
takes its inputs either way. check_inputs are replayed against the eager code like the example;
each one of a new shape also leaves its recording in the traced object (which jit.save keeps).
"""
import contextlib
import inspect
import warnings

import numpy as np

from .._tensor import Tensor
from ._script import TracedModule
from ._trace import TracerWarning, record

from .._tensor import tracing_depth as _tracing   # (the engine's conversions warn while > 0)


def is_tracing():
    return _tracing[0] > 0


@contextlib.contextmanager
def _tracing_scope():
    _tracing[0] += 1
    try:
        yield
    finally:
        _tracing[0] -= 1


def _as_tuple(example_inputs):
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    raise TypeError(f'trace(): example_inputs must be a tensor or a tuple of tensors, got '
                    f'{type(example_inputs).__name__}')


def _parameter_names(fn):
    """The names of fn's leading positional parameters (None when it has no signature)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    names = []
    for p in parameters:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return tuple(names)


def _inputs_and_names(fn, example_inputs, example_kwarg_inputs):
    names = _parameter_names(fn)
    if example_kwarg_inputs is None:
        inputs = _as_tuple(example_inputs)
        return inputs, (names[:len(inputs)] if names and len(names) >= len(inputs) else None)
    if not isinstance(example_kwarg_inputs, dict):
        raise TypeError(f'trace(): example_kwarg_inputs must be a dict of tensors by parameter '
                        f'name, got {type(example_kwarg_inputs).__name__}')
    if example_inputs is not None:
        raise ValueError('trace(): give example_inputs or example_kwarg_inputs, not both')
    if names is None:
        raise ValueError('trace(example_kwarg_inputs=...): the traced function has no '
                         'signature to order the inputs by; pass them positionally')
    unknown = [k for k in example_kwarg_inputs if k not in names]
    if unknown:
        raise TypeError(f'trace(): example_kwarg_inputs names {unknown[0]!r}, which is not a '
                        f'positional parameter of the traced function {list(names)}')
    used = names[:max(names.index(k) for k in example_kwarg_inputs) + 1]
    missing = [k for k in used if k not in example_kwarg_inputs]
    if missing:
        raise ValueError(f'trace(example_kwarg_inputs=...): nbgrad traces a leading run of '
                         f'parameters, and {missing[0]!r} is missing before '
                         f'{used[-1]!r}; give it an example too')
    return tuple(example_kwarg_inputs[k] for k in used), used


def _check(traced, inputs, expected, tolerance):
    """check_trace: the replay on the inputs must give the eager result."""
    got = traced(*inputs)
    flat_expected, flat_got = _flatten(expected), _flatten(got)
    for i, (a, b) in enumerate(zip(flat_expected, flat_got)):
        a, b = a.detach().cpu().numpy(), b.detach().cpu().numpy()
        if a.shape != b.shape or not np.allclose(a, b, rtol=tolerance, atol=tolerance,
                                                 equal_nan=True):
            warnings.warn(f'Output nr {i + 1}. of the traced function does not match the '
                          f'corresponding output of the Python function: the traced code '
                          f'depends on something a trace cannot record', TracerWarning,
                          stacklevel=4)


def _check_more(traced, fn, check_inputs, tolerance):
    for inputs in check_inputs or ():
        inputs = _as_tuple(inputs)
        _check(traced, inputs, fn(*inputs), tolerance)


def _flatten(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [t for item in value for t in _flatten(item)]


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Record func (a function, or a Module's forward) on example inputs as a static graph."""
    from ..nn import Module
    if isinstance(func, Module):
        inputs, names = _inputs_and_names(func.forward, example_inputs, example_kwarg_inputs)
        checks = None if check_inputs is None else [{'forward': c} for c in check_inputs]
        return _trace_methods(func, {'forward': (inputs, names)}, check_trace, checks,
                              check_tolerance)
    inputs, names = _inputs_and_names(func, example_inputs, example_kwarg_inputs)
    with _tracing_scope():
        traced, result = record(func, inputs, names)
    if check_trace:
        _check(traced, inputs, result, check_tolerance)
    _check_more(traced, func, check_inputs, check_tolerance)
    return traced


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
                 _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    """Trace the module's methods named in `inputs` ({name: example inputs}); a TracedModule.
    check_inputs: a list of such dicts."""
    examples = {}
    for name, example in inputs.items():
        method = getattr(mod, name)
        if example_inputs_is_kwarg:
            examples[name] = _inputs_and_names(method, None, example)
        else:
            examples[name] = _inputs_and_names(method, example, None)
    return _trace_methods(mod, examples, check_trace, check_inputs, check_tolerance)


def _trace_methods(mod, examples, check_trace, check_inputs, check_tolerance):
    methods = {}
    names = {id(t): name for name, t in [*mod.named_parameters(), *mod.named_buffers()]}
    for name, (example, arg_names) in examples.items():
        method = mod if name == 'forward' else getattr(mod, name)
        with _tracing_scope():
            traced, result = record(method, example, arg_names)
        if check_trace:
            _check(traced, example, result, check_tolerance)
        _check_more(traced, method, [c[name] for c in check_inputs or () if name in c],
                    check_tolerance)
        traced._names = names       # (for printing the graph with parameter names)
        methods[name] = traced
    return TracedModule(mod, methods)
