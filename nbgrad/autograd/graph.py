"""The backward graph: nodes, saved tensors, hooks, and the engine that walks the graph.

Every op that runs while grad mode is on and has an input that requires grad becomes a Node (the
op object itself: see nbgrad/_dispatch.py). A node holds, per input, an *edge*
(next_node, output_nr, input_shape, input_dtype) and whatever it saved for backward. Leaves that
require grad are reached through an AccumulateGrad node that writes into `tensor.grad`.

Backward (`run_backward`) is iterative: count how many edges point at each node, then run nodes
whose gradients are complete, most recently created first (as PyTorch does), summing gradients per
node output in a buffer that is dropped as soon as the node has run. Gradients that broadcasting
widened are summed back to each input's shape here, once, for every op.
"""
import contextlib
import itertools
import sys
import threading
import traceback
from heapq import heappop, heappush

import numpy as np

from .. import _dispatch
from ..amp import _state as _autocast_state
from .._dtype import INEXACT_KINDS, from_numpy_dtype
from .._grad_fn_class import presented, unpresented
from .._sparse_coo import SparseCOO
from .. import _saved_hooks
from .._saved_hooks import Packed
from .._tensor import Tensor
from .._tensor_subclass import subclass_dispatch
from ._hooks import HookDict, RemovableHandle  # noqa: F401 (graph's public names too)
from ._graph_walk import count_dependencies, nodes_above
from .gradient_edge import GradientEdge, get_gradient_edge  # noqa: F401 (graph's public names)

# The op classes sum_to_shape needs; the op modules import this one, so nbgrad binds them at the
# end of its import (see _bind_ops).
Sum = View = None



def _c_ordered_forward(forward):
    """forward, its NumPy results made C-contiguous (see Node.contiguous_output)."""
    def c_ordered(self, *arrays):
        return _c_ordered(forward(self, *arrays))
    c_ordered._c_ordered = True
    c_ordered.__name__, c_ordered.__doc__ = forward.__name__, forward.__doc__
    return c_ordered


def _c_ordered(out):
    if out.__class__ is np.ndarray:
        return out if out.flags.c_contiguous else np.ascontiguousarray(out)
    if out.__class__ is tuple:
        return tuple(_c_ordered(a) for a in out)
    return out


# torch.autograd.graph's hooks for saved tensors (see _saved_hooks)
saved_tensors_hooks = _saved_hooks.saved_tensors_hooks
save_on_cpu = _saved_hooks.save_on_cpu
disable_saved_tensors_hooks = _saved_hooks.disable_saved_tensors_hooks

# The name PyTorch gives the grad_fn of an op that has no derivative (its backward raises).
NOT_IMPLEMENTED = 'torch::autograd::NotImplemented'
COPY_SLICES = 'torch::autograd::CopySlices'     # an in-place write into a view of a graph tensor

