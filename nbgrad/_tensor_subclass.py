"""Tensor subclasses: Tensor.as_subclass(cls) and the default Tensor.__torch_function__.

nbgrad's own ops do not consult __torch_function__: they take any Tensor (subclasses included,
so isinstance checks and custom attributes work) and return plain Tensors, where PyTorch would
call the subclass's __torch_function__ and return the subclass. The protocol is honoured by
functions that ask for it through nbgrad.overrides.handle_torch_function (user code written
against PyTorch's override API), and that is where this default implementation runs.
"""
import threading

from ._tensor import Tensor

_new = object.__new__


class _SubclassDispatchState(threading.local):
    # > 0 inside the default __torch_function__ (PyTorch's DisableTorchFunctionSubclass):
    # the function it calls sees subclasses as plain tensors and does not dispatch again
    disabled = 0


subclass_dispatch = _SubclassDispatchState()


class DisableTorchFunctionSubclass:
    """`with DisableTorchFunctionSubclass():` Tensor subclasses' __torch_function__ is not
    called by handle_torch_function inside the block (PyTorch's torch._C context manager)."""

    def __enter__(self):
        subclass_dispatch.disabled += 1
        return self

    def __exit__(self, *exc):
        subclass_dispatch.disabled -= 1
        return False


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """Set as a subclass's __torch_function__ to opt out of the protocol (as nn.Parameter
    does in PyTorch): it just calls the function."""
    return func(*args, **(kwargs or {}))


_NOT_A_TENSOR_CLASS = ('Creating a Tensor subclass from a class that does not inherit from Tensor '
                       'is not possible. Make sure your class inherits from Tensor.')


def as_subclass(self, cls):
    """This tensor seen as an instance of `cls` (a Tensor subclass): a view sharing its memory,
    version counter and autograd history (AliasBackward0 when it requires grad), as PyTorch's.
    Neither cls.__new__ nor cls.__init__ runs."""
    if not isinstance(cls, type):
        raise TypeError(f'cls must be a type (got {type(cls).__name__})')
    if not issubclass(cls, Tensor):
        raise TypeError(_NOT_A_TENSOR_CLASS)
    alias = self[...]
    result = _new(cls)
    result._data, result._requires_grad, result._grad_fn, result._vc, result._base = (
        alias._data, alias._requires_grad, alias._grad_fn, alias._vc, alias._base)
    result.__dict__.update(alias.__dict__)      # (its view bookkeeping)
    return result


def _convert(result, cls):
    """Tensor results (also inside tuples and lists) as instances of cls."""
    if cls is Tensor:
        return result
    if isinstance(result, Tensor) and not isinstance(result, cls):
        return as_subclass(result, cls)
    if isinstance(result, (tuple, list)):
        return type(result)(_convert(r, cls) for r in result)
    return result


def default_torch_function(cls, func, types, args=(), kwargs=None):
    """Tensor.__torch_function__: runs func with subclass dispatch off and returns its tensors
    as cls, so a subclass that overrides nothing keeps its type through functions that use
    handle_torch_function. NotImplemented when some type in `types` is not a base of cls."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        return _convert(func(*args, **kwargs), cls)


def install():
    """Attach them to Tensor; once (%reload_ext re-runs nbgrad/__init__.py, and Tensor's
    attributes must stay the same objects)."""
    Tensor.as_subclass = as_subclass
    current = Tensor.__dict__.get('__torch_function__')
    if getattr(current, '__func__', None) is not default_torch_function:
        Tensor.__torch_function__ = classmethod(default_torch_function)
