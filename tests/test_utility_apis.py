"""torch.utils.benchmark, torch.utils.model_zoo, torch.hub.tqdm, torch.overrides,
Tensor.as_subclass, torch.library custom ops and Variable(volatile=) against PyTorch.

The benchmark tests feed both libraries the same raw times (deterministic) and compare the reprs
and tables character for character; timings of real code are only checked for sanity (a 1 ms
sleep measures between 1 ms and a generous upper bound), never for an exact value."""
import io
import re
import sys
import timeit
import typing
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
import torch.utils.benchmark as torch_benchmark  # noqa: E402
import torch.utils.model_zoo as torch_model_zoo  # noqa: E402
import nbgrad.utils.benchmark as nb_benchmark  # noqa: E402
import nbgrad.utils.model_zoo as nb_model_zoo  # noqa: E402

BENCHMARKS = [pytest.param(torch, torch_benchmark, id='torch'),
              pytest.param(nbgrad, nb_benchmark, id='nbgrad')]


def _address_free(text):
    return re.sub(r'^<(torch|nbgrad)(\.utils\.benchmark\.utils\.common\.Measurement) object at '
                  r'0x[0-9a-f]+>', r'<LIB\2 object>', text)


# -- benchmark: Measurement and Compare from fixed times ------------------------------------------

TIME_SETS = [
    ([1.2e-6], 100),
    ([1.0e-5, 1.1e-5, 1.3e-5, 0.9e-5, 1.05e-5], 1000),
    ([2.0e-3, 2.6e-3, 1.9e-3, 3.5e-3, 2.2e-3, 2.1e-3, 2.05e-3], 10),
    ([4.5e-8, 4.6e-8, 4.4e-8, 4.5e-8], 1000000),
    ([1.5, 1.6, 1.55, 1.52], 1),
]


@pytest.mark.parametrize('raw_times,number', TIME_SETS)
@pytest.mark.parametrize('spec', [
    dict(stmt='x + y', setup='pass'),
    dict(stmt='x + y', setup='x = 1', label='Add', sub_label='float', description='n=4'),
    dict(stmt='a = 1\nb = a + 1', setup='import math\nx = 2', num_threads=4),
    dict(stmt='f(x)', setup='pass', label='Call', description='small', env='py311'),
])
def test_measurement_statistics_and_repr_match(raw_times, number, spec):
    made = {}
    for lib, bench in (('torch', torch_benchmark), ('nbgrad', nb_benchmark)):
        m = bench.Measurement(number_per_run=number, raw_times=list(raw_times),
                              task_spec=bench.TaskSpec(**spec))
        made[lib] = m
    t, n = made['torch'], made['nbgrad']
    assert n.times == pytest.approx(t.times, rel=1e-12)
    for name in ('median', 'mean', 'iqr'):
        assert getattr(n, name) == pytest.approx(getattr(t, name), rel=1e-9), name
    for name in ('significant_figures', 'has_warnings', 'number_per_run', 'title',
                 'as_row_name', 'label', 'sub_label', 'description', 'num_threads', 'stmt'):
        assert getattr(n, name) == getattr(t, name), name
    assert n.meets_confidence(0.2) == t.meets_confidence(0.2)
    assert _address_free(repr(n)) == _address_free(repr(t))
    assert repr(n).startswith('<nbgrad.utils.benchmark.utils.common.Measurement object at 0x')


def test_measurement_merge_matches():
    def merged(bench):
        spec = bench.TaskSpec(stmt='x', setup='pass', label='L')
        ms = [bench.Measurement(10, [1e-4, 2e-4], spec),
              bench.Measurement(20, [2e-4, 6e-4], spec),
              bench.Measurement(5, [1e-5], bench.TaskSpec(stmt='y', setup='pass', label='L'))]
        return [(m.number_per_run, m.times, m.stmt) for m in bench.Measurement.merge(ms)]
    assert merged(nb_benchmark) == merged(torch_benchmark)


