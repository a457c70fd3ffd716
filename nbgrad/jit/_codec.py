"""Values in a jit archive as JSON data, and the allowlists that make loading one safe.

A traced op is an object of one of nbgrad's op classes (subclasses of autograd.graph.Node in
nbgrad's own modules) whose attributes are what it was built with: numbers, strings, tuples,
shapes, dtypes, slices... Those are written as tagged JSON and read back without running any
code from the file: a class is only ever looked up by name inside nbgrad and checked against
what it must be (an op class, an nn.Module class of nbgrad.nn, a namedtuple of nbgrad's), then
filled in with data. Functions are limited to nbgrad.nn.functional's public ones (a module's
`activation`) and to the random ops' sampler closures, rebuilt from their factory and its data
arguments. Anything else (a user function, an object of a user class, a user Generator) is
refused when saving, with the op or attribute named, so a file that saved also loads.
"""
import importlib
import inspect
import types

import numpy as np

from .._tensor import Size, Tensor


class ArchiveError(RuntimeError):
    """A value or class nbgrad's jit archive cannot hold (on save) or will not load."""


# the random ops keep their distribution as a closure made by one of these (data arguments)
_CLOSURE_FACTORIES = {
    ('nbgrad._random_ops', name) for name in (
        '_bernoulli_sampler', '_uniform_sampler', '_normal_sampler', '_exponential_sampler',
        '_geometric_sampler', '_cauchy_sampler', '_log_normal_sampler', '_random_sampler')}
_FUNCTION_MODULES = ('nbgrad.nn.functional',)


def resolve(path, what):
    """'module:qualname' inside nbgrad -> the object (imports nbgrad modules only)."""
    module_name, _, qualname = path.partition(':')
    if not (module_name == 'nbgrad' or module_name.startswith('nbgrad.')) or \
            '<locals>' in qualname or not qualname:
        raise ArchiveError(f'the archive names {what} {path!r}, which is not one of nbgrad\'s: '
                           f'nbgrad.jit.load only rebuilds nbgrad\'s own classes')
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split('.'):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise ArchiveError(f'the archive names {what} {path!r}, which this version of nbgrad '
                           f'does not have (was it saved by another version?)') from None
    return obj


def path_of(obj):
    return f'{obj.__module__}:{obj.__qualname__}'


def _subclasses_by_path(base):
    found, stack = {}, [base]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            found.setdefault(path_of(sub), []).append(sub)
            stack.append(sub)
    return found


def op_class(path):
    """The op class named `path`: found among the subclasses of autograd's Node (many op
    classes are made by tables, so they are not attributes of their module)."""
    from ..autograd.graph import Node
    module_name = path.partition(':')[0]
    if not module_name.startswith('nbgrad.'):
        raise ArchiveError(f'the archive names the op class {path!r}, which is not one of '
                           f'nbgrad\'s')
    candidates = _subclasses_by_path(Node).get(path)
    if candidates is None:
        resolve(module_name + ':__name__', 'the module of the op class')  # (imports it)
        candidates = _subclasses_by_path(Node).get(path)
    if not candidates:
        raise ArchiveError(f'the archive names the op class {path!r}, which this version of '
                           f'nbgrad does not have (was it saved by another version?)')
    if len(candidates) > 1:
        raise ArchiveError(f'the op class name {path!r} names {len(candidates)} classes; a '
                           f'jit archive cannot tell them apart')
    return candidates[0]


def module_class(path):
    from ..nn import Module
    cls = resolve(path, 'the module class')
    if not (isinstance(cls, type) and issubclass(cls, Module)
            and cls.__module__.startswith('nbgrad.nn.')):
        raise ArchiveError(f'the archive names {path!r} as a module class, but it is not one '
                           f'of nbgrad.nn\'s modules')
    return cls


def is_rebuildable_module_class(cls):
    """A module class jit.load rebuilds from data: one of nbgrad.nn's own."""
    return cls.__module__.startswith('nbgrad.nn.') and '<locals>' not in cls.__qualname__


