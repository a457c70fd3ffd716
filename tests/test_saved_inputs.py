"""What a node keeps for backward, against PyTorch: an elementwise op keeps only the inputs
the needed gradients read (x * w with w constant keeps w, not x), as saved_tensors_hooks,
grad_fn._saved_* and non-reentrant checkpoint see; checkpoint runs a region again only when a
saved tensor is needed, and ops its recomputation runs after the forward's are left over."""
import pytest

import nbgrad

torch = pytest.importorskip('torch')


def test_saved_tensors_hooks_see_only_what_is_needed():
    results = []
    for lib in (torch, nbgrad):
        x, w = lib.ones(2, requires_grad=True), lib.ones(2)
        packed = []

        def pack(t):
            packed.append(tuple(t.shape))
            return t
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            products = [x * w, x * 3, x / w, w / x, x * x]
        results.append((len(packed), [repr(p.grad_fn._saved_self) for p in products[:1]],
                        repr(products[0].grad_fn._saved_other),
                        [repr((x * v).grad_fn._saved_other).replace(lib.__name__, 'LIB')
                         for v in (2, 2.5, True)]))
        sum(p.sum() for p in products).backward()
        results[-1] += (x.grad.tolist(),)
    assert results[0] == results[1]


def test_an_unneeded_input_may_change_in_place_afterwards():
    """x * w with only x requiring grad: w is saved (and checked), x is not kept."""
    results = []
    for lib in (torch, nbgrad):
        x, w = lib.ones(2, requires_grad=True), lib.full((2,), 3.)
        y = x.clone() * w
        base = x.clone()
        z = base * w
        with lib.no_grad():
            base.add_(1)        # not saved: no error
        z.sum().backward()
        results.append(x.grad.tolist())
        with lib.no_grad():
            w.add_(1)           # saved: the backward refuses
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()
    assert results[0] == results[1]


def _counted(counter, body):
    def run(x):
        counter[0] += 1
        return body(counter[0], x)
    return run


@pytest.mark.parametrize('case', ['nothing_saved', 'extra_op_in_recompute', 'saved'])
def test_non_reentrant_checkpoint_recomputes_as_pytorch(case):
    bodies = {
        'nothing_saved': lambda n, x: x * 2,
        'extra_op_in_recompute': lambda n, x: x.exp() * 3 if n > 1 else x.exp(),
        'saved': lambda n, x: (x * 2).sin(),
    }
    results = []
    for lib in (torch, nbgrad):
        counter = [0]
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        out = lib.utils.checkpoint.checkpoint(_counted(counter, bodies[case]), x,
                                              use_reentrant=False)
        out.sum().backward()
        results.append((counter[0], [round(v, 5) for v in x.grad.tolist()]))
    assert results[0] == results[1]
