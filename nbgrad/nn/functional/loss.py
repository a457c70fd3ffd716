"""Loss functions (PyTorch's torch.nn.functional losses), with PyTorch's signatures, defaults,
reductions, deprecated size_average/reduce arguments, errors and warnings.

Most are compositions of Tensor ops, which gives their gradients; nll_loss,
binary_cross_entropy, log_sigmoid and ctc_loss are ops of their own (_loss_ops.py, _ctc.py).
"""
import math

import numpy as np

import nbgrad
from ..._user_warning import warn_at_caller
from ..._profiled_calls import profiled_call
from ... import _dtype
from ..._dispatch import dispatch, _type_word
from ..._tensor import Tensor
from ...linalg import vector_norm
from . import _ctc
from ._loss_ops import NllLoss, BinaryCrossEntropy, LogSigmoid

__all__ = ['l1_loss', 'mse_loss', 'smooth_l1_loss', 'huber_loss', 'cross_entropy', 'nll_loss',
           'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'kl_div',
           'poisson_nll_loss', 'gaussian_nll_loss', 'cosine_embedding_loss',
           'margin_ranking_loss', 'hinge_embedding_loss', 'soft_margin_loss',
           'multilabel_soft_margin_loss', 'multi_margin_loss', 'multilabel_margin_loss',
           'triplet_margin_loss', 'triplet_margin_with_distance_loss', 'ctc_loss']

_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))  # the target dtypes nll_loss takes
_COSINE_EPSILON = 1e-12  # added to both squared magnitudes in cosine_embedding_loss (PyTorch's)


# ---------------------------------------------------------------------------------------------
# Reductions and argument checks shared by the losses
# ---------------------------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce):
    """The reduction the deprecated size_average/reduce pair asks for (PyTorch's
    _Reduction.legacy_get_string), with PyTorch's deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = 'mean' if size_average and reduce else 'sum' if reduce else 'none'
    warn_at_caller(f"size_average and reduce args will be deprecated, please use "
                   f"reduction='{reduction}' instead.")
    return reduction


def _reduction(size_average, reduce, reduction):
    """The reduction in force, checked: size_average/reduce, when given, override `reduction`."""
    return _checked(_legacy_or(size_average, reduce, reduction))


def _legacy_or(size_average, reduce, reduction):
    """reduction, or what the deprecated pair asks for (warning), left unchecked."""
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _checked(reduction):
    if reduction == 'elementwise_mean':
        warn_at_caller("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                       "instead.")
        return 'mean'
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'{reduction} is not a valid value for reduction')
    return reduction


def _reduce(loss, reduction, node_name=None, inputs=None):
    """The reduced loss; node_name: PyTorch's node for the whole loss, which grad_fn shows,
    with the loss's tensor arguments (inputs) as its next functions."""
    if reduction == 'mean':
        loss = loss.mean()
    elif reduction == 'sum':
        loss = loss.sum()
    if node_name is not None and loss._grad_fn is not None:
        loss._grad_fn.present_as(node_name, inputs)
    return loss


def _dtype_word(t):
    return _type_word(t._data.dtype)


def _not_differentiable(function, argument, tensor):
    """PyTorch refuses a weight that requires grad where the kernel has no gradient for it."""
    if tensor is not None and tensor.requires_grad and nbgrad.is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{argument}'. This input cannot have requires_grad True.")


def _warn_if_broadcasting(input, target):
    """(Named at the user's line, past nbgrad's frames.)"""
    if target.size() != input.size():
        warn_at_caller(f'Using a target size ({target.size()}) that is different to the input size '
                       f'({input.size()}). This will likely lead to incorrect results due to '
                       f'broadcasting. Please ensure they have the same size.')


# ---------------------------------------------------------------------------------------------
# Regression losses: one elementwise formula each, with PyTorch's shared argument handling
# ---------------------------------------------------------------------------------------------

