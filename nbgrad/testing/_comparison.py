"""nbgrad.testing.assert_close: PyTorch's torch.testing.assert_close, its rules and its messages.

The inputs are split into pairs (recursing through sequences and mappings, the path of each pair
kept for the messages); each pair is compared by the first of NonePair, BooleanPair, NumberPair
and TensorLikePair that accepts it, as in PyTorch. Tensors are compared on the host: the values
are copied to NumPy arrays and the closeness test is PyTorch's isclose, step by step in PyTorch's
arithmetic (float16 computes in float32 and rounds each step back, integers' allowed error is in
the default float dtype), so a difference just inside or just outside the tolerance is judged as
PyTorch judges it, and the mismatch statistics are PyTorch's numbers.

Sparse COO, CSR and CSC tensors compare as PyTorch's do (indices equal, values close); nbgrad
has no quantized or jagged tensors, so their checks have no counterpart here.
"""
import abc
import cmath
import collections.abc
import contextlib
import warnings

import numpy as np

from .. import _dtype
from .._creation import as_tensor
from .._layout import sparse_csr, strided
from .._tensor import Tensor

__all__ = ['assert_close', 'assert_allclose']

_REPORT = ('If you see this during normal operation, it is a bug in nbgrad.testing: please report '
           'it.')


class ErrorMeta(Exception):
    """A comparison failure as data (its exception type, message and the path of the failing
    item), turned into the exception the user sees by to_error."""

    def __init__(self, type, msg, *, id=()):
        super().__init__('An internal nbgrad.testing error: raise ErrorMeta.to_error() for '
                         'user-facing errors.')
        self.type = type
        self.msg = msg
        self.id = id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated_msg = self.msg
            if self.id:
                generated_msg += ('\n\nThe failure occurred for item '
                                  f"{''.join(str([item]) for item in self.id)}")
            msg = msg(generated_msg) if callable(msg) else generated_msg
        return self.type(msg)


# {dtype: (rtol, atol)}: PyTorch's defaults (assert_close's table); other dtypes compare exactly
_DTYPE_PRECISIONS = {
    _dtype.float16: (0.001, 1e-5),
    _dtype.bfloat16: (0.016, 1e-5),
    _dtype.float32: (1.3e-6, 1e-5),
    _dtype.float64: (1e-7, 1e-7),
    _dtype.complex64: (1.3e-6, 1e-5),
    _dtype.complex128: (1e-7, 1e-7),
}


def default_tolerances(*inputs, dtype_precisions=None):
    """The loosest (rtol, atol) of the inputs' dtypes (Tensors or dtypes)."""
    dtypes = []
    for input in inputs:
        if isinstance(input, Tensor):
            dtypes.append(input.dtype)
        elif isinstance(input, _dtype.dtype):
            dtypes.append(input)
        else:
            raise TypeError(f'Expected a nbgrad.Tensor or a nbgrad.dtype, but got {type(input)} '
                            'instead.')
    dtype_precisions = dtype_precisions or _DTYPE_PRECISIONS
    rtols, atols = zip(*[dtype_precisions.get(dtype, (0.0, 0.0)) for dtype in dtypes])
    return max(rtols), max(atols)


