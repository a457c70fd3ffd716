"""In-place safety against PyTorch: version counters of saved tensors, and in-place writes through
views of non-leaf tensors (CopySlices).

Each test is written once as `case(lib)` and run with `lib` = torch and `lib` = nbgrad; the two
results (values, gradients, flags, or the kind of exception raised) are compared (helpers in
torch_compare.py)."""
import re

import pytest

from torch_compare import arr, both, leaf, same, same_error

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# In-place safety: version counters
# ---------------------------------------------------------------------------------------------

def _torch_message_facts(message):
    """The op name and versions in PyTorch's modified-by-an-inplace-operation message."""
    found = re.search(r'output \d+ of ([\w:]+)', message)  # absent for a tensor with no grad_fn
    origin = found.group(1).split('::')[-1] if found else None
    versions = re.search(r'is at version (\d+); expected version (\d+)', message).groups()
    return origin, versions


INPLACE_CASES = {
    # saved output modified: exp saves its result
    'exp_output_add_': lambda lib, x: (lambda y: (y.add_(1), y)[1])(x.exp()),
    # saved input modified: mul saves both inputs; a is the output of a mul
    'mul_input_mul_': lambda lib, x: (lambda a: (lambda b: (a.mul_(2), b)[1])(a * a))(x * 2),
    # saved input modified twice through sin_ and add_
    'sin_input_twice': lambda lib, x: (lambda a: (lambda b: (a.sin_(), a.add_(1), b)[2])(
        a.cos()))(x * 2),
    # tanh saves its output; a view of it is modified
    'tanh_output_via_view': lambda lib, x: (lambda y: (y[0:1].mul_(3), y)[1])(x.tanh()),
    # modified under no_grad: the version still moves
    'exp_output_no_grad': lambda lib, x: (lambda y: (_under_no_grad(lib, lambda: y.add_(1)),
                                                     y)[1])(x.exp()),
    # in-place ops that save their output save the tensor written into, which a later write
    # modifies (relu_ and exp_ both save their result)
    'relu_inplace_then_add_': lambda lib, x: (lambda y: (y.relu_(), y.add_(1), y)[2])(x * 1),
    'exp_inplace_then_mul_': lambda lib, x: (lambda y: (y.exp_(), y.mul_(2), y)[2])(x * 1),
    # a constant (no grad) saved by mul, then modified
    'mul_saved_constant': lambda lib, x: (lambda c: (lambda y: (c.add_(1), y)[1])(x * c))(
        lib.tensor(arr(3, seed=7))),
}


def _under_no_grad(lib, fn):
    with lib.no_grad():
        return fn()


@pytest.mark.parametrize('name', list(INPLACE_CASES))
def test_modified_saved_tensor_raises_naming_op_and_versions(name):
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x, 'out': INPLACE_CASES[name](lib, x)}

    theirs, ours = same_error(setup, lambda lib, x, out: out.sum().backward())
    op, (current, expected) = _torch_message_facts(str(theirs))
    message = str(ours)
    assert op is None or op in message, f'PyTorch names {op!r}; ours does not: {message}'
    assert f'version {current}' in message and f'version {expected}' in message, message


def test_in_place_on_tensor_not_saved_is_fine():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2.0
        z = y + 1     # add saves nothing
        y.mul_(3)
        w = y.sum()
        (z.sum() + w).backward()
        return x.grad, y, z
    same(case)


def test_chain_of_in_place_ops_on_non_leaf():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x.clone()
        y.mul_(2)
        y.add_(w)
        y.sin_()
        y.pow_(2)
        y.div_(x.cos() + 2)
        y.mul_(x)
        y.exp_()  # exp_ saves its result: it must come last
        y.sum().backward()
        return y, x.grad, w.grad, y._version, y.grad_fn.name()
    same(case, rtol=1e-10)


@pytest.mark.parametrize('op', ['add_', 'mul_', 'zero_', 'setitem', 'view_mul_'])
def test_in_place_on_leaf_requiring_grad_raises(op):
    actions = {
        'add_': lambda lib, x: x.add_(1),
        'mul_': lambda lib, x: x.mul_(x),
        'zero_': lambda lib, x: x.zero_(),
        'setitem': lambda lib, x: x.__setitem__(0, 5.0),
        'view_mul_': lambda lib, x: x[1:].mul_(2),
    }
    same_error(lambda lib: {'x': leaf(lib, arr(3, seed=1))}, actions[op], mentions=['leaf'])

