"""DataParallel and data_parallel: one process, the batch split over the CUDA devices.

Each forward scatters the inputs along `dim`, replicates the module onto the devices the batch
reached, applies the replicas and gathers their outputs on output_device; gradients flow back to
the module's own parameters (summed over the replicas). With one device it moves the module
there and calls it; without CUDA it calls the module as it is, as PyTorch does. The wrapped
module is `.module`, so state_dict keys start with 'module.' as PyTorch's do."""
import warnings
from itertools import chain

from ... import cuda
from ..._device import device
from ...autograd import grad_mode
from ..modules.module import Module
from ._devices import all_device_indices, device_index
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter_kwargs

__all__ = ['DataParallel', 'data_parallel']

_IMBALANCE = """
    There is an imbalance between your GPUs. You may want to exclude GPU {} which
    has less than 75% of the memory or cores of GPU {}. You can do so by setting
    the device_ids argument to DataParallel, or by setting the CUDA_VISIBLE_DEVICES
    environment variable."""


def _check_balance(device_ids):
    """PyTorch's warning when one device has under 75% of another's memory or cores."""
    props = [cuda.get_device_properties(i) for i in device_ids]
    for key in (lambda p: p.total_memory, lambda p: p.multi_processor_count):
        values = [key(p) for p in props]
        low, high = values.index(min(values)), values.index(max(values))
        if values[low] / values[high] < 0.75:
            warnings.warn(_IMBALANCE.format(device_ids[low], device_ids[high]), stacklevel=3)
            return


def _check_on_source(module, source):
    for t in chain(module.parameters(), module.buffers()):
        if t.device != source:
            raise RuntimeError('module must have its parameters and buffers on device '
                               f'{source} (device_ids[0]) but found one of them on device: '
                               f'{t.device}')


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = all_device_indices()
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [device_index(x) for x in device_ids]
        self.output_device = device_index(output_device)
        self.src_device_obj = device('cuda', self.device_ids[0])
        _check_balance(self.device_ids)
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        _check_on_source(self.module, self.src_device_obj)
        inputs, module_kwargs = self.scatter(inputs, kwargs, self.device_ids)
        if not inputs and not module_kwargs:
            inputs, module_kwargs = ((),), ({},)
        if len(self.device_ids) == 1:
            return self.module(*inputs[0], **module_kwargs[0])
        replicas = self.replicate(self.module, self.device_ids[:len(inputs)])
        outputs = self.parallel_apply(replicas, inputs, module_kwargs)
        return self.gather(outputs, self.output_device)

    def replicate(self, module, device_ids):
        return replicate(module, device_ids, not grad_mode.is_grad_enabled())

    def scatter(self, inputs, kwargs, device_ids):
        return scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas, inputs, kwargs):
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[:len(replicas)])

    def gather(self, outputs, output_device):
        return gather(outputs, output_device, dim=self.dim)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """DataParallel's forward as a function, for a module already on device_ids[0]."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not cuda.is_available():
        raise RuntimeError('device type could not be determined')
    if device_ids is None:
        device_ids = all_device_indices()
    if output_device is None:
        output_device = device_ids[0]
    device_ids = [device_index(x) for x in device_ids]
    output_device = device_index(output_device)
    _check_on_source(module, device('cuda', device_ids[0]))
    inputs, module_kwargs = scatter_kwargs(inputs, module_kwargs, device_ids, dim)
    if not inputs and not module_kwargs:
        inputs, module_kwargs = ((),), ({},)
    if len(device_ids) == 1:
        return module(*inputs[0], **module_kwargs[0])
    used = device_ids[:len(inputs)]
    replicas = replicate(module, used)
    outputs = parallel_apply(replicas, inputs, module_kwargs, used)
    return gather(outputs, output_device, dim)
