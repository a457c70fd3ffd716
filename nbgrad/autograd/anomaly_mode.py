"""Anomaly detection: remember where each node was created in forward, and when backward produces
NaN/Inf gradients, raise naming the node and show the forward line that made it."""
from .. import _dispatch


def is_anomaly_enabled():
    return _dispatch._anomaly_enabled


class set_detect_anomaly:
    """set_detect_anomaly(mode): on immediately; as a context manager, restored on exit."""

    def __init__(self, mode, check_nan=True):
        self._previous = _dispatch._anomaly_enabled
        _dispatch._anomaly_enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _dispatch._anomaly_enabled = self._previous
        return False


class detect_anomaly:
    """Context manager / decorator enabling anomaly detection (slow: for debugging)."""

    def __init__(self, check_nan=True):
        import warnings
        warnings.warn('Anomaly Detection has been enabled. This mode will increase the runtime and '
                      'should only be enabled for debugging.', UserWarning, stacklevel=2)

    def __enter__(self):
        self._previous = _dispatch._anomaly_enabled
        _dispatch._anomaly_enabled = True
        return self

    def __exit__(self, *exc):
        _dispatch._anomaly_enabled = self._previous
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper
