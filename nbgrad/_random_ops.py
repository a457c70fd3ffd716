"""Random tensor creation (rand, randn, randint, randperm, normal, bernoulli, multinomial, poisson)
and the in-place samplers (uniform_, normal_, random_, bernoulli_, exponential_, ...).

Every function takes generator=; without one it uses the device's default generator. On the CPU
the samplers are PyTorch's own algorithms (_mt_engine.py), so seeds give PyTorch's numbers.
"""
import inspect
import operator

import numpy as np

from . import _batched_draws, _dtype, _mt_engine
from ._arrays import meta_array
from ._creation import empty_like
from ._device import to_device
from ._dispatch import _type_word, dispatch, dispatch_inplace, no_kernel
from ._out import accepts_out
from ._profiled_calls import profiled_call
from ._tensor import Tensor
from ._user_warning import warn_at_caller
from .autograd.graph import Node
from .ops._util import shape_arg, size_arg, takes_size_keyword, xp_of
from .random import default_generator_for
from ._layout import check_layout


def _generator(generator, device):
    """The generator a random op draws from (every random op asks here first, so this is where
    vmap's default randomness='error' refuses one, as PyTorch's)."""
    if _batched_draws.refusing():
        raise RuntimeError(_batched_draws.REFUSED)
    if device.type == 'meta':    # (meta tensors have no values: nothing is drawn)
        return _META_GENERATOR
    if generator is None:
        return default_generator_for(device)
    from .random import Generator
    if not isinstance(generator, Generator):
        raise TypeError(f"argument 'generator' must be nbgrad.Generator, not "
                        f"{type(generator).__name__}")
    if generator.device.type != device.type:
        raise RuntimeError(f'Expected a \'{device.type}\' device type for generator but found '
                           f'\'{generator.device.type}\'')
    return generator


def _sample(gen, kind, *args):
    """Call sampler `kind` on the generator's engine (module functions on CPU, methods on GPU);
    under vmap(randomness='different'), its batch's draw (_batched_draws.py)."""
    draws = _batched_draws.active
    if draws is not None and kind in _batched_draws.SHAPED:
        return draws.draw(_engine_sample, gen, kind, args)
    return _engine_sample(gen, kind, *args)


class _MetaGenerator:
    """What random factories draw from on the 'meta' device: a sample's shape and dtype only
    (the shape is a sampler's first argument, or n for randperm; the dtype its NumPy dtype)."""
    from ._device import META as device

    def sample(self, kind, args):
        shape = args[0] if isinstance(args[0], (tuple, list)) else (args[0],)
        dtype = next(np.dtype(a) for a in args[1:] if isinstance(a, (np.dtype, type)))
        return meta_array(tuple(shape), dtype)


_META_GENERATOR = _MetaGenerator()


def _engine_sample(gen, kind, *args):
    if gen is _META_GENERATOR:
        return gen.sample(kind, args)
    if gen.device.type == 'cpu':
        return getattr(_mt_engine, kind)(gen._engine, *args)
    return getattr(gen._engine, kind)(*args)


def _float_dtype(dtype, kernel):
    """The dtype of rand/randn/normal samples: floating point or complex."""
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if not (dt.is_floating_point or dt.is_complex):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_word(dt)}\'')
    return dt


def _word(dt):
    return _type_word(dt.np)


def _finish(array, requires_grad):
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_()
    return t


def _float_samples(name, sampler, kernel, doc):
    def make(*size, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False, _out=None):
        check_layout(layout, name)
        shape = size_arg(size, name)
        dt = _float_dtype(dtype, kernel)
        gen = _generator(generator, to_device(device))
        target = _laid_out_as(_out, shape, 'f')
        if target is not None:   # (rand's out= is out.uniform_(0, 1), randn's out.normal_())
            fill = target.uniform_ if sampler == 'uniform' else target.normal_
            return _finish(fill(generator=gen)._data, requires_grad)
        # (rand: uniform on [0, 1) whatever the std; randn: mean 0 and that std)
        draw = _complex_as_real(lambda gen, shape, dt, std: _sample(
            gen, sampler, shape, dt, 0.0, 1.0 if sampler == 'uniform' else std))
        return _finish(draw(gen, shape, dt.np, 1.0), requires_grad)
    make.__name__ = make.__qualname__ = name
    make.__doc__ = doc
    return takes_size_keyword(_receives_out(factory=True)(make))


