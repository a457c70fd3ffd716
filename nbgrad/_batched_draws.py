"""vmap's random numbers, drawn as PyTorch draws them: once per op for the whole batch.

nbgrad's vmap calls the function once per batch element, where PyTorch runs each op once on the
batched tensor. A random op (randn(5) under vmap over 4 elements) draws 4 x 5 numbers in one go
there, and that is not the same stream as four draws of 5: PyTorch's normal sampler takes its
vectorised path from 16 elements on, and two random ops per element interleave differently.
So while vmap(randomness='different') runs, the first element's k-th draw of a sampler that
depends only on a shape draws for the whole batch, and the other elements take their rows of
it. Samplers given per-element tensors (bernoulli of a probability tensor, multinomial) still
draw per element, as do elements whose draws differ from the first's (data-dependent code,
which PyTorch's vmap refuses)."""
import contextlib

# the samplers of _mt_engine whose first argument is the shape to draw
SHAPED = frozenset(('uniform', 'randint', 'random_full_range', 'random_', 'normal',
                    'log_normal', 'exponential', 'geometric', 'cauchy', 'bernoulli_scalar'))

active = None   # the BatchedDraws of the vmap running now, if any


class BatchedDraws:
    """The draws of one vmap's elements; `outer`: an enclosing vmap's, through which this one's
    batch draws go (nested vmaps draw (outer, inner, ...) at once, as PyTorch's)."""

    def __init__(self, batch, outer=None, refuse=False):
        self.batch, self.outer, self.refuse = batch, outer, refuse
        self.element, self.draws, self.position = 0, [], 0

    def start(self, element):
        self.element, self.position = element, 0

    def draw(self, sample, gen, kind, args):
        """sample(gen, kind, *args) for this element: its row of the batch's draw."""
        k, self.position = self.position, self.position + 1
        if self.element == 0:
            values = self._draw(sample, gen, kind, ((self.batch,) + tuple(args[0]),) + args[1:])
            self.draws.append((gen, kind, args, values))
            return values[0]
        if k < len(self.draws):
            first_gen, first_kind, first_args, values = self.draws[k]
            if first_gen is gen and first_kind == kind and _same(first_args, args):
                return values[self.element]
        return self._draw(sample, gen, kind, args)   # (a draw the first element did not make)

    def _draw(self, sample, gen, kind, args):
        return sample(gen, kind, *args) if self.outer is None else \
            self.outer.draw(sample, gen, kind, args)


REFUSED = ("vmap: called random operation while in randomness error mode. Please either use the "
           "'same' or 'different' randomness flags on vmap or perform the randomness operation "
           "out of vmap")


def refusing():
    """Whether a random op must raise: some running vmap has randomness='error' (an enclosing
    one too, as PyTorch checks every level)."""
    draws = active
    while draws is not None:
        if draws.refuse:
            return True
        draws = draws.outer
    return False


def _same(a, b):
    return len(a) == len(b) and all(x == y if not hasattr(x, 'shape') else x is y
                                    for x, y in zip(a, b))


@contextlib.contextmanager
def drawing_for(batch, refuse=False):
    """Batched draws for a vmap over `batch` elements, inside any enclosing vmap's; with
    refuse (randomness='error', vmap's default) a random op raises PyTorch's error instead."""
    global active
    outer = active
    active = BatchedDraws(batch, outer, refuse)
    try:
        yield active
    finally:
        active = outer
