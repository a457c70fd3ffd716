"""fx.Proxy: the stand-in values symbolic tracing runs a program on.

Every operation on a Proxy is recorded as a Node instead of computed: operators as
call_function of the `operator` function (x + y -> operator.add), method calls and attribute
reads as call_method / getattr, and nbgrad functions (torch.relu(x), F.linear) through the
__torch_function__ protocol, which nbgrad's public functions honour. What cannot be recorded,
because it needs a concrete value (bool() for an `if`, len(), iteration), raises TraceError.
"""
import dis
import inspect
import operator

from .graph import MAGIC_METHODS, REFLECTABLE_MAGIC_METHODS
from .node import Node, map_aggregate


class TraceError(ValueError):
    pass


class Proxy:
    """A Node being traced; operations on it record new Nodes through its tracer."""

    def __init__(self, node, tracer=None):
        if tracer is None:
            from ._symbolic_trace import GraphAppendingTracer
            tracer = GraphAppendingTracer(node.graph)
        self.tracer, self.node = tracer, node

    def __repr__(self):
        return f'Proxy({self.node.name})'

    def __getattr__(self, k):
        if k.startswith('__') and k.endswith('__'):
            raise AttributeError(k)   # (copy, pickle and numpy probe these: not recorded)
        return Attribute(self, k)

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy('call_method', '__call__', (self,) + args, kwargs)

    def __iter__(self):
        # `a, b = proxy` unpacks into proxy[0], proxy[1] (the count read from the bytecode
        # doing the unpacking, as PyTorch does); any other iteration needs a real length
        frame = inspect.currentframe().f_back
        for instruction in dis.get_instructions(frame.f_code):
            if instruction.offset == frame.f_lasti:
                if instruction.opname == 'UNPACK_SEQUENCE':
                    return (self[i] for i in range(instruction.argval))
                break
        return self.tracer.iter(self)

    def __bool__(self):
        return self.tracer.to_bool(self)

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want "
                           "this call to be recorded, please call torch.fx.wrap('len') at "
                           "module scope")

    def __abs__(self):
        return self.tracer.create_proxy('call_function', operator.abs, (self,), {})

    def keys(self):
        return self.tracer.keys(self)

    @classmethod
    def __torch_function__(cls, orig_method, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tracers = {}

        def find_tracer(a):
            if isinstance(a, cls):
                tracers[a.tracer] = None
        map_aggregate(args, find_tracer)
        map_aggregate(kwargs, find_tracer)
        if len(tracers) > 1:
            raise RuntimeError(f'Found multiple different tracers {list(tracers)} while trying '
                               f'to trace operations {orig_method}')
        tracer = next(iter(tracers))
        from ..overrides import is_tensor_method_or_property
        if is_tensor_method_or_property(orig_method):
            return tracer.create_proxy('call_method', orig_method.__name__, args, kwargs)
        return tracer.create_proxy('call_function', orig_method, args, kwargs,
                                   name=tracer.graph._target_to_str(orig_method.__name__))


class Attribute(Proxy):
    """proxy.attr: becomes a call_method when called, else a getattr Node when first used."""

    def __init__(self, root, attr):
        self.root, self.attr, self.tracer = root, attr, root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy('call_function', getattr,
                                                  (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy('call_method', self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """A parameter's Proxy under Tracer(param_shapes_constant=True): its shape, size(), dim(),
    ndim, numel() and nelement() are the parameter's own, so code branching on them traces."""

    def __init__(self, tracer, node, name, param):
        super().__init__(node, tracer)
        self.param, self.name = param, name

    def __repr__(self):
        return f'ParameterProxy({self.name})'

    @property
    def shape(self):
        return self.param.shape

    @property
    def ndim(self):
        return self.param.ndim

    def size(self, *dim):
        return self.param.size(*dim)

    def dim(self):
        return self.param.dim()

    def numel(self):
        return self.param.numel()

    def nelement(self):
        return self.param.nelement()


def _operator_method(name):
    target = getattr(operator, name)

    def impl(*args):
        return args[0].tracer.create_proxy('call_function', target, args, {})
    impl.__name__ = f"__{name.rstrip('_')}__"
    return impl


def _reflected_method(name):
    target = getattr(operator, name)

    def impl(self, rhs):
        return self.tracer.create_proxy('call_function', target, (rhs, self), {})
    impl.__name__ = f"__r{name.rstrip('_')}__"
    return impl


for _name in MAGIC_METHODS:
    if hasattr(operator, _name):       # ('div' is in the table for code written by others)
        setattr(Proxy, f"__{_name.rstrip('_')}__", _operator_method(_name))
for _name in REFLECTABLE_MAGIC_METHODS:
    if _name != 'getitem' and hasattr(operator, _name):
        setattr(Proxy, f"__r{_name.rstrip('_')}__", _reflected_method(_name))
Proxy.__hash__ = object.__hash__    # (__eq__ records a Node; Proxies stay usable as keys)
del _name


def is_proxy(value):
    return isinstance(value, Proxy)


__all__ = ['Attribute', 'Node', 'ParameterProxy', 'Proxy', 'TraceError']
