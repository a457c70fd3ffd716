"""Higher-level autograd: vjp, jvp, jacobian, hessian, hvp, vhp (torch.autograd.functional).

jvp and hvp use the double-backward trick: a Jacobian-vector product is the gradient, w.r.t. a dummy
cotangent u, of the vector-Jacobian product u^T J.
"""
from .._tensor import Tensor
from .api import grad as _engine_grad
from .grad_mode import enable_grad


def _grad(outputs, inputs, grad_outputs=None, **kwargs):
    """autograd.grad that treats outputs not depending on any input as contributing nothing
    (torch.autograd.functional's behaviour; strict=True callers check for that themselves)."""
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    if grad_outputs is not None:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    keep = [i for i, o in enumerate(outputs) if o.requires_grad]
    if not keep:
        return (None,) * len(inputs)
    kwargs.setdefault('allow_unused', True)
    return _engine_grad([outputs[i] for i in keep], inputs,
                        [grad_outputs[i] for i in keep] if grad_outputs is not None else None,
                        **kwargs)


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prepare_inputs(inputs, create_graph):
    """Fresh leaves that require grad (detached unless create_graph, as in PyTorch)."""
    out = []
    for x in _tuple(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f'The inputs given to functional.* must be Tensors, got '
                            f'{type(x).__name__}')
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _finish(values, create_graph, single):
    values = tuple(v if create_graph or v is None else v.detach() for v in values)
    return values[0] if single else values


def _fill_none(grads, like):
    from .._creation import zeros_like
    return tuple(g if g is not None else zeros_like(x) for g, x in zip(grads, like))


def _check_strict(grads, strict, what):
    if strict and any(g is None for g in grads):
        raise RuntimeError(f'The output of the user-provided function is independent of input '
                           f'{[g is None for g in grads].index(True)}. This is not allowed in '
                           f'strict mode ({what}).')


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    single = isinstance(inputs, Tensor)
    with enable_grad():
        ins = _prepare_inputs(inputs, create_graph)
        outputs = func(*ins)
        outs = _tuple(outputs)
        vs = _tuple(v) if v is not None else None
        if vs is None and any(o.numel() != 1 for o in outs):
            raise RuntimeError('The vector v can only be None if the user-provided function '
                               'returns a single Tensor with a single element.')
        grads = _grad(outs, ins, vs, create_graph=create_graph, allow_unused=True,
                      retain_graph=True)
    _check_strict(grads, strict, 'vjp')
    grads = _fill_none(grads, ins)
    out_values = _finish(outs, create_graph, isinstance(outputs, Tensor))
    return out_values, _finish(grads, create_graph, single)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v) by double backward."""
    from .._creation import zeros_like
    with enable_grad():
        ins = _prepare_inputs(inputs, create_graph)
        outputs = func(*ins)
        outs = _tuple(outputs)
        vs = _tuple(v) if v is not None else None
        if vs is None:
            if len(ins) != 1 or ins[0].numel() != 1:
                raise RuntimeError('The vector v can only be None if the input to the '
                                   'user-provided function is a single Tensor with a single '
                                   'element.')
            vs = (zeros_like(ins[0]) + 1,)
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        vjps = _grad(outs, ins, dummies, create_graph=True, allow_unused=True)
        used = [(g, vv) for g, vv in zip(vjps, vs) if g is not None]
        if not used:
            result = tuple(zeros_like(o) for o in outs)
        else:
            result = _grad([g for g, _ in used], dummies, [vv for _, vv in used],
                           create_graph=create_graph, allow_unused=True)
            result = _fill_none(result, outs)
    _check_strict(vjps, strict, 'jvp')
    single_out = isinstance(outputs, Tensor)
    return _finish(outs, create_graph, single_out), _finish(result, create_graph, single_out)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy='reverse-mode'):
    """d func(inputs) / d inputs, shaped output.shape + input.shape (nested for tuples)."""
    from .._creation import zeros
    single_in = isinstance(inputs, Tensor)
    with enable_grad():
        ins = _prepare_inputs(inputs, create_graph)
        outputs = func(*ins)
        outs = _tuple(outputs)
        rows = []
        for out in outs:
            per_input = [[] for _ in ins]
            flat = out.reshape(-1)
            for k in range(flat.numel()):
                grads = _grad(flat[k], ins, retain_graph=True, create_graph=create_graph,
                              allow_unused=True)
                _check_strict(grads, strict, 'jacobian')
                for i, (g, x) in enumerate(zip(grads, ins)):
                    per_input[i].append(g if g is not None else zeros(x.shape, dtype=x.dtype,
                                                                      device=x.device))
            row = []
            for i, x in enumerate(ins):
                from ..ops.shape import stack
                block = stack(per_input[i]) if per_input[i] else zeros(
                    (0,) + tuple(x.shape), dtype=x.dtype, device=x.device)
                row.append(block.reshape(tuple(out.shape) + tuple(x.shape)))
            rows.append(tuple(v if create_graph else v.detach() for v in row))
    single_out = isinstance(outputs, Tensor)
    if single_out and single_in:
        return rows[0][0]
    if single_out:
        return rows[0]
    if single_in:
        return tuple(r[0] for r in rows)
    return tuple(rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy='reverse-mode'):
    """Second derivatives of a scalar function."""
    single_in = isinstance(inputs, Tensor)

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError('The function given to hessian should return a single Tensor '
                               'with a single element.')
        grads = _grad(out, xs, create_graph=True, allow_unused=True)
        grads = _fill_none(grads, xs)
        return grads[0] if single_in else grads

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function (H symmetric, so this equals v^T H)."""
    return vhp(func, inputs, v, create_graph, strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    single = isinstance(inputs, Tensor)
    with enable_grad():
        ins = _prepare_inputs(inputs, create_graph)
        out = func(*ins)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError('The function given to hvp/vhp should return a single Tensor with a '
                               'single element.')
        grads = _grad(out, ins, create_graph=True, allow_unused=True)
        _check_strict(grads, strict, 'vhp')
        vs = _tuple(v) if v is not None else None
        if vs is None:
            if len(ins) != 1 or ins[0].numel() != 1:
                raise RuntimeError('The vector v can only be None if the input to the '
                                   'user-provided function is a single Tensor with a single '
                                   'element.')
            vs = (ins[0].detach() * 0 + 1,)
        pairs = [(g, vv) for g, vv in zip(grads, vs) if g is not None and g.requires_grad]
        if pairs:
            result = _grad([g for g, _ in pairs], ins, [vv for _, vv in pairs],
                           create_graph=create_graph, allow_unused=True)
        else:
            result = (None,) * len(ins)
        result = _fill_none(result, ins)
    return _finish((out,), create_graph, True), _finish(result, create_graph, single)

