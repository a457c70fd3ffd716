"""Adagrad (torch.optim.Adagrad): lr_decay, initial_accumulator_value, weight decay, maximize."""
from .._creation import full_like
from . import _sparse_grads
from . import _differentiable
from ._functional_util import (check_lists, check_state_steps, refuse_differentiable,
                               refuse_grad_scaling)
from ._util import (ElementwiseOptimizer, advance, check_fused, check_fused_param, check_lr,
                    check_nonnegative, check_supported, effective_grad, new_step, run_entries,
                    scalar)

__all__ = ['Adagrad', 'adagrad']


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
        # (a complex parameter is two real numbers per element: both parts start at the value)
        value = self.defaults['initial_accumulator_value']
        state['sum'] = full_like(p, complex(value, value) if p.is_complex() else value)

    _differentiable_step = _differentiable.stepping(_differentiable.adagrad)

    def _prepare(self, group, p):
        if group['fused']:
            check_fused_param(p)
        state = self._state(group, p)
        tensors, cfg, bumps = _entry(p, p.grad, state['sum'], state['step'],
                                     **{k: group[k] for k in _OPTIONS})
        return tensors[2:], cfg, bumps

    def _check_sparse(self, group):
        if group['weight_decay'] != 0:
            raise RuntimeError('weight_decay option is not compatible with sparse gradients')

    def _sparse_step(self, group, p):
        """The sum and the parameter change at the gradient's rows only."""
        state = self._state(group, p)
        step = advance(state['step'])
        clr = scalar(group['lr']) / (1 + (step - 1) * group['lr_decay'])
        _sparse_grads.adagrad(p, clr, group['eps'], state['sum'], group['maximize'])

    @staticmethod
    def reference(cfg, p, g, state_sum):
        """PyTorch's _single_tensor_adagrad op by op (float16 parameters, see _opmath)."""
        weight_decay, maximize, clr, eps = cfg
        grad = g if not maximize else -g
        if weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(eps)
        p.addcdiv_(grad, std, value=-clr)

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


_OPTIONS = ('lr', 'weight_decay', 'lr_decay', 'eps', 'maximize')


def _entry(p, grad, state_sum, step_t, *, lr, weight_decay, lr_decay, eps, maximize):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    step = advance(step_t)
    clr = scalar(lr) / (1 + (step - 1) * lr_decay)
    return (p, grad, state_sum), (weight_decay, maximize, clr, eps), (1, 1)


def adagrad(params, grads, state_sums, state_steps, fused=None, grad_scale=None, found_inf=None,
            has_sparse_grad=False, foreach=None, differentiable=False, has_complex=False, *, lr,
            weight_decay, lr_decay, eps, maximize):
    """Functional Adagrad (torch.optim.adagrad.adagrad): advances state_steps and updates params
    and state_sums in place."""
    refuse_grad_scaling('adagrad', grad_scale, found_inf)
    refuse_differentiable('adagrad', differentiable)
    check_state_steps(state_steps)
    check_lists('adagrad', params, grads=grads, state_sums=state_sums, state_steps=state_steps)
    entries, indices = [], []
    for i, p in enumerate(params):
        if grads[i]._data.__class__ is _sparse_grads.SparseCOO:
            if weight_decay != 0:
                raise RuntimeError('weight_decay option is not compatible with sparse gradients')
            step = advance(state_steps[i])
            _sparse_grads.adagrad(p, scalar(lr) / (1 + (step - 1) * lr_decay), eps,
                                  state_sums[i], maximize, grad=grads[i])
            continue
        entries.append(_entry(p, grads[i], state_sums[i], state_steps[i], lr=lr,
                              weight_decay=weight_decay, lr_decay=lr_decay, eps=eps,
                              maximize=maximize))
        indices.append(i)
    run_entries(Adagrad, entries, lambda i, j: f'adagrad: state_sums[{indices[i]}]')
