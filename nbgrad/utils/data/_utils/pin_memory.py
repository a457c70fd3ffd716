"""pin_memory(data): the tensors inside a batch (dicts, namedtuples, sequences) in page-locked
host memory, so copies to the GPU can be asynchronous (DataLoader(pin_memory=True) on CUDA)."""
import collections.abc

from ...._tensor import Tensor
from .collate import _same_mapping, _same_sequence


def pin_memory(data, device=None):
    if isinstance(data, Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {k: pin_memory(v, device) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return type(data)(*(pin_memory(v, device) for v in data))
    if isinstance(data, tuple):
        return [pin_memory(v, device) for v in data]
    if isinstance(data, collections.abc.Sequence):
        return _same_sequence(data, [pin_memory(v, device) for v in data])
    if hasattr(data, 'pin_memory'):
        return data.pin_memory()
    return data
