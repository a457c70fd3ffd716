"""torch.onnx.export: a model as an ONNX file that other frameworks and runtimes load.

export() follows torch's TorchScript exporter (dynamo=False): it traces the model on its example
inputs (nbgrad.jit's recorder) and writes each recorded op as ONNX nodes (_ops.py, for opsets 13
to 20; 20 by default, as torch), the parameters and buffers as initializers under their
state_dict names, inputs and outputs with the example's shapes, or names on the axes listed in
dynamic_axes (_dynamic.py). The file is written atomically; export returns None, as torch's
TorchScript path does. What nbgrad cannot export raises an error naming the op.
"""
import contextlib
import enum
import io
import os
import warnings

from .._tensor import Tensor
from . import _build, _dynamic, _first_values
from ._build import OnnxExporterError

__all__ = ['export', 'OnnxExporterError', 'is_in_onnx_export', 'TrainingMode',
           'OperatorExportTypes']

DEFAULT_OPSET = 20              # torch's ONNX_DEFAULT_OPSET
MIN_OPSET = 13                  # axes and splits became inputs; nbgrad writes those forms
TORCHSCRIPT_MAX_OPSET = 20      # torch warns above it (its dynamo exporter goes further)
MAX_OPSET = 23
_exporting = [False]


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: the mode the model is exported in."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """torch.onnx.OperatorExportTypes (deprecated in torch: only ONNX is supported)."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def is_in_onnx_export():
    return _exporting[0]


def _as_tuple(args):
    if isinstance(args, Tensor):
        return (args,)
    if isinstance(args, (tuple, list)) and all(isinstance(a, Tensor) for a in args):
        return tuple(args)
    raise TypeError('export(): args must be a tensor or a tuple of tensors (the model\'s example '
                    'inputs)')


def _opset(opset_version):
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise OnnxExporterError(f'nbgrad.onnx writes opsets {MIN_OPSET} to {MAX_OPSET} (got '
                                f'opset_version={opset_version}): choose one in that range')
    if opset > TORCHSCRIPT_MAX_OPSET:
        warnings.warn(f'Exporting to ONNX opset version {opset} is not supported. by '
                      f"'torch.onnx.export()'. The highest opset version supported is "
                      f'{TORCHSCRIPT_MAX_OPSET}.', stacklevel=3)
    return opset


@contextlib.contextmanager
def _mode(model, training):
    """torch's select_model_mode_for_export: EVAL and TRAINING set the mode for the export and
    restore it after; PRESERVE exports the model as it is."""
    if not isinstance(training, TrainingMode):
        raise TypeError(f"'mode' should be a torch.onnx.TrainingMode enum, but got "
                        f"'{type(training)}'.")
    was_training = getattr(model, 'training', None)
    if was_training is not None and training != TrainingMode.PRESERVE:
        model.train(training == TrainingMode.TRAINING)
    try:
        yield
    finally:
        if was_training is not None and training != TrainingMode.PRESERVE:
            model.train(was_training)


def _trace(model, inputs):
    """(recording, result, values, first): first holds the values of the tensors the model
    read from outside before it wrote any in place (_first_values.py)."""
    from ..jit import _trace
    _exporting[0] = True
    first, stop_observing = _first_values.observing(inputs)
    try:
        recording, result = _trace._record(model, inputs)
    finally:
        stop_observing()
        _exporting[0] = False
    first.restore(recording.outside)
    values = []
    # (replayed for its values only: an empty result spec, as rebuilding the model's own result
    # type, e.g. torch.return_types.max, from a generator would fail)
    _trace._replay(_trace._Recording(recording.steps, recording.outside, (tuple, [])), inputs,
                   values)
    return recording, result, values, first


