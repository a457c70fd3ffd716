"""autograd.backward and autograd.grad: the user-facing entry points to the engine."""
import threading

import numpy as np

from .._arrays import MetaArray, meta_array
from .. import _dispatch, _dtype
from .._dispatch import _array_module
from .._tensor import Tensor
from .._tensor_subclass import _convert, class_among
from . import graph
from .gradient_edge import GradientEdge


def _as_tuple(x, name):
    if x is None:
        return None
    if isinstance(x, Tensor) or (x.__class__ is GradientEdge and name == 'inputs'):
        return (x,)
    try:
        items = tuple(x)
    except TypeError:
        raise TypeError(f'{name} must be a Tensor or a sequence of Tensors, got '
                        f'{type(x).__name__}') from None
    for i, t in enumerate(items):
        if t.__class__ is GradientEdge and name == 'inputs':
            continue    # (a place in the graph: see gradient_edge)
        if not isinstance(t, Tensor) and not (t is None and name != 'outputs' and name != 'tensors'):
            raise TypeError(f'{name}[{i}] must be a Tensor, got {type(t).__name__}')
    return items


def _make_root_grads(outputs, grad_outputs):
    """Default gradients of ones for scalar outputs; check shapes of the ones given."""
    for g in grad_outputs or ():
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f'gradients can be either Tensors or None, but got '
                            f'{type(g).__name__}')
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(f'got {len(outputs)} tensors and {len(grad_outputs)} gradients')
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f'grad can be implicitly created only for scalar outputs (output {i} has shape '
                    f'{list(out.shape)}). Pass gradient= (a tensor of that shape, e.g. '
                    f'torch.ones_like(out)) or reduce the output to a scalar first, e.g. '
                    f'out.sum().backward().')
            if out._data.dtype.kind not in _dtype.FLOATING_KINDS:   # (a complex loss: no direction)
                raise RuntimeError(f'grad can be implicitly created only for real scalar outputs '
                                   f'but got {out.dtype}')
            data = out._data
            if data.__class__ is np.ndarray:
                g = Tensor._make(np.ones(data.shape, data.dtype))
            elif data.__class__ is MetaArray:
                g = Tensor._make(meta_array(data.shape, data.dtype))
            else:
                with _dispatch.device_scope(data):
                    g = Tensor._make(_array_module(data).ones(data.shape, data.dtype))
        elif not isinstance(g, Tensor):
            raise TypeError(f'gradient for output {i} must be a Tensor, got {type(g).__name__}')
        else:
            if g._data.shape != out._data.shape:
                raise RuntimeError(f'Mismatch in shape: grad_output[{i}] has a shape of '
                                   f'{g.shape} and output[{i}] has a shape of {out.shape}.')
            if g.device != out.device:
                raise RuntimeError(f'invalid gradient at index {i} - expected device {out.device} '
                                   f'but got {g.device}')
            if g._data.dtype != out._data.dtype:
                if (g._data.dtype.kind == 'c') != (out._data.dtype.kind == 'c'):
                    raise RuntimeError(
                        f'For complex Tensors, both grad_output and output are required to have '
                        f'the same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of '
                        f'{g.dtype} and output[{i}] has a dtype of {out.dtype}.')
                g = g.to(out.dtype)
        grads.append(g)
    return grads


_transform_stack = None


def _bind_transform_stack():
    """nbgrad.func._transform_stack, bound on first use (nbgrad.func imports this module)."""
    global _transform_stack
    from ..func import _transform_stack as module
    _transform_stack = module


# How many enclosing torch.func.vmap calls will run the function again for later batch
# elements. nbgrad's vmap runs the function once per element, where PyTorch's runs it once for the
# batch; a backward through a graph made outside the function must then keep that graph for the
# elements still to come (the last element's backward frees it, as PyTorch's one backward does).
# Per thread, as vmap's calls are.
class _SamplesAhead(threading.local):
    count = 0


samples_ahead = _SamplesAhead()


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of `tensors` into the .grad of the graph's leaves."""
    if _transform_stack is None:
        _bind_transform_stack()
    _transform_stack.refuse_backward()     # (inside torch.func's transforms: PyTorch's error)
    if grad_variables is not None:
        grad_tensors = grad_variables
    outputs = _as_tuple(tensors, 'tensors')
    if isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    elif grad_tensors is not None:
        grad_tensors = tuple(grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs, 'inputs')
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    retain_graph = retain_graph or samples_ahead.count > 0
    roots = _make_root_grads(outputs, grad_tensors)
    graph.run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs,
                       accumulate=True, allow_unused=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) (vector-Jacobian products) without touching any .grad.
    With a user's Tensor subclass among outputs and inputs the gradients are aliases of that
    class, as PyTorch's default __torch_function__ returns them."""
    grads = _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  is_grads_batched, materialize_grads)
    cls = class_among(_as_tuple(outputs, 'outputs') + _as_tuple(inputs, 'inputs'),
                      'torch.autograd.grad')
    return grads if cls is None else _convert(grads, cls)


def _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
          is_grads_batched, materialize_grads):
    outputs = _as_tuple(outputs, 'outputs')
    inputs_tuple = _as_tuple(inputs, 'inputs')
    if not inputs_tuple:
        raise RuntimeError('`inputs` argument to `grad()` cannot be empty.')
    if isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    elif grad_outputs is not None:
        grad_outputs = tuple(grad_outputs)
    if is_grads_batched:
        return _batched_grad(outputs, inputs_tuple, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError('Expected allow_unused to be True or not passed when materialize_grads=True')
    if retain_graph is None:
        retain_graph = create_graph
    retain_graph = retain_graph or samples_ahead.count > 0
    for i, t in enumerate(inputs_tuple):
        if t.__class__ is not GradientEdge and not t.requires_grad:
            raise RuntimeError(f'One of the differentiated Tensors does not require grad. (It is '
                               f'input {i}: set requires_grad=True on it, or leave it out.)')
    roots = _make_root_grads(outputs, grad_outputs)
    result = graph.run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs_tuple,
                                accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        from .._creation import zeros_like
        if any(g is None and t.__class__ is GradientEdge for g, t in zip(result, inputs_tuple)):
            raise RuntimeError('materialize_grads cannot be used when the given input is a '
                               'GradientEdge')
        result = [g if g is not None else zeros_like(t) for g, t in zip(result, inputs_tuple)]
    if not create_graph:
        result = [g.detach() if g is not None else None for g in result]
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """grad(is_grads_batched=True): the first dim of every grad_output is a batch; one
    vector-Jacobian product per batch entry (PyTorch vmaps them; nbgrad runs them one after
    the other on the same graph, freed after the last unless retained), stacked."""
    batches = {g.shape[0] for g in grad_outputs or () if g is not None and g.dim()}
    if grad_outputs is None or len(batches) != 1:
        raise RuntimeError('grad(is_grads_batched=True) needs grad_outputs that all have the '
                           'same size in their first (batch) dimension')
    (size,) = batches
    rows = []
    for i in range(size):
        last = i == size - 1
        rows.append(_grad(outputs, inputs, [None if g is None else g[i] for g in grad_outputs],
                          retain_graph if last else True, create_graph, allow_unused, False,
                          materialize_grads))
    from ..ops.shape import stack
    return tuple(None if any(r[j] is None for r in rows) else stack([r[j] for r in rows])
                 for j in range(len(inputs)))
