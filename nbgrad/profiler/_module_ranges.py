"""Ranges for the framework's own units of work, through the global hooks nn and optim offer:

  optimizer.step()   'Optimizer.step#SGD.step' (PyTorch's record_function name), always
  module forward     'nn.Module: Linear_fc1', with with_modules=True
  module backward    'nn.Module: Linear_fc1 (backward)', with with_modules=True

A module is named by its class and its path from the outermost module being called (PyTorch's
Python tracer writes 'nn.Module: Linear_0', numbering instances of a class; the path says more).
The outermost module has no path and is numbered like PyTorch's: 'nn.Module: Net_0'.
Module backward ranges run from the module's backward pre-hook (gradients for its outputs are
ready) to its backward hook (gradients for its inputs are done); other nodes may run in between,
so they are recorded as async ranges (not nested with the rest, on a track of their own).
Global backward hooks put a BackwardHookFunction around each module's inputs and outputs, as
they do in PyTorch; that is why module ranges are opt-in.
"""
import threading
import warnings

from ..autograd.profiler_util import FUNCTION_SCOPE, USER_SCOPE


def install_optimizer_ranges(recorder):
    from ..optim import optimizer
    open_steps = {}

    def before(opt, args, kwargs):
        name = f'Optimizer.step#{type(opt).__name__}.step'
        open_steps.setdefault(id(opt), []).append(recorder.range_started(name, USER_SCOPE))

    def after(opt, args, kwargs):
        tokens = open_steps.get(id(opt))
        if tokens:
            recorder.range_finished(tokens.pop())

    handles = [optimizer.register_optimizer_step_pre_hook(before),
               optimizer.register_optimizer_step_post_hook(after)]
    return lambda: [h.remove() for h in handles]


class _ModuleRanges:
    def __init__(self, recorder):
        self.recorder = recorder
        self.local = threading.local()     # per thread: the modules in forward, outermost first
        self.instance_numbers = {}          # class -> {id(module): number}
        self.names = {}                     # id(module) -> its range name (for backward)
        self.backward_open = {}             # id(module) -> open backward range tokens

    def name_and_path(self, module, calling):
        cls = type(module).__name__
        if calling:
            # the path in the outermost module, whichever module's forward calls this one (a
            # forward may call a grandchild directly)
            path = self.local.paths.get(id(module))
            if path:
                return f'nn.Module: {cls}_{path}', path
        numbers = self.instance_numbers.setdefault(cls, {})
        number = numbers.setdefault(id(module), len(numbers))
        return f'nn.Module: {cls}_{number}', ''

    def forward_pre(self, module, args):
        calling = getattr(self.local, 'calling', None)
        if calling is None:
            calling = self.local.calling = []
        if not calling:     # an outermost call: its modules' paths, once per call
            self.local.paths = {id(m): path for path, m in module.named_modules()}
        name, path = self.name_and_path(module, calling)
        self.names[id(module)] = name
        calling.append((name, path, module, self.recorder.range_started(name, FUNCTION_SCOPE)))

    def forward(self, module, args, output):
        calling = getattr(self.local, 'calling', None)
        while calling:   # (pop to this module: a forward that raised may have left others open)
            _, _, entry, token = calling.pop()
            if entry is module:
                self.recorder.range_finished(token)
                break

    def backward_pre(self, module, grad_output):
        name = self.names.get(id(module), f'nn.Module: {type(module).__name__}') + ' (backward)'
        self.backward_open.setdefault(id(module), []).append(
            self.recorder.range_started(name, FUNCTION_SCOPE, is_async=True))

    def backward(self, module, grad_input, grad_output):
        tokens = self.backward_open.get(id(module))
        if tokens:
            self.recorder.range_finished(tokens.pop())


def install(recorder):
    """Record module forward and backward ranges; returns the function that undoes it."""
    from ..nn.modules import module as nn_module
    ranges = _ModuleRanges(recorder)
    handles = [nn_module.register_module_forward_pre_hook(ranges.forward_pre),
               nn_module.register_module_forward_hook(ranges.forward, always_call=True),
               nn_module.register_module_full_backward_pre_hook(ranges.backward_pre),
               nn_module.register_module_full_backward_hook(ranges.backward)]
    # the backward hooks are the profiler's, not the user's: their warning about modules whose
    # inputs need no gradient would be noise
    warnings.filterwarnings('ignore', message='Full backward hook is firing')
    quiet = warnings.filters[0]

    def uninstall():
        if quiet in warnings.filters:
            warnings.filters.remove(quiet)
            getattr(warnings, '_filters_mutated', lambda: None)()  # (drop cached decisions)
        for h in handles:
            h.remove()
    return uninstall
