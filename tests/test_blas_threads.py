"""nbgrad._blas.single_threaded: NumPy's OpenBLAS runs on one thread inside the block and gets
its thread count back after it, nested, from several threads at once, and on errors. The counts
are read back from OpenBLAS itself."""
from concurrent.futures import ThreadPoolExecutor
import threading

import numpy as np
import pytest

from nbgrad import _blas

blas = _blas._openblas()
needs_openblas = pytest.mark.skipif(blas is None, reason='NumPy is not linked to OpenBLAS here')


@pytest.fixture
def two_blas_threads():
    before = blas[1]()
    blas[0](2)
    yield
    blas[0](before)


@needs_openblas
def test_one_thread_inside_and_the_count_back_after(two_blas_threads):
    with _blas.single_threaded():
        assert blas[1]() == 1
        a = np.arange(64.0).reshape(8, 8)
        np.testing.assert_array_equal(a @ a, np.einsum('ij,jk->ik', a, a))
        with _blas.single_threaded():
            assert blas[1]() == 1
        assert blas[1]() == 1            # the inner block leaves the outer one's setting
    assert blas[1]() == 2


@needs_openblas
def test_an_error_inside_restores_the_count(two_blas_threads):
    with pytest.raises(ZeroDivisionError):
        with _blas.single_threaded():
            1 / 0
    assert blas[1]() == 2


@needs_openblas
def test_overlapping_blocks_on_threads_hold_one_until_the_last_leaves(two_blas_threads):
    entered, release = threading.Barrier(3), threading.Event()
    seen = []

    def block():
        with _blas.single_threaded():
            entered.wait()
            release.wait()
            seen.append(blas[1]())
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(block) for _ in range(2)]
        entered.wait()
        assert blas[1]() == 1
        release.set()
        for f in futures:
            f.result()
    assert seen == [1, 1] and blas[1]() == 2


def test_without_openblas_the_block_runs_unchanged(monkeypatch):
    monkeypatch.setitem(_blas._state, 'found', False)
    ran = []
    with _blas.single_threaded():
        ran.append(True)
    assert ran == [True]
