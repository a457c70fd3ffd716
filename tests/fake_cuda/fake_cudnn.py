"""A CPU stand-in for the cuDNN functions nbgrad binds (nbgrad/cuda/_cudnn_library.py), for the
fake CuPy (whose arrays' data pointers are host addresses).

It takes the arguments nbgrad's ctypes calls pass (ctypes.byref out-parameters, c_int arrays,
raw pointers) and keeps the descriptors' settings; the convolution calls read the operands from
memory with the shapes and dtype their descriptors give, compute with PyTorch on the CPU in
float64 (forward, or the adjoint by autograd for backward data / filter), and write the result
with alpha/beta. So a test through it checks nbgrad's plumbing (which descriptor holds what, the
1-d-as-2-d shapes, padding, stride, dilation, groups, operand order, output placement); only a
real GPU run (scripts/gpu_check.py) checks cuDNN itself and the C signatures.
"""
import ctypes
import itertools

import numpy as np

_DTYPES = {0: np.float32, 1: np.float64, 2: np.float16}
_ids = itertools.count(1)


def _out(arg):
    """The object a ctypes.byref(...) argument points at."""
    return arg._obj


def _key(desc):
    return desc.value if isinstance(desc, ctypes.c_void_p) else desc


class FakeCudnn:
    def __init__(self, algorithms=((0, 0), (1, 1))):
        """algorithms: (algo number, determinism) pairs that the searches rank, best first."""
        self.descriptors, self.algorithms, self.calls = {}, algorithms, []

    def _new(self, arg, kind):
        _out(arg).value = next(_ids)
        self.descriptors[_out(arg).value] = {'kind': kind}
        return 0

    def cudnnGetVersion(self):
        return 91000

    def cudnnGetErrorString(self, status):
        return b'CUDNN_STATUS_FAKE_ERROR'

    def cudnnCreate(self, handle):
        _out(handle).value = next(_ids)
        return 0

    def cudnnSetStream(self, handle, stream):
        return 0

    def cudnnCreateTensorDescriptor(self, desc):
        return self._new(desc, 'tensor')

    def cudnnCreateFilterDescriptor(self, desc):
        return self._new(desc, 'filter')

    def cudnnCreateConvolutionDescriptor(self, desc):
        return self._new(desc, 'conv')

    def cudnnSetTensorNdDescriptor(self, desc, data_type, ndim, dims, strides):
        shape = tuple(dims[:ndim])
        contiguous = tuple(int(np.prod(shape[i + 1:])) for i in range(ndim))
        assert tuple(strides[:ndim]) == contiguous, (shape, tuple(strides[:ndim]))
        self.descriptors[_key(desc)].update(dtype=_DTYPES[data_type], shape=shape)
        return 0

    def cudnnSetFilterNdDescriptor(self, desc, data_type, layout, ndim, dims):
        assert layout == 0          # NCHW
        self.descriptors[_key(desc)].update(dtype=_DTYPES[data_type], shape=tuple(dims[:ndim]))
        return 0

    def cudnnSetConvolutionNdDescriptor(self, desc, n, pads, strides, dilation, mode, compute):
        assert mode == 1            # cross-correlation, as PyTorch's convolutions
        self.descriptors[_key(desc)].update(pads=tuple(pads[:n]), stride=tuple(strides[:n]),
                                            dilation=tuple(dilation[:n]), groups=1,
                                            compute=compute, math=0)
        return 0

    def cudnnSetConvolutionGroupCount(self, desc, groups):
        self.descriptors[_key(desc)]['groups'] = groups
        return 0

    def cudnnSetConvolutionMathType(self, desc, math):
        self.descriptors[_key(desc)]['math'] = math
        return 0

    def _search(self, handle, a, b, conv, c, requested, count, results):
        for i, (algo, determinism) in enumerate(self.algorithms[:requested]):
            results[i].algo, results[i].status, results[i].determinism = algo, 0, determinism
            results[i].mathType = self.descriptors[_key(conv)]['math']
        _out(count).value = min(len(self.algorithms), requested)
        return 0

    cudnnGetConvolutionForwardAlgorithm_v7 = cudnnFindConvolutionForwardAlgorithm = _search
    cudnnGetConvolutionBackwardDataAlgorithm_v7 = _search
    cudnnFindConvolutionBackwardDataAlgorithm = _search
    cudnnGetConvolutionBackwardFilterAlgorithm_v7 = _search
    cudnnFindConvolutionBackwardFilterAlgorithm = _search

    def _workspace(self, handle, a, b, conv, c, algo, size):
        _out(size).value = 256
        return 0

    cudnnGetConvolutionForwardWorkspaceSize = _workspace
    cudnnGetConvolutionBackwardDataWorkspaceSize = _workspace
    cudnnGetConvolutionBackwardFilterWorkspaceSize = _workspace

    def _array(self, desc, ptr):
        d = self.descriptors[_key(desc)]
        n = int(np.prod(d['shape']))
        buffer = (ctypes.c_char * (n * np.dtype(d['dtype']).itemsize)).from_address(ptr)
        return np.frombuffer(buffer, d['dtype']).reshape(d['shape'])

    def _conv(self, conv):
        import torch
        d = self.descriptors[_key(conv)]
        function = getattr(torch.nn.functional, f'conv{len(d["stride"])}d')
        return lambda x, w: function(x, w, stride=d['stride'], padding=d['pads'],
                                     dilation=d['dilation'], groups=d['groups'])

    def _run(self, name, algo, conv, workspace, size, alpha, beta, out_desc, out_ptr, compute):
        import torch
        assert workspace is not None and size == 256
        out = self._array(out_desc, out_ptr)
        result = compute(self._conv(conv), torch).numpy()
        beta = _out(beta).value    # as cuDNN: beta 0 does not read the output (may be NaN)
        old = beta * out.astype(np.float64) if beta else 0
        out[...] = (_out(alpha).value * result + old).astype(out.dtype)
        self.calls.append((name, algo))
        return 0

    def cudnnConvolutionForward(self, handle, alpha, x_desc, x, w_desc, w, conv, algo,
                                workspace, size, beta, y_desc, y):
        def compute(fn, torch):
            return fn(*(torch.from_numpy(self._array(d, p).astype(np.float64))
                        for d, p in ((x_desc, x), (w_desc, w))))
        return self._run('forward', algo, conv, workspace, size, alpha, beta, y_desc, y, compute)

    def _adjoint(self, which, x_shape, x, w, dy):
        """The gradient of sum(conv(x, w) * dy) with respect to x (which=0) or w (which=1)."""
        def compute(fn, torch):
            leaves = [torch.zeros(x_shape, dtype=torch.float64) if x is None else
                      torch.from_numpy(x.astype(np.float64)),
                      torch.zeros(w, dtype=torch.float64) if isinstance(w, tuple) else
                      torch.from_numpy(w.astype(np.float64))]
            leaves[which].requires_grad_()
            (fn(*leaves) * torch.from_numpy(dy.astype(np.float64))).sum().backward()
            return leaves[which].grad
        return compute

    def cudnnConvolutionBackwardData(self, handle, alpha, w_desc, w, dy_desc, dy, conv, algo,
                                     workspace, size, beta, dx_desc, dx):
        compute = self._adjoint(0, self.descriptors[_key(dx_desc)]['shape'], None,
                                self._array(w_desc, w), self._array(dy_desc, dy))
        return self._run('input', algo, conv, workspace, size, alpha, beta, dx_desc, dx, compute)

    def cudnnConvolutionBackwardFilter(self, handle, alpha, x_desc, x, dy_desc, dy, conv, algo,
                                       workspace, size, beta, dw_desc, dw):
        compute = self._adjoint(1, None, self._array(x_desc, x),
                                self.descriptors[_key(dw_desc)]['shape'],
                                self._array(dy_desc, dy))
        return self._run('weight', algo, conv, workspace, size, alpha, beta, dw_desc, dw, compute)

    def _destroy(self, desc):
        del self.descriptors[_key(desc)]
        return 0

    cudnnDestroyTensorDescriptor = cudnnDestroyFilterDescriptor = _destroy
    cudnnDestroyConvolutionDescriptor = _destroy
