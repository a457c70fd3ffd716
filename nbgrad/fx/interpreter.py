"""fx.Interpreter runs a GraphModule Node by Node, one overridable method per kind of Node, so
a subclass can change what each does (run on other values, record shapes, count calls).
fx.Transformer is the Interpreter whose values are Proxies: running it writes a new Graph,
which subclasses edit by overriding those methods."""
import copy
import inspect

from .graph import Graph
from .graph_module import GraphModule
from .node import map_aggregate, map_arg
from .proxy import Proxy
from ._symbolic_trace import Tracer


class Interpreter:
    """Interpreter(module, garbage_collect_values=True, graph=None).run(*args) runs the
    module's graph (or `graph`) on args; values are dropped after their last use unless
    garbage_collect_values=False (then self.env keeps every Node's value)."""

    def __init__(self, module, garbage_collect_values=True, graph=None):
        self.module = module
        self.submodules = dict(module.named_modules())
        self.graph = graph if graph is not None else module.graph
        self.env = {}
        self.name = 'Interpreter'
        self.garbage_collect_values = garbage_collect_values
        self.extra_traceback = True
        self.user_to_last_uses = {}
        if garbage_collect_values:
            seen = set()
            for node in reversed(self.graph.nodes):
                for used in node.all_input_nodes:
                    if used not in seen:
                        seen.add(used)
                        self.user_to_last_uses.setdefault(node, []).append(used)

    def run(self, *args, initial_env=None, enable_io_processing=True):
        """The graph's output for these inputs. initial_env: values for some Nodes given in
        advance (those Nodes are not run)."""
        self.env = initial_env if initial_env is not None else {}   # (the caller's own dict)
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            try:
                self.env[node] = self.run_node(node)
            except Exception as e:
                if self.extra_traceback:    # (PyTorch's: the message names the node)
                    where = f'While executing {node.format_node()}'
                    message = f'{e.args[0]}\n\n{where}' if e.args else where
                    message += f'\nOriginal traceback:\n{node.stack_trace}'
                    e.args = (message,) + e.args[1:]
                    if isinstance(e, KeyError):
                        raise RuntimeError(*e.args) from e
                raise
            if self.garbage_collect_values:
                for used in self.user_to_last_uses.get(node, []):
                    del self.env[used]
            if node.op == 'output':
                return self.env[node]
        return None

    def boxed_run(self, args_list):
        args = list(args_list)
        args_list.clear()
        return self.run(*args)

    def run_node(self, n):
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    # -- one method per kind of Node ----------------------------------------------------------

    def placeholder(self, target, args, kwargs):
        if target.startswith('**'):
            return next(self.args_iter, {})   # (PyTorch's: the caller passes the dict)
        if target.startswith('*'):
            return list(self.args_iter)
        try:
            return next(self.args_iter)
        except StopIteration:
            if args:
                return args[0]
            raise RuntimeError(f'Expected positional argument for parameter {target}, but one '
                               f'was not passed in!') from None

    def get_attr(self, target, args, kwargs):
        return self.fetch_attr(target)

    def call_function(self, target, args, kwargs):
        return target(*args, **kwargs)

    def call_method(self, target, args, kwargs):
        self_obj, *rest = args
        return getattr(self_obj, target)(*rest, **kwargs)

    def call_module(self, target, args, kwargs):
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target, args, kwargs):
        return args[0]

    # -- helpers -------------------------------------------------------------------------

    def fetch_attr(self, target):
        obj = self.module
        path = []
        for atom in target.split('.'):
            if not hasattr(obj, atom):
                raise RuntimeError(f"Node referenced nonexistent target {'.'.join(path + [atom])}")
            obj = getattr(obj, atom)
            path.append(atom)
        return obj

    def fetch_args_kwargs_from_env(self, n):
        return self.map_nodes_to_values(n.args, n), self.map_nodes_to_values(n.kwargs, n)

    def map_nodes_to_values(self, args, n):
        def load(node):
            if node not in self.env:
                raise RuntimeError(f'Node {n} referenced nonexistent value {node}! Run '
                                   f'Graph.lint() to diagnose such issues')
            return self.env[node]
        return map_arg(args, load)


# the node.meta entries a Transformer gives the nodes it writes (PyTorch's _COPY_META_FIELDS
# that nbgrad records)
_CARRIED_META = ('nn_module_stack', 'stack_trace', 'custom', 'source_fn_stack', 'torch_fn',
                 'from_node')


class Transformer(Interpreter):
    """Transformer(module).transform() -> a new GraphModule: the graph rewritten Node by Node
    through the overridable methods, whose arguments here are Proxies of the new graph."""

    def __init__(self, module):
        super().__init__(module, garbage_collect_values=False)
        self.new_graph = Graph()
        self.tracer = _TransformerTracer(self.new_graph)
        self.tracer.root = module

    def placeholder(self, target, args, kwargs):
        default = args[0] if args else inspect.Signature.empty
        return Proxy(self.new_graph.placeholder(target, default_value=default), self.tracer)

    def get_attr(self, target, args, kwargs):
        return self.tracer.create_proxy('get_attr', target, args, kwargs)

    def call_module(self, target, args, kwargs):
        module = self.fetch_attr(target)
        return self.tracer.call_module(module, module.forward, args, kwargs)

    def call_function(self, target, args, kwargs):
        return self.tracer.create_proxy('call_function', target, args, kwargs)

    def call_method(self, target, args, kwargs):
        return self.tracer.create_proxy('call_method', target, args, kwargs)

    def run_node(self, n):
        # the Nodes written while n runs get n's carried meta (_TransformerTracer.create_node);
        # a Proxy handed back as it was (an input, a dropped layer) keeps its own
        self.tracer.current_meta = n.meta
        try:
            return super().run_node(n)
        finally:
            self.tracer.current_meta = None

    def transform(self):
        result = self.run(enable_io_processing=False)
        if result is not None:
            output = self.new_graph.output(map_aggregate(
                result, lambda a: a.node if isinstance(a, Proxy) else a))
            output.meta.update(self.graph.output_node().meta)    # (the old output's, as PyTorch)
        return GraphModule(self.module, self.new_graph)


class _TransformerTracer(Tracer):
    """Records onto the new graph; every module stays a call_module."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.tensor_attrs = {}
        self.current_meta = None

    def is_leaf_module(self, m, qualified_name):
        return True

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        for field in _CARRIED_META if self.current_meta is not None else ():
            if field in self.current_meta:      # (what PyTorch carries over: not shapes)
                node.meta[field] = copy.copy(self.current_meta[field])
        return node
