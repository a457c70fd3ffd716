"""warn_at_caller: a warning attributed to the user's line, as PyTorch's C++ warnings are.

An op's warning issued with a fixed stacklevel points at whichever nbgrad frame happens to be
that many levels up (dispatch depth varies by op), and Python then shows it once per process
for that nbgrad line, not once per line of the user's code."""
import sys
# the real warn, which counts every frame (nbgrad's modules see `warnings` through amp's view,
# which leaves autocast entry frames out of the count; this module counts frames itself)
from warnings import warn as _warn

_warned = set()      # the messages warn_once_at_caller has given
_always = [False]    # torch.set_warn_always: warn-once warnings are given every time


def set_warn_always(b, /):
    """torch.set_warn_always: True makes the warnings PyTorch gives once per process (TORCH_WARN_ONCE)
    appear every time."""
    _always[0] = bool(b)


def is_warn_always_enabled():
    return _always[0]


def warn_at_caller(message, category=UserWarning):
    _warn_past_nbgrad(message, category)


def warn_once_at_caller(message, category=UserWarning):
    """warn_at_caller, the first time only in this process (PyTorch's TORCH_WARN_ONCE), unless
    set_warn_always(True)."""
    if _always[0]:
        _warn_past_nbgrad(message, category)
    elif message not in _warned:
        _warned.add(message)
        _warn_past_nbgrad(message, category)


def _warn_past_nbgrad(message, category):
    """warn at the first frame outside nbgrad (stacklevel 1 is this function's own frame,
    counted from there outwards)."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get('__name__', '').partition('.')[0] == 'nbgrad':
        frame, level = frame.f_back, level + 1
    _warn(message, category, stacklevel=level)
