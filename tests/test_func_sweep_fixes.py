"""Fixes from the porting sweep of nbgrad.func, each compared with PyTorch run in the same test:
nested transforms over a closed-over variable return plain tensors; prune.ln_structured takes
n='fro' / 'nuc' as torch.norm does; vmap checks its arguments and outputs as PyTorch's and
refuses in-place writes of batched values into tensors from outside the function; backward()
inside a transform; the exception types and messages of misused transforms."""
import functools

import pytest

torch = pytest.importorskip('torch')
import torch.nn.utils.prune  # noqa: E402,F401 (torch.nn.utils does not import it)

import nbgrad  # noqa: E402
from torch_compare import assert_same, assert_same_error, both  # noqa: E402


def _xw(lib):
    x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64)
    w = lib.tensor([1.5, 0.7, -0.4], dtype=lib.float64)
    return x, w


def _sine(p):
    return lambda a: (a * p).sin()


# -- 1. nested transforms closing over the outer variable ----------------------------------------

NESTED = {
    'grad of grad': lambda F, x, w, ones: F.grad(
        lambda p: F.grad(lambda a: _sine(p)(a).sum())(x).sum())(w),
    'grad of vjp': lambda F, x, w, ones: F.grad(
        lambda p: F.vjp(_sine(p), x)[1](ones)[0].sum())(w),
    'grad of jvp': lambda F, x, w, ones: F.grad(
        lambda p: F.jvp(_sine(p), (x,), (ones,))[1].sum())(w),
    'grad of jvp primal only': lambda F, x, w, ones: F.grad(
        lambda p: F.jvp(_sine(p), (x,), (ones,))[0].sum())(w),
    'grad of jacrev': lambda F, x, w, ones: F.grad(
        lambda p: F.jacrev(_sine(p))(x).sum())(w),
    'grad of jacfwd': lambda F, x, w, ones: F.grad(
        lambda p: F.jacfwd(_sine(p))(x).sum())(w),
    'jacrev of jvp': lambda F, x, w, ones: F.jacrev(
        lambda p: F.jvp(_sine(p), (x,), (ones,))[1])(w),
    'vmap of grad of jvp': lambda F, x, w, ones: F.vmap(F.grad(
        lambda p: F.jvp(_sine(p), (x,), (ones,))[1].sum()))(w.reshape(1, 3).repeat(2, 1) *
                                                             (w.new_ones(2, 1) + w[:2, None])),
    'vmap of grad of grad': lambda F, x, w, ones: F.vmap(F.grad(
        lambda p: F.grad(lambda a: _sine(p)(a).sum())(x).sum()))(w.reshape(1, 3).repeat(2, 1)),
}


@pytest.mark.parametrize('case', list(NESTED))
def test_nested_transform_over_closed_variable_returns_a_plain_tensor(case):
    def run(lib):
        x, w = _xw(lib)
        out = NESTED[case](lib.func, x, w, lib.ones(3, dtype=lib.float64))
        return out, out.requires_grad, out.grad_fn is None, out.is_leaf
    both(run, check=functools.partial(assert_same, rtol=1e-12, atol=1e-12))


def test_nested_transform_keeps_the_graph_of_a_variable_from_outside():
    # (w requires grad outside every transform: the result stays differentiable, as PyTorch's)
    def run(lib):
        x, w = _xw(lib)
        w.requires_grad_()
        g = lib.func.grad(lambda p: lib.func.grad(lambda a: _sine(p)(a).sum())(x).sum())(w)
        g.sum().backward()
        return g.detach(), g.requires_grad, w.grad
    both(run, check=functools.partial(assert_same, rtol=1e-12, atol=1e-12))


# -- 2. prune.ln_structured with n='fro' / 'nuc' -------------------------------------------------

def _pruned_mask(lib, shape, n, dim, amount=0.5):
    values = lib.tensor([[float((3 * i + 7 * j) % 11) - 5 for j in range(shape[1])]
                         for i in range(shape[0])])
    return lib.nn.utils.prune.LnStructured(amount, n, dim=dim).compute_mask(values,
                                                                            lib.ones(shape))


