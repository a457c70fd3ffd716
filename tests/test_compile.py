"""torch.compile / torch.compiler in nbgrad: nothing is compiled, so the results are the eager
ones; a module comes back as PyTorch's OptimizedModule (its repr, state_dict keys with
'_orig_mod.', attribute pass-through, train/eval, gradients into the original parameters, a
checkpoint of PyTorch's compiled module loading as is); functions and decorators; PyTorch's
argument errors; the torch.compiler helpers."""
import io

import numpy as np
import pytest
import torch

import nbgrad


def _module(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def test_compiled_module_is_pytorchs_wrapper():
    def run(lib):
        model = _module(lib)
        compiled = lib.compile(model, mode='reduce-overhead')
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=lib.float32)
        out = compiled(x)
        out.sum().backward()
        compiled.eval()
        return (type(compiled).__name__, repr(compiled), list(compiled.state_dict()),
                compiled._orig_mod is model, len(compiled), model.training,
                out.detach().numpy(), model[0].weight.grad.numpy())
    got, expected = run(nbgrad), run(torch)
    assert got[:6] == expected[:6]
    for lib in (torch, nbgrad):
        compiled = lib.compile(_module(lib))
        compiled.note = 'kept'                     # written through to the model
        assert compiled._orig_mod.note == 'kept' and compiled.note == 'kept'
        with pytest.raises(TypeError, match='not subscriptable'):
            compiled[0]
    np.testing.assert_allclose(got[6], expected[6], rtol=1e-6)
    np.testing.assert_allclose(got[7], expected[7], rtol=1e-6)


def test_pytorch_compiled_checkpoint_loads():
    buffer = io.BytesIO()
    torch.save(torch.compile(_module(torch)).state_dict(), buffer)
    buffer.seek(0)
    compiled = nbgrad.compile(_module(nbgrad))
    compiled.load_state_dict(nbgrad.load(buffer))
    np.testing.assert_array_equal(compiled._orig_mod[0].weight.detach().numpy(),
                                  _module(torch)[0].weight.detach().numpy())


def test_functions_and_decorators():
    for lib in (torch, nbgrad):
        def double(x):
            return x * 2
        compiled = lib.compile(double, fullgraph=True, dynamic=False)

        @lib.compile
        def plus_one(x):
            return x + 1

        @lib.compile(mode='max-autotune')
        def minus_one(x):
            return x - 1
        x = lib.ones(2)
        assert compiled(x).tolist() == [2.0, 2.0] and compiled.__name__ == 'double'
        assert plus_one(x).tolist() == [2.0, 2.0] and plus_one.__name__ == 'plus_one'
        assert minus_one(x).tolist() == [0.0, 0.0]


@pytest.mark.parametrize('call', [lambda lib: lib.compile(lib.nn.Linear(1, 1), mode='fastest'),
                                  lambda lib: lib.compile(lib.nn.Linear(1, 1), mode='default',
                                                          options={'trace.enabled': True}),
                                  lambda lib: lib.compile(3)],
                         ids=['mode', 'mode and options', 'not callable'])
def test_errors_match_pytorch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(Exception) as got:
        call(nbgrad)
    assert type(got.value) is type(expected.value) and str(got.value) == str(expected.value)


def test_compiler_helpers():
    def f(x):
        return x
    for lib in (torch, nbgrad):
        assert lib.compiler.disable(f) is not None and lib.compiler.disable(f)(3) == 3
        assert lib.compiler.is_compiling() is False and lib.compiler.reset() is None