class Encoder:
    """Python value -> JSON. Tensors (and arrays) are not written inline: `tensor_key(t)` puts
    them in the archive's tensor file and gives the key that refers to them."""

    def __init__(self, tensor_key):
        self.tensor_key = tensor_key

    def __call__(self, value, where):
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return value            # (json writes nan and inf as NaN / Infinity and reads them)
        if isinstance(value, Tensor):
            return {'$': 'tensor', 'key': self.tensor_key(value)}
        if isinstance(value, Size):
            return {'$': 'Size', 'v': [self(v, where) for v in value]}
        if type(value) is tuple:
            return {'$': 'tuple', 'v': [self(v, where) for v in value]}
        if type(value) is list:
            return [self(v, where) for v in value]
        if type(value) is dict:
            return {'$': 'dict', 'v': [[self(k, where), self(v, where)]
                                       for k, v in value.items()]}
        if isinstance(value, tuple) and hasattr(type(value), '_fields') and \
                type(value).__module__.startswith('nbgrad.'):
            return {'$': 'namedtuple', 'cls': path_of(type(value)),
                    'v': [self(v, where) for v in value]}
        if type(value) is complex:
            return {'$': 'complex', 'v': [value.real, value.imag]}
        if type(value) is slice:
            return {'$': 'slice', 'v': [self(value.start, where), self(value.stop, where),
                                        self(value.step, where)]}
        if value is Ellipsis:
            return {'$': 'ellipsis'}
        if isinstance(value, np.generic):
            return {'$': 'np', 'dtype': value.dtype.str, 'v': self(value.item(), where)}
        if isinstance(value, np.dtype):
            return {'$': 'np_dtype', 'v': value.str}
        if isinstance(value, np.ndarray):
            if value.dtype.kind == 'O':
                raise ArchiveError(f'{where} is a NumPy array of Python objects, which nbgrad\'s '
                                   f'jit archive cannot hold')
            from .. import from_numpy
            return {'$': 'array', 'key': self.tensor_key(from_numpy(np.array(value)))}
        return self._object(value, where)

    def _object(self, value, where):
        from .._device import device
        from .._dtype import dtype
        from ..random import Generator, default_generator_for
        if isinstance(value, dtype):
            return {'$': 'dtype', 'v': value.name}
        if isinstance(value, device):
            return {'$': 'device', 'v': str(value)}
        if isinstance(value, Generator):
            if value is not default_generator_for(value.device):
                raise ArchiveError(f'{where} draws from a Generator made by the program; a jit '
                                   f'archive records draws from the default generator only')
            return {'$': 'generator', 'device': str(value.device)}
        if isinstance(value, types.FunctionType):
            return self._function(value, where)
        raise ArchiveError(f'{where} is a {type(value).__module__}.{type(value).__qualname__}, '
                           f'which nbgrad\'s jit archive cannot hold (it stores data: numbers, '
                           f'strings, tuples, dtypes, tensors...)')

    def _function(self, fn, where):
        qualname, module = fn.__qualname__, fn.__module__ or ''
        factory, _, rest = qualname.partition('.<locals>.')
        if rest and (module, factory) in _CLOSURE_FACTORIES and '<locals>' not in rest:
            # the factory's arguments the closure kept (what it computed from them, it computes
            # again when rebuilt)
            parameters = inspect.signature(resolve(f'{module}:{factory}', 'the function')).parameters
            cells = dict(zip(fn.__code__.co_freevars,
                             (c.cell_contents for c in fn.__closure__ or ())))
            return {'$': 'closure', 'factory': f'{module}:{factory}', 'qualname': qualname,
                    'kwargs': {k: self(v, where) for k, v in cells.items() if k in parameters}}
        if module.startswith(_FUNCTION_MODULES) and '<locals>' not in qualname and \
                not fn.__name__.startswith('_'):
            return {'$': 'function', 'v': f'{module}:{qualname}'}
        raise ArchiveError(f'{where} is the function {module}.{qualname}: a jit archive holds '
                           f'data, never code (only nbgrad.nn.functional\'s functions are '
                           f'stored, by name)')


class Decoder:
    """JSON -> Python value; `tensor(key)` gives the loaded tensor of a key."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __call__(self, data):
        if isinstance(data, list):
            return [self(v) for v in data]
        if not isinstance(data, dict):
            return data
        tag = data.get('$')
        handler = getattr(self, f'_{tag}', None) if isinstance(tag, str) else None
        if handler is None:
            raise ArchiveError(f'the archive holds a value tagged {tag!r}, which nbgrad.jit.load '
                               f'does not know')
        return handler(data)

    def _tensor(self, data):
        return self.tensor(data['key'])

    def _array(self, data):
        return self.tensor(data['key']).cpu().numpy()

    def _Size(self, data):
        return Size(self(data['v']))

    def _tuple(self, data):
        return tuple(self(data['v']))

    def _dict(self, data):
        return {_hashable(self(k)): self(v) for k, v in data['v']}

    def _namedtuple(self, data):
        cls = resolve(data['cls'], 'the named tuple')
        if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, '_fields')):
            raise ArchiveError(f'{data["cls"]!r} is not a named tuple class')
        return cls(*self(data['v']))

    def _complex(self, data):
        return complex(*data['v'])

    def _slice(self, data):
        return slice(*self(data['v']))

    def _ellipsis(self, data):
        return Ellipsis

    def _np(self, data):
        return np.dtype(data['dtype']).type(self(data['v']))

    def _np_dtype(self, data):
        dt = np.dtype(data['v'])
        if dt.kind == 'O':
            raise ArchiveError('the archive asks for a NumPy object dtype, which it never holds')
        return dt

    def _dtype(self, data):
        from .._dtype import _dtype_by_name, dtype
        try:
            value = _dtype_by_name(data['v'])
        except (KeyError, AttributeError, TypeError):
            value = None
        if not isinstance(value, dtype):
            raise ArchiveError(f'{data["v"]!r} is not an nbgrad dtype')
        return value

    def _device(self, data):
        from .._device import device
        return device(data['v'])

    def _generator(self, data):
        from .._device import device
        from ..random import default_generator_for
        return default_generator_for(device(data['device']))

    def _function(self, data):
        module = data['v'].partition(':')[0]
        fn = resolve(data['v'], 'the function')
        if not (module.startswith(_FUNCTION_MODULES) and isinstance(fn, types.FunctionType)):
            raise ArchiveError(f'{data["v"]!r} is not one of nbgrad.nn.functional\'s functions')
        return fn

    def _closure(self, data):
        module, _, name = data['factory'].partition(':')
        if (module, name) not in _CLOSURE_FACTORIES:
            raise ArchiveError(f'{data["factory"]!r} is not one of the closures a jit archive '
                               f'may rebuild')
        factory = resolve(data['factory'], 'the function')
        fn = factory(**{k: self(v) for k, v in data['kwargs'].items()})
        if getattr(fn, '__qualname__', None) != data.get('qualname'):
            raise ArchiveError(f'{data["factory"]!r} no longer makes {data.get("qualname")!r} '
                               f'(was the archive saved by another version of nbgrad?)')
        return fn


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key
