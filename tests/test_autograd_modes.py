"""Grad modes (no_grad, enable_grad, set_grad_enabled, inference_mode; as context managers and
decorators), detach / detach_ / .data, and anomaly detection, against PyTorch.

Each test is written once as `case(lib)` and run with `lib` = torch and `lib` = nbgrad; the two
results (values, gradients, flags, or the kind of exception raised) are compared (helpers in
torch_compare.py)."""
import re
import warnings

import pytest

import nbgrad
from torch_compare import arr, leaf, same, same_error

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# Grad modes
# ---------------------------------------------------------------------------------------------

def anomaly_enabled(lib):
    # PyTorch has it at the top level only; nbgrad in nbgrad.autograd (see the test below)
    fn = getattr(lib, 'is_anomaly_enabled', None) or lib.autograd.is_anomaly_enabled
    return fn()


def test_no_grad_context():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        with lib.no_grad():
            inside = lib.is_grad_enabled()
            y = x * 2
            z = y + x
        return inside, lib.is_grad_enabled(), y.requires_grad, y.grad_fn is None, z.is_leaf, z
    same(case)


def test_no_grad_decorator_with_and_without_parentheses():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @lib.no_grad()
        def f(t):
            """doc"""
            return t * 2, lib.is_grad_enabled()

        @lib.no_grad
        def g(t):
            return t * 3, lib.is_grad_enabled()

        (a, ma), (b, mb) = f(x), g(x)
        return (f.__name__, f.__doc__, g.__name__, a.requires_grad, ma, b.requires_grad, mb,
                lib.is_grad_enabled())
    same(case)


def test_enable_grad_inside_no_grad():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @lib.enable_grad()
        def f(t):
            return t * 2

        with lib.no_grad():
            with lib.enable_grad():
                a = x * 2
                on = lib.is_grad_enabled()
            b = f(x)
            off = lib.is_grad_enabled()
            c = x * 2
        return a.requires_grad, on, b.requires_grad, off, c.requires_grad
    same(case)


def test_set_grad_enabled_function_context_and_decorator():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        results = []
        lib.set_grad_enabled(False)  # as a function call: takes effect at once
        results.append(((x * 2).requires_grad, lib.is_grad_enabled()))
        lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            results.append(((x * 2).requires_grad, lib.is_grad_enabled()))
            with lib.set_grad_enabled(True):
                results.append(((x * 2).requires_grad, lib.is_grad_enabled()))
            results.append(lib.is_grad_enabled())
        results.append(lib.is_grad_enabled())

        @lib.set_grad_enabled(False)
        def f(t):
            return (t * 2).requires_grad, lib.is_grad_enabled()
        results.append(lib.is_grad_enabled())  # decorating does not change the mode
        results.append(f(x))
        results.append(lib.is_grad_enabled())
        return results
    same(case)


def test_inference_mode():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        out = []
        with lib.inference_mode():
            out.append(((x * 2).requires_grad, lib.is_grad_enabled(),
                        lib.is_inference_mode_enabled()))
            with lib.inference_mode():
                out.append(lib.is_inference_mode_enabled())
            out.append(lib.is_inference_mode_enabled())
        out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))

        @lib.inference_mode()
        def f(t):
            return (t * 2).requires_grad, lib.is_inference_mode_enabled()

        @lib.inference_mode(False)
        def g(t):
            return (t * 2).requires_grad, lib.is_inference_mode_enabled()
        out.extend([f(x), g(x), f.__name__, lib.is_inference_mode_enabled()])
        with lib.no_grad():
            out.append(lib.is_inference_mode_enabled())
        return out
    same(case)


def test_inference_mode_false_inside_inference_mode():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        with lib.inference_mode():
            with lib.inference_mode(False):
                inner = (lib.is_inference_mode_enabled(), lib.is_grad_enabled(),
                         (x * 2).requires_grad)
            after = (lib.is_inference_mode_enabled(), lib.is_grad_enabled())
        return inner, after, lib.is_inference_mode_enabled(), lib.is_grad_enabled()
    same(case)


def test_inference_mode_bare_decorator():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @lib.inference_mode
        def g(t):
            """doc"""
            return (t * 2).requires_grad, lib.is_inference_mode_enabled()
        return g(x), g.__name__, g.__doc__, lib.is_inference_mode_enabled()
    same(case)


GEN_MODES = ['no_grad', 'enable_grad', 'inference_mode', 'set_grad_false']


def _mode_decorator(lib, mode):
    return {'no_grad': lambda: lib.no_grad(), 'enable_grad': lambda: lib.enable_grad(),
            'inference_mode': lambda: lib.inference_mode(),
            'set_grad_false': lambda: lib.set_grad_enabled(False)}[mode]()


