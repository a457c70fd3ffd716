"""%%model's --fit loop (magics/model_fit.py) against the same loop written in PyTorch: from the
same weights and the same seeded shuffles, the step losses, validation numbers and final weights
agree; and its errors are raised before any training."""
import math

import numpy as np
import pytest

pytest.importorskip('IPython')
torch = pytest.importorskip('torch')

import nbgrad  # noqa: E402
from nbgrad.magics.model_fit import FitError, Trainer  # noqa: E402


class Recorder:
    """Stands in for TrainingView: keeps what the trainer reports."""

    def __init__(self):
        self.logs, self.status = [], None

    def log(self, step=None, epoch=None, **values):
        self.logs.append((step, epoch, values))

    def done(self):
        self.status = 'done'

    def interrupted(self):
        self.status = 'interrupted'

    def failed(self, message):
        self.status = message


def pair(lib, seed=0, n=40):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return lib.tensor(x), lib.tensor(labels)


def models():
    nbgrad.manual_seed(0)
    ours = nbgrad.nn.Sequential(nbgrad.nn.Linear(5, 8), nbgrad.nn.ReLU(), nbgrad.nn.Linear(8, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for p, q in zip(theirs.parameters(), ours.parameters()):
            p.copy_(torch.tensor(q.detach().numpy()))
    return ours, theirs


def torch_fit(model, train, val, epochs, batch_size, lr):
    """The loop a PyTorch user writes."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*train),
                                         batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, vals = [], []
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            out = model(val[0])
            vals.append((torch.nn.functional.cross_entropy(out, val[1]).item(),
                         (out.argmax(-1) == val[1]).float().mean().item()))
    return losses, vals


def test_training_follows_pytorchs_loop():
    ours, theirs = models()
    view = Recorder()
    nbgrad.manual_seed(5)
    trainer = Trainer(ours, pair(nbgrad), epochs=3, optimizer='Adam(lr=0.01)', loss=None,
                      namespace={}, val=pair(nbgrad, seed=1, n=16), batch_size=8)
    assert trainer.loss_name == 'cross_entropy'      # integer targets: classification
    assert trainer.run(view) == 'done' and view.status == 'done'
    torch.manual_seed(5)
    losses, vals = torch_fit(theirs, pair(torch), pair(torch, seed=1, n=16), 3, 8, 0.01)
    steps = [values['loss'] for _, _, values in view.logs if 'loss' in values]
    np.testing.assert_allclose(steps, losses, rtol=1e-5, atol=1e-6)
    epochs = [values for _, _, values in view.logs if 'val_loss' in values]
    np.testing.assert_allclose([e['val_loss'] for e in epochs], [v[0] for v in vals], rtol=1e-5)
    np.testing.assert_allclose([e['val_accuracy'] for e in epochs], [v[1] for v in vals])
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not ours.training                         # left in eval mode, as after evaluation


def test_float_targets_default_to_mse_and_a_dataloader_is_used_as_is():
    x = nbgrad.randn(12, 3)
    y = x.sum(dim=1, keepdim=True)
    loader = nbgrad.utils.data.DataLoader(nbgrad.utils.data.TensorDataset(x, y), batch_size=4)
    model = nbgrad.nn.Linear(3, 1)
    view = Recorder()
    trainer = Trainer(model, loader, 1, 'SGD(lr=0.1)', None, {})
    assert trainer.loss_name == 'mse_loss' and trainer.train is loader
    trainer.run(view)
    assert [step for step, _, values in view.logs if 'loss' in values] == [1, 2, 3]


def test_options_are_evaluated_in_the_notebook_namespace():
    model = nbgrad.nn.Linear(5, 3)
    trainer = Trainer(model, pair(nbgrad), 1, 'SGD(lr=rate, momentum=0.9)', 'CrossEntropyLoss',
                      {'rate': 0.25})
    assert trainer.optimizer.param_groups[0]['lr'] == 0.25
    assert isinstance(trainer.loss_fn, nbgrad.nn.CrossEntropyLoss)


@pytest.mark.filterwarnings('ignore:Using a target size')   # (mse_loss's, before its error)
@pytest.mark.parametrize('kwargs, message', [
    (dict(optimizer='Adamm(lr=1)'), 'Adamm is not an optimizer of nbgrad.optim'),
    (dict(optimizer='Adam(lr=-1)'), 'Invalid learning rate: -1'),
    (dict(optimizer='lr=3'), 'is not a call like'),
    (dict(loss='cross_entropi'), "'cross_entropi' is neither a function of nn.functional"),
    (dict(loss='mse_loss'), 'do not fit'),
    (dict(epochs=0), '--epochs takes a positive number'),
    (dict(train=42), 'expected a DataLoader, a Dataset or a pair'),
])
def test_errors_before_training(kwargs, message):
    model = nbgrad.nn.Linear(5, 3)
    before = [p.detach().clone() for p in model.parameters()]
    options = dict(train=pair(nbgrad), epochs=1, optimizer=None, loss=None)
    options.update(kwargs)
    with pytest.raises(FitError, match=message):
        Trainer(model, namespace={}, **options)
    assert all(nbgrad.equal(p, q) for p, q in zip(model.parameters(), before))


def test_a_model_that_does_not_fit_the_data_names_the_shapes():
    model = nbgrad.nn.Linear(4, 3)
    with pytest.raises(FitError, match=r'the model fails on a batch of inputs \[32, 5\]'):
        Trainer(model, pair(nbgrad), 1, None, None, {})


def test_an_interrupt_keeps_the_weights_trained_so_far():
    model = nbgrad.nn.Linear(5, 3)
    trainer = Trainer(model, pair(nbgrad), 5, None, None, {}, batch_size=8)

    class InterruptingView(Recorder):
        def log(self, step=None, epoch=None, **values):
            super().log(step, epoch, **values)
            if step == 7:
                raise KeyboardInterrupt
    view = InterruptingView()
    before = model.weight.detach().clone()
    assert trainer.run(view) == 'interrupted' and view.status == 'interrupted'
    assert not nbgrad.equal(model.weight, before)
    assert max(step for step, _, _ in view.logs) == 7


def test_a_loss_that_turns_nan_stops_training():
    model = nbgrad.nn.Linear(5, 1)
    x, _ = pair(nbgrad)
    y = nbgrad.full((len(x), 1), math.nan)
    view = Recorder()
    assert Trainer(model, (x, y), 3, None, None, {}).run(view) == 'failed'
    assert 'the loss became nan at step 1' in view.status
