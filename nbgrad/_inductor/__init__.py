"""torch._inductor: the config scripts set (torch._inductor.config.fallback_random = True,
config.triton.cudagraphs...), every name PyTorch has with its default (_compiler_config.json).
nbgrad has no compiler: the settings are kept and read back."""
from .. import _config_module

config = _config_module.install(__name__ + '.config', _config_module.torch_defaults('inductor'))
