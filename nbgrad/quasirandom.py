"""nbgrad.quasirandom: SobolEngine, PyTorch's (scrambled) Sobol sequence generator.

The engine is torch/quasirandom.py's, line for line, over nbgrad tensors; the four ATen kernels it
calls (_sobol_engine_initialize_state_, _draw, _ff_, _scramble_ in SobolEngineOps.cpp) are the
NumPy functions below. The points are dyadic rationals k / 2**30, so they equal PyTorch's exactly,
and a scrambled engine draws its random bits with nbgrad.randint, whose stream is PyTorch's: the
same seed scrambles the same way.

Direction numbers: Joe & Kuo's new-joe-kuo-6.21201 table (search criterion D(6), the table behind
ATen's SobolEngineOpsUtils.cpp and SciPy's qmc.Sobol), kept in _sobol_directions.npz and read on
first use. Per dimension d it holds the primitive polynomial `poly` (its bits, leading and trailing
1 included, so degree = bit_length - 1) and the degree's initial direction numbers m_1..m_deg.
Each m_i is odd and below 2**i, so the file stores (m_i - 1) // 2 in the smallest unsigned type,
as one array per i ('m0'..'m17') holding the dimensions whose degree exceeds i; dimensions are
sorted by degree, so those are the last len(m_i) dimensions.
"""
import os

import numpy as np

import nbgrad
from ._tensor import Tensor

MAXBIT = 30
MAXDIM = 21201
_DIRECTIONS_FILE = os.path.join(os.path.dirname(__file__), '_sobol_directions.npz')
_directions = None  # (poly, initial direction numbers), loaded on first use


def _direction_table():
    """(poly as int64 of shape (MAXDIM,), initial direction numbers as int64 (MAXDIM, 18))."""
    global _directions
    if _directions is None:
        with np.load(_DIRECTIONS_FILE) as data:
            poly = data['poly'].astype(np.int64)
            columns = [data[f'm{i}'] for i in range(len(data.files) - 1)]
        initial = np.zeros((MAXDIM, len(columns)), dtype=np.int64)
        for i, half in enumerate(columns):
            initial[MAXDIM - len(half):, i] = 2 * half.astype(np.int64) + 1
        _directions = poly, initial
    return _directions


def _initial_state(dimension):
    """ATen's _sobol_engine_initialize_state_: the (dimension, MAXBIT) int64 direction numbers,
    each scaled to a 30-bit fixed-point fraction (column j times 2**(MAXBIT - 1 - j))."""
    poly, initial = _direction_table()
    poly, initial = poly[:dimension], initial[:dimension]
    state = np.zeros((dimension, MAXBIT), dtype=np.int64)
    state[0] = 1    # the first dimension is van der Corput's sequence
    degrees = np.array([int(p).bit_length() - 1 for p in poly])
    # Bratley & Fox's recurrence (Algorithm 659), run for all dimensions of one degree at once
    for m in range(1, int(degrees.max(initial=0)) + 1):
        rows = np.nonzero(degrees == m)[0]
        rows = rows[rows > 0]
        if rows.size == 0:
            continue
        v = np.zeros((rows.size, MAXBIT), dtype=np.int64)
        v[:, :m] = initial[rows, :m]
        p = poly[rows]
        for j in range(m, MAXBIT):
            new = v[:, j - m].copy()
            for k in range(m):
                use = ((p >> (m - 1 - k)) & 1).astype(bool)
                new ^= np.where(use, v[:, j - k - 1] << (k + 1), 0)
            v[:, j] = new
        state[rows] = v
    return state * (np.int64(1) << np.arange(MAXBIT - 1, -1, -1, dtype=np.int64))


def _xor_prefix(state, counts):
    """XOR of the direction numbers the Gray-code update uses at counters 0 .. N-1, for each N
    in `counts`: the counter k uses column (number of trailing one bits of k), and those XOR to
    the columns of the set bits of N's Gray code, N ^ (N >> 1). Shape (len(counts), dims)."""
    gray = counts ^ (counts >> 1)
    result = np.zeros((len(counts), state.shape[0]), dtype=np.int64)
    for bit in range(MAXBIT):
        has_bit = ((gray >> bit) & 1).astype(bool)
        if has_bit.any():
            result[has_bit] ^= state[:, bit]
    return result