def _receives_out(factory=False):
    """accepts_out(receives_out=True): the function also gets out as _out=, to see its layout;
    the signature it shows (help(), inspect) leaves that plumbing out, as PyTorch's has none."""
    def decorate(fn):
        signature = inspect.signature(fn)
        fn.__signature__ = signature.replace(parameters=[
            p for p in signature.parameters.values() if p.name != '_out'])
        return accepts_out(fn, factory=factory, receives_out=True)
    return decorate


def _laid_out_as(out, shape, kinds):
    """With an out= of this shape whose memory runs in another order than its logical one
    (a transposed out), PyTorch's random factories fill it through its in-place sampler, in
    memory order: an empty tensor with out's layout to sample into (accepts_out then copies it
    into out), for out dtypes of these kinds; else None (draw as usual)."""
    if out is None or tuple(out.shape) != tuple(shape) or out._data.dtype.kind not in kinds or \
            _memory_order(out._data) is None:
        return None
    return Tensor._make(xp_of(out._data).empty_like(out._data))     # (order 'K': its layout)


rand = _float_samples('rand', 'uniform', 'check_uniform_bounds', 'Uniform samples on [0, 1).')
randn = _float_samples('randn', 'normal', 'normal_kernel_cpu', 'Standard normal samples.')


@_receives_out(factory=True)
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False, _out=None):
    """Integers uniform on [low, high)."""
    check_layout(layout, 'randint')
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError('randint() missing required argument: size')
        low, high, size = 0, _int_arg(low, 'randint', 'high', 1), high
        size_position = 2
    else:
        if high is None:
            low, high = 0, low
        low, high = _int_arg(low, 'randint', 'low', 1), _int_arg(high, 'randint', 'high', 2)
        size_position = 3
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position {size_position}) must be tuple "
                        f'of ints, not {type(size).__name__}')
    shape = shape_arg(size)
    if high <= low:
        raise RuntimeError(f'random_ expects \'from\' to be less than \'to\', but got from={low} '
                           f'>= to={high}')
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    low, high = _float_exact_bounds(int(low), int(high), dt.np)
    _check_random_bounds(low, high, dt.np)
    dev = to_device(device)
    gen = _generator(generator, dev)
    target = _laid_out_as(_out, shape, 'iuf')
    if target is not None:      # (randint's out= is out.random_(low, high))
        return _finish(target.random_(low, high, generator=gen)._data, requires_grad)
    return _finish(_sample(gen, 'randint', shape, low, high, dt.np), requires_grad)


@accepts_out(factory=True)
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1."""
    check_layout(layout, 'randperm')
    n = _int_arg(n, 'randperm', 'n', 1)
    if n < 0:
        raise RuntimeError(f'n must be non-negative, got{n}')
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    _check_randperm(int(n), dt.np)
    dev = to_device(device)
    gen = _generator(generator, dev)
    return _finish(_sample(gen, 'randperm', int(n), dt.np), requires_grad)


def _int_arg(value, function, name, position):
    """An integer argument as PyTorch's parser takes it: an int, or anything with __index__ (a
    NumPy integer, a one-element integer tensor), but not a bool or a float."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{function}(): argument '{name}' (position {position}) must be int, not "
                    f'{type(value).__name__}')


def _check_randperm(n, np_dtype):
    """PyTorch's limits: n - 1 must fit an integer dtype, float types count exactly up to
    2^digits + 1; bool has no kernel."""
    dt = np.dtype(np_dtype)
    if dt.kind == 'b':
        raise NotImplementedError('"randperm" not implemented for \'Bool\'')
    if dt.kind in 'iu' and n - 1 > np.iinfo(dt).max:
        raise RuntimeError(f'value cannot be converted to type {dt.name}_t without overflow')
    if dt.kind in _dtype.FLOATING_KINDS and n > 2 ** (_dtype.finfo(dt).nmant + 1) + 1:
        raise RuntimeError(f'n cannot be greater than {2 ** (_dtype.finfo(dt).nmant + 1) + 1} for '
                           f'{_type_word(dt)} type.')


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None, pin_memory=False):
    """empty_like(input).uniform_(), as PyTorch makes it (so a permuted layout is filled in
    memory order)."""
    check_layout(layout, 'rand_like')
    made = empty_like(input, dtype=dtype, device=device, memory_format=memory_format)
    return _finish_like(made.uniform_(generator=generator), requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None, pin_memory=False):
    check_layout(layout, 'randn_like')
    made = empty_like(input, dtype=dtype, device=device, memory_format=memory_format)
    return _finish_like(made.normal_(generator=generator), requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None, pin_memory=False):
    check_layout(layout, 'randint_like')
    if high is None:
        low, high = 0, low
    made = empty_like(input, dtype=dtype, device=device, memory_format=memory_format)
    return _finish_like(made.random_(low, high, generator=generator), requires_grad)


