"""PyTorch's torch-level forms of two families of Tensor methods:

- in place: torch.abs_(x), torch.clamp_(x, min=0), torch.zero_(x)... are x.abs_(), x.clamp_(...);
- view copies: torch.permute_copy(x, dims), torch.view_copy(x, size), torch.split_copy(x, 2)...
  are the view's values in new, contiguous memory (PyTorch's functionalization ops), out= too
  (a list of tensors for the ones giving several).
"""
from ._out import accepts_out, write_out
from ._tensor import Tensor

_IN_PLACE = (
    'abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ as_strided_ '
    'asin_ asinh_ atan_ atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ '
    'detach_ erf_ erfc_ exp2_ exp_ expm1_ fill_ fix_ floor_ frac_ gcd_ i0_ index_put_ lcm_ '
    'ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ '
    'resize_as_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ '
    'zero_').split()

# name_copy -> the view it copies: a Tensor method's name, or a function of the tensor
_VIEWS = {
    'alias_copy': lambda x: x.view_as(x),
    'as_strided_copy': 'as_strided',
    'detach_copy': 'detach',
    'diagonal_copy': 'diagonal',
    'expand_copy': 'expand',
    'permute_copy': 'permute',
    'select_copy': 'select',
    'slice_copy': lambda x, dim=0, start=None, end=None, step=1:
        x[(slice(None),) * (dim % max(x.dim(), 1)) + (slice(start, end, step),)],
    'squeeze_copy': 'squeeze',
    't_copy': 't',
    'transpose_copy': 'transpose',
    'unfold_copy': 'unfold',
    'unsqueeze_copy': 'unsqueeze',
    'view_copy': 'view',
    'values_copy': 'values',
    'indices_copy': 'indices',
    'crow_indices_copy': 'crow_indices',
    'col_indices_copy': 'col_indices',
    'ccol_indices_copy': 'ccol_indices',
    'row_indices_copy': 'row_indices',
}
# the ones giving several views: a tuple of copies (out= a list of tensors)
_SPLITS = {'split_copy': 'split', 'split_with_sizes_copy': 'split_with_sizes',
           'unbind_copy': 'unbind'}

__all__ = _IN_PLACE + list(_VIEWS) + list(_SPLITS)


def _check_input(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f'{type(input).__name__}')


def _in_place(name):
    def function(input, *args, **kwargs):
        _check_input(name, input)
        return getattr(input, name)(*args, **kwargs)
    return function


def _view_copy(name, view):
    take = view if callable(view) else (lambda x, *args, **kwargs:
                                        getattr(x, view)(*args, **kwargs))

    def function(input, *args, **kwargs):
        _check_input(name, input)
        return take(input, *args, **kwargs).clone(memory_format=_contiguous())
    return function


# (the names PyTorch's kernels give themselves in the error for a wrong number of outs)
_OUT_KERNELS = {'split_copy': 'split_copy_Tensor_out()', 'unbind_copy': 'unbind_copy_int_out',
                'split_with_sizes_copy': 'split_with_sizes_copy_out'}


def _split_copy(name, view):
    def function(input, *args, out=None, **kwargs):
        _check_input(name, input)
        parts = tuple(p.clone(memory_format=_contiguous())
                      for p in getattr(input, view)(*args, **kwargs))
        if out is None:
            return parts
        if len(out) != len(parts):    # (out= fills the given tensors and returns None)
            raise RuntimeError(f'{_OUT_KERNELS[name]} expected an out= argument of size '
                               f'{len(parts)}, got size {len(out)}')
        for target, part in zip(out, parts):
            write_out(target, part.detach(), name)
    return function


def _contiguous():
    from ._memory_format import contiguous_format
    return contiguous_format


def _install():
    made = {}
    for name in _IN_PLACE:
        made[name] = _in_place(name)
    for name, view in _VIEWS.items():
        made[name] = _view_copy(name, view)
    for name, view in _SPLITS.items():
        made[name] = _split_copy(name, view)
    for name, function in made.items():
        function.__name__ = function.__qualname__ = name
        function.__module__ = 'nbgrad'
        if name in _VIEWS:
            made[name] = accepts_out(function)
    globals().update(made)


_install()
