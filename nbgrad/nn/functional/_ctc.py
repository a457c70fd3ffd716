"""Connectionist Temporal Classification (Graves et al., 2006): the forward (alpha) and backward
(beta) recursions in log space, vectorised over the batch and the extended target positions (one
Python step per time step), and ctc_loss's argument checks and reductions as in PyTorch.

The extended target of a sample is its labels with a blank before, between and after them
(length 2S + 1). alpha[t, n, s] is the log-probability of all paths through frames 0..t that end
at extended position s, beta[t, n, s] that of the paths from frame t to the end that start there;
both include frame t's emission.
"""
import numpy as np

from ... import _dispatch
from ..._dispatch import dispatch, _type_word
from ..._tensor import Tensor
from ...autograd.graph import Node, _FREED_MESSAGE
from ...ops._util import xp_of, out_of_bounds

_WHERE = 'while checking arguments for ctc_loss_allocate_outputs'


class CtcLoss(Node):
    """Per-sample negative log-likelihoods (N,) of log_probs (T, N, C).

    Its gradient is PyTorch's: exp(log_probs) - exp(log(alpha * beta summed per class) + nll -
    log_probs) for frames inside each input length, 0 after. That is the gradient with respect
    to the logits that log_softmax turned into log_probs; it gives the same gradients as the
    exact one once it has gone back through log_softmax (each frame's posteriors sum to one).
    PyTorch has no derivative of that gradient: differentiating it again raises, as there."""
    saved_inputs = (0,)

    def __init__(self, targets, input_lengths, target_lengths, blank, zero_infinity):
        self.targets, self.blank, self.zero_infinity = targets, blank, zero_infinity
        self.input_lengths, self.target_lengths = input_lengths, target_lengths

    def forward(self, log_probs):
        xp = xp_of(log_probs)
        T, N, _ = log_probs.shape
        input_lengths = xp.asarray(self.input_lengths, dtype=xp.int64)
        target_lengths = xp.asarray(self.target_lengths, dtype=xp.int64)
        labels, can_skip = _extended_targets(xp, self.targets, target_lengths, self.blank)
        emissions = log_probs[:, xp.arange(N)[:, None], labels]  # (T, N, 2S+1)
        alpha = xp.full(emissions.shape, -xp.inf, dtype=log_probs.dtype)
        if T:
            alpha[0, :, 0] = emissions[0, :, 0]
            if labels.shape[1] > 1:
                alpha[0, :, 1] = xp.where(target_lengths > 0, emissions[0, :, 1], -xp.inf)
        for t in range(1, T):
            previous = alpha[t - 1]
            alpha[t] = emissions[t] + _logsumexp3(
                xp, previous, _shift(xp, previous, 1),
                xp.where(can_skip, _shift(xp, previous, 2), -xp.inf))
        last = 2 * target_lengths  # the final blank; the final label sits just before it
        frame = xp.maximum(input_lengths - 1, 0)
        batch = xp.arange(N)
        end_blank = alpha[frame, batch, last] if T else xp.full(N, -xp.inf, log_probs.dtype)
        end_label = xp.where(target_lengths > 0, alpha[frame, batch, xp.maximum(last - 1, 0)]
                             if T else -xp.inf, -xp.inf)
        nll = -xp.logaddexp(end_blank, end_label)
        # no frames: the empty target has probability 1, any other probability 0
        nll = xp.where(input_lengths == 0, xp.where(target_lengths == 0, 0.0, xp.inf), nll)
        nll = nll.astype(log_probs.dtype)
        self._forward_state = (log_probs, labels, can_skip, emissions, alpha, nll)
        if self.zero_infinity:
            return xp.where(nll == xp.inf, 0, nll).astype(log_probs.dtype)
        return nll

    def backward(self, g):
        gradient = self._gradient()
        if _dispatch._modes.grad_enabled:     # create_graph: a gradient that refuses to be differentiated
            (log_probs,) = self.saved_tensors
            return g.reshape(1, -1, 1) * dispatch(_GradientOfCtcLoss(gradient), log_probs)
        return g.reshape(1, -1, 1) * Tensor._make(gradient)

    def _gradient(self):
        if self._forward_state is None:
            raise RuntimeError(_FREED_MESSAGE)
        log_probs, labels, can_skip, emissions, alpha, nll = self._forward_state
        xp = xp_of(log_probs)
        T, N, C = log_probs.shape
        input_lengths = xp.asarray(self.input_lengths, dtype=xp.int64)
        target_lengths = xp.asarray(self.target_lengths, dtype=xp.int64)
        beta = _beta(xp, emissions, can_skip, input_lengths, target_lengths)
        both = alpha + beta  # log(alpha * beta * emission): the emission is counted twice
        # sum alpha * beta over the extended positions of each class, shifted by the largest
        # term of each (frame, sample) so that the exponentials stay finite
        top = both.max(axis=2, keepdims=True)
        top = xp.where(xp.isfinite(top), top, 0)
        one_hot = (labels[:, :, None] == xp.arange(C)).astype(log_probs.dtype)  # (N, 2S+1, C)
        per_class = xp.matmul(xp.exp(both - top).transpose(1, 0, 2), one_hot).transpose(1, 0, 2)
        with np.errstate(divide='ignore', invalid='ignore'):
            log_per_class = xp.log(per_class) + top
            grad = xp.exp(log_probs) - xp.exp(log_per_class + nll[:, None] - log_probs)
        inside = xp.arange(T)[:, None] < input_lengths  # (T, N)
        keep = inside[:, :, None]
        if self.zero_infinity:
            keep = keep & (nll != xp.inf)[:, None]
        return xp.where(keep, grad, 0).astype(log_probs.dtype)

    def _release(self):
        super()._release()
        self._forward_state = None
        self._freed = True

    def name(self):
        return 'CtcLossBackward0'


