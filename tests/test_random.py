"""Random numbers against PyTorch's CPU generator: nbgrad reproduces it, so after the same seed and
the same history every sampler gives exactly torch's numbers, and the generator state bytes are
torch's. Also Generator objects, get/set_rng_state, fork_rng, initial_seed and seed."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, both as _both, dname, each_lib

torch = pytest.importorskip('torch')


def assert_identical(got, expected):
    """Bit-for-bit equality of tensors (dtype, shape, values), recursively through tuples."""
    assert_same(got, expected, bitwise=True)


def both(fn, seed=0):
    """Seed both libraries, run fn, compare bit for bit (or the exception kind)."""
    def seeded(lib):
        lib.manual_seed(seed)
        return fn(lib)
    _both(seeded, assert_identical)


SIZES = [(1,), (5,), (15,), (16,), (17,), (3, 7), (100,), (1000,), (2, 3, 4), (0,), ((),),
         ((2, 5),)]
SEEDS = [0, 1, 42, 2 ** 31 + 7, 2 ** 63 - 1]


@pytest.mark.parametrize('size', SIZES, ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('fn', ['rand', 'randn'])
def test_rand_randn(fn, size, dtype):
    both(lambda lib: getattr(lib, fn)(*size, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize('fn', ['rand', 'randn'])
def test_no_size_is_type_error(fn):
    both(lambda lib: getattr(lib, fn)())


@pytest.mark.parametrize('seed', SEEDS)
def test_seeds(seed):
    both(lambda lib: (lib.rand(20), lib.randn(20), lib.randint(0, 100, (5,)), lib.randperm(7)),
         seed=seed)


def test_float16_samples():
    both(lambda lib: (lib.rand(20, dtype=lib.float16), lib.randn(33, dtype=lib.float16)))


RANDINT = {
    'high_only': lambda lib: lib.randint(10, (20,)),
    'low_high': lambda lib: lib.randint(-5, 5, (4, 5)),
    'size_kw': lambda lib: lib.randint(3, 9, size=(7,)),
    'big_range': lambda lib: lib.randint(0, 2 ** 40, (10,)),
    'negative_big': lambda lib: lib.randint(-2 ** 35, 2 ** 35, (10,)),
    'int32': lambda lib: lib.randint(0, 1000, (10,), dtype=lib.int32),
    'uint8': lambda lib: lib.randint(0, 256, (10,), dtype=lib.uint8),
    'float_dtype': lambda lib: lib.randint(0, 10, (6,), dtype=lib.float32),
    'bool': lambda lib: lib.randint(0, 2, (8,), dtype=lib.bool),
    'one_value': lambda lib: lib.randint(4, 5, (3,)),
    'empty_range': lambda lib: lib.randint(5, 5, (3,)),
    'large_count': lambda lib: lib.randint(0, 7, (1000,)),
}


@pytest.mark.parametrize('case', RANDINT)
def test_randint(case):
    both(RANDINT[case])


@pytest.mark.parametrize('n', [0, 1, 2, 5, 16, 17, 100, 1000, 30000])
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'float32'])
def test_randperm(n, dtype):
    both(lambda lib: lib.randperm(n, dtype=getattr(lib, dtype)))


NORMAL = {
    'scalars': lambda lib: lib.normal(2.0, 3.0, size=(20,)),
    'scalars_float64': lambda lib: lib.normal(-1.0, 0.5, (17,), dtype=lib.float64),
    'tensor_mean': lambda lib: lib.normal(lib.arange(20.0), 1.0),
    'tensor_std': lambda lib: lib.normal(0.0, lib.arange(1.0, 21.0) / 10),
    'tensor_both': lambda lib: lib.normal(lib.zeros(3, 7), lib.ones(3, 7) * 2),
    'negative_std': lambda lib: lib.normal(0.0, -1.0, size=(3,)),
}


@pytest.mark.parametrize('case', NORMAL)
def test_normal(case):
    both(NORMAL[case])


BERNOULLI = {
    'tensor_p': lambda lib: lib.bernoulli(lib.linspace(0, 1, 50)),
    'tensor_p_2d': lambda lib: lib.bernoulli(lib.full((4, 9), 0.3)),
    'float64_p': lambda lib: lib.bernoulli(lib.full((20,), 0.7, dtype=lib.float64)),
    'scalar_p': lambda lib: lib.bernoulli(lib.zeros(40), p=0.25),
    'method': lambda lib: lib.full((33,), 0.5).bernoulli(),
    'bad_p': lambda lib: lib.bernoulli(lib.tensor([1.5])),
}


@pytest.mark.parametrize('case', BERNOULLI)
def test_bernoulli(case):
    both(BERNOULLI[case])


MULTINOMIAL = {
    'with_replacement': lambda lib: lib.multinomial(lib.tensor([0.1, 0.2, 0.7]), 20, True),
    'without_replacement': lambda lib: lib.multinomial(lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 5),
    'rows': lambda lib: lib.multinomial(lib.tensor([[1.0, 0.0, 3.0], [0.5, 0.5, 0.0]]), 2),
    'rows_replacement': lambda lib: lib.multinomial(lib.rand(4, 6), 10, replacement=True),
    'one_sample': lambda lib: lib.multinomial(lib.ones(100), 1),
    'many_categories': lambda lib: lib.multinomial(lib.arange(1.0, 301.0), 50),
    'float64': lambda lib: lib.multinomial(lib.tensor([0.25, 0.75], dtype=lib.float64), 8, True),
    'method': lambda lib: lib.tensor([3.0, 1.0]).multinomial(4, replacement=True),
    'too_many': lambda lib: lib.multinomial(lib.ones(3), 4),
    'negative': lambda lib: lib.multinomial(lib.tensor([1.0, -1.0]), 1),
    'zero_sum': lambda lib: lib.multinomial(lib.zeros(3), 1),
    'int_input': lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    # Exp(1) noise drawn in the input's memory order; ties (zero probabilities) in topk's order
    'transposed': lambda lib: lib.multinomial(lib.rand(3, 4).t(), 2),
    'transposed_one': lambda lib: lib.multinomial(lib.rand(3, 5).t(), 1),
    'zero_probabilities': lambda lib: lib.multinomial(lib.tensor([0., 1., 0., 2., 0.]), 4),
    'categorical_transposed': lambda lib: lib.distributions.Categorical(
        probs=lib.rand(3, 4).t()).sample(),
    'weighted_sampler': lambda lib: lib.tensor(list(lib.utils.data.WeightedRandomSampler(
        [0., 1., 0., 2., 0.], 4, replacement=False))),
}


@pytest.mark.parametrize('case', MULTINOMIAL)
def test_multinomial(case):
    both(MULTINOMIAL[case])


LIKE = {
    'rand_like': lambda lib: lib.rand_like(lib.zeros(3, 6)),
    'rand_like_f64': lambda lib: lib.rand_like(lib.zeros(19, dtype=lib.float64)),
    'randn_like': lambda lib: lib.randn_like(lib.zeros(5, 5)),
    'randn_like_dtype': lambda lib: lib.randn_like(lib.zeros(20), dtype=lib.float64),
    'randint_like': lambda lib: lib.randint_like(lib.zeros(9, dtype=lib.int32), 3, 11),
    'randint_like_high': lambda lib: lib.randint_like(lib.zeros(9), 6),
    'rand_like_int': lambda lib: lib.rand_like(lib.zeros(3, dtype=lib.int64)),
}


@pytest.mark.parametrize('case', LIKE)
def test_like_functions(case):
    both(LIKE[case])


INPLACE = {
    'uniform_': lambda x: x.uniform_(), 'uniform_range': lambda x: x.uniform_(-3, 5),
    'normal_': lambda x: x.normal_(), 'normal_params': lambda x: x.normal_(10, 0.1),
    'random_': lambda x: x.random_(), 'random_to': lambda x: x.random_(7),
    'random_from_to': lambda x: x.random_(-4, 4), 'bernoulli_': lambda x: x.bernoulli_(),
    'bernoulli_p': lambda x: x.bernoulli_(0.2),
    'bernoulli_tensor_p': lambda x: x.bernoulli_(x.new_full(x.shape, 0.9)),
    'exponential_': lambda x: x.exponential_(), 'exponential_lambd': lambda x: x.exponential_(3),
    'geometric_': lambda x: x.geometric_(0.3), 'cauchy_': lambda x: x.cauchy_(),
    'log_normal_': lambda x: x.log_normal_(), 'chain': lambda x: x.uniform_().normal_(),
}
INPLACE_DTYPES = ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool']


# samplers that torch refuses for some dtypes are compared by exception kind (see `both`)
@pytest.mark.parametrize('dtype', INPLACE_DTYPES)
@pytest.mark.parametrize('case', INPLACE)
def test_inplace_samplers(case, dtype):
    """The same numbers as torch, written into the tensor, version bumped once per call."""
    def run(lib):
        x = lib.zeros(37, dtype=getattr(lib, dtype))
        out = INPLACE[case](x)
        return x, out is x, x._version
    both(run)


@pytest.mark.parametrize('case', ['uniform_', 'normal_', 'random_to', 'bernoulli_p'])
def test_inplace_samplers_on_views(case):
    def run(lib):
        base = lib.zeros(6, 8)
        INPLACE[case](base[1:, ::3])
        INPLACE[case](base.t()[2])
        return base, base._version
    both(run)


# -- the generator state -----------------------------------------------------------------------

HISTORY = [lambda lib: lib.rand(7), lambda lib: lib.randn(21), lambda lib: lib.randint(0, 9, (3,)),
           lambda lib: lib.randperm(40), lambda lib: lib.zeros(5).normal_(),
           lambda lib: lib.multinomial(lib.ones(6), 3), lambda lib: lib.bernoulli(lib.rand(9))]


@pytest.mark.parametrize('steps', range(len(HISTORY) + 1))
def test_rng_state_bytes_equal_torch_after_same_history(steps):
    def run(lib):
        for make in HISTORY[:steps]:
            make(lib)
        state = lib.get_rng_state()
        return state
    both(run, seed=123)


def test_set_rng_state_replays():
    nbgrad.manual_seed(5)
    nbgrad.randn(3)
    state = nbgrad.get_rng_state()
    first = (nbgrad.rand(10), nbgrad.randn(17), nbgrad.randperm(9))
    nbgrad.set_rng_state(state)
    again = (nbgrad.rand(10), nbgrad.randn(17), nbgrad.randperm(9))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_is_portable_between_torch_and_nbgrad():
    """A state taken from torch, loaded into nbgrad, continues torch's stream (and back)."""
    torch.manual_seed(77)
    torch.randn(5)
    state = torch.get_rng_state()
    nbgrad.set_rng_state(nbgrad.from_numpy(state.numpy().copy()))
    assert_identical(nbgrad.randn(30), torch.randn(30))
    torch.set_rng_state(torch.from_numpy(nbgrad.get_rng_state().numpy().copy()))
    assert_identical(nbgrad.get_rng_state(), torch.get_rng_state())
    assert_identical(nbgrad.rand(9), torch.rand(9))


