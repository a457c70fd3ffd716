"""nn.utils.parametrize and nn.utils.parametrizations against PyTorch: the same seeds give the
same parametrized weights, gradients w.r.t. the originals, state_dicts (keys and values) and SGD
steps; right_inverse on assignment, chains, several originals, cached(), removal both ways,
transfer; weight_norm, spectral_norm (power-iteration buffers in training and eval) and
orthogonal (all three maps); errors of PyTorch's kinds; float64 gradchecks."""
import copy
import functools
import io
import pickle
import types
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import arr, exc_kind, same

torch = pytest.importorskip('torch')


@functools.cache
def P(lib):
    """Parametrizations written once per library (they must subclass lib.nn.Module)."""
    Module = lib.nn.Module

    class Symmetric(Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    class Double(Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, X):
            return X / 2

    class Shift(Module):  # a parametrization with a buffer, which lands in the state_dict
        def __init__(self):
            super().__init__()
            self.register_buffer('offset', lib.full((), 0.5))

        def forward(self, X):
            return X + self.offset

        def right_inverse(self, X):
            return X - self.offset

    class SplitSum(Module):  # two originals: original0 and original1
        def forward(self, A, B):
            return A + 3 * B

        def right_inverse(self, X):
            return X * 0.25, X * 0.25

    class Counted(Module):
        calls = 0

        def forward(self, X):
            Counted.calls += 1
            return X * 1.5

    class ToDouble(Module):
        def forward(self, X):
            return X.double()

    class FirstRow(Module):
        def forward(self, X):
            return X[:1]

    class HalfFirstRow(Module):  # a right_inverse that changes the values, a bad forward
        def forward(self, X):
            return X[:1]

        def right_inverse(self, X):
            return X / 2

    class BadInverse(Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return 'not a tensor'

    return types.SimpleNamespace(**{c.__name__: c for c in (
        Symmetric, Double, Shift, SplitSum, Counted, ToDouble, FirstRow, HalfFirstRow,
        BadInverse)})


def utils(lib):
    return lib.nn.utils


def parametrized_linear(lib, *names, features=(4, 4), bias_too=False):
    """A seeded Linear with the named parametrizations (in order) on its weight."""
    lib.manual_seed(0)
    m = lib.nn.Linear(*features)
    for name in names:
        utils(lib).parametrize.register_parametrization(m, 'weight', getattr(P(lib), name)())
    if bias_too:
        utils(lib).parametrize.register_parametrization(m, 'bias', P(lib).Double())
    return m


def sgd_steps(lib, m, x, steps=3, lr=0.1):
    opt = lib.optim.SGD(m.parameters(), lr=lr, momentum=0.5)
    for _ in range(steps):
        opt.zero_grad()
        m(x).square().sum().backward()
        opt.step()


def state(m):
    """A state_dict as (key, value) pairs, so that the keys' order is compared too."""
    return list(m.state_dict().items())


# ---------------------------------------------------------------------------------------------
# parametrize: registration, values, gradients, state_dict
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('names', [('Symmetric',), ('Double',), ('Symmetric', 'Double', 'Shift')],
                         ids='-'.join)
def test_forward_gradients_and_state_dict(names):
    def case(lib):
        m = parametrized_linear(lib, *names, bias_too=True)
        x = lib.tensor(arr(3, 4, seed=1), dtype=lib.float32)
        out = m(x)
        (out * lib.tensor(arr(3, 4, seed=2), dtype=lib.float32)).sum().backward()
        chain = m.parametrizations.weight
        util = utils(lib).parametrize
        return [out, m.weight, m.bias, chain.original.grad, m.parametrizations.bias.original.grad,
                state(m), repr(m), type(m).__name__,
                util.type_before_parametrizations(m).__name__, isinstance(m, lib.nn.Linear),
                util.is_parametrized(m), util.is_parametrized(m, 'weight'),
                util.is_parametrized(m, 'other'), [n for n, _ in m.named_parameters()],
                len(chain), m.weight.grad_fn is not None]
    same(case, rtol=1e-6, atol=1e-7)


def test_parametrized_buffer():
    def case(lib):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(3)
        utils(lib).parametrize.register_parametrization(bn, 'running_var', P(lib).Double())
        out = bn(lib.tensor(arr(4, 3, seed=1), dtype=lib.float32))
        return [out, bn.running_var, state(bn), [n for n, _ in bn.named_buffers()],
                bn.parametrizations.running_var.original.requires_grad]
    same(case)


def test_assignment_goes_through_right_inverse_and_keeps_the_tensor():
    def case(lib):
        m = parametrized_linear(lib, 'Double', 'Shift')
        original = m.parametrizations.weight.original
        m.weight = lib.tensor(arr(4, 4, seed=3), dtype=lib.float32)
        # the original is the same object, so an optimizer built before still updates it
        return [m.weight, original, m.parametrizations.weight.original is original]
    same(case)


def test_several_originals():
    def case(lib):
        m = parametrized_linear(lib, 'SplitSum', 'Double')
        chain = m.parametrizations.weight
        x = lib.tensor(arr(2, 4, seed=1), dtype=lib.float32)
        m(x).sum().backward()
        grads = [chain.original0.grad, chain.original1.grad]
        m.weight = lib.tensor(arr(4, 4, seed=3), dtype=lib.float32)
        return [grads, state(m), type(chain.original0).__name__, chain.original1.requires_grad,
                chain.is_tensor, chain.ntensors, m.weight]
    same(case)


def test_training_steps_linear_and_conv():
    def case(lib):
        lin = parametrized_linear(lib, 'Symmetric', 'Double', bias_too=True)
        sgd_steps(lib, lin, lib.tensor(arr(3, 4, seed=1), dtype=lib.float32))
        lib.manual_seed(1)
        conv = lib.nn.Conv2d(2, 3, 3)
        utils(lib).parametrize.register_parametrization(conv, 'weight', P(lib).Shift())
        sgd_steps(lib, conv, lib.tensor(arr(2, 2, 5, 5, seed=2), dtype=lib.float32))
        return [state(lin), state(conv)]
    same(case, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('leave_parametrized', [True, False])
def test_remove_parametrizations(leave_parametrized):
    def case(lib):
        m = parametrized_linear(lib, 'Symmetric', 'Double', bias_too=True)
        original = m.parametrizations.weight.original
        util = utils(lib).parametrize
        util.remove_parametrizations(m, 'weight', leave_parametrized=leave_parametrized)
        partly = [type(m).__name__, state(m), m.weight is original, util.is_parametrized(m)]
        util.remove_parametrizations(m, 'bias', leave_parametrized=leave_parametrized)
        return partly + [type(m).__name__, state(m), hasattr(m, 'parametrizations'),
                         type(m.weight).__name__, m.weight.requires_grad]
    same(case)


def test_remove_several_originals_leaves_the_value():
    def case(lib):
        m = parametrized_linear(lib, 'SplitSum')
        utils(lib).parametrize.remove_parametrizations(m, 'weight')
        return [state(m), type(m.weight).__name__, m.weight.requires_grad, m.weight.is_leaf]
    same(case)


def test_cached_computes_each_weight_once():
    def case(lib):
        m = parametrized_linear(lib, 'Counted')
        counted = P(lib).Counted
        counted.calls = 0
        first = [m.weight, m.weight]
        outside = counted.calls
        with utils(lib).parametrize.cached():
            cached = [m.weight, m.weight, m.weight]
            same_object = cached[0] is cached[2]
            with utils(lib).parametrize.cached():  # nested: still the same cache
                inner = m.weight is cached[0]
        after = m.weight is cached[0]
        return [first, cached, outside, counted.calls, same_object, inner, after]
    same(case)


def test_train_and_eval_reach_the_parametrizations():
    def case(lib):
        m = parametrized_linear(lib, 'Double')
        m.eval()
        evaluated = m.parametrizations.weight[0].training
        new = P(lib).Shift()
        utils(lib).parametrize.register_parametrization(m, 'weight', new)
        return [evaluated, new.training]
    same(case)


def test_transfer_parametrizations_and_params():
    def case(lib):
        source = parametrized_linear(lib, 'Symmetric', 'Double', bias_too=True)
        lib.manual_seed(5)
        target = lib.nn.Linear(4, 4)
        utils(lib).parametrize.transfer_parametrizations_and_params(source, target, 'weight')
        first = [type(target).__name__, state(target), target.weight]
        other = lib.nn.Linear(4, 4)
        utils(lib).parametrize.transfer_parametrizations_and_params(source, other)
        several = parametrized_linear(lib, 'SplitSum')
        bare = lib.nn.Module()
        utils(lib).parametrize.transfer_parametrizations_and_params(several, bare)
        return first + [state(other), state(bare), bare.weight]
    same(case)


def test_deepcopy_works_and_pickling_is_refused():
    def case(lib):
        m = parametrized_linear(lib, 'Double')
        twin = copy.deepcopy(m)
        with lib.no_grad():
            twin.parametrizations.weight.original.add_(1)
        with pytest.raises(RuntimeError):
            pickle.dumps(m)
        return [type(twin).__name__, twin.weight, m.weight]
    same(case)


def test_torch_state_dict_loads_and_back():
    def build(lib):
        m = parametrized_linear(lib, 'Symmetric', 'Shift')
        return utils(lib).parametrizations.weight_norm(m, 'bias')
    trained = build(torch)
    sgd_steps(torch, trained, torch.tensor(arr(3, 4, seed=1), dtype=torch.float32))
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    buffer.seek(0)
    ours = build(nbgrad)
    ours.load_state_dict(nbgrad.load(buffer))
    x = arr(2, 4, seed=4).astype(np.float32)
    expected = trained(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(nbgrad.tensor(x)).detach().numpy(), expected, rtol=1e-6,
                               atol=1e-7)
    back = io.BytesIO()
    nbgrad.save(ours.state_dict(), back)
    back.seek(0)
    fresh = build(torch)
    fresh.load_state_dict(torch.load(back))
    np.testing.assert_allclose(fresh(torch.tensor(x)).detach().numpy(), expected, rtol=1e-6,
                               atol=1e-7)


# ---------------------------------------------------------------------------------------------
# parametrize: errors of PyTorch's kinds
# ---------------------------------------------------------------------------------------------
def _register(name, tensor='weight', unsafe=False, before=()):
    def action(lib):
        m = parametrized_linear(lib, *before)
        utils(lib).parametrize.register_parametrization(m, tensor, getattr(P(lib), name)(),
                                                        unsafe=unsafe)
        return state(m)
    return action


def _assign_parameter(lib):
    m = parametrized_linear(lib, 'Double')
    m.weight = lib.nn.Parameter(lib.zeros(4, 4))


def _assign_without_right_inverse(lib):
    m = parametrized_linear(lib, 'Symmetric')
    m.weight = lib.zeros(4, 4)


def _remove(leave_parametrized, *names):
    def action(lib):
        utils(lib).parametrize.remove_parametrizations(parametrized_linear(lib, *names),
                                                       'weight', leave_parametrized)
    return action


ERRORS = {
    'changes_dtype': _register('ToDouble'),
    'changes_shape': _register('FirstRow'),
    'chained_changes_dtype': _register('ToDouble', before=('Double',)),
    'chained_changes_shape': _register('FirstRow', before=('Double',)),
    'right_inverse_not_a_tensor': _register('BadInverse'),
    'no_such_tensor': _register('Double', tensor='nothing'),
    'unsafe_dtype_allowed': _register('ToDouble', unsafe=True),
    'assign_a_parameter': _assign_parameter,
    'assign_without_right_inverse': _assign_without_right_inverse,
    'remove_unparametrized': _remove(True),
    'remove_several_unparametrized': _remove(False, 'SplitSum'),
}


@pytest.mark.parametrize('case', list(ERRORS))
def test_errors(case):
    # same() compares the results, or the kinds of exception when PyTorch raises
    def guarded(lib):
        try:
            return ERRORS[case](lib)
        except Exception as e:
            return exc_kind(e)
    same(guarded)


@pytest.mark.parametrize('name', ['FirstRow', 'HalfFirstRow'])
def test_failed_registration_leaves_the_module_unchanged(name):
    """PyTorch refuses both, but keeps HalfFirstRow's right_inverse(weight) in the weight;
    nbgrad puts the weight's values back."""
    for lib in (torch, nbgrad):
        m = parametrized_linear(lib)
        weight, values = m.weight, m.weight.detach().clone().numpy()
        with pytest.raises(ValueError):
            utils(lib).parametrize.register_parametrization(m, 'weight', getattr(P(lib), name)())
        assert type(m) is lib.nn.Linear and list(m.state_dict()) == ['weight', 'bias']
        assert m.weight is weight
        if lib is nbgrad or name == 'FirstRow':
            np.testing.assert_array_equal(m.weight.detach().numpy(), values)


# ---------------------------------------------------------------------------------------------
# parametrizations.weight_norm
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('layer,dim', [('linear', 0), ('linear', 1), ('linear', None),
                                       ('conv', 0), ('conv', 2), ('conv', -2)])
def test_weight_norm(layer, dim):
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 3) if layer == 'linear' else lib.nn.Conv2d(2, 3, 3)
        utils(lib).parametrizations.weight_norm(m, dim=dim)
        x = lib.tensor(arr(*((2, 4) if layer == 'linear' else (2, 2, 5, 5)), seed=1),
                       dtype=lib.float32)
        chain = m.parametrizations.weight
        out = m(x)
        out.square().sum().backward()
        first = [out, m.weight, chain.original0, chain.original0.grad, chain.original1.grad,
                 repr(m)]
        sgd_steps(lib, m, x)
        return first + [state(m)]
    same(case, rtol=2e-5, atol=1e-6)


def test_weight_norm_loads_the_old_hooks_state_dict():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        torch.manual_seed(0)
        old = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3))
    sd = {k: nbgrad.tensor(v.detach().numpy()) for k, v in old.state_dict().items()}
    nbgrad.manual_seed(1)
    ours = nbgrad.nn.utils.parametrizations.weight_norm(nbgrad.nn.Linear(4, 3))
    ours.load_state_dict(sd)
    x = arr(2, 4, seed=1).astype(np.float32)
    np.testing.assert_allclose(ours(nbgrad.tensor(x)).detach().numpy(),
                               old(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-7)
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict())