class Node:
    """One op in the backward graph (PyTorch's torch.autograd.graph.Node).

    Op classes subclass Node: `forward` computes on raw arrays, `backward` maps output gradients to
    input gradients using Tensor ops (so that create_graph=True gives higher-order gradients).
    Class attributes describe what the dispatcher saves for backward:
      saved_inputs: positions of inputs to save (version-checked when unpacked)
      saved_input_users: which gradients read each saved input (default: all of them)
      saves_output: save the (single) output, without a reference cycle
      differentiable: False for ops whose outputs never require grad (comparisons, argmax...)
      num_outputs: number of arrays forward returns (1 means a single array, not a tuple)
      non_differentiable_outputs: output positions that never require grad (e.g. max's indices)
      contiguous_output: forward's arrays come back C-contiguous, as PyTorch allocates the
        results of reductions, cat, scans... (NumPy's follow a transposed input's layout, and a
        later .view() that works in PyTorch would then fail)
      complex_autograd: backward is right for complex inputs and outputs, in PyTorch's
        convention (see _complex_grad.py). The dispatcher refuses to record an op without it
        where a complex tensor would enter or leave its node: its real formula would give a
        silently wrong gradient.
    """
    saved_inputs = ()
    # {saved input position: the input positions whose gradients read it}, or None (all): an
    # input saved only for gradients nobody needs is not version-checked (PyTorch saves it only
    # when needed), and not kept at all where the backward reads nothing else of it
    # (drops_unneeded_inputs: elementwise ops, whose backward calls only the needed formulas)
    saved_input_users = None
    drops_unneeded_inputs = False
    saves_output = False
    differentiable = True
    complex_autograd = False
    keep_outputs = None    # or fn(outputs): called when a multi-output node is recorded
    shape_from_values = False  # the result's shape depends on the values (nonzero): no meta
    _on_meta = False       # recorded on the meta device: its gradients are meta tensors too
    sees_meta = False      # forward takes meta arrays as they are (ToCopy), not stand-in values
    # forward takes bfloat16 arrays as they are (conversions, copies); others, views aside, get
    # them as float32 and their float32 results are rounded (see _bfloat16.py)
    sees_bfloat16 = False
    # how PyTorch's kernel takes a Python-number operand (or a 0-dim one of another dtype) where
    # the operands' common dtype is bfloat16 (see _bfloat16.py): None, as it is; 'common', cast to
    # the common dtype (elementwise ops); 'second at float', the second one at float precision
    # (division); 'at float', that and a Python number anywhere (multiplication)
    scalar_operands = None
    num_outputs = 1
    non_differentiable_outputs = ()
    is_view = False        # forward returns a view of input 0 (shares memory and version counter)
    accepts_sparse = False  # forward takes sparse payloads (nbgrad.sparse's primitives)
    multi_view = False     # returns several views (split/unbind): they may not be written in place
    overwrites = False     # in-place form sets every element regardless of the old value (fill_)
    contiguous_output = False
    # an in-place form refuses inputs that partly overlap the written memory (TensorIterator's
    # check in PyTorch; masked_fill_ and the like read a 0-dim value first and do not check)
    overlap_checked = True
    # the inputs whose edges PyTorch's node has, in its order (None: all, in input order):
    # integer inputs (targets, indices, conditions) and inputs PyTorch does not differentiate
    # have none, which next_functions shows
    shown_inputs = None
    _presented = False     # True on the subclasses named as PyTorch's nodes (_grad_fn_class)
    _op_class = None       # the op's own class (set for every subclass)
    # Set per instance when recorded:
    _edges = ()
    _saved = None          # tuple of (tensor, version) pairs, or None once freed
    _saved_output = None   # (array, version_counter, version) for saves_output ops
    _output_meta = None    # ((shape, np_dtype, array_module), ...) per output, for zero grads
    _seq = 0
    _freed = False
    _pre_hooks = None      # {handle_id: fn(grad_outputs) -> grad_outputs | None}
    _post_hooks = None     # {handle_id: fn(grad_inputs, grad_outputs) -> grad_inputs | None}
    _tensor_hooks = None   # {output_nr: {handle_id: fn(grad) -> grad | None}}
    _retained = None       # {output_nr: weakref to the non-leaf tensor that called retain_grad}
    _anomaly_trace = None  # forward traceback, when detect_anomaly is on
    _shown_edges = None    # a composite's own inputs' edges, for next_functions (present_as)
    _hooked = False        # True once any hook or retain_grad is registered (fast path otherwise)
    _direct = True         # the engine may call backward() itself (no hooks, no special node)
    metadata_dict = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls._presented:
            cls._op_class = cls
        forward = getattr(cls, 'forward', None)
        if cls.contiguous_output and forward is not None and \
                not getattr(forward, '_c_ordered', False):
            cls.forward = _c_ordered_forward(forward)

    # -- naming ------------------------------------------------------------------------------
    def name(self):
        return self._op_class.__name__ + 'Backward0'

    def present_as(self, name, inputs=None):
        """Name this node as PyTorch's single node for a composite op whose last step it is
        (mse_loss's mean shows as MseLossBackward0, as in print(loss)); inputs: the composite's
        tensor arguments, whose nodes next_functions then shows (PyTorch's node's edges) in
        place of the composite's inner nodes."""
        unpresented(self)
        self.name = lambda: name
        if inputs is not None:
            self._shown_edges = [_dispatch._edge_to(t) for t in inputs
                                 if t.dtype.is_floating_point or t.dtype.is_complex]

    def type_name(self):
        """name() without a C++ namespace ('torch::autograd::CopySlices' -> 'CopySlices'): the
        class name PyTorch shows in reprs and in grad_fn=<...>."""
        return self.name().rpartition('::')[2]

    def __repr__(self):
        return f'<{self.type_name()} object at {hex(id(self))}>'

    def __call__(self, *grad_outputs, **kwargs):
        """Run this node's backward on grad_outputs; its input gradients (see _node_call)."""
        from ._node_call import call_node
        return call_node(self, grad_outputs, kwargs)

    @property
    def next_functions(self):
        edges = self._shown_edges
        if edges is None:
            edges = self._edges
            if self.shown_inputs is not None:
                edges = [edges[i] for i in self.shown_inputs if i < len(edges)]
        return tuple((presented(e[0]), e[1]) if e is not None else (None, 0) for e in edges)

    @property
    def metadata(self):
        if self.metadata_dict is None:
            self.metadata_dict = {}
        return self.metadata_dict

    def forward_into(self, out, *arrays):
        """Forward for an in-place op outside autograd. Ops that can write straight into `out`
        (ufuncs) override this and return `out`; by default compute and let the caller copy."""
        return self.forward(*arrays)

    def round_scalar_settings(self, bfloat16):
        """Where the operands' common dtype is bfloat16 (the NumPy dtype given): round the
        Python-number settings the op computes with (pow's exponent) to it, as PyTorch's kernel
        casts them (_bfloat16.to_bfloat16). Most ops have none."""

    def replay_copy(self):
        """A fresh op with the same parameters (used to remake a view from its base).

        Convention: an op's parameters are plain attributes; everything forward or the graph adds
        starts with an underscore and is not copied."""
        new = object.__new__(self._op_class)
        new.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith('_')})
        return new

    # -- saved tensors ------------------------------------------------------------------------
    @property
    def saved_tensors(self):
        """The tensors saved in forward, checked against in-place modification since then."""
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(_FREED_MESSAGE)
            return ()
        out = []
        for value, version in saved:
            if value.__class__ is Packed:   # (saved under saved_tensors_hooks)
                if version is not None and value.version_counter[0] != version:
                    raise RuntimeError(_modified_message(self, value.unpack(),
                                                         value.version_counter[0], version))
                out.append(value.unpack())
                continue
            # version is None for saved non-tensors (Python scalars, None)
            if version is not None and value._vc[0] != version:
                raise RuntimeError(_modified_message(self, value, value._vc[0], version))
            out.append(value)
        return tuple(out)

    def __getattr__(self, name):
        """grad_fn._saved_self / _saved_other / _saved_result: what the node saved for
        backward, under PyTorch's names for its first and second inputs and its output."""
        if name.startswith('_saved_') and name != '_saved_output':
            role = name[len('_saved_'):]
            position = {'self': 0, 'other': 1}.get(role)
            saved_inputs = self.saved_inputs
            if position is not None and position in saved_inputs:
                if self._saved is None:   # (freed by a backward without retain_graph)
                    raise RuntimeError(_FREED_MESSAGE)
                value = self.saved_tensors[saved_inputs.index(position)]
                if isinstance(value, (bool, int, float, complex)):
                    # a Python number operand: PyTorch's wrapped-number tensor (64-bit)
                    from .._creation import tensor
                    from .. import _dtype
                    kind = (bool, int, float, complex).index(type(value))
                    return tensor(value, dtype=(_dtype.bool, _dtype.int64, _dtype.float64,
                                                _dtype.complex128)[kind])
                return value
            if role == 'result' and self.saves_output:
                return self.saved_output()    # (the output itself, with this node: PyTorch's)
        raise AttributeError(f'{type(self).__name__!r} object has no attribute {name!r}')

    def saved_output(self):
        """The op's output as a Tensor whose grad_fn is this node (for create_graph)."""
        if self._saved_output is None:
            raise RuntimeError(_FREED_MESSAGE)
        array, counter, version = self._saved_output
        if array.__class__ is Packed:
            array = array.unpack()._data
        if counter[0] != version:
            raise RuntimeError(_modified_message(self, None, counter[0], version, output=True,
                                                 array=array))
        return Tensor._make(array, True, self, counter)

    def _release(self):
        """Free what forward saved (after a backward without retain_graph)."""
        if self._saved is not None or self._saved_output is not None:
            self._saved = None
            self._saved_output = None
            self._freed = True

    # -- hooks --------------------------------------------------------------------------------
    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward; may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = HookDict()
        self._hooked, self._direct = True, False
        handle = RemovableHandle(self._post_hooks)
        self._post_hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node's backward; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = HookDict()
        self._hooked, self._direct = True, False
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = fn
        return handle

    def _register_tensor_hook(self, output_nr, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        self._hooked, self._direct = True, False
        hooks = self._tensor_hooks.setdefault(output_nr, HookDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    # -- backward -----------------------------------------------------------------------------
    def backward(self, *grad_outputs):
        raise NotImplementedError(f'{self.name()} has no backward')

    def _apply_backward(self, grad_outputs):
        """Run backward (and hooks, if any); return one gradient (or None) per edge."""
        if self._hooked:
            return self._apply_backward_hooked(grad_outputs)
        return self._call_backward(grad_outputs)

    def _call_backward(self, grad_outputs):
        if self.num_outputs == 1:
            grads = self.backward(grad_outputs[0])
        else:
            grads = self.backward(*self._materialize(grad_outputs))
        if grads.__class__ is not tuple:
            grads = (grads,)
        if len(grads) != len(self._edges):
            raise RuntimeError(f'{self.name()} returned {len(grads)} gradients but the op had '
                               f'{len(self._edges)} inputs')
        return grads

    def _apply_backward_hooked(self, grad_outputs):
        if self._tensor_hooks is not None or self._retained is not None:
            grad_outputs = self._run_tensor_hooks(grad_outputs)
        if self._pre_hooks:
            for fn in list(self._pre_hooks.values()):
                result = fn(tuple(grad_outputs))
                if result is not None:
                    grad_outputs = list(_hook_values(fn, result, len(grad_outputs)))
        grads = self._call_backward(grad_outputs)
        if self._post_hooks:
            grads = _run_post_hooks(self._post_hooks, grads, grad_outputs)
        return grads

    def _run_tensor_hooks(self, grad_outputs):
        grad_outputs = list(grad_outputs)
        if self._tensor_hooks:
            for nr, hooks in self._tensor_hooks.items():
                for fn in list(hooks.values()):
                    if grad_outputs[nr] is None:
                        continue
                    result = fn(grad_outputs[nr])
                    if result is not None:
                        grad_outputs[nr] = _check_hook_result(result, grad_outputs[nr], fn)
        if self._retained:
            for nr, ref in self._retained.items():
                tensor = ref()
                g = grad_outputs[nr]
                if tensor is not None and g is not None:
                    _accumulate_into(tensor, g, _dispatch._modes.grad_enabled)
        return grad_outputs

    def _materialize(self, grad_outputs):
        """Zeros for outputs that received no gradient (multi-output ops)."""
        out = []
        for g, meta in zip(grad_outputs, self._output_meta):
            if g is None and meta is not None:
                shape, np_dtype, xp = meta
                g = Tensor._make(xp.zeros(shape, np_dtype))
            out.append(g)
        return out


def _run_post_hooks(hooks, grads, grad_outputs):
    """A node's post hooks, each given (grad_inputs, grad_outputs), may replace grad_inputs,
    but not fill in a gradient that is None (PyTorch's rule)."""
    for fn in list(hooks.values()):
        result = fn(grads, tuple(grad_outputs))
        if result is not None:
            result = _hook_values(fn, result, len(grads))
            if any(old is None and new is not None for old, new in zip(grads, result)):
                raise RuntimeError("can't replace a None gradient with a non-None value")
            grads = result
    return grads


def _hook_values(fn, result, expected):
    """A node hook's replacement gradients, which must be as many as it was given."""
    result = tuple(result)
    if len(result) != expected:
        raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' has returned an incorrect "
                           f'number of values (got {len(result)}, but expected {expected})')
    return result


def _priority(node):
    """A ready node's place in the engine's queue (smallest first): the most recently created
    first, as PyTorch's engine, and a leaf's AccumulateGrad before anything (PyTorch gives it the
    largest sequence number), so leaf hooks and post-accumulate hooks run as soon as a leaf's
    gradient is complete."""
    return -sys.maxsize if node._op_class is AccumulateGrad else -node._seq


class _BackwardState(threading.local):
    """Per thread, as grad mode is (two threads may run backwards at once):
    delivered: gradient arrays already stored as some tensor's .grad (key 0 while a backward
      runs);
    running: the backward runs in progress, innermost last (_Run). What runs inside a node's
      backward reads it (utils.checkpoint: whether to keep recomputed activations, and whether
      its reentrant form can serve this backward; register_multi_grad_hook: which nodes run)."""

    def __init__(self):
        self.delivered, self.running = {}, []


_backward_state = _BackwardState()
_run_ids = itertools.count(1)


class _Run:
    """One backward in progress: whether it keeps the graph, whether it accumulates into every
    leaf (not autograd.grad or backward(inputs=)), a number of its own, and which nodes it runs."""
    __slots__ = ('retains', 'accumulates_all', 'id', 'dependencies', 'needed', 'targets',
                 'callbacks')

    def __init__(self, retains, accumulates_all, dependencies, needed, targets):
        self.retains, self.accumulates_all, self.id = retains, accumulates_all, next(_run_ids)
        self.dependencies, self.needed, self.targets = dependencies, needed, targets
        self.callbacks = []     # (queue_callback: run when the backward has run every node)

    def will_execute(self, node):
        """Whether this backward reaches node (torch._C._will_engine_execute_node)."""
        if node not in self.dependencies:
            return False
        return self.needed is None or node in self.needed or \
            any(node is target for target, _ in self.targets)


def queue_callback(callback):
    """Run callback() once the backward in progress has run all its nodes
    (torch.autograd.Variable._execution_engine.queue_callback, which utils.module_tracker
    uses); only from inside that backward (a hook, a node)."""
    if not _backward_state.running:
        raise RuntimeError('Final callbacks can only be installed during backward pass.')
    _backward_state.running[-1].callbacks.append(callback)


def current_run():
    """The innermost backward in progress (a hook asks which one it runs in)."""
    if not _backward_state.running:
        raise RuntimeError('no backward is running: this is only available inside a hook')
    return _backward_state.running[-1]


def increment_version(tensor):
    """Mark a tensor (or each of an iterable of tensors) as modified in place, so that a
    backward needing its old values raises (torch.autograd.graph.increment_version: for writes
    autograd cannot see, such as a kernel writing through data_ptr)."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._vc[0] += 1


def running_backward_retains_graph():
    """Whether the innermost running backward keeps the graph (retain_graph=True)."""
    return bool(_backward_state.running) and _backward_state.running[-1].retains


def _is_checkpoint_valid():
    """False inside autograd.grad or backward(inputs=...) (PyTorch's private helper of the same
    name): a backward that only some leaves receive, which reentrant checkpointing cannot serve."""
    return not _backward_state.running or _backward_state.running[-1].accumulates_all


def _check_hook_result(result, grad, fn):
    """A tensor hook's replacement gradient, which must match the one it replaces in shape,
    dtype and device (PyTorch's checks and messages)."""
    if not isinstance(result, Tensor):
        raise TypeError(f'a tensor hook must return a Tensor or None, got {type(result).__name__}')
    name = getattr(fn, '__name__', type(fn).__name__)
    if result._data.dtype != grad._data.dtype or result.device != grad.device:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.type()} got "
                           f"{result.type()})")
    if tuple(result.shape) != tuple(grad.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    return result


_FREED_MESSAGE = (
    'Trying to backward through the graph a second time (or directly access saved tensors after '
    'they have already been freed). Saved intermediate values of the graph are freed when you call '
    '.backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the '
    'graph a second time or if you need to access saved tensors after calling backward.')


def _modified_message(node, tensor, current, expected, output=False, array=None):
    if tensor is not None:
        what = f'[{_type_name(tensor._data)} {list(tensor.shape)}]'
        fn = tensor._grad_fn
        origin = f', which is output {tensor._output_nr} of {fn.name()},' if fn is not None else ''
    else:
        what = f'[{_type_name(array)} {list(array.shape)}]'
        origin = f', which is output 0 of {node.name()},'
    return (f'one of the variables needed for gradient computation has been modified by an '
            f'inplace operation: {what}{origin} is at version {current}; expected version '
            f'{expected} instead (it was saved by {node.name()}). Hint: the operation that '
            f'modified it ran after the forward pass; use .clone() before modifying it in place, '
            f'or enable nbgrad.autograd.set_detect_anomaly(True) to find the forward op.')


def _type_name(array):
    sparse = array.__class__ is SparseCOO
    if sparse:      # (PyTorch's torch.sparse.FloatTensor, torch.cuda.sparse.FloatTensor)
        array = array.values
    kind = ('cuda.' if array.__class__.__module__.startswith('cupy') else '') + \
        ('sparse.' if sparse else '')
    names = {'float32': 'FloatTensor', 'float64': 'DoubleTensor', 'float16': 'HalfTensor', 'bfloat16': 'BFloat16Tensor',
             'int64': 'LongTensor', 'int32': 'IntTensor', 'int16': 'ShortTensor',
             'int8': 'CharTensor', 'uint8': 'ByteTensor', 'bool': 'BoolTensor',
             'complex64': 'ComplexFloatTensor', 'complex128': 'ComplexDoubleTensor'}
    return 'nbgrad.' + kind + names[from_numpy_dtype(array.dtype).name]


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------

def _root_edge(tensor):
    if tensor.__class__ is GradientEdge:    # (given as such: autograd.grad's inputs)
        if not isinstance(tensor.node, Node):
            raise RuntimeError(f"GradientEdge's first object must be an autograd.graph.Node but "
                               f"got {type(tensor.node).__name__}")
        return tensor.node, tensor.output_nr
    fn = tensor._grad_fn
    if fn is not None:
        return fn, tensor._output_nr
    if tensor._requires_grad:
        return tensor._grad_accumulator(), 0
    return None


def _several_gpus():
    """Whether nodes may live on different GPUs (then each runs with its own GPU current)."""
    if 'cupy' not in sys.modules:
        return False
    from .. import cuda
    return cuda.device_count() > 1


def _device_of(grad_outputs):
    g = next(g for g in grad_outputs if g is not None)
    return _dispatch.device_scope(g._data)


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None,
                 accumulate=True, allow_unused=False):
    """Backpropagate `root_grads` from `roots` through the graph.

    accumulate=True: write into .grad of leaves (all of them, or only `inputs` if given).
    accumulate=False: return the gradients w.r.t. `inputs` instead (autograd.grad).
    Runs with autocast off: the graph holds the forward's casts, so gradients come back in the
    forward's dtypes (a backward called inside an autocast region casts nothing more).
    """
    if _autocast_state.active[0]:
        with _autocast_state.suspended():
            return _run_backward(roots, root_grads, retain_graph, create_graph, inputs,
                                 accumulate, allow_unused)
    return _run_backward(roots, root_grads, retain_graph, create_graph, inputs, accumulate,
                         allow_unused)


