"""nn.utils.prune against PyTorch: every method (seeded random masks too), iterative pruning
through PruningContainer, global pruning, importance scores, remove(), is_pruned, training a
pruned model, state_dicts, the argument errors, and 'cuda' (with the deterministic methods: CUDA
random numbers are not PyTorch's)."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_value, exc_kind, to_np

torch = pytest.importorskip('torch')
import torch.nn.utils.prune  # noqa: E402,F401  (PyTorch does not import it with torch.nn.utils)


def _model(lib, device='cpu'):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(20, 6)).to(device)


def _state(lib, model):
    hooks = {name: [type(h).__name__ for h in m._forward_pre_hooks.values()]
             for name, m in model.named_children()}
    return {'keys': list(model.state_dict()), 'state': {k: v.cpu() for k, v in
                                                         model.state_dict().items()},
            'hooks': hooks, 'pruned': lib.nn.utils.prune.is_pruned(model),
            'params': [n for n, _ in model.named_parameters()]}


def _scenario(lib, steps, device='cpu'):
    model = _model(lib, device)
    prune = lib.nn.utils.prune
    for step in steps:
        step(prune, model)
    x = lib.tensor(np.random.default_rng(0).standard_normal((3, 2, 3, 7)), dtype=lib.float32,
                   device=device)
    out = model(x)
    out.square().sum().backward()
    grads = {n: p.grad.cpu() for n, p in model.named_parameters()}
    return dict(_state(lib, model), out=out.detach().cpu(), grads=grads)


SCENARIOS = {
    'random-unstructured': [lambda p, m: p.random_unstructured(m[0], 'weight', amount=0.3)],
    'l1-int-and-bias': [lambda p, m: p.l1_unstructured(m[0], 'weight', amount=7),
                        lambda p, m: p.l1_unstructured(m[2], 'bias', amount=0.5)],
    'ln-structured': [lambda p, m: p.ln_structured(m[0], 'weight', amount=0.5, n=2, dim=0),
                      lambda p, m: p.ln_structured(m[2], 'weight', amount=3, n=1, dim=-1)],
    'random-structured': [lambda p, m: p.random_structured(m[2], 'weight', amount=2, dim=1)],
    'iterative': [lambda p, m: p.random_unstructured(m[0], 'weight', amount=0.2),
                  lambda p, m: p.ln_structured(m[0], 'weight', amount=1, n=float('inf'), dim=1),
                  lambda p, m: p.l1_unstructured(m[0], 'weight', amount=0.25)],
    'global': [lambda p, m: p.l1_unstructured(m[2], 'weight', amount=10),
               lambda p, m: p.global_unstructured([(m[0], 'weight'), (m[2], 'weight'),
                                                   (m[2], 'bias')],
                                                  pruning_method=p.L1Unstructured, amount=0.4)],
    'importance-and-custom': [
        lambda p, m: p.l1_unstructured(m[2], 'weight', amount=30,
                                       importance_scores=m[2].weight.detach().flip(0)),
        lambda p, m: p.custom_from_mask(m[0], 'bias', mask=m[0].bias.detach() > 0),
        lambda p, m: p.identity(m[2], 'bias')],
    'remove': [lambda p, m: p.l1_unstructured(m[0], 'weight', amount=0.5),
               lambda p, m: p.random_unstructured(m[0], 'weight', amount=0.3),
               lambda p, m: p.remove(m[0], 'weight')],
}


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_scenarios_match_torch(scenario):
    assert_same_value(to_np(_scenario(nbgrad, SCENARIOS[scenario])),
                      to_np(_scenario(torch, SCENARIOS[scenario])), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('scenario', ['l1-int-and-bias', 'ln-structured',
                                      'importance-and-custom'])
def test_deterministic_methods_on_device(scenario, device):
    got = _scenario(nbgrad, SCENARIOS[scenario], device)
    assert_same_value(to_np(got), to_np(_scenario(torch, SCENARIOS[scenario])), rtol=1e-5,
                      atol=1e-6)


def test_pruned_state_dict_round_trip_and_container():
    """A pruned model's state_dict loads into the same model pruned the same way; the
    container lists the methods in order; prune() masks a bare tensor."""
    def run(lib):
        prune = lib.nn.utils.prune
        a, b = _model(lib), _model(lib)
        for model in (a, b):
            prune.l1_unstructured(model[0], 'weight', amount=0.5)
            prune.ln_structured(model[0], 'weight', amount=1, n=2, dim=0)
        with lib.no_grad():
            a[0].weight_orig.mul_(3)
        b.load_state_dict(a.state_dict())
        container = next(iter(b[0]._forward_pre_hooks.values()))
        method = prune.L1Unstructured(amount=2)
        bare = method.prune(lib.tensor([3.0, -1.0, 0.5, 2.0]))
        return [b[0].weight, b[0].weight_mask, [type(m).__name__ for m in container],
                len(container), bare]
    assert_same_value(to_np(run(nbgrad)), to_np(run(torch)), rtol=1e-6, atol=1e-7)


ERRORS = {
    'amount-type': lambda p, m: p.l1_unstructured(m[0], 'weight', amount='half'),
    'amount-negative': lambda p, m: p.random_unstructured(m[0], 'weight', amount=-1),
    'amount-above-one': lambda p, m: p.l1_unstructured(m[0], 'weight', amount=1.5),
    'amount-too-many': lambda p, m: p.l1_unstructured(m[0], 'bias', amount=5),
    'structured-1d': lambda p, m: p.ln_structured(m[0], 'bias', amount=1, n=2, dim=0),
    'structured-dim': lambda p, m: p.random_structured(m[0], 'weight', amount=1, dim=4),
    'global-structured': lambda p, m: p.global_unstructured(
        [(m[0], 'weight')], pruning_method=p.LnStructured, amount=1, n=2, dim=0),
    'global-not-iterable': lambda p, m: p.global_unstructured(3, p.L1Unstructured, amount=1),
    'global-scores-type': lambda p, m: p.global_unstructured(
        [(m[0], 'weight')], p.L1Unstructured, importance_scores=[1], amount=1),
    'remove-unpruned': lambda p, m: p.remove(m[0], 'weight'),
    'scores-shape': lambda p, m: p.l1_unstructured(m[0], 'weight', amount=1,
                                                   importance_scores=m[0].bias),
}


@pytest.mark.parametrize('case', ERRORS)
def test_errors_match_torch_and_leave_the_module(case):
    outcomes = []
    for lib in (torch, nbgrad):
        model = _model(lib)
        before = _state(lib, model)
        with pytest.raises(Exception) as info:
            ERRORS[case](lib.nn.utils.prune, model)
        outcomes.append((exc_kind(info.value),
                         str(info.value).split(' of ')[0].replace('torch.', 'nbgrad.')))
        if lib is nbgrad:
            assert_same_value(to_np(_state(lib, model)), to_np(before))
    assert outcomes[0] == outcomes[1]
