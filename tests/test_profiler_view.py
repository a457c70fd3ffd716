"""ProfilerView against the profile it shows (key_averages(), table()), against PyTorch's profiler
run on the same model, and against hand counts."""
import html
import re

import numpy as np
import pytest

import nbgrad
from nbgrad.autograd import profiler as autograd_profiler
from nbgrad.profiler import profile, record_function
pytest.importorskip('ipywidgets')     # (the notebook extras; absent on the GPU machine)
from nbgrad.widgets._base import WIDGET_VIEW_MIME  # noqa: E402
from nbgrad.widgets.profiler_view import SORT_KEYS, ProfilerView  # noqa: E402

torch = pytest.importorskip('torch')


def mlp(nn):
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.fixture(scope='module')
def trained():
    """A forward and backward of an MLP, profiled with module ranges, shapes and memory."""
    nbgrad.manual_seed(0)
    model = mlp(nbgrad.nn)
    x = nbgrad.randn(3, 4)
    with profile(with_modules=True, record_shapes=True, profile_memory=True) as prof:
        with record_function('step <&>'):
            model(x).sum().backward()
    return prof, model


def table_names(table):
    """The Name column of a key_averages().table(), top to bottom."""
    lines = table.splitlines()
    body = lines[3:lines.index(lines[0], 3)]
    return [line[:55].strip() for line in body]


def clipped(name):
    return name if len(name) < 52 else name[:52] + '...'     # (table()'s name column)


def test_rows_are_the_key_averages(trained):
    prof, _ = trained
    view = ProfilerView(prof, row_limit=-1)
    averages = {a.key: a for a in prof.key_averages()}
    assert sorted(r['name'] for r in view.rows) == sorted(averages)
    for row in view.rows:
        avg = averages[row['name']]
        assert row['calls'] == avg.count
        assert row['self_cpu_us'] == avg.self_cpu_time_total
        assert row['cpu_total_us'] == avg.cpu_time_total
        assert row['cpu_avg_us'] == pytest.approx(avg.cpu_time_total / avg.count)
        assert row['cpu_memory_bytes'] == avg.cpu_memory_usage
        assert row['self_cuda_us'] == 0 and row['input_shapes'] is None
    total = prof.key_averages().self_cpu_time_total
    assert view.totals == {'self_cpu_us': total, 'cuda_us': 0.0, 'events': len(prof.events())}
    assert sum(r['self_cpu_share'] for r in view.rows) == pytest.approx(100)
    kinds = {r['name']: r['kind'] for r in view.rows}
    assert kinds['aten::linear'] == 'op' and kinds['AddmmBackward0'] == 'backward'
    assert kinds['nn.Module: Linear_0'] == 'module' and kinds['step <&>'] == 'user'


@pytest.mark.parametrize('sort_by', ['self_cpu_time_total', 'cpu_time_total', 'count',
                                     'cpu_memory_usage', 'cpu_time'])
def test_rows_sort_as_the_table_does(trained, sort_by):
    prof, _ = trained
    view = ProfilerView(prof, sort_by=sort_by, row_limit=-1)
    table = prof.key_averages().table(sort_by=sort_by, row_limit=-1)
    assert [clipped(r['name']) for r in view.rows] == table_names(table)
    field = SORT_KEYS[sort_by]
    values = [r[field] for r in view.rows]
    assert values == sorted(values, reverse=True)


def test_the_view_writing_sort_by_and_row_limit_resorts(trained):
    prof, _ = trained
    view = ProfilerView(prof, row_limit=5)
    assert len(view.rows) == 5
    view.sort_by = 'count'       # what a click on the '# of Calls' header does
    table = prof.key_averages().table(sort_by='count', row_limit=5)
    assert [clipped(r['name']) for r in view.rows] == table_names(table)
    view.row_limit = 2
    assert [r['name'] for r in view.rows] == \
        [a.key for a in sorted(prof.key_averages(), key=lambda a: a.count, reverse=True)][:2]
    assert {c['key']: c['field'] for c in view.columns}.items() <= SORT_KEYS.items()