@pytest.mark.parametrize('bad', ['list', 'float_tensor'])
def test_set_rng_state_rejects_non_byte_tensors(bad):
    def run(lib):
        state = lib.get_rng_state()
        lib.set_rng_state(state.tolist() if bad == 'list' else state.float())
    both(run)


def test_get_rng_state_is_a_uint8_tensor_copy():
    def run(lib):
        state = lib.get_rng_state()
        lib.rand(3)
        return state.dtype, tuple(state.shape), lib.equal(state, lib.get_rng_state())
    t, n = run(torch), run(nbgrad)
    assert (dname(n[0]), n[1], n[2]) == (dname(t[0]), t[1], t[2])


# -- Generator objects -------------------------------------------------------------------------

@each_lib
def test_generator_manual_seed_returns_self(lib):
    g = lib.Generator()
    assert g.manual_seed(3) is g
    assert g.initial_seed() == 3
    assert str(g.device) == 'cpu'
    assert lib.manual_seed(4) is lib.default_generator


GENERATOR_CALLS = {
    'rand': lambda lib, g: lib.rand(10, generator=g),
    'randn': lambda lib, g: lib.randn(20, generator=g),
    'randint': lambda lib, g: lib.randint(0, 50, (8,), generator=g),
    'randperm': lambda lib, g: lib.randperm(12, generator=g),
    'normal': lambda lib, g: lib.normal(1.0, 2.0, (6,), generator=g),
    'bernoulli': lambda lib, g: lib.bernoulli(lib.full((10,), 0.5), generator=g),
    'multinomial': lambda lib, g: lib.multinomial(lib.ones(5), 3, generator=g),
    'uniform_': lambda lib, g: lib.zeros(9).uniform_(generator=g),
    'normal_': lambda lib, g: lib.zeros(9).normal_(generator=g),
    'random_': lambda lib, g: lib.zeros(9).random_(0, 10, generator=g),
    'exponential_': lambda lib, g: lib.zeros(9).exponential_(generator=g),
}


