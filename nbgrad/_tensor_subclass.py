"""Tensor subclasses: Tensor.as_subclass(cls), the default Tensor.__torch_function__, and what
it means for nbgrad's own ops.

A subclass that does not override __torch_function__ gets PyTorch's default: every op on it
returns its class (x + 1, x.sum(), F.relu(x), x.detach(), zeros_like(x)... are instances of
it), the subclass argument that is the most derived choosing the class; backward's gradients
and .grad stay plain Tensors, and Parameter and Buffer opt out (their results are plain), all
as in PyTorch. nbgrad's ops do this without calling __torch_function__ (the dispatcher and the
factories that make a tensor from another one give their results the class: keeps_class).

A subclass that overrides __torch_function__ is called by nbgrad's public functions and Tensor
methods as PyTorch calls it (_function_dispatch.py, overrides.handle_torch_function), and its
super().__torch_function__ is default_torch_function here.
"""
import functools
import threading

from . import _dtype
from ._tensor import Tensor

_new = object.__new__


class _SubclassDispatchState(threading.local):
    # > 0 inside the default __torch_function__ (PyTorch's DisableTorchFunctionSubclass):
    # the function it calls sees subclasses as plain tensors and does not dispatch again
    disabled = 0
    backward = 0    # > 0 while the engine runs backward: its ops make plain tensors (.grad)


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


def make_subclass(cls, data, require_grad=False, dispatch_strides=False,
                  dispatch_device=False, device_for_backend_keys=None):
    """Tensor._make_subclass(cls, data, require_grad): a new leaf of class cls sharing data's
    memory (outside its graph), as PyTorch's wrapper subclasses and Parameter build theirs.
    Neither cls.__new__ nor cls.__init__ runs."""
    if not isinstance(cls, type) or not issubclass(cls, Tensor):
        raise TypeError(_NOT_A_TENSOR_CLASS)
    if not isinstance(data, Tensor):
        raise TypeError(f'_make_subclass(): argument \'data\' (position 2) must be Tensor, not '
                        f'{type(data).__name__}')
    if require_grad and data._data.dtype.kind not in _dtype.INEXACT_KINDS:
        raise RuntimeError('Only Tensors of floating point and complex dtype can require '
                           'gradients')
    result = _new(cls)
    result._data, result._vc, result._base = data._data, data._vc, None
    result._grad_fn, result._requires_grad = None, bool(require_grad)
    return result


_make_subclass = staticmethod(make_subclass)


def _convert(result, cls):
    """Tensor results (also inside tuples and lists) as instances of cls."""
    if cls is Tensor:
        return result
    if isinstance(result, Tensor) and not isinstance(result, cls):
        return as_subclass(result, cls)
    if isinstance(result, (tuple, list)):
        items = [_convert(r, cls) for r in result]
        if hasattr(type(result), '_fields'):    # (a named tuple: max's (values, indices))
            return type(result)(*items)
        return type(result)(items)
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
        result = func(*args, **kwargs)
    if _returned_as_is(func):
        return result
    return _convert(result, cls)


def _returned_as_is(func):
    """PyTorch's get_default_nowrap_functions: x.grad and x._base come back as they are (a
    gradient is a plain tensor), not converted to the subclass."""
    owner = getattr(func, '__self__', None)
    return isinstance(owner, property) and any(owner is Tensor.__dict__.get(name)
                                               for name in ('grad', '_base', '_grad'))


# -- nbgrad's ops on subclasses: the default __torch_function__'s effect ----------------------------

_keeps = {}     # class -> whether ops give their results that class


def keeps_class(cls):
    """Whether ops on an instance of cls (a Tensor subclass) return cls: a user's subclass with
    the default __torch_function__ does (Parameter and Buffer, whose __torch_function__ is the
    disabled one, and a subclass overriding it, whose override nbgrad's ops do not call, do
    not)."""
    keep = _keeps.get(cls)
    if keep is None:
        method = getattr(cls, '__torch_function__', None)
        keep = _keeps[cls] = getattr(method, '__func__', None) is default_torch_function and \
            cls.__module__.partition('.')[0] != __name__.partition('.')[0]
    return keep


