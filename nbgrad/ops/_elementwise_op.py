"""What every elementwise op shares: the node class an op table row becomes (_make_op), with
PyTorch's type promotion (including the fast path for inputs that already share a dtype), the
check that arguments broadcast (its error names the shapes), and the derivative bookkeeping.
The tables of ops themselves are in elementwise.py."""
import numpy as np

from .. import _memory_format
from .._complex_autograd import conj as _conj
from ..autograd.graph import Node
from ._util import promote, to_float_dtype, xp_of, broadcast_error

_ndarray = np.ndarray
_PY_SCALARS = (bool, int, float, complex)
_HALF = np.dtype(np.float16)


_KIND_CATEGORY = {'b': 0, 'i': 1, 'u': 1, 'f': 2, 'c': 3}
_SCALAR_CATEGORY = {bool: 0, int: 1, float: 2, complex: 3}
# dtype kinds an op can compute directly when its inputs already share that dtype
_FAST_KINDS = {'same': 'biufc', 'float': 'fc', 'bool': 'biufc', 'int': 'biu'}


class Elementwise(Node):
    """An op made from a table row (see _make_op); the class attributes are the row."""
    drops_unneeded_inputs = True    # (backward runs only the needed inputs' formulas)
    ufunc = None          # name of a NumPy/CuPy ufunc computing the op
    np_ufunc = None       # the NumPy ufunc itself (the fast path's function)
    compute = None        # or fn(xp, *arrays) -> array
    result = 'same'       # 'same': promoted dtype; 'float': ints -> default float; 'bool'; 'int'
    fast_kinds = ''       # see _FAST_KINDS (minus kinds the op refuses, e.g. bool for neg/sub)
    bool_operands_ok = True  # False for sub: PyTorch refuses any bool operand there
    ints_to_float = True  # result 'float' from integers (False: no integer kernel, float_only)
    derivatives = ()      # per input: fn(grad, *inputs, output) -> grad, or None
    op_name = None
    # holomorphic: for a complex gradient the derivatives get the conjugated inputs and output,
    # so a formula g * f'(x) gives PyTorch's g * conj(f'(x)) (see _complex_autograd)
    conj_operands = False
    scalar_operands = 'common'   # (see Node; 'at float' for mul, 'second at float' for div)

    def forward(self, *arrays):
        fast = self.np_ufunc
        if fast is not None and self.bool_operands_ok and _can_skip_promotion(arrays,
                                                                                self.fast_kinds):
            try:
                return fast(*arrays)
            except OverflowError:
                pass  # an out-of-range Python int: the general path wraps it
            except ValueError:
                raise _explain(self, arrays) from None
        return self._general_forward(arrays)

    def _general_forward(self, arrays):
        given = arrays
        arrays = self._prepare(arrays)
        xp = xp_of(*arrays)
        if xp is np and self.op_name in _FLOAT_SCALAR_OPS and _any_half(arrays):
            # PyTorch's CPU mul, div and floor_divide read a Python scalar (or a 0-dim tensor as
            # their second operand) in float and compute half in float, rounding once
            # (h * 0.1: NumPy rounds 0.1 to half first); the other ops' half kernels round the
            # scalar to half as NumPy does
            if len(given) == 2 and given[1].__class__ is _ndarray and given[1].ndim == 0 and \
                    given[1].dtype.kind == 'f':
                arrays = [arrays[0], given[1]]
            out = self._general_forward([a.astype(np.float32) if a.__class__ is _ndarray else a
                                         for a in arrays])
            return out.astype(np.float16) if out.dtype == np.float32 else out
        try:
            if self.ufunc is not None:
                fn = getattr(xp, self.ufunc)
                try:
                    out = fn(*arrays)
                except OverflowError:
                    out = fn(*_wrap_int_scalars(arrays))
            else:
                out = self.compute(xp, *arrays)
        except ValueError:
            raise _explain(self, arrays) from None
        return out if xp is np else _in_operands_layout(xp, arrays, out)

    def _prepare(self, arrays):
        """Promote (PyTorch's rules), check the dtype is allowed, cast the arrays to it."""
        self._check_operands(arrays)
        dt = promote(arrays)
        self._check_dtype(dt)
        if self.result == 'float':
            dt = to_float_dtype(dt)
        elif self.result == 'int' and dt.kind not in 'biu':
            # (PyTorch has no float or complex kernel: its error names the kernel)
            kernel = _INTEGER_KERNELS.get(self.op_name, f'{self.op_name}_cpu')
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_word(dt)}\'')
        return [_cast_operand(a, dt) for a in arrays]

    def _check_dtype(self, dt):
        pass

    def _check_operands(self, arrays):
        pass

    def forward_into(self, out, *arrays):
        """In-place without autograd: let the ufunc write straight into `out` when it can."""
        fast = self.np_ufunc
        if fast is not None and out.__class__ is _ndarray and self.result != 'bool' and \
                _can_skip_promotion(arrays, self.fast_kinds) and arrays[0].dtype is out.dtype \
                and _fits(arrays, out.shape) and (out.dtype is not _HALF
                                                  or self.op_name not in _FLOAT_SCALAR_OPS):
            try:
                return fast(*arrays, out=out)
            except OverflowError:
                pass  # an out-of-range Python int: the general path wraps it
        if self.result != 'bool':
            _check_inplace_cast(self, out, arrays)
        if self.ufunc is None or self.result == 'bool' or (
                self.op_name in _FLOAT_SCALAR_OPS and _any_half(arrays)):
            return self.forward(*arrays)      # (half with a scalar: see _general_forward)
        prepared = self._prepare(arrays)
        if prepared[0].dtype != out.dtype or not getattr(out.flags, 'writeable', True):
            return self.forward(*arrays)
        try:
            shape = np.broadcast_shapes(*(a.shape for a in prepared if hasattr(a, 'shape')))
        except ValueError:
            return self.forward(*arrays)  # let the caller report the shape error
        if shape != out.shape:
            return self.forward(*arrays)
        fn = getattr(xp_of(*prepared), self.ufunc)
        return fn(*prepared, out=out)

    def backward(self, grad):
        inputs = [None] * len(self._edges)
        if self.saved_inputs:
            for i, v in zip(self.saved_inputs, self.saved_tensors):
                inputs[i] = v
        output = self.saved_output() if self.saves_output else None
        if self.conj_operands and grad._data.dtype.kind == 'c':
            inputs = [_conj(v) for v in inputs]
            output = _conj(output)
        return tuple(derivative(grad, *inputs, output) if edge is not None else None
                     for edge, derivative in zip(self._edges, self.derivatives))

    def name(self):
        return self.backward_name


