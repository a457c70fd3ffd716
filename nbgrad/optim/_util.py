"""What the element-wise optimizers share: the argument checks with PyTorch's messages, the
scalar state tensors ('step', 'mu_product'...), and the engine that runs an update kernel over
every parameter of a group.

Why an engine: PyTorch's CPU for-loop optimizers run a handful of fused, multi-threaded kernels per
parameter. NumPy runs one single-threaded pass per ufunc, so the same update costs about twice as
many passes over memory. Each optimizer writes its update once, as a `kernel(xp, cfg, *arrays,
*scratch)` of in-place ufunc calls with `out=` (no temporaries). `run_updates` cuts every big
C-contiguous NumPy parameter (with its grad and state) into pieces of `PIECE` elements with
reusable scratch buffers, and, when a step touches enough elements, spreads the pieces and the
small parameters over a few threads (NumPy releases the GIL inside ufunc loops). Big strided
parameters run the kernel once on the whole arrays; CuPy parameters run a few at a time on flat
buffers (_multi_tensor).
"""
import itertools
import threading

import numpy as np

from .._arrays import MetaArray
from .. import _dtype
from .._threads import executor as _executor, worker_count
from .._creation import full, tensor
from .._sparse_coo import SparseCOO
from .._tensor import Tensor
from . import _device_scalars, _sparse_grads
from ._multi_tensor import run_cuda_updates
from ._opmath import run_reference
from .optimizer import Optimizer, _closure_loss, _use_grad_for_differentiable

PIECE = 1 << 18            # elements per piece (measured best: fewer calls and GIL hand-offs)
PARALLEL_MIN = 1 << 17     # elements in one step below which threads cost more than they save


# ---------------------------------------------------------------------------------------------
# Argument checks (PyTorch's conditions and messages)
# ---------------------------------------------------------------------------------------------

_WHAT = {'lr': 'learning rate', 'eps': 'epsilon value', 'weight_decay': 'weight_decay value',
         'momentum': 'momentum value', 'lr_decay': 'lr_decay value', 'alpha': 'alpha value',
         'initial_accumulator_value': 'initial_accumulator_value value',
         'momentum_decay': 'momentum_decay value', 'rho': 'rho value'}


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError('Tensor lr must be 1-element')


def check_nonnegative(**values):
    """ValueError('Invalid <what>: <value>') for the first value that is not >= 0 (NaN too)."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f'Invalid {_WHAT[name]}: {value}')


def check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f'Invalid beta parameter at index {i}: {betas[i]}')


def check_fused(fused, foreach, differentiable):
    """PyTorch's checks of fused=True (run after Optimizer.__init__, as in PyTorch)."""
    if fused:
        if differentiable:
            raise RuntimeError('`fused` does not support `differentiable`')
        if foreach:
            raise RuntimeError('`fused` and `foreach` cannot be `True` together.')


def check_supported(optimizer, capturable=False, differentiable=False):
    """The options nbgrad does not implement: a clear error instead of a silently different step."""
    name = type(optimizer).__name__
    if capturable:
        raise NotImplementedError(
            f'{name}(capturable=True) is not supported by nbgrad: it exists for CUDA-graph '
            'capture, which nbgrad does not do. Leave capturable=False (the numbers are the same).')
    if differentiable and getattr(optimizer, '_differentiable_step', None) is None:
        raise NotImplementedError(
            f'{name}(differentiable=True) is not supported by nbgrad: its step runs on the raw '
            'arrays, outside autograd. SGD, Adam, AdamW, Adagrad, Adadelta, Adamax, ASGD, NAdam, '
            f'RAdam, RMSprop and Rprop support differentiable=True; for {name}, leave '
            'differentiable=False.')


def check_fused_param(p):
    """PyTorch's requirement on the parameters of a fused=True optimizer."""
    if not p.is_floating_point():
        raise RuntimeError('`fused=True` requires all the params to be floating point Tensors of '
                           f"supported devices: ['cpu', 'cuda'] but {p.dtype} and "
                           f'{p.device.type}')


def scalar(x):
    """A hyperparameter as a Python number (a 1-element Tensor lr or beta gives its value)."""
    return x.item() if isinstance(x, Tensor) else x


# ---------------------------------------------------------------------------------------------
# Scalar state tensors
# ---------------------------------------------------------------------------------------------

def scalar_dtype(fused=False):
    """PyTorch's dtype for 'step' and the other scalar state: float32, or float64 when that is
    the default dtype (fused kernels always use float32)."""
    if fused:
        return _dtype.float32
    return _dtype.float64 if _dtype.get_default_dtype() == _dtype.float64 else _dtype.float32


