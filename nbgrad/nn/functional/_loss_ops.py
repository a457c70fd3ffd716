"""The losses that are ops of their own rather than compositions of Tensor ops, each for a reason:
nll_loss (cross_entropy's hot path: one gather forward, one scatter backward, PyTorch's
NllLossBackward0), binary_cross_entropy (PyTorch clamps its logs at -100 and its gradient's
denominator at 1e-12, which no composition reproduces) and log_sigmoid (a stable forward and the
gradient sigmoid(-x) everywhere, also at 0).

Each forward works on raw NumPy/CuPy arrays; each backward is written in Tensor ops, so that
gradients of gradients work.
"""
import numpy as np

from ..._dispatch import _type_word
from ..._tensor import Tensor
from ...autograd.graph import Node, _FREED_MESSAGE, also_of_input
from ...ops._util import xp_of, out_of_bounds
from . import _nll_cuda

# PyTorch's floor for (1 - x) * x in binary_cross_entropy's gradient: a float32 constant there
_BCE_EPSILON = float(np.float32(1e-12))
_INT64 = np.dtype(np.int64)
_LOG_FLOOR = -100.0   # PyTorch's floor for log(x) and log(1 - x) in binary_cross_entropy


class NllLoss(Node):
    """-weight[t] * logp[t] per target t, reduced; targets equal to ignore_index count for nothing.

    Inputs: log-probabilities (C), (N, C) or (N, C, d1, ...); int64/uint8 targets (), (N) or
    (N, d1, ...); optionally the class weights (C). The mean divides by the summed weights of the
    targets that are not ignored (their count without weights). Backward puts each target's
    coefficient back at its class, times the incoming gradient.

    cross_entropy's training loop runs this twice per step, so the common case (every target a
    valid class) takes a short path: on the CPU, the targets' min and max show that nothing is
    ignored or out of range, and no mask is built; on CUDA, one kernel each way (_nll_cuda)."""
    shown_inputs = (0,)     # (PyTorch's node: no edges for the target or the weights)

    def __init__(self, ignore_index, reduction):
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, logp, target, weight=None):
        xp = xp_of(logp)
        batched = logp.reshape((1,) + logp.shape) if logp.ndim == 1 else logp
        n_classes = batched.shape[1]
        target = target.reshape(batched.shape[:1] + batched.shape[2:])
        if target.dtype != _INT64:
            target = target.astype(_INT64)
        self._input_ndim, self._weighted = logp.ndim, weight is not None
        self._fused = None
        if xp is not np and _nll_cuda.usable(xp, batched, weight):   # one launch on CUDA
            fused = _nll_cuda.forward(xp, batched, target, weight, self.ignore_index,
                                      self.reduction)
            if fused is not None:
                return self._fused_result(logp, batched, target, *fused)
        ignored = self._ignored(xp, target, n_classes)
        safe = target if ignored is None else xp.where(ignored, 0, target)
        index = _class_index(xp, safe)
        picked = batched[index]
        if weight is None:
            weights = None if ignored is None else (~ignored).astype(logp.dtype)
        else:
            weights = weight[safe] if ignored is None else xp.where(ignored, 0, weight[safe])
        losses = -picked if weights is None else -(weights * picked)
        coefficients = -1.0 if weights is None else -weights
        if self.reduction == 'none':
            result = losses.reshape(() if logp.ndim == 1 else target.shape)
        else:
            result = losses.sum()
            if self.reduction == 'mean':
                total_weight = picked.size if weights is None else weights.sum()
                result = result / total_weight
                if weights is None:
                    coefficients = -1.0 / total_weight if total_weight else 0.0
                else:
                    coefficients = -weights / total_weight
                    if ignored is not None:
                        # PyTorch writes no gradient for ignored targets, even when all are
                        # ignored (the mean is then 0/0 = nan, its gradient 0)
                        coefficients = xp.where(ignored, 0, coefficients)
        self._state = ((logp.shape, batched.shape, target.shape), index, coefficients)
        return xp.asarray(result, dtype=logp.dtype)

    def _fused_result(self, logp, batched, target, result, losses, weights, stats):
        """The CUDA kernel's loss, once its bounds check has been read back (the one sync)."""
        first_bad = int(stats[2])
        if first_bad >= 0:
            raise IndexError(f'Target {int(target.reshape(-1)[first_bad])} is out of bounds.')
        self._state = ((logp.shape, batched.shape, target.shape), None, None)
        self._fused = (target, weights, stats)
        if self.reduction == 'none':
            return losses.reshape(() if logp.ndim == 1 else target.shape)
        return result

    def _fused_index_and_coefficients(self, xp, dtype):
        """The array path's (index, coefficients) from the CUDA kernel's saved weights."""
        target, weights, stats = self._fused
        ignored = target == self.ignore_index
        index = _class_index(xp, xp.where(ignored, 0, target))
        if self.reduction != 'mean':
            return index, -weights
        coefficients = -weights / stats[1].astype(dtype)
        return index, xp.where(ignored, 0, coefficients)

    def _ignored(self, xp, target, n_classes):
        """The mask of ignored targets, or None when no target is ignored; IndexError for a
        target outside [0, n_classes) that is not ignored."""
        if not target.size:
            return None
        if xp is np:  # two cheap reductions decide the common case
            low, high = int(target.min()), int(target.max())
            if not low <= self.ignore_index <= high:
                if low < 0 or high >= n_classes:
                    _raise_out_of_bounds(target, target == target, n_classes)
                return None
        ignored = target == self.ignore_index
        if out_of_bounds(xp.where(ignored, 0, target), n_classes, negative_ok=False) is not None:
            _raise_out_of_bounds(target, ~ignored, n_classes)
        return ignored

    def backward(self, g):
        if self._state is None:
            raise RuntimeError(_FREED_MESSAGE)
        (input_shape, batched_shape, target_shape), index, coefficients = self._state
        dtype = g._data.dtype
        if self._fused is not None:
            xp = xp_of(g._data)
            if not g._requires_grad:   # one launch on CUDA
                target, weights, stats = self._fused
                grad_array = _nll_cuda.backward(xp, g._data, target, weights, stats, input_shape,
                                                batched_shape, self.ignore_index, self.reduction)
                if grad_array is not None:
                    grad = Tensor._make(grad_array)
                    return (grad, None, None) if self._weighted else (grad, None)
            index, coefficients = self._fused_index_and_coefficients(xp, dtype)
        grad_array = xp_of(g._data).zeros(input_shape, dtype)  # not a view: .grad copies views
        scatter = grad_array.reshape(batched_shape)
        if not g._requires_grad:  # no gradient of this gradient to record: fold g in
            scatter[index] = coefficients * g._data.reshape(
                target_shape if self.reduction == 'none' else ())
            grad = Tensor._make(grad_array)
        else:
            scatter[index] = coefficients
            if self.reduction == 'none':
                g = g.reshape(target_shape[:1] + (1,) + target_shape[1:])
            grad = (g * Tensor._make(scatter)).reshape(input_shape)
        grad = also_of_input(grad, self)
        return (grad, None, None) if self._weighted else (grad, None)

    def _release(self):
        self._state = self._fused = None
        self._freed = True

    def name(self):
        # PyTorch runs inputs with spatial dimensions through its 2-D kernel
        return 'NllLossBackward0' if self._input_ndim <= 2 else 'NllLoss2DBackward0'


