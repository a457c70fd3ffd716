"""Writes whose input partly overlaps the written memory: PyTorch refuses them (its kernels
would read elements they already wrote; NumPy would buffer and answer differently), and nbgrad
refuses exactly the same ones, with PyTorch's message. Each case runs under both libraries."""
import pytest

import nbgrad
from torch_compare import assert_same_error, both

pytest.importorskip('torch')

# x = arange(1., 17.); each case writes into part of x, reading another part
REFUSED = [
    'x[1:].add_(x[:-1])', 'x[0:4].mul_(x[1:5])', 'x[0:4].add_(x[1])', 'x[0:4].copy_(x[1:5])',
    'x.view(4, 4).add_(x.view(4, 4).t())', 'x[0:4].clamp_(x[1:5], x[8:12])',
    'x[0:4].add_(x[1:5], alpha=2)', 'x[0:4].sub_(x[1:5], alpha=2)',
    'x[0:4].addcmul_(x[1:5], x[8:12])', 'x[0:4].addcdiv_(x[1:5], x[8:12])',
    'x[0:4].lerp_(x[1:5], 0.5)', 'x[0:4].pow_(x[1:5])', 'x[0:4].heaviside_(x[1:5])',
    'x[0:4].put_(lib.tensor([0, 1]), x[1:3])', 'x[0:4].view(2, 2).addr_(x[1:3], x[2:4])',
    'x[0:4].index_add_(0, lib.tensor([0, 1, 2, 3]), x[1:5])',
    'x[0:4].index_copy_(0, lib.tensor([0, 1, 2, 3]), x[1:5])',
    'x[0:4].scatter_(0, lib.tensor([0, 1, 2, 3]), x[1:5])',
    'x[0:4].index_put_((lib.tensor([0, 1]),), x[1:3])',
    'x.__setitem__(slice(0, 4), x[2:6])', 'x.__setitem__(lib.tensor([0, 1]), x[8:10])',
    'x.__setitem__(x > 12, x[12:16])', 'x.view(4, 4).__setitem__((0, lib.tensor([0, 1])), x[1:3])',
    'x[1:5].__iadd__(x[0:4])',
    # out=
    'lib.add(x[1:5], 1, out=x[0:4])', 'lib.exp(x[1:5], out=x[0:4])',
    'lib.where(x[1:5] > 2, x[1:5], x[8:12], out=x[0:4])', 'lib.cumsum(x[1:5], 0, out=x[0:4])',
    'lib.cat([x[1:3], x[1:3]], out=x[0:4])', 'lib.sort(x[1:5], out=(x[0:4], x[8:12].long()))',
    'lib.index_select(x[1:5], 0, lib.tensor([0, 1, 2, 3]), out=x[0:4])',
    'lib.addmm(x[1:5].view(2, 2), x[8:12].view(2, 2), x[8:12].view(2, 2), '
    'out=x[0:4].view(2, 2))',
]
ALLOWED = [
    'x.add_(x)', 'x[0:4].add_(x[8:12])', 'x[::2].add_(x[1::2])', 'x[0:4].fill_(x[1])',
    'x[0:4].masked_fill_(x[0:4] > 2, x[1])', 'x[0:4].index_fill_(0, lib.tensor([0]), x[1])',
    'x.__setitem__(slice(0, 4), x[8:12])', 'x.__setitem__(slice(0, 4), x[0:4])',
    'x.__setitem__(slice(0, 4), x[2])', 'x.__setitem__(x > 12, x[1])',
    'x.view(4, 4).__setitem__(0, x.view(4, 4)[1])',
    'x.view(4, 4).__setitem__((slice(None), 0), x.view(4, 4)[:, 1])',
    'x[0:4].view(2, 2).addmm_(x[1:5].view(2, 2), x[8:12].view(2, 2))',
    'x[1:5].exp_()',
]
# PyTorch runs these without a check, reading values its kernel has already overwritten: the
# numbers depend on its loop order, so only the absence of an error is PyTorch's behaviour
UNCHECKED = [
    'lib.sum(x[1:9].view(2, 4), 0, out=x[0:4])',
    'lib.mm(x[1:5].view(2, 2), x[8:12].view(2, 2), out=x[0:4].view(2, 2))',
    'lib.tril(x[1:5].view(2, 2), out=x[0:4].view(2, 2))',
    'x[0:4].masked_scatter_(x[1:5] > 3, x[1:5])',
]


def _run(lib, case):
    x = lib.arange(1., 17.)
    eval(case, {'x': x, 'lib': lib})
    return x


@pytest.mark.parametrize('case', REFUSED)
def test_partly_overlapping_writes_are_refused_as_in_pytorch(case):
    assert_same_error(lambda lib: _run(lib, case))


def test_a_refused_write_leaves_the_tensor_as_it_was():
    x = nbgrad.arange(1., 17.)
    with pytest.raises(RuntimeError, match='clone'):
        x[1:].add_(x[:-1])
    assert x.tolist() == list(range(1, 17))


@pytest.mark.parametrize('case', ALLOWED)
def test_writes_pytorch_allows_give_its_values(case):
    both(lambda lib: _run(lib, case))


@pytest.mark.parametrize('case', UNCHECKED)
def test_writes_pytorch_does_not_check_run(case):
    both(lambda lib: _run(lib, case).shape)


def test_autograd_through_a_refused_write_records_nothing():
    def run(lib):
        w = lib.arange(1., 6., requires_grad=True)
        y = w * 2
        with pytest.raises(RuntimeError, match='single memory location'):
            y[1:] += y[:-1]
        y.sum().backward()
        return type(y.grad_fn).__name__, w.grad
    both(run)