@pytest.mark.parametrize('trim,colorize,highlight', [
    (False, None, False), (True, None, False), (True, 'columns', True), (False, 'rows', True)])
def test_compare_table_matches(trim, colorize, highlight):
    def table(bench):
        rng = np.random.default_rng(0)
        results = []
        for threads in (1, 4):
            for row, base in (('float', 2e-5), ('int', 7e-5)):
                for col, scale in (('n=1', 1), ('n=100', 13), ('n=10000', 1400)):
                    spread = 0.4 if (row, col) == ('int', 'n=100') else 0.02
                    times = list(base * scale * (1 + spread * rng.random(9)))
                    results.append(bench.Measurement(
                        number_per_run=100, raw_times=[t * 100 for t in times],
                        task_spec=bench.TaskSpec(stmt='x + 1', setup='pass', label='Add',
                                                 sub_label=row, description=col,
                                                 num_threads=threads)))
        results.append(bench.Measurement(1, [3e-3, 3.1e-3], bench.TaskSpec(
            stmt='y * 2', setup='pass', label='Mul', description='n=1')))
        compare = bench.Compare(results)
        if trim:
            compare.trim_significant_figures()
        if colorize:
            compare.colorize(rowwise=colorize == 'rows')
        if highlight:
            compare.highlight_warnings()
        return str(compare)
    expected = table(torch_benchmark)
    assert table(nb_benchmark) == expected
    assert '[' in expected and 'Times are in' in expected   # (a real table was compared)


def test_compare_print_and_refusal(capsys):
    spec = nb_benchmark.TaskSpec(stmt='x', setup='pass', label='L', description='d')
    compare = nb_benchmark.Compare([nb_benchmark.Measurement(1, [1e-3], spec)])
    compare.print()
    assert capsys.readouterr().out == str(compare) + '\n'
    for bench in (torch_benchmark, nb_benchmark):
        with pytest.raises(ValueError, match='Expected an instance of `Measurement`'):
            bench.Compare([1.0])


@pytest.mark.parametrize('fn', [
    lambda b: b.select_unit(3.2e-7), lambda b: b.select_unit(4.5e-2), lambda b: b.select_unit(12.),
    lambda b: b.select_unit(1e-6), lambda b: b.select_unit(999e-9),
    lambda b: b.trim_sigfig(3.14159, 2), lambda b: b.trim_sigfig(123456.0, 3),
    lambda b: b.unit_to_english('us'), lambda b: b.ordered_unique([3, 1, 3, 2, 1])])
def test_common_helpers_match(fn):
    assert fn(nb_benchmark) == fn(torch_benchmark)


# -- benchmark: Timer timing real code --------------------------------------------------------------

@pytest.mark.parametrize('lib,bench', BENCHMARKS)
def test_timer_timeit_measures_a_sleep(lib, bench):
    m = bench.Timer('time.sleep(1e-3)', setup='import time').timeit(5)
    assert isinstance(m, bench.Measurement)
    assert m.number_per_run == 5 and len(m.raw_times) == 1 and len(m.times) == 1
    assert 0.9e-3 <= m.median < 0.1     # a 1 ms sleep: at least 1 ms, surely under 100 ms


@pytest.mark.parametrize('lib,bench', BENCHMARKS)
def test_blocked_autorange_on_a_callable_via_globals(lib, bench):
    calls = []

    def f(v):
        calls.append(v)

    m = bench.Timer('f(x)', globals={'f': f, 'x': 3}, label='call', sub_label='f',
                    description='tiny').blocked_autorange(min_run_time=0.02)
    assert calls and set(calls) == {3}
    assert m.number_per_run >= 1 and sum(m.raw_times) >= 0.02
    assert len(m.times) == len(m.raw_times) >= 1
    assert 0 < m.median < 1e-3 and m.iqr >= 0 and m.mean > 0
    assert (m.label, m.sub_label, m.description) == ('call', 'f', 'tiny')


