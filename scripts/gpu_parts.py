"""The GPU check's --parts: host and device time of the pieces inside nbgrad's slowest GPU
benchmarks (a convolution's im2col kernel, GEMMs and transposes; an LSTM step's product and the
LSTM layer's step kernels; an optimizer step's fused launch and pointer-table upload), measured with CuPy's profiler. These
say which piece to work on next; the benchmarks only say how far from PyTorch the whole is."""
import numpy as np


def _line(label, fn, repeats=200):
    from cupyx.profiler import benchmark
    result = benchmark(fn, n_repeat=repeats, n_warmup=10)
    return (f'{label:44s} host {np.median(result.cpu_times) * 1e6:8.1f} us  '
            f'device {np.median(result.gpu_times) * 1e6:8.1f} us')


def _lstm_layer_lines(cp, normal, line):
    """The LSTM layer's step kernels (_lstm_sequence_cuda) over the benchmark's T=50, B=32,
    H=128: a whole forward and backward (50 launches each), which is what replaced the matmul
    and cell kernel per step above."""
    from nbgrad.nn.modules import _lstm_sequence_cuda as layer
    steps, batch, hidden = 50, 32, 128
    rows = steps * batch
    xg, w_hh = normal(rows, 4 * hidden), normal(4 * hidden, hidden) * 0.1
    h0, c0 = normal(batch, hidden), normal(batch, hidden)
    s, d = cp.empty((rows, 4 * hidden), cp.float32), cp.empty((rows, 4 * hidden), cp.float32)
    g, c_prev, tc, out = (cp.empty((rows, hidden), cp.float32) for _ in range(4))
    g_out = normal(rows, hidden)
    return [line('LSTM layer T=50 B=32 H=128: forward (50 launches)',
                 lambda: layer.forward(cp, xg, w_hh, h0, c0, s, g, c_prev, tc, out, False)),
            line('  backward (50 launches and a matmul)',
                 lambda: layer.backward(cp, g_out, h0, c0, w_hh, s, g, tc, c_prev, d, False))]


def _cudnn_lines(cp, normal, line):
    """A 3x3 convolution's three directions with cuDNN (allow_tf32 False and True) and with
    nbgrad's own kernels, at the benchmark's size and at PERFORMANCE.md's GPU anchor size: where
    cuDNN's per-call host cost (about 100 us measured on an H200) is worth its faster kernels."""
    import nbgrad
    from nbgrad.nn.functional import _im2col
    if not nbgrad.backends.cudnn.is_available():
        return ['conv: cuDNN not available']
    out = []
    one, pads = (1, 1), ((1, 1), (1, 1))
    for n, c in ((32, 32), (128, 64)):
        x, w, g = normal(n, c, 32, 32), normal(c, c, 3, 3), normal(n, c, 32, 32)

        def directions():
            _im2col.conv_forward(x, w, one, pads, one, 1)
            _im2col.conv_input_grad(g, w, one, pads, one, 1, (32, 32))
            _im2col.conv_weight_grad(x, g, one, pads, one, 1, (3, 3))
        for label, switches in (('cuDNN', dict(enabled=True, allow_tf32=False)),
                                ('cuDNN TF32', dict(enabled=True, allow_tf32=True)),
                                ('nbgrad kernels', dict(enabled=False))):
            with nbgrad.backends.cudnn.flags(**switches):
                out.append(line(f'conv N{n} C{c} 3x3 fwd+2 grads: {label}', directions))
    return out


