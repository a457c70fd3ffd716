"""RNGView: generator seeds and state fingerprints, snapshots, restore and the draw-restore-draw
demonstration, checked against PyTorch's CPU generator (nbgrad's is PyTorch's bit for bit)."""
import hashlib
import json

import numpy as np
import pytest
import torch

import nbgrad
pytest.importorskip('ipywidgets')     # (the notebook extras; absent on the GPU machine)
from nbgrad.widgets._base import WIDGET_VIEW_MIME  # noqa: E402
from nbgrad.widgets.rng_view import RNGView  # noqa: E402


def torch_fingerprint():
    """16 hex digits of the SHA-256 of PyTorch's CPU generator state (computed here, from
    PyTorch, not by the widget)."""
    return hashlib.sha256(torch.get_rng_state().numpy().tobytes()).hexdigest()[:16]


def seed_both(seed):
    nbgrad.manual_seed(seed)
    torch.manual_seed(seed)


def cpu(view):
    rows = [g for g in view.generators if g['name'] == 'cpu']
    assert len(rows) == 1
    return rows[0]


def test_cpu_generator_is_pytorchs():
    seed_both(1234)
    nbgrad.rand(7)
    nbgrad.randn(3)             # leaves a cached Box-Muller sample in the state
    torch.rand(7)
    torch.randn(3)
    view = RNGView()
    row = cpu(view)
    assert row['initial_seed'] == str(torch.initial_seed()) == '1234'
    assert row['kind'] == 'mt19937' and row['offset'] is None
    assert row['state_bytes'] == torch.get_rng_state().numel()
    assert row['fingerprint'] == torch_fingerprint()
    assert nbgrad.get_rng_state().numpy().tobytes() == torch.get_rng_state().numpy().tobytes()


def test_seed_larger_than_javascript_integers():
    seed_both(2 ** 63 + 5)
    assert cpu(RNGView())['initial_seed'] == str(torch.initial_seed()) == str(2 ** 63 + 5)


def test_fingerprint_changes_after_a_draw_and_returns_after_restore():
    seed_both(7)
    view = RNGView()
    start = cpu(view)['fingerprint']
    assert start == torch_fingerprint()
    index = view.snapshot('start')
    assert index == 0 and view.snapshots[0]['fingerprints'] == {
        g['name']: g['fingerprint'] for g in view.generators}
    first = nbgrad.rand(5).numpy()
    torch.rand(5)
    view.refresh()
    assert cpu(view)['fingerprint'] != start
    assert cpu(view)['fingerprint'] == torch_fingerprint()
    view.restore('start')
    assert cpu(view)['fingerprint'] == start
    np.testing.assert_array_equal(nbgrad.rand(5).numpy(), first)


def test_restore_by_index_replays_pytorchs_numbers():
    seed_both(99)
    view = RNGView()
    view.snapshot()
    nbgrad.rand(3)
    view.snapshot()
    assert [s['label'] for s in view.snapshots] == ['snapshot 0', 'snapshot 1']
    saved = torch.get_rng_state()           # PyTorch at the first snapshot
    torch.rand(3)
    nbgrad.randn(10)
    view.restore(0)
    torch.set_rng_state(saved)
    np.testing.assert_array_equal(nbgrad.rand(4).numpy(), torch.rand(4).numpy())
    view.restore(-1)                        # the last snapshot: after rand(3)
    torch.set_rng_state(saved)
    torch.rand(3)
    np.testing.assert_array_equal(nbgrad.randn(4).numpy(), torch.randn(4).numpy())
    # the text marks which snapshot the generators are at now
    view.restore(1)
    rows = [line.split() for line in view.text().splitlines() if line.startswith(('0 ', '1 '))]
    assert [row[-1] for row in rows] == ['no', 'yes']


def test_demonstration_reproduces_pytorchs_numbers():
    seed_both(5)
    view = RNGView()
    start = torch_fingerprint()
    view.demonstrate(6)
    expected = torch.rand(6).tolist()
    assert view.demo['before'] == expected
    assert view.demo['after_restore'] == expected
    assert view.demo['equal'] is True and view.demo['n'] == 6
    assert view.demo['fingerprint'] == start
    # the generators end one draw further, as PyTorch's after one rand(6)
    assert cpu(view)['fingerprint'] == torch_fingerprint()
    text = view.text()
    assert 'same numbers:   yes' in text
    assert f'demonstration: state {start}, nbgrad.rand(6)' in text


