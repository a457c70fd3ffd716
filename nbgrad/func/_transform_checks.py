"""The checks torch.func's differentiating transforms make of what they are given and what the
function returns, with PyTorch's exception types and messages."""
from .._tensor import Tensor
from ._pytree import flatten

# how each family names itself in PyTorch's messages
HEADERS = {'vjp': 'vjp(f, *primals)', 'jvp': 'jvp(f, primals, tangents)'}


def check_primal(leaf, forward=False):
    """A tensor to differentiate with respect to: reverse mode (grad, vjp, jacrev) and forward
    mode (jvp, jacfwd, hessian) refuse other values and integer tensors as PyTorch's do."""
    if not isinstance(leaf, Tensor):
        raise ValueError(f'Thing passed to transform API must be Tensor, got {type(leaf)}')
    if not leaf.is_floating_point() and not leaf.is_complex():
        if forward:
            raise ValueError(f'Expected primal to be floating point or complex, but got: '
                             f'{leaf.dtype}')
        raise RuntimeError('only Tensors of floating point dtype can require gradients')


def split_aux(result, header, has_aux):
    """(output, aux) of func's result: with has_aux it must be a pair, aux of tensors only."""
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f'{header}: output of function f should be a tuple: (output, aux) if '
                           f'has_aux is True')
    output, aux = result
    for leaf in flatten(aux)[0]:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f'Expected tensors, got unsupported type {type(leaf)}')
    return output, aux


def output_leaves(output, mode):
    """The tensors of func's output for vjp/jacrev (mode 'vjp': floating point or complex
    only) or jvp/jacfwd (mode 'jvp': any dtype; an integer output has zero derivatives)."""
    header = HEADERS[mode]
    leaves = [] if output is None else flatten(output)[0]
    if not leaves:
        shown = '[None]' if output is None else '[]'
        raise RuntimeError(f'{header}: Expected f to be a function that has non-empty output '
                           f'(got output = {shown})')
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f'{header}: expected f(*primals) to return only tensors, got '
                               f'unsupported type {type(leaf)}')
    if mode == 'vjp':
        for leaf in leaves:
            if not leaf.is_floating_point() and not leaf.is_complex():
                raise RuntimeError(f'vjp(f, ...): All outputs of f must be floating-point or '
                                   f'complex Tensors, got Tensor with dtype {leaf.dtype}')
    return leaves
