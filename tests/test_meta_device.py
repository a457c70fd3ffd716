"""The 'meta' device against PyTorch's: tensors with a shape and a dtype and no data. Factories
(random ones draw nothing), ops and autograd give results of the right shape and dtype; modules
built on it print and run as PyTorch's, to_empty and load_state_dict(assign=True) bring them to
the CPU; what needs values (item, tolist, numpy, .cpu(), nonzero) is refused as PyTorch
refuses it."""
import copy
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')


def _outcome(fn, lib):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')      # (tensor(tensor) warns; compared elsewhere)
            result = fn(lib)
    except Exception as e:          # noqa: BLE001  (compared with PyTorch's)
        return type(e).__name__
    return _describe(result)


def _describe(value):
    if isinstance(value, (nbgrad.Tensor, torch.Tensor)):
        return ('tensor', str(value.device), str(value.dtype).split('.')[-1], tuple(value.shape),
                value.requires_grad, repr(value).replace('nbgrad.', 'torch.'))
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [_describe(v) for v in value]
    return repr(value).replace('nbgrad', 'torch')


CASES = {
    'empty': lambda lib: lib.empty(2, 3, device='meta'),
    'factories': lambda lib: [lib.zeros(2, device='meta'), lib.ones(2, 2, device='meta'),
                              lib.full((3,), 7, device='meta'), lib.arange(5, device='meta'),
                              lib.linspace(0, 1, 4, device='meta'), lib.eye(3, device='meta'),
                              lib.tensor([1., 2.], device='meta')],
    'random_factories': lambda lib: [lib.randn(2, 3, device='meta'),
                                     lib.rand(4, device='meta', dtype=lib.float64),
                                     lib.randint(0, 5, (3,), device='meta'),
                                     lib.randperm(6, device='meta')],
    'like': lambda lib: [f(lib.empty(2, 3, device='meta')) for f in (
        lib.zeros_like, lib.ones_like, lib.rand_like, lib.empty_like)],
    'properties': lambda lib: (lambda x: [x.is_meta, x.is_cpu, x.is_cuda, x.device.type,
                                          x.stride(), x.numel(), x.element_size(),
                                          x.is_contiguous()])(lib.empty(2, 3, device='meta')),
    'ops': lambda lib: (lambda x: [x + 1, x @ lib.empty(3, 4, device='meta'), x.sum(1),
                                   x.t().reshape(6), x == x, x.softmax(-1), x[0, 1:],
                                   lib.cat([x, x]), x.to(lib.float64), x + lib.tensor(2.)])(
        lib.empty(2, 3, device='meta')),
    'conv_and_layers': lambda lib: [
        lib.nn.functional.conv2d(lib.empty(1, 3, 8, 8, device='meta'),
                                 lib.empty(4, 3, 3, 3, device='meta')),
        lib.nn.functional.max_pool2d(lib.empty(1, 3, 8, 8, device='meta'), 2)],
    'to_and_from': lambda lib: [lib.ones(2).to('meta'), lib.ones(2).to('meta').to(lib.float16)],
    'in_place': lambda lib: lib.empty(3, device='meta').uniform_().add_(1).mul_(
        lib.empty(3, device='meta')),
    'mixed_devices': lambda lib: lib.empty(2, device='meta') + lib.ones(2),
    'item': lambda lib: lib.empty((), device='meta').item(),
    'bool': lambda lib: bool(lib.empty((), device='meta')),
    'tolist': lambda lib: lib.empty(2, device='meta').tolist(),
    'numpy': lambda lib: lib.empty(2, device='meta').numpy(),
    'cpu': lambda lib: lib.empty(2, device='meta').cpu(),
    'copy_out': lambda lib: lib.zeros(2).copy_(lib.empty(2, device='meta')),
    'nonzero': lambda lib: lib.empty(3, device='meta').nonzero(),
    'backward': lambda lib: (lambda y: ((y * 2).sum().backward(), y.grad)[1])(
        lib.empty(3, device='meta', requires_grad=True)),
    # found by a sweep against PyTorch
    'grads_stay_meta': lambda lib: _grads(lib),
    'in_place_in_the_graph': lambda lib: (lambda w: (lambda x: [x.mul_(w), x.relu_(),
                                                                x.grad_fn is not None])(
        lib.empty(3, device='meta') * 1))(lib.empty(3, device='meta', requires_grad=True)),
    'in_place_shape_checks': lambda lib: lib.empty(3, device='meta').add_(
        lib.empty(2, 3, device='meta')),
    'in_place_dtype_checks': lambda lib: lib.empty(3, dtype=lib.long, device='meta').add_(
        lib.empty(3, device='meta')),
    'batch_norm_training': lambda lib: lib.nn.BatchNorm2d(3, device='meta')(
        lib.empty(4, 3, 5, 5, device='meta')),
    'meta_indices': lambda lib: (lambda x, i: [x[i], x[:, i[:2]], lib.take(x, i)])(
        lib.empty(4, 3, device='meta'), lib.empty(4, dtype=lib.long, device='meta')),
    'linalg': lambda lib: (lambda a: [lib.linalg.inv(a), lib.linalg.cholesky(a),
                                      lib.linalg.solve(a, a[..., 0]),
                                      lib.linalg.lu_factor(a)[0]])(
        lib.empty(2, 3, 3, device='meta')),
    'integer_division': lambda lib: (lambda i: [i // i, i % i])(
        lib.empty(3, dtype=lib.long, device='meta')),
    'random_ops': lambda lib: [lib.bernoulli(lib.empty(3, device='meta')),
                               lib.multinomial(lib.empty(2, 4, device='meta'), 2),
                               lib.poisson(lib.empty(3, device='meta'))],
    'isclose_one_hot': lambda lib: [lib.isclose(lib.empty(3, device='meta'),
                                                lib.empty(3, device='meta')),
                                    lib.nn.functional.one_hot(
                                        lib.empty(3, dtype=lib.long, device='meta'), 5)],
    'tensor_of_meta_and_lu': lambda lib: [lib.tensor(lib.empty(3, device='meta')),
                                          *lib.linalg.lu(lib.empty(2, 3, 3, device='meta'))],
    'large_ranges': lambda lib: [lib.arange(10 ** 12, device='meta'),
                                 lib.linspace(0, 1, 10 ** 11, device='meta'),
                                 lib.empty_strided((2, 2), (1, 2), device='meta')],
}


def _grads(lib):
    lib.manual_seed(0)
    x = lib.empty(2, 3, 8, device='meta', requires_grad=True)
    lstm = lib.nn.LSTM(8, 4, device='meta')
    norm = lib.nn.LayerNorm(8, device='meta')
    out = lstm(norm(x).reshape(6, 8))[0]
    loss = lib.nn.functional.cross_entropy(out, lib.zeros(6, dtype=lib.long, device='meta')) + \
        lib.nn.functional.max_pool1d(x, 2).sum() + x.sort(-1)[0].sum()
    loss.backward()
    return [x.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad, norm.weight.grad]


@pytest.mark.parametrize('case', CASES)
def test_meta_tensors_as_pytorch(case):
    assert _outcome(CASES[case], nbgrad) == _outcome(CASES[case], torch)


def test_random_factories_draw_nothing():
    def run(lib):
        lib.manual_seed(0)
        lib.randn(5, device='meta')
        lib.empty(4, device='meta').normal_()
        lib.nn.Linear(30, 20, device='meta')
        return lib.rand(3).tolist()
    assert run(nbgrad) == run(torch)


def test_a_huge_meta_tensor_takes_no_memory():
    x = nbgrad.empty(100_000, 100_000, device='meta')
    y = x.t().to(nbgrad.float64)
    assert tuple(y.shape) == (100_000, 100_000) and y.dtype is nbgrad.float64
    # (zero strides: one element of memory, whatever the shape)
    assert x._data.__array_interface__['strides'] == (0, 0)


def test_modules_built_on_meta_then_materialized():
    """with torch.device('meta'): build; to_empty to the CPU; load the weights (a copy into a
    meta parameter is a no-op with PyTorch's warning; assign=True replaces it)."""
    def run(lib):
        lib.manual_seed(0)
        with lib.device('meta'):
            model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
        shown = repr(model[0].weight).replace('nbgrad.', 'torch.')
        forward = _describe(model(lib.empty(3, 4, device='meta')))
        lib.manual_seed(1)
        weights = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(),
                                    lib.nn.Linear(8, 2)).state_dict()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            model.load_state_dict(weights)
        warned = sorted(str(w.message)[:40] for w in caught)
        still_meta = model[0].weight.is_meta
        copied = copy.deepcopy(model).to_empty(device='cpu')
        copied.load_state_dict(weights)
        model.load_state_dict(weights, assign=True)
        x = lib.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
        return (shown, forward, warned, still_meta, model[0].weight.device.type,
                model(x).detach().numpy().round(5).tolist(),
                copied(x).detach().numpy().round(5).tolist())
    assert run(nbgrad) == run(torch)


