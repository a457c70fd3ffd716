"""RAdam (torch.optim.RAdam): Adam with a rectified adaptive learning rate."""
from .._creation import zeros_like
from ._util import (ElementwiseOptimizer, advance, check_betas, check_lr, check_nonnegative,
                    check_supported, decay_and_add_square_, effective_grad, lerp_, new_step,
                    scalar)

__all__ = ['RAdam']


class RAdam(ElementwiseOptimizer):
    """RAdam: while the variance of the adaptive rate is intractable (rho_t <= 5) the step is
    plain momentum SGD with the bias-corrected exp_avg; afterwards it is Adam's step times the
    rectification term."""
    n_scratch = 3
    _legacy_keys = ('foreach', 'maximize', 'differentiable', 'decoupled_weight_decay',
                   'capturable')

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        defaults = {'lr': lr, 'betas': betas, 'eps': eps, 'weight_decay': weight_decay,
                    'maximize': maximize, 'foreach': foreach, 'capturable': capturable,
                    'decoupled_weight_decay': decoupled_weight_decay,
                    'differentiable': differentiable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _prepare(self, group, p):
        state = self.state[p]
        if len(state) == 0:
            state['step'] = new_step(p)
            state['exp_avg'] = zeros_like(p)
            state['exp_avg_sq'] = zeros_like(p)
        step = advance(state['step'])
        beta1, beta2 = group['betas']
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rect = None
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        decoupled = group['decoupled_weight_decay'] and group['weight_decay'] != 0
        cfg = (beta1, beta2, group['eps'], group['weight_decay'], decoupled, group['maximize'],
               scalar(group['lr']), bias_correction1, bias_correction2 ** 0.5, rect)
        return (state['exp_avg'], state['exp_avg_sq']), cfg, (2 if decoupled else 1, 1, 2)

    @staticmethod
    def kernel(xp, cfg, p, g, exp_avg, exp_avg_sq, t0, t1, t2):
        (beta1, beta2, eps, weight_decay, decoupled, maximize, lr, bias_correction1,
         bias_correction2_sqrt, rect) = cfg
        if decoupled:
            p *= 1 - lr * weight_decay
            weight_decay = 0
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        lerp_(xp, exp_avg, g, 1 - beta1, t1)
        decay_and_add_square_(xp, exp_avg_sq, g, beta2, t1)
        xp.divide(exp_avg, bias_correction1, out=t2)
        t2 *= lr
        if rect is not None:
            xp.sqrt(exp_avg_sq, out=t1)
            t1 += eps
            xp.divide(bias_correction2_sqrt, t1, out=t1)     # the adaptive lr
            t2 *= t1
            t2 *= rect
        p -= t2
