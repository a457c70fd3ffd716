"""Calls the profiler records as one op of PyTorch's name although they do not go through the
dispatcher as one: factory functions (torch.zeros, randn...: 'aten::zeros', 'aten::randn'),
which build their tensor directly, and the functions nbgrad composes from several ops
(torch.addmm: 'aten::addmm', its mm and add nested in it; see _node_names.presents_as). A jit
trace follows them too: a tensor a factory made is a constant of the trace that each replay
starts afresh. With no observer, a call costs one check of the dispatcher's observers."""
import functools
import inspect

from . import _dispatch


def call_observers():
    """The dispatcher's observers that follow such calls (the profiler's recorder, jit's
    tracer: they have composite_started / composite_finished)."""
    return [observer for observer in _dispatch._observers
            if hasattr(observer, 'composite_started')]


def profiled_call(aten_name):
    """Decorator: under the profiler, the call is an op named aten_name (its output's memory
    counted where no op inside it allocated it); a jit trace learns the tensors it made."""
    def decorate(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            observers = call_observers() if _dispatch._observers else None
            if not observers:
                return fn(*args, **kwargs)
            tokens = [observer.composite_started(aten_name, args) for observer in observers]
            out = None
            try:
                out = fn(*args, **kwargs)
                return out
            finally:
                for observer, token in zip(observers, tokens):
                    observer.composite_finished(token, out)
        try:    # (the function's own parameters, out= included, not the wrapper's *args)
            call.__signature__ = inspect.signature(fn)
        except (TypeError, ValueError):
            pass
        return call
    return decorate