def test_stack_module_state_recipe_with_a_meta_base_model():
    """PyTorch's model-ensembling recipe: the base model on 'meta', functional_call with the
    stacked parameters under vmap."""
    def run(lib):
        lib.manual_seed(0)
        models = [lib.nn.Linear(3, 2) for _ in range(4)]
        params, buffers = lib.func.stack_module_state(models)
        base = copy.deepcopy(models[0]).to('meta')

        def one(p, b, x):
            return lib.func.functional_call(base, (p, b), (x,))
        x = lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
        return lib.vmap(one, in_dims=(0, 0, None))(params, buffers, x).detach().numpy()
    np.testing.assert_allclose(run(nbgrad), run(torch), rtol=1e-5, atol=1e-7)


def test_saving_a_meta_tensor_is_refused_without_touching_memory(tmp_path):
    with pytest.raises(NotImplementedError, match='meta tensor has no data'):
        nbgrad.save({'w': nbgrad.empty(1_000_000, 1_000_000, device='meta')}, tmp_path / 'x.pt')
    assert not (tmp_path / 'x.pt').exists()


def test_optimizers_step_meta_parameters():
    def run(lib):
        w = lib.nn.Parameter(lib.empty(2, 3, device='meta'))
        w.grad = lib.empty(2, 3, device='meta')
        states = []
        for opt in (lib.optim.SGD([w], lr=0.1, momentum=0.9), lib.optim.Adam([w]),
                    lib.optim.RMSprop([w])):
            opt.step()
            states.append(sorted((k, str(v.device)) for k, v in opt.state[w].items()))
        lib.nn.init.trunc_normal_(w)
        return states, w.is_meta
    assert run(nbgrad) == run(torch)
