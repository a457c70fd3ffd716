"""Reading PyTorch's signatures and comparing nbgrad's with them: shared by test_signatures.py
(torch.nn, optim, ...) and test_signatures_tensor.py (the torch namespace and Tensor methods).

PyTorch's C builtins have no inspectable signature. Theirs are read, in order of preference, from
- the type stubs PyTorch generates from its Python argument parser (torch/_C/_VariableFunctions.pyi
  for torch.*, the TensorBase class of torch/_C/__init__.pyi for Tensor methods), which list every
  overload with its parameter names, kinds and defaults;
- the ATen schemas (torch.linalg.*, torch.special.*, torch.fft.*: one signature per overload, the
  `out=` overloads left out, `self` renamed `input`);
- the first line of the docstring, keyword-only parameters taken from the ATen schema (the
  functionals of torch.nn.functional).

`out=`: nbgrad has it on some functions only; the comparison of overloads leaves out a torch `out`
parameter that nbgrad lacks (test_signatures_tensor reports those apart).
"""
import ast
import functools
import inspect
import os
import re
import types

import nbgrad

import torch

_EMPTY = inspect.Parameter.empty
_POK = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KW = inspect.Parameter.KEYWORD_ONLY
_VAR = inspect.Parameter.VAR_POSITIONAL
_VARKW = inspect.Parameter.VAR_KEYWORD


# ---------------------------------------------------------------------------------------------
# One signature per callable (torch.nn and the like)
# ---------------------------------------------------------------------------------------------

def docstring_signature(obj):
    """The signature on the first line(s) of a builtin's docstring, e.g.
    'conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor',
    with keyword-only parameters as the ATen schema has them."""
    doc = (obj.__doc__ or '').strip()
    match = re.match(r'(?:\w+\.)?(\w+)(\([^)]*\))', doc)    # (F.logsigmoid's doc names it
    if match is None:                                       # logsigmoid, its __name__ is
        return schema_signature(obj)                        # log_sigmoid)
    namespace = {}
    exec(f'def _f{match.group(2)}: pass', {}, namespace)   # noqa: S102 (PyTorch's docstring)
    signature = inspect.signature(namespace['_f'])
    schemas = []
    for name in dict.fromkeys((obj.__name__, match.group(1))):
        try:
            schemas += torch._C._jit_get_schemas_for_operator('aten::' + name)
        except RuntimeError:
            pass
    names = list(signature.parameters)
    for schema in schemas:
        args = [a for a in schema.arguments if a.name != 'out']
        schema_names = [a.name for a in args]
        if schema_names[:1] == ['self']:
            schema_names[0] = names[0] if names else 'self'
        if schema_names == names:
            signature = signature.replace(parameters=[
                p.replace(kind=_KW) if a.kwarg_only else p
                for p, a in zip(signature.parameters.values(), args)])
            break
    return signature


def schema_signature(obj):
    """The signature of a builtin with no signature in its docstring (F.conv_tbc), from its one
    ATen schema, the overload without a name (`self` is `input` in Python)."""
    try:
        schemas = [s for s in torch._C._jit_get_schemas_for_operator('aten::' + obj.__name__)
                   if s.overload_name == '']
    except RuntimeError:
        return None
    if len(schemas) != 1:
        return None
    return inspect.Signature([
        inspect.Parameter('input' if a.name == 'self' else a.name, _KW if a.kwarg_only else _POK,
                          default=a.default_value if a.has_default_value() else _EMPTY)
        for a in schemas[0].arguments])


def torch_signature(obj):
    """PyTorch's signature of obj (a class: of its __init__), or None where it has none."""
    from torch._jit_internal import boolean_dispatched
    if inspect.isclass(obj):
        return inspect.signature(obj.__init__)
    if obj in boolean_dispatched:
        return inspect.signature(boolean_dispatched[obj]['if_true'])
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return docstring_signature(obj)


def nbgrad_signature(obj):
    return inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)


def same_default(a, b):
    if a is b:
        return True
    if isinstance(a, torch.Tensor) or isinstance(b, nbgrad.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, nbgrad.Tensor)
    if callable(a) and callable(b):     # F.relu (Transformer's activation) and nbgrad's F.relu
        return getattr(a, '__name__', None) == getattr(b, '__name__', None)
    if isinstance(a, (torch.dtype, torch.layout, torch.memory_format, torch.device)):
        return str(a).rsplit('.', 1)[-1] == str(b).rsplit('.', 1)[-1]   # torch.x, nbgrad.x
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):   # [] in a stub, () here
        return len(a) == len(b) and all(map(same_default, a, b))
    try:
        return type(a) is type(b) and bool(a == b) or (
            isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not isinstance(a, bool) and not isinstance(b, bool) and a == b)
    except Exception:   # noqa: BLE001 (uncomparable defaults differ)
        return False


