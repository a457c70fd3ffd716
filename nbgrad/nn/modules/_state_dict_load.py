"""Module.load_state_dict and the base Module._load_from_state_dict, as PyTorch runs them, plus
one thing PyTorch does not do: a load that raises is undone.

PyTorch walks the module tree: each module runs its load pre-hooks and copies its own entries
(_load_from_state_dict, which subclasses override), then its children load from the entries
under their prefix, then its post-hooks run (which may edit the missing/unexpected key lists in
place, so `strict` is judged after them). Errors are gathered on the way and raised at the end,
after the entries that matched were copied. nbgrad makes the same calls in the same order, and
logs how to restore everything it writes (a parameter's old values, a replaced object, the old
extra state), so when the load raises the model is as it was before the call.
"""
import warnings
import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter, is_lazy

_undo_logs = []   # one list of restore functions per load_state_dict in progress


def _on_failure(restore):
    """Remember how to undo one write of the load in progress (none: a direct call)."""
    if _undo_logs:
        _undo_logs[-1].append(restore)


def _torch_size(shape):
    return f'torch.Size({list(shape)})'


def load_own_entries(module, state_dict, prefix, local_metadata, strict, missing_keys,
                     unexpected_keys, error_msgs):
    """The base Module._load_from_state_dict: this module's parameters, persistent buffers and
    extra state from state_dict, and its unexpected keys."""
    for hook in module._load_state_dict_pre_hooks.values():
        hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
             error_msgs)
    persistent = {k: v for k, v in module._buffers.items()
                  if k not in module._non_persistent_buffers_set}
    local_state = {k: v for k, v in itertools.chain(module._parameters.items(),
                                                     persistent.items()) if v is not None}
    assign = local_metadata.get('assign_to_params_buffers', False)
    for name, current in local_state.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing_keys.append(key)
            continue
        value = state_dict[key]
        if not isinstance(value, Tensor):
            advice = ''
            if type(value).__module__.split('.')[0] == 'torch':     # a real PyTorch tensor
                advice = (' (a PyTorch tensor: nbgrad modules take nbgrad tensors; save the '
                          'state_dict with torch.save and read it with nbgrad.load, or convert '
                          'each tensor with nbgrad.from_numpy(t.numpy()))')
            error_msgs.append(f'While copying the parameter named "{key}", expected '
                              'torch.Tensor or Tensor-like object from checkpoint but '
                              f'received {type(value)}{advice}')
            continue
        lazy = is_lazy(current)
        if not lazy and current.dim() == 0 and value.dim() == 1:
            value = value[0]      # PyTorch's rule for checkpoints of 0.3, which had no 0-dim
        if not lazy and value.shape != current.shape:
            error_msgs.append(f'size mismatch for {key}: copying a param with shape '
                              f'{_torch_size(value.shape)} from checkpoint, the shape in '
                              f'current model is {_torch_size(current.shape)}.')
            continue
        try:
            _write(module, name, current, value, assign, key)
        except Exception as ex:  # noqa: BLE001 (PyTorch reports any failure of the copy)
            error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in '
                              f'the model are {_torch_size(current.shape)} and whose '
                              f'dimensions in the checkpoint are {_torch_size(value.shape)}, '
                              f'an exception occurred : {ex.args}.')
    extra_key = prefix + '_extra_state'
    # (PyTorch loads extra state where set_extra_state is overridden, and saves it where
    # get_extra_state is: a module may have one without the other)
    from .module import Module
    if type(module).set_extra_state is not Module.set_extra_state:
        if extra_key in state_dict:
            if module._has_extra_state():      # (kept to undo the load if a later key fails)
                old = module.get_extra_state()
                _on_failure(lambda: module.set_extra_state(old))
            module.set_extra_state(state_dict[extra_key])
        elif strict:
            missing_keys.append(extra_key)
    elif strict and extra_key in state_dict:
        unexpected_keys.append(extra_key)
    if strict:
        for key in state_dict:
            if key.startswith(prefix) and key != extra_key:
                head, *rest = key[len(prefix):].split('.', 1)
                if head not in (module._modules if rest else local_state):
                    unexpected_keys.append(key)


def _write(module, name, current, value, assign, key):
    """Load value into the parameter or buffer `name` (current): assign the object, or copy
    into it; log the undo."""
    if assign:
        if isinstance(current, Parameter):
            if isinstance(value, Parameter):
                value.requires_grad_(current.requires_grad)
            else:
                value = Parameter(value, requires_grad=current.requires_grad)
        setattr(module, name, value)
        _on_failure(lambda: setattr(module, name, current))
        return
    if is_lazy(current):
        old_class, old_state = current.__class__, dict(current.__dict__)

        def restore():
            current.__dict__.clear()
            current.__dict__.update(old_state)
            current.__class__ = old_class
        with no_grad():
            current.materialize(value.shape)
            _on_failure(restore)
            current.copy_(value)
        return
    if current.is_meta and not value.is_meta:
        # (PyTorch's: nothing can be copied into a meta tensor)
        warnings.warn(f'for {key}: copying from a non-meta parameter in the checkpoint to a '
                      f'meta parameter in the current model, which is a no-op. (Did you mean '
                      f'to pass `assign=True` to assign items in the state dictionary to their '
                      f'corresponding key in the module instead of copying them in place?)',
                      UserWarning, stacklevel=4)
        return
    saved = current._data.copy()
    with no_grad():
        current.copy_(value)

    def restore():
        current._data[...] = saved
    _on_failure(restore)


def load_state_dict(root, state_dict, strict, assign):
    """Module.load_state_dict (see the module docstring)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f'Expected state_dict to be dict-like, got {type(state_dict)}.')
    missing, unexpected, errors = [], [], []
    metadata = getattr(state_dict, '_metadata', None)
    state_dict = OrderedDict(state_dict)
    if metadata is not None:
        state_dict._metadata = metadata

    def load(module, local_state_dict, prefix=''):
        local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
        if assign:
            local_metadata['assign_to_params_buffers'] = assign
        module._load_from_state_dict(local_state_dict, prefix, local_metadata, True, missing,
                                     unexpected, errors)
        for name, child in module._modules.items():
            if child is not None:
                child_prefix = prefix + name + '.'
                load(child, {k: v for k, v in local_state_dict.items()
                             if k.startswith(child_prefix)}, child_prefix)
        keys = _IncompatibleKeys(missing, unexpected)
        for hook in module._load_state_dict_post_hooks.values():
            out = hook(module, keys)
            assert out is None, (
                'Hooks registered with ``register_load_state_dict_post_hook`` are not expected '
                'to return new values, if incompatible_keys need to be modified, it should be '
                'done inplace.')

    undo = []
    _undo_logs.append(undo)
    try:
        load(root, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, 'Unexpected key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, 'Missing key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError('Error(s) in loading state_dict for {}:\n\t{}'.format(
                root._get_name(), '\n\t'.join(errors)))
    except BaseException:
        for restore in reversed(undo):
            restore()
        raise
    finally:
        _undo_logs.pop()
    return _IncompatibleKeys(missing, unexpected)


class _IncompatibleKeys(namedtuple('IncompatibleKeys', ['missing_keys', 'unexpected_keys'])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return '<All keys matched successfully>'
        return super().__repr__()

    __str__ = __repr__
