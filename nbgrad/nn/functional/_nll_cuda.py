"""nll_loss (cross_entropy's second half) on CUDA: one kernel launch forward, one backward, where
the array formulas take fifteen or so small launches (masks for ignored targets, the bounds check,
a fancy-index gather, weights, sums, a division) per training step.

Forward: one block walks every target position: the position's weight (0 where the target is
ignore_index), its loss -weight * logp[target], the sums of both (double precision, combined in
shared memory) and the first position whose target is out of range. The reduced loss is written
on the device; the caller reads the three statistics back once (the one sync, kept: CuPy would
otherwise wrap a bad class index around silently) to raise PyTorch's IndexError.
Backward: one thread per element of the input's gradient writes either 0 or its position's
coefficient times the incoming gradient, so the gradient needs no zero fill and no scatter.
Float32 and float64 log-probabilities; a compiler that refuses the kernels is warned about once
and the array formulas are used.
"""
import numpy as np

from ..._cuda_kernels import BLOCK_REDUCE, ROW_THREADS_MAX, KernelFamily

REDUCTIONS = {'none': 0, 'mean': 1, 'sum': 2}

# logp viewed as (batch, classes, spread): spread is the product of any trailing dims, and a
# target position p = n * spread + s
_FORWARD = BLOCK_REDUCE + r'''
extern "C" __global__ void nbgrad_nll_forward(
        const T* logp, const long long* target, const T* weight, T* losses, T* weights,
        double* stats, T* result, long long batch, long long classes, long long spread,
        long long ignore_index, int has_weight, int reduction) {
    __shared__ double scratch[NBGRAD_ROW_THREADS_MAX];
    double loss_sum = 0, weight_sum = 0, first_bad = NBGRAD_NEG_INF;   // (the bad one negated)
    for (long long p = threadIdx.x; p < batch * spread; p += blockDim.x) {
        long long t = target[p], n = p / spread, s = p % spread;
        double w = 0, loss = 0;
        if (t != ignore_index) {
            if (t < 0 || t >= classes) {
                if (-(double)p > first_bad) first_bad = -(double)p;
            } else {
                w = has_weight ? (double)weight[t] : 1.0;
                loss = -w * (double)logp[(n * classes + t) * spread + s];
            }
        }
        losses[p] = (T)loss;
        weights[p] = (T)w;
        loss_sum += loss;
        weight_sum += w;
    }
    loss_sum = nbgrad_block_sum(loss_sum, scratch);
    weight_sum = nbgrad_block_sum(weight_sum, scratch);
    first_bad = nbgrad_block_max(first_bad, scratch);
    if (threadIdx.x == 0) {
        stats[0] = loss_sum;
        stats[1] = weight_sum;
        stats[2] = first_bad == NBGRAD_NEG_INF ? -1.0 : -first_bad;
        result[0] = (T)(reduction == 1 ? loss_sum / weight_sum : loss_sum);
    }
}
'''

_BACKWARD = r'''
extern "C" __global__ void nbgrad_nll_backward(
        const T* g, const long long* target, const T* weights, const double* stats, T* grad,
        long long batch, long long classes, long long spread, long long ignore_index,
        int reduction) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
         item < batch * classes * spread; item += stride) {
        long long s = item % spread, c = (item / spread) % classes, n = item / (spread * classes);
        long long p = n * spread + s, t = target[p];
        T value = 0;
        if (t == c && t != ignore_index) {
            double coefficient = -(double)weights[p];
            if (reduction == 1) coefficient /= stats[1];
            value = (T)(coefficient * (double)(reduction == 0 ? g[p] : g[0]));
        }
        grad[item] = value;
    }
}
'''
KERNELS = KernelFamily('nll-loss')


def usable(xp, logp, weight):
    return (KERNELS.available(xp, logp.dtype) and logp.size > 0
            and (weight is None or weight.dtype == logp.dtype))


def forward(xp, batched, target, weight, ignore_index, reduction):
    """(result, losses, weights, stats) for log-probabilities batched (N, C, *d) and int64
    targets (N, *d): the reduced loss (a 0-d array; unused for 'none'), each position's loss and
    weight, and the statistics [loss sum, weight sum, first bad position or -1] (float64), all
    on the device; or None if the kernel is unavailable."""
    batched = xp.ascontiguousarray(batched)
    target = xp.ascontiguousarray(target)
    n, c = batched.shape[:2]
    spread = batched.size // max(n * c, 1)
    losses = xp.empty(target.shape, batched.dtype)
    weights = xp.empty(target.shape, batched.dtype)
    stats = xp.empty(3, np.float64)
    result = xp.empty((), batched.dtype)
    done = KERNELS.launch(
        xp, 'nbgrad_nll_forward', _FORWARD, batched.dtype, 1,
        (batched, target, batched if weight is None else weight, losses, weights, stats, result,
         np.int64(n), np.int64(c), np.int64(spread), np.int64(ignore_index),
         np.int32(weight is not None), np.int32(REDUCTIONS[reduction])),
        threads=ROW_THREADS_MAX)
    if not done:
        return None
    return result, losses, weights, stats


def backward(xp, g, target, weights, stats, input_shape, batched_shape, ignore_index,
             reduction):
    """The input's gradient (input_shape), or None if the kernel is unavailable."""
    n, c = batched_shape[:2]
    grad = xp.empty(input_shape, g.dtype)
    spread = grad.size // max(n * c, 1)
    done = KERNELS.launch(
        xp, 'nbgrad_nll_backward', _BACKWARD, g.dtype, grad.size,
        (xp.ascontiguousarray(g), target, weights, stats, grad, np.int64(n), np.int64(c),
         np.int64(spread), np.int64(ignore_index), np.int32(REDUCTIONS[reduction])))
    return grad if done else None
