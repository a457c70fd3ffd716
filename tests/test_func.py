"""torch.func in nbgrad: functional_call and the transforms (grad, grad_and_value, vjp, jacrev,
jacfwd, hessian, vmap), each compared with PyTorch's on the same functions, composed as real
code composes them (per-sample gradients: vmap(grad(loss)) over functional_call)."""
import numpy as np
import pytest
import torch

import nbgrad
from torch_compare import assert_same, assert_same_error, both, exc_kind


def _x(lib):
    return lib.tensor([1., 2., 3.], dtype=lib.float64)


def _f(x):
    return (x.sin() * x).sum()


CASES = {
    'grad': lambda lib, F: F.grad(_f)(_x(lib)),
    'grad is a plain tensor': lambda lib, F: F.grad(_f)(_x(lib)).requires_grad,
    'grad_and_value': lambda lib, F: F.grad_and_value(_f)(_x(lib)),
    'grad of grad': lambda lib, F: F.grad(lambda x: F.grad(_f)(x).sum())(_x(lib)),
    'argnums': lambda lib, F: F.grad(lambda a, b: (a * b ** 2).sum(), argnums=(0, 1))(
        _x(lib), _x(lib) + 1),
    'has_aux': lambda lib, F: F.grad(lambda a: ((a ** 2).sum(), a.mean()), has_aux=True)(
        _x(lib)),
    'dict argument': lambda lib, F: list(F.grad(lambda p: (p['a'] * p['b']).sum())(
        {'a': _x(lib), 'b': _x(lib) * 2}).items()),
    'jacrev': lambda lib, F: F.jacrev(lambda a: a ** 2 * a.sum())(_x(lib)),
    'jacfwd': lambda lib, F: F.jacfwd(lambda a: a.exp())(_x(lib)),
    'jacrev of a matrix': lambda lib, F: F.jacrev(lambda a: a.reshape(3, 1) * a)(_x(lib)),
    'hessian': lambda lib, F: F.hessian(lambda a: (a ** 3).sum() * a[0])(_x(lib)),
    'vjp': lambda lib, F: (lambda o, fn: (o, fn(lib.ones(3, dtype=lib.float64))))(
        *F.vjp(lambda a: a * 2 + a.sin(), _x(lib))),
    'vmap': lambda lib, F: F.vmap(lambda a: a.sum() * a)(
        lib.arange(6., dtype=lib.float64).reshape(2, 3)),
    'vmap in_dims None': lambda lib, F: lib.vmap(lambda a, b: a @ b, in_dims=(0, None))(
        lib.ones(4, 2, 3, dtype=lib.float64), lib.arange(3., dtype=lib.float64)),
    'vmap out_dims': lambda lib, F: lib.vmap(lambda a: a * 2, in_dims=1, out_dims=1)(
        lib.arange(6., dtype=lib.float64).reshape(2, 3)),
    'vmap tuple output': lambda lib, F: F.vmap(lambda a: (a.sum(), a * 2))(
        lib.arange(6., dtype=lib.float64).reshape(3, 2)),
    'vmap of vmap': lambda lib, F: F.vmap(F.vmap(lambda a: a ** 2))(
        lib.arange(6., dtype=lib.float64).reshape(2, 3)),
    'vmap of jacrev': lambda lib, F: F.vmap(F.jacrev(lambda a: a.sin() * a.sum()))(
        lib.arange(6., dtype=lib.float64).reshape(2, 3)),
}


@pytest.mark.parametrize('case', list(CASES))
def test_transforms_match_pytorch(case):
    got, expected = CASES[case](nbgrad, nbgrad.func), CASES[case](torch, torch.func)
    assert_same(got, expected, rtol=1e-12, atol=1e-12)


def _model_and_data(lib):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2).double()
    xs = lib.arange(12., dtype=lib.float64).reshape(4, 3) / 10
    return model, xs, lib.ones(4, 2, dtype=lib.float64)


