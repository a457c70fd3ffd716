"""nbgrad's widgets in JupyterLab in a real browser: notebooks/00_tour.ipynb runs in headless
Chromium and every widget's live view is checked in the DOM, against numbers nbgrad's Python
side computes for the same objects (the view must draw all of them). Screenshots of the page and
of each widget go to test-artifacts/browser/.

Needs the built extension (scripts/_venv.sh builds and links it), Playwright, and Debian's
chromium (installed with apt when missing and running as root); skipped otherwise."""
import pathlib
import shutil

import pytest

playwright = pytest.importorskip('playwright.sync_api')
from jupyter_core.paths import jupyter_path  # noqa: E402

import nbgrad  # noqa: E402

from browser_lab import (CHROMIUM_ARGS, cell_errors, chromium_or_reason, jupyterlab,  # noqa
                         open_notebook, run_all_cells, screenshot_notebook)

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / 'test-artifacts' / 'browser'
TOUR = '00_tour.ipynb'

# the views' DOM (labextension/src/views/*.ts)
WIDGET = '.nbgrad-widget'
TRAINING, TRAINING_LINE = '.nbgrad-training', '.nbgrad-training polyline'
GRAPH, GRAPH_NODE, GRAPH_EDGE = '.nbgrad-graph', '.nbgrad-graph-node', '.nbgrad-graph-edge'
GRAPH_DETAILS, GRAPH_HIGHLIGHT = '.nbgrad-graph-details', '.nbgrad-graph-highlight'
GRADIENT, GRADIENT_BAR = '.nbgrad-gradient', '.nbgrad-gradient-bar'
RNG, RNG_ROW, RNG_SNAPSHOT = '.nbgrad-rng', '.nbgrad-rng-row', '.nbgrad-rng-snapshot'
RNG_SNAPSHOT_ROW = '.nbgrad-rng-snapshot-row'
DISTRIBUTION, SLIDER, HIST_BAR = '.nbgrad-distribution', 'input.nbgrad-slider', '.nbgrad-hist-bar'
PROFILER, PROFILER_ROW = '.nbgrad-profiler', '.nbgrad-profiler-row'
PROFILER_HEADER = '.nbgrad-profiler-table th[data-sort]'
# a view that failed to load (ipywidgets 8 draws an error icon; a missing model is text)
LOAD_ERROR = ('.jupyter-widgets-error-widget, '
              '.jp-OutputArea-output:has-text("Error displaying widget")')


def _extension_installed():
    return any((pathlib.Path(p) / 'nbgrad-widgets' / 'package.json').is_file()
               for p in jupyter_path('labextensions'))


@pytest.fixture(scope='module')
def tour(tmp_path_factory):
    """The tour, run in JupyterLab in Chromium: yields the Playwright page."""
    if not _extension_installed():
        pytest.skip('the nbgrad-widgets labextension is not built/installed (scripts/_venv.sh)')
    chromium, why_not = chromium_or_reason()
    if chromium is None:
        pytest.skip(why_not)
    notebooks = tmp_path_factory.mktemp('notebooks')
    shutil.copy(ROOT / 'notebooks' / TOUR, notebooks / TOUR)   # (the repo's copy stays as is)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with jupyterlab(notebooks, tmp_path_factory.mktemp('lab')) as url, \
            playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1280, 'height': 1000})
        page.nbgrad_browser = browser
        errors = []
        page.on('pageerror', lambda e: errors.append(str(e)))
        open_notebook(page, url, TOUR)
        run_all_cells(page)
        page.wait_for_timeout(1000)          # (the last views draw)
        screenshot_notebook(page, ARTIFACTS / 'tour.png')
        page.nbgrad_errors = errors
        page.nbgrad_url, page.nbgrad_folder = url, notebooks
        yield page
        browser.close()


def _shot(element, name):
    element.scroll_into_view_if_needed()
    element.screenshot(path=str(ARTIFACTS / f'{name}.png'))


def test_every_cell_ran_and_every_widget_has_a_live_view(tour):
    assert cell_errors(tour) == []         # (from the notebook's model: the DOM shows stderr)
    assert tour.locator(LOAD_ERROR).count() == 0
    kinds = tour.eval_on_selector_all(WIDGET, 'els => els.map(e => [...e.classList])')
    shown = {c for classes in kinds for c in classes if c.startswith('nbgrad-')} - {
        'nbgrad-widget'}
    assert {'nbgrad-training', 'nbgrad-graph', 'nbgrad-gradient', 'nbgrad-rng',
            'nbgrad-distribution', 'nbgrad-profiler'} <= shown
    assert tour.nbgrad_errors == []


