"""The third random-numbers porting sweep's findings, checked against PyTorch itself:
torch.quasirandom.SobolEngine, the Generator's clone/graph-safe/offset methods, the top-level
dropout ops (torch.native_dropout, torch.dropout_...), and the profiler's one-session rule."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, both, exc_kind

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# SobolEngine
# ---------------------------------------------------------------------------------------------

def test_direction_numbers_are_pytorchs_for_all_21201_dimensions():
    expected = torch.zeros(21201, 30, dtype=torch.long)
    torch._sobol_engine_initialize_state_(expected, 21201)
    got = nbgrad.quasirandom.SobolEngine(21201).sobolstate
    assert_same(got, expected)


# each step: ('draw', n), ('ff', n), ('base2', m), ('reset',)
STEPS = [('draw', 1), ('draw', 7), ('ff', 5), ('draw', 3), ('base2', 4), ('reset',),
         ('base2', 3), ('ff', 1), ('draw', 0), ('ff', 1000), ('draw', 17), ('base2', 1)]


@pytest.mark.parametrize('dtype', [None, 'float32', 'float64'])
@pytest.mark.parametrize('scramble,seed', [(False, None), (True, 0), (True, 123), (False, 7)])
@pytest.mark.parametrize('dimension', [1, 2, 5, 40, 1111, 21201])
def test_draws_equal_pytorchs(dimension, scramble, seed, dtype):
    """Every point, the state after each step, and the errors of draw_base2 (the points are
    dyadic rationals: compared exactly)."""
    def run(lib):
        engine = lib.quasirandom.SobolEngine(dimension, scramble=scramble, seed=seed)
        dt = None if dtype is None else getattr(lib, dtype)
        seen = [engine.sobolstate, engine.shift]
        for step in STEPS:
            if step[0] == 'draw':
                seen.append(engine.draw(step[1], dtype=dt))
            elif step[0] == 'ff':
                assert engine.fast_forward(step[1]) is engine
            elif step[0] == 'base2':
                try:
                    seen.append(engine.draw_base2(step[1], dtype=dt))
                except ValueError as e:
                    seen.append(str(e))
            else:
                assert engine.reset() is engine
            seen += [engine.quasi, engine.num_generated]
        return seen
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


def test_unseeded_scrambling_draws_from_the_default_generator():
    def run(lib):
        lib.manual_seed(3)
        engine = lib.quasirandom.SobolEngine(6, scramble=True)
        return engine.draw(9), lib.rand(2)
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


@pytest.mark.parametrize('default', ['float32', 'float64'])
def test_first_point_is_made_in_the_default_dtype_at_construction(default):
    """A scrambled engine's first point is quasi / 2**30 in the default dtype of the moment it
    was built (float32 rounding survives draw(dtype=float64)), as in PyTorch."""
    def run(lib):
        before = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            engine = lib.quasirandom.SobolEngine(5, scramble=True, seed=0)
        finally:
            lib.set_default_dtype(before)
        return engine._first_point, engine.draw(1, dtype=lib.float64), engine.draw(2)
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


def test_draw_out_and_dtypes():
    def run(lib):
        engine = lib.quasirandom.SobolEngine(3)
        out64 = lib.zeros(1, dtype=lib.float64)
        returned = engine.draw(4, out=out64)
        out32 = lib.zeros(7, 2)
        engine.draw(2, out=out32, dtype=lib.float64)
        first_half = lib.quasirandom.SobolEngine(3).draw(1, dtype=lib.float16)
        return returned is out64, out64, out32, first_half
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.quasirandom.SobolEngine(0),
    lambda lib: lib.quasirandom.SobolEngine(21202),
    lambda lib: lib.quasirandom.SobolEngine(2).draw(0),        # n - 1 points after the first
    lambda lib: lib.quasirandom.SobolEngine(2).draw(-2),
    lambda lib: lib.quasirandom.SobolEngine(2).draw(2, dtype=lib.float16),
    lambda lib: lib.quasirandom.SobolEngine(2).draw(2, dtype=lib.int64),
    lambda lib: lib.quasirandom.SobolEngine(2).draw(2.0),
    lambda lib: lib.quasirandom.SobolEngine(2).fast_forward(3).draw_base2(2),
], ids=['dim0', 'dim-too-big', 'draw0-first', 'draw-negative', 'half', 'long', 'float-n',
        'base2-unbalanced'])
def test_errors_are_pytorchs(call):
    assert_same_error(call)


@pytest.mark.parametrize('call', [
    lambda lib: lib.quasirandom.SobolEngine(2.0),
    lambda lib: lib.quasirandom.SobolEngine(2, True, 1.5),
    lambda lib: lib.quasirandom.SobolEngine(2).draw_base2(1.0),
])
def test_argument_errors_are_of_pytorchs_kind(call):
    both(call)


def test_repr_and_attributes():
    def run(lib):
        engines = [lib.quasirandom.SobolEngine(*args) for args in
                   [(2,), (2, True), (2, False, 3), (2, True, 5)]]
        e = engines[3]
        return ([repr(x) for x in engines], e.MAXBIT, e.MAXDIM, e.dimension, e.scramble, e.seed,
                sorted(vars(e)), str(e.sobolstate.dtype), str(e.quasi.dtype),
                str(e._first_point.dtype))
    both(run, lambda got, expected: assert_same(got, tuple(
        x.replace('torch.', 'nbgrad.') if isinstance(x, str) else x for x in expected)))


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------

def test_clone_state_copies_the_stream_and_seed():
    def run(lib):
        g = lib.Generator().manual_seed(5)
        lib.randn(3, generator=g)               # (and a cached normal, for randn(1)'s path)
        lib.randn(1, generator=g)
        c = g.clone_state()
        return (c is g, type(c).__name__, c.initial_seed(), str(c.device),
                lib.randn(5, generator=g), lib.randn(5, generator=c),
                lib.rand(3, generator=c))
    both(run)


def test_clone_state_of_the_default_generator():
    def run(lib):
        lib.manual_seed(3)
        clone = lib.default_generator.clone_state()
        return lib.rand(2), lib.rand(2, generator=clone)
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.Generator().graphsafe_get_state(),
    lambda lib: lib.Generator().graphsafe_set_state(lib.Generator()),
    lambda lib: lib.Generator().graphsafe_set_state(lib.zeros(2)),
    lambda lib: lib.Generator().graphsafe_set_state(None),
    lambda lib: lib.Generator().set_offset(0),
    lambda lib: lib.Generator().set_offset(-1),
    lambda lib: lib.Generator().set_offset(1.5),
    lambda lib: lib.Generator().set_offset('a'),
    lambda lib: lib.Generator().set_offset(True),
    lambda lib: lib.Generator().set_offset(2 ** 64),
    lambda lib: lib.Generator().get_offset(),
], ids=['graphsafe_get', 'graphsafe_set', 'graphsafe_set-tensor', 'graphsafe_set-none',
        'set_offset', 'set_offset-neg', 'set_offset-float', 'set_offset-str', 'set_offset-bool',
        'set_offset-overflow', 'get_offset'])
def test_cpu_generator_refusals(call):
    assert_same_error(call)


def test_clone_state_takes_no_argument():
    both(lambda lib: lib.Generator().clone_state(1))


def test_generator_methods():
    names = sorted(n for n in dir(torch.Generator) if not n.startswith('_'))
    assert [n for n in names if not hasattr(nbgrad.Generator(), n)] == []


def test_thread_safe_generator_is_none_outside_thread_workers():
    assert torch.random.thread_safe_generator() is None
    assert nbgrad.random.thread_safe_generator() is None
    assert 'thread_safe_generator' in nbgrad.random.__all__


# ---------------------------------------------------------------------------------------------
# Top-level dropout ops
# ---------------------------------------------------------------------------------------------

PLAIN = ['dropout', 'dropout_', 'alpha_dropout', 'alpha_dropout_']
FEATURE = ['feature_dropout', 'feature_dropout_', 'feature_alpha_dropout',
           'feature_alpha_dropout_']
ALL_DROPOUTS = PLAIN + FEATURE + ['native_dropout']


def _input(lib, shape, dtype='float32'):
    n = int(np.prod(shape))
    return lib.arange(1., n + 1.).reshape(shape).to(getattr(lib, dtype))


@pytest.mark.parametrize('p', [0.0, 0.3, 0.5, 1.0, 1])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16'])
@pytest.mark.parametrize('shape', [(2, 3, 2), (40, 50), (5,), ()], ids=str)
@pytest.mark.parametrize('name', ALL_DROPOUTS)
def test_dropout_values_and_stream(name, shape, dtype, p):
    """The same units dropped and the same values after manual_seed, and the generator left
    where PyTorch leaves it."""
    def run(lib):
        lib.manual_seed(0)
        x = _input(lib, shape, dtype)
        result = getattr(lib, name)(x, p, True)
        same_object = (result[0] if name == 'native_dropout' else result) is x
        return result, same_object, lib.rand(2)
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


@pytest.mark.parametrize('name', ALL_DROPOUTS)
def test_eval_mode_and_empty_input(name):
    def run(lib):
        x = _input(lib, (2, 3))
        result = getattr(lib, name)(x, 0.4, False)
        empty = lib.zeros(0, 3)
        empty_result = getattr(lib, name)(empty, 0.4, True)
        return (result, (result[0] if name == 'native_dropout' else result) is x,
                empty_result, (empty_result[0] if name == 'native_dropout' else empty_result)
                is empty)
    both(run)


@pytest.mark.parametrize('name', ALL_DROPOUTS)
def test_noncontiguous_input(name):
    def run(lib):
        lib.manual_seed(0)
        base = _input(lib, (6, 5))
        return getattr(lib, name)(base.t(), 0.5, True), base
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


@pytest.mark.parametrize('name', [n for n in ALL_DROPOUTS if not n.endswith('_')])
@pytest.mark.parametrize('train', [True, False])
def test_gradients_and_grad_fn(name, train):
    def run(lib):
        lib.manual_seed(0)
        x = _input(lib, (3, 4)).requires_grad_()
        result = getattr(lib, name)(x, 0.4, train)
        out = result[0] if name == 'native_dropout' else result
        if out.requires_grad:
            (out * lib.arange(12.).reshape(3, 4)).sum().backward()
        grad_fn = type(out.grad_fn).__name__ if out.grad_fn is not None else None
        return out, grad_fn, x.grad
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


@pytest.mark.parametrize('call', [
    lambda lib, f: f(_input(lib, (2, 3)), 1.5, True),
    lambda lib, f: f(_input(lib, (2, 3)), -0.1, True),
    lambda lib, f: f(_input(lib, (2, 3)), 0.3),
    lambda lib, f: f(_input(lib, (2, 3)), 0.3, None),
    lambda lib, f: f(_input(lib, (2, 3)), 0.3, 1),
    lambda lib, f: f(_input(lib, (2, 3)), '0.3', True),
    lambda lib, f: f(_input(lib, (2, 3)), None, True),
    lambda lib, f: f(lib.arange(6).reshape(2, 3), 0.3, True),
    lambda lib, f: f(lib.ones(2, 2, dtype=lib.bool), 0.3, True),
    lambda lib, f: f(_input(lib, (5,)), 0.3, True),
    lambda lib, f: f(lib.ones(2, 3, requires_grad=True), 0.3, True),
], ids=['p>1', 'p<0', 'no-train', 'train-None', 'train-int', 'p-str', 'p-None', 'int-input',
        'bool-input', '1-d', 'leaf-requires-grad'])
@pytest.mark.parametrize('name', ALL_DROPOUTS)
def test_argument_errors(name, call):
    """Where PyTorch raises, nbgrad raises the same kind of error (native_dropout takes
    train=None, and the in-place forms refuse a leaf that requires grad)."""
    def run(lib):
        lib.manual_seed(0)
        return call(lib, getattr(lib, name))
    both(run, lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


def test_p_out_of_range_messages():
    for name in PLAIN + FEATURE:
        assert_same_error(lambda lib: getattr(lib, name)(_input(lib, (2, 3)), 1.5, True))


# ---------------------------------------------------------------------------------------------
# Profiler: one session, as in PyTorch
# ---------------------------------------------------------------------------------------------

KEY_OPS = {'aten::add', 'aten::mul', 'aten::sin'}


def _ops(prof):
    events = prof.events() if hasattr(prof, 'events') else prof.function_events
    return sorted({e.name for e in events} & KEY_OPS)


def _session_case(lib, case):
    """Two profilers (torch.profiler's or torch.autograd.profiler's) started and stopped in the
    order `case` gives; the ops each one recorded."""
    x = lib.ones(3)
    kinds = {'p': lambda: lib.profiler.profile(), 'a': lambda: lib.autograd.profiler.profile()}
    outer_kind, inner_kind, order = case
    a, b = kinds[outer_kind](), kinds[inner_kind]()
    a.__enter__()
    x + x
    b.__enter__()
    x * x
    if order == 'nested':
        b.__exit__(None, None, None)
        x.sin()
        a.__exit__(None, None, None)
    else:
        a.__exit__(None, None, None)
        x.sin()
        b.__exit__(None, None, None)
    return _ops(a), _ops(b)


@pytest.mark.parametrize('case', [('p', 'p', 'nested'), ('a', 'a', 'nested'),
                                  ('a', 'p', 'nested'), ('p', 'a', 'nested'),
                                  ('p', 'p', 'overlapping'), ('a', 'a', 'overlapping')],
                         ids=str)
def test_a_second_profiler_takes_the_session_over(case, capfd):
    """PyTorch refuses nothing: the profiler started second takes the session (the first one's
    events so far are dropped), whichever profiler stops first receives the session's events,
    and the other gets none, with a log line on stderr."""
    both(lambda lib: _session_case(lib, case))
    logged = capfd.readouterr().err
    assert logged.count('disableProfiler called but no active profiling session found') == 2


def test_a_profiler_left_running_does_not_block_the_next():
    def run(lib):
        x = lib.ones(3)
        forgotten = lib.profiler.profile()
        forgotten.__enter__()
        x + x
        with lib.profiler.profile() as prof:
            x * x
        return _ops(prof)
    both(run)


def test_results_inside_the_block_are_empty():
    def run(lib):
        x = lib.ones(3)
        seen = []
        with lib.profiler.profile() as prof:
            x * x
            seen += [type(prof.key_averages()).__name__, len(prof.key_averages()),
                     len(prof.events()), prof.key_averages().table()]
        seen.append(_ops(prof))
        with lib.autograd.profiler.profile() as aprof:
            x * x
            seen += [len(aprof.key_averages()), len(aprof.function_events),
                     aprof.self_cpu_time_total, aprof.table(), str(aprof.total_average().key)]
        seen.append(_ops(aprof))
        never = lib.autograd.profiler.profile()
        seen += [never.self_cpu_time_total, len(never.key_averages())]
        return seen
    both(run)


@pytest.mark.parametrize('what', ['key_averages', 'function_events', 'export_chrome_trace'])
def test_a_disabled_profiler_has_no_results(what, tmp_path):
    def run(lib):
        disabled = lib.autograd.profiler.profile(enabled=False)
        with disabled:
            lib.ones(2) * 2
        if what == 'export_chrome_trace':
            return disabled.export_chrome_trace(str(tmp_path / 'trace.json'))
        result = getattr(disabled, what)
        return len(result() if callable(result) else result)
    both(run)


def test_exporting_inside_the_block_fails_as_in_pytorch(tmp_path):
    for lib in (torch, nbgrad):
        for prof in (lib.profiler.profile(), lib.autograd.profiler.profile()):
            with prof:
                with pytest.raises(AttributeError):
                    prof.export_chrome_trace(str(tmp_path / 'trace.json'))


def test_profiler_profile_has_no_self_cpu_time_total():
    """torch.profiler.profile has no such attribute (torch.autograd.profiler.profile has)."""
    for lib in (torch, nbgrad):
        with lib.profiler.profile() as prof:
            lib.ones(2) * 2
        with pytest.raises(AttributeError) as info:
            prof.self_cpu_time_total
        assert exc_kind(info.value) is AttributeError
        with pytest.raises(AttributeError):
            lib.profiler.profile().self_cpu_time_total
