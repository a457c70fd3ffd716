"""AdaptiveLogSoftmaxWithLoss against PyTorch: seeded weights, output and loss with gradients
(batched and single rows, every cluster hit or some empty), log_prob, predict (all rows in the
shortlist, none, some), the argument and target errors, and 'cuda'."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, assert_same_value, to_np

torch = pytest.importorskip('torch')
# a cluster projection of in_features / div_value^k < 1 has zero features: both libraries warn
pytestmark = pytest.mark.filterwarnings('ignore:Initializing zero-element tensors')

CONFIGS = {
    'two-clusters': dict(in_features=8, n_classes=20, cutoffs=[4, 10]),
    'head-bias': dict(in_features=6, n_classes=12, cutoffs=[3], div_value=2.0, head_bias=True),
    'three-clusters': dict(in_features=16, n_classes=30, cutoffs=[2, 5, 15], div_value=1.5),
}


def _make(lib, config, device='cpu'):
    lib.manual_seed(0)
    return lib.nn.AdaptiveLogSoftmaxWithLoss(**CONFIGS[config]).double().to(device)


def _inputs(lib, config, targets, device='cpu'):
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal((len(targets), CONFIGS[config]['in_features'])),
                   device=device, requires_grad=True)
    return x, lib.tensor(targets, device=device)


TARGETS = {'all-clusters': [0, 3, 4, 9, 11, 19, 2, 10], 'shortlist-only': [0, 1, 2, 1],
           'one-row': [7]}


@pytest.mark.parametrize('targets', TARGETS)
@pytest.mark.parametrize('config', CONFIGS)
def test_forward_and_gradients_match_torch(config, targets, device):
    def run(lib, dev):
        module = _make(lib, config, dev)
        x, t = _inputs(lib, config, [v % CONFIGS[config]['n_classes']
                                     for v in TARGETS[targets]], dev)
        output, loss = module(x, t)
        loss.backward()
        single = module(x[0], t[0])
        return [output.detach().cpu(), loss.detach().cpu(), x.grad.cpu(),
                {n: p.grad.cpu() for n, p in module.named_parameters() if p.grad is not None},
                single.output.detach().cpu(), single.loss.detach().cpu(), type(single).__name__,
                repr(module)]
    assert_same_value(to_np(run(nbgrad, device)), to_np(run(torch, 'cpu')), rtol=1e-10,
                      atol=1e-12)


@pytest.mark.parametrize('config', CONFIGS)
def test_log_prob_and_predict_match_torch(config):
    def run(lib):
        module = _make(lib, config)
        rng = np.random.default_rng(2)
        x = lib.tensor(rng.standard_normal((6, CONFIGS[config]['in_features'])) * 3)
        log_prob = module.log_prob(x)
        results = [log_prob.detach(), module.predict(x)]
        with lib.no_grad():   # steer the head to each branch of predict
            module.head.weight.zero_()
            if module.head.bias is not None:
                module.head.bias.zero_()
            results.append(module.predict(x))    # ties: the first head entry, the shortlist
            module.head.weight[-1] = 5.0
            results.append(module.predict(x))    # a cluster for the rows where it wins
        return results
    assert_same_value(to_np(run(nbgrad)), to_np(run(torch)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('case', ['no-cutoffs', 'unsorted', 'too-large', 'repeated',
                                  'fraction', 'target-range', 'batch-mismatch', 'input-3d',
                                  'target-2d', 'input-2d-target-0d'])
def test_errors_match_torch(case):
    def run(lib):
        nn = lib.nn
        bad_cutoffs = {'no-cutoffs': [], 'unsorted': [5, 2], 'too-large': [3, 10],
                       'repeated': [2, 2], 'fraction': [2.5]}
        if case in bad_cutoffs:
            return nn.AdaptiveLogSoftmaxWithLoss(4, 10, bad_cutoffs[case])
        module = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
        if case == 'target-range':
            return module(lib.ones(2, 4), lib.tensor([1, 12]))
        if case == 'batch-mismatch':
            return module(lib.ones(2, 4), lib.tensor([1, 2, 3]))
        if case == 'input-3d':
            return module(lib.ones(2, 1, 4), lib.tensor([1, 2]))
        if case == 'target-2d':
            return module(lib.ones(2, 4), lib.tensor([[1], [2]]))
        return module(lib.ones(2, 4), lib.tensor(1))
    assert_same_error(run)
