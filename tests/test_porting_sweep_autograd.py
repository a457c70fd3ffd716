"""Differences from PyTorch in autograd that porting sweeps found (the same PyTorch code run
under both libraries), each fixed and checked here against PyTorch itself: in-place view ops,
hooks, argument checks, inference tensors, per-thread modes."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, both


@pytest.mark.parametrize('op', ['t_', 'unsqueeze_', 'squeeze_', 'transpose_', 'as_strided_'])
def test_in_place_view_ops_on_a_leaf_that_requires_grad_are_refused(op):
    args = {'t_': (), 'unsqueeze_': (0,), 'squeeze_': (), 'transpose_': (0, 1),
            'as_strided_': ((2, 1), (1, 1))}[op]
    assert_same_error(lambda lib: getattr(lib.ones(1, 2, requires_grad=True), op)(*args))
    # under no_grad, or without requires_grad, they reshape the tensor in place
    both(lambda lib: _in_place_view_without_grad(lib, op, args))


def _in_place_view_without_grad(lib, op, args):
    x = lib.arange(2.).reshape(1, 2).requires_grad_()
    with lib.no_grad():
        getattr(x, op)(*args)
    return x.detach()


@pytest.mark.parametrize('op', ['t_', 'unsqueeze_', 'transpose_'])
def test_gradients_flow_back_through_an_in_place_view_op(op):
    """t_() on a non-leaf: its history becomes the view's (nbgrad used to keep the old node,
    giving the wrong gradient with no error)."""
    args = {'t_': (), 'unsqueeze_': (1,), 'transpose_': (0, 1)}[op]

    def run(lib):
        x = lib.tensor([[1., 2.]], requires_grad=True)
        y = x * lib.tensor([[3., 4.]])
        getattr(y, op)(*args)
        (y * lib.arange(1., 3.).reshape(y.shape)).sum().backward()
        return y.detach(), x.grad
    both(run)


@pytest.mark.parametrize('returned', ['double', 'shorter'])
def test_a_hook_may_not_change_the_gradients_type_or_size(returned):
    def hook(g):
        return g.double() if returned == 'double' else g[:1]

    def run(lib, on_leaf):
        x = lib.tensor([1., 2.], requires_grad=True)
        target = x if on_leaf else x * 1
        target.register_hook(hook)
        (target * 2).sum().backward()
    for on_leaf in (True, False):
        error = assert_same_error(lambda lib: run(lib, on_leaf))
        assert "hook 'hook' has changed the" in str(error)


def test_autograd_grad_checks_its_arguments():
    x = {}

    def leaf(lib):
        return x.setdefault(lib, lib.tensor([1., 2.], requires_grad=True))
    assert_same_error(lambda lib: lib.autograd.grad(leaf(lib).sum(), []))
    assert_same_error(lambda lib: lib.autograd.grad([leaf(lib).sum(), leaf(lib).sum()], leaf(lib),
                                                    grad_outputs=[lib.tensor(1.)]))
    assert_same_error(lambda lib: lib.autograd.backward([leaf(lib).sum(), leaf(lib).sum()],
                                                        [lib.tensor(1.)]))


@pytest.mark.parametrize('mode', ['yes', 1, None])
def test_set_grad_enabled_takes_only_a_bool(mode):
    assert_same_error(lambda lib: lib.set_grad_enabled(mode))
    assert nbgrad.is_grad_enabled()


def test_a_graph_carrying_grad_keeps_its_graph_when_a_plain_backward_adds_to_it():
    def run(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = (x ** 2).sum()
        y.backward(create_graph=True)
        y.backward()
        return x.grad.requires_grad, x.grad.detach()
    both(run)


def test_autograd_helpers_that_were_missing():
    def run(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * x
        with lib.autograd.set_multithreading_enabled(False):
            inner = y.exp()
        lib.autograd.graph.increment_version(x)
        return inner.detach(), x._version
    both(run)
    # a saved tensor marked as modified fails the backward that needs it
    both(_backward_after_increment_version)
    assert issubclass(nbgrad.autograd.function.InplaceFunction, nbgrad.autograd.Function)
    with pytest.raises(NotImplementedError, match='generate_vmap_rule'):
        nbgrad.autograd.Function.vmap(None, (0,), nbgrad.ones(1))


def _backward_after_increment_version(lib):
    x = lib.tensor([1., 2.], requires_grad=True)
    y = x.detach().requires_grad_()
    z = (y * y).sum()
    lib.autograd.graph.increment_version(y)
    z.backward()


@pytest.mark.parametrize('has_aux', [False, True])
def test_func_jvp(has_aux):
    def run(lib):
        def f(a, b):
            out = (a.sin() * b, a @ b)
            return (out, a.sum()) if has_aux else out
        primals = (lib.tensor([1., 2., 3.]), lib.tensor([0.5, -1., 2.]))
        tangents = (lib.tensor([1., 0., -1.]), lib.tensor([2., 1., 0.]))
        return lib.func.jvp(f, primals, tangents, has_aux=has_aux)
    both(run)
    assert_same_error(lambda lib: lib.func.jvp(lambda a: a, [lib.ones(2)], (lib.ones(2),)))


# -- inference tensors -------------------------------------------------------------------------

def _inference_tensor(lib):
    with lib.inference_mode():
        return lib.ones(2)


def test_tensors_made_in_inference_mode_are_inference_tensors():
    def run(lib):
        normal = lib.ones(2)
        with lib.inference_mode():
            made, view = lib.ones(2), normal[:1]
            normal.add_(1)      # a normal tensor may be updated in place inside the mode

        @lib.inference_mode()
        def decorated():
            return lib.ones(2) * 2, lib.ones(3).max(0)
        product, (values, indices) = decorated()
        inference = made * 1    # a functional op outside the mode gives a normal tensor
        return [t.is_inference() for t in (made, made[:1], view, normal, product, values, indices,
                                           inference, made.clone())] + [normal]
    both(run)


@pytest.mark.parametrize('misuse', [
    lambda lib, t: (lib.tensor([1., 2.], requires_grad=True) * t).sum().backward(),
    lambda lib, t: t.requires_grad_(),
    lambda lib, t: t.add_(1),
    lambda lib, t: t.__iadd__(1),
    lambda lib, t: t.zero_(),
    lambda lib, t: t.copy_(lib.zeros(2)),
    lambda lib, t: t.__setitem__(0, 5.),
], ids=['saved for backward', 'requires_grad_', 'add_', '+=', 'zero_', 'copy_', 'setitem'])
def test_inference_tensors_outside_the_mode_are_refused_as_pytorch(misuse):
    assert_same_error(lambda lib: misuse(lib, _inference_tensor(lib)))


def test_inference_tensors_in_ops_that_save_nothing_and_inside_the_mode():
    def run(lib):
        t = _inference_tensor(lib)
        x = lib.tensor([1., 2.], requires_grad=True)
        (x + t).sum().backward()        # addition saves neither input
        with lib.inference_mode():
            t.add_(1)
        return x.grad, t
    both(run)


def test_grad_mode_and_inference_mode_are_per_thread():
    """A thread starts with grad mode on and outside inference mode whatever the thread that
    started it is in, and what it sets stays in it."""
    import threading

    def run(lib):
        seen = []

        def in_thread(fn):
            thread = threading.Thread(target=fn)
            thread.start()
            thread.join()
        with lib.no_grad():
            in_thread(lambda: seen.append(lib.is_grad_enabled()))

        def turn_off():
            lib.set_grad_enabled(False)
            seen.append(lib.is_grad_enabled())
        in_thread(turn_off)
        seen.append(lib.is_grad_enabled())
        with lib.inference_mode():
            in_thread(lambda: seen.append((lib.is_inference_mode_enabled(),
                                           lib.ones(1).is_inference())))
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.no_grad():     # another thread's graph records meanwhile
            in_thread(lambda: seen.append((x * 2).requires_grad))
        return seen
    both(run)


# An infinite or NaN gradient from later ops (sqrt at 0, 1/0) must not leak through ops whose
# derivative is zero there: PyTorch selects zeros (where / zeros_like), a product gives NaN.
ZERO_WHERE_UNSELECTED = {
    'clamp_min': (lambda lib, x: x.clamp(min=0).sqrt(), [-1., 4.]),
    'clamp_max': (lambda lib, x: (-x.clamp(max=0)).sqrt(), [1., -4.]),
    'clamp_both': (lambda lib, x: x.clamp(0, 2).sqrt(), [-1., 1., 4.]),
    'clamp_tensor': (lambda lib, x: x.clamp(min=lib.zeros(3)).sqrt(), [-1., 1., 4.]),
    'floor': (lambda lib, x: 1 / x.floor(), [0.5, 2.]),
    'ceil': (lambda lib, x: 1 / x.ceil(), [-0.5, 2.]),
    'round': (lambda lib, x: 1 / x.round(), [0.2, 2.]),
    'trunc': (lambda lib, x: 1 / x.trunc(), [0.2, 2.]),
    'sign': (lambda lib, x: 1 / x.sign(), [0., 2.]),
    'pow_0': (lambda lib, x: 1 / (x ** 0 - 1), [1., 2.]),
    'max': (lambda lib, x: 1 / (x.max() - 3), [1., 3.]),
    'amax': (lambda lib, x: 1 / (x.amax() - 3), [1., 3.]),   # (PyTorch: NaN, a product)
    'median': (lambda lib, x: 1 / (x.median() - 3), [1., 3., 5.]),
    'fmax': (lambda lib, x: 1 / lib.fmax(x, lib.tensor([2., 2.])).sub(2), [1., 3.]),
    'lp_pool': (lambda lib, x: lib.nn.functional.lp_pool1d(x.reshape(1, 1, 2), 2, 2), [0., 0.]),
    'margin_ranking': (lambda lib, x: lib.nn.functional.margin_ranking_loss(
        x, lib.zeros(2), lib.ones(2)).sqrt(), [1., 3.]),
    'negative_base_pow': (lambda lib, x: (-2.) ** x, [2.]),
}


@pytest.mark.parametrize('case', ZERO_WHERE_UNSELECTED)
def test_zero_derivatives_stay_zero_under_infinite_gradients(case):
    fn, values = ZERO_WHERE_UNSELECTED[case]

    def run(lib):
        x = lib.tensor(values, requires_grad=True)
        fn(lib, x).sum().backward()
        return x.grad
    both(run)


@pytest.mark.parametrize('loss', ['smooth_l1', 'smooth_l1_beta', 'huber'])
def test_smooth_l1_and_huber_second_derivative_at_zero_difference(loss):
    """The quadratic branch's curvature is 1/beta (delta for huber) at d = 0 too."""
    def run(lib):
        F = lib.nn.functional
        x = lib.tensor([0., 0.5, -3., float('inf')], requires_grad=True)
        fn = {'smooth_l1': lambda: F.smooth_l1_loss(x, lib.zeros(4), reduction='sum'),
              'smooth_l1_beta': lambda: F.smooth_l1_loss(x, lib.zeros(4), reduction='sum',
                                                         beta=0.5),
              'huber': lambda: F.huber_loss(x, lib.zeros(4), reduction='sum', delta=2.)}[loss]
        g, = lib.autograd.grad(fn(), x, create_graph=True)
        return g.detach(), lib.autograd.grad(g.sum(), x)[0]
    both(run)