def _regression(kernel, input, target, reduction, weight, elementwise, weighted_mean_by_weight,
                node_name=None):
    """The pointwise losses: warn when target broadcasts, broadcast, apply `elementwise` to
    input - target; a weight (input's size) multiplies each term, and the mean then divides by
    the summed weights (l1, mse) or by the count (huber). node_name: PyTorch's node for the
    unweighted loss."""
    _warn_if_broadcasting(input, target)
    arguments = (input, target)
    input, target = nbgrad.broadcast_tensors(input, target)
    difference = input - target
    if kernel and not difference.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_dtype_word(difference)}'")
    loss = elementwise(difference)
    if weight is None:
        return _reduce(loss, _checked(reduction), node_name, arguments)
    if weight.size() != input.size():
        raise ValueError('Weights and input must have the same size.')
    loss = loss * weight
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         f"'sum'.")
    if reduction == 'mean' and weighted_mean_by_weight:   # (PyTorch's weighted form is a
        return loss.sum() / weight.sum()                   # composite too: no node_name)
    return _reduce(loss, reduction)


@profiled_call('aten::l1_loss')
def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean (or sum) absolute error."""
    return _regression(None, input, target, _legacy_or(size_average, reduce, reduction), weight,
                       lambda d: d.abs(), True)


@profiled_call('aten::mse_loss')
def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean (or sum) squared error."""
    return _regression('mse_cpu', input, target, _legacy_or(size_average, reduce, reduction),
                       weight, lambda d: d.square(), True, 'MseLossBackward0')


def _quadratic_part(d, far):
    """d where the quadratic branch of smooth_l1/huber applies, 0 where the linear one does:
    the branch not taken then gets a zero gradient (not 0 * inf = NaN at d = inf), the
    quadratic's curvature stays 1/beta at d = 0 (|d|'s derivative is 0 there), and a NaN
    difference takes the quadratic branch, as in PyTorch's kernel (NaN gradient)."""
    return nbgrad.where(far, 0.0, d)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """Squared error / (2 beta) below beta, absolute error - beta/2 above."""
    if beta < 0:
        raise RuntimeError('smooth_l1_loss does not support negative values for beta.')
    reduction = _legacy_or(size_average, reduce, reduction)
    if beta == 0.0:
        return _regression(None, input, target, reduction, None, lambda d: d.abs(), True)

    def smooth(d):
        z = d.abs()
        far = z >= beta
        near = _quadratic_part(d, far)
        return nbgrad.where(far, z - 0.5 * beta, 0.5 * near * near / beta)
    return _regression('smooth_l1_cpu', input, target, reduction, None, smooth, True,
                       'SmoothL1LossBackward0')


def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """Squared error / 2 below delta, delta * (absolute error - delta/2) above."""
    if delta <= 0:
        raise RuntimeError('huber_loss does not support non-positive values for delta.')

    def huber(d):  # PyTorch's kernel writes into a tensor of the input's dtype
        z = d.abs()
        far = z >= delta
        near = _quadratic_part(d, far)
        return nbgrad.where(far, delta * (z - 0.5 * delta), 0.5 * near * near).to(input.dtype)
    return _regression('huber_cpu', input, target, reduction, weight, huber, False,
                       'HuberLossBackward0')


# ---------------------------------------------------------------------------------------------
# Classification: nll_loss and cross_entropy
# ---------------------------------------------------------------------------------------------