# ---------------------------------------------------------------------------------------------
# parametrizations.spectral_norm
# ---------------------------------------------------------------------------------------------
SPECTRAL_LAYERS = {
    'linear': (lambda nn: nn.Linear(5, 3), (2, 5)),
    'conv': (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    'conv_transpose': (lambda nn: nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
}


@pytest.mark.parametrize('layer', list(SPECTRAL_LAYERS))
@pytest.mark.parametrize('n_power_iterations', [1, 3])
def test_spectral_norm_training_and_eval(layer, n_power_iterations):
    make, shape = SPECTRAL_LAYERS[layer]

    def case(lib):
        lib.manual_seed(0)
        m = utils(lib).parametrizations.spectral_norm(make(lib.nn),
                                                      n_power_iterations=n_power_iterations)
        registered = state(m)  # u and v after the 15 initial iterations (and one more)
        x = lib.tensor(arr(*shape, seed=1), dtype=lib.float32)
        sgd_steps(lib, m, x)
        trained = state(m)
        m.eval()
        evaluated = [m(x), m.weight, state(m)]  # eval: the buffers do not move
        grad = lib.autograd.grad(m(x).sum(), m.parametrizations.weight.original)
        return [registered, trained, evaluated, grad, m.parametrizations.weight[0].dim]
    same(case, rtol=2e-5, atol=1e-6)


def test_spectral_norm_of_a_vector_and_removal():
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 3)
        utils(lib).parametrizations.spectral_norm(m, 'bias')
        utils(lib).parametrizations.spectral_norm(m, 'weight', dim=1, eps=1e-6)
        normalized = [m.bias, m.weight, state(m)]
        utils(lib).parametrize.remove_parametrizations(m, 'weight')  # training: one more step
        m.eval()
        utils(lib).parametrize.remove_parametrizations(m, 'bias')
        return normalized + [state(m), type(m).__name__]
    same(case, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('kwargs', [dict(dim=2), dict(dim=-3), dict(n_power_iterations=0),
                                    dict(name='nothing')], ids=str)
def test_spectral_norm_errors(kwargs):
    def case(lib):
        try:
            utils(lib).parametrizations.spectral_norm(lib.nn.Linear(4, 3), **kwargs)
        except Exception as e:
            return type(e).__name__
    same(case)


# ---------------------------------------------------------------------------------------------
# parametrizations.orthogonal
# ---------------------------------------------------------------------------------------------
MAPS = ['matrix_exp', 'cayley', 'householder']


def _assert_orthogonal(q):
    q = q.astype(np.float64)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)


# without the trivialization, only the Householder map can start from the layer's weight (the
# others are tested in test_orthogonal_without_trivialization_refuses_assignment)
ORTHOGONAL_SETUPS = [(m, True) for m in MAPS] + [('householder', False)]


@pytest.mark.parametrize('orthogonal_map,trivialization', ORTHOGONAL_SETUPS, ids=str)
@pytest.mark.parametrize('features', [(4, 4), (3, 5), (5, 3)], ids=str)
def test_orthogonal(orthogonal_map, features, trivialization):
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(*features)
        utils(lib).parametrizations.orthogonal(m, orthogonal_map=orthogonal_map,
                                               use_trivialization=trivialization)
        first = [m.weight, state(m), repr(m)]
        sgd_steps(lib, m, lib.tensor(arr(3, features[0], seed=1), dtype=lib.float32))
        return first + [m.weight, state(m)]
    ours = same(case, rtol=1e-4, atol=2e-6)
    _assert_orthogonal(ours[0])
    _assert_orthogonal(ours[3])


@pytest.mark.parametrize('orthogonal_map', MAPS)
def test_orthogonal_batch_assignment_and_default_map(orthogonal_map):
    def case(lib):
        lib.manual_seed(0)
        holder = lib.nn.Module()
        holder.register_buffer('kernels', lib.randn(2, 5, 3))
        utils(lib).parametrizations.orthogonal(holder, 'kernels', orthogonal_map)
        initial = holder.kernels
        already = lib.linalg.qr(lib.tensor(arr(2, 5, 3, seed=7), dtype=lib.float32))[0]
        holder.kernels = already  # orthogonal already: kept as it is (new base)
        square = lib.nn.Linear(4, 4)
        utils(lib).parametrizations.orthogonal(square)
        square.weight = lib.tensor(arr(4, 4, seed=8), dtype=lib.float32)  # orthogonalized
        return [initial, holder.kernels, state(holder), square.weight,
                square.parametrizations.weight[0].orthogonal_map.name,
                lib.nn.utils.parametrizations.orthogonal(
                    lib.nn.Linear(3, 5)).parametrizations.weight[0].orthogonal_map.name]
    ours = same(case, rtol=1e-4, atol=2e-6)
    _assert_orthogonal(ours[3])
    np.testing.assert_allclose(ours[1], dict(ours[2])['parametrizations.kernels.0.base'][..., :3],
                               atol=1e-6)


@pytest.mark.parametrize('orthogonal_map', ['matrix_exp', 'cayley'])
def test_orthogonal_without_trivialization_refuses_assignment(orthogonal_map):
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 4)
        try:
            utils(lib).parametrizations.orthogonal(m, orthogonal_map=orthogonal_map,
                                                   use_trivialization=False)
        except NotImplementedError:
            pass  # raised by right_inverse when registering: PyTorch takes it as the identity
        first = [m.weight, state(m)]
        with pytest.raises(NotImplementedError):
            m.weight = lib.eye(4)
        return first
    ours = same(case, rtol=1e-5, atol=1e-6)
    _assert_orthogonal(ours[0])