def _finish_like(tensor, requires_grad):
    return tensor.requires_grad_() if requires_grad else tensor


@_receives_out()
def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False, _out=None):
    """Normal samples. With a tensor mean and/or std, as PyTorch computes them: standard normal
    samples in mean's dtype (std's when mean is a number), times std, plus mean, in place; the
    samples are not a differentiable function of mean and std (PyTorch's NormalBackward1-3 pass
    back zero gradients; use distributions.Normal(...).rsample() for reparameterised ones)."""
    check_layout(layout, 'normal')
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:      # (the tensors give the shape: no overload takes both)
            raise TypeError(f'normal() received an invalid combination of arguments - got '
                            f'({type(mean).__name__}, {type(std).__name__}, '
                            f'{type(size).__name__}): a size goes with a float mean and std')
        return _normal_of_tensors(mean, std, generator, _out)
    if std < 0:
        raise RuntimeError(f'normal expects std >= 0.0, but found std {std}')
    if size is None:
        raise TypeError('normal(mean: float, std: float) needs size=')
    shape = shape_arg((size,) if isinstance(size, int) else size)
    dt = _float_dtype(dtype, 'normal_kernel_cpu')
    dev = to_device(device)
    gen = _generator(generator, dev)
    target = _laid_out_as(_out, shape, 'f')
    if target is not None:      # (normal's out= is out.normal_(mean, std))
        return _finish(target.normal_(float(mean), float(std), generator=gen)._data,
                       requires_grad)
    draw = _complex_as_real(lambda gen, shape, dt, std: _sample(gen, 'normal', shape, dt,
                                                                 float(mean), std))
    return _finish(draw(gen, shape, dt.np, float(std)), requires_grad)


def _normal_of_tensors(mean, std, generator, out=None):
    ref = mean if isinstance(mean, Tensor) else std
    if isinstance(std, Tensor) and bool((std < 0).any()):
        raise RuntimeError('normal expects all elements of std >= 0.0')
    shape = ref.shape
    if isinstance(mean, Tensor) and isinstance(std, Tensor):
        from .ops.shape import broadcast_shapes
        shape = broadcast_shapes(mean.shape, std.shape)
    from .autograd.grad_mode import no_grad
    with no_grad():
        sample = _laid_out_as(out, shape, 'f')    # (out= is filled in its own memory order)
        if sample is None:
            sample = randn(shape, generator=generator, dtype=ref.dtype, device=ref.device)
        else:
            sample.normal_(generator=generator)
        sample.mul_(std).add_(mean)
    inputs = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not any(t.requires_grad for t in inputs):
        return sample
    overload = 3 if len(inputs) == 2 else 1 if inputs[0] is mean else 2
    return dispatch(_SampledWithZeroGradient(f'NormalBackward{overload}',
                                             lambda *arrays: sample._data), *inputs)


def _complex_as_real(draw):
    """draw(gen, shape, np_dtype, std) for complex dtypes too, as PyTorch samples a complex
    tensor: its real view (..., 2), each part with std / sqrt(2) (so that E|z|^2 = std^2; a
    uniform sampler ignores std)."""
    def complex_or_real(gen, shape, np_dtype, std):
        if np.dtype(np_dtype).kind != 'c':
            return draw(gen, shape, np_dtype, std)
        parts = draw(gen, tuple(shape) + (2,), _dtype.finfo(np_dtype).dtype, std / np.sqrt(2))
        return (parts[..., 0] + 1j * parts[..., 1]).astype(np_dtype)
    return complex_or_real


def _check_probability(p):
    data = p._data
    if data.size and not bool(((data >= 0) & (data <= 1)).all()):
        raise RuntimeError('bernoulli: expected all probabilities p to satisfy 0 <= p <= 1, got '
                           'values outside [0, 1]')


class _SampledWithZeroGradient(Node):
    """A sample drawn with parameters that require grad, as PyTorch records it: its output
    requires grad too (grad_fn PoissonBackward0, BernoulliBackward0, NormalBackward3...), and
    the gradient it passes back to each parameter is zero (the samples are not a differentiable
    function of them). draw(*parameter arrays) gives the sample."""

    def __init__(self, backward_name, draw):
        self.backward_name, self.draw = backward_name, draw

    def name(self):
        return self.backward_name

    def forward(self, *arrays):
        self._shapes = [a.shape for a in arrays]
        return self.draw(*arrays)

    def backward(self, g):
        return tuple(g.new_zeros(shape) for shape in self._shapes)