def test_per_sample_gradients_and_functional_call_match_pytorch():
    def run(lib):
        F = lib.func
        model, xs, ys = _model_and_data(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, x, y):
            prediction = F.functional_call(model, p, (x.unsqueeze(0),))
            return lib.nn.functional.mse_loss(prediction, y.unsqueeze(0))
        per_sample = F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
        split = F.functional_call(model, ({'weight': lib.ones(2, 3, dtype=lib.float64)},
                                          {'bias': lib.zeros(2, dtype=lib.float64)}), (xs,))
        return per_sample['weight'], per_sample['bias'], split
    assert_same(run(nbgrad), run(torch), rtol=1e-12, atol=1e-12)


def test_a_closed_over_parameter_keeps_its_graph_through_grad():
    """grad(f)(x) where f uses a parameter w: the gradient depends on w, and PyTorch keeps that
    dependence for an ordinary backward (so meta-learning losses reach w)."""
    def run(lib):
        w = lib.tensor([0.5, -1., 2.], dtype=lib.float64, requires_grad=True)
        g = lib.func.grad(lambda a: (w * a.sin()).sum())(_x(lib))
        (g * g).sum().backward()
        return g.requires_grad, w.grad
    assert_same(run(nbgrad), run(torch), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('misuse', [
    lambda lib: lib.func.grad(lambda a: a * 2)(_x(lib)),
    lambda lib: lib.func.grad(_f, argnums=3)(_x(lib)),
    lambda lib: lib.func.grad(_f)(lib.tensor([1, 2])),
    lambda lib: lib.func.functional_call(lib.nn.Linear(2, 2), ({'weight': lib.ones(2, 2)},
                                                                {'weight': lib.ones(2, 2)}),
                                         (lib.ones(2),)),
    lambda lib: lib.vmap(lambda a, b: a + b)(lib.ones(2, 3), lib.ones(3, 3)),
    lambda lib: lib.vmap(lambda a: a, randomness='sometimes')(lib.ones(2)),
], ids=['non-scalar output', 'argnums out of range', 'integer input', 'repeated key',
        'batch sizes differ', 'randomness'])
def test_misuse_raises_pytorchs_exception_types(misuse):
    kinds = []
    for lib in (torch, nbgrad):
        with pytest.raises(Exception) as info:
            misuse(lib)
        kinds.append(exc_kind(info.value))
    assert kinds[1] is kinds[0]


def _ensemble(lib, n=3):
    lib.manual_seed(0)
    return [lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))
            for _ in range(n)]


