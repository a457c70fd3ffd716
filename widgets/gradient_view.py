"""GradientView(model): the gradient of every parameter of an nn.Module, live across training
steps: its norm, its size relative to the parameter, its summary statistics and histogram, and a
flag for the gradients that signal trouble (vanishing, exploding, NaN/Inf, none at all).

    view = GradientView(model)
    view.show()                         # then train as usual: each backward redraws it
    ...
    view.close()                        # removes the hooks it put on the model

How it follows training: a post-accumulate-grad hook on each trainable parameter
(Tensor.register_post_accumulate_grad_hook) records that parameter's gradient the moment the
backward pass has finished accumulating it, and once every trainable parameter has its new
gradient the view publishes a step. When a backward leaves some parameters without a gradient
(an unused branch), the step is published at the model's next forward call (a forward pre-hook),
at the next backward, or by update(). Each backward pass is one step (gradient accumulation over
several backwards shows each of them). The hooked parameters are those trainable when the view
is made (make a new view after freezing or unfreezing some). With track=False nothing is
hooked and update(), called after loss.backward(), publishes a step from the current .grad of
every parameter.

Flags (one per parameter, the first that applies):
  'frozen'      requires_grad is False (listed, never counted as a problem)
  'no grad'     requires_grad but .grad is None (not reached by backward, or zero_grad() since)
  'nan/inf'     some gradient element is NaN or infinite
  'exploding'   grad_norm > exploding_above
  'vanishing'   grad_norm < vanishing_below
  ''            none of these
The thresholds apply to grad_norm, the L2 norm of the whole gradient of the parameter (the
number clip_grad_norm_ measures), in absolute terms: it is the gradient the optimizer sees.
vanishing_below=1e-7 is about float32's resolution: a weight of order 1 moved by lr * 1e-7 with
lr <= 1 does not change, so the parameter has stopped learning. exploding_above=1e3: with the
usual learning rates (1e-4 to 1e-1) such a step moves weights by 0.1 to 100, far beyond what
clip_grad_norm_'s customary max_norm (1 to 10) lets through. `ratio` (grad_norm / param_norm) is
shown alongside to judge the size of a step relative to the weights.

Synced traits (the contract the JupyterLab view draws from; JSON, with null for a number that is
NaN, infinite or undefined):
  parameters: [{name: str (the module path from named_parameters, e.g. 'fc1.weight'),
                shape: [int], numel: int, requires_grad: bool,
                grad_norm: float|null, param_norm: float|null, ratio: float|null,
                mean: float|null, std: float|null, min: float|null, max: float|null,
                nan_count: int, inf_count: int,
                histogram: {edges: [float] (bins + 1), counts: [int] (bins)},
                flag: '' | 'vanishing' | 'exploding' | 'nan/inf' | 'no grad' | 'frozen'}, ...]
              in named_parameters order. mean, std (Bessel-corrected, as Tensor.std), min, max
              and the histogram (bins equal bins from min to max, numpy.histogram's) describe
              the finite gradient elements; grad_norm covers all of them (NaN when one is NaN).
              Complex gradients are described by their magnitudes. Without a gradient the
              numbers are null and the histogram {edges: [], counts: []}.
  step:       int, the steps published (backward passes seen, or update() calls).
  history:    {name: [grad_norm|null, ...]}, one value per step, the last history_size steps.
  thresholds: {vanishing_below: float, exploding_above: float}
"""
import math

import numpy as np
import traitlets

from ._base import NbgradWidget
from . import _svg

FLAG_COLORS = {'': _svg.PALETTE[0], 'frozen': '#bbbbbb', 'no grad': '#bbbbbb'}
MAX_HISTOGRAMS = 12     # small histograms drawn in the HTML fallback (the first ones)


def _number(x):
    """A float for JSON: None where it is NaN or infinite (JSON has no such numbers)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _host_values(tensor):
    """A float64 NumPy copy of a tensor's values (a CUDA tensor is copied to the host)."""
    values = tensor.detach()
    if values.is_complex():
        values = values.abs()
    # (through float64 as a tensor: numpy() refuses bfloat16, as PyTorch's does)
    return values.cpu().double().numpy().ravel()


def _norm_text(record):
    """The grad norm as shown: 'nan' or 'inf' where JSON carries null for it."""
    if record['grad_norm'] is None and record['flag'] == 'nan/inf':
        return 'nan' if record['nan_count'] else 'inf'
    return _svg.fmt(record['grad_norm'])


