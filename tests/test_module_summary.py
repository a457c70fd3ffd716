"""module_summary / module_summary_text / module_summary_html, checked against PyTorch: each
model is built twice from the same code, with nbgrad.nn and torch.nn, and every number comes
from the torch model's own named_modules(), parameters() and buffers()."""
import re

import pytest

import nbgrad
from nbgrad.widgets.module_summary import (module_summary, module_summary_html,
                                           module_summary_text)

torch = pytest.importorskip('torch')


def cnn(nn):
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Sequential(nn.Flatten(), nn.Linear(8, 4), nn.LayerNorm(4)),
                          nn.Linear(4, 2))
    for p in model[0].parameters():        # a frozen stem
        p.requires_grad_(False)
    model[3][2].bias.requires_grad_(False)
    return model


def tied(nn):
    model = nn.Module()
    model.embed = nn.Embedding(10, 6)
    model.head = nn.Linear(6, 10, bias=False)
    model.head.weight = model.embed.weight         # a parameter shared by two modules
    model.extra = model.head                        # and a module reachable twice
    return model


def both(build):
    return build(nbgrad.nn), build(torch.nn)


def numel(tensors):
    return sum(t.numel() for t in tensors)


@pytest.mark.parametrize('build', [cnn, tied])
def test_rows_and_totals_match_torch(build):
    ours, theirs = both(build)
    summary = module_summary(ours)
    torch_modules = list(theirs.named_modules())
    assert [r['path'] for r in summary['rows']] == [path for path, _ in torch_modules]
    for row, (path, m) in zip(summary['rows'], torch_modules):
        own = [p for _, p in m.named_parameters(recurse=False)]
        assert row['type'] == type(m).__name__
        assert row['params'] == numel(own)
        assert row['trainable'] == numel(p for p in own if p.requires_grad)
        assert row['frozen'] == numel(p for p in own if not p.requires_grad)
        assert row['buffers'] == numel(b for _, b in m.named_buffers(recurse=False))
        assert row['extra_repr'] == m.extra_repr()
        assert row['depth'] == (0 if not path else len(path.split('.')))
    params, buffers = list(theirs.parameters()), list(theirs.buffers())
    totals = summary['totals']
    assert totals['params'] == numel(params)
    assert totals['trainable'] == numel(p for p in params if p.requires_grad)
    assert totals['frozen'] == numel(p for p in params if not p.requires_grad)
    assert totals['buffers'] == numel(buffers)
    assert totals['bytes'] == sum(t.numel() * t.element_size() for t in params + buffers)
    assert totals['size_mb'] == totals['bytes'] / 1e6


def test_frozen_parameters_by_hand():
    model = cnn(nbgrad.nn)
    rows = {r['path']: r for r in module_summary(model)['rows']}
    assert (rows['0']['trainable'], rows['0']['frozen']) == (0, 3 * 8 * 9 + 8)
    assert (rows['3.2']['trainable'], rows['3.2']['frozen']) == (4, 4)
    assert module_summary(model)['totals']['frozen'] == 3 * 8 * 9 + 8 + 4


def test_size_per_dtype():
    ours, theirs = both(cnn)
    ours[4].double()
    theirs[4].double()
    by_dtype = {}
    for t in list(theirs.parameters()) + list(theirs.buffers()):
        name = str(t.dtype).replace('torch.', '')
        by_dtype[name] = by_dtype.get(name, 0) + t.numel() * t.element_size()
    assert module_summary(ours)['totals']['bytes_by_dtype'] == by_dtype
    assert set(by_dtype) == {'float32', 'float64', 'int64'}
    assert '(float32 ' in module_summary_text(ours)


def test_text():
    ours, theirs = both(cnn)
    text = module_summary_text(ours)
    lines = text.splitlines()
    assert lines[0] == 'Sequential' and lines[1].split() == [
        'Module', 'Type', 'Params', 'Trainable', 'Frozen', 'Buffers', 'Extra']
    body = lines[3:3 + len(list(theirs.named_modules()))]
    for line, (path, m) in zip(body, theirs.named_modules()):
        assert line.split()[:2] == [path or '(model)', type(m).__name__]
    total = numel(theirs.parameters())
    trainable = numel(p for p in theirs.parameters() if p.requires_grad)
    assert f'Total params: {total:,} (trainable {trainable:,}, frozen {total - trainable:,})' \
        in text
    assert f'Buffers: {numel(theirs.buffers()):,} elements' in text


def test_html_escapes_names():
    model = nbgrad.nn.Sequential()
    model.add_module('<img src=x onerror=alert(1)>', nbgrad.nn.Linear(2, 3))
    page = module_summary_html(model)
    assert '<img' not in page and '&lt;img src=x onerror=alert(1)&gt;' in page
    assert page.startswith('<div class="nbgrad-module-summary"><table')
    assert len(re.findall('<tr>', page)) == 1 + 2      # header + the model + the Linear
    assert 'Total params: 9 (trainable 9, frozen 0)' in page


def test_not_a_module():
    with pytest.raises(TypeError, match='needs an nn.Module, got Tensor'):
        module_summary(nbgrad.ones(2))
