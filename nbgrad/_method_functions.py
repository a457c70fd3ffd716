"""PyTorch's torch-level forms of two families of Tensor methods:

- in place: torch.abs_(x), torch.clamp_(x, min=0), torch.zero_(x)... are x.abs_(), x.clamp_(...);
- view copies: torch.permute_copy(x, dims), torch.view_copy(x, size), torch.split_copy(x, 2)...
  are the view's values in new, contiguous memory (PyTorch's functionalization ops), out= too
  (a list of tensors for the ones giving several).

Each has PyTorch's signature (the text below), which binds its arguments before the method runs.
"""
import inspect

from ._memory_format import contiguous_format
from ._out import accepts_out
from ._tensor import Tensor

_UNARY = ('abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ '
          'atan_ atanh_ ceil_ cos_ cosh_ deg2rad_ detach_ erf_ erfc_ exp2_ exp_ expm1_ fix_ '
          'floor_ frac_ i0_ log10_ log1p_ log2_ log_ neg_ negative_ rad2deg_ reciprocal_ '
          'rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ zero_').split()
_IN_PLACE = dict.fromkeys(_UNARY, '(input)')
_IN_PLACE.update({
    'clamp_': '(input, min=None, max=None)', 'clip_': '(input, min=None, max=None)',
    'clamp_min_': '(input, min)', 'clamp_max_': '(input, max)', 'fill_': '(input, value)',
    'logit_': '(input, eps=None)', 'ldexp_': '(input, other)', 'xlogy_': '(input, other)',
    'gcd_': '(input, other)', 'lcm_': '(input, other)',
    'index_put_': '(input, indices, values, accumulate=False)',
    'as_strided_': '(input, size, stride, storage_offset=None)',
    'resize_as_': '(input, the_template, *, memory_format=None)',
    'nan_to_num_': '(input, nan=None, posinf=None, neginf=None)',
    'round_': '(input, *, decimals=None)', 'addmv_': '(input, mat, vec, *, beta=1, alpha=1)',
})

# name_copy -> (its signature, the view: a Tensor method's name or a function of the tensor)
_OUT = '*, out=None)'
_VIEWS = {
    'alias_copy': ('(input, ' + _OUT, lambda x: x.view_as(x)),
    'as_strided_copy': ('(input, size, stride, storage_offset=None, ' + _OUT, 'as_strided'),
    'detach_copy': ('(input, ' + _OUT, 'detach'),
    'diagonal_copy': ('(input, offset=0, dim1=0, dim2=1, ' + _OUT, 'diagonal'),
    'expand_copy': ('(input, size, *, implicit=False, out=None)',
                    lambda x, size, implicit=False: x.expand(size)),
    'permute_copy': ('(input, dims, ' + _OUT, 'permute'),
    'select_copy': ('(input, dim, index, ' + _OUT, 'select'),
    'slice_copy': ('(input, dim=0, start=None, end=None, step=1, ' + _OUT, lambda x, dim=0,
                   start=None, end=None, step=1: _sliced(x, dim, start, end, step)),
    'squeeze_copy': ('(input, dim=None, ' + _OUT,
                     lambda x, dim=None: x.squeeze() if dim is None else x.squeeze(dim)),
    't_copy': ('(input, ' + _OUT, 't'),
    'transpose_copy': ('(input, dim0, dim1, ' + _OUT, 'transpose'),
    'unfold_copy': ('(input, dimension, size, step, ' + _OUT, 'unfold'),
    'unsqueeze_copy': ('(input, dim, ' + _OUT, 'unsqueeze'),
    'view_copy': ('(input, *args, out=None)', 'view'),      # (a size, or a dtype)
    'values_copy': ('(input, ' + _OUT, 'values'),
    'indices_copy': ('(input, ' + _OUT, 'indices'),
    'crow_indices_copy': ('(input, ' + _OUT, 'crow_indices'),
    'col_indices_copy': ('(input, ' + _OUT, 'col_indices'),
    'ccol_indices_copy': ('(input, ' + _OUT, 'ccol_indices'),
    'row_indices_copy': ('(input, ' + _OUT, 'row_indices'),
}
# the ones giving several views: a tuple of copies (out= a list of tensors, filled)
_SPLITS = {'split_copy': ('(input, split_size, dim=0, ' + _OUT, 'split'),
           'split_with_sizes_copy': ('(input, split_sizes, dim=0, ' + _OUT, 'split_with_sizes'),
           'unbind_copy': ('(input, dim=0, ' + _OUT, 'unbind')}