@pytest.mark.filterwarnings('ignore:var')
@pytest.mark.parametrize('correction', [1, 2])
def test_var_backward_without_degrees_of_freedom_is_nan_or_inf(correction):
    def run(lib):
        x = lib.tensor([1., 3.][:correction], requires_grad=True)
        x.var(correction=correction).backward()
        return x.grad
    both(run)


@pytest.mark.parametrize('mode', ['floor', 'trunc'])
@pytest.mark.parametrize('other', ['number', 'tensor'])
def test_div_with_rounding_mode_has_zero_gradients(mode, other):
    def run(lib):
        x = lib.tensor([1.5, -2.5], requires_grad=True)
        o = 3 if other == 'number' else lib.tensor([2., 2.], requires_grad=True)
        y = lib.div(x, o, rounding_mode=mode)
        y.sum().backward()
        return y.detach(), y.grad_fn.name(), x.grad, o if other == 'number' else o.grad
    both(run)


def test_floor_divide_records_a_node_without_derivative():
    def run(lib):
        y = lib.tensor([1.5, -2.5], requires_grad=True) // 2
        return y.requires_grad, y.grad_fn.name()
    both(run)
    assert_same_error(lambda lib: (lib.tensor([1.5], requires_grad=True) // 2).sum().backward())


@pytest.mark.parametrize('op', ['t_', 'unsqueeze_', 'squeeze_', 'transpose_'])
def test_in_place_view_ops_bump_the_version(op):
    """y.t_() is an in-place op: a saved copy of y is stale after it (backward raises)."""
    args = {'t_': (), 'unsqueeze_': (0,), 'squeeze_': (), 'transpose_': (0, 1)}[op]

    def run(lib):
        y = lib.ones(2, 2, requires_grad=True) * 1
        before = y._version
        z = y * y
        getattr(y, op)(*args)
        return y._version - before, z
    both(lambda lib: run(lib)[0])
    both(lambda lib: run(lib)[1].sum().backward())     # (both raise: the same kind)


def test_enable_grad_inside_inference_mode_records_nothing():
    def run(lib):
        w = lib.ones(3, requires_grad=True)
        with lib.inference_mode():
            with lib.enable_grad():
                x = lib.ones(2, requires_grad=True)
                y, z = x * 2, w * 2
                inside = (lib.is_grad_enabled(), y.requires_grad, y.is_inference(),
                          z.requires_grad, z.grad_fn is None)
            with lib.set_grad_enabled(True):
                also = (lib.is_grad_enabled(), (w * 3).requires_grad)
        return inside, also, lib.is_grad_enabled(), (w * 2).requires_grad
    both(run)


def test_a_view_made_in_no_grad_mode_still_requires_grad():
    """PyTorch's view of a tensor that requires grad, made under no_grad, requires grad too (a
    leaf without history: it prints requires_grad=True, and backward through it runs, its
    gradient reaching nobody)."""
    def run(lib):
        w = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            v, r, m = w[:2], w.reshape(3), w * 2
        shown = repr(v)
        (v * 2).sum().backward()
        return v.requires_grad, v.is_leaf, r.requires_grad, m.requires_grad, shown, w.grad, v.grad
    both(run)
    both(lambda lib: _no_grad_view_of_non_leaf(lib).mul_(2))   # (both raise)


def _no_grad_view_of_non_leaf(lib):
    y = lib.ones(3, requires_grad=True) * 1
    with lib.no_grad():
        return y[:1]


FUNC_TRANSFORMS = {   # outputs that ignore an input: zero gradients, not an error
    'grad_unused_argnum': lambda lib: lib.func.grad(lambda x, y: (x * 2).sum(), argnums=1)(
        lib.ones(2), lib.ones(2)),
    'hessian_linear': lambda lib: lib.func.hessian(lambda x: (x * 3).sum())(lib.ones(2)),
    'jacrev_detached': lambda lib: lib.func.jacrev(lambda x: x.detach() * 2)(lib.ones(2)),
    'vjp_detached': lambda lib: lib.func.vjp(lambda x: x.detach() * 2, lib.ones(2))[1](
        lib.ones(2)),
    'jacfwd_detached': lambda lib: lib.func.jacfwd(lambda x: x.detach())(lib.ones(2)),
    # has_aux: the aux comes back detached
    'grad_aux': lambda lib: (lambda g, aux: (g, aux, aux.requires_grad))(
        *lib.func.grad(lambda x: ((x ** 2).sum(), x * 3), has_aux=True)(lib.ones(2))),
    # vmap: randomness='same' gives every element the same numbers; out_dims=None
    'vmap_same_randomness': lambda lib: (lib.manual_seed(0), lib.func.vmap(
        lambda x: lib.rand(()) + x, randomness='same')(lib.zeros(3)), lib.rand(2))[1:],
    'vmap_out_dims_none': lambda lib: lib.func.vmap(
        lambda x: (x * 2, lib.tensor(1.)), out_dims=(0, None))(lib.ones(3, 2)),
}


@pytest.mark.parametrize('case', FUNC_TRANSFORMS)
def test_func_transforms(case):
    both(FUNC_TRANSFORMS[case])


NODE_NAMES = {    # PyTorch's grad_fn for functions nbgrad composes, and overload numbers
    'cumsum': lambda lib, x, v, m: x.cumsum(1), 'cumprod': lambda lib, x, v, m: x.cumprod(1),
    'addmm': lambda lib, x, v, m: lib.addmm(v, x, m),
    'addmv': lambda lib, x, v, m: lib.addmv(x[0], m, x[0]),
    'addr': lambda lib, x, v, m: lib.addr(m, x[0], x[0]),
    'addcmul': lambda lib, x, v, m: lib.addcmul(x, x, v),
    'addcdiv': lambda lib, x, v, m: lib.addcdiv(x, x, v),
    'number_to_a_power': lambda lib, x, v, m: 2 ** x,
    'lerp_number_weight': lambda lib, x, v, m: lib.lerp(x, v, 0.5),
    'lerp_tensor_weight': lambda lib, x, v, m: lib.lerp(x, v, v),
    'scatter_value': lambda lib, x, v, m: x.scatter(1, lib.zeros(2, 1, dtype=lib.long), 1.0),
    'msort': lambda lib, x, v, m: lib.msort(x), 'trace': lambda lib, x, v, m: m.trace(),
    'take': lambda lib, x, v, m: x.take(lib.tensor([0, 2])),
    'put': lambda lib, x, v, m: x.put(lib.tensor([0]), lib.tensor([1.])),
    'nansum': lambda lib, x, v, m: x.nansum(), 'nan_to_num': lambda lib, x, v, m: x.nan_to_num(),
    'deg2rad': lambda lib, x, v, m: x.deg2rad(),
    'var_mean': lambda lib, x, v, m: lib.var_mean(x)[0],
    'aminmax': lambda lib, x, v, m: lib.aminmax(x)[0],
}


@pytest.mark.parametrize('case', NODE_NAMES)
def test_composed_functions_show_pytorchs_node(case):
    def run(lib):
        x, v = lib.rand(2, 3, requires_grad=True), lib.rand(2, 3, requires_grad=True)
        m = lib.rand(3, 3, requires_grad=True)
        y = NODE_NAMES[case](lib, x, v, m)
        return y.grad_fn.name(), repr(y).split('grad_fn=')[1]
    both(run)


def test_mark_dirty_on_a_view_goes_through_the_base():
    """A custom Function writing in place into a view of a non-leaf (mark_dirty): the base's
    gradient goes through the Function's backward (CopySlices), as for built-in ops."""
    def run(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x.mul_(2)

            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = lib.ones(2, 4, requires_grad=True)
        y = x * 1
        out = Double.apply(y[:, 1])
        (y ** 2 * lib.arange(4.)).sum().backward()
        return x.grad, y.detach(), y.grad_fn.name(), out.grad_fn.name()
    both(run)


def test_saved_tensors_hooks_pack_and_unpack_what_ops_save():
    """PyTorch's saved-tensors tutorial: a * b packs both factors when it runs and unpacks them
    in backward; a pack/unpack pair keeping clones elsewhere still gives the right gradient."""
    def run(lib):
        events = []

        def pack(t):
            events.append(('pack', t.detach().tolist()))
            return t

        def unpack(t):
            events.append(('unpack', t.detach().tolist()))
            return t
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, requires_grad=True) * 2
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = a * b
        y.sum().backward()
        store = []
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(
                lambda t: store.append(t.clone()) or len(store) - 1, lambda i: store[i]):
            w = x.sin().exp()
        w.sum().backward()
        with lib.autograd.graph.save_on_cpu():
            (x * x).sum().backward()
        return sorted(events), a.grad, x.grad, len(store)
    both(run)
    assert_same_error(lambda lib: _hooks_inside_disabled(lib))


def _hooks_inside_disabled(lib):
    with lib.autograd.graph.disable_saved_tensors_hooks('no hooks here'):
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass


def test_grad_fn_saved_attributes():
    def run(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        p, e, m = x.pow(2), x.exp(), x * lib.ones(3)
        return (p.grad_fn._saved_self is x, p.grad_fn._saved_self, e.grad_fn._saved_result,
                m.grad_fn._saved_other)
    both(run)


def test_vmap_empty_batch_and_in_dims_checks():
    both(lambda lib: lib.func.vmap(lambda x: (x * 2, x.sum()))(lib.ones(0, 3)))
    for call in (lambda lib: lib.func.vmap(lambda x: x * 2, in_dims=2)(lib.ones(2, 3)),
                 lambda lib: lib.func.vmap(lambda x: x * 2)(lib.tensor(1.))):
        assert_same_error(call)


def test_backward_with_create_graph_warns_about_the_reference_cycle_once():
    """PyTorch warns once per process (so each library runs in a fresh one here)."""
    import os
    import subprocess
    import sys
    program = ("import warnings; warnings.simplefilter('always'); import {0} as t\n"
               "x = t.ones(2, requires_grad=True)\n"
               "for _ in range(2): (x * x).sum().backward(create_graph=True)\n")
    messages = []
    for name in ('torch', 'nbgrad'):
        run = subprocess.run([sys.executable, '-c', program.format(name)], capture_output=True,
                             text=True, timeout=120,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        messages.append([line.split('Warning: ')[1][:70] for line in run.stderr.splitlines()
                         if 'Warning: ' in line])
    assert messages[1] == messages[0] and len(messages[0]) == 1, messages


def _graph_class_names(lib, make):
    """type(fn).__name__ of every node reached from make(lib)'s grad_fn, depth first (what
    torchviz draws), with isinstance(fn, Node) for each."""
    x = lib.tensor([0.5, 1.5, 2.0], requires_grad=True)
    w = lib.tensor([[1., 2., 3.], [0.5, -1., 2.], [3., 1., -2.]], requires_grad=True)
    names, todo, seen = [], [make(lib, x, w).grad_fn], []
    while todo:
        fn = todo.pop()
        if fn is None or any(fn == other for other in seen):
            continue
        seen.append(fn)    # (kept alive: PyTorch makes a new Python object per access)
        names.append((type(fn).__name__, isinstance(fn, lib.autograd.graph.Node)))
        todo.extend(f for f, _ in fn.next_functions)
    return names


@pytest.mark.parametrize('expr', [
    '(w @ x).pow(2).sum() + x.pow(x).sum()',
    '(x * 2).exp().mean() - lib.tanh(w).sum(1).max()',
    'lib.cat([x, x.sin()]).cumsum(0)[1:].prod()',
    'lib.where(x > 1, x, w[0]).unsqueeze(0).expand(2, 3).sum(0).var().relu()',
    '(w.t().softmax(-1) / x).log_softmax(0).abs().norm()',
    '2 ** x + x.clone()[:2].sum()',
])
def test_grad_fn_classes_have_pytorchs_names(expr):
    """type(y.grad_fn).__name__ is PyTorch's node name (torchviz labels nodes with it); nbgrad's
    nodes were its op classes (Mul, Pow) whatever the overload. (Composites nbgrad records as
    several nodes, addmm or linear, show their inner nodes under PyTorch's name for the last.)"""
    both(lambda lib: _graph_class_names(lib, lambda lib, x, w: eval(expr)))


def test_named_nodes_still_run_backward_and_rename():
    """A node renamed for the user still runs backward, and a composite renamed after the user
    saw its last node (mse_loss presents as MseLossBackward0) takes the new name."""
    def run(lib):
        x = lib.tensor([1., -2., 3.], requires_grad=True)
        y = x * 3
        seen = type(y.grad_fn).__name__
        v = y[1:]
        v.mul_(2)                    # an in-place write into a view of a named node's output
        loss = lib.nn.functional.mse_loss(y, lib.zeros(3))
        loss.backward()
        return seen, type(y.grad_fn).__name__, type(loss.grad_fn).__name__, x.grad
    both(run)


@pytest.mark.parametrize('expr', [
    'lib.nn.functional.mse_loss(lin(x), lib.zeros(4, 2))',          # PyTorch's 60-minute blitz
    'lin(x)',
    'lib.nn.functional.nll_loss(lin(x).log_softmax(1), t)',
    'lib.nn.functional.nll_loss(lin(x).log_softmax(1), t, weight=lib.ones(2))',
    'lib.nn.functional.cross_entropy(lin(x), t)',
    'lin(x).gather(1, t[:, None])', 'lin(x).index_select(0, t)',
    'lib.nn.functional.embedding(t, lin.weight)', 'lib.where(x > 0, x, 0.)',
    'lib.addmm(lin.bias, x, lin.weight.t())', 'lib.addcmul(x, x, x)',
])
def test_next_functions_are_pytorchs_edges(expr):
    """grad_fn.next_functions as PyTorch's node has them: no edges for integer inputs (targets,
    indices, conditions), and a composite (mse_loss, addmm...) points at its arguments' nodes,
    not at the inner nodes nbgrad records it with."""
    def run(lib):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2)
        x = lib.randn(4, 3, requires_grad=True)
        t = lib.tensor([0, 1, 1, 0])
        fn = eval(expr, {'lib': lib, 'lin': lin, 'x': x, 't': t}).grad_fn
        return [(type(f).__name__ if f is not None else None, n) for f, n in fn.next_functions]
    both(run)


@pytest.mark.parametrize('view, op', [
    ('base.t()', 'x.t_()'), ('base.transpose(0, 1)', 'x.transpose_(0, 1)'),
    ('base.permute(1, 0, 2)', 'x.transpose_(0, 1)'), ('base[1:]', 'x.unsqueeze_(0)'),
    ('base.unsqueeze(0)', 'x.squeeze_(0)'), ('base[:, :2]', 'x.t_()'),
])
def test_in_place_view_ops_on_views_keep_the_gradient(view, op):
    """x.t_() where x is itself a view of a graph tensor: its history is the new view of what x
    was (nbgrad replayed the old view op alone: wrong gradients, or a shape error). This is
    unpad_sequence's transpose_ of pad_sequence's output."""
    def run(lib):
        a = lib.arange(1., 13.).reshape(3, 2, 2).requires_grad_()
        base = (a * 2)[:, :, 0] if 'permute' not in view else a * 2
        x = eval(view, {'base': base})
        eval(op, {'x': x})
        weights = lib.arange(1., x.numel() + 1).reshape(x.shape)
        (x[0] * weights[0]).sum().backward()
        return x.detach(), a.grad
    both(run)


def test_pack_hooks_run_without_grad():
    """PyTorch runs a saved-tensor pack hook under no_grad: a pack hook that computes (t * 1)
    recursed without end in nbgrad (each op saved its inputs through the same hook)."""
    def run(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        seen = []

        def pack(t):
            seen.append(lib.is_grad_enabled())
            return t * 1
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t * 2):
            y = (x.exp() * x).sum()
        y.backward()
        return seen, x.grad
    both(run)


@pytest.mark.parametrize('expr', ['(b * 3 + a * 2).sum()', '(a * 3 + b * 2).sum()',
                                  '(a * c).sum() + (b * b).sum()', '(a * 2 * b).sum() + a.sum()'])
def test_leaf_hooks_run_as_soon_as_the_leaf_gradient_is_complete(expr):
    """PyTorch's engine runs a leaf's AccumulateGrad before any other ready node, so leaf hooks
    fire in graph order; nbgrad ordered them by when each leaf was first used."""
    def run(lib):
        a, b, c = (lib.tensor([1., 2.], requires_grad=True) for _ in range(3))
        order = []
        for name, t in zip('abc', (a, b, c)):
            t.register_hook(lambda g, name=name: order.append(name + ' hook'))
            t.register_post_accumulate_grad_hook(lambda t, name=name: order.append(name + ' post'))
        for _ in range(2):      # (the second pass reuses the leaves' nodes)
            eval(expr, {'a': a, 'b': b, 'c': c}).backward()
        return order
    both(run)


def _functions(lib):
    class WithSetup(lib.autograd.Function):
        @staticmethod
        def forward(x, w=None, scale=2.0):
            return x * (w if w is not None else 1) * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.seen = (len(inputs), ctx.needs_input_grad)
            ctx.save_for_backward(*inputs[:2])
            ctx.scale = inputs[2]

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w * ctx.scale, g * x * ctx.scale, None

    class ByVjp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def vjp(ctx, g):
            return g * 3

    class ReturnsInput(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_non_differentiable(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g
    return WithSetup, ByVjp, ReturnsInput


def test_function_apply_binds_keywords_and_takes_vjp():
    """apply binds keyword arguments and defaults to forward's parameters (setup_context sees
    them all); a Function may define vjp instead of backward; an input returned as a marked
    non-differentiable output does not require grad."""
    def run(lib):
        with_setup, by_vjp, returns_input = _functions(lib)
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        y = with_setup.apply(x, w=w)
        y.sum().backward()
        seen = y.grad_fn.seen
        x2 = x.detach().requires_grad_()
        by_vjp.apply(x2).sum().backward()
        z = returns_input.apply(x * 1)
        return seen, x.grad, w.grad, x2.grad, z.requires_grad, z.grad_fn is None, \
            x._is_view(), x[0]._is_view()
    both(run)


@pytest.mark.parametrize('mode', ['all', 'any'])
def test_register_multi_grad_hook(mode):
    """One hook over several tensors' gradients, per backward: 'all' once every reached
    tensor has its gradient (None for the others), 'any' with the first; removable."""
    def run(lib):
        a, b, c = (lib.tensor(v, requires_grad=True) for v in ([1., 2.], [3., 4.], [5.]))
        calls = []

        def record(grads):
            calls.append([None if g is None else g.tolist() for g in grads]
                         if mode == 'all' else grads.tolist())
        handle = lib.autograd.graph.register_multi_grad_hook((a, b, c), record, mode=mode)
        (a * b).sum().backward()
        (a * b * c).sum().backward()
        x, y = a * 2, b * 3
        lib.autograd.graph.register_multi_grad_hook((x, y), record, mode=mode)
        (x * y).sum().backward()
        handle.remove()
        (a * b * c).sum().backward()
        return calls
    both(run)


def test_grad_mode_decorating_a_class_is_pytorchs_deprecated_form():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')

            @lib.no_grad()
            class Made:
                def __init__(self):
                    self.x = lib.ones(2, requires_grad=True) * 2
            made = Made()
        return [type(w.message).__name__ for w in caught], made.x.requires_grad
    both(run)


def _dirty_not_returned(lib):
    class Dirty(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            a.add_(1)
            ctx.mark_dirty(a)
            return b * 2

        @staticmethod
        def backward(ctx, g):
            return g, g
    return Dirty.apply(lib.ones(2) * 1, lib.ones(2, requires_grad=True))


def _post_accumulate_hook_returning(lib):
    p = lib.ones(2, requires_grad=True)
    p.register_post_accumulate_grad_hook(lambda t: 'x')
    (p * 2).sum().backward()


def _post_hook_filling_a_none_gradient(lib):
    p = lib.ones(2, requires_grad=True)
    y = p * 2
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0], grad_inputs[0]))
    y.sum().backward()


@pytest.mark.parametrize('case', [_dirty_not_returned, _post_accumulate_hook_returning,
                                  _post_hook_filling_a_none_gradient])
def test_autograd_misuse_refused_as_pytorch(case):
    assert_same_error(case)


def test_function_next_functions_and_inference_detach():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, w):
                return x * k * w

            @staticmethod
            def backward(ctx, g):
                return g, None, g
        x, w = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        edges = [(type(f).__name__ if f is not None else None, n)
                 for f, n in Scale.apply(x, 3, w).grad_fn.next_functions]
        with lib.inference_mode():
            made = lib.ones(2)
        return edges, made.detach().is_inference(), made.clone().is_inference()
    both(run)


@pytest.mark.parametrize('values', [[float('nan'), 0., 2.], [float('inf'), 0., 2.],
                                    [float('nan'), 1., 2.], [1.5, -2.25, 3.1], [0., 0., 2.],
                                    [0.5, 1.5, 0.], [3.]])
def test_prod_gradient_is_pytorchs_prod_backward(values):
    """result / x where nothing is zero (a division: PyTorch's rounding and NaNs), the
    zero-safe exclusive products otherwise; a NaN or inf no longer poisons the ones of the
    exclusive products (they were made as x * 0 + 1)."""
    def run(lib):
        x = lib.tensor(values, requires_grad=True)
        x.prod().backward()
        y = lib.tensor([values, values[::-1]], requires_grad=True)
        y.prod(1).sum().backward()
        return x.grad, y.grad
    both(run, check=lambda got, expected: [np.testing.assert_array_equal(g.numpy(), e.numpy())
                                           for g, e in zip(got, expected)])
