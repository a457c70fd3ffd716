"""default_collate (a list of samples -> one batch) and default_convert (one sample's NumPy arrays
-> tensors), with PyTorch's rules: tensors are stacked along a new first dim, NumPy arrays and
scalars become tensors, Python floats float64 and ints int64 tensors, strings stay lists, and
dicts, namedtuples and sequences are collated field by field (a tuple's fields come back as a
list, as in PyTorch). `collate(batch, collate_fn_map=...)` is the same recursion with your own
functions per element type."""
import collections.abc
import copy
import re

import numpy as np

from ...._creation import as_tensor, tensor
from ...._dtype import float64
from ...._tensor import Tensor

# NumPy dtypes of strings, bytes and objects: not numbers, so not tensors
np_str_obj_array_pattern = re.compile(r'[SaUO]')

default_collate_err_msg_format = ('default_collate: batch must contain tensors, numpy arrays, '
                                  'numbers, dicts or lists; found {}')


def _same_mapping(elem, values):
    """A mapping like `elem` (its type, or a dict when that type can't be rebuilt) holding
    `values` (a dict with elem's keys)."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def _same_sequence(elem, values):
    """A sequence like `elem` (its type, or a list when that type can't be rebuilt) holding the
    list `values`."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def default_convert(data):
    """data with every NumPy array and scalar (not strings or objects) made a tensor, inside
    dicts, namedtuples and sequences too (tuples come back as lists); other values as they are.
    The DataLoader's collate_fn when automatic batching is off (batch_size=None)."""
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == 'numpy' and kind.__name__ not in ('str_', 'string_'):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples: by collate_fn_map's function for the first sample's type (an
    exact type first, then the first key it is an instance of), else field by field for
    mappings, namedtuples and sequences."""
    elem = batch[0]
    kind = type(elem)
    if collate_fn_map is not None:
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for key in collate_fn_map:
            if isinstance(elem, key):
                return collate_fn_map[key](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: collate([d[key] for d in batch],
                                                 collate_fn_map=collate_fn_map)
                                    for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, '_fields'):
        return kind(*(collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError('each element in list of batch should be of equal size')
        # each field's samples as a tuple, as PyTorch's transposition gives them (strings stay
        # that tuple)
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(kind))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    from ...._functions import stack
    elem = batch[0]
    if elem.layout is not None and 'sparse' in str(elem.layout):
        raise RuntimeError('Batches of sparse tensors are not currently supported by the '
                           'default collate_fn; please provide a custom collate_fn to handle '
                           'them appropriately.')
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if np_str_obj_array_pattern.search(batch[0].dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """One batch from a list of samples (the DataLoader's default collate_fn): see the module's
    description for the rules. E.g. a list of (image tensor, int label) tuples gives
    [images stacked, labels as an int64 tensor]."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
