"""torch.func: functional_call and the function transforms grad, grad_and_value, vjp, jacrev,
jacfwd, hessian and vmap, built on nbgrad's autograd.

nbgrad has no batching rules or forward-mode AD, so two transforms are computed another way
with the same results for the functions they apply to:
- vmap runs the function once per batch element and stacks the results (PyTorch pushes the
  batch dimension through each op). Functions vmap refuses (in-place writes into an unbatched
  tensor, .item() on a batched one) run here anyway.
- jacfwd (and so hessian) uses reverse mode, row by row: the same Jacobian.
The transforms compose (vmap(grad(f)) for per-sample gradients, grad(grad(f))): grad keeps
the graph of its result so that an outer transform can differentiate it.
"""
import contextlib
import functools

from .._tensor import Tensor
from ..autograd import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad
from ..random import default_generator
from ..nn.utils.stateless import _functional_call
from ._stack_module_state import stack_module_state  # noqa: F401 (re-exported)
from ._linearize import functionalize, linearize  # noqa: F401 (re-exported)
from ._batch_norm import debug_unwrap, replace_all_batch_norm_modules_  # noqa: F401 (the same)
from .. import _batched_draws

__all__ = ['functional_call', 'grad', 'grad_and_value', 'vjp', 'jvp', 'jacrev', 'jacfwd', 'hessian',
           'vmap', 'stack_module_state', 'linearize', 'functionalize',
           'replace_all_batch_norm_modules_', 'debug_unwrap']


# -- pytrees: tuples, lists and dicts of tensors ------------------------------------------------

