"""The rest of torch.jit's surface, as it behaves for code that runs eagerly.

Annotations (Final, Attribute, interface) and decorators (script_if_tracing) change nothing
when nothing is compiled. fork() runs its function at once, as PyTorch's fork does outside
TorchScript, and wait() returns the result. freeze() and optimize_for_inference() have no graph
to rewrite in nbgrad: they check their input as PyTorch does and return the module itself
(frozen means eval mode; the parameters stay parameters). The fusion switches only record
their setting: nbgrad has no fuser (its GPU kernels are fused by hand, see _cuda_kernels.py).
"""
import builtins
import collections.abc
import functools
import types
import typing

from ._script import ScriptModule

Final = typing.Final      # (torch.jit.Final is typing.Final)


class Attribute(collections.namedtuple('Attribute', ['value', 'type'])):
    """torch.jit.Attribute(value, type): in eager code, the value."""
    __slots__ = ()


def interface(obj):
    """@torch.jit.interface: a class of method signatures; nothing to check eagerly."""
    return obj


def script_if_tracing(fn):
    """Script fn only when called while tracing: nbgrad's script runs code eagerly either way,
    so fn runs as it is."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    wrapper.__original_fn = fn
    return wrapper


# ------------------------------------------------------------------------------------------------
# isinstance with typing's container annotations
# ------------------------------------------------------------------------------------------------

_CONTAINERS = {list: list, dict: dict, tuple: tuple, typing.List: list, typing.Dict: dict,
               typing.Tuple: tuple}


def isinstance(obj, target_type):
    """torch.jit.isinstance: isinstance that also checks the contents of List[T], Dict[K, V],
    Tuple[...] and Optional/Union annotations (an empty container matches any content)."""
    if builtins.isinstance(target_type, tuple):
        return any(isinstance(obj, t) for t in target_type)
    if target_type in _CONTAINERS:
        name = _CONTAINERS[target_type].__name__
        raise RuntimeError(f'Attempted to use {name} without a contained type. Please add a '
                           f'contained type, e.g. {name}[int]')
    origin = typing.get_origin(target_type)
    args = typing.get_args(target_type)
    if origin is None:
        if not builtins.isinstance(target_type, type):
            raise RuntimeError('The second argument to `torch.jit.isinstance` must be a type or '
                               'a tuple of types')
        return builtins.isinstance(obj, target_type)
    if origin is typing.Union or origin is types.UnionType:
        return any(isinstance(obj, t) for t in args)
    if origin in (list, collections.abc.Sequence):
        return builtins.isinstance(obj, list) and all(isinstance(x, args[0]) for x in obj)
    if origin is dict:
        return builtins.isinstance(obj, dict) and all(
            isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        if not builtins.isinstance(obj, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(isinstance(x, args[0]) for x in obj)
        return len(obj) == len(args) and all(isinstance(x, t) for x, t in zip(obj, args))
    return builtins.isinstance(obj, origin)


# ------------------------------------------------------------------------------------------------
# fork / wait
# ------------------------------------------------------------------------------------------------

class Future:
    """torch.jit.Future: here always done, since fork() runs its function at once."""

    def __init__(self, value=None):
        self._value = value

    def done(self):
        return True

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def then(self, callback):
        return Future(callback(self))

    def add_done_callback(self, callback):
        callback(self)

    def __repr__(self):
        return f'Future(done, value={self._value!r})'


def fork(func, *args, **kwargs):
    """Run func(*args, **kwargs) now and return a Future holding its result (as PyTorch's fork
    outside TorchScript; its exceptions are raised here)."""
    return Future(func(*args, **kwargs))


def wait(future):
    if not builtins.isinstance(future, Future):
        raise TypeError(f'wait(): expected a Future returned by torch.jit.fork, got '
                        f'{type(future).__name__}')
    return future.wait()


# ------------------------------------------------------------------------------------------------
# freeze / optimize_for_inference / fusion switches
# ------------------------------------------------------------------------------------------------

def _require_script_module(mod, what):
    if not builtins.isinstance(mod, ScriptModule):
        raise RuntimeError(f"{what} expects a ScriptModule as input. Please use "
                           f"torch.jit.script or torch.jit.trace to script your 'nn.Module'.")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """PyTorch inlines a ScriptModule's weights into its graph. nbgrad has no graph compiler:
    it checks the module (a ScriptModule in eval mode, as PyTorch requires) and returns it."""
    _require_script_module(mod, 'Freezing')
    if mod.training:
        raise RuntimeError('Freezing is currently only implemented for modules in eval mode. '
                           'Please call .eval() on your module before freezing.')
    return mod


def optimize_for_inference(mod, other_methods=None):
    """PyTorch freezes the module and rewrites its graph for inference; nbgrad returns the
    module, in eval mode."""
    _require_script_module(mod, 'optimize_for_inference')
    return mod.eval() if mod.training else mod


_fusion_strategy = [[('STATIC', 2), ('DYNAMIC', 10)]]      # PyTorch's default
_onednn_fusion = [False]


def set_fusion_strategy(strategy):
    """Record the fuser's specialisation strategy ([('STATIC' | 'DYNAMIC', depth)...]); returns
    the previous one. nbgrad has no fuser, so nothing else changes."""
    if builtins.isinstance(strategy, (str, bytes)) or not builtins.isinstance(
            strategy, collections.abc.Sequence):
        raise TypeError(f'set_fusion_strategy(): expected a list of (str, int) pairs, got '
                        f'{type(strategy).__name__}')
    checked = []
    for item in strategy:
        if not (builtins.isinstance(item, (tuple, list)) and len(item) == 2
                and builtins.isinstance(item[1], int)):
            raise TypeError(f'set_fusion_strategy(): expected (str, int) pairs, got {item!r}')
        if item[0] not in ('STATIC', 'DYNAMIC'):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: "
                             f"{item[0]}")
        checked.append((item[0], int(item[1])))
    previous, _fusion_strategy[0] = _fusion_strategy[0], checked
    return previous


def enable_onednn_fusion(enabled):
    """Record the oneDNN-graph fusion switch (nbgrad has no oneDNN path)."""
    _onednn_fusion[0] = bool(enabled)


def onednn_fusion_enabled():
    return _onednn_fusion[0]