# ---------------------------------------------------------------------------------------------
# In-place writes through views of non-leaf tensors (CopySlices)
# ---------------------------------------------------------------------------------------------

def test_in_place_through_views_example_from_issue():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = lib.tensor(arr(2, 3, seed=2))
        y = x * 1
        y[0] = 5
        y[:, 1] *= 2
        v = y.view(-1)
        v.mul_(3)
        out = (y * w).sum() + (v * v).sum()
        out.backward()
        return y, v, x.grad, y.grad_fn is not None
    same(case)


def test_setitem_with_value_requiring_grad():
    def case(lib):
        x = leaf(lib, arr(3, 4, seed=1))
        z = leaf(lib, arr(4, seed=2))
        y = x.sin()
        y[1] = z * 2
        y[:, 0] = z[:3].sin()
        (y * y).sum().backward()
        return y, x.grad, z.grad
    same(case)


def test_base_without_grad_gains_history_through_view_write():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = lib.zeros(2, 3, dtype=lib.float64)
        y[1] = x * 2
        flags = (y.requires_grad, y.grad_fn is not None)
        (y * lib.tensor(arr(2, 3, seed=2))).sum().backward()
        return flags, y, x.grad
    same(case)


def test_view_made_before_base_is_modified():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y = x * 1
        v = y[0]           # view taken first
        y.mul_(x)          # base modified in place afterwards
        (v * v).sum().backward()
        return v, x.grad
    same(case)


def test_in_place_on_view_then_use_base():
    def case(lib):
        x = leaf(lib, arr(3, 2, seed=1))
        y = x * 1
        v = y[:, 0]
        v.mul_(3)
        u = y.t()[1]
        u.mul_(x[:, 0])
        (y * y).sum().backward()
        return y, x.grad
    same(case)


ENGINE_NONE_BUG = ('nbgrad bug: graph.run_backward skips the dependency count of an edge whose '
                   'gradient is None, so a node that receives None on one edge (fill_/zero_/copy_ '
                   'on a view, a Function returning None) never runs and everything upstream of '
                   'it gets no gradient')


def test_fill_through_view_of_non_leaf():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y = x * 2
        y[0].fill_(7)
        (y ** 3).sum().backward()
        return y, x.grad
    same(case)


