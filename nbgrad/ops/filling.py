"""torch.fill (an out-of-place fill_) and Tensor.fill_diagonal_ (masked_fill_ on the diagonal
positions, so its gradient is PyTorch's: zero where the diagonal was overwritten)."""
from .._tensor import Tensor
from ._util import as_operand, xp_of


def fill(input, value):
    from .._dispatch import dispatch
    from .._tensor_methods import _Fill
    op = _Fill()
    op.backward_name = 'FillBackward1' if isinstance(value, Tensor) else 'FillBackward0'
    return dispatch(op, input, as_operand(value))


def _diagonal_mask(t, wrap):
    shape = tuple(t.shape)
    xp = xp_of(t._data)
    mask = xp.zeros(shape, dtype=bool)
    height, width = shape[0], shape[1]
    size = min(height, width)
    index = xp.arange(size)
    mask[(index,) * len(shape)] = True
    if wrap and len(shape) == 2 and height > width + 1:
        # the diagonal starts again one row below its end: every (width + 1)-th element of the
        # row-major flattening
        mask.reshape(-1)[xp.arange(0, height * width, width + 1)] = True
    return mask


def fill_diagonal_(self, fill_value, wrap=False):
    """Fills the main diagonal (all indices equal) with fill_value; for a tall matrix with
    wrap=True the diagonal restarts after every width + 1 rows, as in NumPy and PyTorch."""
    if self.dim() < 2:
        raise RuntimeError('dimensions must larger than 1')
    if self.dim() > 2 and any(s != self.shape[0] for s in self.shape):
        raise RuntimeError('all dimensions of input must be of equal length')
    if self.numel() == 0:
        return self
    return self.masked_fill_(Tensor._make(_diagonal_mask(self, wrap)), fill_value)


Tensor.fill_diagonal_ = fill_diagonal_

__all__ = ['fill']
