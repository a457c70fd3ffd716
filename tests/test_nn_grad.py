"""nn.grad (the gradients of a convolution with respect to its input and its weight, as
functions) against PyTorch's, for 1-3 spatial dims with stride, padding, dilation and groups,
sizes that stride leaves ambiguous, double backward, and 'cuda'."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_value, to_np

torch = pytest.importorskip('torch')

# (dims, input shape, weight shape, options)
CASES = {
    '1d': (1, (2, 4, 9), (6, 4, 3), dict(stride=2, padding=1)),
    '2d-groups': (2, (2, 4, 7, 6), (6, 2, 3, 2), dict(groups=2, dilation=(2, 1))),
    '2d-ambiguous': (2, (1, 3, 8, 8), (2, 3, 3, 3), dict(stride=3, padding=1)),
    '3d': (3, (1, 2, 5, 4, 6), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=(1, 0, 1))),
}


def _run(lib, case, device='cpu'):
    d, x_shape, w_shape, options = CASES[case]
    rng = np.random.default_rng(0)
    tensor = lambda shape: lib.tensor(rng.standard_normal(shape), device=device,  # noqa: E731
                                      requires_grad=True)
    x, w = tensor(x_shape), tensor(w_shape)
    y_shape = getattr(lib.nn.functional, f'conv{d}d')(x, w, **options).shape
    g = tensor(tuple(y_shape))
    gx = getattr(lib.nn.grad, f'conv{d}d_input')(x_shape, w, g, **options)
    gw = getattr(lib.nn.grad, f'conv{d}d_weight')(x, w_shape, g, **options)
    (gx.square().sum() + gw.square().sum()).backward()   # through both functions
    return [t.detach().cpu() for t in (gx, gw, x.grad, w.grad, g.grad)]


@pytest.mark.parametrize('case', CASES)
def test_match_torch(case, device):
    assert_same_value(to_np(_run(nbgrad, case, device)), to_np(_run(torch, case)), rtol=1e-10,
                      atol=1e-12)


def test_no_graph_without_grad_mode():
    w, g = nbgrad.randn(2, 3, 3, requires_grad=True), nbgrad.randn(1, 2, 4)
    with nbgrad.no_grad():
        gx = nbgrad.nn.grad.conv1d_input((1, 3, 6), w, g)
    assert not gx.requires_grad and gx.grad_fn is None
