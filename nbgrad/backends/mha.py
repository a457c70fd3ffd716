"""torch.backends.mha: whether PyTorch's inference fast paths for MultiheadAttention and
TransformerEncoder may run. nbgrad computes the same functions on every path; the switch
decides where PyTorch's fast path differs visibly (TransformerEncoder's nested tensors return
zeros at padded positions), so nbgrad follows it there."""

_is_fastpath_enabled = True


def get_fastpath_enabled():
    """Whether the fast paths are enabled (they run only when all their conditions hold)."""
    return _is_fastpath_enabled


def set_fastpath_enabled(value):
    global _is_fastpath_enabled
    _is_fastpath_enabled = value
