"""__torch_function__ dispatch from nbgrad's own functions and Tensor methods, against PyTorch:
subclasses that override it (logging, metadata-carrying, unwrapping), tensor-likes (the
ScalarTensor of PyTorch's "Extending torch" guide) and TorchFunctionMode. The same programs run
under both libraries and what the overrides and modes saw must be the same."""
import copy

import pytest

import nbgrad

torch = pytest.importorskip('torch')
LIBS = (torch, nbgrad)


def _logged_subclass(lib, log):
    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})
    return Logged


def test_a_subclass_override_sees_functions_methods_and_operators():
    results = []
    for lib in LIBS:
        log = []
        x = lib.ones(2, 3).as_subclass(_logged_subclass(lib, log))
        outs = [x + 1, lib.add(x, 2), x.sum(), lib.nn.functional.relu(x), lib.cat([x, x]),
                x @ lib.ones(3, 2), x[0], 2 * x, -x, x / 2, x > 0, lib.fft.fft(x).abs(),
                lib.special.expit(x)]
        results.append(([type(t).__name__ for t in outs], log))
    assert results[0] == results[1]


def test_a_module_and_a_loss_see_the_override():
    results = []
    for lib in LIBS:
        log = []
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.ReLU())
        x = lib.randn(4, 3).as_subclass(_logged_subclass(lib, log))
        loss = lib.nn.functional.mse_loss(model(x), lib.zeros(4, 2))
        results.append((type(loss).__name__, round(loss.item(), 6), log))
    assert results[0] == results[1]


def test_metadata_carrying_subclass():
    """The common pattern: unwrap with DisableTorchFunctionSubclass, compute, wrap with a tag."""
    results = []
    for lib in LIBS:
        class Tagged(lib.Tensor):
            @staticmethod
            def __new__(cls, data, tag):
                t = lib.Tensor._make_subclass(cls, data)
                t.tag = tag
                return t

            def __init__(self, data, tag):
                pass

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                tags = [a.tag for a in args if isinstance(a, Tagged)]
                with lib._C.DisableTorchFunctionSubclass():
                    out = func(*args, **(kwargs or {}))
                if isinstance(out, lib.Tensor) and not isinstance(out, Tagged):
                    out = Tagged(out, tags[0] if tags else None)
                return out

        u = Tagged(lib.ones(2), 'meters') * 3 + 1
        total = u.sum()
        results.append((type(u).__name__, u.tag, u.tolist(), type(total).__name__, total.tag,
                        type(u.detach()).__name__, u.shape == (2,)))
    assert results[0] == results[1]


def test_tensor_like_from_the_extending_guide():
    results = []
    for lib in LIBS:
        handled = {}

        class ScalarTensor:
            def __init__(self, n, value):
                self._n, self._value = n, value

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func not in handled or not all(issubclass(t, (lib.Tensor, ScalarTensor))
                                                  for t in types):
                    return NotImplemented
                return handled[func](*args, **(kwargs or {}))

        handled[lib.mean] = lambda s: float(s._value) / s._n
        handled[lib.nn.functional.relu] = lambda s, **kwargs: 'relu of a ScalarTensor'
        d = ScalarTensor(5, 2)
        with pytest.raises(TypeError):
            lib.add(d, 1)
        results.append((lib.mean(d), lib.nn.functional.relu(d)))
    assert results[0] == results[1]


