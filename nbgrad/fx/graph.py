"""fx.Graph: a program as a list of Nodes, and the Python code it stands for.

The Nodes form a doubly linked list around a sentinel (`root`), so inserting and erasing are
O(1) and iteration survives erasing the current Node. Names come from a namespace that keeps
them valid, unique identifiers that never shadow a builtin (sum -> sum_1), as PyTorch's, so
graph listings and generated code read the same in both libraries.
"""
import builtins
import contextlib
import copy
import inspect
import keyword
import math
import re
import typing
import warnings

import nbgrad as _nbgrad

from ._qualified_names import is_from_nbgrad, pretty_target, qualified_name, torch_text, \
    type_text
from .node import Node, _format_arg, map_arg

_REFLECTABLE = {'add': '{} + {}', 'sub': '{} - {}', 'mul': '{} * {}', 'floordiv': '{} // {}',
                'truediv': '{} / {}', 'div': '{} / {}', 'mod': '{} % {}', 'pow': '{} ** {}',
                'lshift': '{} << {}', 'rshift': '{} >> {}', 'and_': '{} & {}', 'or_': '{} | {}',
                'xor': '{} ^ {}', 'getitem': '{}[{}]', 'matmul': '{} @ {}'}
# operator functions and how generated code writes them (Proxy's operators record these)
MAGIC_METHODS = {'eq': '{} == {}', 'ne': '{} != {}', 'lt': '{} < {}', 'gt': '{} > {}',
                 'le': '{} <= {}', 'ge': '{} >= {}', 'pos': '+{}', 'neg': '-{}',
                 'invert': '~{}', **_REFLECTABLE}
REFLECTABLE_MAGIC_METHODS = tuple(_REFLECTABLE)

# typing's generic aliases are written with typing's names (List[...], not list[...])
_TYPING_ORIGINS = {list: typing.List, dict: typing.Dict, set: typing.Set,
                   frozenset: typing.FrozenSet, tuple: typing.Tuple}
_NAME = re.compile(r'^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$')
_ILLEGAL_CHARS = re.compile('[^0-9a-zA-Z_]+')
_SNAKE = re.compile(r'(?<=[a-z])([A-Z])')
# names generated code may not take: keywords, builtins, and the globals every graph's code has
_RESERVED = {**{k: object() for k in keyword.kwlist}, **vars(builtins),
             'inf': math.inf, 'nan': math.nan, 'NoneType': type(None), 'fx_pytree': object(),
             'pytree': object()}
_RESERVED.update(torch=_nbgrad, device=_nbgrad.device)   # (and the code's own globals)
_CODE_BUILTINS = {'inf': ('from math import inf', math.inf),
                  'nan': ('from math import nan', math.nan),
                  'NoneType': ('NoneType = type(None)', type(None))}


def _code_globals():
    """The globals every generated forward sees: `torch` and `device` are nbgrad's."""
    found = {name: obj for name, (_, obj) in _CODE_BUILTINS.items()}
    found.update(torch=_nbgrad, device=_nbgrad.device)
    return found


class _Namespace:
    """Unique, legal names, each object keeping the one it was given."""

    def __init__(self):
        self._names = {}       # object -> name
        self._used = set()
        self._counts = {}      # base -> the last suffix given

    def create_name(self, candidate, obj):
        if obj is not None and obj in self._names:
            return self._names[obj]
        match = _NAME.match(candidate)
        if match is None:
            candidate = _ILLEGAL_CHARS.sub('_', candidate) or '_unnamed'
            if candidate[0].isdigit():
                candidate = '_' + candidate
            match = _NAME.match(candidate)
        base, num = match.group(1, 2)
        if num is None or candidate in self._used:
            num = self._counts.get(base, 0)
            if _RESERVED.get(candidate, obj) is not obj:
                num += 1
                candidate = f'{base}_{num}'
        else:
            num = int(num)
        while candidate in self._used:
            num += 1
            candidate = f'{base}_{num}'
        self._used.add(candidate)
        self._counts[base] = num
        if obj is not None:
            self._names[obj] = candidate
        return candidate

    def rename(self, obj, candidate):
        name = self.create_name(candidate, None)
        self._names[obj] = name
        return name


def _format_target(base, target):
    """self.seq.0 -> getattr(self.seq, "0"): attribute paths as code."""
    for part in target.split('.'):
        base = f'{base}.{part}' if part.isidentifier() else f'getattr({base}, "{part}")'
    return base


