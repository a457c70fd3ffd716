"""linalg.eig / eigvals: eigenvalues against PyTorch's (as sets: LAPACK builds may order them
differently), eigenvectors by definition (A v = v diag(w), unit norm: they are only defined up to
a phase), dtypes, batches, out=, devices, PyTorch's errors, and gradients against PyTorch's
(more in test_complex_autograd_linalg.py)."""
import numpy as np
import pytest
import torch

import nbgrad


def _matrices(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape)
    if dtype.startswith('complex'):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _sorted(values):
    values = np.asarray(values)
    order = np.lexsort((np.round(values.imag, 4), np.round(values.real, 4)), axis=-1)
    return np.take_along_axis(values, order, axis=-1)


@pytest.mark.parametrize('shape', [(3, 3), (1, 1), (2, 4, 4), (0, 2, 2)])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'complex128'])
def test_eigenpairs(shape, dtype, device):
    a = _matrices(shape, dtype)
    values, vectors = nbgrad.linalg.eig(nbgrad.tensor(a, device=device))
    expected = torch.linalg.eig(torch.tensor(a))
    assert values.device.type == device and str(values.dtype).split('.')[1] == \
        str(expected.eigenvalues.dtype).split('.')[1]
    tol = 1e-4 if dtype == 'float32' else 1e-10
    w, v = values.cpu().numpy(), vectors.cpu().numpy()
    np.testing.assert_allclose(_sorted(w), _sorted(expected.eigenvalues.numpy()), rtol=tol,
                               atol=tol)
    np.testing.assert_allclose(a @ v, v * w[..., None, :], rtol=tol, atol=tol)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1.0, rtol=tol)
    only = nbgrad.linalg.eigvals(nbgrad.tensor(a, device=device)).cpu().numpy()
    np.testing.assert_array_equal(only, w)


def test_named_result_and_out():
    a = nbgrad.tensor(_matrices((3, 3), 'float64'))
    result = nbgrad.linalg.eig(a)
    theirs = torch.linalg.eig(torch.ones(1, 1))
    assert type(result).__name__ == type(theirs).__name__ == 'linalg_eig'
    assert result.eigenvalues is result[0] and result.eigenvectors is result[1]
    values = nbgrad.empty(0, dtype=nbgrad.complex128)
    vectors = nbgrad.empty(0, dtype=nbgrad.complex128)
    returned = nbgrad.linalg.eig(a, out=(values, vectors))
    assert returned[0] is values and returned[1] is vectors
    np.testing.assert_array_equal(values.numpy(), result.eigenvalues.numpy())


@pytest.mark.parametrize('name', ['eig', 'eigvals'])
def test_errors(name):
    for make in (lambda lib: lib.ones(2, 3), lambda lib: lib.ones(3)):
        with pytest.raises(RuntimeError) as expected:
            getattr(torch.linalg, name)(make(torch))
        with pytest.raises(RuntimeError) as got:
            getattr(nbgrad.linalg, name)(make(nbgrad))
        assert str(got.value) == str(expected.value)
    with pytest.raises(RuntimeError, match='floating point or complex'):
        getattr(nbgrad.linalg, name)(nbgrad.ones(2, 2, dtype=nbgrad.int64))


@pytest.mark.parametrize('name', ['eig', 'eigvals'])
@pytest.mark.parametrize('dtype', ['float64', 'complex128'])
def test_gradient_of_a_real_input_matches_torch(name, dtype):
    """Real (and complex) inputs get PyTorch's gradient (the real part of the complex one for a
    real input) through a loss that does not depend on the eigenvectors' phases."""
    a = _matrices((2, 3, 3), dtype)

    def loss(lib, t):
        result = getattr(lib.linalg, name)(t)
        if name == 'eigvals':
            return (result * (1 + 2j)).real.sum()
        return result[0].abs().sum() + result[1].abs().pow(3).sum()
    grads = []
    for lib in (torch, nbgrad):
        t = lib.tensor(a, requires_grad=True)
        loss(lib, t).backward()
        grads.append(t.grad.resolve_conj().numpy() if lib is torch else t.grad.numpy())
    assert grads[1].dtype == grads[0].dtype
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-9)