@pytest.mark.parametrize('n,dim', [('fro', 0), ('fro', 1), ('fro', -1), (2, 0), (1, 1),
                                   (float('inf'), 0)])
def test_ln_structured_norms_as_torch_norm(n, dim):
    both(lambda lib: _pruned_mask(lib, (4, 3), n, dim))


def test_ln_structured_on_a_module_with_fro():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 4)
        with lib.no_grad():
            m.weight.copy_(lib.arange(12.).reshape(4, 3) - 5)
        lib.nn.utils.prune.ln_structured(m, 'weight', amount=0.5, n='fro', dim=0)
        return m.weight_mask, m.weight
    both(run)


def test_ln_structured_nuc_and_fro_over_three_dims_raise_as_torch():
    # torch.norm sends 'nuc' (and 'fro' over more than two dims) to matrix_norm, which wants
    # exactly two dims
    assert_same_error(lambda lib: _pruned_mask(lib, (4, 3), 'nuc', 0))

    def conv(lib, n, dim):
        lib.manual_seed(0)
        c = lib.nn.Conv2d(2, 4, 3)
        lib.nn.utils.prune.ln_structured(c, 'weight', amount=1, n=n, dim=dim)
        return c.weight_mask
    assert_same_error(lambda lib: conv(lib, 'fro', 0))
    assert_same_error(lambda lib: conv(lib, 'nuc', 1))
    both(lambda lib: lib.nn.utils.prune.LnStructured(0.5, 'nuc', dim=0).compute_mask(
        lib.arange(24.).reshape(4, 3, 2) % 5, lib.ones(4, 3, 2)))


# -- 3. vmap's argument and output checks -------------------------------------------------------

def _x(lib):
    return lib.arange(6.).reshape(2, 3)


VMAP_ERRORS = {
    'chunk_size 0': lambda lib, V: V(lib.sin, chunk_size=0),
    'chunk_size -1': lambda lib, V: V(lib.sin, chunk_size=-1),
    'in_dims list': lambda lib, V: V(lib.mul, in_dims=[0, None])(_x(lib), lib.ones(3)),
    'in_dims dict': lambda lib, V: V(lambda a: a, in_dims={'a': 0})(_x(lib)),
    'in_dims str': lambda lib, V: V(lib.mul, in_dims='a')(_x(lib), lib.ones(3)),
    'in_dims float': lambda lib, V: V(lib.sin, in_dims=0.5)(_x(lib)),
    'in_dims None': lambda lib, V: V(lib.sin, in_dims=None)(_x(lib)),
    'in_dim float in tuple': lambda lib, V: V(lib.sin, in_dims=(0.5,))(_x(lib)),
    'in_dim str in tuple': lambda lib, V: V(lib.sin, in_dims=('a',))(_x(lib)),
    'in_dims too short': lambda lib, V: V(lambda a, b: a, in_dims=(0,))(_x(lib), _x(lib)),
    'in_dims nested for a tensor': lambda lib, V: V(lambda a: a, in_dims=((0, 0),))(_x(lib)),
    'in_dims dict missing a key': lambda lib, V: V(lambda d: d['a'], in_dims=({'a': 0},))(
        {'a': _x(lib), 'b': _x(lib)}),
    'in_dims tuple for a list': lambda lib, V: V(lambda s: s[0], in_dims=((0, None),))(
        [_x(lib), lib.ones(3)]),
    'no inputs': lambda lib, V: V(lambda: lib.ones(3))(),
    'nothing mapped': lambda lib, V: V(lambda a: a, in_dims=(None,))(_x(lib)),
    'sizes differ': lambda lib, V: V(lambda a, b: a)(_x(lib), lib.ones(3, 3)),
    'in_dim out of range': lambda lib, V: V(lib.sin, in_dims=2)(_x(lib)),
    'non-tensor mapped': lambda lib, V: V(lambda a, b: a)(_x(lib), 1.0),
    'out_dims str': lambda lib, V: V(lib.sin, out_dims='a')(_x(lib)),
    'out_dims float': lambda lib, V: V(lib.sin, out_dims=0.5)(_x(lib)),
    'out_dims dict of str': lambda lib, V: V(lambda a: {'p': a}, out_dims={'p': 'a'})(_x(lib)),
    'out_dims list for a tensor': lambda lib, V: V(lambda a: a, out_dims=[0])(_x(lib)),
    'out_dims pair for a tensor': lambda lib, V: V(lambda a: a, out_dims=(0, 1))(_x(lib)),
    'out_dims list for a tuple': lambda lib, V: V(lambda a: (a, a), out_dims=[0, 0])(_x(lib)),
    'out_dims too long': lambda lib, V: V(lambda a: (a, a), out_dims=(0, 1, 0))(_x(lib)),
    'out_dims other keys': lambda lib, V: V(lambda a: {'p': a}, out_dims={'q': 1})(_x(lib)),
    'returns a float': lambda lib, V: V(lambda a: 1.5)(_x(lib)),
    'returns None': lambda lib, V: V(lambda a: None)(_x(lib)),
    'returns a bool': lambda lib, V: V(lambda a: a.is_contiguous())(_x(lib)),
    'returns a tuple with an int': lambda lib, V: V(lambda a: (a, 1))(_x(lib)),
    'batched output with out_dims None': lambda lib, V: V(lambda a: a * 2, out_dims=None)(
        _x(lib)),
    'one batched output of two with None': lambda lib, V: V(
        lambda a: (lib.ones(3), a), out_dims=None)(_x(lib)),
}