class BinaryElementwise(Elementwise):
    def backward(self, grad):
        # Elementwise.backward specialised for two inputs (the hottest backward there is)
        a = b = out = None
        if self.saved_inputs:
            saved = self.saved_tensors
            if len(saved) == 2:
                a, b = saved
            elif self.saved_inputs[0] == 0:
                (a,) = saved
            else:
                (b,) = saved
        if self.saves_output:
            out = self.saved_output()
        if self.conj_operands and grad._data.dtype.kind == 'c':
            a, b, out = _conj(a), _conj(b), _conj(out)
        edge_a, edge_b = self._edges
        da, db = self.derivatives
        return (da(grad, a, b, out) if edge_a is not None else None,
                db(grad, a, b, out) if edge_b is not None else None)

    def forward(self, a, b):
        # Fast path (the common case): NumPy arrays of one dtype, or an array and a Python scalar
        # of no higher category; NumPy then computes exactly what PyTorch would.
        fast = self.np_ufunc
        if fast is not None and a.__class__ is _ndarray:
            dtype = a.dtype
            kind = dtype.kind
            # (half with a Python scalar: see _general_forward)
            if kind in self.fast_kinds and (dtype is not _HALF or b.__class__ is _ndarray):
                bc = b.__class__
                # (a bool array never widens the other operand, in NumPy as in PyTorch)
                if (bc is _ndarray and (b.dtype is a.dtype or (
                        b.dtype.kind == 'b' and self.bool_operands_ok))) or (
                        bc in _SCALAR_CATEGORY and _SCALAR_CATEGORY[bc] <= _KIND_CATEGORY[kind]
                        and (bc is not bool or self.bool_operands_ok)
                        and (bc is not int or kind not in 'iu' or _int_fits(b, dtype))):
                    try:
                        return fast(a, b)
                    except OverflowError:
                        pass
                    except ValueError:
                        raise _explain(self, (a, b)) from None
        return Elementwise.forward(self, a, b)


class UnaryElementwise(Elementwise):
    def backward(self, grad):
        x = self.saved_tensors[0] if self.saved_inputs else None
        y = self.saved_output() if self.saves_output else None
        if self.conj_operands and grad._data.dtype.kind == 'c':
            x, y = _conj(x), _conj(y)
        return self.derivatives[0](grad, x, y)

    def forward(self, x):
        if x.__class__ is _ndarray and x.dtype.kind in self.fast_kinds:
            # the input already has the computation dtype: no promotion needed
            fast = self.np_ufunc
            return fast(x) if fast is not None else self.compute(np, x)
        return self._general_forward((x,))


