"""Differences from PyTorch in autograd's API that a second porting sweep found, each checked
against PyTorch itself: torch.autograd.functional's argument checks and strict mode (as PyTorch's
functional.py), post-accumulate-grad hooks that return a value, saved-tensor pack hooks that
write into their input, disable_saved_tensors_hooks under active hooks, detect_anomaly as a
decorator, calling a grad_fn node directly, and torch.autograd.graph.get_gradient_edge."""
import warnings

import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, both

torch = pytest.importorskip('torch')


def AF(lib):
    return lib.autograd.functional


def cube_sum(x):
    return (x ** 3).sum()


def mixed(x, y):
    return (x * y * y).sum()


def xs(lib):
    return lib.tensor([0.5, -1.0, 2.0])


def pair(lib):
    return lib.tensor([1.0, 2.0]), lib.tensor([0.5, -1.5])


# ---------------------------------------------------------------------------------------------
# autograd.functional: strategy, vectorize and strict, as PyTorch checks them
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('call', [
    # forward-mode needs vectorize=True; create_graph and strict are refused with it
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strategy='forward-mode'),
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strategy='forward-mode',
                                 vectorize=True, create_graph=True),
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strategy='forward-mode',
                                 vectorize=True, strict=True),
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strategy='forward-mode',
                                 strict=True),
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strategy='foo'),
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strategy='foo', create_graph=True),
    lambda lib: AF(lib).jacobian(lambda a: a ** 2, xs(lib), strict=True, vectorize=True),
    lambda lib: AF(lib).hessian(cube_sum, xs(lib), outer_jacobian_strategy='forward-mode'),
    lambda lib: AF(lib).hessian(cube_sum, xs(lib), outer_jacobian_strategy='bad',
                                vectorize=True),
], ids=['fwd_no_vectorize', 'fwd_create_graph', 'fwd_strict', 'fwd_strict_no_vectorize',
        'bad_strategy', 'bad_strategy_create_graph', 'strict_vectorize', 'hessian_fwd_no_vec',
        'hessian_bad_strategy'])
def test_jacobian_and_hessian_refuse_the_strategies_pytorch_refuses(call):
    assert_same_error(call)


def test_forward_mode_jacobian_with_vectorize_gives_pytorchs_values_and_nesting():
    """nbgrad has no forward-mode AD: it computes the same matrix in reverse mode, nested in
    lists as PyTorch's forward-mode path returns it."""
    both(lambda lib: AF(lib).jacobian(lambda a: a.sin() * a.exp(), xs(lib),
                                      strategy='forward-mode', vectorize=True))
    both(lambda lib: AF(lib).jacobian(lambda a, b: (a * b, a.sum()), pair(lib),
                                      strategy='forward-mode', vectorize=True))
    both(lambda lib: AF(lib).jacobian(lambda a, b: a * b, pair(lib),
                                      strategy='forward-mode', vectorize=True))


def test_forward_over_reverse_hessian_gives_pytorchs_values():
    # (PyTorch's result carries a graph here, an artefact of its forward-mode path; compare the
    # values)
    both(lambda lib: AF(lib).hessian(cube_sum, xs(lib), outer_jacobian_strategy='forward-mode',
                                     vectorize=True).detach())
    both(lambda lib: [[h.detach() for h in row] for row in AF(lib).hessian(
        mixed, pair(lib), outer_jacobian_strategy='forward-mode', vectorize=True)])


@pytest.mark.parametrize('create_graph', [False, True])
def test_vectorized_jacobian_and_hessian_match_pytorch(create_graph):
    def run(lib):
        x = xs(lib).requires_grad_()
        jac = AF(lib).jacobian(lambda a: (a.sin() * a.sum(), a[:2] ** 2), x, vectorize=True,
                               create_graph=create_graph)
        hess = AF(lib).hessian(cube_sum, x, vectorize=True, create_graph=create_graph)
        unused = AF(lib).jacobian(lambda a, b: a * 2, pair(lib), vectorize=True)
        return jac, hess, unused, [j.requires_grad for j in jac] + [hess.requires_grad]
    # (float32 sums in another order: last-bit differences)
    both(lambda lib: _detached(run(lib)),
         check=lambda got, expected: assert_same(got, expected, rtol=1e-5, atol=1e-6))


