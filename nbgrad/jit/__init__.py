"""torch.jit: trace() turns code into a static graph; script() runs code as it is; save() and
load() keep either in a file.

trace(fn or module, example_inputs) runs the code once, records the ops it dispatches and
returns a callable that replays them (see _trace.py): the graph is fixed, Python's control flow
frozen at the example's branches, printable (`.graph`, `.code`), and differentiable like eager
code. nbgrad has no TorchScript compiler, so script() wraps the code itself, run eagerly (the
same results, none of TorchScript's type checks; _script.py).

is_scripting() is False everywhere, also inside scripted code: PyTorch code branches on it to
keep Python-only features (hooks, warnings, __torch_function__, Python containers) out of the
TorchScript compiler, and in nbgrad the Python branch is the one that runs, so it is the one to
take. is_tracing() is True while jit.trace records.

save()/load() write and read nbgrad's own archive, which holds data only, so loading is safe
(_archive.py): a traced module or function is stored as its recorded graph (op classes of
nbgrad's, from an allowlist, and their constants) plus the weights in nbgrad.save's format; a
scripted module is stored only when every module in it is one of nbgrad's nn classes (rebuilt
from their class names and constants). A scripted user class or function has only Python code,
which an archive never holds: trace it, or save its state_dict. TorchScript archives written
by torch.jit.save hold TorchScript code, which nbgrad cannot run: load() refuses them with a
clear error (save the state_dict in PyTorch instead).
"""
from . import _script, _trace
from ._trace import TracerWarning
from ._tracing import is_tracing, trace, trace_module
from ._script import (RecursiveScriptModule, ScriptFunction, ScriptModule, TracedModule, script,
                      script_method)
from ._archive import load, save
from ._runtime import (Attribute, Final, Future, enable_onednn_fusion, fork, freeze, interface,
                       isinstance, optimize_for_inference, script_if_tracing,
                       set_fusion_strategy, wait)

TracedFunction = _trace.TracedFunction
_warned_script = _script._warned_script     # (reset by tests to see the warning again)

__all__ = ['trace', 'trace_module', 'script', 'TracedModule', 'TracerWarning', 'ignore',
           'unused', 'export', 'is_scripting', 'is_tracing', 'annotate', 'save', 'load',
           'ScriptModule', 'ScriptFunction', 'RecursiveScriptModule', 'Final', 'Attribute',
           'interface', 'script_if_tracing', 'script_method', 'isinstance', 'fork', 'wait',
           'Future', 'freeze', 'optimize_for_inference', 'set_fusion_strategy',
           'enable_onednn_fusion']


def is_scripting():
    """False, also inside scripted code: nbgrad runs it as Python (see above)."""
    return False


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore: nothing to ignore without a compiler."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def annotate(the_type, the_value):
    return the_value
