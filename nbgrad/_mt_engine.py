"""PyTorch's CPU random number generator, reproduced over NumPy.

`MT19937Engine` holds the same state as torch's `CPUGeneratorImpl` (mt19937 seeded with
init_genrand, plus the cached second Box-Muller sample), so `engine.seed(s)` followed by one of the
kernels below gives the numbers `torch.manual_seed(s)` followed by the matching torch call gives.
The kernels follow ATen's CPU code (DistributionsHelper.h, TransformationHelper.h,
cpu/DistributionTemplates.h, TensorFactories.cpp randperm_cpu, MultinomialKernel.cpp) draw for draw.

Exactness (checked against torch 2.13 on x86-64 Linux by tests/test_mt_engine.py):

* Bit-exact: raw 32/64-bit draws, uniform (float16/32/64, any range), normal float16/32/64 at
  every size (both the < 16 / non-contiguous serial path with its cached sample and the
  vectorised one), randint / random_ for integer, float and bool dtypes, randperm, bernoulli
  (scalar and tensor p), exponential, geometric, cauchy, log_normal, multinomial (with and without
  replacement), poisson, and get_state() (byte for byte what torch.get_rng_state() returns).
* How: torch's x86 kernels are built with -mfma and GCC fuses `a*b + c` into one fused
  multiply-add, so we emulate a correctly rounded fma (float32 via float64 plus a midpoint check,
  float64 via error-free transformations). torch's float32 normal kernel (size >= 16) is AVX2 code
  from avx_mathfun.h (Cephes log and sincos polynomials), which torch also runs on AVX-512 CPUs;
  we replay it operation for operation in float32. The double kernels call the C library's scalar
  log/log1p/tan/exp, and NumPy's own SIMD versions of those differ from it by an ulp now and then,
  so `_libm` calls the C library through `math` one element at a time: exact, but randn(float64),
  exponential, geometric, cauchy and log_normal run ~4x slower than torch. (NumPy's float64
  sin/cos agree with the C library's, as the tests check.) randperm's swaps are inherently
  sequential; `_forward_swaps` resolves them with a sort and pointer doubling instead of a loop.
* Not reproduced: on ARM or with ATEN_CPU_CAPABILITY=default torch uses scalar logf/sinf/cosf
  and no fma contraction; there float32 randn and scaled uniform/normal differ from ours in the
  last bits (measured <= 2.2e-6 absolute for randn). On Intel CPUs torch's bernoulli_(float p)
  (hence dropout) draws from MKL's MCG31 stream seeded by one random() (the kernel checks the CPU
  vendor); we reproduce the kernel every other CPU runs. bfloat16 is not handled.
"""
import math

import numpy as np

from . import _dtype
from ._exact import fma32 as _fmaf, fma64 as _fma

_f32, _f64, _i64, _u64 = np.float32, np.float64, np.int64, np.uint64
_INT64_MIN = -2 ** 63
DEFAULT_SEED = 67280421310721          # c10::detail::default_rng_seed_val

# torch.get_rng_state() layout: CPUGeneratorImplState (CPUGeneratorImpl.cpp), 5056 bytes on x86-64.
_STATE_DTYPE = np.dtype([
    ('seed', '<u8'), ('left', '<i4'), ('seeded', '<i4'), ('next', '<u8'), ('state', '<u8', 624),
    ('normal_x', '<f8'), ('normal_y', '<f8'), ('normal_rho', '<f8'), ('normal_is_valid', '<i4'),
    ('pad0', '<i4'), ('next_float_normal', '<f4'), ('float_normal_valid', 'u1'), ('pad1', 'u1', 3)])