def _run_backward(roots, root_grads, retain_graph, create_graph, inputs, accumulate,
                  allow_unused):
    root_edges = []
    for t, g in zip(roots, root_grads):
        edge = _root_edge(t)
        if edge is None:
            raise RuntimeError('element 0 of tensors does not require grad and does not have a '
                               'grad_fn. Call .requires_grad_() on a leaf, or compute the tensor '
                               'from one that requires grad, before calling backward.')
        root_edges.append((edge, g))

    # What to capture (autograd.grad) or restrict accumulation to (backward(inputs=...)):
    # {(node, output_nr): [positions in `inputs`]}.
    targets = None
    if inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            edge = _root_edge(t)
            if edge is None:
                raise RuntimeError(f'One of the differentiated Tensors does not require grad. '
                                   f'(It is input {i}: set requires_grad=True on it, or leave it '
                                   f'out.)')
            targets.setdefault(edge, []).append(i)

    dependencies = count_dependencies(root_edges)
    needed = None
    if targets is not None:
        needed = nodes_above({node for node, _ in targets}, [e[0] for e, _ in root_edges])

    buffers = {}
    ready = []
    # ties (leaves' AccumulateGrads ready together) go first in, first out, as PyTorch's queue
    # gives them: the same order in every process (DDP reduces gradients in that order)
    pushed = itertools.count()
    for (node, nr), g in root_edges:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    for node in buffers:
        if dependencies.get(node, 0) == 0:
            heappush(ready, (_priority(node), next(pushed), node))

    captured = [None] * len(inputs) if inputs is not None else None
    previous_mode = _dispatch._modes.grad_enabled
    _dispatch._modes.grad_enabled = create_graph
    # (a backward run inside a node's backward is reentrant: the outer one's set is put back)
    outer_delivered = _backward_state.delivered.get(0)
    _backward_state.delivered[0] = {id(g._data) for g in root_grads}
    anomaly = _dispatch._anomaly_enabled
    several_gpus = _several_gpus()
    observers = tuple(_node_observers)      # (read once per backward: the profiler's ranges)
    subclass_dispatch.backward += 1     # (its ops make plain tensors for subclasses, as PyTorch's)
    _backward_state.running.append(_Run(bool(retain_graph), accumulate and inputs is None,
                                        dependencies, needed, targets or {}))
    try:
        while ready:
            node = heappop(ready)[2]
            grad_outputs = buffers.pop(node)
            if targets is not None and not _visit_target(node, grad_outputs, targets, needed,
                                                         inputs, captured, accumulate,
                                                         create_graph):
                continue
            if (grad_outputs[0] is None if node.num_outputs == 1
                    else all(g is None for g in grad_outputs)):
                # Nothing flows through this node (e.g. a gradient of None from a Function, or
                # a region overwritten in place): pass "no gradient" on without running it.
                grads = (None,) * len(node._edges)
            elif observers:
                grads = _observed_apply(observers, node, grad_outputs, anomaly, several_gpus)
            elif several_gpus:
                with _device_of(grad_outputs):  # a node's temporaries belong on its own GPU
                    grads = _anomaly_apply(node, grad_outputs) if anomaly else \
                        node._apply_backward(grad_outputs)
            elif anomaly:
                grads = _anomaly_apply(node, grad_outputs)
            elif node._direct and node.num_outputs == 1:  # the common case, one call deep
                grads = node.backward(grad_outputs[0])
                if grads.__class__ is not tuple:
                    grads = (grads,)
                if len(grads) != len(node._edges):
                    raise RuntimeError(f'{node.name()} returned {len(grads)} gradients but the op '
                                       f'had {len(node._edges)} inputs')
            else:
                grads = node._apply_backward(grad_outputs)
            if not retain_graph and (node._saved is not None or node._saved_output is not None):
                node._release()
            if node._on_meta:       # (a formula on raw arrays gives host arrays: back to meta)
                grads = _on_meta_device(grads)
            for edge, g in zip(node._edges, grads):
                if edge is None:
                    continue
                child, nr, shape, np_dtype = edge
                buf = buffers.get(child)
                if g is not None:
                    data = g._data
                    if data.shape != shape or data.dtype != np_dtype:
                        g = _conform(g, shape, np_dtype, node)
                    if buf is None:
                        buf = buffers[child] = [None] * child.num_outputs
                        buf[nr] = g
                    elif buf[nr] is None:
                        buf[nr] = g
                    elif buf[nr]._data.__class__ is SparseCOO and \
                            data.__class__ is not SparseCOO:    # (dense + sparse is dense)
                        buf[nr] = g + buf[nr]
                    else:
                        buf[nr] = buf[nr] + g
                elif buf is None:
                    buffers[child] = [None] * child.num_outputs
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    heappush(ready, (_priority(child), next(pushed), child))
        callbacks = _backward_state.running[-1].callbacks
        while callbacks:        # (a callback may queue another)
            callbacks.pop(0)()
    finally:
        _backward_state.running.pop()
        subclass_dispatch.backward -= 1
        _dispatch._modes.grad_enabled = previous_mode
        if outer_delivered is None:
            _backward_state.delivered.pop(0, None)
        else:
            _backward_state.delivered[0] = outer_delivered

    if captured is not None and not allow_unused:
        for i, g in enumerate(captured):
            if g is None:
                raise RuntimeError(f'The differentiated Tensor at index {i} appears to not have '
                                   f'been used in the graph. Set allow_unused=True if this is the '
                                   f'desired behavior.')
    return captured


