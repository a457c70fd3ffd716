"""Calls the profiler records as one op of PyTorch's name although they do not go through the
dispatcher as one: factory functions (torch.zeros, randn...: 'aten::zeros', 'aten::randn'),
which build their tensor directly, and the functions nbgrad composes from several ops
(torch.addmm: 'aten::addmm', its mm and add nested in it; see _node_names.presents_as). With no
profiler recording, a call costs one check of the dispatcher's observers."""
import functools
import inspect

from . import _dispatch


def recording_profiler():
    """The profiler's recorder when one records (it observes the dispatcher), else None."""
    for observer in _dispatch._observers if _dispatch._observers else ():
        if hasattr(observer, 'composite_started'):
            return observer
    return None


def profiled_call(aten_name):
    """Decorator: under the profiler, the call is an op named aten_name (its output's memory
    counted where no op inside it allocated it)."""
    def decorate(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            recorder = recording_profiler() if _dispatch._observers else None
            if recorder is None:
                return fn(*args, **kwargs)
            token = recorder.composite_started(aten_name, args)
            out = None
            try:
                out = fn(*args, **kwargs)
                return out
            finally:
                recorder.composite_finished(token, out)
        try:    # (its own parameters, out= included, not the wrapper's *args)
            call.__signature__ = inspect.signature(fn, follow_wrapped=False)
        except (TypeError, ValueError):
            pass
        return call
    return decorate
