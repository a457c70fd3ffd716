"""Tensor subclasses through ops, against PyTorch: a subclass that keeps Tensor's default
__torch_function__ comes back from every op as itself (nbgrad gives its results the class
without calling __torch_function__: nbgrad/_tensor_subclass.py), while gradients, Parameter
and Buffer stay plain. The same program runs in both libraries and the result types (and
values) are compared."""

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')


def _names(result):
    if isinstance(result, (tuple, list)):
        return [_names(r) for r in result]
    return type(result).__name__


def _values(result):
    if isinstance(result, (tuple, list)):
        return [_values(r) for r in result]
    return result.detach().tolist() if hasattr(result, 'detach') else result


def _grad_of(lib, M, f):
    y = lib.ones(2).as_subclass(M).requires_grad_()
    f(y).sum().backward()
    return y.grad


# (lib, F, M, x) -> a result; x is a 2x3 M of seeded values
CASES = {
    'add': lambda lib, F, M, x: x + 1,
    'radd': lambda lib, F, M, x: 1 + x,
    'rmul_plain_left': lambda lib, F, M, x: lib.ones(2, 3) * x,
    'function': lambda lib, F, M, x: lib.add(x, 1),
    'sum': lambda lib, F, M, x: x.sum(),
    'mean_dim': lambda lib, F, M, x: x.mean(0),
    'index': lambda lib, F, M, x: x[0],
    'bool_index': lambda lib, F, M, x: x[x > 0],
    'matmul': lambda lib, F, M, x: x @ lib.ones(3, 2),
    'split': lambda lib, F, M, x: x.split(1),
    'unbind': lambda lib, F, M, x: x.unbind(),
    'max_dim': lambda lib, F, M, x: tuple(x.max(0)),
    'sort': lambda lib, F, M, x: tuple(x.sort()),
    'cat': lambda lib, F, M, x: lib.cat([x, x]),
    'stack_with_plain': lambda lib, F, M, x: lib.stack([lib.zeros(2, 3), x]),
    'where': lambda lib, F, M, x: lib.where(x > 0, x, 0.),
    'relu': lambda lib, F, M, x: F.relu(x),
    'softmax': lambda lib, F, M, x: x.softmax(-1),
    'cross_entropy': lambda lib, F, M, x: F.cross_entropy(x, lib.tensor([0, 1])),
    'layer_norm': lambda lib, F, M, x: F.layer_norm(x, (3,)),
    'linear_module': lambda lib, F, M, x: lib.nn.Linear(3, 2)(x),
    'embedding_weight': lambda lib, F, M, x: F.embedding(lib.tensor([0, 1]), x),
    'view': lambda lib, F, M, x: x.view(6),
    'transpose': lambda lib, F, M, x: x.T,
    'clone': lambda lib, F, M, x: x.clone(),
    'detach': lambda lib, F, M, x: x.detach(),
    'data': lambda lib, F, M, x: x.data,
    'to_dtype': lambda lib, F, M, x: x.to(lib.float64),
    'eq': lambda lib, F, M, x: x == x,
    'argmax': lambda lib, F, M, x: x.argmax(),
    'nonzero': lambda lib, F, M, x: x.nonzero(),
    'in_place': lambda lib, F, M, x: x.clone().abs_(),
    'new_zeros': lambda lib, F, M, x: x.new_zeros(2),
    'new_full': lambda lib, F, M, x: x.new_full((2,), 3.),
    'new_tensor': lambda lib, F, M, x: x.new_tensor([1., 2.]),
    'zeros_like': lambda lib, F, M, x: lib.zeros_like(x),
    'full_like': lambda lib, F, M, x: lib.full_like(x, 2.),
    'rand_like_shape': lambda lib, F, M, x: lib.rand_like(x).shape,
    'fft': lambda lib, F, M, x: lib.fft.fft(x).abs(),
    'svd': lambda lib, F, M, x: tuple(lib.linalg.svd(x, full_matrices=False))[1],
    'item': lambda lib, F, M, x: x[0, 0].item(),
    'no_grad': lambda lib, F, M, x: (lambda: [lib.set_grad_enabled(False), x * 2,
                                              lib.set_grad_enabled(True)][1])(),
    'autograd_grad': lambda lib, F, M, x: lib.autograd.grad(
        (x.clone().requires_grad_() ** 2).sum(), [y := x.clone().requires_grad_()],
        allow_unused=True, materialize_grads=True) + lib.autograd.grad((y * y).sum(), y),
    # gradients and hooks see plain tensors, as PyTorch's engine makes them
    'grad_attribute': lambda lib, F, M, x: _grad_of(lib, M, lambda y: y * y),
    'grad_through_module': lambda lib, F, M, x: (
        lambda m: [m(x).sum().backward(), m.weight.grad][1])(lib.nn.Linear(3, 1)),
    # Parameter and Buffer (and subclasses of Parameter) opt out: plain results
    'parameter': lambda lib, F, M, x: lib.nn.Parameter(lib.ones(2)) * 2,
    'buffer': lambda lib, F, M, x: lib.nn.Buffer(lib.ones(2)) + 1,
    'parameter_subclass': lambda lib, F, M, x: type('P', (lib.nn.Parameter,), {})(
        lib.ones(2)) * 2,
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_result_types_match_torch(case):
    results = []
    for lib in (torch, nbgrad):
        class M(lib.Tensor):
            pass

        lib.manual_seed(0)
        x = lib.randn(2, 3).as_subclass(M)
        results.append(CASES[case](lib, lib.nn.functional, M, x))
    names = [_names(r) for r in results]
    assert names[0] == names[1]
    if case not in ('linear_module', 'grad_through_module', 'rand_like_shape', 'svd'):
        torch_values, nbgrad_values = (_values(r) for r in results)
        np.testing.assert_allclose(np.asarray(nbgrad_values, dtype=float),
                                   np.asarray(torch_values, dtype=float), rtol=1e-6, atol=1e-6)


def test_most_derived_class_wins_and_unrelated_are_refused():
    for lib in (torch, nbgrad):
        class A(lib.Tensor):
            pass

        class B(lib.Tensor):
            pass

        class C(A):
            pass

        a, b, c = (lib.ones(2).as_subclass(k) for k in (A, B, C))
        assert type(a + c) is C and type(c + a) is C and type(lib.mul(a, c)) is C
        with pytest.raises(TypeError):
            a + b
    with pytest.raises(TypeError, match=r'no implementation found for .*\[A, B\]'):
        nbgrad.add(nbgrad.ones(2).as_subclass(A), nbgrad.ones(2).as_subclass(B))


def test_subclass_with_slots_and_attributes():
    """A subclass with __slots__ (another object layout) still comes back as itself; attributes
    set on an instance do not travel to results, in either library."""
    for lib in (torch, nbgrad):
        class S(lib.Tensor):
            __slots__ = ('tag',)

        class T(lib.Tensor):
            pass

        s = lib.ones(2).as_subclass(S)
        assert type(s * 2) is S and (s * 2).tolist() == [2., 2.]
        t = lib.ones(2).as_subclass(T)
        t.tag = 'mine'
        assert type(t * 2) is T and not hasattr(t * 2, 'tag')


def test_training_a_subclass_input_gives_plain_parameter_grads():
    """A model fed a subclass: its outputs are the subclass, parameters' .grad plain Tensors,
    numbers as PyTorch's."""
    grads = []
    for lib in (torch, nbgrad):
        class Tagged(lib.Tensor):
            pass

        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 1))
        x = lib.randn(5, 3).as_subclass(Tagged)
        out = model(x)
        assert type(out) is Tagged
        out.sum().backward()
        assert all(type(p.grad) is lib.Tensor for p in model.parameters())
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for mine, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_opting_out_gives_plain_results():
    results = []
    for lib in (torch, nbgrad):
        class OptedOut(lib.Tensor):       # the opt-out Parameter uses: plain results
            __torch_function__ = lib._C._disabled_torch_function_impl

        results.append(type(lib.ones(2).as_subclass(OptedOut) + 1).__name__)
    assert results[0] == results[1] == 'Tensor'


