"""nbgrad: PyTorch you can see inside.

PyTorch's public API (tensors, autograd, and later nn, optim, data, distributions...) written in
Python over NumPy on the CPU and CuPy on NVIDIA GPUs. `import nbgrad as torch` is meant to work.
Importing nbgrad needs NumPy alone; CuPy is imported when a CUDA device is first used.
"""
import numpy as _np

# `%reload_ext nbgrad` re-runs this file in the same namespace (importlib.reload): the one-time
# steps at its end must not run a second time (see there)
_reloading = '_entry_points' in globals()

# nbgrad follows PyTorch: log(0), 0/0 and overflow give -inf/nan/inf silently. NumPy would warn on
# every such op, and wrapping each op in np.errstate costs more than a small op itself, so NumPy's
# floating-point error handling is set to 'ignore' here (documented in the README).
_np.seterr(all='ignore')

# large arrays freed by one step are reused by the next, not handed back to the OS (_malloc.py)
if not _reloading:
    from . import _malloc  # noqa: E402
    _malloc.tune()

# PyTorch's constants (torch.inf, torch.pi, x[:, torch.newaxis])
from math import e, inf, nan, pi  # noqa: E402,F401
newaxis = None

from . import _dtype  # noqa: E402
from ._dtype import (dtype, float16, half, float32, float, float64, double, complex64, cfloat,  # noqa
                     complex128, cdouble, uint8, int8, int16, short, int32, int, int64, long, bool,
                     bfloat16, set_default_dtype, get_default_dtype, promote_types, can_cast)
from ._device import device, set_default_device, get_default_device  # noqa: E402
from ._type_info import finfo, iinfo  # noqa: E402
from ._layout import (layout, strided, sparse_coo, sparse_csr, sparse_csc,  # noqa: E402
                      sparse_bsr, sparse_bsc, jagged)
from ._memory_format import (memory_format, contiguous_format, preserve_format,  # noqa: E402
                             channels_last, channels_last_3d, legacy_contiguous_format)
from ._tensor import Tensor, Size, is_tensor  # noqa: E402
from . import _tensor_methods  # noqa: E402,F401  (attaches Tensor's math methods)
from . import _tensor_method_forms, _tensor_resize, _pinned  # noqa: E402,F401  (and the rest)
from ._creation import (tensor, as_tensor, asarray, from_numpy, from_dlpack, zeros, ones,  # noqa
                        frombuffer, empty, empty_strided, empty_permuted, full, zeros_like,
                        ones_like, empty_like, full_like, arange, linspace, logspace, eye,
                        scalar_tensor)
from ._creation import range_ as range  # noqa: E402
from ._functions import *  # noqa: E402,F401,F403
from ._legacy_types import *  # noqa: E402,F401,F403
from . import storage  # noqa: E402
from .storage import UntypedStorage, TypedStorage, is_storage  # noqa: E402,F401
from .ops.sorting import *  # noqa: E402,F401,F403
from .ops.counting import *  # noqa: E402,F401,F403
from .ops.calculus import *  # noqa: E402,F401,F403
from . import autograd  # noqa: E402
autograd.graph._bind_ops()
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: E402
                       is_grad_enabled, is_inference_mode_enabled, set_detect_anomaly,
                       is_anomaly_enabled, is_anomaly_check_nan_enabled)
from . import return_types  # noqa: E402
from ._tensor_str import set_printoptions, get_printoptions  # noqa: E402
from . import linalg  # noqa: E402
from . import special  # noqa: E402
from . import fft  # noqa: E402
from ._stft import stft, istft  # noqa: E402
from . import testing  # noqa: E402
from ._linalg_aliases import *  # noqa: E402,F401,F403
from . import random  # noqa: E402
from .random import (manual_seed, seed, initial_seed, get_rng_state, set_rng_state,  # noqa: E402
                     Generator, default_generator)
from ._random_ops import (rand, randn, randint, randperm, rand_like, randn_like,  # noqa: E402
                          randint_like, normal, bernoulli, multinomial, poisson)
# the samplers behind the Gamma, Beta, Dirichlet and Binomial distributions
from ._gamma_sampling import (_standard_gamma, _standard_gamma_grad,  # noqa: E402,F401
                              _sample_dirichlet, _dirichlet_grad)