def more_derived(current, cls, op_name):
    """The class an op's result takes when inputs of classes current (None: none yet) and cls
    take part: the subclass of the other; unrelated classes are refused, as PyTorch's default
    __torch_function__ declines both."""
    if current is None or issubclass(cls, current):
        return cls
    if issubclass(current, cls):
        return current
    raise TypeError(f"no implementation found for '{op_name}' on types that implement "
                    f'__torch_function__: [{current.__name__}, {cls.__name__}] (neither '
                    f'class derives from the other; convert one of the inputs with '
                    f'.as_subclass() first)')


def class_among(values, op_name):
    """The class the results of a function of `values` take: the most derived user subclass
    among the tensors there (None when there is none, or inside DisableTorchFunctionSubclass)."""
    cls = None
    for t in values:
        if isinstance(t, Tensor) and t.__class__ is not Tensor and keeps_class(t.__class__):
            cls = more_derived(cls, t.__class__, op_name)
    return None if subclass_dispatch.disabled or subclass_dispatch.backward else cls


def give_class(results, cls):
    """The op's fresh results (a tuple of tensors, or one tensor) as instances of cls, unless
    backward or DisableTorchFunctionSubclass is running."""
    if subclass_dispatch.backward or subclass_dispatch.disabled:
        return results
    if isinstance(results, Tensor):
        return _give(results, cls)
    if isinstance(results, (tuple, list)):
        given = [_give(t, cls) if isinstance(t, Tensor) else t for t in results]
        return results if all(a is b for a, b in zip(given, results)) else type(results)(given)
    return results


def _give(t, cls):
    if t.__class__ is Tensor:
        try:
            t.__class__ = cls       # (a fresh result: no one else holds it)
        except TypeError:           # (a subclass whose layout differs: __slots__)
            return as_subclass(t, cls)
    return t


def keeps_input_class(fn):
    """Decorator for the functions that make a tensor from `input` outside the dispatcher
    (detach, .data, zeros_like, new_zeros...): a fresh result takes input's class, as the
    default __torch_function__ gives it in PyTorch."""
    @functools.wraps(fn)
    def call(input, *args, **kwargs):
        result = fn(input, *args, **kwargs)
        cls = input.__class__
        if cls is Tensor or not isinstance(input, Tensor) or not keeps_class(cls):
            return result
        return give_class(result, cls)
    return call


def check_new_subclass(cls, **kwargs):
    """Tensor.__init_subclass__: once a user's subclass overrides __torch_function__, Tensor's
    methods start dispatching to it (_function_dispatch.py: they cost nothing extra before)."""
    super(Tensor, cls).__init_subclass__(**kwargs)
    method = cls.__dict__.get('__torch_function__')
    if isinstance(method, (classmethod, staticmethod)):
        method = method.__func__
    if method is None or method is _disabled_torch_function_impl or method is \
            default_torch_function:
        return
    from ._function_dispatch import wrap_tensor_methods
    wrap_tensor_methods()


def install():
    """Attach them to Tensor; once (%reload_ext re-runs nbgrad/__init__.py, and Tensor's
    attributes must stay the same objects)."""
    Tensor.as_subclass = as_subclass
    Tensor._make_subclass = _make_subclass   # (the same object: %reload_ext compares them)
    current = Tensor.__dict__.get('__torch_function__')
    if getattr(current, '__func__', None) is not default_torch_function:
        Tensor.__torch_function__ = classmethod(default_torch_function)
        Tensor.__init_subclass__ = classmethod(check_new_subclass)
        # (_tensor.py cannot import this module: the two Tensor methods that make a tensor
        # from self outside the dispatcher are wrapped here)
        Tensor.detach = keeps_input_class(Tensor.detach)
        Tensor.data = property(keeps_input_class(Tensor.data.fget), Tensor.data.fset,
                               doc=Tensor.data.__doc__)