class _SubNb(nbgrad.Tensor):        # (module level: pickle finds the classes by name)
    pass


class _SubTh(torch.Tensor):
    pass


def test_construction_as_pytorch_builds_it():
    """The legacy constructor builds in __new__: a subclass's super().__init__() keeps the data,
    super().__new__(cls, data) works, and Tensor._make_subclass makes a leaf of the class over
    the same memory."""
    results = []
    for lib in (torch, nbgrad):
        class CallsInit(lib.Tensor):
            def __init__(self, *args, **kwargs):
                super().__init__()

        class WithTag(lib.Tensor):
            @staticmethod
            def __new__(cls, data, tag=None):
                return super().__new__(cls, data)

            def __init__(self, data, tag=None):
                self.tag = tag

        class Wrapper(lib.Tensor):
            @staticmethod
            def __new__(cls, data):
                return lib.Tensor._make_subclass(cls, data, data.requires_grad)

        source = lib.ones(2, requires_grad=True) * 2
        wrapped = Wrapper(source)
        tagged = WithTag([1., 2.], 'x')
        with lib.no_grad():
            wrapped.add_(1)                 # (the same memory as source)
        results.append([CallsInit([1., 2.]).tolist(), tuple(CallsInit(2, 3).shape),
                        type(tagged).__name__, tagged.tag, tagged.tolist(),
                        type(wrapped).__name__, wrapped.requires_grad, wrapped.is_leaf,
                        source.tolist(), lib.Tensor([1., 2.]).tolist()])
        with pytest.raises(RuntimeError):
            lib.Tensor._make_subclass(Wrapper, lib.arange(3), True)
    assert results[0] == results[1]


