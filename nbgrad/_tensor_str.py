"""Tensor printing that matches PyTorch 2.x's ``repr(tensor)`` character for character.

This re-implements the rules of ``torch/_tensor_str.py`` over NumPy arrays, so that notebooks show
exactly what PyTorch would show (only ``torch.`` becomes ``nbgrad.`` in dtype names). It is kept
free of any other nbgrad import: the caller passes a host NumPy array plus the few facts about the
tensor (dtype name, device, autograd state) that the array itself does not carry.

The quirks below are deliberate; each one reproduces a PyTorch behaviour, not an oversight:
* all number formatting goes through Python floats/ints (``ndarray.tolist()``), as PyTorch's does
  through ``Tensor.tolist()``/``item()``, so float16/float32 values print as their exact doubles;
* the column width is computed only from the nonzero finite values (of the summarized data when
  summarizing), so ``-0.``, ``nan`` or ``inf`` may be wider than the other columns;
* ``set_printoptions`` always resets ``sci_mode`` (to None unless given);
* an empty tensor shows its dtype whenever it differs from the default *float* dtype, so even
  int64 and bool are spelled out there, unlike for non-empty tensors.

One addition of nbgrad's, opt-in: ``set_printoptions(profile='summary')`` prints every tensor as one
line of facts instead of its values (shape, dtype, device, statistics, NaN/Inf counts, autograd
state; see ``format_summary``), for notebooks full of large tensors. Any of PyTorch's profiles
('default', 'short', 'full') returns to PyTorch's format, byte for byte.
"""
import contextlib
import dataclasses
import math

import numpy as np

__all__ = ['PRINT_OPTS', 'set_printoptions', 'get_printoptions', 'printoptions', 'format_tensor',
           'format_summary']


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: 'bool | None' = None


PRINT_OPTS = _PrinterOptions()

# (precision, threshold, edgeitems, linewidth) for each named profile, as in PyTorch.
_PROFILES = {
    'default': (4, 1000, 3, 80),
    'short': (2, 1000, 2, 80),
    'full': (4, math.inf, 3, 80),
}

# set_printoptions(profile='summary') is on. Kept outside PRINT_OPTS so that get_printoptions()
# stays PyTorch's dict (a 'profile' key is added only while the summary is on).
_summary = False


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set printing options; same arguments and semantics as ``torch.set_printoptions``.

    A profile ('default', 'short', 'full') is applied first and explicit arguments override it.
    An unknown profile name is ignored, as PyTorch does. ``sci_mode`` is always assigned, so any
    call without it returns to automatic choice of scientific notation.

    nbgrad adds profile='summary': tensors print as one summary line (``format_summary``; its
    numbers have ``precision`` significant digits); the other options are left as they are, and
    any of PyTorch's profiles turns the summary off again.
    """
    global _summary
    if profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold,
         PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth) = _PROFILES[profile]
        _summary = False
    elif profile == 'summary':
        _summary = True
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current options as a dict that can be passed back to ``set_printoptions(**opts)``
    (PyTorch's keys, plus profile='summary' while the summary is on)."""
    opts = dataclasses.asdict(PRINT_OPTS)
    if _summary:
        opts['profile'] = 'summary'
    return opts


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (same arguments as ``set_printoptions``)."""
    # profile='default' is there to turn off a summary the block turned on; the explicit
    # numbers that follow it in the dict override the default profile's
    old = {'profile': 'default', **get_printoptions()}
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Decides one common style and width for all elements of a real-valued array.

    Integer and bool arrays simply print ``str(value)``. Float arrays use one of three styles:
    int_mode (every finite value integral: ``3.``), scientific (``1.2346e+05``) or fixed
    (``0.1235``); the width is the longest nonzero finite value in the chosen style.
    """

    def __init__(self, values):
        flat = np.asarray(values).reshape(-1)
        self.floating = flat.dtype.kind == 'f'
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        if not self.floating:
            # Distinct values suffice to find the widest string; order does not matter.
            for value in np.unique(flat).tolist():
                self.max_width = max(self.max_width, len(str(value)))
            return

        # Zeros and non-finite values take no part in choosing the style, as in PyTorch.
        vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if vals.size == 0:
            return
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        absvals = np.abs(vals)
        # Python floats: a huge ratio becomes inf silently, where NumPy would warn.
        vmin, vmax = float(absvals.min()), float(absvals.max())
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        if self.sci_mode:
            spec, extra = f'.{PRINT_OPTS.precision}e', 0
        elif self.int_mode:
            # int_mode appends '.' after each finite value to show the tensor is floating.
            spec, extra = '.0f', 1
        else:
            spec, extra = f'.{PRINT_OPTS.precision}f', 0
        for value in np.unique(vals).tolist():
            self.max_width = max(self.max_width, len(format(value, spec)) + extra)

    def width(self):
        return self.max_width

    def format(self, value):
        """Right-align one Python scalar to the common width (never truncating)."""
        if self.floating:
            if self.sci_mode:
                text = format(value, f'.{PRINT_OPTS.precision}e')
            elif self.int_mode:
                text = format(value, '.0f')
                if math.isfinite(value):
                    text += '.'
            else:
                text = format(value, f'.{PRINT_OPTS.precision}f')
        else:
            text = str(value)
        return text.rjust(self.max_width)