_DTYPE_ABBREVIATIONS = {
    'float32': 'f32', 'float64': 'f64', 'float16': 'f16', 'bfloat16': 'bf16', 'int64': 'i64',
    'int32': 'i32', 'int16': 'i16', 'int8': 'i8', 'uint8': 'u8', 'uint16': 'u16',
    'uint32': 'u32', 'uint64': 'u64', 'bool': 'b8', 'complex64': 'c64', 'complex128': 'c128'}


class PythonCode:
    """Generated source (src) with the globals (globals) it needs to run."""

    def __init__(self, src, globals):  # noqa: A002 (PyTorch's field name)
        self.src, self.globals = src, globals


class _NodeList:
    """graph.nodes: a live view of the Nodes in order (len, iteration, reversed)."""

    def __init__(self, graph, direction='_next'):
        self._graph, self._direction = graph, direction

    def __len__(self):
        return self._graph._len

    def __iter__(self):
        # (the next Node is read after the current one was handed out, as PyTorch's: a loop
        # sees Nodes it inserts after the current one, and an erased Node keeps its links)
        root, step = self._graph._root, self._direction
        node = getattr(root, step)
        while node is not root:
            if not node._erased:
                yield node
            node = getattr(node, step)

    def __reversed__(self):
        return iter(_NodeList(self._graph, '_prev' if self._direction == '_next' else '_next'))

    def __repr__(self):
        return repr(list(self))


