"""TaskSpec (what was timed) and Measurement (the times, their statistics and PyTorch's repr)."""
import collections
import contextlib
import dataclasses
import math
import textwrap

import numpy as np

__all__ = ['TaskSpec', 'Measurement', 'select_unit', 'unit_to_english', 'trim_sigfig',
           'ordered_unique', 'set_torch_threads']

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9   # 25 ns: below this a spread is timer noise, not signal
# a Measurement warns when its interquartile range is this large a fraction of its median
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer measures (everything but its globals): hashable, so Compare can merge
    replicates of the same task."""
    stmt: str
    setup: str
    global_setup: str = ''
    label: str = None
    sub_label: str = None
    description: str = None
    env: str = None
    num_threads: int = 1

    @property
    def title(self):
        """The label (else the one-line stmt, else the indented stmt), with the sub_label."""
        if self.label is not None:
            return self.label + (f': {self.sub_label}' if self.sub_label else '')
        if '\n' not in self.stmt:
            return self.stmt + (f': {self.sub_label}' if self.sub_label else '')
        sub = f' ({self.sub_label})' if self.sub_label else ''
        return f"stmt:{sub}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self):
        if self.setup == 'pass' or not self.setup:
            return ''
        if '\n' in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f'setup: {self.setup}'

    def summarize(self):
        """The TaskSpec's lines of a Measurement's repr."""
        sections = [self.title, self.description or '', self.setup_str()]
        return '\n'.join(f'{s}\n' if '\n' in s else s for s in sections if s)


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _quantile(sorted_values, q):
    """Linear interpolation between closest ranks (torch.quantile's and NumPy's default)."""
    return float(np.quantile(np.asarray(sorted_values, dtype=np.float64), q))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The times of one or more runs of a statement: raw_times[i] is the time of one block of
    number_per_run executions, so `times` (per execution) divides by number_per_run."""
    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict = None      # the user's payload, carried along untouched

    def __post_init__(self):
        self._sorted_times = ()
        self._warnings = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name):
        # the TaskSpec's fields read through the Measurement (m.label, m.stmt, m.num_threads)
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """A rough count of trustworthy digits in the median, from the spread of the middle half
        of the times (z = 1.645); Compare uses it to trim its numbers."""
        self._lazy_init()
        n_total = len(self._sorted_times)
        middle = self._sorted_times[n_total // 4:math.ceil(3 * n_total / 4)]
        # (in float32, as PyTorch computes it, so the digits Compare prints agree with its)
        std = float(np.std(np.asarray(middle, dtype=np.float32)))
        sqrt_n = float(np.sqrt(np.float32(len(middle))))
        confidence_interval = max(1.645 * std / sqrt_n, _MIN_CONFIDENCE_INTERVAL)
        relative_ci = _log10_f32(self._median / confidence_interval)
        return min(max(int(math.floor(relative_ci)), 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self):
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            self._median = _quantile(self._sorted_times, 0.5)
            self._mean = float(np.mean(np.asarray(self._sorted_times, dtype=np.float64)))
            self._p25 = _quantile(self._sorted_times, 0.25)
            self._p75 = _quantile(self._sorted_times, 0.75)

            def add_warning(msg):
                rel_iqr = self.iqr / self.median * 100
                self._warnings += (f'  WARNING: Interquartile range is {rel_iqr:.1f}% of the '
                                   f'median measurement.\n           {msg}',)

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning('This suggests significant environmental influence.')
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning('This could indicate system fluctuation.')

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        return self.iqr / self.median < threshold

    @property
    def title(self):
        return self.task_spec.title

    @property
    def env(self):
        # (PyTorch's property reads a misspelt attribute and so falls back to task_spec.env)
        return self.task_spec.env

    @property
    def as_row_name(self):
        return self.sub_label or self.stmt or '[Unknown]'

    def __repr__(self):
        """PyTorch's layout:
            <nbgrad.utils.benchmark.utils.common.Measurement object at 0x7f395b6ac110>
            Broadcasting add (4x8)
              Median: 5.73 us
              IQR:    2.25 us (4.01 to 6.26)
              372 measurements, 100 runs per measurement, 1 thread
        (the IQR line only from 4 measurements on; warnings last)."""
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [object.__repr__(self), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f'  IQR:    {self.iqr / scale:.2f} {unit} '
                         f'({self._p25 / scale:.2f} to {self._p75 / scale:.2f})')
        threads = self.num_threads
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {threads} "
                     f"thread{'s' if threads > 1 else ''}")
        lines.append('\n'.join(self._warnings))
        return '\n'.join('\n'.join(lines).strip().splitlines())

    @staticmethod
    def merge(measurements):
        """Replicates of the same TaskSpec as one Measurement per task, at number_per_run=1
        (metadata is dropped: it may differ between replicates)."""
        grouped = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].append(m)
        return [Measurement(number_per_run=1, raw_times=[t for m in group for t in m.times],
                            task_spec=task_spec, metadata=None)
                for task_spec, group in grouped.items()]


def select_unit(t):
    """The unit (ns, us, ms or s) that puts t (seconds) in [1, 1000), and its scale."""
    unit = {-3: 'ns', -2: 'us', -1: 'ms'}.get(int(_log10_f32(t) // 3), 's')
    return unit, {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1}[unit]


def _log10_f32(x):
    """log10 in float32, as PyTorch's helpers take it (1e-6 is 'us' there: its float32 log10
    rounds to -6.0, while a float64 log10 lands just below). Taken in float64 of the float32
    input and rounded to float32, which is the correctly rounded float32 result."""
    return float(np.float32(math.log10(float(np.float32(x)))))


def unit_to_english(u):
    return {'ns': 'nanosecond', 'us': 'microsecond', 'ms': 'millisecond', 's': 'second'}[u]


def trim_sigfig(x, n):
    """x rounded to n significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise AssertionError('Number of significant figures must be an integer')
    magnitude = int(math.ceil(_log10_f32(abs(x))))
    scale = 10 ** (magnitude - n)
    return float(np.round(np.float32(x / scale)) * scale)


def ordered_unique(elements):
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    """nbgrad's thread count set to n for the block (Timer times at num_threads)."""
    from .... import _threads
    prior = _threads.get_num_threads()
    try:
        _threads.set_num_threads(n)
        yield
    finally:
        _threads.set_num_threads(prior)
