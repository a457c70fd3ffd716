"""nbgrad.utils.tensorboard's plugin summaries against torch.utils.tensorboard: hparams, new-style
and double-precision scalars, tensors, raw histograms, PR curves, custom scalar layouts, meshes,
audio, video, images with boxes, embeddings (the projector's files) and model graphs. The same
calls go to both writers; both runs are read back with TensorBoard's own EventAccumulator and
compared: tags, steps, values, plugin names and the plugins' messages (parsed, so that map
order does not matter), and the projector's files byte for byte (the sprite pixel for pixel)."""
import contextlib
import io
import os

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
pytest.importorskip('tensorboard')
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402
from tensorboard.plugins.custom_scalar import layout_pb2  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_pb2  # noqa: E402
from tensorboard.plugins.mesh import plugin_data_pb2 as mesh_pb2  # noqa: E402
from tensorboard.plugins.pr_curve import plugin_data_pb2 as pr_curve_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

from nbgrad.utils.tensorboard import SummaryWriter  # noqa: E402

# how each plugin's content is parsed for comparison
_CONTENT = {'hparams': hparams_pb2.HParamsPluginData, 'pr_curves': pr_curve_pb2.PrCurvePluginData,
            'mesh': mesh_pb2.MeshPluginData}
BOTH = [(torch, TorchWriter, 'torch'), (nbgrad, SummaryWriter, 'nbgrad')]


def _pixels(png):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png))).tolist()


def _value(value):
    """A Summary.Value as comparable data: the plugin's content parsed, a custom-scalars layout
    parsed, tensors as TensorProto messages (compared field by field), PNGs as pixels."""
    what = value.WhichOneof('value')
    plugin = value.metadata.plugin_data.plugin_name
    content = value.metadata.plugin_data.content
    content = _CONTENT[plugin].FromString(content) if plugin in _CONTENT else content
    item = {'tag': value.tag, 'what': what, 'plugin': plugin, 'content': content,
            'display_name': value.metadata.display_name}
    if what == 'tensor' and plugin == 'images':
        # (the loader turns a Summary.Image into the images plugin's tensor: width, height, PNG;
        # Pillow's PNG bytes differ from nbgrad's, their pixels must not)
        width, height, *pngs = value.tensor.string_val
        item['tensor'] = (width, height, [_pixels(png) for png in pngs])
    elif what == 'tensor' and plugin == 'custom_scalars':
        layout = layout_pb2.Layout.FromString(value.tensor.string_val[0])
        item['tensor'] = (layout, list(value.tensor.tensor_shape.dim),
                          value.tensor.HasField('tensor_shape'))
    elif what == 'tensor':
        item['tensor'] = value.tensor
    elif what == 'image':
        image = value.image
        item['image'] = (image.height, image.width, image.colorspace,
                         _pixels(image.encoded_image_string))
    elif what is not None:
        item[what] = getattr(value, what)
    return item


def _events(log_dir):
    """{subdirectory: [(step, kind, content) for each event after the file-version one]}."""
    out = {}
    for root, _, files in os.walk(log_dir):
        for name in sorted(f for f in files if 'tfevents' in f):
            events = []
            for event in EventFileLoader(os.path.join(root, name)).Load():
                kind = event.WhichOneof('what')
                if kind == 'summary':
                    events.append((event.step, kind, [_value(v) for v in event.summary.value]))
                elif kind != 'file_version':
                    events.append((event.step, kind, getattr(event, kind)))
            out.setdefault(os.path.relpath(root, log_dir), []).append(events)
    return out


def _run_both(tmp_path, session):
    """session(lib, writer) with each library's writer; both runs' events."""
    for lib, cls, name in BOTH:
        with cls(str(tmp_path / name)) as w:
            session(lib, w)
    return _events(str(tmp_path / 'nbgrad')), _events(str(tmp_path / 'torch'))


def _accumulated(log_dir):
    accumulator = EventAccumulator(log_dir, size_guidance={'tensors': 0, 'scalars': 0})
    accumulator.Reload()
    return accumulator


