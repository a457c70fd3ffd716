"""Adadelta (torch.optim.Adadelta): rho, eps, weight decay, maximize."""
from .._creation import zeros_like
from . import _differentiable
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    decay_and_add_square_, effective_grad, new_step, run_entries, scalar)
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)

__all__ = ['Adadelta', 'adadelta']


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

    def _init_state(self, p, group, state):
        state['step'] = new_step(p)
        state['square_avg'] = zeros_like(p)
        state['acc_delta'] = zeros_like(p)

    _differentiable_step = _differentiable.stepping(_differentiable.adadelta)

    def _prepare(self, group, p):
        state = self._state(group, p)
        tensors, cfg, bumps = _entry(p, p.grad, state['square_avg'], state['acc_delta'],
                                     state['step'], **{k: group[k] for k in (
                                         'lr', 'rho', 'eps', 'weight_decay', 'maximize')})
        return tensors[2:], cfg, bumps

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


def _entry(p, grad, square_avg, acc_delta, step_t, *, lr, rho, eps, weight_decay, maximize):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    advance(step_t)
    return ((p, grad, square_avg, acc_delta), (rho, eps, weight_decay, maximize, scalar(lr)),
            (1, 2, 2))


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, capturable=False,
             foreach=None, differentiable=False, has_complex=False, *, lr, rho, eps,
             weight_decay, maximize):
    """Functional Adadelta (torch.optim.adadelta.adadelta): advances state_steps and updates
    params and the state tensors in place."""
    refuse_differentiable('adadelta', differentiable)
    refuse_capturable('adadelta', capturable)
    check_state_steps(state_steps)
    check_lists('adadelta', params, grads=grads, square_avgs=square_avgs, acc_deltas=acc_deltas,
                state_steps=state_steps)
    entries = [_entry(p, grads[i], square_avgs[i], acc_deltas[i], state_steps[i], lr=lr, rho=rho,
                      eps=eps, weight_decay=weight_decay, maximize=maximize)
               for i, p in enumerate(params)]
    run_entries(Adadelta, entries,
                lambda i, j: f"adadelta: {('square_avgs', 'acc_deltas')[j - 2]}[{i}]")