@pytest.mark.parametrize('args', [('bias',), ('nothing',), ('weight', 'qr')], ids=str)
def test_orthogonal_errors(args):
    def case(lib):
        try:
            utils(lib).parametrizations.orthogonal(lib.nn.Linear(4, 3), *args)
        except Exception as e:
            return type(e).__name__
    same(case)


def test_orthogonal_right_inverse_checks_the_shape():
    def case(lib):
        m = utils(lib).parametrizations.orthogonal(lib.nn.Linear(4, 3))
        try:
            m.weight = lib.zeros(4, 3)
        except ValueError:
            return 'ValueError'
    same(case)


# ---------------------------------------------------------------------------------------------
# float64 gradchecks: the parametrized weight as a function of its original(s)
# ---------------------------------------------------------------------------------------------
def _weight_of(m, *originals):
    chain = m.parametrizations.weight
    names = ['original'] if chain.is_tensor else [f'original{i}' for i in range(chain.ntensors)]
    saved = [getattr(chain, n) for n in names]
    for n, o in zip(names, originals):
        chain._parameters[n] = o
    try:
        return chain()
    finally:
        for n, o in zip(names, saved):
            chain._parameters[n] = o


GRADCHECK_CASES = {
    'matrix_exp': ((3, 5), lambda pz, m: pz.orthogonal(m, orthogonal_map='matrix_exp')),
    'cayley': ((3, 5), lambda pz, m: pz.orthogonal(m, orthogonal_map='cayley')),
    'householder': ((3, 5), lambda pz, m: pz.orthogonal(m, orthogonal_map='householder')),
    'householder_wide': ((3, 2), lambda pz, m: pz.orthogonal(m, orthogonal_map='householder')),
    'weight_norm': ((3, 5), lambda pz, m: pz.weight_norm(m)),
    'spectral_norm_eval': ((3, 5), lambda pz, m: pz.spectral_norm(m).eval()),
}