def test_hand_count_of_an_mlp_forward_matches_pytorchs_profiler():
    nbgrad.manual_seed(0)
    model = mlp(nbgrad.nn)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with profile() as prof:
        model(nbgrad.tensor(x))
    counts = {r['name']: r['calls'] for r in ProfilerView(prof, row_limit=-1).rows}
    assert counts == {'aten::linear': 2, 'aten::relu': 1}        # 2 Linear + 1 ReLU, by hand
    torch_model = mlp(torch.nn)
    with torch.profiler.profile() as torch_prof:
        torch_model(torch.tensor(x))
    torch_counts = {a.key: a.count for a in torch_prof.key_averages()}
    assert {name: torch_counts[name] for name in counts} == counts


def test_module_breakdown_covers_the_models_modules(trained):
    prof, model = trained
    view = ProfilerView(prof)
    paths = {path: type(m).__name__ for path, m in model.named_modules()}
    assert {m['path']: m['type'] for m in view.modules} == paths
    ranges = {e.name: e for e in prof.events() if e.name.startswith('nn.Module: ')}
    for m in view.modules:
        forward = ranges['nn.Module: ' + m['name']]
        assert m['calls'] == 1 and m['cpu_total_us'] == forward.cpu_time_total
        assert m['share'] == pytest.approx(100 * forward.cpu_time_total /
                                           view.totals['self_cpu_us'])
        assert m['backward_calls'] == 1
        assert m['backward_us'] == ranges['nn.Module: ' + m['name'] + ' (backward)'] \
            .cpu_time_total
    # PyTorch's profiler sees the same modules, one range per class instance
    torch_model = mlp(torch.nn)
    with torch.profiler.profile(with_modules=True, with_stack=True) as torch_prof:
        torch_model(torch.randn(3, 4))
    torch_modules = sorted(re.sub(r'_\d+$', '', a.key[len('nn.Module: '):])
                           for a in torch_prof.key_averages() if a.key.startswith('nn.Module: '))
    assert sorted(m['type'] for m in view.modules) == torch_modules


