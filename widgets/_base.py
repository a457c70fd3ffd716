"""NbgradWidget: the base of every nbgrad widget. Each is an ipywidgets DOMWidget whose synced
traits (plain data: lists, dicts, numbers, strings) are what its JupyterLab view draws, and each
has a static fallback, `text()` (text/plain) and `html()` (text/html with inline SVG), so that
VS Code, Colab, nbconvert HTML, a terminal IPython and nbval all show something readable.

Which of the two a notebook shows: the live view needs nbgrad's labextension (the
`nbgrad-widgets` npm package) in the front end. Without it JupyterLab would show "Failed to load
model class" in place of the widget, so the widget-view output is offered only when that
extension is installed where Jupyter looks for lab extensions, and not in a kernel that VS Code
or Colab started (they cannot load it); otherwise the static fallback is the output.
NBGRAD_WIDGETS=static or =live overrides the check (tests, other front ends).

Live updates in the static fallback: `show()` displays the widget with a display id; later trait
changes redraw that output (at most every `redraw_interval` seconds, and `flush()` draws the last
state), which is how TrainingView and GradientView animate in a plain front end.
"""
import json
import math
import os
import pathlib
import time

import ipywidgets
import traitlets

_FRONTEND = json.loads((pathlib.Path(__file__).parent / 'frontend.json').read_text())
MODULE_NAME = _FRONTEND['module']
MODULE_VERSION = _FRONTEND['version']
WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json'

_frontend_found = None


# Front ends that run kernels but cannot load a JupyterLab extension: a kernel they started has
# one of these in its environment (they would show "Error loading widget" for the live view)
_OTHER_FRONT_ENDS = {'VSCODE_PID': 'VS Code', 'VSCODE_CWD': 'VS Code',
                     'COLAB_RELEASE_TAG': 'Colab', 'COLAB_BACKEND_VERSION': 'Colab'}


def frontend_installed():
    """Whether the live views can render: NBGRAD_WIDGETS=live|static decides; else not in a
    kernel VS Code or Colab started; else whether the labextension is installed in one of
    Jupyter's data paths (checked once per process)."""
    choice = os.environ.get('NBGRAD_WIDGETS', 'auto')
    if choice in ('live', 'static'):
        return choice == 'live'
    if any(name in os.environ for name in _OTHER_FRONT_ENDS):
        return False
    global _frontend_found
    if _frontend_found is None:
        try:
            from jupyter_core.paths import jupyter_path
        except ImportError:
            _frontend_found = False
        else:
            _frontend_found = any(
                (pathlib.Path(base) / MODULE_NAME / 'package.json').is_file()
                for base in jupyter_path('labextensions'))
    return _frontend_found


class NbgradWidget(ipywidgets.DOMWidget):
    """Subclasses set _model_name/_view_name (e.g. 'GraphViewModel'/'GraphView'), declare their
    data as synced traits and implement text() and html()."""
    _model_module = traitlets.Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = traitlets.Unicode(MODULE_VERSION).tag(sync=True)
    _view_module = traitlets.Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = traitlets.Unicode(MODULE_VERSION).tag(sync=True)

    redraw_interval = 0.25      # seconds between redraws of a displayed static fallback

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._handles = []
        # never: time.monotonic() counts from boot, so 0.0 would throttle the first redraw on
        # a machine up for less than redraw_interval (see _data_changed for an infinite one)
        self._last_redraw = -math.inf
        self._pending = False
        synced = [name for name in self.trait_names(sync=True) if not name.startswith('_')]
        self.observe(self._data_changed, names=synced)

    # -- what subclasses provide ------------------------------------------------------------
    def text(self):
        raise NotImplementedError

    def html(self):
        raise NotImplementedError

    # -- display --------------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = {'text/plain': self.text(), 'text/html': self.html()}
        if frontend_installed():
            live = super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)
            if live and WIDGET_VIEW_MIME in live:
                bundle[WIDGET_VIEW_MIME] = live[WIDGET_VIEW_MIME]
        return bundle

    def __repr__(self):
        return self.text()

    def show(self):
        """Display this widget so that later changes redraw it (in the static fallback too).
        Returns None, so that a cell ending in `view.show()` does not display it twice."""
        from IPython.display import display
        handle = display(self, display_id=True)
        if handle is not None:
            self._handles.append(handle)

    def flush(self):
        """Redraw displayed static fallbacks now if a change is waiting."""
        if self._pending:
            self._redraw()

    def _data_changed(self, change):
        if not self._handles:
            return
        self._pending = True
        if frontend_installed():
            # a live view follows its model by itself; its fallbacks (what nbconvert, GitHub
            # and a notebook saved without widget state show) catch up on flush(), e.g. when
            # a training run is done
            return
        # (-inf + a finite interval is -inf: the first change redraws; -inf + inf is NaN: an
        # infinite interval redraws only on flush)
        if time.monotonic() >= self._last_redraw + self.redraw_interval:
            self._redraw()

    def _redraw(self):
        self._pending = False
        self._last_redraw = time.monotonic()
        bundle = self._repr_mimebundle_()    # (the live view's MIME type too, where there is one)
        for handle in self._handles:
            handle.update(bundle, raw=True)
