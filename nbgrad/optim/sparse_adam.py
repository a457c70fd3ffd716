"""SparseAdam (torch.optim.SparseAdam): Adam for sparse gradients (nn.Embedding(sparse=True)).

Only the rows the gradient holds change: their moments and values, with the bias corrections of
the parameter's own step count. The arithmetic is PyTorch's F.sparse_adam, operation for
operation, so the numbers are its numbers; 'step' is a plain int in the state, as PyTorch's.
"""
import math

from .._creation import zeros_like
from ._sparse_grads import as_dtype, entries, is_sparse_grad
from .optimizer import Optimizer, _closure_loss, _use_grad_for_differentiable

__all__ = ['SparseAdam']


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:
            raise ValueError(f'Invalid learning rate: {lr}')
        if not 0.0 < eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f'Invalid beta parameter at index 0: {betas[0]}')
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f'Invalid beta parameter at index 1: {betas[1]}')
        super().__init__(params, {'lr': lr, 'betas': betas, 'eps': eps, 'maximize': maximize})
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group['params']):
                if p.is_sparse:
                    sparse_params.append([index, d_index])
                if p.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f'Sparse params at indices {sparse_params}: SparseAdam requires '
                             f'dense parameter tensors')
        if complex_params:
            raise ValueError(f'Complex params at indices {complex_params}: SparseAdam does not '
                             f'support complex parameters')

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = _closure_loss(closure)
        todo = [(group, [p for p in group['params'] if p.grad is not None])
                for group in self.param_groups]
        for _, params in todo:      # refuse before anything changes
            for p in params:
                if not is_sparse_grad(p):
                    raise RuntimeError('SparseAdam does not support dense gradients, please '
                                       'consider Adam instead')
        for group, params in todo:
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg'] = zeros_like(p)
                    state['exp_avg_sq'] = zeros_like(p)
                state['step'] += 1
                beta1, beta2 = group['betas']
                _update(p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'],
                        beta1=beta1, beta2=beta2, lr=group['lr'], eps=group['eps'],
                        maximize=group['maximize'])
        return loss


def _update(p, grad, exp_avg, exp_avg_sq, step, *, beta1, beta2, lr, eps, maximize):
    """F.sparse_adam for one parameter: the moments move toward the gradient's values by
    (1 - beta) of the difference, at the gradient's rows."""
    c, at = entries(p, grad)
    if c.nnz == 0:
        return
    values = -c.values if maximize else c.values
    old_avg = exp_avg._data[at]
    avg_update = (values - old_avg) * as_dtype(1 - beta1, values)
    exp_avg._data[at] += avg_update
    old_sq = exp_avg_sq._data[at]
    sq_update = (values * values - old_sq) * as_dtype(1 - beta2, values)
    exp_avg_sq._data[at] += sq_update
    numer = avg_update + old_avg
    denom = c.xp.sqrt(sq_update + old_sq) + as_dtype(eps, values)
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    p._data[at] += as_dtype(-step_size, values) * (numer / denom)
    for t in (exp_avg, exp_avg_sq, p):
        t._vc[0] += 1
