"""How fx names nbgrad's objects in graph listings and generated code: under PyTorch's names.

The code a GraphModule generates binds `torch` to nbgrad, so nbgrad.relu reads `torch.relu` and
nbgrad.float64 `torch.float64`, exactly as PyTorch's fx prints them: the listing of a traced
model is the one PyTorch shows, and its code runs under either library.
"""
import builtins
import functools
import importlib

_PUBLIC_NAMESPACES = ('', 'nn.functional', 'linalg', 'fft', 'special', 'nn.init')


def _resolve(path):
    import nbgrad
    obj = nbgrad
    for part in path.split('.'):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@functools.lru_cache(maxsize=None)
def _public_names():
    """id -> 'torch.<namespace>.<name>' for the functions of nbgrad's public namespaces."""
    names = {}
    for space in reversed(_PUBLIC_NAMESPACES):     # (the top level wins)
        module = _resolve(space) if space else importlib.import_module('nbgrad')
        for name, value in vars(module).items():
            if callable(value) and not name.startswith('_') and not isinstance(value, type):
                names[id(value)] = f"torch.{space + '.' if space else ''}{name}"
    return names


def qualified_name(func):
    """builtins.getattr -> 'getattr'; operator.add -> '_operator.add'... as PyTorch's
    _get_qualified_name, with nbgrad's public functions as 'torch.<where>.<name>'."""
    name = getattr(func, '__name__', None) or type(func).__name__
    if getattr(builtins, name, None) is func:
        return name
    module = getattr(func, '__module__', None) or ''
    if module == 'nbgrad' or module.startswith('nbgrad.'):
        from .._tensor import Tensor
        if getattr(Tensor, name, None) is func:
            return f'torch.Tensor.{name}'
        public = _public_names().get(id(func))
        if public is not None:
            return public
        for attribute in (getattr(func, '__qualname__', name), name):
            path = module[len('nbgrad.'):] + '.' + attribute if module != 'nbgrad' else attribute
            if _resolve(path) is func:
                return 'torch.' + path
    return f'{module}.{name}'


def pretty_target(target):
    """A call target as graph listings print it: builtins.getattr, operator.add, torch.relu."""
    if isinstance(target, str):
        return target
    module = getattr(target, '__module__', None)
    name = getattr(target, '__name__', None)
    if name is not None and module == 'builtins':
        return f'builtins.{name}'
    if name is not None and module == '_operator':
        return f'operator.{name}'
    return qualified_name(target)


def is_from_nbgrad(obj):
    module = getattr(obj, '__module__', None) or ''
    return module == 'nbgrad' or module.startswith('nbgrad.')


def torch_text(value, fmt=repr):
    """fmt(value), with nbgrad's own constants (dtypes, layouts, memory formats) under their
    torch. names."""
    text = fmt(value)
    if text.startswith('nbgrad.') and is_from_nbgrad(type(value)):
        return 'torch.' + text[len('nbgrad.'):]
    return text


def type_text(t):
    """An annotation as graph listings print it: int, torch.Tensor, typing.List[str]."""
    if isinstance(t, type):
        if t.__module__ == 'builtins':
            return t.__qualname__
        return qualified_name(t) if is_from_nbgrad(t) else f'{t.__module__}.{t.__qualname__}'
    if t is Ellipsis:
        return '...'
    return repr(t)
