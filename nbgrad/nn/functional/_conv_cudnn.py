"""Convolutions on CUDA through cuDNN, as PyTorch runs them, where cuDNN loads
(cuda/_cudnn_library.py).

The same three functions as _conv_cuda (forward, input gradient, weight gradient), each returning
None when cuDNN does not serve the case, so the caller falls through to nbgrad's own kernels:
cuDNN missing or `nbgrad.backends.cudnn.enabled` False, a dtype other than float16/32/64,
asymmetric or negative padding ('same' with an even kernel), an output cut short of what the
sizes give (the adjoint of conv_transpose with output_padding), an empty or > 2^31-element tensor.

PyTorch's switches mean here what they mean there:
- backends.cudnn.allow_tf32 (True by default): float32 convolutions may use TF32 tensor cores
  (about 1e-3 relative error). False asks cuDNN for full float32 arithmetic.
- backends.cudnn.benchmark: time the algorithms once per geometry (cudnnFind*) rather than
  take cuDNN's heuristic first choice.
- backends.cudnn.deterministic or use_deterministic_algorithms(True): only algorithms that give
  the same bits every run.
One-dimensional convolutions run as two-dimensional ones of height 1, as PyTorch's do.

A geometry's descriptors and chosen algorithms are made once and cached (a training loop asks
for the same few every step), so a call costs two ctypes calls and the output's allocation.
If cuDNN refuses a case at run time, a warning says so once and that case uses nbgrad's kernels.

Measured on an H200 with cuDNN 9.19 (scripts/gpu_parts.py): the legacy call itself takes about
100 us of host time, so at N32 C32 32x32 nbgrad's kernels were faster per direction, while whole
benchmark steps were mostly faster through cuDNN. PyTorch avoids that cost with the graph API
(execution plans built once per geometry, then one cudnnBackendExecute per call); that is the
next step here, to be measured on a GPU.
"""
import ctypes
import math
import warnings

import numpy as np

from ...cuda import _cudnn_library as cudnn
from ... import _deterministic

_DATA_TYPES = {np.dtype(np.float32): cudnn.DATA_FLOAT, np.dtype(np.float64): cudnn.DATA_DOUBLE,
               np.dtype(np.float16): cudnn.DATA_HALF}
_ONE_ZERO = {dtype: ((ctypes.c_double if dtype == np.float64 else ctypes.c_float)(1.0),
                     (ctypes.c_double if dtype == np.float64 else ctypes.c_float)(0.0))
             for dtype in _DATA_TYPES}
_INT32 = 2 ** 31
_MAX_GEOMETRIES = 256

# the three directions: cuDNN's function names and which descriptors go where
_KINDS = {
    'forward': ('cudnnGetConvolutionForwardAlgorithm_v7', 'cudnnFindConvolutionForwardAlgorithm',
                'cudnnGetConvolutionForwardWorkspaceSize', 'cudnnConvolutionForward'),
    'input': ('cudnnGetConvolutionBackwardDataAlgorithm_v7',
              'cudnnFindConvolutionBackwardDataAlgorithm',
              'cudnnGetConvolutionBackwardDataWorkspaceSize', 'cudnnConvolutionBackwardData'),
    'weight': ('cudnnGetConvolutionBackwardFilterAlgorithm_v7',
               'cudnnFindConvolutionBackwardFilterAlgorithm',
               'cudnnGetConvolutionBackwardFilterWorkspaceSize',
               'cudnnConvolutionBackwardFilter'),
}

_geometries = {}        # key -> _Geometry
_refused = set()        # (kind, key) cuDNN failed on: nbgrad's kernels serve them


def _switches():
    """(enabled, allow_tf32, benchmark, deterministic) from PyTorch's switches."""
    from ...backends import cudnn as flags
    return (flags.enabled, flags.allow_tf32, flags.benchmark,
            flags.deterministic or _deterministic.are_deterministic_algorithms_enabled())


def plan_shapes(x_shape, w_shape, out_shape, stride, pads, dilation):
    """The 4-d/5-d shapes and per-dim settings cuDNN gets, or None where it does not apply:
    a 1-d convolution becomes a 2-d one of height 1; pads must be symmetric and not negative.
    Returns (x_shape, w_shape, out_shape, stride, pads, dilation), all tuples of ints."""
    if any(lo != hi or lo < 0 for lo, hi in pads) or not 1 <= len(stride) <= 3:
        return None
    low = tuple(lo for lo, _ in pads)
    if len(stride) == 1:
        x_shape, w_shape, out_shape = ((s[:2] + (1,) + s[2:]) for s in (x_shape, w_shape,
                                                                           out_shape))
        stride, low, dilation = (1,) + tuple(stride), (0,) + low, (1,) + tuple(dilation)
    shapes = tuple(tuple(int(d) for d in s) for s in (x_shape, w_shape, out_shape))
    if any(math.prod(s) == 0 or math.prod(s) >= _INT32 for s in shapes):
        return None
    return shapes + (tuple(map(int, stride)), low, tuple(map(int, dilation)))


