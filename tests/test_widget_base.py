"""The widget base: which outputs a widget offers (static fallback, live view when nbgrad's
labextension is installed where Jupyter looks), and redrawing a shown static fallback."""
import json
import pathlib

import pytest

pytest.importorskip('ipywidgets')
import traitlets  # noqa: E402
from IPython.testing.globalipapp import start_ipython  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from nbgrad.widgets import _base  # noqa: E402


class Counter(_base.NbgradWidget):
    _model_name = traitlets.Unicode('CounterModel').tag(sync=True)
    _view_name = traitlets.Unicode('CounterView').tag(sync=True)
    value = traitlets.Int(0).tag(sync=True)

    def text(self):
        return f'count {self.value}'

    def html(self):
        return f'<b>count {self.value}</b>'


@pytest.fixture
def auto(monkeypatch, tmp_path):
    """Detection by Jupyter's data paths, here only tmp_path (the result is cached per
    process: cleared before and after)."""
    import jupyter_core.paths
    monkeypatch.delenv('NBGRAD_WIDGETS', raising=False)
    monkeypatch.setattr(_base, '_frontend_found', None)
    monkeypatch.setattr(jupyter_core.paths, 'jupyter_path',
                        lambda *parts: [str(tmp_path.joinpath(*parts))])
    yield
    _base._frontend_found = None


def test_frontend_name_and_version_come_from_frontend_json():
    spec = json.loads((pathlib.Path(_base.__file__).parent / 'frontend.json').read_text())
    widget = Counter()
    assert (widget._model_module, widget._model_module_version) == (spec['module'],
                                                                    spec['version'])
    assert (widget._view_module, widget._view_module_version) == (spec['module'],
                                                                  spec['version'])


def test_static_fallback_without_the_labextension(auto):
    bundle = Counter(value=3)._repr_mimebundle_()
    assert bundle == {'text/plain': 'count 3', 'text/html': '<b>count 3</b>'}


def test_live_view_when_the_labextension_is_installed(auto, tmp_path):
    extension = tmp_path / 'labextensions' / _base.MODULE_NAME
    extension.mkdir(parents=True)
    (extension / 'package.json').write_text('{}')
    widget = Counter(value=3)
    bundle = widget._repr_mimebundle_()
    assert bundle['text/plain'] == 'count 3' and bundle['text/html'] == '<b>count 3</b>'
    view = bundle[_base.WIDGET_VIEW_MIME]
    assert view['model_id'] == widget.model_id


@pytest.mark.parametrize('choice, live', [('live', True), ('static', False)])
def test_the_environment_variable_decides(monkeypatch, choice, live):
    monkeypatch.setenv('NBGRAD_WIDGETS', choice)
    assert (_base.WIDGET_VIEW_MIME in Counter()._repr_mimebundle_()) is live


def test_a_shown_static_fallback_is_redrawn_on_changes(monkeypatch):
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    start_ipython()
    widget = Counter()
    widget.redraw_interval = 3600          # only the first change redraws at once
    with capture_output() as captured:
        widget.show()
        widget.value = 1                   # redrawn now (nothing drawn since show)
        widget.value = 2                   # throttled: waits
        widget.value = 3
        widget.flush()                     # the last state
        widget.flush()                     # nothing waiting: no redraw
    shown = [output.data['text/plain'] for output in captured.outputs]
    assert shown == ['count 0', 'count 1', 'count 3']


@pytest.mark.parametrize('variable', ['VSCODE_PID', 'COLAB_RELEASE_TAG'])
def test_kernels_of_front_ends_without_the_extension_get_the_fallback(auto, tmp_path,
                                                                      monkeypatch, variable):
    extension = tmp_path / 'labextensions' / _base.MODULE_NAME
    extension.mkdir(parents=True)
    (extension / 'package.json').write_text('{}')
    monkeypatch.setenv(variable, '1')
    assert _base.WIDGET_VIEW_MIME not in Counter()._repr_mimebundle_()
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')          # unless asked for
    assert _base.WIDGET_VIEW_MIME in Counter()._repr_mimebundle_()


def test_a_live_views_fallbacks_catch_up_on_flush(monkeypatch):
    """With the labextension the live view follows its model, and changes do not redraw; a
    flush (a finished training run) brings the saved fallbacks (what nbconvert, GitHub and a
    notebook saved without widget state show) up to the final state, live view included."""
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    start_ipython()
    widget = Counter()
    with capture_output() as captured:
        widget.show()
        widget.value = 1
        widget.value = 2                   # not drawn: the live view shows it
        widget.flush()                     # the fallbacks catch up once
        widget.flush()                     # nothing waiting: no redraw
    shown = [output.data['text/plain'] for output in captured.outputs]
    assert shown == ['count 0', 'count 2']
    assert _base.WIDGET_VIEW_MIME in captured.outputs[-1].data