def _caller_mode(lib, mode):
    # the caller runs in the opposite mode, so that a leak either way shows
    return lib.no_grad() if mode == 'enable_grad' else lib.enable_grad()


@pytest.mark.parametrize('mode', GEN_MODES)
def test_grad_mode_decorated_generator_runs_each_step_in_mode(mode):
    def case(lib):
        x = leaf(lib, arr(3, seed=1))

        @_mode_decorator(lib, mode)
        def gen(n):
            received = None
            for i in range(n):
                received = yield (lib.is_grad_enabled(), (x * (i + 1)).requires_grad, received)
            yield 'last'

        seen, outer_modes = [], []
        with _caller_mode(lib, mode):
            it = gen(3)
            seen.append(next(it))
            outer_modes.append(lib.is_grad_enabled())
            seen.append(it.send('a'))
            outer_modes.append(lib.is_grad_enabled())
            seen.append(it.send('b'))
            outer_modes.append(lib.is_grad_enabled())
            seen.append(next(it))
            it.close()
            outer_modes.append(lib.is_grad_enabled())
        return gen.__name__, seen, outer_modes, lib.is_grad_enabled()
    same(case)


GEN_BUG = ('nbgrad bug: the grad-mode generator wrapper (_GradModeContext.__call__ in '
           'grad_mode.py) lets StopIteration escape from gen.send/next inside a generator, '
           'which PEP 479 turns into RuntimeError; it should catch StopIteration and return its '
           'value')


@pytest.mark.parametrize('mode', GEN_MODES)
def test_grad_mode_decorated_generator_exhaustion_and_return_value(mode):
    def case(lib):
        @_mode_decorator(lib, mode)
        def gen():
            yield lib.is_grad_enabled()
            return 'done'

        @_mode_decorator(lib, mode)
        def empty():
            return 'nothing'
            yield

        with _caller_mode(lib, mode):
            out = list(gen())
            it = gen()
            next(it)
            try:
                next(it)
            except StopIteration as stop:
                out.append(stop.value)
            out.append(list(empty()))
            out.append(lib.is_grad_enabled())
        return out
    same(case)


@pytest.mark.parametrize('mode', GEN_MODES)
def test_grad_mode_decorated_generator_forwards_throw(mode):
    def case(lib):
        @_mode_decorator(lib, mode)
        def gen():
            while True:
                try:
                    yield 'value'
                except ValueError as e:
                    yield ('caught', str(e), lib.is_grad_enabled())

        with _caller_mode(lib, mode):
            it = gen()
            first = next(it)
            caught = it.throw(ValueError('boom'))
            it.close()
            return first, caught, lib.is_grad_enabled()
    same(case)


def test_grad_modes_nest_and_restore_after_exceptions():
    def case(lib):
        out = []
        try:
            with lib.no_grad():
                with lib.enable_grad():
                    with lib.set_grad_enabled(False):
                        out.append(lib.is_grad_enabled())
                        raise ValueError('boom')
        except ValueError:
            pass
        out.append(lib.is_grad_enabled())

        @lib.no_grad()
        def fails():
            raise KeyError('x')
        try:
            fails()
        except KeyError:
            pass
        out.append(lib.is_grad_enabled())
        with lib.no_grad():
            with lib.no_grad():
                pass
            out.append(lib.is_grad_enabled())
        out.append(lib.is_grad_enabled())
        return out
    same(case)


def test_no_grad_allows_in_place_update_of_leaf():
    def case(lib):
        w = leaf(lib, arr(3, seed=1))
        (w * w).sum().backward()
        v0 = w._version
        with lib.no_grad():
            w -= 0.1 * w.grad
            w.mul_(2)
        return w, w.is_leaf, w.requires_grad, w.grad_fn is None, w._version - v0
    same(case)

# ---------------------------------------------------------------------------------------------
# detach, detach_, .data
# ---------------------------------------------------------------------------------------------

def test_detach_shares_memory_and_version_counter():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        d = y.detach()
        flags = (d.requires_grad, d.is_leaf, d.grad_fn is None)
        d.add_(1)  # allowed (d is outside the graph) and visible through y
        return flags, y, y._version, d._version
    same(case)


def test_detach_then_in_place_invalidates_saved_tensor():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.sin()
        z = y * y  # saves y
        y.detach().zero_()
        return {'x': x, 'z': z}
    theirs, ours = same_error(setup, lambda lib, x, z: z.sum().backward())
    assert 'version 1' in str(ours) and 'version 0' in str(ours)


def test_detach_of_view_of_leaf_can_be_modified_in_place():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        d = x[1:].detach()
        d.zero_()
        return x, x.requires_grad, x.is_leaf, d._base is None
    same(case)


