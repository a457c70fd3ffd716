"""nbgrad's dtypes and PyTorch's type-promotion rules.

A dtype is a small immutable object naming a NumPy dtype; the same object serves both backends (CuPy
uses NumPy's dtypes). Promotion follows PyTorch, not NumPy: Python scalars and 0-dim tensors are
"weak" and only raise the result's *category* (bool < integer < floating < complex), never its
width, and an integer tensor combined with a float scalar gives the default float dtype.
"""
import builtins as _builtins

import numpy as np

# The module-level names float, int and bool below are dtypes, as in torch; keep the Python types.
_builtin_float, _builtin_int, _builtin_bool, _builtin_complex = (
    _builtins.float, _builtins.int, _builtins.bool, _builtins.complex)

_CATEGORY_BOOL, _CATEGORY_INT, _CATEGORY_FLOAT, _CATEGORY_COMPLEX = 0, 1, 2, 3


class dtype:
    __slots__ = ('name', 'np', 'itemsize', 'is_floating_point', 'is_complex', 'is_signed',
                 'category', '__weakref__')

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self.itemsize = self.np.itemsize if self.np is not None else 2
        self.category = category
        self.is_floating_point = category == _CATEGORY_FLOAT
        self.is_complex = category == _CATEGORY_COMPLEX
        self.is_signed = name not in ('uint8', 'bool')

    def __repr__(self):
        return 'nbgrad.' + self.name

    def __reduce__(self):  # pickle as the module-level singleton
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return {'complex64': float32, 'complex128': float64}.get(self.name, self)

    def to_complex(self):
        if self.category < _CATEGORY_FLOAT:     # (PyTorch has no complex integers)
            word = {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short',
                    'int32': 'Int', 'int64': 'Long'}[self.name]
            raise RuntimeError(f'Unknown Complex ScalarType for {word}')
        return {'float16': complex64, 'bfloat16': complex64, 'float32': complex64,
                'float64': complex128}.get(self.name, self)


float16 = half = dtype('float16', np.float16, _CATEGORY_FLOAT)
float32 = float = dtype('float32', np.float32, _CATEGORY_FLOAT)
float64 = double = dtype('float64', np.float64, _CATEGORY_FLOAT)
complex64 = cfloat = dtype('complex64', np.complex64, _CATEGORY_COMPLEX)
complex128 = cdouble = dtype('complex128', np.complex128, _CATEGORY_COMPLEX)
uint8 = dtype('uint8', np.uint8, _CATEGORY_INT)
int8 = dtype('int8', np.int8, _CATEGORY_INT)
int16 = short = dtype('int16', np.int16, _CATEGORY_INT)
int32 = int = dtype('int32', np.int32, _CATEGORY_INT)
int64 = long = dtype('int64', np.int64, _CATEGORY_INT)
bool = dtype('bool', np.bool_, _CATEGORY_BOOL)
# NumPy has no bfloat16 of its own: nbgrad stores one as the ml_dtypes package's NumPy dtype (the
# one JAX uses), imported on first use (enable_bfloat16), so that `import nbgrad` needs NumPy alone.
# Without ml_dtypes the name still exists, and using it is a clear error (see to_dtype).
bfloat16 = dtype('bfloat16', None, _CATEGORY_FLOAT)

ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool)
_BY_NAME = {d.name: d for d in ALL + (bfloat16,)}
_FROM_NP = {d.np: d for d in ALL}
_NP_TYPES = {d.np.type: d for d in ALL}


def _dtype_by_name(name):
    return _BY_NAME[name]


# Tensor.grad_dtype's default: "the tensor's own dtype" (None means any dtype)
SAME_AS_DATA = object()

_bfloat16_listeners = []    # fn(np_dtype), called once when bfloat16 gets its NumPy dtype


def enable_bfloat16():
    """Give nbgrad.bfloat16 its NumPy dtype (ml_dtypes.bfloat16) on first use; False when
    ml_dtypes is not installed."""
    if bfloat16.np is not None:
        return True
    try:
        import ml_dtypes
    except ImportError:
        return False
    np_dtype = np.dtype(ml_dtypes.bfloat16)
    _FROM_NP[np_dtype] = bfloat16
    _NP_TYPES[np_dtype.type] = bfloat16
    bfloat16.np = np_dtype
    for listener in _bfloat16_listeners:
        listener(np_dtype)
    return True


# NumPy kinds of the floating (and inexact: floating or complex) arrays nbgrad holds. ml_dtypes'
# bfloat16 has kind 'V' (NumPy's "void"); no other array of that kind gets into a tensor.
FLOATING_KINDS = 'fV'
INEXACT_KINDS = 'fcV'


def is_bfloat16(np_dtype):
    """Whether a NumPy dtype is ml_dtypes' bfloat16 (whose kind is 'V', not 'f')."""
    return np_dtype is bfloat16.np and np_dtype is not None


def finfo(np_dtype):
    """NumPy's finfo of a floating NumPy dtype (ml_dtypes' for bfloat16, which NumPy's refuses)."""
    if is_bfloat16(np_dtype):
        import ml_dtypes
        return ml_dtypes.finfo(np_dtype)
    return np.finfo(np_dtype)


def is_reduced_float(np_dtype):
    """float16 or bfloat16: the dtypes PyTorch's kernels compute in float32 ("opmath")."""
    return np_dtype == np.float16 or is_bfloat16(np_dtype)


def is_floating(np_dtype):
    """Whether a tensor's NumPy dtype is a floating type, bfloat16 included."""
    return np_dtype.kind in FLOATING_KINDS


_default_float = float32


