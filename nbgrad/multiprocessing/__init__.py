"""torch.multiprocessing: Python's multiprocessing, with tensors that processes share.

Everything of the standard module is here (Process, Queue, Pipe, Lock, Pool, get_context...).
What nbgrad adds, as PyTorch does: a CPU tensor sent to another process (a Queue, a Pipe, a
Process's arguments) moves into shared memory and the receiver maps the same memory, so writes
are seen on both sides (the Hogwild pattern: model.share_memory(), then processes train it);
spawn/start_processes with error propagation; the sharing strategies. Importing nbgrad installs
the tensor pickling, so the standard module's queues share tensors too. CUDA tensors are not
shared (PyTorch uses CUDA IPC): sending one raises, asking for a .cpu() copy.
"""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from . import _shared
from .spawn import (ProcessContext, ProcessExitedException, ProcessRaisedException,  # noqa: F401
                    spawn, SpawnContext, start_processes)

__all__ = ['set_sharing_strategy', 'get_sharing_strategy', 'get_all_sharing_strategies',
           *multiprocessing.__all__]


def set_sharing_strategy(new_strategy):
    """'file_descriptor' (the default) or 'file_system': how tensors shared from now on reach
    other processes (see nbgrad/multiprocessing/_shared.py)."""
    if new_strategy not in _shared.STRATEGIES:
        raise AssertionError(f'{new_strategy!r} is not a sharing strategy; use one of '
                             f'{sorted(_shared.STRATEGIES)}')
    _shared._strategy[0] = new_strategy


def get_sharing_strategy():
    return _shared._strategy[0]


def get_all_sharing_strategies():
    return set(_shared.STRATEGIES)
