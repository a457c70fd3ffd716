"""Adamax (torch.optim.Adamax): Adam with an infinity-norm second moment."""
from .._creation import zeros_like
from ._util import (ElementwiseOptimizer, advance, check_betas, check_lr, check_nonnegative,
                    check_supported, effective_grad, lerp_, new_step, scalar)

__all__ = ['Adamax']


class Adamax(ElementwiseOptimizer):
    """Adamax: exp_inf = max(beta2 * exp_inf, |grad| + eps);
    param -= lr / (1 - beta1^t) * exp_avg / exp_inf."""
    n_scratch = 2
    _legacy_keys = ('foreach', 'maximize', 'differentiable', 'capturable')

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        defaults = {'lr': lr, 'betas': betas, 'eps': eps, 'weight_decay': weight_decay,
                    'foreach': foreach, 'maximize': maximize, 'differentiable': differentiable,
                    'capturable': capturable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _prepare(self, group, p):
        state = self.state[p]
        if len(state) == 0:
            state['step'] = new_step(p)
            state['exp_avg'] = zeros_like(p)
            state['exp_inf'] = zeros_like(p)
        step = advance(state['step'])
        beta1, beta2 = group['betas']
        clr = scalar(group['lr']) / (1 - beta1 ** step)
        cfg = (beta1, beta2, group['eps'], group['weight_decay'], group['maximize'], clr)
        return (state['exp_avg'], state['exp_inf']), cfg, (1, 1, 2)

    @staticmethod
    def kernel(xp, cfg, p, g, exp_avg, exp_inf, t0, t1):
        beta1, beta2, eps, weight_decay, maximize, clr = cfg
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        lerp_(xp, exp_avg, g, 1 - beta1, t1)
        exp_inf *= beta2
        xp.abs(g, out=t1)
        t1 += eps
        xp.maximum(exp_inf, t1, out=exp_inf)
        xp.multiply(exp_avg, -clr, out=t1)
        t1 /= exp_inf
        p += t1
