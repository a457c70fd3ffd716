"""nbgrad.utils.tensorboard against torch.utils.tensorboard: the same calls with both writers,
and both runs read back with TensorBoard's own event loader (which also checks every record's
CRC): the same files per directory, the same events (steps, tags, values, histogram buckets,
text, image sizes), and images with the same pixels (their PNG bytes differ: Pillow's encoder
against nbgrad's)."""
import io
import os

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
pytest.importorskip('tensorboard')
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

from nbgrad.utils.tensorboard import SummaryWriter  # noqa: E402


def _session(lib, writer_class, log_dir):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(1000).astype(np.float32)
    with writer_class(log_dir, purge_step=2) as w:
        for step in range(3):
            w.add_scalar('loss', 1.0 / (step + 1), step, walltime=100.0 + step)
        w.add_scalar('tensor/scalar', lib.tensor(0.25), 3, walltime=104.0)
        w.add_scalars('run', {'train': 1.5, 'val': 2.5}, 4, walltime=105.0)
        w.add_histogram('weights', lib.tensor(values), 5, walltime=106.0)
        w.add_histogram('few', np.array([0.5, -2.0, 3.0, 0.5]), 6, walltime=107.0)
        w.add_histogram('fixed', lib.tensor(values), 6, bins=10, walltime=107.5)
        w.add_histogram('capped', lib.tensor(values), 6, max_bins=20, walltime=107.8)
        w.add_image('chw', lib.tensor(rng.random((3, 5, 7)).astype(np.float32)), 7,
                    walltime=108.0)
        w.add_image('gray-hw', (rng.random((4, 6)) * 255).astype(np.uint8), 8, walltime=109.0,
                    dataformats='HW')
        w.add_images('batch', lib.tensor(rng.random((10, 1, 3, 2)).astype(np.float32)), 9,
                     walltime=110.0)
        w.add_text('notes', 'lr = **0.1**', 10, walltime=111.0)


def _events(log_dir):
    """{subdirectory: [events as comparable tuples]} of a run."""
    out = {}
    for root, _, files in os.walk(log_dir):
        for name in files:
            events = []
            for event in EventFileLoader(os.path.join(root, name)).Load():
                events.append(_comparable(event))
            out.setdefault(os.path.relpath(root, log_dir), []).append(events)
    return out


def _comparable(event):
    from PIL import Image
    what = event.WhichOneof('what')
    item = [event.step, what]
    if what == 'summary':
        for value in event.summary.value:
            tensor = value.tensor
            if value.metadata.plugin_data.plugin_name == 'images':
                width, height, png = tensor.string_val
                pixels = np.asarray(Image.open(io.BytesIO(png)))
                item.append((value.tag, width, height, pixels.tolist(), event.wall_time))
            else:
                item.append((value.tag, value.metadata.plugin_data.plugin_name,
                             tensor.SerializeToString(), event.wall_time))
    elif what == 'session_log':
        item.append(event.session_log.status)
    return tuple(item)


def test_runs_read_back_as_pytorchs(tmp_path):
    _session(torch, TorchWriter, str(tmp_path / 'torch'))
    _session(nbgrad, SummaryWriter, str(tmp_path / 'nbgrad'))
    ours, theirs = _events(str(tmp_path / 'nbgrad')), _events(str(tmp_path / 'torch'))
    assert sorted(ours) == sorted(theirs) == ['.', 'run_train', 'run_val']
    for folder in theirs:
        assert ours[folder] == theirs[folder], folder


def test_files_are_named_as_pytorchs(tmp_path):
    for cls, name in ((TorchWriter, 'torch'), (SummaryWriter, 'nbgrad')):
        cls(str(tmp_path / name), filename_suffix='.v1').close()
    ours = os.listdir(tmp_path / 'nbgrad')[0].split('.')
    theirs = os.listdir(tmp_path / 'torch')[0].split('.')
    assert ours[:3] == theirs[:3] == ['events', 'out', 'tfevents']
    assert ours[4:6] == theirs[4:6] and ours[-1] == theirs[-1] == 'v1'     # host, pid, suffix


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment='_lr0.1')
    w.close()
    (run,) = os.listdir(tmp_path / 'runs')
    assert run.endswith('_lr0.1') and w.get_logdir() == os.path.join('runs', run)


def test_bad_input_is_refused_as_pytorch_refuses_it(tmp_path):
    for cls, lib in ((TorchWriter, torch), (SummaryWriter, nbgrad)):
        with cls(str(tmp_path / lib.__name__)) as w:
            with pytest.raises(AssertionError):
                w.add_scalar('x', lib.ones(2))
            with pytest.raises(ValueError, match='no element'):
                w.add_histogram('h', np.array([]))
            with pytest.raises(AssertionError):
                w.add_image('i', np.zeros((3, 4)), dataformats='CHW')


def test_flush_writes_what_is_pending(tmp_path):
    w = SummaryWriter(str(tmp_path), max_queue=1000, flush_secs=1000)
    w.add_scalar('x', 1.0, 0)
    (name,) = os.listdir(tmp_path)
    before = len(list(EventFileLoader(str(tmp_path / name)).Load()))
    w.flush()
    after = len(list(EventFileLoader(str(tmp_path / name)).Load()))
    assert (before, after) == (1, 2)      # the file-version event, then the scalar too
    w.close()
    w.close()                             # a second close does nothing


def test_figures_become_images(tmp_path):
    matplotlib = pytest.importorskip('matplotlib')
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    for cls, name in ((TorchWriter, 'torch'), (SummaryWriter, 'nbgrad')):
        figure = plt.figure(figsize=(2, 1), dpi=20)
        plt.plot([0, 1], [1, 0])
        with cls(str(tmp_path / name)) as w:
            w.add_figure('curve', figure, 1, walltime=1.0)
    assert _events(str(tmp_path / 'nbgrad')) == _events(str(tmp_path / 'torch'))
