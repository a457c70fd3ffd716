"""nbgrad.backends: PyTorch's torch.backends switches, so that the lines training scripts start
with (`torch.backends.cudnn.benchmark = True`, `torch.backends.cuda.matmul.allow_tf32 = True`,
`torch.backends.mps.is_available()`) run unchanged.

nbgrad has none of those back ends (cuDNN, MKL-DNN, MPS...): it computes with NumPy and CuPy.
The switches are kept, validated and read back as PyTorch's are, and the ones that would let
PyTorch trade precision for speed (TF32, reduced-precision reductions) are permissions that
nbgrad does not use: it always computes float32 in full float32, which those flags allow.
"""
from . import (cpu, cuda, cudnn, mha, mkl, mkldnn, mps, nnpack, openmp,  # noqa: F401 (torch.backends.*)
               opt_einsum)
