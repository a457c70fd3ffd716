"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator (also of generator functions), as in PyTorch.
The flags live in nbgrad._tensor._modes, which every op reads. They are per thread, as
in PyTorch: a new thread starts with grad mode on.
"""
import functools
import inspect
import sys
import warnings

from .. import _tensor


def is_grad_enabled():
    return _modes.grad_enabled or _modes.grad_shadowed


def _set_grad_mode(enabled):
    """Grad mode on or off; turned on inside inference_mode it records nothing still."""
    shadowed = enabled and _modes.inference_depth > 0
    _modes.grad_enabled, _modes.grad_shadowed = enabled and not shadowed, shadowed


class _GradModeContext:
    """Subclasses implement __enter__/__exit__ and clone(); this adds the decorator behaviour."""

    def clone(self):
        return type(self)()

    def __call__(self, fn):
        if inspect.isclass(fn):
            # PyTorch's deprecated class decoration: constructing it runs in the mode
            warnings.warn('Decorating classes is deprecated and will be disabled in future '
                          'versions. You should only decorate functions or methods. To preserve '
                          'the current behavior of class decoration, you can directly decorate '
                          'the `__init__` method and nothing else.', FutureWarning, stacklevel=2)
            cls = fn
            fn = lambda *args, **kwargs: cls(*args, **kwargs)  # noqa: E731
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self.clone, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper


def _wrap_generator(make_context, fn):
    """Run each step of the generator inside the mode, passing send/throw/close through."""
    @functools.wraps(fn)
    def generator(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with make_context():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException:
                    with make_context():
                        response = gen.throw(*sys.exc_info()[1:2])
                else:
                    with make_context():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value
    return generator


class _SetMode(_GradModeContext):
    """Enter: set grad mode to `_target`; exit: restore what it was."""
    _target = None

    def __new__(cls, orig_func=None):
        instance = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            return instance(orig_func)  # used as a bare decorator: @no_grad
        return instance

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self._previous = (_modes.grad_enabled, _modes.grad_shadowed)
        _set_grad_mode(self._target)
        return self

    def __exit__(self, *exc):
        _modes.grad_enabled, _modes.grad_shadowed = self._previous
        return False


class no_grad(_SetMode):
    """Ops inside run without recording a graph (for evaluation and manual weight updates)."""
    _target = False


class enable_grad(_SetMode):
    """Turn graph recording back on inside a no_grad block."""
    _target = True


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(mode): takes effect immediately (as in PyTorch) and, used as a context
    manager, restores the previous mode on exit."""

    def __init__(self, mode):
        if mode.__class__ is not bool:
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self._mode = mode
        self._previous = (_modes.grad_enabled, _modes.grad_shadowed)
        _set_grad_mode(self._mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _modes.grad_enabled, _modes.grad_shadowed = self._previous
        return False

    def __call__(self, fn):
        # decorating must not change the mode now
        _modes.grad_enabled, _modes.grad_shadowed = self._previous
        return super().__call__(fn)

    def clone(self):
        return set_grad_enabled(self._mode)



class set_multithreading_enabled(_GradModeContext):
    """PyTorch's switch for its multithreaded backward (a thread per device). nbgrad's engine
    runs every backward on the calling thread, so the switch is recorded and changes nothing;
    it takes effect at once and, as a context manager, is put back on exit."""
    _enabled = True

    def __init__(self, mode):
        if mode.__class__ is not bool:
            raise TypeError(f"set_multithreading_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        self._mode, self._previous = mode, set_multithreading_enabled._enabled
        set_multithreading_enabled._enabled = mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        set_multithreading_enabled._enabled = self._previous
        return False

    def clone(self):
        return set_multithreading_enabled(self._mode)


_modes = _tensor._modes         # grad_enabled and inference_depth, per thread


class inference_mode(_GradModeContext):
    """inference_mode(True): no graph recording, and every tensor made inside is an inference
    tensor (is_inference()): outside the mode autograd refuses to save one for backward, to
    update one in place or to make one require grad, as PyTorch does (clone() gives a normal
    tensor). inference_mode(False) inside it turns grad mode back on."""

    def __new__(cls, mode=True):
        instance = super().__new__(cls)
        if callable(mode):  # used as a bare decorator: @inference_mode
            instance._mode = True
            return instance(mode)
        return instance

    def __init__(self, mode=True):
        self._mode = bool(mode)

    def __enter__(self):
        self._previous = (_modes.grad_enabled, _modes.inference_depth, _modes.grad_shadowed)
        _modes.grad_shadowed = False
        if self._mode:
            _modes.grad_enabled = False
            _modes.inference_depth += 1
        else:
            _modes.grad_enabled = True
            _modes.inference_depth = 0
        return self

    def __exit__(self, *exc):
        _modes.grad_enabled, _modes.inference_depth, _modes.grad_shadowed = self._previous
        return False

    def clone(self):
        return inference_mode(self._mode)


def is_inference_mode_enabled():
    return _modes.inference_depth > 0