def _draw(quasi, n, state, counter, dtype):
    """ATen's _sobol_engine_draw: the next n points after `quasi` (counter: the Gray-code step
    count so far) as an (n, dims) array of `dtype`, and the new quasi."""
    steps = np.arange(counter + 1, counter + n + 1, dtype=np.int64)
    before = _xor_prefix(state, np.array([counter], dtype=np.int64))[0]
    points = quasi ^ before ^ _xor_prefix(state, steps)
    new_quasi = points[-1].copy() if n > 0 else quasi.copy()
    # the integer is rounded to the float type first, then scaled by 2**-30, as ATen does
    return points.astype(dtype) * dtype.type(1.0 / (1 << MAXBIT)), new_quasi


def _fast_forward(quasi, n, state, counter):
    """ATen's _sobol_engine_ff_: quasi after n more steps (in place)."""
    if n > 0:
        ends = np.array([counter, counter + n], dtype=np.int64)
        both = _xor_prefix(state, ends)
        quasi ^= both[0] ^ both[1]
    return quasi


def _scramble(state, ltm):
    """ATen's _sobol_engine_scramble_: multiply each dimension's direction numbers (as bit
    vectors, most significant bit first) by its random lower-triangular bit matrix (unit
    diagonal) over GF(2). state: (dims, MAXBIT) int64, ltm: (dims, MAXBIT, MAXBIT) 0/1."""
    ltm = ltm.copy()
    diagonal = np.arange(MAXBIT)
    ltm[:, diagonal, diagonal] = 1
    msb_first = np.arange(MAXBIT - 1, -1, -1, dtype=np.int64)
    weights = np.int64(1) << msb_first
    scrambled = np.empty_like(state)
    for start in range(0, state.shape[0], 2048):  # in chunks: the bit arrays are 900 x dims
        block = slice(start, start + 2048)
        bits = ((state[block, :, None] >> msb_first) & 1).astype(np.float32)  # (d, j, bit)
        # products of 0/1 values summed over 30 terms: exact in float32, and BLAS-fast
        dots = np.matmul(bits, ltm[block].astype(np.float32).transpose(0, 2, 1))  # (d, j, p)
        parity = dots.astype(np.int64) & 1
        scrambled[block] = parity @ weights
    return scrambled


def _kernel_type_name(dtype):
    names = {'float16': 'Half', 'bfloat16': 'BFloat16', 'int64': 'Long', 'int32': 'Int',
             'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool',
             'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble'}
    name = str(dtype).rsplit('.', 1)[-1]
    return names.get(name, name)


def _draw_tensor(quasi, n, sobolstate, num_generated, dtype):
    """torch._sobol_engine_draw over tensors: (points as a `dtype` tensor, new quasi tensor)."""
    if not isinstance(n, (int, np.integer)):  # (bool is an int, as PyTorch's parser takes it)
        raise TypeError(f"_sobol_engine_draw(): argument 'n' (position 2) must be int, not "
                        f'{type(n).__name__}')
    n = int(n)
    if n < 0:
        raise RuntimeError(f'Trying to create tensor with negative dimension {n}: '
                           f'[{n}, {sobolstate.shape[0]}]')
    if dtype not in (nbgrad.float32, nbgrad.float64):
        raise NotImplementedError(
            f'"_sobol_engine_draw" not implemented for \'{_kernel_type_name(dtype)}\'')
    points, new_quasi = _draw(quasi.numpy(), n, sobolstate.numpy(), num_generated,
                              np.dtype(str(dtype).rsplit('.', 1)[-1]))
    return Tensor._make(points), Tensor._make(new_quasi)


