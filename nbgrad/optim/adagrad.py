"""Adagrad (torch.optim.Adagrad): lr_decay, initial_accumulator_value, weight decay, maximize."""
from .._creation import full_like
from . import _sparse_grads
from ._util import (ElementwiseOptimizer, advance, check_fused, check_fused_param, check_lr,
                    check_nonnegative, check_supported, effective_grad, new_step, scalar)

__all__ = ['Adagrad']


class Adagrad(ElementwiseOptimizer):
    """Adagrad: sum += grad^2, param -= clr * grad / (sqrt(sum) + eps) with
    clr = lr / (1 + (step - 1) * lr_decay). The state is made for every parameter up front."""
    n_scratch = 2
    _legacy_keys = ('foreach', 'maximize', 'differentiable', 'fused')

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {'lr': lr, 'lr_decay': lr_decay, 'eps': eps, 'weight_decay': weight_decay,
                    'initial_accumulator_value': initial_accumulator_value, 'foreach': foreach,
                    'maximize': maximize, 'differentiable': differentiable, 'fused': fused}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_supported(self, differentiable=differentiable)
        for group in self.param_groups:
            for p in group['params']:
                self._init_state(p, group, self.state[p])

    def _init_state(self, p, group, state):
        # PyTorch fills every group's sums with the constructor's value, not the group's
        state['step'] = new_step(p, fused=group['fused'])
        state['sum'] = full_like(p, self.defaults['initial_accumulator_value'])

    def _prepare(self, group, p):
        if group['fused']:
            check_fused_param(p)
        state = self.state[p]
        if len(state) == 0:
            self._init_state(p, group, state)
        step = advance(state['step'])
        clr = scalar(group['lr']) / (1 + (step - 1) * group['lr_decay'])
        cfg = (group['weight_decay'], group['maximize'], clr, group['eps'])
        return (state['sum'],), cfg, (1, 1)

    def _check_sparse(self, group):
        if group['weight_decay'] != 0:
            raise RuntimeError('weight_decay option is not compatible with sparse gradients')

    def _sparse_step(self, group, p):
        """The sum and the parameter change at the gradient's rows only."""
        state = self.state[p]
        if len(state) == 0:
            self._init_state(p, group, state)
        step = advance(state['step'])
        clr = scalar(group['lr']) / (1 + (step - 1) * group['lr_decay'])
        _sparse_grads.adagrad(p, clr, group['eps'], state['sum'], group['maximize'])

    @staticmethod
    def kernel(xp, cfg, p, g, state_sum, t0, t1):
        weight_decay, maximize, clr, eps = cfg
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        xp.multiply(g, g, out=t1)
        state_sum += t1
        xp.sqrt(state_sum, out=t1)
        t1 += eps
        xp.multiply(g, -clr, out=t0)
        t0 /= t1
        p += t0