def test_hparams_read_back_as_pytorchs(tmp_path):
    def session(lib, w):
        w.add_hparams({'lr': 0.1, 'layers': 3, 'optimizer': 'adam', 'nesterov': True,
                       'unused': None, 'momentum': lib.tensor([0.875]), 'empty': ''},
                      {'hparam/accuracy': 0.9, 'hparam/loss': 0.25},
                      hparam_domain_discrete={'optimizer': ['adam', 'sgd'],
                                              'layers': [2, 3, 4], 'nesterov': [True, False]},
                      run_name='trial0', global_step=3)
        w.add_hparams({'lr': 0.0}, {'hparam/accuracy': 0.5}, run_name='trial1')
    ours, theirs = _run_both(tmp_path, session)
    assert sorted(ours) == sorted(theirs) == ['.', 'trial0', 'trial1']
    assert ours == theirs
    # what TensorBoard's hparams plugin reads: its three summaries, and the metrics as scalars
    run = _accumulated(str(tmp_path / 'nbgrad' / 'trial0'))
    contents = run.PluginTagToContent('hparams')
    assert sorted(contents) == ['_hparams_/experiment', '_hparams_/session_end_info',
                                '_hparams_/session_start_info']
    start = hparams_pb2.HParamsPluginData.FromString(
        contents['_hparams_/session_start_info']).session_start_info
    assert start.hparams['lr'].number_value == 0.1
    assert start.hparams['optimizer'].string_value == 'adam'
    assert start.hparams['empty'].WhichOneof('kind') == 'string_value'
    assert [(s.step, s.value) for s in run.Scalars('hparam/loss')] == [(3, 0.25)]


def test_hparams_refuse_what_pytorch_refuses(tmp_path):
    for lib, cls, name in BOTH:
        with cls(str(tmp_path / name)) as w:
            with pytest.raises(TypeError):
                w.add_hparams([('lr', 0.1)], {})
            with pytest.raises(ValueError):
                w.add_hparams({'lr': [0.1]}, {'m': 1.0})
            with pytest.raises(TypeError):      # a domain value of another type than the value
                w.add_hparams({'lr': 0.1}, {'m': 1.0}, hparam_domain_discrete={'lr': ['a']})


def test_new_style_and_double_precision_scalars(tmp_path):
    def session(lib, w):
        w.add_scalar('old', 0.1, 0, walltime=1.0)
        w.add_scalar('new', 0.1, 1, walltime=2.0, new_style=True)
        w.add_scalar('new', lib.tensor(0.0), 2, walltime=3.0, new_style=True)
        w.add_scalar('double', 0.1, 3, walltime=4.0, new_style=True, double_precision=True)
        w.add_scalar('double-alone', 0.1, 4, walltime=5.0, double_precision=True)
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    run = _accumulated(str(tmp_path / 'nbgrad'))
    assert run.Tags()['scalars'] == ['old', 'double-alone']
    assert sorted(run.Tags()['tensors']) == ['double', 'new']
    (double,) = run.Tensors('double')
    assert tensor_util.make_ndarray(double.tensor_proto).dtype == np.float64
    assert tensor_util.make_ndarray(double.tensor_proto) == 0.1
    assert [tensor_util.make_ndarray(e.tensor_proto).item() for e in run.Tensors('new')] == \
        [np.float32(0.1), 0.0]