def _mlp_large_lines(line):
    """The pieces of the large MLP step (B=4096, H=4096, PERFORMANCE.md's GPU target, 1.21x
    PyTorch on an H200 where the GEMMs should dominate), nbgrad's and PyTorch's side by side:
    which piece carries the difference."""
    import nbgrad
    try:
        import torch
    except ImportError:
        return ['MLP B4096 pieces: torch unavailable']
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for shape in ((4096, 4096), (4096, 4096), (4096,), (4096, 4096))]
    out = []
    libraries = (('nbgrad', nbgrad), ('torch', torch)) if torch.cuda.is_available() else \
        (('nbgrad', nbgrad),)
    for name, lib in libraries:
        h, w, b, g = (lib.tensor(a, device='cuda') for a in arrays)
        p = lib.tensor(arrays[1], device='cuda', requires_grad=True)
        x = lib.tensor(arrays[0], device='cuda', requires_grad=True)

        def sgd():
            with lib.no_grad():
                w.sub_(0.01 * g)

        def relu_forward_backward():
            x.grad = None
            x.relu().backward(g)

        def linear_forward_backward():
            x.grad = p.grad = None
            lib.nn.functional.linear(x, p, b).backward(g)
        pieces = [('h @ W (4096^3)', lambda: h @ w), ('h @ W.T', lambda: h @ w.T),
                  ('h.T @ g', lambda: h.T @ g), ('+ bias', lambda: h + b),
                  ('relu', lambda: h.relu()), ('relu fwd+bwd (autograd)', relu_forward_backward),
                  ('bias grad g.sum(0)', lambda: g.sum(0)), ('SGD p -= 0.01 * grad', sgd),
                  ('linear fwd+bwd (autograd)', linear_forward_backward)]
        out += [line(f'MLP B4096 piece, {name}: {label}', fn) for label, fn in pieces]
    return out


def _direct_sgemm_line(cp, h, w_hh, into, line):
    """The same product through cuBLAS's sgemm called directly (no CuPy matmul in between):
    what a GEMM costs on the host once CuPy's argument handling is gone. Row-major
    into = h @ w_hh.T is column-major into^T = w_hh^T(op T on w_hh's buffer) @ h^T."""
    try:
        from cupy_backends.cuda.libs import cublas
        handle = cp.cuda.device.get_cublas_handle()
        one, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
        m, n, k = w_hh.shape[0], h.shape[0], h.shape[1]

        def direct():
            cublas.sgemm(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, m, n, k,
                         one.ctypes.data, w_hh.data.ptr, k, h.data.ptr, k, zero.ctypes.data,
                         into.data.ptr, m)
        direct()
        if not cp.allclose(into, h @ w_hh.T, rtol=1e-4, atol=1e-4):
            return 'LSTM step: direct cuBLAS sgemm            gave other values (not timed)'
        return line('LSTM step: direct cuBLAS sgemm', direct)
    except Exception as e:      # (a report line, not a failure of the whole check)
        return f'LSTM step: direct cuBLAS sgemm            unavailable: {type(e).__name__}: {e}'


def _launch_cost_lines(cp, line):
    """What one small launch costs on the host by each route nbgrad could take: a CuPy ufunc, a
    RawKernel called with arrays, the same kernel with the size passed as a NumPy scalar, an
    allocation, a reduction. The cheapest route bounds what fusing or bypassing can save."""
    a, b, out = (cp.ones(16, cp.float32) for _ in range(3))
    add = cp.RawKernel(r'''extern "C" __global__ void add16(const float* a, const float* b,
        float* out, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) out[i] = a[i] + b[i]; }''', 'add16')
    n = np.int32(16)
    add((1,), (32,), (a, b, out, n))
    return [line('launch: cupy.add(a, b)', lambda: cp.add(a, b)),
            line('launch: cupy.add(a, b, out=)', lambda: cp.add(a, b, out=out)),
            line('launch: RawKernel(a, b, out, n)', lambda: add((1,), (32,), (a, b, out, n))),
            line('launch: cupy.empty(16)', lambda: cp.empty(16, cp.float32)),
            line('launch: a.sum()', lambda: a.sum()),
            line('launch: a.reshape(4, 4)', lambda: a.reshape(4, 4))]