def signature_differences(expected, actual):
    """The ways `actual`'s parameters differ from `expected`'s, as readable strings."""
    exp, act = list(expected.parameters.values()), list(actual.parameters.values())
    if [p.name for p in exp] != [p.name for p in act]:
        return [f'parameters {[p.name for p in exp]} != {[p.name for p in act]}']
    out = []
    for e, a in zip(exp, act):
        if e.kind != a.kind:
            out.append(f'{e.name}: kind {e.kind.name} != {a.kind.name}')
        if (e.default is _EMPTY) != (a.default is _EMPTY) or (
                e.default is not _EMPTY and not same_default(e.default, a.default)):
            out.append(f'{e.name}: default {e.default!r} != {a.default!r}')
    return out


# ---------------------------------------------------------------------------------------------
# Overloaded builtins (torch.*, Tensor methods)
# ---------------------------------------------------------------------------------------------

_STUB_DIR = os.path.join(os.path.dirname(torch.__file__), '_C')


def _is_named_tensor(annotation):
    """Dimname parameters (named tensors, which nbgrad does not have) in a stub's annotation."""
    return annotation is not None and 'EllipsisType' in ast.unparse(annotation)


def _stub_default(node):
    text = ast.unparse(node)
    try:
        return eval(text, {'torch': torch, 'inf': float('inf')})   # noqa: S307 (torch's stub)
    except Exception:   # noqa: BLE001
        return text


