"""The name PyTorch's profiler gives an op ('aten::add', 'aten::mm', ...), from nbgrad's op object.

Most names derive from the op: its `op_name` (elementwise and reduction ops carry one) or its
class name in snake case (Linear -> aten::linear, IndexSelect -> aten::index_select). The table
lists the ops whose PyTorch name differs from that. An op run in place gets PyTorch's trailing
underscore (aten::add_); a custom autograd.Function is named by its class, as in PyTorch.
"""
import re

# nbgrad op (op_name or class name) -> PyTorch's aten op, where deriving it would be wrong
_ATEN_NAMES = {
    'MatMul': 'matmul',
    'ToCopy': '_to_copy',
    'Softmax': '_softmax',
    'SoftmaxBackward': '_softmax_backward_data',
    'EmbeddingLookup': 'embedding',
    'EmbeddingBagOp': 'embedding_bag',
    'AdvancedIndexOp': 'index',
    'BasicIndex': 'slice',
    'IndexPut': 'index_put',
    'MaxMinAll': 'max',
    'ArgMaxMin': 'argmax',
    'VarStd': 'var',
    'VectorNorm': 'linalg_vector_norm',
    'LogSumExp': 'logsumexp',
    'LogCumSumExp': 'logcumsumexp',
    'CumSum': 'cumsum',
    'CumProd': 'cumprod',
    'AllAny': 'all',
    'NonZero': 'nonzero',
    'ConstantPadNd': 'constant_pad_nd',
    'MaxPool': 'max_pool2d',
    'AffineNorm': 'native_layer_norm',
    'NllLoss': 'nll_loss',
    'SlidingBlocks': 'im2col',
    'ThresholdBackward': 'threshold_backward',
    'div_trunc': 'div',
    'Div_trunc': 'div',
    'ViewOp': 'view',
    'ViewDtype': 'view',
    '_Copy': 'copy',
    'copy': 'copy',
    '_Fill': 'fill',
    '_ConjPhysical': 'conj_physical',
    '_PixelShuffle': 'pixel_shuffle',
    '_ChannelShuffle': 'channel_shuffle',
}

# ops one class implements for several of PyTorch's: the name from the op's parameters
_BY_PARAMETERS = {
    'AffineNorm': lambda op: {'batch': 'native_batch_norm', 'layer': 'native_layer_norm',
                              'group': 'native_group_norm'}.get(op.kind, 'native_layer_norm'),
    'Softmax': lambda op: '_log_softmax' if op.log else '_softmax',
    'SoftmaxBackward': lambda op: ('_log_softmax_backward_data' if op.log
                                   else '_softmax_backward_data'),
    'VarStd': lambda op: 'std' if op.is_std else 'var',
    'Split': lambda op: 'unbind' if op.squeeze else 'split',
    'Convolution': lambda op: 'convolution' if op.role == 'conv' else 'convolution_backward',
    # (node names such as 'AvgPool3DBackward0' carry the dimensionality)
    'AvgPool': lambda op: 'avg_pool' + op.node_name[7:9].lower(),
    'MaxPoolBackward': lambda op: 'max_pool' + op.forward_name[7:9].lower() +
    '_with_indices_backward',
}

_by_class = {}          # op class -> aten name (for classes without a per-instance op_name)
_snake = re.compile(r'(?<=[a-z0-9])(?=[A-Z])')


def aten_name(op, in_place=False):
    """PyTorch's profiler name for `op` (an in-place call when in_place)."""
    cls = op.__class__
    name = _by_class.get(cls)
    if name is None and cls.__name__ in _BY_PARAMETERS:
        name = 'aten::' + _BY_PARAMETERS[cls.__name__](op)
    elif name is None:
        name = _name_of(op)
        if 'op_name' not in op.__dict__:    # the same for every instance: remember it
            _by_class[cls] = name
    return name + '_' if in_place and not name.endswith('_') else name


def _name_of(op):
    fn_cls = getattr(op, '_fn_cls', None)
    if fn_cls is not None:   # autograd.Function.apply: PyTorch records the Function's class name
        return fn_cls.__name__
    op_name = getattr(op, 'op_name', None)
    key = op_name if isinstance(op_name, str) else op.__class__.__name__
    aten = _ATEN_NAMES.get(key)
    if aten is None:
        aten = _snake.sub('_', key.lstrip('_')).lower()
    return 'aten::' + aten