def lines(repeats=200):
    import cupy as cp
    import nbgrad
    from nbgrad.nn.functional import _conv_cuda
    from nbgrad import _pointer_tables
    rng = np.random.default_rng(0)

    def normal(*shape):
        return cp.asarray(rng.standard_normal(shape).astype(np.float32))

    def line(label, fn):
        return _line(label, fn, repeats)
    x, w, g = normal(32, 32, 32, 32), normal(32, 32, 3, 3), normal(32, 32, 32, 32)
    pads = ((1, 1), (1, 1))
    cols = _conv_cuda.im2col(cp, x, (3, 3), (1, 1), (1, 1), (1, 1), (32, 32))
    y = cp.matmul(w.reshape(32, -1), cols)
    g_cf = _conv_cuda._channels_first(g)
    def im2col_64_bit_indices():
        # the kernel variant for arrays past 2^31 elements, forced, to weigh 32-bit indexing
        limit = _conv_cuda._INT32_ELEMENTS
        _conv_cuda._INT32_ELEMENTS = 0
        try:
            return _conv_cuda.im2col(cp, x, (3, 3), (1, 1), (1, 1), (1, 1), (32, 32))
        finally:
            _conv_cuda._INT32_ELEMENTS = limit
    out = [
        line('conv N32C32 32x32 3x3: im2col kernel',
              lambda: _conv_cuda.im2col(cp, x, (3, 3), (1, 1), (1, 1), (1, 1), (32, 32))),
        line('  im2col with 64-bit indices (before)', im2col_64_bit_indices),
        line('  forward GEMM (32x288 @ 288x32768)', lambda: cp.matmul(w.reshape(32, -1), cols)),
        line('  output transpose (O,N,L)->(N,O,L)',
              lambda: cp.ascontiguousarray(y.reshape(32, 32, -1).transpose(1, 0, 2))),
        line('  conv_forward', lambda: _conv_cuda.conv_forward(cp, x, w, (1, 1), pads, (1, 1),
                                                                1, (32, 32))),
        line('  g to channels-first (copy)', lambda: _conv_cuda._channels_first(g)),
        line('  weight GEMM (32x32768 @ 32768x288)', lambda: cp.matmul(g_cf, cols.T)),
        line('  conv_weight_grad', lambda: _conv_cuda.conv_weight_grad(
            cp, x, g, (1, 1), pads, (1, 1), 1, (3, 3))),
        line('  conv_input_grad (stride 1: flipped conv)', lambda: nbgrad.nn.functional
              ._im2col.conv_input_grad(g, w, (1, 1), pads, (1, 1), 1, (32, 32))),
        line('  bias gradient g.sum((0, 2, 3))', lambda: g.sum((0, 2, 3))),
        line('  bias gradient as rows: g_cf.sum(1)', lambda: g_cf.sum(1))]
    # an alternative layout: the operand as (N, C*K, L), one batched GEMM writing (N, O, L)
    # directly (no transpose), if CuPy runs a broadcast weight as one strided-batched call
    cols_by_image = normal(32, 288, 1024)
    w_rows = w.reshape(32, -1)
    out += [line('  alternative: batched GEMM W @ cols[n]',
                 lambda: cp.matmul(w_rows[None], cols_by_image)),
            line('  alternative: the same, W broadcast first',
                 lambda: cp.matmul(cp.broadcast_to(w_rows, (32, 32, 288)), cols_by_image))]
    h, w_hh = normal(32, 128), normal(512, 128)
    into = cp.empty((32, 512), cp.float32)
    rows = normal(50 * 32, 512)
    out += [line('LSTM step: matmul(h, W.T)', lambda: cp.matmul(h, w_hh.T)),
            line('LSTM step: dot(h, W.T, out=)', lambda: cp.dot(h, w_hh.T, out=into)),
            _direct_sgemm_line(cp, h, w_hh, into, line),
            line('LSTM step: a row-block view rows[32:64]', lambda: rows[32:64])]
    out += _lstm_layer_lines(cp, normal, line)
    out += _launch_cost_lines(cp, line)
    out += _cudnn_lines(cp, normal, line)
    out += _mlp_large_lines(line)
    params = [nbgrad.zeros(250_000, device='cuda', requires_grad=True) for _ in range(4)]
    for p in params:
        p.grad = nbgrad.ones_like(p)
    adam = nbgrad.optim.Adam(params)
    adam.step()
    arrays = [p._data for p in params] * 4
    out += [line('Adam 1M in 4 tensors: step()', adam.step),
            line('  pointer-table upload', lambda: _pointer_tables.upload_table(
                cp, arrays, [a.size for a in arrays[:4]]))]
    return out
