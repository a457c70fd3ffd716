"""The building blocks of sparse ops made of dense ones: a sparse tensor's values as a dense
tensor that carries its gradient back (values_of), and a pattern with new dense values as a
sparse tensor (with_values). s * 2 is with_values(s's pattern, values_of(s) * 2): its gradient
flows through the dense op (see _ops.Values and _ops.FromValues)."""
from .._tensor import Tensor
from . import _ops
from .._sparse_coo import SparseCOO


def dispatch(op, *inputs):
    from .._dispatch import dispatch as _dispatch
    return _dispatch(op, *inputs)


def is_sparse(x):
    return isinstance(x, Tensor) and x._data.__class__ is SparseCOO


def node_name(op):
    """The name PyTorch gives the node of `op` applied to a sparse tensor."""
    return getattr(op, 'node_name', None) or op.name()


def values_of(s, name='ValuesBackward0', keeps_flag=False):
    """The values of sparse tensor s as a dense tensor that carries s's gradient back."""
    return dispatch(_ops.Values(name, keeps_flag), s)


def with_values(pattern, values, name, coalesced=None):
    """A sparse tensor with `pattern`'s indices (a payload) and the dense tensor `values`."""
    flag = pattern.coalesced if coalesced is None else coalesced
    return dispatch(_ops.FromValues(pattern.indices, pattern.shape, flag, name), values)


def coalesced(s):
    return s if s._data.coalesced else dispatch(_ops.Coalesce(), s)
