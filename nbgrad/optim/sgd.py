"""SGD (torch.optim.SGD): momentum, dampening, Nesterov momentum, weight decay, maximize."""
from .._creation import zeros_like
from . import _sparse_grads
from ._fused_cuda import SGD as FUSED_SGD
from ._util import (ElementwiseOptimizer, check_fused, check_fused_param, check_lr,
                    check_supported, effective_grad, scalar)

__all__ = ['SGD']


class SGD(ElementwiseOptimizer):
    """Stochastic gradient descent, PyTorch's formulation: with momentum m, dampening d,
    buf = m * buf + (1 - d) * grad (buf = grad on the first step) and param -= lr * buf
    (or lr * (grad + m * buf) with nesterov=True)."""
    n_scratch = 2
    fused_cuda = FUSED_SGD
    _legacy_keys = ('nesterov', 'maximize', 'foreach', 'differentiable', 'fused')

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        check_lr(lr)
        if lr < 0.0:
            raise ValueError(f'Invalid learning rate: {lr}')
        if momentum < 0.0:
            raise ValueError(f'Invalid momentum value: {momentum}')
        if weight_decay < 0.0:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        defaults = {'lr': lr, 'momentum': momentum, 'dampening': dampening,
                    'weight_decay': weight_decay, 'nesterov': nesterov, 'maximize': maximize,
                    'foreach': foreach, 'differentiable': differentiable, 'fused': fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError('Nesterov momentum requires a momentum and zero dampening')
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_supported(self, differentiable=differentiable)

    def _prepare(self, group, p):
        if group['fused']:
            check_fused_param(p)
        momentum = group['momentum']
        cfg = (scalar(group['lr']), momentum, group['dampening'], group['nesterov'],
               group['weight_decay'], group['maximize'])
        if momentum == 0:          # PyTorch keeps no state at all then
            return (), cfg + (False,), (1,)
        state = self.state[p]
        buf = state.get('momentum_buffer')
        first = buf is None
        if first:                  # PyTorch's buffer is a fresh clone of the first grad
            buf = state['momentum_buffer'] = zeros_like(p)
        return (buf,), cfg + (first,), (1, 0 if first else 2)

    def _check_sparse(self, group):
        pass            # SGD takes sparse gradients (nn.Embedding(sparse=True))

    def _sparse_step(self, group, p):
        _sparse_grads.sgd(p, group, self.state[p] if group['momentum'] != 0 else {})

    @staticmethod
    def kernel(xp, cfg, p, g, *rest):
        lr, momentum, dampening, nesterov, weight_decay, maximize, first = cfg
        if momentum != 0:
            buf, t0, t1 = rest
        else:
            t0, t1 = rest
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        if momentum != 0:
            if first:
                xp.copyto(buf, g)
            else:
                buf *= momentum
                if dampening != 0:
                    xp.multiply(g, 1 - dampening, out=t1)
                    buf += t1
                else:
                    buf += g
            if nesterov:
                xp.multiply(buf, momentum, out=t1)
                t1 += g
                g = t1
            else:
                g = buf
        xp.multiply(g, lr, out=t1)
        p -= t1