def _class_index(xp, classes):
    """The fancy index reaching a[n, classes[n, d1, ...], d1, ...] of an (N, C, d1, ...) array
    for every position of classes (N, d1, ...)."""
    ndim = classes.ndim
    grid = []
    for d, size in enumerate(classes.shape):
        shape = [1] * ndim
        shape[d] = size
        grid.append(xp.arange(size).reshape(shape))
    return (grid[0], classes, *grid[1:])


def _raise_out_of_bounds(target, counted, n_classes):
    """PyTorch's IndexError, naming the first counted target outside [0, n_classes)."""
    bad = counted & ((target < 0) | (target >= n_classes))
    raise IndexError(f'Target {int(target[bad].ravel()[0])} is out of bounds.')


class BinaryCrossEntropy(Node):
    """-w * (t * log(x) + (1 - t) * log(1 - x)), elementwise, each log floored at -100 as in
    PyTorch. Inputs: x, t (and w), all of x's shape and dtype."""

    def __init__(self, weighted):
        self.saved_inputs = (0, 1, 2) if weighted else (0, 1)

    def forward(self, x, t, w=None):
        xp = xp_of(x)
        for name, a in (('input', x), ('target', t)):
            if not bool(((a >= 0) & (a <= 1)).all()):  # nan fails too, as in PyTorch
                raise RuntimeError(f'all elements of {name} should be between 0 and 1')
        log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
        log_1mx = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
        loss = (t - 1) * log_1mx - t * log_x
        return loss if w is None else loss * w

    def backward(self, g):
        saved = self.saved_tensors
        x, t = saved[0], saved[1]
        if len(saved) == 3:
            g = g * saved[2]
        grad_x = g * (x - t) / ((1 - x) * x).clamp_min(_BCE_EPSILON)
        grad_t = -g * x.logit()
        return (grad_x, grad_t, None) if len(saved) == 3 else (grad_x, grad_t)

    def name(self):
        return 'BinaryCrossEntropyBackward0'


class LogSigmoid(Node):
    """log(sigmoid(x)) = -log(1 + exp(-x)), computed without overflow."""
    saved_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        if x.dtype.kind not in 'f':
            raise NotImplementedError(f'"log_sigmoid_cpu" not implemented for '
                                      f"'{_type_word(x.dtype)}'")
        return -(xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x))))

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (-x).sigmoid()

    def name(self):
        return 'LogSigmoidBackward0'
