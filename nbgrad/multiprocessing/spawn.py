"""torch.multiprocessing.spawn: start nprocs processes running fn(i, *args), and join them so
that the first failure stops the rest and is raised here with the child's traceback."""
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
import warnings

__all__ = ['ProcessContext', 'ProcessException', 'ProcessExitedException',
           'ProcessRaisedException', 'spawn', 'SpawnContext', 'start_processes']


class ProcessException(Exception):
    __slots__ = ['error_index', 'error_pid']

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.error_pid = error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """A process failed by raising an exception (its traceback is in the message)."""


class ProcessExitedException(ProcessException):
    """A process died from a signal or exited with a nonzero code."""
    __slots__ = ['exit_code']

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return (type(self), (self.msg, self.error_index, self.error_pid, self.exit_code,
                             self.signal_name))


def _wrap(fn, i, args, error_file):
    """The child's entry: run fn(i, *args); an exception's traceback goes to error_file and the
    process exits with code 1 (an interrupt from the parent ends it quietly)."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:   # noqa: BLE001 (every failure is reported to the parent)
        with open(error_file, 'wb') as f:
            pickle.dump(traceback.format_exc(), f)
        sys.exit(1)


class ProcessContext:
    def __init__(self, processes, error_files):
        self.error_files = error_files
        self.processes = processes
        self.sentinels = {process.sentinel: index for index, process in enumerate(processes)}

    def pids(self):
        return [int(process.pid) for process in self.processes]

    def _join_all(self, timeout):
        end = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0, end - time.monotonic()))

    def join(self, timeout=None, grace_period=None):
        """Wait for the processes (up to timeout). True once all have exited cleanly, False
        while some still run; if one failed, stop the others (SIGTERM, after grace_period if
        given, then SIGKILL) and raise ProcessRaisedException or ProcessExitedException."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels.keys(), timeout=timeout)
        error_index = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            process = self.processes[index]
            process.join()
            if process.exitcode != 0:
                error_index = index
                break
        if error_index is None:
            return not self.sentinels
        self._stop_others(grace_period)
        self._raise_failure(error_index)

    def _stop_others(self, grace_period):
        if grace_period is not None:
            self._join_all(grace_period)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        self._join_all(30 if grace_period is None else grace_period)
        for process in self.processes:
            if process.is_alive():
                process.kill()
            process.join()

    def _raise_failure(self, index):
        failed = self.processes[index]
        error_file = self.error_files[index]
        if not os.access(error_file, os.R_OK):
            code = failed.exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f'<Unknown signal {-code}>'
                raise ProcessExitedException(f'process {index:d} terminated with signal {name}',
                                             error_index=index, error_pid=failed.pid,
                                             exit_code=code, signal_name=name)
            raise ProcessExitedException(f'process {index:d} terminated with exit code {code:d}',
                                         error_index=index, error_pid=failed.pid, exit_code=code)
        with open(error_file, 'rb') as f:
            original = pickle.load(f)
        os.remove(error_file)
        raise ProcessRaisedException(
            f'\n\n-- Process {index:d} terminated with the following error:\n{original}',
            index, failed.pid)


class SpawnContext(ProcessContext):
    def __init__(self, processes, error_files):
        warnings.warn('SpawnContext is renamed to ProcessContext since 1.4 release.',
                      stacklevel=2)
        super().__init__(processes, error_files)


def _error_file():
    """A path for a child's traceback that does not exist yet (the child creates it)."""
    f = tempfile.NamedTemporaryFile(prefix='nbgrad-errorfile-', suffix='.pickle', delete=False)
    f.close()
    os.unlink(f.name)
    return f.name


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method='spawn'):
    """Start nprocs processes of the given start method running fn(i, *args); join them
    (join=True) or return their ProcessContext."""
    mp = multiprocessing.get_context(start_method)
    error_files, processes = [], []
    for i in range(nprocs):
        error_file = _error_file()
        process = mp.Process(target=_wrap, args=(fn, i, args, error_file), daemon=daemon)
        process.start()
        error_files.append(error_file)
        processes.append(process)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method='spawn'):
    """start_processes with the 'spawn' start method (fn must be importable: defined at the top
    level of a module, not in a notebook; use start_processes(..., start_method='fork') there)."""
    if start_method != 'spawn':
        warnings.warn(f'This method only supports start_method=spawn (got: {start_method}).\n'
                      'To use a different start_method use:\n\t\t '
                      'torch.multiprocessing.start_processes(...)', FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method='spawn')
