"""A sweep over torch.nn's module classes against PyTorch: each class is built with the first of
a few constructor argument tuples that PyTorch accepts, then must give PyTorch's repr and
state_dict keys, load PyTorch's weights, and on the first input shape PyTorch's module accepts,
give PyTorch's output and the gradients of a fixed weighted sum of it with respect to the input
and every parameter.

A net under the per-layer tests: no per-class code. Modules that need arguments these patterns
cannot give (containers, Transformer stacks, lazy modules, random ones) are left to their own
tests."""
import inspect
import warnings

import numpy as np
import pytest
import torch

import nbgrad

CONSTRUCTOR_ARGUMENTS = ((), (4,), (4, 4), (4, 4, 3), (4, 2), (3,), (2,), (4, 4, 4))
INPUT_SHAPES = ((2, 4), (2, 4, 8), (2, 4, 8, 8), (2, 4, 4, 8, 8), (4,), (3, 2, 4))
SKIPPED = {
    # containers and wrappers: built from other modules
    'Module', 'Sequential', 'ModuleList', 'ModuleDict', 'ParameterList', 'ParameterDict',
    'Container', 'DataParallel', 'SyncBatchNorm',
    # several inputs or structured arguments
    'Transformer', 'TransformerDecoder', 'TransformerEncoder', 'TransformerDecoderLayer',
    'RNNBase', 'MultiheadAttention', 'CTCLoss', 'Unflatten', 'LinearCrossEntropyLoss',
    'EmbeddingBag', 'Embedding', 'AdaptiveLogSoftmaxWithLoss',
    # random in training mode
    'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout',
    'RReLU', 'FractionalMaxPool2d', 'FractionalMaxPool3d',
    # lazy: shaped by their first input (tests/test_nn_lazy.py)
    'LazyLinear', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
    'LazyConvTranspose2d', 'LazyConvTranspose3d', 'LazyBatchNorm1d', 'LazyBatchNorm2d',
    'LazyBatchNorm3d', 'LazyInstanceNorm1d', 'LazyInstanceNorm2d', 'LazyInstanceNorm3d',
}
# GroupNorm(4, 4) on (2, 4) normalises single elements: exactly 0 in nbgrad, PyTorch's rounding
# (1e-7) divided by sqrt(eps) in PyTorch; compared with this absolute tolerance
TOLERANCE = {'GroupNorm': 1e-3}


def _module_classes():
    return sorted(name for name, cls in vars(torch.nn).items()
                  if inspect.isclass(cls) and issubclass(cls, torch.nn.Module)
                  and not name.startswith('_') and name not in SKIPPED)


def _build(lib, cls, args):
    lib.manual_seed(0)
    return cls(*args)


def _weighted_sum(lib, out):
    out = out[0] if isinstance(out, tuple) else out
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)),
                         device=out.device)
    return out, (out * weights.to(out.dtype)).sum()


@pytest.mark.parametrize('name', _module_classes())
def test_module_matches_pytorch(name, device):
    """(On 'cuda' nbgrad's module and inputs live on the GPU; PyTorch's CPU results are the
    oracle.)"""
    ours_cls = getattr(nbgrad.nn, name, None)
    assert ours_cls is not None, f'nn.{name} is missing'
    theirs_cls = getattr(torch.nn, name)
    for args in CONSTRUCTOR_ARGUMENTS:
        try:
            theirs = _build(torch, theirs_cls, args)
        except Exception:
            continue
        ours = _build(nbgrad, ours_cls, args)
        break
    else:
        pytest.skip('no constructor pattern fits')
    if 'bias=' in repr(torch.nn.LayerNorm(2)):   # (PyTorch 2.13's reprs of the norm layers)
        assert repr(ours).replace('nbgrad', 'torch') == repr(theirs)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: nbgrad.tensor(v.numpy()) for k, v in state.items()})
    ours = ours.to(device)
    if device != 'cpu' and any(isinstance(m, torch.nn.modules.dropout._DropoutNd)
                               for m in theirs.modules()):
        # nbgrad's CUDA generator is not PyTorch's CPU one: compare without dropout there
        theirs.eval()
        ours.eval()
    rng = np.random.default_rng(0)
    for shape, extra in _inputs():
        x = rng.standard_normal(shape)
        others = [_other(rng, shape, kind) for kind in extra]
        x_theirs = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                out_theirs, loss_theirs = _weighted_sum(
                    torch, theirs(x_theirs, *[torch.tensor(o) for o in others]))
            except Exception:
                continue
            x_ours = nbgrad.tensor(x, dtype=nbgrad.float32, device=device, requires_grad=True)
            out_ours, loss_ours = _weighted_sum(
                nbgrad, ours(x_ours, *[nbgrad.tensor(o, device=device) for o in others]))
        atol = TOLERANCE.get(name, 1e-5)
        np.testing.assert_allclose(out_ours.detach().cpu().numpy(),
                                   out_theirs.detach().numpy(), rtol=1e-4, atol=atol)
        if not loss_theirs.requires_grad:
            return
        leaves_theirs = [x_theirs] + list(theirs.parameters())
        leaves_ours = [x_ours] + list(ours.parameters())
        expected = torch.autograd.grad(loss_theirs, leaves_theirs, allow_unused=True)
        got = nbgrad.autograd.grad(loss_ours, leaves_ours, allow_unused=True)
        for want, have in zip(expected, got):
            assert (want is None) == (have is None)
            if want is not None:
                np.testing.assert_allclose(have.cpu().numpy(force=True), want.numpy(),
                                           rtol=1e-3, atol=max(atol, 1e-4))
        return
    pytest.skip('no input shape fits')


def _inputs():
    """(input shape, kinds of the further arguments): one input, then the losses' forms (a
    target like the input, probabilities, class indices, signs)."""
    for shape in INPUT_SHAPES:
        yield shape, ()
    for extra in (('like',), ('probabilities',), ('classes',), ('signs',), ('like', 'like'),
                  ('like', 'signs'), ('like', 'positive')):
        for shape in INPUT_SHAPES:
            yield shape, extra


def _other(rng, shape, kind):
    if kind == 'classes':
        return rng.integers(0, shape[1] if len(shape) > 1 else shape[0], shape[:1] + shape[2:])
    if kind == 'signs':
        return np.where(rng.standard_normal(shape[:1]) > 0, 1.0, -1.0).astype(np.float32)
    values = rng.standard_normal(shape).astype(np.float32)
    if kind == 'probabilities':
        return (1 / (1 + np.exp(-values))).astype(np.float32)
    if kind == 'positive':
        return np.abs(values) + 0.1
    return values


def test_deprecated_nllloss2d_warns_as_pytorch():
    messages = []
    for lib in (torch, nbgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.nn.NLLLoss2d()
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[1] == messages[0]
