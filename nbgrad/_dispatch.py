"""The one dispatch point every op goes through.

`dispatch(op, *inputs)` unwraps Tensor inputs to arrays, checks that they share a device, runs the
op's forward on arrays, wraps the outputs, records the op as a graph node when grad mode is on and
an input requires grad, and notifies observers (profiler, anomaly mode, tracer). With no observer
registered that costs one check. `dispatch_inplace` is the same for `x.op_(...)`: it writes into x's
memory, bumps x's version and rebases x's autograd history.

Grad mode and anomaly mode are module globals here because this is where they are read, once per op.
"""
import contextlib
import itertools

import numpy as np

from ._arrays import (MetaArray, NO_DATA, UninitializedArray, cupy, is_cupy_array,
                      is_host_array, meta_array)
from ._memory_overlap import check_no_partial_overlap
from . import _bfloat16, _complex_autograd, _dtype, _saved_hooks
from . import _tensor as _tensor_module
from ._tensor import Tensor, _modes
from ._sparse_coo import SparseCOO
from ._tensor_subclass import give_class, keeps_class, more_derived

_ndarray = np.ndarray
_new = object.__new__
_next_sequence = itertools.count().__next__  # creation order of graph nodes (backward runs newest first)
_anomaly_enabled = False
_observers = []
_bfloat16_np = None     # ml_dtypes' bfloat16 once a bfloat16 tensor exists (see _bfloat16.py)


def _bfloat16_enabled(np_dtype):
    global _bfloat16_np
    _bfloat16_np = np_dtype


_dtype._bfloat16_listeners.append(_bfloat16_enabled)

# True while the default dtype is bfloat16: an integer operand can then give a bfloat16 result,
# so every op takes _general (where _bfloat16.widen sees to it)
_default_bfloat16 = False


def _default_dtype_set(dtype):
    global _default_bfloat16
    _default_bfloat16 = dtype is _dtype.bfloat16


_dtype._default_listeners.append(_default_dtype_set)


def dispatch(op, *inputs):
    if _observers and _entering is not op:
        return observed(op, inputs, lambda: _enter(op, inputs))
    # Fast path for the most common call: one or two CPU tensors (or a tensor and a Python
    # number), nothing to record. It is _general unrolled; keep the two in step.
    if len(inputs) <= 2:
        x = inputs[0]
        grad_enabled = _modes.grad_enabled      # (one read of the per-thread modes)
        if x.__class__ is Tensor and (not grad_enabled or (
                not x._requires_grad and x._base is None)) and x._data.__class__ is _ndarray \
                and (_bfloat16_np is None or (x._data.dtype is not _bfloat16_np and
                                              not _default_bfloat16 and
                                              not _bfloat16.told(op, _bfloat16_np))):
            if len(inputs) == 1:
                out = op.forward(x._data)
            else:
                y = inputs[1]
                yc = y.__class__
                if yc is Tensor:
                    if (grad_enabled and (y._requires_grad or y._base is not None)) or \
                            y._data.__class__ is not _ndarray or y._data.dtype is _bfloat16_np:
                        return _general(op, inputs)
                    out = op.forward(x._data, y._data)
                elif yc is float or yc is int or yc is bool:
                    out = op.forward(x._data, y)
                else:
                    return _general(op, inputs)
            if op.num_outputs != 1:
                return _wrap_outputs(op, inputs, out, None, False, None)
            if out.__class__ is not _ndarray:
                out = _as_array(out, None)  # a NumPy scalar, or a device copy (ToCopy)
            result = _new(Tensor)
            result._data = out
            result._vc = [0]
            result._base = None
            result._requires_grad = False
            result._grad_fn = None
            if not grad_enabled and _modes.inference_depth:     # (inference mode is grad off)
                result._inference = True
            if op.is_view:
                _link_view(result, x, op)
            return result
    return _general(op, inputs)


