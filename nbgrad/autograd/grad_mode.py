"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator, as in PyTorch. The flag itself lives in
nbgrad._dispatch, where every op reads it. It is process-wide (PyTorch's is per thread).
"""
import functools
import inspect

from .. import _dispatch


def is_grad_enabled():
    return _dispatch._grad_enabled


class _GradModeContext:
    """Base: subclasses set `_target` (the mode to enter); usable as `with` or as a decorator."""
    _target = None

    def __enter__(self):
        self._previous = _dispatch._grad_enabled
        _dispatch._grad_enabled = self._target
        return self

    def __exit__(self, *exc):
        _dispatch._grad_enabled = self._previous
        return False

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError('grad mode decorators apply to functions, not classes')
        make = type(self)._clone_args(self)

        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with make():
                    value = next(gen)
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        gen.close()
                        raise
                    with make():
                        value = gen.send(sent)
            return generator

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with make():
                return fn(*args, **kwargs)
        return wrapper

    @staticmethod
    def _clone_args(self):
        return type(self)


class no_grad(_GradModeContext):
    """Ops inside run without recording a graph (for evaluation and manual weight updates)."""
    _target = False

    def __new__(cls, orig_func=None):
        instance = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            return instance(orig_func)  # bare @no_grad without parentheses
        return instance

    def __init__(self, orig_func=None):
        pass


class enable_grad(_GradModeContext):
    """Turn graph recording back on inside a no_grad block."""
    _target = True

    def __new__(cls, orig_func=None):
        instance = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            return instance(orig_func)
        return instance

    def __init__(self, orig_func=None):
        pass


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(mode): takes effect immediately (like PyTorch), and as a context manager
    restores the previous mode on exit."""

    def __init__(self, mode):
        self._target = bool(mode)
        self._previous = _dispatch._grad_enabled
        _dispatch._grad_enabled = self._target

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _dispatch._grad_enabled = self._previous
        return False

    @staticmethod
    def _clone_args(self):
        mode = self._target
        _dispatch._grad_enabled = self._previous  # decorating must not change the mode now
        return lambda: set_grad_enabled(mode)

    def clone(self):
        return set_grad_enabled(self._target)


class inference_mode(_GradModeContext):
    """Like no_grad (nbgrad does not distinguish inference tensors; see README decisions)."""

    def __new__(cls, mode=True):
        instance = super().__new__(cls)
        if callable(mode):
            instance._target = False
            return instance(mode)
        return instance

    def __init__(self, mode=True):
        if callable(mode):
            mode = True
        self._mode = bool(mode)
        self._target = not self._mode if self._mode else _dispatch._grad_enabled

    def __enter__(self):
        global _inference_depth
        self._previous = _dispatch._grad_enabled
        if self._mode:
            _dispatch._grad_enabled = False
            _inference_depth += 1
        return self

    def __exit__(self, *exc):
        global _inference_depth
        _dispatch._grad_enabled = self._previous
        if self._mode:
            _inference_depth -= 1
        return False

    @staticmethod
    def _clone_args(self):
        mode = self._mode
        return lambda: inference_mode(mode)


_inference_depth = 0


def is_inference_mode_enabled():
    return _inference_depth > 0
