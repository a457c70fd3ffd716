"""torch.autograd.graph.register_multi_grad_hook: one hook over the gradients of several tensors.

mode='all' calls fn(grads) once per backward, after every tensor the backward reaches has its
gradient (None for the ones it does not reach); mode='any' calls fn(grad) with the first of
them. Built, as PyTorch's, from a hook on each tensor and a count per backward run."""
import threading

from . import graph
from ._hooks import RemovableHandle

__all__ = ['register_multi_grad_hook']


def register_multi_grad_hook(tensors, fn, *, mode='all'):
    supported = ('all', 'any')
    if mode not in supported:
        raise ValueError(f'Expects mode to be one of {supported} but got {mode}')
    tensors = tuple(tensors)
    lock = threading.Lock()
    if mode == 'all':
        nodes = [graph._root_edge(t)[0] if t.requires_grad else None for t in tensors]
        state = {'run': None}

        def inner(i):
            def hook(grad):
                run = graph.current_run()
                with lock:
                    if state['run'] != run.id:      # the first of this backward's gradients
                        state.update(run=run.id, count=0, grads=[None] * len(tensors),
                                     expected=sum(node is not None and run.will_execute(node)
                                                  for node in nodes))
                    state['grads'][i] = grad
                    state['count'] += 1
                    finished = state['count'] == state['expected']
                    grads = state['grads']
                if finished:
                    fn(grads)
            return hook
    else:
        last = {'run': None}

        def inner(i):
            def hook(grad):
                run = graph.current_run()
                with lock:
                    first = last['run'] != run.id
                    last['run'] = run.id
                if first:
                    fn(grad)
            return hook
    return _MultiHandle([t.register_hook(inner(i)) for i, t in enumerate(tensors)
                         if t.requires_grad])


class _MultiHandle(RemovableHandle):
    """The handles of a multi-grad hook's per-tensor hooks, removed together."""

    def __init__(self, handles):
        self.handles = tuple(handles)

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def __getstate__(self):
        return self.handles

    def __setstate__(self, state):
        self.handles = state