def _visit_target(node, grad_outputs, targets, needed, inputs, captured, accumulate,
                  create_graph):
    """backward(inputs=...) / autograd.grad: hand gradients to the requested inputs; say whether
    `node` itself must still run (only if some requested input lies further down)."""
    is_leaf_node = node.__class__ is AccumulateGrad
    is_target = False
    for nr in range(len(grad_outputs)):
        positions = targets.get((node, nr))
        if not positions:
            continue
        is_target = True
        if is_leaf_node and accumulate:
            continue  # running the AccumulateGrad node below does the accumulation
        g = _with_tensor_hooks(node, grad_outputs, nr)
        for i in positions:
            if accumulate:
                if g is not None and inputs[i].__class__ is not GradientEdge:  # (no .grad)
                    _accumulate_into(inputs[i], g, create_graph)
            else:
                captured[i] = g
    if is_leaf_node:
        return is_target and accumulate
    return node in needed


def _with_tensor_hooks(node, grad_outputs, nr):
    """The gradient of output `nr` after the hooks registered on that tensor (as PyTorch applies
    them before handing a gradient to autograd.grad's caller)."""
    g = grad_outputs[nr]
    if g is None:
        return None
    if node.__class__ is AccumulateGrad:
        variable = node.variable
        hooks = variable._hooks if variable is not None else None
        for fn in list(hooks.values()) if hooks else ():
            result = fn(g)
            if result is not None:
                g = _check_hook_result(result, g, fn)
        return g
    hooks = node._tensor_hooks.get(nr) if node._tensor_hooks else None
    for fn in list(hooks.values()) if hooks else ():
        result = fn(g)
        if result is not None:
            g = _check_hook_result(result, g, fn)
    return g


