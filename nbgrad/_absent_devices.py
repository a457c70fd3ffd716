"""torch.mps, torch.xpu and torch.mtia for the backends nbgrad does not have (it runs on the CPU
and, through CuPy, on NVIDIA GPUs), as PyTorch's modules behave in a build without them: device
selection (`torch.xpu.is_available()`) and seeding helpers (`torch.mps.manual_seed(s)`, a no-op
until the backend is used) work, and anything that needs the device raises, naming what to use
instead."""
import sys
import types

# what a build without the backend answers: nothing there, and seeding waits for a device
_QUERIES = {
    'is_available': lambda: False,
    'device_count': lambda: 0,
    'is_initialized': lambda: False,
    'manual_seed': lambda seed: None,
    'manual_seed_all': lambda seed: None,
    'seed': lambda: None,
    'seed_all': lambda: None,
}
_NAMES = {'mps': 'MPS (Apple GPUs)', 'xpu': 'XPU (Intel GPUs)', 'mtia': 'MTIA'}
# the calls of PyTorch's modules that need the device: each raises here
_DEVICE_CALLS = (
    'synchronize empty_cache get_rng_state set_rng_state get_rng_state_all set_rng_state_all '
    'current_device set_device device_of get_device_name get_device_properties '
    'get_device_capability memory_allocated max_memory_allocated memory_reserved '
    'max_memory_reserved reset_peak_memory_stats mem_get_info memory_stats '
    'current_allocated_memory driver_allocated_memory recommended_max_memory '
    'set_per_process_memory_fraction current_stream stream set_stream is_bf16_supported '
    'init Stream Event device').split()


def _module(kind):
    module = types.ModuleType(f'nbgrad.{kind}', f'torch.{kind}: nbgrad has no {_NAMES[kind]} '
                                                 'backend; see nbgrad._absent_devices.')
    for name, answer in _QUERIES.items():
        setattr(module, name, answer)
    for name in _DEVICE_CALLS:
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
