"""nbgrad.testing: PyTorch's torch.testing.

assert_close (nbgrad/testing/_comparison.py): PyTorch's comparison of tensors, NumPy arrays,
numbers, and sequences and mappings of them, with its default tolerances per dtype and its
messages. make_tensor (nbgrad/testing/_creation.py): PyTorch's random test tensors, with its
value ranges per dtype, drawn from nbgrad's generator. assert_allclose is there, deprecated, as in
PyTorch.

Not here: FileCheck (TorchScript's), and what concerns tensors nbgrad does not have (sparse,
quantized, meta, bfloat16 and float8 values).
"""
from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ['assert_close', 'make_tensor', 'assert_allclose']
