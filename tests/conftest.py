"""Shared test configuration: the devices every device-aware test runs on.

'cpu' always runs; 'cuda' runs when nbgrad.cuda.is_available() (tests marked `cuda`, which
scripts/gpu_check selects on a GPU machine) and is skipped with a reason otherwise.
"""
import os
import shutil
import sys

import pytest

if os.environ.get('NBGRAD_FAKE_CUDA'):
    # a CPU stand-in for CuPy: exercises nbgrad's CUDA code paths without a GPU (fake_cuda/README)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'fake_cuda'))

import nbgrad  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line('markers', 'cuda: runs on a CUDA device (scripts/gpu_check)')
    if nbgrad.cuda.is_available() and (not os.environ.get('NBGRAD_FAKE_CUDA')
                                       or shutil.which('g++')):
        # nbgrad's hand-written CUDA kernels fall back to array formulas, with a warning, when
        # they do not compile; where they can compile (a GPU, or the fake CuPy with g++), that
        # is a bug the tests must see (the tests of the fallback expect the warning)
        config.addinivalue_line('filterwarnings',
                                'error:nbgrad. the CUDA .* did not compile:RuntimeWarning')
        # likewise a convolution cuDNN refuses (the test of the fallback expects the warning)
        config.addinivalue_line('filterwarnings', 'error:cuDNN .* failed:RuntimeWarning')


DEVICES = [pytest.param('cpu', id='cpu'),
           pytest.param('cuda', id='cuda', marks=[
               pytest.mark.cuda,
               pytest.mark.skipif(not nbgrad.cuda.is_available(),
                                  reason='no CUDA device (CuPy + NVIDIA GPU) on this machine')])]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _full_float32_convolutions(request):
    """CUDA tests compare float32 convolutions at float32's accuracy. PyTorch's default (and
    nbgrad's) lets cuDNN use TF32 for them; test_conv_cudnn tests that default on its own."""
    if request.node.get_closest_marker('cuda') is None:
        yield
        return
    saved = nbgrad.backends.cudnn.allow_tf32
    nbgrad.backends.cudnn.allow_tf32 = False
    yield
    nbgrad.backends.cudnn.allow_tf32 = saved


@pytest.fixture(autouse=True)
def _restore_global_modes():
    """Whatever a (failing) test did, the next one starts with grad mode on, anomaly mode off
    and distributions validating their arguments, in nbgrad and (when a test imported it) in
    PyTorch. (torch.compile turns PyTorch's distribution validation off for the process.)"""
    yield
    for lib in (nbgrad, sys.modules.get('torch')):
        if lib is not None:
            lib.set_grad_enabled(True)
            lib.autograd.set_detect_anomaly(False)
            lib.distributions.Distribution.set_default_validate_args(True)
