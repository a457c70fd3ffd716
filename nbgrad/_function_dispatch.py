"""__torch_function__ overrides and TorchFunctionMode, called from nbgrad's public functions and
Tensor methods as PyTorch calls them.

The public functions of nbgrad, nbgrad.nn.functional, linalg, fft and special (those
overrides.get_overridable_functions() lists) are wrapped once at import: a call whose arguments
include a tensor-like (an object with __torch_function__) or an instance of a Tensor subclass
that overrides __torch_function__, or a call while a TorchFunctionMode is active, goes to
overrides.handle_torch_function with the wrapper itself as `func` (so `func is torch.add`
holds); any other call runs the function (one loop over the arguments).

Tensor methods and operators are wrapped the same way, but only from the moment they can be
needed: when a Tensor subclass overriding __torch_function__ is defined or a mode is entered
(wrap_tensor_methods). Until then a method call costs what it did. A subclass that keeps the
default __torch_function__ needs none of this: the dispatcher gives results its class
(_tensor_subclass.py). Property getters (x.shape, x.T) are not dispatched.
"""
import functools
import threading

from ._functional_handover import handover_for
from ._tensor import Tensor
from ._tensor_subclass import default_torch_function, subclass_dispatch


class _ModeStack(threading.local):
    modes = ()      # the active TorchFunctionModes, innermost last (a tuple: replaced whole)


mode_stack = _ModeStack()
_modes_entered = [0]    # modes active in any thread (the wrappers' first check)
# class -> whether its instances ask for dispatch (lists and tuples: their items are looked at)
_asks = {cls: False for cls in (int, float, bool, complex, str, bytes, type(None), slice,
                                type(Ellipsis), type)}


def _class_asks(cls):
    asks = _asks.get(cls)
    if asks is None:
        if cls in (list, tuple):
            return False    # (their items are looked at one by one: _relevant)
        method = getattr(cls, '__torch_function__', None)
        if issubclass(cls, Tensor):
            func = getattr(method, '__func__', method)
            from ._tensor_subclass import _disabled_torch_function_impl
            asks = func is not default_torch_function and \
                func is not _disabled_torch_function_impl
        else:                   # (a tensor-like; PyTorch's own tensors are data here, as for
            asks = method is not None and \
                cls.__module__.partition('.')[0] != 'torch'    # from_dlpack)
        _asks[cls] = asks
    return asks


def _tensor_likes(args, kwargs):
    """For the factories: the arguments if one is a tensor-like that is not a Tensor (an fx
    Proxy standing for a size or a device, which PyTorch's argument parser dispatches on),
    else None."""
    for a in args:        # (the common case, sizes as ints, in one quick loop)
        if _asks.get(a.__class__) is not False:
            break
    else:
        if not kwargs:
            return None
    relevant = _relevant(args, kwargs)
    if relevant is None or all(isinstance(a, Tensor) or not _class_asks(a.__class__)
                               for a in relevant):
        return None
    return relevant


def _relevant(args, kwargs):
    """The arguments (and the items of list or tuple arguments) if one of them asks for
    dispatch, else None."""
    found = False
    flat = []
    for a in (*args, *kwargs.values()) if kwargs else args:
        if a.__class__ in (list, tuple):
            for item in a:
                flat.append(item)
                if item.__class__ is not Tensor and _class_asks(item.__class__):
                    found = True
        else:
            flat.append(a)
            if a.__class__ is not Tensor and _class_asks(a.__class__):
                found = True
    return flat if found else None