def _sampled(op_name, draw, input):
    return dispatch(_SampledWithZeroGradient(f'{op_name.capitalize()}Backward0', draw), input)


@_receives_out()
def bernoulli(input, p=None, *, generator=None, out=None, _out=None):
    """0/1 samples with probabilities `input` (or the scalar p), same shape and dtype."""
    if input.is_meta:
        return _finish(meta_array(tuple(input.shape), input._data.dtype), False)
    gen = _generator(generator, input.device)
    target = _laid_out_as(_out, input.shape, 'f') if p is None else None
    if target is not None:      # (bernoulli's out= is out.bernoulli_(input))
        return target.bernoulli_(input, generator=gen)
    if p is not None:
        return Tensor._make(_scalar_bernoulli(gen, input.shape, float(p), input._data.dtype))
    if not input.is_floating_point():
        raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                                  f'\'{_word(input.dtype)}\'')
    _check_probability(input)
    return _sampled('bernoulli', lambda a: _tensor_bernoulli(gen, a, a.dtype), input)


def _scalar_bernoulli(gen, shape, p, np_dtype):
    if not 0 <= p <= 1:
        raise RuntimeError(f'bernoulli_ expects p to be in [0, 1], but got p={p}')
    if gen.device.type == 'cpu':
        return _mt_engine.bernoulli_scalar(gen._engine, tuple(shape), p, np_dtype)
    xp = gen._engine.xp
    return gen._engine.bernoulli(xp.full(tuple(shape), p, np.float64), np_dtype)


def _tensor_bernoulli(gen, p_array, np_dtype):
    if gen.device.type == 'cpu':
        return _mt_engine.bernoulli_tensor(gen._engine, p_array, np_dtype)
    return gen._engine.bernoulli(p_array, np_dtype)


@accepts_out
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from each row of (unnormalised, non-negative) weights."""
    num_samples = _int_arg(num_samples, 'multinomial', 'num_samples', 2)
    data = input._data
    if data.ndim not in (1, 2):
        raise RuntimeError(f'prob_dist must be 1 or 2 dim, got {data.ndim}')
    if input.dtype.category != _dtype.float32.category:
        raise RuntimeError(f'multinomial only supports floating-point dtypes for input, got: '
                           f'{input.dtype}')
    if num_samples <= 0:
        raise RuntimeError(f'cannot sample n_sample <= 0 samples (got {num_samples})')
    if not replacement and num_samples > data.shape[-1]:
        raise RuntimeError('cannot sample n_sample > prob_dist.size(-1) samples without '
                           'replacement')
    if input.is_meta:       # (no weights to check or draw from)
        return _finish(meta_array(data.shape[:-1] + (num_samples,), np.int64), False)
    rows = data.reshape(-1, data.shape[-1])
    if bool((rows < 0).any()) or not bool(np.isfinite(_host(rows)).all()):
        raise RuntimeError('probability tensor contains either `inf`, `nan` or element < 0')
    if bool((rows.sum(axis=-1) <= 0).any()):
        raise RuntimeError('invalid multinomial distribution (sum of probabilities <= 0)')
    gen = _generator(generator, input.device)
    if gen.device.type == 'cpu' and (not replacement or num_samples == 1):
        return _exponential_race(input, int(num_samples), gen)
    out = _sample(gen, 'multinomial', rows, int(num_samples), bool(replacement))
    out = out.astype(np.int64).reshape(data.shape[:-1] + (num_samples,))
    return Tensor._make(out)


def _exponential_race(input, num_samples, gen):
    """PyTorch's CPU multinomial without replacement (or of one sample): q ~ Exp(1) drawn into
    empty_like(input), so in input's memory order, then the argmax or topk of input / q (in
    topk's order of ties: categories of probability 0 all tie at 0)."""
    from .autograd.grad_mode import no_grad
    with no_grad():
        q = empty_like(input).exponential_(generator=gen)
        ratio = input.detach() / q
        if num_samples == 1:
            return ratio.argmax(-1, keepdim=True)
        return ratio.topk(num_samples).indices


def _host(a):
    return a if a.__class__ is np.ndarray else a.get()


