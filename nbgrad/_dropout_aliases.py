"""PyTorch's top-level dropout ops: torch.dropout(input, p, train) and its alpha, feature and
in-place forms, and torch.native_dropout, which also returns the boolean keep-mask.

They take `train` (a bool, required) where nn.functional takes `training=`, and refuse a p outside
[0, 1] with RuntimeError (nn.functional's ValueError is a Python-level check that these skip).
The noise is drawn exactly as nn.functional's (same _dropout_impl, so after manual_seed the masks
are PyTorch's).

This module also hands nbgrad's namespace two names from elsewhere, so that __init__ needs one
import line for all: the nbgrad.quasirandom module (torch.quasirandom is an attribute of torch
after `import torch`) and torch.thread_safe_generator (nbgrad.random's).
"""
from numbers import Real

from . import quasirandom  # noqa: F401  (re-exported: see the module docstring)
from ._creation import empty_like, ones_like
from ._dtype import bool as bool_
from ._node_names import presents_as
from .random import thread_safe_generator  # noqa: F401  (re-exported: see the docstring)
from ._tensor import Tensor
from .nn.functional.dropout import _dropout_impl

__all__ = ['dropout', 'dropout_', 'feature_dropout', 'feature_dropout_', 'alpha_dropout',
           'alpha_dropout_', 'feature_alpha_dropout', 'feature_alpha_dropout_', 'native_dropout',
           'quasirandom', 'thread_safe_generator']


def _parsed(name, p, train, train_optional=False):
    """p as a float and train checked as PyTorch's argument parser checks them."""
    if isinstance(p, Tensor) and p.dim() == 0:
        p = p.item()
    if isinstance(p, bool) or not isinstance(p, Real):
        raise TypeError(f"{name}(): argument 'p' (position 2) must be float, not "
                        f'{_type_name(p)}')
    if not (isinstance(train, bool) or (train is None and train_optional)):
        raise TypeError(f"{name}(): argument 'train' (position 3) must be bool, not "
                        f'{_type_name(train)}')
    return float(p)


def _type_name(value):
    cls = type(value)
    return cls.__name__ if cls.__module__ == 'builtins' else f'{cls.__module__}.{cls.__name__}'


def _checked_p(p):
    if p < 0 or p > 1:
        raise RuntimeError(f'dropout probability has to be between 0 and 1, but got {p}')
    return p


def _make(name, feature, alpha, inplace):
    def op(input, p, train):
        p = _checked_p(_parsed(name, p, train))
        return _dropout_impl(input, p, train, inplace, feature=feature, alpha=alpha)
    op.__name__ = op.__qualname__ = name
    kind = ('feature ' if feature else '') + ('alpha ' if alpha else '')
    op.__doc__ = (f'{name}(input, p, train) -> Tensor: {kind}dropout with probability p when '
                  f'train is True' + (', in place' if inplace else '') + '.')
    return op


dropout = _make('dropout', feature=False, alpha=False, inplace=False)
dropout_ = _make('dropout_', feature=False, alpha=False, inplace=True)
feature_dropout = _make('feature_dropout', feature=True, alpha=False, inplace=False)
feature_dropout_ = _make('feature_dropout_', feature=True, alpha=False, inplace=True)
alpha_dropout = _make('alpha_dropout', feature=False, alpha=True, inplace=False)
alpha_dropout_ = _make('alpha_dropout_', feature=False, alpha=True, inplace=True)
feature_alpha_dropout = _make('feature_alpha_dropout', feature=True, alpha=True, inplace=False)
feature_alpha_dropout_ = _make('feature_alpha_dropout_', feature=True, alpha=True, inplace=True)


@presents_as('NativeDropoutBackward0')
def _native_dropout(input, p, train):
    if train is None or train:
        keep = 1.0 - p
        # (p = 1 scales by 0, not by inf: dropped and kept units alike become 0, NaN stays NaN)
        scale = 0.0 if keep == 0 else 1.0 / keep
        if input.is_floating_point():  # PyTorch scales by the factor rounded to input's dtype
            scale = float(input._data.dtype.type(scale))
        mask = empty_like(input, dtype=bool_)
        mask.bernoulli_(keep)  # (p outside [0, 1]: bernoulli_'s error, as in PyTorch)
        return input.mul(mask).mul_(scale), mask
    return input.clone(), ones_like(input, dtype=bool_)


def native_dropout(input, p, train):
    """(output, mask): dropout with probability p when train is True or None, and the boolean
    mask of the units kept; in eval mode a copy of input and an all-True mask. Its grad_fn is
    NativeDropoutBackward0 in both modes, as in PyTorch."""
    p = _parsed('native_dropout', p, train, train_optional=True)
    if input.numel() == 0:
        return input, empty_like(input)
    return _native_dropout(input, p, train)
