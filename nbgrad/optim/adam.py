"""Adam (torch.optim.Adam): amsgrad, L2 or decoupled weight decay, maximize."""
from .._creation import zeros_like
from .._tensor import Tensor
from ._fused_cuda import ADAM
from ._util import (ElementwiseOptimizer, advance, check_betas, check_fused, check_fused_param,
                    check_lr, check_nonnegative, check_supported, decay_and_add_square_,
                    effective_grad, lerp_, new_step, scalar)

__all__ = ['Adam']


class Adam(ElementwiseOptimizer):
    """Adam, PyTorch's formulation: exp_avg and exp_avg_sq are running averages of the grad and
    its square; param -= lr / (1 - beta1^t) * exp_avg / (sqrt(v) / sqrt(1 - beta2^t) + eps),
    with v = exp_avg_sq, or its running maximum with amsgrad=True."""
    _sparse_name = 'Adam'    # (AdamW's sparse-gradient error says Adam too, as PyTorch's)
    n_scratch = 2
    fused_cuda = ADAM
    _legacy_keys = ('amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable',
                   'decoupled_weight_decay', 'fused')

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError('lr as a Tensor is not supported for capturable=False and '
                                 'foreach=True')
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError('betas must be either both floats or both Tensors')
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(f'betas[{i}] as a Tensor is not supported for '
                                     'capturable=False and foreach=True')
                if betas[i].numel() != 1:
                    raise ValueError(f'Tensor betas[{i}] must be 1-element')
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b
                      for b in betas)
        defaults = {'lr': lr, 'betas': betas, 'eps': eps, 'weight_decay': weight_decay,
                    'amsgrad': amsgrad, 'maximize': maximize, 'foreach': foreach,
                    'capturable': capturable, 'differentiable': differentiable, 'fused': fused,
                    'decoupled_weight_decay': decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_supported(self, capturable, differentiable)

    def _prepare(self, group, p):
        state = self.state[p]
        amsgrad = group['amsgrad']
        if len(state) == 0:
            if group['fused']:
                check_fused_param(p)
            state['step'] = new_step(p, fused=group['fused'])
            state['exp_avg'] = zeros_like(p)
            state['exp_avg_sq'] = zeros_like(p)
            if amsgrad:
                state['max_exp_avg_sq'] = zeros_like(p)
        step = advance(state['step'])
        beta1, beta2 = (scalar(b) for b in group['betas'])
        lr = scalar(group['lr'])
        decoupled = group['decoupled_weight_decay'] and group['weight_decay'] != 0
        cfg = (amsgrad, beta1, beta2, group['eps'], group['weight_decay'], decoupled,
               group['maximize'], lr, lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5)
        tensors = (state['exp_avg'], state['exp_avg_sq'])
        bumps = (2 if decoupled else 1, 1, 2)
        if amsgrad:
            return tensors + (state['max_exp_avg_sq'],), cfg, bumps + (1,)
        return tensors, cfg, bumps

    @staticmethod
    def kernel(xp, cfg, p, g, exp_avg, exp_avg_sq, *rest):
        (amsgrad, beta1, beta2, eps, weight_decay, decoupled, maximize, lr, step_size,
         bias_correction2_sqrt) = cfg
        if amsgrad:
            max_exp_avg_sq, t0, t1 = rest
        else:
            t0, t1 = rest
        if decoupled:
            p *= 1 - lr * weight_decay
            weight_decay = 0
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        lerp_(xp, exp_avg, g, 1 - beta1, t1)
        decay_and_add_square_(xp, exp_avg_sq, g, beta2, t1)
        v = exp_avg_sq
        if amsgrad:
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            v = max_exp_avg_sq
        # PyTorch: p += -step_size * exp_avg / (sqrt(v) / bc2_sqrt + eps). Multiplying through
        # by bc2_sqrt gives the same value in two passes fewer.
        xp.sqrt(v, out=t1)
        t1 += eps * bias_correction2_sqrt
        xp.multiply(exp_avg, -(step_size * bias_correction2_sqrt), out=t0)
        t0 /= t1
        p += t0