def _format_value(value, real_fmt, imag_fmt):
    """One element; complex values join the two parts, e.g. ``1.0000-2.0000j``."""
    if imag_fmt is None:
        return real_fmt.format(value)
    real = real_fmt.format(value.real)
    # The imaginary part's padding would land between the parts, so it is stripped.
    imag = (imag_fmt.format(value.imag) + 'j').lstrip()
    # A sign of its own ('-', or '+' which is never produced but PyTorch checks) needs no '+'.
    return real + imag if imag[0] in '+-' else real + '+' + imag


def _vector_str(vec, indent, summarize, real_fmt, imag_fmt):
    # Each element takes its width plus ', '; complex adds the imaginary width and the 'j'.
    element_length = real_fmt.width() + 2
    if imag_fmt is not None:
        element_length += imag_fmt.width() + 1
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))

    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ['...']
    elif summarize and vec.shape[0] > 2 * edge:
        data = ([_format_value(v, real_fmt, imag_fmt) for v in vec[:edge].tolist()] + [' ...']
                + [_format_value(v, real_fmt, imag_fmt) for v in vec[-edge:].tolist()])
    else:
        data = [_format_value(v, real_fmt, imag_fmt) for v in vec.tolist()]

    lines = [', '.join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'


def _nested_str(arr, indent, summarize, real_fmt, imag_fmt):
    """Brackets within brackets; sub-arrays of rank d are separated by d-1 blank lines."""
    if arr.ndim == 0:
        return _format_value(arr.item(), real_fmt, imag_fmt)
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, real_fmt, imag_fmt)

    edge = PRINT_OPTS.edgeitems
    n = arr.shape[0]

    def sub(i):
        return _nested_str(arr[i], indent + 1, summarize, real_fmt, imag_fmt)

    if summarize and n > 2 * edge:
        slices = [sub(i) for i in range(edge)] + ['...'] + [sub(i) for i in range(n - edge, n)]
    else:
        slices = [sub(i) for i in range(n)]
    return '[' + (',' + '\n' * (arr.ndim - 1) + ' ' * (indent + 1)).join(slices) + ']'


def _summarized_data(arr):
    """The elements that a summarized print shows; only these decide the formatter."""
    edge = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        # With edge == 0, arr[-0:] is the whole vector: PyTorch has the same slip, and it is
        # harmless because such a vector prints as '...' whatever the formatter says.
        return np.concatenate((arr[:edge], arr[-edge:])) if arr.shape[0] > 2 * edge else arr
    if not edge:
        return arr[(slice(0, 0),) * arr.ndim]
    n = arr.shape[0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized_data(arr[i]) for i in rows])


