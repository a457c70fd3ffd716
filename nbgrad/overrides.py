"""nbgrad.overrides: PyTorch's __torch_function__ API (torch.overrides).

As in PyTorch: nbgrad's overridable functions and Tensor methods (get_overridable_functions)
hand a call to the __torch_function__ of its arguments' types, subclasses first, when an
argument is a tensor-like or an instance of a Tensor subclass that overrides
__torch_function__, and to the innermost TorchFunctionMode while one is active
(_function_dispatch.py wraps them); functions written with the protocol (`if
has_torch_function(args): return handle_torch_function(f, args, *args)`) do the same. A Tensor
subclass that keeps the default __torch_function__ gets its class back from every op without
a call (_tensor_subclass.py). is_tensor_like, the lists of overridable and ignored functions
and dummy overrides for testing are here too.

Not dispatched: property getters (x.shape, x.T, x.grad), and Tensor methods called before the
first overriding subclass or mode exists are plain calls (methods are wrapped from then on).
"""
import collections
import contextlib
import functools
import inspect
import sys
import types

from ._tensor import Tensor
from ._tensor_subclass import (DisableTorchFunctionSubclass, _disabled_torch_function_impl,  # noqa
                               subclass_dispatch)
from ._function_dispatch import _modes_entered, mode_stack, wrap_tensor_methods

__all__ = ['get_ignored_functions', 'get_overridable_functions', 'get_testing_overrides',
           'handle_torch_function', 'has_torch_function', 'resolve_name', 'is_tensor_like',
           'is_tensor_method_or_property', 'wrap_torch_function', 'enable_reentrant_dispatch',
           'has_torch_function_unary', 'has_torch_function_variadic', 'TorchFunctionMode']


def _nbgrad():
    return sys.modules[__name__.rpartition('.')[0]]


# -- which arguments take part ---------------------------------------------------------------------

def _is_nbgrad_own(cls):
    """nbgrad's own Tensor subclasses (nn.Parameter, nn.Buffer...) take no part in the protocol,
    as PyTorch's Parameter (its __torch_function__ is the disabled implementation)."""
    return cls.__module__.split('.')[0] == __name__.split('.')[0]


def _participates(cls):
    """Whether cls brings a __torch_function__ that handle_torch_function calls (plain Tensor's
    included: it declines types it does not know by returning NotImplemented)."""
    method = getattr(cls, '__torch_function__', None)
    if method is None or method is _disabled_torch_function_impl:
        return False
    return cls is Tensor or not (issubclass(cls, Tensor) and _is_nbgrad_own(cls))


def _overloads(arg):
    """Whether arg asks for dispatch: a tensor-like or a Tensor subclass (not a plain Tensor,
    and no Tensor subclass inside DisableTorchFunctionSubclass)."""
    cls = type(arg)
    if cls is Tensor or not _participates(cls):
        return False
    return not (subclass_dispatch.disabled and issubclass(cls, Tensor))


def has_torch_function(relevant_args):
    """Whether any of relevant_args (an iterable) has a __torch_function__ to dispatch to:
    False for plain tensors and other values, True for Tensor subclasses and tensor-likes,
    and True whenever a TorchFunctionMode is active."""
    return bool(mode_stack.modes) or any(_overloads(a) for a in relevant_args)


def has_torch_function_unary(arg):
    """has_torch_function((arg,)), without building the tuple."""
    return bool(mode_stack.modes) or _overloads(arg)


def has_torch_function_variadic(*args):
    """has_torch_function(args), taking the arguments themselves."""
    return bool(mode_stack.modes) or any(_overloads(a) for a in args)


