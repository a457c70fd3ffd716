"""Averages of a model's weights over training (torch.optim.swa_utils): stochastic weight
averaging (SWA, an equal-weight running mean of the weights) and exponential moving averages
(EMA), the SWALR learning-rate schedule that goes with SWA, and update_bn, which recomputes
BatchNorm statistics for averaged weights.

PyTorch's arithmetic is kept, device by device: AveragedModel's running mean is
avg + (current - avg) / (n + 1) on the CPU and a lerp with weight 1 / (n + 1) elsewhere (PyTorch
uses its foreach kernels only off the CPU; n is the int64 n_averaged buffer, so that weight is
rounded to the default dtype), and the EMA is a lerp with weight 1 - decay. Integer buffers
(num_batches_tracked, with use_buffers=True) take the first formula, truncated to their dtype,
on every device: PyTorch's foreach form raises for integer tensors (an integer addcdiv), so on
CUDA it cannot average them at all.
"""
import itertools
import math
from copy import deepcopy

from .. import _creation, _dtype
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step

__all__ = ['AveragedModel', 'update_bn', 'SWALR', 'get_ema_multi_avg_fn', 'get_swa_multi_avg_fn',
           'get_ema_avg_fn', 'get_swa_avg_fn']


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f'Invalid decay value {decay} provided. Please provide a value in '
                         '[0,1] range.')


def get_ema_multi_avg_fn(decay=0.999):
    """The in-place EMA update of lists of tensors: ema = decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
            if p_ema.is_floating_point() or p_ema.is_complex():
                p_ema.lerp_(p_model, 1 - decay)
            else:
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """The in-place running-mean update of lists of tensors, num_averaged tensors seen so far."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
            if p_avg.is_floating_point() or p_avg.is_complex():
                p_avg.lerp_(p_model, 1 / (num_averaged + 1))
            else:   # see the module docstring
                p_avg.copy_(_swa_mean(p_avg, p_model, num_averaged))
    return swa_update


def _swa_mean(averaged, current, num_averaged):
    return averaged + (current - averaged) / (num_averaged + 1)


def get_ema_avg_fn(decay=0.999):
    """The EMA of one tensor, returned: decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor, returned: avg + (current - avg) / (num_averaged + 1)."""

    return no_grad()(_swa_mean)


class AveragedModel(Module):
    """A copy of `model` (on `device` if given) whose parameters (and buffers, with
    use_buffers=True) are averages of `model`'s over the calls to update_parameters(model):
    the equal-weight mean by default, or avg_fn(averaged, current, n_averaged) per tensor, or
    multi_avg_fn(averaged_list, current_list, n_averaged) in place (get_ema_multi_avg_fn for an
    EMA). The first update copies `model`. forward runs the averaged copy. The n_averaged buffer
    counts the updates; the functions are not part of the state_dict."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError('Only one of avg_fn and multi_avg_fn should be provided')
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer('n_averaged', _creation.tensor(0, dtype=_dtype.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold `model`'s current parameters (and buffers, with use_buffers) into the averages."""
        if self.use_buffers:
            averaged = itertools.chain(self.module.parameters(), self.module.buffers())
            current = itertools.chain(model.parameters(), model.buffers())
        else:
            averaged, current = self.parameters(), model.parameters()
        pairs = [(p_avg.detach(), p_model.detach().to(p_avg.device))
                 for p_avg, p_model in zip(averaged, current)]
        first = bool(self.n_averaged == 0)
        with no_grad():
            if first:
                for p_avg, p_model in pairs:
                    p_avg.copy_(p_model)
            elif self.avg_fn is not None:
                for p_avg, p_model in pairs:
                    p_avg.copy_(self.avg_fn(p_avg, p_model, self.n_averaged.to(p_avg.device)))
            else:
                for (device, _), group in _by_device_and_dtype(pairs).items():
                    n = self.n_averaged.to(device)
                    if self.multi_avg_fn is None and device.type == 'cpu':
                        for p_avg, p_model in group:    # see the module docstring
                            p_avg.copy_(_swa_mean(p_avg, p_model, n))
                        continue
                    update = self.multi_avg_fn or get_swa_multi_avg_fn()
                    update([a for a, _ in group], [c for _, c in group], n)
            if not self.use_buffers:  # the buffers follow the source model
                for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_avg.copy_(b_model.detach().to(b_avg.device))
            self.n_averaged += 1


def _by_device_and_dtype(pairs):
    """{(device, dtype): [(averaged, current)]}, in first-seen order (PyTorch's grouping)."""
    groups = {}
    for p_avg, p_model in pairs:
        groups.setdefault((p_avg.device, p_avg.dtype), []).append((p_avg, p_model))
    return groups


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the running statistics of model's BatchNorm layers in one pass over `loader`
    (batches are tensors, or lists/tuples whose first element is the input), as a cumulative
    average (momentum None for the pass; momentum and train/eval mode are restored after)."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each param group's lr to swa_lr over anneal_epochs steps ('cos' or 'linear'),
    then holds it there: the schedule used with SWA."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy='cos',
                 last_epoch=-1):
        swa_lrs = _format_param('swa_lr', optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group['swa_lr'] = lr
        if anneal_strategy not in ('cos', 'linear'):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f'{anneal_strategy}')
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f'anneal_epochs must be equal or greater than 0, got '
                             f'{anneal_epochs}')
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == 'cos' else \
            self._linear_anneal

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        # the lr before annealing is recovered from the current one, so that other schedulers
        # may have changed it in between
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group['lr'], group['swa_lr'], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group['swa_lr'] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def state_dict(self):
        """Every attribute except the optimizer and the annealing function."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ('optimizer', 'anneal_func')}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
