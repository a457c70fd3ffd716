"""retain_grad, tensor hooks, node hooks and graph introspection against PyTorch.

Each test is written once as `case(lib)` and run with `lib` = torch and `lib` = nbgrad; the two
results (values, gradients, flags, or the kind of exception raised) are compared (helpers in
torch_compare.py)."""
import warnings

import pytest

import nbgrad
from torch_compare import arr, leaf, same, same_error, to_np

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# retain_grad, non-leaf .grad warning
# ---------------------------------------------------------------------------------------------

def test_retain_grad_on_non_leaf():
    def case(lib):
        x = leaf(lib, arr(2, 3, seed=1))
        y = x.exp()
        y.retain_grad()
        y.retain_grad()  # twice is harmless
        z = y.sum(dim=0)
        z.retain_grad()
        (z * z).sum().backward()
        return y.retains_grad, x.retains_grad, y.grad, z.grad, x.grad
    same(case)


def test_retain_grad_on_leaf_is_a_no_op():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        x.retain_grad()
        (x * 3).sum().backward()
        return x.retains_grad, x.grad
    same(case)


def test_retain_grad_on_tensor_without_grad_raises():
    same_error(lambda lib: {'x': leaf(lib, arr(3, seed=1), requires_grad=False)},
               lambda lib, x: x.retain_grad(), mentions=['requires_grad'])


def test_non_leaf_grad_access_warns():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 2
        y.sum().backward(retain_graph=True)
        kinds = []
        for t in (y, x):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                g = t.grad
            kinds.append(([w.category.__name__ for w in caught], g is None))
        y.retain_grad()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            g = y.grad
        kinds.append(([w.category.__name__ for w in caught], g is None))
        return kinds
    same(case)


def test_non_leaf_grad_warning_mentions_retain_grad():
    x = nbgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match='retain_grad'):
        y.grad
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match='retain_grad'):
        (tx * 2).grad

# ---------------------------------------------------------------------------------------------
# Tensor hooks
# ---------------------------------------------------------------------------------------------



def test_hook_on_leaf_modifies_grad():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        return seen, x.grad
    same(case)


def test_hook_on_non_leaf_changes_upstream_gradient():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.exp()
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g * 2)
        y.register_hook(lambda g: g + 1)  # hooks chain in registration order
        (y * y).sum().backward()
        return seen, x.grad
    same(case)


def test_hook_handle_remove():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        h1 = y.register_hook(lambda g: g * 100)
        h2 = x.register_hook(lambda g: g * 7)
        h1.remove()
        h1.remove()  # twice is harmless
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h2.remove()
        x.grad = None
        y.sum().backward()
        return first, x.grad
    same(case)


def test_hook_and_retain_grad_order():
    # The retained .grad is the gradient after all tensor hooks, whatever the order.
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        z = x * 3
        z.register_hook(lambda g: g * 5)
        z.retain_grad()
        (y + z).sum().backward()
        return y.grad, z.grad, x.grad
    same(case)


def test_hook_on_tensor_without_grad_raises():
    same_error(lambda lib: {'x': leaf(lib, arr(3, seed=1), requires_grad=False)},
               lambda lib, x: x.register_hook(lambda g: g), mentions=['require'])


def test_hook_changing_shape_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        y.register_hook(lambda g: g[:2])
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: y.sum().backward(), mentions=['hook'])


def test_hook_returning_non_tensor_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x * 1
        y.register_hook(lambda g: 3)
        return {'x': x, 'y': y}
    same_error(setup, lambda lib, x, y: y.sum().backward())


def test_post_accumulate_grad_hook_sees_accumulated_grad_and_can_step():
    def case(lib):
        p = leaf(lib, arr(3, seed=1))
        seen = []

        def step(t):
            seen.append(to_np(t.grad))
            with lib.no_grad():
                t.sub_(0.5 * t.grad)
            t.grad = None
        h = p.register_post_accumulate_grad_hook(step)
        (p * p).sum().backward()
        (p * p * p).sum().backward()
        h.remove()
        (p * 2).sum().backward()
        return seen, p, p.grad
    same(case)


def test_post_accumulate_grad_hook_on_non_leaf_raises():
    def setup(lib):
        x = leaf(lib, arr(3, seed=1))
        return {'x': x}
    same_error(setup, lambda lib, x: (x * 2).register_post_accumulate_grad_hook(lambda t: None),
               mentions=['non-leaf'])

