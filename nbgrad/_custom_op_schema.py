"""The schema string of a custom op, inferred from its Python signature's type annotations
(torch.library.infer_schema): "(Tensor x, SymInt n, float s=2.0) -> Tensor"."""
import collections.abc
import inspect
import typing

from ._tensor import Tensor
from ._dtype import dtype as _dtype_class
from ._device import device as _device_class

_SCALAR = typing.Union[int, float, bool]
_ELEMENT_TYPES = {Tensor: 'Tensor', int: 'SymInt', float: 'float', bool: 'bool', str: 'str',
                  _dtype_class: 'ScalarType', _device_class: 'Device', _SCALAR: 'Scalar'}
_LISTABLE = (Tensor, int, float, bool, _SCALAR)
_LIST_ORIGINS = (list, collections.abc.Sequence, typing.Sequence, typing.List)
_RETURN_TYPES = {Tensor: 'Tensor', int: 'SymInt', float: 'float', bool: 'bool', _SCALAR: 'Scalar'}


def _optional_of(annotation):
    """T for Optional[T] (and T | None), else None."""
    args = typing.get_args(annotation)
    if type(None) in args and len(args) == 2 and typing.get_origin(annotation) in (
            typing.Union, getattr(__import__('types'), 'UnionType', typing.Union)):
        return args[0] if args[1] is type(None) else args[1]
    return None


def _is_scalar_union(annotation):
    args = typing.get_args(annotation)
    return bool(args) and set(args) == {int, float, bool}


def _element_type(annotation):
    if _is_scalar_union(annotation):
        return 'Scalar'
    if isinstance(annotation, type):
        for cls, name in _ELEMENT_TYPES.items():
            if isinstance(cls, type) and issubclass(annotation, cls) and (
                    cls is not int or annotation is not bool):
                return 'bool' if annotation is bool else name
    return None


def _parameter_type(annotation):
    """The schema type of a parameter annotation, or None when it has none."""
    inner = _optional_of(annotation)
    if inner is not None:
        name = _parameter_type(inner)
        return None if name is None or name.endswith('?') else name + '?'
    if typing.get_origin(annotation) in _LIST_ORIGINS:
        (item,) = typing.get_args(annotation) or (None,)
        optional_item = _optional_of(item)
        if optional_item is not None and _element_type(optional_item) == 'Tensor':
            return 'Tensor?[]'
        name = _element_type(item)
        return None if name in (None, 'str', 'ScalarType', 'Device') else name + '[]'
    return _element_type(annotation)


def _return_type(annotation):
    if annotation is None or annotation is type(None):
        return '()'
    if typing.get_origin(annotation) is tuple:
        names = [_return_type(a) for a in typing.get_args(annotation)]
        return None if None in names else '(' + ', '.join(names) + ')'
    if typing.get_origin(annotation) in _LIST_ORIGINS:
        (item,) = typing.get_args(annotation) or (None,)
        return 'Tensor[]' if _element_type(item) == 'Tensor' else None
    name = _element_type(annotation)
    return name if name in _RETURN_TYPES.values() else None


def _default_text(value):
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (_dtype_class, _device_class)):
        return str(value)
    return None


def infer_schema(prototype_function, /, *, mutates_args, op_name=None):
    """The schema of a function from its type annotations, as PyTorch writes it: parameters
    (Tensor, Tensor?, Tensor[], SymInt, float, bool, str, Scalar, ScalarType, Device and their
    lists/optionals), keyword-only ones after '*', mutated tensors marked Tensor(aN!), and
    the return type. With op_name the schema starts with it."""
    signature = inspect.signature(prototype_function, eval_str=True)

    def error(what):
        raise ValueError(f'infer_schema(func): {what} Got func with signature {signature})')

    params, seen_kw_only, mutated_seen = [], False, set()
    for index, (name, p) in enumerate(signature.parameters.items()):
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY):
            error('We do not support positional-only args, varargs, or varkwargs.')
        if p.annotation is p.empty:
            error(f'Parameter {name} must have a type annotation.')
        schema_type = _parameter_type(p.annotation)
        if schema_type is None:
            error(f'Parameter {name} has unsupported type {p.annotation}.')
        if p.kind is p.KEYWORD_ONLY and not seen_kw_only:
            params.append('*')
            seen_kw_only = True
        mutated = mutates_args == 'unknown' and schema_type.startswith('Tensor') or (
            mutates_args != 'unknown' and name in mutates_args)
        if mutated:
            if not schema_type.startswith('Tensor'):
                error(f'Parameter {name} is in mutable_args but only Tensors or collections of '
                      'Tensors can be mutated')
            mutated_seen.add(name)
            schema_type = schema_type.replace('Tensor', f'Tensor(a{index}!)', 1)
        text = f'{schema_type} {name}'
        if p.default is not p.empty:
            default = _default_text(p.default)
            if default is None:
                error(f'Parameter {name} has an unsupported default value type '
                      f'{type(p.default)}.')
            text += f'={default}'
        params.append(text)
    if mutates_args != 'unknown':
        missing = set(mutates_args) - set(signature.parameters)
        if missing:
            error(f"{missing} in mutates_args were not found in the custom op's signature. "
                  'mutates_args should contain the names of all args that the custom op '
                  "mutates, or just the string 'unknown' if you don't know.")
    if signature.return_annotation is signature.empty:
        error('No return type annotation was provided. Please add one.')
    returns = _return_type(signature.return_annotation)
    if returns is None:
        error(f'Return has unsupported type {signature.return_annotation}.')
    return f"{op_name or ''}({', '.join(params)}) -> {returns}"
