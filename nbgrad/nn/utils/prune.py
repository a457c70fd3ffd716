"""Pruning (torch.nn.utils.prune): zeroing parts of a parameter through a mask.

Pruning parameter `name` of a module moves it to the parameter `name + '_orig'`, adds the buffer
`name + '_mask'`, and makes `name` a plain attribute holding orig * mask, recomputed before every
forward by the pruning method, which is a forward pre-hook of the module. Pruning the same
parameter again combines the methods in a PruningContainer: each new mask is computed on the
entries (or channels) the previous masks kept. remove() makes the pruning permanent (the
parameter `name` becomes orig * mask again, without hook or mask).

The methods are PyTorch's: L1 (smallest magnitudes), random (from the default generator, drawing
as PyTorch does, so seeded masks are PyTorch's), Ln structured (whole channels along a dim with
the smallest Ln norms), random structured, a custom mask, and global pruning over several
parameters at once. `amount` is a fraction of the entries (rounded) or a count.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

from ... import linalg
from ..._creation import ones_like, zeros_like
from ..._memory_format import contiguous_format
from ..._random_ops import rand, rand_like
from ...ops.sorting import kthvalue, topk
from .convert_parameters import parameters_to_vector

__all__ = ['BasePruningMethod', 'PruningContainer', 'Identity', 'RandomUnstructured',
           'L1Unstructured', 'RandomStructured', 'LnStructured', 'CustomFromMask', 'identity',
           'random_unstructured', 'l1_unstructured', 'random_structured', 'ln_structured',
           'global_unstructured', 'custom_from_mask', 'remove', 'is_pruned']


class BasePruningMethod(ABC):
    """A way of computing a mask; as a forward pre-hook it sets module.<name> = orig * mask."""
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for t, given the current mask (entries already pruned stay pruned)."""

    def apply_mask(self, module):
        """orig * mask for this method's parameter of module."""
        if self._tensor_name is None:
            raise AssertionError(f'Module {module} has to be pruned')
        mask = getattr(module, self._tensor_name + '_mask')
        orig = getattr(module, self._tensor_name + '_orig')
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune module.<name> with a new cls(*args, **kwargs), combined with earlier pruning of
        the same parameter; importance_scores (the parameter's shape) rank its entries instead
        of its own values."""
        method = _combined_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(f'importance_scores should have the same shape as '
                                     f'parameter {name} of {module}, got '
                                     f'{importance_scores.shape} vs {orig.shape}')
        else:
            importance_scores = orig
        first = not isinstance(method, PruningContainer)
        if first:
            order = list(module._parameters)
            module.register_parameter(name + '_orig', orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + '_mask').detach().clone(
                memory_format=contiguous_format)
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + '_mask', mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:   # leave the module as it was, its parameters in their order too
                params = module._parameters
                params[name] = params.pop(name + '_orig')
                moved = {key: params.pop(key) for key in order}
                params.update(moved)
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t with this method's mask applied (no module involved)."""
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError(f'importance_scores should have the same shape as tensor '
                                     f't, got {importance_scores.shape} vs {t.shape}')
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruning permanent: module.<name> is a parameter again, holding orig * mask."""
        if self._tensor_name is None:
            raise AssertionError(f'Module {module} has to be pruned before pruning can be '
                                 'removed')
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + '_orig']
        orig.data = weight.data
        del module._parameters[self._tensor_name + '_orig']
        del module._buffers[self._tensor_name + '_mask']
        setattr(module, self._tensor_name, orig)


def _combined_method(cls, module, name, *args, **kwargs):
    """The new method, or a PruningContainer holding the parameter's earlier method(s) and it
    (the earlier hook is taken off the module)."""
    earlier = [(key, hook) for key, hook in module._forward_pre_hooks.items()
               if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    if len(earlier) > 1:
        raise AssertionError(f'Avoid adding multiple pruning hooks to the same tensor {name} of '
                             f'module {module}. Use a PruningContainer.')
    for key, _ in earlier:
        del module._forward_pre_hooks[key]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if earlier:
        old = earlier[0][1]
        if isinstance(old, PruningContainer):
            old.add_pruning_method(method)
            return old
        container = PruningContainer(old)
        container.add_pruning_method(method)
        return container
    return method


class PruningContainer(BasePruningMethod):
    """A sequence of pruning methods of one parameter; its mask is the last method's, computed
    on what the earlier masks kept."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f'{type(method)} is not a BasePruningMethod subclass')
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f'Can only add pruning methods acting on the parameter named '
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        kind = method.PRUNING_TYPE
        if kind == 'unstructured':        # among the entries still kept
            kept = default_mask == 1
        elif kind == 'structured':        # among the channels along dim still kept
            if not hasattr(method, 'dim'):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have '
                                     'the attribute `dim` defined.')
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f'Index is out of bounds for tensor with dimensions {n_dims}')
            channels = default_mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            kept = tuple(channels if d == dim else slice(None) for d in range(n_dims))
        elif kind == 'global':
            kept = (slice(None),) * t.dim()
        else:
            raise ValueError(f'Unrecognized PRUNING_TYPE {kind}')
        mask[kept] = method.compute_mask(t[kept], default_mask=default_mask[kept]).to(
            dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones): gives a module the pruned layout."""
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Prunes the `amount` entries that rank first by `_ranking(t)`: the largest ranks when
    _largest, the smallest otherwise."""
    PRUNING_TYPE = 'unstructured'
    _largest = True

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def _ranking(self, t):
        raise NotImplementedError

    def compute_mask(self, t, default_mask):
        count = _count(self.amount, t.numel())
        mask = default_mask.clone(memory_format=contiguous_format)
        if count != 0:
            chosen = topk(self._ranking(t).view(-1), k=count, largest=self._largest)
            mask.view(-1)[chosen.indices] = 0
        return mask


