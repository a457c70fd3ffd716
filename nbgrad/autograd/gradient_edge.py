"""torch.autograd.graph.GradientEdge and get_gradient_edge: a place in the backward graph where a
gradient arrives, (node, output_nr), named without the tensor that flows there.

autograd.grad(loss, get_gradient_edge(t)) equals autograd.grad(loss, t): the engine maps every
tensor in `inputs` to such an edge anyway (graph._root_edge), and accepts the edge itself. An edge
keeps pointing at the node it was taken from, so after `t.mul_(2)` it still names the gradient
of t's value before the in-place op.
"""
from typing import NamedTuple, Optional


class GradientEdge(NamedTuple):
    """A gradient edge of the autograd graph: `node` receives the gradient of its output number
    `output_nr`. Get one with get_gradient_edge(tensor)."""
    node: 'object'      # an autograd.graph.Node
    output_nr: int
    # PyTorch's token that keeps a Python-defined graph alive; nbgrad's nodes are Python objects
    # that the edge itself keeps alive, so it stays None
    ownership_token: Optional['object'] = None


GradientEdge.__module__ = 'nbgrad.autograd.graph'   # (where PyTorch's lives and users import it)


def get_gradient_edge(tensor):
    """The edge where `tensor`'s gradient is computed: its grad_fn (or, for a leaf, its
    AccumulateGrad node) and its output number."""
    if not tensor.requires_grad:
        raise RuntimeError('It is not possible to get the gradient edge for a Tensor that does '
                           'not require gradients')
    node = tensor.grad_fn
    if node is None:
        from .._grad_fn_class import presented
        node = presented(tensor._grad_accumulator())
    return GradientEdge(node, tensor.output_nr)
