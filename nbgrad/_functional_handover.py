"""How nn.functional's functions hand their arguments to __torch_function__ and modes.

PyTorch's nn.functional functions written in Python (the names below, read from its
functional.py) call handle_torch_function with their parameters bound: those without a default
positionally, every other one by keyword with its value, given or default, in signature order.
So a TorchFunctionMode, a tensor subclass or fx sees F.relu(x) as relu(x, inplace=False), as
under PyTorch. Its functions written in C++ (linear, conv2d, gelu...) hand over what the caller
passed, as nbgrad's other functions do.
"""
import functools
import inspect

BOUND = frozenset((
    'adaptive_avg_pool2d', 'adaptive_avg_pool3d', 'adaptive_max_pool1d',
    'adaptive_max_pool1d_with_indices', 'adaptive_max_pool2d',
    'adaptive_max_pool2d_with_indices', 'adaptive_max_pool3d',
    'adaptive_max_pool3d_with_indices', 'affine_grid', 'alpha_dropout', 'batch_norm',
    'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'celu', 'cosine_embedding_loss',
    'cross_entropy', 'ctc_loss', 'dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'elu',
    'embedding', 'embedding_bag', 'feature_alpha_dropout', 'fold', 'fractional_max_pool2d',
    'fractional_max_pool2d_with_indices', 'fractional_max_pool3d',
    'fractional_max_pool3d_with_indices', 'gaussian_nll_loss', 'glu', 'grid_sample',
    'group_norm', 'gumbel_softmax', 'hardsigmoid', 'hardswish', 'hardtanh',
    'hinge_embedding_loss', 'huber_loss', 'instance_norm', 'interpolate', 'kl_div', 'l1_loss',
    'layer_norm', 'leaky_relu', 'linear_cross_entropy', 'local_response_norm', 'log_softmax',
    'lp_pool1d', 'lp_pool2d', 'lp_pool3d', 'margin_ranking_loss', 'max_pool1d',
    'max_pool1d_with_indices', 'max_pool2d', 'max_pool2d_with_indices', 'max_pool3d',
    'max_pool3d_with_indices', 'max_unpool1d', 'max_unpool2d', 'max_unpool3d', 'mish',
    'mse_loss', 'multi_margin_loss', 'multilabel_margin_loss', 'multilabel_soft_margin_loss',
    'nll_loss', 'normalize', 'pad', 'poisson_nll_loss', 'relu', 'relu6', 'rms_norm', 'rrelu',
    'selu', 'silu', 'smooth_l1_loss', 'soft_margin_loss', 'softmax', 'softmin', 'softsign',
    'tanhshrink', 'threshold', 'triplet_margin_loss', 'triplet_margin_with_distance_loss',
    'unfold'))
# parameters PyTorch's function leaves out of what it hands over
_LEFT_OUT = {'l1_loss': ('weight',)}


def handover_for(name, func):
    """The argument binder for nn.functional's `name`, or None where PyTorch's hands over the
    call as made."""
    if name not in BOUND:
        return None
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    kinds = {p.kind for p in signature.parameters.values()}
    if inspect.Parameter.VAR_POSITIONAL in kinds or inspect.Parameter.VAR_KEYWORD in kinds:
        return None
    return functools.partial(_bound, signature, _LEFT_OUT.get(name, ()))


def _bound(signature, left_out, args, kwargs):
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return args, kwargs     # (the call itself raises PyTorch's error)
    bound.apply_defaults()
    positional, keywords = [], {}
    for parameter in signature.parameters.values():
        if parameter.name in left_out:
            continue
        value = bound.arguments[parameter.name]
        if parameter.default is inspect.Parameter.empty and \
                parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            positional.append(value)
        else:
            keywords[parameter.name] = value
    return tuple(positional), keywords
