"""Muon (torch.optim.Muon): momentum, then the update orthogonalised by Newton-Schulz iterations,
for 2-D parameters.

PyTorch runs the Newton-Schulz iterations in bfloat16, which NumPy and CuPy do not have. nbgrad
computes each of PyTorch's bfloat16 operations in float32 and rounds its result to the nearest
bfloat16 (ties to even), so the values it works with are bfloat16 values, as PyTorch's are. The
float32 sums inside a matrix product may add in another order than PyTorch's kernels, so an
element can land one bfloat16 step away: updates agree to bfloat16 precision (about 0.4%), not
bit for bit."""
import math

import numpy as np

from .. import autograd
from .._creation import zeros_like
from .._tensor import Tensor
from ..ops._util import xp_of
from ._util import check_lr, scalar
from .optimizer import Optimizer, _closure_loss

__all__ = ['Muon']

# Keller Jordan's constants, PyTorch's defaults
EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5
_ADJUSTMENTS = ('original', 'match_rms_adamw')


def round_to_bfloat16(a):
    """float32 array -> the nearest bfloat16 values (ties to even), still as float32: keep the
    top 16 bits of each float after adding half of the dropped part (NaN and inf stay)."""
    xp = xp_of(a)
    bits = xp.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = (bits + (0x7FFF + ((bits >> 16) & 1))) & np.uint32(0xFFFF0000)
    return rounded.view(np.float32)


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """PyTorch's quintic Newton-Schulz orthogonalisation of a 2-D float32 array, in (emulated)
    bfloat16."""
    if ns_steps >= 100:
        raise ValueError('Number of steps must be less than 100 for computational efficiency')
    if grad.ndim != 2:
        raise ValueError('Input tensor gradient must be a 2D matrix')
    if len(ns_coefficients) != 3:
        raise ValueError('Coefficients must be a tuple of exactly 3 values')
    a, b, c = ns_coefficients
    bf16 = round_to_bfloat16
    xp = xp_of(grad)
    x = bf16(grad.astype(np.float32, copy=False))
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = bf16(xp.sqrt(xp.sum(x * x, dtype=np.float32)).reshape(1))
    x = bf16(x / bf16(xp.maximum(norm, np.float32(eps))))    # spectral norm at most 1
    for _ in range(ns_steps):
        gram = bf16(x @ x.T)
        gram_update = bf16(b * gram + c * (gram @ gram))        # addmm(gram, gram, gram, b, c)
        x = bf16(a * x + gram_update @ x)                       # addmm(x, gram_update, x, a)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == 'original':
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == 'match_rms_adamw':
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon for 2-D parameters (hidden layers' weights; optimise biases and embeddings with
    another optimizer, as PyTorch's documentation says): buf = lerp(buf, grad, 1 - momentum),
    update = NS(lerp(grad, buf, momentum) if nesterov else buf), decoupled weight decay
    param *= 1 - lr * weight_decay, then param -= adjusted lr * update."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f'Learning rate should be >= 0 but is: {lr}')
        if not 0.0 <= momentum:
            raise ValueError(f'momentum should be >= 0 but is: {momentum}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'weight decay should be >= 0 but is: {weight_decay}')
        if adjust_lr_fn is not None and adjust_lr_fn not in _ADJUSTMENTS:
            raise ValueError(f'Adjust learning rate function {adjust_lr_fn} is not supported')
        defaults = {'lr': lr, 'weight_decay': weight_decay, 'momentum': momentum,
                    'nesterov': nesterov, 'ns_coefficients': ns_coefficients, 'eps': eps,
                    'ns_steps': ns_steps, 'adjust_lr_fn': adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group['params']:
                if p.ndim != 2:
                    raise ValueError('Muon only supports 2D parameters whereas we found a '
                                     f'parameter with size: {p.size()}')

    def step(self, closure=None):
        """Perform one optimization step; closure (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with autograd.no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group):
        params = [p for p in group['params'] if p.grad is not None]
        for p in params:        # refuse before anything changes
            if p.is_complex():
                raise RuntimeError('Muon does not support complex parameters')
            if p.grad.is_sparse:
                raise RuntimeError('Muon does not support sparse gradients')
        lr, weight_decay, momentum = (scalar(group['lr']), group['weight_decay'],
                                      group['momentum'])
        for p in params:
            grad = p.grad
            if grad.ndim != 2:
                raise ValueError('Param gradient must be a 2D matrix')
            state = self.state[p]
            if 'momentum_buffer' not in state:
                state['momentum_buffer'] = zeros_like(grad)
            buf = state['momentum_buffer']
            buf.lerp_(grad, 1 - momentum)
            update = grad.lerp(buf, momentum) if group['nesterov'] else buf
            update = _zeropower_via_newtonschulz(update._data, group['ns_coefficients'],
                                                 group['ns_steps'], group['eps'])
            p.mul_(1 - lr * weight_decay)
            p.add_(Tensor._make(update), alpha=-_adjust_lr(lr, group['adjust_lr_fn'], p.shape))