@pytest.mark.parametrize('lib,bench', BENCHMARKS)
def test_adaptive_autorange_and_tensor_statement(lib, bench):
    x = lib.ones(64)
    m = bench.Timer('torch.add(x, x)', globals={'x': x}).adaptive_autorange(
        threshold=0.5, min_run_time=0.01, max_run_time=0.5)
    assert len(m.raw_times) >= 1 and m.median > 0
    # `torch` in a statement is the library that made the Timer
    out = {}
    bench.Timer('out["t"] = torch.ones(2)', globals={'out': out}).timeit(1)
    assert isinstance(out['t'], lib.Tensor)


def test_sleep_measures_the_same_order_in_both():
    """Both Timers time the same 1 ms sleep: each within 1 ms .. 100 ms (never compared to
    each other exactly: the machines are shared)."""
    for bench in (torch_benchmark, nb_benchmark):
        m = bench.Timer('time.sleep(1e-3)', setup='import time').blocked_autorange(
            min_run_time=0.02)
        assert 0.9e-3 <= m.median < 0.1


@pytest.mark.parametrize('call', [
    lambda b: b.Timer(stmt=lambda: None), lambda b: b.Timer('x').repeat(),
    lambda b: b.Timer('x').autorange(), lambda b: b.Timer('x', language='fortran'),
    lambda b: b.Timer('x', global_setup='#include <x>')])
def test_timer_refusals_match(call):
    kinds = []
    for bench in (torch_benchmark, nb_benchmark):
        with pytest.raises(Exception) as info:
            call(bench)
        kinds.append(type(info.value))
    assert kinds[0] is kinds[1]


def test_timer_callback_and_threads():
    seen = []
    m = nb_benchmark.Timer('pass', num_threads=2).blocked_autorange(
        callback=lambda number, t: seen.append((number, t)), min_run_time=0.01)
    assert [n for n, _ in seen] == [m.number_per_run] * len(m.raw_times)
    assert [t for _, t in seen] == m.raw_times
    assert m.num_threads == 2 and nbgrad.get_num_threads() != 0
    t_m = torch_benchmark.Timer('pass', num_threads=2).timeit(10)
    assert _address_free(repr(nb_benchmark.Measurement(10, t_m.raw_times, m.task_spec))) == \
        _address_free(repr(t_m))


# -- model_zoo and hub.tqdm -------------------------------------------------------------------------

def test_model_zoo_and_hub_tqdm():
    import nbgrad.hub
    assert nb_model_zoo.load_url is nbgrad.hub.load_state_dict_from_url
    assert nb_model_zoo.tqdm is nbgrad.hub.tqdm
    assert torch_model_zoo.load_url is torch.hub.load_state_dict_from_url
    try:
        import tqdm  # noqa: F401
        pytest.skip('tqdm is installed: both hubs use it')
    except ImportError:
        pass
    assert nbgrad.hub.tqdm.__name__ == torch.hub.tqdm.__name__ == '_Faketqdm'

    def run(tqdm_cls, total, steps, disable=False):
        stderr, sys.stderr = sys.stderr, io.StringIO()
        try:
            with tqdm_cls(total=total, disable=disable, unit='B', unit_scale=True,
                          unit_divisor=1024) as bar:
                for n in steps:
                    bar.update(n)
                bar.set_description('x')
                bar.write('done')
            return sys.stderr.getvalue(), bar.n
        finally:
            sys.stderr = stderr

    for total, steps, disable in ((1000, [100, 400, 500], False), (None, [10, 20], False),
                                  (50, [10], True)):
        assert run(nbgrad.hub.tqdm, total, steps, disable) == \
            run(torch.hub.tqdm, total, steps, disable)


def test_load_url_reads_a_local_checkpoint(tmp_path):
    state = {'w': nbgrad.arange(6.).reshape(2, 3)}
    source = tmp_path / 'weights-abc.pth'
    nbgrad.save(state, str(source))
    loaded = nb_model_zoo.load_url(source.as_uri(), model_dir=str(tmp_path / 'cache'),
                                   progress=False)
    reference = torch_model_zoo.load_url(source.as_uri(), model_dir=str(tmp_path / 'tcache'),
                                         progress=False)
    np.testing.assert_array_equal(loaded['w'].numpy(), reference['w'].numpy())