class _GradientOfCtcLoss(Node):
    """ctc_loss's gradient as a function of log_probs under create_graph, whose own backward
    raises PyTorch's error (a constant would give a silently zero second derivative)."""

    def __init__(self, gradient):
        self.gradient = gradient

    def forward(self, log_probs):
        return self.gradient

    def backward(self, g):
        raise RuntimeError('derivative for aten::_ctc_loss_backward is not implemented')

    def name(self):
        return 'CtcLossBackwardBackward0'


def _extended_targets(xp, targets, target_lengths, blank):
    """Labels (N, 2S+1) with blanks around and between the targets (padding is blank), and
    where a path may skip from position s-2 to s (a label different from the one before)."""
    N, S = targets.shape
    labels = xp.full((N, 2 * S + 1), blank, dtype=xp.int64)
    labels[:, 1::2] = xp.where(xp.arange(S) < target_lengths[:, None], targets, blank)
    can_skip = xp.zeros(labels.shape, dtype=bool)
    can_skip[:, 2:] = (labels[:, 2:] != blank) & (labels[:, 2:] != labels[:, :-2])
    return labels, can_skip


def _shift(xp, a, by):
    """a moved `by` positions along the extended target, up (by > 0: out[:, s] = a[:, s - by])
    or down (by < 0), filling with -inf (log 0)."""
    out = xp.full(a.shape, -xp.inf, dtype=a.dtype)
    if by > 0:
        out[:, by:] = a[:, :-by]
    else:
        out[:, :by] = a[:, -by:]
    return out


def _logsumexp3(xp, a, b, c):
    top = xp.maximum(xp.maximum(a, b), c)
    safe = xp.where(top == -xp.inf, 0, top)
    return xp.log(xp.exp(a - safe) + xp.exp(b - safe) + xp.exp(c - safe)) + safe


def _beta(xp, emissions, can_skip, input_lengths, target_lengths):
    """The backward recursion: each sample starts at its own last frame (input_length - 1) in
    its last two extended positions; frames after it stay -inf."""
    T, N, L = emissions.shape
    beta = xp.full(emissions.shape, -xp.inf, dtype=emissions.dtype)
    last = 2 * target_lengths
    positions = xp.arange(L)
    start = (positions == last[:, None]) | ((positions == last[:, None] - 1)
                                            & (target_lengths[:, None] > 0))
    # skipping down from s+2 to s is allowed exactly when skipping up from s to s+2 is
    skip_down = xp.zeros(can_skip.shape, dtype=bool)
    skip_down[:, :-2] = can_skip[:, 2:]
    following = xp.full((N, L), -xp.inf, dtype=emissions.dtype)
    for t in range(T - 1, -1, -1):
        recursion = emissions[t] + _logsumexp3(
            xp, following, _shift(xp, following, -1),
            xp.where(skip_down, _shift(xp, following, -2), -xp.inf))
        initial = xp.where(start, emissions[t], -xp.inf)
        at_end = (t == input_lengths - 1)[:, None]
        before_end = (t < input_lengths - 1)[:, None]
        beta[t] = xp.where(at_end, initial, xp.where(before_end, recursion, -xp.inf))
        following = beta[t]
    return beta


