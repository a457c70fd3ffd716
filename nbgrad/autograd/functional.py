"""Higher-level autograd: vjp, jvp, jacobian, hessian, hvp, vhp (torch.autograd.functional).

The structure, the checks and the messages follow PyTorch's torch/autograd/functional.py, so that
misuse (a list of inputs, strict=True on a function independent of its input, a bad strategy...)
fails as it does there. jvp and hvp use the double-backward trick, as PyTorch's do: a
Jacobian-vector product is the gradient, w.r.t. a dummy cotangent u, of the vector-Jacobian
product u^T J.

jacobian(strategy="forward-mode", vectorize=True) (and hessian's
outer_jacobian_strategy="forward-mode") are accepted with every check PyTorch makes on them, and
compute the same Jacobian in reverse mode (nbgrad's forward mode, autograd.forward_ad, derives
each op's forward derivative from its backward, so it would cost more here): the strategy only
chooses how the matrix is computed, not its values. (One visible difference: PyTorch's forward-over-reverse hessian returns a result
that carries a graph even with create_graph=False; nbgrad's does not.)
"""
from .._tensor import Tensor
from . import api
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ['vjp', 'jvp', 'jacobian', 'hessian', 'hvp', 'vhp']


# ---------------------------------------------------------------------------------------------
# Helpers (PyTorch's, same names without the leading underscore's meaning changed)
# ---------------------------------------------------------------------------------------------

def _as_tuple(inp, arg_name, fn_name):
    """(whether inp was a tuple, inp as a tuple of Tensors). Only a Tensor or a tuple of Tensors
    is accepted (a list is not, as in PyTorch)."""
    is_inp_tuple = isinstance(inp, tuple)
    if not is_inp_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = (f'value at index {i}' if is_inp_tuple else f'given {arg_name}')
            raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a tuple '
                            f'of Tensors but the {where} has type {type(el)}.')
    return is_inp_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undo _as_tuple on a result: to_unpack is one flag, or (outputs flag, inputs flag) for a
    nested result."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """New tensor objects for the inputs (so that func's own captures of the same tensors are not
    mistaken for the inputs): differentiable views under create_graph, detached leaves otherwise."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp) if not inp.is_sparse else inp.clone())
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    """Detach results unless the caller asked for a graph (nested tuples too)."""
    if inputs and isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f'v is a tuple of invalid length: should be {len(other)} but got '
                               f'{len(v)}.')
        raise RuntimeError('The given v should contain a single Tensor.')
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f'Entry {idx} in ' if is_other_tuple else ''
            raise RuntimeError(f'{prepend}v has invalid size: should be {el_other.size()} but got '
                               f'{el_v.size()}.')


_STRICT_MESSAGES = {
    'hessian': ('The hessian of the user-provided function with respect to input {i} is '
                'independent of the input. This is not allowed in strict mode. You should ensure '
                'that your function is thrice differentiable and that the hessian depends on the '
                'inputs.'),
    'jacobian': ('While computing the hessian, found that the jacobian of the user-provided '
                 'function with respect to input {i} is independent of the input. This is not '
                 'allowed in strict mode. You should ensure that your function is twice '
                 'differentiable and that the jacobian depends on the inputs (this would be '
                 'violated by a linear function for example).'),
    'grad_inputs': ('The gradient with respect to input {i} is independent of the inputs of the '
                    'user-provided function. This is not allowed in strict mode.'),
    'outputs': ('Output {i} of the user-provided function does not require gradients. The '
                'outputs must be computed in a differentiable manner from the input when running '
                'in strict mode.'),
}


def _check_requires_grad(inputs, input_type, strict):
    """strict=True: every tensor of `inputs` (outputs, gradients, jacobians) must depend on the
    function's inputs."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f'The output of the user-provided function is independent of '
                               f'input {i}. This is not allowed in strict mode.')
        if not inp.requires_grad:
            raise RuntimeError(_STRICT_MESSAGES[input_type].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None,
                   is_grads_batched=False):
    """autograd.grad that skips outputs not requiring grad (None for every input if none does)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(out, g) for out, g in zip(outputs, grad_outputs)
            if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return api.grad(tuple(out for out, _ in kept), inputs, tuple(g for _, g in kept),
                    allow_unused=True, create_graph=create_graph, retain_graph=retain_graph,
                    is_grads_batched=is_grads_batched)


