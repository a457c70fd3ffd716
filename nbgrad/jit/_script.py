"""The kinds of object torch.jit hands out, and script().

PyTorch's jit returns ScriptModules (modules whose methods are TorchScript) and ScriptFunctions.
nbgrad keeps those names as base classes, so that `isinstance(m, torch.jit.ScriptModule)` in
deployment code answers as in PyTorch:

- TracedModule (jit.trace of a module) and RecursiveScriptModule (jit.script of a module, and
  what jit.load returns) are ScriptModules; both share the original module's parameters,
  buffers and submodules (the same state_dict keys, trained by the same optimizer).
- TracedFunction (jit.trace of a function, _trace.py) and ScriptedFunction (jit.script of a
  function) are ScriptFunctions.

nbgrad has no TorchScript compiler: a scripted module or function runs its Python code eagerly
(the same results, none of TorchScript's type checks). Its `.code` is the Python source of
forward; it has no graph (`.graph` says so and points to jit.trace, which records one).
"""
import functools
import inspect
import warnings

from ..nn import Module


class ScriptFunction:
    """Base of what jit.trace and jit.script return for a plain function."""

    @property
    def name(self):
        return self.__name__

    @property
    def qualified_name(self):
        return f'__torch__.{self.__name__}'

    def save(self, f, _extra_files=None):
        from ._archive import save
        save(self, f, _extra_files)


class ScriptModule(Module):
    """Base of the modules jit.trace, jit.script and jit.load return (a Module too). Subclass it
    as in PyTorch's old API; nbgrad runs the subclass's forward eagerly."""

    @property
    def original_name(self):
        return self.__dict__.get('_original_name', type(self).__name__)

    @property
    def code(self):
        return _source_of(type(self).forward)

    @property
    def graph(self):
        return NoGraph(type(self).__name__)

    def save(self, f, _extra_files=None):
        from ._archive import save
        save(self, f, _extra_files)

    def _get_name(self):
        return self.original_name

    # a scripted, traced or loaded Sequential / ModuleList / ModuleDict indexes like one
    def _container(self):
        if self.original_name in ('Sequential', 'ModuleList', 'ModuleDict'):
            return self._modules
        raise TypeError(f"'{self.original_name}' object is not subscriptable")

    def __getitem__(self, index):
        modules = self._container()
        if self.original_name == 'ModuleDict':
            return modules[index]
        return list(modules.values())[index]

    def __len__(self):
        return len(self._container())

    def __iter__(self):
        modules = self._container()
        return iter(modules if self.original_name == 'ModuleDict' else modules.values())

    def __contains__(self, key):
        return key in self._container()

    def __bool__(self):
        return True


class NoGraph:
    """What `.graph` is for code nbgrad runs eagerly: it prints why there is no graph."""

    def __init__(self, what):
        self.what = what

    def __str__(self):
        return (f'# {self.what}: no graph. nbgrad.jit.script runs Python eagerly (nbgrad has no '
                f'TorchScript compiler); jit.trace(model, example_inputs) records a graph.')

    __repr__ = __str__


def _source_of(fn):
    try:
        return inspect.getsource(inspect.unwrap(fn))
    except (OSError, TypeError):
        return f'# the source of {getattr(fn, "__qualname__", fn)!r} is not available'


def _share_state(module, original):
    """`module` reads and writes the original's parameters, buffers and submodules."""
    for registry in ('_parameters', '_buffers', '_modules', '_non_persistent_buffers_set'):
        module.__dict__[registry] = original.__dict__[registry]
    module.__dict__['training'] = original.training


class TracedModule(ScriptModule):
    """A module whose methods replay their traces (TracedFunctions, by method name)."""

    def __init__(self, original, methods):
        super().__init__()
        _share_state(self, original)
        self.__dict__['_traced_methods'] = methods
        self.__dict__['_original_name'] = getattr(original, 'original_name',
                                                  type(original).__name__)

    def forward(self, *inputs, **kw_inputs):
        return self._traced_methods['forward'](*inputs, **kw_inputs)

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


class RecursiveScriptModule(ScriptModule):
    """jit.script(module): the module's own code, run eagerly. Attributes and methods not found
    here are the original's (so `scripted.some_method()` works as in PyTorch)."""

    def __init__(self, original=None):
        super().__init__()
        if original is not None:
            _share_state(self, original)
            self.__dict__['_eager'] = original
            self.__dict__['_original_name'] = type(original).__name__

    def forward(self, *args, **kwargs):
        eager = self.__dict__.get('_eager')
        if eager is None:
            raise RuntimeError(f'{self.original_name}: this module has no forward of its own')
        return eager(*args, **kwargs)

    def train(self, mode=True):
        super().train(mode)
        eager = self.__dict__.get('_eager')
        if eager is not None:      # its forward reads its own `training` flag
            object.__setattr__(eager, 'training', mode)
        return self

    def __getattr__(self, name):
        eager = self.__dict__.get('_eager')
        try:
            return super().__getattr__(name)
        except AttributeError:
            if eager is None:
                raise
            return getattr(eager, name)

    @property
    def code(self):
        eager = self.__dict__.get('_eager')
        return _source_of(type(eager).forward) if eager is not None else super().code

    @property
    def graph(self):
        return NoGraph(f'scripted {self.original_name}')


class ScriptedFunction(ScriptFunction):
    """jit.script(function): the function itself, run eagerly."""

    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self._fn = fn

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    @property
    def code(self):
        return _source_of(self._fn)

    @property
    def graph(self):
        return NoGraph(f'scripted function {self.__name__}')

    def save(self, f, _extra_files=None):
        raise RuntimeError(f'nbgrad.jit.save cannot save the scripted function '
                           f'{self.__name__!r}: nbgrad runs scripted code as Python and its '
                           f'archives hold data, never code. Trace it instead: '
                           f'jit.save(jit.trace({self.__name__}, example_inputs), f).')

    def __repr__(self):
        return f'<nbgrad.jit.ScriptFunction {self.__name__} (eager)>'


_warned_script = [False]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """TorchScript compiles Python; nbgrad has no compiler, so a scripted module or function
    runs its code as it is (eagerly, with the same results), wrapped as a ScriptModule or
    ScriptFunction (`.code`, `.save`, `original_name`). Use trace() for a recorded graph."""
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj                      # (scripting twice is a no-op in PyTorch too)
    if not _warned_script[0]:
        _warned_script[0] = True
        warnings.warn('nbgrad.jit.script runs the code unchanged and eagerly (nbgrad has no '
                      'TorchScript compiler); jit.trace records a static graph.', stacklevel=2)
    if isinstance(obj, Module):
        return RecursiveScriptModule(obj)
    if isinstance(obj, type) or not callable(obj):
        return obj          # a TorchScript class or a container: used as Python
    return ScriptedFunction(obj)


def script_method(fn):
    """@torch.jit.script_method (the old ScriptModule API): the method, run as Python."""
    return fn
