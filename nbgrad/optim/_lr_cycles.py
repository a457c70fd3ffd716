"""CyclicLR and OneCycleLR: learning rates (and momentums) that cycle (part of
nbgrad.optim.lr_scheduler)."""
import math
import types
from functools import partial

from .lr_scheduler import (LRScheduler, _format_param, _update_param_group_val,
                           _require_optimizer, _warn_get_lr_called_within_step)

# ---------------------------------------------------------------------------------------------
# Cycles (which can cycle the momentum, or Adam's beta1, against the lr)
# ---------------------------------------------------------------------------------------------

def _init_cycled_momentum(optimizer, base_momentum, max_momentum, last_epoch):
    """Checks that the optimizer has a momentum (or betas) and, on a fresh start, sets each
    group's momentum to its max and records 'max_momentum'/'base_momentum' in the group.
    Returns (use_beta1, base_momentums, max_momentums)."""
    if 'momentum' not in optimizer.defaults and 'betas' not in optimizer.defaults:
        raise ValueError(
            'optimizer must support momentum or beta1 with `cycle_momentum` option enabled')
    use_beta1 = 'betas' in optimizer.defaults
    base_momentums = _format_param('base_momentum', optimizer, base_momentum)
    max_momentums = _format_param('max_momentum', optimizer, max_momentum)
    if last_epoch == -1:
        for m_momentum, b_momentum, group in zip(max_momentums, base_momentums,
                                                 optimizer.param_groups, strict=True):
            _set_momentum(group, use_beta1, m_momentum)
            group['max_momentum'] = m_momentum
            group['base_momentum'] = b_momentum
    return use_beta1, base_momentums, max_momentums


def _set_momentum(group, use_beta1, momentum):
    if use_beta1:
        group['betas'] = (momentum, *group['betas'][1:])
    else:
        group['momentum'] = momentum


class CyclicLR(LRScheduler):
    """The lr cycles between base_lr and max_lr (triangular, triangular2, exp_range or a custom
    scale_fn); with cycle_momentum the momentum cycles the opposite way."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode='triangular', gamma=1.0, scale_fn=None, scale_mode='cycle',
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _require_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _format_param('base_lr', optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                _update_param_group_val(group, 'lr', lr)
        self.max_lrs = _format_param('max_lr', optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ['triangular', 'triangular2', 'exp_range'] and scale_fn is None:
            raise ValueError('mode is invalid and scale_fn is None')
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _init_cycled_momentum(
                optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        if self.mode == 'triangular':
            self._scale_fn_ref, self.scale_mode = self._triangular_scale_fn, 'cycle'
        elif self.mode == 'triangular2':
            self._scale_fn_ref, self.scale_mode = self._triangular2_scale_fn, 'cycle'
        elif self.mode == 'exp_range':
            self._scale_fn_ref = partial(self._exp_range_scale_fn, self.gamma)
            self.scale_mode = 'iterations'

    def scale_fn(self, x):
        """The amplitude's scale at cycle (or iteration) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x):
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x):
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma, x):
        return gamma ** x

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        # Like PyTorch, call scale_fn once per value (a custom one may count its calls).
        def scale():
            return self.scale_fn(cycle if self.scale_mode == 'cycle' else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale()
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)]
        if self.cycle_momentum:
            for group, base_momentum, max_momentum in zip(
                    self.optimizer.param_groups, self.base_momentums, self.max_momentums,
                    strict=True):
                height = (max_momentum - base_momentum) * scale_factor
                momentum = max_momentum - height * scale()
                _set_momentum(group, self.use_beta1, momentum)
        return lrs

    def state_dict(self):
        """The attributes, without the scale function: a callable object's __dict__ is kept,
        a plain function is not (None)."""
        state = super().state_dict()
        state.pop('_scale_fn_ref', None)
        fn = state.pop('_scale_fn_custom')
        state['_scale_fn_custom'] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state['_scale_fn_custom'] = fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict):
        fn_state = state_dict.pop('_scale_fn_custom')
        super().load_state_dict(state_dict)
        if fn_state is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()


def _annealing_cos(start, end, pct):
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


def _annealing_linear(start, end, pct):
    return (end - start) * pct + start


_ANNEALERS = {'cos': _annealing_cos, 'linear': _annealing_linear}


class OneCycleLR(LRScheduler):
    """The 1cycle policy: lr from max_lr / div_factor up to max_lr over pct_start of the steps,
    then down to initial_lr / final_div_factor (three_phase: back to initial_lr first); with
    cycle_momentum the momentum goes the opposite way. Stepping past total_steps raises."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _require_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f'Expected positive integer total_steps, but got {total_steps}')
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f'Expected positive integer epochs, but got {epochs}')
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError('Expected positive integer steps_per_epoch, but got '
                                 f'{steps_per_epoch}')
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError('You must define either total_steps OR (epochs AND steps_per_epoch)')
        self._schedule_phases = self._phases(pct_start, three_phase)
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f'Expected float between 0 and 1 pct_start, but got {pct_start}')
        if anneal_strategy not in _ANNEALERS:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f'{anneal_strategy}')
        self._anneal_func_type = anneal_strategy
        max_lrs = _format_param('max_lr', self.optimizer, max_lr)
        if last_epoch == -1:
            for idx, group in enumerate(self.optimizer.param_groups):
                group['initial_lr'] = max_lrs[idx] / div_factor
                group['max_lr'] = max_lrs[idx]
                group['min_lr'] = group['initial_lr'] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if self.cycle_momentum:
            self.use_beta1 = _init_cycled_momentum(
                optimizer, base_momentum, max_momentum, last_epoch)[0]
        super().__init__(optimizer, last_epoch)

    def _phases(self, pct_start, three_phase):
        """Each phase anneals from one group entry to another, ending at end_step."""
        def phase(end_step, lrs, momentums):
            return {'end_step': end_step, 'start_lr': lrs[0], 'end_lr': lrs[1],
                    'start_momentum': momentums[0], 'end_momentum': momentums[1]}
        warm_up = phase(float(pct_start * self.total_steps) - 1, ('initial_lr', 'max_lr'),
                        ('max_momentum', 'base_momentum'))
        if not three_phase:
            return [warm_up, phase(self.total_steps - 1, ('max_lr', 'min_lr'),
                                   ('base_momentum', 'max_momentum'))]
        return [warm_up,
                phase(float(2 * pct_start * self.total_steps) - 2, ('max_lr', 'initial_lr'),
                      ('base_momentum', 'max_momentum')),
                phase(self.total_steps - 1, ('initial_lr', 'min_lr'),
                      ('max_momentum', 'max_momentum'))]

    def _anneal_func(self, start, end, pct):
        return _ANNEALERS[self._anneal_func_type](start, end, pct)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f'Tried to step {step_num} times. The specified number of total '
                             f'steps is {self.total_steps}')
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase['end_step']
                if step_num <= end_step or i == last:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[phase['start_lr']],
                                                 group[phase['end_lr']], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self.use_beta1, self._anneal_func(
                            group[phase['start_momentum']], group[phase['end_momentum']], pct))
                    break
                start_step = phase['end_step']
        return lrs
