"""Argument checks shared by the functional forms (torch.optim.adam.adam, sgd.sgd...): they take
lists of parameters, gradients and state tensors, and run the optimizer classes' kernels on them
(_util.run_entries), so that a class and its functional form are one implementation."""
from .._tensor import Tensor


def refuse_grad_scaling(name, grad_scale, found_inf):
    """grad_scale/found_inf are the fused kernels' GradScaler inputs, which nbgrad does not take."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError(
            f'{name}(grad_scale=..., found_inf=...) is not supported by nbgrad (they are the '
            'inputs of fused kernels under a GradScaler). Unscale the gradients first and pass '
            'grad_scale=None, found_inf=None.')


def check_lists(name, params, **lists):
    """Every list as long as params."""
    for list_name, values in lists.items():
        if len(values) != len(params):
            raise ValueError(f'{name}: {list_name} has {len(values)} entries but params has '
                             f'{len(params)}: give one per parameter')


def check_state_steps(state_steps):
    """PyTorch's check: the step counters are tensors (the functional forms advance them)."""
    if not all(isinstance(t, Tensor) for t in state_steps):
        raise RuntimeError('API has changed, `state_steps` argument must contain a list of '
                           'singleton tensors')


def refuse_differentiable(name, differentiable):
    if differentiable:
        raise NotImplementedError(
            f'{name}(differentiable=True) is not supported by nbgrad: its kernels run on the raw '
            'arrays, outside autograd (the SGD, Adam and AdamW classes support '
            'differentiable=True). Pass differentiable=False.')


def refuse_capturable(name, capturable):
    if capturable:
        raise NotImplementedError(f'{name}(capturable=True) is not supported by nbgrad (it is '
                                  'for CUDA-graph capture); pass capturable=False')