def poisson(input, generator=None):
    """Poisson samples with rates `input`: on the CPU PyTorch's sampler draw for draw (its
    numbers after manual_seed); on CUDA CuPy's sampler seeded from the generator (reproducible,
    not PyTorch's numbers)."""
    gen = _generator(generator, input.device)
    if not input.is_floating_point():
        raise NotImplementedError(f'"poisson_cpu" not implemented for \'{_word(input.dtype)}\'')
    if input.is_meta:
        return _finish(meta_array(tuple(input.shape), input._data.dtype), False)

    def draw(data):
        if data.__class__ is np.ndarray:
            return _mt_engine.poisson(gen._engine, data)
        seed = int(_sample(gen, 'randint', (1,), 0, 2 ** 62, np.int64)[0])
        import cupy
        return cupy.random.RandomState(seed).poisson(data).astype(data.dtype)
    return _sampled('poisson', draw, input)


# ---------------------------------------------------------------------------------------------
# In-place samplers: x.uniform_(), x.normal_(), ... (not differentiable; they bump the version)
# ---------------------------------------------------------------------------------------------

class _Resample(Node):
    """Fill the target with fresh samples from `sampler(gen, shape, np_dtype, layout)`.

    PyTorch's kernels visit a tensor's elements in memory order (dims by decreasing stride), so
    the samples are drawn in that order and laid out back: a seeded x.t().uniform_() gets
    PyTorch's numbers. layout = (dims in memory order or None, whether x is C-contiguous); the
    normal sampler needs the latter (PyTorch's 16-at-a-time path is for contiguous tensors).

    As in PyTorch, a fill of a tensor in a graph is recorded (NormalBackward0, ...): the old
    values are overwritten, so their gradient is zero (on the filled part of a view, through
    CopySlices)."""
    saved_inputs = ()     # (forward reads the target itself: its strides give the order)
    sees_bfloat16 = True  # (draws in the target's dtype: PyTorch's bfloat16 draws are half's)

    def __init__(self, sampler, generator, name, backward_name):
        self.sampler, self.generator, self.op_name = sampler, generator, name
        self.backward_name = backward_name

    def name(self):
        return self.backward_name

    def backward(self, g):
        return (g.new_zeros(g.shape),)

    def forward(self, a):
        order = _memory_order(a)
        if order is None:
            values = self.sampler(self.generator, a.shape, a.dtype, (None, a.flags.c_contiguous))
        else:
            shape = tuple(a.shape[d] for d in order)
            values = self.sampler(self.generator, shape, a.dtype, (order, False))
            values = values.transpose(np.argsort(order))
        if values.__class__ is not a.__class__:
            values = _to_like(values, a)
        return values


