"""nbgrad.autograd: reverse-mode automatic differentiation over the dynamic (define-by-run) graph.

Every op run in grad mode on a tensor that requires grad records a node (graph.py); backward() and
grad() walk those nodes from the outputs back to the inputs.
"""
from . import graph, grad_mode
from .api import backward, grad
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, set_multithreading_enabled)
from .function import Function, FunctionCtx, once_differentiable, NestedIOFunction
from .anomaly_mode import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled,
                           is_anomaly_check_nan_enabled)
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import functional
from .graph_export import export_graph
from .variable import Variable
from . import profiler  # noqa: F401  (torch.autograd.profiler)
from . import forward_ad  # noqa: F401  (torch.autograd.forward_ad)


def is_tensor_like(inp):
    """torch.autograd.is_tensor_like (torch.overrides'): a Tensor, or an object whose type
    defines __torch_function__."""
    from ..overrides import is_tensor_like as check
    return check(inp)

__all__ = ['backward', 'grad', 'Function', 'no_grad', 'enable_grad', 'set_grad_enabled',
           'inference_mode', 'detect_anomaly', 'set_detect_anomaly', 'gradcheck', 'gradgradcheck',
           'functional', 'graph', 'Variable', 'export_graph', 'forward_ad']
