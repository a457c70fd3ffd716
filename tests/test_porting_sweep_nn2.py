"""Differences the second nn-modules porting sweep found, each fixed and checked here against
PyTorch itself."""
import pytest

from torch_compare import assert_same, both

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('make,shape', [
    (lambda nn: nn.BatchNorm2d(3), (4, 3, 5, 5)), (lambda nn: nn.BatchNorm1d(6), (8, 6)),
    (lambda nn: nn.InstanceNorm2d(3, affine=True), (2, 3, 6, 6)),
], ids=['batch2d', 'batch1d', 'instance2d'])
def test_half_batch_statistics_are_rounded_to_half_as_pytorchs(make, shape):
    """PyTorch normalises float16 inputs with the batch mean and 1/std stored in float16; about
    a fifth of the outputs were an ulp off, and the gradients with them."""
    def run(lib):
        lib.manual_seed(0)
        x = (lib.randn(*shape) * 3 + 1).half().requires_grad_()
        m = make(lib.nn).half()
        with lib.no_grad():
            m.weight.copy_(lib.randn(m.weight.shape))
            m.bias.copy_(lib.randn(m.bias.shape))
        y = m(x)
        y.backward(lib.randn(y.shape).half())
        return y, x.grad, m.weight.grad, m.bias.grad, m.running_mean
    both(run, check=lambda got, want: assert_same(got, want, bitwise=True))