def _general(op, inputs):
    """dispatch for any inputs: GPU arrays, views, tensors that require grad (graph recording)."""
    grad_enabled = _modes.grad_enabled
    track = grad_enabled and op.differentiable
    arrays = []
    append = arrays.append
    edges = [] if track else None
    requires_grad = complex_input = meta = False
    gpu = subclass = None
    for x in inputs:
        if isinstance(x, Tensor):
            if x.__class__ is not Tensor and x.__class__ is not subclass and \
                    keeps_class(x.__class__):
                subclass = more_derived(subclass, x.__class__, _op_name(op))
            a = x._data
            if a.__class__ is not _ndarray:
                if isinstance(a, np.generic):  # a NumPy scalar that slipped into a tensor
                    a = x._data = np.asarray(a)
                elif a.__class__ is MetaArray:
                    meta = True
                elif a.__class__ is SparseCOO:
                    if not op.accepts_sparse:   # a dense op: its sparse form, or an error
                        return sparse_route(op, inputs)
                    if a.values.__class__ is not _ndarray:
                        gpu = _check_gpu(gpu, a.values, op)
                elif a.__class__ is not UninitializedArray:
                    gpu = _check_gpu(gpu, a, op)
            append(a)
            if track:
                if x._base is not None:
                    refresh_view(x)  # a view whose base gained a history after it was made
                if x._requires_grad:
                    requires_grad = True
                    if a.dtype.kind == 'c' and not op.complex_autograd:
                        complex_input = True    # refused after forward's own checks
                    fn = x._grad_fn
                    if fn is None:
                        edges.append((x._grad_accumulator(), 0, a.shape, a.dtype))
                    else:
                        edges.append((fn, x._output_nr, a.shape, a.dtype))
                    continue
                edges.append(None)
        else:
            append(x)
            if track:
                edges.append(None)
    rounds = False
    if _bfloat16_np is not None and not (op.sees_bfloat16 or op.is_view or meta):
        widened = _bfloat16.widen(op, inputs, arrays, _bfloat16_np)
        if widened is not None:
            arrays, rounds = widened
    if meta:
        out = _on_meta(op, inputs, arrays)
    elif gpu is None:
        out = op.forward(*arrays)
        if rounds:
            out = _bfloat16.narrow(out, _bfloat16_np)
    else:
        arrays = _move_cpu_scalars(arrays, gpu, op)
        with gpu_scope(gpu):  # CuPy allocates results on the current device, not the inputs'
            try:
                out = op.forward(*arrays)
            except MemoryError as e:     # (CuPy's OutOfMemoryError is one)
                from .cuda import out_of_memory
                raise out_of_memory(op, e) from e
    if complex_input:   # (an op with no complex kernel at all raised its own error above)
        raise _complex_autograd.refusal(op, 'an input is complex')
    if op.num_outputs != 1:
        results = _wrap_outputs(op, inputs, out, gpu, requires_grad, edges)
        return give_class(results, subclass) if subclass is not None else results
    if out.__class__ is not _ndarray:
        out = _as_array(out, gpu)
    result = _new(Tensor)
    result._data = out
    result._vc = [0]
    result._base = None
    if not grad_enabled and _modes.inference_depth:     # (inference mode is grad off)
        result._inference = True
    if requires_grad and out.dtype.kind in 'fcV':     # (_dtype.INEXACT_KINDS, inlined: hot path)
        if out.dtype.kind == 'c' and not op.complex_autograd:
            raise _complex_autograd.refusal(op, 'the result is complex')
        result._requires_grad = True
        result._grad_fn = op
        _record(op, inputs, (result,), edges)
    else:
        result._requires_grad = False
        result._grad_fn = None
    if op.is_view:
        _link_view(result, inputs[0], op)
    if subclass is not None:
        return give_class(result, subclass)     # (a user's Tensor subclass: _tensor_subclass.py)
    return result


_entering = None  # the op an observer is letting through to dispatch (see observed)