def natural_out_size(size, kernel, stride, pads, dilation):
    """The output length per dim that cuDNN computes from the input's (floor division)."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(size, kernel, stride, pads, dilation))


def _strides(shape):
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return out[::-1]


def _ints(values):
    return (ctypes.c_int * len(values))(*values)


class _Geometry:
    """One convolution geometry's cuDNN descriptors and, per direction, its chosen algorithm and
    workspace size."""

    def __init__(self, lib, data_type, shapes, groups, math):
        x_shape, w_shape, y_shape, stride, pads, dilation = shapes
        self.lib, self.algorithms = lib, {}
        self.base_math = self.math = math
        self.x, self.y = self._tensor(x_shape, data_type), self._tensor(y_shape, data_type)
        self.w = ctypes.c_void_p()
        cudnn.check(lib.cudnnCreateFilterDescriptor(ctypes.byref(self.w)), 'filter descriptor')
        cudnn.check(lib.cudnnSetFilterNdDescriptor(self.w, data_type, cudnn.TENSOR_NCHW,
                                                   len(w_shape), _ints(w_shape)),
                    'filter descriptor')
        self.conv = ctypes.c_void_p()
        cudnn.check(lib.cudnnCreateConvolutionDescriptor(ctypes.byref(self.conv)),
                    'convolution descriptor')
        compute = cudnn.DATA_DOUBLE if data_type == cudnn.DATA_DOUBLE else cudnn.DATA_FLOAT
        cudnn.check(lib.cudnnSetConvolutionNdDescriptor(
            self.conv, len(stride), _ints(pads), _ints(stride), _ints(dilation),
            cudnn.CROSS_CORRELATION, compute), 'convolution descriptor')
        cudnn.check(lib.cudnnSetConvolutionGroupCount(self.conv, groups), 'group count')
        cudnn.check(lib.cudnnSetConvolutionMathType(self.conv, math), 'math type')

    def _tensor(self, shape, data_type):
        desc = ctypes.c_void_p()
        cudnn.check(self.lib.cudnnCreateTensorDescriptor(ctypes.byref(desc)), 'tensor descriptor')
        cudnn.check(self.lib.cudnnSetTensorNdDescriptor(desc, data_type, len(shape),
                                                        _ints(shape), _ints(_strides(shape))),
                    'tensor descriptor')
        return desc

    def descriptors(self, kind):
        """The four descriptors in the order cuDNN's functions for `kind` take them."""
        return {'forward': (self.x, self.w, self.conv, self.y),
                'input': (self.w, self.y, self.conv, self.x),
                'weight': (self.x, self.y, self.conv, self.w)}[kind]

    def algorithm(self, kind, handle, benchmark, deterministic, tf32_forbidden):
        """(algorithm, workspace bytes) for `kind`, chosen once per setting of the switches:
        cuDNN's first choice (by its heuristics, or by timing with benchmark) that succeeded
        and, if asked, is deterministic. Leaves the convolution descriptor set to the math type
        that choice runs with."""
        choice = (kind, benchmark, deterministic)     # the switches may change between calls
        if choice not in self.algorithms:
            choose, find, workspace_size, _ = _KINDS[kind]
            self._set_math(self.base_math)      # each direction searches from PyTorch's choice
            results = (cudnn.AlgorithmPerformance * cudnn.ALGORITHM_COUNT)()
            count = ctypes.c_int()
            search = getattr(self.lib, find if benchmark else choose)
            cudnn.check(search(handle, *self.descriptors(kind), cudnn.ALGORITHM_COUNT,
                               ctypes.byref(count), results), choose)
            pick = choose_algorithm(results[:count.value], deterministic)
            if pick is None:
                raise cudnn.CudnnError(f'cuDNN offered no usable {kind} algorithm')
            # the pick's own math type, unless that would allow TF32 the user turned off
            self._set_math(self.base_math if tf32_forbidden else pick.mathType)
            size = ctypes.c_size_t()
            cudnn.check(getattr(self.lib, workspace_size)(handle, *self.descriptors(kind),
                                                          pick.algo, ctypes.byref(size)),
                        workspace_size)
            self.algorithms[choice] = (pick.algo, size.value, self.math)
        algo, size, math = self.algorithms[choice]
        self._set_math(math)
        return algo, size

    def _set_math(self, math):
        if math != self.math:
            cudnn.check(self.lib.cudnnSetConvolutionMathType(self.conv, math), 'math type')
            self.math = math

    def destroy(self):
        for desc in (self.x, self.y):
            self.lib.cudnnDestroyTensorDescriptor(desc)
        self.lib.cudnnDestroyFilterDescriptor(self.w)
        self.lib.cudnnDestroyConvolutionDescriptor(self.conv)


