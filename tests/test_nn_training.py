"""Whole training runs against PyTorch: an MLP, a CNN (conv, batch norm, pooling), an LSTM and a GRU
classifier start from the same weights and train for 20 steps under every optimizer, each paired
with a learning-rate scheduler. Outputs, gradients, the loss trajectory and the final weights must
agree within float32 tolerance."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

STEPS = 20


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 3))


def cnn(lib):
    nn = lib.nn
    # no bias before BatchNorm (it cancels out): its gradient would be rounding noise, which
    # adaptive optimizers (Adam...) blow up into full-size steps of either sign
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(6, 3))


def recurrent(kind):
    def make(lib):
        class Classifier(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(lib.nn, kind)(4, 8, batch_first=True)
                self.head = lib.nn.Linear(8, 3)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.head(out[:, -1])
        return Classifier()
    return make


MODELS = {'mlp': (mlp, (8, 6)), 'cnn': (cnn, (8, 2, 6, 6)),
          'lstm': (recurrent('LSTM'), (8, 5, 4)), 'gru': (recurrent('GRU'), (8, 5, 4))}

# every optimizer, each with a scheduler (make(lib, params) -> (optimizer, scheduler or None))
OPTIMIZERS = {
    'sgd_momentum_steplr': lambda lib, p: _with(lib, lib.optim.SGD(p, lr=0.1, momentum=0.9,
                                                                   nesterov=True),
                                                'StepLR', step_size=5, gamma=0.5),
    'adam_cosine': lambda lib, p: _with(lib, lib.optim.Adam(p, lr=0.01),
                                        'CosineAnnealingLR', T_max=STEPS),
    'adamw_onecycle': lambda lib, p: _with(lib, lib.optim.AdamW(p, lr=0.01, weight_decay=0.1),
                                           'OneCycleLR', max_lr=0.02, total_steps=STEPS),
    'adagrad_exponential': lambda lib, p: _with(lib, lib.optim.Adagrad(p, lr=0.05),
                                                'ExponentialLR', gamma=0.9),
    'rmsprop_centered_linear': lambda lib, p: _with(
        lib, lib.optim.RMSprop(p, lr=0.005, centered=True, momentum=0.5), 'LinearLR',
        start_factor=0.5, total_iters=10),
    'adadelta_multistep': lambda lib, p: _with(lib, lib.optim.Adadelta(p, lr=1.0),
                                               'MultiStepLR', milestones=[5, 15]),
    'adamax_polynomial': lambda lib, p: _with(lib, lib.optim.Adamax(p, lr=0.01),
                                              'PolynomialLR', total_iters=STEPS, power=2.0),
    'nadam_constant': lambda lib, p: _with(lib, lib.optim.NAdam(p, lr=0.01), 'ConstantLR',
                                           factor=0.5, total_iters=8),
    'radam_warm_restarts': lambda lib, p: _with(lib, lib.optim.RAdam(p, lr=0.01),
                                                'CosineAnnealingWarmRestarts', T_0=7),
    'asgd': lambda lib, p: _with(lib, lib.optim.ASGD(p, lr=0.05, t0=5), None),
    'rprop_cyclic': lambda lib, p: _with(lib, lib.optim.Rprop(p, lr=0.01), 'CyclicLR',
                                         base_lr=0.005, max_lr=0.02, step_size_up=4,
                                         cycle_momentum=False),
    'amsgrad_lambda': lambda lib, p: _with(lib, lib.optim.Adam(p, lr=0.01, amsgrad=True),
                                           'LambdaLR', lr_lambda=lambda epoch: 0.9 ** epoch),
}


def _with(lib, optimizer, scheduler, **options):
    if scheduler is None:
        return optimizer, None
    return optimizer, getattr(lib.optim.lr_scheduler, scheduler)(optimizer, **options)


def _data(shape):
    rng = np.random.default_rng(7)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 3, shape[0])


def _train(lib, model_name, optimizer_name, state):
    make, shape = MODELS[model_name]
    model = make(lib)
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    x, y = (lib.tensor(a) for a in _data(shape))
    optimizer, scheduler = OPTIMIZERS[optimizer_name](lib, model.parameters())
    loss_fn = lib.nn.CrossEntropyLoss()
    losses, first = [], None
    for step in range(STEPS):
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        if step == 0:
            first = (out.detach().numpy().copy(),
                     {n: p.grad.numpy().copy() for n, p in model.named_parameters()})
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    final = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    return first, np.array(losses), final


@pytest.mark.parametrize('optimizer_name', OPTIMIZERS)
@pytest.mark.parametrize('model_name', MODELS)
def test_training_matches_pytorch(model_name, optimizer_name):
    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in MODELS[model_name][0](torch).state_dict().items()}
    (out_t, grads_t), losses_t, final_t = _train(torch, model_name, optimizer_name, state)
    (out_n, grads_n), losses_n, final_n = _train(nbgrad, model_name, optimizer_name, state)
    np.testing.assert_allclose(out_n, out_t, rtol=1e-5, atol=1e-6, err_msg='first output')
    for name in grads_t:
        np.testing.assert_allclose(grads_n[name], grads_t[name], rtol=1e-4, atol=1e-6,
                                   err_msg=f'first gradient of {name}')
    np.testing.assert_allclose(losses_n, losses_t, rtol=1e-4, atol=1e-5, err_msg='losses')
    assert final_n.keys() == final_t.keys()
    if optimizer_name.startswith('rprop'):
        # Rprop steps by the sign of grad * previous grad: where a gradient is ~0, rounding
        # decides the sign and single weights take other paths (the losses above still agree)
        return
    for name in final_t:  # buffers too: running stats, num_batches_tracked
        np.testing.assert_allclose(final_n[name], final_t[name], rtol=1e-3, atol=1e-4,
                                   err_msg=f'final {name}')


@pytest.mark.parametrize('model_name', MODELS)
def test_seeded_models_start_from_pytorchs_weights(model_name):
    """nn.init draws PyTorch's numbers, so the same seed builds the same model."""
    weights = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(3)
        weights[lib] = {k: v.detach().numpy() for k, v in
                        MODELS[model_name][0](lib).state_dict().items()}
    assert weights[nbgrad].keys() == weights[torch].keys()
    for name, value in weights[torch].items():
        np.testing.assert_array_equal(weights[nbgrad][name], value, err_msg=name)