def _on_meta_device(grads):
    from .._arrays import MetaArray, meta_array
    return tuple(g if g is None or g._data.__class__ is MetaArray else
                 Tensor._make(meta_array(g._data.shape, g._data.dtype), g._requires_grad,
                              g._grad_fn, g._vc) for g in grads)


def _conform(g, shape, np_dtype, node):
    """Sum a broadcast gradient back to its input's shape and cast it to the input's dtype."""
    if g._data.shape != shape:
        g = sum_to_shape(g, shape, node)
    if g._data.dtype != np_dtype:
        if g._data.dtype.kind == 'c' and np_dtype.kind != 'c':
            g = g.real      # a real input of a complex result: PyTorch's handle_r_to_c
        if g._data.dtype != np_dtype:
            g = g.to(from_numpy_dtype(np_dtype))
    return g


def also_of_input(grad, node, position=0):
    """grad (computed in node's backward) as a function of node's input at `position` too,
    with a zero gradient, under create_graph. PyTorch's double-backward formulas of pooling,
    reflect/replicate padding and nll_loss list that input (`self: zeros_like(self)`), so the
    gradient requires grad, and differentiating it again gives zeros where nbgrad's, a function
    of grad alone, left .grad None or raised "does not require grad"."""
    edge = node._edges[position] if node._edges is not None else None
    if edge is None or not _dispatch._modes.grad_enabled:
        return grad
    op = _ZeroGradientFrom(node.name().replace('Backward0', 'BackwardBackward0'))
    out = Tensor._make(grad._data.copy(), True, op)
    _dispatch._record(op, (grad, None), (out,), [_dispatch._edge_to(grad), edge])
    return out


