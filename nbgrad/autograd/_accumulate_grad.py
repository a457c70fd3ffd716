"""AccumulateGrad, the node behind a leaf that requires grad, and how it adds a gradient into
the leaf's .grad (dense and sparse, in place or, under create_graph, out of place). Split from
graph.py, which re-exports it."""
from .. import _dispatch, _dtype
from .._sparse_coo import SparseCOO, add
from .._tensor import Tensor
from .graph import Node, _backward_state, _check_hook_result, _hook_values


class AccumulateGrad(Node):
    """The node behind a leaf that requires grad: adds incoming gradients into `variable.grad`.
    It holds its leaf (a graph keeps the leaves it reaches alive, as PyTorch's: GraphView of
    `(torch.ones(2, requires_grad=True) * 2).sum()` still shows the leaf); the leaf holds it
    weakly (Tensor._grad_accumulator), so there is no reference cycle."""
    _direct = False

    def __init__(self, variable):
        self.variable = variable
        self._seq = _dispatch._next_sequence()

    def name(self):
        return 'torch::autograd::AccumulateGrad'

    def _apply_backward(self, grad_outputs):
        (grad,) = grad_outputs
        variable = self.variable
        if variable._no_grad_view:   # (nobody can see this gradient)
            return ()
        hooks = variable._hooks
        if hooks:
            for fn in list(hooks.values()):
                result = fn(grad)
                if result is not None:
                    grad = _check_hook_result(result, grad, fn)
        if self._pre_hooks:
            for fn in list(self._pre_hooks.values()):
                result = fn((grad,))
                if result is not None:
                    grad = _hook_values(fn, result, 1)[0]
        _accumulate_into(variable, grad, _dispatch._modes.grad_enabled)
        post = variable._post_accumulate_hooks
        if post:
            for fn in list(post.values()):
                result = fn(variable)
                # they return nothing, or the parameter itself (PyTorch compares the tensor it
                # gets back with the one it passed: `lambda p: p.add_(...)` is allowed)
                if result is not None and result is not variable:
                    if not isinstance(result, Tensor):
                        raise TypeError(f"expected Variable, but hook returned "
                                        f"'{type(result).__name__}'")
                    raise RuntimeError('Tensor post accumulate grad hooks should return None.')
        if self._post_hooks:   # hook(grad_inputs, grad_outputs): a leaf's node has no inputs
            for fn in list(self._post_hooks.values()):
                fn((), (grad,))
        return ()


def _grad_np_dtype(tensor):
    """The NumPy dtype .grad is kept in (Tensor.grad_dtype), or None for the incoming one's."""
    wanted = tensor._grad_dtype
    if wanted is None:
        return None
    return tensor._data.dtype if wanted is _dtype.SAME_AS_DATA else wanted.np


def _accumulate_into(tensor, grad, create_graph):
    """tensor.grad += grad, PyTorch-style: in place normally (even into a .grad that carries a
    graph from an earlier create_graph backward: it keeps that graph), out of place under
    create_graph."""
    existing = tensor._grad
    if create_graph and grad._requires_grad:
        from .._user_warning import warn_once_at_caller
        warn_once_at_caller(
            'Using backward() with create_graph=True will create a reference cycle between the '
            'parameter and its gradient which can cause a memory leak. We recommend using '
            'autograd.grad when creating the graph to avoid this. If you have to use this '
            'function, make sure to reset the .grad fields of your parameters to None after use '
            'to break the cycle and avoid the leak.')
    if grad._data.__class__ is SparseCOO or (existing is not None and
                                             existing._data.__class__ is SparseCOO):
        _accumulate_sparse(tensor, grad, create_graph)
        _in_compressed_layout(tensor)
        return
    if existing is None:
        if create_graph:
            tensor._grad = grad
        else:
            array = grad._data
            # Never let .grad alias another tensor's memory (a view, or a gradient object that was
            # also delivered elsewhere): later in-place accumulation would corrupt the other one.
            if array.base is not None or not array.flags.c_contiguous or \
                    id(array) in _backward_state.delivered.get(0, ()):
                array = array.copy()
            wanted = _grad_np_dtype(tensor)
            if wanted is not None and array.dtype != wanted:
                array = array.astype(wanted)
            delivered = _backward_state.delivered.get(0)
            if delivered is not None:
                delivered.add(id(array))
            tensor._grad = Tensor._make(array)
    elif create_graph:
        tensor._grad = existing + grad
    else:
        target = existing._data
        if target.shape != grad._data.shape:
            raise RuntimeError(f'cannot accumulate a gradient of shape {tuple(grad.shape)} into '
                               f'.grad of shape {tuple(existing.shape)}')
        target += grad._data
        existing._vc[0] += 1


def _in_compressed_layout(tensor):
    """A CSR (CSC) leaf's sparse gradient in its own layout, as PyTorch keeps it (the masked
    gradients reach it as COO at its entries)."""
    payload, grad = tensor._data, tensor._grad
    if payload.__class__ is not SparseCOO or payload.compressed is None or grad is None or \
            grad._data.__class__ is not SparseCOO or grad._data.compressed is not None:
        return
    tensor._grad = grad.to_sparse_csr() if payload.compressed.is_csr else grad.to_sparse_csc()


def _accumulate_sparse(tensor, grad, create_graph):
    """.grad with a sparse side, as PyTorch's AccumulateGrad: a first sparse gradient is stored
    with its values copied (so that .grad owns them) and, as PyTorch's stolen gradients are,
    flagged uncoalesced unless it has at most one entry (or was made to keep its flag, see
    sparse.sum); sparse + sparse adds into .grad in place, and a dense side makes it dense."""
    existing = tensor._grad
    if existing is None:
        if not create_graph:
            payload = grad._data
            flag = payload.coalesced and (
                payload.nnz <= 1 or getattr(grad, '_keeps_coalesced_flag', False))
            grad = Tensor._make(SparseCOO(payload.indices, payload.values.astype(
                tensor._data.dtype, copy=True), payload.shape, flag))
        tensor._grad = grad
    elif grad._data.__class__ is SparseCOO:    # existing + sparse: sparse or dense as existing
        if create_graph:
            tensor._grad = existing + grad
        elif existing._data.__class__ is SparseCOO:     # PyTorch's add_ (a merge)
            total = add(existing._data, grad._data)
            existing._data = total.astype(existing._data.dtype)
            existing._vc[0] += 1
        else:
            existing.add_(grad)     # (in place, as PyTorch adds into a dense .grad)
    else:   # a sparse .grad and a dense gradient
        tensor._grad = grad + existing
