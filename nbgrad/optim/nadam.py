"""NAdam (torch.optim.NAdam): Adam with Nesterov momentum and momentum decay."""
from .._creation import zeros_like
from . import _differentiable
from ._util import (ElementwiseOptimizer, advance, check_betas, check_lr, check_nonnegative,
                    check_supported, decay_and_add_square_, effective_grad, lerp_, new_step,
                    run_entries, scalar)
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)

__all__ = ['NAdam', 'nadam']


class NAdam(ElementwiseOptimizer):
    """NAdam: Adam's moments with a momentum schedule mu_t = beta1 * (1 - 0.5 * 0.96^(t *
    momentum_decay)); the step mixes the current grad and exp_avg with weights from mu_t,
    mu_{t+1} and their running product 'mu_product'."""
    n_scratch = 3
    _legacy_keys = ('maximize', 'foreach', 'capturable', 'differentiable',
                   'decoupled_weight_decay')
    _scalar_state = ('step', 'mu_product')

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = {'lr': lr, 'betas': betas, 'eps': eps, 'weight_decay': weight_decay,
                    'momentum_decay': momentum_decay,
                    'decoupled_weight_decay': decoupled_weight_decay, 'maximize': maximize,
                    'foreach': foreach, 'capturable': capturable,
                    'differentiable': differentiable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _init_state(self, p, group, state):
        state['step'] = new_step(p)
        state['mu_product'] = new_step(p, value=1.0)
        state['exp_avg'] = zeros_like(p)
        state['exp_avg_sq'] = zeros_like(p)

    _differentiable_step = _differentiable.stepping(_differentiable.nadam)

    def _prepare(self, group, p):
        state = self._state(group, p)
        beta1, beta2 = group['betas']
        tensors, cfg, bumps = _entry(
            p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['mu_product'], state['step'],
            beta1=beta1, beta2=beta2, **{k: group[k] for k in (
                'lr', 'weight_decay', 'momentum_decay', 'eps', 'maximize',
                'decoupled_weight_decay')})
        return tensors[2:], cfg, bumps

    @staticmethod
    def kernel(xp, cfg, p, g, exp_avg, exp_avg_sq, t0, t1, t2):
        (beta1, beta2, eps, weight_decay, decoupled, maximize, lr, bias_correction2,
         grad_coef, exp_avg_coef) = cfg
        if decoupled:
            p *= 1 - lr * weight_decay
            weight_decay = 0
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        lerp_(xp, exp_avg, g, 1 - beta1, t1)
        decay_and_add_square_(xp, exp_avg_sq, g, beta2, t1)
        xp.divide(exp_avg_sq, bias_correction2, out=t1)
        xp.sqrt(t1, out=t1)
        t1 += eps                            # denom
        xp.multiply(g, grad_coef, out=t2)
        t2 /= t1
        p += t2
        xp.multiply(exp_avg, exp_avg_coef, out=t2)
        t2 /= t1
        p += t2


def _entry(p, grad, exp_avg, exp_avg_sq, mu_product, step_t, *, beta1, beta2, lr, weight_decay,
           momentum_decay, eps, maximize, decoupled_weight_decay):
    """Advance the step counter and mu_product; the kernel's entry (see run_entries)."""
    step = advance(step_t)
    lr = scalar(lr)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product._data *= mu           # in the state's dtype (float32), as PyTorch's `*=`
    mu_product._vc[0] += 1
    mu_product_value = float(mu_product._data)
    mu_product_next = mu_product_value * mu_next
    decoupled = decoupled_weight_decay and weight_decay != 0
    cfg = (beta1, beta2, eps, weight_decay, decoupled, maximize, lr, 1 - beta2 ** step,
           -lr * (1.0 - mu) / (1.0 - mu_product_value), (-lr * mu_next) / (1.0 - mu_product_next))
    return (p, grad, exp_avg, exp_avg_sq), cfg, (3 if decoupled else 2, 1, 2)


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps,
          decoupled_weight_decay=False, foreach=None, capturable=False, differentiable=False,
          has_complex=False, maximize=False, *, beta1, beta2, lr, weight_decay, momentum_decay,
          eps):
    """Functional NAdam (torch.optim.nadam.nadam): advances state_steps and mu_products and
    updates params and the state tensors in place."""
    refuse_differentiable('nadam', differentiable)
    refuse_capturable('nadam', capturable)
    check_state_steps(state_steps)
    check_lists('nadam', params, grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs,
                mu_products=mu_products, state_steps=state_steps)
    entries = [_entry(p, grads[i], exp_avgs[i], exp_avg_sqs[i], mu_products[i], state_steps[i],
                      beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay,
                      momentum_decay=momentum_decay, eps=eps, maximize=maximize,
                      decoupled_weight_decay=decoupled_weight_decay)
               for i, p in enumerate(params)]
    run_entries(NAdam, entries,
                lambda i, j: f"nadam: {('exp_avgs', 'exp_avg_sqs')[j - 2]}[{i}]")
