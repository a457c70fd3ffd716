"""ASGD (torch.optim.ASGD): averaged stochastic gradient descent."""
from .._creation import zeros_like
from ._device_scalars import assign, value
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    effective_grad, new_step, scalar)

__all__ = ['ASGD']


class ASGD(ElementwiseOptimizer):
    """ASGD: SGD with a decaying rate eta = lr / (1 + lambd * lr * t)^alpha and a decay term,
    keeping the running average 'ax' of the iterates (from step t0 on). Its scalar state (step,
    eta, mu) lives on the parameter's device, as in PyTorch."""
    n_scratch = 2
    _legacy_keys = ('foreach', 'maximize', 'differentiable', 'capturable')
    _scalar_state = ('step', 'eta', 'mu')
    _scalar_state_on_device = True

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative(lr=lr, weight_decay=weight_decay)
        defaults = {'lr': lr, 'lambd': lambd, 'alpha': alpha, 't0': t0,
                    'weight_decay': weight_decay, 'foreach': foreach, 'maximize': maximize,
                    'differentiable': differentiable, 'capturable': capturable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _prepare(self, group, p):
        state = self.state[p]
        lr = scalar(group['lr'])
        if len(state) == 0:
            state['step'] = new_step(p, on_param_device=True)
            state['eta'] = new_step(p, on_param_device=True, value=lr)
            state['mu'] = new_step(p, on_param_device=True, value=1.0)
            state['ax'] = zeros_like(p)
        step = advance(state['step'])
        eta, mu = state['eta'], state['mu']
        cfg = (group['weight_decay'], group['maximize'], group['lambd'], value(eta), value(mu))
        # the next step's eta and mu (PyTorch sets them after the update; cfg holds the old ones)
        lambd, alpha = group['lambd'], group['alpha']
        assign(eta, lr / ((1 + lambd * lr * step) ** alpha))
        assign(mu, 1 / max(1, step - group['t0']))
        return (state['ax'],), cfg, (2, 1)

    @staticmethod
    def kernel(xp, cfg, p, g, ax, t0, t1):
        weight_decay, maximize, lambd, eta, mu = cfg
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        p *= 1 - lambd * eta
        xp.multiply(g, eta, out=t1)
        p -= t1
        if mu != 1:
            xp.subtract(p, ax, out=t1)
            t1 *= mu
            ax += t1
        else:
            xp.copyto(ax, p)
