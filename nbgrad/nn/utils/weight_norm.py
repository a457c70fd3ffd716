"""PyTorch's deprecated hook-based weight normalization (torch.nn.utils.weight_norm): `weight`
becomes weight_g * weight_v / ||weight_v||, recomputed by a forward pre-hook from the parameters
weight_g and weight_v. nn.utils.parametrizations.weight_norm is the modern form.

Also holds torch.norm_except_dim and torch._weight_norm, which both forms use.
"""
import warnings

from ..._tensor import _wrap_dim
from ..parameter import Parameter

__all__ = ['WeightNorm', 'weight_norm', 'remove_weight_norm']


def _norm_except_dim(v, pow=2, dim=0):
    """torch.norm_except_dim: the pow-norm over every dim but `dim`, kept with size 1 (so it
    broadcasts against v). dim=-1 means the norm of the whole tensor, not the last dim."""
    if dim == -1:
        return v.norm(pow)
    dim = _wrap_dim(dim, v.dim())
    kept = [1] * v.dim()
    kept[dim] = v.size(dim)
    if dim == 0:
        return v.reshape(v.size(0), -1).norm(pow, 1).view(kept)
    if dim == v.dim() - 1:
        return v.reshape(-1, v.size(-1)).norm(pow, 0).view(kept)
    return _norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _weight_norm(v, g, dim=0):
    """torch._weight_norm: v scaled to the norm g along `dim` (see _norm_except_dim)."""
    return v * (g / _norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes module.<name> from <name>_g and <name>_v."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + '_v'), getattr(module, self.name + '_g'),
                            self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn('`nbgrad.nn.utils.weight_norm` is deprecated in favor of '
                      '`nbgrad.nn.utils.parametrizations.weight_norm`.', FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f'Cannot register two weight_norm hooks on the same '
                                   f'parameter {name}')
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + '_g', Parameter(_norm_except_dim(weight, 2,
                                                                          fn.dim).data))
        module.register_parameter(name + '_v', Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + '_g']
        del module._parameters[self.name + '_v']
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name='weight', dim=0):
    """Replace module.<name> by <name>_g * <name>_v / ||<name>_v|| (norms over every dim but
    `dim`; dim=None: over the whole tensor), recomputed before each forward. Deprecated."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name='weight'):
    """Turn module.<name> back into one Parameter holding its current normalized value."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")