def choose_algorithm(results, deterministic):
    """The first of cuDNN's ranked results that succeeded (and is deterministic if asked)."""
    for result in results:
        if result.status == cudnn.SUCCESS and (
                not deterministic or result.determinism == cudnn.DETERMINISTIC):
            return result
    return None


def math_type(dtype, allow_tf32):
    """PyTorch's choice: tensor-op math for half, full-precision FMA for float32 unless TF32 is
    allowed (then cuDNN's default, which may use TF32), the default for double."""
    if dtype == np.float16:
        return cudnn.TENSOR_OP_MATH
    if dtype == np.float32 and not allow_tf32:
        return cudnn.FMA_MATH
    return cudnn.DEFAULT_MATH


def _run(kind, cp, a, b, out_shape, x_shape, w_shape, y_shape, stride, pads, dilation, groups):
    """One cuDNN call of `kind` on a and b (in the order its function takes them), into a new
    array of out_shape; None where cuDNN does not serve the case."""
    enabled, allow_tf32, benchmark, deterministic = _switches()
    dtype = a.dtype
    if (not enabled or dtype not in _DATA_TYPES or b.dtype != dtype
            or not cudnn.available()):
        return None
    shapes = plan_shapes(x_shape, w_shape, y_shape, stride, pads, dilation)
    if shapes is None:
        return None
    device = a.device.id
    key = (device, dtype.char, shapes, groups, allow_tf32)
    if (kind, key) in _refused:
        return None
    try:
        lib = cudnn.library()
        geometry = _geometries.get(key)
        if geometry is None:
            if len(_geometries) >= _MAX_GEOMETRIES:
                for old in _geometries.values():
                    old.destroy()
                _geometries.clear()
            geometry = _geometries[key] = _Geometry(lib, _DATA_TYPES[dtype], shapes, groups,
                                                    math_type(dtype, allow_tf32))
        handle = cudnn.handle(cp, device)
        tf32_forbidden = dtype == np.float32 and not allow_tf32
        algo, size = geometry.algorithm(kind, handle, benchmark, deterministic, tf32_forbidden)
        a, b = cp.ascontiguousarray(a), cp.ascontiguousarray(b)
        out = cp.empty(out_shape, dtype)
        workspace = cp.empty(size, cp.uint8) if size else None
        one, zero = _ONE_ZERO[dtype]
        first, second, conv, target = geometry.descriptors(kind)
        cudnn.check(getattr(lib, _KINDS[kind][3])(
            handle, ctypes.byref(one), first, a.data.ptr, second, b.data.ptr, conv, algo,
            workspace.data.ptr if size else None, size, ctypes.byref(zero), target,
            out.data.ptr), _KINDS[kind][3])
    except cudnn.CudnnError as e:
        _refused.add((kind, key))
        warnings.warn(f'{e}; this convolution uses nbgrad\'s own CUDA kernels instead',
                      RuntimeWarning, stacklevel=2)
        return None
    return out


def conv_forward(cp, x, w, stride, pads, dilation, groups, out_size):
    """y (N, O, *out) = F(x, w), or None where cuDNN does not serve the case."""
    size, kernel = x.shape[2:], w.shape[2:]
    if tuple(out_size) != natural_out_size(size, kernel, stride, pads, dilation):
        return None
    y_shape = (x.shape[0], w.shape[0]) + tuple(out_size)
    return _run('forward', cp, x, w, y_shape, x.shape, w.shape, y_shape, stride, pads, dilation,
                groups)


def conv_input_grad(cp, g, w, stride, pads, dilation, groups, size):
    """The input's gradient (N, C, *size) given the output's, g, or None where cuDNN does not
    serve the case (an output length that the input size does not give)."""
    if tuple(g.shape[2:]) != natural_out_size(size, w.shape[2:], stride, pads, dilation):
        return None
    x_shape = (g.shape[0], w.shape[1] * groups) + tuple(size)
    return _run('input', cp, w, g, x_shape, x_shape, w.shape, g.shape, stride, pads, dilation,
                groups)


def conv_weight_grad(cp, x, g, stride, pads, dilation, groups, kernel):
    """The weight's gradient (O, C/groups, *kernel), or None where cuDNN does not serve it."""
    if tuple(g.shape[2:]) != natural_out_size(x.shape[2:], kernel, stride, pads, dilation):
        return None
    w_shape = (g.shape[1], x.shape[1] // groups) + tuple(kernel)
    return _run('weight', cp, x, g, w_shape, x.shape, w_shape, g.shape, stride, pads, dilation,
                groups)
