"""PyTorch's torch.nn.utils.stateless.functional_call: call a module with some of its parameters
and buffers replaced by given tensors, for this one call (deprecated in PyTorch for
torch.func.functional_call, which takes the same arguments)."""
import contextlib
import warnings

import nbgrad
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ['functional_call']

_MISSING = object()  # "no such attribute": what a swap puts back for a name the module lacked


def _swap_tensor(module, name, tensor):
    """Put `tensor` at module.<name> (_MISSING: remove it) and return what was there."""
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f'{tensor} is not an instance of torch.Tensor')
    if name == '':
        raise KeyError('tensor name can\'t be empty string ""')
    for registry in (module._parameters, module._buffers):
        if name in registry:
            original = registry[name]
            if tensor is _MISSING:
                del registry[name]
            else:
                registry[name] = tensor  # as is: a plain tensor may stand in for a Parameter
            return original
    original = getattr(module, name) if hasattr(module, name) else _MISSING
    if original is not _MISSING and original is not None and not isinstance(original, Tensor):
        raise TypeError(f'attribute `{name}`: {original} is not an instance of torch.Tensor')
    if tensor is not _MISSING:
        setattr(module, name, tensor)  # a parametrized name goes through its right_inverse
    elif hasattr(module, name):
        delattr(module, name)
    return original


class _NamedMemberAccessor:
    """Swaps tensors at dotted paths ('layer1.conv.weight'), remembering the submodules found."""

    def __init__(self, module):
        self.module = module
        self.memo = {}

    def get_submodule(self, name):
        if not name:
            return self.module
        if name not in self.memo:
            prefix, _, attr = name.rpartition('.')
            parent = self.get_submodule(prefix)
            try:
                submodule = getattr(parent, attr)
            except AttributeError as e:
                raise AttributeError(f'{parent._get_name()} has no attribute `{attr}`') from e
            if not isinstance(submodule, Module):
                raise TypeError(f'submodule `{name}`: {submodule} is not an instance of '
                                'torch.nn.Module')
            self.memo[name] = submodule
        return self.memo[name]

    def swap_tensor(self, name, value):
        prefix, _, attr = name.rpartition('.')
        return _swap_tensor(self.get_submodule(prefix), attr, value)

    def swap_tensors_dict(self, named_tensors):
        """Swap them all, or (when one fails) none; returns what was there."""
        originals = {}
        try:
            for name, tensor in named_tensors.items():
                originals[name] = self.swap_tensor(name, tensor)
        except Exception:
            for name, original in originals.items():
                self.swap_tensor(name, original)
            raise
        return originals

    def check_keys(self, keys):
        keys = set(keys)
        valid = {name for name, _ in self.module.named_parameters(remove_duplicate=False)} | \
            {name for name, _ in self.module.named_buffers(remove_duplicate=False)}
        return sorted(valid - keys), sorted(keys - valid)


def _untie_named_tensors_map(module, parameters_and_buffers):
    """parameters_and_buffers plus, for each given name of a tied tensor (one tensor under
    several names), the same value under its other names. Different values given for one tied
    tensor are an error."""
    names_of = {}  # id(tensor) -> its names
    for name, tensor in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names_of.setdefault(id(tensor), set()).add(name)
    tied_names = {name: names for names in names_of.values() if len(names) > 1
                  for name in names}
    given_tied = {name for name in parameters_and_buffers if name in tied_names}
    for name in given_tied:
        given_for_tensor = tied_names[name] & given_tied
        if len({id(parameters_and_buffers[n]) for n in given_for_tensor}) != 1:
            raise ValueError(f'functional_call got multiple values for keys '
                             f'{sorted(tied_names[name])}, which are tied. Consider using '
                             'tie_weights=False')
    untied = dict(parameters_and_buffers)
    for name in given_tied:
        for tied_name in tied_names[name]:
            untied[tied_name] = parameters_and_buffers[name]
    return untied


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False):
    untied = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights else \
        parameters_and_buffers
    accessor = _NamedMemberAccessor(module)
    if strict:
        missing, unexpected = accessor.check_keys(untied)
        errors = []
        if unexpected:
            errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errors:
            raise RuntimeError('Error(s) in reparametrizing for {}:\n\t{}'.format(
                module._get_name(), '\n\t'.join(errors)))
    originals = {}
    try:
        originals = accessor.swap_tensors_dict(untied)
        yield
    finally:
        # what the call left there (after in-place updates or reassignment) goes back to the
        # caller's dict
        used = accessor.swap_tensors_dict(originals)
        parameters_and_buffers.update({k: used[k] for k in parameters_and_buffers if k in used})


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with parameters_and_buffers ({dotted name: tensor}) in place of
    the module's own for this call. tie_weights: a value given for one name of a tied tensor
    is used for all its names. strict: the names must be exactly the module's."""
    warnings.warn('`nbgrad.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 '
                  'and will be removed in a future version of PyTorch. Please use '
                  '`torch.func.functional_call` instead which is a drop-in replacement.',
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                     tie_weights=True, strict=False):
    data_parallel = getattr(nbgrad.nn, 'DataParallel', ())
    if isinstance(module, data_parallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    kwargs = {} if kwargs is None else kwargs
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)
