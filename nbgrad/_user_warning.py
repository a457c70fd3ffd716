"""warn_at_caller: a warning attributed to the user's line, as PyTorch's C++ warnings are.

An op's warning issued with a fixed stacklevel points at whichever nbgrad frame happens to be
that many levels up (dispatch depth varies by op), and Python then shows it once per process
for that nbgrad line, not once per line of the user's code."""
import sys
import warnings

_warned = set()      # the messages warn_once_at_caller has given


def warn_at_caller(message, category=UserWarning):
    _warn_past_nbgrad(sys._getframe(2), message, category)


def warn_once_at_caller(message, category=UserWarning):
    """warn_at_caller, the first time only in this process (PyTorch's TORCH_WARN_ONCE)."""
    if message not in _warned:
        _warned.add(message)
        _warn_past_nbgrad(sys._getframe(2), message, category)


def _warn_past_nbgrad(frame, message, category):
    """warnings.warn at the first frame outside nbgrad, from `frame` (two calls above this
    one: the caller of warn_at_caller) outwards."""
    level = 3
    while frame is not None and frame.f_globals.get('__name__', '').partition('.')[0] == 'nbgrad':
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