# ---------------------------------------------------------------------------------------------
# The public function's checks and reductions (PyTorch's ctc_loss_impl)
# ---------------------------------------------------------------------------------------------

def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
             zero_infinity):
    batched = log_probs.dim() == 3
    if not batched:   # one sequence: its targets as one padded row, (S,) or already (1, S)
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
    if log_probs.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional "
                           f"tensor for argument #1 'log_probs' ({_WHERE})")
    if log_probs.numel() == 0:
        raise RuntimeError('log_probs tensor must not be empty')
    if log_probs.dtype.itemsize not in (4, 8) or not log_probs.is_floating_point():
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for '
                                  f"'{_type_word(log_probs._data.dtype)}'")
    T, N, C = log_probs.shape
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError('ctc_loss(): input_lengths and target_lengths must both be tensors or '
                        'both tuples of ints')
    input_lengths = _lengths(input_lengths, 'input_lengths')
    target_lengths = _lengths(target_lengths, 'target_lengths')
    if not 0 <= blank < C:
        raise RuntimeError('blank must be in label range')
    if len(input_lengths) != N:
        raise RuntimeError('input_lengths must be of size batch_size')
    if len(target_lengths) != N:
        raise RuntimeError('target_lengths must be of size batch_size')
    for name, lengths in (('target_lengths', target_lengths), ('input_lengths', input_lengths)):
        for value in lengths:
            if value < 0:
                raise RuntimeError(f'Expected {name} to have value at least 0, but got value '
                                   f'{value} ({_WHERE})')
    padded = _padded_targets(targets, target_lengths, N, blank, C)
    for value in input_lengths:
        if value > T:
            raise RuntimeError(f'Expected input_lengths to have value at most {T}, but got '
                               f'value {value} ({_WHERE})')
    xp = xp_of(log_probs._data)
    node = CtcLoss(xp.asarray(padded), input_lengths, target_lengths, blank, zero_infinity)
    losses = dispatch(node, log_probs)
    if reduction == 'mean':
        divisors = Tensor._make(xp.asarray(np.maximum(target_lengths, 1), dtype=losses._data.dtype))
        return (losses / divisors).mean()
    if reduction == 'sum':
        return losses.sum()
    return losses if batched else losses.squeeze(0)


def _lengths(lengths, name):
    """A tuple of ints from a tuple/list of ints or an integer tensor (host values)."""
    if isinstance(lengths, Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or \
                lengths._data.dtype == np.bool_:
            raise RuntimeError(f'{name} must be integral')
        return np.asarray(lengths.detach().cpu().numpy(), dtype=np.int64).reshape(-1)
    if isinstance(lengths, (tuple, list)) and all(isinstance(v, (int, np.integer))
                                                  and not isinstance(v, bool) for v in lengths):
        return np.asarray(lengths, dtype=np.int64).reshape(-1)
    raise TypeError(f'ctc_loss(): {name} must be a tuple of ints or a Tensor, not '
                    f'{type(lengths).__name__}')


def _padded_targets(targets, target_lengths, N, blank, C):
    """Targets as a host int64 array (N, S): padded ones as they are, concatenated ones cut at
    the running sums of target_lengths."""
    if not 1 <= targets.dim() <= 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional "
                           f"tensor for argument #2 'targets' ({_WHERE})")
    values = np.asarray(targets.detach().cpu().numpy()).astype(np.int64)
    longest = int(target_lengths.max()) if N else 0
    if targets.dim() == 1:
        total = int(target_lengths.sum())
        if values.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {values.shape[0]} for argument #2 'targets' ({_WHERE})")
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]]).astype(np.int64)
        positions = starts[:, None] + np.arange(longest)
        inside = np.arange(longest) < target_lengths[:, None]
        padded = np.where(inside, values[np.where(inside, positions, 0)] if total else blank,
                          blank)
    else:
        if values.shape[0] != N:
            raise RuntimeError(f"Expected tensor to have size {N} at dimension 0, but got size "
                               f"{values.shape[0]} for argument #2 'targets' ({_WHERE})")
        if values.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, "
                               f"but got size {values.shape[1]} for argument #2 'targets' "
                               f"({_WHERE})")
        inside = np.arange(values.shape[1]) < target_lengths[:, None]
        padded = np.where(inside, values, blank)[:, :longest]
    bad = out_of_bounds(padded, C, negative_ok=False)
    if bad is not None:  # PyTorch reads outside log_probs here; refuse instead
        raise IndexError(f'ctc_loss: target {bad} is out of range for {C} classes')
    return padded.reshape(N, longest)