class MT19937Engine:
    """mt19937 with torch's seeding, 64-bit draws and normal-sample cache."""

    def __init__(self, seed=DEFAULT_SEED):
        self._bg = np.random.MT19937(0)
        self.seed(seed)

    def seed(self, s):
        """torch.manual_seed: any int in [-2**63, 2**64); negatives wrap modulo 2**64, and only the
        low 32 bits reach init_genrand. Clears the cached normal samples, as torch does."""
        s = int(s)
        if not -2 ** 63 <= s < 2 ** 64:
            raise ValueError('Overflow when unpacking long long')     # torch's error
        self._seed = s % 2 ** 64
        self._bg._legacy_seeding(self._seed & 0xFFFFFFFF)
        # A freshly seeded torch engine reports next=0 (NumPy's pos=624 reads as next=624), so
        # remember it until the first draw to make get_state() byte-identical.
        self._fresh = True
        self.next_double_normal = None     # CPUGeneratorImpl::next_double_normal_sample_
        self.next_float_normal = None      # kept for state round trips; no CPU kernel here sets it

    def initial_seed(self):
        return self._seed

    def _raw(self, n):
        """n raw 32-bit outputs, as uint64 (NumPy's random_raw type)."""
        if n:
            self._fresh = False
        return self._bg.random_raw(n)

    def random_u32(self, n):
        """CPUGeneratorImpl::random()."""
        return self._raw(n).astype(np.uint32)

    def random_u64(self, n):
        """CPUGeneratorImpl::random64(): the first 32-bit draw is the high word."""
        r = self._raw(2 * n)
        return (r[0::2] << _u64(32)) | r[1::2]

    def get_state(self):
        """The 5056 bytes torch.get_rng_state() returns for the same generator state."""
        st = self._bg.state['state']
        pos = int(st['pos'])
        rec = np.zeros((), _STATE_DTYPE)
        rec['seed'], rec['seeded'] = self._seed, 1
        rec['left'] = 625 - pos          # torch keeps left + next == 625 once it has twisted
        rec['next'] = 0 if self._fresh else pos
        rec['state'] = st['key']
        if self.next_double_normal is not None:
            rec['normal_is_valid'], rec['normal_y'] = 1, self.next_double_normal
        if self.next_float_normal is not None:
            rec['float_normal_valid'], rec['next_float_normal'] = 1, self.next_float_normal
        return rec.tobytes()

    def set_state(self, data):
        """Inverse of get_state; also accepts torch.get_rng_state().numpy().tobytes()."""
        data = bytes(data)
        if len(data) != _STATE_DTYPE.itemsize:
            raise RuntimeError(f'Expected a CPUGeneratorImplState of size '
                               f'{_STATE_DTYPE.itemsize} but found the input RNG state size to be '
                               f'{len(data)}')
        rec = np.frombuffer(data, _STATE_DTYPE)[0]
        left, nxt = int(rec['left']), int(rec['next'])
        fresh = left == 1 and nxt == 0
        if not (0 < left <= 624 and (fresh or left + nxt == 625)):
            raise ValueError(f'invalid or unsupported mt19937 state (left={left}, next={nxt})')
        self._bg.state = {'bit_generator': 'MT19937',
                          'state': {'key': rec['state'].astype(np.uint32), 'pos': 625 - left}}
        self._seed, self._fresh = int(rec['seed']), fresh
        self.next_double_normal = float(rec['normal_y']) if rec['normal_is_valid'] else None
        self.next_float_normal = (float(rec['next_float_normal'])
                                  if rec['float_normal_valid'] else None)


def _libm(name, x):
    """The C library's double `name` element-wise (see module docstring for why not NumPy's)."""
    x = np.asarray(x, _f64)
    try:
        return np.fromiter(map(getattr(math, name), x.ravel().tolist()), _f64,
                           x.size).reshape(x.shape)
    except (ValueError, OverflowError):       # log(0), exp(1000): math raises, C returns inf
        with np.errstate(all='ignore'):
            return getattr(np, name)(x)


