"""PyTorch's hook-based spectral normalization (torch.nn.utils.spectral_norm): the parameter
<name>_orig, the buffers <name>_u and <name>_v, and a forward pre-hook that sets module.<name> to
<name>_orig / sigma, sigma estimated by power iteration in training mode.
nn.utils.parametrizations.spectral_norm is the modern form.

One deviation: remove_spectral_norm also removes the load_state_dict pre-hook. PyTorch looks for
it under the wrong type and leaves it, so a module loses the ability to load its own
state_dict after remove_spectral_norm there.
"""
import nbgrad
from .. import functional as F
from ..parameter import Parameter

__all__ = ['SpectralNorm', 'SpectralNormLoadStateDictPreHook', 'SpectralNormStateDictHook',
           'spectral_norm', 'remove_spectral_norm']


class SpectralNorm:
    """The forward pre-hook; also computes and removes the normalized weight."""
    # version 1: <name>_v is saved, so loading does not need to solve for it
    _version = 1

    def __init__(self, name='weight', n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError('Expected n_power_iterations to be positive, but got '
                             f'n_power_iterations={n_power_iterations}')
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(self.dim,
                                            *[d for d in range(weight_mat.dim()) if d != self.dim])
        return weight_mat.reshape(weight_mat.size(0), -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + '_orig')
        u = getattr(module, self.name + '_u')
        v = getattr(module, self.name + '_v')
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with nbgrad.no_grad():
                for _ in range(self.n_power_iterations):
                    # in place, so the buffers' updates persist
                    v = F.normalize(nbgrad.mv(weight_mat.t(), u), dim=0, eps=self.eps, out=v)
                    u = F.normalize(nbgrad.mv(weight_mat, v), dim=0, eps=self.eps, out=u)
                # copies: backward must see the values used here, not later updates
                u = u.clone()
                v = v.clone()
        sigma = nbgrad.dot(u, nbgrad.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module):
        with nbgrad.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ('', '_u', '_v', '_orig'):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module,
                                                       do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat, u, target_sigma):
        """A v with u^T W v = target_sigma (for state_dicts of version 0, which lack v)."""
        v = nbgrad.linalg.multi_dot([weight_mat.t().mm(weight_mat).pinverse(), weight_mat.t(),
                                     u.unsqueeze(1)]).squeeze(1)
        return v.mul_(target_sigma / nbgrad.dot(u, nbgrad.mv(weight_mat, v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f'Cannot register two spectral_norm hooks on the same '
                                   f'parameter {name}')
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f'`SpectralNorm` cannot be applied as parameter `{name}` is None')
        with nbgrad.no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            # random starting vectors, drawn as PyTorch draws them; not power-iterated yet
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + '_orig', weight)
        # a plain attribute until the first forward (it must not be a parameter nor a buffer)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + '_u', u)
        module.register_buffer(fn.name + '_v', v)
        module.register_forward_pre_hook(fn)
        module._add_hook(module._state_dict_hooks, SpectralNormStateDictHook(fn))
        # PyTorch's _register_load_state_dict_pre_hook: a hook called without the module
        module._add_hook(module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Loads state_dicts saved before <name>_v was a buffer (version None or 0): v is solved
    for from the saved <name> and <name>_orig."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs):
        fn = self.fn
        version = local_metadata.get('spectral_norm', {}).get(fn.name + '.version', None)
        if version is not None and version >= 1:
            return
        weight_key = prefix + fn.name
        if version is None and all(weight_key + s in state_dict for s in ('_orig', '_u', '_v')) \
                and weight_key not in state_dict:
            return  # saved without metadata, but already in the current layout
        has_missing_keys = False
        for suffix in ('_orig', '', '_u'):
            key = weight_key + suffix
            if key not in state_dict:
                has_missing_keys = True
                if strict:
                    missing_keys.append(key)
        if has_missing_keys:
            return
        with nbgrad.no_grad():
            weight_orig = state_dict[weight_key + '_orig']
            weight = state_dict.pop(weight_key)
            sigma = (weight_orig / weight).mean()
            weight_mat = fn.reshape_weight_to_matrix(weight_orig)
            u = state_dict[weight_key + '_u']
            state_dict[weight_key + '_v'] = fn._solve_v_and_rescale(weight_mat, u, sigma)


class SpectralNormStateDictHook:
    """Records the layout version in the state_dict's metadata."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        versions = local_metadata.setdefault('spectral_norm', {})
        key = self.fn.name + '.version'
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


def spectral_norm(module, name='weight', n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.<name> by its largest singular value before each forward (see the module
    docstring). dim: the output dim (default 0, 1 for ConvTranspose)."""
    if dim is None:
        nn = nbgrad.nn
        dim = 1 if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d,
                                       nn.ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name='weight'):
    """Turn module.<name> back into one Parameter holding its current normalized value."""
    def key_of(registry, kind):
        return next((key for key, hook in registry.items() if isinstance(hook, kind) and
                     (hook if kind is SpectralNorm else hook.fn).name == name), None)

    key = key_of(module._forward_pre_hooks, SpectralNorm)
    if key is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    module._forward_pre_hooks[key].remove(module)
    del module._forward_pre_hooks[key]
    for registry, kind in ((module._state_dict_hooks, SpectralNormStateDictHook),
                           (module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook)):
        key = key_of(registry, kind)
        if key is not None:
            del registry[key]
    return module