_FILL_MESSAGES = {
    'back': ('The output of the user-provided function is independent of input {i}. This is not '
             'allowed in strict mode.'),
    'back_trick': ('The gradient with respect to the input is independent of entry {i} in the '
                   'grad_outputs when using the double backward trick to compute forward mode '
                   'gradients. This is not allowed in strict mode.'),
    'double_back': ('The jacobian of the user-provided function is independent of input {i}. '
                    'This is not allowed in strict mode.'),
    'double_back_trick': ('The hessian of the user-provided function is independent of entry {i} '
                          'in the grad_jacobian. This is not allowed in strict mode as it '
                          'prevents from using the double backward trick to replace forward mode '
                          'AD.'),
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """None gradients become zeros shaped like refs (or, strict, an error naming the stage)."""
    from .._creation import zeros_like
    res = ()
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(_FILL_MESSAGES[stage].format(i=i))
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = 'hessian' if 'double' in stage else 'jacobian'
            raise RuntimeError(f'The {what} of the user-provided function is independent of '
                               f'input {i}. This is not allowed in strict mode when '
                               f'create_graph=True.')
        res += (grads_i,)
    return res


def _prepare_v(v, others, is_others_tuple, create_graph, fn_name, none_message):
    """The vector of a vjp/jvp/vhp/hvp, checked against what it multiplies."""
    if v is not None:
        _, v = _as_tuple(v, 'v', fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, others, is_others_tuple)
    elif len(others) != 1 or others[0].nelement() != 1:
        raise RuntimeError(none_message)
    return v


_V_NONE_FOR_INPUT = ('The vector v can only be None if the input to the user-provided function '
                     'is a single Tensor with a single element.')


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the dot product of v with the Jacobian of func at inputs."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'vjp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'vjp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, 'vjp',
                       'The vector v can only be None if the user-provided function returns a '
                       'single Tensor with a single element.')
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'back')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), by the double-backward trick."""
    from .._creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jvp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, 'jvp', _V_NONE_FOR_INPUT)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'jvp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        # the backward is linear in grad_outputs: their values do not matter (zeros, not NaN)
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, 'grad_inputs', strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, 'back_trick')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_outputs_tuple))


def _construct_standard_basis_for(tensors, tensor_numels):
    """The N x N identity (N = sum of numels) split by columns into one chunk per tensor, each in
    that tensor's dtype and device: the grad_outputs that give all Jacobian rows at once."""
    total_numel = sum(tensor_numels)
    chunks = tuple(tensor.new_zeros(total_numel, numel)
                   for tensor, numel in zip(tensors, tensor_numels))
    diag_start_idx = 0
    for chunk, numel in zip(chunks, tensor_numels):
        chunk.diagonal(diag_start_idx).fill_(1)
        diag_start_idx -= numel
    return chunks


def _check_forward_mode(create_graph, strict, vectorize):
    """PyTorch's refusals for strategy="forward-mode" (see the module docstring for what nbgrad
    computes when they pass)."""
    if create_graph:
        raise NotImplementedError(
            'nbgrad.autograd.functional.jacobian: `create_graph=True` and '
            '`strategy="forward-mode"` are not supported together (yet). Please either set '
            '`create_graph=False` or `strategy="reverse-mode"`.')
    if strict:
        raise RuntimeError(
            'nbgrad.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
            'are not supported together (yet). Please either set `strict=False` or '
            '`strategy="reverse-mode"`.')
    if not vectorize:
        raise NotImplementedError(
            'Computing Jacobian using forward-AD or forward-over-reverse Hessian is'
            'only implemented for `vectorize=True`.')


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy='reverse-mode'):
    """d func(inputs) / d inputs, shaped output.shape + input.shape (a tuple per output and per
    input where func returns, or inputs is, a tuple).

    vectorize=True computes all rows with one batched autograd.grad call (nbgrad runs the batch
    entries one after the other); strategy="forward-mode" requires vectorize=True and computes
    the same matrix in reverse mode (see the module docstring)."""
    if strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".')
    if strategy == 'forward-mode':
        _check_forward_mode(create_graph, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jacobian')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'jacobian')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if vectorize:
            if strict:
                raise RuntimeError(
                    'nbgrad.autograd.functional.jacobian: `strict=True` and `vectorized=True` '
                    'are not supported together. Please either set `strict=False` or '
                    '`vectorize=False`.')
            result = _vectorized_jacobian(outputs, inputs, create_graph)
        else:
            result = _row_by_row_jacobian(outputs, inputs, create_graph, strict)
        result = _grad_postprocess(result, create_graph)
        if strategy == 'forward-mode':   # (PyTorch's forward-mode path nests lists, not tuples)
            result = [list(row) for row in result]
        return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _vectorized_jacobian(outputs, inputs, create_graph):
    """All rows at once: grad_outputs are the standard basis of the flattened outputs, batched."""
    from .._creation import zeros_like
    output_numels = tuple(output.numel() for output in outputs)
    grad_outputs = _construct_standard_basis_for(outputs, output_numels)
    flat_outputs = tuple(output.reshape(-1) for output in outputs)
    vj = list(_autograd_grad(flat_outputs, inputs, grad_outputs, create_graph=create_graph,
                             is_grads_batched=True))
    for i, vj_el in enumerate(vj):
        if vj_el is None:
            vj[i] = zeros_like(inputs[i]).expand((sum(output_numels),) + tuple(inputs[i].shape))
    # one tensor per input, rows of all outputs stacked: split by output, then make the
    # result output-major
    per_input = [[jac.view(tuple(output.shape) + tuple(inp.shape))
                  for jac, output in zip(jac_input.split(output_numels, dim=0), outputs)]
                 for jac_input, inp in zip(vj, inputs)]
    return tuple(zip(*per_input))


def _row_by_row_jacobian(outputs, inputs, create_graph, strict):
    """One autograd.grad call per element of each output."""
    from .._creation import zeros_like
    from ..ops.shape import stack
    jacobian = ()
    for i, out in enumerate(outputs):
        jac_i = tuple([] for _ in inputs)
        for j in range(out.nelement()):
            vj = _autograd_grad((out.reshape(-1)[j],), inputs, retain_graph=True,
                                create_graph=create_graph)
            for el_idx, (jac_i_el, vj_el, inp_el) in enumerate(zip(jac_i, vj, inputs)):
                if vj_el is not None:
                    if strict and create_graph and not vj_el.requires_grad:
                        raise RuntimeError(f'The jacobian of the user-provided function is '
                                           f'independent of input {i}. This is not allowed in '
                                           f'strict mode when create_graph=True.')
                    jac_i_el.append(vj_el)
                else:
                    if strict:
                        raise RuntimeError(f'Output {i} of the user-provided function is '
                                           f'independent of input {el_idx}. This is not allowed '
                                           f'in strict mode.')
                    jac_i_el.append(zeros_like(inp_el))
        # (an output with no elements has no rows: stack refuses, as in PyTorch)
        jacobian += (tuple(stack(jac_i_el, dim=0).view(tuple(out.shape) +
                                                        tuple(inputs[el_idx].shape))
                           for el_idx, jac_i_el in enumerate(jac_i)),)
    return jacobian


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy='reverse-mode'):
    """Second derivatives of a scalar function: the Jacobian of its gradient (the outer Jacobian
    by outer_jacobian_strategy, see jacobian)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'hessian')
    if outer_jacobian_strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, 'outputs of the user-provided function', 'hessian')
        _check_requires_grad(t_out, 'outputs', strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError('The function given to hessian should return a single Tensor')
        if out.nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to hessian should '
                               'contain a single element')
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_gradient(func, inputs, v, create_graph, strict, fn_name):
    """What vhp and hvp share: prepared inputs and v, func's single-element output, and its
    gradient with a graph (to differentiate again)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, fn_name, _V_NONE_FOR_INPUT)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                          fn_name)
    _check_requires_grad(outputs, 'outputs', strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f'The function given to {fn_name} should return a single Tensor')
    if outputs[0].nelement() != 1:
        raise RuntimeError(f'The Tensor returned by the function given to {fn_name} should '
                           f'contain a single element')
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, 'jacobian', strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, 'vhp')
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function, by the double-backward trick (slower than vhp;
    equal to it for a twice continuously differentiable function, whose H is symmetric)."""
    from .._creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, 'hvp')
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, 'hessian', strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back_trick')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))
