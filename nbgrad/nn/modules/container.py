"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

List-like containers keep their items under the names '0', '1', ... and renumber after a
deletion, as PyTorch does, so state_dict keys match PyTorch's for the same model.
"""
import operator
import warnings
from collections import OrderedDict
from collections import abc
from itertools import chain

from ..._tensor import Tensor
from ..parameter import Parameter
from .module import Module, _addindent, _typename

__all__ = ['Container', 'Sequential', 'ModuleList', 'ModuleDict', 'ParameterList',
           'ParameterDict']

_CONTAINER_DEPRECATED = ('`nn.Container` is deprecated. All of its functionality is now '
                         'implemented in `nn.Module`. Subclass that instead.')


class Container(Module):
    """Deprecated (PyTorch warns on making one and on subclassing): a Module holding the
    modules given as keywords."""

    def __init_subclass__(cls, **kwargs):
        warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs):
        if type(self) is Container:
            warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


def _absolute_index(idx, size):
    """The non-negative position for idx (negative counts from the end), or PyTorch's error."""
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f'index {idx} is out of range')
    return idx % size if size else idx


class _IndexedModules(Module):
    """What Sequential and ModuleList share: modules named by position."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module):
        setattr(self, str(_absolute_index(idx, len(self))), module)

    def __delitem__(self, idx):
        names = list(self._modules)
        doomed = names[idx] if isinstance(idx, slice) else [names[_absolute_index(idx, len(names))]]
        for name in doomed:
            delattr(self, name)
        self._renumber()

    def _renumber(self):
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(self._modules.values()))

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def _shift_in(self, index, module):
        """Insert module at index (already checked and non-negative), moving the rest up."""
        for i in range(len(self._modules), index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_IndexedModules):
    """Runs its modules in order, each on the previous one's output."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_absolute_index(idx, len(self))]

    def __setitem__(self, idx, module):
        setattr(self, list(self._modules)[_absolute_index(idx, len(self))], module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def insert(self, index, module):
        if not isinstance(module, Module):
            raise AssertionError(f'module should be of type: {Module}')
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f'Index out of range: {index}')
        self._shift_in(index + n if index < 0 else index, module)
        return self

    def extend(self, sequential):
        for layer in sequential:
            self.append(layer)
        return self

    def _require_sequential(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f'add operator supports only objects of Sequential class, but '
                             f'{type(other)} is given.')

    def __add__(self, other):
        self._require_sequential(other)
        return Sequential(*self, *other)

    def __iadd__(self, other):
        self._require_sequential(other)
        return self.extend(list(other))

    def _check_factor(self, other):
        if not isinstance(other, int):
            raise TypeError(f'unsupported operand type(s) for *: {type(self)} and {type(other)}')
        if other <= 0:
            raise ValueError(f'Non-positive multiplication factor {other} for {type(self)}')

    def __mul__(self, other):
        self._check_factor(other)
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__

    def __imul__(self, other):
        self._check_factor(other)
        return self.extend(list(self) * (other - 1))


class ModuleList(_IndexedModules):
    """A list of modules, registered so that parameters(), to(), state_dict()... see them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self += modules

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[str(_absolute_index(idx, len(self)))]

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(chain(self, other)))

    def insert(self, index, module):
        self._shift_in(index, module)

    def extend(self, modules):
        if not isinstance(modules, abc.Iterable):
            raise TypeError('ModuleList.extend should be called with an iterable, but got ' +
                            type(modules).__name__)
        for module in list(modules):
            self.append(module)
        return self

    def __repr__(self):
        """Runs of identical module reprs print once: (0-2): 3 x Linear(...), as in PyTorch."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + '()'
        lines, start = [], 0
        for i in range(1, len(reprs) + 1):
            if i == len(reprs) or reprs[i] != reprs[start]:
                label = f'({start})' if i - 1 == start else f'({start}-{i - 1}): {i - start} x'
                separator = ':' if i - 1 == start else ''
                lines.append(_addindent(f'{label}{separator} {reprs[start]}', 2))
                start = i
        return self._get_name() + '(\n  ' + '\n  '.join(lines) + '\n)'

    def forward(self, *args, **kwargs):
        raise NotImplementedError('ModuleList has no forward: iterate over it in your own '
                                  "module's forward")


