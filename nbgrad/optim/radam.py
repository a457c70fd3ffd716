"""RAdam (torch.optim.RAdam): Adam with a rectified adaptive learning rate."""
from .._creation import zeros_like
from . import _differentiable
from ._util import (ElementwiseOptimizer, advance, check_betas, check_lr, check_nonnegative,
                    check_supported, decay_and_add_square_, effective_grad, lerp_, new_step,
                    run_entries, scalar)
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)

__all__ = ['RAdam', 'radam']


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

    def _init_state(self, p, group, state):
        state['step'] = new_step(p)
        state['exp_avg'] = zeros_like(p)
        state['exp_avg_sq'] = zeros_like(p)

    _differentiable_step = _differentiable.stepping(_differentiable.radam)

    def _prepare(self, group, p):
        state = self._state(group, p)
        beta1, beta2 = group['betas']
        tensors, cfg, bumps = _entry(
            p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'], beta1=beta1,
            beta2=beta2, **{k: group[k] for k in ('lr', 'weight_decay', 'eps', 'maximize',
                                                  'decoupled_weight_decay')})
        return tensors[2:], cfg, bumps

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


def _entry(p, grad, exp_avg, exp_avg_sq, step_t, *, beta1, beta2, lr, weight_decay, eps,
           maximize, decoupled_weight_decay):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    step = advance(step_t)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    rect = None
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    decoupled = decoupled_weight_decay and weight_decay != 0
    cfg = (beta1, beta2, eps, weight_decay, decoupled, maximize, scalar(lr), bias_correction1,
           bias_correction2 ** 0.5, rect)
    return (p, grad, exp_avg, exp_avg_sq), cfg, (2 if decoupled else 1, 1, 2)


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, decoupled_weight_decay=False,
          foreach=None, differentiable=False, capturable=False, has_complex=False,
          maximize=False, *, beta1, beta2, lr, weight_decay, eps):
    """Functional RAdam (torch.optim.radam.radam): advances state_steps and updates params and
    the state tensors in place."""
    refuse_differentiable('radam', differentiable)
    refuse_capturable('radam', capturable)
    check_state_steps(state_steps)
    check_lists('radam', params, grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs,
                state_steps=state_steps)
    entries = [_entry(p, grads[i], exp_avgs[i], exp_avg_sqs[i], state_steps[i], beta1=beta1,
                      beta2=beta2, lr=lr, weight_decay=weight_decay, eps=eps, maximize=maximize,
                      decoupled_weight_decay=decoupled_weight_decay)
               for i, p in enumerate(params)]
    run_entries(RAdam, entries,
                lambda i, j: f"radam: {('exp_avgs', 'exp_avg_sqs')[j - 2]}[{i}]")
