"""The tensor summary repr and PyTorch's repr of CUDA tensors (the fake CuPy in CI, a GPU in
scripts/gpu_check.py): statistics computed on the device equal NumPy's on the host copy."""
import numpy as np
import pytest

import nbgrad

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')]


@pytest.fixture
def summary():
    nbgrad.set_printoptions(profile='summary')
    yield
    nbgrad.set_printoptions(profile='default')


def test_default_repr_names_the_device():
    t = nbgrad.tensor([1.5, -2.0], device='cuda')
    assert repr(t) == "tensor([ 1.5000, -2.0000], device='cuda:0')"


def test_summary_of_a_cuda_tensor(summary):
    values = np.array([[0.5, -3.0, np.nan], [2.0, np.inf, 1.25]], dtype=np.float32)
    text = repr(nbgrad.tensor(values, device='cuda'))
    finite = values[np.isfinite(values)]
    assert text.startswith('tensor[2, 3] float32 cuda:0')
    assert f'min {finite.min():.4g}' in text and f'max {finite.max():.4g}' in text
    assert f'mean {finite.mean():.4g}' in text and f'std {finite.std(ddof=1):.4g}' in text
    assert 'nan=1 inf=1' in text
