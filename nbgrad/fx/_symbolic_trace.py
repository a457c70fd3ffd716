"""Symbolic tracing: run a Module's forward on Proxies and keep what it does as a Graph.

While a Tracer runs, Module.__call__ and Module.__getattr__ are patched: calls of leaf modules
(nbgrad's own layers, by default) become call_module Nodes instead of running, other modules are
traced through, and reading a parameter becomes a get_attr Node. Functions registered with
fx.wrap (and math functions imported into the traced code's globals) are recorded as calls
rather than traced into. Everything is restored when tracing ends, also on an error.
"""
import builtins
import collections
import functools
import inspect
import math
import os
import traceback
import types
import warnings

from .. import nn
from .._tensor import Tensor
from ..nn.parameter import Parameter
from .graph import Graph
from .node import map_aggregate
from .proxy import Attribute, ParameterProxy, Proxy, TraceError

_wrapped = []          # (globals of the module that called wrap, the function's name)
_tracing = [0]
_CONSTANT_TYPES = (str, int, float, bool, complex, type(None), type(Ellipsis), range)


def is_fx_tracing():
    return _tracing[0] > 0


def wrap(fn_or_name):
    """Record calls of this module-level function as call_function Nodes instead of tracing
    into it (for functions that use len(), control flow or other untraceable Python). Call at
    module scope: wrap('my_fn') or wrap(my_fn)."""
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError('Unsupported type for global function! Must be either a callable or '
                           'string name')
    name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    caller = inspect.currentframe().f_back
    if caller.f_code.co_name != '<module>':
        raise NotImplementedError('wrap must be called at the top level of a module')
    _wrapped.append((caller.f_globals, name))
    return fn_or_name