class Graph:
    """A program as Nodes. Build one with placeholder/get_attr/call_function/call_method/
    call_module/output (each inserts at the current insertion point, the end by default), or
    get one from symbolic_trace; print it, or wrap it in a GraphModule to run it."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, '', 'root', '', (), {})
        self._len = 0
        self._namespace = _Namespace()
        self._insert = self._root.prepend
        self.owning_module = owning_module
        self._tracer_cls, self._tracer_extras = tracer_cls, tracer_extras
        self._codegen_globals = None

    @property
    def nodes(self):
        return _NodeList(self)

    # -- making Nodes ----------------------------------------------------------------------

    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple):
            raise TypeError(f'create_node: args must be a tuple, got {type(args).__name__}')
        if not isinstance(kwargs, dict):
            raise TypeError(f'create_node: kwargs must be a dict, got {type(kwargs).__name__}')
        candidate = name if name is not None else self._target_to_str(target)
        node = Node(self, self._namespace.create_name(candidate, None), op, target, args,
                    kwargs, type_expr)
        self._namespace._names[node] = node.name
        self._insert(node)
        self._len += 1
        return node

    def placeholder(self, name, type_expr=None, default_value=inspect.Signature.empty):
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node('placeholder', name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        module = self.owning_module
        if module is not None and not _has_attribute(module, qualified_name):
            warnings.warn('Attempted to insert a get_attr Node with no underlying reference in '
                          'the owning GraphModule! Call GraphModule.add_submodule to add the '
                          'necessary submodule, GraphModule.add_parameter to add the necessary '
                          'Parameter, or nn.Module.register_buffer to add the necessary buffer')
        return self.create_node('get_attr', qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        if self.owning_module is not None:
            self.owning_module.get_submodule(module_name)   # (AttributeError if missing)
        return self.create_node('call_module', module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node('call_method', method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None, name=None):
        return self.create_node('call_function', the_function, args, kwargs, name=name,
                                type_expr=type_expr)

    def output(self, result, type_expr=None):
        return self.create_node('output', 'output', (result,), type_expr=type_expr)

    @staticmethod
    def _target_to_str(target):
        op = target if isinstance(target, str) else target.__name__
        if op.startswith('__') and op.endswith('__'):
            op = op[2:-2]
        return _SNAKE.sub(r'_\1', op).lower()

    def erase_node(self, to_erase):
        """Remove a Node nothing uses any more."""
        if to_erase.graph is not self:
            raise RuntimeError(f'Attempting to remove {to_erase} from wrong graph!')
        if to_erase._erased:
            warnings.warn(f'erase_node({to_erase}) on an already erased node')
            return
        if to_erase.users:
            raise RuntimeError(f'Tried to erase Node {to_erase} but it still had '
                               f'{len(to_erase.users)} users in the graph: '
                               f'{dict(to_erase.users)}!')
        to_erase._remove_from_list()
        to_erase._erased = True
        to_erase.args, to_erase.kwargs = (), {}   # (drops it from its inputs' users)
        self._len -= 1

    @contextlib.contextmanager
    def inserting_before(self, n=None):
        """New Nodes go just before n (at the start of the graph when n is None)."""
        previous = self._insert
        # (None: right after the start, each new Node first, as PyTorch's)
        self._insert = n.prepend if n is not None else self._root.append
        try:
            yield
        finally:
            self._insert = previous

    @contextlib.contextmanager
    def inserting_after(self, n=None):
        """New Nodes go just after n (at the end of the graph when n is None). As in PyTorch,
        each goes right after n, so several made in one block end up in reverse order."""
        previous = self._insert
        self._insert = n.append if n is not None else self._root.prepend
        try:
            yield
        finally:
            self._insert = previous

    def node_copy(self, node, arg_transform=lambda x: x):
        """A copy of node (from any graph) in this one, its Node operands mapped through
        arg_transform."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        copied = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        copied.meta = copy.copy(node.meta)
        return copied

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copy g's Nodes (but its output) into this graph; val_map maps g's Nodes to the new
        ones (filled in). Returns the value g's output returns, mapped (the output Node itself
        with return_output_node=True)."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == 'output':
                result = map_arg(node.args[0], lambda n: val_map[n])
                return (result, node) if return_output_node else result
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None):
        memo = {} if memo is None else memo
        g = Graph(tracer_cls=self._tracer_cls)
        result, output = g.graph_copy(self, memo, return_output_node=True) or (None, None)
        if output is not None:
            g.output(result, type_expr=output.type).meta = copy.copy(output.meta)
        return g

    def process_inputs(self, *args):
        """The inputs as the generated forward takes them (the default code takes them as
        they are)."""
        return args

    def process_outputs(self, out):
        return out

    def output_node(self):
        """The graph's output Node (its last)."""
        last = self._root._prev
        if last.op != 'output':
            raise RuntimeError('Last node in graph must be an output node')
        return last

    def find_nodes(self, *, op, target=None, sort=True):
        """The Nodes of kind op (and target, which call_function and call_method need)."""
        if op in ('call_function', 'call_method') and target is None:
            raise AssertionError(f'target must not be None for {op} op')
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # -- checking and cleaning -------------------------------------------------------------

    def lint(self):
        """Check the graph is well formed: Nodes owned by it, each defined before its use,
        unique names, one output at the end, and the owning module has every target."""
        seen, names = set(), set()
        for node in self.nodes:
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph")
            for arg in node.all_input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' does not belong to "
                                       f"this Graph, but was used as an argument! If you are "
                                       f"copying nodes from another graph, make sure to use "
                                       f"``arg_transform`` on node_copy() to remap values")
                if arg not in seen:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it "
                                       f"has been defined! Please check that Nodes in the graph "
                                       f"are topologically ordered\n{self}")
            if node.name in names:
                raise RuntimeError(f'Node redefined name {node.name}!')
            seen.add(node)
            names.add(node.name)
            module = self.owning_module
            if module is not None and node.op in ('get_attr', 'call_module'):
                _check_target(module, node)

    def eliminate_dead_code(self, is_impure_node=None):
        """Remove Nodes whose values nothing uses and that have no side effects; returns
        whether any went."""
        impure = is_impure_node or (lambda n: n.is_impure())
        changed = False
        for node in reversed(self.nodes):
            if not node.users and not impure(node):
                self.erase_node(node)
                changed = True
        return changed

    # -- code ------------------------------------------------------------------------------

    def python_code(self, root_module, *, verbose=False):
        """The forward this graph stands for, as PyTorch's fx writes it: one line per Node,
        values set to None after their last use. verbose: each value annotated with the dtype
        and shape ShapeProp found ("f32[3, 2]"), as print_readable shows it."""
        namespace = _Namespace()
        code_globals = _code_globals()
        for name in _CODE_BUILTINS:
            namespace.create_name(name, code_globals[name])
        for node in self.nodes:
            namespace.create_name(node.name, node)   # (globals may not take a Node's name)
        writer = _CodeWriter(self, root_module, namespace, code_globals, verbose)
        return PythonCode(writer.source(), code_globals)

    def __str__(self):
        # (PyTorch lists the placeholders as lines and leaves graph() empty: so does this)
        body = ''.join(f'\n    {n.format_node()}' for n in self.nodes)
        return f'graph():{body}'

    def print_tabular(self):
        """The Nodes as a table (opcode, name, target, args, kwargs). PyTorch's needs the
        tabulate package; this one formats the table itself, with targets by their names."""
        rows = [[n.op, n.name, pretty_target(n.target), _format_arg(n.args),
                 _format_arg(n.kwargs)] for n in self.nodes]
        print(_table(['opcode', 'name', 'target', 'args', 'kwargs'], rows))


