"""Steps for parameters whose gradient is a sparse COO tensor (nn.Embedding(sparse=True)).

PyTorch's SGD and Adagrad accept sparse gradients and SparseAdam wants them; every other
optimizer refuses them. These follow PyTorch's for-loop code step for step, so they give its
numbers: a dense tensor plus a sparse one adds the entries one by one in their stored order, and
the update touches only the rows the gradient holds.
"""
from .. import _sparse_coo
from .._sparse_coo import SparseCOO


def is_sparse_grad(p):
    return p.grad is not None and p.grad._data.__class__ is SparseCOO


def refusal(optimizer):
    """PyTorch's error for an optimizer without sparse support."""
    name = getattr(optimizer, '_sparse_name', type(optimizer).__name__)
    advice = ', please consider SparseAdam instead' if name == 'Adam' else ''
    return RuntimeError(f'{name} does not support sparse gradients{advice}')


def sgd(p, group, state):
    """_single_tensor_sgd with a sparse grad, in Tensor ops (the momentum buffer is sparse)."""
    sgd_with_grad(p, p.grad, group, state)


def sgd_with_grad(p, grad, group, state):
    """sgd with the gradient given (the functional form torch.optim.sgd.sgd)."""
    grad = grad if not group['maximize'] else -grad
    if group['weight_decay'] != 0:
        grad = grad.add(p, alpha=group['weight_decay'])    # PyTorch's add(sparse, dense) error
    momentum = group['momentum']
    if momentum != 0:
        buf = state.get('momentum_buffer')
        if buf is None:
            buf = state['momentum_buffer'] = grad.clone().detach()
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - group['dampening'])
        grad = grad.add(buf, alpha=momentum) if group['nesterov'] else buf
    p.add_(grad, alpha=-group['lr'])


def entries(p, grad=None):
    """The gradient (p.grad unless given) coalesced (unique indices), and its indices as an index
    into p's first sparse_dim dims (so that p[at] are the rows it holds, whatever p's strides)."""
    c = _sparse_coo.coalesce((p.grad if grad is None else grad)._data)
    return c, tuple(c.indices[d] for d in range(c.sparse_dim))


def as_dtype(value, array):
    """A Python float as the array's dtype (PyTorch casts a scalar alpha to the tensor's)."""
    return array.dtype.type(value)


def adagrad(p, clr, eps, state_sum, maximize, grad=None):
    """_single_tensor_adagrad's sparse branch: the sum and the parameter change at the gradient's
    rows only (grad: p.grad unless given)."""
    c, at = entries(p, grad)
    values = -c.values if maximize else c.values
    total = state_sum._data
    total[at] += values * values
    std = c.xp.sqrt(total[at])
    std += as_dtype(eps, std)
    p._data[at] += as_dtype(-clr, p._data) * (values / std)
    state_sum._vc[0] += 1
    p._vc[0] += 1