def _enter(op, inputs):
    global _entering
    _entering = op
    try:
        return dispatch(op, *inputs)
    finally:
        _entering = None


def _run(op, inputs):
    """dispatch() for an op nbgrad re-runs internally (view replay, in-place): not re-observed."""
    global _entering
    previous = _entering
    _entering = op
    try:
        return dispatch(op, *inputs)
    finally:
        _entering = previous


def _wrap_outputs(op, inputs, out, gpu, record, edges):
    results = []
    for i, a in enumerate(out):
        if a.__class__ is not _ndarray:
            a = _as_array(a, gpu)
        if record and a.dtype.kind in 'fcV' and i not in op.non_differentiable_outputs:
            if a.dtype.kind == 'c' and not op.complex_autograd:
                raise _complex_autograd.refusal(op, 'the result is complex')
            t = Tensor._make(a, True, op)
            t._output_nr = i
        else:
            t = Tensor._make(a)
        if op.is_view:
            _link_view(t, inputs[0], op)
        results.append(t)
    if record:
        _record(op, inputs, results, edges)
        if op.keep_outputs is not None:     # (a node whose backward reads all its outputs)
            op.keep_outputs(results)
    return tuple(results)


def _record(op, inputs, outputs, edges=None):
    """Make `op` a node of the backward graph: edges to its inputs' nodes, saved tensors."""
    if edges is None:
        edges = [_edge_to(x) for x in inputs]
    op._edges = edges
    op._seq = _next_sequence()
    hooked = _saved_hooks._stack.pairs      # saved_tensors_hooks: pack what is saved
    if op.saved_inputs:
        saved = []
        users = op.saved_input_users
        for i in op.saved_inputs:
            x = inputs[i]
            is_tensor = isinstance(x, Tensor)
            if is_tensor and x._inference:
                raise RuntimeError(_tensor_module._INFERENCE_SAVED)
            # an input only the gradients of inputs that need none read: unchecked (a later
            # in-place write into it cannot change the gradients: a * 2, then a.add_(1)), and,
            # where the backward reads nothing else of it, not kept at all, as PyTorch keeps it
            # not (x * w with w constant keeps w only; saved_tensors_hooks never see x)
            checked = is_tensor and (
                users is None or any(edges[j] is not None for j in users.get(i, ())))
            if is_tensor and not checked and op.drops_unneeded_inputs:
                saved.append((None, None))
                continue
            version = x._vc[0] if checked else None
            saved.append((_saved_hooks.pack(x) if hooked and is_tensor else x, version))
        op._saved = saved
    if op.saves_output:
        out = outputs[0]
        op._saved_output = (_saved_hooks.pack(out) if hooked else out._data, out._vc,
                            out._vc[0])
    if op.num_outputs != 1:
        op._output_meta = tuple((t._data.shape, t._data.dtype, _array_module(t._data))
                                if t._requires_grad else None for t in outputs)
    if _anomaly_enabled:
        import traceback
        op._anomaly_trace = traceback.extract_stack()[:-3]


def _edge_to(x):
    """The edge from a node to input x: (x's node, output number, shape, dtype) or None."""
    if not isinstance(x, Tensor):
        return None
    if x._base is not None:
        refresh_view(x)
    if not x._requires_grad:
        return None
    a = x._data
    fn = x._grad_fn
    if fn is None:
        return (x._grad_accumulator(), 0, a.shape, a.dtype)
    return (fn, x._output_nr, a.shape, a.dtype)


def _array_module(a):
    if is_host_array(a):
        return np
    return cupy()


def _as_array(value, gpu):
    """NumPy returns scalars (np.float32) from 0-d computations; keep everything an array.
    Device arrays (an op's result, or a transfer to the GPU) pass through."""
    if value.__class__ is _ndarray:
        return value if gpu is None else cupy().asarray(value)
    if is_cupy_array(value) or value.__class__ is SparseCOO or value.__class__ is MetaArray:
        return value
    if isinstance(value, np.generic) or gpu is None:
        return np.asarray(value)
    return cupy().asarray(value)