def test_detach_of_view_of_non_leaf_after_base_changes():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        d = y[1:].detach()
        y.mul_(2)
        z = (d * x[1:]).sum()
        z.backward()
        return d.requires_grad, d.grad_fn is None, x.grad, y
    same(case)


def test_detach_in_place_on_non_leaf():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        z = y.exp()
        y.detach_()
        flags = (y.requires_grad, y.is_leaf, y.grad_fn is None)
        z.sum().backward()  # the graph already recorded through y is intact
        w = (y * x).sum()
        w.backward()
        return flags, x.grad
    same(case)


def test_detach_in_place_on_view_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x}
    same_error(setup, lambda lib, x: x[0:2].detach_(), mentions=['view', 'detach()'])


def test_data_is_an_untracked_alias_with_its_own_version():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        d = x.data
        flags = (d.requires_grad, d.is_leaf, d.grad_fn is None)
        d.mul_(2)
        return flags, x, x._version, d._version, x.requires_grad, x.is_leaf
    same(case)


def test_data_change_is_seen_by_backward_without_version_error():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = (x * x).sum()
        x.data.add_(1)       # not an in-place op on x as far as autograd knows
        y.backward()
        x.data = lib.tensor(arr(5, seed=2))  # replacing data may change the shape
        return x.grad, x, x.shape, x.requires_grad
    same(case)

# ---------------------------------------------------------------------------------------------
# Anomaly detection
# ---------------------------------------------------------------------------------------------

def _nan_in_backward(lib, x):
    # d/dx sqrt(x) at 0 is inf; multiplied by a zero incoming gradient it becomes nan
    return (x.sqrt() * 0).sum()


def test_nan_in_backward_without_anomaly_mode_is_silent():
    def case(lib):
        x = leaf(lib, [0.0, 1.0, 4.0])
        _nan_in_backward(lib, x).backward()
        return x.grad
    same(case)


def test_anomaly_mode_names_the_backward_node_that_made_nan():
    msgs = {}

    def setup(lib):
        return {'x': leaf(lib, [0.0, 1.0, 4.0])}

    def action(lib, x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            try:
                with lib.autograd.detect_anomaly():
                    _nan_in_backward(lib, x).backward()
            finally:
                msgs[lib] = [str(w.message) for w in caught if w.category is UserWarning]

    theirs, ours = same_error(setup, action)
    node = re.search(r"Function '(\w+)'", str(theirs)).group(1)
    assert node in str(ours) and 'nan' in str(ours)
    # Both warn about the forward call that made the failing node.
    for lib in (torch, nbgrad):
        assert any('Error detected in' in m and node in m for m in msgs[lib]), msgs[lib]


def test_set_detect_anomaly_as_function_and_context_manager():
    def case(lib):
        x = leaf(lib, [0.0, 1.0])
        out = [anomaly_enabled(lib)]
        lib.autograd.set_detect_anomaly(True)
        out.append(anomaly_enabled(lib))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')   # the forward-traceback warning
                _nan_in_backward(lib, x).backward()
            out.append('no error')
        except RuntimeError:
            out.append('RuntimeError')
        finally:
            lib.autograd.set_detect_anomaly(False)
        with lib.autograd.set_detect_anomaly(True):
            out.append(anomaly_enabled(lib))
        out.append(anomaly_enabled(lib))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            with lib.autograd.detect_anomaly():
                out.append(anomaly_enabled(lib))
        out.append([w.category.__name__ for w in caught])
        out.append(anomaly_enabled(lib))
        return out
    same(case)


def test_is_anomaly_enabled_at_top_level():
    same(lambda lib: lib.is_anomaly_enabled())


def test_anomaly_mode_accepts_inf_gradients():
    def case(lib):
        x = leaf(lib, [0.0, 1.0])
        with lib.autograd.set_detect_anomaly(True):
            x.sqrt().sum().backward()
        return x.grad
    same(case)


def test_anomaly_mode_gives_same_gradients_when_all_is_well():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        with lib.autograd.set_detect_anomaly(True):
            (x.exp() * x.sin()).sum().backward()
        return x.grad
    same(case)


def test_anomaly_mode_without_the_nan_check():
    """check_nan=False keeps the forward traces but lets NaN gradients through, and the flag
    reads back through is_anomaly_check_nan_enabled."""
    def case(lib):
        x = leaf(lib, [0.0, 1.0, 4.0])
        flags = [lib.is_anomaly_check_nan_enabled()]
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with lib.autograd.detect_anomaly(check_nan=False):
                flags.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
                _nan_in_backward(lib, x).backward()
            with lib.autograd.set_detect_anomaly(True, check_nan=False):
                flags.append(lib.is_anomaly_check_nan_enabled())
        flags.append(lib.is_anomaly_check_nan_enabled())
        return x.grad, flags
    same(case)
