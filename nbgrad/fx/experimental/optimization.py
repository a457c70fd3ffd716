"""Inference passes over fx graphs, as PyTorch's fx.experimental.optimization: fuse folds each
batch norm that directly follows a convolution or linear layer into that layer's weights
(nn.utils.fusion), remove_dropout drops Dropout layers. Both are for models in eval mode."""
import copy

from ... import nn
from ...nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
from ..graph_module import GraphModule
from ..interpreter import Transformer
from ..node import Node
from .._symbolic_trace import symbolic_trace

_PATTERNS = [(nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d),
             (nn.Conv3d, nn.BatchNorm3d), (nn.Linear, nn.BatchNorm1d)]


def _parent_name(target):
    *parent, name = target.rsplit('.', 1)
    return parent[0] if parent else '', name


def matches_module_pattern(pattern, node, modules):
    """Whether node is a call of pattern[1]'s type on the output of a call of pattern[0]'s."""
    if not node.args:
        return False
    for expected, current in zip(pattern, (node.args[0], node)):
        if not isinstance(current, Node) or current.op != 'call_module' or \
                current.target not in modules or type(modules[current.target]) is not expected:
            return False
    return True


def replace_node_module(node, modules, new_module):
    parent, name = _parent_name(node.target)
    modules[node.target] = new_module
    setattr(modules[parent], name, new_module)


def fuse(model, inplace=False, no_trace=False):
    """model with every batch norm that follows a convolution or linear layer (and is its only
    user) folded into that layer; a copy unless inplace. The model must be in eval mode."""
    if not inplace:
        model = copy.deepcopy(model)
    fx_model = model if no_trace and isinstance(model, GraphModule) else symbolic_trace(model)
    modules = dict(fx_model.named_modules())
    new_graph = copy.deepcopy(fx_model.graph)
    for pattern in _PATTERNS:
        for node in list(new_graph.nodes):
            if not matches_module_pattern(pattern, node, modules) or \
                    len(node.args[0].users) > 1:
                continue
            first, bn = modules[node.args[0].target], modules[node.target]
            if not bn.track_running_stats:
                continue
            fused = fuse_linear_bn_eval(first, bn) if pattern[0] is nn.Linear else \
                fuse_conv_bn_eval(first, bn)
            replace_node_module(node.args[0], modules, fused)
            node.replace_all_uses_with(node.args[0])
            new_graph.erase_node(node)
    return GraphModule(fx_model, new_graph)


def remove_dropout(model):
    """model traced, with its Dropout layers' calls replaced by their inputs."""
    class DropoutRemover(Transformer):
        def call_module(self, target, args, kwargs):
            if isinstance(self.submodules[target], nn.Dropout):
                return args[0]
            return super().call_module(target, args, kwargs)
    return DropoutRemover(symbolic_trace(model)).transform()