def _in_operands_layout(xp, arrays, out):
    """out (a CuPy result, always C-ordered) in the layout of the first operand of its shape
    when that one is densely permuted (channels-last, transposed), as PyTorch's and NumPy's
    elementwise results are."""
    if out.ndim < 2:
        return out
    for a in arrays:
        if getattr(a, 'shape', None) == out.shape:
            order = _memory_format.dense_order(a)
            if order is None:
                return out
            relaid = _memory_format.empty_in_order(xp, out.shape, out.dtype, order)
            relaid[...] = out
            return relaid
    return out


def _check_inplace_cast(op, out, arrays):
    """PyTorch checks that the computation's dtype casts to the written tensor's before it looks
    for a kernel: x.fmod_(complex) on a float x is the cast's RuntimeError, not fmod's missing
    complex kernel."""
    top = _KIND_CATEGORY[out.dtype.kind]
    if op.result != 'float' or not op.ints_to_float or top >= 2:
        # the common case, cheaply: no operand of a higher category than the written tensor
        for a in arrays:
            if a is not None and (_SCALAR_CATEGORY[a.__class__] if a.__class__ in _PY_SCALARS
                                  else _KIND_CATEGORY[a.dtype.kind]) > top:
                break
        else:
            return
    dt = promote(arrays)
    if op.result == 'float' and op.ints_to_float:
        dt = to_float_dtype(dt)
    if _KIND_CATEGORY[dt.kind] > _KIND_CATEGORY[out.dtype.kind]:
        from .._dispatch import _check_cast
        _check_cast(dt, out.dtype, op)


def _explain(op, arrays):
    """NumPy's ValueError for shapes that do not broadcast, as PyTorch's RuntimeError."""
    shapes = [a.shape for a in arrays if hasattr(a, 'shape')]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return broadcast_error(shapes, op.op_name)
    return ValueError(f'{op.op_name}: invalid operands')  # not a shape problem: NumPy's own


def explains_broadcast(forward):
    """Decorator for forwards that broadcast their own operands (where, lerp, clamp)."""
    def wrapped(self, *arrays):
        try:
            return forward(self, *arrays)
        except ValueError as e:
            error = _explain(self, arrays)
            raise (error if isinstance(error, RuntimeError) else e) from None
    return wrapped


def _fits(arrays, shape):
    """Every array operand has exactly `shape` or is 0-dim (so an `out=` of that shape works)."""
    for a in arrays:
        if a.__class__ is _ndarray and a.ndim and a.shape != shape:
            return False
    return True


def _can_skip_promotion(arrays, fast_kinds):
    """True when every NumPy array shares one dtype that the op computes as is, and each Python
    scalar is of a category no higher than that dtype's: then NumPy's result is PyTorch's."""
    dtype = None
    for a in arrays:
        if a.__class__ is _ndarray:
            if dtype is None:
                dtype = a.dtype
                if dtype.kind not in fast_kinds:
                    return False
            elif a.dtype is not dtype:
                return False
        elif a.__class__ not in _SCALAR_CATEGORY:
            return False
    if dtype is None:
        return False
    category = _KIND_CATEGORY[dtype.kind]
    for a in arrays:
        # (a scalar with half: see _general_forward; an int out of a narrow type: _int_fits)
        if a.__class__ is not _ndarray and (_SCALAR_CATEGORY[a.__class__] > category or
                                            dtype is _HALF or (a.__class__ is int and
                                                               not _int_fits(a, dtype))):
            return False
    return True


_FLOAT_SCALAR_OPS = frozenset({'mul', 'div', 'floor_divide'})
# PyTorch's kernels of the integer-only ops, as its no-kernel errors name them
_INTEGER_KERNELS = {'bitwise_left_shift': 'lshift_cpu', 'bitwise_right_shift': 'rshift_cpu'}


def _int_fits(value, dtype):
    """Whether a Python int is an element of the array's dtype as it is (always, for a float
    dtype). One that is not wraps around in PyTorch (uint8 < -3 compares with 253), where
    NumPy's comparisons take its mathematical value: the general path wraps it (_cast_operand)."""
    if dtype.kind not in 'iu' or dtype.itemsize == 8:   # (int64: NumPy raises OverflowError)
        return True
    info = _INT_RANGES.get(dtype)
    if info is None:
        info = _INT_RANGES[dtype] = (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max))
    return info[0] <= value <= info[1]