def new_step(p, on_param_device=False, value=0.0, fused=False):
    """A fresh 'step' (or other scalar) state tensor: on the CPU, or on the parameter's device
    (fused optimizers and ASGD keep it there)."""
    if on_param_device or fused:
        t = full((), value, dtype=scalar_dtype(fused), device=p.device)
        if t._data.__class__ is not np.ndarray:
            _device_scalars.remember(t, float(t._data.dtype.type(value)))
        return t
    return tensor(value, dtype=scalar_dtype())


def advance(step_t):
    """`step_t += 1` (bumping its version, as PyTorch's in-place add does); returns the new value
    as a Python float. On a GPU without a device round trip (_device_scalars)."""
    return _device_scalars.assign(step_t, _device_scalars.value(step_t) + 1)


# ---------------------------------------------------------------------------------------------
# Running a kernel over a group's parameters
# ---------------------------------------------------------------------------------------------

_local = threading.local()


def _scratch(dtype, n_scratch):
    """This thread's n_scratch PIECE-sized scratch buffers of dtype (made once per thread)."""
    buffers = getattr(_local, 'buffers', None)
    if buffers is None:
        buffers = _local.buffers = {}
    found = buffers.get(dtype)
    if found is None or len(found) < n_scratch or found[0].size < PIECE:
        found = buffers[dtype] = [np.empty(PIECE, dtype) for _ in range(n_scratch)]
    return found[:n_scratch]


def _run_pieces(kernel, n_scratch, pieces):
    for arrays, cfg, start, stop in pieces:
        if start is None:                  # a whole (small) parameter, in any layout
            p = arrays[0]
            kernel(np, cfg, *arrays, *[b[:p.size].reshape(p.shape)
                                       for b in _scratch(p.dtype, n_scratch)])
        else:
            n = stop - start
            kernel(np, cfg, *[a[start:stop] for a in arrays],
                   *[b[:n] for b in _scratch(arrays[0].dtype, n_scratch)])


def _take_pieces(kernel, n_scratch, pieces, take):
    while True:
        i = take()
        if i >= len(pieces):
            return
        _run_pieces(kernel, n_scratch, pieces[i:i + 1])


def _flat_contiguous(arrays):
    """The arrays as 1-D views when they are C-contiguous NumPy arrays of one dtype (a strided
    grad is copied: it is only read), else None."""
    first = arrays[0]
    flat = []
    for i, a in enumerate(arrays):
        if a.__class__ is not np.ndarray or a.dtype != first.dtype:
            return None
        if not a.flags.c_contiguous:
            if i != 1:          # only the grad (position 1) may be copied
                return None
            a = np.ascontiguousarray(a)
        flat.append(a.reshape(-1))
    return flat


def _piece_size(piece):
    arrays, _, start, stop = piece
    return arrays[0].size if start is None else stop - start


def _disjoint(arrays):
    """Whether no two NumPy arrays' memory ranges overlap (a cheap, conservative test)."""
    from numpy.lib.array_utils import byte_bounds
    bounds = sorted(byte_bounds(a) for a in arrays if a.__class__ is np.ndarray and a.size)
    return all(hi <= lo for (_, hi), (lo, _) in zip(bounds, bounds[1:]))


def run_updates(kernel, n_scratch, items, parallel=True, fused_cuda=None):
    """Run `kernel(xp, cfg, *arrays, *scratch)` for every (arrays, cfg) in items, where arrays is
    (param, grad, state...) as raw arrays that the kernel updates in place and scratch are
    `n_scratch` buffers shaped like (a piece of) the param. Items run in order, unless parallel
    (they must not share memory then)."""
    pieces, total, on_gpu = [], 0, []
    for arrays, cfg in items:
        p = arrays[0]
        if p.__class__ is not np.ndarray:          # CuPy: see _multi_tensor
            on_gpu.append((arrays, cfg))
            continue
        size = p.size
        total += size
        if size <= PIECE:
            pieces.append((arrays, cfg, None, None))
            continue
        flat = _flat_contiguous(arrays)
        if flat is None:                           # a big strided parameter: whole arrays
            kernel(np, cfg, *arrays, *[np.empty_like(p) for _ in range(n_scratch)])
            continue
        pieces.extend((flat, cfg, start, min(start + PIECE, size))
                      for start in range(0, size, PIECE))
    if on_gpu:
        from ..ops._util import xp_of
        run_cuda_updates(kernel, n_scratch, on_gpu, xp_of(on_gpu[0][0][0]), fused_cuda)
    workers = min(worker_count(), len(pieces))
    # a parameter listed twice (PyTorch warns), or parameters that are views of one array, are
    # updated one after the other, as in PyTorch's for-loop
    if total < PARALLEL_MIN or workers <= 1 or not parallel or \
            not _disjoint([arrays[0] for arrays, _ in items]):
        _run_pieces(kernel, n_scratch, pieces)
        return
    # work sharing: every thread takes the next piece until none is left (largest first), so a
    # pool thread that wakes late leaves its share to the others instead of being waited for
    pieces.sort(key=_piece_size, reverse=True)
    take = itertools.count().__next__          # atomic under the GIL
    pool = _executor(workers)
    futures = [pool.submit(_take_pieces, kernel, n_scratch, pieces, take)
               for _ in range(workers - 1)]
    try:
        _take_pieces(kernel, n_scratch, pieces, take)
    finally:
        for f in futures:
            f.result()


