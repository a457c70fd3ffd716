"""Rprop (torch.optim.Rprop): resilient backpropagation."""
from .._creation import full_like, zeros_like
from ..ops.elementwise import real_sign
from . import _differentiable
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    new_step, run_entries, scalar)
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)

__all__ = ['Rprop', 'rprop']


class Rprop(ElementwiseOptimizer):
    """Rprop: each element's step size grows by etaplus while its grad keeps its sign and shrinks
    by etaminus when the sign flips (skipping that element's update once), clamped to
    step_sizes; param -= sign(grad) * step_size."""
    n_scratch = 2
    _legacy_keys = ('foreach', 'maximize', 'differentiable', 'capturable')

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        check_nonnegative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f'Invalid eta values: {etas[0]}, {etas[1]}')
        defaults = {'lr': lr, 'etas': etas, 'step_sizes': step_sizes, 'foreach': foreach,
                    'maximize': maximize, 'differentiable': differentiable,
                    'capturable': capturable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _init_state(self, p, group, state):
        state['step'] = new_step(p)
        state['prev'] = zeros_like(p)
        # (a complex parameter is two real numbers per element: both parts step by lr)
        lr = scalar(group['lr'])
        state['step_size'] = full_like(p.grad, complex(lr, lr) if p.is_complex() else lr)

    _differentiable_step = _differentiable.stepping(_differentiable.rprop)

    def _prepare(self, group, p):
        state = self._state(group, p)
        etaminus, etaplus = group['etas']
        step_size_min, step_size_max = group['step_sizes']
        tensors, cfg, bumps = _entry(p, p.grad, state['prev'], state['step_size'], state['step'],
                                     step_size_min=step_size_min, step_size_max=step_size_max,
                                     etaminus=etaminus, etaplus=etaplus,
                                     maximize=group['maximize'])
        return tensors[2:], cfg, bumps

    @staticmethod
    def kernel(xp, cfg, p, g, prev, step_size, sign, grad):
        etaminus, etaplus, step_size_min, step_size_max, maximize = cfg
        if maximize:
            xp.negative(g, out=grad)
        else:
            xp.copyto(grad, g)
        xp.multiply(grad, prev, out=sign)
        real_sign(xp, sign, out=sign)        # NaN -> 0, as PyTorch's sign
        positive, negative, zero = sign > 0, sign < 0, sign == 0
        sign[positive] = etaplus
        sign[negative] = etaminus
        sign[zero] = 1
        step_size *= sign
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        grad[sign == etaminus] = 0           # a flipped sign: no step for this element this time
        xp.copyto(prev, grad)
        real_sign(xp, grad, out=grad)
        grad *= step_size
        p -= grad


def _entry(p, grad, prev, step_size, step_t, *, step_size_min, step_size_max, etaminus, etaplus,
           maximize):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    advance(step_t)
    cfg = (etaminus, etaplus, step_size_min, step_size_max, maximize)
    return (p, grad, prev, step_size), cfg, (1, 1, 2)


def rprop(params, grads, prevs, step_sizes, state_steps, foreach=None, capturable=False,
          maximize=False, differentiable=False, has_complex=False, *, step_size_min,
          step_size_max, etaminus, etaplus):
    """Functional Rprop (torch.optim.rprop.rprop): advances state_steps and updates params,
    prevs and step_sizes in place."""
    refuse_differentiable('rprop', differentiable)
    refuse_capturable('rprop', capturable)
    check_state_steps(state_steps)
    check_lists('rprop', params, grads=grads, prevs=prevs, step_sizes=step_sizes,
                state_steps=state_steps)
    entries = [_entry(p, grads[i], prevs[i], step_sizes[i], state_steps[i],
                      step_size_min=step_size_min, step_size_max=step_size_max,
                      etaminus=etaminus, etaplus=etaplus, maximize=maximize)
               for i, p in enumerate(params)]
    run_entries(Rprop, entries, lambda i, j: f"rprop: {('prevs', 'step_sizes')[j - 2]}[{i}]")
