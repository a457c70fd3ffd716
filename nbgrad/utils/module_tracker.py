"""torch.utils.module_tracker: which modules are running, forward and backward.

ModuleTracker keeps `parents`, the set of the running modules' names ('Global' always among
them). A module's name is its class name when it is first seen on its own, and its parent's
name, a dot and its attribute name when it is first seen as a child ('Sequential.0'), as
PyTorch's. Forward: global module hooks add the name before the call and take it away after.
Backward: a module enters when the gradients of its outputs are ready and leaves when those of
its inputs are (multi-gradient hooks on them), so a module whose inputs need no gradient stays
until the backward ends; the set is reset then. FlopCounterMode attributes counts with it."""
import logging
import weakref

from ..autograd import graph as _graph
from ..autograd.graph import register_multi_grad_hook
from .._tensor import Tensor

__all__ = ['ModuleTracker']

logger = logging.getLogger(__name__)


def _tensors_requiring_grad(value):
    if isinstance(value, Tensor):
        return [value] if value.requires_grad else []
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors_requiring_grad(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors_requiring_grad(v)]
    return []


class ModuleTracker:
    """`with ModuleTracker() as tracker:` ... `tracker.parents` names the modules running now
    (in forward or in backward) and `tracker.is_bw` tells which."""

    def __init__(self):
        self.parents = {'Global'}
        self._known_modules = weakref.WeakKeyDictionary()
        self._seen_modules = weakref.WeakSet()
        self._has_callback = False
        self._hooks = []

    @property
    def is_bw(self):
        """Whether a backward is running."""
        return bool(_graph._backward_state.running)

    def _maybe_set_engine_callback(self):
        if self._has_callback:
            return

        def reset():        # (the backward has ended: whatever it left entered is gone)
            self.parents = {'Global'}
            self._has_callback = False
        _graph.queue_callback(reset)
        self._has_callback = True

    def _get_mod_name(self, mod):
        if mod not in self._known_modules:
            self._known_modules[mod] = type(mod).__name__
        name = self._known_modules[mod]
        if mod not in self._seen_modules:
            for child_name, child in mod.named_children():
                self._known_modules[child] = f'{name}.{child_name}'
                self._get_mod_name(child)
            self._seen_modules.add(mod)
        return name

    def _enter(self, name, is_bw):
        def fn(*args):
            if is_bw:
                self._maybe_set_engine_callback()
            if name in self.parents:
                logger.info('The module hierarchy tracking seems to be broken as this Module '
                            'was already entered. %s during %s', name,
                            'backward' if is_bw else 'forward')
            self.parents.add(name)
        return fn

    def _leave(self, name, is_bw):
        def fn(*args):
            if name in self.parents:
                self.parents.remove(name)
            else:
                logger.info("The Module hierarchy tracking is confused as we're exiting a "
                            'Module that was never entered. %s during %s', name,
                            'backward' if is_bw else 'forward')
        return fn

    def _fw_pre_hook(self, mod, args):
        name = self._get_mod_name(mod)
        self._enter(name, False)()
        tensors = _tensors_requiring_grad(args)
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, self._leave(name, True)))

    def _fw_post_hook(self, mod, args, output):
        name = self._get_mod_name(mod)
        self._leave(name, False)()
        tensors = _tensors_requiring_grad(output)
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, self._enter(name, True)))

    def __enter__(self):
        from ..nn.modules.module import (register_module_forward_hook,
                                         register_module_forward_pre_hook)
        self._fw_pre_handle = register_module_forward_pre_hook(self._fw_pre_hook)
        self._fw_post_handle = register_module_forward_hook(self._fw_post_hook)
        return self

    def __exit__(self, *args):
        self._fw_pre_handle.remove()
        self._fw_post_handle.remove()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
