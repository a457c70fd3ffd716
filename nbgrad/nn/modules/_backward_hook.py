"""Module full backward hooks (register_full_backward_hook / _pre_hook), as PyTorch builds them.

The module's tensor inputs and outputs pass through an identity Function. The node of the
outputs' identity sees the gradients w.r.t. the module's outputs (and runs the pre-hooks, which may
replace them); the node of the inputs' identity sees the gradients w.r.t. the inputs and calls the
hooks with (module, grad_input, grad_output). Non-tensor arguments appear as None.
"""
import warnings

from ..._tensor import Tensor
from ...autograd.function import Function
from ... import autograd


class BackwardHookFunction(Function):
    """Identity on several tensors: a graph node to hang the hooks on."""

    @staticmethod
    def forward(ctx, *tensors):
        # (views, not the tensors themselves: so those outputs are what is marked) an input
        # that does not require grad gets none through the module: the hooks see zeros for it,
        # as in PyTorch, and no op computes its gradient
        outputs = tuple(t.view_as(t) for t in tensors)
        ctx.mark_non_differentiable(*[out for out, t in zip(outputs, tensors)
                                      if not t.requires_grad])
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        return grads


class BackwardHook:
    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None

    @staticmethod
    def _pack(indices, values, size):
        packed = [None] * size
        for i, v in zip(indices, values):
            packed[i] = v
        return tuple(packed)

    def _wrap(self, args, on_node):
        """args with their tensors passed through one BackwardHookFunction (whose node goes to
        on_node), and the positions of the tensors; (args, None) when no gradient will flow."""
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (any(t.requires_grad for t in tensors) and autograd.is_grad_enabled()):
            return args, None
        wrapped = BackwardHookFunction.apply(*tensors)
        if not isinstance(wrapped, tuple):
            wrapped = (wrapped,)
        on_node(next(t.grad_fn for t in wrapped if t.grad_fn is not None))
        out = list(args)
        for i, t in zip(index, wrapped):
            out[i] = t
        return tuple(out), index

    def setup_input_hook(self, args):
        def on_node(node):
            def hook(grad_input, _grad_output):
                if self.grad_outputs is None:
                    return None  # gradient reached the inputs without passing the outputs
                result = self._pack(self.input_index, grad_input, self.n_inputs)
                for fn in self.hooks:
                    out = fn(self.module, result, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(result):
                        raise RuntimeError('Backward hook returned an invalid number of '
                                           f'grad_input, got {len(out)}, but expected '
                                           f'{len(result)}')
                    result = out
                self.grad_outputs = None
                return tuple(result[i] for i in self.input_index)
            node.register_hook(hook)
        wrapped, self.input_index = self._wrap(tuple(args), on_node)
        self.n_inputs = len(args)
        return wrapped

    def setup_output_hook(self, result):
        def on_node(node):
            def prehook(grad_output):
                self.grad_outputs = self._pack(self.output_index, grad_output, self.n_outputs)
                for fn in self.pre_hooks:
                    out = fn(self.module, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(self.grad_outputs):
                        raise RuntimeError('Backward pre hook returned an invalid number of '
                                           f'grad_output, got {len(out)}, but expected '
                                           f'{len(self.grad_outputs)}')
                    self.grad_outputs = out
                grad_outputs = self.grad_outputs
                if self.input_index is None:  # no input needs a gradient: call the hooks now
                    warnings.warn('Full backward hook is firing when gradients are computed with '
                                  'respect to module outputs since no inputs require gradients. '
                                  'See https://docs.pytorch.org/docs/main/generated/torch.nn.'
                                  'Module.html#torch.nn.Module.register_full_backward_hook for '
                                  'more details.', stacklevel=5)
                    nones = (None,) * self.n_inputs
                    for fn in self.hooks:
                        out = fn(self.module, nones, grad_outputs)
                        if out is not None and not (isinstance(out, tuple) and
                                                    all(g is None for g in out)):
                            raise RuntimeError('Backward hook for Modules where no input '
                                               'requires gradient should always return None '
                                               'or None for all gradients.')
                    self.grad_outputs = None
                return tuple(grad_outputs[i] for i in self.output_index)
            node.register_prehook(prehook)
        single = not isinstance(result, tuple)
        wrapped, self.output_index = self._wrap((result,) if single else result, on_node)
        self.n_outputs = 1 if single else len(result)
        return wrapped[0] if single else wrapped