class _ZeroGradientFrom(Node):
    """grad passed on, and zeros for the input it is made a function of (also_of_input); named
    as PyTorch's double-backward node of the op."""

    def __init__(self, node_name):
        self.node_name = node_name

    def backward(self, g):
        _, _, shape, dtype = self._edges[1]
        return g, Tensor._make(_dispatch._array_module(g._data).zeros(shape, dtype))

    def name(self):
        return self.node_name


def sum_to_shape(g, shape, node=None):
    """Reduce a gradient of a broadcast result to `shape` (differentiable: uses Tensor ops)."""
    gshape = g._data.shape
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise RuntimeError(_shape_error(node, gshape, shape))
    axes = list(range(lead))
    for i, size in enumerate(shape):
        gsize = gshape[lead + i]
        if size == 1 and gsize != 1:
            axes.append(lead + i)
        elif size != gsize:
            raise RuntimeError(_shape_error(node, gshape, shape))
    dispatch = _dispatch.dispatch
    if len(axes) == lead:  # only leading dims to drop (the bias of a linear layer): one sum
        return dispatch(Sum(tuple(axes), False), g)
    g = dispatch(Sum(tuple(axes), True), g)
    return dispatch(View(shape), g) if lead else g


def _shape_error(node, gshape, shape):
    name = node.name() if node is not None else 'backward'
    return (f'Function {name} returned an invalid gradient: got shape {tuple(gshape)} but expected '
            f'shape compatible with {tuple(shape)}')