def _tensor_str(arr, indent):
    if arr.size == 0:
        return '[]'
    summarize = arr.size > PRINT_OPTS.threshold

    def formatter(part):
        return _Formatter(_summarized_data(part) if summarize else part)

    if arr.dtype.kind == 'c':
        # Real and imaginary parts are styled independently (one may be sci, the other not).
        return _nested_str(arr, indent, summarize, formatter(arr.real), formatter(arr.imag))
    return _nested_str(arr, indent, summarize, formatter(arr), None)


def _add_suffixes(text, suffixes, indent, force_newline=False):
    """Append ', suffix' items, wrapping onto a new line indented under the contents (the first
    one always, with force_newline: PyTorch's layout for sparse tensors)."""
    parts = [text]
    # PyTorch's measure of the last line, kept as is: it counts 2 more than the line's length
    # when there is no newline and 1 more otherwise, which shifts where wrapping happens.
    last_line_len = len(text) - text.rfind('\n') + 1
    for suffix in suffixes:
        # Measure 'nbgrad.float64' as PyTorch's one-char-shorter 'torch.float64', so that lines
        # break exactly where PyTorch breaks them (at the cost of an occasional 81-char line).
        length = len(suffix.replace('dtype=nbgrad.', 'dtype=torch.'))
        if force_newline or last_line_len + length + 2 > PRINT_OPTS.linewidth:
            parts.append(',\n' + ' ' * indent + suffix)
            last_line_len = indent + length
            force_newline = False
        else:
            parts.append(', ' + suffix)
            last_line_len += length + 2
    parts.append(')')
    return ''.join(parts)


def format_tensor(array, *, dtype_name, default_dtype_name, device_str, requires_grad=False,
                  grad_fn_name=None, is_parameter=False, tensor_contents=None,
                  prefix='tensor('):
    """Render a tensor as PyTorch's ``repr`` would, with ``nbgrad.`` in dtype names.

    ``array`` is the tensor's data on the host; ``dtype_name`` e.g. 'float32';
    ``default_dtype_name`` the current default float dtype name; ``device_str`` e.g. 'cuda:0'.
    ``tensor_contents``, if given, replaces the bracketed data (as ``Tensor.__repr__`` allows).
    ``prefix`` opens it: a Tensor subclass's shows its class name ('MyTensor(').
    ``array`` may also be a CuPy array: it is copied to the host here, except in the summary
    profile, whose statistics are computed on the device.
    """
    if device_str == 'meta':      # (no data: PyTorch's '...' and the size)
        suffixes = ["device='meta'", 'size=' + str(tuple(int(d) for d in array.shape))]
        if dtype_name != default_dtype_name:
            suffixes.append('dtype=nbgrad.' + dtype_name)
        if grad_fn_name is not None:
            suffixes.append(f'grad_fn=<{grad_fn_name}>')
        elif requires_grad:
            suffixes.append('requires_grad=True')
        text = _add_suffixes(prefix + '...', suffixes, len(prefix))
        return 'Parameter containing:\n' + text if is_parameter else text
    if _summary:
        return format_summary(array, dtype_name=dtype_name, device_str=device_str,
                              requires_grad=requires_grad, grad_fn_name=grad_fn_name,
                              is_parameter=is_parameter)
    if not isinstance(array, np.ndarray) and hasattr(array, 'get'):
        array = array.get()
    if array.dtype.kind == 'V':     # bfloat16: its values, formatted as floats
        array = array.astype(np.float32)
    array = np.asarray(array)
    indent = len(prefix)
    suffixes = []

    # PyTorch's default device is the CPU, so every other device is named, cuda:0 included.
    if device_str.split(':')[0] != 'cpu':
        suffixes.append(f"device='{device_str}'")

    default_complex = 'complex128' if default_dtype_name == 'float64' else 'complex64'
    has_default_dtype = dtype_name in (default_dtype_name, default_complex, 'int64', 'bool')
    dtype_suffix = 'dtype=nbgrad.' + dtype_name
    size_suffix = 'size=' + str(tuple(int(d) for d in array.shape))

    if array.size == 0:
        # Like NumPy, show the shape unless it is plain (0,); with no values to go by, any
        # dtype but the default float one is spelled out, int64 and bool included.
        if array.ndim != 1:
            suffixes.append(size_suffix)
        if dtype_name != default_dtype_name:
            suffixes.append(dtype_suffix)
    else:
        # With edgeitems=0 the data may print as just '...', so the shape is always given.
        if not PRINT_OPTS.edgeitems:
            suffixes.append(size_suffix)
        if not has_default_dtype:
            suffixes.append(dtype_suffix)
    if tensor_contents is None:
        tensor_contents = _tensor_str(array, indent)  # '[]' when empty

    # A grad_fn implies requires_grad, so PyTorch names only the grad_fn.
    if grad_fn_name is not None:
        suffixes.append(f'grad_fn=<{grad_fn_name}>')
    elif requires_grad:
        suffixes.append('requires_grad=True')

    text = _add_suffixes(prefix + tensor_contents, suffixes, indent)
    if is_parameter:
        text = 'Parameter containing:\n' + text
    return text