def _detached(value):
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    return value.detach() if hasattr(value, 'detach') else value


@pytest.mark.parametrize('call', [
    # hvp / vhp / hessian of a linear function: its jacobian does not depend on the input
    lambda lib: AF(lib).hvp(lambda a: (a * 2).sum(), xs(lib), xs(lib), strict=True),
    lambda lib: AF(lib).vhp(lambda a: (a * 2).sum(), xs(lib), xs(lib), strict=True),
    lambda lib: AF(lib).hessian(lambda a: (a * 2).sum(), xs(lib), strict=True),
    # ... or of a function independent of its input
    lambda lib: AF(lib).hvp(lambda a: lib.ones(()), xs(lib), xs(lib), strict=True),
    lambda lib: AF(lib).vhp(lambda a, b: (a * a).sum(), pair(lib), pair(lib), strict=True),
    # the hessian of a quadratic does not depend on the input: refused with create_graph
    lambda lib: AF(lib).hvp(lambda a: (a * a).sum(), xs(lib), xs(lib), strict=True,
                            create_graph=True),
    lambda lib: AF(lib).hessian(lambda a: (a * a).sum(), xs(lib), strict=True,
                                create_graph=True),
    # jacobian / vjp / jvp of outputs not computed from (all of) the inputs
    lambda lib: AF(lib).jacobian(lambda a: lib.ones(2), xs(lib), strict=True),
    lambda lib: AF(lib).jacobian(lambda a: (a * 2, lib.ones(2)), xs(lib), strict=True),
    lambda lib: AF(lib).jacobian(lambda a, b: a * 2, pair(lib), strict=True),
    lambda lib: AF(lib).jacobian(lambda a: a * 2, xs(lib), strict=True, create_graph=True),
    lambda lib: AF(lib).vjp(lambda a: lib.ones(3), xs(lib), xs(lib), strict=True),
    lambda lib: AF(lib).vjp(lambda a, b: a * 2, pair(lib), lib.ones(2), strict=True),
    lambda lib: AF(lib).jvp(lambda a: lib.ones(3), xs(lib), xs(lib), strict=True),
    lambda lib: AF(lib).jvp(lambda a, b: a * 2, pair(lib), pair(lib), strict=True),
], ids=['hvp_linear', 'vhp_linear', 'hessian_linear', 'hvp_constant', 'vhp_unused_input',
        'hvp_quadratic_create_graph', 'hessian_quadratic_create_graph', 'jacobian_constant',
        'jacobian_second_output_constant', 'jacobian_unused_input', 'jacobian_linear_create_graph',
        'vjp_constant', 'vjp_unused_input', 'jvp_constant', 'jvp_unused_input'])
def test_strict_mode_refuses_as_pytorch(call):
    assert_same_error(call)


def test_strict_mode_accepts_what_pytorch_accepts():
    both(lambda lib: AF(lib).hvp(lambda a: (a ** 3).sum(), xs(lib), xs(lib), strict=True))
    both(lambda lib: AF(lib).hessian(lambda a: (a * a).sum(), xs(lib), strict=True))
    both(lambda lib: AF(lib).jvp(lambda a: a ** 2, xs(lib), xs(lib), strict=True))


@pytest.mark.parametrize('call', [
    lambda lib: AF(lib).jacobian(lambda a, b: a * b, list(pair(lib))),
    lambda lib: AF(lib).jacobian(lambda a, b: a * b, (lib.ones(2), 3.0)),
    lambda lib: AF(lib).jacobian(lambda a: 1.0, xs(lib)),
    lambda lib: AF(lib).jacobian(lambda a: [a, a], xs(lib)),
    lambda lib: AF(lib).hessian(cube_sum, [xs(lib)]),
    lambda lib: AF(lib).hvp(cube_sum, [xs(lib)], [xs(lib)]),
    lambda lib: AF(lib).vjp(lambda a: a * 2, xs(lib), [xs(lib)]),
    lambda lib: AF(lib).jvp(lambda a: a * 2, [xs(lib)], xs(lib)),
], ids=['jacobian_list_inputs', 'jacobian_non_tensor_in_tuple', 'jacobian_float_output',
        'jacobian_list_output', 'hessian_list_inputs', 'hvp_list_inputs', 'vjp_list_v',
        'jvp_list_inputs'])