def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction='mean'):
    """Negative log-likelihood of class indices, given log-probabilities (C), (N, C) or
    (N, C, d1, ...)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_nll_arguments(input, target, weight)
    _not_differentiable('nll_loss_forward', 'weight', weight)
    op = NllLoss(_index_arg(ignore_index), reduction)
    return dispatch(op, input, target) if weight is None else dispatch(op, input, target, weight)


def _check_nll_arguments(input, target, weight):
    shape, target_shape = input._data.shape, target._data.shape  # raw shapes: a hot path
    ndim = len(shape)
    if ndim < 1:
        raise ValueError(f'Expected 1 or more dimensions (got {ndim})')
    target_batch = target_shape[0] if target_shape else 0  # PyTorch reads 0 for a 0-dim target
    if ndim != 1 and shape[0] != target_batch:
        raise ValueError(f'Expected input batch_size ({shape[0]}) to match target batch_size '
                         f'({target_batch}).')
    n_classes = shape[0 if ndim == 1 else 1]
    if ndim <= 2:
        if len(target_shape) > 1:
            raise RuntimeError('0D or 1D target tensor expected, multi-target not supported')
        if ndim == 1 and target_shape and target_shape[0] != 1:
            raise ValueError(f'For 1D input, 1D target must have size 1, but got target size: '
                             f'{target_shape[0]}')
        if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
            raise RuntimeError(f'weight tensor should be defined either for all {n_classes} '
                               f'classes or no classes but got weight tensor of shape: '
                               f'{list(weight.shape)}')
    else:
        if target_shape[1:] != shape[2:]:
            raise RuntimeError(f'Expected target size {[shape[0], *shape[2:]]}, got '
                               f'{list(target_shape)}')
        if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
            raise RuntimeError('weight tensor should be defined either for all or no classes')
    if target._data.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f'expected target dtype to be Long or Byte, but got '
                           f'{_dtype_word(target)}')
    if input._data.dtype.kind not in _dtype.FLOATING_KINDS:
        raise NotImplementedError(f'"nll_loss_out_frame" not implemented for '
                                  f"'{_dtype_word(input)}'")
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f'expected scalar type {_dtype_word(input)} but found '
                           f'{_dtype_word(weight)}')


def _index_arg(value):
    """ignore_index as an int (a NumPy integer or a one-element integer tensor is one)."""
    from ...ops._util import int_like
    return int_like(value) if int_like(value) is not None else value


@profiled_call('aten::cross_entropy_loss')
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction='mean', label_smoothing=0.0):
    """log_softmax over the class dimension, then nll_loss (class-index targets), or the
    cross entropy with class probabilities (a target of the input's shape)."""
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None and not isinstance(weight, Tensor):
        raise TypeError(f"cross_entropy_loss(): argument 'weight' (position 3) must be Tensor, "
                        f"not {type(weight).__name__}")
    ignore_index = _index_arg(ignore_index)
    if input._data.shape == target._data.shape:
        if not target.is_floating_point():
            raise RuntimeError(f'Expected floating point type for target with class '
                               f'probabilities, got {_dtype_word(target)}')
        if ignore_index >= 0:
            raise RuntimeError('ignore_index is not supported for floating point target')
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    class_dim = 0 if input.dim() == 1 else 1
    log_probabilities = input.log_softmax(class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        return _cross_entropy_smoothed(log_probabilities, target, weight, reduction,
                                       ignore_index, label_smoothing, class_dim)
    return nll_loss(log_probabilities, target, weight, ignore_index=ignore_index,
                    reduction=reduction)


def _check_smoothing(label_smoothing):
    if label_smoothing > 1.0:
        raise RuntimeError(f'label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}')


def _class_weights(weight, ndim, class_dim):
    """weight (C) shaped to broadcast along the class dimension of an ndim-dim input."""
    if ndim <= 1:
        return weight
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing):
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f'cross_entropy: weight tensor should be defined either for all '
                           f'{n_classes} classes or no classes but got weight tensor of shape: '
                           f'{list(weight.shape)}')
    log_probabilities = input.log_softmax(class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = log_probabilities * target
    if weight is not None:
        terms = terms * _class_weights(weight, input.dim(), class_dim)
    if reduction == 'none':
        return -terms.sum(class_dim)
    total = -terms.sum()
    if reduction == 'sum':
        return total
    if input.numel() == 0:
        return total * math.nan
    return total / (input.numel() // n_classes)


def _cross_entropy_smoothed(log_probabilities, target, weight, reduction, ignore_index,
                            label_smoothing, class_dim):
    """(1 - s) * nll_loss + s / C * (the loss against the uniform distribution), both with the
    class weights, the ignored targets and the reduction of nll_loss."""
    nll = nll_loss(log_probabilities, target, weight, ignore_index=ignore_index,
                   reduction=reduction)
    n_classes = log_probabilities.shape[class_dim]
    ignored = target == ignore_index
    terms = log_probabilities if weight is None else \
        log_probabilities * _class_weights(weight, log_probabilities.dim(), class_dim)
    smooth = (-terms.sum(class_dim)).masked_fill(ignored, 0.0)
    if reduction == 'mean':
        if weight is not None:
            smooth = smooth.sum() / weight.gather(0, target.masked_select(~ignored).flatten()).sum()
        else:
            smooth = smooth.sum() / (~ignored).sum()
    elif reduction == 'sum':
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)


# ---------------------------------------------------------------------------------------------
# Binary cross entropy, KL divergence, Poisson and Gaussian likelihoods
# ---------------------------------------------------------------------------------------------

def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction='mean'):
    """-(t log x + (1 - t) log(1 - x)) for probabilities x, each log floored at -100."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f'Using a target size ({target.size()}) that is different to the input '
                         f'size ({input.size()}) is deprecated. Please ensure they have the same '
                         f'size.')
    if target.dtype != input.dtype:
        raise RuntimeError(f'Found dtype {_dtype_word(target)} but expected '
                           f'{_dtype_word(input)}')
    if not input.is_floating_point():
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for '
                                  f"'{_dtype_word(input)}'")
    _not_differentiable('binary_cross_entropy', 'weight', weight)
    if weight is None:
        loss = dispatch(BinaryCrossEntropy(False), input, target)
    else:
        weight = _weight_within(weight, input.shape).to(input.dtype).expand(input.shape)
        loss = dispatch(BinaryCrossEntropy(True), input, target, weight)
    return _reduce(loss, reduction, 'BinaryCrossEntropyBackward0')


def _weight_within(weight, shape):
    """A weight that broadcasts to `shape` without widening it (the loss keeps its shape)."""
    wider = nbgrad.broadcast_shapes(tuple(weight.shape), tuple(shape))
    if tuple(wider) != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f'{list(wider)}')
    return weight


@profiled_call('aten::binary_cross_entropy_with_logits')
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction='mean', pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits; pos_weight
    multiplies the positive term."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f'Target size ({target.size()}) must be the same as input size '
                         f'({input.size()})')
    if target.dtype == nbgrad.bool:
        # ATen's first step, 1 - target in target's dtype, meets its bool-subtraction check
        raise RuntimeError('Subtraction, the `-` operator, with two bool tensors is not '
                           'supported. Use the `^` or `logical_xor()` operator instead.')
    if not target.is_floating_point():
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f'{_dtype_word(target)}')
    for name, w in (('weight', weight), ('pos_weight', pos_weight)):
        _not_differentiable('binary_cross_entropy_with_logits', name, w)
        if w is not None:
            _weight_within(w, input.shape)
    # PyTorch computes in place: the positive term in the input's dtype, the rest (and so the
    # result) in the target's
    log_sigmoid = dispatch(LogSigmoid(), input)
    if pos_weight is not None:
        log_sigmoid = (log_sigmoid * ((pos_weight - 1) * target + 1)).to(input.dtype)
    loss = (((1 - target) * input).to(target.dtype) - log_sigmoid).to(target.dtype)
    if weight is not None:
        loss = (loss * weight).to(target.dtype)
    return _reduce(loss, reduction, 'BinaryCrossEntropyWithLogitsBackward0')


def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """Pointwise KL divergence target * (log target - input), input given as log-probabilities
    ('batchmean' divides the sum by the batch size: the true KL divergence)."""
    if size_average is not None or reduce is not None:
        summed = _legacy_reduction(size_average, reduce)
    else:
        if reduction == 'mean':
            warn_at_caller("reduction: 'mean' divides the total loss by both the batch size and "
                           "the support size.'batchmean' divides only by the batch size, and "
                           "aligns with the KL div math definition.'mean' will be changed to "
                           "behave the same as 'batchmean' in the next major release.")
        summed = _checked('sum' if reduction == 'batchmean' else reduction)
    for t in (input, target):
        if t.is_complex():
            raise RuntimeError('kl_div: Complex inputs not supported.')
        if not t.is_floating_point():
            raise RuntimeError('kl_div: Integral inputs not supported.')
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = nbgrad.xlogy(target, target) - target * input
    reduced = _reduce(loss, summed)
    if reduction == 'batchmean' and input.dim() != 0:
        reduced = reduced / input.size()[0]
    return reduced


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction='mean'):
    """Negative log-likelihood of target under Poisson(input) (input a log-rate by default);
    full adds Stirling's approximation of log(target!) for targets above 1."""
    reduction = _legacy_or(size_average, reduce, reduction)
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'{reduction} is not a valid value for reduction')
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    """Negative log-likelihood of target under N(input, var), var clamped below at eps (without
    stopping its gradient) and broadcast by PyTorch's rules."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError('var has negative entry/entries')
        var = var * nbgrad.ones_like(input)
    elif not isinstance(var, Tensor):
        raise TypeError(f'gaussian_nll_loss(): var must be a Tensor or a float, not '
                        f'{type(var).__name__}')
    elif bool((var < 0).any()):
        raise ValueError('var has negative entry/entries')
    if var.size() != input.size():
        if input.size()[:-1] == var.size():  # one variance per sample, for all its features
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and sum(v for i, v in zip(input.size(), var.size())
                                                    if i != v) == 1):
            raise ValueError('var is of incorrect size')
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'{reduction} is not valid')
    var = var.clone()
    with nbgrad.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses
# ---------------------------------------------------------------------------------------------

def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction='mean'):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    dim = target.dim()
    if dim > 1:
        raise RuntimeError('0D or 1D target tensor expected, multi-target not supported')
    if input1.dim() != dim + 1 or input2.dim() != dim + 1:
        raise RuntimeError(f'{dim}D target tensor expects {dim + 1}D input tensors, but found '
                           f'inputs with sizes {list(input1.shape)} and {list(input2.shape)}.')
    dot = (input1 * input2).sum(dim)
    squared_norms = ((input1 * input1).sum(dim) + _COSINE_EPSILON) * \
        ((input2 * input2).sum(dim) + _COSINE_EPSILON)
    cos = dot / squared_norms.sqrt()
    zeros = nbgrad.zeros_like(cos)
    loss = nbgrad.where(target == 1, 1 - cos, zeros) + \
        nbgrad.where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction='mean'):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f'margin_ranking_loss : All input tensors should have same dimension '
                           f'but got sizes: input1: {input1.size()}, input2: {input2.size()}, '
                           f'target: {target.size()} ')
    # margin is a float in PyTorch's kernel: integer inputs give a float loss
    return _reduce((-target * (input1 - input2) + float(margin)).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction='mean'):
    """input where target is 1, max(0, margin - input) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros = nbgrad.zeros_like(input)
    # PyTorch's margin - input fills a tensor like input with margin: integer inputs keep their
    # dtype (margin truncated), and then only the mean refuses them
    margins = nbgrad.full_like(input, margin) - input
    loss = nbgrad.where(target != 1, margins.clamp_min(0), zeros) + \
        nbgrad.where(target != -1, input, zeros)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """log(1 + exp(-target * input))."""
    reduction = _reduction(size_average, reduce, reduction)
    _not_differentiable('soft_margin_loss', 'target', target)
    # PyTorch computes in place in a tensor of the input's dtype, which exp_ of an integer one
    # refuses (a bool input fails at the negation, as here)
    if input._data.dtype.kind in 'iu':
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f'{_type_word(input._data.dtype)}')
    return _reduce((-input * target).to(input.dtype).exp().log1p(), reduction,
                   'SoftMarginLossBackward0')


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction='mean'):
    """Binary cross entropy with logits for each class, averaged over the classes."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * dispatch(LogSigmoid(), input) + (1 - target) * dispatch(LogSigmoid(),
                                                                               -input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'{reduction} is not valid')
    return _reduce(loss, reduction)


def _check_margin_input(input):
    """multi_margin_loss and multilabel_margin_loss take (C), (N, C) or a 0-dim input."""
    shape = tuple(input.shape)
    if not (len(shape) == 0 or (len(shape) in (1, 2) and shape[-1] != 0)):
        raise RuntimeError(f'Expected non-empty vector or matrix with optional 0-dim batch size, '
                           f'but got: {list(shape)}')
    return (1 if len(shape) <= 1 else shape[0]), (1 if len(shape) == 0 else shape[-1])


def _check_long(target):
    if target._data.dtype.name != 'int64':
        raise RuntimeError(f'expected scalar type Long but found {_dtype_word(target)}')


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction='mean'):
    """Multi-class hinge loss: sum over classes j != y of max(0, margin - x[y] + x[j])^p
    (times weight[y]), divided by the number of classes."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError('only p == 1 and p == 2 supported')
    if input.dtype not in (nbgrad.float32, nbgrad.float64):    # (PyTorch's kernel's types)
        raise NotImplementedError(f'"multi_margin_loss_cpu_kernel" not implemented for '
                                  f'\'{_dtype_word(input)}\'')
    if weight is not None and weight.dim() != 1:
        raise ValueError('weight must be one-dimensional')
    n_samples, n_classes = _check_margin_input(input)
    if target.dim() > 1 or target.numel() != n_samples:
        raise RuntimeError(f'multi_margin_loss: target tensor should be 1-D with size equal to '
                           f'the number of input samples (batch size). Expected target size '
                           f'[{n_samples}], but got {list(target.shape)}. Input has shape '
                           f'{list(input.shape)}.')
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f'inconsistent weight size, expected {n_classes} but got '
                           f'{list(weight.shape)}')
    _check_long(target)
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f'expected scalar type {_dtype_word(input)} but found '
                           f'{_dtype_word(weight)}')
    _not_differentiable('multi_margin_loss', 'weight', weight)
    labels = target.reshape(n_samples, 1)
    if n_samples and bool(((labels < 0) | (labels >= n_classes)).any()):
        raise RuntimeError('target out of range')
    scores = input.reshape(n_samples, n_classes)
    hinge = (margin - scores.gather(1, labels) + scores).relu()  # relu: no gradient at 0
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[labels]
    others = nbgrad.arange(n_classes, device=input.device) != labels
    loss = (hinge * others).sum(1) / n_classes
    return _reduce(loss.reshape(target.shape), reduction, 'MultiMarginLossBackward0')


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """For each sample, the hinge max(0, 1 - (x[y] - x[k])) summed over its target classes y
    (target's entries before the first -1) and its other classes k, divided by the number of
    classes."""
    reduction = _reduction(size_average, reduce, reduction)
    n_samples, n_classes = _check_margin_input(input)
    if (input.dim() <= 1 and (target.dim() > 1 or target.numel() != n_classes)) or \
            (input.dim() == 2 and tuple(target.shape) != tuple(input.shape)):
        raise RuntimeError(f'inconsistent target size: {list(target.shape)} for input of size: '
                           f'{list(input.shape)}')
    _check_long(target)
    if not input.is_floating_point():
        raise NotImplementedError(f'"multilabel_margin_loss_forward_out_frame" not implemented '
                                  f"for '{_type_word(input._data.dtype)}'")
    labels = target.reshape(n_samples, n_classes)
    if labels.numel() and bool(((labels < -1) | (labels >= n_classes)).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    scores = input.reshape(n_samples, n_classes)
    listed = (labels < 0).cumsum(1) == 0  # the entries before the first -1
    safe = labels.masked_fill(~listed, 0)
    classes = nbgrad.arange(n_classes, device=input.device)
    is_target = ((safe.unsqueeze(2) == classes) & listed.unsqueeze(2)).any(1)  # (N, C)
    hinge = (1 - scores.gather(1, safe).unsqueeze(2) + scores.unsqueeze(1)).relu()
    counted = listed.unsqueeze(2) & ~is_target.unsqueeze(1)  # (N, target entry, class)
    loss = (hinge * counted).sum((1, 2)) / n_classes
    return _reduce(loss if input.dim() == 2 else loss.reshape(()), reduction,
                   'MultilabelMarginLossBackward0')


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    """torch.pairwise_distance: the p-norm of x1 - x2 + eps over the last dimension."""
    difference = x1 - x2 + eps
    return vector_norm(difference, p, -1 if difference.dim() else None)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction='mean'):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the p-norm distance;
    swap uses d(positive, negative) where it is smaller."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f'margin must be greater than 0, got {margin}')
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative,
                    lambda a, b: _pairwise_distance(a, b, p, eps), margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction='mean'):
    """triplet_margin_loss with any distance (pairwise_distance by default)."""
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f'{reduction} is not a valid value for reduction')
    if margin <= 0:
        raise ValueError(f'margin must be greater than 0, got {margin}')
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative, distance_function or _pairwise_distance, margin,
                    swap, reduction)


def _check_triplet_dims(anchor, positive, negative):
    if not anchor.dim() == positive.dim() == negative.dim():
        raise RuntimeError(f'The anchor, positive, and negative tensors are expected to have the '
                           f'same number of dimensions, but got: anchor {anchor.dim()}D, '
                           f'positive {positive.dim()}D, and negative {negative.dim()}D inputs')


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    distance_positive = distance(anchor, positive)
    distance_negative = distance(anchor, negative)
    if swap:
        distance_negative = nbgrad.minimum(distance_negative, distance(positive, negative))
    return _reduce((margin + distance_positive - distance_negative).clamp_min(0), reduction)


# ---------------------------------------------------------------------------------------------
# Connectionist Temporal Classification
# ---------------------------------------------------------------------------------------------

def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
             zero_infinity=False):
    """CTC loss of log_probs (T, N, C) (or (T, C)) against padded (N, S) or concatenated
    targets; 'mean' divides each sample's loss by its target length, then averages."""
    return _ctc.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                         _checked(reduction), zero_infinity)