_INT_RANGES = {}


def _any_half(arrays):
    return any(a.__class__ is _ndarray and a.dtype is _HALF for a in arrays)


def _cast_operand(a, dt):
    """An operand in the computation dtype: arrays are cast; Python ints that do not fit an
    integer dtype wrap around as in PyTorch (uint8 + 300 adds 44); other scalars stay weak."""
    if a is None:
        return a
    if a.__class__ in _PY_SCALARS:
        if a.__class__ is int and dt.kind in 'iu':
            info = np.iinfo(dt)
            if not info.min <= a <= info.max:
                return np.array(a).astype(dt)[()]  # a NumPy scalar: CuPy refuses host arrays
        return a
    return a.astype(dt) if a.dtype != dt else a


def _wrap_int_scalars(arrays):
    """uint8 + 300 wraps around in PyTorch; NumPy refuses out-of-range Python ints."""
    dt = next(a.dtype for a in arrays if a.__class__ not in _PY_SCALARS and a is not None)
    return [np.array(a).astype(dt)[()] if a.__class__ is int else a for a in arrays]


def _make_op(name, n_inputs, ufunc=None, compute=None, derivatives=None, saves='', result='same',
             backward_name=None, refuse_bool=None, float_only=False, ordered=False,
             saved_input_users=None):
    """One table row -> an op class.

    saves: which inputs ('x' for unary; 'a', 'b' for binary) and whether the output ('y' for
    unary, 'out' for binary) the derivatives use.
    derivatives: one formula per input (None: not differentiable there), or None for none at all.
    refuse_bool: an error message for bool inputs (PyTorch refuses -bool and bool - bool), or
        (exception class, message) where PyTorch raises something other than RuntimeError, or
        a function of the inputs' is-bool flags returning the message (None: allowed).
    float_only: PyTorch has no integer kernel (NotImplementedError for int/bool inputs).
    ordered: compares by order, which complex numbers have none of (NotImplementedError).
    saved_input_users: {saved input: inputs whose derivative reads it} (Node.saved_input_users).
    """
    if n_inputs == 1:
        saved_inputs = (0,) if 'x' in saves else ()
        saves_output = 'y' in saves
    else:
        saved_inputs = tuple(i for i in range(n_inputs) if 'ab'[i] in saves)
        saves_output = 'out' in saves
    fast_kinds = _FAST_KINDS[result]
    attrs = {
        'ufunc': ufunc,
        'np_ufunc': getattr(np, ufunc) if ufunc is not None else None,
        'compute': staticmethod(compute) if compute is not None else None,
        'result': result,
        'fast_kinds': fast_kinds.replace('b', '') if refuse_bool else fast_kinds,
        'op_name': name,
        'derivatives': tuple(derivatives) if derivatives else (None,) * n_inputs,
        'differentiable': bool(derivatives) and result != 'bool',
        'saved_inputs': saved_inputs,
        'saved_input_users': saved_input_users,
        'saves_output': saves_output,
        'backward_name': backward_name or name.capitalize() + 'Backward0',
    }
    if refuse_bool is not None:
        def check(self, arrays):
            flags = [a.__class__ is bool or (a.__class__ not in _PY_SCALARS and a is not None
                                             and a.dtype.kind == 'b') for a in arrays]
            if not any(flags):
                return
            refusal = refuse_bool(flags) if callable(refuse_bool) else refuse_bool
            if refusal is not None:
                kind, message = refusal if isinstance(refusal, tuple) else (RuntimeError, refusal)
                raise kind(message)
        attrs['_check_operands'] = check
        attrs['bool_operands_ok'] = False
    elif float_only or ordered:
        refused = 'biu' if float_only else 'c'
        attrs['ints_to_float'] = not float_only
        attrs['fast_kinds'] = ''.join(k for k in attrs['fast_kinds'] if k not in refused)

        def check(self, dt):
            if dt.kind in refused and name in ('maximum', 'minimum', 'fmax', 'fmin'):
                # (complex numbers have no order; the comparisons' refusal names a kernel)
                raise RuntimeError(f'{name} not implemented for complex tensors.')
            if dt.kind in refused:
                raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                          f'\'{_dtype_word(dt)}\'')
        attrs['_check_dtype'] = check
    base = {1: UnaryElementwise, 2: BinaryElementwise}.get(n_inputs, Elementwise)
    return type(name.capitalize(), (base,), attrs)


def _dtype_word(dt):
    from .._dispatch import _type_word
    return _type_word(dt)
