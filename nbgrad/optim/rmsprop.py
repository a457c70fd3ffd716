"""RMSprop (torch.optim.RMSprop): alpha, centered, momentum, weight decay, maximize."""
from .._creation import zeros_like
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    decay_and_add_square_, effective_grad, lerp_, new_step, scalar)

__all__ = ['RMSprop']


class RMSprop(ElementwiseOptimizer):
    """RMSprop: square_avg = alpha * square_avg + (1 - alpha) * grad^2; the step divides the grad
    by sqrt(square_avg) + eps (centered=True subtracts the squared running mean of the grad
    first), through a momentum buffer when momentum > 0."""
    n_scratch = 2
    _legacy_keys = ('momentum', 'centered', 'foreach', 'maximize', 'differentiable',
                   'capturable')

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                          alpha=alpha)
        defaults = {'lr': lr, 'momentum': momentum, 'alpha': alpha, 'eps': eps,
                    'centered': centered, 'weight_decay': weight_decay, 'capturable': capturable,
                    'foreach': foreach, 'maximize': maximize, 'differentiable': differentiable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _prepare(self, group, p):
        state = self.state[p]
        momentum, centered = group['momentum'], group['centered']
        if len(state) == 0:
            state['step'] = new_step(p)
            state['square_avg'] = zeros_like(p)
            if momentum > 0:
                state['momentum_buffer'] = zeros_like(p)
            if centered:
                state['grad_avg'] = zeros_like(p)
        advance(state['step'])
        tensors, bumps = (state['square_avg'],), (1, 2)
        if centered:
            tensors, bumps = tensors + (state['grad_avg'],), bumps + (1,)
        if momentum > 0:
            tensors, bumps = tensors + (state['momentum_buffer'],), bumps + (2,)
        cfg = (group['alpha'], group['eps'], group['weight_decay'], momentum, centered,
               group['maximize'], scalar(group['lr']))
        return tensors, cfg, bumps

    @staticmethod
    def kernel(xp, cfg, p, g, square_avg, *rest):
        alpha, eps, weight_decay, momentum, centered, maximize, lr = cfg
        rest = list(rest)
        grad_avg = rest.pop(0) if centered else None
        buf = rest.pop(0) if momentum > 0 else None
        t0, t1 = rest
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        decay_and_add_square_(xp, square_avg, g, alpha, t1)
        if centered:
            lerp_(xp, grad_avg, g, 1 - alpha, t1)
            xp.multiply(grad_avg, grad_avg, out=t1)
            xp.subtract(square_avg, t1, out=t1)
            xp.sqrt(t1, out=t1)
        else:
            xp.sqrt(square_avg, out=t1)
        t1 += eps
        if buf is not None:
            buf *= momentum
            xp.divide(g, t1, out=t1)
            buf += t1
            xp.multiply(buf, lr, out=t1)
            p -= t1
        else:
            xp.multiply(g, -lr, out=t0)
            t0 /= t1
            p += t0
