"""Cases from PyTorch's own docstring examples where nbgrad differed (a sweep ran every
`>>>` example of torch's public namespaces under both libraries), each compared with PyTorch."""
import pytest

from torch_compare import both

torch = pytest.importorskip('torch')

MASK = [[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]]


def _masked_scatter_grads(lib):
    a = lib.zeros(5, requires_grad=True)
    source = lib.arange(10.0, requires_grad=True)
    out = a.masked_scatter(lib.tensor(MASK).bool(), source.view(2, 5))
    (out * lib.arange(10.0).view(2, 5)).sum().backward()
    return out, a.grad, source.grad


def _post_accumulate_hook_returning_the_parameter(lib):
    v = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def sgd_step(p):
        with lib.no_grad():
            return p.add_(p.grad, alpha=-0.01)
    v.register_post_accumulate_grad_hook(sgd_step)
    (v * 2).sum().backward()
    return v


def _hook_returning_another_tensor(lib):
    v = lib.tensor([1.0, 2.0], requires_grad=True)
    v.register_post_accumulate_grad_hook(lambda p: p.detach())
    (v * 2).sum().backward()


def _inference_version(lib):
    with lib.inference_mode():
        t = lib.ones(2)
    return t._version


def _numpy_under_no_grad(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        return x.numpy().tolist()


def _asarray(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    kept, detached = lib.asarray(a + 2), lib.asarray(a + 2, requires_grad=False)
    same = lib.asarray(a, requires_grad=True)
    return (kept.requires_grad, kept.grad_fn is not None, detached.requires_grad,
            detached.grad_fn, same is a)


def _vmap_over_grad_of_an_outer_graph(lib):
    """torch.vmap's docstring: a Jacobian by vmapping autograd.grad over a graph made outside;
    the graph is freed after it, as after PyTorch's one batched backward."""
    lib.manual_seed(0)
    x = lib.randn(5, requires_grad=True)
    y = x ** 2
    (jacobian,) = lib.vmap(lambda v: lib.autograd.grad(y, x, v))(lib.eye(5))
    try:
        lib.autograd.grad(y, x, lib.ones(5))
        freed = False
    except RuntimeError:
        freed = True
    return jacobian, freed


CASES = {
    'vmap_over_grad_of_an_outer_graph': _vmap_over_grad_of_an_outer_graph,
    'masked_scatter_broadcasts_self': lambda lib: lib.tensor([0, 0, 0, 0, 0]).masked_scatter(
        lib.tensor(MASK).bool(), lib.arange(10).view(2, 5)),
    'masked_scatter_function': lambda lib: lib.masked_scatter(
        lib.zeros(1, 5), lib.tensor(MASK).bool(), lib.arange(10.0).view(2, 5)),
    'masked_scatter_gradients': _masked_scatter_grads,
    'masked_scatter_in_place_mask_too_big': lambda lib: lib.zeros(5).masked_scatter_(
        lib.ones(2, 5).bool(), lib.arange(10.0)),
    'masked_scatter_shapes_mismatch': lambda lib: lib.zeros(3).masked_scatter(
        lib.ones(2).bool(), lib.arange(10.0)),
    'post_accumulate_hook_returns_param': _post_accumulate_hook_returning_the_parameter,
    'post_accumulate_hook_returns_other': _hook_returning_another_tensor,
    'numpy_under_no_grad': _numpy_under_no_grad,
    'allclose_shapes': lambda lib: lib.allclose(lib.zeros(3, 4, 4), lib.eye(5)),
    'isclose_shapes': lambda lib: lib.isclose(lib.zeros(3, 4, 4), lib.eye(5)),
    'inference_version': _inference_version,
    'typename': lambda lib: [lib.typename(x).replace('nbgrad', 'torch') for x in (
        lib.nn.Parameter, lib.nn.Linear, len, 3, lib.nn.Linear(1, 1), lib.ones(1))],
    'asarray_requires_grad': _asarray,
    'is_tensor_like': lambda lib: (lib.autograd.is_tensor_like(lib.ones(1)),
                                   lib.autograd.is_tensor_like(3)),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_same_as_pytorch(name):
    both(CASES[name], quiet=True)