@pytest.mark.parametrize('which', list(GRADCHECK_CASES))
def test_gradcheck(which):
    features, parametrize = GRADCHECK_CASES[which]
    nbgrad.manual_seed(0)
    m = nbgrad.nn.Linear(*features).double()
    parametrize(nbgrad.nn.utils.parametrizations, m)
    chain = m.parametrizations.weight
    originals = [chain.original] if chain.is_tensor else [chain.original0, chain.original1]
    inputs = tuple(o.detach().clone().requires_grad_() for o in originals)
    # The Householder map reads only the signs of the diagonal (a step function): keep it fixed
    keep = nbgrad.eye(*originals[0].shape, dtype=nbgrad.float64)
    fixed = originals[0].detach() * keep

    def weight(first, *rest):
        return _weight_of(m, first * (1 - keep) + fixed if 'householder' in which else first,
                          *rest)
    assert nbgrad.autograd.gradcheck(weight, inputs)
    assert nbgrad.autograd.gradgradcheck(weight, inputs)


def test_device_forward(device):
    """Parametrizations on the device (registered there, or moved there after) give PyTorch's
    CPU values."""
    def build(lib, to=lambda m: m):
        lib.manual_seed(0)
        pz = utils(lib).parametrizations
        first, second, third = lib.nn.Linear(4, 4), lib.nn.Linear(4, 3), lib.nn.Linear(3, 5)
        pz.orthogonal(first)
        pz.weight_norm(second)
        pz.spectral_norm(second, 'bias')
        pz.orthogonal(to(third), orthogonal_map='householder', use_trivialization=False)
        return lib.nn.Sequential(first, second, third)
    expected = build(torch)
    ours = build(nbgrad, to=lambda m: m.to(device)).to(device)
    x = arr(2, 4, seed=1).astype(np.float32)
    got = ours(nbgrad.tensor(x, device=device))
    assert got.device.type == device
    np.testing.assert_allclose(got.detach().cpu().numpy(),
                               expected(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-6)
