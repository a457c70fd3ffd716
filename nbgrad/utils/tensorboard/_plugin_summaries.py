"""The summaries TensorBoard's plugins read (hparams, pr_curves, custom_scalars, mesh), as
torch.utils.tensorboard.summary builds them: each is a Summary.Value whose SummaryMetadata names
the plugin and carries the plugin's own message (encoded here, field numbers from the plugins'
.proto files: hparams/api.proto and plugin_data.proto, pr_curve/plugin_data.proto,
custom_scalar/layout.proto, mesh/plugin_data.proto, google/protobuf/struct.proto)."""
import json

import numpy as np

from . import _proto
from ._convert_np import make_np
from ..._protobuf import bytes_field, message_field, varint_field

# ------------------------------------------------------------------------------------ hparams

HPARAMS_PLUGIN = 'hparams'
EXPERIMENT_TAG = '_hparams_/experiment'
SESSION_START_INFO_TAG = '_hparams_/session_start_info'
SESSION_END_INFO_TAG = '_hparams_/session_end_info'
DATA_TYPE_STRING, DATA_TYPE_FLOAT64 = 1, 3          # hparams.DataType
STATUS_SUCCESS = 1                                  # hparams.Status


def _number_value(v):
    return _proto.always_double(2, float(v))        # google.protobuf.Value.number_value


def _string_value(v):
    return _proto.always_bytes(3, v)                 # google.protobuf.Value.string_value


def _list_value(values):
    return b''.join(message_field(1, v) for v in values)     # google.protobuf.ListValue


def _hparam_info(name, data_type, domain=None):
    return (bytes_field(1, name) + varint_field(4, data_type) +
            (message_field(5, _list_value(domain)) if domain is not None else b''))


