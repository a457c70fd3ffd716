"""TrainingView: it records exactly the sequence a real nbgrad training loop logs (whose losses
are checked against the same loop in PyTorch), progress arithmetic under a fake clock, status
transitions and the context manager, the text/HTML fallbacks, NaN reporting, and redrawing of a
shown view in a real IPython shell."""
import math

import numpy as np
import pytest

import nbgrad
pytest.importorskip('ipywidgets')     # (the notebook extras; absent on the GPU machine)
from nbgrad.widgets.training_view import TrainingView  # noqa: E402
from nbgrad.widgets._base import WIDGET_VIEW_MIME  # noqa: E402

torch = pytest.importorskip('torch')


@pytest.fixture
def clock(monkeypatch):
    """A fake clock: set clock.now to move time."""
    class Clock:
        now = 100.0
    monkeypatch.setattr(TrainingView, '_clock', staticmethod(lambda: Clock.now))
    return Clock


def regression(lib, steps):
    """Linear regression by SGD from the same initial weights: yields (step, loss)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    model = lib.nn.Linear(3, 1)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, 0.2, -0.3]]))
        model.bias.fill_(0.0)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        optimizer.step()
        yield step, loss


def test_records_the_losses_of_a_training_loop():
    view = TrainingView(total=15)
    logged = []
    for step, loss in regression(nbgrad, 15):
        view.log(step=step, loss=loss)          # a one-element tensor is logged as its value
        logged.append(loss.item())
    expected = [loss.item() for _, loss in regression(torch, 15)]
    np.testing.assert_allclose(logged, expected, rtol=1e-5)
    assert view.history == {'loss': [[i + 1, y] for i, y in enumerate(logged)]}
    assert view.latest == {'loss': logged[-1]}
    assert (view.progress['done'], view.progress['total'], view.progress['unit']) == \
        (15, 15, 'step')
    assert view.status == 'running'
    view.done()
    assert view.status == 'done'


def test_progress_rate_and_eta(clock):
    view = TrainingView(total=10)
    assert view.progress == {'done': 0, 'total': 10, 'unit': None, 'epoch': None, 'step': None,
                             'elapsed': 0.0, 'eta': None, 'rate': None}
    clock.now = 104.0
    view.log(epoch=1, loss=1.0)
    clock.now = 106.0
    view.log(epoch=2, loss=0.5)
    # 2 epochs in 6 s: 1/3 epoch per second, 8 epochs left at that rate
    assert view.progress == {'done': 2, 'total': 10, 'unit': 'epoch', 'epoch': 2, 'step': None,
                             'elapsed': 6.0, 'eta': 24.0, 'rate': pytest.approx(1 / 3)}
    # without step or epoch, each log() is one step
    plain = TrainingView()
    clock.now = 110.0
    for value in (3.0, 2.0, 1.0):
        plain.log(loss=value)
    assert plain.history['loss'] == [[1, 3.0], [2, 2.0], [3, 1.0]]
    assert plain.progress == {'done': 3, 'total': None, 'unit': 'step', 'epoch': None,
                              'step': None, 'elapsed': 4.0, 'eta': None, 'rate': 0.75}


def epochs_of_steps(view, epochs=3, steps=4):
    """The --fit pattern: each step logged with its epoch, then the epoch's closing values
    (also at that step); the progress seen after each log."""
    seen, step = [], 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps):
            step += 1
            view.log(step=step, epoch=epoch, loss=1.0 / step)
            seen.append(view.progress['done'])
        view.log(step=step, epoch=epoch, epoch_loss=1.0 / epoch)
        seen.append(view.progress['done'])
    return seen


def test_progress_of_steps_inside_epochs():
    told = TrainingView(total=3, steps_per_epoch=4)
    assert epochs_of_steps(told) == [0.25, 0.5, 0.75, 1, 1, 1.25, 1.5, 1.75, 2, 2, 2.25, 2.5,
                                     2.75, 3, 3]
    assert told.progress['step'] == 12 and told.progress['epoch'] == 3
    assert told.history['epoch_loss'] == [[4, 1.0], [8, 0.5], [12, 1 / 3]]
    # not told the epoch's length: the epochs before the current one are done, and done()
    # completes the last
    untold = TrainingView(total=3)
    assert epochs_of_steps(untold) == [0] * 5 + [1] * 5 + [2] * 5
    untold.done()
    assert untold.progress['done'] == 3
    assert untold.text().splitlines()[1].startswith('epoch 3/3 [====================] 100%')


def test_text_fallback(clock):
    view = TrainingView(total=10, title='regression')
    for epoch, (loss, val) in enumerate([(0.9, 1.0), (0.7, 0.8), (0.512, 0.61)], start=1):
        clock.now += 1.0
        view.log(epoch=epoch, loss=loss, val_loss=val)
    lines = view.text().splitlines()
    assert lines[0] == 'regression'
    assert lines[1] == ('epoch 3/10 [======              ] 30%  loss 0.512  val_loss 0.61  '
                        '3.0 s, eta 7.0 s')
    assert lines[2].split() == ['metric', 'last', 'min', 'max', 'points']
    assert lines[4].split() == ['loss', '0.512', '0.512', '0.9', '3']
    assert lines[5].split() == ['val_loss', '0.61', '0.61', '1', '3']
    clock.now = 200.0
    view.done()     # the final elapsed time is taken when the run ends
    assert view.text().splitlines()[1] == ('epoch 3/10 [======              ] 30%  loss 0.512  '
                                           'val_loss 0.61  1:40  (done)')
    # without a total: the count and the rate
    free = TrainingView(metrics=['loss'])
    clock.now = 202.0
    free.log(loss=2.0, accuracy=0.5)
    assert free.text().splitlines()[1] == 'step 1  loss 2  2.0 s, 0.5 step/s'


def test_nan_is_reported():
    view = TrainingView()
    for step in range(1, 20):
        view.log(step=step, loss=1.0 / step if step < 17 else math.nan)
    assert view.nonfinite == {'loss': {'x': 17, 'unit': 'step', 'value': 'nan'}}
    assert view.history['loss'][16:] == [[17, None], [18, None], [19, None]]
    assert view.latest == {'loss': 'nan'}
    assert view.text().splitlines()[-1] == 'loss became nan at step 17'
    assert 'loss became nan at step 17' in view.html()
    view.log(step=20, grad_norm=-math.inf)
    assert view.warnings() == ['loss became nan at step 17', 'grad_norm became -inf at step 20']


def test_html_fallback():
    view = TrainingView(total=4)
    for epoch in (1, 2):
        view.log(epoch=epoch, loss=1.0 / epoch, val_loss=1.5 / epoch, accuracy=0.3 * epoch,
                 val_accuracy=0.25 * epoch, lr=0.1)
    html = view.html()
    # a progress bar (half full), then one chart per metric and its val_ twin
    assert '<rect x="0.0" y="0.0" width="210.0" height="14.0" fill="#4c72b0"/>' in html
    titles = [t.split('</title>')[0] for t in html.split('<title>')[1:]]
    assert titles == ['loss', 'accuracy', 'lr']
    assert html.count('<polyline') == 5
    assert '<td style="text-align:left">val_accuracy</td>' in html


def test_status_transitions():
    view = TrainingView()
    assert view.status == 'running' and view.message == ''
    view.log(loss=1.0)
    view.interrupted()
    assert view.status == 'interrupted'
    view.done()             # the first ending wins
    assert view.status == 'interrupted'
    with pytest.raises(RuntimeError, match='this run is interrupted; start a new TrainingView'):
        view.log(loss=0.5)
    assert view.history == {'loss': [[1, 1.0]]}
    failed = TrainingView()
    failed.failed('the loss became nan at step 3: training stopped')
    assert failed.status == 'failed'
    assert failed.text().splitlines()[1].endswith(
        '(failed: the loss became nan at step 3: training stopped)')


def test_context_manager():
    with TrainingView(total=3) as view:
        view.log(epoch=1, loss=1.0)
    assert view.status == 'done'
    with pytest.raises(KeyboardInterrupt):
        with TrainingView(total=3) as view:
            view.log(epoch=1, loss=1.0)
            raise KeyboardInterrupt
    assert view.status == 'interrupted' and view.history == {'loss': [[1, 1.0]]}
    with pytest.raises(ZeroDivisionError):
        with TrainingView() as view:
            1 / 0
    assert view.status == 'failed' and view.message == 'ZeroDivisionError: division by zero'


def test_callback():
    view = TrainingView(total=2)
    for epoch in (1, 2):
        view.callback(epoch, {'loss': 1.0 / epoch, 'accuracy': np.float32(0.25) * epoch})
    assert view.history == {'loss': [[1, 1.0], [2, 0.5]], 'accuracy': [[1, 0.25], [2, 0.5]]}
    assert view.progress['done'] == 2 and view.progress['unit'] == 'epoch'


@pytest.mark.parametrize('call, error, match', [
    (lambda v: v.log(loss='low'), TypeError, "loss='low' is not a number"),
    (lambda v: v.log(loss=None), TypeError, 'loss=None is not a number'),
    (lambda v: v.log(loss=nbgrad.ones(3)), ValueError, r'loss is a tensor of shape \(3,\)'),
    (lambda v: v.log(step=-1, loss=1.0), ValueError, 'step must be a number >= 0'),
    (lambda v: v.log(epoch=math.nan, loss=1.0), ValueError, 'epoch must be a number >= 0'),
])
def test_bad_log_calls_change_nothing(call, error, match):
    view = TrainingView()
    view.log(loss=1.0)
    with pytest.raises(error, match=match):
        call(view)
    assert view.history == {'loss': [[1, 1.0]]} and view.progress['done'] == 1


@pytest.mark.parametrize('kwargs, error, match', [
    ({'total': 0}, ValueError, 'total must be a number > 0'),
    ({'total': math.inf}, ValueError, 'total must be a number > 0'),
    ({'metrics': 'loss'}, TypeError, 'metrics must be a list of names'),
    ({'steps_per_epoch': 0}, ValueError, 'steps_per_epoch must be a positive int'),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrainingView(**kwargs)


def test_mimebundle(monkeypatch):
    view = TrainingView(total=3)
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html'}
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html', WIDGET_VIEW_MIME}


# -- redrawing a shown view in a real IPython shell ------------------------------------------

@pytest.fixture
def shell(monkeypatch):
    from IPython.testing.globalipapp import start_ipython
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    return start_ipython()


def shown(shell, interval, logs):
    """Show a view, log `logs` losses, end it; the display outputs captured."""
    from IPython.utils.capture import capture_output
    with capture_output() as captured:
        view = TrainingView(total=logs)
        view.redraw_interval = interval
        view.show()
        for step in range(1, logs + 1):
            view.log(step=step, loss=1.0 / step)
        view.done()
    return view, captured.outputs


def test_shown_view_redraws_each_change(shell):
    view, outputs = shown(shell, 0.0, 3)
    assert [o.update for o in outputs][:1] == [False]       # the display, then its updates
    updates = outputs[1:]
    assert updates and all(o.update for o in updates)
    # each log() changes history, latest and progress; done() changes progress and status
    assert len(updates) == 3 * 3 + 2
    assert updates[-1].data['text/plain'] == view.text()
    assert '(done)' in updates[-1].data['text/plain']
    assert updates[-1].data['text/html'] == view.html()


def test_shown_view_redraw_is_throttled_and_done_flushes(shell):
    view, outputs = shown(shell, math.inf, 5)
    # nothing is drawn between the first display and done(), which draws the final state
    assert [o.update for o in outputs] == [False, True]
    assert 'loss 0.2' in outputs[1].data['text/plain']
    assert outputs[0].data['text/plain'].splitlines()[1].startswith('0/5 [    ')