# the modules whose ops factor matrices: on meta they compute on identity matrices (invertible,
# positive definite), not on ones
_FACTORING = frozenset(('nbgrad.ops.decompositions', 'nbgrad.ops.lu', 'nbgrad.ops.ldl',
                        'nbgrad._linalg_eig', 'nbgrad.ops.matrix_exp'))


def _on_meta(op, inputs, arrays):
    """An op on 'meta' tensors: computed on stand-in values (ones, or identity matrices for the
    factorisations; a zero-strided NumPy array each, whatever the size), its results kept as
    shapes and dtypes only. Other tensors may join as 0-dim values, or as integer and boolean
    tensors (indices, masks). The node remembers, so that the engine keeps its gradients on meta
    too."""
    for x in inputs:
        # (index and mask tensors with data may join: an op's saved indices, an embedding's)
        if isinstance(x, Tensor) and x._data.__class__ is not MetaArray and x._data.ndim and \
                x._data.dtype.kind in 'fcV':
            raise RuntimeError(f'Tensor on device {x.device} is not on the expected device meta!')
    if op.shape_from_values:
        raise NotImplementedError(f'{_op_name(op)} on meta tensors: its result\'s shape depends '
                                  f'on the values, which meta tensors do not have')
    if not op.sees_meta:
        identity = op.__class__.__module__ in _FACTORING
        arrays = [_stand_in(a, identity) if a.__class__ is MetaArray else a for a in arrays]
    op._on_meta = True
    out = op.forward(*arrays)
    if isinstance(out, tuple):
        return tuple(_as_meta(a) for a in out)
    return _as_meta(out)


def _stand_in(a, identity):
    """Values for a meta array (read-only, one element of memory per matrix at most)."""
    if identity and a.ndim >= 2:
        return np.broadcast_to(np.eye(a.shape[-2], a.shape[-1], dtype=a.dtype), a.shape)
    return np.broadcast_to(np.ones((), a.dtype), a.shape)


def _as_meta(a):
    if a is None or a.__class__ is MetaArray:
        return a
    a = np.asarray(a)
    return meta_array(a.shape, a.dtype)


def _check_gpu(gpu, array, op):
    device_id = array.data.device_id    # (array.device makes a new Device object each time)
    if gpu is None:
        return device_id
    if gpu != device_id:
        raise RuntimeError(f'Expected all tensors to be on the same device, but found at least two '
                           f'devices, cuda:{gpu} and cuda:{device_id}! (when checking arguments '
                           f'for {_op_name(op)}). Move them with .to(device) first.')
    return gpu


_gpu_scopes = {}


def gpu_scope(gpu):
    """A context that makes CUDA device `gpu` current (CuPy's Device; entering it is cheap when
    the device already is current)."""
    scope = _gpu_scopes.get(gpu)
    if scope is None:
        import cupy
        scope = _gpu_scopes[gpu] = cupy.cuda.Device(gpu)
    return scope


def device_scope(array):
    """A context with `array`'s GPU current; nothing to do for a NumPy array."""
    if array.__class__ is SparseCOO:     # (a sparse tensor's memory is its values')
        array = array.values
    if is_host_array(array):
        return contextlib.nullcontext()
    return gpu_scope(array.device.id)


def _move_cpu_scalars(arrays, gpu, op):
    """CPU tensors may meet CUDA tensors only as 0-dim values (as in PyTorch); others are errors."""
    out = []
    for a in arrays:
        if a.__class__ is _ndarray:
            if a.ndim != 0:
                raise RuntimeError(
                    f'Expected all tensors to be on the same device, but found at least two '
                    f'devices, cuda:{gpu} and cpu! (when checking arguments for {_op_name(op)}). '
                    f'Move them with .to(device) or .cuda() first.')
            import cupy
            with gpu_scope(gpu):
                a = cupy.asarray(a)
        out.append(a)
    return out


