"""SyncBatchNorm's training step over a process group: each rank's per-channel count, mean and
sum of squared deviations are all-gathered and merged (in float64) into the statistics of the
whole global batch, and backward all-reduces the two per-channel sums its input gradient needs,
as PyTorch's SyncBatchNorm function does (PyTorch runs it on GPUs only; nbgrad's collectives
carry CPU tensors, so here it runs on the CPU). Weight and bias gradients stay local, for
DistributedDataParallel to average. The result equals batch norm over the concatenated batch."""
from ... import distributed as dist
from ...autograd.function import Function, once_differentiable
from ...autograd.grad_mode import no_grad
from ..._functions import stack


def sync_batch_norm(input, weight, bias, running_mean, running_var, eps, factor, group):
    return _SyncBatchNorm.apply(input, weight, bias, running_mean, running_var, eps, factor,
                                group)


def syncing(module):
    """Whether a SyncBatchNorm forward synchronises: training, in a process group of 2+."""
    if not (module.training and dist.is_initialized()):
        return False
    return dist.get_world_size(module.process_group) > 1   # (None: the default group)


class _SyncBatchNorm(Function):
    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, factor, group):
        dims = [0] + list(range(2, input.dim()))
        shape = [1, -1] + [1] * (input.dim() - 2)
        x = input.double()
        count = input.numel() // input.shape[1]
        mean = x.mean(dims)
        m2 = ((x - mean.view(shape)) ** 2).sum(dims)
        mine = stack([mean.new_full(mean.shape, float(count)), mean, m2])     # (3, C)
        gathered = [mine.new_empty(mine.shape) for _ in range(dist.get_world_size(group))]
        dist.all_gather(gathered, mine, group=group)
        counts, means, m2s = stack(gathered).unbind(1)      # each (world, C)
        total = counts.sum(0)
        global_mean = (counts * means).sum(0) / total
        global_m2 = (m2s + counts * (means - global_mean) ** 2).sum(0)
        var = global_m2 / total
        invstd = 1 / (var + eps).sqrt()
        if running_mean is not None:
            with no_grad():
                n = float(total[0])
                running_mean.mul_(1 - factor).add_(global_mean.to(running_mean.dtype) * factor)
                unbiased = var * (n / (n - 1)) if n > 1 else var * float('inf')
                running_var.mul_(1 - factor).add_(unbiased.to(running_var.dtype) * factor)
        mean_, invstd_ = (t.to(input.dtype) for t in (global_mean, invstd))
        out = (input - mean_.view(shape)) * invstd_.view(shape)
        if weight is not None:
            out = out * weight.view(shape)
        if bias is not None:
            out = out + bias.view(shape)
        ctx.save_for_backward(input, weight, mean_, invstd_)
        ctx.group, ctx.total, ctx.dims, ctx.shape = group, float(total[0]), dims, shape
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        input, weight, mean, invstd = ctx.saved_tensors
        dims, shape = ctx.dims, ctx.shape
        xmu = input - mean.view(shape)
        sum_dy = grad.sum(dims)
        sum_dy_xmu = (grad * xmu).sum(dims)
        grad_weight = sum_dy_xmu * invstd if weight is not None else None
        grad_bias = sum_dy if ctx.needs_input_grad[2] else None
        both = stack([sum_dy, sum_dy_xmu])
        dist.all_reduce(both, group=ctx.group)      # (the global sums, on every rank)
        mean_dy, mean_dy_xmu = both[0] / ctx.total, both[1] / ctx.total
        scale = invstd if weight is None else invstd * weight
        grad_input = (grad - mean_dy.view(shape) - xmu * (invstd ** 2 * mean_dy_xmu).view(shape)) \
            * scale.view(shape)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None
