"""Adafactor (torch.optim.Adafactor): Adam-like steps whose second moment of a matrix parameter
is kept factored, as a row vector and a column vector, so the optimizer state grows with rows
plus columns rather than with their product (Shazeer & Stern, 2018), in PyTorch's formulation.

Per step t, with G the (possibly negated) gradient:
    beta2_t = 1 - t^beta2_decay,  rho_t = min(lr, 1 / sqrt(t)),
    alpha = max(eps2, RMS(param)) * rho_t                      (before weight decay)
    param *= 1 - lr * weight_decay
    matrices (dims > 1): R = lerp(R, mean of G^2 over the last dim, beta2_t), C likewise over
        the second-to-last dim, and the estimate V = R C / mean(R) (mean over rows, at least
        eps1); vectors and scalars: V = lerp(V, G^2, beta2_t)
    U = G / sqrt(max(V, eps1^2)),  param -= alpha / max(1, RMS(U) / d) * U
eps1 defaults to the machine epsilon of the parameter's dtype. A reduction over rows or columns
does not fit the element-wise engine the other optimizers share, so each step is written in
Tensor ops (under no_grad), as PyTorch's for-loop implementation is.
"""
import math

from .. import autograd, linalg
from .._creation import tensor, zeros_like
from .._type_info import finfo
from ._util import advance, check_lr, scalar, scalar_dtype
from .optimizer import Optimizer, _closure_loss

__all__ = ['Adafactor']


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f'Learning rate should be >= 0 but is: {lr}')
        if not 0.0 >= beta2_decay:
            raise ValueError(f'beta2_decay should be <= 0 but is: {beta2_decay}')
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f'epsilon1 should be >= 0 but is: {eps[0]}')
        if not 0.0 <= eps[1]:
            raise ValueError(f'epsilon2 should be >= 0 but is: {eps[1]}')
        if not 1.0 <= d:
            raise ValueError(f'Clipping threshold d should be >= 1 but is: {d}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'weight_decay should be >= 0 but is: {weight_decay}')
        defaults = {'lr': lr, 'beta2_decay': beta2_decay, 'eps': eps, 'd': d,
                    'weight_decay': weight_decay, 'foreach': foreach, 'maximize': maximize}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('foreach', None)
            for p in group['params']:
                p_state = self.state.get(p)
                if p_state and not hasattr(p_state['step'], 'item'):
                    p_state['step'] = tensor(float(p_state['step']), dtype=scalar_dtype())

    def _state_of(self, p):
        """The parameter's state, made on its first step (PyTorch's layout: 'step', then
        'row_var' and 'col_var' for a matrix, 'variance' otherwise)."""
        state = self.state[p]
        if len(state) == 0:
            state['step'] = tensor(0.0, dtype=scalar_dtype())
            if p.grad.dim() > 1:
                row_shape, col_shape = list(p.grad.shape), list(p.grad.shape)
                row_shape[-1], col_shape[-2] = 1, 1
                state['row_var'] = p.grad.new_zeros(row_shape)
                state['col_var'] = p.grad.new_zeros(col_shape)
            else:
                state['variance'] = zeros_like(p.grad)
        return state

    def step(self, closure=None):
        """Perform one optimization step; closure (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with autograd.no_grad():
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is None:
                        continue
                    if p.is_complex():
                        raise RuntimeError('Adafactor does not support complex parameters')
                    if p.grad.is_sparse:
                        raise RuntimeError('Adafactor does not support sparse gradients')
                    self._update(group, p, self._state_of(p))
        return loss

    @staticmethod
    def _update(group, p, state):
        grad = -p.grad if group['maximize'] else p.grad
        eps1, eps2 = group['eps']
        if eps1 is None:
            eps1 = finfo(p.dtype).eps
        lr = scalar(group['lr'])
        step = advance(state['step'])
        beta2_t = step ** group['beta2_decay']
        rho = min(lr, 1 / math.sqrt(step))
        alpha = max(eps2, linalg.vector_norm(p).item() / math.sqrt(p.numel())) * rho
        if group['weight_decay'] != 0:
            p.mul_(1 - lr * group['weight_decay'])
        if grad.dim() > 1:
            row_var, col_var = state['row_var'], state['col_var']
            row_var.lerp_(linalg.vector_norm(grad, dim=-1, keepdim=True).square_()
                          .div_(grad.shape[-1]), beta2_t)
            col_var.lerp_(linalg.vector_norm(grad, dim=-2, keepdim=True).square_()
                          .div_(grad.shape[-2]), beta2_t)
            estimate = row_var @ col_var
            estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            variance = state['variance']
            variance.lerp_(grad * grad, beta2_t)
            estimate = variance.clone()
        update = estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, linalg.vector_norm(update).item() /
                    (math.sqrt(update.numel()) * group['d']))
        p.add_(update, alpha=-alpha / denom)
