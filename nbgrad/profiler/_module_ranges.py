"""Ranges for the framework's own units of work, through the global hooks nn and optim offer:

  optimizer.step()   'Optimizer.step#SGD.step' (PyTorch's record_function name), always
  module forward     'nn.Module: Linear_fc1', with with_modules=True
  module backward    'nn.Module: Linear_fc1 (backward)', with with_modules=True

A module is named by its class and its path from the outermost module being called (PyTorch's
Python tracer writes 'nn.Module: Linear_0', numbering instances of a class; the path says more).
The outermost module has no path and is numbered like PyTorch's: 'nn.Module: Net_0'.

A module call's backward range runs from the first to the last of the backward nodes of the ops
it ran (its submodules' included); other nodes may run in between, so it is recorded as an async
range (not nested with the rest, on a track of their own). The recorder notes which module calls
each recorded op ran in (note_op) and builds these ranges when it stops (backward_ranges). No
backward hooks are involved: a module's outputs stay as they are (in-place ops on them, such as
ReLU(inplace=True), and their grad_fn are what they would be without the profiler).
"""
import threading

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
        self.call_names = {}                # call number -> the module call's range name
        self.op_calls = {}                  # graph node sequence number -> its calls' numbers

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
        number = len(self.call_names)
        self.call_names[number] = name
        calling.append((name, path, module, self.recorder.range_started(name, FUNCTION_SCOPE),
                        number))

    def forward(self, module, args, output):
        calling = getattr(self.local, 'calling', None)
        while calling:   # (pop to this module: a forward that raised may have left others open)
            _, _, entry, token, _ = calling.pop()
            if entry is module:
                self.recorder.range_finished(token)
                break

    def note_op(self, op):
        """An op finished: if it made a graph node inside module calls, remember them."""
        calling = getattr(self.local, 'calling', None)
        seq = op.__dict__.get('_seq') if calling else None
        if seq is not None:
            self.op_calls[seq] = tuple(entry[4] for entry in calling)

    def backward_ranges(self, node_records):
        """(name, start_ns, end_ns, thread) of each module call's backward range, from the
        backward node ranges [(sequence number, start_ns, end_ns, thread)]."""
        spans = {}
        for seq, start, end, thread in node_records:
            for number in self.op_calls.get(seq, ()):
                span = spans.get(number)
                spans[number] = (start, end, thread) if span is None else (
                    min(span[0], start), max(span[1], end), span[2])
        return [(self.call_names[number] + ' (backward)', start, end, thread)
                for number, (start, end, thread) in sorted(spans.items())]


def install(recorder):
    """Record module forward ranges (and, through the recorder, backward ones); returns the
    ranges and the function that undoes the installation."""
    from ..nn.modules import module as nn_module
    ranges = _ModuleRanges(recorder)
    handles = [nn_module.register_module_forward_pre_hook(ranges.forward_pre),
               nn_module.register_module_forward_hook(ranges.forward, always_call=True)]
    return ranges, lambda: [h.remove() for h in handles]