# (the names PyTorch's kernels give themselves in the error for a wrong number of outs)
_OUT_KERNELS = {'split_copy': 'split_copy_Tensor_out()', 'unbind_copy': 'unbind_copy_int_out',
                'split_with_sizes_copy': 'split_with_sizes_copy_out'}

__all__ = list(_IN_PLACE) + list(_VIEWS) + list(_SPLITS)


def _sliced(x, dim, start, end, step):
    """x[..., start:end:step, ...] along dim, with PyTorch's checks."""
    if x.dim() == 0:
        raise IndexError('slice() cannot be applied to a 0-dim tensor.')
    if not -x.dim() <= dim < x.dim():
        raise IndexError(f'Dimension out of range (expected to be in range of [{-x.dim()}, '
                         f'{x.dim() - 1}], but got {dim})')
    if step <= 0:
        raise RuntimeError('slice step must be positive')
    return x[(slice(None),) * (dim % x.dim()) + (slice(start, end, step),)]


def _signature(text):
    namespace = {}
    exec(f'def f{text}: pass', {}, namespace)      # noqa: S102 (this module's own text)
    return inspect.signature(namespace['f'])


def _arguments(name, signature, args, kwargs):
    """The arguments bound to PyTorch's signature: (input, positionals, keywords) for the
    method (out= left out)."""
    bound = signature.bind(*args, **kwargs)
    input, *rest = bound.args
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f'{type(input).__name__}')
    keywords = {k: v for k, v in bound.kwargs.items() if k != 'out'}
    return input, rest, keywords


def _in_place(name, signature):
    def function(*args, **kwargs):
        input, rest, keywords = _arguments(name, signature, args, kwargs)
        return getattr(input, name)(*rest, **keywords)
    return function


def _view_copy(name, signature, view):
    take = view if callable(view) else (lambda x, *args, **kwargs:
                                        getattr(x, view)(*args, **kwargs))

    def function(*args, **kwargs):
        input, rest, keywords = _arguments(name, signature, args, kwargs)
        return take(input, *rest, **keywords).clone(memory_format=contiguous_format)
    return function


def _split_copy(name, signature, view):
    def function(*args, out=None, **kwargs):
        input, rest, keywords = _arguments(name, signature, args, kwargs)
        parts = tuple(p.clone(memory_format=contiguous_format)
                      for p in getattr(input, view)(*rest, **keywords))
        if out is None:
            return parts
        if len(out) != len(parts):    # (out= fills the given tensors and returns None)
            raise RuntimeError(f'{_OUT_KERNELS[name]} expected an out= argument of size '
                               f'{len(parts)}, got size {len(out)}')
        for target, part in zip(out, parts):      # (copy_'s casts and shape errors)
            target.copy_(part.detach())
    return function


def _install():
    made = {}
    for name, text in _IN_PLACE.items():
        made[name] = (_in_place(name, _signature(text)), text)
    for name, (text, view) in _VIEWS.items():
        made[name] = (_view_copy(name, _signature(text), view), text)
    for name, (text, view) in _SPLITS.items():
        made[name] = (_split_copy(name, _signature(text), view), text)
    for name, (function, text) in made.items():
        function.__name__ = function.__qualname__ = name
        function.__module__ = 'nbgrad'
        if name in _VIEWS:
            function = accepts_out(function)
        function.__signature__ = _signature(text)
        globals()[name] = function


_install()
