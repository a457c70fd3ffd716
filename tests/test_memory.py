"""Training loops must not leak: no reference cycles between tensors and graph nodes (which would
keep GPU memory alive until the cycle collector runs), and no growth over many steps."""
import gc

import numpy as np

import nbgrad
from nbgrad.autograd.graph import Node


def _count(kind):
    return sum(isinstance(o, kind) for o in gc.get_objects())


def _mlp_step_factory():
    rng = np.random.default_rng(0)
    params = [nbgrad.tensor(rng.standard_normal(s).astype(np.float32) * 0.1,
                            requires_grad=True) for s in ((20, 16), (16,), (16, 4), (4,))]
    x = nbgrad.tensor(rng.standard_normal((8, 20)).astype(np.float32))
    y = nbgrad.tensor(rng.integers(0, 4, (8, 1)))

    def step():
        w1, b1, w2, b2 = params
        h = (x @ w1 + b1).relu()
        logits = h @ w2 + b2
        loss = -logits.log_softmax(1).gather(1, y).mean()
        loss.backward()
        with nbgrad.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        return loss.item()
    return step


def test_training_steps_create_no_reference_cycles():
    step = _mlp_step_factory()
    step()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, to look at it
    try:
        for _ in range(20):
            step()
        gc.collect()
        # everything the steps made was freed by reference counting alone: no tensor, graph
        # node or array is part of a cycle (other garbage may come from the test runner)
        ours = [o for o in gc.garbage if isinstance(o, (nbgrad.Tensor, Node, np.ndarray))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == []


def test_no_growth_over_many_steps():
    step = _mlp_step_factory()
    for _ in range(5):
        step()
    gc.collect()
    tensors, nodes = _count(nbgrad.Tensor), _count(Node)
    losses = [step() for _ in range(300)]
    gc.collect()
    assert _count(nbgrad.Tensor) == tensors
    assert _count(Node) == nodes
    assert losses[-1] < losses[0]  # and it trains


def test_graph_is_freed_when_the_output_goes_away():
    w = nbgrad.ones(3, requires_grad=True)
    gc.collect()
    before = _count(Node)
    y = (w * 2).exp().sum()
    assert _count(Node) > before
    del y
    # every node goes, w's AccumulateGrad too (w refers to it weakly, as PyTorch's leaves do;
    # the next graph makes another)
    assert _count(Node) == before
