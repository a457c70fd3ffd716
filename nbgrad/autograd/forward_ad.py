"""torch.autograd.forward_ad: forward-mode AD with dual tensors.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        jvp = forward_ad.unpack_dual(y).tangent      # J_f(primal) @ tangent

While a dual level is open, an observer of the dispatcher gives every op that reads a tensor
with a tangent the tangents of its results: the Jacobian-vector product of the op, computed from
the op's backward formula by the double-backward trick (the vector-Jacobian product is linear in
its cotangent v, so differentiating <vjp(v), tangent> with respect to v gives J @ tangent). Every
op whose backward is differentiable has a forward derivative so, with PyTorch's values; an op
costs a forward and two backwards of itself (PyTorch's own forward formulas cost about one).

As in PyTorch:
- one level at a time ("Nested forward mode AD is not supported"); leaving it drops every tangent;
- make_dual returns a view of the primal carrying the tangent; unpack_dual gives the primal (a
  view without the tangent) and the tangent;
- tangents follow ops under no_grad too, and stay differentiable where the op's inputs require
  grad (forward-over-reverse);
- a view's tangent is the same view of its base's tangent, so in-place ops through views update
  the base's tangent.
Complex dual tensors are refused (nbgrad's forward AD is real-valued). An op that draws random
numbers is replayed from the CPU generator's state before it, so its tangent uses the same draw
and the generator ends where the op left it.
"""
import collections
import copy
import weakref

from .. import _dispatch
from .. import random as _random
from .._tensor import Tensor

__all__ = ['dual_level', 'enter_dual_level', 'exit_dual_level', 'make_dual', 'unpack_dual',
           'UnpackedDualTensor']

UnpackedDualTensor = collections.namedtuple('UnpackedDualTensor', ['primal', 'tangent'])

_TANGENT = '_fw_tangent'
_level = None       # the open level's _Propagation, or None


def _tangent(t):
    return t.__dict__.get(_TANGENT) if isinstance(t, Tensor) else None


def has_tangent(t):
    """Whether t carries a tangent now (for functions that take a path only for tensors that
    need derivatives: requires_grad alone would miss dual tensors)."""
    return _level is not None and _tangent(t) is not None


def has_tangent_anywhere(values):
    """Whether a dual level is open and any of values (tensors, or lists of them) is dual."""
    if _level is None:
        return False
    return any(_tangent(v) is not None or (isinstance(v, (list, tuple)) and
                                           has_tangent_anywhere(v)) for v in values)


class _Propagation:
    """The dispatcher observer of the open level: the tangents of ops' results."""

    def __init__(self):
        # id -> tensor with a tangent, cleared on exit (not a WeakSet: it compares tensors)
        self.duals = weakref.WeakValueDictionary()
        self.busy = False                   # computing a tangent: its own ops are not followed

    def set_tangent(self, t, tangent):
        t.__dict__[_TANGENT] = tangent
        self.duals[id(t)] = t

    def clear(self):
        for t in list(self.duals.values()):
            t.__dict__.pop(_TANGENT, None)

    # -- observer API --------------------------------------------------------------------------
    def op_started(self, op, inputs):
        if self.busy or not any(_tangent(x) is not None for x in inputs):
            return None
        # an in-place op overwrites its target: keep the value it read
        before = None
        if _dispatch._observing_in_place and isinstance(inputs[0], Tensor):
            before = Tensor._make(inputs[0]._data.copy())
        # (a copy as dispatched, before forward touched it; a custom Function's ctx itself; the
        # CPU generator's state, so that the replay draws what the op drew, and nothing more)
        return copy.copy(op), op, inputs, before, _random.default_generator.get_state()

    def op_finished(self, token, outputs):
        if token is None or self.busy:
            return
        op, ran, inputs, before, rng = token
        results = outputs if isinstance(outputs, tuple) else (outputs,)
        if not op.differentiable:
            return
        self.busy = True
        try:
            if getattr(ran, '_fn_cls', None) is not None:
                tangents = _function_tangents(ran, inputs)
            else:
                after = _random.default_generator.get_state()
                _random.default_generator.set_state(rng)
                try:
                    tangents = _op_tangents(op, inputs, before)
                finally:
                    _random.default_generator.set_state(after)
            for t, tangent in zip(results, tangents):
                if tangent is not None and isinstance(t, Tensor):
                    self._give(t, tangent, before is not None)
        finally:
            self.busy = False

    def _give(self, t, tangent, in_place):
        """t's tangent is now `tangent`. An in-place op writes it into t's tangent (views of it
        follow); a view of a tensor with no tangent gives its base a zero one first, t's tangent
        being the same view of it (as PyTorch's views of a dual base)."""
        existing = _tangent(t)
        if in_place and existing is None and t._base is not None:
            from .copy_slices import _view_chain, replay
            from .._creation import zeros_like
            base = t._base
            if _tangent(base) is None:
                self.set_tangent(base, zeros_like(base).detach())
            existing = replay(_view_chain(t), _tangent(base))
            self.set_tangent(t, existing)
        if existing is not None and in_place:
            with _no_grad():       # (written into the tangent: its views follow)
                existing.copy_(tangent)
        else:
            self.set_tangent(t, tangent)