def test_stack_module_state_runs_an_ensemble_under_vmap():
    """PyTorch's model-ensembling recipe (with a deepcopy for the base model: nbgrad has no
    meta device): the stacked state, and the ensemble's outputs through vmap."""
    import copy
    results = []
    for lib in (torch, nbgrad):
        models = _ensemble(lib)
        params, buffers = lib.func.stack_module_state(models)
        base = copy.deepcopy(models[0])
        x = lib.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=lib.float32)
        out = lib.func.vmap(lambda p, b, x: lib.func.functional_call(base, (p, b), (x,)),
                            in_dims=(0, 0, None))(params, buffers, x)
        layout = {k: (tuple(v.shape), v.requires_grad, v.is_leaf) for k, v in params.items()}
        layout.update({k: (tuple(v.shape), v.requires_grad) for k, v in buffers.items()})
        results.append((layout, out.detach().numpy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('case', ['no_models', 'mixed_modes', 'mixed_classes'])
def test_stack_module_state_refusals(case):
    for lib in (torch, nbgrad):
        models = _ensemble(lib, 2)
        if case == 'no_models':
            models = []
        elif case == 'mixed_modes':
            models[1].eval()
        else:
            models[1] = lib.nn.Linear(3, 4)
        with pytest.raises(RuntimeError, match='stack_module_state|same class|requires_grad'):
            lib.func.stack_module_state(models)


@pytest.mark.filterwarnings('ignore::UserWarning')
def test_linearize_gives_the_output_and_its_jvp():
    results = []
    for lib in (torch, nbgrad):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
        out, jvp_fn = lib.func.linearize(lambda t: t.sin() * t, x)
        results.append([out.numpy(), jvp_fn(lib.ones(3, dtype=lib.float64)).numpy(),
                        jvp_fn(lib.tensor([1., 0., -1.], dtype=lib.float64)).numpy()])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_functionalize_computes_what_the_function_computes_mutations_included():
    def f(a, b):
        a.add_(b)
        return a * 2
    results = []
    for lib in (torch, nbgrad):
        a = lib.ones(3)
        out = lib.func.functionalize(f)(a, lib.arange(3.))
        results.append((out.tolist(), a.tolist()))
        with pytest.raises(RuntimeError, match='remove'):
            lib.func.functionalize(f, remove='views')
    assert results[1] == results[0]


def _func_case(case):
    """Run a torch.func expression under both libraries (names: lib, F = lib.func, x, y)."""
    results = []
    for lib in (torch, nbgrad):
        names = {'lib': lib, 'F': lib.func, 'x': lib.tensor([0.5, 1.0, 2.0]),
                 'y': lib.tensor([1., -1., 3.]), 's': lib.tensor(3.)}
        results.append(eval(case, names))
    return results


@pytest.mark.parametrize('case', [
    'F.grad(lambda x: F.grad(lambda y: x * y)(x))(s)',
    'F.grad(lambda x: x * F.grad(lambda y: x + y)(x))(s)',
    'F.grad(lambda y: leaf * y)(leaf)',
    'F.hessian(lambda x: x * F.grad(lambda y: x * y * y)(x))(s)',
    'F.grad(lambda x: F.vjp(lambda y: x * y, x)[1](lib.tensor(1.))[0])(s)',
    'F.jacrev(lambda x: F.jacrev(lambda y: x * y)(x))(x)',
    'F.vmap(lambda xi: F.grad(lambda y: (xi * y * y).sum())(xi))(x.reshape(3, 1) * y)',
])
def test_nested_transforms_keep_their_variables_apart(case):
    """An inner transform differentiates its own argument only, not the outer variable the
    function closes over, even when that argument is the outer variable itself (nbgrad used a
    tensor that already required grad as it was: the inner gradient counted both)."""
    results = []
    for lib in (torch, nbgrad):
        names = {'lib': lib, 'F': lib.func, 'x': lib.tensor([0.5, 1.0, 2.0]),
                 'y': lib.tensor([1., -1., 3.]), 's': lib.tensor(3.),
                 'leaf': lib.tensor(3., requires_grad=True)}
        results.append(eval(case, names).detach())
    assert_same(results[1], results[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('case', [
    'F.jvp(lambda a: F.jvp(lib.sin, (a,), (lib.ones(3),))[1], (x,), (y,))[1]',
    'F.grad(lambda a: F.jvp(lib.sin, (a,), (y,))[1].sum())(x)',
    'F.grad(lambda s: F.jvp(lambda t: s * t, (s,), (lib.tensor(1.),))[1])(s)',
    "F.jvp(lambda d: d['a'] * 2, ({'a': x},), ({'a': y},))[1]",
    'F.jvp(lambda t: t[0] * t[1], ((x, y),), ((lib.ones(3), lib.zeros(3)),))[1]',
    'F.jvp(lambda a: (a.sin(), a.cos()), (x,), (y,))[1][1]',
    'F.jvp(lambda a, b: a * b, (x, y), (y, x))[1]',
    'F.jvp(lambda a: lib.zeros(3), (x,), (y,))[1]',
])
def test_jvp_results_are_differentiable_and_take_trees(case):
    """jvp's outputs stay in the graph of an outer transform (jvp of jvp, grad of jvp: nbgrad
    returned them detached, so the outer derivative was 0), and primals may be dicts or nested
    tuples (the NTK tutorial's params dict)."""
    expected, got = _func_case(case)
    assert_same(got.detach(), expected.detach(), rtol=1e-6, atol=1e-7)


def test_jvp_reaches_parameters_for_backward():
    results = []
    for lib in (torch, nbgrad):
        w = lib.tensor([0.3, -0.2, 0.9], requires_grad=True)
        out = lib.func.jvp(lambda a: (a * w).sin(), (lib.tensor([0.5, 1., 2.]),),
                           (lib.ones(3),))
        out[1].sum().backward()
        results.append((out[0].requires_grad, out[1].requires_grad, w.grad))
    assert results[1][:2] == results[0][:2]
    assert_same(results[1][2], results[0][2], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('argnums', [(0, 0), (1, 1), 0.5, 2, (0, 2)])
def test_argnums_are_checked_as_pytorch(argnums):
    kinds = []
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError) as info:
            lib.func.grad(lambda a, b: (a * b).sum(), argnums=argnums)(lib.ones(2), lib.ones(2))
        kinds.append(str(info.value))
    assert kinds[1] == kinds[0]


def test_replace_all_batch_norm_modules_and_debug_unwrap():
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        assert lib.func.replace_all_batch_norm_modules_(model) is model
        bn = model[1]
        x = lib.tensor(np.arange(18.).reshape(2, 3, 3) / 10, dtype=lib.float32)
        out = lib.func.vmap(model)(x)
        results.append((bn.running_mean, bn.running_var, bn.num_batches_tracked,
                        bn.track_running_stats, repr(bn), lib.func.debug_unwrap(out).shape,
                        out.detach()))
    assert results[1][:6] == results[0][:6]
    assert_same(results[1][6], results[0][6], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('case', [
    'F.vmap(lambda a: lib.randn(5), randomness="different")(lib.zeros(4))',
    'F.vmap(lambda a: lib.randn(3) + lib.rand(2).sum(), randomness="different")(lib.zeros(4))',
    'F.vmap(lambda a: a + lib.randn_like(a), randomness="different")(lib.zeros(4, 5))',
    'F.vmap(lambda a: a.clone().normal_(), randomness="different")(lib.zeros(4, 5))',
    'F.vmap(lambda a: lib.nn.functional.dropout(a, 0.5), randomness="different")'
    '(lib.ones(4, 6))',
    'F.vmap(lambda a: lib.normal(0., 1., (8,)), randomness="different")(lib.zeros(2))',
    'F.vmap(lambda a: lib.randint(0, 10, (3,)), randomness="different")(lib.zeros(3))',
    'F.vmap(F.vmap(lambda a: lib.randn(4), randomness="different"), '
    'randomness="different")(lib.zeros(2, 3))',
    'F.vmap(lambda a: lib.randn(5), randomness="same")(lib.zeros(4))',
])
def test_vmap_draws_random_numbers_as_pytorch(case):
    """PyTorch's vmap runs a random op once on the batched shape (normal's 16-at-a-time path,
    two ops not interleaved); nbgrad's per-element calls now take their rows of one batched
    draw, and the generator ends where PyTorch's does."""
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        values = eval(case, {'lib': lib, 'F': lib.func})
        results.append((values, lib.rand(1)))
    assert_same(results[1][0], results[0][0], rtol=1e-6, atol=1e-6)
    assert_same(results[1][1], results[0][1])


@pytest.mark.parametrize('case', [
    'F.vmap(lambda a: a + lib.randn(3))(lib.ones(2, 3))',
    'F.vmap(lambda a: lib.bernoulli(a))(lib.ones(2, 3) / 2)',
    'F.vmap(lambda a: lib.nn.functional.dropout(a, 0.5))(lib.ones(2, 3))',
    'F.vmap(lambda a: lib.randn_like(a))(lib.ones(2, 3))',
    'F.vmap(lambda a: lib.multinomial(a, 2))(lib.ones(2, 3))',
    'F.vmap(lambda a: a[lib.randperm(3)])(lib.ones(2, 3))',
    'F.vmap(F.vmap(lambda a: a + lib.rand(()), randomness="different"))(lib.ones(2, 3))',
    'F.vmap(F.vmap(lambda a: a + lib.rand(())), randomness="different")(lib.ones(2, 3))',
])
def test_vmap_refuses_random_ops_by_default(case):
    """randomness='error', vmap's default, refuses any random op, at any level of nested
    vmaps, with PyTorch's message (nbgrad drew numbers)."""
    assert_same_error(lambda lib: eval(case, {'lib': lib, 'F': lib.func}))


def test_vmap_runs_what_draws_nothing_by_default():
    both(lambda lib: lib.func.vmap(lambda a: lib.nn.functional.dropout(a, 0.5, training=False))(
        lib.ones(2, 3)))
