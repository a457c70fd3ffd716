"""linalg.eig / eigvals: eigenvalues against PyTorch's (as sets: LAPACK builds may order them
differently), eigenvectors by definition (A v = v diag(w), unit norm: they are only defined up to
a phase), dtypes, batches, out=, devices, PyTorch's errors, and the refusal to record a graph
(nbgrad has no complex autograd)."""
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
    with pytest.raises(RuntimeError, match='complex'):     # no complex autograd in nbgrad
        getattr(nbgrad.linalg, name)(nbgrad.ones(2, 2, requires_grad=True))
    with nbgrad.no_grad():
        getattr(nbgrad.linalg, name)(nbgrad.ones(2, 2, requires_grad=True))
