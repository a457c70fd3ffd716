"""Anomaly detection: remember where each node was created in forward, and when backward produces
NaN/Inf gradients, raise naming the node and show the forward line that made it."""
from .. import _dispatch


# whether anomaly mode raises on NaN gradients (check_nan); read by graph._anomaly_apply
_check_nan = [True]


def is_anomaly_enabled():
    return _dispatch._anomaly_enabled


def is_anomaly_check_nan_enabled():
    return _check_nan[0]


class set_detect_anomaly:
    """set_detect_anomaly(mode, check_nan=True): on immediately; as a context manager, restored
    on exit."""

    def __init__(self, mode, check_nan=True):
        self._previous = _dispatch._anomaly_enabled, _check_nan[0]
        _dispatch._anomaly_enabled = bool(mode)
        _check_nan[0] = bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _dispatch._anomaly_enabled, _check_nan[0] = self._previous
        return False


class detect_anomaly:
    """Context manager enabling anomaly detection (slow: for debugging). Not a decorator: as in
    PyTorch 2.13, @detect_anomaly() raises TypeError (the object is not callable)."""

    def __init__(self, check_nan=True):
        import warnings
        self.check_nan = check_nan
        warnings.warn('Anomaly Detection has been enabled. This mode will increase the runtime and '
                      'should only be enabled for debugging.', UserWarning, stacklevel=2)

    def __enter__(self):
        self._previous = _dispatch._anomaly_enabled, _check_nan[0]
        _dispatch._anomaly_enabled = True
        _check_nan[0] = bool(self.check_nan)
        return self

    def __exit__(self, *exc):
        _dispatch._anomaly_enabled, _check_nan[0] = self._previous
        return False