def set_default_dtype(d):
    """Set the dtype of float tensors made from Python floats (and of integer computations that
    give floats), as in PyTorch: float32 or float64, or float16 or bfloat16."""
    global _default_float
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(f'only floating-point types are supported as the default type, got {d}')
    _default_float = d
    for listener in _default_listeners:
        listener(d)


_default_listeners = []     # fn(dtype), called when the default dtype is set


def get_default_dtype():
    return _default_float


def default_complex():
    return complex128 if _default_float is float64 else complex64


def from_numpy_dtype(np_dtype):
    """The nbgrad dtype of a NumPy/CuPy array's dtype; a clear TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        if getattr(np_dtype, 'name', None) == 'bfloat16' and enable_bfloat16():
            return _FROM_NP[np_dtype]       # (an ml_dtypes array before nbgrad used bfloat16)
        raise TypeError(
            f"can't convert an array of type numpy.{np.dtype(np_dtype).name}. The only supported "
            'types are: float64, float32, float16, complex64, complex128, int64, int32, int16, '
            'int8, uint8, and bool.') from None


def to_dtype(d):
    """Accept an nbgrad dtype, a NumPy dtype/type, a Python type or a name; return an nbgrad dtype."""
    if d.__class__ is dtype:
        if d.np is None and not enable_bfloat16():
            raise TypeError('nbgrad.bfloat16 needs the ml_dtypes package (pip install ml_dtypes): '
                            'NumPy has no bfloat16 type of its own. Install it, or use '
                            'nbgrad.float16 or nbgrad.float32 instead.')
        return d
    if d is _builtin_float:  # PyTorch maps Python's float type to float64, not the default
        return float64
    if d is _builtin_int:
        return int64
    if d is _builtin_bool:
        return bool
    if d is _builtin_complex:
        return complex128
    if isinstance(d, str):
        name = d.replace('torch.', '').replace('nbgrad.', '')
        if name in _BY_NAME:
            return to_dtype(_BY_NAME[name])
    try:
        return from_numpy_dtype(np.dtype(d))
    except TypeError as e:
        if isinstance(d, str) or isinstance(d, type):
            raise TypeError(f'{d!r} is not a dtype nbgrad knows') from None
        raise TypeError(f'expected a dtype such as nbgrad.float32, got {d!r}') from e


def scalar_dtype(value):
    """The dtype PyTorch gives a Python scalar when it becomes a tensor on its own."""
    if isinstance(value, _builtin_bool):
        return bool
    if isinstance(value, _builtin_int):
        return int64
    if isinstance(value, _builtin_float):
        return _default_float
    if isinstance(value, _builtin_complex):
        return default_complex()
    if isinstance(value, np.generic):  # NumPy scalars count as the Python numbers they hold
        return scalar_dtype(value.item())
    raise TypeError(f'expected a number, got {type(value).__name__}')


def promote_types(type1, type2):
    """PyTorch's torch.promote_types for two dtypes.

    Within a category (ints, floats, complex) this is NumPy's table (uint8 + int8 -> int16 in
    both). Across categories PyTorch keeps the higher category's dtype as it is (int32 + float16
    -> float16, where NumPy would widen to float64); float + complex takes the complex type wide
    enough for the float."""
    a, b = type1, type2
    if a is b:
        return a
    if a.category != b.category:
        high, low = (a, b) if a.category > b.category else (b, a)
        if high.category == _CATEGORY_COMPLEX and low.category == _CATEGORY_FLOAT:
            return _FROM_NP[np.promote_types(high.np, low.to_complex().np)]
        return high
    if a is bfloat16 or b is bfloat16:
        # float16 and bfloat16 meet in float32 (neither holds the other); wider floats win
        other = b if a is bfloat16 else a
        return float32 if other is float16 else other
    return _FROM_NP[np.promote_types(a.np, b.np)]


def _weak_category(value):
    if isinstance(value, _builtin_bool):
        return _CATEGORY_BOOL
    if isinstance(value, _builtin_int):
        return _CATEGORY_INT
    if isinstance(value, _builtin_float):
        return _CATEGORY_FLOAT
    if isinstance(value, _builtin_complex):
        return _CATEGORY_COMPLEX
    raise TypeError(f'expected a Tensor or a number, got {type(value).__name__}')


def _default_of_category(category):
    return (bool, int64, _default_float, default_complex())[category]


def result_type_from(dims_dtypes, zero_dim_dtypes, scalars):
    """PyTorch's three-tier promotion: dimensioned tensors, then 0-dim tensors, then Python scalars.

    Each tier only matters if it is of a higher category than the tiers above it.
    """
    result = None
    for d in dims_dtypes:
        result = d if result is None else promote_types(result, d)
    zero = None
    for d in zero_dim_dtypes:
        zero = d if zero is None else promote_types(zero, d)
    if zero is not None:
        if result is None:
            result = zero
        elif zero.category > result.category:
            # a 0-dim tensor of a higher category decides, with its own width, except that
            # float -> complex keeps the dimensioned tensors' width (as PyTorch does)
            if zero.category == _CATEGORY_COMPLEX and result.category == _CATEGORY_FLOAT:
                result = result.to_complex()
            else:
                result = zero
    if scalars:
        category = max(_weak_category(s) for s in scalars)
        if result is None:
            result = _default_of_category(category)
        elif category > result.category:
            if category == _CATEGORY_COMPLEX and result.category == _CATEGORY_FLOAT:
                result = result.to_complex()
            else:
                result = _default_of_category(category)
    return result


def can_cast(from_, to):
    """PyTorch's torch.can_cast: no casting to a lower category (float -> int, int -> bool...)."""
    return from_.category <= to.category