def test_in_place_on_view_of_view():
    def case(lib):
        x = leaf(lib, arr(3, 4, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x.sin()
        y[1:][0][1:].mul_(w)
        y.transpose(0, 1)[2].add_(w * w)
        y.diagonal().zero_()
        y.sin().sum().backward()
        return y, x.grad, w.grad
    same(case, rtol=1e-10)


def test_copy_into_view():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x * 2
        y[1].copy_(w.exp())
        (y ** 3).sum().backward()
        return y, x.grad, w.grad
    same(case)


SAVED_ONLY_FOR_UNNEEDED_GRADIENTS = {
    'mul_scalar': lambda lib, a: a * 2,
    'rmul_scalar': lambda lib, a: 2 * a,
    'div_scalar': lambda lib, a: a / 2,
    'mul_constant_tensor': lambda lib, a: a * lib.tensor(2.0, dtype=lib.float64),
    'expand_mul': lambda lib, a: a.expand(2, 4) * 1,
    'matmul_constant': lambda lib, a: a @ lib.ones(4, 3, dtype=lib.float64),
    'lerp_constant_end': lambda lib, a: a.lerp(lib.zeros(4, dtype=lib.float64), 0.3),
    'linear_frozen': lambda lib, a: lib.nn.functional.linear(a, lib.ones(3, 4,
                                                                         dtype=lib.float64)),
    # still refused: the weight's gradient needs a's old value
    'mul_grad_tensor': lambda lib, a: a * lib.ones(4, dtype=lib.float64, requires_grad=True),
    'div_by_modified': lambda lib, a: lib.ones(4, dtype=lib.float64, requires_grad=True) / a,
}


@pytest.mark.parametrize('case', SAVED_ONLY_FOR_UNNEEDED_GRADIENTS)
def test_inplace_write_into_an_input_no_gradient_needs(case):
    """PyTorch saves an operand only for the gradients that need it: a * 2 followed by
    a.add_(1) backpropagates; a * w with w requiring grad raises the version error."""
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        a = x * 1
        out = SAVED_ONLY_FOR_UNNEEDED_GRADIENTS[case](lib, a)
        a.add_(1)
        out.sum().backward()
        return x.grad
    both(run)


AS_STRIDED_WRITES = {
    'window_with_offset': lambda a: a.view(3, 4).as_strided((2, 2), (4, 1), 1),
    'every_other': lambda a: a.as_strided((2,), (2,)),
    'past_a_slice': lambda a: a[1:].as_strided((2,), (2,), 2),
    'long_stride': lambda a: a.as_strided((3,), (5,)),
    'of_a_transpose': lambda a: a.view(3, 4).t().as_strided((2,), (1,), 1),
}


@pytest.mark.parametrize('case', AS_STRIDED_WRITES)
def test_inplace_write_through_as_strided_view(case):
    """The gradient of an in-place write through an as_strided view (which addresses storage),
    and the forward values left untouched by backward."""
    def run(lib):
        x = lib.arange(12.0, dtype=lib.float64).div(10).requires_grad_()
        a = x * 1
        AS_STRIDED_WRITES[case](a).mul_(3)
        (a * a).sum().backward()
        return a.detach().clone(), x.grad
    both(run)


RETAINED_THEN_WRITTEN = {
    'mul_': lambda y: y.mul_(3),
    'setitem': lambda y: y.__setitem__(0, 10.0),
    'twice': lambda y: y.mul_(3).add_(1),
}


@pytest.mark.parametrize('case', RETAINED_THEN_WRITTEN)
def test_retain_grad_follows_an_inplace_write(case):
    """retain_grad() then an in-place write: .grad is the gradient of the written tensor."""
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.retain_grad()
        RETAINED_THEN_WRITTEN[case](y)
        (y * y).sum().backward()
        return y.grad, x.grad
    both(run)


def _index_then_modify(how):
    def action(lib):
        x = lib.arange(4.0, requires_grad=True)
        y = x * 1
        if how == 'getitem-mask':
            index = lib.tensor([True, False, True, False])
            out = y[index]
        elif how == 'setitem-long':
            index = lib.tensor([0, 2])
            y[index] = lib.ones(2, requires_grad=True)
            out = y
        elif how == 'index_put-mask':
            index = lib.tensor([True, False, True, False])
            out = y.index_put((index,), lib.ones(2, requires_grad=True))
        index[1] = index[0]             # the index changes after the forward pass
        (out * lib.arange(float(out.numel()))).sum().backward()
    return action


@pytest.mark.parametrize('how', ['getitem-mask', 'setitem-long', 'index_put-mask'])
def test_index_tensor_modified_before_backward_raises_as_pytorch(how):
    # the backward uses the index: a changed one would route the gradient to other elements
    import nbgrad
    action = _index_then_modify(how)
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError, match='modified by an inplace operation: '
                                               r'\[\S+ \[\d\]\] is at version 1; expected '
                                               'version 0'):
            action(lib)


SETITEM_NODES = {
    'int': lambda lib, x: x.__setitem__(0, 5.),
    'slices': lambda lib, x: x.__setitem__((slice(None), slice(1, None)), lib.zeros(3, 3)),
    'tensor_value': lambda lib, x: x.__setitem__(1, x[0].detach() * 2),
    'index_tensor': lambda lib, x: x.__setitem__(lib.tensor([0, 2]), 1.),
    'mask': lambda lib, x: x.__setitem__(x > 0.5, 0.),
}


@pytest.mark.parametrize('case', SETITEM_NODES)
def test_setitem_node_names(case):
    """x[basic index] = v copies into a view of x (PyTorch's CopySlices, which prints as
    grad_fn=<CopySlices>); an index tensor or mask is index_put_ (IndexPutBackward0)."""
    import nbgrad
    names = []
    for lib in (torch, nbgrad):
        x = lib.ones(3, 4, requires_grad=True) * 1
        SETITEM_NODES[case](lib, x)
        names.append(x.grad_fn.name().replace('torch::autograd::', ''))
    assert names[1] == names[0]
