"""RMSprop (torch.optim.RMSprop): alpha, centered, momentum, weight decay, maximize."""
from .._creation import zeros_like
from . import _differentiable
from ._util import (ElementwiseOptimizer, advance, check_lr, check_nonnegative, check_supported,
                    decay_and_add_square_, effective_grad, lerp_, new_step, run_entries,
                    scalar)
from ._functional_util import (check_lists, check_state_steps, refuse_capturable,
                               refuse_differentiable)

__all__ = ['RMSprop', 'rmsprop']


class RMSprop(ElementwiseOptimizer):
    """RMSprop: square_avg = alpha * square_avg + (1 - alpha) * grad^2; the step divides the grad
    by sqrt(square_avg) + eps (centered=True subtracts the squared running mean of the grad
    first), through a momentum buffer when momentum > 0."""
    n_scratch = 2
    _legacy_keys = ('momentum', 'centered', 'foreach', 'maximize', 'differentiable',
                   'capturable')

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                          alpha=alpha)
        defaults = {'lr': lr, 'momentum': momentum, 'alpha': alpha, 'eps': eps,
                    'centered': centered, 'weight_decay': weight_decay, 'capturable': capturable,
                    'foreach': foreach, 'maximize': maximize, 'differentiable': differentiable}
        super().__init__(params, defaults)
        check_supported(self, capturable, differentiable)

    def _init_state(self, p, group, state):
        state['step'] = new_step(p)
        state['square_avg'] = zeros_like(p)
        if group['momentum'] > 0:
            state['momentum_buffer'] = zeros_like(p)
        if group['centered']:
            state['grad_avg'] = zeros_like(p)

    _differentiable_step = _differentiable.stepping(_differentiable.rmsprop)

    def _prepare(self, group, p):
        state = self._state(group, p)
        tensors, cfg, bumps = _entry(p, p.grad, state['square_avg'], state.get('grad_avg'),
                                     state.get('momentum_buffer'), state['step'],
                                     **{k: group[k] for k in _OPTIONS})
        return tensors[2:], cfg, bumps

    @staticmethod
    def reference(cfg, p, g, square_avg, *rest):
        """PyTorch's _single_tensor_rmsprop op by op (float16 parameters, see _opmath)."""
        alpha, eps, weight_decay, momentum, centered, maximize, lr = cfg
        rest = list(rest)
        grad_avg = rest.pop(0) if centered else None
        buf = rest.pop(0) if momentum > 0 else None
        grad = g if not maximize else -g
        if weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if buf is not None:
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)

    @staticmethod
    def kernel(xp, cfg, p, g, square_avg, *rest):
        alpha, eps, weight_decay, momentum, centered, maximize, lr = cfg
        rest = list(rest)
        grad_avg = rest.pop(0) if centered else None
        buf = rest.pop(0) if momentum > 0 else None
        t0, t1 = rest
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        decay_and_add_square_(xp, square_avg, g, alpha, t1)
        if centered:
            lerp_(xp, grad_avg, g, 1 - alpha, t1)
            xp.multiply(grad_avg, grad_avg, out=t1)
            xp.subtract(square_avg, t1, out=t1)
            xp.sqrt(t1, out=t1)
        else:
            xp.sqrt(square_avg, out=t1)
        t1 += eps
        if buf is not None:
            buf *= momentum
            xp.divide(g, t1, out=t1)
            buf += t1
            xp.multiply(buf, lr, out=t1)
            p -= t1
        else:
            xp.multiply(g, -lr, out=t0)
            t0 /= t1
            p += t0


_OPTIONS = ('lr', 'alpha', 'eps', 'weight_decay', 'momentum', 'centered', 'maximize')


def _entry(p, grad, square_avg, grad_avg, momentum_buffer, step_t, *, lr, alpha, eps,
           weight_decay, momentum, centered, maximize):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    advance(step_t)
    tensors, bumps = (p, grad, square_avg), (1, 2)
    if centered:
        tensors, bumps = tensors + (grad_avg,), bumps + (1,)
    if momentum > 0:
        tensors, bumps = tensors + (momentum_buffer,), bumps + (2,)
    return tensors, (alpha, eps, weight_decay, momentum, centered, maximize, scalar(lr)), bumps


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps,
            foreach=None, maximize=False, differentiable=False, capturable=False,
            has_complex=False, *, lr, alpha, eps, weight_decay, momentum, centered):
    """Functional RMSprop (torch.optim.rmsprop.rmsprop): advances state_steps and updates params
    and the state tensors in place (grad_avgs read with centered=True, momentum_buffer_list
    with momentum > 0)."""
    refuse_differentiable('rmsprop', differentiable)
    refuse_capturable('rmsprop', capturable)
    check_state_steps(state_steps)
    lists = {'grads': grads, 'square_avgs': square_avgs, 'state_steps': state_steps}
    if centered:
        lists['grad_avgs'] = grad_avgs
    if momentum > 0:
        lists['momentum_buffer_list'] = momentum_buffer_list
    check_lists('rmsprop', params, **lists)
    names = ['square_avgs'] + ['grad_avgs'] * centered + ['momentum_buffer_list'] * (momentum > 0)
    entries = [_entry(p, grads[i], square_avgs[i], grad_avgs[i] if centered else None,
                      momentum_buffer_list[i] if momentum > 0 else None, state_steps[i],
                      lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                      centered=centered, maximize=maximize)
               for i, p in enumerate(params)]
    run_entries(RMSprop, entries, lambda i, j: f'rmsprop: {names[j - 2]}[{i}]')
