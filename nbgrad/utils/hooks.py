"""nbgrad.utils.hooks: PyTorch's torch.utils.hooks. RemovableHandle is the handle every
register_*hook returns (nbgrad.autograd.graph); unserializable_hook marks a tensor hook as one
that is not meant to be saved, which silences warn_if_has_hooks."""
import warnings

from ..autograd.graph import RemovableHandle

__all__ = ['RemovableHandle', 'unserializable_hook', 'warn_if_has_hooks']


def unserializable_hook(f):
    """Mark a function as an unserializable hook (no warning when its tensor is saved)."""
    f.__torch_unserializable__ = True
    return f


def _tensor_hooks(tensor):
    """The backward hooks registered on tensor: a leaf keeps them, a non-leaf's grad_fn does."""
    fn = tensor.grad_fn
    if fn is None:
        return dict(tensor._hooks or {})
    return dict((fn._tensor_hooks or {}).get(tensor._output_nr, {}))


def warn_if_has_hooks(tensor):
    """Warn for each backward hook on tensor that is not marked unserializable_hook."""
    for hook in _tensor_hooks(tensor).values():
        if not hasattr(hook, '__torch_unserializable__'):
            warnings.warn(f'backward hook {hook!r} on tensor will not be serialized.  If this is '
                          'expected, you can decorate the function with '
                          '@torch.utils.hooks.unserializable_hook to suppress this warning',
                          stacklevel=2)
