"""Higher-order gradients as PyTorch's derivative formulas build them: which results keep a
graph (so that one more autograd.grad returns zeros rather than raising) and the rounding of
each formula's association. Checked against PyTorch itself."""
import pytest

from torch_compare import assert_same, both

torch = pytest.importorskip('torch')


def _grads(lib, make, order):
    """The first `order` derivatives of make(x).sum(), each kept in the graph; for each: its
    value, and whether it requires grad."""
    x = lib.tensor([1.5, -2.0, 0.25], dtype=lib.float64, requires_grad=True)
    y, out = make(lib, x).sum(), []
    for _ in range(order):
        if not y.requires_grad:
            break
        g, = lib.autograd.grad(y, x, create_graph=True)
        out.append((g.detach(), g.requires_grad))
        y = g.sum()
    return out


@pytest.mark.parametrize('make', [
    lambda lib, x: x ** 2, lambda lib, x: x.pow(2), lambda lib, x: lib.square(x),
    lambda lib, x: x ** 3, lambda lib, x: x ** 1, lambda lib, x: x * x,
], ids=['x**2', 'pow2', 'square', 'x**3', 'x**1', 'x*x'])
def test_derivatives_of_powers_keep_pytorchs_graph(make):
    """x**2's second derivative keeps x.pow(1) in its graph in PyTorch, so a third
    autograd.grad gives zeros; nbgrad's constant 2 made the third call raise."""
    both(lambda lib: _grads(lib, make, 4))


@pytest.mark.parametrize('exponent', [2, 3, 4])
def test_pow_gradient_is_rounded_as_pytorchs(exponent):
    """grad * (b * x.pow(b - 1)), in that association: float32 bits as PyTorch's (for the
    exponents whose x.pow(b - 1) both compute as products; others go through Sleef's pow)."""
    def run(lib):
        lib.manual_seed(0)
        x = (lib.rand(4096) * 3 + 0.1).requires_grad_()
        (x ** exponent).backward(lib.randn(4096))
        return x.grad
    both(run, check=lambda got, want: assert_same(got, want, bitwise=True))