def test_tensors_and_raw_histograms(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {'f32': rng.standard_normal((2, 3)).astype(np.float32),
              'f64': rng.standard_normal(4), 'i64': np.array([[-3, 5]]),
              'i32': np.array([7, -1], np.int32), 'bool': np.array([True, False, True]),
              'u8': np.array([0, 255], np.uint8), 'f16': np.array([0.5, -2.0], np.float16)}

    def session(lib, w):
        for step, (tag, array) in enumerate(arrays.items()):
            w.add_tensor(tag, lib.tensor(array), step, walltime=1.0)
        w.add_histogram_raw('raw', min=-1.0, max=3.0, num=6, sum=4.0, sum_squares=12.0,
                            bucket_limits=[0.0, 1.0, 3.0], bucket_counts=[1, 2, 3],
                            global_step=9, walltime=2.0)
        with pytest.raises(ValueError):
            w.add_histogram_raw('bad', 0, 1, 1, 0, 0, [1.0], [1, 2])
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    run = _accumulated(str(tmp_path / 'nbgrad'))
    for tag, array in arrays.items():
        # (PyTorch stores half values as the bits of their float32, and uint8 in uint32_val,
        # where TensorBoard does not look: neither reads back as the array, in either library)
        if tag not in ('f16', 'u8'):
            np.testing.assert_array_equal(
                tensor_util.make_ndarray(run.Tensors(tag)[0].tensor_proto), array)


def test_pr_curves(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200)
    predictions = rng.random(200).astype(np.float32)
    weights = rng.random(200)
    counts = [np.array([10.0, 6, 2]), np.array([5.0, 3, 0]), np.array([0.0, 2, 5]),
              np.array([0.0, 4, 8]), np.array([0.67, 0.67, 1.0]), np.array([1.0, 0.6, 0.2])]

    def session(lib, w):
        w.add_pr_curve('pr', lib.tensor(labels), lib.tensor(predictions), 0, walltime=1.0)
        w.add_pr_curve('pr', labels, predictions, 1, num_thresholds=10, walltime=2.0)
        w.add_pr_curve('weighted', labels, predictions, 2, num_thresholds=300, weights=weights,
                       walltime=3.0)
        w.add_pr_curve_raw('raw', *counts, global_step=3, num_thresholds=3, walltime=4.0)
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    run = _accumulated(str(tmp_path / 'nbgrad'))
    assert sorted(run.PluginTagToContent('pr_curves')) == ['pr', 'raw', 'weighted']
    assert tensor_util.make_ndarray(run.Tensors('pr')[1].tensor_proto).shape == (6, 10)


def test_custom_scalar_layouts(tmp_path):
    layout = {'Taiwan': {'twse': ['Multiline', ['twse/0050', 'twse/2330']]},
              'USA': {'dow': ['Margin', ['dow/aaa', 'dow/bbb', 'dow/ccc']],
                      'nasdaq': ['Margin', ['nasdaq/aaa', 'nasdaq/bbb', 'nasdaq/ccc']]}}

    def session(lib, w):
        w.add_custom_scalars(layout)
        w.add_custom_scalars_multilinechart(['loss/train', 'loss/val'])
        w.add_custom_scalars_marginchart(['acc', 'acc/low', 'acc/high'], category='c',
                                         title='t')
        with pytest.raises(AssertionError):
            w.add_custom_scalars_marginchart(['acc', 'acc/low'])
        with pytest.raises(AssertionError):
            w.add_custom_scalars({'c': {'t': ['Margin', ['a', 'b']]}})
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    run = _accumulated(str(tmp_path / 'nbgrad'))
    assert list(run.PluginTagToContent('custom_scalars')) == ['custom_scalars__config__']


def test_meshes(tmp_path):
    vertices = np.array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], np.float32)
    colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], np.int32)
    faces = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], np.int32)
    config = {'camera': {'cls': 'PerspectiveCamera', 'fov': 75}, 'lights': []}

    def session(lib, w):
        w.add_mesh('mesh', lib.tensor(vertices), colors=lib.tensor(colors),
                   faces=lib.tensor(faces), config_dict=config, global_step=1, walltime=1.0)
        w.add_mesh('cloud', vertices * 2, global_step=2, walltime=2.0)
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    run = _accumulated(str(tmp_path / 'nbgrad'))
    assert sorted(run.PluginTagToContent('mesh')) == ['cloud_VERTEX', 'mesh_COLOR', 'mesh_FACE',
                                                      'mesh_VERTEX']


def test_audio(tmp_path):
    t = np.linspace(0, 1, 800, dtype=np.float32)
    sound = np.sin(2 * np.pi * 440 * t) * 0.5

    def session(lib, w):
        w.add_audio('tone', lib.tensor(sound[None]), 1, sample_rate=8000, walltime=1.0)
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            w.add_audio('loud', sound * 3, 2, walltime=2.0)
        assert 'auto clipped' in printed.getvalue()
        with pytest.raises(AssertionError):
            w.add_audio('stereo', np.zeros((2, 10)))
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    (tone,) = _accumulated(str(tmp_path / 'nbgrad')).Audio('tone')
    assert (tone.content_type, tone.sample_rate, tone.length_frames) == ('audio/wav', 8000, 800)


def test_video_without_moviepy_writes_what_pytorch_writes(tmp_path):
    import importlib.util
    if importlib.util.find_spec('moviepy') is not None:
        pytest.skip('moviepy is installed: this checks the fallback without it')
    frames = np.random.default_rng(2).random((3, 4, 3, 8, 8)).astype(np.float32)
    printed = {}

    def session(lib, w):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            w.add_video('clip', lib.tensor(frames), 1, fps=2, walltime=1.0)
        printed[lib.__name__] = out.getvalue()
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs
    assert printed['nbgrad'] == printed['torch'] == 'add_video needs package moviepy\n'


