"""nbgrad.library: PyTorch's custom operators (torch.library).

    @nbgrad.library.custom_op('mylib::numpy_sin', mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return nbgrad.from_numpy(np.sin(x.numpy()))

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    y = numpy_sin(x)                     # or nbgrad.ops.mylib.numpy_sin(x)

An op runs its kernel (the decorated function, or the one registered for the inputs' device
type) with grad mode off, through an autograd.Function: when an input requires grad, the
output's grad_fn runs the registered backward (or raises, naming the op, when none was
registered). The kernel's own ops are never recorded, as in PyTorch, so a formula is needed.
register_fake stores the fake (meta) implementation; nbgrad has no fake tensors to run it on.
Library/define/impl declare ops from schema strings; an impl under a Composite key (the default)
is called directly, so autograd records the ops it runs.
"""
import inspect

import numpy as np

from ._tensor import Tensor
from ._custom_op_schema import infer_schema
from . import _op_namespace
from .autograd.function import Function

__all__ = ['Library', 'impl', 'define', 'custom_op', 'CustomOpDef', 'infer_schema',
           'register_fake', 'register_autograd', 'register_kernel', 'impl_abstract']

_ops = {}                  # 'ns::name' -> the op (CustomOpDef), for the module-level helpers
_defining_libraries = {}   # ns -> the Library(ns, 'DEF') that owns it


def _split_qualname(qualname):
    namespace, sep, name = qualname.partition('::')
    if not sep or not namespace or not name or '::' in name:
        raise ValueError(f'Expected an op name of the form "namespace::name" (e.g. '
                         f'"mylib::my_op"), got {qualname!r}.')
    return namespace, name


def _device_types(device_types):
    if device_types is None:
        return (None,)
    if isinstance(device_types, str):
        device_types = (device_types,)
    return tuple(str(d).split(':')[0].lower() for d in device_types)


