"""The legacy typed constructors of old PyTorch code: nbgrad.FloatTensor([1, 2]), LongTensor(3),
isinstance(t, nbgrad.FloatTensor), x.type(nbgrad.DoubleTensor)..."""
from . import _dtype
from ._tensor import Tensor, is_legacy_data


class _LegacyTypeMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.is_cpu

    def __repr__(cls):
        return f"<class 'nbgrad.{cls.__name__}'>"


class _LegacyTensorType(metaclass=_LegacyTypeMeta):
    dtype = None

    def __new__(cls, *args, device=None):
        from ._creation import tensor, empty
        if is_legacy_data(args):
            data = args[0]
            if isinstance(data, Tensor):
                return data.to(cls.dtype)
            return tensor(data, dtype=cls.dtype, device=device)
        return empty(*(args or (0,)), dtype=cls.dtype, device=device)


def _make(name, dt):
    return _LegacyTypeMeta(name, (_LegacyTensorType,), {'dtype': dt, '__module__': 'nbgrad'})


FloatTensor = _make('FloatTensor', _dtype.float32)
DoubleTensor = _make('DoubleTensor', _dtype.float64)
HalfTensor = _make('HalfTensor', _dtype.float16)
BFloat16Tensor = _make('BFloat16Tensor', _dtype.bfloat16)
LongTensor = _make('LongTensor', _dtype.int64)
IntTensor = _make('IntTensor', _dtype.int32)
ShortTensor = _make('ShortTensor', _dtype.int16)
CharTensor = _make('CharTensor', _dtype.int8)
ByteTensor = _make('ByteTensor', _dtype.uint8)
BoolTensor = _make('BoolTensor', _dtype.bool)

_warned = []


def set_default_tensor_type(t, /):
    """The default floating dtype (and, for a 'torch.cuda.*' name, device) from a legacy type:
    set_default_tensor_type(torch.DoubleTensor) or ('torch.cuda.FloatTensor'). Deprecated in
    PyTorch 2.1 for set_default_dtype and set_default_device, with its warning."""
    if not _warned:        # (once per process, as PyTorch's TORCH_WARN_ONCE)
        from ._user_warning import warn_at_caller
        _warned.append(True)
        warn_at_caller('torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, '
                       'please use torch.set_default_dtype() and torch.set_default_device() as '
                       'alternatives.')
    cuda = False
    if isinstance(t, str):
        prefix, _, name = t.rpartition('.')
        cls = globals().get(name) if prefix in ('torch', 'torch.cuda', 'nbgrad', 'nbgrad.cuda') \
            else None
        if cls is None:
            raise TypeError(f'invalid type: {t!r}')
        cuda = prefix.endswith('.cuda')
    else:
        cls = t
    if not (isinstance(cls, type) and issubclass(cls, _LegacyTensorType)):
        raise TypeError(f'invalid type: {t!r}')
    if not cls.dtype.is_floating_point:
        raise TypeError('only floating-point types are supported as the default type')
    _dtype.set_default_dtype(cls.dtype)
    if cuda:
        from ._device import set_default_device
        set_default_device('cuda')


__all__ = ['FloatTensor', 'DoubleTensor', 'HalfTensor', 'BFloat16Tensor', 'LongTensor', 'IntTensor', 'ShortTensor',
           'CharTensor', 'ByteTensor', 'BoolTensor', 'set_default_tensor_type']