def _logging_mode(lib):
    class Logging(lib.overrides.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.seen.append(func.__name__)
            return func(*args, **(kwargs or {}))
    return Logging


OPERATIONS = {
    'add': lambda lib, a, b, i: a + b, 'radd': lambda lib, a, b, i: 1 + a,
    'sub': lambda lib, a, b, i: a - b, 'mul': lambda lib, a, b, i: a * b,
    'rmul': lambda lib, a, b, i: 2 * a, 'matmul': lambda lib, a, b, i: a @ b,
    'truediv': lambda lib, a, b, i: a / b, 'floordiv': lambda lib, a, b, i: a // b,
    'mod': lambda lib, a, b, i: a % b, 'pow': lambda lib, a, b, i: a ** 2,
    'rpow': lambda lib, a, b, i: 2 ** a, 'and': lambda lib, a, b, i: i & i,
    'rand': lambda lib, a, b, i: 1 & i, 'neg': lambda lib, a, b, i: -a,
    'pos': lambda lib, a, b, i: +a, 'abs': lambda lib, a, b, i: abs(a),
    'invert': lambda lib, a, b, i: ~i, 'eq': lambda lib, a, b, i: a == b,
    'ne': lambda lib, a, b, i: a != b, 'lt': lambda lib, a, b, i: a < b,
    'getitem': lambda lib, a, b, i: a[0], 'setitem': lambda lib, a, b, i: a.__setitem__(0, 1.),
    'len': lambda lib, a, b, i: len(a), 'bool': lambda lib, a, b, i: bool(a[0, 0]),
    'float': lambda lib, a, b, i: float(a[0, 0]), 'iadd': lambda lib, a, b, i: a.__iadd__(1),
    'imul': lambda lib, a, b, i: a.__imul__(2), 'format': lambda lib, a, b, i: f'{a[0, 0]:.2f}',
    'deepcopy': lambda lib, a, b, i: copy.deepcopy(a), 'repr': lambda lib, a, b, i: repr(a),
    'T': lambda lib, a, b, i: a.T, 'shape': lambda lib, a, b, i: a.shape,
    'grad': lambda lib, a, b, i: a.grad, 'item': lambda lib, a, b, i: a[0, 0].item(),
    'factories': lambda lib, a, b, i: (lib.tensor([1.]), lib.zeros(2), lib.arange(3),
                                       lib.rand(2), lib.full((2,), 1.), lib.eye(2)),
    'not_dispatched': lambda lib, a, b, i: (lib.manual_seed(0), lib.get_default_dtype(),
                                            lib.is_grad_enabled()),
    'functional': lambda lib, a, b, i: lib.nn.functional.softmax(a, 0),
    'linalg': lambda lib, a, b, i: lib.linalg.norm(a),
    'backward': lambda lib, a, b, i: (a.clone().requires_grad_() * 2).sum().backward(),
}


@pytest.mark.parametrize('case', sorted(OPERATIONS))
def test_a_mode_sees_what_torch_s_sees(case):
    seen = []
    for lib in LIBS:
        a, b, i = lib.ones(2, 2), lib.ones(2, 2), lib.ones(2, dtype=lib.int64)
        with _logging_mode(lib)() as mode:
            OPERATIONS[case](lib, a, b, i)
        seen.append(mode.seen)
    assert seen[0] == seen[1]


def test_modes_nest_intercept_and_leave():
    results = []
    for lib in LIBS:
        Logging = _logging_mode(lib)

        class Intercept(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if func is lib.add:
                    return 'intercepted'
                return func(*args, **(kwargs or {}))

        with Intercept():
            intercepted = (lib.add(lib.ones(1), 1), (lib.ones(1) + 1).tolist())
        with Logging() as outer:
            with Logging() as inner:
                lib.neg(lib.ones(1))
                stack = len(lib.overrides._get_current_function_mode_stack())
            lib.exp(lib.ones(1))
        after = (lib.overrides.has_torch_function((lib.ones(1),)),
                 len(lib.overrides._get_current_function_mode_stack()))
        results.append((intercepted, outer.seen, inner.seen, stack, after))
    assert results[0] == results[1]


def test_named_tuples_types_grads_and_autograd_under_overrides():
    """An overriding subclass gets max's named tuple back as one; plain tensors are not among
    `types` for torch.* functions and methods (a strict override accepts a mix); .grad stays a
    plain tensor; a mode sees autograd.grad, not the engine's own ops."""
    results = []
    for lib in LIBS:
        class L(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return super().__torch_function__(func, types, args, kwargs or {})

        class Strict(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if not all(issubclass(t, cls) for t in types):
                    return NotImplemented
                return super().__torch_function__(func, types, args, kwargs or {})

        x = lib.tensor([[1., 3.], [2., 0.]]).as_subclass(L)
        pair = x.max(1)
        s = lib.ones(2, 3).as_subclass(Strict)
        w = lib.ones(2).as_subclass(L).requires_grad_()
        (w * 2).sum().backward()
        seen = []

        class Mode(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                seen.append((func.__name__, tuple(t.__name__ for t in types)))
                return func(*args, **(kwargs or {}))
        a = lib.ones(2, requires_grad=True)
        with Mode():
            b = (a * 2).sum()
            lib.nn.functional.relu(a)
            lib.autograd.grad(b, a)
        results.append((type(pair).__name__, type(pair.values).__name__,
                        type(lib.sort(x)).__name__, type(s + lib.ones(2, 3)).__name__,
                        type(lib.cat([s, lib.ones(1, 3)])).__name__, type(w.grad).__name__,
                        seen))
    assert results[0] == results[1]


def test_a_tensor_like_operand_of_an_operator_is_handed_the_call():
    """In a fresh process (no overriding subclass or mode yet): `tensor + TL()` reaches TL's
    __torch_function__, as in PyTorch; other objects still decline."""
    import subprocess
    import sys
    script = (
        "import sys\n"
        "lib = __import__(sys.argv[1])\n"
        "class TL:\n"
        "    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return ('TL', func.__name__)\n"
        "print(lib.ones(2) + TL(), lib.ones(2) * TL(), lib.ones(2) == object())\n")
    outputs = [subprocess.run([sys.executable, '-c', script, name], capture_output=True,
                              text=True, timeout=120).stdout for name in ('torch', 'nbgrad')]
    assert outputs[0] == outputs[1] and 'add' in outputs[0]


def test_mode_helpers_of_torch_c_and_overrides():
    results = []
    for lib in LIBS:
        seen = [lib._C._is_torch_function_mode_enabled(), lib._C._len_torch_function_stack(),
                lib._C._is_torch_function_enabled()]

        class Base(lib.overrides.BaseTorchFunctionMode):
            pass
        with Base():
            seen += [lib._C._is_torch_function_mode_enabled(),
                     lib._C._len_torch_function_stack(),
                     type(lib.overrides._get_current_function_mode()).__name__]
            with lib._C.DisableTorchFunction():
                seen += [lib._C._is_torch_function_enabled(), lib._C._len_torch_function_stack()]
            seen.append(lib.add(lib.ones(1), 1).tolist())
        seen += [lib._C._has_torch_function((lib.ones(1),)),
                 lib._C._has_torch_function_unary(lib.ones(1))]
        results.append(seen)
    assert results[0] == results[1]


_LAYERS = {   # layers holding their functional as a class attribute
    'Softplus': (lambda nn: nn.Softplus(), (2, 3)),
    'Sigmoid': (lambda nn: nn.Sigmoid(), (2, 3)),      # (torch.sigmoid, not F.sigmoid)
    'Tanh': (lambda nn: nn.Tanh(), (2, 3)),
    'Softmax': (lambda nn: nn.Softmax(dim=1), (2, 3)),
    'LogSoftmax': (lambda nn: nn.LogSoftmax(dim=1), (2, 3)),
    'MaxPool3d': (lambda nn: nn.MaxPool3d(2), (1, 1, 4, 4, 4)),
    'AvgPool3d': (lambda nn: nn.AvgPool3d(2), (1, 1, 4, 4, 4)),
    'AdaptiveAvgPool3d': (lambda nn: nn.AdaptiveAvgPool3d(2), (1, 1, 4, 4, 4)),
    'AdaptiveMaxPool3d': (lambda nn: nn.AdaptiveMaxPool3d(2), (1, 1, 4, 4, 4)),
}


@pytest.mark.parametrize('name', _LAYERS)
def test_layers_hand_their_functional_to_modes(name):
    """A layer's forward reaches a TorchFunctionMode through the same functional call as
    PyTorch's (some layers held a copy of the function from before it was made to dispatch)."""
    seen = []
    for lib in (torch, nbgrad):
        make, shape = _LAYERS[name]
        layer, x = make(lib.nn), lib.ones(*shape)
        with _logging_mode(lib)() as mode:
            layer(x)
        seen.append(mode.seen)
    assert seen[1] == seen[0]


def test_functionals_have_pytorchs_names():
    """F.logsigmoid and F.threshold are log_sigmoid and _threshold to modes and fx, as in
    PyTorch; every other nn.functional function's __name__ is PyTorch's too."""
    F, G = torch.nn.functional, nbgrad.nn.functional
    for name in dir(F):
        theirs, ours = getattr(F, name), getattr(G, name, None)
        if name.startswith('_') or ours is None or not callable(theirs) or \
                isinstance(theirs, type) or not hasattr(theirs, '__name__'):
            continue
        assert ours.__name__ == theirs.__name__, name


def test_functionals_that_are_torch_functions_are_the_same_objects():
    """F.conv2d is torch.conv2d in PyTorch (so fx prints torch.conv2d and a mode sees one
    function): the same holds in nbgrad wherever the two share an implementation."""
    F = torch.nn.functional
    shared = [n for n in dir(F) if not n.startswith('_') and callable(getattr(F, n)) and
              getattr(torch, n, None) is getattr(F, n)]
    same = {n: getattr(nbgrad.nn.functional, n, None) is getattr(nbgrad, n, None)
            for n in shared if hasattr(nbgrad.nn.functional, n) and hasattr(nbgrad, n)}
    assert {n for n, s in same.items() if not s} <= {
        'avg_pool1d', 'cosine_similarity', 'hardshrink', 'pairwise_distance', 'rrelu_'}
    assert same['conv2d'] and same['pixel_shuffle']