def _tensors_in(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (t for t in v if isinstance(t, Tensor))


def _may_share_memory(a, b):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.may_share_memory(a, b)
    if type(a) is type(b):
        import cupy
        return cupy.may_share_memory(a, b)
    return False


class CustomOpDef:
    """What custom_op returns: the op itself (call it), and where its kernels, fake
    implementation and autograd formula are registered."""

    def __init__(self, namespace, name, schema, fn, mutates_args=(), composite=False):
        self._namespace, self._name = namespace, name
        self._qualname = f'{namespace}::{name}'
        self._schema = schema
        self._function_schema = _op_namespace.FunctionSchema(self._qualname, schema)
        self._init_fn = fn
        self._mutates_args = mutates_args
        self._composite = composite     # (a Library impl under a Composite key: no Function)
        self._backend_fns = {}
        self._abstract_fn = None
        self._setup_context_fn = None
        self._backward_fn = None
        self._autograd_kernel = None    # a Library impl under the Autograd key
        self._signature = inspect.signature(fn) if fn is not None else None
        self._autograd_function = None
        self._opoverload = None

    def __repr__(self):
        return f'<CustomOpDef({self._qualname})>'

    # -- registration -------------------------------------------------------------------------
    def register_kernel(self, device_types, fn=None, /):
        """fn as the kernel for the given device type(s) ('cpu', 'cuda'; None: all). Used as a
        decorator when fn is not given."""
        def register(func):
            for device_type in _device_types(device_types):
                self._backend_fns[device_type] = func
            if self._signature is None:
                self._signature = inspect.signature(func)
            return func
        return register if fn is None else register(fn)

    def register_fake(self, fn, /):
        """The op's fake (meta) implementation: stored for code that registers one; nbgrad has
        no fake tensors, so it is not called."""
        self._abstract_fn = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        """backward(ctx, *grads) -> one gradient per positional input (None for non-tensors);
        setup_context(ctx, inputs, output[, keyword_only_inputs=]) saves what it needs."""
        if not callable(backward):
            raise TypeError(f'register_autograd(backward): backward must be callable, got '
                            f'{type(backward).__name__}.')
        self._backward_fn = backward
        self._setup_context_fn = setup_context

    def register_torch_dispatch(self, torch_dispatch_class, fn=None, /):
        raise NotImplementedError('register_torch_dispatch: nbgrad has no __torch_dispatch__ '
                                  'subclasses or modes to register a rule for.')

    def register_vmap(self, func=None, /):
        raise NotImplementedError(f'{self._qualname}: register_vmap is not supported by nbgrad; '
                                  'nbgrad.vmap runs the op once per batch element instead.')

    # -- calling ------------------------------------------------------------------------------
    def _kernel_for(self, args):
        device_type = next((t.device.type for t in _tensors_in(args)), 'cpu')
        kernel = self._backend_fns.get(device_type, self._backend_fns.get(None))
        if kernel is None:
            registered = sorted(str(k) for k in self._backend_fns) or ['none']
            raise NotImplementedError(
                f"Could not run '{self._qualname}' with arguments from the "
                f"'{device_type.upper()}' backend: no kernel is registered for "
                f"{device_type!r} (registered: {', '.join(registered)}). Register one with "
                f'register_kernel({device_type!r}) or Library.impl.')
        return kernel

    def _bind(self, args, kwargs):
        """Positional inputs (schema order, defaults filled) and keyword-only inputs."""
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        positional, keyword_only = [], {}
        for name, p in self._signature.parameters.items():
            if p.kind is p.KEYWORD_ONLY:
                keyword_only[name] = bound.arguments[name]
            else:
                positional.append(bound.arguments[name])
        return tuple(positional), keyword_only

    def _run_kernel(self, positional, keyword_only):
        output = self._kernel_for(positional)(*positional, **keyword_only)
        self._check_no_aliasing(positional, output)
        return output

    def _check_no_aliasing(self, inputs, output):
        outputs = list(_tensors_in(output if isinstance(output, (tuple, list)) else (output,)))
        inputs = list(_tensors_in(inputs))
        for i, out in enumerate(outputs):
            others = inputs + outputs[i + 1:]
            if any(out is t or _may_share_memory(out._data, t._data) for t in others):
                raise RuntimeError(
                    f'{self._qualname}: The output of this custom operator (1) must not also be '
                    'an input to this custom operator and (2) may not alias any inputs to this '
                    'custom operator or other returns. The most common way to trigger this '
                    'error is if we have y = custom_op(x) and y and x are the same Tensor. '
                    'Please instead return a clone of the offending output tensor(s) (e.g. '
                    'return x.clone()) or refactor the custom operator to not return y.')

    def __call__(self, *args, **kwargs):
        if self._signature is None:
            return self._kernel_for(args)(*args, **kwargs)   # (no kernel: the error)
        positional, keyword_only = self._bind(args, kwargs)
        if self._autograd_kernel is not None and _needs_grad(positional):
            return self._autograd_kernel(*positional, **keyword_only)
        if self._composite and self._backward_fn is None:
            return self._run_kernel(positional, keyword_only)
        if self._autograd_function is None:
            self._autograd_function = _autograd_function_for(self)
        return self._autograd_function.apply(*positional, _KeywordOnly(keyword_only))


def _needs_grad(inputs):
    from .autograd.grad_mode import is_grad_enabled
    return is_grad_enabled() and any(t.requires_grad for t in _tensors_in(inputs))


class _KeywordOnly:
    """The keyword-only inputs, passed to the Function as one last non-tensor argument."""

    def __init__(self, values):
        self.values = values


def _autograd_function_for(op):
    """The autograd.Function the op runs through: forward is the kernel; backward is the
    registered formula (read at backward time, so register_autograd after a call counts)."""

    def forward(*args):
        return op._run_kernel(args[:-1], args[-1].values)

    def setup_context(ctx, inputs, output):
        keyword_only = inputs[-1].values
        if op._setup_context_fn is None:
            return
        if keyword_only:
            op._setup_context_fn(ctx, inputs[:-1], output, keyword_only_inputs=keyword_only)
        else:
            op._setup_context_fn(ctx, inputs[:-1], output)

    def backward(ctx, *grads):
        if op._backward_fn is None:
            raise RuntimeError(f'Trying to backward through {op._namespace}.{op._name}.default '
                               'but no autograd formula was registered. Please use '
                               'register_autograd to add one.')
        result = op._backward_fn(ctx, *grads)
        result = result if isinstance(result, tuple) else (result,)
        expected = len(ctx._input_is_tensor) - 1
        if len(result) != expected:
            raise RuntimeError(f'{op._qualname}: the backward registered with register_autograd '
                               f'returned {len(result)} gradient(s), expected {expected} (one '
                               'per positional input of the op, None for non-tensors).')
        return result + (None,)

    name = f'GeneratedBackwardFor_{op._namespace}_{op._name}_default'
    return type(name, (Function,), {'forward': staticmethod(forward),
                                    'setup_context': staticmethod(setup_context),
                                    'backward': staticmethod(backward)})


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """Wraps a Python function (annotated with types) as the op `name` ('namespace::name').
    mutates_args names the tensor parameters it writes to ('unknown' for all); device_types
    restricts the function to those devices (others need register_kernel); schema overrides the
    one inferred from the annotations. Usable as a decorator or called with fn."""
    def inner(func):
        namespace, op_name = _split_qualname(name)
        op_schema = schema if schema is not None else infer_schema(func,
                                                                   mutates_args=mutates_args)
        op = CustomOpDef(namespace, op_name, op_schema, func, mutates_args)
        op.register_kernel(device_types, func)
        _install(op)
        return op
    return inner if fn is None else inner(fn)


def _install(op):
    _ops[op._qualname] = op
    op._opoverload = _op_namespace.register(op._namespace, op._name, op).default


def _lookup(op):
    """The op for a CustomOpDef, an nbgrad.ops packet or overload, or a 'ns::name' string."""
    if isinstance(op, CustomOpDef):
        return op
    if isinstance(op, _op_namespace.OpOverload):
        return op._packet._op
    if isinstance(op, _op_namespace.OpOverloadPacket):
        return op._op
    if isinstance(op, str):
        qualname = op.split('.')[0]
        if qualname in _ops:
            return _ops[qualname]
        raise ValueError(f'There is no op named {op!r}: define it first (custom_op, '
                         'Library.define or nbgrad.library.define).')
    raise TypeError(f'Expected an op (a CustomOpDef, nbgrad.ops.<ns>.<name> or a '
                    f'"ns::name" string), got {type(op).__name__}.')


# -- Library: ops from schema strings --------------------------------------------------------

_KINDS = ('DEF', 'IMPL', 'FRAGMENT')


class Library:
    """Library(ns, kind): 'DEF' owns the namespace ns (one per namespace) and may define ops;
    'FRAGMENT' defines more ops in it; 'IMPL' only registers kernels. dispatch_key is the
    default key for impl ('' means CompositeImplicitAutograd)."""

    def __init__(self, ns, kind, dispatch_key=''):
        if kind not in _KINDS:
            raise ValueError('Unsupported kind: ', kind)
        if kind == 'DEF':
            if ns in _defining_libraries:
                raise RuntimeError(f'Only a single Library(..., "DEF") can be used to register '
                                   f'the namespace {ns}; use Library({ns!r}, "FRAGMENT") to '
                                   'define more ops in it.')
            _defining_libraries[ns] = self
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._defined = []

    def __repr__(self):
        return f'Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>'

    def define(self, schema, alias_analysis='', *, tags=()):
        """Declares the op 'name(args) -> returns' in this library's namespace; kernels come
        from impl. Returns the op's name."""
        if self.kind == 'IMPL':
            raise RuntimeError(f'Library(kind=IMPL) for {self.ns!r} cannot define ops; use a '
                               '"DEF" or "FRAGMENT" library.')
        paren = schema.find('(')
        if paren <= 0:
            raise ValueError(f'Expected a schema like "my_op(Tensor x) -> Tensor", got '
                             f'{schema!r}.')
        name = schema[:paren].split('.')[0].strip()
        qualname = f'{self.ns}::{name}'
        if qualname in _ops:
            raise RuntimeError(f'Tried to register an operator ({qualname}{schema[paren:]}) with '
                               'the same name and overload name multiple times. Each '
                               "overload's schema should only be registered with a single call "
                               'to def().')
        op = CustomOpDef(self.ns, name, schema[paren:], None, composite=True)
        _install(op)
        self._defined.append(qualname)
        return name

    def impl(self, op_name, fn, dispatch_key='', *, with_keyset=False, allow_override=True):
        """fn as op_name's kernel for dispatch_key: 'CPU'/'CUDA' (that device),
        'CompositeImplicitAutograd'/'CompositeExplicitAutograd' (every device; the former is
        the default), 'Autograd' (called instead of the kernels when an input requires grad),
        'Meta' (the fake implementation)."""
        if with_keyset:
            raise NotImplementedError('impl(with_keyset=True): nbgrad has no dispatch key sets '
                                      'to pass to the kernel.')
        if not isinstance(op_name, str):
            op = _lookup(op_name)
        else:
            op = _lookup(op_name if '::' in op_name else f'{self.ns}::{op_name}')
        key = dispatch_key or self.dispatch_key or 'CompositeImplicitAutograd'
        if op._signature is None:
            op._signature = inspect.signature(fn)
        if key in ('Autograd', 'AutogradCPU', 'AutogradCUDA'):
            op._autograd_kernel = fn
        elif key == 'Meta':
            op.register_fake(fn)
        elif key in ('CPU', 'CUDA'):
            op._composite = False
            op.register_kernel(key.lower(), fn)
        elif key in ('CompositeImplicitAutograd', 'CompositeExplicitAutograd'):
            op.register_kernel(None, fn)
        else:
            raise ValueError(f'impl: dispatch key {key!r} is not supported by nbgrad (use CPU, '
                             'CUDA, CompositeImplicitAutograd, CompositeExplicitAutograd, '
                             'Autograd or Meta).')

    def fallback(self, fn, dispatch_key='', *, with_keyset=False):
        raise NotImplementedError('Library.fallback: nbgrad has no dispatcher to fall back in.')

    def _destroy(self):
        """Removes the ops this library defined (PyTorch does this when the library is
        deleted; here it is explicit)."""
        for qualname in self._defined:
            op = _ops.pop(qualname, None)
            if op is not None:
                _op_namespace.unregister(op._namespace, op._name)
        self._defined = []
        if _defining_libraries.get(self.ns) is self:
            del _defining_libraries[self.ns]


def define(qualname, schema, *, lib=None, tags=()):
    """Declares the op qualname ('ns::name') with schema '(Tensor x) -> Tensor'."""
    namespace, name = _split_qualname(qualname)
    library = lib if lib is not None else Library(namespace, 'FRAGMENT')
    library.define(name + schema, tags=tags)


def impl(qualname, types, func=None, *, lib=None):
    """Registers func as qualname's kernel for the device type(s) `types` ('cpu', 'cuda',
    'default' for all). Used as a decorator when func is not given."""
    def register(fn):
        op = _lookup(qualname)
        keys = (types,) if isinstance(types, str) else tuple(types)
        for key in keys:
            if key in ('default', 'CompositeImplicitAutograd', 'CompositeExplicitAutograd'):
                op.register_kernel(None, fn)
            else:
                op._composite = False
                op.register_kernel(key, fn)
            if op._signature is None:
                op._signature = inspect.signature(fn)
        return fn
    return register if func is None else register(func)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    return _lookup(op).register_kernel(device_types, func)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1):
    target = _lookup(op)
    return target.register_fake if func is None else target.register_fake(func)


impl_abstract = register_fake


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    _lookup(op).register_autograd(backward, setup_context=setup_context)
