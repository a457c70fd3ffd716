"""What runs inside a DataLoader worker process: its seeding, get_worker_info(), and the loop that
takes batch requests from the main process, fetches and collates them, and sends the results (or
the exception, with its traceback) back.

Seeds, as PyTorch's: worker i seeds Python's random and nbgrad with base_seed + i, and NumPy's
global generator with a SeedSequence hash of (i, base_seed), where base_seed is drawn once per
epoch in the main process from nbgrad's generator (or the DataLoader's). So a seeded run gives
every worker the same random streams whatever the machine."""
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

# how often (seconds) a waiting worker checks that the main process is still alive
MP_STATUS_CHECK_INTERVAL = 5.0

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() returns inside a worker: its id (0 .. num_workers - 1),
    num_workers, the seed it was given, and its copy of the dataset."""
    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """This worker's WorkerInfo inside a DataLoader worker process, None in the main process.
    An IterableDataset's __iter__ uses it to give each worker its share of the data."""
    return _worker_info


class ExceptionWrapper:
    """An exception and its formatted traceback, sent from a worker to the main process, which
    raises it again there with the worker's traceback in the message (as PyTorch's does)."""

    def __init__(self, exc_info=None, where='in background'):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = ''.join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        message = f'Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}'
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            error = self.exc_type(message)
        except Exception:
            # an exception class that takes other arguments: the message still gets through
            raise RuntimeError(message) from None
        raise error


class _KeyErrorMessage(str):
    """KeyError shows repr(message); this keeps the traceback's line breaks readable."""

    def __repr__(self):
        return self


def numpy_seed(base_seed, worker_id):
    """The four 32-bit words that seed NumPy's global generator in worker `worker_id`: PyTorch's
    _generate_state, which is NumPy's SeedSequence over (worker_id, base_seed's two halves, 0)."""
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    return [int(word) for word in np.random.SeedSequence(entropy).generate_state(4)]


class IterableDatasetEnd:
    """A worker's answer once its copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


RESUME = 'resume'   # (persistent workers) start a new epoch: answered with RESUME once done
STOP = None         # leave the loop and exit


def _seed_worker(base_seed, worker_id):
    from ....random import manual_seed
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    return seed


def worker_loop(make_fetcher, dataset, requests, results, base_seed, init_fn, worker_id,
                num_workers, parent_pid):
    """The body of worker process `worker_id`. requests: a queue of (task index, batch indices),
    RESUME or STOP; results: the write end of a pipe to the main process, carrying
    (task index, batch | ExceptionWrapper | IterableDatasetEnd) and RESUME acknowledgements."""
    global _worker_info
    from ...._threads import set_num_threads
    try:
        # one thread per worker, as in PyTorch: the workers are the parallelism
        set_num_threads(1)
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        failure = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(dataset)
        except Exception:
            failure = ExceptionWrapper(where=f'in DataLoader worker process {worker_id}')
        exhausted = False
        while True:
            try:
                request = requests.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    return      # the main process is gone: nobody is waiting for results
                continue
            if request is STOP:
                return
            if request == RESUME:
                fetcher, exhausted = make_fetcher(dataset), False
                send_copy(results, RESUME)
                continue
            task, indices = request
            if failure is not None:
                answer, failure = failure, None
            elif exhausted:
                answer = IterableDatasetEnd(worker_id)
            else:
                try:
                    answer = fetcher.fetch(indices)
                except StopIteration:
                    answer, exhausted = IterableDatasetEnd(worker_id), True
                except Exception:
                    answer = ExceptionWrapper(where=f'in DataLoader worker process {worker_id}')
            _send(results, task, answer, worker_id)
    except (KeyboardInterrupt, BrokenPipeError, EOFError, OSError):
        # the main process interrupted or closed its end (it left the loop early): just exit
        return


def send_copy(connection, value):
    """Send by plain pickling: a batch's tensors travel as bytes through the pipe. (Connection.send
    would share them through shared memory, nbgrad.multiprocessing's way, which needs the worker
    alive until the main process reads the batch, and a descriptor hand-over per tensor.)"""
    connection.send_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def receive_copy(connection):
    return pickle.loads(connection.recv_bytes())


def _send(results, task, answer, worker_id):
    try:
        send_copy(results, (task, answer))
    except (BrokenPipeError, EOFError, OSError):
        raise
    except Exception:
        # the batch could not be pickled: tell the main process why instead of dying
        send_copy(results, (task, ExceptionWrapper(
            where=f'in DataLoader worker process {worker_id} (sending the batch back)')))