@pytest.mark.parametrize('case', list(VMAP_ERRORS))
def test_vmap_refuses_as_torch(case):
    assert_same_error(lambda lib: VMAP_ERRORS[case](lib, lib.func.vmap))


VMAP_ACCEPTS = {
    'out_dims None, output independent of the batch': lambda lib, V: V(
        lambda a: lib.ones(3) * 2, out_dims=None)(_x(lib)),
    'out_dims None for a float': lambda lib, V: V(lambda a: (a, 1.5), out_dims=(0, None))(
        _x(lib)),
    'out_dims 1-tuple for a tensor': lambda lib, V: V(lambda a: a * 3, out_dims=(0,))(_x(lib)),
    'nested out_dims': lambda lib, V: V(lambda a: (a, (a, a + 1)), out_dims=(0, (0, 1)))(
        _x(lib)),
    'out_dims dict': lambda lib, V: list(V(lambda a: {'p': a}, out_dims={'p': 1})(
        _x(lib)).items()),
    'in_dims list for a list argument': lambda lib, V: V(lambda s: s[0] * s[1],
                                                           in_dims=([0, None],))(
        [_x(lib), lib.ones(3)]),
    'negative in_dim': lambda lib, V: V(lambda a: a.sum(), in_dims=-1)(_x(lib)),
    'chunk_size 1': lambda lib, V: V(lib.sin, chunk_size=1)(_x(lib)),
}


@pytest.mark.parametrize('case', list(VMAP_ACCEPTS))
def test_vmap_accepts_as_torch(case):
    both(lambda lib: VMAP_ACCEPTS[case](lib, lib.func.vmap))


# -- 4. in-place writes into tensors from outside the vmapped function --------------------------

def test_vmap_refuses_a_batched_write_into_an_outside_tensor_and_leaves_it_alone():
    def run(lib):
        c = lib.zeros(5)
        try:
            lib.func.vmap(lambda a: c.add_(a))(lib.ones(3, 5))
        except RuntimeError:
            return 'refused', c
        return 'ran', c
    assert both(run)[0] == 'refused'
    # (the message names the op, says why, and what to do instead)
    outside = nbgrad.zeros(5)
    with pytest.raises(RuntimeError, match=r'add_.*outside the function.*out-of-place.*inside'):
        nbgrad.func.vmap(lambda a: outside.add_(a))(nbgrad.ones(3, 5))


@pytest.mark.parametrize('write', ['view of outside', 'setitem outside'])
def test_vmap_refuses_other_writes_into_an_outside_tensor(write):
    def run(lib):
        c = lib.zeros(2)

        def f(a):
            if write == 'view of outside':
                return c.view(-1).add_(a)
            c[0] = a[0]
            return a
        try:
            lib.func.vmap(f)(lib.arange(6.).reshape(3, 2))
        except RuntimeError:
            return 'refused', c
        return 'ran', c
    both(run)


