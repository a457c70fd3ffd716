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
    'Convolution': 'convolution',
    'MaxPool': 'max_pool2d',
    'AvgPool': 'avg_pool2d',
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

_by_class = {}          # op class -> aten name (for classes without a per-instance op_name)
_snake = re.compile(r'(?<=[a-z0-9])(?=[A-Z])')


def aten_name(op, in_place=False):
    """PyTorch's profiler name for `op` (an in-place call when in_place)."""
    cls = op.__class__
    name = _by_class.get(cls)
    if name is None:
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
