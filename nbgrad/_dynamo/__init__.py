"""torch._dynamo as training scripts touch it: its config (torch._dynamo.config.suppress_errors
= True, cache_size_limit...: every name PyTorch has, _compiler_config.json), reset(), disable,
mark_dynamic, optimize, list_backends. nbgrad has no compiler (torch.compile runs eagerly:
nbgrad/compiler.py), so the settings are kept and read back but change nothing, and marking
shapes dynamic is a no-op."""
import functools

from .. import _config_module
from . import exc, utils  # noqa: F401 (torch._dynamo.exc, torch._dynamo.utils)

config = _config_module.install(
    __name__ + '.config', _config_module.torch_defaults('dynamo'),
    aliases={'cache_size_limit': 'recompile_limit',
             'accumulated_cache_size_limit': 'accumulated_recompile_limit'})

# the backend names PyTorch lists (torch.compile accepts them; every one runs eagerly here)
_BACKENDS = ('cudagraphs', 'inductor', 'openxla', 'tvm')
_DEBUG_BACKENDS = ('eager', 'aot_eager', 'aot_eager_decomp_partition', 'aot_ts', 'onnxrt',
                   'aot_ts_nvfuser', 'nvprims_nvfuser', 'eager_noexcept', 'pre_dispatch_eager',
                   'aot_eager_default_partitioner', 'aot_inductor', 'tensorrt', 'torch_tensorrt')


def list_backends(exclude_tags=('debug', 'experimental')):
    return list(_BACKENDS) if exclude_tags else sorted(_BACKENDS + _DEBUG_BACKENDS)


def check_backend(backend):
    """torch.compile's backend: a callable or a name PyTorch knows (InvalidBackend otherwise)."""
    if isinstance(backend, str) and backend not in _BACKENDS + _DEBUG_BACKENDS:
        raise exc.InvalidBackend(backend)


def reset():
    """Forget compiled code: there is none."""


def disable(fn=None, recursive=True, *, reason=None):
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    return fn


def optimize(backend='inductor', *, nopython=False, guard_export_fn=None, guard_fail_fn=None,
             disable=False, dynamic=None):
    """The decorator torch.compile is built on: here it runs the function eagerly."""
    check_backend(backend)

    def decorate(fn):
        from ..compiler import compile
        return compile(fn, backend=backend, fullgraph=nopython, dynamic=dynamic,
                       disable=disable)
    return decorate


def is_compiling():
    return False


def mark_dynamic(t, index, *, min=None, max=None, specialize_on=None):
    """Shapes are never specialised here: nothing to mark."""


def maybe_mark_dynamic(t, index):
    """As mark_dynamic."""


def mark_static(t, index=None):
    """As mark_dynamic."""


def allow_in_graph(fn):
    return fn