def sparse_route(op, inputs):
    """A dense op given a sparse tensor: its sparse form (nbgrad.sparse), or a clear error."""
    from .sparse._routing import route
    return route(op, inputs)


def _refuse_sparse_inplace(op):
    from .sparse._routing import refuse_inplace
    return refuse_inplace(op)


def _op_name(op):
    return getattr(op, 'op_name', None) or (getattr(op, '_op_class', None) or
                                            type(op)).__name__.lower()


def _link_view(view, source, op):
    """A view shares its source's memory and version counter; in grad mode it also remembers how
    to remake it from its source (for autograd through in-place writes; see refresh_view)."""
    root = source._base if source._base is not None else source
    view._base = root
    view._vc = source._vc
    if view._inference is not source._inference:   # a view is what its source is (PyTorch)
        view._inference = source._inference
    if _modes.grad_enabled:
        view._view_src = (source, op)
        view._view_stamp = source._vc[0]
    elif source._requires_grad and view._data.dtype.kind in 'fcV':
        # PyTorch's view made in no_grad mode still requires grad, a leaf without history;
        # gradients that reach it go nowhere (not to the source, nor to its own .grad)
        view._requires_grad = True
        view._no_grad_view = True


def _as_strided_name():
    return 'AsStridedBackward0'


def refresh_view(view):
    """Re-derive a view's autograd identity from its base after the base's history changed.

    Views remember (parent, view op). When the base was modified in place (its version moved past
    the view's stamp), the view's grad_fn is remade by replaying the view op on the parent, so that
    gradients flow through the base's new history (PyTorch regenerates view grad_fns the same way).
    """
    if view._view_stamp == view._vc[0] or view._view_src is None:
        return  # up to date, or made in no_grad mode (PyTorch does not track those either)
    parent, op = view._view_src
    if parent._base is not None:
        refresh_view(parent)
    if parent._requires_grad and _modes.grad_enabled:
        fresh = _run(op.replay_copy(), (parent,))
        if fresh._grad_fn is not None:
            # PyTorch remakes such a view with as_strided and names its node so; ours replays the
            # view op (same gradient) and takes the name, so graphs read the same in both
            fresh._grad_fn.name = _as_strided_name
        view._grad_fn = fresh._grad_fn
        view._output_nr = fresh._output_nr
        view._requires_grad = fresh._requires_grad
    view._view_stamp = view._vc[0]


# ---------------------------------------------------------------------------------------------
# Observers
# ---------------------------------------------------------------------------------------------

def add_observer(observer):
    """Register an object with `op_started(op, inputs) -> token` and `op_finished(token, outputs)`.

    The profiler, anomaly mode's bookkeeping and tracers use this; nothing patches ops one by one.
    Returns a callable that removes the observer.
    """
    _observers.append(observer)

    def remove():
        if observer in _observers:
            _observers.remove(observer)
    return remove


_observing_in_place = False     # op_started is being told of an in-place op (forward AD reads it)


def observed(op, inputs, run, in_place=False):
    """Run `run()` (which performs `op` on `inputs`) between the observers' start/finish calls."""
    global _observing_in_place
    observers = list(_observers)
    _observing_in_place = in_place
    try:
        tokens = [obs.op_started(op, inputs) for obs in observers]
    finally:
        _observing_in_place = False
    outputs = run()
    for obs, token in zip(observers, tokens):
        obs.op_finished(token, outputs)
    return outputs


# ---------------------------------------------------------------------------------------------
# In-place ops
# ---------------------------------------------------------------------------------------------

def dispatch_inplace(op, target, *others):
    """target.<op>_(*others): compute op(target, *others) into target's own memory."""
    inputs = (target,) + others
    if _observers:
        return observed(op, inputs, lambda: _run_inplace_on_device(op, target, inputs), True)
    if is_host_array(target._data):
        return _run_inplace(op, target, inputs)
    return _run_inplace_on_device(op, target, inputs)


