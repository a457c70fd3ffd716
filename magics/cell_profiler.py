"""Per-cell profiling: `%nbgrad profile on` profiles every following cell through IPython's
pre_run_cell/post_run_cell events and shows, under a cell's output, the profile table of the
nbgrad ops it ran (cells that run no op show nothing). `%%profile` uses profile_report() for one
cell.

nbgrad's profiler records one session at a time, as PyTorch's, so `%%profile` pauses the
per-cell profiler for its cell (pause()/resume()); a cell that starts its own
nbgrad.profiler.profile while per-cell profiling is on takes the session over (as a nested
profile does in PyTorch), and the per-cell table for that cell is empty.
"""
from IPython.display import display

from nbgrad.profiler import profile


DEFAULT_SORT = 'self_cpu_time_total'
DEFAULT_LIMIT = 10
# the FunctionEventAvg attributes a table can be sorted by (PyTorch's sort_by keys)
SORT_KEYS = ('cpu_time_total', 'self_cpu_time_total', 'cpu_time', 'cuda_time_total',
             'self_cuda_time_total', 'cuda_time', 'device_time_total',
             'self_device_time_total', 'cpu_memory_usage', 'self_cpu_memory_usage',
             'cuda_memory_usage', 'self_cuda_memory_usage', 'device_memory_usage',
             'self_device_memory_usage', 'count')


def check_sort_key(key):
    if key not in SORT_KEYS:
        raise ValueError(f'unknown sort key {key!r}; one of: {", ".join(SORT_KEYS)}')
    return key


def check_limit(limit):
    if limit is not None and limit < 1:
        raise ValueError(f'--limit takes a positive number of rows, not {limit}')
    return limit


def profile_report(prof, sort_by=DEFAULT_SORT, row_limit=DEFAULT_LIMIT, title=None):
    """The profile as a ProfilerView (its text is PyTorch's table), or None when no op was
    recorded."""
    from nbgrad.widgets import ProfilerView
    averages = prof.key_averages()
    if not len(averages):
        return None
    title = title or f'nbgrad profile (sorted by {sort_by}, top {row_limit or len(averages)})'
    return ProfilerView(prof, sort_by=sort_by, row_limit=row_limit or -1, title=title)


class CellProfiler:
    """The pre/post_run_cell callbacks; enable() registers both, disable() removes both."""

    def __init__(self, shell):
        self.shell = shell
        self.sort_by = DEFAULT_SORT
        self.row_limit = DEFAULT_LIMIT
        self.enabled = False
        self.last = None        # the profile of the last profiled cell (for tests and users)
        self._running = None
        self._paused = 0

    def enable(self, sort_by=None, row_limit=None):
        self.sort_by = sort_by or self.sort_by
        self.row_limit = row_limit or self.row_limit
        if not self.enabled:
            # the cell that turns profiling on ran its pre_run_cell before: it shows nothing
            self.shell.events.register('pre_run_cell', self.pre_run_cell)
            self.shell.events.register('post_run_cell', self.post_run_cell)
            self.enabled = True

    def disable(self):
        """Remove the callbacks and drop a profile in progress (the cell running `profile off`
        is not reported)."""
        if self.enabled:
            for event, callback in (('pre_run_cell', self.pre_run_cell),
                                    ('post_run_cell', self.post_run_cell)):
                if callback in self.shell.events.callbacks[event]:
                    self.shell.events.unregister(event, callback)
            self.enabled = False
        self._drop()

    def pause(self):
        """Stop and drop this cell's profile, and ignore nested cells until resume()."""
        self._drop()
        self._paused += 1

    def resume(self):
        self._paused -= 1

    def _drop(self):
        if self._running is not None:
            running, self._running = self._running, None
            running.stop()

    def pre_run_cell(self, info):
        if self._paused or self._running is not None:
            return
        self._running = profile(with_flops=True)     # (counting is a few lookups per op)
        self._running.start()

    def post_run_cell(self, result):
        if self._paused or self._running is None:
            return
        prof, self._running = self._running, None
        prof.stop()
        report = profile_report(prof, self.sort_by, self.row_limit,
                                f'nbgrad profile of this cell (sorted by {self.sort_by}, '
                                f'top {self.row_limit})')
        if report is not None:
            self.last = prof
            display(report)
