"""torch.nn.parallel: single-process data parallelism over the CUDA devices (DataParallel and its
pieces: scatter the batch, replicate the module, apply each replica, gather the outputs), and
DistributedDataParallel across processes (nbgrad.distributed)."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter, scatter_kwargs

__all__ = ['DataParallel', 'DistributedDataParallel', 'data_parallel', 'gather', 'parallel_apply', 'replicate', 'scatter',
           'scatter_kwargs']
