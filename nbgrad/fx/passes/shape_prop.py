"""ShapeProp: run a GraphModule on example inputs and record, on every Node, the shape, dtype,
strides and requires_grad of the tensor it produced (node.meta['tensor_meta']) and its type
(node.meta['type'])."""
from typing import NamedTuple

from ..._tensor import Tensor
from ..interpreter import Interpreter
from ..node import map_aggregate


class TensorMetadata(NamedTuple):
    shape: object
    dtype: object
    requires_grad: bool
    stride: tuple
    memory_format: object
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(result):
    from ... import _memory_format
    memory_format = None
    for candidate in (_memory_format.contiguous_format, _memory_format.channels_last,
                      _memory_format.channels_last_3d):
        try:
            if result.is_contiguous(memory_format=candidate):
                memory_format = candidate
                break
        except RuntimeError:      # (channels_last of a tensor that is not 4-D)
            continue
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, result.stride(),
                          memory_format, False, {})


class ShapeProp(Interpreter):
    """ShapeProp(gm).propagate(*args): runs gm on args, annotating its Nodes (a tuple or dict
    of tensors gets a matching tuple or dict of TensorMetadata)."""

    def run_node(self, n):
        result = super().run_node(n)
        found = []

        def extract(obj):
            if isinstance(obj, Tensor):
                found.append(True)
                return _extract_tensor_metadata(obj)
            return obj
        meta = map_aggregate(result, extract)
        if found:
            n.meta['tensor_meta'] = meta
        n.meta['type'] = type(result)
        return result

    def propagate(self, *args):
        return super().run(*args)
