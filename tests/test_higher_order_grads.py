"""Higher-order gradients as PyTorch's derivative formulas build them (which results keep a
graph, so that one more autograd.grad returns zeros rather than raising; the rounding of each
formula's association), and what backward saves (saved-tensor hooks, grad_fn._saved_*), checked
against PyTorch itself."""
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


def _custom_functions(lib):
    class Sq(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            y = a.exp()
            ctx.save_for_backward(y)     # (an output)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return y * g
    return Sq, Exp


def test_saved_tensors_hooks_see_what_custom_functions_save():
    """pack/unpack run for ctx.save_for_backward too (they were skipped: offloading and
    compression hooks silently did nothing for custom Functions)."""
    def run(lib):
        log = []
        Sq, Exp = _custom_functions(lib)
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: log.append('pack') or t * 1,
                                                    lambda t: log.append('unpack') or t):
            y = Sq.apply(x) + Exp.apply(x)
        packed = list(log)
        y.sum().backward()
        return packed, log, x.grad
    both(run)


def test_saved_result_is_the_output_and_freed_saves_raise():
    def run(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        r = y.grad_fn._saved_result
        shown = (r.detach(), r.requires_grad, type(r.grad_fn).__name__)
        z = x * x
        z.sum().backward()
        try:
            z.grad_fn._saved_self
        except RuntimeError as e:
            return shown, str(e)[:40]
    both(run)


def _pool_cases():
    return {
        'max_pool2d': lambda F, lib, x4, x3, x2: F.max_pool2d(x4, 2),
        'max_pool1d': lambda F, lib, x4, x3, x2: F.max_pool1d(x3, 2),
        'max_pool2d_overlapping': lambda F, lib, x4, x3, x2: F.max_pool2d(x4, 3, 1, 1),
        'avg_pool2d': lambda F, lib, x4, x3, x2: F.avg_pool2d(x4, 2),
        'avg_pool1d': lambda F, lib, x4, x3, x2: F.avg_pool1d(x3, 3, 1, 1),
        'adaptive_avg_pool2d': lambda F, lib, x4, x3, x2: F.adaptive_avg_pool2d(x4, 3),
        'adaptive_max_pool2d': lambda F, lib, x4, x3, x2: F.adaptive_max_pool2d(x4, 3),
        'reflect_pad': lambda F, lib, x4, x3, x2: F.pad(x4, (1, 1, 1, 1), mode='reflect'),
        'replicate_pad': lambda F, lib, x4, x3, x2: F.pad(x3, (1, 2), mode='replicate'),
        'circular_pad': lambda F, lib, x4, x3, x2: F.pad(x3, (1, 2), mode='circular'),
        'constant_pad': lambda F, lib, x4, x3, x2: F.pad(x3, (1, 2)),
        'bilinear': lambda F, lib, x4, x3, x2: F.interpolate(x4, scale_factor=2, mode='bilinear'),
        'nll_loss': lambda F, lib, x4, x3, x2: F.nll_loss(x2, lib.tensor([1, 0])),
        'nll_loss_none': lambda F, lib, x4, x3, x2: F.nll_loss(x2, lib.tensor([1, 0]),
                                                           reduction='none'),
    }


@pytest.mark.parametrize('case', list(_pool_cases()))
def test_gradients_of_pooling_padding_and_nll_stay_functions_of_the_input(case):
    """PyTorch's double-backward formulas of pooling, reflect/replicate padding and nll_loss
    list the input (with a zero gradient): the first gradient requires grad, and a second
    autograd.grad gives zeros. Upsampling, constant and circular padding do not."""
    def run(lib):
        lib.manual_seed(0)
        x4 = lib.randn(1, 2, 4, 4, requires_grad=True)
        x3 = lib.randn(1, 2, 6, requires_grad=True)
        x2 = lib.randn(2, 3, requires_grad=True)
        y = _pool_cases()[case](lib.nn.functional, lib, x4, x3, x2)
        grads = lib.autograd.grad(y.sum(), (x4, x3, x2), create_graph=True, allow_unused=True)
        g = next(g for g in grads if g is not None)
        out = [g.detach(), g.requires_grad, g.grad_fn is not None and g.grad_fn.name()]
        if g.requires_grad:
            out.append(lib.autograd.grad((g * g.detach()).sum(), (x4, x3, x2),
                                         allow_unused=True))
        return out
    both(run)


def test_a_pooled_models_parameters_get_zero_second_order_gradients():
    """A gradient penalty through max pooling: torch gives the conv bias a zero .grad (an
    optimizer then still applies momentum and weight decay), not None."""
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Conv2d(1, 1, 2), lib.nn.MaxPool2d(2))
        x = lib.randn(1, 1, 5, 5, requires_grad=True)
        y = m(x)
        g, = lib.autograd.grad((y * y.detach()).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        return m[0].bias.grad, x.grad
    both(run)