def _flatten(tree):
    """(leaves, rebuild) for nested tuples/lists/dicts; rebuild(new_leaves) restores the shape."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(item) for item in tree]
        counts = [len(leaves) for leaves, _ in parts]

        def rebuild(leaves):
            items, at = [], 0
            for (_, inner), n in zip(parts, counts):
                items.append(inner(leaves[at:at + n]))
                at += n
            return type(tree)(items) if not hasattr(tree, '_fields') else type(tree)(*items)
        return [leaf for leaves, _ in parts for leaf in leaves], rebuild
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, inner = _flatten([tree[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, inner(new)))
    return [tree], lambda new: new[0]


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


def _differentiable(tree, copies):
    """tree's tensors as the variables of a differentiation: a tensor that already requires
    grad gets an alias in the graph (an outer transform differentiates through it, and this
    transform through the alias only: not through the uses of the tensor the function closes
    over, which are the outer variable's), others a detached copy that requires grad (appended
    to `copies`). Returns (tree, its leaves)."""
    leaves, rebuild = _flatten(tree)
    wired = []
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f'Expected f(*args) to be called with Tensor arguments at the '
                               f'argnums positions, got {type(leaf).__name__}')
        if not leaf.is_floating_point() and not leaf.is_complex():
            raise RuntimeError('only Tensors of floating point dtype can require gradients')
        if not leaf.requires_grad:
            leaf = leaf.detach().requires_grad_()
            copies.append(leaf)
        else:
            with enable_grad():
                leaf = leaf.view_as(leaf)
        wired.append(leaf)
    return rebuild(wired), wired


def _wired_arguments(args, argnums):
    """(args with the argnums arguments made differentiable, those indices, their tensors in
    order, the copies made of them): what grad_and_value and jacrev differentiate."""
    numbers = _argnums_tuple(argnums, len(args))
    args = list(args)
    flat, copies = [], []
    for i in numbers:
        args[i], leaves = _differentiable(args[i], copies)
        flat.extend(leaves)
    return args, numbers, flat, copies


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
        args, numbers, flat, copies = _wired_arguments(args, argnums)
        with enable_grad():
            result = func(*args, **kwargs)
            output, aux = result, None
            if has_aux:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError('grad_and_value(f)(*args): output of function f should be '
                                       'a tuple: (output, aux) if has_aux is True')
                output, aux = result
            if not isinstance(output, Tensor):
                raise RuntimeError(f'grad_and_value(f)(*args): Expected f(*args) to return a '
                                   f'Tensor, got {type(output)}')
            if output.dim() != 0:
                raise RuntimeError(f'grad_and_value(f)(*args): Expected f(*args) to return a '
                                   f'scalar Tensor, got tensor with {output.dim()} dims. Maybe '
                                   f'you wanted to use the vjp or jacrev APIs instead?')
            # (create_graph: an outer transform may differentiate these gradients again)
            grads = _grads(output, flat)
        *grads, value = _outside_only(grads + [output], copies)
        grads = _regroup(grads, numbers, args, argnums)
        return (grads, (value, _detached_aux(aux, copies))) if has_aux else (grads, value)
    return wrapper


def _outside_only(tensors, private):
    """tensors, detached where their graph reaches no leaf but the transform's own copies
    (`private`): at the top level PyTorch's results are plain tensors, while a graph that
    reaches an outer variable (a closed-over parameter, an outer transform's input) is kept."""
    private_ids = {id(t) for t in private}

    def reaches_outside(t):
        seen, todo = set(), [t._grad_fn] if t._grad_fn is not None else []
        while todo:
            node = todo.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            variable = getattr(node, 'variable', None)
            if variable is not None and id(variable) not in private_ids:
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
    with enable_grad():
        wired, flat, copies = [], [], []
        for primal in primals:
            tree, leaves = _differentiable(primal, copies)
            wired.append(tree)
            flat.extend(leaves)
        result = func(*wired)
        output, aux = (result if has_aux else (result, None))
    out_leaves, _ = _flatten(output)

    def vjp_fn(cotangents):
        tangent_leaves, _ = _flatten(cotangents)
        if len(tangent_leaves) != len(out_leaves):
            raise RuntimeError('Expected pytree structure of cotangents to be the same as '
                               'pytree structure of outputs to the function')
        grads = _outside_only(_grads(out_leaves, flat, tangent_leaves, retain_graph=True),
                              copies)
        return _regroup(grads, range(len(primals)), list(primals), tuple(range(len(primals))))
    plain = _flatten(output)[1](_outside_only(out_leaves, copies))
    return (plain, vjp_fn, _detached_aux(aux, copies)) if has_aux else (plain, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J @ tangents[, aux]): the Jacobian-vector product. PyTorch computes it in
    forward mode; nbgrad differentiates the vector-Jacobian product (linear in its cotangent)
    with respect to that cotangent, against the tangents, once for the whole function (its
    forward mode, autograd.forward_ad, does the same op by op): the same values, a backward's
    cost twice. primals and tangents are tuples of tensors or of
    trees of them (a dict of parameters). The results stay differentiable for an outer
    transform or backward() whose variables they depend on (jvp of jvp, grad of jvp)."""
    for name, value in (('primals', primals), ('tangents', tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f'jvp(f, primals, tangents): Expected {name} to be a tuple. E.g. '
                               f'it should be valid to call f(*{name}).')
    primal_leaves, _ = _flatten(primals)
    tangent_leaves, _ = _flatten(tangents)
    if len(primal_leaves) != len(tangent_leaves) or any(
            not isinstance(p, Tensor) or not isinstance(t, Tensor) or p.shape != t.shape
            for p, t in zip(primal_leaves, tangent_leaves)):
        raise RuntimeError('jvp(f, primals, tangents): Expected primals and tangents to have the '
                           'same python structure and tensors of the same shapes')
    args, _, variables, copies = _wired_arguments(primals, tuple(range(len(primals))))
    with enable_grad():
        result = func(*args)
        if has_aux and (not isinstance(result, tuple) or len(result) != 2):
            raise RuntimeError('jvp(f, primals, tangents): output of function f should be a '
                               'tuple: (output, aux) if has_aux is True')
        output, aux = result if has_aux else (result, None)
        out_leaves, rebuild = _flatten(output)
        cotangents = [o.new_zeros(o.shape).requires_grad_() for o in out_leaves]
        vjps = _grads(out_leaves, variables, cotangents)
        used = [(g, t) for g, t in zip(vjps, tangent_leaves) if g.requires_grad]
        products = _autograd_grad([g for g, _ in used], cotangents, [t for _, t in used],
                                  allow_unused=True, create_graph=True) if used else \
            [None] * len(out_leaves)
        products = [p if p is not None else o.new_zeros(o.shape)
                    for p, o in zip(products, out_leaves)]
    private = copies + cotangents
    results = (rebuild(_outside_only(out_leaves, private)),
               rebuild(_outside_only(products, private)))
    return results + (_detached_aux(aux, copies),) if has_aux else results


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func (tensor outputs) with respect to the argnums arguments: output
    shape + input shape, a row of vector-Jacobian products per output element."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        args, numbers, variables, copies = _wired_arguments(args, argnums)
        with enable_grad():
            result = func(*args, **kwargs)
            output, aux = (result if has_aux else (result, None))
            out_leaves, rebuild_out = _flatten(output)
            per_output = []
            for out in out_leaves:
                rows = []
                for k in range(out.numel()):
                    seed = out.new_zeros(out.numel())
                    seed[k] = 1
                    rows.append(_grads(out, variables, seed.reshape(out.shape),
                                       retain_graph=True))
                blocks = []
                for j, x in enumerate(variables):
                    stacked = _stack([row[j] for row in rows], out.numel(), x)
                    blocks.append(stacked.reshape(tuple(out.shape) + tuple(x.shape)))
                blocks = _outside_only(blocks, copies)
                per_output.append(_regroup(blocks, numbers, args, argnums))
        jac = rebuild_out(per_output)
        return (jac, _detached_aux(aux, copies)) if has_aux else jac
    return wrapper


def _stack(rows, n, like):
    from .._functions import stack
    if n == 0:
        return like.new_zeros((0,) + tuple(like.shape))
    return stack(rows)


def jacfwd(func, argnums=0, has_aux=False, *, randomness='error'):
    """The Jacobian, as jacrev computes it (nbgrad's forward mode derives each op's forward
    derivative from its backward, so reverse mode is the cheaper way here; the matrix is the
    same, and randomness= is not looked at)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The matrix of second derivatives: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap -----------------------------------------------------------------------------------------

def _empty_batch(func, per_arg, out_dims, kwargs):
    """vmap over a batch of 0: func's outputs for one element of zeros give the shapes and
    dtypes; each comes back with a 0-long batch dim at its out_dim."""
    call_args = [rebuild([leaf if d is None else leaf.new_zeros(
                          tuple(s for i, s in enumerate(leaf.shape) if i != d % leaf.dim()))
                          for leaf, d in zip(leaves, leaf_dims)])
                 for leaves, rebuild, leaf_dims in per_arg]
    sample = func(*call_args, **kwargs)
    leaves, rebuild_out = _flatten(sample)
    dims = _flatten(out_dims)[0] if isinstance(out_dims, (tuple, list)) else \
        [out_dims] * len(leaves)
    empty = []
    for t, d in zip(leaves, dims):
        shape = list(t.shape)
        shape.insert(d % (len(shape) + 1), 0)
        empty.append(t.new_empty(shape))
    return rebuild_out(empty)


def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """func mapped over a batch dimension of its inputs: called once per batch element (in_dims:
    the dim of each argument, None for an argument shared by all), the outputs stacked at
    out_dims (None: an output the same for every element, returned once).

    randomness='same' gives every element the same random numbers (each call starts from the
    CPU generator's state before the first, which ends one call's draws later, as PyTorch's
    single unbatched draw); 'different' gives each element its rows of one draw for the batch,
    as PyTorch's (_batched_draws.py); 'error' (the default) refuses a random op, as PyTorch's."""
    if randomness not in ('error', 'different', 'same'):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f'vmap(func, in_dims={in_dims}, ...)(<inputs>): in_dims is not '
                             f'compatible with the structure of `inputs`. in_dims has '
                             f'{len(dims)} elements, but inputs has {len(args)} elements.')
        size = None
        per_arg = []
        for arg, dim in zip(args, dims):
            leaves, rebuild = _flatten(arg)
            leaf_dims = _flatten(dim)[0] if isinstance(dim, (tuple, list, dict)) else \
                [dim] * len(leaves)
            for leaf, d in zip(leaves, leaf_dims):
                if d is None:
                    continue
                if not isinstance(leaf, Tensor):
                    raise ValueError(f'vmap: Got in_dim={d} for an input but the input is of '
                                     f'type {type(leaf)}. We cannot vmap over non-Tensor '
                                     f'arguments, please use None as the respective in_dim')
                if not -leaf.dim() <= d < leaf.dim():
                    name = getattr(func, '__name__', 'f')
                    raise ValueError(f'vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got '
                                     f'in_dim={d} for some input, but that input is a Tensor of '
                                     f'dimensionality {leaf.dim()} so expected in_dim to '
                                     f'satisfy -{leaf.dim()} <= in_dim < {leaf.dim()}.')
                n = leaf.shape[d]
                if size is not None and n != size:
                    raise ValueError(f'vmap: Expected all tensors to have the same size in the '
                                     f'mapped dimension, got sizes {size} and {n} for the mapped '
                                     f'dimension')
                size = n
            per_arg.append((leaves, rebuild, leaf_dims))
        if size is None:
            raise ValueError('vmap: at least one input must be batched (in_dims all None)')
        if size == 0:
            return _empty_batch(func, per_arg, out_dims, kwargs)
        outputs = []
        generator = default_generator if randomness == 'same' else None
        start = generator.get_state() if generator is not None else None
        with contextlib.nullcontext() if generator is not None else \
                _batched_draws.drawing_for(size, refuse=randomness == 'error') as draws:
            for b in range(size):
                if b and generator is not None:
                    generator.set_state(start)
                if draws is not None:
                    draws.start(b)
                call_args = [rebuild([leaf if d is None else leaf.select(d, b)
                                      for leaf, d in zip(leaves, leaf_dims)])
                             for leaves, rebuild, leaf_dims in per_arg]
                outputs.append(func(*call_args, **kwargs))
        first, rebuild_out = _flatten(outputs[0])
        columns = list(zip(*[_flatten(o)[0] for o in outputs]))
        out_leaf_dims = _flatten(out_dims)[0] if isinstance(out_dims, (tuple, list)) else \
            [out_dims] * len(first)
        from .._creation import tensor
        from .._functions import stack
        stacked = [column[0] if d is None else
                   stack([t if isinstance(t, Tensor) else tensor(t) for t in column], dim=d)
                   for column, d in zip(columns, out_leaf_dims)]
        return rebuild_out(stacked)
    return wrapper
