"""The CuPy 14 behaviours the fake imitates (see fake_cuda/cupy/__init__.py's 'CuPy:' comments),
written so that they hold for real CuPy too: with NBGRAD_FAKE_CUDA=1 they check the fake, and on
a GPU machine (scripts/gpu_check runs `-m cuda`) they check that the fake's claims are true."""
import numpy as np
import pytest

cupy = pytest.importorskip('cupy')
cupyx = pytest.importorskip('cupyx')

pytestmark = pytest.mark.cuda


def test_host_arrays_are_refused_scalars_accepted():
    x = cupy.arange(3.)
    for bad in (lambda: x + np.ones(3), lambda: x * np.asarray(2.), lambda: cupy.exp(np.ones(2)),
                lambda: cupy.maximum(np.asarray(1.), 2.), lambda: cupy.stack([x, np.ones(3)])):
        with pytest.raises(TypeError):
            bad()
    for ok in (x + 1, x * np.float32(2), cupy.maximum(x, np.int64(1)), cupy.exp(1.0)):
        assert isinstance(ok, cupy.ndarray)


def test_where_host_arrays_are_accepted():
    x = cupy.zeros(3)
    assert isinstance(cupy.asarray(np.ones(2)), cupy.ndarray)
    assert isinstance(cupy.array(np.ones(2)), cupy.ndarray)
    assert isinstance(cupy.asnumpy(x), np.ndarray)
    assert cupy.full(2, np.asarray([2.])).tolist() == [2., 2.]
    cupy.copyto(x, np.asarray([3.]))
    x.fill(np.asarray(1.))
    x[cupy.asarray([0, 1])] = np.asarray([5., 6.])   # an array index converts the value
    assert x.tolist() == [5., 6., 1.]
    with pytest.raises(ValueError):
        x.fill(np.ones(3))
    with pytest.raises(ValueError):
        x[...] = np.ones(3)                          # a[...] = v is fill(v)
    with pytest.raises(ValueError):
        cupy.copyto(x, np.ones(3))


def test_out_of_range_array_indices_wrap():
    x = cupy.arange(4.) * 10
    assert x[cupy.asarray([4, -5, 9])].tolist() == [0., 30., 10.]
    assert cupy.take(x, cupy.asarray([5])).tolist() == [10.]
    assert x.reshape(2, 2)[:, cupy.asarray([2])].tolist() == [[0.], [20.]]
    x[cupy.asarray([6])] = -1.
    assert x.tolist() == [0., 10., -1., 30.]
    with pytest.raises(IndexError):
        x[4]                                         # a plain integer still raises


def test_solve_shapes():
    a, b = cupy.asarray(np.eye(3)[None].repeat(2, 0)), cupy.ones((3, 4))
    with pytest.raises(ValueError):
        cupy.linalg.solve(a, b)                      # no batch broadcasting
    with pytest.raises(ValueError):                  # (CuPy 14.2 on an H200)
        cupy.linalg.solve(a, cupy.ones((2, 3)))      # nor a stack of vectors
    assert cupy.linalg.solve(a, cupy.ones((2, 3, 1))).shape == (2, 3, 1)


def test_as_strided_has_no_base():
    x = cupy.arange(10.)
    v = cupy.lib.stride_tricks.as_strided(x[2:], (2, 2), (8, 8))
    assert v.base is None and v[1:].base is v
    assert x[2:].base is x and x[2:][1:].base is x   # a view's base is the owner, not a chain


# CuPy 14.2's list, as an H200 run reported it
SCATTER_ADD_DTYPES = {np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64,
                                            np.float16, np.float32, np.float64)}