def test_vmap_refuses_batch_norm_updating_outside_running_stats():
    def run(lib):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(4)
        x = lib.arange(24.).reshape(3, 2, 4).sin()
        try:
            lib.func.vmap(bn)(x)
        except RuntimeError:
            return 'refused', bn.running_mean, bn.running_var
        return 'ran', bn.running_mean, bn.running_var
    both(run)


def test_vmap_batch_norm_without_running_stats_and_in_eval_mode_runs():
    def run(lib):
        x = lib.arange(24.).reshape(3, 2, 4).sin()
        bn = lib.nn.BatchNorm1d(4)
        bn.eval()
        free = lib.func.replace_all_batch_norm_modules_(lib.nn.Sequential(lib.nn.BatchNorm1d(4)))
        return lib.func.vmap(bn)(x), lib.func.vmap(free)(x)
    both(run, check=functools.partial(assert_same, rtol=1e-5, atol=1e-5))


INPLACE_ACCEPTED = {
    # a write that does not depend on the batch happens once, as PyTorch runs it once
    'unbatched write into an outside tensor': lambda lib, x: (lambda c: (
        lib.func.vmap(lambda a: (c.add_(1), a * 2)[1])(x), c))(lib.zeros(2)),
    'outside write then read': lambda lib, x: (lambda c, w: (
        lib.func.vmap(lambda a: (c.mul_(w * 2), a + c)[1])(x), c))(lib.ones(2), lib.ones(2)),
    'write into the input': lambda lib, x: (lambda y: (lib.func.vmap(lambda a: a.mul_(2))(y), y))(
        x.clone()),
    'write into a view of the input': lambda lib, x: (lambda y: (
        lib.func.vmap(lambda a: a.view(-1).mul_(3))(y), y))(x.clone()),
    'write into in_dims=1 input': lambda lib, x: (lambda y: (
        lib.func.vmap(lambda a: a.add_(1), in_dims=1)(y), y))(x.t().clone()),
    'write into new_zeros of the input': lambda lib, x: lib.func.vmap(
        lambda a: (lambda z: (z.copy_(a), z * 2)[1])(a.new_zeros(2)))(x),
    'write into a clone': lambda lib, x: lib.func.vmap(
        lambda a: (lambda z: (z.mul_(2), z)[1])(a.clone()))(x),
    'write into a detached input': lambda lib, x: lib.func.vmap(
        lambda a: (lambda z: (z.mul_(2), z)[1])(a.detach()))(x.clone()),
    'relu_ on a derived tensor': lambda lib, x: lib.func.vmap(lambda a: (a - 2).relu_())(x),
}


@pytest.mark.parametrize('case', list(INPLACE_ACCEPTED))
def test_vmap_in_place_writes_that_torch_accepts(case):
    both(lambda lib: INPLACE_ACCEPTED[case](lib, lib.arange(6.).reshape(3, 2)))


def test_vmap_spectral_norm_power_iteration_runs_as_once():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 3))
        params = {k: v.detach() for k, v in m.named_parameters()}
        x = lib.arange(6.).reshape(2, 3).cos()
        out = lib.func.vmap(lambda a: lib.func.functional_call(m, params, (a,)))(x)
        return out, m.parametrizations.weight[0]._u
    both(run, check=functools.partial(assert_same, rtol=1e-5, atol=1e-6))


def test_per_sample_gradients_still_run_under_the_write_checks():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        params = {k: v.detach() for k, v in m.named_parameters()}
        with lib.no_grad():
            for k, p in params.items():
                p.copy_(lib.arange(p.numel(), dtype=p.dtype).reshape(p.shape).sin())

        def loss(p, xi):
            return lib.func.functional_call(m, p, (xi,)).pow(2).sum()
        return list(lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0))(
            params, lib.arange(12.).reshape(4, 3).cos()).items())
    both(run, check=functools.partial(assert_same, rtol=1e-5, atol=1e-6))


# -- 5. backward() inside a transform ------------------------------------------------------------

BACKWARD_INSIDE = {
    'grad': lambda lib, f, x: lib.func.grad(f)(x),
    'vjp': lambda lib, f, x: lib.func.vjp(f, x),
    'jacrev': lambda lib, f, x: lib.func.jacrev(f)(x),
    'vmap': lambda lib, f, x: lib.func.vmap(f)(x.reshape(1, 3)),
}


