"""DistributedDataParallel: one replica of the module per process (nbgrad.distributed); the
replicas start from rank 0's weights, and every parameter's gradient is averaged over the
processes as soon as backward has accumulated it, so each optimizer step sees the gradient of
the whole global batch."""
import contextlib

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ..modules.module import Module


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError('Default process group has not been initialized, please make sure '
                             'to call init_process_group.')
        if find_unused_parameters:
            raise NotImplementedError('DistributedDataParallel(find_unused_parameters=True) is '
                                      'not supported: every rank must use every parameter in '
                                      'each forward (their gradients are averaged in order)')
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        if init_sync:
            with no_grad():
                for t in [*module.parameters(), *module.buffers()]:
                    dist.broadcast(t, 0)
        for p in module.parameters():
            if p.requires_grad:
                p.register_post_accumulate_grad_hook(self._average_gradient)

    def _average_gradient(self, param):
        # (every rank runs the same backward, so these hooks fire in the same order everywhere)
        if self.require_backward_grad_sync:
            dist.all_reduce(param.grad)
            with no_grad():
                param.grad.div_(dist.get_world_size())

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers:
            with no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, 0)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate local gradients only; the next one outside
        averages the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