@pytest.mark.parametrize('call', GENERATOR_CALLS)
def test_generator_argument_is_an_independent_stream(call):
    """A seeded Generator gives torch's numbers for that seed and leaves the global generator
    alone (the next global draw is the same as without the generator call)."""
    def run(lib):
        g = lib.Generator().manual_seed(2024)
        out = GENERATOR_CALLS[call](lib, g)
        return out, lib.rand(4), g.get_state()
    both(run, seed=9)


def test_two_generators_do_not_interfere():
    def run(lib):
        a, b = lib.Generator().manual_seed(1), lib.Generator().manual_seed(1)
        x1 = lib.rand(5, generator=a)
        y = lib.randn(3, generator=b)
        x2 = lib.rand(5, generator=b)
        return x1, y, x2, lib.rand(5, generator=a)
    both(run)


def test_generator_state_round_trip():
    def run(lib):
        g = lib.Generator().manual_seed(11)
        lib.randn(5, generator=g)
        state = g.get_state()
        first = lib.rand(8, generator=g)
        g.set_state(state)
        return state, first, lib.rand(8, generator=g)
    both(run)


# -- fork_rng / initial_seed / seed ------------------------------------------------------------

@each_lib
def test_fork_rng_restores_state(lib):
    lib.manual_seed(8)
    before = lib.get_rng_state()
    with lib.random.fork_rng():
        lib.manual_seed(99)
        inside = lib.rand(5)
    assert lib.equal(lib.get_rng_state(), before)
    lib.manual_seed(99)
    assert lib.equal(inside, lib.rand(5))
    with lib.random.fork_rng(enabled=False):
        lib.rand(1)
    assert not lib.equal(lib.get_rng_state(), before)


