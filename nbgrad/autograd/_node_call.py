"""Calling a backward node directly, grad_fn(*grad_outputs), as PyTorch's C++ nodes allow: the
node's backward runs on the given gradients, under the caller's grad mode, and its input
gradients come back (one Tensor where the node has one input, else a tuple with None for inputs
that need none). Nothing else of a backward pass happens: no hooks run, saved tensors are kept,
gradients are not summed back to a broadcast input's shape (the engine does that). An
AccumulateGrad node adds the gradient into its leaf's .grad and returns ()."""
from .._tensor import Tensor


def call_node(node, grad_outputs, kwargs):
    from .function import BackwardCFunction
    from .graph import AccumulateGrad, _accumulate_into
    if isinstance(node, BackwardCFunction):     # (PyTorch's Python-defined nodes are not callable)
        raise TypeError(f"'{type(node).__name__}' object is not callable")
    if kwargs:
        raise TypeError('keyword arguments are not supported')
    expected = node.num_outputs
    if len(grad_outputs) != expected:
        raise TypeError(f'expected {expected} arguments, got {len(grad_outputs)} instead')
    for i, g in enumerate(grad_outputs):
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f'argument {i} is not a Variable')
    if isinstance(node, AccumulateGrad):
        variable = node.variable
        if variable is not None and grad_outputs[0] is not None:
            from . import grad_mode
            _accumulate_into(variable, grad_outputs[0], grad_mode.is_grad_enabled())
        return ()
    if node._shown_edges is not None:
        raise NotImplementedError(
            f'calling {node.name()} directly is not supported in nbgrad: it stands for several '
            f'recorded ops whose last step it is, so its backward alone does not give the '
            f'gradients of its inputs. Use autograd.grad(output, inputs, grad_output) instead.')
    if all(g is None for g in grad_outputs):     # nothing flows: no gradient for any input
        grads = (None,) * len(node._edges)
    else:
        grads = node._call_backward(list(grad_outputs))
    if node.shown_inputs is not None:   # inputs PyTorch's node has no edge for (indices...)
        grads = tuple(grads[i] for i in node.shown_inputs if i < len(grads))
    return grads[0] if len(grads) == 1 else tuple(grads)
