"""torch.compile and torch.compiler, as nbgrad can have them: there is no compiler, so a
"compiled" model or function runs eagerly, giving the same numbers (as PyTorch's backend='eager'
does). A module comes back wrapped as PyTorch wraps it, an OptimizedModule holding the model as
`_orig_mod`, so state_dict keys ('_orig_mod.weight') and checkpoints match PyTorch's."""
import functools

from .nn.modules.module import Module

__all__ = ['compile', 'disable', 'reset', 'is_compiling', 'is_dynamo_compiling',
           'is_exporting', 'list_backends', 'allow_in_graph', 'assume_constant_result',
           'OptimizedModule', 'set_stance', 'cudagraph_mark_step_begin', 'substitute_in_graph',
           'wrap_numpy', 'nested_compile_region']

_MODES = ('default', 'lite', 'reduce-overhead', 'max-autotune-no-cudagraphs', 'max-autotune')


class OptimizedModule(Module):
    """A compiled module: calls `_orig_mod`; reads and writes other attributes through to it,
    and len() too, as PyTorch's wrapper does (indexing is not passed through there either)."""

    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod
        self.training = mod.training

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __len__(self):
        if not hasattr(self._orig_mod, '__len__'):
            raise TypeError(f'{type(self._orig_mod).__name__} does not support len()')
        return len(self._orig_mod)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules['_orig_mod'], name)

    def __setattr__(self, name, value):
        # the wrapper's own state (Module's tables, _orig_mod, training) stays on it
        if name.startswith('_') or name == 'training' or hasattr(type(self), name) or \
                '_orig_mod' not in self.__dict__.get('_modules', {}):
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """PyTorch's torch.compile arguments and checks; the result runs eagerly (module docstring).
    Without a model, a decorator."""
    if mode is not None and options is not None:
        raise RuntimeError('Either mode or options can be specified, but both can\'t be '
                           'specified at the same time.')
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f'Unrecognized mode={mode}, should be one of: {", ".join(_MODES)}')
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, name=name,
                                 disable=disable, recompile_limit=recompile_limit,
                                 isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
    if not callable(model):
        raise AssertionError(f'A callable function is expected, but {type(model)} is provided.')
    from ._dynamo import check_backend
    check_backend('inductor' if backend is None else backend)
    if isinstance(model, Module):
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return model(*args, **kwargs)
    return compiled


def disable(fn=None, recursive=True, *, reason=None):
    """Run fn without compiling it: what every nbgrad function does."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    return fn


def reset():
    """Clear compiled code: nbgrad keeps none."""


def is_compiling():
    return False


def is_dynamo_compiling():
    return False


def is_exporting():
    return False


def list_backends(exclude_tags=('debug', 'experimental')):
    """The backend names torch.compile accepts (as PyTorch lists them); each runs eagerly."""
    from ._dynamo import list_backends
    return list_backends(exclude_tags)


class set_stance:
    """torch.compiler.set_stance(stance): how compiled code should run; here it always runs
    eagerly, whatever the stance. A function, a context manager and a decorator."""
    _STANCES = ('default', 'force_eager', 'eager_on_recompile', 'fail_on_recompile',
                'eager_then_compile', 'aot_eager_then_compile')

    def __init__(self, stance='default', *, skip_guard_eval_unsafe=False, force_backend=None):
        if stance not in self._STANCES:
            raise RuntimeError(f'invalid torch.compile stance {stance!r}')
        self.stance = stance

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


def cudagraph_mark_step_begin():
    """Marks a new iteration for CUDA graph trees: nbgrad records no CUDA graphs."""


def substitute_in_graph(original_fn, *, can_constant_fold_through=False,
                        skip_signature_check=False):
    """Register a traceable stand-in for original_fn: nothing traces here, so original_fn
    stays what runs."""
    def decorate(fn):
        return fn
    return decorate


def wrap_numpy(fn):
    """fn takes and returns NumPy arrays; the wrapper takes and returns tensors."""
    import numpy as np
    from ._tensor import Tensor
    from ._creation import from_numpy

    @functools.wraps(fn)
    def call(*args, **kwargs):
        as_arrays = [a.numpy(force=True) if isinstance(a, Tensor) else a for a in args]
        out = fn(*as_arrays, **kwargs)
        if isinstance(out, np.ndarray):
            return from_numpy(out)
        if isinstance(out, tuple):
            return tuple(from_numpy(o) if isinstance(o, np.ndarray) else o for o in out)
        return out
    return call


def nested_compile_region(fn=None):
    """Marks a region compiled once and reused: it runs as it is."""
    return fn if fn is not None else (lambda f: f)


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn
