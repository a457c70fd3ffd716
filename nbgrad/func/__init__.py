"""torch.func: functional_call and the function transforms grad, grad_and_value, vjp, jvp,
jacrev, jacfwd, hessian and vmap, built on nbgrad's autograd.

nbgrad has no batching rules, and its forward mode derives each op's tangent from its backward,
so two transforms are computed another way with the same results for the functions they apply
to:
- vmap (_vmap.py) runs the function once per batch element and stacks the results (PyTorch
  pushes the batch dimension through each op). It refuses in-place writes of batched values
  into tensors from outside the function, as PyTorch's; .item() on a batched tensor runs here.
- jacfwd (and so hessian) uses reverse mode, row by row: the same Jacobian.
The transforms compose (vmap(grad(f)) for per-sample gradients, grad(grad(f))): grad keeps
the graph of its result so that an outer transform can differentiate it, and detaches what
reaches only its own (or a nested transform's) copies of the inputs (_transform_stack.py).
"""
import functools

from .._tensor import Tensor
from ..autograd import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import AccumulateGrad
from ..nn.utils.stateless import _functional_call
from ._stack_module_state import stack_module_state  # noqa: F401 (re-exported)
from ._linearize import functionalize, linearize  # noqa: F401 (re-exported)
from ._batch_norm import debug_unwrap, replace_all_batch_norm_modules_  # noqa: F401 (the same)
from ._pytree import flatten as _flatten
from ._transform_stack import calling_function as _calling, running as _running
from ._transform_checks import (HEADERS as _HEADERS, check_primal as _check_primal,
                                output_leaves as _output_leaves, split_aux as _split_aux)
from ._vmap import vmap  # noqa: F401 (re-exported)

__all__ = ['functional_call', 'grad', 'grad_and_value', 'vjp', 'jvp', 'jacrev', 'jacfwd', 'hessian',
           'vmap', 'stack_module_state', 'linearize', 'functionalize',
           'replace_all_batch_norm_modules_', 'debug_unwrap']


# -- functional_call ----------------------------------------------------------------------------

def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with the given tensors (one dict, or a tuple of dicts whose keys
    may not repeat) in place of the module's parameters and buffers for this call."""
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            for key in d:
                if key in merged:
                    raise ValueError(f'{key} appeared in multiple dictionaries; behavior of '
                                     f'functional call is ambiguous')
            merged.update(d)
    else:
        raise ValueError(f'Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of '
                         f'dicts, but got {type(parameter_and_buffer_dicts)}')
    return _functional_call(module, merged, args, kwargs, tie_weights=tie_weights,
                            strict=strict)


# -- gradients ----------------------------------------------------------------------------------

def _call(func, args, kwargs=None):
    """func(*args, **kwargs), called by a transform (backward() refuses to run in it)."""
    with _calling():
        return func(*args, **(kwargs or {}))


def _argnums_tuple(argnums, n_args):
    if not isinstance(argnums, (int, tuple, list)):
        raise RuntimeError(f'argnums must be int or Tuple[int, ...], got: {type(argnums)}')
    items = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not items:
        raise RuntimeError('argnums must be non-empty')
    for a in items:
        if not isinstance(a, int):
            raise RuntimeError(f'argnums must be int or Tuple[int, ...], got: {type(argnums)}')
        if not -n_args <= a < n_args:
            raise RuntimeError(f'Got argnum={a}, but only {n_args} positional inputs')
    if len(set(items)) != len(items):     # (a variable twice would get a wrong, split gradient)
        raise RuntimeError(f'argnums elements must be unique, got {argnums}')
    return tuple(a % n_args for a in items)


def _differentiable(tree, copies, forward=False):
    """tree's tensors as the variables of a differentiation: a tensor that already requires
    grad gets an alias in the graph (an outer transform differentiates through it, and this
    transform through the alias only: not through the uses of the tensor the function closes
    over, which are the outer variable's), others a detached copy that requires grad (appended
    to `copies`). forward: checked as jvp/jacfwd check their primals. Returns (tree, its
    leaves)."""
    leaves, rebuild = _flatten(tree)
    wired = []
    for leaf in leaves:
        _check_primal(leaf, forward)
        if not leaf.requires_grad:
            leaf = leaf.detach().requires_grad_()
            copies.append(leaf)
        else:
            with enable_grad():
                leaf = leaf.view_as(leaf)
        wired.append(leaf)
    return rebuild(wired), wired


def _wired_arguments(args, argnums, copies, forward=False):
    """(args with the argnums arguments made differentiable, those indices, their tensors in
    order): what grad_and_value and jacrev differentiate; the copies made go to `copies`."""
    numbers = _argnums_tuple(argnums, len(args))
    args = list(args)
    flat = []
    for i in numbers:
        args[i], leaves = _differentiable(args[i], copies, forward)
        flat.extend(leaves)
    return args, numbers, flat


def _grads(outputs, inputs, grad_outputs=None, **options):
    """autograd.grad of the outputs that depend on anything, zeros for every input where none
    does (an output that ignores its input has a zero gradient in torch.func, not an error)."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    seeds = grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    pairs = [(o, s) for o, s in zip(outputs, seeds if grad_outputs is not None else
                                     [None] * len(outputs)) if o.requires_grad]
    grads = [None] * len(inputs) if not pairs else _autograd_grad(
        [o for o, _ in pairs], inputs, None if grad_outputs is None else [s for _, s in pairs],
        allow_unused=True, create_graph=True, **options)
    return [g if g is not None else x.new_zeros(x.shape) for g, x in zip(grads, inputs)]


def _detached_aux(aux, private):
    """has_aux's aux, detached as PyTorch returns it (where it hangs on the transform's own
    copies of the inputs)."""
    leaves, rebuild = _flatten(aux)
    return rebuild(_outside_only(leaves, private))


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func's scalar output with respect to the argnums
    arguments, func's output) (and its aux with has_aux: ((gradient, (output, aux))))."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _running([]) as private:
            args, numbers, flat = _wired_arguments(args, argnums, private)
            with enable_grad():
                output, aux = _split_aux(_call(func, args, kwargs), 'grad_and_value(f)(*args)',
                                        has_aux)
                if not isinstance(output, Tensor):
                    raise RuntimeError(f'grad_and_value(f)(*args): Expected f(*args) to return '
                                       f'a Tensor, got {type(output)}')
                if output.dim() != 0:
                    raise RuntimeError(f'grad_and_value(f)(*args): Expected f(*args) to return '
                                       f'a scalar Tensor, got tensor with {output.dim()} dims. '
                                       f'Maybe you wanted to use the vjp or jacrev APIs '
                                       f'instead?')
                # (create_graph: an outer transform may differentiate these gradients again)
                grads = _grads(output, flat)
            *grads, value = _outside_only(grads + [output], private)
            grads = _regroup(grads, numbers, args, argnums)
            return (grads, (value, _detached_aux(aux, private))) if has_aux else (grads, value)
    return wrapper


def _outside_only(tensors, private):
    """tensors, detached where their graph reaches no leaf but the transform's own copies
    (`private`, which holds those of the transforms nested in it too): at the top level
    PyTorch's results are plain tensors, while a graph that reaches an outer variable (a
    closed-over parameter, an enclosing transform's input) is kept."""
    private_ids = {id(t) for t in private}

    def reaches_outside(t):
        seen, todo = set(), [t._grad_fn] if t._grad_fn is not None else []
        while todo:
            node = todo.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if node.__class__ is AccumulateGrad and id(node.variable) not in private_ids:
                return True
            todo.extend(e[0] for e in node._edges if e is not None)  # (the engine's edges)
        return False
    return [t.detach() if isinstance(t, Tensor) and t.requires_grad and not reaches_outside(t)
            else t for t in tensors]


def _regroup(flat_grads, numbers, args, argnums):
    """The flat gradients in the shape of the argnums arguments: one tree for an int argnums,
    a tuple of trees otherwise."""
    trees, at = [], 0
    for i in numbers:
        leaves, rebuild = _flatten(args[i])
        trees.append(rebuild(flat_grads[at:at + len(leaves)]))
        at += len(leaves)
    return trees[0] if isinstance(argnums, int) else tuple(trees)


def grad(func, argnums=0, has_aux=False):
    """The gradient of func's scalar output with respect to the argnums arguments (with aux:
    (gradient, aux))."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives the vector-Jacobian products
    with respect to every primal."""
    with _running([]) as private, enable_grad():
        wired, flat = [], []
        for primal in primals:
            tree, leaves = _differentiable(primal, private)
            wired.append(tree)
            flat.extend(leaves)
        output, aux = _split_aux(_call(func, wired), _HEADERS['vjp'], has_aux)
        out_leaves = _output_leaves(output, 'vjp')

    def vjp_fn(cotangents):
        tangent_leaves, _ = _flatten(cotangents)
        if len(tangent_leaves) != len(out_leaves):
            raise RuntimeError('Expected pytree structure of cotangents to be the same as '
                               'pytree structure of outputs to the function')
        grads = _outside_only(_grads(out_leaves, flat, tangent_leaves, retain_graph=True),
                              private)
        return _regroup(grads, range(len(primals)), list(primals), tuple(range(len(primals))))
    plain = _flatten(output)[1](_outside_only(out_leaves, private))
    return (plain, vjp_fn, _detached_aux(aux, private)) if has_aux else (plain, vjp_fn)


def _is_differentiable_dtype(t):
    return t.is_floating_point() or t.is_complex()


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J @ tangents[, aux]): the Jacobian-vector product. PyTorch computes it in
    forward mode; nbgrad differentiates the vector-Jacobian product (linear in its cotangent)
    with respect to that cotangent, against the tangents, once for the whole function (its
    forward mode, autograd.forward_ad, does the same op by op): the same values, a backward's
    cost twice. primals and tangents are tuples of tensors or of
    trees of them (a dict of parameters). The results stay differentiable for an outer
    transform or backward() whose variables they depend on (jvp of jvp, grad of jvp). An
    integer output has a zero tangent of its dtype, as PyTorch's."""
    for name, value in (('primals', primals), ('tangents', tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f'jvp(f, primals, tangents): Expected {name} to be a tuple. E.g. '
                               f'it should be valid to call f(*{name}).')
    primal_leaves, _ = _flatten(primals)
    tangent_leaves, _ = _flatten(tangents)
    for name, leaves in (('primals', primal_leaves), ('tangents', tangent_leaves)):
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(f'jvp(f, primals, tangents): Expected {name} to only contain '
                                   f'Tensors, got {type(leaf)}')
    if len(primal_leaves) != len(tangent_leaves) or any(
            p.shape != t.shape for p, t in zip(primal_leaves, tangent_leaves)):
        raise RuntimeError('jvp(f, primals, tangents): Expected primals and tangents to have the '
                           'same python structure and tensors of the same shapes')
    with _running([]) as private:
        args, _, variables = _wired_arguments(primals, tuple(range(len(primals))), private,
                                              forward=True)
        with enable_grad():
            output, aux = _split_aux(_call(func, args), _HEADERS['jvp'], has_aux)
            out_leaves = _output_leaves(output, 'jvp')
            rebuild = _flatten(output)[1]
            # (integer outputs have no cotangent: their tangent is zero)
            cotangents = {i: o.new_zeros(o.shape).requires_grad_()
                          for i, o in enumerate(out_leaves) if _is_differentiable_dtype(o)}
            private.extend(cotangents.values())
            vjps = _grads([out_leaves[i] for i in cotangents], variables,
                          list(cotangents.values())) if cotangents else []
            used = [(g, t) for g, t in zip(vjps, tangent_leaves) if g.requires_grad]
            found = _autograd_grad([g for g, _ in used], list(cotangents.values()),
                                   [t for _, t in used], allow_unused=True,
                                   create_graph=True) if used else [None] * len(cotangents)
            by_output = dict(zip(cotangents, found))
            products = [by_output.get(i) if by_output.get(i) is not None else
                        o.new_zeros(o.shape) for i, o in enumerate(out_leaves)]
        results = (rebuild(_outside_only(out_leaves, private)),
                   rebuild(_outside_only(products, private)))
        return results + (_detached_aux(aux, private),) if has_aux else results


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func (tensor outputs) with respect to the argnums arguments: output
    shape + input shape, a row of vector-Jacobian products per output element."""
    return _jacobian(func, argnums, has_aux, 'vjp')


def _jacobian(func, argnums, has_aux, mode):
    """jacrev (mode 'vjp') and jacfwd (mode 'jvp': PyTorch's forward-mode checks and messages,
    and an integer output's zero Jacobian of its dtype), both computed in reverse mode."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _running([]) as private:
            args, numbers, variables = _wired_arguments(args, argnums, private,
                                                        forward=mode == 'jvp')
            with enable_grad():
                output, aux = _split_aux(_call(func, args, kwargs), _HEADERS[mode], has_aux)
                out_leaves = _output_leaves(output, mode)
                per_output = [_regroup(_outside_only(_jacobian_blocks(out, variables), private),
                                       numbers, args, argnums) for out in out_leaves]
            jac = _flatten(output)[1](per_output)
            return (jac, _detached_aux(aux, private)) if has_aux else jac
    return wrapper


def _jacobian_blocks(out, variables):
    """d out / d x for each variable x, of shape out.shape + x.shape: a row of vector-Jacobian
    products per element of out (zeros of out's dtype for an integer output)."""
    if not _is_differentiable_dtype(out):
        return [out.new_zeros(tuple(out.shape) + tuple(x.shape)) for x in variables]
    rows = []
    for k in range(out.numel()):
        seed = out.new_zeros(out.numel())
        seed[k] = 1
        rows.append(_grads(out, variables, seed.reshape(out.shape), retain_graph=True))
    blocks = []
    for j, x in enumerate(variables):
        stacked = _stack([row[j] for row in rows], out.numel(), x)
        blocks.append(stacked.reshape(tuple(out.shape) + tuple(x.shape)))
    return blocks


def _stack(rows, n, like):
    from .._functions import stack
    if n == 0:
        return like.new_zeros((0,) + tuple(like.shape))
    return stack(rows)


def jacfwd(func, argnums=0, has_aux=False, *, randomness='error'):
    """The Jacobian, as jacrev computes it (nbgrad's forward mode derives each op's forward
    derivative from its backward, so reverse mode is the cheaper way here; the matrix is the
    same, and randomness= is not looked at). Its checks and messages are jvp's."""
    return _jacobian(func, argnums, has_aux, 'jvp')


def hessian(func, argnums=0):
    """The matrix of second derivatives: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)

