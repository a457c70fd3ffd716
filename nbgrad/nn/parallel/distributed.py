"""DistributedDataParallel: one replica of the module per process (nbgrad.distributed); the
replicas start from rank 0's weights, and once backward has computed every parameter's
gradient they are averaged over the processes together (nbgrad/distributed/_reducer.py, after
PyTorch's reducer), so each optimizer step sees the gradient of the whole global batch."""
import contextlib

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...distributed._reducer import Reducer
from ..modules.module import Module


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params=False):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError('Default process group has not been initialized, please make sure '
                             'to call init_process_group.')
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError('DistributedDataParallel is not needed when a module doesn\'t '
                               'have any parameter that requires a gradient.')
        self.module = module
        self.process_group = dist.GroupMember.WORLD if process_group is None else process_group
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        if init_sync:
            with no_grad():
                for t in [*module.parameters(), *module.buffers()]:
                    dist.broadcast(t, self.process_group.ranks[0], group=self.process_group)
        self.reducer = Reducer(params, self.process_group, find_unused_parameters, static_graph)

    def _sync_buffers(self):
        with no_grad():
            for b in self.module.buffers():
                dist.broadcast(b, self.process_group.ranks[0], group=self.process_group)

    def forward(self, *inputs, **kwargs):
        grad = is_grad_enabled()
        if grad:
            # a prior backward that left some expected parameter without a gradient fails
            # here, on every rank that took part (PyTorch's check in _rebuild_buckets)
            self.reducer.ensure_prior_reduction_finished()
        # (as PyTorch's: buffers are synced only after a training forward that syncs, so eval
        # loops with different lengths on different ranks do not hang)
        if self.require_forward_param_sync and self.broadcast_buffers and \
                any(True for _ in self.module.buffers()):
            self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        if grad and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate local gradients only; the first synced backward
        after averages the accumulated sums."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    @contextlib.contextmanager
    def join(self, divide_by_initial_world_size=True, enable=True,
             throw_on_early_termination=False):
        """Uneven inputs are not supported: every rank must run the same number of
        iterations (the context only checks nothing goes wrong on entry)."""
        yield

    def _set_static_graph(self):
        self.static_graph = True
        self.reducer.static_graph = self.reducer.find_unused = True

    def register_comm_hook(self, state, hook):
        raise NotImplementedError('DistributedDataParallel.register_comm_hook is not '
                                  'supported: nbgrad averages every gradient itself')