# -- overrides ------------------------------------------------------------------------------------

def _types(lib):
    class Sub(lib.Tensor):
        pass

    class Like:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ('Like', func.__name__, tuple(t.__name__ for t in types))

    class Plain:
        pass

    return Sub, Like, Plain


@pytest.mark.parametrize('probe', [
    lambda lib, o, S, L, P: o.has_torch_function((lib.ones(2),)),
    lambda lib, o, S, L, P: o.has_torch_function((lib.ones(2).as_subclass(S),)),
    lambda lib, o, S, L, P: o.has_torch_function([L(), 1]),
    lambda lib, o, S, L, P: o.has_torch_function((1, 'a', P())),
    lambda lib, o, S, L, P: o.has_torch_function((lib.nn.Parameter(lib.ones(1)),)),
    lambda lib, o, S, L, P: o.has_torch_function_unary(L()),
    lambda lib, o, S, L, P: o.has_torch_function_unary(lib.ones(1)),
    lambda lib, o, S, L, P: o.has_torch_function_variadic(lib.ones(1), L()),
    lambda lib, o, S, L, P: o.has_torch_function_variadic(lib.ones(1), 2),
    lambda lib, o, S, L, P: [o.is_tensor_like(v) for v in (lib.ones(1), L(), S, P(), 1, L)],
    lambda lib, o, S, L, P: o.is_tensor_like(lib.nn.Parameter(lib.ones(1))),
    lambda lib, o, S, L, P: [o.is_tensor_method_or_property(f) for f in (
        lib.Tensor.add, lib.add, lib.Tensor.sum, lib.Tensor.shape.__get__, len)],
    lambda lib, o, S, L, P: lib.tensor in o.get_ignored_functions(),
    lambda lib, o, S, L, P: lib.zeros in o.get_ignored_functions(),
    lambda lib, o, S, L, P: lib.add in o.get_ignored_functions(),
    lambda lib, o, S, L, P: lib.add in o.get_overridable_functions()[lib],
    lambda lib, o, S, L, P: lib.Tensor.add in o.get_overridable_functions()[lib.Tensor],
    lambda lib, o, S, L, P: lib.nn.functional.relu in
    o.get_overridable_functions()[lib.nn.functional],
    lambda lib, o, S, L, P: o.get_testing_overrides()[lib.add](lib.ones(1), lib.ones(1)),
])
def test_override_predicates_match(probe):
    results = []
    for lib in (torch, nbgrad):
        results.append(probe(lib, lib.overrides, *_types(lib)))
    assert results[0] == results[1]


def _protocol_function(lib):
    overrides = lib.overrides

    def scale(a, b=2):
        if overrides.has_torch_function_variadic(a, b):
            return overrides.handle_torch_function(scale, (a, b), a, b=b)
        return a * b
    return scale


def test_handle_torch_function_dispatches_like_torch():
    for lib in (torch, nbgrad):
        Sub, Like, _ = _types(lib)
        scale = _protocol_function(lib)
        assert scale(Like()) == ('Like', 'scale', ('Like',))
        # (a plain tensor's __torch_function__ is tried first, and declines: NotImplemented)
        assert scale(lib.ones(2), Like()) == ('Like', 'scale', ('Tensor', 'Like'))
        assert scale(Like(), lib.ones(2)) == ('Like', 'scale', ('Like', 'Tensor'))
        # a subclass that overrides nothing keeps its type through the function
        out = scale(lib.ones(2).as_subclass(Sub), 3)
        assert type(out) is Sub and out.tolist() == [3.0, 3.0]
        assert type(scale(lib.ones(2), 3)) is lib.Tensor