class SobolEngine:
    r"""An engine for (scrambled) Sobol sequences, low-discrepancy quasi-random points in the
    unit cube of up to 21201 dimensions, drawn as PyTorch's torch.quasirandom.SobolEngine draws
    them (Joe & Kuo's direction numbers, search criterion D(6)).

    Args:
        dimension (int): the dimensionality of the points (1 to 21201).
        scramble (bool): draw scrambled Sobol points (Owen's scrambling: a random linear matrix
            and a random digital shift per dimension). Default: False.
        seed (int, optional): the seed of the scrambling's generator; without it the scrambling
            draws from the default generator.
    """

    MAXBIT = MAXBIT
    MAXDIM = MAXDIM

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError('Supported range of dimensionality '
                             f'for SobolEngine is [1, {self.MAXDIM}]')
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        cpu = nbgrad.device('cpu')
        self.sobolstate = nbgrad.zeros(dimension, self.MAXBIT, device=cpu, dtype=nbgrad.long)
        self.sobolstate.copy_(nbgrad.from_numpy(_initial_state(dimension)))
        if not self.scramble:
            self.shift = nbgrad.zeros(self.dimension, device=cpu, dtype=nbgrad.long)
        else:
            self._scramble()
        self.quasi = self.shift.clone(memory_format=nbgrad.contiguous_format)
        # (in the default dtype, then cast by draw: a float64 first point of a scrambled
        # engine keeps float32's rounding when the default dtype is float32, as in PyTorch)
        self._first_point = (self.quasi / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def draw(self, n=1, out=None, dtype=None):
        """The next n points of the sequence, as an (n, dimension) tensor (default dtype unless
        dtype= is given; out= receives a copy, resized to fit)."""
        if dtype is None:
            dtype = nbgrad.get_default_dtype()
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dtype)
            else:
                result, self.quasi = _draw_tensor(self.quasi, n - 1, self.sobolstate,
                                                  self.num_generated, dtype)
                result = nbgrad.cat((self._first_point.to(dtype), result), dim=-2)
        else:
            result, self.quasi = _draw_tensor(self.quasi, n, self.sobolstate,
                                              self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """The next 2**m points; the total drawn must stay a power of 2 (Sobol' points keep
        their balance properties only in blocks of 2**k)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require "
                             f'n to be a power of 2. {self.num_generated} points have been '
                             f'previously generated, then: n={self.num_generated}+2**{m}='
                             f'{total_n}. If you still want to do this, please use '
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Back to the first point (the scrambling, if any, is kept)."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip n points, as drawing and discarding them would."""
        counter = self.num_generated - 1 if self.num_generated else 0
        steps = n if self.num_generated else n - 1
        quasi = self.quasi.numpy().copy()
        self.quasi.copy_(_tensor_of(_fast_forward(quasi, steps, self.sobolstate.numpy(),
                                                     counter)))
        self.num_generated += n
        return self

    def _scramble(self):
        g = None
        if self.seed is not None:
            g = nbgrad.Generator()
            g.manual_seed(self.seed)
        cpu = nbgrad.device('cpu')
        # the random digital shift, then the random lower-triangular matrices: the same draws,
        # in the same order, as PyTorch's
        shift_ints = nbgrad.randint(2, (self.dimension, self.MAXBIT), device=cpu, generator=g)
        self.shift = nbgrad.mv(shift_ints, nbgrad.pow(2, nbgrad.arange(0, self.MAXBIT,
                                                                        device=cpu)))
        ltm_dims = (self.dimension, self.MAXBIT, self.MAXBIT)
        ltm = nbgrad.randint(2, ltm_dims, device=cpu, generator=g).tril()
        self.sobolstate.copy_(_tensor_of(_scramble(self.sobolstate.numpy(), ltm.numpy())))

    def __repr__(self):
        fmt_string = [f'dimension={self.dimension}']
        if self.scramble:
            fmt_string += ['scramble=True']
        if self.seed is not None:
            fmt_string += [f'seed={self.seed}']
        return self.__class__.__name__ + '(' + ', '.join(fmt_string) + ')'


def _tensor_of(array):
    """A CPU tensor over a NumPy array (the kernels' results)."""
    return Tensor._make(array)


__all__ = ['SobolEngine']
