"""Custom differentiable operations: subclass Function with static forward/backward (PyTorch's API).

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

forward runs with grad mode off on the real tensors; the outputs become the node's outputs. The
context object *is* the graph node (so `y.grad_fn` is the ctx, as in PyTorch).
"""
import functools
import inspect

from .. import _dispatch, _dtype, _saved_hooks
from .._tensor import Tensor
from .graph import Node, _hook_values, _modified_message, _run_post_hooks, _FREED_MESSAGE


class FunctionCtx:
    """What forward can tell backward: saved tensors, dirty and non-differentiable outputs."""

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f'save_for_backward can only save variables, but argument is of '
                                f'type {type(t).__name__}')
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._to_save_forward = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)


class BackwardCFunction(FunctionCtx, Node):
    """The node (and ctx) of one Function.apply call."""
    _materialize_grads = True
    _direct = False
    _to_save = ()
    _dirty = ()
    _non_differentiable = ()
    _fn_cls = None

    def name(self):
        return self._fn_cls.__name__ + 'Backward'

    @property
    def shown_inputs(self):
        """next_functions lists the tensor arguments only, as PyTorch's (apply(x, 3, w): 2)."""
        return tuple(i for i, is_tensor in enumerate(self._input_is_tensor) if is_tensor)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        out = []
        for entry in self._saved or ():
            if entry is None:
                out.append(None)
                continue
            kind, value, counter, version = entry
            if kind == 'packed':
                value = value.unpack()
                kind = 'input'
            if counter[0] != version:
                raise RuntimeError(_modified_message(self, value if kind == 'input' else None,
                                                     counter[0], version, array=value[0]
                                                     if kind == 'output' else None))
            if kind == 'output':
                # stored as data to avoid a node -> output -> node cycle; rebuilt with this node
                array, nr, requires = value
                t = Tensor._make(array, requires, self if requires else None, counter)
                t._output_nr = nr
                out.append(t)
            else:
                out.append(value)
        return tuple(out)

    saved_variables = saved_tensors

    @property
    def needs_input_grad(self):
        return self._needs_input_grad

    def backward(self, *grads):
        return _user_backward(self._fn_cls)(self, *grads)

    def _apply_backward(self, grad_outputs):
        return self._call(list(grad_outputs))

    def _call(self, grad_outputs):
        if self._tensor_hooks is not None or self._retained is not None:
            grad_outputs = self._run_tensor_hooks(grad_outputs)
        if self._pre_hooks:
            for fn in list(self._pre_hooks.values()):
                r = fn(tuple(grad_outputs))
                if r is not None:
                    grad_outputs = list(_hook_values(fn, r, len(grad_outputs)))
        # as in PyTorch, hooks see None for outputs that got no gradient; backward sees zeros
        # unless the Function turned materialize_grads off
        grads = _user_backward(self._fn_cls)(self, *(
            [g if g is not None else _zeros(meta)
             for g, meta in zip(grad_outputs, self._output_meta)]
            if self._materialize_grads else grad_outputs))
        if not isinstance(grads, tuple):
            grads = (grads,)
        n = len(self._edges)
        if len(grads) > n and all(g is None for g in grads[n:]):
            grads = grads[:n]
        if len(grads) != n:
            raise RuntimeError(f'function {self.name()} returned an incorrect number of gradients '
                               f'(expected {n}, got {len(grads)})')
        for i, (g, edge) in enumerate(zip(grads, self._edges)):
            if g is not None and not isinstance(g, Tensor):
                raise RuntimeError(f'function {self.name()} returned a gradient of type '
                                   f'{type(g).__name__} for input {i}: expected Variable or None')
            if g is not None and edge is None and self._input_is_tensor[i] is False:
                raise RuntimeError(f'function {self.name()} returned a gradient different than '
                                   f'None at position {i + 1}, but the corresponding forward input '
                                   f'was not a Variable')
        if self._post_hooks:
            grads = _run_post_hooks(self._post_hooks, grads, grad_outputs)
        return grads

    def _release(self):
        self._saved = None
        self._freed = True


def _zeros(meta):
    if meta is None:
        return None
    shape, np_dtype, xp = meta
    return Tensor._make(xp.zeros(shape, np_dtype))


class FunctionMeta(type):
    """Gives every Function subclass its own node class (so grad_fn types differ per Function)."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(name + 'Backward', (BackwardCFunction,), {'_fn_cls': cls})
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Base class for custom autograd operations; call them with `YourFunction.apply(...)`."""

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f'{type(self).__name__} should not be instantiated. Methods on autograd '
                      f'functions are all static, so call {type(self).__name__}.apply(...) '
                      f'directly.', DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError('Legacy autograd function with non-static forward method is deprecated. '
                           'Please use new-style autograd function with static forward method.')

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError('You must implement the forward function for custom autograd.'
                                  'Function.')

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError('You must implement either the backward or vjp method for your '
                                  'custom autograd.Function to use it with backward mode AD.')

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError('You must implement the jvp function for custom autograd.'
                                  'Function to use it with forward mode AD.')

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError('To use autograd.Function with vmap, you must either override '
                                  'the vmap staticmethod or set generate_vmap_rule=True.')

    @classmethod
    def apply(cls, *args, **kwargs):
        if _dispatch._observers:
            ctx = cls._backward_cls()
            return _dispatch.observed(ctx, args, lambda: _apply(cls, ctx, args, kwargs))
        return _apply(cls, cls._backward_cls(), args, kwargs)


def _uses_setup_context(cls):
    return cls.setup_context is not Function.setup_context