def test_handle_torch_function_order_and_not_implemented():
    results = []
    for lib in (torch, nbgrad):
        log = []

        class A:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                log.append(('A', tuple(t.__name__ for t in types)))
                return NotImplemented

        class B(A):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                log.append(('B', tuple(t.__name__ for t in types)))
                return NotImplemented

        def f(x, y):
            return lib.overrides.handle_torch_function(f, (x, y), x, y)

        with pytest.raises(TypeError) as info:
            f(A(), B())
        results.append((log, type(info.value),
                        'no implementation found for' in str(info.value)))
    assert results[0] == results[1]


def test_subclass_torch_function_super_call():
    """A subclass written for PyTorch (its __torch_function__ calls super()) works through
    handle_torch_function in both libraries."""
    for lib in (torch, nbgrad):
        seen = []

        class Logged(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(func.__name__)
                return super().__torch_function__(func, types, args, kwargs)

        scale = _protocol_function(lib)
        out = scale(lib.ones(2).as_subclass(Logged), 5)
        assert 'scale' in seen and type(out) is Logged and out.tolist() == [5.0, 5.0]


# -- as_subclass --------------------------------------------------------------------------------

def test_as_subclass_shares_memory_and_history():
    results = []
    for lib in (torch, nbgrad):
        class M(lib.Tensor):
            pass

        x = lib.tensor([1., 2., 3.], requires_grad=True)
        z = x.as_subclass(M)
        facts = [type(z).__name__, z.requires_grad, z.is_leaf, z.grad_fn.name(),
                 isinstance(z, lib.Tensor), z.dtype == x.dtype, tuple(z.shape)]
        (z * 2).sum().backward()
        facts.append(x.grad.tolist())
        y = x * 2
        w = y.as_subclass(M)
        with lib.no_grad():
            y.add_(1)                       # in place through the base: the alias sees it
        facts += [w.tolist(), w._version == y._version]
        w.sum().backward()
        facts.append(x.grad.tolist())
        with lib.no_grad():
            n = x.as_subclass(M)
        facts += [n.requires_grad, n.grad_fn is None]
        facts.append(type(lib.nn.Parameter(lib.ones(2)).as_subclass(lib.Tensor)).__name__)
        results.append(facts)
    assert results[0] == results[1]


@pytest.mark.parametrize('cls', [int, object, 'tensor'])
def test_as_subclass_refuses_non_tensor_classes(cls):
    messages = []
    for lib in (torch, nbgrad):
        with pytest.raises(TypeError) as info:
            lib.ones(1).as_subclass(cls)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# -- library.custom_op --------------------------------------------------------------------------

_counter = iter(range(10 ** 6))


def _unique(name):
    return f'nbtest::{name}_{next(_counter)}'


def _numpy_sin_op(lib, qualname, with_autograd=True):
    """The custom-op tutorial's numpy sin, written once for either library."""
    Tensor = lib.Tensor

    @lib.library.custom_op(qualname, mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return lib.from_numpy(np.sin(x.detach().cpu().numpy())).to(device=x.device)

    @numpy_sin.register_fake
    def _(x):
        return lib.empty_like(x)

    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()

    if with_autograd:
        numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


def test_custom_op_numpy_sin_values_and_grads():
    results = []
    for lib in (torch, nbgrad):
        qualname = _unique('numpy_sin')
        op = _numpy_sin_op(lib, qualname)
        x = lib.tensor([0.1, 0.7, -1.3, 2.0], dtype=lib.float64, requires_grad=True)
        y = op(x)
        y.sum().backward()
        ns, name = qualname.split('::')
        packet = getattr(getattr(lib.ops, ns), name)
        via_ops = packet(x.detach())
        via_default = packet.default(x.detach())
        with lib.no_grad():
            no_grad_out = op(x)
        results.append((y.tolist(), x.grad.tolist(), y.requires_grad,
                        y.grad_fn.name().startswith('GeneratedBackwardFor_nbtest_numpy_sin'),
                        via_ops.tolist(), via_default.tolist(), no_grad_out.requires_grad,
                        str(packet.default._schema).split('::')[1].split('(', 1)[1],
                        repr(op).split('(')[0], repr(packet.default).split('.', 1)[1]
                        .replace(name, 'NAME')))
    assert results[0] == results[1]


def test_custom_op_gradcheck_against_numerical():
    op = _numpy_sin_op(nbgrad, _unique('numpy_sin'))
    x = nbgrad.tensor([0.3, -0.8, 1.1], dtype=nbgrad.float64, requires_grad=True)
    assert nbgrad.autograd.gradcheck(op, (x,))


def test_custom_op_without_autograd_raises_at_backward():
    messages = []
    for lib in (torch, nbgrad):
        qualname = _unique('noformula')
        op = _numpy_sin_op(lib, qualname, with_autograd=False)
        y = op(lib.ones(2, requires_grad=True))
        assert y.requires_grad
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        messages.append(str(info.value).replace(qualname.split('::')[1], 'NAME'))
    assert messages[0] == messages[1]


def test_custom_op_multiple_outputs_kwonly_and_nondiff_args():
    results = []
    for lib in (torch, nbgrad):
        Tensor = lib.Tensor
        seen = {}

        @lib.library.custom_op(_unique('scale2'), mutates_args=(), device_types='cpu')
        def scale2(x: Tensor, k: float, *, flag: bool = True) -> tuple[Tensor, Tensor]:
            return x * k, x * (2 * k if flag else k)

        def setup_context(ctx, inputs, output, keyword_only_inputs=None):
            seen['inputs'] = (inputs[0].tolist(), inputs[1])
            seen['kw'] = keyword_only_inputs
            ctx.k = inputs[1]
            ctx.flag = keyword_only_inputs['flag']

        def backward(ctx, g1, g2):
            return g1 * ctx.k + g2 * (2 * ctx.k if ctx.flag else ctx.k), None

        scale2.register_autograd(backward, setup_context=setup_context)
        x = lib.tensor([1., 2.], requires_grad=True)
        a, b = scale2(x, 3.0, flag=False)
        (a.sum() + 2 * b.sum()).backward()
        results.append((a.tolist(), b.tolist(), x.grad.tolist(), seen,
                        lib.library.infer_schema(scale2._init_fn, mutates_args=())))
    assert results[0] == results[1]


def test_custom_op_mutation_and_kernels_per_device():
    results = []
    for lib in (torch, nbgrad):
        Tensor = lib.Tensor

        @lib.library.custom_op(_unique('add_one_'), mutates_args={'x'})
        def add_one_(x: Tensor) -> None:
            x.add_(1)

        a = lib.zeros(3)
        add_one_(a)

        @lib.library.custom_op(_unique('which'), mutates_args=())
        def which(x: Tensor) -> Tensor:
            return x + 1

        @which.register_kernel('cpu')
        def _(x):
            return x + 100

        results.append((a.tolist(), str(add_one_._opoverload._schema).split('(', 1)[1],
                        which(lib.zeros(1)).tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize('case', ['alias', 'no_annotation', 'no_namespace', 'bad_mutates',
                                  'unknown_op'])
def test_custom_op_errors_match(case):
    kinds = []
    for lib in (torch, nbgrad):
        Tensor = lib.Tensor
        try:
            if case == 'alias':
                @lib.library.custom_op(_unique('alias'), mutates_args=())
                def alias(x: Tensor) -> Tensor:
                    return x
                alias(lib.ones(2))
            elif case == 'no_annotation':
                lib.library.custom_op(_unique('bare'), lambda x: x, mutates_args=())
            elif case == 'no_namespace':
                def f(x: Tensor) -> Tensor:
                    return x.clone()
                lib.library.custom_op('nonamespace', f, mutates_args=())
            elif case == 'bad_mutates':
                def g(x: Tensor, n: int) -> Tensor:
                    return x.clone()
                lib.library.custom_op(_unique('g'), g, mutates_args=('n',))
            else:
                lib.ops.nbtest.this_op_does_not_exist_anywhere
        except Exception as e:  # noqa: BLE001 (the kind of exception is what is compared)
            kinds.append(type(e))
        else:
            kinds.append(None)
    assert kinds[0] is kinds[1] and kinds[0] is not None


@pytest.mark.parametrize('annotations', [
    'x: Tensor, y: typing.Optional[Tensor], n: int, s: float = 0.5, l: list[int] = None, '
    'b: bool = False, *, name: str = "a", k: typing.Optional[int] = None',
    'x: Tensor, xs: typing.Sequence[Tensor], sc: typing.Union[int, float, bool]',
    'x: Tensor, d: DTYPE = None, dev: DEVICE = None, w: int = -2, e: float = 1e-5',
])
@pytest.mark.parametrize('returns', ['Tensor', 'tuple[Tensor, int]', 'list[Tensor]', 'None'])
@pytest.mark.parametrize('mutates', [(), ('x',), 'unknown'])
def test_infer_schema_matches(annotations, returns, mutates):
    schemas = []
    for lib in (torch, nbgrad):
        source = f'def f({annotations}) -> {returns}: pass'.replace(
            'DTYPE', 'lib.dtype').replace('DEVICE', 'lib.device')
        namespace = {'Tensor': lib.Tensor, 'typing': typing, 'lib': lib}
        exec(source, namespace)
        schemas.append(lib.library.infer_schema(namespace['f'], mutates_args=mutates))
    assert schemas[0] == schemas[1]


def test_library_define_impl():
    results = []
    for lib in (torch, nbgrad):
        ns = f'nbtestlib{next(_counter)}'
        library = lib.library.Library(ns, 'DEF')
        library.define('twice(Tensor x) -> Tensor')
        library.impl('twice', lambda x: x * 2, 'CPU')
        library.define('cube(Tensor x) -> Tensor')
        library.impl('cube', lambda x: x * x * x, 'CompositeImplicitAutograd')
        library.define('noimpl(Tensor x) -> Tensor')
        space = getattr(lib.ops, ns)
        x = lib.tensor([1., 2.], requires_grad=True)
        space.cube(x).sum().backward()      # a composite kernel: autograd sees its ops
        facts = [space.twice(lib.ones(2)).tolist(), x.grad.tolist(),
                 str(space.twice.default._schema), repr(library)]
        for action in (lambda: library.define('twice(Tensor x) -> Tensor'),
                       lambda: space.noimpl(lib.ones(1)),
                       lambda: lib.library.Library(ns, 'DEF'),
                       lambda: lib.library.Library(ns, 'WRONG')):
            try:
                action()
                facts.append(None)
            except Exception as e:  # noqa: BLE001
                facts.append(type(e).__name__)
        lib.library.define(f'{ns}::thrice', '(Tensor x) -> Tensor')

        @lib.library.impl(f'{ns}::thrice', 'cpu')
        def thrice(x):
            return x * 3

        facts.append(space.thrice(lib.ones(2)).tolist())
        results.append([str(f).replace(ns, 'NS') for f in facts])
    assert results[0] == results[1]


# -- Variable(volatile=) ----------------------------------------------------------------------------

@pytest.mark.parametrize('kwargs', [dict(volatile=True), dict(volatile=False), dict(volatile=1),
                                    dict(), dict(requires_grad=True, volatile=True)])
def test_variable_volatile_warning_matches(kwargs):
    results = []
    for lib in (torch, nbgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            try:
                v = lib.autograd.Variable(lib.ones(2), **kwargs)
                outcome = (type(v).__name__, v.requires_grad)
            except ValueError as e:
                outcome = ('ValueError', str(e))
        results.append((outcome, [(w.category, str(w.message), w.filename == __file__)
                                  for w in caught]))
    assert results[0] == results[1]


def test_benchmark_timer_uses_default_timer_cpu():
    # without a GPU the clock is timeit's own (no synchronisation to wait for)
    if not nbgrad.cuda.is_available():
        before = timeit.default_timer()
        assert before <= nb_benchmark.timer() <= timeit.default_timer()
