"""Timer: timeit.Timer with PyTorch's additions (warm-up, a fixed thread count, replicates and
blocked_autorange/adaptive_autorange), returning Measurements."""
import enum
import textwrap
import timeit

from . import common

__all__ = ['Timer', 'timer', 'Language']


def timer():
    """timeit's clock, after waiting for queued GPU work (else a GPU op would time its launch)."""
    from .... import cuda
    if cuda.is_available():
        cuda.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def _clean(code):
    code = textwrap.dedent(code)
    return (code[1:] if code and code[0] == '\n' else code).rstrip()


class Timer:
    """Times `stmt` (a string of Python; a function is timed as stmt='f(x)' with
    globals={'f': f, 'x': x}) after running `setup` once. `torch` in the statement is nbgrad
    unless globals says otherwise. label, sub_label, description and env name the measurement
    (Compare lays out its table by them); num_threads is nbgrad's thread count while timing."""

    _timer_cls = timeit.Timer

    def __init__(self, stmt='pass', setup='pass', global_setup='', timer=timer, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError('Currently only a `str` stmt is supported.')
        if language in (Language.CPP, 'cpp', 'c++'):
            raise NotImplementedError('Timer(language="c++") compiles the statement against '
                                      "PyTorch's C++ library; nbgrad has no C++ API. Time the "
                                      'Python statement instead.')
        if language not in (Language.PYTHON, 'py', 'python'):
            raise ValueError(f'Invalid language `{language}`.')
        if global_setup:
            raise ValueError(f'global_setup is C++ only, got `{global_setup}`. Most likely this '
                             'code can simply be moved to `setup`.')
        from .... import __name__ as _nbgrad_name
        import sys
        self._globals = dict(globals or {})
        self._globals.setdefault('torch', sys.modules[_nbgrad_name])
        self._language = Language.PYTHON
        stmt, setup = _clean(stmt), _clean(setup)
        self._timer = self._timer_cls(stmt=stmt, setup=setup, timer=timer,
                                      globals=self._globals)
        self._task_spec = common.TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup,
                                          label=label, sub_label=sub_label,
                                          description=description, env=env,
                                          num_threads=num_threads)

    def _timeit(self, number):
        # (never 0: a Measurement divides by its times)
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """stmt run `number` times (after a warm-up of number // 100, at least 2), as one
        measurement, like timeit.Timer.timeit."""
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return common.Measurement(number_per_run=number,
                                      raw_times=[self._timeit(number=number)],
                                      task_spec=self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError('See `Timer.blocked_autorange.`')

    def autorange(self, callback=None):
        raise NotImplementedError('See `Timer.blocked_autorange.`')

    def _threaded_measurement_loop(self, number, time_hook, stop_hook, min_run_time,
                                   max_run_time=None, callback=None):
        total_time, can_stop, times = 0.0, False, []
        with common.set_torch_threads(self._task_spec.num_threads):
            while total_time < min_run_time or not can_stop:
                time_spent = time_hook()
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time):
        """How many executions one timed block holds: grown tenfold until the timer's own
        overhead is under 0.01% of a block and a block takes min_run_time / 1000."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overheads = sorted(self._timeit(0) for _ in range(5))
            overhead = overheads[2]
            number = 1
            while True:
                time_taken = self._timeit(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of block_size executions timed until min_run_time has passed; block_size is
        chosen first so that the timer's overhead is negligible within a block."""
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(
            number, lambda: self._timeit(number), lambda times: True,
            min_run_time=min_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times,
                                  task_spec=self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """As blocked_autorange, but goes on until the IQR is under `threshold` of the median
        (with more than 3 blocks and min_run_time spent) or max_run_time has passed."""
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times):
            return len(times) > 3 and common.Measurement(
                number_per_run=number, raw_times=times,
                task_spec=self._task_spec).meets_confidence(threshold=threshold)

        times = self._threaded_measurement_loop(number, lambda: self._timeit(number), stop_hook,
                                                min_run_time, max_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times,
                                  task_spec=self._task_spec)

    def collect_callgrind(self, number=100, *, repeats=None, collect_baseline=True,
                          retain_out_file=False):
        raise NotImplementedError('collect_callgrind runs the statement under Valgrind with '
                                  "PyTorch's C++ build; nbgrad has no Callgrind support. Use "
                                  'blocked_autorange() for wall times, or nbgrad.profiler.')
