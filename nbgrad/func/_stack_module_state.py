"""torch.func.stack_module_state: the parameters and buffers of several models of one class,
stacked along a new first dim, for vmap over an ensemble with functional_call."""


def stack_module_state(models):
    """(params, buffers): dicts of name -> the models' tensors stacked (a new leaf that requires
    grad where the models' parameters do), as PyTorch's."""
    models = list(models)
    if not models:
        raise RuntimeError('stack_module_state: Expected at least one model, got 0.')
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError('stack_module_state: Expected all models to have the same '
                           'training/eval mode.')
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError('stack_module_state: Expected all models to be of the same class.')
    params = [dict(m.named_parameters()) for m in models]
    buffers = [dict(m.named_buffers()) for m in models]
    return ({name: _stacked_leaf([p[name] for p in params], name) for name in params[0]},
            {name: _stacked_leaf([b[name] for b in buffers], name) for name in buffers[0]})


def _stacked_leaf(tensors, name):
    from .._tensor import Tensor
    from ..ops.shape import stack
    flags = {t.requires_grad for t in tensors}
    if len(flags) > 1:
        raise RuntimeError(f'Expected {name} from each model to have the same .requires_grad')
    result = stack(tensors)
    return result.detach().requires_grad_() if flags == {True} else \
        Tensor._make(result._data)