# ---------------------------------------------------------------------------------------------
# Node hooks and graph introspection
# ---------------------------------------------------------------------------------------------

def test_node_post_hook_sees_and_replaces_grad_inputs():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2))
        y = x * w
        seen = []

        def hook(grad_inputs, grad_outputs):
            seen.append((len(grad_inputs), to_np(grad_inputs), to_np(grad_outputs)))
            return grad_inputs[0] * 3, grad_inputs[1]
        y.grad_fn.register_hook(hook)
        (y * y).sum().backward()
        return seen, x.grad, w.grad
    same(case)


def test_node_prehook_replaces_grad_outputs_and_handle_removes():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        y = x.sin()
        seen = []
        h = y.grad_fn.register_prehook(lambda go: (seen.append(to_np(go)), (go[0] * 2,))[1])
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h.remove()
        x.grad = None
        y.sum().backward()
        return seen, first, x.grad
    same(case)


def test_accumulate_grad_node_prehook():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        acc = (x * 2).grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: (go[0] * 10,))
        (x * 2).sum().backward()
        return type(acc).__name__, x.grad
    same(case)


def test_next_functions_structure():
    def case(lib):
        x = leaf(lib, arr(3, seed=1))
        w = leaf(lib, arr(3, seed=2), requires_grad=False)
        y = (x * w).exp().sum()
        exp_node = y.grad_fn.next_functions[0][0]
        mul_node = exp_node.next_functions[0][0]
        acc, nr = mul_node.next_functions[0]
        return (y.grad_fn.name(), exp_node.name(), mul_node.name(), len(mul_node.next_functions),
                mul_node.next_functions[1][0] is None, type(acc).__name__, nr, acc.variable is x)
    same(case)


GRAD_FN_NAMES = {
    'mul': lambda x: x * x, 'add': lambda x: x + x, 'sub': lambda x: x - 1, 'div': lambda x: x / 2,
    'pow': lambda x: x ** 2, 'exp': lambda x: x.exp(), 'sin': lambda x: x.sin(),
    'sqrt': lambda x: x.sqrt(), 'tanh': lambda x: x.tanh(), 'sum': lambda x: x.sum(),
    'mean': lambda x: x.mean(), 'view': lambda x: x.view(6), 'select': lambda x: x[0],
    'slice': lambda x: x[1:], 'clone': lambda x: x.clone(),
    't': lambda x: x.t(),
    'transpose': lambda x: x.transpose(0, 1), 'unsqueeze': lambda x: x.unsqueeze(0),
    'matmul': lambda x: x @ x.t(),
}


@pytest.mark.parametrize('fn', list(GRAD_FN_NAMES.values()), ids=list(GRAD_FN_NAMES))
def test_grad_fn_names(fn):
    same(lambda lib: fn(leaf(lib, arr(2, 3, seed=1, low=0.1))).grad_fn.name())


def test_a_leafs_accumulate_grad_node_runs_its_post_hooks():
    """The node behind a leaf (grad_fn.next_functions[0][0]) calls its hooks with no input
    gradients and the incoming gradient: the pattern DDP-style code hangs all-reduces on."""
    def case(lib):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = x * 2
        log = []
        y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: log.append((gi, go)))
        y.sum().backward()
        return log, x.grad
    same(case)


NODE_HOOKS_RETURNING_TOO_MANY = {
    'post_hook': lambda node: node.register_hook(lambda gi, go: (gi[0] * 0 + 7, gi[0])),
    'prehook': lambda node: node.register_prehook(lambda go: (go[0], go[0])),
}


@pytest.mark.parametrize('kind', NODE_HOOKS_RETURNING_TOO_MANY)
@pytest.mark.parametrize('custom', [False, True], ids=['builtin', 'custom_function'])
def test_node_hook_returning_the_wrong_number_of_gradients(kind, custom):
    def setup(lib):
        return {'x': lib.ones(3, dtype=lib.float64, requires_grad=True)}

    def action(lib, x):
        if custom:
            class Double(lib.autograd.Function):
                @staticmethod
                def forward(ctx, t):
                    return t * 2

                @staticmethod
                def backward(ctx, g):
                    return g * 2
            y = Double.apply(x)
        else:
            y = x.exp()
        NODE_HOOKS_RETURNING_TOO_MANY[kind](y.grad_fn)
        y.sum().backward()
    theirs, ours = same_error(setup, action)
    assert 'incorrect number of values (got 2, but expected 1)' in str(ours)
