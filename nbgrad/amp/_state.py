"""Autocast's state: per device type whether it is on and its low-precision dtype, the nesting
depth of autocast regions, and the cache of low-precision copies of the weights.

PyTorch keeps this per thread; nbgrad keeps it per process (grad mode is per thread: _tensor's
_modes). `active` is what every autocast entry point reads first: True only while some device
type has autocast on, so outside autocast regions an entry point costs one list lookup."""
import contextlib

from .. import _dtype

DEVICE_TYPES = ('cpu', 'cuda')
DEFAULT_DTYPES = {'cuda': _dtype.float16, 'cpu': _dtype.bfloat16}

enabled = dict.fromkeys(DEVICE_TYPES, False)
dtypes = dict(DEFAULT_DTYPES)
active = [False]
_nesting = [0]
_cache_enabled = [True]
# id(weight) -> (weight, its _version when cast, the cast). Holding the weight keeps its id
# from being reused while the entry lives.
_cache = {}


def check_device_type(device_type):
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(f"unsupported autocast device_type '{device_type}'")


def set_enabled(device_type, on):
    enabled[device_type] = bool(on)
    active[0] = any(enabled.values())


def increment_nesting():
    _nesting[0] += 1
    return _nesting[0]


def decrement_nesting():
    _nesting[0] -= 1
    return _nesting[0]


def is_cache_enabled():
    return _cache_enabled[0]


def set_cache_enabled(on):
    _cache_enabled[0] = bool(on)


def clear_cache():
    _cache.clear()


def cached_cast(tensor, dtype, cast):
    """cast(tensor) for a weight (a float32 leaf that requires grad), made once per autocast
    region and remembered until the outermost region exits, as PyTorch does. Unlike PyTorch,
    the copy is made again if the weight changed in place since (an optimizer step inside the
    region), and copies made under no_grad (which carry no graph) are not kept."""
    from .. import _dispatch
    if not (_cache_enabled[0] and _dispatch._modes.grad_enabled):
        return cast(tensor, dtype)
    entry = _cache.get(id(tensor))
    version = tensor._vc[0]      # (an inference tensor has no public version counter)
    if entry is not None and entry[0] is tensor and entry[1] == version and \
            entry[2].dtype == dtype:
        return entry[2]
    result = cast(tensor, dtype)
    _cache[id(tensor)] = (tensor, version, result)
    return result


@contextlib.contextmanager
def suspended(device_types=DEVICE_TYPES):
    """Autocast off for these device types inside: what PyTorch does inside an op it has
    autocast (that op's own inner ops are not cast again) and what nbgrad does while backward
    runs (the graph already holds the casts; gradients flow back in the forward's dtypes)."""
    saved = {d: enabled[d] for d in device_types}
    if not any(saved.values()):
        yield
        return
    for d in device_types:
        enabled[d] = False
    active[0] = any(enabled.values())
    try:
        yield
    finally:
        enabled.update(saved)
        active[0] = any(enabled.values())