class GradientView(NbgradWidget):
    _model_name = traitlets.Unicode('GradientViewModel').tag(sync=True)
    _view_name = traitlets.Unicode('GradientView').tag(sync=True)

    parameters = traitlets.List().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    history = traitlets.Dict().tag(sync=True)
    thresholds = traitlets.Dict().tag(sync=True)

    _hook_handles = ()      # (until attached: ipywidgets' __del__ calls close() even when
    #                          __init__ refused its arguments)

    def __init__(self, model, bins=30, track=True, vanishing_below=1e-7, exploding_above=1e3,
                 history_size=200, **kwargs):
        if not callable(getattr(model, 'named_parameters', None)):
            raise TypeError(f'GradientView(model) expects an nn.Module, got '
                            f'{type(model).__name__}')
        named = list(model.named_parameters())
        if not named:
            raise ValueError(f'GradientView: the {type(model).__name__} has no parameters, so '
                             f'there are no gradients to show')
        for name, value in (('bins', bins), ('history_size', history_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'GradientView: {name} must be a positive int, got {value!r}')
        if not 0 <= vanishing_below < exploding_above:
            raise ValueError(f'GradientView: need 0 <= vanishing_below < exploding_above, got '
                             f'vanishing_below={vanishing_below!r}, '
                             f'exploding_above={exploding_above!r}')
        super().__init__(**kwargs)
        self.model = model
        self.bins = bins
        self.history_size = history_size
        self.thresholds = {'vanishing_below': float(vanishing_below),
                           'exploding_above': float(exploding_above)}
        self._named = named
        self._trainable = {name for name, p in named if p.requires_grad}
        self._fresh = {}        # name -> the record made when its gradient arrived, this step
        self._hook_handles = []
        # what the model's gradients are now, without counting a step
        self.parameters = [self._record(name, p) for name, p in named]
        if track:
            self._attach()

    # -- following training -----------------------------------------------------------------
    def _attach(self):
        for name, p in self._named:
            if p.requires_grad:
                self._hook_handles.append(p.register_post_accumulate_grad_hook(self._arrived(name)))
        self._hook_handles.append(self.model.register_forward_pre_hook(self._forward_started))

    def _arrived(self, name):
        def hook(parameter):
            if name in self._fresh:         # a new backward before the last one was published
                self._publish()
            self._fresh[name] = self._record(name, parameter)
            if len(self._fresh) == len(self._trainable):
                self._publish()
        return hook

    def _forward_started(self, module, args):
        if self._fresh:     # the last backward left some parameters without a gradient
            self._publish()

    def detach(self):
        """Remove the hooks put on the model (the view keeps what it shows)."""
        for handle in self._hook_handles:
            handle.remove()
        self._hook_handles = []

    def close(self):
        """Remove the hooks and close the widget."""
        self.detach()
        super().close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()
        return False

    def update(self):
        """Publish a step from the current .grad of every parameter (call it after
        loss.backward() when track=False; with track=True the hooks do it)."""
        self._publish()
        self.flush()
        return self

    def _publish(self):
        fresh, self._fresh = self._fresh, {}
        records = [fresh.get(name) or self._record(name, p) for name, p in self._named]
        history = {}
        for record in records:
            norms = self.history.get(record['name'], []) + [record['grad_norm']]
            history[record['name']] = norms[-self.history_size:]
        with self.hold_sync():
            self.parameters = records
            self.history = history
            self.step = self.step + 1

    # -- one parameter's numbers --------------------------------------------------------------
    def _record(self, name, parameter):
        weights = _host_values(parameter)
        record = {'name': name, 'shape': list(parameter.shape), 'numel': int(weights.size),
                  'requires_grad': bool(parameter.requires_grad),
                  'param_norm': _number(np.sqrt(np.sum(weights * weights))),
                  'grad_norm': None, 'ratio': None, 'mean': None, 'std': None, 'min': None,
                  'max': None, 'nan_count': 0, 'inf_count': 0,
                  'histogram': {'edges': [], 'counts': []}}
        grad = parameter.grad
        if not parameter.requires_grad or grad is None:
            record['flag'] = 'frozen' if not parameter.requires_grad else 'no grad'
            return record
        values = _host_values(grad)
        finite = values[np.isfinite(values)]
        with np.errstate(over='ignore', invalid='ignore'):
            grad_norm = float(np.sqrt(np.sum(values * values)))
        record.update(nan_count=int(np.isnan(values).sum()),
                      inf_count=int(np.isinf(values).sum()),
                      grad_norm=_number(grad_norm))
        if record['grad_norm'] is not None and record['param_norm']:
            record['ratio'] = _number(grad_norm / record['param_norm'])
        if finite.size:
            counts, edges = np.histogram(finite, bins=self.bins)
            record.update(mean=_number(finite.mean()), min=_number(finite.min()),
                          max=_number(finite.max()),
                          std=_number(finite.std(ddof=1)) if finite.size > 1 else None,
                          histogram={'edges': [float(e) for e in edges],
                                     'counts': [int(c) for c in counts]})
        record['flag'] = self._flag(record)
        return record

    def _flag(self, record):
        if record['nan_count'] or record['inf_count']:
            return 'nan/inf'
        if record['grad_norm'] > self.thresholds['exploding_above']:
            return 'exploding'
        if record['grad_norm'] < self.thresholds['vanishing_below']:
            return 'vanishing'
        return ''

    # -- fallbacks ----------------------------------------------------------------------------
    def summary(self):
        """One line: which parameters are flagged, and why."""
        if self.step == 0 and all(r['flag'] in ('no grad', 'frozen') for r in self.parameters):
            return 'no gradients yet: call loss.backward()'
        flagged = [r for r in self.parameters if r['flag'] not in ('', 'frozen')]
        if not flagged:
            return 'no parameter flagged'
        noun = 'parameter' if len(flagged) == 1 else 'parameters'
        return (f'{len(flagged)} {noun} flagged: '
                + ', '.join(f'{r["name"]} {r["flag"]}' for r in flagged))

    def _rows(self):
        return [[r['name'], tuple(r['shape']), _norm_text(r), _svg.fmt(r['ratio']), r['flag']]
                for r in self.parameters]

    HEADERS = ['name', 'shape', 'grad norm', 'ratio', 'flag']

    def text(self):
        head = f'GradientView: {len(self.parameters)} parameters, step {self.step}'
        table = _svg.text_table(self.HEADERS, self._rows(), align=['l', 'l', 'r', 'r', 'l'])
        return f'{head}\n{table}\n{self.summary()}'

    def html(self):
        styles = ['' if r['flag'] in ('', 'frozen', 'no grad')
                  else f'color:{_svg.WARNING};font-weight:bold' for r in self.parameters]
        table = _svg.table(self.HEADERS, self._rows(), align=['l', 'l', 'r', 'r', 'l'],
                           caption=f'GradientView: step {self.step}', row_styles=styles)
        parts = [f'<div class="nbgrad-gradient-view">{table}',
                 f'<p>{_svg.escape(self.summary())}</p>', self._norm_chart()]
        shown = self.parameters[:MAX_HISTOGRAMS]
        for r in shown:
            if r['histogram']['counts']:
                parts.append(_svg.histogram(r['histogram']['edges'], r['histogram']['counts'],
                                            width=220, height=120, title=r['name'],
                                            color=self._color(r), scale='count'))
        if len(self.parameters) > len(shown):
            parts.append(f'<p>histograms of the first {len(shown)} of '
                         f'{len(self.parameters)} parameters</p>')
        return ''.join(parts) + '</div>'

    def _color(self, record):
        return FLAG_COLORS.get(record['flag'], _svg.WARNING)

    def _norm_chart(self):
        """Bars of log10(grad norm), measured from a decade below the smallest norm (bar lengths
        must be >= 0), labelled with the norms themselves."""
        norms = [r['grad_norm'] for r in self.parameters]
        logs = [math.log10(n) if n else None for n in norms]
        floor = min((math.floor(x) for x in logs if x is not None), default=0) - 1
        values = [x - floor if x is not None else 0 for x in logs]
        notes = [_norm_text(r) if r['grad_norm'] is not None or r['flag'] == 'nan/inf'
                 else r['flag'] for r in self.parameters]
        return _svg.bar_chart([r['name'] for r in self.parameters], values,
                              colors=[self._color(r) for r in self.parameters],
                              value_text=notes, title=f'grad norm (log scale, from 1e{floor})')