def _cast(x, dtype):
    """static_cast<scalar_t>(double or int64): Half has only a float constructor."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        x = x.astype(_f32)
    return x.astype(dtype)


def _numel(size):
    return int(np.prod(size, dtype=_i64)) if isinstance(size, (tuple, list)) else int(size)


# -------------------------------------------------------------------------- uniform, randint

def _uniform01_float(eng, n):
    """uniform_real_distribution<float>(0, 1): low 24 bits of random() times 2**-24."""
    return (eng.random_u32(n) & np.uint32(0xFFFFFF)).astype(_f32) * _f32(2 ** -24)


def _uniform01_double(eng, n):
    """uniform_real_distribution<double>(0, 1): low 53 bits of random64() times 2**-53."""
    return (eng.random_u64(n) & _u64(2 ** 53 - 1)).astype(_f64) * 2.0 ** -53


def uniform(eng, size, dtype=np.float32, low=0.0, high=1.0):
    """Tensor.uniform_(low, high) / torch.rand. Half computes in float and casts; a value that
    rounds up to `high` is replaced by `low` (uniform_kernel)."""
    dtype, n = np.dtype(dtype), _numel(size)
    unit = (low, high) == (0.0, 1.0)
    if dtype == np.float64:
        x = _uniform01_double(eng, n)
        if not unit:
            x = _fma(x, _f64(high) - _f64(low), low)     # x * (to - from) + from, contracted
    else:
        x = _uniform01_float(eng, n)
        if not unit:
            x = _fmaf(x, _f32(high) - _f32(low), _f32(low))
        x = x.astype(dtype)
    if not (unit and dtype != np.float16):      # only scaling or rounding to half can reach high
        x[x == dtype.type(high)] = dtype.type(low)
    return x.reshape(size)


def randint(eng, size, low, high, dtype=np.int64):
    """Tensor.random_(low, high) / torch.randint: (draw % range) + low, with a 64-bit draw when
    range >= 2**28; uint64 arithmetic, then static_cast via int64 to the dtype."""
    n, rng = _numel(size), int(high) - int(low)
    if not 0 < rng < 2 ** 64:
        raise ValueError(f'randint expects low < high, got low={low}, high={high}')
    if rng < 2 ** 28:     # 32-bit draw; the sum stays inside int64 for any valid low
        v = (eng.random_u32(n) % np.uint32(rng)).astype(_i64) + int(low)
    else:
        v = (eng.random_u64(n) % _u64(rng) + _u64(int(low) % 2 ** 64)).view(_i64)
    return _cast(v, dtype).reshape(size)


def random_full_range(eng, size, dtype=np.int64):
    """Tensor.random_(-2**63, None): the random64() bits as int64."""
    return _cast(eng.random_u64(_numel(size)).view(_i64), dtype).reshape(size)


def random_(eng, size, dtype=np.int64):
    """Tensor.random_() without bounds (transformation::uniform_int): [0, max] for integers,
    [0, 2**mantissa_digits] for floats, the low bit for bool."""
    dtype, n = np.dtype(dtype), _numel(size)
    if dtype == np.bool_:
        return (eng.random_u32(n) & np.uint32(1)).astype(bool).reshape(size)
    if dtype in (np.int64, np.float64):
        mod = 2 ** 63 if dtype == np.int64 else 2 ** 53 + 1
        return _cast(eng.random_u64(n) % _u64(mod), dtype).reshape(size)
    mod = 2 ** (_dtype.finfo(dtype).nmant + 1) + 1 if dtype.kind in _dtype.FLOATING_KINDS \
        else np.iinfo(dtype).max + 1
    return _cast((eng.random_u32(n).astype(_u64) % _u64(mod)).astype(_i64), dtype).reshape(size)


# -------------------------------------------------------------------------------------- normal

_PS = [_f32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                         1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                         3.3333331174E-1)]


def _log256_ps(x):
    """avx_mathfun.h log256_ps for x in (0, 1], with the fmas GCC forms from its mul/add pairs."""
    bits = x.view(np.int32)                       # x >= 2**-24: no denormal clamp needed
    e = ((bits >> 23) - 0x7E).astype(_f32)        # exponent + 1
    x = ((bits & ~0x7F800000) | 0x3F000000).view(_f32)        # mantissa scaled into [0.5, 1)
    small = x < _f32(0.707106781186547524)
    x = (x - _f32(1)) + x * small                 # x + x - 1 below sqrt(1/2), else x - 1
    e -= small
    z = x * x
    # Horner steps y = fma(y, x, c): x is a multiple of 2**-24 in [-0.30, 0.42] (1 - u has 24
    # fraction bits) and every y stays in [2**-5, 0.5), so y*x + c fits 53 bits: exact in float64.
    x64 = x.astype(_f64)
    y = np.full_like(x, _PS[0])
    for c in _PS[1:]:
        y = _fmaf(y, x64, c, exact_sum=True)
    y *= x
    y = _fmaf(y, z, e * _f32(-2.12194440e-4))     # y*z + e*q1: GCC fuses the first product
    y -= z * _f32(0.5)
    x += y
    return x + e * _f32(0.693359375)


def _sincos256_ps(x):
    """avx_mathfun.h sincos256_ps for x >= 0 (theta = 2*pi*u), fmas as GCC forms them."""
    j = (x * _f32(1.27323954473516)).astype(np.int32)         # scale by 4/pi, truncate
    j = (j + 1) & ~1
    y = j.astype(_f32)
    # x - y*pi/4 in three parts; y <= 8 and DP1, DP2 have 8 and 11 bits, so those products are
    # exact and the fma is a plain float add; the DP3 step's float64 sum spans < 53 bits.
    x = x + y * _f32(-0.78515625)
    x = x + y * _f32(-2.4187564849853515625e-4)
    x = _fmaf(y, _f32(-3.77489497744594108e-8), x, exact_sum=True)
    z = x * x
    yc = _fmaf(_fmaf(_f32(2.443315711809948E-005), z, _f32(-1.388731625493765E-003)),
               z, _f32(4.166664568298827E-002)) * z
    yc = (_fmaf(yc, z, -(z * _f32(0.5))) + _f32(1)).view(np.int32)
    ys = _fmaf(_fmaf(_f32(-1.9515295891E-4), z, _f32(8.3321608736E-3)),
               z, _f32(-1.6666654611E-1)) * z
    ys = _fmaf(ys, x, x).view(np.int32)
    # Select polynomials and signs with the same bit masks as the AVX code (np.where is slower).
    poly = ((j & 2) >> 1) - 1                      # all ones where the sine uses the sine poly
    s = ((ys & poly) | (yc & ~poly)) ^ ((j & 4) << 29)
    c = ((yc & poly) | (ys & ~poly)) ^ ((~(j - 2) & 4) << 29)
    return s.view(_f32), c.view(_f32)


def _normal_fill16_float(u, mean, std):
    """NormalFill16<float> on AVX2 for rows of 16 uniforms: 8 Box-Muller pairs per row.
    Works through 4096 rows at a time, which keeps the many temporaries in cache."""
    out = np.empty_like(u)
    for i in range(0, len(u), 4096):
        blk = u[i:i + 4096]
        u1, u2 = _f32(1) - blk[:, :8], blk[:, 8:]
        radius = np.sqrt(_f32(-2) * _log256_ps(u1))
        s, c = _sincos256_ps(_f32(6.283185307179586) * u2)
        out[i:i + 4096, :8], out[i:i + 4096, 8:] = radius * c, radius * s
    return out if (mean, std) == (0.0, 1.0) else _fmaf(out, _f32(std), _f32(mean))


def _normal_fill16_double(u, mean, std):
    """NormalFill16<double>: scalar std::log/cos/sin, theta in double, std::fma with std/mean."""
    radius = np.sqrt(-2.0 * _libm('log', 1.0 - u[:, :8]))
    theta = 6.283185307179586 * u[:, 8:]
    out = np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    return out if (mean, std) == (0.0, 1.0) else _fma(out, std, mean)


def _normal_serial(eng, n):
    """n draws of normal_distribution<double> with the generator's cached second sample:
    each fresh pair uses two random64 uniforms and yields r*cos, caching r*sin."""
    if n == 0:
        return np.empty(0, _f64)
    head = [] if eng.next_double_normal is None else [eng.next_double_normal]
    eng.next_double_normal = None
    m = n - len(head)
    if m == 0:
        return np.array(head, _f64)
    u = _uniform01_double(eng, 2 * ((m + 1) // 2)).reshape(-1, 2)
    r = np.sqrt(-2.0 * _libm('log1p', -u[:, 1]))
    theta = 2.0 * math.pi * u[:, 0]
    pairs = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).ravel()
    if m % 2:
        eng.next_double_normal = float(pairs[-1])
    return np.concatenate([head, pairs[:m]])


def normal(eng, size, dtype=np.float32, mean=0.0, std=1.0, contiguous=True):
    """Tensor.normal_(mean, std) / torch.randn (normal_kernel). Tensors of 16+ elements that are
    contiguous take the vectorised normal_fill; the rest go element by element (in TensorIterator
    order, which the caller maps to positions) through normal_distribution<double>."""
    dtype, n = np.dtype(dtype), _numel(size)
    if n < 16 or not contiguous:       # serial path, sharing the generator's cached sample
        return _cast(_fma(_normal_serial(eng, n), std, mean), dtype).reshape(size)
    # normal_fill: transform whole rows of 16 uniforms, then draw 16 fresh uniforms for the last
    # 16 slots when n is not a multiple of 16 (overwriting part of the last row). float/double
    # first draw all n uniforms into the output (the n % 16 spare ones are wasted); half draws
    # only the whole rows, through a 16-float buffer.
    double = dtype == np.float64
    draw, fill = ((_uniform01_double, _normal_fill16_double) if double
                  else (_uniform01_float, _normal_fill16_float))
    full = n // 16 * 16
    u = draw(eng, n if dtype in (np.float32, np.float64) else full)
    out = np.empty(n, u.dtype)
    out[:full] = fill(u[:full].reshape(-1, 16), mean, std).ravel()
    if n % 16:
        out[n - 16:] = fill(draw(eng, 16).reshape(1, 16), mean, std).ravel()
    return out.astype(dtype).reshape(size)


def log_normal(eng, size, mean=1.0, std=2.0, dtype=np.float32):
    """Tensor.log_normal_: exp of the serial double normal (it shares the normal cache)."""
    v = _normal_serial(eng, _numel(size))
    return _cast(_libm('exp', _fma(v, std, mean)), dtype).reshape(size)


# ---------------------------------------------------------- other per-element distributions

def exponential(eng, size, lambd=1.0, dtype=np.float32):
    """Tensor.exponential_: -1/lambda * log1p(-u) in double."""
    u = _uniform01_double(eng, _numel(size))
    return _cast((-1.0 / lambd) * _libm('log1p', -u), dtype).reshape(size)


def geometric(eng, size, p, dtype=np.float32):
    """Tensor.geometric_: ceil(log(u) / log1p(-p)) in double."""
    u = _uniform01_double(eng, _numel(size))
    return _cast(np.ceil(_libm('log', u) / math.log1p(-p)), dtype).reshape(size)


def cauchy(eng, size, median=0.0, sigma=1.0, dtype=np.float32):
    """Tensor.cauchy_: median + sigma * tan(pi * (u - 0.5)), the add fused into an fma."""
    u = _uniform01_double(eng, _numel(size))
    return _cast(_fma(sigma, _libm('tan', math.pi * (u - 0.5)), median), dtype).reshape(size)


def bernoulli_scalar(eng, size, p, dtype=np.float32):
    """Tensor.bernoulli_(float p), non-MKL kernel: double uniform < p."""
    return (_uniform01_double(eng, _numel(size)) < p).astype(dtype).reshape(size)


def bernoulli_tensor(eng, p, dtype=None):
    """torch.bernoulli(p) / Tensor.bernoulli_(p_tensor), p already broadcast to the output shape:
    one draw per element in C order; a double uniform when p is float64, a float one otherwise."""
    p = np.asarray(p)
    if p.dtype == np.float64:
        hit = _uniform01_double(eng, p.size) < p.ravel()
    else:
        hit = _uniform01_float(eng, p.size) < p.ravel().astype(_f32)
    return hit.astype(dtype or p.dtype).reshape(p.shape)


# ----------------------------------------------------------------------------------- randperm

def _forward_swaps(j):
    """Array produced by `for k in range(n): a[k], a[j[k]] = a[j[k]], a[k]` from a = arange(n),
    for targets j[k] >= k, without the sequential loop.

    Let v[k] be the value at position k just before step k. Step m moves v[m] to position j[m],
    and positions >= k are touched before step k only as targets, so the value at a position p >= k
    before step k is v[m] for the latest m < k with j[m] == p, or p itself if there is none. Hence
    out[k] = v[latest earlier step with the same target] (or j[k]) and v[k] = v[latest earlier step
    targeting k] (or k): a forest of pointers to smaller indices, resolved by pointer doubling."""
    n = len(j)
    k = np.arange(n, dtype=_i64)
    tgt, step = np.divmod(np.sort(j * n + k), n)        # steps grouped by target, in step order
    same = tgt[1:] == tgt[:-1]
    prev = np.empty(n, _i64)
    prev[step[0]] = -1
    prev[step[1:]] = np.where(same, step[:-1], -1)        # latest earlier step with my target
    last = np.full(n, -1, _i64)
    ends = np.flatnonzero(np.append(~same, True))
    last[tgt[ends]] = step[ends]                          # latest step targeting each position
    before = np.where(last == k, prev, last)              # ... before step k (j[m] == k => m <= k)
    root = np.where(before >= 0, before, k)
    while True:
        up = root[root]
        if np.array_equal(up, root):
            break
        root = up
    return np.where(prev >= 0, root[prev], j)


def randperm(eng, n, dtype=np.int64):
    """torch.randperm on CPU (randperm_cpu). For n < 2**32 / 20: Fisher-Yates from the front,
    swapping a[i] with a[i + random() % (n - i)] for i < n - 1. Larger n: the inside-out variant,
    a[i] = a[z]; a[z] = i with z = random64() % (i + 1), which is the swap sequence (i, z_i) on
    arange(n); run backwards and mirrored it becomes front swaps, whose inverse is the answer."""
    n = int(n)
    if n <= 1:
        return np.arange(n).astype(dtype)
    if n < (2 ** 32 - 1) // 20:
        z = eng.random_u32(n - 1).astype(_i64) % np.arange(n, 1, -1, dtype=_i64)
        j = np.append(np.arange(n - 1, dtype=_i64) + z, n - 1)
        return _forward_swaps(j).astype(dtype)
    return _randperm_inside_out(eng, n).astype(dtype)


def _randperm_inside_out(eng, n):
    """randperm_cpu for n >= 2**32 / 20 (separate so tests can run it on small n)."""
    i = np.arange(n, dtype=_i64)
    z = (eng.random_u64(n) % (i + 1).astype(_u64)).astype(_i64)
    mirrored = _forward_swaps(n - 1 - z[::-1])            # swaps (n-1-i, n-1-z_i), i descending
    inv = n - 1 - mirrored[::-1]                          # undo the mirroring: inverse permutation
    out = np.empty(n, _i64)
    out[inv] = i
    return out


# -------------------------------------------------------------------------------- multinomial

def multinomial(eng, probs, num_samples, replacement=True):
    """torch.multinomial on CPU with replacement (and more than one sample): per row, a float
    cumulative distribution normalised by its sum and a lower-bound search of one double
    uniform per sample. (The other cases draw Exp(1) noise into a tensor laid out like probs
    and take a topk: _random_ops.multinomial.)"""
    assert replacement
    probs = np.asarray(probs)
    rows = probs.reshape(-1, probs.shape[-1])
    acc = probs.dtype if probs.dtype in (np.float32, np.float64) else _f32
    cum = np.cumsum(rows.astype(acc), axis=-1)        # sequential, like the kernel's loop
    cum = (cum / cum[:, -1:]).astype(_f64)
    cum[:, -1] = 1.0
    out = np.empty((rows.shape[0], num_samples), _i64)
    for r in range(rows.shape[0]):
        out[r] = np.searchsorted(cum[r], _uniform01_double(eng, num_samples), side='left')
    return out.reshape(probs.shape[:-1] + (num_samples,))


# ------------------------------------------------------------------------------------ poisson

class _UniformStream:
    """uniform_real_distribution<double>(0, 1) draws one at a time, fetched in blocks; finish()
    rewinds the engine to just after the draws that were used (the kernel's draw count depends
    on the values)."""

    def __init__(self, eng, block=4096):
        self.eng, self.block = eng, block
        self.saved = eng._bg.state
        self.values, self.pos, self.used = _uniform01_double(eng, block), 0, 0

    def __call__(self):
        if self.pos == len(self.values):
            self.values, self.pos = _uniform01_double(self.eng, self.block), 0
        self.pos += 1
        self.used += 1
        return float(self.values[self.pos - 1])

    def finish(self):
        self.eng._bg.state = self.saved
        self.eng._raw(2 * self.used)


def _poisson_one(lam, uniform):
    """ATen's sample_poisson (Distributions.cpp) for one rate, in double whatever the tensor's
    dtype: Hoermann's transformed rejection from 10 up, products of uniforms below. That file
    is built without the per-CPU flags, so nothing is fused here."""
    if not lam >= 0:
        raise RuntimeError('invalid Poisson rate, expected rate to be non-negative')
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            t = (2 * a / us + b) * u + lam + 0.43
            k = math.floor(t) if math.isfinite(t) else _INT64_MIN   # x86's int64 of inf
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    (-lam + k * loglam - math.lgamma(k + 1)):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    x, prod = 0, 1.0
    while True:
        prod *= uniform()
        if prod > enlam:
            x += 1
        else:
            return x


def poisson(eng, rates):
    """torch.poisson on the CPU: sample_poisson element by element in C order, each drawing
    as many double uniforms as it needs."""
    rates = np.asarray(rates)
    uniform = _UniformStream(eng)
    try:
        out = [_poisson_one(lam, uniform) for lam in rates.ravel().tolist()]
    finally:
        uniform.finish()
    return np.array(out, dtype=np.float64).astype(rates.dtype).reshape(rates.shape)