def _calls_backward(lib, w):
    def f(a):
        (w * 2).sum().backward()
        return a.sum()
    return f


def test_refuse_backward_raises_torchs_error_inside_a_transformed_function():
    # nbgrad.autograd's backward() is to call refuse_backward(); the message is PyTorch's
    from nbgrad.func._transform_stack import refuse_backward
    with pytest.raises(RuntimeError) as expected:
        w = torch.ones(3, requires_grad=True)
        torch.func.grad(_calls_backward(torch, w))(torch.ones(3))
    refuse_backward()       # outside any transform: nothing to refuse
    for name, transform in BACKWARD_INSIDE.items():
        def f(a):
            refuse_backward()
            return a.sum()
        with pytest.raises(RuntimeError) as got:
            transform(nbgrad, f, nbgrad.ones(3))
        assert str(got.value) == str(expected.value), name
    # the transforms' own gradient computations are not inside the function
    nbgrad.func.grad(lambda a: a.sin().sum())(nbgrad.ones(3))
    refuse_backward()


@pytest.mark.parametrize('transform', list(BACKWARD_INSIDE))
def test_backward_inside_a_transform_raises_as_torch(transform):
    assert_same_error(lambda lib: BACKWARD_INSIDE[transform](
        lib, _calls_backward(lib, lib.ones(3, requires_grad=True)), lib.ones(3)))


# -- 6. misused transforms: PyTorch's exception types and messages ------------------------------

def _v(lib):
    return lib.tensor([0.5, -1.0, 2.0])