def test_custom_messages():
    seed_both(11)
    view = RNGView()
    view._handle_custom_msg({'action': 'snapshot', 'label': 'a'}, [])
    assert view.error == '' and [s['label'] for s in view.snapshots] == ['a']
    first = nbgrad.rand(3).numpy()
    view._handle_custom_msg({'action': 'refresh'}, [])
    torch.rand(3)
    assert cpu(view)['fingerprint'] == torch_fingerprint()
    view._handle_custom_msg({'action': 'restore', 'index': 0}, [])
    assert view.error == ''
    np.testing.assert_array_equal(nbgrad.rand(3).numpy(), first)
    view._handle_custom_msg({'action': 'restore', 'label': 'a'}, [])
    np.testing.assert_array_equal(nbgrad.rand(3).numpy(), first)
    view._handle_custom_msg({'action': 'demonstrate', 'n': 3}, [])
    assert view.error == '' and view.demo['equal'] and len(view.demo['before']) == 3


@pytest.mark.parametrize('content, message', [
    ({'action': 'explode'}, "unknown action 'explode'"),
    ({}, 'unknown action None'),
    ('snapshot', 'unknown action None'),
    ({'action': 'restore', 'index': 5}, 'snapshot index 5 out of range: there are 1 snapshots'),
    ({'action': 'restore', 'label': 'zz'}, "no snapshot labelled 'zz'; labels: 'first'"),
    ({'action': 'restore', 'index': '0'}, 'restore expects a snapshot index'),
    ({'action': 'snapshot', 'label': 'first'}, "already labelled 'first'"),
    ({'action': 'demonstrate', 'n': 0}, r'n must be an int in [1, 1000], got 0'),
])
def test_bad_messages_set_error_and_change_nothing(content, message):
    view = RNGView()
    view.snapshot('first')
    state = nbgrad.get_rng_state().numpy().tobytes()
    snapshots, demo = list(view.snapshots), dict(view.demo)
    view._handle_custom_msg(content, [])
    assert message in view.error
    assert view.snapshots == snapshots and view.demo == demo
    assert nbgrad.get_rng_state().numpy().tobytes() == state
    assert f'error: {view.error}' in view.text()
    view._handle_custom_msg({'action': 'refresh'}, [])
    assert view.error == ''


def test_python_api_errors():
    view = RNGView()
    with pytest.raises(ValueError, match='no snapshot to restore'):
        view.restore()
    with pytest.raises(ValueError, match='label must be a non-empty str'):
        view.snapshot('')
    view.snapshot('x')
    with pytest.raises(IndexError, match='out of range'):
        view.restore(-2)
    with pytest.raises(TypeError, match='got bool'):
        view.restore(True)
    with pytest.raises(ValueError, match='n must be an int'):
        view.demonstrate(2.0)


def test_static_and_live_bundles(monkeypatch):
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    seed_both(3)
    view = RNGView()
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {'text/plain', 'text/html'}
    fingerprint = torch_fingerprint()
    assert fingerprint in bundle['text/plain'] and fingerprint in bundle['text/html']
    assert '<table' in bundle['text/html']
    json.dumps(view.get_state(), allow_nan=False)     # the synced data is plain JSON
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html', WIDGET_VIEW_MIME}


@pytest.mark.skipif(nbgrad.cuda.is_available(), reason='CUDA is available here')
def test_without_cuda_only_the_cpu_generator():
    view = RNGView()
    assert [g['name'] for g in view.generators] == ['cpu']
    assert 'cuda generators: none (CUDA is not available)' in view.text()


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(),
                    reason='no CUDA device (CuPy + NVIDIA GPU, or NBGRAD_FAKE_CUDA=1)')
def test_cuda_generators():
    nbgrad.manual_seed(21)
    view = RNGView()
    names = [g['name'] for g in view.generators]
    assert names == ['cpu'] + [f'cuda:{i}' for i in range(nbgrad.cuda.device_count())]
    gpu = view.generators[1]
    assert gpu['kind'] == 'philox' and gpu['initial_seed'] == '21' and gpu['offset'] == 0
    assert gpu['state_bytes'] == 16
    # the Philox state is (seed, offset) as little-endian uint64
    state = nbgrad.cuda.get_rng_state(0).numpy().tobytes()
    assert gpu['fingerprint'] == hashlib.sha256(state).hexdigest()[:16]
    assert int.from_bytes(state[:8], 'little') == 21
    view.snapshot('gpu')
    first = nbgrad.rand(8, device='cuda').cpu().numpy()
    view.refresh()
    assert view.generators[1]['offset'] > 0
    assert view.generators[1]['fingerprint'] != gpu['fingerprint']
    view.restore('gpu')
    assert view.generators[1] == gpu
    np.testing.assert_array_equal(nbgrad.rand(8, device='cuda').cpu().numpy(), first)
    view.demonstrate(4)
    assert view.demo['equal']
