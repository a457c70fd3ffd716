"""Differences the serialization-and-utilities porting sweep found, each fixed and checked here
against PyTorch itself."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, both

torch = pytest.importorskip('torch')


def test_from_dlpack_takes_capsules_once():
    """torch.utils.dlpack.from_dlpack(to_dlpack(t)) round-trips, sharing memory; a capsule is
    consumed, and a second use is PyTorch's RuntimeError. (NumPy imports an unversioned
    capsule read-only, so nbgrad's tensor refuses writes with its read-only error where
    PyTorch's writes through.)"""
    def run(lib):
        x = lib.arange(3.0)
        y = lib.utils.dlpack.from_dlpack(lib.utils.dlpack.to_dlpack(x))
        return x, y, y.data_ptr() == x.data_ptr()
    both(run)
    assert_same_error(lambda lib: [lib.utils.dlpack.from_dlpack(c) for c in
                                   [lib.utils.dlpack.to_dlpack(lib.ones(2))] * 2])


def test_capsules_cross_libraries():
    ours = nbgrad.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(4.0)))
    theirs = torch.utils.dlpack.from_dlpack(nbgrad.utils.dlpack.to_dlpack(nbgrad.arange(2.0)))
    numpy_capsule = nbgrad.utils.dlpack.from_dlpack(np.arange(3.0).__dlpack__())
    assert ours.tolist() == [0, 1, 2, 3] and theirs.tolist() == [0, 1]
    assert numpy_capsule.dtype == nbgrad.float64 and numpy_capsule.tolist() == [0, 1, 2]


def test_version_module_and_cuda_capability_queries():
    """torch.version (cuda None on a build without CUDA), cuda.is_bf16_supported (False:
    nbgrad has no bfloat16 at all), OutOfMemoryError where `except` clauses name it."""
    assert nbgrad.version.cuda is torch.version.cuda is None     # (the CPU oracle's)
    assert nbgrad.version.hip is None and nbgrad.version.__version__ == nbgrad.__version__
    assert nbgrad.cuda.is_bf16_supported() is False
    assert nbgrad.cuda.is_tf32_supported() == (nbgrad.cuda.is_available() and
                                               nbgrad.cuda.get_device_capability()[0] >= 8)
    assert nbgrad.OutOfMemoryError is nbgrad.cuda.OutOfMemoryError
    assert issubclass(nbgrad.OutOfMemoryError, RuntimeError) and \
        issubclass(torch.OutOfMemoryError, RuntimeError)


def test_a_failed_gpu_allocation_is_cudas_out_of_memory_error(device):
    if device == 'cpu':
        pytest.skip('a GPU allocation')
    x = nbgrad.ones(4, device=device)
    with pytest.raises(nbgrad.cuda.OutOfMemoryError, match='out of memory'):
        x.new_ones(1).expand(2 ** 40).contiguous()     # (4 TiB)
