"""TrainingView: live loss and metric curves and the progress of a training run, for a user's own
loop (and for %%model --fit). In a front end without nbgrad's widget view it is a text progress
line and a table of the latest values (text/plain), or a progress bar and the curves as SVG
(text/html), redrawn as the run goes when the view was shown with show().

    view = TrainingView(total=10)
    view.show()
    for epoch in range(1, 11):
        ...
        view.log(epoch=epoch, loss=train_loss, val_loss=val_loss)
    view.done()

or `with TrainingView(total=10) as view: ...`, which marks the run 'done' at the end, and
'interrupted' (KeyboardInterrupt) or 'failed' (another exception) when one escapes the block; the
exception is re-raised either way, so a stopped loop stops (the view keeps the curves so far).
Keras-style code can pass `view.callback`, called as callback(epoch, logs).

Positions: log(step=..., epoch=...) says where a point is. A point's x is its step when given,
else its epoch, else the count of log() calls so far. Numbers are 1-based, like the epochs of
PyTorch's examples (`for epoch in range(1, n + 1)`); a step is a count over the whole run.
  log(epoch=3, ...) without a step is epoch 3's closing report: three epochs are done.
  log(step=s, epoch=3, ...) is a step inside epoch 3: 2 + (the fraction of epoch 3 that step s
    reaches: s / steps_per_epoch when the constructor was told steps_per_epoch, else 0) epochs
    are done (done() counts the last epoch logged as done).
  log(step=s, ...) with no epoch logged yet: s steps are done.
  log(...) with neither: one more step is done (while no epoch was logged).
Progress is counted in epochs once an epoch has been logged, else in steps, and `total` is in
that unit.

Synced traits (the contract the JupyterLab view draws from; JSON, with null for a number that is
NaN or infinite):
  title:     str
  metrics:   [str], the metrics shown, in order ([] shows every metric logged)
  history:   {metric: [[x, y|null], ...]} in logging order
  latest:    {metric: y|'nan'|'inf'|'-inf'}, the last value logged of each metric
  progress:  {done: number (epochs or steps done, fractional inside an epoch), total: number|null,
              unit: 'epoch'|'step'|null (null before the first log), epoch: the last epoch
              logged|null, step: the last step logged|null, elapsed: seconds since the view was
              made (as of the last log or the end), eta: seconds|null (elapsed / done *
              (total - done)), rate: units per second|null}
  status:    'running' | 'done' | 'interrupted' | 'failed'
  message:   str, why the run ended when it did not end well ('' otherwise)
  nonfinite: {metric: {x: number, unit: 'step'|'epoch', value: 'nan'|'inf'|'-inf'}}, the first
             non-finite value of each metric ("loss became nan at step 17")
"""
import math
import time

import traitlets

from ._base import NbgradWidget
from . import _svg

BAR_WIDTH = 20      # characters in the text progress bar