def get_tolerances(*inputs, rtol, atol, id=()):
    """rtol and atol as given (both, or neither for the dtypes' defaults)."""
    if (rtol is None) ^ (atol is None):
        # both or neither: atol=0 alone would still let rtol pass values
        raise ErrorMeta(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                        f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None and atol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


def _make_mismatch_msg(*, default_identifier, identifier=None, extra=None, abs_diff,
                       abs_diff_idx=None, atol, rel_diff, rel_diff_idx=None, rtol):
    equality = rtol == 0 and atol == 0

    def make_diff_msg(*, type, diff, idx, tol):
        if idx is None:
            msg = f'{type.title()} difference: {diff}'
        else:
            msg = f'Greatest {type} difference: {diff} at index {idx}'
        if not equality:
            msg += f' (up to {tol} allowed)'
        return msg + '\n'

    if identifier is None:
        identifier = default_identifier
    elif callable(identifier):
        identifier = identifier(default_identifier)

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f'{extra.strip()}\n'
    msg += make_diff_msg(type='absolute', diff=abs_diff, idx=abs_diff_idx, tol=atol)
    msg += make_diff_msg(type='relative', diff=rel_diff, idx=rel_diff_idx, tol=rtol)
    return msg.strip()


def make_scalar_mismatch_msg(actual, expected, *, rtol, atol, identifier=None):
    abs_diff = abs(actual - expected)
    rel_diff = float('inf') if expected == 0 else abs_diff / abs(expected)
    return _make_mismatch_msg(default_identifier='Scalars', identifier=identifier,
                              extra=f'Expected {expected} but got {actual}.', abs_diff=abs_diff,
                              atol=atol, rel_diff=rel_diff, rtol=rtol)


def make_tensor_mismatch_msg(actual, expected, matches, *, rtol, atol, identifier=None):
    """PyTorch's statistics of a mismatch; actual, expected (NumPy arrays of one dtype) and
    matches (their isclose) have the same shape."""
    def unravel_flat_index(flat_index):
        if not matches.shape:
            return ()
        inverse_index = []
        for size in matches.shape[::-1]:
            flat_index, mod = divmod(flat_index, size)
            inverse_index.append(mod)
        return tuple(inverse_index[::-1])

    number_of_elements = matches.size
    total_mismatches = number_of_elements - int(matches.sum())
    extra = (f'Mismatched elements: {total_mismatches} / {number_of_elements} '
             f'({total_mismatches / number_of_elements:.1%})')

    actual_flat, expected_flat = actual.reshape(-1), expected.reshape(-1)
    matches_flat = matches.reshape(-1)
    if actual.dtype.kind not in _dtype.INEXACT_KINDS:
        actual_flat, expected_flat = actual_flat.astype(np.int64), expected_flat.astype(np.int64)

    abs_diff = _abs(_sub(actual_flat, expected_flat))
    abs_diff[matches_flat] = 0  # only the mismatches count
    abs_idx = int(np.argmax(abs_diff))  # the first maximum, or the first NaN (torch.max)

    rel_diff = _true_divide(abs_diff, _abs(expected_flat))
    rel_diff[matches_flat] = 0
    rel_idx = int(np.argmax(rel_diff))
    return _make_mismatch_msg(default_identifier='Tensor-likes', identifier=identifier,
                              extra=extra, abs_diff=abs_diff[abs_idx].item(),
                              abs_diff_idx=unravel_flat_index(abs_idx), atol=atol,
                              rel_diff=rel_diff[rel_idx].item(),
                              rel_diff_idx=unravel_flat_index(rel_idx), rtol=rtol)


# ---------------------------------------------------------------------------------------------
# PyTorch's arithmetic on NumPy arrays
# ---------------------------------------------------------------------------------------------

def _opmath(np_dtype):
    """The type PyTorch computes a dtype's arithmetic in (float16, bfloat16: float32)."""
    return np.dtype(np.float32) if _dtype.is_reduced_float(np_dtype) else np_dtype


def _abs(a):
    """|a|; for complex values PyTorch's modulus, the correctly rounded hypot of the parts (NumPy's
    np.abs can be an ulp off)."""
    if a.dtype.kind != 'c':
        return np.abs(a)
    if a.dtype == np.complex64:  # exact squares and one rounding in float64, then to float32
        re, im = a.real.astype(np.float64), a.imag.astype(np.float64)
        result = np.sqrt(re * re + im * im).astype(np.float32)
    else:
        result = _hypot64(a.real, a.imag)
    # hypot(inf, nan) is inf (the NaN of a part with an infinite other part does not propagate)
    return np.where(np.isinf(a.real) | np.isinf(a.imag), result.dtype.type(np.inf), result)


def _two_prod(a, b):
    """a * b as p + e exactly (Dekker; |a|, |b| < 1 here, so the split cannot overflow)."""
    p = a * b
    ah, bh = a * 134217729.0, b * 134217729.0
    ah, bh = ah - (ah - a), bh - (bh - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _hypot64(x, y):
    """sqrt(x**2 + y**2) of float64 arrays, correctly rounded but for rare ties: both scaled by a
    power of 2 to [0.5, 1), the sum of squares kept exactly as a pair, and one Newton step on
    the square root."""
    x, y = np.abs(x), np.abs(y)
    big = np.maximum(x, y)
    with np.errstate(all='ignore'):
        e = np.frexp(np.where(np.isfinite(big) & (big > 0), big, 1.0))[1]
        xs, ys = np.ldexp(x, -e), np.ldexp(y, -e)
        p1, e1 = _two_prod(xs, xs)
        p2, e2 = _two_prod(ys, ys)
        s = p1 + p2
        bp = s - p1  # two-sum: s + its rounding error, plus the products' errors
        low = (p1 - (s - bp)) + (p2 - bp) + e1 + e2
        r = np.sqrt(s)
        rr, rre = _two_prod(r, r)
        r = r + (((s - rr) - rre) + low) / (2 * r)
        result = np.ldexp(r, e)
    return np.where(big == 0, 0.0, np.where(np.isnan(big), np.nan, result))


def _sub(a, b):
    op = _opmath(a.dtype)
    return (a.astype(op) - b.astype(op)).astype(a.dtype)


def _true_divide(a, b):
    """a / b in PyTorch's dtype: integers divide in the default float dtype."""
    if a.dtype.kind in 'iub':
        float_type = _dtype.get_default_dtype().np
        a, b = a.astype(float_type), b.astype(float_type)
    op = _opmath(a.dtype)
    return (a.astype(op) / b.astype(op)).astype(a.dtype)


def _isclose(a, b, rtol, atol, equal_nan):
    """torch.isclose(a, b, rtol, atol, equal_nan) of two arrays of one dtype, computed as PyTorch
    computes it: bool and integer values in the default float dtype, |a - b| and
    atol + |rtol * b| in the (float or complex) dtype, each step rounded to that dtype (float16
    computes in float32)."""
    if rtol < 0:
        raise RuntimeError(f'rtol must be greater than or equal to zero, but got {rtol}')
    if atol < 0:
        raise RuntimeError(f'atol must be greater than or equal to zero, but got {atol}')
    close = a == b
    if equal_nan and a.dtype.kind in _dtype.INEXACT_KINDS:
        close |= np.isnan(a) & np.isnan(b)
    if rtol == 0 and atol == 0:
        return close

    if a.dtype.kind in 'biu':
        a, b = (v.astype(_dtype.get_default_dtype().np) for v in (a, b))
    op = _opmath(a.dtype)
    allowed = _abs((op.type(rtol) * b.astype(op)).astype(a.dtype))  # complex: a real modulus
    op = _opmath(allowed.dtype)
    allowed = (op.type(atol) + allowed.astype(op)).astype(allowed.dtype)
    actual = _abs(_sub(a, b))
    close |= np.isfinite(actual) & (actual <= allowed)
    return close


# ---------------------------------------------------------------------------------------------
# Pairs
# ---------------------------------------------------------------------------------------------

def _host_array(t):
    """t's values as a host NumPy array of its dtype (bfloat16 too, which numpy() refuses as
    PyTorch's does)."""
    t = t.detach().cpu()
    if _dtype.is_bfloat16(t._data.dtype):
        return t.float().numpy().astype(t._data.dtype)
    return t.numpy()


class UnsupportedInputs(Exception):
    """Raised while a Pair is made when it cannot handle the inputs: the next kind is tried."""


class Pair(abc.ABC):
    """Two inputs to compare, with all of assert_close's options (each kind takes those it uses);
    compare() raises an ErrorMeta where they differ."""

    def __init__(self, actual, expected, *, id=(), **unknown_parameters):
        self.actual = actual
        self.expected = expected
        self.id = id
        self._unknown_parameters = unknown_parameters

    @staticmethod
    def _inputs_not_supported():
        raise UnsupportedInputs

    @staticmethod
    def _check_inputs_isinstance(*inputs, cls):
        if not all(isinstance(input, cls) for input in inputs):
            Pair._inputs_not_supported()

    def _fail(self, type, msg, *, id=()):
        raise ErrorMeta(type, msg, id=self.id if not id and hasattr(self, 'id') else id)

    @abc.abstractmethod
    def compare(self):
        """Raise an ErrorMeta where the inputs do not match."""

    def extra_repr(self):
        return []

    def __repr__(self):
        body = [f'    {name}={value!s},' for name, value in [
            ('id', self.id), ('actual', self.actual), ('expected', self.expected),
            *[(extra, getattr(self, extra)) if isinstance(extra, str) else extra
              for extra in self.extra_repr()]]]
        return '\n'.join((f'{type(self).__name__}(', *body, ')'))


class ObjectPair(Pair):
    """Any inputs, compared with ==."""

    def compare(self):
        try:
            equal = self.actual == self.expected
        except Exception as error:
            raise ErrorMeta(ValueError, f'{self.actual} == {self.expected} failed with:\n{error}.',
                            id=self.id) from error
        if not equal:
            self._fail(AssertionError, f'{self.actual} != {self.expected}')


class NonePair(Pair):
    """Either input None: both must be."""

    def __init__(self, actual, expected, **other_parameters):
        if not (actual is None or expected is None):
            self._inputs_not_supported()
        super().__init__(actual, expected, **other_parameters)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self._fail(AssertionError, f'None mismatch: {self.actual} is not {self.expected}')


class BooleanPair(Pair):
    """Two bools (or NumPy bools)."""

    def __init__(self, actual, expected, *, id, **other_parameters):
        self._check_inputs_isinstance(actual, expected, cls=(bool, np.bool_))
        actual, expected = (self._to_bool(b, id=id) for b in (actual, expected))
        super().__init__(actual, expected, **other_parameters)

    @staticmethod
    def _to_bool(bool_like, *, id):
        if isinstance(bool_like, bool):
            return bool_like
        if isinstance(bool_like, np.bool_):
            return bool_like.item()
        raise ErrorMeta(TypeError, f'Unknown boolean type {type(bool_like)}.', id=id)

    def compare(self):
        if self.actual is not self.expected:
            self._fail(AssertionError, f'Booleans mismatch: {self.actual} is not {self.expected}')


class NumberPair(Pair):
    """Two Python numbers (or NumPy scalars), with the tolerances of the dtypes int -> int64,
    float -> float64, complex -> complex128."""

    _TYPE_TO_DTYPE = {int: _dtype.int64, float: _dtype.float64, complex: _dtype.complex128}
    _NUMBER_TYPES = tuple(_TYPE_TO_DTYPE)

    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False,
                 check_dtype=False, **other_parameters):
        self._check_inputs_isinstance(actual, expected, cls=(*self._NUMBER_TYPES, np.number))
        actual, expected = (self._to_number(n, id=id) for n in (actual, expected))
        super().__init__(actual, expected, id=id, **other_parameters)
        # a bool (an int subclass) has no entry: a KeyError here, as in PyTorch
        self.rtol, self.atol = get_tolerances(
            *[self._TYPE_TO_DTYPE[type(input)] for input in (actual, expected)], rtol=rtol,
            atol=atol, id=id)
        self.equal_nan = equal_nan
        self.check_dtype = check_dtype

    def _to_number(self, number_like, *, id):
        if isinstance(number_like, np.number):
            return number_like.item()
        if isinstance(number_like, self._NUMBER_TYPES):
            return number_like
        raise ErrorMeta(TypeError, f'Unknown number type {type(number_like)}.', id=id)

    def compare(self):
        if self.check_dtype and type(self.actual) is not type(self.expected):
            self._fail(AssertionError, f'The (d)types do not match: {type(self.actual)} != '
                       f'{type(self.expected)}.')
        if self.actual == self.expected:
            return
        if self.equal_nan and cmath.isnan(self.actual) and cmath.isnan(self.expected):
            return
        abs_diff = abs(self.actual - self.expected)
        tolerance = self.atol + self.rtol * abs(self.expected)
        if cmath.isfinite(abs_diff) and abs_diff <= tolerance:
            return
        self._fail(AssertionError, make_scalar_mismatch_msg(self.actual, self.expected,
                                                            rtol=self.rtol, atol=self.atol))

    def extra_repr(self):
        return ('rtol', 'atol', 'equal_nan', 'check_dtype')


class TensorLikePair(Pair):
    """Two Tensors, or two inputs of directly related types that nbgrad.as_tensor takes (NumPy
    arrays, ...)."""

    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, **other_parameters):
        actual, expected = self._process_inputs(actual, expected, allow_subclasses)
        super().__init__(actual, expected, id=id, **other_parameters)
        self.rtol, self.atol = get_tolerances(actual, expected, rtol=rtol, atol=atol, id=self.id)
        self.equal_nan = equal_nan
        self.check_device = check_device
        self.check_dtype = check_dtype
        self.check_layout = check_layout
        self.check_stride = check_stride

    def _process_inputs(self, actual, expected, allow_subclasses):
        directly_related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not directly_related:
            self._inputs_not_supported()
        if not allow_subclasses and type(actual) is not type(expected):
            self._inputs_not_supported()
        return tuple(self._to_tensor(input) for input in (actual, expected))

    def _to_tensor(self, tensor_like):
        if isinstance(tensor_like, Tensor):
            return tensor_like
        try:
            return as_tensor(tensor_like)
        except Exception:
            self._inputs_not_supported()

    def compare(self):
        actual, expected = self.actual, self.expected
        self._compare_attributes(actual, expected)
        if actual.layout != expected.layout:     # (check_layout=False: compared dense)
            actual, expected = (t.to_dense() if t.layout != strided else t
                                for t in (actual, expected))
        if actual.layout == strided:
            a, b = self._equalize_attributes(actual, expected)
            self._compare_values(a, b)
        elif actual.is_sparse:
            self._compare_sparse_coo(actual, expected)
        else:
            self._compare_sparse_compressed(actual, expected)

    def _compare_sparse_coo(self, actual, expected):
        """PyTorch's: sparse dims and nnz equal, then the indices equal and the values close."""
        if actual.sparse_dim() != expected.sparse_dim():
            self._fail(AssertionError, f'The number of sparse dimensions in sparse COO tensors '
                       f'does not match: {actual.sparse_dim()} != {expected.sparse_dim()}')
        if actual._nnz() != expected._nnz():
            self._fail(AssertionError, f'The number of specified values in sparse COO tensors '
                       f'does not match: {actual._nnz()} != {expected._nnz()}')
        self._compare_parts(actual._indices(), expected._indices(), 'Sparse COO indices', True)
        self._compare_parts(actual._values(), expected._values(), 'Sparse COO values', False)

    def _compare_sparse_compressed(self, actual, expected):
        csr = actual.layout is sparse_csr
        name = 'CSR' if csr else 'CSC'
        if actual._nnz() != expected._nnz():
            self._fail(AssertionError, f'The number of specified values in sparse {name} '
                       f'tensors does not match: {actual._nnz()} != {expected._nnz()}')
        compressed, plain = (('crow_indices', 'col_indices') if csr else
                             ('ccol_indices', 'row_indices'))
        self._compare_parts(getattr(actual, compressed)(), getattr(expected, compressed)(),
                            f'Sparse {name} {compressed.replace("_", " ")}', True)
        self._compare_parts(getattr(actual, plain)(), getattr(expected, plain)(),
                            f'Sparse {name} {plain.replace("_", " ")}', True)
        self._compare_parts(actual.values(), expected.values(), f'Sparse {name} values', False)

    def _compare_parts(self, actual, expected, identifier, exact):
        a, b = self._equalize_attributes(actual, expected)
        rtol, atol = (0, 0) if exact else (self.rtol, self.atol)
        matches = _isclose(a, b, rtol, atol, self.equal_nan)
        if matches.all():
            return
        msg = make_scalar_mismatch_msg(a.item(), b.item(), rtol=rtol, atol=atol,
                                       identifier=identifier) if a.shape == () else \
            make_tensor_mismatch_msg(a, b, matches, rtol=rtol, atol=atol, identifier=identifier)
        self._fail(AssertionError, msg)

    def _compare_attributes(self, actual, expected):
        """shape always; layout, stride, device and dtype as the check_* flags ask."""
        def raise_mismatch_error(attribute_name, actual_value, expected_value):
            self._fail(AssertionError, f"The values for attribute '{attribute_name}' do not "
                       f'match: {actual_value} != {expected_value}.')

        if actual.shape != expected.shape:
            raise_mismatch_error('shape', actual.shape, expected.shape)
        if actual.layout != expected.layout:
            if self.check_layout:
                raise_mismatch_error('layout', actual.layout, expected.layout)
        elif self.check_stride and actual.stride() != expected.stride():
            raise_mismatch_error('stride()', actual.stride(), expected.stride())
        if self.check_device and actual.device != expected.device:
            raise_mismatch_error('device', actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            raise_mismatch_error('dtype', actual.dtype, expected.dtype)

    @staticmethod
    def _equalize_attributes(actual, expected):
        """Both as host NumPy arrays of one dtype (torch.promote_types of theirs): PyTorch moves
        tensors on different devices to the CPU and converts both to the promoted dtype."""
        a, b = (_host_array(t) for t in (actual, expected))
        if actual.dtype is not expected.dtype:
            common = _dtype.promote_types(actual.dtype, expected.dtype).np
            a, b = a.astype(common), b.astype(common)
        return a, b

    def _compare_values(self, actual, expected):
        matches = _isclose(actual, expected, self.rtol, self.atol, self.equal_nan)
        if matches.all():
            return
        if actual.shape == ():
            msg = make_scalar_mismatch_msg(actual.item(), expected.item(), rtol=self.rtol,
                                           atol=self.atol)
        else:
            msg = make_tensor_mismatch_msg(actual, expected, matches, rtol=self.rtol,
                                           atol=self.atol)
        self._fail(AssertionError, msg)

    def extra_repr(self):
        return ('rtol', 'atol', 'equal_nan', 'check_device', 'check_dtype', 'check_layout',
                'check_stride')


def originate_pairs(actual, expected, *, pair_types,
                    sequence_types=(collections.abc.Sequence,),
                    mapping_types=(collections.abc.Mapping,), id=(), **options):
    """The pairs to compare: sequences (not strings) item by item, mappings key by key (the same
    length, the same keys), anything else by the first pair type that takes it."""
    if (isinstance(actual, sequence_types) and not isinstance(actual, str)
            and isinstance(expected, sequence_types) and not isinstance(expected, str)):
        actual_len, expected_len = len(actual), len(expected)
        if actual_len != expected_len:
            raise ErrorMeta(AssertionError, 'The length of the sequences mismatch: '
                            f'{actual_len} != {expected_len}', id=id)
        pairs = []
        for idx in range(actual_len):
            pairs.extend(originate_pairs(actual[idx], expected[idx], pair_types=pair_types,
                                         sequence_types=sequence_types,
                                         mapping_types=mapping_types, id=(*id, idx), **options))
        return pairs

    if isinstance(actual, mapping_types) and isinstance(expected, mapping_types):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            missing_keys = expected_keys - actual_keys
            additional_keys = actual_keys - expected_keys
            raise ErrorMeta(AssertionError, (
                'The keys of the mappings do not match:\n'
                f'Missing keys in the actual mapping: {sorted(missing_keys)}\n'
                f'Additional keys in the actual mapping: {sorted(additional_keys)}'), id=id)
        keys = actual_keys
        with contextlib.suppress(Exception):  # sorted where it can be: the first failure is kept
            keys = sorted(keys)
        pairs = []
        for key in keys:
            pairs.extend(originate_pairs(actual[key], expected[key], pair_types=pair_types,
                                         sequence_types=sequence_types,
                                         mapping_types=mapping_types, id=(*id, key), **options))
        return pairs

    for pair_type in pair_types:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except UnsupportedInputs:
            continue
        except ErrorMeta:
            raise
        except Exception as error:
            path = ''.join(str([item]) for item in id)
            raise RuntimeError(
                f'Originating a {pair_type.__name__}() at item {path} with\n\n'
                f'{type(actual).__name__}(): {actual}\n\nand\n\n'
                f'{type(expected).__name__}(): {expected}\n\nresulted in the unexpected exception '
                f'above. {_REPORT}') from error
    raise ErrorMeta(TypeError, 'No comparison pair was able to handle inputs of type '
                    f'{type(actual)} and {type(expected)}.', id=id)


def not_close_error_metas(actual, expected, *, pair_types=(ObjectPair,),
                          sequence_types=(collections.abc.Sequence,),
                          mapping_types=(collections.abc.Mapping,), **options):
    """The ErrorMetas of the pairs that do not match (a failure to make the pairs raises)."""
    __tracebackhide__ = True
    try:
        pairs = originate_pairs(actual, expected, pair_types=pair_types,
                                sequence_types=sequence_types, mapping_types=mapping_types,
                                **options)
    except ErrorMeta as error_meta:
        raise error_meta.to_error() from None

    error_metas = []
    for pair in pairs:
        try:
            pair.compare()
        except ErrorMeta as error_meta:
            error_metas.append(error_meta)
        except Exception as error:
            raise RuntimeError(f'Comparing\n\n{pair}\n\nresulted in the unexpected exception '
                               f'above. {_REPORT}') from error
    return error_metas


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    r"""Asserts that ``actual`` and ``expected`` are close (PyTorch's torch.testing.assert_close).

    Tensors are close where |actual - expected| <= atol + rtol * |expected| elementwise, with the
    same shape, and (as the check_* flags ask) the same device, dtype, layout and stride; inf only
    matches itself and NaN only NaN with equal_nan=True. Without check_device, tensors on
    different devices are compared on the CPU; without check_dtype, both are converted to
    nbgrad.promote_types of their dtypes. Anything nbgrad.as_tensor takes (NumPy arrays, ...)
    compares like a tensor if both inputs' types are directly related; Python numbers (and NumPy
    scalars) compare as numbers, int vs float only with check_dtype=False; sequences and mappings
    compare item by item. rtol and atol go together; by default they are the loosest of the two
    dtypes' defaults:

    ==========  ==========  ========
    dtype       rtol        atol
    ==========  ==========  ========
    float16     1e-3        1e-5
    bfloat16    1.6e-2      1e-5
    float32     1.3e-6      1e-5
    float64     1e-7        1e-7
    complex64   1.3e-6      1e-5
    complex128  1e-7        1e-7
    other       0.0         0.0
    ==========  ==========  ========

    msg replaces the message of a mismatch, or (a callable) is called with it and returns the
    new one. Raises AssertionError for mismatches, ValueError for rtol without atol (or atol
    without rtol), TypeError for inputs no comparison takes.
    """
    __tracebackhide__ = True
    error_metas = not_close_error_metas(
        actual, expected, pair_types=(NonePair, BooleanPair, NumberPair, TensorLikePair),
        allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
        check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
        check_stride=check_stride, msg=msg)
    if error_metas:
        raise error_metas[0].to_error(msg)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=''):
    """Deprecated (as in PyTorch): use assert_close."""
    warnings.warn('`nbgrad.testing.assert_allclose()` is deprecated since 1.12 and will be removed '
                  'in a future release. Please use `nbgrad.testing.assert_close()` instead. You '
                  'can find detailed upgrade instructions in '
                  'https://github.com/pytorch/pytorch/issues/61844.', FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = _new_tensor(actual)
    if not isinstance(expected, Tensor):
        expected = _new_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions={
            _dtype.float16: (1e-3, 1e-3), _dtype.float32: (1e-4, 1e-5),
            _dtype.float64: (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


def _new_tensor(data, dtype=None):
    from .._creation import tensor
    return tensor(data, dtype=dtype)
