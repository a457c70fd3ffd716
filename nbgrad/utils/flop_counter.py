"""torch.utils.flop_counter: FlopCounterMode counts the floating-point operations of the matrix
products and convolutions that run inside it, forward and backward, per module, with PyTorch's
formulas and under PyTorch's op names (aten.mm, aten.addmm, aten.bmm, aten.baddbmm,
aten.convolution, aten.convolution_backward: the objects nbgrad.ops.aten.mm...).

PyTorch's mode sees every aten op that runs. nbgrad's ops are coarser (F.linear is one op where
PyTorch runs addmm or mm; a backward node computes its gradients without naming them), so each
nbgrad op is translated into the aten calls PyTorch would make for it, with their shapes
(_aten_calls.py): forward when the op runs, backward when the engine runs its node. The
formulas then take those shapes as PyTorch's do, so `custom_mapping` and
`register_flop_formula` work the same way. A graph built before the mode counts its backward
too when that runs inside, from what its nodes saved.
"""
from collections import defaultdict

from .. import _dispatch
from ..autograd.graph import add_node_observer
from . import _aten_calls
from ._aten_calls import aten
from .module_tracker import ModuleTracker

__all__ = ['FlopCounterMode', 'register_flop_formula']

flop_registry = {}


def register_flop_formula(targets, get_raw=False):
    """Decorator: formula(*shapes, out_shape=..., **kwargs) -> FLOPs, for an aten op (or a
    list of them). nbgrad passes shapes (tuples) where PyTorch's raw formulas get tensors."""
    def register(formula):
        for target in targets if isinstance(targets, (list, tuple)) else [targets]:
            if target in flop_registry:
                raise RuntimeError(f'duplicate registrations for {target}')
            flop_registry[target] = formula
        return formula
    return register


@register_flop_formula(aten.mm)
def mm_flop(a_shape, b_shape, *args, out_shape=None, **kwargs):
    m, k = a_shape
    k2, n = b_shape
    assert k == k2
    return m * n * 2 * k


@register_flop_formula(aten.addmm)
def addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs):
    return mm_flop(a_shape, b_shape)


@register_flop_formula(aten.bmm)
def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs):
    b, m, k = a_shape
    b2, k2, n = b_shape
    assert b == b2 and k == k2
    return b * m * n * 2 * k


@register_flop_formula(aten.baddbmm)
def baddbmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs):
    return bmm_flop(a_shape, b_shape)


def conv_flop_count(x_shape, w_shape, out_shape, transposed=False):
    """Two FLOPs per multiply-add: every output position (every input position, transposed)
    takes the kernel over the input channels of its group."""
    batch_size = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filter_size = w_shape
    return _prod(conv_shape) * _prod(filter_size) * batch_size * c_out * c_in * 2


@register_flop_formula(aten.convolution)
def conv_flop(x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed, *args,
              out_shape=None, **kwargs):
    return conv_flop_count(x_shape, w_shape, out_shape, transposed=transposed)


@register_flop_formula(aten.convolution_backward)
def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation,
                       transposed, _output_padding, _groups, output_mask, out_shape):
    """The input's gradient is a convolution of the output's gradient the other way; the
    weight's, one of the input with the output's gradient (PyTorch's formula, whose weight term
    is not divided by the groups)."""
    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])
    count = 0
    if output_mask[0]:
        count += conv_flop_count(grad_out_shape, w_shape, out_shape[0], not transposed)
    if output_mask[1]:
        if transposed:
            count += conv_flop_count(t(grad_out_shape), t(x_shape), t(out_shape[1]))
        else:
            count += conv_flop_count(t(x_shape), t(grad_out_shape), t(out_shape[1]))
    return count


def _prod(values):
    result = 1
    for v in values:
        result *= v
    return result


# -- the table -----------------------------------------------------------------------------------
_SUFFIXES = ['', 'K', 'M', 'B', 'T']