def dispatching(func, module_name, name, public_name=None, modes_only=False, handed=None,
                plain_in_types=False, handover=None):
    """func wrapped to dispatch through __torch_function__ where an argument or a mode asks.
    public_name: the __name__ PyTorch's function has (linalg_norm for linalg.norm).
    modes_only: only modes see it (PyTorch's factories: no argument to dispatch on).
    handed: what PyTorch hands over as `func`, when not the wrapper itself (x + y hands over
    Tensor.add; x.shape, Tensor.shape.__get__).
    plain_in_types: whether a plain Tensor argument is among the `types` handed over (PyTorch's
    Python functions, nn.functional's, list it; its C++ ones, torch.* and Tensor's methods,
    do not).
    handover: (args, kwargs) -> the arguments as PyTorch's function hands them over, when it
    binds them first (_functional_handover.py)."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        # (the common case first, in as few steps as possible: no mode anywhere, and every
        # argument a plain tensor or of a class known not to ask)
        if subclass_dispatch.backward:      # (the engine's own work: never handed over)
            return func(*args, **kwargs)
        if not _modes_entered[0]:
            if modes_only:
                relevant = _tensor_likes(args, kwargs)
                if relevant is None or subclass_dispatch.disabled:
                    return func(*args, **kwargs)
                return _handle(call, relevant, args, kwargs, plain_in_types)
            for a in args:
                if a.__class__ is not Tensor and _asks.get(a.__class__) is not False:
                    break
            else:
                if not kwargs:
                    return func(*args)
                for a in kwargs.values():
                    if a.__class__ is not Tensor and _asks.get(a.__class__) is not False:
                        break
                else:
                    return func(*args, **kwargs)
        elif mode_stack.modes:
            public = call if handed is None else handed()
            if handover is not None:
                args, kwargs = handover(args, kwargs)
            return _handle(public, _flatten(args, kwargs), args, kwargs, plain_in_types)
        if not modes_only and not subclass_dispatch.disabled:
            relevant = _relevant(args, kwargs)
            if relevant is not None:
                public = call if handed is None else handed()
                if handover is not None:
                    args, kwargs = handover(args, kwargs)
                return _handle(public, relevant, args, kwargs, plain_in_types)
        return func(*args, **kwargs)
    call.__module__, call.__qualname__ = module_name, name     # (pickled by this name)
    call.__name__ = public_name or name.rpartition('.')[2]
    call._nbgrad_dispatches = func
    return call


def _see_through_wrappers():
    """A warning's stacklevel skips the wrappers' frames (amp/_policy.py's warnings view)."""
    from .amp import _policy
    _policy.SEE_THROUGH.add(dispatching(len, 'nbgrad', 'len').__code__)


def _handle(public, relevant, args, kwargs, plain_in_types):
    from .overrides import handle_torch_function
    if not plain_in_types:
        relevant = [a for a in relevant if a.__class__ is not Tensor]
    return handle_torch_function(public, relevant, *args, **kwargs)


def _flatten(args, kwargs):
    flat = []
    for a in (*args, *kwargs.values()) if kwargs else args:
        if a.__class__ in (list, tuple):
            flat.extend(a)
        else:
            flat.append(a)
    return flat


# the prefix of PyTorch's function names in these namespaces (torch.linalg.norm is linalg_norm)
_NAME_PREFIXES = {'linalg': 'linalg_', 'fft': 'fft_', 'special': 'special_'}
# nn.functional's functions whose __name__ is another in PyTorch (what modes and fx show)
_FUNCTIONAL_NAMES = {'logsigmoid': 'log_sigmoid', 'threshold': '_threshold'}
# the functions PyTorch lets modes see though they take no tensor (factories, dtype rules)
MODE_ONLY = frozenset((
    'arange', 'as_tensor', 'asarray', 'bartlett_window', 'blackman_window', 'can_cast',
    'empty', 'empty_permuted', 'empty_strided', 'eye', 'full', 'hamming_window',
    'hann_window', 'kaiser_window', 'linspace', 'logspace', 'normal', 'ones', 'promote_types',
    'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like', 'randperm', 'range',
    'result_type', 'scalar_tensor', 'sparse_coo_tensor', 'tensor', 'tril_indices',
    'triu_indices', 'vander', 'zeros'))


def wrap_namespaces(functions_by_namespace, nbgrad_module):
    """At import: the public functions of each namespace (module objects) dispatch, and the
    factories of nbgrad's own namespace reach modes."""
    _see_through_wrappers()
    for namespace, functions in functions_by_namespace.items():
        if namespace is Tensor:
            continue
        wanted = {id(f) for f in functions}
        prefix = _NAME_PREFIXES.get(namespace.__name__.rpartition('.')[2], '')
        for name, func in list(vars(namespace).items()):
            if id(func) in wanted and not hasattr(func, '_nbgrad_dispatches'):
                public = name if name.startswith(prefix) else prefix + name
                functional = namespace.__name__.endswith('nn.functional')
                if functional:
                    public = _FUNCTIONAL_NAMES.get(name, public)
                setattr(namespace, name, dispatching(
                    func, namespace.__name__, name, public, plain_in_types=functional,
                    handover=handover_for(name, func) if functional else None))
    from . import autograd      # (PyTorch's autograd.grad and backward ask too: Python functions)
    for name in ('grad', 'backward'):
        func = getattr(autograd, name)
        if not hasattr(func, '_nbgrad_dispatches'):
            setattr(autograd, name, dispatching(func, autograd.__name__, name,
                                                plain_in_types=True))
    for name in MODE_ONLY:
        func = getattr(nbgrad_module, name, None)
        if func is not None and not hasattr(func, '_nbgrad_dispatches'):
            setattr(nbgrad_module, name, dispatching(func, nbgrad_module.__name__, name,
                                                     modes_only=True))
    _share_functional_aliases(functions_by_namespace, nbgrad_module)
    _rebind_layers(functions_by_namespace)


def _share_functional_aliases(functions_by_namespace, nbgrad_module):
    """nn.functional's functions that are torch.* functions in PyTorch (F.conv2d is
    torch.conv2d, a C++ function: modes and fx see one object) are nbgrad's torch.* wrapper
    too, where both wrap the same implementation."""
    for namespace in functions_by_namespace:
        if namespace is Tensor or not namespace.__name__.endswith('nn.functional'):
            continue
        for name, value in list(vars(namespace).items()):
            top = getattr(nbgrad_module, name, None)
            original = getattr(top, '_nbgrad_dispatches', None)
            if top is not value and original is not None and \
                    getattr(value, '_nbgrad_dispatches', None) is original:
                setattr(namespace, name, top)


def _rebind_layers(functions_by_namespace):
    """nn's layers that keep their functional as a class attribute (MaxPool2d's _pool =
    staticmethod(F.max_pool2d), made at import) call the dispatching one, as PyTorch's
    forward calls F.max_pool2d; a default argument that is one (TransformerEncoderLayer's
    activation=F.relu) is the dispatching one too."""
    import sys
    wrapped = {}
    for namespace in functions_by_namespace:
        if namespace is not Tensor:
            for value in vars(namespace).values():
                original = getattr(value, '_nbgrad_dispatches', None)
                # (a layer may hold the function under a decorator's wrapper, or the function
                # that wrapper wraps: every layer of the chain maps to the dispatching one)
                while original is not None:
                    wrapped.setdefault(id(original), value)
                    original = getattr(original, '__wrapped__', None)
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith(__name__.rpartition('.')[0] + '.nn.modules'):
            continue
        for cls in [v for v in vars(module).values() if isinstance(v, type)]:
            for name, value in list(vars(cls).items()):
                if isinstance(value, staticmethod) and id(value.__func__) in wrapped:
                    setattr(cls, name, staticmethod(wrapped[id(value.__func__)]))
                elif callable(value) and getattr(value, '__defaults__', None):
                    value.__defaults__ = tuple(wrapped.get(id(d), d)
                                               for d in value.__defaults__)


# operators PyTorch dispatches as the method they run (x + y hands over Tensor.add)
_OPERATOR_METHODS = {
    '__add__': 'add', '__radd__': 'add', '__sub__': 'sub', '__mul__': 'mul', '__rmul__': 'mul',
    '__matmul__': 'matmul', '__truediv__': 'div', '__mod__': 'remainder', '__pow__': 'pow',
    '__neg__': 'neg', '__pos__': 'positive', '__abs__': 'abs', '__ne__': 'ne', '__lt__': 'lt',
    '__le__': 'le', '__gt__': 'gt', '__ge__': 'ge', '__iadd__': 'add_', '__isub__': 'sub_',
    '__imul__': 'mul_', '__itruediv__': 'div_', '__ipow__': 'pow_', '__rand__': 'bitwise_and'}
_tensor_wrapped = [False]


def wrap_tensor_methods():
    """Tensor's methods, operators and public properties dispatch from now on (once)."""
    if _tensor_wrapped[0]:
        return
    _tensor_wrapped[0] = True
    from .overrides import _overridable_tensor_methods
    for name, method in [*_overridable_tensor_methods(), ('__repr__', Tensor.__repr__)]:
        if not hasattr(method, '_nbgrad_dispatches'):
            operator = _OPERATOR_METHODS.get(name)
            handed = (lambda operator=operator: getattr(Tensor, operator)) if operator else None
            setattr(Tensor, name, dispatching(method, 'nbgrad', f'Tensor.{name}',
                                              handed=handed))
    for name, prop in list(vars(Tensor).items()):
        if isinstance(prop, property) and not name.startswith('_') and prop.fget is not None:
            getter = dispatching(prop.fget, 'nbgrad', f'Tensor.{name}',
                                 handed=lambda name=name: Tensor.__dict__[name].__get__)
            setattr(Tensor, name, property(getter, prop.fset, prop.fdel, prop.__doc__))


def redispatch(method, *args):
    """Call Tensor's method (an operator, as defined before wrapping) through its dispatching
    wrapper: a tensor-like operand met before any dispatch was needed."""
    wrap_tensor_methods()
    for value in vars(Tensor).values():
        if getattr(value, '_nbgrad_dispatches', None) is method:
            return value(*args)
    return NotImplemented