def _value(name, value):
    """A logged value as a float: numbers, NumPy scalars and one-element tensors."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f'TrainingView.log: {name}={value!r} is not a number')
    if hasattr(value, 'numel') and hasattr(value, 'item'):
        if value.numel() != 1:
            raise ValueError(f'TrainingView.log: {name} is a tensor of shape '
                             f'{tuple(value.shape)}; log a number (e.g. {name}.item() of a '
                             f'one-element tensor, or {name}.mean().item())')
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f'TrainingView.log: {name}={value!r} is not a number') from None


def _position(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or not math.isfinite(value):
        raise ValueError(f'TrainingView.log: {name} must be a number >= 0, got {value!r}')
    return value


def _group(metric):
    """Curves drawn together: a metric and its validation twin ('loss' and 'val_loss')."""
    return metric[4:] if metric.startswith('val_') else metric


def _duration(seconds):
    if seconds is None:
        return '-'
    if seconds < 60:
        return f'{seconds:.1f} s'
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}:{minutes:02d}:{seconds:02d}' if hours else f'{minutes}:{seconds:02d}'


class TrainingView(NbgradWidget):
    _model_name = traitlets.Unicode('TrainingViewModel').tag(sync=True)
    _view_name = traitlets.Unicode('TrainingView').tag(sync=True)

    title = traitlets.Unicode('').tag(sync=True)
    metrics = traitlets.List().tag(sync=True)
    history = traitlets.Dict().tag(sync=True)
    latest = traitlets.Dict().tag(sync=True)
    progress = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode('running').tag(sync=True)
    message = traitlets.Unicode('').tag(sync=True)
    nonfinite = traitlets.Dict().tag(sync=True)

    _clock = staticmethod(time.monotonic)     # (tests replace it with a fake clock)

    def __init__(self, total=None, metrics=None, title=None, steps_per_epoch=None, log_y=False,
                 **kwargs):
        if total is not None and (isinstance(total, bool) or not isinstance(total, (int, float))
                                  or not total > 0 or not math.isfinite(total)):
            raise ValueError(f'TrainingView: total must be a number > 0 (epochs or steps) or '
                             f'None, got {total!r}')
        if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or not isinstance(
                steps_per_epoch, int) or steps_per_epoch < 1):
            raise ValueError(f'TrainingView: steps_per_epoch must be a positive int or None, '
                             f'got {steps_per_epoch!r}')
        if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics or []):
            raise TypeError(f'TrainingView: metrics must be a list of names, got {metrics!r}')
        super().__init__(**kwargs)
        self.total = total
        self.steps_per_epoch = steps_per_epoch
        self.log_y = log_y
        self._start = self._clock()
        self._calls = 0
        self._step_axis = False     # whether some point's x is a step (the charts' x label)
        self.title = title or ''
        self.metrics = list(metrics or [])
        self.progress = self._progress(0, None, None, None)

    # -- recording ------------------------------------------------------------------------------
    def log(self, step=None, epoch=None, **values):
        """Record values (loss=..., val_loss=..., accuracy=..., lr=...) at a step and/or epoch."""
        if self.status != 'running':
            raise RuntimeError(f'TrainingView.log: this run is {self.status}; start a new '
                               f'TrainingView for another run')
        step, epoch = _position('step', step), _position('epoch', epoch)
        numbers = {name: _value(name, v) for name, v in values.items()}
        self._calls += 1
        x, unit = ((step, 'step') if step is not None else (epoch, 'epoch') if epoch is not None
                   else (self._calls, 'step'))
        self._step_axis = self._step_axis or unit == 'step'
        last = self.progress
        epoch_now = epoch if epoch is not None else last['epoch']
        if epoch_now is None:                   # counting steps
            done = x
        elif step is None and epoch is not None:    # an epoch's closing report
            done = epoch
        elif step is None:                      # no position: the count stays
            done = last['done']
        elif self.steps_per_epoch:              # a step inside epoch `epoch_now`
            done = min(max(step / self.steps_per_epoch, epoch_now - 1), epoch_now)
        else:
            done = epoch_now - 1

        history, nonfinite = dict(self.history), dict(self.nonfinite)
        for name, y in numbers.items():
            finite = math.isfinite(y)
            history[name] = history.get(name, []) + [[x, y if finite else None]]
            if not finite and name not in nonfinite:
                nonfinite[name] = {'x': x, 'unit': unit, 'value': str(y)}
        with self.hold_sync():
            self.history = history
            self.nonfinite = nonfinite
            self.latest = {**self.latest, **{name: y if math.isfinite(y) else str(y)
                                             for name, y in numbers.items()}}
            self.progress = self._progress(done, 'step' if epoch_now is None else 'epoch',
                                           epoch_now, step if step is not None else last['step'])

    @property
    def callback(self):
        """callback(epoch, logs): log(epoch=epoch, **logs), for code that reports each finished
        epoch (1-based) with a dict of its values."""
        def callback(epoch, logs=None):
            self.log(epoch=epoch, **(logs or {}))
        return callback

    def _progress(self, done, unit, epoch, step):
        elapsed = self._clock() - self._start
        rate = done / elapsed if elapsed > 0 and done else None
        eta = (elapsed / done * max(self.total - done, 0)
               if self.total is not None and done else None)
        return {'done': done, 'total': self.total, 'unit': unit, 'epoch': epoch, 'step': step,
                'elapsed': elapsed, 'eta': eta, 'rate': rate}

    # -- the end of the run ------------------------------------------------------------------
    def done(self):
        """Mark the run finished (the last epoch logged counts as done) and draw it."""
        self._finish('done')

    def interrupted(self, message=''):
        """Mark the run stopped by the user (KeyboardInterrupt)."""
        self._finish('interrupted', message)

    def failed(self, message=''):
        """Mark the run stopped by an error; `message` says which."""
        self._finish('failed', message)

    def _finish(self, status, message=''):
        """The first ending wins: a later done()/interrupted()/failed() changes nothing."""
        if self.status == 'running':
            p = self.progress
            done = p['done']
            if status == 'done' and p['epoch'] is not None:
                done = max(done, p['epoch'])
            with self.hold_sync():
                self.progress = self._progress(done, p['unit'], p['epoch'], p['step'])
                self.message = str(message)
                self.status = status
        # (returns None: a loop's cell ending in view.done() must not display the view again)
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None:
            self.done()
        elif issubclass(kind, KeyboardInterrupt):
            self.interrupted()
        else:
            self.failed(f'{kind.__name__}: {error}')
        return False        # re-raise: the loop that was stopped stays stopped

    # -- fallbacks ------------------------------------------------------------------------------
    def shown_metrics(self):
        return self.metrics or list(self.history)

    def progress_line(self):
        """'epoch 3/10 [======              ] 30%  loss 0.512  val_loss 0.61  1.2 s, eta 2.8 s'"""
        p = self.progress
        if p['unit'] == 'epoch':
            where = f'epoch {_svg.fmt(p["epoch"])}'
        else:
            where = f'{p["unit"] or ""} {_svg.fmt(p["done"])}'.strip()
        if p['total'] is not None:
            fraction = min(p['done'] / p['total'], 1.0)
            filled = int(round(fraction * BAR_WIDTH))
            parts = [f'{where}/{_svg.fmt(p["total"])} '
                     f'[{"=" * filled}{" " * (BAR_WIDTH - filled)}] {fraction:.0%}']
        else:
            parts = [where]
        parts.extend(f'{name} {_svg.fmt(self.latest[name])}'
                     for name in self.shown_metrics() if name in self.latest)
        timing = _duration(p['elapsed'])
        if self.status == 'running' and p['eta'] is not None:
            timing += f', eta {_duration(p["eta"])}'
        elif self.status == 'running' and p['rate'] is not None:
            timing += f', {_svg.fmt(p["rate"], 3)} {p["unit"]}/s'
        parts.append(timing)
        if self.status != 'running':
            parts.append(f'({self.status}{": " + self.message if self.message else ""})')
        return '  '.join(parts)

    def warnings(self):
        return [f'{name} became {info["value"]} at {info["unit"]} {_svg.fmt(info["x"])}'
                for name, info in self.nonfinite.items()]

    def _table(self):
        rows = []
        for name in self.shown_metrics():
            ys = [y for _, y in self.history.get(name, []) if y is not None]
            rows.append([name, _svg.fmt(self.latest.get(name)), _svg.fmt(min(ys, default=None)),
                         _svg.fmt(max(ys, default=None)), len(self.history.get(name, []))])
        return ['metric', 'last', 'min', 'max', 'points'], rows

    def text(self):
        lines = [f'{self.title}' if self.title else 'TrainingView', self.progress_line()]
        headers, rows = self._table()
        if rows:
            lines.append(_svg.text_table(headers, rows))
        lines.extend(self.warnings())
        return '\n'.join(lines)

    def html(self):
        p = self.progress
        fraction = min(p['done'] / p['total'], 1.0) if p['total'] else 0
        color = {'running': _svg.PALETTE[0], 'done': _svg.PALETTE[2]}.get(self.status,
                                                                          _svg.WARNING)
        bar = _svg.svg(420, 14, [_svg.rect(0, 0, 420, 14, '#eeeeee'),
                                 _svg.rect(0, 0, 420 * fraction, 14, color)])
        parts = ['<div class="nbgrad-training-view">']
        if self.title:
            parts.append(f'<b>{_svg.escape(self.title)}</b><br>')
        if p['total']:
            parts.append(bar + '<br>')
        parts.append(f'<code>{_svg.escape(self.progress_line())}</code>')
        parts.extend(f'<p style="color:{_svg.WARNING}">{_svg.escape(w)}</p>'
                     for w in self.warnings())
        groups = {}
        for name in self.shown_metrics():
            if name in self.history:
                groups.setdefault(_group(name), {})[name] = self.history[name]
        x_label = 'step' if self._step_axis else 'epoch'
        for group, series in groups.items():
            parts.append('<div>' + _svg.line_chart(series, title=group, x_label=x_label,
                                                    log_y=self.log_y) + '</div>')
        headers, rows = self._table()
        if rows:
            parts.append(_svg.table(headers, rows))
        return ''.join(parts) + '</div>'