# -- set_printoptions(profile='summary') ------------------------------------------------------

def format_summary(array, *, dtype_name, device_str, requires_grad=False, grad_fn_name=None,
                   is_parameter=False):
    """A tensor as one line of facts instead of its values, e.g.

        tensor[32, 10] float32 cpu  min -1.234 max 2.5 mean 0.01 std 0.9812  grad_fn=MmBackward0

    Floating tensors: min/max/mean/std (PyTorch's std, with Bessel's correction) of the finite
    values, then ' nan=N inf=M' for the values left out; integer tensors: min/max/mean; bool
    tensors: how many are True; complex tensors: the statistics of their absolute values; one
    element: its value; no elements: 'empty'. A grad_fn, or requires_grad=True for a leaf that
    requires grad, ends the line; a Parameter begins it with 'Parameter' in place of 'tensor'.

    ``array`` is NumPy or CuPy: NumPy's ufuncs and the arrays' own reductions run where the data
    lives (CuPy takes NumPy ufuncs through __array_ufunc__), and only scalars reach the host.
    """
    kind = 'Parameter' if is_parameter else 'tensor'
    if array.dtype.kind == 'V':     # bfloat16: the statistics of its values as floats
        array = array.astype(np.float32)
    parts = [f'{kind}[{", ".join(str(int(d)) for d in array.shape)}] {dtype_name} {device_str}',
             _summary_stats(array)]
    if grad_fn_name is not None:
        parts.append(f'grad_fn={grad_fn_name}')
    elif requires_grad:
        parts.append('requires_grad=True')
    return '  '.join(parts)


def _summary_number(value):
    return format(float(value), f'.{max(PRINT_OPTS.precision, 1)}g')


def _summary_stats(a):
    if a.size == 0:
        return 'empty'
    if a.size == 1:
        value = a.reshape(-1)[0].item()
        return 'value ' + (str(value) if isinstance(value, (bool, int)) else
                           _summary_number(value) if isinstance(value, float) else
                           str(complex(value)))
    if a.dtype.kind == 'b':
        return f'true {int(np.count_nonzero(a))}/{a.size}'
    prefix = ''
    if a.dtype.kind == 'c':
        prefix, a = 'abs ', np.abs(a)
    flags = ''
    if a.dtype.kind == 'f':
        finite = np.isfinite(a)
        n_finite = int(np.count_nonzero(finite))
        if n_finite < a.size:
            nan = int(np.count_nonzero(np.isnan(a)))
            inf = a.size - n_finite - nan
            flags = (f' nan={nan}' if nan else '') + (f' inf={inf}' if inf else '')
            a = a[finite]
            if a.size == 0:
                return flags.lstrip()
    if a.dtype.kind in 'iu':
        stats = f'min {int(a.min())} max {int(a.max())}'
    else:
        stats = f'min {_summary_number(a.min())} max {_summary_number(a.max())}'
    stats += f' mean {_summary_number(a.mean(dtype=np.float64))}'
    if a.dtype.kind == 'f' and a.size > 1:
        stats += f' std {_summary_number(a.std(ddof=1, dtype=np.float64))}'
    return prefix + stats + flags