class _Odd_Block(nbgrad.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_in = nbgrad.nn.Linear(2, 2)
        self.inner = nbgrad.nn.Sequential(nbgrad.nn.Tanh())

    def forward(self, x):
        return self.inner(self.fc_in(x))


def test_module_paths_with_underscores():
    model = nbgrad.nn.Sequential(_Odd_Block())
    with profile(with_modules=True) as prof:
        model(nbgrad.ones(1, 2))
    want = {path: type(m).__name__ for path, m in model.named_modules()}
    exact = ProfilerView(prof, model=model).modules
    assert {m['path']: m['type'] for m in exact} == want
    # without the model, names are read as Class_path: right for CamelCase classes only
    guessed = {m['path']: m['type'] for m in ProfilerView(prof).modules}
    assert {p: t for p, t in guessed.items() if '_Odd' not in t} == \
        {p: t for p, t in want.items() if t != '_Odd_Block'}


def test_no_module_ranges_without_with_modules():
    with profile() as prof:
        mlp(nbgrad.nn)(nbgrad.ones(1, 4))
    view = ProfilerView(prof)
    assert view.modules == []
    assert 'By module' not in view.text() and 'By module' not in view.html()


def test_group_by_input_shape(trained):
    prof, _ = trained
    view = ProfilerView(prof, group_by_input_shape=True, row_limit=-1)
    grouped = prof.key_averages(group_by_input_shape=True)
    assert sorted((r['name'], str(r['input_shapes'])) for r in view.rows) == \
        sorted((a.key, str(a.input_shapes)) for a in grouped)
    linear = [r['input_shapes'] for r in view.rows if r['name'] == 'aten::linear']
    assert sorted(linear) == [[[3, 4], [8, 4], [8]], [[3, 8], [2, 8], [2]]]
    assert 'Input Shapes' in view.text() and 'Input Shapes' in view.html()


def test_autograd_profiler_profile_and_an_event_list_work_too(trained):
    with autograd_profiler.profile() as prof:
        nbgrad.ones(3).exp()
    view = ProfilerView(prof)
    assert sorted((r['name'], r['calls']) for r in view.rows) == [('aten::exp', 1),
                                                                 ('aten::ones', 1)]
    prof, _ = trained
    assert ProfilerView(prof.events()).rows == ProfilerView(prof).rows


def test_fallbacks(trained, monkeypatch):
    prof, _ = trained
    view = ProfilerView(prof, sort_by='cpu_time_total', row_limit=7)
    text = view.text()
    assert prof.key_averages().table(sort_by='cpu_time_total', row_limit=7) in text + '\n'
    assert text.startswith(f'Profile: {len(prof.events())} events')
    assert '(model)  Sequential' in text and re.search(r'\n2 +Linear +1 ', text)
    page = view.html()
    assert page.count('<svg') == 2 and 'CPU total \u25bc' in page
    assert 'step &lt;&amp;&gt;' in page and 'step <&>' not in page
    for row in view.rows:
        assert html.escape(row['name']) in page
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html'}
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html', WIDGET_VIEW_MIME}


def test_an_empty_profile():
    with profile() as prof:
        pass
    view = ProfilerView(prof)
    assert view.rows == [] and view.modules == [] and view.totals['events'] == 0
    assert 'no events recorded' in view.text() and 'no events recorded' in view.html()


def test_errors(trained):
    prof, _ = trained
    with pytest.raises(ValueError, match="sort_by='self_cpu'.*self_cpu_time_total"):
        ProfilerView(prof, sort_by='self_cpu')
    with pytest.raises(ValueError, match='row_limit must be an int'):
        ProfilerView(prof, row_limit='10')
    view = ProfilerView(prof, row_limit=3)
    rows = view.rows
    with pytest.raises(ValueError, match='count, cpu_memory_usage'):
        view.sort_by = 'name'
    assert view.sort_by == 'self_cpu_time_total' and view.rows == rows
    with pytest.raises(TypeError, match='needs an nbgrad.profiler.profile'):
        ProfilerView(nbgrad.nn.Linear(1, 1))
    with pytest.raises(TypeError, match='not key_averages'):
        ProfilerView(prof.key_averages())
    running = profile()
    running.start()
    try:
        with pytest.raises(RuntimeError, match='needs a finished profile'):
            ProfilerView(running)
    finally:
        running.stop()
    with pytest.raises(RuntimeError, match='needs a finished profile'):
        ProfilerView(profile())


def test_a_title_naming_the_order_follows_a_new_sort_key():
    with nbgrad.profiler.profile() as prof:
        nbgrad.ones(3, 3).relu().sum()
    view = ProfilerView(prof, title='nbgrad profile (sorted by self_cpu_time_total, top 5)')
    view.sort_by = 'count'
    assert view.title == 'nbgrad profile (sorted by count, top 5)'


def test_flops_column():
    """profile(with_flops=True): a Total FLOPs column with PyTorch's counts (hand-counted
    here: 2 * rows * in * out per linear layer), sortable; without with_flops, no column."""
    nbgrad.manual_seed(0)
    model = mlp(nbgrad.nn)
    with profile(with_flops=True) as prof:
        model(nbgrad.randn(3, 4))
    view = ProfilerView(prof, sort_by='flops')
    assert view.rows[0]['name'] == 'aten::linear'
    assert view.rows[0]['flops'] == 2 * 3 * 4 * 8 + 2 * 3 * 8 * 2
    assert {'key': 'flops', 'field': 'flops', 'label': 'Total FLOPs'} in view.columns
    headers, rows = view._ops_table()
    assert headers[-1] == 'Total FLOPs \u25bc' and rows[0][-1] == '288 FLOPs'
    assert 'Total FLOPs' in view.text()
    with profile() as plain:
        model(nbgrad.randn(3, 4))
    assert 'Total FLOPs' not in ProfilerView(plain)._ops_table()[0]
