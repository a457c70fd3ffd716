"""torch.amp.GradScaler: multiplies the loss by a scale so that small gradients survive a
low-precision backward, divides the gradients by it before the optimizer step, skips steps whose
gradients overflowed (inf or NaN), and adapts the scale: times backoff_factor after an overflow,
times growth_factor after growth_interval steps without one. PyTorch's algorithm, states, checks
and messages; it works on any device and dtype (the scale is a float32 tensor on the loss's
device, as PyTorch keeps it)."""
import enum
import warnings
from collections import abc, defaultdict

from .. import _dtype, cuda
from .._creation import full
from .._tensor import Tensor
from ..ops._util import xp_of
from . import _unscale

__all__ = ['GradScaler', 'OptState']


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    return {'stage': OptState.READY, 'found_inf_per_device': {}}


_NO_SCALE_FIX = ('This may indicate your script did not use scaler.scale(loss or outputs) '
                 'earlier in the iteration.')


class GradScaler:
    def __init__(self, device='cuda', init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == 'cuda' and enabled and not cuda.is_available():
            warnings.warn('torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  '
                          'Disabling.', stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError('The growth factor must be > 1.0.')
            if backoff_factor >= 1.0:
                raise AssertionError('The backoff factor must be < 1.0.')
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_fresh_state)

    def _scale_and_tracker(self, funcname):
        if self._scale is None:
            raise AssertionError(f'Attempted {funcname} but _scale is None.  ' + _NO_SCALE_FIX)
        if self._growth_tracker is None:
            raise AssertionError(f'Attempted {funcname} but _growth_tracker is None.  '
                                 + _NO_SCALE_FIX)
        return self._scale, self._growth_tracker

    def _lazy_init(self, device):
        self._scale = full((), self._init_scale, dtype=_dtype.float32, device=device)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=_dtype.int32,
                                    device=device)

    def scale(self, outputs):
        """outputs (a tensor, or nested lists/tuples/iterables of them) times the scale."""
        if not self._enabled:
            return outputs

        def apply_scale(value):
            if isinstance(value, Tensor):
                if self._scale is None:
                    self._lazy_init(value.device)
                return value * self._scale.to(device=value.device)
            if isinstance(value, abc.Iterable):
                scaled = map(apply_scale, value)
                return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
            raise ValueError('outputs must be a Tensor or an iterable of Tensors')
        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, allow_fp16):
        """Every gradient times inv_scale, in place; returns {device: found_inf} (1.0 where a
        gradient on that device held an inf or NaN, before the multiplication)."""
        per_device = {}
        for group in optimizer.param_groups:
            for param in group['params']:
                if not isinstance(param, Tensor):
                    raise AssertionError('expected param to be torch.Tensor, got '
                                         f'{type(param).__name__}')
                grad = param.grad
                if grad is None:
                    continue
                if not allow_fp16 and grad.dtype == _dtype.float16:
                    raise ValueError('Attempting to unscale FP16 gradients.')
                if grad.is_sparse:
                    # its stored values are what is scaled (a half one coalesced first, so
                    # that repeated entries cannot overflow when summed later: PyTorch's rule)
                    if grad.dtype == _dtype.float16:
                        param.grad = grad = grad.coalesce()
                    grad = grad._values()
                per_device.setdefault(grad.device, []).append(grad)
        found = {}
        for device, grads in per_device.items():
            found[device] = full((), 0.0, dtype=_dtype.float32, device=device)
            # on the device, no sync per gradient: step() reads the flags once
            _unscale.non_finite_check_and_unscale_(
                xp_of(found[device]._data), [g._data for g in grads], found[device]._data,
                inv_scale.to(device=device)._data)
            # (no version bump: PyTorch's kernel leaves the gradients' versions as they were)
        return found

    def unscale_(self, optimizer):
        """Divide optimizer's gradients by the scale (once per step; then step() does not)."""
        if not self._enabled:
            return
        self._scale_and_tracker('unscale_')
        state = self._per_optimizer_states[id(optimizer)]
        if state['stage'] is OptState.UNSCALED:
            raise RuntimeError('unscale_() has already been called on this optimizer since the '
                               'last update().')
        if state['stage'] is OptState.STEPPED:
            raise RuntimeError('unscale_() is being called after step().')
        inv_scale = self._scale.double().reciprocal().float()
        state['found_inf_per_device'] = self._unscale_grads_(optimizer, inv_scale, False)
        state['stage'] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless unscale_ was called), then optimizer.step(*args, **kwargs) unless a
        gradient overflowed; returns what step returned, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if 'closure' in kwargs:
            raise RuntimeError('Closure use is not currently supported if GradScaler is '
                               'enabled.')
        self._scale_and_tracker('step')
        state = self._per_optimizer_states[id(optimizer)]
        if state['stage'] is OptState.STEPPED:
            raise RuntimeError('step() has already been called since the last update().')
        if state['stage'] is OptState.READY:
            self.unscale_(optimizer)
        if len(state['found_inf_per_device']) == 0:
            raise AssertionError('No inf checks were recorded for this optimizer.')
        result = None
        if not sum(v.item() for v in state['found_inf_per_device'].values()):
            result = optimizer.step(*args, **kwargs)
        state['stage'] = OptState.STEPPED
        return result

    def update(self, new_scale=None):
        """The scale for the next iteration: new_scale if given, else backed off after an
        overflow in any optimizer's gradients, grown after growth_interval clean steps."""
        if not self._enabled:
            return
        scale, tracker = self._scale_and_tracker('update')
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ('new_scale should be a float or a 1-element torch.cuda.FloatTensor or '
                          'torch.FloatTensor with requires_grad=False.')
                if new_scale.device.type != self._device or new_scale.numel() != 1 or \
                        new_scale.requires_grad:
                    raise AssertionError(reason)
                scale.copy_(new_scale)
        else:
            found = [f.to(device=scale.device) for state in self._per_optimizer_states.values()
                     for f in state['found_inf_per_device'].values()]
            if len(found) == 0:
                raise AssertionError('No inf checks were recorded prior to update.')
            total = found[0]._data
            for f in found[1:]:
                total = total + f._data
            _unscale.update_scale_(xp_of(total), scale._data, tracker._data, total,
                                   self._growth_factor, self._backoff_factor,
                                   self._growth_interval)
            scale._vc[0] += 1       # (PyTorch's kernel bumps the scale's version, not the
                                    # tracker's)
        self._per_optimizer_states = defaultdict(_fresh_state)

    def get_scale(self):
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return self._init_growth_tracker if self._growth_tracker is None else \
                int(self._growth_tracker.item())
        return 0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        if self._enabled:
            return {'scale': self.get_scale(), 'growth_factor': self._growth_factor,
                    'backoff_factor': self._backoff_factor,
                    'growth_interval': self._growth_interval,
                    '_growth_tracker': self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError('The source state dict is empty, possibly because it was saved '
                               'from a disabled instance of GradScaler.')
        self._init_scale = state_dict['scale']
        if self._scale is not None:
            self._scale.fill_(state_dict['scale'])
        self._growth_factor = state_dict['growth_factor']
        self._backoff_factor = state_dict['backoff_factor']
        self._growth_interval = state_dict['growth_interval']
        self._init_growth_tracker = state_dict['_growth_tracker']
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict['_growth_tracker'])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError('A GradScaler instance may only be pickled at the '
                                     'beginning of an iteration, or at the end after '
                                     'scaler.update().')
            state['_init_scale'] = self.get_scale()
            state['_init_growth_tracker'] = self._get_growth_tracker()
            state['_scale'] = None
            state['_growth_tracker'] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
