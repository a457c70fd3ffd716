"""torch._logging.set_logs: the compiler's log switches. nbgrad compiles nothing, so there is
nothing to log; the call is accepted so scripts that set it run."""

__all__ = ['set_logs']


def set_logs(**kwargs):
    """Accepts PyTorch's keywords (dynamo=logging.INFO, graph_breaks=True, recompiles=True...)."""
