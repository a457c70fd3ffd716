"""`%%model ... --fit DATA`: train the built model inline, the plain PyTorch loop a user would
write (zero_grad, forward, loss, backward, step), reporting to a TrainingView.

    --fit DATA      a DataLoader, a Dataset, or a pair (inputs, targets) of tensors: any
                    expression of the notebook's names. Datasets and pairs are batched by a
                    DataLoader(batch_size=--batch-size, shuffle=True).
    --val DATA      the same forms (batched in order); evaluated after each epoch under no_grad
                    (val_loss, and val_accuracy for a classification loss).
    --optim "Adam(lr=1e-3)"   a call of an nbgrad.optim class without the parameters argument
                    (the default is Adam(lr=1e-3)).
    --loss NAME     a function of nn.functional (cross_entropy, mse_loss, ...) or a loss class
                    of nn (CrossEntropyLoss, ...). Without it: cross_entropy when the targets
                    are integers (class indices), mse_loss otherwise.

Nothing here imports IPython: errors are FitError (the magic turns them into UsageError). The
first batch is checked (forward and loss) before anything is bound or trained, so a shape that
does not fit fails the cell with the namespace unchanged. An interrupt (Kernel > Interrupt, or
Ctrl-C) stops after the current step: the model keeps the weights trained so far, the view
says where it stopped, and the cell does not fail.
"""
import ast
import math

import nbgrad
from nbgrad import nn
from nbgrad.utils.data import DataLoader, Dataset, TensorDataset

DEFAULT_OPTIMIZER = 'Adam(lr=1e-3)'
CLASSIFICATION_LOSSES = ('cross_entropy', 'nll_loss', 'CrossEntropyLoss', 'NLLLoss')


class FitError(Exception):
    """A problem with --fit's options or data, said in one line."""


def make_loader(value, what, batch_size, shuffle):
    """A DataLoader (or any iterable of batches) from what --fit/--val named."""
    if isinstance(value, DataLoader):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and \
            all(isinstance(v, nbgrad.Tensor) for v in value):
        inputs, targets = value
        if len(inputs) != len(targets):
            raise FitError(f'{what}: inputs and targets differ in length ({len(inputs)} vs '
                           f'{len(targets)} samples)')
        value = TensorDataset(inputs, targets)
    if isinstance(value, Dataset) or (hasattr(value, '__getitem__') and
                                      hasattr(value, '__len__')):
        return DataLoader(value, batch_size=batch_size, shuffle=shuffle)
    raise FitError(f'{what}: expected a DataLoader, a Dataset or a pair (inputs, targets) of '
                   f'tensors, got {type(value).__name__}')


def make_optimizer(text, parameters, namespace):
    """nbgrad.optim.<Class>(parameters, **kwargs) from 'Class(kw=value, ...)'."""
    text = text or DEFAULT_OPTIMIZER
    try:
        call = ast.parse(text, mode='eval').body
    except SyntaxError:
        raise FitError(f'--optim: {text!r} is not a call like "Adam(lr=1e-3)"') from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise FitError(f'--optim: {text!r} is not a call like "Adam(lr=1e-3)"')
    cls = getattr(nbgrad.optim, call.func.id, None)
    if not (isinstance(cls, type) and issubclass(cls, nbgrad.optim.Optimizer)):
        known = sorted(n for n in dir(nbgrad.optim) if isinstance(getattr(nbgrad.optim, n), type)
                       and issubclass(getattr(nbgrad.optim, n), nbgrad.optim.Optimizer)
                       and n != 'Optimizer')
        raise FitError(f'--optim: {call.func.id} is not an optimizer of nbgrad.optim (one of: '
                       f'{", ".join(known)})')
    try:
        args = [eval(compile(ast.Expression(a), '<--optim>', 'eval'), namespace)
                for a in call.args]
        kwargs = {k.arg: eval(compile(ast.Expression(k.value), '<--optim>', 'eval'), namespace)
                  for k in call.keywords}
        return cls(parameters, *args, **kwargs)
    except Exception as e:
        raise FitError(f'--optim {text}: {type(e).__name__}: {e}') from None


def make_loss(name, targets):
    """(loss function, its name); name None picks from the targets' dtype."""
    if name is None:
        name = 'mse_loss' if targets.is_floating_point() else 'cross_entropy'
    function = getattr(nn.functional, name, None)
    if callable(function) and not isinstance(function, type):
        return function, name
    cls = getattr(nn, name, None)
    if isinstance(cls, type) and issubclass(cls, nn.Module) and name.endswith('Loss'):
        return cls(), name
    raise FitError(f'--loss: {name!r} is neither a function of nn.functional (cross_entropy, '
                   f'mse_loss, ...) nor a loss class of nn (CrossEntropyLoss, ...)')