def _run_inplace_on_device(op, target, inputs):
    """_run_inplace with target's GPU current, so that snapshots and temporaries land there."""
    if target._data.__class__ is SparseCOO:
        return _sparse_inplace(op, target, inputs)
    if is_host_array(target._data):
        return _run_inplace(op, target, inputs)
    with gpu_scope(target._data.device.id):
        return _run_inplace(op, target, inputs)


def _sparse_inplace(op, target, inputs):
    """In-place ops with a sparse operand (nbgrad.sparse._inplace)."""
    from .sparse._inplace import run_inplace
    return run_inplace(op, target, inputs)


def _run_inplace(op, target, inputs):
    if target._inference and not _modes.inference_depth:
        raise RuntimeError(_tensor_module._INFERENCE_INPLACE)
    if target._data.__class__ is MetaArray or any(
            isinstance(x, Tensor) and x._data.__class__ is MetaArray for x in inputs[1:]):
        return _meta_inplace(op, target, inputs)
    if len(inputs) > 1 and op.overlap_checked:
        check_no_partial_overlap(target._data, [x._data for x in inputs[1:]
                                                if isinstance(x, Tensor)])
    record = False
    if _modes.grad_enabled:
        if target._requires_grad or target._base is not None:
            check_inplace_allowed(target, op)
        record = op.differentiable and (
            target._requires_grad or (target._base is not None and target._base._requires_grad)
            or any(isinstance(x, Tensor) and x._requires_grad for x in inputs[1:]))
    if not record:
        dest = target._data
        arrays = []
        for x in inputs:
            if isinstance(x, Tensor):
                a = x._data
                if a.__class__ is not dest.__class__ and (a.ndim or dest.__class__ is _ndarray):
                    return _device_mismatch_inplace(op, inputs)
                arrays.append(a)
            else:
                arrays.append(x)
        if not is_host_array(dest):
            gpu = dest.device.id
            for a in arrays:
                if a.__class__ is dest.__class__:
                    _check_gpu(gpu, a, op)
            arrays = _move_cpu_scalars(arrays, gpu, op)  # a CPU 0-dim operand, as PyTorch allows
        if _bfloat16_np is not None and not op.sees_bfloat16 and \
                _bfloat16.any_in(arrays, _bfloat16_np):
            # computed in float32 (see _bfloat16.py), then written, rounded, into dest
            written = _run(op, inputs)._data
        elif 0 in dest.strides or not getattr(dest.flags, 'writeable', True):
            with _writable(dest, op):  # an expanded tensor: only ops like fill_ may write
                written = op.forward_into(dest, *arrays)
        else:
            written = op.forward_into(dest, *arrays)
        if written is dest:
            target._vc[0] += 1
        else:
            _write_into(target, op, written, inputs)
        return target
    source = target
    if 0 in op.saved_inputs:
        source = _snapshot(target)  # backward needs the value from before the write
    result = _run(op, (source,) + tuple(inputs[1:]))
    _write_into(target, op, result._data, inputs)
    fn = result._grad_fn
    if fn is not None and fn._saved_output is not None:
        # the output an op saves is now the target itself, as in PyTorch: a later write into it
        # makes backward raise instead of using a copy of the old values
        fn._saved_output = (target._data, target._vc, target._vc[0])
    rebase_history(target, result)
    return target


def _meta_inplace(op, target, inputs):
    """An in-place op with a meta tensor: its out-of-place form checks shapes and dtypes (the
    write is then nothing: a meta tensor has no data), and autograd records it as any in-place
    op; a random op draws nothing. A meta value written into a tensor with data is PyTorch's
    error."""
    if target._data.__class__ is not MetaArray:
        raise NotImplementedError(NO_DATA)
    if _modes.grad_enabled and (target._requires_grad or target._base is not None):
        check_inplace_allowed(target, op)
    if op.__class__.__name__ == '_Resample':     # (random: nothing to draw, nothing to check)
        target._vc[0] += 1
        return target
    result = _run(op, tuple(inputs))
    _write_into(target, op, result._data, inputs)
    if result._requires_grad:
        rebase_history(target, result)
    return target


