"""torch.jit: trace() turns code into a static graph; script() runs code as it is.

trace(fn or module, example_inputs) runs the code once, records the ops it dispatches and
returns a callable that replays them (see _trace.py): the graph is fixed, Python's control flow
frozen at the example's branches, printable (`.graph`, `.code`), and differentiable like eager
code. nbgrad has no TorchScript compiler, so script() returns the code itself, run eagerly (the
same results, none of TorchScript's type checks), and save()/load() of TorchScript archives are
not provided: save a state_dict with nbgrad.save instead.
"""
import contextlib
import warnings

import numpy as np

from .._tensor import Tensor
from ._trace import TracedFunction, TracerWarning, record  # noqa: F401 (TracedFunction)

__all__ = ['trace', 'trace_module', 'script', 'TracedModule', 'TracerWarning', 'ignore',
           'unused', 'export', 'is_scripting', 'is_tracing', 'annotate', 'save', 'load']

_tracing = [0]


def is_tracing():
    return _tracing[0] > 0


def is_scripting():
    return False


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore: nothing to ignore without a compiler."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def annotate(the_type, the_value):
    return the_value


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


def _check(traced, inputs, expected, tolerance):
    """check_trace: the replay on the example inputs must give the eager result."""
    got = traced(*inputs)
    flat_expected, flat_got = _flatten(expected), _flatten(got)
    for i, (a, b) in enumerate(zip(flat_expected, flat_got)):
        a, b = a.detach().cpu().numpy(), b.detach().cpu().numpy()
        if a.shape != b.shape or not np.allclose(a, b, rtol=tolerance, atol=tolerance,
                                                 equal_nan=True):
            warnings.warn(f'Output nr {i + 1}. of the traced function does not match the '
                          f'corresponding output of the Python function: the traced code '
                          f'depends on something a trace cannot record', TracerWarning,
                          stacklevel=3)


def _flatten(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [t for item in value for t in _flatten(item)]


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Record func (a function, or a Module's forward) on example_inputs as a static graph."""
    from ..nn import Module
    if example_kwarg_inputs is not None:
        raise NotImplementedError('trace(example_kwarg_inputs=...) is not supported: pass the '
                                  'inputs positionally')
    inputs = _as_tuple(example_inputs)
    if isinstance(func, Module):
        return trace_module(func, {'forward': inputs}, check_trace=check_trace,
                            check_tolerance=check_tolerance)
    with _tracing_scope():
        traced, result = record(func, inputs)
    if check_trace:
        _check(traced, inputs, result, check_tolerance)
    return traced


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
                 _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    """Trace the module's methods named in `inputs` ({name: example inputs}); a TracedModule."""
    methods = {}
    names = {id(t): name for name, t in [*mod.named_parameters(), *mod.named_buffers()]}
    for name, example in inputs.items():
        example = _as_tuple(example)
        method = mod if name == 'forward' else getattr(mod, name)
        with _tracing_scope():
            traced, result = record(method, example)
        if check_trace:
            _check(traced, example, result, check_tolerance)
        traced._names = names       # (for printing the graph with parameter names)
        methods[name] = traced
    return TracedModule(mod, methods)


def _traced_module_class():
    from ..nn import Module

    class TracedModule(Module):
        """A module whose methods replay their traces; it shares the original's parameters,
        buffers and submodules (the same state_dict keys, trained by the same optimizer)."""

        def __init__(self, original, methods):
            super().__init__()
            self.__dict__['_parameters'] = original._parameters
            self.__dict__['_buffers'] = original._buffers
            self.__dict__['_modules'] = original._modules
            self.__dict__['_traced_methods'] = methods
            self.__dict__['original_name'] = type(original).__name__
            self.training = original.training

        def forward(self, *inputs):
            return self._traced_methods['forward'](*inputs)

        def __getattr__(self, name):
            methods = self.__dict__.get('_traced_methods', {})
            if name in methods and name != 'forward':
                return methods[name]
            return super().__getattr__(name)

        @property
        def graph(self):
            return self._traced_methods['forward'].graph

        @property
        def code(self):
            return self._traced_methods['forward'].code

        def _get_name(self):
            return self.original_name

    return TracedModule


TracedModule = _traced_module_class()

_warned_script = [False]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """TorchScript compiles Python; nbgrad has no compiler, so obj runs as it is (eagerly, with
    the same results). Use trace() for a recorded static graph."""
    if not _warned_script[0]:
        _warned_script[0] = True
        warnings.warn('nbgrad.jit.script returns the code unchanged and runs it eagerly (nbgrad '
                      'has no TorchScript compiler); jit.trace records a static graph.',
                      stacklevel=2)
    return obj


def save(m, f, _extra_files=None):
    raise NotImplementedError('nbgrad.jit.save: nbgrad cannot write TorchScript archives; save '
                              'the weights with nbgrad.save(model.state_dict(), f) and rebuild '
                              'the model in Python.')


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    raise NotImplementedError('nbgrad.jit.load: nbgrad cannot run TorchScript archives (they '
                              'hold TorchScript code); load a state_dict with nbgrad.load.')