# ---------------------------------------------------------------------------------------------
# Pieces of kernels used by several optimizers (xp: numpy or cupy; all in place)
# ---------------------------------------------------------------------------------------------

def effective_grad(xp, p, g, weight_decay, maximize, out):
    """PyTorch's `grad = -grad if maximize; grad = grad + weight_decay * param`, into out when it
    differs from the raw grad (which is never written)."""
    if weight_decay != 0:
        xp.multiply(p, weight_decay, out=out)
        (xp.subtract if maximize else xp.add)(out, g, out=out)
        return out
    if maximize:
        return xp.negative(g, out=out)
    return g


def lerp_(xp, start, end, weight, tmp):
    """start.lerp_(end, weight) with PyTorch's two formulas (the one for weight >= 0.5 starts from
    end, which keeps weight = 1 exact)."""
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=start)


def decay_and_add_square_(xp, avg, g, decay, tmp):
    """avg.mul_(decay).addcmul_(g, g, value=1 - decay): PyTorch's running average of squares."""
    avg *= decay
    xp.multiply(g, 1 - decay, out=tmp)
    tmp *= g
    avg += tmp


# ---------------------------------------------------------------------------------------------
# The base of every optimizer whose step is one element-wise update per parameter
# ---------------------------------------------------------------------------------------------

