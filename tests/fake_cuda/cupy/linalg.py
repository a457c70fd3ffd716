"""Fake cupy.linalg: NumPy's linalg with device-array results (CuPy never returns host arrays)."""
import numpy as np

LinAlgError = np.linalg.LinAlgError


def _run(target, args, kwargs):
    from . import _wrap, _unwrap, _is_host_array, _check_devices, ndarray
    if any(_is_host_array(a) for a in args):
        # CuPy: _util._assert_cupy_array
        raise LinAlgError('cupy.linalg only supports cupy.ndarray')
    _check_devices(args)
    plain = [_unwrap(a) for a in args]
    kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
    try:
        return _wrap(target(*plain, **kwargs))
    except LinAlgError:
        import cupyx
        a = plain[0] if plain else None
        if cupyx._linalg_errors() == 'raise' or not isinstance(a, np.ndarray) or a.ndim < 2:
            raise
        # CuPy: cuSOLVER reports a failed factorization (singular, not positive-definite, no
        # convergence) only inside cupyx.errstate(linalg='raise'); otherwise the results are
        # garbage, which the fake makes NaN. Shapes come from a run on identity matrices (if
        # that fails too, the arguments were wrong: raise as CuPy does)
        eye = np.broadcast_to(np.eye(*a.shape[-2:], dtype=a.dtype), a.shape).copy()
        result = _wrap(target(eye, *plain[1:], **kwargs))
        for r in (result if isinstance(result, tuple) else (result,)):
            if isinstance(r, ndarray) and r.dtype.kind in 'fc':
                r[...] = np.nan
        return result


def solve(a, b):
    # CuPy: no batch broadcasting; b is (M,) or (..., M, K) with exactly a's batch shape (CuPy
    # 14.2 refuses a stack of vectors (..., M) under a batch of matrices)
    if a.ndim > 2 and b.ndim != a.ndim:
        raise ValueError('a must have (..., M, M) shape and b must have (..., M, K) for '
                         'multidimensional b')
    if not ((a.ndim == b.ndim or a.ndim == b.ndim + 1) and a.shape[:-1] == b.shape[:a.ndim - 1]):
        raise ValueError('a must have (..., M, M) shape and b must have (..., M) or (..., M, K)')
    if a.ndim == b.ndim + 1:
        return _run(lambda a, b: np.linalg.solve(a, b[..., None])[..., 0], (a, b), {})
    return _run(np.linalg.solve, (a, b), {})


def __getattr__(name):
    target = getattr(np.linalg, name)
    if not callable(target) or isinstance(target, type):
        return target

    def wrapper(*args, **kwargs):
        return _run(target, args, kwargs)
    wrapper.__name__ = name
    return wrapper