def _device_mismatch_inplace(op, inputs):
    if any(isinstance(x, Tensor) and x._data.__class__ is SparseCOO for x in inputs):
        return _sparse_inplace(op, inputs[0], inputs)   # (a sparse operand, not a device)
    devices = sorted({str(x.device) for x in inputs if isinstance(x, Tensor)})
    raise RuntimeError(f'Expected all tensors to be on the same device, but found at least two '
                       f'devices, {" and ".join(devices)}! (when checking arguments for '
                       f'{_op_name(op)}_). Move them with .to(device) first.')


def _write_into(target, op, value, inputs):
    """Store `value` in target's memory (unless forward_into already did) and bump the version."""
    if value.__class__ is SparseCOO:   # a dense target recording dense.op_(sparse)
        return _refuse_sparse_inplace(op)
    dest = target._data
    if value is not dest:
        if value.shape != dest.shape:
            shape = np.broadcast_shapes(dest.shape, value.shape) if _broadcastable(dest, value) \
                else value.shape
            if shape != dest.shape:
                raise RuntimeError(f"output with shape {list(dest.shape)} doesn't match the "
                                   f'broadcast shape {list(shape)} (in-place {_op_name(op)}_). '
                                   f'An in-place op cannot change the shape of the tensor it '
                                   f'writes into; use the out-of-place {_op_name(op)} instead.')
        _check_cast(value.dtype, dest.dtype, op)
        if dest.__class__ is not MetaArray:      # (a meta tensor has nothing to write into)
            with _writable(dest, op):
                dest[...] = value
    target._vc[0] += 1


class _writable:
    """Guards a write into `dest`. Where several elements share one memory location (an expanded
    tensor), PyTorch refuses ops that read the old values and allows those that overwrite every
    element regardless (fill_, zero_, copy_). A NumPy array flagged read-only (from_numpy of a
    read-only array) is unlocked for the write when NumPy allows it, else refused clearly."""

    def __init__(self, dest, op):
        self.dest, self.op, self.unlocked = dest, op, False

    def __enter__(self):
        dest = self.dest
        if not hasattr(dest, 'strides'):
            return
        if _self_overlapping(dest) and not self.op.overwrites:
            raise _readonly_error(self.op)
        flags = dest.flags
        if getattr(flags, 'writeable', True):  # CuPy has no read-only arrays
            return
        try:
            flags.writeable = True
        except ValueError:
            raise RuntimeError(f"{_op_name(self.op)}_: the tensor's memory is read-only (it "
                               f'comes from a read-only NumPy array or buffer). clone() it, or '
                               f'pass a writable array to from_numpy.') from None
        self.unlocked = True

    def __exit__(self, *exc):
        if self.unlocked:
            self.dest.flags.writeable = False


def _broadcastable(a, b):
    try:
        np.broadcast_shapes(a.shape, b.shape)
        return True
    except ValueError:
        return False


def _check_cast(from_np, to_np, op):
    """PyTorch's rule for an in-place result (op: the op, or its name)."""
    from ._dtype import from_numpy_dtype, can_cast
    if from_np != to_np and not can_cast(from_numpy_dtype(from_np), from_numpy_dtype(to_np)):
        name = op if isinstance(op, str) else _op_name(op)
        raise RuntimeError(f"result type {_type_word(from_np)} can't be cast to the desired output "
                           f'type {_type_word(to_np)} (in-place {name}_). Convert the '
                           f'tensor first, e.g. x = x.to(nbgrad.float32), or use the out-of-place '
                           f'{name}.')