def test_images_with_boxes(tmp_path):
    pytest.importorskip('PIL')
    image = np.random.default_rng(3).random((3, 40, 50)).astype(np.float32)
    boxes = np.array([[2, 3, 20, 30], [10, 5, 45, 35]], np.float32)

    def session(lib, w):
        w.add_image_with_boxes('boxes', lib.tensor(image), lib.tensor(boxes), 1, walltime=1.0)
        w.add_image_with_boxes('labelled', image, boxes, 2, walltime=2.0,
                               labels=['cat', 'dog'])
        w.add_image_with_boxes('hwc', (image.transpose(1, 2, 0) * 255).astype(np.uint8),
                               boxes[:1], 3, walltime=3.0, dataformats='HWC', rescale=2,
                               labels='one')
        w.add_image_with_boxes('label-count-off', image, boxes, 4, walltime=4.0,
                               labels=['only one'])
    ours, theirs = _run_both(tmp_path, session)
    assert ours == theirs


def _projector_files(log_dir):
    files = {}
    for root, _, names in os.walk(log_dir):
        for name in names:
            if 'tfevents' in name:
                continue
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                data = f.read()
            files[os.path.relpath(path, log_dir)] = _pixels(data) if name.endswith('.png') \
                else data
    return files


def test_embeddings_write_pytorchs_projector_files(tmp_path):
    rng = np.random.default_rng(4)
    points = rng.standard_normal((10, 5)).astype(np.float32)
    thumbnails = rng.random((10, 3, 6, 6)).astype(np.float32)
    gray = rng.random((5, 1, 4, 4)).astype(np.float32)
    labels = [f'word{i}' for i in range(10)]

    def session(lib, w):
        w.add_embedding(lib.tensor(points), metadata=labels, label_img=lib.tensor(thumbnails))
        w.add_embedding(points[:5] * 2, label_img=lib.tensor(gray), global_step=3,
                        tag='a/b "quoted" 100%')
        w.add_embedding(lib.tensor(points[:4]), global_step=3, tag='columns',
                        metadata=[['x', 1], ['y', 2], ['z', 3], ['w', 4]],
                        metadata_header=['name', 'rank'])
        w.add_embedding(lib.tensor(points[:2].astype(np.float64)), global_step=12345, tag='b')
        with pytest.raises(AssertionError):
            w.add_embedding(points, metadata=labels[:3], tag='bad')
    for lib, cls, name in BOTH:
        with cls(str(tmp_path / name)) as w:
            session(lib, w)
    ours, theirs = _projector_files(tmp_path / 'nbgrad'), _projector_files(tmp_path / 'torch')
    assert sorted(ours) == sorted(theirs)
    assert 'projector_config.pbtxt' in ours and '00000/default/sprite.png' in ours
    for name in theirs:
        assert ours[name] == theirs[name], name
    # TensorBoard's projector plugin parses the config
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
    config = text_format.Parse(ours['projector_config.pbtxt'].decode(), ProjectorConfig())
    assert [e.tensor_name for e in config.embeddings] == [
        'default:00000', 'a/b "quoted" 100%:00003', 'columns:00003', 'b:12345']


