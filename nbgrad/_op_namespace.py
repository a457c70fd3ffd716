"""nbgrad.ops.<namespace>.<name>: the custom ops defined with nbgrad.library, reached the way
PyTorch reaches them (torch.ops.mylib.numpy_sin, .default for the overload).

nbgrad.ops is also the package of nbgrad's own op implementations, so a namespace is set on it
as an attribute when its first op is defined (never guessed from an unknown attribute, which
would hide a missing submodule), and a namespace may not take a submodule's name."""
import sys


class FunctionSchema:
    """An op's schema: str() gives 'mylib::numpy_sin(Tensor x) -> Tensor'."""

    def __init__(self, qualname, signature, overload_name=''):
        self.name = qualname
        self.overload_name = overload_name
        self._signature = signature     # '(Tensor x) -> Tensor'

    def __str__(self):
        return self.name + self._signature

    def __repr__(self):
        return str(self)


class OpOverload:
    """One overload of an op (nbgrad's custom ops have one: .default)."""

    def __init__(self, packet, overload_name):
        self._packet = packet
        self._overloadname = overload_name

    def __call__(self, *args, **kwargs):
        return self._packet._op(*args, **kwargs)

    @property
    def _schema(self):
        return self._packet._op._function_schema

    def name(self):
        return self._packet._qualified_op_name

    def __repr__(self):
        return f"<OpOverload(op='{self._packet}', overload='{self._overloadname}')>"

    def __str__(self):
        return f'{self._packet}.{self._overloadname}'


class OpOverloadPacket:
    """nbgrad.ops.<ns>.<name>: callable, with its overloads as attributes."""

    def __init__(self, namespace, name, op):
        self._namespace, self.__name__, self._op = namespace, name, op
        self._qualified_op_name = f'{namespace}::{name}'
        self.default = OpOverload(self, 'default')

    def __call__(self, *args, **kwargs):
        return self._op(*args, **kwargs)

    def overloads(self):
        return ['default']

    def __getattr__(self, name):
        """aten's named overloads (torch.ops.aten.add.Tensor): each calls the one function."""
        if self._namespace == 'aten' and not name.startswith('_'):
            return OpOverload(self, name)
        raise AttributeError(f"'OpOverloadPacket' object has no attribute '{name}'")

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self}')>"

    def __str__(self):
        return f'{self._namespace}.{self.__name__}'


class _OpNamespace:
    """nbgrad.ops.<ns>: its ops as attributes."""

    def __init__(self, name):
        self.name = name

    def __getattr__(self, op_name):
        if op_name.startswith('__'):
            raise AttributeError(op_name)
        raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute "
                             f"'{op_name}'")

    def __repr__(self):
        return f"<module 'nbgrad.ops.{self.name}' from 'nbgrad.ops'>"


def _ops_package():
    return sys.modules[__name__.rpartition('.')[0] + '.ops']


def namespace(name):
    """The namespace object nbgrad.ops.<name>, made on first use."""
    ops = _ops_package()
    existing = ops.__dict__.get(name)
    if isinstance(existing, _OpNamespace):
        return existing
    import importlib.util
    if existing is not None or name.startswith('_') or \
            importlib.util.find_spec(f'{ops.__name__}.{name}') is not None:
        raise RuntimeError(f'The op namespace {name!r} clashes with nbgrad.ops.{name}, part of '
                           "nbgrad's own op implementations: choose another namespace for your "
                           'custom ops (e.g. your project\'s name).')
    made = _OpNamespace(name)
    setattr(ops, name, made)
    return made


def register(ns, name, op):
    packet = OpOverloadPacket(ns, name, op)
    setattr(namespace(ns), name, packet)
    return packet


def unregister(ns, name):
    space = _ops_package().__dict__.get(ns)
    if isinstance(space, _OpNamespace):
        space.__dict__.pop(name, None)
