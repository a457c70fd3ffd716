"""out= for the linear-algebra functions whose PyTorch kernels refuse an out of another dtype
than the result's (most of torch.linalg: inv, svd, eigh, qr, solve...), where the generic out=
of nbgrad/_out.py would cast. Each function keeps PyTorch's own wording of the refusal."""
import functools
import inspect

import numpy as np

from ._dispatch import _type_word
from ._out import accepts_out
from ._tensor import Tensor

# ATen's C++ names of the scalar types, as its "Expected out tensor to have dtype ..." says them
_CPP_WORDS = {
    'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'int32': 'int',
    'int64': 'long int', 'int16': 'short int', 'int8': 'signed char', 'uint8': 'unsigned char',
    'bool': 'bool', 'complex64': 'c10::complex<float>', 'complex128': 'c10::complex<double>',
}


def _cpp_word(dtype):
    dtype = np.dtype(dtype)
    return _CPP_WORDS.get(dtype.name, dtype.name)


def _exact(want, got):
    return (f'Expected out tensor to have dtype {_cpp_word(want)}, but got {_cpp_word(got)} '
            f'instead')


# PyTorch's other wordings of the same refusal
MESSAGES = {
    'exact': _exact,
    'matrix_norm': lambda want, got: (f'linalg.matrix_norm expected out tensor dtype '
                                      f'{_type_word(want)} but got: {_type_word(got)}'),
    'norm': lambda want, got: (f'linalg.norm expected out tensor dtype {_type_word(want)} but '
                               f'got: {_type_word(got)}'),
    'multi_dot': lambda want, got: (f'multi_dot(): expected out tensor to have dtype '
                                    f'{_cpp_word(want)} but got {_cpp_word(got)}'),
    'vecdot': lambda want, got: (f'linalg.vecdot: Expected out of dtype{_type_word(want)} but '
                                 f'found {_type_word(got)}'),
    'solve_triangular': lambda want, got: (f'expected scalar type {_type_word(want)} but found '
                                           f'{_type_word(got)}'),
    'ormqr': lambda want, got: (f'torch.ormqr: Expected input and result to have the same dtype, '
                                f'but input has dtype{_type_word(want)} and result has dtype '
                                f'{_type_word(got)}'),
}


def _check_dtypes(out, result, message):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    results = result if isinstance(result, tuple) else (result,)
    for o, r in zip(outs, results):
        if isinstance(o, Tensor) and isinstance(r, Tensor) and o._data.dtype != r._data.dtype:
            raise RuntimeError(message(r._data.dtype, o._data.dtype))


def _with_out_parameter(wrapper, fn):
    """Give wrapper fn's signature plus `out=None` (functools.wraps would show fn's, and the
    generic out= of nbgrad/_out.py would then wrap it a second time)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return wrapper
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    params.append(inspect.Parameter('out', inspect.Parameter.KEYWORD_ONLY, default=None))
    params += [p for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD]
    wrapper.__signature__ = sig.replace(parameters=params)
    return wrapper


def exact_out(fn, style='exact', show_out=False):
    """fn (no out=) with PyTorch's out=, refusing an out whose dtype is not the result's.
    show_out: list out= in the signature (for torch.* names, so that the generic out= of
    nbgrad/__init__.py sees it there and leaves them alone)."""
    message = MESSAGES[style]

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)

        def checked(*a, **k):
            result = fn(*a, **k)
            _check_dtypes(out, result, message)
            return result
        checked.__name__ = fn.__name__
        return accepts_out(checked)(*args, out=out, **kwargs)
    return _with_out_parameter(wrapper, fn) if show_out else wrapper


def casting_out(fn):
    """fn with the generic out= (cast into out's dtype), its signature listing out=."""
    return _with_out_parameter(accepts_out(fn), fn)


def complex_out(fn, name):
    """fn's out= for linalg.eig / eigvals: any complex out takes the result (a narrower one too,
    as in PyTorch); a real one is refused with PyTorch's message."""
    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)

        def checked(*a, **k):
            result = fn(*a, **k)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            results = result if isinstance(result, tuple) else (result,)
            for what, o, r in zip(('eigenvalues', 'eigenvectors'), outs, results):
                if isinstance(o, Tensor) and o._data.dtype.kind != 'c':
                    raise RuntimeError(f'{name}: Expected {what} to be safely castable from '
                                       f'{_type_word(r._data.dtype)} dtype, but got {what} with '
                                       f'dtype {_type_word(o._data.dtype)}')
            return result
        checked.__name__ = fn.__name__
        return accepts_out(checked)(*args, out=out, **kwargs)
    return wrapper