MISUSE = {
    'grad has_aux without a pair': lambda lib, F: F.grad(lambda a: a.sum(), has_aux=True)(_v(lib)),
    'grad has_aux with a triple': lambda lib, F: F.grad(
        lambda a: (a.sum(), a, a), has_aux=True)(_v(lib)),
    'grad has_aux with a list pair': lambda lib, F: F.grad(
        lambda a: [a.sum(), a], has_aux=True)(_v(lib)),
    'vjp has_aux without a pair': lambda lib, F: F.vjp(lambda a: a.sum(), _v(lib), has_aux=True),
    'vjp has_aux with a list pair': lambda lib, F: F.vjp(
        lambda a: [a.sum(), a], _v(lib), has_aux=True),
    'jacrev has_aux without a pair': lambda lib, F: F.jacrev(lambda a: a * 2, has_aux=True)(
        _v(lib)),
    'jacfwd has_aux without a pair': lambda lib, F: F.jacfwd(lambda a: a * 2, has_aux=True)(
        _v(lib)),
    'jvp has_aux without a pair': lambda lib, F: F.jvp(
        lambda a: a * 2, (_v(lib),), (_v(lib),), has_aux=True),
    'jacrev returns a float': lambda lib, F: F.jacrev(lambda a: 1.0)(_v(lib)),
    'jacfwd returns a float': lambda lib, F: F.jacfwd(lambda a: 1.0)(_v(lib)),
    'jvp returns a float': lambda lib, F: F.jvp(lambda a: 1.0, (_v(lib),), (_v(lib),)),
    'vjp returns a float': lambda lib, F: F.vjp(lambda a: 1.0, _v(lib)),
    'vjp returns a tuple with a float': lambda lib, F: F.vjp(lambda a: (a, 1.0), _v(lib)),
    'vjp returns None': lambda lib, F: F.vjp(lambda a: None, _v(lib)),
    'vjp returns ()': lambda lib, F: F.vjp(lambda a: (), _v(lib)),
    'jvp returns None': lambda lib, F: F.jvp(lambda a: None, (_v(lib),), (_v(lib),)),
    'jacrev returns None': lambda lib, F: F.jacrev(lambda a: None)(_v(lib)),
    'grad returns None': lambda lib, F: F.grad(lambda a: None)(_v(lib)),
    'grad of a float argument': lambda lib, F: F.grad(lambda a: a)(1.0),
    'grad argnums at a float': lambda lib, F: F.grad(lambda a, b: b.sum())(1.0, _v(lib)),
    'grad of a list holding a float': lambda lib, F: F.grad(lambda s: s[0].sum())(
        [_v(lib), 1.0]),
    'jacrev of an int': lambda lib, F: F.jacrev(lambda a: a * 2)(3),
    'vjp of a float': lambda lib, F: F.vjp(lambda a: a * 2, 1.0),
    'jacfwd of an int tensor': lambda lib, F: F.jacfwd(lambda a: a * 2)(lib.arange(3)),
    'jvp of an int tensor': lambda lib, F: F.jvp(lambda a: a * 2, (lib.arange(3),),
                                                 (lib.arange(3),)),
    'jvp of a float primal': lambda lib, F: F.jvp(lambda a: a * 2, (1.0,), (1.0,)),
    'hessian of an int tensor': lambda lib, F: F.hessian(lambda a: a.sum())(lib.arange(3)),
    'jacrev of an int tensor': lambda lib, F: F.jacrev(lambda a: a * 2)(lib.arange(3)),
    'vjp of an int tensor': lambda lib, F: F.vjp(lambda a: a * 2, lib.arange(3)),
    'grad aux float': lambda lib, F: F.grad(lambda a: (a.sum(), 1.0), has_aux=True)(_v(lib)),
    'grad aux str': lambda lib, F: F.grad(lambda a: (a.sum(), 'x'), has_aux=True)(_v(lib)),
    'grad aux None': lambda lib, F: F.grad(lambda a: (a.sum(), None), has_aux=True)(_v(lib)),
    'grad aux list with an int': lambda lib, F: F.grad(
        lambda a: (a.sum(), [a, 2]), has_aux=True)(_v(lib)),
    'vjp aux float': lambda lib, F: F.vjp(lambda a: (a.sum(), 1.0), _v(lib), has_aux=True),
    'jvp aux float': lambda lib, F: F.jvp(lambda a: (a.sum(), 1.0), (_v(lib),), (_v(lib),),
                                          has_aux=True),
    'jacrev aux float': lambda lib, F: F.jacrev(lambda a: (a * 2, 1.0), has_aux=True)(_v(lib)),
    'jacfwd aux float': lambda lib, F: F.jacfwd(lambda a: (a * 2, 1.0), has_aux=True)(_v(lib)),
    'jacrev of an int output': lambda lib, F: F.jacrev(lambda a: (a * 2).long())(_v(lib)),
    'jacrev of outputs with an int one': lambda lib, F: F.jacrev(
        lambda a: (a * 3, (a * 2).long()))(_v(lib)),
    'vjp of an int output': lambda lib, F: F.vjp(lambda a: (a * 2).long(), _v(lib)),
    'vjp of a bool output': lambda lib, F: F.vjp(lambda a: a > 0, _v(lib)),
}


@pytest.mark.parametrize('case', list(MISUSE))
def test_misused_transform_raises_as_torch(case):
    assert_same_error(lambda lib: MISUSE[case](lib, lib.func))


INT_OUTPUTS = {
    # forward mode gives an integer output a zero derivative of its dtype
    'jacfwd of an int output': lambda lib, F: F.jacfwd(lambda a: (a * 2).long())(_v(lib)),
    'jacfwd of an int scalar': lambda lib, F: F.jacfwd(lambda a: (a * 2).long().sum())(_v(lib)),
    'jacfwd of mixed outputs': lambda lib, F: F.jacfwd(lambda a: ((a * 2).long(), a * 3))(
        _v(lib)),
    'jvp of an int output': lambda lib, F: F.jvp(lambda a: (a * 2).long(), (_v(lib),),
                                                 (_v(lib),)),
    'grad aux dict': lambda lib, F: F.grad(lambda a: (a.sum(), {'k': a * 2}), has_aux=True)(
        _v(lib))[1]['k'],
    'vjp aux int tensor': lambda lib, F: F.vjp(
        lambda a: (a.sum(), (a * 3).long()), _v(lib), has_aux=True)[2],
}


@pytest.mark.parametrize('case', list(INT_OUTPUTS))
def test_transform_outputs_as_torch(case):
    both(lambda lib: INT_OUTPUTS[case](lib, lib.func))