# Ops linear in their inputs whose backward is not the transpose of their forward where indices
# repeat (the last write wins forward; every duplicate gets the gradient back): their tangent is
# the op applied to the tangents (zeros where an input has none), as PyTorch's forward formulas
_LINEAR_WRITES = ('IndexPut', 'Scatter', 'IndexAdd')


def _op_tangents(op, inputs, before):
    """The tangents of op's results: views of the input's tangent for a view op, else
    Jacobian-vector products by the double-backward trick."""
    from .api import grad
    from .grad_mode import enable_grad, is_grad_enabled
    from .._creation import ones_like, zeros_like
    if op.is_view and not hasattr(op, 'on_stand_in'):
        # linear and memory-sharing: the same view of the tangent (as_strided addresses the
        # primal's storage: it takes the general path below)
        tangent = _tangent(inputs[0])
        if tangent is None:
            return ()
        out = _dispatch._run(op.replay_copy(), (tangent,))
        return out if isinstance(out, tuple) else (out,)
    if op.__class__.__name__ in _LINEAR_WRITES and _linear_write(op) and \
            all(isinstance(x, Tensor) or x is None for x in inputs):
        return _applied_to_tangents(op, inputs, before)
    # the tangent is a function of the inputs that require grad, and of tangents that do
    differentiate = is_grad_enabled() and any(
        isinstance(x, Tensor) and (x.requires_grad or (_tangent(x) is not None and
                                                       _tangent(x).requires_grad))
        for x in inputs)
    primals = list(inputs)
    if before is not None:
        primals[0] = before
    positions = [i for i, x in enumerate(inputs) if _tangent(x) is not None]
    for i in positions:
        if inputs[i].is_complex():
            raise NotImplementedError(
                f'forward-mode AD of complex tensors is not supported in nbgrad yet '
                f'({_dispatch._op_name(op)} got a complex dual tensor)')
    with enable_grad():
        for i in positions:
            # each dual input's own variable, which only this op reads (differentiating by the
            # input itself would also follow paths through its other inputs: d * d, x + f(x)):
            # an alias keeping its graph where that is needed (the tangent stays a function of
            # what the input depends on), else a leaf copy
            x = primals[i]
            primals[i] = x.view_as(x) if differentiate and x.requires_grad else \
                x.detach().requires_grad_()
        out = _dispatch._run(copy.copy(op), tuple(primals))
        outs = out if isinstance(out, tuple) else (out,)
        wanted = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not wanted:
            return ()
        # (cotangents of ones: a backward formula may be NaN at a zero gradient, 0 * inf)
        cotangents = [ones_like(outs[k]).detach().requires_grad_() for k in wanted]
        try:
            vjps = grad([outs[k] for k in wanted], [primals[i] for i in positions],
                        cotangents, create_graph=True, allow_unused=True)
            pairs = [(g, _tangent(inputs[i])) for g, i in zip(vjps, positions)
                     if g is not None and g.requires_grad]
            if not pairs:
                jvps = [None] * len(wanted)
            else:
                # (retain_graph: a decomposition's backward reads its saved outputs, whose
                # node this pass can reach more than once)
                jvps = grad([g for g, _ in pairs], cotangents, [t for _, t in pairs],
                            retain_graph=True, create_graph=differentiate, allow_unused=True)
        except RuntimeError as e:
            raise RuntimeError(f'forward-mode AD through {_dispatch._op_name(op)}: its backward '
                               f'is not differentiable in nbgrad ({e})') from None
    tangents = [None] * len(outs)
    for k, jvp in zip(wanted, jvps):
        tangents[k] = jvp if jvp is not None else zeros_like(outs[k]).detach()
        if not differentiate:
            tangents[k] = tangents[k].detach()
    return tangents


def _linear_write(op):
    """Whether the op overwrites (index_put without accumulate, scatter, index_copy)."""
    kind = op.__class__.__name__
    if kind == 'IndexPut':
        return not op.accumulate
    if kind == 'Scatter':
        return op.mode not in ('add', 'multiply') and not getattr(op, 'reduce_arg', None)
    return getattr(op, 'mode', None) == 'copy'