def no_kernel(kernel, np_dtype):
    """PyTorch's error for an op that has no kernel for a dtype: the kernel's name and the
    dtype's C++ name ('Bool', 'Long'...), as NotImplementedError."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(np_dtype)}\'')


def _type_word(np_dtype):
    return {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'bfloat16': 'BFloat16',
            'int64': 'Long',
            'int32': 'Int', 'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool',
            'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble'}[np.dtype(np_dtype).name]


def _self_overlapping(a):
    """Whether several elements share one memory location (a stride-0, expanded dimension)."""
    return a.size > 1 and any(stride == 0 and size > 1 for stride, size in zip(a.strides, a.shape))


def _readonly_error(op):
    return RuntimeError(
        f'unsupported operation: more than one element of the written-to tensor refers to a single '
        f'memory location (in-place {_op_name(op)}_ on an expanded tensor). Please clone() the '
        f'tensor before performing the operation.')


def check_inplace_allowed(target, op=None):
    where = f' ({_op_name(op)}_)' if op is not None else ''
    if target._requires_grad and target._grad_fn is None and target._base is None:
        raise RuntimeError(f'a leaf Variable that requires grad is being used in an in-place '
                           f'operation{where}. Wrap the update in `with nbgrad.no_grad():` '
                           f'(as optimizers do), or work on a .clone().')
    base = target._base
    source = target._view_src
    # (a view of a leaf: the leaf may be the view's base, the view it was taken from, or the
    # view itself, made a leaf by requires_grad_() on a view of a tensor without grad)
    if base is not None and ((base._requires_grad and base._grad_fn is None) or (
            target._requires_grad and target._grad_fn is None and not base._requires_grad) or (
            source is not None and source[0]._requires_grad and source[0]._grad_fn is None)):
        raise RuntimeError(f'a view of a leaf Variable that requires grad is being used in an '
                           f'in-place operation{where}. Wrap it in `with nbgrad.no_grad():` or '
                           f'clone the base first.')
    if base is not None and source is None and (target._requires_grad or base._requires_grad):
        raise RuntimeError(
            f'A view was created in no_grad mode and is being modified inplace with grad mode '
            f'enabled{where}. Given that this use case is ambiguous and error-prone, it is '
            f'forbidden. You can clarify your code by moving both the view and the inplace either '
            f'both inside the no_grad block (if you don\'t want the inplace to be tracked) or both '
            f'outside (if you want the inplace to be tracked).')
    if source is not None and source[1].multi_view and (target._requires_grad or (
            base is not None and base._requires_grad)):
        raise RuntimeError(
            f'Output {target._output_nr} of {source[1].name()} is a view and is being modified '
            f'inplace{where}. This view is the output of a function that returns multiple views. '
            f'Such functions do not allow the output views to be modified inplace. You should '
            f'replace the inplace operation by an out-of-place one.')


def _snapshot(target):
    """A copy of target's current value that keeps target's place in the graph."""
    if target._base is not None:
        refresh_view(target)
    t = Tensor._make(target._data.copy(), target._requires_grad, target._grad_fn)
    t._output_nr = target._output_nr
    return t


def rebase_history(target, result):
    """After an in-place write, `target` now stands for `result`'s node in the graph."""
    if not result._requires_grad:
        return
    owner = target if target._base is None else target._base
    old = (owner._grad_fn, owner._output_nr) if owner._retains_grad else None
    if target._base is None:
        target._grad_fn = result._grad_fn
        target._output_nr = result._output_nr
        target._requires_grad = True
    else:
        from .autograd.copy_slices import CopySlices
        CopySlices.rebase(target, result)
    if old is not None:   # retain_grad follows the tensor to its new node, as in PyTorch
        fn, nr = old
        if fn is not None and fn._retained:
            fn._retained.pop(nr, None)
        owner._retains_grad = False
        owner.retain_grad()