def test_only_a_tensor_or_a_tuple_of_tensors_is_accepted(call):
    assert_same_error(call)


@pytest.mark.parametrize('call', [
    lambda lib: AF(lib).vjp(lambda a: a * 2, xs(lib), lib.ones(2)),
    lambda lib: AF(lib).vjp(lambda a: (a, a), xs(lib), (xs(lib),)),
    lambda lib: AF(lib).jvp(lambda a: a, xs(lib), (xs(lib), xs(lib))),
    lambda lib: AF(lib).jvp(lambda a, b: a, pair(lib), (lib.ones(2), lib.ones(3))),
    lambda lib: AF(lib).hvp(cube_sum, xs(lib), lib.ones(2)),
    lambda lib: AF(lib).vhp(lambda a: a, xs(lib), xs(lib)),
    lambda lib: AF(lib).hvp(lambda a: (a.sum(),), xs(lib), xs(lib)),
    lambda lib: AF(lib).hessian(lambda a: (a.sum(),), xs(lib)),
    lambda lib: AF(lib).hessian(lambda a: a * 2, xs(lib)),
], ids=['vjp_v_size', 'vjp_v_length', 'jvp_v_single', 'jvp_v_entry_size', 'hvp_v_size',
        'vhp_nonscalar', 'hvp_tuple_output', 'hessian_tuple_output', 'hessian_nonscalar'])
def test_v_and_output_checks_match_pytorchs_messages(call):
    assert_same_error(call)


def test_a_jacobian_of_an_empty_output_fails_as_in_pytorch():
    both(lambda lib: AF(lib).jacobian(lambda a: a[:0], xs(lib)))


def test_functional_results_still_match_pytorch():
    both(lambda lib: AF(lib).hvp(mixed, pair(lib), pair(lib)))
    both(lambda lib: AF(lib).vhp(mixed, pair(lib), pair(lib)))
    both(lambda lib: AF(lib).jvp(lambda a, b: (a * b, a.sum()), pair(lib), pair(lib)))
    both(lambda lib: AF(lib).vjp(lambda a: (a ** 2).sum(), xs(lib)))
    both(lambda lib: AF(lib).jvp(lambda a: a ** 2, lib.tensor(3.0)))
    both(lambda lib: AF(lib).hessian(mixed, pair(lib)))
    both(lambda lib: AF(lib).jacobian(lambda a, b: (a * b, a.sum()), pair(lib)))


def test_vjp_with_create_graph_under_no_grad_still_builds_the_graph():
    def run(lib):
        with lib.no_grad():
            out, v = AF(lib).vjp(lambda a: a ** 2, xs(lib), xs(lib), create_graph=True)
            jac = AF(lib).jacobian(lambda a: a ** 2, xs(lib))
        return v.requires_grad, out.requires_grad, jac.requires_grad, jac
    both(run)


# ---------------------------------------------------------------------------------------------
# Hooks and modes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('returned', ['tensor', 'int'])
def test_a_post_accumulate_grad_hook_that_returns_a_value_is_refused(returned):
    """A Tensor: RuntimeError ('should return None'); anything else: TypeError, as PyTorch's
    Python wrapper checks first."""
    def hook(p):
        return p.detach() * 0 if returned == 'tensor' else 0

    def run(lib):
        x = lib.ones(2, requires_grad=True)
        x.register_post_accumulate_grad_hook(hook)
        x.sum().backward()
    assert_same_error(run)

    def grad_after_the_error(lib):
        x = lib.ones(2, requires_grad=True)
        x.register_post_accumulate_grad_hook(hook)
        with pytest.raises((RuntimeError, TypeError)):
            (x * 3).sum().backward()
        return x.grad
    both(grad_after_the_error)


