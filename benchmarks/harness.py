"""The benchmark harness: nbgrad / PyTorch time ratios, interleaved rounds, medians.

A benchmark file defines CASES = {name: (make, iterations per round)}, where make(lib, device)
returns a function doing one unit of work with lib=torch or lib=nbgrad, and ends with
`harness.main(__file__)`. CUDA_CASES, in the same form, are added on --device cuda (sizes
too large for the CPU). A file may also define PLAIN_NUMPY = {case name: make(numpy, device)}:
the same work written by hand in NumPy, with no autograd and no framework at all. On the CPU the
harness times it in a third process, interleaved with the others, and prints its ratio to PyTorch
in the "numpy" column: the same arithmetic with no engine overhead, a practical lower bound for
an engine over NumPy, so it shows which targets NumPy itself allows on this machine.
Options: --quick (fewer repeats), --device cuda, --only SUBSTRING,
--same-process, --profile (no timing: cProfile's top functions of nbgrad's rounds instead).

By default each library runs in its own worker process and the parent alternates rounds between
them (same machine, same moments, medians over rounds). With both in one process (--same-process)
PyTorch's OpenMP threads and NumPy's OpenBLAS threads spin-wait against each other on a small
machine: measured here, PyTorch's small-MLP step took 242 us alone but 530-1270 us next to NumPy,
depending on OMP_WAIT_POLICY, which says more about thread pools than about either library.
Separate processes still compete for the cores while the threads of the one that just finished
spin-wait, so each round starts after a short idle gap (--gap), then 50 ms of untimed calls.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

WARM_UP = 0.05  # seconds of untimed calls before each round


def _sync(lib, device):
    if device == 'cuda':
        lib.cuda.synchronize()


def _load(path):
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0],
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_cases(path, lib_name='nbgrad', device='cpu'):
    """The CASES of the benchmark file at path (and its CUDA_CASES on 'cuda'); for lib_name
    'numpy', its PLAIN_NUMPY (with the iteration counts of the cases they stand for)."""
    module = _load(path)
    if lib_name != 'numpy':
        return {**module.CASES, **(getattr(module, 'CUDA_CASES', {}) if device == 'cuda' else {})}
    return {name: (make, module.CASES[name][1])
            for name, make in getattr(module, 'PLAIN_NUMPY', {}).items()}


def measure(make, lib, device, number):
    fn = make(lib, device)
    fn()  # warm-up (allocations, lazy imports)
    _sync(lib, device)

    def run():
        # untimed calls first: after the idle gap, a virtual machine's cores take tens of
        # milliseconds of work to answer quickly again (measured here: nbgrad's two-thread Adam
        # step runs at 1.25 ms for its first 50 steps after a pause, then at 0.77 ms), which
        # would otherwise weigh on whichever library's threads block rather than spin
        warm_until = time.perf_counter() + WARM_UP
        while time.perf_counter() < warm_until:
            fn()
        _sync(lib, device)
        start = time.perf_counter()
        for _ in range(number):
            fn()
        _sync(lib, device)
        return (time.perf_counter() - start) / number
    return run


class _InProcess:
    """One library in this process."""

    def __init__(self, lib_name, device, cases_path):
        self.lib = __import__(lib_name)
        self.device = device
        self.cases = load_cases(cases_path, lib_name, device)
        self.rounds = {}

    def prepare(self, name):
        make, number = self.cases[name]
        self.rounds[name] = measure(make, self.lib, self.device, number)

    def round(self, name):
        return self.rounds[name]()

    def version(self):
        return self.lib.__version__

    def close(self):
        pass


class _Worker:
    """One library in a worker process (see the module docstring), driven over a pipe."""

    def __init__(self, lib_name, device, cases_path):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), '--worker', lib_name, '--device', device,
             '--cases', os.path.abspath(cases_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def _ask(self, line):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if not reply:
            raise RuntimeError(f'benchmark worker died while answering {line!r}')
        return reply

    def prepare(self, name):
        self._ask(f'prepare {name}')

    def round(self, name):
        return float(self._ask(f'round {name}'))

    def version(self):
        return self._ask('version')

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def _serve(lib_name, device, cases_path):
    """Worker loop: prepare/round/version requests on stdin, one answer per line."""
    runner = _InProcess(lib_name, device, cases_path)
    for line in sys.stdin:
        command, _, name = line.strip().partition(' ')
        if command == 'prepare':
            runner.prepare(name)
            print('ok', flush=True)
        elif command == 'round':
            print(repr(runner.round(name)), flush=True)
        elif command == 'version':
            print(runner.version(), flush=True)


def main(cases_path, argv=None):
    """Run the CASES of the benchmark file at cases_path; returns (name, torch s, nbgrad s) rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--only', default=None, help='substring of the case names to run')
    parser.add_argument('--same-process', action='store_true',
                        help='run both libraries in this process (see the module docstring)')
    parser.add_argument('--gap', type=float, default=0.3,
                        help='seconds of idle time before each round (thread pools spin-wait '
                             'for a while after work; this keeps one library\'s spinning from '
                             'slowing the other)')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    parser.add_argument('--profile', action='store_true',
                        help="print cProfile's top functions of nbgrad's rounds (no timing)")
    args = parser.parse_args(argv)
    if args.profile:
        return _profile(cases_path, args)
    runner = _InProcess if args.same_process else _Worker
    plain = load_cases(cases_path, 'numpy') if args.device == 'cpu' else {}
    names = ('torch', 'nbgrad') + (('numpy',) if plain else ())
    libs = {name: runner(name, args.device, cases_path) for name in names}
    repeats = 5 if args.quick else args.repeats
    where = 'one process' if args.same_process else 'one worker process each'
    print(f'nbgrad {libs["nbgrad"].version()} vs torch {libs["torch"].version()} on '
          f'{args.device} ({where}), median of {repeats} interleaved rounds')
    print(f'{"case":40s} {"torch":>12s} {"nbgrad":>12s} {"ratio":>7s}' +
          (f' {"numpy":>7s}  (numpy: the same work in plain NumPy, no autograd, / torch)'
           if plain else ''))
    rows = []
    try:
        for name in load_cases(cases_path, device=args.device):
            if args.only and args.only not in name:
                continue
            here = {lib_name: runner_ for lib_name, runner_ in libs.items()
                    if lib_name != 'numpy' or name in plain}
            for runner_ in here.values():
                runner_.prepare(name)
            times = {lib_name: [] for lib_name in here}
            for _ in range(repeats):
                for lib_name, runner_ in here.items():
                    time.sleep(args.gap)  # let the other library's spinning threads go to sleep
                    times[lib_name].append(runner_.round(name))
            t_torch, t_nb = statistics.median(times['torch']), statistics.median(times['nbgrad'])
            rows.append((name, t_torch, t_nb))
            floor = (f' {statistics.median(times["numpy"]) / t_torch:7.2f}'
                     if 'numpy' in times else '')
            print(f'{name:40s} {_fmt(t_torch):>12s} {_fmt(t_nb):>12s} {t_nb / t_torch:7.2f}'
                  + floor)
            sys.stdout.flush()
    finally:
        for runner_ in libs.values():
            runner_.close()
    return rows


def _profile(cases_path, args):
    """cProfile of a few rounds of each case with nbgrad: where the host time goes."""
    import cProfile
    import pstats
    nbgrad = __import__('nbgrad')
    for name, (make, number) in load_cases(cases_path, device=args.device).items():
        if args.only and args.only not in name:
            continue
        run = measure(make, nbgrad, args.device, number)
        run()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(3):
            run()
        profile.disable()
        print(f'==== {name} ({args.device}): 3 rounds of {number} calls, by own time')
        pstats.Stats(profile, stream=sys.stdout).sort_stats('tottime').print_stats(18)
    return []


def _fmt(seconds):
    if seconds < 1e-3:
        return f'{seconds * 1e6:.1f} us'
    return f'{seconds * 1e3:.2f} ms'



if __name__ == '__main__':  # a worker (see _Worker)
    worker = argparse.ArgumentParser()
    worker.add_argument('--worker')
    worker.add_argument('--device')
    worker.add_argument('--cases')
    opts = worker.parse_args()
    _serve(opts.worker, opts.device, opts.cases)