_node_observers = []


def add_node_observer(observer):
    """Register an object with `node_started(node) -> token` and `node_finished(token)`, called
    around each node the engine runs (the profiler's backward ranges); with none registered the
    engine pays one check per backward. Returns a callable that removes the observer."""
    _node_observers.append(observer)

    def remove():
        if observer in _node_observers:
            _node_observers.remove(observer)
    return remove


def _observed_apply(observers, node, grad_outputs, anomaly, several_gpus):
    tokens = [obs.node_started(node) for obs in observers]
    try:
        with _device_of(grad_outputs) if several_gpus else contextlib.nullcontext():
            return _anomaly_apply(node, grad_outputs) if anomaly else \
                node._apply_backward(grad_outputs)
    finally:
        for obs, token in zip(reversed(observers), reversed(tokens)):
            obs.node_finished(token)


def _anomaly_apply(node, grad_outputs):
    """Anomaly mode: run backward, then name the forward op if it produced NaN gradients."""
    try:
        grads = node._apply_backward(grad_outputs)
    except Exception as e:
        _report_forward_trace(node)
        raise e
    from .anomaly_mode import is_anomaly_check_nan_enabled
    for i, g in enumerate(grads):
        if g is not None and is_anomaly_check_nan_enabled() and _has_nan(g._data):
            _report_forward_trace(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    return grads


def _has_nan(array):
    if array.dtype.kind not in INEXACT_KINDS:
        return False
    if array.__class__ is np.ndarray:
        return bool(np.isnan(array).any())
    import cupy
    return bool(cupy.isnan(array).any())


def _report_forward_trace(node):
    import warnings
    if node._anomaly_trace is not None:
        warnings.warn(f'Error detected in {node.name()}. Traceback of forward call that caused the '
                      f'error:\n{"".join(traceback.format_list(node._anomaly_trace))}',
                      stacklevel=3)


def _bind_ops():
    global Sum, View
    from ..ops.reduction import Sum
    from ..ops.views import View


from ._multi_grad_hook import register_multi_grad_hook  # noqa: E402,F401 (graph's public name)


# (at the end: AccumulateGrad's module takes Node and the engine's state from this one)
from ._accumulate_grad import AccumulateGrad, _accumulate_into  # noqa: E402,F401