class ElementwiseOptimizer(Optimizer):
    """An optimizer whose step is one element-wise kernel per parameter (all but LBFGS).

    A subclass gives `kernel` (a staticmethod, see run_updates), `n_scratch`, and
    `_prepare(group, p)`: it makes the parameter's state on its first step, advances the scalar
    state ('step'...), and returns (the element-wise state tensors in the kernel's order, the
    kernel's cfg, the number of in-place writes PyTorch's step makes into the param and into each
    of those tensors, for their version counters)."""
    kernel = None
    n_scratch = 1
    fused_cuda = None                     # a _fused_cuda.FusedKernel doing `kernel` in one launch
    reference = None                      # PyTorch's step op by op, for float16 (see _opmath)
    _scalar_state = ('step',)             # state entries PyTorch keeps as 0-dim tensors
    _scalar_state_on_device = False       # ASGD keeps them on the parameter's device
    _legacy_keys = ()                     # group options an older PyTorch's state_dict may lack
    _LEGACY_VALUES = {'foreach': None, 'fused': None, 'momentum': 0}    # the rest: False

    def __setstate__(self, state):
        """Also what PyTorch's __setstate__ does for state_dicts of older versions: fill in the
        newer group options (in PyTorch's order) and make number-valued scalar state tensors."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key in self._legacy_keys:
                group.setdefault(key, self._LEGACY_VALUES.get(key, False))
            for p in group['params']:
                p_state = self.state.get(p)
                for key in self._scalar_state if p_state else ():
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = new_step(p, self._scalar_state_on_device,
                                                float(p_state[key]), bool(group.get('fused')))

    def _prepare(self, group, p):
        raise NotImplementedError

    def _check_sparse(self, group):
        """Raise unless this optimizer can take a sparse gradient with the group's options (most
        cannot: PyTorch's error)."""
        raise _sparse_grads.refusal(self)

    def _sparse_step(self, group, p):
        raise NotImplementedError

    # an optimizer supporting differentiable=True defines _differentiable_step(group, p): its
    # step for one parameter in Tensor ops, recorded by autograd as PyTorch's
    _differentiable_step = None

    def _state(self, group, p):
        """p's state, made by the class's _init_state(p, group, state) on its first step."""
        state = self.state[p]
        if len(state) == 0:
            self._init_state(p, group, state)
        return state

    def _steps_op_by_op(self, group, p):
        """Whether p takes PyTorch's single-tensor step in Tensor ops (_differentiable_step, run
        without recording): float16 and bfloat16 CPU parameters of an optimizer with no
        `reference`. nbgrad's ops round those dtypes as PyTorch's kernels do, op by op, where the
        fused `kernel` would round differently."""
        return self.reference is None and self._differentiable_step is not None and \
            not group.get('fused') and p._data.__class__ is np.ndarray and \
            _dtype.is_reduced_float(p._data.dtype)

    def _state_name(self, p, t):
        return next((repr(k) for k, v in self.state[p].items() if v is t), 'state')

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one optimization step; closure (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        todo = [(group, [p for p in group['params'] if p.grad is not None])
                for group in self.param_groups]
        for group, params in todo:      # refuse before anything changes
            for p in params:
                if p._data.dtype.kind not in _dtype.INEXACT_KINDS:
                    raise RuntimeError(
                        f'{type(self).__name__} updates floating-point or complex parameters '
                        f'only: got a {p.dtype} parameter of shape {tuple(p.shape)}')
                if p.grad._data.__class__ is SparseCOO:
                    self._check_sparse(group)
        with _device_scalars.batched():   # GPU-resident scalar state: one write launch
            for group, params in todo:
                if group.get('differentiable'):
                    for p in params:
                        self._differentiable_step(group, p)
                    continue
                entries = []
                for p in params:
                    if p.grad._data.__class__ is SparseCOO:
                        self._sparse_step(group, p)
                        continue
                    if self._steps_op_by_op(group, p):
                        self._differentiable_step(group, p)
                        continue
                    tensors, cfg, bumps = self._prepare(group, p)
                    entries.append(((p, p.grad, *tensors), cfg, bumps))
                run_entries(type(self), entries,
                            lambda i, j: f'{type(self).__name__}: the state '
                                         f'{self._state_name(entries[i][0][0], entries[i][0][j])}',
                            op_by_op=not group.get('fused'))
        return loss


def real_view(array):
    """A complex array as the real array of its (real, imag) pairs (shape + (2,)), sharing its
    memory: PyTorch's optimizers update a complex parameter as torch.view_as_real of it, so its
    grad and its state are viewed the same way and every kernel runs unchanged on real numbers
    (Adam's second moment, Rprop's signs... are per real component, as in PyTorch). A real array
    (a real grad of a complex parameter cannot occur) comes back as it is."""
    if array.dtype.kind != 'c':
        return array
    # (as view_as_real does it: any strides, NumPy or CuPy)
    from ..ops._util import xp_of
    return xp_of(array).lib.stride_tricks.as_strided(
        array.real, array.shape + (2,), array.strides + (array.itemsize // 2,))


def _check_shapes(entries, describe):
    """RuntimeError (PyTorch's kind) when a state tensor does not have its parameter's shape (a
    state_dict of other parameters was loaded), before anything is written."""
    for i, (tensors, _, _) in enumerate(entries):
        shape = tensors[0]._data.shape
        for j, t in enumerate(tensors[2:], 2):
            if t._data.shape != shape:
                raise RuntimeError(
                    f'{describe(i, j)} has shape {tuple(t._data.shape)} but its parameter has '
                    f'shape {tuple(shape)}: the state must have the shape of the parameter (was '
                    'a state_dict made for other parameters loaded?). The parameter is unchanged.')


def run_entries(optimizer_class, entries, describe, op_by_op=True):
    """Update parameters in place: entries are ((param, grad, *states) as Tensors, the kernel's
    cfg, the in-place writes PyTorch's step makes into param and each state). float32/float64
    parameters run the class's fast `kernel`; float16 and bfloat16 ones (with op_by_op) its
    `reference`, which rounds as PyTorch does (see _opmath). describe(i, j) names state j of
    entry i in errors.
    Shared by the optimizer classes and the functional forms (torch.optim.adam.adam...)."""
    reference = optimizer_class.reference
    items, reduced, widened = [], [], []
    for tensors, cfg, _ in entries:
        arrays = tuple(t._data for t in tensors)
        shape = arrays[0].shape
        for a in arrays[2:]:
            if a.shape != shape:
                _check_shapes(entries, describe)        # (raises, naming the state)
        if arrays[0].__class__ is MetaArray:
            continue        # (a meta parameter has no values to update)
        if arrays[0].dtype.kind == 'c':
            arrays = tuple(real_view(a) for a in arrays)
        if _dtype.is_reduced_float(arrays[0].dtype) and arrays[0].__class__ is np.ndarray:
            if op_by_op and reference is not None:
                reduced.append((arrays, cfg))
            else:       # fused=True (or no reference): the kernel in float32, as PyTorch's
                widened.append((arrays, cfg))     # fused CPU kernels compute half and bfloat16
        else:
            items.append((arrays, cfg))
    if items:
        run_updates(optimizer_class.kernel, optimizer_class.n_scratch, items,
                    fused_cuda=optimizer_class.fused_cuda)
    for arrays, cfg in reduced:
        run_reference(reference, cfg, arrays)
    for arrays, cfg in widened:
        wide = tuple(a.astype(np.float32) for a in arrays)
        run_updates(optimizer_class.kernel, optimizer_class.n_scratch, [(wide, cfg)])
        for narrow, result in zip(arrays[:1] + arrays[2:], wide[:1] + wide[2:]):
            narrow[...] = result            # (rounded once to the parameter's dtype)
    for tensors, _, bumps in entries:
        for t, times in zip(tensors[:1] + tensors[2:], bumps):
            t._vc[0] += times