def _get_overloaded_args(relevant_args):
    """The arguments whose types implement __torch_function__, one per type, left to right
    except that a subclass comes before its parent class (PyTorch's order)."""
    overloaded_types, overloaded_args = set(), []
    for arg in relevant_args:
        arg_type = type(arg)
        if arg_type in overloaded_types or not _participates(arg_type):
            continue
        overloaded_types.add(arg_type)
        index = len(overloaded_args)
        for i, old_arg in enumerate(overloaded_args):
            if issubclass(arg_type, type(old_arg)):
                index = i
                break
        overloaded_args.insert(index, arg)
    return overloaded_args


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Calls the __torch_function__ of the overloaded arguments' types in turn (subclasses
    first) until one returns something other than NotImplemented, and returns that.
    `public_api` is the function being called (passed on as `func`), relevant_args the
    arguments that may carry an override, args/kwargs the call's arguments."""
    overloaded_args = _get_overloaded_args(relevant_args)
    types = tuple(type(a) for a in overloaded_args)
    if mode_stack.modes:    # the innermost mode first, itself off while it runs
        with _mode_popped() as mode:
            result = mode.__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    for arg in overloaded_args:
        method = arg.__torch_function__
        if getattr(method, '__self__', None) is arg:
            import warnings
            warnings.warn('Defining your `__torch_function__` as a plain method is deprecated and '
                          'will be an error in future, please define it as a classmethod.',
                          DeprecationWarning, stacklevel=2)
        result = method(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    func_name = f'{public_api.__module__}.{public_api.__name__}'
    raise TypeError(f"no implementation found for '{func_name}' on types that implement "
                    f'__torch_function__: {[type(a) for a in overloaded_args]}')


def is_tensor_like(inp):
    """Whether inp is a Tensor or has __torch_function__ (a class counts too, as in PyTorch)."""
    return type(inp) is Tensor or hasattr(inp, '__torch_function__')


def _tensor_methods():
    methods = set()
    for klass in Tensor.__mro__[:-1]:
        for value in vars(klass).values():
            if isinstance(value, property):
                methods.update(f for f in (value.fget, value.fset) if f is not None)
            elif callable(value):
                methods.add(value)
    return methods


def is_tensor_method_or_property(func):
    """Whether func is a Tensor method or a property's __get__ (such functions get the tensor
    as their first argument when dispatched)."""
    return func in _tensor_methods() or getattr(func, '__name__', None) == '__get__'


def wrap_torch_function(dispatcher):
    """Decorator: makes func dispatch through __torch_function__ on the arguments that
    dispatcher(*args, **kwargs) returns."""
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant_args = dispatcher(*args, **kwargs)
            if has_torch_function(relevant_args):
                return handle_torch_function(wrapped, relevant_args, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner


def resolve_name(f):
    """The dotted name of an nbgrad function or Tensor method (nbgrad.add, nbgrad.Tensor.add),
    or None."""
    if isinstance(f, property):
        f = f.fget
    module = getattr(f, '__module__', None)
    qualname = getattr(f, '__qualname__', None)
    if qualname is None:
        return None
    for namespace, name in _namespaces():
        if getattr(namespace, getattr(f, '__name__', ''), None) is f:
            return f'{name}.{f.__name__}'
    return f'{module}.{qualname}' if module else None


@contextlib.contextmanager
def enable_reentrant_dispatch():
    """PyTorch's guard for calling back into the dispatcher from a __torch_dispatch__ handler;
    nbgrad has no dispatcher state to restore, so the block just runs."""
    yield


# -- modes ---------------------------------------------------------------------------------------

class TorchFunctionMode:
    """Base class of PyTorch's function modes: subclass it, define __torch_function__(self,
    func, types, args=(), kwargs=None), and every overridable nbgrad function and Tensor method
    called inside `with mode:` goes to it first (the mode itself is off while its
    __torch_function__ runs, so calling func(*args, **kwargs) there runs the function).
    Modes nest; the innermost is asked first."""
    inner = None

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError()

    def __enter__(self):
        wrap_tensor_methods()
        mode_stack.modes = mode_stack.modes + (self,)
        _modes_entered[0] += 1
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        modes = mode_stack.modes
        if self in modes:       # (the innermost; a mode exited out of order is taken out)
            i = len(modes) - 1 - modes[::-1].index(self)
            mode_stack.modes = modes[:i] + modes[i + 1:]
            _modes_entered[0] -= 1
        return False

    @classmethod
    def push(cls, *args, **kwargs):
        return cls(*args, **kwargs).__enter__()


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs every function it is handed (a base for modes that intercept some)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _get_current_function_mode():
    """The innermost active mode, or None."""
    return mode_stack.modes[-1] if mode_stack.modes else None


@contextlib.contextmanager
def _mode_popped():
    """The innermost mode, off the stack while the block runs (its own calls go past it)."""
    modes = mode_stack.modes
    mode_stack.modes = modes[:-1]
    try:
        yield modes[-1]
    finally:
        mode_stack.modes = modes


_pop_mode_temporarily = _mode_popped      # (PyTorch's name)


def _get_current_function_mode_stack():
    """The active TorchFunctionModes, outermost first (torch.overrides' helper)."""
    return list(mode_stack.modes)


# -- the lists of functions ----------------------------------------------------------------------

# the functions PyTorch's get_ignored_functions() lists that nbgrad has, by namespace: creation,
# RNG, mode and dtype utilities, which take no tensor to dispatch on
_IGNORED_TORCH = (
    'arange', 'are_deterministic_algorithms_enabled', 'as_strided', 'as_tensor', 'asarray',
    'autocast_decrement_nesting', 'autocast_increment_nesting', 'bartlett_window',
    'blackman_window', 'broadcast_shapes', 'can_cast', 'clear_autocast_cache', 'compile',
    'device', 'dtype', 'empty', 'empty_permuted', 'empty_strided', 'enable_grad', 'eye', 'fill',
    'finfo', 'from_numpy', 'full', 'get_autocast_cpu_dtype', 'get_autocast_dtype',
    'get_autocast_gpu_dtype', 'get_default_device', 'get_default_dtype',
    'get_deterministic_debug_mode', 'get_float32_matmul_precision', 'get_num_interop_threads',
    'get_num_threads', 'get_rng_state', 'hamming_window', 'hann_window', 'iinfo',
    'inference_mode', 'initial_seed', 'is_anomaly_check_nan_enabled', 'is_anomaly_enabled',
    'is_autocast_cache_enabled', 'is_autocast_cpu_enabled', 'is_autocast_enabled',
    'is_deterministic_algorithms_warn_only_enabled', 'is_grad_enabled',
    'is_inference_mode_enabled', 'is_storage', 'is_tensor', 'kaiser_window', 'layout',
    'linspace', 'load', 'logspace', 'manual_seed', 'memory_format', 'no_grad', 'normal', 'ones',
    'promote_types', 'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like',
    'randperm', 'range', 'result_type', 'save', 'scalar_tensor', 'seed',
    'set_autocast_cache_enabled', 'set_autocast_cpu_dtype', 'set_autocast_cpu_enabled',
    'set_autocast_dtype', 'set_autocast_enabled', 'set_autocast_gpu_dtype', 'set_default_device',
    'set_deterministic_debug_mode', 'set_float32_matmul_precision', 'set_grad_enabled',
    'set_num_interop_threads', 'set_num_threads', 'set_printoptions', 'set_rng_state',
    'sparse_coo_tensor', 'tensor', 'tril_indices', 'triu_indices', 'typename',
    'use_deterministic_algorithms', 'vander', 'vmap', 'zeros')
_IGNORED_FUNCTIONAL = ('hardsigmoid', 'hardswish', 'sigmoid', 'tanh', 'upsample',
                       'upsample_bilinear', 'upsample_nearest')
_IGNORED_TENSOR = ('__delattr__', '__dir__', '__getattribute__', '__hash__', '__init__',
                   '__iter__', '__new__', '__setattr__', 'new', 'new_empty', 'new_empty_strided',
                   'new_full', 'new_ones', 'new_tensor', 'new_zeros', 'stride', 'to_sparse_bsc',
                   'to_sparse_bsr', 'to_sparse_coo', 'to_sparse_csc', 'to_sparse_csr',
                   'unflatten')


# ignored functions (PyTorch lists them in get_ignored_functions) whose PyTorch versions still
# dispatch on __torch_function__ arguments: an fx Proxy or a tensor subclass reaches them
DISPATCHING_THOUGH_IGNORED = (('', ('as_strided', 'fill')),
                              ('nn.functional', ('hardsigmoid', 'hardswish')))


def _namespaces():
    nbgrad = _nbgrad()
    return ((nbgrad, 'nbgrad'), (nbgrad.nn.functional, 'nbgrad.nn.functional'),
            (nbgrad.linalg, 'nbgrad.linalg'), (nbgrad.fft, 'nbgrad.fft'),
            (nbgrad.special, 'nbgrad.special'), (Tensor, 'nbgrad.Tensor'))


@functools.lru_cache(maxsize=None)
def get_ignored_functions():
    """The public functions that cannot be overridden by __torch_function__ (creation, RNG,
    mode and dtype utilities): the part of PyTorch's set that nbgrad has."""
    nbgrad = _nbgrad()
    found = set()
    for namespace, names in ((nbgrad, _IGNORED_TORCH),
                             (nbgrad.nn.functional, _IGNORED_FUNCTIONAL),
                             (Tensor, _IGNORED_TENSOR)):
        for name in names:
            value = inspect.getattr_static(namespace, name, None) if namespace is Tensor \
                else getattr(namespace, name, None)
            if value is not None:
                found.add(value)
    return found


def _is_public_function(name, value):
    return (not name.startswith('_') and callable(value) and not isinstance(value, type)
            and not inspect.ismodule(value))


@functools.lru_cache(maxsize=None)
def _overridable():
    ignored = get_ignored_functions()
    table = collections.defaultdict(list)
    for namespace, _ in _namespaces():
        if namespace is Tensor:
            for klass in Tensor.__mro__[:-1]:
                for name, value in vars(klass).items():
                    if isinstance(value, property):
                        value = value.__get__
                    elif name.startswith('__') and name not in _TENSOR_DUNDERS:
                        continue
                    elif name.startswith('_') and not name.startswith('__'):
                        continue
                    if callable(value) and value not in ignored:
                        table[Tensor].append(value)
            continue
        for name in dir(namespace):
            value = getattr(namespace, name, None)
            if _is_public_function(name, value) and value not in ignored and \
                    value.__class__.__name__ not in ('type',):
                table[namespace].append(value)
    return table


def _overridable_tensor_methods():
    """(name, function) for Tensor's overridable methods and operators that are plain Python
    functions (what _function_dispatch wraps; properties are not dispatched)."""
    ignored = get_ignored_functions()
    for name, value in list(vars(Tensor).items()):
        if name.startswith('__') and name not in _TENSOR_DUNDERS:
            continue
        if name.startswith('_') and not name.startswith('__'):
            continue
        if isinstance(value, types.FunctionType) and value not in ignored:
            yield name, value


# the operator dunders PyTorch counts as overridable Tensor methods
_TENSOR_DUNDERS = frozenset(
    f'__{op}__' for op in (
        'add radd iadd sub rsub isub mul rmul imul matmul rmatmul imatmul truediv rtruediv '
        'itruediv floordiv rfloordiv ifloordiv mod rmod imod pow rpow ipow and rand iand or ror '
        'ior xor rxor ixor lshift rlshift ilshift rshift rrshift irshift neg pos abs invert eq '
        'ne lt le gt ge getitem setitem len contains bool float int index complex '
        'array format reversed deepcopy reduce_ex setstate').split())


def functions_to_wrap():
    """get_overridable_functions() plus DISPATCHING_THOUGH_IGNORED: what dispatches."""
    nbgrad = _nbgrad()
    table = {namespace: list(functions) for namespace, functions in _overridable().items()}
    for path, names in DISPATCHING_THOUGH_IGNORED:
        namespace = nbgrad
        for part in filter(None, path.split('.')):
            namespace = getattr(namespace, part)
        table.setdefault(namespace, []).extend(getattr(namespace, name) for name in names)
    return table


def get_overridable_functions():
    """{namespace: [functions]}: the public functions of nbgrad, nbgrad.nn.functional,
    nbgrad.linalg, nbgrad.fft, nbgrad.special and the methods of nbgrad.Tensor that are not
    in get_ignored_functions() (for a __torch_function__ implementation to cover)."""
    return _overridable()


def get_testing_overrides():
    """{function: dummy}: for each overridable function, a stand-in with the same signature
    (where Python can read it) that returns -1, for testing __torch_function__ coverage."""
    overrides = {}
    for functions in _overridable().values():
        for func in functions:
            try:
                signature = inspect.signature(func)
            except (TypeError, ValueError):
                signature = None
            dummy = _dummy(signature)
            overrides[func] = dummy
    return overrides


def _dummy(signature):
    def dummy(*args, **kwargs):
        return -1
    if signature is not None:
        dummy.__signature__ = signature
    return dummy
