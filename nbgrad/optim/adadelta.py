"""Adadelta (torch.optim.Adadelta): rho, eps, weight decay, maximize."""
from .._creation import zeros_like
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    decay_and_add_square_, effective_grad, new_step, scalar)

__all__ = ['Adadelta']


class Adadelta(ElementwiseOptimizer):
    """Adadelta: delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * grad, with running
    averages (factor rho) of grad^2 and delta^2; param -= lr * delta."""
    n_scratch = 3
    _legacy_keys = ('foreach', 'maximize', 'differentiable', 'capturable')

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f'Invalid rho value: {rho}')
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = {'lr': lr, 'rho': rho, 'eps': eps, 'weight_decay': weight_decay,
                    'maximize': maximize, 'capturable': capturable, 'foreach': foreach,
                    'differentiable': differentiable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _prepare(self, group, p):
        state = self.state[p]
        if len(state) == 0:
            state['step'] = new_step(p)
            state['square_avg'] = zeros_like(p)
            state['acc_delta'] = zeros_like(p)
        advance(state['step'])
        cfg = (group['rho'], group['eps'], group['weight_decay'], group['maximize'],
               scalar(group['lr']))
        return (state['square_avg'], state['acc_delta']), cfg, (1, 2, 2)

    @staticmethod
    def kernel(xp, cfg, p, g, square_avg, acc_delta, t0, t1, t2):
        rho, eps, weight_decay, maximize, lr = cfg
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        decay_and_add_square_(xp, square_avg, g, rho, t1)
        xp.add(square_avg, eps, out=t1)
        xp.sqrt(t1, out=t1)                  # std
        xp.add(acc_delta, eps, out=t2)
        xp.sqrt(t2, out=t2)
        t2 /= t1
        t2 *= g                              # delta
        decay_and_add_square_(xp, acc_delta, t2, rho, t1)
        t2 *= lr
        p -= t2