def get_suffix_str(number):
    """The unit a total is shown in: 1.01B shows as 1010M (one more digit before switching)."""
    return _SUFFIXES[max(0, min(len(_SUFFIXES) - 1, (len(str(number)) - 2) // 3))]


def convert_num_with_suffix(number, suffix):
    index = _SUFFIXES.index(suffix)
    return f'{number / 1000 ** index:.3f}' + suffix


def convert_to_percent_str(num, denom):
    return '0%' if denom == 0 else f'{num / denom:.2%}'


def _as_number_text(cell):
    """How `tabulate` shows a number-like cell in a column of numbers: as a float with 'g'."""
    try:
        return format(float(cell), 'g')
    except ValueError:
        return None


def _simple_table(rows, header):
    """`tabulate`'s 'simple' format (PyTorch prints the table with it, whitespace kept): the
    first column left-aligned, the others right; a column of number-like cells shown as numbers."""
    columns = list(zip(*rows))
    shown = []
    for column in columns:
        numbers = [_as_number_text(c) for c in column]
        shown.append(numbers if all(n is not None for n in numbers) else list(column))
    widths = [max([len(h) + 2] + [len(c) for c in col]) for h, col in zip(header, shown)]

    def line(cells):
        return '  '.join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    out = [line(header), '  '.join('-' * w for w in widths)]
    out += [line(list(cells)) for cells in zip(*shown)]
    return '\n'.join(out)


class FlopCounterMode:
    """`with FlopCounterMode() as counter:` counts the FLOPs of the matrix products and
    convolutions inside (forward and backward); get_total_flops(), get_flop_counts() (per module
    name, then per aten op) and get_table() give them, and the table prints at the end unless
    display=False."""

    def __init__(self, mods=None, depth=2, display=True, custom_mapping=None):
        self.flop_counts = defaultdict(lambda: defaultdict(int))
        self.depth = depth
        self.display = display
        if mods is not None:
            import warnings
            warnings.warn('mods argument is not needed anymore, you can stop passing it',
                          stacklevel=2)
        self.flop_registry = {**flop_registry, **(custom_mapping or {})}
        self.mod_tracker = ModuleTracker()
        self._undo = None
        self._quiet = []            # the composite calls running that count inside themselves
        self._in_node = 0           # > 0 while a backward node runs: its ops are its own count

    def get_total_flops(self):
        return sum(self.flop_counts['Global'].values())

    def get_flop_counts(self):
        """{module name: {aten op: FLOPs}}; 'Global' holds everything."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth=None):
        if depth is None:
            depth = self.depth
        if depth is None:
            depth = 999999
        global_flops = self.get_total_flops()
        suffix = get_suffix_str(global_flops)
        subsumed = False

        def rows_of(name, indent):
            nonlocal subsumed
            total = sum(self.flop_counts[name].values())
            subsumed |= total >= global_flops
            pad = ' ' * indent
            rows = [[pad + name, convert_num_with_suffix(total, suffix),
                     convert_to_percent_str(total, global_flops)]]
            rows += [[pad + ' - ' + str(op), convert_num_with_suffix(v, suffix),
                      convert_to_percent_str(v, global_flops)]
                     for op, v in self.flop_counts[name].items()]
            return rows

        rows = []
        for name in sorted(self.flop_counts):
            if name != 'Global' and name.count('.') + 1 <= depth:
                rows += rows_of(name, name.count('.'))
        # 'Global' shows only when some FLOPs ran outside every module
        if 'Global' in self.flop_counts and not subsumed:
            for row in rows:
                row[0] = ' ' + row[0]
            rows = rows_of('Global', 0) + rows
        if not rows:
            rows = [['Global', '0', '0%']]
        return _simple_table(rows, ['Module', 'FLOP', '% Total'])

    # NB: not reentrant, as PyTorch's
    def __enter__(self):
        self.flop_counts.clear()
        self.mod_tracker.__enter__()
        undo_ops = _dispatch.add_observer(self)
        undo_nodes = add_node_observer(self)
        self._undo = (undo_ops, undo_nodes)
        return self

    def __exit__(self, *args):
        for undo in self._undo:
            undo()
        self._undo = None
        self.mod_tracker.__exit__()
        if self.display:
            print(self.get_table(self.depth))
        return False

    def _count(self, calls):
        for packet, shapes, kwargs in calls:
            formula = self.flop_registry.get(packet)
            if formula is None:
                continue
            flops = formula(*shapes, **kwargs)
            for parent in set(self.mod_tracker.parents):
                self.flop_counts[parent][packet] += flops

    # -- forward: the dispatcher's observer API ------------------------------------------------
    def op_started(self, op, inputs):
        return op, inputs

    def op_finished(self, token, outputs):
        op, inputs = token
        if self._in_node:
            # a backward node's own products are counted by its node's formula; under
            # create_graph they make nodes of their own, whose backward counts later
            backward = _aten_calls.backward(op, inputs, outputs)
            if backward:
                op.__dict__['_flop_backward'] = (self, backward)
            return
        quiet = self._quiet[-1] if self._quiet else None
        if quiet is None:
            self._count(_aten_calls.forward(op, inputs, outputs) or self._mapped(op, inputs,
                                                                                  outputs))
        # (inside a fused kernel of PyTorch's, 'all': its backward counts nothing either)
        backward = _aten_calls.backward(op, inputs, outputs) if quiet != 'all' else []
        if backward or quiet == 'all':
            op.__dict__['_flop_backward'] = (self, backward)

    def _mapped(self, op, inputs, outputs):
        """Another op, when custom_mapping gives its aten op a formula (PyTorch's formulas take
        the op's arguments, tensors as their shapes)."""
        if len(self.flop_registry) == len(flop_registry):
            return []
        from ..profiler._op_names import aten_name
        from .. import ops
        name = aten_name(op, bool(inputs) and outputs is inputs[0]).partition('::')[2]
        try:
            packet = getattr(ops.aten, name)
        except AttributeError:
            return []
        if packet not in self.flop_registry:
            return []
        out = outputs[0] if isinstance(outputs, tuple) else outputs
        shapes = tuple(tuple(x.shape) if hasattr(x, 'shape') else x for x in inputs)
        return [(packet, shapes, {'out_shape': tuple(out.shape)})]

    def composite_started(self, name, args):
        """A function nbgrad composes from several ops that PyTorch runs as one aten op
        (torch.addmm...): counted as that op, its pieces quiet forward (see _aten_calls)."""
        calls, quiet = _aten_calls.composite(name, args)
        if self._quiet and quiet is None:
            quiet = self._quiet[-1]
        elif self._quiet and self._quiet[-1] == 'all':
            quiet = 'all'
        if not self._quiet or self._quiet[-1] is None:
            self._count(calls)
        self._quiet.append(quiet)
        return None

    def composite_finished(self, token, outputs):
        self._quiet.pop()

    # -- backward: the engine's node observer ------------------------------------------------
    def node_started(self, node):
        self._in_node += 1
        return node

    def node_finished(self, node):
        """Counted once the node has run: its tensors' hooks, which run first, may have
        entered a module (ModuleTracker)."""
        self._in_node -= 1
        entry = node.__dict__.get('_flop_backward')
        calls = entry[1] if entry is not None and entry[0] is self else \
            _aten_calls.backward_of_node(node)      # (a graph made before the mode)
        if calls:
            self._count(_aten_calls.computed_by_this_run(node, calls))