def test_scatter_add_dtypes():
    """The dtypes scatter_add takes with an integer-array index (an atomicAdd kernel); on a GPU
    run the assertion names CuPy's own list."""
    accepted = set()
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64,
               np.float16, np.float32, np.float64, np.bool_):
        a = cupy.zeros(2, dtype=dt)
        try:
            cupyx.scatter_add(a, cupy.asarray([1, 1]), cupy.ones(2, dtype=dt))
        except TypeError:
            continue
        accepted.add(np.dtype(dt))
        expected = np.zeros(2, dt)
        np.add.at(expected, [1, 1], np.ones(2, dt))
        assert a.get().tolist() == expected.tolist(), dt
    assert accepted == SCATTER_ADD_DTYPES, sorted(map(str, accepted))


def test_bincount_of_empty_input():
    """CuPy 14.2 gives NumPy's zeros (14.0 raised, cupy/cupy#9951)."""
    assert cupy.bincount(cupy.zeros(0, dtype=np.int64), minlength=3).tolist() == [0, 0, 0]
    assert cupy.bincount(cupy.zeros(0, dtype=np.int64)).shape == (0,)


def test_argument_types():
    with pytest.raises(TypeError):
        cupy.broadcast_to(1.0, (2,))
    with pytest.raises(AttributeError):
        cupy.where(True, cupy.ones(2), cupy.zeros(2))


def test_linalg_failures_raise_only_when_asked():
    singular = cupy.zeros((2, 2))
    cupy.linalg.inv(singular)                        # garbage, no error
    cupy.linalg.svd(cupy.asarray([[1., np.nan], [0., 1.]]))
    with cupyx.errstate(linalg='raise'):
        with pytest.raises(np.linalg.LinAlgError):
            cupy.linalg.inv(singular)


@pytest.mark.skipif(cupy.cuda.runtime.getDeviceCount() < 2, reason='needs two devices')
def test_two_devices():
    assert cupy.cuda.Device().id == 0
    with cupy.cuda.Device(1):
        x = cupy.arange(3.)
        assert x.device.id == 1 and (x + 1).device.id == 1
    assert x[1:].device.id == 1                      # views live where their memory is
    assert x.copy().device.id == 0                   # copies go to the current device
    assert cupy.asarray(x).device.id == 0
    if cupy.__version__ == '0.0-fake':               # GPUs with peer access only warn
        with pytest.raises(ValueError):
            x + 1                                    # a kernel on device 0 reading device 1


def test_memory_pointer_names_the_device():
    """nbgrad reads an array's device from a.data.device_id (a.device makes a new object)."""
    a = cupy.arange(3.)
    assert a.data.device_id == a.device.id == cupy.cuda.runtime.getDevice()
    assert a[1:].data.device_id == a.device.id


BLOCK_SUMS = r'''
extern "C" __global__ void block_sums(const double* x, double* sums, double* shifted,
                                      long long n) {
    // each block sums its row by a shared-memory tree, then every thread reads the total:
    // wrong unless all threads write before any reads (the barriers)
    __shared__ double partial[128];
    const double* row = x + blockIdx.x * n;
    double own = 0;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) own += row[j];
    partial[threadIdx.x] = own;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    double total = partial[0];
    for (long long j = threadIdx.x; j < n; j += blockDim.x) shifted[blockIdx.x * n + j] = row[j] - total;
    if (threadIdx.x == 0) sums[blockIdx.x] = total;
}
'''


def test_cooperative_kernel_threads_meet_at_barriers():
    """A kernel whose threads share memory and meet at __syncthreads() (the fake runs each block's
    threads as coroutines; a GPU runs them for real): sums per row against NumPy's."""
    try:
        kernel = cupy.RawKernel(BLOCK_SUMS, 'block_sums')
        x = np.random.default_rng(0).standard_normal((5, 300))
        sums, shifted = cupy.empty(5), cupy.empty((5, 300))
        kernel((5,), (128,), (cupy.asarray(x), sums, shifted, np.int64(300)))
    except cupy.cuda.compiler.CompileException:
        pytest.skip('the fake CuPy runs kernel source only with g++')
    np.testing.assert_allclose(sums.get(), x.sum(1), rtol=1e-12)
    np.testing.assert_allclose(shifted.get(), x - x.sum(1, keepdims=True), rtol=1e-12)