@pytest.mark.parametrize('hook', ['add_', 'mul_then_other', 'input_not_requiring_grad'])
def test_a_pack_hook_that_modifies_its_input_in_place_is_refused(hook):
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        a = lib.ones(2)
        pack = {'add_': lambda t: t.add_(1),
                'mul_then_other': lambda t: (t.mul_(1), 5)[1],
                'input_not_requiring_grad': lambda t: t.add_(1)}[hook]
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            if hook == 'input_not_requiring_grad':
                x * a
            else:
                (x * 1).exp()
    assert_same_error(run)


def test_a_pack_hook_may_modify_other_tensors_in_place():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        counter = lib.zeros(1)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: (counter.add_(1), t)[1],
                                                    lambda t: t):
            y = x.exp()
        y.sum().backward()
        return counter, x.grad
    both(run)


def test_disabling_saved_tensors_hooks_while_some_are_active_raises_the_message():
    def run(lib):
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            with lib.autograd.graph.disable_saved_tensors_hooks('no hooks here'):
                pass
    assert_same_error(run)

    def state_after(lib):
        try:
            run(lib)
        except RuntimeError:
            pass
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
            x = lib.tensor([1., 2.], requires_grad=True)
            y = x.exp()
        with lib.autograd.graph.disable_saved_tensors_hooks('fine: no hooks are active'):
            z = x.sin()
        (y + z).sum().backward()
        return x.grad
    both(state_after)

    def nested(lib):
        with lib.autograd.graph.disable_saved_tensors_hooks('outer'):
            with lib.autograd.graph.disable_saved_tensors_hooks('inner'):
                pass
            with lib.autograd.graph.save_on_cpu():
                pass
    assert_same_error(nested)


def test_detect_anomaly_is_not_a_decorator():
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')

            @lib.autograd.detect_anomaly()
            def f():
                return 1
        return f()
    assert_same_error(run)
    assert not nbgrad.autograd.is_anomaly_enabled()


# ---------------------------------------------------------------------------------------------
# Calling a node: grad_fn(*grad_outputs)
# ---------------------------------------------------------------------------------------------

def _leaves(lib):
    return lib.tensor([1., 2.], requires_grad=True), lib.tensor([3., -1.], requires_grad=True)


@pytest.mark.parametrize('case', [
    'mul_by_scalar', 'mul', 'exp', 'sum', 'sum_none', 'unbind', 'add', 'broadcast_add', 'pow',
    'view', 'mm_constant', 'gather', 'float64_gradient', 'under_no_grad', 'gradient_with_graph',
])
def test_calling_a_node_runs_its_backward_as_pytorch(case):
    def run(lib):
        x, y = _leaves(lib)
        g = lib.tensor([0.5, 2.0])
        if case == 'mul_by_scalar':
            return (x * 3).grad_fn(g)
        if case == 'mul':
            return (x * y).grad_fn(g)
        if case == 'exp':
            return x.exp().grad_fn(g)
        if case == 'sum':
            return x.sum().grad_fn(lib.tensor(2.))
        if case == 'sum_none':
            return x.sum().grad_fn(None)
        if case == 'unbind':
            return x.unbind()[0].grad_fn(lib.tensor(1.), None)
        if case == 'add':
            return (x + y).grad_fn(g)
        if case == 'broadcast_add':     # (not summed back to x's shape: the engine does that)
            return (x + lib.ones(3, 1, requires_grad=True)).grad_fn(lib.ones(3, 2))
        if case == 'pow':
            return (x ** 2).grad_fn(g)
        if case == 'view':
            return x.view(2, 1).grad_fn(g.view(2, 1))
        if case == 'mm_constant':
            return (x.view(1, 2) @ lib.ones(2, 2)).grad_fn(lib.ones(1, 2))
        if case == 'gather':
            return x.gather(0, lib.tensor([1, 1])).grad_fn(g)
        if case == 'float64_gradient':
            return x.exp().grad_fn(g.double())
        if case == 'under_no_grad':
            node = x.exp().grad_fn
            with lib.no_grad():
                r = node(g.requires_grad_())
            return r, r.requires_grad
        if case == 'gradient_with_graph':
            r = (x * y).grad_fn(g.requires_grad_())
            return r, [t.requires_grad for t in r]
    both(lambda lib: _detached(run(lib)))


