"""SGD (torch.optim.SGD): momentum, dampening, Nesterov momentum, weight decay, maximize."""
from .._creation import zeros_like
from .._tensor import Tensor
from . import _sparse_grads
from ._functional_util import check_lists, refuse_grad_scaling
from ._fused_cuda import SGD as FUSED_SGD
from ._util import (ElementwiseOptimizer, check_fused, check_fused_param, check_lr,
                    check_supported, effective_grad, run_entries, scalar)

__all__ = ['SGD', 'sgd']


class SGD(ElementwiseOptimizer):
    """Stochastic gradient descent, PyTorch's formulation: with momentum m, dampening d,
    buf = m * buf + (1 - d) * grad (buf = grad on the first step) and param -= lr * buf
    (or lr * (grad + m * buf) with nesterov=True)."""
    n_scratch = 2
    fused_cuda = FUSED_SGD
    _legacy_keys = ('nesterov', 'maximize', 'foreach', 'differentiable', 'fused')
    _LEGACY_VALUES = {'foreach': None, 'fused': False}     # (SGD's fused default there: False)

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
        momentum = group['momentum'] != 0      # (PyTorch keeps no state at all without)
        buf, entry = _entry(   # (positional: this runs for every parameter)
            p, p.grad, self.state[p].get('momentum_buffer') if momentum else None, group['lr'],
            group['weight_decay'], group['momentum'], group['dampening'], group['nesterov'],
            group['maximize'])
        if momentum:
            self.state[p]['momentum_buffer'] = buf
        return entry[0][2:], entry[1], entry[2]

    def _differentiable_step(self, group, p):
        """PyTorch's step in Tensor ops, recorded by autograd (lr may be a Tensor in the graph)."""
        momentum = group['momentum'] != 0
        buf = _single_tensor_sgd(p, p.grad,
                                 self.state[p].get('momentum_buffer') if momentum else None,
                                 lr=group['lr'], **{k: group[k] for k in _OPTIONS})
        if momentum:
            self.state[p]['momentum_buffer'] = buf

    def _check_sparse(self, group):
        pass            # SGD takes sparse gradients (nn.Embedding(sparse=True))

    def _sparse_step(self, group, p):
        _sparse_grads.sgd(p, group, self.state[p] if group['momentum'] != 0 else {})

    @staticmethod
    def reference(cfg, p, g, *rest):
        lr, momentum, dampening, nesterov, weight_decay, maximize, first = cfg
        buf = _single_tensor_sgd(p, g, None if first or not rest else rest[0], lr=lr,
                                 momentum=momentum, dampening=dampening, nesterov=nesterov,
                                 weight_decay=weight_decay, maximize=maximize)
        if first and rest:
            rest[0].copy_(buf)

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


_OPTIONS = ('weight_decay', 'momentum', 'dampening', 'nesterov', 'maximize')


def _entry(p, grad, buf, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """(the momentum buffer, made on the first step; the kernel's entry for run_entries)."""
    cfg = (scalar(lr), momentum, dampening, nesterov, weight_decay, maximize)
    if momentum == 0:          # PyTorch keeps no state at all then
        return None, ((p, grad), cfg + (False,), (1,))
    first = buf is None
    if first:                  # PyTorch's buffer is a fresh clone of the first grad
        buf = zeros_like(p)
    return buf, ((p, grad, buf), cfg + (first,), (1, 0 if first else 2))


def _single_tensor_sgd(param, grad, buf, *, lr, weight_decay, momentum, dampening, nesterov,
                       maximize):
    """PyTorch's _single_tensor_sgd for one parameter, op by op (run on Tensors for
    differentiable=True, on _opmath.Half arrays for float16); returns the momentum buffer."""
    grad = grad if not maximize else -grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    if momentum != 0:
        if buf is None:
            buf = grad.detach().clone()
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        grad = grad.add(buf, alpha=momentum) if nesterov else buf
    if isinstance(lr, Tensor) and lr.requires_grad:
        param.addcmul_(grad, lr, value=-1)
    else:
        param.add_(grad, alpha=-scalar(lr))
    return buf


def sgd(params, d_p_list, momentum_buffer_list, has_sparse_grad=False, foreach=None, fused=None,
        grad_scale=None, found_inf=None, *, weight_decay, momentum, lr, dampening, nesterov,
        maximize):
    """Functional SGD (torch.optim.sgd.sgd): updates params in place; a None entry of
    momentum_buffer_list is replaced by the buffer made on this first step."""
    refuse_grad_scaling('sgd', grad_scale, found_inf)
    check_lists('sgd', params, d_p_list=d_p_list, momentum_buffer_list=momentum_buffer_list)
    options = {'weight_decay': weight_decay, 'momentum': momentum, 'dampening': dampening,
               'nesterov': nesterov, 'maximize': maximize}
    entries, indices = [], []
    for i, (p, grad) in enumerate(zip(params, d_p_list)):
        if grad._data.__class__ is _sparse_grads.SparseCOO:
            state = {} if momentum_buffer_list[i] is None else \
                {'momentum_buffer': momentum_buffer_list[i]}
            _sparse_grads.sgd_with_grad(p, grad, dict(options, lr=lr), state)
            momentum_buffer_list[i] = state.get('momentum_buffer')
            continue
        buf, entry = _entry(p, grad, momentum_buffer_list[i], lr=lr, **options)
        if momentum != 0:
            momentum_buffer_list[i] = buf
        entries.append(entry)
        indices.append(i)
    run_entries(SGD, entries, lambda i, j: f'sgd: momentum_buffer_list[{indices[i]}]')