def test_fork_rng_same_numbers_as_torch():
    def run(lib):
        with lib.random.fork_rng():
            inner = lib.randn(6)
        return inner, lib.randn(6)
    both(run, seed=31)


@pytest.mark.parametrize('seed', SEEDS)
def test_initial_seed(seed):
    def run(lib):
        lib.manual_seed(seed)
        lib.rand(3)
        return lib.initial_seed()
    assert run(nbgrad) == run(torch) == seed


@each_lib
def test_seed_returns_int_and_reseeds(lib):
    s = lib.seed()
    assert isinstance(s, int) and s >= 0
    assert lib.initial_seed() == s
    a = lib.rand(4)
    lib.manual_seed(s)
    assert lib.equal(a, lib.rand(4))


@pytest.mark.parametrize('lib_name', ['torch', 'nbgrad'])
def test_default_generator_starts_from_os_entropy(lib_name):
    """Without manual_seed, each process draws other numbers (PyTorch seeds its default CPU
    generator from /dev/urandom), while a new Generator() starts from the fixed default seed."""
    import subprocess
    import sys
    program = (f'import {lib_name} as lib; print(lib.initial_seed(), lib.rand(2).tolist(), '
               'lib.Generator().initial_seed())')
    runs = [subprocess.run([sys.executable, '-c', program], capture_output=True, text=True,
                           check=True).stdout.split(' ', 1) for _ in range(2)]
    assert runs[0][0] != runs[1][0] and runs[0][1] != runs[1][1]
    assert runs[0][1].split()[-1] == str(torch.Generator().initial_seed())


@pytest.mark.parametrize('bad', ['abc', None, 1.5, '12'])
def test_manual_seed_argument_checking(bad):
    both(lambda lib: lib.manual_seed(bad).initial_seed())


BAD_ARGUMENTS = {
    'randint_low_above_high': lambda lib: lib.randint(5, 2, (3,)),
    'randperm_negative': lambda lib: lib.randperm(-1),
    'rand_int_dtype': lambda lib: lib.rand(2, dtype=lib.int64),
    'randn_negative_size': lambda lib: lib.randn(-1),
    'uniform_reversed': lambda lib: lib.zeros(3).uniform_(2, 1),
    'exponential_negative': lambda lib: lib.zeros(3).exponential_(-1),
    'geometric_p_above_1': lambda lib: lib.zeros(3).geometric_(1.5),
    'bernoulli_p_above_1': lambda lib: lib.bernoulli(lib.zeros(2), p=2.0),
    'normal_negative_std_': lambda lib: lib.zeros(3).normal_(0, -1),
}


