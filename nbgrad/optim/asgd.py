"""ASGD (torch.optim.ASGD): averaged stochastic gradient descent."""
import numpy as np

from .._creation import zeros_like
from .._dtype import float64
from ._device_scalars import assign, value
from . import _differentiable
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    effective_grad, new_step, run_entries, scalar, scalar_dtype)

__all__ = ['ASGD', 'asgd']


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

    def _init_state(self, p, group, state):
        state['step'] = new_step(p, on_param_device=True)
        state['eta'] = new_step(p, on_param_device=True, value=scalar(group['lr']))
        state['mu'] = new_step(p, on_param_device=True, value=1.0)
        state['ax'] = zeros_like(p)

    _differentiable_step = _differentiable.stepping(_differentiable.asgd)

    def _prepare(self, group, p):
        state = self._state(group, p)
        tensors, cfg, bumps = _entry(p, p.grad, state['ax'], state['mu'], state['eta'],
                                     state['step'], foreach=group['foreach'],
                                     **{k: group[k] for k in _OPTIONS})
        return tensors[2:], cfg, bumps

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


_OPTIONS = ('lambd', 'lr', 't0', 'alpha', 'weight_decay', 'maximize')


def _foreach_eta(lr, lambd, alpha, step):
    """PyTorch's multi-tensor (foreach=True) eta: lr / ((1 + lambd * lr * step) ** alpha) as
    float32 tensor ops on the float32 step (`lr / t` is reciprocal(t) * lr there; its float32
    pow is correctly rounded, which NumPy's float32 power is not: computed in float64)."""
    f32 = np.float32
    t = f32(1) + f32(step) * f32(lambd * lr)
    return float(f32(lr) * (f32(1) / f32(float(t) ** float(f32(alpha)))))


def _as_default_dtype(number):
    return number if scalar_dtype() == float64 else float(np.float32(number))


def _entry(p, grad, ax, mu, eta, step_t, *, lambd, lr, t0, alpha, weight_decay, maximize,
           foreach=None):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter, whose
    cfg holds this step's eta and mu; eta and mu are then set for the next step (PyTorch sets
    them after its update)."""
    step = advance(step_t)
    cfg = (weight_decay, maximize, lambd, value(eta), value(mu))
    next_eta_and_mu(eta, mu, step, lr=lr, lambd=lambd, alpha=alpha, t0=t0, foreach=foreach)
    return (p, grad, ax), cfg, (2, 1)


def next_eta_and_mu(eta, mu, step, *, lr, lambd, alpha, t0, foreach=None):
    """Set eta and mu (0-dim state tensors) for the step after `step`, as PyTorch does after
    its update."""
    lr = scalar(lr)
    # PyTorch makes the new values with torch.as_tensor(a Python float): rounded to the default
    # dtype, even where eta and mu are float64 (loaded with a float64 parameter's state)
    # (foreach's float32 arithmetic is that of its float32 step tensor: a float64 default
    # dtype makes it float64, where it agrees with the Python formula)
    float32_steps = foreach and scalar_dtype() != float64
    assign(eta, _as_default_dtype(_foreach_eta(lr, lambd, alpha, step) if float32_steps
                                  else lr / ((1 + lambd * lr * step) ** alpha)))
    assign(mu, _as_default_dtype(1 / max(1, step - t0)))


def asgd(params, grads, axs, mus, etas, state_steps, foreach=None, maximize=False,
         differentiable=False, capturable=False, has_complex=False, *, lambd, lr, t0, alpha,
         weight_decay):
    """Functional ASGD (torch.optim.asgd.asgd): advances state_steps and updates params, axs,
    etas and mus in place."""
    refuse_differentiable('asgd', differentiable)
    refuse_capturable('asgd', capturable)
    check_state_steps(state_steps)
    check_lists('asgd', params, grads=grads, axs=axs, mus=mus, etas=etas,
                state_steps=state_steps)
    entries = [_entry(p, grads[i], axs[i], mus[i], etas[i], state_steps[i], lambd=lambd, lr=lr,
                      t0=t0, alpha=alpha, weight_decay=weight_decay, maximize=maximize,
                      foreach=foreach)
               for i, p in enumerate(params)]
    run_entries(ASGD, entries, lambda i, j: f'asgd: axs[{i}]')
