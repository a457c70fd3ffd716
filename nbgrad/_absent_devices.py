"""torch.mps, torch.xpu and torch.mtia for the backends nbgrad does not have (it runs on the CPU
and, through CuPy, on NVIDIA GPUs).

Each module has the names PyTorch 2.13's has, and answers as PyTorch's CPU-only build does:
device selection (`torch.xpu.is_available()`), seeding helpers (`torch.mps.manual_seed(s)`, a
no-op until the backend is used) and the queries that build answers without a device
(`torch.xpu.memory_allocated()` is 0) work; a call that needs the device raises RuntimeError,
naming what to use instead (PyTorch raises RuntimeError or AssertionError, depending on the
backend).
"""
import collections
import sys
import types

_NAMES = {'mps': 'MPS (Apple GPUs)', 'xpu': 'XPU (Intel GPUs)', 'mtia': 'MTIA'}
_NONE = lambda *args, **kwargs: None      # noqa: E731
_COMMON = {'is_available': lambda: False, 'device_count': lambda: 0,
           'manual_seed': lambda seed: None}
# the answers PyTorch's CPU-only build gives, and the calls that raise there, per module
_ANSWERS = {
    'mps': {},
    'xpu': {'empty_cache': _NONE, 'set_rng_state': lambda new_state, device='xpu': None,
            'get_rng_state_all': lambda: [], 'set_rng_state_all': lambda new_states: None, 'memory_allocated': lambda device=None: 0,
            'max_memory_allocated': lambda device=None: 0,
            'memory_reserved': lambda device=None: 0,
            'max_memory_reserved': lambda device=None: 0,
            'memory_stats': lambda device=None: collections.OrderedDict(),
            'is_bf16_supported': lambda including_emulation=True: False,
            'manual_seed_all': lambda seed: None, 'seed': _NONE, 'seed_all': _NONE,
            'is_initialized': lambda: False},
    'mtia': {'get_rng_state_all': lambda: [], 'set_rng_state_all': lambda new_states: None,
             'memory_allocated': lambda device=None: 0,
             'max_memory_allocated': lambda device=None: 0,
             'reset_peak_memory_stats': _NONE, 'memory_stats': lambda device=None: {},
             'is_bf16_supported': lambda including_emulation=True: True,
             'manual_seed_all': lambda seed: None, 'seed': _NONE, 'seed_all': _NONE,
             'is_initialized': lambda: False},
}
_RAISING = {
    'mps': ('synchronize empty_cache get_rng_state set_rng_state seed current_allocated_memory '
            'driver_allocated_memory recommended_max_memory set_per_process_memory_fraction '
            'Event'),
    'xpu': ('synchronize get_rng_state current_device set_device device_of get_device_name '
            'get_device_properties get_device_capability mem_get_info '
            'set_per_process_memory_fraction current_stream stream set_stream init '
            'reset_peak_memory_stats Stream Event device'),
    'mtia': ('synchronize empty_cache get_rng_state set_rng_state current_device set_device '
             'get_device_properties get_device_capability current_stream stream set_stream '
             'init'),
}


def _module(kind):
    module = types.ModuleType(f'nbgrad.{kind}', f'torch.{kind}: nbgrad has no {_NAMES[kind]} '
                                                 'backend; see nbgrad._absent_devices.')
    for name, answer in {**_COMMON, **_ANSWERS[kind]}.items():
        setattr(module, name, answer)
    for name in _RAISING[kind].split():
        setattr(module, name, _unavailable(kind, name))
    return module


def _unavailable(kind, name):
    def unavailable(*args, **kwargs):
        raise RuntimeError(f'torch.{kind}.{name}: nbgrad has no {_NAMES[kind]} backend; it '
                           "runs on the CPU and on NVIDIA GPUs (device='cpu' or 'cuda'). "
                           f'Check torch.{kind}.is_available() first.')
    unavailable.__name__ = unavailable.__qualname__ = name
    return unavailable


def install(package_name):
    for kind in _NAMES:
        module = _module(kind)
        sys.modules[module.__name__] = module
        setattr(sys.modules[package_name], kind, module)