def _user_backward(cls):
    """The Function's backward: its vjp where it defines that instead (PyTorch's alias), and
    PyTorch's error where it defines both."""
    backward, vjp = cls.backward, cls.vjp
    if vjp is Function.vjp:
        return backward
    if backward is not Function.backward:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not "
                           "allowed. You should only implement one of them.")
    return vjp


def _bound_arguments(cls, args, kwargs):
    """apply's arguments as forward's positional inputs, keywords bound and defaults filled in
    (PyTorch binds them for Functions with setup_context, so setup_context's inputs and
    needs_input_grad cover every parameter; keywords given to an old-style forward too)."""
    if not kwargs and not _uses_setup_context(cls):
        return args, kwargs
    signature = cls.__dict__.get('_forward_signature')
    if signature is None:
        signature = inspect.signature(cls.forward)
        if not _uses_setup_context(cls):   # (the ctx parameter is apply's to pass)
            parameters = list(signature.parameters.values())[1:]
            signature = signature.replace(parameters=parameters)
        cls._forward_signature = signature
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.args), bound.kwargs


def _apply(cls, ctx, args, kwargs):
    args, kwargs = _bound_arguments(cls, args, kwargs)
    tensor_args = [a for a in args if isinstance(a, Tensor)]
    record = _dispatch._modes.grad_enabled and any(t.requires_grad for t in tensor_args)
    ctx._needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    ctx._input_is_tensor = tuple(isinstance(a, Tensor) for a in args)
    previous = _dispatch._modes.grad_enabled
    _dispatch._modes.grad_enabled = False
    try:
        if _uses_setup_context(cls):
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    finally:
        _dispatch._modes.grad_enabled = previous
    is_tuple = isinstance(output, tuple)
    outputs = output if is_tuple else (output,)
    if not record:
        return output
    outputs = _wire_outputs(ctx, args, outputs)
    return outputs if is_tuple else outputs[0]


def _wire_outputs(ctx, args, outputs):
    """Record ctx as the node producing `outputs`, and save what forward asked to save."""
    non_diff = {id(t) for t in ctx._non_differentiable}
    dirty = {id(t) for t in ctx._dirty}
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    for t in ctx._dirty:
        _dispatch.check_inplace_allowed(t)
    _dispatch._record(ctx, args, ())
    wired = []
    meta = []
    for nr, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            wired.append(out)
            meta.append(None)
            continue
        # (marked non-differentiable as given: a returned input is replaced by an alias below)
        differentiable = id(out) not in non_diff and out._data.dtype.kind in _dtype.INEXACT_KINDS
        if id(out) in input_ids and id(out) not in dirty:
            out = Tensor._make(out._data, False, None, out._vc)  # returned input: a fresh alias
        if differentiable and id(out) in dirty and out._base is not None:
            # a view written in place: its base's history goes through ctx (CopySlices), as
            # for a built-in in-place op on a view
            out._vc[0] += 1
            result = Tensor._make(out._data, True, ctx, out._vc)
            result._output_nr = nr
            _dispatch.rebase_history(out, result)
        elif differentiable:
            out._grad_fn = ctx
            out._output_nr = nr
            out._requires_grad = True
            if id(out) in dirty:
                out._vc[0] += 1
        # shape/dtype of every tensor output, so backward can be given zeros for the ones that
        # received no gradient (marked non-differentiable ones included, as in PyTorch)
        meta.append((out._data.shape, out._data.dtype, _dispatch._array_module(out._data)))
        wired.append(out)
    if dirty and not dirty <= {id(out) for out in outputs if isinstance(out, Tensor)}:
        raise RuntimeError('Some elements marked as dirty during the forward method were not '
                           'returned as output. The inputs that are modified inplace must all be '
                           'outputs of the Function.')
    ctx.num_outputs = len(outputs)
    ctx._output_meta = tuple(meta)
    output_ids = {id(t): nr for nr, t in enumerate(wired) if isinstance(t, Tensor)}
    saved = []
    hooked = _saved_hooks.active() is not None
    for t in ctx._to_save:
        if t is None:
            saved.append(None)
        elif hooked:   # (saved_tensors_hooks: what pack returned, unpacked by saved_tensors)
            saved.append(('packed', _saved_hooks.pack(t), t._vc, t._vc[0]))
        elif id(t) in output_ids and t._grad_fn is ctx:
            saved.append(('output', (t._data, t._output_nr, True), t._vc, t._vc[0]))
        else:
            saved.append(('input', t, t._vc, t._vc[0]))
    ctx._saved = tuple(saved)
    ctx._to_save = ()
    return tuple(wired)


def once_differentiable(fn):
    """Mark a backward as not differentiable itself: it runs without recording a graph, and
    differentiating its result again raises a clear error instead of giving a wrong answer."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        previous = _dispatch._modes.grad_enabled
        _dispatch._modes.grad_enabled = False
        try:
            outputs = fn(ctx, *args)
        finally:
            _dispatch._modes.grad_enabled = previous
        if not previous:
            return outputs
        needs = any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if not needs:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        deps = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        guarded = tuple(_DelayedError.apply(o, ctx.name(), *deps) if isinstance(o, Tensor) else o
                        for o in outs)
        return guarded[0] if single else guarded
    return wrapper


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, x, name, *deps):
        ctx.fn_name = name
        return x.clone()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f'trying to differentiate twice a function that was marked with '
                           f'@once_differentiable ({ctx.fn_name})')


class InplaceFunction(Function):
    """PyTorch's legacy base for functions with an `inplace` flag; behaves like Function."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    """Kept for API compatibility with PyTorch's legacy class; behaves like Function."""