def _applied_to_tangents(op, inputs, before):
    """The op run on the inputs' tangents (zeros for a differentiable input without one; index
    and other integer inputs as they are)."""
    from .._creation import zeros_like
    args = []
    for i, x in enumerate(inputs):
        value = before if i == 0 and before is not None else x
        if isinstance(x, Tensor) and (x.is_floating_point() or x.is_complex()):
            tangent = _tangent(x)
            args.append(tangent if tangent is not None else zeros_like(value).detach())
        else:
            args.append(x)
    out = _dispatch._run(copy.copy(op), tuple(args))
    return out if isinstance(out, tuple) else (out,)


def _function_tangents(ctx, inputs):
    """A custom autograd.Function's tangents: its jvp staticmethod (PyTorch's error where it has
    none), given the tangent of each input (None where it has none); ctx.saved_tensors there
    are what forward saved with save_for_forward (or save_for_backward)."""
    saved = ctx.__dict__.get('_to_save_forward') or ctx._to_save
    recorded = ctx.__dict__.get('_saved')
    if not recorded and saved:
        ctx._saved = [None if t is None else ('input', t, t._vc, t._vc[0]) for t in saved]
    try:
        result = ctx._fn_cls.jvp(ctx, *(_tangent(x) for x in inputs))
    finally:
        if not recorded and saved:
            ctx._saved = recorded
    return result if isinstance(result, tuple) else (result,)


class _no_grad:
    def __enter__(self):
        from .grad_mode import no_grad
        self.mode = no_grad()
        self.mode.__enter__()

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)


# ---------------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------------

def enter_dual_level():
    """Open the (single) dual level; returns its number, 0."""
    global _level
    if _level is not None:
        raise RuntimeError('Nested forward mode AD is not supported at the moment')
    _level = _Propagation()
    _level.remove = _dispatch.add_observer(_level)
    return 0


def exit_dual_level(*, level=None):
    """Close the dual level: every tangent made in it is dropped."""
    global _level
    if _level is None or level not in (None, 0):
        raise RuntimeError('Trying to exit a forward AD level that was not the last one that '
                           'was created. This is not supported.')
    current, _level = _level, None
    current.remove()
    current.clear()


class dual_level:
    """Context manager: the dual level in which dual tensors live."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()


def _check_level(level, what):
    if _level is None:
        raise RuntimeError(f'Trying to {what} for forward AD but no level exists, make sure to '
                           f'enter_dual_level() first.')
    if level not in (None, 0):
        raise RuntimeError(f'Trying to {what} for forward AD at level {level}, which does not '
                           f'exist (nbgrad has one level, 0).')


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` (same shape) as its forward gradient."""
    _check_level(level, 'create a dual Tensor')
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f'make_dual expects tensors, got {type(tensor).__name__} and '
                        f'{type(tangent).__name__}')
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f'Expected primal to be floating point or complex, but got: '
                         f'{tensor.dtype}')
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f'Expected tangent to be floating point or complex, but got: '
                         f'{tangent.dtype}')
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f'Trying to set a forward gradient that has a different size than '
                           f'that of the original Tensor, this is not supported. Tensor is of '
                           f'size {list(tensor.shape)} while the given forward gradient is of '
                           f'size {list(tangent.shape)}.')
    if tensor.is_complex():
        raise NotImplementedError('forward-mode AD of complex tensors is not supported in '
                                  'nbgrad yet')
    if tangent.device != tensor.device:
        raise RuntimeError(f'Expected tangent to be on the same device as the primal '
                           f'({tensor.device}), but got {tangent.device}')
    from ..ops.views import View
    dual = _dispatch._run(View(tuple(tensor.shape)), (tensor,))     # (not followed: no tangent)
    if _tangent(tensor) is not None:
        raise RuntimeError('Trying to set a forward gradient on a Tensor that already has one '
                           'at this level (make_dual of a dual tensor): unpack_dual it first.')
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    if tangent.stride() != tensor.stride():
        # (PyTorch's: a tangent laid out otherwise, an expanded one, is copied into the
        # primal's layout, so in-place ops on the dual cannot spread through aliased rows or
        # reach the caller's tensor)
        from .._creation import empty_like
        tangent = empty_like(tensor).copy_(tangent)
    _level.set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the primal as a view without the tangent, and the tangent (None for a
    tensor that has none, or outside the level)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f'unpack_dual expects a Tensor, got {type(tensor).__name__}')
    if level not in (None, 0):
        raise RuntimeError(f'Trying to unpack a dual Tensor at level {level}, which does not '
                           f'exist (nbgrad has one level, 0).')
    tangent = _tangent(tensor) if _level is not None else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    from ..ops.views import View
    primal = _dispatch._run(View(tuple(tensor.shape)), (tensor,))
    return UnpackedDualTensor(primal, tangent)