class RandomUnstructured(_Unstructured):
    """Prunes `amount` entries chosen at random (a uniform draw per entry, the largest)."""

    def _ranking(self, t):
        return rand_like(t)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes the `amount` entries of smallest magnitude (of importance_scores if given)."""
    _largest = False

    def _ranking(self, t):
        return t.abs()

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes `amount` whole channels along `dim`, chosen at random."""
    PRUNING_TYPE = 'structured'

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _check_structured(t, self.dim)
        channels = t.shape[self.dim]
        count = _count(self.amount, channels)
        if count == 0:
            return default_mask
        draws = rand(channels)
        kept = draws > kthvalue(draws, k=count).values
        mask = _channel_mask(t, self.dim, kept)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


def _torch_norm(t, n, dims):
    """torch.norm(t, p=n, dim=dims), which PyTorch's LnStructured ranks channels by: 'fro' over
    at most two dims is the 2-norm of the entries, another string ('nuc', or 'fro' over more
    dims) goes to matrix_norm, which wants exactly two dims, and a number to vector_norm."""
    if n == 'fro' and len(dims) <= 2:
        return linalg.vector_norm(t, 2, dims)
    if isinstance(n, str):
        return linalg.matrix_norm(t, n, dims)
    return linalg.vector_norm(t, n, dims)


class LnStructured(BasePruningMethod):
    """Prunes the `amount` channels along `dim` of smallest Ln norm (n as in linalg norms)."""
    PRUNING_TYPE = 'structured'

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _check_structured(t, self.dim)
        channels = t.shape[self.dim]
        count = _count(self.amount, channels)
        dim = self.dim + t.dim() if self.dim < 0 else self.dim
        norms = _torch_norm(t, self.n, [d for d in range(t.dim()) if d != dim])
        best = topk(norms, k=channels - count, largest=True)
        if count == 0:
            return default_mask
        mask = _channel_mask(t, self.dim, best.indices)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given mask is 0."""
    PRUNING_TYPE = 'global'

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f'default_mask shape {default_mask.shape} must match self.mask '
                                 f'shape {self.mask.shape}')
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) parameters together: `pruning_method` (an unstructured one)
    ranks all their entries at once, each parameter gets its part of the one mask."""
    if not isinstance(parameters, Iterable):
        raise TypeError('global_unstructured(): parameters is not an Iterable')
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError('global_unstructured(): importance_scores must be of type dict')
    parameters = list(parameters)
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name))
                                   for module, name in parameters])
    default_mask = parameters_to_vector([
        getattr(module, name + '_mask', ones_like(getattr(module, name)))
        for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = 'temp'
    method = pruning_method(**kwargs)
    method._tensor_name = 'temp'
    if method.PRUNING_TYPE != 'unstructured':
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f'Found method {pruning_method} of type {method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    final_mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        count = param.numel()
        custom_from_mask(module, name, mask=final_mask[start:start + count].view_as(param))
        start += count


def remove(module, name):
    """Make the pruning of module.<name> permanent (see BasePruningMethod.remove)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     'can be removed')


def is_pruned(module):
    """Whether module or one of its submodules has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod) for _, sub in module.named_modules()
               for hook in sub._forward_pre_hooks.values())


def _check_amount(amount):
    if not isinstance(amount, numbers.Real):
        raise TypeError(f'Invalid type for amount: {amount}. Must be int or float.')
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f'amount={amount} should either be a float in the range [0, 1] or a '
                         'non-negative integer')


def _count(amount, size):
    """How many of `size` entries (or channels) `amount` prunes."""
    count = amount if isinstance(amount, numbers.Integral) else round(amount * size)
    if isinstance(amount, numbers.Integral) and amount > size:
        raise ValueError(f'amount={amount} should be smaller than the number of parameters to '
                         f'prune={size}')
    return count


def _check_structured(t, dim):
    if len(t.shape) <= 1:
        raise ValueError(f'Structured pruning can only be applied to multidimensional tensors. '
                         f'Found tensor of shape {t.shape} with {len(t.shape)} dims')
    if dim >= t.dim():
        raise IndexError(f'Invalid index {dim} for tensor of size {t.shape}')


def _channel_mask(t, dim, channels):
    """Ones in the given channels (a boolean mask or indices) along dim, zeros elsewhere."""
    mask = zeros_like(t)
    mask[tuple(channels if d == (dim % t.dim()) else slice(None) for d in range(t.dim()))] = 1
    return mask
