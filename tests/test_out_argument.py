"""The out= argument against PyTorch: the result lands in the given tensor (same object returned,
resized when its shape differs, computed in its dtype for factories), and the misuse errors."""
import warnings

import pytest

import nbgrad
from torch_compare import both

torch = pytest.importorskip('torch')

OUT_CALLS = {
    'zeros': lambda lib, o: lib.zeros(2, 3, out=o),
    'ones': lambda lib, o: lib.ones(3, out=o),
    'full': lambda lib, o: lib.full((3,), 2.5, out=o),
    'arange': lambda lib, o: lib.arange(4, out=o),
    'arange_float': lambda lib, o: lib.arange(0, 1, 0.25, out=o),
    'linspace': lambda lib, o: lib.linspace(0, 1, 5, out=o),
    'logspace': lambda lib, o: lib.logspace(0, 2, 3, out=o),
    'eye': lambda lib, o: lib.eye(2, 3, out=o),
    'rand': lambda lib, o: (lib.manual_seed(0), lib.rand(3, out=o))[1],
    'randn': lambda lib, o: (lib.manual_seed(0), lib.randn(2, 2, out=o))[1],
    'randint': lambda lib, o: (lib.manual_seed(0), lib.randint(0, 9, (4,), out=o))[1],
    'randperm': lambda lib, o: (lib.manual_seed(0), lib.randperm(5, out=o))[1],
    'cat': lambda lib, o: lib.cat([lib.ones(2), lib.zeros(1)], out=o),
    'tensordot': lambda lib, o: lib.tensordot(lib.ones(3, 2), lib.arange(2.), dims=1, out=o),
}


@pytest.mark.parametrize('out_dtype', ['float32', 'float64', 'int64'])
@pytest.mark.parametrize('out_shape', [(3,), (0,), (2, 3)], ids=['n3', 'empty', '2x3'])
@pytest.mark.parametrize('call', OUT_CALLS)
def test_out_receives_the_result(call, out_shape, out_dtype):
    def run(lib):
        out = lib.full(out_shape, -7, dtype=getattr(lib, out_dtype))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # the resize warning (checked below)
            result = OUT_CALLS[call](lib, out)
        return result is out, out, out._version > 0
    both(run)


def test_max_with_out_tuple():
    def run(lib):
        values, indices = lib.empty(0), lib.empty(0, dtype=lib.long)
        result = lib.max(lib.tensor([[1., 5., 2.], [7., 0., 3.]]), 1, out=(values, indices))
        return result.values is values, result.indices is indices, values, indices
    both(run)


def test_resize_of_a_nonempty_out_warns_as_in_pytorch():
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match='was resized'):
            lib.cat([lib.ones(2), lib.ones(2)], out=lib.empty(3))


OUT_ERRORS = {
    'requires_grad_input': lambda lib: lib.cat([lib.ones(2, requires_grad=True)],
                                               out=lib.empty(2)),
    'requires_grad_out': lambda lib: lib.zeros(2, out=lib.empty(2, requires_grad=True)),
    'unsafe_cast': lambda lib: lib.cat([lib.ones(2)], out=lib.empty(2, dtype=lib.long)),
    'factory_dtype_conflict': lambda lib: lib.zeros(2, dtype=lib.float32,
                                                    out=lib.empty(2, dtype=lib.float64)),
    'not_a_tensor': lambda lib: lib.zeros(2, out=[0.0, 0.0]),
}


@pytest.mark.parametrize('case', OUT_ERRORS)
def test_out_errors(case):
    both(lambda lib: OUT_ERRORS[case](lib))


def test_out_under_no_grad_is_allowed():
    def run(lib):
        out = lib.empty(2)
        with lib.no_grad():
            lib.cat([lib.ones(2, requires_grad=True)], out=out)
        return out
    both(run)


def test_out_on_device(device):
    out = nbgrad.empty(3, device=device)
    assert nbgrad.arange(3, out=out) is out and out.tolist() == [0.0, 1.0, 2.0]
    assert out.device.type == device