def _split(batch, what):
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise FitError(f'{what}: each batch must be a pair (inputs, targets), got '
                       f'{type(batch).__name__}' + (f' of {len(batch)}' if
                                                    isinstance(batch, (tuple, list)) else ''))
    return batch


def _on(tensor, device):
    return tensor.to(device) if isinstance(tensor, nbgrad.Tensor) else tensor


def _shapes(*tensors):
    return ', '.join(str(list(t.shape)) for t in tensors if isinstance(t, nbgrad.Tensor))


class Trainer:
    """Holds a checked fit: build it (which runs the first batch), then run() it."""

    def __init__(self, model, train, epochs, optimizer, loss, namespace, val=None,
                 batch_size=32):
        if epochs < 1:
            raise FitError(f'--epochs takes a positive number, not {epochs}')
        self.model, self.epochs = model, epochs
        self.train = make_loader(train, '--fit', batch_size, shuffle=True)
        # (validation in order: a shuffle would draw from the generator, and change nothing)
        self.val = make_loader(val, '--val', batch_size, shuffle=False) if val is not None \
            else None
        self.device = next((p.device for p in model.parameters()), nbgrad.device('cpu'))
        # the check draws a shuffle and maybe dropout masks: under fork_rng, so that training
        # then draws exactly what the same loop written by hand after the same seed draws
        with nbgrad.random.fork_rng():
            inputs, targets = _split(next(iter(self.train)), '--fit')
            self.loss_fn, self.loss_name = make_loss(loss, targets)
            self.classification = self.loss_name in CLASSIFICATION_LOSSES
            self._check_first_batch(inputs, targets)
        self.optimizer = make_optimizer(optimizer, model.parameters(), namespace)
        self.steps_per_epoch = len(self.train) if hasattr(self.train, '__len__') else None

    def _check_first_batch(self, inputs, targets):
        """Forward and loss on one batch, without training: the errors a user can fix."""
        inputs, targets = _on(inputs, self.device), _on(targets, self.device)
        self.first_inputs = inputs      # (what --graph draws when there is no --input)
        try:
            with nbgrad.no_grad():
                output = self.model(inputs)
        except Exception as e:
            raise FitError(f'--fit: the model fails on a batch of inputs {_shapes(inputs)}: '
                           f'{type(e).__name__}: {e}') from None
        try:
            with nbgrad.no_grad():
                self.loss_fn(output, targets)
        except Exception as e:
            raise FitError(f'--loss {self.loss_name}: output {_shapes(output)} and targets '
                           f'{_shapes(targets)} do not fit: {type(e).__name__}: {e}') from None

    def run(self, view):
        """Train; returns 'done' or 'interrupted'. view: a TrainingView (log/done/interrupted)."""
        step = 0
        model, optimizer = self.model, self.optimizer
        try:
            for epoch in range(1, self.epochs + 1):
                model.train()
                total, count = 0.0, 0
                for batch in self.train:
                    inputs, targets = _split(batch, '--fit')
                    inputs, targets = _on(inputs, self.device), _on(targets, self.device)
                    optimizer.zero_grad()
                    loss = self.loss_fn(model(inputs), targets)
                    loss.backward()
                    optimizer.step()
                    step += 1
                    value = loss.item()
                    total, count = total + value * len(inputs), count + len(inputs)
                    view.log(step=step, epoch=epoch, loss=value)
                    if not math.isfinite(value):
                        view.failed(f'the loss became {value} at step {step}: training stopped '
                                    f'(try a smaller learning rate)')
                        return 'failed'
                values = {'epoch_loss': total / max(count, 1)}
                if self.val is not None:
                    # (a DataLoader's iterator draws a seed even unshuffled: validating must
                    # not change the training's random stream)
                    with nbgrad.random.fork_rng():
                        values.update(self.evaluate())
                view.log(step=step, epoch=epoch, **values)
        except KeyboardInterrupt:
            view.interrupted()
            return 'interrupted'
        finally:
            model.eval()
        view.done()
        return 'done'

    def evaluate(self):
        """val_loss (and val_accuracy for classification) over --val, under no_grad."""
        self.model.eval()
        total, correct, count = 0.0, 0, 0
        with nbgrad.no_grad():
            for batch in self.val:
                inputs, targets = _split(batch, '--val')
                inputs, targets = _on(inputs, self.device), _on(targets, self.device)
                output = self.model(inputs)
                total += self.loss_fn(output, targets).item() * len(inputs)
                if self.classification:
                    correct += int((output.argmax(-1) == targets).sum().item())
                count += len(inputs)
        result = {'val_loss': total / max(count, 1)}
        if self.classification:
            result['val_accuracy'] = correct / max(count, 1)
        return result
