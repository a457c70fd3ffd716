"""The CUDA generator's engine: counter-based Philox4x32-10, written with array-module ops only.

Like PyTorch's CUDA generator, its whole state is (seed, offset): every call consumes a block of
counters and advances the offset, so get_state/set_state are 16 bytes and replay exactly. The code
runs unchanged on NumPy (how it is tested without a GPU) and on CuPy (where it runs on the device).
"""
import functools
import math

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


def philox4x32(xp, counters, key):
    """Philox4x32-10 on an (n, 4) uint64 array of 32-bit counter words; returns (n, 4) words."""
    c0, c1, c2, c3 = (counters[:, i] for i in range(4))
    k0, k1 = key
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0, lo0 = p0 >> _SHIFT32, p0 & _MASK32
        hi1, lo1 = p1 >> _SHIFT32, p1 & _MASK32
        c0, c1, c2, c3 = (hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0)
        k0 = (k0 + _W0) & 0xFFFFFFFF
        k1 = (k1 + _W1) & 0xFFFFFFFF
    return xp.stack([c0, c1, c2, c3], axis=1)


class PhiloxEngine:
    """seed + offset; `words(n)` returns n fresh 32-bit words (as uint64) on the array module."""
    DEFAULT_SEED = 67280421310721

    def __init__(self, xp, seed=DEFAULT_SEED, device_index=None):
        self.xp = xp
        self.device_index = device_index  # the GPU whose numbers these are (None on NumPy)
        self.seed(seed)

    def seed(self, s):
        self._seed = int(s) % 2 ** 64
        self.offset = 0

    def initial_seed(self):
        return self._seed

    def words(self, n):
        xp = self.xp
        blocks = (n + 3) // 4
        index = xp.arange(blocks, dtype=np.uint64) + np.uint64(self.offset)
        counters = xp.zeros((blocks, 4), dtype=np.uint64)
        counters[:, 0] = index & _MASK32
        counters[:, 1] = index >> _SHIFT32
        self.offset += blocks
        key = (self._seed & 0xFFFFFFFF, self._seed >> 32)
        return philox4x32(xp, counters, key).reshape(-1)[:n]

    def get_state(self):
        return np.array([self._seed, self.offset], dtype='<u8').tobytes()

    def set_state(self, data):
        data = bytes(data)
        if len(data) != 16:
            raise ValueError(f'CUDA RNG state must be 16 bytes (seed, offset), got {len(data)}')
        self._seed, self.offset = (int(v) for v in np.frombuffer(data, '<u8'))

    # -- distributions ------------------------------------------------------------------------
    def _unit(self, n, np_dtype):
        """Uniform [0, 1): 24 bits for float32/16, 53 bits for float64."""
        if np.dtype(np_dtype) == np.float64:
            w = self.words(2 * n).reshape(-1, 2)
            bits = ((w[:, 0] << _SHIFT32) | w[:, 1]) >> np.uint64(11)
            return bits.astype(np.float64) * 2.0 ** -53
        return (self.words(n) >> np.uint64(8)).astype(np.float32) * np.float32(2 ** -24)

    def uniform(self, size, np_dtype, low=0.0, high=1.0):
        n = _numel(size)
        x = self._unit(n, np_dtype)
        if (low, high) != (0.0, 1.0):
            x = x * (high - low) + low
        out = x.astype(np_dtype)
        if out.dtype != x.dtype:
            # rounding to a narrower dtype can reach `high`; PyTorch's CUDA kernel maps that
            # value to `low`, which keeps the range [low, high)
            top = np.dtype(np_dtype).type(high)
            out[out == top] = np.dtype(np_dtype).type(low)
        return out.reshape(size)

    def normal(self, size, np_dtype, mean=0.0, std=1.0):
        """Box-Muller on pairs of uniforms (1 - u keeps the log away from zero)."""
        xp = self.xp
        n = _numel(size)
        work = np.float64 if np.dtype(np_dtype) == np.float64 else np.float32
        u = self._unit(2 * ((n + 1) // 2), work).reshape(-1, 2)
        radius = xp.sqrt(-2 * xp.log(1 - u[:, 0]))
        theta = 2 * math.pi * u[:, 1]
        z = xp.stack([radius * xp.cos(theta), radius * xp.sin(theta)], axis=1).reshape(-1)[:n]
        return (z * std + mean).astype(np_dtype).reshape(size)

    def randint(self, size, low, high, np_dtype):
        n = _numel(size)
        span = int(high) - int(low)
        if span <= 0:
            raise RuntimeError(f'random_ expects \'from\' to be less than \'to\', but got '
                               f'from={low} >= to={high}')
        w = self.words(2 * n).reshape(-1, 2)
        bits = (w[:, 0] << _SHIFT32) | w[:, 1]
        return ((bits % np.uint64(span)).astype(np.int64) + int(low)).astype(np_dtype).reshape(size)

    def randperm(self, n, np_dtype):
        w = self.words(2 * n).reshape(-1, 2)
        keys = (w[:, 0] << _SHIFT32) | w[:, 1]
        return self.xp.argsort(keys).astype(np_dtype)

    def bernoulli(self, p, np_dtype):
        u = self._unit(int(p.size), p.dtype if p.dtype == np.float64 else np.float32)
        return (u.reshape(p.shape) < p).astype(np_dtype)

    def exponential(self, size, lambd, np_dtype):
        u = self._unit(_numel(size), np.float64)
        return (-self.xp.log1p(-u) / lambd).astype(np_dtype).reshape(size)

    def geometric(self, size, p, np_dtype):
        u = self._unit(_numel(size), np.float64)
        return self.xp.ceil(self.xp.log(1 - u) / math.log1p(-p)).astype(np_dtype).reshape(size)

    def cauchy(self, size, median, sigma, np_dtype):
        u = self._unit(_numel(size), np.float64)
        return (median + sigma * self.xp.tan(math.pi * (u - 0.5))).astype(np_dtype).reshape(size)

    def log_normal(self, size, mean, std, np_dtype):
        return self.xp.exp(self.normal(size, np.float64, mean, std)).astype(np_dtype)

    def multinomial(self, probs, num_samples, replacement):
        xp = self.xp
        rows = probs.reshape(-1, probs.shape[-1]).astype(np.float64)
        if not replacement:
            # Gumbel-top-k: exactly sampling without replacement
            e = self.exponential(rows.shape, 1.0, np.float64)
            return xp.argsort(-(rows / e), axis=1)[:, :num_samples]
        cdf = xp.cumsum(rows, axis=1)
        cdf = cdf / cdf[:, -1:]
        u = self._unit(rows.shape[0] * num_samples, np.float64).reshape(rows.shape[0], num_samples)
        out = xp.stack([xp.searchsorted(cdf[i], u[i], side='right') for i in range(rows.shape[0])])
        return xp.minimum(out, rows.shape[1] - 1)


def _on_own_device(method):
    """Run a sampler with the engine's GPU current: CuPy allocates on the current device."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if self.device_index is None:
            return method(self, *args, **kwargs)
        from ._dispatch import gpu_scope
        with gpu_scope(self.device_index):
            return method(self, *args, **kwargs)
    return run


for _name in ('words', 'uniform', 'normal', 'randint', 'randperm', 'bernoulli', 'exponential',
              'geometric', 'cauchy', 'log_normal', 'multinomial'):
    setattr(PhiloxEngine, _name, _on_own_device(getattr(PhiloxEngine, _name)))


def _numel(size):
    n = 1
    for s in (size if isinstance(size, (tuple, list)) else (size,)):
        n *= int(s)
    return n
