"""nbgrad.random: generators, seeding and RNG state (torch.random).

The CPU generator reproduces PyTorch's CPU generator (mt19937 with PyTorch's seeding and kernels,
see _mt_engine.py), so with the same seed nbgrad.rand/randn/randint/randperm... give the same
numbers as PyTorch, and get_rng_state() is byte-for-byte PyTorch's. Each GPU has a counter-based
Philox generator (_philox.py) whose state is (seed, offset), as PyTorch's CUDA generator is.
"""
import contextlib
import os

import numpy as np

from ._device import to_device
from ._mt_engine import MT19937Engine


class Generator:
    """A random number generator for one device; pass it as generator= to any random op."""

    def __init__(self, device='cpu'):
        self.device = to_device(device)
        if self.device.type == 'cpu':
            self._engine = MT19937Engine()
        else:
            from ._device import array_module_for, concrete_cuda_index
            from ._philox import PhiloxEngine
            xp = array_module_for(self.device)
            from ._device import device as device_cls
            self.device = device_cls('cuda', concrete_cuda_index(self.device))
            self._engine = PhiloxEngine(xp, device_index=self.device.index)

    def manual_seed(self, seed):
        _check_seed(seed)
        if not isinstance(seed, int):
            try:
                seed = int(seed)
            except (TypeError, ValueError):
                raise TypeError(f'manual_seed expected an int, got {type(seed).__name__}') from None
        self._engine.seed(seed)
        return self

    def seed(self):
        """Seed from the OS's entropy; returns the seed used."""
        value = int.from_bytes(os.urandom(8), 'little')      # (c10's readURandomLong)
        self._engine.seed(value)
        return value

    def initial_seed(self):
        return self._engine.initial_seed()

    def get_state(self):
        """The generator's full state as a uint8 tensor (restore it with set_state)."""
        from ._tensor import Tensor
        return Tensor._make(np.frombuffer(self._engine.get_state(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor) or new_state.dtype.name != 'uint8':
            raise TypeError('expected a torch.ByteTensor (a uint8 tensor from get_state()), but '
                            f'got {type(new_state).__name__}'
                            + (f' of dtype {new_state.dtype}' if isinstance(new_state, Tensor)
                               else ''))
        if not new_state.is_contiguous():
            raise RuntimeError('RNG state must be contiguous')
        self._engine.set_state(new_state.numpy(force=True).tobytes())
        return self

    def get_offset(self):
        if self.device.type == 'cpu':
            raise RuntimeError('CPU Generator does not use offset')
        return getattr(self._engine, 'offset', 0)

    def set_offset(self, offset):
        """Move a GPU generator's Philox counter to `offset` (a CPU generator, mt19937, has no
        offset: PyTorch refuses, and so does nbgrad)."""
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
            raise RuntimeError(f'manual_offset expected a long, but got {type(offset).__name__}')
        if not -2 ** 63 <= offset < 2 ** 64:
            raise ValueError('Overflow when unpacking long long')
        if self.device.type == 'cpu':
            raise RuntimeError('CPU Generator does not use offset')
        self._engine.offset = int(offset) % 2 ** 64
        return self

    def clone_state(self):
        """A new generator on the same device with a copy of this one's state (seed included):
        the two then draw the same numbers, independently."""
        clone = Generator(self.device)
        clone._engine.set_state(self._engine.get_state())
        return clone

    def graphsafe_get_state(self):
        """A generator sharing this one's state object (CUDA graphs register states this way).
        Only GPU generators have such states; PyTorch's CPU generator refuses, as here."""
        if self.device.type == 'cpu':
            raise NotImplementedError('graphsafe_get_state is not supported in this Generator')
        shared = Generator.__new__(Generator)
        shared.device, shared._engine = self.device, self._engine
        return shared

    def graphsafe_set_state(self, state):
        """Make this generator use the state object of `state` (a Generator, as from
        graphsafe_get_state): later draws from either advance both. GPU generators only."""
        if not isinstance(state, Generator):
            raise TypeError(f'expected a Generator, but got {type(state).__name__}')
        if self.device.type == 'cpu':
            raise NotImplementedError('graphsafe_set_state is not supported in this Generator')
        if state.device != self.device:
            raise RuntimeError(f'graphsafe_set_state: the state is a {state.device} generator\'s, '
                               f'this generator is on {self.device}; pass one of the same device')
        self._engine = state._engine
        return self

    def __repr__(self):
        return f'<nbgrad._C.Generator object at {hex(id(self))}>'

    def __getstate__(self):
        return {'device': str(self.device), 'state': self._engine.get_state(),
                'seed': self.initial_seed()}

    def __setstate__(self, state):
        self.__init__(state['device'])
        self._engine.set_state(state['state'])


def _check_seed(seed):
    """Generator.manual_seed's parser takes a long (or a string of one), not a float."""
    if isinstance(seed, float):
        raise RuntimeError('manual_seed expected a long, but got float')


default_generator = Generator('cpu')
# PyTorch seeds its default CPU generator from /dev/urandom when it starts (a new Generator() gets
# the fixed default seed), so a program that never calls manual_seed draws new numbers each run.
default_generator.seed()
_cuda_generators = {}
_global_seed = None  # the last manual_seed, applied to GPU generators made after it


def cuda_generator(index):
    """The default generator of GPU `index` (made on first use, seeded by the last manual_seed)."""
    gen = _cuda_generators.get(index)
    if gen is None:
        gen = _cuda_generators[index] = Generator(f'cuda:{index}')
        if _global_seed is not None:
            gen.manual_seed(_global_seed)
    return gen


def default_generator_for(device):
    if device.type == 'cpu':
        return default_generator
    from ._device import concrete_cuda_index
    return cuda_generator(concrete_cuda_index(device))


def manual_seed(seed):
    """Seed every generator (CPU and each GPU): the same seed gives the same numbers."""
    global _global_seed
    seed = int(seed)    # (torch.manual_seed takes a float, Generator.manual_seed does not)
    default_generator.manual_seed(seed)
    _global_seed = seed
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)
    return default_generator


def seed():
    global _global_seed
    value = default_generator.seed()
    _global_seed = value
    for gen in _cuda_generators.values():
        gen.manual_seed(value)
    return value


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The CPU generator's state as a uint8 tensor (the same bytes PyTorch's get_rng_state gives
    for the same history)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller='fork_rng', _devices_kw='devices',
             device_type=None):
    """Inside the block, random ops draw from forked generators; on exit the CPU generator and the
    given GPUs (default: all, when CUDA is in use) are restored to their states at entry."""
    if device_type not in (None, 'cuda'):
        raise NotImplementedError(f'fork_rng: nbgrad has CPU and CUDA generators only, not '
                                  f'device_type={device_type!r}')
    if not enabled:
        yield
        return
    from . import cuda
    if devices is None:
        devices = list(range(cuda.device_count())) if cuda._available else []
    cpu_state = get_rng_state()
    gpu_states = [(d, cuda.get_rng_state(d)) for d in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for d, state in gpu_states:
            cuda.set_rng_state(state, d)


def thread_safe_generator():
    """The generator a DataLoader thread worker should draw from: its thread-local generator
    there, None elsewhere (the main process and process workers, where None means the default
    generator). nbgrad's DataLoader runs workers as processes, so this is None there too."""
    from .utils.data import get_worker_info
    worker_info = get_worker_info()
    if (worker_info is not None and getattr(worker_info, 'worker_method', None) == 'thread'
            and getattr(worker_info, 'rng', None) is not None):
        return worker_info.rng.torch_generator
    return None


__all__ = ['Generator', 'default_generator', 'manual_seed', 'seed', 'initial_seed',
           'get_rng_state', 'set_rng_state', 'fork_rng', 'thread_safe_generator']