def _hparams_summary(tag, field, message):
    """HParamsPluginData (version 0, left out) holding one of its three messages."""
    content = message_field(field, message)
    return _proto.summary(_proto.value(tag, metadata=_proto.metadata(HPARAMS_PLUGIN, content)))


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The experiment, session-start and session-end summaries of one hparams run.

    As in PyTorch, bools are numbers here (True is 1.0: isinstance(True, int)), a tensor gives
    its first element, and values of other types are refused."""
    if not isinstance(hparam_dict, dict):
        raise TypeError('parameter: hparam_dict should be a dictionary, nothing logged.')
    if not isinstance(metric_dict, dict):
        raise TypeError('parameter: metric_dict should be a dictionary, nothing logged.')
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError('parameter: hparam_domain_discrete should be a dictionary, nothing '
                        'logged.')
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f'parameter: hparam_domain_discrete[{k}] should be a list of same '
                            f'type as hparam_dict[{k}].')
    infos, start_entries = [], []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        domain = hparam_domain_discrete.get(k)
        if isinstance(v, (int, float)):
            value, data_type, encode = _number_value(v), DATA_TYPE_FLOAT64, _number_value
        elif isinstance(v, str):
            value, data_type, encode = _string_value(v), DATA_TYPE_STRING, _string_value
        elif hasattr(v, 'detach'):
            # PyTorch takes make_np(v)[0], which refuses 0-dim tensors; nbgrad reads those too
            value, data_type = _number_value(make_np(v).reshape(-1)[0]), DATA_TYPE_FLOAT64
            domain = encode = None
        else:
            raise ValueError('value should be one of int, float, str, bool, or torch.Tensor')
        infos.append(_hparam_info(k, data_type, None if domain is None else
                                  [encode(d) for d in domain]))
        # SessionStartInfo.hparams is a map<string, Value>: one (key, value) entry message each
        start_entries.append(message_field(1, bytes_field(1, k) + message_field(2, value)))
    metrics = [message_field(1, bytes_field(2, k)) for k in metric_dict]   # MetricInfo{MetricName}
    experiment = (b''.join(message_field(4, i) for i in infos) +
                  b''.join(message_field(5, m) for m in metrics))
    return (_hparams_summary(EXPERIMENT_TAG, 2, experiment),
            _hparams_summary(SESSION_START_INFO_TAG, 3, b''.join(start_entries)),
            _hparams_summary(SESSION_END_INFO_TAG, 4, varint_field(1, STATUS_SUCCESS)))


# ------------------------------------------------------------------------------------ pr_curves

def _as_array(x):
    """A tensor, array or nested list as an array (PyTorch takes lists here too)."""
    return make_np(x) if hasattr(x, 'detach') else np.asarray(x)


def _pr_curve_summary(tag, data, num_thresholds):
    content = varint_field(2, num_thresholds)        # PrCurvePluginData, version 0
    data = np.asarray(data)
    proto = _proto.tensor(_proto.DT_FLOAT, list(data.shape[:2]),
                          _proto.float_values(data.reshape(-1).tolist()))
    return _proto.summary(_proto.value(tag, tensor=proto,
                                       metadata=_proto.metadata('pr_curves', content)))


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """The six rows TensorBoard's pr_curves plugin reads: TP, FP, TN, FN, precision, recall
    (one column per threshold)."""
    num_thresholds = min(num_thresholds, 127)       # (PyTorch's cap)
    rows = [_as_array(r) for r in (tp, fp, tn, fn, precision, recall)]
    return _pr_curve_summary(tag, np.stack(rows), num_thresholds)


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(labels, predictions, num_thresholds=num_thresholds, weights=weights)
    return _pr_curve_summary(tag, data, num_thresholds)


def compute_curve(labels, predictions, num_thresholds=None, weights=None):
    """The rows of pr_curve_raw from labels (0/1) and predictions in [0, 1]: each prediction
    falls in one of num_thresholds buckets; counts at a threshold are reverse cumulative sums."""
    minimum_count = 1e-7
    if weights is None:
        weights = 1.0
    bucket_indices = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    histogram_range = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=(1.0 - float_labels) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


# ------------------------------------------------------------------------------- custom_scalars

def _chart(title, chart_metadata):
    kind, tags = chart_metadata[0], chart_metadata[1]
    if kind == 'Margin':
        if len(tags) != 3:
            raise AssertionError('len(tags) != 3')
        series = bytes_field(1, tags[0]) + bytes_field(2, tags[1]) + bytes_field(3, tags[2])
        return bytes_field(1, title) + message_field(3, message_field(1, series))
    # anything else is a multiline chart, as in PyTorch
    multiline = b''.join(_proto.always_bytes(1, t) for t in tags)
    return bytes_field(1, title) + message_field(2, multiline)


def custom_scalars(layout):
    """{category: {chart title: ['Multiline', tags] or ['Margin', [value, lower, upper]]}} as
    the custom_scalars plugin's Layout, in a string tensor with an empty (scalar) shape."""
    categories = []
    for title, charts in layout.items():
        body = b''.join(message_field(2, _chart(name, spec)) for name, spec in charts.items())
        categories.append(message_field(2, bytes_field(1, title) + body))
    proto = _proto.tensor(_proto.DT_STRING, [], _proto.string_values([b''.join(categories)]))
    return _proto.summary(_proto.value('custom_scalars__config__', tensor=proto,
                                       metadata=_proto.metadata('custom_scalars')))


# ------------------------------------------------------------------------------------ mesh

MESH_VERTEX, MESH_FACE, MESH_COLOR = 1, 2, 3       # MeshPluginData.ContentType
_MESH_NAMES = {MESH_VERTEX: 'VERTEX', MESH_FACE: 'FACE', MESH_COLOR: 'COLOR'}


def _mesh_value(tag, array, content_type, components, json_config):
    if array.ndim != 3:
        raise ValueError(f'Tensor shape should be of shape BxNx3, but got {array.shape}.')
    content = (bytes_field(2, tag) + varint_field(3, content_type) + bytes_field(5, json_config) +
               _proto.int_values(array.shape, 6) + varint_field(7, components))
    proto = _proto.tensor(_proto.DT_FLOAT, list(array.shape),
                          _proto.float_values(array.reshape(-1).tolist()))
    return _proto.value(f'{tag}_{_MESH_NAMES[content_type]}', tensor=proto,
                        metadata=_proto.metadata('mesh', content))


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """A mesh or point cloud: one value per part given (vertices, faces, colors), each naming in
    `components` (a bitmask) which parts the mesh has."""
    json_config = '{}' if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(_as_array(t), kind) for t, kind in
             ((vertices, MESH_VERTEX), (faces, MESH_FACE), (colors, MESH_COLOR)) if t is not None]
    components = 0
    for _, kind in parts:
        components |= 1 << kind
    return _proto.summary(*[_mesh_value(tag, array, kind, components, json_config)
                            for array, kind in parts])