def test_calling_a_node_keeps_its_saved_tensors_and_runs_no_hooks():
    def run(lib):
        x, _ = _leaves(lib)
        seen = []
        y = x * 1
        y.register_hook(lambda g: seen.append('tensor hook'))
        z = y.exp()
        z.grad_fn.register_hook(lambda gi, go: seen.append('post hook'))
        z.grad_fn.register_prehook(lambda go: seen.append('pre hook'))
        first = z.grad_fn(lib.ones(2))
        second = z.grad_fn(lib.ones(2))
        return first.detach(), second.detach(), seen, x.grad
    both(run)


def test_calling_an_accumulate_grad_node_accumulates_into_the_leaf():
    def run(lib):
        x, _ = _leaves(lib)
        acc = x.exp().grad_fn.next_functions[0][0]
        out = acc(lib.tensor([1., 2.]))
        acc(lib.tensor([1., 1.]))
        return out, x.grad
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib, x: x.exp().grad_fn(),
    lambda lib, x: x.exp().grad_fn(lib.ones(2), lib.ones(2)),
    lambda lib, x: x.exp().grad_fn((lib.ones(2),)),
    lambda lib, x: x.exp().grad_fn(1),
    lambda lib, x: x.exp().grad_fn(grad=lib.ones(2)),
    lambda lib, x: x.unbind()[0].grad_fn(lib.tensor(1.)),
    lambda lib, x: x.exp().grad_fn(lib.ones(3)),
], ids=['no_gradient', 'two_gradients', 'a_tuple', 'an_int', 'keyword', 'one_of_two',
        'wrong_shape'])
def test_calling_a_node_with_wrong_arguments_fails_as_pytorch(call):
    def run(lib):
        return call(lib, lib.ones(2, requires_grad=True))
    both(run)


def test_node_call_argument_messages_match_pytorch():
    for call in [lambda lib, x: x.exp().grad_fn(),
                 lambda lib, x: x.exp().grad_fn(lib.ones(2), lib.ones(2)),
                 lambda lib, x: x.exp().grad_fn([lib.ones(2)]),
                 lambda lib, x: x.exp().grad_fn(grad=lib.ones(2))]:
        assert_same_error(lambda lib: call(lib, lib.ones(2, requires_grad=True)))


def test_calling_a_node_after_backward_freed_it_fails_as_pytorch():
    def run(lib):
        x, _ = _leaves(lib)
        z = x.exp()
        node = z.grad_fn
        z.sum().backward()
        node(lib.ones(2))
    assert_same_error(run)


def test_a_custom_functions_node_is_not_callable_as_in_pytorch():
    def run(lib):
        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return 2 * a * g
        x, _ = _leaves(lib)
        Sq.apply(x).grad_fn(lib.ones(2))
    assert_same_error(run)


def test_a_composite_node_refuses_to_be_called_where_pytorch_computes_it():
    """mse_loss is one node in PyTorch, several recorded ops in nbgrad presented as one: calling
    it is refused (documented) rather than giving gradients of the wrong tensors."""
    def run(lib):
        x, y = _leaves(lib)
        return lib.nn.functional.mse_loss(x, y).grad_fn(lib.tensor(1.))
    expected = run(torch)
    assert len(expected) == 2
    with pytest.raises(NotImplementedError, match='MseLossBackward0'):
        run(nbgrad)


# ---------------------------------------------------------------------------------------------
# torch.autograd.graph.get_gradient_edge / GradientEdge
# ---------------------------------------------------------------------------------------------