@pytest.mark.parametrize('case', BAD_ARGUMENTS)
def test_random_ops_validate_arguments(case):
    both(BAD_ARGUMENTS[case])


_FILLS = {'uniform_': lambda lib, t: t.uniform_(), 'normal_': lambda lib, t: t.normal_(),
          'bernoulli_': lambda lib, t: t.bernoulli_(0.3),
          'bernoulli_tensor': lambda lib, t: t.bernoulli_(
              lib.linspace(0, 1, t.numel()).reshape(t.shape)),
          'random_': lambda lib, t: t.random_(0, 50), 'exponential_': lambda lib, t: t.exponential_(),
          'cauchy_': lambda lib, t: t.cauchy_(), 'log_normal_': lambda lib, t: t.log_normal_(),
          'geometric_': lambda lib, t: t.geometric_(0.3)}
_LAYOUTS = {'transposed': lambda lib: lib.empty(5, 7).t(),
            'permuted_3d': lambda lib: lib.empty(2, 3, 4).permute(2, 0, 1),
            'strided': lambda lib: lib.empty(4, 10)[:, ::2],
            'transposed_small': lambda lib: lib.empty(3, 4).t()}


@pytest.mark.parametrize('layout', _LAYOUTS)
@pytest.mark.parametrize('fill', _FILLS)
def test_in_place_fills_visit_memory_order_like_pytorch(fill, layout):
    """PyTorch's kernels fill a non-contiguous tensor in memory order (and normal_ takes its
    one-at-a-time path there), so seeded fills of views give PyTorch's numbers."""
    def run(lib):
        lib.manual_seed(0)
        return _FILLS[fill](lib, _LAYOUTS[layout](lib))
    both(run)


@pytest.mark.parametrize('make', ['empty_like', 'zeros_like', 'ones_like', 'full_like',
                                  'rand_like', 'randn_like', 'randint_like'])
def test_like_factories_keep_a_permuted_layout(make):
    def run(lib):
        lib.manual_seed(0)
        x = lib.empty(3, 4, 5).permute(1, 2, 0)
        args = {'full_like': (2.5,), 'randint_like': (9,)}.get(make, ())
        made = getattr(lib, make)(x, *args)
        contiguous = getattr(lib, make)(x, *args, memory_format=lib.contiguous_format)
        values = None if make == 'empty_like' else made
        return made.stride(), contiguous.stride(), values
    both(run)


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_cuda_half_uniform_stays_below_its_upper_bound():
    """float16 rounding of a 24-bit uniform reaches the upper bound about once in 4,096 draws;
    PyTorch's CUDA kernel maps that value to the lower bound, and so does nbgrad's."""
    nbgrad.manual_seed(0)
    unit = nbgrad.rand(200000, dtype=nbgrad.float16, device='cuda').cpu().numpy()
    assert unit.min() >= 0 and unit.max() < 1
    drawn = nbgrad.empty(200000, dtype=nbgrad.float16, device='cuda').uniform_(-0.5, 0.5)
    drawn = drawn.cpu().numpy()
    assert drawn.min() >= -0.5 and drawn.max() < 0.5


POISSON_RATES = {
    'small': [0.0, 0.5, 3.0, 9.99, 1e-3, 2.5],
    'rejection': [10.0, 12.0, 50.0, 1000.0, 1e5, 33.3],
}


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16'])
@pytest.mark.parametrize('rates', POISSON_RATES)
def test_poisson_gives_pytorchs_numbers(rates, dtype):
    """torch.poisson after manual_seed: PyTorch's sampler draw for draw (products of uniforms
    below rate 10, Hoermann's rejection from 10 up), and the generator's state after it."""
    def run(lib):
        lib.manual_seed(7)
        rate = lib.tensor(POISSON_RATES[rates] * 50, dtype=getattr(lib, dtype))
        return lib.poisson(rate), lib.poisson(rate.reshape(30, 10).t()), lib.rand(3)
    _both(run)