def _update_items(container, values, kind, sort_plain_dicts):
    """ModuleDict.update / ParameterDict.update: a mapping or an iterable of (key, value) pairs.
    ParameterDict sorts the keys of a plain dict (PyTorch's rule from before dicts were
    ordered); ModuleDict keeps their order."""
    if not isinstance(values, abc.Iterable):
        raise TypeError(f'{kind}.update should be called with an iterable of key/value pairs, '
                        f'but got ' + type(values).__name__)
    if isinstance(values, (OrderedDict, ModuleDict, ParameterDict)):
        pairs = list(values.items())
    elif isinstance(values, abc.Mapping):
        pairs = sorted(values.items()) if sort_plain_dicts else list(values.items())
    else:
        pairs = []
        for j, pair in enumerate(values):
            if not isinstance(pair, abc.Iterable):
                raise TypeError(f'{kind} update sequence element #{j} should be Iterable; is' +
                                type(pair).__name__)
            if len(pair) != 2:
                raise ValueError(f'{kind} update sequence element #{j} has length {len(pair)}; '
                                 '2 is required')
            pairs.append(tuple(pair))
    for key, value in pairs:
        container[key] = value


class ModuleDict(Module):
    """A dict of modules, registered (insertion order kept)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        _update_items(self, modules, 'ModuleDict', sort_plain_dicts=False)

    def forward(self, *args, **kwargs):
        raise NotImplementedError('ModuleDict has no forward: pick a module by key in your own '
                                  "module's forward")


def _describe(value, type_name=lambda t: str(t.dtype)):
    """One line of ParameterList's repr (dtype) or ParameterDict's (legacy type name)."""
    if not isinstance(value, Tensor):
        return f'Object of type: {type(value).__name__}'
    size = 'x'.join(str(s) for s in value.shape)
    device = f' ({value.device})' if value.device.type == 'cuda' else ''
    kind = 'Parameter' if isinstance(value, Parameter) else 'Tensor'
    return f'{kind} containing: [{type_name(value)} of size {size}{device}]'


def _as_parameter(value):
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) \
        else value


class ParameterList(Module):
    """A list of parameters (tensors are wrapped in Parameter), registered with the module."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__([self[i] for i in range(*idx.indices(len(self)))])
        return getattr(self, str(_absolute_index(idx, len(self))))

    def __setitem__(self, idx, value):
        setattr(self, str(_absolute_index(idx, len(self))), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        if not isinstance(values, abc.Iterable) or isinstance(values, Tensor):
            raise TypeError('ParameterList.extend should be called with an iterable, but got ' +
                            type(values).__name__)
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return '\n'.join(f'  ({i}): {_describe(p)}' for i, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError('ParameterList should not be called.')


class ParameterDict(Module):
    """A dict of parameters (tensors are wrapped in Parameter), registered with the module."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attr(key):
        if not isinstance(key, str):
            raise TypeError('Index given to ParameterDict cannot be used as a key as it is not a '
                            f"string (type is '{type(key).__name__}'). Open an issue on github if "
                            'you need non-string keys.')
        return key

    def __getitem__(self, key):
        return getattr(self, self._attr(key))

    def __setitem__(self, key, value):
        attr = self._attr(key)
        self._keys[key] = None
        setattr(self, attr, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._attr(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters):
        _update_items(self, parameters, 'ParameterDict', sort_plain_dicts=True)

    def extra_repr(self):
        return '\n'.join(f'  ({k}): {_describe(p, _typename)}' for k, p in self.items())

    def __call__(self, input):
        raise RuntimeError('ParameterDict should not be called.')

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self
