"""nbgrad.fx: PyTorch's torch.fx, for looking inside models as programs.

    gm = torch.fx.symbolic_trace(model)   # runs forward on Proxies, recording a Graph
    print(gm.graph)                       # the operations, one Node each
    print(gm.code)                        # the forward they stand for, as Python
    gm.graph.print_tabular()

A GraphModule is a Module: it trains, saves and traces again like the original. Graphs are
edited Node by Node (inserting_after, replace_all_uses_with, erase_node, then recompile()), or
rewritten through Interpreter/Transformer subclasses; passes.shape_prop.ShapeProp records every
Node's tensor shape.

Decision: graph listings and generated code name nbgrad's functions and constants as PyTorch's
fx names them (torch.relu, torch.nn.functional.linear, torch.float32); the code's globals bind
`torch` to nbgrad, so it runs here and reads as it would under PyTorch.
"""
from ._symbolic_trace import PH, Tracer, is_fx_tracing, symbolic_trace, wrap
from .graph import Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from . import passes, subgraph_rewriter  # noqa: F401
from .subgraph_rewriter import replace_pattern

__all__ = ['symbolic_trace', 'Tracer', 'Graph', 'GraphModule', 'Node', 'Proxy', 'Interpreter',
           'Transformer', 'wrap', 'PH', 'map_arg', 'is_fx_tracing', 'replace_pattern',
           'has_side_effect']