def test_get_gradient_edge_names_the_node_and_output_number():
    def run(lib):
        graph = lib.autograd.graph
        x, _ = _leaves(lib)
        h = x * 3
        a, b = x.unbind()
        leaf, mid, second = (graph.get_gradient_edge(t) for t in (x, h, b))
        return (type(leaf).__name__, type(leaf)._fields, isinstance(leaf, tuple), len(leaf),
                leaf.node.name(), leaf.output_nr, leaf.ownership_token,
                mid.node is h.grad_fn, mid.output_nr, second.node is b.grad_fn, second.output_nr,
                graph.get_gradient_edge(x).node is leaf.node,
                leaf.node is x.exp().grad_fn.next_functions[0][0],
                graph.get_gradient_edge(h) == graph.get_gradient_edge(h),
                graph.GradientEdge(h.grad_fn, 0) == mid, type(graph.GradientEdge(h.grad_fn, 0)))
    got = run(nbgrad)
    expected = run(torch)
    assert got[:-1] == expected[:-1]
    assert got[-1] is nbgrad.autograd.graph.GradientEdge


def test_get_gradient_edge_of_a_tensor_without_grad_fails_as_pytorch():
    assert_same_error(lambda lib: lib.autograd.graph.get_gradient_edge(lib.ones(2)))


def test_autograd_grad_accepts_gradient_edges_as_inputs():
    def run(lib):
        edge = lib.autograd.graph.get_gradient_edge
        x, _ = _leaves(lib)
        h = x * 3
        y = (h ** 2).sum()
        grad = lib.autograd.grad
        results = [grad(y, edge(x), retain_graph=True),
                   grad(y, edge(h), retain_graph=True),
                   grad(y, [edge(x), h], retain_graph=True),
                   grad(y, lib.autograd.graph.GradientEdge(h.grad_fn, 0), retain_graph=True),
                   grad(y, [edge(lib.ones(2, requires_grad=True))], retain_graph=True,
                        allow_unused=True)]
        g, = grad(y, edge(h), create_graph=True)
        return results, g.requires_grad
    both(run)


def test_a_gradient_edge_keeps_naming_the_value_before_an_in_place_op():
    def run(lib):
        x, _ = _leaves(lib)
        z = x * 1
        e = lib.autograd.graph.get_gradient_edge(z)
        z.mul_(2)
        return lib.autograd.grad((z * z).sum(), e)
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib, y, e: lib.autograd.grad(y, [e]),
    lambda lib, y, e: lib.autograd.grad(y, [e], materialize_grads=True),
    lambda lib, y, e: lib.autograd.grad(y, [lib.autograd.graph.GradientEdge(None, 0)]),
], ids=['unused', 'materialize', 'not_a_node'])
def test_gradient_edge_misuse_fails_as_pytorch(call):
    def run(lib):
        x, _ = _leaves(lib)
        unused = lib.autograd.graph.get_gradient_edge(lib.ones(2, requires_grad=True))
        call(lib, (x * 2).sum(), unused)
    assert_same_error(run)


def test_backward_accepts_gradient_edges_as_inputs():
    def run(lib):
        edge = lib.autograd.graph.get_gradient_edge
        x, w = _leaves(lib)
        h = x * w
        y = (h ** 2).sum()
        lib.autograd.backward(y, inputs=[edge(x)], retain_graph=True)
        y.backward(inputs=edge(w), retain_graph=True)
        lib.autograd.backward(y, inputs=[edge(h)])      # (a non-leaf's edge: no .grad)
        return x.grad, w.grad
    both(run)


@pytest.mark.parametrize('write', [
    lambda lib: lib.arange(6.).reshape(2, 3).requires_grad_().mul_(2),
    lambda lib: lib.arange(6.)[1:].requires_grad_().add_(1),
    lambda lib: lib.arange(6.).view(2, 3).requires_grad_()[0].add_(1),
    lambda lib: lib.ones(3).requires_grad_()[1:].add_(1),
])
def test_in_place_writes_into_views_of_leaves_are_refused(write):
    """A view made a leaf (requires_grad_() on a view of a tensor without grad), and views of
    it, are views of a leaf: PyTorch refuses writes into them; nbgrad turned the leaf into a
    non-leaf with an AsStridedBackward0 history. (nbgrad's message adds how to fix it.)"""
    both(write)
    with pytest.raises(RuntimeError, match='a view of a leaf Variable that requires grad'):
        write(nbgrad)
    with nbgrad.no_grad():
        assert write(nbgrad).requires_grad