def _stub_signature(fn, method):
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults = [_EMPTY] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [inspect.Parameter(a.arg, _POK, default=d if d is _EMPTY else _stub_default(d))
              for a, d in zip(positional, defaults)]
    if args.vararg:
        params.append(inspect.Parameter(args.vararg.arg, _VAR))
    params += [inspect.Parameter(a.arg, _KW, default=_EMPTY if d is None else _stub_default(d))
               for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        params.append(inspect.Parameter(args.kwarg.arg, _VARKW))
    if method:
        params = params[1:]     # self
    return inspect.Signature(params)


@functools.lru_cache(maxsize=None)
def _stubs(file, cls):
    """{name: [FunctionDef of each overload]} of a stub file (of one class of it)."""
    tree = ast.parse(open(os.path.join(_STUB_DIR, file), encoding='utf-8').read())
    body = tree.body
    if cls is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    out = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(node)
    return out


def stub_overloads(name, method=False):
    """The overloads of torch.<name> (Tensor.<name> when method) in PyTorch's stubs, named-tensor
    overloads left out; None where the stubs do not have the name."""
    defs = (_stubs('__init__.pyi', 'TensorBase') if method
            else _stubs('_VariableFunctions.pyi', None)).get(name)
    if not defs:
        return None
    out = []
    for fn in defs:
        every = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        if any(_is_named_tensor(a.annotation) or a.arg == 'names' for a in every):
            continue
        if not method and any(a.arg == 'self' for a in every):
            continue    # where(condition, self: Number, other): the scalar spellings
        out.append(_stub_signature(fn, method))
    return out


def schema_overloads(op_name):
    """The overloads of aten::<op_name> as Python signatures: out= overloads and named-tensor
    ones left out, `self` renamed `input`; None where ATen has no such operator."""
    try:
        schemas = torch._C._jit_get_schemas_for_operator('aten::' + op_name)
    except RuntimeError:
        return None
    out = []
    has_out = any(s.overload_name.endswith('out') for s in schemas)
    for s in schemas:
        if any(a.alias_info is not None and a.alias_info.is_write for a in s.arguments):
            continue    # out= and in-place overloads
        if any('Dimname' in str(a.type) for a in s.arguments):
            continue
        params = [inspect.Parameter('input' if a.name == 'self' else a.name,
                                    _KW if a.kwarg_only else _POK,
                                    default=a.default_value if a.has_default_value() else _EMPTY)
                  for a in s.arguments]
        if has_out:
            params.append(inspect.Parameter('out', _KW, default=None))
        if {'dtype', 'layout', 'device', 'pin_memory'} <= {p.name for p in params}:
            # a factory: Python adds requires_grad to the TensorOptions (the stubs show it)
            params.append(inspect.Parameter('requires_grad', _KW, default=False))
        out.append(inspect.Signature(params))
    return out or None


def torch_overloads(obj, name, method=False, stubs=True):
    """[Signature] of PyTorch's callable obj (torch.<name>, or Tensor.<name> when method), or
    None where none can be read. stubs=False: obj is not in the torch namespace itself (torch.fft,
    torch.linalg...), whose builtins are not in the stubs."""
    if method and inspect.isfunction(inspect.unwrap(obj)):
        sig = inspect.signature(obj)
        return [sig.replace(parameters=list(sig.parameters.values())[1:])]
    if not method and not isinstance(obj, types.BuiltinFunctionType):
        try:
            return [torch_signature(obj)]
        except (TypeError, ValueError):
            pass
    overloads = stub_overloads(name, method) if stubs or method else None
    if overloads:
        return overloads
    if not method:
        overloads = schema_overloads(getattr(obj, '__name__', name))
        if overloads:
            return overloads
        sig = docstring_signature(obj)
        return [sig] if sig is not None else None
    return None


def _positional(sig):
    return [p for p in sig.parameters.values()
            if p.kind in (inspect.Parameter.POSITIONAL_ONLY, _POK)]


def overload_differences(overloads, actual, ignore=('out',)):
    """How `actual` (nbgrad's one signature) fails to accept PyTorch's overloads by the same
    names. One overload: the strict comparison of signature_differences. Several: each
    overload's positional parameters must sit at the same place in nbgrad's signature, its
    keyword-only ones be keywords there (or positional, where another overload has them
    positional), every defaulted one have a default (the same one, where every overload agrees
    on it; None stands for 'not given' where overloads disagree), and nbgrad may require nothing
    an overload lacks nor take a parameter no overload has. Parameters named in `ignore` (out=)
    are left out of PyTorch's side when nbgrad lacks them."""
    params = actual.parameters
    drop = {n for n in ignore if n not in params}
    overloads = [o.replace(parameters=[p for p in o.parameters.values() if p.name not in drop])
                 for o in overloads]
    unique = []
    for o in overloads:
        if o not in unique:
            unique.append(o)
    overloads = unique
    if len(overloads) == 1:     # (keyword-only parameters in any order)
        expected = overloads[0]
        order = [n for n in expected.parameters if n in params] + \
            [n for n in params if n not in expected.parameters]
        kw_only = [params[n] for n in order if params[n].kind == _KW]
        others = [p for p in params.values() if p.kind != _KW]
        cut = next((i for i, p in enumerate(others) if p.kind == _VARKW), len(others))
        return signature_differences(
            expected, actual.replace(parameters=others[:cut] + kw_only + others[cut:]))
    var_kw = any(p.kind == _VARKW for p in params.values())
    var_pos = next((i for i, p in enumerate(params.values()) if p.kind == _VAR), None)
    act_positional = [p.name for p in _positional(actual)]
    positional_somewhere = {p.name for o in overloads for p in _positional(o)}
    defaults = {}
    for o in overloads:
        for p in o.parameters.values():
            defaults.setdefault(p.name, []).append(p.default)
    names = set(defaults)
    out = []
    for k, o in enumerate(overloads):
        where = f'overload {o}'
        for i, p in enumerate(o.parameters.values()):
            a = params.get(p.name)
            if p.kind == _VAR:     # (by whatever name: *args are never keywords)
                if var_pos is None:
                    out.append(f'{where}: *{p.name} not taken')
                continue
            if a is None:
                if var_pos is not None and p.kind == _POK and i >= var_pos:
                    continue
                if not var_kw:
                    out.append(f'{where}: no parameter {p.name!r}')
                continue
            if p.kind == _POK:
                if a.kind != _POK or act_positional.index(p.name) != i:
                    if not (var_pos is not None and i == var_pos == 0 and a.kind == _VAR):
                        out.append(f'{where}: {p.name!r} is not positional number {i}')
            elif a.kind not in (_KW, _POK) or (a.kind == _POK
                                                 and p.name not in positional_somewhere):
                out.append(f'{where}: {p.name!r} is not keyword-only')
            if p.default is not _EMPTY:
                if a.default is _EMPTY:
                    out.append(f'{where}: {p.name!r} has no default')
                    continue
                given = defaults[p.name]
                agreed = all(d is not _EMPTY and same_default(d, p.default) for d in given) \
                    and all(p.name in oo.parameters for oo in overloads)
                if not same_default(p.default, a.default) and (agreed or not (
                        a.default is None or any(same_default(d, a.default) for d in given))):
                    out.append(f'{where}: {p.name!r} default {p.default!r} != {a.default!r}')
        for a in params.values():
            if a.default is _EMPTY and a.kind in (_POK, _KW) and a.name not in o.parameters:
                out.append(f'{where}: nbgrad requires {a.name!r}')
    for a in params.values():
        if a.kind in (_POK, _KW) and a.name not in names:
            out.append(f'nbgrad takes {a.name!r}, which no overload has')
    return list(dict.fromkeys(out))
