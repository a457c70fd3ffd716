"""Adamax (torch.optim.Adamax): Adam with an infinity-norm second moment."""
from .._creation import zeros_like
from . import _differentiable
from ._util import (ElementwiseOptimizer, advance, check_betas, check_lr, check_nonnegative,
                    check_supported, effective_grad, lerp_, new_step, run_entries, scalar)
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)

__all__ = ['Adamax', 'adamax']


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

    def _init_state(self, p, group, state):
        state['step'] = new_step(p)
        state['exp_avg'] = zeros_like(p)
        state['exp_inf'] = zeros_like(p)

    _differentiable_step = _differentiable.stepping(_differentiable.adamax)

    def _prepare(self, group, p):
        state = self._state(group, p)
        beta1, beta2 = group['betas']
        tensors, cfg, bumps = _entry(p, p.grad, state['exp_avg'], state['exp_inf'], state['step'],
                                     beta1=beta1, beta2=beta2, **{k: group[k] for k in (
                                         'eps', 'lr', 'weight_decay', 'maximize')})
        return tensors[2:], cfg, bumps

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


def _entry(p, grad, exp_avg, exp_inf, step_t, *, eps, beta1, beta2, lr, weight_decay, maximize):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    step = advance(step_t)
    clr = scalar(lr) / (1 - beta1 ** step)
    return (p, grad, exp_avg, exp_inf), (beta1, beta2, eps, weight_decay, maximize, clr), (1, 1, 2)


def adamax(params, grads, exp_avgs, exp_infs, state_steps, foreach=None, maximize=False,
           differentiable=False, capturable=False, has_complex=False, *, eps, beta1, beta2, lr,
           weight_decay):
    """Functional Adamax (torch.optim.adamax.adamax): advances state_steps and updates params
    and the state tensors in place."""
    refuse_differentiable('adamax', differentiable)
    refuse_capturable('adamax', capturable)
    check_state_steps(state_steps)
    check_lists('adamax', params, grads=grads, exp_avgs=exp_avgs, exp_infs=exp_infs,
                state_steps=state_steps)
    entries = [_entry(p, grads[i], exp_avgs[i], exp_infs[i], state_steps[i], eps=eps,
                      beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay,
                      maximize=maximize)
               for i, p in enumerate(params)]
    run_entries(Adamax, entries,
                lambda i, j: f"adamax: {('exp_avgs', 'exp_infs')[j - 2]}[{i}]")