_FRAME = re.compile(r'^File "(.+)", line (\d+), in (.+)$')


def _stack_summary(stack_trace):
    """The innermost frame of a Node's recorded stack trace, as print_readable comments it."""
    lines = (stack_trace or '').strip().split('\n')
    for i in range(len(lines) - 2, -1, -1):
        found = _FRAME.match(lines[i].strip())
        if found:
            file, line, name = found.groups()
            return f'File: {file}:{line} in {name}, code: {lines[i + 1].strip()}'
    return 'No stacktrace found for following nodes'


def _has_attribute(module, target):
    for part in target.split('.'):
        if not hasattr(module, part):
            return False
        module = getattr(module, part)
    return True


def _check_target(module, node):
    path = ''
    obj = module
    for part in node.target.split('.'):
        if not hasattr(obj, part):
            kind = 'module' if node.op == 'call_module' else 'attribute'
            raise RuntimeError(f'Node {node} target {node.target} references nonexistent '
                               f'{kind} {path + part}')
        obj = getattr(obj, part)
        path += part + '.'


def _table(headers, rows):
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]

    def line(cells):
        return '  '.join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return '\n'.join([line(headers), line('-' * w for w in widths)] + [line(r) for r in rows])


class _CodeWriter:
    """One Graph's forward as Python source (Graph.python_code)."""

    def __init__(self, graph, root_module, namespace, code_globals, verbose=False):
        self.graph, self.root_module, self.verbose = graph, root_module, verbose
        self.namespace, self.globals = namespace, code_globals
        self.wrapped = {}     # the global names of fx.wrap'd functions the code calls

    def name(self, node):
        """The Node's name in this code: its own, unless another Node or a global took it
        first (a renamed Node), then a fresh one (python_code registered every Node)."""
        return self.namespace.create_name(node.name, node)

    def add_global(self, hint, obj):
        """The name generated code calls obj by: torch.<name> for nbgrad's public objects,
        else a new global."""
        if is_from_nbgrad(obj):
            name = qualified_name(obj)
            if name.startswith('torch.'):
                return name
        name = self.namespace.create_name(hint, obj)
        self.globals.setdefault(name, obj)
        return name

    def value(self, arg):
        """A constant or Node operand as source text."""
        from .._tensor import Tensor
        if isinstance(arg, Node):
            return self.name(arg)
        if isinstance(arg, tuple) and hasattr(arg, '_fields'):
            return self.add_global(qualified_name(type(arg)), type(arg)) + \
                repr(tuple(self.value(a) for a in arg)).replace("'", '')
        if isinstance(arg, tuple):
            items = [self.value(a) for a in arg]
            return f'({items[0]},)' if len(items) == 1 else '(' + ', '.join(items) + ')'
        if isinstance(arg, list):
            return '[' + ', '.join(self.value(a) for a in arg) + ']'
        if isinstance(arg, dict):
            return '{' + ', '.join(f'{k!r}: {self.value(v)}' for k, v in arg.items()) + '}'
        if isinstance(arg, slice):
            return f'slice({self.value(arg.start)}, {self.value(arg.stop)}, ' \
                   f'{self.value(arg.step)})'
        if isinstance(arg, Tensor):
            return f"torch.Tensor(size={list(arg.shape)}, dtype={str(arg.dtype).split('.')[-1]})"
        if isinstance(arg, type) or (callable(arg) and hasattr(arg, '__name__')
                                     and not is_from_nbgrad(type(arg))):
            return self.add_global(qualified_name(arg), arg)
        return torch_text(arg)

    def arguments(self, args, kwargs):
        return ', '.join([self.value(a) for a in args] +
                         [f'{k} = {self.value(v)}' for k, v in kwargs.items()])

    def annotation(self, node):
        """': "f32[3, 2]"' for a value ShapeProp measured, in verbose code; else the Node's
        type (' : torch.Tensor') or ''."""
        meta = node.meta.get('tensor_meta') if self.verbose else None
        if meta is None or not hasattr(meta, 'shape'):
            return '' if node.type is None else f' : {self.type_text(node.type)}'
        dtype = str(meta.dtype).rpartition('.')[2]
        return f': "{_DTYPE_ABBREVIATIONS.get(dtype, dtype)}[{", ".join(map(str, meta.shape))}]"'

    def type_text(self, t):
        """An annotation as code: a global name for each class (typing_List[str])."""
        if t == ():
            return '()'
        origin = getattr(t, '__origin__', None)
        if origin is not None:
            if isinstance(t, typing._GenericAlias):        # (typing.List[...], not list[...])
                origin = _TYPING_ORIGINS.get(origin, origin)
            name = self.add_global(type_text(origin), origin)
            arguments = getattr(t, '__args__', None)
            return f"{name}[{','.join(self.type_text(a) for a in arguments)}]" if arguments \
                else name
        return self.add_global(type_text(t), t)

    def statement(self, node):
        """The line computing node (without its end), or None for a placeholder."""
        name = self.name(node) + self.annotation(node)
        if node.op == 'call_method':
            receiver = self.value(node.args[0])
            return f'{name} = {_format_target(receiver, node.target)}' \
                   f'({self.arguments(node.args[1:], node.kwargs)})'
        if node.op == 'call_function':
            target = node.target
            if getattr(target, '__module__', '') == '_operator' and \
                    target.__name__ in MAGIC_METHODS and not node.kwargs:
                return f'{name} = ' + MAGIC_METHODS[target.__name__].format(
                    *(self.value(a) for a in node.args))
            function = self.add_global(qualified_name(target), target)
            if node.meta.get('is_wrapped'):
                self.wrapped.setdefault(function)
            if function == 'getattr' and len(node.args) == 2 and \
                    isinstance(node.args[1], str) and node.args[1].isidentifier():
                return f'{name} = {_format_target(self.value(node.args[0]), node.args[1])}'
            return f'{name} = {function}({self.arguments(node.args, node.kwargs)})'
        if node.op == 'call_module':
            return f'{name} = {_format_target(self.root_module, node.target)}' \
                   f'({self.arguments(node.args, node.kwargs)})'
        if node.op == 'get_attr':
            return f'{name} = {_format_target(self.root_module, node.target)}'
        return f'return {self.value(node.args[0])}'

    def source(self):
        nodes = list(self.graph.nodes)
        last_use = {}            # user -> the values whose last use it is
        seen = set()
        for node in reversed(nodes):
            for used in node.all_input_nodes:
                if used not in seen:
                    seen.add(used)
                    last_use.setdefault(node, []).append(used)
        parameters, body = [], []
        summarized, returns = None, ''

        for node in nodes:
            if node.op == 'placeholder':
                default = f' = {self.value(node.args[0])}' if node.args else ''
                parameters.append(f'{node.target}{self.annotation(node)}{default}')
                bare = node.target.replace('*', '')
                if bare != self.name(node):
                    body.append(f'{self.name(node)} = {bare}\n')
                continue
            if self.verbose and node.op != 'output':
                summary = f'\n# {_stack_summary(node.stack_trace)}\n'
                if summary != summarized:       # (said again only when it changes)
                    body.append(summary)
                    summarized = summary
            line = self.statement(node)
            if node.op == 'output':
                body.append(line + '\n')
                if node.type is not None:
                    returns = f' -> {self.type_text(node.type)}'
                continue
            freed = list(last_use.get(node, []))
            if not node.users:
                freed.append(node)
            body.append(line + (f";  {' = '.join(self.name(n) for n in freed)} = None\n" if freed
                                else '\n'))
        if not body:
            body.append('pass\n')
        if not parameters or parameters[0] != 'self':
            parameters.insert(0, 'self')
        code = ''.join(body).lstrip('\n')
        code = '\n'.join('    ' + line for line in code.split('\n'))
        from ._symbolic_trace import wrap
        wrap_name = self.add_global('wrap', wrap) if self.wrapped else ''
        wraps = '\n'.join(f'{wrap_name}("{name}")' for name in self.wrapped)
        return f"\n{wraps}\n\ndef forward({', '.join(parameters)}){returns}:\n{code}"