class _Net:
    """The same small network in either library (two levels of submodules, a constant)."""

    @staticmethod
    def make(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.seq = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

            def forward(self, x):
                return self.seq(self.fc(x)) * 2

        return Net()


def _graph_structure(graph, constants=True):
    """What a graph shows, independent of value numbering: the inputs and outputs (name, shape),
    and per op node its kind, module scope, output shape and the kinds of the nodes it reads
    (TorchScript's value names differ from nbgrad's). Without constants: the constants ops
    read are left out (TorchScript passes every default argument as one, nbgrad what the
    Python code passed)."""
    nodes = {n.name: n for n in graph.node}

    def shape(n):
        if '_output_shapes' not in n.attr:
            return None
        return [d.size for d in n.attr['_output_shapes'].list.shape[0].dim]

    def sources(node):
        kinds = [nodes[i].op if i in nodes else None for i in node.input]
        return [k for k in kinds if constants or k != 'prim::Constant']
    io = sorted((n.name, n.op, shape(n), sources(n)) for n in graph.node if n.op == 'IO Node')
    ops = [(n.op, n.name.rsplit('/', 1)[0], shape(n), sources(n), n.attr['attr'].s)
           for n in graph.node if n.op.startswith('aten::') or n.op.endswith('Construct')]
    params = sorted((n.name.rsplit('/', 1)[0], n.attr['attr'].s) for n in graph.node
                    if n.op == 'prim::GetAttr')
    return io, ops, params


# (PyTorch's add_graph goes through torch.jit.trace, which warns that it is deprecated)
_TRACE_DEPRECATED = pytest.mark.filterwarnings('ignore:.*torch.jit.trace:DeprecationWarning')


@_TRACE_DEPRECATED
def test_graph_reads_back_like_pytorchs(tmp_path):
    x = np.random.default_rng(5).standard_normal((5, 4)).astype(np.float32)
    for lib, cls, name in BOTH:
        model = _Net.make(lib)
        with cls(str(tmp_path / name)) as w:
            w.add_graph(model, lib.tensor(x))
        assert model.training          # back in training mode after the trace
    structures, metadata = [], []
    for name in ('nbgrad', 'torch'):
        run = _accumulated(str(tmp_path / name))
        structures.append(_graph_structure(run.Graph()))
        metadata.append(run.RunMetadata('step1'))
        assert run.Tags()['graph'] and run.Tags()['run_metadata'] == ['step1']
    assert structures[0] == structures[1]
    assert metadata[0] == metadata[1]
    io, ops, params = structures[0]
    assert [op[:2] for op in ops] == [('aten::linear', 'Net/Linear[fc]'),
                                      ('aten::relu', 'Net/Sequential[seq]/ReLU[0]'),
                                      ('aten::linear', 'Net/Sequential[seq]/Linear[1]'),
                                      ('aten::mul', 'Net')]


@_TRACE_DEPRECATED
def test_graph_of_several_inputs_and_outputs(tmp_path):
    class TwoWay:
        @staticmethod
        def make(lib):
            class Model(lib.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.scale = lib.nn.Linear(3, 3, bias=False)

                def forward(self, a, b, unused):
                    s = self.scale(a)
                    return s + b, (s.relu(), a)
            return Model()
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    structures = []
    for lib, cls, name in BOTH:
        with cls(str(tmp_path / name)) as w:
            w.add_graph(TwoWay.make(lib), [lib.tensor(a) for a in inputs])
        structures.append(_graph_structure(_accumulated(str(tmp_path / name)).Graph(),
                                           constants=False))
    assert structures[0] == structures[1]
    assert [n[0] for n in structures[0][0]] == ['input/a', 'input/b', 'output/output.1']
    assert [op[0] for op in structures[0][1]] == [
        'aten::linear', 'aten::add', 'aten::relu', 'prim::TupleConstruct', 'prim::TupleConstruct']


def test_graph_input_must_be_tensors(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(TypeError, match='input_to_model'):
            w.add_graph(_Net.make(nbgrad), [[1.0, 2.0]])


@_TRACE_DEPRECATED
def test_graph_of_a_cnn_has_pytorchs_boxes_and_parameters(tmp_path):
    """Op names follow each library's ops (nbgrad's batch norm in eval mode is 'affinenorm',
    TorchScript's 'batch_norm'), but the boxes TensorBoard draws (module scopes, in order) and
    the parameters and buffers in them are PyTorch's; in-place ops end in _."""
    def make(lib):
        nn = lib.nn

        class CNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4),
                                              nn.ReLU(inplace=True), nn.MaxPool2d(2))
                self.head = nn.Linear(36, 5)

            def forward(self, x):
                return lib.log_softmax(self.head(self.features(x).flatten(1)), 1)
        return CNN()
    x = np.random.default_rng(7).random((2, 1, 8, 8)).astype(np.float32)
    structures = []
    for lib, cls, name in BOTH:
        with cls(str(tmp_path / name)) as w:
            w.add_graph(make(lib), lib.tensor(x))
        structures.append(_graph_structure(_accumulated(str(tmp_path / name)).Graph(),
                                           constants=False))
    (torch_io, torch_ops, torch_params), (io, ops, params) = structures
    assert [n[:3] for n in io] == [n[:3] for n in torch_io] and params == torch_params
    assert [(scope, out_shape) for _, scope, out_shape, _, _ in ops] == \
        [(scope, out_shape) for kind, scope, out_shape, _, _ in torch_ops
         if kind != 'prim::ListConstruct']
    assert [kind for kind, *_ in ops if kind.endswith('_')] == ['aten::relu_']


def test_bfloat16_values_convert_as_pytorchs():
    """make_np of a bfloat16 tensor: float16, as PyTorch's (numpy() refuses bfloat16)."""
    from torch.utils.tensorboard._convert_np import make_np as torch_make_np
    from nbgrad.utils.tensorboard._convert_np import make_np
    values = [0.1, 3.0, 1e-6, -250.0]
    expected = torch_make_np(torch.tensor(values).bfloat16())
    got = make_np(nbgrad.tensor(values).bfloat16())
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