def _recording(tracer, fn):
    """fn, recorded as a call_function Node when called with a Proxy among its arguments."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        proxies = []
        map_aggregate((args, kwargs), lambda a: proxies.append(a) if isinstance(a, Proxy)
                      else None)
        if proxies:
            proxy = proxies[0].tracer.create_proxy('call_function', fn, args, kwargs)
            proxy.node.meta['is_wrapped'] = True   # (the code re-registers it: fx.wrap)
            return proxy
        return fn(*args, **kwargs)
    wrapper._fx_original = fn
    return wrapper


class _Patcher:
    """Attribute and dict-entry replacements, undone in reverse order."""

    def __init__(self):
        self._undo = []

    def patch_attr(self, owner, name, value):
        self._undo.append(functools.partial(setattr, owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def patch_item(self, mapping, name, value):
        if name in mapping:
            self._undo.append(functools.partial(mapping.__setitem__, name, mapping[name]))
        else:
            self._undo.append(functools.partial(mapping.pop, name, None))
        mapping[name] = value

    def undo(self):
        while self._undo:
            self._undo.pop()()


class Tracer:
    """Turns a Module or function into a Graph (trace). Subclass it and override
    is_leaf_module, call_module, create_arg or create_proxy to change what is recorded."""

    traced_func_name = 'forward'        # the method of a Module root that is traced
    proxy_buffer_attributes = False     # True: reading a buffer gives one cached get_attr Proxy
    record_stack_traces = False

    def __init__(self, autowrap_modules=(math,), autowrap_functions=(),
                 param_shapes_constant=False):
        self._autowrap_ids = {id(value) for module in autowrap_modules
                              for name, value in vars(module).items()
                              if not name.startswith('_') and callable(value)}
        self._autowrap_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_functions = tuple(autowrap_functions)
        self._autowrap_modules = tuple(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.graph = None
        self.root = None
        self.submodule_paths = None
        self._patcher = None
        # key -> (path, class), outermost first; a module's second call is 'path@1'...
        self.module_stack = collections.OrderedDict()
        self.num_calls = {}

    # -- what to record ----------------------------------------------------------------------

    def is_leaf_module(self, m, module_qualified_name):
        """nbgrad's own modules (nn.Linear, nn.ReLU...) are recorded as calls, except
        Sequential; user modules are traced through."""
        module = type(m).__module__
        return (module == 'nbgrad.nn' or module.startswith('nbgrad.nn.')) and \
            not isinstance(m, nn.Sequential)

    def path_of_module(self, mod):
        path = self.submodule_paths.get(mod) if self.submodule_paths is not None else None
        if path is None:
            for name, m in self.root.named_modules():
                if m is mod:
                    return name
            raise NameError('module is not installed as a submodule')
        return path

    def call_module(self, m, forward, args, kwargs):
        """A module call: traced through, or recorded as one call_module Node for a leaf.
        The Nodes made meanwhile note the modules they are inside (meta['nn_module_stack'])."""
        name = self.path_of_module(m)
        calls = self.num_calls.get(name, 0)
        key = f'{name}@{calls}' if calls else name
        self.module_stack[key] = (name, type(m))
        self.num_calls[name] = calls + 1
        if self._patcher is not None:   # (math functions its own file imported, recorded too)
            _autowrap(self, self._patcher,
                      getattr(getattr(m, 'forward', m), '__globals__', {}))
        try:
            if not self.is_leaf_module(m, name):
                return forward(*args, **kwargs)
            return self.create_proxy('call_module', name, args, kwargs)
        finally:
            self.module_stack.pop(key, None)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """What reading module attribute `attr` gives during tracing: a get_attr Proxy for a
        parameter of the root (one per parameter), else the value."""
        def cached_proxy(collection, make_factory):
            for name, value in collection:
                if attr_val is value:
                    if name not in parameter_proxy_cache:
                        extra = {}
                        # (a subclass's create_proxy may not take proxy_factory_fn: torchvision's)
                        if 'proxy_factory_fn' in inspect.signature(self.create_proxy).parameters:
                            extra['proxy_factory_fn'] = make_factory(name, value)
                        parameter_proxy_cache[name] = self.create_proxy('get_attr', name, (),
                                                                        {}, **extra)
                    return parameter_proxy_cache[name]
            return None
        if isinstance(attr_val, Parameter):
            found = cached_proxy(self.root.named_parameters(), lambda name, p: None if not
                                 self.param_shapes_constant else
                                 (lambda node: ParameterProxy(self, node, name, p)))
            if found is not None:
                return found
        if self.proxy_buffer_attributes and isinstance(attr_val, Tensor):
            found = cached_proxy(self.root.named_buffers(), lambda name, b: None)
            if found is not None:
                return found
        return attr_val

    def create_arg(self, a):
        """A traced value as a Node operand: Proxies as their Nodes, parameters, buffers and
        tensor attributes of the root as get_attr Nodes, other tensors stored on the root as
        _tensor_constantN, containers item by item."""
        if isinstance(a, Proxy):
            return a.node
        if isinstance(a, Parameter):
            for name, p in self.root.named_parameters():
                if a is p:
                    return self.create_node('get_attr', name, (), {})
            raise NameError('parameter is not a member of this module')
        if isinstance(a, Tensor):
            for name, b in self.root.named_buffers():
                if a is b:
                    return self.create_node('get_attr', name, (), {})
            qualified = self.tensor_attrs.get(id(a), (None, None))[0]
            if qualified is None:
                i = 0
                while hasattr(self.root, f'_tensor_constant{i}'):
                    i += 1
                qualified = f'_tensor_constant{i}'
                setattr(self.root, qualified, a)
                self.tensor_attrs[id(a)] = (qualified, a)
            return self.create_node('get_attr', qualified, (), {})
        if isinstance(a, nn.Module):
            for name, m in self.root.named_modules():
                if a is m:
                    return self.create_node('get_attr', name, (), {})
        if isinstance(a, tuple) and hasattr(a, '_fields'):
            return self.create_node('call_function', type(a),
                                    tuple(self.create_arg(e) for e in a), {})
        if isinstance(a, (tuple, list)):
            return type(a)(self.create_arg(e) for e in a) if type(a) in (tuple, list) else \
                type(a)(tuple(self.create_arg(e) for e in a))
        if isinstance(a, dict):
            result = {}
            for k, v in a.items():
                if isinstance(k, Proxy):
                    raise RuntimeError('Keys for dictionaries used as an argument cannot '
                                       'contain a Node. Got key: ' + repr(k))
                result[k] = self.create_arg(v)
            return result
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if isinstance(a, _CONSTANT_TYPES) or callable(a) or _is_nbgrad_constant(a):
            return a
        raise NotImplementedError(f'argument of type: {type(a)}')

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        if self.module_stack:
            node.meta['nn_module_stack'] = collections.OrderedDict(self.module_stack)
        return node

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None,
                     proxy_factory_fn=None):
        node = self.create_node(kind, target, self.create_arg(tuple(args)),
                                self.create_arg(dict(kwargs)), name, type_expr)
        if self.record_stack_traces and not node.stack_trace:
            node.stack_trace = _user_stack_trace()
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def proxy(self, node):
        return Proxy(node, self)

    def iter(self, obj):
        raise TraceError('Proxy object cannot be iterated. This can be attempted when the Proxy '
                         'is used in a loop or as a *args or **kwargs function argument. See the '
                         'torch.fx docs on pytorch.org for a more detailed explanation of what '
                         'types of control flow can be traced, and check out the Proxy '
                         'docstring for help troubleshooting Proxy iteration errors')

    def to_bool(self, obj):
        raise TraceError('symbolically traced variables cannot be used as inputs to control '
                         'flow')

    def keys(self, obj):
        return Attribute(obj, 'keys')()

    # -- tracing -------------------------------------------------------------------------

    def trace(self, root, concrete_args=None):
        """The Graph of root (a Module, or a function: traced as the forward of an empty
        Module) called on placeholders for its parameters."""
        if isinstance(root, nn.Module):
            self.root = root
            fn = getattr(type(root), self.traced_func_name)
        elif isinstance(root, types.FunctionType):
            self.root = nn.Module()
            fn = root
        else:     # (AssertionError, as PyTorch's: a bound method or partial too)
            raise AssertionError(f'Expected FunctionType, got {type(root)}: symbolic_trace '
                                 f'takes a Module or a function')
        self.graph = Graph(tracer_cls=type(self))
        self.tensor_attrs = {}
        self._collect_tensor_attrs(self.root, [])
        self.submodule_paths = {m: name for name, m in self.root.named_modules()}
        fn, args = self._placeholders(fn, isinstance(root, nn.Module), concrete_args)
        patcher = self._patcher = _Patcher()
        self.num_calls = {}
        _tracing[0] += 1
        try:
            self._patch(patcher, fn)
            result = fn(*args)
            self.create_node('output', 'output', (self.create_arg(result),), {},
                             type_expr=getattr(fn, '__annotations__', {}).get('return'))
        finally:
            _tracing[0] -= 1
            patcher.undo()
            self.submodule_paths = self._patcher = None
        return self.graph

    def _collect_tensor_attrs(self, module, prefix):
        for name, value in vars(module).items():
            if isinstance(value, Tensor):
                self.tensor_attrs[id(value)] = ('.'.join(prefix + [name]), value)
        for name, child in module.named_children():
            self._collect_tensor_attrs(child, prefix + [name])

    def _patch(self, patcher, fn):
        from .._function_dispatch import wrap_tensor_methods
        wrap_tensor_methods()   # (a constant tensor's method given a Proxy dispatches to it)
        tracer = self
        original_call, original_getattr = nn.Module.__call__, nn.Module.__getattr__
        parameter_proxies = {}

        def module_call(mod, *args, **kwargs):
            def forward(*args, **kwargs):
                return original_call(mod, *args, **kwargs)
            return tracer.call_module(mod, forward, args, kwargs)

        def module_getattr(mod, attr):
            return tracer.getattr(attr, original_getattr(mod, attr), parameter_proxies)
        patcher.patch_attr(nn.Module, '__call__', module_call)
        patcher.patch_attr(nn.Module, '__getattr__', module_getattr)
        for namespace, name in _wrapped:
            if name in namespace:
                patcher.patch_item(namespace, name, _recording(self, namespace[name]))
            elif name in vars(builtins):
                patcher.patch_item(namespace, name, _recording(self, vars(builtins)[name]))
        # autowrapped functions (math's), where the traced code finds them: in its globals
        # (from math import sqrt) and in their modules (math.sqrt); each module's file's
        # globals as it is called (call_module)
        for namespace in [getattr(inspect.unwrap(fn), '__globals__', {})] + \
                [vars(m) for m in self._autowrap_modules]:
            _autowrap(self, patcher, namespace)

    def _placeholders(self, fn, is_module, concrete_args):
        """fn made to take every parameter positionally, and the arguments to call it with:
        the root, then a placeholder Proxy (or a concrete value) per parameter."""
        inner = inspect.unwrap(fn)
        code = inner.__code__
        total = code.co_argcount + code.co_kwonlyargcount
        names = list(code.co_varnames)
        args = []
        if is_module:
            if total == 0:
                raise RuntimeError('``self`` argument cannot be part of *args expansion!')
            args.append(self.root)
            names, total = names[1:], total - 1
        signature = inspect.signature(inner)
        arg_names = names[:total]
        if isinstance(concrete_args, tuple):
            if len(arg_names) != len(concrete_args):
                raise RuntimeError(f'Tracing expected {len(arg_names)} arguments but got '
                                   f'{len(concrete_args)} concrete arguments')
            concrete_args = dict(zip(arg_names, concrete_args))
        concrete_args = concrete_args or {}
        args.extend(self._placeholder(name, concrete_args, signature, inner)
                    for name in arg_names)
        rest = names[total:]
        flags = code.co_flags
        if flags & inspect.CO_VARARGS:
            args.append(self._placeholder('*' + rest.pop(0), concrete_args, signature, inner))
        if flags & inspect.CO_VARKEYWORDS:
            args.append(self._placeholder('**' + rest.pop(0), concrete_args, signature, inner))
        if code.co_kwonlyargcount or flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            fn = _positional(fn, len(args))
        return fn, args

    def _placeholder(self, name, concrete_args, signature, fn):
        bare = name.lstrip('*')
        parameter = signature.parameters.get(bare)
        default = () if parameter is None or parameter.default is inspect.Parameter.empty \
            else (parameter.default,)
        type_expr = getattr(fn, '__annotations__', {}).get(bare)
        if bare in concrete_args:
            return self._specialize(bare, concrete_args[bare], default)
        if name.startswith('*'):
            default = ()
        return self.create_proxy('placeholder', name, default, {}, type_expr=type_expr)

    def _specialize(self, name, value, default):
        """A concrete argument: its value is used while tracing, and the graph checks that
        the input it is given equals it (PyTorch's concrete_args)."""
        placeholder = self.create_proxy('placeholder', f'{name}_1', default, {})
        if isinstance(value, PHBase):
            return placeholder
        if type(value) in (bool, int, float, str, complex):
            import nbgrad
            nbgrad._assert(placeholder == value, f'{name} has been specialized to have value '
                                                 f'{value} but got another value')
        elif value is None:
            self.create_proxy('call_function', _assert_is_none,
                              (placeholder, f'{name} has been specialized to have value None but '
                                            f'got another value'), {})
        else:
            warnings.warn(f'Was not able to add assertion to guarantee correct input {name} to '
                          f'specialized function. It is up to the user to make sure that your '
                          f'inputs match the inputs you specialized the function with.')
        return value


_NBGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stack_trace():
    """The traced code's frames from the first forward on, nbgrad's own left out, formatted as
    a traceback (PyTorch's record_stack_traces)."""
    frames = traceback.extract_stack()
    first = next((i for i, f in enumerate(frames) if f.name == 'forward'), None)
    if first is None:
        return ''
    return ''.join(traceback.format_list(
        [f for f in frames[first:] if not f.filename.startswith(_NBGRAD_DIR)])).strip()


def _autowrap(tracer, patcher, namespace):
    """The autowrapped functions among namespace's globals replaced by recording ones (once)."""
    for name, value in list(namespace.items()):
        if not name.startswith('_') and callable(value) and id(value) in tracer._autowrap_ids:
            patcher.patch_item(namespace, name, _recording(tracer, value))


class PHBase:
    """The kind of PH: a concrete_args value that stays a placeholder."""

    def __repr__(self):
        return 'PH'


PH = PHBase()


def _assert_is_none(value, msg):
    assert value is None, msg


def _is_nbgrad_constant(a):
    module = type(a).__module__ or ''
    return module == 'nbgrad' or module.startswith('nbgrad.')


def _positional(fn, count):
    """fn with its keyword-only, *args and **kwargs parameters turned into plain positional
    ones (so the tracer can pass a placeholder for each, as PyTorch's _patch_function)."""
    code = fn.__code__
    flags = code.co_flags & ~(inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
    patched = code.replace(co_argcount=count, co_kwonlyargcount=0, co_flags=flags)
    return types.FunctionType(patched, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)


class GraphAppendingTracer(Tracer):
    """The tracer of Proxies made on an existing Graph (Proxy(node) without a tracer)."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.tensor_attrs = {}
        self.root = nn.Module()


def symbolic_trace(root, concrete_args=None):
    """The GraphModule of root (a Module or function), traced on Proxies. Its .graph lists
    the operations, .code the forward they stand for, and calling it runs them."""
    from .graph_module import GraphModule
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, nn.Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