def test_training_views_draw_their_curves(tour):
    views = tour.locator(TRAINING)
    assert views.count() >= 2                       # %%model --fit and the hand-written loop
    for i in range(views.count()):
        assert views.nth(i).locator('polyline').count() >= 1
    _shot(views.first, 'training')


def _residual_graph_size():
    """The graph GraphView(residual, X[:8]) exports in Python, for the same architecture."""
    from nbgrad.widgets import GraphView

    class Residual(nbgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.hidden = nbgrad.nn.Linear(2, 64), nbgrad.nn.Linear(64, 64)
            self.out = nbgrad.nn.Linear(64, 3)

        def forward(self, x):
            h = nbgrad.nn.functional.relu(self.inp(x))
            h = h + nbgrad.nn.functional.relu(self.hidden(h))
            return self.out(h)
    graph = GraphView(Residual(), nbgrad.randn(8, 2)).graph
    return len(graph['nodes']), len(graph['edges'])


def test_the_graph_has_one_element_per_node_and_edge(tour):
    graph = tour.locator(GRAPH).first
    nodes, edges = _residual_graph_size()
    assert graph.locator(GRAPH_NODE).count() == nodes
    assert graph.locator(GRAPH_EDGE).count() == edges
    _shot(graph, 'graph')
    # clicking a parameter: its details, and the path from it to the output highlighted
    graph.locator(f'{GRAPH_NODE}.nbgrad-graph-param').first.click()
    assert graph.locator(GRAPH_DETAILS).is_visible()
    assert graph.locator(f'{GRAPH_NODE}{GRAPH_HIGHLIGHT}').count() >= 3
    _shot(graph, 'graph_selected')


def test_the_gradient_view_has_a_bar_per_parameter(tour):
    view = tour.locator(GRADIENT).first
    assert view.locator(GRADIENT_BAR).count() == 6     # 3 Linear layers: weight and bias each
    _shot(view, 'gradients')


def test_rng_view_rows_snapshot_and_restore_buttons(tour):
    view = tour.locator(RNG).first
    generators = 1 + (nbgrad.cuda.device_count() if nbgrad.cuda.is_available() else 0)
    assert view.locator(RNG_ROW).count() == generators
    before = view.locator(RNG_SNAPSHOT_ROW).count()
    view.locator(RNG_SNAPSHOT).first.click()
    tour.wait_for_function(
        f'document.querySelectorAll("{RNG} {RNG_SNAPSHOT_ROW}").length > {before}',
        timeout=15_000)
    snapshot = view.locator(RNG_SNAPSHOT_ROW).last
    # (the view redraws its rows on every change: look the cell up afresh each time)
    fingerprint = f'document.querySelector("{RNG} {RNG_ROW} td:nth-child(5)").innerText'
    taken = tour.evaluate(fingerprint)
    assert 'current' in snapshot.get_attribute('class')
    # draws move the state away from the snapshot; Restore brings it back
    view.locator('.nbgrad-rng-demonstrate').click()
    tour.wait_for_function(f'() => {fingerprint} !== "{taken}"', timeout=15_000)
    assert 'current' not in view.locator(RNG_SNAPSHOT_ROW).last.get_attribute('class')
    view.locator(RNG_SNAPSHOT_ROW).last.locator('.nbgrad-rng-restore').click()
    tour.wait_for_function(f'() => {fingerprint} === "{taken}"', timeout=15_000)
    assert 'current' in view.locator(RNG_SNAPSHOT_ROW).last.get_attribute('class')
    _shot(view, 'rng')


def _bar_heights(view):
    return view.locator(HIST_BAR).evaluate_all('bars => bars.map(b => b.getAttribute("height"))')


def test_a_distribution_slider_moves_and_the_histogram_redraws(tour):
    view = tour.locator(DISTRIBUTION).first
    _shot(view, 'distribution')
    before = _bar_heights(view)
    assert len(before) > 0
    slider = view.locator(SLIDER).first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    title = view.locator('.nbgrad-title').inner_text()
    tour.mouse.click(box['x'] + box['width'] * 0.8, box['y'] + box['height'] / 2)
    # the kernel resamples from the new parameters: a new title (the distribution's repr, with
    # the slider's value) and new bars
    for _ in range(150):
        if view.locator('.nbgrad-title').inner_text() != title and _bar_heights(view) != before:
            break
        tour.wait_for_timeout(100)
    new_title = view.locator('.nbgrad-title').inner_text()
    assert new_title != title and _bar_heights(view) != before
    # the title is the new distribution's repr: its concentration is the slider's value
    moved = float(view.locator(SLIDER).first.input_value())
    shown = float(new_title.split('concentration: ')[1].split(',')[0])
    assert abs(shown - moved) <= 1e-6 * moved             # (float32 in the repr)
    _shot(view, 'distribution_moved')


def _calls(view):
    return [int(c) for c in view.locator(f'{PROFILER_ROW} td[data-field="calls"]').evaluate_all(
        'cells => cells.map(c => c.textContent)')]


def test_the_profiler_table_has_rows_and_sorts_on_click(tour):
    view = tour.locator(PROFILER).first
    rows = view.locator(PROFILER_ROW)
    assert rows.count() >= 3
    header = view.locator(f'{PROFILER_HEADER}[data-sort="count"]')
    assert 'sorted' not in (header.get_attribute('class') or '')   # (the tour sorts by time)
    before = _calls(view)
    header.click()
    # the view re-sorts at once and marks the header; the kernel's rows, sorted by the same key,
    # then replace them. (Waiting for the first row to change would be timing-dependent: the
    # op that took longest may also be the one called most.)
    view.locator(f'{PROFILER_HEADER}[data-sort="count"].sorted').wait_for(timeout=15_000)
    counts = _calls(view)
    assert len(counts) == len(before) and counts == sorted(counts, reverse=True)
    # %%profile counts FLOPs: the column shows them with a unit (the linear layers' products)
    assert view.locator(f'{PROFILER_HEADER}[data-sort="flops"]').count() == 1
    flops = view.locator(f'{PROFILER_ROW} td[data-field="flops"]').evaluate_all(
        'cells => cells.map(c => c.textContent)')
    assert any(text.endswith('FLOPs') for text in flops)
    _shot(view, 'profiler')


def test_model_cells_are_highlighted_as_python(tour):
    """A %%model body is Python (layer calls, a class body): the notebook's Python mode
    highlights it with no help from the extension. The body's numbers and brackets get token
    spans, as in any Python cell."""
    cell = tour.locator('.jp-CodeCell', has_text='%%model net').first
    cell.scroll_into_view_if_needed()            # (the notebook draws the cells in view)
    body_line = cell.locator('.cm-line').nth(1)                      # Linear(2, 64)
    for _ in range(50):                          # (CodeMirror fills lines in as they show)
        if body_line.inner_text():
            break
        tour.wait_for_timeout(100)
    assert body_line.inner_text() == 'Linear(2, 64)'
    assert body_line.locator('span').count() >= 4
    spirals = tour.locator('.jp-CodeCell', has_text='def spirals').first
    spirals.scroll_into_view_if_needed()
    python = spirals.locator('.cm-line').first
    for _ in range(50):
        if python.inner_text():
            break
        tour.wait_for_timeout(100)
    number_class = python.locator('span', has_text='0.2').first.get_attribute('class')
    assert body_line.locator('span', has_text='64').first.get_attribute('class') == number_class


def test_a_big_graph_is_laid_out_in_a_web_worker(tour):
    """Laying out hundreds of nodes takes dagre a second or more: the view does it in a Web
    Worker, and then draws every node."""
    import nbformat
    depth = 60
    source = ('import nbgrad\nfrom nbgrad.widgets import GraphView\n'
              f'layers = [m for _ in range({depth}) for m in (nbgrad.nn.Linear(4, 4), '
              'nbgrad.nn.Tanh())]\n'
              'GraphView(nbgrad.nn.Sequential(*layers), (2, 4))')
    notebook = nbformat.v4.new_notebook()
    notebook.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3',
                                       'language': 'python'}
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, str(tour.nbgrad_folder / 'big_graph.ipynb'))
    page = tour.nbgrad_browser.new_page(viewport={'width': 1280, 'height': 1000})
    workers = []
    page.on('worker', lambda worker: workers.append(worker.url))
    open_notebook(page, tour.nbgrad_url, 'big_graph.ipynb')
    run_all_cells(page)
    graph = page.locator(GRAPH).first
    # parameters 2 per Linear, an addmm per Linear, a tanh per Tanh, and the output
    expected = 2 * depth + depth + depth + 1
    graph.locator(GRAPH_NODE).nth(expected - 1).wait_for(timeout=30_000)
    assert graph.locator(GRAPH_NODE).count() == expected
    assert len(workers) == 1
    _shot(graph, 'graph_big')
    page.close()