def test_poisson_of_many_random_rates():
    def run(lib):
        lib.manual_seed(3)
        rates = lib.rand(20000, dtype=lib.float64) * 40
        return lib.poisson(rates).sum(), lib.poisson(rates.float()).sum(), lib.rand(2)
    _both(run)


@pytest.mark.parametrize('rate', [float('inf'), float('nan'), -1.0])
def test_poisson_at_rates_outside_its_domain(rate):
    def run(lib):
        lib.manual_seed(0)
        return lib.poisson(lib.tensor([rate, 3.0])), lib.rand(1)
    _both(run)


@pytest.mark.parametrize('sample', [lambda lib, r: lib.poisson(r),
                                    lambda lib, r: lib.bernoulli(r / 3)],
                         ids=['poisson', 'bernoulli'])
def test_samples_from_rates_that_require_grad_are_recorded_with_a_zero_gradient(sample):
    results = []
    for lib in (torch, nbgrad):
        rates = lib.tensor([1.0, 2.5], requires_grad=True)
        lib.manual_seed(0)
        y = sample(lib, rates)
        y.sum().backward()
        with lib.no_grad():
            untracked = sample(lib, rates)
        results.append((y.detach().numpy().tolist(), y.grad_fn.name(), rates.grad.tolist(),
                        untracked.requires_grad))
    assert results[1] == results[0]


NORMAL_OF_TENSORS = {
    'both': lambda lib, m, s: lib.normal(m, s),
    'mean': lambda lib, m, s: lib.normal(m, 1.5),
    'std': lambda lib, m, s: lib.normal(0.5, s),
    'mean_f16_std_f32': lambda lib, m, s: lib.normal(m.half(), s),
    'mean_f32_std_f64': lambda lib, m, s: lib.normal(m, s.double()),
    'broadcast': lambda lib, m, s: lib.normal(m.reshape(3, 1), s),
}


@pytest.mark.parametrize('case', NORMAL_OF_TENSORS)
def test_normal_of_tensors_matches_pytorch_values_dtype_and_zero_gradient(case):
    """normal(Tensor, Tensor) and friends: samples in mean's dtype (std's for a number mean),
    grad_fn NormalBackward1-3, zero gradients for mean and std (not mean + std * eps's)."""
    results = []
    for lib in (torch, nbgrad):
        m = lib.tensor([0.0, 1.0, -2.0], requires_grad=True)
        s = lib.tensor([1.0, 0.5, 2.0], requires_grad=True)
        lib.manual_seed(0)
        y = NORMAL_OF_TENSORS[case](lib, m, s)
        y.sum().backward()
        results.append((y.detach().float().numpy().tolist(), str(y.dtype).split('.')[-1],
                        y.grad_fn.name(), None if m.grad is None else m.grad.tolist(),
                        None if s.grad is None else s.grad.tolist()))
    assert results[1] == results[0]


@pytest.mark.parametrize('fill', ['normal_', 'uniform_', 'exponential_', 'random_', 'random_to',
                                  'random_from_to', 'bernoulli_', 'bernoulli_tensor', 'cauchy_',
                                  'log_normal_', 'geometric_', 'fill_', 'fill_tensor', 'zero_'])
@pytest.mark.parametrize('where', ['whole', 'slice'])
def test_in_place_fills_in_a_graph_cut_the_gradient_as_pytorch(fill, where):
    """b = a * 2; b.<fill>() overwrites b: a's gradient is zero where b was refilled (through
    CopySlices for a slice), and b's grad_fn is PyTorch's node (NormalBackward0, ...)."""
    arguments = {'random_to': ('random_', (5,)), 'random_from_to': ('random_', (1, 5)),
                 'bernoulli_': ('bernoulli_', (0.5,)), 'geometric_': ('geometric_', (0.5,)),
                 'fill_': ('fill_', (1.0,)), 'fill_tensor': ('fill_', ('tensor',)),
                 'bernoulli_tensor': ('bernoulli_', ('tensor',))}
    name, args = arguments.get(fill, (fill, ()))
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        a = lib.ones(4, requires_grad=True)
        b = a * 2
        target = b if where == 'whole' else b[1:]
        getattr(target, name)(*[lib.tensor(0.5) if x == 'tensor' else x for x in args])
        b.sum().backward()
        results.append((b.grad_fn.name(), repr(b.grad_fn).split(' ')[0], a.grad.tolist(),
                        b.detach().numpy().tolist()))
    assert results[1] == results[0]