def test_pickle_repr_and_new_keep_the_class():
    import pickle
    results = []
    for lib, M in ((torch, _SubTh), (nbgrad, _SubNb)):
        m = lib.arange(6.).reshape(2, 3).as_subclass(M)
        m.note = 'kept'
        back = pickle.loads(pickle.dumps(m))
        param = pickle.loads(pickle.dumps(lib.nn.Parameter(lib.ones(2))))
        results.append([type(back).__name__, back.note, back.tolist(), repr(m),
                        repr(lib.ones(2, dtype=lib.float64).as_subclass(M)).replace(
                            lib.__name__, 'LIB'),
                        repr(lib.nn.Parameter(lib.ones(2))), type(param).__name__,
                        type(m.new(2)).__name__, type(m.new([1.])).__name__])
        results[-1] = [str(r).replace(M.__name__, 'M') for r in results[-1]]
    assert results[0] == results[1]


def test_sparse_addmm_with_beta_zero_ignores_input():
    results = []
    for lib in (torch, nbgrad):
        s = lib.sparse_coo_tensor([[0, 1], [1, 0]], [2., 3.], (2, 2))
        mat = lib.full((2, 1), float('nan'), requires_grad=True)
        out = lib.sparse.addmm(mat, s, lib.ones(2, 1), beta=0)
        out.sum().backward()
        results.append((out.tolist(), mat.grad.tolist(),
                        lib.sparse.addmm(lib.ones(1), s, lib.ones(2, 3), beta=0).tolist()))
    assert results[0] == results[1]


def test_a_parameter_made_of_a_subclass_keeps_its_class():
    """nn.Parameter(my_tensor) is a detached alias of the user's class that counts as a
    Parameter (PyTorch's _ParameterMeta); a module trains and converts it as a parameter."""
    results = []
    for lib in (torch, nbgrad):
        class M(lib.Tensor):
            pass

        m = lib.ones(2).as_subclass(M)
        q = lib.nn.Parameter(m)
        frozen = lib.nn.Parameter(m, requires_grad=False)
        layer = lib.nn.Linear(2, 2)
        layer.weight = lib.nn.Parameter(lib.ones(2, 2).as_subclass(M))
        layer.double()
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        layer(lib.ones(2, dtype=lib.float64)).sum().backward()
        optimizer.step()
        results.append([type(q).__name__, isinstance(q, lib.nn.Parameter), isinstance(q, M),
                        q.requires_grad, q.is_leaf, repr(q), type(q * 2).__name__,
                        type(q.data).__name__, frozen.requires_grad, frozen is m,
                        [type(p).__name__ for p in layer.parameters()],
                        isinstance(layer.weight, lib.nn.Parameter), layer.weight.tolist(),
                        isinstance(lib.ones(1), lib.nn.Parameter), isinstance(m, lib.nn.Parameter),
                        type(layer.state_dict()['weight']).__name__])
    assert results[0] == results[1]