def _memory_order(a):
    """a's dims from the largest stride to the smallest (size-1 dims first: they do not change
    the order), or None when that is their logical order."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return None
    spread = [d for d in range(a.ndim) if a.shape[d] > 1]
    ranked = sorted(spread, key=lambda d: -abs(a.strides[d]))
    if ranked == spread:
        return None
    return [d for d in range(a.ndim) if a.shape[d] <= 1] + ranked


def _to_like(values, a):
    import cupy
    return cupy.asarray(values)


def _resample(name, make_sampler, float_only=True):
    def method(self, *args, generator=None, **kwargs):
        complex_ok = name in ('uniform_', 'normal_')       # (as their real views)
        if (float_only and not self.is_floating_point() and not (complex_ok and
                                                                 self.is_complex())) or (
                name == 'geometric_' and self.dtype.name == 'bool') or (
                name == 'bernoulli_' and self.is_complex()):
            if name in _CONTINUOUS:
                raise RuntimeError(f'{_CONTINUOUS[name]} distribution is a continuous '
                                   f'probability distribution. dtype must be a floating point '
                                   f'but you specified {_word(self.dtype)}')
            kernel = _KERNEL_NAMES.get(name, f'{name[:-1]}_cpu')
            raise NotImplementedError(f'"{kernel}" not implemented for '
                                      f'\'{_word(self.dtype)}\'')
        gen = _generator(generator, self.device)
        sampler = make_sampler(*args, **kwargs)
        op = _Resample(sampler, gen, name[:-1], _backward_name(name, args, kwargs))
        return dispatch_inplace(op, self)
    method.__name__ = name
    return method


# the kernel PyTorch's refusal of an integer tensor names, where not "<op>_cpu"
_KERNEL_NAMES = {'uniform_': 'check_uniform_bounds', 'normal_': 'normal_kernel_cpu',
                 'bernoulli_': 'bernoulli_scalar_cpu_'}
# the samplers that refuse an integer tensor with a RuntimeError naming their distribution
_CONTINUOUS = {'exponential_': 'Exponential', 'cauchy_': 'Cauchy'}


def _backward_name(name, args, kwargs):
    """PyTorch's grad_fn name for x.<name>(*args, **kwargs): its overload's number."""
    words = ''.join(word.capitalize() for word in name[:-1].split('_'))
    given = [a for a in args if a is not None] + [v for k, v in kwargs.items()
                                                  if v is not None]
    if name == 'random_':       # random_(from, to), random_(to), random_()
        return f'RandomBackward{2 - min(len(given), 2)}'
    if name == 'bernoulli_':    # bernoulli_(Tensor p), bernoulli_(float p)
        return 'BernoulliBackward1' if given and isinstance(given[0], Tensor) else \
            'BernoulliBackward2'
    return f'{words}Backward0'


def _uniform_sampler(a=0.0, b=1.0, **_):
    if a > b:
        raise RuntimeError(f'uniform_ expects to return a [from, to) range, but found from={a} > '
                           f'to={b}')
    draw = _complex_as_real(lambda gen, shape, dt, std: _sample(gen, 'uniform', shape, dt,
                                                                 float(a), float(b)))

    def sample(gen, shape, dt, layout):
        _check_uniform_bounds(float(a), float(b), dt)
        return draw(gen, shape, dt, 1.0)
    return sample


def _check_uniform_bounds(low, high, np_dtype):
    """PyTorch's check_uniform_bounds: both ends finite in the tensor's (real) dtype, and their
    distance too."""
    dt = np.dtype(np_dtype)
    if dt.kind not in _dtype.FLOATING_KINDS:
        return
    info, name = _dtype.finfo(dt), _C_TYPE_NAMES.get(dt.name, dt.name)
    if not float(info.min) <= low <= float(info.max):
        raise RuntimeError(f'from is out of bounds for {name}')
    if not float(info.min) <= high <= float(info.max):
        raise RuntimeError(f'to is out of bounds for {name}')
    if high - low > float(info.max):
        raise RuntimeError(f'uniform_ expects to-from <= std::numeric_limits<{name}>::max(), '
                           f'but found to={high} and from={low} which result in to-from to '
                           f'exceed the limit')


def _normal_sampler(mean=0.0, std=1.0, **_):
    if std < 0:
        raise RuntimeError(f'normal expects std >= 0.0, but found std {std}')
    def sample(gen, shape, dt, std):
        if gen.device.type == 'cpu':  # PyTorch's kernel depends on the target's contiguity
            return _sample(gen, 'normal', shape, dt, float(mean), std, contiguous[0])
        return gen._engine.normal(shape, dt, float(mean), std)
    contiguous = [True]
    draw = _complex_as_real(sample)

    def sample_into(gen, shape, dt, layout):
        contiguous[0] = layout[1]
        return draw(gen, shape, dt, float(std))
    return sample_into


_UNSET = object()


def _random_sampler(*args, **kwargs):
    """random_'s overloads, as PyTorch's parser reads them: random_() (the dtype's whole range),
    random_(to), random_(from, to) and random_(from, None), which is [from, the dtype's largest
    value] (2**mantissa for floats)."""
    if 'from' in kwargs or len(args) == 2 or (len(args) == 1 and 'to' in kwargs):
        if len(args) > 2 or (args and 'from' in kwargs) or ('to' not in kwargs and len(args) < 2):
            raise TypeError('random_() received an invalid combination of arguments: use '
                            'random_(), random_(to) or random_(from, to) (to may be None)')
        from_ = kwargs.pop('from') if 'from' in kwargs else args[0]
        to = kwargs.pop('to') if 'to' in kwargs else args[1]
    elif args or 'to' in kwargs:
        if len(args) + len(kwargs) != 1:
            raise TypeError('random_() received an invalid combination of arguments: use '
                            'random_(), random_(to) or random_(from, to)')
        from_, to = 0, (args[0] if args else kwargs.pop('to'))
        if to is None:
            raise TypeError("random_() received an invalid combination of arguments - got "
                            "(NoneType): 'to' must be an int")
    else:
        from_ = to = _UNSET
    if kwargs:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if from_ is _UNSET:
        def sample(gen, shape, dt, layout):
            if np.dtype(dt).kind == 'c':
                raise no_kernel('random_kernel_cpu', dt)
            if gen.device.type == 'cpu':
                return _mt_engine.random_(gen._engine, shape, dt)
            floating = np.dtype(dt).kind in _dtype.FLOATING_KINDS
            high = 2 ** (_dtype.finfo(dt).nmant + 1) + 1 if floating else \
                (2 if np.dtype(dt) == np.bool_ else int(np.iinfo(dt).max) + 1)
            return gen._engine.randint(shape, 0, high, dt)
        return sample

    def bounded(gen, shape, dt, layout):
        low, high = _float_exact_bounds(int(from_), None if to is None else int(to), dt)
        _check_random_bounds(low, high, dt)
        return _sample(gen, 'randint', shape, low, high, dt)
    return bounded


def _float_exact_bounds(low, high, np_dtype):
    """[low, high) as PyTorch draws random integers for a tensor of np_dtype (high None: up to
    the dtype's top). For floats it first moves each end inward until it survives the cast to
    the dtype (update_from/update_to in its DistributionTemplates.h): past 2**digits a float
    holds only every 2**k-th integer."""
    dt = np.dtype(np_dtype)
    if high is None:
        high = _largest_random(dt) + 1
        if dt.kind not in _dtype.FLOATING_KINDS:
            return low, high
        return _update_from(low, dt), high
    if dt.kind not in _dtype.FLOATING_KINDS:
        return low, high
    low, high = _update_from(low, dt), _update_to(high, dt)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than 'to' casted "
                           f'to dtype, but got from={low} >= to={high}')
    return low, high


def _cast_int(value, dt):
    """value cast to the float dtype and back to an integer (None where it overflows)."""
    cast = dt.type(value)
    return int(cast) if np.isfinite(cast) else None


def _update_from(low, dt):
    digits = _dtype.finfo(dt).nmant + 1
    rounded = _cast_int(low + 1, dt)
    if rounded is not None and rounded < low:
        low = rounded + (1 << ((abs(low + 1).bit_length() - 1) - digits + 1))
    return low


def _update_to(high, dt):
    digits = _dtype.finfo(dt).nmant + 1
    rounded = _cast_int(high - 1, dt)
    if rounded is not None and rounded >= high:
        high = rounded - (1 << ((abs(high - 1).bit_length() - 1) - digits + 1))
    return high


def _largest_random(np_dtype):
    """The top of random_(from, None)'s range: the dtype's largest value, or for floats the
    largest of their run of exact integers (PyTorch's 2**digits)."""
    dt = np.dtype(np_dtype)
    if dt == np.bool_:
        return 1
    return int(np.iinfo(dt).max) if dt.kind in 'iu' else 2 ** (_dtype.finfo(dt).nmant + 1)


_C_TYPE_NAMES = {'bool': 'bool', 'uint8': 'unsigned char', 'int8': 'signed char',
                 'int16': 'short', 'int32': 'int', 'int64': 'long int', 'float16': 'c10::Half',
                 'bfloat16': 'c10::BFloat16', 'float32': 'float', 'float64': 'double'}


def _check_random_bounds(low, high, np_dtype):
    """random_(from, to) must fit the tensor's dtype (PyTorch's messages)."""
    dt = np.dtype(np_dtype)
    if dt.kind == 'c':
        raise RuntimeError('check_random_bounds handles only integral, floating-point and boolean '
                           'types')
    if dt == np.bool_:
        lowest, highest = 0, 1
    elif dt.kind in 'iu':
        lowest, highest = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    else:
        digits = _dtype.finfo(dt).nmant + 1
        lowest, highest = -(2 ** digits), 2 ** digits
    name = _C_TYPE_NAMES.get(dt.name, dt.name)
    if dt.kind in _dtype.FLOATING_KINDS:
        # past the type's finite range an error; past its exact integers a warning (PyTorch's),
        # the samples still drawn
        digits, finite = _dtype.finfo(dt).nmant + 1, float(_dtype.finfo(dt).max)
        for label, value in (('from', low), ('to - 1', high - 1)):
            if not -finite <= value <= finite:
                raise RuntimeError(f'{label} is out of bounds for {name}')
        for label, value in (('from', low), ('to - 1', high - 1)):
            if not lowest <= value <= highest:
                warn_at_caller(f'{label} is out of bounds [-(2^{digits}), 2^{digits}]. Due to '
                               f'precision limitations {name} can support discrete uniform '
                               f'distribution only within this range. This warning will become '
                               f'an error in version 1.7 release, please fix the code in '
                               f'advance')
    elif not lowest <= low <= highest:
        raise RuntimeError(f'from is out of bounds for {name}')
    elif not lowest <= high - 1 <= highest:
        raise RuntimeError(f'to - 1 is out of bounds for {name}')
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f'>= to={high}')


def _bernoulli_sampler(p=0.5, **_):
    if isinstance(p, Tensor):
        if not p.is_floating_point():
            raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                                      f'\'{_word(p.dtype)}\'')
        _check_probability(p)

        def sample(gen, shape, dt, layout):
            probs = p._data
            order = layout[0]
            logical = shape if order is None else tuple(shape[order.index(d)]
                                                        for d in range(len(shape)))
            if probs.shape != logical:
                try:
                    probs = (np if probs.__class__ is np.ndarray else gen._engine.xp
                             ).broadcast_to(probs, logical)
                except ValueError:
                    p.expand(logical)   # raises PyTorch's message
                    raise
            if order is not None:  # visited in the target's memory order
                probs = probs.transpose(order)
            return _tensor_bernoulli(gen, probs, dt)
        return sample
    return lambda gen, shape, dt, layout: _scalar_bernoulli(gen, shape, float(p), dt)


def _exponential_sampler(lambd=1.0, **_):
    if lambd <= 0:
        raise RuntimeError(f'exponential_ expects lambda > 0.0, but found lambda={lambd}')
    return lambda gen, shape, dt, layout: _sample(gen, 'exponential', shape, float(lambd), dt)


def _geometric_sampler(p, **_):
    if not 0 < p < 1:
        raise RuntimeError(f'geometric_ expects p to be in (0, 1), but got p={p}')
    return lambda gen, shape, dt, layout: _sample(gen, 'geometric', shape, float(p), dt)


def _cauchy_sampler(median=0.0, sigma=1.0, **_):
    if not sigma > 0:
        raise RuntimeError(f'cauchy_ expects sigma > 0.0, but found sigma={sigma}')
    return lambda gen, shape, dt, layout: _sample(gen, 'cauchy', shape, float(median),
                                                  float(sigma), dt)


def _log_normal_sampler(mean=1.0, std=2.0, **_):
    if std <= 0:
        raise RuntimeError(f'log_normal_ expects std > 0.0, but found std={std}')
    return lambda gen, shape, dt, layout: _sample(gen, 'log_normal', shape, float(mean),
                                                  float(std), dt)


Tensor.random_ = _resample('random_', _random_sampler, float_only=False)
Tensor.bernoulli_ = _resample('bernoulli_', _bernoulli_sampler, float_only=False)
_uniform_ = _resample('uniform_', _uniform_sampler)
_normal_ = _resample('normal_', _normal_sampler)
_exponential_ = _resample('exponential_', _exponential_sampler)
_geometric_ = _resample('geometric_', _geometric_sampler, float_only=False)
_cauchy_ = _resample('cauchy_', _cauchy_sampler)
_log_normal_ = _resample('log_normal_', _log_normal_sampler)


# PyTorch's parameters (uniform_'s first is `from` in its parser, which Python can only pass
# positionally; its stubs call it from_)
def uniform_(self, from_=0, to=1, *, generator=None):
    return _uniform_(self, from_, to, generator=generator)


def normal_(self, mean=0, std=1, *, generator=None):
    return _normal_(self, mean, std, generator=generator)


def exponential_(self, lambd=1, *, generator=None):
    return _exponential_(self, lambd, generator=generator)


def geometric_(self, p, *, generator=None):
    return _geometric_(self, p, generator=generator)


def cauchy_(self, median=0, sigma=1, *, generator=None):
    return _cauchy_(self, median, sigma, generator=generator)


def log_normal_(self, mean=1, std=2, *, generator=None):
    return _log_normal_(self, mean, std, generator=generator)


# Under the profiler each sampling factory is one op of PyTorch's name (_profiled_calls.py)
for _name in ('rand', 'randn', 'randint', 'randperm', 'normal', 'rand_like', 'randn_like',
              'randint_like', 'bernoulli', 'multinomial', 'poisson'):
    globals()[_name] = profiled_call('aten::' + _name)(globals()[_name])

Tensor.uniform_, Tensor.normal_, Tensor.exponential_ = uniform_, normal_, exponential_
Tensor.geometric_, Tensor.cauchy_, Tensor.log_normal_ = geometric_, cauchy_, log_normal_
Tensor.bernoulli = bernoulli
Tensor.multinomial = multinomial