def _trace_resized(model, inputs, input_names, input_dims):
    """The second trace (_dynamic.py), on inputs grown along the dynamic axes, or None when the
    model cannot run at those sizes (x.view(2, -1)): then, as torch does with such code, the
    graph keeps the example's sizes inside and only its inputs' axes are named. The random
    state is left as it was."""
    from .. import random as _random
    resized = _dynamic.resized_inputs(inputs, input_names, input_dims)
    state = _random.get_rng_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            recording, _, values, _ = _trace(model, resized)
    except Exception as error:
        warnings.warn(f'with dynamic_axes nbgrad traces the model again on inputs of other '
                      f'sizes along those axes ({[tuple(x.shape) for x in resized]}) to learn '
                      f'which sizes follow them, and that run failed ({type(error).__name__}: '
                      f'{error}): the exported graph keeps the example\'s sizes inside, so it '
                      f'runs only on inputs of those sizes', stacklevel=3)
        return None
    finally:
        _random.set_rng_state(state)
    return recording, values


def export(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=None,
           input_names=None, output_names=None, opset_version=None, dynamic_axes=None,
           dynamic_shapes=None, keep_initializers_as_inputs=False, training=TrainingMode.EVAL,
           operator_export_type=OperatorExportTypes.ONNX, do_constant_folding=True,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True,
           dynamo=False, **options):
    """Write model (a Module or function), traced on args, to f (a path or a binary file) as an
    ONNX model. Returns None, as torch.onnx.export(..., dynamo=False) does.

    Without dynamic_axes the graph is specialised to the example's shapes. With them, the model
    is traced a second time on inputs resized along those axes, so that sizes computed from the
    inputs (x.view(x.size(0), -1)) follow them in the graph."""
    if kwargs:
        raise OnnxExporterError('export(kwargs=...) is not supported: pass inputs positionally')
    if dynamic_shapes:
        raise ValueError('The exporter only supports dynamic shapes through parameter '
                         'dynamic_axes when dynamo=False.')
    if custom_opsets or export_modules_as_functions:
        raise OnnxExporterError('nbgrad.onnx writes the standard ONNX domain only: '
                                'custom_opsets and export_modules_as_functions are not supported')
    opset = _opset(opset_version)
    inputs = _as_tuple(args)
    input_names = _build._names(input_names, 'input', len(inputs))
    names = {}
    if hasattr(model, 'named_parameters'):
        names = {id(t): name for name, t in [*model.named_parameters(),
                                             *model.named_buffers()]}
    with _mode(model, training):
        recording, result, values, first = _trace(model, inputs)
        n_outputs = len(_build._outputs_of(result))
        axes = _dynamic.axes_by_name(dynamic_axes, input_names,
                                     _build._names(output_names, 'output', n_outputs))
        input_dims = {name: axes[name] for name in input_names if name in axes}
        other = None
        if input_dims:
            other = _trace_resized(model, inputs, input_names, input_dims)
    if verbose:
        from ..jit._trace import _Graph
        print(_Graph(recording, len(inputs), [tuple(x.shape) for x in inputs],
                     [names.get(id(t)) for t in recording.outside]))
    data = _build.model_bytes(
        recording, inputs, result, values, names, input_names, output_names, opset, other,
        first=first,
        export_params=export_params, keep_initializers_as_inputs=keep_initializers_as_inputs,
        input_dims=input_dims, output_dims={k: v for k, v in axes.items()
                                            if k not in input_dims})
    _write(f, data)
    return None


def _write(f, data):
    """Atomically to a path (a temporary file renamed into place), or to a binary file."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        tmp = f'{path}.{os.getpid()}.partial'
        try:
            with open(tmp, 'wb') as out:
                out.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    elif isinstance(f, io.IOBase) or hasattr(f, 'write'):
        f.write(data)
    elif f is None:     # (torch's TorchScript path fails writing to None the same way)
        raise AttributeError("export(f=None): torch.onnx.export(..., dynamo=False) writes the "
                             "model to f: pass a path or a binary file (io.BytesIO())")
    else:
        raise TypeError(f'export(f=...): a path or a binary file, got {type(f).__name__}')