@pytest.mark.parametrize('op', ['mul', 'div'])
@pytest.mark.parametrize('scalar', [0.7, 1 / 3, 3])
def test_half_in_place_with_a_python_scalar_rounds_once(op, scalar):
    """PyTorch's half mul_/div_ read a Python scalar in float (x.div_(0.7): 1.4287, not 1.4277
    from 0.7 rounded to half first), as the out-of-place ops do; dropout's scale uses div_."""
    def run(lib):
        x = lib.tensor([1.0, 3.0, 7.0, 1000.0, 0.1], dtype=lib.float16)
        getattr(x, op + '_')(scalar)
        return x
    _both(run, assert_identical)
    both(lambda lib: lib.nn.functional.dropout(lib.ones(8, dtype=lib.float16), 0.3))


def test_bernoulli_writes_into_out():
    def run(lib):
        out = lib.full((4,), 7., dtype=lib.float64)
        result = lib.bernoulli(lib.full((4,), .5), out=out)
        return result is out, out
    both(run)


@pytest.mark.parametrize('hard', [False, True])
def test_gumbel_softmax_noise_is_drawn_row_major(hard):
    """PyTorch draws the Gumbel noise into a row-major tensor (legacy_contiguous_format), so a
    transposed input gets the same noise as a contiguous one laid out the same way."""
    def seeded(lib):
        lib.manual_seed(0)
        return lib.nn.functional.gumbel_softmax(lib.zeros(3, 2).t(), hard=hard)
    _both(seeded)   # (softmax in float32: equal to rounding)


REFUSED_AS_PYTORCH = {    # (nbgrad used to compute these: wrapped, out of range or meaningless)
    'randperm_int8_overflow': lambda lib: lib.randperm(300, dtype=lib.int8),
    'randperm_half_too_long': lambda lib: lib.randperm(5000, dtype=lib.float16),
    'randperm_bool': lambda lib: lib.randperm(2, dtype=lib.bool),
    'randint_uint8_range': lambda lib: lib.randint(0, 300, (3,), dtype=lib.uint8),
    'randint_bool_range': lambda lib: lib.randint(0, 3, (4,), dtype=lib.bool),
    'uniform_infinite': lambda lib: lib.empty(3).uniform_(0, float('inf')),
    'uniform_half_range': lambda lib: lib.empty(3, dtype=lib.float16).uniform_(-1e5, 1e5),
    'cauchy_sigma': lambda lib: lib.empty(3).cauchy_(0, -1),
    'bernoulli_int': lambda lib: lib.bernoulli(lib.tensor([0, 1])),
    'poisson_int': lambda lib: lib.poisson(lib.tensor([1, 2])),
    'generator_seed_float': lambda lib: lib.Generator().manual_seed(1.5),
    'rng_state_size': lambda lib: lib.set_rng_state(lib.zeros(10, dtype=lib.uint8)),
    'exponential_int': lambda lib: lib.empty(3, dtype=lib.int32).exponential_(),
    'normal_int': lambda lib: lib.empty(3, dtype=lib.int32).normal_(),
    'bernoulli_shape': lambda lib: lib.zeros(5).bernoulli_(lib.full((2,), .5)),
    'generator_not_a_generator': lambda lib: lib.rand(2, generator=5),
    'cpu_generator_offset': lambda lib: lib.Generator().get_offset(),
}


@pytest.mark.parametrize('case', REFUSED_AS_PYTORCH)
def test_refused_as_pytorch(case):
    _both(REFUSED_AS_PYTORCH[case])   # (both raise, the same kind)


def test_random_from_to_beyond_a_floats_exact_integers_warns_and_samples():
    """random_(0, 2**30) on float32: PyTorch warns (2^24 is float's exact range) and draws
    (its numbers there are its own: nbgrad's are in range, not PyTorch's); past the type's
    finite range it refuses."""
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match=r'out of bounds \[-\(2\^24\), 2\^24\]'):
            drawn = lib.empty(1000).random_(0, 2 ** 30)
        assert 0 <= float(drawn.min()) and float(drawn.max()) <= 2 ** 30
    _both(lambda lib: lib.empty(3, dtype=lib.float16).random_(0, 2 ** 20))