from ._binomial_sampling import binomial  # noqa: E402
from . import cuda  # noqa: E402
from . import utils  # noqa: E402
from . import nn, optim  # noqa: E402
from . import func  # noqa: E402
from . import profiler  # noqa: E402
from . import distributions  # noqa: E402
from .func import vmap  # noqa: E402,F401
# PyTorch's top-level forms of nn.functional ops whose signatures are the same (torch.batch_norm,
# torch.embedding and the losses take other argument orders or integer reductions: not aliased)
from .nn.functional import (  # noqa: E402,F401
    conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, conv_tbc,
    max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices, avg_pool1d, adaptive_avg_pool1d,
    adaptive_max_pool1d, pixel_shuffle, pixel_unshuffle, channel_shuffle, native_channel_shuffle,
    celu, celu_, selu, selu_, rrelu, rrelu_, threshold, threshold_, relu_, hardshrink, prelu,
    bilinear, cosine_similarity, pairwise_distance, pdist, dropout, alpha_dropout,
    feature_alpha_dropout, layer_norm, group_norm, rms_norm)
# ... and those whose signatures differ from the functional ones (torch.dropout(input, p, train))
from ._torch_nn import (dropout, alpha_dropout, feature_alpha_dropout, celu, selu,  # noqa: E402
                        threshold, rrelu, rrelu_, max_pool1d, max_pool2d, max_pool3d,
                        max_pool1d_with_indices, avg_pool1d, adaptive_max_pool1d, layer_norm,
                        group_norm, softmax, log_softmax, lstm_cell, gru_cell,
                        rnn_tanh_cell, rnn_relu_cell)
from ._dropout_aliases import *  # noqa: E402,F401,F403  (dropout_, native_dropout...)
from ._method_functions import *  # noqa: E402,F401,F403  (torch.abs_, torch.permute_copy...)
from ._symbolic_scalars import *  # noqa: E402,F401,F403  (torch.sym_int...)
from ._fake_quantize import *  # noqa: E402,F401,F403  (quantization-aware training's ops)
from ._user_warning import set_warn_always, is_warn_always_enabled  # noqa: E402,F401
from ._foreach import *  # noqa: E402,F401,F403  (torch._foreach_add_, ... over lists of tensors)
from .serialization import save, load  # noqa: E402
from . import sparse  # noqa: E402
from . import multiprocessing  # noqa: E402
from . import jit  # noqa: E402
from . import onnx  # noqa: E402
from . import distributed  # noqa: E402
multiprocessing._shared.install()
from .sparse import _tensor_methods as _sparse_tensor_methods  # noqa: E402,F401
from .sparse import sparse_coo_tensor  # noqa: E402
from .ops.cdist import cdist  # noqa: E402
from . import backends  # noqa: E402
from .backends.cuda import set_float32_matmul_precision, get_float32_matmul_precision  # noqa
from ._threads import (set_num_threads, get_num_threads,  # noqa: E402
                       set_num_interop_threads, get_num_interop_threads)
from . import cpu  # noqa: E402
from . import amp  # noqa: E402
from . import compiler  # noqa: E402
from .compiler import compile  # noqa: E402,A004  (torch.compile)
from .cuda import amp as _cuda_amp  # noqa: E402,F401  (makes nbgrad.cuda.amp an attribute)
from .cpu import amp as _cpu_amp  # noqa: E402,F401  (and nbgrad.cpu.amp)
from .amp.autocast_mode import (  # noqa: E402
    autocast, is_autocast_enabled, set_autocast_enabled, get_autocast_dtype, set_autocast_dtype,
    clear_autocast_cache, is_autocast_cache_enabled, set_autocast_cache_enabled,
    autocast_increment_nesting, autocast_decrement_nesting, is_autocast_cpu_enabled,
    set_autocast_cpu_enabled, get_autocast_cpu_dtype, set_autocast_cpu_dtype,
    get_autocast_gpu_dtype, set_autocast_gpu_dtype)
from ._deterministic import (use_deterministic_algorithms,  # noqa: E402
                             are_deterministic_algorithms_enabled,
                             is_deterministic_algorithms_warn_only_enabled,
                             set_deterministic_debug_mode, get_deterministic_debug_mode)
from . import overrides, library, _C  # noqa: E402,F401  (torch.overrides, torch.library, torch._C)
from ._tensor_subclass import install as _install_tensor_subclass  # noqa: E402
_install_tensor_subclass()  # (Tensor.as_subclass and the default Tensor.__torch_function__)
from ._aten_namespace import install as _install_aten_namespace  # noqa: E402
_install_aten_namespace()   # (nbgrad.ops.aten.mm...: FlopCounterMode's keys)

from . import version  # noqa: E402  (torch.version)
from . import accelerator  # noqa: E402,F401  (torch.accelerator)
from . import signal  # noqa: E402,F401  (torch.signal.windows)
from .version import __version__  # noqa: E402,F401
from .cuda import OutOfMemoryError  # noqa: E402,F401  (torch.OutOfMemoryError)
from .amp import GradScaler  # noqa: E402,F401  (torch.GradScaler)
from .utils.dlpack import to_dlpack  # noqa: E402,F401  (torch.to_dlpack)
from . import _absent_devices  # noqa: E402
_absent_devices.install(__name__)  # (torch.mps, torch.xpu, torch.mtia)


def is_inference(input):
    return input.is_inference()


def set_flush_denormal(mode):
    """PyTorch sets the CPU's flush-to-zero flags and returns True where it can; NumPy offers no
    way to set them, so nbgrad computes with denormals always and returns False, PyTorch's answer
    on a CPU without the flags."""
    return False


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def __getattr__(name):
    """nbgrad.hub on first use (its URL machinery, urllib.request and http, costs 25 ms to
    import), nbgrad.fx, and the compiler's settings modules (_dynamo, _inductor, _logging)."""
    if name in ('hub', 'fx', '_dynamo', '_inductor', '_logging'):  # (torch._dynamo.config...)
        import importlib
        return importlib.import_module('.' + name, __name__)
    raise AttributeError(f"module 'nbgrad' has no attribute {name!r}")


def _assert(condition, message):
    """assert condition, message, as a function (so that symbolic tracing can record it)."""
    if type(condition) is not Tensor and hasattr(type(condition), '__torch_function__'):
        return overrides.handle_torch_function(_assert, (condition,), condition, message)
    assert condition, message


def typename(obj, /):
    """A tensor's type(); a class's or function's own module and qualified name; an instance's
    class's (PyTorch's rule)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, '__module__', '') or ''
    if hasattr(obj, '__qualname__'):
        name = obj.__qualname__
    elif hasattr(obj, '__name__'):
        name = obj.__name__
    else:
        module, name = obj.__class__.__module__ or '', obj.__class__.__qualname__
    return name if module in ('', 'builtins') else f'{module}.{name}'




# last, once every function is in place: NumPy's axis=/keepdims= where PyTorch's parser takes
# them, PyTorch's out= on the torch.* functions that take it
import sys as _sys  # noqa: E402
if not _reloading:
    from . import _numpy_aliases  # noqa: E402
    _numpy_aliases.install(_sys.modules[__name__], Tensor)
    from ._out import add_out_parameters as _add_out_parameters  # noqa: E402
    _add_out_parameters(globals())
    # and autocast's cast policies on the entry points of the ops PyTorch autocasts
    # (amp/_policy.py)
    from .amp import _policy as _autocast_policy  # noqa: E402
    _autocast_policy.install(_sys.modules[__name__])
    # and __torch_function__ dispatch on the overridable functions (_function_dispatch.py)
    from . import _function_dispatch  # noqa: E402
    _function_dispatch.wrap_namespaces(overrides.functions_to_wrap(), _sys.modules[__name__])
    overrides._overridable.cache_clear()     # (the tables list the wrapped functions now)
    overrides.get_ignored_functions.cache_clear()
    _entry_points = {name: value for name, value in globals().items() if name[:1] != '_'}
else:
    # the imports above bound the public names again, to the functions as their modules hold
    # them: back to the entry points the first run made (wrapping again would stack layers)
    globals().update(_entry_points)


def load_ipython_extension(ipython):
    """`%load_ext nbgrad`: registers the notebook magics (imported only here)."""
    from .magics import load_ipython_extension as register
    register(ipython)


def unload_ipython_extension(ipython):
    from .magics import unload_ipython_extension as unload
    unload(ipython)
